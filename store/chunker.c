/*
 * store/chunker.c - content-defined chunking (FastCDC) and chunk lists.
 *
 * Boundaries depend only on nearby bytes, so an insertion moves at most
 * the chunks around it and a new version stores only what changed.
 *
 * The gear hash fp = (fp << 1) + gear[byte] forgets a byte after 64
 * steps, so the top bits of fp are a rolling hash of the last 64 bytes.
 * Normalized chunking (FastCDC section 3.3) uses a harder condition
 * before CHUNK_AVG and an easier one after it, which pulls chunk sizes
 * towards the average and makes a 256 KiB forced cut rare.
 */
#include "store/chunker.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A cut needs the top MASK_S_BITS (before CHUNK_AVG) or MASK_L_BITS (after)
 * of fp to be zero. With a 16 KiB minimum, 2^17 and 2^14 give a measured
 * mean of ~68 KiB on random data and practically no forced 256 KiB cut
 * (18/14 gave 75 KiB, 16/14 59 KiB).
 */
#define MASK_S_BITS	17
#define MASK_L_BITS	14
#define MASK_S		(~0ULL << (64 - MASK_S_BITS))
#define MASK_L		(~0ULL << (64 - MASK_L_BITS))

/*
 * splitmix64 seeded with "poolfs-1" (0x706f6f6c66732d31), 256 outputs.
 * Never change it: the cuts, and so the chunk hashes of every stored
 * file, depend on it (tests/test_chunker.c regenerates and compares).
 */
