/*
 * test_subr.c - unit tests for hammer2_subr.c and the userland seam
 * primitives (CRC32C, XXH64, SHA-256, LZ4, zlib).
 *
 * Runs through h2test_run() (CUnit basic runner); exit status 0 when
 * every test passes, 1 otherwise.
 */
#include "hammer2.h"

#include "h2test.h"

/* ---------------------------------------------------------------- */

/* Bitwise reference CRC32C, to cross-check the table-driven version. */
static uint32_t ref_crc32c(const void *buf, size_t n)
{
	const uint8_t *p = buf;
	uint32_t crc = 0xFFFFFFFFU;
	int k;

	while (n--) {
		crc ^= *p++;
		for (k = 0; k < 8; ++k)
			crc = (crc >> 1) ^ ((crc & 1) ? 0x82F63B78U : 0);
	}
	return ~crc;
}

/* Deterministic pseudo-random bytes (xorshift64*). */
static void fill_random(void *buf, size_t n, uint64_t seed)
{
	uint8_t *p = buf;
	uint64_t x = seed ? seed : 1;

	while (n--) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		*p++ = (uint8_t)((x * 0x2545F4914F6CDD1DULL) >> 56);
	}
}

/* Compressible text-like content. */
static void fill_text(void *buf, size_t n)
{
	static const char words[] =
		"the quick brown fox jumps over the lazy dog hammer2 ";
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < n; ++i)
		p[i] = (uint8_t)words[(i * 7 + i / 13) % (sizeof(words) - 1)];
}

/* ---------------------------------------------------------------- */

static void test_crc32c_vectors(void)
{
	uint8_t buf[32];
	int i;

	CU_ASSERT_EQUAL(hammer2_icrc32("123456789", 9), 0xE3069283U);
	CU_ASSERT_EQUAL(hammer2_icrc32("", 0), 0x00000000U);

	/* RFC 3720 B.4 test vectors. */
	memset(buf, 0, sizeof(buf));
	CU_ASSERT_EQUAL(hammer2_icrc32(buf, 32), 0x8A9136AAU);
	memset(buf, 0xFF, sizeof(buf));
	CU_ASSERT_EQUAL(hammer2_icrc32(buf, 32), 0x62A8AB43U);
	for (i = 0; i < 32; ++i)
		buf[i] = (uint8_t)i;
	CU_ASSERT_EQUAL(hammer2_icrc32(buf, 32), 0x46DD794EU);
	for (i = 0; i < 32; ++i)
		buf[i] = (uint8_t)(31 - i);
	CU_ASSERT_EQUAL(hammer2_icrc32(buf, 32), 0x113FDB5CU);
}

static void test_crc32c_alignment(void)
{
	static uint8_t big[70000];
	size_t off, len;
	int ok = 1;

	fill_random(big, sizeof(big), 42);
	for (off = 0; off < 9; ++off) {
		for (len = 0; len < 70; ++len) {
			if (hammer2_icrc32(big + off, len) !=
			    ref_crc32c(big + off, len))
				ok = 0;
		}
	}
	CU_ASSERT(ok);
	CU_ASSERT_EQUAL(hammer2_icrc32(big + 3, sizeof(big) - 3),
			ref_crc32c(big + 3, sizeof(big) - 3));
}

/* crc(A then B) from crc(A), crc(B) and |B|, for splits of all kinds. */
static void test_crc32c_combine(void)
{
	static uint8_t big[70000];
	static const size_t splits[][2] = {
		{ 0, 0 },	 { 0, 1 },	  { 1, 0 },	{ 9, 9 },
		{ 4096, 57344 }, { 61440, 4092 }, { 3, 69997 }, { 69999, 1 },
	};
	size_t i;
	int ok = 1;

	fill_random(big, sizeof(big), 7);
	for (i = 0; i < sizeof(splits) / sizeof(splits[0]); ++i) {
		size_t a = splits[i][0], b = splits[i][1];

		if (hammer2_icrc32_combine(hammer2_icrc32(big, a),
					   hammer2_icrc32(big + a, b),
					   b) != ref_crc32c(big, a + b))
			ok = 0;
	}
	CU_ASSERT(ok);
	/* the length matters: one byte off gives another CRC */
	CU_ASSERT_NOT_EQUAL(
		hammer2_icrc32_combine(hammer2_icrc32(big, 100),
				       hammer2_icrc32(big + 100, 200), 199),
		ref_crc32c(big, 300));
}

