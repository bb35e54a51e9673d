// SPDX-License-Identifier: GPL-2.0
/*
 * uffd-probe: a small gzip (RFC 1952) / deflate (RFC 1951) decoder, so
 * /proc/config.gz can be read in-process: no zlib dependency (static
 * builds for VMs) and no gzip child process (the probe must stay fast).
 *
 * Huffman codes are decoded with one direct lookup table per code, indexed
 * by the next max-code-length bits of input (bits arrive LSB first, so the
 * table is indexed by the bit-reversed code). An entry holds the symbol
 * and its length; 0 marks a bit pattern that no code uses.
 *
 * The trailer's length is checked, its CRC32 is not: the kernel writes
 * the file, and a damaged stream almost always breaks the Huffman data or
 * the length first. Bad input never reads or writes out of bounds.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

#define MAX_BITS	15
#define MAX_OUT		(64u << 20)	/* refuse absurd sizes */

struct bitin {
	const uint8_t *p, *end;
	uint64_t buf;
	unsigned int cnt;
	bool err;
};

struct huff {
	uint16_t tab[1 << MAX_BITS];
	unsigned int bits;
};

struct out {
	uint8_t *buf;
	size_t len, cap;
};

static void refill(struct bitin *b)
{
	while (b->cnt <= 56 && b->p < b->end) {
		b->buf |= (uint64_t)*b->p++ << b->cnt;
		b->cnt += 8;
	}
}

static unsigned int getbits(struct bitin *b, unsigned int n)
{
	unsigned int v;

	if (b->cnt < n) {
		refill(b);
		if (b->cnt < n) {
			b->err = true;
			return 0;
		}
	}
	v = (unsigned int)(b->buf & ((1ull << n) - 1));
	b->buf >>= n;
	b->cnt -= n;
	return v;
}

static int huff_build(struct huff *h, const uint8_t *lens, unsigned int n)
{
	unsigned int count[MAX_BITS + 1] = { 0 }, next[MAX_BITS + 1];
	unsigned int sym, len, code, max = 0;
	int left = 1;

	for (sym = 0; sym < n; sym++)
		count[lens[sym]]++;
	count[0] = 0;
	for (len = 1; len <= MAX_BITS; len++) {
		left = (left << 1) - (int)count[len];
		if (left < 0)
			return -EINVAL;		/* over-subscribed */
		if (count[len])
			max = len;
	}
	h->bits = max ? max : 1;
	memset(h->tab, 0, sizeof(h->tab[0]) << h->bits);
	code = 0;
	for (len = 1; len <= MAX_BITS; len++) {
		code = (code + count[len - 1]) << 1;
		next[len] = code;
	}
	for (sym = 0; sym < n; sym++) {
		unsigned int l = lens[sym], c, rev = 0, i;

		if (!l)
			continue;
		c = next[l]++;
		for (i = 0; i < l; i++)
			rev |= ((c >> i) & 1) << (l - 1 - i);
		for (i = rev; i < (1u << h->bits); i += 1u << l)
			h->tab[i] = (uint16_t)(sym << 4 | l);
	}
	return 0;
}

static inline int decode(struct bitin *b, const struct huff *h)
{
	unsigned int e;

	if (b->cnt < h->bits)
		refill(b);
	/* Near the end fewer bits may be left than the longest code. */
	e = h->tab[b->buf & ((1u << h->bits) - 1)];
	if (!e || (e & 15) > b->cnt) {
		b->err = true;
		return -1;
	}
	b->buf >>= e & 15;
	b->cnt -= e & 15;
	return (int)(e >> 4);
}

static int out_grow(struct out *o, size_t n)
{
	size_t cap = o->cap ? o->cap : 65536;
	uint8_t *nb;

	while (cap < o->len + n)
		cap *= 2;
	if (cap > MAX_OUT)
		return -EFBIG;
	nb = realloc(o->buf, cap);
	if (!nb)
		return -ENOMEM;
	o->buf = nb;
	o->cap = cap;
	return 0;
}

static inline int out_room(struct out *o, size_t n)
{
	return o->len + n <= o->cap ? 0 : out_grow(o, n);
}

static const uint16_t len_base[29] = {
	3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51,
	59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
};
static const uint8_t len_extra[29] = {
	0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4,
	4, 5, 5, 5, 5, 0,
};
static const uint16_t dist_base[30] = {
	1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385,
	513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385,
	24577,
};
static const uint8_t dist_extra[30] = {
	0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10,
	10, 11, 11, 12, 12, 13, 13,
};

static int inflate_codes(struct bitin *b, struct out *o,
			 const struct huff *lit, const struct huff *dist)
{
	for (;;) {
		int sym = decode(b, lit);
		unsigned int len, d;

		if (sym < 0)
			return -EINVAL;
		if (sym < 256) {
			if (out_room(o, 1))
				return -ENOMEM;
			o->buf[o->len++] = (uint8_t)sym;
			continue;
		}
		if (sym == 256)
			return 0;
		sym -= 257;
		if (sym >= 29)
			return -EINVAL;
		len = len_base[sym] + getbits(b, len_extra[sym]);
		sym = decode(b, dist);
		if (sym < 0 || sym >= 30)
			return -EINVAL;
		d = dist_base[sym] + getbits(b, dist_extra[sym]);
		if (b->err || d > o->len)
			return -EINVAL;
		if (out_room(o, len))
			return -ENOMEM;
		if (d >= len) {
			memcpy(o->buf + o->len, o->buf + o->len - d, len);
			o->len += len;
			continue;
		}
		/* Overlapping run (d < len): byte by byte repeats the data. */
		while (len--) {
			o->buf[o->len] = o->buf[o->len - d];
			o->len++;
		}
	}
}

