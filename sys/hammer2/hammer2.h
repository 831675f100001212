/*
 * hammer2.h - in-memory structures and the VFS-neutral API of the core.
 *
 * Layering (docs/DESIGN.md):
 *   hammer2_vfsops.c   API below: mount/unmount/sync/statfs and per-inode
 *                      lookup/create/.../read/write; errno at this edge.
 *   hammer2_inode.c    inodes, directories, name hashing, file data.
 *   hammer2_chain.c    in-memory COW topology over blockrefs.
 *   hammer2_flush.c    transaction ids, bottom-up writes, volume commit.
 *   hammer2_freemap.c  HAMMER2's freemap: 2-bit bitmaps, classes, reserve.
 *   hammer2_subr.c     dirhash, check codes, compression framing, errors.
 *   hammer2_io.c       device I/O through struct hammer2_devops.
 *
 * Locking: one mutex per device (hmp->lock) serialises every core
 * operation; API entry points take it.  A flush computes the new topology
 * under the lock and writes it without the lock (flush_busy/flush_lock
 * keep one flush at a time; see hammer2_flush.c for the synchronization
 * point).
 *
 * Errors: internal functions return HAMMER2_ERROR_* bit flags;
 * hammer2_error_to_errno() turns them into errno at the API.
 */
#ifndef HAMMER2_H
#define HAMMER2_H

#include "hammer2_os.h"
#include "hammer2_disk.h"

/* Internal error flags (HAMMER2 style, combinable). */
#define HAMMER2_ERROR_NONE 0x00000000
#define HAMMER2_ERROR_EIO 0x00000001	 /* device I/O error */
#define HAMMER2_ERROR_CHECK 0x00000002	 /* check code mismatch */
#define HAMMER2_ERROR_BADBREF 0x00000004 /* illegal blockref or media */
#define HAMMER2_ERROR_ENOSPC 0x00000008
#define HAMMER2_ERROR_ENOENT 0x00000010
#define HAMMER2_ERROR_ENOTEMPTY 0x00000020
#define HAMMER2_ERROR_EAGAIN 0x00000040
#define HAMMER2_ERROR_ENOTDIR 0x00000080
#define HAMMER2_ERROR_EISDIR 0x00000100
#define HAMMER2_ERROR_EINPROGRESS 0x00000200
#define HAMMER2_ERROR_ABORTED 0x00000400
#define HAMMER2_ERROR_EOF 0x00000800
#define HAMMER2_ERROR_EINVAL 0x00001000
#define HAMMER2_ERROR_EEXIST 0x00002000
#define HAMMER2_ERROR_EDEADLK 0x00004000
#define HAMMER2_ERROR_ESRCH 0x00008000
#define HAMMER2_ERROR_ETIMEDOUT 0x00010000
#define HAMMER2_ERROR_ENOMEM 0x00020000
#define HAMMER2_ERROR_ENAMETOOLONG 0x00040000
#define HAMMER2_ERROR_EROFS 0x00080000
#define HAMMER2_ERROR_EFBIG 0x00100000
#define HAMMER2_ERROR_EXDEV 0x00200000
#define HAMMER2_ERROR_EPERM 0x00400000
#define HAMMER2_ERROR_ENXIO 0x00800000 /* lseek SEEK_DATA/SEEK_HOLE */

/* errno for a set of error flags (0 for none), the one conversion point. */
int hammer2_error_to_errno(int error);

/*
 * Device operations.  Every media access and every source of time or
 * randomness goes through this table, so the simulator can supply a
 * simulated disk and clock.  Offsets and lengths are bytes.
 *
 * read/write:  return 0 or a positive errno; short transfers are errors.
 * flush:       write barrier; all earlier writes durable on return.
 * time_us:     current time, microseconds since the epoch.
 * random:      fill buf with random bytes (uuids only).
 *
 * Optional (NULL: the core copies into one buffer and uses read/write):
 * readv/writev: one run of cnt buffers lying back to back on the media
 *              from byte offset off (each iov_len a multiple of 512, at
 *              most HAMMER2_IOV_MAX buffers).  readv returns with the data
 *              in place.  writev may return before the data reaches the
 *              device: the core leaves the buffers untouched until wait
 *              returns; an error may be reported by writev or by wait.
 * readm:       n runs as for readv (req[i].iov, .cnt, .off), issued
 *              together so the device works on them at once.  Returns 0
 *              when all have completed, with req[i].error 0 or a positive
 *              errno for each run; or a positive errno (ENOMEM) without
 *              reading, and the core then calls readv once per run, one
 *              after the other, as it does when readm is NULL.
 * wait:        every writev issued so far has completed; 0 or EIO.
 *              Needed only when writev is asynchronous.
 * name:        the device's name for log lines (a block device's name,
 *              an image path), or NULL.  Optional.
 * kick:        ask for a background flush soon (hammer2_vfs_sync from
 *              another thread); called with the device lock held, must
 *              not block.  Without it the frontend flushes itself when
 *              its dirty limit is reached.
 *
 * Direct writes (hammer2_vop_write_direct: the caller writes a data block
 * from its own memory after the core has given the block its place, see
 * docs/DESIGN.md).  Optional, all three or none; without them the caller
 * must have written the block before it calls into the core again (a
 * synchronous caller, as the tools and tests are).  Device lock held:
 * direct_begin:  one more direct write is about to be issued; returns the
 *              token (an epoch) the caller hands to its completion.
 * direct_fence:  the direct writes begun so far are the ones the next
 *              direct_wait(ctx, 0) waits for (the flush calls it as it
 *              takes its snapshot of the tree).
 * direct_wait:   wait until the direct writes before the last fence have
 *              completed (all 0) or every direct write begun so far (all
 *              1, only with the device lock held, so none can begin);
 *              0, or EIO when one of them failed since the last wait.
 *              Without the device lock (all 0) it may sleep long.
 */
