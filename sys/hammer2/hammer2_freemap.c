/*
 * hammer2_freemap.c - HAMMER2's freemap: allocation and freeing of blocks.
 *
 *				FREEMAP
 *
 * The freemap is a tree below the volume header's freemap_blockset:
 * FREEMAP_LEAF blocks (32 KiB, 1 GiB each, keybits 30) hold 256 bmaps of
 * 4 MiB; each bmap has 2 bits per 16 KiB chunk (00 free, 11 allocated), a
 * clustering class, a linear iterator for sub-16 KiB pieces and the bytes
 * available.  FREEMAP_NODEs (keybits 38/46/54/62) appear when more than 4
 * leaves exist.  Freemap blocks are never allocated from the freemap:
 * they live in the 4 MiB reserved segment at the start of each 1 GiB, in
 * one of 8 rotating sets (hammer2_freemap_reserve).
 *
 * Leaves are created on first use; a new leaf marks allocated: everything
 * below allocator_beg (newfs's linear allocations, boot and aux areas),
 * the reserved segment, and anything past the end of the volume.
 *
 * Allocation happens only during a flush, so a block freed by flush N is
 * applied to the bitmap after flush N's allocations and can be reused by
 * flush N+1 at the earliest (docs/DESIGN.md).
 *
 * voldata.allocator_free counts free bytes at 16 KiB chunk granularity,
 * exactly the sum of the bmaps' avail (a chunk holding any piece counts as
 * used).
 *
 * All functions require the device lock.
 */
#include "hammer2.h"

#define CHUNK HAMMER2_FREEMAP_BLOCK_SIZE
#define CHUNKS_PER_BMAP (HAMMER2_SEGSIZE / CHUNK)

/* Class of an allocation: blockref type and size radix. */
static uint16_t freemap_class(int type, int radix)
{
	return (uint16_t)((type << 8) | radix);
}

/* Index into hmp->heur_base[] for a class. */
static int heur_index(int type, int radix)
{
	return ((type & 7) << 3) | ((radix - HAMMER2_RADIX_MIN) & 7);
}

static int bitmap_get(const hammer2_bmap_data_t *bmap, int chunk)
{
	return (int)((bmap->bitmapq[chunk >> 5] >> ((chunk & 31) * 2)) & 3);
}

static void bitmap_set(hammer2_bmap_data_t *bmap, int chunk, int v)
{
	int sh = (chunk & 31) * 2;

	bmap->bitmapq[chunk >> 5] &= ~((hammer2_bitmap_t)3 << sh);
	bmap->bitmapq[chunk >> 5] |= (hammer2_bitmap_t)v << sh;
}

/*
 * Is the chunk at off never allocatable?  As DragonFly initialises leaves:
 * whole 4 MiB bmaps below roundup(allocator_beg, 4 MiB), the reserved
 * 4 MiB at the start of every 1 GiB, and anything past the volume's end.
 */
static int chunk_is_fixed(hammer2_dev_t *hmp, hammer2_off_t off)
{
	hammer2_off_t beg =
		(hmp->voldata.allocator_beg + HAMMER2_FREEMAP_LEVEL0_MASK) &
		~HAMMER2_FREEMAP_LEVEL0_MASK;

	if (off < beg)
		return 1;
	if ((off & HAMMER2_FREEMAP_LEVEL1_MASK) < HAMMER2_ZONE_SEG64)
		return 1;
	if (off + CHUNK > hmp->volu_size)
		return 1;
	return 0;
}

/* Is the 4 MiB bmap at off never allocatable (freemap_init_leaf)? */
static int bmap_is_fixed(hammer2_dev_t *hmp, hammer2_off_t off)
{
	return chunk_is_fixed(hmp, off) ||
	       off + HAMMER2_SEGSIZE > hmp->volu_size;
}

/*
 * Initialise a new leaf covering [key, key + 1 GiB): fixed bmaps are fully
 * allocated (bitmap all ones, avail 0, linear 4 MiB), the others free.
 */
