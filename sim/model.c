/*
 * model.c - h2sim's reference model: an in-memory POSIX tree predicting
 * what Linux returns for every trace operation (docs/SIM.md lists the
 * deliberate differences), the path walker shared with the runner, and
 * flattened trees for state comparisons.
 */
#include <errno.h>
#include <sha2.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2_disk.h"
#include "sim.h"

#define T_DIR HAMMER2_OBJTYPE_DIRECTORY
#define T_REG HAMMER2_OBJTYPE_REGFILE
#define T_LNK HAMMER2_OBJTYPE_SOFTLINK
#define MAXLINKS 40
#define CBLK 65536

/* ---------------- content digests ---------------- */

struct cdigest {
	SHA2_CTX ctx;
};

struct cdigest *cdigest_new(void)
{
	struct cdigest *d = xmalloc(sizeof(*d));

	SHA256Init(&d->ctx);
	return d;
}

static void put_le64(uint8_t *b, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

void cdigest_block(struct cdigest *d, uint64_t off, const uint8_t *blk,
		   size_t len)
{
	uint8_t b[8];

	if (len == 0 || (blk[0] == 0 && memcmp(blk, blk + 1, len - 1) == 0))
		return;
	put_le64(b, off);
	SHA256Update(&d->ctx, b, 8);
	SHA256Update(&d->ctx, blk, len);
}

void cdigest_end(struct cdigest *d, uint64_t size, uint8_t out[32])
{
	uint8_t b[8];

	put_le64(b, size);
	SHA256Update(&d->ctx, b, 8);
	SHA256Final(out, &d->ctx);
	free(d);
}

/* ---------------- the walker ---------------- */

/* "/a/b" of the directory names on the walk's stack. */
static char *canon_of(char **names, size_t n)
{
	size_t len = 2;
	char *s;

	for (size_t i = 0; i < n; i++)
		len += strlen(names[i]) + 1;
	s = xmalloc(len);
	s[0] = 0;
	for (size_t i = 0; i < n; i++) {
		strcat(s, "/");
		strcat(s, names[i]);
	}
	if (n == 0)
		strcpy(s, "/");
	return s;
}

int walk(const struct vview *v, const char *path, int flags, void **dirp,
	 char **namep, void **nodep, char **canonp)
{
	char *rest = xstrdup(path), *p;
	void *cur = v->root(v->ctx), *nx;
	void **stack = NULL;
	char **names = NULL;
	size_t ns = 0, cs = 0;
	int links = 0, err = 0;

	if (canonp)
		*canonp = NULL;

	*dirp = NULL;
	*namep = NULL;
	*nodep = NULL;
	p = rest;
	for (;;) {
		char *comp, *q;
		int last;

		while (*p == '/')
			p++;
		if (*p == 0)
			break;
		comp = p;
		for (q = p; *q && *q != '/'; q++)
			;
		p = q;
		if (*q)
			*p++ = 0;
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			if (ns) {
				v->rele(v->ctx, cur);
				cur = stack[--ns];
				free(names[ns]);
			}
			continue;
		}
		if (strlen(comp) > 255) {
			err = ENAMETOOLONG;
			goto out;
		}
		{
			char *r = p;

			last = 1;
			while (*r) {
				while (*r == '/')
					r++;
				if (*r == 0)
					break;
				if (r[0] == '.' && (r[1] == '/' || r[1] == 0)) {
					r++;
					continue;
				}
				last = 0;
				break;
			}
		}
		if (v->type(v->ctx, cur) != T_DIR) {
			err = ENOTDIR;
			goto out;
		}
		err = v->lookup(v->ctx, cur, comp, &nx);
		if (err == ENOENT && last) {
			if (canonp)
				*canonp = canon_of(names, ns);
			*dirp = cur;
			*namep = xstrdup(comp);
			cur = NULL;
			err = 0;
			goto out;
		}
		if (err)
			goto out;
		if (v->type(v->ctx, nx) == T_LNK &&
		    (!last || (flags & WALK_FOLLOW))) {
			char *tgt = v->readlink(v->ctx, nx), *nr;

			v->rele(v->ctx, nx);
			if (tgt == NULL) {
				err = EIO;
				goto out;
			}
			if (++links > MAXLINKS) {
				free(tgt);
				err = ELOOP;
				goto out;
			}
			if (*tgt == 0) {
				free(tgt);
				err = ENOENT;
				goto out;
			}
			nr = xmalloc(strlen(tgt) + strlen(p) + 2);
			strcpy(nr, tgt);
			strcat(nr, "/");
			strcat(nr, p);
			if (tgt[0] == '/') {
				v->rele(v->ctx, cur);
				while (ns) {
					v->rele(v->ctx, stack[--ns]);
					free(names[ns]);
				}
				cur = v->root(v->ctx);
			}
			free(tgt);
			free(rest);
			rest = p = nr;
			continue;
		}
		if (last) {
			if (canonp)
				*canonp = canon_of(names, ns);
			*dirp = cur;
			*namep = xstrdup(comp);
			*nodep = nx;
			cur = NULL;
			goto out;
		}
		if (ns == cs) {
			cs = cs ? cs * 2 : 16;
			stack = xrealloc(stack, cs * sizeof(*stack));
			names = xrealloc(names, cs * sizeof(*names));
		}
		names[ns] = xstrdup(comp);
		stack[ns++] = cur;
		cur = nx;
	}
	/* the path names the root (or resolved to a directory via "..") */
	*nodep = cur;
	*namep = xstrdup("");
	cur = NULL;
out:
	if (cur)
		v->rele(v->ctx, cur);
	while (ns) {
		v->rele(v->ctx, stack[--ns]);
		free(names[ns]);
	}
	free(stack);
	free(names);
	free(rest);
	if (err) {
		if (canonp) {
			free(*canonp);
			*canonp = NULL;
		}
		if (*dirp)
			v->rele(v->ctx, *dirp);
		if (*nodep)
			v->rele(v->ctx, *nodep);
		free(*namep);
		*dirp = *nodep = NULL;
		*namep = NULL;
	}
	return err;
}

