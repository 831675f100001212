/*
 * hammer2_os_linux.c - kernel side of the seam (see ../hammer2_os.h).
 *
 * Memory comes from kvzalloc() inside a NOFS allocation scope: the core
 * runs under writeback and must not recurse into filesystem reclaim, and
 * GFP_KERNEL (scoped to NOFS) keeps kvmalloc's vmalloc fallback for the
 * large buffers (volume header copy, 64 KiB blocks).  Unzeroed block
 * buffers come from per-size slab caches and page pools (see
 * hammer2_alloc_raw).
 *
 * The codecs need workspaces (lz4 16 KiB, deflate ~270 KiB, inflate ~44
 * KiB).  They are allocated on first use, each protected by its own mutex
 * (the core serialises per device anyway) and freed at module exit.
 */
#include "hammer2_os.h"

#include <linux/build_bug.h>
#include <linux/bug.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/moduleparam.h>
#include <linux/shrinker.h>
#include <linux/sysfs.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sort.h>
#include <linux/log2.h>
#include <linux/crc32.h>
#include <linux/crc32c.h>
#include <linux/xxhash.h>
#include <crypto/sha2.h>
#include <linux/lz4.h>
#include <linux/zlib.h>

/* ----- memory ----- */

void *hammer2_alloc(size_t bytes)
{
	unsigned int nofs;
	void *p;

	/* like userland: 0 bytes still gives a unique, freeable pointer */
	nofs = memalloc_nofs_save();
	p = kvzalloc(bytes ? bytes : 1, GFP_KERNEL);
	memalloc_nofs_restore(nofs);
	return p;
}

/*
 * Unzeroed buffers of 1 KiB..64 KiB (the block sizes).  Debian's kernel
 * runs with init_on_alloc=1, which zeroes every page and kmalloc object
 * it hands out; clear_page was a third of the CPU time of sequential I/O
 * under QEMU TCG.  Two ways around it:
 *
 *  - 1 KiB..8 KiB: one slab cache per power of two, each with a
 *    constructor (a cache with a constructor is exempt from zeroing: its
 *    objects keep what their last user left).  Those slabs hold many
 *    objects, so they stay allocated and recycled.
 *  - 16 KiB..64 KiB: whole compound pages (order 2..4), kept on a free
 *    stack per size when freed (up to H2_POOL_BYTES each, and for 64 KiB,
 *    the size of file data blocks, up to 1/16 of RAM, at most
 *    H2_POOL_BIG_MAX: a flush gives back a whole batch of data blocks,
 *    about 64 MiB, which the next batch then reuses; a shrinker empties
 *    the pools under memory pressure).  A slab of
 *    objects this large holds one or two, and SLUB gives an empty slab
 *    back to the page allocator, which zeroes it again at the next
 *    allocation: the pool keeps the pages instead.  Pool pages are told
 *    apart in hammer2_free by their folio's private word (H2_POOL_MAGIC);
 *    the page allocator hands out folios with it 0.
 *
 * SLUB's kfree() frees objects of any cache, so other pointers go to
 * kvfree().  A cache or pool that fails (high-order pages) falls back to
 * kvmalloc.
 */
#define H2_BUF_MIN_RADIX 10
#define H2_SLAB_MAX_RADIX 13
#define H2_BUF_MAX_RADIX 16
#define H2_POOL_MAGIC 0x4832706f6f6cUL /* "H2pool" */
#define H2_POOL_BYTES (16UL << 20)
#define H2_POOL_BIG_MAX (256UL << 20)
static struct kmem_cache *h2_buf_cache[H2_SLAB_MAX_RADIX - H2_BUF_MIN_RADIX + 1];

struct h2_pool {
	spinlock_t lock;
	void *top;	   /* free buffers, linked through their first word */
	unsigned long n;   /* on the stack */
	unsigned long max; /* cap, in buffers (see above) */
};
static struct h2_pool h2_pools[H2_BUF_MAX_RADIX - H2_SLAB_MAX_RADIX];

static void h2_buf_ctor(void *p)
{
	/* nothing: the cache only needs a constructor to skip zeroing */
}

static void h2_buf_caches_destroy(void)
{
	int i;

	for (i = 0; i < (int)ARRAY_SIZE(h2_buf_cache); i++) {
		kmem_cache_destroy(h2_buf_cache[i]); /* NULL is allowed */
		h2_buf_cache[i] = NULL;
	}
}

