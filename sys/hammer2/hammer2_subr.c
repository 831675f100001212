/*
 * hammer2_subr.c - error conversion, directory hash, check codes, volume
 * header CRCs, block compression framing, small helpers.
 *
 * Media facts implemented here are documented, with their sources, in
 * docs/FORMAT.md (sections "Check codes", "Directory hash", "Compression",
 * "Volume header" and "UUIDs").
 */
#include "hammer2.h"

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/*
 * Convert HAMMER2_ERROR_* flags to one errno; 0 when error is 0.
 *
 * Media problems win over everything else: EIO, CHECK and BADBREF all
 * give EIO.  Then ENOMEM, then the one-to-one flags in a fixed order.
 * ABORTED gives EINTR.  Any other nonzero value (EOF or unknown bits)
 * gives EIO so that an error never turns into success.
 */
int hammer2_error_to_errno(int error)
{
	static const struct {
		int flag;
		int eno;
	} map[] = {
		{ HAMMER2_ERROR_ENOMEM, ENOMEM },
		{ HAMMER2_ERROR_ENOSPC, ENOSPC },
		{ HAMMER2_ERROR_ENOENT, ENOENT },
		{ HAMMER2_ERROR_ENOTEMPTY, ENOTEMPTY },
		{ HAMMER2_ERROR_EAGAIN, EAGAIN },
		{ HAMMER2_ERROR_ENOTDIR, ENOTDIR },
		{ HAMMER2_ERROR_EISDIR, EISDIR },
		{ HAMMER2_ERROR_EINPROGRESS, EINPROGRESS },
		{ HAMMER2_ERROR_EINVAL, EINVAL },
		{ HAMMER2_ERROR_EEXIST, EEXIST },
		{ HAMMER2_ERROR_EDEADLK, EDEADLK },
		{ HAMMER2_ERROR_ESRCH, ESRCH },
		{ HAMMER2_ERROR_ETIMEDOUT, ETIMEDOUT },
		{ HAMMER2_ERROR_ENAMETOOLONG, ENAMETOOLONG },
		{ HAMMER2_ERROR_EROFS, EROFS },
		{ HAMMER2_ERROR_EFBIG, EFBIG },
		{ HAMMER2_ERROR_EXDEV, EXDEV },
		{ HAMMER2_ERROR_EPERM, EPERM },
		{ HAMMER2_ERROR_ENXIO, ENXIO },
		{ HAMMER2_ERROR_ABORTED, EINTR },
	};
	size_t i;

	if (error == 0)
		return 0;
	if (error &
	    (HAMMER2_ERROR_EIO | HAMMER2_ERROR_CHECK | HAMMER2_ERROR_BADBREF))
		return EIO;
	for (i = 0; i < H2_ARRAY_SIZE(map); ++i) {
		if (error & map[i].flag)
			return map[i].eno;
	}
	return EIO;
}

/* ------------------------------------------------------------------ */
/* Directory hash                                                      */
/* ------------------------------------------------------------------ */

static int dirhash_is_separator(unsigned char c)
{
	return c == '.' || c == '-' || c == '_' || c == '~';
}

/*
 * HAMMER2 directory key of a name of len bytes (len may be 0).
 *
 *   bits 63..32  sum (mod 2^32) of the CRC32C of each run of characters
 *                between the separators '.', '-', '_', '~' (empty runs
 *                skipped), with bit 63 forced to 1;
 *   bits 31..16  (c >> 16) ^ (c & 0xFFFF) where c = CRC32C(whole name),
 *                i.e. (c ^ (c << 16)) & 0xFFFF0000;
 *   bit  15      always 1;
 *   bits 14..0   zero: the collision space, incremented by the caller
 *                when a key is already in use.
 *
 * Keys with bit 63 clear are never produced: they are reserved (hidden
 * hardlink targets keyed by inode number in the seed-era layout).
 */
