/*
 * simdisk.c - h2sim's simulated disk behind struct hammer2_devops.
 *
 * Sparse: a hash map of 4 KiB blocks (absent blocks read as zeros).  Two
 * maps: "cur" is what reads see, "dur" what survives a power loss.  A
 * write goes to cur and to a volatile write cache (the pending list); a
 * barrier (devops flush) applies the pending writes to dur in order.  A
 * crash gives every pending write a fate from the seeded PRNG - lost,
 * kept, kept out of order (applied after the others) or torn (each 512 B
 * or 4 KiB sector lands or not) - then cur becomes dur.  A cut armed at
 * a barrier "loses power" there: later writes and barriers are dropped
 * until simdisk_crash().  Time and random() come from the run seed.
 */
#include <errno.h>
#include <fcntl.h>
#include <sha2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hammer2.h"
#include "sim.h"

#define SB 4096ULL

struct blkmap {
	uint64_t *keys; /* block number + 1, 0 = empty */
	uint8_t **blk;
	size_t cap, count;
};

struct pend {
	uint64_t off;
	uint32_t len;
	uint8_t *data;
};

struct simdisk {
	uint64_t size;
	struct blkmap cur, dur;
	struct pend *pw;
	size_t npw, cpw;
	uint64_t rng;
	uint64_t barriers, writes;
	uint64_t cut_b;
	int cut_after, tripped;
	uint32_t eio_r, eio_w;
	uint64_t now, clk;
	int direct_err; /* a direct write failed since the last flush wait */
};

/* ---------------- block map ---------------- */

static size_t bm_slot(const struct blkmap *m, uint64_t bn)
{
	return (size_t)(mix64(bn) & (m->cap - 1));
}

static uint8_t *bm_get(const struct blkmap *m, uint64_t bn)
{
	if (m->cap == 0)
		return NULL;
	for (size_t i = bm_slot(m, bn);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == 0)
			return NULL;
		if (m->keys[i] == bn + 1)
			return m->blk[i];
	}
}

static void bm_grow(struct blkmap *m);

/* The block bn, created zero-filled if absent. */
static uint8_t *bm_make(struct blkmap *m, uint64_t bn)
{
	size_t i;

	if ((m->count + 1) * 4 >= m->cap * 3)
		bm_grow(m);
	for (i = bm_slot(m, bn);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == bn + 1)
			return m->blk[i];
		if (m->keys[i] == 0)
			break;
	}
	m->keys[i] = bn + 1;
	m->blk[i] = xcalloc(1, SB);
	m->count++;
	return m->blk[i];
}

static void bm_grow(struct blkmap *m)
{
	struct blkmap n;

	n.cap = m->cap ? m->cap * 2 : 1024;
	n.count = 0;
	n.keys = xcalloc(n.cap, sizeof(*n.keys));
	n.blk = xcalloc(n.cap, sizeof(*n.blk));
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i]) {
			size_t j = bm_slot(&n, m->keys[i] - 1);

			while (n.keys[j])
				j = (j + 1) & (n.cap - 1);
			n.keys[j] = m->keys[i];
			n.blk[j] = m->blk[i];
			n.count++;
		}
	free(m->keys);
	free(m->blk);
	*m = n;
}

static void bm_free(struct blkmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i])
			free(m->blk[i]);
	free(m->keys);
	free(m->blk);
	memset(m, 0, sizeof(*m));
}

static void bm_copy(struct blkmap *dst, const struct blkmap *src)
{
	dst->cap = src->cap;
	dst->count = src->count;
	dst->keys = xcalloc(src->cap ? src->cap : 1, sizeof(*dst->keys));
	dst->blk = xcalloc(src->cap ? src->cap : 1, sizeof(*dst->blk));
	if (src->cap)
		memcpy(dst->keys, src->keys, src->cap * sizeof(*src->keys));
	for (size_t i = 0; i < src->cap; i++)
		if (src->keys[i]) {
			dst->blk[i] = xmalloc(SB);
			memcpy(dst->blk[i], src->blk[i], SB);
		}
}

static void bm_write(struct blkmap *m, const uint8_t *buf, size_t len,
		     uint64_t off)
{
	while (len) {
		uint64_t bn = off / SB;
		size_t bo = (size_t)(off % SB), n = SB - bo;
		uint8_t *b;

		if (n > len)
			n = len;
		b = bm_get(m, bn);
		if (b == NULL) {
			size_t i;

			for (i = 0; i < n && buf[i] == 0; i++)
				;
			if (i < n)
				b = bm_make(m, bn);
		}
		if (b)
			memcpy(b + bo, buf, n);
		buf += n;
		off += n;
		len -= n;
	}
}

static void bm_read(const struct blkmap *m, uint8_t *buf, size_t len,
		    uint64_t off)
{
	while (len) {
		uint64_t bn = off / SB;
		size_t bo = (size_t)(off % SB), n = SB - bo;
		const uint8_t *b;

		if (n > len)
			n = len;
		b = bm_get(m, bn);
		if (b)
			memcpy(buf, b + bo, n);
		else
			memset(buf, 0, n);
		buf += n;
		off += n;
		len -= n;
	}
}

