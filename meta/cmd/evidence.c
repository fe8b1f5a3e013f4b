/*
 * meta/cmd/evidence.c — the auditor's evidence outside verify (issue 12):
 * checkpoint (sign the access record's tree head as it stands, for the
 * auditor to keep; --vkey prints the vault's verifier key), prove (one
 * record's inclusion proof as a self-contained file, proof.h) and
 * verify-proof (check such a file with the verifier key alone, no vault);
 * and what they share with verify.c (cmd.h: files, verifier keys).
 *
 * Like every vaultfs-meta command they open the vault read-only: checkpoint
 * and prove sign without keeping (kt_log_checkpoint does not store on a
 * read-only database), so an auditor never writes to the vault they audit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <getopt.h>
#include <sodium.h>

#include "keytool/anchor.h"
#include "keytool/note.h"
#include "meta/checkpoints.h"
#include "meta/cmd/cmd.h"
#include "meta/cmd/out.h"
#include "meta/cmd/proof.h"
#include "meta/records-tree.h"

#define HB	 META_TLOG_HASH_BYTES
#define VKEY_MAX 1024 /* bytes of a verifier key line */

/* ---- files ---------------------------------------------------------------- */

/* Read a whole file of at most max bytes ("-": standard input) into a
 * malloc'd, NUL-terminated buffer. -EFBIG when larger. */
int cmd_read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf;
	size_t n;
	int e = 0;

	if (!f)
		return -errno;
	buf = malloc(max + 2);
	if (!buf) {
		if (f != stdin)
			fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f))
		e = -EIO;
	else if (n > max)
		e = -EFBIG;
	if (f != stdin)
		fclose(f);
	if (e < 0) {
		free(buf);
		return e;
	}
	buf[n] = '\0';
	*ret = buf;
	*ret_len = n;
	return 0;
}

/* Write len bytes to a new file path (never over an existing one: evidence
 * is not overwritten), synced. Prints what failed; exit code. */
