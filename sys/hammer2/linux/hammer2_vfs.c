/*
 * hammer2_vfs.c - filesystem type, mount (fs_context), super block.
 *
 * Source syntax: "DEVICE" mounts PFS "DATA", "DEVICE@LABEL" mounts PFS
 * LABEL.  Each (device, PFS) pair is one super block; the device itself
 * is opened once in the core (hammer2_dev_open) and shared by all the
 * PFSs mounted from it (struct h2_dev, refcounted on a global list), so
 * they share one allocator and one flush.  The first super block of a
 * device gets the device's dev_t; further PFSs get anonymous ones so
 * st_dev tells them apart.
 *
 * A per-device delayed work runs hammer2_vfs_sync every 5 s while some
 * super block of the device is writable.
 */
#include "linux/hammer2_glue.h"

#include <linux/blkdev.h>
#include <linux/backing-dev.h>
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/kdev_t.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/statfs.h>
#include <linux/string.h>
#include <linux/writeback.h>

static DEFINE_MUTEX(h2_devs_lock);
static LIST_HEAD(h2_devs);

/* ---------------- shared devices ---------------- */

/* Switch the core's read-only state on remount (it flushes first). */
static void h2_dev_set_rdonly(struct h2_dev *dev, int ro)
{
	int err = hammer2_dev_set_rdonly(dev->hmp, ro);

	if (err)
		pr_err("hammer2: %pg: switching to read-only failed: error %d\n",
		       dev->io.bdev, err);
}

#define H2_RESV_CHUNK SZ_8M
#define H2_LRU_DATA_BYTES SZ_32M /* see hammer2_dev.lru_data_limit */

/* read at each first mount of a device (hammer2_dev.volhdr_serial) */
static bool h2_volhdr_serial;
module_param_named(volhdr_serial, h2_volhdr_serial, bool, 0644);
MODULE_PARM_DESC(volhdr_serial,
		 "write a commit's two header pieces one after the other");

/* read at each first mount of a device (hammer2_dev.freemap_every_commit) */
static bool h2_freemap_every_commit;
module_param_named(freemap_every_commit, h2_freemap_every_commit, bool, 0644);
MODULE_PARM_DESC(freemap_every_commit,
		 "fsync's commits write the freemap too (default: left out)");

/*
 * read at each first mount of a device (hammer2_dev.dirty_limit, MiB; a
 * background flush is asked for at a quarter of it); 0: the core's 256
 */
static uint h2_dirty_mb;
module_param_named(dirty_mb, h2_dirty_mb, uint, 0644);
MODULE_PARM_DESC(dirty_mb,
		 "MiB of modified chains before writers flush (0: 256)");

/*
 * Writers' reservations that went to the core (the spare was short) and
 * the microseconds they took there (waiting for the device lock, which
 * a flush holds through its locked phase, and flushing when the dirty
 * limit is reached): /sys/module/hammer2/parameters/reserve_*.
 */
static atomic_long_t h2_resv_slow, h2_resv_slow_us;

module_param_cb(reserve_slow, &h2_counter_ops, &h2_resv_slow, 0444);
MODULE_PARM_DESC(reserve_slow, "write(2) reservations that took the core");
module_param_cb(reserve_slow_us, &h2_counter_ops, &h2_resv_slow_us, 0444);
MODULE_PARM_DESC(reserve_slow_us, "microseconds those took");

int h2_dev_reserve(struct h2_dev *dev, hammer2_inode_t *ip, u64 want)
{
	ktime_t t0;
	int err;

	spin_lock(&dev->spare_lock);
	if (dev->spare >= want) {
		dev->spare -= want;
		spin_unlock(&dev->spare_lock);
		return 0;
	}
	spin_unlock(&dev->spare_lock);
	t0 = ktime_get();
	if (want < H2_RESV_CHUNK &&
	    hammer2_vop_reserve(ip, H2_RESV_CHUNK) == 0) {
		spin_lock(&dev->spare_lock);
		dev->spare += H2_RESV_CHUNK - want;
		spin_unlock(&dev->spare_lock);
		err = 0;
	} else {
		h2_dev_spare_return(dev);
		err = -hammer2_vop_reserve(ip, want);
	}
	atomic_long_inc(&h2_resv_slow);
	atomic_long_add(ktime_us_delta(ktime_get(), t0), &h2_resv_slow_us);
	return err;
}

