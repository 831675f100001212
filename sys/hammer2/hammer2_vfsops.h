/*
 * hammer2_vfsops.h - the VFS-neutral API of the HAMMER2 core.
 *
 * Callers: the Linux glue (sys/hammer2/linux), the userland tools
 * (sbin), the simulator (sim/).  Every function here takes the device
 * lock itself; callers hold no lock.  Return values are 0 or a positive
 * errno (as documented in man 2 for the matching system call), except the
 * ssize_t I/O calls which return bytes or -errno.
 *
 * Inode references: every hammer2_inode_t * returned is referenced; the
 * caller releases it with hammer2_inode_drop().
 */
#ifndef HAMMER2_VFSOPS_H
#define HAMMER2_VFSOPS_H

#include "hammer2.h"

/* Attributes, in units a POSIX stat needs. */
struct hammer2_vattr {
	uint8_t type;  /* HAMMER2_OBJTYPE_* */
	uint32_t mode; /* permission bits (07777) */
	uint32_t uid, gid;
	uint64_t size; /* bytes */
	uint64_t nlinks;
	uint64_t inum;
	uint64_t atime_us, mtime_us, ctime_us, btime_us; /* since the epoch */
	uint32_t rmajor, rminor;			 /* device nodes */
	uint64_t phys_bytes; /* bytes of media below the inode (du) */
	uint8_t comp_algo;   /* HAMMER2_COMP_* | level << 4 */
	uint8_t check_algo;  /* HAMMER2_CHECK_* */
};

/* setattr mask */
#define HAMMER2_VA_MODE 0x0001
#define HAMMER2_VA_UID 0x0002
#define HAMMER2_VA_GID 0x0004
#define HAMMER2_VA_SIZE 0x0008
#define HAMMER2_VA_ATIME 0x0010
#define HAMMER2_VA_MTIME 0x0020
#define HAMMER2_VA_CTIME 0x0040

/* rename flags (Linux renameat2 values) */
#define HAMMER2_RENAME_NOREPLACE 0x0001
#define HAMMER2_RENAME_EXCHANGE 0x0002

struct hammer2_statfs {
	uint64_t total_bytes; /* allocator_size */
	uint64_t free_bytes;  /* free per the freemap */
	uint64_t block_size;  /* 65536 */
	uint64_t files;	      /* inodes in this PFS (inum allocator) */
	uint64_t namelen;     /* 255 */
};

/*
 * readdir callback: name (not terminated) of len bytes, its inum and
 * HAMMER2_OBJTYPE_*, and the cookie to resume after this entry.  Return
 * nonzero to stop the scan (the entry is then not consumed).  It runs
 * with the device lock held: it must not call back into this API.
 */
typedef int (*hammer2_filldir_t)(void *arg, const char *name, size_t len,
				 uint64_t inum, uint8_t type, uint64_t next);

/*
 * Mount PFS 'label' (NULL = "DATA") of an open device.  Errors: ENOENT no
 * such PFS, EIO, ENOMEM.  A device may have several PFSs mounted.
 */
int hammer2_pfs_mount(hammer2_dev_t *hmp, const char *label,
		      hammer2_pfs_t **pmpp);
/* Release a PFS mount (inodes must all be dropped by the caller). */
int hammer2_pfs_unmount(hammer2_pfs_t *pmp);
/*
 * Call fn for every PFS root under the super-root with its name, pfs_type
 * and inode data; stops when fn returns nonzero.  errno.
 */
int hammer2_pfs_iterate(hammer2_dev_t *hmp,
			int (*fn)(void *arg, const char *name, int pfs_type,
				  const hammer2_inode_data_t *ipdata),
			void *arg);
/*
 * Create a new PFS (empty root directory) under the super-root.  Errors:
 * EEXIST, ENAMETOOLONG, ENOSPC, EROFS.
 */
int hammer2_pfs_create(hammer2_dev_t *hmp, const char *label, int pfs_type);

