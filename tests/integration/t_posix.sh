# tests/integration/t_posix.sh — POSIX through the mount, compared with the
# reference filesystem (/tmp, ext4 on the CI machines): the same operations run
# on both must give the same results and errors, and the results must survive
# an unmount.

# --- content -------------------------------------------------------------------

tc_posix_rw_offsets() {
	new_vault
	it_mount alice
	mkdir -p "$T/ref"
	mkfile_random "$T/rnd" 20000
	local d
	for d in "$M" "$T/ref"; do
		printf 'hello world\n' >"$d/f"
		printf 'XYZ' | dd of="$d/f" bs=1 seek=6 conv=notrunc status=none
		# 10000 bytes from offset 3000: across the 4096 and 8192 chunk edges
		dd if="$T/rnd" of="$d/f" bs=1000 count=10 seek=3 conv=notrunc status=none
		# one aligned chunk overwritten, then single bytes on the edges
		dd if="$T/rnd" of="$d/f" bs=4096 skip=2 count=1 seek=1 conv=notrunc status=none
		for off in 4095 4096 8191 8192 12999; do
			printf 'E' | dd of="$d/f" bs=1 seek=$off conv=notrunc status=none
		done
		# a read in the middle, across an edge
		dd if="$d/f" bs=1 skip=4090 count=12 status=none >"$d.mid"
	done
	check_same "$M/f" "$T/ref/f" "content after writes at offsets"
	check_same "$M.mid" "$T/ref.mid" "a read across a chunk edge"
	po_expect ok randio "$M/r" 42 1500 200000
	check cp "$M/r" "$T/r.copy"
	it_remount
	check_same "$M/f" "$T/ref/f" "content after remount"
	check_same "$M/r" "$T/r.copy" "randio file after remount"
	# and again with the page cache of a fresh mount, rewriting in place
	po_expect ok randio "$M/r2" 7 800 40000
	it_umount
}
it_case posix_rw_offsets

tc_posix_sparse() {
	new_vault
	it_mount alice
	mkdir -p "$T/ref"
	po_expect ok sparse "$M/s"
	po_expect ok sparse "$T/ref/s"
	check_same "$M/s" "$T/ref/s" "sparse file"
	check_eq "$(stat -c %s "$M/s")" 1048580 "size of a file written at 1 MiB + 4 bytes"
	# a sparse extension by truncate, then a write far out
	check truncate -s 64M "$M/big"
	printf 'FAR' | dd of="$M/big" bs=1 seek=$((80 << 20)) conv=notrunc status=none ||
		fail "write at 80 MiB failed"
	check_eq "$(stat -c %s "$M/big")" $(((80 << 20) + 3)) "size after a write at 80 MiB"
	check_eq "$(tail -c 3 "$M/big")" FAR "bytes at 80 MiB"
	check_eq "$(dd if="$M/big" bs=4096 skip=$((60 << 8)) count=16 status=none | tr -d '\0' | wc -c)" 0 \
		"non-zero bytes in the hole at 60 MiB"
	it_remount
	check_same "$M/s" "$T/ref/s" "sparse file after remount"
	check_eq "$(stat -c %s "$M/big")" $(((80 << 20) + 3)) "size at 80 MiB after remount"
	check_eq "$(tail -c 3 "$M/big")" FAR "bytes at 80 MiB after remount"
	it_umount
}
it_case posix_sparse

tc_posix_truncate() {
	new_vault
	it_mount alice
	mkdir -p "$T/ref"
	mkfile_random "$T/rnd" 10000
	local d
	for d in "$M" "$T/ref"; do
		cp "$T/rnd" "$d/t1"
		truncate -s 5000 "$d/t1"
		truncate -s 10000 "$d/t1" # bytes 5000.. must read as zeros, not the old data
		cp "$T/rnd" "$d/t2"
		truncate -s 4096 "$d/t2" # exactly one chunk
		truncate -s 4097 "$d/t2"
		cp "$T/rnd" "$d/t3"
		: >"$d/t3" # O_TRUNC
		printf 'abc' >>"$d/t3"
		cp "$T/rnd" "$d/t4"
		truncate -s 0 "$d/t4"
		truncate -s 3 "$d/t4"
		truncate -s 3M "$d/t5"
		printf 'end' >>"$d/t5"
		cp "$T/rnd" "$d/t6"
		truncate -s 8191 "$d/t6"
		printf 'Z' >>"$d/t6"
		cp "$T/rnd" "$d/t7"
		fallocate --posix -o 5000 -l 20000 "$d/t7" # glibc's posix_fallocate
	done
	local f
	for f in t1 t2 t3 t4 t5 t6 t7; do
		check_same "$M/$f" "$T/ref/$f" "$f after truncates"
		check_eq "$(stat -c %s "$M/$f")" "$(stat -c %s "$T/ref/$f")" "size of $f"
	done
	check_eq "$(dd if="$M/t1" bs=1000 skip=5 status=none | tr -d '\0' | wc -c)" 0 \
		"old bytes visible after truncate down and up"
	it_remount
	for f in t1 t2 t3 t4 t5 t6 t7; do
		check_same "$M/$f" "$T/ref/$f" "$f after remount"
	done
	it_umount
}
it_case posix_truncate

