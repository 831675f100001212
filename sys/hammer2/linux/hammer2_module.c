/*
 * hammer2_module.c - module entry points.
 *
 * For now the module only carries the core (proving it builds and links
 * against kernel exports alone); the VFS glue registers the filesystem in
 * a later change.
 */
#include "hammer2_os.h"

#include <linux/init.h>
#include <linux/module.h>

static int __init hammer2_module_init(void)
{
	hammer2_log("core loaded");
	return 0;
}

static void __exit hammer2_module_exit(void)
{
	hammer2_os_linux_exit();
}

module_init(hammer2_module_init);
module_exit(hammer2_module_exit);

MODULE_LICENSE("Dual BSD/GPL");
MODULE_DESCRIPTION("HAMMER2 filesystem (DragonFly BSD) core");
/* libcrc32c needs a crc32c crypto driver (crc32c-intel or crc32c_generic) */
MODULE_SOFTDEP("pre: crc32c");
