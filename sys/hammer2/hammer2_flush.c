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
 *   4. Write the queue (sorted, coalesced), barrier, write the volume
 *      header copy (rotating over the copies that fit), barrier.
 *
 * A failure before step 4's header write leaves the previous commit
 * intact.  After an I/O error the device is marked broken (read-only).
 */
#include "hammer2.h"

#define FLUSH_MAX_DEPTH 48
#define WQ_MAX_RUN (1024 * 1024)
#define COMP_FAIL_LIMIT 8
#define COMP_SKIP_BLOCKS 64

static int flush_queue_write(hammer2_dev_t *hmp, hammer2_off_t off,
			     const void *data, uint32_t bytes)
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
	w->data = hammer2_alloc(bytes);
	if (w->data == NULL)
		return HAMMER2_ERROR_ENOMEM;
	h2_memcpy(w->data, data, bytes);
	w->off = off;
	w->bytes = bytes;
	hmp->nwq++;
	return 0;
}

static int wq_cmp(const void *a, const void *b)
{
	const struct hammer2_wq *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* Write the queue in offset order, coalescing adjacent blocks. */
static int flush_write_queue(hammer2_dev_t *hmp)
{
	uint8_t *run = NULL;
	size_t i = 0, j, k;
	int error = 0;

	if (hmp->nwq == 0)
		return 0;
	hammer2_sort(hmp->wq, hmp->nwq, sizeof(*hmp->wq), wq_cmp);
	while (i < hmp->nwq && error == 0) {
		uint64_t len = hmp->wq[i].bytes;
		const void *buf = hmp->wq[i].data;

		for (j = i + 1;
		     j < hmp->nwq && hmp->wq[j].off == hmp->wq[i].off + len &&
		     len + hmp->wq[j].bytes <= WQ_MAX_RUN;
		     j++)
			len += hmp->wq[j].bytes;
		if (j > i + 1) {
			if (run == NULL)
				run = hammer2_alloc(WQ_MAX_RUN);
			if (run == NULL) {
				j = i + 1;
				len = hmp->wq[i].bytes;
			} else {
				uint64_t pos = 0;
				for (k = i; k < j; k++) {
					h2_memcpy(run + pos, hmp->wq[k].data,
						  hmp->wq[k].bytes);
					pos += hmp->wq[k].bytes;
				}
				buf = run;
			}
		}
		hmp->stat_writes++;
		hmp->stat_write_bytes += len;
		if (hmp->ops->write(hmp->ctx, buf, (size_t)len, hmp->wq[i].off))
			error = HAMMER2_ERROR_EIO;
		i = j;
	}
	hammer2_free(run);
	if (error == 0) {
		for (i = 0; i < hmp->nwq; i++)
			hammer2_free(hmp->wq[i].data);
		hmp->nwq = 0;
	}
	return error;
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
		dc += hammer2_off_bytes(b->data_off);
		if (b->type == HAMMER2_BREF_TYPE_INODE ||
		    b->type == HAMMER2_BREF_TYPE_INDIRECT) {
			dc += b->embed.stats.data_count;
			ic += b->embed.stats.inode_count;
		}
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

/*
 * Give a modified chain its new block and queue the write.  DATA is
 * compressed per chain->comp_algo and kept compressed only when that at
 * least halves it; the check code covers the physical bytes.
 */
static int flush_write_chain(hammer2_dev_t *hmp, hammer2_chain_t *chain,
			     hammer2_tid_t tid)
{
	hammer2_blockref_t *bref = &chain->bref;
	const uint8_t *phys = chain->data;
	uint8_t *cbuf = NULL;
	uint32_t pbytes = chain->bytes;
	hammer2_off_t noff;
	int error, comp = HAMMER2_COMP_NONE;

	H2_ASSERT(chain->data != NULL);
	if (bref->type == HAMMER2_BREF_TYPE_DATA) {
		int algo = HAMMER2_DEC_ALGO(chain->comp_algo);
		hammer2_chain_t *parent = chain->parent;

		/*
		 * Incompressible data: after COMP_FAIL_LIMIT consecutive
		 * failures under one parent (inode or indirect block), the
		 * next COMP_SKIP_BLOCKS blocks are stored raw, then retried.
		 */
		if (parent && parent->comp_skip > 0 &&
		    (algo == HAMMER2_COMP_LZ4 || algo == HAMMER2_COMP_ZLIB)) {
			parent->comp_skip--;
			algo = HAMMER2_COMP_NONE;
		}
		if (algo == HAMMER2_COMP_LZ4 || algo == HAMMER2_COMP_ZLIB) {
			cbuf = hammer2_alloc(chain->bytes);
			if (cbuf) {
				uint32_t c = hammer2_compress_block(
					chain->comp_algo, chain->data,
					chain->bytes, cbuf);
				if (c) {
					comp = algo;
					phys = cbuf;
					pbytes = c;
				}
				if (parent && c)
					parent->comp_fails = 0;
				else if (parent && ++parent->comp_fails >=
							   COMP_FAIL_LIMIT) {
					parent->comp_fails = 0;
					parent->comp_skip = COMP_SKIP_BLOCKS;
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
	error = flush_queue_write(hmp, bref->data_off & HAMMER2_OFF_MASK, phys,
				  pbytes);
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

/* Write the volume header to the next copy and barrier around it. */
static int flush_volume_header(hammer2_dev_t *hmp, hammer2_tid_t tid)
{
	int next = hmp->volhdrno;

	do {
		next = (next + 1) % HAMMER2_NUM_VOLHDRS;
	} while (next != 0 &&
		 hammer2_volhdr_offset(next) + HAMMER2_VOLUME_BYTES >
			 hmp->volu_size);
	hmp->voldata.mirror_tid = tid;
	hmp->voldata.freemap_tid = tid;
	hammer2_voldata_setcrc(&hmp->voldata);
	hmp->stat_writes++;
	hmp->stat_write_bytes += HAMMER2_VOLUME_BYTES;
	if (hmp->ops->write(hmp->ctx, &hmp->voldata, HAMMER2_VOLUME_BYTES,
			    hammer2_volhdr_offset(next)))
		return HAMMER2_ERROR_EIO;
	if (hmp->ops->flush(hmp->ctx))
		return HAMMER2_ERROR_EIO;
	hmp->volhdrno = next;
	return 0;
}

/*
 * Flush all modifications (see the essay above).  Returns error flags:
 * EIO (device broken from now on; the previous commit stays valid),
 * ENOSPC (nothing committed; queued writes are kept for the next
 * attempt), EROFS.
 */
int hammer2_flush(hammer2_dev_t *hmp)
{
	hammer2_tid_t tid;
	int error;

	if (hmp->broken)
		return HAMMER2_ERROR_EIO;
	if (hmp->rdonly)
		return 0;
	if (!((hmp->vchain.flags | hmp->fchain.flags) &
	      (HAMMER2_CHAIN_ONFLUSH | HAMMER2_CHAIN_MODIFIED)) &&
	    hmp->nfrees == 0 && hmp->nwq == 0)
		return 0;
	tid = hmp->voldata.mirror_tid + 1;
	hmp->flush_tid = tid;
	error = flush_chain(hmp, &hmp->vchain, tid, 0);
	if (error == 0)
		error = hammer2_freemap_apply_frees(hmp);
	if (error == 0)
		error = flush_chain(hmp, &hmp->fchain, tid, 0);
	if (error == 0)
		error = flush_write_queue(hmp);
	if (error == 0 && hmp->ops->flush(hmp->ctx))
		error = HAMMER2_ERROR_EIO;
	if (error == 0)
		error = flush_volume_header(hmp, tid);
	hmp->flush_tid = 0;
	if (error & HAMMER2_ERROR_EIO) {
		hmp->broken = 1;
		hammer2_log("flush of tid %llu failed, device is "
			    "read-only now",
			    (unsigned long long)tid);
	}
	if (error == 0) {
		hmp->stat_flushes++;
		hmp->dirty_bytes = 0;
		hammer2_chain_lru_trim(hmp);
	}
	return error;
}
