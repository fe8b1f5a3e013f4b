/*
 * meta/cmd/verify.c — vaultfs-meta verify (issue 12): the access record
 * against its stored tree head, and against every checkpoint the vault
 * keeps, the auditor's files and the witnesses' newest.
 *
 * verify runs a table of checks (struct check). Each adds findings (the
 * evidence does not hold: exit 5) or errors (it could not look: exit 1) to
 * the run; the verdict is printed once, at the end. Checkpoints from every
 * source become anchors (a size and a root, once their signature holds),
 * and all anchors are compared with the records in one pass over the leaves:
 * O(records + anchors * log records), so a vault of a million records
 * verifies in seconds. Key rows, node rows and content are checks still to
 * come (others are building them): they slot into the table. It needs no
 * passphrase: read access to vault.db is enough.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <getopt.h>
#include <jansson.h>
#include <sodium.h>

#include "keytool/anchor.h"
#include "keytool/journal.h"
#include "keytool/note.h"
#include "keytool/witness.h"
#include "meta/checkpoints.h"
#include "meta/cmd/cmd.h"
#include "meta/cmd/out.h"
#include "meta/records-tree.h"

#define HB META_TLOG_HASH_BYTES

/* ---- verify: the run and its checks ------------------------------------------ */

/* Where a checkpoint came from. */
enum anchor_source { FROM_VAULT, FROM_FILE, FROM_WITNESS, FROM_JOURNAL };

static const char *const source_names[] = {"vault", "file", "witness", "journal"};

/* What became of one checkpoint. */
enum anchor_state {
	A_CONSISTENT, /* the records extend it */
	A_REWRITTEN,  /* its first `size` records no longer hash to its root */
	A_ROLLBACK,   /* the log is shorter than it */
	A_FORGED,     /* not signed by the verifier key, or a signature that fails */
	A_MALFORMED,  /* not a checkpoint of this vault */
	A_UNREADABLE, /* could not be read (an error, not a finding) */
};

static const char *const state_names[] = {"consistent", "rewritten", "rollback",
					  "forged",	"malformed", "unreadable"};

/* A checkpoint to compare the records with. */
struct anchor {
	enum anchor_source from;
	char *where;	/* file or directory name; NULL for the vault's */
	bool signed_ok; /* the signature held: size and root are its own */
	uint64_t size;	/* tree size it states */
	uint8_t root[HB];
	enum anchor_state state;
	char *problem; /* what is wrong, for a finding or an error (malloc'd) */
};

/* One line of the verdict. */
struct note_line {
	const char *check; /* the check's name */
	bool finding;	   /* tampering found (else: an error, the check could not look) */
	char *text;	   /* malloc'd */
};

/* A verify run: the options, what the checks learn, what they found. */
struct verify_run {
	struct cli_context *ctx;
	struct meta_db *db;
	char **files;	/* --checkpoint FILE..., from argv */
	size_t n_files; /* of them */
	char **witness; /* --witness DIR..., from argv */
	size_t n_witness;
	bool journal;			  /* --journal */
	bool json;			  /* --json */
	bool have_verifier;		  /* v is set */
	bool pinned;			  /* v came from --vkey / --vkey-file */
	struct kt_note_verifier v;	  /* the checkpoint verifier key */
	struct meta_tlog_frontier tree;	  /* recomputed from the records */
	struct meta_tlog_frontier stored; /* the stored one (access_tree) */
	bool have_tree;			  /* tree is set */
	struct anchor *anchors;		  /* every checkpoint, from every source */
	size_t n_anchors;
	struct note_line *lines; /* findings and errors, in order */
	size_t n_lines;
	uint64_t range_lo, range_hi; /* leaves [lo, hi) hold the first change (hi 0: none) */
	bool oom;		     /* a note could not be kept: fail */
};

