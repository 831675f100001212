/*
 * fsck_hammer2.h - shared state of the fsck_hammer2 checker.
 *
 * fsck_hammer2.c  command line, volume header copies, summary, exit code.
 * fsck_walk.c     blockref tree walk (super-root and freemap trees),
 *                 media overlap check and freemap-versus-references check.
 *
 * The checker reads the device with pread only and never trusts a media
 * value before bounds-checking it; it does not use the core's chain
 * layer so that it stays an independent opinion on the media.
 */
#ifndef FSCK_HAMMER2_H
#define FSCK_HAMMER2_H

#include <stdint.h>
#include <stdio.h>

#include "hammer2.h"

/*
 * Exit codes, fsck(8) style.  fsck(8) documents 16 for usage errors, but
 * this project's rule is that a wrong command line prints the usage and
 * exits 2, so FSCK_EXIT_USAGE is 2.
 */
#define FSCK_EXIT_OK 0
#define FSCK_EXIT_USAGE 2
#define FSCK_EXIT_UNCORRECTED 4
#define FSCK_EXIT_OPERATIONAL 8

#define FSCK_MAX_DEPTH 40     /* blockref recursion limit */
#define FSCK_MAX_PRINTED 1000 /* error lines printed before muting */
#define FSCK_NTYPES 8	      /* on-media bref types 0..7 */

/* One referenced piece of media (for overlap and freemap checks). */
struct fsck_extent {
	uint64_t off;	/* byte offset */
	uint32_t bytes; /* physical bytes */
	uint8_t type;	/* HAMMER2_BREF_TYPE_* */
	uint8_t keybits;
	hammer2_off_t data_off; /* for messages */
	hammer2_key_t key;
};

struct fsck_ctx {
	int fd;
	const char *path;
	int verbose;
	int quiet;

	uint64_t dev_size;  /* bytes readable on the device/image */
	uint64_t volu_size; /* bound for blocks: min(volu_size, dev_size) */
	hammer2_volume_data_t *vd; /* chosen volume header */
	int best;		   /* index of the chosen copy */

	uint64_t nerrors;
	uint64_t nwarnings;
	uint64_t nprinted;
	int io_error; /* a read failed: operational error */

	/* statistics per tree: [0] super-root tree, [1] freemap tree */
	uint64_t count[2][FSCK_NTYPES];
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
	uint64_t nleaves;
};

/*
 * Report a problem found in bref (NULL for one not tied to a blockref):
 * counts it as an error and prints "ERROR: <data_off> <type> <key>/<bits>
 * <message>" unless FSCK_MAX_PRINTED lines were already printed.
 */
void fsck_error(struct fsck_ctx *ctx, const hammer2_blockref_t *bref,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same for a suspicious but legal state; does not change the exit code. */
void fsck_warn(struct fsck_ctx *ctx, const hammer2_blockref_t *bref,
	       const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Verbose-only line about a blockref (printed when -v). */
void fsck_trace(struct fsck_ctx *ctx, const hammer2_blockref_t *bref, int depth,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Printable name of a blockref type ("inode", "freemap_leaf", ...). */
const char *fsck_type_name(int type);

/*
 * Read exactly bytes at off into buf with pread.  Returns 0; -1 with
 * ctx->io_error set when the device fails; 1 when the range lies past
 * the end of the device (a media problem, not an I/O failure).
 */
int fsck_pread(struct fsck_ctx *ctx, void *buf, size_t bytes, uint64_t off);

/*
 * Walk both trees of the chosen volume header (ctx->vd), validating every
 * reachable blockref, then check media overlaps and the freemap against
 * the references.  Problems are reported through fsck_error/fsck_warn.
 * Returns 0, or -1 if memory ran out (reported as operational error).
 */
int fsck_walk(struct fsck_ctx *ctx);

#endif /* FSCK_HAMMER2_H */
