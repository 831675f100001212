/*
 * cmd_import.c - copy trees between the host and a PFS.
 *
 *	import HOSTDIR PATH   the contents of HOSTDIR become the contents of
 *	                      directory PATH (created if missing)
 *	export PATH HOSTDIR   the contents of PATH become the contents of
 *	                      HOSTDIR (created if missing)
 *
 * Kept: file data (holes stay holes: all-zero 64 KiB chunks are not
 * written), modes including set-id bits, uid/gid, atime/mtime (microsecond
 * resolution, HAMMER2's), symlink targets, fifos, device numbers; export
 * sets owners and creates device nodes only when run as root.
 *
 * Hard links are kept both ways: a host file with several names becomes one
 * inode with several names (hammer2_vop_link), and an inode with several
 * names is exported as one host file with several names (linkat).
 *
 * Limitation: sockets are imported as socket inodes but not exported.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "hammer2_cli.h"

#define XFER_CHUNK 65536

/* A file with several names, seen under its first one. */
struct xfer_link {
	uint64_t k1, k2;     /* host st_dev/st_ino (import), 0/inum (export) */
	hammer2_inode_t *ip; /* import: the image inode (referenced) */
	char *path;	     /* export: host path of the first name */
};

/* Counters and progress shared by import and export. */
struct xfer {
	struct h2cli *c;
	const char *verb;	 /* "import" / "export" */
	uint64_t files;		 /* objects created */
	uint64_t bytes;		 /* file bytes copied (logical) */
	uint64_t errors;	 /* non-fatal errors (reported) */
	uint64_t hardlinks;	 /* extra names made as hard links */
	struct xfer_link *links; /* files with several names seen so far */
	size_t nlinks, maxlinks;
	uint64_t skipped; /* objects not exported */
	int fatal;	  /* stop the walk (ENOSPC, EROFS, ...) */
	int tty;	  /* progress line on stderr */
	int root;	  /* running as root (export) */
	double last;	  /* time of the last progress update */
	uint8_t *buf;	  /* XFER_CHUNK bytes */
};

/* Monotonic seconds. */
static double xfer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The link table entry for key (k1, k2), or NULL. */
static struct xfer_link *xfer_link_find(struct xfer *x, uint64_t k1,
					uint64_t k2)
{
	size_t i;

	for (i = 0; i < x->nlinks; i++)
		if (x->links[i].k1 == k1 && x->links[i].k2 == k2)
			return &x->links[i];
	return NULL;
}

/*
 * Remember the first name of a file with several names: ip (a reference
 * is taken) for import, a copy of path for export.  Out of memory only
 * means later names become copies.
 */
static void xfer_link_add(struct xfer *x, uint64_t k1, uint64_t k2,
			  hammer2_inode_t *ip, const char *path)
{
	struct xfer_link *l;

	if (x->nlinks == x->maxlinks) {
		size_t ncap = x->maxlinks ? x->maxlinks * 2 : 64;

		l = realloc(x->links, ncap * sizeof(*l));
		if (!l)
			return;
		x->links = l;
		x->maxlinks = ncap;
	}
	l = &x->links[x->nlinks];
	l->path = path ? strdup(path) : NULL;
	if (path && !l->path)
		return;
	l->k1 = k1;
	l->k2 = k2;
	l->ip = ip;
	if (ip)
		hammer2_inode_ref(ip);
	x->nlinks++;
}

/* Release the link table (before the image is closed). */
static void xfer_links_free(struct xfer *x)
{
	size_t i;

	for (i = 0; i < x->nlinks; i++) {
		if (x->links[i].ip)
			hammer2_inode_drop(x->links[i].ip);
		free(x->links[i].path);
	}
	free(x->links);
	x->links = NULL;
	x->nlinks = x->maxlinks = 0;
}

/* Update the \r progress line at most 10 times a second (or when final). */
static void xfer_progress(struct xfer *x, int final)
{
	double now;

	if (!x->tty)
		return;
	now = xfer_now();
	if (!final && now - x->last < 0.1)
		return;
	x->last = now;
	fprintf(stderr, "\r%s: %ju files, %.1f MiB", x->verb,
		(uintmax_t)x->files, (double)x->bytes / (1024.0 * 1024.0));
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
}

