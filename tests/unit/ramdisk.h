/*
 * ramdisk.h - a RAM disk behind struct hammer2_devops for the unit tests.
 *
 * The disk is a private mapping (of an image file, or anonymous with
 * MAP_NORESERVE so that a large volume only costs the pages written).  It
 * counts reads, writes and flushes, can fail reads of one offset or all
 * writes with EIO, runs a clock that advances 1 ms a call, and hands out
 * deterministic "random" bytes.  mkfile() creates files on a file system
 * mounted from one.
 */
#ifndef H2TEST_RAMDISK_H
#define H2TEST_RAMDISK_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <CUnit/CUnit.h>

#include "hammer2_vfsops.h"

struct ramdisk {
	uint8_t *buf;
	uint64_t size;
	uint64_t reads, writes, flushes;
	uint64_t fail_read_off; /* reads covering this offset fail (EIO) */
	int fail_reads;
	int fail_writes;  /* nonzero: writes fail with EIO */
	uint64_t readms;  /* readm batches served */
	int refuse_readm; /* nonzero: readm says ENOMEM (the core falls back) */
	uint64_t now;
	uint64_t seed;	  /* state of the splitmix64 random stream */
	int fixed_random; /* nonzero: random bytes are all 0x5a instead */
	/*
	 * rd_vops: writev only records the run (buffers by pointer, as a
	 * device doing DMA later would); wait, flush and reads copy them, so
	 * a buffer freed or changed before wait shows (ASan, wrong data).
	 */
	struct rd_pending {
		uint64_t off;
		const void *buf;
		size_t bytes;
	} * pending;
	size_t npending, maxpending;
	int pending_error;
	/*
	 * Called by rd_writev before it records a run: the flush is writing
	 * without the device lock, so the hook may call the API (tests of
	 * operations that overlap a flush).
	 */
	void (*writev_hook)(struct ramdisk *rd);
	/*
	 * rd_dops: direct writes (hammer2_vop_write_direct) in flight, as
	 * copies; rd_direct_wait lands them (those before the last fence, or
	 * all), and nothing else does: a read of such a block before that
	 * sees the old bytes.
	 */
	struct rd_direct {
		uint64_t off;
		uint8_t *copy;
		size_t bytes;
		unsigned token;
	} * direct;
	size_t ndirect, maxdirect;
	unsigned direct_epoch;
	uint64_t direct_waits; /* waits that landed something */
};

/* Apply writes recorded by rd_writev; 0 or the first error (EIO). */
static inline int rd_wait(void *ctx)
{
	struct ramdisk *rd = ctx;
	int error = rd->pending_error;
	size_t i;

	for (i = 0; i < rd->npending; i++)
		memcpy(rd->buf + rd->pending[i].off, rd->pending[i].buf,
		       rd->pending[i].bytes);
	rd->npending = 0;
	rd->pending_error = 0;
	return error;
}

/* devops read: bytes at off, EIO outside the disk or on a failing read. */
static inline int rd_read(void *ctx, void *buf, size_t bytes, uint64_t off)
{
	struct ramdisk *rd = ctx;

	if (off > rd->size || bytes > rd->size - off)
		return EIO;
	if (rd->fail_reads && off <= rd->fail_read_off &&
	    rd->fail_read_off < off + bytes)
		return EIO;
	rd_wait(rd);
	memcpy(buf, rd->buf + off, bytes);
	rd->reads++;
	return 0;
}

/* devops readv: like rd_read of the whole run, counted as one read. */
static inline int rd_readv(void *ctx, const struct hammer2_iov *iov, int cnt,
			   uint64_t off)
{
	struct ramdisk *rd = ctx;
	uint64_t pos = off;
	int i, error;

	for (i = 0; i < cnt; i++) {
		error = rd_read(rd, iov[i].iov_base, iov[i].iov_len, pos);
		rd->reads--;
		if (error)
			return error;
		pos += iov[i].iov_len;
	}
	rd->reads++;
	return 0;
}

