/*
 * tests/fuzz/fuzz_csv.c - libFuzzer target: the CSV and TSV engines.
 * Bit 0 of the first byte picks TSV; see fuzz_common.h for the rest.
 */
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size)
		fuzz_one(data[0] & 1 ? VIEW_TSV : VIEW_CSV, data, size);
	return 0;
}
