# tests/integration/t_tamper.sh — guarantee 2 from the attacker's side: with
# the vault unmounted, change the stored bytes (docs/format.md §7: 64-byte
# header, chunk i of 4096+40 bytes at 64 + i*4136) or vault.db rows, remount,
# read. Every change must make the read fail (EIO, plus an "integrity"
# incident), and nothing wrong may ever come back as data: bytes returned
# before the failure must equal the original's.

HDR=64
CHUNK=4136

# tamper_setup: files A, B, C (12388 bytes = 3 full chunks + 100) to tamper
# with and K (5000 bytes) as the untouched control; BLOB_A.. are their blobs.
tamper_setup() {
	new_vault
	it_mount alice
	local f b
	for f in A B C K; do
		if [[ $f == K ]]; then
			mkfile_random "$T/$f.orig" 5000
		else
			mkfile_random "$T/$f.orig" 12388
		fi
		objects >"$T/before"
		check cp "$T/$f.orig" "$M/$f"
		po_expect ok fsync "$M/$f"
		b=$(new_blob_since "$T/before")
		if [[ -z $b || $(grep -c '' <<<"$b") != 1 ]]; then
			note "objects: $(objects | tr '\n' ' ')"
			fail "creating $f added $(grep -c . <<<"$b") blobs under objects/, expected 1"
		fi
		printf -v "BLOB_$f" '%s' "$b"
	done
	it_umount
	# the layout is the documented one
	local size magic name idhex
	size=$(stat -c %s "$BLOB_A")
	((size >= HDR + 3 * CHUNK + 100 + 40)) || fail "blob of a 12388-byte file is $size bytes, format says >= $((HDR + 3 * CHUNK + 140))"
	((size <= HDR + 4 * CHUNK)) || fail "blob of a 12388-byte file is $size bytes, format says <= $((HDR + 4 * CHUNK))"
	magic=$(head -c 4 "$BLOB_A")
	check_eq "$magic" VFSO "blob magic"
	name=$(basename "$(dirname "$BLOB_A")")$(basename "$BLOB_A")
	idhex=$(od -An -tx1 -j 8 -N 16 "$BLOB_A" | tr -d ' \n')
	check_eq "$idhex" "${name,,}" "object id in the header vs the blob's name"
	check_eq "$(od -An -tu8 -j 24 -N 8 "$BLOB_A" | tr -d ' ')" 12388 "plaintext size in the header"
}

# chunk_off I [BYTE]: offset of chunk I (plus BYTE) in a blob.
chunk_off() {
	echo $((HDR + $1 * CHUNK + ${2:-0}))
}

# expect_eio FILE ORIG WHAT: reading FILE fails with EIO; what came back before is right.
expect_eio() {
	local f=$1 orig=$2 what=$3 out rc
	cat "$f" >"$T/cat.out" 2>"$T/cat.err"
	rc=$?
	if ((rc == 0)); then
		cmp -s "$T/cat.out" "$orig" && fail "$what: cat succeeded and returned the original content (not detected)"
		fail "$what: cat succeeded and returned WRONG DATA"
	fi
	grep -q 'Input/output error' "$T/cat.err" ||
		fail "$what: cat failed with '$(head -c 200 "$T/cat.err")', expected Input/output error"
	cmp -s -n "$(stat -c %s "$T/cat.out")" "$T/cat.out" "$orig" ||
		fail "$what: cat returned wrong bytes before failing"
	out=$("$POSIXOPS" readcmp "$f" "$orig")
	rc=$?
	((rc == 2)) && fail "$what: WRONG DATA returned by read: $out"
	((rc == 0)) && fail "$what: a second read of the tampered file succeeded"
	[[ $out == EIO* ]] || fail "$what: read failed with '$out', expected EIO"
	return 0
}