static void freemap_init_leaf(hammer2_dev_t *hmp, hammer2_chain_t *leaf)
{
	hammer2_bmap_data_t *bmap = (hammer2_bmap_data_t *)leaf->data;
	hammer2_off_t off = leaf->bref.key;
	uint64_t total = 0;
	int i, k;

	for (i = 0; i < HAMMER2_FREEMAP_COUNT;
	     i++, bmap++, off += HAMMER2_SEGSIZE) {
		if (bmap_is_fixed(hmp, off)) {
			for (k = 0; k < HAMMER2_BMAP_ELEMENTS; k++)
				bmap->bitmapq[k] = HAMMER2_BMAP_ALLONES;
			bmap->avail = 0;
			bmap->linear = HAMMER2_SEGSIZE;
		} else {
			bmap->avail = HAMMER2_SEGSIZE;
		}
		total += bmap->avail;
	}
	leaf->bref.check.freemap.avail = total;
	leaf->bref.check.freemap.bigmask = (uint32_t)-1;
}

/*
 * The leaf of the 1 GiB zone at key, referenced, or NULL when the zone has
 * none yet.  Errors: media errors, BADBREF (not a leaf there).
 */
static int freemap_leaf_find(hammer2_dev_t *hmp, hammer2_key_t key,
			     hammer2_chain_t **leafp)
{
	hammer2_chain_t *leaf;
	int error;

	*leafp = NULL;
	leaf = hammer2_chain_lookup(&hmp->fchain, key,
				    key + HAMMER2_FREEMAP_LEVEL1_MASK, 0,
				    &error);
	if (error)
		return error;
	if (leaf && leaf->bref.type != HAMMER2_BREF_TYPE_FREEMAP_LEAF) {
		hammer2_chain_drop(leaf);
		return HAMMER2_ERROR_BADBREF;
	}
	*leafp = leaf;
	return 0;
}

/*
 * The leaf covering device offset off, created and initialised when
 * missing; referenced and loaded.  Errors: media errors, ENOMEM.
 */
static int freemap_leaf(hammer2_dev_t *hmp, hammer2_off_t off,
			hammer2_chain_t **leafp)
{
	hammer2_key_t key = H2FMZONEBASE(off);
	hammer2_chain_t *leaf;
	int error;

	error = freemap_leaf_find(hmp, key, &leaf);
	if (error)
		return error;
	if (leaf == NULL) {
		error = hammer2_chain_create(
			&hmp->fchain, &leaf, HAMMER2_BREF_TYPE_FREEMAP_LEAF,
			key, HAMMER2_FREEMAP_LEVEL1_RADIX,
			HAMMER2_FREEMAP_LEVELN_PSIZE,
			HAMMER2_ENC_CHECK(HAMMER2_CHECK_FREEMAP));
		if (error)
			return error;
		freemap_init_leaf(hmp, leaf);
	}
	*leafp = leaf;
	return 0;
}

/*
 * ---- tracking of 1 KiB pieces of chunks claimed by this mount ----
 * (struct hammer2_offtab; recovery uses one as its visited set)
 */

static size_t sub_hash(hammer2_off_t off, size_t cap)
{
	return (size_t)((off >> 14) * 0x9E3779B97F4A7C15ULL >> 20) & (cap - 1);
}

static struct hammer2_subchunk *sub_find(struct hammer2_offtab *t,
					 hammer2_off_t chunk)
{
	size_t i;

	if (t->cap == 0)
		return NULL;
	for (i = sub_hash(chunk, t->cap);; i = (i + 1) & (t->cap - 1)) {
		if (t->v[i].off == 0)
			return NULL;
		if (t->v[i].off == chunk + 1)
			return &t->v[i];
	}
}

static int sub_insert(struct hammer2_offtab *t, hammer2_off_t chunk,
		      uint16_t mask);

static int sub_grow(struct hammer2_offtab *t)
{
	struct hammer2_subchunk *old = t->v;
	size_t oldcap = t->cap, i;

	t->cap = oldcap ? oldcap * 2 : 1024;
	t->v = hammer2_alloc(sizeof(*old) * t->cap);
	if (t->v == NULL) {
		t->v = old;
		t->cap = oldcap;
		return HAMMER2_ERROR_ENOMEM;
	}
	t->count = 0;
	for (i = 0; i < oldcap; i++)
		if (old[i].off)
			sub_insert(t, old[i].off - 1, old[i].mask);
	hammer2_free(old);
	return 0;
}

