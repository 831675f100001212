/*
 * hammer2_os_user.c - userland implementation of the OS seam.
 *
 * Everything declared in hammer2_os_user.h: zeroed allocation, an
 * owner-tracking mutex, assertions, logging, sorting, the check-code
 * primitives (CRC32C, XXH64, SHA-256) and the two block codecs (LZ4 raw
 * blocks and zlib streams).  Backed by libc, pthreads, liblz4, zlib,
 * libxxhash and libmd.
 */
#include "hammer2_os.h" /* the seam; pulls in hammer2_os_user.h */

#include <stdarg.h>

#include <lz4.h>
#include <sha2.h>
#define XXH_STATIC_LINKING_ONLY /* XXH64_state_t on the caller's stack */
#include <xxhash.h>
#include <zlib.h>

int hammer2_log_quiet;

/* ------------------------------------------------------------------ */
/* Memory                                                              */
/* ------------------------------------------------------------------ */

/*
 * Allocate 'bytes' zero-filled bytes.  Returns NULL on failure.  A request
 * for 0 bytes returns a unique pointer (never NULL) so callers can treat
 * NULL strictly as ENOMEM.
 */
void *hammer2_alloc(size_t bytes)
{
	return calloc(1, bytes ? bytes : 1);
}

/* Like hammer2_alloc without the zeroing (see hammer2_os.h). */
void *hammer2_alloc_raw(size_t bytes)
{
	return malloc(bytes ? bytes : 1);
}

/* Release memory from hammer2_alloc.  NULL is allowed and ignored. */
void hammer2_free(void *p)
{
	free(p);
}

/* ------------------------------------------------------------------ */
/* Locks                                                               */
/* ------------------------------------------------------------------ */

/*
 * The owner fields are read without holding the mutex (to detect a
 * recursive lock before blocking), so they are accessed atomically.
 */
static int mtx_locked_by_me(hammer2_mtx_t *m)
{
	pthread_t owner;

	if (!__atomic_load_n(&m->locked, __ATOMIC_ACQUIRE))
		return 0;
	__atomic_load(&m->owner, &owner, __ATOMIC_RELAXED);
	return pthread_equal(owner, pthread_self());
}

/* Initialise an unlocked mutex.  Aborts if pthreads cannot create it. */
void hammer2_mtx_init(hammer2_mtx_t *m)
{
	int rc = pthread_mutex_init(&m->mtx, NULL);

	H2_ASSERT(rc == 0);
	m->locked = 0;
	m->owner = pthread_self();
}

/* Destroy a mutex; it must not be held. */
void hammer2_mtx_destroy(hammer2_mtx_t *m)
{
	H2_ASSERT(!__atomic_load_n(&m->locked, __ATOMIC_ACQUIRE));
	pthread_mutex_destroy(&m->mtx);
}

/*
 * Acquire the mutex, blocking.  Asserts (aborts) when the calling thread
 * already holds it: HAMMER2 locks are not recursive.
 */
void hammer2_mtx_lock(hammer2_mtx_t *m)
{
	pthread_t self = pthread_self();
	int rc;

	H2_ASSERT(!mtx_locked_by_me(m));
	rc = pthread_mutex_lock(&m->mtx);
	H2_ASSERT(rc == 0);
	__atomic_store(&m->owner, &self, __ATOMIC_RELAXED);
	__atomic_store_n(&m->locked, 1, __ATOMIC_RELEASE);
}

/* Release the mutex.  Asserts when the caller is not the owner. */
void hammer2_mtx_unlock(hammer2_mtx_t *m)
{
	int rc;

	H2_ASSERT(mtx_locked_by_me(m));
	__atomic_store_n(&m->locked, 0, __ATOMIC_RELEASE);
	rc = pthread_mutex_unlock(&m->mtx);
	H2_ASSERT(rc == 0);
}

/* True when the calling thread holds the mutex. */
bool hammer2_mtx_owned(hammer2_mtx_t *m)
{
	return mtx_locked_by_me(m) != 0;
}

/* ------------------------------------------------------------------ */
/* Assertions, logging, sorting                                        */
/* ------------------------------------------------------------------ */

/* Report a failed H2_ASSERT on stderr and abort().  Never returns. */
void hammer2_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "hammer2: assertion \"%s\" failed at %s:%d\n", expr,
		file, line);
	fflush(stderr);
	abort();
}

/*
 * printf-style log line to stderr, prefixed "hammer2: " and terminated by
 * a newline.  Suppressed while hammer2_log_quiet is nonzero.
 */
void hammer2_log(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (hammer2_log_quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "hammer2: %s\n", buf);
}

