/*
 * keytool/mountctl.h — talking to a running multi-user mount: unlock, lock,
 * status (the client side of keytool/control-proto.h).
 *
 * Each returns a CLI exit code and prints one line (the daemon's answer on
 * stdout, or what went wrong on stderr).
 */
#pragma once

/* Unlock the calling user's keys in the mount at mountpoint; the passphrase
 * from passphrase_file or the terminal. */
int mountctl_unlock(const char *mountpoint, const char *passphrase_file);
int mountctl_lock(const char *mountpoint);
int mountctl_status(const char *mountpoint);