static void run_note(struct verify_run *run, const char *check, bool finding, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void run_note(struct verify_run *run, const char *check, bool finding, const char *fmt, ...)
{
	struct note_line *l;
	va_list ap;
	char *text = NULL;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	l = realloc(run->lines, (run->n_lines + 1) * sizeof(*l));
	if (!text || !l) {
		free(text);
		if (l)
			run->lines = l;
		run->oom = true;
		return;
	}
	run->lines = l;
	l[run->n_lines++] = (struct note_line){check, finding, text};
}

static size_t run_count(const struct verify_run *run, bool finding)
{
	size_t n = 0;

	for (size_t i = 0; i < run->n_lines; i++)
		n += run->lines[i].finding == finding;
	return n;
}

/*
 * The ids of the records at leaf indexes idx[0..n) (ascending), as the log
 * stands now, into ret (0 where there is none). One pass from the start:
 * only for a finding's report.
 */
static int ids_at(struct meta_db *db, const uint64_t *idx, size_t n, int64_t *ret)
{
	struct meta_log_filter f = {.level = -1, .raw = true, .limit = 4096};
	uint64_t seen = 0;
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		ret[i] = 0;
	while (k < n) {
		struct meta_record *v = NULL;
		size_t got = 0;
		int e = meta_log_query(db, &f, &v, &got);

		if (e < 0)
			return e;
		for (size_t i = 0; i < got; i++) {
			while (k < n && idx[k] == seen + i)
				ret[k++] = v[i].id;
			meta_record_clear(&v[i]);
		}
		if (got)
			f.after_id = v[got - 1].id;
		free(v);
		seen += got;
		if (got < f.limit)
			break;
	}
	return 0;
}

/* "leaves A..B (records X..Y as the log stands now)" for leaves [lo, hi). */
static char *range_text(struct verify_run *run, uint64_t lo, uint64_t hi)
{
	uint64_t idx[2] = {lo, hi - 1};
	int64_t ids[2] = {0, 0};

	if (hi > run->tree.size || ids_at(run->db, idx, 2, ids) < 0 || !ids[0] || !ids[1])
		return out_fmt("leaves %llu..%llu", (unsigned long long)lo,
			       (unsigned long long)(hi - 1));
	return out_fmt("leaves %llu..%llu (records %lld..%lld as the log stands now)",
		       (unsigned long long)lo, (unsigned long long)(hi - 1), (long long)ids[0],
		       (long long)ids[1]);
}

/*
 * Where a stored frontier and the recomputed one first differ: both split
 * their trees into perfect subtrees, largest first; while the two split the
 * same way their roots can be compared one by one. The first subtree whose
 * roots differ is a range of leaves in which a record changed; when the
 * splits part, what follows is all that can be said. Sets *lo, *hi.
 */
static bool frontier_diff(const struct meta_tlog_frontier *a, const struct meta_tlog_frontier *b,
			  uint64_t *lo, uint64_t *hi)
{
	uint64_t off = 0;
	size_t ia = 0, ib = 0;

	for (int bit = 63; bit >= 0; bit--) {
		uint64_t w = UINT64_C(1) << bit;
		bool in_a = a->size & w, in_b = b->size & w;

		if (!in_a && !in_b)
			continue;
		if (in_a != in_b) {
			/* the splits part: leaves from off on differ in number */
			*lo = off;
			*hi = a->size > b->size ? a->size : b->size;
			return true;
		}
		if (sodium_memcmp(a->node[ia], b->node[ib], HB) != 0) {
			*lo = off;
			*hi = off + w;
			return true;
		}
		off += w;
		ia++;
		ib++;
	}
	return false;
}

/* Check 1: the tree recomputed from the records is the stored one. */
static int check_tree(struct verify_run *run)
{
	char r1[CMD_ROOT_B64_LEN], r2[CMD_ROOT_B64_LEN];
	uint8_t a[HB], b[HB];
	uint64_t lo, hi;
	char *range;
	int e;

	e = meta_log_tree_recompute(run->db, &run->tree);
	if (e < 0) {
		run_note(run, "tree", false, "cannot read the records: %s", strerror(-e));
		return e;
	}
	run->have_tree = true;
	e = meta_log_tree_stored(run->db, &run->stored);
	if (e == -EBADMSG) {
		run_note(run, "tree", true,
			 "the stored tree head (access_tree) is missing or malformed");
		return 0;
	}
	if (e < 0) {
		run_note(run, "tree", false, "cannot read the stored tree head: %s", strerror(-e));
		return e;
	}
	meta_tlog_root(&run->tree, a);
	meta_tlog_root(&run->stored, b);
	if (run->tree.size == run->stored.size && sodium_memcmp(a, b, HB) == 0)
		return 0;
	cmd_root_text(a, r1);
	cmd_root_text(b, r2);
	if (!frontier_diff(&run->stored, &run->tree, &lo, &hi))
		lo = 0, hi = run->tree.size;
	if (hi <= run->tree.size)
		range = range_text(run, lo, hi);
	else
		range = out_fmt("the first %llu agree with it, from leaf %llu on they differ",
				(unsigned long long)lo, (unsigned long long)lo);
	run_note(run, "tree", true,
		 "the records (%llu, root %s) are not the stored tree head (%llu, root %s)%s; %s%s",
		 (unsigned long long)run->tree.size, r1, (unsigned long long)run->stored.size, r2,
		 run->tree.size < run->stored.size   ? ": records were removed"
		 : run->tree.size > run->stored.size ? ": records were added without their leaves"
						     : "",
		 hi <= run->tree.size ? "they differ in " : "", range ? range : "?");
	free(range);
	return 0;
}

/* Add an anchor; its note (len bytes) checked with the verifier key. */
static void anchor_add(struct verify_run *run, enum anchor_source from, const char *where,
		       const char *note, size_t len)
{
	struct anchor *a = realloc(run->anchors, (run->n_anchors + 1) * sizeof(*a));
	struct kt_checkpoint cp = {0};
	char *text = NULL;
	int e;

	if (!a) {
		run->oom = true;
		return;
	}
	run->anchors = a;
	a = &a[run->n_anchors++];
	memset(a, 0, sizeof(*a));
	a->from = from;
	a->where = where ? strdup(where) : NULL;
	if (!run->have_verifier) {
		a->state = A_FORGED;
		a->problem = strdup("cannot be checked: no verifier key (give --vkey)");
		return;
	}
	e = kt_note_open(note, len, &run->v, &text);
	if (e == 0) {
		e = kt_checkpoint_parse(text, &cp);
		free(text);
	}
	if (e == 0 && strcmp(cp.origin, run->v.name) != 0)
		e = -EXDEV;
	switch (e) {
	case 0:
		a->signed_ok = true;
		a->size = cp.size;
		memcpy(a->root, cp.root, HB);
		break;
	case -ENOKEY:
		a->state = A_FORGED;
		a->problem = strdup("not signed by the vault's checkpoint key: forged, or another "
				    "vault's");
		break;
	case -EBADMSG:
		a->state = A_FORGED;
		a->problem = strdup("its signature does not verify: the checkpoint was altered");
		break;
	case -EXDEV:
		a->state = A_MALFORMED;
		a->problem = strdup("a checkpoint of another log than this vault's");
		break;
	case -ENOMEM:
		run->oom = true;
		break;
	default:
		a->state = A_MALFORMED;
		a->problem = strdup("not a well-formed signed checkpoint");
		break;
	}
	kt_checkpoint_clear(&cp);
}

/* An anchor that could not be read: an error (the check could not look). */
static void anchor_unreadable(struct verify_run *run, enum anchor_source from, const char *where,
			      const char *why)
{
	anchor_add(run, from, where, "", 0);
	if (run->oom || !run->n_anchors)
		return;
	run->anchors[run->n_anchors - 1].state = A_UNREADABLE;
	free(run->anchors[run->n_anchors - 1].problem);
	run->anchors[run->n_anchors - 1].problem = strdup(why);
}

/* Sources of checkpoints: the vault's own, the auditor's files, witnesses. */
static int gather_vault(struct verify_run *run)
{
	struct meta_checkpoint *kept = NULL;
	size_t n = 0;
	int e = meta_checkpoint_list(run->db, &kept, &n);

	if (e < 0) {
		run_note(run, "checkpoints", false, "cannot read the vault's checkpoints: %s",
			 strerror(-e));
		return e;
	}
	for (size_t i = 0; i < n; i++) {
		anchor_add(run, FROM_VAULT, NULL, kept[i].note, strlen(kept[i].note));
		/* the row's size column must be what the signed note says */
		if (run->n_anchors && run->anchors[run->n_anchors - 1].signed_ok &&
		    run->anchors[run->n_anchors - 1].size != kept[i].size)
			run_note(run, "checkpoints", true,
				 "the vault's checkpoint row of size %llu holds a checkpoint of "
				 "size %llu",
				 (unsigned long long)kept[i].size,
				 (unsigned long long)run->anchors[run->n_anchors - 1].size);
		meta_checkpoint_clear(&kept[i]);
	}
	free(kept);
	return 0;
}

static int gather_files(struct verify_run *run)
{
	for (size_t i = 0; i < run->n_files; i++) {
		char *note = NULL;
		size_t len;
		int e = cmd_read_file(run->files[i], KT_NOTE_MAX_BYTES, &note, &len);

		if (e == -EFBIG)
			anchor_add(run, FROM_FILE, run->files[i], "", 0); /* malformed */
		else if (e < 0)
			anchor_unreadable(run, FROM_FILE, run->files[i], strerror(-e));
		else
			anchor_add(run, FROM_FILE, run->files[i], note, len);
		free(note);
	}
	return 0;
}

static int gather_witnesses(struct verify_run *run)
{
	for (size_t i = 0; i < run->n_witness; i++) {
		struct kt_checkpoint cp = {0};
		struct anchor *a;
		int e =
		    run->have_verifier ? kt_witness_latest(run->witness[i], &run->v, &cp) : -ENOKEY;

		if (e == -ENOENT) {
			anchor_unreadable(run, FROM_WITNESS, run->witness[i],
					  "holds no checkpoint of this vault yet");
			continue;
		}
		if (e < 0 && e != -ENOKEY && e != -EBADMSG && e != -EPROTO) {
			anchor_unreadable(run, FROM_WITNESS, run->witness[i], strerror(-e));
			continue;
		}
		anchor_add(run, FROM_WITNESS, run->witness[i], "", 0);
		if (run->oom)
			break;
		a = &run->anchors[run->n_anchors - 1];
		free(a->problem);
		a->problem = NULL;
		if (e == 0 && strcmp(cp.origin, run->v.name) == 0) {
			a->signed_ok = true;
			a->size = cp.size;
			memcpy(a->root, cp.root, HB);
		} else {
			a->state = e == -EPROTO || e == 0 ? A_MALFORMED : A_FORGED;
			a->problem =
			    strdup(e == -ENOKEY	   ? "its newest checkpoint is not signed by "
						     "the vault's checkpoint key"
				   : e == -EBADMSG ? "its newest checkpoint does not verify"
						   : "its newest checkpoint is malformed or "
						     "another vault's");
		}
		kt_checkpoint_clear(&cp);
	}
	return 0;
}

/* --journal: the newest checkpoint the system journal holds for the vault. */
static int gather_journal(struct verify_run *run)
{
	char *note = NULL;
	size_t len = 0;
	int e;

	if (!run->journal)
		return 0;
	if (!run->have_verifier) {
		anchor_unreadable(run, FROM_JOURNAL, "the system journal",
				  "cannot be checked: no verifier key (give --vkey)");
		return 0;
	}
	e = kt_journal_newest_signed(&run->v, &note, &len, NULL);
	if (e == 0)
		anchor_add(run, FROM_JOURNAL, "the system journal", note, len);
	else if (e == -ENOENT)
		anchor_unreadable(run, FROM_JOURNAL, "the system journal",
				  "holds no checkpoint of this vault signed by its key");
	else
		anchor_unreadable(run, FROM_JOURNAL, "the system journal",
				  e == -ENOMEDIUM ? "cannot be read here (no journal)"
						  : strerror(-e));
	free(note);
	return 0;
}

static int cmp_anchor_size(const void *x, const void *y)
{
	const struct anchor *const *a = x, *const *b = y;

	return (*a)->size < (*b)->size ? -1 : (*a)->size > (*b)->size;
}

/*
 * Check 2: every signed anchor against the records, in one pass over the
 * leaves: the frontier grows leaf by leaf, and at each anchor's size its
 * root is compared with the anchor's.
 */
static int check_anchors(struct verify_run *run)
{
	struct anchor **order;
	struct meta_tlog_frontier f;
	uint8_t *leaves = NULL;
	uint64_t good = 0, bad = UINT64_MAX;
	size_t n = 0, k = 0;
	int e = 0;

	gather_vault(run);
	gather_files(run);
	gather_witnesses(run);
	gather_journal(run);
	if (!run->have_tree)
		return 0;
	order = calloc(run->n_anchors + 1, sizeof(*order));
	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < run->n_anchors; i++)
		if (run->anchors[i].signed_ok)
			order[n++] = &run->anchors[i];
	qsort(order, n, sizeof(*order), cmp_anchor_size);
	if (n && order[0]->size <= run->tree.size) {
		uint64_t upto =
		    order[n - 1]->size < run->tree.size ? order[n - 1]->size : run->tree.size;

		e = meta_log_leaves(run->db, upto, &leaves);
		if (e < 0) {
			run_note(run, "checkpoints", false, "cannot read the records: %s",
				 strerror(-e));
			free(order);
			return e;
		}
	}
	meta_tlog_frontier_init(&f);
	for (k = 0; k < n; k++) {
		struct anchor *a = order[k];
		uint8_t root[HB];

		if (a->size > run->tree.size) {
			a->state = A_ROLLBACK;
			if (a->size < bad)
				bad = a->size;
			continue;
		}
		while (f.size < a->size)
			meta_tlog_append(&f, leaves + f.size * HB);
		meta_tlog_root(&f, root);
		if (sodium_memcmp(root, a->root, HB) == 0) {
			a->state = A_CONSISTENT;
			if (a->size > good && a->size < bad)
				good = a->size;
		} else {
			a->state = A_REWRITTEN;
			if (a->size < bad)
				bad = a->size;
		}
	}
	free(leaves);
	free(order);
	if (bad != UINT64_MAX) {
		run->range_lo = good;
		run->range_hi = bad;
	}
	return 0;
}

