/*
 * hammer2_inode.h - internal interface of hammer2_inode.c, used by
 * hammer2_vfsops.c.  All functions need the device lock and return
 * HAMMER2_ERROR_* flags (the ssize_t ones: bytes, or negated flags).
 */
#ifndef HAMMER2_INODE_H
#define HAMMER2_INODE_H

#include "hammer2_vfsops.h"

hammer2_inode_data_t *hammer2_ipdata(hammer2_inode_t *ip);
/* Device clock, microseconds since the epoch. */
uint64_t hammer2_now(hammer2_dev_t *hmp);
/* Unix uid/gid stored in a HAMMER2 uuid (DragonFly: uuid.node[2]). */
uint32_t hammer2_uuid_to_xid(const hammer2_uuid_t *u);
void hammer2_xid_to_uuid(hammer2_uuid_t *u, uint32_t xid);

hammer2_inode_t *hammer2_inode_find(hammer2_pfs_t *pmp, hammer2_tid_t inum);
int hammer2_inode_get(hammer2_pfs_t *pmp, hammer2_chain_t *chain,
		      hammer2_inode_t **ipp);
void hammer2_inode_release(hammer2_inode_t *ip);

int hammer2_dir_find(hammer2_inode_t *dip, const char *name, size_t len,
		     hammer2_chain_t **chainp);
int hammer2_inode_create(hammer2_inode_t *dip, const char *name, size_t len,
			 const struct hammer2_vattr *va, const char *link,
			 size_t linklen, hammer2_inode_t **ipp);
int hammer2_inode_unlink(hammer2_inode_t *dip, const char *name, size_t len,
			 int isdir);
int hammer2_inode_rename(hammer2_inode_t *fdip, const char *fname, size_t flen,
			 hammer2_inode_t *tdip, const char *tname, size_t tlen,
			 int flags);
int hammer2_inode_link(hammer2_inode_t *ip, hammer2_inode_t *tdip,
		       const char *name, size_t len);
int hammer2_hardlink_target(hammer2_pfs_t *pmp, hammer2_chain_t *fwd,
			    hammer2_chain_t **chainp);
int hammer2_inode_readdir(hammer2_inode_t *dip, uint64_t *cookie,
			  hammer2_filldir_t fn, void *arg);
ssize_t hammer2_file_write(hammer2_inode_t *ip, const void *buf, size_t len,
			   uint64_t off);
ssize_t hammer2_file_read(hammer2_inode_t *ip, void *buf, size_t len,
			  uint64_t off);
/* hammer2_copy_fn over one buffer holding file offset off at buf[0]. */
struct hammer2_mem_copy {
	uint8_t *buf;
	uint64_t off;
};
void hammer2_mem_copy_in(void *arg, uint64_t foff, uint8_t *kbuf, size_t n);
void hammer2_mem_copy_out(void *arg, uint64_t foff, uint8_t *kbuf, size_t n);
ssize_t hammer2_file_write_cb(hammer2_inode_t *ip, uint64_t off, size_t len,
			      hammer2_copy_fn fn, void *arg);
/* hammer2_vop_write_direct's part under the device lock (inode.c). */
int hammer2_file_write_direct(hammer2_inode_t *ip, uint64_t off,
			      const struct hammer2_iov *iov, int cnt,
			      uint64_t *dev_offp);
ssize_t hammer2_file_read_cb(hammer2_inode_t *ip, uint64_t off, size_t len,
			     hammer2_copy_fn fn, void *arg);
/* hammer2_vop_read_map without the device lock (caller holds it). */
int hammer2_file_read_map(hammer2_inode_t *ip, uint64_t off, uint64_t len,
			  hammer2_rmap_t *map, int max);
int hammer2_file_truncate(hammer2_inode_t *ip, uint64_t nsize);
int hammer2_file_seek(hammer2_inode_t *ip, uint64_t off, int hole,
		      uint64_t *resp);

#endif /* HAMMER2_INODE_H */
