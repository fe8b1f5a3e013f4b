# tests/integration/t_lifecycle.sh — keys changing under a running mount
# (issue 5): a revocation, and a grant expiring, take effect in the daemon
# without a remount; files written before, during and after the rotation
# stay readable by everyone who keeps the role, also after a remount.
# Uses t_multiuser.sh's helpers (as, mu_setup, mu_mount, unlock_as).

MU_C=41003	# mu_c: role staff (levels 0,1,2), like mu_b

# mu_add_c: a third user mu_c with uid MU_C and the staff role.
mu_add_c() {
	local ad=(--vault "$V" --as admin --passphrase-file "$PW/admin")
	(umask 077 && printf 'mu-c-%s\n' "$(token '')" >"$T/pw/c")
	kt "${ad[@]}" user add mu_c --uid $MU_C --new-passphrase-file "$T/pw/c" >/dev/null ||
		fail "user add mu_c"
	chown $MU_C:$MU_C "$T/pw/c"
	kt "${ad[@]}" grant mu_c staff >/dev/null || fail "grant mu_c staff"
}

tc_lc_revoke_while_mounted() {
	mu_setup
	mu_add_c
	mu_mount
	unlock_as $MU_B b
	unlock_as $MU_C c
	check as $MU_B mkdir -m 1777 "$M/hr"
	local i
	for ((i = 0; i < 20; i++)); do
		check as $MU_B sh -c "echo before-$i > '$M/hr/b$i' && setfattr -n user.vault.level -v 2 '$M/hr/b$i'"
	done
	check_eq "$(as $MU_B cat "$M/hr/b0")" before-0 "mu_b reads before the revocation"
	# revoke mu_b's role while the vault is mounted: rotation runs under the mount
	kt --vault "$V" --as admin --passphrase-file "$PW/admin" revoke mu_b staff >"$T/revoke.out" ||
		fail "revoke while mounted: $(tail -n 1 "$T/revoke.out")"
	# at once, before the daemon's clock has refreshed mu_b's keys: the file
	# keys are re-wrapped already, mu_b's session still lists level 2
	check_fails as $MU_B cat "$M/hr/b2"
	check as $MU_C sh -c "echo after > '$M/hr/c-after' && setfattr -n user.vault.level -v 2 '$M/hr/c-after'"
	# the daemon picks the change up within its one-second clock
	retry 25 bash -c "! setpriv --reuid=$MU_B --regid=$MU_B --clear-groups cat '$M/hr/b1' >/dev/null 2>&1" ||
		fail "mu_b still reads a level-2 file 5 s after the revocation"
	for ((i = 0; i < 20; i++)); do
		check_eq "$(as $MU_C cat "$M/hr/b$i")" "before-$i" "mu_c reads b$i (re-wrapped) while mounted"
	done
	check_eq "$(as $MU_C cat "$M/hr/c-after")" after "mu_c reads a file created after the rotation"
	it_umount
	# after a remount: nothing is wrapped under a destroyed version
	mu_mount
	unlock_as $MU_C c
	for ((i = 0; i < 20; i++)); do
		check_eq "$(as $MU_C cat "$M/hr/b$i")" "before-$i" "mu_c reads b$i after remount"
	done
	check_eq "$(as $MU_C cat "$M/hr/c-after")" after "mu_c reads c-after after remount"
	check_fails as $MU_B "$KEYTOOL" --passphrase-file "$T/pw/b" unlock "$M"
	check_eq "$(as $MU_B "$KEYTOOL" status "$M")" locked "mu_b after the revocation and remount"
	it_umount
	records "$T/r.json"
	expect_record "$T/r.json" '.op == "revoke" and .outcome == "ok" and (.detail | test("user=mu_b role=staff"))' \
		"the revocation"
	expect_record "$T/r.json" '.op == "keys-refresh" and .uid == '$MU_B \
		"the running daemon's refresh of mu_b's keys"
	# Refused at the open, or already at a lookup: mu_b's keys are refreshed
	# by now (the role is gone, mu_b holds no role), so the walk from / stops.
	expect_record "$T/r.json" '.uid == '$MU_B' and .outcome == "denied" and
		((.op == "open" and .path == "/hr/b1") or
		 ((.op == "lookup" or .op == "getattr") and (.path == "/" or .path == "/hr" or .path == "/hr/b1")))' \
		"mu_b refused after the revocation"
	# A refusal for want of a key is a denial that says why. mu_b's first
	# refusal after the revocation is that open of b2, unless the daemon's
	# one-second clock refreshed mu_b's keys first (then the walk from /
	# is refused at a lookup, checked above).
	local first
	first=$(jq -c --argjson uid "$MU_B" '(map(select(.op == "revoke")) | first | .id) as $rev
		| map(select(.uid == $uid and .id > $rev and
			(.outcome == "denied" or .op == "keys-refresh"))) | first' "$T/r.json")
	case $(jq -r '.op' <<<"$first") in
	keys-refresh) ;;
	open)
		jq -e '.path == "/hr/b2" and .errno == "EACCES" and (.detail | test("level not held"))' \
			<<<"$first" >/dev/null ||
			fail "mu_b's open of b2 at once after the revocation: not a 'level not held' denial: $first"
		;;
	*) fail "mu_b's first refusal after the revocation: $first" ;;
	esac
	expect_no_record "$T/r.json" '.uid == '$MU_B' and .outcome != "ok" and .outcome != "denied"' \
		"a refusal of mu_b recorded as other than a denial"
}
it_case lc_revoke_while_mounted

