/*
 * hammer2_fsck_walk.c - validate every blockref reachable from the volume
 * header (the tree walk of hammer2_fsck(), see hammer2_tools.h).
 *
 * Trees:
 *   sroot_blockset   -> super-root INODE -> PFS root INODEs -> ...
 *                       (INODE blocksets unless DIRECTDATA, INDIRECT
 *                       blocks; DATA and DIRENT are leaves)
 *   freemap_blockset -> FREEMAP_NODE ... -> FREEMAP_LEAF (leaves)
 *
 * Freemap facts used (DragonFly hammer2_freemap.c / hammer2_bulkfree.c):
 *   - a FREEMAP_LEAF covers 1 GiB (keybits 30) as 256 bmaps of 4 MiB,
 *     each with 2 bits per 16 KiB chunk: 00 free, 10 staged by bulkfree
 *     (possibly free), 11 allocated, 01 illegal;
 *   - freemap blocks are not allocated from the freemap: each level has
 *     its rotation slots in the 4 MiB reserved segment of the 1 GiB zone
 *     at H2FMBASE(key, keybits): 64 KiB block 1 + set * 5 + level
 *     (set 0..7, level 0 = leaf .. 4);
 *   - a zone without a leaf is, as the kernel initialises a new leaf,
 *     allocated below allocator_beg (rounded up to 4 MiB), in the reserved
 *     segment and past the (4 MiB-truncated) end of the volume, and free
 *     elsewhere;
 *   - bmap avail starts at 4 MiB and drops by each allocation's size (a
 *     sub-16 KiB allocation marks its whole chunk), bulkfree adds 16 KiB
 *     per chunk it frees: so bytes marked free <= avail <= 4 MiB.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2_fsck_int.h"

/* What a blockset / indirect block may contain. */
enum fsck_kind {
	KIND_VOLUME,  /* sroot_blockset: the super-root inode */
	KIND_SUPROOT, /* below the super-root: PFS root inodes */
	KIND_DIR,     /* below a directory inode */
	KIND_FILE,    /* below any other inode */
	KIND_FREEMAP  /* freemap_blockset and freemap nodes */
};

struct fsck_parent {
	enum fsck_kind kind;
	hammer2_key_t key; /* key range of the parent: [key, key + 2^bits) */
	int keybits;	   /* 64 = whole key space */
	hammer2_tid_t mirror_tid;
};

static void check_base(struct h2fsck *ctx, const hammer2_blockref_t *base,
		       int count, const struct fsck_parent *pp, int depth);

/* Last key of the range [key, key + 2^keybits). */
static hammer2_key_t key_end(hammer2_key_t key, int keybits)
{
	hammer2_key_t mask;

	if (keybits >= 64)
		return HAMMER2_KEY_MAX;
	mask = ((hammer2_key_t)1 << keybits) - 1;
	if (key > HAMMER2_KEY_MAX - mask)
		return HAMMER2_KEY_MAX; /* misaligned key, already reported */
	return key + mask;
}

static int type_allowed(enum fsck_kind kind, int type)
{
	switch (kind) {
	case KIND_VOLUME:
		return type == HAMMER2_BREF_TYPE_INODE;
	case KIND_SUPROOT:
		return type == HAMMER2_BREF_TYPE_INODE ||
		       type == HAMMER2_BREF_TYPE_INDIRECT;
	case KIND_DIR:
		return type == HAMMER2_BREF_TYPE_INODE ||
		       type == HAMMER2_BREF_TYPE_INDIRECT ||
		       type == HAMMER2_BREF_TYPE_DIRENT;
	case KIND_FILE:
		return type == HAMMER2_BREF_TYPE_DATA ||
		       type == HAMMER2_BREF_TYPE_INDIRECT;
	case KIND_FREEMAP:
		return type == HAMMER2_BREF_TYPE_FREEMAP_NODE ||
		       type == HAMMER2_BREF_TYPE_FREEMAP_LEAF;
	}
	return 0;
}

static const char *kind_name(enum fsck_kind kind)
{
	switch (kind) {
	case KIND_VOLUME:
		return "the volume root";
	case KIND_SUPROOT:
		return "the super-root";
	case KIND_DIR:
		return "a directory";
	case KIND_FILE:
		return "a file";
	case KIND_FREEMAP:
		return "the freemap";
	}
	return "?";
}

/* ----- visited set (interior blocks) ----- */

static uint64_t hash64(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	v *= 0xc4ceb9fe1a85ec53ULL;
	v ^= v >> 33;
	return v;
}

