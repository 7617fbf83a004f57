/*
 * tests/support/mediatest.c: the media-writer test bench (tests/support/mediatest.h).
 */
#include "mediatest.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mcm_mb_init(mcm_media_bench *b)
{
    memset(b, 0, sizeof *b);
    b->dir = mcm_test_tempdir();
    snprintf(b->store, sizeof b->store, "%s/store", b->dir);
    snprintf(b->out, sizeof b->out, "%s/out", b->dir);
    snprintf(b->staging, sizeof b->staging, "%s/staging", b->dir);
    ck_assert_int_eq(mcm_test_system("mkdir -p '%s'", b->store), 0);
    ck_assert_int_eq(mcm_uid_generate(b->job_uid), MCM_OK);
    ck_assert_int_eq(mcm_job_new(&b->job, b->job_uid), MCM_OK);
    ck_assert_int_eq(mcm_request_new(&b->request), MCM_OK);
    mcm_job_set_request(b->job, b->request);
    /* DCMTK's own log stays quiet (it would print DicomDirInterface's progress). */
    mcm_log_set_handler(NULL, NULL, MCM_LOG_ERROR);
    ck_assert_int_eq(mcm_media_options_init(&b->opts, MCM_MEDIA_OPTIONS_VERSION), MCM_OK);
    b->opts.output_dir = b->out;
    b->opts.staging_dir = b->staging;
}

void mcm_mb_free(mcm_media_bench *b)
{
    if (b->ctx_ready)
        mcm_media_context_destroy(&b->ctx);
    mcm_media_writer_free(b->writer);
    mcm_job_free(b->job);
    mcm_test_rmtree(b->dir);
    free(b->dir);
    memset(b, 0, sizeof *b);
}

size_t mcm_mb_add(mcm_media_bench *b, const mcm_test_instance *spec, const char *profile)
{
    ck_assert_uint_lt(b->count, MCM_MT_MAX);
    size_t i = b->count++;
    ck_assert_int_lt(snprintf(b->paths[i], sizeof b->paths[i], "%s/%03zu.dcm", b->store, i), (int)sizeof b->paths[i]);
    ck_assert_int_eq(mcm_test_write_dicom(b->paths[i], spec, b->uids[i]), 0);
    snprintf(b->classes[i], sizeof b->classes[i], "%s",
             spec != NULL && spec->sop_class_uid != NULL ? spec->sop_class_uid : MCM_TEST_CT_IMAGE);
    snprintf(b->syntaxes[i], sizeof b->syntaxes[i], "%s",
             spec != NULL && spec->transfer_syntax_uid != NULL ? spec->transfer_syntax_uid : MCM_TEST_EXPLICIT_LE);
    mcm_instance *in = &b->instances[i];
    in->sop_class_uid = b->classes[i];
    in->sop_instance_uid = b->uids[i];
    in->transfer_syntax_uid = b->syntaxes[i];
    in->path = b->paths[i];
    in->profile = NULL;
    if (profile != NULL) {
        snprintf(b->profiles[i], sizeof b->profiles[i], "%s", profile);
        in->profile = b->profiles[i];
    }
    FILE *f = fopen(b->paths[i], "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    in->size = (uint64_t)ftell(f);
    fclose(f);
    ck_assert_int_eq(mcm_request_add_reference(b->request, b->classes[i], b->uids[i], profile), MCM_OK);
    return i;
}

void mcm_mb_add_mix(mcm_media_bench *b, const char *profile)
{
    char study1[65], study2[65], study3[65], series[5][65];
    ck_assert_int_eq(mcm_uid_generate(study1), MCM_OK);
    ck_assert_int_eq(mcm_uid_generate(study2), MCM_OK);
    ck_assert_int_eq(mcm_uid_generate(study3), MCM_OK);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(mcm_uid_generate(series[i]), MCM_OK);
    /* Patient 1: a CT study (2 series, implicit VR in one) and an MR study; patient 2: SC + CT. */
    struct {
        const char *cls, *patient, *name, *study, *series, *ts;
        int number;
    } plan[] = {
        {MCM_TEST_CT_IMAGE, "PID0001", "Doe^Jane", study1, series[0], MCM_TEST_IMPLICIT_LE, 1},
        {MCM_TEST_CT_IMAGE, "PID0001", "Doe^Jane", study1, series[0], MCM_TEST_IMPLICIT_LE, 2},
        {MCM_TEST_CT_IMAGE, "PID0001", "Doe^Jane", study1, series[1], MCM_TEST_EXPLICIT_LE, 1},
        {MCM_TEST_MR_IMAGE, "PID0001", "Doe^Jane", study2, series[2], MCM_TEST_EXPLICIT_LE, 1},
        {MCM_TEST_MR_IMAGE, "PID0001", "Doe^Jane", study2, series[2], MCM_TEST_IMPLICIT_LE, 2},
        {MCM_TEST_MR_IMAGE, "PID0001", "Doe^Jane", study2, series[2], MCM_TEST_EXPLICIT_LE, 3},
        {MCM_TEST_SC_IMAGE, "PID0002", "Roe^Richard", study3, series[3], MCM_TEST_EXPLICIT_LE, 1},
        {MCM_TEST_SC_IMAGE, "PID0002", "Roe^Richard", study3, series[3], MCM_TEST_IMPLICIT_LE, 2},
        {MCM_TEST_CT_IMAGE, "PID0002", "Roe^Richard", study3, series[4], MCM_TEST_EXPLICIT_LE, 1},
        {MCM_TEST_CT_IMAGE, "PID0002", "Roe^Richard", study3, series[4], MCM_TEST_EXPLICIT_LE, 2},
    };
    for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++) {
        mcm_test_instance spec = {0};
        spec.sop_class_uid = plan[i].cls;
        spec.patient_id = plan[i].patient;
        spec.patient_name = plan[i].name;
        spec.study_instance_uid = plan[i].study;
        spec.series_instance_uid = plan[i].series;
        spec.transfer_syntax_uid = plan[i].ts;
        spec.instance_number = plan[i].number;
        mcm_mb_add(b, &spec, profile);
    }
}

