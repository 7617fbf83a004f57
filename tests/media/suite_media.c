/*
 * tests/media/suite_media.c: the default media writer (lib/media/) on real DICOM files: a file-set per
 * volume with a DICOMDIR that dciodvfy and dcmdump accept, ISO 9660 images whose three trees name
 * the same files, SHA256.TXT that sha256sum -c accepts, conversion for the profile, File-set IDs
 * and UIDs, splitting, copies, the viewer, stopping, and publishing.
 */
#include <check.h>

#include "mediatest.h"

#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void assert_done(mcm_media_bench *b)
{
    ck_assert_msg(b->rc == MCM_OK, "writer returned %d: %s", b->rc, mcm_last_error());
    ck_assert_msg(b->ctx.outcome == MCM_MEDIA_OUTCOME_DONE, "outcome %d %s: %s", b->ctx.outcome, b->ctx.term,
                  b->ctx.message);
    ck_assert_uint_eq(mcm_job_failed_count(b->ctx.results), 0);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Check every volume reported, and that together they hold exactly the request's instances. */
static void check_all_volumes(mcm_media_bench *b, unsigned expected_volumes)
{
    ck_assert_uint_eq(mcm_job_media_count(b->ctx.results), expected_volumes);
    char *uids = NULL;
    for (unsigned v = 0; v < expected_volumes; v++) {
        mcm_storage_media media;
        ck_assert_int_eq(mcm_job_media(b->ctx.results, v, &media), MCM_OK);
        char name[32];
        snprintf(name, sizeof name, "VOL%03u.iso", v + 1);
        char image[4200];
        snprintf(image, sizeof image, "%s", mcm_mb_output(b, name));
        ck_assert_msg(exists(image), "%s missing", image);
        char *root = mcm_mb_check_image(b->dir, image, media.fileset_id, media.fileset_uid, &uids);
        free(root);
        for (unsigned w = 0; w < v; w++) {
            mcm_storage_media other;
            ck_assert_int_eq(mcm_job_media(b->ctx.results, w, &other), MCM_OK);
            ck_assert_str_ne(other.fileset_uid, media.fileset_uid);
            ck_assert_str_ne(other.fileset_id, media.fileset_id);
        }
    }
    ck_assert_ptr_nonnull(uids);
    mcm_mb_sort_lines(uids);
    char *wanted = mcm_mb_request_uids(b);
    ck_assert_str_eq(uids, wanted);
    free(uids);
    free(wanted);
}

START_TEST(cd_mix_is_a_valid_fileset)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    mcm_mb_add_mix(&b, "STD-GEN-CD");
    mcm_mb_run(&b);
    assert_done(&b);
    ck_assert_uint_eq(mcm_job_pieces(b.ctx.results), 1);
    check_all_volumes(&b, 1);
    /* The documented layout, and nothing left behind. */
    ck_assert(exists(mcm_mb_output(&b, "JOB.json")));
    ck_assert(exists(mcm_mb_output(&b, "VOL001.json")));
    ck_assert(exists(mcm_mb_output(&b, "VOL001.png")));
    ck_assert(exists(mcm_mb_output(&b, "VOL001.pdf")));
    ck_assert_uint_eq(mcm_mb_output_entries(&b), 6); /* the job directory and its five files */
    char staged[4200];
    snprintf(staged, sizeof staged, "%s/%s", b.staging, b.job_uid);
    ck_assert(!exists(staged));
    /* Progress was reported per volume. */
    ck_assert_uint_eq(b.ctx.volume, 1);
    ck_assert_uint_eq(b.ctx.volumes, 1);
    mcm_mb_free(&b);
}
END_TEST

