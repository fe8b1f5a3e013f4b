# tests/integration/t_records.sh — the access records (spårbarhet): every
# action through the mount leaves the right record (op, path, path2, user,
# uid, pid, process name, level, outcome, byte counts after close, detail),
# records are committed before the operation returns (so a killed daemon loses
# none), and the auditor can query a live vault.

# the daemon's ops (the template vault also holds keytool's records)
DAEMON_OPS='(.op | IN("mount", "unmount", "open", "create", "mkdir", "mknod", "symlink", "link", "unlink", "rmdir", "rename", "truncate", "chmod", "chown", "setxattr", "removexattr", "classify", "read"))'
ISO_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$'

# tar -x as root restores the owner with fchown on the open file; when the
# owner is already the one in the archive nothing changes and no chown is
# recorded, while a real change of owner through the descriptor is.
tc_rec_chown_unchanged() {
	need_root
	new_vault
	mkdir "$T/src"
	echo same >"$T/src/same"
	echo other >"$T/src/other"
	touch -d @1600000000 "$T/src/same" "$T/src/other"
	tar -cf "$T/same.tar" --owner=0 --group=0 -C "$T/src" same || fail "tar -c"
	tar -cf "$T/other.tar" --owner=12 --group=34 -C "$T/src" other || fail "tar -c"
	it_mount alice
	check tar -xf "$T/same.tar" -C "$M"
	check tar -xf "$T/other.tar" -C "$M"
	check_eq "$(stat -c %u:%g "$M/same" "$M/other" | tr '\n' ' ')" "0:0 12:34 " "owners after tar -x"
	it_remount
	check_eq "$(stat -c %u:%g "$M/same" "$M/other" | tr '\n' ' ')" "0:0 12:34 " "owners after remount"
	check_eq "$(cat "$M/same" "$M/other" | tr '\n' ' ')" "same other " "contents after remount"
	# the times tar set on the open files were kept with them and written at close
	check_eq "$(stat -c %Y "$M/same" "$M/other" | tr '\n' ' ')" "1600000000 1600000000 " "mtimes after remount"
	it_umount
	records "$T/r.json"
	expect_record "$T/r.json" '.op == "create" and .path == "/same" and .process == "tar"' "the create of /same"
	expect_no_record "$T/r.json" '.op == "chown" and .path == "/same"' "a chown of /same, whose owner did not change"
	expect_record "$T/r.json" '.op == "chown" and .path == "/other" and .detail == "uid=12 gid=34" and .process == "tar"' \
		"tar's fchown of /other to 12:34"
}
it_case rec_chown_unchanged

