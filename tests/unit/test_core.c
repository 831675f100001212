/*
 * test_core.c - unit tests of the chain layer, flush, freemap, directories
 * and file data, on a RAM disk behind struct hammer2_devops.
 *
 * Images are formatted by build/bin/newfs_hammer2 (env H2_NEWFS overrides)
 * into a temporary file and loaded into memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h2test.h"
#include "hammer2_tools.h"
#include "hammer2_vfsops.h"
#include "ramdisk.h"

/* ---------------- RAM disk ---------------- */

/* Format an image of size bytes with newfs_hammer2 and load it. */
static struct ramdisk *rd_new(uint64_t size, const char *nfsopts)
{
	const char *newfs = getenv("H2_NEWFS");
	char path[] = "/tmp/h2coreXXXXXX", cmd[512];
	struct ramdisk *rd;
	int fd;

	if (newfs == NULL)
		newfs = "build/bin/newfs_hammer2";
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	close(fd);
	unlink(path);
	snprintf(cmd, sizeof(cmd), "%s %s -s %llu %s >/dev/null", newfs,
		 nfsopts ? nfsopts : "", (unsigned long long)size, path);
	if (system(cmd) != 0)
		return NULL;
	/* a private mapping: untouched (sparse) space costs no memory */
	fd = open(path, O_RDONLY);
	unlink(path);
	if (fd < 0)
		return NULL;
	rd = rd_map(size, fd);
	close(fd);
	if (rd)
		rd->fixed_random = 1;
	return rd;
}

struct fs {
	hammer2_dev_t *hmp;
	hammer2_pfs_t *pmp;
	hammer2_inode_t *root;
};

/* Mount the DATA PFS of rd through ops on *fs; 0 or an errno. */
static int fs_mount_ops(struct ramdisk *rd, struct fs *fs, int flags,
			const struct hammer2_devops *ops)
{
	int error = hammer2_dev_open(ops, rd, rd->size, flags, &fs->hmp);

	if (error)
		return error;
	error = hammer2_pfs_mount(fs->hmp, "DATA", &fs->pmp);
	if (error) {
		hammer2_dev_close(fs->hmp);
		return error;
	}
	fs->root = hammer2_vfs_root(fs->pmp);
	return 0;
}

/* The vectored, asynchronous-write device (h2sim covers plain ops). */
static int fs_mount(struct ramdisk *rd, struct fs *fs, int flags)
{
	return fs_mount_ops(rd, fs, flags, &rd_vops);
}

/*
 * A fresh 1 GiB RAM disk formatted with newfs options nfsopts (NULL for
 * none) and mounted read-write on *fs; both asserted (fatal).
 */
static struct ramdisk *fs_new(struct fs *fs, const char *nfsopts)
{
	struct ramdisk *rd = rd_new(1ULL << 30, nfsopts);

	CU_ASSERT_PTR_NOT_NULL_FATAL(rd);
	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, fs, 0), 0);
	return rd;
}

static int fs_umount(struct fs *fs)
{
	hammer2_inode_drop(fs->root);
	hammer2_pfs_unmount(fs->pmp);
	return hammer2_dev_close(fs->hmp);
}

/* Deterministic content: byte i of stream s. */
static uint8_t pat(unsigned s, uint64_t i)
{
	uint64_t x =
		(i / 8) * 0x9E3779B97F4A7C15ULL + s * 0xD1B54A32D192ED03ULL;

	x ^= x >> 29;
	return (uint8_t)(x >> ((i & 7) * 8));
}

static void fill(uint8_t *buf, size_t len, unsigned s, uint64_t off)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pat(s, off + i);
}

static int check_content(hammer2_inode_t *ip, uint64_t size, unsigned s)
{
	uint8_t *buf = malloc(size + 1), *want = malloc(size + 1);
	ssize_t n = hammer2_vop_read(ip, buf, size + 1, 0);
	int ok;

	fill(want, size, s, 0);
	ok = n == (ssize_t)size && memcmp(buf, want, size) == 0;
	free(buf);
	free(want);
	return ok;
}

/* Are the len bytes at off of ip stream s's bytes from 0? */
static int check_content_at(hammer2_inode_t *ip, uint64_t off, size_t len,
			    unsigned s)
{
	uint8_t *buf = malloc(len), *want = malloc(len);
	int ok;

	fill(want, len, s, 0);
	ok = hammer2_vop_read(ip, buf, len, off) == (ssize_t)len &&
	     memcmp(buf, want, len) == 0;
	free(buf);
	free(want);
	return ok;
}

/* check_content of the file name in the PFS root (0 if it is missing). */
static int check_file(struct fs *fs, const char *name, uint64_t size,
		      unsigned s)
{
	hammer2_inode_t *ip;
	int ok;

	if (hammer2_vop_lookup(fs->root, name, strlen(name), &ip))
		return 0;
	ok = check_content(ip, size, s);
	hammer2_inode_drop(ip);
	return ok;
}

/* The DATA chain of ip at lbase without its data (drop it), or NULL. */
static hammer2_chain_t *block_chain(hammer2_inode_t *ip, uint64_t lbase)
{
	int error;

	return hammer2_chain_lookup(ip->chain, lbase, lbase + 0xFFFF,
				    HAMMER2_LOOKUP_NODATA, &error);
}

/* Physical data_off of the DATA block of ip at lbase (0 if a hole). */
static hammer2_off_t block_off(hammer2_inode_t *ip, uint64_t lbase)
{
	hammer2_chain_t *chain = block_chain(ip, lbase);
	hammer2_off_t off = 0;

	if (chain) {
		off = chain->bref.data_off;
		hammer2_chain_drop(chain);
	}
	return off;
}

/* Compression method recorded in the DATA blockref at lbase (-1: hole). */
static int block_comp(hammer2_inode_t *ip, uint64_t lbase)
{
	hammer2_chain_t *chain = block_chain(ip, lbase);
	int comp = -1;

	if (chain) {
		comp = HAMMER2_DEC_COMP(chain->bref.methods);
		hammer2_chain_drop(chain);
	}
	return comp;
}

/* Is the DATA chain at lbase cached with its data? (-1: hole) */
static int block_loaded(hammer2_inode_t *ip, uint64_t lbase)
{
	hammer2_chain_t *chain = block_chain(ip, lbase);
	int loaded = -1;

	if (chain) {
		loaded = chain->data != NULL;
		hammer2_chain_drop(chain);
	}
	return loaded;
}

/* ---------------- tests ---------------- */

/* Files of many sizes survive a remount bit for bit. */
static void test_roundtrip_sizes(void)
{
	static const uint64_t sizes[] = { 0,	 1,	 511,	 512,	513,
					  1023,	 1024,	 4095,	 65535, 65536,
					  65537, 300000, 1048583 };
	struct ramdisk *rd;
	struct fs fs;
	char name[32];
	size_t i;

	rd = fs_new(&fs, NULL);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		hammer2_inode_t *ip;
		uint8_t *buf = malloc(sizes[i] + 1);

		snprintf(name, sizeof(name), "f%zu", i);
		ip = mkfile(fs.root, name, HAMMER2_OBJTYPE_REGFILE);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ip);
		fill(buf, sizes[i], (unsigned)i, 0);
		/* write in odd-sized pieces to cross block boundaries */
		for (uint64_t off = 0; off < sizes[i];) {
			size_t n = (size_t)(sizes[i] - off < 7777 ?
						    sizes[i] - off :
						    7777);
			CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf + off, n,
							  off),
					(ssize_t)n);
			off += n;
		}
		free(buf);
		CU_ASSERT(check_content(ip, sizes[i], (unsigned)i));
		hammer2_inode_drop(ip);
	}
	CU_ASSERT_EQUAL(fs_umount(&fs), 0);
	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, HAMMER2_MNT_RDONLY), 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		hammer2_inode_t *ip;
		struct hammer2_vattr va;

		snprintf(name, sizeof(name), "f%zu", i);
		CU_ASSERT_EQUAL_FATAL(hammer2_vop_lookup(fs.root, name,
							 strlen(name), &ip),
				      0);
		CU_ASSERT_EQUAL(hammer2_vop_getattr(ip, &va), 0);
		CU_ASSERT_EQUAL(va.size, sizes[i]);
		CU_ASSERT(check_content(ip, sizes[i], (unsigned)i));
		hammer2_inode_drop(ip);
	}
	fs_umount(&fs);
	rd_free(rd);
}

/*
 * Copy-on-write across the synchronization point: a block modified again
 * after a flush gets a new location and the old one is untouched by the
 * flush that moved it.
 */
static void test_cow_realloc(void)
{
	struct ramdisk *rd;
	uint8_t buf[65536], old[65536];
	hammer2_off_t off1, off2;
	hammer2_inode_t *ip;
	struct fs fs;

	rd = fs_new(&fs, NULL);
	ip = mkfile(fs.root, "cow", HAMMER2_OBJTYPE_REGFILE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ip);
	fill(buf, sizeof(buf), 1, 0);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, sizeof(buf), 0), 65536);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	off1 = block_off(ip, 0);
	CU_ASSERT_NOT_EQUAL(off1, 0);
	memcpy(old, rd->buf + (off1 & HAMMER2_OFF_MASK),
	       hammer2_off_bytes(off1));
	fill(buf, 100, 2, 0);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, 100, 0), 100);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	off2 = block_off(ip, 0);
	CU_ASSERT_NOT_EQUAL(off2 & HAMMER2_OFF_MASK, off1 & HAMMER2_OFF_MASK);
	CU_ASSERT_EQUAL(memcmp(old, rd->buf + (off1 & HAMMER2_OFF_MASK),
			       hammer2_off_bytes(off1)),
			0);
	hammer2_inode_drop(ip);
	fs_umount(&fs);
	rd_free(rd);
}

/*
 * A crash before the volume header write leaves the previous flush: apply
 * every write of a flush except the header and remount.
 */
static void test_crash_before_header(void)
{
	struct ramdisk *rd;
	uint8_t *saved, buf[4096];
	hammer2_inode_t *ip;
	struct fs fs;

	rd = fs_new(&fs, NULL);
	ip = mkfile(fs.root, "keep", HAMMER2_OBJTYPE_REGFILE);
	fill(buf, sizeof(buf), 3, 0);
	hammer2_vop_write(ip, buf, sizeof(buf), 0);
	hammer2_inode_drop(ip);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	/* second flush: many changes, then lose only the header write */
	ip = mkfile(fs.root, "lost", HAMMER2_OBJTYPE_REGFILE);
	fill(buf, sizeof(buf), 4, 0);
	hammer2_vop_write(ip, buf, sizeof(buf), 0);
	hammer2_inode_drop(ip);
	CU_ASSERT_EQUAL(hammer2_vop_remove(fs.root, "keep", 4), 0);
	saved = malloc(HAMMER2_VOLUME_BYTES);
	memcpy(saved, rd->buf, HAMMER2_VOLUME_BYTES);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	memcpy(rd->buf, saved, HAMMER2_VOLUME_BYTES); /* header never landed */
	free(saved);
	/* simulate the crash: drop in-memory state without flushing */
	rd->fail_writes = 1;
	fs_umount(&fs);
	rd->fail_writes = 0;
	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, 0), 0);
	CU_ASSERT_EQUAL(hammer2_vop_lookup(fs.root, "keep", 4, &ip), 0);
	if (ip) {
		CU_ASSERT(check_content(ip, sizeof(buf), 3));
		hammer2_inode_drop(ip);
	}
	ip = NULL;
	CU_ASSERT_EQUAL(hammer2_vop_lookup(fs.root, "lost", 4, &ip), ENOENT);
	fs_umount(&fs);
	rd_free(rd);
}

/* fsck of the ramdisk's image: its result, or errors = ~0 if it cannot run */
static struct hammer2_fsck_result rd_fsck(struct ramdisk *rd)
{
	struct hammer2_fsck_result res;

	memset(&res, 0, sizeof(res));
	if (hammer2_fsck(&rd_ops, rd, rd->size, HAMMER2_FSCK_QUIET, NULL, NULL,
			 &res))
		res.errors = ~0ULL;
	return res;
}

/*
 * Commits for fsync leave the freemap out (docs/DESIGN.md, freemap_tid);
 * after a crash the next read-write mount marks what the committed tree
 * references, so new allocations never land on it.  Without recovery the
 * 8 MiB written after the crash would reuse the blocks of "b" and "c"
 * (free in the freemap on the media) and fsck would find them overlapping.
 */