# expect_no_data FILE ORIG WHAT: reading FILE fails (any errno); never wrong data.
expect_no_data() {
	local f=$1 orig=$2 what=$3 out rc
	out=$("$POSIXOPS" readcmp "$f" "$orig")
	rc=$?
	((rc == 2)) && fail "$what: WRONG DATA returned by read: $out"
	((rc == 0)) && fail "$what: the read succeeded"
	[[ $out =~ ^(EIO|EACCES|EPERM|ENOKEY) ]] || fail "$what: read failed with '$out'"
	return 0
}

# expect_intact FILE ORIG WHAT
expect_intact() {
	local out
	out=$("$POSIXOPS" readcmp "$1" "$2") || fail "$3: $out"
}

# expect_integrity_incidents PATH...: an integrity incident for each path.
expect_integrity_incidents() {
	incidents "$T/inc.json"
	local p
	for p in "$@"; do
		# op "read" per the contract; a header that fails its check at open
		# may be recorded by the open
		expect_record "$T/inc.json" "(.op == \"read\" or .op == \"open\") and .path == \"$p\" and .outcome == \"integrity\" and .errno == \"EBADMSG\" and .user == \"alice\"" \
			"integrity failure reading $p"
	done
}

tc_tamper_flip_byte() {
	tamper_setup
	flip_byte "$BLOB_A" "$(chunk_off 1 2000)" # ciphertext
	flip_byte "$BLOB_B" "$(chunk_off 2 5)"    # nonce
	flip_byte "$BLOB_C" $(($(stat -c %s "$BLOB_C") - 1)) # last byte (tag of the last chunk)
	it_mount alice
	expect_eio "$M/A" "$T/A.orig" "flipped ciphertext byte in chunk 1"
	expect_eio "$M/B" "$T/B.orig" "flipped nonce byte in chunk 2"
	expect_eio "$M/C" "$T/C.orig" "flipped last byte of the blob"
	expect_intact "$M/K" "$T/K.orig" "untouched control file"
	it_umount
	expect_integrity_incidents /A /B /C
}
it_case tamper_flip_byte

tc_tamper_header() {
	tamper_setup
	flip_byte "$BLOB_A" 24 # plaintext size
	flip_byte "$BLOB_B" 40 # header MAC
	flip_byte "$BLOB_C" 10 # object id
	it_mount alice
	expect_eio "$M/A" "$T/A.orig" "flipped size byte in the header"
	expect_eio "$M/B" "$T/B.orig" "flipped MAC byte in the header"
	expect_eio "$M/C" "$T/C.orig" "flipped object-id byte in the header"
	expect_intact "$M/K" "$T/K.orig" "untouched control file"
	it_umount
	expect_integrity_incidents /A /B /C
}
it_case tamper_header

tc_tamper_swap_chunks() {
	tamper_setup
	cp "$BLOB_A" "$T/a.blob"
	copy_range "$T/a.blob" "$(chunk_off 0)" "$BLOB_A" "$(chunk_off 1)" $CHUNK
	copy_range "$T/a.blob" "$(chunk_off 1)" "$BLOB_A" "$(chunk_off 0)" $CHUNK
	cp "$BLOB_B" "$T/b.blob"
	copy_range "$T/b.blob" "$(chunk_off 1)" "$BLOB_B" "$(chunk_off 2)" $CHUNK
	copy_range "$T/b.blob" "$(chunk_off 2)" "$BLOB_B" "$(chunk_off 1)" $CHUNK
	cmp -s "$T/a.blob" "$BLOB_A" && fail "setup: swapping chunks changed nothing"
	it_mount alice
	expect_eio "$M/A" "$T/A.orig" "chunks 0 and 1 swapped"
	expect_eio "$M/B" "$T/B.orig" "chunks 1 and 2 swapped"
	expect_intact "$M/C" "$T/C.orig" "untouched file"
	it_umount
	expect_integrity_incidents /A /B
}
it_case tamper_swap_chunks