hammer2_key_t hammer2_dirhash(const unsigned char *name, size_t len)
{
	uint32_t sum = 0;
	uint32_t whole;
	size_t i, start = 0;
	hammer2_key_t key;

	for (i = 0; i < len; ++i) {
		if (!dirhash_is_separator(name[i]))
			continue;
		if (i > start)
			sum += hammer2_icrc32(name + start, i - start);
		start = i + 1;
	}
	if (len > start)
		sum += hammer2_icrc32(name + start, len - start);
	sum |= 0x80000000U;
	key = (hammer2_key_t)sum << 32;

	whole = hammer2_icrc32(name, len);
	whole ^= whole << 16;
	key |= whole & 0xFFFF0000U;
	key |= 0x8000U;
	return key;
}

/* ------------------------------------------------------------------ */
/* Check codes                                                         */
/* ------------------------------------------------------------------ */

/*
 * SHA192 as HAMMER2 defines it: SHA-256, then the third 64-bit word is
 * xored with the fourth, and the first 24 bytes are kept.  The xor is
 * bytewise so it does not depend on host byte order.
 */
static void hammer2_sha192(const void *data, size_t bytes, uint8_t out[24])
{
	uint8_t digest[32];
	int i;

	hammer2_sha256(data, bytes, digest);
	for (i = 0; i < 8; ++i)
		digest[16 + i] ^= digest[24 + i];
	h2_memcpy(out, digest, 24);
}

/*
 * Store the check code selected by HAMMER2_DEC_CHECK(bref->methods),
 * computed over 'bytes' bytes at data (the physical, possibly compressed
 * contents), into bref->check.
 *
 *   NONE, DISABLED    check area left unchanged.
 *   ISCSI32           check.iscsi32.value = CRC32C; rest of area zeroed.
 *   XXHASH64          check.xxhash64.value = XXH64(seed "MattDlln");
 *                     rest zeroed.
 *   SHA192            check.sha192.data = folded SHA-256; rest zeroed.
 *   FREEMAP           check.freemap.icrc32 = CRC32C only (bigmask and
 *                     avail are allocator state and are preserved).
 *   other values      check area left unchanged (testcheck fails).
 */
void hammer2_bref_setcheck(hammer2_blockref_t *bref, const void *data,
			   size_t bytes)
{
	switch (HAMMER2_DEC_CHECK(bref->methods)) {
	case HAMMER2_CHECK_ISCSI32:
		h2_memset(&bref->check, 0, sizeof(bref->check));
		bref->check.iscsi32.value = hammer2_icrc32(data, bytes);
		break;
	case HAMMER2_CHECK_XXHASH64:
		h2_memset(&bref->check, 0, sizeof(bref->check));
		bref->check.xxhash64.value =
			hammer2_xxh64(data, bytes, HAMMER2_XXH64_SEED);
		break;
	case HAMMER2_CHECK_SHA192: {
		uint8_t sum[24];

		hammer2_sha192(data, bytes, sum);
		h2_memset(&bref->check, 0, sizeof(bref->check));
		h2_memcpy(bref->check.sha192.data, sum, sizeof(sum));
		break;
	}
	case HAMMER2_CHECK_FREEMAP:
		bref->check.freemap.icrc32 = hammer2_icrc32(data, bytes);
		break;
	case HAMMER2_CHECK_NONE:
	case HAMMER2_CHECK_DISABLED:
	default:
		break;
	}
}

/*
 * Verify bref's check code against 'bytes' bytes at data.  Returns 1 when
 * it matches or the check type is NONE or DISABLED, 0 on mismatch or an
 * unknown check type (6..15).
 */
int hammer2_bref_testcheck(const hammer2_blockref_t *bref, const void *data,
			   size_t bytes)
{
	switch (HAMMER2_DEC_CHECK(bref->methods)) {
	case HAMMER2_CHECK_NONE:
	case HAMMER2_CHECK_DISABLED:
		return 1;
	case HAMMER2_CHECK_ISCSI32:
		return bref->check.iscsi32.value == hammer2_icrc32(data, bytes);
	case HAMMER2_CHECK_XXHASH64:
		return bref->check.xxhash64.value ==
		       hammer2_xxh64(data, bytes, HAMMER2_XXH64_SEED);
	case HAMMER2_CHECK_SHA192: {
		uint8_t sum[24];

		hammer2_sha192(data, bytes, sum);
		return h2_memcmp(bref->check.sha192.data, sum, sizeof(sum)) ==
		       0;
	}
	case HAMMER2_CHECK_FREEMAP:
		return bref->check.freemap.icrc32 ==
		       hammer2_icrc32(data, bytes);
	default:
		return 0;
	}
}