static void test_freemap_recover(void)
{
	struct ramdisk *rd;
	struct hammer2_fsck_result res;
	struct hammer2_statfs st0, st1;
	uint8_t *buf = malloc(1 << 20);
	hammer2_inode_t *ip;
	hammer2_tid_t ftid;
	struct fs fs;
	char name[16];
	int i;

	rd = fs_new(&fs, "-c none");
	/* recovery's free-space count agrees with a clean volume's */
	CU_ASSERT_EQUAL(hammer2_vfs_statfs(fs.pmp, &st0), 0);
	fs.hmp->voldata.freemap_tid--;
	CU_ASSERT_EQUAL(hammer2_freemap_recover(fs.hmp, NULL), 0);
	fs.hmp->voldata.freemap_tid++;
	CU_ASSERT_EQUAL(hammer2_vfs_statfs(fs.pmp, &st1), 0);
	CU_ASSERT_EQUAL(st1.free_bytes, st0.free_bytes);
	ip = mkfile(fs.root, "a", HAMMER2_OBJTYPE_REGFILE);
	fill(buf, 1 << 20, 1, 0);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, 1 << 20, 0), 1 << 20);
	hammer2_inode_drop(ip);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	ftid = fs.hmp->voldata.freemap_tid;
	CU_ASSERT_EQUAL(ftid, fs.hmp->voldata.mirror_tid);

	/* fsync commits: a file of 1 MiB, small files, "a" removed */
	CU_ASSERT_EQUAL(hammer2_vop_remove(fs.root, "a", 1), 0);
	ip = mkfile(fs.root, "b", HAMMER2_OBJTYPE_REGFILE);
	fill(buf, 1 << 20, 2, 0);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, 1 << 20, 0), 1 << 20);
	CU_ASSERT_EQUAL(hammer2_vop_fsync(ip), 0);
	hammer2_inode_drop(ip);
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		ip = mkfile(fs.root, name, HAMMER2_OBJTYPE_REGFILE);
		fill(buf, 3000, (unsigned)(10 + i), 0);
		CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, 3000, 0), 3000);
		CU_ASSERT_EQUAL(hammer2_vop_fsync(ip), 0);
		hammer2_inode_drop(ip);
	}
	CU_ASSERT_EQUAL(fs.hmp->voldata.freemap_tid, ftid);
	CU_ASSERT(fs.hmp->voldata.mirror_tid > ftid + 40);
	CU_ASSERT(fs.hmp->stat_freemap_skips >= 41);
	CU_ASSERT_EQUAL(hammer2_vfs_statfs(fs.pmp, &st0), 0);

	/* crash: in-memory state (the freemap with it) is lost */
	rd->fail_writes = 1;
	fs_umount(&fs);
	rd->fail_writes = 0;
	res = rd_fsck(rd);
	CU_ASSERT_EQUAL(res.errors, 0);
	CU_ASSERT(res.recover_bytes >= (1 << 20)); /* "b" at least */
	CU_ASSERT(res.leaked_bytes >= (1 << 20));  /* "a", freed since */

	/* read-only: no recovery, nothing written; remount rw recovers */
	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, HAMMER2_MNT_RDONLY), 0);
	CU_ASSERT_EQUAL(fs.hmp->stat_recovered, 0);
	CU_ASSERT_EQUAL(fs_umount(&fs), 0);
	CU_ASSERT_EQUAL(rd_fsck(rd).recover_bytes, res.recover_bytes);
	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, HAMMER2_MNT_RDONLY), 0);
	CU_ASSERT_EQUAL(hammer2_dev_set_rdonly(fs.hmp, 0), 0);
	CU_ASSERT(fs.hmp->stat_recovered >= (1 << 20));
	/* read-only again writes the freemap: nothing left to recover */
	CU_ASSERT_EQUAL(hammer2_dev_set_rdonly(fs.hmp, 1), 0);
	CU_ASSERT_EQUAL(fs.hmp->voldata.freemap_tid,
			fs.hmp->voldata.mirror_tid);
	CU_ASSERT_EQUAL(hammer2_dev_set_rdonly(fs.hmp, 0), 0);
	/* free space as before the crash, less what "a" leaked */
	CU_ASSERT_EQUAL(hammer2_vfs_statfs(fs.pmp, &st1), 0);
	CU_ASSERT(st1.free_bytes <= st0.free_bytes);
	CU_ASSERT(st1.free_bytes + (1 << 20) + (256 << 10) >= st0.free_bytes);
	/* 8 MiB of new files and inodes must not land on "b" or "c*" */
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		ip = mkfile(fs.root, name, HAMMER2_OBJTYPE_REGFILE);
		fill(buf, 1 << 20, (unsigned)(100 + i), 0);
		CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, 1 << 20, 0),
				1 << 20);
		hammer2_inode_drop(ip);
	}
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	CU_ASSERT_EQUAL(fs.hmp->voldata.freemap_tid,
			fs.hmp->voldata.mirror_tid);
	CU_ASSERT_EQUAL(fs_umount(&fs), 0);
	res = rd_fsck(rd);
	CU_ASSERT_EQUAL(res.errors, 0);
	CU_ASSERT_EQUAL(res.recover_bytes, 0);

	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, HAMMER2_MNT_RDONLY), 0);
	CU_ASSERT_EQUAL(hammer2_vop_lookup(fs.root, "b", 1, &ip), 0);
	if (ip) {
		CU_ASSERT(check_content(ip, 1 << 20, 2));
		hammer2_inode_drop(ip);
	}
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		ip = NULL;
		CU_ASSERT_EQUAL(hammer2_vop_lookup(fs.root, name, strlen(name),
						   &ip),
				0);
		if (ip) {
			CU_ASSERT(check_content(ip, 3000, (unsigned)(10 + i)));
			hammer2_inode_drop(ip);
		}
	}
	CU_ASSERT_EQUAL(hammer2_vop_lookup(fs.root, "a", 1, &ip), ENOENT);
	fs_umount(&fs);
	free(buf);
	rd_free(rd);
}

struct listing {
	char names[4096][16];
	int n;
	int stop_every;
	int since;
	int stopped; /* the last readdir call was stopped by the callback */
};

static int list_cb(void *arg, const char *name, size_t len, uint64_t inum,
		   uint8_t type, uint64_t next)
{
	struct listing *l = arg;

	(void)inum;
	(void)type;
	(void)next;
	if (l->stop_every && l->since++ >= l->stop_every) {
		l->since = 0;
		l->stopped = 1;
		return 1;
	}
	if (len < 16 && l->n < 4096) {
		memcpy(l->names[l->n], name, len);
		l->names[l->n][len] = 0;
		l->n++;
	}
	return 0;
}

static int listed(struct listing *l, const char *name)
{
	int i, c = 0;

	for (i = 0; i < l->n; i++)
		c += strcmp(l->names[i], name) == 0;
	return c;
}

/*
 * Directories large enough for indirect blocks; readdir cookies stay
 * valid while entries are inserted (splitting indirect blocks) and
 * deleted during the scan (seed 001): every entry that exists for the
 * whole scan is returned exactly once.
 */
static void test_readdir_cookies(void)
{
	struct ramdisk *rd;
	struct listing *l = calloc(1, sizeof(*l));
	hammer2_inode_t *dir, *ip;
	uint64_t cookie = 0;
	struct fs fs;
	char name[16];
	int i, round = 0, ok = 1;

	rd = fs_new(&fs, NULL);
	dir = mkfile(fs.root, "d", HAMMER2_OBJTYPE_DIRECTORY);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "stay%03d", i);
		ip = mkfile(dir, name, HAMMER2_OBJTYPE_REGFILE);
		hammer2_inode_drop(ip);
		snprintf(name, sizeof(name), "gone%03d", i);
		ip = mkfile(dir, name, HAMMER2_OBJTYPE_REGFILE);
		hammer2_inode_drop(ip);
	}
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	l->stop_every = 7;
	for (;;) {
		l->stopped = 0;
		CU_ASSERT_EQUAL(hammer2_vop_readdir(dir, &cookie, list_cb, l),
				0);
		if (!l->stopped)
			break;
		/* between calls: add 10 entries, delete 10, flush sometimes */
		for (i = 0; i < 10; i++) {
			snprintf(name, sizeof(name), "new%03d_%02d", round, i);
			ip = mkfile(dir, name, HAMMER2_OBJTYPE_REGFILE);
			if (ip)
				hammer2_inode_drop(ip);
			snprintf(name, sizeof(name), "gone%03d",
				 round * 10 + i);
			if (round * 10 + i < 300)
				CU_ASSERT_EQUAL(
					hammer2_vop_remove(dir, name,
							   strlen(name)),
					0);
		}
		if (round % 5 == 0)
			CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
		if (++round > 2000)
			break;
	}
	CU_ASSERT(round > 50 && round < 2000); /* really interleaved */
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "stay%03d", i);
		if (listed(l, name) != 1)
			ok = 0;
	}
	CU_ASSERT(ok);
	CU_ASSERT_EQUAL(listed(l, "."), 1);
	CU_ASSERT_EQUAL(listed(l, ".."), 1);
	for (i = 0; i < l->n; i++) /* no duplicates at all */
		CU_ASSERT_EQUAL(listed(l, l->names[i]), 1);
	hammer2_inode_drop(dir);
	fs_umount(&fs);
	free(l);
	rd_free(rd);
}

/* Directory operations and their errno values. */
static void test_dirops_errno(void)
{
	struct ramdisk *rd;
	hammer2_inode_t *a, *b, *f, *ip;
	struct hammer2_vattr va;
	struct fs fs;
	char lname[300];

	rd = fs_new(&fs, NULL);
	a = mkfile(fs.root, "a", HAMMER2_OBJTYPE_DIRECTORY);
	b = mkfile(a, "b", HAMMER2_OBJTYPE_DIRECTORY);
	f = mkfile(fs.root, "f", HAMMER2_OBJTYPE_REGFILE);
	memset(&va, 0, sizeof(va));
	va.type = HAMMER2_OBJTYPE_REGFILE;
	CU_ASSERT_EQUAL(hammer2_vop_create(fs.root, "f", 1, &va, NULL, 0, &ip),
			EEXIST);
	CU_ASSERT_EQUAL(hammer2_vop_create(f, "x", 1, &va, NULL, 0, &ip),
			ENOTDIR);
	memset(lname, 'n', sizeof(lname));
	CU_ASSERT_EQUAL(hammer2_vop_create(fs.root, lname, 256, &va, NULL, 0,
					   &ip),
			ENAMETOOLONG);
	CU_ASSERT_EQUAL(
		hammer2_vop_create(fs.root, lname, 255, &va, NULL, 0, &ip), 0);
	hammer2_inode_drop(ip);
	CU_ASSERT_EQUAL(hammer2_vop_rmdir(fs.root, "a", 1), ENOTEMPTY);
	CU_ASSERT_EQUAL(hammer2_vop_rmdir(fs.root, "f", 1), ENOTDIR);
	CU_ASSERT_EQUAL(hammer2_vop_remove(fs.root, "a", 1), EISDIR);
	CU_ASSERT_EQUAL(hammer2_vop_remove(fs.root, "zz", 2), ENOENT);
	CU_ASSERT_EQUAL(hammer2_vop_lookup(f, "x", 1, &ip), ENOTDIR);
	/* rename: into itself, over a non-empty dir, file over dir */
	CU_ASSERT_EQUAL(hammer2_vop_rename(fs.root, "a", 1, b, "a2", 2, 0),
			EINVAL);
	CU_ASSERT_EQUAL(hammer2_vop_rename(fs.root, "f", 1, fs.root, "a", 1, 0),
			EISDIR);
	CU_ASSERT_EQUAL(hammer2_vop_rename(a, "b", 1, fs.root, "f", 1, 0),
			ENOTDIR);
	CU_ASSERT_EQUAL(hammer2_vop_rename(fs.root, "f", 1, a, "f", 1,
					   HAMMER2_RENAME_NOREPLACE),
			0);
	CU_ASSERT_EQUAL(hammer2_vop_lookup(a, "f", 1, &ip), 0);
	CU_ASSERT_PTR_EQUAL(ip, f);
	hammer2_inode_drop(ip);
	CU_ASSERT_EQUAL(hammer2_vop_rename(a, "f", 1, a, "b", 1,
					   HAMMER2_RENAME_NOREPLACE),
			EEXIST);
	CU_ASSERT_EQUAL(hammer2_vop_rename(a, "f", 1, a, "b", 1,
					   HAMMER2_RENAME_EXCHANGE),
			0);
	CU_ASSERT_EQUAL(hammer2_vop_lookup(a, "b", 1, &ip), 0);
	CU_ASSERT_PTR_EQUAL(ip, f);
	hammer2_inode_drop(ip);
	/* directory nlinks: root has a, a has the dir now named f */
	CU_ASSERT_EQUAL(hammer2_vop_getattr(fs.root, &va), 0);
	CU_ASSERT_EQUAL(va.nlinks, 3);
	CU_ASSERT_EQUAL(hammer2_vop_getattr(a, &va), 0);
	CU_ASSERT_EQUAL(va.nlinks, 3);
	CU_ASSERT_EQUAL(hammer2_vop_rmdir(a, "f", 1), 0);
	CU_ASSERT_EQUAL(hammer2_vop_getattr(a, &va), 0);
	CU_ASSERT_EQUAL(va.nlinks, 2);
	hammer2_inode_drop(a);
	hammer2_inode_drop(b);
	hammer2_inode_drop(f);
	fs_umount(&fs);
	rd_free(rd);
}

/*
 * Compression-aware reallocation (seed 001): compressible data takes a
 * small block; rewriting it with incompressible data reallocates it at
 * the full size with a new check code, and both read back.
 */
