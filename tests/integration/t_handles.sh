# tests/integration/t_handles.sh — open descriptors and unlocked sessions
# that must follow changes made after they were opened: a level raised under
# an open file (issue 10, item 3); and idle timeouts too large to count
# (item 7). Key refresh of every unlocked user however many (item 2) needs
# hundreds of unlocks: tests/unit/test_keys.c.
#
# Uses t_multiuser.sh's helpers (as, mu_setup, mu_mount, unlock_as, MU_A) and
# t_lifecycle.sh's mu_add_c (MU_C).

# Issue 10, item 7: an idle timeout too large to count in nanoseconds is
# refused with one line saying so (it overflowed, and the level expired at
# once instead of never); the largest that fits mounts and expires nothing.
tc_mu_idle_timeout_too_large() {
	mu_setup
	mkdir -p "$M"
	# (no -f: a daemon that accepted it would detach, and the check below fail)
	run_tool "$VAULTFS" "$V" "$M" -o allow_other --idle-timeout 3=9999999999999999999d \
		</dev/null >"$T/out" 2>"$T/err"
	local rc=$?
	is_mounted "$M" && fail "mounted with an idle timeout of 10^19 days"
	check_eq "$rc" 2 "exit status of vaultfs with an idle timeout of 10^19 days"
	grep -q "too large" <(head -n 1 "$T/err") || {
		note_file "$T/err" 5
		fail "the first line on stderr does not say the timeout is too large: $(head -n 1 "$T/err")"
	}
	check_eq "$(grep -c '^vaultfs: ' "$T/err")" 1 "error lines on stderr (before the usage)"
	run_tool "$VAULTFS" "$V" "$M" -o allow_other --idle-timeout 1=106752d </dev/null \
		>"$T/out" 2>"$T/err"
	rc=$?
	is_mounted "$M" && fail "mounted with an idle timeout one day past the largest"
	check_eq "$rc" 2 "exit status of vaultfs with an idle timeout one day past the largest"

	mu_mount --idle-timeout 0=9223372036s,1=106751d,2=106751d,3=106751d
	unlock_as $MU_A a
	check as $MU_A sh -c "echo forever > '$M/f'"
	sleep 3 # three ticks of the expiry thread
	check_eq "$(as $MU_A cat "$M/f")" forever "read after three ticks with the longest timeouts"
	check_eq "$(as $MU_A "$KEYTOOL" status "$M")" "unlocked 'mu_a' (levels 0,1)" \
		"status with the longest timeouts"
	it_umount
	records "$T/r.json"
	expect_no_record "$T/r.json" '.op == "expire"' "an expiry with the longest timeouts"
}
it_case mu_idle_timeout_too_large

# --- a level raised under an open descriptor (issue 10, item 3) ---------------

# handle_setup: mu_setup, plus mu_c (t_lifecycle.sh's mu_add_c) granted the
# owner role too, so that they hold level 3; passphrase file $T/pw/c.
handle_setup() {
	mu_setup
	mu_add_c
	kt --vault "$V" --as admin --passphrase-file "$PW/admin" grant mu_c owner >/dev/null ||
		fail "grant mu_c owner"
}

# stale_fd_open UID FILE: as UID, a shell opens FILE read-write on descriptor
# 3 (exec 3<>FILE), reads it once into $T/hs/before, and keeps the descriptor
# open until stale_fd_use. Returns once the descriptor is open and read.
stale_fd_open() {
	local uid=$1 file=$2 line
	[[ -x /usr/bin/python3 ]] || skip "no /usr/bin/python3 (pread and ftruncate on a descriptor)"
	mkdir -p "$T/hs" && chown "$uid:$uid" "$T/hs" || fail "mkdir $T/hs"
	as "$uid" mkfifo "$T/hs/go" "$T/hs/ready" || fail "mkfifo"
	# opened read-write here first, so that neither side blocks in open()
	# when the other has gone
	exec 5<>"$T/hs/ready" 6<>"$T/hs/go"
	as "$uid" bash -c '
		hs=$1
		exec 3<>"$2" || { echo "open failed" >"$hs/ready"; exit 1; }
		head -c 4096 <&3 >"$hs/before"
		echo opened >"$hs/ready"
		read -r _ <"$hs/go"
		# each through the descriptor opened above: its output, then its exit status
		py() { /usr/bin/python3 -c "import os, sys; $1"; }
		py "sys.stdout.buffer.write(os.pread(3, 4096, 0))" >"$hs/pread" 2>"$hs/pread.err"
		echo $? >"$hs/pread.rc"
		cat <&3 >"$hs/cat" 2>"$hs/cat.err"
		echo $? >"$hs/cat.rc"
		printf "written-through-the-old-descriptor" >&3 2>"$hs/write.err"
		echo $? >"$hs/write.rc"
		py "os.ftruncate(3, 0)" 2>"$hs/ftruncate.err"
		echo $? >"$hs/ftruncate.rc"
		py "os.fsync(3)" 2>"$hs/fsync.err"
		echo $? >"$hs/fsync.rc"
		echo done >"$hs/ready"
	' _ "$T/hs" "$file" >"$T/hs.log" 2>&1 &
	STALE_PID=$!
	read -r -t 30 -u 5 line || fail "the shell holding the descriptor did not start"
	[[ $line == opened ]] || fail "the shell holding the descriptor: $line"
}

