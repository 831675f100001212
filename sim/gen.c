/*
 * gen.c - random traces from a seed (h2sim gen).  A private reference
 * model computes every expected result.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2_disk.h"
#include "sim.h"

static const char *const mixnames[] = {
	"open",	   "close",   "write",	  "pwrite",    "read",	    "pread",
	"lseek",   "mkdir",   "rmdir",	  "unlink",    "rename",    "link",
	"symlink", "mknod",   "truncate", "ftruncate", "fallocate", "chmod",
	"fchmod",  "chown",   "fchown",	  "utimes",    "stat",	    "lstat",
	"fstat",   "readdir", "readlink", "fsync",     "fdatasync", "sync",
	"crash",   "remount", "check",	  "bigwrite",
};
static const enum op_kind mixops[] = {
	OP_OPEN,      OP_CLOSE,	    OP_WRITE,	OP_PWRITE,    OP_READ,
	OP_PREAD,     OP_LSEEK,	    OP_MKDIR,	OP_RMDIR,     OP_UNLINK,
	OP_RENAME,    OP_LINK,	    OP_SYMLINK, OP_MKNOD,     OP_TRUNCATE,
	OP_FTRUNCATE, OP_FALLOCATE, OP_CHMOD,	OP_FCHMOD,    OP_CHOWN,
	OP_FCHOWN,    OP_UTIMES,    OP_STAT,	OP_LSTAT,     OP_FSTAT,
	OP_READDIR,   OP_READLINK,  OP_FSYNC,	OP_FDATASYNC, OP_SYNC,
	OP_CRASH,     OP_REMOUNT,   OP_CHECK,	OP_PWRITE,
};
#define NMIX (sizeof(mixnames) / sizeof(mixnames[0]))
static const unsigned defmix[NMIX] = {
	12, 6, 14, 8, 8, 5, 2, 7, 3, 4, 7, 3, 2, 1, 3, 3, 1,
	2,  1, 1,  1, 1, 5, 2, 3, 4, 1, 3, 1, 2, 1, 1, 1, 2,
};

struct plist {
	char **v;
	size_t n, cap;
};

static void pl_add(struct plist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = xstrdup(s);
}

static void pl_free(struct plist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

struct gen {
	uint64_t rng;
	struct model m;
	struct plist dirs, files;
	struct trace *t;
};

static uint64_t R(struct gen *g, uint64_t n)
{
	return rnd(&g->rng, n);
}

/* Result of lstat in the model: 0 exists, else -errno. */
static int64_t exists(struct gen *g, const char *path)
{
	struct top op;
	struct outcome o;
	int64_t res;

	memset(&op, 0, sizeof(op));
	op.kind = OP_LSTAT;
	op.path = (char *)path;
	model_apply(&g->m, &op, &o);
	res = o.res; /* outcome_clear zeroes the outcome */
	outcome_clear(&o);
	return res;
}

static const char *pick(struct gen *g, struct plist *l, int want_live)
{
	for (int tries = 0; tries < 6; tries++) {
		const char *p;

		if (l->n == 0)
			return NULL;
		/* bias to recent entries: deeper trees */
		p = l->v[R(g, 2) ? l->n - 1 - R(g, l->n < 8 ? l->n : 8) :
				   R(g, l->n)];
		if (!want_live || exists(g, p) == 0)
			return p;
	}
	return NULL;
}

static char *mkname(struct gen *g)
{
	static const char *const names[] = {
		"a", "b", "c",	      "d",	 "e",	"f",
		"g", "h", "file.txt", "dir one", "x%y", "q"
	};
	char *s;

	if (R(g, 200) == 0) {
		s = xmalloc(300);
		memset(s, 'n', 256);
		s[256] = 0; /* ENAMETOOLONG */
		return s;
	}
	return xstrdup(names[R(g, sizeof(names) / sizeof(names[0]))]);
}

/* A path: a new name in a directory (or, rarely, below a file). */
static char *newpath(struct gen *g)
{
	const char *parent = "/";
	char *name = mkname(g), *p;

	if (R(g, 25) == 0 && g->files.n)
		parent = pick(g, &g->files, 0);
	else if (R(g, 6) && g->dirs.n)
		parent = pick(g, &g->dirs, 1);
	if (parent == NULL)
		parent = "/";
	p = xmalloc(strlen(parent) + strlen(name) + 2);
	sprintf(p, "%s%s%s", parent, strcmp(parent, "/") ? "/" : "", name);
	free(name);
	return p;
}

