/*
 * keytool/recovery.c — recovery by quorum (recovery.h): the recovery key
 * pair, its secret split M-of-N with libgfshare into officers' share files,
 * and their recombination into an administrator's keyring; resetting a
 * user's passphrase from custody.
 *
 * libgfshare draws the random coefficients of its polynomials from the
 * function pointer gfshare_fill_rand, NULL until set: it is set here to
 * libsodium's randombytes_buf before every use (never random(3)). libgfshare
 * overwrites its buffers with random bytes when a context is freed; our
 * copies of the secret and the shares live in secure memory (kt_secure_alloc).
 *
 * Locking: gfshare_fill_rand is a process-wide variable; setup and unlock
 * are not for concurrent use from several threads.
 */
#include "keytool/recovery.h"
#include "keytool/signing.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libgfshare.h>
#include <sodium.h>

#include "keytool/internal.h"
#include "meta/grants.h"
#include "meta/recovery.h"
#include "meta/roles.h"
#include "meta/users.h"
#include "meta/records.h"

_Static_assert(KT_RECOVERY_SHARES_MAX == META_RECOVERY_SHARES_MAX, "officers per setup");
_Static_assert(sizeof(((struct kt_recovery_info *)0)->officers) >= META_RECOVERY_OFFICERS_MAX + 1,
	       "officers text");

/* Share file layout (docs/format.md §9). */
#define SH_MAGIC	  "VFSSHARE"
#define SH_VERSION	  1
#define SH_OFF_MAGIC	  0
#define SH_OFF_VERSION	  8
#define SH_OFF_THRESHOLD  9
#define SH_OFF_SHARES	  10
#define SH_OFF_NUMBER	  11
#define SH_OFF_SETUP	  12
#define SH_OFF_VAULT	  16
#define SH_OFF_FP	  32
#define SH_OFF_SHARE	  40
#define SH_OFF_OFFICER	  72
#define SH_OFFICER_BYTES  64
#define SH_OFF_CHECKSUM	  136
#define SH_CHECKSUM_BYTES 32
#define VAULT_ID_BYTES	  16

_Static_assert(SH_OFF_VAULT + VAULT_ID_BYTES == SH_OFF_FP, "§9 layout");
_Static_assert(SH_OFF_FP + KT_FINGERPRINT_BYTES == SH_OFF_SHARE, "§9 layout");
_Static_assert(SH_OFF_SHARE + KT_KEY_BYTES == SH_OFF_OFFICER, "§9 layout");
_Static_assert(SH_OFF_OFFICER + SH_OFFICER_BYTES == SH_OFF_CHECKSUM, "§9 layout");
_Static_assert(SH_OFF_CHECKSUM + SH_CHECKSUM_BYTES == KT_SHARE_BYTES, "§9 size");
_Static_assert(SH_OFFICER_BYTES == META_NAME_MAX, "an officer's name fits");

