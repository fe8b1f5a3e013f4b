/*
 * keytool/cmd/lifecycle.c — vaultfs-keytool's commands for the life of keys:
 * revoke, user remove, rotate (finish, new level versions, re-encryption),
 * expire, and list keys.
 *
 * The work is keytool/rotation.c's; this file parses, checks names before
 * asking for a passphrase, shows progress on a terminal ("re-wrapped
 * 12000/50000 file keys", on stderr, nothing when stderr is not a
 * terminal), and turns errors into one line and an exit code.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keytool/cmd/cmd.h"
#include "keytool/content.h"
#include "keytool/recovery.h"
#include "keytool/rotation.h"
#include "meta/lifecycle.h"

#define LEVEL_NAME_BUF 256

/* ---- progress ---------------------------------------------------------- */

struct progress {
	bool tty;   /* stderr is a terminal */
	bool shown; /* a line is open */
};

static void show_progress(void *ctx, const char *what, uint64_t done, uint64_t total)
{
	struct progress *p = ctx;

	if (!p->tty)
		return;
	fprintf(stderr, "\r%s %llu/%llu %s", what, (unsigned long long)done,
		(unsigned long long)total, strcmp(what, "re-wrapped") == 0 ? "file keys" : "files");
	fflush(stderr);
	p->shown = true;
}

static void progress_end(struct progress *p)
{
	if (p->shown)
		fputc('\n', stderr);
	p->shown = false;
}

/* The hint for a rotation left unfinished. */
#define HINT_FINISH "run '" PROGRAM " rotate' to finish it; every file stays readable meanwhile"

int run_rotations(struct meta_db *db, struct kt_keyring *kr)
{
	struct progress p = {.tty = isatty(STDERR_FILENO) == 1};
	struct kt_rotation_options o = {.progress = show_progress, .progress_ctx = &p};
	struct kt_rotation_result res = {0};
	const char *name = kt_keyring_user(kr)->name;
	int r;

	r = kt_rotation_run(db, kr, &o, &res);
	progress_end(&p);
	switch (r) {
	case 0:
		if (res.rotations)
			printf(
			    "rotation finished: %llu file keys re-wrapped, %llu old key versions "
			    "destroyed\n",
			    (unsigned long long)res.files, (unsigned long long)res.destroyed);
		return CLI_EXIT_OK;
	case -EBADMSG:
		cli_error("%llu file keys do not open (damaged or tampered): the other files are "
			  "re-wrapped, the old key versions those need are kept; see "
			  "'vaultfs-meta incidents'",
			  (unsigned long long)res.failed);
		return CLI_EXIT_FAILED;
	case -EACCES:
		cli_error("'%s' is no longer an administrator: another administrator must finish "
			  "the rotation with '" PROGRAM " rotate'",
			  name);
		return CLI_EXIT_DENIED;
	case -EBUSY:
		cli_error("the vault is busy; the rotation is not finished: " HINT_FINISH);
		return CLI_EXIT_FAILED;
	default:
		cli_error("cannot finish the rotation: %s; " HINT_FINISH, strerror(-r));
		return CLI_EXIT_FAILED;
	}
}

/* ---- revoke ------------------------------------------------------------ */

int cmd_revoke(const struct globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"no-wait", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const struct command *c = find_command("revoke");
	struct kt_keyring *kr = NULL;
	struct meta_db *db = NULL;
	struct meta_user admin, u;
	struct meta_role role;
	bool no_wait = false;
	int opt, x, r;

	getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			no_wait = true;
			break;
		case 'h':
			print_help(c);
			return CLI_EXIT_OK;
		default:
			return bad_option(c, opt, argv);
		}
	}
	if (argc - optind != 2)
		return usage_error(c, argc - optind < 2 ? "revoke needs a user and a role"
							: "too many arguments");
	x = admin_session(g, c, &db, &admin);
	if (x != CLI_EXIT_OK)
		return x;
	x = check_user_role(db, argv[optind], argv[optind + 1], &u, &role);
	if (x != CLI_EXIT_OK)
		goto out;
	x = unlock_user(g, db, admin.name, &kr);
	if (x != CLI_EXIT_OK)
		goto out;
	r = kt_revoke(db, kr, u.name, role.name);
	if (r == -ENOENT) {
		cli_error("'%s' does not hold role '%s' (see '" PROGRAM " list grants')", u.name,
			  role.name);
		x = CLI_EXIT_FAILED;
	} else if (r == -EPERM) {
		cli_error("'%s' is the last administrator: grant the admin role to another user "
			  "first",
			  u.name);
		x = CLI_EXIT_DENIED;
	} else {
		x = admin_error(admin.name, "revoke the role", r);
	}
	if (x != CLI_EXIT_OK)
		goto out;
	printf("revoked role '%s' from '%s': new key versions are in use from now on\n", role.name,
	       u.name);
	if (no_wait) {
		printf("the file keys are re-wrapped when '" PROGRAM " rotate' runs\n");
		goto out;
	}
	x = run_rotations(db, kr);
