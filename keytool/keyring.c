/*
 * keytool/keystore.c — the key hierarchy over vault.db: vault creation,
 * users, roles, grants, passphrase change, unlocking and refreshing keyrings,
 * and the administration checks rotation.c and recovery.c share (revocation
 * itself, with its rotation, is rotation.c's).
 *
 * Each role has an X25519 key pair per version (role_keys). A role secret is
 * sealed to each member (grants) and, for every role but the admin role, to
 * the admin role's public key (role_keys.custody_sealed). Level keys and
 * metadata keys are sealed (key_seals) to every role holding them: level L to
 * the roles whose `levels` has bit L, the metadata key to every role, and all
 * of them to the admin role, which holds them in custody so an administrator
 * can seal them to new roles without anyone's passphrase.
 *
 * Unlocking opens the user secret with the passphrase, each unexpired grant's
 * role secret, and every key sealed to those role versions. A key is kept
 * only if its seal opens with exactly the expected (kind, id, version) and
 * its fingerprint matches the level_keys/meta_keys row; anything else is an
 * integrity incident: recorded, that key (or role) refused, the rest kept.
 * Custody is not clearance: the admin role's level keys are usable only for
 * sealing (kt_keyring_custody_key), never returned by kt_keyring_level_key.
 *
 * A keyring keeps the user's secret key (secure memory) so it can be
 * refreshed without the passphrase when the vault's key epoch moves (a grant,
 * a revocation, new or destroyed key versions); administration functions
 * refresh an administrator's stale keyring themselves before acting.
 *
 * Every change commits with its access record in one transaction; a refused
 * administration (not an administrator) writes only its denial record.
 * Argon2id runs before the transaction so the write lock is held briefly.
 */
#include "keytool/keystore.h"
#include "keytool/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "meta/log.h"

_Static_assert(META_PUBKEY_BYTES == KT_KEY_BYTES, "public keys");
_Static_assert(META_SEALED_BYTES == KT_SEALED_BYTES, "sealed keys (§4)");
_Static_assert(META_USER_SECRET_BYTES == KT_USER_SECRET_BYTES, "user secrets (§3)");
_Static_assert(META_FINGERPRINT_BYTES == KT_FINGERPRINT_BYTES, "fingerprints (§8)");
_Static_assert(META_KEY_LEVEL == KT_SEAL_LEVEL && META_KEY_METADATA == KT_SEAL_METADATA,
	       "key_seals.kind is the §4 kind");
_Static_assert(META_LEVELS == 4, "levels 0..3");

#define ALL_LEVELS     KT_ALL_LEVELS
#define SEAL_FIELD_MAX KT_SEAL_FIELD_MAX
#define ROLE_FLAGS_SETTABLE                                                                        \
	(META_ROLE_READ_ONLY | META_ROLE_DECLASSIFY | META_ROLE_AUDITOR | META_ROLE_EXPIRING)
#define LEVEL_NAME_MAX	64 /* bytes of UTF-8 */
#define KDF_PROFILE_KEY "kdf_profile"

const char *const kt_default_level_names[META_LEVELS] = {
    "Öppen",
    "Intern",
    "Känslig",
    "Mycket känslig",
};

/* Names accepted for levels whatever the vault calls them (DESIGN.md §3). */
static const char *const level_english_names[META_LEVELS][2] = {
    {"public", NULL},
    {"internal", NULL},
    {"sensitive", NULL},
    {"highly-sensitive", "highly sensitive"},
};
static const char *const level_refused_names[] = {
    "säkerhetsskydd",
    "(säkerhetsskydd)",
    "security",
    "security-classified",
};

/* The roles of a new vault (DESIGN.md §3); the admin role comes first. */
static const struct default_role {
	const char *name;
	uint32_t levels;
	uint32_t flags;
} default_roles[] = {
    {"admin", 0, META_ROLE_ADMIN},
    {"owner", ALL_LEVELS, META_ROLE_DECLASSIFY},
    {"member", 0x03, 0},
    {"auditor", 0, META_ROLE_AUDITOR},
    {"external", 0x01, META_ROLE_EXPIRING},
};
#define N_DEFAULT_ROLES (sizeof(default_roles) / sizeof(default_roles[0]))

/* ---- names and text -------------------------------------------------- */

bool kt_name_valid(const char *name)
{
	size_t n;

	if (!name || !((name[0] >= 'a' && name[0] <= 'z') || name[0] == '_'))
		return false;
	for (n = 1; name[n]; n++) {
		char c = name[n];

		if (n >= META_NAME_MAX)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return false;
	}
	return true;
}

/* Length of the valid UTF-8 sequence at s (no overlongs, surrogates or
 * code points above U+10FFFF), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/* Copy text into an access record field: invalid UTF-8 and control
 * characters become '?', and the copy is cut at a character boundary. */
static void copy_printable(char *dst, size_t size, const char *src)
{
	const unsigned char *s = (const unsigned char *)(src ? src : "");
	size_t o = 0;

	while (*s && o + 1 < size) {
		size_t n = utf8_seq_len(s);

		if (n == 0 || (n == 1 && (*s < 0x20 || *s == 0x7f))) {
			dst[o++] = '?';
			s++;
			continue;
		}
		if (o + n >= size)
			break;
		memcpy(dst + o, s, n);
		o += n;
		s += n;
	}
	dst[o] = '\0';
}

/*
 * Case-fold a level name for comparison: ASCII letters and the Latin-1
 * letters À..Þ (Å, Ä, Ö, É, ...) to lower case; everything else as is.
 * -ENAMETOOLONG if it does not fit.
 */
static int fold_name(const char *in, char *out, size_t size)
{
	size_t i;

	for (i = 0; in[i]; i++) {
		unsigned char c = (unsigned char)in[i];

		if (i + 1 >= size)
			return -ENAMETOOLONG;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		else if (i > 0 && (unsigned char)in[i - 1] == 0xc3 && c >= 0x80 && c <= 0x9e &&
			 c != 0x97)
			c = (unsigned char)(c + 0x20);
		out[i] = (char)c;
	}
	out[i] = '\0';
	return 0;
}

static bool name_eq_folded(const char *folded, const char *name)
{
	char buf[LEVEL_NAME_MAX * 2 + 1];

	return name && fold_name(name, buf, sizeof(buf)) == 0 && strcmp(folded, buf) == 0;
}

/* A configurable level name: 1..64 bytes of printable UTF-8, no comma (the
 * CLI's list separator), not a number, not a name of level 4. */
static bool level_name_valid(const char *name)
{
	const unsigned char *s = (const unsigned char *)name;
	char folded[LEVEL_NAME_MAX * 2 + 1];
	bool digits = true;
	size_t len;

	if (!name)
		return false;
	len = strlen(name);
	if (len == 0 || len > LEVEL_NAME_MAX || name[0] == ' ' || name[len - 1] == ' ')
		return false;
	while (*s) {
		size_t n = utf8_seq_len(s);

		if (n == 0 || (n == 1 && (*s < 0x20 || *s == 0x7f || *s == ',')))
			return false;
		if (n != 1 || *s < '0' || *s > '9')
			digits = false;
		s += n;
	}
	if (digits || fold_name(name, folded, sizeof(folded)) < 0)
		return false;
	for (size_t i = 0; i < sizeof(level_refused_names) / sizeof(level_refused_names[0]); i++)
		if (name_eq_folded(folded, level_refused_names[i]))
			return false;
	return true;
}