const uint64_t chunker_gear[256] = {
	0x6e17a263fba88dcbULL, 0x674ef5627e5e947cULL, 0xffa2c9469c5d42a5ULL,
	0x49b78679fcbfdf61ULL, 0xf5467b15b7bb4d17ULL, 0x9b8562e48329db85ULL,
	0x53610bcf5b7ab054ULL, 0xa5147610b4a2ae67ULL, 0xbb48b2ac03a0e0bdULL,
	0x4eba7e860cc3d870ULL, 0x05281bc0577fac82ULL, 0x6e48a686f9950105ULL,
	0xa657d9ebf1e02e02ULL, 0x93f5719712d4f117ULL, 0x89948997e399230fULL,
	0xaaebb2dcb785c1c4ULL, 0xf7605e19316ed2f8ULL, 0x25dca1ae2a2c6af5ULL,
	0x070d735c2862f05dULL, 0x80305130472a03dbULL, 0x69d7be2b4a3c4289ULL,
	0x4e89a2313a6fb000ULL, 0x25669a18cf851336ULL, 0xb7b3085e61a3647cULL,
	0x119ed6e735503ac9ULL, 0x79d67d0c2f90bf5dULL, 0x596dfc0638ec6578ULL,
	0x7297c0d137183f62ULL, 0x222f1acdf5acd5f7ULL, 0x697952a7a524b2f8ULL,
	0x0bd8ee0cf716e67eULL, 0xf1cb0b96f78c7c58ULL, 0x5d284e0d035b974aULL,
	0xb2a9a30e17801c9eULL, 0xe4c4a4806527aac3ULL, 0x9943ec076d65c32fULL,
	0x2d239596fa0d41a6ULL, 0xd1506185e0ccf430ULL, 0x676ae808a3f517f7ULL,
	0x0e15662f13ce4e2cULL, 0x25b6dc69b1b6f110ULL, 0xc5dd39deb71e8887ULL,
	0x9417c152abdddb3aULL, 0x9a2cd57a066b971dULL, 0x2da482c23694c30cULL,
	0x8d6996899edb9abdULL, 0x11a3c2a8e3a418b5ULL, 0x6b70f209f1849a82ULL,
	0x4e3a4bc524cb345eULL, 0xcbbce97c87295cbaULL, 0xd2f4906728b8b6d9ULL,
	0x080987e9cc168b40ULL, 0x983637e19f49b8b8ULL, 0xb6127db926de9154ULL,
	0x7db13cb063e9f0c5ULL, 0x66cf1285a52abc12ULL, 0x312e32af4c3da592ULL,
	0xed2f02119fc377e2ULL, 0x45b626d9e49f3eb1ULL, 0x093e3d5525f85119ULL,
	0xf9f35760bdd139e5ULL, 0xfba520aaf48d5066ULL, 0x93bda16e363ada87ULL,
	0x75678686a232c0aeULL, 0xc0914f74cd480c94ULL, 0x18e631d121cfd42dULL,
	0x379fd0d4a1029e3dULL, 0x53478a39be98e431ULL, 0xe16c2d9628626288ULL,
	0x88ab14bd2b6b154dULL, 0x8d5f170e3cafa4e2ULL, 0xef5340f10564ebedULL,
	0xf7ea7b713c76f4b3ULL, 0xf4d9ed7f40beb3b9ULL, 0x1f181f4fb1991947ULL,
	0xc44c3e6928fcb3f6ULL, 0xd832da3aa0569604ULL, 0xc082a5303fe2cb63ULL,
	0x97c765183887e8e8ULL, 0x3bc9b83ee380aabeULL, 0x40abe8e069031813ULL,
	0xd9167e60fd5c947aULL, 0x62ecf09ec62fd5f4ULL, 0x810b97c3b4f752deULL,
	0x4d85ccb68f1689a4ULL, 0x2096fbf72ceeb88aULL, 0xc192f12dae674c09ULL,
	0xd866f9f657b34a07ULL, 0x7fab48c5635e7476ULL, 0x487f78fe11760145ULL,
	0xae81f7e1d28c9748ULL, 0x34fcb1a89e281db7ULL, 0xc3f16aed3ee60b48ULL,
	0xe5551296aa6679d5ULL, 0x4730c8ca2a5b6635ULL, 0x3e201fc6d2256e46ULL,
	0x00c664a3921ebd44ULL, 0xa8a8f59ab6d1bc84ULL, 0x95cb6cc71522d6abULL,
	0x21e683d430129422ULL, 0x81d926f99dbd5c9dULL, 0x06956aaf818ef240ULL,
	0x4b58caa97785b397ULL, 0x6eb356f72c4927feULL, 0x0e49b78dc1c16e9dULL,
	0xf378269269d40f89ULL, 0x026af4d3dbf8efd3ULL, 0x8a605f00af0a7c98ULL,
	0x5cced9347d54e4bdULL, 0x47b7856b691d24adULL, 0x8273511608431e2cULL,
	0x614a7b3fab0cb68eULL, 0xaa759ba25b4b4631ULL, 0xac65998a9757516fULL,
	0xe28942c5dbf759e5ULL, 0xac57951e030c13abULL, 0xd8c1b71f1cbad9cbULL,
	0xdb78050ec99d0f63ULL, 0x37f605edfab47c36ULL, 0xaf564c9260a14094ULL,
	0x7f73f7dff187769eULL, 0x43e0dbff71d6b0acULL, 0x04be7f954f1f979cULL,
	0xc0d9285d46914bffULL, 0x55f102f8ea3051feULL, 0xf85f7cfb8b2c0ef5ULL,
	0xf437b507b3436edaULL, 0xc20f8a0aea7456a5ULL, 0xdd58a897525ebd16ULL,
	0xf1df53e898f14005ULL, 0xe42410d165733032ULL, 0x50a24b17622d19a5ULL,
	0x7f097cfea7864382ULL, 0xaf19dbbcb01e23f7ULL, 0x4a88e6d467aedc3fULL,
	0x5eeb37617f72bd2fULL, 0xb58485e11578cfbcULL, 0xb3c2eae3ee047a7aULL,
	0x6e7b7e415413bac7ULL, 0x7d8f323e44cbca50ULL, 0xdb942eb557ba0511ULL,
	0x1840dadb49f7e182ULL, 0x839058091d2c72a6ULL, 0xe4ff4b04afc2133cULL,
	0xd18b408458c181b3ULL, 0x29033bbc6656d3dbULL, 0x223ea9252c1bc294ULL,
	0x0752631a6da6484bULL, 0x8bd72a1fc977c85dULL, 0xdf8890855123df11ULL,
	0x094b199e166e2e3fULL, 0xbde0212c6fba3946ULL, 0x42158e6ed220b063ULL,
	0xf0b6857a3e103b7aULL, 0x705425279ffa0657ULL, 0xa7b7b4433d01c566ULL,
	0xcbaae6041bb7f0a4ULL, 0x63972c89a0abb032ULL, 0x280431d4b7374058ULL,
	0x89f171b821104ce8ULL, 0x7e04ae677955515aULL, 0x975cb5e88c5a0659ULL,
	0xe124e828c79c3badULL, 0x7f55435019fb5c34ULL, 0x119aab1c589c62d2ULL,
	0xf4696ff58cd30f6bULL, 0x6d49d235241cbd75ULL, 0xb01275fb428127e4ULL,
	0x9dbd5fc3af5f86a6ULL, 0x140d236d27dd0177ULL, 0x7698c7aab8dbdbf1ULL,
	0x11542befff523719ULL, 0x2362abfea2453878ULL, 0x56147dab487fa470ULL,
	0x8e443ec24dc5facaULL, 0x6420114ca4bf194fULL, 0xc24eac88f651872bULL,
	0x7d3de3c2ac7c2d2eULL, 0x3e81d410689c5d64ULL, 0x4871c3c7096fabfcULL,
	0x224924a0b33f5985ULL, 0xb16cc7c37ab9d5c6ULL, 0x69cdee85d5f88508ULL,
	0xad8fe9afc247745aULL, 0x90ab1a069ff97d85ULL, 0x07d567dd4528de91ULL,
	0xc51cb2181583e961ULL, 0x4e8b367befec4675ULL, 0x2dda7c8e381bee7fULL,
	0xd9707c38be09ded5ULL, 0x6321abfa907bdb52ULL, 0xa00a9165d31fd13fULL,
	0x903702cf4e47ccb5ULL, 0xe15327839632a54aULL, 0xbc14909c176a5ab4ULL,
	0x318e16d9aff7e21dULL, 0x56926887a7d52a06ULL, 0x3e9651c18f9d2af9ULL,
	0x5adf4a5880acb9ceULL, 0x819a11a2fc8c8904ULL, 0xc514e06fddc20034ULL,
	0x242382d8e0753cacULL, 0x2ead89ffe1a7d816ULL, 0x564c15c1661488d5ULL,
	0xe73a8f1eb42e69bcULL, 0xb3040db1b037a5f7ULL, 0x9048c3425d6335b1ULL,
	0x08c210bfdb08a0b0ULL, 0x35467c4d6406ac39ULL, 0x3338fc3d5e1c9cd5ULL,
	0x45038f1f18082681ULL, 0x201b7c19b06b746bULL, 0xcc72fcd718a9f82bULL,
	0xf1560c13b8fff8d4ULL, 0xd14e55627a0ed69bULL, 0xedf74fb514001cb0ULL,
	0x96eb9ae8e7fc2177ULL, 0x3ce56a912a365755ULL, 0x8ee1c43acc7cabdbULL,
	0x2a8c04f8b014d09cULL, 0xa4aba32a24d33e09ULL, 0x1e3e5bf4833c02b0ULL,
	0x3628ad4a45e660a4ULL, 0x4925f7d964e56990ULL, 0x3b16cd721255228bULL,
	0x9dbe9b06bdd7a383ULL, 0x8db2ba9feb89f002ULL, 0xee5f70da15ce3fb9ULL,
	0x90a87a38243ddc32ULL, 0x2899474726e2f17fULL, 0x4ce851154e996a48ULL,
	0x5c785a31d657dfc1ULL, 0x95dc0ef3e7c5d4a0ULL, 0xf88ef921d45df838ULL,
	0xe6a1052822f27f3fULL, 0x72699ce19424f5f6ULL, 0xadebeceecbd0afedULL,
	0x7c8fa48bec599138ULL, 0x8d42682099bcc2d4ULL, 0x34be54f4a47255fdULL,
	0xc852bc53856e75c6ULL, 0x4cb627d402d7aed1ULL, 0x5b1c39d167833dc6ULL,
	0x9d42c6389e05a8beULL, 0x9a8b3ce63e8e0c9aULL, 0xde9ce5e19bfe47daULL,
	0x12dfb9dc4f504424ULL, 0xe7efec5255aadadaULL, 0x866d2d5bf35da9f5ULL,
	0xf6523e20ac0b1740ULL, 0xc608bbdecc2f2d84ULL, 0x9585b4a4b2efb26aULL,
	0x4a2e6c1838812989ULL, 0x8cd593aa3abb1925ULL, 0x0f3f5907e75b842dULL,
	0x489af967aafd1dd7ULL,
};