static int write_new_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	size_t off = 0;

	if (fd < 0) {
		cli_error("cannot create %s: %s%s", path, strerror(errno),
			  errno == EEXIST ? " (choose a new name: files are never overwritten)"
					  : "");
		return CLI_EXIT_FAILED;
	}
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off < len || fsync(fd) != 0) {
		cli_error("cannot write %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return CLI_EXIT_FAILED;
	}
	if (close(fd) != 0) {
		cli_error("cannot write %s: %s", path, strerror(errno));
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}

/* The output: FILE (new) or standard output. */
int cmd_emit(const char *out, const char *data, size_t len)
{
	if (out)
		return write_new_file(out, data, len);
	fwrite(data, 1, len, stdout);
	return CLI_EXIT_OK;
}

/* A verifier key from --vkey TEXT or --vkey-file FILE (its first line). */
int cmd_vkey_arg(const struct cli_context *ctx, const char *text, const char *file,
		 struct kt_note_verifier *ret)
{
	char *buf = NULL;
	size_t len;
	int e;

	if (file) {
		e = cmd_read_file(file, VKEY_MAX, &buf, &len);
		if (e < 0) {
			cli_error("cannot read the verifier key file %s: %s", file,
				  e == -EFBIG ? "too long for a key" : strerror(-e));
			return CLI_EXIT_FAILED;
		}
		buf[strcspn(buf, "\r\n")] = '\0';
		text = buf;
	}
	e = kt_note_verifier_parse(text, ret);
	free(buf);
	if (e < 0)
		return cli_usage_error(ctx, "not a verifier key: expected NAME+KEYID+BASE64, as "
					    "'vaultfs-meta checkpoint --vkey' prints it");
	return CLI_EXIT_OK;
}

/* The root hash in base64. */
void cmd_root_text(const uint8_t root[HB], char buf[CMD_ROOT_B64_LEN])
{
	sodium_bin2base64(buf, CMD_ROOT_B64_LEN, root, HB, sodium_base64_VARIANT_ORIGINAL);
}

/* The setup of cmd_checkpoint --vkey and of cmd_verify: the vault read-only, no user. */
int cmd_open_vault_only(struct cli_context *ctx)
{
	struct cli_command only = *ctx->cmd;
	const struct cli_command *was = ctx->cmd;
	int x;

	only.setup = CLI_OPENS_RO | (was->setup & CLI_INSPECTS);
	ctx->cmd = &only;
	x = cli_setup(ctx);
	ctx->cmd = was;
	return x;
}

/* The vault's checkpoint verifier, with the line that says why not. */
int cmd_vault_verifier(struct meta_db *db, struct kt_note_verifier *ret)
{
	int e = kt_log_verifier(db, ret);

	if (e == -ENOKEY)
		cli_error("the vault holds no checkpoint signing key: it was made before "
			  "checkpoints existed, or its sign_keys table was emptied");
	else if (e < 0)
		cli_error("cannot read the vault's checkpoint key: %s", strerror(-e));
	return e;
}

/* ---- checkpoint ----------------------------------------------------------- */

int cmd_checkpoint(struct cli_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"vkey", no_argument, NULL, 'k'},
	    {"out", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *out = NULL;
	bool vkey = false;
	char *note = NULL, *line;
	uint64_t size;
	int opt, x, e;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			vkey = true;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			cli_command_help(ctx->prog, ctx->cmd);
			return CLI_EXIT_OK;
		default:
			return cli_bad_option(ctx, opt, argv);
		}
	}
	if (optind < argc)
		return cli_usage_error(ctx, "checkpoint takes no arguments");

	if (vkey) {
		struct kt_note_verifier v;

		x = cmd_open_vault_only(ctx);
		if (x != CLI_EXIT_OK)
			return x;
		if (cmd_vault_verifier(ctx->db, &v) < 0)
			return CLI_EXIT_FAILED;
		e = kt_note_verifier_format(&v, &note);
		if (e < 0) {
			cli_error("cannot write the verifier key: %s", strerror(-e));
			return CLI_EXIT_FAILED;
		}
		line = out_fmt("%s\n", note);
		x = line ? cmd_emit(out, line, strlen(line)) : CLI_EXIT_FAILED;
		free(line);
		free(note);
		return x;
	}

	x = cli_setup(ctx);
	if (x == CLI_EXIT_OK)
		x = cli_unlock(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	e = kt_log_checkpoint(ctx->db, ctx->keyring, &note, &size);
	if (e == -ENOKEY) {
		cli_error(
		    "user '%s' holds no checkpoint key, or the vault's checkpoint key does not "
		    "match it (report an incident if the vault was made with checkpoints)",
		    ctx->user_name);
		return CLI_EXIT_FAILED;
	}
	if (e == -EBADMSG) {
		cli_error("the stored tree head of the access record is damaged: run "
			  "'vaultfs-meta verify' and report an incident");
		return CLI_EXIT_TAMPERED;
	}
	if (e < 0) {
		cli_error("cannot sign a checkpoint: %s", strerror(-e));
		return cli_exit_code(e);
	}
	x = cmd_emit(out, note, strlen(note));
	if (x == CLI_EXIT_OK && out)
		printf("checkpoint of %llu records written to %s: keep it outside the vault\n",
		       (unsigned long long)size, out);
	free(note);
	return x;
}

/* ---- prove ------------------------------------------------------------------- */

/* The record with this id (raw, as stored). */
static int record_by_id(struct meta_db *db, int64_t id, struct meta_record *ret)
{
	struct meta_log_filter f = {.level = -1, .raw = true, .limit = 1, .after_id = id - 1};
	struct meta_record *v = NULL;
	size_t n = 0;
	int e = meta_log_query(db, &f, &v, &n);

	if (e < 0)
		return e;
	if (n != 1 || v[0].id != id) {
		for (size_t i = 0; i < n; i++)
			meta_record_clear(&v[i]);
		free(v);
		return -ENOENT;
	}
	*ret = v[0];
	free(v);
	return 0;
}