static int sub_insert(struct hammer2_offtab *t, hammer2_off_t chunk,
		      uint16_t mask)
{
	size_t i;

	if ((t->count + 1) * 2 > t->cap && sub_grow(t))
		return HAMMER2_ERROR_ENOMEM;
	for (i = sub_hash(chunk, t->cap); t->v[i].off;
	     i = (i + 1) & (t->cap - 1))
		;
	t->v[i].off = chunk + 1;
	t->v[i].mask = mask;
	t->count++;
	return 0;
}

/* Remove an entry, re-inserting the rest of its probe cluster. */
static void sub_remove(struct hammer2_offtab *t, struct hammer2_subchunk *e)
{
	size_t i = (size_t)(e - t->v);

	t->v[i].off = 0;
	t->count--;
	for (i = (i + 1) & (t->cap - 1); t->v[i].off;
	     i = (i + 1) & (t->cap - 1)) {
		struct hammer2_subchunk moved = t->v[i];
		t->v[i].off = 0;
		t->count--;
		sub_insert(t, moved.off - 1, moved.mask);
	}
}

static uint16_t piece_mask(hammer2_off_t off, uint32_t bytes)
{
	int first = (int)((off & (CHUNK - 1)) >> 10);
	int n = (int)(bytes >> 10);

	return (uint16_t)(((1u << n) - 1) << first);
}

/*
 * ---- the fence: chunks freed by a flush not yet committed ----
 * (hmp->fenced; see hammer2.h)
 */

/* Record the 16 KiB chunk at off as freed by the flush in progress. */
static void fence_add(hammer2_dev_t *hmp, hammer2_off_t off)
{
	off &= ~(hammer2_off_t)(CHUNK - 1);
	if (sub_find(&hmp->fenced, off) == NULL &&
	    sub_insert(&hmp->fenced, off, 0))
		hmp->fence_full = 1;
}

/* Is any chunk of [off, off + size) fenced?  (size: whole chunks) */
static int fence_hit(hammer2_dev_t *hmp, hammer2_off_t off, uint32_t size)
{
	uint32_t k;

	if (hmp->fenced.count == 0)
		return 0;
	for (k = 0; k < size; k += CHUNK)
		if (sub_find(&hmp->fenced, off + k))
			return 1;
	return 0;
}

/* See hammer2.h. */
void hammer2_freemap_fence_clear(hammer2_dev_t *hmp)
{
	hammer2_free(hmp->fenced.v);
	hmp->fenced.v = NULL;
	hmp->fenced.cap = 0;
	hmp->fenced.count = 0;
	hmp->fence_full = 0;
}

/* ---------------- allocation ---------------- */

/*
 * Try to allocate 2^radix bytes from one bmap based at device offset base.
 * Returns 1 and *offp on success.
 */
