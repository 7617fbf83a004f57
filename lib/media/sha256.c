/*
 * lib/media/sha256.c: SHA-256 as FIPS 180-4 section 6.2 defines it (constants from section 4.2.2,
 * initial hash value from 5.3.3), and hashing a whole file. The compression function is portable
 * C, or on x86-64 processors with the SHA extensions their SHA256RNDS2/MSG1/MSG2 instructions
 * (chosen at run time; the media writer hashes every byte it writes several times, and the
 * portable function runs at about a quarter of the disk's speed). Both are tested against the
 * FIPS 180-4 examples and sha256sum (tests/media/suite_media_sha256.c). Owns no state; must not know
 * about media.
 */
#include "media/sha256.h"

#include "dcmmcm/common.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const uint32_t k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

static void compress_block(uint32_t state[8], const unsigned char block[64])
{
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)block[4 * t] << 24 | (uint32_t)block[4 * t + 1] << 16 | (uint32_t)block[4 * t + 2] << 8 |
               (uint32_t)block[4 * t + 3];
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int t = 0; t < 64; t++) {
        uint32_t big_s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = h + big_s1 + ch + k[t] + w[t];
        uint32_t big_s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = big_s0 + maj;
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
}

static void compress_portable(uint32_t state[8], const unsigned char *blocks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        compress_block(state, blocks + 64 * i);
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_SHANI_PATH 1

/* The same compression with the SHA extensions: the state kept as (A,B,E,F) and (C,D,G,H), two
 * rounds per SHA256RNDS2, the message schedule of FIPS 180-4 6.2.2 step 1 computed four words at
 * a time with SHA256MSG1 (sigma0 and W[t-16]), the W[t-7] terms, and SHA256MSG2 (sigma1). */
__attribute__((target("sha,sse4.1,ssse3"))) static void compress_shani(uint32_t state[8], const unsigned char *blocks,
                                                                       size_t n)
{
    const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i tmp = _mm_loadu_si128((const __m128i *)&state[0]);    /* A B C D (words 0..3) */
    __m128i state1 = _mm_loadu_si128((const __m128i *)&state[4]); /* E F G H */
    tmp = _mm_shuffle_epi32(tmp, 0xB1);                           /* C D A B */
    state1 = _mm_shuffle_epi32(state1, 0x1B);                     /* H G F E */
    __m128i state0 = _mm_alignr_epi8(tmp, state1, 8);             /* A B E F */
    state1 = _mm_blend_epi16(state1, tmp, 0xF0);                  /* C D G H */
    for (size_t b = 0; b < n; b++) {
        const unsigned char *data = blocks + 64 * b;
        __m128i abef = state0, cdgh = state1;
        __m128i msg[4];
        for (int i = 0; i < 4; i++)
            msg[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * i)), swap);
        for (int group = 0; group < 16; group++) { /* rounds 4*group .. 4*group+3 */
            __m128i wk = _mm_add_epi32(msg[group & 3], _mm_loadu_si128((const __m128i *)&k[4 * group]));
            state1 = _mm_sha256rnds2_epu32(state1, state0, wk);
            if (group < 12) {
                /* W[4(group+4) .. +3] from the four groups before it; it replaces group's words. */
                __m128i w7 = _mm_alignr_epi8(msg[(group + 3) & 3], msg[(group + 2) & 3], 4);
                __m128i next = _mm_add_epi32(_mm_sha256msg1_epu32(msg[group & 3], msg[(group + 1) & 3]), w7);
                msg[group & 3] = _mm_sha256msg2_epu32(next, msg[(group + 3) & 3]);
            }
            state0 = _mm_sha256rnds2_epu32(state0, state1, _mm_shuffle_epi32(wk, 0x0E));
        }
        state0 = _mm_add_epi32(state0, abef);
        state1 = _mm_add_epi32(state1, cdgh);
    }
    tmp = _mm_shuffle_epi32(state0, 0x1B);       /* F E B A */
    state1 = _mm_shuffle_epi32(state1, 0xB1);    /* D C H G */
    state0 = _mm_blend_epi16(tmp, state1, 0xF0); /* D C B A */
    state1 = _mm_alignr_epi8(state1, tmp, 8);    /* H G F E */
    _mm_storeu_si128((__m128i *)&state[0], state0);
    _mm_storeu_si128((__m128i *)&state[4], state1);
}
#endif