/* ---------------- devops ---------------- */

static int chance(struct simdisk *d, uint32_t ppm)
{
	return ppm && rnd(&d->rng, 1000000) < ppm;
}

static int sd_read(void *ctx, void *buf, size_t bytes, uint64_t off)
{
	struct simdisk *d = ctx;

	if (off > d->size || bytes > d->size - off)
		return EIO;
	if (chance(d, d->eio_r))
		return EIO;
	bm_read(&d->cur, buf, bytes, off);
	return 0;
}

static int sd_write(void *ctx, const void *buf, size_t bytes, uint64_t off)
{
	struct simdisk *d = ctx;
	struct pend *p;

	if (off > d->size || bytes > d->size - off)
		return EIO;
	if (d->tripped)
		return 0; /* power is off: the write never happens */
	if (chance(d, d->eio_w))
		return EIO;
	d->writes++;
	bm_write(&d->cur, buf, bytes, off);
	if (d->npw == d->cpw) {
		d->cpw = d->cpw ? d->cpw * 2 : 64;
		d->pw = xrealloc(d->pw, d->cpw * sizeof(*d->pw));
	}
	p = &d->pw[d->npw++];
	p->off = off;
	p->len = (uint32_t)bytes;
	p->data = xmalloc(bytes);
	memcpy(p->data, buf, bytes);
	return 0;
}

static void drop_pending(struct simdisk *d)
{
	for (size_t i = 0; i < d->npw; i++)
		free(d->pw[i].data);
	d->npw = 0;
}

static int sd_flush(void *ctx)
{
	struct simdisk *d = ctx;

	if (d->tripped)
		return 0;
	if (d->cut_b && !d->cut_after && d->barriers + 1 == d->cut_b) {
		d->tripped = 1;
		return 0;
	}
	for (size_t i = 0; i < d->npw; i++)
		bm_write(&d->dur, d->pw[i].data, d->pw[i].len, d->pw[i].off);
	drop_pending(d);
	d->barriers++;
	if (d->cut_b && d->cut_after && d->barriers == d->cut_b)
		d->tripped = 1;
	return 0;
}

static uint64_t sd_time(void *ctx)
{
	struct simdisk *d = ctx;

	d->now += 1000 + rnd(&d->clk, 1000);
	return d->now;
}

static void sd_random(void *ctx, void *buf, size_t bytes)
{
	struct simdisk *d = ctx;
	uint8_t *b = buf;

	for (size_t i = 0; i < bytes; i++)
		b[i] = (uint8_t)sm64(&d->clk);
}

/*
 * Direct writes (h2sim --direct): the runner writes each block at once
 * (simdisk_direct_write), so nothing is ever in flight; the flush's wait
 * reports a failed one, as the kernel's does.
 */
static unsigned sd_direct_begin(void *ctx)
{
	(void)ctx;
	return 0;
}

static void sd_direct_fence(void *ctx)
{
	(void)ctx;
}

static int sd_direct_wait(void *ctx, int all)
{
	struct simdisk *d = ctx;
	int e = all ? 0 : d->direct_err;

	if (!all)
		d->direct_err = 0;
	return e;
}

static const struct hammer2_devops sd_ops = {
	.read = sd_read,
	.write = sd_write,
	.flush = sd_flush,
	.time_us = sd_time,
	.random = sd_random,
	/* no readv/writev: every block is a write the crash model sees */
	.direct_begin = sd_direct_begin,
	.direct_fence = sd_direct_fence,
	.direct_wait = sd_direct_wait,
};

/* See sim.h. */
int simdisk_direct_write(struct simdisk *d, const void *buf, size_t bytes,
			 uint64_t off)
{
	int e = sd_write(d, buf, bytes, off);

	if (e)
		d->direct_err = EIO;
	return e;
}

const struct hammer2_devops *simdisk_ops(void)
{
	return &sd_ops;
}

/* ---------------- public ---------------- */

struct simdisk *simdisk_new(uint64_t size, uint64_t rng_seed)
{
	struct simdisk *d = xcalloc(1, sizeof(*d));

	d->size = size;
	d->rng = rng_seed ^ 0xD15C;
	d->now = 1700000000000000ULL;
	d->clk = rng_seed ^ 0xC10C;
	return d;
}

void simdisk_free(struct simdisk *d)
{
	if (d == NULL)
		return;
	drop_pending(d);
	free(d->pw);
	bm_free(&d->cur);
	bm_free(&d->dur);
	free(d);
}

struct simdisk *simdisk_clone(const struct simdisk *src, uint64_t rng_seed)
{
	struct simdisk *d = simdisk_new(src->size, rng_seed);

	bm_copy(&d->dur, &src->dur);
	bm_copy(&d->cur, &src->dur);
	return d;
}

