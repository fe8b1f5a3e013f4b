/*
 * meta/cmd/inventory.c — vaultfs-meta inventory: the förteckning of a
 * vault's information, as files and bytes per level and per top-level
 * folder, for the owner's register and the CISO's yearly report.
 *
 * The database groups regular files by (level, top-level folder inode); this
 * file adds up the levels, names the folders (decrypting the root's entry
 * for each, context 1 = the root inode, docs/format.md §6) and prints. Every
 * storable level is listed, also with no files, so a report shows the zeros.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "meta/ns.h"
#include "meta/cmd/cmd.h"
#include "meta/cmd/out.h"

#define LEVEL_SLOTS 256 /* meta_inventory_row.level is a uint8_t */

/* One line of the folder table. */
struct folder_row {
	uint64_t top_ino; /* 1 = files directly in the root */
	char *name;	  /* "/" or "/name" (plaintext bytes) or CMD_UNDECRYPTABLE */
	size_t name_len;
	int level;
	uint64_t files;
	uint64_t bytes;
};

/* The whole inventory, summed. */
struct inventory {
	uint64_t level_files[LEVEL_SLOTS];
	uint64_t level_bytes[LEVEL_SLOTS];
	struct folder_row *folders; /* sorted by name, then level */
	size_t n_folders;
	size_t unnamed; /* folders not reachable from the root */
};

static int row_by_ino_level(const void *pa, const void *pb)
{
	const struct meta_inventory_row *a = pa, *b = pb;

	if (a->top_ino != b->top_ino)
		return a->top_ino < b->top_ino ? -1 : 1;
	return (int)a->level - (int)b->level;
}

static int folder_by_name_level(const void *pa, const void *pb)
{
	const struct folder_row *a = pa, *b = pb;
	size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
	int c = memcmp(a->name, b->name, n);

	if (c)
		return c;
	if (a->name_len != b->name_len)
		return a->name_len < b->name_len ? -1 : 1;
	if (a->level != b->level)
		return a->level - b->level;
	return a->top_ino < b->top_ino ? -1 : a->top_ino > b->top_ino;
}

/* "/" + the decrypted name of the root's entry for ino. */
static int folder_name(struct cmd_session *s, struct inventory *inv, uint64_t ino, char **ret_name,
		       size_t *ret_len)
{
	struct meta_dirent d;
	char *name = NULL;
	size_t len = 0;
	int r;

	if (ino == META_ROOT_INO) {
		*ret_name = strdup("/");
		*ret_len = 1;
		return *ret_name ? 0 : -ENOMEM;
	}
	if (ino == 0) {
		/* meta_inventory: files whose folder is not reachable from the root */
		inv->unnamed++;
		*ret_name = strdup("<unreachable>");
		*ret_len = *ret_name ? strlen(*ret_name) : 0;
		return *ret_name ? 0 : -ENOMEM;
	}
	r = meta_dirent_any_for_ino(s->db, ino, &d);
	if (r == -ENOENT) {
		inv->unnamed++;
		*ret_name = out_fmt("<inode %" PRIu64 ">", ino);
		*ret_len = *ret_name ? strlen(*ret_name) : 0;
		return *ret_name ? 0 : -ENOMEM;
	}
	if (r < 0)
		return r;
	r = cmd_decrypt(s, KT_META_NAME, d.parent, d.name_enc, d.name_enc_len, &name, &len);
	meta_dirent_clear(&d);
	if (r == -EBADMSG) {
		*ret_name = strdup(CMD_UNDECRYPTABLE);
		*ret_len = strlen(CMD_UNDECRYPTABLE);
		return *ret_name ? 0 : -ENOMEM;
	}
	if (r < 0)
		return r;
	*ret_name = out_fmt("/%s", name);
	*ret_len = len + 1;
	free(name);
	return *ret_name ? 0 : -ENOMEM;
}

static void inventory_clear(struct inventory *inv)
{
	size_t i;

	for (i = 0; i < inv->n_folders; i++)
		free(inv->folders[i].name);
	free(inv->folders);
	inv->folders = NULL;
	inv->n_folders = 0;
}

