/*
 * cmd_fs.c - file system commands on a PFS: ls, cat, stat, mkdir, rm,
 * setcomp, setcheck.  All go through the VFS-neutral API
 * (hammer2_vfsops.h); paths are '/'-separated from the PFS root.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hammer2_cli.h"

#define FS_IOSIZE 65536

/* readdir callback: keep every entry except "." and "..". */
static int h2_dlist_add(void *arg, const char *name, size_t len, uint64_t inum,
			uint8_t type, uint64_t next)
{
	struct h2_dlist *l = arg;

	(void)next;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		struct h2_dent *nv = realloc(l->v, ncap * sizeof(*nv));

		if (!nv) {
			l->nomem = 1;
			return 1;
		}
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n].name = malloc(len + 1);
	if (!l->v[l->n].name) {
		l->nomem = 1;
		return 1;
	}
	memcpy(l->v[l->n].name, name, len);
	l->v[l->n].name[len] = 0;
	l->v[l->n].len = len;
	l->v[l->n].inum = inum;
	l->v[l->n].type = type;
	l->n++;
	return 0;
}

/* Free a list from h2_readdir_all. */
void h2_dlist_free(struct h2_dlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Sort order for listings. */
static int h2_dent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct h2_dent *)a)->name,
		      ((const struct h2_dent *)b)->name);
}

/* Read a whole directory into l (see hammer2_cli.h). */
int h2_readdir_all(hammer2_inode_t *dip, struct h2_dlist *l, int flags)
{
	uint64_t cookie = 0;
	int rc;

	memset(l, 0, sizeof(*l));
	rc = hammer2_vop_readdir(dip, &cookie, h2_dlist_add, l);
	if (rc == 0 && l->nomem)
		rc = ENOMEM;
	if (rc && !(flags & H2_RD_KEEP)) {
		h2_dlist_free(l);
		return rc;
	}
	if ((flags & H2_RD_SORT) && l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), h2_dent_cmp);
	return rc;
}

/* Object types: the letter of "ls -l" and the long name of stat. */
static const struct {
	int type;
	char letter;
	const char *name;
} h2_objtypes[] = {
	{ HAMMER2_OBJTYPE_DIRECTORY, 'd', "directory" },
	{ HAMMER2_OBJTYPE_REGFILE, '-', "regular file" },
	{ HAMMER2_OBJTYPE_FIFO, 'p', "fifo" },
	{ HAMMER2_OBJTYPE_CDEV, 'c', "character special file" },
	{ HAMMER2_OBJTYPE_BDEV, 'b', "block special file" },
	{ HAMMER2_OBJTYPE_SOFTLINK, 'l', "symbolic link" },
	{ HAMMER2_OBJTYPE_SOCKET, 's', "socket" },
};

/* Index of type in h2_objtypes, or -1. */
static int h2_objtype_index(int type)
{
	size_t i;

	for (i = 0; i < H2_ARRAY_SIZE(h2_objtypes); i++) {
		if (h2_objtypes[i].type == type)
			return (int)i;
	}
	return -1;
}

/* "drwxr-xr-x" style mode string. */
static void h2_modestr(int type, uint32_t mode, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";
	int i = h2_objtype_index(type);

	out[0] = i < 0 ? '?' : h2_objtypes[i].letter;
	for (i = 0; i < 9; i++)
		out[i + 1] = (mode & (0400 >> i)) ? rwx[i] : '-';
	if (mode & 04000)
		out[3] = (mode & 0100) ? 's' : 'S';
	if (mode & 02000)
		out[6] = (mode & 0010) ? 's' : 'S';
	if (mode & 01000)
		out[9] = (mode & 0001) ? 't' : 'T';
	out[10] = 0;
}

/* Microseconds since the epoch as "YYYY-MM-DD HH:MM:SS.uuuuuu +ZZZZ". */
static const char *h2_timestr(uint64_t us, char *buf, size_t sz)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	char a[32], z[8];

	if (!localtime_r(&t, &tm)) {
		snprintf(buf, sz, "%ju us", (uintmax_t)us);
		return buf;
	}
	strftime(a, sizeof(a), "%Y-%m-%d %H:%M:%S", &tm);
	strftime(z, sizeof(z), "%z", &tm);
	snprintf(buf, sz, "%s.%06u %s", a, (unsigned)(us % 1000000), z);
	return buf;
}

/* For a symlink, print " -> TARGET" (nothing if it cannot be read). */
static void h2_print_target(hammer2_inode_t *ip, int type)
{
	char link[4096];
	ssize_t n;

	if (type != HAMMER2_OBJTYPE_SOFTLINK)
		return;
	n = hammer2_vop_readlink(ip, link, sizeof(link) - 1);
	if (n >= 0) {
		link[n] = 0;
		printf(" -> %s", link);
	}
}