/*
 * devops readm: each run as rd_readv (a failing offset fails only its own
 * run), counted as one batch; ENOMEM without reading when refuse_readm.
 */
static inline int rd_readm(void *ctx, struct hammer2_ioreq *req, int n)
{
	struct ramdisk *rd = ctx;
	int i;

	if (rd->refuse_readm)
		return ENOMEM;
	for (i = 0; i < n; i++)
		req[i].error = rd_readv(rd, req[i].iov, req[i].cnt, req[i].off);
	rd->readms++;
	return 0;
}

/* devops writev: checked now, applied by rd_wait (one write counted). */
static inline int rd_writev(void *ctx, const struct hammer2_iov *iov, int cnt,
			    uint64_t off)
{
	struct ramdisk *rd = ctx;
	uint64_t pos = off;
	int i;

	if (rd->writev_hook)
		rd->writev_hook(rd);
	for (i = 0; i < cnt; i++) {
		if (rd->fail_writes || pos > rd->size ||
		    iov[i].iov_len > rd->size - pos) {
			rd->pending_error = EIO;
			return 0; /* reported by wait, as a real device would */
		}
		if (rd->npending == rd->maxpending) {
			size_t n = rd->maxpending ? rd->maxpending * 2 : 64;
			void *p =
				realloc(rd->pending, n * sizeof(*rd->pending));

			if (p == NULL)
				return ENOMEM;
			rd->pending = p;
			rd->maxpending = n;
		}
		rd->pending[rd->npending].off = pos;
		rd->pending[rd->npending].buf = iov[i].iov_base;
		rd->pending[rd->npending].bytes = iov[i].iov_len;
		rd->npending++;
		pos += iov[i].iov_len;
	}
	rd->writes++;
	return 0;
}

/* devops write: bytes at off, EIO outside the disk or if writes fail. */
static inline int rd_write(void *ctx, const void *buf, size_t bytes,
			   uint64_t off)
{
	struct ramdisk *rd = ctx;

	if (rd->fail_writes || off > rd->size || bytes > rd->size - off)
		return EIO;
	memcpy(rd->buf + off, buf, bytes);
	rd->writes++;
	return 0;
}

/* devops flush: completes recorded writes, counted. */
static inline int rd_flush(void *ctx)
{
	((struct ramdisk *)ctx)->flushes++;
	return rd_wait(ctx);
}

/* devops clock: microseconds, 1 ms later on every call. */
static inline uint64_t rd_time(void *ctx)
{
	return ((struct ramdisk *)ctx)->now += 1000;
}

/* devops random: the splitmix64 stream (deterministic uuids) or 0x5a. */
static inline void rd_random(void *ctx, void *buf, size_t bytes)
{
	struct ramdisk *rd = ctx;
	uint8_t *p = buf;

	if (rd->fixed_random) {
		memset(buf, 0x5a, bytes);
		return;
	}
	while (bytes > 0) {
		uint64_t z = (rd->seed += 0x9E3779B97F4A7C15ULL);
		size_t n = bytes < 8 ? bytes : 8;

		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
		z ^= z >> 31;
		memcpy(p, &z, n);
		p += n;
		bytes -= n;
	}
}

static const struct hammer2_devops rd_ops = {
	.read = rd_read,
	.write = rd_write,
	.flush = rd_flush,
	.time_us = rd_time,
	.random = rd_random,
};

/*
 * The same disk with readv, readm and an asynchronous writev (the kernel's
 * way).
 */
#define RD_VECTORED_OPS                                             \
	.read = rd_read, .write = rd_write, .flush = rd_flush,      \
	.time_us = rd_time, .random = rd_random, .readv = rd_readv, \
	.writev = rd_writev, .wait = rd_wait, .readm = rd_readm
static const struct hammer2_devops rd_vops = { RD_VECTORED_OPS };

/* devops direct_begin: the current epoch is the write's token. */
static inline unsigned rd_direct_begin(void *ctx)
{
	return ((struct ramdisk *)ctx)->direct_epoch;
}