tc_posix_large_file() {
	new_vault
	it_mount alice
	mkfile_random "$T/big" $((24 << 20))
	check cp "$T/big" "$M/big"
	check_same "$M/big" "$T/big" "a 24 MiB file"
	# rewrite the middle in large unaligned blocks
	check dd if=/dev/urandom of="$T/big" bs=65537 count=40 seek=37 conv=notrunc status=none
	check dd if="$T/big" of="$M/big" bs=65537 count=40 skip=37 seek=37 conv=notrunc status=none
	check_same "$M/big" "$T/big" "a 24 MiB file after rewriting its middle"
	it_remount
	check_same "$M/big" "$T/big" "a 24 MiB file after remount"
	it_umount
}
it_case posix_large_file

tc_posix_concurrent() {
	new_vault
	it_mount alice
	# processes writing the same chunks of one file at once
	po_expect ok stripes "$M/striped" 4 400
	# and processes working on their own files at once
	local i pids=()
	for i in 1 2 3 4 5 6; do
		"$POSIXOPS" randio "$M/r$i" "$i" 600 100000 >"$T/randio.$i" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || fail "parallel randio $((i + 1)): $(cat "$T/randio.$((i + 1))")"
	done
	# readers while a writer appends (the file exists first: a reader that
	# ran before the writer's first open would see ENOENT, not a bug)
	: >"$M/log"
	(for i in $(seq 1 300); do echo "line $i"; done >>"$M/log") &
	local w=$!
	for i in 1 2 3 4 5; do
		cat "$M/log" >/dev/null || fail "reading a file being appended to"
	done
	wait $w
	check_eq "$(wc -l <"$M/log")" 300 "lines after concurrent append and reads"
	it_remount
	po_expect ok stripes "$M/striped2" 3 200
	it_umount
}
it_case posix_concurrent

ops_append() {
	echo one >>a
	echo two >>a
	printf 'three' >>a
	cat a
	"$POSIXOPS" append b
	cat b
	echo
	tree_dump
}

tc_posix_append() {
	new_vault
	it_mount alice
	on_both ops_append
	it_remount
	check_eq "$(cat "$M/cmp/a")" "$(printf 'one\ntwo\nthree')" "appended file after remount"
	check_eq "$(cat "$M/cmp/b")" "0123AABBBCDD" "O_APPEND file after remount"
	it_umount
}
it_case posix_append

# --- namespace -----------------------------------------------------------------------

ops_rename() {
	local p=$POSIXOPS
	echo a >a
	echo b >b
	mkdir d1 d2 e
	echo in >d1/f
	mkdir d1/sub
	echo deep >d1/sub/g
	echo x >e/x
	echo "over existing: $($p rename2 a b)"
	echo "onto itself: $($p rename2 b b)"
	echo "dir onto file: $($p rename2 d1 b)"
	echo "file onto dir: $($p rename2 b d2)"
	echo "dir onto non-empty dir: $($p rename2 d1 e)"
	echo "dir onto empty dir: $($p rename2 d1 d2)"
	echo "dir into itself: $($p rename2 d2 d2/sub/x)"
	echo "missing source: $($p rename2 missing z)"
	echo c >c
	echo "noreplace onto existing: $($p rename2 c b noreplace)"
	echo "noreplace onto new: $($p rename2 c n noreplace)"
	echo "exchange files: $($p rename2 n b exchange)"
	echo "exchange with missing: $($p rename2 n zz exchange)"
	echo "exchange file and dir: $($p rename2 b d2 exchange)"
	mkdir -p p/q
	echo r >p/q/r
	echo "across dirs: $($p rename2 p/q/r top)"
	echo "dir across dirs: $($p rename2 p/q q2)"
	echo "over a hard-linked name: $(ln top top2 && $p rename2 top2 top)"
	tree_dump
}

tc_posix_rename() {
	new_vault
	it_mount alice
	on_both ops_rename
	# a rename keeps the inode
	echo keep >"$M/keep"
	local i1 i2
	i1=$(stat -c %i "$M/keep")
	check mv "$M/keep" "$M/kept"
	i2=$(stat -c %i "$M/kept")
	check_eq "$i2" "$i1" "inode number after rename"
	(cd "$M/cmp" && tree_dump) >"$T/before"
	it_remount
	(cd "$M/cmp" && tree_dump) >"$T/after"
	diff -u "$T/before" "$T/after" >"$T/d" || {
		note_file "$T/d" 20
		fail "tree after renames differs after remount"
	}
	check_eq "$(cat "$M/kept")" keep "renamed file after remount"
	[[ -e $M/keep ]] && fail "old name exists after rename and remount"
	it_umount
}
it_case posix_rename