/* Insert off; 1 if it was new, 0 if already present, -1 out of memory. */
static int visit(struct h2fsck *ctx, uint64_t off)
{
	uint64_t k = off + 1; /* 0 marks an empty slot */
	size_t i;

	if (ctx->vis_count * 2 >= ctx->vis_cap) {
		size_t ncap = ctx->vis_cap ? ctx->vis_cap * 2 : 1024;
		uint64_t *nv = calloc(ncap, sizeof(*nv));

		if (nv == NULL)
			return -1;
		for (i = 0; i < ctx->vis_cap; ++i) {
			size_t j;

			if (ctx->vis[i] == 0)
				continue;
			j = hash64(ctx->vis[i]) & (ncap - 1);
			while (nv[j] != 0)
				j = (j + 1) & (ncap - 1);
			nv[j] = ctx->vis[i];
		}
		free(ctx->vis);
		ctx->vis = nv;
		ctx->vis_cap = ncap;
	}
	i = hash64(k) & (ctx->vis_cap - 1);
	while (ctx->vis[i] != 0) {
		if (ctx->vis[i] == k)
			return 0;
		i = (i + 1) & (ctx->vis_cap - 1);
	}
	ctx->vis[i] = k;
	ctx->vis_count++;
	return 1;
}

static int add_extent(struct h2fsck *ctx, const hammer2_blockref_t *bref,
		      uint64_t off, uint32_t bytes)
{
	struct fsck_extent *e;

	if (ctx->next == ctx->maxext) {
		size_t n = ctx->maxext ? ctx->maxext * 2 : 1024;

		e = realloc(ctx->ext, n * sizeof(*e));
		if (e == NULL)
			return -1;
		ctx->ext = e;
		ctx->maxext = n;
	}
	e = &ctx->ext[ctx->next++];
	e->off = off;
	e->bytes = bytes;
	e->type = bref->type;
	e->keybits = bref->keybits;
	e->data_off = bref->data_off;
	e->key = bref->key;
	e->mirror_tid = bref->mirror_tid;
	return 0;
}

/* Freemap level index (0 leaf .. 4) of a freemap bref's keybits, or -1. */
static int freemap_level(int keybits)
{
	switch (keybits) {
	case HAMMER2_FREEMAP_LEVEL1_RADIX:
		return HAMMER2_ZONEFM_LEVEL1;
	case HAMMER2_FREEMAP_LEVEL2_RADIX:
		return HAMMER2_ZONEFM_LEVEL2;
	case HAMMER2_FREEMAP_LEVEL3_RADIX:
		return HAMMER2_ZONEFM_LEVEL3;
	case HAMMER2_FREEMAP_LEVEL4_RADIX:
		return HAMMER2_ZONEFM_LEVEL4;
	case HAMMER2_FREEMAP_LEVEL5_RADIX:
		return HAMMER2_ZONEFM_LEVEL5;
	}
	return -1;
}

static int is_freemap_type(int type)
{
	return type == HAMMER2_BREF_TYPE_FREEMAP_NODE ||
	       type == HAMMER2_BREF_TYPE_FREEMAP_LEAF;
}

/*
 * Placement rules: inside the volume, within one 64 KiB buffer, and only
 * freemap blocks (in their rotation slot) inside reserved segments.
 * Returns 0 if the block can be read, -1 if it must not be touched.
 */
