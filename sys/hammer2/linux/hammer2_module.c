/*
 * hammer2_module.c - module entry points: register the "hammer2"
 * filesystem type (hammer2_vfs.c) and its inode cache.
 */
#include "linux/hammer2_glue.h"

#include <linux/init.h>
#include <linux/module.h>

static int __init hammer2_module_init(void)
{
	int err;

	err = hammer2_os_linux_init();
	if (err)
		return err;
	err = h2_inode_cache_init();
	if (err) {
		hammer2_os_linux_exit();
		return err;
	}
	err = register_filesystem(&hammer2_fs_type);
	if (err) {
		h2_inode_cache_destroy();
		hammer2_os_linux_exit();
		return err;
	}
	hammer2_log("filesystem registered");
	return 0;
}

static void __exit hammer2_module_exit(void)
{
	unregister_filesystem(&hammer2_fs_type);
	h2_inode_cache_destroy();
	hammer2_os_linux_exit();
}

module_init(hammer2_module_init);
module_exit(hammer2_module_exit);

MODULE_LICENSE("Dual BSD/GPL");
MODULE_DESCRIPTION("HAMMER2 filesystem (DragonFly BSD)");
MODULE_ALIAS_FS("hammer2");
/* libcrc32c needs a crc32c crypto driver (crc32c-intel or crc32c_generic) */
MODULE_SOFTDEP("pre: crc32c");