#define HAMMER2_IOV_MAX 256
struct hammer2_iov {
	void *iov_base;
	size_t iov_len; /* bytes */
};

/* One run of a readm batch (see above); error is set by readm. */
struct hammer2_ioreq {
	const struct hammer2_iov *iov;
	int cnt;
	uint64_t off; /* bytes */
	int error;    /* 0 or a positive errno */
};

struct hammer2_devops {
	int (*read)(void *ctx, void *buf, size_t bytes, uint64_t off);
	int (*write)(void *ctx, const void *buf, size_t bytes, uint64_t off);
	int (*flush)(void *ctx);
	uint64_t (*time_us)(void *ctx);
	void (*random)(void *ctx, void *buf, size_t bytes);
	int (*readv)(void *ctx, const struct hammer2_iov *iov, int cnt,
		     uint64_t off);
	int (*writev)(void *ctx, const struct hammer2_iov *iov, int cnt,
		      uint64_t off);
	int (*wait)(void *ctx);
	void (*kick)(void *ctx);
	int (*readm)(void *ctx, struct hammer2_ioreq *req, int n);
	const char *(*name)(void *ctx);
	unsigned (*direct_begin)(void *ctx);
	void (*direct_fence)(void *ctx);
	int (*direct_wait)(void *ctx, int all);
};

typedef struct hammer2_dev hammer2_dev_t;
typedef struct hammer2_pfs hammer2_pfs_t;
typedef struct hammer2_chain hammer2_chain_t;
typedef struct hammer2_inode hammer2_inode_t;

/*
 * Chain flags.
 *
 * MODIFIED   the chain's data changed since it was last written; at flush
 *            it gets a new block (copy-on-write, never in place).
 * UPDATE     the chain's bref must be copied into the parent's array.
 * ONFLUSH    some descendant is MODIFIED/UPDATE: flush must descend.
 * DELETED    removed from its parent (detached); never written.
 * INITIAL    created in memory, no media block yet (data zero-filled).
 * IOFLUSH    set on chains queued for writing by the current flush.
 */
#define HAMMER2_CHAIN_MODIFIED 0x0001
#define HAMMER2_CHAIN_UPDATE 0x0002
#define HAMMER2_CHAIN_ONFLUSH 0x0004
#define HAMMER2_CHAIN_DELETED 0x0008
#define HAMMER2_CHAIN_INITIAL 0x0010
#define HAMMER2_CHAIN_ONLRU 0x0020
#define HAMMER2_CHAIN_EMBEDDED 0x0040  /* bref lives in the volume header */
#define HAMMER2_CHAIN_ACCOUNTED 0x0080 /* counted in hmp->dirty_bytes */
/* data lent to the write queue of the flush in progress (chain->wqi) */
#define HAMMER2_CHAIN_IOBUSY 0x0100
/*
 * DATA written in whole 4 KiB units without reading the old block first:
 * only the units in chain->pvalid are valid; the rest come from the old
 * block (still chain->bref) when the chain is loaded (hammer2_chain_load,
 * hammer2_chain_load_many), at the latest by the next flush.
 */
#define HAMMER2_CHAIN_PARTIAL 0x0200
#define HAMMER2_PARTIAL_UNIT 4096
/*
 * DATA last modified by a write of part of the block: its data is kept in
 * the chain cache even with hmp->drop_clean_data, since the next small
 * write into it would otherwise read the block back (databases).
 */
#define HAMMER2_CHAIN_SUBWRITE 0x0400
/*
 * DATA written straight from the caller's memory (hammer2_vop_write_
 * direct): MODIFIED without a buffer; its bref (data_off, check code) is
 * final, the block is allocated and its write may still be in flight.
 * The flush only puts the bref into the parent (after direct_wait); a
 * modification first waits for the write and then treats the block as
 * the chain's old one (freed when the flush gives the chain a new one).
 */
#define HAMMER2_CHAIN_DIRECT 0x0800

