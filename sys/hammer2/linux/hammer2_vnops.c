/*
 * hammer2_vnops.c - inodes, directories, files and the page cache.
 *
 * VFS inodes map 1:1 onto core inodes: a struct h2_inode_info holds one
 * reference on its hammer2_inode_t (dropped at eviction) and is found
 * with iget5_locked keyed by inum and matched on the core pointer (the
 * core returns the same hammer2_inode_t for an inum, hard links
 * included).
 *
 * Attributes: the VFS inode is authoritative for what the VFS itself
 * changes (size of regular files, times, mode, owner: pushed to the core
 * by setattr and write_inode); the core is authoritative for what it
 * changes behind the VFS's back (link counts, directory times and sizes,
 * ctime on link/unlink/rename, media usage), refreshed after each
 * directory operation and in getattr.
 *
 * Regular files go through the page cache with delayed copies: write(2)
 * reserves room for its data in the core first (hammer2_vop_reserve: the
 * length plus one 64 KiB block), so a full volume fails write(2) with
 * ENOSPC instead of losing data at writeback; then it only dirties pages.
 * Writeback (writepages, in the kernel's flusher threads or at fsync)
 * copies dirty pages into the core's chains, handing the reservation over
 * (hammer2_vop_write_resv), so the writer's thread does not pay for that
 * copy.  Pages dirtied through mmap are copied at writeback too, without
 * a reservation.  The core writes to disk at flush: every 5 s (the
 * per-device flusher), at fsync/sync/unmount, or when it has buffered too
 * much.
 *
 * The core must never see user memory (see hammer2_glue.h): readdir
 * gathers entries in a kernel buffer under the core call and emits them
 * after it returns.
 */
#include "linux/hammer2_glue.h"

#include <linux/blkdev.h>
#include <linux/cred.h>
#include <linux/falloc.h>
#include <linux/highmem.h>
#include <linux/math64.h>
#include <linux/mnt_idmapping.h>
#include <linux/moduleparam.h>
#include <linux/namei.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/writeback.h>

struct kmem_cache *h2_inode_cachep;

static const struct inode_operations h2_dir_iops;
static const struct inode_operations h2_file_iops;
static const struct inode_operations h2_symlink_iops;
static const struct inode_operations h2_special_iops;
static const struct file_operations h2_dir_fops;
static const struct file_operations h2_file_fops;
static const struct address_space_operations h2_aops;

/* ---------------- conversions ---------------- */

static struct timespec64 h2_us_to_ts(u64 us)
{
	struct timespec64 ts;
	u32 rem;

	ts.tv_sec = (time64_t)div_u64_rem(us, USEC_PER_SEC, &rem);
	ts.tv_nsec = rem * NSEC_PER_USEC;
	return ts;
}

static u64 h2_ts_to_us(struct timespec64 ts)
{
	if (ts.tv_sec < 0)
		return 0;
	return (u64)ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / NSEC_PER_USEC;
}

static umode_t h2_type_to_mode(u8 type)
{
	switch (type) {
	case HAMMER2_OBJTYPE_DIRECTORY:
		return S_IFDIR;
	case HAMMER2_OBJTYPE_REGFILE:
		return S_IFREG;
	case HAMMER2_OBJTYPE_FIFO:
		return S_IFIFO;
	case HAMMER2_OBJTYPE_CDEV:
		return S_IFCHR;
	case HAMMER2_OBJTYPE_BDEV:
		return S_IFBLK;
	case HAMMER2_OBJTYPE_SOFTLINK:
		return S_IFLNK;
	case HAMMER2_OBJTYPE_SOCKET:
		return S_IFSOCK;
	}
	return 0;
}

static u8 h2_mode_to_type(umode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR:
		return HAMMER2_OBJTYPE_DIRECTORY;
	case S_IFREG:
		return HAMMER2_OBJTYPE_REGFILE;
	case S_IFIFO:
		return HAMMER2_OBJTYPE_FIFO;
	case S_IFCHR:
		return HAMMER2_OBJTYPE_CDEV;
	case S_IFBLK:
		return HAMMER2_OBJTYPE_BDEV;
	case S_IFLNK:
		return HAMMER2_OBJTYPE_SOFTLINK;
	case S_IFSOCK:
		return HAMMER2_OBJTYPE_SOCKET;
	}
	return HAMMER2_OBJTYPE_UNKNOWN;
}

static unsigned char h2_type_to_dtype(u8 type)
{
	switch (type) {
	case HAMMER2_OBJTYPE_DIRECTORY:
		return DT_DIR;
	case HAMMER2_OBJTYPE_REGFILE:
		return DT_REG;
	case HAMMER2_OBJTYPE_FIFO:
		return DT_FIFO;
	case HAMMER2_OBJTYPE_CDEV:
		return DT_CHR;
	case HAMMER2_OBJTYPE_BDEV:
		return DT_BLK;
	case HAMMER2_OBJTYPE_SOFTLINK:
		return DT_LNK;
	case HAMMER2_OBJTYPE_SOCKET:
		return DT_SOCK;
	case HAMMER2_OBJTYPE_WHITEOUT:
		return DT_WHT;
	}
	return DT_UNKNOWN;
}

/* ---------------- inodes ---------------- */

/*
 * Copy core attributes into the VFS inode.  all: everything (a new VFS
 * inode); otherwise only what the core changes behind the VFS (see the
 * file comment).
 */
static void h2_fill_inode(struct inode *inode, const struct hammer2_vattr *va,
			  bool all)
{
	set_nlink(inode,
		  va->nlinks > UINT_MAX ? UINT_MAX : (unsigned int)va->nlinks);
	inode->i_blocks = va->phys_bytes >> 9;
	inode->i_ctime = h2_us_to_ts(va->ctime_us);
	if (all) {
		inode->i_mode = (inode->i_mode & S_IFMT) | (va->mode & 07777);
		i_uid_write(inode, va->uid);
		i_gid_write(inode, va->gid);
		inode->i_atime = h2_us_to_ts(va->atime_us);
	}
	if (all || !S_ISREG(inode->i_mode)) {
		inode->i_mtime = h2_us_to_ts(va->mtime_us);
		i_size_write(inode,
			     (loff_t)min_t(u64, va->size, MAX_LFS_FILESIZE));
	}
}

/* Refresh the core-owned attributes of a VFS inode (after a dir op). */
static void h2_refresh(struct inode *inode)
{
	struct hammer2_vattr va;

	if (inode && H2_IP(inode) &&
	    hammer2_vop_getattr(H2_IP(inode), &va) == 0)
		h2_fill_inode(inode, &va, false);
}

static int h2_iget_test(struct inode *inode, void *data)
{
	return H2_IP(inode) == data;
}

static int h2_iget_set(struct inode *inode, void *data)
{
	hammer2_inode_t *ip = data;

	H2_I(inode)->ip = ip;
	inode->i_ino = (unsigned long)ip->inum;
	return 0;
}

/*
 * The VFS inode of core inode ip, whose reference this consumes (kept by
 * a new VFS inode, dropped otherwise).  Returns a referenced inode or
 * ERR_PTR: -ENOMEM, -EIO (the core inode has an invalid type: a corrupt
 * volume).  Call without core locks; may sleep.
 */
struct inode *h2_iget(struct super_block *sb, hammer2_inode_t *ip)
{
	struct hammer2_vattr va;
	struct inode *inode;
	umode_t type;
	int err;

