/*
 * keytool/names.h — names in the key hierarchy (keytool/names.c): the rules
 * for user and role names, and the vault's level names: configured, default
 * and English aliases, and the refused level 4; lists of levels, parsed and
 * formatted.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta/db.h"

/* Default level names (DESIGN.md §3); level 4 is refused, never stored. */
extern const char *const kt_default_level_names[META_LEVELS];

/* Name rules for users and roles: [a-z_][a-z0-9_.-]{0,63}. */
bool kt_name_valid(const char *name);
/* The configured name of level 0..3 (vault_config level_name.N, else the
 * default) into buf; -EINVAL for another level, -ENOBUFS if buf is too small. */
int kt_level_name(struct meta_db *db, uint8_t level, char *buf, size_t len);
/* Parse a level given as a number or a (configured) level name; -EINVAL if
 * neither; returns 4 for the refused level so the caller can record it. */
int kt_level_parse(struct meta_db *db, const char *text, uint8_t *ret_level);
/*
 * Parse a list of levels, as the CLI takes them: levels separated by commas
 * ("0,2", "Intern,3"), each as kt_level_parse takes it, into a bit mask (bit
 * L for level L). The caller handles "none" if it takes it. On error
 * *ret_bad and *ret_bad_len (each may be NULL) give the first part of text
 * that is not a level (not NUL-terminated): -EPERM it names level 4, which
 * is never stored; -EINVAL it is no level (an empty part included); or
 * kt_level_parse's error reading the level names. No output.
 */
int kt_levels_parse(struct meta_db *db, const char *text, uint32_t *ret_levels,
		    const char **ret_bad, size_t *ret_bad_len);
/* "0,1,2", or "none" for no level, into buf (16 bytes hold every set). */
void kt_format_levels(uint32_t levels, char *buf, size_t size);
