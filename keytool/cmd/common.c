/*
 * keytool/cmd/common.c — what the verbs of vaultfs-keytool share: the error
 * line of an administration, name and uid arguments, new passphrases, and
 * the JSON and column output of the listings.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keytool/cmd/cmd.h"

#include "keytool/anchor.h"
#include "keytool/journal.h"
#include "keytool/signing.h"
#include "meta/roles.h"

int admin_error(const char *admin, const char *what, int r)
{
	switch (r) {
	case 0:
		return CLI_EXIT_OK;
	case -EACCES:
		cli_error("'%s' is not an administrator (needs the admin role)", admin);
		return CLI_EXIT_DENIED;
	case -ENOKEY:
		cli_error(
		    "cannot %s: a key it needs is not reachable from '%s' (was the admin role "
		    "key rotated? run the command again)",
		    what, admin);
		return CLI_EXIT_FAILED;
	case -EBADMSG:
		cli_error(
		    "cannot %s: a sealed key in the vault does not open (the vault database may "
		    "have been tampered with; the incident is recorded)",
		    what);
		return CLI_EXIT_FAILED;
	case -EBUSY:
		cli_error("cannot %s: the vault is busy (another command holds it); try again",
			  what);
		return CLI_EXIT_FAILED;
	default:
		cli_error("cannot %s: %s", what, strerror(-r));
		return CLI_EXIT_FAILED;
	}
}

bool valid_name_or_complain(const struct cli_context *ctx, const char *kind, const char *name,
			    int *ret_exit)
{
	if (kt_name_valid(name))
		return true;
	*ret_exit = cli_usage_error(ctx,
				    "invalid %s name '%s' (1-64 of a-z 0-9 _ . -, starting with a "
				    "letter or _)",
				    kind, name);
	return false;
}

/* Read a new passphrase for user (from file or twice from the terminal). */
char *new_passphrase(const char *file, const char *user)
{
	char prompt[128];

	snprintf(prompt, sizeof(prompt), "New passphrase for '%s': ", user);
	return cli_passphrase_read(file, prompt, true);
}

bool parse_uid(const char *text, int64_t *ret_uid)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text || *end || v < 0 || v > 4294967294LL)
		return false;
	*ret_uid = v;
	return true;
}

/* Both names exist; else print which one does not. */
int check_user_role(struct meta_db *db, const char *user, const char *role_name,
		    struct meta_user *ret_user, struct meta_role *ret_role)
{
	int r = meta_user_get_by_name(db, user, ret_user);

	if (r == -ENOENT) {
		cli_error("unknown user '%s' (" HINT_LIST_USERS ")", user);
		return CLI_EXIT_FAILED;
	}
	if (r == 0)
		r = meta_role_get_by_name(db, role_name, ret_role);
	if (r == -ENOENT) {
		cli_error("unknown role '%s' (" HINT_LIST_ROLES ")", role_name);
		return CLI_EXIT_FAILED;
	}
	if (r < 0) {
		cli_error("cannot read the vault: %s", strerror(-r));
		return CLI_EXIT_FAILED;
	}
	return CLI_EXIT_OK;
}
/* Print s left-aligned in width columns (counting UTF-8 characters, not
 * bytes), then a space. */
void print_cell(const char *s, int width)
{
	int chars = 0;

	for (const char *p = s; *p; p++)
		if (((unsigned char)*p & 0xc0) != 0x80)
			chars++;
	fputs(s, stdout);
	for (; chars < width; chars++)
		putchar(' ');
	putchar(' ');
}

json_t *json_time(int64_t ns)
{
	char buf[40];

	return json_string(cli_time_iso(ns, buf, sizeof(buf)));
}

/* Print root (and drop it); 0 or -EIO. */
int json_print(json_t *root)
{
	int r = root ? json_dumpf(root, stdout, JSON_INDENT(2)) : -1;

	json_decref(root);
	if (r == 0)
		putchar('\n');
	return r == 0 ? 0 : -EIO;
}

void anchor_after_key_operation(struct cli_context *ctx)
{
	struct kt_note_verifier v;
	char *note = NULL;
	uint64_t size;
	int r;

	/* a vault from before signing keys gets them from its administrator */
	if (kt_keyring_flags(ctx->keyring) & META_ROLE_ADMIN) {
		r = kt_sign_keys_ensure(ctx->db, ctx->keyring);
		if (r == -EBADMSG)
			cli_error("warning: vault.db says its rows were never signed, but your "
				  "secret binds the administration key: vault.db was edited "
				  "outside vaultfs, and its rows are not signed now");
		else if (r < 0 && r != -EACCES)
			cli_error("warning: cannot give the vault its signing keys or sign its "
				  "rows: %s",
				  strerror(-r));
	}
	r = kt_log_checkpoint(ctx->db, ctx->keyring, &note, &size);
	if (r == -ENOKEY || r == -EACCES)
		return; /* no checkpoint key held (yet): nothing to sign with */
	if (r < 0) {
		cli_error("warning: no checkpoint of the access record made: %s", strerror(-r));
		return;
	}
	/* the system journal: a copy anyone can read, that vault.db's writer
	 * cannot unsay; never over a newer one this record does not extend
	 * (an administration after a rollback must not bless it) */
	if (kt_log_verifier(ctx->db, &v) == 0) {
		struct kt_checkpoint held = {0};

		r = kt_journal_newest_signed(&v, NULL, NULL, &held);
		r = r == 0 ? kt_log_extends(ctx->db, &held) : 0;
		kt_checkpoint_clear(&held);
		if (r == -ESTALE || r == -EBADMSG)
			cli_error(
			    "warning: the system journal holds a checkpoint of this vault that "
			    "its access record does not extend (rolled back or rewritten?): "
			    "the new checkpoint is not sent; if a backup was restored on "
			    "purpose, see 'vaultfs-keytool restore-accept'");
		else if (r == 0)
			r = kt_journal_send_checkpoint(v.name, note, strlen(note));
		if (r < 0 && r != -ENOTCONN && r != -ESTALE && r != -EBADMSG)
			cli_error("warning: cannot send the checkpoint to the system journal: %s",
				  strerror(-r));
	}
	if (ctx->witness) {
		r = kt_log_verifier(ctx->db, &v);
		if (r == 0)
			r = kt_log_witness(ctx->db, ctx->witness, &v, note);
		if (r == -ESTALE || r == -EBADMSG)
			cli_error("warning: the witness %s refused the checkpoint of %llu records: "
				  "it holds one this vault's access record does not extend (rolled "
				  "back or rewritten?)",
				  ctx->witness, (unsigned long long)size);
		else if (r < 0)
			cli_error("warning: cannot offer the checkpoint to the witness %s: %s",
				  ctx->witness, strerror(-r));
	}
	free(note);
}
