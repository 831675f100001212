/*
 * hammer2_disk.h - HAMMER2 on-media structures.
 *
 * Byte-compatible with DragonFly BSD's sys/vfs/hammer2/hammer2_disk.h
 * (volume version 2, freemap version 1).  Every offset below is asserted at
 * compile time; docs/FORMAT.md describes each structure and names where each
 * fact comes from.  All fields are little-endian host order, as HAMMER2
 * writes them on x86 (the magic tells the byte order).
 *
 * This header is shared by the kernel module, libhammer2 and the tools and
 * must only depend on hammer2_os.h for fixed-width integer types.
 */
#ifndef HAMMER2_DISK_H
#define HAMMER2_DISK_H

#include "hammer2_os.h"

/* Allocation sizes: 1 KiB .. 64 KiB, powers of two (radix 10..16). */
#define HAMMER2_ALLOC_MIN 1024
#define HAMMER2_RADIX_MIN 10
#define HAMMER2_ALLOC_MAX 65536
#define HAMMER2_RADIX_MAX 16
#define HAMMER2_RADIX_KEY 64

#define HAMMER2_PBUFRADIX 16 /* physical buffer / max block (64 KiB) */
#define HAMMER2_PBUFSIZE 65536
#define HAMMER2_PBUFMASK (HAMMER2_PBUFSIZE - 1)
#define HAMMER2_PBUFMASK64 ((hammer2_off_t)HAMMER2_PBUFMASK)
#define HAMMER2_LBUFRADIX 14 /* nominal logical buffer (16 KiB) */
#define HAMMER2_LBUFSIZE 16384

/* Indirect block sizes (bytes) and their blockref counts. */
#define HAMMER2_IND_BYTES_MIN 4096
#define HAMMER2_IND_BYTES_NOM HAMMER2_LBUFSIZE
#define HAMMER2_IND_BYTES_MAX HAMMER2_PBUFSIZE
#define HAMMER2_IND_COUNT_MAX (HAMMER2_IND_BYTES_MAX / 128)

/* Inode blockset: 4 blockrefs or 512 bytes of embedded data. */
#define HAMMER2_SET_RADIX 2
#define HAMMER2_SET_COUNT 4
#define HAMMER2_EMBEDDED_BYTES 512
#define HAMMER2_EMBEDDED_RADIX 9

/*
 * Zones.  Volume header copies sit at the start of each of the first four
 * 2 GiB zones.  A 4 MiB reserved segment starts every 1 GiB (H2FMZONEBASE:
 * DragonFly keeps the reserved area on each LEVEL1 boundary); it holds the
 * volume header (block 0) and 8 rotating freemap sets of 5 x 64 KiB blocks.
 */
#define HAMMER2_VOLUME_ALIGN (8 * 1024 * 1024)
#define HAMMER2_VOLUME_ALIGNMASK64 ((hammer2_off_t)HAMMER2_VOLUME_ALIGN - 1)
#define HAMMER2_NEWFS_ALIGN HAMMER2_VOLUME_ALIGN
#define HAMMER2_ZONE_BYTES64 (2ULL * 1024 * 1024 * 1024)
#define HAMMER2_ZONE_MASK64 (HAMMER2_ZONE_BYTES64 - 1)
#define HAMMER2_ZONE_SEG (4 * 1024 * 1024)
#define HAMMER2_ZONE_SEG64 ((hammer2_off_t)HAMMER2_ZONE_SEG)
#define HAMMER2_ZONE_BLOCKS_SEG (HAMMER2_ZONE_SEG / HAMMER2_PBUFSIZE)

#define HAMMER2_ZONE_FREEMAP_INC 5 /* 5 levels per set */
#define HAMMER2_ZONE_VOLHDR 0
#define HAMMER2_ZONE_FREEMAP_00 1
#define HAMMER2_ZONE_FREEMAP_END 41 /* non-inclusive */
#define HAMMER2_ZONE_END 64
#define HAMMER2_NFREEMAPS 8

