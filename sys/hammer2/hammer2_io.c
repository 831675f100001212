/*
 * hammer2_io.c - media reads through struct hammer2_devops.
 *
 * Every read of media goes through here: it bounds-checks the request
 * against the volume, counts it, and for blockrefs verifies the check code
 * and decompresses.  Writes are queued by the flush (hammer2_flush.c).
 */
#include "hammer2.h"

/*
 * Read bytes at device offset off into buf.
 *
 * Errors: HAMMER2_ERROR_BADBREF if the range is outside the volume,
 * HAMMER2_ERROR_EIO if the device fails.
 */
int hammer2_io_read(hammer2_dev_t *hmp, void *buf, size_t bytes,
		    hammer2_off_t off)
{
	if (off > hmp->volu_size || bytes > hmp->volu_size - off)
		return HAMMER2_ERROR_BADBREF;
	hmp->stat_reads++;
	hmp->stat_read_bytes += bytes;
	if (hmp->ops->read(hmp->ctx, buf, bytes, off))
		return HAMMER2_ERROR_EIO;
	return 0;
}

static void io_report(hammer2_dev_t *hmp, const hammer2_blockref_t *bref,
		      const char *what)
{
	if (hmp->error_logged++ < 100)
		hammer2_dev_log(hmp,
				"%s in blockref type %d data_off "
				"0x%016llx key 0x%016llx/%d",
				what, bref->type,
				(unsigned long long)bref->data_off,
				(unsigned long long)bref->key, bref->keybits);
}

/* See hammer2.h. */
uint32_t hammer2_io_placement(hammer2_dev_t *hmp,
			      const hammer2_blockref_t *bref)
{
	unsigned radix = (unsigned)(bref->data_off & HAMMER2_OFF_MASK_RADIX);
	hammer2_off_t off = bref->data_off & HAMMER2_OFF_MASK;
	uint32_t pbytes;

	if (radix < HAMMER2_RADIX_MIN || radix > HAMMER2_RADIX_MAX)
		return 0;
	pbytes = (uint32_t)1 << radix;
	if ((off & HAMMER2_PBUFMASK64) + pbytes > HAMMER2_PBUFSIZE)
		return 0;
	if (off & (HAMMER2_ALLOC_MIN - 1))
		return 0;
	if (off >= hmp->volu_size || pbytes > hmp->volu_size - off)
		return 0;
	return pbytes;
}

/*
 * Read, verify and decompress the block of bref.  On success *datap holds
 * a new buffer (free with hammer2_free) of *bytesp logical bytes: the
 * physical size for uncompressed blocks, the decompressed size otherwise.
 *
 * Errors: EIO (device), CHECK (check code mismatch), BADBREF (impossible
 * size/offset, corrupt compressed data), ENOMEM.  Each is logged once per
 * device for the first 100 problems, naming the blockref.
 */
int hammer2_io_read_bref(hammer2_dev_t *hmp, const hammer2_blockref_t *bref,
			 uint8_t **datap, uint32_t *bytesp)
{
	uint32_t pbytes = hammer2_io_placement(hmp, bref);
	uint8_t *pbuf;
	int error;

	*datap = NULL;
	*bytesp = 0;
	if (pbytes == 0) {
		io_report(hmp, bref, "impossible block size or offset");
		return HAMMER2_ERROR_BADBREF;
	}
	pbuf = hammer2_alloc_raw(pbytes); /* the read fills it */
	if (pbuf == NULL)
		return HAMMER2_ERROR_ENOMEM;
	error = hammer2_io_read(hmp, pbuf, pbytes,
				bref->data_off & HAMMER2_OFF_MASK);
	if (error) {
		io_report(hmp, bref, "read error");
		hammer2_free(pbuf);
		return error;
	}
	return hammer2_io_decode_bref(hmp, bref, pbuf, pbytes, datap, bytesp);
}

/* See hammer2.h. */
int hammer2_io_decode_bref(hammer2_dev_t *hmp, const hammer2_blockref_t *bref,
			   uint8_t *pbuf, uint32_t pbytes, uint8_t **datap,
			   uint32_t *bytesp)
{
	uint8_t *lbuf;
	int comp, n;

	*datap = NULL;
	*bytesp = 0;
	if (!hammer2_bref_testcheck(bref, pbuf, pbytes)) {
		hmp->stat_check_errors++;
		io_report(hmp, bref, "check code mismatch");
		hammer2_free(pbuf);
		return HAMMER2_ERROR_CHECK;
	}
	comp = HAMMER2_DEC_COMP(bref->methods);
	if (bref->type != HAMMER2_BREF_TYPE_DATA || comp == HAMMER2_COMP_NONE ||
	    comp == HAMMER2_COMP_AUTOZERO) {
		*datap = pbuf;
		*bytesp = pbytes;
		return 0;
	}
	lbuf = hammer2_alloc_raw(HAMMER2_PBUFSIZE); /* only n bytes used */
	if (lbuf == NULL) {
		hammer2_free(pbuf);
		return HAMMER2_ERROR_ENOMEM;
	}
	n = hammer2_decompress_block(comp, pbuf, pbytes, lbuf,
				     HAMMER2_PBUFSIZE);
	hammer2_free(pbuf);
	if (n <= 0) {
		io_report(hmp, bref, "corrupt compressed data");
		hammer2_free(lbuf);
		return HAMMER2_ERROR_BADBREF;
	}
	*datap = lbuf;
	*bytesp = (uint32_t)n;
	return 0;
}