static int inflate_stored(struct bitin *b, struct out *o)
{
	unsigned int len, nlen;

	/* Drop to a byte boundary, give back whole buffered bytes. */
	getbits(b, b->cnt & 7);
	b->p -= b->cnt / 8;
	b->buf = 0;
	b->cnt = 0;
	if (b->end - b->p < 4)
		return -EINVAL;
	len = b->p[0] | b->p[1] << 8;
	nlen = b->p[2] | b->p[3] << 8;
	b->p += 4;
	if (len != (~nlen & 0xffff) || (size_t)(b->end - b->p) < len)
		return -EINVAL;
	if (out_room(o, len))
		return -ENOMEM;
	memcpy(o->buf + o->len, b->p, len);
	o->len += len;
	b->p += len;
	return 0;
}

static int fixed_tables(struct huff *lit, struct huff *dist)
{
	uint8_t lens[288];
	int i;

	for (i = 0; i < 144; i++)
		lens[i] = 8;
	for (; i < 256; i++)
		lens[i] = 9;
	for (; i < 280; i++)
		lens[i] = 7;
	for (; i < 288; i++)
		lens[i] = 8;
	if (huff_build(lit, lens, 288))
		return -EINVAL;
	for (i = 0; i < 30; i++)
		lens[i] = 5;
	return huff_build(dist, lens, 30);
}

static int dynamic_tables(struct bitin *b, struct huff *lit,
			  struct huff *dist)
{
	static const uint8_t order[19] = {
		16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
	};
	uint8_t lens[288 + 32] = { 0 };
	unsigned int nlit, ndist, nclen, i = 0;

	nlit = getbits(b, 5) + 257;
	ndist = getbits(b, 5) + 1;
	nclen = getbits(b, 4) + 4;
	if (nlit > 286 || ndist > 30)
		return -EINVAL;
	for (i = 0; i < nclen; i++)
		lens[order[i]] = (uint8_t)getbits(b, 3);
	if (b->err || huff_build(lit, lens, 19))
		return -EINVAL;
	memset(lens, 0, 19);
	/* The code-length code gives both lengths arrays in one run. */
	for (i = 0; i < nlit + ndist;) {
		int sym = decode(b, lit);
		unsigned int rep, val = 0;

		if (sym < 0)
			return -EINVAL;
		if (sym < 16) {
			lens[i++] = (uint8_t)sym;
			continue;
		}
		if (sym == 16) {
			if (!i)
				return -EINVAL;
			val = lens[i - 1];
			rep = 3 + getbits(b, 2);
		} else if (sym == 17) {
			rep = 3 + getbits(b, 3);
		} else {
			rep = 11 + getbits(b, 7);
		}
		if (b->err || i + rep > nlit + ndist)
			return -EINVAL;
		while (rep--)
			lens[i++] = (uint8_t)val;
	}
	if (!lens[256])
		return -EINVAL;		/* no end-of-block code */
	if (huff_build(dist, lens + nlit, ndist))
		return -EINVAL;
	return huff_build(lit, lens, nlit);
}

static int inflate_raw(struct bitin *b, struct out *o)
{
	struct huff *lit, *dist;
	unsigned int final, type;
	int ret = 0;

	lit = malloc(sizeof(*lit));
	dist = malloc(sizeof(*dist));
	if (!lit || !dist) {
		ret = -ENOMEM;
		goto out;
	}
	do {
		final = getbits(b, 1);
		type = getbits(b, 2);
		if (b->err)
			ret = -EINVAL;
		else if (type == 0)
			ret = inflate_stored(b, o);
		else if (type == 1)
			ret = fixed_tables(lit, dist) ?:
			      inflate_codes(b, o, lit, dist);
		else if (type == 2)
			ret = dynamic_tables(b, lit, dist) ?:
			      inflate_codes(b, o, lit, dist);
		else
			ret = -EINVAL;
	} while (!ret && !final);
out:
	free(lit);
	free(dist);
	return ret;
}

int gunzip(const unsigned char *in, size_t inlen, unsigned char **outp,
	   size_t *outlen)
{
	struct bitin b = { 0 };
	struct out o = { 0 };
	const uint8_t *p = in, *end = in + inlen;
	uint32_t isize;
	uint8_t flg;
	int ret;

	if (inlen < 18 || p[0] != 0x1f || p[1] != 0x8b || p[2] != 8)
		return -EINVAL;
	flg = p[3];
	p += 10;
	if (flg & 4) {			/* FEXTRA */
		size_t xlen = p[0] | p[1] << 8;

		if ((size_t)(end - p) < xlen + 2)
			return -EINVAL;
		p += 2 + xlen;
	}
	if (flg & 8)			/* FNAME */
		while (p < end && *p++)
			;
	if (flg & 16)			/* FCOMMENT */
		while (p < end && *p++)
			;
	if (flg & 2)			/* FHCRC */
		p += 2;
	if (p >= end - 8)
		return -EINVAL;
	isize = end[-4] | end[-3] << 8 | end[-2] << 16 | (uint32_t)end[-1] << 24;
	if (isize && isize <= MAX_OUT && out_room(&o, isize))
		return -ENOMEM;
	b.p = p;
	b.end = end - 8;
	ret = inflate_raw(&b, &o);
	if (!ret && (uint32_t)o.len != isize)
		ret = -EINVAL;
	if (ret) {
		free(o.buf);
		return ret;
	}
	*outp = o.buf;
	*outlen = o.len;
	return 0;
}