# stale_fd_use: the held descriptor reads (pread at 0, cat), writes,
# ftruncates and fsyncs; results in $T/hs/{pread,cat,write,ftruncate,fsync}.rc.
stale_fd_use() {
	local line
	echo go >&6
	read -r -t 60 -u 5 line || fail "the shell holding the descriptor did not finish"
	[[ $line == done ]] || fail "the shell holding the descriptor: $line"
	wait "$STALE_PID"
	exec 5<&- 6<&-
}

# Anna (levels 0,1) holds a level-1 file open read-write; mu_c raises it to
# level 3 and writes level-3 content. Her old descriptor must neither read
# the new content nor write, truncate or sync, and the refusals are recorded;
# her fresh open is refused as before.
tc_handle_level_raised() {
	handle_setup
	mu_mount
	unlock_as $MU_A a
	unlock_as $MU_C c
	check as $MU_C mkdir -m 1777 "$M/d"
	check as $MU_C sh -c "umask 0; printf 'level-one\n' > '$M/d/doc'"
	check as $MU_C setfattr -n user.vault.level -v 1 "$M/d/doc"
	stale_fd_open $MU_A "$M/d/doc"
	check_eq "$(cat "$T/hs/before")" level-one "read through the descriptor while the file was level 1"
	check as $MU_C setfattr -n user.vault.level -v 3 "$M/d/doc"
	local secret
	secret=$(token level-three-)
	check as $MU_C sh -c "printf '%s\n' '$secret' > '$M/d/doc'"
	stale_fd_use
	local what
	for what in pread cat; do
		[[ -s $T/hs/$what ]] && fail "$what through the descriptor opened at level 1 returned" \
			"$(head -c 100 "$T/hs/$what") after the raise to level 3"
		[[ $(cat "$T/hs/$what.rc") != 0 ]] || fail "$what through the old descriptor succeeded"
	done
	grep -q 'Errno 13' "$T/hs/pread.err" ||
		fail "pread through the old descriptor: not EACCES: $(tail -n 1 "$T/hs/pread.err")"
	for what in write ftruncate fsync; do
		[[ $(cat "$T/hs/$what.rc") != 0 ]] || fail "$what through the old descriptor succeeded"
	done
	check_eq "$(as $MU_C cat "$M/d/doc")" "$secret" "the level-3 content after the old descriptor's tries"
	check_fails as $MU_A cat "$M/d/doc"
	check_eq "$(as $MU_C getfattr --only-values -n user.vault.level "$M/d/doc")" 3 "level"
	it_umount
	records "$T/r.json"
	local who='.uid == '$MU_A' and .user == "mu_a" and .outcome == "denied" and .level == 3'
	expect_record "$T/r.json" "$who"' and (.op == "read" or .op == "getattr") and (.detail | test("level not held"))' \
		"the read refused through the old descriptor"
	expect_record "$T/r.json" "$who"' and (.op == "write" or .op == "truncate")' \
		"the write refused through the old descriptor"
	expect_record "$T/r.json" "$who"' and .op == "open"' "the fresh open refused"
}
it_case handle_level_raised

# The same in single-user mode (one identity, alice, holding every level):
# nothing changes for the descriptor, which reads the new content and writes.
tc_handle_single_user_unaffected() {
	need_root
	need setpriv
	new_vault
	it_mount alice -o allow_other
	check mkdir -m 1777 "$M/d"
	check as $MU_A sh -c "umask 0; printf 'level-one\n' > '$M/d/doc'"
	check setfattr -n user.vault.level -v 1 "$M/d/doc"
	stale_fd_open $MU_A "$M/d/doc"
	check_eq "$(cat "$T/hs/before")" level-one "read through the descriptor at level 1"
	check setfattr -n user.vault.level -v 3 "$M/d/doc"
	local secret
	secret=$(token level-three-)
	check sh -c "printf '%s\n' '$secret' > '$M/d/doc'"
	stale_fd_use
	check_eq "$(cat "$T/hs/pread")" "$secret" "pread through the descriptor after the raise"
	local what
	for what in pread cat write ftruncate fsync; do
		check_eq "$(cat "$T/hs/$what.rc")" 0 "exit status of $what through the descriptor"
	done
	check_eq "$(stat -c %s "$M/d/doc")" 0 "size after ftruncate through the descriptor"
	it_umount
	records "$T/r.json"
	expect_no_record "$T/r.json" '.outcome == "denied"' "a refusal on a single-user mount"
}
it_case handle_single_user_unaffected