#define HAMMER2_ZONEFM_LEVEL1 0 /* relative to FREEMAP_x: 1 GiB leaf */
#define HAMMER2_ZONEFM_LEVEL2 1 /* 256 GiB node */
#define HAMMER2_ZONEFM_LEVEL3 2 /* 64 TiB node */
#define HAMMER2_ZONEFM_LEVEL4 3 /* 16 PiB node */
#define HAMMER2_ZONEFM_LEVEL5 4 /* 4 EiB node */

#define HAMMER2_FREEMAP_LEVEL6_RADIX 64
#define HAMMER2_FREEMAP_LEVEL5_RADIX 62
#define HAMMER2_FREEMAP_LEVEL4_RADIX 54
#define HAMMER2_FREEMAP_LEVEL3_RADIX 46
#define HAMMER2_FREEMAP_LEVEL2_RADIX 38
#define HAMMER2_FREEMAP_LEVEL1_RADIX 30 /* 1 GiB per leaf */
#define HAMMER2_FREEMAP_LEVEL0_RADIX 22 /* 4 MiB per bmap */
#define HAMMER2_FREEMAP_LEVELN_PSIZE 32768
#define HAMMER2_FREEMAP_LEVEL1_SIZE ((hammer2_off_t)1 << 30)
#define HAMMER2_FREEMAP_LEVEL1_MASK (HAMMER2_FREEMAP_LEVEL1_SIZE - 1)
#define HAMMER2_FREEMAP_LEVEL0_SIZE ((hammer2_off_t)1 << 22)
#define HAMMER2_FREEMAP_LEVEL0_MASK (HAMMER2_FREEMAP_LEVEL0_SIZE - 1)
#define HAMMER2_FREEMAP_COUNT 256 /* bmaps per leaf, brefs per node */
#define HAMMER2_SEGSIZE (1 << HAMMER2_FREEMAP_LEVEL0_RADIX)

#define H2FMZONEBASE(key) ((key) & ~HAMMER2_FREEMAP_LEVEL1_MASK)
#define H2FMBASE(key, radix) ((key) & ~(((hammer2_off_t)1 << (radix)) - 1))

/* Bitmap: 2 bits per 16 KiB block, 8 x 64-bit words per 4 MiB bmap. */
#define HAMMER2_FREEMAP_BLOCK_RADIX 14
#define HAMMER2_FREEMAP_BLOCK_SIZE (1 << HAMMER2_FREEMAP_BLOCK_RADIX)
#define HAMMER2_FREEMAP_BLOCK_MASK (HAMMER2_FREEMAP_BLOCK_SIZE - 1)
#define HAMMER2_BMAP_ELEMENTS 8
#define HAMMER2_BMAP_BITS_PER_ELEMENT 64
#define HAMMER2_BMAP_INDEX_RADIX 5 /* 32 blocks per element */
#define HAMMER2_BMAP_BLOCKS_PER_ELEMENT 32
#define HAMMER2_BMAP_INDEX_SIZE (HAMMER2_FREEMAP_BLOCK_SIZE * 32)
#define HAMMER2_BMAP_SIZE (HAMMER2_BMAP_INDEX_SIZE * HAMMER2_BMAP_ELEMENTS)
#define HAMMER2_BMAP_ALLONES ((hammer2_bitmap_t)-1)

/* Boot and aux areas (after the first 4 MiB segment). */
#define HAMMER2_BOOT_MIN_BYTES HAMMER2_VOLUME_ALIGN
#define HAMMER2_BOOT_NOM_BYTES (64 * 1024 * 1024)
#define HAMMER2_BOOT_MAX_BYTES (256 * 1024 * 1024)
#define HAMMER2_AUX_MIN_BYTES HAMMER2_VOLUME_ALIGN
#define HAMMER2_AUX_NOM_BYTES (256 * 1024 * 1024)
#define HAMMER2_AUX_MAX_BYTES (1024 * 1024 * 1024)

typedef uint64_t hammer2_tid_t;
typedef uint64_t hammer2_off_t;
typedef uint64_t hammer2_key_t;
typedef uint32_t hammer2_crc32_t;
typedef uint64_t hammer2_bitmap_t;

typedef struct hammer2_uuid {
	uint8_t b[16];
} hammer2_uuid_t;