tc_posix_big_dir() {
	new_vault
	it_mount alice
	mkdir "$M/big"
	seq -f 'entry-with-a-longer-name-%05g.txt' 1 3000 >"$T/names"
	(cd "$M/big" && xargs touch <"$T/names") || fail "creating 3000 files"
	ls -1 -f "$M/big" | grep -v '^\.\.\?$' | LC_ALL=C sort >"$T/listed"
	LC_ALL=C sort "$T/names" >"$T/expected"
	diff -q "$T/expected" "$T/listed" >/dev/null || {
		diff "$T/expected" "$T/listed" | head -n 5 >>"$T/.ctx"
		fail "listing a 3000-entry directory: $(wc -l <"$T/listed") entries, expected 3000 (duplicates or gaps)"
	}
	# remove every other one while nothing else changes, then list again
	(cd "$M/big" && awk 'NR % 2 == 0' "$T/names" | xargs rm) || fail "removing 1500 files"
	check_eq "$(ls -1 "$M/big" | wc -l)" 1500 "entries after removing half"
	check_eq "$(find "$M/big" -type f | wc -l)" 1500 "find after removing half"
	it_remount
	ls -1 "$M/big" | LC_ALL=C sort >"$T/listed"
	awk 'NR % 2 == 1' "$T/names" | LC_ALL=C sort >"$T/expected"
	check_same "$T/expected" "$T/listed" "listing after remount"
	check rm -rf "$M/big"
	it_umount
}
it_case posix_big_dir

tc_posix_unlink_open() {
	new_vault
	it_mount alice
	po_expect ok unlinkopen "$M/u"
	check rm "$M/u"
	[[ -e $M/u ]] && fail "unlinked file still there"
	# a reader that keeps the file open while another process deletes it
	printf 'still here\n' >"$M/held"
	exec 7<"$M/held"
	check rm "$M/held"
	check_eq "$(cat <&7)" "still here" "read through an fd after another process unlinked the file"
	exec 7<&-
	it_remount
	[[ -e $M/u || -e $M/held ]] && fail "unlinked files reappeared after remount"
	check_eq "$(ls -A "$M" | wc -l)" 0 "entries left after unlinks"
	it_umount
}
it_case posix_unlink_open

ops_dirs() {
	local p=$POSIXOPS
	echo "mkdir: $($p mkdir a)"
	echo "mkdir existing: $($p mkdir a)"
	echo "mkdir child: $($p mkdir a/b)"
	echo "rmdir non-empty: $($p rmdir a)"
	echo "rmdir child: $($p rmdir a/b)"
	echo "rmdir: $($p rmdir a)"
	echo "rmdir missing: $($p rmdir a)"
	echo f >f
	echo "rmdir on a file: $($p rmdir f)"
	echo "mkdir under a file: $($p mkdir f/x)"
	echo "unlink a dir: $($p unlink .)"
	mkdir n n/1 n/2 n/3
	echo "nlink of a dir with 3 subdirs: $(stat -c %h n)"
	echo "nlink of an empty dir: $(stat -c %h n/1)"
	rmdir n/3
	echo "nlink after rmdir: $(stat -c %h n)"
	mkdir -p x/y/z && touch x/y/z/f x/y/g x/h
	rm -rf x
	echo "rm -rf: $?"
	tree_dump
}

tc_posix_dirs() {
	new_vault
	it_mount alice
	on_both ops_dirs
	check_eq "$(stat -c %h "$M")" "$(($(find "$M" -mindepth 1 -maxdepth 1 -type d | wc -l) + 2))" \
		"nlink of the root"
	it_remount
	check_eq "$(stat -c %h "$M/cmp/n")" 4 "nlink of a dir after remount"
	check_eq "$(ls "$M/cmp/n" | tr '\n' ' ')" "1 2 " "listing after remount"
	it_umount
}
it_case posix_dirs

ops_links() {
	local p=$POSIXOPS
	echo data >a
	echo "link: $($p link a b)"
	echo "nlink a b: $(stat -c %h a) $(stat -c %h b)"
	[[ $(stat -c %i a) == $(stat -c %i b) ]] && echo "same inode" || echo "different inodes"
	echo more >>b
	echo "a after write via b: $(cat a | tr '\n' ' ')"
	mkdir d
	echo "link a dir: $($p link d dl)"
	echo "link into a subdir: $($p link a d/c)"
	echo "link onto existing: $($p link a b)"
	echo "nlink: $(stat -c %h a)"
	echo "unlink a: $($p unlink a)"
	echo "nlink b: $(stat -c %h b) content: $(cat b | tr '\n' ' ')"
	echo "link missing: $($p link missing x)"
	chmod 640 b
	echo "mode via other name: $(stat -c %a d/c)"
	tree_dump
}