int mcm_mb_run(mcm_media_bench *b)
{
    if (b->writer == NULL)
        ck_assert_msg(mcm_media_writer_new(&b->writer, &b->opts) == MCM_OK, "writer: %s", mcm_last_error());
    if (b->ctx_ready)
        mcm_media_context_destroy(&b->ctx);
    ck_assert_int_eq(
        mcm_media_context_init(&b->ctx, b->job, b->instances, b->count, b->log, b->log_user, b->log_level), MCM_OK);
    b->ctx_ready = 1;
    b->rc = mcm_media_writer_write(b->job, b->instances, b->count, &b->ctx, b->writer);
    /* As the SCP's worker does: work stopped for a stop or Cancel is not a failure. */
    if (b->rc != MCM_ECANCELED)
        mcm_media_context_finish(&b->ctx, b->rc);
    return b->rc;
}

const char *mcm_mb_output(const mcm_media_bench *b, const char *name)
{
    static char path[4096];
    ck_assert_int_lt(snprintf(path, sizeof path, "%s/%s/%s", b->out, b->job_uid, name), (int)sizeof path);
    return path;
}

size_t mcm_mb_output_entries(const mcm_media_bench *b)
{
    /* Everything under <out> except the writer's staging area (which lives elsewhere here). */
    char *listing = mcm_test_capture("find '%s' -mindepth 1 | wc -l", b->out);
    ck_assert_ptr_nonnull(listing);
    size_t n = (size_t)strtoul(listing, NULL, 10);
    free(listing);
    return n;
}

const char *mcm_mb_extract(const char *scratch, const char *image)
{
    static char dest[4096];
    static int serial;
    ck_assert_int_lt(snprintf(dest, sizeof dest, "%s/extract%d", scratch, ++serial), (int)sizeof dest);
    ck_assert_int_eq(mcm_test_system("xorriso -osirrox on -indev '%s' -extract / '%s' >/dev/null 2>&1", image, dest),
                     0);
    /* xorriso keeps the image's read-only modes; make the tree removable. */
    ck_assert_int_eq(mcm_test_system("chmod -R u+w '%s'", dest), 0);
    return dest;
}

char *mcm_mb_list(const char *image, const char *tree)
{
    const char *read_fs = strcmp(tree, "rr") == 0 ? "any" : strcmp(tree, "joliet") == 0 ? "norock" : "ecma119";
    return mcm_test_capture("xorriso -read_fs %s -ecma119_map stripped -indev '%s' -find / -type f 2>/dev/null "
                            "| tr -d \"'\" | LC_ALL=C sort",
                            read_fs, image);
}

char *mcm_mb_dciodvfy_errors(const char *dicomdir)
{
    return mcm_test_capture("dciodvfy '%s' 2>&1 | grep '^Error' || true", dicomdir);
}

static int compare_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void mcm_mb_sort_lines(char *text)
{
    size_t n = 0, len = strlen(text);
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    if (len > 0 && text[len - 1] != '\n')
        n++;
    char **lines = calloc(n + 1, sizeof *lines);
    ck_assert_ptr_nonnull(lines);
    char *copy = strdup(text);
    ck_assert_ptr_nonnull(copy);
    size_t k = 0;
    for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
        lines[k++] = line;
    qsort(lines, k, sizeof *lines, compare_lines);
    text[0] = '\0';
    for (size_t i = 0; i < k; i++) {
        strcat(text, lines[i]);
        strcat(text, "\n");
    }
    free(lines);
    free(copy);
}

char *mcm_mb_request_uids(const mcm_media_bench *b)
{
    char *text = calloc(b->count + 1, 66);
    ck_assert_ptr_nonnull(text);
    for (size_t i = 0; i < b->count; i++) {
        strcat(text, b->uids[i]);
        strcat(text, "\n");
    }
    mcm_mb_sort_lines(text);
    return text;
}

/* The lines of list that name the file-set itself (DICOM/..., DICOMDIR, SHA256.TXT), or with
 * dicom_only just DICOM/... . */
