/*
 * newfs_layout.c - compute and write a fresh HAMMER2 volume.
 *
 * Media layout (the facts follow DragonFly's newfs_hammer2, see
 * docs/FORMAT.md):
 *
 *   0            4 MiB        boot_end        aux_end
 *   [reserved seg][boot area  ][aux area       ][sroot][LOCAL][label]...
 *
 *   - the first 4 MiB segment of every 1 GiB holds the volume header
 *     (block 0 of each 2 GiB zone) and the freemap rotation slots;
 *   - boot and aux areas are reserved for future use and left zeroed;
 *   - the super-root inode and the PFS root inodes are allocated linearly
 *     (1 KiB each) from the 64 KiB block right after the aux area;
 *     allocator_beg points just past the last of them.  Nothing is put in
 *     the freemap: freemap_blockset stays empty and the kernel marks
 *     everything below allocator_beg (rounded up to 4 MiB) allocated when
 *     it first creates a freemap leaf.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "newfs_hammer2.h"

const char *newfs_sizestr(uint64_t bytes, char *buf, size_t bufsize)
{
	const double k = 1024.0;
	double v = (double)bytes;

	if (bytes < 512)
		snprintf(buf, bufsize, "%6.2f", v);
	else if (bytes < 512ULL * 1024)
		snprintf(buf, bufsize, "%6.2fKB", v / k);
	else if (bytes < 512ULL * 1024 * 1024)
		snprintf(buf, bufsize, "%6.2fMB", v / (k * k));
	else if (bytes < 512ULL * 1024 * 1024 * 1024)
		snprintf(buf, bufsize, "%6.2fGB", v / (k * k * k));
	else
		snprintf(buf, bufsize, "%6.2fTB", v / (k * k * k * k));
	return buf;
}

/* Default area size: nominal, halved while above 5% of the volume. */
static uint64_t area_size(uint64_t requested, uint64_t nominal,
			  uint64_t minimum, uint64_t volu)
{
	uint64_t bytes = requested;

	if (bytes == 0) {
		bytes = nominal;
		while (bytes > volu / 20)
			bytes >>= 1;
	}
	if (bytes < minimum)
		bytes = minimum;
	return (bytes + HAMMER2_VOLUME_ALIGNMASK64) &
	       ~HAMMER2_VOLUME_ALIGNMASK64;
}

const char *newfs_compute_layout(uint64_t bytes, const struct newfs_opts *opt,
				 struct newfs_layout *lay)
{
	uint64_t volu = bytes & ~HAMMER2_VOLUME_ALIGNMASK64;
	uint64_t overhead;
	int i;

	memset(lay, 0, sizeof(*lay));
	if (volu == 0)
		return "volume is smaller than 8 MiB";
	lay->volu_size = volu;
	lay->boot_bytes = area_size(opt->boot_bytes, HAMMER2_BOOT_NOM_BYTES,
				    HAMMER2_BOOT_MIN_BYTES, volu);
	lay->aux_bytes = area_size(opt->aux_bytes, HAMMER2_AUX_NOM_BYTES,
				   HAMMER2_AUX_MIN_BYTES, volu);
	lay->reserved_bytes = ((volu + HAMMER2_FREEMAP_LEVEL1_MASK) /
			       HAMMER2_FREEMAP_LEVEL1_SIZE) *
			      HAMMER2_ZONE_SEG64;
	overhead = lay->reserved_bytes + lay->boot_bytes + lay->aux_bytes;
	if (volu < overhead)
		return "not enough free space for the reserved, boot and aux "
		       "areas";
	lay->free_bytes = volu - overhead;

	lay->boot_beg = HAMMER2_ZONE_SEG64;
	lay->aux_beg = lay->boot_beg + lay->boot_bytes;
	lay->inode_base = lay->aux_beg + lay->aux_bytes;
	/* The static allocations must stay inside the first 1 GiB. */
	if (lay->inode_base + HAMMER2_PBUFSIZE > HAMMER2_FREEMAP_LEVEL1_SIZE)
		return "boot and aux areas do not fit in the first 1 GiB";
	if (lay->inode_base + HAMMER2_PBUFSIZE > volu)
		return "not enough space after the boot and aux areas";
	lay->allocator_beg = lay->inode_base +
			     (uint64_t)(1 + opt->nlabels) * HAMMER2_INODE_BYTES;

	for (i = 0; i < HAMMER2_NUM_VOLHDRS; ++i) {
		if (hammer2_volhdr_offset(i) >= volu)
			break;
	}
	lay->nhdrs = i;
	return NULL;
}

/*
 * A fresh random (version 4) uuid in the media's byte layout.  The bytes
 * come from the device's random source so HAMMER2_FAKE_RANDOM_SEED makes
 * images reproducible.
 */
