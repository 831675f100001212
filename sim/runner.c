/*
 * runner.c - run a trace against the HAMMER2 core on a simulated disk and
 * against the reference model, checking every result, every read, and
 * the recovered state after each crash (docs/SIM.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2_tools.h"
#include "hammer2_vfsops.h"
#include "sim.h"

#define T_DIR HAMMER2_OBJTYPE_DIRECTORY
#define T_REG HAMMER2_OBJTYPE_REGFILE
#define T_LNK HAMMER2_OBJTYPE_SOFTLINK
#define CBLK 65536
#define EIO_PPM 3000

struct rfd {
	int used;
	hammer2_inode_t *ip;
	int flags;
	uint64_t off;
	uint64_t key;
};

struct snap {
	struct model m;
	int durable; /* its flush's last barrier really executed */
	size_t opi;  /* op index after which it was taken */
};

struct run {
	const struct trace *t;
	const struct runopts *o;
	struct runstats *st;
	FILE *out;
	struct simdisk *d;
	hammer2_dev_t *hmp;
	hammer2_pfs_t *pmp;
	hammer2_inode_t *root;
	struct model m;
	struct rfd *fds;
	uint8_t *stale;
	struct snap *snaps;
	size_t nsnaps, csnaps;
	uint64_t seen_flushes;
	uint64_t rng;
	uint64_t dirty_limit;
	uint32_t bg_flush_per1000;
	int trust;
	int mutated; /* a modifying op ran since the newest snapshot */
	size_t crash_at[4];
	int ncrash_at;
	uint64_t mid_cut_b; /* random schedule: cut at this barrier (0: none) */
	int mid_cut_after;
	size_t opi;
	int failed;
};

/* ---------------- failures ---------------- */

static void fail(struct run *r, const char *kind, const char *fmt, ...)
{
	va_list ap;
	char msg[512];
	long line = r->opi < r->t->nops ? r->t->ops[r->opi].line : -1;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->st->failures++;
	if (!r->failed) {
		snprintf(r->st->kind, sizeof(r->st->kind), "%s", kind);
		snprintf(r->st->msg, sizeof(r->st->msg), "%s", msg);
		r->st->fail_line = line;
	}
	r->failed = 1;
	if (!r->o->quiet && r->out)
		fprintf(r->out, "FAIL [%s] line %ld: %s\n", kind, line, msg);
}

/* ---------------- formatting (cached template) ---------------- */

/*
 * One template per compression setting: every fourth seed formats without
 * compression (the generated data compresses, and uncompressed blocks
 * are what 4 KiB overwrites may write in part without reading).
 */
static struct simdisk *tpl_disk[2];
static uint64_t tpl_size[2];

static struct simdisk *format_disk(uint64_t size, uint64_t seed, char *err,
				   size_t errsz)
{
	int raw = seed % 4 == 3;

	if (tpl_disk[raw] == NULL || tpl_size[raw] != size) {
		struct hammer2_newfs_opts opts;
		const char *why = NULL;
		struct simdisk *t = simdisk_new(size, 1);
		int e;

		simdisk_set_clock(t, 1700000000000000ULL, 42);
		hammer2_newfs_defaults(&opts);
		if (raw)
			opts.comp_algo = HAMMER2_COMP_NONE;
		e = hammer2_newfs(simdisk_ops(), t, size, &opts, &why);
		if (e) {
			snprintf(err, errsz, "newfs: %s (%s)", strerror(e),
				 why ? why : "?");
			simdisk_free(t);
			return NULL;
		}
		simdisk_free(tpl_disk[raw]);
		tpl_disk[raw] = t;
		tpl_size[raw] = size;
	}
	return simdisk_clone(tpl_disk[raw], seed);
}

/* ---------------- mount ---------------- */

static int do_mount(struct run *r)
{
	int e = hammer2_dev_open(simdisk_ops(), r->d, simdisk_size(r->d), 0,
				 &r->hmp);

	if (e)
		return e;
	r->hmp->dirty_limit = r->dirty_limit;
	/* uncompressed seeds (format_disk) also keep a tiny chain cache, so
	 * overwrites meet blocks that are not in memory */
	if (r->o->seed % 4 == 3)
		r->hmp->lru_limit = 16;
	/* and every fourth other seed keeps no clean file data, as the
	 * kernel module does (its page cache has it), and of blocks written
	 * in part only 256 KiB, so the cache is trimmed by data too */
	if (r->o->seed % 4 == 1) {
		r->hmp->drop_clean_data = 1;
		r->hmp->lru_data_limit = 256 * 1024;
	}
	e = hammer2_pfs_mount(r->hmp, "DATA", &r->pmp);
	if (e) {
		r->hmp->rdonly = 1;
		hammer2_dev_close(r->hmp);
		r->hmp = NULL;
		return e;
	}
	r->root = hammer2_vfs_root(r->pmp);
	r->seen_flushes = r->hmp->stat_flushes;
	return 0;
}

static void close_fds(struct run *r, int mark_stale)
{
	for (int fd = 0; fd < MAX_FDS; fd++)
		if (r->fds[fd].used) {
			hammer2_inode_drop(r->fds[fd].ip);
			r->fds[fd].used = 0;
			if (mark_stale)
				r->stale[fd] = 1;
		}
}

/* Unmount; clean = flush first, else drop everything in memory. */
static int do_unmount(struct run *r, int clean)
{
	int e;

	close_fds(r, 1);
	if (!clean)
		r->hmp->rdonly = 1;
	hammer2_inode_drop(r->root);
	hammer2_pfs_unmount(r->pmp);
	e = hammer2_dev_close(r->hmp);
	if (e == 0 && clean)
		r->st->flushes++;
	r->hmp = NULL;
	r->pmp = NULL;
	r->root = NULL;
	return e;
}

/* ---------------- core view for walk() ---------------- */

static void *cv_root(void *ctx)
{
	struct run *r = ctx;

	hammer2_inode_ref(r->root);
	return r->root;
}

static int cv_lookup(void *ctx, void *dir, const char *name, void **out)
{
	hammer2_inode_t *ip = NULL;
	int e;

	(void)ctx;
	e = hammer2_vop_lookup(dir, name, strlen(name), &ip);
	*out = ip;
	return e;
}

