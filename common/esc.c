/*
 * common/esc.c - control characters of foreign text as \xNN (esc.h).
 */
#include "common/esc.h"

size_t esc_control_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!p[0])
		return 0;
	if (p[0] < 0x20 || p[0] == 0x7f)
		return 1;
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	return 0;
}

void esc_add(struct strbuf *out, const char *s)
{
	while (*s) {
		size_t n = esc_control_len(s);

		if (!n) {
			strbuf_addch(out, *s++);
			continue;
		}
		for (; n; n--)
			strbuf_addf(out, "\\x%02x", (unsigned char)*s++);
	}
}
