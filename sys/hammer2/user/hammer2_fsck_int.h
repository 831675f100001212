/*
 * hammer2_fsck_int.h - private state of hammer2_fsck() (hammer2_tools.h).
 *
 * hammer2_fsck.c       entry point, volume header copies, reporting,
 *                      summary.
 * hammer2_fsck_walk.c  blockref tree walk (super-root and freemap trees),
 *                      media overlap check and freemap-versus-references
 *                      check.
 *
 * The checker reads through ops->read only and never trusts a media value
 * before bounds-checking it; it does not use the core's chain layer so
 * that it stays an independent opinion on the media.  Not for use outside
 * these two files.
 */
#ifndef HAMMER2_FSCK_INT_H
#define HAMMER2_FSCK_INT_H

#include <stdint.h>

#include "hammer2_tools.h"

#define H2FSCK_MAX_DEPTH 40	/* blockref recursion limit */
#define H2FSCK_MAX_PRINTED 1000 /* problem lines reported before muting */
#define H2FSCK_NTYPES 8		/* on-media bref types 0..7 */

/* One referenced piece of media (for overlap and freemap checks). */
struct fsck_extent {
	uint64_t off;	/* byte offset */
	uint32_t bytes; /* physical bytes */
	uint8_t type;	/* HAMMER2_BREF_TYPE_* */
	uint8_t keybits;
	hammer2_off_t data_off; /* for messages */
	hammer2_key_t key;
	hammer2_tid_t mirror_tid; /* of the bref */
};

struct h2fsck {
	const struct hammer2_devops *ops;
	void *devctx;
	void (*report)(void *arg, const char *line);
	void *arg;
	int verbose;
	int quiet;

	uint64_t dev_size;  /* bytes readable on the device */
	uint64_t volu_size; /* bound for blocks: min(volu_size, dev_size) */
	hammer2_volume_data_t *vd; /* chosen volume header */
	int best;		   /* index of the chosen copy */

	uint64_t nerrors;
	uint64_t nwarnings;
	uint64_t nprinted;
	int io_error; /* errno of the first operational failure, or 0 */

	/* statistics per tree: [0] super-root tree, [1] freemap tree */
	uint64_t count[2][H2FSCK_NTYPES];
	uint64_t bytes[2];
	uint64_t empty[2];
	int tree; /* tree being walked (index into the above) */

	/* referenced media */
	struct fsck_extent *ext;
	size_t next, maxext;
	uint64_t dedup_refs; /* DATA blocks shared by identical brefs */

	/* visited interior blocks (loop / multiple reference detection) */
	uint64_t *vis;
	size_t vis_cap, vis_count;

	/* freemap leaves, one slot per 1 GiB zone (NULL = no leaf) */
	hammer2_bmap_data_t **leaf;
	size_t nzones;

	/* freemap results */
	uint64_t leaked_bytes;
	uint64_t staged_bytes;
	/* referenced, free in a freemap older than the tree (freemap_tid) */
	uint64_t recover_bytes;
	uint64_t nleaves;
};

/* Remember the first operational failure (an errno) of the check. */
static inline void h2fsck_fail(struct h2fsck *ctx, int error)
{
	if (ctx->io_error == 0)
		ctx->io_error = error;
}

/*
 * Report a problem found in bref (NULL for one not tied to a blockref):
 * counts it as an error and reports "ERROR: <data_off> <type>
 * <key>/<bits> <message>" unless H2FSCK_MAX_PRINTED lines were already
 * reported.
 */
void h2fsck_error(struct h2fsck *ctx, const hammer2_blockref_t *bref,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same for a suspicious but legal state ("WARNING: ..."). */
void h2fsck_warn(struct h2fsck *ctx, const hammer2_blockref_t *bref,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Verbose-only line about a blockref, indented by depth. */
void h2fsck_trace(struct h2fsck *ctx, const hammer2_blockref_t *bref, int depth,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Printable name of a blockref type ("inode", "freemap_leaf", ...). */
const char *h2fsck_type_name(int type);

/*
 * Read exactly bytes at off into buf through ops->read.  Returns 0; -1
 * with ctx->io_error set when the device fails; 1 when the range lies
 * past the end of the device (a media problem, not an I/O failure).
 */
int h2fsck_read(struct h2fsck *ctx, void *buf, size_t bytes, uint64_t off);

/*
 * Walk both trees of the chosen volume header (ctx->vd), validating every
 * reachable blockref, then check media overlaps and the freemap against
 * the references.  Problems are reported through h2fsck_error/h2fsck_warn.
 * Returns 0, or -1 if memory ran out.
 */
int h2fsck_walk(struct h2fsck *ctx);

#endif /* HAMMER2_FSCK_INT_H */
