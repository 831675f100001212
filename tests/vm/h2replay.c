/*
 * h2replay.c - replay an h2sim trace (docs/TRACE.md) with real system calls.
 *
 *   h2replay [-r REFROOT] [-m MAX] [-R REMOUNT_CMD] [-t] TRACE ROOT
 *   h2replay -c [-n] A B
 *
 * The first form issues every operation of TRACE below the directory ROOT
 * (a trace path /a/b becomes ROOT/a/b; symlink targets are kept as they
 * are), writing the bytes docs/TRACE.md's gen() defines, so the content is
 * the same the simulator writes.  Each result is checked against the
 * trace's "= RESULT" (an fd result only for success or the errno).
 *
 * With -r every operation is also issued below REFROOT (a reference
 * filesystem, e.g. tmpfs) and the two are compared operation by operation:
 * results, the bytes of every read, stat attributes (type, mode, size of
 * non-directories, nlink, uid, gid), readdir listings (names and types),
 * readlink targets; at the end the two trees are compared entry by entry
 * (as with -c).  A difference between the reference and the trace alone
 * is reported as a note, not a failure (captures were made on another
 * filesystem).
 *
 * crash and check directives are skipped; remount runs REMOUNT_CMD with
 * /bin/sh after closing every fd (skipped without -R).  -t prints the
 * elapsed time and ops/s (benchmarks).  -m limits the mismatches printed
 * (default 20).
 *
 * The second form (-c) compares two trees: type, permission bits, size,
 * data, symlink targets, device numbers, uid/gid and, unless -n, the link
 * count of non-directories.  Directory sizes and times are never compared.
 *
 * Output ends with "h2replay: N passed, N failed" (operations matched and
 * mismatched, plus 1 for the tree comparison) or "treecmp: N entries, N
 * differences"; exit status 0 when everything matched, 1 otherwise, 2 on
 * usage or trace errors.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#include "sim.h"

#define MAXFD 4096
#define MAXTOK 16

/*
 * Data generation (docs/TRACE.md gen()), the hashes and errno names come
 * from sim/util.c, linked in, so the bytes are exactly the simulator's.
 */

/* ---------------- state ---------------- */

/* One trace fd: the real fds on the test and reference trees. */
struct tfd {
	int fd, rfd; /* -1 when closed / not bound */
	int append;
	uint64_t key;
};

static struct tfd fds[MAXFD];
static uint64_t seed;
static const char *root, *refroot, *remount_cmd;
static int max_show = 20;
static long lineno;
static long n_ops, n_pass, n_fail, n_skipped, n_refnotes;
static uint8_t *buf, *rbuf;
static size_t bufsz;