/* devops direct_fence: writes begun from now on are the next epoch's. */
static inline void rd_direct_fence(void *ctx)
{
	((struct ramdisk *)ctx)->direct_epoch ^= 1;
}

/* devops direct_wait: land the direct writes of older epochs (or all). */
static inline int rd_direct_wait(void *ctx, int all)
{
	struct ramdisk *rd = ctx;
	size_t i, keep = 0, landed = 0;

	for (i = 0; i < rd->ndirect; i++) {
		struct rd_direct *d = &rd->direct[i];

		if (!all && d->token == rd->direct_epoch) {
			rd->direct[keep++] = *d;
			continue;
		}
		memcpy(rd->buf + d->off, d->copy, d->bytes);
		free(d->copy);
		landed++;
	}
	rd->ndirect = keep;
	rd->direct_waits += landed > 0;
	return 0;
}

/*
 * The test's side of a direct write: issue bytes at off (a copy is in
 * flight until rd_direct_wait lands it); token from the core.  0 or EIO
 * (outside the disk, no memory).
 */
static inline int rd_direct_issue(struct ramdisk *rd, const void *buf,
				  size_t bytes, uint64_t off, unsigned token)
{
	struct rd_direct *d;

	if (off > rd->size || bytes > rd->size - off)
		return EIO;
	if (rd->ndirect == rd->maxdirect) {
		size_t n = rd->maxdirect ? rd->maxdirect * 2 : 16;
		void *p = realloc(rd->direct, n * sizeof(*rd->direct));

		if (p == NULL)
			return EIO;
		rd->direct = p;
		rd->maxdirect = n;
	}
	d = &rd->direct[rd->ndirect];
	d->copy = malloc(bytes);
	if (d->copy == NULL)
		return EIO;
	memcpy(d->copy, buf, bytes);
	d->off = off;
	d->bytes = bytes;
	d->token = token;
	rd->ndirect++;
	return 0;
}

/* rd_vops with direct writes (the kernel's writeback from the page cache). */
static const struct hammer2_devops rd_dops = {
	RD_VECTORED_OPS,
	.direct_begin = rd_direct_begin,
	.direct_fence = rd_direct_fence,
	.direct_wait = rd_direct_wait,
};

/*
 * A RAM disk of size bytes: a private mapping of the image file open on
 * fd, or for fd < 0 a zero-filled anonymous one.  NULL if it cannot be
 * mapped.  The caller may close fd afterwards.
 */
static inline struct ramdisk *rd_map(uint64_t size, int fd)
{
	struct ramdisk *rd = calloc(1, sizeof(*rd));
	int flags = fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE :
			     MAP_PRIVATE;

	if (rd == NULL)
		return NULL;
	rd->size = size;
	rd->now = 1700000000000000ULL;
	rd->seed = 42;
	rd->buf = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (rd->buf == MAP_FAILED) {
		free(rd);
		return NULL;
	}
	return rd;
}

/* Unmap and free a RAM disk (NULL is a no-op). */
static inline void rd_free(struct ramdisk *rd)
{
	if (rd) {
		munmap(rd->buf, rd->size);
		free(rd->pending);
		while (rd->ndirect > 0)
			free(rd->direct[--rd->ndirect].copy);
		free(rd->direct);
		free(rd);
	}
}

/*
 * Create name of the given type (mode 0755 for a directory, else 0644) in
 * dip, asserting success; the new inode, referenced, or NULL.
 */
static inline hammer2_inode_t *mkfile(hammer2_inode_t *dip, const char *name,
				      uint8_t type)
{
	struct hammer2_vattr va;
	hammer2_inode_t *ip = NULL;
	int error;

	memset(&va, 0, sizeof(va));
	va.type = type;
	va.mode = type == HAMMER2_OBJTYPE_DIRECTORY ? 0755 : 0644;
	error = hammer2_vop_create(dip, name, strlen(name), &va, NULL, 0, &ip);
	CU_ASSERT_EQUAL(error, 0);
	return ip;
}

#endif /* H2TEST_RAMDISK_H */