static void test_xxh64_seed(void)
{
	CU_ASSERT_EQUAL(HAMMER2_XXH64_SEED, 0x4d617474446c6c6eULL);
	CU_ASSERT_EQUAL(hammer2_xxh64("", 0, HAMMER2_XXH64_SEED),
			0x84566ac0f5a0cb84ULL);
	CU_ASSERT_EQUAL(hammer2_xxh64("A", 1, HAMMER2_XXH64_SEED),
			0xe1ce53434b3aad24ULL);
	CU_ASSERT_EQUAL(hammer2_xxh64("hammer2", 7, HAMMER2_XXH64_SEED),
			0xa041be268b5674e5ULL);
	/* Standard XXH64 vector with seed 0. */
	CU_ASSERT_EQUAL(hammer2_xxh64("", 0, 0), 0xef46db3751d8e999ULL);
}

static void test_sha256_and_sha192(void)
{
	static const uint8_t abc256[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
		0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
		0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
		0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	uint8_t d[32], expect[24];
	hammer2_blockref_t bref;
	int i;

	hammer2_sha256("abc", 3, d);
	CU_ASSERT(memcmp(d, abc256, 32) == 0);

	/* Folded: words 0,1 unchanged, word 2 ^= word 3, 24 bytes kept. */
	memcpy(expect, abc256, 24);
	for (i = 0; i < 8; ++i)
		expect[16 + i] ^= abc256[24 + i];
	CU_ASSERT_EQUAL(expect[16], 0x04);
	CU_ASSERT_EQUAL(expect[23], 0x31);

	memset(&bref, 0xAA, sizeof(bref));
	bref.methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_SHA192);
	hammer2_bref_setcheck(&bref, "abc", 3);
	CU_ASSERT(memcmp(bref.check.sha192.data, expect, 24) == 0);
	CU_ASSERT(hammer2_is_zero(bref.check.sha192.reserved, 40));
	CU_ASSERT(hammer2_bref_testcheck(&bref, "abc", 3));
	CU_ASSERT(!hammer2_bref_testcheck(&bref, "abd", 3));
	/* An unfolded SHA-256 prefix must not verify. */
	memcpy(bref.check.sha192.data, abc256, 24);
	CU_ASSERT(!hammer2_bref_testcheck(&bref, "abc", 3));
}

/*
 * A check code over a block handed in pieces (direct writes from page
 * cache pages) equals the one over the block in one buffer, for every
 * check type (streamed for xxhash64, through a copy for the others).
 */
static void test_setcheck_iov(void)
{
	static const int checks[] = { HAMMER2_CHECK_NONE, HAMMER2_CHECK_ISCSI32,
				      HAMMER2_CHECK_XXHASH64,
				      HAMMER2_CHECK_SHA192 };
	static uint8_t data[65536];
	struct hammer2_iov iov[16];
	hammer2_blockref_t a, b;
	size_t i, k, pos = 0;

	fill_random(data, sizeof(data), 9);
	/* uneven pieces: 1 KiB, 3 KiB, 4 KiB, ... summing to 64 KiB */
	for (k = 0; k < 16; k++) {
		size_t n = k == 0 ? 1024 : k == 1 ? 3072 : 4096;

		iov[k].iov_base = data + pos;
		iov[k].iov_len = n;
		pos += n;
	}
	iov[15].iov_len += sizeof(data) - pos;
	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		memset(&a, 0, sizeof(a));
		a.methods = HAMMER2_ENC_CHECK(checks[i]);
		b = a;
		hammer2_bref_setcheck(&a, data, sizeof(data));
		hammer2_bref_setcheck_iov(&b, iov, 16);
		CU_ASSERT(memcmp(&a.check, &b.check, sizeof(a.check)) == 0);
		CU_ASSERT(hammer2_bref_testcheck(&b, data, sizeof(data)));
	}
	CU_ASSERT_PTR_EQUAL(hammer2_iov_flatten(iov, 1, 1024), data);
}