int kt_level_name(struct meta_db *db, uint8_t level, char *buf, size_t len)
{
	char key[32], val[LEVEL_NAME_MAX + 1];
	size_t n = sizeof(val) - 1;
	const char *name;
	int r;

	if (level >= META_LEVELS || !buf || len == 0)
		return -EINVAL;
	snprintf(key, sizeof(key), "level_name.%u", level);
	r = db ? meta_config_get_blob(db, key, val, &n) : -ENOENT;
	if (r == 0) {
		val[n] = '\0';
		name = val;
	} else if (r == -ENOENT || r == -ENOBUFS) {
		name = kt_default_level_names[level];
	} else {
		return r;
	}
	if (strlen(name) >= len)
		return -ENOBUFS;
	strcpy(buf, name);
	return 0;
}

int kt_level_parse(struct meta_db *db, const char *text, uint8_t *ret_level)
{
	char folded[LEVEL_NAME_MAX * 2 + 1], name[LEVEL_NAME_MAX + 1];
	int r;

	if (!text || !*text)
		return -EINVAL;
	if (text[0] >= '0' && text[0] <= '4' && text[1] == '\0') {
		*ret_level = (uint8_t)(text[0] - '0');
		return 0;
	}
	if (fold_name(text, folded, sizeof(folded)) < 0)
		return -EINVAL;
	/* the vault's own names first, then the defaults and English names */
	for (uint8_t l = 0; l < META_LEVELS; l++) {
		r = kt_level_name(db, l, name, sizeof(name));
		if (r < 0)
			return r;
		if (name_eq_folded(folded, name)) {
			*ret_level = l;
			return 0;
		}
	}
	for (uint8_t l = 0; l < META_LEVELS; l++) {
		if (name_eq_folded(folded, kt_default_level_names[l]) ||
		    name_eq_folded(folded, level_english_names[l][0]) ||
		    name_eq_folded(folded, level_english_names[l][1])) {
			*ret_level = l;
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(level_refused_names) / sizeof(level_refused_names[0]); i++) {
		if (name_eq_folded(folded, level_refused_names[i])) {
			*ret_level = META_LEVEL_REFUSED;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- access records ------------------------------------------------- */

/* This process's name, as the kernel has it. */
static void self_comm(char *buf, size_t size)
{
	FILE *f = fopen("/proc/self/comm", "re");
	char line[64] = "";

	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = '\0';
		fclose(f);
	}
	line[strcspn(line, "\n")] = '\0';
	copy_printable(buf, size, line[0] ? line : program_invocation_short_name);
}

/* The identity this thread's key-operation records carry, when set. */
static _Thread_local struct {
	bool set;
	int64_t uid, pid;
	char comm[META_COMM_MAX + 1];
} actor;

void kt_actor_set(int64_t uid, int64_t pid, const char *comm)
{
	actor.set = true;
	actor.uid = uid;
	actor.pid = pid;
	copy_printable(actor.comm, sizeof(actor.comm), comm ? comm : "?");
}

void kt_actor_clear(void)
{
	actor.set = false;
}

/* Append one key-operation record (inside the caller's transaction, if any). */
int kt_record_file(struct meta_db *db, const char *user, const char *op, uint64_t ino, int level,
		   const char *detail, int outcome)
{
	struct meta_record rec;

	memset(&rec, 0, sizeof(rec));
	copy_printable(rec.user, sizeof(rec.user), user);
	if (actor.set) {
		rec.uid = actor.uid;
		rec.pid = actor.pid;
		snprintf(rec.comm, sizeof(rec.comm), "%s", actor.comm);
	} else {
		rec.uid = (int64_t)getuid();
		rec.pid = (int64_t)getpid();
		self_comm(rec.comm, sizeof(rec.comm));
	}
	snprintf(rec.op, sizeof(rec.op), "%s", op);
	rec.ino = ino;
	rec.level = level;
	rec.outcome = outcome;
	rec.bytes_read = -1;
	rec.bytes_written = -1;
	copy_printable(rec.detail, sizeof(rec.detail), detail);
	return meta_log_append(db, &rec);
}

int kt_record(struct meta_db *db, const char *user, const char *op, const char *detail, int outcome)
{
	return kt_record_file(db, user, op, 0, -1, detail, outcome);
}

void kt_fingerprint_hex(const uint8_t key[KT_KEY_BYTES], char hex[2 * KT_FINGERPRINT_BYTES + 1])
{
	uint8_t fp[KT_FINGERPRINT_BYTES];

	kt_fingerprint(key, fp);
	sodium_bin2hex(hex, 2 * KT_FINGERPRINT_BYTES + 1, fp, sizeof(fp));
}

/* "2026-11-22T10:00:00Z" for a detail line. */
void kt_format_utc(int64_t ns, char *buf, size_t size)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "@%lld", (long long)t);
}

/* ---- keyrings -------------------------------------------------------- */

struct kt_keyring *kt_keyring_free(struct kt_keyring *kr)
{
	if (!kr)
		return NULL;
	sodium_free(kr->keys);
	sodium_free(kr->admin_sk);
	sodium_free(kr->user_sk);
	kt_meta_keys_free(kr->meta);
	sodium_memzero(kr, sizeof(*kr));
	free(kr);
	return NULL;
}

/* Drop every key of kr (its user lost them all): it unlocks nothing more. */
static void keyring_drop(struct kt_keyring *kr)
{
	sodium_free(kr->keys);
	sodium_free(kr->admin_sk);
	sodium_free(kr->user_sk);
	kt_meta_keys_free(kr->meta);
	kr->keys = NULL;
	kr->n_keys = kr->cap_keys = 0;
	kr->admin_sk = kr->user_sk = NULL;
	kr->meta = NULL;
	kr->admin = false;
	kr->flags = kr->readable = kr->writable = 0;
	kr->next_expiry = 0;
}

static struct kt_key_entry *keyring_find(const struct kt_keyring *kr, uint8_t kind, uint8_t level,
					 uint32_t version)
{
	for (size_t i = 0; i < kr->n_keys; i++) {
		struct kt_key_entry *e = &kr->keys[i];

		if (e->kind == kind && e->level == level && e->version == version)
			return e;
	}
	return NULL;
}

/* Add a key (or widen the rights of the same key already held). */
static int keyring_put(struct kt_keyring *kr, uint8_t kind, uint8_t level, uint32_t version,
		       const uint8_t key[KT_KEY_BYTES], bool clearance, bool custody)
{
	struct kt_key_entry *e = keyring_find(kr, kind, level, version);

	if (e) {
		/* both copies passed the fingerprint check: the same key */
		e->clearance |= clearance;
		e->custody |= custody;
		return 0;
	}
	if (kr->n_keys == kr->cap_keys) {
		size_t cap = kr->cap_keys ? kr->cap_keys * 2 : 8;
		struct kt_key_entry *keys = sodium_allocarray(cap, sizeof(*keys));

		if (!keys)
			return -ENOMEM;
		if (kr->n_keys)
			memcpy(keys, kr->keys, kr->n_keys * sizeof(*keys));
		sodium_free(kr->keys);
		kr->keys = keys;
		kr->cap_keys = cap;
	}
	e = &kr->keys[kr->n_keys++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->level = level;
	e->version = version;
	e->clearance = clearance;
	e->custody = custody;
	memcpy(e->key, key, KT_KEY_BYTES);
	return 0;
}

const struct meta_user *kt_keyring_user(const struct kt_keyring *kr)
{
	return &kr->user;
}

uint32_t kt_keyring_flags(const struct kt_keyring *kr)
{
	return kr->flags;
}

uint32_t kt_keyring_readable(const struct kt_keyring *kr)
{
	return kr->readable;
}

uint32_t kt_keyring_writable(const struct kt_keyring *kr)
{
	return kr->writable;
}

int kt_keyring_level_key(const struct kt_keyring *kr, uint8_t level, uint32_t version,
			 const uint8_t **ret_key)
{
	const struct kt_key_entry *e = keyring_find(kr, KT_SEAL_LEVEL, level, version);

	if (!e || !e->clearance)
		return -ENOKEY;
	*ret_key = e->key;
	return 0;
}

void kt_keyring_forget_level(struct kt_keyring *kr, uint8_t level)
{
	for (size_t i = 0; i < kr->n_keys; i++) {
		struct kt_key_entry *e = &kr->keys[i];

		if (e->kind != KT_SEAL_LEVEL || e->level != level || !e->clearance)
			continue;
		e->clearance = false;
		if (!e->custody)
			sodium_memzero(e->key, sizeof(e->key));
	}
	if (level < META_LEVELS) {
		kr->readable &= ~(1u << level);
		kr->writable &= ~(1u << level);
	}
}

int kt_keyring_level_current(const struct kt_keyring *kr, uint8_t level, uint32_t *ret_version,
			     const uint8_t **ret_key)
{
	const struct kt_key_entry *best = NULL;

	for (size_t i = 0; i < kr->n_keys; i++) {
		const struct kt_key_entry *e = &kr->keys[i];

		if (e->kind == KT_SEAL_LEVEL && e->level == level && e->clearance &&
		    (!best || e->version > best->version))
			best = e;
	}
	if (!best)
		return -ENOKEY;
	*ret_version = best->version;
	*ret_key = best->key;
	return 0;
}

const struct kt_meta_keys *kt_keyring_meta(const struct kt_keyring *kr)
{
	return kr->meta;
}

int64_t kt_keyring_next_expiry(const struct kt_keyring *kr)
{
	return kr->next_expiry;
}

int64_t kt_keyring_epoch(const struct kt_keyring *kr)
{
	return kr->epoch;
}

int kt_keyring_custody_key(const struct kt_keyring *kr, uint8_t level, uint32_t version,
			   const uint8_t **ret_key)
{
	const struct kt_key_entry *e = keyring_find(kr, KT_SEAL_LEVEL, level, version);

	if (!kr->admin || !e || !e->custody)
		return -ENOKEY;
	*ret_key = e->key;
	return 0;
}

/* ---- unlocking ------------------------------------------------------- */

/* What unlocking needs besides the keyring. */
struct unlock_ctx {
	struct meta_db *db;
	struct kt_keyring *kr;
	const uint8_t *user_sk;		   /* the opened user secret */
	struct meta_key_version *versions; /* level_keys and meta_keys rows */
	size_t n_versions;
	bool have_admin_role;
	struct meta_role admin_role;
	int64_t now;
};

/* An integrity incident met while unlocking: recorded (best effort: the
 * database may be read-only), never fatal for the other keys. */
static void unlock_incident(struct unlock_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void unlock_incident(struct unlock_ctx *c, const char *fmt, ...)
{
	char detail[META_DETAIL_MAX + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	(void)kt_record(c->db, c->kr->user.name, "unlock", detail, -EBADMSG);
}

/* The key's fingerprint matches its level_keys / meta_keys row. */
static bool fingerprint_ok(const struct unlock_ctx *c, int kind, uint32_t id, uint32_t version,
			   const uint8_t key[KT_KEY_BYTES])
{
	uint8_t fp[KT_FINGERPRINT_BYTES];

	kt_fingerprint(key, fp);
	for (size_t i = 0; i < c->n_versions; i++) {
		const struct meta_key_version *v = &c->versions[i];

		if (v->kind == kind && v->id == id && v->version == version)
			return sodium_memcmp(fp, v->fingerprint, sizeof(fp)) == 0;
	}
	return false;
}

/* Open the keys sealed to one role version and put them in the keyring. */
static int unlock_role_keys(struct unlock_ctx *c, const struct meta_role *role, uint32_t version,
			    const uint8_t role_pk[KT_KEY_BYTES], const uint8_t *role_sk,
			    bool is_admin)
{
	struct meta_key_seal *seals = NULL;
	uint8_t *key = NULL;
	size_t n = 0;
	int r;

	r = meta_key_seal_list_role(c->db, role->id, version, &seals, &n);
	if (r < 0)
		return r;
	key = sodium_malloc(KT_KEY_BYTES);
	if (!key) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct meta_key_seal *s = &seals[i];
		bool clearance, custody = is_admin;
		uint8_t level = 0;

		if (s->kind == META_KEY_LEVEL && s->id < META_LEVELS) {
			level = (uint8_t)s->id;
			clearance = role->levels & (1u << level);
		} else if (s->kind == META_KEY_METADATA && s->id == 0) {
			clearance = true; /* every role holds the metadata key */
		} else {
			unlock_incident(c, "malformed key seal kind=%d id=%u role=%s", s->kind,
					s->id, role->name);
			continue;
		}
		if (!clearance && !custody)
			continue; /* not this role's level: never used */
		if (s->version > SEAL_FIELD_MAX ||
		    kt_unseal((enum kt_seal_kind)s->kind, (uint16_t)s->id, (uint16_t)s->version,
			      s->sealed, role_pk, role_sk, key) < 0 ||
		    !fingerprint_ok(c, s->kind, s->id, s->version, key)) {
			unlock_incident(c,
					"%s key %u version %u sealed to role=%s refused: "
					"tampered seal or fingerprint",
					s->kind == META_KEY_LEVEL ? "level" : "metadata", s->id,
					s->version, role->name);
			continue;
		}
		r = keyring_put(c->kr, (uint8_t)s->kind, level, s->version, key, clearance,
				custody);
		sodium_memzero(key, KT_KEY_BYTES);
		if (r < 0)
			goto out;
		if (s->kind == META_KEY_LEVEL && clearance) {
			c->kr->readable |= 1u << level;
			if (!(role->flags & META_ROLE_READ_ONLY))
				c->kr->writable |= 1u << level;
		}
	}
	r = 0;
out:
	sodium_free(key);
	free(seals);
	return r;
}

/* Open one grant: its role secret, then the keys sealed to that role version.
 * A grant that does not open is an incident and is skipped. */
static int unlock_grant(struct unlock_ctx *c, const struct meta_grant *g)
{
	struct meta_role_key rk;
	struct meta_role role;
	uint8_t pk_check[KT_KEY_BYTES];
	uint8_t *role_sk = NULL;
	bool is_admin;
	int r;

	if (g->expires_ns != 0 && g->expires_ns <= c->now)
		return 0; /* expired: as if never granted */
	r = meta_role_get_by_id(c->db, g->role_id, &role);
	if (r == 0)
		r = meta_role_key_get(c->db, g->role_id, g->role_version, &rk);
	if (r == -ENOENT) {
		unlock_incident(c, "grant of missing role id=%lld version=%u",
				(long long)g->role_id, g->role_version);
		return 0;
	}
	if (r < 0)
		return r;

	role_sk = sodium_malloc(KT_KEY_BYTES);
	if (!role_sk)
		return -ENOMEM;
	if (g->role_id < 0 || (uint64_t)g->role_id > SEAL_FIELD_MAX ||
	    g->role_version > SEAL_FIELD_MAX ||
	    kt_unseal(KT_SEAL_ROLE, (uint16_t)g->role_id, (uint16_t)g->role_version, g->sealed,
		      c->kr->user.public_key, c->user_sk, role_sk) < 0) {
		unlock_incident(c, "grant of role=%s version=%u refused: tampered seal", role.name,
				g->role_version);
		r = 0;
		goto out;
	}
	crypto_scalarmult_base(pk_check, role_sk);
	if (sodium_memcmp(pk_check, rk.public_key, KT_KEY_BYTES) != 0) {
		unlock_incident(c,
				"grant of role=%s version=%u refused: key does not match "
				"the role's public key",
				role.name, g->role_version);
		r = 0;
		goto out;
	}

	is_admin = c->have_admin_role && role.id == c->admin_role.id;
	c->kr->flags |= role.flags;
	if (g->expires_ns && (!c->kr->next_expiry || g->expires_ns < c->kr->next_expiry))
		c->kr->next_expiry = g->expires_ns;
	r = unlock_role_keys(c, &role, g->role_version, rk.public_key, role_sk, is_admin);
	if (r < 0)
		goto out;
	/* an administrator keeps the current admin role key, to reach custody */
	if (is_admin && g->role_version == c->admin_role.key_version && !c->kr->admin) {
		c->kr->admin = true;
		c->kr->admin_role_id = role.id;
		c->kr->admin_role_version = g->role_version;
		memcpy(c->kr->admin_pk, rk.public_key, KT_KEY_BYTES);
		c->kr->admin_sk = role_sk;
		role_sk = NULL;
	}
	r = 0;
out:
	sodium_free(role_sk);
	return r;
}

/* Derive the metadata subkeys from the newest metadata key held. */
static int keyring_set_meta(struct kt_keyring *kr)
{
	const struct kt_key_entry *best = NULL;

	for (size_t i = 0; i < kr->n_keys; i++) {
		const struct kt_key_entry *e = &kr->keys[i];

		if (e->kind == KT_SEAL_METADATA && e->clearance &&
		    (!best || e->version > best->version))
			best = e;
	}
	if (!best)
		return 0;
	if (best->version > SEAL_FIELD_MAX)
		return -EOVERFLOW;
	kr->meta = kt_meta_keys_new(best->key, (uint16_t)best->version);
	return kr->meta ? 0 : -ENOMEM;
}

/*
 * Fill kr (its user and user_sk set, nothing else) from the vault: the user's
 * unexpired grants and the keys sealed to those role versions. In one
 * transaction when none is open, so a rotation committing meanwhile is seen
 * whole or not at all.
 */
static int keyring_load(struct meta_db *db, struct kt_keyring *kr)
{
	struct unlock_ctx c = {.db = db, .kr = kr, .user_sk = kr->user_sk};
	struct meta_grant *grants = NULL;
	size_t n_grants = 0;
	bool own_tx;
	int r;

	r = meta_tx_begin(db);
	if (r < 0 && r != -EINVAL)
		return r;
	own_tx = r == 0; /* -EINVAL: inside the caller's transaction */
	r = kt_key_epoch(db, &kr->epoch);
	if (r < 0)
		goto out;
	r = meta_role_get_by_flag(db, META_ROLE_ADMIN, &c.admin_role);
	c.have_admin_role = r == 0;
	if (r < 0 && r != -ENOENT)
		goto out;
	r = meta_key_version_list(db, &c.versions, &c.n_versions);
	if (r < 0)
		goto out;
	r = meta_grant_list_user(db, kr->user.id, &grants, &n_grants);
	if (r < 0)
		goto out;
	c.now = meta_now_ns();
	for (size_t i = 0; i < n_grants; i++) {
		r = unlock_grant(&c, &grants[i]);
		if (r < 0)
			goto out;
	}
	r = keyring_set_meta(kr);
out:
	if (own_tx) {
		/* commits the incident records, if any; a read-only one just ends */
		if (r == 0)
			r = meta_tx_commit(db);
		else
			meta_tx_rollback(db);
	}
	free(grants);
	free(c.versions);
	return r;
}

int kt_keyring_load_admin(struct meta_db *db, struct kt_keyring *kr,
			  const struct meta_role *admin_role, uint32_t version,
			  const uint8_t pk[KT_KEY_BYTES], uint8_t *sk)
{
	struct unlock_ctx c = {.db = db, .kr = kr};
	bool own_tx;
	int r;

	kr->admin = true;
	kr->recovery = true;
	kr->admin_role_id = admin_role->id;
	kr->admin_role_version = version;
	memcpy(kr->admin_pk, pk, KT_KEY_BYTES);
	kr->admin_sk = sk;
	kr->flags |= admin_role->flags;
	r = meta_tx_begin(db);
	if (r < 0 && r != -EINVAL)
		return r;
	own_tx = r == 0;
	r = kt_key_epoch(db, &kr->epoch);
	if (r == 0)
		r = meta_key_version_list(db, &c.versions, &c.n_versions);
	c.have_admin_role = true;
	c.admin_role = *admin_role;
	c.now = meta_now_ns();
	if (r == 0)
		r = unlock_role_keys(&c, admin_role, version, pk, sk, true);
	if (r == 0)
		r = keyring_set_meta(kr);
	if (own_tx) {
		if (r == 0)
			r = meta_tx_commit(db);
		else
			meta_tx_rollback(db);
	}
	free(c.versions);
	return r;
}

int kt_unlock(struct meta_db *db, const char *user, const char *passphrase, size_t pass_len,
	      struct kt_keyring **ret_keyring)
{
	struct kt_keyring *kr;
	int r;

	if (!db || !user || !passphrase || !ret_keyring)
		return -EINVAL;
	kr = calloc(1, sizeof(*kr));
	if (!kr)
		return -ENOMEM;
	r = meta_user_get_by_name(db, user, &kr->user);
	if (r == -ENOENT) {
		(void)kt_record(db, kt_name_valid(user) ? user : "", "unlock", "unknown user",
				-ENOENT);
		goto out;
	}
	if (r < 0)
		goto out;
	if (kr->user.disabled) {
		(void)kt_record(db, user, "unlock", "user disabled", -EACCES);
		r = -EACCES;
		goto out;
	}

	kr->user_sk = sodium_malloc(KT_KEY_BYTES);
	if (!kr->user_sk) {
		r = -ENOMEM;
		goto out;
	}
	r = kt_user_secret_open(passphrase, pass_len, kr->user.public_key, kr->user.secret_sealed,
				kr->user_sk);
	if (r == -EACCES || r == -EINVAL) {
		(void)kt_record(db, user, "unlock", "wrong passphrase", -EACCES);
		r = -EACCES;
		goto out;
	}
	if (r < 0)
		goto out;
	r = keyring_load(db, kr);
	if (r < 0)
		goto out;
	*ret_keyring = kr;
	kr = NULL;
out:
	kt_keyring_free(kr);
	return r;
}

/* Move fresh's keys into kr and kr's old ones into fresh (for freeing). The
 * metadata subkeys stay where they are when their version did not change, so
 * a pointer from kt_keyring_meta() stays valid. */
static void keyring_swap(struct kt_keyring *kr, struct kt_keyring *fresh)
{
	struct kt_keyring old = *kr;

	kr->user = fresh->user;
	kr->flags = fresh->flags;
	kr->readable = fresh->readable;
	kr->writable = fresh->writable;
	kr->keys = fresh->keys;
	kr->n_keys = fresh->n_keys;
	kr->cap_keys = fresh->cap_keys;
	kr->admin = fresh->admin;
	kr->admin_role_id = fresh->admin_role_id;
	kr->admin_role_version = fresh->admin_role_version;
	memcpy(kr->admin_pk, fresh->admin_pk, KT_KEY_BYTES);
	kr->admin_sk = fresh->admin_sk;
	kr->epoch = fresh->epoch;
	kr->next_expiry = fresh->next_expiry;
	if (!(old.meta && fresh->meta && old.meta->version == fresh->meta->version)) {
		kr->meta = fresh->meta;
		fresh->meta = old.meta;
	}
	fresh->keys = old.keys;
	fresh->n_keys = old.n_keys;
	fresh->cap_keys = old.cap_keys;
	fresh->admin_sk = old.admin_sk;
}

/* A recovery keyring: reload the keys sealed to its admin role version. */
static int refresh_recovery(struct meta_db *db, struct kt_keyring *kr)
{
	struct kt_keyring *fresh = NULL;
	struct meta_role role;
	uint8_t *sk = NULL;
	int r;

	r = meta_role_get_by_flag(db, META_ROLE_ADMIN, &role);
	if (r < 0 && r != -ENOENT)
		return r;
	if (r == -ENOENT || !kr->admin || role.id != kr->admin_role_id ||
	    role.key_version != kr->admin_role_version) {
		keyring_drop(kr); /* the admin role was rotated: recover again */
		return -EACCES;
	}
	fresh = calloc(1, sizeof(*fresh));
	sk = sodium_malloc(KT_KEY_BYTES);
	if (!fresh || !sk) {
		free(fresh);
		sodium_free(sk);
		return -ENOMEM;
	}
	memcpy(sk, kr->admin_sk, KT_KEY_BYTES);
	fresh->user = kr->user;
	r = kt_keyring_load_admin(db, fresh, &role, kr->admin_role_version, kr->admin_pk, sk);
	if (r == 0)
		keyring_swap(kr, fresh);
	kt_keyring_free(fresh);
	return r;
}

int kt_keyring_refresh(struct meta_db *db, struct kt_keyring *kr)
{
	struct kt_keyring *fresh = NULL;
	struct meta_user u;
	int r;

	if (!db || !kr)
		return -EINVAL;
	if (kr->recovery)
		return refresh_recovery(db, kr);
	if (!kr->user_sk)
		return -EACCES; /* dropped by an earlier refresh */
	r = meta_user_get_by_id(db, kr->user.id, &u);
	if (r == -ENOENT ||
	    (r == 0 &&
	     (u.disabled || sodium_memcmp(u.public_key, kr->user.public_key, KT_KEY_BYTES) != 0))) {
		/* removed, disabled, or given a new key pair (recovery): nothing stays */
		keyring_drop(kr);
		return -EACCES;
	}
	if (r < 0)
		return r;
	fresh = calloc(1, sizeof(*fresh));
	if (!fresh)
		return -ENOMEM;
	fresh->user = u;
	fresh->user_sk = kr->user_sk; /* borrowed */
	r = keyring_load(db, fresh);
	fresh->user_sk = NULL;
	if (r == 0)
		keyring_swap(kr, fresh);
	kt_keyring_free(fresh);
	return r;
}

int kt_keyring_sync(struct meta_db *db, struct kt_keyring *kr)
{
	int64_t e;
	int r;

	if (!db || !kr)
		return -EINVAL;
	r = kt_key_epoch(db, &e);
	if (r < 0)
		return r;
	if (e == kr->epoch)
		return 0;
	r = kt_keyring_refresh(db, kr);
	return r < 0 ? r : 1;
}

int kt_key_epoch(struct meta_db *db, int64_t *ret)
{
	int64_t v;
	int r;

	if (!db || !ret)
		return -EINVAL;
	r = meta_config_get_int(db, KT_EPOCH_KEY, &v);
	if (r == -ENOENT) {
		*ret = 0;
		return 0;
	}
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}

int kt_epoch_bump(struct meta_db *db, int64_t *ret_epoch)
{
	int64_t v;
	int r;

	r = kt_key_epoch(db, &v);
	if (r < 0)
		return r;
	if (v < 0 || v == INT64_MAX)
		return -EIO;
	r = meta_config_set_int(db, KT_EPOCH_KEY, v + 1);
	if (r == 0 && ret_epoch)
		*ret_epoch = v + 1;
	return r;
}

/* ---- administration -------------------------------------------------- */

/*
 * Inside the transaction: kr's user is still an enabled administrator with an
 * unexpired grant of the current admin role key (-EACCES if not), and kr was
 * unlocked or refreshed at the current key epoch with that admin key
 * (-ESTALE if not: refresh and try again). A recovery keyring needs only
 * the current admin role key.
 */
static int check_admin(struct meta_db *db, const struct kt_keyring *kr)
{
	struct meta_grant *grants = NULL;
	struct meta_user u;
	struct meta_role role;
	int64_t now = meta_now_ns(), epoch;
	size_t n = 0;
	bool ok = false;
	int r;

	if (!kr->admin)
		return -EACCES;
	r = kt_key_epoch(db, &epoch);
	if (r < 0)
		return r;
	r = meta_role_get_by_flag(db, META_ROLE_ADMIN, &role);
	if (r == -ENOENT || (r == 0 && role.id != kr->admin_role_id))
		return -EACCES;
	if (r < 0)
		return r;
	if (!kr->recovery) {
		r = meta_user_get_by_id(db, kr->user.id, &u);
		if (r == -ENOENT || (r == 0 && u.disabled))
			return -EACCES;
		if (r < 0)
			return r;
		if (sodium_memcmp(u.public_key, kr->user.public_key, KT_KEY_BYTES) != 0)
			return -EACCES;
		r = meta_grant_list_user(db, kr->user.id, &grants, &n);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++)
			if (grants[i].role_id == role.id &&
			    grants[i].role_version == role.key_version &&
			    (grants[i].expires_ns == 0 || grants[i].expires_ns > now))
				ok = true;
		free(grants);
		if (!ok)
			return -EACCES;
	}
	if (role.key_version != kr->admin_role_version || epoch != kr->epoch)
		return -ESTALE; /* keys changed since this keyring was unlocked */
	return 0;
}

int kt_deny(struct meta_db *db, const struct kt_keyring *kr, const char *op, const char *detail)
{
	(void)kt_record(db, kr->user.name, op, detail, -EACCES);
	return -EACCES;
}

#define ADMIN_BEGIN_TRIES 5

int kt_admin_begin(struct meta_db *db, struct kt_keyring *kr, const char *op, const char *detail)
{
	int r;

	for (int attempt = 0;; attempt++) {
		if (!kr->admin)
			return kt_deny(db, kr, op, detail);
		r = meta_tx_begin(db);
		if (r < 0)
			return r;
		r = check_admin(db, kr);
		if (r == 0)
			return 0;
		meta_tx_rollback(db);
		if (r == -EACCES)
			return kt_deny(db, kr, op, detail);
		if (r != -ESTALE)
			return r;
		if (attempt + 1 >= ADMIN_BEGIN_TRIES)
			return -EBUSY; /* keys keep changing under us: let the caller retry */
		r = kt_keyring_refresh(db, kr);
		if (r == -EACCES)
			return kt_deny(db, kr, op, detail);
		if (r < 0)
			return r;
	}
}

int kt_admin_end(struct meta_db *db, const struct kt_keyring *kr, const char *op,
		 const char *detail, int r)
{
	if (r == 0)
		r = kt_record(db, kr->user.name, op, detail, META_OUTCOME_OK);
	if (r == 0)
		return meta_tx_commit(db);
	meta_tx_rollback(db);
	return r;
}

/* The vault's KDF profile for new user secrets (interactive if unset). */
int kt_vault_kdf_profile(struct meta_db *db, enum kt_kdf_profile *ret_profile)
{
	char buf[32];
	size_t n = sizeof(buf) - 1;
	int r;

	r = meta_config_get_blob(db, KDF_PROFILE_KEY, buf, &n);
	if (r == -ENOENT) {
		*ret_profile = KT_KDF_INTERACTIVE;
		return 0;
	}
	if (r == -ENOBUFS)
		return -EINVAL;
	if (r < 0)
		return r;
	buf[n] = '\0';
	return kt_kdf_profile_parse(buf, ret_profile);
}

/* A fresh user key pair with its secret sealed under passphrase. */
static int make_user(const char *name, int64_t uid, const char *passphrase, size_t pass_len,
		     enum kt_kdf_profile profile, struct meta_user *ret_user)
{
	uint8_t *sk = sodium_malloc(KT_KEY_BYTES);
	struct meta_user u;
	int r;

	if (!sk)
		return -ENOMEM;
	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%s", name);
	u.uid = uid;
	kt_keypair(u.public_key, sk);
	r = kt_user_secret_seal(passphrase, pass_len, profile, u.public_key, sk, u.secret_sealed);
	sodium_free(sk);
	if (r < 0)
		return r;
	*ret_user = u;
	return 0;
}

int kt_user_add(struct meta_db *db, struct kt_keyring *admin, const char *name, int64_t uid,
		const char *passphrase, size_t pass_len)
{
	char detail[META_DETAIL_MAX + 1];
	enum kt_kdf_profile profile;
	struct meta_user u, existing;
	int r;

	if (!db || !admin || !name || !passphrase)
		return -EINVAL;
	if (uid >= 0)
		snprintf(detail, sizeof(detail), "user=%s uid=%lld", name, (long long)uid);
	else
		snprintf(detail, sizeof(detail), "user=%s", name);
	if (!admin->admin)
		return kt_deny(db, admin, "user-add", detail);
	if (!kt_name_valid(name) || uid < -1 || uid > UINT32_MAX || pass_len == 0)
		return -EINVAL;
	/* cheap refusals before the slow KDF; checked again by the insert */
	r = meta_user_get_by_name(db, name, &existing);
	if (r == 0)
		return -EEXIST;
	if (r != -ENOENT)
		return r;
	if (uid >= 0) {
		r = meta_user_get_by_uid(db, uid, &existing);
		if (r == 0)
			return -EEXIST;
		if (r != -ENOENT)
			return r;
	}
	r = kt_vault_kdf_profile(db, &profile);
	if (r < 0)
		return r;
	r = make_user(name, uid, passphrase, pass_len, profile, &u);
	if (r < 0)
		return r;

	r = kt_admin_begin(db, admin, "user-add", detail);
	if (r < 0)
		return r;
	u.created_ns = meta_now_ns();
	r = meta_user_add(db, &u);
	return kt_admin_end(db, admin, "user-add", detail, r);
}

/* "0,1,2" / "none" for a detail line. */
void kt_format_levels(uint32_t levels, char *buf, size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned int l = 0; l < META_LEVELS; l++)
		if (levels & (1u << l))
			o += (size_t)snprintf(buf + o, size - o, "%s%u", o ? "," : "", l);
	if (o == 0)
		snprintf(buf, size, "none");
}

/* "read-only,declassify" / "none" for a detail line. */
static void format_flags(uint32_t flags, char *buf, size_t size)
{
	static const struct {
		uint32_t flag;
		const char *name;
	} names[] = {
	    {META_ROLE_READ_ONLY, "read-only"},	  {META_ROLE_ADMIN, "admin"},
	    {META_ROLE_DECLASSIFY, "declassify"}, {META_ROLE_AUDITOR, "auditor"},
	    {META_ROLE_EXPIRING, "expiring"},
	};
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && o < size; i++)
		if (flags & names[i].flag)
			o += (size_t)snprintf(buf + o, size - o, "%s%s", o ? "," : "",
					      names[i].name);
	if (o == 0)
		snprintf(buf, size, "%s", flags ? "?" : "none");
}

