/*
 * hammer2_bdev.c - struct hammer2_devops over a Linux block device.
 *
 * The core hands us its own buffers (hammer2_alloc: kvzalloc, so either
 * linear-map or vmalloc memory) with byte offsets and lengths; they are
 * mapped page by page into as few bios as fit (h2_bdev_rwv), submitted
 * under one plug into a batch (struct h2_bio_batch: bios in flight, first
 * error, wait queue).  read, write, readv and readm wait for their own
 * batches; writev returns at once and devops wait (and flush) collects
 * the device's async batch.  Requests that are not aligned to the device's
 * logical block size, and buffers not aligned for DMA or outside the
 * linear map and vmalloc space (module data), go through a
 * vmalloc bounce buffer (read-modify-write for writes).  The core calls
 * these with its device lock held; allocations here are GFP_NOIO.
 *
 * Errors are returned as positive errno (EIO), as struct hammer2_devops
 * requires; a device error is logged (rate limited) with its offset.
 */
#include "linux/hammer2_glue.h"

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/pagemap.h>
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

static int h2_bdev_rwv(struct h2_bdev *d, struct h2_bio_batch *b, bool write,
		       const struct hammer2_iov *iov, int cnt, u64 off);

/* After a read into iov: drop stale cache lines of vmalloc buffers. */
static void h2_iov_invalidate(const struct hammer2_iov *iov, int cnt)
{
	int i;

	for (i = 0; i < cnt; i++)
		if (is_vmalloc_addr(iov[i].iov_base))
			invalidate_kernel_vmap_range(iov[i].iov_base,
						     (int)iov[i].iov_len);
}

void h2_batch_init(struct h2_bio_batch *b)
{
	atomic_set(&b->inflight, 0);
	b->error = 0;
	init_waitqueue_head(&b->idle);
}

/*
 * Transfer [buf, buf + bytes) at byte offset off and wait for it; the
 * caller checked the alignment (h2_bdev_io).  0 or EIO.
 */
static int h2_bio_rw(struct h2_bdev *d, bool write, void *buf, size_t bytes,
		     u64 off)
{
	struct hammer2_iov iov = { buf, bytes };
	struct h2_bio_batch b;
	int err;

	h2_batch_init(&b);
	err = h2_bdev_rwv(d, &b, write, &iov, 1, off);
	if (h2_batch_wait(&b))
		err = EIO;
	if (!write)
		h2_iov_invalidate(&iov, 1);
	return err;
}

/* vmalloc under a NOIO scope: the core may be running under writeback. */
static void *h2_bounce_alloc(size_t bytes)
{
	unsigned int noio = memalloc_noio_save();
	void *p = vmalloc(bytes);

	memalloc_noio_restore(noio);
	return p;
}

/* One transfer; positive errno. */
static int h2_bdev_io(struct h2_bdev *d, bool write, void *buf, size_t bytes,
		      u64 off)
{
	unsigned int lbs = bdev_logical_block_size(d->bdev);
	unsigned long dmask = bdev_dma_alignment(d->bdev) | (SECTOR_SIZE - 1);
	u64 start, end;
	u8 *tmp;
	int err;

	if (bytes == 0)
		return 0;
	if (off > d->bytes || bytes > d->bytes - off)
		return EIO;
	/* linear-map or vmalloc memory can be mapped into bios directly */
	if (((off | bytes) & (lbs - 1)) == 0 && ((uintptr_t)buf & dmask) == 0 &&
	    (is_vmalloc_addr(buf) || virt_addr_valid(buf))) {
		err = h2_bio_rw(d, write, buf, bytes, off);
		goto out;
	}
	/* unaligned: bounce through whole logical blocks */
	start = round_down(off, (u64)lbs);
	end = round_up(off + bytes, (u64)lbs);
	if (end > d->bytes)
		return EIO;
	tmp = h2_bounce_alloc((size_t)(end - start));
	if (tmp == NULL)
		return ENOMEM;
	err = 0;
	if (!write || start != off || end != off + bytes)
		err = h2_bio_rw(d, false, tmp, (size_t)(end - start), start);
	if (err == 0) {
		if (write) {
			memcpy(tmp + (off - start), buf, bytes);
			err = h2_bio_rw(d, true, tmp, (size_t)(end - start),
					start);
		} else {
			memcpy(buf, tmp + (off - start), bytes);
		}
	}
	vfree(tmp);
out:
	if (err) {
		pr_err_ratelimited("hammer2: %pg: %s error %d at offset %llu "
				   "(%zu bytes)\n",
				   d->bdev, write ? "write" : "read", err,
				   (unsigned long long)off, bytes);
		return EIO;
	}
	return 0;
}

