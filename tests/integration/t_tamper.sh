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
