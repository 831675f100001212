/*
 * hammer2_inode.c - inodes, directories and file data.
 *
 * Seed-era layout (docs/DESIGN.md): an inode is an INODE blockref inside
 * its directory, keyed by hammer2_dirhash(name) with collisions resolved in
 * the low 15 bits.  File data: up to 512 bytes embedded in the inode
 * (DIRECTDATA), otherwise DATA blockrefs keyed by their 64 KiB logical
 * block offset (keybits 16) whose physical size is the smallest power of
 * two >= 1 KiB holding the valid bytes, or less when compressed.
 * All-zero blocks are not stored (holes).
 *
 * Every function here requires the device lock; they return
 * HAMMER2_ERROR_* flags (hammer2_vfsops.c converts them to errno).
 */
#include "hammer2_inode.h"

#define LBLK HAMMER2_PBUFSIZE
#define LMASK ((hammer2_off_t)HAMMER2_PBUFMASK)
#define H2_MAX_FILE_SIZE 0x7FFFFFFFFFFFFFFFULL

hammer2_inode_data_t *hammer2_ipdata(hammer2_inode_t *ip)
{
	return (hammer2_inode_data_t *)ip->chain->data;
}

uint64_t hammer2_now(hammer2_dev_t *hmp)
{
	return hmp->ops->time_us(hmp->ctx);
}

uint32_t hammer2_uuid_to_xid(const hammer2_uuid_t *u)
{
	uint32_t v;

	h2_memcpy(&v, &u->b[12], sizeof(v)); /* DragonFly: uuid.node[2] */
	return v;
}

void hammer2_xid_to_uuid(hammer2_uuid_t *u, uint32_t xid)
{
	h2_memset(u, 0, sizeof(*u));
	h2_memcpy(&u->b[12], &xid, sizeof(xid));
}

/* ---------------- the inode cache ---------------- */

static unsigned ihash(hammer2_tid_t inum)
{
	return (unsigned)((inum * 0x9E3779B97F4A7C15ULL) >> 54) &
	       (HAMMER2_IHASH_SIZE - 1);
}

hammer2_inode_t *hammer2_inode_find(hammer2_pfs_t *pmp, hammer2_tid_t inum)
{
	hammer2_inode_t *ip;

	for (ip = pmp->ihash[ihash(inum)]; ip; ip = ip->hnext)
		if (ip->inum == inum && !ip->unlinked)
			return ip;
	return NULL;
}

/*
 * The inode of a loaded INODE chain, referenced.  The inode takes its own
 * reference on the chain.  Errors: ENOMEM, BADBREF (not an inode).
 */
int hammer2_inode_get(hammer2_pfs_t *pmp, hammer2_chain_t *chain,
		      hammer2_inode_t **ipp)
{
	hammer2_inode_data_t *ipd = (hammer2_inode_data_t *)chain->data;
	hammer2_inode_t *ip;

	*ipp = NULL;
	if (chain->bref.type != HAMMER2_BREF_TYPE_INODE || ipd == NULL)
		return HAMMER2_ERROR_BADBREF;
	ip = hammer2_inode_find(pmp, ipd->meta.inum);
	if (ip && ip->chain == chain) {
		ip->refs++;
		*ipp = ip;
		return 0;
	}
	ip = hammer2_alloc(sizeof(*ip));
	if (ip == NULL)
		return HAMMER2_ERROR_ENOMEM;
	ip->pmp = pmp;
	ip->chain = chain;
	ip->inum = ipd->meta.inum;
	ip->refs = 1;
	hammer2_chain_ref(chain);
	ip->hnext = pmp->ihash[ihash(ip->inum)];
	pmp->ihash[ihash(ip->inum)] = ip;
	*ipp = ip;
	return 0;
}

static void inode_unhash(hammer2_inode_t *ip)
{
	hammer2_inode_t **pp = &ip->pmp->ihash[ihash(ip->inum)];

	while (*pp && *pp != ip)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = ip->hnext;
}

/*
 * Release a reference.  The last reference of an unlinked inode queues its
 * media for freeing (it was kept while the file was open).
 */
void hammer2_inode_release(hammer2_inode_t *ip)
{
	H2_ASSERT(ip->refs > 0);
	if (--ip->refs > 0)
		return;
	inode_unhash(ip);
	if (ip->unlinked)
		hammer2_chain_free_media(ip->chain);
	hammer2_chain_drop(ip->chain);
	hammer2_free(ip);
}

/* ---------------- directories ---------------- */

static int name_check(const char *name, size_t len)
{
	size_t i;

	if (len == 0)
		return HAMMER2_ERROR_ENOENT;
	if (len > 255)
		return HAMMER2_ERROR_ENAMETOOLONG;
	for (i = 0; i < len; i++)
		if (name[i] == '/' || name[i] == 0)
			return HAMMER2_ERROR_EINVAL;
	return 0;
}

static int dir_check(hammer2_inode_t *dip)
{
	if (hammer2_ipdata(dip)->meta.type != HAMMER2_OBJTYPE_DIRECTORY)
		return HAMMER2_ERROR_ENOTDIR;
	return 0;
}

/*
 * Find the INODE chain named name in directory dip (referenced, loaded).
 * Errors: ENOENT, media errors.
 */
int hammer2_dir_find(hammer2_inode_t *dip, const char *name, size_t len,
		     hammer2_chain_t **chainp)
{
	hammer2_key_t key = hammer2_dirhash((const unsigned char *)name, len);
	hammer2_key_t end = key | HAMMER2_DIRHASH_LOMASK;
	hammer2_chain_t *chain;
	int error;

	*chainp = NULL;
	chain = hammer2_chain_lookup(dip->chain, key, end, 0, &error);
	while (chain) {
		hammer2_inode_data_t *ipd = (hammer2_inode_data_t *)chain->data;

		if (chain->bref.type == HAMMER2_BREF_TYPE_INODE &&
		    ipd->meta.name_len == len &&
		    h2_memcmp(ipd->filename, name, len) == 0) {
			*chainp = chain;
			return 0;
		}
		chain = hammer2_chain_next(dip->chain, chain, end, 0, &error);
	}
	return error ? error : HAMMER2_ERROR_ENOENT;
}

/* First unused key for name in dir (collision space of 2^15 keys). */
static int dir_free_key(hammer2_chain_t *dchain, const char *name, size_t len,
			hammer2_key_t *keyp)
{
	hammer2_key_t key = hammer2_dirhash((const unsigned char *)name, len);
	hammer2_key_t end = key | HAMMER2_DIRHASH_LOMASK, lhc = key;
	hammer2_chain_t *chain;
	int error;

	chain = hammer2_chain_lookup(dchain, key, end, HAMMER2_LOOKUP_NODATA,
				     &error);
	while (chain) {
		if (chain->bref.key > lhc) {
			hammer2_chain_drop(chain);
			break;
		}
		lhc = chain->bref.key + 1;
		chain = hammer2_chain_next(dchain, chain, end,
					   HAMMER2_LOOKUP_NODATA, &error);
	}
	if (error)
		return error;
	if (lhc > end)
		return HAMMER2_ERROR_ENOSPC;
	*keyp = lhc;
	return 0;
}