static int bmap_alloc(hammer2_dev_t *hmp, hammer2_bmap_data_t *bmap,
		      hammer2_off_t base, int radix, hammer2_off_t *offp)
{
	uint32_t size = (uint32_t)1 << radix;
	int c, n, k;

	if (size < CHUNK) {
		int32_t lin = bmap->linear;

		/* continue in the partially used chunk of the iterator */
		if (lin > 0 && lin < HAMMER2_SEGSIZE && (lin & (CHUNK - 1)) &&
		    (lin & 1023) == 0 &&
		    (uint32_t)(lin & (CHUNK - 1)) + size <= CHUNK &&
		    bitmap_get(bmap, lin >> 14) == 3) {
			hammer2_off_t off = base + (hammer2_off_t)lin;
			struct hammer2_subchunk *e = sub_find(
				&hmp->subs, off & ~(hammer2_off_t)(CHUNK - 1));

			if (e)
				e->mask |= piece_mask(off, size);
			bmap->linear = lin + (int32_t)size;
			*offp = off;
			return 1;
		}
		for (c = 0; c < CHUNKS_PER_BMAP; c++) {
			if (bitmap_get(bmap, c) != 0 ||
			    fence_hit(hmp, base + (hammer2_off_t)c * CHUNK,
				      CHUNK))
				continue;
			bitmap_set(bmap, c, 3);
			bmap->avail -= CHUNK;
			hmp->voldata.allocator_free -= CHUNK;
			bmap->linear = (int32_t)(c * CHUNK + size);
			*offp = base + (hammer2_off_t)c * CHUNK;
			sub_insert(&hmp->subs, *offp, piece_mask(*offp, size));
			return 1;
		}
		return 0;
	}
	n = (int)(size / CHUNK);
	for (c = 0; c + n <= CHUNKS_PER_BMAP; c += n) {
		for (k = 0; k < n; k++)
			if (bitmap_get(bmap, c + k) != 0)
				break;
		if (k < n ||
		    fence_hit(hmp, base + (hammer2_off_t)c * CHUNK, size))
			continue;
		for (k = 0; k < n; k++)
			bitmap_set(bmap, c + k, 3);
		bmap->avail -= size;
		hmp->voldata.allocator_free -= size;
		*offp = base + (hammer2_off_t)c * CHUNK;
		return 1;
	}
	return 0;
}

/*
 * Scan bmaps from start to the end of the volume, then from the start of
 * the volume, for one accepting the class (pass 0: same class or
 * unclaimed; pass 1: any).
 */
static int freemap_scan(hammer2_dev_t *hmp, uint16_t cls, int radix,
			hammer2_off_t start, int pass, hammer2_off_t *offp)
{
	uint32_t size = (uint32_t)1 << radix;
	hammer2_off_t end = hmp->volu_size, off;
	int wrapped = 0, error;

	off = start & ~HAMMER2_FREEMAP_LEVEL0_MASK;
	for (;;) {
		hammer2_chain_t *leaf;
		hammer2_bmap_data_t *bmaps;
		hammer2_off_t leafend;
		int i;

		if (off >= end) {
			if (wrapped)
				return HAMMER2_ERROR_ENOSPC;
			wrapped = 1;
			off = 0;
			end = H2_MIN(start, hmp->volu_size);
			if (off >= end)
				return HAMMER2_ERROR_ENOSPC;
		}
		error = freemap_leaf(hmp, off, &leaf);
		if (error)
			return error;
		leafend = leaf->bref.key + HAMMER2_FREEMAP_LEVEL1_SIZE;
		if (leaf->bref.check.freemap.avail < size) {
			hammer2_chain_drop(leaf);
			off = leafend;
			continue;
		}
		bmaps = (hammer2_bmap_data_t *)leaf->data;
		for (i = (int)((off - leaf->bref.key) >> 22);
		     i < HAMMER2_FREEMAP_COUNT && off < end;
		     i++, off += HAMMER2_SEGSIZE) {
			hammer2_bmap_data_t *bmap = &bmaps[i];
			int fresh = bmap->class == 0;
			uint32_t before;

			if (bmap->avail < size &&
			    !(size < CHUNK && (bmap->linear & (CHUNK - 1))))
				continue;
			if (pass == 0 && bmap->class != cls && !fresh)
				continue;
			error = hammer2_chain_modify(leaf);
			if (error) {
				hammer2_chain_drop(leaf);
				return error;
			}
			bmaps = (hammer2_bmap_data_t *)leaf->data;
			bmap = &bmaps[i];
			before = bmap->avail;
			if (bmap_alloc(hmp, bmap, off, radix, offp)) {
				if (bmap->class == 0)
					bmap->class = cls;
				if (*offp + size > hmp->volu_size) {
					/* cannot happen: fixed chunks */
					hammer2_chain_drop(leaf);
					return HAMMER2_ERROR_BADBREF;
				}
				leaf->bref.check.freemap.avail -=
					before - bmap->avail;
				hammer2_chain_drop(leaf);
				return 0;
			}
		}
		hammer2_chain_drop(leaf);
		off = leafend;
	}
}

/*
 * The leaf covering device offset off (created when missing), modified,
 * referenced (*leafp), and the bmap of off in it (*bmapp).  Errors: media
 * errors, ENOMEM.
 */