	inode = iget5_locked(sb, (unsigned long)ip->inum, h2_iget_test,
			     h2_iget_set, ip);
	if (inode == NULL) {
		hammer2_inode_drop(ip);
		return ERR_PTR(-ENOMEM);
	}
	if (!(inode->i_state & I_NEW)) {
		hammer2_inode_drop(ip); /* the VFS inode holds one already */
		return inode;
	}
	ip->vfs_private = inode;
	err = hammer2_vop_getattr(ip, &va);
	type = err ? 0 : h2_type_to_mode(va.type);
	if (type == 0) {
		if (err == 0)
			pr_err("hammer2: %s: inode %llu has invalid type %u\n",
			       sb->s_id, (unsigned long long)ip->inum, va.type);
		clear_nlink(inode);
		iget_failed(inode); /* evicts it, which drops ip */
		return ERR_PTR(err ? -err : -EIO);
	}
	inode->i_mode = type;
	h2_fill_inode(inode, &va, true);
	switch (type) {
	case S_IFREG:
		inode->i_op = &h2_file_iops;
		inode->i_fop = &h2_file_fops;
		inode->i_mapping->a_ops = &h2_aops;
		/* readahead may bring whole 64 KiB blocks in one folio */
		mapping_set_large_folios(inode->i_mapping);
		break;
	case S_IFDIR:
		inode->i_op = &h2_dir_iops;
		inode->i_fop = &h2_dir_fops;
		break;
	case S_IFLNK:
		inode->i_op = &h2_symlink_iops;
		break;
	default:
		inode->i_op = &h2_special_iops;
		init_special_inode(inode, inode->i_mode,
				   MKDEV(va.rmajor, va.rminor));
		break;
	}
	unlock_new_inode(inode);
	return inode;
}

/*
 * write_inode: push the VFS inode's times (atime from reads, mtime and
 * ctime from writes) into the core inode.  Nothing on a read-only super
 * block or for an unlinked inode.  Returns 0 or -errno (EIO, ENOSPC).
 */
int h2_write_inode_times(struct inode *inode)
{
	struct hammer2_vattr va;
	hammer2_inode_t *ip = H2_IP(inode);

	if (ip == NULL || sb_rdonly(inode->i_sb) || inode->i_nlink == 0)
		return 0;
	memset(&va, 0, sizeof(va));
	va.atime_us = h2_ts_to_us(inode->i_atime);
	va.mtime_us = h2_ts_to_us(inode->i_mtime);
	va.ctime_us = h2_ts_to_us(inode->i_ctime);
	return -hammer2_vop_setattr(ip, &va,
				    HAMMER2_VA_ATIME | HAMMER2_VA_MTIME |
					    HAMMER2_VA_CTIME);
}

static void h2_inode_init_once(void *p)
{
	struct h2_inode_info *hi = p;

	inode_init_once(&hi->vfs_inode);
}

static struct workqueue_struct *h2_ra_wq;

/*
 * Create the inode slab cache and the readahead workqueue (module init).
 * 0 or -ENOMEM.
 */
int h2_inode_cache_init(void)
{
	h2_inode_cachep = kmem_cache_create(
		"hammer2_inode", sizeof(struct h2_inode_info), 0,
		SLAB_RECLAIM_ACCOUNT | SLAB_MEM_SPREAD | SLAB_ACCOUNT,
		h2_inode_init_once);
	if (h2_inode_cachep == NULL)
		return -ENOMEM;
	h2_ra_wq = alloc_workqueue("hammer2_ra", WQ_UNBOUND, 0);
	if (h2_ra_wq == NULL) {
		kmem_cache_destroy(h2_inode_cachep);
		return -ENOMEM;
	}
	return 0;
}

/* Destroy them (module exit, after unregister_filesystem). */
void h2_inode_cache_destroy(void)
{
	destroy_workqueue(h2_ra_wq); /* waits for readahead in progress */
	rcu_barrier(); /* free_inode runs after an RCU grace period */
	kmem_cache_destroy(h2_inode_cachep);
}

/* ---------------- attributes ---------------- */

static int h2_setattr(struct user_namespace *mnt_userns, struct dentry *dentry,
		      struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	hammer2_inode_t *ip = H2_IP(inode);
	struct hammer2_vattr va;
	umode_t omode;
	kuid_t ouid;
	kgid_t ogid;
	struct timespec64 oatime, omtime, octime;
	int mask, err;

	err = setattr_prepare(mnt_userns, dentry, attr);
	if (err)
		return err;
	if ((attr->ia_valid & ATTR_SIZE) && S_ISREG(inode->i_mode) &&
	    attr->ia_size != i_size_read(inode)) {
		loff_t osize = i_size_read(inode);

		inode_dio_wait(inode);
		/*
		 * Page cache first (it waits for pages under writeback, whose
		 * copies to the core are clamped to the new i_size), then
		 * the core.
		 */
		truncate_setsize(inode, attr->ia_size);
		err = hammer2_vop_truncate(ip, (u64)attr->ia_size);
		if (err) {
			/* the core keeps its size: so does the inode */
			i_size_write(inode, osize);
			return -err;
		}
	}

	omode = inode->i_mode;
	ouid = inode->i_uid;
	ogid = inode->i_gid;
	oatime = inode->i_atime;
	omtime = inode->i_mtime;
	octime = inode->i_ctime;
	setattr_copy(mnt_userns, inode, attr);

	memset(&va, 0, sizeof(va));
	mask = HAMMER2_VA_CTIME;
	va.mode = inode->i_mode & 07777;
	va.uid = i_uid_read(inode);
	va.gid = i_gid_read(inode);
	va.atime_us = h2_ts_to_us(inode->i_atime);
	va.mtime_us = h2_ts_to_us(inode->i_mtime);
	va.ctime_us = h2_ts_to_us(inode->i_ctime);
	if (attr->ia_valid & ATTR_MODE)
		mask |= HAMMER2_VA_MODE;
	if (attr->ia_valid & ATTR_UID)
		mask |= HAMMER2_VA_UID;
	if (attr->ia_valid & ATTR_GID)
		mask |= HAMMER2_VA_GID;
	if (attr->ia_valid & ATTR_ATIME)
		mask |= HAMMER2_VA_ATIME;
	if (attr->ia_valid & ATTR_MTIME)
		mask |= HAMMER2_VA_MTIME;
	/* chown may have cleared set-id bits (setattr_copy applied it) */
	if (inode->i_mode != omode)
		mask |= HAMMER2_VA_MODE;
	err = hammer2_vop_setattr(ip, &va, mask);
	if (err) {
		inode->i_mode = omode;
		inode->i_uid = ouid;
		inode->i_gid = ogid;
		inode->i_atime = oatime;
		inode->i_mtime = omtime;
		inode->i_ctime = octime;
		return -err;
	}
	return 0;
}

static int h2_getattr(struct user_namespace *mnt_userns,
		      const struct path *path, struct kstat *stat,
		      u32 request_mask, unsigned int query_flags)
{
	struct inode *inode = d_inode(path->dentry);
	struct hammer2_vattr va;

	/*
	 * st_blocks counts what the core holds (hammer2_vop_getattr): dirty
	 * pages go there first.  Writeback here only copies them (no I/O,
	 * no commit), work their writeback would do anyway; not when the
	 * caller asked for what is cached (AT_STATX_DONT_SYNC).
	 */
	if ((request_mask & STATX_BLOCKS) && S_ISREG(inode->i_mode) &&
	    (query_flags & AT_STATX_SYNC_TYPE) != AT_STATX_DONT_SYNC &&
	    mapping_tagged(inode->i_mapping, PAGECACHE_TAG_DIRTY))
		filemap_fdatawrite(inode->i_mapping);
	if (hammer2_vop_getattr(H2_IP(inode), &va) == 0) {
		h2_fill_inode(inode, &va, false);
		stat->btime = h2_us_to_ts(va.btime_us);
		stat->result_mask |= STATX_BTIME;
	}
	generic_fillattr(mnt_userns, inode, stat);
	return 0;
}

/* ---------------- directories ---------------- */