/* fail(FMT, ...): one mismatch on the current line. */
static void fail(const char *fmt, ...)
{
	va_list ap;

	n_fail++;
	if (n_fail > max_show)
		return;
	printf("MISMATCH line %ld: ", lineno);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* note(FMT, ...): reference filesystem differs from the trace. */
static void note(const char *fmt, ...)
{
	va_list ap;

	n_refnotes++;
	if (n_refnotes > 5)
		return;
	printf("note line %ld: ", lineno);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void ensure_buf(size_t n)
{
	if (n <= bufsz)
		return;
	free(buf);
	free(rbuf);
	bufsz = n;
	buf = xmalloc(n);
	rbuf = xmalloc(n);
}

/* Percent-decode s in place (docs/TRACE.md; "%" alone is ""). */
static char *pdecode(char *s)
{
	char *d = s, *r = s;

	if (strcmp(s, "%") == 0) {
		*s = 0;
		return s;
	}
	while (*r) {
		if (r[0] == '%' && r[1] && r[2]) {
			char h[3] = { r[1], r[2], 0 };

			*d++ = (char)strtol(h, NULL, 16);
			r += 3;
		} else {
			*d++ = *r++;
		}
	}
	*d = 0;
	return s;
}

/* Map a trace path below base into out. */
static const char *mkpath(char *out, const char *base, const char *p)
{
	if (strcmp(p, "/") == 0)
		snprintf(out, PATH_MAX, "%s", base);
	else
		snprintf(out, PATH_MAX, "%s%s", base, p);
	return out;
}

static long long num(const char *s)
{
	return strtoll(s, NULL, 0);
}

static const char *ename(long r)
{
	static char b[4][32];
	static int i;
	const char *n;

	i = (i + 1) & 3;
	if (r >= 0) {
		snprintf(b[i], sizeof(b[i]), "%ld", r);
		return b[i];
	}
	n = strerrorname_np((int)-r);
	snprintf(b[i], sizeof(b[i]), "-%s", n ? n : "E?");
	return b[i];
}

/* ---------------- one side ---------------- */

/* The result of a call: >= 0 or -errno. */
static long R(long r)
{
	return r < 0 ? -errno : r;
}

struct statres {
	long r;
	struct stat st;
};

/* struct dent (name, type) comes from sim/sim.h */

static int dentcmp(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name,
		      ((const struct dent *)b)->name);
}

/* List a directory (without . and ..), sorted; returns count or -errno. */
static long listdir(const char *path, struct dent **out)
{
	DIR *d = opendir(path);
	struct dirent *e;
	struct dent *v = NULL;
	long n = 0, cap = 0;

	*out = NULL;
	if (!d)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				exit(2);
		}
		v[n].name = strdup(e->d_name);
		v[n].type = e->d_type;
		n++;
	}
	closedir(d);
	qsort(v, n, sizeof(*v), dentcmp);
	*out = v;
	return n;
}