static int freemap_bmap_modify(hammer2_dev_t *hmp, hammer2_off_t off,
			       hammer2_chain_t **leafp,
			       hammer2_bmap_data_t **bmapp)
{
	hammer2_chain_t *leaf;
	int error = freemap_leaf(hmp, off, &leaf);

	if (error)
		return error;
	error = hammer2_chain_modify(leaf);
	if (error) {
		hammer2_chain_drop(leaf);
		return error;
	}
	*leafp = leaf;
	*bmapp = (hammer2_bmap_data_t *)leaf->data +
		 ((off - leaf->bref.key) >> HAMMER2_FREEMAP_LEVEL0_RADIX);
	return 0;
}

/*
 * Allocate 2^radix bytes (radix 10..16) for a block of bref type 'type'.
 * Returns data_off (offset | radix) in *offp.  Errors: ENOSPC, media
 * errors.  The flush allocates, and direct writes: no chunk freed by a
 * flush that has not committed yet is taken (the fence).
 */
int hammer2_freemap_alloc(hammer2_dev_t *hmp, int type, int radix,
			  hammer2_off_t *offp)
{
	uint16_t cls = freemap_class(type, radix);
	int hi = heur_index(type, radix);
	hammer2_off_t start, off = 0;
	int error, pass;

	H2_ASSERT(radix >= HAMMER2_RADIX_MIN && radix <= HAMMER2_RADIX_MAX);
	start = hmp->heur_base[hi];
	if (start < hmp->voldata.allocator_beg || start >= hmp->volu_size)
		start = hmp->voldata.allocator_beg;
	for (pass = 0; pass < 2; pass++) {
		error = freemap_scan(hmp, cls, radix, start, pass, &off);
		if (error != HAMMER2_ERROR_ENOSPC)
			break;
	}
	if (error)
		return error;
	hmp->heur_base[hi] = off;
	*offp = off | (hammer2_off_t)radix;
	return 0;
}

/* ---------------- freeing ---------------- */

/* Queue data_off (offset | radix) to be freed by the next flush. */
void hammer2_freemap_free_deferred(hammer2_dev_t *hmp, hammer2_off_t data_off)
{
	if (hmp->nfrees == hmp->maxfrees) {
		size_t ncap = hmp->maxfrees ? hmp->maxfrees * 2 : 256;
		struct hammer2_freeblk *n = hammer2_alloc(sizeof(*n) * ncap);

		if (n == NULL) {
			hmp->stat_leaked += hammer2_off_bytes(data_off);
			return;
		}
		if (hmp->frees)
			h2_memcpy(n, hmp->frees, sizeof(*n) * hmp->nfrees);
		hammer2_free(hmp->frees);
		hmp->frees = n;
		hmp->maxfrees = ncap;
	}
	hmp->frees[hmp->nfrees++].data_off = data_off;
}

static int free_one(hammer2_dev_t *hmp, hammer2_off_t data_off)
{
	hammer2_off_t off = data_off & HAMMER2_OFF_MASK;
	uint32_t size = hammer2_off_bytes(data_off);
	hammer2_chain_t *leaf;
	hammer2_bmap_data_t *bmap;
	hammer2_off_t bbase;
	int error, c, k;

	if (size == 0 || off >= hmp->volu_size || chunk_is_fixed(hmp, off))
		return 0; /* newfs's blocks and the like stay allocated */
	error = freemap_bmap_modify(hmp, off, &leaf, &bmap);
	if (error)
		return error;
	bbase = off & ~HAMMER2_FREEMAP_LEVEL0_MASK;
	c = (int)((off - bbase) >> HAMMER2_FREEMAP_BLOCK_RADIX);
	if (size >= CHUNK) {
		for (k = 0; k < (int)(size / CHUNK); k++) {
			if (bitmap_get(bmap, c + k) == 0)
				continue; /* already free: ignore */
			bitmap_set(bmap, c + k, 0);
			fence_add(hmp, off + (hammer2_off_t)k * CHUNK);
			bmap->avail += CHUNK;
			hmp->voldata.allocator_free += CHUNK;
			leaf->bref.check.freemap.avail += CHUNK;
		}
	} else {
		hammer2_off_t chunk = off & ~(hammer2_off_t)(CHUNK - 1);
		struct hammer2_subchunk *e = sub_find(&hmp->subs, chunk);

		if (e == NULL) {
			hmp->stat_leaked += size;
		} else {
			e->mask &= (uint16_t)~piece_mask(off, size);
			if (e->mask == 0) {
				sub_remove(&hmp->subs, e);
				bitmap_set(bmap, c, 0);
				fence_add(hmp, chunk);
				bmap->avail += CHUNK;
				hmp->voldata.allocator_free += CHUNK;
				leaf->bref.check.freemap.avail += CHUNK;
				/* the iterator must not point into a free chunk */
				if ((bmap->linear >>
				     HAMMER2_FREEMAP_BLOCK_RADIX) == c)
					bmap->linear = 0;
			}
		}
	}
	if (bmap->avail == HAMMER2_SEGSIZE)
		bmap->class = 0;
	hammer2_chain_drop(leaf);
	return 0;
}

