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
 *
 * The checks are hammer2_fsck() (hammer2_tools.h); this file opens the
 * target, reads it through a pread-based struct hammer2_devops and prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fs.h>

#include "fsck_hammer2.h"
#include "hammer2_tools.h"

static const char *progname = "fsck_hammer2";

/* The device being checked (ctx of the devops below). */
struct fsck_dev {
	int fd;
	const char *path;
};

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

/*
 * devops read: pread loop.  A failure is printed to stderr and returned
 * as its errno; a short read (the image shrank) is EIO.
 */
static int dev_read(void *ctx, void *buf, size_t bytes, uint64_t off)
{
	struct fsck_dev *dev = ctx;
	char *p = buf;

	while (bytes > 0) {
		ssize_t n = pread(dev->fd, p, bytes, (off_t)off);

		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			fprintf(stderr, "%s: %s: read at 0x%016jx: %s\n",
				progname, dev->path, (uintmax_t)off,
				strerror(e));
			return e ? e : EIO;
		}
		if (n == 0) {
			fprintf(stderr,
				"%s: %s: read at 0x%016jx: unexpected end "
				"of file\n",
				progname, dev->path, (uintmax_t)off);
			return EIO;
		}
		p += n;
		bytes -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/* hammer2_fsck() only reads: the other operations are never called. */
static const struct hammer2_devops dev_ops = {
	.read = dev_read,
};

/* hammer2_fsck() report function: one line to stdout. */
static void print_line(void *arg, const char *line)
{
	(void)arg;
	puts(line);
}

int main(int argc, char **argv)
{
	struct hammer2_fsck_result res;
	struct fsck_dev dev;
	struct stat st;
	uint64_t dev_size = 0;
	char sz[32];
	int ch, flags = 0, error, rc;

	opterr = 0;
	while ((ch = getopt(argc, argv, ":nvqh")) != -1) {
		switch (ch) {
		case 'n':
			break; /* never writes anyway */
		case 'v':
			flags |= HAMMER2_FSCK_VERBOSE;
			break;
		case 'q':
			flags |= HAMMER2_FSCK_QUIET;
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
	dev.path = argv[optind];

	dev.fd = open(dev.path, O_RDONLY);
	if (dev.fd < 0) {
		fprintf(stderr, "%s: cannot open %s: %s\n", progname, dev.path,
			strerror(errno));
		return FSCK_EXIT_OPERATIONAL;
	}
	if (fstat(dev.fd, &st) < 0) {
		fprintf(stderr, "%s: %s: %s\n", progname, dev.path,
			strerror(errno));
		return FSCK_EXIT_OPERATIONAL;
	}
	if (S_ISREG(st.st_mode)) {
		dev_size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(dev.fd, BLKGETSIZE64, &dev_size) < 0) {
			fprintf(stderr,
				"%s: %s: cannot get the device size: "
				"%s\n",
				progname, dev.path, strerror(errno));
			return FSCK_EXIT_OPERATIONAL;
		}
	} else {
		fprintf(stderr,
			"%s: %s is neither a regular file nor a block "
			"device\n",
			progname, dev.path);
		return FSCK_EXIT_OPERATIONAL;
	}
	if (!(flags & HAMMER2_FSCK_QUIET))
		printf("** %s: checking HAMMER2 volume (%s, read-only)\n",
		       dev.path, hammer2_size_str(dev_size, sz, sizeof(sz)));

	error = hammer2_fsck(&dev_ops, &dev, dev_size, flags, print_line, NULL,
			     &res);
	if (error == EINVAL) {
		if (dev_size < HAMMER2_VOLUME_BYTES)
			fprintf(stderr,
				"%s: %s: too small (%s) to hold a HAMMER2 "
				"volume header\n",
				progname, dev.path,
				hammer2_size_str(dev_size, sz, sizeof(sz)));
		else
			fprintf(stderr,
				"%s: %s: not a HAMMER2 file system (no volume "
				"header with the HAMMER2 magic)\n",
				progname, dev.path);
	} else if (error == ENOMEM) {
		fprintf(stderr, "%s: out of memory\n", progname);
	}

	if (error != 0) {
		printf("** %s: check could not be completed\n", dev.path);
		rc = FSCK_EXIT_OPERATIONAL;
	} else if (res.errors != 0) {
		printf("** %s: %ju error%s found, NOT corrected (checked "
		       "read-only)\n",
		       dev.path, (uintmax_t)res.errors,
		       res.errors == 1 ? "" : "s");
		rc = FSCK_EXIT_UNCORRECTED;
	} else {
		printf("** %s: clean (%ju warning%s)\n", dev.path,
		       (uintmax_t)res.warnings, res.warnings == 1 ? "" : "s");
		rc = FSCK_EXIT_OK;
	}
	close(dev.fd);
	return rc;
}