/* An existing path mostly, else a new one. */
static char *anypath(struct gen *g, int dirs_too)
{
	const char *p = NULL;

	if (R(g, 8)) {
		if (dirs_too && R(g, 3) == 0)
			p = pick(g, &g->dirs, 1);
		else
			p = pick(g, &g->files, 1);
	}
	return p ? xstrdup(p) : newpath(g);
}

static int any_fd(struct gen *g)
{
	for (int fd = 3; fd < 64; fd++)
		if (model_fd_open(&g->m, fd))
			return 1;
	return 0;
}

static int64_t pick_fd(struct gen *g)
{
	int64_t open[64];
	int n = 0;

	for (int fd = 3; fd < 64; fd++)
		if (model_fd_open(&g->m, fd))
			open[n++] = fd;
	if (n == 0 || R(g, 40) == 0)
		return 3 + (int64_t)R(g, 8); /* maybe EBADF */
	return open[R(g, (uint64_t)n)];
}

static int64_t free_fd(struct gen *g)
{
	for (int fd = 3; fd < MAX_FDS; fd++)
		if (!model_fd_open(&g->m, fd))
			return fd;
	return 3;
}

static uint64_t wlen(struct gen *g)
{
	switch (R(g, 10)) {
	case 0:
		return R(g, 600);
	case 1:
	case 2:
		return 1 + R(g, 70000);
	case 3:
		return 65536 * (1 + R(g, 4));
	default:
		return 1 + R(g, 4096);
	}
}

static uint64_t woff(struct gen *g)
{
	switch (R(g, 8)) {
	case 0:
		return R(g, 64ULL << 20); /* big sparse */
	case 1:
		return 65536 * R(g, 64);
	case 2:
		return 0;
	default:
		return R(g, 200000);
	}
}

static uint32_t gmode(struct gen *g, int dir)
{
	static const uint32_t m[] = { 0644, 0600, 0755, 0700, 0444, 0777 };

	return dir && R(g, 4) == 0 ? 01777 : m[R(g, 6)];
}

static void emit(struct gen *g, struct top *op)
{
	struct outcome o;

	model_apply(&g->m, op, &o);
	if (op->kind != OP_CRASH && op->kind != OP_REMOUNT &&
	    op->kind != OP_CHECK) {
		op->has_result = 1;
		op->result = o.res;
	}
	outcome_clear(&o);
	op->line = (long)g->t->nops + 4; /* h2trace, source, seed lines */
	trace_add(g->t, op);
	if (op->has_result && op->result == 0 && op->path) {
		const char *p = op->kind == OP_SYMLINK || op->kind == OP_LINK ||
						op->kind == OP_RENAME ?
					op->path2 :
					op->path;

		if (op->kind == OP_MKDIR)
			pl_add(&g->dirs, p);
		else if (op->kind == OP_RENAME && exists(g, p) == 0) {
			struct top st;
			struct outcome so;

			memset(&st, 0, sizeof(st));
			st.kind = OP_LSTAT;
			st.path = (char *)p;
			model_apply(&g->m, &st, &so);
			pl_add(so.st.type == HAMMER2_OBJTYPE_DIRECTORY ?
				       &g->dirs :
				       &g->files,
			       p);
			outcome_clear(&so);
		} else if (op->kind == OP_MKNOD || op->kind == OP_SYMLINK ||
			   op->kind == OP_LINK)
			pl_add(&g->files, p);
	}
	if (op->kind == OP_OPEN && op->has_result && op->result >= 0)
		pl_add(&g->files, op->path);
	free(op->path);
	free(op->path2);
}