static void test_bref_check_types(void)
{
	uint8_t data[4096];
	hammer2_blockref_t bref;

	fill_random(data, sizeof(data), 7);

	memset(&bref, 0, sizeof(bref));
	bref.methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_ISCSI32);
	hammer2_bref_setcheck(&bref, data, sizeof(data));
	CU_ASSERT_EQUAL(bref.check.iscsi32.value,
			hammer2_icrc32(data, sizeof(data)));
	CU_ASSERT(hammer2_bref_testcheck(&bref, data, sizeof(data)));
	data[100] ^= 1;
	CU_ASSERT(!hammer2_bref_testcheck(&bref, data, sizeof(data)));
	data[100] ^= 1;

	memset(&bref, 0, sizeof(bref));
	bref.methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_XXHASH64) |
		       HAMMER2_ENC_COMP(HAMMER2_COMP_LZ4);
	hammer2_bref_setcheck(&bref, data, sizeof(data));
	CU_ASSERT_EQUAL(bref.check.xxhash64.value,
			hammer2_xxh64(data, sizeof(data), HAMMER2_XXH64_SEED));
	CU_ASSERT(hammer2_bref_testcheck(&bref, data, sizeof(data)));
	data[4095] ^= 0x80;
	CU_ASSERT(!hammer2_bref_testcheck(&bref, data, sizeof(data)));
	data[4095] ^= 0x80;

	/* FREEMAP keeps the allocator hints. */
	memset(&bref, 0, sizeof(bref));
	bref.methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_FREEMAP);
	bref.check.freemap.bigmask = 0xFFFFFFFFU;
	bref.check.freemap.avail = 123456789ULL;
	hammer2_bref_setcheck(&bref, data, sizeof(data));
	CU_ASSERT_EQUAL(bref.check.freemap.icrc32,
			hammer2_icrc32(data, sizeof(data)));
	CU_ASSERT_EQUAL(bref.check.freemap.bigmask, 0xFFFFFFFFU);
	CU_ASSERT_EQUAL(bref.check.freemap.avail, 123456789ULL);
	CU_ASSERT(hammer2_bref_testcheck(&bref, data, sizeof(data)));
	data[0] ^= 1;
	CU_ASSERT(!hammer2_bref_testcheck(&bref, data, sizeof(data)));
	data[0] ^= 1;

	/* NONE / DISABLED always verify and leave the area alone. */
	memset(&bref, 0x5A, sizeof(bref));
	bref.methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_NONE);
	hammer2_bref_setcheck(&bref, data, sizeof(data));
	CU_ASSERT_EQUAL((uint8_t)bref.check.buf[0], 0x5A);
	CU_ASSERT(hammer2_bref_testcheck(&bref, data, sizeof(data)));
	bref.methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_DISABLED);
	CU_ASSERT(hammer2_bref_testcheck(&bref, data, sizeof(data)));

	/* Unknown check types never verify. */
	bref.methods = HAMMER2_ENC_CHECK(9);
	CU_ASSERT(!hammer2_bref_testcheck(&bref, data, sizeof(data)));
}

