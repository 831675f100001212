/*
 * posix_suite.c - POSIX operation suite for a mounted filesystem.
 *
 *   posix_suite DIR        run every check in DIR (created if missing) and
 *                          leave DIR/persist behind for the second pass
 *   posix_suite -v DIR     after an unmount and mount: verify that what
 *                          the first pass left in DIR/persist survived
 *
 * Every check prints "ok NAME" or "FAIL NAME: what happened" (with the
 * errno the call gave and the one expected); the last line is
 * "posix: N passed, N failed" ("posix-verify: ..." with -v).  Exit status
 * 0 if nothing failed.
 *
 * Covered: create, mkdir, mknod (fifo, chr), symlink/readlink, link
 * (nlink 2), unlink (incl. of an open file), rmdir (ENOTEMPTY, ENOTDIR),
 * rename (over a file, over an empty dir, into itself EINVAL,
 * RENAME_NOREPLACE EEXIST, RENAME_EXCHANGE, type errors), chmod, chown,
 * utimensat, truncate grow and shrink with the data checked, pwrite/pread
 * at odd offsets across 64 KiB boundaries, O_APPEND, O_TRUNC, a sparse
 * file (SEEK_DATA/SEEK_HOLE, either implemented or the generic fallback),
 * mmap write + msync read back, fsync/fdatasync, statfs sanity, readdir
 * of 500 entries, names of 255 (ok) and 256 (ENAMETOOLONG) bytes, open
 * errors, directory link counts, fallocate.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static int npass, nfail;

/* ok_if_(COND, NAME, FMT...): one check; FMT explains a failure. */
static int ok_if_(int cond, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (cond) {
		npass++;
		printf("ok   %s\n", name);
		return 1;
	}
	nfail++;
	printf("FAIL %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return 0;
}

/* ok_if(COND, NAME, FMT...): COND is evaluated before the message's
 * arguments (a stat in COND fills what the message prints). */
#define ok_if(cond, name, ...)                 \
	({                                     \
		int c_ = !!(cond);             \
		ok_if_(c_, name, __VA_ARGS__); \
	})

static const char *en(int e)
{
	const char *n = e ? strerrorname_np(e) : "success";

	return n ? n : "E?";
}

/* ok_rc(R, NAME): a call that must succeed (R >= 0). */
static int ok_rc(long r, const char *name)
{
	return ok_if(r >= 0, name, "failed with %s", en(errno));
}

/* ok_err(R, E, NAME): a call that must fail with errno E. */
static int ok_err(long r, int e, const char *name)
{
	int got = r < 0 ? errno : 0;

	return ok_if(r < 0 && got == e, name, "gave %s, expected %s", en(got),
		     en(e));
}

/* Deterministic content: byte at offset o of pattern k. */
static uint8_t pat(int k, uint64_t o)
{
	uint64_t x = (o + 1) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)k << 56;

	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ULL;
	return (uint8_t)(x >> 32);
}

static void fillpat(uint8_t *b, size_t n, int k, uint64_t off)
{
	for (size_t i = 0; i < n; i++)
		b[i] = pat(k, off + i);
}

/* Write a whole file with pattern k (n bytes). */
static int mkfile(const char *p, size_t n, int k)
{
	uint8_t *b = malloc(n ? n : 1);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644), r = -1;

	if (fd >= 0 && b) {
		fillpat(b, n, k, 0);
		r = write(fd, b, n) == (ssize_t)n ? 0 : -1;
	}
	if (fd >= 0)
		close(fd);
	free(b);
	return r;
}

/* Read the whole file p into *out; returns its length or -1. */
static ssize_t slurp(const char *p, uint8_t **out)
{
	struct stat st;
	int fd = open(p, O_RDONLY);
	ssize_t n = -1;

	*out = NULL;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0) {
		*out = malloc(st.st_size + 1);
		n = 0;
		while (*out && n < st.st_size) {
			ssize_t r = read(fd, *out + n, st.st_size - n);

			if (r <= 0)
				break;
			n += r;
		}
		if (n != st.st_size)
			n = -1;
	}
	close(fd);
	return n;
}

/* Whole file p is pattern k over n bytes. */
static int has_pat(const char *p, size_t n, int k)
{
	uint8_t *b;
	ssize_t l = slurp(p, &b);
	int ok = l == (ssize_t)n;

	for (size_t i = 0; ok && i < n; i++)
		ok = b[i] == pat(k, i);
	free(b);
	return ok;
}

static long renameat2_(const char *a, const char *b, unsigned fl)
{
	return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, fl);
}

static char D[4096];