tc_rec_file_ops() {
	need setfattr
	new_vault
	mkfile_random "$T/src" 10000
	it_mount alice
	mkdir "$M/d" "$M/d/empty"
	check cp "$T/src" "$M/d/f"
	it_remount # so the next read comes from the daemon, not the page cache
	sh -c 'echo $$ >"$1"; exec cat "$2" >/dev/null' sh "$T/cat.pid" "$M/d/f" || fail "cat failed"
	sh -c 'echo appended >>"$1"' sh "$M/d/f" || fail "append failed"
	check truncate -s 100 "$M/d/f"
	check chmod 640 "$M/d/f"
	check chown 12:34 "$M/d/f"
	echo other >"$M/d/other"
	check ln "$M/d/other" "$M/d/hl"
	check ln -s target "$M/d/sl"
	check mkfifo "$M/d/fifo"
	check mv "$M/d/f" "$M/d/g"
	echo x >"$M/d/x"
	po_expect ok rename2 "$M/d/g" "$M/d/x" exchange
	po_expect ok rename2 "$M/d/x" "$M/d/new" noreplace # the old /d/f, one link
	check setfattr -n user.k -v v "$M/d/new"
	check setfattr -x user.k "$M/d/new"
	check setfattr -n user.vault.level -v 1 "$M/d/new"
	check rm "$M/d/new"
	check rmdir "$M/d/empty"
	it_umount
	records "$T/rec.json"
	local r=$T/rec.json catpid
	catpid=$(cat "$T/cat.pid")

	# every record: who, when, from where
	expect_record "$r" "$DAEMON_OPS" "any daemon op"
	expect_no_record "$r" "$DAEMON_OPS"' and (.user != "alice" or .uid != 0)' "a daemon record not by alice/uid 0"
	expect_no_record "$r" "(.time | test(\"$ISO_RE\") | not)" "a record whose time is not ISO-8601 UTC with ms"
	expect_no_record "$r" '(.id | type) != "number"' "a record without a numeric id"
	expect_no_record "$r" '(.op == "open" or .op == "create" or .op == "mkdir" or .op == "unlink" or .op == "rename") and ((.pid | type) != "number" or .pid <= 0 or (.ino | type) != "number" or .ino <= 0 or (.path | type) != "string" or (.path | startswith("/") | not))' \
		"a file record without pid, ino or absolute path"
	expect_no_record "$r" '.op != "rename" and .op != "link" and .path2 != null' "path2 on a record that is not a rename/link"

	expect_record "$r" '.op == "mount" and .user == "alice"' "mount"
	expect_record "$r" '.op == "unmount" and .user == "alice"' "unmount"
	expect_record "$r" '.op == "mkdir" and .path == "/d" and .outcome == "ok" and .errno == null' "mkdir /d"
	expect_record "$r" '.op == "create" and .path == "/d/f" and .process == "cp" and .outcome == "ok"' "create by cp"
	expect_record "$r" '(.op == "open" or .op == "create") and .path == "/d/f" and .process == "cp" and .bytes_written == 10000' \
		"cp writing 10000 bytes (bytes_written filled at close)"
	expect_record "$r" ".op == \"open\" and .path == \"/d/f\" and .process == \"cat\" and .pid == $catpid and .detail == \"flags=r\" and .bytes_read == 10000 and .bytes_written == 0 and .level == 0 and .level_name == \"Öppen\" and .outcome == \"ok\"" \
		"cat reading 10000 bytes (pid $catpid)"
	expect_record "$r" '.op == "open" and .path == "/d/f" and .process == "sh" and (.detail | startswith("flags=w")) and (.detail | contains("append")) and .bytes_written == 9' \
		"sh appending 9 bytes"
	expect_record "$r" '.op == "truncate" and .path == "/d/f" and .detail == "size=100" and .process == "truncate"' "truncate"
	expect_record "$r" '.op == "chmod" and .path == "/d/f" and .detail == "mode=0640" and .process == "chmod"' "chmod"
	expect_record "$r" '.op == "chown" and .path == "/d/f" and .detail == "uid=12 gid=34" and .process == "chown"' "chown"
	expect_record "$r" '.op == "link" and .process == "ln" and (.path == "/d/hl" or .path2 == "/d/hl")' "link"
	expect_record "$r" '.op == "symlink" and .path == "/d/sl" and .process == "ln"' "symlink"
	expect_record "$r" '.op == "mknod" and .path == "/d/fifo" and .process == "mkfifo"' "mknod (mkfifo)"
	# (mv tries renameat2(RENAME_NOREPLACE) first)
	expect_record "$r" '.op == "rename" and .path == "/d/f" and .path2 == "/d/g" and .process == "mv" and .outcome == "ok" and (.detail == "" or .detail == null or .detail == "noreplace")' \
		"rename by mv with path2"
	expect_record "$r" '.op == "rename" and .path == "/d/g" and .path2 == "/d/x" and .detail == "exchange" and .process == "posixops"' "rename exchange"
	expect_record "$r" '.op == "rename" and .path == "/d/x" and .path2 == "/d/new" and .detail == "noreplace"' "rename noreplace"
	expect_record "$r" '.op == "setxattr" and .path == "/d/new" and .process == "setfattr"' "setxattr"
	expect_record "$r" '.op == "removexattr" and .path == "/d/new" and .process == "setfattr"' "removexattr"
	expect_no_record "$r" '(.op == "setxattr" or .op == "removexattr") and ((.detail // "") | contains("user.k"))' \
		"an xattr record whose detail names the (secret) attribute"
	expect_record "$r" '.op == "classify" and .path == "/d/new" and .detail == "level 0->1" and .level != null' "classify"
	expect_record "$r" '.op == "unlink" and .path == "/d/new" and .process == "rm"' "unlink"
	expect_record "$r" '.op == "rmdir" and .path == "/d/empty" and .process == "rmdir"' "rmdir"
	expect_no_record "$r" '(.op == "mkdir" or .op == "unlink" or .op == "rmdir") and (.bytes_read != null or .bytes_written != null)' \
		"byte counts on a record that is not an open"
	# ids grow with time
	jq -e '[.[].id] as $i | $i == ($i | sort)' "$r" >/dev/null || fail "records not ordered by id"
}
it_case rec_file_ops