/* Report a problem (clearing the progress line first). */
static void xfer_warn(struct xfer *x, const char *path, const char *what,
		      int err)
{
	if (x->tty)
		fputc('\n', stderr);
	if (err)
		h2_warn("%s: %s%s%s", path, what ? what : "", what ? ": " : "",
			strerror(err));
	else
		h2_warn("%s: %s", path, what);
}

/* Errors that make continuing pointless. */
static int xfer_is_fatal(int err)
{
	return err == ENOSPC || err == EROFS || err == ENOMEM;
}

/* Report an error of the image (err) and stop the walk if it is fatal. */
static void xfer_image_err(struct xfer *x, const char *path, const char *what,
			   int err)
{
	xfer_warn(x, path, what, err);
	if (xfer_is_fatal(err))
		x->fatal = 1;
}

/*
 * Start an import or export: set up x, open the image (read-only if
 * rdonly) and mount the PFS.  Returns 0, or -1 with everything released.
 */
static int xfer_start(struct xfer *x, struct h2cli *c, const char *verb,
		      int rdonly)
{
	memset(x, 0, sizeof(*x));
	x->c = c;
	x->verb = verb;
	x->tty = isatty(2);
	x->buf = malloc(XFER_CHUNK);
	if (!x->buf) {
		h2_warn("out of memory");
		return -1;
	}
	if (h2cli_open(c, rdonly, 1) || h2cli_mount(c)) {
		free(x->buf);
		h2cli_close(c);
		return -1;
	}
	return 0;
}

/*
 * Give up an import or export after xfer_start (and ip, if not NULL):
 * returns H2_EXIT_FAIL.
 */
static int xfer_abort(struct xfer *x, hammer2_inode_t *ip)
{
	if (ip)
		hammer2_inode_drop(ip);
	xfer_links_free(x);
	free(x->buf);
	h2cli_close(x->c);
	return H2_EXIT_FAIL;
}

/*
 * Finish an import or export: drop ip, close the image and report the
 * totals.  Returns status, or H2_EXIT_FAIL if anything failed.
 */
static int xfer_end(struct xfer *x, hammer2_inode_t *ip, int status)
{
	hammer2_inode_drop(ip);
	xfer_links_free(x);
	xfer_progress(x, 1);
	if (h2cli_close(x->c))
		status = H2_EXIT_FAIL;
	if (x->fatal)
		status = H2_EXIT_FAIL;
	if (x->skipped)
		fprintf(stderr, "%s: note: %ju object(s) not exported\n",
			h2_progname, (uintmax_t)x->skipped);
	if (x->errors)
		h2_warn("%s: %ju error(s)", x->verb, (uintmax_t)x->errors);
	free(x->buf);
	return status;
}

/*
 * Attributes of ip, which must be a directory, into *va.  Returns 0, or an
 * errno after printing "path: error" and dropping ip.
 */
static int xfer_getdir(hammer2_inode_t *ip, const char *path,
		       struct hammer2_vattr *va)
{
	int rc = hammer2_vop_getattr(ip, va);

	if (rc == 0 && va->type != HAMMER2_OBJTYPE_DIRECTORY)
		rc = ENOTDIR;
	if (rc) {
		h2_warn("%s: %s", path, strerror(rc));
		hammer2_inode_drop(ip);
	}
	return rc;
}

/* Microseconds of a timespec (0 is replaced by 1 so it is "set"). */
static uint64_t ts_to_us(const struct timespec *ts)
{
	int64_t us = (int64_t)ts->tv_sec * 1000000 + ts->tv_nsec / 1000;

	if (us <= 0)
		return 1;
	return (uint64_t)us;
}

/* ------------------------------------------------------------------ */
/* Import                                                              */
/* ------------------------------------------------------------------ */

