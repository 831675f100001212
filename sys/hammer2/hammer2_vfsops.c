/*
 * hammer2_vfsops.c - the VFS-neutral API (hammer2_vfsops.h).
 *
 * Each entry point takes the device lock, calls into hammer2_inode.c or
 * the flush, trims the chain cache, and converts HAMMER2_ERROR_* flags to
 * errno with hammer2_error_to_errno() - the only place that happens.
 */
#include "hammer2_inode.h"

#define H2_LRU_LIMIT 4096
#define H2_DIRTY_LIMIT (256ULL * 1024 * 1024)
#define H2_META_RESERVE (4ULL * 1024 * 1024)

static void dev_lock(hammer2_dev_t *hmp)
{
	hammer2_mtx_lock(&hmp->lock);
}

/* Unlock after trimming the cache; converts error flags to errno. */
static int dev_unlock(hammer2_dev_t *hmp, int error)
{
	hammer2_chain_lru_trim(hmp);
	hammer2_mtx_unlock(&hmp->lock);
	return hammer2_error_to_errno(error);
}

static int dev_writable(hammer2_dev_t *hmp)
{
	if (hmp->broken)
		return HAMMER2_ERROR_EIO;
	if (hmp->rdonly)
		return HAMMER2_ERROR_EROFS;
	return 0;
}

/* Past a quarter of the dirty limit, ask for a background flush once. */
static void dev_maybe_kick(hammer2_dev_t *hmp)
{
	if (hmp->ops->kick && !hmp->kicked &&
	    hmp->dirty_bytes > hmp->dirty_limit / 4) {
		hmp->kicked = 1;
		hmp->ops->kick(hmp->ctx);
	}
}

/*
 * Commit when the frontend has buffered too much, or when what the next
 * flush may allocate eats into the reserve (operations that free space,
 * like unlink, do not reserve: they may use the reserve for their
 * copy-on-write, and this flush then returns their space).  Past a
 * quarter of the limit a background flush is asked for (ops->kick), so a
 * steady writer overlaps its copying with the flush's writes and only
 * waits when it gets ahead of the device.
 */
static int dev_maybe_flush(hammer2_dev_t *hmp)
{
	if (hmp->dirty_bytes > hmp->dirty_limit ||
	    hmp->dirty_bytes + H2_META_RESERVE / 2 >
		    hammer2_freemap_free_bytes(hmp))
		return hammer2_flush(hmp);
	dev_maybe_kick(hmp);
	return 0;
}

/*
 * Is there room for a modification of about 'bytes' without a flush: what
 * is buffered plus this plus the metadata reserve is free?
 */
static int dev_has_room(hammer2_dev_t *hmp, uint64_t bytes)
{
	return hmp->dirty_bytes + hmp->resv_bytes + bytes + H2_META_RESERVE <=
	       hammer2_freemap_free_bytes(hmp);
}

/*
 * Make sure a modification of about 'bytes' fits: what is buffered plus
 * this plus a metadata reserve must be free, flushing once to reclaim
 * queued frees.  Errors: ENOSPC with everything synced intact.
 */
static int dev_reserve(hammer2_dev_t *hmp, uint64_t bytes)
{
	int error;

	if (dev_has_room(hmp, bytes))
		return 0;
	error = hammer2_flush(hmp);
	if (error)
		return error;
	if (hmp->resv_bytes + bytes + H2_META_RESERVE >
	    hammer2_freemap_free_bytes(hmp))
		return HAMMER2_ERROR_ENOSPC;
	return 0;
}

/*
 * Start a modifying operation: take the device lock, refuse a read-only or
 * broken device, and reserve 'bytes' (0: no reservation, for operations
 * that free space).  The lock is held on return whatever the result; the
 * caller ends with dev_unlock().  dev_check_modify is the same for a
 * caller that holds the lock already.
 */
static int dev_check_modify(hammer2_dev_t *hmp, uint64_t bytes)
{
	int error = dev_writable(hmp);

	if (error == 0 && bytes)
		error = dev_reserve(hmp, bytes);
	return error;
}

static int dev_enter_modify(hammer2_dev_t *hmp, uint64_t bytes)
{
	dev_lock(hmp);
	return dev_check_modify(hmp, bytes);
}

/* ---------------- device ---------------- */

static void pseudo_chain_init(hammer2_dev_t *hmp, hammer2_chain_t *chain,
			      int type)
{
	chain->hmp = hmp;
	chain->bref.type = (uint8_t)type;
	chain->data = (uint8_t *)&hmp->voldata;
	chain->bytes = HAMMER2_VOLUME_BYTES;
	chain->flags = HAMMER2_CHAIN_EMBEDDED;
	chain->refs = 1;
}

/*
 * Which header copies hold, in their unchanging middle, the bytes of the
 * header in use (hmp->volhdr_mid, volhdr_same; see hammer2.h).  vd is a
 * scratch buffer.  Without memory every copy is written whole.
 */