/* ---------------- model nodes ---------------- */

static void *I2P(int ino)
{
	return (void *)(intptr_t)(ino + 1);
}

static int P2I(void *p)
{
	return p ? (int)(intptr_t)p - 1 : -1;
}

static int new_node(struct model *m, int type, uint32_t mode)
{
	size_t i;
	struct mnode *n;

	for (i = 0; i < m->nn; i++)
		if (!m->n[i].live)
			break;
	if (i == m->nn) {
		if (m->nn == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 64;
			m->n = xrealloc(m->n, m->cap * sizeof(*m->n));
		}
		m->nn++;
	}
	n = &m->n[i];
	memset(n, 0, sizeof(*n));
	n->live = 1;
	n->type = type;
	n->mode = mode & 07777;
	n->nlink = type == T_DIR ? 2 : 1;
	n->parent = -1;
	return (int)i;
}

static void node_release(struct mnode *n)
{
	for (size_t i = 0; i < n->nents; i++)
		free(n->ents[i].name);
	free(n->ents);
	free(n->ext);
	free(n->target);
	memset(n, 0, sizeof(*n));
}

/* Free a node once it has no names and no open fds. */
static void node_maybe_free(struct model *m, int ino)
{
	struct mnode *n = &m->n[ino];

	if (n->live && n->nlink == 0 && n->opens == 0)
		node_release(n);
}