/* The note to prove against: --checkpoint FILE, else the newest the vault
 * keeps if it covers leaf index, else one signed now. */
static int prove_note(struct cli_context *ctx, const char *file, uint64_t index, char **ret,
		      const char **ret_whence)
{
	struct meta_checkpoint kept;
	uint64_t size;
	size_t len;
	int e;

	if (file) {
		e = cmd_read_file(file, KT_NOTE_MAX_BYTES, ret, &len);
		if (e < 0)
			cli_error("cannot read the checkpoint %s: %s", file,
				  e == -EFBIG ? "larger than a note can be" : strerror(-e));
		*ret_whence = file;
		return e;
	}
	e = meta_checkpoint_latest(ctx->db, &kept);
	if (e == 0 && kept.size > index) {
		*ret = kept.note;
		*ret_whence = "the newest checkpoint kept in the vault";
		return 0;
	}
	if (e == 0)
		meta_checkpoint_clear(&kept);
	else if (e != -ENOENT) {
		cli_error("cannot read the vault's checkpoints: %s", strerror(-e));
		return e;
	}
	e = kt_log_checkpoint(ctx->db, ctx->keyring, ret, &size);
	if (e < 0)
		cli_error("cannot sign a checkpoint to prove against: %s",
			  e == -ENOKEY ? "no checkpoint key" : strerror(-e));
	*ret_whence = "a checkpoint signed now (none kept in the vault covers the record)";
	return e;
}

/* The proof of record id in p (its note given); exit code. */
static int prove_build(struct cli_context *ctx, int64_t id, uint64_t index, struct proof *p)
{
	struct kt_note_verifier v;
	struct kt_checkpoint cp = {0};
	struct meta_record rec;
	uint8_t *leaves = NULL, root[HB];
	char *text = NULL;
	int e, x = CLI_EXIT_FAILED;

	if (cmd_vault_verifier(ctx->db, &v) < 0)
		return CLI_EXIT_FAILED;
	e = kt_note_open(p->note, p->note_len, &v, &text);
	if (e == 0) {
		e = kt_checkpoint_parse(text, &cp);
		free(text);
	}
	if (e < 0 || strcmp(cp.origin, v.name) != 0) {
		cli_error("the checkpoint is not a valid checkpoint of this vault (%s): run "
			  "'vaultfs-meta verify --checkpoint FILE'",
			  e < 0 ? strerror(-e) : "another log");
		x = CLI_EXIT_TAMPERED;
		goto out;
	}
	if (cp.size <= index) {
		cli_error("the checkpoint (%llu records) does not cover record %lld (leaf %llu): "
			  "take a newer one ('vaultfs-meta checkpoint')",
			  (unsigned long long)cp.size, (long long)id, (unsigned long long)index);
		goto out;
	}
	e = meta_log_leaves(ctx->db, cp.size, &leaves);
	if (e == 0)
		e = meta_tlog_tree_root(meta_log_leaf_at, leaves, cp.size, root);
	if (e == -ERANGE || (e == 0 && sodium_memcmp(root, cp.root, HB) != 0)) {
		cli_error("the records do not match the checkpoint (%llu records): run "
			  "'vaultfs-meta verify' and report an incident",
			  (unsigned long long)cp.size);
		x = CLI_EXIT_TAMPERED;
		goto out;
	}
	if (e == 0)
		e = meta_tlog_inclusion_proof(meta_log_leaf_at, leaves, index, cp.size, p->path,
					      &p->path_len);
	if (e == 0)
		e = record_by_id(ctx->db, id, &rec);
	if (e == 0) {
		e = meta_record_encode(&rec, &p->record, &p->record_len);
		meta_record_clear(&rec);
	}
	if (e < 0) {
		cli_error("cannot make the proof: %s", strerror(-e));
		goto out;
	}
	p->index = index;
	p->size = cp.size;
	x = CLI_EXIT_OK;
out:
	free(leaves);
	kt_checkpoint_clear(&cp);
	return x;
}

