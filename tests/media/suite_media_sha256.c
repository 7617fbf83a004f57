/*
 * tests/media/suite_media_sha256.c: SHA-256 (lib/media/sha256.c) against the FIPS 180-4 examples (the
 * NIST "Example Algorithms" values for SHA-256), split updates, and sha256sum on a real file;
 * every check runs with the portable compression function and with the default one (the
 * processor's SHA extensions where it has them), and the two agree on random data.
 */
#include <check.h>

#include "media/sha256.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The loop variable of every test: 0 portable, 1 default (accelerated where possible). */
static void init(mcm_sha256 *ctx, int variant)
{
    if (variant == 0)
        mcm_sha256_init_portable(ctx);
    else
        mcm_sha256_init(ctx);
}

#define hex_of(data, size, hex) hex_of_variant(data, size, hex, _i)

static void hex_of_variant(const void *data, size_t size, char hex[MCM_SHA256_HEX], int variant)
{
    mcm_sha256 ctx;
    unsigned char digest[MCM_SHA256_SIZE];
    init(&ctx, variant);
    mcm_sha256_update(&ctx, data, size);
    mcm_sha256_final(&ctx, digest);
    mcm_sha256_hex(digest, hex);
}

START_TEST(fips_one_block)
{
    char hex[MCM_SHA256_HEX];
    hex_of("abc", 3, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
END_TEST

START_TEST(fips_two_blocks)
{
    /* 448 bits: the padding needs a second block. */
    const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    char hex[MCM_SHA256_HEX];
    hex_of(msg, strlen(msg), hex);
    ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(empty_message)
{
    char hex[MCM_SHA256_HEX];
    hex_of("", 0, hex);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(million_a_in_odd_pieces)
{
    /* FIPS 180-4 long message: one million 'a', fed in pieces that straddle block borders. */
    static char chunk[2048]; /* larger than any step below */
    memset(chunk, 'a', sizeof chunk);
    mcm_sha256 ctx;
    init(&ctx, _i);
    size_t left = 1000000, step = 1;
    while (left > 0) {
        size_t n = step < left ? step : left;
        mcm_sha256_update(&ctx, chunk, n);
        left -= n;
        step = step % 997 + 63;
    }
    unsigned char digest[MCM_SHA256_SIZE];
    char hex[MCM_SHA256_HEX];
    mcm_sha256_final(&ctx, digest);
    mcm_sha256_hex(digest, hex);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

START_TEST(lengths_around_the_padding_border)
{
    /* 55, 56, 63, 64, 65 bytes: every padding case, checked against sha256sum. */
    char *dir = mcm_test_tempdir();
    size_t lengths[] = {55, 56, 63, 64, 65, 119, 120, 128};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        char path[4200], data[200], hex[MCM_SHA256_HEX], file_hex[MCM_SHA256_HEX];
        for (size_t k = 0; k < lengths[i]; k++)
            data[k] = (char)('A' + (k * 7 + i) % 26);
        ck_assert_int_lt(snprintf(path, sizeof path, "%s/m%zu", dir, i), (int)sizeof path);
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(data, 1, lengths[i], f), lengths[i]);
        fclose(f);
        hex_of(data, lengths[i], hex);
        uint64_t size = 0;
        ck_assert_int_eq(mcm_sha256_file(path, file_hex, &size), 0);
        ck_assert_uint_eq(size, lengths[i]);
        ck_assert_str_eq(hex, file_hex);
        char *expected = mcm_test_capture("sha256sum '%s' | cut -c1-64", path);
        ck_assert_ptr_nonnull(expected);
        expected[64] = '\0';
        ck_assert_str_eq(hex, expected);
        free(expected);
    }
    mcm_test_rmtree(dir);
    free(dir);
}
END_TEST

/* The two compression functions agree on 3 MB of random data fed in random pieces. */
START_TEST(both_functions_agree)
{
    size_t size = 3 * 1000 * 1000 + 17;
    unsigned char *data = malloc(size);
    ck_assert_ptr_nonnull(data);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < size; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        data[i] = (unsigned char)x;
    }
    char hex[2][MCM_SHA256_HEX];
    for (int variant = 0; variant < 2; variant++) {
        mcm_sha256 ctx;
        init(&ctx, variant);
        size_t at = 0;
        while (at < size) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            size_t n = x % 5000;
            if (n > size - at)
                n = size - at;
            mcm_sha256_update(&ctx, data + at, n);
            at += n;
        }
        unsigned char digest[MCM_SHA256_SIZE];
        mcm_sha256_final(&ctx, digest);
        mcm_sha256_hex(digest, hex[variant]);
    }
    ck_assert_str_eq(hex[0], hex[1]);
    free(data);
    printf("media_sha256: the default function %s the processor's SHA extensions\n",
           mcm_sha256_accelerated() ? "uses" : "does not use (none here)");
}
END_TEST

START_TEST(missing_file_is_an_io_error)
{
    char hex[MCM_SHA256_HEX];
    ck_assert_int_eq(mcm_sha256_file("/nonexistent/dcmmcm", hex, NULL), -5 /* MCM_EIO */);
}
END_TEST

Suite *mcm_suite_media_sha256(void)
{
    Suite *s = suite_create("media_sha256");
    TCase *tc = tcase_create("fips180_4");
    tcase_add_loop_test(tc, fips_one_block, 0, 2);
    tcase_add_loop_test(tc, fips_two_blocks, 0, 2);
    tcase_add_loop_test(tc, empty_message, 0, 2);
    tcase_add_loop_test(tc, million_a_in_odd_pieces, 0, 2);
    tcase_add_loop_test(tc, lengths_around_the_padding_border, 0, 2);
    tcase_add_test(tc, both_functions_agree);
    tcase_add_test(tc, missing_file_is_an_io_error);
    suite_add_tcase(s, tc);
    return s;
}