/* Sum the database's rows (only level, or all when -1) into inv. */
static int inventory_load(struct cmd_session *s, int level, struct inventory *inv)
{
	struct meta_inventory_row *rows = NULL;
	size_t n = 0, i;
	int r;

	r = meta_inventory(s->db, &rows, &n);
	if (r < 0)
		return r;
	if (n > 1) /* qsort wants a non-NULL array even for none */
		qsort(rows, n, sizeof(*rows), row_by_ino_level);
	inv->folders = calloc(n ? n : 1, sizeof(*inv->folders));
	if (!inv->folders) {
		free(rows);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		const struct meta_inventory_row *row = &rows[i];
		struct folder_row *last = inv->n_folders ? &inv->folders[inv->n_folders - 1] : NULL;

		if (level >= 0 && row->level != level)
			continue;
		inv->level_files[row->level] += row->files;
		inv->level_bytes[row->level] += row->bytes;
		if (last && last->top_ino == row->top_ino && last->level == row->level) {
			last->files += row->files;
			last->bytes += row->bytes;
			continue;
		}
		inv->folders[inv->n_folders] = (struct folder_row){
		    .top_ino = row->top_ino,
		    .level = row->level,
		    .files = row->files,
		    .bytes = row->bytes,
		};
		/* Rows of one folder are adjacent: name it once. */
		if (last && last->top_ino == row->top_ino) {
			inv->folders[inv->n_folders].name = strndup(last->name, last->name_len);
			inv->folders[inv->n_folders].name_len = last->name_len;
			r = inv->folders[inv->n_folders].name ? 0 : -ENOMEM;
		} else {
			r = folder_name(s, inv, row->top_ino, &inv->folders[inv->n_folders].name,
					&inv->folders[inv->n_folders].name_len);
		}
		if (r < 0)
			break;
		inv->n_folders++;
	}
	free(rows);
	if (r < 0) {
		inventory_clear(inv);
		return r;
	}
	if (inv->n_folders > 1)
		qsort(inv->folders, inv->n_folders, sizeof(*inv->folders), folder_by_name_level);
	return 0;
}

/* Levels to list: every storable one, plus any other that holds files. */
static bool level_listed(const struct inventory *inv, int level, int only)
{
	if (only >= 0)
		return level == only;
	return level < META_LEVELS || inv->level_files[level] > 0;
}

static int print_json(const struct cmd_session *s, const struct inventory *inv, int only)
{
	json_t *root = json_object(), *levels = json_array(), *folders = json_array();
	size_t i;
	int level, r = 0;

	if (!root || !levels || !folders) {
		json_decref(root);
		json_decref(levels);
		json_decref(folders);
		return -ENOMEM;
	}
	json_object_set_new(root, "levels", levels);
	json_object_set_new(root, "folders", folders);
	for (level = 0; level < LEVEL_SLOTS && r == 0; level++) {
		const char *name = cmd_level_name(s, level);
		char *text;
		json_t *o;

		if (!level_listed(inv, level, only))
			continue;
		text = name ? out_text(name, strlen(name), OUT_TEXT_UTF8) : NULL;
		o = json_pack("{s:i, s:o, s:I, s:I}", "level", level, "level_name",
			      text ? json_string(text) : json_null(), "files",
			      (json_int_t)inv->level_files[level], "bytes",
			      (json_int_t)inv->level_bytes[level]);
		free(text);
		if (!o || json_array_append_new(levels, o) < 0)
			r = -ENOMEM;
	}
	for (i = 0; i < inv->n_folders && r == 0; i++) {
		const struct folder_row *f = &inv->folders[i];
		char *text = out_text(f->name, f->name_len, OUT_TEXT_UTF8);
		json_t *o = NULL;

		if (text)
			o = json_pack("{s:s, s:i, s:I, s:I}", "folder", text, "level", f->level,
				      "files", (json_int_t)f->files, "bytes", (json_int_t)f->bytes);
		free(text);
		if (!o || json_array_append_new(folders, o) < 0)
			r = -ENOMEM;
	}
	if (r == 0 &&
	    json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) < 0)
		r = -EIO;
	if (r == 0)
		fputc('\n', stdout);
	json_decref(root);
	return r;
}

static char *level_label(const struct cmd_session *s, int level)
{
	const char *name = cmd_level_name(s, level);
	char *text = name ? out_text(name, strlen(name), OUT_TEXT_TERMINAL) : NULL;
	char *label = text ? out_fmt("%d %s", level, text) : out_fmt("%d", level);

	free(text);
	return label;
}

/* A row "label [label2] files bytes"; takes the malloc'd labels (label2 NULL
 * for a three-column table). */