int cmd_prove(struct cli_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"checkpoint", required_argument, NULL, 'c'},
	    {"out", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *file = NULL, *out = NULL, *whence = NULL, *why = NULL;
	struct proof p = {0};
	char *text = NULL;
	uint64_t id, index;
	size_t len;
	int opt, x, e;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			file = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			cli_command_help(ctx->prog, ctx->cmd);
			return CLI_EXIT_OK;
		default:
			return cli_bad_option(ctx, opt, argv);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(ctx, "prove takes one record id");
	if (!cmd_parse_u64(argv[optind], &id) || id == 0 || id > INT64_MAX)
		return cli_usage_error(ctx, "'%s' is not a record id (a number, as 'log' shows it)",
				       argv[optind]);
	x = cli_setup(ctx);
	if (x == CLI_EXIT_OK)
		x = cli_unlock(ctx);
	if (x != CLI_EXIT_OK)
		return x;
	e = meta_tx_begin_read(ctx->db);
	if (e < 0) {
		cli_error("cannot read the vault: %s", strerror(-e));
		return CLI_EXIT_FAILED;
	}
	e = meta_log_leaf_index(ctx->db, (int64_t)id, &index);
	if (e < 0) {
		if (e == -ENOENT)
			cli_error("no record %llu in this vault", (unsigned long long)id);
		else
			cli_error("cannot find record %llu: %s", (unsigned long long)id,
				  strerror(-e));
		x = CLI_EXIT_FAILED;
	}
	if (x == CLI_EXIT_OK && prove_note(ctx, file, index, &p.note, &whence) < 0)
		x = CLI_EXIT_FAILED;
	if (x == CLI_EXIT_OK) {
		p.note_len = strlen(p.note);
		x = prove_build(ctx, (int64_t)id, index, &p);
	}
	meta_tx_end(ctx->db, 0);
	if (x == CLI_EXIT_OK) {
		struct kt_note_verifier v;

		/* what leaves here must check with the key alone */
		e = kt_log_verifier(ctx->db, &v);
		if (e == 0)
			e = proof_verify(&p, &v, NULL, &why);
		if (e == 0)
			e = proof_format(&p, &text, &len);
		if (e < 0) {
			cli_error("the proof does not check: %s", why ? why : strerror(-e));
			x = CLI_EXIT_FAILED;
		}
	}
	if (x == CLI_EXIT_OK)
		x = cmd_emit(out, text, len);
	if (x == CLI_EXIT_OK && out)
		printf("proof of record %llu (leaf %llu of %llu) against %s written to %s\n",
		       (unsigned long long)id, (unsigned long long)index,
		       (unsigned long long)p.size, whence, out);
	free(text);
	proof_clear(&p);
	return x;
}

/* ---- verify-proof ------------------------------------------------------------- */

/* One "  name  value" line, the value shown safely. */
static void field(const char *name, const char *value)
{
	char *t = out_text(value, strlen(value), OUT_TEXT_TERMINAL);

	printf("  %-9s %s\n", name, t ? t : "?");
	free(t);
}

