/*
 * hammer2_flush.c - transactions and the flush.
 *
 *			TRANSACTION AND FLUSH HANDLING
 *
 * A flush commits every modification made since the previous one under a
 * new transaction id, tid = voldata.mirror_tid + 1.  It runs with the
 * device lock held, so each frontend operation lies wholly before or
 * wholly after it: that is the synchronization point, and a chain
 * modified again after a flush is simply MODIFIED again and gets yet
 * another new block at the next flush (never an overwrite in place).
 *
 * Order of work:
 *   1. Recurse bottom-up from vchain.  Children first; each child with
 *      UPDATE has its blockref copied into the parent's array, which
 *      makes the parent MODIFIED.  Each MODIFIED chain then gets a new
 *      block (freemap), DATA is compressed, the check code is computed
 *      over the physical bytes, the write is queued and its old block is
 *      queued for freeing.
 *   2. Apply the queued frees to the freemap (after all allocations, so
 *      this flush cannot reuse what it freed).
 *   3. Recurse from fchain: freemap blocks go to their next rotation slot.
 *      A commit for fsync (hammer2_flush_mode(hmp, 0)) skips this step:
 *      the freemap stays modified in memory and the header keeps the
 *      freemap_tid of the last commit that wrote it (docs/DESIGN.md).
 *   4. Write the queue (sorted, coalesced), barrier, write the volume
 *      header copy (rotating over the copies that fit; only its first
 *      and last 4 KiB when the copy's middle is on the media already,
 *      see flush_volhdr_pieces), barrier.
 *
 * Steps 1-3 run under the device lock.  Step 4 runs without it (the
 * frontend goes on meanwhile; flush_busy and flush_lock keep a second
 * flush out until this one is done):
 *   - the queue lends the chains' own buffers (IOBUSY): a chain modified
 *     meanwhile first hands its buffer to the queue and takes a copy
 *     (hammer2_chain_modify), a chain freed meanwhile hands it over too,
 *     and IOBUSY chains are never evicted;
 *   - the header written is a copy of voldata taken at the end of step 3;
 *   - the freemap cannot change (only a flush allocates, and frees queued
 *     meanwhile wait for the next flush), so nothing this flush wrote or
 *     still references can be reused before its header is on the media.
 * The lock is taken again to release the queue and record the result.
 *
 * A failure before step 4's header write leaves the previous commit
 * intact.  After an I/O error the device is marked broken (read-only).
 */
#include "hammer2.h"

#define FLUSH_MAX_DEPTH 48
#define WQ_MAX_RUN (1024 * 1024)
#define COMP_FAIL_LIMIT 8
#define COMP_SKIP_BLOCKS 64
#define COMP_SKIP_MAX_SHIFT 2 /* windows grow to 64 << 2 = 256 blocks */

/*
 * Queue a write of bytes at device offset off.  lender NULL hands the
 * buffer to the queue (freed after the write); else data is lender's own
 * buffer, borrowed (the chain becomes IOBUSY once the queue is final, see
 * the essay above; a flush that fails before writing turns borrowed
 * entries into copies, see flush_wq_own).  Errors: ENOMEM.
 */
static int flush_queue_write(hammer2_dev_t *hmp, hammer2_off_t off,
			     uint8_t *data, uint32_t bytes,
			     hammer2_chain_t *lender)
{
	struct hammer2_wq *w;

	if (hmp->nwq == hmp->maxwq) {
		size_t ncap = hmp->maxwq ? hmp->maxwq * 2 : 256;
		struct hammer2_wq *n = hammer2_alloc(sizeof(*n) * ncap);

		if (n == NULL)
			return HAMMER2_ERROR_ENOMEM;
		if (hmp->wq)
			h2_memcpy(n, hmp->wq, sizeof(*n) * hmp->nwq);
		hammer2_free(hmp->wq);
		hmp->wq = n;
		hmp->maxwq = ncap;
	}
	w = &hmp->wq[hmp->nwq];
	w->data = data;
	w->borrowed = lender != NULL;
	w->chain = lender;
	w->off = off;
	w->bytes = bytes;
	hmp->nwq++;
	return 0;
}