void h2_dev_spare_return(struct h2_dev *dev)
{
	u64 t;

	spin_lock(&dev->spare_lock);
	t = dev->spare;
	dev->spare = 0;
	spin_unlock(&dev->spare_lock);
	if (t)
		hammer2_vfs_unreserve(dev->hmp, t);
}

/* The flush of sync(2)/syncfs and of the last writable unmount. */
static int h2_dev_sync(struct h2_dev *dev)
{
	h2_dev_spare_return(dev);
	return hammer2_vfs_sync(dev->hmp);
}

/*
 * The periodic (and kicked) flusher.  It leaves the writers' spare
 * reservation alone: returned here, it would send the next write(2) to
 * the core for a new one, and so make it wait for the device lock
 * through the whole of this flush's locked phase.  The spare is not part
 * of what a flush writes; statfs, sync and ENOSPC return it themselves.
 */
static void h2_flush_work(struct work_struct *work)
{
	struct h2_dev *dev =
		container_of(to_delayed_work(work), struct h2_dev, flush_work);
	int err = hammer2_vfs_sync(dev->hmp);

	if (err && err != dev->flush_err)
		pr_err("hammer2: %pg: periodic flush failed: error %d\n",
		       dev->io.bdev, err);
	dev->flush_err = err;
	if (READ_ONCE(dev->nrw) > 0)
		queue_delayed_work(system_unbound_wq, &dev->flush_work,
				   H2_FLUSH_INTERVAL);
}

/* Count a writable super block (h2_devs_lock held). */
static void h2_dev_add_rw(struct h2_dev *dev)
{
	if (dev->nrw++ == 0) {
		h2_dev_set_rdonly(dev, 0);
		queue_delayed_work(system_unbound_wq, &dev->flush_work,
				   H2_FLUSH_INTERVAL);
	}
}

/*
 * Uncount a writable super block (h2_devs_lock held): the last one
 * flushes and makes the core device read-only.  errno of the flush; on
 * error the count is kept.
 */
static int h2_dev_del_rw(struct h2_dev *dev)
{
	int err;

	if (dev->nrw > 1) {
		dev->nrw--;
		return 0;
	}
	err = h2_dev_sync(dev);
	if (err)
		return err;
	dev->nrw = 0;
	h2_dev_set_rdonly(dev, 1);
	return 0;
}

/* The open device of bdev, or NULL (h2_devs_lock held). */
static struct h2_dev *h2_dev_find(struct block_device *bdev)
{
	struct list_head *pos;

	for (pos = h2_devs.next; pos != &h2_devs; pos = pos->next) {
		struct h2_dev *dev = list_entry(pos, struct h2_dev, list);

		if (dev->io.bdev == bdev)
			return dev;
	}
	return NULL;
}

/*
 * Find or open the core device of bdev for a super block (writable when
 * rw).  Returns 0 and the referenced device in *devp, or a positive errno
 * from hammer2_dev_open (EINVAL: not HAMMER2, EIO, ENOMEM).
 */
static int h2_dev_get(struct block_device *bdev, bool rw, struct h2_dev **devp)
{
	struct h2_dev *dev;
	int err;

	mutex_lock(&h2_devs_lock);
	dev = h2_dev_find(bdev);
	if (dev)
		goto found;
	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (dev == NULL) {
		mutex_unlock(&h2_devs_lock);
		return ENOMEM;
	}
	h2_bdev_init(&dev->io, bdev);
	INIT_DELAYED_WORK(&dev->flush_work, h2_flush_work);
	spin_lock_init(&dev->spare_lock);
	err = hammer2_dev_open(&h2_bdev_ops, &dev->io, dev->io.bytes,
			       HAMMER2_MNT_RDONLY, &dev->hmp);
	if (err) {
		mutex_unlock(&h2_devs_lock);
		kfree(dev);
		return err;
	}
	/*
	 * File data lives in the page cache: chains need not keep a copy,
	 * and of blocks written in part (kept to spare a read at their next
	 * partial write) only H2_LRU_DATA_BYTES.
	 */
	dev->hmp->drop_clean_data = 1;
	/* the VFS stamps file times; writeback must not (write_inode) */
	dev->hmp->vfs_file_times = 1;
	dev->hmp->lru_data_limit = H2_LRU_DATA_BYTES;
	dev->hmp->volhdr_serial = h2_volhdr_serial;
	dev->hmp->freemap_every_commit = h2_freemap_every_commit;
	if (h2_dirty_mb)
		dev->hmp->dirty_limit = (u64)h2_dirty_mb << 20;
	list_add(&dev->list, &h2_devs);
found:
	dev->refs++;
	if (rw)
		h2_dev_add_rw(dev);
	mutex_unlock(&h2_devs_lock);
	*devp = dev;
	return 0;
}

