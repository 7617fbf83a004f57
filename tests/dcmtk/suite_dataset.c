/*
 * tests/dcmtk/suite_dataset.c: lib/dcmtk/dataset.cc: requests and jobs through real DcmDatasets (in
 * memory and as explicit / implicit VR bytes) and back: every attribute byte for byte, icons,
 * failed and media items, N-GET selection, empty sequences, character sets, a 100,000-item
 * sequence, the forbidden SOP Class/Instance UIDs, unknown and private tags.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "datasetutil.h"
#include "rawdataset.h"
#include "dcmmcm.h"
#include "core/job_internal.h"
#include "core/request_internal.h"
#include "testutil.h"
#include "core/vr.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#define CT MCM_TEST_CT_IMAGE
#define MR MCM_TEST_MR_IMAGE

static const mcm_test_wire all_wires[] = {MCM_TEST_WIRE_MEMORY, MCM_TEST_WIRE_EXPLICIT, MCM_TEST_WIRE_IMPLICIT};
#define WIRE_COUNT (sizeof all_wires / sizeof all_wires[0])

/* A valid value for every single-valued request attribute. */
static const char *sample_value(uint32_t tag)
{
    switch (tag) {
    case MCM_TAG_SPECIFIC_CHARACTER_SET: return "ISO_IR 100";
    case MCM_TAG_STORAGE_MEDIA_FILESET_ID: return "FSID_01";
    case MCM_TAG_STORAGE_MEDIA_FILESET_UID: return "1.2.826.0.1.3680043.2.1143.77";
    case MCM_TAG_NUMBER_OF_COPIES: return "3";
    case MCM_TAG_LABEL_USING_INFORMATION: return "YES";
    case MCM_TAG_LABEL_TEXT: return "Label text\r\nsecond line";
    case MCM_TAG_LABEL_STYLE_SELECTION: return "STYLE_2";
    case MCM_TAG_MEDIA_DISPOSITION: return "To Dr. Who, room 12";
    case MCM_TAG_BARCODE_VALUE: return "0123456789";
    case MCM_TAG_BARCODE_SYMBOLOGY: return "CODE128";
    case MCM_TAG_ALLOW_MEDIA_SPLITTING: return "NO";
    case MCM_TAG_INCLUDE_NON_DICOM_OBJECTS: return "FOR_PATIENT";
    case MCM_TAG_INCLUDE_DISPLAY_APPLICATION: return "YES";
    case MCM_TAG_PRESERVE_COMPOSITE_INSTANCES: return "NO";
    case MCM_TAG_ALLOW_LOSSY_COMPRESSION: return "NO";
    case MCM_TAG_REQUEST_PRIORITY: return "HIGH";
    default: return NULL;
    }
}

static int initiate_only(uint32_t tag)
{
    return tag == MCM_TAG_NUMBER_OF_COPIES || tag == MCM_TAG_REQUEST_PRIORITY;
}

static mcm_request *full_request(void)
{
    mcm_request *r = NULL;
    ck_assert_int_eq(mcm_request_new(&r), MCM_OK);
    for (size_t i = 0; i < mcm_request_attribute_count; i++) {
        uint32_t tag = mcm_request_attributes[i].tag;
        ck_assert_ptr_nonnull(sample_value(tag));
        ck_assert_msg(mcm_request_set_attribute(r, tag, sample_value(tag)) == MCM_OK, "set %08X: %s", tag,
                      mcm_last_error());
    }
    ck_assert_int_eq(mcm_request_add_reference(r, CT, "1.2.3.4.1", "STD-GEN-CD"), MCM_OK);
    ck_assert_int_eq(mcm_request_add_reference(r, MR, "1.2.3.4.2", NULL), MCM_OK);
    ck_assert_int_eq(mcm_request_add_reference(r, CT, "1.2.3.4.3", "STD-GEN-DVD-JPEG"), MCM_OK);
    return r;
}

/* Value of tag in a and b equal byte for byte (both absent counts as equal). */
static void assert_same_attribute(const mcm_request *a, const mcm_request *b, uint32_t tag)
{
    const char *va = mcm_request_attribute(a, tag), *vb = mcm_request_attribute(b, tag);
    ck_assert_msg((va == NULL) == (vb == NULL), "(%04X,%04X) presence differs", tag >> 16, tag & 0xFFFF);
    if (va == NULL)
        return;
    size_t la = mcm_request_attribute_length(a, tag), lb = mcm_request_attribute_length(b, tag);
    ck_assert_msg(la == lb, "(%04X,%04X) length %zu != %zu", tag >> 16, tag & 0xFFFF, la, lb);
    ck_assert_msg(memcmp(va, vb, la) == 0, "(%04X,%04X) bytes differ", tag >> 16, tag & 0xFFFF);
}

static void assert_same_string(const char *a, const char *b, const char *what)
{
    ck_assert_msg((a == NULL) == (b == NULL), "%s presence differs", what);
    if (a != NULL)
        ck_assert_msg(strcmp(a, b) == 0, "%s: \"%s\" != \"%s\"", what, a, b);
}

static void assert_same_icon(const mcm_icon *a, const mcm_icon *b)
{
    ck_assert_msg((a == NULL) == (b == NULL), "icon presence differs");
    if (a == NULL)
        return;
    ck_assert_uint_eq(a->rows, b->rows);
    ck_assert_uint_eq(a->columns, b->columns);
    ck_assert_uint_eq(a->bits_allocated, b->bits_allocated);
    ck_assert_uint_eq(a->bits_stored, b->bits_stored);
    ck_assert_uint_eq(a->high_bit, b->high_bit);
    assert_same_string(a->photometric, b->photometric, "photometric");
    ck_assert_uint_eq(a->pixel_data_length, b->pixel_data_length);
    ck_assert(memcmp(a->pixel_data, b->pixel_data, a->pixel_data_length) == 0);
    ck_assert_uint_eq(a->palette_length, b->palette_length);
    for (int k = 0; k < 3; k++)
        ck_assert_uint_eq(a->palette_descriptor[k], b->palette_descriptor[k]);
    if (a->palette_length > 0) {
        ck_assert(memcmp(a->red_palette, b->red_palette, a->palette_length) == 0);
        ck_assert(memcmp(a->green_palette, b->green_palette, a->palette_length) == 0);
        ck_assert(memcmp(a->blue_palette, b->blue_palette, a->palette_length) == 0);
    }
}

