/*
 * keytool/cmd/list.c — "vaultfs-keytool list": users, roles, grants, levels
 * and keys (versions, fingerprints, holders, expiry, rotations, recovery),
 * as columns or --json. Names and fingerprints only, never keys; the vault
 * is opened read-only and no passphrase is needed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keytool/census.h"
#include "keytool/cmd/cmd.h"
#include "keytool/recovery.h"
#include "keytool/rotation.h"

#define LEVEL_NAME_BUF 256

static int list_users(struct meta_db *db, bool json)
{
	struct meta_user *users = NULL;
	json_t *arr = json ? json_array() : NULL;
	char fp[2 * KT_FINGERPRINT_BYTES + 1], when[40];
	size_t n = 0;
	int r;

	r = meta_user_list(db, &users, &n);
	if (r < 0)
		goto out;
	if (!json)
		printf("%-24s %-10s %-16s %-24s %s\n", "USER", "UID", "FINGERPRINT", "CREATED",
		       "STATE");
	for (size_t i = 0; i < n; i++) {
		const struct meta_user *u = &users[i];

		kt_fingerprint_hex(u->public_key, fp);
		if (json) {
			json_array_append_new(
			    arr, json_pack("{s:s, s:o, s:s, s:o, s:b}", "name", u->name, "uid",
					   u->uid >= 0 ? json_integer(u->uid) : json_null(),
					   "fingerprint", fp, "created", json_time(u->created_ns),
					   "disabled", u->disabled));
		} else {
			char uid[24];

			snprintf(uid, sizeof(uid), "%lld", (long long)u->uid);
			printf("%-24s %-10s %-16s %-24s %s\n", u->name, u->uid >= 0 ? uid : "-", fp,
			       cli_time_iso(u->created_ns, when, sizeof(when)),
			       u->disabled ? "disabled" : "enabled");
		}
	}
	if (json) {
		r = json_print(json_pack("{s:o}", "users", arr));
		arr = NULL;
	}
out:
	json_decref(arr);
	free(users);
	return r;
}

static const struct {
	uint32_t flag;
	const char *name;
} role_flag_names[] = {
    {META_ROLE_READ_ONLY, "read-only"},	  {META_ROLE_ADMIN, "admin"},
    {META_ROLE_DECLASSIFY, "declassify"}, {META_ROLE_AUDITOR, "auditor"},
    {META_ROLE_EXPIRING, "expiring"},
};
#define N_ROLE_FLAGS (sizeof(role_flag_names) / sizeof(role_flag_names[0]))

static int list_roles(struct meta_db *db, bool json)
{
	struct meta_role *roles = NULL;
	json_t *arr = json ? json_array() : NULL;
	char fp[2 * KT_FINGERPRINT_BYTES + 1], when[40];
	size_t n = 0;
	int r;

	r = meta_role_list(db, &roles, &n);
	if (r < 0)
		goto out;
	if (!json)
		printf("%-20s %-9s %-26s %-7s %-16s %s\n", "ROLE", "LEVELS", "FLAGS", "VERSION",
		       "FINGERPRINT", "CREATED");
	for (size_t i = 0; i < n; i++) {
		const struct meta_role *ro = &roles[i];
		struct meta_role_key rk;
		char levels[16] = "", flags[96] = "";
		json_t *jl = json ? json_array() : NULL, *jf = json ? json_array() : NULL;
		size_t o = 0;

		if (meta_role_key_get(db, ro->id, ro->key_version, &rk) == 0)
			kt_fingerprint_hex(rk.public_key, fp);
		else
			snprintf(fp, sizeof(fp), "-");
		for (unsigned int l = 0; l < META_LEVELS; l++) {
			if (!(ro->levels & (1u << l)))
				continue;
			o += (size_t)snprintf(levels + o, sizeof(levels) - o, "%s%u", o ? "," : "",
					      l);
			if (jl)
				json_array_append_new(jl, json_integer(l));
		}
		o = 0;
		for (size_t f = 0; f < N_ROLE_FLAGS; f++) {
			if (!(ro->flags & role_flag_names[f].flag))
				continue;
			o += (size_t)snprintf(flags + o, sizeof(flags) - o, "%s%s", o ? "," : "",
					      role_flag_names[f].name);
			if (jf)
				json_array_append_new(jf, json_string(role_flag_names[f].name));
		}
		if (json)
			json_array_append_new(
			    arr,
			    json_pack("{s:s, s:o, s:o, s:I, s:s, s:o}", "name", ro->name, "levels",
				      jl, "flags", jf, "key_version", (json_int_t)ro->key_version,
				      "fingerprint", fp, "created", json_time(ro->created_ns)));
		else
			printf("%-20s %-9s %-26s %-7u %-16s %s\n", ro->name,
			       levels[0] ? levels : "none", flags[0] ? flags : "-", ro->key_version,
			       fp, cli_time_iso(ro->created_ns, when, sizeof(when)));
	}
	if (json) {
		r = json_print(json_pack("{s:o}", "roles", arr));
		arr = NULL;
	}
out:
	json_decref(arr);
	free(roles);
	return r;
}

static int list_grants(struct meta_db *db, bool json)
{
	struct meta_grant *grants = NULL;
	json_t *arr = json ? json_array() : NULL;
	char granted[40], expires[40];
	int64_t now = meta_now_ns();
	size_t n = 0;
	int r;

	r = meta_grant_list_all(db, &grants, &n);
	if (r < 0)
		goto out;
	if (!json)
		printf("%-20s %-20s %-7s %-16s %-24s %s\n", "USER", "ROLE", "VERSION", "GRANTED BY",
		       "GRANTED", "EXPIRES");
	for (size_t i = 0; i < n; i++) {
		const struct meta_grant *gr = &grants[i];
		bool expired = gr->expires_ns != 0 && gr->expires_ns <= now;
		struct meta_user by;
		const char *by_name = NULL;

		if (gr->granted_by != 0 && meta_user_get_by_id(db, gr->granted_by, &by) == 0)
			by_name = by.name;
		cli_time_iso(gr->granted_at_ns, granted, sizeof(granted));
		if (gr->expires_ns)
			cli_time_iso(gr->expires_ns, expires, sizeof(expires));
		if (json)
			json_array_append_new(
			    arr, json_pack("{s:s, s:s, s:I, s:o, s:s, s:o, s:b}", "user",
					   gr->user_name, "role", gr->role_name, "role_version",
					   (json_int_t)gr->role_version, "granted_by",
					   by_name ? json_string(by_name) : json_null(),
					   "granted_at", granted, "expires",
					   gr->expires_ns ? json_string(expires) : json_null(),
					   "expired", expired));
		else
			printf("%-20s %-20s %-7u %-16s %-24s %s%s\n", gr->user_name, gr->role_name,
			       gr->role_version, by_name ? by_name : "(init)", granted,
			       gr->expires_ns ? expires : "never", expired ? " (expired)" : "");
	}
	if (json) {
		r = json_print(json_pack("{s:o}", "grants", arr));
		arr = NULL;
	}
out:
	json_decref(arr);
	free(grants);
	return r;
}

static int list_levels(struct meta_db *db, bool json)
{
	struct meta_key_version *v = NULL;
	json_t *levels = json ? json_array() : NULL, *metas = json ? json_array() : NULL;
	char name[LEVEL_NAME_BUF], fp[2 * KT_FINGERPRINT_BYTES + 1], when[40];
	size_t n = 0;
	int r;

	r = meta_key_version_list(db, &v, &n);
	if (r < 0)
		goto out;
	if (!json)
		printf("%-5s %-20s %-7s %-16s %s\n", "LEVEL", "NAME", "VERSION", "FINGERPRINT",
		       "CREATED");
	for (int l = 0; l <= META_LEVELS; l++) {
		bool meta = l == META_LEVELS;
		json_t *versions = json ? json_array() : NULL;
		bool any = false;

		if (!meta) {
			r = kt_level_name(db, (uint8_t)l, name, sizeof(name));
			if (r < 0)
				goto out;
		}
		for (size_t i = 0; i < n; i++) {
			if (v[i].kind != (meta ? META_KEY_METADATA : META_KEY_LEVEL) ||
			    (!meta && v[i].id != (uint32_t)l))
				continue;
			sodium_bin2hex(fp, sizeof(fp), v[i].fingerprint, KT_FINGERPRINT_BYTES);
			cli_time_iso(v[i].created_ns, when, sizeof(when));
			if (json) {
				json_array_append_new(
				    versions, json_pack("{s:I, s:s, s:s}", "version",
							(json_int_t)v[i].version, "fingerprint", fp,
							"created", when));
			} else if (meta) {
				printf("%-5s %-20s %-7u %-16s %s\n", "-", "(metadata key)",
				       v[i].version, fp, when);
			} else {
				printf("%-5d ", l);
				print_cell(any ? "" : name, 20);
				printf("%-7u %-16s %s\n", v[i].version, fp, when);
			}
			any = true;
		}
		if (json && meta) {
			json_array_extend(metas, versions);
			json_decref(versions);
		} else if (json) {
			json_array_append_new(levels,
					      json_pack("{s:i, s:s, s:o}", "level", l, "name", name,
							"versions", versions));
		} else if (!any && !meta) {
			printf("%-5d ", l);
			print_cell(name, 20);
			printf("%-7s %-16s %s\n", "-", "-", "-");
		}
	}
	if (json) {
		r = json_print(json_pack("{s:o, s:o, s:{s:i, s:b}}", "levels", levels,
					 "metadata_keys", metas, "refused", "level",
					 META_LEVEL_REFUSED, "stored", 0));
		levels = metas = NULL;
	} else {
		printf("%-5d ", META_LEVEL_REFUSED);
		print_cell("Säkerhetsskydd", 20);
		printf("(never stored: refused)\n");
	}
out:
	json_decref(levels);
	json_decref(metas);
	free(v);
	return r;
}

/* The holders of a key version: "owner v2, admin v3 (custody)" or a JSON array. */
static void holders(const struct kt_key_census *v, const struct meta_key_version *k, char *buf,
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
			    arr, json_pack("{s:s, s:I, s:b}", "role",
					   kt_key_census_role_name(v, s->role_id), "role_version",
					   (json_int_t)s->role_version, "custody", custody));
		if (o < size)
			o += (size_t)snprintf(buf + o, size - o, "%s%s v%u%s", o ? ", " : "",
					      kt_key_census_role_name(v, s->role_id),
					      s->role_version, custody ? " (custody)" : "");
	}
	if (!buf[0])
		snprintf(buf, size, "-");
}

