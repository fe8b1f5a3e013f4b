# tests/integration/t_journal.sh — the system journal (-o journal): every
# access record of a mounted vault arrives in journald as structured fields,
# paths only with -o journal_paths, and no name or process name can forge a
# field; checkpoints sent to the journal are read back (test_journal live).
#
# journald: the one running is used; without one, /lib/systemd/systemd-
# journald is started for the case (it needs no systemd as PID 1: it listens
# on /run/systemd/journal/socket and writes /run/log/journal) and stopped
# after, and the directories it made (/run/systemd/journal, /run/log/journal)
# are removed. A journald that was running already is never touched.

JOURNALD=/lib/systemd/systemd-journald

# journal_listens: a journald accepts entries now.
journal_listens() {
	systemd-cat -t vaultfs-it-probe true 2>/dev/null
}

# journal_down: stop the journald this case started, and remove what it made.
journal_down() {
	[[ -n ${JD_PID:-} ]] || return 0
	kill "$JD_PID" 2>/dev/null
	wait "$JD_PID" 2>/dev/null
	JD_PID=
	((${#JD_MADE[@]})) && rm -rf --one-file-system "${JD_MADE[@]}"
	JD_MADE=()
}

# journal_lock: take turns with other cases that use journald (see journal_up).
journal_lock() {
	local lock=/run/lock/vaultfs-it-journald.lock
	need flock
	[[ -d /run/lock ]] || lock=${TMPDIR:-/tmp}/vaultfs-it-journald.lock
	exec {JD_LOCK_FD}>>"$lock" || fail "cannot open $lock"
	flock -w 120 "$JD_LOCK_FD" || fail "another test run held $lock for 120 s"
}

# journal_up: a journald for this case (see above); sets JD_PID when started here.
# Cases that use journald, also of other test runs on the machine at the same
# time, take turns (an flock held until the case ends), so that none stops a
# journald that another one is using.
journal_up() {
	local d
	need journalctl systemd-cat
	journal_lock
	JD_PID=
	JD_MADE=()
	journal_listens && return 0
	need_root
	[[ -x $JOURNALD ]] || skip "no journald runs and $JOURNALD is not installed"
	for d in /run/systemd/journal /run/log; do
		[[ -e $d ]] || JD_MADE+=("$d")
	done
	[[ -e /run/log && ! -e /run/log/journal ]] && JD_MADE+=(/run/log/journal)
	mkdir -p /run/systemd/journal
	"$JOURNALD" </dev/null >"$T/journald.log" 2>&1 {JD_LOCK_FD}>&- &
	JD_PID=$!
	trap 'journal_down; it_case_cleanup' EXIT
	if ! retry 50 journal_listens; then
		note_file "$T/journald.log" 10
		fail "$JOURNALD started but accepts no entries"
	fi
}

# journal_json OUT: this vault's journal entries (a JSON array); binary
# values (journalctl prints them as byte arrays) become strings.
journal_json() {
	journalctl --no-pager -o json VAULTFS_VAULT="$V" 2>"$1.err" |
		jq -s 'map(with_entries(.value |= (if type == "array" then implode else . end)))' \
			>"$1" || fail "journalctl -o json VAULTFS_VAULT=$V failed: $(head -n 1 "$1.err")"
}

# journal_wait OUT JQ: wait (10 s) until an entry matches JQ; OUT holds the entries.
journal_wait() {
	local i
	for ((i = 0; i < 50; i++)); do
		journal_json "$1"
		jq -e "any(.[]; $2)" "$1" >/dev/null && return 0
		sleep 0.2
	done
	jq -c '.[] | {VAULTFS_RECORD_ID, VAULTFS_OP, VAULTFS_PATH}' "$1" | tail -n 5 >>"$T/.ctx"
	fail "no journal entry with $2 within 10 s"
}

# journal_has OUT JQ WHAT / journal_lacks OUT JQ WHAT
journal_has() {
	jq -e "any(.[]; $2)" "$1" >/dev/null || fail "no journal entry: $3"
}
journal_lacks() {
	if jq -e "any(.[]; $2)" "$1" >/dev/null; then
		jq -c ".[] | select($2)" "$1" | head -n 3 >>"$T/.ctx"
		fail "unexpected journal entry: $3"
	fi
}

tc_journal_records() {
	need_root
	need setpriv setfattr
	journal_up
	new_vault
	V=$(realpath "$V")
	local forged j=$T/j.json
	forged=$(printf 'n\nVAULTFS_OP=forged')
	cp "$(command -v touch)" "$T/VAULTFS_OP=x" || fail "cp touch"

	it_mount alice -o journal,allow_other
	echo hello >"$M/mine"
	setpriv --reuid=4242 --regid=4242 --clear-groups sh -c 'echo x >"$1/theirs"; cat "$1/theirs" >/dev/null' sh "$M" ||
		fail "uid 4242 could not write and read"
	"$T/VAULTFS_OP=x" "$M/$forged" || fail "touch of a name with a newline"
	setfattr -n user.vault.level -v 4 "$M/mine" 2>/dev/null && fail "level 4 was accepted"
	it_umount
	journal_wait "$j" '.VAULTFS_OP == "unmount"'

	journal_has "$j" '.VAULTFS_OP == "mount" and .SYSLOG_IDENTIFIER == "vaultfs" and .VAULTFS_USER == "alice"' "the mount"
	journal_has "$j" '.VAULTFS_OP == "create" and .VAULTFS_UID == "4242" and .VAULTFS_COMM == "sh" and .VAULTFS_OUTCOME == "ok" and .PRIORITY == "6" and (.VAULTFS_LEVEL | test("^[0-3]$")) and (.VAULTFS_INO | test("^[0-9]+$")) and (.VAULTFS_PID | test("^[0-9]+$"))' \
		"uid 4242's create, with its fields"
	journal_has "$j" '.VAULTFS_OP == "close" and .VAULTFS_UID == "4242" and .VAULTFS_COMM == "cat" and .VAULTFS_BYTES_READ == "2" and .VAULTFS_BYTES_WRITTEN == "0"' \
		"the close of cat's open with its byte counts"
	journal_has "$j" '.VAULTFS_OP == "classify" and .VAULTFS_OUTCOME == "EPERM" and .PRIORITY == "5"' \
		"the refused level 4, at notice"
	journal_has "$j" '.VAULTFS_OP == "create" and .VAULTFS_COMM == "VAULTFS_OP=x"' "the create by a process named VAULTFS_OP=x"
	journal_lacks "$j" 'has("VAULTFS_PATH") or has("VAULTFS_PATH2")' "a path without journal_paths"
	journal_lacks "$j" '(.MESSAGE | tostring | test("mine|theirs"))' "a name in a MESSAGE without journal_paths"
	journal_lacks "$j" '.VAULTFS_OP == "forged" or .VAULTFS_OP == "x"' "a forged field"

	# every record the daemon wrote from its mount on, and nothing else
	records "$T/r.json"
	local first want got
	first=$(jq '[.[] | select(.op == "mount")] | last | .id' "$T/r.json")
	want=$(jq -c "[.[] | select(.id >= $first and .op != \"close\") | .id] | sort" "$T/r.json")
	got=$(jq -c '[.[] | select(.VAULTFS_OP != "close") | .VAULTFS_RECORD_ID | tonumber] | sort' "$j")
	check_eq "$got" "$want" "record ids in the journal"

	# with journal_paths: the paths, exactly, as values
	it_mount alice -o journal_paths
	echo secret >"$M/secret name"
	mv "$M/$forged" "$M/moved"
	it_umount
	journal_wait "$j" '.VAULTFS_OP == "rename"'
	journal_has "$j" '.VAULTFS_OP == "create" and .VAULTFS_PATH == "/secret name"' "the create with its path"
	journal_has "$j" ".VAULTFS_OP == \"rename\" and .VAULTFS_PATH == \"/n\\nVAULTFS_OP=forged\" and .VAULTFS_PATH2 == \"/moved\"" \
		"the rename with both paths, the newline kept inside the value"
	journal_lacks "$j" '.VAULTFS_OP == "forged"' "a field forged by a name"
	journal_down
}
it_case journal_records

tc_journal_checkpoint() {
	journal_up
	local out rc
	out=$("$BUILD/tests/test_journal" live 2>&1)
	rc=$?
	((rc == 0)) || {
		note "$out"
		fail "test_journal live exited $rc: $(printf '%s\n' "$out" | grep -m 1 -E 'F:|SKIP|ERROR')"
	}
	journal_down
}
it_case journal_checkpoint

# The journal as the anchor of the access record: every checkpoint goes
# there; a vault.db put back from before one refuses to mount, verify
# --journal finds it, and restore-accept (no witness) accepts it.
tc_journal_anchor() {
	need_root
	journal_up
	new_vault
	it_mount alice
	echo one >"$M/a" || fail "write"
	it_umount
	cp "$V/vault.db" "$T/old.db"
	it_mount alice
	echo two >"$M/b" || fail "write"
	it_umount
	retry 50 eval '[[ -n $(journalctl -q -o cat --output-fields=VAULTFS_TREE_SIZE VAULTFS_ORIGIN=$(head -n 1 <(sqlite3 "$V/vault.db" "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1")) 2>/dev/null) ]]' ||
		fail "no checkpoint of the vault in the journal"
	run_tool "$META" --vault "$V" verify --journal >"$T/v.out" 2>&1 || {
		note_file "$T/v.out" 5
		fail "verify --journal on the untouched vault"
	}
	grep -q '^intact' "$T/v.out" || fail "verify --journal: $(head -n 1 "$T/v.out")"
	# the old vault.db back: the journal's newest checkpoint says otherwise
	cp "$T/old.db" "$V/vault.db"
	rm -f "$V/vault.db-wal" "$V/vault.db-shm"
	"$VAULTFS" "$V" "$M" --user alice --passphrase-file "$PW/alice" </dev/null \
		>"$T/refused.out" 2>"$T/refused.err" && {
		fusermount3 -u "$M"
		fail "a vault.db from before the journal's checkpoint mounted"
	}
	grep -q "rolled back.*the system journal holds" "$T/refused.err" ||
		fail "the refusal: $(cat "$T/refused.err")"
	run_tool "$META" --vault "$V" verify --journal >"$T/v.out" 2>&1
	check_eq "$?" 5 "verify --journal on the rolled-back vault"
	# a local account replays the old vault's own signed checkpoint into the
	# journal (journald's native protocol, fields binary-safe): it is not
	# root's entry, so it never counts
	sqlite3 "$V/vault.db" "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1" >"$T/old.note"
	truncate -s -1 "$T/old.note" # sqlite3's own newline
	chmod 644 "$T/old.note"
	setpriv --reuid=4242 --regid=4242 --clear-groups /usr/bin/python3 - "$T/old.note" <<'PY' || fail "replay as uid 4242"
import socket, struct, sys
note = open(sys.argv[1], "rb").read()
origin = note.split(b"\n", 1)[0]
def field(k, v):
    return k + b"\n" + struct.pack("<Q", len(v)) + v + b"\n"
msg = (b"MESSAGE=replayed\nSYSLOG_IDENTIFIER=vaultfs\n" + field(b"VAULTFS_ORIGIN", origin)
       + field(b"VAULTFS_CHECKPOINT", note))
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(msg, "/run/systemd/journal/socket")
PY
	retry 50 eval '[[ -n $(journalctl -q -o cat _UID=4242 MESSAGE=replayed 2>/dev/null) ]]' ||
		fail "the replayed entry did not reach the journal"
	check_fails "$VAULTFS" "$V" "$M" --user alice --passphrase-file "$PW/alice"
	grep -q "rolled back" <("$VAULTFS" "$V" "$M" --user alice --passphrase-file "$PW/alice" 2>&1) ||
		fail "after the replay the refusal no longer says rolled back"
	# an administration does not bless it: the journal keeps its newest
	kt --vault "$V" --as admin --passphrase-file "$PW/admin" grant carol staff \
		>/dev/null 2>"$T/grant.err" || fail "grant"
	grep -q "does not extend" "$T/grant.err" || fail "the grant said nothing: $(cat "$T/grant.err")"
	check_fails "$VAULTFS" "$V" "$M" --user alice --passphrase-file "$PW/alice"
	# the restore accepted: it mounts
	kt --vault "$V" --as admin --passphrase-file "$PW/admin" restore-accept \
		--reason "old vault.db restored on purpose" >"$T/accept.out" || fail "restore-accept"
	grep -q "system journal held" "$T/accept.out" || fail "restore-accept said: $(cat "$T/accept.out")"
	it_mount alice
	check_eq "$(cat "$M/a")" one "content after the accepted restore"
	it_umount
	journal_down
}
it_case journal_anchor

# Without a journald (and usually without /dev/log) the mount works as
# ever: the first failed send is reported once in the daemon's log, the
# count at unmount, and nothing fails.
tc_journal_unavailable() {
	need systemd-cat
	journal_lock
	journal_listens && skip "a journald runs here (the case needs none)"
	new_vault
	it_mount alice -o journal
	echo a >"$M/a" || fail "write with -o journal and no journald"
	cat "$M/a" >/dev/null || fail "read with -o journal and no journald"
	check mv "$M/a" "$M/b"
	it_umount
	if [[ -S /dev/log ]]; then
		check_eq "$(grep -c 'records go to syslog' "$T/daemon.log")" 1 "reports of the syslog fallback"
	else
		check_eq "$(grep -c 'cannot send access record' "$T/daemon.log")" 1 "reports of a failed send"
		grep -qE '^vaultfs: [0-9]+ of [0-9]+ access records could not be sent' "$T/daemon.log" ||
			{
				note_file "$T/daemon.log" 10
				fail "no count of failed sends at unmount"
			}
	fi
	records "$T/r.json"
	expect_record "$T/r.json" '.op == "rename" and .path == "/a" and .path2 == "/b"' "the rename, in the vault"
}
it_case journal_unavailable