tc_posix_hardlinks() {
	new_vault
	it_mount alice
	on_both ops_links
	it_remount
	check_eq "$(stat -c %h "$M/cmp/b")" 2 "nlink after remount"
	check_eq "$(stat -c %i "$M/cmp/b")" "$(stat -c %i "$M/cmp/d/c")" "hard links share the inode after remount"
	check_eq "$(cat "$M/cmp/d/c" | tr '\n' ' ')" "data more " "content via the second link after remount"
	check rm "$M/cmp/b"
	check_eq "$(stat -c %h "$M/cmp/d/c")" 1 "nlink after removing one link"
	check_eq "$(cat "$M/cmp/d/c" | tr '\n' ' ')" "data more " "content via the last link"
	it_umount
}
it_case posix_hardlinks

ops_symlinks() {
	local p=$POSIXOPS long
	long=$(printf 'L%.0s' {1..1000})
	echo "symlink dangling: $($p symlink target l)"
	echo "readlink: $(readlink l)"
	echo "lstat: $(stat -c '%F %s' l)"
	echo "open dangling: $($p open l r)"
	echo t >target
	echo "through the link: $(cat l)"
	echo "open nofollow: $($p open l r,nofollow)"
	echo "symlink existing: $($p symlink x l)"
	echo "long target: $($p symlink "$long" ll) $(readlink ll | wc -c)"
	mkdir d
	echo dd >d/in
	ln -s d dl
	echo "via dir link: $(cat dl/in)"
	mkdir sub
	ln -s ../target sub/up
	echo "relative ..: $(cat sub/up)"
	ln -s "$PWD/target" abs
	echo "absolute: $(cat abs)"
	ln -s loop1 loop2
	ln -s loop2 loop1
	echo "loop: $($p open loop1 r)"
	echo "unlink link: $($p unlink l) target still: $(cat target)"
	tree_dump | grep -v -- "$PWD"
}

tc_posix_symlinks() {
	new_vault
	it_mount alice
	on_both ops_symlinks
	local long
	long=$(printf 'L%.0s' {1..1000})
	it_remount
	check_eq "$(readlink "$M/cmp/ll")" "$long" "a 1000-byte symlink target after remount"
	check_eq "$(readlink "$M/cmp/sub/up")" ../target "relative target after remount"
	check_eq "$(cat "$M/cmp/abs")" t "absolute link after remount"
	check_eq "$(stat -c %s "$M/cmp/dl")" 1 "lstat size of a symlink"
	it_umount
}
it_case posix_symlinks

tc_posix_fifo_socket() {
	new_vault
	it_mount alice
	po_expect ok fifo "$M/fifo"
	po_expect ok unixsock "$M/sock"
	# through the shell too, between two processes
	mkfifo "$M/p2" || fail "mkfifo"
	(echo "via shell" >"$M/p2") &
	local w=$!
	check_eq "$(timeout 20 cat "$M/p2")" "via shell" "read from a FIFO"
	wait $w
	it_remount
	[[ -p $M/fifo ]] || fail "FIFO is not a FIFO after remount: $(stat -c %F "$M/fifo" 2>&1)"
	check_eq "$(stat -c %a "$M/fifo")" 600 "FIFO mode after remount"
	it_umount
}
it_case posix_fifo_socket

ops_attrs() {
	touch f
	mkdir d
	ln -s f l
	chmod 640 f
	echo "chmod 640: $(stat -c %a f)"
	chmod 4755 f
	echo "chmod 4755: $(stat -c %a f)"
	chmod 0 f
	echo "chmod 0: $(stat -c %a f)"
	chmod 2751 d
	echo "chmod dir 2751: $(stat -c %a d)"
	chown 12345:54321 f
	echo "chown: $(stat -c %u:%g f)"
	chown :777 f
	echo "chgrp: $(stat -c %u:%g f)"
	touch -d '2001-02-03 04:05:06.123456789' f
	echo "touch -d: $(stat -c '%x | %y' f)"
	touch -a -d '2002-03-04 05:06:07.5' f
	echo "touch -a: $(stat -c '%x | %y' f)"
	touch -m -d '1999-12-31 23:59:59.999999999' f
	echo "touch -m: $(stat -c '%x | %y' f)"
	touch -d '1960-01-01 00:00:00' d
	echo "before 1970: $(stat -c '%y' d)"
	touch -h -d '2010-10-10 10:10:10.1' l
	echo "symlink times: $(stat -c '%y' l) target: $(stat -c '%y' f)"
	chmod 644 f
	local c1 c2
	c1=$(stat -c %Z f)
	sleep 1.1
	chmod 600 f
	c2=$(stat -c %Z f)
	((c2 > c1)) && echo "ctime moves on chmod" || echo "ctime did not move on chmod ($c1 $c2)"
	local m1
	m1=$(stat -c %Y f)
	echo x >>f
	(($(stat -c %Y f) > m1)) && echo "mtime moves on write" || echo "mtime did not move on write"
	touch f
	local now
	now=$(date +%s)
	(($(stat -c %Y f) >= now - 5 && $(stat -c %Y f) <= now + 5)) && echo "touch sets now" || echo "touch now: $(stat -c %Y f) vs $now"
}