/* Implicit VR files are rewritten as explicit VR little endian for STD-GEN-CD; nothing else changes. */
START_TEST(implicit_vr_is_converted_losslessly)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    mcm_test_instance spec = {0};
    spec.transfer_syntax_uid = MCM_TEST_IMPLICIT_LE;
    mcm_mb_add(&b, &spec, "STD-GEN-CD");
    mcm_mb_run(&b);
    assert_done(&b);
    char image[4200];
    snprintf(image, sizeof image, "%s", mcm_mb_output(&b, "VOL001.iso"));
    const char *root = mcm_mb_extract(b.dir, image);
    char file[4400];
    snprintf(file, sizeof file, "%s/DICOM/PAT00001/STU00001/SER00001/IM000001", root);
    char *ts = mcm_test_capture("dcmdump -q -Un -M +P 0002,0010 '%s'", file);
    ck_assert_ptr_nonnull(ts);
    ck_assert_msg(strstr(ts, "[1.2.840.10008.1.2.1]") != NULL, "transfer syntax: %s", ts);
    free(ts);
    /* The data set is the same: dcmdump of both (without the File Meta Information, where the
     * transfer syntax is) differs in nothing. */
    ck_assert_int_eq(mcm_test_system("dcmdump -q '%s' | grep -v '^(0002,' | sed 's/ *#.*//' > '%s/a.txt' && "
                                     "dcmdump -q '%s' | grep -v '^(0002,' | sed 's/ *#.*//' > '%s/b.txt' && "
                                     "cmp -s '%s/a.txt' '%s/b.txt' && test -s '%s/a.txt'",
                                     b.paths[0], b.dir, file, b.dir, b.dir, b.dir, b.dir),
                     0);
    mcm_mb_free(&b);
}
END_TEST

/* Converting an instance is routine, not a problem: nothing is logged at warning level or above. */
static atomic_int warnings;

static void count_warnings(mcm_log_level level, const char *message, void *user)
{
    (void)user;
    if (level <= MCM_LOG_WARNING) {
        atomic_fetch_add(&warnings, 1);
        fprintf(stderr, "unexpected: %s\n", message);
    }
}

/* Neither the writer (through its context) nor DCMTK (through the process-wide handler) warns
 * about a conversion the profile asks for. */
START_TEST(conversion_logs_no_warning)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    mcm_mb_add_mix(&b, "STD-GEN-CD"); /* four of its instances are implicit VR */
    atomic_store(&warnings, 0);
    b.log = count_warnings;
    b.log_level = MCM_LOG_WARNING;
    ck_assert_int_eq(mcm_log_set_handler(count_warnings, NULL, MCM_LOG_WARNING), MCM_OK);
    mcm_mb_run(&b);
    mcm_log_set_handler(NULL, NULL, MCM_LOG_ERROR);
    assert_done(&b);
    ck_assert_int_eq(atomic_load(&warnings), 0);
    mcm_mb_free(&b);
}
END_TEST

/* Lines received by one log callback, in order. */
typedef struct log_lines {
    pthread_mutex_t lock;
    char text[65536];
    size_t count;
    size_t dcmtk; /* lines that begin with "dcmtk: " */
} log_lines;

static void collect(mcm_log_level level, const char *message, void *user)
{
    (void)level;
    log_lines *l = user;
    pthread_mutex_lock(&l->lock);
    size_t used = strlen(l->text);
    snprintf(l->text + used, sizeof l->text - used, "%s\n", message);
    l->count++;
    l->dcmtk += strncmp(message, "dcmtk: ", 7) == 0;
    pthread_mutex_unlock(&l->lock);
}

