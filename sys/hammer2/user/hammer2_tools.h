/*
 * hammer2_tools.h - the file system maker and checker as library functions.
 *
 * hammer2_newfs() writes a fresh volume, hammer2_fsck() checks one; both
 * work through a struct hammer2_devops (a file through hammer2_user.h, or
 * the simulator's disk), never print, and never trust media contents
 * before bounds-checking them.  newfs_hammer2 and fsck_hammer2 are thin
 * command-line wrappers around them.
 *
 *	struct hammer2_newfs_opts opts;
 *	const char *why;
 *
 *	hammer2_newfs_defaults(&opts);
 *	error = hammer2_newfs(ops, ctx, size, &opts, &why);
 *	...
 *	struct hammer2_fsck_result res;
 *	error = hammer2_fsck(ops, ctx, size, 0, report, arg, &res);
 *	if (error == 0 && res.errors == 0)
 *		... clean ...
 *
 * Sizes and offsets are bytes.
 */
#ifndef HAMMER2_TOOLS_H
#define HAMMER2_TOOLS_H

#include <stddef.h>
#include <stdint.h>

#include "../hammer2.h"

/* ----- newfs ----- */

/*
 * At most HAMMER2_SET_COUNT PFS roots fit in the super-root's blockset
 * without an indirect block: LOCAL and up to three more labels.
 */
#define HAMMER2_NEWFS_MAX_LABELS HAMMER2_SET_COUNT

/* Options of a new volume (newfs_hammer2's command line). */
struct hammer2_newfs_opts {
	const char *labels[4]; /* [0] = "LOCAL" always; up to 3 more */
	int nlabels;
	uint64_t boot_bytes; /* 0: default scaled by volume size */
	uint64_t aux_bytes;  /* 0: default scaled by volume size */
	int version;	     /* HAMMER2_VOL_VERSION_* (0: default) */
	int check_algo;	     /* HAMMER2_CHECK_* for the PFS roots */
	int comp_algo;	     /* HAMMER2_COMP_* | level << 4 */
};

/* Fill opts with defaults: labels LOCAL + DATA, xxhash64, lz4. */
void hammer2_newfs_defaults(struct hammer2_newfs_opts *opts);

/* The layout hammer2_newfs() gives a volume; byte offsets and sizes. */
struct hammer2_newfs_layout {
	uint64_t volu_size; /* usable size, multiple of 8 MiB */
	uint64_t boot_beg, boot_bytes;
	uint64_t aux_beg, aux_bytes;
	uint64_t reserved_bytes; /* 4 MiB per started 1 GiB */
	uint64_t free_bytes;	 /* allocator_size / allocator_free */
	uint64_t inode_base;	 /* 64 KiB block: super-root, PFS roots */
	uint64_t allocator_beg;	 /* first byte after the static inodes */
	int nhdrs;		 /* volume header copies that fit */
};

/*
 * Compute the layout hammer2_newfs() would give a volume of size bytes
 * (rounded down to 8 MiB) with opts, without any I/O.  The super-root is
 * the 1 KiB inode at inode_base, the PFS root of opts->labels[i] the one
 * at inode_base + (i + 1) KiB.  Returns 0, or EINVAL when the volume is
 * too small or opts are invalid (bad label count, empty, over-long,
 * duplicate or hash-colliding label, label with '/', unsupported
 * version); *errmsg (may be NULL) then gets a static explanation.
 */
int hammer2_newfs_layout(uint64_t size, const struct hammer2_newfs_opts *opts,
			 struct hammer2_newfs_layout *lay, const char **errmsg);