static int cv_type(void *ctx, void *node)
{
	struct hammer2_vattr va;

	(void)ctx;
	if (hammer2_vop_getattr(node, &va))
		return -1;
	return va.type;
}

static char *cv_readlink(void *ctx, void *node)
{
	char *buf = xmalloc(4097);
	ssize_t n;

	(void)ctx;
	n = hammer2_vop_readlink(node, buf, 4096);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	return buf;
}

static void cv_ref(void *ctx, void *node)
{
	(void)ctx;
	hammer2_inode_ref(node);
}

static void cv_rele(void *ctx, void *node)
{
	(void)ctx;
	hammer2_inode_drop(node);
}

static int cwalk(struct run *r, const char *path, int flags,
		 hammer2_inode_t **dirp, char **namep, hammer2_inode_t **nodep,
		 char **canonp)
{
	struct vview v = { r,		cv_root, cv_lookup, cv_type,
			   cv_readlink, cv_ref,	 cv_rele };
	void *d, *n;
	int e = walk(&v, path, flags, &d, namep, &n, canonp);

	*dirp = d;
	*nodep = n;
	return e;
}

static void rel(hammer2_inode_t *ip)
{
	if (ip)
		hammer2_inode_drop(ip);
}

/* ---------------- the tree of the core ---------------- */

struct dl {
	struct dent *e;
	uint64_t *inum;
	size_t n, cap;
};

static int dl_fill(void *arg, const char *name, size_t len, uint64_t inum,
		   uint8_t type, uint64_t next)
{
	struct dl *l = arg;

	(void)next;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->e = xrealloc(l->e, l->cap * sizeof(*l->e));
		l->inum = xrealloc(l->inum, l->cap * sizeof(*l->inum));
	}
	l->e[l->n].name = xmalloc(len + 1);
	memcpy(l->e[l->n].name, name, len);
	l->e[l->n].name[len] = 0;
	l->e[l->n].type = type;
	l->inum[l->n++] = inum;
	return 0;
}

static void dl_free(struct dl *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
	free(l->inum);
}

/* Whole listing of a directory; errno. */
static int list_dir(hammer2_inode_t *dip, struct dl *l)
{
	uint64_t cookie = 0;
	int e;

	memset(l, 0, sizeof(*l));
	e = hammer2_vop_readdir(dip, &cookie, dl_fill, l);
	return e;
}

static int dent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name,
		      ((const struct dent *)b)->name);
}

/* Content digest of a core file (see struct cdigest); errno. */
static int core_digest(hammer2_inode_t *ip, uint64_t size, uint8_t out[32])
{
	struct cdigest *d = cdigest_new();
	uint8_t *buf = xmalloc(CBLK);
	int e = 0;

	for (uint64_t off = 0; off < size; off += CBLK) {
		size_t len = (size_t)(size - off < CBLK ? size - off : CBLK);
		ssize_t n = hammer2_vop_read(ip, buf, len, off);

		if (n != (ssize_t)len) {
			e = n < 0 ? (int)-n : EIO;
			break;
		}
		cdigest_block(d, off, buf, len);
	}
	free(buf);
	cdigest_end(d, size, out);
	return e;
}

static void fill_attrs(const struct hammer2_vattr *va, struct attrs *a)
{
	a->type = va->type;
	a->mode = va->mode;
	a->uid = va->uid;
	a->gid = va->gid;
	a->size = va->type == T_DIR ? 0 : va->size;
	a->nlink = va->nlinks;
}

static int flatten_core_dir(struct run *r, hammer2_inode_t *dip,
			    const char *prefix, struct flat *f, char *msg,
			    size_t msgsz)
{
	struct dl l;
	int e = list_dir(dip, &l);

	if (e) {
		snprintf(msg, msgsz, "readdir %s: %s", prefix[0] ? prefix : "/",
			 strerror(e));
		dl_free(&l);
		return e;
	}
	for (size_t i = 0; i < l.n && !e; i++) {
		hammer2_inode_t *ip;
		struct hammer2_vattr va;
		struct frec rec;
		size_t pl = strlen(prefix) + strlen(l.e[i].name) + 2;

		memset(&rec, 0, sizeof(rec));
		rec.path = xmalloc(pl);
		snprintf(rec.path, pl, "%s/%s", prefix, l.e[i].name);
		e = hammer2_vop_lookup(dip, l.e[i].name, strlen(l.e[i].name),
				       &ip);
		if (e) {
			snprintf(msg, msgsz, "lookup %s: %s", rec.path,
				 strerror(e));
			free(rec.path);
			break;
		}
		e = hammer2_vop_getattr(ip, &va);
		if (e == 0 && va.type != l.e[i].type) {
			snprintf(msg, msgsz,
				 "%s: readdir type %d, getattr type %d",
				 rec.path, l.e[i].type, va.type);
			e = EINVAL;
		}
		if (e == 0) {
			rec.type = va.type;
			rec.mode = va.mode;
			rec.uid = va.uid;
			rec.gid = va.gid;
			rec.size = va.type == T_DIR ? 0 : va.size;
			rec.nlink = va.nlinks;
			if (va.type == T_LNK) {
				rec.target = cv_readlink(r, ip);
				if (rec.target == NULL) {
					snprintf(msg, msgsz, "readlink %s",
						 rec.path);
					e = EIO;
				}
			}
			if (e == 0 && va.type == T_REG) {
				e = core_digest(ip, va.size, rec.digest);
				if (e)
					snprintf(msg, msgsz, "read %s: %s",
						 rec.path, strerror(e));
			}
		}
		if (e == 0) {
			flat_add(f, &rec);
			if (va.type == T_DIR)
				e = flatten_core_dir(r, ip, rec.path, f, msg,
						     msgsz);
		}
		free(rec.target);
		free(rec.path);
		hammer2_inode_drop(ip);
	}
	dl_free(&l);
	return e;
}

