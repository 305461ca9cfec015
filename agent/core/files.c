/*
 * Files that hold secrets (SPEC ): written atomically through a temp
 * file beside the target, with an unpredictable name, created
 * O_EXCL|O_NOFOLLOW and at most 0600; the state directory checked before
 * the agent uses it; temp files a crash left there swept at start; the key
 * log opened append-only, 0600, never through a symlink.
 */
#include "core/files.h"
#include "core/log.h"
#include "core/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEMP_TRIES	8	/* name collisions tolerated (64 random bits each) */
#define TEMP_HEX	(2 * FILE_TEMP_RAND_BYTES)

/* ---- atomic replacement ------------------------------------------------ */

/* Opens the folder of path (O_DIRECTORY) and points *name at the last
 * component, so that the temp file and the rename stay in that folder. */
static int
dir_of(const char *path, const char **name)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	size_t len;

	if (slash == NULL) {
		*name = path;
		return open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	len = (size_t)(slash - path);
	if (slash[1] == '\0' || len >= sizeof(dir)) {
		errno = slash[1] == '\0' ? EISDIR : ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, len);
	dir[len] = '\0';
	*name = slash + 1;
	return open(len > 0 ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Creates ".NAME.tmp-<16 random hex>" in dfd, never following a link and
 * never opening a file that already exists; tmp is empty on failure. */
static int
temp_create(int dfd, const char *name, mode_t mode, char *tmp, size_t size)
{
	char rnd[TEMP_HEX + 1];
	int fd = -1;

	for (int i = 0; i < TEMP_TRIES && fd == -1; i++) {
		random_hex(rnd, FILE_TEMP_RAND_BYTES);
		if (snprintf(tmp, size, ".%s%s%s", name, FILE_TEMP_TAG, rnd) >= (int)size) {
			errno = ENAMETOOLONG;
			break;
		}
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    mode & 0600);
		if (fd == -1 && errno != EEXIST)
			break;
	}
	if (fd == -1)
		tmp[0] = '\0';
	return fd;
}

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[NAME_MAX + 1] = "";
	const char *name;
	int dfd, fd = -1, rc = -1, saved;

	if ((dfd = dir_of(path, &name)) == -1)
		return -1;
	if ((fd = temp_create(dfd, name, mode, tmp, sizeof(tmp))) == -1)
		goto done;
	if (write_all(fd, data, len) == -1 || fchmod(fd, mode) == -1 || fsync(fd) == -1)
		goto done;
	rc = close(fd);
	fd = -1;
	if (rc == -1 || (rc = renameat(dfd, tmp, dfd, name)) == -1)
		goto done;
	tmp[0] = '\0';			/* it is the file now */
	rc = fsync(dfd);
done:
	saved = errno;
	if (fd != -1)
		close(fd);
	if (tmp[0] != '\0')
		unlinkat(dfd, tmp, 0);
	close(dfd);
	errno = saved;
	return rc;
}

/* ---- the state directory ----------------------------------------------- */