static void gen_one(struct gen *g, enum op_kind k, int big)
{
	struct top op;

	memset(&op, 0, sizeof(op));
	op.kind = k;
	switch (k) {
	case OP_OPEN: {
		static const int accs[] = { OF_RDONLY, OF_WRONLY, OF_RDWR,
					    OF_RDWR };
		int fl = accs[R(g, 4)];

		if (R(g, 2))
			fl |= OF_CREAT;
		if (R(g, 8) == 0)
			fl |= OF_EXCL;
		if (R(g, 6) == 0)
			fl |= OF_TRUNC;
		if (R(g, 8) == 0)
			fl |= OF_APPEND;
		if (R(g, 20) == 0)
			fl |= OF_NOFOLLOW;
		op.path = R(g, 3) ? anypath(g, 0) : newpath(g);
		if (R(g, 12) == 0) {
			free(op.path);
			op.path = anypath(g, 1);
			fl = OF_RDONLY | (R(g, 2) ? OF_DIRECTORY : 0);
		}
		op.a[0] = free_fd(g);
		op.a[1] = fl;
		op.a[2] = gmode(g, 0);
		break;
	}
	case OP_CLOSE:
	case OP_FSTAT:
	case OP_FSYNC:
	case OP_FDATASYNC:
		op.a[0] = pick_fd(g);
		break;
	case OP_WRITE:
	case OP_READ:
		op.a[0] = pick_fd(g);
		op.a[1] = (int64_t)wlen(g);
		break;
	case OP_PWRITE:
	case OP_PREAD:
		op.a[0] = pick_fd(g);
		op.a[1] = (int64_t)woff(g);
		op.a[2] = (int64_t)wlen(g);
		if (k == OP_PWRITE && big) {
			op.a[1] = (int64_t)R(g, 1ULL << 30);
			op.a[2] = (int64_t)(65536 + R(g, 1 << 20));
		} else if (k == OP_PWRITE && R(g, 4) == 0) {
			/* whole 4 KiB pages, as databases write them */
			op.a[1] &= ~(int64_t)4095;
			op.a[2] = (int64_t)(4096 * (1 + R(g, 4)));
		}
		break;
	case OP_LSEEK:
		op.a[0] = pick_fd(g);
		op.a[2] = (int64_t)R(g, 3);
		op.a[1] = op.a[2] == 0 ? (int64_t)woff(g) :
					 (int64_t)R(g, 20000) - 5000;
		break;
	case OP_MKDIR:
		op.path = R(g, 10) ? newpath(g) : anypath(g, 1);
		op.a[0] = gmode(g, 1);
		break;
	case OP_RMDIR:
		op.path = anypath(g, 1);
		if (R(g, 2) && g->dirs.n) {
			const char *p = pick(g, &g->dirs, 1);

			if (p) {
				free(op.path);
				op.path = xstrdup(p);
			}
		}
		break;
	case OP_UNLINK:
	case OP_READLINK:
	case OP_LSTAT:
	case OP_STAT:
		op.path = anypath(g, k != OP_UNLINK || R(g, 6) == 0);
		break;
	case OP_READDIR:
		op.path = anypath(g, 1);
		if (R(g, 3)) {
			const char *p = pick(g, &g->dirs, 1);

			free(op.path);
			op.path = xstrdup(p ? p : "/");
		}
		break;
	case OP_RENAME:
		op.path = anypath(g, 1);
		op.path2 = R(g, 3) ? newpath(g) : anypath(g, 1);
		op.a[0] = R(g, 6) == 0 ? RF_NOREPLACE :
			  R(g, 8) == 0 ? RF_EXCHANGE :
					 0;
		break;
	case OP_LINK:
		op.path = anypath(g, R(g, 8) == 0);
		op.path2 = R(g, 6) ? newpath(g) : anypath(g, 0);
		break;
	case OP_SYMLINK: {
		char *t = R(g, 2) ? anypath(g, 1) : mkname(g);

		op.path = t;
		op.path2 = newpath(g);
		break;
	}
	case OP_MKNOD: {
		static const int types[] = { HAMMER2_OBJTYPE_REGFILE,
					     HAMMER2_OBJTYPE_FIFO,
					     HAMMER2_OBJTYPE_CDEV,
					     HAMMER2_OBJTYPE_BDEV,
					     HAMMER2_OBJTYPE_SOCKET };

		op.path = newpath(g);
		op.a[0] = types[R(g, 5)];
		op.a[1] = gmode(g, 0);
		op.a[2] = (int64_t)R(g, 256);
		op.a[3] = (int64_t)R(g, 256);
		break;
	}
	case OP_TRUNCATE:
		op.path = anypath(g, R(g, 10) == 0);
		op.a[0] = (int64_t)(R(g, 3) ? R(g, 200000) : woff(g));
		break;
	case OP_FTRUNCATE:
		op.a[0] = pick_fd(g);
		op.a[1] = (int64_t)(R(g, 3) ? R(g, 200000) : woff(g));
		break;
	case OP_FALLOCATE:
		op.a[0] = pick_fd(g);
		op.a[1] = R(g, 4) ? 0 : 1 + (int64_t)R(g, 3);
		op.a[2] = (int64_t)R(g, 300000);
		op.a[3] = 1 + (int64_t)R(g, 300000);
		break;
	case OP_CHMOD:
		op.path = anypath(g, 1);
		op.a[0] = gmode(g, 0);
		break;
	case OP_FCHMOD:
		op.a[0] = pick_fd(g);
		op.a[1] = gmode(g, 0);
		break;
	case OP_CHOWN:
		op.path = anypath(g, 1);
		op.a[0] = R(g, 3) ? (int64_t)R(g, 2000) : -1;
		op.a[1] = R(g, 3) ? (int64_t)R(g, 2000) : -1;
		break;
	case OP_FCHOWN:
		op.a[0] = pick_fd(g);
		op.a[1] = R(g, 3) ? (int64_t)R(g, 2000) : -1;
		op.a[2] = R(g, 3) ? (int64_t)R(g, 2000) : -1;
		break;
	case OP_UTIMES:
		op.path = anypath(g, 1);
		op.a[0] = R(g, 3) ?
				  1600000000000000LL + (int64_t)R(g, 1000000) :
				  -1 - (int64_t)R(g, 2);
		op.a[1] = R(g, 3) ?
				  1600000000000000LL + (int64_t)R(g, 1000000) :
				  -1 - (int64_t)R(g, 2);
		break;
	case OP_CRASH:
		if (R(g, 2)) {
			struct top s;

			memset(&s, 0, sizeof(s));
			s.kind = OP_SYNC;
			emit(g, &s);
		}
		break;
	default:
		break;
	}
	emit(g, &op);
}