static void test_compression_realloc(void)
{
	struct ramdisk *rd;
	uint8_t buf[65536];
	hammer2_off_t off1, off2;
	hammer2_inode_t *ip;
	struct fs fs;

	rd = fs_new(&fs, NULL);
	ip = mkfile(fs.root, "c", HAMMER2_OBJTYPE_REGFILE);
	memset(buf, 'a', sizeof(buf));
	hammer2_vop_write(ip, buf, sizeof(buf), 0);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	off1 = block_off(ip, 0);
	CU_ASSERT(hammer2_off_bytes(off1) <= 32768);
	fill(buf, sizeof(buf), 9, 0);
	hammer2_vop_write(ip, buf, sizeof(buf), 0);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	off2 = block_off(ip, 0);
	CU_ASSERT_EQUAL(hammer2_off_bytes(off2), 65536);
	hammer2_inode_drop(ip);
	fs_umount(&fs);
	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, HAMMER2_MNT_RDONLY), 0);
	CU_ASSERT(check_file(&fs, "c", sizeof(buf), 9));
	fs_umount(&fs);
	rd_free(rd);
}

/*
 * Freemap: no read-before-write when flushing new data (seed 001), data
 * blocks of one file are contiguous (clustering by class), and freed
 * space comes back after the flush that frees it.
 */
static void test_freemap_alloc(void)
{
	struct ramdisk *rd;
	uint8_t *buf = malloc(1 << 20);
	struct hammer2_statfs st0, st1, st2;
	hammer2_inode_t *ip;
	hammer2_off_t prev = 0, off;
	uint64_t reads;
	struct fs fs;
	int contiguous = 1, i;

	rd = fs_new(&fs, "-c none");
	CU_ASSERT_EQUAL(hammer2_vfs_statfs(fs.pmp, &st0), 0);
	ip = mkfile(fs.root, "big", HAMMER2_OBJTYPE_REGFILE);
	fill(buf, 1 << 20, 5, 0);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, 1 << 20, 0), 1 << 20);
	reads = rd->reads;
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	/* the only reads a flush may do are freemap leaves it never saw */
	CU_ASSERT(rd->reads - reads <= 1);
	for (i = 0; i < 16; i++) {
		off = block_off(ip, (uint64_t)i << 16) & HAMMER2_OFF_MASK;
		if (i && off != prev + 65536)
			contiguous = 0;
		prev = off;
	}
	CU_ASSERT(contiguous);
	CU_ASSERT_EQUAL(hammer2_vfs_statfs(fs.pmp, &st1), 0);
	CU_ASSERT(st0.free_bytes - st1.free_bytes >= (1 << 20));
	hammer2_inode_drop(ip);
	CU_ASSERT_EQUAL(hammer2_vop_remove(fs.root, "big", 3), 0);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	CU_ASSERT_EQUAL(hammer2_vfs_statfs(fs.pmp, &st2), 0);
	CU_ASSERT(st2.free_bytes + (256 << 10) >= st0.free_bytes);
	fs_umount(&fs);
	free(buf);
	rd_free(rd);
}

/* A full volume gives ENOSPC and loses nothing already synced. */
static void test_enospc(void)
{
	struct ramdisk *rd;
	uint8_t *buf = malloc(1 << 20);
	hammer2_inode_t *ip;
	struct fs fs;
	ssize_t n = 0;
	uint64_t off = 0;

	rd = fs_new(&fs, "-c none");
	ip = mkfile(fs.root, "safe", HAMMER2_OBJTYPE_REGFILE);
	fill(buf, 100000, 6, 0);
	hammer2_vop_write(ip, buf, 100000, 0);
	hammer2_inode_drop(ip);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	ip = mkfile(fs.root, "fill", HAMMER2_OBJTYPE_REGFILE);
	fill(buf, 1 << 20, 7, 0);
	while (off < (1ULL << 30)) {
		n = hammer2_vop_write(ip, buf, 1 << 20, off);
		if (n < 0)
			break;
		off += (uint64_t)n;
	}
	CU_ASSERT_EQUAL(n, -ENOSPC);
	CU_ASSERT(off > (10ULL << 20));
	hammer2_inode_drop(ip);
	/* then small files (metadata-heavy) until that fails too */
	for (int i = 0, error = 0; error == 0 && i < 100000; i++) {
		char name[32];
		hammer2_inode_t *sp = NULL;
		struct hammer2_vattr va;

		memset(&va, 0, sizeof(va));
		va.type = HAMMER2_OBJTYPE_REGFILE;
		va.mode = 0644;
		snprintf(name, sizeof(name), "small%06d", i);
		error = hammer2_vop_create(fs.root, name, strlen(name), &va,
					   NULL, 0, &sp);
		if (error == 0) {
			if (hammer2_vop_write(sp, buf, 3000, 0) != 3000)
				error = ENOSPC;
			hammer2_inode_drop(sp);
		}
		if (error)
			CU_ASSERT_EQUAL(error, ENOSPC);
	}
	/* a full volume still syncs, frees what is deleted and is usable */
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	for (int round = 0; round < 3; round++) {
		CU_ASSERT_EQUAL(hammer2_vop_remove(fs.root, "fill", 4), 0);
		CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
		ip = mkfile(fs.root, "fill", HAMMER2_OBJTYPE_REGFILE);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ip);
		for (off = 0;; off += (uint64_t)n) {
			n = hammer2_vop_write(ip, buf, 1 << 20, off);
			if (n < 0)
				break;
		}
		CU_ASSERT_EQUAL(n, -ENOSPC);
		CU_ASSERT(off > (10ULL << 20));
		hammer2_inode_drop(ip);
		CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	}
	CU_ASSERT_EQUAL(fs_umount(&fs), 0);
	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, HAMMER2_MNT_RDONLY), 0);
	CU_ASSERT(check_file(&fs, "safe", 100000, 6));
	fs_umount(&fs);
	free(buf);
	rd_free(rd);
}

/*
 * hmp->drop_clean_data (the kernel: file data lives in the page cache):
 * written file data leaves the chain cache after its flush (dirty data
 * stays, and so does a block last written in part), reads and
 * read-modify-writes load it again from the media, and
 * the contents are the same as with the data cached, also after a
 * remount.
 */
/*
 * lru_data_limit: blocks written in part stay cached (drop_clean_data),
 * but only up to the limit; the least recent ones go, and their next
 * partial write reads the old block again.  Without a limit all stay.
 */
static void test_lru_data_limit(void)
{
	uint8_t unit[4096];
	hammer2_inode_t *ip;
	struct ramdisk *rd;
	uint64_t reads;
	struct fs fs;
	int limit, i, cached;

	for (limit = 0; limit < 2; limit++) {
		rd = fs_new(&fs, "-c none");
		fs.hmp->drop_clean_data = 1;
		fs.hmp->lru_data_limit = limit ? 1 << 20 : 0;
		ip = mkfile(fs.root, "f", HAMMER2_OBJTYPE_REGFILE);
		CU_ASSERT_EQUAL(hammer2_vop_truncate(ip, 64 << 16), 0);
		/* one 4 KiB unit into each of 64 blocks (4 MiB of them) */
		for (i = 0; i < 64; i++) {
			fill(unit, sizeof(unit), 31, (uint64_t)i << 16);
			CU_ASSERT_EQUAL(hammer2_vop_write(ip, unit,
							  sizeof(unit),
							  (uint64_t)i << 16),
					(ssize_t)sizeof(unit));
		}
		CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
		hammer2_chain_lru_trim(fs.hmp);
		for (i = 0, cached = 0; i < 64; i++)
			cached += block_loaded(ip, (uint64_t)i << 16) == 1;
		if (limit) {
			/* 1 MiB: at most 16 blocks, the most recent kept */
			CU_ASSERT(fs.hmp->lru_data <= 1 << 20);
			CU_ASSERT(cached <= 16);
			CU_ASSERT_EQUAL(block_loaded(ip, 63 << 16), 1);
			CU_ASSERT_EQUAL(block_loaded(ip, 0), 0);
		} else {
			CU_ASSERT_EQUAL(cached, 64);
			CU_ASSERT(fs.hmp->lru_data >= 64 << 16);
		}
		/* block 0 again: read back only when it was let go */
		reads = rd->reads;
		fill(unit, sizeof(unit), 32, 8192);
		CU_ASSERT_EQUAL(hammer2_vop_write(ip, unit, sizeof(unit), 8192),
				(ssize_t)sizeof(unit));
		CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
		CU_ASSERT_EQUAL(rd->reads > reads, limit);
		hammer2_inode_drop(ip);
		CU_ASSERT_EQUAL(fs_umount(&fs), 0);
		rd_free(rd);
	}
}

/*
 * Incompressible data: after a few failures in one file the flush
 * stores blocks raw without trying (COMP_FAIL_LIMIT, COMP_SKIP_BLOCKS),
 * in windows that grow while the tries between them fail, also when
 * random 4 KiB writes rewrite scattered blocks over many flushes;
 * compressible blocks are still compressed.
 */
static void test_comp_skip(void)
{
	const uint64_t nblocks = 1024;
	uint8_t *buf = malloc(1 << 20), unit[4096];
	uint64_t tries, i, x = 12345;
	hammer2_inode_t *ip;
	struct ramdisk *rd;
	struct fs fs;

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	rd = fs_new(&fs, "-c lz4");
	fs.hmp->drop_clean_data = 1;
	fs.hmp->lru_data_limit = 1 << 20;
	ip = mkfile(fs.root, "r", HAMMER2_OBJTYPE_REGFILE);
	for (i = 0; i < nblocks / 16; i++) {
		fill(buf, 1 << 20, 41, i << 20);
		CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, 1 << 20, i << 20),
				1 << 20);
	}
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	tries = fs.hmp->stat_comp_tries;
	/* one count for the file, not one per indirect block */
	CU_ASSERT(tries < 32);
	CU_ASSERT_EQUAL(fs.hmp->stat_comp_kept, 0);
	/* 2048 random 4 KiB overwrites, a flush every 128 */
	for (i = 0; i < 2048; i++) {
		uint64_t off;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		off = ((x >> 33) % (nblocks * 16)) * 4096;
		fill(unit, sizeof(unit), 42, off);
		CU_ASSERT_EQUAL(hammer2_vop_write(ip, unit, sizeof(unit), off),
				(ssize_t)sizeof(unit));
		if (i % 128 == 127)
			CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	}
	/* the windows have grown: few tries for 2048 rewrites */
	CU_ASSERT(fs.hmp->stat_comp_tries - tries < 64);
	/*
	 * compressible blocks after them compress again, at the latest
	 * after the longest window (256 blocks): 32 MiB of them
	 */
	memset(buf, 'a', 1 << 20);
	for (i = 0; i < 32; i++)
		CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, 1 << 20,
						  (nblocks << 16) + (i << 20)),
				1 << 20);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	CU_ASSERT(fs.hmp->stat_comp_kept >= 512 - 256);
	hammer2_inode_drop(ip);
	CU_ASSERT_EQUAL(fs_umount(&fs), 0);
	rd_free(rd);
	free(buf);
}

static void test_drop_clean_data(void)
{
	uint8_t *buf = malloc(300000);
	hammer2_inode_t *ip;
	struct ramdisk *rd;
	uint64_t reads;
	struct fs fs;

	for (int drop = 0; drop < 2; drop++) {
		rd = fs_new(&fs, "-c none");
		fs.hmp->drop_clean_data = drop;
		ip = mkfile(fs.root, "f", HAMMER2_OBJTYPE_REGFILE);
		fill(buf, 300000, 11, 0);
		CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, 300000, 0), 300000);
		CU_ASSERT_EQUAL(block_loaded(ip, 0), 1); /* dirty: kept */
		CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
		CU_ASSERT_EQUAL(block_loaded(ip, 0), !drop);
		CU_ASSERT_EQUAL(block_loaded(ip, 4 << 16), !drop);
		/* reads go to the media only when the data was dropped */
		reads = rd->reads;
		CU_ASSERT(check_content(ip, 300000, 11));
		CU_ASSERT_EQUAL(rd->reads > reads, drop);
		CU_ASSERT_EQUAL(block_loaded(ip, 65536), !drop);
		/* an unaligned overwrite reads the block it changes */
		fill(buf, 1000, 11, 70000);
		buf[0] ^= 0xFF;
		CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, 1000, 70000), 1000);
		CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
		/* a block written in part stays cached: the next small write
		 * into it reads nothing */
		CU_ASSERT_EQUAL(block_loaded(ip, 65536), 1);
		buf[0] ^= 0xFF;
		reads = rd->reads;
		CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, 1000, 70000), 1000);
		CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
		CU_ASSERT_EQUAL(rd->reads, reads);
		CU_ASSERT(check_content(ip, 300000, 11));
		/* rewriting whole blocks (the last one up to an unaligned
		 * EOF) reads nothing back, dropped data or not */
		CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
		fill(buf, 300000, 12, 0);
		reads = rd->reads;
		CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, 65536, 0), 65536);
		CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf + 262144,
						  300000 - 262144, 262144),
				300000 - 262144);
		CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf + 65536, 196608,
						  65536),
				196608);
		CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
		CU_ASSERT_EQUAL(rd->reads, reads);
		CU_ASSERT(check_content(ip, 300000, 12));
		hammer2_inode_drop(ip);
		/* and after a remount */
		CU_ASSERT_EQUAL(fs_umount(&fs), 0);
		CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, HAMMER2_MNT_RDONLY), 0);
		CU_ASSERT(check_file(&fs, "f", 300000, 12));
		fs_umount(&fs);
		rd_free(rd);
	}
	free(buf);
}