/* See hammer2.h. */
uint8_t *hammer2_iov_flatten(const struct hammer2_iov *iov, int cnt,
			     size_t bytes)
{
	uint8_t *flat;
	size_t pos = 0;
	int i;

	if (cnt == 1)
		return iov[0].iov_base;
	flat = hammer2_alloc_raw(bytes);
	if (flat == NULL)
		return NULL;
	for (i = 0; i < cnt && pos < bytes; i++) {
		size_t n = H2_MIN(iov[i].iov_len, bytes - pos);

		h2_memcpy(flat + pos, iov[i].iov_base, n);
		pos += n;
	}
	return flat;
}

/* See hammer2.h. */
void hammer2_bref_setcheck_iov(hammer2_blockref_t *bref,
			       const struct hammer2_iov *iov, int cnt)
{
	hammer2_xxh64_stream_t xs;
	size_t bytes = 0;
	uint8_t *flat;
	int i;

	for (i = 0; i < cnt; i++)
		bytes += iov[i].iov_len;
	if (cnt == 1) {
		hammer2_bref_setcheck(bref, iov[0].iov_base, bytes);
		return;
	}
	switch (HAMMER2_DEC_CHECK(bref->methods)) {
	case HAMMER2_CHECK_NONE:
	case HAMMER2_CHECK_DISABLED:
		return;
	case HAMMER2_CHECK_XXHASH64:
		hammer2_xxh64_begin(&xs, HAMMER2_XXH64_SEED);
		for (i = 0; i < cnt; i++)
			hammer2_xxh64_update(&xs, iov[i].iov_base,
					     iov[i].iov_len);
		h2_memset(&bref->check, 0, sizeof(bref->check));
		bref->check.xxhash64.value = hammer2_xxh64_end(&xs);
		return;
	default:
		flat = hammer2_iov_flatten(iov, cnt, bytes);
		if (flat == NULL) {
			h2_memset(&bref->check, 0, sizeof(bref->check));
			return;
		}
		hammer2_bref_setcheck(bref, flat, bytes);
		hammer2_free(flat);
	}
}

/* See hammer2.h. */
bool hammer2_check_stream_begin(hammer2_check_stream_t *cs,
				const hammer2_blockref_t *bref)
{
	cs->algo = (uint8_t)HAMMER2_DEC_CHECK(bref->methods);
	switch (cs->algo) {
	case HAMMER2_CHECK_NONE:
	case HAMMER2_CHECK_DISABLED:
		return true;
	case HAMMER2_CHECK_XXHASH64:
		hammer2_xxh64_begin(&cs->xxh, HAMMER2_XXH64_SEED);
		return true;
	default:
		return false;
	}
}

/* See hammer2.h. */
void hammer2_check_stream_update(hammer2_check_stream_t *cs, const void *buf,
				 size_t bytes)
{
	if (cs->algo == HAMMER2_CHECK_XXHASH64)
		hammer2_xxh64_update(&cs->xxh, buf, bytes);
}

/* See hammer2.h. */
bool hammer2_check_stream_end(hammer2_check_stream_t *cs,
			      const hammer2_blockref_t *bref)
{
	switch (cs->algo) {
	case HAMMER2_CHECK_NONE:
	case HAMMER2_CHECK_DISABLED:
		return true;
	case HAMMER2_CHECK_XXHASH64:
		return bref->check.xxhash64.value ==
		       hammer2_xxh64_end(&cs->xxh);
	default:
		return false;
	}
}

/* ------------------------------------------------------------------ */
/* Volume header CRCs                                                  */
/* ------------------------------------------------------------------ */

static uint32_t voldata_crc(const hammer2_volume_data_t *vd, size_t off,
			    size_t bytes)
{
	return hammer2_icrc32((const uint8_t *)vd + off, bytes);
}

/*
 * The CRC32C of the header's unchanging middle, bytes [HEAD_BYTES,
 * TAIL_OFF) (hammer2_disk.h), for hammer2_voldata_setcrc_mid.
 */