static int parse_mix(const char *mix, unsigned w[NMIX], char *err, size_t errsz)
{
	char *dup, *sv, *tok;

	memcpy(w, defmix, sizeof(defmix));
	if (mix == NULL || *mix == 0)
		return 0;
	dup = xstrdup(mix);
	for (tok = strtok_r(dup, ",", &sv); tok;
	     tok = strtok_r(NULL, ",", &sv)) {
		char *eq = strchr(tok, '=');
		size_t i;

		if (eq == NULL) {
			snprintf(err, errsz, "mix: '%s' is not name=weight",
				 tok);
			free(dup);
			return -1;
		}
		*eq = 0;
		for (i = 0; i < NMIX; i++)
			if (strcmp(tok, mixnames[i]) == 0)
				break;
		if (i == NMIX && strcmp(tok, "all") != 0) {
			snprintf(err, errsz, "mix: unknown operation '%s'",
				 tok);
			free(dup);
			return -1;
		}
		if (i == NMIX) {
			for (i = 0; i < NMIX; i++)
				w[i] = (unsigned)strtoul(eq + 1, NULL, 10);
		} else {
			w[i] = (unsigned)strtoul(eq + 1, NULL, 10);
		}
	}
	free(dup);
	return 0;
}

int gen_trace(uint64_t seed, size_t nops, const char *mix, struct trace *t,
	      char *err, size_t errsz)
{
	unsigned w[NMIX], total = 0;
	struct gen g;
	char src[64];

	if (parse_mix(mix, w, err, errsz))
		return -1;
	for (size_t i = 0; i < NMIX; i++)
		total += w[i];
	if (total == 0) {
		snprintf(err, errsz, "mix: all weights are zero");
		return -1;
	}
	memset(t, 0, sizeof(*t));
	memset(&g, 0, sizeof(g));
	t->volume = 8ULL << 30;
	t->seed = mix64(seed ^ 0xDA7A) & 0xFFFFFFFF;
	snprintf(src, sizeof(src), "h2sim gen --seed %llu --ops %zu",
		 (unsigned long long)seed, nops);
	t->source = xstrdup(src);
	g.rng = seed;
	g.t = t;
	model_init(&g.m, t->seed, 2, 0755);
	pl_add(&g.dirs, "/");
	while (t->nops < nops) {
		uint64_t x = R(&g, total);
		size_t i = 0;

		while (x >= w[i]) {
			x -= w[i];
			i++;
		}
		if (w[0] && R(&g, 8) && !any_fd(&g)) {
			switch (mixops[i]) {
			case OP_CLOSE:
			case OP_WRITE:
			case OP_READ:
			case OP_PREAD:
			case OP_FSYNC:
			case OP_FTRUNCATE:
				i = 0; /* nothing open: open something first */
				break;
			default:
				break;
			}
		}
		gen_one(&g, mixops[i], i == NMIX - 1);
	}
	model_free(&g.m);
	pl_free(&g.dirs);
	pl_free(&g.files);
	return 0;
}
