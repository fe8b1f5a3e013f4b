# tests/integration/t_multiuser.sh — one mount, many staff (issue 3): every
# request decided by its caller's uid, keys unlocked per user over the control
# socket, idle expiry, concurrency between users, and a control socket that
# survives bad clients. Other users are numeric uids run through setpriv.

MU_A=41001	# mu_a: role member (levels 0,1)
MU_B=41002	# mu_b: role staff (levels 0,1,2)
MU_X=41099	# no vault user

# as UID CMD...: run CMD as uid/gid UID with no supplementary groups.
as() {
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"
}

# mu_setup: a fresh vault with mu_a and mu_b mapped to their uids; their
# passphrase files ($T/pw/a, $T/pw/b) belong to them, mode 0600.
mu_setup() {
	need_root
	need setpriv
	new_vault
	local ad=(--vault "$V" --as admin --passphrase-file "$PW/admin") u uid
	mkdir -p "$T/pw"
	chmod 755 "$T/pw"
	for u in a b; do
		uid=$MU_A
		[[ $u == b ]] && uid=$MU_B
		(umask 077 && printf 'mu-%s-%s\n' "$u" "$(token '')" >"$T/pw/$u")
		kt "${ad[@]}" user add "mu_$u" --uid "$uid" --new-passphrase-file "$T/pw/$u" \
			>/dev/null || fail "user add mu_$u"
		chown "$uid:$uid" "$T/pw/$u"
	done
	kt "${ad[@]}" grant mu_a member >/dev/null || fail "grant mu_a member"
	kt "${ad[@]}" grant mu_b staff >/dev/null || fail "grant mu_b staff"
}

# mu_mount [DAEMON ARGS...]: mount $V on $M in multi-user mode (no --user).
mu_mount() {
	mkdir -p "$M"
	printf '=== %s: multi-user mount %s %s\n' "$(date +%T.%N)" "$V" "$*" >>"$T/daemon.log"
	"$VAULTFS" "$V" "$M" -o allow_other -f "$@" </dev/null >>"$T/daemon.log" 2>&1 &
	DPID=$!
	DUSER=
	printf '%s %s\n' "$DPID" "$M" >>"$T/.mounts"
	wait_for_mount "$M" "$DPID"
}

# unlock_as UID a|b: that user unlocks their keys in $M.
unlock_as() {
	check as "$1" "$KEYTOOL" --passphrase-file "$T/pw/$2" unlock "$M"
}

tc_mu_locked_until_unlock() {
	mu_setup
	mu_mount
	check_fails as $MU_A ls "$M"
	unlock_as $MU_A a
	check as $MU_A sh -c "echo anna-text > '$M/a.txt'"
	check_eq "$(stat -c %u:%g "$M/a.txt" 2>/dev/null || as $MU_A stat -c %u:%g "$M/a.txt")" \
		"$MU_A:$MU_A" "owner of a file created by uid $MU_A"
	check_eq "$(as $MU_A cat "$M/a.txt")" anna-text "content read back by its writer"
	# one user's unlock never helps another
	check_fails as $MU_B cat "$M/a.txt"
	check_fails as $MU_X ls "$M"
	check_fails as 0 cat "$M/a.txt"
	unlock_as $MU_B b
	check_eq "$(as $MU_B cat "$M/a.txt")" anna-text "mu_b reads a 0644 file once unlocked"
	check_fails as $MU_B sh -c "echo x >> '$M/a.txt'" # POSIX: not mu_b's file
	it_umount
	records "$T/r.json"
	expect_record "$T/r.json" '.op == "unlock" and .uid == '$MU_A' and .user == "mu_a" and .outcome == "ok"' \
		"mu_a's unlock"
	expect_record "$T/r.json" '.uid == '$MU_A' and .outcome == "denied" and (.detail | test("locked"))' \
		"mu_a refused while locked"
	expect_record "$T/r.json" '.op == "create" and .uid == '$MU_A' and .user == "mu_a" and .path == "/a.txt"' \
		"the create by mu_a"
	expect_record "$T/r.json" '.uid == '$MU_B' and .user == "mu_b" and .outcome == "denied"' \
		"mu_b refused while locked"
	expect_record "$T/r.json" '.uid == '$MU_X' and .outcome == "denied" and (.detail | test("no vault user"))' \
		"a uid without a vault user"
	expect_record "$T/r.json" '.op == "open" and .uid == '$MU_B' and .path == "/a.txt" and .outcome == "ok" and .process == "cat"' \
		"mu_b's read, with the real process"
}
it_case mu_locked_until_unlock