/*
 * An in-memory chain: one blockref and (when loaded) its logical data.
 *
 * NOTE: The parent's blockref array (inode blockset, indirect block,
 *	 volume header blockset) is the authority for which children exist.
 *	 children[i] caches the chain of slot i; slots are kept sorted by key
 *	 and packed (live entries first), as HAMMER2 keeps them.  A loaded
 *	 child's own bref is newer than the array slot while it carries
 *	 UPDATE; flush copies it back.
 */
struct hammer2_chain {
	hammer2_blockref_t bref;
	hammer2_dev_t *hmp;
	hammer2_chain_t *parent;
	hammer2_chain_t **children; /* parallel to the base array (or NULL) */
	int nchildren;		    /* children[] entries that are non-NULL */
	int refs;		    /* holders besides the parent's cache */
	uint32_t flags;
	uint32_t bytes; /* logical bytes of data (0 = not loaded) */
	uint8_t *data;	/* logical (decompressed) contents */
	hammer2_chain_t *lru_prev, *lru_next;
	uint32_t lru_bytes;   /* data bytes counted in hmp->lru_data */
	uint8_t comp_algo;    /* DATA: requested compression (inode's) */
	uint8_t comp_fails;   /* inode: consecutive incompressible DATA */
	uint8_t comp_backoff; /* inode: skip windows in a row that failed */
	uint16_t comp_skip;   /* inode: DATA blocks left to store raw */
	uint32_t wqi;	      /* IOBUSY: index + 1 of its hmp->wq entry */
	uint16_t pvalid;      /* PARTIAL: valid 4 KiB units (bit n: unit n) */
};

/*
 * In-memory inode.  Its chain is the INODE blockref inside its directory
 * (seed-era layout: inodes are directory entries).  ip->chain changes on
 * rename.  Inodes are found by inum through the PFS inode hash.
 */
struct hammer2_inode {
	hammer2_pfs_t *pmp;
	hammer2_chain_t *chain; /* ref held; parent chain is the directory */
	hammer2_inode_t *hnext; /* hash chain */
	hammer2_tid_t inum;
	int refs;
	int unlinked; /* removed from its directory, alive while referenced */
	void *vfs_private; /* owned by the glue (Linux struct inode) */
};

#define HAMMER2_IHASH_SIZE 1024

struct hammer2_pfs {
	hammer2_dev_t *hmp;
	hammer2_inode_t *iroot; /* PFS root directory */
	hammer2_inode_t *ihash[HAMMER2_IHASH_SIZE];
	char label[HAMMER2_INODE_MAXNAME + 1];
	hammer2_pfs_t *next;
	int mounted;
};

/* A block freed by the frontend, released to the freemap at flush. */
struct hammer2_freeblk {
	hammer2_off_t data_off;
};

/* 1 KiB pieces in use of a 16 KiB chunk claimed by this mount. */
struct hammer2_subchunk {
	hammer2_off_t off; /* chunk offset + 1 (0 = empty slot) */
	uint16_t mask;
};

/*
 * An open-addressing hash of device offsets (hammer2_freemap.c): the
 * sub-16 KiB chunks of this mount, and the blocks a freemap recovery has
 * visited (mask unused).
 */
struct hammer2_offtab {
	struct hammer2_subchunk *v;
	size_t cap, count;
};

struct hammer2_dev {
	hammer2_mtx_t lock;
	const struct hammer2_devops *ops;
	void *ctx;
	int rdonly;
	hammer2_volume_data_t voldata; /* in-memory volume header */
	int volhdrno;		       /* copy the header was read from */
	/*
	 * A flush changes only the first 4 KiB of the 64 KiB header and the
	 * CRC in its last 4 KiB.  volhdr_mid holds bytes [4 KiB, 60 KiB) as
	 * they are on the media of every copy in the volhdr_same bit mask:
	 * those copies get the two changed pieces written, the others the
	 * whole header (hammer2_flush.c).  volhdr_midcrc is the CRC32C of
	 * volhdr_mid (hammer2_voldata_midcrc), valid while volhdr_mid is set.
	 */
	uint8_t *volhdr_mid;
	unsigned volhdr_same;
	uint32_t volhdr_midcrc;
	uint64_t volu_size;
	hammer2_chain_t vchain; /* VOLUME pseudo-chain (sroot_blockset) */
	hammer2_chain_t fchain; /* FREEMAP pseudo-chain (freemap_blockset) */
	hammer2_pfs_t *spmp;	/* super-root pseudo-PFS */
	hammer2_pfs_t *pfs_list;