/* Sort n elements of 'size' bytes with cmp (qsort semantics). */
void hammer2_sort(void *base, size_t n, size_t size,
		  int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

/* ------------------------------------------------------------------ */
/* CRC32C (iSCSI, Castagnoli), slicing-by-8                            */
/* ------------------------------------------------------------------ */

#define H2_CRC32C_POLY 0x82F63B78U /* reflected 0x1EDC6F41 */

static uint32_t crc32c_tab[8][256];
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static void crc32c_init_tables(void)
{
	uint32_t c;
	int i, k;

	for (i = 0; i < 256; ++i) {
		c = (uint32_t)i;
		for (k = 0; k < 8; ++k)
			c = (c >> 1) ^ ((c & 1) ? H2_CRC32C_POLY : 0);
		crc32c_tab[0][i] = c;
	}
	for (i = 0; i < 256; ++i) {
		c = crc32c_tab[0][i];
		for (k = 1; k < 8; ++k) {
			c = (c >> 8) ^ crc32c_tab[0][c & 0xFF];
			crc32c_tab[k][i] = c;
		}
	}
}

/*
 * CRC32C of 'bytes' bytes at buf: initial value ~0, final xor ~0 (the
 * iSCSI convention, crc("123456789") == 0xE3069283).  Any alignment.
 */
uint32_t hammer2_icrc32(const void *buf, size_t bytes)
{
	const uint8_t *p = buf;
	uint32_t crc = 0xFFFFFFFFU;
	uint32_t lo, hi;

	pthread_once(&crc32c_once, crc32c_init_tables);

	/* Byte at a time up to 8-byte alignment. */
	while (bytes && ((uintptr_t)p & 7)) {
		crc = (crc >> 8) ^ crc32c_tab[0][(crc ^ *p++) & 0xFF];
		--bytes;
	}
	/* Eight bytes per step, assembled little-endian explicitly. */
	while (bytes >= 8) {
		lo = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		     (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 |
		     (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
		lo ^= crc;
		crc = crc32c_tab[7][lo & 0xFF] ^
		      crc32c_tab[6][(lo >> 8) & 0xFF] ^
		      crc32c_tab[5][(lo >> 16) & 0xFF] ^
		      crc32c_tab[4][lo >> 24] ^ crc32c_tab[3][hi & 0xFF] ^
		      crc32c_tab[2][(hi >> 8) & 0xFF] ^
		      crc32c_tab[1][(hi >> 16) & 0xFF] ^
		      crc32c_tab[0][hi >> 24];
		p += 8;
		bytes -= 8;
	}
	while (bytes--)
		crc = (crc >> 8) ^ crc32c_tab[0][(crc ^ *p++) & 0xFF];
	return crc ^ 0xFFFFFFFFU;
}

/*
 * a * b modulo the CRC32C polynomial, both in the reflected bit order of
 * the CRC (bit 31 is x^0, bit 0 is x^31).
 */
static uint32_t crc32c_mulmod(uint32_t a, uint32_t b)
{
	uint32_t prod = 0, m;

	for (m = 1U << 31; m != 0; m >>= 1) {
		if (a & m)
			prod ^= b;
		b = b & 1 ? (b >> 1) ^ H2_CRC32C_POLY : b >> 1; /* b *= x */
	}
	return prod;
}

/*
 * The CRC32C of A followed by B, from crc1 = hammer2_icrc32(A), crc2 =
 * hammer2_icrc32(B) and bytes2 = |B|.  The CRC is linear over GF(2): the
 * register after A, fed bytes2 more bytes, is multiplied by x^(8 bytes2)
 * modulo the polynomial and B's own contribution is added; the ~0 pre and
 * post inversions of the two CRCs cancel out.  x^(8 bytes2) by repeated
 * squaring: O(log bytes2) multiplications.
 */
uint32_t hammer2_icrc32_combine(uint32_t crc1, uint32_t crc2, size_t bytes2)
{
	uint32_t xpow = 1U << 31; /* x^0 */
	uint32_t sq = 1U << 23;	  /* x^8: one byte */

	for (; bytes2 != 0; bytes2 >>= 1) {
		if (bytes2 & 1)
			xpow = crc32c_mulmod(xpow, sq);
		sq = crc32c_mulmod(sq, sq);
	}
	return crc32c_mulmod(xpow, crc1) ^ crc2;
}

/* ------------------------------------------------------------------ */
/* XXH64 and SHA-256                                                   */
/* ------------------------------------------------------------------ */

/* XXH64 of 'bytes' bytes at buf with the given seed (libxxhash). */
uint64_t hammer2_xxh64(const void *buf, size_t bytes, uint64_t seed)
{
	return (uint64_t)XXH64(buf, bytes, (XXH64_hash_t)seed);
}

_Static_assert(sizeof(XXH64_state_t) <= sizeof(hammer2_xxh64_stream_t),
	       "XXH64_state_t must fit hammer2_xxh64_stream_t");
_Static_assert(_Alignof(XXH64_state_t) <= _Alignof(hammer2_xxh64_stream_t),
	       "XXH64_state_t alignment");

/* Streaming XXH64 (libxxhash's state in the opaque stream). */
void hammer2_xxh64_begin(hammer2_xxh64_stream_t *s, uint64_t seed)
{
	XXH64_reset((XXH64_state_t *)(void *)s, (XXH64_hash_t)seed);
}

void hammer2_xxh64_update(hammer2_xxh64_stream_t *s, const void *buf,
			  size_t bytes)
{
	XXH64_update((XXH64_state_t *)(void *)s, buf, bytes);
}

uint64_t hammer2_xxh64_end(hammer2_xxh64_stream_t *s)
{
	return (uint64_t)XXH64_digest((XXH64_state_t *)(void *)s);
}

/* SHA-256 digest (32 bytes, FIPS 180-4 byte order) of buf into out. */
void hammer2_sha256(const void *buf, size_t bytes, uint8_t out[32])
{
	SHA2_CTX ctx;

	SHA256Init(&ctx);
	SHA256Update(&ctx, buf, bytes);
	SHA256Final(out, &ctx);
}

/* ------------------------------------------------------------------ */
/* Codecs                                                              */
/* ------------------------------------------------------------------ */

/*
 * Compress srclen bytes into a raw LZ4 block (no frame, no length) of at
 * most dstcap bytes.  Returns bytes written, 0 if it does not fit or on
 * bad arguments.
 */
int hammer2_os_lz4_compress(const void *src, int srclen, void *dst, int dstcap)
{
	if (srclen <= 0 || dstcap <= 0)
		return 0;
	return LZ4_compress_default(src, dst, srclen, dstcap);
}

/*
 * Decode a raw LZ4 block of srclen bytes into at most dstcap bytes.
 * Returns bytes produced, or -1 for corrupt input or output overflow;
 * never reads or writes out of bounds.
 */
int hammer2_os_lz4_decompress(const void *src, int srclen, void *dst,
			      int dstcap)
{
	int rc;

	if (srclen <= 0 || dstcap < 0)
		return -1;
	rc = LZ4_decompress_safe(src, dst, srclen, dstcap);
	return rc < 0 ? -1 : rc;
}

/*
 * Compress srclen bytes into a complete zlib stream (RFC 1950 header and
 * adler32 trailer) of at most dstcap bytes.  level is 1..9; other values
 * select zlib's default (6).  Returns bytes written, 0 if it does not fit
 * or on failure.
 */
int hammer2_os_zlib_compress(const void *src, int srclen, void *dst, int dstcap,
			     int level)
{
	z_stream zs;
	int rc, out;

	if (srclen < 0 || dstcap <= 0)
		return 0;
	if (level < 1 || level > 9)
		level = Z_DEFAULT_COMPRESSION;
	memset(&zs, 0, sizeof(zs));
	if (deflateInit(&zs, level) != Z_OK)
		return 0;
	zs.next_in = (Bytef *)(uintptr_t)src;
	zs.avail_in = (uInt)srclen;
	zs.next_out = dst;
	zs.avail_out = (uInt)dstcap;
	rc = deflate(&zs, Z_FINISH);
	out = (rc == Z_STREAM_END) ? dstcap - (int)zs.avail_out : 0;
	deflateEnd(&zs);
	return out;
}

/*
 * Inflate a zlib stream from srclen bytes (trailing bytes after the end
 * of the stream, e.g. zero padding, are ignored) into at most dstcap
 * bytes.  Returns bytes produced, or -1 if the stream is corrupt,
 * truncated or larger than dstcap.
 */
int hammer2_os_zlib_decompress(const void *src, int srclen, void *dst,
			       int dstcap)
{
	z_stream zs;
	int rc, out;

	if (srclen <= 0 || dstcap < 0)
		return -1;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
		return -1;
	zs.next_in = (Bytef *)(uintptr_t)src;
	zs.avail_in = (uInt)srclen;
	zs.next_out = dst;
	zs.avail_out = (uInt)dstcap;
	rc = inflate(&zs, Z_FINISH);
	out = (rc == Z_STREAM_END) ? dstcap - (int)zs.avail_out : -1;
	inflateEnd(&zs);
	return out;
}