static size_t occurrences(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* One logging channel: every line of the writer reaches the log callback of its context (the
 * SCP's), at the context's level, and none reaches the process-wide handler, which gets DCMTK's
 * own lines only. */
START_TEST(writer_logs_through_its_context_only)
{
    static log_lines context_lines = {PTHREAD_MUTEX_INITIALIZER, "", 0, 0};
    static log_lines process_lines = {PTHREAD_MUTEX_INITIALIZER, "", 0, 0};
    mcm_media_bench b;
    mcm_mb_init(&b);
    mcm_mb_add_mix(&b, "STD-GEN-CD"); /* four of its instances are implicit VR */
    b.log = collect;
    b.log_user = &context_lines;
    b.log_level = MCM_LOG_DEBUG;
    ck_assert_int_eq(mcm_log_set_handler(collect, &process_lines, MCM_LOG_TRACE), MCM_OK);
    mcm_mb_run(&b);
    mcm_log_set_handler(NULL, NULL, MCM_LOG_ERROR);
    assert_done(&b);

    ck_assert_uint_eq(occurrences(context_lines.text, "to explicit VR little endian"), 4);
    ck_assert_uint_eq(occurrences(context_lines.text, "instances checked in"), 1);
    ck_assert_uint_eq(occurrences(context_lines.text, "volume 1: staged with its DICOMDIR in"), 1);
    ck_assert_uint_eq(occurrences(context_lines.text, "volume 1 of 1"), 1); /* mcm_media_progress's */
    ck_assert_uint_eq(context_lines.dcmtk, 0);
    ck_assert_msg(process_lines.dcmtk == process_lines.count, "the process-wide handler got: %s", process_lines.text);
    ck_assert_uint_eq(occurrences(process_lines.text, b.job_uid), 0);
    mcm_mb_free(&b);

    /* At INFO the context's callback gets none of the writer's debug lines. */
    memset(context_lines.text, 0, sizeof context_lines.text);
    context_lines.count = 0;
    mcm_mb_init(&b);
    mcm_mb_add_mix(&b, "STD-GEN-CD");
    b.log = collect;
    b.log_user = &context_lines;
    b.log_level = MCM_LOG_INFO;
    mcm_mb_run(&b);
    assert_done(&b);
    ck_assert_uint_eq(occurrences(context_lines.text, "to explicit VR little endian"), 0);
    ck_assert_uint_eq(occurrences(context_lines.text, "volume 1 of 1"), 1);
    mcm_mb_free(&b);
}
END_TEST

/* The SCU's File-set ID is made DICOMDIR-safe (digest A8) and reported as used; its UID is used. */
START_TEST(scu_fileset_id_and_uid_are_used)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    mcm_mb_add_mix(&b, NULL);
    ck_assert_int_eq(mcm_request_set_attribute(b.request, MCM_TAG_STORAGE_MEDIA_FILESET_ID, "Study #42 a"), MCM_OK);
    ck_assert_int_eq(
        mcm_request_set_attribute(b.request, MCM_TAG_STORAGE_MEDIA_FILESET_UID, "1.2.826.0.1.3680043.2.99.7"), MCM_OK);
    mcm_mb_run(&b);
    assert_done(&b);
    mcm_storage_media media;
    ck_assert_int_eq(mcm_job_media(b.ctx.results, 0, &media), MCM_OK);
    ck_assert_str_eq(media.fileset_id, "STUDY__42_A");
    ck_assert_str_eq(media.fileset_uid, "1.2.826.0.1.3680043.2.99.7");
    check_all_volumes(&b, 1);
    mcm_mb_free(&b);
}
END_TEST

/* A file-set larger than the medium is split by studies, then series, then instances; each volume
 * is a complete file-set with its own DICOMDIR, ID and UID; pieces = volumes. */
START_TEST(splitting_makes_valid_volumes)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    char study1[65], study2[65], series[3][65];
    mcm_uid_generate(study1);
    mcm_uid_generate(study2);
    for (int i = 0; i < 3; i++)
        mcm_uid_generate(series[i]);
    /* Study 1: two series of three 400 KB instances; study 2: two instances. */
    for (int i = 0; i < 8; i++) {
        mcm_test_instance spec = {0};
        spec.study_instance_uid = i < 6 ? study1 : study2;
        spec.series_instance_uid = series[i < 3 ? 0 : i < 6 ? 1 : 2];
        spec.patient_id = i < 6 ? "PID0001" : "PID0002";
        spec.instance_number = i + 1;
        spec.extra_pixel_bytes = 400 * 1024;
        spec.transfer_syntax_uid = i % 2 ? MCM_TEST_IMPLICIT_LE : MCM_TEST_EXPLICIT_LE;
        mcm_mb_add(&b, &spec, "STD-GEN-CD");
    }
    ck_assert_int_eq(mcm_request_set_attribute(b.request, MCM_TAG_ALLOW_MEDIA_SPLITTING, "YES"), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute(b.request, MCM_TAG_STORAGE_MEDIA_FILESET_ID, "SPLITJOB"), MCM_OK);
    /* 1 MiB of overhead and room for three instances per volume. */
    b.opts.capacity_bytes = 1024 * 1024 + 3 * 420 * 1024 + 64 * 1024;
    mcm_mb_run(&b);
    assert_done(&b);
    /* Study 1 does not fit one volume: its two series go on volumes 1 and 2; study 2 fits whole on
     * volume 3. */
    unsigned volumes = (unsigned)mcm_job_media_count(b.ctx.results);
    ck_assert_uint_eq(volumes, 3);
    ck_assert_uint_eq(mcm_job_pieces(b.ctx.results), volumes);
    ck_assert_uint_eq(b.ctx.volumes, volumes);
    for (unsigned v = 0; v < volumes; v++) {
        mcm_storage_media media;
        ck_assert_int_eq(mcm_job_media(b.ctx.results, v, &media), MCM_OK);
        char expected[32];
        snprintf(expected, sizeof expected, "SPLITJOB_%03u", v + 1);
        ck_assert_str_eq(media.fileset_id, expected);
        char name[32];
        snprintf(name, sizeof name, "VOL%03u.iso", v + 1);
        struct stat st;
        ck_assert_int_eq(stat(mcm_mb_output(&b, name), &st), 0);
        ck_assert_uint_le((uint64_t)st.st_size, b.opts.capacity_bytes);
        char image[4200], *uids = NULL, wanted[4 * 66] = "";
        snprintf(image, sizeof image, "%s", mcm_mb_output(&b, name));
        free(mcm_mb_check_image(b.dir, image, media.fileset_id, media.fileset_uid, &uids));
        for (size_t i = 0; i < b.count; i++)
            if ((v == 0 && i < 3) || (v == 1 && i >= 3 && i < 6) || (v == 2 && i >= 6)) {
                strcat(wanted, b.uids[i]);
                strcat(wanted, "\n");
            }
        mcm_mb_sort_lines(wanted);
        mcm_mb_sort_lines(uids);
        ck_assert_str_eq(uids, wanted);
        free(uids);
    }
    check_all_volumes(&b, volumes);
    mcm_mb_free(&b);
}
END_TEST

