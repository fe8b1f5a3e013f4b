/*
 * tests/unit/test_session.c — the daemon's per-caller sessions: single-user
 * and per-uid sessions, unlock and lock, pinned sessions outliving a lock,
 * idle expiry per level (clearance and keys), refresh keeping expired levels
 * wiped, every expiry of a tick reported however many, and the
 * --idle-timeout parser (timeouts too large for nanoseconds refused).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keytool/keystore.h"
#include "vaultfs/session.h"
#include "tests/unit/testutil.h"

#define PASS "session-test-passphrase"

static char *dir;
static struct meta_db *db;

static void setup(void)
{
	struct kt_init_options opt = {
	    .admin = "admin",
	    .passphrase = PASS,
	    .passphrase_len = strlen(PASS),
	    .kdf = KT_KDF_TEST,
	    .admin_uid = -1,
	};
	struct kt_keyring *admin = NULL;

	ck_assert_int_eq(kt_crypto_init(), 0);
	dir = tu_tmpdir();
	ck_assert_int_eq(kt_vault_init(dir, &opt), 0);
	ck_assert_int_eq(meta_db_open(dir, META_OPEN_RW, &db), 0);
	ck_assert_int_eq(kt_unlock(db, "admin", PASS, strlen(PASS), &admin), 0);
	/* the administrator also holds every level, through the owner role */
	ck_assert_int_eq(kt_grant(db, admin, "admin", "owner", 0), 0);
	kt_keyring_free(admin);
}

static void teardown(void)
{
	meta_db_close(db);
	tu_rmrf(dir);
	free(dir);
}

static struct kt_keyring *keys(void)
{
	struct kt_keyring *kr = NULL;

	ck_assert_int_eq(kt_unlock(db, "admin", PASS, strlen(PASS), &kr), 0);
	ck_assert_uint_eq(kt_keyring_readable(kr), 0xf);
	return kr;
}

/* The expiries reported: all counted, the first 16 kept. */
struct events {
	int n;
	int wiped; /* level -1: a session's keys wiped */
	int level[16];
	uid_t uid[16];
};

static void note_event(void *ctx, uid_t uid, const char *user, int level)
{
	struct events *e = ctx;

	(void)user;
	if (e->n < 16) {
		e->uid[e->n] = uid;
		e->level[e->n] = level;
	}
	e->n++;
	if (level < 0)
		e->wiped++;
}

START_TEST(single_user_serves_every_uid)
{
	struct vfs_sessions *t = vfs_sessions_new(NULL);
	struct vfs_session *s;

	ck_assert_int_eq(vfs_session_unlock(t, VFS_ANY_UID, "admin", keys()), 0);
	s = vfs_session_get(t, 1234);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(s->keyring);
	ck_assert_ptr_nonnull(s->meta_keys);
	ck_assert_str_eq(s->user, "admin");
	ck_assert_uint_eq(s->readable, 0xf);
	ck_assert(s->may_declassify);
	vfs_session_put(t, s);
	vfs_sessions_free(t);
}
END_TEST

START_TEST(per_uid_unlock_and_lock)
{
	struct vfs_sessions *t = vfs_sessions_new(NULL);
	struct vfs_session *s;

	s = vfs_session_add(t, 1000, "anna");
	ck_assert_ptr_null(s->keyring);
	vfs_session_put(t, s);
	ck_assert_ptr_null(vfs_session_get(t, 1001)); /* another uid: nothing */
	ck_assert_int_eq(vfs_session_unlock(t, 1000, "anna", keys()), 0);
	s = vfs_session_get(t, 1000);
	ck_assert_ptr_nonnull(s->keyring);
	vfs_session_put(t, s);
	ck_assert_ptr_null(vfs_session_get(t, 1001)); /* anna's unlock is not 1001's */
	ck_assert_int_eq(vfs_session_lock(t, 1000), 0);
	s = vfs_session_get(t, 1000);
	ck_assert_ptr_null(s->keyring);
	ck_assert_str_eq(s->user, "anna");
	vfs_session_put(t, s);
	ck_assert_int_eq(vfs_session_lock(t, 1000), -ENOENT);
	ck_assert_int_eq(vfs_session_lock(t, 4242), -ENOENT);
	vfs_sessions_free(t);
}
END_TEST

/* A request that pinned the session before a lock keeps valid keys until it
 * ends; the session is marked dead and freed by its last unpin. */