/*
 * Apply the queued frees to the freemap.  Called by the flush after all of
 * its allocations.  Errors: media errors (the remaining frees stay queued).
 */
int hammer2_freemap_apply_frees(hammer2_dev_t *hmp)
{
	size_t i;
	int error;

	for (i = 0; i < hmp->nfrees; i++) {
		error = free_one(hmp, hmp->frees[i].data_off);
		if (error) {
			h2_memmove(hmp->frees, hmp->frees + i,
				   sizeof(*hmp->frees) * (hmp->nfrees - i));
			hmp->nfrees -= i;
			return error;
		}
	}
	hmp->nfrees = 0;
	return 0;
}

/*
 * Give a modified freemap node or leaf its block for this flush: the next
 * of the 8 rotating sets in the reserved segment at the base of its key
 * range (DragonFly hammer2_freemap_reserve).
 */
void hammer2_freemap_reserve(hammer2_dev_t *hmp, hammer2_chain_t *chain)
{
	hammer2_blockref_t *bref = &chain->bref;
	int index = 0, level;
	hammer2_off_t off;

	(void)hmp;
	if (bref->data_off & ~HAMMER2_OFF_MASK_RADIX) {
		off = (bref->data_off & HAMMER2_OFF_MASK &
		       HAMMER2_FREEMAP_LEVEL1_MASK) /
		      HAMMER2_PBUFSIZE;
		if (off >= HAMMER2_ZONE_FREEMAP_00 &&
		    off < HAMMER2_ZONE_FREEMAP_END)
			index = (int)(off - HAMMER2_ZONE_FREEMAP_00) /
				HAMMER2_ZONE_FREEMAP_INC;
		index = (index + 1) % HAMMER2_NFREEMAPS;
	}
	switch (bref->keybits) {
	case HAMMER2_FREEMAP_LEVEL1_RADIX:
		level = HAMMER2_ZONEFM_LEVEL1;
		break;
	case HAMMER2_FREEMAP_LEVEL2_RADIX:
		level = HAMMER2_ZONEFM_LEVEL2;
		break;
	case HAMMER2_FREEMAP_LEVEL3_RADIX:
		level = HAMMER2_ZONEFM_LEVEL3;
		break;
	case HAMMER2_FREEMAP_LEVEL4_RADIX:
		level = HAMMER2_ZONEFM_LEVEL4;
		break;
	default:
		level = HAMMER2_ZONEFM_LEVEL5;
		break;
	}
	off = H2FMBASE(bref->key, bref->keybits) +
	      (hammer2_off_t)(index * HAMMER2_ZONE_FREEMAP_INC +
			      HAMMER2_ZONE_FREEMAP_00 + level) *
		      HAMMER2_PBUFSIZE;
	bref->data_off = off | 15; /* 32 KiB */
}

/* Free bytes as the freemap counts them (16 KiB granularity). */
uint64_t hammer2_freemap_free_bytes(hammer2_dev_t *hmp)
{
	return hmp->voldata.allocator_free;
}

/* ---------------- recovery (docs/DESIGN.md, freemap_tid) ---------------- */