static void print_record(const struct meta_record *r)
{
	char buf[128], ebuf[32];
	const char *err;

	printf("record %lld\n", (long long)r->id);
	field("time", cli_time_iso(r->time_ns, buf, sizeof(buf)) ? buf : "?");
	field("user", r->user);
	snprintf(buf, sizeof(buf), "%lld", (long long)r->uid);
	field("uid", r->uid < 0 ? "-" : buf);
	snprintf(buf, sizeof(buf), "%lld", (long long)r->pid);
	field("pid", r->pid == 0 ? "-" : buf);
	field("process", r->comm);
	field("op", r->op);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)r->ino);
	field("inode", r->ino == 0 ? "-" : buf);
	snprintf(buf, sizeof(buf), "%d", r->level);
	field("level", r->level < 0 ? "-" : buf);
	err = cmd_outcome_errno(r->outcome, ebuf, sizeof(ebuf));
	snprintf(buf, sizeof(buf), "%s%s%s", cmd_outcome_class(r->outcome), err ? " " : "",
		 err ? err : "");
	field("outcome", buf);
	if (r->bytes_read >= 0 || r->bytes_written >= 0)
		snprintf(buf, sizeof(buf), "read %lld, written %lld", (long long)r->bytes_read,
			 (long long)r->bytes_written);
	else
		snprintf(buf, sizeof(buf), "-");
	field("bytes", buf);
	if (r->closes) {
		snprintf(buf, sizeof(buf), "the open of record %lld", (long long)r->closes);
		field("closes", buf);
	}
	field("detail", r->detail[0] ? r->detail : "-");
	snprintf(buf, sizeof(buf), "encrypted, %zu bytes (readable only with the vault's keys)",
		 r->path_enc_len);
	field("path", r->path_enc_len ? buf : "-");
	snprintf(buf, sizeof(buf), "encrypted, %zu bytes", r->path2_enc_len);
	field("path2", r->path2_enc_len ? buf : "-");
}

int cmd_verify_proof(struct cli_context *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"vkey", required_argument, NULL, 'k'},
	    {"vkey-file", required_argument, NULL, 'K'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *vkey = NULL, *vkey_file = NULL, *why = NULL;
	struct kt_note_verifier v;
	struct kt_checkpoint cp = {0};
	struct meta_record rec;
	struct proof p = {0};
	char *text = NULL, root[CMD_ROOT_B64_LEN];
	size_t len;
	int opt, x, e;

	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (opt) {
		case 'k':
			vkey = optarg;
			break;
		case 'K':
			vkey_file = optarg;
			break;
		case 'h':
			cli_command_help(ctx->prog, ctx->cmd);
			return CLI_EXIT_OK;
		default:
			return cli_bad_option(ctx, opt, argv);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error(ctx, "verify-proof takes one proof file");
	if (!vkey == !vkey_file)
		return cli_usage_error(ctx, "give the vault's verifier key: --vkey KEY or "
					    "--vkey-file FILE");
	x = cmd_vkey_arg(ctx, vkey, vkey_file, &v);
	if (x != CLI_EXIT_OK)
		return x;
	e = cmd_read_file(argv[optind], PROOF_FILE_MAX, &text, &len);
	if (e == -EFBIG) {
		printf("invalid: larger than a proof file can be\n");
		return CLI_EXIT_TAMPERED;
	}
	if (e < 0) {
		cli_error("cannot read %s: %s", argv[optind], strerror(-e));
		return CLI_EXIT_FAILED;
	}
	e = proof_parse(text, len, &p);
	free(text);
	if (e == -ENOMEM) {
		cli_error("out of memory");
		return CLI_EXIT_FAILED;
	}
	if (e < 0) {
		printf("invalid: not a well-formed vaultfs proof file (docs/format.md §12)\n");
		return CLI_EXIT_TAMPERED;
	}
	e = proof_verify(&p, &v, &cp, &why);
	if (e == -ENOMEM) {
		proof_clear(&p);
		cli_error("out of memory");
		return CLI_EXIT_FAILED;
	}
	if (e < 0) {
		printf("invalid: %s\n", why);
		proof_clear(&p);
		return CLI_EXIT_TAMPERED;
	}
	if (proof_record_decode(p.record, p.record_len, &rec) == 0) {
		print_record(&rec);
		meta_record_clear(&rec);
	}
	cmd_root_text(cp.root, root);
	printf("leaf %llu of %llu, checkpoint %s root %s\n", (unsigned long long)p.index,
	       (unsigned long long)p.size, cp.origin, root);
	printf("valid: the record is in the access record of %s as its checkpoint of %llu "
	       "records signs it\n",
	       cp.origin, (unsigned long long)p.size);
	kt_checkpoint_clear(&cp);
	proof_clear(&p);
	return CLI_EXIT_OK;
}
