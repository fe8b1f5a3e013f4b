# tests/integration/t_programs.sh — real programs on the mount: cp -a, tar,
# rsync, git, sqlite3 (rollback journal and WAL) and the editors' "write a
# temp file, rename it over the original" save. Each copy into the mount is
# compared with the same copy onto the reference filesystem, so what the tool
# itself does not preserve is not held against the vault.

tc_prog_cp_a() {
	new_vault
	it_mount alice
	mk_tree "$T/src"
	check cp -a "$T/src" "$T/ref-copy"
	check cp -a "$T/src" "$M/copy"
	check_same_tree "$T/ref-copy" "$M/copy" "cp -a into the mount"
	check diff -r --no-dereference -x fifo "$T/src" "$M/copy"
	it_remount
	check_same_tree "$T/ref-copy" "$M/copy" "cp -a copy after remount"
	check cp -a "$M/copy" "$T/out"
	check_same_tree "$T/ref-copy" "$T/out" "cp -a out of the mount"
	check diff -r --no-dereference -x fifo "$T/src" "$T/out"
	# a copy within the mount
	check cp -a "$M/copy" "$M/copy2"
	check_same_tree "$T/ref-copy" "$M/copy2" "cp -a within the mount"
	it_umount
}
it_case prog_cp_a

tc_prog_tar() {
	need tar
	new_vault
	it_mount alice
	mk_tree "$T/src"
	local tarx=(tar --format=posix --xattrs --xattrs-include='user.*')
	mkdir -p "$T/ref-x" "$M/x"
	check bash -c "${tarx[*]@Q} -C '$T/src' -cf - . | ${tarx[*]@Q} -C '$T/ref-x' -xpf -"
	check bash -c "${tarx[*]@Q} -C '$T/src' -cf - . | ${tarx[*]@Q} -C '$M/x' -xpf -"
	check_same_tree "$T/ref-x" "$M/x" "tar extracted into the mount"
	# an archive stored in the mount, listed and extracted back out
	check "${tarx[@]}" -C "$T/src" -cf "$M/archive.tar" .
	check "${tarx[@]}" -C "$T/src" -cf "$T/archive.tar" .
	check_eq "$(tar -tvf "$M/archive.tar" | wc -l)" "$(tar -tvf "$T/archive.tar" | wc -l)" \
		"tar -t of an archive in the mount"
	it_remount
	check_same_tree "$T/ref-x" "$M/x" "tar extraction after remount"
	mkdir -p "$T/out"
	check bash -c "${tarx[*]@Q} -C '$M/x' -cf - . | ${tarx[*]@Q} -C '$T/out' -xpf -"
	check_same_tree "$T/ref-x" "$T/out" "tar out of the mount"
	mkdir -p "$T/out2"
	check "${tarx[@]}" -C "$T/out2" -xpf "$M/archive.tar"
	check_same_tree "$T/ref-x" "$T/out2" "extracting an archive stored in the mount"
	it_umount
}
it_case prog_tar

tc_prog_rsync() {
	need rsync
	new_vault
	it_mount alice
	mk_tree "$T/src"
	check rsync -aHX "$T/src/" "$T/ref-r/"
	check rsync -aHX "$T/src/" "$M/r/"
	check_same_tree "$T/ref-r" "$M/r" "rsync -aHX into the mount"
	it_remount
	# nothing to do the second time: sizes, times and links were kept
	check rsync -aHXi "$T/src/" "$M/r/"
	[[ -s $T/last.out ]] && {
		note_file "$T/last.out" 10
		fail "a second rsync found differences: $(head -n 2 "$T/last.out" | tr '\n' ' ')"
	}
	echo changed >>"$T/src/f4097"
	check rsync -aHXi "$T/src/" "$M/r/"
	check_eq "$(grep -c . "$T/last.out")" 1 "items rsync updated after one change"
	check rsync -aHX "$T/src/" "$T/ref-r/"
	check rsync -aHX --delete "$M/r/" "$T/out/"
	check_same_tree "$T/ref-r" "$T/out" "rsync out of the mount"
	# in-place updates and deletes
	check rsync -aHX --inplace --delete "$T/src/sub/" "$M/r/empty/"
	check_eq "$(find "$M/r/empty" -type f | wc -l)" "$(find "$T/src/sub" -type f | wc -l)" "files after rsync --inplace"
	it_umount
}
it_case prog_rsync