/*
 * Release a super block's reference (rw: it was counted writable).  The
 * last one stops the flusher and closes the core device, which flushes.
 */
static void h2_dev_put(struct h2_dev *dev, bool rw)
{
	int err;

	mutex_lock(&h2_devs_lock);
	if (rw && dev->nrw > 0)
		dev->nrw--;
	if (--dev->refs > 0) {
		if (rw && dev->nrw == 0) {
			err = h2_dev_sync(dev);
			if (err)
				pr_err("hammer2: %pg: flush failed: error %d\n",
				       dev->io.bdev, err);
			h2_dev_set_rdonly(dev, 1);
		}
		mutex_unlock(&h2_devs_lock);
		return;
	}
	list_del(&dev->list);
	mutex_unlock(&h2_devs_lock);
	WRITE_ONCE(dev->nrw, 0);
	cancel_delayed_work_sync(&dev->flush_work);
	h2_dev_spare_return(dev);
	err = hammer2_dev_close(dev->hmp);
	if (err)
		pr_err("hammer2: %pg: final flush failed: error %d\n",
		       dev->io.bdev, err);
	kfree(dev);
}

/* ---------------- super operations ---------------- */

static struct inode *h2_alloc_inode(struct super_block *sb)
{
	struct h2_inode_info *hi;

	hi = alloc_inode_sb(sb, h2_inode_cachep, GFP_KERNEL);
	if (hi == NULL)
		return NULL;
	hi->ip = NULL;
	spin_lock_init(&hi->resv_lock);
	hi->resv = 0;
	hi->writers = 0;
	return &hi->vfs_inode;
}

static void h2_free_inode(struct inode *inode)
{
	kmem_cache_free(h2_inode_cachep, H2_I(inode));
}

static int h2_write_inode(struct inode *inode, struct writeback_control *wbc)
{
	return h2_write_inode_times(inode);
}

static void h2_evict_inode(struct inode *inode)
{
	hammer2_inode_t *ip = H2_IP(inode);

	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	h2_resv_release_all(inode); /* dirty pages of an unlinked file */
	if (ip) {
		H2_I(inode)->ip = NULL;
		ip->vfs_private = NULL;
		/* an unlinked inode's media is freed by its last drop */
		hammer2_inode_drop(ip);
	}
}

static int h2_sync_fs(struct super_block *sb, int wait)
{
	struct h2_sb_info *sbi = H2_SB(sb);

	if (sb_rdonly(sb))
		return 0;
	return -h2_dev_sync(sbi->dev);
}

static int h2_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct super_block *sb = dentry->d_sb;
	struct h2_sb_info *sbi = H2_SB(sb);
	struct hammer2_statfs st;
	u64 id = huge_encode_dev(sb->s_dev);
	int err;

	h2_dev_spare_return(sbi->dev); /* free space as it is */
	err = hammer2_vfs_statfs(sbi->pmp, &st);
	if (err)
		return -err;
	buf->f_type = H2_SUPER_MAGIC;
	buf->f_bsize = PAGE_SIZE;
	buf->f_frsize = PAGE_SIZE;
	buf->f_blocks = st.total_bytes >> PAGE_SHIFT;
	buf->f_bfree = st.free_bytes >> PAGE_SHIFT;
	buf->f_bavail = buf->f_bfree;
	/* inodes are allocated dynamically: one per 1 KiB of free space */
	buf->f_ffree = st.free_bytes / HAMMER2_INODE_BYTES;
	buf->f_files = st.files + buf->f_ffree;
	buf->f_namelen = st.namelen;
	buf->f_fsid = u64_to_fsid(id);
	return 0;
}