/* The anchors' states as findings and errors. */
static void report_anchors(struct verify_run *run)
{
	for (size_t i = 0; i < run->n_anchors; i++) {
		struct anchor *a = &run->anchors[i];
		char what[512];

		if (a->from == FROM_VAULT)
			snprintf(what, sizeof(what), "the vault's checkpoint of size %llu",
				 (unsigned long long)a->size);
		else
			snprintf(what, sizeof(what), "%s %s", source_names[a->from],
				 a->where ? a->where : "");
		switch (a->state) {
		case A_CONSISTENT:
			break;
		case A_REWRITTEN:
			run_note(
			    run, source_names[a->from], true,
			    "%s (size %llu): the first %llu records no longer hash to its root: "
			    "records were edited, removed or inserted",
			    what, (unsigned long long)a->size, (unsigned long long)a->size);
			break;
		case A_ROLLBACK:
			run_note(run, source_names[a->from], true,
				 "%s (size %llu): the log holds only %llu records: records were "
				 "removed, or the vault rolled back",
				 what, (unsigned long long)a->size,
				 (unsigned long long)run->tree.size);
			break;
		case A_FORGED:
		case A_MALFORMED:
			if (a->from == FROM_VAULT)
				snprintf(what, sizeof(what), "a checkpoint kept in the vault");
			run_note(run, source_names[a->from], true, "%s: %s", what,
				 a->problem ? a->problem : "refused");
			break;
		case A_UNREADABLE:
			run_note(run, source_names[a->from], false, "%s: %s", what,
				 a->problem ? a->problem : "cannot be read");
			break;
		}
	}
}