/* Next inode number of the PFS (kept in the PFS root's pfs_inum). */
static int pfs_alloc_inum(hammer2_pfs_t *pmp, hammer2_tid_t *inump)
{
	hammer2_inode_data_t *rd;
	int error = hammer2_chain_modify(pmp->iroot->chain);

	if (error)
		return error;
	rd = hammer2_ipdata(pmp->iroot);
	if (rd->meta.pfs_inum < HAMMER2_INODE_START)
		rd->meta.pfs_inum = HAMMER2_INODE_START;
	*inump = ++rd->meta.pfs_inum;
	return 0;
}

static void inode_touch(hammer2_inode_t *ip, int mtime)
{
	hammer2_inode_data_t *ipd = hammer2_ipdata(ip);
	uint64_t now = hammer2_now(ip->pmp->hmp);

	ipd->meta.ctime = now;
	if (mtime)
		ipd->meta.mtime = now;
}

/*
 * Initialise the meta-data of a new inode chain: identity, name, times,
 * type and algorithms inherited from the directory.
 */
static void inode_init(hammer2_inode_data_t *nd, hammer2_inode_data_t *dd,
		       const struct hammer2_vattr *va, hammer2_tid_t inum,
		       hammer2_tid_t iparent, hammer2_key_t key,
		       const char *name, size_t len, uint64_t now)
{
	nd->meta.version = HAMMER2_INODE_VERSION_ONE;
	nd->meta.type = va->type;
	nd->meta.mode = va->mode & 07777;
	nd->meta.rmajor = va->rmajor;
	nd->meta.rminor = va->rminor;
	hammer2_xid_to_uuid(&nd->meta.uid, va->uid);
	hammer2_xid_to_uuid(&nd->meta.gid, va->gid);
	nd->meta.inum = inum;
	nd->meta.iparent = iparent;
	nd->meta.nlinks = va->type == HAMMER2_OBJTYPE_DIRECTORY ? 2 : 1;
	nd->meta.name_key = key;
	nd->meta.name_len = (uint16_t)len;
	h2_memcpy(nd->filename, name, len);
	nd->meta.comp_algo = dd ? dd->meta.comp_algo :
				  HAMMER2_ENC_ALGO(HAMMER2_COMP_DEFAULT);
	nd->meta.check_algo = dd ? dd->meta.check_algo :
				   HAMMER2_ENC_ALGO(HAMMER2_CHECK_DEFAULT);
	nd->meta.ncopies = 1;
	nd->meta.ctime = va->ctime_us ? va->ctime_us : now;
	nd->meta.mtime = va->mtime_us ? va->mtime_us : now;
	nd->meta.atime = va->atime_us ? va->atime_us : now;
	nd->meta.btime = now;
	if (va->type != HAMMER2_OBJTYPE_DIRECTORY)
		nd->meta.op_flags |= HAMMER2_OPFLAG_DIRECTDATA;
}

/*
 * Create an inode named name in dip.  Errors: EEXIST, ENOTDIR, EINVAL,
 * ENAMETOOLONG, ENOSPC (collision space full), media errors.
 */
int hammer2_inode_create(hammer2_inode_t *dip, const char *name, size_t len,
			 const struct hammer2_vattr *va, const char *link,
			 size_t linklen, hammer2_inode_t **ipp)
{
	hammer2_chain_t *chain;
	hammer2_inode_data_t *dd;
	hammer2_tid_t inum;
	hammer2_key_t key;
	int error;

	*ipp = NULL;
	error = dir_check(dip) | name_check(name, len);
	if (error)
		return error;
	if (va->type == HAMMER2_OBJTYPE_UNKNOWN ||
	    va->type > HAMMER2_OBJTYPE_WHITEOUT ||
	    va->type == HAMMER2_OBJTYPE_HARDLINK)
		return HAMMER2_ERROR_EINVAL;
	error = hammer2_dir_find(dip, name, len, &chain);
	if (error == 0) {
		hammer2_chain_drop(chain);
		return HAMMER2_ERROR_EEXIST;
	}
	if (error != HAMMER2_ERROR_ENOENT)
		return error;
	error = dir_free_key(dip->chain, name, len, &key);
	if (error == 0)
		error = pfs_alloc_inum(dip->pmp, &inum);
	if (error)
		return error;
	dd = hammer2_ipdata(dip);
	error = hammer2_chain_create(
		dip->chain, &chain, HAMMER2_BREF_TYPE_INODE, key, 0,
		HAMMER2_INODE_BYTES,
		(uint8_t)(HAMMER2_ENC_CHECK(
				  HAMMER2_DEC_ALGO(dd->meta.check_algo)) |
			  HAMMER2_ENC_COMP(HAMMER2_COMP_NONE)));
	if (error)
		return error;
	inode_init((hammer2_inode_data_t *)chain->data, hammer2_ipdata(dip), va,
		   inum, dip->inum, key, name, len, hammer2_now(dip->pmp->hmp));
	error = hammer2_chain_modify(dip->chain);
	if (error == 0) {
		dd = hammer2_ipdata(dip);
		if (va->type == HAMMER2_OBJTYPE_DIRECTORY)
			dd->meta.nlinks++;
		inode_touch(dip, 1);
		error = hammer2_inode_get(dip->pmp, chain, ipp);
	}
	hammer2_chain_drop(chain);
	if (error == 0 && va->type == HAMMER2_OBJTYPE_SOFTLINK && linklen) {
		ssize_t n = hammer2_file_write(*ipp, link, linklen, 0);
		if (n < 0)
			error = (int)-n;
		/* storing the target must not change the requested times */
		dd = hammer2_ipdata(*ipp);
		if (va->mtime_us)
			dd->meta.mtime = va->mtime_us;
		if (va->ctime_us)
			dd->meta.ctime = va->ctime_us;
	}
	return error;
}

static int dir_is_empty(hammer2_chain_t *chain, int *emptyp)
{
	hammer2_chain_t *child;
	int error;

	child = hammer2_chain_lookup(chain, HAMMER2_DIRHASH_VISIBLE,
				     HAMMER2_KEY_MAX, HAMMER2_LOOKUP_NODATA,
				     &error);
	*emptyp = child == NULL;
	if (child)
		hammer2_chain_drop(child);
	return error;
}

/*
 * Remove a directory entry's inode chain (already looked up).  An inode
 * that is still referenced (an open file) keeps its media until its last
 * release.
 */
static int inode_remove_chain(hammer2_pfs_t *pmp, hammer2_chain_t *chain)
{
	hammer2_inode_data_t *ipd = (hammer2_inode_data_t *)chain->data;
	hammer2_inode_t *ip = hammer2_inode_find(pmp, ipd->meta.inum);
	int error;

	if (ip && ip->chain == chain) {
		error = hammer2_chain_delete(chain, HAMMER2_DELETE_KEEPMEDIA);
		if (error)
			return error;
		ip->unlinked = 1;
		error = hammer2_chain_modify(chain);
		if (error == 0)
			((hammer2_inode_data_t *)chain->data)->meta.nlinks = 0;
		return error;
	}
	return hammer2_chain_delete(chain, 0);
}

/* ---------------- hard links ---------------- */

/*
 * Hard links (seed-era forwarding entries).  The first link() moves the
 * inode to a hidden key in the PFS root - its inode number, bit 63 clear,
 * so it never meets a name hash - and leaves a forwarding inode of type
 * HARDLINK (meta.inum, meta.target_type) under each name.  Keeping every
 * target at the PFS root means a directory rename can never separate a
 * link from its target.
 */