/* Number of Copies: pieces = copies x volumes; one Referenced Storage Media item per volume;
 * copies share ID and UID (they are the same image); hard links by default, files on request. */
static void copies_with_mode(mcm_media_copy_mode mode)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    mcm_mb_add_mix(&b, NULL);
    ck_assert_int_eq(mcm_request_set_copies(b.request, 3), MCM_OK);
    b.opts.copy_mode = mode;
    mcm_mb_run(&b);
    assert_done(&b);
    ck_assert_uint_eq(mcm_job_pieces(b.ctx.results), 3);
    ck_assert_uint_eq(mcm_job_media_count(b.ctx.results), 1);
    struct stat first, second, third;
    char path[4200];
    snprintf(path, sizeof path, "%s", mcm_mb_output(&b, "VOL001.iso"));
    ck_assert_int_eq(stat(path, &first), 0);
    ck_assert_int_eq(stat(mcm_mb_output(&b, "VOL001_C02.iso"), &second), 0);
    ck_assert_int_eq(stat(mcm_mb_output(&b, "VOL001_C03.iso"), &third), 0);
    if (mode == MCM_MEDIA_COPY_LINK) {
        ck_assert_uint_eq(first.st_ino, second.st_ino);
        ck_assert_uint_eq(first.st_ino, third.st_ino);
        ck_assert_uint_eq(first.st_nlink, 3);
    } else {
        ck_assert_uint_ne(first.st_ino, second.st_ino);
        ck_assert_int_eq(mcm_test_system("cmp -s '%s' '%s'", path, mcm_mb_output(&b, "VOL001_C03.iso")), 0);
    }
    char *json = mcm_test_capture("cat '%s'", mcm_mb_output(&b, "JOB.json"));
    ck_assert_ptr_nonnull(json);
    ck_assert_ptr_nonnull(strstr(json, mode == MCM_MEDIA_COPY_LINK ? "\"copies_made_as\": \"hard links\""
                                                                   : "\"copies_made_as\": \"files\""));
    ck_assert_ptr_nonnull(strstr(json, "\"pieces\": 3"));
    free(json);
    check_all_volumes(&b, 1);
    mcm_mb_free(&b);
}

START_TEST(copies_are_hard_links)
{
    copies_with_mode(MCM_MEDIA_COPY_LINK);
}
END_TEST

START_TEST(copies_as_files)
{
    copies_with_mode(MCM_MEDIA_COPY_FILE);
}
END_TEST