tc_tamper_chunk_from_other_file() {
	tamper_setup
	copy_range "$BLOB_B" "$(chunk_off 1)" "$BLOB_A" "$(chunk_off 1)" $CHUNK # same index
	copy_range "$BLOB_K" "$(chunk_off 0)" "$BLOB_C" "$(chunk_off 2)" $CHUNK # other index
	it_mount alice
	expect_eio "$M/A" "$T/A.orig" "chunk 1 copied from another file's chunk 1"
	expect_eio "$M/C" "$T/C.orig" "chunk 2 copied from another file's chunk 0"
	expect_intact "$M/B" "$T/B.orig" "the file the chunk came from"
	expect_intact "$M/K" "$T/K.orig" "the other file the chunk came from"
	it_umount
	expect_integrity_incidents /A /C
}
it_case tamper_chunk_from_other_file

tc_tamper_swap_blobs() {
	tamper_setup
	mv "$BLOB_A" "$T/tmp.blob"
	mv "$BLOB_B" "$BLOB_A"
	mv "$T/tmp.blob" "$BLOB_B"
	it_mount alice
	expect_eio "$M/A" "$T/A.orig" "A's blob replaced by B's"
	expect_eio "$M/B" "$T/B.orig" "B's blob replaced by A's"
	expect_intact "$M/C" "$T/C.orig" "untouched file"
	it_umount
	expect_integrity_incidents /A /B
}
it_case tamper_swap_blobs

tc_tamper_truncate_blob() {
	tamper_setup
	truncate -s "$(chunk_off 3)" "$BLOB_A"    # the last chunk dropped
	truncate -s "$(chunk_off 1 2000)" "$BLOB_B" # cut in the middle of chunk 1
	truncate -s $HDR "$BLOB_C"                 # header only
	it_mount alice
	check_eq "$(stat -c %s "$M/A")" 12388 "size of a file whose blob lost its last chunk (from the db)"
	expect_eio "$M/A" "$T/A.orig" "blob without its last chunk"
	expect_eio "$M/B" "$T/B.orig" "blob cut in the middle of chunk 1"
	expect_eio "$M/C" "$T/C.orig" "blob cut to its header"
	expect_intact "$M/K" "$T/K.orig" "untouched control file"
	it_umount
	expect_integrity_incidents /A /B /C
}
it_case tamper_truncate_blob

tc_tamper_zeroed_chunk() {
	# a zeroed chunk must not pass for a hole
	tamper_setup
	head -c $CHUNK /dev/zero >"$T/zeros"
	copy_range "$T/zeros" 0 "$BLOB_A" "$(chunk_off 1)" $CHUNK
	local sz
	sz=$(stat -c %s "$BLOB_B")
	head -c $((sz - HDR)) /dev/zero >"$T/zeros-b"
	copy_range "$T/zeros-b" 0 "$BLOB_B" $HDR $((sz - HDR))
	it_mount alice
	expect_eio "$M/A" "$T/A.orig" "chunk 1 zeroed"
	expect_eio "$M/B" "$T/B.orig" "every chunk zeroed"
	expect_intact "$M/K" "$T/K.orig" "untouched control file"
	it_umount
	expect_integrity_incidents /A /B
}
it_case tamper_zeroed_chunk

tc_tamper_extra_bytes() {
	# bytes past the header's size are never returned (format §7)
	tamper_setup
	head -c $((2 * CHUNK)) /dev/urandom >>"$BLOB_A"
	it_mount alice
	check_eq "$(stat -c %s "$M/A")" 12388 "size of a file whose blob grew"
	expect_intact "$M/A" "$T/A.orig" "blob with extra bytes after the last chunk"
	it_umount
}
it_case tamper_extra_bytes

# node_of BLOB: the nodes.ino whose object_id names BLOB.
node_of() {
	local name hex
	name=$(basename "$(dirname "$1")")$(basename "$1")
	hex=${name^^}
	sql "SELECT ino FROM nodes WHERE upper(hex(object_id)) = '$hex' OR upper(object_id) = '$hex';"
}