/* hammer2_copy_fn of follow_plan's CORE pieces: into buf from file off. */
struct plan_copy {
	uint8_t *buf;
	uint64_t off;
};

static void plan_copy(void *arg, uint64_t foff, uint8_t *kbuf, size_t n)
{
	struct plan_copy *pc = arg;

	if (kbuf)
		memcpy(pc->buf + (foff - pc->off), kbuf, n);
	else
		memset(pc->buf + (foff - pc->off), 0, n);
}

/*
 * Follow a read plan the way the kernel's readahead does: MEDIA pieces
 * straight from the disk, verified piecewise (uneven pieces), the others
 * through hammer2_vop_read_cb.  Fills buf (file offset off, len bytes,
 * zeros past the plan); counts the pieces of each kind in kinds[3].
 * Returns 1 if every MEDIA piece passed its check.
 */
static int follow_plan(struct ramdisk *rd, hammer2_inode_t *ip, uint8_t *buf,
		       uint64_t off, uint64_t len, int kinds[3])
{
	hammer2_rmap_t map[40];
	uint64_t at = off;
	int n, i, ok = 1;

	memset(buf, 0xEE, len);
	memset(kinds, 0, 3 * sizeof(int));
	n = hammer2_vop_read_map(ip, off, len, map, 40);
	CU_ASSERT(n >= 0);
	for (i = 0; i < n; i++) {
		hammer2_rmap_t *m = &map[i];
		uint8_t *p = buf + (m->foff - off);

		CU_ASSERT_EQUAL(m->foff, at); /* back to back */
		CU_ASSERT(m->bytes > 0 && m->bytes <= 65536);
		CU_ASSERT(m->kind <= HAMMER2_RMAP_CORE);
		kinds[m->kind]++;
		at += m->bytes;
		if (m->kind == HAMMER2_RMAP_MEDIA) {
			hammer2_check_stream_t cs;
			uint32_t a = 1, b = 4095;

			CU_ASSERT_EQUAL(m->foff & 0xFFFF, 0);
			CU_ASSERT(m->foff + m->pbytes <= off + len);
			CU_ASSERT(m->dev_off + m->pbytes <= rd->size);
			rd_wait(rd);
			memcpy(p, rd->buf + m->dev_off, m->pbytes);
			CU_ASSERT(hammer2_check_stream_begin(&cs, &m->bref));
			hammer2_check_stream_update(&cs, p, a);
			hammer2_check_stream_update(&cs, p + a, b);
			hammer2_check_stream_update(&cs, p + a + b, 0);
			hammer2_check_stream_update(&cs, p + a + b,
						    m->pbytes - a - b);
			if (!hammer2_check_stream_end(&cs, &m->bref))
				ok = 0;
			if (m->pbytes < m->bytes)
				memset(p + m->pbytes, 0, m->bytes - m->pbytes);
		} else if (m->kind == HAMMER2_RMAP_ZERO) {
			memset(p, 0, m->bytes);
		} else {
			struct plan_copy pc = { p, m->foff };

			CU_ASSERT_EQUAL(hammer2_vop_read_cb(ip, m->foff,
							    m->bytes, plan_copy,
							    &pc),
					(ssize_t)m->bytes);
		}
	}
	if (at < off + len)
		memset(buf + (at - off), 0, off + len - at);
	return ok;
}

/*
 * hammer2_vop_read_map: blocks on the media only are MEDIA (their bytes at
 * dev_off pass their check read in pieces), holes ZERO, and CORE whatever
 * must come through the core: a block not wholly in the request, a
 * modified or cached block, a compressed block, a check that cannot be
 * computed piecewise, embedded data; a damaged block fails its check and
 * the core path then gives EIO.  Following the plan gives the file.
 */
static void test_read_map(void)
{
	const uint64_t size = (1 << 20) + 10000, len = 2 << 20;
	uint8_t *buf = malloc(len), *want = calloc(1, len);
	hammer2_inode_t *ip, *ip2;
	hammer2_rmap_t map[40];
	struct ramdisk *rd;
	int kinds[3], n, i;
	struct fs fs;

	rd = fs_new(&fs, "-c none");
	fs.hmp->drop_clean_data = 1;
	ip = mkfile(fs.root, "f", HAMMER2_OBJTYPE_REGFILE);
	fill(want, 200000, 21, 0);
	fill(want + (1 << 20), 10000, 21, 1 << 20);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, want, 200000, 0), 200000);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, want + (1 << 20), 10000, 1 << 20),
			10000);
	/* dirty: everything comes through the core */
	CU_ASSERT(follow_plan(rd, ip, buf, 0, len, kinds));
	CU_ASSERT_EQUAL(kinds[HAMMER2_RMAP_MEDIA], 0);
	CU_ASSERT_EQUAL(memcmp(buf, want, len), 0);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	/* blocks 0..3 and 16 on the media, 4..15 holes, EOF after 16 */
	n = hammer2_vop_read_map(ip, 0, len, map, 40);
	CU_ASSERT_EQUAL(n, 17);
	for (i = 0; i < n && i < 17; i++) {
		CU_ASSERT_EQUAL(map[i].foff, (uint64_t)i << 16);
		CU_ASSERT_EQUAL(map[i].kind, (i < 4 || i == 16) ?
						     HAMMER2_RMAP_MEDIA :
						     HAMMER2_RMAP_ZERO);
	}
	CU_ASSERT_EQUAL(map[16].bytes, 10000);
	CU_ASSERT(map[16].pbytes >= 10000 && map[16].pbytes < 65536);
	CU_ASSERT(follow_plan(rd, ip, buf, 0, len, kinds));
	CU_ASSERT_EQUAL(kinds[HAMMER2_RMAP_MEDIA], 5);
	CU_ASSERT_EQUAL(kinds[HAMMER2_RMAP_ZERO], 12);
	CU_ASSERT_EQUAL(memcmp(buf, want, size), 0);
	/* the plan read nothing: a MEDIA block stays uncached */
	CU_ASSERT_EQUAL(block_loaded(ip, 0), 0);
	/* a block the request does not hold whole is CORE (both here) */
	CU_ASSERT(follow_plan(rd, ip, buf, 4096, 65536, kinds));
	CU_ASSERT_EQUAL(kinds[HAMMER2_RMAP_CORE], 2);
	CU_ASSERT_EQUAL(kinds[HAMMER2_RMAP_MEDIA], 0);
	CU_ASSERT_EQUAL(memcmp(buf, want + 4096, 65536), 0);
	CU_ASSERT(follow_plan(rd, ip, buf, 1 << 20, 12288, kinds));
	CU_ASSERT_EQUAL(kinds[HAMMER2_RMAP_CORE], 1);
	CU_ASSERT_EQUAL(memcmp(buf, want + (1 << 20), 12288), 0);
	/* max pieces */
	CU_ASSERT_EQUAL(hammer2_vop_read_map(ip, 0, len, map, 2), 2);
	/* modified, then cached (written in part): CORE */
	want[70000] ^= 0xFF;
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, want + 70000, 1, 70000), 1);
	n = hammer2_vop_read_map(ip, 0, len, map, 40);
	CU_ASSERT(n == 17 && map[1].kind == HAMMER2_RMAP_CORE);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	n = hammer2_vop_read_map(ip, 0, len, map, 40);
	CU_ASSERT(n == 17 && map[1].kind == HAMMER2_RMAP_CORE &&
		  map[2].kind == HAMMER2_RMAP_MEDIA);
	CU_ASSERT(follow_plan(rd, ip, buf, 0, len, kinds));
	CU_ASSERT_EQUAL(memcmp(buf, want, size), 0);
	/* a damaged block fails its check; the core path says EIO */
	rd_wait(rd);
	rd->buf[map[2].dev_off + 100] ^= 0x01;
	CU_ASSERT_FALSE(follow_plan(rd, ip, buf, 0, len, kinds));
	CU_ASSERT_EQUAL(hammer2_vop_read(ip, buf, 65536, 2 << 16), -EIO);
	rd->buf[map[2].dev_off + 100] ^= 0x01;
	/* compressed, or a check that is not streamed: CORE */
	for (i = 0; i < 2; i++) {
		ip2 = mkfile(fs.root, i ? "crc" : "lz4",
			     HAMMER2_OBJTYPE_REGFILE);
		CU_ASSERT_EQUAL(
			i ? hammer2_vop_setcheck(ip2, HAMMER2_CHECK_ISCSI32) :
			    hammer2_vop_setcomp(ip2, HAMMER2_COMP_LZ4),
			0);
		memset(buf, 'a', 65536);
		if (i)
			fill(buf, 65536, 22, 0);
		CU_ASSERT_EQUAL(hammer2_vop_write(ip2, buf, 65536, 0), 65536);
		CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
		CU_ASSERT_EQUAL(block_comp(ip2, 0),
				i ? HAMMER2_COMP_NONE : HAMMER2_COMP_LZ4);
		n = hammer2_vop_read_map(ip2, 0, len, map, 40);
		CU_ASSERT(n == 1 && map[0].kind == HAMMER2_RMAP_CORE &&
			  map[0].bytes == 65536);
		hammer2_inode_drop(ip2);
	}
	/* embedded data, and a directory */
	ip2 = mkfile(fs.root, "small", HAMMER2_OBJTYPE_REGFILE);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip2, "hello", 5, 0), 5);
	n = hammer2_vop_read_map(ip2, 0, len, map, 40);
	CU_ASSERT(n == 1 && map[0].kind == HAMMER2_RMAP_CORE &&
		  map[0].bytes == 5);
	CU_ASSERT_EQUAL(hammer2_vop_read_map(ip2, 5, len, map, 40), 0);
	hammer2_inode_drop(ip2);
	CU_ASSERT_EQUAL(hammer2_vop_read_map(fs.root, 0, len, map, 40),
			-EISDIR);
	hammer2_inode_drop(ip);
	fs_umount(&fs);
	rd_free(rd);
	free(buf);
	free(want);
}

/*
 * A commit writes only the changing pieces of a header copy (its first and
 * last 4 KiB) when the copy's middle is on the media already, and the
 * whole copy otherwise: a copy whose middle was damaged before the mount
 * is rewritten whole, while damage made behind the mounted core's back
 * stays (which shows the pieces were used); every copy the flushes wrote
 * is valid afterwards.
 */
static void test_volhdr_pieces(void)
{
	struct ramdisk *rd = rd_new(8ULL << 30, "-c none");
	hammer2_volume_data_t *vd = malloc(sizeof(*vd));
	hammer2_inode_t *ip;
	struct fs fs;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rd);
	/* copy 1: damaged middle before the mount */
	rd->buf[hammer2_volhdr_offset(1) + 0x5000] ^= 0x55;
	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, 0), 0);
	CU_ASSERT_EQUAL(fs.hmp->volhdr_same & 0xF, 0xF & ~2U);
	/* copy 3: damaged behind the core's back */
	rd->buf[hammer2_volhdr_offset(3) + 0x5000] ^= 0x55;
	ip = mkfile(fs.root, "f", HAMMER2_OBJTYPE_REGFILE);
	for (i = 0; i < 8; i++) {
		CU_ASSERT_EQUAL(hammer2_vop_write(ip, "x", 1, (uint64_t)i), 1);
		CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	}
	CU_ASSERT_EQUAL(fs.hmp->volhdr_same & 0xF, 0xF);
	hammer2_inode_drop(ip);
	CU_ASSERT_EQUAL(fs_umount(&fs), 0);
	for (i = 0; i < HAMMER2_NUM_VOLHDRS; i++) {
		memcpy(vd, rd->buf + hammer2_volhdr_offset(i), sizeof(*vd));
		CU_ASSERT_EQUAL(hammer2_voldata_testcrc(vd) != 0, i == 3);
	}
	/* the mount takes the newest valid copy; the data is there */
	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, HAMMER2_MNT_RDONLY), 0);
	CU_ASSERT_EQUAL(fs.hmp->volhdr_same & 0xF, 0xF & ~8U);
	CU_ASSERT_EQUAL(hammer2_vop_lookup(fs.root, "f", 1, &ip), 0);
	CU_ASSERT_EQUAL(hammer2_vop_read(ip, vd, 100, 0), 8);
	hammer2_inode_drop(ip);
	fs_umount(&fs);
	free(vd);
	rd_free(rd);
}

/* hammer2_copy_fn for writes from one buffer holding file bytes from off. */
struct copy_src {
	const uint8_t *buf;
	uint64_t off;
};

static void copy_in(void *arg, uint64_t foff, uint8_t *kbuf, size_t n)
{
	struct copy_src *m = arg;

	memcpy(kbuf, m->buf + (foff - m->off), n);
}

