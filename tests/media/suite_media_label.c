/*
 * tests/media/suite_media_label.c: labels of the default media writer: the JSON description of each
 * volume (fields from the request and from the instances, in UTF-8), the PNG (decoded with cairo:
 * its size follows the style and resolution) and PDF renderings, every Barcode Symbology term
 * (and the documented extras) drawn, and an unknown symbology accepted without a barcode.
 */
#include <check.h>

#include "media/label.h"
#include "mediatest.h"

#include <cairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *read_text(const char *path)
{
    char *text = mcm_test_capture("cat '%s'", path);
    ck_assert_ptr_nonnull(text);
    return text;
}

/* Dark pixels of a PNG (cairo decodes it); *width and *height receive its size. */
static long dark_pixels(const char *png, int *width, int *height)
{
    cairo_surface_t *s = cairo_image_surface_create_from_png(png);
    ck_assert_int_eq(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
    *width = cairo_image_surface_get_width(s);
    *height = cairo_image_surface_get_height(s);
    cairo_surface_flush(s);
    const unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    long dark = 0;
    for (int y = 0; y < *height; y++)
        for (int x = 0; x < *width; x++) {
            uint32_t px = *(const uint32_t *)(data + (size_t)y * stride + 4 * (size_t)x);
            unsigned r = (px >> 16) & 0xFF, g = (px >> 8) & 0xFF, b = px & 0xFF;
            dark += r + g + b < 3 * 64;
        }
    cairo_surface_destroy(s);
    return dark;
}

START_TEST(description_and_renderings_of_a_job)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    /* A Latin-1 name (Specific Character Set ISO_IR 100) must come out as UTF-8. */
    mcm_test_instance spec = {0};
    spec.patient_name = "M\xFCller^J\xFCrgen";
    spec.patient_id = "PID0009";
    mcm_mb_add(&b, &spec, NULL);
    mcm_mb_add_mix(&b, NULL);
    ck_assert_int_eq(mcm_request_set_attribute(b.request, MCM_TAG_LABEL_TEXT, "Radiology\r\nSt. Elsewhere"), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute(b.request, MCM_TAG_LABEL_USING_INFORMATION, "YES"), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute(b.request, MCM_TAG_LABEL_STYLE_SELECTION, "RECTANGLE"), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute(b.request, MCM_TAG_BARCODE_VALUE, "ACC0001"), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute(b.request, MCM_TAG_BARCODE_SYMBOLOGY, "CODE128"), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute(b.request, MCM_TAG_MEDIA_DISPOSITION, "Dr. Who, Ward 7"), MCM_OK);
    b.opts.label_dpi = 150;
    mcm_mb_run(&b);
    ck_assert_int_eq(b.ctx.outcome, MCM_MEDIA_OUTCOME_DONE);
    mcm_storage_media media;
    ck_assert_int_eq(mcm_job_media(b.ctx.results, 0, &media), MCM_OK);

    char *json = read_text(mcm_mb_output(&b, "VOL001.json"));
    const char *wanted[] = {
        "\"format\": \"dcmmcm-label/1\"",
        "\"volume\": 1",
        "\"volumes\": 1",
        "\"copies\": 1",
        "\"profile\": \"STD-GEN-CD\"",
        "\"style\": \"RECTANGLE\"",
        "\"label_using_extracted_information\": true",
        "\"label_text\": \"Radiology\\r\\nSt. Elsewhere\"",
        "\"media_disposition\": \"Dr. Who, Ward 7\"",
        "\"value\": \"ACC0001\"",
        "\"symbology\": \"CODE128\"",
        "\"rendered\": true",
        "\"name\": \"M\xC3\xBCller^J\xC3\xBCrgen\"",
        "\"id\": \"PID0009\"",
        "\"birth_date\": \"19700101\"",
        "\"sex\": \"F\"",
        "\"date\": \"20261125\"",
        "\"description\": \"Test study\"",
        "\"images\": 11",
        "\"png\": \"VOL001.png\"",
        "\"pdf\": \"VOL001.pdf\"",
    };
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++)
        ck_assert_msg(strstr(json, wanted[i]) != NULL, "%s not in %s", wanted[i], json);
    char fileset[128];
    snprintf(fileset, sizeof fileset, "\"fileset_id\": \"%s\"", media.fileset_id);
    ck_assert_ptr_nonnull(strstr(json, fileset));
    snprintf(fileset, sizeof fileset, "\"fileset_uid\": \"%s\"", media.fileset_uid);
    ck_assert_ptr_nonnull(strstr(json, fileset));
    /* Three patients, three studies of the mix plus one: modalities listed per study. */
    ck_assert_ptr_nonnull(strstr(json, "\"modalities\": [\n        \"OT\",\n        \"CT\"\n      ]"));
    free(json);
    /* A JSON parser agrees it is JSON (when python3 is there to ask). */
    if (mcm_test_system("command -v python3 >/dev/null") == 0)
        ck_assert_int_eq(mcm_test_system("python3 -c 'import json,sys; json.load(open(sys.argv[1]))' '%s'",
                                         mcm_mb_output(&b, "VOL001.json")),
                         0);

    int w, h;
    ck_assert_int_gt(dark_pixels(mcm_mb_output(&b, "VOL001.png"), &w, &h), 1000);
    /* RECTANGLE is 100 x 50 mm: at 150 dpi, 591 x 295 pixels. */
    ck_assert_int_eq(w, 591);
    ck_assert_int_eq(h, 295);
    char *pdf = read_text(mcm_mb_output(&b, "VOL001.pdf"));
    ck_assert_int_eq(strncmp(pdf, "%PDF-", 5), 0);
    free(pdf);
    mcm_mb_free(&b);
}
END_TEST