static int check_placement(struct h2fsck *ctx, const hammer2_blockref_t *bref,
			   uint64_t off, uint32_t bytes)
{
	const hammer2_volume_data_t *vd = ctx->vd;
	uint64_t in_zone = off & HAMMER2_FREEMAP_LEVEL1_MASK;

	if (off & (HAMMER2_ALLOC_MIN - 1)) {
		h2fsck_error(ctx, bref, "data offset not 1 KiB aligned");
		return -1;
	}
	if (off >= ctx->volu_size || bytes > ctx->volu_size - off) {
		h2fsck_error(ctx, bref,
			     "block lies beyond the end of the volume "
			     "(0x%016jx)",
			     (uintmax_t)ctx->volu_size);
		return -1;
	}
	if ((off & ~HAMMER2_PBUFMASK64) !=
	    ((off + bytes - 1) & ~HAMMER2_PBUFMASK64)) {
		h2fsck_error(ctx, bref, "block crosses a 64 KiB boundary");
		return -1;
	}
	if (is_freemap_type(bref->type)) {
		int level = freemap_level(bref->keybits);
		uint64_t slot = in_zone / HAMMER2_PBUFSIZE;

		if (level < 0) {
			h2fsck_error(ctx, bref,
				     "freemap blockref with illegal "
				     "keybits %d",
				     bref->keybits);
		} else if (in_zone >= HAMMER2_ZONE_SEG64 ||
			   slot < HAMMER2_ZONE_FREEMAP_00 ||
			   slot >= HAMMER2_ZONE_FREEMAP_END ||
			   (int)((slot - HAMMER2_ZONE_FREEMAP_00) %
				 HAMMER2_ZONE_FREEMAP_INC) != level ||
			   (off & ~HAMMER2_FREEMAP_LEVEL1_MASK) !=
				   H2FMBASE(bref->key, bref->keybits)) {
			h2fsck_error(ctx, bref,
				     "freemap block is not in one of "
				     "its reserved rotation slots");
		}
		if (bref->type == HAMMER2_BREF_TYPE_FREEMAP_LEAF &&
		    level != HAMMER2_ZONEFM_LEVEL1) {
			h2fsck_error(ctx, bref,
				     "freemap leaf must have keybits "
				     "%d",
				     HAMMER2_FREEMAP_LEVEL1_RADIX);
		}
		if (bref->type == HAMMER2_BREF_TYPE_FREEMAP_NODE &&
		    level == HAMMER2_ZONEFM_LEVEL1) {
			h2fsck_error(ctx, bref,
				     "freemap node with leaf keybits");
		}
		return 0;
	}
	if (in_zone < HAMMER2_ZONE_SEG64) {
		h2fsck_error(ctx, bref,
			     "block inside the reserved segment of "
			     "zone %ju",
			     (uintmax_t)(off >> 30));
	} else if (off < vd->aux_end && off + bytes > vd->boot_beg) {
		h2fsck_error(ctx, bref, "block inside the boot/aux area");
	}
	return 0;
}

/* Validate an inode's meta-data; returns 0 if its blockset is usable. */
static int check_inode(struct h2fsck *ctx, const hammer2_blockref_t *bref,
		       const hammer2_inode_data_t *ip,
		       const struct fsck_parent *pp)
{
	const hammer2_inode_meta_t *m = &ip->meta;
	int ok = 0;

	if (m->version != HAMMER2_INODE_VERSION_ONE) {
		h2fsck_error(ctx, bref, "inode version %u unsupported",
			     m->version);
		ok = -1;
	}
	if (m->name_len > HAMMER2_INODE_MAXNAME) {
		h2fsck_error(ctx, bref, "inode name_len %u > %d", m->name_len,
			     HAMMER2_INODE_MAXNAME);
		ok = -1;
	}
	switch (m->type) {
	case HAMMER2_OBJTYPE_DIRECTORY:
	case HAMMER2_OBJTYPE_REGFILE:
	case HAMMER2_OBJTYPE_HARDLINK:
	case HAMMER2_OBJTYPE_FIFO:
	case HAMMER2_OBJTYPE_CDEV:
	case HAMMER2_OBJTYPE_BDEV:
	case HAMMER2_OBJTYPE_SOFTLINK:
	case HAMMER2_OBJTYPE_SOCKET:
	case HAMMER2_OBJTYPE_WHITEOUT:
		break;
	default:
		h2fsck_error(ctx, bref, "inode type %u invalid", m->type);
		ok = -1;
	}
	if (bref->keybits != 0)
		h2fsck_error(ctx, bref, "inode blockref keybits must be 0");

	if (pp->kind == KIND_VOLUME) {
		if (m->pfs_type != HAMMER2_PFSTYPE_SUPROOT)
			h2fsck_error(ctx, bref,
				     "super-root inode has pfs_type "
				     "%u, expected SUPROOT",
				     m->pfs_type);
		if (m->type != HAMMER2_OBJTYPE_DIRECTORY)
			h2fsck_error(ctx, bref,
				     "super-root is not a directory");
	} else if (m->name_len <= HAMMER2_INODE_MAXNAME) {
		if (pp->kind == KIND_SUPROOT &&
		    !(m->op_flags & HAMMER2_OPFLAG_PFSROOT))
			h2fsck_error(ctx, bref,
				     "PFS root inode lacks the "
				     "PFSROOT op flag");
		if (bref->key & HAMMER2_DIRHASH_VISIBLE) {
			hammer2_key_t h =
				hammer2_dirhash(ip->filename, m->name_len);

			if ((m->name_key & ~HAMMER2_DIRHASH_LOMASK) !=
			    (h & ~HAMMER2_DIRHASH_LOMASK))
				h2fsck_error(ctx, bref,
					     "name_key 0x%016jx does "
					     "not match the hash of its name "
					     "(0x%016jx)",
					     (uintmax_t)m->name_key,
					     (uintmax_t)h);
			if (bref->key != m->name_key)
				h2fsck_error(ctx, bref,
					     "blockref key differs "
					     "from the inode's name_key "
					     "0x%016jx",
					     (uintmax_t)m->name_key);
		} else if (bref->key != m->inum) {
			h2fsck_error(ctx, bref,
				     "hidden inode keyed 0x%016jx "
				     "but its inum is 0x%016jx",
				     (uintmax_t)bref->key, (uintmax_t)m->inum);
		}
	}
	if ((m->op_flags & HAMMER2_OPFLAG_DIRECTDATA) &&
	    m->size > HAMMER2_EMBEDDED_BYTES) {
		h2fsck_error(ctx, bref, "DIRECTDATA inode of size %ju > %d",
			     (uintmax_t)m->size, HAMMER2_EMBEDDED_BYTES);
		ok = -1;
	}
	if (m->type != HAMMER2_OBJTYPE_DIRECTORY && pp->kind == KIND_VOLUME)
		ok = -1;
	return ok;
}