static void assert_same_references(const mcm_request *a, const mcm_request *b)
{
    ck_assert_int_eq(mcm_request_reference_sequence_present(a), mcm_request_reference_sequence_present(b));
    ck_assert_uint_eq(mcm_request_reference_count(a), mcm_request_reference_count(b));
    for (size_t i = 0; i < mcm_request_reference_count(a); i++) {
        mcm_reference ra, rb;
        size_t la[3], lb[3];
        ck_assert_int_eq(mcm_request_reference(a, i, &ra), MCM_OK);
        ck_assert_int_eq(mcm_request_reference(b, i, &rb), MCM_OK);
        ck_assert_int_eq(mcm_request_reference_lengths(a, i, &la[0], &la[1], &la[2]), MCM_OK);
        ck_assert_int_eq(mcm_request_reference_lengths(b, i, &lb[0], &lb[1], &lb[2]), MCM_OK);
        assert_same_string(ra.sop_class_uid, rb.sop_class_uid, "class UID");
        assert_same_string(ra.sop_instance_uid, rb.sop_instance_uid, "instance UID");
        assert_same_string(ra.profile, rb.profile, "profile");
        for (int k = 0; k < 3; k++)
            ck_assert_uint_eq(la[k], lb[k]);
        assert_same_icon(ra.icon, rb.icon);
    }
}

START_TEST(request_create_every_attribute)
{
    mcm_test_wire wire = all_wires[_i];
    mcm_request *in = full_request(), *out = NULL;
    ck_assert_int_eq(mcm_test_request_roundtrip(in, 0, wire, NULL, 0, &out, NULL, NULL), MCM_OK);
    for (size_t i = 0; i < mcm_request_attribute_count; i++) {
        uint32_t tag = mcm_request_attributes[i].tag;
        if (initiate_only(tag))
            ck_assert_msg(mcm_request_attribute(out, tag) == NULL, "%08X sent in N-CREATE", tag);
        else
            assert_same_attribute(in, out, tag);
    }
    assert_same_references(in, out);
    ck_assert_uint_eq(mcm_request_unknown_count(out), 0);
    mcm_response v;
    ck_assert_int_eq(mcm_request_validate(out, MCM_VALIDATE_STRICT, &v), MCM_OK);
    ck_assert_msg(v.status == 0, "decoded request fails validation: %04X %s", v.status, v.error_comment);
    mcm_request_free(in);
    mcm_request_free(out);
}
END_TEST

START_TEST(request_initiate_carries_copies_and_priority_only)
{
    mcm_test_wire wire = all_wires[_i];
    mcm_request *in = full_request(), *out = NULL;
    ck_assert_int_eq(mcm_test_request_roundtrip(in, 1, wire, NULL, 0, &out, NULL, NULL), MCM_OK);
    for (size_t i = 0; i < mcm_request_attribute_count; i++) {
        uint32_t tag = mcm_request_attributes[i].tag;
        if (initiate_only(tag))
            assert_same_attribute(in, out, tag);
        else
            ck_assert_msg(mcm_request_attribute(out, tag) == NULL, "%08X sent in Initiate", tag);
    }
    ck_assert_int_eq(mcm_request_copies(out), 3);
    ck_assert_int_eq(mcm_request_priority(out), MCM_PRIORITY_HIGH);
    ck_assert_int_eq(mcm_request_reference_sequence_present(out), 0);
    ck_assert_uint_eq(mcm_request_reference_count(out), 0);
    size_t top;
    long items;
    ck_assert_int_eq(mcm_test_request_encoded_shape(in, 1, &top, &items), MCM_OK);
    ck_assert_uint_eq(top, 2);
    ck_assert_int_eq(items, -1);
    mcm_request_free(in);
    mcm_request_free(out);
}
END_TEST

/* Values taken as they are: leading spaces, odd lengths, backslashes in text, embedded NUL, a
 * value that is not valid (validation, not conversion, judges it). */
START_TEST(request_raw_values_byte_for_byte)
{
    mcm_test_wire wire = all_wires[_i];
    static const char label[] = "  two leading spaces, a back\\slash, odd";
    static const char disposition[] = "with\0nul";
    static const char style[] = "NOT VALID CS!";
    mcm_request *in = NULL, *out = NULL;
    ck_assert_int_eq(mcm_request_new(&in), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute_raw(in, MCM_TAG_LABEL_TEXT, label, sizeof label - 1), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute_raw(in, MCM_TAG_MEDIA_DISPOSITION, disposition, sizeof disposition - 1),
                     MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute_raw(in, MCM_TAG_LABEL_STYLE_SELECTION, style, sizeof style - 1), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute_raw(in, MCM_TAG_STORAGE_MEDIA_FILESET_UID, "1.2.3", 5), MCM_OK);
    ck_assert_int_eq(mcm_request_add_reference_raw(in, "1.2.840.10008.5.1.4.1.1.2", 25, "1.2.345", 7, "P", 1), MCM_OK);
    ck_assert_int_eq(mcm_test_request_roundtrip(in, 0, wire, NULL, 0, &out, NULL, NULL), MCM_OK);
    assert_same_attribute(in, out, MCM_TAG_LABEL_TEXT);
    assert_same_attribute(in, out, MCM_TAG_MEDIA_DISPOSITION);
    assert_same_attribute(in, out, MCM_TAG_LABEL_STYLE_SELECTION);
    assert_same_attribute(in, out, MCM_TAG_STORAGE_MEDIA_FILESET_UID);
    ck_assert_uint_eq(mcm_request_attribute_length(out, MCM_TAG_LABEL_TEXT), sizeof label - 1);
    assert_same_references(in, out);
    mcm_request_free(in);
    mcm_request_free(out);
}
END_TEST