/* Copies of a split request: one item per volume, pieces = copies x volumes. */
START_TEST(copies_of_split_volumes)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    for (int i = 0; i < 4; i++) {
        mcm_test_instance spec = {0};
        spec.extra_pixel_bytes = 500 * 1024;
        spec.instance_number = i + 1;
        mcm_mb_add(&b, &spec, NULL);
    }
    ck_assert_int_eq(mcm_request_set_attribute(b.request, MCM_TAG_ALLOW_MEDIA_SPLITTING, "YES"), MCM_OK);
    ck_assert_int_eq(mcm_request_set_copies(b.request, 2), MCM_OK);
    b.opts.capacity_bytes = 1024 * 1024 + 2 * 520 * 1024 + 64 * 1024;
    mcm_mb_run(&b);
    assert_done(&b);
    ck_assert_uint_eq(mcm_job_media_count(b.ctx.results), 2);
    ck_assert_uint_eq(mcm_job_pieces(b.ctx.results), 4);
    ck_assert(exists(mcm_mb_output(&b, "VOL002_C02.iso")));
    check_all_volumes(&b, 2);
    mcm_mb_free(&b);
}
END_TEST

/* Include Display Application YES copies the configured viewer to every volume; NO leaves it off. */
static void viewer_case(const char *flag, int expected)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    char viewer[4200];
    snprintf(viewer, sizeof viewer, "%s/viewer", b.dir);
    ck_assert_int_eq(mcm_test_system("mkdir -p '%s/bin' && echo run > '%s/AUTORUN.INF' && "
                                     "head -c 5000 /dev/urandom > '%s/bin/Viewer Program.exe'",
                                     viewer, viewer, viewer),
                     0);
    b.opts.viewer_dir = viewer;
    mcm_mb_add_mix(&b, NULL);
    ck_assert_int_eq(mcm_request_set_attribute(b.request, MCM_TAG_INCLUDE_DISPLAY_APPLICATION, flag), MCM_OK);
    mcm_mb_run(&b);
    assert_done(&b);
    check_all_volumes(&b, 1);
    char image[4200];
    snprintf(image, sizeof image, "%s", mcm_mb_output(&b, "VOL001.iso"));
    char *rr = mcm_mb_list(image, "rr");
    ck_assert_ptr_nonnull(rr);
    ck_assert_int_eq(strstr(rr, "/AUTORUN.INF\n") != NULL, expected);
    ck_assert_int_eq(strstr(rr, "/bin/Viewer Program.exe\n") != NULL, expected);
    free(rr);
    mcm_mb_free(&b);
}

START_TEST(viewer_is_copied_when_asked)
{
    viewer_case("YES", 1);
}
END_TEST

START_TEST(viewer_is_left_off_with_no)
{
    viewer_case("NO", 0);
}
END_TEST

/* Every profile the issue names produces a valid file-set; compressed input that the profile
 * allows is kept, and what it does not allow is decoded losslessly. */
static void profile_case(const char *profile, const char *compress, const char *expected_ts)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    mcm_test_instance spec = {0};
    spec.transfer_syntax_uid = MCM_TEST_IMPLICIT_LE;
    size_t i = mcm_mb_add(&b, &spec, profile);
    if (compress != NULL) {
        ck_assert_int_eq(mcm_test_system("%s '%s' '%s.c' && mv '%s.c' '%s'", compress, b.paths[i], b.paths[i],
                                         b.paths[i], b.paths[i]),
                         0);
    }
    mcm_mb_add_mix(&b, profile);
    if (strstr(profile, "USB") != NULL)
        b.opts.usb_capacity_bytes = 64 * 1024 * 1024;
    mcm_mb_run(&b);
    assert_done(&b);
    check_all_volumes(&b, 1);
    char image[4200];
    snprintf(image, sizeof image, "%s", mcm_mb_output(&b, "VOL001.iso"));
    const char *root = mcm_mb_extract(b.dir, image);
    char *ts = mcm_test_capture("dcmdump -q -Un -M +P 0002,0010 '%s/DICOM/PAT00001/STU00001/SER00001/IM000001'", root);
    ck_assert_ptr_nonnull(ts);
    ck_assert_msg(strstr(ts, expected_ts) != NULL, "%s: transfer syntax %s, expected %s", profile, ts, expected_ts);
    free(ts);
    mcm_mb_free(&b);
}