	/* chain cache: clean unreferenced chains, least recent first */
	hammer2_chain_t *lru_head, *lru_tail;
	long lru_count;
	long lru_limit;
	/*
	 * Keep no file data in clean chains (the Linux page cache has it):
	 * a DATA chain that is clean, unreferenced and written or read gives
	 * its buffer back at once, so buffers are recycled instead of cached
	 * twice; except a block last written in part (CHAIN_SUBWRITE).  Set
	 * by the caller after hammer2_dev_open; 0 by default.
	 */
	int drop_clean_data;
	/*
	 * Writes of file data do not stamp the inode's mtime and ctime: the
	 * caller owns them and sets them through hammer2_vop_setattr (the
	 * kernel: the VFS stamps them at write(2) and write_inode pushes
	 * them after writeback, which may copy the data into the core long
	 * after a utimensat that must win).  Set by the caller like
	 * drop_clean_data; 0 by default.
	 */
	int vfs_file_times;
	/*
	 * Write a header copy's two pieces one after the other even when
	 * the device has an asynchronous writev (by default both are in
	 * flight together).  For A/B measurements; set by the caller like
	 * drop_clean_data; 0 by default.
	 */
	int volhdr_serial;
	/*
	 * Every commit writes the freemap, fsync's too (by default a commit
	 * for fsync leaves it out: docs/DESIGN.md, freemap_tid).  For A/B
	 * measurements; set by the caller like drop_clean_data.
	 */
	int freemap_every_commit;
	/*
	 * The freemap blockset on the media (of the last commit that wrote
	 * the freemap): what a commit without the freemap puts in its header.
	 */
	hammer2_blockset_t freemap_committed;
	/*
	 * Bytes of data held by the chains on the LRU (lru_data), and a cap
	 * on it (lru_data_limit, 0: none; set by the caller like
	 * drop_clean_data): past it the least recent chains are freed even
	 * under lru_limit, so the buffers of blocks written in part are
	 * reused instead of new memory being taken for each.
	 */
	uint64_t lru_data, lru_data_limit;
	/*
	 * Worst-case bytes the next flush allocates: each chain it will
	 * rewrite (modified ones and their ancestors) counted once, a block
	 * under 16 KiB as a whole 16 KiB chunk.  The frontend reserves
	 * against it so a flush never runs out of space.
	 */
	uint64_t dirty_bytes;
	uint64_t dirty_limit; /* frontend flushes past this */
	/*
	 * Bytes promised to delayed writes (hammer2_vop_reserve: data in
	 * the page cache, not yet copied into chains); counted against free
	 * space like dirty_bytes until hammer2_vop_write_resv or
	 * hammer2_vop_unreserve gives them back.
	 */
	uint64_t resv_bytes;

	/* freemap state */
	hammer2_off_t heur_base[64];   /* per-class allocation iterators */
	struct hammer2_freeblk *frees; /* frees pending for next flush */
	size_t nfrees, maxfrees;
	struct hammer2_offtab subs; /* chunks with 1 KiB pieces in use */
	/*
	 * 16 KiB chunks freed by the flush in progress: referenced by the
	 * previous commit until this flush's header is on the media, so a
	 * direct write (which allocates while the flush writes) must not
	 * take them.  fence_full: a chunk could not be recorded (no
	 * memory), so direct writes allocate nothing until the flush ends.
	 */
	struct hammer2_offtab fenced;
	int fence_full;
	uint64_t stat_leaked;	 /* sub-16KiB frees that could not be tracked */
	uint64_t stat_recovered; /* bytes marked by hammer2_freemap_recover */
	uint64_t stat_freemap_skips; /* commits that left the freemap out */
	int broken; /* a flush failed: the device is read-only now */

	/*
	 * flush state.  flush_busy: a flush is writing without the device
	 * lock (hammer2_flush.c); it holds flush_lock meanwhile, which
	 * others wait on (lock order: never take the device lock first and
	 * then block on flush_lock while flush_busy is set).
	 */
	hammer2_tid_t flush_tid; /* tid of the flush in progress, or 0 */
	struct hammer2_wq *wq;	 /* queued writes */
	size_t nwq, maxwq;
	int flush_busy;
	hammer2_mtx_t flush_lock;
	int kicked; /* ops->kick called since the last flush point */
	/* PARTIAL chains (referenced) for the flush to complete in bulk */
	hammer2_chain_t **partials;
	size_t npartials, maxpartials;

	/* statistics */
	uint64_t stat_reads, stat_writes, stat_read_bytes, stat_write_bytes;
	uint64_t stat_flushes;
	uint64_t stat_comp_tries, stat_comp_kept; /* DATA blocks compressed */
	uint64_t stat_check_errors;
	uint64_t stat_direct_writes; /* DATA blocks written directly */
	int error_logged;
};

struct hammer2_wq {
	hammer2_off_t off; /* device offset (bytes) */
	uint32_t bytes;
	uint8_t *data;		/* owned unless borrowed */
	int borrowed;		/* data is the chain's own buffer (see flush) */
	hammer2_chain_t *chain; /* borrowed: the lender (IOBUSY) */
};

/*
 * The chain's data is lent to the write in flight: give the queue the
 * buffer (it frees it after the write) and clear IOBUSY.  The caller
 * then gives the chain a copy or drops its data.  Device lock held.
 */
void hammer2_flush_release_chain(hammer2_chain_t *chain);