static struct dentry *h2_lookup(struct inode *dir, struct dentry *dentry,
				unsigned int flags)
{
	struct inode *inode = NULL;
	hammer2_inode_t *ip;
	int err;

	if (dentry->d_name.len > 255)
		return ERR_PTR(-ENAMETOOLONG);
	err = hammer2_vop_lookup(H2_IP(dir), (const char *)dentry->d_name.name,
				 dentry->d_name.len, &ip);
	if (err == 0)
		inode = h2_iget(dir->i_sb, ip);
	else if (err != ENOENT)
		inode = ERR_PTR(-err);
	/* a NULL inode makes a negative dentry */
	return d_splice_alias(inode, dentry);
}

/* Create an object of mode (type bits included) named by dentry in dir. */
static int h2_new(struct user_namespace *mnt_userns, struct inode *dir,
		  struct dentry *dentry, umode_t mode, dev_t rdev,
		  const char *link)
{
	struct hammer2_vattr va;
	hammer2_inode_t *ip;
	struct inode *inode;
	int err;

	memset(&va, 0, sizeof(va));
	va.type = h2_mode_to_type(mode);
	if (va.type == HAMMER2_OBJTYPE_UNKNOWN)
		return -EINVAL;
	if (dentry->d_name.len > 255)
		return -ENAMETOOLONG;
	/* inode_init_owner() semantics, into core uid/gid values */
	va.uid = from_kuid(&init_user_ns,
			   mapped_fsuid(mnt_userns, &init_user_ns));
	if (dir->i_mode & S_ISGID) {
		va.gid = from_kgid(&init_user_ns, dir->i_gid);
		if (S_ISDIR(mode))
			mode |= S_ISGID;
	} else {
		va.gid = from_kgid(&init_user_ns,
				   mapped_fsgid(mnt_userns, &init_user_ns));
	}
	va.mode = mode & 07777;
	va.rmajor = MAJOR(rdev);
	va.rminor = MINOR(rdev);
	err = hammer2_vop_create(H2_IP(dir), (const char *)dentry->d_name.name,
				 dentry->d_name.len, &va, link,
				 link ? strlen(link) : 0, &ip);
	if (err)
		return -err;
	h2_refresh(dir);
	inode = h2_iget(dir->i_sb, ip);
	if (IS_ERR(inode))
		return PTR_ERR(inode);
	d_instantiate(dentry, inode);
	return 0;
}

static int h2_create(struct user_namespace *mnt_userns, struct inode *dir,
		     struct dentry *dentry, umode_t mode, bool excl)
{
	return h2_new(mnt_userns, dir, dentry, (mode & 07777) | S_IFREG, 0,
		      NULL);
}

static int h2_mkdir(struct user_namespace *mnt_userns, struct inode *dir,
		    struct dentry *dentry, umode_t mode)
{
	return h2_new(mnt_userns, dir, dentry, (mode & 07777) | S_IFDIR, 0,
		      NULL);
}

static int h2_mknod(struct user_namespace *mnt_userns, struct inode *dir,
		    struct dentry *dentry, umode_t mode, dev_t rdev)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
	case S_IFIFO:
	case S_IFSOCK:
		rdev = 0;
		fallthrough;
	case S_IFCHR:
	case S_IFBLK:
		return h2_new(mnt_userns, dir, dentry, mode, rdev, NULL);
	}
	return -EINVAL;
}

static int h2_symlink(struct user_namespace *mnt_userns, struct inode *dir,
		      struct dentry *dentry, const char *symname)
{
	if (strlen(symname) >= PATH_MAX)
		return -ENAMETOOLONG;
	return h2_new(mnt_userns, dir, dentry, S_IFLNK | 0777, 0, symname);
}

static int h2_unlink(struct inode *dir, struct dentry *dentry)
{
	int err;

	err = hammer2_vop_remove(H2_IP(dir), (const char *)dentry->d_name.name,
				 dentry->d_name.len);
	if (err)
		return -err;
	h2_refresh(dir);
	h2_refresh(d_inode(dentry)); /* nlink: 0, or one less (hard link) */
	return 0;
}

static int h2_rmdir(struct inode *dir, struct dentry *dentry)
{
	int err;

	err = hammer2_vop_rmdir(H2_IP(dir), (const char *)dentry->d_name.name,
				dentry->d_name.len);
	if (err)
		return -err;
	h2_refresh(dir);
	h2_refresh(d_inode(dentry));
	return 0;
}

static int h2_rename(struct user_namespace *mnt_userns, struct inode *old_dir,
		     struct dentry *old_dentry, struct inode *new_dir,
		     struct dentry *new_dentry, unsigned int flags)
{
	int h2flags = 0, err;

	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL; /* RENAME_WHITEOUT */
	if (flags & RENAME_NOREPLACE)
		h2flags |= HAMMER2_RENAME_NOREPLACE;
	if (flags & RENAME_EXCHANGE)
		h2flags |= HAMMER2_RENAME_EXCHANGE;
	err = hammer2_vop_rename(H2_IP(old_dir),
				 (const char *)old_dentry->d_name.name,
				 old_dentry->d_name.len, H2_IP(new_dir),
				 (const char *)new_dentry->d_name.name,
				 new_dentry->d_name.len, h2flags);
	if (err)
		return -err;
	h2_refresh(old_dir);
	if (new_dir != old_dir)
		h2_refresh(new_dir);
	h2_refresh(d_inode(old_dentry));
	if (d_really_is_positive(new_dentry))
		h2_refresh(d_inode(new_dentry));
	return 0;
}

static int h2_link(struct dentry *old_dentry, struct inode *dir,
		   struct dentry *dentry)
{
	struct inode *inode = d_inode(old_dentry);
	int err;

	if (dentry->d_name.len > 255)
		return -ENAMETOOLONG;
	err = hammer2_vop_link(H2_IP(inode), H2_IP(dir),
			       (const char *)dentry->d_name.name,
			       dentry->d_name.len);
	if (err)
		return -err;
	h2_refresh(inode);
	h2_refresh(dir);
	ihold(inode);
	d_instantiate(dentry, inode);
	return 0;
}

/* readdir: entries gathered under the core call, emitted after it. */
struct h2_dirent {
	u64 ino;
	u64 next; /* cookie after this entry */
	u16 len;
	u8 type;
	char name[];
};

struct h2_rdbuf {
	char *buf;
	size_t used, cap;
	bool full;
};

#define H2_RDBUF_SIZE PAGE_SIZE

static int h2_filldir(void *arg, const char *name, size_t len, uint64_t inum,
		      uint8_t type, uint64_t next)
{
	struct h2_rdbuf *rd = arg;
	size_t need = ALIGN(sizeof(struct h2_dirent) + len, 8);
	struct h2_dirent *de;

	if (rd->used + need > rd->cap) {
		rd->full = true;
		return 1; /* not consumed: the next call starts with it */
	}
	de = (struct h2_dirent *)(rd->buf + rd->used);
	de->ino = inum;
	de->next = next;
	de->len = (u16)len;
	de->type = type;
	memcpy(de->name, name, len);
	rd->used += need;
	return 0;
}

/*
 * ctx->pos is the core's cookie (0 ".", 1 "..", then hash keys).  Cookies
 * stop below 2^63; LLONG_MAX marks the end, so a cookie past the very
 * last possible key cannot restart the scan.
 *
 * A damaged entry (EIO) ends the call before it if entries were emitted
 * (getdents would swallow the error behind its byte count); the next call
 * then starts at it, returns -EIO and moves past it, so a caller that
 * keeps reading sees the rest of the directory.
 */
