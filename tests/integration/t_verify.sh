# tests/integration/t_verify.sh — the auditor's evidence (issue 12): a vault
# used through a real mount, then `vaultfs-meta verify` must find it intact;
# a checkpoint the auditor exported must catch every way of rewriting the
# access record with sqlite3 on the unmounted vault (a field edited, a record
# deleted, two records swapped, the log cut short with and without a forged
# tree head, vault.db replaced by an older copy, a checkpoint forged with
# another key, the vault's verifier key replaced); a proof of one record
# must check with the verifier key alone, and not once a byte of it changed.

# vm ARGS...: vaultfs-meta on $V without a user (verify needs no passphrase).
vm() {
	run_tool "$META" --vault "$V" "$@"
}

# expect_verify RC WHAT ARGS...: `verify ARGS` exits RC; its output is in $T/verify.out.
expect_verify() {
	local want=$1 what=$2 rc
	shift 2
	vm verify "$@" >"$T/verify.out" 2>&1
	rc=$?
	{
		printf '=== %s (exit %d): verify %s\n' "$what" "$rc" "$*"
		cat "$T/verify.out"
	} >>"$T/verify.all"
	if ((rc != want)); then
		note_file "$T/verify.out" 12
		fail "$what: verify $* exited $rc, expected $want: $(head -n 1 "$T/verify.out")"
	fi
}

# expect_found WHAT PATTERN ARGS...: verify reports tampering (exit 5) and says PATTERN.
expect_found() {
	local what=$1 pat=$2
	shift 2
	expect_verify 5 "$what" "$@"
	grep -q '^tampered: ' "$T/verify.out" || fail "$what: no 'tampered' verdict: $(head -n 1 "$T/verify.out")"
	if ! grep -qE "$pat" "$T/verify.out"; then
		note_file "$T/verify.out" 12
		fail "$what: the report does not say /$pat/"
	fi
}

# use_vault: files created, read, renamed, deleted through the mount by real programs.
use_vault() {
	it_mount alice
	mkdir -p "$M/hr" || fail "mkdir"
	check cp /etc/services "$M/hr/a.txt"
	check sh -c "printf 'one\ntwo\n' > '$M/hr/b.txt'"
	check cat "$M/hr/a.txt"
	check mv "$M/hr/b.txt" "$M/hr/c.txt"
	check tar -C "$M" -cf "$T/hr.tar" hr
	check rm "$M/hr/a.txt"
	it_umount
}

# tamper SQL...: run SQL on a fresh copy of the pristine vault (append-only
# triggers dropped first).
tamper() {
	rm -rf "$V"
	cp -a "$T/pristine" "$V" || fail "cannot copy the pristine vault"
	# a careful tamperer: the guard triggers dropped, the rows changed, the
	# triggers made again exactly as they were (the schema check then passes)
	local guards
	guards=$(sql "SELECT sql || ';' FROM sqlite_schema WHERE name IN ('access_log_no_update', 'access_log_no_delete')")
	sql "DROP TRIGGER IF EXISTS access_log_no_update; DROP TRIGGER IF EXISTS access_log_no_delete; $*;
	     $guards" || fail "sqlite3 failed on: $*"
}

# forged_checkpoint FILE ORIGIN SIZE ROOT: a checkpoint note signed by a fresh Ed25519 key
# under the vault's name (what someone who does not hold the vault's key can make).
forged_checkpoint() {
	python3 - "$@" <<'EOF' || fail "cannot forge a checkpoint (python3-cryptography?)"
import base64, hashlib, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization
out, origin, size, root = sys.argv[1:5]
k = Ed25519PrivateKey.generate()
pk = k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
kid = hashlib.sha256(origin.encode() + b"\n\x01" + pk).digest()[:4]
text = f"{origin}\n{size}\n{root}\n".encode()
sig = base64.b64encode(kid + k.sign(text)).decode()
open(out, "wb").write(text + b"\n" + "\u2014 ".encode() + origin.encode() + b" " + sig.encode() + b"\n")
EOF
}