/*
 * Bytes of media below an INODE or INDIRECT chain as the next flush will
 * leave them (embed.stats.data_count, which is as of the last flush):
 * the same sum as the flush's, with every modified block counted at its
 * logical size (its physical size is only known once the flush has
 * compressed it, never more) and blocks deleted since the flush left
 * out.  Clean subtrees count by their blockrefs' stats, so nothing is
 * read from the media.  Device lock held.  Bytes; past the flush's depth
 * limit a subtree counts by its stats as of the last flush.
 */
uint64_t hammer2_chain_data_estimate(hammer2_chain_t *chain);

/* ----- subr: hashing, checks, compression ----- */

/* Directory name hash (bit 63 and bit 15 set; low 15 bits for collisions). */
hammer2_key_t hammer2_dirhash(const unsigned char *name, size_t len);

/* Compute the check code of methods' check type over bytes into bref. */
void hammer2_bref_setcheck(hammer2_blockref_t *bref, const void *data,
			   size_t bytes);
/*
 * hammer2_bref_setcheck over the cnt buffers of iov in order (a block in
 * page cache pages): streamed for XXHASH64, else copied into one buffer
 * first (ENOMEM: the check code is left zero, which reads as a mismatch).
 */
void hammer2_bref_setcheck_iov(hammer2_blockref_t *bref,
			       const struct hammer2_iov *iov, int cnt);
/*
 * The cnt buffers of iov (bytes in all) as one buffer: iov[0].iov_base
 * itself when cnt is 1, else a copy the caller frees (hammer2_free), or
 * NULL without memory.
 */
uint8_t *hammer2_iov_flatten(const struct hammer2_iov *iov, int cnt,
			     size_t bytes);
/* 1 if bref's check code matches data (or check is NONE/DISABLED). */
int hammer2_bref_testcheck(const hammer2_blockref_t *bref, const void *data,
			   size_t bytes);
/*
 * The check code of a block handed in pieces (a block read straight into
 * page cache pages, hammer2_vop_read_map): begin returns false when bref's
 * check cannot be computed piecewise (ISCSI32, SHA192, FREEMAP: the caller
 * reads through the core instead); update over the physical bytes in
 * order; end is true when they match bref's check (always for NONE and
 * DISABLED).  The check and its seed are HAMMER2's (hammer2_disk.h).
 */
typedef struct hammer2_check_stream {
	uint8_t algo; /* HAMMER2_CHECK_* */
	hammer2_xxh64_stream_t xxh;
} hammer2_check_stream_t;
bool hammer2_check_stream_begin(hammer2_check_stream_t *cs,
				const hammer2_blockref_t *bref);
void hammer2_check_stream_update(hammer2_check_stream_t *cs, const void *buf,
				 size_t bytes);
bool hammer2_check_stream_end(hammer2_check_stream_t *cs,
			      const hammer2_blockref_t *bref);
/* Volume header CRCs: set or verify (0 ok, HAMMER2_ERROR_CHECK bad). */
void hammer2_voldata_setcrc(hammer2_volume_data_t *vd);
void hammer2_voldata_setcrc_mid(hammer2_volume_data_t *vd, uint32_t midcrc);
uint32_t hammer2_voldata_midcrc(const hammer2_volume_data_t *vd);
int hammer2_voldata_testcrc(const hammer2_volume_data_t *vd);

/*
 * Compress a logical block of lbytes for comp_algo (HAMMER2_COMP_* | level
 * << 4).  Returns the physical size (power of two >= 1 KiB) written to out
 * (capacity lbytes), or 0 when it did not at least halve.  lz4 framing is a
 * 4-byte little-endian length then the raw lz4 block; zlib is a zlib
 * stream.  Padding bytes are zero.
 */
uint32_t hammer2_compress_block(int comp_algo, const void *in, uint32_t lbytes,
				void *out);
/*
 * Decompress pbytes of comp (HAMMER2_COMP_*) into out (capacity lbytes).
 * Returns the decompressed byte count (> 0), or <= 0 on corrupt input.
 */
int hammer2_decompress_block(int comp, const void *in, uint32_t pbytes,
			     void *out, uint32_t lbytes);
/* Smallest allocation radix (10..16) holding bytes (>0, <= 64 KiB). */
int hammer2_bytes_to_radix(size_t bytes);
/* True if the buffer is all zero bytes. */
int hammer2_is_zero(const void *buf, size_t bytes);
/* uuid formatting/parsing ("xxxxxxxx-xxxx-..."): 0 or HAMMER2_ERROR_EINVAL. */
void hammer2_uuid_to_str(const hammer2_uuid_t *u, char out[37]);
int hammer2_uuid_from_str(const char *s, hammer2_uuid_t *u);

/* ----- io ----- */

/* Read bytes at off into buf; HAMMER2_ERROR_EIO on device failure. */
int hammer2_io_read(hammer2_dev_t *hmp, void *buf, size_t bytes,
		    hammer2_off_t off);