void h2_bdev_init(struct h2_bdev *d, struct block_device *bdev)
{
	d->bdev = bdev;
	d->bytes = bdev_nr_bytes(bdev);
	snprintf(d->name, sizeof(d->name), "%pg", bdev);
	h2_batch_init(&d->async);
	h2_batch_init(&d->direct[0]);
	h2_batch_init(&d->direct[1]);
	d->direct_epoch = 0;
}

static void h2_bio_end(struct bio *bio)
{
	struct h2_bio_batch *b = bio->bi_private;

	if (bio->bi_status) {
		pr_err_ratelimited("hammer2: %pg: %s error %d at sector %llu\n",
				   bio->bi_bdev,
				   op_is_write(bio_op(bio)) ? "write" : "read",
				   blk_status_to_errno(bio->bi_status),
				   (unsigned long long)bio->bi_iter.bi_sector);
		WRITE_ONCE(b->error, EIO);
	}
	bio_put(bio);
	if (atomic_dec_and_test(&b->inflight))
		wake_up(&b->idle);
}

/* Wait for every bio of batch b; EIO if one failed since the last wait. */
int h2_batch_wait(struct h2_bio_batch *b)
{
	wait_event(b->idle, atomic_read(&b->inflight) == 0);
	return xchg(&b->error, 0) ? EIO : 0;
}

/* devops wait: the asynchronous writev bios. */
static int h2_bdev_wait(void *ctx)
{
	return h2_batch_wait(&((struct h2_bdev *)ctx)->async);
}

static void h2_bio_submit(struct h2_bio_batch *b, struct bio *bio)
{
	bio->bi_private = b;
	bio->bi_end_io = h2_bio_end;
	atomic_inc(&b->inflight);
	submit_bio(bio);
}

/*
 * Map a run of buffers into bios (back to back from byte offset off) and
 * submit them into batch b without waiting.  Buffers or sizes not aligned
 * for the device go through h2_bdev_io one by one instead (synchronous).
 */