#ifdef POOL_TEST
static uint64_t scanned;		/* atomic */

uint64_t chunker_scanned(void)
{
	return __atomic_load_n(&scanned, __ATOMIC_RELAXED);
}
#endif

/*
 * Scans buf[*i..end) for a cut under mask, two bytes a step: fp after
 * both is (fp << 2) + (g0 << 1) + g1, so the chain from one fp to the
 * next is one shift and add per two bytes while the fp between them is
 * computed beside it. Same cuts as a byte at a time (the wrap-around of
 * the shifts is the same), a third less time on this loop.
 */
static bool scan1(const uint8_t *buf, size_t *i, size_t end, uint64_t *fp, uint64_t mask)
{
	size_t k = *i;
	uint64_t f = *fp, f1;

	for (; k + 2 <= end; k += 2) {
		uint64_t g0 = chunker_gear[buf[k]], g1 = chunker_gear[buf[k + 1]];

		f1 = (f << 1) + g0;
		f = (f << 2) + (g0 << 1) + g1;
		if (!(f1 & mask)) {
			*i = k + 1;
			return true;
		}
		if (!(f & mask)) {
			*i = k + 2;
			return true;
		}
	}
	if (k < end) {
		f = (f << 1) + chunker_gear[buf[k++]];
		if (!(f & mask)) {
			*i = k;
			return true;
		}
	}
	*i = k;
	*fp = f;
	return false;
}

