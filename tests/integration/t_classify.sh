# tests/integration/t_classify.sh — classification on the mount: the
# user.vault.level attribute, inheritance from the folder, who may raise and
# lower a level, level 4 refused, reading and writing above one's clearance
# refused and recorded, read-only roles.
#
# Users (lib.sh): alice owner (0-3, declassify), bob member (0,1), carol reader
# (0-2 read-only), dave staff (0-2, no declassify).

# level FILE: the level number ("" when getfattr fails).
level() {
	getfattr -n user.vault.level --only-values "$1" 2>/dev/null
}

# set_level FILE LEVEL: prints ok or the errno (EACCES, EPERM, ...).
set_level() {
	"$POSIXOPS" setxattr "$1" user.vault.level "$2"
}

# expect_level FILE LEVEL WHAT
expect_level() {
	local got
	got=$(level "$1")
	check_eq "$got" "$2" "level of $3"
}

tc_class_inherit() {
	need getfattr setfattr
	new_vault
	it_mount alice
	local root
	root=$(level "$M")
	check_in "$root" "level of the vault root" 0 1 2 3
	touch "$M/top"
	expect_level "$M/top" "$root" "a new file in the root (the root's)"
	mkdir "$M/hr"
	check setfattr -n user.vault.level -v 2 "$M/hr"
	expect_level "$M/hr" 2 "a folder set to 2"
	echo x >"$M/hr/f"
	mkdir "$M/hr/sub"
	echo y >"$M/hr/sub/g"
	mkfifo "$M/hr/fifo"
	ln -s f "$M/hr/link"
	expect_level "$M/hr/f" 2 "a new file in a level-2 folder"
	expect_level "$M/hr/sub" 2 "a new folder in a level-2 folder"
	expect_level "$M/hr/sub/g" 2 "a new file two levels down"
	# names and numbers
	check_eq "$(getfattr -n user.vault.level_name --only-values "$M/hr/f")" "Känslig" "level_name of level 2"
	touch "$M/named"
	po_expect ok setxattr "$M/named" user.vault.level Intern
	expect_level "$M/named" 1 "a file set to 'Intern'"
	po_expect ok setxattr "$M/named" user.vault.level sensitive
	expect_level "$M/named" 2 "a file set to 'sensitive'"
	po_expect ok setxattr "$M/named" user.vault.level "Mycket känslig"
	expect_level "$M/named" 3 "a file set to 'Mycket känslig'"
	po_expect_in setxattr "$M/named" user.vault.level bogus -- EINVAL ERANGE
	expect_level "$M/named" 3 "a file after a bogus level"
	po_expect_in setxattr "$M/named" user.vault.level_name Öppen -- EPERM EACCES EINVAL EROFS EOPNOTSUPP ENOTSUP
	# the virtual attributes are not listed, real ones are
	setfattr -n user.real -v 1 "$M/hr/f"
	check_eq "$(po listxattr "$M/hr/f" | tr '\n' ' ')" "user.real " "listxattr of a classified file"
	# a copy into the folder takes the folder's level
	echo z >"$M/outside"
	check cp "$M/outside" "$M/hr/copied"
	expect_level "$M/hr/copied" 2 "a file copied into a level-2 folder"
	# moving a file out of the folder does not declassify it
	echo moved >"$M/hr/tomove"
	check mv "$M/hr/tomove" "$M/moved"
	expect_level "$M/moved" 2 "a level-2 file moved to the root"
	check mv "$M/hr/sub" "$M/subdir-moved"
	expect_level "$M/subdir-moved/g" 2 "a file in a level-2 folder moved to the root"
	it_remount
	expect_level "$M/moved" 2 "a moved level-2 file after remount"
	expect_level "$M/hr" 2 "the folder after remount"
	expect_level "$M/subdir-moved/g" 2 "a file after remount"
	expect_level "$M/named" 3 "a reclassified file after remount"
	check_eq "$(cat "$M/subdir-moved/g")" y "content of a level-2 file"
	it_umount
	records "$T/rec.json"
	expect_record "$T/rec.json" '.op == "classify" and .path == "/hr" and .detail == "level '"$root"'->2" and .outcome == "ok" and .user == "alice"' \
		"classify /hr"
}
it_case class_inherit

