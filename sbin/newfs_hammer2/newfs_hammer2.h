/*
 * newfs_hammer2.h - shared definitions of the newfs_hammer2 tool.
 *
 * newfs_hammer2.c parses the command line and prepares the target;
 * newfs_layout.c computes the volume layout and writes the file system.
 */
#ifndef NEWFS_HAMMER2_H
#define NEWFS_HAMMER2_H

#include <stdint.h>

#include "hammer2.h"

/* Exit codes (mkfs(8) style; usage errors use the project's code 2). */
#define NEWFS_EXIT_OK 0
#define NEWFS_EXIT_ERROR 1
#define NEWFS_EXIT_USAGE 2

/*
 * Labels: "LOCAL" is always created; at most HAMMER2_SET_COUNT PFS root
 * inodes fit in the super-root's blockset without an indirect block, so
 * at most three user labels are accepted.
 */
#define NEWFS_MAX_PFS HAMMER2_SET_COUNT
#define NEWFS_MAX_USER_LABELS (NEWFS_MAX_PFS - 1)
#define NEWFS_LABEL_MAX (HAMMER2_INODE_MAXNAME - 1)

/* Initial transaction id of every blockref, as DragonFly's newfs uses. */
#define NEWFS_INITIAL_TID 16
/* First inode number a PFS will hand out (root is 1), as DragonFly. */
#define NEWFS_PFS_FIRST_INUM 16
/* DMSG_PEER_HAMMER2: LNK_CONN peer type stored in the volume header. */
#define NEWFS_PEER_HAMMER2 3

/* Everything the command line decides. */
struct newfs_opts {
	const char *labels[NEWFS_MAX_PFS]; /* [0] is always "LOCAL" */
	int nlabels;
	uint64_t boot_bytes; /* 0: default scaled by volume size */
	uint64_t aux_bytes;  /* 0: default scaled by volume size */
	int version;	     /* HAMMER2_VOL_VERSION_* */
	int check_algo;	     /* HAMMER2_CHECK_* for the PFS inodes */
	int comp_algo;	     /* HAMMER2_COMP_* | level << 4 */
	int force;
};

/* The computed volume layout; all values are byte offsets or sizes. */
struct newfs_layout {
	uint64_t volu_size; /* usable size, multiple of VOLUME_ALIGN */
	uint64_t boot_beg, boot_bytes;
	uint64_t aux_beg, aux_bytes;
	uint64_t reserved_bytes; /* 4 MiB per started 1 GiB */
	uint64_t free_bytes;	 /* allocator_size / allocator_free */
	uint64_t inode_base;	 /* 64 KiB block holding sroot + PFS roots */
	uint64_t allocator_beg;	 /* first byte after newfs' allocations */
	int nhdrs;		 /* volume header copies that fit */
};

/*
 * Compute the layout of a volume of 'bytes' (rounded down to
 * HAMMER2_VOLUME_ALIGN) for the given options and number of PFS inodes.
 * Returns NULL on success or a static message saying why the volume is
 * too small or the boot/aux areas do not fit.
 */
const char *newfs_compute_layout(uint64_t bytes, const struct newfs_opts *opt,
				 struct newfs_layout *lay);

/*
 * Sources of time and randomness: the userdev devops of the target, so
 * HAMMER2_FAKE_TIME_US / HAMMER2_FAKE_RANDOM_SEED give reproducible
 * images (see hammer2_user.h).
 */
struct newfs_env {
	const struct hammer2_devops *ops;
	void *ctx;
};

/*
 * Write the file system described by lay/opt to fd (opened read-write).
 * is_regular selects hole punching over writing zeros when clearing the
 * reserved/boot/aux areas.  Inode times and uuids come from env.  Prints
 * the DragonFly-style summary to stdout.  Returns 0, or -1 after printing
 * an error (with strerror(errno)) to stderr.
 */
int newfs_format(int fd, int is_regular, const char *path,
		 const struct newfs_opts *opt, const struct newfs_layout *lay,
		 const struct newfs_env *env);

/*
 * Human readable size ("  1.00GB"), DragonFly newfs style.  Returns buf.
 */
const char *newfs_sizestr(uint64_t bytes, char *buf, size_t bufsize);

#endif /* NEWFS_HAMMER2_H */