/* hammer2 object type of a host st_mode, or -1. */
static int imp_objtype(mode_t m)
{
	static const struct {
		mode_t fmt;
		int type;
	} t[] = {
		{ S_IFDIR, HAMMER2_OBJTYPE_DIRECTORY },
		{ S_IFREG, HAMMER2_OBJTYPE_REGFILE },
		{ S_IFLNK, HAMMER2_OBJTYPE_SOFTLINK },
		{ S_IFIFO, HAMMER2_OBJTYPE_FIFO },
		{ S_IFCHR, HAMMER2_OBJTYPE_CDEV },
		{ S_IFBLK, HAMMER2_OBJTYPE_BDEV },
		{ S_IFSOCK, HAMMER2_OBJTYPE_SOCKET },
	};
	size_t i;

	for (i = 0; i < H2_ARRAY_SIZE(t); i++) {
		if ((m & S_IFMT) == t[i].fmt)
			return t[i].type;
	}
	return -1;
}

/* vattr from a host stat. */
static void imp_vattr(const struct stat *st, struct hammer2_vattr *va)
{
	memset(va, 0, sizeof(*va));
	va->type = (uint8_t)imp_objtype(st->st_mode);
	va->mode = st->st_mode & 07777;
	va->uid = st->st_uid;
	va->gid = st->st_gid;
	va->atime_us = ts_to_us(&st->st_atim);
	va->mtime_us = ts_to_us(&st->st_mtim);
	va->ctime_us = ts_to_us(&st->st_ctim);
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		va->rmajor = major(st->st_rdev);
		va->rminor = minor(st->st_rdev);
	}
}

/* Set atime/mtime (and mode, which create may have masked) of ip. */
static int imp_settimes(hammer2_inode_t *ip, const struct hammer2_vattr *va)
{
	return hammer2_vop_setattr(
		ip, va, HAMMER2_VA_ATIME | HAMMER2_VA_MTIME | HAMMER2_VA_MODE);
}

/* Copy a host regular file's data into ip. */
static int imp_filedata(struct xfer *x, int fd, hammer2_inode_t *ip,
			const struct stat *st, const char *hpath)
{
	uint64_t size = (uint64_t)st->st_size;
	uint64_t off = 0, written_end = 0;
	int rc;

	while (off < size) {
		off_t data = lseek(fd, (off_t)off, SEEK_DATA);
		off_t hole;

		if (data < 0) {
			if (errno == ENXIO)
				break;	   /* only a hole up to EOF */
			data = (off_t)off; /* SEEK_DATA unsupported */
			hole = (off_t)size;
		} else {
			hole = lseek(fd, data, SEEK_HOLE);
			if (hole < 0)
				hole = (off_t)size;
		}
		off = (uint64_t)data & ~(uint64_t)(XFER_CHUNK - 1);
		while (off < (uint64_t)hole && off < size) {
			ssize_t n = pread(fd, x->buf, XFER_CHUNK, (off_t)off);
			ssize_t w;

			if (n < 0) {
				if (errno == EINTR)
					continue;
				xfer_warn(x, hpath, "read", errno);
				return -1;
			}
			if (n == 0)
				break; /* file shrank */
			if (!hammer2_is_zero(x->buf, (size_t)n)) {
				w = hammer2_vop_write(ip, x->buf, (size_t)n,
						      off);
				if (w != n) {
					rc = w < 0 ? (int)-w : EIO;
					xfer_image_err(x, hpath,
						       "write to image", rc);
					return -1;
				}
				written_end = off + (uint64_t)n;
			}
			off += (uint64_t)n;
			x->bytes += (uint64_t)n;
			xfer_progress(x, 0);
		}
	}
	if (written_end < size) {
		rc = hammer2_vop_truncate(ip, size);
		if (rc) {
			xfer_image_err(x, hpath, "truncate in image", rc);
			return -1;
		}
	}
	return 0;
}

static int imp_dir(struct xfer *x, int dfd, const char *hpath,
		   hammer2_inode_t *dip);

/*
 * Another name for an already imported file: a hard link to ip named name
 * in dip, replacing a non-directory in the way.  0 or -1 (reported).
 */
