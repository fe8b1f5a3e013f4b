# tests/integration/lib.sh — the framework of the integration suite: one fresh
# vault and mountpoint per case, mounting and unmounting the daemon, checks
# that stop the case with a reason, and the access-record queries. Sourced by
# `run`; the t_*.sh files define the cases and register them with it_case.
#
# A case is a function tc_NAME. It runs in its own subshell with:
#   T   its directory (under the run's root), mode 0755 so other uids can pass
#   V   the vault directory ($T/vault, a copy of the template vault)
#   M   the mountpoint ($T/mnt)
#   PW  the directory of passphrase files ($PW/alice, ... mode 0600)
# and stops at the first failed check (fail writes the reason and exits). The
# EXIT trap unmounts whatever the case mounted, waits for the daemon and looks
# at its log: a daemon that died, exited non-zero, or printed a sanitizer
# report fails the case even if its checks passed.
#
# Template vault users (all passphrases in $PW):
#   admin   role admin (administration, no levels)
#   alice   role owner (levels 0-3, may declassify)
#   bob     role member (levels 0,1)
#   carol   role reader (levels 0,1,2, read-only)
#   dave    role staff (levels 0,1,2, no declassify)
#   audrey  role auditor (metadata key and records, no levels)
#   eve     no role at all

# --- settings ------------------------------------------------------------------

IT_CASE_TIMEOUT=${IT_CASE_TIMEOUT:-150}	# seconds before a case's daemons are killed
IT_MOUNT_TIMEOUT=${IT_MOUNT_TIMEOUT:-30}	# seconds wait_for_mount waits
IT_USERS=(alice bob carol dave audrey eve)

# --- output of one case ------------------------------------------------------------

# fail REASON...: stop the case; REASON becomes the FAIL line.
fail() {
	local msg="$*"
	if [[ -n ${DPID:-} ]] && ! kill -0 "$DPID" 2>/dev/null; then
		msg+=" [the daemon died: $(grep -m 1 -E 'ERROR: |runtime error' "$T/daemon.log" 2>/dev/null ||
			tail -n 1 "$T/daemon.log" 2>/dev/null)]"
	fi
	printf '%s\n' "$msg" >>"$T/.fail"
	exit 1
}

# skip REASON...: the case cannot run here (not a failure).
skip() {
	printf '%s\n' "$*" >"$T/.skip"
	exit 77
}

# note TEXT...: context shown under a FAIL line (not shown when the case passes).
note() {
	printf '%s\n' "$*" >>"$T/.ctx"
}

# note_file FILE [LINES]: the last lines of FILE as context.
note_file() {
	[[ -s $1 ]] || return 0
	{
		printf -- '--- %s (last %s lines)\n' "${1#"$T"/}" "${2:-15}"
		tail -n "${2:-15}" "$1"
	} >>"$T/.ctx"
}

# --- checks ------------------------------------------------------------------

# check CMD...: CMD must succeed; its output is kept in $T/last.out.
check() {
	"$@" >"$T/last.out" 2>&1
	local rc=$?
	if ((rc != 0)); then
		note_file "$T/last.out" 10
		fail "'$*' exited $rc: $(head -c 300 "$T/last.out" | tr '\n' ' ')"
	fi
}

# check_fails CMD...: CMD must fail (exit non-zero); output in $T/last.out.
check_fails() {
	"$@" >"$T/last.out" 2>&1
	local rc=$?
	if ((rc == 0)); then
		note_file "$T/last.out" 10
		fail "'$*' succeeded, expected it to fail"
	fi
	return 0
}

# check_eq ACTUAL EXPECTED WHAT
check_eq() {
	[[ $1 == "$2" ]] || fail "$3: got '$1', expected '$2'"
}

# check_in ACTUAL WHAT ALLOWED...: ACTUAL is one of ALLOWED.
check_in() {
	local a=$1 what=$2 x
	shift 2
	for x in "$@"; do
		[[ $a == "$x" ]] && return 0
	done
	fail "$what: got '$a', expected one of: $*"
}

# check_same FILE_A FILE_B WHAT: byte-identical files.
check_same() {
	if ! cmp "$1" "$2" >"$T/last.out" 2>&1; then
		fail "$3: $(head -c 300 "$T/last.out" | tr '\n' ' ')"
	fi
}

# po VERB ARGS...: the posixops helper; prints its one-line result.
po() {
	"$POSIXOPS" "$@"
}