/* The pool of radix (14..16). */
static struct h2_pool *h2_pool_of(unsigned int radix)
{
	return &h2_pools[radix - H2_SLAB_MAX_RADIX - 1];
}

/* The top buffer of pool pl, or NULL if it is empty. */
static void *h2_pool_pop(struct h2_pool *pl)
{
	void *p;

	spin_lock(&pl->lock);
	p = pl->top;
	if (p) {
		pl->top = *(void **)p;
		pl->n--;
	}
	spin_unlock(&pl->lock);
	return p;
}

static void *h2_pool_get(unsigned int radix)
{
	struct folio *folio;
	void *p = h2_pool_pop(h2_pool_of(radix));

	if (p)
		return p;
	folio = folio_alloc(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY,
			    radix - PAGE_SHIFT);
	if (folio == NULL)
		return NULL;
	folio->private = (void *)H2_POOL_MAGIC;
	return folio_address(folio);
}

/* Give p back to its pool, or its pages to the system; false: not ours. */
static bool h2_pool_put(void *p)
{
	struct folio *folio;
	struct h2_pool *pl;
	unsigned int radix;

	if (is_vmalloc_addr(p) || !virt_addr_valid(p))
		return false;
	folio = virt_to_folio(p);
	if (folio_test_slab(folio) || folio->private != (void *)H2_POOL_MAGIC ||
	    folio_address(folio) != p)
		return false;
	radix = folio_order(folio) + PAGE_SHIFT;
	if (radix <= H2_SLAB_MAX_RADIX || radix > H2_BUF_MAX_RADIX)
		return false;
	pl = h2_pool_of(radix);
	spin_lock(&pl->lock);
	if (pl->n < pl->max) {
		*(void **)p = pl->top;
		pl->top = p;
		pl->n++;
		p = NULL;
	}
	spin_unlock(&pl->lock);
	if (p) {
		folio->private = NULL;
		folio_put(folio);
	}
	return true;
}

/* Free up to n pooled buffers (largest first); returns how many. */
static unsigned long h2_pools_free(unsigned long n)
{
	unsigned long done = 0;
	int i;

	for (i = (int)ARRAY_SIZE(h2_pools) - 1; i >= 0 && done < n; i--) {
		struct h2_pool *pl = &h2_pools[i];

		while (done < n) {
			struct folio *folio;
			void *p = h2_pool_pop(pl);

			if (p == NULL)
				break;
			folio = virt_to_folio(p);
			folio->private = NULL;
			folio_put(folio);
			done++;
		}
	}
	return done;
}

static void h2_pools_drain(void)
{
	h2_pools_free(ULONG_MAX);
}

/* Buffers on all the pools' stacks now (unlocked: a snapshot). */
static unsigned long h2_pools_count(void)
{
	unsigned long n = 0;
	int i;

	for (i = 0; i < (int)ARRAY_SIZE(h2_pools); i++)
		n += READ_ONCE(h2_pools[i].n);
	return n;
}

/* Memory pressure empties the pools (buffers, one per object). */
static unsigned long h2_pool_count(struct shrinker *sh,
				   struct shrink_control *sc)
{
	unsigned long n = h2_pools_count();

	return n ? n : SHRINK_EMPTY;
}

static unsigned long h2_pool_scan(struct shrinker *sh,
				  struct shrink_control *sc)
{
	unsigned long n = h2_pools_free(sc->nr_to_scan);

	return n ? n : SHRINK_STOP;
}

/* /sys/module/hammer2/parameters/pool_buffers: buffers pooled now. */
static int h2_pool_param_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lu\n", h2_pools_count());
}

static const struct kernel_param_ops h2_pool_param_ops = {
	.get = h2_pool_param_get,
};
module_param_cb(pool_buffers, &h2_pool_param_ops, NULL, 0444);
MODULE_PARM_DESC(pool_buffers, "16-64 KiB block buffers kept for reuse");

static struct shrinker h2_pool_shrinker = {
	.count_objects = h2_pool_count,
	.scan_objects = h2_pool_scan,
	.seeks = DEFAULT_SEEKS,
};
static bool h2_pool_shrinker_on;