tc_tamper_swap_file_keys() {
	tamper_setup
	local ia ib
	ia=$(node_of "$BLOB_A") ib=$(node_of "$BLOB_B")
	[[ -n $ia && -n $ib ]] || fail "cannot find the nodes rows of A and B by object_id ($ia, $ib)"
	local ka kb
	ka=$(sql "SELECT hex(file_key) FROM nodes WHERE ino = $ia;")
	kb=$(sql "SELECT hex(file_key) FROM nodes WHERE ino = $ib;")
	check sql "CREATE TEMP TABLE k AS SELECT ino, file_key FROM nodes WHERE ino IN ($ia, $ib);
		UPDATE nodes SET file_key = (SELECT file_key FROM k WHERE k.ino != nodes.ino) WHERE ino IN ($ia, $ib);"
	check_eq "$(sql "SELECT hex(file_key) FROM nodes WHERE ino = $ia;")" "$kb" "setup: A has B's key"
	check_eq "$(sql "SELECT hex(file_key) FROM nodes WHERE ino = $ib;")" "$ka" "setup: B has A's key"
	[[ -n $ka && $ka != "$kb" ]] || fail "setup: A and B have no distinct file keys"
	it_mount alice
	expect_no_data "$M/A" "$T/A.orig" "A with B's wrapped file key"
	expect_no_data "$M/B" "$T/B.orig" "B with A's wrapped file key"
	expect_intact "$M/C" "$T/C.orig" "untouched file"
	it_umount
}
it_case tamper_swap_file_keys

tc_tamper_level_relabel() {
	need setfattr
	new_vault
	it_mount alice
	mkdir "$M/hr"
	check setfattr -n user.vault.level -v 2 "$M/hr"
	local tok
	tok=$(token LEVEL2)
	{
		printf '%s\n' "$tok"
		head -c 6000 /dev/urandom
	} >"$T/S.orig"
	objects >"$T/before"
	check cp "$T/S.orig" "$M/hr/S"
	po_expect ok fsync "$M/hr/S"
	local blob ino
	blob=$(new_blob_since "$T/before")
	it_umount
	ino=$(node_of "$blob")
	[[ -n $ino ]] || fail "cannot find the nodes row of /hr/S"
	check_eq "$(sql "SELECT level FROM nodes WHERE ino = $ino;")" 2 "setup: level of /hr/S in vault.db"
	check sql "UPDATE nodes SET level = 0 WHERE ino = $ino;"
	# bob holds levels 0 and 1 only: the relabelled file must stay closed to him
	it_mount bob
	cat "$M/hr/S" >"$T/out" 2>"$T/err" && fail "bob read a level-2 file relabelled 0 in vault.db"
	grep -q "$tok" "$T/out" && fail "bob got level-2 content after relabelling"
	expect_no_data "$M/hr/S" "$T/S.orig" "level-2 file relabelled 0, read by bob"
	it_umount
	# alice holds every level: she may be refused, or get exactly the original
	it_mount alice
	local out rc
	out=$("$POSIXOPS" readcmp "$M/hr/S" "$T/S.orig")
	rc=$?
	((rc == 2)) && fail "alice got WRONG DATA from the relabelled file: $out"
	it_umount
}
it_case tamper_level_relabel

# --- the database's schema (docs/format.md §8) --------------------------------
# Someone who can write vault.db plants a trigger, an index or a view, or drops
# a guard: every program must refuse the vault with one line naming the object,
# before it asks for a passphrase or changes anything.

