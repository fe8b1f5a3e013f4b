# tests/integration/t_cli.sh — the commands' error contract: exit codes
# (0 ok, 1 failed, 2 usage, 3 denied or wrong passphrase, 4 no vault) and one
# line on stderr saying what went wrong; the daemon goes to the background only
# once the mount is ready.

# mount_attempt USER PASSFILE [MOUNTPOINT] [ARGS...]: try to mount (without -f,
# as a user would); sets RC and leaves stderr in $T/err.
mount_attempt() {
	local user=$1 pf=$2 mnt=${3:-$M}
	shift 3 2>/dev/null || shift $#
	timeout 60 "$VAULTFS" "$V" "$mnt" --user "$user" --passphrase-file "$pf" "$@" \
		</dev/null >"$T/out" 2>"$T/err"
	RC=$?
	cat "$T/err" >>"$T/tools.log"
	((RC == 124)) && fail "vaultfs did not return within 60 s"
}

tc_cli_wrong_passphrase() {
	new_vault
	mkdir -p "$M"
	(umask 077 && echo "not-the-passphrase" >"$T/wrong")

	mount_attempt alice "$T/wrong"
	is_mounted "$M" && fail "vaultfs mounted with a wrong passphrase"
	check_eq "$RC" 3 "vaultfs exit code for a wrong passphrase"
	check_one_line "$T/err" "vaultfs with a wrong passphrase"

	kt --vault "$V" --as admin --passphrase-file "$T/wrong" grant bob owner >"$T/out" 2>"$T/err"
	check_eq "$?" 3 "vaultfs-keytool exit code for a wrong passphrase"
	check_one_line "$T/err" "vaultfs-keytool with a wrong passphrase"

	"$META" --vault "$V" --as audrey --passphrase-file "$T/wrong" log --json >"$T/out" 2>"$T/err"
	check_eq "$?" 3 "vaultfs-meta exit code for a wrong passphrase"
	check_one_line "$T/err" "vaultfs-meta with a wrong passphrase"
	[[ -s $T/out ]] && fail "vaultfs-meta printed records with a wrong passphrase"

	# the failed unlocks are denials in the trail
	records "$T/rec.json"
	expect_record "$T/rec.json" '.op == "unlock" and .user == "alice" and .outcome == "denied"' \
		"the daemon's failed unlock of alice"
	expect_record "$T/rec.json" '.op == "unlock" and .user == "admin" and .outcome == "denied"' \
		"keytool's failed unlock of admin"
	# bob was not granted owner
	kt --vault "$V" list grants --json >"$T/grants.json" || fail "list grants failed"
	[[ $(jq '[.. | objects | select(.user? == "bob" and .role? == "owner")] | length' "$T/grants.json") == 0 ]] ||
		fail "grant happened despite the wrong passphrase"
}
it_case cli_wrong_passphrase

tc_cli_unknown_user() {
	new_vault
	mkdir -p "$M"
	mount_attempt nosuchuser "$PW/alice"
	is_mounted "$M" && fail "vaultfs mounted for an unknown user"
	((RC != 0)) || fail "vaultfs exited 0 for an unknown user"
	check_one_line "$T/err" "vaultfs --user nosuchuser"
	grep -q nosuchuser "$T/err" || fail "vaultfs error does not name the unknown user: $(cat "$T/err")"

	kt --vault "$V" --as nosuchuser --passphrase-file "$PW/alice" grant bob owner >"$T/out" 2>"$T/err"
	RC=$?
	((RC != 0)) || fail "vaultfs-keytool exited 0 for an unknown user"
	check_one_line "$T/err" "vaultfs-keytool --as nosuchuser"
	grep -q nosuchuser "$T/err" || fail "keytool error does not name the unknown user: $(cat "$T/err")"

	"$META" --vault "$V" --as nosuchuser --passphrase-file "$PW/audrey" log >"$T/out" 2>"$T/err"
	RC=$?
	((RC != 0)) || fail "vaultfs-meta exited 0 for an unknown user"
	check_one_line "$T/err" "vaultfs-meta --as nosuchuser"
	grep -q nosuchuser "$T/err" || fail "vaultfs-meta error does not name the unknown user: $(cat "$T/err")"
}
it_case cli_unknown_user