#define HAMMER2_TID_MIN 1ULL
#define HAMMER2_TID_MAX 0xFFFFFFFFFFFFFFFFULL
#define HAMMER2_KEY_MIN 0ULL
#define HAMMER2_KEY_MAX 0xFFFFFFFFFFFFFFFFULL

/* data_off: byte offset (64-byte aligned) | size radix in the low 6 bits. */
#define HAMMER2_OFF_MASK 0xFFFFFFFFFFFFFFC0ULL
#define HAMMER2_OFF_MASK_LO (HAMMER2_OFF_MASK & HAMMER2_PBUFMASK64)
#define HAMMER2_OFF_MASK_HI (~HAMMER2_PBUFMASK64)
#define HAMMER2_OFF_MASK_RADIX 0x3FULL

/* Directory keys (hammer2_dirhash): bit 63 set for visible names. */
#define HAMMER2_DIRHASH_VISIBLE 0x8000000000000000ULL
#define HAMMER2_DIRHASH_USERMSK 0x7FFFFFFFFFFFFFFFULL
#define HAMMER2_DIRHASH_LOMASK 0x0000000000007FFFULL
#define HAMMER2_SROOT_KEY 0x0000000000000000ULL

/* Directory entry header embedded in a DIRENT blockref (16 bytes). */
struct hammer2_dirent_head {
	hammer2_tid_t inum; /* 00 */
	uint16_t namlen;    /* 08 */
	uint8_t type;	    /* 0A */
	uint8_t unused0B;   /* 0B */
	uint8_t unused0C[4];
} __attribute__((packed));
typedef struct hammer2_dirent_head hammer2_dirent_head_t;

/*
 * The 128-byte blockref.  The key range it covers is
 * [key, key + 2^keybits - 1]; data_off carries the physical size radix.
 */
struct hammer2_blockref {
	uint8_t type;		  /* 00 HAMMER2_BREF_TYPE_* */
	uint8_t methods;	  /* 01 check << 4 | compression */
	uint8_t copyid;		  /* 02 */
	uint8_t keybits;	  /* 03 key bits masked off (0 = leaf) */
	uint8_t vradix;		  /* 04 virtual (logical) size radix */
	uint8_t flags;		  /* 05 HAMMER2_BREF_FLAG_* */
	uint16_t leaf_count;	  /* 06 */
	hammer2_key_t key;	  /* 08 */
	hammer2_tid_t mirror_tid; /* 10 flush tid, propagated upward */
	hammer2_tid_t modify_tid; /* 18 tid of the last modification */
	hammer2_off_t data_off;	  /* 20 offset | size radix */
	hammer2_tid_t update_tid; /* 28 */
	union {			  /* 30 */
		char buf[16];
		hammer2_dirent_head_t dirent;
		struct {
			hammer2_key_t data_count;
			hammer2_key_t inode_count;
		} stats;
	} embed;
	union { /* 40 check area */
		char buf[64];
		struct {
			uint32_t value;
			uint32_t reserved[15];
		} iscsi32;
		struct {
			uint64_t value;
			uint64_t reserved[7];
		} xxhash64;
		struct {
			char data[24];
			char reserved[40];
		} sha192;
		struct {
			uint32_t icrc32;
			uint32_t bigmask; /* radixes available (heuristic) */
			uint64_t avail;	  /* bytes available below */
			char reserved[48];
		} freemap;
	} check;
} __attribute__((packed));
typedef struct hammer2_blockref hammer2_blockref_t;

#define HAMMER2_BLOCKREF_BYTES 128
#define HAMMER2_BLOCKREF_RADIX 7
#define HAMMER2_BLOCKREF_LEAF_MAX 65535

#define HAMMER2_BREF_TYPE_EMPTY 0
#define HAMMER2_BREF_TYPE_INODE 1
#define HAMMER2_BREF_TYPE_INDIRECT 2
#define HAMMER2_BREF_TYPE_DATA 3
#define HAMMER2_BREF_TYPE_DIRENT 4
#define HAMMER2_BREF_TYPE_FREEMAP_NODE 5
#define HAMMER2_BREF_TYPE_FREEMAP_LEAF 6
#define HAMMER2_BREF_TYPE_INVALID 7
#define HAMMER2_BREF_TYPE_FREEMAP 254 /* pseudo-type, never on media */
#define HAMMER2_BREF_TYPE_VOLUME 255  /* pseudo-type, never on media */