static int dir_find(const struct mnode *d, const char *name)
{
	for (size_t i = 0; i < d->nents; i++)
		if (strcmp(d->ents[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void dir_add(struct mnode *d, const char *name, int ino)
{
	if (d->nents == d->cents) {
		d->cents = d->cents ? d->cents * 2 : 8;
		d->ents = xrealloc(d->ents, d->cents * sizeof(*d->ents));
	}
	d->ents[d->nents].name = xstrdup(name);
	d->ents[d->nents++].ino = ino;
}

static void dir_del(struct mnode *d, int idx)
{
	free(d->ents[idx].name);
	d->ents[idx] = d->ents[--d->nents];
}

void model_init(struct model *m, uint64_t dseed, uint64_t root_nlink,
		uint32_t root_mode)
{
	memset(m, 0, sizeof(*m));
	m->dseed = dseed;
	m->root = new_node(m, T_DIR, root_mode);
	m->n[m->root].nlink = root_nlink;
	m->fds = xcalloc(MAX_FDS, sizeof(*m->fds));
}

void model_free(struct model *m)
{
	for (size_t i = 0; i < m->nn; i++)
		if (m->n[i].live)
			node_release(&m->n[i]);
	free(m->n);
	free(m->fds);
	memset(m, 0, sizeof(*m));
}

void model_copy(struct model *dst, const struct model *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->dseed = src->dseed;
	dst->root = src->root;
	dst->nn = dst->cap = src->nn;
	dst->n = xcalloc(src->nn, sizeof(*dst->n));
	dst->fds = xcalloc(MAX_FDS, sizeof(*dst->fds));
	for (size_t i = 0; i < src->nn; i++) {
		const struct mnode *s = &src->n[i];
		struct mnode *d = &dst->n[i];

		if (!s->live)
			continue;
		/* unlinked open files vanish with their fds */
		if (s->nlink == 0) {
			continue;
		}
		*d = *s;
		d->opens = 0;
		d->target = s->target ? xstrdup(s->target) : NULL;
		d->ext = s->next ? xmalloc(s->next * sizeof(*s->ext)) : NULL;
		if (s->next)
			memcpy(d->ext, s->ext, s->next * sizeof(*s->ext));
		d->cext = s->next;
		d->ents = s->nents ? xmalloc(s->nents * sizeof(*s->ents)) :
				     NULL;
		d->cents = s->nents;
		for (size_t j = 0; j < s->nents; j++) {
			d->ents[j].name = xstrdup(s->ents[j].name);
			d->ents[j].ino = s->ents[j].ino;
		}
	}
}

void model_close_all(struct model *m)
{
	for (int fd = 0; fd < MAX_FDS; fd++)
		if (m->fds[fd].used) {
			int ino = m->fds[fd].ino;

			m->fds[fd].used = 0;
			if (m->n[ino].live) {
				m->n[ino].opens--;
				node_maybe_free(m, ino);
			}
		}
}

int model_fd_open(const struct model *m, int64_t fd)
{
	return fd >= 0 && fd < MAX_FDS && m->fds[fd].used;
}

/* ---------------- fd op semantics (shared with the runner) ---------------- */

int64_t lseek_target(const struct top *op, uint64_t off, uint64_t size)
{
	int64_t base = op->a[2] == 0 ? 0 :
		       op->a[2] == 1 ? (int64_t)off :
				       (int64_t)size;
	int64_t r = base + op->a[1];

	return r < 0 ? -EINVAL : r;
}

int64_t ftruncate_check(const struct top *op, int flags, int type)
{
	if (op->a[1] < 0 || type != T_REG || (flags & OF_ACCMODE) == OF_RDONLY)
		return -EINVAL;
	return 0;
}

int64_t fallocate_check(const struct top *op, int flags, int type)
{
	if (op->a[2] < 0 || op->a[3] <= 0)
		return -EINVAL;
	if ((flags & OF_ACCMODE) == OF_RDONLY)
		return -EBADF;
	if (type == T_DIR)
		return -EISDIR;
	if (type != T_REG)
		return -ENODEV;
	if (op->a[1] != 0)
		return -EOPNOTSUPP;
	return 0;
}

/* ---------------- extents ---------------- */

static void ext_push(struct mnode *n, uint64_t s, uint64_t len, uint64_t key)
{
	if (n->next == n->cext) {
		n->cext = n->cext ? n->cext * 2 : 4;
		n->ext = xrealloc(n->ext, n->cext * sizeof(*n->ext));
	}
	n->ext[n->next].start = s;
	n->ext[n->next].len = len;
	n->ext[n->next++].key = key;
}

/* Replace [s, s+len) by (key) - or by zeros with key == 0 and zero. */
static void ext_put(struct mnode *n, uint64_t s, uint64_t len, uint64_t key,
		    int zero)
{
	struct ext *old = n->ext;
	size_t no = n->next, i;
	uint64_t e = s + len;
	int placed = 0;

	n->ext = NULL;
	n->next = n->cext = 0;
	for (i = 0; i < no; i++) {
		uint64_t os = old[i].start, oe = os + old[i].len;

		if (!placed && !zero && os >= s) {
			ext_push(n, s, len, key);
			placed = 1;
		}
		if (oe <= s || os >= e) {
			if (!placed && !zero && os >= e) {
				ext_push(n, s, len, key);
				placed = 1;
			}
			ext_push(n, os, old[i].len, old[i].key);
			continue;
		}
		if (os < s)
			ext_push(n, os, s - os, old[i].key);
		if (!placed && !zero) {
			ext_push(n, s, len, key);
			placed = 1;
		}
		if (oe > e)
			ext_push(n, e, oe - e, old[i].key);
	}
	if (!placed && !zero)
		ext_push(n, s, len, key);
	free(old);
}

static void ext_read(const struct model *m, const struct mnode *n, uint8_t *buf,
		     uint64_t off, size_t len)
{
	memset(buf, 0, len);
	for (size_t i = 0; i < n->next; i++) {
		uint64_t s = n->ext[i].start, e = s + n->ext[i].len;
		uint64_t a = s > off ? s : off;
		uint64_t b = e < off + len ? e : off + len;

		if (a < b)
			gen_fill(buf + (a - off), (size_t)(b - a), m->dseed,
				 n->ext[i].key, a);
	}
}

static void set_size(struct mnode *n, uint64_t size)
{
	if (size < n->size)
		ext_put(n, size, UINT64_MAX - size, 0, 1);
	n->size = size;
}

/* ---------------- outcome ---------------- */

void outcome_clear(struct outcome *o)
{
	free(o->data);
	for (size_t i = 0; i < o->nents; i++)
		free(o->ents[i].name);
	free(o->ents);
	free(o->link);
	memset(o, 0, sizeof(*o));
}

static int dent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name,
		      ((const struct dent *)b)->name);
}

/* ---------------- model view for walk() ---------------- */

static void *mv_root(void *ctx)
{
	return I2P(((struct model *)ctx)->root);
}

static int mv_lookup(void *ctx, void *dir, const char *name, void **out)
{
	struct model *m = ctx;
	struct mnode *d = &m->n[P2I(dir)];
	int i;

	if (strlen(name) > 255)
		return ENAMETOOLONG;
	i = dir_find(d, name);
	if (i < 0)
		return ENOENT;
	*out = I2P(d->ents[i].ino);
	return 0;
}

static int mv_type(void *ctx, void *node)
{
	return ((struct model *)ctx)->n[P2I(node)].type;
}

static char *mv_readlink(void *ctx, void *node)
{
	const char *t = ((struct model *)ctx)->n[P2I(node)].target;

	return xstrdup(t ? t : "");
}

static void mv_nop(void *ctx, void *node)
{
	(void)ctx;
	(void)node;
}

static int mwalk(struct model *m, const char *path, int flags, int *dir,
		 char **name, int *node)
{
	struct vview v = { m,		mv_root, mv_lookup, mv_type,
			   mv_readlink, mv_nop,	 mv_nop };
	void *d, *n;
	int err = walk(&v, path, flags, &d, name, &n, NULL);

	*dir = P2I(d);
	*node = P2I(n);
	return err;
}

static void fill_attrs(const struct mnode *n, struct attrs *a)
{
	a->type = n->type;
	a->mode = n->mode;
	a->uid = n->uid;
	a->gid = n->gid;
	a->size = n->type == T_DIR ? 0 : n->size;
	a->nlink = n->nlink;
}

static struct mfd *getfd(struct model *m, int64_t fd)
{
	if (fd < 0 || fd >= MAX_FDS || !m->fds[fd].used)
		return NULL;
	return &m->fds[fd];
}

/* Is a an ancestor of (or equal to) directory d? */
static int is_ancestor(const struct model *m, int a, int d)
{
	for (; d >= 0; d = m->n[d].parent)
		if (d == a)
			return 1;
	return 0;
}

static void unlink_entry(struct model *m, int dir, int idx)
{
	int ino = m->n[dir].ents[idx].ino;
	struct mnode *n = &m->n[ino];

	dir_del(&m->n[dir], idx);
	if (n->type == T_DIR) {
		m->n[dir].nlink--;
		n->nlink = 0;
	} else {
		n->nlink--;
	}
	node_maybe_free(m, ino);
}

static int64_t m_open(struct model *m, const struct top *op)
{
	int flags = (int)op->a[1], acc = flags & OF_ACCMODE;
	int dir, node, wflags = WALK_FOLLOW, err;
	struct mfd *f;
	char *name;

	if (op->a[0] < 0 || op->a[0] >= MAX_FDS)
		return -EBADF;
	if ((flags & OF_CREAT) && (flags & OF_DIRECTORY))
		return -EINVAL;
	if ((flags & OF_NOFOLLOW) || ((flags & OF_CREAT) && (flags & OF_EXCL)))
		wflags = 0;
	err = mwalk(m, op->path, wflags, &dir, &name, &node);
	if (err)
		return -err;
	if (node < 0) {
		if (!(flags & OF_CREAT)) {
			free(name);
			return -ENOENT;
		}
		node = new_node(m, T_REG, (uint32_t)op->a[2]);
		dir_add(&m->n[dir], name, node);
		free(name);
	} else {
		struct mnode *n = &m->n[node];

		free(name);
		if ((flags & OF_CREAT) && (flags & OF_EXCL))
			return -EEXIST;
		if (n->type == T_LNK)
			return -ELOOP;
		if ((flags & OF_DIRECTORY) && n->type != T_DIR)
			return -ENOTDIR;
		if (n->type == T_DIR &&
		    (acc != OF_RDONLY || (flags & OF_CREAT)))
			return -EISDIR;
		if (n->type != T_DIR && n->type != T_REG)
			return -ENXIO;
		if ((flags & OF_TRUNC) && n->type == T_REG)
			set_size(n, 0);
	}
	if (m->fds[op->a[0]].used) {
		/* rebinding a trace fd closes the old file implicitly */
		int old = m->fds[op->a[0]].ino;

		m->fds[op->a[0]].used = 0;
		m->n[old].opens--;
		node_maybe_free(m, old);
	}
	f = &m->fds[op->a[0]];
	f->used = 1;
	f->ino = node;
	f->flags = flags;
	f->off = 0;
	f->key = fnv1a64(op->path, strlen(op->path));
	m->n[node].opens++;
	return op->a[0];
}

static int64_t m_create(struct model *m, const struct top *op, int type,
			uint32_t mode, const char *path)
{
	int dir, node, err, ino;
	char *name;

	err = mwalk(m, path, 0, &dir, &name, &node);
	if (err)
		return -err;
	if (node >= 0) {
		free(name);
		return -EEXIST;
	}
	ino = new_node(m, type, mode);
	dir_add(&m->n[dir], name, ino);
	free(name);
	if (type == T_DIR) {
		m->n[ino].parent = dir;
		m->n[dir].nlink++;
	}
	if (type == T_LNK) {
		m->n[ino].target = xstrdup(op->path);
		m->n[ino].size = strlen(op->path);
	}
	if (type == HAMMER2_OBJTYPE_CDEV || type == HAMMER2_OBJTYPE_BDEV) {
		m->n[ino].rmaj = (uint32_t)op->a[2];
		m->n[ino].rmin = (uint32_t)op->a[3];
	}
	return 0;
}

static int64_t m_remove(struct model *m, const struct top *op, int isdir)
{
	int dir, node, err, idx;
	char *name;

	err = mwalk(m, op->path, 0, &dir, &name, &node);
	if (err)
		return -err;
	if (dir < 0) {
		free(name);
		return isdir ? -EBUSY : -EISDIR;
	}
	idx = dir_find(&m->n[dir], name);
	free(name);
	if (node < 0)
		return -ENOENT;
	if (!isdir && m->n[node].type == T_DIR)
		return -EISDIR;
	if (isdir && m->n[node].type != T_DIR)
		return -ENOTDIR;
	if (isdir && m->n[node].nents)
		return -ENOTEMPTY;
	unlink_entry(m, dir, idx);
	return 0;
}

static int64_t m_link(struct model *m, const struct top *op)
{
	int odir, onode, ndir, nnode, err;
	char *oname, *nname;

	err = mwalk(m, op->path, 0, &odir, &oname, &onode);
	free(oname);
	if (err)
		return -err;
	err = mwalk(m, op->path2, 0, &ndir, &nname, &nnode);
	if (err)
		return -err;
	if (onode < 0) {
		free(nname);
		return -ENOENT;
	}
	if (nnode >= 0) {
		free(nname);
		return -EEXIST;
	}
	if (m->n[onode].type == T_DIR) {
		free(nname);
		return -EPERM;
	}
	dir_add(&m->n[ndir], nname, onode);
	free(nname);
	m->n[onode].nlink++;
	return 0;
}

static void move_entry(struct model *m, int fdir, const char *fname, int tdir,
		       const char *tname)
{
	int idx = dir_find(&m->n[fdir], fname), ino = m->n[fdir].ents[idx].ino;

	dir_del(&m->n[fdir], idx);
	dir_add(&m->n[tdir], tname, ino);
	if (m->n[ino].type == T_DIR && fdir != tdir) {
		m->n[fdir].nlink--;
		m->n[tdir].nlink++;
		m->n[ino].parent = tdir;
	}
}

static int64_t m_rename(struct model *m, const struct top *op)
{
	int fdir, fnode, tdir, tnode, err, flags = (int)op->a[0];
	char *fname = NULL, *tname = NULL;
	int64_t r = 0;

	if (flags == (RF_NOREPLACE | RF_EXCHANGE))
		return -EINVAL;
	err = mwalk(m, op->path, 0, &fdir, &fname, &fnode);
	if (err)
		return -err;
	err = mwalk(m, op->path2, 0, &tdir, &tname, &tnode);
	if (err) {
		r = -err;
		goto out;
	}
	if (fdir < 0 || tdir < 0) {
		r = -EBUSY;
		goto out;
	}
	if (fnode < 0) {
		r = -ENOENT;
		goto out;
	}
	if ((flags & RF_NOREPLACE) && tnode >= 0) {
		r = -EEXIST;
		goto out;
	}
	if ((flags & RF_EXCHANGE) && tnode < 0) {
		r = -ENOENT;
		goto out;
	}
	/* lock_rename's trap: a directory moving below itself */
	if (m->n[fnode].type == T_DIR && is_ancestor(m, fnode, tdir)) {
		r = -EINVAL;
		goto out;
	}
	if (tnode >= 0 && m->n[tnode].type == T_DIR &&
	    is_ancestor(m, tnode, fdir)) {
		r = (flags & RF_EXCHANGE) ? -EINVAL : -ENOTEMPTY;
		goto out;
	}
	if (tnode == fnode)
		goto out;
	if (flags & RF_EXCHANGE) {
		int fi = dir_find(&m->n[fdir], fname);
		int ti = dir_find(&m->n[tdir], tname);

		m->n[fdir].ents[fi].ino = tnode;
		m->n[tdir].ents[ti].ino = fnode;
		if (fdir != tdir) {
			if (m->n[fnode].type == T_DIR) {
				m->n[fnode].parent = tdir;
				m->n[fdir].nlink--;
				m->n[tdir].nlink++;
			}
			if (m->n[tnode].type == T_DIR) {
				m->n[tnode].parent = fdir;
				m->n[tdir].nlink--;
				m->n[fdir].nlink++;
			}
		}
		goto out;
	}
	if (tnode >= 0) {
		int fd = m->n[fnode].type == T_DIR,
		    td = m->n[tnode].type == T_DIR;

		if (fd && !td) {
			r = -ENOTDIR;
			goto out;
		}
		if (!fd && td) {
			r = -EISDIR;
			goto out;
		}
		if (td && m->n[tnode].nents) {
			r = -ENOTEMPTY;
			goto out;
		}
		unlink_entry(m, tdir, dir_find(&m->n[tdir], tname));
	}
	move_entry(m, fdir, fname, tdir, tname);
out:
	free(fname);
	free(tname);
	return r;
}

/* Resolve a path (following) to an existing node: ino or -errno. */
static int m_resolve(struct model *m, const char *path, int flags)
{
	int dir, node, err;
	char *name;

	err = mwalk(m, path, flags, &dir, &name, &node);
	free(name);
	if (err)
		return -err;
	return node < 0 ? -ENOENT : node;
}

static int64_t do_write(struct model *m, struct mfd *f, uint64_t off,
			uint64_t len, int advance)
{
	struct mnode *n = &m->n[f->ino];

	if ((f->flags & OF_ACCMODE) == OF_RDONLY)
		return -EBADF;
	if (f->flags & OF_APPEND)
		off = n->size;
	if (len) {
		ext_put(n, off, len, f->key, 0);
		if (off + len > n->size)
			n->size = off + len;
	}
	if (advance)
		f->off = off + len;
	return (int64_t)len;
}

static int64_t do_read(struct model *m, struct mfd *f, uint64_t off,
		       uint64_t len, struct outcome *o)
{
	struct mnode *n = &m->n[f->ino];
	uint64_t cnt;

	if ((f->flags & OF_ACCMODE) == OF_WRONLY)
		return -EBADF;
	if (n->type == T_DIR)
		return -EISDIR;
	cnt = off >= n->size ? 0 : n->size - off;
	if (cnt > len)
		cnt = len;
	o->data = xmalloc(cnt);
	ext_read(m, n, o->data, off, (size_t)cnt);
	return (int64_t)cnt;
}

static int64_t set_owner(struct mnode *n, int64_t uid, int64_t gid)
{
	if (uid != -1)
		n->uid = (uint32_t)uid;
	if (gid != -1)
		n->gid = (uint32_t)gid;
	return 0;
}

void model_apply(struct model *m, const struct top *op, struct outcome *o)
{
	struct mfd *f = NULL;
	int ino;
	int64_t r = 0;

	memset(o, 0, sizeof(*o));
	if (op_uses_fd(op->kind)) {
		f = getfd(m, op->a[0]);
		if (f == NULL) {
			o->res = -EBADF;
			return;
		}
	}
	switch (op->kind) {
	case OP_OPEN:
		r = m_open(m, op);
		break;
	case OP_CLOSE:
		ino = f->ino;
		f->used = 0;
		m->n[ino].opens--;
		node_maybe_free(m, ino);
		break;
	case OP_MKDIR:
		r = m_create(m, op, T_DIR, (uint32_t)op->a[0], op->path);
		break;
	case OP_MKNOD:
		r = m_create(m, op, (int)op->a[0], (uint32_t)op->a[1],
			     op->path);
		break;
	case OP_SYMLINK:
		if (op->path[0] == 0)
			r = -ENOENT;
		else
			r = m_create(m, op, T_LNK, 0777, op->path2);
		break;
	case OP_LINK:
		r = m_link(m, op);
		break;
	case OP_UNLINK:
		r = m_remove(m, op, 0);
		break;
	case OP_RMDIR:
		r = m_remove(m, op, 1);
		break;
	case OP_RENAME:
		r = m_rename(m, op);
		break;
	case OP_WRITE:
		r = do_write(m, f, f->off, (uint64_t)op->a[1], 1);
		break;
	case OP_PWRITE:
		r = op->a[1] < 0 ? -EINVAL :
				   do_write(m, f, (uint64_t)op->a[1],
					    (uint64_t)op->a[2], 0);
		break;
	case OP_READ:
		r = do_read(m, f, f->off, (uint64_t)op->a[1], o);
		if (r > 0)
			f->off += (uint64_t)r;
		break;
	case OP_PREAD:
		r = op->a[1] < 0 ? -EINVAL :
				   do_read(m, f, (uint64_t)op->a[1],
					   (uint64_t)op->a[2], o);
		break;
	case OP_LSEEK:
		r = lseek_target(op, f->off, m->n[f->ino].size);
		if (r >= 0)
			f->off = (uint64_t)r;
		break;
	case OP_TRUNCATE:
		if ((ino = m_resolve(m, op->path, WALK_FOLLOW)) < 0)
			r = ino;
		else if (op->a[0] < 0)
			r = -EINVAL;
		else if (m->n[ino].type == T_DIR)
			r = -EISDIR;
		else if (m->n[ino].type != T_REG)
			r = -EINVAL;
		else
			set_size(&m->n[ino], (uint64_t)op->a[0]);
		break;
	case OP_FTRUNCATE:
		r = ftruncate_check(op, f->flags, m->n[f->ino].type);
		if (r == 0)
			set_size(&m->n[f->ino], (uint64_t)op->a[1]);
		break;
	case OP_FALLOCATE:
		r = fallocate_check(op, f->flags, m->n[f->ino].type);
		if (r == 0 &&
		    (uint64_t)(op->a[2] + op->a[3]) > m->n[f->ino].size)
			m->n[f->ino].size = (uint64_t)(op->a[2] + op->a[3]);
		break;
	case OP_CHMOD:
		if ((ino = m_resolve(m, op->path, WALK_FOLLOW)) < 0)
			r = ino;
		else
			m->n[ino].mode = (uint32_t)op->a[0] & 07777;
		break;
	case OP_FCHMOD:
		m->n[f->ino].mode = (uint32_t)op->a[1] & 07777;
		break;
	case OP_CHOWN:
		if ((ino = m_resolve(m, op->path, WALK_FOLLOW)) < 0)
			r = ino;
		else
			r = set_owner(&m->n[ino], op->a[0], op->a[1]);
		break;
	case OP_FCHOWN:
		r = set_owner(&m->n[f->ino], op->a[1], op->a[2]);
		break;
	case OP_UTIMES:
		if ((ino = m_resolve(m, op->path, WALK_FOLLOW)) < 0)
			r = ino;
		break;
	case OP_STAT:
	case OP_LSTAT:
		ino = m_resolve(m, op->path,
				op->kind == OP_STAT ? WALK_FOLLOW : 0);
		if (ino < 0)
			r = ino;
		else
			fill_attrs(&m->n[ino], &o->st);
		break;
	case OP_FSTAT:
		fill_attrs(&m->n[f->ino], &o->st);
		break;
	case OP_READDIR:
		ino = m_resolve(m, op->path, WALK_FOLLOW);
		if (ino < 0) {
			r = ino;
		} else if (m->n[ino].type != T_DIR) {
			r = -ENOTDIR;
		} else {
			struct mnode *d = &m->n[ino];

			o->nents = d->nents;
			o->ents = xcalloc(d->nents, sizeof(*o->ents));
			for (size_t i = 0; i < d->nents; i++) {
				o->ents[i].name = xstrdup(d->ents[i].name);
				o->ents[i].type = m->n[d->ents[i].ino].type;
			}
			qsort(o->ents, o->nents, sizeof(*o->ents), dent_cmp);
			r = (int64_t)d->nents;
		}
		break;
	case OP_READLINK:
		ino = m_resolve(m, op->path, 0);
		if (ino < 0) {
			r = ino;
		} else if (m->n[ino].type != T_LNK) {
			r = -EINVAL;
		} else {
			o->link = xstrdup(m->n[ino].target);
			r = (int64_t)strlen(o->link);
		}
		break;
	case OP_FSYNC:
	case OP_FDATASYNC:
	case OP_SYNC:
	case OP_CHECK:
		break;
	case OP_CRASH:
	case OP_REMOUNT:
		model_close_all(m);
		break;
	default:
		r = -EINVAL;
		break;
	}
	o->res = r;
}

/* ---------------- flattened trees ---------------- */

void flat_free(struct flat *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->r[i].path);
		free(f->r[i].target);
	}
	free(f->r);
	memset(f, 0, sizeof(*f));
}

