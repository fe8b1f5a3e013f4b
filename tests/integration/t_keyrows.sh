# tests/integration/t_keyrows.sh — key and policy rows that cannot be planted
# or edited (issue 12; docs/format.md §3 version 2, §13): someone who can
# write vault.db (the vault unmounted, sqlite3 as the tool) plants a level
# key with its fingerprint, clears a role's read-only flag, sets the
# declassify flag, extends an expired grant, swaps two level names, plants
# their own administration key. Each is refused with an integrity incident
# and never obeyed. No false alarm on an untouched vault, after a revocation
# (with its rotation), and on a vault upgraded from before row signatures.

# kr_unlock_incidents: how many unlock incidents (row signatures refused) so far.
kr_unlock_incidents() {
	incidents "$T/inc.json"
	rec_count "$T/inc.json" '.op == "unlock" and .errno == "EBADMSG"'
}

# kr_no_incident WHAT: no unlock incident at all.
kr_no_incident() {
	local n
	n=$(kr_unlock_incidents)
	((n == 0)) || {
		jq -c '.[] | select(.op == "unlock")' "$T/inc.json" | head -n 5 >>"$T/.ctx"
		fail "$1: $n unlock incidents on an untouched vault"
	}
}

# kr_expect_incident USER WHAT: an unlock incident of USER naming a refused row.
kr_expect_incident() {
	incidents "$T/inc.json"
	expect_record "$T/inc.json" ".op == \"unlock\" and .errno == \"EBADMSG\" and .user == \"$1\"" "$2"
}

# kr_mount_fails USER WHAT: the daemon refuses to mount as USER (exit 3).
kr_mount_fails() {
	local rc
	mkdir -p "$M"
	timeout 60 "$VAULTFS" "$V" "$M" --user "$1" --passphrase-file "$PW/$1" -f \
		</dev/null >>"$T/daemon.log" 2>&1
	rc=$?
	is_mounted "$M" && fusermount3 -u "$M"
	((rc == 3)) || fail "$2: vaultfs --user $1 exited $rc, expected 3 (refused)"
}

tc_kr_untouched() {
	new_vault
	local ad=(--vault "$V" --as admin --passphrase-file "$PW/admin")
	check_eq "$(sql "SELECT count(*) FROM users WHERE sig IS NULL")" 0 "unsigned users rows"
	check_eq "$(sql "SELECT count(*) FROM key_seals WHERE sig IS NULL")" 0 "unsigned key seals"
	check_eq "$(sql "SELECT hex(substr(secret_sealed, 1, 1)) FROM users WHERE name = 'bob'")" \
		02 "bob's secret format version"
	it_mount carol
	check ls "$M" >/dev/null
	it_umount
	kt "${ad[@]}" grant dave member >/dev/null || fail "grant dave member"
	it_mount dave
	check sh -c "echo d > '$M/d.txt'"
	it_umount
	kr_no_incident "untouched vault"
}
it_case kr_untouched

# A level key of the attacker's (a new version of level 1 with its own
# matching fingerprint) sealed to the member role: bob's files would be
# wrapped under it. Refused: bob keeps writing under the real version.
tc_kr_planted_level_key() {
	new_vault
	local role_id role_v
	role_id=$(sql "SELECT id FROM roles WHERE name = 'member'")
	role_v=$(sql "SELECT key_version FROM roles WHERE name = 'member'")
	# a seal that opens is beyond sqlite3; the row alone is the plant (a
	# sealed key that does open is in the unit test tamper_planted_key)
	sql "INSERT INTO level_keys (level, version, fingerprint, created) VALUES (1, 9, x'0102030405060708', 0);
	     INSERT INTO key_seals (kind, id, version, role_id, role_version, sealed)
	     SELECT 2, 1, 9, $role_id, $role_v, sealed FROM key_seals
	     WHERE kind = 2 AND id = 1 AND role_id = $role_id LIMIT 1" ||
		fail "planting a level key"
	it_mount bob
	check sh -c "echo b > '$M/b.txt' && setfattr -n user.vault.level -v 1 '$M/b.txt'"
	check_eq "$(cat "$M/b.txt")" b "bob's file at level 1"
	it_umount
	check_eq "$(sql "SELECT count(*) FROM nodes WHERE level = 1 AND hex(substr(file_key, 5, 4)) = '09000000'")" \
		0 "files wrapped under the planted version"
	kr_expect_incident bob "the planted level key refused"
}
it_case kr_planted_level_key

