/*
 * Files that hold secrets (agent/core/files.c, R-13.9): a symlink planted
 * where a temp file could be is never followed, new files are 0600 whatever
 * the umask, the state directory is checked before use, only our stale temp
 * files are swept, and the key log opens append-only, 0600, never through
 * a symlink or into a FIFO.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/files.h"
#include "core/util.h"

#define NOBODY 65534	/* a uid that is not ours (tests that chown run as root) */

struct dir {
	char path[64];
	mode_t umask_was;
};

static int
setup(void **state)
{
	struct dir *d = xcalloc(1, sizeof(*d));

	str_copy(d->path, sizeof(d->path), "/tmp/test_files.XXXXXX");
	assert_non_null(mkdtemp(d->path));
	d->umask_was = umask(022);
	*state = d;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	chmod(path, 0700);	/* a test may have left a folder unreadable */
	return remove(path);
}

static int
teardown(void **state)
{
	struct dir *d = *state;

	nftw(d->path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	umask(d->umask_was);
	free(d);
	return 0;
}

static void
in(const struct dir *d, const char *name, char *out, size_t size)
{
	assert_true((size_t)snprintf(out, size, "%s/%s", d->path, name) < size);
}

static void
put(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
assert_content(const char *path, const char *want)
{
	char *text = NULL;

	assert_int_equal(file_read_all(path, 4096, &text, NULL), 0);
	assert_string_equal(text, want);
	free(text);
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* The names in a folder, sorted, joined by spaces. */
static void
listing(const char *dir, char *out, size_t size)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);

	assert_true(n >= 0);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (strcmp(ents[i]->d_name, ".") != 0 && strcmp(ents[i]->d_name, "..") != 0) {
			size_t used = strlen(out);

			snprintf(out + used, size - used, "%s%s", used ? " " : "", ents[i]->d_name);
		}
		free(ents[i]);
	}
	free(ents);
}

/* ---- file_write_atomic ------------------------------------------------- */

static void
test_atomic_write_mode_whatever_the_umask(void **state)
{
	struct dir *d = *state;
	char p[128];

	in(d, "config.json", p, sizeof(p));
	umask(0);
	assert_int_equal(file_write_atomic(p, "{}", 2, 0600), 0);
	assert_int_equal(mode_of(p), 0600);
	assert_content(p, "{}");
	umask(077);
	assert_int_equal(file_write_atomic(p, "{1}", 3, 0640), 0);
	assert_int_equal(mode_of(p), 0640);
	assert_content(p, "{1}");
}

/* The old temp name was "<path>.tmp.<pid>": anyone who could write the
 * folder could plant a symlink there and have the secret written through
 * it, and the link then renamed over the file. */
static void
test_atomic_write_ignores_planted_symlink(void **state)
{
	struct dir *d = *state;
	char p[128], tmp[160], victim[128];
	struct stat st;

	in(d, "config.json", p, sizeof(p));
	in(d, "victim", victim, sizeof(victim));
	put(victim, "untouched", 0644);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", p, (long)getpid());
	assert_int_equal(symlink(victim, tmp), 0);
	assert_int_equal(file_write_atomic(p, "PRIVATE KEY", 11, 0600), 0);
	assert_content(victim, "untouched");
	assert_int_equal(mode_of(victim), 0644);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_content(p, "PRIVATE KEY");
}

static void
test_atomic_write_leaves_no_temp_file(void **state)
{
	struct dir *d = *state;
	char p[128], sub[128], names[512];

	in(d, "config.json", p, sizeof(p));
	in(d, "sub", sub, sizeof(sub));
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(file_write_atomic(p, "a", 1, 0600), 0);
	assert_int_equal(file_write_atomic(p, "b", 1, 0600), 0);
	/* rename onto a folder fails: the temp file goes too */
	assert_int_equal(file_write_atomic(sub, "c", 1, 0600), -1);
	listing(d->path, names, sizeof(names));
	assert_string_equal(names, "config.json sub");
	assert_content(p, "b");
}