/* Seal every custody key a role with these levels must hold to role_pk. */
static int seal_role_keys(struct meta_db *db, const struct kt_keyring *admin, int64_t role_id,
			  uint32_t role_version, uint32_t levels,
			  const uint8_t role_pk[KT_KEY_BYTES])
{
	uint32_t sealed_levels = 0;
	bool sealed_meta = false;
	int r;

	for (size_t i = 0; i < admin->n_keys; i++) {
		const struct kt_key_entry *e = &admin->keys[i];
		struct meta_key_seal s;

		if (!e->custody)
			continue;
		if (e->kind == KT_SEAL_LEVEL && !(levels & (1u << e->level)))
			continue;
		if (e->version > SEAL_FIELD_MAX)
			return -EOVERFLOW;
		memset(&s, 0, sizeof(s));
		s.kind = e->kind;
		s.id = e->level;
		s.version = e->version;
		s.role_id = role_id;
		s.role_version = role_version;
		r = kt_seal((enum kt_seal_kind)e->kind, e->level, (uint16_t)e->version, e->key,
			    role_pk, s.sealed);
		if (r == 0)
			r = meta_key_seal_add(db, &s);
		if (r < 0)
			return r;
		if (e->kind == KT_SEAL_LEVEL)
			sealed_levels |= 1u << e->level;
		else
			sealed_meta = true;
	}
	/* custody must cover every level of the role, and the metadata key */
	return sealed_levels == levels && sealed_meta ? 0 : -ENOKEY;
}

