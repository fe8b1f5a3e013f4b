/*
 * meta/cmd/records.c — vaultfs-meta log and incidents: access records,
 * filtered, decrypted and printed for a person (aligned columns), for a
 * program (JSON) or for a spreadsheet (CSV).
 *
 * The database filters by user, op, level, outcome and time; paths are
 * stored encrypted, so the --path filter runs here after decryption, and
 * --limit then counts what is printed. Records are read in batches by id,
 * so JSON and CSV stream in constant memory; the human table is kept whole
 * to align its columns.
 *
 * A path that does not decrypt is shown as <undecryptable>, is never
 * filtered out by --path (it cannot be ruled out), and makes the command end
 * with a warning and exit status 1: the records may have been tampered with.
 *
 * Field names and values are the contract in docs/access-records.md.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "meta/records.h"
#include "meta/cmd/cmd.h"
#include "meta/cmd/out.h"

#define RECORDS_BATCH 512

/* Every op a record can carry (docs/access-records.md). */
/* clang-format off */
static const char *const known_ops[] = {
	/* the daemon */
	"mount", "unmount", "open", "create", "mkdir", "mknod", "symlink", "link", "unlink",
	"rmdir", "rename", "truncate", "chmod", "chown", "setxattr", "removexattr", "classify",
	"read", "write", "lock", "expire", "keys-refresh",
	/* refusals of locked callers (multi-user mode) */
	"lookup", "getattr", "opendir", "readdir", "readlink", "getxattr", "listxattr", "setattr",
	/* vaultfs-keytool */
	"init", "user-add", "role-add", "grant", "revoke", "passwd", "unlock",
	/* vaultfs-keytool: the key lifecycle */
	"user-remove", "grant-expire", "rotate", "rotate-levels", "key-new", "role-key-new",
	"key-destroy", "reencrypt", "recovery-setup", "recover", "passwd-reset",
};
/* clang-format on */

/* JSON keys and CSV columns, in this order. */
enum field {
	F_ID,
	F_TIME,
	F_USER,
	F_UID,
	F_PID,
	F_PROCESS,
	F_OP,
	F_INO,
	F_PATH,
	F_PATH2,
	F_LEVEL,
	F_LEVEL_NAME,
	F_OUTCOME,
	F_ERRNO,
	F_BYTES_READ,
	F_BYTES_WRITTEN,
	F_DETAIL,
	F_COUNT,
};

/* clang-format off */
static const char *const field_names[F_COUNT] = {
	"id", "time", "user", "uid", "pid", "process", "op", "ino", "path", "path2", "level",
	"level_name", "outcome", "errno", "bytes_read", "bytes_written", "detail",
};
/* clang-format on */

enum records_format {
	FORMAT_HUMAN,
	FORMAT_JSON,
	FORMAT_CSV,
};

/* Parsed options. */
struct records_args {
	const char *arg_user;	    /* --user */
	const char *arg_op;	    /* --op */
	const char *arg_level;	    /* --level, resolved once the vault is open */
	char *arg_path;		    /* --path, normalised: "/" or "/a/b" (malloc'd) */
	uint64_t arg_ino;	    /* --ino, 0 = any */
	bool arg_denied;	    /* --denied */
	bool incidents;		    /* the incidents command */
	int64_t arg_since_ns;	    /* --since, 0 = open */
	int64_t arg_until_ns;	    /* --until, 0 = open */
	uint64_t arg_limit;	    /* --limit, 0 = none */
	enum records_format format; /* --json / --csv */
};

/* One record with its paths decrypted. */
struct record_view {
	const struct meta_record *r;
	char *path;	  /* plaintext, NULL when none or undecryptable */
	size_t path_len;  /* bytes in path */
	bool path_bad;	  /* a path is stored but does not decrypt */
	char *path2;	  /* the same for the second path (rename target) */
	size_t path2_len; /* bytes in path2 */
	bool path2_bad;	  /* path2 is stored but does not decrypt */
};

/* Where records go, and what has gone there. */
struct records_out {
	enum records_format format;
	struct out_table *table; /* human output, printed at the end */
	size_t count;		 /* records printed */
	size_t denied;		 /* of which outcome "denied" */
	size_t integrity;	 /* of which outcome "integrity" */
};