tc_kr_read_only_cleared() {
	new_vault
	local ad=(--vault "$V" --as admin --passphrase-file "$PW/admin")
	kt "${ad[@]}" grant carol auditor >/dev/null || fail "grant carol auditor"
	it_mount alice
	check sh -c "echo alice > '$M/f'"
	it_umount
	it_mount carol
	check_eq "$(cat "$M/f")" alice "carol reads (reader)"
	check_fails sh -c "echo carol > '$M/f'"
	it_umount
	sql "UPDATE roles SET flags = flags & ~1 WHERE name = 'reader'" || fail "sql"
	it_mount carol
	check_fails sh -c "echo carol > '$M/f'"
	it_umount
	it_mount alice
	check_eq "$(cat "$M/f")" alice "the file after carol's attempt"
	it_umount
	kr_expect_incident carol "the reader role with its read-only flag cleared"
}
it_case kr_read_only_cleared

tc_kr_declassify_set() {
	need setfattr
	new_vault
	it_mount bob
	check sh -c "echo x > '$M/x' && setfattr -n user.vault.level -v 1 '$M/x'"
	check_fails setfattr -n user.vault.level -v 0 "$M/x"
	it_umount
	sql "UPDATE roles SET flags = flags | 4 WHERE name = 'member'" || fail "sql"
	kt --vault "$V" --as admin --passphrase-file "$PW/admin" grant bob auditor >/dev/null ||
		fail "grant bob auditor"
	it_mount bob
	check_fails setfattr -n user.vault.level -v 0 "$M/x"
	it_umount
	check_eq "$(sql "SELECT level FROM nodes WHERE level = 0 AND ino <> 1 AND (mode & 61440) = 32768")" "" \
		"a file declassified"
	kr_expect_incident bob "the member role with the declassify flag set"
}
it_case kr_declassify_set

tc_kr_grant_extended() {
	new_vault
	local ad=(--vault "$V" --as admin --passphrase-file "$PW/admin") until
	it_mount alice
	check sh -c "echo s > '$M/s' && setfattr -n user.vault.level -v 2 '$M/s'"
	it_umount
	until=$(($(date +%s) + 3))
	kt "${ad[@]}" role add temp --levels 0,1,2 >/dev/null || fail "role add temp"
	kt "${ad[@]}" grant bob temp --expires "@$until" >/dev/null || fail "grant with --expires"
	sleep $((until - $(date +%s) + 1))
	sql "UPDATE grants SET expires = 0 WHERE role_id = (SELECT id FROM roles WHERE name = 'temp')" ||
		fail "sql"
	it_mount bob
	check_fails cat "$M/s"
	it_umount
	kr_expect_incident bob "the expired grant extended"
}
it_case kr_grant_extended

tc_kr_level_names_swapped() {
	new_vault
	it_mount alice
	check touch "$M/n"
	po_expect ok setxattr "$M/n" user.vault.level Intern
	it_umount
	sql "UPDATE vault_config SET value = (SELECT value FROM vault_config WHERE key = 'level_name.2')
	     WHERE key = 'level_name.1';
	     UPDATE vault_config SET value = CAST('Intern' AS BLOB) WHERE key = 'level_name.2'" ||
		fail "sql"
	it_mount alice
	po_expect_in setxattr "$M/n" user.vault.level Intern -- EIO EBADMSG EINVAL
	check_eq "$(getfattr -n user.vault.level --only-values "$M/n")" 1 "the level after the attempt"
	po_expect ok setxattr "$M/n" user.vault.level 2
	# shown by their default names, never the swapped ones
	check_eq "$(getfattr -n user.vault.level_name --only-values "$M/n")" "Känslig" "level_name of level 2"
	it_umount
	records "$T/r.json"
	expect_record "$T/r.json" '.op == "classify" and .errno == "EBADMSG"' "the swapped names refused"
}
it_case kr_level_names_swapped

# The attacker's own administration key: every version 2 secret was sealed
# with the real one, so nobody unlocks (reported as a wrong passphrase).
tc_kr_planted_admin_key() {
	new_vault
	sql "UPDATE sign_keys SET public_key = randomblob(32) WHERE kind = 5" || fail "sql"
	kr_mount_fails bob "a planted administration key"
	local rc=0
	kt --vault "$V" --as admin --passphrase-file "$PW/admin" grant dave member >/dev/null \
		2>"$T/kt.err" || rc=$?
	check_eq "$rc" 3 "vaultfs-keytool as admin with a planted administration key"
	grep -q "wrong passphrase" "$T/kt.err" || fail "the tool said: $(head -n 1 "$T/kt.err")"
	check_eq "$(sql "SELECT count(*) FROM access_log WHERE op = 'unlock' AND user = 'bob'
		AND detail LIKE '%administration key was replaced%'")" 1 "bob's refused unlock recorded"
}
it_case kr_planted_admin_key