static char *fileset_lines(const char *list, int dicom_only)
{
    char *out = calloc(1, strlen(list) + 1);
    ck_assert_ptr_nonnull(out);
    for (const char *p = list; *p != '\0';) {
        size_t n = strcspn(p, "\n");
        int take = strncmp(p, "/DICOM/", 7) == 0 || (!dicom_only && ((n == 9 && strncmp(p, "/DICOMDIR", 9) == 0) ||
                                                                     (n == 11 && strncmp(p, "/SHA256.TXT", 11) == 0)));
        if (take) {
            strncat(out, p, n);
            strcat(out, "\n");
        }
        p += n;
        if (*p == '\n')
            p++;
    }
    return out;
}

static void append(char **text, const char *more)
{
    size_t old = *text != NULL ? strlen(*text) : 0;
    char *grown = realloc(*text, old + strlen(more) + 1);
    ck_assert_ptr_nonnull(grown);
    strcpy(grown + old, more);
    *text = grown;
}

char *mcm_mb_check_image(const char *scratch, const char *image, const char *fileset_id, const char *fileset_uid,
                         char **uids)
{
    char *rr = mcm_mb_list(image, "rr"), *joliet = mcm_mb_list(image, "joliet"), *iso = mcm_mb_list(image, "iso");
    ck_assert_ptr_nonnull(rr);
    ck_assert_ptr_nonnull(joliet);
    ck_assert_ptr_nonnull(iso);
    ck_assert_msg(strstr(rr, "/DICOMDIR\n") != NULL && strstr(rr, "/SHA256.TXT\n") != NULL, "image lists %s", rr);
    /* The file-set's names are the same in all three trees (a viewer's may differ in ISO 9660). */
    char *fileset_rr = fileset_lines(rr, 0);
    char *fileset_joliet = fileset_lines(joliet, 0);
    char *fileset_iso = fileset_lines(iso, 0);
    ck_assert_str_eq(fileset_rr, fileset_joliet);
    ck_assert_str_eq(fileset_rr, fileset_iso);
    free(fileset_joliet);
    free(fileset_iso);

    char *volume_id =
        mcm_test_capture("xorriso -indev '%s' -pvd_info 2>/dev/null | sed -n 's/^Volume Id *: *//p'", image);
    ck_assert_ptr_nonnull(volume_id);
    volume_id[strcspn(volume_id, "\n")] = '\0';
    ck_assert_str_eq(volume_id, fileset_id);
    free(volume_id);

    char *root = strdup(mcm_mb_extract(scratch, image));
    ck_assert_ptr_nonnull(root);
    char dicomdir[4200];
    ck_assert_int_lt(snprintf(dicomdir, sizeof dicomdir, "%s/DICOMDIR", root), (int)sizeof dicomdir);
    char *errors = mcm_mb_dciodvfy_errors(dicomdir);
    ck_assert_ptr_nonnull(errors);
    ck_assert_msg(errors[0] == '\0', "dciodvfy %s: %s", dicomdir, errors);
    free(errors);
    ck_assert_int_eq(mcm_test_system("dcmdump -q '%s' >/dev/null", dicomdir), 0);
    char *id = mcm_test_capture("dcmdump -q +P 0004,1130 '%s' | sed 's/.*\\[\\(.*\\)\\].*/\\1/'", dicomdir);
    char *uid = mcm_test_capture("dcmdump -q -M +P 0002,0003 '%s' | sed 's/.*\\[\\(.*\\)\\].*/\\1/'", dicomdir);
    ck_assert_ptr_nonnull(id);
    ck_assert_ptr_nonnull(uid);
    id[strcspn(id, "\n")] = '\0';
    uid[strcspn(uid, "\n")] = '\0';
    ck_assert_str_eq(id, fileset_id);
    ck_assert_str_eq(uid, fileset_uid);
    free(id);
    free(uid);
    ck_assert_int_eq(mcm_test_system("cd '%s' && sha256sum --quiet --strict -c SHA256.TXT", root), 0);

    /* Every DICOM file is referenced by the DICOMDIR: the File IDs match the image's file list. */
    char *referenced = mcm_test_capture("dcmdump -q +P 0004,1500 '%s' | sed 's/.*\\[\\(.*\\)\\].*/\\1/' "
                                        "| tr '\\\\' / | sed 's|^|/|' | LC_ALL=C sort",
                                        dicomdir);
    char *listed = fileset_lines(rr, 1);
    ck_assert_ptr_nonnull(referenced);
    ck_assert_ptr_nonnull(listed);
    ck_assert_str_eq(referenced, listed);
    free(referenced);
    free(listed);
    free(fileset_rr);
    char *instance_uids = mcm_test_capture("dcmdump -q +P 0004,1511 '%s' | sed 's/.*\\[\\(.*\\)\\].*/\\1/'", dicomdir);
    ck_assert_ptr_nonnull(instance_uids);
    append(uids, instance_uids);
    free(instance_uids);
    free(rr);
    free(joliet);
    free(iso);
    return root;
}
