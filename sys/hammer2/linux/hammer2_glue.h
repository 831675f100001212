/*
 * hammer2_glue.h - internal interface of the Linux VFS glue
 * (hammer2_vfs.c, hammer2_vnops.c, hammer2_bdev.c).
 *
 * Locking model: the core serialises itself on the device lock
 * (hmp->lock), which every hammer2_vfsops.h call takes and releases.  The
 * glue never holds it across a call into the VFS or the page cache, and
 * never passes user memory to the core: a page fault inside a core call
 * could re-enter the filesystem (read_folio) and deadlock on that lock.
 * The VFS locks (i_rwsem, folio locks, s_umount) are always taken before,
 * never inside, a core call.
 *
 * Only included by the glue's .c files, after the kernel headers.
 */
#ifndef HAMMER2_GLUE_H
#define HAMMER2_GLUE_H

#include "hammer2_vfsops.h"

#include <linux/fs.h>
#include <linux/list.h>
#include <linux/moduleparam.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#define H2_SUPER_MAGIC 0x48414d32 /* "HAM2": statfs f_type */
#define H2_FLUSH_INTERVAL (5 * HZ)

/* The hammer2_devops context of one block device (hammer2_bdev.c). */
struct h2_bio_batch {
	atomic_t inflight;	/* bios submitted, not completed */
	int error;		/* EIO once a bio failed, or 0 */
	wait_queue_head_t idle; /* woken when inflight drops to 0 */
};

struct h2_bdev {
	struct block_device *bdev;
	u64 bytes;		   /* device size */
	struct h2_bio_batch async; /* writev bios, collected by wait */
	char name[32];		   /* for log lines (devops name) */
	/*
	 * Direct writes (devops direct_*): the bios of two epochs; the core
	 * flips direct_epoch (direct_fence) under its device lock and waits
	 * for the other one (direct_wait).
	 */
	struct h2_bio_batch direct[2];
	unsigned int direct_epoch;
};

/* Set up the devops context of bdev (size from bdev_nr_bytes). */
void h2_bdev_init(struct h2_bdev *d, struct block_device *bdev);

extern const struct hammer2_devops h2_bdev_ops;

/* Read-only module parameters that show an atomic_long_t counter. */
extern const struct kernel_param_ops h2_counter_ops;

/* A batch of bios: set up, then wait for all (0, or EIO if one failed). */
void h2_batch_init(struct h2_bio_batch *b);
int h2_batch_wait(struct h2_bio_batch *b);
/*
 * Read bytes (a multiple of the device's logical block size, at most
 * BIO_MAX_VECS pages) at device byte offset off straight into pages[],
 * each from its offset 0 (the last one possibly in part), as one bio in
 * batch b; does not wait.  0, or EINVAL (unaligned or outside the device:
 * nothing submitted).  For reads into the page cache outside the core's
 * device lock (hammer2_vnops.c).
 */
int h2_bdev_read_pages(struct h2_bdev *d, struct h2_bio_batch *b,
		       struct page **pages, unsigned int bytes, u64 off);
/*
 * The bio of a direct write (hammer2_vop_write_direct gave off and token,
 * counting the block once in flight): the n folios of the block (under
 * writeback, unlocked, back to back in the file) at device byte offset
 * off, issued at once.  The completion ends each folio's writeback (an
 * error is set on the folio and its mapping, and the next commit fails
 * with EIO) and its count in flight.  Never fails itself; the module's
 * fail_writes makes it complete with an error at once.
 */
void h2_bdev_direct_write(struct h2_bdev *d, unsigned int token,
			  struct folio **folios, int n, u64 off);

/*
 * One opened HAMMER2 device, shared by every super block mounting a PFS
 * of it (hammer2_vfs.c).  refs counts those super blocks, nrw the
 * writable ones; the core device is read-only while nrw is 0.  Protected
 * by the global device-list mutex in hammer2_vfs.c.
 */
struct h2_dev {
	struct list_head list;
	struct h2_bdev io;
	hammer2_dev_t *hmp;
	int refs;
	int nrw;
	struct delayed_work flush_work; /* periodic hammer2_vfs_sync */
	int flush_err;			/* last flusher errno (logged once) */
	/*
	 * Delayed-write reservation taken from the core ahead of need
	 * (h2_dev_reserve), so that write(2) rarely takes the core's device
	 * lock; returned by h2_dev_spare_return.
	 */
	spinlock_t spare_lock;
	u64 spare;
};

/*
 * Reserve want bytes of delayed-write room in the core for a write(2) to
 * ip: from dev->spare when it holds enough, else H2_RESV_CHUNK (8 MiB) at
 * once (the rest kept as spare), else, with the spare returned, exactly
 * want.  0 or -errno (ENOSPC, EROFS, EIO) as hammer2_vop_reserve.
 */
int h2_dev_reserve(struct h2_dev *dev, hammer2_inode_t *ip, u64 want);
/*
 * Give dev's spare reservation back to the core (before a flush, statfs,
 * read-only switch and close, so that free space and ENOSPC stay exact).
 */
void h2_dev_spare_return(struct h2_dev *dev);

/* Per super block (s_fs_info). */
struct h2_sb_info {
	struct h2_dev *dev;
	hammer2_pfs_t *pmp;
	dev_t anon_dev; /* s_dev when another PFS of the bdev owns bd_dev */
	bool rw;	/* counted in dev->nrw */
	bool want_anon; /* mount time: another PFS of the bdev is mounted */
	char label[HAMMER2_INODE_MAXNAME + 1];
};

/*
 * In-memory inode: the VFS inode and its core inode (one reference).
 * resv: bytes of the core's delayed-write reservation held for this
 * inode's dirty page-cache data (hammer2_vnops.c); writers: write(2)
 * calls between their reservation and the end of their copy.  Both under
 * resv_lock.
 */
struct h2_inode_info {
	hammer2_inode_t *ip;
	spinlock_t resv_lock;
	u64 resv;
	int writers;
	struct inode vfs_inode;
};

static inline struct h2_sb_info *H2_SB(struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline struct h2_inode_info *H2_I(struct inode *inode)
{
	return container_of(inode, struct h2_inode_info, vfs_inode);
}

static inline hammer2_inode_t *H2_IP(struct inode *inode)
{
	return H2_I(inode)->ip;
}

/* hammer2_vnops.c */
struct inode *h2_iget(struct super_block *sb, hammer2_inode_t *ip);
int h2_write_inode_times(struct inode *inode);
void h2_resv_release_all(struct inode *inode);
int h2_inode_cache_init(void);
void h2_inode_cache_destroy(void);
extern struct kmem_cache *h2_inode_cachep;

/* hammer2_vfs.c */
extern struct file_system_type hammer2_fs_type;

#endif /* HAMMER2_GLUE_H */