/* vault.db's schema is the one the code makes (meta/schema.c: a planted
 * trigger, a dropped guard); the open said how it differs, if it does. */
static int check_schema(struct verify_run *run)
{
	if (run->ctx->schema_finding[0])
		run_note(run, "schema", true, "%s in vault.db's schema", run->ctx->schema_finding);
	return 0;
}

/* The checks, in order. Key rows, node rows and content come later (issue 12):
 * each is one more entry here. */
struct check {
	const char *name;
	int (*run)(struct verify_run *run);
};

static const struct check checks[] = {
    {"schema", check_schema},
    {"tree", check_tree},
    {"checkpoints", check_anchors},
};

static void run_free(struct verify_run *run)
{
	for (size_t i = 0; i < run->n_anchors; i++) {
		free(run->anchors[i].where);
		free(run->anchors[i].problem);
	}
	free(run->anchors);
	for (size_t i = 0; i < run->n_lines; i++)
		free(run->lines[i].text);
	free(run->lines);
	free(run->files);
	free(run->witness);
}

static int cmp_u64(const void *x, const void *y)
{
	const uint64_t *a = x, *b = y;

	return *a < *b ? -1 : *a > *b;
}

/* The consistent anchors' sizes, ascending: "12, 40, 41" (malloc'd). */
static char *sizes_text(const struct verify_run *run, size_t *ret_n)
{
	uint64_t *sizes = calloc(run->n_anchors + 1, sizeof(*sizes));
	char *buf = NULL;
	size_t cap = 0, n = 0;
	FILE *f;

	if (!sizes)
		return NULL;
	for (size_t i = 0; i < run->n_anchors; i++)
		if (run->anchors[i].state == A_CONSISTENT)
			sizes[n++] = run->anchors[i].size;
	qsort(sizes, n, sizeof(*sizes), cmp_u64);
	f = open_memstream(&buf, &cap);
	if (f) {
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%s%llu", i ? ", " : "", (unsigned long long)sizes[i]);
		fclose(f);
	}
	free(sizes);
	*ret_n = n;
	return buf;
}

