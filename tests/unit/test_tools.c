/*
 * test_tools.c - unit tests of the library newfs and fsck
 * (hammer2_tools.h) on a RAM disk behind struct hammer2_devops.
 *
 * The RAM disk is an anonymous private mapping with MAP_NORESERVE: a
 * 1 GiB volume only costs the pages that are written.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h2test.h"
#include "hammer2_tools.h"
#include "hammer2_vfsops.h"
#include "ramdisk.h"

#define GIB (1024ULL * 1024 * 1024)

/* ---------------- RAM disk ---------------- */

/* A zero-filled RAM disk of size bytes (NULL if it cannot be mapped). */
static struct ramdisk *rd_new(uint64_t size)
{
	return rd_map(size, -1);
}

/* A RAM disk of size bytes formatted with the default options. */
static struct ramdisk *rd_newfs(uint64_t size)
{
	struct hammer2_newfs_opts opts;
	struct ramdisk *rd = rd_new(size);
	const char *why = NULL;

	if (rd == NULL)
		return NULL;
	hammer2_newfs_defaults(&opts);
	if (hammer2_newfs(&rd_ops, rd, size, &opts, &why) != 0) {
		rd_free(rd);
		return NULL;
	}
	return rd;
}

/* ---------------- report capture ---------------- */

struct lines {
	char **v;
	size_t n, cap;
};

static void collect(void *arg, const char *line)
{
	struct lines *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = strdup(line);
	if (l->v[l->n] != NULL)
		l->n++;
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Index of the first line containing all of a and b (b may be NULL). */
static long find_line(const struct lines *l, const char *a, const char *b)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strstr(l->v[i], a) != NULL &&
		    (b == NULL || strstr(l->v[i], b) != NULL))
			return (long)i;
	}
	return -1;
}

static void dump_lines(const struct lines *l)
{
	for (size_t i = 0; i < l->n && i < 40; i++)
		fprintf(stderr, "    | %s\n", l->v[i]);
}

/* fsck the RAM disk; lines (may be NULL) collects the report. */
static int run_fsck(struct ramdisk *rd, int flags, struct lines *lines,
		    struct hammer2_fsck_result *res)
{
	return hammer2_fsck(&rd_ops, rd, rd->size, flags,
			    lines ? collect : NULL, lines, res);
}

/* ---------------- tests ---------------- */

/*
 * A blockref whose mirror_tid is above its parent's (here the header's
 * mirror_tid, the volume's tid iterator) or whose modify_tid is above the
 * iterator is an error (seed 001: modify_tid must not exceed the tid
 * iterator).
 */
static void test_fsck_tid_above_header(void)
{
	struct hammer2_fsck_result res;
	struct lines lines = { 0 };
	struct ramdisk *rd = rd_newfs(GIB);
	hammer2_volume_data_t *vd;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rd);
	for (i = 0; i < HAMMER2_NUM_VOLHDRS; i++) {
		hammer2_off_t off = hammer2_volhdr_offset(i);

		if (off + HAMMER2_VOLUME_BYTES > rd->size)
			break;
		vd = (hammer2_volume_data_t *)(rd->buf + off);
		vd->sroot_blockset.blockref[0].mirror_tid = vd->mirror_tid + 5;
		vd->sroot_blockset.blockref[0].modify_tid = vd->mirror_tid + 2;
		hammer2_voldata_setcrc(vd);
	}
	CU_ASSERT_EQUAL(run_fsck(rd, 0, &lines, &res), 0);
	CU_ASSERT_EQUAL(res.errors, 2);
	CU_ASSERT(find_line(&lines, "ERROR", "mirror_tid 0x") >= 0);
	CU_ASSERT(find_line(&lines, "ERROR", "modify_tid 0x") >= 0);
	lines_free(&lines);
	rd_free(rd);
}

