/*
 * hammer2_chain.c - the in-memory copy-on-write topology.
 *
 * See docs/DESIGN.md "Chains" for the life cycle.  Invariants:
 *
 * NOTE: A parent's blockref array is sorted by key and packed: entries
 *	 [0, live) are non-EMPTY, [live, count) are EMPTY.  Key ranges of the
 *	 entries of one array never overlap.
 *
 * NOTE: parent->children[i] caches the chain of slot i without holding a
 *	 reference.  A chain with cached children, or with MODIFIED, UPDATE,
 *	 ONFLUSH or INITIAL set, or with references, is never freed.
 *
 * NOTE: ONFLUSH on a chain implies ONFLUSH on all its ancestors.
 *
 * All functions require the device lock (hmp->lock) held by the caller.
 */
#include "hammer2.h"

#define CHAIN_MAX_DEPTH 40

static const int freemap_levels[] = {
	HAMMER2_FREEMAP_LEVEL1_RADIX, HAMMER2_FREEMAP_LEVEL2_RADIX,
	HAMMER2_FREEMAP_LEVEL3_RADIX, HAMMER2_FREEMAP_LEVEL4_RADIX,
	HAMMER2_FREEMAP_LEVEL5_RADIX,
};

static int chain_is_node(int type)
{
	return type == HAMMER2_BREF_TYPE_INDIRECT ||
	       type == HAMMER2_BREF_TYPE_FREEMAP_NODE;
}

/* Last key covered by a blockref (keybits 64 covers everything). */
static hammer2_key_t bref_key_end(const hammer2_blockref_t *b)
{
	if (b->keybits >= 64)
		return HAMMER2_KEY_MAX;
	return b->key + (((hammer2_key_t)1 << b->keybits) - 1);
}

/*
 * Base array of a chain.  Returns NULL for chains without children (DATA,
 * FREEMAP_LEAF, DIRECTDATA inodes) or when the data is not loaded.
 */
hammer2_blockref_t *hammer2_chain_base(hammer2_chain_t *chain, int *countp)
{
	hammer2_inode_data_t *ipdata;

	*countp = 0;
	switch (chain->bref.type) {
	case HAMMER2_BREF_TYPE_VOLUME:
		*countp = HAMMER2_SET_COUNT;
		return chain->hmp->voldata.sroot_blockset.blockref;
	case HAMMER2_BREF_TYPE_FREEMAP:
		*countp = HAMMER2_SET_COUNT;
		return chain->hmp->voldata.freemap_blockset.blockref;
	case HAMMER2_BREF_TYPE_INODE:
		if (chain->data == NULL)
			return NULL;
		ipdata = (hammer2_inode_data_t *)chain->data;
		if (ipdata->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA)
			return NULL;
		*countp = HAMMER2_SET_COUNT;
		return ipdata->u.blockset.blockref;
	case HAMMER2_BREF_TYPE_INDIRECT:
	case HAMMER2_BREF_TYPE_FREEMAP_NODE:
		if (chain->data == NULL)
			return NULL;
		*countp = (int)(chain->bytes / sizeof(hammer2_blockref_t));
		return (hammer2_blockref_t *)chain->data;
	default:
		return NULL;
	}
}