START_TEST(pinned_session_outlives_lock)
{
	struct vfs_sessions *t = vfs_sessions_new(NULL);
	struct vfs_session *s, *cur;
	const uint8_t *k;
	uint32_t ver;

	ck_assert_int_eq(vfs_session_unlock(t, 1000, "anna", keys()), 0);
	s = vfs_session_get(t, 1000);
	ck_assert_int_eq(vfs_session_lock(t, 1000), 0);
	ck_assert(__atomic_load_n(&s->dead, __ATOMIC_ACQUIRE));
	ck_assert_int_eq(kt_keyring_level_current(s->keyring, 2, &ver, &k), 0);
	cur = vfs_session_get(t, 1000);
	ck_assert_ptr_ne(cur, s);
	ck_assert_ptr_null(cur->keyring);
	vfs_session_put(t, cur);
	vfs_session_put(t, s); /* freed here (ASan would see a leak or a use after free) */
	vfs_sessions_free(t);
}
END_TEST

START_TEST(idle_expiry_per_level)
{
	struct vfs_idle idle = {{0, 0, 60, 10}}; /* level 2 after 60 s, 3 after 10 s */
	struct vfs_sessions *t = vfs_sessions_new(&idle);
	struct vfs_session *s;
	struct events ev = {0};
	const uint8_t *k;
	uint32_t ver;
	int64_t now = meta_now_ns();

	ck_assert_int_eq(vfs_session_unlock(t, 1000, "anna", keys()), 0);
	s = vfs_session_get(t, 1000);
	vfs_sessions_expire(t, now + 5 * 1000000000ll, note_event, &ev);
	ck_assert_int_eq(ev.n, 0);
	vfs_sessions_expire(t, now + 11 * 1000000000ll, note_event, &ev);
	ck_assert_int_eq(ev.n, 1);
	ck_assert_int_eq(ev.level[0], 3);
	ck_assert_uint_eq(ev.uid[0], 1000);
	ck_assert_uint_eq(s->readable, 0x7);
	ck_assert_uint_eq(s->expired, 0x8);
	/* using level 2 keeps it alive */
	vfs_session_touch(s, 2);
	vfs_sessions_expire(t, meta_now_ns() + 30 * 1000000000ll, note_event, &ev);
	ck_assert_int_eq(ev.n, 1);
	/* the daemon wipes an expired level's keys; a refresh keeps them wiped */
	kt_keyring_forget_level(s->keyring, 3);
	ck_assert_int_eq(kt_keyring_level_current(s->keyring, 3, &ver, &k), -ENOKEY);
	ck_assert_int_eq(kt_keyring_refresh(db, s->keyring), 0);
	vfs_session_refreshed(t, s);
	ck_assert_int_eq(kt_keyring_level_current(s->keyring, 3, &ver, &k), -ENOKEY);
	ck_assert_uint_eq(s->readable, 0x7);
	ck_assert_int_eq(kt_keyring_level_current(s->keyring, 2, &ver, &k), 0);
	vfs_session_put(t, s);
	vfs_sessions_free(t);
}
END_TEST

START_TEST(all_levels_expired_wipes_keys)
{
	struct vfs_idle idle = {{10, 10, 10, 10}};
	struct vfs_sessions *t = vfs_sessions_new(&idle);
	struct vfs_session *s;
	struct events ev = {0};

	ck_assert_int_eq(vfs_session_unlock(t, 1000, "anna", keys()), 0);
	vfs_sessions_expire(t, meta_now_ns() + 11 * 1000000000ll, note_event, &ev);
	ck_assert_int_eq(ev.n, 5); /* four levels, then the whole session */
	ck_assert_int_eq(ev.level[4], -1);
	s = vfs_session_get(t, 1000);
	ck_assert_ptr_null(s->keyring);
	vfs_session_put(t, s);
	vfs_sessions_free(t);
}
END_TEST

/* Issue 10, item 2: expiries past the 64th of one tick were applied and
 * never reported, so never recorded. */
START_TEST(every_expiry_reported)
{
	struct vfs_idle idle = {{10, 10, 10, 10}};
	struct vfs_sessions *t = vfs_sessions_new(&idle);
	struct events ev = {0};
	const int users = 100;

	for (int i = 0; i < users; i++)
		ck_assert_int_eq(vfs_session_unlock(t, (uid_t)(1000 + i), "anna", keys()), 0);
	vfs_sessions_expire(t, meta_now_ns() + 11 * 1000000000ll, note_event, &ev);
	ck_assert_int_eq(ev.n, users * (META_LEVELS + 1)); /* each level, then the keys */
	ck_assert_int_eq(ev.wiped, users);
	for (int i = 0; i < users; i++) {
		struct vfs_session *s = vfs_session_get(t, (uid_t)(1000 + i));

		ck_assert_ptr_null(s->keyring);
		vfs_session_put(t, s);
	}
	vfs_sessions_free(t);
}
END_TEST

