/*
 * main.c - hammer2(8) for Linux: offline access to a HAMMER2 image.
 *
 *	hammer2 -f IMAGE[@LABEL] COMMAND [ARGS]
 *
 * Parses the global options, opens the image through libhammer2 when the
 * command asks for it, dispatches, and owns the exit status conventions
 * (0 ok, 1 error, 2 usage).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hammer2_cli.h"
#include "hammer2_tools.h"

const char *h2_progname = "hammer2";

static const struct h2cmd h2_cmds[] = {
	{ "info", cmd_info, "", "device summary" },
	{ "volhdr", cmd_volhdr, "", "print the volume header" },
	{ "show", cmd_show, "", "dump the media topology" },
	{ "freemap", cmd_freemap, "", "dump the freemap topology" },
	{ "pfs-list", cmd_pfs_list, "", "list the PFSs" },
	{ "ls", cmd_ls, "[-l] PATH", "list a directory" },
	{ "cat", cmd_cat, "PATH", "write a file to stdout" },
	{ "stat", cmd_stat, "PATH", "show an inode's attributes" },
	{ "mkdir", cmd_mkdir, "PATH", "create a directory" },
	{ "rm", cmd_rm, "[-r] PATH", "remove a file (or a tree with -r)" },
	{ "import", cmd_import, "HOSTDIR PATH",
	  "copy a host directory tree into PATH" },
	{ "export", cmd_export, "PATH HOSTDIR",
	  "copy PATH's tree into a host directory" },
	{ "dump", cmd_dump, "[PATH]",
	  "PATH's tree, a sorted line per object, no times" },
	{ "setcomp", cmd_setcomp, "none|autozero|lz4|zlib[:LEVEL] PATH",
	  "set compression (recursive)" },
	{ "setcheck", cmd_setcheck, "none|disabled|crc32|xxhash64|sha192 PATH",
	  "set the check code (recursive)" },
};

/* Print a "hammer2: ..." diagnostic on stderr. */
void h2_warn(const char *fmt, ...)
{
	va_list va;

	fprintf(stderr, "%s: ", h2_progname);
	va_start(va, fmt);
	vfprintf(stderr, fmt, va);
	va_end(va);
	fputc('\n', stderr);
}

/* Usage of one command, or of the whole tool, on stderr; exits 2. */
void h2_usage(const char *cmd)
{
	size_t i;

	if (cmd) {
		for (i = 0; i < H2_ARRAY_SIZE(h2_cmds); i++) {
			if (strcmp(h2_cmds[i].name, cmd) == 0) {
				fprintf(stderr,
					"usage: %s -f IMAGE[@LABEL] %s %s\n",
					h2_progname, cmd, h2_cmds[i].args);
				exit(H2_EXIT_USAGE);
			}
		}
	}
	fprintf(stderr, "usage: %s -f IMAGE[@LABEL] COMMAND [ARGS]\n",
		h2_progname);
	fprintf(stderr, "  IMAGE  image file or block device; LABEL picks "
			"the PFS (default DATA)\n");
	fprintf(stderr, "commands:\n");
	for (i = 0; i < H2_ARRAY_SIZE(h2_cmds); i++) {
		char head[96];

		snprintf(head, sizeof(head), "%s %s", h2_cmds[i].name,
			 h2_cmds[i].args);
		fprintf(stderr, "  %-46s %s\n", head, h2_cmds[i].help);
	}
	exit(H2_EXIT_USAGE);
}

/* errno from the user device helper (tolerates 0/errno/-errno/-1). */
static int h2_udev_errno(int rc)
{
	if (rc == -1)
		return errno ? errno : EIO;
	return rc < 0 ? -rc : rc;
}