int kt_role_add(struct meta_db *db, struct kt_keyring *admin, const char *name, uint32_t levels,
		uint32_t flags)
{
	char detail[META_DETAIL_MAX + 1], lv[16], fl[64];
	struct meta_role_key rk;
	struct meta_role role;
	uint8_t *sk = NULL;
	int r;

	if (!db || !admin || !name)
		return -EINVAL;
	kt_format_levels(levels, lv, sizeof(lv));
	format_flags(flags, fl, sizeof(fl));
	snprintf(detail, sizeof(detail), "role=%s levels=%s flags=%s", name, lv, fl);
	if (!admin->admin)
		return kt_deny(db, admin, "role-add", detail);
	if (!kt_name_valid(name) || (levels & ~ALL_LEVELS) || (flags & ~ROLE_FLAGS_SETTABLE))
		return -EINVAL;
	sk = sodium_malloc(KT_KEY_BYTES);
	if (!sk)
		return -ENOMEM;

	r = kt_admin_begin(db, admin, "role-add", detail);
	if (r < 0)
		goto out;
	memset(&role, 0, sizeof(role));
	snprintf(role.name, sizeof(role.name), "%s", name);
	role.levels = levels;
	role.flags = flags;
	role.key_version = 1;
	role.created_ns = meta_now_ns();
	r = meta_role_add(db, &role);
	if (r == 0 && role.id > (int64_t)SEAL_FIELD_MAX)
		r = -EOVERFLOW;
	if (r == 0) {
		memset(&rk, 0, sizeof(rk));
		rk.role_id = role.id;
		rk.version = role.key_version;
		rk.created_ns = role.created_ns;
		rk.has_custody = true;
		kt_keypair(rk.public_key, sk);
		r = kt_seal(KT_SEAL_ROLE, (uint16_t)role.id, (uint16_t)role.key_version, sk,
			    admin->admin_pk, rk.custody_sealed);
		sodium_memzero(sk, KT_KEY_BYTES);
	}
	if (r == 0)
		r = meta_role_key_add(db, &rk);
	if (r == 0)
		r = seal_role_keys(db, admin, role.id, role.key_version, levels, rk.public_key);
	r = kt_admin_end(db, admin, "role-add", detail, r);
out:
	sodium_free(sk);
	return r;
}