/*
 * Open the image (read-only if rdonly), mount the PFS and look up path
 * into *ipp; with namep, look up its parent instead and set *namep to the
 * last component (h2_lookup_parent).  Returns 0, or H2_EXIT_FAIL with the
 * image closed again.
 */
static int h2_open_path(struct h2cli *c, int rdonly, const char *path,
			hammer2_inode_t **ipp, const char **namep)
{
	if (h2cli_open(c, rdonly, 1) || h2cli_mount(c))
		return h2cli_close(c), H2_EXIT_FAIL;
	if (namep ? h2_lookup_parent(c, path, ipp, namep) :
		    h2_lookup_path(c, path, ipp, 0)) {
		h2cli_close(c);
		return H2_EXIT_FAIL;
	}
	return 0;
}

/* Drop ip and close the image; status, or H2_EXIT_FAIL if closing fails. */
static int h2_close_path(struct h2cli *c, hammer2_inode_t *ip, int status)
{
	hammer2_inode_drop(ip);
	if (h2cli_close(c))
		status = H2_EXIT_FAIL;
	return status;
}

/* One "ls -l" line. */
static int h2_ls_long(hammer2_inode_t *ip, const char *name)
{
	struct hammer2_vattr va;
	char ms[11], tb[64];
	time_t t;
	struct tm tm;
	int rc;

	rc = hammer2_vop_getattr(ip, &va);
	if (rc)
		return rc;
	h2_modestr(va.type, va.mode, ms);
	t = (time_t)(va.mtime_us / 1000000);
	if (localtime_r(&t, &tm))
		strftime(tb, sizeof(tb), "%Y-%m-%d %H:%M", &tm);
	else
		strcpy(tb, "?");
	if (va.type == HAMMER2_OBJTYPE_CDEV || va.type == HAMMER2_OBJTYPE_BDEV)
		printf("%s %3ju %5u %5u %5u, %5u %s %s", ms,
		       (uintmax_t)va.nlinks, va.uid, va.gid, va.rmajor,
		       va.rminor, tb, name);
	else
		printf("%s %3ju %5u %5u %12ju %s %s", ms, (uintmax_t)va.nlinks,
		       va.uid, va.gid, (uintmax_t)va.size, tb, name);
	h2_print_target(ip, va.type);
	printf("\n");
	return 0;
}