# expect_schema_refused WHY: vaultfs (mount), vaultfs-keytool (a read-only
# listing and an administrator's change) and vaultfs-meta all refuse $V with
# exit 1 and the one line "…vault.db: WHY in the database schema (tampered?)…";
# nothing is mounted and no record is added.
expect_schema_refused() {
	local why=$1 n what
	local line="vault.db: $why in the database schema (tampered?)"
	n=$(sql "SELECT count(*) FROM access_log;")
	mkdir -p "$M"
	mount_attempt bob "$PW/bob"
	is_mounted "$M" && fail "vaultfs mounted a vault with $why"
	check_eq "$RC" 1 "vaultfs exit code for a vault with $why"
	check_one_line "$T/err" "vaultfs on a vault with $why"
	grep -qF "$line" "$T/err" || fail "vaultfs: '$(cat "$T/err")' does not say '$line'"
	for what in list grant meta; do
		case $what in
		list) kt --vault "$V" list users >"$T/out" 2>"$T/err" ;;
		grant) kt --vault "$V" --as admin --passphrase-file "$PW/admin" grant bob staff \
			>"$T/out" 2>"$T/err" ;;
		meta) meta_as audrey log --json >"$T/out" 2>"$T/err" ;;
		esac
		RC=$?
		check_eq "$RC" 1 "exit code of $what on a vault with $why"
		check_one_line "$T/err" "$what on a vault with $why"
		grep -qF "$line" "$T/err" || fail "$what: '$(cat "$T/err")' does not say '$line'"
		[[ -s $T/out ]] && fail "$what printed on stdout for a vault with $why: $(head -c 200 "$T/out")"
	done
	check_eq "$(sql "SELECT count(*) FROM access_log;")" "$n" "records after the refused opens"
	check_eq "$(sql "SELECT count(*) FROM grants g JOIN users u ON u.id = g.user_id JOIN roles r ON r.id = g.role_id WHERE u.name = 'bob' AND r.name = 'staff';")" 0 \
		"bob's grant of staff, refused"
}

# expect_vault_opens: the same programs work on $V (no false alarm).
expect_vault_opens() {
	it_mount bob
	check touch "$M/bob-was-here"
	it_umount
	check kt --vault "$V" list users
	records "$T/rec.json"
	expect_record "$T/rec.json" '.op == "create" and .user == "bob" and .path == "/bob-was-here"' \
		"bob's create"
}

tc_tamper_schema_trigger() {
	new_vault
	expect_vault_opens
	# bob's records silently dropped from now on
	check sql "CREATE TRIGGER drop_bo BEFORE INSERT ON access_log WHEN new.user = 'bob'
		BEGIN SELECT RAISE(IGNORE); END;"
	check_eq "$(sql "BEGIN; INSERT INTO access_log (time_ns, user, op) VALUES (1, 'bob', 'x');
		SELECT count(*) FROM access_log WHERE time_ns = 1; ROLLBACK;")" 0 \
		"setup: the planted trigger drops bob's records"
	expect_schema_refused "unexpected trigger 'drop_bo'"
	# taken out again, the vault opens as before
	check sql "DROP TRIGGER drop_bo;"
	expect_vault_opens
}
it_case tamper_schema_trigger

tc_tamper_schema_index_view() {
	new_vault
	check sql "CREATE INDEX access_log_by_user ON access_log (user);"
	expect_schema_refused "unexpected index 'access_log_by_user'"
	check sql "DROP INDEX access_log_by_user; CREATE VIEW everyone AS SELECT name FROM users;"
	expect_schema_refused "unexpected view 'everyone'"
	check sql "DROP VIEW everyone;"
	expect_vault_opens
}
it_case tamper_schema_index_view

tc_tamper_schema_guard_dropped() {
	new_vault
	# what someone does before editing a record
	check sql "DROP TRIGGER access_log_no_update;"
	expect_schema_refused "missing trigger 'access_log_no_update'"
	# made again in a weaker form: the user column may change
	check sql "CREATE TRIGGER access_log_no_update BEFORE UPDATE OF id ON access_log
		BEGIN SELECT RAISE(ABORT, 'access records are append-only'); END;"
	expect_schema_refused "altered trigger 'access_log_no_update'"
}
it_case tamper_schema_guard_dropped
# --- rollback of one blob (docs/format.md §7: the write counter) --------------