static void random_uuid(const struct newfs_env *env, hammer2_uuid_t *out)
{
	uuid_t u;
	char str[37];

	env->ops->random(env->ctx, u, sizeof(u));
	u[6] = (unsigned char)((u[6] & 0x0F) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3F) | 0x80);
	uuid_unparse_lower(u, str);
	if (hammer2_uuid_from_str(str, out) != 0)
		memcpy(out->b, u, sizeof(out->b));
}

static int pwrite_all(int fd, const void *buf, size_t bytes, uint64_t off)
{
	const char *p = buf;

	while (bytes > 0) {
		ssize_t n = pwrite(fd, p, bytes, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		bytes -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

/*
 * Make [off, off + bytes) read back as zeros: punch a hole in a regular
 * file (keeps images sparse), write zeros otherwise or as a fallback.
 */
static int zero_range(int fd, int is_regular, uint64_t off, uint64_t bytes)
{
	static const char zeros[HAMMER2_PBUFSIZE];

	if (is_regular &&
	    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)bytes) == 0)
		return 0;
	while (bytes > 0) {
		size_t n = bytes > sizeof(zeros) ? sizeof(zeros) : bytes;

		if (pwrite_all(fd, zeros, n, off) < 0)
			return -1;
		off += n;
		bytes -= n;
	}
	return 0;
}

static int bref_key_cmp(const void *a, const void *b)
{
	const hammer2_blockref_t *x = a, *y = b;

	if (x->key < y->key)
		return -1;
	return x->key > y->key;
}

/* Fill a PFS root directory inode (DragonFly's newfs field values). */
static void init_pfs_root(hammer2_inode_data_t *ip, const char *label,
			  const struct newfs_opts *opt, uint64_t now,
			  const hammer2_uuid_t *clid,
			  const hammer2_uuid_t *fsid)
{
	size_t len = strlen(label);

	ip->meta.version = HAMMER2_INODE_VERSION_ONE;
	ip->meta.ctime = now;
	ip->meta.mtime = now;
	ip->meta.btime = now; /* atime stays zero (not implemented) */
	ip->meta.type = HAMMER2_OBJTYPE_DIRECTORY;
	ip->meta.mode = 0755;
	ip->meta.inum = 1;
	ip->meta.nlinks = 1;
	ip->meta.name_len = (uint16_t)len;
	memcpy(ip->filename, label, len);
	ip->meta.name_key = hammer2_dirhash((const unsigned char *)label, len);
	if (strcasecmp(label, "BOOT") == 0) {
		/* A boot PFS is never compressed. */
		ip->meta.comp_algo = HAMMER2_ENC_ALGO(HAMMER2_COMP_AUTOZERO);
		ip->meta.check_algo = HAMMER2_ENC_ALGO(HAMMER2_CHECK_XXHASH64);
	} else {
		ip->meta.comp_algo = (uint8_t)opt->comp_algo;
		ip->meta.check_algo = (uint8_t)opt->check_algo;
	}
	ip->meta.pfs_clid = *clid;
	ip->meta.pfs_fsid = *fsid;
	ip->meta.pfs_type = HAMMER2_PFSTYPE_MASTER;
	ip->meta.op_flags |= HAMMER2_OPFLAG_PFSROOT;
	ip->meta.pfs_inum = NEWFS_PFS_FIRST_INUM;
	/* nmasters 0: quorum of one; the blockset stays empty. */
}

/* The super-root: unnamed container of the PFS roots, inode 0. */
static void init_super_root(hammer2_inode_data_t *ip, uint64_t now,
			    const hammer2_uuid_t *clid,
			    const hammer2_uuid_t *fsid)
{
	static const char name[] = "SUPROOT";

	ip->meta.version = HAMMER2_INODE_VERSION_ONE;
	ip->meta.ctime = now;
	ip->meta.mtime = now;
	ip->meta.btime = now;
	ip->meta.type = HAMMER2_OBJTYPE_DIRECTORY;
	ip->meta.mode = 0700;
	ip->meta.inum = 0;
	ip->meta.nlinks = 2;
	ip->meta.comp_algo = HAMMER2_ENC_ALGO(HAMMER2_COMP_AUTOZERO);
	ip->meta.check_algo = HAMMER2_ENC_ALGO(HAMMER2_CHECK_XXHASH64);
	ip->meta.pfs_clid = *clid;
	ip->meta.pfs_fsid = *fsid;
	ip->meta.pfs_type = HAMMER2_PFSTYPE_SUPROOT;
	ip->meta.name_key = 0;
	ip->meta.name_len = (uint16_t)(sizeof(name) - 1);
	memcpy(ip->filename, name, sizeof(name) - 1);
	ip->meta.pfs_inum = 0;
}

/* Blockref of one statically allocated inode (1 KiB at off). */
static void init_inode_bref(hammer2_blockref_t *bref, uint64_t off,
			    hammer2_key_t key, int comp)
{
	memset(bref, 0, sizeof(*bref));
	bref->type = HAMMER2_BREF_TYPE_INODE;
	bref->methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_XXHASH64) |
			HAMMER2_ENC_COMP(comp);
	bref->copyid = HAMMER2_COPYID_LOCAL;
	bref->keybits = 0;
	bref->vradix = HAMMER2_RADIX_MIN;
	bref->key = key;
	bref->mirror_tid = NEWFS_INITIAL_TID;
	bref->data_off = off | HAMMER2_RADIX_MIN;
}