tc_lc_grant_expires_while_mounted() {
	mu_setup
	local ad=(--vault "$V" --as admin --passphrase-file "$PW/admin") until
	until=$(($(date +%s) + 8))
	kt "${ad[@]}" role add temp --levels 0,1,2 >/dev/null || fail "role add temp"
	kt "${ad[@]}" grant mu_a temp --expires "@$until" >/dev/null || fail "grant with --expires"
	mu_mount
	unlock_as $MU_A a
	check as $MU_A sh -c "echo x > '$M/t' && setfattr -n user.vault.level -v 2 '$M/t'"
	check_eq "$(as $MU_A cat "$M/t")" x "read while the grant holds"
	sleep $((until - $(date +%s) + 2))
	retry 25 bash -c "! setpriv --reuid=$MU_A --regid=$MU_A --clear-groups cat '$M/t' >/dev/null 2>&1" ||
		fail "mu_a still reads level 2 after the grant expired"
	check_eq "$(as $MU_A sh -c "echo y > '$M/l1' && cat '$M/l1'")" y "level 0 (member) still works"
	it_umount
	records "$T/r.json"
	expect_record "$T/r.json" '.op == "keys-refresh" and .uid == '$MU_A "the refresh at expiry"
}
it_case lc_grant_expires_while_mounted