static void test_newfs_fresh_is_clean(void)
{
	struct hammer2_fsck_result res;
	struct lines lines = { 0 };
	struct ramdisk *rd = rd_newfs(GIB);
	const hammer2_volume_data_t *vd;
	int error;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rd);
	vd = (const hammer2_volume_data_t *)rd->buf;
	CU_ASSERT_EQUAL(vd->magic, HAMMER2_VOLUME_ID_HBO);
	CU_ASSERT_EQUAL(vd->volu_size, GIB);
	CU_ASSERT_EQUAL(vd->allocator_beg, 0x4400c00ULL);
	CU_ASSERT(rd->flushes >= 1);

	error = run_fsck(rd, 0, &lines, &res);
	CU_ASSERT_EQUAL(error, 0);
	CU_ASSERT_EQUAL(res.errors, 0);
	CU_ASSERT_EQUAL(res.warnings, 0);
	CU_ASSERT_EQUAL(res.blockrefs, 3); /* super-root, LOCAL, DATA */
	CU_ASSERT_EQUAL(res.leaked_bytes, 0);
	CU_ASSERT_EQUAL(res.best_copy, 0);
	CU_ASSERT(find_line(&lines, "3 blockrefs (3 inode", NULL) >= 0);
	CU_ASSERT(find_line(&lines, "ERROR", NULL) < 0);
	lines_free(&lines);

	/* Verbose: one line per blockref; quiet: nothing for a clean one. */
	error = run_fsck(rd, HAMMER2_FSCK_VERBOSE, &lines, &res);
	CU_ASSERT_EQUAL(error, 0);
	CU_ASSERT(find_line(&lines, " inode ", "1024 bytes") >= 0);
	lines_free(&lines);
	error = run_fsck(rd, HAMMER2_FSCK_QUIET | HAMMER2_FSCK_VERBOSE, &lines,
			 &res);
	CU_ASSERT_EQUAL(error, 0);
	CU_ASSERT_EQUAL(lines.n, 0);
	lines_free(&lines);

	/* A NULL report function is fine. */
	CU_ASSERT_EQUAL(run_fsck(rd, HAMMER2_FSCK_VERBOSE, NULL, &res), 0);
	CU_ASSERT_EQUAL(res.errors, 0);
	rd_free(rd);
}

/* Same time and random source: the same bytes (the tool's guarantee). */
static void test_newfs_deterministic(void)
{
	struct hammer2_newfs_opts opts;
	struct hammer2_newfs_layout lay;
	struct ramdisk *a = rd_new(GIB), *b = rd_new(GIB);
	const char *why = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	hammer2_newfs_defaults(&opts);
	opts.labels[1] = "A";
	opts.labels[2] = "B";
	opts.labels[3] = "BOOT";
	opts.nlabels = 4;
	CU_ASSERT_EQUAL(hammer2_newfs_layout(GIB, &opts, &lay, &why), 0);
	CU_ASSERT_EQUAL(hammer2_newfs(&rd_ops, a, GIB, &opts, &why), 0);
	CU_ASSERT_EQUAL(hammer2_newfs(&rd_ops, b, GIB, &opts, &why), 0);
	CU_ASSERT_EQUAL(memcmp(a->buf, b->buf, HAMMER2_VOLUME_BYTES), 0);
	CU_ASSERT_EQUAL(memcmp(a->buf + lay.inode_base, b->buf + lay.inode_base,
			       HAMMER2_PBUFSIZE),
			0);
	CU_ASSERT_EQUAL(lay.allocator_beg,
			lay.inode_base + 5 * HAMMER2_INODE_BYTES);
	rd_free(a);
	rd_free(b);
}