tc_cli_missing_vault() {
	V=$T/no-such-vault
	mkdir -p "$M"
	mount_attempt alice "$PW/alice"
	check_eq "$RC" 4 "vaultfs exit code for a missing vault"
	check_one_line "$T/err" "vaultfs on a missing vault"
	is_mounted "$M" && fail "vaultfs mounted a missing vault"

	kt --vault "$V" --as admin --passphrase-file "$PW/admin" grant bob owner >"$T/out" 2>"$T/err"
	check_eq "$?" 4 "vaultfs-keytool exit code for a missing vault"
	check_one_line "$T/err" "vaultfs-keytool on a missing vault"

	kt --vault "$V" list users >"$T/out" 2>"$T/err"
	check_eq "$?" 4 "vaultfs-keytool list users exit code for a missing vault"

	VAULTFS_VAULT=$V "$KEYTOOL" list users >"$T/out" 2>"$T/err"
	check_eq "$?" 4 "vaultfs-keytool with VAULTFS_VAULT of a missing vault"

	"$META" --vault "$V" --as audrey --passphrase-file "$PW/audrey" log >"$T/out" 2>"$T/err"
	check_eq "$?" 4 "vaultfs-meta exit code for a missing vault"
	check_one_line "$T/err" "vaultfs-meta on a missing vault"

	# an empty directory is not a vault either, and must not become one
	V=$T/empty-dir
	mkdir -p "$V"
	mount_attempt alice "$PW/alice"
	((RC != 0)) || fail "vaultfs mounted an empty directory as a vault"
	check_one_line "$T/err" "vaultfs on an empty directory"
	[[ -z $(ls -A "$V") ]] || fail "vaultfs wrote into a directory that is not a vault: $(ls -A "$V")"
}
it_case cli_missing_vault

tc_cli_non_admin_grant() {
	new_vault
	kt --vault "$V" --as alice --passphrase-file "$PW/alice" grant alice admin >"$T/out" 2>"$T/err"
	check_eq "$?" 3 "keytool grant by a non-admin (alice, owner)"
	check_one_line "$T/err" "non-admin grant"
	kt --vault "$V" --as bob --passphrase-file "$PW/bob" grant bob owner >"$T/out" 2>"$T/err"
	check_eq "$?" 3 "keytool grant by a non-admin (bob, member)"
	kt --vault "$V" --as bob --passphrase-file "$PW/bob" user add mallory \
		--new-passphrase-file "$PW/bob" >"$T/out" 2>"$T/err"
	check_eq "$?" 3 "keytool user add by a non-admin"
	kt --vault "$V" --as bob --passphrase-file "$PW/bob" revoke alice owner >"$T/out" 2>"$T/err"
	check_eq "$?" 3 "keytool revoke by a non-admin"

	kt --vault "$V" list grants --json >"$T/grants.json" || fail "list grants failed"
	jq -e . "$T/grants.json" >/dev/null || fail "list grants --json is not JSON"
	[[ $(jq '[.. | objects | select((.user? == "alice" and .role? == "admin") or (.user? == "bob" and .role? == "owner"))] | length' "$T/grants.json") == 0 ]] ||
		fail "a refused grant happened anyway: $(cat "$T/grants.json")"
	[[ $(jq '[.. | objects | select(.user? == "alice" and .role? == "owner")] | length' "$T/grants.json") -ge 1 ]] ||
		fail "a refused revoke happened anyway (or list grants --json lacks user/role fields): $(head -c 300 "$T/grants.json")"
	kt --vault "$V" list users --json >"$T/users.json" || fail "list users failed"
	grep -q mallory "$T/users.json" && fail "refused user add happened anyway"

	# the denials are in the trail
	records "$T/rec.json"
	expect_record "$T/rec.json" '.op == "grant" and .user == "alice" and .outcome == "denied"' \
		"alice's refused grant"
}
it_case cli_non_admin_grant

tc_cli_bad_mountpoint() {
	new_vault
	mount_attempt alice "$PW/alice" "$T/does/not/exist"
	((RC != 0)) || fail "vaultfs exited 0 for a mountpoint that does not exist"
	check_one_line "$T/err" "vaultfs on a missing mountpoint"
	# a failed start has let go of the vault by the time vaultfs returns, so
	# that the mount tried next is not refused as a second daemon
	flock -n "$V/lock" true || fail "the vault's lock was still held after vaultfs returned"

	: >"$T/plainfile"
	mount_attempt alice "$PW/alice" "$T/plainfile"
	((RC != 0)) || fail "vaultfs exited 0 for a mountpoint that is a regular file"
	check_one_line "$T/err" "vaultfs on a regular file"
	flock -n "$V/lock" true || fail "the vault's lock was still held after vaultfs returned"

	# the vault is busy: a second daemon on the same vault is refused
	it_mount alice
	mkdir -p "$T/mnt2"
	mount_attempt alice "$PW/alice" "$T/mnt2"
	if ((RC == 0)); then
		fusermount3 -u "$T/mnt2"
		fail "a second daemon mounted a vault that is already mounted"
	fi
	check_one_line "$T/err" "second mount of a mounted vault"
	is_mounted "$T/mnt2" && fail "second mount left $T/mnt2 mounted"

	# the mountpoint is busy: another vault on a mountpoint already in use
	cp -a "$IT_TEMPLATE/vault" "$T/vault2"
	timeout 60 "$VAULTFS" "$T/vault2" "$M" --user alice --passphrase-file "$PW/alice" \
		</dev/null >"$T/out" 2>"$T/err"
	RC=$?
	if ((RC == 0)); then
		fusermount3 -u "$M"
		fail "vaultfs mounted a second vault over the busy mountpoint $M (stacked mount)"
	fi
	check_one_line "$T/err" "mount on a busy mountpoint"
	# the first mount still works
	check touch "$M/still-works"
	it_umount
}
it_case cli_bad_mountpoint