static int imp_link(struct xfer *x, hammer2_inode_t *ip, hammer2_inode_t *dip,
		    const char *name, size_t nlen, const char *hpath)
{
	int rc = hammer2_vop_link(ip, dip, name, nlen);

	if (rc == EEXIST) {
		rc = hammer2_vop_remove(dip, name, nlen);
		if (rc == 0)
			rc = hammer2_vop_link(ip, dip, name, nlen);
	}
	if (rc) {
		xfer_image_err(x, hpath, "link in image", rc);
		return -1;
	}
	x->files++;
	x->hardlinks++;
	xfer_progress(x, 0);
	return 0;
}

/*
 * Create name in dip from the host object (dfd, name); replaces an
 * existing non-directory, merges into an existing directory.
 */
static int imp_one(struct xfer *x, int dfd, const char *name, const char *hpath,
		   hammer2_inode_t *dip)
{
	struct hammer2_vattr va;
	struct stat st;
	hammer2_inode_t *ip = NULL;
	char *link = NULL;
	size_t linklen = 0, nlen = strlen(name);
	int fd = -1, rc, status = 0;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		xfer_warn(x, hpath, NULL, errno);
		return -1;
	}
	if (imp_objtype(st.st_mode) < 0) {
		xfer_warn(x, hpath, "unsupported file type, skipped", 0);
		return -1;
	}
	if (nlen > 255) {
		xfer_warn(x, hpath, NULL, ENAMETOOLONG);
		return -1;
	}
	imp_vattr(&st, &va);
	if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
		struct xfer_link *l = xfer_link_find(x, (uint64_t)st.st_dev,
						     (uint64_t)st.st_ino);
		if (l)
			return imp_link(x, l->ip, dip, name, nlen, hpath);
	}
	if (S_ISREG(st.st_mode)) {
		fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			xfer_warn(x, hpath, "open", errno);
			return -1;
		}
	} else if (S_ISLNK(st.st_mode)) {
		size_t cap = (size_t)st.st_size + 1;
		ssize_t n;

		if (cap < 256)
			cap = 256;
		link = malloc(cap);
		if (!link) {
			xfer_warn(x, hpath, NULL, ENOMEM);
			return -1;
		}
		n = readlinkat(dfd, name, link, cap);
		if (n < 0 || (size_t)n >= cap) {
			xfer_warn(x, hpath, "readlink",
				  n < 0 ? errno : EOVERFLOW);
			free(link);
			return -1;
		}
		linklen = (size_t)n;
	}

	rc = hammer2_vop_create(dip, name, nlen, &va, link, linklen, &ip);
	if (rc == EEXIST) {
		hammer2_inode_t *old;
		struct hammer2_vattr ova;

		rc = hammer2_vop_lookup(dip, name, nlen, &old);
		if (rc == 0) {
			rc = hammer2_vop_getattr(old, &ova);
			if (rc == 0 && ova.type == HAMMER2_OBJTYPE_DIRECTORY &&
			    S_ISDIR(st.st_mode)) {
				ip = old; /* merge */
				old = NULL;
			} else if (rc == 0) {
				hammer2_inode_drop(old);
				old = NULL;
				rc = ova.type == HAMMER2_OBJTYPE_DIRECTORY ?
					     hammer2_vop_rmdir(dip, name,
							       nlen) :
					     hammer2_vop_remove(dip, name,
								nlen);
				if (rc == 0)
					rc = hammer2_vop_create(dip, name, nlen,
								&va, link,
								linklen, &ip);
			}
			if (old)
				hammer2_inode_drop(old);
		}
	}
	free(link);
	if (rc) {
		xfer_image_err(x, hpath, "create in image", rc);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	x->files++;
	if (S_ISREG(st.st_mode)) {
		if (imp_filedata(x, fd, ip, &st, hpath))
			status = -1;
		close(fd);
		if (status == 0 && st.st_nlink > 1)
			xfer_link_add(x, (uint64_t)st.st_dev,
				      (uint64_t)st.st_ino, ip, NULL);
	} else if (S_ISDIR(st.st_mode)) {
		int cfd =
			openat(dfd, name,
			       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (cfd < 0) {
			xfer_warn(x, hpath, "open directory", errno);
			status = -1;
		} else if (imp_dir(x, cfd, hpath, ip)) {
			status = -1;
		}
	}
	/*
	 * Times again for every type: data writes move mtime, and the core
	 * also moves it when it stores a symlink target at create time.
	 */
	if (!x->fatal) {
		rc = imp_settimes(ip, &va);
		if (rc) {
			xfer_image_err(x, hpath, "set attributes in image", rc);
			status = -1;
		}
	}
	hammer2_inode_drop(ip);
	xfer_progress(x, 0);
	return status;
}

/* Import every entry of the host directory dfd (closed here) into dip. */
static int imp_dir(struct xfer *x, int dfd, const char *hpath,
		   hammer2_inode_t *dip)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	int status = 0;

	if (!d) {
		xfer_warn(x, hpath, "opendir", errno);
		close(dfd);
		return -1;
	}
	while (!x->fatal) {
		char *sub;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno) {
				xfer_warn(x, hpath, "readdir", errno);
				status = -1;
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		sub = h2_join(hpath, de->d_name);
		if (!sub) {
			xfer_warn(x, hpath, NULL, ENOMEM);
			x->fatal = 1;
			break;
		}
		if (imp_one(x, dirfd(d), de->d_name, sub, dip)) {
			x->errors++;
			status = -1;
		}
		free(sub);
	}
	closedir(d);
	return status;
}