tc_kr_after_revocation() {
	new_vault
	local ad=(--vault "$V" --as admin --passphrase-file "$PW/admin")
	kt "${ad[@]}" grant dave member >/dev/null || fail "grant dave member"
	kt "${ad[@]}" revoke dave member >/dev/null || fail "revoke dave member"
	kt "${ad[@]}" rotate >/dev/null || fail "rotate"
	it_mount bob
	check sh -c "echo b > '$M/b'"
	it_umount
	it_mount dave
	check ls "$M" >/dev/null
	it_umount
	kr_no_incident "after a revocation and its rotation"
}
it_case kr_after_revocation

# kr_secret_v1 USER: seal USER's secret again as format version 1 (§3), as a
# vault from before this change has it (Argon2id and XChaCha20-Poly1305 in
# Python: tests/vectors/verify.py's functions and python3-cryptography).
kr_secret_v1() {
	python3 - "$V/vault.db" "$1" "$PW/$1" "$HERE/../vectors" <<'EOF' || fail "downgrading the secret of $1"
import sqlite3, struct, sys
sys.path.insert(0, sys.argv[4])
import verify
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
path, user, pwfile = sys.argv[1:4]
pw = open(pwfile, "rb").read().rstrip(b"\n")
db = sqlite3.connect(path)
pk, blob = db.execute("SELECT public_key, secret_sealed FROM users WHERE name = ?", (user,)).fetchone()
apk = db.execute("SELECT public_key FROM sign_keys WHERE kind = 5 ORDER BY version DESC").fetchone()[0]
ops, mem = struct.unpack_from("<II", blob, 4)
kek = Argon2id(salt=blob[12:28], length=32, iterations=ops, lanes=1, memory_cost=mem).derive(pw)
sk = verify.xchacha20poly1305_open(kek, blob[28:52], blob[52:], blob[:52] + pk + apk)
hdr = bytes([1]) + blob[1:52]
ct = ChaCha20Poly1305(verify.hchacha20(kek, blob[28:44])).encrypt(b"\0" * 4 + blob[44:52], sk, hdr + pk)
db.execute("UPDATE users SET secret_sealed = ? WHERE name = ?", (hdr + ct, user))
db.commit()
EOF
}

tc_kr_upgraded_vault() {
	python3 -c 'from cryptography.hazmat.primitives.kdf.argon2 import Argon2id' 2>/dev/null ||
		skip "python3-cryptography without Argon2id"
	new_vault
	local ad=(--vault "$V" --as admin --passphrase-file "$PW/admin") u t
	for u in admin bob audrey; do
		kr_secret_v1 "$u"
	done
	for t in users roles role_keys grants level_keys meta_keys key_seals sign_keys; do
		sql "UPDATE $t SET sig = NULL" || fail "sql"
	done
	sql "DELETE FROM vault_config WHERE key IN ('rows_signed', 'level_names.sig')" || fail "sql"
	# the legacy vault works as before
	it_mount bob
	check sh -c "echo b > '$M/b'"
	it_umount
	check_eq "$(sql "SELECT hex(substr(secret_sealed, 1, 1)) FROM users WHERE name = 'bob'")" \
		01 "bob's secret before the first administration"
	# the first administration signs every row
	kt "${ad[@]}" grant bob auditor >/dev/null || fail "grant bob auditor"
	check_eq "$(sql "SELECT count(*) FROM access_log WHERE op = 'rows-sign' AND outcome = 0")" 1 \
		"the rows-sign record"
	check_eq "$(sql "SELECT count(*) FROM roles WHERE sig IS NULL")" 0 "unsigned roles"
	# bob's next unlock seals his secret again as version 2
	it_mount bob
	check_eq "$(cat "$M/b")" b "bob's file"
	it_umount
	check_eq "$(sql "SELECT hex(substr(secret_sealed, 1, 1)) FROM users WHERE name = 'bob'")" \
		02 "bob's secret after his unlock"
	check_eq "$(sql "SELECT count(*) FROM access_log WHERE op = 'secret-upgrade' AND user = 'bob'")" 1 \
		"bob's secret-upgrade record"
	kr_no_incident "an upgraded vault"
	# and from now on an edited role is refused for him
	sql "UPDATE roles SET flags = flags | 4 WHERE name = 'member'" || fail "sql"
	it_mount bob
	check_fails cat "$M/b"
	it_umount
	kr_expect_incident bob "an edited role after the upgrade"
}
it_case kr_upgraded_vault