out:
	kt_keyring_free(kr);
	meta_db_close(db);
	return x;
}

/* ---- user remove ------------------------------------------------------- */

int cmd_user_remove(const struct globals *g, const struct command *c, int argc, char **argv)
{
	struct kt_keyring *kr = NULL;
	struct meta_db *db = NULL;
	struct meta_user admin, u;
	int x, r;

	if (argc != 2)
		return usage_error(c, argc < 2 ? "missing user name" : "too many arguments");
	x = admin_session(g, c, &db, &admin);
	if (x != CLI_EXIT_OK)
		return x;
	r = meta_user_get_by_name(db, argv[1], &u);
	if (r == -ENOENT) {
		cli_error("unknown user '%s' (" HINT_LIST_USERS ")", argv[1]);
		x = CLI_EXIT_FAILED;
		goto out;
	}
	if (r == 0 && u.disabled) {
		cli_error("user '%s' was already removed", u.name);
		x = CLI_EXIT_FAILED;
		goto out;
	}
	x = unlock_user(g, db, admin.name, &kr);
	if (x != CLI_EXIT_OK)
		goto out;
	r = kt_user_remove(db, kr, u.name);
	if (r == -EPERM) {
		cli_error("'%s' is the last administrator: grant the admin role to another user "
			  "first",
			  u.name);
		x = CLI_EXIT_DENIED;
	} else if (r == -EALREADY) {
		cli_error("user '%s' was already removed", u.name);
		x = CLI_EXIT_FAILED;
	} else {
		x = admin_error(admin.name, "remove the user", r);
	}
	if (x != CLI_EXIT_OK)
		goto out;
	printf("removed user '%s': they can no longer unlock, and the roles they held have new "
	       "key versions\n",
	       u.name);
	x = run_rotations(db, kr);
out:
	kt_keyring_free(kr);
	meta_db_close(db);
	return x;
}

/* ---- rotate ------------------------------------------------------------ */

/* "0,2" / level names → mask; prints and returns false if bad. */
static bool levels_arg(const struct command *c, struct meta_db *db, const char *text,
		       uint32_t *ret_levels, int *ret_exit)
{
	char *copy = strdup(text), *p, *tok;
	uint32_t levels = 0;
	bool ok = true;

	if (!copy) {
		cli_error("out of memory");
		*ret_exit = CLI_EXIT_FAILED;
		return false;
	}
	for (p = copy; ok && (tok = strsep(&p, ",")) != NULL;) {
		uint8_t level;

		if (kt_level_parse(db, tok, &level) < 0 || level == META_LEVEL_REFUSED) {
			*ret_exit = usage_error(c,
						"unknown level '%s' (use 0-3 or a level name; see "
						"'" PROGRAM " list levels')",
						tok);
			ok = false;
		} else {
			levels |= 1u << level;
		}
	}
	free(copy);
	if (ok)
		*ret_levels = levels;
	return ok;
}

