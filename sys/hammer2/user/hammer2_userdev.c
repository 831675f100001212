/*
 * hammer2_userdev.c - struct hammer2_devops backed by a regular file or
 * a block device (see hammer2_user.h).
 */
#include "hammer2_user.h"

#include <fcntl.h>
#include <bsd/string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

struct hammer2_userdev {
	int fd;
	int rdonly;
	int is_blkdev;
	uint64_t size;
	int fake_time; /* HAMMER2_FAKE_TIME_US was set */
	uint64_t fake_time_us;
	int fake_random;    /* HAMMER2_FAKE_RANDOM_SEED was set */
	uint64_t rng_state; /* splitmix64 state */
	char name[256];	    /* the path opened, for log lines */
};

/* Parse a decimal or 0x-prefixed number from the environment. */
static int env_u64(const char *name, uint64_t *valp)
{
	const char *s = getenv(name);
	char *end;

	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	*valp = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0')
		return 0;
	return 1;
}

static int userdev_flush(void *ctx)
{
	struct hammer2_userdev *dev = ctx;

	if (dev->rdonly)
		return 0;
	while (fdatasync(dev->fd) < 0) {
		if (errno != EINTR)
			return errno ? errno : EIO;
	}
	return 0;
}

/*
 * preadv/pwritev of a run of buffers, restarted after short transfers and
 * EINTR.  0 or a positive errno (EIO for a transfer past the end).
 */
static int userdev_rwv(struct hammer2_userdev *dev, int write,
		       const struct hammer2_iov *hiov, int cnt, uint64_t off)
{
	struct iovec iov[HAMMER2_IOV_MAX];
	int i, first = 0;
	ssize_t n;

	if (cnt < 0 || cnt > HAMMER2_IOV_MAX)
		return EINVAL;
	if (write && dev->rdonly)
		return EROFS;
	for (i = 0; i < cnt; i++) {
		iov[i].iov_base = hiov[i].iov_base;
		iov[i].iov_len = hiov[i].iov_len;
	}
	while (first < cnt) {
		n = write ? pwritev(dev->fd, iov + first, cnt - first,
				    (off_t)off) :
			    preadv(dev->fd, iov + first, cnt - first,
				   (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno ? errno : EIO;
		}
		if (n == 0)
			return EIO;
		off += (uint64_t)n;
		while (first < cnt && (size_t)n >= iov[first].iov_len)
			n -= (ssize_t)iov[first++].iov_len;
		if (first < cnt) {
			iov[first].iov_base =
				(uint8_t *)iov[first].iov_base + n;
			iov[first].iov_len -= (size_t)n;
		}
	}
	return 0;
}

static int userdev_readv(void *ctx, const struct hammer2_iov *iov, int cnt,
			 uint64_t off)
{
	return userdev_rwv(ctx, 0, iov, cnt, off);
}

static int userdev_writev(void *ctx, const struct hammer2_iov *iov, int cnt,
			  uint64_t off)
{
	return userdev_rwv(ctx, 1, iov, cnt, off);
}

static int userdev_read(void *ctx, void *buf, size_t bytes, uint64_t off)
{
	struct hammer2_iov iov = { buf, bytes };

	return userdev_rwv(ctx, 0, &iov, 1, off);
}

static int userdev_write(void *ctx, const void *buf, size_t bytes, uint64_t off)
{
	struct hammer2_iov iov = { (void *)(uintptr_t)buf, bytes };

	return userdev_rwv(ctx, 1, &iov, 1, off);
}

static uint64_t userdev_time_us(void *ctx)
{
	struct hammer2_userdev *dev = ctx;
	struct timespec ts;

	if (dev->fake_time)
		return dev->fake_time_us;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL +
	       (uint64_t)ts.tv_nsec / 1000ULL;
}

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static void userdev_random(void *ctx, void *buf, size_t bytes)
{
	struct hammer2_userdev *dev = ctx;
	uint8_t *p = buf;
	uint64_t v;
	ssize_t n;
	size_t k;

	if (dev->fake_random) {
		while (bytes > 0) {
			v = splitmix64(&dev->rng_state);
			k = bytes < 8 ? bytes : 8;
			memcpy(p, &v, k);
			p += k;
			bytes -= k;
		}
		return;
	}
	while (bytes > 0) {
		n = getrandom(p, bytes, 0);
		if (n < 0) {
			/* getrandom(2) only fails on EINTR in practice. */
			H2_ASSERT(errno == EINTR);
			continue;
		}
		p += n;
		bytes -= (size_t)n;
	}
}

/* devops name: the path the device was opened by. */
static const char *userdev_name(void *ctx)
{
	return ((struct hammer2_userdev *)ctx)->name;
}

static const struct hammer2_devops userdev_ops = {
	.read = userdev_read,
	.write = userdev_write,
	.flush = userdev_flush,
	.time_us = userdev_time_us,
	.random = userdev_random,
	.readv = userdev_readv,
	.writev = userdev_writev,
	/* writev is synchronous: no wait */
	.name = userdev_name,
};

/* See hammer2_user.h. */
int hammer2_userdev_open(const char *path, int rdonly,
			 struct hammer2_userdev **devp)
{
	struct hammer2_userdev *dev;
	struct stat st;
	uint64_t size;
	int fd, error;

	if (path == NULL || devp == NULL)
		return EINVAL;
	fd = open(path, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) < 0) {
		error = errno;
		close(fd);
		return error;
	}
	if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
			error = errno;
			close(fd);
			return error;
		}
	} else {
		close(fd);
		return ENODEV;
	}
	dev = hammer2_alloc(sizeof(*dev));
	if (dev == NULL) {
		close(fd);
		return ENOMEM;
	}
	dev->fd = fd;
	dev->rdonly = rdonly ? 1 : 0;
	dev->is_blkdev = S_ISBLK(st.st_mode);
	dev->size = size;
	strlcpy(dev->name, path, sizeof(dev->name));
	dev->fake_time = env_u64("HAMMER2_FAKE_TIME_US", &dev->fake_time_us);
	dev->fake_random = env_u64("HAMMER2_FAKE_RANDOM_SEED", &dev->rng_state);
	*devp = dev;
	return 0;
}

/* See hammer2_user.h. */
uint64_t hammer2_userdev_size(struct hammer2_userdev *dev)
{
	return dev->size;
}

/* See hammer2_user.h. */
const struct hammer2_devops *hammer2_userdev_ops(void)
{
	return &userdev_ops;
}

/* See hammer2_user.h. */
void hammer2_userdev_close(struct hammer2_userdev *dev)
{
	if (dev == NULL)
		return;
	close(dev->fd);
	hammer2_free(dev);
}