static void list_key_versions(struct meta_db *db, const struct kt_key_census *v, bool json,
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
				    json_pack(
					"{s:I, s:s, s:s, s:o, s:I, s:o}", "version",
					(json_int_t)k->version, "state",
					kt_key_state_name(kt_key_census_state(v, k)), "fingerprint",
					fp, "created", json_time(k->created_ns), "files",
					(json_int_t)kt_key_census_files(v, (uint8_t)l, k->version),
					"holders", arr));
			} else {
				printf("%-5d ", l);
				print_cell(first ? name : "", 16);
				printf("%-7u %-9s %-16s %-7llu %s\n", k->version,
				       kt_key_state_name(kt_key_census_state(v, k)), fp,
				       (unsigned long long)kt_key_census_files(v, (uint8_t)l,
									       k->version),
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
			    metas,
			    json_pack("{s:I, s:s, s:s, s:o, s:o}", "version",
				      (json_int_t)k->version, "state",
				      kt_key_state_name(kt_key_census_state(v, k)), "fingerprint",
				      fp, "created", json_time(k->created_ns), "holders", arr));
		else
			printf("%-7u %-9s %-16s %-24s %s\n", k->version,
			       kt_key_state_name(kt_key_census_state(v, k)), fp,
			       cli_time_iso(k->created_ns, when, sizeof(when)), who);
	}
}