uint32_t hammer2_voldata_midcrc(const hammer2_volume_data_t *vd)
{
	return voldata_crc(vd, HAMMER2_VOLUME_HEAD_BYTES,
			   HAMMER2_VOLUME_TAIL_OFF - HAMMER2_VOLUME_HEAD_BYTES);
}

/*
 * Set the three volume header CRCs, in dependency order:
 * icrc_sects[6] over bytes 512..1023 (sroot blockset sector),
 * icrc_sects[7] over bytes 0..507 (covers icrc_sects[0..6]),
 * icrc_volheader over bytes 0..65531 (covers both).  midcrc is
 * hammer2_voldata_midcrc(vd), which a flush keeps from one commit to the
 * next while the middle does not change: icrc_volheader is then combined
 * from the CRCs of the first 4 KiB, the middle and the last 4 KiB
 * (hammer2_icrc32_combine), and only 8 KiB are read per commit.
 */
void hammer2_voldata_setcrc_mid(hammer2_volume_data_t *vd, uint32_t midcrc)
{
	const size_t tail =
		HAMMER2_VOLUME_ICRCVH_SIZE - HAMMER2_VOLUME_TAIL_OFF;
	uint32_t crc;

	vd->icrc_sects[HAMMER2_VOL_ICRC_SECT1] = voldata_crc(
		vd, HAMMER2_VOLUME_ICRC1_OFF, HAMMER2_VOLUME_ICRC1_SIZE);
	vd->icrc_sects[HAMMER2_VOL_ICRC_SECT0] = voldata_crc(
		vd, HAMMER2_VOLUME_ICRC0_OFF, HAMMER2_VOLUME_ICRC0_SIZE);
	crc = voldata_crc(vd, 0, HAMMER2_VOLUME_HEAD_BYTES);
	crc = hammer2_icrc32_combine(crc, midcrc,
				     HAMMER2_VOLUME_TAIL_OFF -
					     HAMMER2_VOLUME_HEAD_BYTES);
	vd->icrc_volheader = hammer2_icrc32_combine(
		crc, voldata_crc(vd, HAMMER2_VOLUME_TAIL_OFF, tail), tail);
}

/* hammer2_voldata_setcrc_mid with the middle's CRC computed here. */
void hammer2_voldata_setcrc(hammer2_volume_data_t *vd)
{
	hammer2_voldata_setcrc_mid(vd, hammer2_voldata_midcrc(vd));
}

/*
 * Verify the three volume header CRCs (as a mount does before trusting a
 * copy).  Returns 0 if all match, HAMMER2_ERROR_CHECK otherwise.
 */