/* Number of live entries: the first EMPTY slot, by bisection. */
int hammer2_base_live(const hammer2_blockref_t *base, int count)
{
	int lo = 0, hi = count;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (base[mid].type != HAMMER2_BREF_TYPE_EMPTY)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Blockref of slot i: the cached chain's (newer) or the array's. */
static hammer2_blockref_t *slot_bref(hammer2_chain_t *parent,
				     hammer2_blockref_t *base, int i)
{
	if (parent->children && parent->children[i])
		return &parent->children[i]->bref;
	return &base[i];
}

/* First slot in [0, live) whose key range ends at or after key. */
static int slot_find(hammer2_chain_t *parent, hammer2_blockref_t *base,
		     int live, hammer2_key_t key)
{
	int lo = 0, hi = live;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (bref_key_end(slot_bref(parent, base, mid)) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---------------- LRU of clean, unreferenced chains ---------------- */

static void lru_del(hammer2_chain_t *chain)
{
	hammer2_dev_t *hmp = chain->hmp;

	if (!(chain->flags & HAMMER2_CHAIN_ONLRU))
		return;
	if (chain->lru_prev)
		chain->lru_prev->lru_next = chain->lru_next;
	else
		hmp->lru_head = chain->lru_next;
	if (chain->lru_next)
		chain->lru_next->lru_prev = chain->lru_prev;
	else
		hmp->lru_tail = chain->lru_prev;
	chain->lru_prev = chain->lru_next = NULL;
	chain->flags &= ~HAMMER2_CHAIN_ONLRU;
	hmp->lru_count--;
	hmp->lru_data -= chain->lru_bytes;
	chain->lru_bytes = 0;
}

static int chain_evictable(hammer2_chain_t *chain)
{
	return chain->refs == 0 && chain->nchildren == 0 &&
	       chain->parent != NULL &&
	       !(chain->flags &
		 (HAMMER2_CHAIN_MODIFIED | HAMMER2_CHAIN_UPDATE |
		  HAMMER2_CHAIN_ONFLUSH | HAMMER2_CHAIN_INITIAL |
		  HAMMER2_CHAIN_DELETED | HAMMER2_CHAIN_EMBEDDED |
		  HAMMER2_CHAIN_IOBUSY));
}

/*
 * hmp->drop_clean_data: free the buffer of an evictable DATA chain (it
 * becomes unloaded; a later access reads the block again).  Not while a
 * flush is queueing writes (flush_tid set): a chain settled there lends
 * its buffer to the queue, which hands it back by
 * hammer2_chain_drop_clean_data after the write.
 */
void hammer2_chain_drop_clean_data(hammer2_chain_t *chain)
{
	if (!chain->hmp->drop_clean_data || chain->hmp->flush_tid ||
	    chain->bref.type != HAMMER2_BREF_TYPE_DATA || chain->data == NULL ||
	    !chain_evictable(chain) ||
	    (chain->flags & (HAMMER2_CHAIN_PARTIAL | HAMMER2_CHAIN_SUBWRITE)))
		return;
	hammer2_free(chain->data);
	chain->data = NULL;
	chain->bytes = 0;
	chain->hmp->lru_data -= chain->lru_bytes; /* 0 unless ONLRU */
	chain->lru_bytes = 0;
}

static void lru_maybe_add(hammer2_chain_t *chain)
{
	hammer2_dev_t *hmp = chain->hmp;

	if ((chain->flags & HAMMER2_CHAIN_ONLRU) || !chain_evictable(chain))
		return;
	hammer2_chain_drop_clean_data(chain);
	chain->flags |= HAMMER2_CHAIN_ONLRU;
	chain->lru_next = NULL;
	chain->lru_prev = hmp->lru_tail;
	if (hmp->lru_tail)
		hmp->lru_tail->lru_next = chain;
	else
		hmp->lru_head = chain;
	hmp->lru_tail = chain;
	hmp->lru_count++;
	chain->lru_bytes = chain->data ? chain->bytes : 0;
	hmp->lru_data += chain->lru_bytes;
}

static hammer2_chain_t *chain_alloc(hammer2_dev_t *hmp,
				    const hammer2_blockref_t *bref)
{
	hammer2_chain_t *chain = hammer2_alloc(sizeof(*chain));

	if (chain == NULL)
		return NULL;
	chain->hmp = hmp;
	chain->bref = *bref;
	return chain;
}

static void chain_free(hammer2_chain_t *chain)
{
	lru_del(chain);
	if (chain->flags & HAMMER2_CHAIN_IOBUSY)
		hammer2_flush_release_chain(chain); /* the queue frees it */
	else
		hammer2_free(chain->data);
	hammer2_free(chain->children);
	hammer2_free(chain);
}

/* Slot index of a cached child in its parent, or -1. */
static int chain_index(hammer2_chain_t *chain)
{
	hammer2_chain_t *parent = chain->parent;
	hammer2_blockref_t *base;
	int count, live, i;

	if (parent == NULL || parent->children == NULL)
		return -1;
	base = hammer2_chain_base(parent, &count);
	if (base == NULL)
		return -1;
	live = hammer2_base_live(base, count);
	i = slot_find(parent, base, live, chain->bref.key);
	if (i < live && parent->children[i] == chain)
		return i;
	for (i = 0; i < live; i++) /* keys changed under us: fall back */
		if (parent->children[i] == chain)
			return i;
	return -1;
}

/*
 * Free chains from the head of the LRU until the cache is within its
 * limits (lru_limit chains, lru_data_limit bytes of data).  A parent whose
 * last cached child goes may become evictable.
 */
void hammer2_chain_lru_trim(hammer2_dev_t *hmp)
{
	while ((hmp->lru_count > hmp->lru_limit ||
		(hmp->lru_data_limit && hmp->lru_data > hmp->lru_data_limit)) &&
	       hmp->lru_head) {
		hammer2_chain_t *chain = hmp->lru_head;
		hammer2_chain_t *parent = chain->parent;
		int i = chain_index(chain);

		lru_del(chain);
		H2_ASSERT(i >= 0);
		parent->children[i] = NULL;
		parent->nchildren--;
		chain_free(chain);
		lru_maybe_add(parent);
	}
}

void hammer2_chain_settle(hammer2_chain_t *chain)
{
	lru_maybe_add(chain);
}

void hammer2_chain_ref(hammer2_chain_t *chain)
{
	chain->refs++;
	lru_del(chain);
}

/*
 * Free a detached (deleted) chain and its cached sub-tree.  Children still
 * referenced elsewhere become detached orphans, freed on their last drop.
 */
void hammer2_chain_destroy_tree(hammer2_chain_t *chain)
{
	hammer2_blockref_t *base;
	int count, i;

	base = hammer2_chain_base(chain, &count);
	if (chain->children && base) {
		for (i = 0; i < count; i++) {
			hammer2_chain_t *child = chain->children[i];
			if (child == NULL)
				continue;
			chain->children[i] = NULL;
			child->parent = NULL;
			child->flags |= HAMMER2_CHAIN_DELETED;
			if (child->refs == 0)
				hammer2_chain_destroy_tree(child);
		}
	}
	chain->nchildren = 0;
	if (chain->flags & HAMMER2_CHAIN_EMBEDDED) {
		hammer2_free(chain->children);
		chain->children = NULL;
		return;
	}
	chain_free(chain);
}

void hammer2_chain_drop(hammer2_chain_t *chain)
{
	H2_ASSERT(chain->refs > 0);
	if (--chain->refs > 0)
		return;
	if ((chain->flags & HAMMER2_CHAIN_DELETED) && chain->parent == NULL)
		hammer2_chain_destroy_tree(chain);
	else
		lru_maybe_add(chain);
}

/*
 * Install freshly read logical data (ownership passes) after checking that
 * its size fits the chain's type: 1 KiB inodes, 32 KiB freemap blocks,
 * whole blockrefs for indirect blocks; for a PARTIAL chain, merge it under
 * the units written since (same size required).  Errors: BADBREF (data
 * freed).
 */
static int chain_set_data(hammer2_chain_t *chain, uint8_t *data, uint32_t bytes)
{
	int ok;

	switch (chain->bref.type) {
	case HAMMER2_BREF_TYPE_INODE:
		ok = bytes == HAMMER2_INODE_BYTES;
		break;
	case HAMMER2_BREF_TYPE_INDIRECT:
		ok = bytes >= 512;
		break;
	case HAMMER2_BREF_TYPE_FREEMAP_NODE:
	case HAMMER2_BREF_TYPE_FREEMAP_LEAF:
		ok = bytes == HAMMER2_FREEMAP_LEVELN_PSIZE;
		break;
	case HAMMER2_BREF_TYPE_DATA:
		ok = 1;
		break;
	default:
		ok = 0;
		break;
	}
	if (ok && (chain->flags & HAMMER2_CHAIN_PARTIAL))
		ok = bytes == chain->bytes;
	if (!ok) {
		hammer2_dev_log(chain->hmp,
				"blockref type %d at 0x%016llx has an "
				"impossible size %u",
				chain->bref.type,
				(unsigned long long)chain->bref.data_off,
				bytes);
		hammer2_free(data);
		return HAMMER2_ERROR_BADBREF;
	}
	if (chain->flags & HAMMER2_CHAIN_PARTIAL) {
		/*
		 * Old block and written units meet in whichever buffer needs
		 * the fewer copies: usually a few units were written (random
		 * 4 KiB writes), so they go into the old block, which becomes
		 * the chain's buffer.
		 */
		uint32_t u, units = bytes / HAMMER2_PARTIAL_UNIT, nvalid = 0;
		int into_old;

		for (u = 0; u < units; u++)
			nvalid += (chain->pvalid >> u) & 1;
		into_old = nvalid * 2 <= units;
		for (u = 0; u < units; u++) {
			uint32_t o = u * HAMMER2_PARTIAL_UNIT;
			int valid = (chain->pvalid >> u) & 1;

			if (into_old && valid)
				h2_memcpy(data + o, chain->data + o,
					  HAMMER2_PARTIAL_UNIT);
			else if (!into_old && !valid)
				h2_memcpy(chain->data + o, data + o,
					  HAMMER2_PARTIAL_UNIT);
		}
		if (into_old) {
			hammer2_free(chain->data);
			chain->data = data;
		} else {
			hammer2_free(data);
		}
		chain->flags &= ~HAMMER2_CHAIN_PARTIAL;
		chain->pvalid = 0;
		return 0;
	}
	chain->data = data;
	chain->bytes = bytes;
	return 0;
}

/*
 * A DIRECT chain's block may still be in flight (the direct write's
 * caller issues it after the device lock is released): wait for every
 * direct write begun so far.  With the device lock held no new one can
 * begin.  The error of a failed one is left for the flush to collect;
 * reading such a block fails its check code.
 */
static void chain_direct_wait(hammer2_chain_t *chain)
{
	hammer2_dev_t *hmp = chain->hmp;

	if ((chain->flags & HAMMER2_CHAIN_DIRECT) && hmp->ops->direct_wait)
		hmp->ops->direct_wait(hmp->ctx, 1);
}

/*
 * Load the chain's logical data from media.  Chains created in memory
 * (INITIAL) and the pseudo-chains are always loaded.  Errors: EIO, CHECK,
 * BADBREF, ENOMEM.
 */
int hammer2_chain_load(hammer2_chain_t *chain)
{
	uint8_t *data;
	uint32_t bytes;
	int error;

	if (chain->data && !(chain->flags & HAMMER2_CHAIN_PARTIAL))
		return 0;
	chain_direct_wait(chain);
	error = hammer2_io_read_bref(chain->hmp, &chain->bref, &data, &bytes);
	if (error)
		return error;
	return chain_set_data(chain, data, bytes);
}

static int chain_off_cmp(const void *a, const void *b)
{
	const hammer2_chain_t *x = *(hammer2_chain_t *const *)a;
	const hammer2_chain_t *y = *(hammer2_chain_t *const *)b;
	hammer2_off_t xo = x->bref.data_off & HAMMER2_OFF_MASK;
	hammer2_off_t yo = y->bref.data_off & HAMMER2_OFF_MASK;

	return xo < yo ? -1 : xo > yo;
}

#define LOAD_MAX_RUN (1024 * 1024)

/*
 * Issue the runs of a load_many batch: all at once through readm when the
 * device has it, else one readv after the other.  Each req gets its error.
 */
static void load_issue(hammer2_dev_t *hmp, struct hammer2_ioreq *req, int n)
{
	int i;

	if (n == 0)
		return;
	if (hmp->ops->readm && hmp->ops->readm(hmp->ctx, req, n) == 0)
		return;
	for (i = 0; i < n; i++)
		req[i].error = hmp->ops->readv(hmp->ctx, req[i].iov, req[i].cnt,
					       req[i].off);
}

/* See hammer2.h. */
int hammer2_chain_load_many(hammer2_chain_t **chains, int n)
{
	hammer2_dev_t *hmp;
	struct hammer2_iov *iov;
	struct hammer2_ioreq *req;
	hammer2_chain_t **todo;
	int i, j, k, m = 0, nreq = 0, r;

	if (n <= 0)
		return 0;
	hmp = chains[0]->hmp;
	if (hmp->ops->readv == NULL)
		return 0; /* the callers' single loads do it */
	todo = hammer2_alloc(sizeof(*todo) * (size_t)n);
	iov = hammer2_alloc(sizeof(*iov) * (size_t)n);
	req = hammer2_alloc(sizeof(*req) * (size_t)n);
	if (todo == NULL || iov == NULL || req == NULL) {
		hammer2_free(todo);
		hammer2_free(iov);
		hammer2_free(req);
		return HAMMER2_ERROR_ENOMEM;
	}
	for (i = 0; i < n; i++)
		if ((chains[i]->data == NULL ||
		     (chains[i]->flags & HAMMER2_CHAIN_PARTIAL)) &&
		    !(chains[i]->flags & HAMMER2_CHAIN_INITIAL) &&
		    hammer2_io_placement(hmp, &chains[i]->bref)) {
			chain_direct_wait(chains[i]);
			todo[m++] = chains[i];
		}
	hammer2_sort(todo, (size_t)m, sizeof(*todo), chain_off_cmp);
	/*
	 * Runs of blocks back to back on the media: todo[i..j) is read into
	 * iov[i..j) by req[nreq]; a block that gets no buffer is in no run
	 * and stays unloaded.
	 */
	for (i = 0; i < m; i = j) {
		hammer2_off_t off = todo[i]->bref.data_off & HAMMER2_OFF_MASK;
		uint64_t len = 0;

		for (j = i; j < m && j - i < HAMMER2_IOV_MAX; j++) {
			hammer2_chain_t *c = todo[j];
			uint32_t pb = hammer2_io_placement(hmp, &c->bref);

			if ((c->bref.data_off & HAMMER2_OFF_MASK) !=
				    off + len ||
			    len + pb > LOAD_MAX_RUN)
				break;
			iov[j].iov_base = hammer2_alloc_raw(pb);
			iov[j].iov_len = pb;
			if (iov[j].iov_base == NULL)
				break;
			len += pb;
		}
		if (j == i) { /* no memory even for one block */
			j = i + 1;
			continue;
		}
		req[nreq].iov = &iov[i];
		req[nreq].cnt = j - i;
		req[nreq].off = off;
		req[nreq].error = 0;
		nreq++;
		hmp->stat_reads++;
		hmp->stat_read_bytes += len;
	}
	load_issue(hmp, req, nreq);
	for (r = 0; r < nreq; r++) {
		i = (int)(req[r].iov - iov);
		for (k = i; k < i + req[r].cnt; k++) {
			uint8_t *data;
			uint32_t bytes;

			if (req[r].error) {
				hammer2_free(iov[k].iov_base);
				continue;
			}
			if (hammer2_io_decode_bref(hmp, &todo[k]->bref,
						   iov[k].iov_base,
						   (uint32_t)iov[k].iov_len,
						   &data, &bytes) == 0)
				chain_set_data(todo[k], data, bytes);
		}
	}
	hammer2_free(req);
	hammer2_free(iov);
	hammer2_free(todo);
	return 0;
}

/* Cached chain of slot i, instantiated from the array if needed. */
static hammer2_chain_t *chain_slot(hammer2_chain_t *parent,
				   hammer2_blockref_t *base, int count, int i)
{
	hammer2_chain_t *chain;

	if (parent->children == NULL) {
		parent->children = hammer2_alloc(sizeof(void *) * count);
		if (parent->children == NULL)
			return NULL;
	}
	chain = parent->children[i];
	if (chain == NULL) {
		chain = chain_alloc(parent->hmp, &base[i]);
		if (chain == NULL)
			return NULL;
		chain->parent = parent;
		parent->children[i] = chain;
		parent->nchildren++;
		lru_del(parent);
	}
	return chain;
}

/*
 * Bytes the flush may allocate for this chain: its block size, a block
 * under 16 KiB as the whole 16 KiB chunk it may claim; freemap blocks and
 * the pseudo-chains take nothing from the allocator.
 */
static uint64_t chain_alloc_need(hammer2_chain_t *chain, uint32_t bytes)
{
	switch (chain->bref.type) {
	case HAMMER2_BREF_TYPE_VOLUME:
	case HAMMER2_BREF_TYPE_FREEMAP:
	case HAMMER2_BREF_TYPE_FREEMAP_NODE:
	case HAMMER2_BREF_TYPE_FREEMAP_LEAF:
		return 0;
	}
	if (bytes == 0)
		bytes = hammer2_off_bytes(chain->bref.data_off);
	return H2_MAX(bytes, (uint32_t)HAMMER2_FREEMAP_BLOCK_SIZE);
}

/* Count a chain the next flush will rewrite, once per flush cycle. */
static void chain_account(hammer2_chain_t *chain)
{
	if (chain->flags & HAMMER2_CHAIN_ACCOUNTED)
		return;
	chain->flags |= HAMMER2_CHAIN_ACCOUNTED;
	chain->hmp->dirty_bytes += chain_alloc_need(chain, chain->bytes);
}

/*
 * Mark every ancestor ONFLUSH (stops at the first one already marked).
 * Each one will be rewritten by the flush, so it is accounted.
 */
static void chain_setflush(hammer2_chain_t *chain)
{
	hammer2_chain_t *p;

	for (p = chain->parent; p; p = p->parent) {
		if (p->flags & HAMMER2_CHAIN_ONFLUSH)
			break;
		p->flags |= HAMMER2_CHAIN_ONFLUSH;
		chain_account(p);
		lru_del(p);
	}
}

/*
 * Mark chain modified: it will get a new block at the next flush and its
 * parent's slot will be updated.  Loads the data first.  A deleted chain
 * (an open unlinked file) may still be modified in memory.  A chain whose
 * buffer the flush in progress is writing (IOBUSY) gets a copy first.
 * Errors: as hammer2_chain_load, ENOMEM.
 */
static int chain_modify(hammer2_chain_t *chain, int load)
{
	hammer2_dev_t *hmp = chain->hmp;
	int error;

	if (load && !(chain->flags & HAMMER2_CHAIN_INITIAL)) {
		error = hammer2_chain_load(chain);
		if (error)
			return error;
	}
	if (chain->flags & HAMMER2_CHAIN_IOBUSY) {
		/* its buffer is being written: the queue keeps it, we copy */
		uint8_t *copy = hammer2_alloc_raw(chain->bytes);

		if (copy == NULL)
			return HAMMER2_ERROR_ENOMEM;
		h2_memcpy(copy, chain->data, chain->bytes);
		hammer2_flush_release_chain(chain);
		chain->data = copy;
	}
	if (chain->flags & HAMMER2_CHAIN_DIRECT) {
		/*
		 * Written directly: its block becomes the old block, which
		 * the flush frees when it gives the chain a new one, and the
		 * flush allocates for it after all.  (load 0: the caller
		 * writes all of it or completes it from that block, which
		 * must be on the media first.)
		 */
		chain_direct_wait(chain);
		chain->flags &= ~HAMMER2_CHAIN_DIRECT;
		chain_account(chain);
	}
	if (chain->flags & HAMMER2_CHAIN_MODIFIED)
		return 0;
	lru_del(chain);
	chain->flags |= HAMMER2_CHAIN_MODIFIED | HAMMER2_CHAIN_UPDATE;
	chain->bref.modify_tid = hmp->voldata.mirror_tid + 1;
	chain_account(chain);
	chain_setflush(chain);
	return 0;
}

int hammer2_chain_modify(hammer2_chain_t *chain)
{
	return chain_modify(chain, 1);
}

/* See hammer2.h. */
void hammer2_chain_set_direct(hammer2_chain_t *chain, hammer2_off_t data_off,
			      uint8_t check, const struct hammer2_iov *iov,
			      int cnt)
{
	hammer2_dev_t *hmp = chain->hmp;
	hammer2_blockref_t *bref = &chain->bref;

	H2_ASSERT(
		bref->type == HAMMER2_BREF_TYPE_DATA &&
		!(chain->flags & (HAMMER2_CHAIN_PARTIAL | HAMMER2_CHAIN_IOBUSY |
				  HAMMER2_CHAIN_ACCOUNTED)));
	H2_ASSERT(chain->data == NULL ||
		  !(chain->flags & HAMMER2_CHAIN_MODIFIED));
	/* a clean cached copy of the block being replaced */
	hammer2_free(chain->data);
	chain->data = NULL;
	/* the committed block, or an earlier direct write's */
	if (bref->data_off & HAMMER2_OFF_MASK_RADIX)
		hammer2_freemap_free_deferred(hmp, bref->data_off);
	bref->data_off = data_off;
	bref->methods = (uint8_t)(HAMMER2_ENC_CHECK(check) |
				  HAMMER2_ENC_COMP(HAMMER2_COMP_NONE));
	bref->vradix =
		(uint8_t)hammer2_bytes_to_radix(hammer2_off_bytes(data_off));
	bref->modify_tid = hmp->voldata.mirror_tid + 1;
	hammer2_bref_setcheck_iov(bref, iov, cnt);
	chain->bytes = 0;
	lru_del(chain);
	chain->flags |= HAMMER2_CHAIN_MODIFIED | HAMMER2_CHAIN_UPDATE |
			HAMMER2_CHAIN_DIRECT;
	chain->flags &= ~(HAMMER2_CHAIN_INITIAL | HAMMER2_CHAIN_SUBWRITE);
	chain_setflush(chain);
}

/* See hammer2.h. */
int hammer2_chain_modify_replace(hammer2_chain_t *chain, uint32_t bytes)
{
	H2_ASSERT(chain->bref.type == HAMMER2_BREF_TYPE_DATA &&
		  chain->data == NULL &&
		  !(chain->flags & HAMMER2_CHAIN_PARTIAL));
	chain->data = hammer2_alloc_raw(bytes);
	if (chain->data == NULL)
		return HAMMER2_ERROR_ENOMEM;
	chain->bytes = bytes;
	return chain_modify(chain, 0);
}

/* See hammer2.h. */
int hammer2_chain_partial_ok(hammer2_chain_t *chain, uint32_t boff, uint32_t n,
			     uint32_t need)
{
	uint32_t pb;

	if (chain->bref.type != HAMMER2_BREF_TYPE_DATA || n == 0 ||
	    (boff | n) & (HAMMER2_PARTIAL_UNIT - 1))
		return 0;
	if (chain->flags & HAMMER2_CHAIN_PARTIAL)
		return boff + n <= chain->bytes && need <= chain->bytes;
	if (chain->data ||
	    (chain->flags & (HAMMER2_CHAIN_INITIAL | HAMMER2_CHAIN_IOBUSY)) ||
	    HAMMER2_DEC_COMP(chain->bref.methods) != HAMMER2_COMP_NONE)
		return 0;
	pb = hammer2_io_placement(chain->hmp, &chain->bref);
	return pb >= need && boff + n <= pb;
}

/* See hammer2.h. */
int hammer2_chain_modify_partial(hammer2_chain_t *chain)
{
	hammer2_dev_t *hmp = chain->hmp;
	uint32_t pb;

	if (chain->flags & HAMMER2_CHAIN_PARTIAL)
		return 0; /* modified when it became partial */
	H2_ASSERT(chain->data == NULL);
	if (hmp->npartials == hmp->maxpartials) {
		size_t ncap = hmp->maxpartials ? hmp->maxpartials * 2 : 64;
		hammer2_chain_t **n = hammer2_alloc(sizeof(*n) * ncap);

		if (n == NULL)
			return HAMMER2_ERROR_ENOMEM;
		if (hmp->partials)
			h2_memcpy(n, hmp->partials,
				  sizeof(*n) * hmp->npartials);
		hammer2_free(hmp->partials);
		hmp->partials = n;
		hmp->maxpartials = ncap;
	}
	pb = hammer2_io_placement(hmp, &chain->bref);
	chain->data = hammer2_alloc_raw(pb);
	if (chain->data == NULL)
		return HAMMER2_ERROR_ENOMEM;
	chain->bytes = pb;
	chain->flags |= HAMMER2_CHAIN_PARTIAL;
	chain->pvalid = 0;
	hammer2_chain_ref(chain);
	hmp->partials[hmp->npartials++] = chain;
	return chain_modify(chain, 0);
}

/* See hammer2.h. */
void hammer2_chain_partial_mark(hammer2_chain_t *chain, uint32_t boff,
				uint32_t n)
{
	uint32_t u, units = chain->bytes / HAMMER2_PARTIAL_UNIT;

	for (u = boff / HAMMER2_PARTIAL_UNIT;
	     u < (boff + n) / HAMMER2_PARTIAL_UNIT; u++)
		chain->pvalid |= (uint16_t)(1U << u);
	if (chain->pvalid == (uint16_t)((1U << units) - 1)) {
		chain->flags &= ~HAMMER2_CHAIN_PARTIAL; /* all written */
		chain->pvalid = 0;
	}
}

/* See hammer2.h. */
int hammer2_chain_partial_complete(hammer2_dev_t *hmp)
{
	size_t i, n = hmp->npartials;
	int error = 0;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i += 256)
		hammer2_chain_load_many(hmp->partials + i,
					(int)H2_MIN(n - i, (size_t)256));
	for (i = 0; i < n; i++) {
		hammer2_chain_t *chain = hmp->partials[i];

		/* a deleted chain is not written: it completes when read */
		if ((chain->flags & HAMMER2_CHAIN_PARTIAL) &&
		    !(chain->flags & HAMMER2_CHAIN_DELETED))
			error |= hammer2_chain_load(chain);
		hammer2_chain_drop(chain);
	}
	hmp->npartials = 0;
	return error;
}

/*
 * Resize the logical buffer of a modified DATA chain to nbytes (1 KiB ..
 * 64 KiB).  Contents up to the smaller size are kept, the rest is zero.
 */
int hammer2_chain_resize(hammer2_chain_t *chain, uint32_t nbytes)
{
	uint8_t *ndata;
	uint32_t keep;

	H2_ASSERT(chain->flags & HAMMER2_CHAIN_MODIFIED);
	if (nbytes == chain->bytes)
		return 0;
	ndata = hammer2_alloc_raw(nbytes);
	if (ndata == NULL)
		return HAMMER2_ERROR_ENOMEM;
	keep = chain->data ? H2_MIN(nbytes, chain->bytes) : 0;
	if (keep)
		h2_memcpy(ndata, chain->data, keep);
	h2_memset(ndata + keep, 0, nbytes - keep);
	hammer2_free(chain->data);
	if ((chain->flags & HAMMER2_CHAIN_ACCOUNTED) &&
	    chain_alloc_need(chain, nbytes) >
		    chain_alloc_need(chain, chain->bytes))
		chain->hmp->dirty_bytes +=
			chain_alloc_need(chain, nbytes) -
			chain_alloc_need(chain, chain->bytes);
	chain->data = ndata;
	chain->bytes = nbytes;
	return 0;
}

/* ---------------- lookup ---------------- */

static hammer2_chain_t *chain_lookup_depth(hammer2_chain_t *parent,
					   hammer2_key_t key_beg,
					   hammer2_key_t key_end, int flags,
					   int *errorp, int depth)
{
	hammer2_blockref_t *base;
	int count, live, i, error;

	if (depth > CHAIN_MAX_DEPTH) {
		*errorp |= HAMMER2_ERROR_BADBREF;
		return NULL;
	}
	if (parent->bref.type != HAMMER2_BREF_TYPE_VOLUME &&
	    parent->bref.type != HAMMER2_BREF_TYPE_FREEMAP) {
		error = hammer2_chain_load(parent);
		if (error) {
			*errorp |= error;
			return NULL;
		}
	}
	base = hammer2_chain_base(parent, &count);
	if (base == NULL)
		return NULL;
	live = hammer2_base_live(base, count);
	for (i = slot_find(parent, base, live, key_beg); i < live; i++) {
		hammer2_blockref_t *b = slot_bref(parent, base, i);
		hammer2_chain_t *chain;

		if (b->key > key_end)
			break;
		chain = chain_slot(parent, base, count, i);
		if (chain == NULL) {
			*errorp |= HAMMER2_ERROR_ENOMEM;
			return NULL;
		}
		if (chain_is_node(chain->bref.type)) {
			hammer2_chain_t *found;

			hammer2_chain_ref(chain);
			found = chain_lookup_depth(chain, key_beg, key_end,
						   flags, errorp, depth + 1);
			hammer2_chain_drop(chain);
			if (found || *errorp)
				return found;
			/* the array may have been reloaded: refresh */
			base = hammer2_chain_base(parent, &count);
			continue;
		}
		hammer2_chain_ref(chain);
		if (!(flags & HAMMER2_LOOKUP_NODATA) &&
		    !(chain->flags & HAMMER2_CHAIN_INITIAL)) {
			error = hammer2_chain_load(chain);
			if (error) {
				hammer2_chain_drop(chain);
				*errorp |= error;
				return NULL;
			}
		}
		return chain;
	}
	return NULL;
}

/*
 * Find the first leaf chain below parent (descending through indirect
 * blocks) whose key range intersects [key_beg, key_end].  Returns it
 * referenced (data loaded unless LOOKUP_NODATA) or NULL; *errorp receives
 * error flags (it is cleared first).
 */
hammer2_chain_t *hammer2_chain_lookup(hammer2_chain_t *parent,
				      hammer2_key_t key_beg,
				      hammer2_key_t key_end, int flags,
				      int *errorp)
{
	*errorp = 0;
	return chain_lookup_depth(parent, key_beg, key_end, flags, errorp, 0);
}

/*
 * Continue a scan: drops the reference on chain and returns the next leaf
 * after its key range, up to key_end, or NULL.
 */
hammer2_chain_t *hammer2_chain_next(hammer2_chain_t *parent,
				    hammer2_chain_t *chain,
				    hammer2_key_t key_end, int flags,
				    int *errorp)
{
	hammer2_key_t next = bref_key_end(&chain->bref);

	hammer2_chain_drop(chain);
	*errorp = 0;
	if (next == HAMMER2_KEY_MAX || next >= key_end)
		return NULL;
	return hammer2_chain_lookup(parent, next + 1, key_end, flags, errorp);
}

/* ---------------- insertion and indirect blocks ---------------- */

/*
 * Remove slots [i, i + n) of parent's array (and their cached chains'
 * pointers, which the caller has taken or freed): what follows moves up
 * in one memmove, the freed tail is zeroed.
 */
static void slot_remove_range(hammer2_chain_t *parent, hammer2_blockref_t *base,
			      int count, int i, int n)
{
	int live = hammer2_base_live(base, count), k;

	h2_memmove(&base[i], &base[i + n],
		   sizeof(*base) * (size_t)(live - i - n));
	h2_memset(&base[live - n], 0, sizeof(*base) * (size_t)n);
	if (parent->children) {
		for (k = i; k < i + n; k++)
			if (parent->children[k])
				parent->nchildren--;
		h2_memmove(&parent->children[i], &parent->children[i + n],
			   sizeof(void *) * (size_t)(live - i - n));
		h2_memset(&parent->children[live - n], 0,
			  sizeof(void *) * (size_t)n);
	}
}

/* Remove slot i of parent (arrays shift left). */
static void slot_remove(hammer2_chain_t *parent, hammer2_blockref_t *base,
			int count, int i)
{
	slot_remove_range(parent, base, count, i, 1);
}

/* Insert chain at slot i of parent (room must exist). */
static int slot_insert(hammer2_chain_t *parent, hammer2_blockref_t *base,
		       int count, int i, hammer2_chain_t *chain)
{
	int live = hammer2_base_live(base, count);

	H2_ASSERT(live < count);
	if (parent->children == NULL) {
		parent->children = hammer2_alloc(sizeof(void *) * count);
		if (parent->children == NULL)
			return HAMMER2_ERROR_ENOMEM;
	}
	h2_memmove(&base[i + 1], &base[i], sizeof(*base) * (size_t)(live - i));
	h2_memmove(&parent->children[i + 1], &parent->children[i],
		   sizeof(void *) * (size_t)(live - i));
	base[i] = chain->bref;
	parent->children[i] = chain;
	parent->nchildren++;
	chain->parent = parent;
	lru_del(parent);
	chain_setflush(chain);
	return 0;
}

static int is_freemap_parent(hammer2_chain_t *parent)
{
	return parent->bref.type == HAMMER2_BREF_TYPE_FREEMAP ||
	       parent->bref.type == HAMMER2_BREF_TYPE_FREEMAP_NODE;
}

/*
 * Choose the entries a new indirect block takes from a full, non-freemap
 * array.  Its key range is 2^nkb, aligned: at least its capacity above the
 * smallest entry radix (so sequential file blocks fill 8 MiB indirect
 * blocks of 128 entries, as HAMMER2 sizes them), at least half of the span
 * of the keys (hashed directory keys split in halves), and less than the
 * parent's own range.  The aligned group holding the most entries smaller
 * than that range moves; it must hold two or more.
 */
static int split_pick_normal(hammer2_chain_t *parent, hammer2_blockref_t *base,
			     int live, int *firstp, int *movedp,
			     hammer2_key_t *nkeyp, int *nkbp, uint32_t *nbytesp)
{
	hammer2_key_t kmin = slot_bref(parent, base, 0)->key;
	hammer2_key_t kmax = bref_key_end(slot_bref(parent, base, live - 1));
	hammer2_key_t diff = kmin ^ kmax;
	int isdata = 0, capbits;
	int prange = chain_is_node(parent->bref.type) ? parent->bref.keybits :
							64;
	int minkb = 64, nkb, i, start = 0, run = 0, best = 0, bestn = 0;
	uint32_t nbytes, want;

	for (i = 0; i < live; i++) {
		minkb = H2_MIN(minkb, slot_bref(parent, base, i)->keybits);
		isdata |= slot_bref(parent, base, i)->type ==
			  HAMMER2_BREF_TYPE_DATA;
	}
	capbits = isdata ? 7 : 5; /* 16 KiB or 4 KiB of blockrefs */
	nkb = H2_MAX(63 - __builtin_clzll(diff ? diff : 1), minkb + capbits);
	if (nkb >= prange)
		nkb = prange - 1;
	for (; nkb < prange; nkb++) {
		bestn = 0;
		for (i = 0; i < live; i++) {
			hammer2_blockref_t *b = slot_bref(parent, base, i);

			if (b->keybits >= nkb) { /* as large as the block */
				run = 0;
				continue;
			}
			if (run == 0 ||
			    (b->key >> nkb) !=
				    (slot_bref(parent, base, i - 1)->key >>
				     nkb)) {
				start = i;
				run = 0;
			}
			if (++run > bestn) {
				bestn = run;
				best = start;
			}
		}
		if (bestn >= 2 && bestn < live + 1)
			break;
	}
	if (bestn < 2 || nkb >= prange)
		return HAMMER2_ERROR_EINVAL; /* overlapping keys: corrupt */
	want = (uint32_t)bestn * (isdata ? 1 : 2) * sizeof(hammer2_blockref_t);
	nbytes = isdata ? HAMMER2_IND_BYTES_NOM : HAMMER2_IND_BYTES_MIN;
	while (nbytes < want && nbytes < HAMMER2_IND_BYTES_MAX)
		nbytes <<= 1;
	*firstp = best;
	*movedp = bestn;
	*nkbp = nkb;
	*nkeyp = nkb >= 64 ? 0 :
			     slot_bref(parent, base, best)->key &
				     ~(((hammer2_key_t)1 << nkb) - 1);
	*nbytesp = nbytes;
	return 0;
}

/*
 * The parent's array is full: move a contiguous group of entries into a
 * new indirect block inserted in their place.  Normal arrays split at the
 * highest differing key bit and move the larger half; freemap arrays group
 * by the next freemap level so node keybits stay on level boundaries.
 */
static int chain_split(hammer2_chain_t *parent)
{
	hammer2_dev_t *hmp = parent->hmp;
	hammer2_blockref_t *base, *nbase, nbref;
	hammer2_chain_t *ind;
	int count, live, first, moved, i, j, error, nkb, ncount;
	uint32_t nbytes;
	hammer2_key_t nkey;

	error = hammer2_chain_modify(parent);
	if (error)
		return error;
	base = hammer2_chain_base(parent, &count);
	live = hammer2_base_live(base, count);
	H2_ASSERT(live == count && live >= 2);

	h2_memset(&nbref, 0, sizeof(nbref));
	if (is_freemap_parent(parent)) {
		int maxkb = 0, lvl, best = 0, bestn = 0;

		for (i = 0; i < live; i++)
			maxkb = H2_MAX(maxkb,
				       slot_bref(parent, base, i)->keybits);
		nkb = -1;
		for (lvl = 0; lvl < (int)H2_ARRAY_SIZE(freemap_levels); lvl++) {
			int kb = freemap_levels[lvl], run = 0, start = 0;

			if (kb <= maxkb)
				continue;
			/* longest run of entries sharing key >> kb */
			bestn = 0;
			for (i = 0; i < live; i++) {
				hammer2_key_t k =
					slot_bref(parent, base, i)->key;
				if (i == 0 ||
				    (k >> kb) != (slot_bref(parent, base, i - 1)
							  ->key >>
						  kb)) {
					start = i;
					run = 0;
				}
				if (++run > bestn) {
					bestn = run;
					best = start;
				}
			}
			if (bestn >= 2) {
				nkb = kb;
				break;
			}
		}
		if (nkb < 0)
			return HAMMER2_ERROR_ENOSPC;
		first = best;
		moved = bestn;
		nkey = H2FMBASE(slot_bref(parent, base, first)->key, nkb);
		nbytes = HAMMER2_FREEMAP_LEVELN_PSIZE;
		nbref.type = HAMMER2_BREF_TYPE_FREEMAP_NODE;
		nbref.methods = HAMMER2_ENC_CHECK(HAMMER2_CHECK_FREEMAP);
	} else {
		error = split_pick_normal(parent, base, live, &first, &moved,
					  &nkey, &nkb, &nbytes);
		if (error)
			return error;
		nbref.type = HAMMER2_BREF_TYPE_INDIRECT;
		nbref.methods = HAMMER2_ENC_CHECK(HAMMER2_DEC_CHECK(
			slot_bref(parent, base, first)->methods));
	}
	H2_ASSERT(moved >= 2 && moved < live + 1);
	nbref.key = nkey;
	nbref.keybits = (uint8_t)nkb;
	nbref.modify_tid = hmp->voldata.mirror_tid + 1;

	ind = chain_alloc(hmp, &nbref);
	if (ind == NULL)
		return HAMMER2_ERROR_ENOMEM;
	ind->data = hammer2_alloc(nbytes);
	ncount = (int)(nbytes / sizeof(hammer2_blockref_t));
	ind->children = hammer2_alloc(sizeof(void *) * ncount);
	if (ind->data == NULL || ind->children == NULL) {
		chain_free(ind);
		return HAMMER2_ERROR_ENOMEM;
	}
	ind->bytes = nbytes;
	ind->flags = HAMMER2_CHAIN_MODIFIED | HAMMER2_CHAIN_UPDATE |
		     HAMMER2_CHAIN_INITIAL | HAMMER2_CHAIN_ONFLUSH;
	chain_account(ind);
	nbase = (hammer2_blockref_t *)ind->data;
	for (j = 0, i = first; i < first + moved; i++, j++) {
		hammer2_chain_t *child =
			parent->children ? parent->children[i] : NULL;
		nbase[j] = *slot_bref(parent, base, i);
		if (child) {
			ind->children[j] = child;
			ind->nchildren++;
			child->parent = ind;
		}
	}
	/* remove the moved range, then insert the indirect block there */
	slot_remove_range(parent, base, count, first, moved);
	return slot_insert(parent, base, count, first, ind);
}

/*
 * Insert a chain (bref.key/keybits set) below parent, descending through
 * indirect blocks that cover its key range and splitting full arrays.
 * Errors: EEXIST (overlapping key), ENOMEM, media errors.
 */
static int chain_insert(hammer2_chain_t *parent, hammer2_chain_t *chain)
{
	hammer2_key_t beg = chain->bref.key, end = bref_key_end(&chain->bref);
	int depth = 0, error;

	for (;;) {
		hammer2_blockref_t *base, *b;
		int count, live, i;

		if (++depth > CHAIN_MAX_DEPTH * 4)
			return HAMMER2_ERROR_BADBREF;
		if (parent->bref.type != HAMMER2_BREF_TYPE_VOLUME &&
		    parent->bref.type != HAMMER2_BREF_TYPE_FREEMAP) {
			error = hammer2_chain_load(parent);
			if (error)
				return error;
		}
		base = hammer2_chain_base(parent, &count);
		if (base == NULL)
			return HAMMER2_ERROR_EINVAL;
		live = hammer2_base_live(base, count);
		i = slot_find(parent, base, live, beg);
		if (i < live && (b = slot_bref(parent, base, i))->key <= end) {
			if (chain_is_node(b->type) && b->key <= beg &&
			    bref_key_end(b) >= end) {
				hammer2_chain_t *node =
					chain_slot(parent, base, count, i);
				if (node == NULL)
					return HAMMER2_ERROR_ENOMEM;
				parent = node;
				continue;
			}
			return HAMMER2_ERROR_EEXIST;
		}
		if (live < count) {
			error = hammer2_chain_modify(parent);
			if (error)
				return error;
			base = hammer2_chain_base(parent, &count);
			return slot_insert(parent, base, count, i, chain);
		}
		error = chain_split(parent);
		if (error)
			return error;
	}
}

/*
 * Create a leaf chain of the given type, key and keybits with a zeroed
 * logical buffer of bytes (allocation happens at flush).  On success
 * *chainp is referenced.  Errors: EEXIST, ENOMEM, media errors.
 */
int hammer2_chain_create(hammer2_chain_t *parent, hammer2_chain_t **chainp,
			 int type, hammer2_key_t key, int keybits,
			 uint32_t bytes, uint8_t methods)
{
	return hammer2_chain_create_flags(parent, chainp, type, key, keybits,
					  bytes, methods, 0);
}

/* See hammer2.h. */
int hammer2_chain_create_flags(hammer2_chain_t *parent,
			       hammer2_chain_t **chainp, int type,
			       hammer2_key_t key, int keybits, uint32_t bytes,
			       uint8_t methods, int flags)
{
	hammer2_dev_t *hmp = parent->hmp;
	hammer2_blockref_t bref;
	hammer2_chain_t *chain;
	int error;

	*chainp = NULL;
	h2_memset(&bref, 0, sizeof(bref));
	bref.type = (uint8_t)type;
	bref.key = key;
	bref.keybits = (uint8_t)keybits;
	bref.methods = methods;
	bref.modify_tid = hmp->voldata.mirror_tid + 1;
	chain = chain_alloc(hmp, &bref);
	if (chain == NULL)
		return HAMMER2_ERROR_ENOMEM;
	if (flags & HAMMER2_CREATE_DIRECT) {
		H2_ASSERT(type == HAMMER2_BREF_TYPE_DATA);
		chain->flags = HAMMER2_CHAIN_MODIFIED | HAMMER2_CHAIN_UPDATE |
			       HAMMER2_CHAIN_DIRECT;
	} else {
		chain->data = (flags & HAMMER2_CREATE_UNZEROED) ?
				      hammer2_alloc_raw(bytes) :
				      hammer2_alloc(bytes);
		if (chain->data == NULL) {
			chain_free(chain);
			return HAMMER2_ERROR_ENOMEM;
		}
		chain->bytes = bytes;
		chain->flags = HAMMER2_CHAIN_MODIFIED | HAMMER2_CHAIN_UPDATE |
			       HAMMER2_CHAIN_INITIAL;
	}
	error = chain_insert(parent, chain);
	if (error) {
		chain_free(chain);
		return error;
	}
	if (!(flags & HAMMER2_CREATE_DIRECT))
		chain_account(chain);
	chain->refs = 1;
	*chainp = chain;
	return 0;
}

/* ---------------- deletion ---------------- */

static void chain_free_media_depth(hammer2_chain_t *chain, int depth);

/* Queue the media of one array slot (and what is below it) for freeing. */
static void slot_free_media(hammer2_chain_t *parent, hammer2_blockref_t *base,
			    int count, int i, int depth)
{
	hammer2_blockref_t *b = slot_bref(parent, base, i);
	hammer2_chain_t *child;

	if ((parent->children && parent->children[i]) ||
	    b->type == HAMMER2_BREF_TYPE_INODE || chain_is_node(b->type)) {
		child = chain_slot(parent, base, count, i);
		if (child)
			chain_free_media_depth(child, depth + 1);
		return;
	}
	if (b->data_off & HAMMER2_OFF_MASK_RADIX)
		hammer2_freemap_free_deferred(parent->hmp, b->data_off);
}

static void chain_free_media_depth(hammer2_chain_t *chain, int depth)
{
	hammer2_blockref_t *base;
	int count, live, i;

	if (chain->bref.data_off & HAMMER2_OFF_MASK_RADIX)
		hammer2_freemap_free_deferred(chain->hmp, chain->bref.data_off);
	if (depth > CHAIN_MAX_DEPTH)
		return;
	if (chain->bref.type != HAMMER2_BREF_TYPE_INODE &&
	    !chain_is_node(chain->bref.type))
		return;
	if (hammer2_chain_load(chain))
		return; /* unreadable: its blocks leak (fsck reports them) */
	base = hammer2_chain_base(chain, &count);
	if (base == NULL)
		return;
	live = hammer2_base_live(base, count);
	for (i = 0; i < live; i++)
		slot_free_media(chain, base, count, i, depth);
}

/*
 * Queue every block of a deleted chain's sub-tree for freeing at the next
 * flush.  Used for unlinked files on their last close.
 */
void hammer2_chain_free_media(hammer2_chain_t *chain)
{
	chain_free_media_depth(chain, 0);
}

/*
 * Remove chain from its parent.  Unless HAMMER2_DELETE_KEEPMEDIA, its
 * sub-tree's blocks are queued for freeing.  The chain becomes DELETED and
 * detached; an indirect block left empty is deleted too.  The caller's
 * reference stays valid.
 */
int hammer2_chain_delete(hammer2_chain_t *chain, int flags)
{
	hammer2_chain_t *parent = chain->parent;
	hammer2_blockref_t *base;
	int count, i, error;

	if (parent == NULL)
		return 0;
	error = hammer2_chain_modify(parent);
	if (error)
		return error;
	i = chain_index(chain);
	H2_ASSERT(i >= 0);
	base = hammer2_chain_base(parent, &count);
	slot_remove(parent, base, count, i);
	chain->parent = NULL;
	chain->flags |= HAMMER2_CHAIN_DELETED;
	lru_del(chain);
	if (!(flags & HAMMER2_DELETE_KEEPMEDIA))
		chain_free_media_depth(chain, 0);
	if (chain_is_node(parent->bref.type) &&
	    hammer2_base_live(base, count) == 0) {
		hammer2_chain_ref(parent);
		error = hammer2_chain_delete(parent, 0);
		hammer2_chain_drop(parent);
	}
	return error;
}

/*
 * Move chain under nparent with key nkey (rename).  Its media and its
 * cached sub-tree move with it; the slot in the new parent is written at
 * the next flush.  Errors: EEXIST, ENOMEM, media errors.
 */
int hammer2_chain_rename(hammer2_chain_t *chain, hammer2_chain_t *nparent,
			 hammer2_key_t nkey)
{
	int error;

	hammer2_chain_ref(chain);
	error = hammer2_chain_delete(chain, HAMMER2_DELETE_KEEPMEDIA);
	if (error == 0) {
		chain->flags &= ~HAMMER2_CHAIN_DELETED;
		chain->flags |= HAMMER2_CHAIN_UPDATE;
		chain->bref.key = nkey;
		error = chain_insert(nparent, chain);
	}
	chain->refs--;
	return error;
}