#define HAMMER2_BREF_FLAG_PFSROOT 0x01

#define HAMMER2_CHECK_NONE 0
#define HAMMER2_CHECK_DISABLED 1
#define HAMMER2_CHECK_ISCSI32 2
#define HAMMER2_CHECK_XXHASH64 3
#define HAMMER2_CHECK_SHA192 4
#define HAMMER2_CHECK_FREEMAP 5
#define HAMMER2_CHECK_DEFAULT HAMMER2_CHECK_XXHASH64

#define HAMMER2_COMP_NONE 0
#define HAMMER2_COMP_AUTOZERO 1
#define HAMMER2_COMP_LZ4 2
#define HAMMER2_COMP_ZLIB 3
#define HAMMER2_COMP_DEFAULT HAMMER2_COMP_LZ4
#define HAMMER2_ZLIB_LEVEL_DEFAULT 6

#define HAMMER2_ENC_CHECK(n) (((n)&15) << 4)
#define HAMMER2_DEC_CHECK(n) (((n) >> 4) & 15)
#define HAMMER2_ENC_COMP(n) ((n)&15)
#define HAMMER2_DEC_COMP(n) ((n)&15)
#define HAMMER2_ENC_ALGO(n) (n)
#define HAMMER2_DEC_ALGO(n) ((n)&15)
#define HAMMER2_ENC_LEVEL(n) ((n) << 4)
#define HAMMER2_DEC_LEVEL(n) (((n) >> 4) & 15)

/* XXH64 seed used for HAMMER2_CHECK_XXHASH64 ("MattDlln"). */
#define HAMMER2_XXH64_SEED 0x4d617474446c6c6eULL

struct hammer2_blockset {
	hammer2_blockref_t blockref[HAMMER2_SET_COUNT];
};
typedef struct hammer2_blockset hammer2_blockset_t;

/* One 4 MiB bmap of a FREEMAP_LEAF (128 bytes). */
struct hammer2_bmap_data {
	int32_t linear;	    /* 00 sub-16KiB linear allocation offset */
	uint16_t class;	    /* 04 clustering class (type << 8 | radix) */
	uint8_t reserved06; /* 06 */
	uint8_t reserved07; /* 07 */
	uint32_t reserved08;
	uint32_t reserved0C;
	uint32_t reserved10;
	uint32_t reserved14;
	uint32_t reserved18;
	uint32_t avail;		/* 1C bytes available in this 4 MiB */
	uint32_t reserved20[8]; /* 20 */
	hammer2_bitmap_t bitmapq[HAMMER2_BMAP_ELEMENTS]; /* 40 */
} __attribute__((packed));
typedef struct hammer2_bmap_data hammer2_bmap_data_t;

#define HAMMER2_INODE_BYTES 1024
#define HAMMER2_INODE_MAXNAME 256
#define HAMMER2_INODE_VERSION_ONE 1
#define HAMMER2_INODE_START 1024 /* first dynamically allocated inum */