void flat_add(struct flat *f, const struct frec *r)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->r = xrealloc(f->r, f->cap * sizeof(*f->r));
	}
	f->r[f->n] = *r;
	f->r[f->n].path = xstrdup(r->path);
	f->r[f->n].target = r->target ? xstrdup(r->target) : NULL;
	f->n++;
}

static int frec_cmp(const void *a, const void *b)
{
	return strcmp(((const struct frec *)a)->path,
		      ((const struct frec *)b)->path);
}

void flat_sort(struct flat *f)
{
	qsort(f->r, f->n, sizeof(*f->r), frec_cmp);
}

static void model_digest(const struct model *m, const struct mnode *n,
			 uint8_t out[32])
{
	struct cdigest *d = cdigest_new();
	uint8_t *blk = xmalloc(CBLK);
	uint64_t last = UINT64_MAX;

	for (size_t i = 0; i < n->next; i++) {
		uint64_t s = n->ext[i].start, e = s + n->ext[i].len;

		if (s >= n->size)
			break;
		if (e > n->size)
			e = n->size;
		for (uint64_t b = s / CBLK * CBLK; b < e; b += CBLK) {
			size_t len;

			if (last != UINT64_MAX && b <= last)
				continue;
			len = (size_t)(n->size - b < CBLK ? n->size - b : CBLK);
			ext_read(m, n, blk, b, len);
			cdigest_block(d, b, blk, len);
			last = b;
		}
	}
	free(blk);
	cdigest_end(d, n->size, out);
}