/* Open the image (and the device unless need_dev is 0). */
int h2cli_open(struct h2cli *c, int rdonly, int need_dev)
{
	int rc;

	c->rdonly = rdonly;
	errno = 0;
	rc = hammer2_userdev_open(c->image, rdonly, &c->udev);
	if (rc != 0 || c->udev == NULL) {
		rc = rc ? h2_udev_errno(rc) : (errno ? errno : EIO);
		h2_warn("%s: %s", c->image, strerror(rc));
		c->udev = NULL;
		return H2_EXIT_FAIL;
	}
	c->ops = hammer2_userdev_ops();
	c->size = hammer2_userdev_size(c->udev);
	if (c->size < HAMMER2_VOLUME_BYTES) {
		h2_warn("%s: too small to be a HAMMER2 volume (%ju bytes)",
			c->image, (uintmax_t)c->size);
		return H2_EXIT_FAIL;
	}
	rc = hammer2_dev_open(c->ops, c->udev, c->size,
			      rdonly ? HAMMER2_MNT_RDONLY : 0, &c->hmp);
	if (rc != 0) {
		c->hmp = NULL;
		if (!need_dev)
			return 0;
		if (rc == EINVAL)
			h2_warn("%s: not a HAMMER2 volume (no valid volume "
				"header)",
				c->image);
		else
			h2_warn("%s: cannot open HAMMER2 volume: %s", c->image,
				strerror(rc));
		return H2_EXIT_FAIL;
	}
	return 0;
}

/* Mount the selected PFS. */
int h2cli_mount(struct h2cli *c)
{
	int rc;

	rc = hammer2_pfs_mount(c->hmp, c->label, &c->pmp);
	if (rc != 0) {
		c->pmp = NULL;
		if (rc == ENOENT)
			h2_warn("%s: no PFS named \"%s\"", c->image, c->label);
		else
			h2_warn("%s: cannot mount PFS \"%s\": %s", c->image,
				c->label, strerror(rc));
		return H2_EXIT_FAIL;
	}
	return 0;
}

/* Sync, unmount and close; returns the exit status contribution. */
int h2cli_close(struct h2cli *c)
{
	int status = 0;
	int rc;

	if (c->hmp && !c->rdonly) {
		rc = hammer2_vfs_sync(c->hmp);
		if (rc) {
			h2_warn("%s: sync failed: %s", c->image, strerror(rc));
			status = H2_EXIT_FAIL;
		}
	}
	if (c->pmp) {
		rc = hammer2_pfs_unmount(c->pmp);
		if (rc) {
			h2_warn("%s: unmount failed: %s", c->image,
				strerror(rc));
			status = H2_EXIT_FAIL;
		}
		c->pmp = NULL;
	}
	if (c->hmp) {
		rc = hammer2_dev_close(c->hmp);
		if (rc) {
			h2_warn("%s: close failed: %s", c->image, strerror(rc));
			status = H2_EXIT_FAIL;
		}
		c->hmp = NULL;
	}
	if (c->udev) {
		hammer2_userdev_close(c->udev);
		c->udev = NULL;
	}
	return status;
}

/* Collapse a path into "a/b/c" form relative to the PFS root. */
int h2_normpath(const char *in, char *out, size_t outsz)
{
	size_t olen = 0;
	const char *p = in;

	if (outsz == 0)
		return ENAMETOOLONG;
	out[0] = 0;
	while (*p) {
		const char *s;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		s = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - s);
		if (n == 1 && s[0] == '.')
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (olen > 0 && out[olen - 1] != '/')
				olen--;
			if (olen > 0)
				olen--; /* the separator */
			out[olen] = 0;
			continue;
		}
		if (n > 255)
			return ENAMETOOLONG;
		if (olen + (olen ? 1 : 0) + n + 1 > outsz)
			return ENAMETOOLONG;
		if (olen)
			out[olen++] = '/';
		memcpy(out + olen, s, n);
		olen += n;
		out[olen] = 0;
	}
	return 0;
}

/* Join a/b with one '/' between them (see hammer2_cli.h). */
char *h2_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 2);

	if (!s)
		return NULL;
	memcpy(s, a, la);
	if (la == 0 || a[la - 1] != '/')
		s[la++] = '/';
	memcpy(s + la, b, lb + 1);
	return s;
}

