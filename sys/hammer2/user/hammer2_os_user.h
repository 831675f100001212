/*
 * hammer2_os_user.h - userland side of the seam (see ../hammer2_os.h).
 *
 * Backed by libc, pthreads, liblz4, zlib, libxxhash and libmd (SHA-256).
 */
#ifndef HAMMER2_OS_USER_H
#define HAMMER2_OS_USER_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define h2_memcpy memcpy
#define h2_memmove memmove
#define h2_memset memset
#define h2_memcmp memcmp
#define h2_strlen strlen
#define h2_snprintf snprintf

/* A mutex that knows its owner, so misuse is caught in userland too. */
typedef struct hammer2_mtx {
	pthread_mutex_t mtx;
	pthread_t owner;
	int locked;
} hammer2_mtx_t;

void hammer2_assert_fail(const char *expr, const char *file, int line)
	__attribute__((noreturn));
#define H2_ASSERT(cond)                                                 \
	do {                                                            \
		if (!(cond))                                            \
			hammer2_assert_fail(#cond, __FILE__, __LINE__); \
	} while (0)
/* Userland: when nonzero, hammer2_log output is suppressed (tests, sim). */
extern int hammer2_log_quiet;

#endif /* HAMMER2_OS_USER_H */