/*
 * Give every borrowed queue entry its own copy: the queue outlives this
 * flush (it failed) and the chains may be modified before the next one.
 * Errors: ENOMEM (the entries not copied stay borrowed; the caller then
 * treats the device as broken).
 */
static int flush_wq_own(hammer2_dev_t *hmp)
{
	size_t i;

	for (i = 0; i < hmp->nwq; i++) {
		struct hammer2_wq *w = &hmp->wq[i];
		uint8_t *copy;

		if (!w->borrowed)
			continue;
		copy = hammer2_alloc_raw(w->bytes);
		if (copy == NULL)
			return HAMMER2_ERROR_ENOMEM;
		h2_memcpy(copy, w->data, w->bytes);
		w->data = copy;
		w->borrowed = 0;
		w->chain = NULL;
	}
	return 0;
}

static int wq_cmp(const void *a, const void *b)
{
	const struct hammer2_wq *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/*
 * Write one run of n queue entries, adjacent on the media: as one writev
 * (iov: room for HAMMER2_IOV_MAX) when the device has it, else copied into
 * run (WQ_MAX_RUN bytes).  Without the buffer it needs (NULL) each entry
 * is written alone.  0 or EIO.
 */
static int flush_write_run(hammer2_dev_t *hmp, struct hammer2_wq *w, size_t n,
			   uint64_t len, uint8_t *run, struct hammer2_iov *iov)
{
	uint64_t pos = 0;
	size_t k;

	hmp->stat_writes++;
	hmp->stat_write_bytes += len;
	if (n == 1)
		return hmp->ops->write(hmp->ctx, w->data, w->bytes, w->off) ?
			       HAMMER2_ERROR_EIO :
			       0;
	if (hmp->ops->writev && iov) {
		for (k = 0; k < n; k++) {
			iov[k].iov_base = w[k].data;
			iov[k].iov_len = w[k].bytes;
		}
		return hmp->ops->writev(hmp->ctx, iov, (int)n, w->off) ?
			       HAMMER2_ERROR_EIO :
			       0;
	}
	if (run == NULL) {
		for (k = 0; k < n; k++)
			if (hmp->ops->write(hmp->ctx, w[k].data, w[k].bytes,
					    w[k].off))
				return HAMMER2_ERROR_EIO;
		return 0;
	}
	for (k = 0; k < n; k++) {
		h2_memcpy(run + pos, w[k].data, w[k].bytes);
		pos += w[k].bytes;
	}
	return hmp->ops->write(hmp->ctx, run, (size_t)len, w->off) ?
		       HAMMER2_ERROR_EIO :
		       0;
}

/*
 * Write the sorted queue, coalescing adjacent blocks into runs of at most
 * WQ_MAX_RUN bytes and HAMMER2_IOV_MAX blocks.  With an asynchronous
 * writev every run is in flight at once; wait collects them.  Runs
 * without the device lock: reads only the entries' off/bytes/data.
 */
static int flush_write_queue(hammer2_dev_t *hmp)
{
	struct hammer2_iov *iov = NULL;
	uint8_t *run = NULL;
	size_t i = 0, j;
	int error = 0;

	if (hmp->nwq == 0)
		return 0;
	if (hmp->ops->writev)
		iov = hammer2_alloc(sizeof(*iov) * HAMMER2_IOV_MAX);
	else
		run = hammer2_alloc_raw(WQ_MAX_RUN);
	while (i < hmp->nwq && error == 0) {
		uint64_t len = hmp->wq[i].bytes;

		for (j = i + 1; j < hmp->nwq && j - i < HAMMER2_IOV_MAX &&
				hmp->wq[j].off == hmp->wq[i].off + len &&
				len + hmp->wq[j].bytes <= WQ_MAX_RUN;
		     j++)
			len += hmp->wq[j].bytes;
		error = flush_write_run(hmp, &hmp->wq[i], j - i, len, run, iov);
		i = j;
	}
	if (hmp->ops->wait && hmp->ops->wait(hmp->ctx))
		error = HAMMER2_ERROR_EIO;
	hammer2_free(run);
	hammer2_free(iov);
	return error;
}

/* Lend the borrowed buffers: their chains become IOBUSY (device lock). */
static void flush_wq_lend(hammer2_dev_t *hmp)
{
	size_t i;

	for (i = 0; i < hmp->nwq; i++) {
		hammer2_chain_t *chain = hmp->wq[i].chain;

		if (chain) {
			chain->flags |= HAMMER2_CHAIN_IOBUSY;
			chain->wqi = (uint32_t)i + 1;
		}
	}
}

/*
 * Empty the written queue: lenders get their buffers back, or with
 * hmp->drop_clean_data give clean file data up once it is on the media
 * (written: the writes succeeded).  Device lock.
 */
static void flush_wq_release(hammer2_dev_t *hmp, int written)
{
	size_t i;

	for (i = 0; i < hmp->nwq; i++) {
		struct hammer2_wq *w = &hmp->wq[i];

		if (w->chain) {
			w->chain->flags &= ~HAMMER2_CHAIN_IOBUSY;
			w->chain->wqi = 0;
			if (written)
				hammer2_chain_drop_clean_data(w->chain);
		}
		if (!w->borrowed)
			hammer2_free(w->data);
	}
	hmp->nwq = 0;
}

/* See hammer2.h. */
void hammer2_flush_release_chain(hammer2_chain_t *chain)
{
	struct hammer2_wq *w;

	H2_ASSERT(chain->flags & HAMMER2_CHAIN_IOBUSY);
	H2_ASSERT(chain->wqi > 0 && chain->wqi <= chain->hmp->nwq);
	w = &chain->hmp->wq[chain->wqi - 1];
	H2_ASSERT(w->chain == chain && w->data == chain->data);
	w->borrowed = 0;
	w->chain = NULL;
	chain->flags &= ~HAMMER2_CHAIN_IOBUSY;
	chain->wqi = 0;
}

/*
 * Media bytes a blockref stands for: its block, and for an inode or
 * indirect block everything below it as of its last flush (embed.stats).
 */
static uint64_t bref_data_count(const hammer2_blockref_t *b)
{
	uint64_t dc = hammer2_off_bytes(b->data_off);

	if (b->type == HAMMER2_BREF_TYPE_INODE ||
	    b->type == HAMMER2_BREF_TYPE_INDIRECT)
		dc += b->embed.stats.data_count;
	return dc;
}

/* Recompute embed.stats (or the freemap avail hint) of a node from its array. */
static void flush_stats(hammer2_chain_t *chain)
{
	hammer2_blockref_t *base;
	uint64_t dc = 0, ic = 0, avail = 0;
	int count, live, i;

	base = hammer2_chain_base(chain, &count);
	live = base ? hammer2_base_live(base, count) : 0;
	for (i = 0; i < live; i++) {
		hammer2_blockref_t *b = &base[i];

		if (chain->bref.type == HAMMER2_BREF_TYPE_FREEMAP_NODE) {
			avail += b->check.freemap.avail;
			continue;
		}
		dc += bref_data_count(b);
		if (b->type == HAMMER2_BREF_TYPE_INODE ||
		    b->type == HAMMER2_BREF_TYPE_INDIRECT)
			ic += b->embed.stats.inode_count;
		if (b->type == HAMMER2_BREF_TYPE_INODE)
			ic++;
	}
	if (chain->bref.type == HAMMER2_BREF_TYPE_FREEMAP_NODE) {
		chain->bref.check.freemap.avail = avail;
		chain->bref.check.freemap.bigmask = (uint32_t)-1;
	} else if (chain->bref.type == HAMMER2_BREF_TYPE_INODE ||
		   chain->bref.type == HAMMER2_BREF_TYPE_INDIRECT) {
		chain->bref.embed.stats.data_count = dc;
		chain->bref.embed.stats.inode_count = ic;
	}
}

static uint64_t data_estimate(hammer2_chain_t *chain, int depth)
{
	hammer2_blockref_t *base;
	uint64_t dc = 0;
	int count, live, i;

	if (!(chain->flags &
	      (HAMMER2_CHAIN_ONFLUSH | HAMMER2_CHAIN_MODIFIED)) ||
	    depth > FLUSH_MAX_DEPTH)
		return chain->bref.embed.stats.data_count;
	base = hammer2_chain_base(chain, &count);
	live = base ? hammer2_base_live(base, count) : 0;
	for (i = 0; i < live; i++) {
		const hammer2_blockref_t *b = &base[i];
		hammer2_chain_t *c = chain->children ? chain->children[i] :
						       NULL;

		if (c == NULL) {
			dc += bref_data_count(b);
			continue;
		}
		/*
		 * a modified block is rewritten at (at most) its size; one
		 * written directly has its block already (no buffer)
		 */
		dc += (c->flags & HAMMER2_CHAIN_MODIFIED) &&
				      !(c->flags & HAMMER2_CHAIN_DIRECT) ?
			      c->bytes :
			      hammer2_off_bytes(c->bref.data_off);
		if (b->type == HAMMER2_BREF_TYPE_INODE ||
		    b->type == HAMMER2_BREF_TYPE_INDIRECT)
			dc += data_estimate(c, depth + 1);
	}
	return dc;
}

/* See hammer2.h. */
uint64_t hammer2_chain_data_estimate(hammer2_chain_t *chain)
{
	return data_estimate(chain, 0);
}

/*
 * Incompressible data: after COMP_FAIL_LIMIT consecutive failures in one
 * file (counted in its inode's chain), the next COMP_SKIP_BLOCKS blocks
 * are stored raw, then one is tried; each window whose next try fails too
 * is twice as long as the one before (up to COMP_SKIP_MAX_SHIFT
 * doublings), so a long incompressible stream costs few tries.  A block
 * that compresses starts it all again.  See hammer2.h.
 */
int hammer2_comp_choose(hammer2_chain_t *ip_chain, uint8_t comp_algo)
{
	int algo = HAMMER2_DEC_ALGO(comp_algo);

	if (algo != HAMMER2_COMP_LZ4 && algo != HAMMER2_COMP_ZLIB)
		return HAMMER2_COMP_NONE;
	if (ip_chain && ip_chain->comp_skip > 0) {
		ip_chain->comp_skip--;
		return HAMMER2_COMP_NONE;
	}
	return algo;
}

/* See hammer2.h. */
void hammer2_comp_note(hammer2_dev_t *hmp, hammer2_chain_t *ip_chain, int kept)
{
	hmp->stat_comp_tries++;
	hmp->stat_comp_kept += kept != 0;
	if (ip_chain == NULL)
		return;
	if (kept) {
		ip_chain->comp_fails = 0;
		ip_chain->comp_backoff = 0;
	} else if (ip_chain->comp_backoff) {
		/* the try after a window failed */
		ip_chain->comp_skip = COMP_SKIP_BLOCKS
				      << ip_chain->comp_backoff;
		if (ip_chain->comp_backoff < COMP_SKIP_MAX_SHIFT)
			ip_chain->comp_backoff++;
	} else if (++ip_chain->comp_fails >= COMP_FAIL_LIMIT) {
		ip_chain->comp_fails = 0;
		ip_chain->comp_skip = COMP_SKIP_BLOCKS;
		ip_chain->comp_backoff = 1;
	}
}

/*
 * Give a modified chain its new block and queue the write.  DATA is
 * compressed per chain->comp_algo and kept compressed only when that at
 * least halves it; the check code covers the physical bytes.
 */
static int flush_write_chain(hammer2_dev_t *hmp, hammer2_chain_t *chain,
			     hammer2_tid_t tid)
{
	hammer2_blockref_t *bref = &chain->bref;
	const uint8_t *phys;
	uint8_t *cbuf = NULL;
	uint32_t pbytes;
	hammer2_off_t noff;
	int error, comp = HAMMER2_COMP_NONE;

	if (chain->flags & HAMMER2_CHAIN_DIRECT) {
		/* placed and written by the direct write (direct_wait) */
		bref->mirror_tid = tid;
		chain->flags &=
			~(HAMMER2_CHAIN_MODIFIED | HAMMER2_CHAIN_DIRECT);
		chain->flags |= HAMMER2_CHAIN_UPDATE;
		return 0;
	}
	H2_ASSERT(chain->data != NULL);
	if (chain->flags & HAMMER2_CHAIN_PARTIAL) {
		/*
		 * Completed by hammer2_chain_partial_complete, normally; the
		 * old block may become the chain's buffer.
		 */
		error = hammer2_chain_load(chain);
		if (error)
			return error | HAMMER2_ERROR_EIO;
	}
	phys = chain->data;
	pbytes = chain->bytes;
	if (bref->type == HAMMER2_BREF_TYPE_DATA) {
		hammer2_chain_t *parent = chain->parent;
		int algo;

		/* the file's inode keeps the count, across indirect blocks */
		while (parent &&
		       parent->bref.type == HAMMER2_BREF_TYPE_INDIRECT &&
		       parent->parent)
			parent = parent->parent;
		algo = hammer2_comp_choose(parent, chain->comp_algo);
		if (algo == HAMMER2_COMP_LZ4 || algo == HAMMER2_COMP_ZLIB) {
			cbuf = hammer2_alloc_raw(chain->bytes);
			if (cbuf) {
				uint32_t c = hammer2_compress_block(
					chain->comp_algo, chain->data,
					chain->bytes, cbuf);

				hammer2_comp_note(hmp, parent, c != 0);
				if (c) {
					comp = algo;
					phys = cbuf;
					pbytes = c;
				}
			}
		}
		bref->methods = (uint8_t)((bref->methods & 0xF0) |
					  HAMMER2_ENC_COMP(comp));
		bref->vradix = (uint8_t)hammer2_bytes_to_radix(chain->bytes);
	}
	if (bref->type == HAMMER2_BREF_TYPE_FREEMAP_NODE ||
	    bref->type == HAMMER2_BREF_TYPE_FREEMAP_LEAF) {
		hammer2_freemap_reserve(hmp, chain);
	} else {
		int radix = hammer2_bytes_to_radix(pbytes);

		H2_ASSERT(((uint32_t)1 << radix) == pbytes);
		error = hammer2_freemap_alloc(hmp, bref->type, radix, &noff);
		if (error) {
			hammer2_free(cbuf);
			return error;
		}
		if (bref->data_off & HAMMER2_OFF_MASK_RADIX)
			hammer2_freemap_free_deferred(hmp, bref->data_off);
		bref->data_off = noff;
	}
	bref->mirror_tid = tid;
	hammer2_bref_setcheck(bref, phys, pbytes);
	/* the compressed copy goes to the queue, the chain's data is lent */
	error = flush_queue_write(hmp, bref->data_off & HAMMER2_OFF_MASK,
				  cbuf && phys == cbuf ? cbuf : chain->data,
				  pbytes, cbuf && phys == cbuf ? NULL : chain);
	if (error || phys != cbuf)
		hammer2_free(cbuf);
	if (error)
		return error;
	chain->flags &= ~(HAMMER2_CHAIN_MODIFIED | HAMMER2_CHAIN_INITIAL |
			  HAMMER2_CHAIN_ACCOUNTED);
	chain->flags |= HAMMER2_CHAIN_UPDATE;
	return 0;
}

static int flush_chain(hammer2_dev_t *hmp, hammer2_chain_t *chain,
		       hammer2_tid_t tid, int depth)
{
	int error;

	if (!(chain->flags & (HAMMER2_CHAIN_ONFLUSH | HAMMER2_CHAIN_MODIFIED |
			      HAMMER2_CHAIN_UPDATE)))
		return 0;
	if (depth > FLUSH_MAX_DEPTH)
		return HAMMER2_ERROR_BADBREF;
	if ((chain->flags & HAMMER2_CHAIN_ONFLUSH) && chain->children) {
		hammer2_blockref_t *base;
		int count, live, i;

		base = hammer2_chain_base(chain, &count);
		live = base ? hammer2_base_live(base, count) : 0;
		for (i = 0; i < live; i++) {
			hammer2_chain_t *child = chain->children[i];

			if (child == NULL)
				continue;
			error = flush_chain(hmp, child, tid, depth + 1);
			if (error)
				return error;
			if (child->flags & HAMMER2_CHAIN_UPDATE) {
				error = hammer2_chain_modify(chain);
				if (error)
					return error;
				base = hammer2_chain_base(chain, &count);
				base[i] = child->bref;
				child->flags &= ~HAMMER2_CHAIN_UPDATE;
				hammer2_chain_settle(child);
			}
		}
	}
	chain->flags &= ~HAMMER2_CHAIN_ONFLUSH;
	if (!(chain->flags & HAMMER2_CHAIN_MODIFIED))
		return 0;
	if (chain->bref.type == HAMMER2_BREF_TYPE_VOLUME ||
	    chain->bref.type == HAMMER2_BREF_TYPE_FREEMAP) {
		chain->flags &=
			~(HAMMER2_CHAIN_MODIFIED | HAMMER2_CHAIN_UPDATE);
		return 0;
	}
	flush_stats(chain);
	return flush_write_chain(hmp, chain, tid);
}

/* The header copy slot after cur: rotating over the copies that fit. */
static int flush_next_volhdr(hammer2_dev_t *hmp, int cur)
{
	int next = cur;

	do {
		next = (next + 1) % HAMMER2_NUM_VOLHDRS;
	} while (next != 0 &&
		 hammer2_volhdr_offset(next) + HAMMER2_VOLUME_BYTES >
			 hmp->volu_size);
	return next;
}

/*
 * Can the header copy into slot next be written as its two changing
 * pieces (hammer2.h, volhdr_mid)?  Its middle must be on that copy's media
 * already.  A header whose middle changed in memory makes every copy
 * stale (and volhdr_midcrc is computed again).  Device lock.
 */
static int flush_volhdr_pieces(hammer2_dev_t *hmp,
			       const hammer2_volume_data_t *hdr, int next)
{
	const size_t mid = HAMMER2_VOLUME_TAIL_OFF - HAMMER2_VOLUME_HEAD_BYTES;
	const uint8_t *m = (const uint8_t *)hdr + HAMMER2_VOLUME_HEAD_BYTES;

	if (hmp->volhdr_mid == NULL)
		return 0;
	if (h2_memcmp(hmp->volhdr_mid, m, mid)) {
		h2_memcpy(hmp->volhdr_mid, m, mid);
		hmp->volhdr_midcrc = hammer2_voldata_midcrc(hdr);
		hmp->volhdr_same = 0;
	}
	return (hmp->volhdr_same >> next) & 1;
}

/*
 * The two changing pieces of header copy hdr (its first and last 4 KiB)
 * into the copy at byte offset off.  With an asynchronous writev both are
 * in flight together (one round trip to the device instead of two); the
 * caller's barrier waits for them.  Returns nonzero on error.
 */
static int flush_volhdr_write_pieces(hammer2_dev_t *hmp, const uint8_t *h,
				     hammer2_off_t off)
{
	const size_t tail = HAMMER2_VOLUME_BYTES - HAMMER2_VOLUME_TAIL_OFF;
	struct hammer2_iov iov[2] = {
		{ (void *)h, HAMMER2_VOLUME_HEAD_BYTES },
		{ (void *)(h + HAMMER2_VOLUME_TAIL_OFF), tail },
	};

	hmp->stat_writes += 2;
	hmp->stat_write_bytes += tail + HAMMER2_VOLUME_HEAD_BYTES;
	if (hmp->ops->writev && hmp->ops->wait && !hmp->volhdr_serial)
		return hmp->ops->writev(hmp->ctx, &iov[0], 1, off) ||
		       hmp->ops->writev(hmp->ctx, &iov[1], 1,
					off + HAMMER2_VOLUME_TAIL_OFF) ||
		       hmp->ops->wait(hmp->ctx);
	return hmp->ops->write(hmp->ctx, h, HAMMER2_VOLUME_HEAD_BYTES, off) ||
	       hmp->ops->write(hmp->ctx, h + HAMMER2_VOLUME_TAIL_OFF, tail,
			       off + HAMMER2_VOLUME_TAIL_OFF);
}

/*
 * Step 4 (no device lock): the queue, barrier, the header copy hdr into
 * slot next (whole, or pieces: its first and last 4 KiB), barrier.
 * Error flags (EIO).
 */
static int flush_io(hammer2_dev_t *hmp, const hammer2_volume_data_t *hdr,
		    int next, int pieces)
{
	const uint8_t *h = (const uint8_t *)hdr;
	hammer2_off_t off = hammer2_volhdr_offset(next);
	int error = flush_write_queue(hmp);

	/* the data blocks written directly that this commit references */
	if (error == 0 && hmp->ops->direct_wait &&
	    hmp->ops->direct_wait(hmp->ctx, 0))
		error = HAMMER2_ERROR_EIO;
	if (error == 0 && hmp->ops->flush(hmp->ctx))
		error = HAMMER2_ERROR_EIO;
	if (error)
		return error;
	if (pieces) {
		error = flush_volhdr_write_pieces(hmp, h, off);
	} else {
		hmp->stat_writes++;
		hmp->stat_write_bytes += HAMMER2_VOLUME_BYTES;
		error = hmp->ops->write(hmp->ctx, hdr, HAMMER2_VOLUME_BYTES,
					off);
	}
	if (error || hmp->ops->flush(hmp->ctx))
		return HAMMER2_ERROR_EIO;
	return 0;
}

/* Wait (device lock dropped meanwhile) until no flush is writing. */
static void flush_wait_idle(hammer2_dev_t *hmp)
{
	while (hmp->flush_busy) {
		hammer2_mtx_unlock(&hmp->lock);
		hammer2_mtx_lock(&hmp->flush_lock);
		hammer2_mtx_unlock(&hmp->flush_lock);
		hammer2_mtx_lock(&hmp->lock);
	}
}

/*
 * Flush all modifications (see the essay above).  Returns error flags:
 * EIO (device broken from now on; the previous commit stays valid),
 * ENOSPC or ENOMEM (nothing committed; queued writes are kept for the
 * next attempt).
 */
int hammer2_flush(hammer2_dev_t *hmp)
{
	return hammer2_flush_mode(hmp, 1);
}

/* See hammer2.h. */
int hammer2_flush_mode(hammer2_dev_t *hmp, int freemap)
{
	const unsigned dirty = HAMMER2_CHAIN_ONFLUSH | HAMMER2_CHAIN_MODIFIED;
	hammer2_volume_data_t *hdr;
	hammer2_tid_t tid;
	int error, next, pieces;

	flush_wait_idle(hmp);
	if (hmp->broken)
		return HAMMER2_ERROR_EIO;
	if (hmp->rdonly)
		return 0;
	freemap |= hmp->freemap_every_commit;
	if (!(hmp->vchain.flags & dirty) &&
	    !(freemap && (hmp->fchain.flags & dirty)) && hmp->nfrees == 0 &&
	    hmp->nwq == 0)
		return 0;
	hdr = hammer2_alloc_raw(sizeof(*hdr));
	if (hdr == NULL)
		return HAMMER2_ERROR_ENOMEM;
	tid = hmp->voldata.mirror_tid + 1;
	hmp->flush_tid = tid;
	/* blocks written in part get their old contents (bulk reads) */
	error = hammer2_chain_partial_complete(hmp);
	if (error) {
		/* the writes were accepted: losing them breaks the device */
		error |= HAMMER2_ERROR_EIO;
		hmp->flush_tid = 0;
		hammer2_free(hdr);
		goto out;
	}
	error = flush_chain(hmp, &hmp->vchain, tid, 0);
	if (error == 0)
		error = hammer2_freemap_apply_frees(hmp);
	if (error == 0 && freemap)
		error = flush_chain(hmp, &hmp->fchain, tid, 0);
	hmp->flush_tid = 0;
	if (error) {
		/* a queue kept for the next attempt must not alias chain data */
		if (!(error & HAMMER2_ERROR_EIO) && flush_wq_own(hmp))
			error |= HAMMER2_ERROR_EIO;
		hammer2_free(hdr);
		goto out;
	}
	hammer2_sort(hmp->wq, hmp->nwq, sizeof(*hmp->wq), wq_cmp);
	flush_wq_lend(hmp);
	next = flush_next_volhdr(hmp, hmp->volhdrno);
	hmp->voldata.mirror_tid = tid;
	if (freemap) {
		hmp->voldata.freemap_tid = tid;
		hmp->freemap_committed = hmp->voldata.freemap_blockset;
	} else {
		hmp->stat_freemap_skips++;
	}
	/* the middle holds no CRC: compared (and its CRC kept) before */
	pieces = flush_volhdr_pieces(hmp, &hmp->voldata, next);
	h2_memcpy(hdr, &hmp->voldata, sizeof(*hdr));
	/*
	 * Without the freemap the header keeps the blockset of the last
	 * commit that wrote it (voldata's is fchain's array: leaves created
	 * since are in it, unwritten).
	 */
	hdr->freemap_blockset = hmp->freemap_committed;
	hammer2_voldata_setcrc_mid(hdr, hmp->volhdr_mid ?
						hmp->volhdr_midcrc :
						hammer2_voldata_midcrc(hdr));
	/* what is modified from here on belongs to the next flush */
	hmp->dirty_bytes = 0;
	hmp->kicked = 0;
	/* direct writes begun from here on belong to the next commit */
	if (hmp->ops->direct_fence)
		hmp->ops->direct_fence(hmp->ctx);

	hmp->flush_busy = 1;
	hammer2_mtx_lock(&hmp->flush_lock);
	hammer2_mtx_unlock(&hmp->lock);
	error = flush_io(hmp, hdr, next, pieces);
	hammer2_mtx_lock(&hmp->lock);
	hammer2_free(hdr);
	/* written, or never to be (EIO: the device is broken from now on) */
	flush_wq_release(hmp, error == 0);
	if (error == 0) {
		hmp->volhdrno = next;
		hmp->volhdr_same |= 1U << next; /* its middle is on the media */
		/* what this flush freed is unreferenced on the media now */
		hammer2_freemap_fence_clear(hmp);
	}
	hmp->flush_busy = 0;
	hammer2_mtx_unlock(&hmp->flush_lock);
out:
	if (error & HAMMER2_ERROR_EIO) {
		hmp->broken = 1;
		hammer2_dev_log(hmp,
				"flush of tid %llu failed, device is "
				"read-only now",
				(unsigned long long)tid);
	}
	if (error == 0) {
		hmp->stat_flushes++;
		hammer2_chain_lru_trim(hmp);
	}
	return error;
}