/* The current secret key of role, from custody (or the admin's own key). */
int kt_role_secret(struct meta_db *db, const struct kt_keyring *admin, const struct meta_role *role,
		   uint8_t ret_sk[KT_KEY_BYTES])
{
	struct meta_role_key rk;
	uint8_t pk_check[KT_KEY_BYTES];
	int r;

	if (role->id == admin->admin_role_id) {
		if (role->key_version != admin->admin_role_version)
			return -ENOKEY;
		memcpy(ret_sk, admin->admin_sk, KT_KEY_BYTES);
		return 0;
	}
	if (role->id < 0 || role->id > (int64_t)SEAL_FIELD_MAX ||
	    role->key_version > SEAL_FIELD_MAX)
		return -EOVERFLOW;
	r = meta_role_key_get(db, role->id, role->key_version, &rk);
	if (r == -ENOENT || (r == 0 && !rk.has_custody))
		return -ENOKEY;
	if (r < 0)
		return r;
	r = kt_unseal(KT_SEAL_ROLE, (uint16_t)role->id, (uint16_t)role->key_version,
		      rk.custody_sealed, admin->admin_pk, admin->admin_sk, ret_sk);
	if (r < 0)
		return -EBADMSG;
	crypto_scalarmult_base(pk_check, ret_sk);
	if (sodium_memcmp(pk_check, rk.public_key, KT_KEY_BYTES) != 0) {
		sodium_memzero(ret_sk, KT_KEY_BYTES);
		return -EBADMSG;
	}
	return 0;
}