int mcm_sha256_accelerated(void)
{
#ifdef HAVE_SHANI_PATH
    __builtin_cpu_init();
    return __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1") && __builtin_cpu_supports("ssse3");
#else
    return 0;
#endif
}

static void init_with(mcm_sha256 *ctx, void (*compress)(uint32_t[8], const unsigned char *, size_t))
{
    static const uint32_t initial[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(ctx->state, initial, sizeof initial);
    ctx->length = 0;
    ctx->used = 0;
    ctx->compress = compress;
}

void mcm_sha256_init(mcm_sha256 *ctx)
{
#ifdef HAVE_SHANI_PATH
    if (mcm_sha256_accelerated()) {
        init_with(ctx, compress_shani);
        return;
    }
#endif
    init_with(ctx, compress_portable);
}

void mcm_sha256_init_portable(mcm_sha256 *ctx)
{
    init_with(ctx, compress_portable);
}

void mcm_sha256_update(mcm_sha256 *ctx, const void *data, size_t size)
{
    const unsigned char *p = data;
    ctx->length += size;
    if (ctx->used > 0) {
        size_t take = 64 - ctx->used < size ? 64 - ctx->used : size;
        memcpy(ctx->block + ctx->used, p, take);
        ctx->used += take;
        p += take;
        size -= take;
        if (ctx->used < 64)
            return;
        ctx->compress(ctx->state, ctx->block, 1);
        ctx->used = 0;
    }
    if (size >= 64) {
        ctx->compress(ctx->state, p, size / 64);
        p += size / 64 * 64;
        size %= 64;
    }
    memcpy(ctx->block, p, size);
    ctx->used = size;
}

void mcm_sha256_final(mcm_sha256 *ctx, unsigned char digest[MCM_SHA256_SIZE])
{
    /* Padding (FIPS 180-4 5.1.1): a 1 bit, zeros, then the message length in bits, big endian. */
    uint64_t bits = ctx->length * 8;
    ctx->block[ctx->used++] = 0x80;
    if (ctx->used > 56) {
        memset(ctx->block + ctx->used, 0, 64 - ctx->used);
        ctx->compress(ctx->state, ctx->block, 1);
        ctx->used = 0;
    }
    memset(ctx->block + ctx->used, 0, 56 - ctx->used);
    for (int i = 0; i < 8; i++)
        ctx->block[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
    ctx->compress(ctx->state, ctx->block, 1);
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (unsigned char)(ctx->state[i] >> 24);
        digest[4 * i + 1] = (unsigned char)(ctx->state[i] >> 16);
        digest[4 * i + 2] = (unsigned char)(ctx->state[i] >> 8);
        digest[4 * i + 3] = (unsigned char)ctx->state[i];
    }
    memset(ctx, 0, sizeof *ctx);
}

void mcm_sha256_hex(const unsigned char digest[MCM_SHA256_SIZE], char hex[MCM_SHA256_HEX])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < MCM_SHA256_SIZE; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[2 * MCM_SHA256_SIZE] = '\0';
}

int mcm_sha256_file(const char *path, char hex[MCM_SHA256_HEX], uint64_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return mcm_error_set(MCM_EIO, "cannot open %s: %s", path, strerror(errno));
    mcm_sha256 ctx;
    mcm_sha256_init(&ctx);
    unsigned char buffer[65536];
    size_t n;
    uint64_t total = 0;
    while ((n = fread(buffer, 1, sizeof buffer, f)) > 0) {
        mcm_sha256_update(&ctx, buffer, n);
        total += n;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed)
        return mcm_error_set(MCM_EIO, "cannot read %s", path);
    unsigned char digest[MCM_SHA256_SIZE];
    mcm_sha256_final(&ctx, digest);
    mcm_sha256_hex(digest, hex);
    if (size != NULL)
        *size = total;
    return MCM_OK;
}
