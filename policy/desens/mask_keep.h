/*
 * policy/desens/mask_keep.h - the keep masks (keep(F,L) and the kinds
 * that are one: id_card, phone, name, bank_card, address) on valid UTF-8,
 * inline for the format engines' per-value loop. Private to
 * policy/desens/.
 *
 * A CSV record is checked as text once; counting its values' characters
 * again with the general walk, through a call per value and a table of
 * callbacks, cost more than the rest of the record.
 */
#ifndef POOL_MASK_KEEP_H
#define POOL_MASK_KEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy/view.h"

/*
 * Whether m is a keep mask, and its shape: keep(*first, *last), or for
 * id_card (*id_card) the shape by the value's length (mask.h).
 */
bool mask_keep_shape(const struct mask_spec *m, size_t *first, size_t *last,
		     bool *id_card);

/*
 * Short copies inline: a value is mostly under 16 bytes, where the calls
 * into memcpy() and memset() cost more than the bytes. The 8- and 4-byte
 * moves may overlap; dst and src do not.
 */
static inline void mask_copy_short(uint8_t *dst, const uint8_t *src, size_t n)
{
	uint64_t a, b;
	uint32_t x, y;

	if (n > 16) {
		memcpy(dst, src, n);
	} else if (n >= 8) {
		memcpy(&a, src, 8);
		memcpy(&b, src + n - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + n - 8, &b, 8);
	} else if (n >= 4) {
		memcpy(&x, src, 4);
		memcpy(&y, src + n - 4, 4);
		memcpy(dst, &x, 4);
		memcpy(dst + n - 4, &y, 4);
	} else if (n) {
		dst[0] = src[0];
		dst[n / 2] = src[n / 2];
		dst[n - 1] = src[n - 1];
	}
}

static inline void mask_stars_short(uint8_t *dst, size_t n)
{
	const uint64_t a = 0x2a2a2a2a2a2a2a2aULL;
	const uint32_t x = 0x2a2a2a2a;

	if (n > 16) {
		memset(dst, '*', n);
	} else if (n >= 8) {
		memcpy(dst, &a, 8);
		memcpy(dst + n - 8, &a, 8);
	} else if (n >= 4) {
		memcpy(dst, &x, 4);
		memcpy(dst + n - 4, &x, 4);
	} else if (n) {
		dst[0] = dst[n / 2] = dst[n - 1] = '*';
	}
}

/* The continuation bytes (10xxxxxx) of a word, summed by one multiply (no popcnt in -O2). */
static inline size_t mask_conts8(uint64_t w)
{
	return (size_t)((((w & ~(w << 1) & 0x8080808080808080ULL) >> 7) *
			 0x0101010101010101ULL) >> 56);
}

/* Characters of valid UTF-8: its bytes less its continuation bytes. */
static inline size_t mask_utf8_chars(const uint8_t *p, size_t n)
{
	size_t i = 0, cont = 0;
	uint64_t w;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		cont += mask_conts8(w);
	}
	if (i < n && n >= 8 && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) {
		/* the last eight bytes again, less those already counted */
		memcpy(&w, p + n - 8, 8);
		cont += mask_conts8(w >> 8 * (8 - (n - i)));
	} else {
		for (; i < n; i++)
			cont += (p[i] & 0xC0) == 0x80;
	}
	return n - cont;
}

/* Writes in[0..head), hidden '*' and in[tail..len) to dst; returns the length. */
static inline size_t mask_keep_out(const uint8_t *in, size_t len, size_t head,
				   size_t hidden, size_t tail, uint8_t *dst)
{
	mask_copy_short(dst, in, head);
	mask_stars_short(dst + head, hidden);
	mask_copy_short(dst + head + hidden, in + tail, len - tail);
	return head + hidden + (len - tail);
}

/* keep(first, last) of the valid UTF-8 in[0..len) of n characters, into dst. */
static inline size_t mask_keep_utf8_n(const uint8_t *in, size_t len, size_t n,
				      size_t first, size_t last, uint8_t *dst)
{
	size_t head, tail, k;

	/* fail closed: a value too short to hide anything is hidden whole */
	if (first + last >= n)
		first = last = 0;
	if (n == len) {
		head = first;
		tail = len - last;
	} else {
		/* a character is its lead byte and the 10xxxxxx bytes after it */
		for (head = 0, k = first; k; k--)
			for (head++; head < len && (in[head] & 0xC0) == 0x80; head++)
				;
		for (tail = len, k = last; k; k--)
			while ((in[--tail] & 0xC0) == 0x80)
				;
	}
	return mask_keep_out(in, len, head, n - first - last, tail, dst);
}

/*
 * keep(first, last) (by the length for id_card) of the valid UTF-8
 * in[0..len), len > 0, into dst (room for len bytes); returns the length
 * written. The same bytes as mask_apply_raw().
 */
static inline size_t mask_keep_utf8(const uint8_t *in, size_t len, size_t first,
				    size_t last, bool id_card, uint8_t *dst)
{
	size_t n = mask_utf8_chars(in, len);

	if (id_card) {
		/* 18 and 15 characters are IDs; any other length is hidden whole */
		first = n == 18 || n == 15 ? 6 : 0;
		last = n == 18 ? 4 : n == 15 ? 3 : 0;
	}
	return mask_keep_utf8_n(in, len, n, first, last, dst);
}

#endif