/* The 256-byte inode meta-data. */
struct hammer2_inode_meta {
	uint16_t version;    /* 0000 */
	uint8_t reserved02;  /* 0002 */
	uint8_t pfs_subtype; /* 0003 */
	uint32_t uflags;     /* 0004 chflags */
	uint32_t rmajor;     /* 0008 */
	uint32_t rminor;     /* 000C */
	uint64_t ctime;	     /* 0010 microseconds since the epoch */
	uint64_t mtime;	     /* 0018 */
	uint64_t atime;	     /* 0020 */
	uint64_t btime;	     /* 0028 */
	hammer2_uuid_t uid;  /* 0030 unix uid as uint32 at byte 12 (node[2]) */
	hammer2_uuid_t gid;  /* 0040 */
	uint8_t type;	     /* 0050 HAMMER2_OBJTYPE_* */
	uint8_t op_flags;    /* 0051 HAMMER2_OPFLAG_* */
	uint16_t cap_flags;  /* 0052 */
	uint32_t mode;	     /* 0054 permission bits (low 12 bits) */
	hammer2_tid_t inum;  /* 0058 */
	hammer2_off_t size;  /* 0060 */
	uint64_t nlinks;     /* 0068 */
	hammer2_tid_t iparent;	     /* 0070 nominal parent inum */
	hammer2_key_t name_key;	     /* 0078 dirhash of filename */
	uint16_t name_len;	     /* 0080 */
	uint8_t ncopies;	     /* 0082 */
	uint8_t comp_algo;	     /* 0083 level << 4 | algo */
	uint8_t target_type;	     /* 0084 */
	uint8_t check_algo;	     /* 0085 */
	uint8_t pfs_nmasters;	     /* 0086 */
	uint8_t pfs_type;	     /* 0087 */
	hammer2_tid_t pfs_inum;	     /* 0088 inum allocator (PFS root only) */
	hammer2_uuid_t pfs_clid;     /* 0090 */
	hammer2_uuid_t pfs_fsid;     /* 00A0 */
	hammer2_key_t data_quota;    /* 00B0 */
	hammer2_key_t unusedB8;	     /* 00B8 */
	hammer2_key_t inode_quota;   /* 00C0 */
	hammer2_key_t unusedC8;	     /* 00C8 */
	hammer2_tid_t pfs_lsnap_tid; /* 00D0 */
	hammer2_tid_t reservedD8;    /* 00D8 */
	uint64_t decrypt_check;	     /* 00E0 */
	hammer2_off_t reservedE8[3]; /* 00E8 */
} __attribute__((packed));
typedef struct hammer2_inode_meta hammer2_inode_meta_t;

struct hammer2_inode_data {
	hammer2_inode_meta_t meta;		       /* 0000 */
	unsigned char filename[HAMMER2_INODE_MAXNAME]; /* 0100 unterminated */
	union {					       /* 0200 */
		hammer2_blockset_t blockset;
		char data[HAMMER2_EMBEDDED_BYTES];
	} u;
} __attribute__((packed));
typedef struct hammer2_inode_data hammer2_inode_data_t;

#define HAMMER2_OPFLAG_DIRECTDATA 0x01
#define HAMMER2_OPFLAG_PFSROOT 0x02
#define HAMMER2_OPFLAG_COPYIDS 0x04

#define HAMMER2_OBJTYPE_UNKNOWN 0
#define HAMMER2_OBJTYPE_DIRECTORY 1
#define HAMMER2_OBJTYPE_REGFILE 2
#define HAMMER2_OBJTYPE_HARDLINK 3 /* seed-era forwarding entry */
#define HAMMER2_OBJTYPE_FIFO 4
#define HAMMER2_OBJTYPE_CDEV 5
#define HAMMER2_OBJTYPE_BDEV 6
#define HAMMER2_OBJTYPE_SOFTLINK 7
#define HAMMER2_OBJTYPE_SOCKET 9
#define HAMMER2_OBJTYPE_WHITEOUT 10

#define HAMMER2_COPYID_NONE 0
#define HAMMER2_COPYID_LOCAL ((uint8_t)-1)
#define HAMMER2_COPYID_COUNT 256

#define HAMMER2_PFSTYPE_NONE 0x00
#define HAMMER2_PFSTYPE_CACHE 0x01
#define HAMMER2_PFSTYPE_SLAVE 0x03
#define HAMMER2_PFSTYPE_SOFT_SLAVE 0x04
#define HAMMER2_PFSTYPE_SOFT_MASTER 0x05
#define HAMMER2_PFSTYPE_MASTER 0x06
#define HAMMER2_PFSTYPE_SUPROOT 0x08
#define HAMMER2_PFSTYPE_DUMMY 0x09
#define HAMMER2_PFSSUBTYPE_NONE 0
#define HAMMER2_PFSSUBTYPE_SNAPSHOT 1

/* Volume configuration slot (128 bytes). */
struct hammer2_volconf {
	uint8_t copyid;
	uint8_t inprog;
	uint8_t chain_to;
	uint8_t chain_from;
	uint16_t flags;
	uint8_t error;
	uint8_t priority;
	uint8_t remote_pfs_type;
	uint8_t reserved08[23];
	hammer2_uuid_t pfs_clid;
	uint8_t label[16];
	uint8_t path[64];
} __attribute__((packed));
typedef struct hammer2_volconf hammer2_volconf_t;