/*
 * Delayed-write reservations (the kernel's write(2) path): a reservation
 * counts against free space (statfs, later reservations) until
 * write_resv hands it over or unreserve gives it back; a full volume
 * refuses the reservation with ENOSPC before any data is buffered, and
 * reserved room is always there for the writeback that consumes it.
 */
static void test_delayed_reserve(void)
{
	struct hammer2_statfs st0, st1;
	struct ramdisk *rd;
	uint8_t *buf = malloc(1 << 20);
	hammer2_inode_t *ip, *ip2;
	struct copy_src m;
	uint64_t got = 0, chunk = 1ULL << 20, resv;
	struct fs fs;
	int error;

	rd = fs_new(&fs, "-c none");
	ip = mkfile(fs.root, "a", HAMMER2_OBJTYPE_REGFILE);
	ip2 = mkfile(fs.root, "b", HAMMER2_OBJTYPE_REGFILE);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	CU_ASSERT_EQUAL(hammer2_vfs_statfs(fs.pmp, &st0), 0);
	CU_ASSERT_EQUAL(hammer2_vop_reserve(ip, 10 << 20), 0);
	CU_ASSERT_EQUAL(hammer2_vfs_statfs(fs.pmp, &st1), 0);
	CU_ASSERT_EQUAL(st0.free_bytes - st1.free_bytes, 10 << 20);
	hammer2_vop_unreserve(ip, 10 << 20);
	CU_ASSERT_EQUAL(hammer2_vfs_statfs(fs.pmp, &st1), 0);
	CU_ASSERT_EQUAL(st1.free_bytes, st0.free_bytes);
	hammer2_vop_unreserve(ip, 1 << 20); /* more than reserved: clamped */
	CU_ASSERT_EQUAL(hammer2_vfs_statfs(fs.pmp, &st1), 0);
	CU_ASSERT_EQUAL(st1.free_bytes, st0.free_bytes);

	/* reserve the whole volume in chunks: it ends in ENOSPC */
	while ((error = hammer2_vop_reserve(ip, chunk + HAMMER2_PBUFSIZE)) == 0)
		got += chunk;
	CU_ASSERT_EQUAL(error, ENOSPC);
	CU_ASSERT(got > st0.free_bytes / 2 && got <= st0.free_bytes);
	/* nobody else gets the room meanwhile */
	fill(buf, 1 << 20, 9, 0);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip2, buf, 1 << 20, 0), -ENOSPC);
	CU_ASSERT_EQUAL(hammer2_vop_reserve(ip2, chunk + HAMMER2_PBUFSIZE),
			ENOSPC);
	/* the reserved writes all go in, each handing its room over */
	for (resv = 0; resv < got; resv += chunk) {
		m.buf = buf;
		m.off = resv;
		fill(buf, chunk, 10, resv);
		CU_ASSERT_EQUAL_FATAL(
			hammer2_vop_write_resv(ip, resv, chunk, copy_in, &m,
					       chunk + HAMMER2_PBUFSIZE),
			(ssize_t)chunk);
	}
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	for (uint64_t o = 0; o < got; o += got / 4) {
		uint8_t *want = malloc(1 << 20);

		o &= ~((1ULL << 20) - 1);
		fill(want, 1 << 20, 10, o);
		CU_ASSERT_EQUAL(hammer2_vop_read(ip, buf, 1 << 20, o), 1 << 20);
		CU_ASSERT(memcmp(buf, want, 1 << 20) == 0);
		free(want);
	}
	/* the data took its room; the per-call block of slack came back */
	CU_ASSERT_EQUAL(hammer2_vfs_statfs(fs.pmp, &st1), 0);
	CU_ASSERT(st1.free_bytes + got <= st0.free_bytes);
	CU_ASSERT(st1.free_bytes >= (got / chunk) * HAMMER2_PBUFSIZE / 2);
	hammer2_inode_drop(ip);
	hammer2_inode_drop(ip2);
	CU_ASSERT_EQUAL(hammer2_vop_remove(fs.root, "a", 1), 0);
	/* frees are applied by the flush after the one that drops them */
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	CU_ASSERT_EQUAL(hammer2_vfs_statfs(fs.pmp, &st1), 0);
	CU_ASSERT(st1.free_bytes + (1 << 20) >= st0.free_bytes);
	fs_umount(&fs);
	free(buf);
	rd_free(rd);
}

/* A flipped byte in a data block gives EIO, never a crash. */
static void test_corrupt_block_eio(void)
{
	struct ramdisk *rd;
	uint8_t buf[8192];
	hammer2_inode_t *ip;
	hammer2_off_t off;
	struct fs fs;

	rd = fs_new(&fs, NULL);
	ip = mkfile(fs.root, "x", HAMMER2_OBJTYPE_REGFILE);
	fill(buf, sizeof(buf), 8, 0);
	hammer2_vop_write(ip, buf, sizeof(buf), 0);
	hammer2_inode_drop(ip);
	fs_umount(&fs);
	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, HAMMER2_MNT_RDONLY), 0);
	CU_ASSERT_EQUAL_FATAL(hammer2_vop_lookup(fs.root, "x", 1, &ip), 0);
	off = block_off(ip, 0);
	CU_ASSERT_NOT_EQUAL_FATAL(off, 0);
	rd->buf[(off & HAMMER2_OFF_MASK) + 17] ^= 0x40;
	CU_ASSERT_EQUAL(hammer2_vop_read(ip, buf, sizeof(buf), 0), -EIO);
	hammer2_inode_drop(ip);
	fs_umount(&fs);
	rd_free(rd);
}

/*
 * A hostile header: a freemap leaf blockref without media (data_off 0) in
 * the freemap blockset.  Writing gives an error (the flush fails), never a
 * crash; with freemap_tid below mirror_tid too, the recovery a read-write
 * mount runs fails it with EIO, and a read-only mount still works.
 */
static void test_hostile_freemap_bref(void)
{
	struct ramdisk *rd;
	hammer2_volume_data_t *vd;
	hammer2_blockref_t *b;
	hammer2_inode_t *ip;
	uint8_t buf[4096];
	struct fs fs;
	int i, pass;

	for (pass = 0; pass < 2; pass++) {
		rd = fs_new(&fs, NULL);
		fs_umount(&fs);
		for (i = 0; i < HAMMER2_NUM_VOLHDRS; i++) {
			hammer2_off_t off = hammer2_volhdr_offset(i);

			if (off + HAMMER2_VOLUME_BYTES > rd->size)
				break;
			vd = (hammer2_volume_data_t *)(rd->buf + off);
			b = &vd->freemap_blockset.blockref[0];
			memset(b, 0, sizeof(*b));
			b->type = HAMMER2_BREF_TYPE_FREEMAP_LEAF;
			b->keybits = HAMMER2_FREEMAP_LEVEL1_RADIX;
			if (pass)
				vd->freemap_tid = vd->mirror_tid - 1;
			hammer2_voldata_setcrc(vd);
		}
		if (pass) {
			CU_ASSERT_EQUAL(fs_mount(rd, &fs, 0), EIO);
			CU_ASSERT_EQUAL_FATAL(
				fs_mount(rd, &fs, HAMMER2_MNT_RDONLY), 0);
			fs_umount(&fs);
		} else if (fs_mount(rd, &fs, 0) == 0) {
			ip = mkfile(fs.root, "x", HAMMER2_OBJTYPE_REGFILE);
			if (ip) {
				fill(buf, sizeof(buf), 8, 0);
				hammer2_vop_write(ip, buf, sizeof(buf), 0);
				hammer2_inode_drop(ip);
			}
			CU_ASSERT_NOT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
			fs_umount(&fs);
		} else {
			CU_FAIL("mount of an image whose freemap is damaged");
		}
		rd_free(rd);
	}
}

/*
 * A hostile image for freemap recovery, hung into the super-root blockset
 * with freemap_tid below mirror_tid (check NONE everywhere): an inode
 * whose four blockrefs all point at one indirect block whose 512 point at
 * one indirect block whose 512 point at one data block.  No loop and
 * within the depth limit, but 4 x 512 x 512 reads of 64 KiB without the
 * walk's visited set; the mount must fail with EIO at once.  Pass 1: a
 * blockref above its parent's mirror_tid fails it the same way.
 */
static void test_hostile_recover_dag(void)
{
	const hammer2_off_t ioff = 900ULL << 20, l1 = ioff + 65536,
			    l2 = l1 + 65536, doff = l2 + 65536;
	hammer2_inode_data_t *ip;
	hammer2_volume_data_t *vd;
	hammer2_blockref_t top, b1, b2, bd, *arr;
	hammer2_tid_t tid;
	struct ramdisk *rd;
	struct fs fs;
	int i, k, pass;

	for (pass = 0; pass < 2; pass++) {
		rd = fs_new(&fs, NULL);
		tid = fs.hmp->voldata.mirror_tid; /* the copy in use */
		fs_umount(&fs);
		memset(&top, 0, sizeof(top));
		top.methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_NONE) |
			      HAMMER2_ENC_COMP(HAMMER2_COMP_NONE);
		top.mirror_tid = tid;
		b1 = b2 = bd = top;
		top.type = HAMMER2_BREF_TYPE_INODE;
		top.key = 12345;
		top.data_off = ioff | 10; /* 1 KiB */
		b1.type = b2.type = HAMMER2_BREF_TYPE_INDIRECT;
		b1.data_off = l1 | 16;
		b2.data_off = l2 | 16;
		b2.mirror_tid = tid + pass; /* pass 1: above its parent */
		bd.type = HAMMER2_BREF_TYPE_DATA;
		bd.data_off = doff | 16;
		ip = (hammer2_inode_data_t *)(rd->buf + ioff);
		memset(ip, 0, sizeof(*ip));
		ip->meta.type = HAMMER2_OBJTYPE_DIRECTORY;
		for (k = 0; k < HAMMER2_SET_COUNT; k++)
			ip->u.blockset.blockref[k] = b1;
		arr = (hammer2_blockref_t *)(rd->buf + l1);
		for (k = 0; k < 512; k++)
			arr[k] = b2;
		arr = (hammer2_blockref_t *)(rd->buf + l2);
		for (k = 0; k < 512; k++)
			arr[k] = bd;
		for (i = 0; i < HAMMER2_NUM_VOLHDRS; i++) {
			hammer2_off_t h = hammer2_volhdr_offset(i);

			if (h + HAMMER2_VOLUME_BYTES > rd->size)
				break;
			vd = (hammer2_volume_data_t *)(rd->buf + h);
			vd->mirror_tid = tid;
			vd->sroot_blockset.blockref[1] = top;
			vd->freemap_tid = tid - 1;
			hammer2_voldata_setcrc(vd);
		}
		CU_ASSERT_EQUAL(fs_mount(rd, &fs, 0), EIO);
		CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, HAMMER2_MNT_RDONLY), 0);
		/* remount read-write: recovery fails, the device stays ro */
		CU_ASSERT_EQUAL(hammer2_dev_set_rdonly(fs.hmp, 0), EIO);
		CU_ASSERT(fs.hmp->rdonly);
		fs_umount(&fs);
		rd_free(rd);
	}
}

/*
 * A read of many blocks reads blocks adjacent on the media together
 * (readv runs of up to 1 MiB, all issued at once by one readm, or one
 * after the other when readm refuses), and a failing run costs nothing
 * but the block that really fails.
 */
static void prefetch_runs(int refuse_readm)
{
	const size_t size = 4 << 20;
	uint8_t *buf = malloc(size), *want = malloc(size);
	struct ramdisk *rd;
	hammer2_inode_t *ip;
	hammer2_off_t bad;
	struct fs fs;
	uint64_t reads, readms;

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	rd = fs_new(&fs, "-c none");
	rd->refuse_readm = refuse_readm;
	ip = mkfile(fs.root, "seq", HAMMER2_OBJTYPE_REGFILE);
	fill(want, size, 11, 0);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, want, size, 0), (ssize_t)size);
	hammer2_inode_drop(ip);
	fs_umount(&fs);

	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, HAMMER2_MNT_RDONLY), 0);
	CU_ASSERT_EQUAL_FATAL(hammer2_vop_lookup(fs.root, "seq", 3, &ip), 0);
	reads = rd->reads;
	readms = rd->readms;
	CU_ASSERT_EQUAL(hammer2_vop_read(ip, buf, size, 0), (ssize_t)size);
	CU_ASSERT(memcmp(buf, want, size) == 0);
	/* 64 blocks: 4 runs of 1 MiB plus the indirect blocks above them */
	CU_ASSERT(rd->reads - reads <= 8);
	CU_ASSERT(rd->reads - reads >= 4);
	/* the 4 runs of a 64-block prefetch batch go in one readm */
	if (refuse_readm) {
		CU_ASSERT_EQUAL(rd->readms, readms);
	} else {
		CU_ASSERT(rd->readms - readms >= 1 &&
			  rd->readms - readms < rd->reads - reads);
	}
	bad = block_off(ip, 10 << 16) & HAMMER2_OFF_MASK;
	hammer2_inode_drop(ip);
	fs_umount(&fs);

	/* block 10 unreadable: the rest still reads, block 10 gives EIO */
	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, HAMMER2_MNT_RDONLY), 0);
	CU_ASSERT_EQUAL_FATAL(hammer2_vop_lookup(fs.root, "seq", 3, &ip), 0);
	rd->fail_reads = 1;
	rd->fail_read_off = bad + 100;
	CU_ASSERT_EQUAL(hammer2_vop_read(ip, buf, size, 0), -EIO);
	CU_ASSERT_EQUAL(hammer2_vop_read(ip, buf, 10 << 16, 0), 10 << 16);
	CU_ASSERT(memcmp(buf, want, 10 << 16) == 0);
	CU_ASSERT_EQUAL(hammer2_vop_read(ip, buf, size - (11 << 16), 11 << 16),
			(ssize_t)(size - (11 << 16)));
	CU_ASSERT(memcmp(buf, want + (11 << 16), size - (11 << 16)) == 0);
	rd->fail_reads = 0;
	CU_ASSERT_EQUAL(hammer2_vop_read(ip, buf, 1 << 16, 10 << 16), 1 << 16);
	CU_ASSERT(memcmp(buf, want + (10 << 16), 1 << 16) == 0);
	hammer2_inode_drop(ip);
	fs_umount(&fs);
	rd_free(rd);
	free(buf);
	free(want);
}