static void volhdr_scan_same(hammer2_dev_t *hmp, hammer2_volume_data_t *vd,
			     int best)
{
	const size_t mid = HAMMER2_VOLUME_TAIL_OFF - HAMMER2_VOLUME_HEAD_BYTES;
	const uint8_t *cur =
		(const uint8_t *)&hmp->voldata + HAMMER2_VOLUME_HEAD_BYTES;
	int i;

	hmp->volhdr_same = 0;
	hmp->volhdr_mid = hammer2_alloc_raw(mid);
	if (hmp->volhdr_mid == NULL)
		return;
	h2_memcpy(hmp->volhdr_mid, cur, mid);
	hmp->volhdr_midcrc = hammer2_voldata_midcrc(&hmp->voldata);
	for (i = 0; i < HAMMER2_NUM_VOLHDRS; i++) {
		hammer2_off_t off = hammer2_volhdr_offset(i);

		if (off + HAMMER2_VOLUME_BYTES > hmp->volu_size)
			break;
		if (i != best &&
		    (hammer2_io_read(hmp, vd, sizeof(*vd), off) ||
		     h2_memcmp((uint8_t *)vd + HAMMER2_VOLUME_HEAD_BYTES, cur,
			       mid)))
			continue;
		hmp->volhdr_same |= 1U << i;
	}
}

/*
 * Before read-write use (open, or remount from read-only): recover the
 * freemap after a crash that followed commits without it
 * (hammer2_freemap_recover), with a log line naming what was done.  A
 * device goes read-only only through a full flush, so freemap_tid equals
 * mirror_tid again unless the device was opened read-only.  Error flags (a
 * damaged block on a recovered path: EIO/CHECK/BADBREF).
 */
static int freemap_recover(hammer2_dev_t *hmp)
{
	uint64_t marked;
	int error;

	if (hmp->voldata.freemap_tid < hmp->voldata.mirror_tid) {
		error = hammer2_freemap_recover(hmp, &marked);
		if (error) {
			hammer2_dev_log(
				hmp,
				"freemap recovery (tids %llu..%llu) "
				"failed: error 0x%x",
				(unsigned long long)hmp->voldata.freemap_tid,
				(unsigned long long)hmp->voldata.mirror_tid,
				error);
			return error;
		}
		hammer2_dev_log(
			hmp,
			"freemap recovered: tids %llu..%llu, %llu bytes "
			"marked allocated",
			(unsigned long long)hmp->voldata.freemap_tid,
			(unsigned long long)hmp->voldata.mirror_tid,
			(unsigned long long)marked);
	}
	return 0;
}

/* See hammer2.h. */
const char *hammer2_dev_name(const hammer2_dev_t *hmp)
{
	const char *name = NULL;

	if (hmp->ops && hmp->ops->name)
		name = hmp->ops->name(hmp->ctx);
	return name ? name : "";
}

/*
 * Open a device of volu_bytes bytes: read the volume header copies and
 * use the valid one with the highest mirror_tid.  Errors (errno): EINVAL
 * (no valid HAMMER2 header, or a volume larger than the device), EIO,
 * ENOMEM.
 */
int hammer2_dev_open(const struct hammer2_devops *ops, void *ctx,
		     uint64_t volu_bytes, int flags, hammer2_dev_t **hmpp)
{
	hammer2_volume_data_t *vd;
	hammer2_dev_t *hmp;
	int i, best = -1, ioerr = 0;

	*hmpp = NULL;
	hmp = hammer2_alloc(sizeof(*hmp));
	vd = hammer2_alloc(sizeof(*vd));
	if (hmp == NULL || vd == NULL) {
		hammer2_free(hmp);
		hammer2_free(vd);
		return hammer2_error_to_errno(HAMMER2_ERROR_ENOMEM);
	}
	hmp->ops = ops;
	hmp->ctx = ctx;
	hmp->volu_size = volu_bytes;
	for (i = 0; i < HAMMER2_NUM_VOLHDRS; i++) {
		hammer2_off_t off = hammer2_volhdr_offset(i);

		if (off + HAMMER2_VOLUME_BYTES > volu_bytes)
			break;
		if (hammer2_io_read(hmp, vd, sizeof(*vd), off)) {
			ioerr = 1;
			continue;
		}
		if (vd->magic != HAMMER2_VOLUME_ID_HBO ||
		    hammer2_voldata_testcrc(vd)) {
			if (vd->magic == HAMMER2_VOLUME_ID_HBO)
				hammer2_dev_log(hmp,
						"volume header copy %d "
						"at 0x%016llx has a bad CRC",
						i, (unsigned long long)off);
			continue;
		}
		if (best < 0 || vd->mirror_tid > hmp->voldata.mirror_tid) {
			hmp->voldata = *vd;
			best = i;
		}
	}
	if (best < 0 || hmp->voldata.volu_size > volu_bytes ||
	    hmp->voldata.volu_size < HAMMER2_ZONE_SEG64 * 2) {
		hammer2_free(vd);
		hammer2_free(hmp);
		return hammer2_error_to_errno(best < 0 && ioerr ?
						      HAMMER2_ERROR_EIO :
						      HAMMER2_ERROR_EINVAL);
	}
	volhdr_scan_same(hmp, vd, best);
	hammer2_free(vd);
	hmp->volhdrno = best;
	hmp->freemap_committed = hmp->voldata.freemap_blockset;
	hmp->volu_size = hmp->voldata.volu_size;
	hmp->rdonly = (flags & HAMMER2_MNT_RDONLY) != 0;
	hmp->lru_limit = H2_LRU_LIMIT;
	hmp->dirty_limit = H2_DIRTY_LIMIT;
	hammer2_mtx_init(&hmp->lock);
	hammer2_mtx_init(&hmp->flush_lock);
	pseudo_chain_init(hmp, &hmp->vchain, HAMMER2_BREF_TYPE_VOLUME);
	pseudo_chain_init(hmp, &hmp->fchain, HAMMER2_BREF_TYPE_FREEMAP);
	if (!hmp->rdonly) {
		int error = freemap_recover(hmp);

		if (error) {
			hmp->rdonly = 1; /* nothing to write back */
			hammer2_dev_close(hmp);
			return hammer2_error_to_errno(error);
		}
	}
	*hmpp = hmp;
	return 0;
}