#define HAMMER2_VOLUME_ID_HBO 0x48414d3205172011ULL
#define HAMMER2_VOLUME_ID_ABO 0x11201705324d4148ULL
#define HAMMER2_MAX_VOLUMES 64
#define HAMMER2_ROOT_VOLUME 0

/* The 64 KiB volume header. */
struct hammer2_volume_data {
	uint64_t magic;					  /* 0000 */
	hammer2_off_t boot_beg;				  /* 0008 */
	hammer2_off_t boot_end;				  /* 0010 */
	hammer2_off_t aux_beg;				  /* 0018 */
	hammer2_off_t aux_end;				  /* 0020 */
	hammer2_off_t volu_size;			  /* 0028 */
	uint32_t version;				  /* 0030 */
	uint32_t flags;					  /* 0034 */
	uint8_t copyid;					  /* 0038 */
	uint8_t freemap_version;			  /* 0039 */
	uint8_t peer_type;				  /* 003A */
	uint8_t volu_id;				  /* 003B */
	uint8_t nvolumes;				  /* 003C */
	uint8_t reserved003D;				  /* 003D */
	uint16_t reserved003E;				  /* 003E */
	hammer2_uuid_t fsid;				  /* 0040 */
	hammer2_uuid_t fstype;				  /* 0050 */
	hammer2_off_t allocator_size;			  /* 0060 */
	hammer2_off_t allocator_free;			  /* 0068 */
	hammer2_off_t allocator_beg;			  /* 0070 */
	hammer2_tid_t mirror_tid;			  /* 0078 */
	hammer2_tid_t reserved0080;			  /* 0080 */
	hammer2_tid_t reserved0088;			  /* 0088 */
	hammer2_tid_t freemap_tid;			  /* 0090 */
	hammer2_tid_t bulkfree_tid;			  /* 0098 */
	hammer2_tid_t reserved00A0[4];			  /* 00A0 */
	hammer2_off_t total_size;			  /* 00C0 */
	uint32_t copyexists[8];				  /* 00C8 */
	char reserved00E8[248];				  /* 00E8 */
	hammer2_crc32_t icrc_sects[8];			  /* 01E0 */
	hammer2_blockset_t sroot_blockset;		  /* 0200 */
	char sector2[512];				  /* 0400 */
	char sector3[512];				  /* 0600 */
	hammer2_blockset_t freemap_blockset;		  /* 0800 */
	char sector5[512];				  /* 0A00 */
	char sector6[512];				  /* 0C00 */
	hammer2_off_t volu_loff[HAMMER2_MAX_VOLUMES];	  /* 0E00 */
	hammer2_volconf_t copyinfo[HAMMER2_COPYID_COUNT]; /* 1000 */
	char reserved9000[0x6FFC];			  /* 9000 */
	hammer2_crc32_t icrc_volheader;			  /* FFFC */
} __attribute__((packed));
typedef struct hammer2_volume_data hammer2_volume_data_t;

#define HAMMER2_VOL_ICRC_SECT0 7
#define HAMMER2_VOL_ICRC_SECT1 6
#define HAMMER2_VOLUME_BYTES 65536
#define HAMMER2_VOLUME_ICRC0_OFF 0
#define HAMMER2_VOLUME_ICRC1_OFF 512
#define HAMMER2_VOLUME_ICRCVH_OFF 0
#define HAMMER2_VOLUME_ICRC0_SIZE (512 - 4)
#define HAMMER2_VOLUME_ICRC1_SIZE 512
#define HAMMER2_VOLUME_ICRCVH_SIZE (65536 - 4)

#define HAMMER2_VOL_VERSION_MULTI_VOLUMES 2
#define HAMMER2_VOL_VERSION_MIN 1
#define HAMMER2_VOL_VERSION_DEFAULT HAMMER2_VOL_VERSION_MULTI_VOLUMES
#define HAMMER2_VOL_VERSION_WIP 3
#define HAMMER2_NUM_VOLHDRS 4
/*
 * What a commit changes in a header copy (not a format fact: our
 * layout of hammer2_volume_data above): sectors 0-7 (tids, allocator,
 * the two blocksets) and the last 4 KiB (icrc_volheader at 0xFFFC).
 */
