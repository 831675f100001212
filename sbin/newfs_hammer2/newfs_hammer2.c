/*
 * newfs_hammer2 - construct a new HAMMER2 file system.
 *
 * newfs_hammer2 [-f] [-L label[,label...]] [-s size] [-b bootsize]
 *               [-r auxsize] [-V version] [-C check] [-c comp] DEVICE|IMAGE
 *
 * Exit status: 0 success, 1 error (cannot open/write, volume too small),
 * 2 wrong command line (usage printed to stderr).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>

#include "hammer2_tools.h"
#include "hammer2_user.h"
#include "newfs_hammer2.h"

/* DragonFly refuses -s below one freemap level-1 zone (1 GiB). */
#define NEWFS_MIN_FS_SIZE HAMMER2_FREEMAP_LEVEL1_SIZE

static const char *progname = "newfs_hammer2";

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: %s [-f] [-L label[,label...]] [-s size] [-b bootsize]\n"
		"       [-r auxsize] [-V version] [-C check] [-c comp] "
		"DEVICE|IMAGE\n"
		"  -L label  PFS labels to create besides LOCAL (default DATA,\n"
		"            'none' for LOCAL only, at most %d)\n"
		"  -s size   file system size (k/m/g/t suffixes, >= 1g); an\n"
		"            image file is created or resized to it\n"
		"  -b size   boot area size (multiple of 8m, max 256m)\n"
		"  -r size   aux area size (multiple of 8m, max 1g)\n"
		"  -V ver    volume version %d..%d (default %d)\n"
		"  -C check  none|disabled|crc32|xxhash64|sha192 (default "
		"xxhash64)\n"
		"  -c comp   none|autozero|lz4|zlib[:level] (default lz4)\n"
		"  -f        force (accepted for compatibility)\n"
		"exit status: 0 ok, 1 error, 2 usage error\n",
		progname, NEWFS_MAX_USER_LABELS, HAMMER2_VOL_VERSION_MIN,
		HAMMER2_VOL_VERSION_WIP - 1, HAMMER2_VOL_VERSION_DEFAULT);
}

/*
 * Print "newfs_hammer2: MESSAGE" on stderr (and the usage after it when
 * status is NEWFS_EXIT_USAGE), then exit with status.
 */
static void __attribute__((noreturn, format(printf, 2, 3)))
die(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (status == NEWFS_EXIT_USAGE)
		usage(stderr);
	exit(status);
}

/* A wrong command line: the message, the usage, exit status 2. */
#define usage_error(...) die(NEWFS_EXIT_USAGE, __VA_ARGS__)
/* Any other error: the message, exit status 1. */
#define fatal(...) die(NEWFS_EXIT_ERROR, __VA_ARGS__)

/*
 * Parse a byte count with an optional k/m/g/t suffix (powers of 1024).
 * Returns 0 and *out, or -1 if the text is not a valid size or overflows.
 */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s)
		return -1;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	default:
		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* Parse -b/-r: a multiple of 8 MiB within [8 MiB, max]. */
static uint64_t parse_area(const char *opt, const char *s, uint64_t max)
{
	uint64_t v;

	if (parse_size(s, &v) < 0)
		usage_error("-%s: invalid size '%s'", opt, s);
	if (v < HAMMER2_VOLUME_ALIGN || v > max)
		usage_error("-%s: size '%s' out of range (8m..%" PRIu64 "m)",
			    opt, s, max >> 20);
	if (v & HAMMER2_VOLUME_ALIGNMASK64)
		usage_error("-%s: size '%s' is not a multiple of 8m", opt, s);
	return v;
}