/* A symlink at the path itself is replaced, its target left alone. */
static void
test_atomic_write_replaces_a_link_at_the_path(void **state)
{
	struct dir *d = *state;
	char p[128], victim[128];
	struct stat st;

	in(d, "api-token", p, sizeof(p));
	in(d, "victim", victim, sizeof(victim));
	put(victim, "untouched", 0644);
	assert_int_equal(symlink(victim, p), 0);
	assert_int_equal(file_write_atomic(p, "t", 1, 0600), 0);
	assert_content(victim, "untouched");
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
}

/* ---- state_dir_prepare ------------------------------------------------- */

static int
prepare(const struct dir *d, const char *name, char *why)
{
	char p[128];

	in(d, name, p, sizeof(p));
	why[0] = '\0';
	return state_dir_prepare(p, why, FILE_WHY_MAX);
}

static void
test_state_dir_made_0700(void **state)
{
	struct dir *d = *state;
	char p[128], why[FILE_WHY_MAX];

	umask(0);
	assert_int_equal(prepare(d, "state", why), 0);
	in(d, "state", p, sizeof(p));
	assert_int_equal(mode_of(p), 0700);
	assert_int_equal(prepare(d, "state", why), 0);
}

static void
test_state_dir_readable_by_others_tightened(void **state)
{
	struct dir *d = *state;
	char p[128], why[FILE_WHY_MAX];

	in(d, "state", p, sizeof(p));
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(chmod(p, 0755), 0);
	assert_int_equal(prepare(d, "state", why), 0);
	assert_int_equal(mode_of(p), 0700);
}

static void
test_state_dir_writable_by_others_refused(void **state)
{
	static const mode_t modes[] = { 0770, 0730, 0702, 0777 };
	struct dir *d = *state;
	char p[128], why[FILE_WHY_MAX];

	in(d, "state", p, sizeof(p));
	assert_int_equal(mkdir(p, 0700), 0);
	for (size_t i = 0; i < ARRAY_LEN(modes); i++) {
		assert_int_equal(chmod(p, modes[i]), 0);
		if (prepare(d, "state", why) != -1)
			fail_msg("mode %04o accepted", (unsigned)modes[i]);
		assert_non_null(strstr(why, "writable"));
		assert_int_equal(mode_of(p), modes[i]);	/* refused, not "fixed" */
	}
}

static void
test_state_dir_not_a_directory_refused(void **state)
{
	struct dir *d = *state;
	char p[128], why[FILE_WHY_MAX];

	in(d, "state", p, sizeof(p));
	put(p, "", 0600);
	assert_int_equal(prepare(d, "state", why), -1);
	assert_non_null(strstr(why, "not a directory"));
}

static void
test_state_dir_untrusted_symlink_refused(void **state)
{
	struct dir *d = *state;
	char target[128], link[128], why[FILE_WHY_MAX];

	in(d, "real", target, sizeof(target));
	in(d, "state", link, sizeof(link));
	assert_int_equal(mkdir(target, 0700), 0);
	assert_int_equal(symlink(target, link), 0);
	/* in a folder others may write: anyone could have planted it */
	assert_int_equal(chmod(d->path, 0777), 0);
	assert_int_equal(prepare(d, "state", why), -1);
	assert_non_null(strstr(why, "symbolic link"));
	assert_int_equal(chmod(d->path, 0700), 0);
	/* a dangling link is refused too, and no folder is made through it */
	assert_int_equal(unlink(link), 0);
	assert_int_equal(rmdir(target), 0);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(chmod(d->path, 0777), 0);
	assert_int_equal(prepare(d, "state", why), -1);
	assert_false(exists(target));
	assert_int_equal(chmod(d->path, 0700), 0);
	if (geteuid() != 0)
		return;
	/* owned by someone else, even in our own folder */
	assert_int_equal(mkdir(target, 0700), 0);
	assert_int_equal(lchown(link, NOBODY, NOBODY), 0);
	assert_int_equal(prepare(d, "state", why), -1);
	assert_non_null(strstr(why, "symbolic link"));
}