static void flatten_dir(const struct model *m, int dir, const char *prefix,
			struct flat *f)
{
	const struct mnode *d = &m->n[dir];

	for (size_t i = 0; i < d->nents; i++) {
		const struct mnode *n = &m->n[d->ents[i].ino];
		struct frec r;
		size_t pl = strlen(prefix) + strlen(d->ents[i].name) + 2;

		memset(&r, 0, sizeof(r));
		r.path = xmalloc(pl);
		snprintf(r.path, pl, "%s/%s", prefix, d->ents[i].name);
		r.type = n->type;
		r.mode = n->mode;
		r.uid = n->uid;
		r.gid = n->gid;
		r.size = n->type == T_DIR ? 0 : n->size;
		r.nlink = n->nlink;
		r.target = n->target;
		if (n->type == T_REG)
			model_digest(m, n, r.digest);
		flat_add(f, &r);
		if (n->type == T_DIR)
			flatten_dir(m, d->ents[i].ino, r.path, f);
		free(r.path);
	}
}

void model_flatten(const struct model *m, struct flat *f)
{
	const struct mnode *rn = &m->n[m->root];
	struct frec r;

	memset(f, 0, sizeof(*f));
	memset(&r, 0, sizeof(r));
	r.path = "/";
	r.type = T_DIR;
	r.mode = rn->mode;
	r.uid = rn->uid;
	r.gid = rn->gid;
	r.nlink = rn->nlink;
	flat_add(f, &r);
	flatten_dir(m, m->root, "", f);
	flat_sort(f);
}

