/*
 * hammer2_os_linux.h - kernel side of the seam (see ../hammer2_os.h).
 *
 * Backed by the Linux kernel: kvzalloc/kvfree, struct mutex, printk,
 * sort(), libcrc32c, xxhash, the sha256 library, lz4 and zlib.
 *
 * NOTE: Only included when __KERNEL__ is defined (kbuild).  Nothing here
 *	 may be used by the core beyond what hammer2_os.h lists.
 */
#ifndef HAMMER2_OS_LINUX_H
#define HAMMER2_OS_LINUX_H

/*
 * Deliberately tiny: the core's namespace must not fill up with kernel
 * declarations (a core static function named like a kernel inline, e.g.
 * bitmap_set(), would not compile).  So no <linux/kernel.h>, <linux/mutex.h>
 * or <linux/string.h> here: the string functions are compiler builtins
 * (calls go to the kernel's exported memcpy & co) and the mutex is opaque.
 */
#include <linux/types.h>
#include <linux/stddef.h>
#include <linux/errno.h>

#define h2_memcpy __builtin_memcpy
#define h2_memmove __builtin_memmove
#define h2_memset __builtin_memset
#define h2_memcmp __builtin_memcmp
#define h2_strlen __builtin_strlen

int h2_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A mutex that knows its owner: a struct mutex kept in opaque storage
 * (hammer2_os_linux.c checks at compile time that it fits) plus the task
 * holding it.
 */
#define HAMMER2_LINUX_MUTEX_WORDS 8
typedef struct hammer2_mtx {
	unsigned long mutex[HAMMER2_LINUX_MUTEX_WORDS]; /* struct mutex */
	void *owner;					/* task_struct */
} hammer2_mtx_t;

/*
 * Programming errors only: hammer2_assert_fail() logs file:line and BUG()s.
 * It is not declared noreturn: objtool cannot see that across objects and
 * would report the caller as falling through; the trap after the call
 * (ud2, never reached) ends the path for both the compiler and objtool.
 */
void hammer2_assert_fail(const char *expr, const char *file, int line)
	__attribute__((cold));
#define H2_ASSERT(cond)                                                 \
	do {                                                            \
		if (__builtin_expect(!(cond), 0)) {                     \
			hammer2_assert_fail(#cond, __FILE__, __LINE__); \
			__builtin_trap();                               \
		}                                                       \
	} while (0)

/*
 * Kernel-only (not part of the seam contract), called by
 * hammer2_module.c: create the block buffer caches at module init (0 or
 * -ENOMEM), release them and the codec workspaces at module exit (after
 * every device is closed).
 */
int hammer2_os_linux_init(void);
void hammer2_os_linux_exit(void);

#endif /* HAMMER2_OS_LINUX_H */