/*
 * Resolve PATH, creating missing directories (mkdir -p); *createdp tells
 * whether the last component was created.
 */
static int imp_target(struct xfer *x, const char *path, hammer2_inode_t **ipp,
		      int *createdp)
{
	struct hammer2_vattr va;
	char norm[4096];
	hammer2_inode_t *dip, *ip;
	char *p, *s;
	int rc;

	*createdp = 0;
	rc = h2_normpath(path, norm, sizeof(norm));
	if (rc) {
		h2_warn("%s: %s", path, strerror(rc));
		return rc;
	}
	dip = hammer2_vfs_root(x->c->pmp);
	if (!dip) {
		h2_warn("%s: cannot get the PFS root", path);
		return EIO;
	}
	for (p = norm; *p; p = s) {
		size_t n;

		s = strchr(p, '/');
		n = s ? (size_t)(s - p) : strlen(p);
		s = s ? s + 1 : p + n;
		rc = hammer2_vop_lookup(dip, p, n, &ip);
		*createdp = 0;
		if (rc == ENOENT) {
			memset(&va, 0, sizeof(va));
			va.type = HAMMER2_OBJTYPE_DIRECTORY;
			va.mode = 0755;
			va.uid = getuid();
			va.gid = getgid();
			rc = hammer2_vop_create(dip, p, n, &va, NULL, 0, &ip);
			*createdp = 1;
		}
		hammer2_inode_drop(dip);
		if (rc) {
			h2_warn("%s: %s", path, strerror(rc));
			return rc;
		}
		dip = ip;
	}
	rc = xfer_getdir(dip, path, &va);
	if (rc)
		return rc;
	*ipp = dip;
	return 0;
}

