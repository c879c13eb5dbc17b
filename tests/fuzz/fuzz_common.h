/*
 * tests/fuzz/fuzz_common.h - what both fuzz targets check on each input.
 *
 * The first two bytes choose the rules and the piece size; the rest is
 * the file. Beyond "no crash, no leak, no undefined behaviour" (the
 * sanitizers), every input must give the same result whole and in
 * pieces, and an accepted file must give output that is valid text and
 * that the engine itself reads back without error.
 */
#ifndef POOL_FUZZ_COMMON_H
#define POOL_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#include "policy/desens/text.h"
#include "tests/desens_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline struct row_filter *fuzz_filter(uint8_t opt)
{
	if (!(opt & 0x80))
		return NULL;
	return rf_node(ROW_ANY, 2, rf_leaf(ROW_IN, "区县", 2, "宣州区", "郎溪县"),
		       rf_node(ROW_ALL, 2, rf_leaf(ROW_PREFIX, "a", 1, "x"),
			       rf_leaf(ROW_NE, "b", 1, "1")));
}

/* Rules chosen by bits of opt: no rule at all leaves only the parser to test. */
static inline void fuzz_fields(uint8_t opt, char *buf, size_t len)
{
	snprintf(buf, len, "zz=none%s%s%s",
		 opt & 0x10 ? ";身份证号=id_card;姓名=name;手机号=phone;住址=address" : "",
		 opt & 0x20 ? ";a=keep(1,1);b=hash;邮箱=email;出生日期=year" : "",
		 opt & 0x40 ? ";c=drop;d=redact" : "");
}

static inline void fuzz_one(enum view_format fmt, const uint8_t *data, size_t size)
{
	struct strbuf whole = STRBUF_INIT, cut = STRBUF_INIT, again = STRBUF_INIT;
	struct view_rules r, plain;
	char fields[256];
	enum text_enc enc;
	size_t bad, piece;
	int ret, ret2;

	if (size < 2)
		return;
	fuzz_fields(data[0], fields, sizeof(fields));
	rules_init(&r, fmt, data[0] & 2 ? "gb18030" : "utf-8", data[0] & 4, fields,
		   fuzz_filter(data[0]));
	piece = 1 + data[1] % 17;
	ret = run_pieces(&r, data + 2, size - 2, 0, &whole, NULL);
	ret2 = run_pieces(&r, data + 2, size - 2, piece, &cut, NULL);
	if (ret != ret2 || (!ret && (whole.len != cut.len ||
				     memcmp(whole.buf, cut.buf, whole.len)))) {
		fprintf(stderr, "fuzz: whole (%d) and pieces of %zu (%d) differ\n",
			ret, piece, ret2);
		abort();
	}
	if (!ret) {
		/* a BOM decides the encoding over the rules' */
		enc = data[0] & 2 ? TEXT_GB18030 : TEXT_UTF8;
		if (whole.len >= 3 && !memcmp(whole.buf, "\xef\xbb\xbf", 3))
			enc = TEXT_UTF8;
		if (whole.len >= 4 && !memcmp(whole.buf, "\x84\x31\x95\x33", 4))
			enc = TEXT_GB18030;
		if (text_check(enc, (const uint8_t *)whole.buf, whole.len, &bad)) {
			fprintf(stderr, "fuzz: output not valid %s at %zu\n",
				text_enc_name(enc), bad);
			abort();
		}
		rules_init(&plain, fmt, text_enc_name(enc), false, "zz=none", NULL);
		if (run_pieces(&plain, whole.buf, whole.len, 0, &again, NULL)) {
			fprintf(stderr, "fuzz: the engine cannot read its own output\n");
			abort();
		}
		rules_release(&plain);
	}
	rules_release(&r);
	strbuf_release(&whole);
	strbuf_release(&cut);
	strbuf_release(&again);
}

#endif