static int h2_iterate(struct file *file, struct dir_context *ctx)
{
	struct inode *dir = file_inode(file);
	bool emitted = false;
	struct h2_rdbuf rd;
	int err = 0;

	rd.cap = H2_RDBUF_SIZE;
	rd.buf = kmalloc(rd.cap, GFP_KERNEL);
	if (rd.buf == NULL)
		return -ENOMEM;
	while (ctx->pos >= 0 && ctx->pos != LLONG_MAX) {
		u64 cookie = (u64)ctx->pos;
		size_t off;

		rd.used = 0;
		rd.full = false;
		err = hammer2_vop_readdir(H2_IP(dir), &cookie, h2_filldir, &rd);
		for (off = 0; off < rd.used;) {
			struct h2_dirent *de =
				(struct h2_dirent *)(rd.buf + off);

			if (!dir_emit(ctx, de->name, de->len, de->ino,
				      h2_type_to_dtype(de->type))) {
				err = 0;
				goto out;
			}
			emitted = true;
			ctx->pos = (loff_t)min_t(u64, de->next, LLONG_MAX);
			off += ALIGN(sizeof(*de) + de->len, 8);
		}
		if (err) {
			if (emitted) {
				err = 0; /* report it on the next call */
			} else if (cookie > (u64)ctx->pos) {
				/* the cookie is past the damaged entry */
				ctx->pos =
					(loff_t)min_t(u64, cookie, LLONG_MAX);
			}
			break;
		}
		if (!rd.full)
			break;
	}
out:
	kfree(rd.buf);
	return -err;
}

/* ---------------- symlinks ---------------- */

static const char *h2_get_link(struct dentry *dentry, struct inode *inode,
			       struct delayed_call *done)
{
	ssize_t n;
	char *buf;

	if (dentry == NULL)
		return ERR_PTR(-ECHILD); /* RCU walk: the core may sleep */
	buf = kmalloc(PATH_MAX, GFP_KERNEL);
	if (buf == NULL)
		return ERR_PTR(-ENOMEM);
	n = hammer2_vop_readlink(H2_IP(inode), buf, PATH_MAX - 1);
	if (n < 0) {
		kfree(buf);
		return ERR_PTR(n);
	}
	buf[n] = 0;
	set_delayed_call(done, kfree_link, buf);
	return buf;
}

/* ---------------- delayed-write reservations ---------------- */

/* Take up to n bytes of the inode's reservation, to hand to the core. */
static u64 h2_resv_take(struct inode *inode, u64 n)
{
	struct h2_inode_info *hi = H2_I(inode);
	u64 t;

	spin_lock(&hi->resv_lock);
	t = min(n, hi->resv);
	hi->resv -= t;
	spin_unlock(&hi->resv_lock);
	return t;
}

/* Put t bytes taken by h2_resv_take back into the inode's reservation. */
static void h2_resv_untake(struct inode *inode, u64 t)
{
	struct h2_inode_info *hi = H2_I(inode);

	spin_lock(&hi->resv_lock);
	hi->resv += t;
	spin_unlock(&hi->resv_lock);
}

/* Return t bytes taken from the inode's reservation to the core. */
static void h2_resv_give(struct inode *inode, u64 t)
{
	if (t && H2_IP(inode))
		hammer2_vop_unreserve(H2_IP(inode), t);
}

/* Give up to n bytes of the inode's reservation back to the core. */
static void h2_resv_put(struct inode *inode, u64 n)
{
	h2_resv_give(inode, h2_resv_take(inode, n));
}

/*
 * Writeback hands over a run's length plus one block per run, so writes
 * that overlapped dirty pages leave some reservation behind.  Once no
 * page is dirty and no write(2) is between its reservation and the end of
 * its copy (writers), everything still reserved belongs to data already
 * in the core: give it all back.
 */
static void h2_resv_settle(struct inode *inode)
{
	struct h2_inode_info *hi = H2_I(inode);
	u64 t = 0;

	/* taken in the same section: a write(2) starting now keeps its own */
	spin_lock(&hi->resv_lock);
	if (hi->writers == 0 &&
	    !mapping_tagged(inode->i_mapping, PAGECACHE_TAG_DIRTY)) {
		t = hi->resv;
		hi->resv = 0;
	}
	spin_unlock(&hi->resv_lock);
	h2_resv_give(inode, t);
}

/* Eviction: nothing of the inode is left to write. */
void h2_resv_release_all(struct inode *inode)
{
	h2_resv_put(inode, U64_MAX);
}

/*
 * Reserve want bytes for a write(2) (i_rwsem held) and count the caller
 * in writers (h2_resv_done ends that).  A full volume first gets this
 * inode's dirty pages written back and its leftover reservation returned,
 * then one more try.  0 or -errno (ENOSPC, EROFS, EIO).
 */
static int h2_resv_begin(struct inode *inode, u64 want)
{
	struct h2_inode_info *hi = H2_I(inode);
	int err;

	err = h2_dev_reserve(H2_SB(inode->i_sb)->dev, H2_IP(inode), want);
	if (err == -ENOSPC) {
		filemap_write_and_wait(inode->i_mapping);
		h2_resv_settle(inode);
		err = h2_dev_reserve(H2_SB(inode->i_sb)->dev, H2_IP(inode),
				     want);
	}
	if (err)
		return err;
	spin_lock(&hi->resv_lock);
	hi->resv += want;
	hi->writers++;
	spin_unlock(&hi->resv_lock);
	return 0;
}

/* The write(2) copied used of the want bytes it reserved. */
static void h2_resv_done(struct inode *inode, u64 want, u64 used)
{
	struct h2_inode_info *hi = H2_I(inode);

	spin_lock(&hi->resv_lock);
	hi->writers--;
	spin_unlock(&hi->resv_lock);
	if (used == 0)
		h2_resv_put(inode, want);
	else if (used + HAMMER2_PBUFSIZE < want)
		h2_resv_put(inode, want - used - HAMMER2_PBUFSIZE);
}

/* ---------------- the page cache ---------------- */

/*
 * A run of locked folios, contiguous in the file from pos, that the
 * core's copy callbacks read into or write from (hammer2_vop_read_cb,
 * hammer2_vop_write_cb).  The callbacks run under the core's device lock;
 * they only copy between kernel pages.
 */
struct h2_run {
	struct folio **folios;
	int n;
	loff_t pos;
	int cur;     /* cursor: folio index ... */
	u64 cur_rel; /* ... and its offset from pos (copies go forward) */
};

/*
 * The run's folio holding file offset foff and the offset in it (*in), or
 * NULL past the run.  Moves the cursor, so walks forward cost nothing.
 */
static struct folio *h2_run_seek(struct h2_run *r, u64 foff, size_t *in)
{
	u64 rel = foff - (u64)r->pos;

	if (foff < (u64)r->pos || rel < r->cur_rel) {
		r->cur = 0;
		r->cur_rel = 0;
	}
	while (r->cur < r->n) {
		size_t fs = folio_size(r->folios[r->cur]);

		if (rel - r->cur_rel < fs) {
			*in = (size_t)(rel - r->cur_rel);
			return r->folios[r->cur];
		}
		r->cur_rel += fs;
		r->cur++;
	}
	return NULL;
}

/*
 * Map the run's byte at file offset foff (kunmap_local when done): its
 * address and the bytes left in its page, or NULL past the run.
 */
static void *h2_run_map(struct h2_run *r, u64 foff, size_t *room)
{
	size_t in;
	struct folio *folio = h2_run_seek(r, foff, &in);

	if (folio == NULL) {
		*room = 0;
		return NULL;
	}
	*room = PAGE_SIZE - (in & (PAGE_SIZE - 1));
	return kmap_local_folio(folio, in);
}

/* hammer2_copy_fn for reads: core block (or zeros) into the folios. */
static void h2_run_fill(void *arg, uint64_t foff, uint8_t *kbuf, size_t n)
{
	while (n > 0) {
		size_t room, c;
		void *p = h2_run_map(arg, foff, &room);

		if (p == NULL)
			return;
		c = min(room, n);
		if (kbuf) {
			memcpy(p, kbuf, c);
			kbuf += c;
		} else {
			memset(p, 0, c);
		}
		kunmap_local(p);
		foff += c;
		n -= c;
	}
}