static void test_prefetch_runs(void)
{
	prefetch_runs(0);
}

static void test_prefetch_runs_serial(void)
{
	prefetch_runs(1);
}

/*
 * Operations while a flush writes without the device lock: overwrite a
 * file whose blocks are in flight, remove one, create one.  The commit
 * holds exactly the state at the flush point (read through a second,
 * read-only open of the same disk), the live file system the later one,
 * and the next flush commits that.
 */
static struct fs *overlap_fs;
static int overlap_done;

static void overlap_hook(struct ramdisk *rd)
{
	uint8_t *buf = malloc(1 << 20);
	hammer2_inode_t *ip = NULL;

	rd->writev_hook = NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	fill(buf, 1 << 20, 3, 0);
	CU_ASSERT_EQUAL(hammer2_vop_lookup(overlap_fs->root, "a", 1, &ip), 0);
	if (ip) {
		CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, 1 << 20, 0),
				1 << 20);
		hammer2_inode_drop(ip);
	}
	CU_ASSERT_EQUAL(hammer2_vop_remove(overlap_fs->root, "b", 1), 0);
	ip = mkfile(overlap_fs->root, "d", HAMMER2_OBJTYPE_REGFILE);
	fill(buf, 200000, 4, 0);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, 200000, 0), 200000);
	hammer2_inode_drop(ip);
	overlap_done = 1;
	free(buf);
}

/* 0 if name in fs is a file of size bytes of stream s, else -1. */
static int overlap_check(struct fs *fs, const char *name, uint64_t size,
			 unsigned s)
{
	hammer2_inode_t *ip;
	int ok;

	if (hammer2_vop_lookup(fs->root, name, strlen(name), &ip) != 0)
		return -1;
	ok = check_content(ip, size, s);
	hammer2_inode_drop(ip);
	return ok ? 0 : -1;
}

static void test_flush_overlap(void)
{
	uint8_t *buf = malloc(1 << 20);
	struct ramdisk *rd;
	hammer2_inode_t *ip, *dummy;
	struct fs fs, ro;

	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	rd = fs_new(&fs, "-c none");
	ip = mkfile(fs.root, "a", HAMMER2_OBJTYPE_REGFILE);
	fill(buf, 1 << 20, 1, 0);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, 1 << 20, 0), 1 << 20);
	hammer2_inode_drop(ip);
	ip = mkfile(fs.root, "b", HAMMER2_OBJTYPE_REGFILE);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, 256 << 10, 0), 256 << 10);
	hammer2_inode_drop(ip);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);

	/* the state at the flush point: a rewritten (stream 2), c new */
	CU_ASSERT_EQUAL_FATAL(hammer2_vop_lookup(fs.root, "a", 1, &ip), 0);
	fill(buf, 1 << 20, 2, 0);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, 1 << 20, 0), 1 << 20);
	hammer2_inode_drop(ip);
	ip = mkfile(fs.root, "c", HAMMER2_OBJTYPE_REGFILE);
	hammer2_inode_drop(ip);
	overlap_fs = &fs;
	overlap_done = 0;
	rd->writev_hook = overlap_hook;
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	CU_ASSERT_FATAL(overlap_done);

	/* the commit: exactly the flush point */
	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &ro, HAMMER2_MNT_RDONLY), 0);
	CU_ASSERT_EQUAL(overlap_check(&ro, "a", 1 << 20, 2), 0);
	CU_ASSERT_EQUAL(overlap_check(&ro, "b", 256 << 10, 1), 0);
	CU_ASSERT_EQUAL(hammer2_vop_lookup(ro.root, "c", 1, &dummy), 0);
	if (dummy)
		hammer2_inode_drop(dummy);
	CU_ASSERT_EQUAL(hammer2_vop_lookup(ro.root, "d", 1, &dummy), ENOENT);
	CU_ASSERT_EQUAL(fs_umount(&ro), 0);

	/* live, then committed by the next flush */
	CU_ASSERT_EQUAL(overlap_check(&fs, "a", 1 << 20, 3), 0);
	CU_ASSERT_EQUAL(overlap_check(&fs, "d", 200000, 4), 0);
	CU_ASSERT_EQUAL(hammer2_vop_lookup(fs.root, "b", 1, &dummy), ENOENT);
	CU_ASSERT_EQUAL(fs_umount(&fs), 0);
	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, HAMMER2_MNT_RDONLY), 0);
	CU_ASSERT_EQUAL(overlap_check(&fs, "a", 1 << 20, 3), 0);
	CU_ASSERT_EQUAL(overlap_check(&fs, "d", 200000, 4), 0);
	CU_ASSERT_EQUAL(hammer2_vop_lookup(fs.root, "b", 1, &dummy), ENOENT);
	CU_ASSERT_EQUAL(fs_umount(&fs), 0);
	rd_free(rd);
	free(buf);
}

/*
 * Whole 4 KiB units written into blocks on the media need no read of the
 * old block (PARTIAL); reads, unaligned writes, truncation and the flush
 * complete them from the old block.
 */
static void test_partial_writes(void)
{
	const size_t size = 1 << 20;
	uint8_t *want = malloc(size), *got = malloc(size), unit[8192];
	struct ramdisk *rd;
	hammer2_inode_t *ip;
	struct fs fs;
	uint64_t reads, readms;
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	rd = fs_new(&fs, "-c none");
	ip = mkfile(fs.root, "p", HAMMER2_OBJTYPE_REGFILE);
	fill(want, size, 21, 0);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, want, size, 0), (ssize_t)size);
	hammer2_inode_drop(ip);
	fs_umount(&fs);
	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, 0), 0);
	CU_ASSERT_EQUAL_FATAL(hammer2_vop_lookup(fs.root, "p", 1, &ip), 0);

	/*
	 * 4 KiB units into 8 different blocks, twice into block 3; the first
	 * write reads the indirect block above them, then nothing is read
	 */
	reads = rd->reads + 1;
	for (i = 0; i < 8; i++) {
		uint64_t off = (uint64_t)i * 131072 + 8192;

		if (i == 1)
			CU_ASSERT_EQUAL(rd->reads, reads);
		fill(unit, 4096, 22, off);
		memcpy(want + off, unit, 4096);
		CU_ASSERT_EQUAL(hammer2_vop_write(ip, unit, 4096, off), 4096);
	}
	fill(unit, 8192, 23, 3 * 131072 + 32768);
	memcpy(want + 3 * 131072 + 32768, unit, 8192);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, unit, 8192, 3 * 131072 + 32768),
			8192);
	CU_ASSERT_EQUAL(rd->reads, reads); /* nothing read so far */

	/* an unaligned write into a partial block completes it first */
	fill(unit, 100, 24, 131072 + 5);
	memcpy(want + 131072 + 5, unit, 100);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, unit, 100, 131072 + 5), 100);
	/* a read of a partial block sees old and new */
	CU_ASSERT_EQUAL(hammer2_vop_read(ip, got, 65536, 2 * 131072), 65536);
	CU_ASSERT(memcmp(got, want + 2 * 131072, 65536) == 0);
	/* the whole file before, and after, the flush and a remount */
	CU_ASSERT_EQUAL(hammer2_vop_read(ip, got, size, 0), (ssize_t)size);
	CU_ASSERT(memcmp(got, want, size) == 0);
	/* nothing cached after a remount: 8 blocks become partial again */
	hammer2_inode_drop(ip);
	CU_ASSERT_EQUAL(fs_umount(&fs), 0);
	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, 0), 0);
	CU_ASSERT_EQUAL_FATAL(hammer2_vop_lookup(fs.root, "p", 1, &ip), 0);
	for (i = 0; i < 8; i++) {
		uint64_t off = (uint64_t)i * 131072 + 65536 + 4096;

		fill(unit, 4096, 25, off);
		memcpy(want + off, unit, 4096);
		CU_ASSERT_EQUAL(hammer2_vop_write(ip, unit, 4096, off), 4096);
	}
	/* 13 of 16 units of one block: the old block fills the chain's */
	{
		uint8_t *big = malloc(49152);
		uint64_t off = 6 * 131072 + 65536 + 8192;

		CU_ASSERT_PTR_NOT_NULL_FATAL(big);
		fill(big, 49152, 27, off);
		memcpy(want + off, big, 49152);
		CU_ASSERT_EQUAL(hammer2_vop_write(ip, big, 49152, off), 49152);
		free(big);
	}
	/* the flush reads the 8 old blocks (apart on the media) at once */
	readms = rd->readms;
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	CU_ASSERT(rd->readms > readms);
	CU_ASSERT_EQUAL(hammer2_vop_read(ip, got, size, 0), (ssize_t)size);
	CU_ASSERT(memcmp(got, want, size) == 0);
	/* truncate through a partial block */
	fill(unit, 4096, 26, 900000 & ~4095ULL);
	memcpy(want + (900000 & ~4095ULL), unit, 4096);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, unit, 4096, 900000 & ~4095ULL),
			4096);
	CU_ASSERT_EQUAL(hammer2_vop_truncate(ip, 900000), 0);
	hammer2_inode_drop(ip);
	fs_umount(&fs);
	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, HAMMER2_MNT_RDONLY), 0);
	CU_ASSERT_EQUAL_FATAL(hammer2_vop_lookup(fs.root, "p", 1, &ip), 0);
	CU_ASSERT_EQUAL(hammer2_vop_read(ip, got, size, 0), 900000);
	CU_ASSERT(memcmp(got, want, 900000) == 0);
	hammer2_inode_drop(ip);
	fs_umount(&fs);
	rd_free(rd);
	free(want);
	free(got);
}

/* An unlinked file stays readable while referenced (open). */
static void test_unlink_open(void)
{
	struct ramdisk *rd;
	uint8_t buf[200000];
	hammer2_inode_t *ip;
	struct hammer2_vattr va;
	struct fs fs;
	int k;

	rd = fs_new(&fs, NULL);
	ip = mkfile(fs.root, "open", HAMMER2_OBJTYPE_REGFILE);
	fill(buf, sizeof(buf), 10, 0);
	hammer2_vop_write(ip, buf, sizeof(buf), 0);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	CU_ASSERT_EQUAL(hammer2_vop_remove(fs.root, "open", 4), 0);
	/* churn other files through several flushes */
	for (k = 0; k < 5; k++) {
		hammer2_inode_t *o =
			mkfile(fs.root, "other", HAMMER2_OBJTYPE_REGFILE);
		hammer2_vop_write(o, buf, sizeof(buf), 0);
		hammer2_inode_drop(o);
		CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
		CU_ASSERT_EQUAL(hammer2_vop_remove(fs.root, "other", 5), 0);
	}
	CU_ASSERT(check_content(ip, sizeof(buf), 10));
	CU_ASSERT_EQUAL(hammer2_vop_getattr(ip, &va), 0);
	CU_ASSERT_EQUAL(va.nlinks, 0);
	hammer2_inode_drop(ip);
	fs_umount(&fs);
	rd_free(rd);
}

/* getattr's phys_bytes (st_blocks) of ip; UINT64_MAX on error. */
static uint64_t phys_of(hammer2_inode_t *ip)
{
	struct hammer2_vattr va;

	if (hammer2_vop_getattr(ip, &va) != 0)
		return UINT64_MAX;
	return va.phys_bytes;
}

/*
 * st_blocks before a flush tells what the flush will leave: written,
 * truncated, overwritten and hole-punched data show at once (modified
 * blocks at their logical size), and equal the media count after the
 * flush for data that does not compress; compressible data is counted
 * at most at its logical size and exactly after the flush.
 */
