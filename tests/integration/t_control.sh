# tests/integration/t_control.sh — the control socket of a multi-user mount
# under attack: slow, stalling and flooding clients from local accounts, while
# other users unlock, idle expiry and key refresh go on (issue 10, item 1).
# Uses t_multiuser.sh's helpers (as, mu_setup, mu_mount, MU_A, MU_B, MU_X).
#
# The attacker is uid $MU_X, which has no vault user: all it can do is
# connect to the socket (mode 0666). The daemon gives each request 10 s from
# accept to reply, serves at most 4 connections per uid and 64 in all, and
# records what it cut off, at most once per uid and kind per 10 s.

# as_within SECONDS UID CMD...: CMD as uid UID (like as), killed after SECONDS.
as_within() {
	local secs=$1 uid=$2
	shift 2
	timeout -k 2 "$secs" setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"
}

# ctl_socket: the path of $M's control socket.
ctl_socket() {
	local sock
	sock=$(getfattr --only-values -n user.vault.control "$M" 2>/dev/null)
	[[ -S $sock ]] || fail "user.vault.control of the root is not a socket: '$sock'"
	printf '%s\n' "$sock"
}

# kv FILE KEY: the value of KEY=VALUE in the one line ctlclient printed.
kv() {
	sed -n "s/.*\<$2=\([^ ]*\).*/\1/p" "$1"
}

# ctl_attack SECONDS: uid $MU_X stalls the socket for SECONDS: one connection
# sends a status request one byte every 4 s (it would take 48 s), five more
# send nothing (so one connection is over the limit of 4 per uid: two are).
# ATTACK holds the attacker's pids.
ctl_attack() {
	local sock
	sock=$(ctl_socket) || exit 1
	as $MU_X "$CTLCLIENT" "$sock" drip "$1" 4 >"$T/drip.out" 2>&1 &
	ATTACK=($!)
	sleep 0.5
	as $MU_X "$CTLCLIENT" "$sock" hold 5 "$1" >"$T/hold.out" 2>&1 &
	ATTACK+=($!)
	sleep 1
}

# ctl_attack_end: wait for the attacker; the daemon must have cut off every
# stalled connection at its 10 s deadline, and refused the two over the limit
# at once.
ctl_attack_end() {
	wait "${ATTACK[@]}"
	note "drip: $(cat "$T/drip.out")"
	note "hold: $(cat "$T/hold.out")"
	[[ $(kv "$T/drip.out" end) != open ]] ||
		fail "the dripping connection was still open when the attacker gave up: $(cat "$T/drip.out")"
	awk -v t="$(kv "$T/drip.out" after)" 'BEGIN { exit !(t <= 15) }' ||
		fail "the dripping connection was cut off after more than 15 s: $(cat "$T/drip.out")"
	check_eq "$(kv "$T/hold.out" open)" 0 "connections of the attacker still open at the end"
	check_eq "$(kv "$T/hold.out" fast)" 2 "connections over the limit of 4 per uid, refused at once"
	awk -v t="$(kv "$T/hold.out" last)" 'BEGIN { exit !(t <= 15) }' ||
		fail "held connections were closed after more than 15 s: $(cat "$T/hold.out")"
}

# ctl_events JSON UID REGEX: how many events the "control" records of UID
# whose detail matches REGEX stand for (one each, or the N of "N more since").
ctl_events() {
	jq --argjson uid "$2" --arg re "$3" '[.[] | select(.op == "control" and .uid == $uid and
		(.detail | test($re))) | ((.detail | capture("(?<n>[0-9]+) more since") | .n | tonumber) // 1)]
		| add // 0' "$1"
}

tc_control_stall_unlock() {
	mu_setup
	mu_mount
	ctl_attack 20
	# two other users unlock at the same time, and ask, while uid X stalls
	as_within 8 $MU_A "$KEYTOOL" --passphrase-file "$T/pw/a" unlock "$M" >"$T/a.out" 2>&1 &
	local pa=$!
	as_within 8 $MU_B "$KEYTOOL" --passphrase-file "$T/pw/b" unlock "$M" >"$T/b.out" 2>&1 &
	local pb=$! rc
	wait $pa
	rc=$?
	((rc == 0)) || fail "mu_a's unlock during the attack exited $rc (124: no answer in 8 s): $(cat "$T/a.out")"
	wait $pb
	rc=$?
	((rc == 0)) || fail "mu_b's unlock during the attack exited $rc (124: no answer in 8 s): $(cat "$T/b.out")"
	check_eq "$(as_within 5 $MU_A "$KEYTOOL" status "$M" 2>&1)" "unlocked 'mu_a' (levels 0,1)" \
		"mu_a's status during the attack"
	check as $MU_A ls "$M"
	check as_within 5 $MU_B "$KEYTOOL" lock "$M"
	check_eq "$(as_within 5 $MU_B "$KEYTOOL" status "$M" 2>&1)" locked "mu_b's status after lock"
	ctl_attack_end
	it_umount
	records "$T/r.json"
	expect_record "$T/r.json" '.op == "control" and .uid == '$MU_X' and .outcome == "error" and .process == "ctlclient" and (.detail | test("not complete within 10 s"))' \
		"a connection of uid $MU_X cut off at its deadline"
	expect_record "$T/r.json" '.op == "control" and .uid == '$MU_X' and .outcome == "denied" and (.detail | test("limit of 4 connections per uid"))' \
		"a connection of uid $MU_X over the limit"
	expect_no_record "$T/r.json" '.op == "control" and .uid != '$MU_X \
		"a control record for a well-behaved user"
}
it_case control_stall_unlock

