# shellcheck shell=bash
# scripts/common.sh — what scripts/test and scripts/demo share: messages and
# installing missing Debian packages. Sourced, not run.

# The name the messages carry ("test", "demo").
VFS_SCRIPT=${VFS_SCRIPT:-$(basename "$0")}

vfs_say() { printf '%s: %s\n' "$VFS_SCRIPT" "$*"; }
vfs_die() { printf '%s: error: %s\n' "$VFS_SCRIPT" "$*" >&2; exit 1; }

# vfs_ensure_packages PKG...: install the packages that dpkg does not list as
# installed. apt-get update runs only when something is missing; non-root
# callers get one line saying what to install instead.
vfs_ensure_packages() {
	local p status
	local -a missing=()

	command -v dpkg-query >/dev/null 2>&1 ||
		vfs_die "dpkg-query not found: this script expects Debian 12 (bookworm)"
	for p in "$@"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) || status=
		[[ $status == "install ok installed" ]] || missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0

	if ((EUID != 0)); then
		vfs_die "missing packages: ${missing[*]} — run as root (sudo $0) or install them: apt-get install ${missing[*]}"
	fi
	vfs_say "installing missing packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q </dev/null || vfs_die "apt-get update failed"
	apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null ||
		vfs_die "apt-get install ${missing[*]} failed"
}