/* Store a freemap leaf for the freemap pass. */
static void keep_leaf(struct h2fsck *ctx, const hammer2_blockref_t *bref,
		      const void *data, uint32_t bytes)
{
	uint64_t zone = bref->key >> HAMMER2_FREEMAP_LEVEL1_RADIX;
	hammer2_bmap_data_t *copy;

	if (bytes != HAMMER2_FREEMAP_LEVELN_PSIZE) {
		h2fsck_error(ctx, bref, "freemap leaf of %u bytes, expected %d",
			     bytes, HAMMER2_FREEMAP_LEVELN_PSIZE);
		return;
	}
	if (bref->keybits != HAMMER2_FREEMAP_LEVEL1_RADIX)
		return; /* already reported */
	if (zone >= ctx->nzones) {
		h2fsck_error(ctx, bref,
			     "freemap leaf covers space beyond the "
			     "end of the volume");
		return;
	}
	if (ctx->leaf[zone] != NULL) {
		h2fsck_error(ctx, bref, "second freemap leaf for zone %ju",
			     (uintmax_t)zone);
		return;
	}
	copy = malloc(bytes);
	if (copy == NULL) {
		h2fsck_error(ctx, bref, "out of memory keeping freemap leaf");
		h2fsck_fail(ctx, ENOMEM);
		return;
	}
	memcpy(copy, data, bytes);
	ctx->leaf[zone] = copy;
	ctx->nleaves++;
}