/* Flatten the mounted core tree; errno with msg. */
static int core_flatten(struct run *r, struct flat *f, char *msg, size_t msgsz)
{
	struct hammer2_vattr va;
	struct frec rec;
	int e;

	memset(f, 0, sizeof(*f));
	memset(&rec, 0, sizeof(rec));
	e = hammer2_vop_getattr(r->root, &va);
	if (e) {
		snprintf(msg, msgsz, "getattr /: %s", strerror(e));
		return e;
	}
	rec.path = "/";
	rec.type = va.type;
	rec.mode = va.mode;
	rec.uid = va.uid;
	rec.gid = va.gid;
	rec.nlink = va.nlinks;
	flat_add(f, &rec);
	e = flatten_core_dir(r, r->root, "", f, msg, msgsz);
	flat_sort(f);
	return e;
}

/* ---------------- fsck ---------------- */

struct fsck_msg {
	char first[256];
	uint64_t hdr; /* errors about a volume header copy */
};

static void fsck_report(void *arg, const char *line)
{
	struct fsck_msg *m = arg;

	if (strncmp(line, "ERROR: volume header copy", 25) == 0) {
		m->hdr++;
		return;
	}
	if (m->first[0] == 0 && strncmp(line, "ERROR", 5) == 0)
		snprintf(m->first, sizeof(m->first), "%s", line);
}

static void run_fsck(struct run *r)
{
	struct hammer2_fsck_result res;
	struct fsck_msg m;
	int e;

	memset(&m, 0, sizeof(m));
	memset(&res, 0, sizeof(res));
	e = hammer2_fsck(simdisk_ops(), r->d, simdisk_size(r->d),
			 HAMMER2_FSCK_QUIET, fsck_report, &m, &res);
	/*
	 * A header copy torn by the power loss is what the four copies are
	 * for: the mount uses the best valid one.  fsck counts a bad copy
	 * as an error; tolerated here while a valid copy exists.
	 */
	if (e == 0 && res.best_copy >= 0 && res.errors == m.hdr)
		res.errors = 0;
	if (e)
		fail(r, "fsck", "fsck could not run: %s", strerror(e));
	else if (res.errors)
		fail(r, "fsck", "fsck: %" PRIu64 " errors (%s)", res.errors,
		     m.first);
}

/* ---------------- snapshots ---------------- */

static void snaps_clear(struct run *r)
{
	for (size_t i = 0; i < r->nsnaps; i++)
		model_free(&r->snaps[i].m);
	r->nsnaps = 0;
}

static void snap_push(struct run *r, int durable)
{
	struct snap *s;

	if (durable) /* older states can never come back */
		snaps_clear(r);
	if (r->nsnaps == r->csnaps) {
		r->csnaps = r->csnaps ? r->csnaps * 2 : 8;
		r->snaps = xrealloc(r->snaps, r->csnaps * sizeof(*r->snaps));
	}
	s = &r->snaps[r->nsnaps++];
	model_copy(&s->m, &r->m);
	s->durable = durable;
	s->opi = r->opi;
	r->mutated = 0;
}

/* Called after every core call: a flush happened? */
static void note_flushes(struct run *r)
{
	if (r->hmp && r->hmp->stat_flushes != r->seen_flushes) {
		r->st->flushes += r->hmp->stat_flushes - r->seen_flushes;
		r->seen_flushes = r->hmp->stat_flushes;
		snap_push(r, !simdisk_tripped(r->d));
	}
}

/* ---------------- checks ---------------- */

/* Compare the mounted tree with the model; 0 equal. */
static int compare_tree(struct run *r, const struct model *m, char *msg,
			size_t msgsz)
{
	struct flat want, got;
	int e;

	model_flatten(m, &want);
	e = core_flatten(r, &got, msg, msgsz);
	if (e == 0)
		e = flat_compare(&want, &got, msg, msgsz);
	flat_free(&want);
	flat_free(&got);
	return e;
}

static void full_check(struct run *r, const char *what)
{
	char msg[400];

	r->st->checks++;
	if (compare_tree(r, &r->m, msg, sizeof(msg)))
		fail(r, "state", "%s: tree differs from the model: %s", what,
		     msg);
	run_fsck(r);
}

/* Walk the whole tree (EIO mode): readable and consistent. */
static void walk_check(struct run *r)
{
	struct flat got;
	char msg[400];

	r->st->checks++;
	if (core_flatten(r, &got, msg, sizeof(msg)))
		fail(r, "eio-walk", "tree unreadable after remount: %s", msg);
	flat_free(&got);
	run_fsck(r);
}

/*
 * Mount the disk again (after an unmount or a crash) and close the
 * model's fds.  Returns 1 if the caller goes on to check the state, 0 if
 * the mount failed (a failure of kind, what saying after what) or I/O
 * errors are being injected (the tree is only walked, and injection
 * resumes).
 */
static int mount_again(struct run *r, const char *kind, const char *what)
{
	int e = do_mount(r);

	if (e) {
		fail(r, kind, "%s: %s", what, strerror(e));
		return 0;
	}
	model_close_all(&r->m);
	if (r->o->eio) {
		walk_check(r);
		simdisk_set_eio(r->d, EIO_PPM, EIO_PPM);
		return 0;
	}
	return 1;
}

static void crash_recover(struct run *r, const char *why);

static void remount(struct run *r)
{
	int e = do_unmount(r, 1);

	if (simdisk_tripped(r->d)) {
		/* the cut fell into the unmount's flush */
		snap_push(r, 0);
		crash_recover(r, "cut in unmount");
		r->trust = 0;
		return;
	}
	if (e && !r->o->eio)
		fail(r, "unmount", "clean unmount: %s", strerror(e));
	if (r->o->eio) {
		simdisk_set_eio(r->d, 0, 0);
		simdisk_crash(r->d);
	}
	if (!mount_again(r, "mount", "mount after unmount"))
		return;
	snaps_clear(r);
	snap_push(r, 1);
	full_check(r, "remount");
}