int kt_grant(struct meta_db *db, struct kt_keyring *admin, const char *user, const char *role_name,
	     int64_t expires_ns)
{
	char detail[META_DETAIL_MAX + 1], when[40];
	struct meta_grant g;
	struct meta_user u;
	struct meta_role role;
	uint8_t *sk = NULL;
	int64_t epoch = 0;
	int r;

	if (!db || !admin || !user || !role_name)
		return -EINVAL;
	if (expires_ns) {
		kt_format_utc(expires_ns, when, sizeof(when));
		snprintf(detail, sizeof(detail), "user=%s role=%s expires=%s", user, role_name,
			 when);
	} else {
		snprintf(detail, sizeof(detail), "user=%s role=%s", user, role_name);
	}
	if (!admin->admin)
		return kt_deny(db, admin, "grant", detail);
	if (expires_ns < 0)
		return -EINVAL;
	sk = sodium_malloc(KT_KEY_BYTES);
	if (!sk)
		return -ENOMEM;

	r = kt_admin_begin(db, admin, "grant", detail);
	if (r < 0)
		goto out;
	r = meta_user_get_by_name(db, user, &u);
	if (r == 0)
		r = meta_role_get_by_name(db, role_name, &role);
	if (r == 0 && u.disabled)
		r = -EPERM; /* removed: grants would only be sealed to a dead key */
	if (r == 0 && (((role.flags & META_ROLE_EXPIRING) && expires_ns == 0) ||
		       (expires_ns != 0 && expires_ns <= meta_now_ns())))
		r = -EINVAL;
	if (r == 0)
		r = kt_role_secret(db, admin, &role, sk);
	if (r == 0) {
		/* the record says which role key version was sealed to them */
		if (expires_ns)
			snprintf(detail, sizeof(detail), "user=%s role=%s version=%u expires=%s",
				 user, role_name, role.key_version, when);
		else
			snprintf(detail, sizeof(detail), "user=%s role=%s version=%u", user,
				 role_name, role.key_version);
		memset(&g, 0, sizeof(g));
		g.user_id = u.id;
		g.role_id = role.id;
		g.role_version = role.key_version;
		g.granted_by = admin->user.id;
		g.granted_at_ns = meta_now_ns();
		g.expires_ns = expires_ns;
		r = kt_seal(KT_SEAL_ROLE, (uint16_t)role.id, (uint16_t)role.key_version, sk,
			    u.public_key, g.sealed);
		sodium_memzero(sk, KT_KEY_BYTES);
	}
	if (r == 0)
		r = meta_grant_add(db, &g);
	if (r == 0)
		r = kt_epoch_bump(db, &epoch);
	r = kt_admin_end(db, admin, "grant", detail, r);
	/* only the grantee's keys changed: the administrator's keyring is current */
	if (r == 0 && u.id != admin->user.id)
		admin->epoch = epoch;
out:
	sodium_free(sk);
	return r;
}