static int is_forward(hammer2_chain_t *chain)
{
	return ((hammer2_inode_data_t *)chain->data)->meta.type ==
	       HAMMER2_OBJTYPE_HARDLINK;
}

/* Type an entry stands for: its own, or its target's for a forward. */
static int entry_type(hammer2_chain_t *chain)
{
	hammer2_inode_data_t *ipd = (hammer2_inode_data_t *)chain->data;

	return is_forward(chain) ? ipd->meta.target_type : ipd->meta.type;
}

/*
 * The hidden target of a forwarding entry (referenced, loaded).  Errors:
 * BADBREF when the target is missing (a damaged volume), media errors.
 */
int hammer2_hardlink_target(hammer2_pfs_t *pmp, hammer2_chain_t *fwd,
			    hammer2_chain_t **chainp)
{
	hammer2_tid_t inum = ((hammer2_inode_data_t *)fwd->data)->meta.inum;
	hammer2_chain_t *chain;
	int error;

	*chainp = NULL;
	if (inum & HAMMER2_DIRHASH_VISIBLE)
		return HAMMER2_ERROR_BADBREF;
	chain = hammer2_chain_lookup(pmp->iroot->chain, inum, inum, 0, &error);
	if (chain && (chain->bref.type != HAMMER2_BREF_TYPE_INODE ||
		      chain->bref.key != inum || is_forward(chain))) {
		hammer2_chain_drop(chain);
		chain = NULL;
	}
	if (chain == NULL)
		return error ? error : HAMMER2_ERROR_BADBREF;
	*chainp = chain;
	return 0;
}

/* Directory inode chain holding an entry (skipping indirect blocks). */
static hammer2_chain_t *entry_dir(hammer2_chain_t *chain)
{
	hammer2_chain_t *p = chain->parent;

	while (p && p->bref.type == HAMMER2_BREF_TYPE_INDIRECT)
		p = p->parent;
	return p;
}

/* Create a forwarding entry for target td named name in dchain at key. */
static int forward_create(hammer2_chain_t *dchain, hammer2_key_t key,
			  const hammer2_inode_data_t *td, const char *name,
			  size_t len, hammer2_tid_t iparent, uint64_t now)
{
	hammer2_inode_data_t *fd;
	hammer2_chain_t *chain;
	int error;

	error = hammer2_chain_create(
		dchain, &chain, HAMMER2_BREF_TYPE_INODE, key, 0,
		HAMMER2_INODE_BYTES,
		(uint8_t)(HAMMER2_ENC_CHECK(
				  HAMMER2_DEC_ALGO(td->meta.check_algo)) |
			  HAMMER2_ENC_COMP(HAMMER2_COMP_NONE)));
	if (error)
		return error;
	fd = (hammer2_inode_data_t *)chain->data;
	fd->meta.version = HAMMER2_INODE_VERSION_ONE;
	fd->meta.type = HAMMER2_OBJTYPE_HARDLINK;
	fd->meta.target_type = td->meta.type;
	fd->meta.inum = td->meta.inum;
	fd->meta.nlinks = 1;
	fd->meta.mode = td->meta.mode;
	fd->meta.uid = td->meta.uid;
	fd->meta.gid = td->meta.gid;
	fd->meta.iparent = iparent;
	fd->meta.name_key = key;
	fd->meta.name_len = (uint16_t)len;
	fd->meta.check_algo = td->meta.check_algo;
	fd->meta.comp_algo = td->meta.comp_algo;
	fd->meta.ctime = fd->meta.mtime = fd->meta.atime = fd->meta.btime = now;
	fd->meta.op_flags = HAMMER2_OPFLAG_DIRECTDATA;
	h2_memcpy(fd->filename, name, len);
	hammer2_chain_drop(chain);
	return 0;
}

/*
 * link(2): a new name in tdip for the inode ip.  Errors: EPERM
 * (directory), EEXIST, ENOTDIR, ENAMETOOLONG, EINVAL, ENOENT (ip was
 * unlinked), media errors.
 */
int hammer2_inode_link(hammer2_inode_t *ip, hammer2_inode_t *tdip,
		       const char *name, size_t len)
{
	hammer2_pfs_t *pmp = ip->pmp;
	hammer2_inode_data_t *ipd = hammer2_ipdata(ip);
	hammer2_chain_t *chain, *dchain;
	uint64_t now = hammer2_now(pmp->hmp);
	hammer2_key_t key;
	int error;

	error = dir_check(tdip) | name_check(name, len);
	if (error)
		return error;
	if (ipd->meta.type == HAMMER2_OBJTYPE_DIRECTORY)
		return HAMMER2_ERROR_EPERM;
	if (ip->unlinked)
		return HAMMER2_ERROR_ENOENT;
	error = hammer2_dir_find(tdip, name, len, &chain);
	if (error == 0) {
		hammer2_chain_drop(chain);
		return HAMMER2_ERROR_EEXIST;
	}
	if (error != HAMMER2_ERROR_ENOENT)
		return error;
	if (ip->chain->bref.key & HAMMER2_DIRHASH_VISIBLE) {
		/* first extra link: hide the inode, forward its old name */
		hammer2_key_t okey = ip->chain->bref.key;
		hammer2_tid_t oparent = ipd->meta.iparent;
		char oname[HAMMER2_INODE_MAXNAME];
		size_t olen = H2_MIN(ipd->meta.name_len,
				     (uint16_t)HAMMER2_INODE_MAXNAME);

		dchain = entry_dir(ip->chain);
		if (dchain == NULL)
			return HAMMER2_ERROR_EINVAL;
		h2_memcpy(oname, ipd->filename, olen);
		hammer2_chain_ref(dchain);
		error = hammer2_chain_rename(ip->chain, pmp->iroot->chain,
					     ip->inum);
		if (error == 0)
			error = hammer2_chain_modify(ip->chain);
		if (error == 0) {
			ipd = hammer2_ipdata(ip);
			ipd->meta.name_key = ip->inum;
			ipd->meta.iparent = pmp->iroot->inum;
			/* hidden name as INODE14 wrote it: 0x<inum> */
			h2_memset(ipd->filename, 0, sizeof(ipd->filename));
			ipd->meta.name_len = (uint16_t)h2_snprintf(
				(char *)ipd->filename, sizeof(ipd->filename),
				"0x%016llx", (unsigned long long)ip->inum);
			error = forward_create(dchain, okey, ipd, oname, olen,
					       oparent, now);
		}
		hammer2_chain_drop(dchain);
		if (error)
			return error;
	}
	error = dir_free_key(tdip->chain, name, len, &key);
	if (error == 0)
		error = hammer2_chain_modify(ip->chain);
	if (error)
		return error;
	ipd = hammer2_ipdata(ip);
	ipd->meta.nlinks++;
	ipd->meta.ctime = now;
	error = forward_create(tdip->chain, key, ipd, name, len, tdip->inum,
			       now);
	if (error == 0)
		error = hammer2_chain_modify(tdip->chain);
	if (error == 0)
		inode_touch(tdip, 1);
	return error;
}

/*
 * Remove a directory entry: a forwarding entry drops one link of its
 * target (removing the target with the last one), anything else is
 * removed with inode_remove_chain.
 */