tc_rec_paths_follow_renames() {
	new_vault
	it_mount alice
	mkdir -p "$M/a/b"
	echo x >"$M/a/b/f"
	check mv "$M/a" "$M/z"
	check cat "$M/z/b/f"
	check mv "$M/z/b" "$M/b2"
	check chmod 600 "$M/b2/f"
	echo y >"$M/b2/new"
	it_umount
	records "$T/rec.json"
	expect_record "$T/rec.json" '.op == "open" and .process == "cat" and .path == "/z/b/f"' \
		"a read after the parent folder was renamed (path /z/b/f)"
	expect_record "$T/rec.json" '.op == "chmod" and .path == "/b2/f"' "chmod after two renames (path /b2/f)"
	expect_record "$T/rec.json" '.op == "create" and .path == "/b2/new"' "create in a renamed folder"
	expect_no_record "$T/rec.json" '(.op == "open" or .op == "chmod") and ((.path // "") | startswith("/a/") or startswith("/z/b/new"))' \
		"a record with a stale path"
}
it_case rec_paths_follow_renames

tc_rec_process_name() {
	new_vault
	it_mount alice
	echo content >"$M/f"
	it_remount
	cp "$(command -v cat)" "$T/reader-xyz"
	check "$T/reader-xyz" "$M/f"
	check cp "$M/f" "$T/out"
	check head -c 3 "$M/f"
	# one PID, two programs: the shell creates a file, then becomes cat by
	# exec and reads it, within the same second
	sh -c 'echo x >"$1"; exec "$2" "$1"' sh "$M/g" "$T/reader-xyz" >/dev/null || fail "sh; exec reader"
	it_umount
	records "$T/rec.json"
	expect_record "$T/rec.json" '.op == "create" and .path == "/g" and .process == "sh"' "sh creating /g"
	expect_record "$T/rec.json" '.op == "open" and .path == "/g" and .process == "reader-xyz"' \
		"the reader the shell became by exec, reading /g (not the shell's name)"
	expect_record "$T/rec.json" '.op == "open" and .path == "/f" and .process == "reader-xyz"' "a renamed cat"
	expect_record "$T/rec.json" '.op == "open" and .path == "/f" and .process == "cp" and .detail == "flags=r"' "cp reading"
	expect_record "$T/rec.json" '.op == "open" and .path == "/f" and .process == "head"' "head reading"
}
it_case rec_process_name

tc_rec_live_query() {
	new_vault
	it_mount alice
	local tok
	tok=$(token d)
	mkdir "$M/$tok"
	# the record is there as soon as mkdir has returned, and the auditor can
	# read the trail of a mounted vault
	records "$T/rec.json" --op mkdir
	expect_record "$T/rec.json" ".op == \"mkdir\" and .path == \"/$tok\"" "mkdir, queried while mounted"
	echo data >"$M/$tok/f"
	records "$T/rec.json" --path "/$tok"
	expect_record "$T/rec.json" ".op == \"create\" and .path == \"/$tok/f\"" "create, queried while mounted"
	expect_no_record "$T/rec.json" "(.path | startswith(\"/$tok\") | not)" "--path filter"
	# the byte counts of a close are written by the daemon's batch writer
	# within milliseconds, not only at unmount
	cat "$M/$tok/f" >/dev/null || fail "cat"
	local i
	for ((i = 0; i < 40; i++)); do
		records "$T/rec.json" --op open --path "/$tok/f"
		jq -e 'any(.[]; .process == "cat" and .bytes_read == 5)' "$T/rec.json" >/dev/null && break
		sleep 0.05
	done
	expect_record "$T/rec.json" '.op == "open" and .process == "cat" and .bytes_read == 5 and .bytes_written == 0' \
		"cat's byte counts, filled in while mounted"
	# queries while the daemon is busy writing records
	(for i in $(seq 1 150); do echo "$i" >"$M/$tok/n$i" || exit 1; done) &
	local w=$! q
	for q in 1 2 3 4 5 6; do
		meta_as audrey log --json --limit 5 >"$T/q.json" 2>"$T/q.err" ||
			fail "vaultfs-meta log during writes (query $q): $(head -n 1 "$T/q.err")"
	done
	wait $w || fail "the writer failed while the auditor queried"
	records "$T/rec.json" --op create --path "/$tok"
	check_eq "$(jq length "$T/rec.json")" 151 "create records after the busy period"
	it_umount
}
it_case rec_live_query