tc_posix_attrs() {
	need_root
	new_vault
	it_mount alice
	on_both ops_attrs
	touch -d '2001-02-03 04:05:06.123456789' "$M/cmp/t"
	chown 12345:54321 "$M/cmp/t"
	chmod 2640 "$M/cmp/t"
	stat -c '%a %u %g %y' "$M/cmp/t" "$M/cmp/d" "$M/cmp/l" >"$T/before"
	it_remount
	stat -c '%a %u %g %y' "$M/cmp/t" "$M/cmp/d" "$M/cmp/l" >"$T/after"
	diff -u "$T/before" "$T/after" >"$T/d" || {
		note_file "$T/d" 10
		fail "modes/owners/times differ after remount"
	}
	it_umount
}
it_case posix_attrs

ops_names() {
	local p=$POSIXOPS n255 n256 u254 u256
	n255=$(printf 'n%.0s' {1..255})
	n256=$(printf 'n%.0s' {1..256})
	u254=$(printf 'å%.0s' {1..127})
	u256=$(printf 'å%.0s' {1..128})
	echo "255 bytes: $($p open "$n255" w,creat)"
	echo content >"$n255"
	echo "read: $(cat "$n255")"
	echo "256 bytes: $($p open "$n256" w,creat)"
	echo "mkdir 256: $($p mkdir "$n256")"
	echo "rename to 256: $($p rename2 "$n255" "$n256")"
	echo "symlink name 256: $($p symlink x "$n256")"
	echo "link name 256: $($p link "$n255" "$n256")"
	echo "254 bytes of å + a: $($p open "${u254}a" w,creat)"
	echo "256 bytes of å: $($p open "$u256" w,creat)"
	for n in 'with space' $'new\nline' '-dash' 'back\slash' 'star*?' 'tab	x' '.hidden' '..dots' 'ÅÄÖ åäö' '日本語' "it's" '"q"'; do
		printf '%s' "$n" >"$n" && echo "name ok: $(cat "$n")"
	done
	echo "dot: $($p open . r)"
	ls -A1b | LC_ALL=C sort
}

tc_posix_names() {
	new_vault
	it_mount alice
	on_both ops_names
	(cd "$M/cmp" && ls -A1b | LC_ALL=C sort) >"$T/before"
	it_remount
	(cd "$M/cmp" && ls -A1b | LC_ALL=C sort) >"$T/after"
	check_same "$T/before" "$T/after" "names after remount"
	check_eq "$(cat "$M/cmp/日本語")" "日本語" "unicode name after remount"
	it_umount
}
it_case posix_names