#define RECOVER_MAX_DEPTH 40

/*
 * Mark the block data_off (offset | radix) of a bref of type 'type'
 * allocated: every 16 KiB chunk it touches becomes 11 (an unclaimed bmap
 * takes the block's class).  A bmap whose linear iterator points into a chunk
 * marked here gets it moved to the next chunk boundary, so no sub-16 KiB
 * piece of that chunk is handed out again.  allocator_free is recomputed
 * by the caller.  Errors: media errors, ENOMEM.
 */
static int recover_mark(hammer2_dev_t *hmp, int type, hammer2_off_t data_off,
			uint64_t *marked)
{
	hammer2_off_t off = data_off & HAMMER2_OFF_MASK;
	uint32_t size = hammer2_off_bytes(data_off);
	hammer2_off_t end, c0;
	hammer2_chain_t *leaf;
	hammer2_bmap_data_t *bmap;
	int error;

	if (size == 0 || off >= hmp->volu_size || chunk_is_fixed(hmp, off))
		return 0;
	end = off + size;
	for (c0 = off & ~(hammer2_off_t)(CHUNK - 1); c0 < end; c0 += CHUNK) {
		int c;

		error = freemap_bmap_modify(hmp, c0, &leaf, &bmap);
		if (error)
			return error;
		c = (int)((c0 & HAMMER2_FREEMAP_LEVEL0_MASK) >>
			  HAMMER2_FREEMAP_BLOCK_RADIX);
		if (bitmap_get(bmap, c) != 3) {
			if (bitmap_get(bmap, c) == 0) {
				bmap->avail -= CHUNK;
				leaf->bref.check.freemap.avail -= CHUNK;
			}
			bitmap_set(bmap, c, 3);
			*marked += CHUNK;
		}
		if (bmap->linear > 0 && bmap->linear < HAMMER2_SEGSIZE &&
		    (bmap->linear >> HAMMER2_FREEMAP_BLOCK_RADIX) == c &&
		    (bmap->linear & (CHUNK - 1)))
			bmap->linear = (int32_t)((c + 1) * CHUNK);
		if (bmap->class == 0)
			bmap->class = freemap_class(
				type, (int)(data_off & HAMMER2_OFF_MASK_RADIX));
		hammer2_chain_drop(leaf);
	}
	return 0;
}

/*
 * A recovery walk: bytes marked, and the offsets of the inodes and
 * indirect blocks read so far.  A tree never references one of those
 * blocks twice, so a second visit means a hostile image (a loop would
 * otherwise make the walk exponential).
 */
struct recover_walk {
	uint64_t marked;
	struct hammer2_offtab seen;
};

/* Record off as visited: 0, BADBREF if it was already, ENOMEM. */
static int recover_visit(struct recover_walk *w, hammer2_off_t off)
{
	if (sub_find(&w->seen, off))
		return HAMMER2_ERROR_BADBREF;
	return sub_insert(&w->seen, off, 0);
}

/*
 * Walk the brefs of base[0..count) written after the freemap on the
 * media (mirror_tid > freemap_tid; none may be above parent_tid, the
 * mirror_tid of the bref that holds them): mark their blocks, and descend
 * into inodes and indirect blocks.  Errors: EIO/CHECK/BADBREF from a block
 * that cannot be read or fails its check, a bref above its parent's tid,
 * an inode or indirect block referenced twice; ENOMEM.
 */