static int h2_bdev_rwv(struct h2_bdev *d, struct h2_bio_batch *b, bool write,
		       const struct hammer2_iov *iov, int cnt, u64 off)
{
	unsigned int lbs = bdev_logical_block_size(d->bdev);
	unsigned long dmask = bdev_dma_alignment(d->bdev) | (SECTOR_SIZE - 1);
	blk_opf_t op = write ? REQ_OP_WRITE : REQ_OP_READ;
	struct blk_plug plug;
	struct bio *bio = NULL;
	u64 total = 0, pos;
	int i, err;

	for (i = 0; i < cnt; i++) {
		if (((uintptr_t)iov[i].iov_base & dmask) ||
		    (iov[i].iov_len & (lbs - 1)) ||
		    !(is_vmalloc_addr(iov[i].iov_base) ||
		      virt_addr_valid(iov[i].iov_base)))
			break;
		total += iov[i].iov_len;
	}
	if (i < cnt || (off & (lbs - 1))) {
		for (i = 0, pos = off; i < cnt; pos += iov[i].iov_len, i++) {
			err = h2_bdev_io(d, write, iov[i].iov_base,
					 iov[i].iov_len, pos);
			if (err)
				return err;
		}
		return 0;
	}
	if (off > d->bytes || total > d->bytes - off)
		return EIO;
	blk_start_plug(&plug);
	pos = off;
	for (i = 0; i < cnt; i++) {
		u8 *p = iov[i].iov_base;
		size_t left = iov[i].iov_len;
		bool vm = is_vmalloc_addr(p);

		if (vm && write)
			flush_kernel_vmap_range(p, (int)left);
		while (left > 0) {
			unsigned int poff = offset_in_page(p);
			unsigned int len = (unsigned int)min_t(
				size_t, PAGE_SIZE - poff, left);
			struct page *page = vm ? vmalloc_to_page(p) :
						 virt_to_page(p);

			if (bio && bio_add_page(bio, page, len, poff) == len)
				goto added;
			if (bio)
				h2_bio_submit(b, bio);
			bio = bio_alloc(
				d->bdev,
				(unsigned short)min_t(
					u64, BIO_MAX_VECS,
					DIV_ROUND_UP(total - (pos - off) + poff,
						     PAGE_SIZE)),
				op, GFP_NOIO);
			bio->bi_iter.bi_sector = pos >> SECTOR_SHIFT;
			if (bio_add_page(bio, page, len, poff) != len) {
				bio_put(bio);
				bio = NULL;
				blk_finish_plug(&plug);
				return EIO;
			}
added:
			p += len;
			left -= len;
			pos += len;
		}
	}
	if (bio)
		h2_bio_submit(b, bio);
	blk_finish_plug(&plug);
	return 0;
}

/* See hammer2_glue.h. */
int h2_bdev_read_pages(struct h2_bdev *d, struct h2_bio_batch *b,
		       struct page **pages, unsigned int bytes, u64 off)
{
	unsigned int lbs = bdev_logical_block_size(d->bdev);
	unsigned int npages = DIV_ROUND_UP(bytes, PAGE_SIZE), i;
	struct bio *bio;

	if (bytes == 0 || ((off | bytes) & (lbs - 1)) || off > d->bytes ||
	    bytes > d->bytes - off || npages > BIO_MAX_VECS)
		return EINVAL;
	bio = bio_alloc(d->bdev, (unsigned short)npages, REQ_OP_READ, GFP_NOIO);
	bio->bi_iter.bi_sector = off >> SECTOR_SHIFT;
	for (i = 0; i < npages; i++) {
		unsigned int len = min_t(unsigned int, PAGE_SIZE,
					 bytes - i * (unsigned int)PAGE_SIZE);

		if (bio_add_page(bio, pages[i], len, 0) != len) {
			bio_put(bio);
			return EINVAL;
		}
	}
	h2_bio_submit(b, bio);
	return 0;
}

static int h2_bdev_readv(void *ctx, const struct hammer2_iov *iov, int cnt,
			 uint64_t off)
{
	struct h2_bio_batch b;
	int err;

	h2_batch_init(&b);
	err = h2_bdev_rwv(ctx, &b, false, iov, cnt, off);
	if (h2_batch_wait(&b))
		err = EIO;
	h2_iov_invalidate(iov, cnt);
	return err;
}

/*
 * devops readm: every run's bios submitted (one batch per run, so each
 * run gets its own error) before waiting for any.  ENOMEM when the
 * batches cannot be had: the core then reads the runs one by one.
 */
static int h2_bdev_readm(void *ctx, struct hammer2_ioreq *req, int n)
{
	struct h2_bio_batch *b;
	struct blk_plug plug;
	int i;

	if (n <= 0)
		return 0;
	b = kmalloc_array((size_t)n, sizeof(*b), GFP_NOIO);
	if (b == NULL)
		return ENOMEM;
	blk_start_plug(&plug); /* the runs' own plugs nest in this one */
	for (i = 0; i < n; i++) {
		h2_batch_init(&b[i]);
		req[i].error = h2_bdev_rwv(ctx, &b[i], false, req[i].iov,
					   req[i].cnt, req[i].off);
	}
	blk_finish_plug(&plug);
	for (i = 0; i < n; i++) {
		if (h2_batch_wait(&b[i]))
			req[i].error = EIO;
		h2_iov_invalidate(req[i].iov, req[i].cnt);
	}
	kfree(b);
	return 0;
}