# verify_counts CP WHAT: the verdict in $T/verify.out counts the checkpoint
# CP (its size among the sizes; the vault's own checkpoints count too).
verify_counts() {
	local size
	size=$(sed -n 2p "$1")
	grep -qE "consistent with [0-9]+ checkpoints? \(sizes? ([0-9]+, )*$size[,)]" "$T/verify.out" ||
		fail "$2 (size $size) was not counted: $(head -n 1 "$T/verify.out")"
}

tc_verify_evidence() {
	need python3
	new_vault
	use_vault
	# an untouched vault verifies as intact: no false alarm
	expect_verify 0 "untouched vault"
	grep -q '^intact: [0-9]* records, tree head ' "$T/verify.out" ||
		fail "untouched vault: no 'intact' verdict: $(head -n 1 "$T/verify.out")"
	check vm checkpoint --vkey --out "$T/vkey"
	grep -qE '^vaultfs/[0-9a-f]{32}\+[0-9a-f]{8}\+' "$T/vkey" || fail "verifier key: $(cat "$T/vkey")"
	cp "$V/vault.db" "$T/old.db"
	local old_max
	old_max=$(sql 'SELECT max(id) FROM access_log')

	# more use, then the auditor's checkpoint
	use_vault
	local kept
	kept=$(sql 'SELECT count(*) FROM checkpoints')
	check meta_as audrey checkpoint --out "$T/cp"
	check_fails meta_as audrey checkpoint --out "$T/cp" # never overwritten
	expect_verify 0 "checkpoint just taken" --checkpoint "$T/cp" --vkey-file "$T/vkey"
	verify_counts "$T/cp" "the checkpoint"
	# a witness directory holding it (docs/format.md §11: `latest`)
	mkdir -p "$T/witness"
	cp "$T/cp" "$T/witness/latest"
	expect_verify 0 "witness" --witness "$T/witness" --vkey-file "$T/vkey"
	verify_counts "$T/cp" "the witness's checkpoint"
	expect_verify 0 "json" --checkpoint "$T/cp" --json
	check_eq "$(jq -r .verdict "$T/verify.out")" intact "verify --json verdict"
	# the auditor's commands changed nothing: no checkpoint row more
	check_eq "$(sql 'SELECT count(*) FROM checkpoints')" "$kept" "checkpoints kept by an auditor's command"

	# the log grows after the checkpoint: still consistent
	use_vault
	expect_verify 0 "log grown after the checkpoint" --checkpoint "$T/cp" --vkey-file "$T/vkey"
	rm -rf "$T/pristine"
	cp -a "$V" "$T/pristine"

	local n mid last
	n=$(sql 'SELECT count(*) FROM access_log')
	mid=$(sql "SELECT id FROM access_log ORDER BY id LIMIT 1 OFFSET $((n / 3))")
	last=$(sql 'SELECT max(id) FROM access_log')
	local cp=(--checkpoint "$T/cp" --vkey-file "$T/vkey")

	tamper "UPDATE access_log SET uid = uid + 1 WHERE id = $mid"
	expect_found "one field of one record edited" 'FINDING (tree|file)' "${cp[@]}"
	grep -q "FINDING file: .*no longer hash to its root" "$T/verify.out" ||
		fail "edited record: the checkpoint file is not reported as rewritten"
	grep -qE "lies in leaves [0-9]+\.\.[0-9]+ \(records [0-9]+\.\.[0-9]+" "$T/verify.out" ||
		fail "edited record: no range of records named"
	expect_found "one field edited, seen by the witness" 'FINDING witness' --witness "$T/witness"

	tamper "DELETE FROM access_log WHERE id = $mid"
	expect_found "one record deleted" 'FINDING file' "${cp[@]}"

	tamper "UPDATE access_log SET (time_ns, user, uid, pid, comm, op, ino, path_enc, path2_enc, level, outcome, bytes_read, bytes_written, detail, closes) = (SELECT time_ns, user, uid, pid, comm, op, ino, path_enc, path2_enc, level, outcome, bytes_read, bytes_written, detail, closes FROM access_log WHERE id = $((mid + 1))) WHERE id = $mid;
		UPDATE access_log SET (time_ns, user, uid, pid, comm, op, ino, path_enc, path2_enc, level, outcome, bytes_read, bytes_written, detail, closes) = (SELECT time_ns, user, uid, pid, comm, op, ino, path_enc, path2_enc, level, outcome, bytes_read, bytes_written, detail, closes FROM access_log WHERE id = $((mid + 2))) WHERE id = $((mid + 1))"
	expect_found "two records' contents swapped" 'FINDING file' "${cp[@]}"

	# the log cut short, the tree head left as it was
	tamper "DELETE FROM access_log WHERE id > $((last - 3))"
	expect_found "log truncated" 'records were removed' "${cp[@]}"
	expect_found "log truncated, no checkpoint given" 'FINDING tree' --vkey-file "$T/vkey"

	# the log cut back to the old copy's records, with the old copy's tree head
	# (a forged frontier that matches): only a checkpoint kept outside shows it
	tamper "ATTACH '$T/old.db' AS old; DELETE FROM access_log WHERE id > $old_max;
		UPDATE access_tree SET (size, frontier) = (SELECT size, frontier FROM old.access_tree)"
	# the vault's own checkpoints of the longer record still show it...
	expect_found "truncated with a forged tree head" 'FINDING' --vkey-file "$T/vkey"
	# ... unless the tamperer removes them too: then only a checkpoint kept
	# outside the vault can
	tamper "ATTACH '$T/old.db' AS old; DELETE FROM access_log WHERE id > $old_max;
		UPDATE access_tree SET (size, frontier) = (SELECT size, frontier FROM old.access_tree);
		DELETE FROM checkpoints WHERE size > (SELECT size FROM old.access_tree)"
	expect_verify 0 "truncated with a forged tree head, nothing outside to compare (the limit)"
	expect_found "truncated with a forged tree head" 'holds only [0-9]+ records' "${cp[@]}"

	# a guard trigger dropped (and nothing else): verify opens the vault
	# anyway and says so, where every other command refuses to open it
	rm -rf "$V"
	cp -a "$T/pristine" "$V"
	sql "DROP TRIGGER access_log_no_delete" || fail "sqlite3"
	expect_found "guard trigger dropped" "FINDING schema: missing trigger 'access_log_no_delete'" --vkey-file "$T/vkey"

	# vault.db replaced by a copy from before the checkpoint
	rm -rf "$V"
	cp -a "$T/pristine" "$V"
	cp "$T/old.db" "$V/vault.db"
	rm -f "$V/vault.db-wal" "$V/vault.db-shm"
	expect_found "vault.db rolled back" 'rolled back' "${cp[@]}"

	# a checkpoint forged with another key, under the vault's name
	rm -rf "$V"
	cp -a "$T/pristine" "$V"
	local origin size root
	origin=$(sed -n 1p "$T/cp")
	size=$(sed -n 2p "$T/cp")
	root=$(sed -n 3p "$T/cp")
	forged_checkpoint "$T/forged" "$origin" "$((size - 1))" "$root"
	expect_found "forged checkpoint" 'not signed by the vault.s checkpoint key' \
		--checkpoint "$T/forged" --vkey-file "$T/vkey"
	# ... and the vault's verifier key replaced so that it would verify: the
	# key the auditor kept shows it
	tamper "UPDATE sign_keys SET public_key = zeroblob(32) WHERE kind = 4"
	expect_found "verifier key replaced in the vault" 'FINDING key' "${cp[@]}"

	# a checkpoint file that is not one: refused, never a crash
	head -c 100 /dev/urandom >"$T/junk"
	rm -rf "$V"
	cp -a "$T/pristine" "$V"
	expect_found "junk checkpoint file" 'not a well-formed' --checkpoint "$T/junk"
	expect_verify 1 "missing checkpoint file" --checkpoint "$T/nonexistent"
	expect_verify 1 "--journal (not yet available)" --journal
	expect_verify 2 "usage" --bogus
}
it_case verify_evidence