# header_counter BLOB: the write counter in a blob's header (format 2, bytes 32..39).
header_counter() {
	check_eq "$(od -An -tu1 -j 4 -N 1 "$1" | tr -d ' ')" 2 "format version of $1"
	od -An -tu8 -j 32 -N 8 "$1" | tr -d ' '
}

# node_counter INO: the write counter the vault expects for a node (unmounted).
node_counter() {
	sql "SELECT write_counter FROM nodes WHERE ino = $1;"
}

# expect_not_old FILE OLD WHAT: nothing of OLD's content comes back from FILE.
expect_not_old() {
	cat "$1" >"$T/cat.out" 2>/dev/null
	if [[ -s $T/cat.out ]] && cmp -s -n 4096 "$T/cat.out" "$2"; then
		fail "$3: the old content came back"
	fi
	return 0
}

tc_tamper_rollback_blob() {
	# A and B written, their blobs copied, written again, closed; the old
	# copies put back: same object id, same key, authentic header and chunks.
	new_vault
	it_mount alice
	local f
	for f in A B K; do
		mkfile_random "$T/$f.v1" 12388
		objects >"$T/before"
		check cp "$T/$f.v1" "$M/$f"
		printf -v "BLOB_$f" '%s' "$(new_blob_since "$T/before")"
	done
	it_umount
	cp "$BLOB_A" "$T/A.blob.old"
	cp "$BLOB_B" "$T/B.blob.old"
	local ca ia ib
	ca=$(header_counter "$BLOB_A")
	ia=$(node_of "$BLOB_A") ib=$(node_of "$BLOB_B")
	check_eq "$(node_counter "$ia")" "$ca" "setup: A's node expects its header's counter"
	it_mount alice
	# A: rewritten in place, same size: only the counter tells the versions apart
	mkfile_random "$T/A.v2" 12388
	check dd if="$T/A.v2" of="$M/A" bs=12388 count=1 conv=notrunc status=none
	# B: replaced through a truncating open, as editors and cp do
	mkfile_random "$T/B.v2" 12388
	check cp "$T/B.v2" "$M/B"
	expect_intact "$M/A" "$T/A.v2" "A after its rewrite"
	it_umount
	check_eq "$(stat -c %s "$BLOB_A")" "$(stat -c %s "$T/A.blob.old")" "setup: A's blob kept its length"
	(($(header_counter "$BLOB_A") > ca)) || fail "A's header counter did not grow ($ca)"
	check_eq "$(node_counter "$ia")" "$(header_counter "$BLOB_A")" "A's node after the rewrite"
	check_eq "$(node_counter "$ib")" "$(header_counter "$BLOB_B")" "B's node after the rewrite"
	cp "$T/A.blob.old" "$BLOB_A"
	cp "$T/B.blob.old" "$BLOB_B"
	it_mount alice
	expect_not_old "$M/A" "$T/A.v1" "A's blob rolled back"
	expect_eio "$M/A" "$T/A.v2" "A's blob rolled back to its previous version"
	expect_not_old "$M/B" "$T/B.v1" "B's blob rolled back"
	expect_eio "$M/B" "$T/B.v2" "B's blob rolled back to its previous version"
	expect_intact "$M/K" "$T/K.v1" "untouched control file"
	# still refused on a second mount: nothing repaired the row down to the old blob
	it_remount alice
	expect_eio "$M/A" "$T/A.v2" "A's rolled-back blob after a remount"
	it_umount
	expect_integrity_incidents /A /B
}
it_case tamper_rollback_blob

