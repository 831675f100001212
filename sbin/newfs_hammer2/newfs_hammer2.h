/*
 * newfs_hammer2.h - definitions of the newfs_hammer2 tool.
 *
 * newfs_hammer2.c parses the command line, prepares the target (creates,
 * resizes, punches the reserved and boot/aux areas) and prints the
 * summary; the volume itself is computed and written by the library
 * (hammer2_newfs_layout() and hammer2_newfs() in hammer2_tools.h).
 */
#ifndef NEWFS_HAMMER2_H
#define NEWFS_HAMMER2_H

#include <stddef.h>
#include <stdint.h>

#include "hammer2_tools.h"

/* Exit codes (mkfs(8) style; usage errors use the project's code 2). */
#define NEWFS_EXIT_OK 0
#define NEWFS_EXIT_ERROR 1
#define NEWFS_EXIT_USAGE 2

/*
 * Labels: "LOCAL" is always created; at most HAMMER2_SET_COUNT PFS root
 * inodes fit in the super-root's blockset without an indirect block, so
 * at most three user labels are accepted.
 */
#define NEWFS_MAX_PFS HAMMER2_NEWFS_MAX_LABELS
#define NEWFS_MAX_USER_LABELS (NEWFS_MAX_PFS - 1)
#define NEWFS_LABEL_MAX (HAMMER2_INODE_MAXNAME - 1)

/*
 * Human readable size ("  1.00GB"), DragonFly newfs style, into buf of
 * bufsize bytes.  Returns buf.
 */
const char *newfs_sizestr(uint64_t bytes, char *buf, size_t bufsize);

#endif /* NEWFS_HAMMER2_H */
