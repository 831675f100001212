/*
 * import_strace.c - turn an strace capture into an h2sim trace.
 *
 * Input: `strace -f -ttt -X raw` text (see ../shared/workloads/README.md),
 * read through zlib so plain and gzip files both work.  Output: a trace
 * (docs/TRACE.md) of the calls that touch /w, the filesystem under test,
 * with their expected results.
 *
 * How the capture is interpreted (decisions the capture cannot settle):
 *
 * - Processes.  Each PID has an fd table and a working directory (the
 *   first PID starts in /w with an empty table: 0, 1 and 2 are unknown,
 *   hence outside /w).  fork/clone are usually not in the capture (only
 *   %file,%desc were traced), so a PID seen for the first time copies the
 *   table and cwd of its guessed parent: the process with a clone/fork/
 *   vfork call still <unfinished ...> if there is one, otherwise the
 *   process of the previous line (a forking parent usually runs right
 *   before its child appears; in the captures this is right every time
 *   it matters).  Such guessed copies are *weak*: they do not keep the
 *   file open in the trace until the child uses the fd (any operation on
 *   it), because a wrong guess (say, a process that already exited) must
 *   not hold files open forever.  A weak fd used after the trace closed
 *   its file is reported as unreplayable.  When clone lines are present
 *   their result creates the child at once with a normal copy (or a
 *   shared table with CLONE_FILES), and `+++ exited`/`+++ killed` lines
 *   close the process's fds.  An open file description ("ofd") is closed
 *   in the trace when its last (non-weak) reference goes: close, dup2
 *   over it, execve of an O_CLOEXEC fd, exit.  Exits are not captured
 *   with -qq, so files still open at the end are closed after the last
 *   call.  getcwd results resynchronise the cwd.
 * - Trace fds: one per ofd under /w, so fds shared by fork or dup map to
 *   the same trace fd (they share the offset, as in the kernel).  The
 *   number is the program's own fd when free, else the lowest free >= 3.
 * - Paths are resolved lexically (`.`/`..` without following symlinks)
 *   against the cwd or the dirfd's path; /proc/self/fd/N, /proc/PID/fd/N
 *   and /dev/fd/N become the path of that fd.  Paths of open fds and cwds
 *   follow renames.  /w/x becomes /x; other paths are skipped.
 * - O_PATH opens are state only (a path for *at calls and /proc/self/fd);
 *   calls on them become the path form (fstat -> stat/lstat PATH, ...).
 * - Times: `-X raw` prints utimensat's times as [...]; as the checker
 *   does not compare times, unrecoverable times and NULL become
 *   `utimes PATH -2 -2` (now); times printed in full are converted.
 * - lchown and *at calls with AT_SYMLINK_NOFOLLOW (chown, utimes) are
 *   written as the following forms; they differ only on symlinks.
 * - read/readv: `read FD LEN` with the requested length; readv without
 *   visible iov_len uses the result.  write: the result on success, the
 *   requested length on failure.
 * - getdents64 -> `readdir PATH` at the first call on an ofd, later calls
 *   folded in until close or lseek to 0; its result (entries without `.`
 *   and `..`) is filled in from strace's "N entries" once the directory
 *   has been read to its end, unless a namespace change was imported
 *   meanwhile.
 * - copy_file_range/sendfile: source under /w -> `read SRC N` (or `pread`
 *   with an explicit offset), destination under /w -> `write DST N` (or
 *   `pwrite`), N the result; zero-length copies are dropped; failures on
 *   /w are unreplayable (a write cannot reproduce the error).
 * - access/faccessat -> `stat PATH` (ENOENT-like errors only; EACCES and
 *   such are unreplayable).
 * - Unreplayable (counted, reported once per kind): mmap MAP_SHARED
 *   writable of /w files, O_TMPFILE, FICLONE ioctls, SEEK_DATA/HOLE,
 *   F_SETFL changing O_APPEND, renameat2 whiteout, ...
 */
#include "import_strace.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Linux x86_64 values, as strace -X raw prints them. */
#define R_AT_FDCWD (-100)
#define R_O_ACCMODE 03
#define R_O_CREAT 0100
#define R_O_EXCL 0200
#define R_O_TRUNC 01000
#define R_O_APPEND 02000
#define R_O_DIRECTORY 0200000
#define R_O_NOFOLLOW 0400000
#define R_O_CLOEXEC 02000000
#define R_O_PATH 010000000
#define R_O_TMPFILE_BIT 020000000
#define R_AT_SYMLINK_NOFOLLOW 0x100
#define R_AT_REMOVEDIR 0x200
#define R_AT_EMPTY_PATH 0x1000
#define R_F_DUPFD 0
#define R_F_SETFD 2
#define R_F_SETFL 4
#define R_F_DUPFD_CLOEXEC 1030
#define R_CLONE_FILES 0x400
#define R_UTIME_NOW ((1LL << 30) - 1)
#define R_UTIME_OMIT ((1LL << 30) - 2)

#define MAXARGS 8
/* A path index past any argument: at_target() then uses the fd form. */
#define NOPATH 99

/* Outcome of one call: the bucket it is counted in. */
enum outcome {
	OUT_IMPORTED,
	OUT_OUTSIDE,
	OUT_IGNORED,
	OUT_UNREPLAYABLE,
	OUT_UNRESOLVED,
	OUT_UNKNOWN,
};

/* Where a path or fd argument points. */
enum where { W_IN, W_OUT, W_UNRESOLVED };

/* An open file description. */
struct ofd {
	struct ofd *prev, *next; /* live list (for renames) */
	int refs;		 /* fd slots pointing here */
	int strong;		 /* of which not weak */
	int dead;		 /* trace fd closed while weak slots remain */
	int tfd;		 /* trace fd, -1 if none */
	char *path;		 /* absolute host path, NULL if unknown */
	unsigned long flags;	 /* open flags */
	int is_dir;
	int path_only; /* O_PATH or O_TMPFILE: no trace fd */
	int rd_state;  /* getdents: 0 not read, 1 reading, 2 done */
	size_t rd_line;
	long long rd_entries;
	int rd_known;
	uint64_t rd_gen;
};

struct fdslot {
	struct ofd *o;
	int cloexec;
	int weak; /* inherited by guess, not used since: no trace close */
};

struct fdtab {
	int refs;
	int n;
	struct fdslot *s;
};

struct proc {
	int pid;
	char *cwd;
	struct fdtab *ft;
	char *pending; /* text of an <unfinished ...> call */
	int pending_clone;
};

struct call {
	char name[32];
	char *argbuf;
	const char *a[MAXARGS];
	int na;
	int has_res; /* result known (not ?) */
	long long ret;
	char err[24]; /* errno name when the call failed */
};

struct imp {
	struct import_stats *st;
	void (*report)(void *, const char *);
	void *rarg;
	long lineno;
	struct proc **procs;
	size_t nprocs, capprocs;
	int last_pid, clone_pid;
	struct ofd *live;
	unsigned char *tfd_used;
	int ntfd;
	char **out;
	size_t nout, capout;
	uint64_t nsgen; /* namespace changes imported */
	char **seen;	/* report keys already reported */
	size_t nseen;
};

/* ---------------------------------------------------------------- */
/* Memory and strings */

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL) {
		fprintf(stderr, "import_strace: out of memory\n");
		abort();
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xrealloc(NULL, n), s, n);
}

struct sb {
	char *s;
	size_t n, cap;
};