int hammer2_os_linux_init(void)
{
	static const char *const names[] = {
		"hammer2_buf_1k",
		"hammer2_buf_2k",
		"hammer2_buf_4k",
		"hammer2_buf_8k",
	};
	int i;

	BUILD_BUG_ON(ARRAY_SIZE(names) != ARRAY_SIZE(h2_buf_cache));
	BUILD_BUG_ON(PAGE_SHIFT > H2_SLAB_MAX_RADIX);
	for (i = 0; i < (int)ARRAY_SIZE(h2_pools); i++) {
		spin_lock_init(&h2_pools[i].lock);
		h2_pools[i].max = H2_POOL_BYTES >> (H2_SLAB_MAX_RADIX + 1 + i);
	}
	h2_pools[ARRAY_SIZE(h2_pools) - 1].max =
		clamp(((unsigned long)totalram_pages() << PAGE_SHIFT) / 16,
		      H2_POOL_BYTES, H2_POOL_BIG_MAX) >>
		H2_BUF_MAX_RADIX;
	for (i = 0; i < (int)ARRAY_SIZE(h2_buf_cache); i++) {
		unsigned int size = 1U << (H2_BUF_MIN_RADIX + i);

		/* aligned to its size, as bios of block buffers want */
		h2_buf_cache[i] = kmem_cache_create(names[i], size, size,
						    SLAB_RECLAIM_ACCOUNT,
						    h2_buf_ctor);
		if (h2_buf_cache[i] == NULL) {
			h2_buf_caches_destroy();
			return -ENOMEM;
		}
	}
	/* without a shrinker the pools still work, only pinned till exit */
	h2_pool_shrinker_on =
		register_shrinker(&h2_pool_shrinker, "hammer2-buf-pool") == 0;
	return 0;
}

void *hammer2_alloc_raw(size_t bytes)
{
	unsigned int nofs;
	void *p = NULL;

	nofs = memalloc_nofs_save();
	if (bytes >= (1U << H2_BUF_MIN_RADIX) &&
	    bytes <= (1U << H2_BUF_MAX_RADIX) && is_power_of_2(bytes)) {
		unsigned int radix = ilog2(bytes);

		if (radix > H2_SLAB_MAX_RADIX) {
			p = h2_pool_get(radix);
		} else {
			struct kmem_cache *c =
				h2_buf_cache[radix - H2_BUF_MIN_RADIX];

			if (c)
				p = kmem_cache_alloc(c,
						     GFP_KERNEL | __GFP_NOWARN);
		}
	}
	if (p == NULL)
		p = kvmalloc(bytes ? bytes : 1, GFP_KERNEL);
	memalloc_nofs_restore(nofs);
	return p;
}

void hammer2_free(void *p)
{
	if (p && h2_pool_put(p))
		return;
	kvfree(p);
}

/* ----- locks ----- */

static_assert(sizeof(struct mutex) <= sizeof(((hammer2_mtx_t *)0)->mutex),
	      "HAMMER2_LINUX_MUTEX_WORDS too small for struct mutex");
static_assert(__alignof__(struct mutex) <= __alignof__(unsigned long),
	      "struct mutex alignment");

static inline struct mutex *h2_mutex(hammer2_mtx_t *m)
{
	return (struct mutex *)m->mutex;
}

void hammer2_mtx_init(hammer2_mtx_t *m)
{
	memset(m, 0, sizeof(*m));
	mutex_init(h2_mutex(m));
}

void hammer2_mtx_destroy(hammer2_mtx_t *m)
{
	H2_ASSERT(!mutex_is_locked(h2_mutex(m)));
	H2_ASSERT(m->owner == NULL);
	mutex_destroy(h2_mutex(m));
}

void hammer2_mtx_lock(hammer2_mtx_t *m)
{
	/* recursion would deadlock: catch it as the programming error it is */
	H2_ASSERT(READ_ONCE(m->owner) != current);
	mutex_lock(h2_mutex(m));
	WRITE_ONCE(m->owner, current);
}

void hammer2_mtx_unlock(hammer2_mtx_t *m)
{
	H2_ASSERT(mutex_is_locked(h2_mutex(m)));
	H2_ASSERT(READ_ONCE(m->owner) == current);
	WRITE_ONCE(m->owner, NULL);
	mutex_unlock(h2_mutex(m));
}