/* Flush everything to media (see hammer2_flush).  errno. */
int hammer2_vfs_sync(hammer2_dev_t *hmp);
int hammer2_vfs_statfs(hammer2_pfs_t *pmp, struct hammer2_statfs *st);
/* Referenced root directory inode of the PFS. */
hammer2_inode_t *hammer2_vfs_root(hammer2_pfs_t *pmp);

void hammer2_inode_ref(hammer2_inode_t *ip);
void hammer2_inode_drop(hammer2_inode_t *ip);

/* Name lookup in directory dip.  ENOENT, ENOTDIR, ENAMETOOLONG, EIO. */
int hammer2_vop_lookup(hammer2_inode_t *dip, const char *name, size_t len,
		       hammer2_inode_t **ipp);
/*
 * Create name in dip with va->type/mode/uid/gid/rmajor/rminor (times from
 * the device clock unless va's times are nonzero).  For SOFTLINK, link is
 * the target (linklen bytes).  EEXIST, ENOTDIR, ENAMETOOLONG, ENOSPC,
 * EROFS, EIO.
 */
int hammer2_vop_create(hammer2_inode_t *dip, const char *name, size_t len,
		       const struct hammer2_vattr *va, const char *link,
		       size_t linklen, hammer2_inode_t **ipp);
/*
 * link(2): give ip another name in tdip.  The inode moves to a hidden key
 * (its inum) in the PFS root and each name becomes a forwarding entry
 * (docs/FORMAT.md).  EPERM for directories, EEXIST, ENOTDIR,
 * ENAMETOOLONG, EXDEV (other PFS), ENOSPC, EROFS, EIO.
 */
int hammer2_vop_link(hammer2_inode_t *ip, hammer2_inode_t *tdip,
		     const char *name, size_t len);
/* unlink(2) of a non-directory: ENOENT, EISDIR, EROFS, EIO. */
int hammer2_vop_remove(hammer2_inode_t *dip, const char *name, size_t len);
/* rmdir(2): ENOENT, ENOTDIR, ENOTEMPTY, EROFS, EIO. */
int hammer2_vop_rmdir(hammer2_inode_t *dip, const char *name, size_t len);
/*
 * rename(2)/renameat2(2) semantics: replaces a compatible target (EISDIR,
 * ENOTDIR, ENOTEMPTY otherwise), EINVAL when moving a directory below
 * itself, EEXIST with NOREPLACE, ENOENT.
 */
int hammer2_vop_rename(hammer2_inode_t *fdip, const char *fname, size_t flen,
		       hammer2_inode_t *tdip, const char *tname, size_t tlen,
		       int flags);
/*
 * Read directory entries from *cookie on: 0 gives ".", 1 "..", then the
 * entries in hash order.  Cookies stay valid across inserts, deletes and
 * indirect block splits.  *cookie is advanced past what fn accepted.  An
 * entry whose inode cannot be read returns EIO with *cookie already past
 * it, so the caller may report it and call again to continue.
 */
int hammer2_vop_readdir(hammer2_inode_t *dip, uint64_t *cookie,
			hammer2_filldir_t fn, void *arg);
/* Piece copier of hammer2_vop_read_cb/write_cb (see there). */
typedef void (*hammer2_copy_fn)(void *arg, uint64_t foff, uint8_t *kbuf,
				size_t n);
/* pread/pwrite semantics; bytes or -errno (EISDIR, EFBIG, ENOSPC, EIO). */
ssize_t hammer2_vop_read(hammer2_inode_t *ip, void *buf, size_t len,
			 uint64_t off);
ssize_t hammer2_vop_write(hammer2_inode_t *ip, const void *buf, size_t len,
			  uint64_t off);
/*
 * Scatter/gather form of read and write, for callers whose memory is not
 * one buffer (the page cache).  The core calls fn for each piece in file
 * order, under the device lock (fn must not sleep on anything the core
 * may hold, nor touch user memory): fn(arg, foff, kbuf, n) copies n bytes
 * for file offset foff out of kbuf (read; kbuf NULL: n zero bytes) or
 * into kbuf (write).  Results and errors as hammer2_vop_read/write; a
 * read of several blocks reads blocks adjacent on the media together.
 */