static const char *tname(int t)
{
	switch (t) {
	case T_DIR:
		return "dir";
	case T_REG:
		return "file";
	case T_LNK:
		return "symlink";
	default:
		return "special";
	}
}

int flat_compare(const struct flat *want, const struct flat *got, char *msg,
		 size_t msgsz)
{
	size_t i = 0, j = 0;

	while (i < want->n || j < got->n) {
		const struct frec *a = i < want->n ? &want->r[i] : NULL;
		const struct frec *b = j < got->n ? &got->r[j] : NULL;
		int c = a && b ? strcmp(a->path, b->path) : a ? -1 : 1;

		if (c < 0) {
			snprintf(msg, msgsz, "%s missing", a->path);
			return 1;
		}
		if (c > 0) {
			snprintf(msg, msgsz, "%s unexpected (%s)", b->path,
				 tname(b->type));
			return 1;
		}
		if (a->type != b->type) {
			snprintf(msg, msgsz, "%s: type %s, want %s", a->path,
				 tname(b->type), tname(a->type));
			return 1;
		}
		if (a->mode != b->mode || a->uid != b->uid ||
		    a->gid != b->gid) {
			snprintf(msg, msgsz,
				 "%s: mode/uid/gid %o/%u/%u, want %o/%u/%u",
				 a->path, b->mode, b->uid, b->gid, a->mode,
				 a->uid, a->gid);
			return 1;
		}
		if (a->size != b->size) {
			snprintf(msg, msgsz, "%s: size %llu, want %llu",
				 a->path, (unsigned long long)b->size,
				 (unsigned long long)a->size);
			return 1;
		}
		if (a->nlink != b->nlink) {
			snprintf(msg, msgsz, "%s: nlink %llu, want %llu",
				 a->path, (unsigned long long)b->nlink,
				 (unsigned long long)a->nlink);
			return 1;
		}
		if ((a->target || b->target) &&
		    (!a->target || !b->target ||
		     strcmp(a->target, b->target) != 0)) {
			snprintf(msg, msgsz, "%s: symlink target differs",
				 a->path);
			return 1;
		}
		if (memcmp(a->digest, b->digest, 32) != 0) {
			snprintf(msg, msgsz, "%s: file contents differ",
				 a->path);
			return 1;
		}
		i++;
		j++;
	}
	return 0;
}