static void check_bref(struct h2fsck *ctx, const hammer2_blockref_t *bref,
		       const struct fsck_parent *pp, int depth)
{
	uint64_t off = bref->data_off & ~HAMMER2_OFF_MASK_RADIX;
	int radix = (int)(bref->data_off & HAMMER2_OFF_MASK_RADIX);
	uint32_t bytes =
		(radix >= HAMMER2_RADIX_MIN && radix <= HAMMER2_RADIX_MAX) ?
			(uint32_t)1 << radix :
			0;
	int check = HAMMER2_DEC_CHECK(bref->methods);
	int comp = HAMMER2_DEC_COMP(bref->methods);
	struct fsck_parent child;
	uint8_t *data = NULL;
	int r;

	if (bref->type < H2FSCK_NTYPES)
		ctx->count[ctx->tree][bref->type]++;
	h2fsck_trace(ctx, bref, depth, "%u bytes", bytes);

	if (bref->type == HAMMER2_BREF_TYPE_EMPTY ||
	    bref->type >= HAMMER2_BREF_TYPE_INVALID) {
		h2fsck_error(ctx, bref, "unknown blockref type %u", bref->type);
		return;
	}
	if (!type_allowed(pp->kind, bref->type)) {
		h2fsck_error(ctx, bref, "%s blockref not allowed below %s",
			     h2fsck_type_name(bref->type), kind_name(pp->kind));
		return;
	}
	if (depth > H2FSCK_MAX_DEPTH) {
		h2fsck_error(ctx, bref, "tree deeper than %d levels",
			     H2FSCK_MAX_DEPTH);
		return;
	}

	/* Key range. */
	if (bref->keybits > 64) {
		h2fsck_error(ctx, bref, "keybits %u > 64", bref->keybits);
		return;
	}
	if (bref->keybits < 64 &&
	    (bref->key & (((hammer2_key_t)1 << bref->keybits) - 1)) != 0)
		h2fsck_error(ctx, bref, "key not aligned to its keybits");
	if (pp->keybits < 64 &&
	    (bref->key < pp->key ||
	     key_end(bref->key, bref->keybits) > key_end(pp->key, pp->keybits)))
		h2fsck_error(ctx, bref,
			     "key range outside the parent's range "
			     "%016jx/%d",
			     (uintmax_t)pp->key, pp->keybits);
	/*
	 * A flush writes a parent at the tid of its newest child, so no bref
	 * is above its parent's mirror_tid (at the top: the header's, the
	 * volume's tid iterator); freemap recovery prunes by it and refuses
	 * a tree that breaks it.
	 */
	if (bref->mirror_tid > pp->mirror_tid)
		h2fsck_error(ctx, bref,
			     "mirror_tid 0x%jx above the parent's "
			     "0x%jx",
			     (uintmax_t)bref->mirror_tid,
			     (uintmax_t)pp->mirror_tid);
	if (bref->modify_tid > ctx->vd->mirror_tid)
		h2fsck_error(ctx, bref,
			     "modify_tid 0x%jx above the volume's "
			     "mirror_tid 0x%jx",
			     (uintmax_t)bref->modify_tid,
			     (uintmax_t)ctx->vd->mirror_tid);
	if (check > HAMMER2_CHECK_FREEMAP)
		h2fsck_error(ctx, bref, "unknown check method %d", check);

	/* Media. */
	if (bref->type == HAMMER2_BREF_TYPE_DIRENT) {
		unsigned namlen = bref->embed.dirent.namlen;

		if (namlen > HAMMER2_INODE_MAXNAME)
			h2fsck_error(ctx, bref, "dirent name length %u > %d",
				     namlen, HAMMER2_INODE_MAXNAME);
		if (radix == 0) {
			if (namlen > sizeof(bref->check.buf))
				h2fsck_error(ctx, bref,
					     "dirent name of %u bytes "
					     "has no data block",
					     namlen);
			return;
		}
	}
	if (radix == 0) {
		h2fsck_error(ctx, bref, "blockref has no media (size radix 0)");
		return;
	}
	if (radix < HAMMER2_RADIX_MIN || radix > HAMMER2_RADIX_MAX) {
		h2fsck_error(ctx, bref, "data_off size radix %d outside %d..%d",
			     radix, HAMMER2_RADIX_MIN, HAMMER2_RADIX_MAX);
		return;
	}
	if (check_placement(ctx, bref, off, bytes) < 0)
		return;
	if (add_extent(ctx, bref, off, bytes) < 0) {
		h2fsck_error(ctx, bref, "out of memory");
		h2fsck_fail(ctx, ENOMEM);
		return;
	}
	ctx->bytes[ctx->tree] += bytes;

	if (bref->type != HAMMER2_BREF_TYPE_DATA &&
	    bref->type != HAMMER2_BREF_TYPE_DIRENT) {
		r = visit(ctx, off);
		if (r < 0) {
			h2fsck_error(ctx, bref, "out of memory");
			h2fsck_fail(ctx, ENOMEM);
			return;
		}
		if (r == 0) {
			h2fsck_error(ctx, bref,
				     "block referenced more than once "
				     "(loop or shared interior block)");
			return;
		}
	}
	if (bref->type == HAMMER2_BREF_TYPE_INODE &&
	    bytes != HAMMER2_INODE_BYTES) {
		h2fsck_error(ctx, bref, "inode block of %u bytes, expected %d",
			     bytes, HAMMER2_INODE_BYTES);
		return;
	}

	data = malloc(bytes);
	if (data == NULL) {
		h2fsck_error(ctx, bref, "out of memory");
		h2fsck_fail(ctx, ENOMEM);
		return;
	}
	r = h2fsck_read(ctx, data, bytes, off);
	if (r != 0) {
		h2fsck_error(ctx, bref, "%s",
			     r < 0 ? "read error" :
				     "block lies beyond the end of the device");
		goto out;
	}
	if (check <= HAMMER2_CHECK_FREEMAP &&
	    !hammer2_bref_testcheck(bref, data, bytes)) {
		h2fsck_error(ctx, bref, "check code mismatch (method %d)",
			     check);
		goto out;
	}

	switch (bref->type) {
	case HAMMER2_BREF_TYPE_DATA:
		if (comp == HAMMER2_COMP_LZ4 || comp == HAMMER2_COMP_ZLIB) {
			uint8_t *out;

			if (bref->vradix < HAMMER2_RADIX_MIN ||
			    bref->vradix > HAMMER2_RADIX_MAX) {
				h2fsck_error(ctx, bref,
					     "compressed block with "
					     "logical radix %u",
					     bref->vradix);
				break;
			}
			out = malloc((size_t)1 << bref->vradix);
			if (out == NULL) {
				h2fsck_error(ctx, bref, "out of memory");
				h2fsck_fail(ctx, ENOMEM);
				break;
			}
			if (hammer2_decompress_block(
				    comp, data, bytes, out,
				    (uint32_t)1 << bref->vradix) < 0)
				h2fsck_error(ctx, bref, "decompression failed");
			free(out);
		} else if (comp > HAMMER2_COMP_ZLIB) {
			h2fsck_error(ctx, bref, "unknown compression %d", comp);
		}
		break;
	case HAMMER2_BREF_TYPE_DIRENT:
		if (bref->embed.dirent.namlen > bytes)
			h2fsck_error(ctx, bref,
				     "dirent name longer than its "
				     "block");
		break;
	case HAMMER2_BREF_TYPE_INODE: {
		const hammer2_inode_data_t *ip = (const void *)data;

		if (check_inode(ctx, bref, ip, pp) < 0)
			break;
		if (ip->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA)
			break;
		memset(&child, 0, sizeof(child));
		if (pp->kind == KIND_VOLUME)
			child.kind = KIND_SUPROOT;
		else if (ip->meta.type == HAMMER2_OBJTYPE_DIRECTORY)
			child.kind = KIND_DIR;
		else
			child.kind = KIND_FILE;
		child.key = 0;
		child.keybits = 64;
		child.mirror_tid = bref->mirror_tid;
		check_base(ctx, ip->u.blockset.blockref, HAMMER2_SET_COUNT,
			   &child, depth + 1);
		break;
	}
	case HAMMER2_BREF_TYPE_INDIRECT:
	case HAMMER2_BREF_TYPE_FREEMAP_NODE:
		if (bytes < HAMMER2_BLOCKREF_BYTES * 2) {
			h2fsck_error(ctx, bref,
				     "interior block of %u bytes is "
				     "too small",
				     bytes);
			break;
		}
		child = *pp;
		child.key = bref->key;
		child.keybits = bref->keybits;
		child.mirror_tid = bref->mirror_tid;
		check_base(ctx, (const hammer2_blockref_t *)data,
			   (int)(bytes / HAMMER2_BLOCKREF_BYTES), &child,
			   depth + 1);
		break;
	case HAMMER2_BREF_TYPE_FREEMAP_LEAF:
		keep_leaf(ctx, bref, data, bytes);
		break;
	}
out:
	free(data);
}

