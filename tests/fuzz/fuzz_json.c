/*
 * tests/fuzz/fuzz_json.c - libFuzzer target: the JSON Lines and JSON
 * engines. Bit 0 of the first byte picks JSON Lines; see fuzz_common.h.
 */
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size)
		fuzz_one(data[0] & 1 ? VIEW_JSONL : VIEW_JSON, data, size);
	return 0;
}
