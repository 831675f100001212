/*
 * cmd_dump.c - dump [PATH]: the logical tree below PATH (default the PFS
 * root), one line per object, sorted by path (byte order), so that two
 * trees - e.g. what the kernel module and the simulator made of the same
 * trace - compare with diff:
 *
 *	PATH TYPE MODE UID GID NLINK SIZE DATA LINK
 *
 * PATH is relative to the dumped directory ("/" is the directory itself,
 * "/a/b" below it).  TYPE is dir, file, softlink, fifo, cdev, bdev or
 * socket; MODE the permission bits in octal (0755); SIZE in bytes (as
 * HAMMER2 records it, also for directories).  DATA is the sha256 of a
 * regular file's contents in hex (what sha256sum prints), "->TARGET" for a
 * symlink, "MAJOR,MINOR" for a device node, "-" otherwise.  LINK is "-",
 * or for the second and later names (in path order) of an inode with
 * several names "=FIRST", FIRST being its first name - so hard links
 * compare without inode numbers.  Times, transaction ids, inode numbers,
 * compression and check codes are left out.  In PATH, TARGET and FIRST
 * every byte that is not printable ASCII, a space or '%' is written %XX
 * (upper-case hex).
 *
 * Exit status: 0, 1 if anything could not be read (the rest is still
 * dumped, the failed part named on stderr), 2 on wrong usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2_cli.h"

#define DUMP_IOSIZE 65536

/* One object (one name of it). */
struct dump_rec {
	char *path;   /* "/" or "/a/b", raw bytes */
	char *target; /* symlinks: the target, raw bytes */
	struct hammer2_vattr va;
	uint8_t digest[32]; /* regular files: sha256 of the contents */
	int data_ok;	    /* digest/target could be read */
	size_t first;	    /* record of the inode's first name (itself) */
};

/* The walk: every record so far, a read buffer and the exit status. */
struct dump {
	struct h2cli *c;
	struct dump_rec *v;
	size_t n, cap;
	uint8_t *buf; /* DUMP_IOSIZE bytes */
	int status;
};

/* Out of memory: nothing sensible to print; say so and exit 1. */
static void dump_nomem(void)
{
	h2_warn("out of memory");
	exit(H2_EXIT_FAIL);
}

/* sha256 of file ip's size bytes into digest; 0 or an errno (reported). */
static int dump_digest(struct dump *d, hammer2_inode_t *ip, uint64_t size,
		       const char *path, uint8_t digest[32])
{
	SHA2_CTX ctx;
	uint64_t off = 0;

	SHA256Init(&ctx);
	while (off < size) {
		size_t want = size - off < DUMP_IOSIZE ? (size_t)(size - off) :
							 DUMP_IOSIZE;
		ssize_t n = hammer2_vop_read(ip, d->buf, want, off);

		if (n <= 0) {
			int err = n < 0 ? (int)-n : EIO;

			h2_warn("%s: read error at offset %ju: %s", path,
				(uintmax_t)off, strerror(err));
			if (err == EIO &&
			    h2_diag_inode(d->c, ip, off, off + want - 1) == 0)
				h2_diag_inode(d->c, ip, 0, HAMMER2_KEY_MAX);
			return err;
		}
		SHA256Update(&ctx, d->buf, (size_t)n);
		off += (uint64_t)n;
	}
	SHA256Final(digest, &ctx);
	return 0;
}

static void dump_dir(struct dump *d, hammer2_inode_t *dip, const char *path);

/* Record ip (named path; the dump takes path over) and what is below it. */
static void dump_obj(struct dump *d, hammer2_inode_t *ip, char *path)
{
	struct dump_rec *r;
	int rc;

	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 256;
		struct dump_rec *nv = realloc(d->v, ncap * sizeof(*nv));

		if (!nv)
			dump_nomem();
		d->v = nv;
		d->cap = ncap;
	}
	r = &d->v[d->n];
	memset(r, 0, sizeof(*r));
	rc = hammer2_vop_getattr(ip, &r->va);
	if (rc) {
		h2_warn("%s: %s", path, strerror(rc));
		free(path);
		d->status = H2_EXIT_FAIL;
		return;
	}
	r->path = path;
	r->first = d->n++;
	if (r->va.type == HAMMER2_OBJTYPE_REGFILE) {
		r->data_ok = dump_digest(d, ip, r->va.size, path, r->digest) ==
			     0;
	} else if (r->va.type == HAMMER2_OBJTYPE_SOFTLINK) {
		char target[4097];
		ssize_t n =
			hammer2_vop_readlink(ip, target, sizeof(target) - 1);

		if (n >= 0) {
			target[n] = 0;
			r->target = strdup(target);
			if (!r->target)
				dump_nomem();
			r->data_ok = 1;
		} else {
			h2_warn("%s: readlink: %s", path, strerror((int)-n));
		}
	} else {
		r->data_ok = 1;
	}
	if (!r->data_ok)
		d->status = H2_EXIT_FAIL;
	/* r may move when the array grows: path stays valid */
	if (r->va.type == HAMMER2_OBJTYPE_DIRECTORY)
		dump_dir(d, ip, path);
}