tc_cli_meta_no_metakey() {
	new_vault
	"$META" --vault "$V" --as eve --passphrase-file "$PW/eve" log --json >"$T/out" 2>"$T/err"
	RC=$?
	cat "$T/err" >>"$T/tools.log"
	check_eq "$RC" 3 "vaultfs-meta as a user without the metadata key"
	check_one_line "$T/err" "vaultfs-meta as eve"
	[[ -s $T/out ]] && fail "vaultfs-meta printed something on stdout for a refused user: $(head -c 200 "$T/out")"
	"$META" --vault "$V" --as eve --passphrase-file "$PW/eve" inventory --json >"$T/out" 2>"$T/err"
	check_eq "$?" 3 "vaultfs-meta inventory as a user without the metadata key"
}
it_case cli_meta_no_metakey

tc_cli_daemonize() {
	new_vault
	mkdir -p "$M"
	mount_attempt alice "$PW/alice"
	check_eq "$RC" 0 "vaultfs (background) exit code: $(head -n 1 "$T/err")"
	# ready when it returns: no waiting
	is_mounted "$M" || fail "vaultfs returned before the mount was ready"
	check bash -c "echo hello >'$M/f' && cat '$M/f'"
	check_eq "$(cat "$T/last.out")" hello "read back through the background daemon"
	[[ -s $T/err ]] && note "stderr of the background daemon: $(head -c 200 "$T/err")"
	check fusermount3 -u "$M"
	# the daemon lets go of the vault (its lock) once unmounted
	retry 100 flock -n "$V/lock" true ||
		fail "the background daemon still holds $V/lock 20 s after the unmount"
	it_mount alice
	check_eq "$(cat "$M/f")" hello "content after remount"
	it_umount
}
it_case cli_daemonize

tc_cli_admin_while_mounted() {
	new_vault
	it_mount alice
	mkdir "$M/hr"
	check setfattr -n user.vault.level -v 2 "$M/hr"
	echo "for dave" >"$M/hr/doc"
	# an administrator works on the vault while it is mounted: it either works
	# or says clearly why not, and the mount goes on working
	kt --vault "$V" --as admin --passphrase-file "$PW/admin" grant bob staff >"$T/out" 2>"$T/err"
	local rc=$?
	if ((rc != 0)); then
		check_one_line "$T/err" "keytool grant while mounted"
		note "grant while mounted refused (exit $rc): $(cat "$T/err")"
	fi
	check bash -c "echo more >>'$M/hr/doc'"
	it_umount
	if ((rc != 0)); then
		check kt --vault "$V" --as admin --passphrase-file "$PW/admin" grant bob staff
	fi
	it_mount bob
	check_eq "$(head -n 1 "$M/hr/doc")" "for dave" "bob reading level 2 after the grant"
	it_umount
}
it_case cli_admin_while_mounted

tc_cli_usage() {
	"$VAULTFS" >"$T/out" 2>"$T/err"
	check_eq "$?" 2 "vaultfs without arguments"
	[[ -s $T/err ]] || fail "vaultfs without arguments printed nothing on stderr"
	"$VAULTFS" --help >"$T/out" 2>"$T/err"
	check_eq "$?" 0 "vaultfs --help"
	[[ -s $T/out ]] || fail "vaultfs --help printed nothing on stdout"
	"$KEYTOOL" >"$T/out" 2>"$T/err"
	check_eq "$?" 2 "vaultfs-keytool without arguments"
	"$KEYTOOL" --vault "$T" frobnicate >"$T/out" 2>"$T/err"
	check_eq "$?" 2 "vaultfs-keytool with an unknown subcommand"
	grep -q frobnicate "$T/err" || fail "keytool does not name the unknown subcommand: $(head -n 1 "$T/err")"
	"$KEYTOOL" grant --help >"$T/out" 2>"$T/err"
	check_eq "$?" 0 "vaultfs-keytool grant --help"
	[[ -s $T/out ]] || fail "vaultfs-keytool grant --help printed nothing on stdout"
	"$META" >"$T/out" 2>"$T/err"
	check_eq "$?" 2 "vaultfs-meta without arguments"
	"$META" log --help >"$T/out" 2>"$T/err"
	check_eq "$?" 0 "vaultfs-meta log --help"
	[[ -s $T/out ]] || fail "vaultfs-meta log --help printed nothing on stdout"
	cat "$T/err" >>"$T/tools.log"
}
it_case cli_usage

