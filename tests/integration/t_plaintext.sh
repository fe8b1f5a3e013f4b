# tests/integration/t_plaintext.sh — guarantee 1: no plaintext file content,
# file name, symlink target, xattr name or xattr value ever reaches the vault
# directory or vault.db (nor its -wal). Unique random tokens are written
# through the mount and then searched for, raw and hex-encoded, in every byte
# of the vault directory.

# grep_vault WHAT TOKEN...: none of the tokens occurs anywhere under $V.
grep_vault() {
	local what=$1 tok hex
	shift
	for tok in "$@"; do
		hex=$(printf '%s' "$tok" | od -An -tx1 | tr -d ' \n')
		local pat
		for pat in "$tok" "$hex" "${hex^^}"; do
			if grep -r -a -F -l -e "$pat" "$V" >"$T/hits" 2>/dev/null; then
				note "found in: $(tr '\n' ' ' <"$T/hits")"
				note "vault files: $(find "$V" -maxdepth 1 | tr '\n' ' ')"
				fail "plaintext token ($what) found in the vault: $pat"
			fi
		done
	done
}

tc_plain_nothing_in_store() {
	need setfattr
	new_vault
	it_mount alice
	local tname tdir tcont tsmall txn txv tsl tren thl tmid tsub
	tname=$(token NAME) tdir=$(token DIR) tcont=$(token CONTENT) tsmall=$(token SMALL)
	txn=$(token XNAME) txv=$(token XVALUE) tsl=$(token SYMLINK) tren=$(token RENAMED)
	thl=$(token HARDLINK) tmid=$(token MIDDLE) tsub=$(token SUBDIR)
	# content: a token at the start, one straddling the first chunk edge, one
	# at the end, and a small file
	{
		printf '%s' "$tcont"
		head -c $((4096 - 10 - ${#tcont})) /dev/zero | tr '\0' 'a'
		printf '%s' "$tmid"
		head -c 9000 /dev/zero | tr '\0' 'b'
		printf '%s\n' "$tcont"
	} >"$T/plain"
	mkdir -p "$M/$tdir/$tsub"
	check cp "$T/plain" "$M/$tdir/$tname"
	printf '%s\n' "$tsmall" >"$M/$tdir/small"
	check setfattr -n "user.$txn" -v "$txv" "$M/$tdir/$tname"
	check setfattr -n "user.dir$txn" -v "dir$txv" "$M/$tdir"
	check ln -s "../$tsl/target" "$M/$tdir/link"
	check ln "$M/$tdir/small" "$M/$tdir/$thl"
	check mv "$M/$tdir/small" "$M/$tdir/$tsub/$tren"
	check setfattr -n user.vault.level -v 2 "$M/$tdir/$tsub"
	# positive control: the tokens are really there through the mount
	grep -q -F "$tmid" "$M/$tdir/$tname" || fail "control: token not readable through the mount"
	check_eq "$(readlink "$M/$tdir/link")" "../$tsl/target" "control: symlink target"
	grep -q -F "$tmid" "$T/plain" || fail "control: grep cannot find the token in the plain file"
	local all=("$tname" "$tdir" "$tcont" "$tsmall" "$txn" "$txv" "$tsl" "$tren" "$thl" "$tmid" "$tsub")
	# while mounted (cache flushed by fsync), then after a crash (the -wal is
	# left as it was), then after a clean unmount
	po_expect ok fsync "$M/$tdir/$tname"
	grep_vault "mounted" "${all[@]}"
	it_kill9
	note "after kill -9: $(ls "$V" | tr '\n' ' ')"
	grep_vault "after kill -9" "${all[@]}"
	it_mount alice
	check cat "$M/$tdir/$tname" # recovery after the crash
	check_same "$M/$tdir/$tname" "$T/plain" "content after the crash"
	it_umount
	grep_vault "after unmount" "${all[@]}"
	# the database itself, page by page (in case grep missed an encoding)
	sql .dump >"$T/dump.sql" 2>&1 || fail "sqlite3 .dump of vault.db failed"
	local tok
	for tok in "${all[@]}"; do
		grep -q -F "$tok" "$T/dump.sql" && fail "token $tok in the SQL dump of vault.db"
	done
	return 0
}
it_case plain_nothing_in_store

tc_plain_names_in_records() {
	# the records' paths are encrypted too: a denied access to a secret name
	need setfattr
	new_vault
	it_mount alice
	local tdir tname
	tdir=$(token DENIEDDIR) tname=$(token DENIEDNAME)
	mkdir "$M/$tdir"
	check setfattr -n user.vault.level -v 3 "$M/$tdir"
	echo x >"$M/$tdir/$tname"
	it_umount
	it_mount bob
	cat "$M/$tdir/$tname" >/dev/null 2>&1
	ls "$M/$tdir" >/dev/null 2>&1
	it_kill9
	grep_vault "denied record paths" "$tdir" "$tname"
	# but the auditor does see the path
	records "$T/rec.json"
	expect_record "$T/rec.json" ".user == \"bob\" and .outcome == \"denied\" and ((.path // \"\") | startswith(\"/$tdir\"))" \
		"bob's denied access, with its path decrypted for the auditor"
}
it_case plain_names_in_records