static void test_dirhash(void)
{
	/* Vectors from kusumi/hammer2-utils src/subs.rs test_dirhash. */
	static const struct {
		const char *name;
		uint64_t key;
	} v[] = {
		{ "", 0x8000000000008000ULL },
		{ ".", 0x80000000bc108000ULL },
		{ "-", 0x800000005cb48000ULL },
		{ "_", 0x80000000e8ed8000ULL },
		{ "~", 0x8000000037e68000ULL },
		{ "A", 0xe16dcdee2c838000ULL },
		{ "hammer2", 0x9f2f13b58c9a8000ULL },
		/* DragonFly hammer2_disk.h HAMMER2_BOOT_KEY. */
		{ "BOOT", 0xd9b36ce135528000ULL },
		{ "This code is derived from software contributed to "
		  "The DragonFly Project",
		  0xf8df95ed6d328000ULL },
	};
	static const char *names[] = { "a",	"b",	 "file.txt", "file-txt",
				       "x_y~z", "LOCAL", "DATA",     "..." };
	size_t i;
	hammer2_key_t k;

	for (i = 0; i < H2_ARRAY_SIZE(v); ++i) {
		k = hammer2_dirhash((const unsigned char *)v[i].name,
				    strlen(v[i].name));
		CU_ASSERT_EQUAL(k, v[i].key);
		if (k != v[i].key)
			printf("\n  dirhash(\"%s\") = %016llx, want %016llx\n",
			       v[i].name, (unsigned long long)k,
			       (unsigned long long)v[i].key);
	}
	for (i = 0; i < H2_ARRAY_SIZE(names); ++i) {
		k = hammer2_dirhash((const unsigned char *)names[i],
				    strlen(names[i]));
		CU_ASSERT((k & HAMMER2_DIRHASH_VISIBLE) != 0);
		CU_ASSERT((k & 0x8000ULL) != 0);
		CU_ASSERT_EQUAL(k & HAMMER2_DIRHASH_LOMASK, 0);
		CU_ASSERT_EQUAL(k,
				hammer2_dirhash((const unsigned char *)names[i],
						strlen(names[i])));
	}
	/* Same parts, different separators: high half equal, low differs. */
	CU_ASSERT_EQUAL(hammer2_dirhash((const unsigned char *)"a.b", 3) >> 32,
			hammer2_dirhash((const unsigned char *)"a-b", 3) >> 32);
	CU_ASSERT_NOT_EQUAL(hammer2_dirhash((const unsigned char *)"a.b", 3),
			    hammer2_dirhash((const unsigned char *)"a-b", 3));
}

static void check_roundtrip(int algo, const uint8_t *in, uint32_t lbytes,
			    int expect_compress)
{
	uint8_t *out = malloc(lbytes);
	uint8_t *back = malloc(lbytes);
	uint32_t p;

	memset(out, 0xEE, lbytes);
	p = hammer2_compress_block(algo, in, lbytes, out);
	if (!expect_compress) {
		CU_ASSERT_EQUAL(p, 0);
		goto done;
	}
	CU_ASSERT(p >= 1024);
	CU_ASSERT(p <= lbytes / 2);
	CU_ASSERT_EQUAL(p & (p - 1), 0);
	if (p == 0)
		goto done;
	memset(back, 0xCC, lbytes);
	CU_ASSERT_EQUAL(hammer2_decompress_block(HAMMER2_DEC_ALGO(algo), out, p,
						 back, lbytes),
			(int)lbytes);
	CU_ASSERT(memcmp(in, back, lbytes) == 0);
	if (HAMMER2_DEC_ALGO(algo) == HAMMER2_COMP_LZ4) {
		uint32_t len = (uint32_t)out[0] | (uint32_t)out[1] << 8 |
			       (uint32_t)out[2] << 16 | (uint32_t)out[3] << 24;
		CU_ASSERT(len > 0 && len + 4 <= p);
		/* Zero padding after the payload. */
		CU_ASSERT(hammer2_is_zero(out + 4 + len, p - 4 - len));
	} else {
		CU_ASSERT_EQUAL(out[0] & 0x0F, 8); /* zlib CM = deflate */
		CU_ASSERT_EQUAL(((out[0] << 8) | out[1]) % 31, 0);
	}
done:
	free(out);
	free(back);
}