tc_posix_deep_path() {
	new_vault
	it_mount alice
	local comp p
	comp=$(printf 'd%.0s' {1..200})
	p=$M
	while ((${#p} + 201 + 64 < 4000)); do
		p=$p/$comp
	done
	check mkdir -p "$p"
	check bash -c "echo deep >'$p/file-at-the-bottom.txt'"
	check_eq "$(cat "$p/file-at-the-bottom.txt")" deep "file at the bottom (absolute path ${#p} bytes)"
	check_eq "$(find "$M" -name file-at-the-bottom.txt | wc -l)" 1 "find down the deep path"
	check mv "$p/file-at-the-bottom.txt" "$p/renamed.txt"
	# deeper than PATH_MAX from the root, by relative paths
	check bash -c "cd '$p' && mkdir -p $comp/$comp/$comp && cd $comp/$comp/$comp && echo deeper >f && cat f >/dev/null"
	it_remount
	check_eq "$(cat "$p/renamed.txt")" deep "deep file after remount"
	check bash -c "cd '$p' && cd $comp/$comp/$comp && [[ \$(cat f) == deeper ]]"
	check rm -rf "$M/$comp"
	check_eq "$(ls -A "$M" | wc -l)" 0 "entries after rm -rf of the deep tree"
	it_umount
}
it_case posix_deep_path

tc_posix_statfs() {
	new_vault
	it_mount alice
	check df "$M"
	check df -i "$M"
	check_eq "$(stat -f -c %l "$M")" 255 "maximum name length (statfs f_namelen)"
	local s
	s=$(po statfs "$M") || fail "statfs failed: $s"
	read -r bsize blocks bfree bavail files ffree namelen <<<"$s"
	((bsize > 0 && blocks > 0)) || fail "statfs: no block size or blocks: $s"
	((bfree <= blocks && bavail <= bfree)) || fail "statfs: free blocks inconsistent: $s"
	# it reflects the backing store (not made-up numbers): about the same free space
	local vb
	vb=$(stat -f -c '%a %S' "$V" | awk '{ print $1 * $2 }')
	awk -v a="$((bavail * bsize))" -v b="$vb" 'BEGIN { r = a / b; exit !(r > 0.5 && r < 2) }' ||
		fail "statfs free space $((bavail * bsize)) bytes far from the backing store's $vb"
	it_umount
}
it_case posix_statfs

tc_posix_fsync() {
	new_vault
	it_mount alice
	echo data >"$M/f"
	mkdir "$M/d"
	po_expect ok fsync "$M/f"
	po_expect ok fsync "$M/d"
	po_expect ok fsync "$M"
	check dd if=/dev/urandom of="$M/g" bs=4096 count=10 conv=fsync status=none
	check sync -f "$M/f"
	check sync "$M/g"
	po_expect ok writesync "$M/h" 70000 3
	po_expect ok verify "$M/h" 70000 3
	it_umount
}
it_case posix_fsync

ops_xattrs() {
	local p=$POSIXOPS big
	big=$(head -c 3000 /dev/zero | tr '\0' 'v')
	touch f
	mkdir d
	setfattr -n user.color -v blue f
	echo "get: $(getfattr -n user.color --only-values f)"
	setfattr -n user.bin -v 0x00ff10 f
	echo "binary: $(getfattr -e hex -n user.bin f | grep user.bin)"
	setfattr -n user.empty f
	echo "empty: $(getfattr -n user.empty f | grep user.empty)"
	setfattr -n user.big -v "$big" f
	echo "big: $(getfattr -n user.big --only-values f | md5sum)"
	setfattr -n user.color -v red f
	echo "replaced: $(getfattr -n user.color --only-values f)"
	echo "list:"
	"$p" listxattr f | LC_ALL=C sort
	echo "dump:"
	getfattr -d -m - f | LC_ALL=C sort
	setfattr -x user.color f
	echo "after remove: $($p getxattr f user.color)"
	echo "remove missing: $($p removexattr f user.color)"
	echo "get missing: $($p getxattr f user.missing)"
	setfattr -n user.on.dir -v dirvalue d
	echo "dir: $(getfattr -n user.on.dir --only-values d)"
	echo "list after remove:"
	"$p" listxattr f | LC_ALL=C sort
	cp --preserve=xattr f g
	echo "cp preserves: $(getfattr -n user.bin -e hex g | grep user.bin)"
}

tc_posix_xattrs() {
	need setfattr getfattr
	new_vault
	it_mount alice
	on_both ops_xattrs
	(cd "$M/cmp" && getfattr -R -d -e hex -m '^user\.' . | LC_ALL=C sort) >"$T/before"
	it_remount
	(cd "$M/cmp" && getfattr -R -d -e hex -m '^user\.' . | LC_ALL=C sort) >"$T/after"
	check_same "$T/before" "$T/after" "xattrs after remount"
	grep -q user.bin "$T/after" || fail "xattrs missing after remount"
	# security.* is not a namespace vaultfs keeps: neither set nor got, and
	# said so ("not supported", which ls -l remembers per filesystem)
	check_fails setfattr -n security.test -v x "$M/cmp/f"
	getfattr -n security.selinux "$M/cmp/f" 2>&1 | grep -q "Operation not supported" ||
		fail "getfattr security.selinux: $(getfattr -n security.selinux "$M/cmp/f" 2>&1 | head -n 1)"
	it_umount
}
it_case posix_xattrs

tc_posix_locks() {
	new_vault
	it_mount alice
	po_expect ok locks "$M/lockfile"
	# flock(1) as the editors' lock helpers use it
	touch "$M/f"
	flock "$M/f" sleep 3 &
	local holder=$!
	sleep 0.5
	if flock -n "$M/f" true; then
		fail "flock -n got a lock another process holds"
	fi
	wait $holder
	check flock -n "$M/f" true
	it_umount
}
it_case posix_locks

tc_posix_mmap() {
	new_vault
	it_mount alice
	po_expect ok mmap "$M/m"
	it_remount
	check_eq "$(dd if="$M/m" bs=1 skip=4094 count=6 status=none)" mapped "mmap write after remount"
	it_umount
}
it_case posix_mmap

tc_posix_owner() {
	need_root
	need setpriv
	new_vault
	it_mount alice -o allow_other
	echo x >"$M/root-file"
	check_eq "$(stat -c %u:%g "$M/root-file")" 0:0 "owner of a file created by root"
	check setpriv --regid=4321 --clear-groups touch "$M/gid-file"
	check_eq "$(stat -c %u:%g "$M/gid-file")" 0:4321 "owner of a file created by uid 0 gid 4321"
	mkdir "$M/pub"
	chmod 1777 "$M/pub"
	check setpriv --reuid=12345 --regid=12345 --clear-groups touch "$M/pub/user-file"
	check setpriv --reuid=12345 --regid=12345 --clear-groups mkdir "$M/pub/user-dir"
	check_eq "$(stat -c %u:%g "$M/pub/user-file")" 12345:12345 "owner of a file created by uid 12345"
	check_eq "$(stat -c %u:%g "$M/pub/user-dir")" 12345:12345 "owner of a dir created by uid 12345"
	check_eq "$(stat -c %a "$M/pub/user-file")" 644 "mode of a new file (umask 022)"
	# the sticky bit: another user cannot remove it
	check_fails setpriv --reuid=23456 --regid=23456 --clear-groups rm -f "$M/pub/user-file"
	[[ -e $M/pub/user-file ]] || fail "uid 23456 removed uid 12345's file from a sticky dir"
	it_remount
	check_eq "$(stat -c %u:%g "$M/pub/user-file")" 12345:12345 "owner after remount"
	it_umount
}
it_case posix_owner

# Set-ID bits go as they go on a disk filesystem (the daemon drops them itself:
# FUSE_HANDLE_KILLPRIV_V2, vaultfs/fuseio.h): a write, truncate or truncating
# open by someone without CAP_FSETID drops set-user-ID, and set-group-ID when
# group-executable; root's writes keep them; any chown drops them. The expected
# lines are what ext4 printed for the same commands.
tc_posix_setid() {
	need_root
	need setpriv
	new_vault
	it_mount alice -o allow_other
	mkdir "$M/s"
	chmod 755 "$M/s"
	local f u=(setpriv --reuid=12345 --regid=12345 --clear-groups)
	for f in a b c d e; do
		touch "$M/s/$f" && chown 12345:12345 "$M/s/$f" && chmod 6755 "$M/s/$f" || fail "setup $f"
	done
	chmod 6745 "$M/s/c"
	echo x >>"$M/s/a"
	check_eq "$(stat -c %a "$M/s/a")" 6755 "mode after root's write"
	"${u[@]}" sh -c 'echo x >>"$1"' sh "$M/s/b" || fail "user write"
	check_eq "$(stat -c %a "$M/s/b")" 755 "mode after the owner's write"
	"${u[@]}" sh -c 'echo x >>"$1"' sh "$M/s/c" || fail "user write"
	check_eq "$(stat -c %a "$M/s/c")" 2745 "mode after a write (set-group-ID without group-execute stays)"
	chown 12345:12345 "$M/s/d"
	check_eq "$(stat -c %a "$M/s/d")" 755 "mode after root's chown"
	# the same through an open descriptor: a chown that keeps the owner waits
	# in memory with the open file's times, but not when it drops set-ID bits
	touch "$M/s/f" && chown 12345:12345 "$M/s/f" && chmod 6755 "$M/s/f" || fail "setup f"
	perl -e 'open(my $fh, ">>", $ARGV[0]) or die "open: $!\n"; chown(12345, 12345, $fh) or die "fchown: $!\n"' \
		"$M/s/f" || fail "fchown to the same owner"
	check_eq "$(stat -c %a "$M/s/f")" 755 "mode after root's fchown to the same owner"
	"${u[@]}" truncate -s 0 "$M/s/e" || fail "user truncate"
	check_eq "$(stat -c %a "$M/s/e")" 755 "mode after the owner's truncate"
	chmod 6755 "$M/s/e"
	"${u[@]}" sh -c ': >"$1"' sh "$M/s/e" || fail "user O_TRUNC"
	check_eq "$(stat -c %a "$M/s/e")" 755 "mode after the owner's truncating open"
	chmod 6755 "$M/s/e"
	truncate -s 5 "$M/s/e"
	check_eq "$(stat -c %a "$M/s/e")" 6755 "mode after root's truncate"
	# a drop by a write or a truncating open is a recorded change of mode
	records "$T/r.json"
	expect_record "$T/r.json" '.op == "chmod" and .path == "/s/b" and .uid == 12345 and (.detail | contains("set-id dropped by a write"))' \
		"the drop of b's set-ID bits by the owner's write"
	expect_record "$T/r.json" '.op == "chmod" and .path == "/s/e" and (.detail | contains("set-id dropped by a truncating open"))' \
		"the drop of e's set-ID bits by a truncating open"
	it_remount
	check_eq "$(stat -c %a "$M/s/a" "$M/s/b" "$M/s/c" "$M/s/d" "$M/s/e" "$M/s/f" | tr '\n' ' ')" \
		"6755 755 2745 755 6755 755 " "modes after remount"
	it_umount
}
it_case posix_setid

tc_posix_setgid_dir() {
	need_root
	new_vault
	it_mount alice
	mkdir "$M/shared"
	chgrp 777 "$M/shared"
	chmod 2775 "$M/shared"
	touch "$M/shared/f"
	mkdir "$M/shared/sub"
	check_eq "$(stat -c %g "$M/shared/f")" 777 "gid of a file in a setgid dir (ext4: the dir's)"
	check_eq "$(stat -c %g:%a "$M/shared/sub")" 777:2755 "gid and mode of a dir in a setgid dir"
	it_umount
}
it_case posix_setgid_dir

tc_posix_enospc() {
	need_root
	# the vault on a small filesystem that fills up
	mkdir -p "$T/small"
	mount -t tmpfs -o size=6m tmpfs "$T/small" || skip "cannot mount a tmpfs"
	V=$T/small/vault
	cp -a "$IT_TEMPLATE/vault" "$V" || fail "cannot copy the template vault"
	head -c $((1 << 20)) /dev/zero >"$T/small/filler" # freed later, outside the vault
	it_mount alice
	mkfile_random "$T/keep" 300000
	check cp "$T/keep" "$M/keep"
	po_expect ok fsync "$M/keep"
	mkfile_random "$T/huge" $((8 << 20))
	cp "$T/huge" "$M/huge" 2>"$T/err" && fail "writing 8 MiB into a vault on a 6 MiB filesystem succeeded"
	grep -q 'No space left on device' "$T/err" ||
		fail "full backing store: '$(head -n 1 "$T/err")', expected No space left on device"
	kill -0 "$DPID" 2>/dev/null || fail "the daemon died when the backing store filled up"
	# while full: a read may be refused (its record cannot be written), never wrong
	local out rc
	out=$("$POSIXOPS" readcmp "$M/keep" "$T/keep")
	rc=$?
	((rc == 2)) && fail "reading while the disk is full returned wrong data: $out"
	((rc == 0)) || note "while full, reading an existing file: $out"
	rm -f "$M/huge" 2>"$T/err" || note "while full, deleting the partial file: $(cat "$T/err")"
	# space freed on the backing store: everything works again, nothing lost
	rm -f "$T/small/filler"
	check_same "$M/keep" "$T/keep" "a file written before the disk filled"
	check rm -f "$M/huge"
	check bash -c "echo after >'$M/after'"
	it_remount
	check_same "$M/keep" "$T/keep" "the earlier file after remount"
	check_eq "$(cat "$M/after")" after "a file written after space was freed"
	it_umount
	check_eq "$(sqlite3 "$V/vault.db" 'PRAGMA integrity_check;' 2>&1)" ok "vault.db after the disk filled"
	umount "$T/small" || umount -l "$T/small"
}
it_case posix_enospc

tc_posix_modes_other_uid() {
	need_root
	need setpriv
	new_vault
	it_mount alice -o allow_other
	local tok
	tok=$(token secret)
	echo "$tok" >"$M/private"
	chmod 600 "$M/private"
	echo public >"$M/public"
	chmod 644 "$M/public"
	local as=(setpriv --reuid=12345 --regid=12345 --clear-groups)
	# it can see the tree (so the refusal below is the mode bits, not the path)
	check "${as[@]}" stat "$M/private"
	"${as[@]}" cat "$M/private" >"$T/out" 2>"$T/err" &&
		fail "uid 12345 read root's 0600 file"
	grep -q "$tok" "$T/out" && fail "uid 12345 got the content of root's 0600 file"
	grep -q 'Permission denied' "$T/err" || fail "reading root's 0600 file as uid 12345: $(cat "$T/err")"
	check_fails "${as[@]}" sh -c "echo x >>'$M/public'"
	check_fails "${as[@]}" chmod 666 "$M/private"
	mkdir "$M/rootdir"
	chmod 755 "$M/rootdir"
	check_fails "${as[@]}" touch "$M/rootdir/newfile"
	check_fails "${as[@]}" rm -f "$M/public"
	check_eq "$("${as[@]}" cat "$M/public" 2>&1)" public "uid 12345 reading a 0644 file"
	it_umount
}
it_case posix_modes_other_uid