static int print_json(struct verify_run *run, const char *verdict, const char *range)
{
	json_t *o = json_object(), *cps = json_array(), *lines = json_array();
	char root[CMD_ROOT_B64_LEN];
	uint8_t h[HB];
	int x = CLI_EXIT_OK;

	meta_tlog_root(&run->tree, h);
	cmd_root_text(h, root);
	json_object_set_new(o, "verdict", json_string(verdict));
	json_object_set_new(o, "records", json_integer((json_int_t)run->tree.size));
	json_object_set_new(o, "tree_root", run->have_tree ? json_string(root) : json_null());
	json_object_set_new(o, "verifier_key_pinned", json_boolean(run->pinned));
	for (size_t i = 0; i < run->n_anchors; i++) {
		struct anchor *a = &run->anchors[i];
		json_t *c = json_object();
		/* a file name is any bytes: valid UTF-8 for JSON */
		char *where = a->where ? out_text(a->where, strlen(a->where), OUT_TEXT_UTF8) : NULL;

		json_object_set_new(c, "source", json_string(source_names[a->from]));
		json_object_set_new(c, "where", where ? json_string(where) : json_null());
		free(where);
		json_object_set_new(c, "size",
				    a->signed_ok ? json_integer((json_int_t)a->size) : json_null());
		json_object_set_new(c, "state", json_string(state_names[a->state]));
		json_array_append_new(cps, c);
	}
	json_object_set_new(o, "checkpoints", cps);
	for (size_t i = 0; i < run->n_lines; i++) {
		json_t *l = json_object();
		char *t = out_text(run->lines[i].text, strlen(run->lines[i].text), OUT_TEXT_UTF8);

		json_object_set_new(l, "check", json_string(run->lines[i].check));
		json_object_set_new(l, "kind",
				    json_string(run->lines[i].finding ? "finding" : "error"));
		json_object_set_new(l, "text", t ? json_string(t) : json_null());
		free(t);
		json_array_append_new(lines, l);
	}
	json_object_set_new(o, "problems", lines);
	if (run->range_hi) {
		json_t *r = json_object();

		json_object_set_new(r, "first_leaf", json_integer((json_int_t)run->range_lo));
		json_object_set_new(r, "last_leaf", json_integer((json_int_t)run->range_hi - 1));
		json_object_set_new(r, "text", range ? json_string(range) : json_null());
		json_object_set_new(o, "changed_range", r);
	}
	if (json_dumpf(o, stdout, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) < 0)
		x = CLI_EXIT_FAILED;
	putchar('\n');
	json_decref(o);
	return x;
}