# po_expect RESULT VERB ARGS...: posixops must print RESULT (e.g. ok, EEXIST).
po_expect() {
	local want=$1 got
	shift
	got=$("$POSIXOPS" "$@" 2>&1)
	[[ $got == "$want" ]] || fail "posixops $*: got '$got', expected '$want'"
}

# po_expect_in VERB ARGS... -- ALLOWED...: what posixops prints is one of ALLOWED.
po_expect_in() {
	local -a cmd=()
	while (($#)) && [[ $1 != -- ]]; do
		cmd+=("$1")
		shift
	done
	shift
	local got
	got=$("$POSIXOPS" "${cmd[@]}" 2>&1)
	check_in "$got" "posixops ${cmd[*]}" "$@"
}

# retry N CMD...: CMD until it succeeds, at most N times 0.2 s apart.
retry() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.2
	done
	return 1
}

# token PREFIX: a unique string no file can contain by chance.
token() {
	printf '%s%s' "$1" "$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
}

# mkfile_random FILE BYTES: random content.
mkfile_random() {
	head -c "$2" /dev/urandom >"$1"
}

# need CMD...: skip the case when a program it drives is not installed.
need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "$c not installed"
	done
}

# need_root: skip unless we are root (setpriv, chown, allow_other).
need_root() {
	((EUID == 0)) || skip "needs root"
}

# check_one_line ERRFILE WHAT: a command's stderr is exactly one line.
check_one_line() {
	local n
	n=$(grep -c '' "$1")
	if ((n != 1)); then
		note_file "$1" 10
		fail "$2: expected one line on stderr, got $n"
	fi
}

# flip_byte FILE OFFSET: xor one byte of FILE with 0x01 in place.
flip_byte() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	[[ -n $b ]] || fail "flip_byte: $1 has no byte at offset $2"
	printf "$(printf '\\%03o' $((b ^ 1)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none || fail "flip_byte: cannot write $1"
}

# copy_range SRC SRC_OFF DST DST_OFF LEN: copy bytes in place (no truncation).
copy_range() {
	dd if="$1" of="$3" bs=4096 iflag=skip_bytes,count_bytes oflag=seek_bytes \
		skip="$2" seek="$4" count="$5" conv=notrunc status=none || fail "copy_range $*"
}

# tree_dump: the tree under the current directory (relative names, types,
# modes, file link counts and sizes, symlink targets, file digests), for
# comparing with ext4. Directory sizes and link counts are left out.
tree_dump() {
	find . -mindepth 1 -printf '%y %m %n %s %p -> %l\n' |
		awk '$1 == "d" { $3 = "-"; $4 = "-" } { print }' | LC_ALL=C sort
	find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r md5sum
}

# tree_sig DIR: tree_dump of DIR plus mtimes (ns) and user.* xattrs.
tree_sig() {
	(
		cd "$1" || exit 1
		find . -mindepth 1 -printf '%y %m %n %s %T@ %p -> %l\n' |
			awk '$1 == "d" { $3 = "-"; $4 = "-" } { print }' | LC_ALL=C sort
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r md5sum
		getfattr -R -h -d -m '^user\.' . 2>/dev/null | LC_ALL=C sort
	)
}

# check_same_tree DIR_A DIR_B WHAT: tree_sig equal.
check_same_tree() {
	tree_sig "$1" >"$T/sig.a" 2>&1
	tree_sig "$2" >"$T/sig.b" 2>&1
	if ! diff -u "$T/sig.a" "$T/sig.b" >"$T/sig.diff"; then
		note_file "$T/sig.diff" 30
		fail "$3: trees differ ($(grep -c '^[-+][^-+]' "$T/sig.diff") lines): $(grep -m 2 '^[-+][^-+]' "$T/sig.diff" | tr '\n' ' ')"
	fi
}

# on_both FUNC: run FUNC inside $M/cmp and inside $T/ref (ext4 or whatever
# /tmp is) and require the same transcript. FUNC uses relative paths only.
on_both() {
	local fn=$1
	mkdir -p "$M/cmp" "$T/ref" || fail "on_both: mkdir failed"
	(cd "$T/ref" && "$fn") >"$T/tr.ref" 2>&1
	(cd "$M/cmp" && "$fn") >"$T/tr.vaultfs" 2>&1
	if ! diff -u "$T/tr.ref" "$T/tr.vaultfs" >"$T/tr.diff"; then
		note "reference filesystem: $(stat -f -c %T "$T/ref") (lines with - are its output, + the mount's)"
		note_file "$T/tr.diff" 40
		fail "$fn: behaves differently from the reference filesystem: $(grep -m 2 '^[-+][^-+]' "$T/tr.diff" | tr '\n' ' ')"
	fi
}

