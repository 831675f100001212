/*
 * hammer2_bdev.c - struct hammer2_devops over a Linux block device.
 *
 * The core hands us its own buffers (hammer2_alloc: kvzalloc, so either
 * linear-map or vmalloc memory) with byte offsets and lengths; they are
 * mapped page by page into bios and submitted synchronously
 * (submit_bio_wait).  Requests that are not aligned to the device's
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
#include <linux/random.h>
#include <linux/sched/mm.h>
#include <linux/vmalloc.h>

/* Submit [buf, buf + bytes) at byte offset off; sector-aligned callers. */
static int h2_bio_rw(struct block_device *bdev, blk_opf_t op, void *buf,
		     size_t bytes, u64 off)
{
	bool vm = is_vmalloc_addr(buf);
	size_t total = bytes;
	sector_t sector = off >> SECTOR_SHIFT;
	u8 *p = buf;
	int err = 0;

	if (vm && op_is_write(op))
		flush_kernel_vmap_range(buf, (int)total);
	while (bytes > 0 && err == 0) {
		unsigned int nr = (unsigned int)min_t(
			size_t, BIO_MAX_VECS,
			DIV_ROUND_UP(offset_in_page(p) + bytes, PAGE_SIZE));
		struct bio *bio = bio_alloc(bdev, nr, op, GFP_NOIO);
		size_t done = 0;

		bio->bi_iter.bi_sector = sector;
		while (bytes > 0) {
			unsigned int poff = offset_in_page(p);
			unsigned int len = (unsigned int)min_t(
				size_t, PAGE_SIZE - poff, bytes);
			struct page *page = vm ? vmalloc_to_page(p) :
						 virt_to_page(p);

			if (page == NULL ||
			    bio_add_page(bio, page, len, poff) != len)
				break;
			p += len;
			bytes -= len;
			done += len;
		}
		if (done == 0) {
			bio_put(bio);
			err = -EIO;
			break;
		}
		sector += done >> SECTOR_SHIFT;
		err = submit_bio_wait(bio);
		bio_put(bio);
	}
	if (vm && !op_is_write(op))
		invalidate_kernel_vmap_range(buf, (int)total);
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
		err = h2_bio_rw(d->bdev, write ? REQ_OP_WRITE : REQ_OP_READ,
				buf, bytes, off);
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
		err = h2_bio_rw(d->bdev, REQ_OP_READ, tmp,
				(size_t)(end - start), start);
	if (err == 0) {
		if (write) {
			memcpy(tmp + (off - start), buf, bytes);
			err = h2_bio_rw(d->bdev, REQ_OP_WRITE, tmp,
					(size_t)(end - start), start);
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

static int h2_bdev_read(void *ctx, void *buf, size_t bytes, uint64_t off)
{
	return h2_bdev_io(ctx, false, buf, bytes, off);
}

static int h2_bdev_write(void *ctx, const void *buf, size_t bytes, uint64_t off)
{
	/* the buffer is only read from; bios take a non-const page */
	return h2_bdev_io(ctx, true, (void *)buf, bytes, off);
}

static int h2_bdev_flush(void *ctx)
{
	struct h2_bdev *d = ctx;
	int err = blkdev_issue_flush(d->bdev);

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
 * read/write are synchronous and return 0 or EIO (ENOMEM when a bounce
 * buffer cannot be had); flush is blkdev_issue_flush; time is the real
 * time clock in microseconds; random is get_random_bytes.
 */
const struct hammer2_devops h2_bdev_ops = {
	.read = h2_bdev_read,
	.write = h2_bdev_write,
	.flush = h2_bdev_flush,
	.time_us = h2_bdev_time_us,
	.random = h2_bdev_random,
};