/* Record every entry of directory dip (named path) and below. */
static void dump_dir(struct dump *d, hammer2_inode_t *dip, const char *path)
{
	struct h2_dlist l;
	size_t k;
	int rc;

	/* on a damaged directory, still dump the entries read before */
	rc = h2_readdir_all(dip, &l, H2_RD_KEEP);
	if (rc) {
		h2_warn("%s: readdir: %s", path, strerror(rc));
		if (rc == EIO)
			h2_diag_inode(d->c, dip, 0, HAMMER2_KEY_MAX);
		d->status = H2_EXIT_FAIL;
	}
	for (k = 0; k < l.n; k++) {
		hammer2_inode_t *ip;
		char *sub = h2_join(path, l.v[k].name);

		if (!sub)
			dump_nomem();
		rc = hammer2_vop_lookup(dip, l.v[k].name, l.v[k].len, &ip);
		if (rc) {
			h2_warn("%s: %s", sub, strerror(rc));
			if (rc == EIO)
				h2_diag_inode(d->c, dip, 0, HAMMER2_KEY_MAX);
			d->status = H2_EXIT_FAIL;
			free(sub);
			continue;
		}
		dump_obj(d, ip, sub);
		hammer2_inode_drop(ip);
	}
	h2_dlist_free(&l);
}

/* Order of records by path (byte order). */
static int dump_path_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dump_rec *)a)->path,
		      ((const struct dump_rec *)b)->path);
}

/* Order of indexes into the records arg by inode number, then index. */
static int dump_inum_cmp(const void *a, const void *b, void *arg)
{
	const struct dump_rec *v = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	uint64_t ix = v[x].va.inum, iy = v[y].va.inum;

	if (ix != iy)
		return ix < iy ? -1 : 1;
	return x < y ? -1 : x > y;
}

/*
 * Sort the records by path and point every name of a non-directory at
 * the first name (in path order) of the same inode.
 */
static void dump_group_links(struct dump *d)
{
	size_t *ix, n = 0, i;

	qsort(d->v, d->n, sizeof(*d->v), dump_path_cmp);
	ix = malloc((d->n ? d->n : 1) * sizeof(*ix));
	if (!ix)
		dump_nomem();
	for (i = 0; i < d->n; i++) {
		d->v[i].first = i;
		if (d->v[i].va.type != HAMMER2_OBJTYPE_DIRECTORY)
			ix[n++] = i;
	}
	qsort_r(ix, n, sizeof(*ix), dump_inum_cmp, d->v);
	for (i = 1; i < n; i++)
		if (d->v[ix[i]].va.inum == d->v[ix[i - 1]].va.inum)
			d->v[ix[i]].first = d->v[ix[i - 1]].first;
	free(ix);
}

/* Print s with every byte outside '!'..'~', and '%', as %XX. */
static void dump_str(const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch <= ' ' || ch >= 0x7f || ch == '%')
			printf("%%%02X", ch);
		else
			putchar(ch);
	}
}

/* Print one record's line. */
static void dump_line(const struct dump *d, const struct dump_rec *r)
{
	const struct hammer2_vattr *va = &r->va;

	dump_str(r->path);
	printf(" %s %04o %u %u %ju %ju ", h2_objtype_str(va->type),
	       va->mode & 07777, va->uid, va->gid, (uintmax_t)va->nlinks,
	       (uintmax_t)va->size);
	if (!r->data_ok) {
		printf("?");
	} else if (va->type == HAMMER2_OBJTYPE_REGFILE) {
		for (int i = 0; i < 32; i++)
			printf("%02x", r->digest[i]);
	} else if (va->type == HAMMER2_OBJTYPE_SOFTLINK) {
		printf("->");
		dump_str(r->target);
	} else if (va->type == HAMMER2_OBJTYPE_CDEV ||
		   va->type == HAMMER2_OBJTYPE_BDEV) {
		printf("%u,%u", va->rmajor, va->rminor);
	} else {
		printf("-");
	}
	if (r->first != (size_t)(r - d->v)) {
		printf(" =");
		dump_str(d->v[r->first].path);
		printf("\n");
	} else {
		printf(" -\n");
	}
}

/*
 * dump [PATH]: the logical tree below PATH (default "/"), one line per
 * object on stdout (format at the top of this file).  Returns H2_EXIT_OK,
 * or H2_EXIT_FAIL when the image, PATH or any object could not be read
 * (named on stderr; the rest is still dumped); exits H2_EXIT_USAGE on
 * wrong usage.
 */
int cmd_dump(struct h2cli *c, int ac, char **av)
{
	struct dump d;
	hammer2_inode_t *ip;
	char *root;
	size_t i;
	int i0 = 1;

	if (i0 < ac && strcmp(av[i0], "--") == 0)
		i0++;
	else if (i0 < ac && av[i0][0] == '-' && av[i0][1])
		h2_usage(av[0]);
	if (ac - i0 > 1)
		h2_usage(av[0]);
	memset(&d, 0, sizeof(d));
	d.c = c;
	d.buf = malloc(DUMP_IOSIZE);
	root = strdup("/");
	if (!d.buf || !root)
		dump_nomem();
	if (h2cli_open(c, 1, 1) || h2cli_mount(c) ||
	    h2_lookup_path(c, i0 < ac ? av[i0] : "/", &ip, 0)) {
		free(d.buf);
		free(root);
		h2cli_close(c);
		return H2_EXIT_FAIL;
	}
	dump_obj(&d, ip, root);
	hammer2_inode_drop(ip);
	dump_group_links(&d);
	for (i = 0; i < d.n; i++)
		dump_line(&d, &d.v[i]);
	if (fflush(stdout) != 0) {
		h2_warn("stdout: %s", strerror(errno));
		d.status = H2_EXIT_FAIL;
	}
	for (i = 0; i < d.n; i++) {
		free(d.v[i].path);
		free(d.v[i].target);
	}
	free(d.v);
	free(d.buf);
	if (h2cli_close(c))
		d.status = H2_EXIT_FAIL;
	return d.status;
}
