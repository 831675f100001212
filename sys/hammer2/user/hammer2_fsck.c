/*
 * hammer2_fsck.c - check a HAMMER2 volume through struct hammer2_devops
 * (read-only): the volume header copies here, the trees in
 * hammer2_fsck_walk.c.  See hammer2_tools.h for the interface and
 * hammer2_fsck_int.h for the shared state.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2_fsck_int.h"

/* Longest reported line; longer ones are truncated. */
#define H2FSCK_LINE_MAX 1024

/* Blockref type names: as fsck reports them and as hammer2 show does. */
static const struct {
	int type;
	const char *name, *show;
} bref_types[] = {
	{ HAMMER2_BREF_TYPE_EMPTY, "empty", "empty" },
	{ HAMMER2_BREF_TYPE_INODE, "inode", "inode" },
	{ HAMMER2_BREF_TYPE_INDIRECT, "indirect", "indblk" },
	{ HAMMER2_BREF_TYPE_DATA, "data", "data" },
	{ HAMMER2_BREF_TYPE_DIRENT, "dirent", "dirent" },
	{ HAMMER2_BREF_TYPE_FREEMAP_NODE, "freemap_node", "fmapnode" },
	{ HAMMER2_BREF_TYPE_FREEMAP_LEAF, "freemap_leaf", "fbitmap" },
	{ HAMMER2_BREF_TYPE_FREEMAP, "freemap", "freemap" },
	{ HAMMER2_BREF_TYPE_VOLUME, "volume", "volume" },
};

const char *hammer2_bref_type_name(int type, int show)
{
	for (size_t i = 0; i < sizeof(bref_types) / sizeof(bref_types[0]); i++)
		if (bref_types[i].type == type)
			return show ? bref_types[i].show : bref_types[i].name;
	return "unknown";
}

const char *h2fsck_type_name(int type)
{
	return hammer2_bref_type_name(type, 0);
}

/* Hand one finished line to the caller's report function. */
static void emit(struct h2fsck *ctx, const char *line)
{
	if (ctx->report != NULL)
		ctx->report(ctx->arg, line);
}