static int
owner_ok(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* A symlink only we or root could have made: owned by one of us, in a
 * folder of one of us that nobody else may write. That is root's own
 * layout (systemd's StateDirectory= with DynamicUser= makes /var/lib/NAME
 * a link to private/NAME), never a link planted in a shared folder. */
static int
link_trusted(const char *path, const struct stat *lst)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (!owner_ok(lst->st_uid))
		return 0;
	if (slash == NULL)
		str_copy(parent, sizeof(parent), ".");
	else if (slash == path)
		str_copy(parent, sizeof(parent), "/");
	else
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
	return stat(parent, &st) == 0 && owner_ok(st.st_uid) &&
	       (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

/* The folder itself, opened: ours, writable by nobody else; group/other
 * read and search bits taken away. */
static int
dir_fd_check(int fd, const char *dir, char *why, size_t whysize)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		snprintf(why, whysize, "cannot be examined: %s", strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whysize, "is not a directory");
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(why, whysize, "is owned by uid %u, not by this process (uid %u)",
			 (unsigned)st.st_uid, (unsigned)geteuid());
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, whysize, "is writable by group or others (mode %04o); it holds "
			 "private keys: make it 0700", (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if ((st.st_mode & 077) == 0)
		return 0;
	if (fchmod(fd, 0700) == -1) {
		snprintf(why, whysize, "is readable by group or others (mode %04o) and cannot "
			 "be made 0700: %s", (unsigned)(st.st_mode & 07777), strerror(errno));
		return -1;
	}
	log_warnx("state dir %s was readable by group or others (mode %04o); now 0700", dir,
		  (unsigned)(st.st_mode & 07777));
	return 0;
}

int
state_dir_prepare(const char *dir, char *why, size_t whysize)
{
	int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, fd, rc;
	char path[PATH_MAX];
	size_t len;
	struct stat st;

	/* "dir/" would make lstat follow a link */
	if (str_copy(path, sizeof(path), dir) == -1 || (len = strlen(path)) == 0) {
		snprintf(why, whysize, "is not a usable path");
		return -1;
	}
	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		snprintf(why, whysize, "cannot be created: %s", strerror(errno));
		return -1;
	}
	if (lstat(path, &st) == -1) {
		snprintf(why, whysize, "cannot be examined: %s", strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		if (!link_trusted(path, &st)) {
			snprintf(why, whysize, "is a symbolic link (owned by uid %u) that someone "
				 "else could have made; give the real directory",
				 (unsigned)st.st_uid);
			return -1;
		}
		flags &= ~O_NOFOLLOW;
	}
	if ((fd = open(path, flags)) == -1) {
		if (errno == ENOTDIR || errno == ELOOP)
			snprintf(why, whysize, "is not a directory");
		else
			snprintf(why, whysize, "cannot be opened: %s", strerror(errno));
		return -1;
	}
	rc = dir_fd_check(fd, path, why, whysize);
	close(fd);
	return rc;
}

/* ---- stale temp files -------------------------------------------------- */

/* Ours: ".NAME.tmp-" and 16 lowercase hex digits (file_write_atomic), or
 * "NAME.tmp.PID", the predictable name older agents used. */
static int
temp_name_ours(const char *n)
{
	size_t len = strlen(n), tag = strlen(FILE_TEMP_TAG);
	const char *p;

	if (n[0] == '.' && len > 1 + tag + TEMP_HEX) {
		p = n + len - TEMP_HEX;
		if (strspn(p, "0123456789abcdef") == TEMP_HEX &&
		    strncmp(p - tag, FILE_TEMP_TAG, tag) == 0)
			return 1;
	}
	p = strrchr(n, '.');
	return p != NULL && p - n > 4 && strncmp(p - 4, ".tmp", 4) == 0 && p[1] != '\0' &&
	       strspn(p + 1, "0123456789") == strlen(p + 1);
}

int
file_temp_sweep(const char *dir)
{
	struct dirent *e;
	struct stat st;
	DIR *dp;
	int dfd, n = 0;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if ((dp = fdopendir(dfd)) == NULL) {
		close(dfd);
		return -1;
	}
	while ((e = readdir(dp)) != NULL) {
		if (!temp_name_ours(e->d_name) ||
		    fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
			log_warnx("%s/%s has a temp file's name but is not a regular file of "
				  "ours; left alone", dir, e->d_name);
			continue;
		}
		if (unlinkat(dfd, e->d_name, 0) == -1) {
			log_warn("cannot remove the stale temp file %s/%s", dir, e->d_name);
			continue;
		}
		log_info("removed %s/%s (%lld bytes), a temp file an interrupted write left",
			 dir, e->d_name, (long long)st.st_size);
		n++;
	}
	closedir(dp);
	return n;
}

/* ---- append-only private files ----------------------------------------- */

static int
append_fd_check(int fd, const char *path, char *why, size_t whysize)
{
	struct stat st;

	if (fstat(fd, &st) == -1) {
		snprintf(why, whysize, "cannot be examined: %s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whysize, "is not a regular file");
		return -1;
	}
	if (st.st_uid != geteuid()) {
		snprintf(why, whysize, "is owned by uid %u, not by this process (uid %u)",
			 (unsigned)st.st_uid, (unsigned)geteuid());
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		if (fchmod(fd, 0600) == -1) {
			snprintf(why, whysize, "cannot be made 0600: %s", strerror(errno));
			return -1;
		}
		log_warnx("%s was readable by group or others (mode %04o); now 0600", path,
			  (unsigned)(st.st_mode & 07777));
	}
	if (fcntl(fd, F_SETFL, O_APPEND) == -1) {	/* O_NONBLOCK off */
		snprintf(why, whysize, "cannot be set up: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
file_open_append(const char *path, char *why, size_t whysize)
{
	/* O_NONBLOCK: a FIFO planted at path must not hang the open (refused
	 * below, like any file that is not a regular one of ours) */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		      0600);

	if (fd == -1) {
		if (errno == ELOOP)
			snprintf(why, whysize, "is a symbolic link");
		else if (errno == ENXIO)
			snprintf(why, whysize, "is not a regular file");
		else
			snprintf(why, whysize, "cannot be opened: %s", strerror(errno));
		return -1;
	}
	if (append_fd_check(fd, path, why, whysize) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}