ssize_t hammer2_vop_read_cb(hammer2_inode_t *ip, uint64_t off, size_t len,
			    hammer2_copy_fn fn, void *arg);
ssize_t hammer2_vop_write_cb(hammer2_inode_t *ip, uint64_t off, size_t len,
			     hammer2_copy_fn fn, void *arg);
/*
 * Read plan for memory the caller fills itself (the kernel's readahead
 * reads MEDIA blocks straight into page cache folios, docs/DESIGN.md):
 * len bytes of the caller's memory start at file offset off.  map[0..n)
 * gets one piece per 64 KiB logical block of [off, min(off + len, size)),
 * in file order and back to back from off (a short n: EOF or max pieces;
 * the caller zeroes what lies past the last piece):
 *   HAMMER2_RMAP_ZERO   a hole: bytes zeros;
 *   HAMMER2_RMAP_MEDIA  the block is on the media only, uncompressed:
 *                       pbytes (1 KiB..64 KiB, within the caller's len
 *                       from off but possibly past bytes) at device byte
 *                       offset dev_off belong at foff; bytes past pbytes
 *                       are zeros.  Verify them with hammer2_check_stream_*
 *                       against bref; on a mismatch or an I/O error read
 *                       the piece with hammer2_vop_read_cb, which re-reads
 *                       it under the device lock (right data, or EIO and a
 *                       log line naming the block);
 *   HAMMER2_RMAP_CORE   read the piece with hammer2_vop_read_cb.
 * The plan is only a hint: a MEDIA block may be freed and reused once the
 * device lock is dropped, which its check code then shows.  Returns n >= 0,
 * or -errno (EISDIR, EIO).
 */
#define HAMMER2_RMAP_ZERO 0
#define HAMMER2_RMAP_MEDIA 1
#define HAMMER2_RMAP_CORE 2
typedef struct hammer2_rmap {
	uint64_t foff;		 /* file offset of the piece (bytes) */
	uint64_t dev_off;	 /* MEDIA: device byte offset */
	uint32_t bytes;		 /* length of the piece (bytes, <= 64 KiB) */
	uint32_t pbytes;	 /* MEDIA: bytes on the media */
	uint8_t kind;		 /* HAMMER2_RMAP_* */
	hammer2_blockref_t bref; /* MEDIA: the block's blockref */
} hammer2_rmap_t;
int hammer2_vop_read_map(hammer2_inode_t *ip, uint64_t off, uint64_t len,
			 hammer2_rmap_t *map, int max);
/*
 * Delayed writes (the Linux page cache): hammer2_vop_reserve promises
 * 'bytes' of free space to data that will be written later, so that a
 * full volume fails the write(2) rather than the writeback.  Reserve the
 * data's length plus HAMMER2_PBUFSIZE (one logical block of copy-on-write
 * per call).  Reservations count against free space (statfs, every later
 * reservation) until hammer2_vop_write_resv converts 'resv' bytes of them
 * into the buffered data it writes (atomically: the room cannot be taken
 * by another writer in between), or hammer2_vop_unreserve gives them back
 * (data that will not be written; more than is reserved is clamped).
 * reserve: ENOSPC (after one flush to reclaim queued frees), EROFS, EIO.
 * write_resv: as hammer2_vop_write_cb; the reservation is consumed even
 * when it fails.
 */
int hammer2_vop_reserve(hammer2_inode_t *ip, uint64_t bytes);
void hammer2_vop_unreserve(hammer2_inode_t *ip, uint64_t bytes);
/* hammer2_vop_unreserve for reservations not tied to one inode. */
void hammer2_vfs_unreserve(hammer2_dev_t *hmp, uint64_t bytes);
ssize_t hammer2_vop_write_resv(hammer2_inode_t *ip, uint64_t off, size_t len,
			       hammer2_copy_fn fn, void *arg, uint64_t resv);
