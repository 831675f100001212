/*
 * cmd_media.c - commands that look at the media itself: info, volhdr,
 * show, freemap, pfs-list; plus the block reader that names damaged
 * blocks after an I/O error.
 *
 * The walkers never trust media: every size, offset and count is checked
 * before use, recursion depth is bounded and every block with children is
 * visited at most once, so a corrupt image cannot crash or loop them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hammer2_cli.h"

#define SHOW_MAXDEPTH 40 /* deeper than any valid HAMMER2 topology */
#define SHOW_TAB 2

/* ------------------------------------------------------------------ */
/* Block reading                                                       */
/* ------------------------------------------------------------------ */

/* Read, verify and decompress without the library's device state. */
static int h2_media_read_raw(struct h2cli *c, const hammer2_blockref_t *bref,
			     uint8_t **datap, uint32_t *bytesp,
			     const char **whyp)
{
	hammer2_off_t off = bref->data_off & HAMMER2_OFF_MASK;
	uint32_t pbytes = hammer2_off_bytes(bref->data_off);
	int comp = HAMMER2_DEC_COMP(bref->methods);
	uint8_t *pbuf, *lbuf;

	if (pbytes < HAMMER2_ALLOC_MIN || pbytes > HAMMER2_PBUFSIZE ||
	    off >= c->size || c->size - off < pbytes) {
		*whyp = "bad blockref (size or offset out of range)";
		return HAMMER2_ERROR_BADBREF;
	}
	pbuf = malloc(pbytes);
	if (!pbuf) {
		*whyp = "out of memory";
		return HAMMER2_ERROR_ENOMEM;
	}
	if (c->ops->read(c->udev, pbuf, pbytes, off) != 0) {
		free(pbuf);
		*whyp = "read error";
		return HAMMER2_ERROR_EIO;
	}
	if (!hammer2_bref_testcheck(bref, pbuf, pbytes)) {
		free(pbuf);
		*whyp = "check code mismatch";
		return HAMMER2_ERROR_CHECK;
	}
	if (bref->type == HAMMER2_BREF_TYPE_DATA &&
	    (comp == HAMMER2_COMP_LZ4 || comp == HAMMER2_COMP_ZLIB)) {
		int n;

		lbuf = malloc(HAMMER2_PBUFSIZE);
		if (!lbuf) {
			free(pbuf);
			*whyp = "out of memory";
			return HAMMER2_ERROR_ENOMEM;
		}
		n = hammer2_decompress_block(comp, pbuf, pbytes, lbuf,
					     HAMMER2_PBUFSIZE);
		free(pbuf);
		if (n <= 0) {
			free(lbuf);
			*whyp = "corrupt compressed data";
			return HAMMER2_ERROR_BADBREF;
		}
		*datap = lbuf;
		*bytesp = (uint32_t)n;
		return 0;
	}
	*datap = pbuf;
	*bytesp = pbytes;
	return 0;
}