tc_control_stall_idle_expiry() {
	mu_setup
	mu_mount --idle-timeout 0=3s,1=3s,2=3s,3=3s
	unlock_as $MU_A a
	ctl_attack 20
	check as $MU_A sh -c "echo idle > '$M/f'"
	# every level of mu_a idles out 3 s after its last use; the clock ticks
	# once a second whatever the socket's clients do
	sleep 7
	as $MU_A cat "$M/f" >/dev/null 2>&1 &&
		fail "mu_a still reads 7 s after the last use of a level with a 3 s idle timeout, while uid $MU_X stalls the socket"
	check_eq "$(as_within 5 $MU_A "$KEYTOOL" status "$M" 2>&1)" locked "mu_a's status after every level expired"
	ctl_attack_end
	it_umount
	records "$T/r.json"
	expect_record "$T/r.json" '.op == "expire" and .uid == '$MU_A' and (.detail | test("level 0 idle"))' \
		"level 0 expiry during the attack"
	expect_record "$T/r.json" '.op == "expire" and .uid == '$MU_A' and (.detail | test("keys wiped"))' \
		"keys wiped during the attack"
}
it_case control_stall_idle_expiry

tc_control_stall_revoke() {
	mu_setup
	mu_mount
	unlock_as $MU_B b
	check as $MU_B mkdir -m 1777 "$M/hr"
	check as $MU_B sh -c "echo personnel > '$M/hr/p' && setfattr -n user.vault.level -v 2 '$M/hr/p'"
	check_eq "$(as $MU_B cat "$M/hr/p")" personnel "mu_b reads before the revocation"
	ctl_attack 25
	# --no-wait: the file keeps its key version until a later rotate, so only
	# the daemon's refresh of mu_b's keyring stands between mu_b and the file
	kt --vault "$V" --as admin --passphrase-file "$PW/admin" revoke mu_b staff --no-wait \
		>"$T/revoke.out" || fail "revoke while mounted: $(tail -n 1 "$T/revoke.out")"
	retry 25 bash -c "! setpriv --reuid=$MU_B --regid=$MU_B --clear-groups cat '$M/hr/p' >/dev/null 2>&1" ||
		fail "mu_b still reads a level-2 file 5 s after the revocation, while uid $MU_X stalls the socket"
	ctl_attack_end
	it_umount
	records "$T/r.json"
	expect_record "$T/r.json" '(.op == "keys-refresh" or .op == "lock") and .uid == '$MU_B' and .process == "vaultfs"' \
		"the running daemon's refresh of mu_b's keys"
}
it_case control_stall_revoke

tc_control_stop_with_clients() {
	mu_setup
	mu_mount
	unlock_as $MU_A a
	ctl_attack 30
	local t0 t1
	t0=$(date +%s.%N)
	it_umount
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 5) }' ||
		fail "the daemon took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s to stop with stalled clients connected"
	wait "${ATTACK[@]}"
	[[ $(kv "$T/drip.out" end) != open ]] ||
		fail "the dripping connection outlived the daemon: $(cat "$T/drip.out")"
	check_eq "$(kv "$T/hold.out" open)" 0 "held connections left open by a stopped daemon"
}
it_case control_stop_with_clients

# A flood of connections: per uid, and from many uids; the trail gets a few
# records that count what they stand for.
tc_control_flood() {
	mu_setup
	mu_mount
	local sock i pids=() GX=$((MU_X + 100))
	sock=$(ctl_socket) || exit 1
	# 40 at once from uid X: 4 served (and cut off at 10 s), 36 refused at once
	as $MU_X "$CTLCLIENT" "$sock" hold 40 20 >"$T/x.out" 2>&1 &
	pids+=($!)
	sleep 1.5
	# 15 more uids with 4 each: 64 connections in all
	for ((i = 1; i <= 15; i++)); do
		as $((GX + i)) "$CTLCLIENT" "$sock" hold 4 20 >"$T/g$i.out" 2>&1 &
		pids+=($!)
	done
	sleep 1.5
	# one more uid: over the limit of 64, refused at once
	as $GX "$CTLCLIENT" "$sock" hold 4 20 >"$T/g0.out" 2>&1
	note "uid $GX: $(cat "$T/g0.out")"
	check_eq "$(kv "$T/g0.out" fast)" 4 "connections over the limit of 64, refused at once"
	wait "${pids[@]}"
	note "uid $MU_X: $(cat "$T/x.out")"
	check_eq "$(kv "$T/x.out" connected)" 40 "connections of uid $MU_X accepted by the kernel"
	check_eq "$(kv "$T/x.out" fast)" 36 "connections of uid $MU_X over the limit of 4, refused at once"
	check_eq "$(kv "$T/x.out" open)" 0 "connections of uid $MU_X left open"
	for ((i = 1; i <= 15; i++)); do
		check_eq "$(kv "$T/g$i.out" closed)" 4 "connections of uid $((GX + i)) closed at their deadline"
	done
	# the socket serves again once the flood is over
	check_eq "$(as_within 5 $MU_A "$KEYTOOL" status "$M" 2>&1)" locked "mu_a's status after the flood"
	it_umount
	records "$T/r.json"
	check_eq "$(ctl_events "$T/r.json" $MU_X 'limit of 4 connections per uid')" 36 \
		"refusals of uid $MU_X counted in the records"
	check_eq "$(ctl_events "$T/r.json" $MU_X 'not complete within 10 s')" 4 \
		"stalled connections of uid $MU_X counted in the records"
	check_eq "$(ctl_events "$T/r.json" $GX 'limit of 64 connections')" 4 \
		"refusals of uid $GX counted in the records"
	local n
	n=$(rec_count "$T/r.json" '.op == "control" and .uid == '$MU_X)
	((n <= 4)) || fail "$n control records for uid $MU_X: the flood was not rate-limited"
}
it_case control_flood
