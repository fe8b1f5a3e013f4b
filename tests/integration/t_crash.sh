# tests/integration/t_crash.sh — kill -9 the daemon in the middle of writes,
# creates and renames; after `fusermount3 -u -z` and a remount: every file
# whose write was followed by a successful fsync is intact, no rename is half
# applied, the whole tree is listable and readable (no EIO: the blobs describe
# authentic chunks at any moment), and vault.db passes integrity_check.

# crash_writer ROUND: the workload; appends to $T/journal only after each step
# returned success:
#   W NAME SIZE SEED   NAME written with the pattern and fsynced
#   R OLD NEW          rename done
crash_writer() {
	local round=$1 i=0 seed size
	while :; do
		i=$((i + 1))
		seed=$((round * 100000 + i))
		size=$(((i * 7919) % 70000))
		"$POSIXOPS" writesync "$M/w/f$seed" "$size" "$seed" >/dev/null 2>&1 || break
		echo "W f$seed $size $seed" >>"$T/journal"
		if ((i % 3 == 0)); then
			local old=$((seed - 1))
			mv "$M/w/f$old" "$M/r/g$old" 2>/dev/null || break
			echo "R f$old g$old" >>"$T/journal"
		fi
		if ((i % 4 == 0)); then
			# unsynced bulk data and churn: may be lost, must not corrupt
			head -c 200000 /dev/urandom >"$M/u/bulk$((i % 8))" 2>/dev/null || break
			truncate -s $(((i * 4099) % 300000)) "$M/u/bulk$(((i + 3) % 8))" 2>/dev/null
			mkdir -p "$M/u/dir$i" 2>/dev/null || break
			rmdir "$M/u/dir$((i - 4))" 2>/dev/null
		fi
	done
}

# crash_check: the journal's promises hold on the mounted vault.
crash_check() {
	local kind a b c n=0 renamed
	declare -A renamed=()
	while read -r kind a b c; do
		[[ $kind == R ]] && renamed[$a]=$b
	done <"$T/journal"
	while read -r kind a b c; do
		case $kind in
		W)
			n=$((n + 1))
			local old=$M/w/$a new=$M/r/g${a#f} out
			if [[ -n ${renamed[$a]:-} ]]; then
				[[ -e $new ]] || fail "renamed file ${renamed[$a]} lost after the crash"
				[[ -e $old ]] && fail "rename $a -> ${renamed[$a]} undone: both names exist"
				out=$("$POSIXOPS" verify "$new" "$b" "$c") || fail "fsynced file ${renamed[$a]}: $out"
			else
				if [[ -e $old && -e $new ]]; then
					fail "$a exists under both names after the crash"
				elif [[ -e $old ]]; then
					out=$("$POSIXOPS" verify "$old" "$b" "$c") || fail "fsynced file $a: $out"
				elif [[ -e $new ]]; then
					# the rename in flight at the kill was applied
					out=$("$POSIXOPS" verify "$new" "$b" "$c") || fail "fsynced file $a (renamed at the crash): $out"
				else
					fail "fsynced file $a lost (neither $a nor g${a#f} exists)"
				fi
			fi
			;;
		esac
	done <"$T/journal"
	((n > 5)) || fail "the workload wrote only $n files before the kill (too slow?)"
	# the whole tree lists and reads
	find "$M" >"$T/find.out" 2>"$T/find.err" || {
		note_file "$T/find.err" 5
		fail "find over the tree failed after the crash"
	}
	local f
	while IFS= read -r -d '' f; do
		cat "$f" >/dev/null 2>"$T/cat.err" || fail "reading $f after the crash: $(cat "$T/cat.err")"
	done < <(find "$M" -type f -print0)
	note "round checked: $n fsynced files"
}

tc_crash_kill9() {
	new_vault
	it_mount alice
	mkdir -p "$M/w" "$M/r" "$M/u"
	: >"$T/journal"
	local round
	for round in 1 2 3; do
		# a file fsynced, then written further without fsync, never closed
		"$POSIXOPS" holdsync "$M/w/hold$round" 50000 "$round" 30000 >"$T/hold$round.out" 2>&1 &
		local hpid=$!
		retry 100 grep -q extra "$T/hold$round.out" || fail "holdsync did not get going: $(cat "$T/hold$round.out")"
		crash_writer $round &
		local wpid=$!
		sleep "$((1 + RANDOM % 3)).$((RANDOM % 10))"
		kill -9 "$DPID"
		wait "$wpid"
		kill -9 "$hpid"
		wait "$hpid" 2>/dev/null
		note "round $round: $(grep -c '^W' "$T/journal") writes, $(grep -c '^R' "$T/journal") renames journalled"
		it_kill9
		# straight after the crash, before any daemon touches it
		check_eq "$(sqlite3 "$V/vault.db" 'PRAGMA integrity_check;' 2>&1)" ok "vault.db integrity_check after kill -9"
		it_mount alice
		crash_check
		local r out
		for ((r = 1; r <= round; r++)); do
			out=$("$POSIXOPS" verifyprefix "$M/w/hold$r" 50000 80000 "$r") ||
				fail "file fsynced at 50000 bytes, then written on and never closed (round $r): $out"
		done
	done
	it_umount
	check_eq "$(sqlite3 "$V/vault.db" 'PRAGMA integrity_check;' 2>&1)" ok "vault.db integrity_check at the end"
	check_eq "$(sqlite3 "$V/vault.db" 'PRAGMA foreign_key_check;' 2>&1)" "" "vault.db foreign_key_check"
	# the trail recorded the crash's last writes
	records "$T/rec.json" --op rename
	local last
	last=$(awk '$1 == "R" { r = $2 } END { print r }' "$T/journal")
	[[ -n $last ]] && expect_record "$T/rec.json" ".op == \"rename\" and .path == \"/w/$last\"" "the last journalled rename"
	return 0
}
it_case crash_kill9