static int dirent_remove(hammer2_pfs_t *pmp, hammer2_chain_t *chain)
{
	hammer2_inode_data_t *td;
	hammer2_chain_t *target;
	int error;

	if (!is_forward(chain))
		return inode_remove_chain(pmp, chain);
	error = hammer2_hardlink_target(pmp, chain, &target);
	if (error == 0)
		error = hammer2_chain_delete(chain, 0);
	if (error == 0)
		error = hammer2_chain_modify(target);
	if (error == 0) {
		td = (hammer2_inode_data_t *)target->data;
		if (td->meta.nlinks > 0)
			td->meta.nlinks--;
		td->meta.ctime = hammer2_now(pmp->hmp);
		if (td->meta.nlinks == 0)
			error = inode_remove_chain(pmp, target);
	}
	if (target)
		hammer2_chain_drop(target);
	return error;
}

/*
 * unlink(2) (isdir = 0) or rmdir(2) (isdir = 1) of name in dip.  Errors:
 * ENOENT, ENOTDIR, EISDIR, ENOTEMPTY, EINVAL ("." or ".."), media errors.
 */
int hammer2_inode_unlink(hammer2_inode_t *dip, const char *name, size_t len,
			 int isdir)
{
	hammer2_chain_t *chain;
	int error, empty, type;

	error = dir_check(dip) | name_check(name, len);
	if (error)
		return error;
	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return isdir ? HAMMER2_ERROR_EINVAL : HAMMER2_ERROR_EISDIR;
	error = hammer2_dir_find(dip, name, len, &chain);
	if (error)
		return error;
	type = entry_type(chain);
	if (isdir && type != HAMMER2_OBJTYPE_DIRECTORY)
		error = HAMMER2_ERROR_ENOTDIR;
	else if (!isdir && type == HAMMER2_OBJTYPE_DIRECTORY)
		error = HAMMER2_ERROR_EISDIR;
	else if (isdir) {
		error = dir_is_empty(chain, &empty);
		if (error == 0 && !empty)
			error = HAMMER2_ERROR_ENOTEMPTY;
	}
	if (error == 0)
		error = dirent_remove(dip->pmp, chain);
	hammer2_chain_drop(chain);
	if (error == 0)
		error = hammer2_chain_modify(dip->chain);
	if (error == 0) {
		if (type == HAMMER2_OBJTYPE_DIRECTORY)
			hammer2_ipdata(dip)->meta.nlinks--;
		inode_touch(dip, 1);
	}
	return error;
}

/* Is chain 'anc' an ancestor of (or equal to) chain c? */
static int chain_is_ancestor(hammer2_chain_t *anc, hammer2_chain_t *c)
{
	for (; c; c = c->parent)
		if (c == anc)
			return 1;
	return 0;
}

/* Give a moved inode chain its new name and parent. */
static int inode_rename_chain(hammer2_chain_t *chain, hammer2_inode_t *tdip,
			      const char *name, size_t len)
{
	hammer2_inode_data_t *ipd;
	hammer2_key_t key;
	int error;

	error = dir_free_key(tdip->chain, name, len, &key);
	if (error == 0)
		error = hammer2_chain_rename(chain, tdip->chain, key);
	if (error == 0)
		error = hammer2_chain_modify(chain);
	if (error)
		return error;
	ipd = (hammer2_inode_data_t *)chain->data;
	ipd->meta.name_key = key;
	ipd->meta.name_len = (uint16_t)len;
	h2_memset(ipd->filename, 0, sizeof(ipd->filename));
	h2_memcpy(ipd->filename, name, len);
	ipd->meta.iparent = tdip->inum;
	ipd->meta.ctime = hammer2_now(tdip->pmp->hmp);
	return 0;
}

static int dir_nlink_adjust(hammer2_inode_t *dip, int delta)
{
	int error = hammer2_chain_modify(dip->chain);

	if (error == 0) {
		hammer2_ipdata(dip)->meta.nlinks += (uint64_t)(int64_t)delta;
		inode_touch(dip, 1);
	}
	return error;
}

/*
 * rename(2)/renameat2(2).  Errors: ENOENT, EEXIST (NOREPLACE), EINVAL
 * (directory into itself), ENOTDIR, EISDIR, ENOTEMPTY, media errors.
 */
int hammer2_inode_rename(hammer2_inode_t *fdip, const char *fname, size_t flen,
			 hammer2_inode_t *tdip, const char *tname, size_t tlen,
			 int flags)
{
	hammer2_chain_t *fchain = NULL, *tchain = NULL;
	int error, ftype, ttype = 0, empty;

	error = dir_check(fdip) | dir_check(tdip) | name_check(fname, flen) |
		name_check(tname, tlen);
	if (error)
		return error;
	if ((flags & HAMMER2_RENAME_NOREPLACE) &&
	    (flags & HAMMER2_RENAME_EXCHANGE))
		return HAMMER2_ERROR_EINVAL;
	error = hammer2_dir_find(fdip, fname, flen, &fchain);
	if (error)
		return error;
	ftype = entry_type(fchain);
	error = hammer2_dir_find(tdip, tname, tlen, &tchain);
	if (error == HAMMER2_ERROR_ENOENT) {
		tchain = NULL;
		error = (flags & HAMMER2_RENAME_EXCHANGE) ?
				HAMMER2_ERROR_ENOENT :
				0;
	}
	if (error)
		goto done;
	if (tchain == fchain)
		goto done; /* same entry: nothing to do */
	if (tchain && ((hammer2_inode_data_t *)tchain->data)->meta.inum ==
			      ((hammer2_inode_data_t *)fchain->data)->meta.inum)
		goto done; /* two links of one inode: rename(2) does nothing */
	if (tchain)
		ttype = entry_type(tchain);
	if (tchain && (flags & HAMMER2_RENAME_NOREPLACE)) {
		error = HAMMER2_ERROR_EEXIST;
		goto done;
	}
	/* a directory may not move below itself */
	if ((ftype == HAMMER2_OBJTYPE_DIRECTORY &&
	     chain_is_ancestor(fchain, tdip->chain)) ||
	    ((flags & HAMMER2_RENAME_EXCHANGE) &&
	     ttype == HAMMER2_OBJTYPE_DIRECTORY &&
	     chain_is_ancestor(tchain, fdip->chain))) {
		error = HAMMER2_ERROR_EINVAL;
		goto done;
	}
	if (flags & HAMMER2_RENAME_EXCHANGE) {
		error = inode_rename_chain(fchain, tdip, tname, tlen);
		if (error == 0)
			error = inode_rename_chain(tchain, fdip, fname, flen);
		/* parents' link counts change only when one is a directory */
		if (error == 0 && fdip != tdip &&
		    (ftype == HAMMER2_OBJTYPE_DIRECTORY) !=
			    (ttype == HAMMER2_OBJTYPE_DIRECTORY)) {
			int d = ftype == HAMMER2_OBJTYPE_DIRECTORY ? 1 : -1;
			error = dir_nlink_adjust(tdip, d) |
				dir_nlink_adjust(fdip, -d);
		}
		if (error == 0 && fdip != tdip)
			error = dir_nlink_adjust(fdip, 0) |
				dir_nlink_adjust(tdip, 0);
		goto done;
	}
	if (tchain) {
		if (ftype == HAMMER2_OBJTYPE_DIRECTORY &&
		    ttype != HAMMER2_OBJTYPE_DIRECTORY)
			error = HAMMER2_ERROR_ENOTDIR;
		else if (ftype != HAMMER2_OBJTYPE_DIRECTORY &&
			 ttype == HAMMER2_OBJTYPE_DIRECTORY)
			error = HAMMER2_ERROR_EISDIR;
		else if (ttype == HAMMER2_OBJTYPE_DIRECTORY) {
			error = dir_is_empty(tchain, &empty);
			if (error == 0 && !empty)
				error = HAMMER2_ERROR_ENOTEMPTY;
		}
		if (error == 0)
			error = dirent_remove(tdip->pmp, tchain);
		if (error == 0 && ttype == HAMMER2_OBJTYPE_DIRECTORY)
			error = dir_nlink_adjust(tdip, -1);
		if (error)
			goto done;
	}
	error = inode_rename_chain(fchain, tdip, tname, tlen);
	if (error == 0 && ftype == HAMMER2_OBJTYPE_DIRECTORY && fdip != tdip)
		error = dir_nlink_adjust(fdip, -1) | dir_nlink_adjust(tdip, 1);
	else if (error == 0)
		error = dir_nlink_adjust(fdip, 0) |
			(fdip != tdip ? dir_nlink_adjust(tdip, 0) : 0);
done:
	if (fchain)
		hammer2_chain_drop(fchain);
	if (tchain)
		hammer2_chain_drop(tchain);
	return error;
}