static void test_compress_roundtrip(void)
{
	static uint8_t text[65536], rnd[65536], zero[65536];
	uint32_t sz;

	fill_text(text, sizeof(text));
	fill_random(rnd, sizeof(rnd), 99);
	memset(zero, 0, sizeof(zero));

	for (sz = 2048; sz <= 65536; sz <<= 1) {
		check_roundtrip(HAMMER2_COMP_LZ4, text, sz, 1);
		check_roundtrip(HAMMER2_COMP_ZLIB, text, sz, 1);
		check_roundtrip(HAMMER2_COMP_ZLIB | HAMMER2_ENC_LEVEL(9), text,
				sz, 1);
		check_roundtrip(HAMMER2_COMP_ZLIB | HAMMER2_ENC_LEVEL(1), text,
				sz, 1);
		check_roundtrip(HAMMER2_COMP_LZ4, zero, sz, 1);
		check_roundtrip(HAMMER2_COMP_LZ4, rnd, sz, 0);
		check_roundtrip(HAMMER2_COMP_ZLIB, rnd, sz, 0);
	}
	/* Too small to halve into >= 1 KiB, or not a compressing algo. */
	check_roundtrip(HAMMER2_COMP_LZ4, zero, 1024, 0);
	check_roundtrip(HAMMER2_COMP_NONE, text, 65536, 0);
	check_roundtrip(HAMMER2_COMP_AUTOZERO, text, 65536, 0);

	/* All-zero 64 KiB compresses to the 1 KiB minimum. */
	{
		uint8_t *out = malloc(65536);

		sz = hammer2_compress_block(HAMMER2_COMP_LZ4, zero, 65536, out);
		CU_ASSERT_EQUAL(sz, 1024);
		free(out);
	}
}

static void test_decompress_short_and_none(void)
{
	uint8_t in[2048], out[4096];

	/* Short output is zero-filled up to lbytes. */
	fill_text(in, sizeof(in));
	memset(out, 0xFF, sizeof(out));
	CU_ASSERT_EQUAL(hammer2_decompress_block(HAMMER2_COMP_NONE, in, 2048,
						 out, 4096),
			2048);
	CU_ASSERT(memcmp(in, out, 2048) == 0);
	CU_ASSERT(hammer2_is_zero(out + 2048, 2048));

	/* LZ4 of 1000 bytes decoded into a 4 KiB logical block. */
	{
		uint8_t c[1024];
		int n = hammer2_os_lz4_compress(in, 1000, c + 4, 1020);

		CU_ASSERT(n > 0);
		c[0] = (uint8_t)n;
		c[1] = (uint8_t)(n >> 8);
		c[2] = 0;
		c[3] = 0;
		memset(out, 0xFF, sizeof(out));
		CU_ASSERT_EQUAL(hammer2_decompress_block(HAMMER2_COMP_LZ4, c,
							 1024, out, 4096),
				1000);
		CU_ASSERT(memcmp(in, out, 1000) == 0);
		CU_ASSERT(hammer2_is_zero(out + 1000, 4096 - 1000));
	}
}