/* import HOSTDIR PATH */
int cmd_import(struct h2cli *c, int ac, char **av)
{
	struct xfer x;
	struct stat st;
	struct hammer2_vattr va;
	hammer2_inode_t *ip;
	int dfd, created, status = 0;

	if (ac != 3 || (av[1][0] == '-' && av[1][1]) ||
	    (av[2][0] == '-' && av[2][1]))
		h2_usage(av[0]);
	dfd = open(av[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		h2_warn("%s: %s", av[1], strerror(errno));
		return H2_EXIT_FAIL;
	}
	if (fstat(dfd, &st) < 0) {
		h2_warn("%s: %s", av[1], strerror(errno));
		close(dfd);
		return H2_EXIT_FAIL;
	}
	if (xfer_start(&x, c, "import", 0)) {
		close(dfd);
		return H2_EXIT_FAIL;
	}
	if (imp_target(&x, av[2], &ip, &created)) {
		close(dfd);
		return xfer_abort(&x, NULL);
	}
	if (imp_dir(&x, dfd, av[1], ip))
		status = H2_EXIT_FAIL;
	if (created && !x.fatal) {
		imp_vattr(&st, &va);
		if (imp_settimes(ip, &va) ||
		    hammer2_vop_setattr(ip, &va,
					HAMMER2_VA_UID | HAMMER2_VA_GID)) {
			h2_warn("%s: cannot set attributes", av[2]);
			status = H2_EXIT_FAIL;
		}
	}
	return xfer_end(&x, ip, status);
}

/* ------------------------------------------------------------------ */
/* Export                                                              */
/* ------------------------------------------------------------------ */

/* timespec of a microsecond timestamp. */
static struct timespec us_to_ts(uint64_t us)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(us / 1000000);
	ts.tv_nsec = (long)(us % 1000000) * 1000;
	return ts;
}

/* Apply owner (root only), mode and times to a host object. */
static int exp_setattrs(struct xfer *x, int dfd, const char *name,
			const char *hpath, const struct hammer2_vattr *va,
			int is_link)
{
	struct timespec ts[2];
	int status = 0;

	if (x->root &&
	    fchownat(dfd, name, va->uid, va->gid, AT_SYMLINK_NOFOLLOW) < 0) {
		xfer_warn(x, hpath, "chown", errno);
		status = -1;
	}
	if (!is_link && fchmodat(dfd, name, va->mode & 07777, 0) < 0) {
		xfer_warn(x, hpath, "chmod", errno);
		status = -1;
	}
	ts[0] = us_to_ts(va->atime_us);
	ts[1] = us_to_ts(va->mtime_us);
	if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0) {
		xfer_warn(x, hpath, "utimensat", errno);
		status = -1;
	}
	return status;
}

/*
 * After a call that made host object name (made: it returned 0): count it
 * and apply its attributes, or report the failure (errno) as what.
 */
static int exp_made(struct xfer *x, int made, const char *what, int dfd,
		    const char *name, const char *hpath,
		    const struct hammer2_vattr *va)
{
	if (!made) {
		xfer_warn(x, hpath, what, errno);
		return -1;
	}
	x->files++;
	return exp_setattrs(x, dfd, name, hpath, va,
			    va->type == HAMMER2_OBJTYPE_SOFTLINK);
}

/* Copy the data of file ip into the new host file fd. */
static int exp_filedata(struct xfer *x, hammer2_inode_t *ip, int fd,
			const struct hammer2_vattr *va, const char *h2path,
			const char *hpath)
{
	uint64_t off = 0;

	for (;;) {
		ssize_t n = hammer2_vop_read(ip, x->buf, XFER_CHUNK, off);

		if (n < 0) {
			xfer_warn(x, h2path, "read from image", (int)-n);
			if (n == -EIO &&
			    h2_diag_inode(x->c, ip, off,
					  off + XFER_CHUNK - 1) == 0)
				h2_diag_inode(x->c, ip, 0, HAMMER2_KEY_MAX);
			return -1;
		}
		if (n == 0)
			break;
		if (!hammer2_is_zero(x->buf, (size_t)n)) {
			size_t done = 0;

			while (done < (size_t)n) {
				ssize_t w = pwrite(fd, x->buf + done,
						   (size_t)n - done,
						   (off_t)(off + done));
				if (w < 0) {
					if (errno == EINTR)
						continue;
					xfer_warn(x, hpath, "write", errno);
					if (errno == ENOSPC)
						x->fatal = 1;
					return -1;
				}
				done += (size_t)w;
			}
		}
		off += (uint64_t)n;
		x->bytes += (uint64_t)n;
		xfer_progress(x, 0);
	}
	if (ftruncate(fd, (off_t)(off > va->size ? off : va->size)) < 0) {
		xfer_warn(x, hpath, "ftruncate", errno);
		return -1;
	}
	return 0;
}