# mk_tree DIR: a varied tree (sizes around the 4096-byte chunk, links, modes,
# times, xattrs, unicode and space in names, an empty dir, a FIFO).
mk_tree() {
	local d=$1
	mkdir -p "$d/sub/deeper" "$d/with space" "$d/empty" || fail "mk_tree $d"
	: >"$d/zero"
	local n
	for n in 1 4095 4096 4097 100000 1048583; do
		head -c "$n" /dev/urandom >"$d/f$n"
	done
	printf 'line one\nline two\n' >"$d/with space/text file.txt"
	printf 'hej\n' >"$d/sub/åäö ÅÄÖ.txt"
	head -c 9000 /dev/urandom >"$d/sub/deeper/nine"
	ln -s sub/deeper "$d/link_rel"
	ln -s /nonexistent/target "$d/link_dangling"
	ln "$d/f4096" "$d/sub/hardlink"
	chmod 600 "$d/f1"
	chmod 755 "$d/f4097"
	chmod 444 "$d/f100000"
	chmod 700 "$d/sub/deeper"
	setfattr -n user.note -v "a note" "$d/f4095" 2>/dev/null
	setfattr -n user.bin -v 0x00ff00ff "$d/sub/deeper/nine" 2>/dev/null
	mkfifo "$d/fifo"
	# times in the past, each in its own second: tools like rsync compare
	# whole seconds and would leave a "now" time alone
	local i=0 p
	while IFS= read -r -d '' p; do
		i=$((i + 1))
		touch -h -d "@$((1600000000 + i * 1000)).$((i * 7919 % 1000000000))" "$p"
	done < <(find "$d" -mindepth 1 -depth -print0)
	touch -d '2020-01-02 03:04:05.123456789' "$d/f4097" "$d/zero"
	touch -h -d '2019-05-06 07:08:09.5' "$d/link_rel"
	touch -d '2018-01-01 00:00:00' "$d/sub/deeper" "$d/empty"
}

# --- mounting ------------------------------------------------------------------

# is_mounted DIR: DIR is a mountpoint in our namespace.
is_mounted() {
	local d
	d=$(realpath -e "$1" 2>/dev/null) || d=$1
	awk -v d="$d" '$5 == d { f = 1 } END { exit !f }' /proc/self/mountinfo
}