tc_class_member_raise_not_lower() {
	need getfattr setfattr
	new_vault
	it_mount alice
	mkdir "$M/team"
	check setfattr -n user.vault.level -v 0 "$M/team"
	echo "team doc" >"$M/team/doc"
	it_umount
	it_mount bob
	expect_level "$M/team/doc" 0 "the doc as bob"
	po_expect ok setxattr "$M/team/doc" user.vault.level 1
	expect_level "$M/team/doc" 1 "the doc raised by bob"
	check_eq "$(cat "$M/team/doc")" "team doc" "content after raising"
	po_expect_in setxattr "$M/team/doc" user.vault.level 0 -- EACCES EPERM
	expect_level "$M/team/doc" 1 "the doc after bob's refused lowering"
	# raising beyond his own clearance would lock him out: refused or not, he
	# must never end up reading level 2 content
	it_umount
	records "$T/rec.json"
	expect_record "$T/rec.json" '.op == "classify" and .user == "bob" and .path == "/team/doc" and .detail == "level 0->1" and .outcome == "ok"' \
		"bob raising 0->1"
	expect_record "$T/rec.json" '.op == "classify" and .user == "bob" and .path == "/team/doc" and .outcome == "denied" and (.errno == "EACCES" or .errno == "EPERM")' \
		"bob's refused lowering"
	incidents "$T/inc.json"
	expect_record "$T/inc.json" '.op == "classify" and .user == "bob" and .outcome == "denied"' \
		"bob's refused lowering as an incident"
}
it_case class_member_raise_not_lower

tc_class_staff_no_declassify() {
	need getfattr setfattr
	new_vault
	it_mount dave
	echo "draft" >"$M/draft"
	po_expect ok setxattr "$M/draft" user.vault.level 1
	po_expect ok setxattr "$M/draft" user.vault.level 2
	expect_level "$M/draft" 2 "raised by dave"
	po_expect_in setxattr "$M/draft" user.vault.level 1 -- EACCES EPERM
	expect_level "$M/draft" 2 "after dave's refused lowering"
	check_eq "$(cat "$M/draft")" draft "content at level 2 for dave"
	it_umount
	records "$T/rec.json"
	expect_record "$T/rec.json" '.op == "classify" and .user == "dave" and .detail == "level 1->2" and .outcome == "ok"' \
		"dave raising 1->2"
	expect_record "$T/rec.json" '.op == "classify" and .user == "dave" and .outcome == "denied"' \
		"dave's refused lowering"
}
it_case class_staff_no_declassify

tc_class_owner_lowers() {
	need getfattr setfattr
	new_vault
	it_mount alice
	mkdir "$M/hr"
	check setfattr -n user.vault.level -v 2 "$M/hr"
	local tok
	tok=$(token content)
	echo "$tok" >"$M/hr/memo"
	expect_level "$M/hr/memo" 2 "the memo"
	po_expect ok setxattr "$M/hr/memo" user.vault.level 1
	expect_level "$M/hr/memo" 1 "the memo lowered by alice (owner)"
	check_eq "$(cat "$M/hr/memo")" "$tok" "content after lowering"
	it_umount
	# now bob (levels 0,1) reads it: the file key really is under level 1
	it_mount bob
	check_eq "$(cat "$M/hr/memo" 2>&1)" "$tok" "bob reading the lowered memo"
	it_umount
	records "$T/rec.json"
	expect_record "$T/rec.json" '.op == "classify" and .user == "alice" and .path == "/hr/memo" and .detail == "level 2->1" and .outcome == "ok" and .uid == 0' \
		"alice lowering 2->1"
}
it_case class_owner_lowers

tc_class_level4_refused() {
	need getfattr setfattr
	new_vault
	it_mount alice
	echo x >"$M/f"
	local before
	before=$(level "$M/f")
	po_expect EPERM setxattr "$M/f" user.vault.level 4
	po_expect_in setxattr "$M/f" user.vault.level Säkerhetsskydd -- EPERM EINVAL
	expect_level "$M/f" "$before" "a file after level 4 was refused"
	mkdir "$M/d"
	po_expect EPERM setxattr "$M/d" user.vault.level 4
	it_umount
	incidents "$T/inc.json"
	expect_record "$T/inc.json" '.op == "classify" and .path == "/f" and .detail == "level 4 refused" and .outcome == "denied" and .errno == "EPERM" and .user == "alice"' \
		"level 4 refused as an incident"
	expect_record "$T/inc.json" '.op == "classify" and .path == "/d" and .detail == "level 4 refused"' \
		"level 4 refused on a folder"
}
it_case class_level4_refused