tc_rec_survive_kill9() {
	new_vault
	it_mount alice
	echo data >"$M/f"
	it_remount
	mkdir "$M/made"
	echo x >"$M/made/created"
	mv "$M/made/created" "$M/made/renamed"
	cat "$M/f" >/dev/null
	rm "$M/made/renamed"
	it_kill9
	records "$T/rec.json"
	local r=$T/rec.json
	expect_record "$r" '.op == "mkdir" and .path == "/made"' "mkdir before kill -9"
	expect_record "$r" '.op == "create" and .path == "/made/created"' "create before kill -9"
	expect_record "$r" '.op == "rename" and .path == "/made/created" and .path2 == "/made/renamed"' "rename before kill -9"
	expect_record "$r" '.op == "open" and .path == "/f" and .process == "cat"' "open by cat before kill -9"
	expect_record "$r" '.op == "unlink" and .path == "/made/renamed"' "unlink just before kill -9"
	# and the vault works after the crash
	it_mount alice
	check_eq "$(cat "$M/f")" data "content after the crash"
	[[ -d $M/made && ! -e $M/made/renamed ]] || fail "namespace after the crash: $(ls -R "$M")"
	it_umount
}
it_case rec_survive_kill9

# Names chosen to attack the auditor's export: a spreadsheet formula (as a
# file name and as a process name, the one CSV field that can begin with
# it), a terminal escape sequence, a bidi override, a zero-width space. The
# CSV gives none of them to a spreadsheet or a terminal, the JSON is ASCII,
# and both still say what the name was.
tc_rec_hostile_names_exported() {
	new_vault
	it_mount alice
	local formula='=HYPERLINK("evil.example","open")' esc=$'red\e[31mX' \
		bidi=$'invoice\u202efdp.exe' zw=$'a\u200bb' n
	for n in "$formula" "$esc" "$bidi" "$zw"; do
		echo x >"$M/$n" || fail "cannot create a file named $n"
	done
	cp /bin/cat "$T/=SUM(A1)"
	"$T/=SUM(A1)" "$M/$zw" >/dev/null || fail "the renamed cat failed"
	it_umount
	meta_as audrey log --csv >"$T/log.csv" || fail "log --csv failed"
	grep -q $'\e' "$T/log.csv" && fail "an escape byte reached the CSV"
	grep -qP '\xe2\x80\xae|\xe2\x80\x8b' "$T/log.csv" && fail "a bidi or zero-width character reached the CSV"
	grep -qF ",'=SUM(A1)," "$T/log.csv" ||
		fail "the process name =SUM(A1) is not led by a quote: $(grep -a SUM "$T/log.csv" | head -n 1)"
	grep -qF '"/=HYPERLINK(""evil.example"",""open"")"' "$T/log.csv" ||
		fail "the formula's path is not in the CSV as text: $(grep -a HYPER "$T/log.csv" | head -n 1)"
	grep -qF 'red\x1b[31mX' "$T/log.csv" || fail "the escape is not shown escaped in the CSV"
	grep -qF 'invoice\u202efdp.exe' "$T/log.csv" || fail "the bidi override is not shown escaped in the CSV"
	meta_as audrey log --json >"$T/log.json" || fail "log --json failed"
	LC_ALL=C grep -q $'[\x80-\xff\x1b]' "$T/log.json" && fail "the JSON is not ASCII"
	jq -e --arg p "/$bidi" 'any(.[]; .path == $p)' "$T/log.json" >/dev/null ||
		fail "the JSON does not give back the bidi name"
	jq -e --arg p "/$esc" 'any(.[]; .path == $p)' "$T/log.json" >/dev/null ||
		fail "the JSON does not give back the escape name"
	jq -e 'any(.[]; .process == "=SUM(A1)")' "$T/log.json" >/dev/null ||
		fail "the JSON does not give back the process name"
	meta_as audrey log >"$T/log.txt" || fail "log failed"
	grep -q $'\e' "$T/log.txt" && fail "an escape byte reached the terminal output"
	grep -qF 'a\u200bb' "$T/log.txt" || fail "the zero-width space is not shown on the terminal"
}
it_case rec_hostile_names_exported

# An auditor's first look at a vault nobody has written to yet.
tc_rec_inventory_empty_vault() {
	new_vault
	meta_as audrey inventory --json >"$T/inv.json" 2>"$T/inv.err" || fail "inventory --json of an empty vault failed: $(head -n 1 "$T/inv.err")"
	[[ -s $T/inv.err ]] && fail "inventory of an empty vault wrote to stderr: $(head -n 2 "$T/inv.err")"
	jq -e '(.folders | length) <= 1 and all(.levels[]; .files == 0)' "$T/inv.json" >/dev/null ||
		fail "inventory of an empty vault: $(head -c 300 "$T/inv.json")"
	meta_as audrey inventory >"$T/inv.txt" 2>"$T/inv.err" || fail "inventory of an empty vault failed"
	[[ -s $T/inv.err ]] && fail "inventory of an empty vault wrote to stderr: $(head -n 2 "$T/inv.err")"
	true
}
it_case rec_inventory_empty_vault

