/*
 * keytool/record.c — the access records of key operations: who they name
 * (this process, or the actor a daemon sets for a peer) and their fields.
 */
#include "keytool/record.h"
#include "keytool/internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "meta/records.h"

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
	kt_copy_printable(buf, size, line[0] ? line : program_invocation_short_name);
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
	kt_copy_printable(actor.comm, sizeof(actor.comm), comm ? comm : "?");
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
	kt_copy_printable(rec.user, sizeof(rec.user), user);
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
	kt_copy_printable(rec.detail, sizeof(rec.detail), detail);
	return meta_log_append(db, &rec);
}

int kt_record(struct meta_db *db, const char *user, const char *op, const char *detail, int outcome)
{
	return kt_record_file(db, user, op, 0, -1, detail, outcome);
}

/* "2026-11-22T10:00:00Z" for a detail line. */
void kt_format_utc(int64_t ns, char *buf, size_t size)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "@%lld", (long long)t);
}