static void test_decompress_corrupt(void)
{
	static uint8_t text[16384], comp[16384], out[16384];
	uint32_t p;
	int i, errs;

	fill_text(text, sizeof(text));

	/* Bad lz4 length prefixes. */
	memset(comp, 0, sizeof(comp));
	CU_ASSERT_EQUAL(hammer2_decompress_block(HAMMER2_COMP_LZ4, comp, 1024,
						 out, 16384),
			-1);
	comp[0] = 0xFF;
	comp[1] = 0xFF;
	CU_ASSERT_EQUAL(hammer2_decompress_block(HAMMER2_COMP_LZ4, comp, 1024,
						 out, 16384),
			-1);
	comp[3] = 0x80; /* negative as int32 */
	CU_ASSERT_EQUAL(hammer2_decompress_block(HAMMER2_COMP_LZ4, comp, 1024,
						 out, 16384),
			-1);
	CU_ASSERT_EQUAL(hammer2_decompress_block(HAMMER2_COMP_LZ4, comp, 4, out,
						 16384),
			-1);

	/* Garbage zlib stream. */
	fill_random(comp, 1024, 5);
	CU_ASSERT_EQUAL(hammer2_decompress_block(HAMMER2_COMP_ZLIB, comp, 1024,
						 out, 16384),
			-1);
	/* Unknown algorithm. */
	CU_ASSERT_EQUAL(hammer2_decompress_block(7, comp, 1024, out, 16384),
			-1);

	/* Valid lz4 decoding into too small a logical buffer. */
	p = hammer2_compress_block(HAMMER2_COMP_LZ4, text, 16384, comp);
	CU_ASSERT(p > 0);
	CU_ASSERT_EQUAL(hammer2_decompress_block(HAMMER2_COMP_LZ4, comp, p, out,
						 4096),
			-1);
	/* Same for zlib. */
	p = hammer2_compress_block(HAMMER2_COMP_ZLIB, text, 16384, comp);
	CU_ASSERT(p > 0);
	CU_ASSERT_EQUAL(hammer2_decompress_block(HAMMER2_COMP_ZLIB, comp, p,
						 out, 4096),
			-1);
	/* Truncated zlib stream. */
	CU_ASSERT_EQUAL(hammer2_decompress_block(HAMMER2_COMP_ZLIB, comp, 16,
						 out, 16384),
			-1);

	/* Random bit flips must never crash (result may or may not fail). */
	p = hammer2_compress_block(HAMMER2_COMP_LZ4, text, 16384, comp);
	errs = 0;
	for (i = 0; i < 2000; ++i) {
		uint8_t tmp[16384];
		uint64_t r;

		memcpy(tmp, comp, p);
		fill_random(&r, sizeof(r), (uint64_t)i + 1000);
		tmp[4 + r % (p - 4)] ^= (uint8_t)(1u << (r >> 32) % 8);
		if (hammer2_decompress_block(HAMMER2_COMP_LZ4, tmp, p, out,
					     16384) <= 0)
			++errs;
	}
	CU_ASSERT(errs >= 0);
}

static void test_voldata_crc(void)
{
	hammer2_volume_data_t *vd = calloc(1, sizeof(*vd));
	uint8_t *raw = (uint8_t *)vd;

	fill_random(vd, sizeof(*vd), 11);
	vd->magic = HAMMER2_VOLUME_ID_HBO;
	hammer2_voldata_setcrc(vd);
	CU_ASSERT_EQUAL(hammer2_voldata_testcrc(vd), 0);
	CU_ASSERT_EQUAL(vd->icrc_sects[HAMMER2_VOL_ICRC_SECT1],
			hammer2_icrc32(raw + 512, 512));
	CU_ASSERT_EQUAL(vd->icrc_sects[HAMMER2_VOL_ICRC_SECT0],
			hammer2_icrc32(raw, 508));
	CU_ASSERT_EQUAL(vd->icrc_volheader, hammer2_icrc32(raw, 65532));
	/* with the middle's CRC given, as a flush does */
	hammer2_voldata_setcrc_mid(vd, hammer2_voldata_midcrc(vd));
	CU_ASSERT_EQUAL(vd->icrc_volheader, hammer2_icrc32(raw, 65532));
	CU_ASSERT_EQUAL(hammer2_voldata_midcrc(vd),
			hammer2_icrc32(raw + HAMMER2_VOLUME_HEAD_BYTES,
				       HAMMER2_VOLUME_TAIL_OFF -
					       HAMMER2_VOLUME_HEAD_BYTES));
	/* a stale middle CRC makes a header that fails its check */
	hammer2_voldata_setcrc_mid(vd, hammer2_voldata_midcrc(vd) ^ 1);
	CU_ASSERT_EQUAL(hammer2_voldata_testcrc(vd), HAMMER2_ERROR_CHECK);
	hammer2_voldata_setcrc(vd);

	/* A flipped byte in each region is detected. */
	raw[0x10] ^= 0x01; /* sector 0 */
	CU_ASSERT_EQUAL(hammer2_voldata_testcrc(vd), HAMMER2_ERROR_CHECK);
	raw[0x10] ^= 0x01;
	raw[0x300] ^= 0x40; /* sroot blockset (sector 1) */
	CU_ASSERT_EQUAL(hammer2_voldata_testcrc(vd), HAMMER2_ERROR_CHECK);
	raw[0x300] ^= 0x40;
	raw[0x8000] ^= 0x80; /* only covered by icrc_volheader */
	CU_ASSERT_EQUAL(hammer2_voldata_testcrc(vd), HAMMER2_ERROR_CHECK);
	raw[0x8000] ^= 0x80;
	raw[0xFFFD] ^= 0x02; /* the stored crc itself */
	CU_ASSERT_EQUAL(hammer2_voldata_testcrc(vd), HAMMER2_ERROR_CHECK);
	raw[0xFFFD] ^= 0x02;
	CU_ASSERT_EQUAL(hammer2_voldata_testcrc(vd), 0);
	free(vd);
}