static void test_newfs_invalid(void)
{
	struct hammer2_newfs_opts opts;
	struct ramdisk *rd = rd_new(GIB);
	const char *why;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rd);
	hammer2_newfs_defaults(&opts);

	/* Too small: EINVAL with an explanation, nothing written. */
	why = NULL;
	CU_ASSERT_EQUAL(hammer2_newfs(&rd_ops, rd, 16 << 20, &opts, &why),
			EINVAL);
	CU_ASSERT_PTR_NOT_NULL(why);
	why = NULL;
	CU_ASSERT_EQUAL(hammer2_newfs(&rd_ops, rd, 4 << 20, &opts, &why),
			EINVAL);
	CU_ASSERT_PTR_NOT_NULL(why);
	CU_ASSERT_EQUAL(hammer2_newfs(&rd_ops, rd, 0, &opts, NULL), EINVAL);
	CU_ASSERT_EQUAL(rd->writes, 0);

	/* Bad options. */
	opts.nlabels = 5;
	CU_ASSERT_EQUAL(hammer2_newfs(&rd_ops, rd, GIB, &opts, &why), EINVAL);
	opts.nlabels = 0;
	CU_ASSERT_EQUAL(hammer2_newfs(&rd_ops, rd, GIB, &opts, &why), EINVAL);
	hammer2_newfs_defaults(&opts);
	opts.labels[1] = "LOCAL";
	CU_ASSERT_EQUAL(hammer2_newfs(&rd_ops, rd, GIB, &opts, &why), EINVAL);
	opts.labels[1] = "a/b";
	CU_ASSERT_EQUAL(hammer2_newfs(&rd_ops, rd, GIB, &opts, &why), EINVAL);
	opts.labels[1] = "";
	CU_ASSERT_EQUAL(hammer2_newfs(&rd_ops, rd, GIB, &opts, &why), EINVAL);
	opts.labels[1] = NULL;
	CU_ASSERT_EQUAL(hammer2_newfs(&rd_ops, rd, GIB, &opts, &why), EINVAL);
	hammer2_newfs_defaults(&opts);
	opts.version = HAMMER2_VOL_VERSION_WIP;
	CU_ASSERT_EQUAL(hammer2_newfs(&rd_ops, rd, GIB, &opts, &why), EINVAL);
	CU_ASSERT_EQUAL(rd->writes, 0);

	/* A failing device: EIO and a reason. */
	hammer2_newfs_defaults(&opts);
	rd->fail_writes = 1;
	why = NULL;
	CU_ASSERT_EQUAL(hammer2_newfs(&rd_ops, rd, GIB, &opts, &why), EIO);
	CU_ASSERT_PTR_NOT_NULL(why);
	rd_free(rd);
}

/* Format, mount, create files, sync, close: fsck must find it clean. */
static struct ramdisk *populated(void)
{
	static uint8_t buf[200000];
	struct ramdisk *rd = rd_newfs(GIB);
	hammer2_dev_t *hmp = NULL;
	hammer2_pfs_t *pmp = NULL;
	hammer2_inode_t *root, *dir, *ip;
	char name[32];
	int i;

	if (rd == NULL)
		return NULL;
	CU_ASSERT_EQUAL_FATAL(hammer2_dev_open(&rd_ops, rd, rd->size, 0, &hmp),
			      0);
	CU_ASSERT_EQUAL_FATAL(hammer2_pfs_mount(hmp, "DATA", &pmp), 0);
	root = hammer2_vfs_root(pmp);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	for (size_t k = 0; k < sizeof(buf); k++)
		buf[k] = (uint8_t)(k * 7 + k / 1000);

	dir = mkfile(root, "dir", HAMMER2_OBJTYPE_DIRECTORY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "file%d", i);
		ip = mkfile(i & 1 ? dir : root, name, HAMMER2_OBJTYPE_REGFILE);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ip);
		CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, (size_t)i * 20000,
						  0),
				(ssize_t)i * 20000);
		hammer2_inode_drop(ip);
	}
	ip = mkfile(root, "small", HAMMER2_OBJTYPE_REGFILE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ip);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, "hello", 5, 0), 5);
	hammer2_inode_drop(ip);
	hammer2_inode_drop(dir);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(hmp), 0);
	hammer2_inode_drop(root);
	CU_ASSERT_EQUAL(hammer2_pfs_unmount(pmp), 0);
	CU_ASSERT_EQUAL(hammer2_dev_close(hmp), 0);
	return rd;
}

/* data_off of the last blockref of type name in a verbose report, or 0. */
static uint64_t last_bref(const struct lines *l, const char *type)
{
	uint64_t off = 0;

	for (size_t i = 0; i < l->n; i++) {
		unsigned long long v;
		char t[32];

		if (sscanf(l->v[i], " %llx %31s", &v, t) == 2 &&
		    strcmp(t, type) == 0)
			off = v;
	}
	return off;
}