static int reencrypt(const struct globals *g, struct meta_db *db, struct kt_keyring *kr,
		     uint32_t levels, size_t batch)
{
	struct progress p = {.tty = isatty(STDERR_FILENO) == 1};
	struct kt_rotation_options o = {
	    .batch = batch, .progress = show_progress, .progress_ctx = &p};
	struct kt_content_store store = {.objects = NULL};
	struct kt_rotation_result res = {0};
	struct kt_content_ops ops;
	int r;

	/* Works while mounted: a file the daemon has open is replaced once it
	 * is closed (the blobs' locks coordinate the two, see keytool/chunk.h). */
	r = kt_content_open(g->vault, &store, &ops);
	if (r < 0) {
		cli_error("cannot use the vault directory %s: %s", g->vault, strerror(-r));
		return CLI_EXIT_FAILED;
	}
	r = kt_reencrypt_run(db, kr, levels, &ops, &o, &res);
	progress_end(&p);
	kt_content_close(&store);
	switch (r) {
	case 0:
		printf("re-encrypted %llu files (%llu bytes) under fresh file keys\n",
		       (unsigned long long)res.files, (unsigned long long)res.bytes);
		return CLI_EXIT_OK;
	case -EBADMSG:
		printf("re-encrypted %llu files (%llu bytes) under fresh file keys\n",
		       (unsigned long long)res.files, (unsigned long long)res.bytes);
		cli_error("%llu files could not be re-encrypted (their key or blob does not "
			  "authenticate) and were left as they were; see 'vaultfs-meta incidents'",
			  (unsigned long long)res.failed);
		return CLI_EXIT_FAILED;
	case -EBUSY:
		printf("re-encrypted %llu files (%llu bytes) under fresh file keys\n",
		       (unsigned long long)res.files, (unsigned long long)res.bytes);
		cli_error("a file stayed open on the mounted vault for a minute: close it and run the "
			  "same command again to finish (it resumes where it stopped)");
		return CLI_EXIT_FAILED;
	default:
		return admin_error(kt_keyring_user(kr)->name,
				   "re-encrypt (run the same command again to resume)", r);
	}
}

int cmd_rotate(const struct globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"resume", no_argument, NULL, 'r'},	   {"level", required_argument, NULL, 'l'},
	    {"reencrypt", no_argument, NULL, 'e'}, {"batch", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},	   {0},
	};
	const struct command *c = find_command("rotate");
	const char *arg_levels = NULL;
	struct kt_keyring *kr = NULL;
	struct meta_db *db = NULL;
	struct meta_user admin;
	bool resume = false, re = false;
	uint32_t levels = 0;
	size_t batch = 0, pending = 0;
	char lv[LEVEL_NAME_BUF];
	int opt, x, r;

	getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			resume = true;
			break;
		case 'l':
			arg_levels = optarg;
			break;
		case 'e':
			re = true;
			break;
		case 'b': {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || v == 0 || v > 100000)
				return usage_error(c, "invalid --batch '%s' (1-100000)", optarg);
			batch = v;
			break;
		}
		case 'h':
			print_help(c);
			return CLI_EXIT_OK;
		default:
			return bad_option(c, opt, argv);
		}
	}
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	if (resume && arg_levels && !re)
		return usage_error(c, "--resume finishes what is running; it takes no --level");
	x = admin_session(g, c, &db, &admin);
	if (x != CLI_EXIT_OK)
		return x;
	if (arg_levels && !levels_arg(c, db, arg_levels, &levels, &x))
		goto out;
	x = unlock_user(g, db, admin.name, &kr);
	if (x != CLI_EXIT_OK)
		goto out;
	if (re) {
		x = reencrypt(g, db, kr, levels, batch);
		goto out;
	}
	if (levels) {
		snprintf(lv, sizeof(lv), "rotate levels=%s", arg_levels);
		r = kt_rotate_levels(db, kr, levels, lv);
		x = admin_error(admin.name, "make new level key versions", r);
		if (x != CLI_EXIT_OK)
			goto out;
		printf("new key versions for levels %s are in use from now on\n", arg_levels);
	} else {
		r = kt_rotation_pending(db, &pending);
		if (r < 0) {
			x = admin_error(admin.name, "read the rotations", r);
			goto out;
		}
		if (pending == 0) {
			printf("no rotation is running: nothing to do\n");
			goto out;
		}
	}
	x = run_rotations(db, kr);
out:
	kt_keyring_free(kr);
	meta_db_close(db);
	return x;
}