tc_prog_git() {
	need git
	new_vault
	it_mount alice
	export HOME=$T/home GIT_CONFIG_NOSYSTEM=1
	mkdir -p "$HOME"
	git config --global user.name "Test Person"
	git config --global user.email "test@example.org"
	git config --global init.defaultBranch main
	git config --global gc.auto 0
	local r=$M/repo
	check git init -q "$r"
	mk_tree "$r/tree"
	rm -rf "$r/tree/fifo" "$r/tree/empty" # git keeps neither
	check git -C "$r" add -A
	check git -C "$r" commit -q -m first
	local i
	for i in 1 2 3 4 5; do
		head -c $((i * 3000)) /dev/urandom >"$r/tree/gen$i"
		echo "line $i" >>"$r/tree/with space/text file.txt"
		check git -C "$r" add -A
		check git -C "$r" commit -q -m "commit $i"
	done
	check git -C "$r" mv tree/f4095 tree/moved
	check git -C "$r" rm -q tree/f1
	check git -C "$r" commit -q -m "move and remove"
	check git -C "$r" branch side
	check git -C "$r" tag v1
	check git -C "$r" gc -q --prune=now
	check git -C "$r" fsck --full --strict --no-progress
	check_eq "$(git -C "$r" rev-list --count HEAD)" 7 "commits in the repository"
	check_eq "$(git -C "$r" status --porcelain | wc -l)" 0 "dirty files after commits"
	local head
	head=$(git -C "$r" rev-parse HEAD)
	it_remount
	check git -C "$r" fsck --full --strict --no-progress
	check_eq "$(git -C "$r" rev-parse HEAD)" "$head" "HEAD after remount"
	check git clone -q "$r" "$T/clone"
	check_eq "$(git -C "$T/clone" rev-parse HEAD)" "$head" "HEAD of a clone out of the mount"
	check git -C "$T/clone" fsck --full --strict --no-progress
	check diff -r --no-dereference -x .git "$r" "$T/clone"
	# and a clone into the mount, with a commit on top
	check git clone -q --no-local "$T/clone" "$M/clone2"
	echo more >>"$M/clone2/tree/zero"
	check git -C "$M/clone2" commit -q -a -m "in the mount"
	check git -C "$M/clone2" fsck --full --strict --no-progress
	check git -C "$M/clone2" repack -a -d -q
	check git -C "$M/clone2" fsck --full --strict --no-progress
	it_umount
}
it_case prog_git

# sqlite_fill DB N: N rows in N/50 transactions.
sqlite_fill() {
	local db=$1 n=$2 i
	{
		echo "PRAGMA busy_timeout = 10000;"
		echo "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT, b BLOB);"
		echo "CREATE INDEX IF NOT EXISTS t_v ON t (v);"
		for ((i = 0; i < n; i++)); do
			((i % 50 == 0)) && echo "BEGIN;"
			echo "INSERT INTO t (v, b) VALUES ('row $i', randomblob($(((i * 37) % 3000))));"
			((i % 50 == 49)) && echo "COMMIT;"
		done
		((n % 50)) && echo "COMMIT;"
		echo "UPDATE t SET v = v || ' updated' WHERE id % 7 = 0;"
		echo "DELETE FROM t WHERE id % 11 = 0;"
	} | sqlite3 -batch "$db"
}

tc_prog_sqlite() {
	need sqlite3
	new_vault
	it_mount alice
	local db=$M/data.sqlite
	check sqlite_fill "$db" 2000
	check_eq "$(sqlite3 "$db" 'PRAGMA integrity_check;')" ok "integrity_check"
	local count
	count=$(sqlite3 "$db" 'SELECT count(*) FROM t;')
	check_eq "$count" $((2000 - 2000 / 11)) "rows after inserts and deletes"
	check sqlite3 "$db" 'VACUUM;'
	check_eq "$(sqlite3 "$db" 'PRAGMA integrity_check;')" ok "integrity_check after VACUUM"
	it_remount
	check_eq "$(sqlite3 "$db" 'PRAGMA integrity_check;')" ok "integrity_check after remount"
	check_eq "$(sqlite3 "$db" 'SELECT count(*) FROM t;')" "$count" "rows after remount"
	it_umount
}
it_case prog_sqlite