static void test_uuid(void)
{
	static const uint8_t fstype_media[16] = {
		0xd1, 0x9a, 0xbb, 0x5c, 0x2d, 0x86, 0xdc, 0x11,
		0xa9, 0x4d, 0x01, 0x30, 0x1b, 0xb8, 0xa9, 0xf5,
	};
	hammer2_uuid_t u, u2;
	char s[37];
	int i;

	CU_ASSERT_EQUAL(hammer2_uuid_from_str(HAMMER2_UUID_STRING, &u), 0);
	CU_ASSERT(memcmp(u.b, fstype_media, 16) == 0);
	hammer2_uuid_to_str(&u, s);
	CU_ASSERT_STRING_EQUAL(s, HAMMER2_UUID_STRING);

	CU_ASSERT_EQUAL(hammer2_uuid_from_str(
				"5CBB9AD1-862D-11DC-A94D-01301BB8A9F5", &u2),
			0);
	CU_ASSERT(memcmp(u.b, u2.b, 16) == 0);

	for (i = 0; i < 50; ++i) {
		fill_random(u.b, 16, (uint64_t)i + 77);
		hammer2_uuid_to_str(&u, s);
		CU_ASSERT_EQUAL(strlen(s), 36);
		CU_ASSERT_EQUAL(hammer2_uuid_from_str(s, &u2), 0);
		CU_ASSERT(memcmp(u.b, u2.b, 16) == 0);
	}

	memset(&u2, 0x33, sizeof(u2));
	CU_ASSERT_EQUAL(hammer2_uuid_from_str("", &u2), HAMMER2_ERROR_EINVAL);
	CU_ASSERT_EQUAL(hammer2_uuid_from_str(
				"5cbb9ad1-862d-11dc-a94d-01301bb8a9f", &u2),
			HAMMER2_ERROR_EINVAL);
	CU_ASSERT_EQUAL(hammer2_uuid_from_str(
				"5cbb9ad1-862d-11dc-a94d-01301bb8a9f5x", &u2),
			HAMMER2_ERROR_EINVAL);
	CU_ASSERT_EQUAL(hammer2_uuid_from_str(
				"5cbb9ad1x862d-11dc-a94d-01301bb8a9f5", &u2),
			HAMMER2_ERROR_EINVAL);
	CU_ASSERT_EQUAL(hammer2_uuid_from_str(
				"5cbb9ag1-862d-11dc-a94d-01301bb8a9f5", &u2),
			HAMMER2_ERROR_EINVAL);
	CU_ASSERT_EQUAL(hammer2_uuid_from_str(NULL, &u2), HAMMER2_ERROR_EINVAL);
	CU_ASSERT_EQUAL(u2.b[0], 0x33);
}