static void h2_put_super(struct super_block *sb)
{
	struct h2_sb_info *sbi = H2_SB(sb);

	if (sbi->pmp) {
		hammer2_pfs_unmount(sbi->pmp);
		sbi->pmp = NULL;
	}
	if (sbi->dev) {
		h2_dev_put(sbi->dev, sbi->rw);
		sbi->dev = NULL;
	}
}

static int h2_show_options(struct seq_file *m, struct dentry *root)
{
	if (root->d_sb->s_flags & SB_NOATIME)
		seq_puts(m, ",noatime");
	return 0;
}

static const struct super_operations h2_sops = {
	.alloc_inode = h2_alloc_inode,
	.free_inode = h2_free_inode,
	.write_inode = h2_write_inode,
	.evict_inode = h2_evict_inode,
	.sync_fs = h2_sync_fs,
	.statfs = h2_statfs,
	.put_super = h2_put_super,
	.show_options = h2_show_options,
};

/* ---------------- mount ---------------- */

enum { Opt_ro, Opt_rw, Opt_noatime };

static const struct fs_parameter_spec h2_param_spec[] = {
	fsparam_flag("ro", Opt_ro),
	fsparam_flag("rw", Opt_rw),
	fsparam_flag("noatime", Opt_noatime),
	{}
};

static int h2_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct fs_parse_result result;
	int opt;

	/* the VFS handles "source" itself when we decline it */
	if (strcmp(param->key, "source") == 0)
		return -ENOPARAM;
	opt = fs_parse(fc, h2_param_spec, param, &result);
	if (opt == -ENOPARAM)
		return invalfc(fc, "unknown mount option \"%s\"", param->key);
	if (opt < 0)
		return opt;
	switch (opt) {
	case Opt_ro:
		fc->sb_flags |= SB_RDONLY;
		fc->sb_flags_mask |= SB_RDONLY;
		break;
	case Opt_rw:
		fc->sb_flags &= ~SB_RDONLY;
		fc->sb_flags_mask |= SB_RDONLY;
		break;
	case Opt_noatime:
		/* remount may not change it (MS_RMT_MASK): keep it as is */
		if (fc->purpose == FS_CONTEXT_FOR_RECONFIGURE)
			break;
		fc->sb_flags |= SB_NOATIME;
		fc->sb_flags_mask |= SB_NOATIME;
		break;
	}
	return 0;
}

/* sget_fc: same block device and same PFS label. */
static int h2_test_super(struct super_block *sb, struct fs_context *fc)
{
	struct h2_sb_info *sbi = H2_SB(sb), *want = fc->s_fs_info;

	return sb->s_bdev == fc->sget_key && sbi &&
	       strcmp(sbi->label, want->label) == 0;
}

static bool h2_bdev_has_super(struct block_device *bdev)
{
	bool found;

	mutex_lock(&h2_devs_lock);
	found = h2_dev_find(bdev) != NULL;
	mutex_unlock(&h2_devs_lock);
	return found;
}

/*
 * sget_fc: set up a new super block like get_tree_bdev does.  Runs under
 * the sb_lock spinlock: nothing here may sleep.
 */
static int h2_set_super(struct super_block *sb, struct fs_context *fc)
{
	struct block_device *bdev = fc->sget_key;
	struct h2_sb_info *sbi = sb->s_fs_info;
	int err;

	/* anonymous dev_t first (GFP_ATOMIC): the only step that can fail */
	if (sbi->want_anon || bdev->bd_super) {
		err = get_anon_bdev(&sbi->anon_dev);
		if (err)
			return err;
		sb->s_dev = sbi->anon_dev;
	} else {
		sb->s_dev = bdev->bd_dev;
	}
	sb->s_bdev = bdev;
	sb->s_bdi = bdi_get(bdev->bd_disk->bdi);
	/*
	 * Always (direct_writes can be turned on at any time): direct writes
	 * (h2_wb_block) write the page cache's folios under a check code
	 * computed before the bio, so a folio must not change while it is
	 * under writeback.  The copy path ends writeback at once, so it
	 * makes no writer wait.
	 */
	sb->s_iflags |= SB_I_STABLE_WRITES;
	return 0;
}