/* hammer2_copy_fn for writes: the folios into the core's block. */
static void h2_run_drain(void *arg, uint64_t foff, uint8_t *kbuf, size_t n)
{
	while (n > 0) {
		size_t room, c;
		void *p = h2_run_map(arg, foff, &room);

		if (p == NULL) {
			memset(kbuf, 0, n);
			return;
		}
		c = min(room, n);
		memcpy(kbuf, p, c);
		kunmap_local(p);
		kbuf += c;
		foff += c;
		n -= c;
	}
}

/*
 * Reads straight into the page cache (docs/DESIGN.md, "Reads straight into
 * the page cache"): blocks of a run that are on the media only are read by
 * bios into the run's pages outside the core's device lock and verified
 * by their check code; the rest comes through the core.  Counters (blocks
 * read straight in, and those read again through the core after a failed
 * check or I/O) are in /sys/module/hammer2/parameters/.
 */
#define H2_RMAP_MAX 40 /* pieces per plan: a 2 MiB window and its edges */

static atomic_long_t h2_direct_blocks, h2_direct_rereads, h2_ra_large;

static int h2_counter_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(kp->arg));
}

/* See hammer2_glue.h. */
const struct kernel_param_ops h2_counter_ops = {
	.get = h2_counter_get,
};
module_param_cb(direct_reads, &h2_counter_ops, &h2_direct_blocks, 0444);
MODULE_PARM_DESC(direct_reads, "blocks read straight into the page cache");
module_param_cb(direct_rereads, &h2_counter_ops, &h2_direct_rereads, 0444);
MODULE_PARM_DESC(
	direct_rereads,
	"of those, blocks read again through the core (check or I/O failed)");
module_param_cb(readahead_large_folios, &h2_counter_ops, &h2_ra_large, 0444);
MODULE_PARM_DESC(readahead_large_folios,
		 "folios larger than a page filled by readahead");

/* The page of the run at file offset foff (page aligned), or NULL. */
static struct page *h2_run_page(struct h2_run *r, u64 foff)
{
	size_t in;
	struct folio *folio = h2_run_seek(r, foff, &in);

	return folio ? folio_page(folio, in >> PAGE_SHIFT) : NULL;
}

/* Submit the bio of MEDIA piece m into b; false: take the core path. */
static bool h2_direct_submit(struct h2_bdev *d, struct h2_bio_batch *b,
			     struct h2_run *r, const hammer2_rmap_t *m)
{
	struct page *pages[HAMMER2_PBUFSIZE / PAGE_SIZE];
	unsigned int i, npages = DIV_ROUND_UP(m->pbytes, PAGE_SIZE);

	if (npages > ARRAY_SIZE(pages) || offset_in_page(m->foff))
		return false;
	for (i = 0; i < npages; i++) {
		pages[i] = h2_run_page(r, m->foff + (u64)i * PAGE_SIZE);
		if (pages[i] == NULL)
			return false;
	}
	return h2_bdev_read_pages(d, b, pages, m->pbytes, m->dev_off) == 0;
}

/* Verify the check code of MEDIA piece m over the run's pages. */
static bool h2_direct_verify(struct h2_run *r, const hammer2_rmap_t *m)
{
	hammer2_check_stream_t cs;
	u32 done = 0;

	if (!hammer2_check_stream_begin(&cs, &m->bref))
		return false;
	while (done < m->pbytes) {
		u32 len = min_t(u32, PAGE_SIZE, m->pbytes - done);
		struct page *page = h2_run_page(r, m->foff + done);
		void *p;

		if (page == NULL)
			return false;
		p = kmap_local_page(page);
		hammer2_check_stream_update(&cs, p, len);
		kunmap_local(p);
		done += len;
	}
	return hammer2_check_stream_end(&cs, &m->bref);
}

/* A piece through the core (CORE, or MEDIA that failed); 0 or -errno. */
static int h2_core_piece(struct inode *inode, struct h2_run *r,
			 const hammer2_rmap_t *m)
{
	ssize_t n = hammer2_vop_read_cb(H2_IP(inode), m->foff, m->bytes,
					h2_run_fill, r);

	if (n < 0)
		return (int)n;
	if ((u32)n < m->bytes)
		h2_run_fill(r, m->foff + (u64)n, NULL, m->bytes - (size_t)n);
	return 0;
}

/*
 * Fill [at, end) of a run of locked folios following one read plan (at
 * most H2_RMAP_MAX pieces); *atp advances past what was filled.
 * 0 or -errno.
 */
static int h2_run_plan(struct inode *inode, struct h2_run *r,
		       hammer2_rmap_t *map, loff_t *atp, loff_t end)
{
	struct h2_bdev *d = &H2_SB(inode->i_sb)->dev->io;
	struct h2_bio_batch batch;
	struct blk_plug plug;
	bool media[H2_RMAP_MAX];
	int n, i, err = 0, nmedia = 0;

	n = hammer2_vop_read_map(H2_IP(inode), (u64)*atp, (u64)(end - *atp),
				 map, H2_RMAP_MAX);
	if (n <= 0)
		return n;
	h2_batch_init(&batch);
	blk_start_plug(&plug); /* blocks back to back merge into one request */
	for (i = 0; i < n; i++) {
		media[i] = map[i].kind == HAMMER2_RMAP_MEDIA &&
			   h2_direct_submit(d, &batch, r, &map[i]);
		nmedia += media[i];
	}
	blk_finish_plug(&plug);
	if (nmedia && h2_batch_wait(&batch)) {
		/* which bio failed is not known: the core reads them all */
		for (i = 0; i < n; i++)
			if (media[i]) {
				media[i] = false;
				atomic_long_inc(&h2_direct_rereads);
			}
	}
	for (i = 0; i < n && err == 0; i++) {
		const hammer2_rmap_t *m = &map[i];

		if (media[i] && !h2_direct_verify(r, m)) {
			media[i] = false;
			atomic_long_inc(&h2_direct_rereads);
		}
		if (media[i]) {
			atomic_long_inc(&h2_direct_blocks);
			if (m->pbytes < m->bytes)
				h2_run_fill(r, m->foff + m->pbytes, NULL,
					    m->bytes - m->pbytes);
		} else if (m->kind == HAMMER2_RMAP_ZERO) {
			h2_run_fill(r, m->foff, NULL, m->bytes);
		} else {
			err = h2_core_piece(inode, r, m);
		}
	}
	*atp = (loff_t)(map[n - 1].foff + map[n - 1].bytes);
	return err ? err : n;
}

/*
 * Fill a run of locked folios: MEDIA blocks straight from the device, the
 * rest through the core (blocks adjacent on the media read together);
 * what lies past EOF is zeroed.  0 or -errno.
 */
static int h2_run_read(struct inode *inode, struct h2_run *r)
{
	loff_t isize = i_size_read(inode), end = r->pos, at = r->pos;
	hammer2_rmap_t *map = NULL;
	int i, err = 0;

	for (i = 0; i < r->n; i++)
		end += folio_size(r->folios[i]);
	/* a plan only pays for runs that can hold a whole block */
	if (end - r->pos > PAGE_SIZE && r->pos < isize)
		map = kmalloc_array(H2_RMAP_MAX, sizeof(*map), GFP_NOFS);
	while (map && at < min(end, isize)) {
		err = h2_run_plan(inode, r, map, &at, end);
		if (err <= 0)
			break;
		err = 0;
	}
	kfree(map);
	if (err < 0)
		return err;
	if (at < min(end, isize)) {
		ssize_t n = hammer2_vop_read_cb(H2_IP(inode), (u64)at,
						(size_t)(min(end, isize) - at),
						h2_run_fill, r);

		if (n < 0)
			return (int)n;
		at += n;
	}
	if (at < end)
		h2_run_fill(r, (u64)at, NULL, (size_t)(end - at));
	for (i = 0; i < r->n; i++)
		flush_dcache_folio(r->folios[i]);
	return 0;
}