# wait_for_mount DIR PID: wait until DIR is mounted; fail at once if PID died.
wait_for_mount() {
	local dir=$1 pid=$2 i
	for ((i = 0; i < IT_MOUNT_TIMEOUT * 20; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			local rc=$?
			note_file "$T/daemon.log" 20
			fail "daemon (pid $pid) exited with $rc before $dir was mounted: $(grep -v '^===' "$T/daemon.log" | tail -n 1)"
		fi
		if is_mounted "$dir" && stat "$dir/." >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.05
	done
	note_file "$T/daemon.log" 20
	fail "$dir not mounted after ${IT_MOUNT_TIMEOUT}s (daemon pid $pid still running)"
}

# it_mount USER [DAEMON ARGS...]: mount $V on $M as USER (foreground daemon in
# the background, so its pid and exit status are ours). Sets DPID.
it_mount() {
	local user=$1
	shift
	mkdir -p "$M"
	printf '=== %s: mount %s as %s %s\n' "$(date +%T.%N)" "$V" "$user" "$*" >>"$T/daemon.log"
	"$VAULTFS" "$V" "$M" --user "$user" --passphrase-file "$PW/$user" -f "$@" \
		</dev/null >>"$T/daemon.log" 2>&1 &
	DPID=$!
	DUSER=$user
	printf '%s %s\n' "$DPID" "$M" >>"$T/.mounts"
	wait_for_mount "$M" "$DPID"
}

# daemon_check_log: fail if the daemon log has a sanitizer report.
daemon_check_log() {
	local f
	for f in "$T/daemon.log" "$T/tools.log"; do
		[[ -f $f ]] || continue
		if grep -qE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|SUMMARY: (Address|Undefined|Leak)' "$f"; then
			grep -nE -m 3 'ERROR: |runtime error:|SUMMARY:' "$f" >>"$T/.ctx"
			note_file "$f" 40
			fail "sanitizer report in ${f#"$T"/}"
		fi
	done
}

# it_umount: unmount $M cleanly and check that the daemon exited 0.
it_umount() {
	local i rc
	[[ -n ${DPID:-} ]] || fail "it_umount without a mount"
	if ! kill -0 "$DPID" 2>/dev/null; then
		wait "$DPID"
		rc=$?
		sed -i "/^$DPID /d" "$T/.mounts"
		DPID=
		fusermount3 -u -z "$M" 2>/dev/null
		daemon_check_log
		note_file "$T/daemon.log" 20
		fail "the daemon died while mounted (exit status $rc)"
	fi
	for ((i = 0; i < 50; i++)); do
		fusermount3 -u "$M" 2>>"$T/umount.err" && break
		sleep 0.2
	done
	if ((i == 50)); then
		note_file "$T/umount.err" 5
		fail "fusermount3 -u $M kept failing (busy?)"
	fi
	for ((i = 0; i < 300; i++)); do
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$DPID" 2>/dev/null; then
		kill -9 "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
		DPID=
		note_file "$T/daemon.log" 20
		fail "daemon did not exit within 15 s of the unmount"
	fi
	wait "$DPID"
	rc=$?
	sed -i "/^$DPID /d" "$T/.mounts"
	DPID=
	daemon_check_log
	if ((rc != 0)); then
		note_file "$T/daemon.log" 20
		fail "daemon exited with status $rc after a clean unmount"
	fi
	return 0
}

# it_kill9: kill -9 the daemon (a crash) and detach the dead mount.
it_kill9() {
	[[ -n ${DPID:-} ]] || fail "it_kill9 without a mount"
	kill -9 "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	sed -i "/^$DPID /d" "$T/.mounts"
	DPID=
	fusermount3 -u -z "$M" 2>>"$T/umount.err" || umount -l "$M" 2>>"$T/umount.err"
	retry 50 eval '! is_mounted "$M"' || fail "dead mount $M still mounted after fusermount3 -u -z"
	daemon_check_log
}

# it_remount [USER]: unmount and mount again (as USER, default the same user).
it_remount() {
	local user=${1:-$DUSER}
	it_umount
	it_mount "$user"
}

# Cleanup of a case (EXIT trap): unmount everything it mounted.
it_case_cleanup() {
	local rc=$? pid mnt
	if [[ -s $T/.mounts ]]; then
		while read -r pid mnt; do
			fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt" 2>/dev/null
			for ((i = 0; i < 100; i++)); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.05
			done
			if kill -0 "$pid" 2>/dev/null; then
				kill -9 "$pid" 2>/dev/null
				[[ -f $T/.fail ]] || printf '%s\n' "daemon $pid did not exit after unmount" >>"$T/.fail"
			fi
			wait "$pid" 2>/dev/null
			is_mounted "$mnt" && fusermount3 -u -z "$mnt" 2>/dev/null
		done <"$T/.mounts"
		: >"$T/.mounts"
	fi
	# a mount made by a command the case ran without -f
	for mnt in "$M" "$T/mnt2"; do
		if is_mounted "$mnt"; then
			fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt" 2>/dev/null
		fi
	done
	if ((rc == 0)) && [[ ! -f $T/.fail ]]; then
		(daemon_check_log)
	fi
}

# --- the vault ---------------------------------------------------------------------

# run_tool CMD...: run a command of the product; its stderr goes to our stderr
# and to tools.log (the sanitizer check reads it).
run_tool() {
	local err rc
	err=$(mktemp "$T/.tool.XXXXXX")
	"$@" 2>"$err"
	rc=$?
	cat "$err" >&2
	cat "$err" >>"$T/tools.log"
	rm -f "$err"
	return $rc
}

# kt ARGS...: vaultfs-keytool.
kt() {
	run_tool "$KEYTOOL" "$@"
}

# meta_as USER ARGS...: vaultfs-meta as USER on $V.
meta_as() {
	local user=$1
	shift
	run_tool "$META" --vault "$V" --as "$user" --passphrase-file "$PW/$user" "$@"
}

# records OUT [log ARGS...]: the access records (JSON) as the auditor, into OUT.
records() {
	local out=$1
	shift
	if ! meta_as audrey log --json "$@" >"$out" 2>"$out.err"; then
		note_file "$out.err" 5
		fail "vaultfs-meta log --json $* failed: $(head -n 1 "$out.err")"
	fi
	jq -e 'type == "array"' "$out" >/dev/null 2>&1 ||
		fail "vaultfs-meta log --json did not print a JSON array: $(head -c 200 "$out")"
}

# incidents OUT: the incidents (JSON) as the auditor.
incidents() {
	local out=$1
	if ! meta_as audrey incidents --json >"$out" 2>"$out.err"; then
		note_file "$out.err" 5
		fail "vaultfs-meta incidents --json failed: $(head -n 1 "$out.err")"
	fi
	jq -e 'type == "array"' "$out" >/dev/null 2>&1 ||
		fail "vaultfs-meta incidents --json did not print a JSON array: $(head -c 200 "$out")"
}

# rec_count JSON FILTER: how many records match the jq FILTER (a boolean on .).
rec_count() {
	jq "[.[] | select($2)] | length" "$1"
}

# expect_record JSON FILTER WHAT: at least one record matches; on failure the
# records that share the op (or the last ones) are shown.
expect_record() {
	local n
	n=$(rec_count "$1" "$2") || fail "jq failed on $1 with filter $2"
	if ((n == 0)); then
		local op
		op=$(sed -n 's/.*\.op == "\([a-z0-9_-]*\)".*/\1/p' <<<"$2" | head -n 1)
		if [[ -n $op ]]; then
			jq -c --arg op "$op" '.[] | select(.op == $op)' "$1" | tail -n 8 >>"$T/.ctx"
		else
			jq -c '.[]' "$1" | tail -n 8 >>"$T/.ctx"
		fi
		fail "no access record for $3 (jq: $2)"
	fi
}

# expect_no_record JSON FILTER WHAT
expect_no_record() {
	local n
	n=$(rec_count "$1" "$2") || fail "jq failed on $1 with filter $2"
	if ((n != 0)); then
		jq -c ".[] | select($2)" "$1" | head -n 5 >>"$T/.ctx"
		fail "unexpected access record: $3"
	fi
}

# new_vault: a fresh copy of the template vault at $V.
new_vault() {
	[[ -d $IT_TEMPLATE/vault ]] || fail "no template vault: $(cat "$IT_ROOT/template.err" 2>/dev/null | tail -n 1)"
	cp -a "$IT_TEMPLATE/vault" "$V" || fail "cannot copy the template vault"
}

# objects: the blob files of $V, one path per line, sorted.
objects() {
	find "$V/objects" -type f 2>/dev/null | sort
}

# new_blob_since LIST: the blobs added since LIST (an earlier `objects` output).
new_blob_since() {
	comm -13 "$1" <(objects)
}

# sql SQL: run SQL on $V/vault.db (vault unmounted).
sql() {
	sqlite3 -batch "$V/vault.db" "$@"
}

# --- template ----------------------------------------------------------------------

# it_make_template: create the template vault with its users and roles once.
it_make_template() {
	local d=$IT_TEMPLATE u
	local T=$IT_ROOT
	mkdir -p "$d" "$PW"
	chmod 700 "$PW"
	for u in admin "${IT_USERS[@]}"; do
		(umask 077 && printf 'pass-%s-%s\n' "$u" "$(token '')" >"$PW/$u")
	done
	(
		# (set -e does not work here: the caller tests our status)
		"$KEYTOOL" --vault "$d/vault" --passphrase-file "$PW/admin" init --admin admin \
			--kdf interactive || exit
		local ad=(--vault "$d/vault" --as admin --passphrase-file "$PW/admin")
		for u in "${IT_USERS[@]}"; do
			"$KEYTOOL" "${ad[@]}" user add "$u" --new-passphrase-file "$PW/$u" || exit
		done
		"$KEYTOOL" "${ad[@]}" role add reader --levels 0,1,2 --read-only || exit
		"$KEYTOOL" "${ad[@]}" role add staff --levels 0,1,2 || exit
		"$KEYTOOL" "${ad[@]}" grant alice owner || exit
		"$KEYTOOL" "${ad[@]}" grant bob member || exit
		"$KEYTOOL" "${ad[@]}" grant carol reader || exit
		"$KEYTOOL" "${ad[@]}" grant dave staff || exit
		"$KEYTOOL" "${ad[@]}" grant audrey auditor || exit
	) >"$IT_ROOT/template.log" 2>&1
	local rc=$?
	if ((rc != 0)); then
		printf 'creating the template vault failed (exit %d): %s\n' "$rc" \
			"$(tail -n 1 "$IT_ROOT/template.log")" >"$IT_ROOT/template.err"
		rm -rf "$d/vault"
		return 1
	fi
	return 0
}

# --- the runner ----------------------------------------------------------------------

IT_CASES=()

# it_case NAME: register tc_NAME.
it_case() {
	IT_CASES+=("$1")
}

IT_PASSED=0
IT_FAILED=0
IT_SKIPPED=0

# kill_tree PID: kill PID and its descendants (by pid).
kill_tree() {
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		kill_tree "$c"
	done
	kill -9 "$1" 2>/dev/null
}

# Kill what a case left running after its timeout: its daemons first (that
# unblocks FUSE calls), then the case itself.
it_watchdog() {
	local T=$1 casepid=$2 pid mnt i
	for ((i = 0; i < IT_CASE_TIMEOUT * 2; i++)); do
		kill -0 "$casepid" 2>/dev/null || exit 0
		sleep 0.5
	done
	printf 'timed out after %ss\n' "$IT_CASE_TIMEOUT" >>"$T/.fail"
	if [[ -f $T/.mounts ]]; then
		while read -r pid mnt; do
			kill -9 "$pid" 2>/dev/null
			fusermount3 -u -z "$mnt" 2>/dev/null
		done <"$T/.mounts"
	fi
	for ((i = 0; i < 20; i++)); do
		kill -0 "$casepid" 2>/dev/null || exit 0
		sleep 0.5
	done
	kill_tree "$casepid"
}

# it_remove_case_dir DIR: remove a case's directory, detaching any mount left in it first.
it_remove_case_dir() {
	local m
	while read -r m; do
		fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done < <(awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo)
	rm -rf --one-file-system "$1"
}

# it_run_case NAME
it_run_case() {
	local name=$1 rc t0 t1
	local T=$IT_ROOT/cases/$name
	mkdir -p "$T"
	chmod 755 "$T"
	t0=$(date +%s.%N)
	(
		V=$T/vault
		M=$T/mnt
		DPID=
		: >"$T/.mounts"
		trap it_case_cleanup EXIT
		cd "$T" || exit 1
		"tc_$name"
	) >"$T/case.log" 2>&1 </dev/null &
	local casepid=$!
	it_watchdog "$T" "$casepid" &
	local wpid=$!
	wait "$casepid"
	rc=$?
	kill "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
	t1=$(date +%s.%N)
	local secs
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	printf '%s %s\n' "$secs" "$name" >>"$IT_ROOT/timings"
	if [[ -f $T/.fail ]] || ((rc != 0 && rc != 77)); then
		IT_FAILED=$((IT_FAILED + 1))
		local reason
		if [[ -f $T/.fail ]]; then
			reason=$(head -n 1 "$T/.fail")
		else
			reason="case exited $rc without a reason"
		fi
		printf 'FAIL - %s: %s\n' "$name" "$reason"
		{
			tail -n +2 "$T/.fail" 2>/dev/null
			cat "$T/.ctx" 2>/dev/null
			if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/daemon.log" 2>/dev/null &&
				! grep -q 'sanitizer report' "$T/.fail"; then
				echo "the daemon log has a sanitizer report:"
				grep -E -m 1 -A 6 'ERROR: |runtime error:' "$T/daemon.log"
			fi
			if [[ ! -f $T/.fail ]]; then
				tail -n 10 "$T/case.log"
			fi
		} | head -n 60 | sed 's/^/#   /'
		printf '#   (%ss; logs in %s)\n' "$secs" "$T"
		IT_KEEP=1
	elif ((rc == 77)); then
		IT_SKIPPED=$((IT_SKIPPED + 1))
		printf 'skip - %s: %s\n' "$name" "$(head -n 1 "$T/.skip" 2>/dev/null)"
		[[ -n ${IT_KEEP_ALL:-} ]] || it_remove_case_dir "$T"
	else
		IT_PASSED=$((IT_PASSED + 1))
		printf 'ok - %s\n' "$name"
		[[ -n ${IT_KEEP_ALL:-} ]] || it_remove_case_dir "$T"
	fi
}