static int h2_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct h2_sb_info *sbi = H2_SB(sb);
	hammer2_inode_t *rip;
	struct inode *root;
	int err;

	sb->s_magic = H2_SUPER_MAGIC;
	sb->s_op = &h2_sops;
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	sb->s_time_gran = NSEC_PER_USEC;
	sb->s_time_min = 0;
	sb->s_time_max = S64_MAX / USEC_PER_SEC;
	sb->s_flags |= SB_NOSEC;

	sbi->rw = !sb_rdonly(sb);
	err = h2_dev_get(sb->s_bdev, sbi->rw, &sbi->dev);
	if (err) {
		sbi->rw = false;
		if (err == EINVAL)
			return invalfc(fc,
				       "%pg: no valid HAMMER2 volume header",
				       sb->s_bdev);
		return -err;
	}
	err = hammer2_pfs_mount(sbi->dev->hmp, sbi->label, &sbi->pmp);
	if (err) {
		if (err == ENOENT)
			errorfc(fc, "%pg: no PFS named \"%s\"", sb->s_bdev,
				sbi->label);
		goto fail;
	}
	rip = hammer2_vfs_root(sbi->pmp);
	root = h2_iget(sb, rip);
	if (IS_ERR(root)) {
		err = -PTR_ERR(root);
		goto fail;
	}
	if (!S_ISDIR(root->i_mode)) {
		iput(root);
		err = EIO;
		goto fail;
	}
	sb->s_root = d_make_root(root);
	if (sb->s_root == NULL) {
		err = ENOMEM;
		goto fail;
	}
	return 0;
fail:
	/* without SB_ACTIVE the root inode (if any) was evicted by iput */
	h2_put_super(sb);
	return -err;
}

/*
 * Split "DEVICE[@LABEL]" into fc->source's device path (returned,
 * kmalloc'd) and the label in sbi.  The last '@' separates them.
 */
static char *h2_parse_source(struct fs_context *fc, struct h2_sb_info *sbi)
{
	const char *src = fc->source, *at;
	size_t dlen;

	if (src == NULL || src[0] == 0) {
		errorfc(fc, "no source device given");
		return ERR_PTR(-EINVAL);
	}
	at = strrchr(src, '@');
	dlen = at ? (size_t)(at - src) : strlen(src);
	if (at) {
		size_t llen = strlen(at + 1);

		if (llen == 0 || llen > 255) {
			errorfc(fc, "bad PFS label in \"%s\"", src);
			return ERR_PTR(-EINVAL);
		}
		memcpy(sbi->label, at + 1, llen + 1);
	} else {
		strscpy(sbi->label, "DATA", sizeof(sbi->label));
	}
	if (dlen == 0) {
		errorfc(fc, "no device in \"%s\"", src);
		return ERR_PTR(-EINVAL);
	}
	return kmemdup_nul(src, dlen, GFP_KERNEL) ?: ERR_PTR(-ENOMEM);
}

static int h2_get_tree(struct fs_context *fc)
{
	struct h2_sb_info *sbi = fc->s_fs_info;
	fmode_t mode = FMODE_READ | FMODE_EXCL;
	struct block_device *bdev;
	struct super_block *s;
	char *path;
	int err;

	path = h2_parse_source(fc, sbi);
	if (IS_ERR(path))
		return PTR_ERR(path);
	if (!(fc->sb_flags & SB_RDONLY))
		mode |= FMODE_WRITE;
	bdev = blkdev_get_by_path(path, mode, &hammer2_fs_type);
	if (IS_ERR(bdev)) {
		err = PTR_ERR(bdev);
		errorfc(fc, "%s: cannot open block device (error %d)", path,
			err);
		kfree(path);
		return err;
	}
	kfree(path);

	mutex_lock(&bdev->bd_fsfreeze_mutex);
	if (bdev->bd_fsfreeze_count > 0) {
		mutex_unlock(&bdev->bd_fsfreeze_mutex);
		warnfc(fc, "%pg: cannot mount, block device is frozen", bdev);
		blkdev_put(bdev, mode);
		return -EBUSY;
	}
	fc->sb_flags |= SB_NOSEC;
	fc->sget_key = bdev;
	sbi->want_anon = h2_bdev_has_super(bdev);
	s = sget_fc(fc, h2_test_super, h2_set_super);
	mutex_unlock(&bdev->bd_fsfreeze_mutex);
	if (IS_ERR(s)) {
		blkdev_put(bdev, mode);
		return PTR_ERR(s);
	}

	if (s->s_root) {
		/* this PFS is mounted already: share its super block */
		if ((fc->sb_flags ^ s->s_flags) & SB_RDONLY) {
			warnfc(fc, "%pg: cannot mount, would change RO state",
			       bdev);
			deactivate_locked_super(s);
			blkdev_put(bdev, mode);
			return -EBUSY;
		}
		/* blkdev_put takes open_mutex, which nests outside s_umount */
		up_write(&s->s_umount);
		blkdev_put(bdev, mode);
		down_write(&s->s_umount);
	} else {
		s->s_mode = mode;
		snprintf(s->s_id, sizeof(s->s_id), "%pg", bdev);
		err = h2_fill_super(s, fc);
		if (err) {
			/* h2_kill_sb releases the block device */
			deactivate_locked_super(s);
			return err;
		}
		s->s_flags |= SB_ACTIVE;
		if (bdev->bd_super == NULL && s->s_dev == bdev->bd_dev)
			bdev->bd_super = s;
	}
	fc->root = dget(s->s_root);
	return 0;
}