static int exp_dir(struct xfer *x, hammer2_inode_t *dip, int dfd,
		   const char *h2path, const char *hpath);

/* Export one entry name of dip into host directory dfd. */
static int exp_one(struct xfer *x, hammer2_inode_t *dip, const char *name,
		   size_t nlen, int dfd, const char *h2path, const char *hpath)
{
	struct hammer2_vattr va;
	hammer2_inode_t *ip;
	struct stat st;
	int rc, fd, status = 0;

	rc = hammer2_vop_lookup(dip, name, nlen, &ip);
	if (rc == 0) {
		rc = hammer2_vop_getattr(ip, &va);
		if (rc)
			hammer2_inode_drop(ip);
	}
	if (rc) {
		xfer_warn(x, h2path, NULL, rc);
		if (rc == EIO)
			h2_diag_inode(x->c, dip, 0, HAMMER2_KEY_MAX);
		return -1;
	}
	/* replace whatever non-directory is in the way */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !(S_ISDIR(st.st_mode) && va.type == HAMMER2_OBJTYPE_DIRECTORY)) {
		if (unlinkat(dfd, name,
			     S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0) {
			xfer_warn(x, hpath, "remove existing", errno);
			hammer2_inode_drop(ip);
			return -1;
		}
	}
	switch (va.type) {
	case HAMMER2_OBJTYPE_DIRECTORY: {
		int cfd;

		if (mkdirat(dfd, name, 0700) < 0 && errno != EEXIST) {
			xfer_warn(x, hpath, "mkdir", errno);
			status = -1;
			break;
		}
		x->files++;
		cfd = openat(dfd, name,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0) {
			xfer_warn(x, hpath, "open directory", errno);
			status = -1;
			break;
		}
		if (exp_dir(x, ip, cfd, h2path, hpath))
			status = -1;
		close(cfd);
		if (exp_setattrs(x, dfd, name, hpath, &va, 0))
			status = -1;
		break;
	}
	case HAMMER2_OBJTYPE_REGFILE:
		if (va.nlinks > 1) {
			struct xfer_link *l = xfer_link_find(x, 0, va.inum);

			if (l && linkat(AT_FDCWD, l->path, dfd, name, 0) == 0) {
				x->files++;
				x->hardlinks++;
				break;
			}
		}
		fd = openat(dfd, name,
			    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
				    O_CLOEXEC,
			    0600);
		if (fd < 0) {
			xfer_warn(x, hpath, "create", errno);
			status = -1;
			break;
		}
		x->files++;
		if (exp_filedata(x, ip, fd, &va, h2path, hpath))
			status = -1;
		if (close(fd) < 0) {
			xfer_warn(x, hpath, "close", errno);
			status = -1;
		}
		if (exp_setattrs(x, dfd, name, hpath, &va, 0))
			status = -1;
		if (status == 0 && va.nlinks > 1)
			xfer_link_add(x, 0, va.inum, NULL, hpath);
		break;
	case HAMMER2_OBJTYPE_SOFTLINK: {
		char target[4097];
		ssize_t n =
			hammer2_vop_readlink(ip, target, sizeof(target) - 1);

		if (n < 0) {
			xfer_warn(x, h2path, "readlink", (int)-n);
			if (n == -EIO)
				h2_diag_inode(x->c, ip, 0, HAMMER2_KEY_MAX);
			status = -1;
			break;
		}
		target[n] = 0;
		status = exp_made(x, symlinkat(target, dfd, name) == 0,
				  "symlink", dfd, name, hpath, &va);
		break;
	}
	case HAMMER2_OBJTYPE_FIFO:
		status = exp_made(x, mkfifoat(dfd, name, 0600) == 0, "mkfifo",
				  dfd, name, hpath, &va);
		break;
	case HAMMER2_OBJTYPE_CDEV:
	case HAMMER2_OBJTYPE_BDEV: {
		mode_t fmt = va.type == HAMMER2_OBJTYPE_CDEV ? S_IFCHR :
							       S_IFBLK;

		if (!x->root) {
			if (x->tty)
				fputc('\n', stderr);
			h2_warn("%s: device node skipped (not root)", hpath);
			x->skipped++;
			break;
		}
		status = exp_made(x,
				  mknodat(dfd, name, fmt | 0600,
					  makedev(va.rmajor, va.rminor)) == 0,
				  "mknod", dfd, name, hpath, &va);
		break;
	}
	default:
		if (x->tty)
			fputc('\n', stderr);
		h2_warn("%s: %s not exported", h2path, h2_objtype_str(va.type));
		x->skipped++;
		break;
	}
	hammer2_inode_drop(ip);
	xfer_progress(x, 0);
	return status;
}