/*
 * Write a new HAMMER2 volume of size bytes (rounded down to 8 MiB) through
 * ops/ctx: volume headers, super-root and PFS inodes, exactly what
 * newfs_hammer2 writes today (byte-identical for the same time/random
 * source).  Uses ops->write for every byte it writes and ops->flush at the
 * end; it writes zeros over the old volume header copies' locations but
 * does not zero the boot/aux areas (the tool punches holes itself).
 * Time and uuids come from ops->time_us and ops->random.  Returns 0 or an
 * errno (EINVAL too small, EIO).  *errmsg (may be NULL) gets a static
 * explanation on failure.
 *
 * The volume header copies within the volume are first overwritten with
 * zeros (an interrupted newfs leaves no stale file system behind), then
 * the last 64 KiB block of the volume is zeroed (proves the size), then
 * the inode block and the headers are written, then ops->flush is called.
 * The rest of the first 4 MiB reserved segment and the boot/aux areas are
 * not written: they must read as zeros already, or hold nothing that
 * matters (freemap_blockset starts empty).  Write/flush errors are
 * returned as ops reported them (EIO for none); EINVAL as for
 * hammer2_newfs_layout(); ENOMEM.
 */
int hammer2_newfs(const struct hammer2_devops *ops, void *ctx, uint64_t size,
		  const struct hammer2_newfs_opts *opts, const char **errmsg);

/* ----- fsck ----- */

#define HAMMER2_FSCK_VERBOSE 0x0001 /* one line per blockref */
#define HAMMER2_FSCK_QUIET 0x0002   /* only problems (VERBOSE ignored) */

struct hammer2_fsck_result {
	uint64_t errors, warnings;
	uint64_t blockrefs, leaked_bytes;
	uint64_t recover_bytes;
	int best_copy; /* volume header copy used, -1 if none */
};

/*
 * Check a volume of size bytes read through ops->read (nothing is written):
 * every check fsck_hammer2 does today.  Each message line (no newline) goes
 * to report(arg, line) if report is not NULL.  Returns 0 when the check ran
 * (see res->errors), or an errno when it could not run (EIO reading,
 * EINVAL no HAMMER2 magic at all).
 *
 * Lines reported: the verdict on each volume header copy, the copy used,
 * "ERROR: ..." and "WARNING: ..." lines (a blockref's data_off, type and
 * key/keybits first when tied to one), one line per blockref with
 * HAMMER2_FSCK_VERBOSE, and a summary of both trees and the freemap.
 * With HAMMER2_FSCK_QUIET only ERROR lines are reported.  After 1000
 * problem lines the rest are counted but not reported.
 *
 * res (required) is always filled: errors (problems), warnings
 * (suspicious but legal states), blockrefs (non-empty blockrefs visited in
 * both trees), leaked_bytes (allocated in the freemap, referenced by
 * nothing), recover_bytes (referenced but free in a freemap older than
 * the tree: what the next read-write mount marks, hammer2_freemap_recover;
 * no error), best_copy.  No valid volume header is a result (errors > 0,
 * best_copy -1, return 0).  Other returns: EINVAL also when size cannot
 * hold one volume header (nothing reported); EIO when a read failed
 * (header: nothing more checked; block: the walk finished without it,
 * summary reported); ENOMEM.  ops->read errors other than EIO are
 * returned as they are.
 */
int hammer2_fsck(const struct hammer2_devops *ops, void *ctx, uint64_t size,
		 int flags, void (*report)(void *arg, const char *line),
		 void *arg, struct hammer2_fsck_result *res);

/* ----- names for reports ----- */

/*
 * Name of a HAMMER2_BREF_TYPE_* value ("unknown" for others): as
 * hammer2_fsck() reports it ("indirect", "freemap_leaf", ...), or with
 * show nonzero as DragonFly's hammer2 show spells it ("indblk",
 * "fbitmap", ...).
 */
const char *hammer2_bref_type_name(int type, int show);

/*
 * A size in bytes for people, into buf (len bytes), which is returned:
 * "N B" below 1 KiB, else two decimals and a binary unit ("1.50 GiB").
 */
const char *hammer2_size_str(uint64_t bytes, char *buf, size_t len);

#endif /* HAMMER2_TOOLS_H */