static void freelist(struct dent *v, long n)
{
	for (long i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* ---------------- comparisons ---------------- */

static int same_attr(const struct stat *a, const struct stat *b, int nlink,
		     char *why, size_t wl)
{
	if ((a->st_mode & S_IFMT) != (b->st_mode & S_IFMT)) {
		snprintf(why, wl, "type %o vs %o", a->st_mode & S_IFMT,
			 b->st_mode & S_IFMT);
		return 0;
	}
	if ((a->st_mode & 07777) != (b->st_mode & 07777)) {
		snprintf(why, wl, "mode %04o vs %04o", a->st_mode & 07777,
			 b->st_mode & 07777);
		return 0;
	}
	if (!S_ISDIR(a->st_mode) && a->st_size != b->st_size) {
		snprintf(why, wl, "size %lld vs %lld", (long long)a->st_size,
			 (long long)b->st_size);
		return 0;
	}
	if (nlink && a->st_nlink != b->st_nlink) {
		snprintf(why, wl, "nlink %lu vs %lu",
			 (unsigned long)a->st_nlink,
			 (unsigned long)b->st_nlink);
		return 0;
	}
	if (a->st_uid != b->st_uid || a->st_gid != b->st_gid) {
		snprintf(why, wl, "owner %u:%u vs %u:%u", a->st_uid, a->st_gid,
			 b->st_uid, b->st_gid);
		return 0;
	}
	if ((S_ISCHR(a->st_mode) || S_ISBLK(a->st_mode)) &&
	    a->st_rdev != b->st_rdev) {
		snprintf(why, wl, "rdev %u:%u vs %u:%u", major(a->st_rdev),
			 minor(a->st_rdev), major(b->st_rdev),
			 minor(b->st_rdev));
		return 0;
	}
	return 1;
}

static long tree_entries, tree_diffs;

static void tdiff(const char *rel, const char *fmt, ...)
{
	va_list ap;

	tree_diffs++;
	if (tree_diffs > max_show)
		return;
	printf("DIFF %s: ", *rel ? rel : "/");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Compare the regular files a and b byte by byte. */
static int same_data(const char *a, const char *b)
{
	int fa = open(a, O_RDONLY), fb = open(b, O_RDONLY), ok = 1;
	static uint8_t ba[1 << 16], bb[1 << 16];

	if (fa < 0 || fb < 0) {
		ok = 0;
		goto out;
	}
	for (;;) {
		ssize_t na = read(fa, ba, sizeof(ba));
		ssize_t nb = na > 0 ? read(fb, bb, (size_t)na) :
				      read(fb, bb, 1);

		if (na != nb || na < 0 || memcmp(ba, bb, na > 0 ? na : 0)) {
			ok = 0;
			break;
		}
		if (na == 0)
			break;
	}
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return ok;
}

/* Compare the trees below a and b (rel: path below both, "" at the top). */
static void cmptree(const char *a, const char *b, const char *rel, int nlink)
{
	struct dent *va, *vb;
	long na = listdir(a, &va), nb = listdir(b, &vb), i = 0, j = 0;

	if (na < 0 || nb < 0) {
		tdiff(rel, "cannot list (%s, %s)", ename(na), ename(nb));
		freelist(va, na > 0 ? na : 0);
		freelist(vb, nb > 0 ? nb : 0);
		return;
	}
	while (i < na || j < nb) {
		int c = i >= na ? 1 :
			j >= nb ? -1 :
				  strcmp(va[i].name, vb[j].name);
		char pa[PATH_MAX], pb[PATH_MAX], r[PATH_MAX], why[128];
		struct stat sa, sb;

		if (c < 0) {
			snprintf(r, sizeof(r), "%s/%s", rel, va[i].name);
			tdiff(r, "only in %s", a);
			i++;
			continue;
		}
		if (c > 0) {
			snprintf(r, sizeof(r), "%s/%s", rel, vb[j].name);
			tdiff(r, "only in %s", b);
			j++;
			continue;
		}
		tree_entries++;
		snprintf(pa, sizeof(pa), "%s/%s", a, va[i].name);
		snprintf(pb, sizeof(pb), "%s/%s", b, vb[j].name);
		snprintf(r, sizeof(r), "%s/%s", rel, va[i].name);
		i++, j++;
		if (lstat(pa, &sa) || lstat(pb, &sb)) {
			tdiff(r, "lstat failed");
			continue;
		}
		if (!same_attr(&sa, &sb, nlink && !S_ISDIR(sa.st_mode), why,
			       sizeof(why))) {
			tdiff(r, "%s", why);
			continue;
		}
		if (S_ISREG(sa.st_mode) && !same_data(pa, pb))
			tdiff(r, "data differs");
		if (S_ISLNK(sa.st_mode)) {
			char ta[PATH_MAX + 1], tb[PATH_MAX + 1];
			ssize_t la = readlink(pa, ta, PATH_MAX);
			ssize_t lb = readlink(pb, tb, PATH_MAX);

			if (la != lb || la < 0 || memcmp(ta, tb, la))
				tdiff(r, "symlink target differs");
		}
		if (S_ISDIR(sa.st_mode))
			cmptree(pa, pb, r, nlink);
	}
	freelist(va, na);
	freelist(vb, nb);
}

/* ---------------- the replay ---------------- */

static int oflags(char *s)
{
	int f = 0, acc = O_RDONLY;

	for (char *t = strtok(s, "|"); t; t = strtok(NULL, "|")) {
		if (!strcmp(t, "rdonly"))
			acc = O_RDONLY;
		else if (!strcmp(t, "wronly"))
			acc = O_WRONLY;
		else if (!strcmp(t, "rdwr"))
			acc = O_RDWR;
		else if (!strcmp(t, "creat"))
			f |= O_CREAT;
		else if (!strcmp(t, "excl"))
			f |= O_EXCL;
		else if (!strcmp(t, "trunc"))
			f |= O_TRUNC;
		else if (!strcmp(t, "append"))
			f |= O_APPEND;
		else if (!strcmp(t, "directory"))
			f |= O_DIRECTORY;
		else if (!strcmp(t, "nofollow"))
			f |= O_NOFOLLOW;
	}
	return f | acc;
}

static void closefd(struct tfd *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->rfd >= 0)
		close(t->rfd);
	t->fd = t->rfd = -1;
}

/* check(NAME, RT, RR, HAVE, EXP, ISFD): compare a result with the trace
 * and the reference; returns 1 if all agree. */
static int check(const char *name, long rt, long rr, int have, long exp,
		 int isfd)
{
	long ct = rt, cr = rr, ce = exp;
	int ok = 1;

	if (isfd) {
		ct = rt >= 0 ? 0 : rt;
		cr = rr >= 0 ? 0 : rr;
		ce = exp >= 0 ? 0 : exp;
	}
	if (have && ct != ce) {
		fail("%s = %s, trace expects %s", name, ename(rt), ename(exp));
		ok = 0;
	} else if (refroot && ct != cr) {
		fail("%s = %s, reference gives %s", name, ename(rt), ename(rr));
		ok = 0;
	}
	if (refroot && have && cr != ce)
		note("%s: reference gives %s, trace expects %s", name,
		     ename(rr), ename(exp));
	return ok;
}

static struct tfd *getfd(const char *s)
{
	long n = num(s);

	if (n < 0 || n >= MAXFD) {
		fprintf(stderr, "h2replay: line %ld: fd %ld out of range\n",
			lineno, n);
		exit(2);
	}
	return &fds[n];
}

/* stat-like call on both sides, compared. */
static void do_stat(const char *name, int kind, const char *p, struct tfd *t,
		    int have, long exp)
{
	char pt[PATH_MAX], pr[PATH_MAX], why[128];
	struct stat st, sr;
	long rt, rr = 0;

	if (kind == 2) {
		rt = t->fd < 0 ? -EBADF : R(fstat(t->fd, &st));
		if (refroot)
			rr = t->rfd < 0 ? -EBADF : R(fstat(t->rfd, &sr));
	} else {
		mkpath(pt, root, p);
		rt = R(kind ? lstat(pt, &st) : stat(pt, &st));
		if (refroot) {
			mkpath(pr, refroot, p);
			rr = R(kind ? lstat(pr, &sr) : stat(pr, &sr));
		}
	}
	if (!check(name, rt, rr, have, exp, 0))
		return;
	if (refroot && rt == 0 && rr == 0 &&
	    !same_attr(&st, &sr, 1, why, sizeof(why))) {
		fail("%s %s: %s (test vs reference)", name, p ? p : "", why);
		return;
	}
	n_pass++;
}

static void replay_line(char *line)
{
	char *tok[MAXTOK], *save, pt[PATH_MAX], pr[PATH_MAX], pt2[PATH_MAX],
		pr2[PATH_MAX];
	int nt = 0, have = 0, ref = refroot != NULL;
	long exp = 0, rt = 0, rr = 0;
	const char *op;
	struct tfd *t;

	for (char *s = strtok_r(line, " ", &save); s && nt < MAXTOK;
	     s = strtok_r(NULL, " ", &save))
		tok[nt++] = s;
	if (nt >= 2 && !strcmp(tok[nt - 2], "=")) {
		have = 1;
		if (tok[nt - 1][0] == '-') {
			int e = errno_from_name(tok[nt - 1] + 1);

			if (!e) {
				fprintf(stderr,
					"h2replay: line %ld: bad errno %s\n",
					lineno, tok[nt - 1]);
				exit(2);
			}
			exp = -e;
		} else {
			exp = num(tok[nt - 1]);
		}
		nt -= 2;
	}
	if (nt == 0)
		return;
	op = tok[0];
	for (int i = 1; i < nt; i++)
		if (strchr(tok[i], '%'))
			pdecode(tok[i]);

	if (!strcmp(op, "h2trace") || !strcmp(op, "source") ||
	    !strcmp(op, "volume"))
		return;
	if (!strcmp(op, "seed")) {
		seed = strtoull(tok[1], NULL, 0);
		return;
	}
	n_ops++;
#define NEED(n)                                                           \
	do {                                                              \
		if (nt < (n) + 1) {                                       \
			fprintf(stderr,                                   \
				"h2replay: line %ld: %s needs %d args\n", \
				lineno, op, (n));                         \
			exit(2);                                          \
		}                                                         \
	} while (0)
#define BOTH(expr_t, expr_r)              \
	do {                              \
		rt = R(expr_t);           \
		rr = ref ? R(expr_r) : 0; \
	} while (0)

	if (!strcmp(op, "open")) {
		int fl;
		mode_t m;

		NEED(4);
		t = getfd(tok[1]);
		closefd(t);
		fl = oflags(tok[3]);
		m = (mode_t)num(tok[4]);
		BOTH(open(mkpath(pt, root, tok[2]), fl, m),
		     open(mkpath(pr, refroot, tok[2]), fl, m));
		if (rt >= 0)
			t->fd = (int)rt;
		if (ref && rr >= 0)
			t->rfd = (int)rr;
		t->append = !!(fl & O_APPEND);
		t->key = fnv1a64(tok[2], strlen(tok[2]));
		if (check(op, rt, rr, have, exp, 1))
			n_pass++;
		return;
	}
	if (!strcmp(op, "close")) {
		NEED(1);
		t = getfd(tok[1]);
		rt = t->fd < 0 ? -EBADF : R(close(t->fd));
		rr = !ref ? 0 : t->rfd < 0 ? -EBADF : R(close(t->rfd));
		t->fd = t->rfd = -1;
	} else if (!strcmp(op, "mkdir")) {
		NEED(2);
		BOTH(mkdir(mkpath(pt, root, tok[1]), (mode_t)num(tok[2])),
		     mkdir(mkpath(pr, refroot, tok[1]), (mode_t)num(tok[2])));
	} else if (!strcmp(op, "mknod")) {
		mode_t ty = S_IFREG;
		dev_t dev;

		NEED(5);
		if (!strcmp(tok[2], "fifo"))
			ty = S_IFIFO;
		else if (!strcmp(tok[2], "chr"))
			ty = S_IFCHR;
		else if (!strcmp(tok[2], "blk"))
			ty = S_IFBLK;
		else if (!strcmp(tok[2], "sock"))
			ty = S_IFSOCK;
		dev = makedev(num(tok[4]), num(tok[5]));
		BOTH(mknod(mkpath(pt, root, tok[1]), ty | num(tok[3]), dev),
		     mknod(mkpath(pr, refroot, tok[1]), ty | num(tok[3]), dev));
	} else if (!strcmp(op, "symlink")) {
		NEED(2);
		BOTH(symlink(tok[1], mkpath(pt, root, tok[2])),
		     symlink(tok[1], mkpath(pr, refroot, tok[2])));
	} else if (!strcmp(op, "link")) {
		NEED(2);
		BOTH(link(mkpath(pt, root, tok[1]), mkpath(pt2, root, tok[2])),
		     link(mkpath(pr, refroot, tok[1]),
			  mkpath(pr2, refroot, tok[2])));
	} else if (!strcmp(op, "unlink")) {
		NEED(1);
		BOTH(unlink(mkpath(pt, root, tok[1])),
		     unlink(mkpath(pr, refroot, tok[1])));
	} else if (!strcmp(op, "rmdir")) {
		NEED(1);
		BOTH(rmdir(mkpath(pt, root, tok[1])),
		     rmdir(mkpath(pr, refroot, tok[1])));
	} else if (!strcmp(op, "rename")) {
		unsigned fl = 0;

		NEED(2);
		if (nt > 3 && !strcmp(tok[3], "noreplace"))
			fl = RENAME_NOREPLACE;
		else if (nt > 3 && !strcmp(tok[3], "exchange"))
			fl = RENAME_EXCHANGE;
		BOTH(syscall(SYS_renameat2, AT_FDCWD, mkpath(pt, root, tok[1]),
			     AT_FDCWD, mkpath(pt2, root, tok[2]), fl),
		     syscall(SYS_renameat2, AT_FDCWD,
			     mkpath(pr, refroot, tok[1]), AT_FDCWD,
			     mkpath(pr2, refroot, tok[2]), fl));
	} else if (!strcmp(op, "write") || !strcmp(op, "pwrite")) {
		int pw = op[0] == 'p';
		size_t len;
		off_t off, roff = 0;
		struct stat st;

		NEED(pw ? 3 : 2);
		t = getfd(tok[1]);
		len = (size_t)num(tok[pw ? 3 : 2]);
		ensure_buf(len);
		if (t->fd < 0) {
			rt = -EBADF;
		} else {
			if (pw)
				off = num(tok[2]);
			else if (t->append && fstat(t->fd, &st) == 0)
				off = st.st_size;
			else
				off = lseek(t->fd, 0, SEEK_CUR);
			gen_fill(buf, len, seed, t->key, off < 0 ? 0 : off);
			rt = pw ? R(pwrite(t->fd, buf, len, off)) :
				  R(write(t->fd, buf, len));
		}
		if (ref) {
			if (t->rfd < 0) {
				rr = -EBADF;
			} else {
				if (pw)
					roff = num(tok[2]);
				else if (t->append && fstat(t->rfd, &st) == 0)
					roff = st.st_size;
				else
					roff = lseek(t->rfd, 0, SEEK_CUR);
				gen_fill(buf, len, seed, t->key,
					 roff < 0 ? 0 : roff);
				rr = pw ? R(pwrite(t->rfd, buf, len, roff)) :
					  R(write(t->rfd, buf, len));
			}
		}
	} else if (!strcmp(op, "read") || !strcmp(op, "pread")) {
		int pr_ = op[0] == 'p';
		size_t len;
		off_t off = 0;

		NEED(pr_ ? 3 : 2);
		t = getfd(tok[1]);
		len = (size_t)num(tok[pr_ ? 3 : 2]);
		if (pr_)
			off = num(tok[2]);
		ensure_buf(len);
		rt = t->fd < 0 ? -EBADF :
		     pr_       ? R(pread(t->fd, buf, len, off)) :
				 R(read(t->fd, buf, len));
		if (ref)
			rr = t->rfd < 0 ? -EBADF :
			     pr_	? R(pread(t->rfd, rbuf, len, off)) :
					  R(read(t->rfd, rbuf, len));
		if (!check(op, rt, rr, have, exp, 0))
			return;
		if (ref && rt > 0 && rt == rr && memcmp(buf, rbuf, rt)) {
			fail("%s: %ld bytes differ from the reference", op, rt);
			return;
		}
		n_pass++;
		return;
	} else if (!strcmp(op, "lseek")) {
		int wh = SEEK_SET;

		NEED(3);
		t = getfd(tok[1]);
		if (!strcmp(tok[3], "cur"))
			wh = SEEK_CUR;
		else if (!strcmp(tok[3], "end"))
			wh = SEEK_END;
		rt = t->fd < 0 ? -EBADF : R(lseek(t->fd, num(tok[2]), wh));
		rr = !ref	? 0 :
		     t->rfd < 0 ? -EBADF :
				  R(lseek(t->rfd, num(tok[2]), wh));
	} else if (!strcmp(op, "truncate")) {
		NEED(2);
		BOTH(truncate(mkpath(pt, root, tok[1]), num(tok[2])),
		     truncate(mkpath(pr, refroot, tok[1]), num(tok[2])));
	} else if (!strcmp(op, "ftruncate")) {
		NEED(2);
		t = getfd(tok[1]);
		rt = t->fd < 0 ? -EBADF : R(ftruncate(t->fd, num(tok[2])));
		rr = !ref	? 0 :
		     t->rfd < 0 ? -EBADF :
				  R(ftruncate(t->rfd, num(tok[2])));
	} else if (!strcmp(op, "fallocate")) {
		NEED(4);
		t = getfd(tok[1]);
		rt = t->fd < 0 ? -EBADF :
				 R(fallocate(t->fd, (int)num(tok[2]),
					     num(tok[3]), num(tok[4])));
		rr = !ref	? 0 :
		     t->rfd < 0 ? -EBADF :
				  R(fallocate(t->rfd, (int)num(tok[2]),
					      num(tok[3]), num(tok[4])));
	} else if (!strcmp(op, "chmod")) {
		NEED(2);
		BOTH(chmod(mkpath(pt, root, tok[1]), (mode_t)num(tok[2])),
		     chmod(mkpath(pr, refroot, tok[1]), (mode_t)num(tok[2])));
	} else if (!strcmp(op, "fchmod")) {
		NEED(2);
		t = getfd(tok[1]);
		rt = t->fd < 0 ? -EBADF : R(fchmod(t->fd, (mode_t)num(tok[2])));
		rr = !ref	? 0 :
		     t->rfd < 0 ? -EBADF :
				  R(fchmod(t->rfd, (mode_t)num(tok[2])));
	} else if (!strcmp(op, "chown")) {
		NEED(3);
		BOTH(chown(mkpath(pt, root, tok[1]), (uid_t)num(tok[2]),
			   (gid_t)num(tok[3])),
		     chown(mkpath(pr, refroot, tok[1]), (uid_t)num(tok[2]),
			   (gid_t)num(tok[3])));
	} else if (!strcmp(op, "fchown")) {
		NEED(3);
		t = getfd(tok[1]);
		rt = t->fd < 0 ? -EBADF :
				 R(fchown(t->fd, (uid_t)num(tok[2]),
					  (gid_t)num(tok[3])));
		rr = !ref	? 0 :
		     t->rfd < 0 ? -EBADF :
				  R(fchown(t->rfd, (uid_t)num(tok[2]),
					   (gid_t)num(tok[3])));
	} else if (!strcmp(op, "utimes")) {
		struct timespec ts[2];

		NEED(3);
		for (int i = 0; i < 2; i++) {
			long long us = num(tok[2 + i]);

			if (us == -1) {
				ts[i].tv_sec = 0;
				ts[i].tv_nsec = UTIME_OMIT;
			} else if (us == -2) {
				ts[i].tv_sec = 0;
				ts[i].tv_nsec = UTIME_NOW;
			} else {
				ts[i].tv_sec = us / 1000000;
				ts[i].tv_nsec = (us % 1000000) * 1000;
			}
		}
		BOTH(utimensat(AT_FDCWD, mkpath(pt, root, tok[1]), ts, 0),
		     utimensat(AT_FDCWD, mkpath(pr, refroot, tok[1]), ts, 0));
	} else if (!strcmp(op, "stat") || !strcmp(op, "lstat")) {
		NEED(1);
		do_stat(op, op[0] == 'l', tok[1], NULL, have, exp);
		return;
	} else if (!strcmp(op, "fstat")) {
		NEED(1);
		do_stat(op, 2, NULL, getfd(tok[1]), have, exp);
		return;
	} else if (!strcmp(op, "readdir")) {
		struct dent *vt = NULL, *vr = NULL;
		long i;

		NEED(1);
		rt = listdir(mkpath(pt, root, tok[1]), &vt);
		rr = ref ? listdir(mkpath(pr, refroot, tok[1]), &vr) : 0;
		if (check(op, rt, rr, have, exp, 0)) {
			for (i = 0; ref && rt > 0 && i < rt; i++)
				if (strcmp(vt[i].name, vr[i].name) ||
				    vt[i].type != vr[i].type)
					break;
			if (ref && rt > 0 && i < rt)
				fail("readdir %s: entry %s (type %d) vs %s "
				     "(type %d) in the reference",
				     tok[1], vt[i].name, vt[i].type, vr[i].name,
				     vr[i].type);
			else
				n_pass++;
		}
		freelist(vt, rt > 0 ? rt : 0);
		freelist(vr, rr > 0 ? rr : 0);
		return;
	} else if (!strcmp(op, "readlink")) {
		char bt[PATH_MAX + 1], br[PATH_MAX + 1];

		NEED(1);
		BOTH(readlink(mkpath(pt, root, tok[1]), bt, PATH_MAX),
		     readlink(mkpath(pr, refroot, tok[1]), br, PATH_MAX));
		if (!check(op, rt, rr, have, exp, 0))
			return;
		if (ref && rt > 0 && memcmp(bt, br, rt)) {
			fail("readlink %s: target differs", tok[1]);
			return;
		}
		n_pass++;
		return;
	} else if (!strcmp(op, "fsync") || !strcmp(op, "fdatasync")) {
		int ds = op[1] == 'd';

		NEED(1);
		t = getfd(tok[1]);
		rt = t->fd < 0 ? -EBADF :
				 R(ds ? fdatasync(t->fd) : fsync(t->fd));
		/* the reference is memory: no need to sync it */
		rr = !ref ? 0 : t->rfd < 0 ? -EBADF : 0;
	} else if (!strcmp(op, "sync")) {
		sync();
		rt = rr = 0;
	} else if (!strcmp(op, "remount")) {
		n_ops--;
		if (!remount_cmd) {
			n_skipped++;
			return;
		}
		for (int i = 0; i < MAXFD; i++)
			closefd(&fds[i]);
		if (system(remount_cmd) != 0)
			fail("remount: '%s' failed", remount_cmd);
		return;
	} else if (!strcmp(op, "crash") || !strcmp(op, "check")) {
		n_ops--;
		n_skipped++;
		return;
	} else {
		fprintf(stderr, "h2replay: line %ld: unknown operation %s\n",
			lineno, op);
		exit(2);
	}
	if (check(op, rt, rr, have, exp, 0))
		n_pass++;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: h2replay [-r REFROOT] [-m MAX] [-R REMOUNT_CMD] [-t] "
		"TRACE ROOT\n"
		"       h2replay -c [-n] [-m MAX] A B\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int c, cmp = 0, nlink = 1, timing = 0;
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	double t0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt(argc, argv, "r:m:R:tcn")) != -1) {
		switch (c) {
		case 'r':
			refroot = optarg;
			break;
		case 'm':
			max_show = atoi(optarg);
			break;
		case 'R':
			remount_cmd = optarg;
			break;
		case 't':
			timing = 1;
			break;
		case 'c':
			cmp = 1;
			break;
		case 'n':
			nlink = 0;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	if (cmp) {
		cmptree(argv[optind], argv[optind + 1], "", nlink);
		printf("treecmp: %ld entries, %ld differences\n", tree_entries,
		       tree_diffs);
		return tree_diffs ? 1 : 0;
	}
	root = argv[optind + 1];
	for (int i = 0; i < MAXFD; i++)
		fds[i].fd = fds[i].rfd = -1;
	f = fopen(argv[optind], "r");
	if (!f) {
		perror(argv[optind]);
		return 2;
	}
	t0 = now();
	while (getline(&line, &cap, f) > 0) {
		size_t l = strlen(line);

		lineno++;
		if (l && line[l - 1] == '\n')
			line[--l] = 0;
		if (!l || line[0] == '#')
			continue;
		replay_line(line);
	}
	fclose(f);
	for (int i = 0; i < MAXFD; i++)
		closefd(&fds[i]);
	if (timing) {
		double dt = now() - t0;

		printf("time: %ld ops in %.3f s, %.0f ops/s\n", n_ops, dt,
		       dt > 0 ? n_ops / dt : 0.0);
	}
	if (n_skipped)
		printf("skipped: %ld crash/check/remount directives\n",
		       n_skipped);
	if (n_refnotes)
		printf("notes: %ld results where the reference differs from "
		       "the trace\n",
		       n_refnotes);
	if (refroot) {
		cmptree(root, refroot, "", nlink);
		printf("treecmp: %ld entries, %ld differences\n", tree_entries,
		       tree_diffs);
		if (tree_diffs)
			n_fail++;
		else
			n_pass++;
	}
	printf("h2replay: %ld passed, %ld failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