static void test_stat_blocks_unflushed(void)
{
	static uint8_t buf[1 << 20];
	hammer2_inode_t *ip, *z;
	uint64_t est, got;
	struct fs fs;
	struct ramdisk *rd = fs_new(&fs, NULL);

	ip = mkfile(fs.root, "b", HAMMER2_OBJTYPE_REGFILE);
	CU_ASSERT_EQUAL(phys_of(ip), 0);
	fill(buf, sizeof(buf), 5, 0);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, sizeof(buf), 0),
			(ssize_t)sizeof(buf));
	est = phys_of(ip);
	CU_ASSERT(est >= sizeof(buf)); /* 16 blocks and an indirect block */
	CU_ASSERT(est < sizeof(buf) + 65536);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	CU_ASSERT_EQUAL(phys_of(ip), est);

	/* a rewrite in place changes nothing; the count holds without I/O */
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, 5000, 70000), 5000);
	CU_ASSERT_EQUAL(phys_of(ip), est);

	/* truncation shows at once */
	CU_ASSERT_EQUAL(hammer2_vop_truncate(ip, 100000), 0);
	est = phys_of(ip);
	CU_ASSERT(est >= 2 * 65536 && est < 3 * 65536);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	CU_ASSERT_EQUAL(phys_of(ip), est);

	/* one byte far out: one more block, the hole in between is free */
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, "z", 1, 50 << 20), 1);
	got = phys_of(ip);
	CU_ASSERT(got > est && got <= est + 2 * 65536);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	CU_ASSERT_EQUAL(phys_of(ip), got);

	/* text compresses: counted at its size now, at what it takes after */
	z = mkfile(fs.root, "z", HAMMER2_OBJTYPE_REGFILE);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t) "copy-on-write "[i % 14];
	CU_ASSERT_EQUAL(hammer2_vop_write(z, buf, sizeof(buf), 0),
			(ssize_t)sizeof(buf));
	est = phys_of(z);
	CU_ASSERT(est >= sizeof(buf));
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	got = phys_of(z);
	CU_ASSERT(got < est);
	CU_ASSERT(got < sizeof(buf) / 4);
	hammer2_inode_drop(z);
	hammer2_inode_drop(ip);
	CU_ASSERT_EQUAL(fs_umount(&fs), 0);
	rd_free(rd);
}

/* Truncate shrinks, zeroes tails and leaves holes; holes read as zero. */
static void test_truncate_holes(void)
{
	struct ramdisk *rd;
	uint8_t buf[200000], got[200000];
	hammer2_inode_t *ip;
	struct fs fs;

	rd = fs_new(&fs, NULL);
	ip = mkfile(fs.root, "t", HAMMER2_OBJTYPE_REGFILE);
	fill(buf, sizeof(buf), 11, 0);
	hammer2_vop_write(ip, buf, sizeof(buf), 0);
	CU_ASSERT_EQUAL(hammer2_vop_truncate(ip, 70000), 0);
	CU_ASSERT_EQUAL(hammer2_vop_truncate(ip, 150000), 0);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	CU_ASSERT_EQUAL(hammer2_vop_read(ip, got, sizeof(got), 0), 150000);
	CU_ASSERT_EQUAL(memcmp(got, buf, 70000), 0);
	memset(buf, 0, sizeof(buf));
	CU_ASSERT_EQUAL(memcmp(got + 70000, buf, 80000), 0);
	CU_ASSERT_EQUAL(block_off(ip, 131072), 0); /* a hole, no block */
	/* a write far out leaves a hole in between */
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, "z", 1, 10000000), 1);
	CU_ASSERT_EQUAL(block_off(ip, 5 << 20), 0);
	/* SEEK_DATA/SEEK_HOLE: blocks 0-1 data, a hole to 9.5 MiB, data */
	{
		uint64_t r = 1;

		CU_ASSERT_EQUAL(hammer2_vop_seek(ip, 0, 1, &r), 0);
		CU_ASSERT_EQUAL(r, 131072);
		CU_ASSERT_EQUAL(hammer2_vop_seek(ip, 5000, 0, &r), 0);
		CU_ASSERT_EQUAL(r, 5000);
		CU_ASSERT_EQUAL(hammer2_vop_seek(ip, 131072, 0, &r), 0);
		CU_ASSERT_EQUAL(r, 10000000 & ~65535ULL);
		CU_ASSERT_EQUAL(hammer2_vop_seek(ip, 10000000, 1, &r), 0);
		CU_ASSERT_EQUAL(r, 10000001);
		CU_ASSERT_EQUAL(hammer2_vop_seek(ip, 10000001, 0, &r), ENXIO);
		CU_ASSERT_EQUAL(hammer2_vop_seek(fs.root, 0, 0, &r), EISDIR);
	}
	CU_ASSERT_EQUAL(hammer2_vop_truncate(ip, 100), 0);
	CU_ASSERT_EQUAL(hammer2_vop_read(ip, got, sizeof(got), 0), 100);
	fill(buf, 100, 11, 0);
	CU_ASSERT_EQUAL(memcmp(got, buf, 100), 0);
	hammer2_inode_drop(ip);
	fs_umount(&fs);
	rd_free(rd);
}

/* The chain cache stays bounded on a tree much larger than its limit. */
static void test_memory_bounded(void)
{
	struct ramdisk *rd;
	hammer2_inode_t *d, *ip;
	struct fs fs;
	char name[32];
	int i, found = 0;

	rd = fs_new(&fs, NULL);
	fs.hmp->lru_limit = 256;
	d = mkfile(fs.root, "many", HAMMER2_OBJTYPE_DIRECTORY);
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "file-%05d", i);
		ip = mkfile(d, name, HAMMER2_OBJTYPE_REGFILE);
		hammer2_vop_write(ip, name, strlen(name), 0);
		hammer2_inode_drop(ip);
	}
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	CU_ASSERT(fs.hmp->lru_count <= 256);
	for (i = 0; i < 5000; i += 7) {
		snprintf(name, sizeof(name), "file-%05d", i);
		if (hammer2_vop_lookup(d, name, strlen(name), &ip) == 0) {
			char got[32] = { 0 };
			hammer2_vop_read(ip, got, sizeof(got), 0);
			found += strcmp(got, name) == 0;
			hammer2_inode_drop(ip);
		}
	}
	CU_ASSERT_EQUAL(found, (5000 + 6) / 7);
	CU_ASSERT(fs.hmp->lru_count <= 256);
	hammer2_inode_drop(d);
	fs_umount(&fs);
	rd_free(rd);
}

/*
 * Incompressible data stops being compressed after repeated failures: a
 * compressible block following ten incompressible ones is stored raw,
 * while the same block alone is compressed.
 */
static void test_incompressible_heuristic(void)
{
	struct ramdisk *rd;
	uint8_t buf[65536];
	hammer2_inode_t *ip, *ctl;
	struct fs fs;
	int i, raw = 0;

	rd = fs_new(&fs, NULL);
	ip = mkfile(fs.root, "rand", HAMMER2_OBJTYPE_REGFILE);
	ctl = mkfile(fs.root, "ctl", HAMMER2_OBJTYPE_REGFILE);
	for (i = 0; i < 10; i++) {
		fill(buf, sizeof(buf), 20 + (unsigned)i, 0);
		hammer2_vop_write(ip, buf, sizeof(buf), (uint64_t)i << 16);
	}
	memset(buf, 'a', sizeof(buf));
	hammer2_vop_write(ip, buf, sizeof(buf), 10 << 16);
	hammer2_vop_write(ctl, buf, sizeof(buf), 0);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	for (i = 0; i < 10; i++)
		raw += block_comp(ip, (uint64_t)i << 16) == HAMMER2_COMP_NONE;
	CU_ASSERT_EQUAL(raw, 10);
	CU_ASSERT_EQUAL(block_comp(ip, 10 << 16), HAMMER2_COMP_NONE);
	CU_ASSERT_EQUAL(block_comp(ctl, 0), HAMMER2_COMP_LZ4);
	hammer2_inode_drop(ip);
	hammer2_inode_drop(ctl);
	fs_umount(&fs);
	rd_free(rd);
}

/* ---------------- direct writes ---------------- */

/*
 * Direct-write the 64 KiB at buf as block lbase of ip the way the kernel's
 * writepages does: the core places it, the disk has it in flight until a
 * direct_wait lands it.  Returns the vop's errno; *offp gets the offset.
 */
static int direct_put(struct ramdisk *rd, hammer2_inode_t *ip, uint64_t lbase,
		      const uint8_t *buf, uint64_t *offp)
{
	uint64_t off = 0;
	unsigned token = 0;
	struct hammer2_iov iov = { (void *)(uintptr_t)buf, HAMMER2_PBUFSIZE };
	int error =
		hammer2_vop_write_direct(ip, lbase, &iov, 1, 0, &off, &token);

	if (error == 0)
		CU_ASSERT_EQUAL(rd_direct_issue(rd, buf, HAMMER2_PBUFSIZE, off,
						token),
				0);
	if (offp)
		*offp = off;
	return error;
}

/* The file's size as the core has it. */
static uint64_t ip_size(hammer2_inode_t *ip)
{
	struct hammer2_vattr va;

	memset(&va, 0, sizeof(va));
	CU_ASSERT_EQUAL(hammer2_vop_getattr(ip, &va), 0);
	return va.size;
}

/* Mounted again, is file name in the root exactly the size bytes at want? */
static int remount_same(struct ramdisk *rd, const char *name,
			const uint8_t *want, size_t size)
{
	uint8_t *got = malloc(size + 1);
	hammer2_inode_t *ip = NULL;
	struct fs fs;
	int ok = 0;

	if (fs_mount(rd, &fs, 0) != 0) {
		free(got);
		return 0;
	}
	if (hammer2_vop_lookup(fs.root, name, strlen(name), &ip) == 0) {
		ok = hammer2_vop_read(ip, got, size + 1, 0) == (ssize_t)size &&
		     memcmp(got, want, size) == 0;
		hammer2_inode_drop(ip);
	}
	fs_umount(&fs);
	free(got);
	return ok;
}

/* Is the DATA chain at lbase DIRECT (-1: hole)? */
static int block_direct(hammer2_inode_t *ip, uint64_t lbase)
{
	hammer2_chain_t *chain = block_chain(ip, lbase);
	int direct = -1;

	if (chain) {
		direct = (chain->flags & HAMMER2_CHAIN_DIRECT) != 0;
		hammer2_chain_drop(chain);
	}
	return direct;
}

/*
 * Writeback straight from the caller's memory (docs/DESIGN.md): the block
 * is placed at once and written by the caller; reads through the core
 * wait for it; the commit waits for it and references it; a rewrite, a
 * part write and a truncate before the flush free what they replace; fsck
 * finds nothing wrong or leaked after a remount.  Blocks the core must
 * not take this way (past EOF, zeros, compressible) are refused.
 */
static void test_direct_write(void)
{
	const uint64_t B = HAMMER2_PBUFSIZE;
	struct ramdisk *rd = rd_new(1ULL << 30, "-c none");
	struct hammer2_fsck_result res;
	uint8_t *buf = malloc(4 * B), *got = malloc(4 * B), part[4096];
	hammer2_inode_t *ip;
	uint64_t off[4], i;
	struct fs fs;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rd);
	CU_ASSERT_EQUAL_FATAL(fs_mount_ops(rd, &fs, 0, &rd_dops), 0);
	ip = mkfile(fs.root, "d", HAMMER2_OBJTYPE_REGFILE);
	fill(buf, 4 * B, 7, 0);
	/* the file grows to the end of the block (the page cache's EOF) */
	CU_ASSERT_EQUAL(direct_put(rd, ip, B, buf + B, NULL), 0);
	CU_ASSERT_EQUAL(ip_size(ip), 2 * B);
	CU_ASSERT_EQUAL(hammer2_vop_truncate(ip, 4 * B), 0);
	for (i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(direct_put(rd, ip, i * B, buf + i * B, &off[i]),
				0);
		CU_ASSERT_EQUAL(block_direct(ip, i * B), 1);
		CU_ASSERT_EQUAL(block_off(ip, i * B) & HAMMER2_OFF_MASK,
				off[i]);
	}
	CU_ASSERT_EQUAL(rd->ndirect, 5); /* block 1 twice */
	/* st_blocks counts them before the flush */
	{
		struct hammer2_vattr va;

		memset(&va, 0, sizeof(va));
		CU_ASSERT_EQUAL(hammer2_vop_getattr(ip, &va), 0);
		CU_ASSERT(va.phys_bytes >= 4 * B);
	}
	/* in flight: not on the disk yet, but a read through the core waits */
	CU_ASSERT(memcmp(rd->buf + off[0], buf, B) != 0);
	CU_ASSERT_EQUAL(hammer2_vop_read(ip, got, 4 * B, 0), (ssize_t)(4 * B));
	CU_ASSERT(memcmp(got, buf, 4 * B) == 0);
	CU_ASSERT_EQUAL(rd->ndirect, 0);
	/* the commit takes them as they are: no new block, no data write */
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	for (i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(block_direct(ip, i * B), 0);
		CU_ASSERT_EQUAL(block_off(ip, i * B) & HAMMER2_OFF_MASK,
				off[i]);
	}
	CU_ASSERT_EQUAL(fs.hmp->stat_direct_writes, 5);

	/* before the next flush: rewrite 0, write part of 1, truncate 2-3 */
	fill(buf, B, 8, 0);
	CU_ASSERT_EQUAL(direct_put(rd, ip, 0, buf, NULL), 0);
	fill(buf + B, B, 9, 0);
	CU_ASSERT_EQUAL(direct_put(rd, ip, B, buf + B, NULL), 0);
	fill(part, sizeof(part), 10, 0);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, part, sizeof(part), B + 8192),
			(ssize_t)sizeof(part));
	memcpy(buf + B + 8192, part, sizeof(part));
	CU_ASSERT_EQUAL(block_direct(ip, B), 0); /* the copy path has it */
	CU_ASSERT_EQUAL(direct_put(rd, ip, 2 * B, buf + 2 * B, NULL), 0);
	CU_ASSERT_EQUAL(hammer2_vop_truncate(ip, 2 * B), 0);
	/* zeros and compressible data are not taken this way */
	CU_ASSERT_EQUAL(hammer2_vop_truncate(ip, 3 * B), 0);
	memset(got, 0, B);
	CU_ASSERT_EQUAL(direct_put(rd, ip, 2 * B, got, NULL), EAGAIN);
	CU_ASSERT_EQUAL(hammer2_vop_truncate(ip, 2 * B), 0);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	CU_ASSERT_EQUAL(rd->ndirect, 0);
	hammer2_inode_drop(ip);
	CU_ASSERT_EQUAL(fs_umount(&fs), 0);
	res = rd_fsck(rd);
	CU_ASSERT_EQUAL(res.errors, 0);
	CU_ASSERT_EQUAL(res.leaked_bytes, 0);
	CU_ASSERT(remount_same(rd, "d", buf, 2 * B));
	free(buf);
	free(got);
	rd_free(rd);
}