/* ---- expire ------------------------------------------------------------ */

int cmd_expire(const struct globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const struct command *c = find_command("expire");
	struct kt_keyring *kr = NULL;
	struct meta_db *db = NULL;
	struct meta_user admin;
	size_t expired = 0, pending = 0;
	int opt, x, r;

	getopt_reset();
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			print_help(c);
			return CLI_EXIT_OK;
		default:
			return bad_option(c, opt, argv);
		}
	}
	if (optind < argc)
		return usage_error(c, "unexpected argument '%s'", argv[optind]);
	x = admin_session(g, c, &db, &admin);
	if (x != CLI_EXIT_OK)
		return x;
	x = unlock_user(g, db, admin.name, &kr);
	if (x != CLI_EXIT_OK)
		goto out;
	r = kt_expire(db, kr, meta_now_ns(), &expired);
	x = admin_error(admin.name, "expire grants", r);
	if (x != CLI_EXIT_OK)
		goto out;
	if (expired)
		printf(
		    "removed %zu expired grants (see 'vaultfs-meta log --op grant-expire'); their "
		    "roles have new key versions\n",
		    expired);
	r = kt_rotation_pending(db, &pending);
	if (r == 0 && pending == 0) {
		if (!expired)
			printf("no grant has expired\n");
		goto out;
	}
	x = run_rotations(db, kr);
out:
	kt_keyring_free(kr);
	meta_db_close(db);
	return x;
}

/* ---- list keys --------------------------------------------------------- */

static void fingerprint_hex(const uint8_t key[KT_KEY_BYTES], char hex[2 * KT_FINGERPRINT_BYTES + 1])
{
	uint8_t fp[KT_FINGERPRINT_BYTES];

	kt_fingerprint(key, fp);
	sodium_bin2hex(hex, 2 * KT_FINGERPRINT_BYTES + 1, fp, sizeof(fp));
}

/* "0,1,2" / "none". */
static void format_levels(uint32_t levels, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int l = 0; l < META_LEVELS && o < size; l++)
		if (levels & (1u << l))
			o += (size_t)snprintf(buf + o, size - o, "%s%u", o ? "," : "", l);
	if (o == 0)
		snprintf(buf, size, "none");
}

/* Everything list keys shows, read once. */
struct key_view {
	struct meta_key_version *versions;
	size_t n_versions;
	struct meta_key_seal *seals;
	size_t n_seals;
	struct meta_role *roles;
	size_t n_roles;
	struct meta_grant *grants;
	size_t n_grants;
	struct meta_file_key_group *census;
	size_t n_census;
	struct meta_rotation *rotations;
	size_t n_rotations;
	int64_t admin_role_id;
};

static void key_view_free(struct key_view *v)
{
	free(v->versions);
	free(v->seals);
	free(v->roles);
	free(v->grants);
	free(v->census);
	free(v->rotations);
}

static const char *role_name(const struct key_view *v, int64_t id)
{
	for (size_t i = 0; i < v->n_roles; i++)
		if (v->roles[i].id == id)
			return v->roles[i].name;
	return "?";
}

/* Files whose keys are wrapped under level key (level, version). */
static uint64_t files_under(const struct key_view *v, uint8_t level, uint32_t version)
{
	uint8_t prefix[KT_WRAPPED_PREFIX_BYTES];

	if (kt_file_key_prefix(level, version, prefix) < 0)
		return 0;
	for (size_t i = 0; i < v->n_census; i++)
		if (memcmp(v->census[i].prefix, prefix, sizeof(prefix)) == 0)
			return v->census[i].files;
	return 0;
}

/* "current", "old" (still sealed: files not yet re-wrapped) or "destroyed". */
static const char *version_state(const struct key_view *v, const struct meta_key_version *k)
{
	bool sealed = false, newest = true;

	for (size_t i = 0; i < v->n_seals; i++)
		if (v->seals[i].kind == k->kind && v->seals[i].id == k->id &&
		    v->seals[i].version == k->version)
			sealed = true;
	for (size_t i = 0; i < v->n_versions; i++)
		if (v->versions[i].kind == k->kind && v->versions[i].id == k->id &&
		    v->versions[i].version > k->version)
			newest = false;
	if (!sealed)
		return "destroyed";
	return newest ? "current" : "old";
}

