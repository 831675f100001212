/*
 * fsck_hammer2 - check a HAMMER2 file system (read-only).
 *
 * fsck_hammer2 [-n] [-v] [-q] IMAGE|DEVICE
 *
 *   -n  never write (the only mode for now: the checker does not repair)
 *   -v  print every blockref visited
 *   -q  quiet: print only problems and the final verdict
 *
 * Exit status (fsck(8)): 0 clean, 4 errors left uncorrected, 8 operational
 * error (cannot open or read, not a HAMMER2 volume).  A wrong command line
 * exits 2 instead of fsck(8)'s 16, per this project's convention for all
 * tools.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>

#include "fsck_hammer2.h"

static const char *progname = "fsck_hammer2";

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s [-n] [-v] [-q] IMAGE|DEVICE\n"
		"  -n  never write (checking only; the default for now)\n"
		"  -v  verbose: print every blockref\n"
		"  -q  quiet: print only problems and the verdict\n"
		"exit status: 0 clean, 4 errors left uncorrected, 8 operational "
		"error,\n"
		"             2 usage error (fsck(8) uses 16; this project uses "
		"2)\n",
		progname);
}

const char *fsck_type_name(int type)
{
	switch (type) {
	case HAMMER2_BREF_TYPE_EMPTY:
		return "empty";
	case HAMMER2_BREF_TYPE_INODE:
		return "inode";
	case HAMMER2_BREF_TYPE_INDIRECT:
		return "indirect";
	case HAMMER2_BREF_TYPE_DATA:
		return "data";
	case HAMMER2_BREF_TYPE_DIRENT:
		return "dirent";
	case HAMMER2_BREF_TYPE_FREEMAP_NODE:
		return "freemap_node";
	case HAMMER2_BREF_TYPE_FREEMAP_LEAF:
		return "freemap_leaf";
	case HAMMER2_BREF_TYPE_FREEMAP:
		return "freemap";
	case HAMMER2_BREF_TYPE_VOLUME:
		return "volume";
	}
	return "unknown";
}

static void vreport(struct fsck_ctx *ctx, const char *tag,
		    const hammer2_blockref_t *bref, const char *fmt, va_list ap)
{
	if (bref != NULL)
		printf("%s: %016jx %-12s %016jx/%-2d ", tag,
		       (uintmax_t)bref->data_off, fsck_type_name(bref->type),
		       (uintmax_t)bref->key, bref->keybits);
	else
		printf("%s: ", tag);
	vprintf(fmt, ap);
	putchar('\n');
	(void)ctx;
}

void fsck_error(struct fsck_ctx *ctx, const hammer2_blockref_t *bref,
		const char *fmt, ...)
{
	va_list ap;

	ctx->nerrors++;
	if (ctx->nprinted >= FSCK_MAX_PRINTED) {
		if (ctx->nprinted++ == FSCK_MAX_PRINTED)
			printf("(further problems are counted but not "
			       "printed)\n");
		return;
	}
	ctx->nprinted++;
	va_start(ap, fmt);
	vreport(ctx, "ERROR", bref, fmt, ap);
	va_end(ap);
}

void fsck_warn(struct fsck_ctx *ctx, const hammer2_blockref_t *bref,
	       const char *fmt, ...)
{
	va_list ap;

	ctx->nwarnings++;
	if (ctx->quiet || ctx->nprinted >= FSCK_MAX_PRINTED)
		return;
	ctx->nprinted++;
	va_start(ap, fmt);
	vreport(ctx, "WARNING", bref, fmt, ap);
	va_end(ap);
}

void fsck_trace(struct fsck_ctx *ctx, const hammer2_blockref_t *bref, int depth,
		const char *fmt, ...)
{
	va_list ap;

	if (!ctx->verbose)
		return;
	printf("%*s%016jx %-12s %016jx/%-2d ", depth * 2 > 80 ? 80 : depth * 2,
	       "", (uintmax_t)bref->data_off, fsck_type_name(bref->type),
	       (uintmax_t)bref->key, bref->keybits);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

int fsck_pread(struct fsck_ctx *ctx, void *buf, size_t bytes, uint64_t off)
{
	char *p = buf;

	if (off >= ctx->dev_size || bytes > ctx->dev_size - off)
		return 1;
	while (bytes > 0) {
		ssize_t n = pread(ctx->fd, p, bytes, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: %s: read at 0x%016jx: %s\n",
				progname, ctx->path, (uintmax_t)off,
				strerror(errno));
			ctx->io_error = 1;
			return -1;
		}
		if (n == 0)
			return 1; /* device shrank / short image */
		p += n;
		bytes -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static const char *size_str(uint64_t bytes, char *buf, size_t len)
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
static void check_header_fields(struct fsck_ctx *ctx)
{
	const hammer2_volume_data_t *vd = ctx->vd;

	if (vd->version < HAMMER2_VOL_VERSION_MIN ||
	    vd->version > HAMMER2_VOL_VERSION_WIP)
		fsck_error(ctx, NULL, "volume header: unsupported version %u",
			   vd->version);
	if (vd->volu_size == 0 || (vd->volu_size & HAMMER2_VOLUME_ALIGNMASK64))
		fsck_error(ctx, NULL,
			   "volume header: volu_size 0x%016jx is "
			   "not a nonzero multiple of 8 MiB",
			   (uintmax_t)vd->volu_size);
	if (vd->volu_size > ctx->dev_size)
		fsck_error(ctx, NULL,
			   "volume header: volu_size 0x%016jx "
			   "exceeds the device size 0x%016jx",
			   (uintmax_t)vd->volu_size, (uintmax_t)ctx->dev_size);
	if (!(vd->boot_beg <= vd->boot_end && vd->boot_end <= vd->aux_beg &&
	      vd->aux_beg <= vd->aux_end && vd->aux_end <= vd->volu_size))
		fsck_error(ctx, NULL,
			   "volume header: boot/aux areas "
			   "[0x%jx-0x%jx) [0x%jx-0x%jx) are inconsistent",
			   (uintmax_t)vd->boot_beg, (uintmax_t)vd->boot_end,
			   (uintmax_t)vd->aux_beg, (uintmax_t)vd->aux_end);
	if (vd->allocator_beg >= vd->volu_size ||
	    vd->allocator_beg < vd->aux_end)
		fsck_error(ctx, NULL,
			   "volume header: allocator_beg 0x%016jx "
			   "outside [aux_end, volu_size)",
			   (uintmax_t)vd->allocator_beg);
	if (vd->allocator_free > vd->allocator_size)
		fsck_warn(ctx, NULL,
			  "volume header: allocator_free %ju > "
			  "allocator_size %ju",
			  (uintmax_t)vd->allocator_free,
			  (uintmax_t)vd->allocator_size);
	if (vd->version >= HAMMER2_VOL_VERSION_MULTI_VOLUMES &&
	    (vd->nvolumes != 1 || vd->volu_id != 0))
		fsck_error(ctx, NULL,
			   "volume header: multi-volume file "
			   "systems (nvolumes %u, volu_id %u) are not "
			   "supported",
			   vd->nvolumes, vd->volu_id);
}