/* Fill a locked folio from the core, zero past EOF.  0 or -errno. */
static int h2_fill_folio(struct inode *inode, struct folio *folio)
{
	struct h2_run r = { &folio, 1, folio_pos(folio), 0, 0 };

	return h2_run_read(inode, &r);
}

static int h2_read_folio(struct file *file, struct folio *folio)
{
	int err = h2_fill_folio(folio->mapping->host, folio);

	if (err == 0)
		folio_mark_uptodate(folio);
	else
		folio_set_error(folio);
	folio_unlock(folio);
	return err;
}

/*
 * Readahead: every folio of the window in one core call.  Windows of
 * H2_RA_ASYNC pages or more are filled by a worker (h2_ra_wq) while the
 * reader goes on copying the pages it has, so reading the device overlaps
 * with the reader; it waits on a folio's lock only when it gets there.
 * The folios stay locked until filled, which also keeps the inode from
 * being evicted meanwhile.  On an error the folios stay !uptodate and
 * read_folio retries them one by one (so only the bad block fails).
 */
#define H2_RA_ASYNC 16

struct h2_ra {
	struct work_struct work;
	struct inode *inode;
	struct h2_run run;
	struct folio *folios[];
};

static void h2_ra_fill(struct h2_ra *ra)
{
	int err = h2_run_read(ra->inode, &ra->run), i;

	for (i = 0; i < ra->run.n; i++) {
		if (err == 0)
			folio_mark_uptodate(ra->run.folios[i]);
		folio_unlock(ra->run.folios[i]);
	}
	kfree(ra);
}

static void h2_ra_worker(struct work_struct *work)
{
	h2_ra_fill(container_of(work, struct h2_ra, work));
}

static void h2_readahead(struct readahead_control *rac)
{
	loff_t pos = readahead_pos(rac), len = (loff_t)readahead_length(rac);
	loff_t isize = i_size_read(rac->mapping->host);
	loff_t start = round_down(pos, (loff_t)HAMMER2_PBUFSIZE);
	loff_t end = min(round_up(pos + len, (loff_t)HAMMER2_PBUFSIZE),
			 round_up(isize, (loff_t)PAGE_SIZE));
	unsigned int max;
	struct h2_ra *ra;
	struct folio *folio;

	/*
	 * Whole 64 KiB blocks (up to EOF) can be read straight into the
	 * folios; a window that cuts a block would read it through the core,
	 * and the next window would read it again.
	 */
	if (start < pos || end > pos + len)
		readahead_expand(rac, start,
				 (size_t)(max(end, pos + len) - start));
	max = readahead_count(rac);
	ra = kmalloc(struct_size(ra, folios, max), GFP_NOFS);
	if (ra == NULL)
		return; /* the folios are left for read_folio */
	ra->inode = rac->mapping->host;
	ra->run.folios = ra->folios;
	ra->run.n = 0;
	ra->run.pos = readahead_pos(rac);
	ra->run.cur = 0;
	ra->run.cur_rel = 0;
	while ((folio = readahead_folio(rac)) != NULL) {
		if ((unsigned int)ra->run.n < max) {
			ra->folios[ra->run.n++] = folio;
			if (folio_test_large(folio))
				atomic_long_inc(&h2_ra_large);
		} else {
			folio_unlock(folio); /* left for read_folio */
		}
	}
	if (ra->run.n == 0) {
		kfree(ra);
		return;
	}
	if (max >= H2_RA_ASYNC) {
		INIT_WORK(&ra->work, h2_ra_worker);
		queue_work(h2_ra_wq, &ra->work);
		return;
	}
	h2_ra_fill(ra);
}

/*
 * writepages: dirty folios go to the core in runs of contiguous folios (at
 * most H2_WB_RUN of them and H2_WB_RUN pages' worth of bytes, unless one
 * folio is larger), one core call per run, instead of one per page.  The
 * folios of a run stay locked until it is copied.
 */
#define H2_WB_RUN 256

struct h2_wb {
	struct inode *inode;
	struct folio *folios[H2_WB_RUN];
	struct h2_run run;
	int err;
};

/* Copy the gathered run into the core and release its pages. */
static void h2_wb_submit(struct h2_wb *wb)
{
	struct h2_run *r = &wb->run;
	loff_t isize = i_size_read(wb->inode), end = r->pos;
	ssize_t n = 0;
	int i;

	if (r->n == 0)
		return;
	for (i = 0; i < r->n; i++)
		end += folio_size(r->folios[i]);
	end = min(end, isize);
	if (end > r->pos)
		n = hammer2_vop_write_resv(
			H2_IP(wb->inode), (u64)r->pos, (size_t)(end - r->pos),
			h2_run_drain, r,
			h2_resv_take(wb->inode,
				     (u64)(end - r->pos) + HAMMER2_PBUFSIZE));
	if (n >= 0 && n != end - r->pos && end > r->pos)
		n = -EIO;
	if (n < 0) {
		mapping_set_error(wb->inode->i_mapping, (int)n);
		if (wb->err == 0)
			wb->err = (int)n;
	}
	for (i = 0; i < r->n; i++) {
		folio_start_writeback(r->folios[i]);
		folio_unlock(r->folios[i]);
		folio_end_writeback(r->folios[i]);
	}
	r->n = 0;
}

/*
 * On by default for blocks that are one folio (a write past EOF or into a
 * hole makes one, h2_append_folio): under TCG those cost less CPU and
 * time than the copy path and xfs.  Blocks tiled by smaller folios (16
 * pages of a rewrite) cost more than the copy (xxhash64 over scattered
 * pages), so they take the copy path unless direct_tiles is set.
 * BENCHMARKS.md, 2026-12-03 night.
 */
static bool h2_direct_writes = true;
module_param_named(direct_writes, h2_direct_writes, bool, 0644);
MODULE_PARM_DESC(direct_writes,
		 "writeback writes whole 64 KiB folios straight from the page "
		 "cache (default on)");
static bool h2_direct_tiles;
module_param_named(direct_tiles, h2_direct_tiles, bool, 0644);
MODULE_PARM_DESC(direct_tiles,
		 "direct writes also of blocks made of smaller folios "
		 "(default off)");
static atomic_long_t h2_direct_count, h2_direct_refused;
module_param_cb(direct_blocks_written, &h2_counter_ops, &h2_direct_count, 0444);
MODULE_PARM_DESC(direct_blocks_written,
		 "64 KiB blocks written straight from the page cache");
module_param_cb(direct_blocks_refused, &h2_counter_ops, &h2_direct_refused,
		0444);
MODULE_PARM_DESC(direct_blocks_refused,
		 "whole dirty blocks the core took through the copy path");

/*
 * Writeback straight from the page cache (docs/DESIGN.md): when the dirty
 * folios gathered in the run end with one whole 64 KiB block below EOF
 * (one 64 KiB append folio, or 16 pages, or anything between that tiles
 * it), the core places the block (hammer2_vop_write_direct: block
 * allocated, check code over the folios) and one bio writes it from
 * the folios themselves, issued before h2_wb_block returns.  The folios
 * stay under writeback until the bio completes (SB_I_STABLE_WRITES:
 * writers wait), and the next commit waits for it.  The run's folios before the block are copied into the
 * core first.  If the core refuses (compressible data, zeros, a block
 * modified in the core, ...), the block's folios stay in the run and are
 * copied with it.  Folios locked in the run; the block's are unlocked
 * and under writeback once taken.
 */
