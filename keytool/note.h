/*
 * keytool/note.h — signed notes and transparency-log checkpoints, as the
 * C2SP specifications write them (c2sp.org/signed-note, tlog-checkpoint).
 *
 * A signed note is UTF-8 text ending in a newline, a blank line, and one or
 * more signature lines "— NAME BASE64(key id || signature)". vaultfs signs
 * with Ed25519 (signature type 0x01): key id = the first four bytes, big-
 * endian, of SHA-256(name || 0x0A || 0x01 || public key). A checkpoint is a
 * note whose text is the log's origin, its tree size in decimal and its root
 * hash in base64, one per line, then optional extension lines.
 *
 * A verifier key is written as Go's golang.org/x/mod/sumdb/note writes one,
 * "NAME+KEYID(8 hex)+BASE64(0x01 || public key)", so that the tools of the
 * transparency-log world can check vaultfs's checkpoints too.
 *
 * Errors: -EPROTO a malformed note, key or checkpoint; -ENOKEY no signature
 * by the given key; -EBADMSG a signature by that key that does not verify
 * (the whole note is then refused); -ENOMEM; -EINVAL a bad argument.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define KT_NOTE_NAME_MAX      255	  /* bytes of a key name */
#define KT_NOTE_MAX_BYTES     (64 * 1024) /* of a whole note */
#define KT_NOTE_MAX_SIGS      64	  /* signature lines read (the spec asks >= 16) */
#define KT_NOTE_SIGN_PK_BYTES 32
#define KT_NOTE_SIGN_SK_BYTES 64 /* libsodium's Ed25519 secret key: seed || public key */
#define KT_CHECKPOINT_MAX_EXT 8	 /* extension lines */

/* A key that may sign notes: its name, id and Ed25519 public key. */
struct kt_note_verifier {
	char name[KT_NOTE_NAME_MAX + 1];
	uint32_t id;
	uint8_t public_key[KT_NOTE_SIGN_PK_BYTES];
};

/* The verifier of (name, public key); -EPROTO for a name the spec forbids. */
int kt_note_verifier_make(const char *name, const uint8_t public_key[KT_NOTE_SIGN_PK_BYTES],
			  struct kt_note_verifier *ret);
/* "NAME+KEYID+BASE64(0x01 || public key)", malloc'd. */
int kt_note_verifier_format(const struct kt_note_verifier *v, char **ret);
/* Parse that form; -EPROTO when malformed or its key id does not match. */
int kt_note_verifier_parse(const char *text, struct kt_note_verifier *ret);

/*
 * Sign text (which must end in a newline and be a valid note text) as key
 * name: the whole note, malloc'd and NUL-terminated, into *ret.
 */
int kt_note_sign(const char *text, const char *name,
		 const uint8_t secret_key[KT_NOTE_SIGN_SK_BYTES], char **ret);

/*
 * Check note (len bytes, no NUL needed) against v: 0 and the note's text
 * (malloc'd, NUL-terminated) into *ret_text when a signature by v verifies.
 * Signatures by other keys are ignored, as the spec says.
 */
int kt_note_open(const char *note, size_t len, const struct kt_note_verifier *v, char **ret_text);

/* The text of a checkpoint. */
struct kt_checkpoint {
	char origin[KT_NOTE_NAME_MAX + 1];
	uint64_t size;
	uint8_t root[32];
	char *ext[KT_CHECKPOINT_MAX_EXT]; /* extension lines (malloc'd), no newline */
	size_t n_ext;
};

/* The note text of c, malloc'd. -EPROTO when a line would be malformed. */
int kt_checkpoint_format(const struct kt_checkpoint *c, char **ret);
/* Parse a note text (as kt_note_open returns it) into *ret; free with kt_checkpoint_clear. */
int kt_checkpoint_parse(const char *text, struct kt_checkpoint *ret);
void kt_checkpoint_clear(struct kt_checkpoint *c);