/*
 * readdir: cookie 0 is ".", 1 is "..", then entries in key order; the
 * cookie after an entry is (key & USERMSK) + 1, so a resumed scan starts
 * at the first key not yet returned whatever changed in between.
 */
int hammer2_inode_readdir(hammer2_inode_t *dip, uint64_t *cookie,
			  hammer2_filldir_t fn, void *arg)
{
	hammer2_inode_data_t *dd = hammer2_ipdata(dip);
	hammer2_chain_t *chain;
	hammer2_key_t beg;
	int error;

	error = dir_check(dip);
	if (error)
		return error;
	if (*cookie == 0) {
		if (fn(arg, ".", 1, dip->inum, HAMMER2_OBJTYPE_DIRECTORY, 1))
			return 0;
		*cookie = 1;
	}
	if (*cookie == 1) {
		hammer2_tid_t up = dd->meta.iparent ? dd->meta.iparent :
						      dip->inum;
		if (dd->meta.op_flags & HAMMER2_OPFLAG_PFSROOT)
			up = dip->inum;
		if (fn(arg, "..", 2, up, HAMMER2_OBJTYPE_DIRECTORY, 2))
			return 0;
		*cookie = 2;
	}
	beg = HAMMER2_DIRHASH_VISIBLE | (*cookie & HAMMER2_DIRHASH_USERMSK);
	chain = hammer2_chain_lookup(dip->chain, beg, HAMMER2_KEY_MAX,
				     HAMMER2_LOOKUP_NODATA, &error);
	while (chain) {
		hammer2_inode_data_t *ipd;
		uint64_t next = (chain->bref.key & HAMMER2_DIRHASH_USERMSK) + 1;

		/* a damaged entry: report it with the cookie already past it */
		error = hammer2_chain_load(chain);
		if (error) {
			*cookie = next;
			hammer2_chain_drop(chain);
			return error;
		}
		ipd = (hammer2_inode_data_t *)chain->data;
		if (chain->bref.type == HAMMER2_BREF_TYPE_INODE) {
			size_t nl = H2_MIN(ipd->meta.name_len,
					   (uint16_t)HAMMER2_INODE_MAXNAME);
			if (fn(arg, (const char *)ipd->filename, nl,
			       ipd->meta.inum, (uint8_t)entry_type(chain),
			       next)) {
				hammer2_chain_drop(chain);
				return 0;
			}
		}
		*cookie = next;
		chain = hammer2_chain_next(dip->chain, chain, HAMMER2_KEY_MAX,
					   HAMMER2_LOOKUP_NODATA, &error);
	}
	return error;
}

/* ---------------- file data ---------------- */

/* Smallest power of two >= 1 KiB holding valid bytes (<= 64 KiB). */
static uint32_t block_bytes(uint64_t valid)
{
	uint32_t b = HAMMER2_ALLOC_MIN;

	while (b < valid && b < LBLK)
		b <<= 1;
	return b;
}

/*
 * DATA chain of the logical block at lbase, or NULL for a hole; flags:
 * HAMMER2_LOOKUP_NODATA leaves its data unloaded.
 */
static int file_block_flags(hammer2_inode_t *ip, hammer2_key_t lbase, int flags,
			    hammer2_chain_t **chainp)
{
	hammer2_chain_t *chain;
	int error;

	chain = hammer2_chain_lookup(ip->chain, lbase, lbase + LMASK, flags,
				     &error);
	if (chain && (chain->bref.type != HAMMER2_BREF_TYPE_DATA ||
		      chain->bref.key != lbase)) {
		hammer2_chain_drop(chain);
		chain = NULL;
		error = HAMMER2_ERROR_BADBREF;
	}
	*chainp = chain;
	return error;
}

/* file_block_flags with the data loaded. */
static int file_block(hammer2_inode_t *ip, hammer2_key_t lbase,
		      hammer2_chain_t **chainp)
{
	return file_block_flags(ip, lbase, 0, chainp);
}

/* Move embedded data (DIRECTDATA) out into a DATA block. */
static int file_undirect(hammer2_inode_t *ip)
{
	hammer2_inode_data_t *ipd = hammer2_ipdata(ip);
	char save[HAMMER2_EMBEDDED_BYTES];
	uint64_t size = ipd->meta.size;
	hammer2_chain_t *chain;
	int error;

	if (!(ipd->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA))
		return 0;
	error = hammer2_chain_modify(ip->chain);
	if (error)
		return error;
	ipd = hammer2_ipdata(ip);
	h2_memcpy(save, ipd->u.data, sizeof(save));
	h2_memset(&ipd->u, 0, sizeof(ipd->u));
	ipd->meta.op_flags &= ~HAMMER2_OPFLAG_DIRECTDATA;
	if (size == 0 || hammer2_is_zero(save, (size_t)size))
		return 0;
	error = hammer2_chain_create(
		ip->chain, &chain, HAMMER2_BREF_TYPE_DATA, 0, HAMMER2_PBUFRADIX,
		block_bytes(size),
		(uint8_t)HAMMER2_ENC_CHECK(
			HAMMER2_DEC_ALGO(ipd->meta.check_algo)));
	if (error)
		return error;
	h2_memcpy(chain->data, save, (size_t)size);
	chain->comp_algo = ipd->meta.comp_algo;
	hammer2_chain_drop(chain);
	return 0;
}

/* Delete a DATA chain whose whole buffer is zero (it becomes a hole). */
static int file_maybe_hole(hammer2_chain_t *chain)
{
	if (!hammer2_is_zero(chain->data, chain->bytes))
		return 0;
	return hammer2_chain_delete(chain, 0);
}

/*
 * Write len bytes at off from fn (which copies each piece into the chain
 * buffer it is given), extending the file; returns bytes (>= 0) or a
 * negated HAMMER2_ERROR_* flag set.  A block written all zero becomes (or
 * stays) a hole.  mtime and ctime become now, unless hmp->vfs_file_times.
 */