/* -C names (DragonFly's and a few aliases); -1 if unknown. */
static int parse_check(const char *s)
{
	static const struct {
		const char *name;
		int algo;
	} tab[] = {
		{ "none", HAMMER2_CHECK_NONE },
		{ "disabled", HAMMER2_CHECK_DISABLED },
		{ "off", HAMMER2_CHECK_DISABLED },
		{ "crc32", HAMMER2_CHECK_ISCSI32 },
		{ "iscsi32", HAMMER2_CHECK_ISCSI32 },
		{ "icrc32", HAMMER2_CHECK_ISCSI32 },
		{ "crc", HAMMER2_CHECK_ISCSI32 },
		{ "xxhash64", HAMMER2_CHECK_XXHASH64 },
		{ "xxhash", HAMMER2_CHECK_XXHASH64 },
		{ "sha192", HAMMER2_CHECK_SHA192 },
		{ "default", HAMMER2_CHECK_DEFAULT },
	};
	size_t i;

	for (i = 0; i < H2_ARRAY_SIZE(tab); ++i) {
		if (strcasecmp(s, tab[i].name) == 0)
			return HAMMER2_ENC_ALGO(tab[i].algo);
	}
	return -1;
}

/* -c: none|autozero|lz4|zlib[:level]; encoded comp_algo or -1. */
static int parse_comp(const char *s)
{
	char name[16];
	const char *colon = strchr(s, ':');
	size_t len = colon ? (size_t)(colon - s) : strlen(s);
	int algo, level = 0;

	if (len == 0 || len >= sizeof(name))
		return -1;
	memcpy(name, s, len);
	name[len] = '\0';
	if (strcasecmp(name, "none") == 0 || strcasecmp(name, "off") == 0)
		algo = HAMMER2_COMP_NONE;
	else if (strcasecmp(name, "autozero") == 0)
		algo = HAMMER2_COMP_AUTOZERO;
	else if (strcasecmp(name, "lz4") == 0 ||
		 strcasecmp(name, "default") == 0)
		algo = HAMMER2_COMP_LZ4;
	else if (strcasecmp(name, "zlib") == 0)
		algo = HAMMER2_COMP_ZLIB;
	else
		return -1;
	if (colon) {
		char *end;
		long v;

		if (algo != HAMMER2_COMP_ZLIB)
			return -1; /* only zlib takes a level */
		v = strtol(colon + 1, &end, 10);
		if (end == colon + 1 || *end != '\0' || v < 1 || v > 9)
			return -1;
		level = (int)v;
	}
	return HAMMER2_ENC_LEVEL(level) | HAMMER2_ENC_ALGO(algo);
}