#define HAMMER2_VOLUME_HEAD_BYTES 0x1000
#define HAMMER2_VOLUME_TAIL_OFF 0xF000

/* fstype uuid of a HAMMER2 volume. */
#define HAMMER2_UUID_STRING "5cbb9ad1-862d-11dc-a94d-01301bb8a9f5"

/* Compile-time checks of every offset a checker depends on. */
#define H2_ASSERT_OFF(t, f, o) \
	_Static_assert(__builtin_offsetof(t, f) == (o), #t "." #f)
_Static_assert(sizeof(hammer2_blockref_t) == 128, "blockref");
_Static_assert(sizeof(hammer2_dirent_head_t) == 16, "dirent");
_Static_assert(sizeof(hammer2_blockset_t) == 512, "blockset");
_Static_assert(sizeof(hammer2_bmap_data_t) == 128, "bmap");
_Static_assert(sizeof(hammer2_inode_meta_t) == 256, "meta");
_Static_assert(sizeof(hammer2_inode_data_t) == 1024, "inode");
_Static_assert(sizeof(hammer2_volconf_t) == 128, "volconf");
_Static_assert(sizeof(hammer2_volume_data_t) == 65536, "voldata");
H2_ASSERT_OFF(hammer2_blockref_t, key, 0x08);
H2_ASSERT_OFF(hammer2_blockref_t, data_off, 0x20);
H2_ASSERT_OFF(hammer2_blockref_t, embed, 0x30);
H2_ASSERT_OFF(hammer2_blockref_t, check, 0x40);
H2_ASSERT_OFF(hammer2_bmap_data_t, avail, 0x1C);
H2_ASSERT_OFF(hammer2_bmap_data_t, bitmapq, 0x40);
H2_ASSERT_OFF(hammer2_inode_meta_t, type, 0x50);
H2_ASSERT_OFF(hammer2_inode_meta_t, inum, 0x58);
H2_ASSERT_OFF(hammer2_inode_meta_t, name_len, 0x80);
H2_ASSERT_OFF(hammer2_inode_meta_t, pfs_inum, 0x88);
H2_ASSERT_OFF(hammer2_inode_meta_t, pfs_lsnap_tid, 0xD0);
H2_ASSERT_OFF(hammer2_inode_data_t, filename, 0x100);
H2_ASSERT_OFF(hammer2_inode_data_t, u, 0x200);
H2_ASSERT_OFF(hammer2_volume_data_t, volu_size, 0x28);
H2_ASSERT_OFF(hammer2_volume_data_t, fsid, 0x40);
H2_ASSERT_OFF(hammer2_volume_data_t, mirror_tid, 0x78);
H2_ASSERT_OFF(hammer2_volume_data_t, freemap_tid, 0x90);
H2_ASSERT_OFF(hammer2_volume_data_t, total_size, 0xC0);
H2_ASSERT_OFF(hammer2_volume_data_t, icrc_sects, 0x1E0);
H2_ASSERT_OFF(hammer2_volume_data_t, sroot_blockset, 0x200);
H2_ASSERT_OFF(hammer2_volume_data_t, freemap_blockset, 0x800);
H2_ASSERT_OFF(hammer2_volume_data_t, volu_loff, 0xE00);
H2_ASSERT_OFF(hammer2_volume_data_t, copyinfo, 0x1000);
H2_ASSERT_OFF(hammer2_volume_data_t, icrc_volheader, 0xFFFC);

/* Byte offset of volume header copy i (0..3). */
static inline hammer2_off_t hammer2_volhdr_offset(int i)
{
	return (hammer2_off_t)i * HAMMER2_ZONE_BYTES64;
}

/*
 * Physical bytes encoded in data_off: 2^radix for a radix of 1..31, 0 when
 * the radix field is 0 or (corrupt media) too large to be a block size.
 */
static inline uint32_t hammer2_off_bytes(hammer2_off_t data_off)
{
	unsigned radix = (unsigned)(data_off & HAMMER2_OFF_MASK_RADIX);
	return (radix && radix < 32) ? (uint32_t)1 << radix : 0;
}

#endif /* HAMMER2_DISK_H */