/* Whether some enabled user other than user_id holds an unexpired admin grant. */
int kt_other_admin_exists(struct meta_db *db, int64_t admin_role_id, int64_t user_id,
			  bool *ret_exists)
{
	struct meta_grant *grants = NULL;
	int64_t now = meta_now_ns();
	bool exists = false;
	size_t n = 0;
	int r;

	r = meta_grant_list_all(db, &grants, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && !exists; i++) {
		const struct meta_grant *g = &grants[i];
		struct meta_user u;

		if (g->role_id != admin_role_id || g->user_id == user_id ||
		    (g->expires_ns != 0 && g->expires_ns <= now))
			continue;
		r = meta_user_get_by_id(db, g->user_id, &u);
		if (r < 0 && r != -ENOENT)
			goto out;
		exists = r == 0 && !u.disabled;
	}
	r = 0;
	*ret_exists = exists;
out:
	free(grants);
	return r;
}

int kt_passwd(struct meta_db *db, const char *user, const char *old_pass, size_t old_len,
	      const char *new_pass, size_t new_len)
{
	enum kt_kdf_profile profile;
	uint8_t *sk = NULL;
	struct meta_user u, now_u;
	uint8_t blob[KT_USER_SECRET_BYTES];
	int r;

	if (!db || !user || !old_pass || !new_pass)
		return -EINVAL;
	r = meta_user_get_by_name(db, user, &u);
	if (r < 0)
		return r;
	if (new_len == 0)
		return -EINVAL;
	sk = sodium_malloc(KT_KEY_BYTES);
	if (!sk)
		return -ENOMEM;
	if (u.disabled) {
		(void)kt_record(db, user, "passwd", "user disabled", -EACCES);
		r = -EACCES;
		goto out;
	}
	r = kt_user_secret_open(old_pass, old_len, u.public_key, u.secret_sealed, sk);
	if (r == -EACCES || r == -EINVAL) {
		(void)kt_record(db, user, "passwd", "wrong passphrase", -EACCES);
		r = -EACCES;
		goto out;
	}
	if (r == 0)
		r = kt_vault_kdf_profile(db, &profile);
	if (r == 0)
		r = kt_user_secret_seal(new_pass, new_len, profile, u.public_key, sk, blob);
	sodium_memzero(sk, KT_KEY_BYTES);
	if (r < 0)
		goto out;

	r = meta_tx_begin(db);
	if (r < 0)
		goto out;
	/* a concurrent passwd between our read and now: let the caller retry */
	r = meta_user_get_by_id(db, u.id, &now_u);
	if (r == 0 && sodium_memcmp(now_u.secret_sealed, u.secret_sealed, KT_USER_SECRET_BYTES))
		r = -EBUSY;
	if (r == 0)
		r = meta_user_set_secret(db, u.id, blob);
	if (r == 0)
		r = kt_record(db, user, "passwd", "", META_OUTCOME_OK);
	if (r == 0)
		r = meta_tx_commit(db);
	else
		meta_tx_rollback(db);
out:
	sodium_free(sk);
	return r;
}

/* ---- vault creation -------------------------------------------------- */

/* The secrets of a new vault, in one sodium_malloc'd block. */
struct init_secrets {
	uint8_t level[META_LEVELS][KT_KEY_BYTES];
	uint8_t meta[KT_KEY_BYTES];
	uint8_t role_sk[N_DEFAULT_ROLES][KT_KEY_BYTES];
};

