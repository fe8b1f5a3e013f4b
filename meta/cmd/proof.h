/*
 * meta/cmd/proof.h — the proof file of vaultfs-meta (docs/format.md §12): one
 * access record, its leaf index, the tree size, the audit path and the signed
 * checkpoint it leads to, as one self-contained text file that anyone holding
 * the vault's verifier key can check, without the vault.
 *
 *	vaultfs-proof v1
 *	index I
 *	size N
 *	record BASE64(canonical bytes, §10)
 *	path K
 *	BASE64(hash)			(K lines, from the leaf upwards)
 *	checkpoint
 *	the signed note, verbatim, to the end of the file
 *
 * Only vaultfs-meta writes and reads it (prove, verify-proof), so it lives
 * with the command; a library of its own (like out.c) so that
 * tests/unit/test_proof.c can reach it. Parsing is strict and bounded: every
 * line as written by proof_format, decimal without leading zeros, canonical
 * base64, at most PROOF_FILE_MAX bytes; anything else is -EPROTO (-EFBIG for
 * oversize), never a crash.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "keytool/note.h"
#include "meta/records.h"
#include "meta/tlog.h"

#define PROOF_MAGIC	 "vaultfs-proof v1"
#define PROOF_RECORD_MAX (64 * 1024) /* canonical bytes of one record */
#define PROOF_FILE_MAX	 (256 * 1024)

/* A proof file's content. */
struct proof {
	uint64_t index;	   /* the record's leaf index */
	uint64_t size;	   /* the tree size (the checkpoint's) */
	uint8_t *record;   /* the record's canonical bytes (malloc'd) */
	size_t record_len; /* 1..PROOF_RECORD_MAX */
	uint8_t path[META_TLOG_MAX_PROOF][META_TLOG_HASH_BYTES]; /* audit path, leaf upwards */
	size_t path_len;					 /* hashes in path */
	char *note;	 /* the signed checkpoint note (malloc'd, NUL-terminated) */
	size_t note_len; /* its bytes, without the NUL */
};

/* Free what p owns and zero it; takes NULL. */
void proof_clear(struct proof *p);

/* The file's text (malloc'd, NUL-terminated) into *ret, its length into
 * *ret_len. -EINVAL for a proof that would not parse back. */
int proof_format(const struct proof *p, char **ret, size_t *ret_len);

/* Parse len bytes of a proof file; *ret is written only on success. */
int proof_parse(const char *text, size_t len, struct proof *ret);

/*
 * Decode canonical record bytes (§10, encoding version 1) into *ret: strict
 * (lengths within the fields' limits, no NUL inside a string, nothing left
 * over, and the bytes re-encode identically). ret's path_enc and path2_enc
 * are malloc'd (free with meta_record_clear). -EPROTO when malformed.
 */
int proof_record_decode(const uint8_t *bytes, size_t len, struct meta_record *ret);

/*
 * Check p with the verifier key v: the checkpoint's signature and origin,
 * that its size is p's, that the record's bytes are well formed and that the
 * audit path leads from its leaf to the checkpoint's root. 0 when it holds,
 * and *ret_cp (may be NULL; free with kt_checkpoint_clear) gets the
 * checkpoint. Else a negative errno and *ret_reason one line saying what
 * failed (static text): -ENOKEY not signed by v, -EBADMSG a signature or a
 * path that fails, -EPROTO malformed or another vault's, -ENOMEM.
 */
int proof_verify(const struct proof *p, const struct kt_note_verifier *v,
		 struct kt_checkpoint *ret_cp, const char **ret_reason);