ssize_t hammer2_file_write_cb(hammer2_inode_t *ip, uint64_t off, size_t len,
			      hammer2_copy_fn fn, void *arg)
{
	hammer2_inode_data_t *ipd = hammer2_ipdata(ip);
	uint64_t nsize, pos;
	int error;

	if (ipd->meta.type == HAMMER2_OBJTYPE_DIRECTORY)
		return -HAMMER2_ERROR_EISDIR;
	if (len == 0)
		return 0;
	if (off > H2_MAX_FILE_SIZE || len > H2_MAX_FILE_SIZE - off)
		return -HAMMER2_ERROR_EFBIG;
	error = hammer2_chain_modify(ip->chain);
	if (error)
		return -error;
	ipd = hammer2_ipdata(ip);
	nsize = H2_MAX(ipd->meta.size, off + len);
	if ((ipd->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA) &&
	    nsize <= HAMMER2_EMBEDDED_BYTES) {
		fn(arg, off, (uint8_t *)ipd->u.data + off, len);
		ipd->meta.size = nsize;
		if (!ip->pmp->hmp->vfs_file_times)
			inode_touch(ip, 1);
		return (ssize_t)len;
	}
	error = file_undirect(ip);
	if (error)
		return -error;
	for (pos = off; pos < off + len;) {
		hammer2_key_t lbase = pos & ~LMASK;
		uint32_t boff = (uint32_t)(pos - lbase);
		uint32_t n = (uint32_t)H2_MIN((uint64_t)(LBLK - boff),
					      off + len - pos);
		uint32_t need =
			block_bytes(H2_MIN(nsize - lbase, (uint64_t)LBLK));
		/* the write replaces the whole block, or all of it up to EOF */
		int whole = boff == 0 && (n == need || pos + n >= nsize);
		hammer2_chain_t *chain;
		int created = 0;

		error = file_block_flags(ip, lbase, HAMMER2_LOOKUP_NODATA,
					 &chain);
		if (error)
			return -error;
		if (chain == NULL) {
			/* a block the write fills wholly needs no zeroing */
			error = hammer2_chain_create_flags(
				ip->chain, &chain, HAMMER2_BREF_TYPE_DATA,
				lbase, HAMMER2_PBUFRADIX, need,
				(uint8_t)HAMMER2_ENC_CHECK(
					HAMMER2_DEC_ALGO(ipd->meta.check_algo)),
				boff == 0 && n >= need ?
					HAMMER2_CREATE_UNZEROED :
					0);
			if (error)
				return -error;
			created = 1;
		} else if (whole && chain->data == NULL &&
			   !(chain->flags & HAMMER2_CHAIN_PARTIAL)) {
			/* the old block is not read */
			error = hammer2_chain_modify_replace(chain, need);
			if (error) {
				hammer2_chain_drop(chain);
				return -error;
			}
			h2_memset(chain->data + n, 0, need - n);
		} else if (hammer2_chain_partial_ok(chain, boff, n, need)) {
			/* whole 4 KiB units: no read of the old block */
			error = hammer2_chain_modify_partial(chain);
			if (error) {
				hammer2_chain_drop(chain);
				return -error;
			}
		} else {
			error = hammer2_chain_modify(chain);
			if (error == 0 && chain->bytes < need)
				error = hammer2_chain_resize(chain, need);
			if (error) {
				hammer2_chain_drop(chain);
				return -error;
			}
		}
		chain->comp_algo = ipd->meta.comp_algo;
		/* a part of the block: likely written again, keep it cached */
		if (whole)
			chain->flags &= ~HAMMER2_CHAIN_SUBWRITE;
		else
			chain->flags |= HAMMER2_CHAIN_SUBWRITE;
		fn(arg, pos, chain->data + boff, n);
		if (chain->flags & HAMMER2_CHAIN_PARTIAL)
			hammer2_chain_partial_mark(chain, boff, n);
		/* zeros into a hole stay a hole; a block now all zero goes */
		if (!(chain->flags & HAMMER2_CHAIN_PARTIAL) &&
		    hammer2_is_zero(chain->data + boff, n) &&
		    (created || hammer2_is_zero(chain->data, chain->bytes)))
			error = hammer2_chain_delete(chain, 0);
		hammer2_chain_drop(chain);
		if (error)
			return -error;
		pos += n;
	}
	ipd = hammer2_ipdata(ip);
	ipd->meta.size = nsize;
	if (!ip->pmp->hmp->vfs_file_times)
		inode_touch(ip, 1);
	return (ssize_t)len;
}

/*
 * Direct write of the whole logical block at off (a multiple of 64 KiB;
 * the file grows to the block's end if it is shorter: the caller writes
 * only blocks wholly below its own EOF) from the LBLK bytes of the cnt
 * buffers of iov, in order, which the caller then writes to *dev_offp
 * (bytes) itself.  The block is allocated now and the DATA chain gets its
 * bref (hammer2_chain_set_direct; a clean cached copy is dropped).
 * Refused (EAGAIN: the caller writes through hammer2_file_write_cb
 * instead) when the block is modified in the core (dirty, PARTIAL, being
 * written), is all zeros (it becomes a hole there), or compresses:
 * compression is tried here when the file's heuristic says so
 * (hammer2_comp_choose; the flush then tries it again and keeps it); or
 * when the fence is incomplete (hmp->fence_full).  Errors: EAGAIN,
 * ENOSPC, media errors, ENOMEM.  Device lock.
 */
int hammer2_file_write_direct(hammer2_inode_t *ip, uint64_t off,
			      const struct hammer2_iov *iov, int cnt,
			      uint64_t *dev_offp)
{
	hammer2_dev_t *hmp = ip->pmp->hmp;
	hammer2_inode_data_t *ipd = hammer2_ipdata(ip);
	hammer2_chain_t *chain;
	hammer2_off_t noff;
	struct hammer2_iov one;
	uint8_t *flat = NULL;
	uint64_t total = 0;
	int error, algo, i, zero = 1;

	for (i = 0; i < cnt; i++) {
		total += iov[i].iov_len;
		if (zero && !hammer2_is_zero(iov[i].iov_base, iov[i].iov_len))
			zero = 0;
	}
	if (ipd->meta.type != HAMMER2_OBJTYPE_REGFILE || (off & LMASK) ||
	    off > H2_MAX_FILE_SIZE - LBLK || hmp->fence_full || cnt < 1 ||
	    total != LBLK || zero)
		return HAMMER2_ERROR_EAGAIN;
	error = file_undirect(ip); /* embedded data moves out first */
	if (error)
		return error;
	ipd = hammer2_ipdata(ip);
	error = file_block_flags(ip, off, HAMMER2_LOOKUP_NODATA, &chain);
	if (error)
		return error;
	if (chain &&
	    ((chain->data && (chain->flags & HAMMER2_CHAIN_MODIFIED)) ||
	     (chain->flags & (HAMMER2_CHAIN_PARTIAL | HAMMER2_CHAIN_IOBUSY)) ||
	     ((chain->flags & HAMMER2_CHAIN_MODIFIED) &&
	      !(chain->flags & HAMMER2_CHAIN_DIRECT)))) {
		hammer2_chain_drop(chain);
		return HAMMER2_ERROR_EAGAIN;
	}
	algo = hammer2_comp_choose(ip->chain, ipd->meta.comp_algo);
	if (algo != HAMMER2_COMP_NONE) {
		uint8_t *cbuf = hammer2_alloc_raw(LBLK);
		uint32_t c;

		flat = hammer2_iov_flatten(iov, cnt, LBLK);
		if (cbuf == NULL || flat == NULL) {
			error = HAMMER2_ERROR_EAGAIN;
		} else {
			c = hammer2_compress_block(ipd->meta.comp_algo, flat,
						   LBLK, cbuf);
			hammer2_comp_note(hmp, ip->chain, c != 0);
			if (c)
				error = HAMMER2_ERROR_EAGAIN;
		}
		hammer2_free(cbuf);
		if (flat == iov[0].iov_base)
			flat = NULL; /* the caller's */
	}
	if (error == 0)
		error = hammer2_freemap_alloc(hmp, HAMMER2_BREF_TYPE_DATA,
					      HAMMER2_PBUFRADIX, &noff);
	if (error == 0 && chain == NULL) {
		error = hammer2_chain_create_flags(ip->chain, &chain,
						   HAMMER2_BREF_TYPE_DATA, off,
						   HAMMER2_PBUFRADIX, LBLK, 0,
						   HAMMER2_CREATE_DIRECT);
		if (error)
			hammer2_freemap_free_deferred(hmp, noff);
	}
	if (error) {
		hammer2_free(flat);
		if (chain)
			hammer2_chain_drop(chain);
		return error;
	}
	/* a copy made for the compression try serves the check code too */
	one.iov_base = flat;
	one.iov_len = LBLK;
	hammer2_chain_set_direct(
		chain, noff, (uint8_t)HAMMER2_DEC_ALGO(ipd->meta.check_algo),
		flat ? &one : iov, flat ? 1 : cnt);
	hammer2_free(flat);
	chain->comp_algo = ipd->meta.comp_algo;
	hammer2_chain_drop(chain);
	if (!hmp->vfs_file_times || ipd->meta.size < off + LBLK) {
		error = hammer2_chain_modify(ip->chain);
		ipd = hammer2_ipdata(ip);
		if (error == 0 && ipd->meta.size < off + LBLK)
			ipd->meta.size = off + LBLK;
		if (error == 0 && !hmp->vfs_file_times)
			inode_touch(ip, 1);
	}
	hmp->stat_direct_writes++;
	*dev_offp = noff & HAMMER2_OFF_MASK;
	return error;
}