static int table_counts(struct out_table *t, char *label, char *label2, uint64_t files,
			uint64_t bytes)
{
	char *cells[4] = {label, label2, out_fmt("%" PRIu64, files), out_fmt("%" PRIu64, bytes)};
	size_t n = 4, i;

	if (!label2) {
		cells[1] = cells[2];
		cells[2] = cells[3];
		n = 3;
	}
	for (i = 0; i < n; i++) {
		if (!cells[i]) {
			for (i = 0; i < n; i++)
				free(cells[i]);
			return -ENOMEM;
		}
	}
	return out_table_add(t, cells);
}

static int print_human(const struct cmd_session *s, const struct inventory *inv, int only)
{
	static const char *const level_headers[] = {"LEVEL", "FILES", "BYTES"};
	static const char *const folder_headers[] = {"FOLDER", "LEVEL", "FILES", "BYTES"};
	struct out_table *levels = out_table_new(3, level_headers, "lrr");
	struct out_table *folders = out_table_new(4, folder_headers, "llrr");
	uint64_t files = 0, bytes = 0;
	size_t i;
	int level, r = 0;

	if (!levels || !folders)
		r = -ENOMEM;
	for (level = 0; level < LEVEL_SLOTS && r == 0; level++) {
		if (!level_listed(inv, level, only))
			continue;
		files += inv->level_files[level];
		bytes += inv->level_bytes[level];
		r = table_counts(levels, level_label(s, level), NULL, inv->level_files[level],
				 inv->level_bytes[level]);
	}
	if (r == 0)
		r = table_counts(levels, strdup("total"), NULL, files, bytes);
	for (i = 0; i < inv->n_folders && r == 0; i++) {
		const struct folder_row *f = &inv->folders[i];

		r = table_counts(folders, out_text(f->name, f->name_len, OUT_TEXT_TERMINAL),
				 level_label(s, f->level), f->files, f->bytes);
	}
	if (r == 0) {
		out_table_print(levels, stdout);
		fputc('\n', stdout);
		if (inv->n_folders)
			out_table_print(folders, stdout);
		else
			printf("No files%s.\n", only >= 0 ? " at this level" : "");
	}
	out_table_free(levels);
	out_table_free(folders);
	return r;
}

int cmd_inventory(struct cli_context *ctx, int argc, char **argv)
{
	/* clang-format off */
	static const struct option options[] = {
		{"level", required_argument, NULL, 'L'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	/* clang-format on */
	_cleanup_(cmd_session_close) struct cmd_session s = {0};
	struct inventory inv = {0};
	const char *arg_level = NULL;
	bool arg_json = false;
	int c, ret, r, level = -1;

	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case 'L':
			arg_level = optarg;
			break;
		case 'j':
			arg_json = true;
			break;
		case 'h':
			cli_command_help(ctx->prog, ctx->cmd);
			return CLI_EXIT_OK;
		default:
			return cli_bad_option(ctx, c, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error(ctx, "unexpected argument '%s'", argv[optind]);

	ret = cmd_session_open(ctx, &s);
	if (ret == 0 && arg_level)
		ret = cmd_level_arg(&s, arg_level, &level);
	if (ret == 0)
		ret = cmd_session_unlock(&s);
	if (ret != 0)
		return ret;

	r = inventory_load(&s, level, &inv);
	if (r == 0)
		r = arg_json ? print_json(&s, &inv, level) : print_human(&s, &inv, level);
	if (r < 0) {
		if (r == -ENOMEM)
			cli_error("out of memory");
		else if (r == -EBUSY)
			cli_error("the vault database is locked: try again in a moment");
		else
			cli_error("cannot read the inventory: %s", strerror(-r));
		inventory_clear(&inv);
		return CLI_EXIT_FAILED;
	}
	if (inv.unnamed)
		cli_error(
		    "warning: files in %zu folder%s could not be placed in the tree (shown as "
		    "<unreachable> or <inode N>): the namespace is damaged; keep a copy of the "
		    "vault directory and report an incident",
		    inv.unnamed, inv.unnamed == 1 ? "" : "s");
	ret = cmd_session_finish(&s, "folder name", "folder names");
	if (ret == 0 && inv.unnamed)
		ret = CLI_EXIT_FAILED;
	inventory_clear(&inv);
	return ret;
}