/*
 * After an EIO resolving path: walk it one component at a time and name
 * the damaged block in the directory that failed.
 */
static void h2_diag_path(struct h2cli *c, const char *norm)
{
	hammer2_inode_t *dip, *ip;
	const char *p = norm;

	dip = hammer2_vfs_root(c->pmp);
	if (!dip)
		return;
	while (*p) {
		const char *s = p;
		int rc;

		while (*p && *p != '/')
			p++;
		rc = hammer2_vop_lookup(dip, s, (size_t)(p - s), &ip);
		if (rc == EIO) {
			if (h2_diag_inode(c, dip, 0, HAMMER2_KEY_MAX) == 0)
				h2_warn("(no damaged block found below "
					"inode %ju)",
					(uintmax_t)dip->inum);
			break;
		}
		hammer2_inode_drop(dip);
		dip = NULL;
		if (rc)
			return;
		dip = ip;
		if (*p == '/')
			p++;
	}
	if (dip)
		hammer2_inode_drop(dip);
}

/* Resolve a path to a referenced inode. */
int h2_lookup_path(struct h2cli *c, const char *path, hammer2_inode_t **ipp,
		   int quiet)
{
	char norm[4096];
	int rc;

	*ipp = NULL;
	rc = h2_normpath(path, norm, sizeof(norm));
	if (rc == 0) {
		if (norm[0] == 0) {
			*ipp = hammer2_vfs_root(c->pmp);
			rc = *ipp ? 0 : EIO;
		} else {
			rc = hammer2_vop_namei(c->pmp, norm, ipp);
		}
	}
	if (rc) {
		*ipp = NULL;
		if (!quiet) {
			h2_warn("%s: %s", path, strerror(rc));
			if (rc == EIO)
				h2_diag_path(c, norm);
		}
	}
	return rc;
}

/* Resolve the parent directory of path and point *namep at the last name. */
int h2_lookup_parent(struct h2cli *c, const char *path, hammer2_inode_t **dipp,
		     const char **namep)
{
	static char norm[4096];
	char *slash;
	int rc;

	*dipp = NULL;
	rc = h2_normpath(path, norm, sizeof(norm));
	if (rc) {
		h2_warn("%s: %s", path, strerror(rc));
		return rc;
	}
	if (norm[0] == 0) {
		h2_warn("%s: is the PFS root", path);
		return EINVAL;
	}
	slash = strrchr(norm, '/');
	if (!slash) {
		*namep = norm;
		*dipp = hammer2_vfs_root(c->pmp);
		return *dipp ? 0 : EIO;
	}
	*slash = 0;
	*namep = slash + 1;
	rc = h2_lookup_path(c, norm, dipp, 1);
	if (rc) {
		h2_warn("%s: %s", path, strerror(rc));
		if (rc == EIO)
			h2_diag_path(c, norm);
	}
	return rc;
}

/* Names of object types (HAMMER2_OBJTYPE_*). */
const char *h2_objtype_str(int type)
{
	switch (type) {
	case HAMMER2_OBJTYPE_DIRECTORY:
		return "dir";
	case HAMMER2_OBJTYPE_REGFILE:
		return "file";
	case HAMMER2_OBJTYPE_HARDLINK:
		return "hardlink";
	case HAMMER2_OBJTYPE_FIFO:
		return "fifo";
	case HAMMER2_OBJTYPE_CDEV:
		return "cdev";
	case HAMMER2_OBJTYPE_BDEV:
		return "bdev";
	case HAMMER2_OBJTYPE_SOFTLINK:
		return "softlink";
	case HAMMER2_OBJTYPE_SOCKET:
		return "socket";
	case HAMMER2_OBJTYPE_WHITEOUT:
		return "whiteout";
	default:
		return "unknown";
	}
}