/*
 * Read the physical block of bref, verify its check code and return its
 * logical contents in a new buffer (*datap, *bytesp; caller frees with
 * hammer2_free).  Errors: EIO, CHECK, BADBREF (size or offset out of
 * range, corrupt compression).
 */
int hammer2_io_read_bref(hammer2_dev_t *hmp, const hammer2_blockref_t *bref,
			 uint8_t **datap, uint32_t *bytesp);
/*
 * Physical size in bytes of bref's block (1 KiB..64 KiB, inside the
 * volume, not crossing a 64 KiB boundary), or 0 when the placement is
 * impossible.
 */
uint32_t hammer2_io_placement(hammer2_dev_t *hmp,
			      const hammer2_blockref_t *bref);
/*
 * The second half of hammer2_io_read_bref for a block already read into
 * pbuf (pbytes, from hammer2_io_placement; ownership passes here): verify
 * and decompress.  Same results and errors.
 */
int hammer2_io_decode_bref(hammer2_dev_t *hmp, const hammer2_blockref_t *bref,
			   uint8_t *pbuf, uint32_t pbytes, uint8_t **datap,
			   uint32_t *bytesp);

/* ----- chain layer (hammer2_chain.c) ----- */

/* Lookup flags */
#define HAMMER2_LOOKUP_NODATA 0x0001 /* do not load the chain's data */

/*
 * Base blockref array of a chain: pointer and capacity, or NULL when the
 * chain has no children (DATA, DIRECTDATA inode).  Chain data must be
 * loaded.
 */
hammer2_blockref_t *hammer2_chain_base(hammer2_chain_t *chain, int *countp);
/* Number of live entries of a base array (live ones are packed first). */
int hammer2_base_live(const hammer2_blockref_t *base, int count);

/*
 * Load the chain's data if it is not loaded, or complete a PARTIAL chain
 * from its old block; error flags.
 */
int hammer2_chain_load(hammer2_chain_t *chain);
/*
 * Can a write of n bytes at boff into DATA chain (block of need bytes
 * after the write) skip reading the old block?  Whole 4 KiB units of an
 * unloaded, uncompressed block at least need bytes long, or of a chain
 * already PARTIAL.  Returns 1 or 0.
 */
int hammer2_chain_partial_ok(hammer2_chain_t *chain, uint32_t boff, uint32_t n,
			     uint32_t need);
/*
 * Modify a chain for a write that hammer2_chain_partial_ok allowed: the
 * data buffer is allocated (not read) and the chain becomes PARTIAL (if
 * not already).  The caller writes its units and calls
 * hammer2_chain_partial_mark.  Errors: ENOMEM.
 */
int hammer2_chain_modify_partial(hammer2_chain_t *chain);
/*
 * Modify an unloaded (not PARTIAL) DATA chain whose whole contents a
 * write replaces: a buffer of bytes (its new logical size, 1 KiB..64 KiB)
 * is allocated, not read; the caller must write all of it before the
 * device lock is released.  Errors: ENOMEM.
 */
int hammer2_chain_modify_replace(hammer2_chain_t *chain, uint32_t bytes);
/* Units [boff, boff + n) of a PARTIAL chain are now valid. */
void hammer2_chain_partial_mark(hammer2_chain_t *chain, uint32_t boff,
				uint32_t n);
/*
 * Complete every PARTIAL chain registered in hmp (the flush, before it
 * writes anything): old blocks adjacent on the media are read together.
 * Errors: EIO/CHECK/BADBREF of an old block, ENOMEM.
 */
int hammer2_chain_partial_complete(hammer2_dev_t *hmp);
/*
 * Prefetch: load the data of up to n chains (any order) with as few
 * device reads as possible: blocks adjacent on the media are read as one
 * run (readv, at most HAMMER2_IOV_MAX blocks and 1 MiB), and all runs are
 * issued together when the device has readm (buffers for all n blocks are
 * held meanwhile: callers pass at most 256).  Best effort: a chain that
 * fails to load here is left unloaded, and the caller's
 * hammer2_chain_load reports its error.  Errors: ENOMEM only.
 */
int hammer2_chain_load_many(hammer2_chain_t **chains, int n);
void hammer2_chain_ref(hammer2_chain_t *chain);
/* A flushed chain may now be evictable: put it on the LRU if so. */
void hammer2_chain_settle(hammer2_chain_t *chain);
void hammer2_chain_drop(hammer2_chain_t *chain);
/*
 * With hmp->drop_clean_data: free the data of a clean, unreferenced DATA
 * chain that no write holds (it is read again when needed).  Device lock.
 */
void hammer2_chain_drop_clean_data(hammer2_chain_t *chain);

/*
 * Find the first leaf chain (not INDIRECT/FREEMAP_NODE) under parent whose
 * key range intersects [key_beg, key_end], lowest key first, descending
 * through indirect blocks.  Returns a referenced chain or NULL; *errorp
 * gets error flags (a corrupt indirect block stops the scan with an error).
 */