/*
 * Read and judge all volume header copies, choose the valid one with the
 * highest mirror_tid.  Returns 0 when one was chosen, FSCK_EXIT_* when
 * checking cannot go on.
 */
static int read_headers(struct fsck_ctx *ctx, struct hdr_copy *hc)
{
	int i, any_magic = 0, nread = 0;
	char sz[32];

	ctx->best = -1;
	for (i = 0; i < HAMMER2_NUM_VOLHDRS; ++i) {
		uint64_t off = hammer2_volhdr_offset(i);
		int r;

		if (off >= ctx->dev_size ||
		    HAMMER2_VOLUME_BYTES > ctx->dev_size - off)
			break;
		hc[i].vd = malloc(sizeof(*hc[i].vd));
		if (hc[i].vd == NULL) {
			fprintf(stderr, "%s: out of memory\n", progname);
			return FSCK_EXIT_OPERATIONAL;
		}
		r = fsck_pread(ctx, hc[i].vd, sizeof(*hc[i].vd), off);
		if (r < 0)
			return FSCK_EXIT_OPERATIONAL;
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
	if (nread == 0) {
		fprintf(stderr,
			"%s: %s: too small (%s) to hold a HAMMER2 "
			"volume header\n",
			progname, ctx->path,
			size_str(ctx->dev_size, sz, sizeof(sz)));
		return FSCK_EXIT_OPERATIONAL;
	}
	if (!any_magic) {
		fprintf(stderr,
			"%s: %s: not a HAMMER2 file system (no volume "
			"header with the HAMMER2 magic)\n",
			progname, ctx->path);
		return FSCK_EXIT_OPERATIONAL;
	}
	if (ctx->best < 0) {
		for (i = 0; i < HAMMER2_NUM_VOLHDRS; ++i) {
			if (hc[i].present)
				fsck_error(ctx, NULL,
					   "volume header copy %d "
					   "(zone %d, offset 0x%016jx): %s",
					   i, i,
					   (uintmax_t)hammer2_volhdr_offset(i),
					   hc[i].why);
		}
		fsck_error(ctx, NULL,
			   "no valid volume header copy: cannot "
			   "check further");
		return FSCK_EXIT_UNCORRECTED;
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
			fsck_error(ctx, NULL,
				   "volume header copy %d (zone %d, "
				   "offset 0x%016jx): cannot be read",
				   i, i, (uintmax_t)off);
		} else if (!hc[i].valid) {
			fsck_error(ctx, NULL,
				   "volume header copy %d (zone %d, "
				   "offset 0x%016jx): %s",
				   i, i, (uintmax_t)off, hc[i].why);
		} else if (memcmp(&hc[i].vd->fsid, &ctx->vd->fsid,
				  sizeof(ctx->vd->fsid)) != 0) {
			fsck_error(ctx, NULL,
				   "volume header copy %d (zone %d, "
				   "offset 0x%016jx): belongs to another file "
				   "system (fsid differs)",
				   i, i, (uintmax_t)off);
		} else if (!ctx->quiet) {
			printf("volume header copy %d (zone %d, offset "
			       "0x%016jx): ok, mirror_tid 0x%016jx%s\n",
			       i, i, (uintmax_t)off,
			       (uintmax_t)hc[i].vd->mirror_tid,
			       i == ctx->best ? " (best)" : "");
		}
	}
	return 0;
}