/* Label Using Information Extracted From Instances NO: the label carries the Label Text only. */
START_TEST(no_extracted_information_when_told)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    mcm_mb_add_mix(&b, NULL);
    ck_assert_int_eq(mcm_request_set_attribute(b.request, MCM_TAG_LABEL_USING_INFORMATION, "NO"), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute(b.request, MCM_TAG_LABEL_TEXT, "Teaching file 12"), MCM_OK);
    b.opts.label_pdf = 0;
    mcm_mb_run(&b);
    ck_assert_int_eq(b.ctx.outcome, MCM_MEDIA_OUTCOME_DONE);
    char *json = read_text(mcm_mb_output(&b, "VOL001.json"));
    ck_assert_ptr_nonnull(strstr(json, "\"label_using_extracted_information\": false"));
    ck_assert_ptr_nonnull(strstr(json, "\"label_text\": \"Teaching file 12\""));
    ck_assert_ptr_null(strstr(json, "Doe^Jane"));
    ck_assert_ptr_null(strstr(json, "\"patients\""));
    ck_assert_ptr_nonnull(strstr(json, "\"pdf\": null"));
    free(json);
    int w, h;
    dark_pixels(mcm_mb_output(&b, "VOL001.png"), &w, &h);
    /* DISC (the default) is 120 mm: at 300 dpi, 1417 pixels square. */
    ck_assert_int_eq(w, 1417);
    ck_assert_int_eq(h, 1417);
    ck_assert_int_ne(access(mcm_mb_output(&b, "VOL001.pdf"), F_OK), 0);
    mcm_mb_free(&b);
}
END_TEST

/* Each symbology draws a barcode: the label has more dark pixels than without one. */
static long render(mcm_media_bench *b, const char *symbology, const char *value, mcm_label_result *result)
{
    mcm_label_patient patient = {"Doe^Jane", "PID0001", "19700101", "F"};
    mcm_label_study study = {"PID0001", "1.2.3", "20261125", "CT Chest", "ACC1", "CT", 12};
    mcm_label label = {
        .job_uid = "1.2.3.4",
        .fileset_id = "LABELTEST",
        .fileset_uid = "1.2.3.5",
        .profile = "STD-GEN-CD",
        .medium = "CD",
        .volume = 1,
        .volumes = 1,
        .copies = 1,
        .use_extracted = 1,
        .barcode_value = value,
        .barcode_symbology = symbology,
        .patients = &patient,
        .patient_count = 1,
        .studies = &study,
        .study_count = 1,
        .images = 12,
        .created = "2026-11-25T10:00:00Z",
    };
    char png[4200], pdf[4200];
    snprintf(png, sizeof png, "%s/label.png", b->dir);
    snprintf(pdf, sizeof pdf, "%s/label.pdf", b->dir);
    ck_assert_int_eq(mcm_label_render(&label, png, pdf, 200, result), MCM_OK);
    int w, h;
    long dark = dark_pixels(png, &w, &h);
    ck_assert_int_eq(w, 945); /* 120 mm at 200 dpi */
    return dark;
}