static void h2_wb_block(struct h2_wb *wb)
{
	struct inode *inode = wb->inode;
	struct h2_bdev *d = &H2_SB(inode->i_sb)->dev->io;
	struct h2_run *r = &wb->run;
	struct folio *last = r->folios[r->n - 1];
	loff_t end = folio_pos(last) + folio_size(last);
	loff_t start = end - HAMMER2_PBUFSIZE;
	struct hammer2_iov iov[HAMMER2_PBUFSIZE / PAGE_SIZE];
	int first = r->n - 1, cnt, k;
	u64 dev_off, t;
	unsigned int token;

	if (IS_ENABLED(CONFIG_HIGHMEM) || !READ_ONCE(h2_direct_writes) ||
	    (end & (HAMMER2_PBUFSIZE - 1)) || start < r->pos ||
	    end > i_size_read(inode))
		return;
	while (first > 0 && folio_pos(r->folios[first]) > start)
		first--;
	if (folio_pos(r->folios[first]) != start)
		return; /* a large folio reaches into the block from before */
	if (first < r->n - 1 && !READ_ONCE(h2_direct_tiles))
		return; /* several folios: the copy path (see above) */
	if (first > 0) {
		/* the run before the block goes first, through the core */
		int n = r->n;

		r->n = first;
		h2_wb_submit(wb);
		memmove(r->folios, r->folios + first,
			sizeof(*r->folios) * (size_t)(n - first));
		r->n = n - first;
		r->pos = start;
		r->cur = 0;
		r->cur_rel = 0;
	}
	cnt = r->n;
	for (k = 0; k < cnt; k++) {
		iov[k].iov_base = folio_address(r->folios[k]);
		iov[k].iov_len = folio_size(r->folios[k]);
	}
	t = h2_resv_take(inode, HAMMER2_PBUFSIZE);
	if (hammer2_vop_write_direct(H2_IP(inode), (u64)start, iov, cnt, t,
				     &dev_off, &token)) {
		h2_resv_untake(inode, t);
		atomic_long_inc(&h2_direct_refused);
		return;
	}
	for (k = 0; k < cnt; k++) {
		folio_start_writeback(r->folios[k]);
		folio_unlock(r->folios[k]);
	}
	/*
	 * Issued at once: a bio held while this thread sleeps (on a folio
	 * lock, on the device lock) could be what the sleep waits for (a
	 * flush, or a reader of a DIRECT block, waits for every direct write
	 * begun).  Blocks back to back merge in writepages' plug, which the
	 * block layer flushes whenever this thread sleeps.
	 */
	h2_bdev_direct_write(d, token, r->folios, cnt, dev_off);
	r->n = 0;
	atomic_long_inc(&h2_direct_count);
}

static int h2_wb_page(struct page *page, struct writeback_control *wbc,
		      void *data)
{
	struct h2_wb *wb = data;
	struct folio *folio = page_folio(page);
	struct h2_run *r = &wb->run;

	if (folio_pos(folio) >= i_size_read(wb->inode)) {
		/* wholly past EOF (truncated meanwhile): nothing to keep */
		folio_unlock(folio);
		return 0;
	}
	if (r->n > 0) {
		struct folio *last = r->folios[r->n - 1];

		if (r->n == H2_WB_RUN ||
		    folio_pos(last) + folio_size(last) != folio_pos(folio) ||
		    folio_pos(folio) + folio_size(folio) - r->pos >
			    (loff_t)H2_WB_RUN * PAGE_SIZE)
			h2_wb_submit(wb);
	}
	if (r->n == 0) {
		r->pos = folio_pos(folio);
		r->cur = 0;
		r->cur_rel = 0;
	}
	r->folios[r->n++] = folio;
	h2_wb_block(wb);
	return 0;
}

static int h2_writepages(struct address_space *mapping,
			 struct writeback_control *wbc)
{
	struct h2_wb *wb = kzalloc(sizeof(*wb), GFP_NOFS);
	struct blk_plug plug;
	int err;

	if (wb == NULL)
		return generic_writepages(mapping, wbc); /* page by page */
	wb->inode = mapping->host;
	wb->run.folios = wb->folios;
	/* direct writes' bios of blocks back to back merge here */
	blk_start_plug(&plug);
	err = write_cache_pages(mapping, wbc, h2_wb_page, wb);
	h2_wb_submit(wb);
	blk_finish_plug(&plug);
	if (err == 0)
		err = wb->err;
	kfree(wb);
	h2_resv_settle(mapping->host);
	return err;
}

/*
 * Copy a dirty folio (of any size) into the core at its offset, clamped to
 * i_size: reclaim's way, and writepages' without memory for a run.
 */
static int h2_writepage(struct page *page, struct writeback_control *wbc)
{
	struct folio *folio = page_folio(page);
	struct inode *inode = folio->mapping->host;
	loff_t isize = i_size_read(inode), pos = folio_pos(folio);
	struct h2_run r = { &folio, 1, pos, 0, 0 };
	size_t len = folio_size(folio);
	ssize_t n;

	if (pos >= isize) {
		/* wholly past EOF (truncated meanwhile): nothing to keep */
		folio_unlock(folio);
		return 0;
	}
	if (isize - pos < (loff_t)len)
		len = (size_t)(isize - pos);
	folio_start_writeback(folio);
	n = hammer2_vop_write_cb(H2_IP(inode), (u64)pos, len, h2_run_drain, &r);
	if (n >= 0 && (size_t)n != len)
		n = -EIO;
	if (n < 0)
		mapping_set_error(folio->mapping, (int)n);
	folio_unlock(folio);
	folio_end_writeback(folio);
	return n < 0 ? (int)n : 0;
}

static atomic_long_t h2_append_large;
module_param_cb(append_large_folios, &h2_counter_ops, &h2_append_large, 0444);
MODULE_PARM_DESC(append_large_folios,
		 "folios of a whole 64 KiB block made by writes past EOF or "
		 "into holes");
static bool h2_append_folios = true;
module_param_named(append_folios, h2_append_folios, bool, 0644);
MODULE_PARM_DESC(append_folios,
		 "writes past EOF or into holes make whole-block folios "
		 "(default on)");

/*
 * Does the core hold nothing for the 64 KiB block at byte offset off (a
 * hole, or past its EOF)?  Its pages in the page cache are not asked
 * about: the caller's filemap_add_folio fails if any is cached.
 */
static bool h2_block_is_hole(struct inode *inode, loff_t off)
{
	hammer2_rmap_t m;
	int n = hammer2_vop_read_map(H2_IP(inode), (u64)off, HAMMER2_PBUFSIZE,
				     &m, 1);

	return n == 0 || (n == 1 && m.kind == HAMMER2_RMAP_ZERO);
}

/*
 * A write into a 64 KiB block that has no page cached and holds no data:
 * wholly past EOF (an append), or a hole below it (a file extended by
 * ftruncate or fallocate, as fio lays its files out; the core is asked,
 * h2_block_is_hole).  The whole block becomes one folio, zeroed (such a
 * block reads as zeros) and uptodate, so the block's other 15 pages are
 * found in the cache by the writes that follow, and the block is
 * allocated, charged, put on the LRU, dirtied and written back once
 * instead of 16 times.  Returns the locked page for index inside it, or
 * NULL (the block holds data, a page of it is cached already, or no
 * memory for it): the caller then takes a page of its own.  i_rwsem held
 * (write_begin), so no write creates the block meanwhile.
 */
static struct page *h2_append_folio(struct address_space *mapping,
				    pgoff_t index)
{
	unsigned int order = HAMMER2_PBUFRADIX - PAGE_SHIFT;
	pgoff_t start = round_down(index, 1UL << order);
	struct folio *folio;
	gfp_t gfp;

	if (order == 0 || !READ_ONCE(h2_append_folios) ||
	    !mapping_large_folio_support(mapping))
		return NULL;
	if (((loff_t)start << PAGE_SHIFT) < i_size_read(mapping->host) &&
	    (filemap_range_has_page(mapping, (loff_t)start << PAGE_SHIFT,
				    ((loff_t)start << PAGE_SHIFT) +
					    HAMMER2_PBUFSIZE - 1) ||
	     !h2_block_is_hole(mapping->host, (loff_t)start << PAGE_SHIFT)))
		return NULL;
	/* __GFP_ZERO: cleared once, also where init_on_alloc clears too */
	gfp = mapping_gfp_mask(mapping) | __GFP_WRITE | __GFP_ZERO |
	      __GFP_NORETRY | __GFP_NOWARN;
	folio = filemap_alloc_folio(gfp, order);
	if (folio == NULL)
		return NULL;
	/* locks the folio; EEXIST if any page of the block is cached */
	if (filemap_add_folio(mapping, folio, start,
			      mapping_gfp_mask(mapping))) {
		folio_put(folio);
		return NULL;
	}
	folio_mark_uptodate(folio);
	atomic_long_inc(&h2_append_large);
	return folio_file_page(folio, index);
}

