/*
 * hammer2_user.h - userland helpers around the core: a file or block
 * device backed struct hammer2_devops.
 *
 * Typical use:
 *
 *	struct hammer2_userdev *dev;
 *	hammer2_dev_t *hmp;
 *	int error = hammer2_userdev_open(path, rdonly, &dev);
 *	if (error == 0)
 *		error = hammer2_dev_open(hammer2_userdev_ops(), dev,
 *					 hammer2_userdev_size(dev), flags,
 *					 &hmp);
 *	...
 *	hammer2_dev_close(hmp);
 *	hammer2_userdev_close(dev);
 *
 * Environment (for reproducible tests and the simulator's replays):
 *   HAMMER2_FAKE_TIME_US      if set to a decimal (or 0x-hex) number,
 *                             time_us() returns exactly that value.
 *   HAMMER2_FAKE_RANDOM_SEED  if set, random() returns a deterministic
 *                             pseudo-random stream seeded from it (per
 *                             open device) instead of getrandom(2).
 * Both are read when the device is opened.
 */
#ifndef HAMMER2_USER_H
#define HAMMER2_USER_H

#include "../hammer2.h"

struct hammer2_userdev;

/*
 * Open path (regular file or block device) for HAMMER2 I/O, read-only
 * when rdonly is nonzero.  On success stores a new handle in *devp and
 * returns 0; otherwise returns an errno (ENOENT, EACCES, EROFS, ENODEV
 * for other file types, ENOMEM, ...) and leaves *devp untouched.
 */
int hammer2_userdev_open(const char *path, int rdonly,
			 struct hammer2_userdev **devp);

/*
 * Size in bytes of the opened file (st_size) or block device
 * (BLKGETSIZE64), as determined at open time.
 */
uint64_t hammer2_userdev_size(struct hammer2_userdev *dev);

/*
 * The devops table to pass to hammer2_dev_open() together with the
 * handle as ctx.  read/write use pread/pwrite loops (a short transfer is
 * EIO, writes on a read-only handle are EROFS), flush is fdatasync,
 * time_us is CLOCK_REALTIME in microseconds, random is getrandom(2).
 */
const struct hammer2_devops *hammer2_userdev_ops(void);

/* Close the descriptor and free the handle (NULL allowed). */
void hammer2_userdev_close(struct hammer2_userdev *dev);

#endif /* HAMMER2_USER_H */
