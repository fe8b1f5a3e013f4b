# tests/integration/t_handles.sh — open descriptors and unlocked sessions
# that must follow changes made after they were opened: a level raised under
# an open file (issue 10, item 3); and idle timeouts too large to count
# (item 7). Key refresh of every unlocked user however many (item 2) needs
# hundreds of unlocks: tests/unit/test_keys.c.

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