int hammer2_voldata_testcrc(const hammer2_volume_data_t *vd)
{
	if (vd->icrc_sects[HAMMER2_VOL_ICRC_SECT0] !=
	    voldata_crc(vd, HAMMER2_VOLUME_ICRC0_OFF,
			HAMMER2_VOLUME_ICRC0_SIZE))
		return HAMMER2_ERROR_CHECK;
	if (vd->icrc_sects[HAMMER2_VOL_ICRC_SECT1] !=
	    voldata_crc(vd, HAMMER2_VOLUME_ICRC1_OFF,
			HAMMER2_VOLUME_ICRC1_SIZE))
		return HAMMER2_ERROR_CHECK;
	if (vd->icrc_volheader != voldata_crc(vd, HAMMER2_VOLUME_ICRCVH_OFF,
					      HAMMER2_VOLUME_ICRCVH_SIZE))
		return HAMMER2_ERROR_CHECK;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Compression                                                         */
/* ------------------------------------------------------------------ */

#define H2_LZ4_HDR 4 /* little-endian int32 compressed length */

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* zlib level of a comp_algo byte: 0 -> 6, then clamped to 6..9. */
static int zlib_level(int comp_algo)
{
	int level = HAMMER2_DEC_LEVEL(comp_algo);

	if (level == 0)
		return HAMMER2_ZLIB_LEVEL_DEFAULT;
	if (level < HAMMER2_ZLIB_LEVEL_DEFAULT)
		return HAMMER2_ZLIB_LEVEL_DEFAULT;
	if (level > 9)
		return 9;
	return level;
}

/*
 * See hammer2.h.  lbytes is the logical block size (normally a power of
 * two, 1 KiB..64 KiB); out must hold lbytes bytes.  The compressed image
 * may use at most lbytes / 2 bytes (lz4: 4-byte header plus a block of at
 * most lbytes / 2 - 8 bytes, the limit DragonFly uses; zlib: a stream of
 * at most lbytes / 2 bytes).  It is padded with zeros to the next power
 * of two >= 1024 and that size is returned.  Returns 0 (out contents
 * undefined) when the data does not compress that well, when lbytes is
 * below 2 KiB or above 64 KiB, or for NONE/AUTOZERO/unknown algorithms.
 */
uint32_t hammer2_compress_block(int comp_algo, const void *in, uint32_t lbytes,
				void *out)
{
	uint8_t *o = out;
	uint32_t limit, csize, pbytes;
	int n;

	if (lbytes < 2 * HAMMER2_ALLOC_MIN || lbytes > HAMMER2_PBUFSIZE)
		return 0;
	limit = lbytes / 2;

	switch (HAMMER2_DEC_ALGO(comp_algo)) {
	case HAMMER2_COMP_LZ4:
		n = hammer2_os_lz4_compress(in, (int)lbytes, o + H2_LZ4_HDR,
					    (int)(limit - 8));
		if (n <= 0)
			return 0;
		put_le32(o, (uint32_t)n);
		csize = (uint32_t)n + H2_LZ4_HDR;
		break;
	case HAMMER2_COMP_ZLIB:
		n = hammer2_os_zlib_compress(in, (int)lbytes, o, (int)limit,
					     zlib_level(comp_algo));
		if (n <= 0)
			return 0;
		csize = (uint32_t)n;
		break;
	default:
		return 0;
	}
	if (csize > limit)
		return 0;

	pbytes = HAMMER2_ALLOC_MIN;
	while (pbytes < csize)
		pbytes <<= 1;
	if (pbytes > limit)
		return 0;
	if (csize < pbytes)
		h2_memset(o + csize, 0, pbytes - csize);
	return pbytes;
}

/*
 * See hammer2.h.  comp is HAMMER2_DEC_COMP(bref->methods) (higher bits
 * are ignored).  in holds pbytes physical bytes; out has room for lbytes
 * logical bytes.
 *
 *   NONE, AUTOZERO  copy min(pbytes, lbytes) bytes.
 *   LZ4             4-byte little-endian length L, 0 < L <= pbytes - 4,
 *                   then an LZ4 block decoding to at most lbytes bytes.
 *   ZLIB            a zlib stream within pbytes decoding to at most
 *                   lbytes bytes (trailing padding ignored).
 *
 * Returns the number of bytes produced (1..lbytes); out is zero-filled
 * from there up to lbytes.  Returns -1 for corrupt or oversized input, an
 * empty result or an unknown algorithm (out is then all zeros).
 */
int hammer2_decompress_block(int comp, const void *in, uint32_t pbytes,
			     void *out, uint32_t lbytes)
{
	const uint8_t *i8 = in;
	uint32_t clen;
	int n;

	switch (HAMMER2_DEC_COMP(comp)) {
	case HAMMER2_COMP_NONE:
	case HAMMER2_COMP_AUTOZERO:
		n = (int)H2_MIN(pbytes, lbytes);
		if (n <= 0)
			goto bad;
		h2_memcpy(out, in, (size_t)n);
		break;
	case HAMMER2_COMP_LZ4:
		if (pbytes <= H2_LZ4_HDR)
			goto bad;
		clen = get_le32(i8);
		if (clen == 0 || clen > pbytes - H2_LZ4_HDR ||
		    clen > 0x7FFFFFFFU)
			goto bad;
		n = hammer2_os_lz4_decompress(i8 + H2_LZ4_HDR, (int)clen, out,
					      (int)lbytes);
		if (n <= 0)
			goto bad;
		break;
	case HAMMER2_COMP_ZLIB:
		if (pbytes == 0)
			goto bad;
		n = hammer2_os_zlib_decompress(in, (int)pbytes, out,
					       (int)lbytes);
		if (n <= 0)
			goto bad;
		break;
	default:
		goto bad;
	}
	if ((uint32_t)n < lbytes)
		h2_memset((uint8_t *)out + n, 0, lbytes - (uint32_t)n);
	return n;
bad:
	h2_memset(out, 0, lbytes);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/*
 * Smallest radix r in 10..16 with 2^r >= bytes (0 gives 10).  bytes
 * above 64 KiB is a programming error (asserts).
 */
int hammer2_bytes_to_radix(size_t bytes)
{
	int radix = HAMMER2_RADIX_MIN;

	H2_ASSERT(bytes <= HAMMER2_ALLOC_MAX);
	while (((size_t)1 << radix) < bytes)
		++radix;
	return radix;
}

/* 1 if all 'bytes' bytes at buf are zero (also for bytes == 0), else 0. */
int hammer2_is_zero(const void *buf, size_t bytes)
{
	const uint8_t *p = buf;

	if (bytes == 0)
		return 1;
	if (p[0] != 0)
		return 0;
	/* p[0] == 0 and p[i] == p[i + 1] for all i  =>  all zero. */
	return h2_memcmp(p, p + 1, bytes - 1) == 0;
}

static const char h2_hexdigits[] = "0123456789abcdef";

static char *put_hex(char *s, const uint8_t *b, int nbytes)
{
	int i;

	for (i = 0; i < nbytes; ++i) {
		*s++ = h2_hexdigits[b[i] >> 4];
		*s++ = h2_hexdigits[b[i] & 15];
	}
	return s;
}

/*
 * Format a media uuid as 36 lowercase characters plus NUL.
 *
 * HAMMER2 stores DragonFly's struct uuid in host (little-endian) order:
 * time_low (bytes 0-3), time_mid (4-5) and time_hi_and_version (6-7) are
 * little-endian integers; clock_seq_hi (8), clock_seq_low (9) and node
 * (10-15) are plain bytes.  The text form prints the integers, so bytes
 * 0-3, 4-5 and 6-7 appear reversed, matching DragonFly's uuid_to_string()
 * and `hammer2 volhdr`.
 */
void hammer2_uuid_to_str(const hammer2_uuid_t *u, char out[37])
{
	uint8_t be[16];
	char *s = out;

	be[0] = u->b[3];
	be[1] = u->b[2];
	be[2] = u->b[1];
	be[3] = u->b[0];
	be[4] = u->b[5];
	be[5] = u->b[4];
	be[6] = u->b[7];
	be[7] = u->b[6];
	h2_memcpy(be + 8, u->b + 8, 8);

	s = put_hex(s, be, 4);
	*s++ = '-';
	s = put_hex(s, be + 4, 2);
	*s++ = '-';
	s = put_hex(s, be + 6, 2);
	*s++ = '-';
	s = put_hex(s, be + 8, 2);
	*s++ = '-';
	s = put_hex(s, be + 10, 6);
	*s = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Parse the 8-4-4-4-12 text form (either case, exactly 36 characters,
 * NUL-terminated) into the media layout described at
 * hammer2_uuid_to_str().  Returns 0, or HAMMER2_ERROR_EINVAL (u is then
 * unchanged).
 */
int hammer2_uuid_from_str(const char *s, hammer2_uuid_t *u)
{
	uint8_t be[16];
	int i, j, hi, lo;

	if (s == NULL || u == NULL)
		return HAMMER2_ERROR_EINVAL;
	for (i = 0, j = 0; j < 16;) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return HAMMER2_ERROR_EINVAL;
			++i;
			continue;
		}
		if (s[i] == '\0' || s[i + 1] == '\0')
			return HAMMER2_ERROR_EINVAL;
		hi = hexval(s[i]);
		lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return HAMMER2_ERROR_EINVAL;
		be[j++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	if (s[i] != '\0')
		return HAMMER2_ERROR_EINVAL;

	u->b[0] = be[3];
	u->b[1] = be[2];
	u->b[2] = be[1];
	u->b[3] = be[0];
	u->b[4] = be[5];
	u->b[5] = be[4];
	u->b[6] = be[7];
	u->b[7] = be[6];
	h2_memcpy(u->b + 8, be + 8, 8);
	return 0;
}