/* Export the contents of directory dip into host directory dfd. */
static int exp_dir(struct xfer *x, hammer2_inode_t *dip, int dfd,
		   const char *h2path, const char *hpath)
{
	struct h2_dlist l;
	size_t k;
	int rc, status = 0;

	/* on a damaged directory, still export the entries read before */
	rc = h2_readdir_all(dip, &l, H2_RD_KEEP);
	if (rc) {
		xfer_warn(x, h2path, "readdir", rc);
		if (rc == EIO)
			h2_diag_inode(x->c, dip, 0, HAMMER2_KEY_MAX);
		x->errors++;
		status = -1;
	}
	for (k = 0; k < l.n && !x->fatal; k++) {
		char *hsub = h2_join(hpath, l.v[k].name);
		char *isub = h2_join(h2path, l.v[k].name);

		if (!hsub || !isub) {
			free(hsub);
			free(isub);
			xfer_warn(x, hpath, NULL, ENOMEM);
			x->fatal = 1;
			break;
		}
		if (exp_one(x, dip, l.v[k].name, l.v[k].len, dfd, isub, hsub)) {
			x->errors++;
			status = -1;
		}
		free(hsub);
		free(isub);
	}
	h2_dlist_free(&l);
	return status;
}

/* mkdir -p for the host side; *createdp when the last one was made. */
static int exp_mkdirs(const char *path, int *createdp)
{
	char *p = strdup(path), *s;
	int rc = 0;

	*createdp = 0;
	if (!p)
		return ENOMEM;
	for (s = p + 1;; s++) {
		if (*s == '/' || *s == 0) {
			char save = *s;

			*s = 0;
			if (mkdir(p, 0755) == 0) {
				*createdp = 1;
			} else if (errno == EEXIST) {
				*createdp = 0;
			} else {
				rc = errno;
				break;
			}
			*s = save;
			if (save == 0)
				break;
		}
	}
	free(p);
	return rc;
}

/* export PATH HOSTDIR */
int cmd_export(struct h2cli *c, int ac, char **av)
{
	struct hammer2_vattr va;
	struct xfer x;
	hammer2_inode_t *ip;
	const char *h2path, *hdir;
	int dfd, created, rc, status = 0;

	if (ac != 3 || (av[1][0] == '-' && av[1][1]) ||
	    (av[2][0] == '-' && av[2][1]) || av[2][0] == 0)
		h2_usage(av[0]);
	h2path = av[1];
	hdir = av[2];
	if (xfer_start(&x, c, "export", 1))
		return H2_EXIT_FAIL;
	x.root = geteuid() == 0;
	if (h2_lookup_path(c, h2path, &ip, 0) || xfer_getdir(ip, h2path, &va))
		return xfer_abort(&x, NULL);
	rc = exp_mkdirs(hdir, &created);
	dfd = rc ? -1 : open(hdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		h2_warn("%s: %s", hdir, strerror(rc ? rc : errno));
		return xfer_abort(&x, ip);
	}
	umask(0);
	if (exp_dir(&x, ip, dfd, strcmp(h2path, "") ? h2path : "/", hdir))
		status = H2_EXIT_FAIL;
	if (created && !x.fatal &&
	    exp_setattrs(&x, AT_FDCWD, hdir, hdir, &va, 0))
		status = H2_EXIT_FAIL;
	close(dfd);
	return xfer_end(&x, ip, status);
}