/* Report a plain line (printf format). */
static void __attribute__((format(printf, 2, 3)))
say(struct h2fsck *ctx, const char *fmt, ...)
{
	char line[H2FSCK_LINE_MAX];
	va_list ap;

	if (ctx->report == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	emit(ctx, line);
}

/* "<prefix><data_off> <type> <key>/<bits> <message>" or "<prefix>msg". */
static void vreport(struct h2fsck *ctx, const char *prefix, int indent,
		    const hammer2_blockref_t *bref, const char *fmt, va_list ap)
{
	char line[H2FSCK_LINE_MAX];
	int n;

	if (ctx->report == NULL)
		return;
	if (bref != NULL)
		n = snprintf(line, sizeof(line),
			     "%s%*s%016jx %-12s %016jx/%-2d ", prefix, indent,
			     "", (uintmax_t)bref->data_off,
			     h2fsck_type_name(bref->type), (uintmax_t)bref->key,
			     bref->keybits);
	else
		n = snprintf(line, sizeof(line), "%s", prefix);
	if (n < 0)
		n = 0;
	if ((size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	emit(ctx, line);
}

void h2fsck_error(struct h2fsck *ctx, const hammer2_blockref_t *bref,
		  const char *fmt, ...)
{
	va_list ap;

	ctx->nerrors++;
	if (ctx->nprinted >= H2FSCK_MAX_PRINTED) {
		if (ctx->nprinted++ == H2FSCK_MAX_PRINTED)
			say(ctx, "(further problems are counted but not "
				 "printed)");
		return;
	}
	ctx->nprinted++;
	va_start(ap, fmt);
	vreport(ctx, "ERROR: ", 0, bref, fmt, ap);
	va_end(ap);
}

void h2fsck_warn(struct h2fsck *ctx, const hammer2_blockref_t *bref,
		 const char *fmt, ...)
{
	va_list ap;

	ctx->nwarnings++;
	if (ctx->quiet || ctx->nprinted >= H2FSCK_MAX_PRINTED)
		return;
	ctx->nprinted++;
	va_start(ap, fmt);
	vreport(ctx, "WARNING: ", 0, bref, fmt, ap);
	va_end(ap);
}

void h2fsck_trace(struct h2fsck *ctx, const hammer2_blockref_t *bref, int depth,
		  const char *fmt, ...)
{
	va_list ap;

	if (!ctx->verbose)
		return;
	va_start(ap, fmt);
	vreport(ctx, "", depth * 2 > 80 ? 80 : depth * 2, bref, fmt, ap);
	va_end(ap);
}

int h2fsck_read(struct h2fsck *ctx, void *buf, size_t bytes, uint64_t off)
{
	int error;

	if (off >= ctx->dev_size || bytes > ctx->dev_size - off)
		return 1;
	error = ctx->ops->read(ctx->devctx, buf, bytes, off);
	if (error != 0) {
		h2fsck_fail(ctx, error > 0 ? error : EIO);
		return -1;
	}
	return 0;
}

const char *hammer2_size_str(uint64_t bytes, char *buf, size_t len)
{
	static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024.0 && u < 5) {
		v /= 1024.0;
		++u;
	}
	if (u == 0)
		snprintf(buf, len, "%ju B", (uintmax_t)bytes);
	else
		snprintf(buf, len, "%.2f %s", v, units[u]);
	return buf;
}

/* One volume header copy as read from the media. */
struct hdr_copy {
	int present; /* fits on the device and was read */
	int magic;   /* has the HAMMER2 magic (either byte order) */
	int valid;   /* magic and all three CRCs good */
	char why[160];
	hammer2_volume_data_t *vd;
};

/* Validate magic and the three CRCs of one copy; fills hc->why. */
static void check_copy(struct hdr_copy *hc)
{
	const hammer2_volume_data_t *vd = hc->vd;
	const uint8_t *p = (const uint8_t *)vd;
	uint32_t c0, c1, cvh;
	size_t n;

	if (vd->magic == HAMMER2_VOLUME_ID_ABO) {
		hc->magic = 1;
		snprintf(hc->why, sizeof(hc->why),
			 "reverse-endian volume "
			 "header (not supported)");
		return;
	}
	if (vd->magic != HAMMER2_VOLUME_ID_HBO) {
		snprintf(hc->why, sizeof(hc->why), "bad magic 0x%016jx",
			 (uintmax_t)vd->magic);
		return;
	}
	hc->magic = 1;
	c0 = hammer2_icrc32(p + HAMMER2_VOLUME_ICRC0_OFF,
			    HAMMER2_VOLUME_ICRC0_SIZE);
	c1 = hammer2_icrc32(p + HAMMER2_VOLUME_ICRC1_OFF,
			    HAMMER2_VOLUME_ICRC1_SIZE);
	cvh = hammer2_icrc32(p + HAMMER2_VOLUME_ICRCVH_OFF,
			     HAMMER2_VOLUME_ICRCVH_SIZE);
	n = 0;
	hc->why[0] = '\0';
	if (c0 != vd->icrc_sects[HAMMER2_VOL_ICRC_SECT0])
		n += (size_t)snprintf(hc->why + n, sizeof(hc->why) - n,
				      "sect0 CRC mismatch %08x/%08x ",
				      vd->icrc_sects[HAMMER2_VOL_ICRC_SECT0],
				      c0);
	if (c1 != vd->icrc_sects[HAMMER2_VOL_ICRC_SECT1] && n < sizeof(hc->why))
		n += (size_t)snprintf(hc->why + n, sizeof(hc->why) - n,
				      "sect1 CRC mismatch %08x/%08x ",
				      vd->icrc_sects[HAMMER2_VOL_ICRC_SECT1],
				      c1);
	if (cvh != vd->icrc_volheader && n < sizeof(hc->why))
		n += (size_t)snprintf(hc->why + n, sizeof(hc->why) - n,
				      "volume header CRC mismatch %08x/%08x ",
				      vd->icrc_volheader, cvh);
	if (n == 0) {
		hc->valid = 1;
	} else if (n < sizeof(hc->why)) {
		hc->why[n - 1] = '\0'; /* trailing space */
	}
}

/* Sanity of the fields of the chosen header (reported as errors). */
static void check_header_fields(struct h2fsck *ctx)
{
	const hammer2_volume_data_t *vd = ctx->vd;

	if (vd->version < HAMMER2_VOL_VERSION_MIN ||
	    vd->version > HAMMER2_VOL_VERSION_WIP)
		h2fsck_error(ctx, NULL, "volume header: unsupported version %u",
			     vd->version);
	if (vd->volu_size == 0 || (vd->volu_size & HAMMER2_VOLUME_ALIGNMASK64))
		h2fsck_error(ctx, NULL,
			     "volume header: volu_size 0x%016jx is "
			     "not a nonzero multiple of 8 MiB",
			     (uintmax_t)vd->volu_size);
	if (vd->volu_size > ctx->dev_size)
		h2fsck_error(ctx, NULL,
			     "volume header: volu_size 0x%016jx "
			     "exceeds the device size 0x%016jx",
			     (uintmax_t)vd->volu_size,
			     (uintmax_t)ctx->dev_size);
	if (!(vd->boot_beg <= vd->boot_end && vd->boot_end <= vd->aux_beg &&
	      vd->aux_beg <= vd->aux_end && vd->aux_end <= vd->volu_size))
		h2fsck_error(ctx, NULL,
			     "volume header: boot/aux areas "
			     "[0x%jx-0x%jx) [0x%jx-0x%jx) are inconsistent",
			     (uintmax_t)vd->boot_beg, (uintmax_t)vd->boot_end,
			     (uintmax_t)vd->aux_beg, (uintmax_t)vd->aux_end);
	if (vd->allocator_beg >= vd->volu_size ||
	    vd->allocator_beg < vd->aux_end)
		h2fsck_error(ctx, NULL,
			     "volume header: allocator_beg 0x%016jx "
			     "outside [aux_end, volu_size)",
			     (uintmax_t)vd->allocator_beg);
	if (vd->allocator_free > vd->allocator_size)
		h2fsck_warn(ctx, NULL,
			    "volume header: allocator_free %ju > "
			    "allocator_size %ju",
			    (uintmax_t)vd->allocator_free,
			    (uintmax_t)vd->allocator_size);
	if (vd->version >= HAMMER2_VOL_VERSION_MULTI_VOLUMES &&
	    (vd->nvolumes != 1 || vd->volu_id != 0))
		h2fsck_error(ctx, NULL,
			     "volume header: multi-volume file "
			     "systems (nvolumes %u, volu_id %u) are not "
			     "supported",
			     vd->nvolumes, vd->volu_id);
}

/*
 * Read and judge all volume header copies, choose the valid one with the
 * highest mirror_tid.  Returns 0 when one was chosen (ctx->vd set), -1
 * when none is valid (reported as errors), or an errno when checking
 * cannot run at all.
 */
static int read_headers(struct h2fsck *ctx, struct hdr_copy *hc)
{
	int i, any_magic = 0, nread = 0;

	ctx->best = -1;
	for (i = 0; i < HAMMER2_NUM_VOLHDRS; ++i) {
		uint64_t off = hammer2_volhdr_offset(i);
		int r;

		if (off >= ctx->dev_size ||
		    HAMMER2_VOLUME_BYTES > ctx->dev_size - off)
			break;
		hc[i].vd = malloc(sizeof(*hc[i].vd));
		if (hc[i].vd == NULL)
			return ENOMEM;
		r = h2fsck_read(ctx, hc[i].vd, sizeof(*hc[i].vd), off);
		if (r < 0)
			return ctx->io_error;
		if (r > 0)
			break;
		hc[i].present = 1;
		++nread;
		check_copy(&hc[i]);
		any_magic |= hc[i].magic;
		if (hc[i].valid &&
		    (ctx->best < 0 ||
		     hc[i].vd->mirror_tid > hc[ctx->best].vd->mirror_tid))
			ctx->best = i;
	}
	if (nread == 0 || !any_magic)
		return EINVAL; /* too small, or not HAMMER2 at all */
	if (ctx->best < 0) {
		for (i = 0; i < HAMMER2_NUM_VOLHDRS; ++i) {
			if (hc[i].present)
				h2fsck_error(
					ctx, NULL,
					"volume header copy %d "
					"(zone %d, offset 0x%016jx): %s",
					i, i,
					(uintmax_t)hammer2_volhdr_offset(i),
					hc[i].why);
		}
		h2fsck_error(ctx, NULL,
			     "no valid volume header copy: cannot "
			     "check further");
		return -1;
	}
	ctx->vd = hc[ctx->best].vd;
	ctx->volu_size = ctx->vd->volu_size;
	if (ctx->volu_size > ctx->dev_size)
		ctx->volu_size = ctx->dev_size;

	/* Judge every copy that belongs to the volume. */
	for (i = 0; i < HAMMER2_NUM_VOLHDRS; ++i) {
		uint64_t off = hammer2_volhdr_offset(i);

		if (off >= ctx->vd->volu_size)
			break;
		if (!hc[i].present) {
			h2fsck_error(ctx, NULL,
				     "volume header copy %d (zone %d, "
				     "offset 0x%016jx): cannot be read",
				     i, i, (uintmax_t)off);
		} else if (!hc[i].valid) {
			h2fsck_error(ctx, NULL,
				     "volume header copy %d (zone %d, "
				     "offset 0x%016jx): %s",
				     i, i, (uintmax_t)off, hc[i].why);
		} else if (memcmp(&hc[i].vd->fsid, &ctx->vd->fsid,
				  sizeof(ctx->vd->fsid)) != 0) {
			h2fsck_error(ctx, NULL,
				     "volume header copy %d (zone %d, "
				     "offset 0x%016jx): belongs to another "
				     "file system (fsid differs)",
				     i, i, (uintmax_t)off);
		} else if (!ctx->quiet) {
			say(ctx,
			    "volume header copy %d (zone %d, offset "
			    "0x%016jx): ok, mirror_tid 0x%016jx%s",
			    i, i, (uintmax_t)off,
			    (uintmax_t)hc[i].vd->mirror_tid,
			    i == ctx->best ? " (best)" : "");
		}
	}
	return 0;
}

static void report_summary(struct h2fsck *ctx)
{
	char sz[32];
	const uint64_t *v = ctx->count[0], *f = ctx->count[1];

	say(ctx,
	    "super-root tree: %ju blockrefs (%ju inode, %ju indirect, "
	    "%ju data, %ju dirent, %ju empty), %s",
	    (uintmax_t)(v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7]),
	    (uintmax_t)v[HAMMER2_BREF_TYPE_INODE],
	    (uintmax_t)v[HAMMER2_BREF_TYPE_INDIRECT],
	    (uintmax_t)v[HAMMER2_BREF_TYPE_DATA],
	    (uintmax_t)v[HAMMER2_BREF_TYPE_DIRENT], (uintmax_t)ctx->empty[0],
	    hammer2_size_str(ctx->bytes[0], sz, sizeof(sz)));
	say(ctx,
	    "freemap tree:    %ju blockrefs (%ju node, %ju leaf, %ju "
	    "empty), %s",
	    (uintmax_t)(f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7]),
	    (uintmax_t)f[HAMMER2_BREF_TYPE_FREEMAP_NODE],
	    (uintmax_t)f[HAMMER2_BREF_TYPE_FREEMAP_LEAF],
	    (uintmax_t)ctx->empty[1],
	    hammer2_size_str(ctx->bytes[1], sz, sizeof(sz)));
	say(ctx,
	    "freemap:         %ju leaves, leaked %ju bytes, staged-free "
	    "%ju bytes",
	    (uintmax_t)ctx->nleaves, (uintmax_t)ctx->leaked_bytes,
	    (uintmax_t)ctx->staged_bytes);
	if (ctx->vd->freemap_tid < ctx->vd->mirror_tid)
		say(ctx,
		    "freemap recovery: freemap_tid %ju < mirror_tid %ju, "
		    "%ju bytes referenced but free until the next "
		    "read-write mount marks them",
		    (uintmax_t)ctx->vd->freemap_tid,
		    (uintmax_t)ctx->vd->mirror_tid,
		    (uintmax_t)ctx->recover_bytes);
	if (ctx->dedup_refs)
		say(ctx, "shared data:     %ju deduplicated references",
		    (uintmax_t)ctx->dedup_refs);
}