static int recover_base(hammer2_dev_t *hmp, struct recover_walk *w,
			const hammer2_blockref_t *base, int count,
			hammer2_tid_t parent_tid, int depth)
{
	int i, error;

	if (depth > RECOVER_MAX_DEPTH)
		return HAMMER2_ERROR_BADBREF;
	for (i = 0; i < count; i++) {
		const hammer2_blockref_t *bref = &base[i];
		uint8_t *data = NULL;
		uint32_t bytes = 0;

		if (bref->type == HAMMER2_BREF_TYPE_EMPTY ||
		    bref->mirror_tid <= hmp->voldata.freemap_tid)
			continue;
		if (bref->mirror_tid > parent_tid)
			return HAMMER2_ERROR_BADBREF;
		error = recover_mark(hmp, bref->type, bref->data_off,
				     &w->marked);
		if (error)
			return error;
		if (bref->type != HAMMER2_BREF_TYPE_INODE &&
		    bref->type != HAMMER2_BREF_TYPE_INDIRECT)
			continue;
		error = recover_visit(w, bref->data_off & HAMMER2_OFF_MASK);
		if (error == 0)
			error = hammer2_io_read_bref(hmp, bref, &data, &bytes);
		if (error)
			return error;
		if (bref->type == HAMMER2_BREF_TYPE_INODE) {
			const hammer2_inode_data_t *ipdata =
				(const hammer2_inode_data_t *)data;

			if (bytes < sizeof(*ipdata))
				error = HAMMER2_ERROR_BADBREF;
			else if (!(ipdata->meta.op_flags &
				   HAMMER2_OPFLAG_DIRECTDATA))
				error = recover_base(
					hmp, w, ipdata->u.blockset.blockref,
					HAMMER2_SET_COUNT, bref->mirror_tid,
					depth + 1);
		} else {
			error = recover_base(
				hmp, w, (const hammer2_blockref_t *)data,
				(int)(bytes / sizeof(hammer2_blockref_t)),
				bref->mirror_tid, depth + 1);
		}
		hammer2_free(data);
		if (error)
			return error;
	}
	return 0;
}

/* Free bytes of the bmaps of the 1 GiB zone at key (leaf or not). */
static int zone_avail(hammer2_dev_t *hmp, hammer2_key_t key, uint64_t *availp)
{
	hammer2_chain_t *leaf;
	hammer2_off_t off;
	int error, i;

	*availp = 0;
	error = freemap_leaf_find(hmp, key, &leaf);
	if (error)
		return error;
	if (leaf) {
		error = hammer2_chain_load(leaf);
		if (error == 0) {
			const hammer2_bmap_data_t *bmap =
				(const hammer2_bmap_data_t *)leaf->data;

			for (i = 0; i < HAMMER2_FREEMAP_COUNT; i++)
				*availp += bmap[i].avail;
		}
		hammer2_chain_drop(leaf);
		return error;
	}
	/* as freemap_init_leaf would make it */
	for (i = 0, off = key; i < HAMMER2_FREEMAP_COUNT;
	     i++, off += HAMMER2_SEGSIZE)
		if (!bmap_is_fixed(hmp, off))
			*availp += HAMMER2_SEGSIZE;
	return 0;
}

/* See hammer2.h. */
int hammer2_freemap_recover(hammer2_dev_t *hmp, uint64_t *markedp)
{
	struct recover_walk w = { 0, { NULL, 0, 0 } };
	uint64_t total = 0, avail;
	hammer2_off_t beg;
	hammer2_key_t key;
	int error;

	if (markedp)
		*markedp = 0;
	if (hmp->voldata.freemap_tid >= hmp->voldata.mirror_tid)
		return 0;
	error = recover_base(hmp, &w, hmp->voldata.sroot_blockset.blockref,
			     HAMMER2_SET_COUNT, hmp->voldata.mirror_tid, 0);
	hammer2_free(w.seen.v);
	for (key = 0; error == 0 && key < hmp->volu_size;
	     key += HAMMER2_FREEMAP_LEVEL1_SIZE) {
		error = zone_avail(hmp, key, &avail);
		total += avail;
	}
	if (error)
		return error;
	/*
	 * newfs counts [aux_end, the first whole bmap above allocator_beg)
	 * as free (DragonFly's convention) where the leaves mark it used;
	 * keep the header's convention, so a recovered volume reports what
	 * a clean one would.
	 */
	beg = (hmp->voldata.allocator_beg + HAMMER2_FREEMAP_LEVEL0_MASK) &
	      ~HAMMER2_FREEMAP_LEVEL0_MASK;
	if (beg > hmp->voldata.aux_end)
		total += beg - hmp->voldata.aux_end;
	hmp->voldata.allocator_free = total;
	hmp->stat_recovered += w.marked;
	if (markedp)
		*markedp = w.marked;
	return 0;
}