/*
 * Write the 64 KiB logical block at file offset off (a multiple of 64 KiB;
 * the block must lie wholly below the caller's EOF, and the file's size
 * in the core grows to its end) straight from the caller's memory, without
 * a copy into the core (docs/DESIGN.md, writeback straight from the page
 * cache).  On success (0) the block is allocated at *dev_offp (device
 * byte offset) and the file references it in memory; the caller must
 * write the block's HAMMER2_PBUFSIZE bytes, the cnt buffers of iov in
 * order (one buffer, or the page cache's pages), there, unchanged until
 * that write completes, and with direct devops tell its completion of token
 * *tokenp (hammer2_devops direct_begin); the next commit waits for it.
 * resv: bytes of the caller's delayed-write reservation that become the
 * block's room (as hammer2_vop_write_resv); they stay reserved when it
 * fails.  It never flushes: the caller may hold direct writes it has not
 * issued yet, which a flush would wait for.  Errors (positive errno):
 * EAGAIN when the core will not take the block this way (write it through
 * hammer2_vop_write_resv: see hammer2_file_write_direct; also when its
 * room would take a flush), ENOSPC, EROFS, EIO, ENOMEM; the caller then
 * issues what it holds and uses the copy path, which reports the error if
 * it is real.
 */
int hammer2_vop_write_direct(hammer2_inode_t *ip, uint64_t off,
			     const struct hammer2_iov *iov, int cnt,
			     uint64_t resv, uint64_t *dev_offp,
			     unsigned *tokenp);
/*
 * lseek(2) SEEK_DATA (hole 0) or SEEK_HOLE (hole 1) from byte off: the
 * offset found in *resp.  Data and holes are told apart per 64 KiB
 * logical block (a block that exists is data); EOF is a hole.  Errors:
 * ENXIO (off >= size, or no data at or after off), EISDIR, EIO.
 */
int hammer2_vop_seek(hammer2_inode_t *ip, uint64_t off, int hole,
		     uint64_t *resp);
/* truncate(2): EISDIR, EFBIG, EROFS, EIO. */
int hammer2_vop_truncate(hammer2_inode_t *ip, uint64_t size);
int hammer2_vop_getattr(hammer2_inode_t *ip, struct hammer2_vattr *va);
/* Apply the fields of va selected by mask (HAMMER2_VA_*). */
int hammer2_vop_setattr(hammer2_inode_t *ip, const struct hammer2_vattr *va,
			int mask);
/* Symlink target into buf (not terminated); bytes or -errno (EINVAL). */
ssize_t hammer2_vop_readlink(hammer2_inode_t *ip, char *buf, size_t len);
/*
 * Make the inode durable: a commit of everything modified (the core has one
 * flush domain), without the freemap (hammer2_flush_mode; recovered after
 * a crash, docs/DESIGN.md).  errno: EIO, ENOSPC.
 */
int hammer2_vop_fsync(hammer2_inode_t *ip);
/*
 * Set the compression (HAMMER2_COMP_* | level << 4) or check algorithm
 * (HAMMER2_CHECK_*) of an inode; new files in a directory inherit it.
 */
int hammer2_vop_setcomp(hammer2_inode_t *ip, uint8_t comp_algo);
int hammer2_vop_setcheck(hammer2_inode_t *ip, uint8_t check_algo);
/*
 * Resolve a '/'-separated path from the PFS root (helper for tools and the
 * simulator).  Leading, repeated and trailing '/' and "." components are
 * ignored ("" and "/" are the root); ".." is refused with EINVAL.
 * ENOENT, ENOTDIR, EINVAL.
 */
int hammer2_vop_namei(hammer2_pfs_t *pmp, const char *path,
		      hammer2_inode_t **ipp);

#endif /* HAMMER2_VFSOPS_H */