/* Non-ASCII values in the character set they came with: ISO_IR 192 (UTF-8) Japanese, ISO_IR 100
 * (Latin-1) umlauts, and ISO 2022 with escape sequences; Specific Character Set kept as given. */
START_TEST(request_character_sets_kept)
{
    mcm_test_wire wire = all_wires[_i];
    static const struct {
        const char *charset, *label, *disposition;
    } cases[] = {
        {"ISO_IR 192", "\xE5\xB1\xB1\xE7\x94\xB0^\xE5\xA4\xAA\xE9\x83\x8E (Yamada Taro)", "\xE6\x9D\xB1\xE4\xBA\xAC"},
        {"ISO_IR 100",
         "M\xFC"
         "ller^J\xF6rg",
         "Stra\xDF"
         "e 7, K\xF6ln"},
        {"\\ISO 2022 IR 87", "Yamada^Tarou=\x1B$B;3ED\x1B(B^\x1B$BB@O:\x1B(B", "\x1B$B;3ED\x1B(B"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        mcm_request *in = NULL, *out = NULL;
        ck_assert_int_eq(mcm_request_new(&in), MCM_OK);
        ck_assert_int_eq(mcm_request_set_attribute(in, MCM_TAG_SPECIFIC_CHARACTER_SET, cases[k].charset), MCM_OK);
        ck_assert_int_eq(mcm_request_set_attribute(in, MCM_TAG_LABEL_TEXT, cases[k].label), MCM_OK);
        ck_assert_int_eq(mcm_request_set_attribute(in, MCM_TAG_MEDIA_DISPOSITION, cases[k].disposition), MCM_OK);
        ck_assert_int_eq(mcm_request_add_reference(in, CT, "1.2.3.9", NULL), MCM_OK);
        ck_assert_int_eq(mcm_test_request_roundtrip(in, 0, wire, NULL, 0, &out, NULL, NULL), MCM_OK);
        assert_same_attribute(in, out, MCM_TAG_SPECIFIC_CHARACTER_SET);
        assert_same_attribute(in, out, MCM_TAG_LABEL_TEXT);
        assert_same_attribute(in, out, MCM_TAG_MEDIA_DISPOSITION);
        ck_assert_str_eq(mcm_request_attribute(out, MCM_TAG_LABEL_TEXT), cases[k].label);
        mcm_request_free(in);
        mcm_request_free(out);
    }
}
END_TEST

/* Empty elements stay present and empty; absent ones stay absent; an empty sequence stays. */
START_TEST(request_empty_values_and_sequence)
{
    mcm_test_wire wire = all_wires[_i];
    mcm_request *in = NULL, *out = NULL;
    ck_assert_int_eq(mcm_request_new(&in), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute_raw(in, MCM_TAG_LABEL_TEXT, "", 0), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute_raw(in, MCM_TAG_ALLOW_MEDIA_SPLITTING, "", 0), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute_raw(in, MCM_TAG_STORAGE_MEDIA_FILESET_UID, "", 0), MCM_OK);
    mcm_request_set_reference_sequence_present(in, 1);
    ck_assert_int_eq(mcm_test_request_roundtrip(in, 0, wire, NULL, 0, &out, NULL, NULL), MCM_OK);
    ck_assert_ptr_nonnull(mcm_request_attribute(out, MCM_TAG_LABEL_TEXT));
    ck_assert_uint_eq(mcm_request_attribute_length(out, MCM_TAG_LABEL_TEXT), 0);
    ck_assert_ptr_nonnull(mcm_request_attribute(out, MCM_TAG_ALLOW_MEDIA_SPLITTING));
    ck_assert_ptr_nonnull(mcm_request_attribute(out, MCM_TAG_STORAGE_MEDIA_FILESET_UID));
    ck_assert_ptr_null(mcm_request_attribute(out, MCM_TAG_LABEL_STYLE_SELECTION));
    ck_assert_int_eq(mcm_request_reference_sequence_present(out), 1);
    ck_assert_uint_eq(mcm_request_reference_count(out), 0);
    mcm_response v;
    ck_assert_int_eq(mcm_request_validate(out, 0, &v), MCM_OK);
    ck_assert_uint_eq(v.status, MCM_STATUS_MISSING_ATTRIBUTE_VALUE);
    mcm_request_free(in);

    /* Items with empty and absent UIDs. */
    ck_assert_int_eq(mcm_request_new(&in), MCM_OK);
    ck_assert_int_eq(mcm_request_add_reference_raw(in, "", 0, NULL, 0, "", 0), MCM_OK);
    ck_assert_int_eq(mcm_request_add_reference_raw(in, NULL, 0, "1.2.3", 5, NULL, 0), MCM_OK);
    mcm_request_free(out);
    ck_assert_int_eq(mcm_test_request_roundtrip(in, 0, wire, NULL, 0, &out, NULL, NULL), MCM_OK);
    assert_same_references(in, out);
    mcm_reference ref;
    ck_assert_int_eq(mcm_request_reference(out, 0, &ref), MCM_OK);
    ck_assert_ptr_nonnull(ref.sop_class_uid);
    ck_assert_str_eq(ref.sop_class_uid, "");
    ck_assert_ptr_null(ref.sop_instance_uid);
    ck_assert_ptr_nonnull(ref.profile);
    ck_assert_int_eq(mcm_request_reference(out, 1, &ref), MCM_OK);
    ck_assert_ptr_null(ref.sop_class_uid);
    ck_assert_ptr_null(ref.profile);
    mcm_request_free(in);
    mcm_request_free(out);
}
END_TEST

START_TEST(request_icons)
{
    mcm_test_wire wire = all_wires[_i];
    uint8_t mono[16], odd[9], bits[8], palette_pixels[4], red[512], green[512], blue[512];
    for (size_t i = 0; i < sizeof mono; i++)
        mono[i] = (uint8_t)(i * 17);
    for (size_t i = 0; i < sizeof odd; i++)
        odd[i] = (uint8_t)(200 + i);
    for (size_t i = 0; i < sizeof bits; i++)
        bits[i] = (uint8_t)(0x81 << (i % 2));
    for (size_t i = 0; i < sizeof palette_pixels; i++)
        palette_pixels[i] = (uint8_t)(i * 60);
    for (size_t i = 0; i < 512; i++) {
        red[i] = (uint8_t)i;
        green[i] = (uint8_t)(255 - i % 256);
        blue[i] = (uint8_t)(i * 7);
    }
    mcm_icon icons[4];
    memset(icons, 0, sizeof icons);
    icons[0] = (mcm_icon){4, 4, 8, 8, 7, "MONOCHROME2", mono, sizeof mono, {0, 0, 0}, NULL, NULL, NULL, 0};
    icons[1] = (mcm_icon){3, 3, 8, 8, 7, "MONOCHROME1", odd, sizeof odd, {0, 0, 0}, NULL, NULL, NULL, 0};
    icons[2] = (mcm_icon){8, 8, 1, 1, 0, "MONOCHROME2", bits, sizeof bits, {0, 0, 0}, NULL, NULL, NULL, 0};
    icons[3] = (mcm_icon){2,   2,     8,    8,  7, "PALETTE COLOR", palette_pixels, sizeof palette_pixels, {256, 0, 16},
                          red, green, blue, 512};
    mcm_request *in = NULL, *out = NULL;
    ck_assert_int_eq(mcm_request_new(&in), MCM_OK);
    for (size_t i = 0; i < 5; i++) {
        char uid[32];
        snprintf(uid, sizeof uid, "1.2.3.%zu", i + 1);
        ck_assert_int_eq(mcm_request_add_reference(in, CT, uid, i == 2 ? "STD-GEN-CD" : NULL), MCM_OK);
        if (i < 4)
            ck_assert_msg(mcm_request_set_icon(in, i, &icons[i]) == MCM_OK, "icon %zu: %s", i, mcm_last_error());
    }
    ck_assert_int_eq(mcm_test_request_roundtrip(in, 0, wire, NULL, 0, &out, NULL, NULL), MCM_OK);
    assert_same_references(in, out);
    ck_assert_uint_eq(mcm_request_unknown_count(out), 0);
    mcm_response v;
    ck_assert_int_eq(mcm_request_validate(out, MCM_VALIDATE_STRICT, &v), MCM_OK);
    ck_assert_msg(v.status == 0, "%04X %s", v.status, v.error_comment);
    mcm_request_free(in);
    mcm_request_free(out);
}
END_TEST

static mcm_job *full_job(void)
{
    mcm_job *job = NULL;
    ck_assert_int_eq(mcm_job_new(&job, "1.2.826.0.1.3680043.2.1143.500"), MCM_OK);
    mcm_job_set_request(job, full_request());
    ck_assert_int_eq(mcm_job_set_state(job, MCM_JOB_FAILURE, "NO_INSTANCE"), MCM_OK);
    mcm_job_set_pieces(job, 3);
    static const uint32_t missing[] = {MCM_TAG(0x0010, 0x0010), MCM_TAG(0x0010, 0x0020), MCM_TAG(0x0020, 0x000D)};
    ck_assert_int_eq(mcm_job_add_failed(job, CT, "1.2.3.4.1", "STD-GEN-CD", MCM_FAILURE_MISSING_ATTRIBUTE, missing, 3),
                     MCM_OK);
    ck_assert_int_eq(mcm_job_add_failed(job, MR, "1.2.3.4.2", NULL, MCM_FAILURE_NO_SUCH_INSTANCE, NULL, 0), MCM_OK);
    ck_assert_int_eq(mcm_job_add_failed(job, CT, "1.2.3.4.3", "STD-GEN-DVD-JPEG", MCM_FAILURE_MISSING_ATTRIBUTE_VALUE,
                                        missing + 2, 1),
                     MCM_OK);
    ck_assert_int_eq(mcm_job_add_media(job, "VOLUME_1", "1.2.826.0.1.3680043.2.1143.600"), MCM_OK);
    ck_assert_int_eq(mcm_job_add_media(job, "VOLUME_2", "1.2.826.0.1.3680043.2.1143.601"), MCM_OK);
    mcm_job_mark_maintained(job);
    return job;
}

static void assert_same_results(const mcm_job *a, const mcm_job *b)
{
    ck_assert_uint_eq(mcm_job_failed_count(a), mcm_job_failed_count(b));
    for (size_t i = 0; i < mcm_job_failed_count(a); i++) {
        mcm_failed_sop fa, fb;
        ck_assert_int_eq(mcm_job_failed(a, i, &fa), MCM_OK);
        ck_assert_int_eq(mcm_job_failed(b, i, &fb), MCM_OK);
        assert_same_string(fa.sop_class_uid, fb.sop_class_uid, "failed class");
        assert_same_string(fa.sop_instance_uid, fb.sop_instance_uid, "failed instance");
        assert_same_string(fa.profile, fb.profile, "failed profile");
        ck_assert_uint_eq(fa.failure_reason, fb.failure_reason);
        ck_assert_uint_eq(fa.failure_attribute_count, fb.failure_attribute_count);
        for (size_t k = 0; k < fa.failure_attribute_count; k++)
            ck_assert_uint_eq(fa.failure_attributes[k], fb.failure_attributes[k]);
    }
    ck_assert_uint_eq(mcm_job_media_count(a), mcm_job_media_count(b));
    for (size_t i = 0; i < mcm_job_media_count(a); i++) {
        mcm_storage_media ma, mb;
        ck_assert_int_eq(mcm_job_media(a, i, &ma), MCM_OK);
        ck_assert_int_eq(mcm_job_media(b, i, &mb), MCM_OK);
        assert_same_string(ma.fileset_id, mb.fileset_id, "media id");
        assert_same_string(ma.fileset_uid, mb.fileset_uid, "media uid");
    }
}

START_TEST(job_every_attribute)
{
    mcm_test_wire wire = all_wires[_i];
    mcm_job *in = full_job(), *out = NULL;
    ck_assert_int_eq(mcm_test_job_roundtrip(in, NULL, 0, wire, NULL, 0, mcm_job_uid(in), &out, NULL, NULL), MCM_OK);
    ck_assert_str_eq(mcm_job_uid(out), mcm_job_uid(in));
    ck_assert_int_eq(mcm_job_state_of(out), MCM_JOB_FAILURE);
    ck_assert_str_eq(mcm_job_status_info(out), "NO_INSTANCE");
    ck_assert_uint_eq(mcm_job_pieces(out), 3);
    assert_same_results(in, out);
    for (size_t i = 0; i < mcm_request_attribute_count; i++)
        assert_same_attribute(mcm_job_request(in), mcm_job_request(out), mcm_request_attributes[i].tag);
    assert_same_references(mcm_job_request(in), mcm_job_request(out));
    static const uint32_t maintained[] = {MCM_TAG_EXECUTION_STATUS,
                                          MCM_TAG_EXECUTION_STATUS_INFO,
                                          MCM_TAG_TOTAL_NUMBER_OF_PIECES,
                                          MCM_TAG_FAILED_SOP_SEQUENCE,
                                          MCM_TAG_REFERENCED_STORAGE_MEDIA_SEQUENCE,
                                          MCM_TAG_REFERENCED_SOP_SEQUENCE};
    for (size_t i = 0; i < sizeof maintained / sizeof maintained[0]; i++)
        ck_assert_msg(mcm_job_has(out, maintained[i]), "%08X missing", maintained[i]);
    ck_assert_uint_eq(mcm_request_unknown_count(mcm_job_request(out)), 0);
    mcm_job_free(in);
    mcm_job_free(out);
}
END_TEST

/* N-GET selection: exactly the listed tags the job carries, nothing else. */
START_TEST(job_selection_by_tags)
{
    mcm_test_wire wire = all_wires[_i];
    mcm_job *in = full_job(), *out = NULL;
    ck_assert_int_eq(mcm_request_set_attribute(mcm_job_request_mut(in), MCM_TAG_LABEL_TEXT, NULL), MCM_OK);
    const uint32_t tags[] = {MCM_TAG_TOTAL_NUMBER_OF_PIECES, MCM_TAG_EXECUTION_STATUS, MCM_TAG_LABEL_TEXT,
                             MCM_TAG(0x0010, 0x0010),        MCM_TAG_SOP_INSTANCE_UID, MCM_TAG_NUMBER_OF_COPIES,
                             MCM_TAG_EXECUTION_STATUS};
    ck_assert_int_eq(
        mcm_test_job_roundtrip(in, tags, sizeof tags / sizeof tags[0], wire, NULL, 0, NULL, &out, NULL, NULL), MCM_OK);
    ck_assert_int_eq(mcm_job_has(out, MCM_TAG_EXECUTION_STATUS), 1);
    ck_assert_int_eq(mcm_job_state_of(out), MCM_JOB_FAILURE);
    ck_assert_int_eq(mcm_job_has(out, MCM_TAG_TOTAL_NUMBER_OF_PIECES), 1);
    ck_assert_uint_eq(mcm_job_pieces(out), 3);
    ck_assert_int_eq(mcm_job_has(out, MCM_TAG_NUMBER_OF_COPIES), 1);
    ck_assert_int_eq(mcm_request_copies(mcm_job_request(out)), 3);
    ck_assert_int_eq(mcm_job_has(out, MCM_TAG_LABEL_TEXT), 0);
    ck_assert_int_eq(mcm_job_has(out, MCM_TAG_EXECUTION_STATUS_INFO), 0);
    ck_assert_ptr_null(mcm_job_status_info(out));
    ck_assert_int_eq(mcm_job_has(out, MCM_TAG_FAILED_SOP_SEQUENCE), 0);
    ck_assert_int_eq(mcm_job_has(out, MCM_TAG_REFERENCED_STORAGE_MEDIA_SEQUENCE), 0);
    ck_assert_int_eq(mcm_job_has(out, MCM_TAG_REFERENCED_SOP_SEQUENCE), 0);
    ck_assert_int_eq(mcm_job_has(out, MCM_TAG_SPECIFIC_CHARACTER_SET), 0);
    ck_assert_uint_eq(mcm_job_failed_count(out), 0);
    ck_assert_uint_eq(mcm_request_unknown_count(mcm_job_request(out)), 0);
    mcm_job_free(out);

    /* The status tags of mcm_scu_wait(). */
    const uint32_t *status_tags;
    size_t n = mcm_scu_status_tags(&status_tags);
    ck_assert_uint_eq(n, 6);
    ck_assert_int_eq(mcm_test_job_roundtrip(in, status_tags, n, wire, NULL, 0, NULL, &out, NULL, NULL), MCM_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(mcm_job_has(out, status_tags[i]), "%08X missing", status_tags[i]);
    ck_assert_int_eq(mcm_job_has(out, MCM_TAG_REFERENCED_SOP_SEQUENCE), 0);
    ck_assert_int_eq(mcm_job_has(out, MCM_TAG_LABEL_USING_INFORMATION), 0);
    assert_same_results(in, out);
    mcm_job_free(in);
    mcm_job_free(out);
}
END_TEST

/* A job with no results yet: both sequences go out empty (3/2, digest A6) and come back present. */
START_TEST(job_empty_sequences)
{
    mcm_test_wire wire = all_wires[_i];
    mcm_job *in = NULL, *out = NULL;
    ck_assert_int_eq(mcm_job_new(&in, "1.2.3.77"), MCM_OK);
    ck_assert_int_eq(mcm_job_set_state(in, MCM_JOB_IDLE, "NORMAL"), MCM_OK);
    mcm_job_mark_maintained(in);
    ck_assert_int_eq(mcm_test_job_roundtrip(in, NULL, 0, wire, NULL, 0, "1.2.3.77", &out, NULL, NULL), MCM_OK);
    ck_assert_int_eq(mcm_job_has(out, MCM_TAG_FAILED_SOP_SEQUENCE), 1);
    ck_assert_int_eq(mcm_job_has(out, MCM_TAG_REFERENCED_STORAGE_MEDIA_SEQUENCE), 1);
    ck_assert_int_eq(mcm_job_has(out, MCM_TAG_TOTAL_NUMBER_OF_PIECES), 1);
    ck_assert_uint_eq(mcm_job_pieces(out), 0);
    ck_assert_uint_eq(mcm_job_failed_count(out), 0);
    ck_assert_uint_eq(mcm_job_media_count(out), 0);
    ck_assert_int_eq(mcm_job_state_of(out), MCM_JOB_IDLE);
    ck_assert_str_eq(mcm_job_status_info(out), "NORMAL");
    ck_assert_int_eq(mcm_job_has(out, MCM_TAG_REFERENCED_SOP_SEQUENCE), 0);
    mcm_job_free(in);
    mcm_job_free(out);
}
END_TEST

/* The forbidden (0008,0016) / (0008,0018) appear nowhere in anything we encode, even asked for. */
START_TEST(forbidden_uids_never_encoded)
{
    mcm_request *r = full_request();
    uint8_t pixels[4] = {1, 2, 3, 4};
    mcm_icon icon = {2, 2, 8, 8, 7, "MONOCHROME2", pixels, 4, {0, 0, 0}, NULL, NULL, NULL, 0};
    ck_assert_int_eq(mcm_request_set_icon(r, 0, &icon), MCM_OK);
    mcm_job *job = full_job();
    const uint32_t forbidden[] = {MCM_TAG_SOP_CLASS_UID, MCM_TAG_SOP_INSTANCE_UID};
    const uint32_t asked[] = {MCM_TAG_SOP_CLASS_UID, MCM_TAG_SOP_INSTANCE_UID, MCM_TAG_REFERENCED_SOP_SEQUENCE,
                              MCM_TAG_FAILED_SOP_SEQUENCE};
    for (size_t k = 0; k < 2; k++) {
        ck_assert_int_eq(mcm_test_request_encodes_tag(r, 0, forbidden[k]), 0);
        ck_assert_int_eq(mcm_test_request_encodes_tag(r, 1, forbidden[k]), 0);
        ck_assert_int_eq(mcm_test_job_encodes_tag(job, NULL, 0, forbidden[k]), 0);
        ck_assert_int_eq(mcm_test_job_encodes_tag(job, asked, 4, forbidden[k]), 0);
    }
    /* The check can fail: the items' own UIDs are found. */
    ck_assert_int_eq(mcm_test_request_encodes_tag(r, 0, MCM_TAG_REFERENCED_SOP_INSTANCE_UID), 1);
    ck_assert_int_eq(mcm_test_job_encodes_tag(job, asked, 4, MCM_TAG_FAILURE_ATTRIBUTES), 1);
    mcm_request_free(r);
    mcm_job_free(job);
}
END_TEST

static int noted(const mcm_request *r, uint32_t tag)
{
    for (size_t i = 0; i < mcm_request_unknown_count(r); i++)
        if (mcm_request_unknown(r, i) == tag)
            return 1;
    return 0;
}

/* Unknown, forbidden, out-of-place and private attributes are noted (strict mode answers 0105);
 * group lengths are not. */
START_TEST(unknown_and_private_tags_noted)
{
    mcm_test_wire wire = all_wires[_i];
    const mcm_test_extra extras[] = {
        {MCM_TAG_SOP_CLASS_UID, MCM_SOP_CLASS_UID, -1},
        {MCM_TAG_SOP_INSTANCE_UID, "1.2.3.99", -1},
        {MCM_TAG(0x0010, 0x0010), "Doe^John", -1},
        {MCM_TAG_EXECUTION_STATUS, "DONE", -1},
        {MCM_TAG(0x0009, 0x0010), "ACME CREATOR", -1},
        {MCM_TAG(0x0009, 0x1001), "private bytes", -1},
        {MCM_TAG(0x0010, 0x0000), NULL, -1},
        {MCM_TAG(0x0008, 0x1160), "1", 0},
        {MCM_TAG(0x0011, 0x0010), "ACME ITEM", 1},
        {MCM_TAG(0x0008, 0x0000), NULL, 1},
    };
    const size_t n = sizeof extras / sizeof extras[0];
    mcm_request *in = full_request(), *out = NULL;
    ck_assert_int_eq(mcm_test_request_roundtrip(in, 0, wire, extras, n, &out, NULL, NULL), MCM_OK);
    for (size_t i = 0; i < n; i++) {
        int group_length = (extras[i].tag & 0xFFFF) == 0;
        ck_assert_msg(noted(out, extras[i].tag) == !group_length, "(%04X,%04X) noted %d", extras[i].tag >> 16,
                      extras[i].tag & 0xFFFF, noted(out, extras[i].tag));
    }
    ck_assert_uint_eq(mcm_request_unknown_count(out), n - 2);
    /* Everything known still came through. */
    assert_same_references(in, out);
    assert_same_attribute(in, out, MCM_TAG_LABEL_TEXT);
    mcm_response v;
    ck_assert_int_eq(mcm_request_validate(out, 0, &v), MCM_OK);
    ck_assert_uint_eq(v.status, 0);
    ck_assert_int_eq(mcm_request_validate(out, MCM_VALIDATE_STRICT, &v), MCM_OK);
    ck_assert_uint_eq(v.status, MCM_STATUS_NO_SUCH_ATTRIBUTE);
    mcm_request_free(out);

    /* An N-GET reply with a private attribute: noted on the job's request, the rest decoded. */
    mcm_job *job = full_job(), *got = NULL;
    const mcm_test_extra reply_extras[] = {{MCM_TAG(0x0009, 0x0010), "ACME", -1}, {MCM_TAG(0x0009, 0x1002), "x", -1}};
    ck_assert_int_eq(mcm_test_job_roundtrip(job, NULL, 0, wire, reply_extras, 2, NULL, &got, NULL, NULL), MCM_OK);
    ck_assert_int_eq(noted(mcm_job_request(got), MCM_TAG(0x0009, 0x0010)), 1);
    ck_assert_int_eq(noted(mcm_job_request(got), MCM_TAG(0x0009, 0x1002)), 1);
    ck_assert_int_eq(mcm_job_state_of(got), MCM_JOB_FAILURE);
    mcm_job_free(job);
    mcm_job_free(got);
    mcm_request_free(in);
}
END_TEST

/* 100,000 Referenced SOP Sequence items: walked, never indexed (dcmtk-notes section 6). Indexing
 * is quadratic (about 34 s for 100,000 items); walking is linear. */
START_TEST(hundred_thousand_items_linear)
{
    const size_t count = 100000;
    mcm_request *in = NULL, *out = NULL;
    ck_assert_int_eq(mcm_request_new(&in), MCM_OK);
    for (size_t i = 0; i < count; i++) {
        char uid[64];
        int n = snprintf(uid, sizeof uid, "1.2.826.0.1.3680043.2.1143.%zu", i + 1);
        ck_assert_int_eq(mcm_request_add_reference_raw(in, CT, strlen(CT), uid, (size_t)n, i % 2 ? "STD-GEN-CD" : NULL,
                                                       i % 2 ? 10 : 0),
                         MCM_OK);
    }
    double encode_ms, decode_ms;
    ck_assert_int_eq(mcm_test_request_roundtrip(in, 0, MCM_TEST_WIRE_MEMORY, NULL, 0, &out, &encode_ms, &decode_ms),
                     MCM_OK);
    ck_assert_uint_eq(mcm_request_reference_count(out), count);
    mcm_reference ref;
    ck_assert_int_eq(mcm_request_reference(out, count - 1, &ref), MCM_OK);
    ck_assert_str_eq(ref.sop_instance_uid, "1.2.826.0.1.3680043.2.1143.100000");
    ck_assert_str_eq(ref.profile, "STD-GEN-CD");
    ck_assert_int_eq(mcm_request_reference(out, 50000, &ref), MCM_OK);
    ck_assert_str_eq(ref.sop_instance_uid, "1.2.826.0.1.3680043.2.1143.50001");
    ck_assert_ptr_null(ref.profile);
    fprintf(stderr, "dataset: 100,000 items: encode %.1f ms, decode %.1f ms\n", encode_ms, decode_ms);

    /* The same items returned by N-GET, through implicit VR bytes. */
    mcm_job *job = NULL, *got = NULL;
    ck_assert_int_eq(mcm_job_new(&job, "1.2.3.4"), MCM_OK);
    mcm_job_set_request(job, out);
    const uint32_t tags[] = {MCM_TAG_REFERENCED_SOP_SEQUENCE};
    double job_encode_ms, job_decode_ms;
    ck_assert_int_eq(mcm_test_job_roundtrip(job, tags, 1, MCM_TEST_WIRE_IMPLICIT, NULL, 0, NULL, &got, &job_encode_ms,
                                            &job_decode_ms),
                     MCM_OK);
    ck_assert_uint_eq(mcm_request_reference_count(mcm_job_request(got)), count);
    fprintf(stderr, "dataset: 100,000 items as N-GET reply: encode %.1f ms, decode %.1f ms\n", job_encode_ms,
            job_decode_ms);
    /* The one bound for this: linear work finishes in well under a second; quadratic
     * indexing would take tens of seconds. AddressSanitizer (about 3x) and valgrind (about 50x)
     * slow everything down, so they get bounds that still separate linear from quadratic. */
    double bound = mcm_test_under_valgrind() ? 20000.0 : SANITIZED ? 3000.0 : 1000.0;
    ck_assert_msg(encode_ms + decode_ms < bound, "encode + decode took %.0f ms", encode_ms + decode_ms);
    ck_assert_msg(job_encode_ms + job_decode_ms < bound, "job encode + decode took %.0f ms",
                  job_encode_ms + job_decode_ms);
    mcm_job_free(job);
    mcm_job_free(got);
    mcm_request_free(in);
}
END_TEST

/* Explicit VR little endian element headers for hand-made hostile data sets. */
static size_t put_header(unsigned char *b, size_t at, uint16_t group, uint16_t element, const char *vr, uint32_t length)
{
    b[at++] = (unsigned char)(group & 0xFF);
    b[at++] = (unsigned char)(group >> 8);
    b[at++] = (unsigned char)(element & 0xFF);
    b[at++] = (unsigned char)(element >> 8);
    if (vr != NULL) {
        b[at++] = (unsigned char)vr[0];
        b[at++] = (unsigned char)vr[1];
        b[at++] = 0;
        b[at++] = 0;
    }
    for (int k = 0; k < 4; k++)
        b[at++] = (unsigned char)(length >> (8 * k));
    return at;
}

/* An empty sequence of undefined length with tag (group,element): where a peer sends it in
 * place of a string value. */
static size_t put_empty_sequence(unsigned char *b, size_t at, uint16_t group, uint16_t element)
{
    at = put_header(b, at, group, element, "SQ", 0xFFFFFFFFu);
    return put_header(b, at, 0xFFFE, 0xE0DD, NULL, 0);
}

/* A sequence item of undefined length holding, for each tag, an empty sequence. */
static size_t put_item_of_sequences(unsigned char *b, size_t at, const uint16_t (*tags)[2], size_t count)
{
    at = put_header(b, at, 0xFFFE, 0xE000, NULL, 0xFFFFFFFFu);
    for (size_t i = 0; i < count; i++)
        at = put_empty_sequence(b, at, tags[i][0], tags[i][1]);
    return put_header(b, at, 0xFFFE, 0xE00D, NULL, 0);
}

static long max_rss_kib(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

/* A peer that sends a sequence of undefined length where an item's UID or profile belongs (DCMTK
 * parses it as a sequence whose length field says 0xFFFFFFFF): the decoder takes no value from
 * it, with no allocation of that length (4 GiB per element, a remote denial of service), and
 * validation refuses the request. The same for the items of an N-GET reply. */
START_TEST(sequence_where_a_value_belongs)
{
    static const uint16_t reference_tags[][2] = {{0x0008, 0x1150}, {0x0008, 0x1155}, {0x2200, 0x000C}};
    static const uint16_t media_tags[][2] = {{0x0088, 0x0130}, {0x0088, 0x0140}};
    unsigned char bytes[512];
    long before = max_rss_kib();

    size_t n = put_header(bytes, 0, 0x0008, 0x1199, "SQ", 0xFFFFFFFFu);
    n = put_item_of_sequences(bytes, n, reference_tags, 3);
    n = put_header(bytes, n, 0xFFFE, 0xE0DD, NULL, 0);
    mcm_request *request = NULL;
    ck_assert_int_eq(mcm_test_request_from_bytes(bytes, n, 1, &request), MCM_OK);
    ck_assert_uint_eq(mcm_request_reference_count(request), 1);
    mcm_response rsp;
    ck_assert_int_eq(mcm_request_validate(request, 0, &rsp), MCM_OK);
    ck_assert_int_eq(rsp.category, MCM_CATEGORY_FAILURE);
    mcm_request_free(request);

    n = put_header(bytes, 0, 0x0008, 0x1198, "SQ", 0xFFFFFFFFu);
    n = put_item_of_sequences(bytes, n, reference_tags, 3);
    n = put_header(bytes, n, 0xFFFE, 0xE0DD, NULL, 0);
    n = put_header(bytes, n, 0x2200, 0x000D, "SQ", 0xFFFFFFFFu);
    n = put_item_of_sequences(bytes, n, media_tags, 2);
    n = put_header(bytes, n, 0xFFFE, 0xE0DD, NULL, 0);
    mcm_job *job = NULL;
    ck_assert_int_eq(mcm_test_job_from_bytes(bytes, n, 1, "1.2.3", &job), MCM_OK);
    ck_assert_uint_eq(mcm_job_failed_count(job), 1);
    ck_assert_uint_eq(mcm_job_media_count(job), 1);
    mcm_job_free(job);

    long grown = max_rss_kib() - before;
    ck_assert_msg(grown < 256L * 1024, "decoding a few hundred bytes grew the process by %ld KiB", grown);
}
END_TEST

/* Invalid arguments are refused without a crash. */
START_TEST(null_arguments)
{
    mcm_request *out = NULL;
    ck_assert_int_eq(mcm_test_request_roundtrip(NULL, 0, MCM_TEST_WIRE_MEMORY, NULL, 0, &out, NULL, NULL), MCM_EINVAL);
    ck_assert_int_eq(mcm_test_job_roundtrip(NULL, NULL, 0, MCM_TEST_WIRE_MEMORY, NULL, 0, NULL, NULL, NULL, NULL),
                     MCM_EINVAL);
}
END_TEST

Suite *mcm_suite_dataset(void)
{
    Suite *s = suite_create("dataset");
    TCase *tc = tcase_create("roundtrip");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, request_create_every_attribute, 0, WIRE_COUNT);
    tcase_add_loop_test(tc, request_initiate_carries_copies_and_priority_only, 0, WIRE_COUNT);
    tcase_add_loop_test(tc, request_raw_values_byte_for_byte, 0, WIRE_COUNT);
    tcase_add_loop_test(tc, request_character_sets_kept, 0, WIRE_COUNT);
    tcase_add_loop_test(tc, request_empty_values_and_sequence, 0, WIRE_COUNT);
    tcase_add_loop_test(tc, request_icons, 0, WIRE_COUNT);
    tcase_add_loop_test(tc, job_every_attribute, 0, WIRE_COUNT);
    tcase_add_loop_test(tc, job_selection_by_tags, 0, WIRE_COUNT);
    tcase_add_loop_test(tc, job_empty_sequences, 0, WIRE_COUNT);
    tcase_add_test(tc, forbidden_uids_never_encoded);
    tcase_add_loop_test(tc, unknown_and_private_tags_noted, 0, WIRE_COUNT);
    tcase_add_test(tc, null_arguments);
    tcase_add_test(tc, sequence_where_a_value_belongs);
    suite_add_tcase(s, tc);
    TCase *big = tcase_create("large");
    tcase_set_timeout(big, 120);
    tcase_add_test(big, hundred_thousand_items_linear);
    suite_add_tcase(s, big);
    return s;
}