static void print_summary(const struct fsck_ctx *ctx)
{
	char sz[32];
	const uint64_t *v = ctx->count[0], *f = ctx->count[1];

	printf("super-root tree: %ju blockrefs (%ju inode, %ju indirect, "
	       "%ju data, %ju dirent, %ju empty), %s\n",
	       (uintmax_t)(v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7]),
	       (uintmax_t)v[HAMMER2_BREF_TYPE_INODE],
	       (uintmax_t)v[HAMMER2_BREF_TYPE_INDIRECT],
	       (uintmax_t)v[HAMMER2_BREF_TYPE_DATA],
	       (uintmax_t)v[HAMMER2_BREF_TYPE_DIRENT], (uintmax_t)ctx->empty[0],
	       size_str(ctx->bytes[0], sz, sizeof(sz)));
	printf("freemap tree:    %ju blockrefs (%ju node, %ju leaf, %ju "
	       "empty), %s\n",
	       (uintmax_t)(f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7]),
	       (uintmax_t)f[HAMMER2_BREF_TYPE_FREEMAP_NODE],
	       (uintmax_t)f[HAMMER2_BREF_TYPE_FREEMAP_LEAF],
	       (uintmax_t)ctx->empty[1],
	       size_str(ctx->bytes[1], sz, sizeof(sz)));
	printf("freemap:         %ju leaves, leaked %ju bytes, staged-free "
	       "%ju bytes\n",
	       (uintmax_t)ctx->nleaves, (uintmax_t)ctx->leaked_bytes,
	       (uintmax_t)ctx->staged_bytes);
	if (ctx->dedup_refs)
		printf("shared data:     %ju deduplicated references\n",
		       (uintmax_t)ctx->dedup_refs);
}