/* Add the comma-separated labels of one -L argument. */
static void add_labels(struct hammer2_newfs_opts *opt, char *arg, int *none)
{
	char *save = NULL, *tok;
	int i;

	if (*arg == '\0')
		usage_error("-L: empty label");
	for (tok = strtok_r(arg, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (strcasecmp(tok, "none") == 0) {
			*none = 1;
			continue;
		}
		if (strlen(tok) > NEWFS_LABEL_MAX)
			usage_error("-L: label '%.32s...' is too long (%d "
				    "chars max)",
				    tok, NEWFS_LABEL_MAX);
		if (strchr(tok, '/') != NULL)
			usage_error("-L: label '%s' contains '/'", tok);
		for (i = 0; i < opt->nlabels; ++i) {
			if (strcmp(opt->labels[i], tok) == 0)
				usage_error("-L: label '%s' given twice (LOCAL "
					    "is always created)",
					    tok);
		}
		if (opt->nlabels >= NEWFS_MAX_PFS)
			usage_error("-L: too many labels: at most %d besides "
				    "LOCAL fit in the super-root",
				    NEWFS_MAX_USER_LABELS);
		opt->labels[opt->nlabels++] = tok;
	}
}

/* Refuse labels whose directory hashes collide (same blockset key). */
static void check_label_keys(const struct hammer2_newfs_opts *opt)
{
	hammer2_key_t keys[NEWFS_MAX_PFS];
	int i, j;

	for (i = 0; i < opt->nlabels; ++i) {
		keys[i] = hammer2_dirhash((const unsigned char *)opt->labels[i],
					  strlen(opt->labels[i]));
		for (j = 0; j < i; ++j) {
			if (keys[i] == keys[j])
				usage_error("-L: labels '%s' and '%s' have the "
					    "same directory hash",
					    opt->labels[j], opt->labels[i]);
		}
	}
}

/* Size of a block device in bytes, or -1 with errno. */
static int blkdev_size(int fd, uint64_t *bytes)
{
	return ioctl(fd, BLKGETSIZE64, bytes);
}

const char *newfs_sizestr(uint64_t bytes, char *buf, size_t bufsize)
{
	const double k = 1024.0;
	double v = (double)bytes;

	if (bytes < 512)
		snprintf(buf, bufsize, "%6.2f", v);
	else if (bytes < 512ULL * 1024)
		snprintf(buf, bufsize, "%6.2fKB", v / k);
	else if (bytes < 512ULL * 1024 * 1024)
		snprintf(buf, bufsize, "%6.2fMB", v / (k * k));
	else if (bytes < 512ULL * 1024 * 1024 * 1024)
		snprintf(buf, bufsize, "%6.2fGB", v / (k * k * k));
	else
		snprintf(buf, bufsize, "%6.2fTB", v / (k * k * k * k));
	return buf;
}

static int pwrite_all(int fd, const void *buf, size_t bytes, uint64_t off)
{
	const char *p = buf;

	while (bytes > 0) {
		ssize_t n = pwrite(fd, p, bytes, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		bytes -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * Make [off, off + bytes) read back as zeros: punch a hole in a regular
 * file (keeps images sparse), write zeros otherwise or as a fallback.
 * Returns 0 or -1 with errno.
 */
static int zero_range(int fd, int is_regular, uint64_t off, uint64_t bytes)
{
	static const char zeros[HAMMER2_PBUFSIZE];

	if (is_regular &&
	    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)bytes) == 0)
		return 0;
	while (bytes > 0) {
		size_t n = bytes > sizeof(zeros) ? sizeof(zeros) : bytes;

		if (pwrite_all(fd, zeros, n, off) < 0)
			return -1;
		off += n;
		bytes -= n;
	}
	return 0;
}

/*
 * Print the DragonFly-style summary of the volume just written, reading
 * its volume header and inode block back through ops/ctx.  Returns 0 or
 * an errno of the read.
 */
static int print_summary(const struct hammer2_devops *ops, void *ctx,
			 const struct hammer2_newfs_opts *opt,
			 const struct hammer2_newfs_layout *lay)
{
	hammer2_volume_data_t *vd = malloc(sizeof(*vd));
	unsigned char *blk = malloc(HAMMER2_PBUFSIZE);
	const hammer2_inode_data_t *ip;
	char sz[32], uuid[37];
	int i, error;

	if (vd == NULL || blk == NULL) {
		error = ENOMEM;
		goto out;
	}
	error = ops->read(ctx, vd, sizeof(*vd), hammer2_volhdr_offset(0));
	if (error == 0)
		error = ops->read(ctx, blk, HAMMER2_PBUFSIZE, lay->inode_base);
	if (error != 0)
		goto out;
	printf("---------------------------------------------\n");
	printf("version:          %u\n", vd->version);
	printf("total-size:       %s (%ju bytes)\n",
	       newfs_sizestr(lay->volu_size, sz, sizeof(sz)),
	       (uintmax_t)lay->volu_size);
	printf("boot-area-size:   %s (%ju bytes)\n",
	       newfs_sizestr(lay->boot_bytes, sz, sizeof(sz)),
	       (uintmax_t)lay->boot_bytes);
	printf("aux-area-size:    %s (%ju bytes)\n",
	       newfs_sizestr(lay->aux_bytes, sz, sizeof(sz)),
	       (uintmax_t)lay->aux_bytes);
	printf("topo-reserved:    %s (%ju bytes)\n",
	       newfs_sizestr(lay->reserved_bytes, sz, sizeof(sz)),
	       (uintmax_t)lay->reserved_bytes);
	printf("free-size:        %s (%ju bytes)\n",
	       newfs_sizestr(lay->free_bytes, sz, sizeof(sz)),
	       (uintmax_t)lay->free_bytes);
	printf("allocator-beg:    0x%016jx\n", (uintmax_t)lay->allocator_beg);
	printf("freemap:          empty (leaves created on first allocation)\n");
	printf("volume-headers:   %d\n", lay->nhdrs);
	hammer2_uuid_to_str(&vd->fsid, uuid);
	printf("vol-fsid:         %s\n", uuid);
	ip = (const hammer2_inode_data_t *)blk; /* the super-root */
	hammer2_uuid_to_str(&ip->meta.pfs_clid, uuid);
	printf("sup-clid:         %s\n", uuid);
	hammer2_uuid_to_str(&ip->meta.pfs_fsid, uuid);
	printf("sup-fsid:         %s\n", uuid);
	for (i = 0; i < opt->nlabels; ++i) {
		ip = (const hammer2_inode_data_t *)(blk +
						    (size_t)(i + 1) *
							    HAMMER2_INODE_BYTES);
		printf("PFS \"%s\"\n", opt->labels[i]);
		hammer2_uuid_to_str(&ip->meta.pfs_clid, uuid);
		printf("    clid %s\n", uuid);
		hammer2_uuid_to_str(&ip->meta.pfs_fsid, uuid);
		printf("    fsid %s\n", uuid);
	}
out:
	free(vd);
	free(blk);
	return error;
}

int main(int argc, char **argv)
{
	struct hammer2_newfs_opts opt;
	struct hammer2_newfs_layout lay;
	const struct hammer2_devops *ops = hammer2_userdev_ops();
	struct hammer2_userdev *udev = NULL;
	struct stat st;
	uint64_t fs_size = 0, target;
	const char *path, *why = NULL;
	char sz[32];
	int size_given = 0, labels_given = 0, none = 0, force = 0;
	int ch, fd, error, existed = 1, created = 0, is_regular;

	hammer2_newfs_defaults(&opt);
	opt.nlabels = 1; /* LOCAL; DATA unless -L is given */

	opterr = 0;
	while ((ch = getopt(argc, argv, ":fhL:s:b:r:V:C:c:")) != -1) {
		switch (ch) {
		case 'f':
			force = 1;
			break;
		case 'h':
			usage(stdout);
			return NEWFS_EXIT_OK;
		case 'L':
			labels_given = 1;
			add_labels(&opt, optarg, &none);
			break;
		case 's':
			if (parse_size(optarg, &fs_size) < 0)
				usage_error("-s: invalid size '%s'", optarg);
			size_given = 1;
			break;
		case 'b':
			opt.boot_bytes =
				parse_area("b", optarg, HAMMER2_BOOT_MAX_BYTES);
			break;
		case 'r':
			opt.aux_bytes =
				parse_area("r", optarg, HAMMER2_AUX_MAX_BYTES);
			break;
		case 'V': {
			char *end;
			long v = strtol(optarg, &end, 0);

			if (end == optarg || *end != '\0' ||
			    v < HAMMER2_VOL_VERSION_MIN ||
			    v >= HAMMER2_VOL_VERSION_WIP)
				usage_error("-V: cannot format HAMMER2 version "
					    "'%s' (supported %d..%d)",
					    optarg, HAMMER2_VOL_VERSION_MIN,
					    HAMMER2_VOL_VERSION_WIP - 1);
			opt.version = (int)v;
			break;
		}
		case 'C':
			opt.check_algo = parse_check(optarg);
			if (opt.check_algo < 0)
				usage_error("-C: unknown check method '%s'",
					    optarg);
			break;
		case 'c':
			opt.comp_algo = parse_comp(optarg);
			if (opt.comp_algo < 0)
				usage_error("-c: unknown compression '%s'",
					    optarg);
			break;
		case ':':
			usage_error("option -%c requires an argument", optopt);
		default:
			usage_error("unknown option -%c", optopt);
		}
	}
	(void)none;
	(void)force;
	if (optind >= argc)
		usage_error("missing DEVICE or IMAGE");
	if (argc - optind > 1)
		usage_error("exactly one DEVICE or IMAGE must be given");
	path = argv[optind];
	if (*path == '\0')
		usage_error("empty DEVICE or IMAGE name");
	if (!labels_given)
		opt.labels[opt.nlabels++] = "DATA";
	check_label_keys(&opt);

	if (size_given && fs_size < NEWFS_MIN_FS_SIZE)
		fatal("volume size %s is too small: the minimum is 1 GiB",
		      newfs_sizestr(fs_size, sz, sizeof(sz)));

	/* Find out what we are formatting and how big it will be. */
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			fatal("%s: %s", path, strerror(errno));
		existed = 0;
		if (!size_given)
			fatal("%s does not exist (use -s SIZE to create an "
			      "image file)",
			      path);
		is_regular = 1;
		target = fs_size;
	} else if (S_ISREG(st.st_mode)) {
		is_regular = 1;
		target = size_given ? fs_size : (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		is_regular = 0;
		target = 0;
	} else {
		fatal("%s is neither a block device nor a regular file", path);
	}

	if (!is_regular) {
		uint64_t devsize;

		fd = open(path, O_RDWR | O_EXCL);
		if (fd < 0)
			fatal("cannot open %s read-write: %s", path,
			      strerror(errno));
		if (blkdev_size(fd, &devsize) < 0)
			fatal("%s: cannot get the device size: %s", path,
			      strerror(errno));
		if (size_given && fs_size > devsize)
			fatal("-s %s exceeds the size of %s",
			      newfs_sizestr(fs_size, sz, sizeof(sz)), path);
		target = size_given ? fs_size : devsize;
	} else {
		fd = -1;
	}

	if (hammer2_newfs_layout(target, &opt, &lay, &why) != 0) {
		fatal("%s (%s): volume too small: %s", path,
		      newfs_sizestr(target, sz, sizeof(sz)), why);
	}

	if (is_regular) {
		fd = open(path, O_RDWR | O_CREAT, 0644);
		if (fd < 0)
			fatal("cannot open %s read-write: %s", path,
			      strerror(errno));
		if (fstat(fd, &st) < 0)
			fatal("%s: %s", path, strerror(errno));
		created = !existed;
		if ((size_given || (uint64_t)st.st_size != target) &&
		    ftruncate(fd, (off_t)target) < 0) {
			int e = errno;

			if (created)
				unlink(path);
			fatal("%s: cannot set size to %ju bytes: %s", path,
			      (uintmax_t)target, strerror(e));
		}
	}

	error = hammer2_userdev_open(path, 0, &udev);
	if (error != 0) {
		if (created)
			unlink(path);
		fatal("cannot open %s read-write: %s", path, strerror(error));
	}

	printf("Volume %-15s size %s\n", path,
	       newfs_sizestr(target, sz, sizeof(sz)));
	/*
	 * Clear the first reserved segment and the boot/aux areas (holes in
	 * an image), then let the library write the file system.
	 */
	if (zero_range(fd, is_regular, 0, HAMMER2_ZONE_SEG64) < 0 ||
	    zero_range(fd, is_regular, lay.boot_beg,
		       lay.inode_base - lay.boot_beg) < 0) {
		error = errno;
		why = "clearing reserved areas";
	} else {
		error = hammer2_newfs(ops, udev, target, &opt, &why);
		if (error == 0) {
			error = print_summary(ops, udev, &opt, &lay);
			why = "reading the new volume back";
		}
	}
	hammer2_userdev_close(udev);
	if (error != 0) {
		fprintf(stderr, "%s: %s: %s: %s\n", progname, path, why,
			strerror(error));
		close(fd);
		if (created)
			unlink(path);
		return NEWFS_EXIT_ERROR;
	}
	if (close(fd) < 0)
		fatal("%s: close: %s", path, strerror(errno));
	return NEWFS_EXIT_OK;
}