int hammer2_fsck(const struct hammer2_devops *ops, void *devctx, uint64_t size,
		 int flags, void (*report)(void *arg, const char *line),
		 void *arg, struct hammer2_fsck_result *res)
{
	struct hdr_copy hc[HAMMER2_NUM_VOLHDRS];
	struct h2fsck ctx;
	int i, t, ty, rc;

	memset(&ctx, 0, sizeof(ctx));
	memset(hc, 0, sizeof(hc));
	ctx.ops = ops;
	ctx.devctx = devctx;
	ctx.report = report;
	ctx.arg = arg;
	ctx.quiet = (flags & HAMMER2_FSCK_QUIET) != 0;
	ctx.verbose = !ctx.quiet && (flags & HAMMER2_FSCK_VERBOSE) != 0;
	ctx.dev_size = size;

	rc = read_headers(&ctx, hc);
	if (rc == 0) {
		char uuid[37];

		check_header_fields(&ctx);
		if (!ctx.quiet) {
			hammer2_uuid_to_str(&ctx.vd->fsid, uuid);
			say(&ctx,
			    "using volume header copy %d: fsid %s, version "
			    "%u, volu_size 0x%016jx, allocator_beg 0x%016jx",
			    ctx.best, uuid, ctx.vd->version,
			    (uintmax_t)ctx.vd->volu_size,
			    (uintmax_t)ctx.vd->allocator_beg);
		}
		if (h2fsck_walk(&ctx) < 0)
			h2fsck_fail(&ctx, ENOMEM);
		if (!ctx.quiet)
			report_summary(&ctx);
		rc = ctx.io_error;
	} else if (rc < 0) {
		rc = 0; /* no valid header: a result, not a failure */
	}

	memset(res, 0, sizeof(*res));
	res->errors = ctx.nerrors;
	res->warnings = ctx.nwarnings;
	for (t = 0; t < 2; ++t) {
		for (ty = 1; ty < H2FSCK_NTYPES; ++ty)
			res->blockrefs += ctx.count[t][ty];
	}
	res->leaked_bytes = ctx.leaked_bytes;
	res->recover_bytes = ctx.recover_bytes;
	res->best_copy = ctx.vd != NULL ? ctx.best : -1;
	for (i = 0; i < HAMMER2_NUM_VOLHDRS; ++i)
		free(hc[i].vd);
	return rc;
}