/* The holders of a key version: "owner v2, admin v3 (custody)" or a JSON array. */
static void holders(const struct key_view *v, const struct meta_key_version *k, char *buf,
		    size_t size, json_t *arr)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < v->n_seals; i++) {
		const struct meta_key_seal *s = &v->seals[i];
		bool custody = s->role_id == v->admin_role_id;

		if (s->kind != k->kind || s->id != k->id || s->version != k->version)
			continue;
		if (arr)
			json_array_append_new(
			    arr, json_pack("{s:s, s:I, s:b}", "role", role_name(v, s->role_id),
					   "role_version", (json_int_t)s->role_version, "custody",
					   custody));
		if (o < size)
			o += (size_t)snprintf(buf + o, size - o, "%s%s v%u%s", o ? ", " : "",
					      role_name(v, s->role_id), s->role_version,
					      custody ? " (custody)" : "");
	}
	if (!buf[0])
		snprintf(buf, size, "-");
}

static int key_view_read(struct meta_db *db, struct key_view *v)
{
	struct meta_role admin;
	int r;

	memset(v, 0, sizeof(*v));
	r = meta_tx_begin(db); /* one snapshot */
	if (r < 0)
		return r;
	if ((r = meta_key_version_list(db, &v->versions, &v->n_versions)) < 0 ||
	    (r = meta_key_seal_list_all(db, &v->seals, &v->n_seals)) < 0 ||
	    (r = meta_role_list(db, &v->roles, &v->n_roles)) < 0 ||
	    (r = meta_grant_list_all(db, &v->grants, &v->n_grants)) < 0 ||
	    (r = meta_file_key_census(db, &v->census, &v->n_census)) < 0 ||
	    (r = meta_rotation_list(db, false, &v->rotations, &v->n_rotations)) < 0)
		goto out;
	r = meta_role_get_by_flag(db, META_ROLE_ADMIN, &admin);
	v->admin_role_id = r == 0 ? admin.id : -1;
	if (r == -ENOENT)
		r = 0;
out:
	meta_tx_rollback(db);
	return r;
}

static void list_key_versions(struct meta_db *db, const struct key_view *v, bool json,
			      json_t *levels, json_t *metas)
{
	char name[LEVEL_NAME_BUF], fp[2 * KT_FINGERPRINT_BYTES + 1], when[40], who[1024];

	if (!json)
		printf("LEVEL KEYS\n%-5s %-16s %-7s %-9s %-16s %-7s %s\n", "LEVEL", "NAME",
		       "VERSION", "STATE", "FINGERPRINT", "FILES", "HOLDERS");
	for (int l = 0; l < META_LEVELS; l++) {
		json_t *versions = json ? json_array() : NULL;
		bool first = true;

		if (kt_level_name(db, (uint8_t)l, name, sizeof(name)) < 0)
			snprintf(name, sizeof(name), "%d", l);
		for (size_t i = 0; i < v->n_versions; i++) {
			const struct meta_key_version *k = &v->versions[i];
			json_t *arr;

			if (k->kind != META_KEY_LEVEL || k->id != (uint32_t)l)
				continue;
			arr = json ? json_array() : NULL;
			sodium_bin2hex(fp, sizeof(fp), k->fingerprint, KT_FINGERPRINT_BYTES);
			holders(v, k, who, sizeof(who), arr);
			if (json) {
				json_array_append_new(
				    versions,
				    json_pack("{s:I, s:s, s:s, s:o, s:I, s:o}", "version",
					      (json_int_t)k->version, "state", version_state(v, k),
					      "fingerprint", fp, "created",
					      json_time(k->created_ns), "files",
					      (json_int_t)files_under(v, (uint8_t)l, k->version),
					      "holders", arr));
			} else {
				printf("%-5d ", l);
				print_cell(first ? name : "", 16);
				printf("%-7u %-9s %-16s %-7llu %s\n", k->version,
				       version_state(v, k), fp,
				       (unsigned long long)files_under(v, (uint8_t)l, k->version),
				       who);
			}
			first = false;
		}
		if (json)
			json_array_append_new(levels,
					      json_pack("{s:i, s:s, s:o}", "level", l, "name", name,
							"versions", versions));
	}
	if (!json)
		printf("\nMETADATA KEY (names, xattrs, record paths)\n%-7s %-9s %-16s %-24s %s\n",
		       "VERSION", "STATE", "FINGERPRINT", "CREATED", "HOLDERS");
	for (size_t i = 0; i < v->n_versions; i++) {
		const struct meta_key_version *k = &v->versions[i];
		json_t *arr;

		if (k->kind != META_KEY_METADATA)
			continue;
		arr = json ? json_array() : NULL;
		sodium_bin2hex(fp, sizeof(fp), k->fingerprint, KT_FINGERPRINT_BYTES);
		holders(v, k, who, sizeof(who), arr);
		if (json)
			json_array_append_new(
			    metas, json_pack("{s:I, s:s, s:s, s:o, s:o}", "version",
					     (json_int_t)k->version, "state", version_state(v, k),
					     "fingerprint", fp, "created", json_time(k->created_ns),
					     "holders", arr));
		else
			printf("%-7u %-9s %-16s %-24s %s\n", k->version, version_state(v, k), fp,
			       cli_time_iso(k->created_ns, when, sizeof(when)), who);
	}
}

