/*
 * Files that hold secrets (SPEC ): atomic replacement through a temp
 * file with an unpredictable name, created O_EXCL|O_NOFOLLOW and never
 * wider than 0600 while it is written; append-only private files (the key
 * log); the state directory's check and the sweep of temp files a crash
 * left in it.
 */
#ifndef CORE_FILES_H
#define CORE_FILES_H

#include <stddef.h>
#include <sys/types.h>

/* The temp file of NAME is ".NAME.tmp-" and 16 random hex digits, beside it. */
#define FILE_TEMP_TAG		".tmp-"
#define FILE_TEMP_RAND_BYTES	8
#define FILE_WHY_MAX		256	/* the reason buffers below */

/* Replaces path atomically: a temp file beside it (never wider than 0600
 * while written), fsync, fchmod to mode, rename, fsync of the folder; a
 * crash leaves the old file or the new one, and at worst a temp file that
 * file_temp_sweep removes. -1 with errno; the temp file is gone then. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* Makes dir (0700) if it is missing and checks it: a directory owned by the
 * effective uid, writable by nobody else, reached without an untrusted
 * symlink. Group/other read bits are removed (logged). -1 with the reason
 * in why (the caller logs it). */
int state_dir_prepare(const char *dir, char *why, size_t whysize);
/* Removes the temp files an interrupted write left in dir (regular files
 * owned by us, with our temp names; each removal logged). The number
 * removed, -1 (errno) when dir cannot be read. */
int file_temp_sweep(const char *dir);
/* Opens path to append, created 0600 (O_NOFOLLOW). -1 with the reason in
 * why when it cannot be opened or is not a regular file owned by us. */
int file_open_append(const char *path, char *why, size_t whysize);

#endif