/* Power loss on an unmounted disk, remount, match a flush state. */
static void crash_recover(struct run *r, const char *why)
{
	size_t lo = 0, match = SIZE_MAX;
	char msg[400], msg0[400] = "";

	r->st->crashes++;
	if (r->o->eio)
		simdisk_set_eio(r->d, 0, 0);
	simdisk_crash(r->d);
	run_fsck(r);
	snprintf(msg, sizeof(msg), "mount after crash (%s)", why);
	if (!mount_again(r, "crash-mount", msg))
		return;
	r->st->checks++;
	for (size_t i = 0; i < r->nsnaps; i++)
		if (r->snaps[i].durable)
			lo = i;
	for (size_t i = r->nsnaps; i-- > lo;) {
		if (compare_tree(r, &r->snaps[i].m, msg, sizeof(msg)) == 0) {
			match = i;
			break;
		}
		if (msg0[0] == 0)
			snprintf(msg0, sizeof(msg0), "%s", msg);
	}
	if (match == SIZE_MAX) {
		fail(r, "crash-state",
		     "after crash (%s) the tree matches no flush state "
		     "since op line %ld (%zu candidates); vs newest: %s",
		     why,
		     r->snaps[lo].opi < r->t->nops ?
			     r->t->ops[r->snaps[lo].opi].line :
			     0,
		     r->nsnaps - lo, msg0);
		/* continue from the newest state anyway */
		match = r->nsnaps - 1;
	}
	if (match != r->nsnaps - 1 || r->mutated)
		r->trust = 0;
	model_free(&r->m);
	model_copy(&r->m, &r->snaps[match].m);
	{
		struct snap keep = r->snaps[match];

		r->snaps[match].m.n = NULL;
		r->snaps[match].m.fds = NULL;
		r->snaps[match].m.nn = 0;
		snaps_clear(r);
		r->snaps[0] = keep;
		r->snaps[0].durable = 1;
		r->nsnaps = 1;
	}
	r->mutated = 0;
}

static void crash(struct run *r, const char *why)
{
	do_unmount(r, 0);
	crash_recover(r, why);
}

/* ---------------- operations on the core ---------------- */

static struct rfd *rgetfd(struct run *r, int64_t fd)
{
	if (fd < 0 || fd >= MAX_FDS || !r->fds[fd].used)
		return NULL;
	return &r->fds[fd];
}

static int64_t c_create(struct run *r, const char *path, int type,
			uint32_t mode, uint32_t maj, uint32_t min,
			const char *link)
{
	hammer2_inode_t *dir, *node, *ip = NULL;
	struct hammer2_vattr va;
	char *name;
	int e = cwalk(r, path, 0, &dir, &name, &node, NULL);

	if (e)
		return -e;
	if (dir == NULL) {
		rel(node);
		free(name);
		return -EEXIST;
	}
	rel(node); /* the core must find it and say EEXIST itself */
	memset(&va, 0, sizeof(va));
	va.type = (uint8_t)type;
	va.mode = mode & 07777;
	va.rmajor = maj;
	va.rminor = min;
	e = hammer2_vop_create(dir, name, strlen(name), &va, link,
			       link ? strlen(link) : 0, &ip);
	rel(ip);
	rel(dir);
	free(name);
	return -e;
}

static int64_t c_open(struct run *r, const struct top *op)
{
	int flags = (int)op->a[1], acc = flags & OF_ACCMODE, wf = WALK_FOLLOW;
	hammer2_inode_t *dir, *node;
	struct hammer2_vattr va;
	struct rfd *f;
	char *name;
	int e;

	if (op->a[0] < 0 || op->a[0] >= MAX_FDS)
		return -EBADF;
	if ((flags & OF_CREAT) && (flags & OF_DIRECTORY))
		return -EINVAL;
	if ((flags & OF_NOFOLLOW) || ((flags & OF_CREAT) && (flags & OF_EXCL)))
		wf = 0;
	e = cwalk(r, op->path, wf, &dir, &name, &node, NULL);
	if (e)
		return -e;
	if (node == NULL || ((flags & OF_CREAT) && (flags & OF_EXCL) && dir)) {
		if (!(flags & OF_CREAT)) {
			e = ENOENT;
		} else {
			/* O_EXCL on an existing name: the core says EEXIST */
			rel(node);
			node = NULL;
			memset(&va, 0, sizeof(va));
			va.type = T_REG;
			va.mode = (uint32_t)op->a[2] & 07777;
			e = hammer2_vop_create(dir, name, strlen(name), &va,
					       NULL, 0, &node);
		}
	} else {
		if ((flags & OF_CREAT) && (flags & OF_EXCL))
			e = EEXIST;
		else
			e = hammer2_vop_getattr(node, &va);
		if (e == 0) {
			if (va.type == T_LNK)
				e = ELOOP;
			else if ((flags & OF_DIRECTORY) && va.type != T_DIR)
				e = ENOTDIR;
			else if (va.type == T_DIR &&
				 (acc != OF_RDONLY || (flags & OF_CREAT)))
				e = EISDIR;
			else if (va.type != T_DIR && va.type != T_REG)
				e = ENXIO;
			else if ((flags & OF_TRUNC) && va.type == T_REG)
				e = hammer2_vop_truncate(node, 0);
		}
	}
	rel(dir);
	free(name);
	if (e) {
		rel(node);
		return -e;
	}
	f = &r->fds[op->a[0]];
	if (f->used)
		hammer2_inode_drop(f->ip);
	f->used = 1;
	f->ip = node;
	f->flags = flags;
	f->off = 0;
	f->key = fnv1a64(op->path, strlen(op->path));
	return op->a[0];
}

static int64_t c_link(struct run *r, const struct top *op)
{
	hammer2_inode_t *od, *on, *nd, *nn;
	char *oname, *nname;
	int e;

	e = cwalk(r, op->path, 0, &od, &oname, &on, NULL);
	if (e)
		return -e;
	rel(od);
	free(oname);
	e = cwalk(r, op->path2, 0, &nd, &nname, &nn, NULL);
	if (e) {
		rel(on);
		return -e;
	}
	if (on == NULL)
		e = ENOENT;
	else if (nn || nd == NULL)
		e = EEXIST; /* the VFS checks this before ->link */
	else
		e = hammer2_vop_link(on, nd, nname, strlen(nname));
	rel(on);
	rel(nn);
	rel(nd);
	free(nname);
	return -e;
}