bool hammer2_mtx_owned(hammer2_mtx_t *m)
{
	return mutex_is_locked(h2_mutex(m)) && READ_ONCE(m->owner) == current;
}

/* ----- asserts, logging, sorting ----- */

void hammer2_assert_fail(const char *expr, const char *file, int line)
{
	printk(KERN_EMERG "hammer2: assertion \"%s\" failed at %s:%d\n", expr,
	       file, line);
	BUG();
}

int h2_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void hammer2_log(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);

	/* one line per call whether or not the caller ended it with \n */
	len = strlen(buf);
	while (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	printk(KERN_INFO "hammer2: %s\n", buf);
}

void hammer2_sort(void *base, size_t n, size_t size,
		  int (*cmp)(const void *, const void *))
{
	sort(base, n, size, cmp, NULL);
}

/* ----- check codes ----- */

/*
 * libcrc32c's crc32c() is the raw CRC update (no pre/post inversion), so
 * the standard iSCSI CRC32C is crc32c(~0, ...) ^ ~0 (0xE3069283 for
 * "123456789").  Long buffers are fed in chunks (length is unsigned int).
 */
uint32_t hammer2_icrc32(const void *buf, size_t bytes)
{
	const uint8_t *p = buf;
	u32 crc = ~0U;

	while (bytes > 0) {
		unsigned int n = bytes > 0x40000000 ? 0x40000000 : bytes;

		crc = crc32c(crc, p, n);
		p += n;
		bytes -= n;
	}
	return crc ^ ~0U;
}

/*
 * The CRC32C of A followed by B from crc1 = hammer2_icrc32(A), crc2 =
 * hammer2_icrc32(B) and bytes2 = |B|: crc1 times x^(8 bytes2) modulo the
 * polynomial, plus crc2 (the pre/post inversions cancel out);
 * __crc32c_le_combine is exactly that.
 */
uint32_t hammer2_icrc32_combine(uint32_t crc1, uint32_t crc2, size_t bytes2)
{
	return __crc32c_le_combine(crc1, crc2, bytes2);
}

uint64_t hammer2_xxh64(const void *buf, size_t bytes, uint64_t seed)
{
	return xxh64(buf, bytes, seed);
}

static_assert(sizeof(struct xxh64_state) <= sizeof(hammer2_xxh64_stream_t),
	      "struct xxh64_state must fit hammer2_xxh64_stream_t");
static_assert(__alignof__(struct xxh64_state) <=
		      __alignof__(hammer2_xxh64_stream_t),
	      "struct xxh64_state alignment");

void hammer2_xxh64_begin(hammer2_xxh64_stream_t *s, uint64_t seed)
{
	xxh64_reset((struct xxh64_state *)s, seed);
}

void hammer2_xxh64_update(hammer2_xxh64_stream_t *s, const void *buf,
			  size_t bytes)
{
	xxh64_update((struct xxh64_state *)s, buf, bytes);
}

uint64_t hammer2_xxh64_end(hammer2_xxh64_stream_t *s)
{
	return xxh64_digest((struct xxh64_state *)s);
}

void hammer2_sha256(const void *buf, size_t bytes, uint8_t out[32])
{
	struct sha256_state st;
	const u8 *p = buf;

	sha256_init(&st);
	while (bytes > 0) {
		unsigned int n = bytes > 0x40000000 ? 0x40000000 : bytes;

		sha256_update(&st, p, n);
		p += n;
		bytes -= n;
	}
	sha256_final(&st, out); /* also wipes st */
}

/* ----- codecs ----- */

struct h2_workspace {
	struct mutex lock;
	void *mem;
};

static struct h2_workspace h2_lz4_ws = {
	.lock = __MUTEX_INITIALIZER(h2_lz4_ws.lock),
};
static struct h2_workspace h2_deflate_ws = {
	.lock = __MUTEX_INITIALIZER(h2_deflate_ws.lock),
};
static struct h2_workspace h2_inflate_ws = {
	.lock = __MUTEX_INITIALIZER(h2_inflate_ws.lock),
};