/* A field for JSON or CSV: null, a number, or sanitised UTF-8 text. */
struct field_value {
	enum { V_NULL, V_INT, V_TEXT } kind;
	int64_t num;
	char *text; /* malloc'd for V_TEXT */
};

const char *cmd_outcome_class(int outcome)
{
	switch (outcome) {
	case META_OUTCOME_OK:
		return "ok";
	case -EACCES:
	case -EPERM:
	case -ENOKEY:
		return "denied";
	case -EBADMSG:
		return "integrity";
	default:
		return "error";
	}
}

/* "EACCES" for -EACCES; NULL for ok. */
const char *cmd_outcome_errno(int outcome, char *buf, size_t len)
{
	const char *name;
	int e = outcome < 0 ? -outcome : outcome;

	if (outcome == META_OUTCOME_OK)
		return NULL;
	name = strerrorname_np(e);
	if (name)
		return name;
	snprintf(buf, len, "E%d", e);
	return buf;
}

/* ISO-8601 UTC of a record's time ("?" if it cannot be formatted). */
static const char *time_text(int64_t ns, char *buf, size_t len)
{
	if (!cli_time_iso(ns, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

static bool op_known(const char *op)
{
	size_t i;

	for (i = 0; i < sizeof(known_ops) / sizeof(known_ops[0]); i++)
		if (strcmp(known_ops[i], op) == 0)
			return true;
	return false;
}

/* --until 2026-11-22 means up to the end of that day. */
static bool time_is_date_only(const char *text)
{
	return strlen(text) == 10 && text[4] == '-' && text[7] == '-';
}

/* "/hr/" → "/hr", "hr" → "/hr", "/" stays; NULL when out of memory. */
static char *path_prefix_normalise(const char *arg)
{
	size_t len = strlen(arg);

	while (len > 1 && arg[len - 1] == '/')
		len--;
	if (arg[0] == '/')
		return strndup(arg, len);
	return out_fmt("/%.*s", (int)len, arg);
}

/* PREFIX matches a path equal to it or below it, component-wise. */
static bool path_matches(const char *prefix, const char *path, size_t len)
{
	size_t plen = strlen(prefix);

	if (!path)
		return false;
	if (strcmp(prefix, "/") == 0)
		return len > 0 && path[0] == '/';
	return len >= plen && memcmp(path, prefix, plen) == 0 && (len == plen || path[plen] == '/');
}

static void view_clear(struct record_view *v)
{
	free(v->path);
	free(v->path2);
	memset(v, 0, sizeof(*v));
}

/* Decrypt one of a record's paths; -ENOMEM only (failures mark it bad). */
static int view_path(struct cmd_session *s, const uint8_t *enc, size_t enc_len, char **ret_path,
		     size_t *ret_len, bool *ret_bad)
{
	int r;

	if (!enc)
		return 0;
	r = cmd_decrypt(s, KT_META_PATH, 0, enc, enc_len, ret_path, ret_len);
	if (r == -ENOMEM)
		return r;
	*ret_bad = r < 0;
	return 0;
}

static int view_init(struct cmd_session *s, const struct meta_record *r, struct record_view *v)
{
	int ret;

	memset(v, 0, sizeof(*v));
	v->r = r;
	ret = view_path(s, r->path_enc, r->path_enc_len, &v->path, &v->path_len, &v->path_bad);
	if (ret == 0)
		ret = view_path(s, r->path2_enc, r->path2_enc_len, &v->path2, &v->path2_len,
				&v->path2_bad);
	if (ret < 0)
		view_clear(v);
	return ret;
}

static bool view_wanted(const struct records_args *a, const struct record_view *v)
{
	if (a->arg_ino && v->r->ino != a->arg_ino)
		return false;
	if (!a->arg_path)
		return true;
	if (v->path_bad || v->path2_bad)
		return true; /* cannot be ruled out: show it */
	return path_matches(a->arg_path, v->path, v->path_len) ||
	       path_matches(a->arg_path, v->path2, v->path2_len);
}

static void fields_clear(struct field_value *f)
{
	size_t i;

	for (i = 0; i < F_COUNT; i++)
		if (f[i].kind == V_TEXT)
			free(f[i].text);
}

static int field_text(struct field_value *f, const char *s, size_t len)
{
	f->kind = V_TEXT;
	f->text = out_text(s, len, OUT_TEXT_UTF8);
	return f->text ? 0 : -ENOMEM;
}

static void field_int(struct field_value *f, int64_t v, bool is_null)
{
	f->kind = is_null ? V_NULL : V_INT;
	f->num = v;
}

static int field_path(struct field_value *f, const char *path, size_t len, bool bad)
{
	if (bad)
		return field_text(f, CMD_UNDECRYPTABLE, strlen(CMD_UNDECRYPTABLE));
	if (!path) {
		f->kind = V_NULL;
		return 0;
	}
	return field_text(f, path, len);
}

/* The record's fields for JSON and CSV; -ENOMEM (cleared) on failure. */
static int fields_build(const struct cmd_session *s, const struct record_view *v,
			struct field_value *f)
{
	const struct meta_record *r = v->r;
	const char *level_name = cmd_level_name(s, r->level);
	const char *err;
	char tbuf[40], ebuf[16];
	int ret = 0;

	memset(f, 0, F_COUNT * sizeof(*f));
	field_int(&f[F_ID], r->id, false);
	time_text(r->time_ns, tbuf, sizeof(tbuf));
	ret |= field_text(&f[F_TIME], tbuf, strlen(tbuf));
	ret |= field_text(&f[F_USER], r->user, strlen(r->user));
	field_int(&f[F_UID], r->uid, r->uid < 0);
	field_int(&f[F_PID], r->pid, r->pid <= 0);
	ret |= field_text(&f[F_PROCESS], r->comm, strlen(r->comm));
	ret |= field_text(&f[F_OP], r->op, strlen(r->op));
	field_int(&f[F_INO], (int64_t)r->ino, r->ino == 0);
	ret |= field_path(&f[F_PATH], v->path, v->path_len, v->path_bad);
	ret |= field_path(&f[F_PATH2], v->path2, v->path2_len, v->path2_bad);
	field_int(&f[F_LEVEL], r->level, r->level < 0);
	if (level_name)
		ret |= field_text(&f[F_LEVEL_NAME], level_name, strlen(level_name));
	ret |= field_text(&f[F_OUTCOME], cmd_outcome_class(r->outcome),
			  strlen(cmd_outcome_class(r->outcome)));
	err = cmd_outcome_errno(r->outcome, ebuf, sizeof(ebuf));
	if (err)
		ret |= field_text(&f[F_ERRNO], err, strlen(err));
	field_int(&f[F_BYTES_READ], r->bytes_read, r->bytes_read < 0);
	field_int(&f[F_BYTES_WRITTEN], r->bytes_written, r->bytes_written < 0);
	ret |= field_text(&f[F_DETAIL], r->detail, strlen(r->detail));
	if (ret) {
		fields_clear(f);
		return -ENOMEM;
	}
	return 0;
}

static int emit_json(struct records_out *o, const struct field_value *f)
{
	json_t *obj = json_object();
	size_t i;
	int r = 0;

	if (!obj)
		return -ENOMEM;
	for (i = 0; i < F_COUNT && r == 0; i++) {
		json_t *val;

		switch (f[i].kind) {
		case V_INT:
			val = json_integer(f[i].num);
			break;
		case V_TEXT:
			val = json_string(f[i].text);
			break;
		default:
			val = json_null();
			break;
		}
		if (json_object_set_new(obj, field_names[i], val) < 0)
			r = -ENOMEM;
	}
	if (r == 0) {
		fputs(o->count == 0 ? "[\n  " : ",\n  ", stdout);
		if (json_dumpf(obj, stdout, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) < 0)
			r = -EIO;
	}
	json_decref(obj);
	return r;
}

static void emit_csv_header(void)
{
	size_t i;

	for (i = 0; i < F_COUNT; i++)
		out_csv_field(stdout, field_names[i], i == 0);
	out_csv_end(stdout);
}

static void emit_csv(const struct field_value *f)
{
	size_t i;

	for (i = 0; i < F_COUNT; i++) {
		char num[24];

		switch (f[i].kind) {
		case V_INT:
			snprintf(num, sizeof(num), "%" PRId64, f[i].num);
			out_csv_field(stdout, num, i == 0);
			break;
		case V_TEXT:
			out_csv_text(stdout, f[i].text, i == 0);
			break;
		default:
			out_csv_field(stdout, NULL, i == 0);
			break;
		}
	}
	out_csv_end(stdout);
}

/* Human columns. */
enum column {
	C_TIME,
	C_USER,
	C_UID,
	C_PID,
	C_PROCESS,
	C_OP,
	C_LEVEL,
	C_OUTCOME,
	C_PATH,
	C_BYTES,
	C_DETAIL,
	C_COUNT,
};

static const char *const column_names[C_COUNT] = {
    "TIME",  "USER",	"UID",	"PID",	     "PROCESS", "OP",
    "LEVEL", "OUTCOME", "PATH", "BYTES R/W", "DETAIL",
};
static const char column_align[] = "llrrlllllrl"; /* numbers right */

static char *term(const char *s)
{
	return out_text(s, strlen(s), OUT_TEXT_TERMINAL);
}

static char *term_path(const char *path, size_t len, bool bad)
{
	if (bad)
		return strdup(CMD_UNDECRYPTABLE);
	if (!path)
		return NULL;
	return out_text(path, len, OUT_TEXT_TERMINAL);
}

static char *human_int(int64_t v, bool is_null)
{
	return is_null ? strdup("-") : out_fmt("%" PRId64, v);
}

static char *human_paths(const struct record_view *v)
{
	char *p1 = term_path(v->path, v->path_len, v->path_bad);
	char *p2 = term_path(v->path2, v->path2_len, v->path2_bad);
	char *s;

	if (p2)
		s = out_fmt("%s → %s", p1 ? p1 : "-", p2);
	else
		s = p1 ? strdup(p1) : strdup("-");
	free(p1);
	free(p2);
	return s;
}

static char *human_bytes(const struct meta_record *r)
{
	char rd[24] = "-", wr[24] = "-";

	if (r->bytes_read < 0 && r->bytes_written < 0)
		return strdup("-");
	if (r->bytes_read >= 0)
		snprintf(rd, sizeof(rd), "%" PRId64, r->bytes_read);
	if (r->bytes_written >= 0)
		snprintf(wr, sizeof(wr), "%" PRId64, r->bytes_written);
	return out_fmt("%s/%s", rd, wr);
}

static int emit_human(struct records_out *o, const struct cmd_session *s,
		      const struct record_view *v)
{
	const struct meta_record *r = v->r;
	const char *level_name = cmd_level_name(s, r->level);
	char *cells[C_COUNT] = {0};
	char tbuf[40], ebuf[16];
	const char *err;
	size_t i;

	cells[C_TIME] = strdup(time_text(r->time_ns, tbuf, sizeof(tbuf)));
	cells[C_USER] = r->user[0] ? term(r->user) : strdup("-");
	cells[C_UID] = human_int(r->uid, r->uid < 0);
	cells[C_PID] = human_int(r->pid, r->pid <= 0);
	cells[C_PROCESS] = r->comm[0] ? term(r->comm) : strdup("-");
	cells[C_OP] = term(r->op);
	if (r->level < 0) {
		cells[C_LEVEL] = strdup("-");
	} else {
		char *name = level_name ? term(level_name) : NULL;

		cells[C_LEVEL] = name ? out_fmt("%d %s", r->level, name) : out_fmt("%d", r->level);
		free(name);
	}
	err = cmd_outcome_errno(r->outcome, ebuf, sizeof(ebuf));
	cells[C_OUTCOME] = err ? out_fmt("%s %s", cmd_outcome_class(r->outcome), err)
			       : strdup(cmd_outcome_class(r->outcome));
	cells[C_PATH] = human_paths(v);
	cells[C_BYTES] = human_bytes(r);
	cells[C_DETAIL] = term(r->detail);
	for (i = 0; i < C_COUNT; i++) {
		if (!cells[i]) {
			for (i = 0; i < C_COUNT; i++)
				free(cells[i]);
			return -ENOMEM;
		}
	}
	return out_table_add(o->table, cells);
}

static int emit(struct records_out *o, const struct cmd_session *s, const struct record_view *v)
{
	struct field_value f[F_COUNT];
	int r;

	if (o->format == FORMAT_HUMAN) {
		r = emit_human(o, s, v);
	} else {
		r = fields_build(s, v, f);
		if (r < 0)
			return r;
		if (o->format == FORMAT_JSON)
			r = emit_json(o, f);
		else
			emit_csv(f);
		fields_clear(f);
	}
	if (r < 0)
		return r;
	o->count++;
	if (strcmp(cmd_outcome_class(v->r->outcome), "denied") == 0)
		o->denied++;
	else if (strcmp(cmd_outcome_class(v->r->outcome), "integrity") == 0)
		o->integrity++;
	return 0;
}

static void records_free(struct meta_record *recs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		meta_record_clear(&recs[i]);
	free(recs);
}

/* Query batch after batch, decrypt, filter by path, print; 0 or -errno. */
static int records_run(struct cmd_session *s, const struct records_args *a, int level,
		       struct records_out *o)
{
	struct meta_log_filter f = {
	    .user = a->arg_user,
	    .op = a->arg_op,
	    .level = level,
	    .denied_only = a->arg_denied,
	    .incidents_only = a->incidents,
	    .since_ns = a->arg_since_ns,
	    .until_ns = a->arg_until_ns,
	    .after_id = 0,
	};
	bool done = false;

	while (!done) {
		struct meta_record *recs = NULL;
		size_t n = 0, i;
		int r;

		f.limit = RECORDS_BATCH;
		/* Without a filter of our own the database can count for us. */
		if (!a->arg_path && !a->arg_ino && a->arg_limit &&
		    a->arg_limit - o->count < RECORDS_BATCH)
			f.limit = a->arg_limit - o->count;
		r = meta_log_query(s->db, &f, &recs, &n);
		if (r < 0)
			return r;
		for (i = 0; i < n && !done; i++) {
			struct record_view v;

			f.after_id = recs[i].id;
			r = view_init(s, &recs[i], &v);
			if (r == 0 && view_wanted(a, &v))
				r = emit(o, s, &v);
			view_clear(&v);
			if (r < 0) {
				records_free(recs, n);
				return r;
			}
			if (a->arg_limit && o->count >= a->arg_limit)
				done = true;
		}
		records_free(recs, n);
		if (n < f.limit)
			done = true;
	}
	return 0;
}

static int records_parse(const struct cli_context *ctx, int argc, char **argv,
			 struct records_args *a)
{
	/* clang-format off */
	static const struct option log_options[] = {
		{"user", required_argument, NULL, 'U'},
		{"path", required_argument, NULL, 'P'},
		{"ino", required_argument, NULL, 'I'},
		{"op", required_argument, NULL, 'O'},
		{"level", required_argument, NULL, 'L'},
		{"denied", no_argument, NULL, 'D'},
		{"since", required_argument, NULL, 'S'},
		{"until", required_argument, NULL, 'T'},
		{"limit", required_argument, NULL, 'N'},
		{"json", no_argument, NULL, 'j'},
		{"csv", no_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static const struct option incident_options[] = {
		{"since", required_argument, NULL, 'S'},
		{"until", required_argument, NULL, 'T'},
		{"user", required_argument, NULL, 'U'},
		{"path", required_argument, NULL, 'P'},
		{"limit", required_argument, NULL, 'N'},
		{"json", no_argument, NULL, 'j'},
		{"csv", no_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	/* clang-format on */
	const struct option *options = a->incidents ? incident_options : log_options;
	bool json = false, csv = false;
	int c;

	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case 'U':
			a->arg_user = optarg;
			break;
		case 'P':
			if (!optarg[0])
				return cli_usage_error(ctx, "--path needs a path, e.g. /hr");
			free(a->arg_path);
			a->arg_path = path_prefix_normalise(optarg);
			if (!a->arg_path) {
				cli_error("out of memory");
				return CLI_EXIT_FAILED;
			}
			break;
		case 'I':
			if (!cmd_parse_u64(optarg, &a->arg_ino) || a->arg_ino == 0)
				return cli_usage_error(ctx, "--ino needs an inode number, not '%s'",
						       optarg);
			break;
		case 'O':
			if (!op_known(optarg))
				return cli_usage_error(ctx,
						       "'%s' is not an operation: see "
						       "'vaultfs-meta log --help' and "
						       "vaultfs-meta(1) for the list",
						       optarg);
			a->arg_op = optarg;
			break;
		case 'L':
			a->arg_level = optarg;
			break;
		case 'D':
			a->arg_denied = true;
			break;
		case 'S':
		case 'T': {
			int64_t ns;

			if (cli_time_parse(optarg, &ns) < 0)
				return cli_usage_error(ctx,
						       "'%s' is not a time: use 2026-11-22, "
						       "2026-11-22T10:00, 2026-11-22T10:00:00Z, "
						       "2026-11-22T11:00+01:00 or @SECONDS",
						       optarg);
			if (c == 'S') {
				a->arg_since_ns = ns;
			} else {
				/* a date means all of that day (the last one
				 * a time can name ends at INT64_MAX) */
				if (time_is_date_only(optarg))
					ns = ns > INT64_MAX - (INT64_C(86400000000000) - 1)
						 ? INT64_MAX
						 : ns + INT64_C(86400000000000) - 1;
				a->arg_until_ns = ns;
			}
			break;
		}
		case 'N':
			if (!cmd_parse_u64(optarg, &a->arg_limit) || a->arg_limit == 0)
				return cli_usage_error(ctx,
						       "--limit needs a positive number, not "
						       "'%s'",
						       optarg);
			break;
		case 'j':
			json = true;
			break;
		case 'c':
			csv = true;
			break;
		case 'h':
			cli_command_help(ctx->prog, ctx->cmd);
			return -1; /* done, exit 0 */
		default:
			return cli_bad_option(ctx, c, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
	if (json && csv)
		return cli_usage_error(ctx, "choose one of --json and --csv");
	if (a->arg_since_ns && a->arg_until_ns && a->arg_since_ns > a->arg_until_ns)
		return cli_usage_error(ctx, "--since is after --until");
	a->format = json ? FORMAT_JSON : csv ? FORMAT_CSV : FORMAT_HUMAN;
	return 0;
}

static int records_error(int r)
{
	switch (r) {
	case -ENOMEM:
		cli_error("out of memory");
		break;
	case -EBUSY:
		cli_error("the vault database is locked: try again in a moment");
		break;
	default:
		cli_error("cannot read the access records: %s", strerror(-r));
		break;
	}
	return CLI_EXIT_FAILED;
}

static int records_command(struct cli_context *ctx, int argc, char **argv, bool incidents)
{
	_cleanup_(cmd_session_close) struct cmd_session s = {0};
	struct records_args a = {.incidents = incidents};
	struct records_out o = {0};
	int ret, level = -1, r;

	ret = records_parse(ctx, argc, argv, &a);
	if (ret != 0) {
		free(a.arg_path);
		return ret < 0 ? CLI_EXIT_OK : ret;
	}
	ret = cmd_session_open(ctx, &s);
	if (ret == 0 && a.arg_level)
		ret = cmd_level_arg(&s, a.arg_level, &level);
	if (ret == 0)
		ret = cmd_session_unlock(&s);
	if (ret != 0)
		goto out;

	o.format = a.format;
	if (o.format == FORMAT_HUMAN) {
		o.table = out_table_new(C_COUNT, column_names, column_align);
		if (!o.table) {
			ret = records_error(-ENOMEM);
			goto out;
		}
	} else if (o.format == FORMAT_CSV) {
		emit_csv_header();
	}

	r = records_run(&s, &a, level, &o);
	if (r < 0) {
		ret = records_error(r);
		goto out;
	}

	switch (o.format) {
	case FORMAT_JSON:
		fputs(o.count == 0 ? "[]\n" : "\n]\n", stdout);
		break;
	case FORMAT_CSV:
		break;
	case FORMAT_HUMAN:
		if (o.count > 0)
			out_table_print(o.table, stdout);
		if (incidents)
			printf("%s%zu incident%s: %zu denied, %zu integrity failure%s\n",
			       o.count > 0 ? "\n" : "", o.count, o.count == 1 ? "" : "s", o.denied,
			       o.integrity, o.integrity == 1 ? "" : "s");
		else if (o.count == 0)
			printf("No matching records.\n");
		break;
	}
	ret = cmd_session_finish(&s, "record path", "record paths");
out:
	o.table = out_table_free(o.table);
	free(a.arg_path);
	return ret;
}

int cmd_log(struct cli_context *ctx, int argc, char **argv)
{
	return records_command(ctx, argc, argv, false);
}

int cmd_incidents(struct cli_context *ctx, int argc, char **argv)
{
	return records_command(ctx, argc, argv, true);
}