/*
 * Read ahead: load the DATA chains of [off, off + len) that are not
 * cached with as few device reads as possible (hammer2_chain_load_many),
 * in batches of PREFETCH_MAX blocks.  Best effort; errors are left for
 * the reads that follow.
 */
#define PREFETCH_MAX 64
static void file_prefetch(hammer2_inode_t *ip, uint64_t off, uint64_t len)
{
	hammer2_chain_t *batch[PREFETCH_MAX];
	hammer2_key_t key = off & ~LMASK, end = off + len - 1;
	hammer2_chain_t *chain;
	int n = 0, error, i;

	if (len <= LBLK || ip->chain->hmp->ops->readv == NULL)
		return;
	chain = hammer2_chain_lookup(ip->chain, key, end, HAMMER2_LOOKUP_NODATA,
				     &error);
	while (chain) {
		if (chain->bref.type == HAMMER2_BREF_TYPE_DATA &&
		    (chain->data == NULL ||
		     (chain->flags & HAMMER2_CHAIN_PARTIAL))) {
			hammer2_chain_ref(chain);
			batch[n++] = chain;
		}
		if (n == PREFETCH_MAX) {
			hammer2_chain_load_many(batch, n);
			for (i = 0; i < n; i++)
				hammer2_chain_drop(batch[i]);
			n = 0;
		}
		chain = hammer2_chain_next(ip->chain, chain, end,
					   HAMMER2_LOOKUP_NODATA, &error);
	}
	hammer2_chain_load_many(batch, n);
	for (i = 0; i < n; i++)
		hammer2_chain_drop(batch[i]);
}

/*
 * Read up to len bytes at off, handing each piece to fn (a pointer into
 * the cached block, or NULL for zeros of a hole or past a short block);
 * returns bytes (>= 0, short at EOF) or a negated error flag set.
 */
ssize_t hammer2_file_read_cb(hammer2_inode_t *ip, uint64_t off, size_t len,
			     hammer2_copy_fn fn, void *arg)
{
	hammer2_inode_data_t *ipd = hammer2_ipdata(ip);
	uint64_t size = ipd->meta.size, pos;
	int error;

	if (ipd->meta.type == HAMMER2_OBJTYPE_DIRECTORY)
		return -HAMMER2_ERROR_EISDIR;
	if (off >= size || len == 0)
		return 0;
	if (len > size - off)
		len = (size_t)(size - off);
	if (ipd->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA) {
		if (size > HAMMER2_EMBEDDED_BYTES)
			return -HAMMER2_ERROR_BADBREF;
		fn(arg, off, (uint8_t *)ipd->u.data + off, len);
		return (ssize_t)len;
	}
	file_prefetch(ip, off, len);
	for (pos = off; pos < off + len;) {
		hammer2_key_t lbase = pos & ~LMASK;
		uint32_t boff = (uint32_t)(pos - lbase);
		uint32_t n = (uint32_t)H2_MIN((uint64_t)(LBLK - boff),
					      off + len - pos);
		hammer2_chain_t *chain;

		error = file_block(ip, lbase, &chain);
		if (error)
			return -error;
		if (chain == NULL) {
			fn(arg, pos, NULL, n);
		} else {
			uint32_t have =
				boff < chain->bytes ? chain->bytes - boff : 0;
			uint32_t c = H2_MIN(have, n);

			if (c)
				fn(arg, pos, chain->data + boff, c);
			if (c < n)
				fn(arg, pos + c, NULL, n - c);
			hammer2_chain_drop(chain);
		}
		pos += n;
	}
	return (ssize_t)len;
}

/*
 * A read plan (see hammer2_vfsops.h): one piece per block of
 * [off, min(off + len, size)).  MEDIA only for a block that is wholly in
 * the caller's memory, on the media and nowhere else (no cached, modified
 * or partial chain), stored uncompressed and with a check that
 * hammer2_check_stream_* can verify; everything else is CORE (or ZERO for
 * a hole).
 */
int hammer2_file_read_map(hammer2_inode_t *ip, uint64_t off, uint64_t len,
			  hammer2_rmap_t *map, int max)
{
	hammer2_inode_data_t *ipd = hammer2_ipdata(ip);
	uint64_t size = ipd->meta.size, end, pos;
	int n = 0, error;

	if (ipd->meta.type == HAMMER2_OBJTYPE_DIRECTORY)
		return -HAMMER2_ERROR_EISDIR;
	if (off >= size || len == 0 || max <= 0)
		return 0;
	end = len > size - off ? size : off + len;
	if (ipd->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA) {
		h2_memset(&map[0], 0, sizeof(map[0]));
		map[0].foff = off;
		map[0].bytes = (uint32_t)H2_MIN(end - off, (uint64_t)LBLK);
		map[0].kind = HAMMER2_RMAP_CORE;
		return 1;
	}
	for (pos = off; pos < end && n < max; n++) {
		hammer2_key_t lbase = pos & ~LMASK;
		hammer2_rmap_t *m = &map[n];
		hammer2_chain_t *chain;
		hammer2_check_stream_t cs;
		uint32_t pb;

		h2_memset(m, 0, sizeof(*m));
		m->foff = pos;
		m->bytes = (uint32_t)H2_MIN(end - pos, lbase + LBLK - pos);
		m->kind = HAMMER2_RMAP_CORE;
		pos += m->bytes;
		error = file_block_flags(ip, lbase, HAMMER2_LOOKUP_NODATA,
					 &chain);
		if (error == HAMMER2_ERROR_BADBREF)
			continue; /* CORE: the core path reports it */
		if (error)
			return -error;
		if (chain == NULL) {
			m->kind = HAMMER2_RMAP_ZERO;
			continue;
		}
		pb = hammer2_io_placement(ip->chain->hmp, &chain->bref);
		if (m->foff == lbase && pb != 0 && lbase + pb <= off + len &&
		    chain->data == NULL &&
		    !(chain->flags &
		      (HAMMER2_CHAIN_MODIFIED | HAMMER2_CHAIN_INITIAL |
		       HAMMER2_CHAIN_PARTIAL)) &&
		    HAMMER2_DEC_COMP(chain->bref.methods) ==
			    HAMMER2_COMP_NONE &&
		    hammer2_check_stream_begin(&cs, &chain->bref)) {
			m->kind = HAMMER2_RMAP_MEDIA;
			m->pbytes = pb;
			m->dev_off = chain->bref.data_off & HAMMER2_OFF_MASK;
			m->bref = chain->bref;
		}
		hammer2_chain_drop(chain);
	}
	return n;
}