# Level lists of role add: each bad part named in one line, level 4 refused,
# names and "none" taken; list keys shows the roles' key versions.
tc_cli_level_lists() {
	new_vault
	local ad=(--vault "$V" --as admin --passphrase-file "$PW/admin") lv n=0
	for lv in "0,9|unknown level '9'" "4|level 4 (säkerhetsskydd) must never be stored" \
		"Känslig,4|level 4" "1,,2|unknown level ''" "0-3|unknown level '0-3'"; do
		kt "${ad[@]}" role add "bad$n" --levels "${lv%%|*}" >"$T/out" 2>"$T/err"
		check_eq "$?" 2 "role add --levels '${lv%%|*}'"
		grep -qF "${lv#*|}" "$T/err" || fail "role add --levels '${lv%%|*}': $(head -n 1 "$T/err")"
		n=$((n + 1))
	done
	check kt "${ad[@]}" role add named --levels "0,Intern,Mycket känslig"
	check kt "${ad[@]}" role add nothing --levels none
	kt --vault "$V" list roles --json >"$T/roles.json" || fail "list roles failed"
	jq -e '[.. | objects | select(.name? == "bad0")] | length == 0' "$T/roles.json" >/dev/null ||
		fail "a refused role was added"
	kt --vault "$V" list keys --json >"$T/keys.json" || fail "list keys failed"
	jq -e '[.role_keys[] | select(.role == "named" and (.versions | length) == 1)] | length == 1' \
		"$T/keys.json" >/dev/null || fail "list keys lacks role 'named': $(head -c 300 "$T/keys.json")"
	jq -e '[.level_keys[].versions[] | select(.state == "current" and
		any(.holders[]; .role == "named"))] | length == 3' "$T/keys.json" >/dev/null ||
		fail "list keys: role 'named' does not hold the current keys of its three levels"
}
it_case cli_level_lists

tc_cli_passphrase_file_mode() {
	new_vault
	mkdir -p "$M"
	cp "$PW/alice" "$T/pw-readable"
	chmod 644 "$T/pw-readable"
	mount_attempt alice "$T/pw-readable"
	if ((RC == 0)); then
		fail "vaultfs accepted a passphrase file readable by others (mode 0644)"
	fi
	check_one_line "$T/err" "passphrase file 0644"
	is_mounted "$M" && fail "mounted with a world-readable passphrase file"
	return 0
}
it_case cli_passphrase_file_mode