tc_rec_queries() {
	need setfattr
	new_vault
	it_mount alice
	mkdir "$M/hr" "$M/pub"
	check setfattr -n user.vault.level -v 2 "$M/hr"
	head -c 1000 /dev/urandom >"$M/hr/a"
	head -c 2000 /dev/urandom >"$M/hr/b"
	head -c 300 /dev/urandom >"$M/pub/c"
	head -c 5 /dev/urandom >"$M/top"
	mv "$M/pub/c" "$M/pub/d"
	it_umount
	it_mount bob
	cat "$M/hr/a" >/dev/null 2>&1
	it_umount
	local r=$T/q.json
	records "$r" --op rename
	expect_record "$r" '.path == "/pub/c" and .path2 == "/pub/d"' "--op rename"
	expect_no_record "$r" '.op != "rename"' "--op rename filter"
	records "$r" --user bob
	expect_no_record "$r" '.user != "bob"' "--user bob filter"
	expect_record "$r" '.op == "open" and .outcome == "denied"' "--user bob"
	records "$r" --level 2
	expect_no_record "$r" '.level != 2' "--level 2 filter"
	expect_record "$r" '.path == "/hr/a"' "--level 2"
	records "$r" --path /hr
	expect_no_record "$r" '(.path | startswith("/hr") | not)' "--path /hr filter"
	records "$r" --limit 2
	check_eq "$(jq length "$r")" 2 "records with --limit 2"
	records "$r" --since 2000-01-01 --until 2000-01-02
	check_eq "$(jq length "$r")" 0 "records in the year 2000"
	records "$r" --since "$(date -u +%Y-%m-%d)"
	(($(jq length "$r") > 5)) || fail "--since today found only $(jq length "$r") records"
	# the last day a time can name: the whole of it, no overflow past it
	records "$r" --since "$(date -u +%Y-%m-%d)" --until 2262-04-11
	(($(jq length "$r") > 5)) || fail "--until 2262-04-11 found only $(jq length "$r") records"
	# CSV with the same fields
	meta_as audrey log --csv >"$T/log.csv" || fail "log --csv failed"
	check_eq "$(head -n 1 "$T/log.csv" | tr -d '\r')" \
		"id,time,user,uid,pid,process,op,ino,path,path2,level,level_name,outcome,errno,bytes_read,bytes_written,detail" \
		"CSV header"
	records "$T/all.json"
	check_eq "$(($(grep -c '' "$T/log.csv") - 1))" "$(jq length "$T/all.json")" "CSV rows vs JSON records (no quoted newlines expected)"
	# the inventory
	meta_as audrey inventory --json >"$T/inv.json" || fail "inventory --json failed"
	jq -e '.levels and .folders' "$T/inv.json" >/dev/null || fail "inventory JSON lacks levels/folders: $(head -c 300 "$T/inv.json")"
	check_eq "$(jq -c '.levels[] | select(.level == 2) | [.files, .bytes]' "$T/inv.json")" "[2,3000]" "inventory of level 2"
	check_eq "$(jq -r '.levels[] | select(.level == 2) | .level_name' "$T/inv.json")" "Känslig" "inventory level name"
	check_eq "$(jq -c '.folders[] | select(.folder == "/hr") | [.level, .files, .bytes]' "$T/inv.json")" "[2,2,3000]" "inventory of /hr"
	check_eq "$(jq -c '.folders[] | select(.folder == "/pub") | [.files, .bytes]' "$T/inv.json")" "[1,300]" "inventory of /pub"
	check_eq "$(jq -c '.folders[] | select(.folder == "/") | [.files, .bytes]' "$T/inv.json")" "[1,5]" "inventory of the root"
	meta_as audrey inventory --level 2 --json >"$T/inv2.json" || fail "inventory --level 2 failed"
	jq -e '.folders | all(.level == 2)' "$T/inv2.json" >/dev/null ||
		fail "inventory --level 2 lists folders of other levels: $(head -c 300 "$T/inv2.json")"
}
it_case rec_queries