/*
 * Flush (unless read-only) and release everything.  All PFSs must be
 * unmounted.  Returns the flush's errno (the device is closed anyway).
 */
int hammer2_dev_close(hammer2_dev_t *hmp)
{
	int error = 0;
	size_t i;

	dev_lock(hmp);
	if (!hmp->rdonly && !hmp->broken)
		error = hammer2_flush(hmp);
	while (hmp->pfs_list) {
		hammer2_pfs_t *pmp = hmp->pfs_list;

		hmp->pfs_list = pmp->next;
		if (pmp->iroot)
			hammer2_inode_release(pmp->iroot);
		hammer2_free(pmp);
	}
	while (hmp->npartials > 0) /* left by a failed flush */
		hammer2_chain_drop(hmp->partials[--hmp->npartials]);
	hammer2_free(hmp->partials);
	hammer2_free(hmp->volhdr_mid);
	hammer2_chain_destroy_tree(&hmp->vchain);
	hammer2_chain_destroy_tree(&hmp->fchain);
	for (i = 0; i < hmp->nwq; i++)
		if (!hmp->wq[i].borrowed)
			hammer2_free(hmp->wq[i].data);
	hammer2_free(hmp->wq);
	hammer2_free(hmp->frees);
	hammer2_free(hmp->subs.v);
	hammer2_freemap_fence_clear(hmp);
	hammer2_mtx_unlock(&hmp->lock);
	hammer2_mtx_destroy(&hmp->lock);
	hammer2_mtx_destroy(&hmp->flush_lock);
	hammer2_free(hmp);
	return hammer2_error_to_errno(error);
}

/*
 * Switch the device between read-only and read-write (remount).  Going
 * read-only flushes first; its errno is returned and the device stays
 * writable when that flush fails.
 */
int hammer2_dev_set_rdonly(hammer2_dev_t *hmp, int rdonly)
{
	int error = 0;

	dev_lock(hmp);
	if (rdonly && !hmp->rdonly)
		error = hammer2_flush(hmp);
	if (!rdonly && hmp->rdonly)
		error = freemap_recover(hmp);
	if (error == 0)
		hmp->rdonly = rdonly != 0;
	return dev_unlock(hmp, error);
}

/* ---------------- PFS ---------------- */

/* The super-root inode chain (sroot_blockset[0]), referenced. */
static int sroot_chain(hammer2_dev_t *hmp, hammer2_chain_t **chainp)
{
	hammer2_chain_t *chain;
	int error;

	chain = hammer2_chain_lookup(&hmp->vchain, HAMMER2_KEY_MIN,
				     HAMMER2_KEY_MAX, 0, &error);
	if (chain && chain->bref.type != HAMMER2_BREF_TYPE_INODE) {
		hammer2_chain_drop(chain);
		chain = NULL;
		error = HAMMER2_ERROR_BADBREF;
	}
	if (chain == NULL && error == 0)
		error = HAMMER2_ERROR_BADBREF;
	*chainp = chain;
	return error;
}

/* Find the PFS root chain named label under the super-root. */
static int pfs_find(hammer2_dev_t *hmp, const char *label,
		    hammer2_chain_t **chainp)
{
	hammer2_chain_t *sroot, *chain;
	size_t len = h2_strlen(label);
	hammer2_key_t key, end;
	int error;

	*chainp = NULL;
	error = sroot_chain(hmp, &sroot);
	if (error)
		return error;
	key = hammer2_dirhash((const unsigned char *)label, len);
	end = key | HAMMER2_DIRHASH_LOMASK;
	chain = hammer2_chain_lookup(sroot, key, end, 0, &error);
	while (chain) {
		hammer2_inode_data_t *ipd = (hammer2_inode_data_t *)chain->data;

		if (chain->bref.type == HAMMER2_BREF_TYPE_INODE &&
		    ipd->meta.name_len == len &&
		    h2_memcmp(ipd->filename, label, len) == 0 &&
		    (ipd->meta.op_flags & HAMMER2_OPFLAG_PFSROOT))
			break;
		chain = hammer2_chain_next(sroot, chain, end, 0, &error);
	}
	hammer2_chain_drop(sroot);
	*chainp = chain;
	if (chain == NULL && error == 0)
		error = HAMMER2_ERROR_ENOENT;
	return error;
}