/* The verdict: one line, then what is wrong. Returns the exit code. */
static int verdict(struct verify_run *run)
{
	size_t findings = run_count(run, true), errors = run_count(run, false), n_ok = 0;
	char root[CMD_ROOT_B64_LEN], *sizes, *range = NULL;
	const char *word;
	uint8_t h[HB];
	int x;

	meta_tlog_root(&run->tree, h);
	cmd_root_text(h, root);
	sizes = sizes_text(run, &n_ok);
	if (run->range_hi && run->range_hi <= run->tree.size)
		range = range_text(run, run->range_lo, run->range_hi);
	else if (run->range_hi)
		range = out_fmt("leaves %llu..%llu, of which leaves from %llu on are gone",
				(unsigned long long)run->range_lo,
				(unsigned long long)run->range_hi - 1,
				(unsigned long long)run->tree.size);
	word = findings ? "tampered" : errors ? "incomplete" : "intact";
	if (run->json) {
		x = print_json(run, word, range);
	} else if (!findings && !errors) {
		printf("intact: %llu records, tree head %s, consistent with %zu "
		       "checkpoint%s%s%s%s%s\n",
		       (unsigned long long)run->tree.size, root, n_ok, n_ok == 1 ? "" : "s",
		       n_ok ? " (sizes " : "", n_ok ? sizes : "", n_ok ? ")" : "",
		       run->pinned ? ""
				   : "; verifier key from the vault itself (pin it with --vkey)");
		x = CLI_EXIT_OK;
	} else {
		if (findings)
			printf("tampered: %zu finding%s: the access record does not hold as "
			       "evidence\n",
			       findings, findings == 1 ? "" : "s");
		else
			printf("incomplete: %zu check%s could not be made\n", errors,
			       errors == 1 ? "" : "s");
		for (size_t i = 0; i < run->n_lines; i++) {
			char *t = out_text(run->lines[i].text, strlen(run->lines[i].text),
					   OUT_TEXT_TERMINAL);

			printf("  %s %s: %s\n", run->lines[i].finding ? "FINDING" : "error",
			       run->lines[i].check, t ? t : "?");
			free(t);
		}
		if (range)
			printf("  the first changed record lies in %s (the checkpoints bound it; "
			       "which record it is cannot be told from their roots alone)\n",
			       range);
		if (n_ok)
			printf("  consistent with %zu checkpoint%s (sizes %s)\n", n_ok,
			       n_ok == 1 ? "" : "s", sizes);
		x = CLI_EXIT_OK;
	}
	free(sizes);
	free(range);
	if (x != CLI_EXIT_OK || run->oom)
		return CLI_EXIT_FAILED;
	return findings ? CLI_EXIT_TAMPERED : errors ? CLI_EXIT_FAILED : CLI_EXIT_OK;
}