static void print_summary(const char *path, const struct newfs_opts *opt,
			  const struct newfs_layout *lay,
			  const hammer2_volume_data_t *vd,
			  const hammer2_inode_data_t *sroot,
			  const hammer2_inode_data_t *roots)
{
	char sz[32], uuid[37];
	int i;

	(void)path;
	printf("---------------------------------------------\n");
	printf("version:          %d\n", opt->version);
	printf("total-size:       %s (%ju bytes)\n",
	       newfs_sizestr(lay->volu_size, sz, sizeof(sz)),
	       (uintmax_t)lay->volu_size);
	printf("boot-area-size:   %s (%ju bytes)\n",
	       newfs_sizestr(lay->boot_bytes, sz, sizeof(sz)),
	       (uintmax_t)lay->boot_bytes);
	printf("aux-area-size:    %s (%ju bytes)\n",
	       newfs_sizestr(lay->aux_bytes, sz, sizeof(sz)),
	       (uintmax_t)lay->aux_bytes);
	printf("topo-reserved:    %s (%ju bytes)\n",
	       newfs_sizestr(lay->reserved_bytes, sz, sizeof(sz)),
	       (uintmax_t)lay->reserved_bytes);
	printf("free-size:        %s (%ju bytes)\n",
	       newfs_sizestr(lay->free_bytes, sz, sizeof(sz)),
	       (uintmax_t)lay->free_bytes);
	printf("allocator-beg:    0x%016jx\n", (uintmax_t)lay->allocator_beg);
	printf("freemap:          empty (leaves created on first allocation)\n");
	printf("volume-headers:   %d\n", lay->nhdrs);
	hammer2_uuid_to_str(&vd->fsid, uuid);
	printf("vol-fsid:         %s\n", uuid);
	hammer2_uuid_to_str(&sroot->meta.pfs_clid, uuid);
	printf("sup-clid:         %s\n", uuid);
	hammer2_uuid_to_str(&sroot->meta.pfs_fsid, uuid);
	printf("sup-fsid:         %s\n", uuid);
	for (i = 0; i < opt->nlabels; ++i) {
		printf("PFS \"%s\"\n", opt->labels[i]);
		hammer2_uuid_to_str(&roots[i].meta.pfs_clid, uuid);
		printf("    clid %s\n", uuid);
		hammer2_uuid_to_str(&roots[i].meta.pfs_fsid, uuid);
		printf("    fsid %s\n", uuid);
	}
}