tc_class_denied_read() {
	need setfattr
	new_vault
	it_mount alice
	mkdir "$M/hr"
	check setfattr -n user.vault.level -v 2 "$M/hr"
	local tok
	tok=$(token secret)
	echo "$tok" >"$M/hr/secret.txt"
	mkdir "$M/open"
	echo "open" >"$M/open/readme"
	it_umount
	it_mount bob
	check_eq "$(cat "$M/open/readme")" open "bob reading a level-0 file"
	cat "$M/hr/secret.txt" >"$T/out" 2>"$T/err" && fail "bob (levels 0,1) read a level-2 file"
	grep -q "$tok" "$T/out" && fail "bob got level-2 content"
	grep -q 'Permission denied' "$T/err" || fail "cat of a level-2 file as bob: '$(cat "$T/err")', expected Permission denied"
	po_expect EACCES open "$M/hr/secret.txt" r
	po_expect EACCES open "$M/hr/secret.txt" w
	po_expect EACCES open "$M/hr/new.txt" w,creat
	po_expect_in mkdir "$M/hr/newdir" -- EACCES
	[[ -e $M/hr/new.txt ]] && fail "bob's refused create left a file"
	# truncate by path does not open the file: still a write to level 2
	po_expect EACCES truncate "$M/hr/secret.txt" 0
	it_umount
	it_mount alice
	check_eq "$(cat "$M/hr/secret.txt")" "$tok" "the level-2 file after bob's attempts"
	it_umount
	records "$T/rec.json"
	expect_record "$T/rec.json" '.op == "open" and .user == "bob" and .process == "cat" and .path == "/hr/secret.txt" and .outcome == "denied" and .errno == "EACCES" and .level == 2 and .uid == 0 and .pid > 0' \
		"bob's refused cat"
	expect_record "$T/rec.json" '.user == "bob" and .outcome == "denied" and (.op == "create" or .op == "open") and ((.path // "") | startswith("/hr"))' \
		"bob's refused create in /hr"
	expect_record "$T/rec.json" '.user == "bob" and .outcome == "denied" and .op == "mkdir"' \
		"bob's refused mkdir in /hr"
	expect_no_record "$T/rec.json" '.user == "bob" and .path == "/hr/secret.txt" and .outcome == "ok" and .op == "open"' \
		"an ok open of the level-2 file by bob"
	incidents "$T/inc.json"
	expect_record "$T/inc.json" '.op == "open" and .user == "bob" and .path == "/hr/secret.txt" and .outcome == "denied"' \
		"bob's refused cat as an incident"
	expect_no_record "$T/inc.json" '.outcome == "ok"' "an ok record among the incidents"
	# the auditor's filters find it
	records "$T/den.json" --denied --user bob
	expect_record "$T/den.json" '.path == "/hr/secret.txt"' "log --denied --user bob"
	expect_no_record "$T/den.json" '.outcome == "ok" or .user != "bob"' "log --denied --user bob filtering"
}
it_case class_denied_read

tc_class_links_and_moves() {
	need setfattr
	new_vault
	it_mount alice
	mkdir "$M/hr" "$M/pub"
	check setfattr -n user.vault.level -v 2 "$M/hr"
	local tok
	tok=$(token linked)
	echo "$tok" >"$M/hr/secret"
	# a hard link in a level-0 folder is the same level-2 file
	check ln "$M/hr/secret" "$M/pub/alias"
	expect_level "$M/pub/alias" 2 "a hard link to a level-2 file in a level-0 folder"
	echo "$tok-2" >"$M/hr/secret2"
	it_umount
	it_mount bob
	cat "$M/pub/alias" >"$T/out" 2>&1 && fail "bob read a level-2 file through a link in a level-0 folder"
	grep -q "$tok" "$T/out" && fail "bob got level-2 content through a link"
	# bob may not move, link, or delete level-2 files (writes to level 2)
	po_expect EACCES rename2 "$M/hr/secret2" "$M/pub/moved"
	po_expect EACCES link "$M/hr/secret2" "$M/pub/mylink"
	po_expect EACCES unlink "$M/hr/secret2"
	ln -s ../hr/secret2 "$M/pub/sym" || fail "bob creating a symlink in his folder"
	cat "$M/pub/sym" >"$T/out" 2>&1 && fail "bob read a level-2 file through a symlink"
	grep -q "$tok" "$T/out" && fail "bob got level-2 content through a symlink"
	it_umount
	it_mount alice
	check_eq "$(cat "$M/hr/secret2")" "$tok-2" "the level-2 file after bob's attempts"
	[[ -e $M/pub/moved || -e $M/pub/mylink ]] && fail "bob's refused move/link left entries"
	it_umount
}
it_case class_links_and_moves