/* Lock ws and return its memory (allocated on first use), NULL on ENOMEM. */
static void *h2_ws_get(struct h2_workspace *ws, size_t bytes)
{
	mutex_lock(&ws->lock);
	if (ws->mem == NULL) {
		unsigned int nofs = memalloc_nofs_save();

		ws->mem = kvmalloc(bytes, GFP_KERNEL);
		memalloc_nofs_restore(nofs);
	}
	if (ws->mem == NULL)
		mutex_unlock(&ws->lock);
	return ws->mem;
}

static void h2_ws_put(struct h2_workspace *ws)
{
	mutex_unlock(&ws->lock);
}

static void h2_ws_free(struct h2_workspace *ws)
{
	mutex_lock(&ws->lock);
	kvfree(ws->mem);
	ws->mem = NULL;
	mutex_unlock(&ws->lock);
}

void hammer2_os_linux_exit(void)
{
	h2_ws_free(&h2_lz4_ws);
	h2_ws_free(&h2_deflate_ws);
	h2_ws_free(&h2_inflate_ws);
	h2_buf_caches_destroy();
	if (h2_pool_shrinker_on)
		unregister_shrinker(&h2_pool_shrinker);
	h2_pools_drain(); /* every device is closed: all buffers are back */
}

int hammer2_os_lz4_compress(const void *src, int srclen, void *dst, int dstcap)
{
	void *wrkmem;
	int n;

	if (srclen < 0 || dstcap <= 0)
		return 0;
	wrkmem = h2_ws_get(&h2_lz4_ws, LZ4_MEM_COMPRESS);
	if (wrkmem == NULL)
		return 0; /* store uncompressed */
	n = LZ4_compress_default(src, dst, srclen, dstcap, wrkmem);
	h2_ws_put(&h2_lz4_ws);
	return n > 0 ? n : 0;
}

int hammer2_os_lz4_decompress(const void *src, int srclen, void *dst,
			      int dstcap)
{
	int n;

	if (srclen < 0 || dstcap < 0)
		return -EINVAL;
	n = LZ4_decompress_safe(src, dst, srclen, dstcap);
	return n >= 0 ? n : -EIO;
}

/*
 * zlib streams (header + adler32), like userland compress2()/uncompress():
 * windowBits 15, memLevel 8.  Levels outside 1..9 mean the zlib default (6).
 */
int hammer2_os_zlib_compress(const void *src, int srclen, void *dst, int dstcap,
			     int level)
{
	z_stream strm;
	int n = 0;

	if (srclen < 0 || dstcap <= 0)
		return 0;
	if (level < 1 || level > 9)
		level = Z_DEFAULT_COMPRESSION;
	memset(&strm, 0, sizeof(strm));
	strm.workspace =
		h2_ws_get(&h2_deflate_ws,
			  zlib_deflate_workspacesize(MAX_WBITS, DEF_MEM_LEVEL));
	if (strm.workspace == NULL)
		return 0;
	if (zlib_deflateInit2(&strm, level, Z_DEFLATED, MAX_WBITS,
			      DEF_MEM_LEVEL, Z_DEFAULT_STRATEGY) != Z_OK)
		goto out;
	strm.next_in = src;
	strm.avail_in = srclen;
	strm.next_out = dst;
	strm.avail_out = dstcap;
	if (zlib_deflate(&strm, Z_FINISH) == Z_STREAM_END)
		n = (int)strm.total_out;
	zlib_deflateEnd(&strm);
out:
	h2_ws_put(&h2_deflate_ws);
	return n;
}

int hammer2_os_zlib_decompress(const void *src, int srclen, void *dst,
			       int dstcap)
{
	z_stream strm;
	int n = -EIO;

	if (srclen < 0 || dstcap < 0)
		return -EINVAL;
	memset(&strm, 0, sizeof(strm));
	strm.workspace =
		h2_ws_get(&h2_inflate_ws, zlib_inflate_workspacesize());
	if (strm.workspace == NULL)
		return -ENOMEM;
	if (zlib_inflateInit2(&strm, MAX_WBITS) != Z_OK)
		goto out;
	strm.next_in = src;
	strm.avail_in = srclen;
	strm.next_out = dst;
	strm.avail_out = dstcap;
	if (zlib_inflate(&strm, Z_FINISH) == Z_STREAM_END)
		n = (int)strm.total_out;
	zlib_inflateEnd(&strm);
out:
	h2_ws_put(&h2_inflate_ws);
	return n;
}