int cmd_verify(struct cli_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"witness", required_argument, NULL, 'w'}, {"checkpoint", required_argument, NULL, 'c'},
	    {"journal", no_argument, NULL, 'J'},       {"json", no_argument, NULL, 'j'},
	    {"vkey", required_argument, NULL, 'k'},    {"vkey-file", required_argument, NULL, 'K'},
	    {"help", no_argument, NULL, 'h'},	       {0},
	};
	struct verify_run run = {.ctx = ctx};
	const char *vkey = NULL, *vkey_file = NULL;
	struct kt_note_verifier vault_v;
	int opt, x = CLI_EXIT_OK, e;

	run.files = calloc((size_t)argc + 1, sizeof(char *));
	run.witness = calloc((size_t)argc + 1, sizeof(char *));
	if (!run.files || !run.witness) {
		run_free(&run);
		cli_error("out of memory");
		return CLI_EXIT_FAILED;
	}
	while (x == CLI_EXIT_OK && (opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'w':
			run.witness[run.n_witness++] = optarg;
			break;
		case 'c':
			run.files[run.n_files++] = optarg;
			break;
		case 'J':
			run.journal = true;
			break;
		case 'j':
			run.json = true;
			break;
		case 'k':
			vkey = optarg;
			break;
		case 'K':
			vkey_file = optarg;
			break;
		case 'h':
			cli_command_help(ctx->prog, ctx->cmd);
			run_free(&run);
			return CLI_EXIT_OK;
		default:
			x = cli_bad_option(ctx, opt, argv);
		}
	}
	if (x == CLI_EXIT_OK && optind < argc)
		x = cli_usage_error(ctx, "verify takes no arguments (checkpoint files go with "
					 "--checkpoint)");
	if (x == CLI_EXIT_OK && vkey && vkey_file)
		x = cli_usage_error(ctx, "give one of --vkey and --vkey-file");
	if (x == CLI_EXIT_OK && (vkey || vkey_file)) {
		x = cmd_vkey_arg(ctx, vkey, vkey_file, &run.v);
		run.have_verifier = run.pinned = x == CLI_EXIT_OK;
	}
	if (x == CLI_EXIT_OK)
		x = cmd_open_vault_only(ctx);
	if (x != CLI_EXIT_OK) {
		run_free(&run);
		return x;
	}
	run.db = ctx->db;
	e = meta_tx_begin_read(run.db); /* one snapshot for every check */
	if (e < 0) {
		cli_error("cannot read the vault: %s", strerror(-e));
		run_free(&run);
		return CLI_EXIT_FAILED;
	}
	e = kt_log_verifier(run.db, &vault_v);
	if (run.pinned && e == 0 &&
	    (strcmp(vault_v.name, run.v.name) != 0 || vault_v.id != run.v.id ||
	     sodium_memcmp(vault_v.public_key, run.v.public_key, KT_NOTE_SIGN_PK_BYTES) != 0))
		run_note(&run, "key", true,
			 "the vault's checkpoint verifier key is not the one given: its sign_keys "
			 "row was replaced, or this is another vault");
	else if (run.pinned && e == -ENOKEY)
		run_note(&run, "key", true, "the vault holds no checkpoint verifier key");
	else if (!run.pinned && e == 0) {
		run.v = vault_v;
		run.have_verifier = true;
	} else if (e < 0 && e != -ENOKEY) {
		run_note(&run, "key", false, "cannot read the vault's checkpoint key: %s",
			 strerror(-e));
	}
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		checks[i].run(&run);
	report_anchors(&run);
	x = verdict(&run);
	meta_tx_end(run.db, 0);
	run_free(&run);
	return x;
}