int hammer2_pfs_mount(hammer2_dev_t *hmp, const char *label,
		      hammer2_pfs_t **pmpp)
{
	hammer2_chain_t *chain;
	hammer2_pfs_t *pmp;
	int error;

	*pmpp = NULL;
	if (label == NULL || label[0] == 0)
		label = "DATA";
	if (h2_strlen(label) > HAMMER2_INODE_MAXNAME)
		return hammer2_error_to_errno(HAMMER2_ERROR_ENAMETOOLONG);
	dev_lock(hmp);
	error = pfs_find(hmp, label, &chain);
	if (error)
		return dev_unlock(hmp, error);
	pmp = hammer2_alloc(sizeof(*pmp));
	if (pmp == NULL) {
		hammer2_chain_drop(chain);
		return dev_unlock(hmp, HAMMER2_ERROR_ENOMEM);
	}
	pmp->hmp = hmp;
	h2_memcpy(pmp->label, label, h2_strlen(label));
	error = hammer2_inode_get(pmp, chain, &pmp->iroot);
	hammer2_chain_drop(chain);
	if (error) {
		hammer2_free(pmp);
		return dev_unlock(hmp, error);
	}
	pmp->mounted = 1;
	pmp->next = hmp->pfs_list;
	hmp->pfs_list = pmp;
	*pmpp = pmp;
	return dev_unlock(hmp, 0);
}