static int list_role_keys(struct meta_db *db, const struct key_view *v, bool json, json_t *out)
{
	char fp[2 * KT_FINGERPRINT_BYTES + 1], when[40], exp[40];
	int64_t now = meta_now_ns();

	if (!json)
		printf("\nROLE KEYS\n%-16s %-7s %-16s %-24s %s\n", "ROLE", "VERSION", "FINGERPRINT",
		       "CREATED", "MEMBERS (EXPIRY)");
	for (size_t i = 0; i < v->n_roles; i++) {
		const struct meta_role *ro = &v->roles[i];
		json_t *jv = json ? json_array() : NULL, *jm = json ? json_array() : NULL;
		struct meta_role_key *keys = NULL;
		char members[2048] = "";
		size_t n = 0, o = 0;
		int r;

		r = meta_role_key_list(db, ro->id, &keys, &n);
		if (r < 0) {
			json_decref(jv);
			json_decref(jm);
			return r;
		}
		for (size_t k = 0; k < v->n_grants; k++) {
			const struct meta_grant *gr = &v->grants[k];
			bool expired = gr->expires_ns && gr->expires_ns <= now;

			if (gr->role_id != ro->id)
				continue;
			if (gr->expires_ns)
				cli_time_iso(gr->expires_ns, exp, sizeof(exp));
			if (json)
				json_array_append_new(
				    jm, json_pack("{s:s, s:I, s:o, s:b}", "user", gr->user_name,
						  "role_version", (json_int_t)gr->role_version,
						  "expires",
						  gr->expires_ns ? json_string(exp) : json_null(),
						  "expired", expired));
			else if (o < sizeof(members))
				o += (size_t)snprintf(
				    members + o, sizeof(members) - o, "%s%s%s%s%s", o ? ", " : "",
				    gr->user_name,
				    gr->expires_ns ? (expired ? " (expired " : " (") : "",
				    gr->expires_ns ? exp : "", gr->expires_ns ? ")" : "");
		}
		for (size_t k = 0; k < n; k++) {
			fingerprint_hex(keys[k].public_key, fp);
			if (json)
				json_array_append_new(
				    jv, json_pack("{s:I, s:s, s:o, s:b}", "version",
						  (json_int_t)keys[k].version, "fingerprint", fp,
						  "created", json_time(keys[k].created_ns),
						  "current", keys[k].version == ro->key_version));
			else
				printf("%-16s %-7u %-16s %-24s %s\n", k ? "" : ro->name,
				       keys[k].version, fp,
				       cli_time_iso(keys[k].created_ns, when, sizeof(when)),
				       k ? "" : (members[0] ? members : "-"));
		}
		free(keys);
		if (json)
			json_array_append_new(out,
					      json_pack("{s:s, s:I, s:o, s:o}", "role", ro->name,
							"key_version", (json_int_t)ro->key_version,
							"versions", jv, "members", jm));
	}
	return 0;
}

