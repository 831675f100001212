/*
 * hammer2_cli.h - shared state and helpers of the offline hammer2(8) tool.
 *
 * The tool works on an image file or block device through libhammer2:
 *   main.c        argument parsing, device open/close, dispatch, errors.
 *   cmd_media.c   info, volhdr, show, freemap, pfs-list and the raw block
 *                 reader used to name bad blocks after an I/O error.
 *   cmd_fs.c      ls, cat, stat, mkdir, rm, setcomp, setcheck.
 *   cmd_import.c  import (host tree -> image) and export (image -> host).
 *   cmd_dump.c    dump (the logical tree, one sorted line per object).
 *
 * Exit status: 0 success, 1 operational error (missing path, I/O error,
 * corruption), 2 wrong usage.
 */
#ifndef HAMMER2_CLI_H
#define HAMMER2_CLI_H

#include "hammer2_vfsops.h"
#include "hammer2_user.h"

#define H2_EXIT_OK 0
#define H2_EXIT_FAIL 1
#define H2_EXIT_USAGE 2

/* Everything one invocation has open. */
struct h2cli {
	const char *image; /* IMAGE part of -f */
	const char *label; /* PFS label (default "DATA") */
	int rdonly;	   /* opened read-only */
	struct hammer2_userdev *udev;
	const struct hammer2_devops *ops;
	uint64_t size;	    /* bytes of the image/device */
	hammer2_dev_t *hmp; /* NULL until h2cli_open_dev() succeeded */
	hammer2_pfs_t *pmp; /* NULL until h2cli_mount() succeeded */
};

/* A command: name, handler and its one-line usage (operands only). */
struct h2cmd {
	const char *name;
	int (*fn)(struct h2cli *c, int ac, char **av);
	const char *args;
	const char *help;
};

extern const char *h2_progname;

/* Print "hammer2: msg" on stderr (printf-style, newline added). */
void h2_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print the usage of command cmd (or the general usage if NULL), exit 2. */
void h2_usage(const char *cmd) __attribute__((noreturn));

/*
 * Open the image and the HAMMER2 device.  On failure prints the reason and
 * returns nonzero (exit status 1).  With need_dev == 0 only the raw image
 * is opened (volhdr/show work even when the library refuses the device).
 */
int h2cli_open(struct h2cli *c, int rdonly, int need_dev);
/* Mount the PFS c->label; prints the reason and returns 1 on failure. */
int h2cli_mount(struct h2cli *c);
/*
 * Sync (read-write only), unmount and close everything.  Returns 0, or 1
 * after printing the error of the sync/close.
 */
int h2cli_close(struct h2cli *c);

/*
 * Normalise a path relative to the PFS root into out (no leading or
 * trailing '/', no empty, "." or ".." components; "" is the root).
 * Returns 0 or ENAMETOOLONG.
 */
int h2_normpath(const char *in, char *out, size_t outsz);
/*
 * Join a and b with exactly one '/' between them (none added when a ends
 * in '/') into a new string the caller frees; NULL when out of memory.
 */
char *h2_join(const char *a, const char *b);
/*
 * Resolve path (any form h2_normpath accepts) to a referenced inode.
 * Returns 0 or an errno; unless quiet, prints "path: strerror" and, for
 * EIO, which block is damaged.
 */
int h2_lookup_path(struct h2cli *c, const char *path, hammer2_inode_t **ipp,
		   int quiet);
/*
 * Split a normalised path into parent (referenced inode) and last
 * component name.  Errors as h2_lookup_path; EINVAL for the root.
 */
int h2_lookup_parent(struct h2cli *c, const char *path, hammer2_inode_t **dipp,
		     const char **namep);

/* Name of an HAMMER2_OBJTYPE_* ("dir", "file", ...). */
const char *h2_objtype_str(int type);
/* Name of a compression setting (HAMMER2_COMP_* | level << 4) into buf. */
const char *h2_comp_str(int comp, char *buf, size_t bufsz);
/* Name of a HAMMER2_CHECK_* value. */
const char *h2_check_str(int check);
/* Name of a HAMMER2_BREF_TYPE_* value. */
const char *h2_breftype_str(int type);
/* Name of a HAMMER2_PFSTYPE_* value. */
const char *h2_pfstype_str(int type);

/*
 * Read one block of the media: verify its check code and return the
 * logical (decompressed) contents in a malloc'ed buffer.  Returns 0, or
 * nonzero with *whyp set to a short reason ("check code mismatch", "read
 * error", "bad blockref", "decompression failed").  Uses the library's
 * hammer2_io_read_bref when the device is open, a raw read otherwise.
 */
int h2_media_read(struct h2cli *c, const hammer2_blockref_t *bref,
		  uint8_t **datap, uint32_t *bytesp, const char **whyp);
/*
 * After an EIO on inode ip: walk its media blocks whose keys intersect
 * [beg, end] (descend_inodes: also the inodes below a directory) and print
 * each damaged block ("bad block: TYPE at 0x... : reason").  Returns the
 * number of damaged blocks found.
 */
int h2_diag_inode(struct h2cli *c, hammer2_inode_t *ip, uint64_t beg,
		  uint64_t end);

/* A directory entry collected by h2_readdir_all(). */
struct h2_dent {
	char *name; /* NUL-terminated copy */
	size_t len;
	uint64_t inum;
	uint8_t type; /* HAMMER2_OBJTYPE_* */
};

/* A whole directory's entries (without "." and ".."). */
struct h2_dlist {
	struct h2_dent *v;
	size_t n, cap;
	int nomem;
};

#define H2_RD_SORT 0x1 /* sort by name */
#define H2_RD_KEEP 0x2 /* on error keep the entries read before it */
/*
 * Read every entry of directory dip into l (flags H2_RD_*).  Returns 0 or
 * an errno; l is then empty unless H2_RD_KEEP was given.
 */
int h2_readdir_all(hammer2_inode_t *dip, struct h2_dlist *l, int flags);
/* Free the entries of l. */
void h2_dlist_free(struct h2_dlist *l);

/* Commands (cmd_media.c). */
int cmd_info(struct h2cli *c, int ac, char **av);
int cmd_volhdr(struct h2cli *c, int ac, char **av);
int cmd_show(struct h2cli *c, int ac, char **av);
int cmd_freemap(struct h2cli *c, int ac, char **av);
int cmd_pfs_list(struct h2cli *c, int ac, char **av);
/* Commands (cmd_fs.c). */
int cmd_ls(struct h2cli *c, int ac, char **av);
int cmd_cat(struct h2cli *c, int ac, char **av);
int cmd_stat(struct h2cli *c, int ac, char **av);
int cmd_mkdir(struct h2cli *c, int ac, char **av);
int cmd_rm(struct h2cli *c, int ac, char **av);
int cmd_setcomp(struct h2cli *c, int ac, char **av);
int cmd_setcheck(struct h2cli *c, int ac, char **av);
/* Commands (cmd_import.c). */
int cmd_import(struct h2cli *c, int ac, char **av);
int cmd_export(struct h2cli *c, int ac, char **av);
/* Commands (cmd_dump.c). */
int cmd_dump(struct h2cli *c, int ac, char **av);

#endif /* HAMMER2_CLI_H */