/*
 * A blockset or indirect block: live entries must come first (packed)
 * and be sorted by key with disjoint key ranges.
 */
static void check_base(struct h2fsck *ctx, const hammer2_blockref_t *base,
		       int count, const struct fsck_parent *pp, int depth)
{
	const hammer2_blockref_t *prev = NULL;
	int i, seen_empty = 0, live = 0;

	for (i = 0; i < count; ++i) {
		const hammer2_blockref_t *bref = &base[i];

		if (bref->type == HAMMER2_BREF_TYPE_EMPTY) {
			ctx->empty[ctx->tree]++;
			seen_empty = 1;
			continue;
		}
		if (seen_empty)
			h2fsck_error(ctx, bref,
				     "live entry %d follows an empty "
				     "one (array not packed)",
				     i);
		if (prev != NULL && bref->keybits <= 64 &&
		    prev->keybits <= 64 &&
		    (bref->key <= prev->key ||
		     bref->key <= key_end(prev->key, prev->keybits)))
			h2fsck_error(ctx, bref,
				     "entry %d not sorted after "
				     "%016jx/%d (keys out of order or "
				     "overlapping)",
				     i, (uintmax_t)prev->key, prev->keybits);
		prev = bref;
		++live;
		check_bref(ctx, bref, pp, depth);
	}
	if (pp->kind == KIND_VOLUME && live == 0)
		h2fsck_error(ctx, NULL,
			     "volume header has no super-root inode");
}

static int extent_cmp(const void *a, const void *b)
{
	const struct fsck_extent *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? -1 : 1;
	return 0;
}

static void extent_bref(const struct fsck_extent *e, hammer2_blockref_t *b)
{
	memset(b, 0, sizeof(*b));
	b->type = e->type;
	b->key = e->key;
	b->keybits = e->keybits;
	b->data_off = e->data_off;
}