int main(int argc, char **argv)
{
	struct fsck_ctx ctx;
	struct hdr_copy hc[HAMMER2_NUM_VOLHDRS];
	struct stat st;
	char sz[32];
	int ch, i, rc;

	memset(&ctx, 0, sizeof(ctx));
	memset(hc, 0, sizeof(hc));
	opterr = 0;
	while ((ch = getopt(argc, argv, ":nvqh")) != -1) {
		switch (ch) {
		case 'n':
			break; /* never writes anyway */
		case 'v':
			ctx.verbose = 1;
			break;
		case 'q':
			ctx.quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return FSCK_EXIT_OK;
		case ':':
			fprintf(stderr, "%s: option -%c requires an argument\n",
				progname, optopt);
			usage(stderr);
			return FSCK_EXIT_USAGE;
		default:
			fprintf(stderr, "%s: unknown option -%c\n", progname,
				optopt);
			usage(stderr);
			return FSCK_EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "%s: %s\n", progname,
			argc - optind == 0 ? "missing IMAGE or DEVICE" :
					     "exactly one IMAGE or DEVICE");
		usage(stderr);
		return FSCK_EXIT_USAGE;
	}
	if (ctx.verbose && ctx.quiet)
		ctx.verbose = 0;
	ctx.path = argv[optind];

	ctx.fd = open(ctx.path, O_RDONLY);
	if (ctx.fd < 0) {
		fprintf(stderr, "%s: cannot open %s: %s\n", progname, ctx.path,
			strerror(errno));
		return FSCK_EXIT_OPERATIONAL;
	}
	if (fstat(ctx.fd, &st) < 0) {
		fprintf(stderr, "%s: %s: %s\n", progname, ctx.path,
			strerror(errno));
		return FSCK_EXIT_OPERATIONAL;
	}
	if (S_ISREG(st.st_mode)) {
		ctx.dev_size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(ctx.fd, BLKGETSIZE64, &ctx.dev_size) < 0) {
			fprintf(stderr,
				"%s: %s: cannot get the device size: "
				"%s\n",
				progname, ctx.path, strerror(errno));
			return FSCK_EXIT_OPERATIONAL;
		}
	} else {
		fprintf(stderr,
			"%s: %s is neither a regular file nor a block "
			"device\n",
			progname, ctx.path);
		return FSCK_EXIT_OPERATIONAL;
	}
	if (!ctx.quiet)
		printf("** %s: checking HAMMER2 volume (%s, read-only)\n",
		       ctx.path, size_str(ctx.dev_size, sz, sizeof(sz)));

	rc = read_headers(&ctx, hc);
	if (rc == 0) {
		char uuid[37];

		check_header_fields(&ctx);
		if (!ctx.quiet) {
			hammer2_uuid_to_str(&ctx.vd->fsid, uuid);
			printf("using volume header copy %d: fsid %s, version "
			       "%u, volu_size 0x%016jx, allocator_beg "
			       "0x%016jx\n",
			       ctx.best, uuid, ctx.vd->version,
			       (uintmax_t)ctx.vd->volu_size,
			       (uintmax_t)ctx.vd->allocator_beg);
		}
		if (fsck_walk(&ctx) < 0) {
			fprintf(stderr, "%s: out of memory\n", progname);
			ctx.io_error = 1;
		}
		if (!ctx.quiet)
			print_summary(&ctx);
		if (ctx.io_error)
			rc = FSCK_EXIT_OPERATIONAL;
		else if (ctx.nerrors)
			rc = FSCK_EXIT_UNCORRECTED;
	}
	if (rc == FSCK_EXIT_UNCORRECTED || (rc == 0 && ctx.nerrors)) {
		printf("** %s: %ju error%s found, NOT corrected (checked "
		       "read-only)\n",
		       ctx.path, (uintmax_t)ctx.nerrors,
		       ctx.nerrors == 1 ? "" : "s");
	} else if (rc == 0) {
		printf("** %s: clean (%ju warning%s)\n", ctx.path,
		       (uintmax_t)ctx.nwarnings, ctx.nwarnings == 1 ? "" : "s");
	} else if (rc == FSCK_EXIT_OPERATIONAL) {
		printf("** %s: check could not be completed\n", ctx.path);
	}
	for (i = 0; i < HAMMER2_NUM_VOLHDRS; ++i)
		free(hc[i].vd);
	close(ctx.fd);
	return rc;
}