/* P(name): DIR/name in a rotating static buffer. */
static const char *P(const char *fmt, ...)
{
	static char b[8][8192];
	static int i;
	char n[3000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(n, sizeof(n), fmt, ap);
	va_end(ap);
	i = (i + 1) & 7;
	snprintf(b[i], sizeof(b[i]), "%s/%s", D, n);
	return b[i];
}

/* ---------------- the checks ---------------- */

static void t_create(void)
{
	struct stat st;
	int fd = open(P("f"), O_RDWR | O_CREAT | O_EXCL, 0640);

	ok_rc(fd, "create O_CREAT|O_EXCL");
	if (fd >= 0)
		close(fd);
	ok_err(open(P("f"), O_RDWR | O_CREAT | O_EXCL, 0640), EEXIST,
	       "create existing: EEXIST");
	ok_if(stat(P("f"), &st) == 0 && S_ISREG(st.st_mode) &&
		      (st.st_mode & 07777) == 0640 && st.st_size == 0 &&
		      st.st_nlink == 1,
	      "create: stat regular 0640 size 0 nlink 1", "mode %o size %lld",
	      st.st_mode, (long long)st.st_size);
	ok_err(open(P("nonexist"), O_RDONLY), ENOENT, "open missing: ENOENT");
	ok_err(open(P("f/x"), O_RDONLY | O_CREAT, 0644), ENOTDIR,
	       "create below a file: ENOTDIR");
	ok_err(open(P("f"), O_RDONLY | O_DIRECTORY), ENOTDIR,
	       "open file O_DIRECTORY: ENOTDIR");
	ok_err(open(D, O_WRONLY), EISDIR, "open directory O_WRONLY: EISDIR");
	fd = open(P("f"), O_RDONLY);
	ok_err(write(fd, "x", 1), EBADF, "write on O_RDONLY fd: EBADF");
	close(fd);
}

static void t_mkdir(void)
{
	struct stat st, st0, st1;

	stat(D, &st0);
	ok_rc(mkdir(P("d"), 0755), "mkdir");
	ok_err(mkdir(P("d"), 0755), EEXIST, "mkdir existing: EEXIST");
	ok_err(mkdir(P("f"), 0755), EEXIST, "mkdir over a file: EEXIST");
	ok_err(mkdir(P("nope/d"), 0755), ENOENT,
	       "mkdir missing parent: ENOENT");
	ok_if(stat(P("d"), &st) == 0 && S_ISDIR(st.st_mode) &&
		      (st.st_mode & 07777) == 0755 && st.st_nlink == 2,
	      "mkdir: stat dir 0755 nlink 2", "mode %o nlink %lu", st.st_mode,
	      (unsigned long)st.st_nlink);
	stat(D, &st1);
	ok_if(st1.st_nlink == st0.st_nlink + 1, "mkdir: parent nlink + 1",
	      "%lu -> %lu", (unsigned long)st0.st_nlink,
	      (unsigned long)st1.st_nlink);
	{
		DIR *d = opendir(P("d"));
		struct dirent *e;
		int n = 0;

		while (d && (e = readdir(d)) != NULL)
			n++;
		if (d)
			closedir(d);
		ok_if(n == 2, "readdir empty dir: . and .. only", "%d entries",
		      n);
	}
}

static void t_mknod(void)
{
	struct stat st;

	ok_rc(mknod(P("fifo"), S_IFIFO | 0600, 0), "mknod fifo");
	ok_if(lstat(P("fifo"), &st) == 0 && S_ISFIFO(st.st_mode) &&
		      (st.st_mode & 07777) == 0600,
	      "mknod fifo: stat", "mode %o", st.st_mode);
	ok_rc(mknod(P("chr"), S_IFCHR | 0620, makedev(1, 3)), "mknod chr 1:3");
	ok_if(lstat(P("chr"), &st) == 0 && S_ISCHR(st.st_mode) &&
		      major(st.st_rdev) == 1 && minor(st.st_rdev) == 3,
	      "mknod chr: stat rdev 1:3", "mode %o rdev %u:%u", st.st_mode,
	      major(st.st_rdev), minor(st.st_rdev));
	{
		/* /dev/null semantics through our node */
		int fd = open(P("chr"), O_WRONLY);

		ok_if(fd >= 0 && write(fd, "abc", 3) == 3,
		      "open chr 1:3 (null) and write", "%s", en(errno));
		if (fd >= 0)
			close(fd);
	}
	ok_err(mknod(P("fifo"), S_IFIFO | 0600, 0), EEXIST,
	       "mknod existing: EEXIST");
}

static void t_symlink(void)
{
	char b[512];
	struct stat st;
	ssize_t n;

	ok_rc(symlink("f", P("sl")), "symlink");
	n = readlink(P("sl"), b, sizeof(b));
	ok_if(n == 1 && b[0] == 'f', "readlink", "got %zd", n);
	ok_if(lstat(P("sl"), &st) == 0 && S_ISLNK(st.st_mode) &&
		      st.st_size == 1,
	      "lstat symlink: S_IFLNK size 1", "mode %o size %lld", st.st_mode,
	      (long long)st.st_size);
	ok_if(stat(P("sl"), &st) == 0 && S_ISREG(st.st_mode),
	      "stat through symlink", "mode %o", st.st_mode);
	ok_err(readlink(P("f"), b, sizeof(b)), EINVAL,
	       "readlink of a file: EINVAL");
	ok_err(symlink("x", P("sl")), EEXIST, "symlink existing: EEXIST");
	{
		char t[300];

		memset(t, 'a', 200);
		strcpy(t + 200, "/../a/very/long/target");
		ok_rc(symlink(t, P("sl_long")), "symlink long target");
		n = readlink(P("sl_long"), b, sizeof(b));
		ok_if(n == (ssize_t)strlen(t) && !memcmp(b, t, n),
		      "readlink long target", "got %zd", n);
	}
	ok_rc(symlink("dangling/nowhere", P("sl_dangling")),
	      "symlink dangling");
	ok_err(stat(P("sl_dangling"), &st), ENOENT,
	       "stat dangling symlink: ENOENT");
}

static void t_link(void)
{
	struct stat a, b;
	int fd;

	mkfile(P("lk"), 1000, 1);
	ok_rc(link(P("lk"), P("lk2")), "link");
	ok_if(stat(P("lk"), &a) == 0 && stat(P("lk2"), &b) == 0 &&
		      a.st_ino == b.st_ino && a.st_nlink == 2 &&
		      b.st_nlink == 2,
	      "link: same inode, nlink 2", "ino %lu/%lu nlink %lu",
	      (unsigned long)a.st_ino, (unsigned long)b.st_ino,
	      (unsigned long)a.st_nlink);
	ok_if(has_pat(P("lk2"), 1000, 1), "link: data through the new name",
	      "differs");
	ok_err(link(P("lk"), P("lk2")), EEXIST, "link existing: EEXIST");
	ok_err(link(P("d"), P("dlink")), EPERM, "link a directory: EPERM");
	ok_err(link(P("missing"), P("x")), ENOENT, "link missing: ENOENT");
	ok_rc(unlink(P("lk")), "unlink one of two links");
	ok_if(stat(P("lk2"), &b) == 0 && b.st_nlink == 1 &&
		      has_pat(P("lk2"), 1000, 1),
	      "unlink: nlink 1, data kept", "nlink %lu",
	      (unsigned long)b.st_nlink);
	ok_err(unlink(P("lk")), ENOENT, "unlink missing: ENOENT");
	ok_err(unlink(P("d")), EISDIR, "unlink a directory: EISDIR");

	/* unlink of an open file: still readable through the fd */
	mkfile(P("open_unl"), 70000, 2);
	fd = open(P("open_unl"), O_RDONLY);
	ok_rc(unlink(P("open_unl")), "unlink an open file");
	{
		uint8_t *buf = malloc(70000);
		ssize_t n = pread(fd, buf, 70000, 0);
		int ok = n == 70000;

		for (int i = 0; ok && i < 70000; i++)
			ok = buf[i] == pat(2, i);
		ok_if(ok && fstat(fd, &a) == 0 && a.st_nlink == 0,
		      "unlinked open file: readable, nlink 0",
		      "n %zd nlink %lu", n, (unsigned long)a.st_nlink);
		free(buf);
	}
	close(fd);
	ok_err(access(P("open_unl"), F_OK), ENOENT, "unlinked: name gone");
}

static void t_rmdir(void)
{
	mkdir(P("rd"), 0755);
	mkfile(P("rd/x"), 10, 3);
	ok_err(rmdir(P("rd")), ENOTEMPTY, "rmdir non-empty: ENOTEMPTY");
	ok_err(rmdir(P("f")), ENOTDIR, "rmdir a file: ENOTDIR");
	ok_err(rmdir(P("nope")), ENOENT, "rmdir missing: ENOENT");
	unlink(P("rd/x"));
	ok_rc(rmdir(P("rd")), "rmdir empty");
	ok_err(access(P("rd"), F_OK), ENOENT, "rmdir: gone");
}

static void t_rename(void)
{
	struct stat st;
	int fd;

	mkfile(P("ra"), 5000, 4);
	mkfile(P("rb"), 7000, 5);
	ok_rc(rename(P("ra"), P("rb")), "rename over a file");
	ok_if(has_pat(P("rb"), 5000, 4) && access(P("ra"), F_OK) != 0,
	      "rename over a file: new content, old name gone", "wrong");

	mkdir(P("rd1"), 0755);
	mkdir(P("rd2"), 0755);
	mkfile(P("rd1/in"), 100, 6);
	ok_rc(rename(P("rd1"), P("rd2")), "rename dir over an empty dir");
	ok_if(has_pat(P("rd2/in"), 100, 6) && access(P("rd1"), F_OK) != 0,
	      "rename dir: contents moved", "wrong");
	mkdir(P("rd3"), 0755);
	mkfile(P("rd3/y"), 1, 6);
	ok_err(rename(P("rd2"), P("rd3")), ENOTEMPTY,
	       "rename dir over a non-empty dir: ENOTEMPTY");
	ok_err(rename(P("rb"), P("rd3")), EISDIR,
	       "rename file over a dir: EISDIR");
	ok_err(rename(P("rd3"), P("rb")), ENOTDIR,
	       "rename dir over a file: ENOTDIR");
	mkdir(P("rd2/sub"), 0755);
	ok_err(rename(P("rd2"), P("rd2/sub/into")), EINVAL,
	       "rename dir into itself: EINVAL");
	ok_err(rename(P("missing"), P("x")), ENOENT, "rename missing: ENOENT");
	ok_err(renameat2_(P("rb"), P("f"), RENAME_NOREPLACE), EEXIST,
	       "RENAME_NOREPLACE existing: EEXIST");
	ok_rc(renameat2_(P("rb"), P("rc"), RENAME_NOREPLACE),
	      "RENAME_NOREPLACE to a new name");
	mkfile(P("rx"), 3000, 7);
	ok_rc(renameat2_(P("rc"), P("rx"), RENAME_EXCHANGE),
	      "RENAME_EXCHANGE two files");
	ok_if(has_pat(P("rc"), 3000, 7) && has_pat(P("rx"), 5000, 4),
	      "RENAME_EXCHANGE: contents swapped", "wrong");
	ok_rc(renameat2_(P("rx"), P("rd3"), RENAME_EXCHANGE),
	      "RENAME_EXCHANGE file and dir");
	ok_if(stat(P("rx"), &st) == 0 && S_ISDIR(st.st_mode) &&
		      has_pat(P("rd3"), 5000, 4),
	      "RENAME_EXCHANGE file/dir: types swapped", "wrong");
	ok_err(renameat2_(P("rc"), P("nothere"), RENAME_EXCHANGE), ENOENT,
	       "RENAME_EXCHANGE with a missing name: ENOENT");

	/* rename across directories, an open file keeps working */
	fd = open(P("rc"), O_RDWR);
	ok_rc(rename(P("rc"), P("d/rc_moved")), "rename into a subdirectory");
	ok_if(fd >= 0 && pwrite(fd, "Z", 1, 0) == 1 && fstat(fd, &st) == 0 &&
		      st.st_size == 3000,
	      "open fd survives rename", "%s", en(errno));
	close(fd);
	{
		uint8_t *b;
		ssize_t n = slurp(P("d/rc_moved"), &b);

		ok_if(n == 3000 && b[0] == 'Z' && b[1] == pat(7, 1),
		      "renamed file: write through the old fd visible", "n %zd",
		      n);
		free(b);
	}
	/* rename of one hard link onto another: nothing happens */
	mkfile(P("h1"), 10, 8);
	link(P("h1"), P("h2"));
	ok_rc(rename(P("h1"), P("h2")), "rename a link onto its other name");
	ok_if(access(P("h1"), F_OK) == 0 && stat(P("h2"), &st) == 0 &&
		      st.st_nlink == 2,
	      "rename onto the same inode: both names stay", "nlink %lu",
	      (unsigned long)st.st_nlink);
	/* directory nlink after moving a subdirectory */
	{
		struct stat a0, b0, a1, b1;

		mkdir(P("pa"), 0755);
		mkdir(P("pb"), 0755);
		mkdir(P("pa/child"), 0755);
		stat(P("pa"), &a0);
		stat(P("pb"), &b0);
		rename(P("pa/child"), P("pb/child"));
		stat(P("pa"), &a1);
		stat(P("pb"), &b1);
		ok_if(a1.st_nlink == a0.st_nlink - 1 &&
			      b1.st_nlink == b0.st_nlink + 1,
		      "rename dir across parents: parents' nlink",
		      "pa %lu->%lu pb %lu->%lu", (unsigned long)a0.st_nlink,
		      (unsigned long)a1.st_nlink, (unsigned long)b0.st_nlink,
		      (unsigned long)b1.st_nlink);
	}
}

static void t_attr(void)
{
	struct stat st;
	struct timespec ts[2] = { { 1000000000, 123456000 },
				  { 1200000000, 987654000 } };
	int fd;

	mkfile(P("attr"), 10, 9);
	ok_rc(chmod(P("attr"), 04751), "chmod 4751");
	ok_if(stat(P("attr"), &st) == 0 && (st.st_mode & 07777) == 04751,
	      "chmod: mode 4751", "mode %o", st.st_mode & 07777);
	fd = open(P("attr"), O_RDONLY);
	ok_rc(fchmod(fd, 0604), "fchmod 0604");
	ok_if(fstat(fd, &st) == 0 && (st.st_mode & 07777) == 0604,
	      "fchmod: mode 0604", "mode %o", st.st_mode & 07777);
	ok_rc(chown(P("attr"), 1234, 5678), "chown 1234:5678");
	ok_if(stat(P("attr"), &st) == 0 && st.st_uid == 1234 &&
		      st.st_gid == 5678,
	      "chown: uid/gid", "%u:%u", st.st_uid, st.st_gid);
	ok_rc(fchown(fd, -1, 42), "fchown -1:42");
	ok_if(fstat(fd, &st) == 0 && st.st_uid == 1234 && st.st_gid == 42,
	      "fchown -1 keeps uid", "%u:%u", st.st_uid, st.st_gid);
	close(fd);
	ok_rc(lchown(P("sl"), 77, 88), "lchown symlink");
	ok_if(lstat(P("sl"), &st) == 0 && st.st_uid == 77 && st.st_gid == 88,
	      "lchown: symlink owner", "%u:%u", st.st_uid, st.st_gid);
	ok_rc(utimensat(AT_FDCWD, P("attr"), ts, 0), "utimensat explicit");
	ok_if(stat(P("attr"), &st) == 0 && st.st_atim.tv_sec == ts[0].tv_sec &&
		      st.st_atim.tv_nsec / 1000 == ts[0].tv_nsec / 1000 &&
		      st.st_mtim.tv_sec == ts[1].tv_sec &&
		      st.st_mtim.tv_nsec / 1000 == ts[1].tv_nsec / 1000,
	      "utimensat: atime/mtime to the microsecond",
	      "atime %ld.%09ld mtime %ld.%09ld", (long)st.st_atim.tv_sec,
	      st.st_atim.tv_nsec, (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	{
		struct timespec t2[2] = { { 0, UTIME_OMIT }, { 5, 0 } };

		utimensat(AT_FDCWD, P("attr"), t2, 0);
		ok_if(stat(P("attr"), &st) == 0 &&
			      st.st_atim.tv_sec == ts[0].tv_sec &&
			      st.st_mtim.tv_sec == 5,
		      "utimensat UTIME_OMIT keeps atime", "atime %ld mtime %ld",
		      (long)st.st_atim.tv_sec, (long)st.st_mtim.tv_sec);
	}
	/* a write updates mtime and ctime */
	{
		struct stat a;

		stat(P("attr"), &a);
		fd = open(P("attr"), O_WRONLY);
		ok_if(fd >= 0 && write(fd, "q", 1) == 1 &&
			      fstat(fd, &st) == 0 && st.st_mtim.tv_sec > 5,
		      "write updates mtime", "mtime %ld",
		      (long)st.st_mtim.tv_sec);
		close(fd);
	}
	ok_rc(chmod(P("sl"), 0600), "chmod through a symlink");
	ok_if(stat(P("f"), &st) == 0 && (st.st_mode & 07777) == 0600,
	      "chmod through a symlink changes the target", "mode %o",
	      st.st_mode & 07777);
}

/* The file's whole content equals model m of length n. */
static int same_as(const char *p, const uint8_t *m, size_t n)
{
	uint8_t *b;
	ssize_t l = slurp(p, &b);
	int ok = l == (ssize_t)n && !memcmp(b, m, n);

	free(b);
	return ok;
}

static void t_truncate(void)
{
	size_t n = 300000;
	uint8_t *m = calloc(1, 2 * n);

	fillpat(m, n, 10, 0);
	mkfile(P("tr"), n, 10);
	ok_rc(truncate(P("tr"), 100001), "truncate shrink to 100001");
	memset(m + 100001, 0, 2 * n - 100001);
	ok_if(same_as(P("tr"), m, 100001), "truncate shrink: data kept",
	      "differs");
	ok_rc(truncate(P("tr"), 250000), "truncate grow to 250000");
	ok_if(same_as(P("tr"), m, 250000),
	      "truncate grow: zeros after the old end (no stale data)",
	      "differs");
	{
		int fd = open(P("tr"), O_RDWR);

		ok_rc(ftruncate(fd, 65536), "ftruncate to 65536");
		ok_rc(ftruncate(fd, 65537 + 65536), "ftruncate grow to 131073");
		close(fd);
		memset(m + 65536, 0, 2 * n - 65536);
		ok_if(same_as(P("tr"), m, 131073), "ftruncate: data and zeros",
		      "differs");
	}
	ok_rc(truncate(P("tr"), 0), "truncate to 0");
	ok_if(same_as(P("tr"), m, 0), "truncate to 0: empty", "not empty");
	ok_err(truncate(P("d"), 0), EISDIR, "truncate a directory: EISDIR");
	ok_err(truncate(P("tr"), -1), EINVAL, "truncate negative: EINVAL");
	/* small (embedded) data shrunk and grown */
	mkfile(P("tr2"), 100, 11);
	truncate(P("tr2"), 10);
	truncate(P("tr2"), 1000);
	fillpat(m, 10, 11, 0);
	memset(m + 10, 0, 990);
	ok_if(same_as(P("tr2"), m, 1000), "small file shrink+grow: zeros",
	      "differs");
	/* O_TRUNC */
	{
		int fd = open(P("tr2"), O_WRONLY | O_TRUNC);
		struct stat st;

		ok_if(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0,
		      "open O_TRUNC empties the file", "size %lld",
		      (long long)st.st_size);
		close(fd);
	}
	free(m);
}

static void t_rw(void)
{
	size_t n = 400000;
	uint8_t *m = calloc(1, n), *b = malloc(n);
	static const struct {
		off_t off;
		size_t len;
	} w[] = { { 65535, 3 },	     { 131071, 2 },	{ 12345, 200000 },
		  { 1, 1 },	     { 196607, 65538 }, { 65536 * 5 - 7, 14 },
		  { 333333, 66667 }, { 0, 513 },	{ 262143, 1 } };
	int fd = open(P("rw"), O_RDWR | O_CREAT | O_TRUNC, 0644), ok = 1;
	size_t end = 0;

	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		fillpat(b, w[i].len, 20 + i, w[i].off);
		if (pwrite(fd, b, w[i].len, w[i].off) != (ssize_t)w[i].len)
			ok = 0;
		memcpy(m + w[i].off, b, w[i].len);
		if (w[i].off + w[i].len > end)
			end = w[i].off + w[i].len;
	}
	ok_if(ok, "pwrite at odd offsets across 64 KiB boundaries", "%s",
	      en(errno));
	ok = 1;
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		/* read a window around each write */
		off_t o = w[i].off > 100 ? w[i].off - 100 : 0;
		size_t l = w[i].len + 200;

		if (o + l > end)
			l = end - o;
		if (pread(fd, b, l, o) != (ssize_t)l || memcmp(b, m + o, l))
			ok = 0;
	}
	ok_if(ok, "pread windows around each write", "differs");
	ok_if(pread(fd, b, 100, end) == 0, "pread at EOF returns 0", "no");
	ok_if(pread(fd, b, 100, end - 10) == 10, "pread short at EOF", "no");
	close(fd);
	ok_if(same_as(P("rw"), m, end), "whole file read back", "differs");
	/* sequential: 8 MiB in odd chunks */
	{
		size_t tot = 8 << 20, c = 0;
		uint8_t *big = malloc(tot);

		fillpat(big, tot, 30, 0);
		fd = open(P("big"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
		ok = 1;
		while (c < tot) {
			size_t l = 77777;

			if (l > tot - c)
				l = tot - c;
			if (write(fd, big + c, l) != (ssize_t)l)
				ok = 0;
			c += l;
		}
		ok_if(ok && fsync(fd) == 0, "8 MiB sequential write + fsync",
		      "%s", en(errno));
		ok_rc(fdatasync(fd), "fdatasync");
		close(fd);
		ok_if(same_as(P("big"), big, tot), "8 MiB read back",
		      "differs");
		free(big);
	}
	/* O_APPEND */
	{
		struct stat st;

		mkfile(P("app"), 1000, 40);
		fd = open(P("app"), O_WRONLY | O_APPEND);
		fillpat(m, 1000, 40, 0);
		fillpat(m + 1000, 70000, 41, 0);
		fillpat(m + 71000, 33, 42, 0);
		lseek(fd, 0, SEEK_SET);
		ok_if(write(fd, m + 1000, 70000) == 70000 &&
			      write(fd, m + 71000, 33) == 33,
		      "O_APPEND writes", "%s", en(errno));
		ok_if(fstat(fd, &st) == 0 && st.st_size == 71033 &&
			      lseek(fd, 0, SEEK_CUR) == 71033,
		      "O_APPEND: size and offset 71033", "size %lld",
		      (long long)st.st_size);
		close(fd);
		ok_if(same_as(P("app"), m, 71033), "O_APPEND: content",
		      "differs");
	}
	free(m);
	free(b);
}

static void t_sparse(void)
{
	int fd = open(P("sparse"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	off_t at = 10 << 20, d, h;
	uint8_t b[4096], z[4096];
	struct stat st;

	memset(z, 0, sizeof(z));
	fillpat(b, sizeof(b), 50, 0);
	ok_if(pwrite(fd, b, sizeof(b), at) == sizeof(b),
	      "sparse: pwrite at 10 MiB", "%s", en(errno));
	ok_if(fstat(fd, &st) == 0 && st.st_size == at + 4096,
	      "sparse: size 10 MiB + 4 KiB", "size %lld",
	      (long long)st.st_size);
	ok_if(pread(fd, b, sizeof(b), 5 << 20) == sizeof(b) &&
		      !memcmp(b, z, sizeof(z)),
	      "sparse: hole reads zeros", "not zero");
	ok_if(st.st_blocks * 512 < (off_t)(2 << 20),
	      "sparse: hole not allocated (st_blocks)", "st_blocks %lld",
	      (long long)st.st_blocks);
	d = lseek(fd, 0, SEEK_DATA);
	h = lseek(fd, 0, SEEK_HOLE);
	/* hammer2, ext4 and tmpfs all know their holes (10 MiB is aligned
	 * to their block sizes, 64 KiB for hammer2) */
	ok_if(d == at && h == 0,
	      "SEEK_DATA(0) finds the data, SEEK_HOLE(0) the hole",
	      "data %lld hole %lld", (long long)d, (long long)h);
	ok_if(lseek(fd, 5 << 20, SEEK_DATA) == at &&
		      lseek(fd, at + 100, SEEK_DATA) == at + 100,
	      "SEEK_DATA from a hole and from inside data", "%lld %lld",
	      (long long)lseek(fd, 5 << 20, SEEK_DATA),
	      (long long)lseek(fd, at + 100, SEEK_DATA));
	ok_if(lseek(fd, at, SEEK_HOLE) == st.st_size,
	      "SEEK_HOLE in the last data: EOF", "%lld",
	      (long long)lseek(fd, at, SEEK_HOLE));
	ok_err(lseek(fd, st.st_size + 1, SEEK_DATA), ENXIO,
	       "SEEK_DATA past EOF: ENXIO");
	{
		int r = fallocate(fd, 0, st.st_size, 65536);
		struct stat s2;

		fstat(fd, &s2);
		ok_if((r == 0 && s2.st_size == st.st_size + 65536) ||
			      (r < 0 && errno == EOPNOTSUPP),
		      "fallocate mode 0: extends or EOPNOTSUPP", "r %d %s", r,
		      en(r < 0 ? errno : 0));
		printf("info fallocate mode 0: %s\n",
		       r == 0 ? "ok" : en(errno));
	}
	close(fd);
}

/*
 * st_blocks tells the truth before any sync (du, cp --sparse and tar
 * --sparse read it): data written counts at once, truncation at once.
 */
static void t_blocks(void)
{
	static uint8_t b[1 << 20];
	int fd = open(P("blocks"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	struct stat st;

	fillpat(b, sizeof(b), 60, 0);
	ok_if(write(fd, b, sizeof(b)) == (ssize_t)sizeof(b),
	      "st_blocks: write 1 MiB", "%s", en(errno));
	ok_if(fstat(fd, &st) == 0 && st.st_blocks * 512 >= (off_t)sizeof(b),
	      "st_blocks: written data counts before any sync",
	      "st_blocks %lld", (long long)st.st_blocks);
	ok_if(ftruncate(fd, 4096) == 0 && fstat(fd, &st) == 0 &&
		      st.st_blocks * 512 <= 65536,
	      "st_blocks: truncation counts before any sync", "st_blocks %lld",
	      (long long)st.st_blocks);
	close(fd);
	unlink(P("blocks"));
}

static void t_mmap(void)
{
	size_t n = 3 * 65536 + 1000;
	int fd = open(P("mm"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	uint8_t *p, *m = malloc(n);

	ftruncate(fd, n);
	p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!ok_if(p != MAP_FAILED, "mmap shared rw", "%s", en(errno))) {
		close(fd);
		free(m);
		return;
	}
	fillpat(m, n, 60, 0);
	memcpy(p, m, n);
	ok_rc(msync(p, n, MS_SYNC), "msync");
	munmap(p, n);
	close(fd);
	ok_if(same_as(P("mm"), m, n), "mmap write, msync, read() back",
	      "differs");
	/* read mapping of data written with write() */
	fd = open(P("mm"), O_RDWR);
	pwrite(fd, "HELLO", 5, 65534);
	memcpy(m + 65534, "HELLO", 5);
	p = mmap(NULL, n, PROT_READ, MAP_SHARED, fd, 0);
	ok_if(p != MAP_FAILED && !memcmp(p, m, n),
	      "pwrite then mmap read sees it", "differs");
	if (p != MAP_FAILED)
		munmap(p, n);
	close(fd);
	free(m);
}

static void t_statfs(void)
{
	struct statfs s;

	ok_rc(statfs(D, &s), "statfs");
	ok_if(s.f_bsize > 0 && s.f_blocks > 0 && s.f_bfree <= s.f_blocks &&
		      s.f_bavail <= s.f_bfree && s.f_namelen >= 255,
	      "statfs: sane numbers",
	      "bsize %ld blocks %llu bfree %llu bavail %llu namelen %ld",
	      (long)s.f_bsize, (unsigned long long)s.f_blocks,
	      (unsigned long long)s.f_bfree, (unsigned long long)s.f_bavail,
	      (long)s.f_namelen);
	printf("info statfs type 0x%lx bsize %ld blocks %llu bfree %llu "
	       "files %llu ffree %llu namelen %ld\n",
	       (unsigned long)s.f_type, (long)s.f_bsize,
	       (unsigned long long)s.f_blocks, (unsigned long long)s.f_bfree,
	       (unsigned long long)s.f_files, (unsigned long long)s.f_ffree,
	       (long)s.f_namelen);
	{
		int fd = open(P("f"), O_RDONLY);
		struct statfs s2;

		ok_if(fd >= 0 && fstatfs(fd, &s2) == 0 && s2.f_type == s.f_type,
		      "fstatfs", "%s", en(errno));
		close(fd);
	}
}

/* Count the entries of dir p (without . and ..); checks no duplicates and
 * that every name NAME%d below n is present once. */
static int listcheck(const char *p, int n, int step, char *why, size_t wl)
{
	DIR *d = opendir(p);
	struct dirent *e;
	char *seen = calloc(n, 1);
	int cnt = 0, bad = 0;

	if (!d) {
		snprintf(why, wl, "opendir %s", en(errno));
		free(seen);
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		int i;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		cnt++;
		if (sscanf(e->d_name, "entry_%d", &i) != 1 || i < 0 || i >= n ||
		    seen[i] || i % step ||
		    (e->d_type != DT_UNKNOWN &&
		     e->d_type != (i % 10 == 0 ? DT_DIR : DT_REG))) {
			if (!bad)
				snprintf(why, wl, "bad entry %.200s type %d",
					 e->d_name, e->d_type);
			bad = 1;
			continue;
		}
		seen[i] = 1;
	}
	closedir(d);
	free(seen);
	if (!bad && cnt != (n + step - 1) / step) {
		snprintf(why, wl, "%d entries, expected %d", cnt,
			 (n + step - 1) / step);
		bad = 1;
	}
	return !bad;
}

static void t_readdir(void)
{
	char why[256] = "";
	int ok = 1;

	mkdir(P("many"), 0755);
	for (int i = 0; i < 500; i++) {
		/* every tenth entry a directory */
		if (i % 10 == 0)
			ok &= mkdir(P("many/entry_%d", i), 0755) == 0;
		else
			ok &= mkfile(P("many/entry_%d", i), i, 70) == 0;
	}
	ok_if(ok, "create 500 entries", "%s", en(errno));
	ok_if(listcheck(P("many"), 500, 1, why, sizeof(why)),
	      "readdir 500 entries: each once, right d_type", "%s", why);
	/* telldir/seekdir in the middle */
	{
		DIR *d = opendir(P("many"));
		struct dirent *e;
		long pos = -1;
		char name[300] = "";
		int k = 0;

		while (d && (e = readdir(d)) != NULL) {
			if (++k == 200) {
				pos = telldir(d);
			} else if (k == 201) {
				snprintf(name, sizeof(name), "%s", e->d_name);
				break;
			}
		}
		if (d && pos >= 0) {
			seekdir(d, pos);
			e = readdir(d);
		} else {
			e = NULL;
		}
		ok_if(e && !strcmp(e->d_name, name), "telldir/seekdir",
		      "after seekdir got %s, expected %s", e ? e->d_name : "-",
		      name);
		if (d)
			closedir(d);
	}
	for (int i = 0; i < 500; i++)
		if (i % 2) {
			if (i % 10 == 0)
				rmdir(P("many/entry_%d", i));
			else
				unlink(P("many/entry_%d", i));
		}
	ok_if(listcheck(P("many"), 500, 2, why, sizeof(why)),
	      "readdir after removing every other entry (250)", "%s", why);
}

static void t_names(void)
{
	static const char odd[] = "\xc3\xbc"
				  "n\xc3\xaf"
				  "c\xc3\xb6"
				  "d\xc3\xa9 \x01\x7f";
	char n255[256], n256[257];
	struct stat st;
	int fd;

	memset(n255, 'n', 255);
	n255[255] = 0;
	memset(n256, 'm', 256);
	n256[256] = 0;
	fd = open(P("%s", n255), O_WRONLY | O_CREAT, 0644);
	ok_rc(fd, "create with a 255-byte name");
	close(fd);
	ok_rc(stat(P("%s", n255), &st), "stat a 255-byte name");
	ok_rc(mkdir(P("d/%s", n255), 0755), "mkdir a 255-byte name");
	ok_err(open(P("%s", n256), O_WRONLY | O_CREAT, 0644), ENAMETOOLONG,
	       "create a 256-byte name: ENAMETOOLONG");
	ok_err(mkdir(P("%s", n256), 0755), ENAMETOOLONG,
	       "mkdir a 256-byte name: ENAMETOOLONG");
	ok_err(stat(P("%s", n256), &st), ENAMETOOLONG,
	       "stat a 256-byte name: ENAMETOOLONG");
	ok_err(rename(P("%s", n255), P("%s", n256)), ENAMETOOLONG,
	       "rename to a 256-byte name: ENAMETOOLONG");
	ok_rc(unlink(P("%s", n255)), "unlink a 255-byte name");
	/* names that differ only in case, UTF-8, odd bytes */
	ok_if(mkfile(P("Case"), 1, 1) == 0 && mkfile(P("case"), 2, 1) == 0 &&
		      stat(P("Case"), &st) == 0 && st.st_size == 1,
	      "names are case sensitive", "no");
	ok_if(mkfile(P("%s", odd), 3, 1) == 0 && stat(P("%s", odd), &st) == 0,
	      "UTF-8 and control bytes in names", "%s", en(errno));
}

/* Leave DIR/persist for the second pass (-v). */
static void t_persist_make(void)
{
	struct timespec ts[2] = { { 1111111111, 222222000 },
				  { 1333333333, 444444000 } };
	uint8_t *m;
	int fd;
	size_t n = 2 * 65536 + 777;

	mkdir(P("persist"), 0750);
	mkfile(P("persist/data"), 1234567, 80);
	truncate(P("persist/data"), 1000000);
	mkfile(P("persist/small"), 60, 81);
	link(P("persist/small"), P("persist/small_link"));
	symlink("small", P("persist/sym"));
	mknod(P("persist/fifo"), S_IFIFO | 0640, 0);
	mknod(P("persist/blk"), S_IFBLK | 0600, makedev(8, 17));
	chown(P("persist/small"), 321, 654);
	chmod(P("persist/small"), 02755);
	utimensat(AT_FDCWD, P("persist/small"), ts, 0);
	fd = open(P("persist/sparse"), O_WRONLY | O_CREAT, 0644);
	pwrite(fd, "end", 3, (64 << 20) - 3);
	close(fd);
	fd = open(P("persist/mmap"), O_RDWR | O_CREAT | O_TRUNC, 0644);
	ftruncate(fd, n);
	m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m != MAP_FAILED) {
		fillpat(m, n, 82, 0);
		/* no msync: unmount must write the dirty pages */
		munmap(m, n);
	}
	close(fd);
	mkdir(P("persist/dir"), 0755);
	for (int i = 0; i < 500; i++)
		mkfile(P("persist/dir/entry_%d", i), i % 17, 83);
	for (int i = 0; i < 500; i += 10) {
		unlink(P("persist/dir/entry_%d", i));
		mkdir(P("persist/dir/entry_%d", i), 0755);
	}
	/* renamed and removed things must stay so */
	mkfile(P("persist/gone"), 100, 84);
	rename(P("persist/gone"), P("persist/renamed"));
	mkfile(P("persist/deleted"), 100, 85);
	unlink(P("persist/deleted"));
	/* times set, then a write: the write's mtime and ctime persist */
	mkfile(P("persist/stamped"), 100, 86);
	utimensat(AT_FDCWD, P("persist/stamped"), ts, 0);
	fd = open(P("persist/stamped"), O_WRONLY | O_APPEND);
	write(fd, "more", 4);
	close(fd);
	sync();
}

static void t_persist_verify(void)
{
	struct stat st;
	uint8_t *m = calloc(1, 1234567);
	char why[256] = "";
	char b[64];
	ssize_t n;

	fillpat(m, 1000000, 80, 0);
	ok_if(same_as(P("persist/data"), m, 1000000),
	      "persist: truncated data file", "differs");
	ok_if(has_pat(P("persist/small"), 60, 81), "persist: small file",
	      "differs");
	ok_if(stat(P("persist/small"), &st) == 0 && st.st_nlink == 2 &&
		      st.st_uid == 321 && st.st_gid == 654 &&
		      (st.st_mode & 07777) == 02755 &&
		      st.st_mtim.tv_sec == 1333333333 &&
		      st.st_mtim.tv_nsec / 1000 == 444444,
	      "persist: nlink, owner, mode, mtime",
	      "nlink %lu %u:%u mode %o mtime %ld.%09ld",
	      (unsigned long)st.st_nlink, st.st_uid, st.st_gid,
	      st.st_mode & 07777, (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	n = readlink(P("persist/sym"), b, sizeof(b));
	ok_if(n == 5 && !memcmp(b, "small", 5), "persist: symlink", "n %zd", n);
	ok_if(lstat(P("persist/fifo"), &st) == 0 && S_ISFIFO(st.st_mode) &&
		      (st.st_mode & 07777) == 0640,
	      "persist: fifo", "mode %o", st.st_mode);
	ok_if(lstat(P("persist/blk"), &st) == 0 && S_ISBLK(st.st_mode) &&
		      st.st_rdev == makedev(8, 17),
	      "persist: block device 8:17", "mode %o rdev %u:%u", st.st_mode,
	      major(st.st_rdev), minor(st.st_rdev));
	ok_if(stat(P("persist/sparse"), &st) == 0 && st.st_size == (64 << 20) &&
		      st.st_blocks * 512 < (1 << 20),
	      "persist: sparse 64 MiB file", "size %lld blocks %lld",
	      (long long)st.st_size, (long long)st.st_blocks);
	{
		int fd = open(P("persist/sparse"), O_RDONLY);

		ok_if(pread(fd, b, 3, (64 << 20) - 3) == 3 &&
			      !memcmp(b, "end", 3),
		      "persist: sparse tail data", "differs");
		close(fd);
	}
	fillpat(m, 2 * 65536 + 777, 82, 0);
	ok_if(same_as(P("persist/mmap"), m, 2 * 65536 + 777),
	      "persist: mmap pages written at unmount", "differs");
	ok_if(access(P("persist/renamed"), F_OK) == 0 &&
		      access(P("persist/gone"), F_OK) != 0 &&
		      access(P("persist/deleted"), F_OK) != 0,
	      "persist: rename and unlink", "wrong");
	ok_if(listcheck(P("persist/dir"), 500, 1, why, sizeof(why)),
	      "persist: 500-entry directory", "%s", why);
	/* the write came after the utimensat: its own times, not 1333333333 */
	ok_if(stat(P("persist/stamped"), &st) == 0 && st.st_size == 104 &&
		      st.st_mtim.tv_sec > 1333333333 &&
		      st.st_ctim.tv_sec >= st.st_mtim.tv_sec,
	      "persist: a write after utimensat keeps its mtime",
	      "size %lld mtime %ld ctime %ld", (long long)st.st_size,
	      (long)st.st_mtim.tv_sec, (long)st.st_ctim.tv_sec);
	free(m);
}

int main(int argc, char **argv)
{
	int verify = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "-v")) {
		verify = 1;
		argv++;
	} else if (argc != 2) {
		fprintf(stderr, "usage: posix_suite [-v] DIR\n");
		return 2;
	}
	snprintf(D, sizeof(D), "%s", argv[1]);
	umask(0);
	if (verify) {
		t_persist_verify();
		printf("posix-verify: %d passed, %d failed\n", npass, nfail);
		return nfail ? 1 : 0;
	}
	if (mkdir(D, 0755) && errno != EEXIST) {
		perror(D);
		return 2;
	}
	t_create();
	t_mkdir();
	t_mknod();
	t_symlink();
	t_link();
	t_rmdir();
	t_rename();
	t_attr();
	t_truncate();
	t_rw();
	t_sparse();
	t_blocks();
	t_mmap();
	t_statfs();
	t_readdir();
	t_names();
	t_persist_make();
	printf("posix: %d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