tc_verify_prove() {
	new_vault
	use_vault
	check meta_as audrey checkpoint --out "$T/cp"
	check "$META" --vault "$V" checkpoint --vkey --out "$T/vkey"
	local id
	records "$T/r.json"
	id=$(jq '[.[] | select(.op == "open" and .user == "alice")][0].id' "$T/r.json")
	[[ $id =~ ^[0-9]+$ ]] || fail "no open record of alice"
	check meta_as audrey prove "$id" --checkpoint "$T/cp" --out "$T/proof"
	check_eq "$(head -n 1 "$T/proof")" "vaultfs-proof v1" "first line of the proof"
	# checked with the key alone, without the vault
	check "$META" verify-proof --vkey-file "$T/vkey" "$T/proof"
	grep -q '^valid: ' "$T/last.out" || fail "verify-proof: $(tail -n 1 "$T/last.out")"
	grep -qE '^  op +open$' "$T/last.out" || fail "verify-proof does not show the record's op"
	grep -qE '^  user +alice$' "$T/last.out" || fail "verify-proof does not show the record's user"
	grep -qE '^  path +encrypted' "$T/last.out" || fail "verify-proof should say the path is encrypted"
	check "$META" verify-proof --vkey "$(cat "$T/vkey")" "$T/proof"
	if python3 -c 'import cryptography' 2>/dev/null; then
		check python3 "$HERE/../vectors/verify.py" --proof "$T/proof" --vkey-file "$T/vkey"
	fi
	# the default checkpoint: none kept in the vault, so one signed now
	check meta_as audrey prove "$id" --out "$T/proof2"
	check "$META" verify-proof --vkey-file "$T/vkey" "$T/proof2"
	check_fails meta_as audrey prove 999999999

	# one byte changed anywhere: invalid (exit 5), never valid
	local size off rc
	size=$(stat -c %s "$T/proof")
	for off in 20 40 $((size / 2)) $((size - 30)) $((size - 2)); do
		cp "$T/proof" "$T/bad"
		flip_byte "$T/bad" "$off"
		"$META" verify-proof --vkey-file "$T/vkey" "$T/bad" >"$T/vp.out" 2>&1
		rc=$?
		((rc == 5)) || fail "proof with byte $off flipped: verify-proof exited $rc: $(tail -n 1 "$T/vp.out")"
		grep -q '^invalid: ' "$T/vp.out" || fail "byte $off flipped: no 'invalid' line"
	done
	# another vault's key
	local other=$T/other
	"$KEYTOOL" --vault "$other" --passphrase-file "$PW/admin" init --admin admin \
		--kdf interactive >/dev/null 2>&1 || fail "second vault"
	"$META" --vault "$other" checkpoint --vkey --out "$T/vkey2" || fail "second vault's key"
	"$META" verify-proof --vkey-file "$T/vkey2" "$T/proof" >"$T/vp.out" 2>&1
	check_eq "$?" 5 "verify-proof with another vault's key"
}
it_case verify_prove

# A multi-user (shared) mount: checkpoint and verify while it is in use.
tc_verify_shared() {
	mu_setup
	mu_mount
	unlock_as $MU_A a
	unlock_as $MU_B b
	check as $MU_A sh -c "echo a > '$M/a.txt'"
	check as $MU_B sh -c "echo b > '$M/b.txt'"
	expect_verify 0 "while mounted"
	check meta_as audrey checkpoint --out "$T/cp"
	check as $MU_A cat "$M/a.txt"
	check as $MU_B cp "$M/b.txt" "$M/b2.txt"
	expect_verify 0 "while mounted, after the checkpoint" --checkpoint "$T/cp"
	it_umount
	expect_verify 0 "after unmount" --checkpoint "$T/cp"
	cp -a "$V" "$T/pristine"
	tamper "DELETE FROM access_log WHERE uid = $MU_B"
	expect_found "a user's records deleted" 'FINDING' --checkpoint "$T/cp"
}
it_case verify_shared