hammer2_chain_t *hammer2_chain_lookup(hammer2_chain_t *parent,
				      hammer2_key_t key_beg,
				      hammer2_key_t key_end, int flags,
				      int *errorp);
/* Next leaf after chain (whose key range is skipped), same contract. */
hammer2_chain_t *hammer2_chain_next(hammer2_chain_t *parent,
				    hammer2_chain_t *chain,
				    hammer2_key_t key_end, int flags,
				    int *errorp);

/*
 * Create a new leaf under parent (or an indirect block below it) with the
 * given type/key/keybits, logical bytes (allocation happens at flush) and
 * methods.  Data is zero-filled.  Returns the referenced chain in *chainp.
 * Errors: EEXIST if a chain with that key already exists, ENOMEM.
 */
int hammer2_chain_create(hammer2_chain_t *parent, hammer2_chain_t **chainp,
			 int type, hammer2_key_t key, int keybits,
			 uint32_t bytes, uint8_t methods);
/*
 * hammer2_chain_create with flags: HAMMER2_CREATE_UNZEROED leaves the
 * buffer uninitialised; the caller must write all of its bytes before the
 * device lock is released.
 */
#define HAMMER2_CREATE_UNZEROED 0x0001
/*
 * HAMMER2_CREATE_DIRECT: a DATA chain without a buffer, MODIFIED and
 * DIRECT, not counted in dirty_bytes (the flush allocates nothing for it);
 * the caller sets its bref (hammer2_chain_set_direct) before the device
 * lock is released.  bytes is ignored.
 */
#define HAMMER2_CREATE_DIRECT 0x0002
int hammer2_chain_create_flags(hammer2_chain_t *parent,
			       hammer2_chain_t **chainp, int type,
			       hammer2_key_t key, int keybits, uint32_t bytes,
			       uint8_t methods, int flags);
/*
 * Mark the chain modified (copy-on-write at the next flush) and its parents
 * ONFLUSH.  Loads its data first.  Errors as hammer2_chain_load.
 */
int hammer2_chain_modify(hammer2_chain_t *chain);
/*
 * Give a DATA chain that is not PARTIAL, not IOBUSY and has no modified
 * buffer (clean, its cached data is dropped; or DIRECT from an earlier
 * direct write; or made by HAMMER2_CREATE_DIRECT)
 * the block a direct write is putting at data_off (offset | radix, from
 * hammer2_freemap_alloc): the bref gets data_off, methods comp NONE with
 * check (the inode's check_algo, HAMMER2_ENC_CHECK), vradix of the
 * block's size and the check code over the cnt buffers of iov (the
 * block's bytes, in order); the chain becomes MODIFIED,
 * UPDATE and DIRECT and its parents ONFLUSH.  The block it had is freed by
 * the next flush.  Device lock.  No errors.
 */
void hammer2_chain_set_direct(hammer2_chain_t *chain, hammer2_off_t data_off,
			      uint8_t check, const struct hammer2_iov *iov,
			      int cnt);
/* Change the logical size of a DATA chain's buffer (keeps contents). */
int hammer2_chain_resize(hammer2_chain_t *chain, uint32_t nbytes);
/*
 * Delete chain from its parent: remove its slot, queue the blocks of the
 * whole sub-tree for freeing at the next flush (unless
 * HAMMER2_DELETE_KEEPMEDIA), mark it DELETED and detached; an indirect
 * block left empty goes too.  The caller's reference stays valid.
 */
#define HAMMER2_DELETE_KEEPMEDIA 0x0001
int hammer2_chain_delete(hammer2_chain_t *chain, int flags);
/* Queue a detached chain's whole sub-tree media for freeing. */
void hammer2_chain_free_media(hammer2_chain_t *chain);
/* Move an existing chain under a new parent with a new key (rename). */
int hammer2_chain_rename(hammer2_chain_t *chain, hammer2_chain_t *nparent,
			 hammer2_key_t nkey);
/* Drop clean unreferenced chains until the cache is under its limit. */
void hammer2_chain_lru_trim(hammer2_dev_t *hmp);
/* Free a detached chain tree's in-memory state (at unmount). */
void hammer2_chain_destroy_tree(hammer2_chain_t *chain);

/* ----- flush (hammer2_flush.c) ----- */

/*
 * Flush every modification since the last flush: new blocks for modified
 * chains bottom-up, freemap, barrier, volume header copy, barrier.
 * Called with the device lock held; it is released while the writes are
 * in flight (other operations go on meanwhile) and held again on return.
 * A flush already in progress is waited for first.  Everything modified
 * before the call is durable when it returns 0.
 * Errors: EIO (the previous flush stays the committed state), ENOSPC.
 */
