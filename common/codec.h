/*
 * common/codec.h - byte-order and hex helpers shared by every on-disk format.
 *
 * Integers in keys are big-endian so RocksDB's bytewise order is numeric order.
 */
#ifndef POOL_CODEC_H
#define POOL_CODEC_H

#include <stddef.h>
#include <stdint.h>

static inline void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Writes 2*len hex digits and a NUL to out (size >= 2*len+1). */
void hex_encode(const uint8_t *in, size_t len, char *out);
/* Returns 0, or -EINVAL when hex is not exactly 2*len hex digits. */
int hex_decode(const char *hex, uint8_t *out, size_t len);

#endif