tc_tamper_rollback_honest() {
	# No false alarm: many rewrites through every path that changes content
	# (in-place writes, truncating opens, truncate(2) of a closed file,
	# ftruncate of an open one, appends, two handles at once, rename over),
	# with remounts in between.
	new_vault
	it_mount alice
	local i
	mkfile_random "$T/A.cur" 9000
	check cp "$T/A.cur" "$M/A"
	for i in $(seq 1 40); do
		case $((i % 6)) in
		0)
			mkfile_random "$T/A.cur" $((i * 311 % 20000 + 1))
			check cp "$T/A.cur" "$M/A"
			;;
		1)
			mkfile_random "$T/x" 5000
			check dd if="$T/x" of="$M/A" bs=5000 count=1 conv=notrunc status=none
			check dd if="$T/x" of="$T/A.cur" bs=5000 count=1 conv=notrunc status=none
			;;
		2)
			po_expect ok truncate "$M/A" $((i * 97))
			check truncate -s $((i * 97)) "$T/A.cur"
			;;
		3)
			# two handles, one writing, one appending, then ftruncate by a third
			exec 5<>"$M/A" 6>>"$M/A"
			printf 'head%03d' "$i" >&5
			printf 'tail%03d' "$i" >&6
			exec 5>&- 6>&-
			printf 'head%03d' "$i" | dd of="$T/A.cur" conv=notrunc status=none
			printf 'tail%03d' "$i" >>"$T/A.cur"
			check truncate -s $((i * 50 + 7)) "$M/A"
			check truncate -s $((i * 50 + 7)) "$T/A.cur"
			;;
		4)
			mkfile_random "$T/A.cur" 7777
			check cp "$T/A.cur" "$M/A.new"
			check mv "$M/A.new" "$M/A"
			;;
		5)
			head -c 3000 /dev/urandom >>"$T/A.cur"
			check cp "$T/A.cur" "$M/A"
			po_expect ok fsync "$M/A"
			;;
		esac
		expect_intact "$M/A" "$T/A.cur" "A after rewrite $i"
		((i % 10 == 0)) && it_remount alice
	done
	it_remount alice
	expect_intact "$M/A" "$T/A.cur" "A after 40 rewrites and remounts"
	it_umount
	incidents "$T/inc.json"
	expect_no_record "$T/inc.json" '.outcome == "integrity"' "an integrity incident from honest rewrites"
}
it_case tamper_rollback_honest

tc_tamper_rollback_crash_window() {
	# A crash between the header (counter W+1) and the node row (W+1) leaves
	# the node at W: accepted, and the row brought up to the header by the
	# next open. The other way round (node ahead of its header) is refused.
	new_vault
	it_mount alice
	mkfile_random "$T/A.orig" 5000
	mkfile_random "$T/B.orig" 5000
	check cp "$T/A.orig" "$M/A"
	check cp "$T/B.orig" "$M/B"
	it_umount
	local ia ib ca
	ia=$(sql "SELECT n.ino FROM nodes n WHERE n.size = 5000 ORDER BY n.ino LIMIT 1;")
	ib=$(sql "SELECT n.ino FROM nodes n WHERE n.size = 5000 ORDER BY n.ino LIMIT 1 OFFSET 1;")
	ca=$(node_counter "$ia")
	((ca >= 1)) || fail "setup: A's node counter is $ca"
	check sql "UPDATE nodes SET write_counter = write_counter - 1 WHERE ino = $ia;"
	check sql "UPDATE nodes SET write_counter = write_counter + 1 WHERE ino = $ib;"
	it_mount alice
	expect_intact "$M/A" "$T/A.orig" "A, its node one behind its header (a crash)"
	expect_eio "$M/B" "$T/B.orig" "B, its node one ahead of its header"
	it_umount
	check_eq "$(node_counter "$ia")" "$ca" "A's node brought up to its header"
	incidents "$T/inc.json"
	expect_no_record "$T/inc.json" '.path == "/A"' "an incident for A (header ahead of the node)"
	expect_integrity_incidents /B
}
it_case tamper_rollback_crash_window