int newfs_format(int fd, int is_regular, const char *path,
		 const struct newfs_opts *opt, const struct newfs_layout *lay,
		 const struct newfs_env *env)
{
	static const char zeros[HAMMER2_PBUFSIZE];
	hammer2_inode_data_t roots[NEWFS_MAX_PFS];
	hammer2_blockref_t root_brefs[NEWFS_MAX_PFS];
	hammer2_blockref_t sroot_bref;
	hammer2_volume_data_t *vd = NULL;
	hammer2_inode_data_t *sroot;
	hammer2_uuid_t clid, fsid;
	unsigned char *blk = NULL;
	uint64_t now = env->ops->time_us(env->ctx);
	uint64_t off;
	int i, rc = -1;

	blk = calloc(1, HAMMER2_PBUFSIZE);
	vd = calloc(1, sizeof(*vd));
	if (blk == NULL || vd == NULL) {
		fprintf(stderr, "newfs_hammer2: out of memory\n");
		goto out;
	}

	/* The last usable block must be writable. */
	if (pwrite_all(fd, zeros, HAMMER2_PBUFSIZE,
		       lay->volu_size - HAMMER2_PBUFSIZE) < 0) {
		fprintf(stderr,
			"newfs_hammer2: %s: write at end of volume: "
			"%s\n",
			path, strerror(errno));
		goto out;
	}
	/* Clear the first reserved segment and the boot/aux areas. */
	if (zero_range(fd, is_regular, 0, HAMMER2_ZONE_SEG64) < 0 ||
	    zero_range(fd, is_regular, lay->boot_beg,
		       lay->inode_base - lay->boot_beg) < 0) {
		fprintf(stderr,
			"newfs_hammer2: %s: clearing reserved areas: "
			"%s\n",
			path, strerror(errno));
		goto out;
	}

	/*
	 * Inodes: the super-root first, then one PFS root per label, 1 KiB
	 * each, all within the one 64 KiB block at inode_base.
	 */
	sroot = (hammer2_inode_data_t *)blk;
	init_inode_bref(&sroot_bref, lay->inode_base, 0, HAMMER2_COMP_AUTOZERO);
	memset(roots, 0, sizeof(roots));
	for (i = 0; i < opt->nlabels; ++i) {
		off = lay->inode_base + (uint64_t)(i + 1) * HAMMER2_INODE_BYTES;
		random_uuid(env, &clid);
		random_uuid(env, &fsid);
		init_pfs_root(&roots[i], opt->labels[i], opt, now, &clid,
			      &fsid);
		init_inode_bref(&root_brefs[i], off, roots[i].meta.name_key,
				HAMMER2_COMP_NONE);
		root_brefs[i].flags = HAMMER2_BREF_FLAG_PFSROOT;
		memcpy(blk + (off - lay->inode_base), &roots[i],
		       sizeof(roots[i]));
		hammer2_bref_setcheck(&root_brefs[i], &roots[i],
				      HAMMER2_INODE_BYTES);
	}

	random_uuid(env, &clid);
	random_uuid(env, &fsid);
	init_super_root(sroot, now, &clid, &fsid);
	/* Live blockset entries are kept sorted by key and packed. */
	qsort(root_brefs, (size_t)opt->nlabels, sizeof(root_brefs[0]),
	      bref_key_cmp);
	for (i = 0; i < opt->nlabels; ++i)
		sroot->u.blockset.blockref[i] = root_brefs[i];
	hammer2_bref_setcheck(&sroot_bref, sroot, HAMMER2_INODE_BYTES);

	if (pwrite_all(fd, blk, HAMMER2_PBUFSIZE, lay->inode_base) < 0) {
		fprintf(stderr, "newfs_hammer2: %s: writing inodes: %s\n", path,
			strerror(errno));
		goto out;
	}

	/* Volume header. */
	vd->magic = HAMMER2_VOLUME_ID_HBO;
	vd->boot_beg = lay->boot_beg;
	vd->boot_end = lay->boot_beg + lay->boot_bytes;
	vd->aux_beg = lay->aux_beg;
	vd->aux_end = lay->aux_beg + lay->aux_bytes;
	vd->volu_size = lay->volu_size;
	vd->version = (uint32_t)opt->version;
	vd->flags = 0;
	if (opt->version >= HAMMER2_VOL_VERSION_MULTI_VOLUMES) {
		vd->volu_id = HAMMER2_ROOT_VOLUME;
		vd->nvolumes = 1;
		vd->total_size = lay->volu_size;
		vd->volu_loff[0] = 0;
		for (i = 1; i < HAMMER2_MAX_VOLUMES; ++i)
			vd->volu_loff[i] = (hammer2_off_t)-1;
	}
	random_uuid(env, &vd->fsid);
	if (hammer2_uuid_from_str(HAMMER2_UUID_STRING, &vd->fstype) != 0) {
		fprintf(stderr, "newfs_hammer2: cannot parse the HAMMER2 "
				"filesystem type uuid\n");
		goto out;
	}
	vd->peer_type = NEWFS_PEER_HAMMER2;
	vd->allocator_size = lay->free_bytes;
	vd->allocator_free = lay->free_bytes;
	vd->allocator_beg = lay->allocator_beg;
	vd->sroot_blockset.blockref[0] = sroot_bref;
	vd->mirror_tid = NEWFS_INITIAL_TID;
	vd->freemap_tid = NEWFS_INITIAL_TID;
	hammer2_voldata_setcrc(vd);

	for (i = 0; i < lay->nhdrs; ++i) {
		if (pwrite_all(fd, vd, sizeof(*vd), hammer2_volhdr_offset(i)) <
		    0) {
			fprintf(stderr,
				"newfs_hammer2: %s: writing volume "
				"header %d: %s\n",
				path, i, strerror(errno));
			goto out;
		}
	}
	if (fsync(fd) < 0) {
		fprintf(stderr, "newfs_hammer2: %s: fsync: %s\n", path,
			strerror(errno));
		goto out;
	}
	print_summary(path, opt, lay, vd, sroot, roots);
	rc = 0;
out:
	free(blk);
	free(vd);
	return rc;
}