START_TEST(profile_dvd_jpeg_keeps_jpeg_lossless)
{
    profile_case("STD-GEN-DVD-JPEG", "dcmcjpeg +e1", "1.2.840.10008.1.2.4.70");
}
END_TEST

START_TEST(profile_cd_decodes_jpeg_lossless)
{
    profile_case("STD-GEN-CD", "dcmcjpeg +e1", "1.2.840.10008.1.2.1");
}
END_TEST

START_TEST(profile_dvd_j2k_decodes_jpeg)
{
    profile_case("STD-GEN-DVD-J2K", "dcmcjpeg +e1", "1.2.840.10008.1.2.1");
}
END_TEST

START_TEST(profile_bd_decodes_rle)
{
    profile_case("STD-GEN-BD", "dcmcrle", "1.2.840.10008.1.2.1");
}
END_TEST

START_TEST(profile_usb_jpeg)
{
    profile_case("STD-GEN-USB-JPEG", NULL, "1.2.840.10008.1.2.1");
}
END_TEST

START_TEST(profile_usb_j2k_decodes_jpeg_ls)
{
    profile_case("STD-GEN-USB-J2K", "dcmcjpls", "1.2.840.10008.1.2.1");
}
END_TEST

/* Profiles of one medium may share a request (PS3.4 S.3.2.1.1.2): DVD-JPEG with DVD-J2K. */
START_TEST(profiles_of_one_medium_mix)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    mcm_mb_add_mix(&b, "STD-GEN-DVD-JPEG");
    for (size_t i = 0; i < b.count; i += 2) {
        snprintf(b.profiles[i], sizeof b.profiles[i], "STD-GEN-DVD-J2K");
        b.instances[i].profile = b.profiles[i];
    }
    mcm_mb_run(&b);
    assert_done(&b);
    check_all_volumes(&b, 1);
    mcm_mb_free(&b);
}
END_TEST

/* Without a profile the writer's default applies (digest A17). */
START_TEST(default_profile_applies)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    b.opts.default_profile = "STD-GEN-DVD-JPEG";
    mcm_mb_add_mix(&b, NULL);
    mcm_mb_run(&b);
    assert_done(&b);
    char *json = mcm_test_capture("cat '%s'", mcm_mb_output(&b, "JOB.json"));
    ck_assert_ptr_nonnull(strstr(json, "\"medium\": \"DVD\""));
    ck_assert_ptr_nonnull(strstr(json, "\"profile\": \"STD-GEN-DVD-JPEG\""));
    free(json);
    mcm_mb_free(&b);
}
END_TEST

/* A stop (SCP shutdown or Cancel) while writing leaves nothing behind and returns MCM_ECANCELED. */
static int stop_after_first_image(const char *image, unsigned volume, unsigned volumes, void *user)
{
    (void)image;
    (void)volume;
    (void)volumes;
    atomic_store(&((mcm_media_context *)user)->cancel_gate, MCM_CANCEL_TAKEN);
    return 0;
}

START_TEST(stop_leaves_nothing)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    mcm_mb_add_mix(&b, NULL);
    b.opts.image_written = stop_after_first_image;
    b.opts.image_written_user = &b.ctx;
    mcm_mb_run(&b);
    ck_assert_int_eq(b.rc, MCM_ECANCELED);
    ck_assert_int_eq(b.ctx.outcome, MCM_MEDIA_OUTCOME_DONE); /* no failure reported: the worker decides */
    ck_assert_uint_eq(mcm_job_media_count(b.ctx.results), 0);
    ck_assert_uint_eq(mcm_mb_output_entries(&b), 0);
    char staged[4200];
    snprintf(staged, sizeof staged, "%s/%s", b.staging, b.job_uid);
    ck_assert(!exists(staged));
    mcm_mb_free(&b);
}
END_TEST

/* A job written again (an SCP restarted after publishing, before recording DONE) replaces its
 * output whole. */