void hammer2_mem_copy_in(void *arg, uint64_t foff, uint8_t *kbuf, size_t n)
{
	struct hammer2_mem_copy *m = arg;

	h2_memcpy(kbuf, m->buf + (foff - m->off), n);
}

void hammer2_mem_copy_out(void *arg, uint64_t foff, uint8_t *kbuf, size_t n)
{
	struct hammer2_mem_copy *m = arg;

	if (kbuf)
		h2_memcpy(m->buf + (foff - m->off), kbuf, n);
	else
		h2_memset(m->buf + (foff - m->off), 0, n);
}

/*
 * lseek SEEK_DATA (hole 0) / SEEK_HOLE (hole 1) from off: *resp is the
 * first byte >= off that is data (in a DATA block or embedded) or a hole
 * (outside every DATA block, or EOF, the implicit hole).  Granularity is
 * the 64 KiB logical block.  Errors: ENXIO (off at or past EOF, or no
 * data after off), EISDIR, media errors.
 */
int hammer2_file_seek(hammer2_inode_t *ip, uint64_t off, int hole,
		      uint64_t *resp)
{
	hammer2_inode_data_t *ipd = hammer2_ipdata(ip);
	uint64_t size = ipd->meta.size, pos;
	hammer2_chain_t *chain;
	int error;

	if (ipd->meta.type == HAMMER2_OBJTYPE_DIRECTORY)
		return HAMMER2_ERROR_EISDIR;
	if (off >= size)
		return HAMMER2_ERROR_ENXIO;
	if (ipd->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA) {
		*resp = hole ? size : off;
		return 0;
	}
	if (!hole) {
		chain = hammer2_chain_lookup(ip->chain, off & ~LMASK,
					     HAMMER2_KEY_MAX,
					     HAMMER2_LOOKUP_NODATA, &error);
		while (chain && chain->bref.type != HAMMER2_BREF_TYPE_DATA)
			chain = hammer2_chain_next(ip->chain, chain,
						   HAMMER2_KEY_MAX,
						   HAMMER2_LOOKUP_NODATA,
						   &error);
		if (error)
			return error;
		if (chain == NULL)
			return HAMMER2_ERROR_ENXIO;
		pos = H2_MAX(off, chain->bref.key);
		hammer2_chain_drop(chain);
		if (pos >= size)
			return HAMMER2_ERROR_ENXIO;
		*resp = pos;
		return 0;
	}
	for (pos = off; pos < size; pos = (pos & ~LMASK) + LBLK) {
		int data;

		chain = hammer2_chain_lookup(ip->chain, pos & ~LMASK,
					     (pos & ~LMASK) + LMASK,
					     HAMMER2_LOOKUP_NODATA, &error);
		if (error)
			return error;
		if (chain == NULL)
			break;
		data = chain->bref.type == HAMMER2_BREF_TYPE_DATA;
		hammer2_chain_drop(chain);
		if (!data)
			break;
	}
	*resp = H2_MIN(pos, size);
	return 0;
}

/* hammer2_file_write_cb from a buffer. */
ssize_t hammer2_file_write(hammer2_inode_t *ip, const void *buf, size_t len,
			   uint64_t off)
{
	struct hammer2_mem_copy m = { (uint8_t *)(uintptr_t)buf, off };

	return hammer2_file_write_cb(ip, off, len, hammer2_mem_copy_in, &m);
}

/* hammer2_file_read_cb into a buffer. */
ssize_t hammer2_file_read(hammer2_inode_t *ip, void *buf, size_t len,
			  uint64_t off)
{
	struct hammer2_mem_copy m = { buf, off };

	return hammer2_file_read_cb(ip, off, len, hammer2_mem_copy_out, &m);
}

/*
 * truncate(2): shrink frees whole blocks past the end and zeroes the tail
 * of the last one; growing leaves a hole.  Errors: EISDIR, EFBIG, media.
 */
int hammer2_file_truncate(hammer2_inode_t *ip, uint64_t nsize)
{
	hammer2_inode_data_t *ipd = hammer2_ipdata(ip);
	hammer2_chain_t *chain;
	uint64_t osize = ipd->meta.size;
	hammer2_key_t lbase;
	int error;

	if (ipd->meta.type == HAMMER2_OBJTYPE_DIRECTORY)
		return HAMMER2_ERROR_EISDIR;
	if (nsize > H2_MAX_FILE_SIZE)
		return HAMMER2_ERROR_EFBIG;
	error = hammer2_chain_modify(ip->chain);
	if (error)
		return error;
	ipd = hammer2_ipdata(ip);
	if (ipd->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA) {
		if (nsize <= HAMMER2_EMBEDDED_BYTES) {
			if (nsize < osize)
				h2_memset(ipd->u.data + nsize, 0,
					  HAMMER2_EMBEDDED_BYTES - nsize);
			goto done;
		}
		error = file_undirect(ip);
		if (error)
			return error;
		goto done;
	}
	if (nsize >= osize)
		goto done;
	/* delete whole blocks at or past the rounded-up new size */
	lbase = (nsize + LMASK) & ~LMASK;
	for (;;) {
		chain = hammer2_chain_lookup(ip->chain, lbase, HAMMER2_KEY_MAX,
					     HAMMER2_LOOKUP_NODATA, &error);
		if (chain == NULL)
			break;
		error = hammer2_chain_delete(chain, 0);
		hammer2_chain_drop(chain);
		if (error)
			return error;
	}
	if (error)
		return error;
	/* zero the tail of the last partial block and shrink it */
	if (nsize & LMASK) {
		uint32_t keep = (uint32_t)(nsize & LMASK);

		error = file_block(ip, nsize & ~LMASK, &chain);
		if (error)
			return error;
		if (chain) {
			error = hammer2_chain_modify(chain);
			if (error == 0 && keep < chain->bytes)
				h2_memset(chain->data + keep, 0,
					  chain->bytes - keep);
			if (error == 0 && block_bytes(keep) < chain->bytes)
				error = hammer2_chain_resize(chain,
							     block_bytes(keep));
			if (error == 0)
				error = file_maybe_hole(chain);
			hammer2_chain_drop(chain);
			if (error)
				return error;
		}
	}
done:
	ipd = hammer2_ipdata(ip);
	ipd->meta.size = nsize;
	inode_touch(ip, 1);
	return 0;
}