static int init_options_valid(const struct kt_init_options *opt)
{
	char a[LEVEL_NAME_MAX * 2 + 1], b[LEVEL_NAME_MAX * 2 + 1];
	const char *names[META_LEVELS];

	if (!opt || !kt_name_valid(opt->admin) || !opt->passphrase || opt->passphrase_len == 0 ||
	    !kt_kdf_profile_name(opt->kdf) || opt->admin_uid < -1 || opt->admin_uid > UINT32_MAX)
		return -EINVAL;
	for (int l = 0; l < META_LEVELS; l++) {
		names[l] = opt->level_names[l] ? opt->level_names[l] : kt_default_level_names[l];
		if (!level_name_valid(names[l]))
			return -EINVAL;
	}
	/* distinct, and not another level's English name (those are aliases) */
	for (int l = 0; l < META_LEVELS; l++) {
		fold_name(names[l], a, sizeof(a));
		for (int m = 0; m < META_LEVELS; m++) {
			if (m == l)
				continue;
			fold_name(names[m], b, sizeof(b));
			if (strcmp(a, b) == 0 || name_eq_folded(a, level_english_names[m][0]) ||
			    name_eq_folded(a, level_english_names[m][1]))
				return -EINVAL;
		}
	}
	return 0;
}

/* Everything of a new vault but the schema, in the caller's transaction. */
static int init_keys(struct meta_db *db, const struct kt_init_options *opt, struct meta_user *admin,
		     struct init_secrets *sec)
{
	struct meta_role roles[N_DEFAULT_ROLES];
	uint8_t role_pk[N_DEFAULT_ROLES][KT_KEY_BYTES];
	int64_t now = meta_now_ns();
	const char *kdf = kt_kdf_profile_name(opt->kdf);
	char key[32];
	int r;

	for (int l = 0; l < META_LEVELS; l++) {
		const char *name =
		    opt->level_names[l] ? opt->level_names[l] : kt_default_level_names[l];

		snprintf(key, sizeof(key), "level_name.%d", l);
		r = meta_config_set_blob(db, key, name, strlen(name));
		if (r < 0)
			return r;
	}
	r = meta_config_set_blob(db, KDF_PROFILE_KEY, kdf, strlen(kdf));
	if (r < 0)
		return r;

	/* level keys 0..3 and the metadata key, version 1 */
	for (int l = 0; l <= META_LEVELS; l++) {
		struct meta_key_version v;
		uint8_t *k = l < META_LEVELS ? sec->level[l] : sec->meta;

		kt_random(k, KT_KEY_BYTES);
		memset(&v, 0, sizeof(v));
		v.kind = l < META_LEVELS ? META_KEY_LEVEL : META_KEY_METADATA;
		v.id = l < META_LEVELS ? (uint32_t)l : 0;
		v.version = 1;
		v.created_ns = now;
		kt_fingerprint(k, v.fingerprint);
		r = meta_key_version_add(db, &v);
		if (r < 0)
			return r;
	}

	/* the roles, each with a key pair in custody of the admin role (role 0) */
	for (size_t i = 0; i < N_DEFAULT_ROLES; i++) {
		struct meta_role_key rk;

		memset(&roles[i], 0, sizeof(roles[i]));
		snprintf(roles[i].name, sizeof(roles[i].name), "%s", default_roles[i].name);
		roles[i].levels = default_roles[i].levels;
		roles[i].flags = default_roles[i].flags;
		roles[i].key_version = 1;
		roles[i].created_ns = now;
		r = meta_role_add(db, &roles[i]);
		if (r < 0)
			return r;
		if (roles[i].id > (int64_t)SEAL_FIELD_MAX)
			return -EOVERFLOW;
		kt_keypair(role_pk[i], sec->role_sk[i]);
		memset(&rk, 0, sizeof(rk));
		rk.role_id = roles[i].id;
		rk.version = 1;
		rk.created_ns = now;
		memcpy(rk.public_key, role_pk[i], KT_KEY_BYTES);
		rk.has_custody = i != 0;
		if (rk.has_custody) {
			r = kt_seal(KT_SEAL_ROLE, (uint16_t)roles[i].id, 1, sec->role_sk[i],
				    role_pk[0], rk.custody_sealed);
			if (r < 0)
				return r;
		}
		r = meta_role_key_add(db, &rk);
		if (r < 0)
			return r;

		/* its levels (all of them in custody for the admin role) and the metadata key */
		for (int l = 0; l <= META_LEVELS; l++) {
			struct meta_key_seal s;
			bool meta = l == META_LEVELS;

			if (!meta && i != 0 && !(roles[i].levels & (1u << l)))
				continue;
			memset(&s, 0, sizeof(s));
			s.kind = meta ? META_KEY_METADATA : META_KEY_LEVEL;
			s.id = meta ? 0 : (uint32_t)l;
			s.version = 1;
			s.role_id = roles[i].id;
			s.role_version = 1;
			r = kt_seal((enum kt_seal_kind)s.kind, (uint16_t)s.id, 1,
				    meta ? sec->meta : sec->level[l], role_pk[i], s.sealed);
			if (r == 0)
				r = meta_key_seal_add(db, &s);
			if (r < 0)
				return r;
		}
	}

	/* the first administrator, granted the admin role */
	admin->created_ns = now;
	r = meta_user_add(db, admin);
	if (r == 0) {
		struct meta_grant g;

		memset(&g, 0, sizeof(g));
		g.user_id = admin->id;
		g.role_id = roles[0].id;
		g.role_version = 1;
		g.granted_by = 0;
		g.granted_at_ns = now;
		r = kt_seal(KT_SEAL_ROLE, (uint16_t)roles[0].id, 1, sec->role_sk[0],
			    admin->public_key, g.sealed);
		if (r == 0)
			r = meta_grant_add(db, &g);
	}
	return r;
}

/* Undo a failed init: the files meta_db_open created, and dir if we made it. */
static void init_cleanup(const char *dir, bool made_dir)
{
	static const char *const files[] = {META_DB_NAME, META_DB_NAME "-wal", META_DB_NAME "-shm",
					    META_DB_NAME "-journal"};
	char path[4096];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, META_OBJECTS_DIR);
	rmdir(path);
	if (made_dir)
		rmdir(dir);
}

int kt_vault_init(const char *dir, const struct kt_init_options *opt)
{
	struct init_secrets *sec = NULL;
	struct meta_db *db = NULL;
	struct meta_user admin;
	char detail[META_DETAIL_MAX + 1];
	bool made_dir = false;
	int r;

	if (!dir || !*dir)
		return -EINVAL;
	r = init_options_valid(opt);
	if (r < 0)
		return r;
	/* the slow KDF before anything exists on disk */
	r = make_user(opt->admin, opt->admin_uid, opt->passphrase, opt->passphrase_len, opt->kdf,
		      &admin);
	if (r < 0)
		return r;
	sec = sodium_malloc(sizeof(*sec));
	if (!sec)
		return -ENOMEM;

	if (mkdir(dir, 0700) == 0)
		made_dir = true;
	else if (errno != EEXIST) {
		r = -errno;
		goto out;
	}
	r = meta_db_open(dir, META_OPEN_CREATE, &db);
	if (r < 0) {
		if (made_dir)
			rmdir(dir);
		goto out;
	}
	r = meta_tx_begin(db);
	if (r == 0) {
		r = init_keys(db, opt, &admin, sec);
		snprintf(detail, sizeof(detail), "admin=%s kdf=%s", opt->admin,
			 kt_kdf_profile_name(opt->kdf));
		if (r == 0)
			r = kt_record(db, opt->admin, "init", detail, META_OUTCOME_OK);
		if (r == 0)
			r = meta_tx_commit(db);
		else
			meta_tx_rollback(db);
	}
	db = meta_db_close(db);
	if (r < 0)
		init_cleanup(dir, made_dir);
out:
	sodium_free(sec);
	return r;
}
