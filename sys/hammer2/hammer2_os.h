/*
 * hammer2_os.h - the one seam between the HAMMER2 core and its environment.
 *
 * Core files (sys/hammer2/NAME.c) include this header and nothing from the OS.
 * It pulls in exactly one environment header:
 *   - sys/hammer2/linux/hammer2_os_linux.h when built by kbuild (__KERNEL__),
 *   - sys/hammer2/user/hammer2_os_user.h otherwise (libhammer2, tools, sim).
 *
 * Each environment header must provide, with identical semantics:
 *
 *   Types:     uint8_t..uint64_t, int8_t..int64_t, size_t, ssize_t, bool,
 *              uintptr_t.
 *   Memory:    void *hammer2_alloc(size_t bytes)  zeroed; NULL on failure.
 *              void *hammer2_alloc_raw(size_t bytes)  not zeroed: only for
 *              buffers wholly written before they are read (I/O buffers).
 *              void hammer2_free(void *p)          NULL allowed.
 *              h2_memcpy, h2_memmove, h2_memset, h2_memcmp, h2_strlen
 *              (same contracts as the C library functions).
 *   Locks:     hammer2_mtx_t with hammer2_mtx_init/destroy/lock/unlock and
 *              hammer2_mtx_owned(m) (true when the caller holds it).  The
 *              userland mutex records its owner and asserts on misuse.
 *   Asserts:   H2_ASSERT(cond): panics (kernel BUG, userland abort) with
 *              file:line.  Only for programming errors, never media input.
 *   Logging:   hammer2_log(const char *fmt, ...) printf-style, one line.
 *              h2_snprintf(buf, size, fmt, ...).
 *   Sorting:   hammer2_sort(base, n, size, cmp) like qsort.
 *   Checks:    uint32_t hammer2_icrc32(const void *buf, size_t bytes)
 *                  iSCSI CRC32C (Castagnoli, init ~0, final xor ~0).
 *              uint32_t hammer2_icrc32_combine(crc1, crc2, bytes2)
 *                  the hammer2_icrc32 of A then B from crc1 (of A), crc2
 *                  (of B) and B's length in bytes, in O(log bytes2).
 *              uint64_t hammer2_xxh64(const void *buf, size_t bytes,
 *                  uint64_t seed)
 *              void hammer2_sha256(const void *buf, size_t bytes,
 *                  uint8_t out[32])
 *              hammer2_xxh64_stream_t with hammer2_xxh64_begin(s, seed),
 *                  hammer2_xxh64_update(s, buf, bytes) and
 *                  hammer2_xxh64_end(s): the same XXH64 over data
 *                  handed in pieces (page cache pages).
 *   Codecs:    int hammer2_os_lz4_compress(const void *src, int srclen,
 *                  void *dst, int dstcap)  bytes written, 0 if it won't fit.
 *              int hammer2_os_lz4_decompress(const void *src, int srclen,
 *                  void *dst, int dstcap)  bytes produced, <0 on corrupt.
 *              int hammer2_os_zlib_compress(const void *src, int srclen,
 *                  void *dst, int dstcap, int level)  bytes, 0 if no fit.
 *              int hammer2_os_zlib_decompress(const void *src, int srclen,
 *                  void *dst, int dstcap)  bytes produced, <0 on corrupt.
 *
 * Device I/O, time and randomness are NOT part of this header: they come
 * through struct hammer2_devops (hammer2.h) with a context pointer, so the
 * simulator can plug in its own disk and clock.
 */
#ifndef HAMMER2_OS_H
#define HAMMER2_OS_H

#ifdef __KERNEL__
#include "linux/hammer2_os_linux.h"
#else
#include "user/hammer2_os_user.h"
#endif

/*
 * The functions every environment implements (contracts above).  Declared
 * once here; the environment headers supply only types and macros.
 */
void *hammer2_alloc(size_t bytes);
void *hammer2_alloc_raw(size_t bytes);
void hammer2_free(void *p);

void hammer2_mtx_init(hammer2_mtx_t *m);
void hammer2_mtx_destroy(hammer2_mtx_t *m);
void hammer2_mtx_lock(hammer2_mtx_t *m);
void hammer2_mtx_unlock(hammer2_mtx_t *m);
bool hammer2_mtx_owned(hammer2_mtx_t *m);

void hammer2_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hammer2_sort(void *base, size_t n, size_t size,
		  int (*cmp)(const void *, const void *));

uint32_t hammer2_icrc32(const void *buf, size_t bytes);
uint32_t hammer2_icrc32_combine(uint32_t crc1, uint32_t crc2, size_t bytes2);
uint64_t hammer2_xxh64(const void *buf, size_t bytes, uint64_t seed);
void hammer2_sha256(const void *buf, size_t bytes, uint8_t out[32]);

/*
 * Streaming XXH64: begin, any number of updates (any sizes, 0 allowed),
 * end gives what hammer2_xxh64 gives over the concatenation.  The state is
 * opaque here; each environment checks that its own state fits.
 */
typedef struct hammer2_xxh64_stream {
	uint64_t opaque[12];
} hammer2_xxh64_stream_t;
void hammer2_xxh64_begin(hammer2_xxh64_stream_t *s, uint64_t seed);
void hammer2_xxh64_update(hammer2_xxh64_stream_t *s, const void *buf,
			  size_t bytes);
uint64_t hammer2_xxh64_end(hammer2_xxh64_stream_t *s);

int hammer2_os_lz4_compress(const void *src, int srclen, void *dst, int dstcap);
int hammer2_os_lz4_decompress(const void *src, int srclen, void *dst,
			      int dstcap);
int hammer2_os_zlib_compress(const void *src, int srclen, void *dst, int dstcap,
			     int level);
int hammer2_os_zlib_decompress(const void *src, int srclen, void *dst,
			       int dstcap);

#define H2_MIN(a, b) ((a) < (b) ? (a) : (b))
#define H2_MAX(a, b) ((a) > (b) ? (a) : (b))
#define H2_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* HAMMER2_OS_H */
