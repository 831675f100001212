/*
 * hammer2_newfs.c - compute the layout of and write a fresh HAMMER2 volume
 * through struct hammer2_devops (see hammer2_tools.h).
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hammer2_tools.h"

/* Initial transaction id of every blockref, as DragonFly's newfs uses. */
#define NEWFS_INITIAL_TID 16
/* First inode number a PFS will hand out (root is 1), as DragonFly. */
#define NEWFS_PFS_FIRST_INUM 16
/* DMSG_PEER_HAMMER2: LNK_CONN peer type stored in the volume header. */
#define NEWFS_PEER_HAMMER2 3
/* Longest label: a PFS root's name (HAMMER2_INODE_MAXNAME - 1). */
#define NEWFS_LABEL_MAX (HAMMER2_INODE_MAXNAME - 1)

_Static_assert(HAMMER2_NEWFS_MAX_LABELS == 4, "labels[] of the options");

void hammer2_newfs_defaults(struct hammer2_newfs_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->labels[0] = "LOCAL";
	opts->labels[1] = "DATA";
	opts->nlabels = 2;
	opts->version = HAMMER2_VOL_VERSION_DEFAULT;
	opts->check_algo = HAMMER2_ENC_ALGO(HAMMER2_CHECK_DEFAULT);
	opts->comp_algo = HAMMER2_ENC_ALGO(HAMMER2_COMP_DEFAULT);
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

/* NULL if opts can be formatted, else a static reason. */
static const char *check_opts(const struct hammer2_newfs_opts *opts)
{
	hammer2_key_t keys[HAMMER2_NEWFS_MAX_LABELS];
	int i, j;

	if (opts->nlabels < 1 || opts->nlabels > HAMMER2_NEWFS_MAX_LABELS)
		return "between 1 and 4 PFS labels are needed";
	for (i = 0; i < opts->nlabels; ++i) {
		const char *label = opts->labels[i];
		size_t len = label ? strlen(label) : 0;

		if (len == 0)
			return "empty PFS label";
		if (len > NEWFS_LABEL_MAX)
			return "PFS label too long";
		if (strchr(label, '/') != NULL)
			return "PFS label contains '/'";
		keys[i] = hammer2_dirhash((const unsigned char *)label, len);
		for (j = 0; j < i; ++j) {
			if (keys[j] == keys[i])
				return "two PFS labels have the same "
				       "directory hash";
		}
	}
	if (opts->version != 0 && (opts->version < HAMMER2_VOL_VERSION_MIN ||
				   opts->version >= HAMMER2_VOL_VERSION_WIP))
		return "unsupported volume version";
	return NULL;
}

int hammer2_newfs_layout(uint64_t size, const struct hammer2_newfs_opts *opts,
			 struct hammer2_newfs_layout *lay, const char **errmsg)
{
	uint64_t volu = size & ~HAMMER2_VOLUME_ALIGNMASK64;
	uint64_t overhead;
	const char *why;
	int i;

	memset(lay, 0, sizeof(*lay));
	why = check_opts(opts);
	if (why != NULL)
		goto bad;
	why = "volume is smaller than 8 MiB";
	if (volu == 0)
		goto bad;
	lay->volu_size = volu;
	lay->boot_bytes = area_size(opts->boot_bytes, HAMMER2_BOOT_NOM_BYTES,
				    HAMMER2_BOOT_MIN_BYTES, volu);
	lay->aux_bytes = area_size(opts->aux_bytes, HAMMER2_AUX_NOM_BYTES,
				   HAMMER2_AUX_MIN_BYTES, volu);
	lay->reserved_bytes = ((volu + HAMMER2_FREEMAP_LEVEL1_MASK) /
			       HAMMER2_FREEMAP_LEVEL1_SIZE) *
			      HAMMER2_ZONE_SEG64;
	overhead = lay->reserved_bytes + lay->boot_bytes + lay->aux_bytes;
	why = "not enough free space for the reserved, boot and aux areas";
	if (volu < overhead)
		goto bad;
	lay->free_bytes = volu - overhead;

	lay->boot_beg = HAMMER2_ZONE_SEG64;
	lay->aux_beg = lay->boot_beg + lay->boot_bytes;
	lay->inode_base = lay->aux_beg + lay->aux_bytes;
	/* The static allocations must stay inside the first 1 GiB. */
	why = "boot and aux areas do not fit in the first 1 GiB";
	if (lay->inode_base + HAMMER2_PBUFSIZE > HAMMER2_FREEMAP_LEVEL1_SIZE)
		goto bad;
	why = "not enough space after the boot and aux areas";
	if (lay->inode_base + HAMMER2_PBUFSIZE > volu)
		goto bad;
	lay->allocator_beg = lay->inode_base + (uint64_t)(1 + opts->nlabels) *
						       HAMMER2_INODE_BYTES;

	for (i = 0; i < HAMMER2_NUM_VOLHDRS; ++i) {
		if (hammer2_volhdr_offset(i) >= volu)
			break;
	}
	lay->nhdrs = i;
	return 0;
bad:
	if (errmsg != NULL)
		*errmsg = why;
	return EINVAL;
}

/*
 * A fresh random (version 4) uuid in the media's byte layout: the bytes
 * of ops->random in the order of the uuid's text form (what
 * uuid_unparse(3) and hammer2_uuid_from_str() agree on).
 */
static void random_uuid(const struct hammer2_devops *ops, void *ctx,
			hammer2_uuid_t *out)
{
	unsigned char u[16];
	char str[37];

	ops->random(ctx, u, sizeof(u));
	u[6] = (unsigned char)((u[6] & 0x0F) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3F) | 0x80);
	snprintf(str, sizeof(str),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9],
		 u[10], u[11], u[12], u[13], u[14], u[15]);
	if (hammer2_uuid_from_str(str, out) != 0)
		memcpy(out->b, u, sizeof(out->b));
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
			  const struct hammer2_newfs_opts *opts, uint64_t now,
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
	/* Linux directory counting, as every directory here: "." and its
	 * entry in the super-root, plus one per subdirectory */
	ip->meta.nlinks = 2;
	ip->meta.name_len = (uint16_t)len;
	memcpy(ip->filename, label, len);
	ip->meta.name_key = hammer2_dirhash((const unsigned char *)label, len);
	if (strcasecmp(label, "BOOT") == 0) {
		/* A boot PFS is never compressed. */
		ip->meta.comp_algo = HAMMER2_ENC_ALGO(HAMMER2_COMP_AUTOZERO);
		ip->meta.check_algo = HAMMER2_ENC_ALGO(HAMMER2_CHECK_XXHASH64);
	} else {
		ip->meta.comp_algo = (uint8_t)opts->comp_algo;
		ip->meta.check_algo = (uint8_t)opts->check_algo;
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

/* The 64 KiB inode block at lay->inode_base. */
static void build_inodes(const struct hammer2_devops *ops, void *ctx,
			 const struct hammer2_newfs_opts *opts,
			 const struct hammer2_newfs_layout *lay, uint64_t now,
			 unsigned char *blk, hammer2_blockref_t *sroot_bref)
{
	hammer2_blockref_t root_brefs[HAMMER2_NEWFS_MAX_LABELS];
	hammer2_inode_data_t *sroot = (hammer2_inode_data_t *)blk;
	hammer2_uuid_t clid, fsid;
	int i;

	/*
	 * The super-root first, then one PFS root per label, 1 KiB each,
	 * all within the one 64 KiB block at inode_base.
	 */
	init_inode_bref(sroot_bref, lay->inode_base, 0, HAMMER2_COMP_AUTOZERO);
	for (i = 0; i < opts->nlabels; ++i) {
		uint64_t rel = (uint64_t)(i + 1) * HAMMER2_INODE_BYTES;
		hammer2_inode_data_t *ip = (hammer2_inode_data_t *)(blk + rel);

		random_uuid(ops, ctx, &clid);
		random_uuid(ops, ctx, &fsid);
		init_pfs_root(ip, opts->labels[i], opts, now, &clid, &fsid);
		init_inode_bref(&root_brefs[i], lay->inode_base + rel,
				ip->meta.name_key, HAMMER2_COMP_NONE);
		root_brefs[i].flags = HAMMER2_BREF_FLAG_PFSROOT;
		hammer2_bref_setcheck(&root_brefs[i], ip, HAMMER2_INODE_BYTES);
	}

	random_uuid(ops, ctx, &clid);
	random_uuid(ops, ctx, &fsid);
	init_super_root(sroot, now, &clid, &fsid);
	/* Live blockset entries are kept sorted by key and packed. */
	qsort(root_brefs, (size_t)opts->nlabels, sizeof(root_brefs[0]),
	      bref_key_cmp);
	for (i = 0; i < opts->nlabels; ++i)
		sroot->u.blockset.blockref[i] = root_brefs[i];
	hammer2_bref_setcheck(sroot_bref, sroot, HAMMER2_INODE_BYTES);
}

/* The volume header; 0 or EINVAL (cannot happen: constant uuid). */
static int build_volhdr(const struct hammer2_devops *ops, void *ctx,
			int version, const struct hammer2_newfs_layout *lay,
			const hammer2_blockref_t *sroot_bref,
			hammer2_volume_data_t *vd)
{
	int i;

	vd->magic = HAMMER2_VOLUME_ID_HBO;
	vd->boot_beg = lay->boot_beg;
	vd->boot_end = lay->boot_beg + lay->boot_bytes;
	vd->aux_beg = lay->aux_beg;
	vd->aux_end = lay->aux_beg + lay->aux_bytes;
	vd->volu_size = lay->volu_size;
	vd->version = (uint32_t)version;
	vd->flags = 0;
	if (version >= HAMMER2_VOL_VERSION_MULTI_VOLUMES) {
		vd->volu_id = HAMMER2_ROOT_VOLUME;
		vd->nvolumes = 1;
		vd->total_size = lay->volu_size;
		vd->volu_loff[0] = 0;
		for (i = 1; i < HAMMER2_MAX_VOLUMES; ++i)
			vd->volu_loff[i] = (hammer2_off_t)-1;
	}
	random_uuid(ops, ctx, &vd->fsid);
	if (hammer2_uuid_from_str(HAMMER2_UUID_STRING, &vd->fstype) != 0)
		return EINVAL;
	vd->peer_type = NEWFS_PEER_HAMMER2;
	vd->allocator_size = lay->free_bytes;
	vd->allocator_free = lay->free_bytes;
	vd->allocator_beg = lay->allocator_beg;
	vd->sroot_blockset.blockref[0] = *sroot_bref;
	vd->mirror_tid = NEWFS_INITIAL_TID;
	vd->freemap_tid = NEWFS_INITIAL_TID;
	hammer2_voldata_setcrc(vd);
	return 0;
}

/* An errno from a devops call, never 0 for a failure. */
static int io_errno(int error)
{
	return error > 0 ? error : EIO;
}

int hammer2_newfs(const struct hammer2_devops *ops, void *ctx, uint64_t size,
		  const struct hammer2_newfs_opts *opts, const char **errmsg)
{
	struct hammer2_newfs_layout lay;
	hammer2_blockref_t sroot_bref;
	hammer2_volume_data_t *vd = NULL;
	unsigned char *blk = NULL, *zeros = NULL;
	const char *why = NULL;
	uint64_t now;
	int i, version, error;

	error = hammer2_newfs_layout(size, opts, &lay, &why);
	if (error != 0)
		goto out;
	version = opts->version ? opts->version : HAMMER2_VOL_VERSION_DEFAULT;

	blk = calloc(1, HAMMER2_PBUFSIZE);
	zeros = calloc(1, HAMMER2_PBUFSIZE);
	vd = calloc(1, sizeof(*vd));
	if (blk == NULL || zeros == NULL || vd == NULL) {
		error = ENOMEM;
		why = "out of memory";
		goto out;
	}

	/* No stale header of an older file system may survive. */
	_Static_assert(sizeof(*vd) == HAMMER2_PBUFSIZE, "volume header size");
	for (i = 0; i < lay.nhdrs; ++i) {
		error = ops->write(ctx, zeros, HAMMER2_PBUFSIZE,
				   hammer2_volhdr_offset(i));
		if (error != 0) {
			error = io_errno(error);
			why = "clearing the old volume headers";
			goto out;
		}
	}
	/* The last usable block must be writable. */
	error = ops->write(ctx, zeros, HAMMER2_PBUFSIZE,
			   lay.volu_size - HAMMER2_PBUFSIZE);
	if (error != 0) {
		error = io_errno(error);
		why = "write at end of volume";
		goto out;
	}

	now = ops->time_us(ctx);
	build_inodes(ops, ctx, opts, &lay, now, blk, &sroot_bref);
	error = ops->write(ctx, blk, HAMMER2_PBUFSIZE, lay.inode_base);
	if (error != 0) {
		error = io_errno(error);
		why = "writing inodes";
		goto out;
	}
	error = build_volhdr(ops, ctx, version, &lay, &sroot_bref, vd);
	if (error != 0) {
		why = "cannot parse the HAMMER2 file system type uuid";
		goto out;
	}
	/* The inodes are durable before a header points to them. */
	error = ops->flush(ctx);
	if (error != 0) {
		error = io_errno(error);
		why = "flush";
		goto out;
	}
	for (i = 0; i < lay.nhdrs; ++i) {
		error = ops->write(ctx, vd, sizeof(*vd),
				   hammer2_volhdr_offset(i));
		if (error != 0) {
			error = io_errno(error);
			why = "writing a volume header";
			goto out;
		}
	}
	error = ops->flush(ctx);
	if (error != 0) {
		error = io_errno(error);
		why = "flush";
	}
out:
	if (error != 0 && errmsg != NULL)
		*errmsg = why;
	free(blk);
	free(zeros);
	free(vd);
	return error;
}