START_TEST(rewriting_a_job_replaces_its_output)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    mcm_mb_add_mix(&b, NULL);
    mcm_mb_run(&b);
    assert_done(&b);
    ck_assert_int_eq(mcm_test_system("touch '%s'", mcm_mb_output(&b, "STALE")), 0);
    mcm_mb_run(&b);
    assert_done(&b);
    ck_assert(!exists(mcm_mb_output(&b, "STALE")));
    ck_assert_uint_eq(mcm_mb_output_entries(&b), 6);
    check_all_volumes(&b, 1);
    mcm_mb_free(&b);
}
END_TEST

START_TEST(keep_staging_keeps_the_tree)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    mcm_mb_add_mix(&b, NULL);
    b.opts.keep_staging = 1;
    mcm_mb_run(&b);
    assert_done(&b);
    char dicomdir[4200];
    snprintf(dicomdir, sizeof dicomdir, "%s/%s/VOL001/DICOMDIR", b.staging, b.job_uid);
    ck_assert(exists(dicomdir));
    mcm_mb_free(&b);
}
END_TEST

/* One writer, two jobs at once on two threads (an SCP with two media workers): both complete, each
 * with its own valid output. */
static void *run_one(void *arg)
{
    mcm_media_bench *b = arg;
    b->rc = mcm_media_writer_write(b->job, b->instances, b->count, &b->ctx, b->writer);
    return NULL;
}

START_TEST(one_writer_two_jobs_at_once)
{
    mcm_media_bench b[2];
    mcm_mb_init(&b[0]);
    mcm_mb_add_mix(&b[0], NULL);
    ck_assert_int_eq(mcm_media_writer_new(&b[0].writer, &b[0].opts), MCM_OK);
    mcm_mb_init(&b[1]);
    mcm_mb_add_mix(&b[1], "STD-GEN-DVD-JPEG");
    ck_assert_int_eq(mcm_request_set_copies(b[1].request, 2), MCM_OK);
    pthread_t threads[2];
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(
            mcm_media_context_init(&b[i].ctx, b[i].job, b[i].instances, b[i].count, NULL, NULL, MCM_LOG_ERROR), MCM_OK);
        b[i].ctx_ready = 1;
        /* Both jobs through the first bench's writer: its output and staging directories. */
        b[i].writer = b[0].writer;
    }
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, run_one, &b[i]), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        mcm_media_context_finish(&b[i].ctx, b[i].rc);
        assert_done(&b[i]);
        ck_assert_uint_eq(mcm_job_pieces(b[i].ctx.results), (unsigned)(i + 1));
        mcm_storage_media media;
        ck_assert_int_eq(mcm_job_media(b[i].ctx.results, 0, &media), MCM_OK);
        char image[4300], *uids = NULL;
        snprintf(image, sizeof image, "%s/%s/VOL001.iso", b[0].out, b[i].job_uid);
        free(mcm_mb_check_image(b[i].dir, image, media.fileset_id, media.fileset_uid, &uids));
        mcm_mb_sort_lines(uids);
        char *wanted = mcm_mb_request_uids(&b[i]);
        ck_assert_str_eq(uids, wanted);
        free(uids);
        free(wanted);
    }
    b[1].writer = NULL; /* freed once, by the first bench */
    mcm_mb_free(&b[1]);
    mcm_mb_free(&b[0]);
}
END_TEST

/* Staging on another file system than the store: hard links cannot be made, the instances are
 * copied instead (when /dev/shm is such a file system here; otherwise there is nothing to test). */
START_TEST(staging_on_another_file_system)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    struct stat store, shm;
    ck_assert_int_eq(stat(b.store, &store), 0);
    if (stat("/dev/shm", &shm) != 0 || shm.st_dev == store.st_dev || access("/dev/shm", W_OK) != 0) {
        printf("media: /dev/shm is not another writable file system here; copy fallback not exercised\n");
        mcm_mb_free(&b);
        return;
    }
    char staging[4200];
    snprintf(staging, sizeof staging, "/dev/shm/dcmmcm-staging-%ld", (long)getpid());
    b.opts.staging_dir = staging;
    mcm_mb_add_mix(&b, NULL);
    ck_assert_int_eq(mcm_request_set_copies(b.request, 2), MCM_OK);
    mcm_mb_run(&b);
    assert_done(&b);
    check_all_volumes(&b, 1);
    /* The output is on the store's file system: copies are still links there. */
    struct stat first, second;
    char image[4300];
    snprintf(image, sizeof image, "%s", mcm_mb_output(&b, "VOL001.iso"));
    ck_assert_int_eq(stat(image, &first), 0);
    ck_assert_int_eq(stat(mcm_mb_output(&b, "VOL001_C02.iso"), &second), 0);
    ck_assert_uint_eq(first.st_ino, second.st_ino);
    mcm_test_rmtree(staging);
    mcm_mb_free(&b);
}
END_TEST