START_TEST(idle_parse)
{
	struct vfs_idle idle = {{1, 2, 3, 4}};

	ck_assert_int_eq(vfs_idle_parse("0=8h,2=30m,3=45s", &idle), 0);
	ck_assert_int_eq(idle.seconds[0], 8 * 3600);
	ck_assert_int_eq(idle.seconds[1], 2); /* untouched */
	ck_assert_int_eq(idle.seconds[2], 30 * 60);
	ck_assert_int_eq(idle.seconds[3], 45);
	ck_assert_int_eq(vfs_idle_parse("1=2d", &idle), 0);
	ck_assert_int_eq(idle.seconds[1], 2 * 86400);
	ck_assert_int_eq(vfs_idle_parse("4=1h", &idle), -EINVAL);
	ck_assert_int_eq(vfs_idle_parse("1=", &idle), -EINVAL);
	ck_assert_int_eq(vfs_idle_parse("1=5x", &idle), -EINVAL);
	ck_assert_int_eq(vfs_idle_parse("x=5", &idle), -EINVAL);
	ck_assert_int_eq(vfs_idle_parse("1=-5", &idle), -EINVAL);
	ck_assert_int_eq(vfs_idle_parse("1=+5", &idle), -EINVAL);
	ck_assert_int_eq(vfs_idle_parse("1= 5", &idle), -EINVAL);
	ck_assert_int_eq(vfs_idle_parse("+1=5", &idle), -EINVAL);
	ck_assert_int_eq(idle.seconds[1], 2 * 86400); /* a bad spec changes nothing */
}
END_TEST

/*
 * Issue 10, item 7: timeouts are counted in int64_t nanoseconds, so the
 * longest is 9223372036 s (106751 whole days). What does not fit is refused
 * (it overflowed, and the level expired at once instead of never).
 */
START_TEST(idle_parse_range)
{
	struct vfs_idle idle = {{1, 2, 3, 4}};
	struct vfs_sessions *t;
	struct vfs_session *s;
	struct events ev = {0};

	ck_assert_int_eq(vfs_idle_parse("3=9999999999999999999d", &idle),
			 -ERANGE); /* past strtoll */
	ck_assert_int_eq(vfs_idle_parse("3=9223372036854775807", &idle), -ERANGE); /* past ns */
	ck_assert_int_eq(vfs_idle_parse("3=9223372037s", &idle), -ERANGE);	   /* 1 s past */
	ck_assert_int_eq(vfs_idle_parse("3=153722868m", &idle), -ERANGE);	   /* 1 min past */
	ck_assert_int_eq(vfs_idle_parse("3=2562048h", &idle), -ERANGE);		   /* 1 h past */
	ck_assert_int_eq(vfs_idle_parse("3=106752d", &idle), -ERANGE);		   /* 1 day past */
	ck_assert_int_eq(vfs_idle_parse("0=1h,3=106752d", &idle), -ERANGE);
	ck_assert_int_eq(vfs_idle_parse("3=99999999999999999999x", &idle),
			 -EINVAL);	      /* malformed first */
	ck_assert_int_eq(idle.seconds[0], 1); /* a refused spec changes nothing */
	ck_assert_int_eq(idle.seconds[3], 4);
	ck_assert_int_eq(vfs_idle_parse("0=9223372036s,1=153722867m,2=2562047h,3=106751d", &idle),
			 0);
	ck_assert_int_eq(idle.seconds[0], 9223372036ll);
	ck_assert_int_eq(idle.seconds[1], 153722867ll * 60);
	ck_assert_int_eq(idle.seconds[2], 2562047ll * 3600);
	ck_assert_int_eq(idle.seconds[3], 106751ll * 86400);

	/* The longest timeouts do not expire a session used a moment ago, even
	 * asked a century later; nor do values past them set by a caller. */
	t = vfs_sessions_new(&idle);
	ck_assert_int_eq(vfs_session_unlock(t, 1000, "anna", keys()), 0);
	vfs_sessions_expire(t, meta_now_ns() + 100ll * 366 * 86400 * 1000000000, note_event, &ev);
	ck_assert_int_eq(ev.n, 0);
	vfs_sessions_free(t);
	idle = (struct vfs_idle){{INT64_MAX, 9223372037ll, INT64_MAX / 60, -1}};
	t = vfs_sessions_new(&idle);
	ck_assert_int_eq(vfs_session_unlock(t, 1000, "anna", keys()), 0);
	vfs_sessions_expire(t, meta_now_ns() + 3600 * 1000000000ll, note_event, &ev);
	ck_assert_int_eq(ev.n, 0);
	s = vfs_session_get(t, 1000);
	ck_assert_uint_eq(s->readable, 0xf);
	vfs_session_put(t, s);
	vfs_sessions_free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("sessions");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, single_user_serves_every_uid);
	tcase_add_test(tc, per_uid_unlock_and_lock);
	tcase_add_test(tc, pinned_session_outlives_lock);
	tcase_add_test(tc, idle_expiry_per_level);
	tcase_add_test(tc, all_levels_expired_wipes_keys);
	tcase_add_test(tc, every_expiry_reported);
	tcase_add_test(tc, idle_parse);
	tcase_add_test(tc, idle_parse_range);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