int hammer2_pfs_unmount(hammer2_pfs_t *pmp)
{
	hammer2_dev_t *hmp = pmp->hmp;
	hammer2_pfs_t **pp;

	dev_lock(hmp);
	for (pp = &hmp->pfs_list; *pp && *pp != pmp; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = pmp->next;
	hammer2_inode_release(pmp->iroot);
	hammer2_free(pmp);
	return dev_unlock(hmp, 0);
}

int hammer2_pfs_iterate(hammer2_dev_t *hmp,
			int (*fn)(void *arg, const char *name, int pfs_type,
				  const hammer2_inode_data_t *ipdata),
			void *arg)
{
	hammer2_chain_t *sroot, *chain;
	int error;

	dev_lock(hmp);
	error = sroot_chain(hmp, &sroot);
	if (error)
		return dev_unlock(hmp, error);
	chain = hammer2_chain_lookup(sroot, HAMMER2_KEY_MIN, HAMMER2_KEY_MAX, 0,
				     &error);
	while (chain) {
		hammer2_inode_data_t *ipd = (hammer2_inode_data_t *)chain->data;
		char name[HAMMER2_INODE_MAXNAME + 1];
		size_t nl = H2_MIN(ipd->meta.name_len,
				   (uint16_t)HAMMER2_INODE_MAXNAME);

		if (chain->bref.type == HAMMER2_BREF_TYPE_INODE &&
		    (ipd->meta.op_flags & HAMMER2_OPFLAG_PFSROOT)) {
			h2_memcpy(name, ipd->filename, nl);
			name[nl] = 0;
			if (fn(arg, name, ipd->meta.pfs_type, ipd)) {
				hammer2_chain_drop(chain);
				break;
			}
		}
		chain = hammer2_chain_next(sroot, chain, HAMMER2_KEY_MAX, 0,
					   &error);
	}
	hammer2_chain_drop(sroot);
	return dev_unlock(hmp, error);
}

int hammer2_pfs_create(hammer2_dev_t *hmp, const char *label, int pfs_type)
{
	size_t len = h2_strlen(label);
	hammer2_chain_t *sroot, *chain;
	hammer2_inode_data_t *ipd, *sd;
	hammer2_key_t key;
	uint64_t now;
	int error;

	if (len == 0)
		return hammer2_error_to_errno(HAMMER2_ERROR_EINVAL);
	if (len > 255)
		return hammer2_error_to_errno(HAMMER2_ERROR_ENAMETOOLONG);
	error = dev_enter_modify(hmp, 0);
	if (error)
		return dev_unlock(hmp, error);
	error = pfs_find(hmp, label, &chain);
	if (error == 0) {
		hammer2_chain_drop(chain);
		return dev_unlock(hmp, HAMMER2_ERROR_EEXIST);
	}
	if (error != HAMMER2_ERROR_ENOENT)
		return dev_unlock(hmp, error);
	error = sroot_chain(hmp, &sroot);
	if (error)
		return dev_unlock(hmp, error);
	key = hammer2_dirhash((const unsigned char *)label, len);
	error = hammer2_chain_create(sroot, &chain, HAMMER2_BREF_TYPE_INODE,
				     key, 0, HAMMER2_INODE_BYTES,
				     HAMMER2_ENC_CHECK(HAMMER2_CHECK_DEFAULT));
	if (error == 0) {
		now = hammer2_now(hmp);
		sd = (hammer2_inode_data_t *)sroot->data;
		ipd = (hammer2_inode_data_t *)chain->data;
		ipd->meta.version = HAMMER2_INODE_VERSION_ONE;
		ipd->meta.type = HAMMER2_OBJTYPE_DIRECTORY;
		ipd->meta.mode = 0755;
		ipd->meta.inum = 1;
		ipd->meta.nlinks = 2; /* as newfs: ".", its super-root entry */
		ipd->meta.iparent = sd->meta.inum;
		ipd->meta.name_key = key;
		ipd->meta.name_len = (uint16_t)len;
		h2_memcpy(ipd->filename, label, len);
		ipd->meta.op_flags = HAMMER2_OPFLAG_PFSROOT;
		ipd->meta.pfs_type = (uint8_t)pfs_type;
		ipd->meta.pfs_inum = HAMMER2_INODE_START;
		ipd->meta.comp_algo = HAMMER2_ENC_ALGO(HAMMER2_COMP_DEFAULT);
		ipd->meta.check_algo = HAMMER2_ENC_ALGO(HAMMER2_CHECK_DEFAULT);
		ipd->meta.ncopies = 1;
		ipd->meta.ctime = ipd->meta.mtime = ipd->meta.atime =
			ipd->meta.btime = now;
		hmp->ops->random(hmp->ctx, &ipd->meta.pfs_clid,
				 sizeof(ipd->meta.pfs_clid));
		hmp->ops->random(hmp->ctx, &ipd->meta.pfs_fsid,
				 sizeof(ipd->meta.pfs_fsid));
		chain->bref.flags |= HAMMER2_BREF_FLAG_PFSROOT;
		hammer2_chain_drop(chain);
	}
	hammer2_chain_drop(sroot);
	return dev_unlock(hmp, error);
}

/* ---------------- filesystem-wide ---------------- */

int hammer2_vfs_sync(hammer2_dev_t *hmp)
{
	int error;

	dev_lock(hmp);
	error = hammer2_flush(hmp);
	return dev_unlock(hmp, error);
}

int hammer2_vfs_statfs(hammer2_pfs_t *pmp, struct hammer2_statfs *st)
{
	hammer2_dev_t *hmp = pmp->hmp;
	uint64_t free, used;

	dev_lock(hmp);
	free = hammer2_freemap_free_bytes(hmp);
	st->total_bytes = hmp->voldata.allocator_size;
	used = hmp->dirty_bytes + hmp->resv_bytes;
	st->free_bytes = free > used ? free - used : 0;
	st->block_size = HAMMER2_PBUFSIZE;
	st->files = pmp->iroot->chain->bref.embed.stats.inode_count + 1;
	st->namelen = 255;
	return dev_unlock(hmp, 0);
}

hammer2_inode_t *hammer2_vfs_root(hammer2_pfs_t *pmp)
{
	dev_lock(pmp->hmp);
	pmp->iroot->refs++;
	dev_unlock(pmp->hmp, 0);
	return pmp->iroot;
}

void hammer2_inode_ref(hammer2_inode_t *ip)
{
	dev_lock(ip->pmp->hmp);
	ip->refs++;
	dev_unlock(ip->pmp->hmp, 0);
}

void hammer2_inode_drop(hammer2_inode_t *ip)
{
	hammer2_dev_t *hmp = ip->pmp->hmp;

	dev_lock(hmp);
	hammer2_inode_release(ip);
	dev_unlock(hmp, 0);
}

/* ---------------- per-inode operations ---------------- */

int hammer2_vop_lookup(hammer2_inode_t *dip, const char *name, size_t len,
		       hammer2_inode_t **ipp)
{
	hammer2_dev_t *hmp = dip->pmp->hmp;
	hammer2_chain_t *chain;
	int error;

	*ipp = NULL;
	if (len > 255)
		return hammer2_error_to_errno(HAMMER2_ERROR_ENAMETOOLONG);
	dev_lock(hmp);
	if (hammer2_ipdata(dip)->meta.type != HAMMER2_OBJTYPE_DIRECTORY)
		return dev_unlock(hmp, HAMMER2_ERROR_ENOTDIR);
	error = hammer2_dir_find(dip, name, len, &chain);
	if (error == 0 && ((hammer2_inode_data_t *)chain->data)->meta.type ==
				  HAMMER2_OBJTYPE_HARDLINK) {
		hammer2_chain_t *target;

		error = hammer2_hardlink_target(dip->pmp, chain, &target);
		hammer2_chain_drop(chain);
		chain = target;
	}
	if (error == 0) {
		error = hammer2_inode_get(dip->pmp, chain, ipp);
		hammer2_chain_drop(chain);
	}
	return dev_unlock(hmp, error);
}

int hammer2_vop_link(hammer2_inode_t *ip, hammer2_inode_t *tdip,
		     const char *name, size_t len)
{
	hammer2_dev_t *hmp = ip->pmp->hmp;
	int error;

	if (ip->pmp != tdip->pmp)
		return hammer2_error_to_errno(HAMMER2_ERROR_EXDEV);
	error = dev_enter_modify(hmp, 2 * HAMMER2_INODE_BYTES);
	if (error == 0)
		error = hammer2_inode_link(ip, tdip, name, len);
	return dev_unlock(hmp, error);
}

int hammer2_vop_create(hammer2_inode_t *dip, const char *name, size_t len,
		       const struct hammer2_vattr *va, const char *link,
		       size_t linklen, hammer2_inode_t **ipp)
{
	hammer2_dev_t *hmp = dip->pmp->hmp;
	int error;

	*ipp = NULL;
	error = dev_enter_modify(hmp, HAMMER2_INODE_BYTES + linklen);
	if (error == 0)
		error = hammer2_inode_create(dip, name, len, va, link, linklen,
					     ipp);
	if (error == 0)
		error = dev_maybe_flush(hmp);
	return dev_unlock(hmp, error);
}

/* unlink(2) (isdir 0) and rmdir(2) (isdir 1) share one entry point. */
static int vop_unlink(hammer2_inode_t *dip, const char *name, size_t len,
		      int isdir)
{
	hammer2_dev_t *hmp = dip->pmp->hmp;
	int error;

	error = dev_enter_modify(hmp, 0);
	if (error == 0)
		error = hammer2_inode_unlink(dip, name, len, isdir);
	/* the unlink is done; a failed early flush is reported by a sync */
	if (error == 0)
		(void)dev_maybe_flush(hmp);
	return dev_unlock(hmp, error);
}

int hammer2_vop_remove(hammer2_inode_t *dip, const char *name, size_t len)
{
	return vop_unlink(dip, name, len, 0);
}

int hammer2_vop_rmdir(hammer2_inode_t *dip, const char *name, size_t len)
{
	return vop_unlink(dip, name, len, 1);
}

int hammer2_vop_rename(hammer2_inode_t *fdip, const char *fname, size_t flen,
		       hammer2_inode_t *tdip, const char *tname, size_t tlen,
		       int flags)
{
	hammer2_dev_t *hmp = fdip->pmp->hmp;
	int error;

	if (fdip->pmp != tdip->pmp)
		return hammer2_error_to_errno(HAMMER2_ERROR_EXDEV);
	error = dev_enter_modify(hmp, 2 * HAMMER2_INODE_BYTES);
	if (error == 0)
		error = hammer2_inode_rename(fdip, fname, flen, tdip, tname,
					     tlen, flags);
	return dev_unlock(hmp, error);
}

int hammer2_vop_readdir(hammer2_inode_t *dip, uint64_t *cookie,
			hammer2_filldir_t fn, void *arg)
{
	hammer2_dev_t *hmp = dip->pmp->hmp;
	int error;

	dev_lock(hmp);
	error = hammer2_inode_readdir(dip, cookie, fn, arg);
	return dev_unlock(hmp, error);
}

ssize_t hammer2_vop_read_cb(hammer2_inode_t *ip, uint64_t off, size_t len,
			    hammer2_copy_fn fn, void *arg)
{
	hammer2_dev_t *hmp = ip->pmp->hmp;
	ssize_t n;

	dev_lock(hmp);
	n = hammer2_file_read_cb(ip, off, len, fn, arg);
	if (n < 0)
		return -(ssize_t)dev_unlock(hmp, (int)-n);
	dev_unlock(hmp, 0);
	return n;
}

int hammer2_vop_read_map(hammer2_inode_t *ip, uint64_t off, uint64_t len,
			 hammer2_rmap_t *map, int max)
{
	hammer2_dev_t *hmp = ip->pmp->hmp;
	int n;

	dev_lock(hmp);
	n = hammer2_file_read_map(ip, off, len, map, max);
	if (n < 0)
		return -dev_unlock(hmp, -n);
	dev_unlock(hmp, 0);
	return n;
}

/* Give back up to bytes of the delayed-write reservation (device lock). */
static void dev_unreserve(hammer2_dev_t *hmp, uint64_t bytes)
{
	hmp->resv_bytes -= H2_MIN(bytes, hmp->resv_bytes);
}

int hammer2_vop_reserve(hammer2_inode_t *ip, uint64_t bytes)
{
	hammer2_dev_t *hmp = ip->pmp->hmp;
	int error;

	error = dev_enter_modify(hmp, bytes);
	if (error == 0)
		hmp->resv_bytes += bytes;
	return dev_unlock(hmp, error);
}

void hammer2_vop_unreserve(hammer2_inode_t *ip, uint64_t bytes)
{
	hammer2_vfs_unreserve(ip->pmp->hmp, bytes);
}

void hammer2_vfs_unreserve(hammer2_dev_t *hmp, uint64_t bytes)
{
	dev_lock(hmp);
	dev_unreserve(hmp, bytes);
	dev_unlock(hmp, 0);
}

ssize_t hammer2_vop_write_cb(hammer2_inode_t *ip, uint64_t off, size_t len,
			     hammer2_copy_fn fn, void *arg)
{
	return hammer2_vop_write_resv(ip, off, len, fn, arg, 0);
}

ssize_t hammer2_vop_write_resv(hammer2_inode_t *ip, uint64_t off, size_t len,
			       hammer2_copy_fn fn, void *arg, uint64_t resv)
{
	hammer2_dev_t *hmp = ip->pmp->hmp;
	uint64_t need;
	ssize_t n;
	int error;

	dev_lock(hmp);
	/*
	 * The reservation is this data's room, checked (with the metadata
	 * reserve) when it was made: hand it over atomically and check only
	 * what it does not cover.
	 */
	need = len + HAMMER2_PBUFSIZE;
	dev_unreserve(hmp, resv);
	error = dev_check_modify(hmp, resv >= need ? 0 : need - resv);
	if (error)
		return -(ssize_t)dev_unlock(hmp, error);
	n = hammer2_file_write_cb(ip, off, len, fn, arg);
	if (n < 0)
		return -(ssize_t)dev_unlock(hmp, (int)-n);
	error = dev_maybe_flush(hmp);
	if (error)
		return -(ssize_t)dev_unlock(hmp, error);
	dev_unlock(hmp, 0);
	return n;
}

int hammer2_vop_write_direct(hammer2_inode_t *ip, uint64_t off,
			     const struct hammer2_iov *iov, int cnt,
			     uint64_t resv, uint64_t *dev_offp,
			     unsigned *tokenp)
{
	hammer2_dev_t *hmp = ip->pmp->hmp;
	int error;

	dev_lock(hmp);
	/*
	 * As hammer2_vop_write_resv: the reservation is the block's room.
	 * But never a flush here: the caller may hold direct writes it has
	 * not issued yet, which a flush would wait for; short of room, the
	 * copy path (which may flush) takes the block.
	 */
	dev_unreserve(hmp, resv);
	error = dev_writable(hmp);
	if (error == 0 && !dev_has_room(hmp, resv >= HAMMER2_PBUFSIZE ?
						     0 :
						     HAMMER2_PBUFSIZE - resv))
		error = HAMMER2_ERROR_EAGAIN;
	if (error == 0)
		error = hammer2_file_write_direct(ip, off, iov, cnt, dev_offp);
	if (error) {
		/* the caller's copy-path write gets the reservation */
		hmp->resv_bytes += resv;
		return dev_unlock(hmp, error);
	}
	/* no flush from here on: it would wait for this very write */
	*tokenp = hmp->ops->direct_begin ? hmp->ops->direct_begin(hmp->ctx) : 0;
	dev_maybe_kick(hmp);
	dev_unlock(hmp, 0);
	return 0;
}

ssize_t hammer2_vop_read(hammer2_inode_t *ip, void *buf, size_t len,
			 uint64_t off)
{
	struct hammer2_mem_copy m = { buf, off };

	return hammer2_vop_read_cb(ip, off, len, hammer2_mem_copy_out, &m);
}

ssize_t hammer2_vop_write(hammer2_inode_t *ip, const void *buf, size_t len,
			  uint64_t off)
{
	struct hammer2_mem_copy m = { (uint8_t *)(uintptr_t)buf, off };

	return hammer2_vop_write_cb(ip, off, len, hammer2_mem_copy_in, &m);
}

int hammer2_vop_seek(hammer2_inode_t *ip, uint64_t off, int hole,
		     uint64_t *resp)
{
	hammer2_dev_t *hmp = ip->pmp->hmp;

	dev_lock(hmp);
	return dev_unlock(hmp, hammer2_file_seek(ip, off, hole, resp));
}

int hammer2_vop_truncate(hammer2_inode_t *ip, uint64_t size)
{
	hammer2_dev_t *hmp = ip->pmp->hmp;
	int error;

	error = dev_enter_modify(hmp, HAMMER2_PBUFSIZE);
	if (error == 0)
		error = hammer2_file_truncate(ip, size);
	return dev_unlock(hmp, error);
}

int hammer2_vop_getattr(hammer2_inode_t *ip, struct hammer2_vattr *va)
{
	hammer2_dev_t *hmp = ip->pmp->hmp;
	hammer2_inode_data_t *ipd;

	dev_lock(hmp);
	ipd = hammer2_ipdata(ip);
	h2_memset(va, 0, sizeof(*va));
	va->type = ipd->meta.type;
	va->mode = ipd->meta.mode & 07777;
	va->uid = hammer2_uuid_to_xid(&ipd->meta.uid);
	va->gid = hammer2_uuid_to_xid(&ipd->meta.gid);
	va->size = ipd->meta.size;
	va->nlinks = ipd->meta.nlinks;
	va->inum = ipd->meta.inum;
	va->atime_us = ipd->meta.atime;
	va->mtime_us = ipd->meta.mtime;
	va->ctime_us = ipd->meta.ctime;
	va->btime_us = ipd->meta.btime;
	va->rmajor = ipd->meta.rmajor;
	va->rminor = ipd->meta.rminor;
	va->comp_algo = ipd->meta.comp_algo;
	va->check_algo = ipd->meta.check_algo;
	/*
	 * Media below the inode as the next flush will leave it (modified
	 * blocks at their logical size: what embed.stats will say, or a
	 * little more where compression wins).  A directory's count spans
	 * its whole sub-tree, so only its own inode is reported (du sums
	 * the entries itself).
	 */
	if (va->type == HAMMER2_OBJTYPE_DIRECTORY)
		va->phys_bytes = HAMMER2_INODE_BYTES;
	else
		va->phys_bytes = hammer2_chain_data_estimate(ip->chain);
	return dev_unlock(hmp, 0);
}

int hammer2_vop_setattr(hammer2_inode_t *ip, const struct hammer2_vattr *va,
			int mask)
{
	hammer2_dev_t *hmp = ip->pmp->hmp;
	hammer2_inode_data_t *ipd;
	int error;

	error = dev_enter_modify(hmp, 0);
	if (error == 0 && (mask & HAMMER2_VA_SIZE))
		error = hammer2_file_truncate(ip, va->size);
	if (error == 0)
		error = hammer2_chain_modify(ip->chain);
	if (error)
		return dev_unlock(hmp, error);
	ipd = hammer2_ipdata(ip);
	if (mask & HAMMER2_VA_MODE)
		ipd->meta.mode = va->mode & 07777;
	if (mask & HAMMER2_VA_UID)
		hammer2_xid_to_uuid(&ipd->meta.uid, va->uid);
	if (mask & HAMMER2_VA_GID)
		hammer2_xid_to_uuid(&ipd->meta.gid, va->gid);
	if (mask & HAMMER2_VA_ATIME)
		ipd->meta.atime = va->atime_us;
	if (mask & HAMMER2_VA_MTIME)
		ipd->meta.mtime = va->mtime_us;
	ipd->meta.ctime = (mask & HAMMER2_VA_CTIME) ? va->ctime_us :
						      hammer2_now(hmp);
	return dev_unlock(hmp, 0);
}

ssize_t hammer2_vop_readlink(hammer2_inode_t *ip, char *buf, size_t len)
{
	hammer2_dev_t *hmp = ip->pmp->hmp;
	ssize_t n;

	dev_lock(hmp);
	if (hammer2_ipdata(ip)->meta.type != HAMMER2_OBJTYPE_SOFTLINK)
		return -(ssize_t)dev_unlock(hmp, HAMMER2_ERROR_EINVAL);
	n = hammer2_file_read(ip, buf, len, 0);
	if (n < 0)
		return -(ssize_t)dev_unlock(hmp, (int)-n);
	dev_unlock(hmp, 0);
	return n;
}

int hammer2_vop_fsync(hammer2_inode_t *ip)
{
	hammer2_dev_t *hmp = ip->pmp->hmp;
	int error;

	dev_lock(hmp);
	error = hammer2_flush_mode(hmp, 0);
	return dev_unlock(hmp, error);
}

static int vop_set_algo(hammer2_inode_t *ip, uint8_t algo, int check)
{
	hammer2_dev_t *hmp = ip->pmp->hmp;
	int error;

	if ((check && HAMMER2_DEC_ALGO(algo) > HAMMER2_CHECK_SHA192) ||
	    (!check && HAMMER2_DEC_ALGO(algo) > HAMMER2_COMP_ZLIB))
		return hammer2_error_to_errno(HAMMER2_ERROR_EINVAL);
	error = dev_enter_modify(hmp, 0);
	if (error == 0)
		error = hammer2_chain_modify(ip->chain);
	if (error == 0) {
		if (check)
			hammer2_ipdata(ip)->meta.check_algo = algo;
		else
			hammer2_ipdata(ip)->meta.comp_algo = algo;
		hammer2_ipdata(ip)->meta.ctime = hammer2_now(hmp);
	}
	return dev_unlock(hmp, error);
}

int hammer2_vop_setcomp(hammer2_inode_t *ip, uint8_t comp_algo)
{
	return vop_set_algo(ip, comp_algo, 0);
}

int hammer2_vop_setcheck(hammer2_inode_t *ip, uint8_t check_algo)
{
	return vop_set_algo(ip, check_algo, 1);
}

int hammer2_vop_namei(hammer2_pfs_t *pmp, const char *path,
		      hammer2_inode_t **ipp)
{
	hammer2_inode_t *ip = hammer2_vfs_root(pmp), *next;
	const char *p = path;
	int error;

	*ipp = NULL;
	for (;;) {
		const char *e;

		while (*p == '/')
			p++;
		if (*p == 0)
			break;
		for (e = p; *e && *e != '/'; e++)
			;
		if (e - p == 1 && p[0] == '.') {
			p = e;
			continue;
		}
		if (e - p == 2 && p[0] == '.' && p[1] == '.') {
			hammer2_inode_drop(ip);
			return hammer2_error_to_errno(HAMMER2_ERROR_EINVAL);
		}
		error = hammer2_vop_lookup(ip, p, (size_t)(e - p), &next);
		hammer2_inode_drop(ip);
		if (error)
			return error;
		ip = next;
		p = e;
	}
	*ipp = ip;
	return 0;
}