/* Names of compression settings. */
const char *h2_comp_str(int comp, char *buf, size_t bufsz)
{
	static const char *names[] = { "none", "autozero", "lz4", "zlib" };
	int algo = HAMMER2_DEC_ALGO(comp);
	int level = HAMMER2_DEC_LEVEL(comp);

	if (algo < 4) {
		if (level)
			snprintf(buf, bufsz, "%s:%d", names[algo], level);
		else
			snprintf(buf, bufsz, "%s", names[algo]);
	} else {
		snprintf(buf, bufsz, "comp(%d)", algo);
	}
	return buf;
}

/* Names of check codes. */
const char *h2_check_str(int check)
{
	switch (check) {
	case HAMMER2_CHECK_NONE:
		return "none";
	case HAMMER2_CHECK_DISABLED:
		return "disabled";
	case HAMMER2_CHECK_ISCSI32:
		return "crc32";
	case HAMMER2_CHECK_XXHASH64:
		return "xxhash64";
	case HAMMER2_CHECK_SHA192:
		return "sha192";
	case HAMMER2_CHECK_FREEMAP:
		return "freemap";
	default:
		return "unknown";
	}
}

/* Names of blockref types, as DragonFly's hammer2 show spells them. */
const char *h2_breftype_str(int type)
{
	return hammer2_bref_type_name(type, 1);
}

/* Names of PFS types. */
const char *h2_pfstype_str(int type)
{
	switch (type) {
	case HAMMER2_PFSTYPE_NONE:
		return "NONE";
	case HAMMER2_PFSTYPE_CACHE:
		return "CACHE";
	case HAMMER2_PFSTYPE_SLAVE:
		return "SLAVE";
	case HAMMER2_PFSTYPE_SOFT_SLAVE:
		return "SOFT_SLAVE";
	case HAMMER2_PFSTYPE_SOFT_MASTER:
		return "SOFT_MASTER";
	case HAMMER2_PFSTYPE_MASTER:
		return "MASTER";
	case HAMMER2_PFSTYPE_SUPROOT:
		return "SUPROOT";
	case HAMMER2_PFSTYPE_DUMMY:
		return "DUMMY";
	default:
		return "UNKNOWN";
	}
}

/* Entry point: parse -f IMAGE[@LABEL], find the command, run it. */
int main(int ac, char **av)
{
	static struct h2cli cli; /* static: reachable for leak checkers */
	static char imagebuf[4096];
	const char *farg = NULL;
	char *at;
	size_t i;
	int ch;

	while ((ch = getopt(ac, av, "+f:h")) != -1) {
		switch (ch) {
		case 'f':
			farg = optarg;
			break;
		case 'h':
		default:
			h2_usage(NULL);
		}
	}
	ac -= optind;
	av += optind;
	if (ac < 1)
		h2_usage(NULL);
	for (i = 0; i < H2_ARRAY_SIZE(h2_cmds); i++)
		if (strcmp(h2_cmds[i].name, av[0]) == 0)
			break;
	if (i == H2_ARRAY_SIZE(h2_cmds)) {
		h2_warn("unknown command \"%s\"", av[0]);
		h2_usage(NULL);
	}
	if (farg == NULL) {
		h2_warn("-f IMAGE is required");
		h2_usage(av[0]);
	}
	if (strlen(farg) >= sizeof(imagebuf)) {
		h2_warn("image path too long");
		h2_usage(av[0]);
	}
	strcpy(imagebuf, farg);
	cli.label = "DATA";
	at = strrchr(imagebuf, '@');
	if (at) {
		*at = 0;
		cli.label = at + 1;
		if (cli.label[0] == 0 ||
		    strlen(cli.label) > HAMMER2_INODE_MAXNAME - 1) {
			h2_warn("bad PFS label in -f %s", farg);
			h2_usage(av[0]);
		}
	}
	if (imagebuf[0] == 0) {
		h2_warn("empty image path in -f");
		h2_usage(av[0]);
	}
	cli.image = imagebuf;
	return h2_cmds[i].fn(&cli, ac, av);
}