/* Root's own layout (systemd's StateDirectory= with DynamicUser=:
 * /var/lib/NAME -> private/NAME): a link only we or root could have made,
 * to a folder that passes the checks. */
static void
test_state_dir_trusted_symlink_followed(void **state)
{
	struct dir *d = *state;
	char target[128], link[128], why[FILE_WHY_MAX];

	in(d, "private", target, sizeof(target));
	assert_int_equal(mkdir(target, 0700), 0);
	in(d, "private/state", target, sizeof(target));
	assert_int_equal(mkdir(target, 0700), 0);
	in(d, "state", link, sizeof(link));
	assert_int_equal(symlink("private/state", link), 0);
	assert_int_equal(prepare(d, "state", why), 0);
	assert_int_equal(chmod(target, 0770), 0);
	assert_int_equal(prepare(d, "state", why), -1);	/* the target is checked */
	assert_non_null(strstr(why, "writable"));
}

static void
test_state_dir_foreign_owner_refused(void **state)
{
	struct dir *d = *state;
	char p[128], why[FILE_WHY_MAX];

	if (geteuid() != 0)
		skip();
	in(d, "state", p, sizeof(p));
	assert_int_equal(mkdir(p, 0700), 0);
	assert_int_equal(chown(p, NOBODY, NOBODY), 0);
	assert_int_equal(prepare(d, "state", why), -1);
	assert_non_null(strstr(why, "owned by uid 65534"));
}

/* ---- file_temp_sweep --------------------------------------------------- */

static void
test_sweep_removes_our_stale_temp_files_only(void **state)
{
	struct dir *d = *state;
	char p[128], victim[128], names[1024];

	in(d, "victim", victim, sizeof(victim));
	put(victim, "untouched", 0600);
	/* ours: removed (new names, and the old "<name>.tmp.<pid>") */
	in(d, ".config.json.tmp-0123456789abcdef", p, sizeof(p));
	put(p, "PRIVATE KEY", 0600);
	in(d, ".api-token.tmp-fedcba9876543210", p, sizeof(p));
	put(p, "token", 0600);
	in(d, "config.json.tmp.4242", p, sizeof(p));
	put(p, "PRIVATE KEY", 0644);
	/* not ours, or odd: left alone */
	in(d, "config.json", p, sizeof(p));
	put(p, "{}", 0600);
	in(d, "notes.tmp", p, sizeof(p));
	put(p, "", 0600);
	in(d, ".x.tmp-0123", p, sizeof(p));			/* too short */
	put(p, "", 0600);
	in(d, ".x.tmp-0123456789ABCDEF", p, sizeof(p));	/* not our digits */
	put(p, "", 0600);
	in(d, "x.tmp.12a", p, sizeof(p));
	put(p, "", 0600);
	in(d, ".link.tmp-aaaaaaaaaaaaaaaa", p, sizeof(p));	/* a symlink */
	assert_int_equal(symlink(victim, p), 0);
	in(d, ".dir.tmp-bbbbbbbbbbbbbbbb", p, sizeof(p));	/* a folder */
	assert_int_equal(mkdir(p, 0700), 0);
	if (geteuid() == 0) {
		in(d, ".theirs.tmp-cccccccccccccccc", p, sizeof(p));
		put(p, "", 0600);
		assert_int_equal(chown(p, NOBODY, NOBODY), 0);
	}

	assert_int_equal(file_temp_sweep(d->path), 3);
	listing(d->path, names, sizeof(names));
	assert_string_equal(names, geteuid() == 0 ?
	    ".dir.tmp-bbbbbbbbbbbbbbbb .link.tmp-aaaaaaaaaaaaaaaa .theirs.tmp-cccccccccccccccc "
	    ".x.tmp-0123 .x.tmp-0123456789ABCDEF config.json notes.tmp victim x.tmp.12a" :
	    ".dir.tmp-bbbbbbbbbbbbbbbb .link.tmp-aaaaaaaaaaaaaaaa "
	    ".x.tmp-0123 .x.tmp-0123456789ABCDEF config.json notes.tmp victim x.tmp.12a");
	assert_content(victim, "untouched");
	assert_int_equal(file_temp_sweep(d->path), 0);
	assert_int_equal(file_temp_sweep("/nonexistent/dir"), -1);
}