static int64_t c_remove(struct run *r, const struct top *op, int isdir)
{
	hammer2_inode_t *dir, *node;
	char *name;
	int e = cwalk(r, op->path, 0, &dir, &name, &node, NULL);

	if (e)
		return -e;
	rel(node);
	if (dir == NULL)
		e = isdir ? EBUSY : EISDIR;
	else if (isdir)
		e = hammer2_vop_rmdir(dir, name, strlen(name));
	else
		e = hammer2_vop_remove(dir, name, strlen(name));
	rel(dir);
	free(name);
	return -e;
}

/* Is directory path a an ancestor of (or equal to) path b? */
static int path_under(const char *a, const char *b)
{
	size_t la = strlen(a);

	if (strcmp(a, "/") == 0)
		return 1;
	return strncmp(a, b, la) == 0 && (b[la] == 0 || b[la] == '/');
}

static char *join(const char *dir, const char *name)
{
	char *s = xmalloc(strlen(dir) + strlen(name) + 2);

	sprintf(s, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", name);
	return s;
}

static int64_t c_rename(struct run *r, const struct top *op)
{
	hammer2_inode_t *fd = NULL, *fn = NULL, *td = NULL, *tn = NULL;
	char *fname = NULL, *tname = NULL, *fc = NULL, *tc = NULL;
	int flags = (int)op->a[0], e, ftype = 0, ttype = 0;
	struct hammer2_vattr va, vb;

	if (flags == (RF_NOREPLACE | RF_EXCHANGE))
		return -EINVAL;
	e = cwalk(r, op->path, 0, &fd, &fname, &fn, &fc);
	if (e)
		return -e;
	e = cwalk(r, op->path2, 0, &td, &tname, &tn, &tc);
	if (e)
		goto out;
	/* what the Linux VFS checks before calling ->rename */
	if (fd == NULL || td == NULL) {
		e = EBUSY;
		goto out;
	}
	if (fn == NULL) {
		e = ENOENT;
		goto out;
	}
	if ((flags & RF_NOREPLACE) && tn) {
		e = EEXIST;
		goto out;
	}
	if ((flags & RF_EXCHANGE) && tn == NULL) {
		e = ENOENT;
		goto out;
	}
	hammer2_vop_getattr(fn, &va);
	ftype = va.type;
	if (tn) {
		hammer2_vop_getattr(tn, &vb);
		ttype = vb.type;
	}
	if (strcmp(fc, tc) != 0) {
		char *fp = join(fc, fname), *tp = join(tc, tname);
		int trap1 = ftype == T_DIR && path_under(fp, tc);
		int trap2 = tn && ttype == T_DIR && path_under(tp, fc);

		free(fp);
		free(tp);
		if (trap1) {
			e = EINVAL;
			goto out;
		}
		if (trap2) {
			e = (flags & RF_EXCHANGE) ? EINVAL : ENOTEMPTY;
			goto out;
		}
	}
	if (tn && va.inum == vb.inum)
		goto out; /* same inode: nothing to do */
	e = hammer2_vop_rename(
		fd, fname, strlen(fname), td, tname, strlen(tname),
		(flags & RF_NOREPLACE ? HAMMER2_RENAME_NOREPLACE : 0) |
			(flags & RF_EXCHANGE ? HAMMER2_RENAME_EXCHANGE : 0));
out:
	rel(fd);
	rel(fn);
	rel(td);
	rel(tn);
	free(fname);
	free(tname);
	free(fc);
	free(tc);
	return -e;
}

/* Resolve an existing node (referenced) or -errno. */
static int c_resolve(struct run *r, const char *path, int flags,
		     hammer2_inode_t **ipp)
{
	hammer2_inode_t *dir, *node;
	char *name;
	int e = cwalk(r, path, flags, &dir, &name, &node, NULL);

	*ipp = NULL;
	if (e)
		return -e;
	rel(dir);
	free(name);
	if (node == NULL)
		return -ENOENT;
	*ipp = node;
	return 0;
}

static uint64_t c_size(hammer2_inode_t *ip)
{
	struct hammer2_vattr va;

	if (hammer2_vop_getattr(ip, &va))
		return 0;
	return va.size;
}

/*
 * --direct: write len bytes at off as the kernel's writeback would, every
 * whole 64 KiB block through the direct seam (the block then goes to the
 * disk at once), the pieces around them and refused blocks through the
 * copy path.  Bytes written, or -errno when nothing was.
 */
static ssize_t c_write_direct(struct run *r, hammer2_inode_t *ip,
			      const uint8_t *buf, uint64_t len, uint64_t off)
{
	const uint64_t B = HAMMER2_PBUFSIZE;
	uint64_t pos = off, end = off + len;

	while (pos < end) {
		uint64_t pend = H2_MIN(end, (pos & ~(B - 1)) + B), dev_off;
		const uint8_t *p = buf + (pos - off);
		unsigned token;
		ssize_t n;

		/* odd blocks in 4 KiB pieces, as the page cache has them */
		struct hammer2_iov iov[16];
		int cnt = (pos / B) & 1 ? 16 : 1;

		for (int k = 0; k < cnt; k++) {
			iov[k].iov_base =
				(void *)(uintptr_t)(p + k * (B / cnt));
			iov[k].iov_len = B / cnt;
		}
		if (pend - pos == B &&
		    hammer2_vop_write_direct(ip, pos, iov, cnt, 0, &dev_off,
					     &token) == 0) {
			simdisk_direct_write(r->d, p, B, dev_off);
			r->st->direct_writes++;
			pos += B;
			continue;
		}
		n = hammer2_vop_write(ip, p, pend - pos, pos);
		if (n < 0)
			return pos > off ? (ssize_t)(pos - off) : n;
		if ((uint64_t)n < pend - pos) { /* short: stop there */
			pos += (uint64_t)n;
			break;
		}
		pos = pend;
	}
	return (ssize_t)(pos - off);
}

static int64_t c_write(struct run *r, struct rfd *f, uint64_t off, uint64_t len,
		       int advance)
{
	uint8_t *buf;
	ssize_t n;

	if ((f->flags & OF_ACCMODE) == OF_RDONLY)
		return -EBADF;
	if (f->flags & OF_APPEND)
		off = c_size(f->ip);
	if (len == 0)
		return 0;
	buf = xmalloc(len);
	gen_fill(buf, len, r->t->seed, f->key, off);
	n = r->o->direct ? c_write_direct(r, f->ip, buf, len, off) :
			   hammer2_vop_write(f->ip, buf, len, off);
	free(buf);
	if (n >= 0 && advance)
		f->off = off + (uint64_t)n;
	return n;
}

static int64_t c_read(struct rfd *f, uint64_t off, uint64_t len,
		      struct outcome *o)
{
	ssize_t n;

	if ((f->flags & OF_ACCMODE) == OF_WRONLY)
		return -EBADF;
	o->data = xmalloc(len);
	n = hammer2_vop_read(f->ip, o->data, len, off);
	return n;
}

static int64_t c_setattr(hammer2_inode_t *ip, struct hammer2_vattr *va,
			 int mask)
{
	return -hammer2_vop_setattr(ip, va, mask);
}

static int64_t c_chown(hammer2_inode_t *ip, int64_t uid, int64_t gid)
{
	struct hammer2_vattr va;
	int mask = 0;

	memset(&va, 0, sizeof(va));
	if (uid != -1) {
		va.uid = (uint32_t)uid;
		mask |= HAMMER2_VA_UID;
	}
	if (gid != -1) {
		va.gid = (uint32_t)gid;
		mask |= HAMMER2_VA_GID;
	}
	return c_setattr(ip, &va, mask);
}

static void core_apply(struct run *r, const struct top *op, struct outcome *o)
{
	struct rfd *f = NULL;
	hammer2_inode_t *ip;
	struct hammer2_vattr va;
	int64_t res = 0;

	memset(o, 0, sizeof(*o));
	if (op_uses_fd(op->kind)) {
		f = rgetfd(r, op->a[0]);
		if (f == NULL) {
			o->res = -EBADF;
			return;
		}
	}
	switch (op->kind) {
	case OP_OPEN:
		res = c_open(r, op);
		break;
	case OP_CLOSE:
		hammer2_inode_drop(f->ip);
		f->used = 0;
		break;
	case OP_MKDIR:
		res = c_create(r, op->path, T_DIR, (uint32_t)op->a[0], 0, 0,
			       NULL);
		break;
	case OP_MKNOD:
		res = c_create(r, op->path, (int)op->a[0], (uint32_t)op->a[1],
			       (uint32_t)op->a[2], (uint32_t)op->a[3], NULL);
		break;
	case OP_SYMLINK:
		res = op->path[0] == 0 ? -ENOENT :
					 c_create(r, op->path2, T_LNK, 0777, 0,
						  0, op->path);
		break;
	case OP_LINK:
		res = c_link(r, op);
		break;
	case OP_UNLINK:
		res = c_remove(r, op, 0);
		break;
	case OP_RMDIR:
		res = c_remove(r, op, 1);
		break;
	case OP_RENAME:
		res = c_rename(r, op);
		break;
	case OP_WRITE:
		res = c_write(r, f, f->off, (uint64_t)op->a[1], 1);
		break;
	case OP_PWRITE:
		res = op->a[1] < 0 ? -EINVAL :
				     c_write(r, f, (uint64_t)op->a[1],
					     (uint64_t)op->a[2], 0);
		break;
	case OP_READ:
		res = c_read(f, f->off, (uint64_t)op->a[1], o);
		if (res > 0)
			f->off += (uint64_t)res;
		break;
	case OP_PREAD:
		res = op->a[1] < 0 ? -EINVAL :
				     c_read(f, (uint64_t)op->a[1],
					    (uint64_t)op->a[2], o);
		break;
	case OP_LSEEK:
		res = lseek_target(op, f->off, c_size(f->ip));
		if (res >= 0)
			f->off = (uint64_t)res;
		break;
	case OP_TRUNCATE:
		res = c_resolve(r, op->path, WALK_FOLLOW, &ip);
		if (res)
			break;
		if (op->a[0] < 0)
			res = -EINVAL;
		else if (hammer2_vop_getattr(ip, &va) == 0 &&
			 va.type != T_REG && va.type != T_DIR)
			res = -EINVAL;
		else
			res = -hammer2_vop_truncate(ip, (uint64_t)op->a[0]);
		rel(ip);
		break;
	case OP_FTRUNCATE:
		hammer2_vop_getattr(f->ip, &va);
		res = ftruncate_check(op, f->flags, va.type);
		if (res == 0)
			res = -hammer2_vop_truncate(f->ip, (uint64_t)op->a[1]);
		break;
	case OP_FALLOCATE:
		hammer2_vop_getattr(f->ip, &va);
		res = fallocate_check(op, f->flags, va.type);
		if (res == 0 && (uint64_t)(op->a[2] + op->a[3]) > va.size)
			res = -hammer2_vop_truncate(
				f->ip, (uint64_t)(op->a[2] + op->a[3]));
		break;
	case OP_CHMOD:
	case OP_CHOWN:
	case OP_UTIMES:
		res = c_resolve(r, op->path, WALK_FOLLOW, &ip);
		if (res)
			break;
		memset(&va, 0, sizeof(va));
		if (op->kind == OP_CHMOD) {
			va.mode = (uint32_t)op->a[0] & 07777;
			res = c_setattr(ip, &va, HAMMER2_VA_MODE);
		} else if (op->kind == OP_CHOWN) {
			res = c_chown(ip, op->a[0], op->a[1]);
		} else {
			int mask = 0;
			uint64_t now = simdisk_ops()->time_us(r->d);

			if (op->a[0] != -1) {
				va.atime_us = op->a[0] == -2 ?
						      now :
						      (uint64_t)op->a[0];
				mask |= HAMMER2_VA_ATIME;
			}
			if (op->a[1] != -1) {
				va.mtime_us = op->a[1] == -2 ?
						      now :
						      (uint64_t)op->a[1];
				mask |= HAMMER2_VA_MTIME;
			}
			res = c_setattr(ip, &va, mask);
		}
		rel(ip);
		break;
	case OP_FCHMOD:
		memset(&va, 0, sizeof(va));
		va.mode = (uint32_t)op->a[1] & 07777;
		res = c_setattr(f->ip, &va, HAMMER2_VA_MODE);
		break;
	case OP_FCHOWN:
		res = c_chown(f->ip, op->a[1], op->a[2]);
		break;
	case OP_STAT:
	case OP_LSTAT:
		res = c_resolve(r, op->path,
				op->kind == OP_STAT ? WALK_FOLLOW : 0, &ip);
		if (res)
			break;
		res = -hammer2_vop_getattr(ip, &va);
		if (res == 0)
			fill_attrs(&va, &o->st);
		rel(ip);
		break;
	case OP_FSTAT:
		res = -hammer2_vop_getattr(f->ip, &va);
		if (res == 0)
			fill_attrs(&va, &o->st);
		break;
	case OP_READDIR: {
		struct dl l;

		res = c_resolve(r, op->path, WALK_FOLLOW, &ip);
		if (res)
			break;
		res = -list_dir(ip, &l);
		rel(ip);
		if (res == 0) {
			o->ents = l.e;
			o->nents = l.n;
			if (o->nents)
				qsort(o->ents, o->nents, sizeof(*o->ents),
				      dent_cmp);
			res = (int64_t)l.n;
			free(l.inum);
		} else {
			dl_free(&l);
		}
		break;
	}
	case OP_READLINK:
		res = c_resolve(r, op->path, 0, &ip);
		if (res)
			break;
		{
			char *buf = xmalloc(4097);
			ssize_t n = hammer2_vop_readlink(ip, buf, 4096);

			if (n >= 0) {
				buf[n] = 0;
				o->link = buf;
			} else {
				free(buf);
			}
			res = n;
		}
		rel(ip);
		break;
	case OP_FSYNC:
	case OP_FDATASYNC:
		res = -hammer2_vop_fsync(f->ip);
		break;
	case OP_SYNC:
		res = -hammer2_vfs_sync(r->hmp);
		break;
	default:
		res = -EINVAL;
		break;
	}
	o->res = res;
}

/* ---------------- comparing outcomes ---------------- */

static const char *rstr(int64_t v, char *buf, size_t n)
{
	if (v < 0)
		snprintf(buf, n, "-%s",
			 errno_name((int)-v) ? errno_name((int)-v) : "E?");
	else
		snprintf(buf, n, "%" PRId64, v);
	return buf;
}

static void compare_outcome(struct run *r, const struct top *op,
			    const struct outcome *want,
			    const struct outcome *got)
{
	char a[32], b[32];

	if (want->res != got->res) {
		fail(r, "result", "%s %s: core %s, model %s", op_name(op->kind),
		     op->path ? op->path : "", rstr(got->res, a, sizeof(a)),
		     rstr(want->res, b, sizeof(b)));
		return;
	}
	if (r->trust && op->has_result && op->result != want->res) {
		fail(r, "trace-result", "%s %s: got %s, trace says %s",
		     op_name(op->kind), op->path ? op->path : "",
		     rstr(got->res, a, sizeof(a)),
		     rstr(op->result, b, sizeof(b)));
		return;
	}
	if (want->res < 0)
		return;
	switch (op->kind) {
	case OP_READ:
	case OP_PREAD:
		if (want->res > 0 &&
		    memcmp(want->data, got->data, (size_t)want->res) != 0) {
			size_t i = 0;

			while (want->data[i] == got->data[i])
				i++;
			fail(r, "read-bytes",
			     "%s fd %" PRId64 ": byte %zu of %" PRId64
			     " differs (core 0x%02x, model 0x%02x)",
			     op_name(op->kind), op->a[0], i, want->res,
			     got->data[i], want->data[i]);
		}
		break;
	case OP_STAT:
	case OP_LSTAT:
	case OP_FSTAT:
		if (memcmp(&want->st, &got->st, sizeof(want->st)) != 0)
			fail(r, "stat",
			     "%s %s: core type %d mode %o uid %u gid %u size "
			     "%" PRIu64 " nlink %" PRIu64
			     ", model type %d mode %o uid %u gid %u size "
			     "%" PRIu64 " nlink %" PRIu64,
			     op_name(op->kind), op->path ? op->path : "",
			     got->st.type, got->st.mode, got->st.uid,
			     got->st.gid, got->st.size, got->st.nlink,
			     want->st.type, want->st.mode, want->st.uid,
			     want->st.gid, want->st.size, want->st.nlink);
		break;
	case OP_READDIR:
		for (size_t i = 0; i < want->nents; i++)
			if (strcmp(want->ents[i].name, got->ents[i].name) ||
			    want->ents[i].type != got->ents[i].type) {
				fail(r, "readdir",
				     "readdir %s: entry %zu core %s (%d), "
				     "model %s (%d)",
				     op->path, i, got->ents[i].name,
				     got->ents[i].type, want->ents[i].name,
				     want->ents[i].type);
				break;
			}
		break;
	case OP_READLINK:
		if (strcmp(want->link, got->link) != 0)
			fail(r, "readlink",
			     "readlink %s: core '%s', model '%s'", op->path,
			     got->link, want->link);
		break;
	default:
		break;
	}
}

/* ---------------- the run ---------------- */

static int mutating(enum op_kind k)
{
	switch (k) {
	case OP_READ:
	case OP_PREAD:
	case OP_LSEEK:
	case OP_STAT:
	case OP_LSTAT:
	case OP_FSTAT:
	case OP_READDIR:
	case OP_READLINK:
	case OP_CHECK:
	case OP_CLOSE:
		return 0;
	default:
		return 1;
	}
}

static void run_op(struct run *r, const struct top *op)
{
	struct outcome want, got;

	if (op_uses_fd(op->kind) && op->a[0] >= 0 && op->a[0] < MAX_FDS &&
	    r->stale[op->a[0]]) {
		/* an fd opened before a crash or remount: skipped */
		r->st->skipped_fd_ops++;
		if (op->kind == OP_CLOSE)
			r->stale[op->a[0]] = 0;
		return;
	}
	if (op->kind == OP_OPEN && op->a[0] >= 0 && op->a[0] < MAX_FDS)
		r->stale[op->a[0]] = 0;
	switch (op->kind) {
	case OP_CRASH:
		crash(r, "trace");
		return;
	case OP_REMOUNT:
		remount(r);
		return;
	case OP_CHECK:
		if (r->o->eio)
			remount(r); /* I/O errors off, remount, walk, fsck */
		else
			full_check(r, "check");
		return;
	default:
		break;
	}
	core_apply(r, op, &got);
	if (!r->o->eio) {
		model_apply(&r->m, op, &want);
		compare_outcome(r, op, &want, &got);
		outcome_clear(&want);
		if (mutating(op->kind))
			r->mutated = 1;
	}
	outcome_clear(&got);
	note_flushes(r);
	if (op->kind == OP_SYNC || op->kind == OP_FSYNC ||
	    op->kind == OP_FDATASYNC) {
		/* a completed sync: the newest snapshot is durable */
		if (!simdisk_tripped(r->d) && r->nsnaps && !r->mutated &&
		    got.res == 0)
			r->snaps[r->nsnaps - 1].durable = 1;
	}
}

static void setup_knobs(struct run *r)
{
	static const uint64_t limits[] = { 1 << 20, 2 << 20, 4 << 20,
					   256ULL << 20 };
	static const uint32_t bg[] = { 0, 20, 100 };

	r->rng = r->o->seed * 0x2545F4914F6CDD1DULL + 0x1234;
	r->dirty_limit = limits[rnd(&r->rng, 4)];
	r->bg_flush_per1000 = (uint32_t)bg[rnd(&r->rng, 3)];
	if (r->o->sched == SCHED_RANDOM && r->t->nops) {
		r->ncrash_at = 1 + (int)rnd(&r->rng, 3);
		for (int i = 0; i < r->ncrash_at; i++)
			r->crash_at[i] = (size_t)rnd(&r->rng, r->t->nops);
		/*
		 * Half of the random runs also cut inside one flush: at a
		 * random barrier among the first ones the run is likely to
		 * reach, before or after it (never reached: no cut).
		 */
		if (rnd(&r->rng, 2)) {
			r->mid_cut_b = 1 + rnd(&r->rng, 2 + r->t->nops / 4);
			r->mid_cut_after = (int)rnd(&r->rng, 2);
		}
	}
}

int run_trace(const struct trace *t, const struct runopts *o,
	      struct runstats *st, FILE *out)
{
	struct run r;
	struct hammer2_vattr va;
	char err[256];
	int e, save_failed = 0;

	memset(&r, 0, sizeof(r));
	memset(st, 0, sizeof(*st));
	r.t = t;
	r.o = o;
	r.st = st;
	r.out = out;
	r.trust = o->trust_results;
	r.fds = xcalloc(MAX_FDS, sizeof(*r.fds));
	r.stale = xcalloc(MAX_FDS, 1);
	setup_knobs(&r);
	r.d = format_disk(t->volume, o->seed, err, sizeof(err));
	if (r.d == NULL) {
		if (out)
			fprintf(out, "h2sim: %s\n", err);
		free(r.fds);
		free(r.stale);
		return 2;
	}
	simdisk_set_clock(r.d, 1700000000000000ULL + o->seed * 1000,
			  o->seed ^ 0x77);
	e = do_mount(&r);
	if (e) {
		if (out)
			fprintf(out, "h2sim: mount of a new volume: %s\n",
				strerror(e));
		simdisk_free(r.d);
		free(r.fds);
		free(r.stale);
		return 2;
	}
	hammer2_vop_getattr(r.root, &va);
	model_init(&r.m, t->seed, va.nlinks, va.mode);
	snap_push(&r, 1);
	if (o->sched == SCHED_EVERY_FLUSH && o->cut) {
		uint64_t k = (o->cut - 1) / 3 + 1, j = (o->cut - 1) % 3;

		simdisk_arm_cut(r.d, j == 2 ? 2 * k : 2 * k - 1, j == 1);
	}
	if (r.mid_cut_b)
		simdisk_arm_cut(r.d, simdisk_barriers(r.d) + r.mid_cut_b,
				r.mid_cut_after);
	if (o->eio)
		simdisk_set_eio(r.d, EIO_PPM, EIO_PPM);
	for (r.opi = 0; r.opi < t->nops; r.opi++) {
		const struct top *op = &t->ops[r.opi];

		if (r.hmp == NULL)
			break; /* a failed mount: nothing more to run */
		if (r.bg_flush_per1000 &&
		    rnd(&r.rng, 1000) < r.bg_flush_per1000) {
			/* the flusher runs between two operations */
			hammer2_vfs_sync(r.hmp);
			note_flushes(&r);
		}
		st->ops++;
		run_op(&r, op);
		if (r.hmp == NULL)
			break;
		if (simdisk_tripped(r.d)) {
			crash(&r, "cut");
			r.trust = 0;
		}
		for (int i = 0; i < r.ncrash_at && r.hmp; i++)
			if (r.crash_at[i] == r.opi) {
				crash(&r, "random");
				r.trust = 0;
				break;
			}
		if (r.failed)
			break;
	}
	if (r.hmp && !r.failed) {
		/* final: clean unmount, remount, compare, fsck */
		remount(&r);
	}
	if (r.hmp)
		do_unmount(&r, 1);
	st->barriers = simdisk_barriers(r.d);
	simdisk_sha256(r.d, st->image_sha256);
	if (o->image && (e = simdisk_save(r.d, o->image)) != 0) {
		fprintf(stderr, "h2sim: %s: %s\n", o->image, strerror(e));
		save_failed = 1;
	}
	snaps_clear(&r);
	free(r.snaps);
	model_free(&r.m);
	simdisk_free(r.d);
	free(r.fds);
	free(r.stale);
	if (save_failed)
		return 2;
	return r.failed ? 1 : 0;
}

int count_flushes(const struct trace *t, uint64_t seed, int direct,
		  uint64_t *nflushes)
{
	struct runopts o;
	struct runstats st;
	int e;

	memset(&o, 0, sizeof(o));
	o.seed = seed;
	o.direct = direct;
	o.sched = SCHED_EVERY_FLUSH;
	o.quiet = 1;
	e = run_trace(t, &o, &st, NULL);
	*nflushes = st.barriers / 2;
	return e;
}