static void fill_rand(unsigned char *buf, unsigned int len)
{
	randombytes_buf(buf, len);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

char **kt_strv_free(char **v, size_t n)
{
	if (v)
		for (size_t i = 0; i < n; i++)
			free(v[i]);
	free(v);
	return NULL;
}

static int vault_id(struct meta_db *db, uint8_t ret[VAULT_ID_BYTES])
{
	size_t n = VAULT_ID_BYTES;
	int r = meta_config_get_blob(db, "vault_id", ret, &n);

	if (r == -ENOBUFS || (r == 0 && n != VAULT_ID_BYTES))
		return -EIO;
	return r;
}

/* ---- setup ------------------------------------------------------------ */

/* Make one share file's bytes. */
static void share_build(uint8_t out[KT_SHARE_BYTES], const struct meta_recovery *rec,
			uint8_t number, const uint8_t vid[VAULT_ID_BYTES],
			const uint8_t share[KT_KEY_BYTES], const char *officer)
{
	memset(out, 0, KT_SHARE_BYTES);
	memcpy(out + SH_OFF_MAGIC, SH_MAGIC, 8);
	out[SH_OFF_VERSION] = SH_VERSION;
	out[SH_OFF_THRESHOLD] = (uint8_t)rec->threshold;
	out[SH_OFF_SHARES] = (uint8_t)rec->shares;
	out[SH_OFF_NUMBER] = number;
	put_le32(out + SH_OFF_SETUP, (uint32_t)rec->id);
	memcpy(out + SH_OFF_VAULT, vid, VAULT_ID_BYTES);
	kt_fingerprint(rec->public_key, out + SH_OFF_FP);
	memcpy(out + SH_OFF_SHARE, share, KT_KEY_BYTES);
	memcpy(out + SH_OFF_OFFICER, officer, strnlen(officer, SH_OFFICER_BYTES));
	crypto_generichash(out + SH_OFF_CHECKSUM, SH_CHECKSUM_BYTES, out, SH_OFF_CHECKSUM, NULL, 0);
}

/* Write a secret file: new (O_EXCL), not through a symlink, 0600, synced. */
static int write_secret_file(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	size_t off = 0;
	int r = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t k = write(fd, buf + off, len - off);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		off += (size_t)k;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		unlink(path);
	return r;
}

static int setup_options_valid(const struct kt_recovery_setup_options *o)
{
	struct stat st;

	if (!o || !o->officers || !o->out_dir || o->threshold < 2 || o->threshold > o->shares ||
	    o->shares > KT_RECOVERY_SHARES_MAX)
		return -EINVAL;
	for (unsigned int i = 0; i < o->shares; i++) {
		if (!kt_name_valid(o->officers[i]))
			return -EINVAL;
		for (unsigned int j = 0; j < i; j++)
			if (strcmp(o->officers[i], o->officers[j]) == 0)
				return -EINVAL;
	}
	if (stat(o->out_dir, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int kt_recovery_setup(struct meta_db *db, struct kt_keyring *admin,
		      const struct kt_recovery_setup_options *o, char ***ret_paths)
{
	char detail[META_DETAIL_MAX + 1], vhex[2 * VAULT_ID_BYTES + 1],
	    fp[2 * KT_FINGERPRINT_BYTES + 1];
	unsigned char sharenrs[KT_RECOVERY_SHARES_MAX];
	struct meta_recovery rec;
	uint8_t vid[VAULT_ID_BYTES];
	uint8_t *sec = NULL; /* recovery secret 32 || shares N×32 || one share file */
	char **paths = NULL;
	gfshare_ctx *ctx = NULL;
	size_t written = 0, o_len = 0;
	int r;

	if (!db || !admin || !ret_paths)
		return -EINVAL;
	snprintf(detail, sizeof(detail), "threshold=%u shares=%u", o ? o->threshold : 0,
		 o ? o->shares : 0);
	if (!admin->admin)
		return kt_deny(db, admin, "recovery-setup", detail);
	r = setup_options_valid(o);
	if (r < 0)
		return r;
	r = vault_id(db, vid);
	if (r < 0)
		return r;
	sodium_bin2hex(vhex, sizeof(vhex), vid, sizeof(vid));
	vhex[8] = '\0'; /* the first 4 bytes name the vault in file names */
	paths = calloc(o->shares, sizeof(*paths));
	sec = kt_secure_alloc(KT_KEY_BYTES * (1 + o->shares) + KT_SHARE_BYTES);
	if (!paths || !sec) {
		r = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < o->shares; i++) {
		if (asprintf(&paths[i], "%s/vaultfs-%s-%s" KT_SHARE_SUFFIX, o->out_dir, vhex,
			     o->officers[i]) < 0) {
			paths[i] = NULL;
			r = -ENOMEM;
			goto out;
		}
		if (access(paths[i], F_OK) == 0) {
			r = -EEXIST;
			goto out;
		}
	}

	memset(&rec, 0, sizeof(rec));
	rec.threshold = o->threshold;
	rec.shares = o->shares;
	for (unsigned int i = 0; i < o->shares; i++)
		o_len += (size_t)snprintf(rec.officers + o_len, sizeof(rec.officers) - o_len,
					  "%s%s", i ? "," : "", o->officers[i]);
	snprintf(rec.created_by, sizeof(rec.created_by), "%s", admin->user.name);

	/* the recovery key pair, its secret split among the officers */
	kt_keypair(rec.public_key, sec);
	gfshare_fill_rand = fill_rand;
	for (unsigned int i = 0; i < o->shares; i++)
		sharenrs[i] = (unsigned char)(i + 1);
	ctx = gfshare_ctx_init_enc(sharenrs, o->shares, (unsigned char)o->threshold, KT_KEY_BYTES);
	if (!ctx) {
		r = -ENOMEM;
		goto out;
	}
	gfshare_ctx_enc_setsecret(ctx, sec);
	for (unsigned int i = 0; i < o->shares; i++)
		gfshare_ctx_enc_getshare(ctx, (unsigned char)i, sec + KT_KEY_BYTES * (1 + i));
	gfshare_ctx_free(ctx);
	ctx = NULL;

	r = kt_admin_begin(db, admin, "recovery-setup", detail);
	if (r < 0)
		goto out;
	rec.admin_role_version = admin->admin_role_version;
	if (admin->admin_role_id > (int64_t)KT_SEAL_FIELD_MAX ||
	    admin->admin_role_version > KT_SEAL_FIELD_MAX)
		r = -EOVERFLOW;
	if (r == 0)
		r = kt_seal(KT_SEAL_ROLE, (uint16_t)admin->admin_role_id,
			    (uint16_t)admin->admin_role_version, admin->admin_sk, rec.public_key,
			    rec.admin_sealed);
	sodium_memzero(sec, KT_KEY_BYTES); /* the secret itself is no longer needed */
	if (r == 0)
		r = meta_recovery_set(db, &rec);
	if (r == 0 && (rec.id <= 0 || rec.id > (int64_t)UINT32_MAX))
		r = -EOVERFLOW;
	for (unsigned int i = 0; r == 0 && i < o->shares; i++) {
		uint8_t *file = sec + KT_KEY_BYTES * (1 + o->shares);

		share_build(file, &rec, (uint8_t)(i + 1), vid, sec + KT_KEY_BYTES * (1 + i),
			    o->officers[i]);
		r = write_secret_file(paths[i], file, KT_SHARE_BYTES);
		sodium_memzero(file, KT_SHARE_BYTES);
		if (r == 0)
			written++;
	}
	kt_fingerprint_hex(rec.public_key, fp);
	/* officers last: a long list is cut, the rest of the line stays */
	if (snprintf(detail, sizeof(detail),
		     "setup=%lld threshold=%u shares=%u key=%s admin-version=%u officers=%.*s",
		     (long long)rec.id, rec.threshold, rec.shares, fp, rec.admin_role_version,
		     META_DETAIL_MAX, rec.officers) >= (int)sizeof(detail))
		memcpy(detail + sizeof(detail) - 4, "...", 4);
	r = kt_admin_end(db, admin, "recovery-setup", detail, r);
out:
	if (ctx)
		gfshare_ctx_free(ctx);
	if (r < 0 && paths)
		for (size_t i = 0; i < written; i++)
			unlink(paths[i]);
	kt_secure_free(sec);
	if (r < 0) {
		kt_strv_free(paths, o ? o->shares : 0);
		return r;
	}
	*ret_paths = paths;
	return 0;
}

/* ---- recovering ------------------------------------------------------- */

/* A share file read and checked. */
struct share {
	uint8_t number;
	uint8_t value[KT_KEY_BYTES];
	char officer[SH_OFFICER_BYTES + 1];
};

/* Read path into buf: exactly KT_SHARE_BYTES of a regular file. */
static int read_share_file(const char *path, uint8_t buf[KT_SHARE_BYTES])
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	size_t off = 0;
	int r = 0;

	if (fd < 0)
		return errno == ELOOP ? -EBADMSG : -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_size != KT_SHARE_BYTES)
		r = -EBADMSG;
	while (r == 0 && off < KT_SHARE_BYTES) {
		ssize_t k = read(fd, buf + off, KT_SHARE_BYTES - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			r = k < 0 ? -errno : -EBADMSG;
			break;
		}
		off += (size_t)k;
	}
	close(fd);
	return r;
}

/* Check a share file against this vault's setup. */
static int share_parse(const uint8_t buf[KT_SHARE_BYTES], const struct meta_recovery *rec,
		       const uint8_t vid[VAULT_ID_BYTES], struct share *ret)
{
	uint8_t sum[SH_CHECKSUM_BYTES], fp[KT_FINGERPRINT_BYTES];
	const uint8_t *name = buf + SH_OFF_OFFICER;
	size_t name_len = strnlen((const char *)name, SH_OFFICER_BYTES);

	if (memcmp(buf + SH_OFF_MAGIC, SH_MAGIC, 8) != 0 || buf[SH_OFF_VERSION] != SH_VERSION)
		return -EBADMSG;
	crypto_generichash(sum, sizeof(sum), buf, SH_OFF_CHECKSUM, NULL, 0);
	if (sodium_memcmp(sum, buf + SH_OFF_CHECKSUM, sizeof(sum)) != 0)
		return -EBADMSG;
	for (size_t i = name_len; i < SH_OFFICER_BYTES; i++)
		if (name[i] != 0)
			return -EBADMSG;
	if (sodium_memcmp(buf + SH_OFF_VAULT, vid, VAULT_ID_BYTES) != 0)
		return -EXDEV;
	kt_fingerprint(rec->public_key, fp);
	if (get_le32(buf + SH_OFF_SETUP) != (uint64_t)rec->id ||
	    sodium_memcmp(buf + SH_OFF_FP, fp, sizeof(fp)) != 0 ||
	    buf[SH_OFF_THRESHOLD] != rec->threshold || buf[SH_OFF_SHARES] != rec->shares)
		return -ESTALE;
	if (buf[SH_OFF_NUMBER] < 1 || buf[SH_OFF_NUMBER] > rec->shares)
		return -EBADMSG;
	ret->number = buf[SH_OFF_NUMBER];
	memcpy(ret->value, buf + SH_OFF_SHARE, KT_KEY_BYTES);
	memcpy(ret->officer, name, name_len);
	ret->officer[name_len] = '\0';
	if (!kt_name_valid(ret->officer))
		return -EBADMSG;
	return 0;
}

/* The admin role's secret from the recovery secret: into sk (checked
 * against the admin role's public key of that version). */
static int open_admin_secret(struct meta_db *db, const struct meta_recovery *rec,
			     const uint8_t *rsk, const struct meta_role *admin_role,
			     struct meta_role_key *ret_rk, uint8_t *sk)
{
	uint8_t pk_check[KT_KEY_BYTES];
	int r;

	if (rec->admin_role_version != admin_role->key_version)
		return -ESTALE;
	if (admin_role->id > (int64_t)KT_SEAL_FIELD_MAX ||
	    admin_role->key_version > KT_SEAL_FIELD_MAX)
		return -EOVERFLOW;
	r = meta_role_key_get(db, admin_role->id, admin_role->key_version, ret_rk);
	if (r < 0)
		return r == -ENOENT ? -EIO : r;
	r = kt_unseal(KT_SEAL_ROLE, (uint16_t)admin_role->id, (uint16_t)admin_role->key_version,
		      rec->admin_sealed, rec->public_key, rsk, sk);
	if (r < 0)
		return -EBADMSG;
	crypto_scalarmult_base(pk_check, sk);
	if (sodium_memcmp(pk_check, ret_rk->public_key, KT_KEY_BYTES) != 0) {
		sodium_memzero(sk, KT_KEY_BYTES);
		return -EBADMSG;
	}
	return 0;
}

/* Combine the shares, check, and open the admin secret into a keyring. */
static int recover_keyring(struct meta_db *db, const struct meta_recovery *rec,
			   const struct share *shares, size_t n, struct kt_keyring **ret)
{
	unsigned char sharenrs[KT_RECOVERY_SHARES_MAX];
	struct meta_role admin_role;
	struct meta_role_key rk;
	struct kt_keyring *kr = NULL;
	uint8_t pk_check[KT_KEY_BYTES];
	uint8_t *rsk = NULL, *admin_sk = NULL;
	gfshare_ctx *ctx = NULL;
	int r;

	rsk = kt_secure_alloc(KT_KEY_BYTES);
	admin_sk = kt_secure_alloc(KT_KEY_BYTES);
	kr = calloc(1, sizeof(*kr));
	if (!rsk || !admin_sk || !kr) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		sharenrs[i] = shares[i].number;
	gfshare_fill_rand = fill_rand; /* gfshare_ctx_free scrubs with it */
	ctx = gfshare_ctx_init_dec(sharenrs, (unsigned int)n, KT_KEY_BYTES);
	if (!ctx) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		gfshare_ctx_dec_giveshare(ctx, (unsigned char)i, (unsigned char *)shares[i].value);
	gfshare_ctx_dec_extract(ctx, rsk);
	gfshare_ctx_free(ctx);
	ctx = NULL;
	crypto_scalarmult_base(pk_check, rsk);
	if (sodium_memcmp(pk_check, rec->public_key, KT_KEY_BYTES) != 0) {
		r = -EACCES; /* not the recovery key: a forged or foreign share */
		goto out;
	}
	r = meta_role_get_by_flag(db, META_ROLE_ADMIN, &admin_role);
	if (r == 0)
		r = open_admin_secret(db, rec, rsk, &admin_role, &rk, admin_sk);
	sodium_memzero(rsk, KT_KEY_BYTES);
	if (r < 0)
		goto out;
	snprintf(kr->user.name, sizeof(kr->user.name), "%s", KT_RECOVERY_NAME);
	kr->user.uid = -1;
	r = kt_keyring_load_admin(db, kr, &admin_role, admin_role.key_version, rk.public_key,
				  admin_sk);
	admin_sk = NULL; /* the keyring's now */
	if (r < 0)
		goto out;
	*ret = kr;
	kr = NULL;
out:
	if (ctx)
		gfshare_ctx_free(ctx);
	kt_secure_free(rsk);
	kt_secure_free(admin_sk);
	kt_keyring_free(kr);
	return r;
}

int kt_recovery_unlock(struct meta_db *db, const char *const *paths, size_t n,
		       struct kt_recovery_error *err, struct kt_keyring **ret_keyring)
{
	char detail[META_DETAIL_MAX + 1], officers[META_DETAIL_MAX + 1] = "";
	struct kt_recovery_error e = {.share = -1};
	struct meta_recovery rec;
	struct share *shares = NULL;
	uint8_t vid[VAULT_ID_BYTES];
	uint8_t *buf = NULL;
	size_t have = 0, o_len = 0;
	int r;

	if (!db || (!paths && n) || !ret_keyring)
		return -EINVAL;
	r = meta_recovery_get(db, &rec);
	if (r == 0)
		r = vault_id(db, vid);
	if (r < 0) {
		(void)kt_record(db, KT_RECOVERY_NAME, "recover",
				r == -ENOENT ? "no recovery set up" : "cannot read the setup", r);
		goto out;
	}
	e.need = rec.threshold;
	shares = kt_secure_allocarray(n ? n : 1, sizeof(*shares));
	buf = kt_secure_alloc(KT_SHARE_BYTES);
	if (!shares || !buf) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		r = read_share_file(paths[i], buf);
		if (r == 0)
			r = share_parse(buf, &rec, vid, &shares[have]);
		sodium_memzero(buf, KT_SHARE_BYTES);
		for (size_t j = 0; r == 0 && j < have; j++)
			if (shares[j].number == shares[have].number)
				r = -EEXIST;
		if (r < 0) {
			e.share = (int)i;
			break;
		}
		o_len += (size_t)snprintf(officers + o_len, sizeof(officers) - o_len, "%s%s",
					  have ? "," : "", shares[have].officer);
		if (o_len >= sizeof(officers))
			o_len = sizeof(officers) - 1;
		have++;
	}
	e.have = (unsigned int)have;
	if (r == 0 && have < rec.threshold)
		r = -ENOKEY;
	if (r == 0)
		r = recover_keyring(db, &rec, shares, have, ret_keyring);

	if (r == 0)
		snprintf(detail, sizeof(detail), "setup=%lld officers=%s: administration restored",
			 (long long)rec.id, officers);
	else if (e.share >= 0)
		snprintf(detail, sizeof(detail), "setup=%lld share %d of %zu refused (officers %s)",
			 (long long)rec.id, e.share + 1, n, officers[0] ? officers : "-");
	else
		snprintf(detail, sizeof(detail), "setup=%lld %u of %u shares given (officers %s)",
			 (long long)rec.id, e.have, e.need, officers[0] ? officers : "-");
	(void)kt_record(db, KT_RECOVERY_NAME, "recover", detail, r);
out:
	kt_secure_free(shares);
	kt_secure_free(buf);
	if (err)
		*err = e;
	return r;
}

/* ---- reset a passphrase ----------------------------------------------- */

int kt_user_reset(struct meta_db *db, struct kt_keyring *admin, const char *user,
		  const char *passphrase, size_t pass_len)
{
	char detail[META_DETAIL_MAX + 1], when[40];
	struct meta_grant *grants = NULL;
	enum kt_kdf_profile profile;
	struct meta_user u, nu;
	int64_t now = meta_now_ns();
	size_t n = 0, regranted = 0;
	uint8_t admin_pk[KT_SIGN_PK_BYTES];
	bool bind = false;
	uint8_t *sk = NULL;
	int r;

	if (!db || !admin || !user || !passphrase)
		return -EINVAL;
	snprintf(detail, sizeof(detail), "user=%s", user);
	if (!admin->admin)
		return kt_deny(db, admin, "passwd-reset", detail);
	if (pass_len == 0)
		return -EINVAL;
	r = meta_user_get_by_name(db, user, &u);
	if (r < 0)
		return r;
	sk = kt_secure_alloc(KT_KEY_BYTES);
	if (!sk)
		return -ENOMEM;
	/* the slow KDF before the transaction */
	nu = u;
	kt_keypair(nu.public_key, sk);
	r = kt_vault_kdf_profile(db, &profile);
	if (r == 0)
		r = kt_rows_signed(db, &bind);
	if (r == 0 && bind)
		bind = kt_keyring_admin_pk(admin, admin_pk) == 0;
	if (r == 0)
		r = kt_user_secret_seal(passphrase, pass_len, profile, nu.public_key, sk,
					bind ? admin_pk : NULL, nu.secret_sealed);
	sodium_memzero(sk, KT_KEY_BYTES);
	if (r < 0)
		goto out;

	r = kt_admin_begin(db, admin, "passwd-reset", detail);
	if (r < 0)
		goto out;
	r = meta_user_get_by_id(db, u.id, &u);
	if (r == 0 && u.disabled)
		r = -EPERM;
	if (r == 0)
		r = meta_user_set_keys(db, u.id, nu.public_key, nu.secret_sealed);
	if (r == 0)
		r = meta_grant_list_user(db, u.id, &grants, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct meta_grant *g = &grants[i];
		struct meta_role role;
		struct meta_grant ng;

		if (i + 1 < n && grants[i + 1].role_id == g->role_id)
			continue; /* an older version of the same role's grant */
		r = meta_grant_remove(db, u.id, g->role_id);
		if (r < 0)
			break;
		if (g->expires_ns && g->expires_ns <= now) {
			kt_format_utc(g->expires_ns, when, sizeof(when));
			snprintf(detail, sizeof(detail), "user=%s role=%s expired=%s", user,
				 g->role_name, when);
			r = kt_record(db, admin->user.name, "grant-expire", detail,
				      META_OUTCOME_OK);
			continue;
		}
		r = meta_role_get_by_id(db, g->role_id, &role);
		if (r == 0)
			r = kt_role_secret(db, admin, &role, sk);
		if (r < 0)
			break;
		ng = *g; /* granted by whom and when, and the expiry, stay */
		ng.role_version = role.key_version;
		r = kt_seal(KT_SEAL_ROLE, (uint16_t)role.id, (uint16_t)role.key_version, sk,
			    nu.public_key, ng.sealed);
		sodium_memzero(sk, KT_KEY_BYTES);
		if (r == 0)
			r = meta_grant_add(db, &ng);
		regranted++;
	}
	if (r == 0)
		r = kt_epoch_bump(db, NULL);
	snprintf(detail, sizeof(detail), "user=%s roles=%zu", user, regranted);
	r = kt_admin_end(db, admin, "passwd-reset", detail, r);
out:
	kt_secure_free(sk);
	free(grants);
	return r;
}

int kt_recovery_info(struct meta_db *db, struct kt_recovery_info *ret)
{
	struct meta_recovery rec;
	int r;

	if (!db || !ret)
		return -EINVAL;
	r = meta_recovery_get(db, &rec);
	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	ret->threshold = rec.threshold;
	ret->shares = rec.shares;
	snprintf(ret->officers, sizeof(ret->officers), "%s", rec.officers);
	ret->admin_role_version = rec.admin_role_version;
	kt_fingerprint(rec.public_key, ret->fingerprint);
	ret->created_ns = rec.created_ns;
	snprintf(ret->created_by, sizeof(ret->created_by), "%s", rec.created_by);
	return 0;
}