/*
 * Fault injection for tests (vmtest's crash check): while set, every write
 * and cache flush fails with EIO before reaching the device, as if power
 * were cut; what is on the media stays as the last completed commit left
 * it.
 */
static bool h2_fail_writes;
module_param_named(fail_writes, h2_fail_writes, bool, 0644);
MODULE_PARM_DESC(fail_writes,
		 "tests: writes and flushes fail with EIO (a power cut)");

static int h2_bdev_writev(void *ctx, const struct hammer2_iov *iov, int cnt,
			  uint64_t off)
{
	struct h2_bdev *d = ctx;

	if (READ_ONCE(h2_fail_writes))
		return EIO;
	return h2_bdev_rwv(d, &d->async, true, iov, cnt, off);
}

/* ---- direct writes (see hammer2.h, direct_begin/fence/wait) ---- */

/* devops direct_begin (device lock): count one in the current epoch. */
static unsigned int h2_direct_begin(void *ctx)
{
	struct h2_bdev *d = ctx;
	unsigned int e = READ_ONCE(d->direct_epoch);

	atomic_inc(&d->direct[e].inflight);
	return e;
}

/* devops direct_fence (device lock): later ones are the next epoch's. */
static void h2_direct_fence(void *ctx)
{
	struct h2_bdev *d = ctx;

	WRITE_ONCE(d->direct_epoch, d->direct_epoch ^ 1);
}

/*
 * devops direct_wait: the epoch before the last fence (all: both, with
 * the device lock held so none begins).  Errors (EIO) are collected only
 * by the flush's wait (all 0), of both epochs: the device is broken then.
 */
static int h2_direct_wait(void *ctx, int all)
{
	struct h2_bdev *d = ctx;
	unsigned int old = READ_ONCE(d->direct_epoch) ^ 1;
	int i;

	for (i = 0; i < 2; i++)
		if (all || (unsigned int)i == old)
			wait_event(d->direct[i].idle,
				   atomic_read(&d->direct[i].inflight) == 0);
	if (all)
		return 0;
	return (xchg(&d->direct[0].error, 0) | xchg(&d->direct[1].error, 0)) ?
		       EIO :
		       0;
}

/* One direct write done: the folio's writeback, then the epoch's count. */
static void h2_direct_done(struct h2_bio_batch *b, struct folio *folio, int err)
{
	if (err) {
		folio_set_error(folio);
		mapping_set_error(folio->mapping, -EIO);
		WRITE_ONCE(b->error, EIO);
	}
	folio_end_writeback(folio);
	if (atomic_dec_and_test(&b->inflight))
		wake_up(&b->idle);
}

static void h2_direct_end_io(struct bio *bio)
{
	struct folio_iter fi;
	int err = 0;

	if (bio->bi_status) {
		pr_err_ratelimited(
			"hammer2: %pg: write error %d at sector %llu\n",
			bio->bi_bdev, blk_status_to_errno(bio->bi_status),
			(unsigned long long)bio->bi_iter.bi_sector);
		err = EIO;
	}
	bio_for_each_folio_all(fi, bio)
		h2_direct_done(bio->bi_private, fi.folio, err);
	bio_put(bio);
}

/* See hammer2_glue.h. */
void h2_bdev_direct_write(struct h2_bdev *d, unsigned int token,
			  struct folio **folios, int n, u64 off)
{
	unsigned int lbs = bdev_logical_block_size(d->bdev);
	struct h2_bio_batch *b = &d->direct[token & 1];
	struct bio *bio = NULL;
	u64 bytes = 0;
	int k;