static int h2_write_begin(struct file *file, struct address_space *mapping,
			  loff_t pos, unsigned int len, struct page **pagep,
			  void **fsdata)
{
	struct inode *inode = mapping->host;
	pgoff_t index = pos >> PAGE_SHIFT;
	unsigned int from = pos & (PAGE_SIZE - 1);
	struct folio *folio;
	struct page *page;
	int err;

	page = h2_append_folio(mapping, index);
	if (page) {
		*pagep = page;
		return 0;
	}
	page = grab_cache_page_write_begin(mapping, index);
	if (page == NULL)
		return -ENOMEM;
	*pagep = page;
	folio = page_folio(page);
	if (folio_test_uptodate(folio))
		return 0;
	/*
	 * A page of its own that is written whole needs nothing read; a
	 * large folio (from readahead) is uptodate as a whole or not at all,
	 * so it is filled first.
	 */
	if (!folio_test_large(folio)) {
		if (len == PAGE_SIZE)
			return 0;
		if (page_offset(page) >= i_size_read(inode)) {
			/* nothing on media: zero around the part written */
			zero_user_segments(page, 0, from, from + len,
					   PAGE_SIZE);
			return 0;
		}
	}
	err = h2_fill_folio(inode, folio);
	if (err) {
		folio_unlock(folio);
		folio_put(folio);
		return err;
	}
	folio_mark_uptodate(folio);
	return 0;
}

static int h2_write_end(struct file *file, struct address_space *mapping,
			loff_t pos, unsigned int len, unsigned int copied,
			struct page *page, void *fsdata)
{
	struct inode *inode = mapping->host;

	if (!PageUptodate(page)) {
		/*
		 * Only a page of its own (see write_begin): a short copy into
		 * a page not read in is retried whole.
		 */
		if (copied < len) {
			copied = 0;
			goto out;
		}
		folio_mark_uptodate(page_folio(page));
	}
	if (pos + copied > inode->i_size)
		i_size_write(inode, pos + copied);
	set_page_dirty(page);
out:
	unlock_page(page);
	put_page(page);
	return (int)copied;
}

static const struct address_space_operations h2_aops = {
	.read_folio = h2_read_folio,
	.readahead = h2_readahead,
	.writepage = h2_writepage,
	.writepages = h2_writepages,
	.write_begin = h2_write_begin,
	.write_end = h2_write_end,
	.dirty_folio = filemap_dirty_folio,
	.migrate_folio = filemap_migrate_folio,
};

/* ---------------- files ---------------- */

/*
 * write(2): reserve room in the core for the data (ENOSPC, EROFS and EIO
 * are reported here, before anything changes), then a buffered write into
 * the page cache; writeback copies it into the core (see the file
 * comment).
 */
static ssize_t h2_file_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	ssize_t ret;
	u64 want;
	int err;

	iocb->ki_flags &= ~IOCB_DIRECT; /* no O_DIRECT (no direct_IO) */
	inode_lock(inode);
	ret = generic_write_checks(iocb, from);
	if (ret <= 0)
		goto out;
	want = (u64)ret + HAMMER2_PBUFSIZE;
	err = h2_resv_begin(inode, want);
	if (err) {
		ret = err;
		goto out;
	}
	ret = __generic_file_write_iter(iocb, from);
	h2_resv_done(inode, want, ret > 0 ? (u64)ret : 0);
out:
	inode_unlock(inode);
	if (ret > 0)
		ret = generic_write_sync(iocb, ret);
	return ret;
}

/*
 * fsync/fdatasync: dirty pages into the core, the inode's times into the
 * core, then a full flush (the core has no per-inode flush).
 */
static int h2_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	struct inode *inode = file_inode(file);
	int err;

	err = file_write_and_wait_range(file, start, end);
	if (err)
		return err;
	if (sb_rdonly(inode->i_sb))
		return 0;
	err = sync_inode_metadata(inode, 1);
	if (err)
		return err;
	return -hammer2_vop_fsync(H2_IP(inode));
}

/* fallocate: only mode 0, which extends the size (no preallocation). */
static long h2_fallocate(struct file *file, int mode, loff_t offset, loff_t len)
{
	struct inode *inode = file_inode(file);
	loff_t end = offset + len;
	int err = 0;

	if (mode != 0)
		return -EOPNOTSUPP;
	if (!S_ISREG(inode->i_mode))
		return -ENODEV;
	inode_lock(inode);
	if (end > i_size_read(inode)) {
		err = inode_newsize_ok(inode, end);
		if (err == 0)
			err = file_modified(file);
		if (err == 0)
			err = -hammer2_vop_truncate(H2_IP(inode), (u64)end);
		if (err == 0)
			truncate_setsize(inode, end);
	}
	inode_unlock(inode);
	return err;
}

/*
 * llseek: SEEK_DATA/SEEK_HOLE ask the core, after the page cache's dirty
 * pages (mmap) have reached it; the rest is generic.
 */
static loff_t h2_llseek(struct file *file, loff_t off, int whence)
{
	struct inode *inode = file_inode(file);
	u64 res = 0;
	int err;

	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return generic_file_llseek(file, off, whence);
	if (off < 0)
		return -ENXIO;
	inode_lock_shared(inode);
	err = filemap_write_and_wait(inode->i_mapping);
	if (err == 0)
		err = -hammer2_vop_seek(H2_IP(inode), (u64)off,
					whence == SEEK_HOLE, &res);
	inode_unlock_shared(inode);
	if (err)
		return err;
	return vfs_setpos(file, (loff_t)res, inode->i_sb->s_maxbytes);
}

/* Readahead windows of up to 2 MiB: 32 blocks of 64 KiB read as one run. */
static int h2_file_open(struct inode *inode, struct file *file)
{
	int err = generic_file_open(inode, file);

	if (err == 0)
		file->f_ra.ra_pages = max_t(unsigned int, file->f_ra.ra_pages,
					    SZ_2M >> PAGE_SHIFT);
	return err;
}

static const struct file_operations h2_file_fops = {
	.llseek = h2_llseek,
	.read_iter = generic_file_read_iter,
	.write_iter = h2_file_write_iter,
	.mmap = generic_file_mmap,
	.open = h2_file_open,
	.fsync = h2_fsync,
	.fallocate = h2_fallocate,
	.splice_read = generic_file_splice_read,
	.splice_write = iter_file_splice_write,
};

static const struct file_operations h2_dir_fops = {
	.llseek = generic_file_llseek,
	.read = generic_read_dir,
	.iterate_shared = h2_iterate,
	.fsync = h2_fsync,
};

static const struct inode_operations h2_dir_iops = {
	.lookup = h2_lookup,
	.create = h2_create,
	.mkdir = h2_mkdir,
	.mknod = h2_mknod,
	.symlink = h2_symlink,
	.unlink = h2_unlink,
	.rmdir = h2_rmdir,
	.rename = h2_rename,
	.link = h2_link,
	.setattr = h2_setattr,
	.getattr = h2_getattr,
};

static const struct inode_operations h2_file_iops = {
	.setattr = h2_setattr,
	.getattr = h2_getattr,
};

static const struct inode_operations h2_symlink_iops = {
	.get_link = h2_get_link,
	.setattr = h2_setattr,
	.getattr = h2_getattr,
};

static const struct inode_operations h2_special_iops = {
	.setattr = h2_setattr,
	.getattr = h2_getattr,
};