static void test_mount_write_fsck_corrupt(void)
{
	struct hammer2_fsck_result res;
	struct lines lines = { 0 };
	struct ramdisk *rd = populated();
	uint64_t data_off, off;
	char want[64];
	int error;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rd);
	error = run_fsck(rd, HAMMER2_FSCK_VERBOSE, &lines, &res);
	CU_ASSERT_EQUAL(error, 0);
	CU_ASSERT_EQUAL(res.errors, 0);
	CU_ASSERT_EQUAL(res.best_copy, 0);
	CU_ASSERT(res.blockrefs > 3 + 12);
	if (res.errors != 0)
		dump_lines(&lines);
	CU_ASSERT(find_line(&lines, "1 leaves", NULL) >= 0);

	/* Flip one byte of a file's inode block. */
	data_off = last_bref(&lines, "inode");
	lines_free(&lines);
	CU_ASSERT_FATAL(data_off != 0);
	off = data_off & ~HAMMER2_OFF_MASK_RADIX;
	CU_ASSERT_FATAL(off + HAMMER2_INODE_BYTES <= rd->size);
	rd->buf[off + 16] ^= 0xFF;

	error = run_fsck(rd, 0, &lines, &res);
	CU_ASSERT_EQUAL(error, 0);
	CU_ASSERT(res.errors > 0);
	snprintf(want, sizeof(want), "ERROR: %016jx inode",
		 (uintmax_t)data_off);
	CU_ASSERT(find_line(&lines, want, "check code mismatch") >= 0);
	if (find_line(&lines, want, NULL) < 0)
		dump_lines(&lines);
	lines_free(&lines);

	/* Quiet still reports the error line. */
	error = run_fsck(rd, HAMMER2_FSCK_QUIET, &lines, &res);
	CU_ASSERT_EQUAL(error, 0);
	CU_ASSERT(res.errors > 0);
	CU_ASSERT(find_line(&lines, want, NULL) >= 0);
	lines_free(&lines);

	/* Restored: clean again. */
	rd->buf[off + 16] ^= 0xFF;
	CU_ASSERT_EQUAL(run_fsck(rd, 0, NULL, &res), 0);
	CU_ASSERT_EQUAL(res.errors, 0);
	rd_free(rd);
}

static void test_fsck_not_hammer2(void)
{
	struct hammer2_fsck_result res;
	struct lines lines = { 0 };
	struct ramdisk *rd = rd_new(GIB);

	CU_ASSERT_PTR_NOT_NULL_FATAL(rd);
	/* All zeros: no magic anywhere. */
	CU_ASSERT_EQUAL(run_fsck(rd, 0, &lines, &res), EINVAL);
	CU_ASSERT_EQUAL(res.best_copy, -1);
	lines_free(&lines);
	/* Too small for one volume header. */
	CU_ASSERT_EQUAL(hammer2_fsck(&rd_ops, rd, 5, 0, NULL, NULL, &res),
			EINVAL);
	CU_ASSERT_EQUAL(hammer2_fsck(&rd_ops, rd, 0, 0, NULL, NULL, &res),
			EINVAL);
	rd_free(rd);
}

static void test_fsck_bad_headers(void)
{
	struct hammer2_fsck_result res;
	struct lines lines = { 0 };
	struct ramdisk *rd = rd_newfs(GIB);

	CU_ASSERT_PTR_NOT_NULL_FATAL(rd);
	rd->buf[256] ^= 0xFF;
	CU_ASSERT_EQUAL(run_fsck(rd, 0, &lines, &res), 0);
	CU_ASSERT(res.errors >= 2);
	CU_ASSERT_EQUAL(res.best_copy, -1);
	CU_ASSERT(find_line(&lines,
			    "copy 0 (zone 0, offset 0x0000000000000000)",
			    "CRC mismatch") >= 0);
	CU_ASSERT(find_line(&lines, "no valid volume header", NULL) >= 0);
	lines_free(&lines);
	rd_free(rd);
}

/* Five GiB: three header copies; a bad copy 0 falls back to another. */
static void test_fsck_header_copies(void)
{
	struct hammer2_fsck_result res;
	struct lines lines = { 0 };
	struct ramdisk *rd = rd_newfs(5 * GIB);

	CU_ASSERT_PTR_NOT_NULL_FATAL(rd);
	CU_ASSERT_EQUAL(run_fsck(rd, 0, &lines, &res), 0);
	CU_ASSERT_EQUAL(res.errors, 0);
	CU_ASSERT(find_line(&lines,
			    "copy 2 (zone 2, offset 0x0000000100000000)"
			    ": ok",
			    NULL) >= 0);
	lines_free(&lines);
	rd->buf[256] ^= 0xFF;
	CU_ASSERT_EQUAL(run_fsck(rd, 0, &lines, &res), 0);
	CU_ASSERT_EQUAL(res.errors, 1);
	CU_ASSERT(res.best_copy == 1 || res.best_copy == 2);
	CU_ASSERT_EQUAL(res.blockrefs, 3);
	lines_free(&lines);
	rd_free(rd);
}