	/* the core counted the block once; each folio completes on its own */
	if (n > 1)
		atomic_add(n - 1, &b->inflight);
	for (k = 0; k < n; k++)
		bytes += folio_size(folios[k]);
	if (!READ_ONCE(h2_fail_writes) && !((off | bytes) & (lbs - 1)) &&
	    off <= d->bytes && bytes <= d->bytes - off) {
		bio = bio_alloc(d->bdev, (unsigned short)n, REQ_OP_WRITE,
				GFP_NOIO);
		bio->bi_iter.bi_sector = off >> SECTOR_SHIFT;
		bio->bi_private = b;
		bio->bi_end_io = h2_direct_end_io;
	}
	/* one multi-page bvec each (6.1 does not export bio_add_folio) */
	for (k = 0; bio && k < n; k++) {
		unsigned int len = (unsigned int)folio_size(folios[k]);

		if (bio_add_page(bio, &folios[k]->page, len, 0) != len) {
			bio_put(bio);
			bio = NULL;
		}
	}
	if (bio) {
		submit_bio(bio);
		return;
	}
	for (k = 0; k < n; k++)
		h2_direct_done(b, folios[k], EIO);
}

/* devops name: the block device's, e.g. "vdb". */
static const char *h2_bdev_name(void *ctx)
{
	return ((struct h2_bdev *)ctx)->name;
}

/* devops kick: run the device's flusher now (hammer2_vfs.c). */
static void h2_dev_kick(void *ctx)
{
	struct h2_dev *dev = container_of(ctx, struct h2_dev, io);

	if (READ_ONCE(dev->nrw) > 0)
		mod_delayed_work(system_unbound_wq, &dev->flush_work, 0);
}

static int h2_bdev_read(void *ctx, void *buf, size_t bytes, uint64_t off)
{
	return h2_bdev_io(ctx, false, buf, bytes, off);
}

static int h2_bdev_write(void *ctx, const void *buf, size_t bytes, uint64_t off)
{
	if (READ_ONCE(h2_fail_writes))
		return EIO;
	/* the buffer is only read from; bios take a non-const page */
	return h2_bdev_io(ctx, true, (void *)buf, bytes, off);
}

static int h2_bdev_flush(void *ctx)
{
	struct h2_bdev *d = ctx;
	int err = h2_bdev_wait(d);

	if (err == 0 && READ_ONCE(h2_fail_writes))
		err = EIO;
	if (err == 0)
		err = blkdev_issue_flush(d->bdev);

	if (err) {
		pr_err_ratelimited("hammer2: %pg: cache flush error %d\n",
				   d->bdev, err);
		return EIO;
	}
	return 0;
}

static uint64_t h2_bdev_time_us(void *ctx)
{
	return div_u64(ktime_get_real_ns(), NSEC_PER_USEC);
}

static void h2_bdev_random(void *ctx, void *buf, size_t bytes)
{
	get_random_bytes(buf, bytes);
}

/*
 * The devops table of a block device: ctx is a struct h2_bdev (bdev and
 * its size in bytes, bdev_nr_bytes), valid while the core device is open.
 * read/write/readv/readm are synchronous and return 0 or EIO (ENOMEM
 * when a bounce buffer cannot be had); writev is asynchronous until wait;
 * flush waits, then blkdev_issue_flush; direct writes are bios from the
 * page cache (h2_bdev_direct_write); time is the real time clock in
 * microseconds; random is get_random_bytes.
 */
const struct hammer2_devops h2_bdev_ops = {
	.read = h2_bdev_read,
	.write = h2_bdev_write,
	.flush = h2_bdev_flush,
	.time_us = h2_bdev_time_us,
	.random = h2_bdev_random,
	.readv = h2_bdev_readv,
	.writev = h2_bdev_writev,
	.wait = h2_bdev_wait,
	.kick = h2_dev_kick,
	.name = h2_bdev_name,
	.readm = h2_bdev_readm,
	.direct_begin = h2_direct_begin,
	.direct_fence = h2_direct_fence,
	.direct_wait = h2_direct_wait,
};