tc_mu_clearance() {
	mu_setup
	mu_mount
	unlock_as $MU_A a
	unlock_as $MU_B b
	check as $MU_B mkdir "$M/hr"
	check as $MU_B sh -c "echo personnel > '$M/hr/p.txt'"
	check as $MU_B setfattr -n user.vault.level -v 2 "$M/hr/p.txt"
	check_eq "$(as $MU_B cat "$M/hr/p.txt")" personnel "level 2 read by its holder"
	check_fails as $MU_A cat "$M/hr/p.txt"
	it_umount
	records "$T/r.json"
	expect_record "$T/r.json" '.op == "open" and .uid == '$MU_A' and .user == "mu_a" and .level == 2 and .outcome == "denied" and .path == "/hr/p.txt"' \
		"mu_a refused a level-2 file"
}
it_case mu_clearance

tc_mu_wrong_passphrase() {
	mu_setup
	mu_mount
	(umask 077 && echo wrong >"$T/pw/wrong")
	chown $MU_A:$MU_A "$T/pw/wrong"
	as $MU_A "$KEYTOOL" --passphrase-file "$T/pw/wrong" unlock "$M" 2>"$T/err"
	check_eq "$?" 3 "exit status of an unlock with a wrong passphrase"
	check_one_line "$T/err" "wrong passphrase"
	check_fails as $MU_A ls "$M"
	unlock_as $MU_A a
	check as $MU_A ls "$M"
	it_umount
	records "$T/r.json"
	expect_record "$T/r.json" '.op == "unlock" and .user == "mu_a" and .outcome == "denied" and .uid == '$MU_A' and .process == "vaultfs-keytool"' \
		"the refused unlock, naming the real caller"
}
it_case mu_wrong_passphrase

tc_mu_lock_stops_open_files() {
	mu_setup
	mu_mount
	unlock_as $MU_A a
	check as $MU_A sh -c "echo locked-text > '$M/f'"
	# open, lock, then read through the descriptor opened before the lock
	as $MU_A sh -c "exec 3<'$M/f'; '$KEYTOOL' lock '$M' >/dev/null || exit 9; head -c 4 <&3" \
		>"$T/out" 2>&1
	local rc=$?
	check_in "$rc" "exit of a read after lock" 1 2
	check_fails as $MU_A cat "$M/f"
	check_eq "$(as $MU_A "$KEYTOOL" status "$M")" locked "status after lock"
	it_umount
	records "$T/r.json"
	expect_record "$T/r.json" '.op == "lock" and .uid == '$MU_A' and .outcome == "ok"' "the lock"
	# The kernel revalidates attributes before a read (no attribute cache in
	# multi-user mode), so the refusal may come at getattr of the descriptor.
	expect_record "$T/r.json" '(.op == "read" or .op == "getattr") and .uid == '$MU_A' and .outcome == "denied"' \
		"the read refused through an open descriptor"
}
it_case mu_lock_stops_open_files

tc_mu_idle_expiry() {
	mu_setup
	mu_mount --idle-timeout 0=2s,1=2s,2=2s,3=2s
	unlock_as $MU_A a
	check as $MU_A sh -c "echo idle > '$M/f'"
	sleep 4
	check_fails as $MU_A cat "$M/f"
	check_eq "$(as $MU_A "$KEYTOOL" status "$M")" locked "status after every level expired"
	unlock_as $MU_A a
	check_eq "$(as $MU_A cat "$M/f")" idle "read after unlocking again"
	it_umount
	records "$T/r.json"
	expect_record "$T/r.json" '.op == "expire" and .uid == '$MU_A' and (.detail | test("level 0 idle"))' \
		"level 0 expiry"
	expect_record "$T/r.json" '.op == "expire" and .uid == '$MU_A' and (.detail | test("keys wiped"))' \
		"keys wiped when every level expired"
}
it_case mu_idle_expiry