/* No two blockrefs may reference overlapping media (dedup'd DATA aside). */
static void check_overlaps(struct h2fsck *ctx)
{
	size_t i, last = 0;
	uint64_t end = 0;
	hammer2_blockref_t a, b;

	if (ctx->next == 0)
		return;
	qsort(ctx->ext, ctx->next, sizeof(*ctx->ext), extent_cmp);
	for (i = 0; i < ctx->next; ++i) {
		const struct fsck_extent *e = &ctx->ext[i];
		const struct fsck_extent *p = &ctx->ext[last];

		if (i > 0 && e->off < end) {
			if (e->off == p->off && e->bytes == p->bytes &&
			    e->type == p->type) {
				/*
				 * Identical references: DATA may be shared by
				 * dedup; interior blocks were already reported
				 * by the walk's visited check.
				 */
				if (e->type == HAMMER2_BREF_TYPE_DATA ||
				    e->type == HAMMER2_BREF_TYPE_DIRENT)
					ctx->dedup_refs++;
			} else {
				extent_bref(e, &a);
				extent_bref(p, &b);
				h2fsck_error(ctx, &a,
					     "media overlaps %s block "
					     "%016jx",
					     h2fsck_type_name(b.type),
					     (uintmax_t)b.data_off);
			}
		}
		if (e->off + e->bytes > end) {
			end = e->off + e->bytes;
			last = i;
		}
	}
}

/* 2-bit freemap state of the 16 KiB chunk at off (leaf present). */
static int leaf_state(const hammer2_bmap_data_t *leaf, uint64_t off)
{
	const hammer2_bmap_data_t *bmap =
		&leaf[(off & HAMMER2_FREEMAP_LEVEL1_MASK) >>
		      HAMMER2_FREEMAP_LEVEL0_RADIX];
	unsigned chunk = (unsigned)((off & HAMMER2_FREEMAP_LEVEL0_MASK) >>
				    HAMMER2_FREEMAP_BLOCK_RADIX);

	return (int)((bmap->bitmapq[chunk / HAMMER2_BMAP_BLOCKS_PER_ELEMENT] >>
		      ((chunk % HAMMER2_BMAP_BLOCKS_PER_ELEMENT) * 2)) &
		     3);
}

/* Bytes below which / from which a fresh leaf marks everything allocated. */
static uint64_t static_lokey(const struct h2fsck *ctx)
{
	return (ctx->vd->allocator_beg + HAMMER2_FREEMAP_LEVEL0_MASK) &
	       ~HAMMER2_FREEMAP_LEVEL0_MASK;
}

static uint64_t static_hikey(const struct h2fsck *ctx)
{
	return ctx->volu_size & ~HAMMER2_FREEMAP_LEVEL0_MASK;
}

/* State of a chunk in a zone without a leaf (kernel freemap_init rules). */
static int implicit_state(const struct h2fsck *ctx, uint64_t off)
{
	uint64_t seg = off & ~HAMMER2_FREEMAP_LEVEL0_MASK;

	if (seg < static_lokey(ctx) ||
	    (off & HAMMER2_FREEMAP_LEVEL1_MASK) < HAMMER2_ZONE_SEG64 ||
	    seg >= static_hikey(ctx))
		return 3;
	return 0;
}

static void set_bit(uint8_t *map, uint64_t n)
{
	map[n >> 3] |= (uint8_t)(1u << (n & 7));
}

static int test_bit(const uint8_t *map, uint64_t n)
{
	return (map[n >> 3] >> (n & 7)) & 1;
}

/*
 * Every referenced block must be marked allocated (11); chunks marked
 * allocated without a reference are leaked (summary only); bmap avail
 * must be consistent with the bitmap.
 */