/* Read one block of the media (library reader when the device is open). */
int h2_media_read(struct h2cli *c, const hammer2_blockref_t *bref,
		  uint8_t **datap, uint32_t *bytesp, const char **whyp)
{
	uint8_t *data = NULL;
	uint32_t bytes = 0;
	int error;

	*datap = NULL;
	*bytesp = 0;
	*whyp = "";
	if (c->hmp == NULL)
		return h2_media_read_raw(c, bref, datap, bytesp, whyp);
	error = hammer2_io_read_bref(c->hmp, bref, &data, &bytes);
	if (error) {
		if (data)
			hammer2_free(data);
		if (error & HAMMER2_ERROR_CHECK)
			*whyp = "check code mismatch";
		else if (error & HAMMER2_ERROR_EIO)
			*whyp = "read error";
		else if (error & HAMMER2_ERROR_BADBREF)
			*whyp = "bad blockref or corrupt compressed data";
		else if (error & HAMMER2_ERROR_ENOMEM)
			*whyp = "out of memory";
		else
			*whyp = "unreadable";
		return error;
	}
	/* hand back a malloc'ed copy so callers free() uniformly */
	*datap = malloc(bytes ? bytes : 1);
	if (!*datap) {
		hammer2_free(data);
		*whyp = "out of memory";
		return HAMMER2_ERROR_ENOMEM;
	}
	memcpy(*datap, data, bytes);
	hammer2_free(data);
	*bytesp = bytes;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Volume headers                                                      */
/* ------------------------------------------------------------------ */

/* State of the (up to 4) volume header copies. */
struct h2_volhdrs {
	int present[HAMMER2_NUM_VOLHDRS]; /* fits in the image */
	int valid[HAMMER2_NUM_VOLHDRS];	  /* magic and CRCs ok */
	const char *why[HAMMER2_NUM_VOLHDRS];
	hammer2_tid_t tid[HAMMER2_NUM_VOLHDRS];
	int best;		   /* -1 if none valid */
	hammer2_volume_data_t *vd; /* the best copy */
};

/* Read and validate every volume header copy; keep the best one. */
static int h2_read_volhdrs(struct h2cli *c, struct h2_volhdrs *vh)
{
	hammer2_volume_data_t *buf;
	int i;

	memset(vh, 0, sizeof(*vh));
	vh->best = -1;
	buf = malloc(sizeof(*buf));
	vh->vd = malloc(sizeof(*vh->vd));
	if (!buf || !vh->vd) {
		free(buf);
		free(vh->vd);
		vh->vd = NULL;
		h2_warn("out of memory");
		return ENOMEM;
	}
	for (i = 0; i < HAMMER2_NUM_VOLHDRS; i++) {
		hammer2_off_t off = hammer2_volhdr_offset(i);

		if (off + HAMMER2_VOLUME_BYTES > c->size)
			continue;
		vh->present[i] = 1;
		if (c->ops->read(c->udev, buf, sizeof(*buf), off) != 0) {
			vh->why[i] = "read error";
			continue;
		}
		if (buf->magic != HAMMER2_VOLUME_ID_HBO) {
			vh->why[i] = buf->magic == HAMMER2_VOLUME_ID_ABO ?
					     "wrong byte order" :
					     "bad magic";
			continue;
		}
		if (hammer2_voldata_testcrc(buf) != 0) {
			vh->why[i] = "CRC mismatch";
			continue;
		}
		vh->valid[i] = 1;
		vh->why[i] = "ok";
		vh->tid[i] = buf->mirror_tid;
		if (vh->best < 0 || buf->mirror_tid > vh->tid[vh->best]) {
			vh->best = i;
			memcpy(vh->vd, buf, sizeof(*buf));
		}
	}
	free(buf);
	if (vh->best < 0) {
		h2_warn("%s: no valid HAMMER2 volume header", c->image);
		free(vh->vd);
		vh->vd = NULL;
		return EINVAL;
	}
	return 0;
}

/*
 * Open the image read-only (the device too if need_dev, as h2cli_open())
 * and read its volume header copies into *vh.  Returns 0, or nonzero
 * with the reason printed and the image closed again.
 */
static int h2_open_volhdrs(struct h2cli *c, int need_dev, struct h2_volhdrs *vh)
{
	if (h2cli_open(c, 1, need_dev) || h2_read_volhdrs(c, vh)) {
		h2cli_close(c);
		return 1;
	}
	return 0;
}

/* Format bytes as "N (x.yz UNIT)". */
static const char *h2_fmt_bytes(uint64_t v, char *buf, size_t sz)
{
	static const char *units[] = { "B",   "KiB", "MiB", "GiB",
				       "TiB", "PiB", "EiB" };
	double d = (double)v;
	int u = 0;

	while (d >= 1024.0 && u < 6) {
		d /= 1024.0;
		u++;
	}
	snprintf(buf, sz, "%ju (%.2f %s)", (uintmax_t)v, d, units[u]);
	return buf;
}

/* Reject operands for commands that take none. */
static void h2_noargs(int ac, char **av)
{
	if (ac != 1)
		h2_usage(av[0]);
}

/* pfs-list / info callback state. */
struct h2_pfs_iter {
	int count;
	int print;
};

/* Print one PFS (pfs-list) or just count it (info). */
static int h2_pfs_cb(void *arg, const char *name, int pfs_type,
		     const hammer2_inode_data_t *ipdata)
{
	struct h2_pfs_iter *it = arg;
	char clid[37];

	it->count++;
	if (it->print) {
		if (ipdata)
			hammer2_uuid_to_str(&ipdata->meta.pfs_clid, clid);
		else
			strcpy(clid, "-");
		printf("%-12s %s %s\n", h2_pfstype_str(pfs_type), clid, name);
	}
	return 0;
}

/* info: a short summary of the device. */
int cmd_info(struct h2cli *c, int ac, char **av)
{
	struct h2_volhdrs vh;
	struct h2_pfs_iter it = { 0, 0 };
	struct hammer2_statfs st;
	char b1[64], uuid[37];
	uint64_t used;
	int status = 0;
	int i, nvalid = 0, npresent = 0, rc;

	h2_noargs(ac, av);
	if (h2_open_volhdrs(c, 1, &vh))
		return H2_EXIT_FAIL;
	for (i = 0; i < HAMMER2_NUM_VOLHDRS; i++) {
		npresent += vh.present[i];
		nvalid += vh.valid[i];
	}
	printf("image:           %s\n", c->image);
	printf("device size:     %s\n", h2_fmt_bytes(c->size, b1, sizeof(b1)));
	printf("volume size:     %s\n",
	       h2_fmt_bytes(vh.vd->volu_size, b1, sizeof(b1)));
	printf("version:         %u\n", vh.vd->version);
	hammer2_uuid_to_str(&vh.vd->fsid, uuid);
	printf("fsid:            %s\n", uuid);
	printf("volume headers:  %d valid of %d, using copy %d\n", nvalid,
	       npresent, vh.best);
	for (i = 0; i < HAMMER2_NUM_VOLHDRS; i++) {
		if (vh.present[i] && !vh.valid[i]) {
			printf("  copy %d at 0x%016jx: %s\n", i,
			       (uintmax_t)hammer2_volhdr_offset(i), vh.why[i]);
		}
	}
	printf("mirror_tid:      0x%016jx\n", (uintmax_t)vh.vd->mirror_tid);
	printf("freemap_tid:     0x%016jx\n", (uintmax_t)vh.vd->freemap_tid);
	printf("allocator size:  %s\n",
	       h2_fmt_bytes(vh.vd->allocator_size, b1, sizeof(b1)));
	printf("free:            %s\n",
	       h2_fmt_bytes(vh.vd->allocator_free, b1, sizeof(b1)));
	used = vh.vd->allocator_size > vh.vd->allocator_free ?
		       vh.vd->allocator_size - vh.vd->allocator_free :
		       0;
	printf("used:            %s\n", h2_fmt_bytes(used, b1, sizeof(b1)));
	rc = hammer2_pfs_iterate(c->hmp, h2_pfs_cb, &it);
	if (rc) {
		h2_warn("%s: cannot list PFSs: %s", c->image, strerror(rc));
		status = H2_EXIT_FAIL;
	}
	printf("PFS count:       %d\n", it.count);
	if (hammer2_pfs_mount(c->hmp, c->label, &c->pmp) == 0) {
		if (hammer2_vfs_statfs(c->pmp, &st) == 0) {
			printf("PFS %s:\n", c->label);
			printf("  statfs total:  %s\n",
			       h2_fmt_bytes(st.total_bytes, b1, sizeof(b1)));
			printf("  statfs free:   %s\n",
			       h2_fmt_bytes(st.free_bytes, b1, sizeof(b1)));
			printf("  statfs used:   %s\n",
			       h2_fmt_bytes(st.total_bytes > st.free_bytes ?
						    st.total_bytes -
							    st.free_bytes :
						    0,
					    b1, sizeof(b1)));
			printf("  inodes:        %ju\n", (uintmax_t)st.files);
		}
	} else {
		c->pmp = NULL;
	}
	free(vh.vd);
	if (h2cli_close(c))
		status = H2_EXIT_FAIL;
	return status;
}

/* Print one blockref of a blockset (volhdr). */
static void h2_print_setbref(const char *what, int i,
			     const hammer2_blockref_t *b)
{
	char cb[32];

	if (b->type == HAMMER2_BREF_TYPE_EMPTY) {
		printf("    %s[%d]  empty\n", what, i);
		return;
	}
	printf("    %s[%d]  %s data_off=0x%016jx key=0x%016jx/%u "
	       "mirror_tid=0x%016jx modify_tid=0x%016jx check=%s comp=%s\n",
	       what, i, h2_breftype_str(b->type), (uintmax_t)b->data_off,
	       (uintmax_t)b->key, b->keybits, (uintmax_t)b->mirror_tid,
	       (uintmax_t)b->modify_tid,
	       h2_check_str(HAMMER2_DEC_CHECK(b->methods)),
	       h2_comp_str(HAMMER2_DEC_COMP(b->methods), cb, sizeof(cb)));
}

/* volhdr: every field of the chosen volume header copy. */
int cmd_volhdr(struct h2cli *c, int ac, char **av)
{
	struct h2_volhdrs vh;
	hammer2_volume_data_t *vd;
	char uuid[37], b1[64];
	int i, j;

	h2_noargs(ac, av);
	if (h2_open_volhdrs(c, 0, &vh))
		return H2_EXIT_FAIL;
	vd = vh.vd;
	for (i = 0; i < HAMMER2_NUM_VOLHDRS; i++) {
		if (!vh.present[i])
			continue;
		printf("volume header %d at 0x%016jx: %s", i,
		       (uintmax_t)hammer2_volhdr_offset(i), vh.why[i]);
		if (vh.valid[i])
			printf(" mirror_tid=0x%016jx%s", (uintmax_t)vh.tid[i],
			       i == vh.best ? " (selected)" : "");
		printf("\n");
	}
	printf("volume header %d {\n", vh.best);
	printf("    magic            0x%016jx (%s)\n", (uintmax_t)vd->magic,
	       vd->magic == HAMMER2_VOLUME_ID_HBO ? "host byte order" :
						    "reverse byte order");
	printf("    boot_beg         0x%016jx\n", (uintmax_t)vd->boot_beg);
	printf("    boot_end         0x%016jx (%s)\n", (uintmax_t)vd->boot_end,
	       h2_fmt_bytes(vd->boot_end - vd->boot_beg, b1, sizeof(b1)));
	printf("    aux_beg          0x%016jx\n", (uintmax_t)vd->aux_beg);
	printf("    aux_end          0x%016jx (%s)\n", (uintmax_t)vd->aux_end,
	       h2_fmt_bytes(vd->aux_end - vd->aux_beg, b1, sizeof(b1)));
	printf("    volu_size        0x%016jx (%s)\n", (uintmax_t)vd->volu_size,
	       h2_fmt_bytes(vd->volu_size, b1, sizeof(b1)));
	printf("    version          %u\n", vd->version);
	printf("    flags            0x%08x\n", vd->flags);
	printf("    copyid           %u\n", vd->copyid);
	printf("    freemap_version  %u\n", vd->freemap_version);
	printf("    peer_type        %u\n", vd->peer_type);
	printf("    volu_id          %u\n", vd->volu_id);
	printf("    nvolumes         %u\n", vd->nvolumes);
	hammer2_uuid_to_str(&vd->fsid, uuid);
	printf("    fsid             %s\n", uuid);
	hammer2_uuid_to_str(&vd->fstype, uuid);
	printf("    fstype           %s%s\n", uuid,
	       strcmp(uuid, HAMMER2_UUID_STRING) == 0 ? " (hammer2)" : "");
	printf("    allocator_size   0x%016jx (%s)\n",
	       (uintmax_t)vd->allocator_size,
	       h2_fmt_bytes(vd->allocator_size, b1, sizeof(b1)));
	printf("    allocator_free   0x%016jx (%s)\n",
	       (uintmax_t)vd->allocator_free,
	       h2_fmt_bytes(vd->allocator_free, b1, sizeof(b1)));
	printf("    allocator_beg    0x%016jx\n", (uintmax_t)vd->allocator_beg);
	printf("    mirror_tid       0x%016jx\n", (uintmax_t)vd->mirror_tid);
	printf("    freemap_tid      0x%016jx\n", (uintmax_t)vd->freemap_tid);
	printf("    bulkfree_tid     0x%016jx\n", (uintmax_t)vd->bulkfree_tid);
	printf("    total_size       0x%016jx\n", (uintmax_t)vd->total_size);
	printf("    copyexists      ");
	for (i = 0; i < 8; i++)
		printf(" 0x%08x", vd->copyexists[i]);
	printf("\n");
	printf("    icrc_sects[%d]    0x%08x (sector 0)\n",
	       HAMMER2_VOL_ICRC_SECT0, vd->icrc_sects[HAMMER2_VOL_ICRC_SECT0]);
	printf("    icrc_sects[%d]    0x%08x (sector 1)\n",
	       HAMMER2_VOL_ICRC_SECT1, vd->icrc_sects[HAMMER2_VOL_ICRC_SECT1]);
	printf("    icrc_volheader   0x%08x\n", vd->icrc_volheader);
	printf("    sroot_blockset {\n");
	for (i = 0; i < HAMMER2_SET_COUNT; i++)
		h2_print_setbref("  sroot", i, &vd->sroot_blockset.blockref[i]);
	printf("    }\n");
	printf("    freemap_blockset {\n");
	for (i = 0; i < HAMMER2_SET_COUNT; i++)
		h2_print_setbref("  freemap", i,
				 &vd->freemap_blockset.blockref[i]);
	printf("    }\n");
	printf("    volu_loff {\n");
	for (i = 0; i < HAMMER2_MAX_VOLUMES; i++) {
		if (vd->volu_loff[i] == (hammer2_off_t)-1)
			continue;
		if (vd->volu_loff[i] == 0 && i != 0)
			continue;
		printf("        volume %-2d      0x%016jx\n", i,
		       (uintmax_t)vd->volu_loff[i]);
	}
	printf("    }\n");
	printf("    copyinfo {\n");
	for (i = 0; i < HAMMER2_COPYID_COUNT; i++) {
		const hammer2_volconf_t *vc = &vd->copyinfo[i];
		char label[17], path[65];

		if (hammer2_is_zero(vc, sizeof(*vc)))
			continue;
		memcpy(label, vc->label, 16);
		label[16] = 0;
		memcpy(path, vc->path, 64);
		path[64] = 0;
		for (j = 0; label[j]; j++)
			if (label[j] < 32 || label[j] > 126)
				label[j] = '?';
		for (j = 0; path[j]; j++)
			if (path[j] < 32 || path[j] > 126)
				path[j] = '?';
		hammer2_uuid_to_str(&vc->pfs_clid, uuid);
		printf("        %-3d copyid=%u inprog=%u flags=0x%04x "
		       "pfs_clid=%s label=\"%s\" path=\"%s\"\n",
		       i, vc->copyid, vc->inprog, vc->flags, uuid, label, path);
	}
	printf("    }\n");
	printf("}\n");
	free(vh.vd);
	return h2cli_close(c);
}

/* ------------------------------------------------------------------ */
/* Topology walkers                                                    */
/* ------------------------------------------------------------------ */

/* A small open-addressing set of visited block offsets. */
struct h2_seen {
	uint64_t *slots;
	size_t cap, n;
};

/* Insert off; returns 1 if it was already present. */
static int h2_seen_test_set(struct h2_seen *s, uint64_t off)
{
	size_t i;

	if (off == 0)
		return 0;
	if (s->n * 2 >= s->cap) {
		struct h2_seen ns;
		size_t k;

		ns.cap = s->cap ? s->cap * 2 : 4096;
		ns.n = 0;
		ns.slots = calloc(ns.cap, sizeof(uint64_t));
		if (!ns.slots)
			return 0; /* degrade: depth bound still applies */
		for (k = 0; k < s->cap; k++)
			if (s->slots[k])
				h2_seen_test_set(&ns, s->slots[k]);
		free(s->slots);
		*s = ns;
	}
	i = (size_t)((off * 0x9E3779B97F4A7C15ULL) >> 20) & (s->cap - 1);
	while (s->slots[i]) {
		if (s->slots[i] == off)
			return 1;
		i = (i + 1) & (s->cap - 1);
	}
	s->slots[i] = off;
	s->n++;
	return 0;
}

/* Walk state for show/freemap. */
struct h2_walk {
	struct h2cli *c;
	int freemap; /* freemap command: print bmaps */
	struct h2_seen seen;
	uint64_t nbrefs, nfailed;
	uint64_t bytes_by_type[8];
};

/* Copy an inode's filename, making it printable. */
static void h2_inode_name(const hammer2_inode_data_t *ip, char *out,
			  size_t outsz)
{
	size_t n = ip->meta.name_len, i;

	if (n > HAMMER2_INODE_MAXNAME)
		n = 0;
	if (n >= outsz)
		n = outsz - 1;
	for (i = 0; i < n; i++) {
		unsigned char ch = ip->filename[i];

		out[i] = (ch < 32 || ch == 127 || ch == '"') ? '?' : (char)ch;
	}
	out[n] = 0;
}

/* Count bitmap states of one bmap: free, allocated, partial blocks. */
static void h2_bmap_counts(const hammer2_bmap_data_t *bm, int *nfree,
			   int *nalloc, int *npart)
{
	int i, j;

	*nfree = *nalloc = *npart = 0;
	for (i = 0; i < HAMMER2_BMAP_ELEMENTS; i++) {
		hammer2_bitmap_t w = bm->bitmapq[i];

		for (j = 0; j < HAMMER2_BMAP_BLOCKS_PER_ELEMENT; j++) {
			switch ((w >> (j * 2)) & 3) {
			case 0:
				(*nfree)++;
				break;
			case 3:
				(*nalloc)++;
				break;
			default:
				(*npart)++;
				break;
			}
		}
	}
}

static void h2_walk_bref(struct h2_walk *w, int depth, int idx,
			 const hammer2_blockref_t *bref);

/* Visit the non-empty blockrefs of an array. */
static void h2_walk_array(struct h2_walk *w, int depth,
			  const hammer2_blockref_t *base, int count)
{
	int i;

	for (i = 0; i < count; i++) {
		if (base[i].type == HAMMER2_BREF_TYPE_EMPTY)
			continue;
		h2_walk_bref(w, depth, i, &base[i]);
	}
}

/* Print the bmaps of a freemap leaf (freemap command). */
static void h2_print_leaf(struct h2_walk *w, int depth,
			  const hammer2_blockref_t *bref, const uint8_t *data,
			  uint32_t bytes)
{
	const hammer2_bmap_data_t *bm = (const hammer2_bmap_data_t *)data;
	int n = (int)(bytes / sizeof(*bm));
	int i, nfree, nalloc, npart, untouched = 0;

	if (n > HAMMER2_FREEMAP_COUNT)
		n = HAMMER2_FREEMAP_COUNT;
	for (i = 0; i < n; i++) {
		hammer2_off_t base =
			H2FMZONEBASE(bref->key) +
			((hammer2_off_t)i << HAMMER2_FREEMAP_LEVEL0_RADIX);

		if (base >= w->c->size)
			break;
		if (bm[i].class == 0 && bm[i].avail == HAMMER2_SEGSIZE &&
		    hammer2_is_zero(bm[i].bitmapq, sizeof(bm[i].bitmapq))) {
			untouched++;
			continue;
		}
		h2_bmap_counts(&bm[i], &nfree, &nalloc, &npart);
		printf("%*s%04d 0x%016jx class=%04x avail=%-7u linear=%-7d "
		       "16k-blocks free=%d alloc=%d partial=%d\n",
		       (depth + 1) * SHOW_TAB, "", i, (uintmax_t)base,
		       bm[i].class, bm[i].avail, bm[i].linear, nfree, nalloc,
		       npart);
	}
	if (untouched)
		printf("%*s(%d untouched 4MiB segments not shown)\n",
		       (depth + 1) * SHOW_TAB, "", untouched);
}

/* Print one blockref line and descend into its children. */
static void h2_walk_bref(struct h2_walk *w, int depth, int idx,
			 const hammer2_blockref_t *bref)
{
	uint8_t *data = NULL;
	uint32_t bytes = 0;
	const char *why = "";
	char cb[32], name[HAMMER2_INODE_MAXNAME + 1];
	int error;
	int t = bref->type;

	w->nbrefs++;
	printf("%*s%s.%-3d 0x%016jx 0x%016jx/%-2u mir=0x%016jx "
	       "mod=0x%016jx (%s/%s)",
	       depth * SHOW_TAB, "", h2_breftype_str(t), idx,
	       (uintmax_t)bref->data_off, (uintmax_t)bref->key, bref->keybits,
	       (uintmax_t)bref->mirror_tid, (uintmax_t)bref->modify_tid,
	       h2_check_str(HAMMER2_DEC_CHECK(bref->methods)),
	       h2_comp_str(HAMMER2_DEC_COMP(bref->methods), cb, sizeof(cb)));
	if (bref->flags)
		printf(" flags=%02x", bref->flags);
	if (t == HAMMER2_BREF_TYPE_DIRENT) {
		/* no media block of its own needed to describe it */
		printf(" inum=%ju type=%s\n",
		       (uintmax_t)bref->embed.dirent.inum,
		       h2_objtype_str(bref->embed.dirent.type));
		return;
	}
	if (t != HAMMER2_BREF_TYPE_INODE && t != HAMMER2_BREF_TYPE_INDIRECT &&
	    t != HAMMER2_BREF_TYPE_DATA &&
	    t != HAMMER2_BREF_TYPE_FREEMAP_NODE &&
	    t != HAMMER2_BREF_TYPE_FREEMAP_LEAF) {
		printf(" FAILED (unknown blockref type %d)\n", t);
		w->nfailed++;
		return;
	}
	if ((bref->data_off & HAMMER2_OFF_MASK_RADIX) == 0) {
		printf(" ok (no media)\n");
		return;
	}
	if (t != HAMMER2_BREF_TYPE_DATA &&
	    h2_seen_test_set(&w->seen, bref->data_off & HAMMER2_OFF_MASK)) {
		printf(" FAILED (block referenced twice, not descending)\n");
		w->nfailed++;
		return;
	}
	error = h2_media_read(w->c, bref, &data, &bytes, &why);
	if (error) {
		printf(" FAILED (%s)\n", why);
		w->nfailed++;
		return;
	}
	if (t < 8)
		w->bytes_by_type[t] += hammer2_off_bytes(bref->data_off);
	switch (t) {
	case HAMMER2_BREF_TYPE_INODE: {
		const hammer2_inode_data_t *ip =
			(const hammer2_inode_data_t *)data;

		if (bytes < sizeof(*ip)) {
			printf(" FAILED (short inode block, %u bytes)\n",
			       bytes);
			w->nfailed++;
			break;
		}
		h2_inode_name(ip, name, sizeof(name));
		printf(" ok \"%s\" inum=%ju type=%s size=%ju\n", name,
		       (uintmax_t)ip->meta.inum, h2_objtype_str(ip->meta.type),
		       (uintmax_t)ip->meta.size);
		if (depth >= SHOW_MAXDEPTH) {
			printf("%*s(depth limit reached)\n",
			       (depth + 1) * SHOW_TAB, "");
			break;
		}
		if (!(ip->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA))
			h2_walk_array(w, depth + 1, ip->u.blockset.blockref,
				      HAMMER2_SET_COUNT);
		break;
	}
	case HAMMER2_BREF_TYPE_INDIRECT:
	case HAMMER2_BREF_TYPE_FREEMAP_NODE:
		printf(" ok\n");
		if (depth >= SHOW_MAXDEPTH) {
			printf("%*s(depth limit reached)\n",
			       (depth + 1) * SHOW_TAB, "");
			break;
		}
		h2_walk_array(w, depth + 1, (const hammer2_blockref_t *)data,
			      (int)(bytes / sizeof(hammer2_blockref_t)));
		break;
	case HAMMER2_BREF_TYPE_FREEMAP_LEAF:
		printf(" ok\n");
		if (w->freemap)
			h2_print_leaf(w, depth, bref, data, bytes);
		break;
	default:
		printf(" ok\n");
		break;
	}
	free(data);
}

/* Shared body of show and freemap. */
static int h2_walk_cmd(struct h2cli *c, int ac, char **av, int freemap)
{
	struct h2_volhdrs vh;
	struct h2_walk w;
	const hammer2_blockset_t *set;
	char b1[64];

	h2_noargs(ac, av);
	/* open the library if it agrees; the raw reader otherwise */
	if (h2_open_volhdrs(c, 0, &vh))
		return H2_EXIT_FAIL;
	memset(&w, 0, sizeof(w));
	w.c = c;
	w.freemap = freemap;
	printf("volume.%-3d 0x%016jx mirror_tid=0x%016jx "
	       "freemap_tid=0x%016jx\n",
	       vh.best,
	       (uintmax_t)(hammer2_volhdr_offset(vh.best) | HAMMER2_PBUFRADIX),
	       (uintmax_t)vh.vd->mirror_tid, (uintmax_t)vh.vd->freemap_tid);
	set = freemap ? &vh.vd->freemap_blockset : &vh.vd->sroot_blockset;
	h2_walk_array(&w, 1, set->blockref, HAMMER2_SET_COUNT);
	if (freemap) {
		printf("summary: %ju blockrefs, %ju failed\n",
		       (uintmax_t)w.nbrefs, (uintmax_t)w.nfailed);
	} else {
		printf("summary: %ju blockrefs, %ju failed; media bytes: "
		       "inode %s, ",
		       (uintmax_t)w.nbrefs, (uintmax_t)w.nfailed,
		       h2_fmt_bytes(w.bytes_by_type[HAMMER2_BREF_TYPE_INODE],
				    b1, sizeof(b1)));
		printf("indirect %s, ",
		       h2_fmt_bytes(w.bytes_by_type[HAMMER2_BREF_TYPE_INDIRECT],
				    b1, sizeof(b1)));
		printf("data %s\n",
		       h2_fmt_bytes(w.bytes_by_type[HAMMER2_BREF_TYPE_DATA], b1,
				    sizeof(b1)));
	}
	free(w.seen.slots);
	free(vh.vd);
	if (h2cli_close(c))
		return H2_EXIT_FAIL;
	if (w.nfailed) {
		h2_warn("%s: %ju damaged block(s)", c->image,
			(uintmax_t)w.nfailed);
		return H2_EXIT_FAIL;
	}
	return 0;
}

/* show: the media topology from the volume header's sroot_blockset. */
int cmd_show(struct h2cli *c, int ac, char **av)
{
	return h2_walk_cmd(c, ac, av, 0);
}

/* freemap: the freemap topology and per-4MiB bmaps. */
int cmd_freemap(struct h2cli *c, int ac, char **av)
{
	return h2_walk_cmd(c, ac, av, 1);
}

/* pfs-list: one line per PFS. */
int cmd_pfs_list(struct h2cli *c, int ac, char **av)
{
	struct h2_pfs_iter it = { 0, 1 };
	int rc;

	h2_noargs(ac, av);
	if (h2cli_open(c, 1, 1))
		return h2cli_close(c), H2_EXIT_FAIL;
	printf("%-12s %-36s %s\n", "TYPE", "CLID", "LABEL");
	rc = hammer2_pfs_iterate(c->hmp, h2_pfs_cb, &it);
	if (rc) {
		h2_warn("%s: cannot list PFSs: %s", c->image, strerror(rc));
		h2cli_close(c);
		return H2_EXIT_FAIL;
	}
	return h2cli_close(c);
}

/* ------------------------------------------------------------------ */
/* Naming damaged blocks after EIO                                     */
/* ------------------------------------------------------------------ */

/* State of a diagnostic walk below one inode. */
struct h2_diag {
	struct h2cli *c;
	uint64_t beg, end;
	int found;
	struct h2_seen seen;
};

/* Check one blockref (and its children inside [beg, end]). */
static void h2_diag_bref(struct h2_diag *d, int depth,
			 const hammer2_blockref_t *bref, int top)
{
	uint8_t *data = NULL;
	uint32_t bytes = 0;
	const char *why;
	uint64_t kend;
	int t = bref->type;

	if (depth > SHOW_MAXDEPTH)
		return;
	if (t == HAMMER2_BREF_TYPE_EMPTY || t == HAMMER2_BREF_TYPE_DIRENT)
		return;
	kend = bref->keybits >= 64 ?
		       HAMMER2_KEY_MAX :
		       bref->key + (((uint64_t)1 << bref->keybits) - 1);
	if (!top && (kend < d->beg || bref->key > d->end))
		return;
	if ((bref->data_off & HAMMER2_OFF_MASK_RADIX) == 0)
		return;
	if (t != HAMMER2_BREF_TYPE_DATA &&
	    h2_seen_test_set(&d->seen, bref->data_off & HAMMER2_OFF_MASK))
		return;
	if (h2_media_read(d->c, bref, &data, &bytes, &why)) {
		h2_warn("bad block: %s at data_off 0x%016jx (media offset "
			"0x%jx, %u bytes, key 0x%016jx): %s",
			h2_breftype_str(t), (uintmax_t)bref->data_off,
			(uintmax_t)(bref->data_off & HAMMER2_OFF_MASK),
			hammer2_off_bytes(bref->data_off), (uintmax_t)bref->key,
			why);
		d->found++;
		return;
	}
	if (t == HAMMER2_BREF_TYPE_INODE && top) {
		const hammer2_inode_data_t *ip =
			(const hammer2_inode_data_t *)data;

		if (bytes >= sizeof(*ip) &&
		    !(ip->meta.op_flags & HAMMER2_OPFLAG_DIRECTDATA)) {
			int i;

			for (i = 0; i < HAMMER2_SET_COUNT; i++)
				h2_diag_bref(d, depth + 1,
					     &ip->u.blockset.blockref[i], 0);
		}
	} else if (t == HAMMER2_BREF_TYPE_INDIRECT) {
		const hammer2_blockref_t *base =
			(const hammer2_blockref_t *)data;
		int i, n = (int)(bytes / sizeof(*base));

		for (i = 0; i < n; i++)
			h2_diag_bref(d, depth + 1, &base[i], 0);
	}
	/* child INODEs were read (verified) but not descended */
	free(data);
}

/* Name the damaged blocks below ip for keys [beg, end]. */
int h2_diag_inode(struct h2cli *c, hammer2_inode_t *ip, uint64_t beg,
		  uint64_t end)
{
	struct h2_diag d;

	if (!ip || !ip->chain)
		return 0;
	memset(&d, 0, sizeof(d));
	d.c = c;
	d.beg = beg;
	d.end = end;
	h2_diag_bref(&d, 0, &ip->chain->bref, 1);
	free(d.seen.slots);
	return d.found;
}