# Both users, four processes each, write and read their own files and write
# their own blocks of one shared file at the same time.
tc_mu_concurrent() {
	mu_setup
	mu_mount
	unlock_as $MU_A a
	unlock_as $MU_B b
	check as $MU_A mkdir -m 1777 "$M/shared"
	check as $MU_A sh -c "umask 0; : > '$M/shared/common'"
	local iters=100 procs=4 uid k pids=()
	for uid in $MU_A $MU_B; do
		for ((k = 0; k < procs; k++)); do
			as "$uid" bash -c '
				M=$1 uid=$2 k=$3 iters=$4 slot=$5
				f=$M/shared/u$uid-p$k
				for ((i = 0; i < iters; i++)); do
					c="uid $uid proc $k iteration $i"
					printf "%s" "$c" > "$f" || exit 1
					[[ $(cat "$f") == "$c" ]] || { echo "mismatch in $f at $i"; exit 1; }
					printf "%-4096s" "$c" | dd of="$M/shared/common" bs=4096 seek=$slot \
						conv=notrunc status=none || exit 1
				done' _ "$M" "$uid" "$k" "$iters" "$(( (uid - MU_A) * procs + k ))" \
				>>"$T/workers.log" 2>&1 &
			pids+=($!)
		done
	done
	local p bad=0
	for p in "${pids[@]}"; do
		wait "$p" || bad=1
	done
	((bad == 0)) || { note_file "$T/workers.log"; fail "a worker failed"; }
	# every slot of the shared file holds its writer's last iteration
	for uid in $MU_A $MU_B; do
		for ((k = 0; k < procs; k++)); do
			local slot=$(( (uid - MU_A) * procs + k ))
			check_eq "$(as $MU_A dd if="$M/shared/common" bs=4096 skip=$slot count=1 status=none | tr -d ' ')" \
				"uid${uid}proc${k}iteration$((iters - 1))" "slot $slot of the shared file"
		done
	done
	it_umount
	records "$T/r.json"
	for uid in $MU_A $MU_B; do
		for ((k = 0; k < procs; k++)); do
			local path="/shared/u$uid-p$k" n
			# one create or open per write, one open per read
			n=$(rec_count "$T/r.json" "(.op == \"open\" or .op == \"create\") and .uid == $uid and .path == \"$path\" and .outcome == \"ok\"")
			check_eq "$n" "$((2 * iters))" "records of $path"
		done
		n=$(rec_count "$T/r.json" ".op == \"open\" and .uid == $uid and .path == \"/shared/common\" and .outcome == \"ok\" and (.detail | test(\"^flags=r?w\"))")
		check_eq "$n" "$((procs * iters))" "records of uid $uid's writes to the shared file"
	done
}
it_case mu_concurrent

tc_mu_socket_abuse() {
	mu_setup
	mu_mount
	local sock mode pid
	sock=$(getfattr --only-values -n user.vault.control "$M" 2>/dev/null)
	[[ -S $sock ]] || fail "user.vault.control of the root is not a socket: '$sock'"
	unlock_as $MU_A a
	for mode in close garbage huge partial badmagic; do
		check "$CTLCLIENT" "$sock" "$mode"
	done
	# a client killed in the middle of a request, and one too slow to finish
	"$CTLCLIENT" "$sock" slow &
	pid=$!
	sleep 1
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	check "$CTLCLIENT" "$sock" slow
	kill -0 "$DPID" 2>/dev/null || fail "the daemon died"
	check_eq "$(as $MU_A "$CTLCLIENT" "$sock" status)" "0 unlocked 'mu_a' (levels 0,1)" \
		"status over the socket after the abuse"
	check as $MU_A ls "$M"
	unlock_as $MU_B b
	check as $MU_B ls "$M"
	it_umount
}
it_case mu_socket_abuse