/*
 * One chain of shifts and adds is bound by its own latency and by the
 * test after every byte, so a long range is scanned as LANES chains side
 * by side, each over its own segment of a window. fp forgets a byte
 * after 64 steps (fp << 64 is 0), so a lane's fp at its segment's start
 * is exact after the 64 bytes before it, whatever came earlier: the
 * lanes see the fp of a scan from the front, and the first cut of the
 * window is the first lane's first hit. About 1.5 times a lone chain's
 * rate here; the warm-ups and the rest of the window past a cut cost a
 * few per cent of it.
 */
#define LANES		4
#define LANE_SEG	2048		/* a lane's bytes per window */
#define LANE_MIN	256		/* shorter lanes: the warm-ups would cost more than they save */
#define FORGET		64

static uint64_t warm(const uint8_t *p)
{
	uint64_t f = 0;

	for (size_t k = 0; k < FORGET; k++)
		f = (f << 1) + chunker_gear[p[k]];
	return f;
}

/*
 * Lane l stopped after step t, lanes before it with no hit so far: each
 * lane before l scans the rest of its segment first, since any cut in it
 * comes before l's.
 */
static size_t resolve(const uint8_t *buf, const size_t *s, uint64_t *f, size_t seg, size_t t,
		      uint64_t mask)
{
	size_t l, k;

	for (l = 0;; l++) {
		if (!(f[l] & mask))
			return s[l] + t + 1;
		k = s[l] + t + 1;
		if (scan1(buf, &k, s[l] + seg, &f[l], mask))
			return k;
	}
}

static bool scan(const uint8_t *buf, size_t *i, size_t end, uint64_t *fp, uint64_t mask)
{
	size_t k = *i, seg;

	while ((end - k) / LANES >= LANE_MIN) {
		seg = (end - k) / LANES < LANE_SEG ? (end - k) / LANES : LANE_SEG;
		/* the lanes' chains as locals: in an array they would live in memory */
		const uint8_t *b0 = buf + k, *b1 = b0 + seg, *b2 = b1 + seg, *b3 = b2 + seg;
		/* b1 - FORGET >= b0, at or after the chunk's first scanned byte */
		uint64_t f0 = *fp, f1 = warm(b1 - FORGET), f2 = warm(b2 - FORGET),
			 f3 = warm(b3 - FORGET);

		for (size_t t = 0; t < seg; t++) {
			f0 = (f0 << 1) + chunker_gear[b0[t]];
			f1 = (f1 << 1) + chunker_gear[b1[t]];
			f2 = (f2 << 1) + chunker_gear[b2[t]];
			f3 = (f3 << 1) + chunker_gear[b3[t]];
			if (__builtin_expect(!((f0 & mask) && (f1 & mask) && (f2 & mask) &&
					       (f3 & mask)), 0)) {
				size_t s[LANES] = { k, k + seg, k + 2 * seg, k + 3 * seg };
				uint64_t f[LANES] = { f0, f1, f2, f3 };

				*i = resolve(buf, s, f, seg, t, mask);
				return true;
			}
		}
		k += LANES * seg;
		*fp = f3;
	}
	*i = k;
	return scan1(buf, i, end, fp, mask);
}

#ifdef POOL_TEST
bool chunker_scan_test(const uint8_t *buf, size_t *i, size_t end, uint64_t *fp, uint64_t mask)
{
	return scan(buf, i, end, fp, mask);
}
#endif

static size_t cut(const uint8_t *buf, size_t n)
{
	size_t i = CHUNK_MIN, barrier = n < CHUNK_AVG ? n : CHUNK_AVG;
	uint64_t fp = 0;

	if (scan(buf, &i, barrier, &fp, MASK_S) || scan(buf, &i, n, &fp, MASK_L))
		return i;
	return n;
}

size_t chunker_next(const uint8_t *buf, size_t len, bool final)
{
	size_t n = len < CHUNK_MAX ? len : CHUNK_MAX, c;

	if (n <= CHUNK_MIN) {
		c = final ? n : 0;
		goto out;
	}
	c = cut(buf, n);
	/* a cut at n is forced, not found: more bytes may move it */
	if (c == n && !final && len < CHUNK_MAX)
		c = 0;
out:
#ifdef POOL_TEST
	__atomic_add_fetch(&scanned, c, __ATOMIC_RELAXED);
#endif
	return c;
}