static void sb_grow(struct sb *b, size_t more)
{
	if (b->n + more + 1 > b->cap) {
		b->cap = (b->n + more + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
}

static void sb_add(struct sb *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_add(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	sb_grow(b, (size_t)k);
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, (size_t)k + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)k;
}

/* Percent-encode s as docs/TRACE.md asks ("%" for the empty string). */
static void sb_enc(struct sb *b, const char *s)
{
	static const char ok[] = "._-/+,@~:";
	const unsigned char *p = (const unsigned char *)s;

	sb_add(b, " ");
	if (*p == 0) {
		sb_add(b, "%%");
		return;
	}
	for (; *p; p++) {
		if (isalnum(*p) && *p < 0x80)
			sb_add(b, "%c", *p);
		else if (strchr(ok, *p) != NULL)
			sb_add(b, "%c", *p);
		else
			sb_add(b, "%%%02X", *p);
	}
}

/* ---------------------------------------------------------------- */
/* Reporting and output */

static void report_once(struct imp *im, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void report_once(struct imp *im, const char *key, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	size_t i;
	int k;

	for (i = 0; i < im->nseen; i++)
		if (strcmp(im->seen[i], key) == 0)
			return;
	im->seen = xrealloc(im->seen, (im->nseen + 1) * sizeof(char *));
	im->seen[im->nseen++] = xstrdup(key);
	if (im->report == NULL)
		return;
	k = snprintf(msg, sizeof(msg), "line %ld: ", im->lineno);
	va_start(ap, fmt);
	vsnprintf(msg + k, sizeof(msg) - (size_t)k, fmt, ap);
	va_end(ap);
	im->report(im->rarg, msg);
}

/* Append one finished line (takes b's buffer); returns its index. */
static size_t push_line(struct imp *im, struct sb *b)
{
	if (im->nout == im->capout) {
		im->capout = im->capout ? im->capout * 2 : 1024;
		im->out = xrealloc(im->out, im->capout * sizeof(char *));
	}
	sb_grow(b, 0);
	b->s[b->n] = 0;
	im->out[im->nout] = b->s;
	b->s = NULL;
	b->n = b->cap = 0;
	im->st->ops++;
	return im->nout++;
}

/* Append " = RESULT" for call c. */
static void sb_res(struct sb *b, const struct call *c)
{
	if (c->err[0])
		sb_add(b, " = -%s", c->err);
	else
		sb_add(b, " = %lld", c->ret);
}

/* ---------------------------------------------------------------- */
/* Trace fds */

static int tfd_pick(struct imp *im, int pref, int take)
{
	int i;

	if (pref >= im->ntfd || im->ntfd < 16) {
		int n = (pref > 8 ? pref : 8) * 2;

		im->tfd_used = xrealloc(im->tfd_used, (size_t)n);
		memset(im->tfd_used + im->ntfd, 0, (size_t)(n - im->ntfd));
		im->ntfd = n;
	}
	if (pref < 3 || im->tfd_used[pref]) {
		for (i = 3; i < im->ntfd && im->tfd_used[i]; i++)
			;
		if (i == im->ntfd)
			return tfd_pick(im, i, take);
		pref = i;
	}
	if (take)
		im->tfd_used[pref] = 1;
	return pref;
}

/* ---------------------------------------------------------------- */
/* Paths */

static int is_w(const char *p)
{
	return p != NULL && p[0] == '/' && p[1] == 'w' &&
	       (p[2] == 0 || p[2] == '/');
}

/* The trace path of host path p (which is under /w). */
static const char *tpath(const char *p)
{
	return p[2] ? p + 2 : "/";
}

/* Lexically normalise base + "/" + rel (rel absolute: base ignored). */
static char *norm_join(const char *base, const char *rel)
{
	size_t nb = rel[0] == '/' ? 0 : strlen(base);
	size_t n = nb + strlen(rel) + 3, len = 0, i;
	char *src = xrealloc(NULL, n), *out = xrealloc(NULL, n);

	snprintf(src, n, "%s/%s", rel[0] == '/' ? "" : base, rel);
	for (i = 0; src[i];) {
		size_t j = i, k;

		while (src[j] && src[j] != '/')
			j++;
		k = j - i;
		if (k == 0 || (k == 1 && src[i] == '.')) {
			/* skip */
		} else if (k == 2 && src[i] == '.' && src[i + 1] == '.') {
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;
		} else {
			out[len++] = '/';
			memcpy(out + len, src + i, k);
			len += k;
		}
		i = src[j] ? j + 1 : j;
	}
	if (len == 0)
		out[len++] = '/';
	out[len] = 0;
	free(src);
	return out;
}

static struct proc *find_proc(struct imp *im, int pid)
{
	size_t i;

	for (i = 0; i < im->nprocs; i++)
		if (im->procs[i]->pid == pid)
			return im->procs[i];
	return NULL;
}

static struct ofd *fdo(struct proc *p, long long fd)
{
	if (fd < 0 || fd >= p->ft->n)
		return NULL;
	return p->ft->s[fd].o;
}

/* Replace a /proc/self/fd/N-like prefix by the fd's path. */
static char *magic_fd(struct imp *im, struct proc *p, char *abs)
{
	static const char *const pre[] = { "/proc/self/fd/",
					   "/proc/thread-self/fd/",
					   "/dev/fd/" };
	const char *s = NULL;
	struct proc *q = p;
	struct ofd *o;
	char *end, *res;
	long fd;
	size_t i;

	for (i = 0; i < sizeof(pre) / sizeof(pre[0]) && s == NULL; i++)
		if (strncmp(abs, pre[i], strlen(pre[i])) == 0)
			s = abs + strlen(pre[i]);
	if (s == NULL && strncmp(abs, "/proc/", 6) == 0 &&
	    isdigit((unsigned char)abs[6])) {
		long pid = strtol(abs + 6, &end, 10);

		if (strncmp(end, "/fd/", 4) == 0) {
			s = end + 4;
			q = find_proc(im, (int)pid);
			if (q == NULL)
				q = p;
		}
	}
	if (s == NULL || !isdigit((unsigned char)*s))
		return abs;
	fd = strtol(s, &end, 10);
	if (*end != 0 && *end != '/')
		return abs;
	o = fdo(q, fd);
	if (o == NULL || o->path == NULL)
		return abs;
	res = norm_join(o->path, *end ? end + 1 : "");
	free(abs);
	return res;
}

/*
 * Resolve path rel (decoded) of process p relative to dirfd; returns an
 * absolute normalised path (malloc'd) or NULL when dirfd's path is unknown.
 */
static char *resolve(struct imp *im, struct proc *p, long long dirfd,
		     const char *rel)
{
	const char *base;

	if (rel[0] == '/') {
		base = "/";
	} else if (dirfd == R_AT_FDCWD) {
		base = p->cwd;
	} else {
		struct ofd *o = fdo(p, dirfd);

		if (o == NULL || o->path == NULL)
			return NULL;
		base = o->path;
	}
	return magic_fd(im, p, norm_join(base, rel));
}

/* Replace prefix from by to in *pp when *pp is from or below it. */
static int repath(char **pp, const char *from, const char *to)
{
	size_t n = strlen(from);
	char *s = *pp, *r;

	if (s == NULL || strncmp(s, from, n) != 0 || (s[n] != 0 && s[n] != '/'))
		return 0;
	r = xrealloc(NULL, strlen(to) + strlen(s + n) + 1);
	strcpy(r, to);
	strcat(r, s + n);
	free(s);
	*pp = r;
	return 1;
}

/* Paths of open fds and cwds follow a rename (or an exchange). */
static void rename_paths(struct imp *im, const char *from, const char *to,
			 int exchange)
{
	struct ofd *o;
	size_t i;

	for (o = im->live; o != NULL; o = o->next)
		if (!repath(&o->path, from, to) && exchange)
			repath(&o->path, to, from);
	for (i = 0; i < im->nprocs; i++)
		if (!repath(&im->procs[i]->cwd, from, to) && exchange)
			repath(&im->procs[i]->cwd, to, from);
}

/* ---------------------------------------------------------------- */
/* Processes and fd tables */

static struct ofd *ofd_new(struct imp *im, const char *path,
			   unsigned long flags)
{
	struct ofd *o = xrealloc(NULL, sizeof(*o));

	memset(o, 0, sizeof(*o));
	o->tfd = -1;
	o->path = path ? xstrdup(path) : NULL;
	o->flags = flags;
	o->is_dir = (flags & R_O_DIRECTORY) != 0;
	o->next = im->live;
	if (im->live)
		im->live->prev = o;
	im->live = o;
	return o;
}

static void emit_close(struct imp *im, int tfd, const struct call *c)
{
	struct sb b = { 0 };

	sb_add(&b, "close %d", tfd);
	if (c)
		sb_res(&b, c);
	else
		sb_add(&b, " = 0");
	push_line(im, &b);
}

/*
 * Release slot fd of p (c: the close call, or NULL).  The last strong
 * reference closes the trace fd; the ofd is freed with its last slot.
 */
static void slot_release(struct imp *im, struct proc *p, long long fd,
			 const struct call *c)
{
	struct fdslot *sl;
	struct ofd *o;

	if (fd < 0 || fd >= p->ft->n || p->ft->s[fd].o == NULL)
		return;
	sl = &p->ft->s[fd];
	o = sl->o;
	sl->o = NULL;
	if (!sl->weak && --o->strong == 0 && o->tfd >= 0) {
		emit_close(im, o->tfd, c);
		im->tfd_used[o->tfd] = 0;
		o->tfd = -1;
		o->dead = 1;
	}
	if (--o->refs > 0)
		return;
	if (o->prev)
		o->prev->next = o->next;
	else
		im->live = o->next;
	if (o->next)
		o->next->prev = o->prev;
	free(o->path);
	free(o);
}

/* A copy of table t (NULL: empty); weak: the copied slots are weak. */
static struct fdtab *tab_copy(const struct fdtab *t, int weak)
{
	struct fdtab *n = xrealloc(NULL, sizeof(*n));
	int i;

	n->refs = 1;
	n->n = t ? t->n : 0;
	n->s = xrealloc(NULL, (size_t)n->n * sizeof(struct fdslot) + 1);
	for (i = 0; i < n->n; i++) {
		n->s[i] = t->s[i];
		if (n->s[i].o == NULL)
			continue;
		n->s[i].weak |= weak;
		n->s[i].o->refs++;
		if (!n->s[i].weak)
			n->s[i].o->strong++;
	}
	return n;
}

/* Drop p's reference to its table (an exit, or execve unsharing it). */
static void tab_put(struct imp *im, struct proc *p)
{
	struct fdtab *t = p->ft;
	int i;

	if (--t->refs == 0) {
		t->refs = 1; /* slot_release works through p->ft */
		for (i = 0; i < t->n; i++)
			slot_release(im, p, i, NULL);
		free(t->s);
		free(t);
	}
	p->ft = NULL;
}

/* Clear slot fd (closing what was there). */
static void slot_clear(struct imp *im, struct proc *p, long long fd)
{
	slot_release(im, p, fd, NULL);
}

/* Bind fd to o (taking a new reference), replacing what was there. */
static void slot_set(struct imp *im, struct proc *p, long long fd,
		     struct ofd *o, int cloexec, int weak)
{
	struct fdtab *t = p->ft;

	if (fd < 0 || fd > 1 << 20)
		return;
	if (fd >= t->n) {
		int n = (int)fd * 2 + 8;

		t->s = xrealloc(t->s, (size_t)n * sizeof(struct fdslot));
		memset(t->s + t->n, 0, (size_t)(n - t->n) * sizeof(*t->s));
		t->n = n;
	}
	if (o) {
		o->refs++;
		if (!weak)
			o->strong++;
	}
	slot_clear(im, p, fd);
	t->s[fd].o = o;
	t->s[fd].cloexec = cloexec;
	t->s[fd].weak = weak;
}

/*
 * The ofd of fd for an operation on it: an inherited (weak) slot becomes
 * strong, unless the trace fd was already closed (o->dead).
 */
static struct ofd *fd_use(struct proc *p, long long fd)
{
	struct fdslot *sl;

	if (fd < 0 || fd >= p->ft->n || p->ft->s[fd].o == NULL)
		return NULL;
	sl = &p->ft->s[fd];
	if (sl->weak && !sl->o->dead) {
		sl->weak = 0;
		sl->o->strong++;
	}
	return sl->o;
}

/*
 * A new process; parent (may be NULL) gives the cwd and the fd table,
 * shared (share_files) or copied, the copy's slots weak if weak.
 */
static struct proc *proc_new(struct imp *im, int pid, struct proc *parent,
			     int share_files, int weak)
{
	struct proc *p = xrealloc(NULL, sizeof(*p));

	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->cwd = xstrdup(parent ? parent->cwd : "/w");
	if (parent && share_files) {
		p->ft = parent->ft;
		p->ft->refs++;
	} else {
		p->ft = tab_copy(parent ? parent->ft : NULL, weak);
	}
	if (im->nprocs == im->capprocs) {
		im->capprocs = im->capprocs ? im->capprocs * 2 : 16;
		im->procs = xrealloc(im->procs,
				     im->capprocs * sizeof(struct proc *));
	}
	im->procs[im->nprocs++] = p;
	return p;
}

/* The process of pid, created (from its guessed parent) if new. */
static struct proc *get_proc(struct imp *im, int pid)
{
	struct proc *p = find_proc(im, pid), *parent = NULL;

	if (p)
		return p;
	if (im->clone_pid)
		parent = find_proc(im, im->clone_pid);
	if (parent == NULL && im->last_pid)
		parent = find_proc(im, im->last_pid);
	return proc_new(im, pid, parent, 0, 1);
}

/* ---------------------------------------------------------------- */
/* Parsing */

struct sym {
	const char *name;
	long long v;
};

static const struct sym syms[] = {
	{ "AT_FDCWD", -100 },
	{ "NULL", 0 },
	{ "O_RDONLY", 0 },
	{ "O_WRONLY", 01 },
	{ "O_RDWR", 02 },
	{ "O_CREAT", 0100 },
	{ "O_EXCL", 0200 },
	{ "O_NOCTTY", 0400 },
	{ "O_TRUNC", 01000 },
	{ "O_APPEND", 02000 },
	{ "O_NONBLOCK", 04000 },
	{ "O_DSYNC", 010000 },
	{ "O_SYNC", 04010000 },
	{ "O_DIRECT", 040000 },
	{ "O_LARGEFILE", 0100000 },
	{ "O_DIRECTORY", 0200000 },
	{ "O_NOFOLLOW", 0400000 },
	{ "O_NOATIME", 01000000 },
	{ "O_CLOEXEC", 02000000 },
	{ "O_PATH", 010000000 },
	{ "O_TMPFILE", 020200000 },
	{ "AT_SYMLINK_NOFOLLOW", 0x100 },
	{ "AT_REMOVEDIR", 0x200 },
	{ "AT_EACCESS", 0x200 },
	{ "AT_SYMLINK_FOLLOW", 0x400 },
	{ "AT_NO_AUTOMOUNT", 0x800 },
	{ "AT_EMPTY_PATH", 0x1000 },
	{ "AT_STATX_SYNC_AS_STAT", 0 },
	{ "RENAME_NOREPLACE", 1 },
	{ "RENAME_EXCHANGE", 2 },
	{ "RENAME_WHITEOUT", 4 },
	{ "S_IFREG", 0100000 },
	{ "S_IFDIR", 040000 },
	{ "S_IFCHR", 020000 },
	{ "S_IFBLK", 060000 },
	{ "S_IFIFO", 010000 },
	{ "S_IFSOCK", 0140000 },
	{ "S_IFLNK", 0120000 },
	{ "F_DUPFD", 0 },
	{ "F_GETFD", 1 },
	{ "F_SETFD", 2 },
	{ "F_GETFL", 3 },
	{ "F_SETFL", 4 },
	{ "F_DUPFD_CLOEXEC", 1030 },
	{ "FD_CLOEXEC", 1 },
	{ "SEEK_SET", 0 },
	{ "SEEK_CUR", 1 },
	{ "SEEK_END", 2 },
	{ "SEEK_DATA", 3 },
	{ "SEEK_HOLE", 4 },
	{ "F_OK", 0 },
	{ "X_OK", 1 },
	{ "W_OK", 2 },
	{ "R_OK", 4 },
	{ "UTIME_NOW", (1LL << 30) - 1 },
	{ "UTIME_OMIT", (1LL << 30) - 2 },
};

/* Parse a number or an |-joined expression of numbers and known names. */
static int parse_expr(const char *s, long long *v)
{
	long long acc = 0;

	for (;;) {
		const char *e;
		size_t n, i;
		char *end;

		while (*s == ' ')
			s++;
		for (e = s; *e && *e != '|' && *e != ' ' && *e != ',' &&
			    *e != ')' && *e != '}';
		     e++)
			;
		n = (size_t)(e - s);
		if (n == 0)
			return -1;
		if (isdigit((unsigned char)*s) || *s == '-') {
			long long x = strtoll(s, &end, 0);

			if (end != e) {
				unsigned long long u = strtoull(s, &end, 0);

				if (end != e)
					return -1;
				x = (long long)u;
			}
			acc |= x;
		} else {
			for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
				if (strlen(syms[i].name) == n &&
				    memcmp(syms[i].name, s, n) == 0)
					break;
			if (i == sizeof(syms) / sizeof(syms[0]))
				return -1;
			acc |= syms[i].v;
		}
		while (*e == ' ')
			e++;
		if (*e != '|')
			break;
		s = e + 1;
	}
	*v = acc;
	return 0;
}

static int argnum(const struct call *c, int i, long long *v)
{
	if (i >= c->na)
		return -1;
	return parse_expr(c->a[i], v);
}

/* The text after the first "key" in any argument, or NULL. */
static const char *find_field(const struct call *c, const char *key)
{
	const char *f;
	int i;

	for (i = 0; i < c->na; i++)
		if ((f = strstr(c->a[i], key)) != NULL)
			return f + strlen(key);
	return NULL;
}

/* Decode a quoted strace string (escapes); NULL if s is not a string. */
static char *decode_str(const char *s)
{
	size_t n = 0;
	char *r;

	if (*s != '"')
		return NULL;
	r = xrealloc(NULL, strlen(s) + 1);
	for (s++; *s && *s != '"'; s++) {
		int ch = (unsigned char)*s;

		if (ch == '\\' && s[1]) {
			s++;
			switch (*s) {
			case 'n':
				ch = '\n';
				break;
			case 't':
				ch = '\t';
				break;
			case 'r':
				ch = '\r';
				break;
			case 'v':
				ch = '\v';
				break;
			case 'f':
				ch = '\f';
				break;
			case 'x': {
				int k;

				ch = 0;
				for (k = 0;
				     k < 2 && isxdigit((unsigned char)s[1]);
				     k++) {
					s++;
					ch = ch * 16 +
					     (isdigit((unsigned char)*s) ?
						      *s - '0' :
						      (tolower(*s) - 'a' + 10));
				}
				break;
			}
			default:
				if (*s >= '0' && *s <= '7') {
					int k;

					ch = *s - '0';
					for (k = 1; k < 3 && s[1] >= '0' &&
						    s[1] <= '7';
					     k++)
						ch = ch * 8 + (*++s - '0');
				} else {
					ch = (unsigned char)*s;
				}
			}
		}
		r[n++] = (char)ch;
	}
	r[n] = 0;
	return r;
}

static char *argstr(const struct call *c, int i)
{
	if (i >= c->na)
		return NULL;
	return decode_str(c->a[i]);
}

/* Skip a quoted string starting at s (on the quote); returns past it. */
static const char *skip_str(const char *s)
{
	for (s++; *s && *s != '"'; s++)
		if (*s == '\\' && s[1])
			s++;
	return *s ? s + 1 : s;
}

/*
 * Parse "NAME(ARGS) = RESULT" into c.  Returns 0, or -1 when the text is
 * not a call.
 */
static int parse_call(const char *text, struct call *c)
{
	const char *s = text, *open, *e;
	char *buf, *q, *start;
	int depth = 0;
	size_t n;

	memset(c, 0, sizeof(*c));
	while (isalnum((unsigned char)*s) || *s == '_')
		s++;
	n = (size_t)(s - text);
	if (n == 0 || n >= sizeof(c->name) || *s != '(')
		return -1;
	memcpy(c->name, text, n);
	open = s + 1;
	for (e = open; *e; e++) {
		if (*e == '"') {
			e = skip_str(e) - 1;
		} else if (e[0] == '/' && e[1] == '*') {
			const char *x = strstr(e + 2, "*/");

			if (x == NULL)
				return -1;
			e = x + 1;
		} else if (*e == '(' || *e == '[' || *e == '{') {
			depth++;
		} else if (*e == ']' || *e == '}') {
			depth--;
		} else if (*e == ')') {
			if (depth == 0)
				break;
			depth--;
		}
	}
	if (*e != ')')
		return -1;
	n = (size_t)(e - open);
	buf = c->argbuf = xrealloc(NULL, n + 1);
	memcpy(buf, open, n);
	buf[n] = 0;
	/* split at top-level commas */
	depth = 0;
	start = buf;
	for (q = buf;; q++) {
		if (*q == '"') {
			q = (char *)skip_str(q) - 1;
		} else if (q[0] == '/' && q[1] == '*') {
			q = strstr(q + 2, "*/") + 1;
		} else if (*q == '(' || *q == '[' || *q == '{') {
			depth++;
		} else if (*q == ')' || *q == ']' || *q == '}') {
			depth--;
		} else if ((*q == ',' && depth == 0) || *q == 0) {
			int last = *q == 0;
			char *t = q;

			while (*start == ' ')
				start++;
			while (t > start && t[-1] == ' ')
				t--;
			*t = 0;
			if (c->na < MAXARGS && (*start || !last || c->na))
				c->a[c->na++] = start;
			if (last)
				break;
			start = q + 1;
		}
	}
	/* result */
	s = e + 1;
	while (*s == ' ')
		s++;
	if (*s != '=')
		return 0; /* no result (e.g. exit): unknown */
	s++;
	while (*s == ' ')
		s++;
	if (*s == '?')
		return 0;
	{
		char *end;

		c->ret = strtoll(s, &end, 0);
		if (end == s)
			return 0;
		if (c->ret < 0) {
			size_t k = 0;

			while (*end == ' ')
				end++;
			while (isalnum((unsigned char)end[k]) &&
			       k + 1 < sizeof(c->err))
				k++;
			if (k == 0 || end[0] != 'E')
				snprintf(c->err, sizeof(c->err), "EIO");
			else
				memcpy(c->err, end, k);
		}
	}
	c->has_res = 1;
	return 0;
}

/* ---------------------------------------------------------------- */
/* Call handlers */

static const char *acc_names[] = { "rdonly", "wronly", "rdwr", "rdwr" };

static void sb_flags(struct sb *b, unsigned long f)
{
	sb_add(b, " %s", acc_names[f & R_O_ACCMODE]);
	if (f & R_O_CREAT)
		sb_add(b, "|creat");
	if (f & R_O_EXCL)
		sb_add(b, "|excl");
	if (f & R_O_TRUNC)
		sb_add(b, "|trunc");
	if (f & R_O_APPEND)
		sb_add(b, "|append");
	if (f & R_O_DIRECTORY)
		sb_add(b, "|directory");
	if (f & R_O_NOFOLLOW)
		sb_add(b, "|nofollow");
}

static void sb_mode(struct sb *b, long long mode)
{
	mode &= 07777;
	if (mode)
		sb_add(b, " 0%llo", mode);
	else
		sb_add(b, " 0");
}

/*
 * Resolve the path argument path_i (relative to the dirfd argument
 * dfd_i, or the cwd when dfd_i < 0).  *absp gets the absolute path for
 * W_IN and W_OUT (caller frees).
 */
static enum where get_path(struct imp *im, struct proc *p, const struct call *c,
			   int dfd_i, int path_i, char **absp)
{
	long long dfd = R_AT_FDCWD;
	char *rel = argstr(c, path_i), *abs;

	*absp = NULL;
	if (rel == NULL)
		return W_UNRESOLVED;
	if (dfd_i >= 0 && argnum(c, dfd_i, &dfd) != 0) {
		free(rel);
		return W_UNRESOLVED;
	}
	abs = resolve(im, p, dfd, rel);
	free(rel);
	if (abs == NULL)
		return W_UNRESOLVED;
	*absp = abs;
	return is_w(abs) ? W_IN : W_OUT;
}

/* Where fd argument i points: W_IN with *op for an ofd under /w. */
static enum where get_fd(struct proc *p, const struct call *c, int i,
			 struct ofd **op)
{
	long long fd;

	*op = NULL;
	if (argnum(c, i, &fd) != 0)
		return W_OUT;
	*op = fd_use(p, fd);
	if (*op == NULL || !is_w((*op)->path))
		return W_OUT;
	return W_IN;
}

static enum outcome where_out(struct imp *im, enum where w, const char *name)
{
	if (w == W_UNRESOLVED) {
		char key[64];

		snprintf(key, sizeof(key), "unresolved %s", name);
		report_once(im, key,
			    "%s: path relative to an fd of unknown path "
			    "(or unreadable), not imported",
			    name);
		return OUT_UNRESOLVED;
	}
	return OUT_OUTSIDE;
}

/*
 * Whether a call on a path target goes on: OUT_IMPORTED if w is W_IN and
 * the call has a result, else the call's outcome, with *absp freed and
 * set to NULL.
 */
static enum outcome path_gate(struct imp *im, enum where w,
			      const struct call *c, char **absp)
{
	enum outcome r;

	if (w != W_IN)
		r = where_out(im, w, c->name);
	else if (!c->has_res)
		r = OUT_IGNORED;
	else
		return OUT_IMPORTED;
	free(*absp);
	*absp = NULL;
	return r;
}

static enum outcome unreplayable(struct imp *im, const char *key,
				 const char *what)
{
	report_once(im, key, "%s: not expressible in a trace, not imported",
		    what);
	return OUT_UNREPLAYABLE;
}

/* An operation needing the trace fd of an ofd that has none. */
static enum outcome no_tfd(struct imp *im, const struct ofd *o)
{
	if (o->dead)
		return unreplayable(im, "dead-fd",
				    "use of an inherited fd after its last "
				    "known close (parent guess)");
	return unreplayable(im, "path-fd",
			    "read/write/sync on an O_PATH or O_TMPFILE fd "
			    "under /w");
}

/*
 * Whether a call on the fd in arg 0 goes on: OUT_IMPORTED if the fd is
 * under /w with a trace fd (*op) and the call has a result, else the
 * call's outcome.
 */
static enum outcome tfd_gate(struct imp *im, struct proc *p,
			     const struct call *c, struct ofd **op)
{
	if (get_fd(p, c, 0, op) != W_IN)
		return OUT_OUTSIDE;
	if (!c->has_res)
		return OUT_IGNORED;
	if ((*op)->tfd < 0)
		return no_tfd(im, *op);
	return OUT_IMPORTED;
}

/* Emit "OP PATH[ ...] = RESULT" for a one-path operation. */
static void emit_path_op(struct imp *im, const char *op, const char *abs,
			 const char *tail, const struct call *c)
{
	struct sb b = { 0 };

	sb_add(&b, "%s", op);
	sb_enc(&b, tpath(abs));
	if (tail)
		sb_add(&b, "%s", tail);
	sb_res(&b, c);
	push_line(im, &b);
}

static enum outcome do_open(struct imp *im, struct proc *p,
			    const struct call *c, int dfd_i, int path_i,
			    long long flags, long long mode)
{
	char *abs;
	enum where w = get_path(im, p, c, dfd_i, path_i, &abs);
	struct ofd *o;
	struct sb b = { 0 };
	int ok = c->has_res && !c->err[0], tfd;
	unsigned long f = (unsigned long)flags;

	if (w != W_IN) {
		if (ok) {
			o = ofd_new(im, abs, f);
			slot_set(im, p, c->ret, o, (f & R_O_CLOEXEC) != 0, 0);
		} else if (w == W_UNRESOLVED && c->has_res) {
			slot_clear(im, p, c->ret);
		}
		free(abs);
		return where_out(im, w, c->name);
	}
	if (!c->has_res) {
		free(abs);
		return OUT_IGNORED;
	}
	if ((f & R_O_TMPFILE_BIT) || (ok && (f & R_O_PATH))) {
		if (ok) {
			o = ofd_new(im, abs, f);
			o->path_only = 1;
			slot_set(im, p, c->ret, o, (f & R_O_CLOEXEC) != 0, 0);
		}
		free(abs);
		if (f & R_O_TMPFILE_BIT)
			return unreplayable(im, "O_TMPFILE",
					    "open(O_TMPFILE) under /w");
		return OUT_IGNORED;
	}
	if (f & R_O_PATH)
		f &= R_O_DIRECTORY | R_O_NOFOLLOW;
	tfd = tfd_pick(im, ok ? (int)c->ret : -1, ok);
	sb_add(&b, "open %d", tfd);
	sb_enc(&b, tpath(abs));
	sb_flags(&b, f);
	sb_mode(&b, (f & R_O_CREAT) ? mode : 0);
	if (ok)
		sb_add(&b, " = %d", tfd);
	else
		sb_res(&b, c);
	push_line(im, &b);
	if (f & R_O_CREAT)
		im->nsgen++;
	if (ok) {
		o = ofd_new(im, abs, f);
		o->tfd = tfd;
		slot_set(im, p, c->ret, o, (f & R_O_CLOEXEC) != 0, 0);
	}
	free(abs);
	return OUT_IMPORTED;
}

static enum outcome do_close(struct imp *im, struct proc *p,
			     const struct call *c)
{
	long long fd;
	struct ofd *o;
	enum outcome r;

	if (argnum(c, 0, &fd) != 0 || (o = fdo(p, fd)) == NULL)
		return OUT_OUTSIDE;
	r = is_w(o->path) ? OUT_IGNORED : OUT_OUTSIDE;
	/* the last strong reference emits the close (OUT_IMPORTED) */
	slot_release(im, p, fd, c);
	return r;
}

static void do_dup(struct imp *im, struct proc *p, long long oldfd,
		   long long newfd, int cloexec)
{
	struct ofd *o = fdo(p, oldfd);

	if (oldfd == newfd)
		return;
	if (o == NULL)
		slot_clear(im, p, newfd);
	else
		slot_set(im, p, newfd, o, cloexec, p->ft->s[oldfd].weak);
}

static void do_exec(struct imp *im, struct proc *p)
{
	struct fdtab *t = p->ft;
	int i;

	if (t->refs > 1) {
		struct fdtab *n = tab_copy(t, 0);

		tab_put(im, p);
		p->ft = n;
		t = n;
	}
	for (i = 0; i < t->n; i++)
		if (t->s[i].o && t->s[i].cloexec)
			slot_clear(im, p, i);
}

/* Sum of "iov_len=N" in s; -1 if none is shown. */
static long long iov_sum(const char *s)
{
	long long sum = -1;

	while (s && (s = strstr(s, "iov_len=")) != NULL) {
		s += 8;
		sum = (sum < 0 ? 0 : sum) + strtoll(s, NULL, 0);
	}
	return sum;
}

/*
 * read/write family: fd arg 0, requested length len (or -1 unknown), off
 * (-1: at the fd offset).
 */
static enum outcome do_rw(struct imp *im, struct proc *p, const struct call *c,
			  int is_write, long long len, long long off)
{
	struct ofd *o;
	struct sb b = { 0 };
	enum outcome g;

	if ((g = tfd_gate(im, p, c, &o)) != OUT_IMPORTED)
		return g;
	if (!c->err[0] && (is_write || len < 0))
		len = c->ret;
	if (len < 0)
		return unreplayable(im, "rw-len",
				    "failed readv/writev of unknown length");
	if (off >= 0)
		sb_add(&b, "%s %d %lld %lld", is_write ? "pwrite" : "pread",
		       o->tfd, off, len);
	else
		sb_add(&b, "%s %d %lld", is_write ? "write" : "read", o->tfd,
		       len);
	sb_res(&b, c);
	push_line(im, &b);
	return OUT_IMPORTED;
}

/*
 * The read/write family: is_write, iov (arg 1 is an iovec array, else
 * arg 2 the length) and at_off (arg 3 is the file offset, else the fd
 * offset is used).
 */
static const struct {
	const char *name;
	int is_write, iov, at_off;
} rwcalls[] = {
	{ "write", 1, 0, 0 },  { "pwrite64", 1, 0, 1 }, { "pwrite", 1, 0, 1 },
	{ "writev", 1, 1, 0 }, { "pwritev", 1, 1, 1 },	{ "pwritev2", 1, 1, 1 },
	{ "read", 0, 0, 0 },   { "pread64", 0, 0, 1 },	{ "pread", 0, 0, 1 },
	{ "readv", 0, 1, 0 },  { "preadv", 0, 1, 1 },	{ "preadv2", 0, 1, 1 },
};

/* "[N]" offset pointer: N, or -1 for NULL / not shown. */
static long long off_ptr(const struct call *c, int i)
{
	if (i < c->na && c->a[i][0] == '[')
		return strtoll(c->a[i] + 1, NULL, 0);
	return -1;
}

static enum outcome do_copy(struct imp *im, struct proc *p,
			    const struct call *c, int in_i, int in_off_i,
			    int out_i, int out_off_i)
{
	struct ofd *in, *out;
	int win = get_fd(p, c, in_i, &in) == W_IN;
	int wout = get_fd(p, c, out_i, &out) == W_IN;
	long long n = c->ret, off;
	struct sb b = { 0 };

	if (!win && !wout)
		return OUT_OUTSIDE;
	if (!c->has_res)
		return OUT_IGNORED;
	if (win && in->tfd < 0)
		return no_tfd(im, in);
	if (wout && out->tfd < 0)
		return no_tfd(im, out);
	if (c->err[0])
		return unreplayable(im, "copy-fail",
				    "failed copy_file_range/sendfile on /w");
	if (n == 0)
		return OUT_IGNORED;
	if (win) {
		off = off_ptr(c, in_off_i);
		if (off >= 0)
			sb_add(&b, "pread %d %lld %lld = %lld", in->tfd, off, n,
			       n);
		else
			sb_add(&b, "read %d %lld = %lld", in->tfd, n, n);
		push_line(im, &b);
	}
	if (wout) {
		off = out_off_i >= 0 ? off_ptr(c, out_off_i) : -1;
		if (off >= 0)
			sb_add(&b, "pwrite %d %lld %lld = %lld", out->tfd, off,
			       n, n);
		else
			sb_add(&b, "write %d %lld = %lld", out->tfd, n, n);
		push_line(im, &b);
	}
	return OUT_IMPORTED;
}

/* "makedev(0x1, 0x3)" or a raw dev_t. */
static void parse_dev(const char *s, long long *maj, long long *min)
{
	unsigned long long d;

	*maj = *min = 0;
	if (s == NULL)
		return;
	if (strncmp(s, "makedev(", 8) == 0) {
		char *end;

		*maj = strtoll(s + 8, &end, 0);
		while (*end == ',' || *end == ' ')
			end++;
		*min = strtoll(end, NULL, 0);
		return;
	}
	d = strtoull(s, NULL, 0);
	*maj = (long long)(((d >> 8) & 0xfff) | ((d >> 32) & ~0xfffULL));
	*min = (long long)((d & 0xff) | ((d >> 12) & ~0xffULL));
}

/* One time of a times array: "{tv_sec=S, tv_nsec=N}" -> microseconds. */
static long long one_time(const char *s, int usec)
{
	const char *t = strstr(s, "tv_sec="), *u;
	long long sec, sub;

	if (t == NULL)
		return -2;
	sec = strtoll(t + 7, NULL, 0);
	u = strstr(t, usec ? "tv_usec=" : "tv_nsec=");
	if (u == NULL)
		return -2;
	u += 8;
	if (!usec && strncmp(u, "UTIME_NOW", 9) == 0)
		return -2;
	if (!usec && strncmp(u, "UTIME_OMIT", 10) == 0)
		return -1;
	sub = strtoll(u, NULL, 0);
	if (!usec && sub == R_UTIME_NOW)
		return -2;
	if (!usec && sub == R_UTIME_OMIT)
		return -1;
	return sec * 1000000 + (usec ? sub : sub / 1000);
}

/* Times argument -> " ATIME MTIME" (-2: now, when not recoverable). */
static void sb_times(struct sb *b, const char *s, int usec)
{
	long long at = -2, mt = -2;

	if (s && s[0] == '[' && strstr(s, "tv_sec=")) {
		const char *second =
			strstr(strstr(s, "tv_sec=") + 7, "tv_sec=");

		at = one_time(s, usec);
		mt = second ? one_time(second, usec) : -2;
	} else if (s && s[0] == '{' && strstr(s, "actime=")) {
		at = strtoll(strstr(s, "actime=") + 7, NULL, 0) * 1000000;
		if (strstr(s, "modtime="))
			mt = strtoll(strstr(s, "modtime=") + 8, NULL, 0) *
			     1000000;
	}
	sb_add(b, " %lld %lld", at, mt);
}

/*
 * An fd-or-path target of *at calls: path arg path_i relative to dirfd
 * dfd_i; NULL path (or "" with AT_EMPTY_PATH) means dfd itself.  Sets
 * *absp (caller frees) and *op (the ofd for the fd form, else NULL).
 */
static enum where at_target(struct imp *im, struct proc *p,
			    const struct call *c, int dfd_i, int path_i,
			    long long atflags, char **absp, struct ofd **op)
{
	char *rel = path_i < c->na ? decode_str(c->a[path_i]) : NULL;
	int fdform = path_i >= c->na || strcmp(c->a[path_i], "NULL") == 0 ||
		     (rel && rel[0] == 0 && (atflags & R_AT_EMPTY_PATH));

	*op = NULL;
	*absp = NULL;
	free(rel);
	if (fdform) {
		enum where w = get_fd(p, c, dfd_i, op);

		if (w == W_IN)
			*absp = xstrdup((*op)->path);
		return w;
	}
	return get_path(im, p, c, dfd_i, path_i, absp);
}

/* at_target() and then path_gate() on its target. */
static enum outcome at_gate(struct imp *im, struct proc *p,
			    const struct call *c, int dfd_i, int path_i,
			    long long atflags, char **absp, struct ofd **op)
{
	enum where w = at_target(im, p, c, dfd_i, path_i, atflags, absp, op);

	return path_gate(im, w, c, absp);
}

static enum outcome do_stat(struct imp *im, struct proc *p,
			    const struct call *c, int dfd_i, int path_i,
			    long long atflags, int lstat)
{
	char *abs;
	struct ofd *o;
	struct sb b = { 0 };
	enum outcome g = at_gate(im, p, c, dfd_i, path_i, atflags, &abs, &o);

	if (g != OUT_IMPORTED)
		return g;
	if (o && !c->err[0] && find_field(c, "_mode=040"))
		o->is_dir = 1;
	if (o && o->tfd >= 0) {
		sb_add(&b, "fstat %d", o->tfd);
		sb_res(&b, c);
		push_line(im, &b);
	} else {
		if (o)
			lstat = (o->flags & R_O_NOFOLLOW) != 0;
		emit_path_op(im, lstat ? "lstat" : "stat", abs, NULL, c);
	}
	free(abs);
	return OUT_IMPORTED;
}

/*
 * Calls that take a path or an fd and have both forms in the trace:
 * chmod/fchmod, chown/fchown, truncate/ftruncate; utimes (path only).
 * op/fop: the trace operation names (fop NULL: use the path form).
 */
static enum outcome do_attr(struct imp *im, struct proc *p,
			    const struct call *c, int dfd_i, int path_i,
			    long long atflags, const char *op, const char *fop,
			    const char *tail)
{
	char *abs;
	struct ofd *o;
	struct sb b = { 0 };
	enum outcome g = at_gate(im, p, c, dfd_i, path_i, atflags, &abs, &o);

	if (g != OUT_IMPORTED)
		return g;
	if (o && o->tfd >= 0 && fop) {
		sb_add(&b, "%s %d%s", fop, o->tfd, tail);
		sb_res(&b, c);
		push_line(im, &b);
	} else if (o && o->tfd < 0 && c->err[0]) {
		free(abs);
		return unreplayable(im, "path-fd-fail",
				    "failed call on an O_PATH fd under /w");
	} else {
		emit_path_op(im, op, abs, tail, c);
	}
	free(abs);
	return OUT_IMPORTED;
}

static enum outcome do_ns1(struct imp *im, struct proc *p, const struct call *c,
			   int dfd_i, int path_i, const char *op,
			   const char *tail)
{
	char *abs;
	enum where w = get_path(im, p, c, dfd_i, path_i, &abs);
	enum outcome g;

	if ((g = path_gate(im, w, c, &abs)) != OUT_IMPORTED)
		return g;
	emit_path_op(im, op, abs, tail, c);
	im->nsgen++;
	free(abs);
	return OUT_IMPORTED;
}

static enum outcome do_ns2(struct imp *im, struct proc *p, const struct call *c,
			   int d1, int p1, int d2, int p2, long long flags,
			   int is_rename)
{
	char *a, *b2;
	enum where w1 = get_path(im, p, c, d1, p1, &a);
	enum where w2 = get_path(im, p, c, d2, p2, &b2);
	enum outcome r = OUT_IMPORTED;
	struct sb b = { 0 };

	if (w1 == W_UNRESOLVED || w2 == W_UNRESOLVED) {
		r = where_out(im, W_UNRESOLVED, c->name);
	} else if (w1 != W_IN || w2 != W_IN) {
		r = OUT_OUTSIDE; /* crosses /w: EXDEV or outside */
	} else if (!c->has_res) {
		r = OUT_IGNORED;
	} else if (is_rename && (flags & ~3LL)) {
		r = unreplayable(im, "rename-flags", "renameat2 flags");
	} else {
		sb_add(&b, "%s", is_rename ? "rename" : "link");
		sb_enc(&b, tpath(a));
		sb_enc(&b, tpath(b2));
		if (is_rename && (flags & 1))
			sb_add(&b, " noreplace");
		if (is_rename && (flags & 2))
			sb_add(&b, " exchange");
		sb_res(&b, c);
		push_line(im, &b);
		im->nsgen++;
		if (is_rename && !c->err[0])
			rename_paths(im, a, b2, (flags & 2) != 0);
	}
	free(a);
	free(b2);
	return r;
}

static enum outcome do_getdents(struct imp *im, struct proc *p,
				const struct call *c)
{
	struct ofd *o;
	const char *cm;
	long long entries = -1;
	struct sb b = { 0 };
	int emitted = 0;

	if (get_fd(p, c, 0, &o) != W_IN)
		return OUT_OUTSIDE;
	if (!c->has_res)
		return OUT_IGNORED;
	if (c->err[0]) {
		emit_path_op(im, "readdir", o->path, NULL, c);
		return OUT_IMPORTED;
	}
	o->is_dir = 1;
	if (c->na > 1 && (cm = strstr(c->a[1], "/* ")) != NULL &&
	    isdigit((unsigned char)cm[3]))
		entries = strtoll(cm + 3, NULL, 10);
	if (o->rd_state == 2)
		return OUT_IGNORED;
	if (o->rd_state == 0) {
		emitted = 1;
		sb_add(&b, "readdir");
		sb_enc(&b, tpath(o->path));
		o->rd_line = push_line(im, &b);
		o->rd_state = 1;
		o->rd_entries = 0;
		o->rd_known = 1;
		o->rd_gen = im->nsgen;
	}
	if (entries < 0)
		o->rd_known = 0;
	else
		o->rd_entries += entries;
	if (c->ret == 0) {
		o->rd_state = 2;
		if (o->rd_known && o->rd_gen == im->nsgen &&
		    o->rd_entries >= 2) {
			char *l = im->out[o->rd_line];
			size_t n = strlen(l);

			l = xrealloc(l, n + 32);
			snprintf(l + n, 32, " = %lld", o->rd_entries - 2);
			im->out[o->rd_line] = l;
		}
	}
	return o->rd_line + 1 == im->nout && emitted ? OUT_IMPORTED :
						       OUT_IGNORED;
}

static enum outcome do_unknown(struct imp *im, struct proc *p,
			       const struct call *c)
{
	long long v;
	struct ofd *o;
	int in = 0, i, first;
	struct import_stats *st = im->st;

	if (c->na > 0 && argnum(c, 0, &v) == 0 && (o = fdo(p, v)) != NULL &&
	    is_w(o->path))
		in = 1;
	/* the first string argument (relative to a numeric dirfd before
	 * it), and absolute paths in the others */
	for (i = 0, first = 1; i < c->na && !in; i++) {
		char *abs = NULL;
		int d = (i == 1 && argnum(c, 0, &v) == 0) ? 0 : -1;

		if (c->a[i][0] != '"')
			continue;
		if ((first || c->a[i][1] == '/') &&
		    get_path(im, p, c, d, i, &abs) == W_IN)
			in = 1;
		first = 0;
		free(abs);
	}
	if (!in)
		return OUT_OUTSIDE;
	for (i = 0; i < (int)st->nunknown; i++)
		if (strcmp(st->unknown[i].name, c->name) == 0)
			break;
	if (i == (int)st->nunknown && st->nunknown < IMPORT_MAX_UNKNOWN) {
		snprintf(st->unknown[i].name, sizeof(st->unknown[i].name), "%s",
			 c->name);
		st->nunknown++;
	}
	if (i < (int)st->nunknown)
		st->unknown[i].count++;
	else
		st->unknown_other++;
	{
		char key[64];

		snprintf(key, sizeof(key), "unknown %s", c->name);
		report_once(im, key,
			    "unknown syscall %s on /w: not imported (counted)",
			    c->name);
	}
	return OUT_UNKNOWN;
}

/* Calls that are harmless for the replay (state only or no effect). */
static const char *const harmless[] = {
	"statfs",
	"fstatfs",
	"statfs64",
	"fstatfs64",
	"fadvise64",
	"readahead",
	"flock",
	"poll",
	"ppoll",
	"select",
	"pselect6",
	"epoll_ctl",
	"epoll_wait",
	"epoll_pwait",
	"epoll_pwait2",
	"getxattr",
	"lgetxattr",
	"fgetxattr",
	"listxattr",
	"llistxattr",
	"flistxattr",
	"inotify_add_watch",
	"inotify_rm_watch",
	"fanotify_mark",
	"sync_file_range",
	"munmap",
	"mprotect",
	"madvise",
	"mremap",
	"msync",
	"getcwd",
	"chdir",
	"fchdir",
	"execve",
	"execveat",
	"dup",
	"dup2",
	"dup3",
	"fcntl",
	"fcntl64",
	"close_range",
	"ioctl",
	"mmap",
	"mmap2",
	"pipe",
	"pipe2",
	"clone",
	"clone3",
	"fork",
	"vfork",
	"socket",
	"socketpair",
	"accept",
	"accept4",
	"eventfd",
	"eventfd2",
	"epoll_create",
	"epoll_create1",
	"memfd_create",
	"timerfd_create",
	"signalfd",
	"signalfd4",
	"inotify_init",
	"inotify_init1",
	"pidfd_open",
	"pidfd_getfd",
	"fanotify_init",
	"userfaultfd",
	"perf_event_open",
	"io_uring_setup",
	"timerfd_settime",
	"timerfd_gettime",
	"name_to_handle_at",
	"quotactl",
};

/* New non-/w fd in the result: clear the slot. */
static const char *const newfd_calls[] = {
	"socket",	  "accept",	     "accept4",	      "eventfd",
	"eventfd2",	  "epoll_create",    "epoll_create1", "memfd_create",
	"timerfd_create", "signalfd",	     "signalfd4",     "inotify_init",
	"inotify_init1",  "pidfd_open",	     "pidfd_getfd",   "fanotify_init",
	"userfaultfd",	  "perf_event_open", "io_uring_setup"
};

static int in_list(const char *const *l, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(l[i], name) == 0)
			return 1;
	return 0;
}

/* State-only and harmless calls (fd tables, cwd, mmap accounting). */
static enum outcome do_state(struct imp *im, struct proc *p,
			     const struct call *c)
{
	const char *n = c->name;
	int ok = c->has_res && !c->err[0];
	long long a0 = -1, a1 = -1, a2 = 0;
	struct ofd *o;

	argnum(c, 0, &a0);
	argnum(c, 1, &a1);
	argnum(c, 2, &a2);
	if (!ok) {
		/* nothing changes */
	} else if (!strcmp(n, "dup")) {
		do_dup(im, p, a0, c->ret, 0);
	} else if (!strcmp(n, "dup2")) {
		do_dup(im, p, a0, a1, 0);
	} else if (!strcmp(n, "dup3")) {
		do_dup(im, p, a0, a1, (a2 & R_O_CLOEXEC) != 0);
	} else if (!strcmp(n, "fcntl") || !strcmp(n, "fcntl64")) {
		if (a1 == R_F_DUPFD || a1 == R_F_DUPFD_CLOEXEC) {
			do_dup(im, p, a0, c->ret, a1 == R_F_DUPFD_CLOEXEC);
		} else if (a1 == R_F_SETFD && fdo(p, a0)) {
			p->ft->s[a0].cloexec = (a2 & 1) != 0;
		} else if (a1 == R_F_SETFL && (o = fdo(p, a0)) != NULL) {
			int chg = ((unsigned long)a2 ^ o->flags) & R_O_APPEND;

			if (chg && o->tfd >= 0)
				return unreplayable(im, "setfl-append",
						    "fcntl(F_SETFL) changing "
						    "O_APPEND under /w");
		}
	} else if (!strcmp(n, "close_range")) {
		long long fd, last = a1 < p->ft->n ? a1 : p->ft->n - 1;

		for (fd = a0; fd >= 0 && fd <= last; fd++) {
			if ((a2 & 4) && fdo(p, fd))
				p->ft->s[fd].cloexec = 1;
			else if (!(a2 & 4))
				slot_clear(im, p, fd);
		}
	} else if (!strcmp(n, "execve") || !strcmp(n, "execveat")) {
		do_exec(im, p);
	} else if (!strcmp(n, "chdir")) {
		char *abs;

		if (get_path(im, p, c, -1, 0, &abs) != W_UNRESOLVED) {
			free(p->cwd);
			p->cwd = abs;
		}
	} else if (!strcmp(n, "fchdir")) {
		if ((o = fdo(p, a0)) != NULL && o->path) {
			free(p->cwd);
			p->cwd = xstrdup(o->path);
		}
	} else if (!strcmp(n, "getcwd")) {
		char *s = argstr(c, 0);

		if (s && s[0] == '/') {
			free(p->cwd);
			p->cwd = norm_join("/", s);
		}
		free(s);
	} else if (!strcmp(n, "pipe") || !strcmp(n, "pipe2") ||
		   !strcmp(n, "socketpair")) {
		const char *s = c->na ? strchr(c->a[c->na > 3 ? 3 : 0], '[') :
					NULL;

		if (s && isdigit((unsigned char)s[1])) {
			char *end;
			long long fd = strtoll(s + 1, &end, 10);

			slot_clear(im, p, fd);
			while (*end == ',' || *end == ' ')
				end++;
			slot_clear(im, p, strtoll(end, NULL, 10));
		}
	} else if (!strcmp(n, "clone") || !strcmp(n, "clone3") ||
		   !strcmp(n, "fork") || !strcmp(n, "vfork")) {
		const char *f = find_field(c, "flags=");
		long long fl = 0;

		if (f)
			parse_expr(f, &fl);
		if (c->ret > 0 && find_proc(im, (int)c->ret) == NULL)
			proc_new(im, (int)c->ret, p,
				 !strcmp(n, "vfork") ?
					 0 :
					 (fl & R_CLONE_FILES) != 0,
				 0);
	} else if (!strcmp(n, "mmap") || !strcmp(n, "mmap2")) {
		long long prot = 0, flags = 0, fd = -1;

		argnum(c, 2, &prot);
		argnum(c, 3, &flags);
		argnum(c, 4, &fd);
		if ((o = fdo(p, fd)) != NULL && is_w(o->path)) {
			im->st->mmap_w++;
			if ((flags & 3) == 1 && (prot & 2))
				return unreplayable(im, "mmap-shared",
						    "shared writable mmap of a "
						    "file under /w");
		}
	} else if (!strcmp(n, "ioctl")) {
		if ((o = fdo(p, a0)) != NULL && is_w(o->path) &&
		    (a1 == 0x40049409 || a1 == 0x4020940d || a1 == 0xc0189436))
			return unreplayable(im, "ioctl-clone",
					    "FICLONE/FIDEDUPE ioctl under /w");
	} else if (in_list(newfd_calls,
			   sizeof(newfd_calls) / sizeof(newfd_calls[0]), n)) {
		slot_clear(im, p, c->ret);
	}
	return OUT_IGNORED;
}

static enum outcome dispatch(struct imp *im, struct proc *p,
			     const struct call *c)
{
	const char *n = c->name;
	long long v0 = 0, v1 = 0, v2 = 0, v3 = 0, v4 = 0;
	struct ofd *o;
	char tail[96];

	argnum(c, 0, &v0);
	argnum(c, 1, &v1);
	argnum(c, 2, &v2);
	argnum(c, 3, &v3);
	argnum(c, 4, &v4);
	if (!strcmp(n, "open"))
		return do_open(im, p, c, -1, 0, v1, v2);
	if (!strcmp(n, "openat"))
		return do_open(im, p, c, 0, 1, v2, v3);
	if (!strcmp(n, "creat"))
		return do_open(im, p, c, -1, 0, R_O_CREAT | 01 | R_O_TRUNC, v1);
	if (!strcmp(n, "openat2")) {
		const char *f = find_field(c, "flags=");
		const char *m = find_field(c, "mode=");
		long long fl = 0, mo = 0;

		if (f)
			parse_expr(f, &fl);
		if (m)
			parse_expr(m, &mo);
		return do_open(im, p, c, 0, 1, fl, mo);
	}
	if (!strcmp(n, "close"))
		return do_close(im, p, c);
	if (!strcmp(n, "mkdir") || !strcmp(n, "mkdirat")) {
		int at = n[5] == 'a';

		snprintf(tail, sizeof(tail), " 0%llo", (at ? v2 : v1) & 07777);
		if (((at ? v2 : v1) & 07777) == 0)
			snprintf(tail, sizeof(tail), " 0");
		return do_ns1(im, p, c, at ? 0 : -1, at, "mkdir", tail);
	}
	if (!strcmp(n, "mknod") || !strcmp(n, "mknodat")) {
		int at = n[5] == 'a';
		long long mode = at ? v2 : v1, maj, min;
		const char *type;

		switch (mode & 0170000) {
		case 0:
		case 0100000:
			type = "reg";
			break;
		case 010000:
			type = "fifo";
			break;
		case 020000:
			type = "chr";
			break;
		case 060000:
			type = "blk";
			break;
		case 0140000:
			type = "sock";
			break;
		default:
			type = NULL;
		}
		parse_dev(c->na > 2 + at ? c->a[2 + at] : NULL, &maj, &min);
		if (type == NULL)
			return unreplayable(im, "mknod-type", "mknod type");
		snprintf(tail, sizeof(tail), " %s 0%llo %lld %lld", type,
			 mode & 07777, maj, min);
		return do_ns1(im, p, c, at ? 0 : -1, at, "mknod", tail);
	}
	if (!strcmp(n, "symlink") || !strcmp(n, "symlinkat")) {
		int at = n[7] == 'a';
		char *abs, *target;
		enum where w =
			get_path(im, p, c, at ? 1 : -1, at ? 2 : 1, &abs);
		struct sb b = { 0 };

		if (w != W_IN) {
			free(abs);
			return where_out(im, w, n);
		}
		target = argstr(c, 0);
		if (!c->has_res || target == NULL) {
			free(abs);
			free(target);
			return target ? OUT_IGNORED :
					where_out(im, W_UNRESOLVED, n);
		}
		sb_add(&b, "symlink");
		sb_enc(&b, target);
		sb_enc(&b, tpath(abs));
		sb_res(&b, c);
		push_line(im, &b);
		im->nsgen++;
		free(abs);
		free(target);
		return OUT_IMPORTED;
	}
	if (!strcmp(n, "link"))
		return do_ns2(im, p, c, -1, 0, -1, 1, 0, 0);
	if (!strcmp(n, "linkat")) {
		char *old = argstr(c, 1);
		int empty = old && !old[0] && (v4 & R_AT_EMPTY_PATH);

		free(old);
		if (empty) {
			/* link of an fd: the fd's path stands for it */
			if (get_fd(p, c, 0, &o) != W_IN)
				return OUT_OUTSIDE;
			{
				char *b2;
				enum where w = get_path(im, p, c, 2, 3, &b2);
				struct sb b = { 0 };

				if (w != W_IN || !c->has_res) {
					free(b2);
					return w == W_IN ? OUT_IGNORED :
							   where_out(im, w, n);
				}
				sb_add(&b, "link");
				sb_enc(&b, tpath(o->path));
				sb_enc(&b, tpath(b2));
				sb_res(&b, c);
				push_line(im, &b);
				im->nsgen++;
				free(b2);
				return OUT_IMPORTED;
			}
		}
		return do_ns2(im, p, c, 0, 1, 2, 3, 0, 0);
	}
	if (!strcmp(n, "unlink"))
		return do_ns1(im, p, c, -1, 0, "unlink", NULL);
	if (!strcmp(n, "rmdir"))
		return do_ns1(im, p, c, -1, 0, "rmdir", NULL);
	if (!strcmp(n, "unlinkat"))
		return do_ns1(im, p, c, 0, 1,
			      (v2 & R_AT_REMOVEDIR) ? "rmdir" : "unlink", NULL);
	if (!strcmp(n, "rename"))
		return do_ns2(im, p, c, -1, 0, -1, 1, 0, 1);
	if (!strcmp(n, "renameat"))
		return do_ns2(im, p, c, 0, 1, 2, 3, 0, 1);
	if (!strcmp(n, "renameat2"))
		return do_ns2(im, p, c, 0, 1, 2, 3, v4, 1);
	for (size_t i = 0; i < sizeof(rwcalls) / sizeof(rwcalls[0]); i++) {
		const char *iov = c->na > 1 ? c->a[1] : NULL;

		if (strcmp(n, rwcalls[i].name) != 0)
			continue;
		return do_rw(im, p, c, rwcalls[i].is_write,
			     rwcalls[i].iov ? iov_sum(iov) : v2,
			     rwcalls[i].at_off ? v3 : -1);
	}
	if (!strcmp(n, "lseek")) {
		static const char *wh[] = { "set", "cur", "end" };
		struct sb b = { 0 };

		if (get_fd(p, c, 0, &o) != W_IN)
			return OUT_OUTSIDE;
		if (!c->has_res)
			return OUT_IGNORED;
		if (!c->err[0] && v1 == 0 && v2 == 0)
			o->rd_state = 0;
		if (o->is_dir || o->tfd < 0)
			return OUT_IGNORED;
		if (v2 < 0 || v2 > 2)
			return unreplayable(im, "seek-data",
					    "lseek SEEK_DATA/SEEK_HOLE");
		sb_add(&b, "lseek %d %lld %s", o->tfd, v1, wh[v2]);
		sb_res(&b, c);
		push_line(im, &b);
		return OUT_IMPORTED;
	}
	if (!strcmp(n, "truncate")) {
		snprintf(tail, sizeof(tail), " %lld", v1);
		return do_attr(im, p, c, -1, 0, 0, "truncate", NULL, tail);
	}
	if (!strcmp(n, "ftruncate")) {
		snprintf(tail, sizeof(tail), " %lld", v1);
		return do_attr(im, p, c, 0, NOPATH, 0, "truncate", "ftruncate",
			       tail);
	}
	if (!strcmp(n, "fallocate")) {
		struct sb b = { 0 };
		enum outcome g;

		if ((g = tfd_gate(im, p, c, &o)) != OUT_IMPORTED)
			return g;
		sb_add(&b, "fallocate %d %lld %lld %lld", o->tfd, v1, v2, v3);
		sb_res(&b, c);
		push_line(im, &b);
		return OUT_IMPORTED;
	}
	if (!strcmp(n, "chmod") || !strcmp(n, "fchmod") ||
	    !strcmp(n, "fchmodat") || !strcmp(n, "fchmodat2")) {
		int kind = n[1] != 'c' ? 0 : n[6] == 'a' ? 2 : 1;
		long long mode = kind == 0 ? v1 : kind == 1 ? v1 : v2;

		snprintf(tail, sizeof(tail), " 0%llo", mode & 07777);
		if ((mode & 07777) == 0)
			snprintf(tail, sizeof(tail), " 0");
		if (kind == 0)
			return do_attr(im, p, c, -1, 0, 0, "chmod", NULL, tail);
		if (kind == 1)
			return do_attr(im, p, c, 0, NOPATH, 0, "chmod",
				       "fchmod", tail);
		return do_attr(im, p, c, 0, 1, v3, "chmod", "fchmod", tail);
	}
	if (!strcmp(n, "chown") || !strcmp(n, "lchown") ||
	    !strcmp(n, "fchown") || !strcmp(n, "fchownat")) {
		int at = !strcmp(n, "fchownat"), fd = !strcmp(n, "fchown");
		long long uid = at ? v2 : v1, gid = at ? v3 : v2;

		if (uid == 0xffffffffLL)
			uid = -1;
		if (gid == 0xffffffffLL)
			gid = -1;
		snprintf(tail, sizeof(tail), " %lld %lld", uid, gid);
		if (at)
			return do_attr(im, p, c, 0, 1, v4, "chown", "fchown",
				       tail);
		if (fd)
			return do_attr(im, p, c, 0, NOPATH, 0, "chown",
				       "fchown", tail);
		return do_attr(im, p, c, -1, 0, 0, "chown", NULL, tail);
	}
	if (!strcmp(n, "utimensat") || !strcmp(n, "futimesat") ||
	    !strcmp(n, "utimes") || !strcmp(n, "utime")) {
		struct sb b = { 0 };
		int at = n[0] != 'u' || !strcmp(n, "utimensat");
		int ns = !strcmp(n, "utimensat");
		enum outcome r;

		sb_times(&b, c->na > at + 1 ? c->a[at + 1] : NULL, !ns);
		r = do_attr(im, p, c, at ? 0 : -1, at ? 1 : 0, ns ? v3 : 0,
			    "utimes", NULL, b.s);
		free(b.s);
		return r;
	}
	if (!strcmp(n, "stat") || !strcmp(n, "stat64"))
		return do_stat(im, p, c, -1, 0, 0, 0);
	if (!strcmp(n, "lstat") || !strcmp(n, "lstat64"))
		return do_stat(im, p, c, -1, 0, 0, 1);
	if (!strcmp(n, "fstat") || !strcmp(n, "fstat64"))
		return do_stat(im, p, c, 0, NOPATH, 0, 0);
	if (!strcmp(n, "newfstatat") || !strcmp(n, "fstatat64"))
		return do_stat(im, p, c, 0, 1, v3, (v3 & 0x100) != 0);
	if (!strcmp(n, "statx"))
		return do_stat(im, p, c, 0, 1, v2, (v2 & 0x100) != 0);
	if (!strcmp(n, "access") || !strcmp(n, "faccessat") ||
	    !strcmp(n, "faccessat2")) {
		int at = n[0] == 'f';
		static const char *const okerr[] = { "ENOENT", "ENOTDIR",
						     "ELOOP", "ENAMETOOLONG" };
		char *abs;
		enum where w = get_path(im, p, c, at ? 0 : -1, at, &abs);
		enum outcome g;

		if ((g = path_gate(im, w, c, &abs)) != OUT_IMPORTED)
			return g;
		if (c->err[0] && !in_list(okerr, 4, c->err)) {
			free(abs);
			return unreplayable(im, "access-err",
					    "access() failing with a "
					    "permission error");
		}
		emit_path_op(im,
			     (!strcmp(n, "faccessat2") && (v3 & 0x100)) ?
				     "lstat" :
				     "stat",
			     abs, NULL, c);
		free(abs);
		return OUT_IMPORTED;
	}
	if (!strcmp(n, "getdents64") || !strcmp(n, "getdents"))
		return do_getdents(im, p, c);
	if (!strcmp(n, "readlink") || !strcmp(n, "readlinkat")) {
		int at = n[8] == 'a';
		char *abs;
		enum where w = get_path(im, p, c, at ? 0 : -1, at, &abs);
		enum outcome g;
		long long size = at ? v3 : v2;
		struct sb b = { 0 };

		if ((g = path_gate(im, w, c, &abs)) != OUT_IMPORTED)
			return g;
		sb_add(&b, "readlink");
		sb_enc(&b, tpath(abs));
		if (c->err[0] || c->ret < size)
			sb_res(&b, c); /* else truncated: length unknown */
		push_line(im, &b);
		free(abs);
		return OUT_IMPORTED;
	}
	if (!strcmp(n, "fsync") || !strcmp(n, "fdatasync")) {
		struct sb b = { 0 };
		enum outcome g;

		if ((g = tfd_gate(im, p, c, &o)) != OUT_IMPORTED)
			return g;
		sb_add(&b, "%s %d", n, o->tfd);
		sb_res(&b, c);
		push_line(im, &b);
		return OUT_IMPORTED;
	}
	if (!strcmp(n, "sync") || !strcmp(n, "syncfs")) {
		struct sb b = { 0 };

		if (n[4] == 'f' && get_fd(p, c, 0, &o) != W_IN)
			return OUT_OUTSIDE;
		if (!c->has_res)
			return OUT_IGNORED;
		sb_add(&b, "sync");
		sb_res(&b, c);
		push_line(im, &b);
		return OUT_IMPORTED;
	}
	if (!strcmp(n, "copy_file_range"))
		return do_copy(im, p, c, 0, 1, 2, 3);
	if (!strcmp(n, "sendfile") || !strcmp(n, "sendfile64"))
		return do_copy(im, p, c, 1, 2, 0, -1);
	if (in_list(harmless, sizeof(harmless) / sizeof(harmless[0]), n))
		return do_state(im, p, c);
	return do_unknown(im, p, c);
}

/* ---------------------------------------------------------------- */
/* Lines */

/* Handle one complete call text of process p; 0 or EINVAL. */
static int handle_call(struct imp *im, struct proc *p, const char *text)
{
	struct import_stats *st = im->st;
	struct call c;
	uint64_t ops = st->ops;
	enum outcome r;
	/* the stats bucket of each outcome */
	uint64_t *const bucket[] = {
		[OUT_IMPORTED] = &st->imported,
		[OUT_OUTSIDE] = &st->skipped_outside,
		[OUT_IGNORED] = &st->ignored,
		[OUT_UNREPLAYABLE] = &st->unreplayable,
		[OUT_UNRESOLVED] = &st->unresolved,
		[OUT_UNKNOWN] = &st->unknown_syscalls,
	};

	if (parse_call(text, &c) != 0) {
		free(c.argbuf);
		return EINVAL;
	}
	st->calls++;
	if (c.err[0])
		st->failed_calls++;
	r = dispatch(im, p, &c);
	if (st->ops != ops && (r == OUT_IGNORED || r == OUT_OUTSIDE))
		r = OUT_IMPORTED; /* e.g. a close from dup2 or execve */
	(*bucket[r])++;
	if (r == OUT_IMPORTED && c.err[0])
		st->failed_imported++;
	free(c.argbuf);
	return 0;
}

static int is_clone_name(const char *t)
{
	return !strncmp(t, "clone(", 6) || !strncmp(t, "clone3(", 7) ||
	       !strncmp(t, "fork(", 5) || !strncmp(t, "vfork(", 6);
}

/* One input line (without its newline); returns 0 or EINVAL. */
static int handle_line(struct imp *im, char *line)
{
	static const char unf[] = " <unfinished ...>";
	char *s = line, *e;
	struct proc *p;
	size_t n;
	int pid = 0, err;

	n = strlen(s);
	while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = 0;
	if (n == 0 || strncmp(s, "strace: ", 8) == 0)
		return 0;
	if (strncmp(s, "[pid ", 5) == 0) {
		pid = (int)strtol(s + 5, &e, 10);
		if (*e != ']')
			return EINVAL;
		s = e + 1;
	} else if (isdigit((unsigned char)*s)) {
		for (e = s; isdigit((unsigned char)*e); e++)
			;
		if (*e == ' ') {
			pid = (int)strtol(s, NULL, 10);
			s = e;
		}
	}
	while (*s == ' ')
		s++;
	/* timestamp: digits with '.' or ':' */
	for (e = s; isdigit((unsigned char)*e) || *e == '.' || *e == ':'; e++)
		;
	if (e > s && *e == ' ' && memchr(s, '.', (size_t)(e - s)) == NULL &&
	    memchr(s, ':', (size_t)(e - s)) == NULL)
		e = s; /* not a timestamp */
	if (e > s && *e == ' ') {
		s = e;
		while (*s == ' ')
			s++;
	}
	if (!strncmp(s, "+++ ", 4)) {
		/* exit: the process's descriptors are closed */
		p = find_proc(im, pid);
		if (p && (strstr(s, " exited ") || strstr(s, " killed "))) {
			tab_put(im, p);
			p->ft = tab_copy(NULL, 0);
		}
		return 0;
	}
	if (!strncmp(s, "--- ", 4))
		return 0;
	if (!strncmp(s, "<... ", 5)) {
		char *rest = strstr(s, " resumed>");
		struct sb b = { 0 };
		size_t nl;

		if (rest == NULL)
			return EINVAL;
		p = get_proc(im, pid);
		nl = (size_t)(rest - (s + 5));
		rest += 9;
		if (p->pending == NULL || strncmp(p->pending, s + 5, nl) != 0 ||
		    p->pending[nl] != '(') {
			report_once(im, "orphan-resumed",
				    "<... resumed> without its start, ignored");
			return 0;
		}
		im->st->unfinished_joined++;
		if (p->pending_clone && im->clone_pid == pid)
			im->clone_pid = 0;
		sb_add(&b, "%s%s", p->pending, rest);
		free(p->pending);
		p->pending = NULL;
		p->pending_clone = 0;
		im->last_pid = pid;
		nl = strlen(b.s);
		if (nl >= sizeof(unf) - 1 &&
		    !strcmp(b.s + nl - (sizeof(unf) - 1), unf)) {
			/* resumed and unfinished again */
			b.s[nl - (sizeof(unf) - 1)] = 0;
			p->pending = b.s;
			return 0;
		}
		err = handle_call(im, p, b.s);
		free(b.s);
		return err;
	}
	if (!isalpha((unsigned char)*s) && *s != '_')
		return EINVAL;
	p = get_proc(im, pid);
	im->last_pid = pid;
	n = strlen(s);
	if (n >= sizeof(unf) - 1 && !strcmp(s + n - (sizeof(unf) - 1), unf)) {
		s[n - (sizeof(unf) - 1)] = 0;
		free(p->pending);
		p->pending = xstrdup(s);
		p->pending_clone = is_clone_name(s);
		if (p->pending_clone)
			im->clone_pid = pid;
		return 0;
	}
	return handle_call(im, p, s);
}

/* ---------------------------------------------------------------- */
/* Driver */

void import_stats_print(const struct import_stats *st, FILE *f,
			const char *prefix)
{
	unsigned i;

	fprintf(f, "%simport: lines %llu calls %llu imported %llu ops %llu\n",
		prefix, (unsigned long long)st->lines,
		(unsigned long long)st->calls, (unsigned long long)st->imported,
		(unsigned long long)st->ops);
	fprintf(f,
		"%sskipped_outside %llu ignored %llu unreplayable %llu "
		"unresolved %llu unknown_syscalls %llu\n",
		prefix, (unsigned long long)st->skipped_outside,
		(unsigned long long)st->ignored,
		(unsigned long long)st->unreplayable,
		(unsigned long long)st->unresolved,
		(unsigned long long)st->unknown_syscalls);
	fprintf(f,
		"%sfailed_calls %llu failed_imported %llu "
		"unfinished_joined %llu mmap_w %llu\n",
		prefix, (unsigned long long)st->failed_calls,
		(unsigned long long)st->failed_imported,
		(unsigned long long)st->unfinished_joined,
		(unsigned long long)st->mmap_w);
	for (i = 0; i < st->nunknown; i++)
		fprintf(f, "%sunknown %s %llu\n", prefix, st->unknown[i].name,
			(unsigned long long)st->unknown[i].count);
	if (st->unknown_other)
		fprintf(f, "%sunknown (others) %llu\n", prefix,
			(unsigned long long)st->unknown_other);
}

static void imp_free(struct imp *im)
{
	size_t i;

	for (i = 0; i < im->nprocs; i++) {
		struct fdtab *t = im->procs[i]->ft;

		if (t && --t->refs == 0) {
			free(t->s);
			free(t);
		}
		free(im->procs[i]->cwd);
		free(im->procs[i]->pending);
		free(im->procs[i]);
	}
	free(im->procs);
	while (im->live) {
		struct ofd *o = im->live;

		im->live = o->next;
		free(o->path);
		free(o);
	}
	for (i = 0; i < im->nout; i++)
		free(im->out[i]);
	free(im->out);
	for (i = 0; i < im->nseen; i++)
		free(im->seen[i]);
	free(im->seen);
	free(im->tfd_used);
}

/* Close every trace fd still open (processes exit uncaptured). */
static void close_all(struct imp *im)
{
	struct ofd *o;
	int t;

	for (t = 0; t < im->ntfd; t++) {
		if (!im->tfd_used[t])
			continue;
		for (o = im->live; o != NULL && o->tfd != t; o = o->next)
			;
		emit_close(im, t, NULL);
		im->tfd_used[t] = 0;
		if (o)
			o->tfd = -1;
	}
}

int import_strace(const char *path, FILE *out, struct import_stats *st,
		  void (*report)(void *arg, const char *msg), void *arg,
		  long *errline)
{
	struct imp im;
	gzFile gz;
	char *buf = NULL;
	size_t cap = 0, len, i, nbody;
	const char *base;
	int err = 0;

	memset(st, 0, sizeof(*st));
	memset(&im, 0, sizeof(im));
	im.st = st;
	im.report = report;
	im.rarg = arg;
	if (errline)
		*errline = 0;
	gz = gzopen(path, "rb");
	if (gz == NULL)
		return errno ? errno : ENOMEM;
	for (;;) {
		len = 0;
		for (;;) {
			if (cap - len < 4096) {
				cap = cap ? cap * 2 : 8192;
				buf = xrealloc(buf, cap);
			}
			if (gzgets(gz, buf + len, (int)(cap - len)) == NULL) {
				int zerr;

				gzerror(gz, &zerr);
				if (zerr != Z_OK && zerr != Z_STREAM_END)
					err = EIO;
				break;
			}
			len += strlen(buf + len);
			if (len > 0 && buf[len - 1] == '\n')
				break;
		}
		if (err) {
			im.lineno++;
			break;
		}
		if (len == 0)
			break;
		if (buf[len - 1] == '\n')
			buf[--len] = 0;
		im.lineno++;
		st->lines++;
		err = handle_line(&im, buf);
		if (err)
			break;
	}
	gzclose(gz);
	free(buf);
	if (err) {
		if (errline)
			*errline = im.lineno;
		imp_free(&im);
		return err;
	}
	nbody = im.nout;
	close_all(&im);
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	fprintf(out, "h2trace 1\nseed 0\nsource strace ");
	for (; *base; base++)
		fputc(isprint((unsigned char)*base) ? *base : '?', out);
	fputc('\n', out);
	for (i = 0; i < im.nout; i++) {
		if (i == nbody)
			fprintf(out, "# end of capture: close the descriptors "
				     "still open (exits are not captured)\n");
		fprintf(out, "%s\n", im.out[i]);
	}
	import_stats_print(st, out, "# ");
	imp_free(&im);
	if (ferror(out))
		return EIO;
	return 0;
}