/* ---- file_open_append -------------------------------------------------- */

static int
append(const char *path, const char *text)
{
	char why[FILE_WHY_MAX] = "";
	int fd = file_open_append(path, why, sizeof(why));

	if (fd == -1) {
		assert_true(why[0] != '\0');
		return -1;
	}
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return 0;
}

static void
test_append_new_file_0600(void **state)
{
	struct dir *d = *state;
	char p[128];

	in(d, "keys.log", p, sizeof(p));
	umask(0);
	assert_int_equal(append(p, "a\n"), 0);
	assert_int_equal(mode_of(p), 0600);
	assert_int_equal(append(p, "b\n"), 0);
	assert_content(p, "a\nb\n");
}

static void
test_append_existing_file_tightened(void **state)
{
	struct dir *d = *state;
	char p[128];

	in(d, "keys.log", p, sizeof(p));
	put(p, "old\n", 0644);
	assert_int_equal(append(p, "new\n"), 0);
	assert_int_equal(mode_of(p), 0600);
	assert_content(p, "old\nnew\n");
}

static void
test_append_symlink_refused(void **state)
{
	struct dir *d = *state;
	char p[128], victim[128];

	in(d, "victim", victim, sizeof(victim));
	put(victim, "untouched", 0644);
	in(d, "keys.log", p, sizeof(p));
	assert_int_equal(symlink(victim, p), 0);
	assert_int_equal(append(p, "key\n"), -1);
	assert_content(victim, "untouched");
	assert_int_equal(mode_of(victim), 0644);
}

static void
test_append_fifo_refused(void **state)
{
	struct dir *d = *state;
	char p[128];
	int rd;

	in(d, "keys.log", p, sizeof(p));
	assert_int_equal(mkfifo(p, 0600), 0);
	/* a reader is waiting: an open for writing would succeed */
	rd = open(p, O_RDONLY | O_NONBLOCK);
	assert_true(rd >= 0);
	assert_int_equal(append(p, "key\n"), -1);
	{
		char buf[8];

		assert_true(read(rd, buf, sizeof(buf)) <= 0);
	}
	close(rd);
}

static void
test_append_foreign_file_refused(void **state)
{
	struct dir *d = *state;
	char p[128];

	if (geteuid() != 0)
		skip();
	in(d, "keys.log", p, sizeof(p));
	put(p, "theirs\n", 0600);
	assert_int_equal(chown(p, NOBODY, NOBODY), 0);
	assert_int_equal(append(p, "key\n"), -1);
	assert_content(p, "theirs\n");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_atomic_write_mode_whatever_the_umask),
		T(test_atomic_write_ignores_planted_symlink),
		T(test_atomic_write_leaves_no_temp_file),
		T(test_atomic_write_replaces_a_link_at_the_path),
		T(test_state_dir_made_0700),
		T(test_state_dir_readable_by_others_tightened),
		T(test_state_dir_writable_by_others_refused),
		T(test_state_dir_not_a_directory_refused),
		T(test_state_dir_untrusted_symlink_refused),
		T(test_state_dir_trusted_symlink_followed),
		T(test_state_dir_foreign_owner_refused),
		T(test_sweep_removes_our_stale_temp_files_only),
		T(test_append_new_file_0600),
		T(test_append_existing_file_tightened),
		T(test_append_symlink_refused),
		T(test_append_fifo_refused),
		T(test_append_foreign_file_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