static json_t *list_recovery(struct meta_db *db, bool json)
{
	struct kt_recovery_info info;
	char fp[2 * KT_FINGERPRINT_BYTES + 1], when[40];
	int r = kt_recovery_info(db, &info);

	if (r < 0) {
		if (!json)
			printf("\nRECOVERY\nnot set up (see '" PROGRAM " help recovery')\n");
		return json ? json_null() : NULL;
	}
	sodium_bin2hex(fp, sizeof(fp), info.fingerprint, sizeof(info.fingerprint));
	cli_time_iso(info.created_ns, when, sizeof(when));
	if (json)
		return json_pack("{s:I, s:I, s:s, s:s, s:I, s:s, s:s}", "threshold",
				 (json_int_t)info.threshold, "shares", (json_int_t)info.shares,
				 "officers", info.officers, "fingerprint", fp, "admin_role_version",
				 (json_int_t)info.admin_role_version, "created", when, "created_by",
				 info.created_by);
	printf("\nRECOVERY\n%u of %u shares (officers %s); recovery key %s holds admin role key "
	       "version %u; set up by %s at %s\n",
	       info.threshold, info.shares, info.officers, fp, info.admin_role_version,
	       info.created_by, when);
	return NULL;
}

static void list_rotations(const struct key_view *v, bool json, json_t *out)
{
	char when[40], lv[16], done[48];

	if (!json)
		printf("\nROTATIONS\n%-4s %-9s %-8s %-24s %-7s %-15s %s\n", "ID", "KIND", "STATE",
		       "STARTED", "LEVELS", "FILES", "REASON");
	for (size_t i = 0; i < v->n_rotations; i++) {
		const struct meta_rotation *r = &v->rotations[i];
		const char *kind = r->kind == META_ROTATION_REWRAP ? "rewrap" : "reencrypt";

		format_levels(r->levels, lv, sizeof(lv));
		cli_time_iso(r->started_ns, when, sizeof(when));
		if (json) {
			char fin[40];

			if (r->finished_ns)
				cli_time_iso(r->finished_ns, fin, sizeof(fin));
			json_array_append_new(
			    out,
			    json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:I, s:s}",
				      "id", (json_int_t)r->id, "kind", kind, "state",
				      r->done ? "done" : "running", "reason", r->reason,
				      "started_by", r->started_by, "started", when, "finished",
				      r->finished_ns ? json_string(fin) : json_null(), "done",
				      (json_int_t)r->done_count, "total", (json_int_t)r->total,
				      "failed", (json_int_t)r->failed, "levels", lv));
		} else {
			snprintf(done, sizeof(done), "%llu/%llu", (unsigned long long)r->done_count,
				 (unsigned long long)r->total);
			printf("%-4lld %-9s %-8s %-24s %-7s %-15s %s\n", (long long)r->id, kind,
			       r->done ? "done" : "running", when, lv, done, r->reason);
		}
	}
	if (!json && v->n_rotations == 0)
		printf("none\n");
}

int list_keys(struct meta_db *db, bool json)
{
	json_t *levels = NULL, *metas = NULL, *roles = NULL, *rots = NULL, *rec;
	struct key_view v;
	int r;

	r = key_view_read(db, &v);
	if (r < 0)
		goto out;
	if (json) {
		levels = json_array();
		metas = json_array();
		roles = json_array();
		rots = json_array();
	}
	list_key_versions(db, &v, json, levels, metas);
	r = list_role_keys(db, &v, json, roles);
	if (r < 0)
		goto out;
	rec = list_recovery(db, json);
	list_rotations(&v, json, rots);
	if (json) {
		r = json_print(json_pack("{s:o, s:o, s:o, s:o, s:o}", "level_keys", levels,
					 "metadata_keys", metas, "role_keys", roles, "recovery",
					 rec, "rotations", rots));
		levels = metas = roles = rots = NULL;
	}
out:
	json_decref(levels);
	json_decref(metas);
	json_decref(roles);
	json_decref(rots);
	key_view_free(&v);
	return r;
}