# Single-user mode shared with local users (-o allow_other, as gocryptfs):
# POSIX semantics per caller, records name the real caller.
tc_mu_single_identity_shared() {
	need_root
	need setpriv
	new_vault
	it_mount alice -o allow_other
	check mkdir -m 1777 "$M/pub"
	check as $MU_A sh -c "echo mine > '$M/pub/x'"
	check_eq "$(stat -c %u:%g "$M/pub/x")" "$MU_A:$MU_A" "owner of a file made by uid $MU_A"
	check as $MU_A chmod 600 "$M/pub/x"
	check_fails as $MU_B cat "$M/pub/x"
	check_fails as $MU_B chown $MU_B "$M/pub/x"
	it_umount
	records "$T/r.json"
	expect_record "$T/r.json" '.op == "create" and .user == "alice" and .uid == '$MU_A' and .path == "/pub/x"' \
		"the create names the real caller"
}
it_case mu_single_identity_shared

# An unlock that trusts any socket (issue 10, item 4): a local user with no
# vault user makes a folder whose user.vault.control names a socket of their
# own and waits for a colleague to "unlock the drive" there. vaultfs-keytool
# must refuse before it sends a byte, and still unlock the real mount.
tc_mu_unlock_fake_socket() {
	mu_setup
	# Debian's python3, which every uid can run (not a per-user install)
	[[ -x /usr/bin/python3 ]] || skip "no /usr/bin/python3"
	mu_mount
	mkdir -p "$T/x"
	chown $MU_X:$MU_X "$T/x"
	as $MU_X mkdir "$T/x/drive"
	as $MU_X setfattr -n user.vault.control -v "$T/x/evil.sock" "$T/x/drive" ||
		skip "user xattrs not supported under $T"
	# the attacker's listener: counts what it is sent, for 15 s at most
	as $MU_X /usr/bin/python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666); s.listen(4); s.settimeout(15)
got = 0
try:
    while True:
        c, _ = s.accept(); c.settimeout(3)
        try:
            while True:
                b = c.recv(4096)
                if not b: break
                got += len(b)
                open(sys.argv[2], "w").write(str(got))
        except OSError: pass
        c.close()
except OSError: pass
' "$T/x/evil.sock" "$T/x/got" &
	local lpid=$!
	retry 50 test -S "$T/x/evil.sock" || fail "the attacker's listener did not start"
	local verb rc
	for verb in unlock status lock; do
		if [[ $verb == unlock ]]; then
			as $MU_A timeout 20 "$KEYTOOL" --passphrase-file "$T/pw/a" unlock "$T/x/drive" \
				>"$T/out" 2>"$T/err"
		else
			as $MU_A timeout 20 "$KEYTOOL" "$verb" "$T/x/drive" >"$T/out" 2>"$T/err"
		fi
		rc=$?
		((rc == 124)) && fail "keytool $verb hung on a fake drive"
		((rc != 0)) || fail "keytool $verb succeeded on a fake drive: $(cat "$T/out")"
		check_one_line "$T/err" "keytool $verb on a fake drive"
	done
	# a folder on the real mount cannot name another socket either
	unlock_as $MU_B b
	as $MU_B mkdir "$M/evil"
	if as $MU_B setfattr -n user.vault.control -v "$T/x/evil.sock" "$M/evil" 2>/dev/null; then
		as $MU_A timeout 20 "$KEYTOOL" --passphrase-file "$T/pw/a" unlock "$M/evil" \
			>"$T/out" 2>"$T/err"
		rc=$?
		((rc != 0 && rc != 124)) || fail "keytool unlock through a folder of the mount naming another socket: rc $rc"
	fi
	sleep 1
	kill "$lpid" 2>/dev/null
	wait "$lpid" 2>/dev/null
	[[ -s $T/x/got ]] && fail "the attacker's socket received $(cat "$T/x/got") bytes"
	# the real drive still unlocks
	unlock_as $MU_A a
	check as $MU_A ls "$M"
	it_umount
}
it_case mu_unlock_fake_socket