static void test_fsck_read_error(void)
{
	struct hammer2_fsck_result res;
	struct lines lines = { 0 };
	struct ramdisk *rd = rd_newfs(GIB);
	const hammer2_volume_data_t *vd;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rd);
	vd = (const hammer2_volume_data_t *)rd->buf;
	/* The header itself cannot be read. */
	rd->fail_reads = 1;
	rd->fail_read_off = 100;
	CU_ASSERT_EQUAL(run_fsck(rd, 0, &lines, &res), EIO);
	lines_free(&lines);
	/* The super-root cannot be read: the walk goes on, EIO at the end. */
	rd->fail_read_off = vd->allocator_beg & ~HAMMER2_PBUFMASK64;
	CU_ASSERT_EQUAL(run_fsck(rd, 0, &lines, &res), EIO);
	CU_ASSERT(res.errors > 0);
	CU_ASSERT(find_line(&lines, "read error", NULL) >= 0);
	CU_ASSERT(find_line(&lines, "super-root tree:", NULL) >= 0);
	lines_free(&lines);
	rd_free(rd);
}

/* data_off of the first blockref of type name in a verbose report. */
static uint64_t first_bref(const struct lines *l, const char *type)
{
	for (size_t i = 0; i < l->n; i++) {
		unsigned long long v;
		char t[32];

		if (sscanf(l->v[i], " %llx %31s", &v, t) == 2 &&
		    strcmp(t, type) == 0)
			return v;
	}
	return 0;
}

/*
 * Random damage in the metadata must never crash or read out of bounds
 * (ASan build): bytes of the volume header (its CRCs recomputed every
 * other round so the damage gets walked), of the super-root's block and
 * of a file inode's block.
 */
static void test_fsck_fuzz(void)
{
	struct hammer2_fsck_result res;
	struct lines lines = { 0 };
	struct ramdisk *rd = populated();
	uint64_t blk[3], x = 12345;
	uint8_t *save;
	int i, j, error, nerr = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rd);
	CU_ASSERT_EQUAL_FATAL(run_fsck(rd, HAMMER2_FSCK_VERBOSE, &lines, &res),
			      0);
	blk[0] = 0;
	blk[1] = first_bref(&lines, "inode") & ~HAMMER2_PBUFMASK64;
	blk[2] = last_bref(&lines, "inode") & ~HAMMER2_PBUFMASK64;
	lines_free(&lines);
	CU_ASSERT_FATAL(blk[1] != 0 && blk[2] != 0);
	save = malloc(3 * HAMMER2_PBUFSIZE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(save);
	for (j = 0; j < 3; j++)
		memcpy(save + j * HAMMER2_PBUFSIZE, rd->buf + blk[j],
		       HAMMER2_PBUFSIZE);
	for (i = 0; i < 300; i++) {
		uint64_t base = blk[i % 3];
		int k;

		for (k = 0; k < 1 + i % 7; k++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			/* the volume header's blocksets, or anywhere */
			rd->buf[base + (x >> 33) % (i % 3 ? HAMMER2_PBUFSIZE :
							    0xC00)] =
				(uint8_t)(x >> 13);
		}
		if (i & 1)
			hammer2_voldata_setcrc(
				(hammer2_volume_data_t *)rd->buf);
		error = run_fsck(rd, i & 2 ? HAMMER2_FSCK_VERBOSE : 0, NULL,
				 &res);
		CU_ASSERT(error == 0 || error == EINVAL);
		if (error == 0 && res.errors)
			nerr++;
		for (j = 0; j < 3; j++)
			memcpy(rd->buf + blk[j], save + j * HAMMER2_PBUFSIZE,
			       HAMMER2_PBUFSIZE);
	}
	CU_ASSERT(nerr > 100);
	CU_ASSERT_EQUAL(run_fsck(rd, 0, NULL, &res), 0);
	CU_ASSERT_EQUAL(res.errors, 0);
	free(save);
	rd_free(rd);
}

static const h2test_t tests[] = {
	H2TEST(test_newfs_fresh_is_clean),
	H2TEST(test_newfs_deterministic),
	H2TEST(test_newfs_invalid),
	H2TEST(test_mount_write_fsck_corrupt),
	H2TEST(test_fsck_not_hammer2),
	H2TEST(test_fsck_bad_headers),
	H2TEST(test_fsck_header_copies),
	H2TEST(test_fsck_read_error),
	H2TEST(test_fsck_tid_above_header),
	H2TEST(test_fsck_fuzz),
	H2TEST_END,
};

int main(void)
{
	return h2test_run("tools", tests);
}
