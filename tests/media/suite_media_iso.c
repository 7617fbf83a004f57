/*
 * tests/media/suite_media_iso.c: ISO 9660 images through libisofs (lib/media/iso.c): an image written
 * from a tree reads back clean; every difference the read-back must see is seen (content, extra
 * or missing files, names that differ between the trees, a damaged or short image); capacity and
 * stop requests leave no image behind.
 */
#include <check.h>

#include "dcmmcm/common.h"
#include "media/iso.h"
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct iso_bench {
    char *dir;
    char root[4200], image[4200];
    mcm_iso_expect files[4];
    char hashes[4][MCM_SHA256_HEX];
    uint64_t size;
    char sha[MCM_SHA256_HEX];
} iso_bench;

static void hash_of(const char *path, char hex[MCM_SHA256_HEX])
{
    ck_assert_int_eq(mcm_sha256_file(path, hex, NULL), MCM_OK);
}

static void bench_init(iso_bench *b)
{
    memset(b, 0, sizeof *b);
    b->dir = mcm_test_tempdir();
    snprintf(b->root, sizeof b->root, "%s/root", b->dir);
    snprintf(b->image, sizeof b->image, "%s/image.iso", b->dir);
    ck_assert_int_eq(
        mcm_test_system("mkdir -p '%s/DICOM/PAT00001' && head -c 100000 /dev/urandom > '%s/DICOM/PAT00001/IM000001'"
                        " && echo dir > '%s/DICOMDIR' && head -c 3000 /dev/urandom > '%s/Viewer Program.exe'",
                        b->root, b->root, b->root, b->root),
        0);
    const char *names[] = {"DICOM/PAT00001/IM000001", "DICOMDIR", "Viewer Program.exe"};
    for (int i = 0; i < 3; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", b->root, names[i]);
        hash_of(path, b->hashes[i]);
        b->files[i].path = names[i];
        b->files[i].sha256 = b->hashes[i];
        b->files[i].in_every_tree = i < 2;
    }
    ck_assert_int_eq(mcm_iso_acquire(), MCM_OK);
    mcm_iso_write_params p = {.root = b->root, .image_path = b->image, .volume_id = "ISOTEST", .application_id = "T"};
    ck_assert_int_eq(mcm_iso_write(&p, &b->size, b->sha), MCM_OK);
}

static void bench_free(iso_bench *b)
{
    mcm_iso_release();
    mcm_test_rmtree(b->dir);
    free(b->dir);
}

START_TEST(image_reads_back_clean)
{
    iso_bench b;
    bench_init(&b);
    ck_assert_uint_eq(b.size % 2048, 0);
    char hex[MCM_SHA256_HEX];
    hash_of(b.image, hex);
    ck_assert_str_eq(hex, b.sha);
    ck_assert_int_eq(mcm_iso_verify(b.image, b.size, b.sha, b.files, 3, NULL, NULL), MCM_OK);
    bench_free(&b);
}
END_TEST

START_TEST(different_content_is_seen)
{
    iso_bench b;
    bench_init(&b);
    b.hashes[0][0] = b.hashes[0][0] == '0' ? '1' : '0';
    ck_assert_int_eq(mcm_iso_verify(b.image, b.size, b.sha, b.files, 3, NULL, NULL), MCM_EIO);
    ck_assert_ptr_nonnull(strstr(mcm_last_error(), "differs from the staged file"));
    bench_free(&b);
}
END_TEST

START_TEST(extra_file_is_seen)
{
    iso_bench b;
    bench_init(&b);
    ck_assert_int_eq(mcm_iso_verify(b.image, b.size, b.sha, b.files, 2, NULL, NULL), MCM_EIO);
    ck_assert_ptr_nonnull(strstr(mcm_last_error(), "holds 3 files"));
    bench_free(&b);
}
END_TEST

START_TEST(missing_file_is_seen)
{
    iso_bench b;
    bench_init(&b);
    b.files[3] = b.files[0];
    b.files[3].path = "DICOM/PAT00001/IM000002";
    /* Four expected, three there. */
    ck_assert_int_eq(mcm_iso_verify(b.image, b.size, b.sha, b.files, 4, NULL, NULL), MCM_EIO);
    bench_free(&b);
}
END_TEST

/* A name that ISO 9660 level 1 cannot hold differs between the trees: required to be the same, it
 * fails the read-back. */
START_TEST(names_differing_between_trees_are_seen)
{
    iso_bench b;
    bench_init(&b);
    b.files[2].in_every_tree = 1;
    ck_assert_int_eq(mcm_iso_verify(b.image, b.size, b.sha, b.files, 3, NULL, NULL), MCM_EIO);
    ck_assert_ptr_nonnull(strstr(mcm_last_error(), "missing from the"));
    bench_free(&b);
}
END_TEST