int hammer2_flush(hammer2_dev_t *hmp);
/*
 * hammer2_flush, with freemap 0 (a commit for fsync): the freemap stays
 * modified in memory and out of this commit; the header keeps the
 * freemap_blockset and freemap_tid of the last commit that wrote it
 * (docs/DESIGN.md).  Returns 0 at once when nothing but the freemap is
 * modified.  Same locking and errors as hammer2_flush.
 */
int hammer2_flush_mode(hammer2_dev_t *hmp, int freemap);
/*
 * Compression of one DATA block of a file whose inode chain is ip_chain
 * (NULL: none known): hammer2_comp_choose gives the algorithm to try
 * (HAMMER2_COMP_*, from comp_algo, the inode's HAMMER2_ENC_COMP | level
 * << 4), HAMMER2_COMP_NONE while the file's incompressible-data window
 * lasts (one block of it is used up); hammer2_comp_note records the try's
 * result (kept: compressed to half or less).  The heuristic is in
 * hammer2_flush.c.  Device lock.
 */
int hammer2_comp_choose(hammer2_chain_t *ip_chain, uint8_t comp_algo);
void hammer2_comp_note(hammer2_dev_t *hmp, hammer2_chain_t *ip_chain, int kept);

/* ----- freemap (hammer2_freemap.c) ----- */

/*
 * Allocate a block of 2^radix bytes (10..16) for a chain of bref type
 * 'type' (clustering class).  Returns data_off (offset | radix) in
 * *offp.  Errors: ENOSPC.  Called by the flush, and by direct writes
 * (hammer2_vop_write_direct), which never take a chunk the flush in
 * progress freed (hmp->fenced).
 */
int hammer2_freemap_alloc(hammer2_dev_t *hmp, int type, int radix,
			  hammer2_off_t *offp);
/* Queue a block (data_off) to be freed by the next flush. */
void hammer2_freemap_free_deferred(hammer2_dev_t *hmp, hammer2_off_t data_off);
/*
 * Forget the fence (hmp->fenced): the flush that freed those chunks has
 * committed.  Device lock.
 */
void hammer2_freemap_fence_clear(hammer2_dev_t *hmp);
/* Apply the deferred frees to the freemap (flush, after allocations). */
int hammer2_freemap_apply_frees(hammer2_dev_t *hmp);
/* Place a freemap node/leaf in its reserved rotation slot (flush). */
void hammer2_freemap_reserve(hammer2_dev_t *hmp, hammer2_chain_t *chain);
/* Free bytes as the freemap counts them (statfs). */
uint64_t hammer2_freemap_free_bytes(hammer2_dev_t *hmp);
/*
 * Recovery after a crash that followed commits without the freemap
 * (voldata.freemap_tid < mirror_tid; docs/DESIGN.md): mark allocated every
 * block referenced by a bref whose mirror_tid is above freemap_tid
 * (reading the inodes and indirect blocks on those paths, check codes
 * verified), move the linear iterators off the chunks it marked, and
 * recompute allocator_free from the bmaps.  The freemap is written by the
 * next full flush.  *markedp (may be NULL): bytes of 16 KiB chunks that
 * were free and are now allocated.  Nothing to do when freemap_tid >=
 * mirror_tid.  Device lock (or not yet shared), read-write device.
 * Errors: EIO, CHECK, BADBREF (a damaged block on a recovered path, a
 * bref above its parent's mirror_tid, an inode or indirect block
 * referenced twice: a hostile image cannot make the walk loop or blow
 * up), ENOMEM.
 */
int hammer2_freemap_recover(hammer2_dev_t *hmp, uint64_t *markedp);

/* ----- device open/close and PFS ----- */

#define HAMMER2_MNT_RDONLY 0x0001

/*
 * A log line (hammer2_log) about device hmp, with the device's name
 * (devops name) and ": " in front when it has one, so that a kernel log
 * line names the device it is about ("hammer2: vdb: ...").
 */
const char *hammer2_dev_name(const hammer2_dev_t *hmp);
#define hammer2_dev_log(hmp, fmt, ...)                 \
	hammer2_log("%s%s" fmt, hammer2_dev_name(hmp), \
		    hammer2_dev_name(hmp)[0] ? ": " : "", ##__VA_ARGS__)

/*
 * Open a HAMMER2 device: read the 4 volume header copies, pick the valid
 * one with the highest mirror_tid; read-write, recover the freemap when the
 * header's freemap_tid is below its mirror_tid (hammer2_freemap_recover).
 * Errors (errno): EINVAL not HAMMER2, EIO (also a damaged block on a path
 * recovery must read), ENOMEM.
 */
int hammer2_dev_open(const struct hammer2_devops *ops, void *ctx,
		     uint64_t volu_bytes, int flags, hammer2_dev_t **hmpp);
/* Remount support: switch read-only (flushing first) or back; errno. */
int hammer2_dev_set_rdonly(hammer2_dev_t *hmp, int rdonly);
/* Flush (unless read-only) and free everything; errno of the flush. */
int hammer2_dev_close(hammer2_dev_t *hmp);

#endif /* HAMMER2_H */