# Re-encryption under a running mount: a file held open is replaced once it
# is closed, writes during the run are not lost, every file reads back the
# same (during, after, and after a remount), and no old blob is left.
tc_lc_reencrypt_while_mounted() {
	new_vault
	it_mount alice
	local i
	mkdir "$M/sec"
	check setfattr -n user.vault.level -v 2 "$M/sec"
	for ((i = 0; i < 12; i++)); do
		mkfile_random "$T/orig$i" $((i * 5000 + 100))
		cp "$T/orig$i" "$M/sec/f$i"
	done
	objects >"$T/objects.before"
	# a reader holding f0 open for 3 seconds, and a writer appending to f1
	(exec 3<"$M/sec/f0"; sleep 3; cat <&3 >"$T/held.out") &
	local holder=$!
	(for ((k = 0; k < 40; k++)); do echo "append $k" >>"$M/sec/f1"; sleep 0.05; done) &
	local writer=$!
	sleep 0.3
	kt --vault "$V" --as admin --passphrase-file "$PW/admin" rotate --reencrypt --level 2 \
		>"$T/reencrypt.out" 2>"$T/reencrypt.err" ||
		fail "rotate --reencrypt while mounted: $(tail -n 1 "$T/reencrypt.err")"
	wait $holder
	wait $writer
	check_same "$T/held.out" "$T/orig0" "f0 read through a descriptor opened before the re-encryption"
	{ cat "$T/orig1"; for ((k = 0; k < 40; k++)); do echo "append $k"; done; } >"$T/expect1"
	check_same "$M/sec/f1" "$T/expect1" "f1 with every append made during the re-encryption"
	for ((i = 0; i < 12; i++)); do
		[[ $i == 1 ]] && continue
		check_same "$M/sec/f$i" "$T/orig$i" "f$i while mounted, after re-encryption"
	done
	it_remount
	check_same "$M/sec/f1" "$T/expect1" "f1 after remount"
	for ((i = 0; i < 12; i++)); do
		[[ $i == 1 ]] && continue
		check_same "$M/sec/f$i" "$T/orig$i" "f$i after remount"
	done
	it_umount
	# every old blob is gone: new object ids for all twelve files
	local left
	left=$(comm -12 "$T/objects.before" <(objects) | wc -l)
	check_eq "$left" 0 "old blobs left after re-encryption"
	check_eq "$(objects | wc -l)" 12 "blobs after re-encryption"
}
it_case lc_reencrypt_while_mounted

# kill -9 in the middle of a rotation, then finish it, then every file reads
# back for everyone who holds the level.
tc_lc_rotation_kill9() {
	new_vault
	it_mount alice
	local i n=300
	mkdir "$M/d"
	check setfattr -n user.vault.level -v 1 "$M/d"
	for ((i = 0; i < n; i++)); do
		echo "file $i" >"$M/d/f$i"
	done
	it_umount
	local ad=(--vault "$V" --as admin --passphrase-file "$PW/admin")
	need strace
	# Slow every write of the rotation down (strace delay injection) so that
	# kill -9 reliably lands in the middle of it, then kill the keytool
	# process itself (strace's tracee) once some file keys are re-wrapped.
	strace -f -o /dev/null -e trace=pwrite64 -e inject=pwrite64:delay_exit=5000 \
		"$KEYTOOL" "${ad[@]}" rotate --level 1 --batch 1 >"$T/rot.out" 2>&1 &
	local tracer=$! pid="" waited=0 done_n=0
	while ((waited < 400)); do
		[[ -z $pid ]] && pid=$(pgrep -P $tracer -f vaultfs-keytool | head -n 1)
		done_n=$(sqlite3 -batch -cmd ".timeout 2000" "$V/vault.db" \
			"SELECT coalesce(max(done),0) FROM rotations WHERE state <> 'done'" 2>/dev/null)
		[[ ${done_n:-0} -ge 20 ]] && break
		kill -0 $tracer 2>/dev/null || break
		sleep 0.05
		waited=$((waited + 1))
	done
	[[ -n $pid ]] && kill -9 "$pid" 2>/dev/null
	wait $tracer 2>/dev/null
	local running
	running=$(sqlite3 -batch -cmd ".timeout 2000" "$V/vault.db" \
		"SELECT count(*) FROM rotations WHERE state <> 'done'")
	check_eq "$running" 1 "rotations still running after kill -9 (done: ${done_n:-?})"
	# finish it
	check "$KEYTOOL" "${ad[@]}" rotate
	check_eq "$(sqlite3 -batch -cmd ".timeout 2000" "$V/vault.db" "SELECT count(*) FROM rotations WHERE state <> 'done'")" 0 \
		"rotations left running after resuming"
	# every file reads back, for the owner and for a member (level 1)
	it_mount bob
	for ((i = 0; i < n; i++)); do
		check_eq "$(cat "$M/d/f$i")" "file $i" "f$i read by bob after the resumed rotation"
	done
	it_umount
	it_mount alice
	check_eq "$(cat "$M/d/f0")$(cat "$M/d/f$((n - 1))")" "file 0file $((n - 1))" "read by alice"
	it_umount
}
it_case lc_rotation_kill9