uint64_t simdisk_size(const struct simdisk *d)
{
	return d->size;
}

size_t simdisk_crash(struct simdisk *d)
{
	size_t n = d->npw, nlate = 0;
	size_t *late = xcalloc(n ? n : 1, sizeof(*late));

	for (size_t i = 0; i < n; i++) {
		struct pend *p = &d->pw[i];

		switch (rnd(&d->rng, 5)) {
		case 0: /* lost */
			break;
		case 1: /* kept */
		case 2:
			bm_write(&d->dur, p->data, p->len, p->off);
			break;
		case 3: /* kept, but after the writes that followed it */
			late[nlate++] = i;
			break;
		default: { /* torn */
			uint32_t sec = rnd(&d->rng, 2) ? 512 : 4096;

			for (uint32_t o = 0; o < p->len; o += sec) {
				uint32_t l = p->len - o < sec ? p->len - o :
								sec;

				if (rnd(&d->rng, 2))
					bm_write(&d->dur, p->data + o, l,
						 p->off + o);
			}
			break;
		}
		}
	}
	for (size_t i = 0; i < nlate; i++) {
		struct pend *p = &d->pw[late[i]];

		bm_write(&d->dur, p->data, p->len, p->off);
	}
	free(late);
	drop_pending(d);
	bm_free(&d->cur);
	bm_copy(&d->cur, &d->dur);
	d->tripped = 0;
	d->cut_b = 0;
	return n;
}

void simdisk_arm_cut(struct simdisk *d, uint64_t b, int after)
{
	d->cut_b = b;
	d->cut_after = after;
}

int simdisk_tripped(const struct simdisk *d)
{
	return d->tripped;
}

uint64_t simdisk_barriers(const struct simdisk *d)
{
	return d->barriers;
}

uint64_t simdisk_writes(const struct simdisk *d)
{
	return d->writes;
}

void simdisk_set_eio(struct simdisk *d, uint32_t read_ppm, uint32_t write_ppm)
{
	d->eio_r = read_ppm;
	d->eio_w = write_ppm;
}

void simdisk_set_clock(struct simdisk *d, uint64_t now_us, uint64_t seed)
{
	d->now = now_us;
	d->clk = seed;
}

static int u64cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted block numbers of the non-zero blocks of m (count in *np). */
static uint64_t *bm_sorted(const struct blkmap *m, size_t *np)
{
	uint64_t *v = xcalloc(m->count ? m->count : 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i] && !hammer2_is_zero(m->blk[i], SB))
			v[n++] = m->keys[i] - 1;
	qsort(v, n, sizeof(*v), u64cmp);
	*np = n;
	return v;
}

void simdisk_sha256(const struct simdisk *d, uint8_t out[32])
{
	SHA2_CTX ctx;
	size_t n;
	uint64_t *v = bm_sorted(&d->dur, &n);

	SHA256Init(&ctx);
	for (size_t i = 0; i < n; i++) {
		uint8_t le[8];
		uint64_t off = v[i] * SB;

		for (int k = 0; k < 8; k++)
			le[k] = (uint8_t)(off >> (8 * k));
		SHA256Update(&ctx, le, 8);
		SHA256Update(&ctx, bm_get(&d->dur, v[i]), SB);
	}
	SHA256Final(out, &ctx);
	free(v);
}

int simdisk_save(const struct simdisk *d, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	size_t n;
	uint64_t *v;
	int err = 0;

	if (fd < 0)
		return errno;
	if (ftruncate(fd, (off_t)d->size) != 0)
		err = errno;
	v = bm_sorted(&d->dur, &n);
	for (size_t i = 0; i < n && !err; i++)
		if (pwrite(fd, bm_get(&d->dur, v[i]), SB, (off_t)(v[i] * SB)) !=
		    (ssize_t)SB)
			err = errno ? errno : EIO;
	free(v);
	if (close(fd) != 0 && !err)
		err = errno;
	return err;
}

struct simdisk *simdisk_load(const char *path, uint64_t rng_seed)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	struct simdisk *d;
	uint8_t *buf;
	off_t pos = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return NULL;
	}
	d = simdisk_new((uint64_t)st.st_size, rng_seed);
	buf = xmalloc(1 << 20);
	for (;;) {
		off_t data = lseek(fd, pos, SEEK_DATA), hole;

		if (data < 0)
			break;
		hole = lseek(fd, data, SEEK_HOLE);
		if (hole < 0)
			hole = st.st_size;
		data = data / (off_t)SB * (off_t)SB;
		while (data < hole) {
			size_t want = (size_t)(hole - data < (1 << 20) ?
						       hole - data :
						       (1 << 20));
			ssize_t r = pread(fd, buf, want, data);

			if (r <= 0)
				break;
			bm_write(&d->dur, buf, (size_t)r, (uint64_t)data);
			data += r;
		}
		pos = hole;
		if (pos >= st.st_size)
			break;
	}
	free(buf);
	close(fd);
	bm_copy(&d->cur, &d->dur);
	return d;
}