/*
 * With lz4 (newfs's default) a block that compresses is left to the flush
 * (which stores it compressed); one that does not is written directly,
 * raw.  Both are tried once here.
 */
static void test_direct_compress(void)
{
	const uint64_t B = HAMMER2_PBUFSIZE;
	struct ramdisk *rd = rd_new(1ULL << 30, NULL);
	uint8_t *buf = malloc(B);
	hammer2_inode_t *ip;
	uint64_t tries;
	struct fs fs;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rd);
	CU_ASSERT_EQUAL_FATAL(fs_mount_ops(rd, &fs, 0, &rd_dops), 0);
	ip = mkfile(fs.root, "c", HAMMER2_OBJTYPE_REGFILE);
	CU_ASSERT_EQUAL(hammer2_vop_truncate(ip, 2 * B), 0);
	tries = fs.hmp->stat_comp_tries;
	memset(buf, 'a', B);
	CU_ASSERT_EQUAL(direct_put(rd, ip, 0, buf, NULL), EAGAIN);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, B, 0), (ssize_t)B);
	fill(buf, B, 14, 0);
	CU_ASSERT_EQUAL(direct_put(rd, ip, B, buf, NULL), 0);
	CU_ASSERT_EQUAL(fs.hmp->stat_comp_tries, tries + 2);
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	CU_ASSERT_EQUAL(block_comp(ip, 0), HAMMER2_COMP_LZ4);
	CU_ASSERT_EQUAL(block_comp(ip, B), HAMMER2_COMP_NONE);
	CU_ASSERT(check_content_at(ip, B, B, 14));
	hammer2_inode_drop(ip);
	fs_umount(&fs);
	free(buf);
	rd_free(rd);
}

/* test_direct_fence: the hook's file and the block it must not take. */
static struct fs *fence_fs;
static hammer2_inode_t *fence_ip;
static uint64_t fence_freed, fence_got;

/*
 * During the flush's writes (no device lock): point every allocation
 * iterator at the block this flush freed, then direct-write a block.
 */
static void fence_hook(struct ramdisk *rd)
{
	uint8_t *buf = malloc(HAMMER2_PBUFSIZE);
	int i;

	rd->writev_hook = NULL;
	for (i = 0; i < 64; i++)
		fence_fs->hmp->heur_base[i] = fence_freed;
	fill(buf, HAMMER2_PBUFSIZE, 12, 0);
	CU_ASSERT_EQUAL(
		direct_put(rd, fence_ip, HAMMER2_PBUFSIZE, buf, &fence_got), 0);
	free(buf);
}

/*
 * A direct write while a flush is writing must not take a block that
 * flush freed: the previous commit references it until the new header
 * is on the media (the fence).  A power cut after the data write but
 * before the commit leaves the committed file as it was.
 */
static void test_direct_fence(void)
{
	const uint64_t B = HAMMER2_PBUFSIZE;
	struct ramdisk *rd = rd_new(1ULL << 30, "-c none");
	struct hammer2_fsck_result res;
	uint8_t *buf = malloc(2 * B), *got = malloc(2 * B);
	hammer2_inode_t *ip;
	struct fs fs;

	CU_ASSERT_PTR_NOT_NULL_FATAL(rd);
	CU_ASSERT_EQUAL_FATAL(fs_mount_ops(rd, &fs, 0, &rd_dops), 0);
	ip = mkfile(fs.root, "f", HAMMER2_OBJTYPE_REGFILE);
	fill(buf, 2 * B, 11, 0);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, 2 * B, 0), (ssize_t)(2 * B));
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	/* block 0 rewritten: the next flush frees its block */
	fence_freed = block_off(ip, 0) & HAMMER2_OFF_MASK;
	fill(buf, B, 13, 0);
	CU_ASSERT_EQUAL(hammer2_vop_write(ip, buf, B, 0), (ssize_t)B);
	fence_fs = &fs;
	fence_ip = ip;
	fence_got = 0;
	rd->writev_hook = fence_hook;
	CU_ASSERT_EQUAL(hammer2_vfs_sync(fs.hmp), 0);
	CU_ASSERT_NOT_EQUAL(fence_got, 0);
	CU_ASSERT_NOT_EQUAL(fence_got, fence_freed);
	CU_ASSERT_EQUAL(fs.hmp->fenced.count, 0); /* committed: forgotten */
	/* that direct write is the next commit's; cut the power before it */
	CU_ASSERT_EQUAL(rd_direct_wait(rd, 1), 0);
	rd->fail_writes = 1;
	hammer2_inode_drop(ip);
	fs_umount(&fs);
	rd->fail_writes = 0;
	res = rd_fsck(rd);
	CU_ASSERT_EQUAL(res.errors, 0);
	fill(buf + B, B, 11, B);
	CU_ASSERT(remount_same(rd, "f", buf, 2 * B));
	free(buf);
	free(got);
	rd_free(rd);
}

/*
 * Hard links: both names reach one inode, nlinks counts them, they survive
 * a directory rename and a remount, and the last unlink removes the file.
 */
static void test_hardlinks(void)
{
	struct ramdisk *rd;
	hammer2_inode_t *a, *b, *c, *f, *ip, *ip2;
	struct listing *l = calloc(1, sizeof(*l));
	struct hammer2_vattr va;
	uint64_t cookie = 0;
	uint8_t buf[70000];
	struct fs fs;

	rd = fs_new(&fs, NULL);
	a = mkfile(fs.root, "a", HAMMER2_OBJTYPE_DIRECTORY);
	b = mkfile(fs.root, "b", HAMMER2_OBJTYPE_DIRECTORY);
	c = mkfile(fs.root, "c", HAMMER2_OBJTYPE_DIRECTORY);
	f = mkfile(a, "f", HAMMER2_OBJTYPE_REGFILE);
	fill(buf, sizeof(buf), 30, 0);
	hammer2_vop_write(f, buf, sizeof(buf), 0);
	CU_ASSERT_EQUAL(hammer2_vop_link(f, b, "g", 1), 0);
	CU_ASSERT_EQUAL(hammer2_vop_link(f, b, "g", 1), EEXIST);
	CU_ASSERT_EQUAL(hammer2_vop_link(a, b, "d", 1), EPERM);
	CU_ASSERT_EQUAL(hammer2_vop_lookup(b, "g", 1, &ip), 0);
	CU_ASSERT_PTR_EQUAL(ip, f);
	CU_ASSERT_EQUAL(hammer2_vop_getattr(ip, &va), 0);
	CU_ASSERT_EQUAL(va.nlinks, 2);
	CU_ASSERT_EQUAL(va.type, HAMMER2_OBJTYPE_REGFILE);
	hammer2_inode_drop(ip);
	CU_ASSERT_EQUAL(hammer2_vop_readdir(a, &cookie, list_cb, l), 0);
	CU_ASSERT_EQUAL(listed(l, "f"), 1);
	/* renaming one link over the other is a no-op */
	CU_ASSERT_EQUAL(hammer2_vop_rename(b, "g", 1, a, "f", 1, 0), 0);
	CU_ASSERT_EQUAL(hammer2_vop_lookup(b, "g", 1, &ip), 0);
	hammer2_inode_drop(ip);
	/* a directory rename keeps the link working */
	CU_ASSERT_EQUAL(hammer2_vop_rename(fs.root, "b", 1, c, "b2", 2, 0), 0);
	CU_ASSERT_EQUAL(hammer2_vop_remove(a, "f", 1), 0);
	hammer2_inode_drop(a);
	hammer2_inode_drop(b);
	hammer2_inode_drop(c);
	hammer2_inode_drop(f);
	CU_ASSERT_EQUAL(fs_umount(&fs), 0);
	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, 0), 0);
	CU_ASSERT_EQUAL(hammer2_vop_namei(fs.pmp, "/a/f", &ip), ENOENT);
	CU_ASSERT_EQUAL_FATAL(hammer2_vop_namei(fs.pmp, "/c/b2/g", &ip), 0);
	CU_ASSERT_EQUAL(hammer2_vop_getattr(ip, &va), 0);
	CU_ASSERT_EQUAL(va.nlinks, 1);
	CU_ASSERT(check_content(ip, sizeof(buf), 30));
	/* link again, then drop both names: the inode goes */
	CU_ASSERT_EQUAL(hammer2_vop_namei(fs.pmp, "/c", &c), 0);
	CU_ASSERT_EQUAL(hammer2_vop_link(ip, c, "h", 1), 0);
	CU_ASSERT_EQUAL(hammer2_vop_namei(fs.pmp, "/c/h", &ip2), 0);
	CU_ASSERT_PTR_EQUAL(ip, ip2);
	hammer2_inode_drop(ip2);
	CU_ASSERT_EQUAL(hammer2_vop_namei(fs.pmp, "/c/b2", &b), 0);
	CU_ASSERT_EQUAL(hammer2_vop_remove(b, "g", 1), 0);
	CU_ASSERT_EQUAL(hammer2_vop_remove(c, "h", 1), 0);
	CU_ASSERT_EQUAL(hammer2_vop_getattr(ip, &va), 0);
	CU_ASSERT_EQUAL(va.nlinks, 0);
	CU_ASSERT(check_content(ip, sizeof(buf), 30)); /* still open */
	CU_ASSERT_EQUAL(hammer2_vop_rmdir(c, "b2", 2), 0);
	hammer2_inode_drop(ip);
	hammer2_inode_drop(b);
	hammer2_inode_drop(c);
	CU_ASSERT_EQUAL(fs_umount(&fs), 0);
	CU_ASSERT_EQUAL_FATAL(fs_mount(rd, &fs, HAMMER2_MNT_RDONLY), 0);
	CU_ASSERT_EQUAL(hammer2_vop_namei(fs.pmp, "/c/h", &ip), ENOENT);
	fs_umount(&fs);
	free(l);
	rd_free(rd);
}

static const h2test_t tests[] = {
	H2TEST(test_hardlinks),
	H2TEST(test_incompressible_heuristic),
	H2TEST(test_roundtrip_sizes),
	H2TEST(test_cow_realloc),
	H2TEST(test_crash_before_header),
	H2TEST(test_freemap_recover),
	H2TEST(test_readdir_cookies),
	H2TEST(test_dirops_errno),
	H2TEST(test_compression_realloc),
	H2TEST(test_freemap_alloc),
	H2TEST(test_enospc),
	H2TEST(test_corrupt_block_eio),
	H2TEST(test_hostile_freemap_bref),
	H2TEST(test_hostile_recover_dag),
	H2TEST(test_prefetch_runs),
	H2TEST(test_prefetch_runs_serial),
	H2TEST(test_unlink_open),
	H2TEST(test_truncate_holes),
	H2TEST(test_stat_blocks_unflushed),
	H2TEST(test_memory_bounded),
	H2TEST(test_flush_overlap),
	H2TEST(test_partial_writes),
	H2TEST(test_delayed_reserve),
	H2TEST(test_drop_clean_data),
	H2TEST(test_lru_data_limit),
	H2TEST(test_comp_skip),
	H2TEST(test_volhdr_pieces),
	H2TEST(test_read_map),
	H2TEST(test_direct_write),
	H2TEST(test_direct_fence),
	H2TEST(test_direct_compress),
	H2TEST_END,
};

int main(void)
{
	hammer2_log_quiet = 1;
	return h2test_run("core", tests);
}