START_TEST(damaged_or_short_image_is_seen)
{
    iso_bench b;
    bench_init(&b);
    int fd = open(b.image, O_RDWR);
    ck_assert_int_ge(fd, 0);
    unsigned char byte = 0;
    ck_assert_int_eq(pread(fd, &byte, 1, (off_t)b.size / 2), 1);
    byte ^= 1;
    ck_assert_int_eq(pwrite(fd, &byte, 1, (off_t)b.size / 2), 1);
    ck_assert_int_eq(mcm_iso_verify(b.image, b.size, b.sha, b.files, 3, NULL, NULL), MCM_EIO);
    ck_assert_int_eq(ftruncate(fd, (off_t)b.size - 2048), 0);
    close(fd);
    ck_assert_int_eq(mcm_iso_verify(b.image, b.size, b.sha, b.files, 3, NULL, NULL), MCM_EIO);
    ck_assert_ptr_nonnull(strstr(mcm_last_error(), "bytes"));
    bench_free(&b);
}
END_TEST

static int stop_now(void *user)
{
    (void)user;
    return 1;
}

START_TEST(capacity_and_stop_leave_no_image)
{
    iso_bench b;
    bench_init(&b);
    char other[4300];
    snprintf(other, sizeof other, "%s/other.iso", b.dir);
    uint64_t size;
    char sha[MCM_SHA256_HEX];
    mcm_iso_write_params p = {
        .root = b.root, .image_path = other, .volume_id = "ISOTEST", .application_id = "T", .capacity = b.size - 2048};
    ck_assert_int_eq(mcm_iso_write(&p, &size, sha), MCM_EBUSY);
    ck_assert_int_ne(access(other, F_OK), 0);
    p.capacity = 0;
    p.stop = stop_now;
    ck_assert_int_eq(mcm_iso_write(&p, &size, sha), MCM_ECANCELED);
    ck_assert_int_ne(access(other, F_OK), 0);
    ck_assert_int_eq(mcm_iso_verify(b.image, b.size, b.sha, b.files, 3, stop_now, NULL), MCM_ECANCELED);
    bench_free(&b);
}
END_TEST

/* A figure, not an assertion: image writing (libisofs, SHA-256 of the stream, fsync) and the
 * read-back against dd writing the same bytes with fsync, in the same run. */
START_TEST(throughput_against_dd)
{
    char *dir = mcm_test_tempdir();
    int files = mcm_test_under_valgrind() ? 2 : 32;
    ck_assert_int_eq(mcm_test_system("mkdir -p '%s/root/DICOM' && for i in $(seq 1 %d); do "
                                     "head -c 2097152 /dev/urandom > '%s/root/DICOM/F'$i; done",
                                     dir, files, dir),
                     0);
    char root[4200], image[4200];
    snprintf(root, sizeof root, "%s/root", dir);
    snprintf(image, sizeof image, "%s/image.iso", dir);
    ck_assert_int_eq(mcm_iso_acquire(), MCM_OK);
    mcm_iso_write_params p = {.root = root, .image_path = image, .volume_id = "BENCH", .application_id = "T"};
    uint64_t size;
    char sha[MCM_SHA256_HEX];
    double t0 = mcm_test_now_ms();
    ck_assert_int_eq(mcm_iso_write(&p, &size, sha), MCM_OK);
    double t1 = mcm_test_now_ms();
    ck_assert_int_eq(mcm_iso_verify(image, size, sha, NULL, 0, NULL, NULL), MCM_EIO); /* no list: hash, then count */
    double t2 = mcm_test_now_ms();
    ck_assert_int_eq(mcm_test_system("cat '%s'/DICOM/* | dd of='%s/dd.out' bs=1M conv=fsync 2>/dev/null", root, dir),
                     0);
    double t3 = mcm_test_now_ms();
    double mb = (double)size / 1e6;
    printf("media_iso: %.0f MB image: written at %.0f MB/s (SHA-256 %s), image hash read back at %.0f MB/s; "
           "dd conv=fsync of the same files %.0f MB/s; writing takes %.2f x dd's time\n",
           mb, mb / ((t1 - t0) / 1000), mcm_sha256_accelerated() ? "with SHA extensions" : "portable",
           mb / ((t2 - t1) / 1000), mb / ((t3 - t2) / 1000), (t1 - t0) / (t3 - t2));
    mcm_iso_release();
    mcm_test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *mcm_suite_media_iso(void)
{
    Suite *s = suite_create("media_iso");
    TCase *tc = tcase_create("readback");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, image_reads_back_clean);
    tcase_add_test(tc, different_content_is_seen);
    tcase_add_test(tc, extra_file_is_seen);
    tcase_add_test(tc, missing_file_is_seen);
    tcase_add_test(tc, names_differing_between_trees_are_seen);
    tcase_add_test(tc, damaged_or_short_image_is_seen);
    tcase_add_test(tc, capacity_and_stop_leave_no_image);
    suite_add_tcase(s, tc);
    tc = tcase_create("figures");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, throughput_against_dd);
    suite_add_tcase(s, tc);
    return s;
}