START_TEST(options_are_checked)
{
    mcm_media_writer *w = NULL;
    mcm_media_options o = MCM_MEDIA_OPTIONS_INIT;
    ck_assert_int_eq(mcm_media_writer_new(&w, &o), MCM_EINVAL); /* no output_dir */
    char *dir = mcm_test_tempdir();
    o.output_dir = dir;
    o.default_profile = "STD-GEN-FLOPPY";
    ck_assert_int_eq(mcm_media_writer_new(&w, &o), MCM_EINVAL);
    o.default_profile = NULL;
    o.version = 99;
    ck_assert_int_eq(mcm_media_writer_new(&w, &o), MCM_EINVAL);
    o.version = MCM_MEDIA_OPTIONS_VERSION;
    char viewer[4200];
    snprintf(viewer, sizeof viewer, "%s/viewer", dir);
    mcm_test_system("mkdir -p '%s/dicom'", viewer);
    o.viewer_dir = viewer; /* a viewer that brings a DICOM directory would clash with the file-set */
    ck_assert_int_eq(mcm_media_writer_new(&w, &o), MCM_EINVAL);
    o.viewer_dir = NULL;
    ck_assert_int_eq(mcm_media_writer_new(&w, &o), MCM_OK);
    mcm_media_writer_free(w);
    ck_assert(mcm_media_profile_supported("STD-GEN-CD"));
    ck_assert(mcm_media_profile_supported("STD-GEN-USB-J2K"));
    ck_assert(!mcm_media_profile_supported("STD-GEN-SEC-CD"));
    ck_assert(!mcm_media_profile_supported("STD-GEN-USB"));
    mcm_test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *mcm_suite_media(void)
{
    Suite *s = suite_create("media");
    TCase *tc = tcase_create("fileset");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, cd_mix_is_a_valid_fileset);
    tcase_add_test(tc, implicit_vr_is_converted_losslessly);
    tcase_add_test(tc, conversion_logs_no_warning);
    tcase_add_test(tc, writer_logs_through_its_context_only);
    tcase_add_test(tc, scu_fileset_id_and_uid_are_used);
    tcase_add_test(tc, default_profile_applies);
    tcase_add_test(tc, keep_staging_keeps_the_tree);
    tcase_add_test(tc, options_are_checked);
    suite_add_tcase(s, tc);
    tc = tcase_create("profiles");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, profile_dvd_jpeg_keeps_jpeg_lossless);
    tcase_add_test(tc, profile_cd_decodes_jpeg_lossless);
    tcase_add_test(tc, profile_dvd_j2k_decodes_jpeg);
    tcase_add_test(tc, profile_bd_decodes_rle);
    tcase_add_test(tc, profile_usb_jpeg);
    tcase_add_test(tc, profile_usb_j2k_decodes_jpeg_ls);
    tcase_add_test(tc, profiles_of_one_medium_mix);
    suite_add_tcase(s, tc);
    tc = tcase_create("volumes");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, splitting_makes_valid_volumes);
    tcase_add_test(tc, copies_are_hard_links);
    tcase_add_test(tc, copies_as_files);
    tcase_add_test(tc, copies_of_split_volumes);
    tcase_add_test(tc, viewer_is_copied_when_asked);
    tcase_add_test(tc, viewer_is_left_off_with_no);
    tcase_add_test(tc, stop_leaves_nothing);
    tcase_add_test(tc, rewriting_a_job_replaces_its_output);
    tcase_add_test(tc, one_writer_two_jobs_at_once);
    tcase_add_test(tc, staging_on_another_file_system);
    suite_add_tcase(s, tc);
    return s;
}
