/*
 * fsck_hammer2.h - definitions of the fsck_hammer2 tool.
 *
 * fsck_hammer2.c opens the image or device, prints the first and the last
 * line and chooses the exit code; the checking itself is hammer2_fsck()
 * of the library (hammer2_tools.h), whose report lines go to stdout.
 */
#ifndef FSCK_HAMMER2_H
#define FSCK_HAMMER2_H

/*
 * Exit codes, fsck(8) style.  fsck(8) documents 16 for usage errors, but
 * this project's rule is that a wrong command line prints the usage and
 * exits 2, so FSCK_EXIT_USAGE is 2.
 */
#define FSCK_EXIT_OK 0
#define FSCK_EXIT_USAGE 2
#define FSCK_EXIT_UNCORRECTED 4
#define FSCK_EXIT_OPERATIONAL 8

#endif /* FSCK_HAMMER2_H */