static int check_freemap(struct h2fsck *ctx)
{
	uint64_t nchunks = (ctx->volu_size + HAMMER2_FREEMAP_BLOCK_MASK) >>
			   HAMMER2_FREEMAP_BLOCK_RADIX;
	uint8_t *refmap = calloc((size_t)(nchunks / 8 + 1), 1);
	uint64_t lokey = static_lokey(ctx), hikey = static_hikey(ctx);
	size_t i, z;

	if (refmap == NULL)
		return -1;
	for (i = 0; i < ctx->next; ++i) {
		const struct fsck_extent *e = &ctx->ext[i];
		uint64_t c, first, last;
		int worst = 3, st;
		hammer2_blockref_t b;

		if (is_freemap_type(e->type))
			continue;
		first = e->off >> HAMMER2_FREEMAP_BLOCK_RADIX;
		last = (e->off + e->bytes - 1) >> HAMMER2_FREEMAP_BLOCK_RADIX;
		for (c = first; c <= last && c < nchunks; ++c) {
			uint64_t coff = c << HAMMER2_FREEMAP_BLOCK_RADIX;
			const hammer2_bmap_data_t *leaf =
				ctx->leaf[coff >> HAMMER2_FREEMAP_LEVEL1_RADIX];

			set_bit(refmap, c);
			st = leaf ? leaf_state(leaf, coff) :
				    implicit_state(ctx, coff);
			if (st != 3)
				worst = st;
		}
		if (worst == 3)
			continue;
		/*
		 * Written after the freemap on the media (a commit for fsync
		 * leaves the freemap out): the next read-write mount marks
		 * it (hammer2_freemap_recover), so it is no error.
		 */
		if (worst == 0 && e->mirror_tid > ctx->vd->freemap_tid) {
			ctx->recover_bytes += e->bytes;
			continue;
		}
		extent_bref(e, &b);
		if (worst == 0)
			h2fsck_error(ctx, &b,
				     "referenced block is marked free "
				     "(00) in the freemap%s",
				     ctx->leaf[e->off >>
					       HAMMER2_FREEMAP_LEVEL1_RADIX] ?
					     "" :
					     " (no leaf for its zone)");
		else if (worst == 2)
			h2fsck_error(ctx, &b,
				     "referenced block is marked "
				     "staged-free (10) in the freemap");
		else
			h2fsck_error(ctx, &b,
				     "referenced block has the illegal "
				     "freemap state 01");
	}

	for (z = 0; z < ctx->nzones; ++z) {
		const hammer2_bmap_data_t *leaf = ctx->leaf[z];
		int n;

		if (leaf == NULL)
			continue;
		for (n = 0; n < HAMMER2_FREEMAP_COUNT; ++n) {
			const hammer2_bmap_data_t *bmap = &leaf[n];
			uint64_t seg =
				((uint64_t)z << 30) + ((uint64_t)n << 22);
			uint64_t freeb = 0;
			int c, st;

			for (c = 0; c < (int)(HAMMER2_FREEMAP_LEVEL0_SIZE /
					      HAMMER2_FREEMAP_BLOCK_SIZE);
			     ++c) {
				uint64_t coff = seg + ((uint64_t)c << 14);
				uint64_t chunk = coff >> 14;

				st = leaf_state(leaf, coff);
				if (st == 0) {
					freeb += HAMMER2_FREEMAP_BLOCK_SIZE;
					continue;
				}
				if (st == 1) {
					h2fsck_error(ctx, NULL,
						     "freemap chunk "
						     "0x%016jx has the illegal "
						     "state 01",
						     (uintmax_t)coff);
					continue;
				}
				/* Statically allocated areas are no leak. */
				if (seg < lokey || seg >= hikey || n == 0 ||
				    chunk >= nchunks)
					continue;
				if (test_bit(refmap, chunk))
					continue;
				if (st == 3)
					ctx->leaked_bytes +=
						HAMMER2_FREEMAP_BLOCK_SIZE;
				else
					ctx->staged_bytes +=
						HAMMER2_FREEMAP_BLOCK_SIZE;
			}
			if (bmap->avail > HAMMER2_FREEMAP_LEVEL0_SIZE)
				h2fsck_error(ctx, NULL,
					     "freemap bmap 0x%016jx: "
					     "avail %u exceeds 4 MiB",
					     (uintmax_t)seg, bmap->avail);
			else if (bmap->avail < freeb)
				h2fsck_error(ctx, NULL,
					     "freemap bmap 0x%016jx: "
					     "avail %u is less than the %ju "
					     "bytes marked free",
					     (uintmax_t)seg, bmap->avail,
					     (uintmax_t)freeb);
		}
	}
	free(refmap);
	return 0;
}

int h2fsck_walk(struct h2fsck *ctx)
{
	struct fsck_parent top;
	size_t z;
	int rc;

	ctx->nzones = (size_t)((ctx->volu_size + HAMMER2_FREEMAP_LEVEL1_MASK) >>
			       HAMMER2_FREEMAP_LEVEL1_RADIX);
	ctx->leaf = calloc(ctx->nzones + 1, sizeof(*ctx->leaf));
	if (ctx->leaf == NULL)
		return -1;

	memset(&top, 0, sizeof(top));
	top.kind = KIND_VOLUME;
	top.keybits = 64;
	top.mirror_tid = ctx->vd->mirror_tid;
	ctx->tree = 0;
	check_base(ctx, ctx->vd->sroot_blockset.blockref, HAMMER2_SET_COUNT,
		   &top, 0);

	top.kind = KIND_FREEMAP;
	top.mirror_tid = ctx->vd->freemap_tid;
	ctx->tree = 1;
	check_base(ctx, ctx->vd->freemap_blockset.blockref, HAMMER2_SET_COUNT,
		   &top, 0);

	check_overlaps(ctx);
	rc = check_freemap(ctx);

	for (z = 0; z < ctx->nzones; ++z)
		free(ctx->leaf[z]);
	free(ctx->leaf);
	ctx->leaf = NULL;
	free(ctx->ext);
	ctx->ext = NULL;
	free(ctx->vis);
	ctx->vis = NULL;
	return rc;
}