static int h2_reconfigure(struct fs_context *fc)
{
	struct super_block *sb = fc->root->d_sb;
	struct h2_sb_info *sbi = H2_SB(sb);
	bool want_rw = !(fc->sb_flags & SB_RDONLY);
	int err = 0;

	sync_filesystem(sb);
	if (want_rw == sbi->rw)
		return 0;
	mutex_lock(&h2_devs_lock);
	if (want_rw) {
		if (bdev_read_only(sb->s_bdev)) {
			err = -EACCES;
			errorfc(fc, "%pg: block device is read-only",
				sb->s_bdev);
		} else {
			h2_dev_add_rw(sbi->dev);
			sbi->rw = true;
		}
	} else {
		err = -h2_dev_del_rw(sbi->dev);
		if (err)
			errorfc(fc, "%pg: flush failed (error %d)", sb->s_bdev,
				-err);
		else
			sbi->rw = false;
	}
	mutex_unlock(&h2_devs_lock);
	return err;
}

static void h2_free_fc(struct fs_context *fc)
{
	kfree(fc->s_fs_info);
}

static const struct fs_context_operations h2_context_ops = {
	.parse_param = h2_parse_param,
	.get_tree = h2_get_tree,
	.reconfigure = h2_reconfigure,
	.free = h2_free_fc,
};

static int h2_init_fs_context(struct fs_context *fc)
{
	if (fc->purpose != FS_CONTEXT_FOR_RECONFIGURE) {
		fc->s_fs_info = kzalloc(sizeof(struct h2_sb_info), GFP_KERNEL);
		if (fc->s_fs_info == NULL)
			return -ENOMEM;
	}
	fc->ops = &h2_context_ops;
	return 0;
}

/* Like kill_block_super, plus our s_fs_info and anonymous dev_t. */
static void h2_kill_sb(struct super_block *sb)
{
	struct block_device *bdev = sb->s_bdev;
	struct h2_sb_info *sbi = H2_SB(sb);
	fmode_t mode = sb->s_mode;

	if (bdev && bdev->bd_super == sb)
		bdev->bd_super = NULL;
	generic_shutdown_super(sb);
	if (sbi) {
		/* fill_super failed before put_super could run */
		h2_put_super(sb);
		if (sbi->anon_dev)
			free_anon_bdev(sbi->anon_dev);
		kfree(sbi);
		sb->s_fs_info = NULL;
	}
	if (bdev) {
		sync_blockdev(bdev);
		blkdev_put(bdev, mode | FMODE_EXCL);
	}
}

/*
 * The "hammer2" filesystem type: mount -t hammer2 DEVICE[@LABEL] DIR.
 * Registered by hammer2_module.c.
 */
struct file_system_type hammer2_fs_type = {
	.owner = THIS_MODULE,
	.name = "hammer2",
	.init_fs_context = h2_init_fs_context,
	.parameters = h2_param_spec,
	.kill_sb = h2_kill_sb,
	.fs_flags = FS_REQUIRES_DEV,
};