# A passphrase "file" that never ends a line (issue 10, item 5): /dev/zero by
# name, an endless pipe on stdin, a FIFO fed forever. Each command refuses or
# stops at the length limit with one line, within seconds, and changes nothing.
tc_cli_passphrase_endless() {
	new_vault
	mkdir -p "$M"
	local what rc
	for what in dev-zero stdin-pipe; do
		local pf=/dev/zero
		[[ $what == stdin-pipe ]] && pf=/dev/stdin
		# vaultfs
		if [[ $what == stdin-pipe ]]; then
			head -c 100000000 /dev/zero | timeout 20 "$VAULTFS" "$V" "$M" --user alice \
				--passphrase-file "$pf" >"$T/out" 2>"$T/err"
			rc=${PIPESTATUS[1]}
		else
			timeout 20 "$VAULTFS" "$V" "$M" --user alice --passphrase-file "$pf" \
				</dev/null >"$T/out" 2>"$T/err"
			rc=$?
		fi
		((rc == 124)) && fail "vaultfs hung on a passphrase file of $what"
		((rc != 0)) || fail "vaultfs mounted with a passphrase from $what"
		is_mounted "$M" && fail "mounted with a passphrase from $what"
		check_one_line "$T/err" "vaultfs with a passphrase from $what"
		# vaultfs-keytool
		if [[ $what == stdin-pipe ]]; then
			head -c 100000000 /dev/zero | timeout 20 "$KEYTOOL" --vault "$V" --as admin \
				--passphrase-file "$pf" grant bob owner >"$T/out" 2>"$T/err"
			rc=${PIPESTATUS[1]}
		else
			timeout 20 "$KEYTOOL" --vault "$V" --as admin --passphrase-file "$pf" \
				grant bob owner </dev/null >"$T/out" 2>"$T/err"
			rc=$?
		fi
		((rc == 124)) && fail "vaultfs-keytool hung on a passphrase file of $what"
		((rc != 0)) || fail "vaultfs-keytool accepted a passphrase from $what"
		check_one_line "$T/err" "vaultfs-keytool with a passphrase from $what"
		# vaultfs-meta
		if [[ $what == stdin-pipe ]]; then
			head -c 100000000 /dev/zero | timeout 20 "$META" --vault "$V" --as audrey \
				--passphrase-file "$pf" log --json >"$T/out" 2>"$T/err"
			rc=${PIPESTATUS[1]}
		else
			timeout 20 "$META" --vault "$V" --as audrey --passphrase-file "$pf" log --json \
				</dev/null >"$T/out" 2>"$T/err"
			rc=$?
		fi
		((rc == 124)) && fail "vaultfs-meta hung on a passphrase file of $what"
		((rc != 0)) || fail "vaultfs-meta accepted a passphrase from $what"
		check_one_line "$T/err" "vaultfs-meta with a passphrase from $what"
		[[ -s $T/out ]] && fail "vaultfs-meta printed records with a passphrase from $what"
	done
	# a named FIFO whose writer never ends the line
	mkfifo -m 600 "$T/fifo"
	(head -c 100000000 /dev/zero >"$T/fifo" 2>/dev/null &)
	timeout 20 "$KEYTOOL" --vault "$V" --as admin --passphrase-file "$T/fifo" grant bob owner \
		</dev/null >"$T/out" 2>"$T/err"
	rc=$?
	((rc == 124)) && fail "vaultfs-keytool hung on an endless FIFO"
	((rc != 0)) || fail "vaultfs-keytool accepted a passphrase from an endless FIFO"
	check_one_line "$T/err" "vaultfs-keytool with an endless FIFO"
	pkill -f "head -c 100000000 /dev/zero" 2>/dev/null
	# nothing was granted, and the right passphrase still works
	kt --vault "$V" list grants --json >"$T/grants.json" || fail "list grants failed"
	[[ $(jq '[.. | objects | select(.user? == "bob" and .role? == "owner")] | length' "$T/grants.json") == 0 ]] ||
		fail "a grant happened with an endless passphrase"
	check kt --vault "$V" --as admin --passphrase-file "$PW/admin" list users
}
it_case cli_passphrase_endless

# The vault directory, or a folder inside it, or a folder above it, as the
# mountpoint (issue 10, item 6): the daemon would serve its own backing
# files through itself and deadlock. Refused with one line, vault untouched.
tc_cli_mount_on_vault() {
	new_vault
	local mnt
	# a second copy one folder down, so that the folder above it holds nothing else
	mkdir -p "$T/box"
	cp -a "$IT_TEMPLATE/vault" "$T/box/vault" || fail "cannot copy the template vault"
	for mnt in "$V" "$V/objects" "$T/box"; do
		local vault=$V
		[[ $mnt == "$T/box" ]] && vault=$T/box/vault
		timeout 60 "$VAULTFS" "$vault" "$mnt" --user alice --passphrase-file "$PW/alice" \
			</dev/null >"$T/out" 2>"$T/err"
		RC=$?
		((RC == 124)) && fail "vaultfs did not return within 60 s when mounting $vault on $mnt"
		if ((RC == 0)) || is_mounted "$mnt"; then
			fusermount3 -u -z "$mnt" 2>/dev/null
			fail "vaultfs mounted the vault on $mnt"
		fi
		check_one_line "$T/err" "vaultfs on $mnt"
		grep -q "vault" "$T/err" || fail "the error does not name the vault: $(cat "$T/err")"
		flock -n "$vault/lock" true || fail "the vault's lock was still held after vaultfs returned"
	done
	# the same through a symlink to the vault
	ln -s "$V" "$T/vault-link"
	mount_attempt alice "$PW/alice" "$T/vault-link"
	if ((RC == 0)) || is_mounted "$V"; then
		fusermount3 -u -z "$V" 2>/dev/null
		fail "vaultfs mounted the vault on a symlink to itself"
	fi
	check_one_line "$T/err" "vaultfs on a symlink to the vault"
	# the vault still mounts where it should
	it_mount alice
	check ls "$M"
	it_umount
}
it_case cli_mount_on_vault