tc_prog_sqlite_wal() {
	need sqlite3
	new_vault
	it_mount alice
	local db=$M/wal.sqlite
	check_eq "$(sqlite3 "$db" 'PRAGMA journal_mode=WAL;')" wal "journal_mode=WAL"
	check sqlite_fill "$db" 1000
	# a writer and a reader at once (WAL's shared memory and locks)
	(
		for ((i = 0; i < 40; i++)); do
			sqlite3 "$db" "PRAGMA busy_timeout=10000; INSERT INTO t (v) VALUES ('concurrent $i');" || exit 1
		done
	) &
	local w=$! i
	for ((i = 0; i < 20; i++)); do
		sqlite3 "$db" 'PRAGMA busy_timeout=10000; SELECT count(*) FROM t;' >/dev/null ||
			fail "a reader failed while a writer was busy"
	done
	wait $w || fail "the concurrent writer failed"
	check_eq "$(sqlite3 "$db" 'PRAGMA integrity_check;')" ok "integrity_check (WAL)"
	local count
	count=$(sqlite3 "$db" 'SELECT count(*) FROM t;')
	check_eq "$count" $((1000 - 1000 / 11 + 40)) "rows (WAL)"
	[[ -e $db-wal ]] || note "no -wal file beside the database"
	it_remount
	check_eq "$(sqlite3 "$db" 'PRAGMA integrity_check;')" ok "integrity_check (WAL) after remount"
	check_eq "$(sqlite3 "$db" 'SELECT count(*) FROM t;')" "$count" "rows (WAL) after remount"
	check_eq "$(sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE);' | cut -d'|' -f1)" 0 "wal_checkpoint"
	it_umount
}
it_case prog_sqlite_wal

tc_prog_editor_save() {
	new_vault
	it_mount alice
	local doc=$M/doc.txt
	printf 'version 1\n' >"$doc"
	ln "$doc" "$M/doc.txt.orig" # what vim's backupcopy=no keeps
	local old_ino
	old_ino=$(stat -c %i "$doc")
	exec 8<"$doc" # a reader with the old version open
	# the save: a temp file beside it, fsync, rename over the original
	printf 'version 2\n' >"$M/.doc.txt.tmp-1234"
	po_expect ok fsync "$M/.doc.txt.tmp-1234"
	local tmp_ino
	tmp_ino=$(stat -c %i "$M/.doc.txt.tmp-1234")
	check mv -f "$M/.doc.txt.tmp-1234" "$doc"
	check_eq "$(cat "$doc")" "version 2" "content after save"
	check_eq "$(stat -c %i "$doc")" "$tmp_ino" "inode of the saved file (the temp file's)"
	[[ $tmp_ino != "$old_ino" ]] || fail "temp file got the original's inode"
	check_eq "$(cat <&8)" "version 1" "old version through an fd opened before the save"
	exec 8<&-
	check_eq "$(cat "$M/doc.txt.orig")" "version 1" "the old inode via its other link"
	check_eq "$(stat -c %h "$M/doc.txt.orig")" 1 "link count of the old inode"
	[[ -e $M/.doc.txt.tmp-1234 ]] && fail "temp file still there after the rename"
	# sed -i does the same dance
	check sed -i 's/2/3/' "$doc"
	check_eq "$(cat "$doc")" "version 3" "content after sed -i"
	# the office pattern: lock file, backup by rename, new file, remove backup
	echo "lock" >"$M/.~lock.doc.txt#"
	check mv "$doc" "$M/doc.txt.bak"
	printf 'version 4\n' >"$doc"
	check rm "$M/doc.txt.bak" "$M/.~lock.doc.txt#"
	it_remount
	check_eq "$(cat "$doc")" "version 4" "content after remount"
	check_eq "$(ls -A "$M" | LC_ALL=C sort | tr '\n' ' ')" "doc.txt doc.txt.orig " "entries after the saves"
	it_umount
}
it_case prog_editor_save