static int list_role_keys(struct meta_db *db, const struct kt_key_census *v, bool json, json_t *out)
{
	char fp[2 * KT_FINGERPRINT_BYTES + 1], when[40], exp[40];
	int64_t now = meta_now_ns();

	if (!json)
		printf("\nROLE KEYS\n%-16s %-7s %-16s %-24s %s\n", "ROLE", "VERSION", "FINGERPRINT",
		       "CREATED", "MEMBERS (EXPIRY)");
	for (size_t i = 0; i < v->n_roles; i++) {
		const struct meta_role *ro = &v->roles[i];
		json_t *jv = json ? json_array() : NULL, *jm = json ? json_array() : NULL;
		const struct meta_role_key *keys = v->role_keys[i].keys;
		size_t n = v->role_keys[i].n, o = 0;
		char members[2048] = "";
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
			kt_fingerprint_hex(keys[k].public_key, fp);
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

static void list_rotations(const struct kt_key_census *v, bool json, json_t *out)
{
	char when[40], lv[16], done[48];

	if (!json)
		printf("\nROTATIONS\n%-4s %-9s %-8s %-24s %-7s %-15s %s\n", "ID", "KIND", "STATE",
		       "STARTED", "LEVELS", "FILES", "REASON");
	for (size_t i = 0; i < v->n_rotations; i++) {
		const struct meta_rotation *r = &v->rotations[i];
		const char *kind = r->kind == META_ROTATION_REWRAP ? "rewrap" : "reencrypt";

		kt_format_levels(r->levels, lv, sizeof(lv));
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

static int list_keys(struct meta_db *db, bool json)
{
	json_t *levels = NULL, *metas = NULL, *roles = NULL, *rots = NULL, *rec;
	struct kt_key_census v;
	int r;

	r = kt_key_census_read(db, &v);
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
	kt_key_census_free(&v);
	return r;
}

int cmd_list(struct cli_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	static const struct {
		const char *what;
		int (*fn)(struct meta_db *db, bool json);
	} lists[] = {
	    {"users", list_users},   {"roles", list_roles}, {"grants", list_grants},
	    {"levels", list_levels}, {"keys", list_keys},
	};
	bool json = false;
	int opt, x, r = -EINVAL;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'h':
			cli_command_help(ctx->prog, ctx->cmd);
			return CLI_EXIT_OK;
		default:
			return cli_bad_option(ctx, opt, argv);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(ctx, argc - optind < 1 ? "list what? (users, roles, grants, "
								"levels or keys)"
							      : "too many arguments");
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		if (strcmp(argv[optind], lists[i].what) != 0)
			continue;
		x = cli_setup(ctx);
		if (x != CLI_EXIT_OK)
			return x;
		r = lists[i].fn(ctx->db, json);
		if (r < 0) {
			cli_error("cannot list %s: %s", lists[i].what, strerror(-r));
			return CLI_EXIT_FAILED;
		}
		return CLI_EXIT_OK;
	}
	return cli_usage_error(ctx, "cannot list '%s' (users, roles, grants, levels or keys)",
			       argv[optind]);
}