tc_class_read_only() {
	need setfattr
	new_vault
	it_mount alice
	mkdir "$M/hr"
	check setfattr -n user.vault.level -v 2 "$M/hr"
	echo "the record" >"$M/hr/doc"
	it_umount
	it_mount carol
	check_eq "$(cat "$M/hr/doc")" "the record" "carol (read-only) reading"
	check_fails sh -c "echo more >>'$M/hr/doc'"
	po_expect_in open "$M/hr/doc" w -- EACCES EPERM EROFS
	po_expect_in truncate "$M/hr/doc" 0 -- EACCES EPERM EROFS
	po_expect_in open "$M/hr/new" w,creat -- EACCES EPERM EROFS
	po_expect_in unlink "$M/hr/doc" -- EACCES EPERM EROFS
	po_expect_in rename2 "$M/hr/doc" "$M/hr/moved" -- EACCES EPERM EROFS
	po_expect_in setxattr "$M/hr/doc" user.note x -- EACCES EPERM EROFS
	it_umount
	it_mount alice
	check_eq "$(cat "$M/hr/doc")" "the record" "the document after carol's attempts"
	[[ -e $M/hr/new || -e $M/hr/moved ]] && fail "carol's refused writes left entries"
	it_umount
	records "$T/rec.json"
	expect_record "$T/rec.json" '.user == "carol" and .op == "open" and .outcome == "ok" and .path == "/hr/doc"' \
		"carol's read"
	expect_record "$T/rec.json" '.user == "carol" and .outcome == "denied" and .path == "/hr/doc"' \
		"carol's refused write"
}
it_case class_read_only

tc_class_raise_locks_out() {
	need setfattr
	new_vault
	it_mount bob
	local tok
	tok=$(token note)
	echo "$tok" >"$M/note"
	it_umount
	it_mount alice
	po_expect ok setxattr "$M/note" user.vault.level 2
	check_eq "$(cat "$M/note")" "$tok" "alice reading after raising"
	it_umount
	it_mount bob
	cat "$M/note" >"$T/out" 2>"$T/err" && fail "bob read his note after it was raised to 2"
	grep -q "$tok" "$T/out" && fail "bob got the content of a level-2 file"
	it_umount
}
it_case class_raise_locks_out

tc_class_no_content_roles() {
	new_vault
	it_mount alice
	local tok
	tok=$(token public)
	echo "$tok" >"$M/public.txt"
	mkdir "$M/folder"
	it_umount
	local u
	for u in audrey admin; do
		mkdir -p "$M"
		"$VAULTFS" "$V" "$M" --user $u --passphrase-file "$PW/$u" -f </dev/null >>"$T/daemon.log" 2>&1 &
		DPID=$!
		printf '%s %s\n' "$DPID" "$M" >>"$T/.mounts"
		local i
		for ((i = 0; i < 100; i++)); do
			is_mounted "$M" && break
			kill -0 "$DPID" 2>/dev/null || break
			sleep 0.1
		done
		if is_mounted "$M"; then
			cat "$M/public.txt" >"$T/out" 2>&1 && fail "$u (no level keys) read a level-0 file"
			grep -q "$tok" "$T/out" && fail "$u got content"
			po_expect_in open "$M/new-by-$u" w,creat -- EACCES EPERM
			it_umount
		else
			wait "$DPID"
			note "$u's mount refused with exit $?"
			DPID=
			: >"$T/.mounts"
		fi
	done
}
it_case class_no_content_roles

tc_class_revoked() {
	new_vault
	it_mount alice
	local tok
	tok=$(token internal)
	mkdir "$M/int"
	check setfattr -n user.vault.level -v 1 "$M/int"
	echo "$tok" >"$M/int/before"
	it_umount
	check kt --vault "$V" --as admin --passphrase-file "$PW/admin" revoke bob member
	it_mount alice
	echo "$tok-after" >"$M/int/after"
	check_eq "$(cat "$M/int/before")" "$tok" "alice reading after the revocation"
	it_umount
	# bob holds no role now: he may not even mount, and never reads level 1
	mkdir -p "$M"
	"$VAULTFS" "$V" "$M" --user bob --passphrase-file "$PW/bob" -f </dev/null >>"$T/daemon.log" 2>&1 &
	DPID=$!
	printf '%s %s\n' "$DPID" "$M" >>"$T/.mounts"
	local i
	for ((i = 0; i < 100; i++)); do
		is_mounted "$M" && break
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.1
	done
	if is_mounted "$M"; then
		cat "$M/int/after" >"$T/out" 2>/dev/null && fail "revoked bob read a file written after the revocation"
		cat "$M/int/before" >>"$T/out" 2>/dev/null && fail "revoked bob read a level-1 file"
		grep -q "$tok" "$T/out" && fail "revoked bob got level-1 content"
		it_umount
	else
		wait "$DPID"
		local rc=$?
		DPID=
		: >"$T/.mounts"
		note "bob's mount after revocation refused with exit $rc"
		((rc != 0)) || fail "bob's daemon exited 0 without mounting"
	fi
	records "$T/rec.json"
	expect_record "$T/rec.json" '.op == "revoke" and .user == "admin" and .outcome == "ok"' "the revocation"
}
it_case class_revoked