/* ls [-l] PATH: list a directory (or one non-directory). */
int cmd_ls(struct h2cli *c, int ac, char **av)
{
	struct h2_dlist l;
	struct hammer2_vattr va;
	hammer2_inode_t *ip, *cip;
	const char *path;
	int longfmt = 0, status = 0;
	int i = 1, rc;
	size_t k;

	while (i < ac && av[i][0] == '-' && av[i][1]) {
		if (strcmp(av[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(av[i], "-l") != 0)
			h2_usage(av[0]);
		longfmt = 1;
		i++;
	}
	if (ac - i != 1)
		h2_usage(av[0]);
	path = av[i];
	if (h2_open_path(c, 1, path, &ip, NULL))
		return H2_EXIT_FAIL;
	rc = hammer2_vop_getattr(ip, &va);
	if (rc) {
		h2_warn("%s: %s", path, strerror(rc));
		status = H2_EXIT_FAIL;
	} else if (va.type != HAMMER2_OBJTYPE_DIRECTORY) {
		if (longfmt)
			h2_ls_long(ip, path);
		else
			printf("%s\n", path);
	} else if ((rc = h2_readdir_all(ip, &l, H2_RD_SORT)) != 0) {
		h2_warn("%s: %s", path, strerror(rc));
		if (rc == EIO)
			h2_diag_inode(c, ip, 0, HAMMER2_KEY_MAX);
		status = H2_EXIT_FAIL;
	} else {
		for (k = 0; k < l.n; k++) {
			if (!longfmt) {
				printf("%s\n", l.v[k].name);
				continue;
			}
			rc = hammer2_vop_lookup(ip, l.v[k].name, l.v[k].len,
						&cip);
			if (rc == 0) {
				rc = h2_ls_long(cip, l.v[k].name);
				hammer2_inode_drop(cip);
			}
			if (rc) {
				h2_warn("%s/%s: %s", path, l.v[k].name,
					strerror(rc));
				status = H2_EXIT_FAIL;
			}
		}
		h2_dlist_free(&l);
	}
	return h2_close_path(c, ip, status);
}

/* cat PATH: file contents to stdout. */
int cmd_cat(struct h2cli *c, int ac, char **av)
{
	static char buf[FS_IOSIZE];
	hammer2_inode_t *ip;
	uint64_t off = 0;
	int status = 0;

	if (ac != 2 || (av[1][0] == '-' && av[1][1]))
		h2_usage(av[0]);
	if (h2_open_path(c, 1, av[1], &ip, NULL))
		return H2_EXIT_FAIL;
	for (;;) {
		ssize_t n = hammer2_vop_read(ip, buf, sizeof(buf), off);

		if (n < 0) {
			h2_warn("%s: read error at offset %ju: %s", av[1],
				(uintmax_t)off, strerror((int)-n));
			if (n == -EIO &&
			    h2_diag_inode(c, ip, off, off + sizeof(buf) - 1) ==
				    0)
				h2_diag_inode(c, ip, 0, HAMMER2_KEY_MAX);
			status = H2_EXIT_FAIL;
			break;
		}
		if (n == 0)
			break;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
			h2_warn("stdout: %s", strerror(errno));
			status = H2_EXIT_FAIL;
			break;
		}
		off += (uint64_t)n;
	}
	if (fflush(stdout) != 0 && status == 0) {
		h2_warn("stdout: %s", strerror(errno));
		status = H2_EXIT_FAIL;
	}
	return h2_close_path(c, ip, status);
}

/* Long name of an object type for stat. */
static const char *h2_stat_typestr(int type)
{
	int i = h2_objtype_index(type);

	return i < 0 ? h2_objtype_str(type) : h2_objtypes[i].name;
}

/* stat PATH: attributes like stat(1). */
int cmd_stat(struct h2cli *c, int ac, char **av)
{
	struct hammer2_vattr va;
	hammer2_inode_t *ip;
	char ms[11], tb[80], cb[32];
	int rc, status = 0;

	if (ac != 2 || (av[1][0] == '-' && av[1][1]))
		h2_usage(av[0]);
	if (h2_open_path(c, 1, av[1], &ip, NULL))
		return H2_EXIT_FAIL;
	rc = hammer2_vop_getattr(ip, &va);
	if (rc) {
		h2_warn("%s: %s", av[1], strerror(rc));
		status = H2_EXIT_FAIL;
	} else {
		h2_modestr(va.type, va.mode, ms);
		printf("  File: %s", av[1]);
		h2_print_target(ip, va.type);
		printf("\n");
		printf("  Size: %-15ju Blocks: %-10ju Physical: %-12ju %s\n",
		       (uintmax_t)va.size,
		       (uintmax_t)(va.phys_bytes + 511) / 512,
		       (uintmax_t)va.phys_bytes, h2_stat_typestr(va.type));
		printf(" Inode: %-15ju Links: %ju", (uintmax_t)va.inum,
		       (uintmax_t)va.nlinks);
		if (va.type == HAMMER2_OBJTYPE_CDEV ||
		    va.type == HAMMER2_OBJTYPE_BDEV)
			printf("   Device type: %u,%u", va.rmajor, va.rminor);
		printf("\n");
		printf("Access: (%04o/%s)  Uid: (%5u)   Gid: (%5u)\n",
		       va.mode & 07777, ms, va.uid, va.gid);
		printf("Access: %s\n", h2_timestr(va.atime_us, tb, sizeof(tb)));
		printf("Modify: %s\n", h2_timestr(va.mtime_us, tb, sizeof(tb)));
		printf("Change: %s\n", h2_timestr(va.ctime_us, tb, sizeof(tb)));
		printf(" Birth: %s\n", h2_timestr(va.btime_us, tb, sizeof(tb)));
		printf("  Comp: %-15s Check: %s\n",
		       h2_comp_str(va.comp_algo, cb, sizeof(cb)),
		       h2_check_str(va.check_algo));
	}
	return h2_close_path(c, ip, status);
}

/* mkdir PATH: create one directory (the parent must exist). */
int cmd_mkdir(struct h2cli *c, int ac, char **av)
{
	struct hammer2_vattr va;
	hammer2_inode_t *dip, *ip;
	const char *name;
	mode_t um;
	int rc, status = 0;

	if (ac != 2 || (av[1][0] == '-' && av[1][1]))
		h2_usage(av[0]);
	if (h2_open_path(c, 0, av[1], &dip, &name))
		return H2_EXIT_FAIL;
	um = umask(0);
	umask(um);
	memset(&va, 0, sizeof(va));
	va.type = HAMMER2_OBJTYPE_DIRECTORY;
	va.mode = 0777 & ~um;
	va.uid = getuid();
	va.gid = getgid();
	rc = hammer2_vop_create(dip, name, strlen(name), &va, NULL, 0, &ip);
	if (rc) {
		h2_warn("%s: %s", av[1], strerror(rc));
		status = H2_EXIT_FAIL;
	} else {
		hammer2_inode_drop(ip);
	}
	return h2_close_path(c, dip, status);
}

/* Remove everything inside directory dip (rm -r). */
static int h2_rm_contents(hammer2_inode_t *dip, const char *path)
{
	struct h2_dlist l;
	size_t k;
	int rc, status = 0;

	rc = h2_readdir_all(dip, &l, 0);
	if (rc) {
		h2_warn("%s: %s", path, strerror(rc));
		return H2_EXIT_FAIL;
	}
	for (k = 0; k < l.n; k++) {
		struct h2_dent *e = &l.v[k];
		size_t plen = strlen(path) + e->len + 2;
		char *sub = malloc(plen);

		if (!sub) {
			h2_warn("out of memory");
			status = H2_EXIT_FAIL;
			break;
		}
		snprintf(sub, plen, "%s/%s", path, e->name);
		if (e->type == HAMMER2_OBJTYPE_DIRECTORY) {
			hammer2_inode_t *cip;

			rc = hammer2_vop_lookup(dip, e->name, e->len, &cip);
			if (rc == 0) {
				if (h2_rm_contents(cip, sub))
					status = H2_EXIT_FAIL;
				hammer2_inode_drop(cip);
				rc = hammer2_vop_rmdir(dip, e->name, e->len);
			}
		} else {
			rc = hammer2_vop_remove(dip, e->name, e->len);
		}
		if (rc) {
			h2_warn("%s: %s", sub, strerror(rc));
			status = H2_EXIT_FAIL;
		}
		free(sub);
	}
	h2_dlist_free(&l);
	return status;
}

/* rm [-r] PATH: remove a file, or a whole tree with -r. */
int cmd_rm(struct h2cli *c, int ac, char **av)
{
	struct hammer2_vattr va;
	hammer2_inode_t *dip, *ip;
	const char *name;
	int recursive = 0, i = 1, rc, status = 0;

	if (i < ac && strcmp(av[i], "-r") == 0) {
		recursive = 1;
		i++;
	}
	if (i < ac && strcmp(av[i], "--") == 0)
		i++;
	else if (i < ac && av[i][0] == '-' && av[i][1])
		h2_usage(av[0]);
	if (ac - i != 1)
		h2_usage(av[0]);
	if (h2_open_path(c, 0, av[i], &dip, &name))
		return H2_EXIT_FAIL;
	rc = hammer2_vop_lookup(dip, name, strlen(name), &ip);
	if (rc) {
		h2_warn("%s: %s", av[i], strerror(rc));
		status = H2_EXIT_FAIL;
		goto out;
	}
	rc = hammer2_vop_getattr(ip, &va);
	if (rc) {
		h2_warn("%s: %s", av[i], strerror(rc));
		status = H2_EXIT_FAIL;
	} else if (va.type == HAMMER2_OBJTYPE_DIRECTORY) {
		if (!recursive) {
			h2_warn("%s: is a directory (use rm -r)", av[i]);
			status = H2_EXIT_FAIL;
		} else {
			status = h2_rm_contents(ip, av[i]);
		}
	}
	hammer2_inode_drop(ip);
	if (rc == 0 && status == 0) {
		if (va.type == HAMMER2_OBJTYPE_DIRECTORY)
			rc = hammer2_vop_rmdir(dip, name, strlen(name));
		else
			rc = hammer2_vop_remove(dip, name, strlen(name));
		if (rc) {
			h2_warn("%s: %s", av[i], strerror(rc));
			status = H2_EXIT_FAIL;
		}
	}
out:
	return h2_close_path(c, dip, status);
}

/* Apply setcomp/setcheck to ip and, for a directory, everything below. */
static int h2_setalgo_tree(hammer2_inode_t *ip, const char *path, int check,
			   uint8_t algo, uint64_t *count)
{
	struct hammer2_vattr va;
	struct h2_dlist l;
	size_t k;
	int rc, status = 0;

	rc = check ? hammer2_vop_setcheck(ip, algo) :
		     hammer2_vop_setcomp(ip, algo);
	if (rc) {
		h2_warn("%s: %s", path, strerror(rc));
		return H2_EXIT_FAIL;
	}
	(*count)++;
	rc = hammer2_vop_getattr(ip, &va);
	if (rc) {
		h2_warn("%s: %s", path, strerror(rc));
		return H2_EXIT_FAIL;
	}
	if (va.type != HAMMER2_OBJTYPE_DIRECTORY)
		return 0;
	rc = h2_readdir_all(ip, &l, 0);
	if (rc) {
		h2_warn("%s: %s", path, strerror(rc));
		return H2_EXIT_FAIL;
	}
	for (k = 0; k < l.n; k++) {
		hammer2_inode_t *cip;
		size_t plen = strlen(path) + l.v[k].len + 2;
		char *sub = malloc(plen);

		if (!sub) {
			status = H2_EXIT_FAIL;
			break;
		}
		snprintf(sub, plen, "%s/%s", strcmp(path, "/") ? path : "",
			 l.v[k].name);
		rc = hammer2_vop_lookup(ip, l.v[k].name, l.v[k].len, &cip);
		if (rc) {
			h2_warn("%s: %s", sub, strerror(rc));
			status = H2_EXIT_FAIL;
		} else {
			if (h2_setalgo_tree(cip, sub, check, algo, count))
				status = H2_EXIT_FAIL;
			hammer2_inode_drop(cip);
		}
		free(sub);
	}
	h2_dlist_free(&l);
	return status;
}

/* Parse a setcomp mode; returns 0 and *algo, or -1. */
static int h2_parse_comp(const char *s, uint8_t *algo)
{
	const char *colon = strchr(s, ':');
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	int a, level = 0;

	if (n == 4 && strncmp(s, "none", 4) == 0)
		a = HAMMER2_COMP_NONE;
	else if (n == 8 && strncmp(s, "autozero", 8) == 0)
		a = HAMMER2_COMP_AUTOZERO;
	else if (n == 3 && strncmp(s, "lz4", 3) == 0)
		a = HAMMER2_COMP_LZ4;
	else if (n == 4 && strncmp(s, "zlib", 4) == 0)
		a = HAMMER2_COMP_ZLIB;
	else
		return -1;
	if (colon) {
		char *end;
		long v;

		if (a != HAMMER2_COMP_ZLIB)
			return -1;
		v = strtol(colon + 1, &end, 10);
		if (*end || end == colon + 1 || v < 1 || v > 9)
			return -1;
		level = (int)v;
	}
	*algo = (uint8_t)(HAMMER2_ENC_ALGO(a) | HAMMER2_ENC_LEVEL(level));
	return 0;
}

/* Parse a setcheck mode; returns 0 and *algo, or -1. */
static int h2_parse_check(const char *s, uint8_t *algo)
{
	static const struct {
		const char *name;
		int v;
	} t[] = {
		{ "none", HAMMER2_CHECK_NONE },
		{ "disabled", HAMMER2_CHECK_DISABLED },
		{ "crc32", HAMMER2_CHECK_ISCSI32 },
		{ "xxhash64", HAMMER2_CHECK_XXHASH64 },
		{ "sha192", HAMMER2_CHECK_SHA192 },
	};
	size_t i;

	for (i = 0; i < H2_ARRAY_SIZE(t); i++) {
		if (strcmp(s, t[i].name) == 0) {
			*algo = (uint8_t)t[i].v;
			return 0;
		}
	}
	return -1;
}

/* Shared body of setcomp and setcheck. */
static int h2_setalgo_cmd(struct h2cli *c, int ac, char **av, int check)
{
	hammer2_inode_t *ip;
	uint8_t algo;
	uint64_t count = 0;
	char cb[32];
	int status;

	if (ac != 3)
		h2_usage(av[0]);
	if ((check ? h2_parse_check(av[1], &algo) :
		     h2_parse_comp(av[1], &algo)) != 0) {
		h2_warn("%s: unknown mode \"%s\"", av[0], av[1]);
		h2_usage(av[0]);
	}
	if (h2_open_path(c, 0, av[2], &ip, NULL))
		return H2_EXIT_FAIL;
	status = h2_setalgo_tree(ip, av[2], check, algo, &count);
	status = h2_close_path(c, ip, status);
	if (status == 0)
		printf("%s: %s set on %ju inode(s)\n", av[2],
		       check ? h2_check_str(algo) :
			       h2_comp_str(algo, cb, sizeof(cb)),
		       (uintmax_t)count);
	return status;
}

/* setcomp MODE PATH: compression for PATH (recursive for directories). */
int cmd_setcomp(struct h2cli *c, int ac, char **av)
{
	return h2_setalgo_cmd(c, ac, av, 0);
}

/* setcheck MODE PATH: check code for PATH (recursive for directories). */
int cmd_setcheck(struct h2cli *c, int ac, char **av)
{
	return h2_setalgo_cmd(c, ac, av, 1);
}