static void test_misc(void)
{
	/* HAMMER2_ERROR_* (or a mix) and the errno it stands for */
	static const struct {
		int error, errnum;
	} errmap[] = {
		{ 0, 0 },
		{ HAMMER2_ERROR_EIO, EIO },
		{ HAMMER2_ERROR_CHECK, EIO },
		{ HAMMER2_ERROR_BADBREF, EIO },
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
		{ HAMMER2_ERROR_ENOMEM, ENOMEM },
		{ HAMMER2_ERROR_ENAMETOOLONG, ENAMETOOLONG },
		{ HAMMER2_ERROR_EROFS, EROFS },
		{ HAMMER2_ERROR_EFBIG, EFBIG },
		{ HAMMER2_ERROR_EXDEV, EXDEV },
		{ HAMMER2_ERROR_EPERM, EPERM },
		{ HAMMER2_ERROR_ENXIO, ENXIO },
		{ HAMMER2_ERROR_EOF, EIO },
		{ HAMMER2_ERROR_ENOENT | HAMMER2_ERROR_CHECK, EIO },
	};
	size_t i;
	uint8_t buf[100];

	CU_ASSERT_EQUAL(hammer2_bytes_to_radix(0), 10);
	CU_ASSERT_EQUAL(hammer2_bytes_to_radix(1), 10);
	CU_ASSERT_EQUAL(hammer2_bytes_to_radix(1024), 10);
	CU_ASSERT_EQUAL(hammer2_bytes_to_radix(1025), 11);
	CU_ASSERT_EQUAL(hammer2_bytes_to_radix(16384), 14);
	CU_ASSERT_EQUAL(hammer2_bytes_to_radix(16385), 15);
	CU_ASSERT_EQUAL(hammer2_bytes_to_radix(65536), 16);

	memset(buf, 0, sizeof(buf));
	CU_ASSERT(hammer2_is_zero(buf, 0));
	CU_ASSERT(hammer2_is_zero(buf, 100));
	buf[99] = 1;
	CU_ASSERT(!hammer2_is_zero(buf, 100));
	CU_ASSERT(hammer2_is_zero(buf, 99));
	buf[0] = 1;
	CU_ASSERT(!hammer2_is_zero(buf, 1));

	for (i = 0; i < sizeof(errmap) / sizeof(errmap[0]); i++) {
		int e = hammer2_error_to_errno(errmap[i].error);

		CU_ASSERT_EQUAL(e, errmap[i].errnum);
		if (e != errmap[i].errnum)
			printf("\n  error 0x%x: errno %d, want %d\n",
			       errmap[i].error, e, errmap[i].errnum);
	}
}

static void test_mutex(void)
{
	hammer2_mtx_t m;

	hammer2_mtx_init(&m);
	CU_ASSERT(!hammer2_mtx_owned(&m));
	hammer2_mtx_lock(&m);
	CU_ASSERT(hammer2_mtx_owned(&m));
	hammer2_mtx_unlock(&m);
	CU_ASSERT(!hammer2_mtx_owned(&m));
	hammer2_mtx_destroy(&m);
}

/* ---------------------------------------------------------------- */

static const h2test_t tests[] = {
	H2TEST(test_crc32c_vectors),
	H2TEST(test_crc32c_alignment),
	H2TEST(test_crc32c_combine),
	H2TEST(test_xxh64_seed),
	H2TEST(test_sha256_and_sha192),
	H2TEST(test_bref_check_types),
	H2TEST(test_setcheck_iov),
	H2TEST(test_dirhash),
	H2TEST(test_compress_roundtrip),
	H2TEST(test_decompress_short_and_none),
	H2TEST(test_decompress_corrupt),
	H2TEST(test_voldata_crc),
	H2TEST(test_uuid),
	H2TEST(test_misc),
	H2TEST(test_mutex),
	H2TEST_END,
};

int main(void)
{
	hammer2_log_quiet = 1;
	return h2test_run("subr", tests);
}