START_TEST(every_symbology_renders)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    mcm_label_result result;
    long plain = render(&b, NULL, NULL, &result);
    ck_assert_int_eq(result.barcode_requested, 0);
    static const struct {
        const char *term, *value;
    } cases[] = {
        {"CODE128", "ACC-2026/11"}, {"CODE39", "ACC0001"},      {"INTER_2_5", "12345678"},
        {"HIBC", "A123BJC5D6E71"},  {"QR", "ACC0001 Doe^Jane"}, {"DATAMATRIX", "ACC0001"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long with = render(&b, cases[i].term, cases[i].value, &result);
        ck_assert_msg(result.barcode_rendered, "%s: %s", cases[i].term, result.barcode_note);
        ck_assert_msg(with > plain + 2000, "%s drew %ld dark pixels, %ld without a barcode", cases[i].term, with,
                      plain);
    }
    ck_assert_int_eq(mcm_label_symbology("CODE128 "), mcm_label_symbology("CODE128")); /* CS padding */
    mcm_mb_free(&b);
}
END_TEST

/* Digest A10: an unknown symbology is accepted and the barcode left off; so is a value the
 * symbology cannot carry. Neither fails the job. */
START_TEST(unknown_symbology_is_left_off)
{
    mcm_media_bench b;
    mcm_mb_init(&b);
    mcm_label_result result;
    long plain = render(&b, NULL, NULL, &result);
    long unknown = render(&b, "PDF417_PRIVATE", "ACC0001", &result);
    ck_assert_int_eq(result.barcode_requested, 1);
    ck_assert_int_eq(result.barcode_rendered, 0);
    ck_assert_ptr_nonnull(strstr(result.barcode_note, "not supported"));
    ck_assert_int_eq(unknown, plain);
    long bad_value = render(&b, "INTER_2_5", "ABC", &result);
    ck_assert_int_eq(result.barcode_rendered, 0);
    ck_assert_int_eq(bad_value, plain);

    mcm_mb_add_mix(&b, NULL);
    ck_assert_int_eq(mcm_request_set_attribute(b.request, MCM_TAG_BARCODE_VALUE, "ACC0001"), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute(b.request, MCM_TAG_BARCODE_SYMBOLOGY, "PRIVATE_X"), MCM_OK);
    mcm_mb_run(&b);
    ck_assert_int_eq(b.ctx.outcome, MCM_MEDIA_OUTCOME_DONE);
    char *json = read_text(mcm_mb_output(&b, "VOL001.json"));
    ck_assert_ptr_nonnull(strstr(json, "\"symbology\": \"PRIVATE_X\""));
    ck_assert_ptr_nonnull(strstr(json, "\"rendered\": false"));
    free(json);
    mcm_mb_free(&b);
}
END_TEST

/* Each volume of a split request has its own label; copies share it. */
START_TEST(one_label_per_volume)
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
    ck_assert_int_eq(b.ctx.outcome, MCM_MEDIA_OUTCOME_DONE);
    for (unsigned v = 1; v <= 2; v++) {
        char name[32], expected[64];
        snprintf(name, sizeof name, "VOL%03u.json", v);
        char *json = read_text(mcm_mb_output(&b, name));
        snprintf(expected, sizeof expected, "\"volume\": %u", v);
        ck_assert_ptr_nonnull(strstr(json, expected));
        ck_assert_ptr_nonnull(strstr(json, "\"volumes\": 2"));
        ck_assert_ptr_nonnull(strstr(json, "\"copies\": 2"));
        ck_assert_ptr_nonnull(strstr(json, "\"images\": 2"));
        free(json);
    }
    mcm_mb_free(&b);
}
END_TEST

Suite *mcm_suite_media_label(void)
{
    Suite *s = suite_create("media_label");
    TCase *tc = tcase_create("labels");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, description_and_renderings_of_a_job);
    tcase_add_test(tc, no_extracted_information_when_told);
    tcase_add_test(tc, every_symbology_renders);
    tcase_add_test(tc, unknown_symbology_is_left_off);
    tcase_add_test(tc, one_label_per_volume);
    suite_add_tcase(s, tc);
    return s;
}
