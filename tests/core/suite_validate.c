/*
 * tests/core/suite_validate.c: mcm_request_validate() (lib/core/request.c): what an SCP answers an N-CREATE
 * (digest 3.5, 5.10, 7.2, 7.5, A8-A11, A14, A18): 0120 / 0121 / 0106 / 0105 with their tags, the
 * precedence between them, lenient and strict modes, the Error Comment; and hostile values stored
 * through the internal raw setters (embedded NULs, megabyte strings, 100,000 items).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dcmmcm.h"
#include "core/request_internal.h"
#include "testutil.h"
#include "core/vr.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define CT_IMAGE "1.2.840.10008.5.1.4.1.1.2"
#define INSTANCE_1 "1.2.826.0.1.3680043.2.1125.1.1"

static mcm_request *new_request(void)
{
    mcm_request *r = NULL;
    ck_assert_int_eq(mcm_request_new(&r), MCM_OK);
    return r;
}

/* A request that validates: one good item. */
static mcm_request *valid_request(void)
{
    mcm_request *r = new_request();
    ck_assert_int_eq(mcm_request_add_reference(r, CT_IMAGE, INSTANCE_1, "STD-GEN-CD"), MCM_OK);
    return r;
}

static void set_raw(mcm_request *r, uint32_t tag, const char *value)
{
    ck_assert_int_eq(mcm_request_set_attribute_raw(r, tag, value, value != NULL ? strlen(value) : 0), MCM_OK);
}

static void add_raw(mcm_request *r, const char *class_uid, const char *instance_uid, const char *profile)
{
    ck_assert_int_eq(mcm_request_add_reference_raw(r, class_uid, class_uid ? strlen(class_uid) : 0, instance_uid,
                                                   instance_uid ? strlen(instance_uid) : 0, profile,
                                                   profile ? strlen(profile) : 0),
                     MCM_OK);
}

/* The Error Comment is LO: present on a failure, at most 64 characters, no backslash, no control
 * character (digest 7.5, A18). */
static void check_comment(const mcm_response *out)
{
    size_t n = strlen(out->error_comment);
    if (out->status == 0x0000) {
        ck_assert_uint_eq(n, 0);
        return;
    }
    ck_assert_msg(n > 0, "status 0x%04X without an Error Comment", out->status);
    ck_assert_uint_le(n, MCM_COMMENT_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)out->error_comment[i];
        ck_assert_msg(c != '\\' && c >= 0x20 && c < 0x7F, "comment \"%s\"", out->error_comment);
    }
}

static mcm_response validate(const mcm_request *r, unsigned flags)
{
    mcm_response out;
    memset(&out, 0x5A, sizeof out); /* whatever was there before must not show through */
    ck_assert_int_eq(mcm_request_validate(r, flags, &out), MCM_OK);
    ck_assert_int_eq(out.category, mcm_status_category_of(out.status, MCM_OP_N_CREATE));
    ck_assert_int_eq(out.has_error_id, 0);
    ck_assert_int_eq(out.has_action_type_id, 0);
    ck_assert_str_eq(out.affected_sop_instance_uid, "");
    ck_assert_uint_le(out.offending_element_count, MCM_RESPONSE_MAX_TAGS);
    ck_assert_uint_le(out.attribute_identifier_count, MCM_RESPONSE_MAX_TAGS);
    /* Whatever validation answers, an SCP may send it on N-CREATE (never a Warning, S.3.2.1.3). */
    ck_assert(mcm_status_scp_may_send(out.status, MCM_OP_N_CREATE));
    check_comment(&out);
    return out;
}

static int has_tag(const uint32_t *tags, size_t n, uint32_t tag)
{
    for (size_t i = 0; i < n; i++)
        if (tags[i] == tag)
            return 1;
    return 0;
}

/* status with exactly the given offending elements (0106, 0121) or attribute identifiers (0105,
 * 0120), in any order, and nothing in the other list. */
static void expect(const mcm_response *out, uint16_t status, const uint32_t *tags, size_t n)
{
    ck_assert_msg(out->status == status, "status 0x%04X, want 0x%04X (%s)", out->status, status, out->error_comment);
    int identifiers = status == 0x0120 || status == 0x0105;
    const uint32_t *list = identifiers ? out->attribute_identifiers : out->offending_elements;
    size_t count = identifiers ? out->attribute_identifier_count : out->offending_element_count;
    size_t other = identifiers ? out->offending_element_count : out->attribute_identifier_count;
    ck_assert_uint_eq(other, 0);
    ck_assert_msg(count == n, "0x%04X: %zu tags, want %zu", status, count, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(has_tag(list, count, tags[i]), "0x%04X: (%04X,%04X) missing", status, (unsigned)(tags[i] >> 16),
                      (unsigned)(tags[i] & 0xFFFF));
}

#define EXPECT(out, status, ...)                                                                                       \
    do {                                                                                                               \
        const uint32_t tags_[] = {__VA_ARGS__};                                                                        \
        expect(&(out), (status), tags_, COUNT(tags_));                                                                 \
    } while (0)

/* ---- the statuses ---- */

START_TEST(valid_request_is_success)
{
    mcm_request *r = valid_request();
    mcm_response out = validate(r, 0);
    ck_assert_uint_eq(out.status, 0x0000);
    ck_assert_int_eq(out.category, MCM_CATEGORY_SUCCESS);
    ck_assert_uint_eq(out.offending_element_count, 0);
    ck_assert_uint_eq(out.attribute_identifier_count, 0);
    out = validate(r, MCM_VALIDATE_STRICT);
    ck_assert_uint_eq(out.status, 0x0000);

    /* Every optional attribute set to a valid value still passes, in both modes. */
    static const struct {
        uint32_t tag;
        const char *value;
    } all[] = {
        {MCM_TAG_SPECIFIC_CHARACTER_SET, "ISO_IR 192"},
        {MCM_TAG_STORAGE_MEDIA_FILESET_ID, "PATIENT_0001"},
        {MCM_TAG_STORAGE_MEDIA_FILESET_UID, "2.25.1"},
        {MCM_TAG_NUMBER_OF_COPIES, "2"},
        {MCM_TAG_LABEL_USING_INFORMATION, "YES"},
        {MCM_TAG_LABEL_TEXT, "Jane\r\nDoe"},
        {MCM_TAG_LABEL_STYLE_SELECTION, "COMPACT"},
        {MCM_TAG_MEDIA_DISPOSITION, "Mail to patient"},
        {MCM_TAG_BARCODE_VALUE, "123456"},
        {MCM_TAG_BARCODE_SYMBOLOGY, "QR_CODE"},
        {MCM_TAG_ALLOW_MEDIA_SPLITTING, "NO"},
        {MCM_TAG_INCLUDE_NON_DICOM_OBJECTS, "FOR_PATIENT"},
        {MCM_TAG_INCLUDE_DISPLAY_APPLICATION, "YES"},
        {MCM_TAG_PRESERVE_COMPOSITE_INSTANCES, "NO"},
        {MCM_TAG_ALLOW_LOSSY_COMPRESSION, "NO"},
        {MCM_TAG_REQUEST_PRIORITY, "LOW"},
    };
    ck_assert_uint_eq(COUNT(all), mcm_request_attribute_count);
    for (size_t i = 0; i < COUNT(all); i++)
        ck_assert_int_eq(mcm_request_set_attribute(r, all[i].tag, all[i].value), MCM_OK);
    ck_assert_uint_eq(validate(r, 0).status, 0x0000);
    ck_assert_uint_eq(validate(r, MCM_VALIDATE_STRICT).status, 0x0000);
    mcm_request_free(r);
}
END_TEST

START_TEST(missing_sequence_is_0120)
{
    mcm_request *r = new_request();
    mcm_response out = validate(r, 0);
    EXPECT(out, 0x0120, MCM_TAG_REFERENCED_SOP_SEQUENCE);
    ck_assert_int_eq(out.category, MCM_CATEGORY_FAILURE);
    ck_assert_ptr_nonnull(strstr(out.error_comment, "(0008,1199)"));
    /* Attributes alone do not make a request. */
    ck_assert_int_eq(mcm_request_set_attribute(r, MCM_TAG_LABEL_TEXT, "x"), MCM_OK);
    out = validate(r, MCM_VALIDATE_STRICT);
    EXPECT(out, 0x0120, MCM_TAG_REFERENCED_SOP_SEQUENCE);
    /* Marking the sequence absent again after items were added wins. */
    mcm_request *s = valid_request();
    mcm_request_set_reference_sequence_present(s, 0);
    out = validate(s, 0);
    EXPECT(out, 0x0120, MCM_TAG_REFERENCED_SOP_SEQUENCE);
    mcm_request_free(s);
    mcm_request_free(r);
}
END_TEST

START_TEST(missing_item_uids_are_0120)
{
    mcm_request *r = new_request();
    add_raw(r, NULL, INSTANCE_1, NULL);
    mcm_response out = validate(r, 0);
    EXPECT(out, 0x0120, MCM_TAG_REFERENCED_SOP_CLASS_UID);
    ck_assert_ptr_nonnull(strstr(out.error_comment, "item 1"));
    ck_assert_ptr_nonnull(strstr(out.error_comment, "(0008,1150)"));
    add_raw(r, CT_IMAGE, NULL, NULL);
    add_raw(r, NULL, NULL, NULL);
    out = validate(r, 0);
    EXPECT(out, 0x0120, MCM_TAG_REFERENCED_SOP_CLASS_UID, MCM_TAG_REFERENCED_SOP_INSTANCE_UID);
    /* The first problem is the one described. */
    ck_assert_ptr_nonnull(strstr(out.error_comment, "item 1"));
    mcm_request_free(r);

    r = new_request();
    add_raw(r, CT_IMAGE, INSTANCE_1, NULL);
    add_raw(r, CT_IMAGE, NULL, NULL);
    out = validate(r, 0);
    EXPECT(out, 0x0120, MCM_TAG_REFERENCED_SOP_INSTANCE_UID);
    ck_assert_ptr_nonnull(strstr(out.error_comment, "item 2"));
    mcm_request_free(r);
}
END_TEST

START_TEST(empty_sequence_is_0121)
{
    mcm_request *r = new_request();
    mcm_request_set_reference_sequence_present(r, 1);
    ck_assert_int_eq(mcm_request_reference_sequence_present(r), 1);
    mcm_response out = validate(r, 0);
    EXPECT(out, 0x0121, MCM_TAG_REFERENCED_SOP_SEQUENCE);
    ck_assert_ptr_nonnull(strstr(out.error_comment, "(0008,1199)"));
    mcm_request_free(r);
}
END_TEST

START_TEST(empty_item_uids_are_0121)
{
    mcm_request *r = new_request();
    add_raw(r, "", INSTANCE_1, NULL);
    mcm_response out = validate(r, 0);
    EXPECT(out, 0x0121, MCM_TAG_REFERENCED_SOP_CLASS_UID);
    add_raw(r, CT_IMAGE, "", NULL);
    out = validate(r, 0);
    EXPECT(out, 0x0121, MCM_TAG_REFERENCED_SOP_CLASS_UID, MCM_TAG_REFERENCED_SOP_INSTANCE_UID);
    ck_assert_ptr_nonnull(strstr(out.error_comment, "item 1"));
    mcm_request_free(r);
}
END_TEST

START_TEST(invalid_values_are_0106)
{
    /* Each attribute with a value its VR or enumerated values refuse (digest A10, A11). */
    static const struct {
        uint32_t tag;
        const char *value;
    } bad[] = {
        {MCM_TAG_SPECIFIC_CHARACTER_SET, "ISO_IR 999"},
        {MCM_TAG_STORAGE_MEDIA_FILESET_ID, "back\\slash"},
        {MCM_TAG_STORAGE_MEDIA_FILESET_UID, "1.02"},
        {MCM_TAG_NUMBER_OF_COPIES, "two"},
        {MCM_TAG_LABEL_USING_INFORMATION, "yes"},
        {MCM_TAG_LABEL_TEXT, "bell\a"},
        {MCM_TAG_LABEL_STYLE_SELECTION, "lower"},
        {MCM_TAG_MEDIA_DISPOSITION, "x\x01"},
        {MCM_TAG_BARCODE_VALUE, "x\x7F"},
        {MCM_TAG_BARCODE_SYMBOLOGY, "qr"},
        {MCM_TAG_ALLOW_MEDIA_SPLITTING, "MAYBE"},
        {MCM_TAG_INCLUDE_NON_DICOM_OBJECTS, "YES"},
        {MCM_TAG_INCLUDE_DISPLAY_APPLICATION, "TRUE"},
        {MCM_TAG_PRESERVE_COMPOSITE_INSTANCES, "1"},
        {MCM_TAG_ALLOW_LOSSY_COMPRESSION, "N"},
        {MCM_TAG_REQUEST_PRIORITY, "MEDIUM"},
    };
    ck_assert_uint_eq(COUNT(bad), mcm_request_attribute_count);
    for (size_t i = 0; i < COUNT(bad); i++) {
        mcm_request *r = valid_request();
        set_raw(r, bad[i].tag, bad[i].value);
        /* The public setter refuses the same value. */
        ck_assert_int_eq(mcm_request_set_attribute(r, bad[i].tag, bad[i].value), MCM_EINVAL);
        mcm_response out = validate(r, 0);
        ck_assert_msg(out.status == 0x0106, "(%04X,%04X) \"%s\": 0x%04X", (unsigned)(bad[i].tag >> 16),
                      (unsigned)(bad[i].tag & 0xFFFF), bad[i].value, out.status);
        EXPECT(out, 0x0106, bad[i].tag);
        char tag_text[16];
        snprintf(tag_text, sizeof tag_text, "(%04X,%04X)", (unsigned)(bad[i].tag >> 16),
                 (unsigned)(bad[i].tag & 0xFFFF));
        ck_assert_msg(strstr(out.error_comment, tag_text) != NULL, "comment \"%s\"", out.error_comment);
        mcm_request_free(r);
    }
    /* Several at once: every tag listed. */
    mcm_request *r = valid_request();
    set_raw(r, MCM_TAG_ALLOW_MEDIA_SPLITTING, "MAYBE");
    set_raw(r, MCM_TAG_REQUEST_PRIORITY, "URGENT");
    add_raw(r, CT_IMAGE, "1.2.03", "STD\\GEN");
    mcm_response out = validate(r, 0);
    EXPECT(out, 0x0106, MCM_TAG_ALLOW_MEDIA_SPLITTING, MCM_TAG_REQUEST_PRIORITY, MCM_TAG_REFERENCED_SOP_INSTANCE_UID,
           MCM_TAG_REQUESTED_MEDIA_APPLICATION_PROFILE);
    ck_assert_ptr_nonnull(strstr(out.error_comment, "item 2"));
    mcm_request_free(r);
}
END_TEST

START_TEST(invalid_item_values_are_0106)
{
    char *uid_65 = malloc(66);
    memset(uid_65, '1', 65);
    uid_65[65] = '\0';
    const struct {
        const char *class_uid, *instance_uid, *profile;
        uint32_t tag;
    } bad[] = {
        {"1.2.x", INSTANCE_1, NULL, MCM_TAG_REFERENCED_SOP_CLASS_UID},
        {CT_IMAGE, "1..2", NULL, MCM_TAG_REFERENCED_SOP_INSTANCE_UID},
        {CT_IMAGE, uid_65, NULL, MCM_TAG_REFERENCED_SOP_INSTANCE_UID},
        {CT_IMAGE, "1.2.3 ", NULL, MCM_TAG_REFERENCED_SOP_INSTANCE_UID},
        {CT_IMAGE, INSTANCE_1, "STD-GEN-CD\\STD-GEN-DVD-JPEG", MCM_TAG_REQUESTED_MEDIA_APPLICATION_PROFILE},
        {CT_IMAGE, INSTANCE_1, "STD\tGEN", MCM_TAG_REQUESTED_MEDIA_APPLICATION_PROFILE},
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        mcm_request *r = new_request();
        add_raw(r, bad[i].class_uid, bad[i].instance_uid, bad[i].profile);
        mcm_response out = validate(r, MCM_VALIDATE_STRICT);
        EXPECT(out, 0x0106, bad[i].tag);
        mcm_request_free(r);
    }
    free(uid_65);
}
END_TEST

START_TEST(lenient_and_strict_empty_values)
{
    /* Type 3 attributes may not be sent empty (PS3.4 5.4.2.1): lenient mode reads empty as absent,
     * strict mode answers 0121 with the tag. */
    for (size_t k = 0; k < mcm_request_attribute_count; k++) {
        uint32_t tag = mcm_request_attributes[k].tag;
        mcm_request *r = valid_request();
        ck_assert_int_eq(mcm_request_set_attribute_raw(r, tag, "", 0), MCM_OK);
        ck_assert_ptr_nonnull(mcm_request_attribute(r, tag));
        ck_assert_uint_eq(mcm_request_attribute_length(r, tag), 0);
        ck_assert_uint_eq(validate(r, 0).status, 0x0000);
        mcm_response out = validate(r, MCM_VALIDATE_STRICT);
        EXPECT(out, 0x0121, tag);
        mcm_request_free(r);
    }
    /* An empty profile likewise. */
    mcm_request *r = new_request();
    add_raw(r, CT_IMAGE, INSTANCE_1, "");
    ck_assert_uint_eq(validate(r, 0).status, 0x0000);
    mcm_response out = validate(r, MCM_VALIDATE_STRICT);
    EXPECT(out, 0x0121, MCM_TAG_REQUESTED_MEDIA_APPLICATION_PROFILE);
    mcm_request_free(r);
    /* A CS of spaces only is empty. */
    r = valid_request();
    set_raw(r, MCM_TAG_ALLOW_MEDIA_SPLITTING, "    ");
    ck_assert_uint_eq(validate(r, 0).status, 0x0000);
    out = validate(r, MCM_VALIDATE_STRICT);
    EXPECT(out, 0x0121, MCM_TAG_ALLOW_MEDIA_SPLITTING);
    mcm_request_free(r);
}
END_TEST

START_TEST(unknown_attributes_0105_only_when_strict)
{
    /* Digest A9: ignored by default (0107 is forbidden on N-CREATE), 0105 with the tags when strict. */
    mcm_request *r = valid_request();
    ck_assert_int_eq(mcm_request_note_unknown(r, MCM_TAG(0x0009, 0x1001)), MCM_OK);
    ck_assert_int_eq(mcm_request_note_unknown(r, MCM_TAG_SOP_INSTANCE_UID), MCM_OK);
    ck_assert_int_eq(mcm_request_note_unknown(r, MCM_TAG(0x0009, 0x1001)), MCM_OK); /* once */
    ck_assert_uint_eq(mcm_request_unknown_count(r), 2);
    ck_assert_uint_eq(mcm_request_unknown(r, 0), MCM_TAG(0x0009, 0x1001));
    ck_assert_uint_eq(mcm_request_unknown(r, 1), MCM_TAG_SOP_INSTANCE_UID);
    ck_assert_uint_eq(mcm_request_unknown(r, 2), 0);
    ck_assert_uint_eq(mcm_request_unknown(NULL, 0), 0);
    ck_assert_uint_eq(mcm_request_unknown_count(NULL), 0);
    ck_assert_int_eq(mcm_request_note_unknown(NULL, 1), MCM_EINVAL);
    ck_assert_uint_eq(validate(r, 0).status, 0x0000);
    mcm_response out = validate(r, MCM_VALIDATE_STRICT);
    EXPECT(out, 0x0105, MCM_TAG(0x0009, 0x1001), MCM_TAG_SOP_INSTANCE_UID);
    ck_assert_ptr_nonnull(strstr(out.error_comment, "(0009,1001)"));
    mcm_request_free(r);
}
END_TEST

START_TEST(strict_fileset_id_must_suit_a_dicomdir)
{
    /* Digest A8: any SH is accepted; strict mode refuses what a DICOMDIR File-set ID (CS, A-Z 0-9 _,
     * 16 at most) cannot hold, with 0106 and (0088,0130). */
    static const char *const unsafe[] = {"my disc", "DISC-1", "DISC 1", "Caf\xC3\xA9", "disc"};
    static const char *const safe[] = {"MY_DISC", "DISC1", "0123456789ABCDEF", "DISC1 ", " DISC1", "_"};
    for (size_t i = 0; i < COUNT(unsafe); i++) {
        mcm_request *r = valid_request();
        ck_assert_int_eq(mcm_request_set_attribute(r, MCM_TAG_STORAGE_MEDIA_FILESET_ID, unsafe[i]), MCM_OK);
        ck_assert_uint_eq(validate(r, 0).status, 0x0000);
        mcm_response out = validate(r, MCM_VALIDATE_STRICT);
        EXPECT(out, 0x0106, MCM_TAG_STORAGE_MEDIA_FILESET_ID);
        mcm_request_free(r);
    }
    for (size_t i = 0; i < COUNT(safe); i++) {
        mcm_request *r = valid_request();
        ck_assert_int_eq(mcm_request_set_attribute(r, MCM_TAG_STORAGE_MEDIA_FILESET_ID, safe[i]), MCM_OK);
        mcm_response out = validate(r, MCM_VALIDATE_STRICT);
        ck_assert_msg(out.status == 0x0000, "\"%s\": 0x%04X %s", safe[i], out.status, out.error_comment);
        mcm_request_free(r);
    }
}
END_TEST

START_TEST(precedence_0120_0121_0106_0105)
{
    /* One request with a problem of every class; removing them one by one walks down the order. */
    mcm_request *r = new_request();
    add_raw(r, NULL, INSTANCE_1, NULL);                                             /* 0120 */
    add_raw(r, CT_IMAGE, "", NULL);                                                 /* 0121 */
    set_raw(r, MCM_TAG_ALLOW_LOSSY_COMPRESSION, "PERHAPS");                         /* 0106 */
    ck_assert_int_eq(mcm_request_note_unknown(r, MCM_TAG(0x0011, 0x0010)), MCM_OK); /* 0105 */
    mcm_response out = validate(r, MCM_VALIDATE_STRICT);
    EXPECT(out, 0x0120, MCM_TAG_REFERENCED_SOP_CLASS_UID);
    out = validate(r, 0);
    EXPECT(out, 0x0120, MCM_TAG_REFERENCED_SOP_CLASS_UID);

    mcm_request *s = new_request();
    add_raw(s, CT_IMAGE, "", NULL);
    set_raw(s, MCM_TAG_ALLOW_LOSSY_COMPRESSION, "PERHAPS");
    ck_assert_int_eq(mcm_request_note_unknown(s, MCM_TAG(0x0011, 0x0010)), MCM_OK);
    out = validate(s, MCM_VALIDATE_STRICT);
    EXPECT(out, 0x0121, MCM_TAG_REFERENCED_SOP_INSTANCE_UID);

    mcm_request_free(s);
    s = valid_request();
    set_raw(s, MCM_TAG_ALLOW_LOSSY_COMPRESSION, "PERHAPS");
    ck_assert_int_eq(mcm_request_note_unknown(s, MCM_TAG(0x0011, 0x0010)), MCM_OK);
    out = validate(s, MCM_VALIDATE_STRICT);
    EXPECT(out, 0x0106, MCM_TAG_ALLOW_LOSSY_COMPRESSION);
    set_raw(s, MCM_TAG_ALLOW_LOSSY_COMPRESSION, NULL);
    out = validate(s, MCM_VALIDATE_STRICT);
    EXPECT(out, 0x0105, MCM_TAG(0x0011, 0x0010));
    ck_assert_uint_eq(validate(s, 0).status, 0x0000);

    /* A missing sequence beats everything, an empty one everything else. */
    mcm_request_free(s);
    s = new_request();
    set_raw(s, MCM_TAG_REQUEST_PRIORITY, "NOW");
    set_raw(s, MCM_TAG_LABEL_TEXT, "");
    out = validate(s, MCM_VALIDATE_STRICT);
    EXPECT(out, 0x0120, MCM_TAG_REFERENCED_SOP_SEQUENCE);
    mcm_request_set_reference_sequence_present(s, 1);
    out = validate(s, MCM_VALIDATE_STRICT);
    EXPECT(out, 0x0121, MCM_TAG_REFERENCED_SOP_SEQUENCE, MCM_TAG_LABEL_TEXT);
    out = validate(s, 0);
    EXPECT(out, 0x0121, MCM_TAG_REFERENCED_SOP_SEQUENCE);
    mcm_request_free(s);
    mcm_request_free(r);
}
END_TEST

START_TEST(duplicates_accepted_at_ncreate)
{
    /* Digest A14: DUPL_REF_INST is the media worker's business at job start. */
    mcm_request *r = valid_request();
    ck_assert_int_eq(mcm_request_add_reference(r, CT_IMAGE, INSTANCE_1, "STD-GEN-CD"), MCM_OK);
    ck_assert_uint_eq(validate(r, MCM_VALIDATE_STRICT).status, 0x0000);
    mcm_request_free(r);
}
END_TEST

START_TEST(validate_null_arguments)
{
    mcm_response out;
    mcm_request *r = valid_request();
    ck_assert_int_eq(mcm_request_validate(NULL, 0, &out), MCM_EINVAL);
    ck_assert_int_eq(mcm_request_validate(r, 0, NULL), MCM_EINVAL);
    /* Unknown flag bits are ignored. */
    ck_assert_uint_eq(validate(r, 0xFFFFFFF0u).status, 0x0000);
    mcm_request_free(r);
}
END_TEST

/* ---- hostile values through the raw setters ---- */

START_TEST(embedded_nul_characters)
{
    static const uint32_t tags[] = {MCM_TAG_ALLOW_MEDIA_SPLITTING,    MCM_TAG_LABEL_TEXT,
                                    MCM_TAG_STORAGE_MEDIA_FILESET_ID, MCM_TAG_STORAGE_MEDIA_FILESET_UID,
                                    MCM_TAG_SPECIFIC_CHARACTER_SET,   MCM_TAG_NUMBER_OF_COPIES,
                                    MCM_TAG_MEDIA_DISPOSITION};
    static const char *const values[] = {"YES\0NO",
                                         "text\0more",
                                         "DISC\0X",
                                         "1.2\0.3",
                                         "ISO_IR 100\0X",
                                         "5\0"
                                         "0",
                                         "a\0b"};
    static const size_t lengths[] = {6, 9, 6, 6, 12, 3, 3};
    for (size_t i = 0; i < COUNT(tags); i++) {
        mcm_request *r = valid_request();
        ck_assert_int_eq(mcm_request_set_attribute_raw(r, tags[i], values[i], lengths[i]), MCM_OK);
        ck_assert_uint_eq(mcm_request_attribute_length(r, tags[i]), lengths[i]);
        mcm_response out = validate(r, 0);
        EXPECT(out, 0x0106, tags[i]);
        ck_assert_ptr_nonnull(strstr(out.error_comment, "NUL"));
        mcm_request_free(r);
    }
    /* In items. */
    mcm_request *r = new_request();
    ck_assert_int_eq(mcm_request_add_reference_raw(r, CT_IMAGE, strlen(CT_IMAGE), "1.2\0.3", 6, "STD\0GEN", 7), MCM_OK);
    size_t class_length, instance_length, profile_length;
    ck_assert_int_eq(mcm_request_reference_lengths(r, 0, &class_length, &instance_length, &profile_length), MCM_OK);
    ck_assert_uint_eq(instance_length, 6);
    ck_assert_uint_eq(profile_length, 7);
    mcm_response out = validate(r, 0);
    EXPECT(out, 0x0106, MCM_TAG_REFERENCED_SOP_INSTANCE_UID, MCM_TAG_REQUESTED_MEDIA_APPLICATION_PROFILE);
    mcm_request_free(r);
    /* A value that is a single NUL is not empty. */
    r = valid_request();
    ck_assert_int_eq(mcm_request_set_attribute_raw(r, MCM_TAG_BARCODE_VALUE, "\0", 1), MCM_OK);
    out = validate(r, 0);
    EXPECT(out, 0x0106, MCM_TAG_BARCODE_VALUE);
    mcm_request_free(r);
}
END_TEST

START_TEST(megabyte_strings)
{
    enum { MB = 1 << 20 };
    char *big = malloc(MB + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, 'A', MB);
    big[MB] = '\0';
    static const uint32_t short_vrs[] = {MCM_TAG_STORAGE_MEDIA_FILESET_ID,
                                         MCM_TAG_STORAGE_MEDIA_FILESET_UID,
                                         MCM_TAG_ALLOW_MEDIA_SPLITTING,
                                         MCM_TAG_SPECIFIC_CHARACTER_SET,
                                         MCM_TAG_NUMBER_OF_COPIES,
                                         MCM_TAG_MEDIA_DISPOSITION,
                                         MCM_TAG_BARCODE_VALUE,
                                         MCM_TAG_LABEL_STYLE_SELECTION};
    for (size_t i = 0; i < COUNT(short_vrs); i++) {
        mcm_request *r = valid_request();
        ck_assert_int_eq(mcm_request_set_attribute_raw(r, short_vrs[i], big, MB), MCM_OK);
        mcm_response out = validate(r, 0);
        EXPECT(out, 0x0106, short_vrs[i]);
        ck_assert_int_eq(mcm_request_set_attribute(r, short_vrs[i], big), MCM_EINVAL);
        mcm_request_free(r);
    }
    /* A megabyte UID or profile in an item. */
    mcm_request *r = new_request();
    memset(big, '1', MB);
    add_raw(r, CT_IMAGE, big, NULL);
    add_raw(r, CT_IMAGE, INSTANCE_1, big);
    mcm_response out = validate(r, 0);
    EXPECT(out, 0x0106, MCM_TAG_REFERENCED_SOP_INSTANCE_UID, MCM_TAG_REQUESTED_MEDIA_APPLICATION_PROFILE);
    ck_assert_int_eq(mcm_request_add_reference(r, CT_IMAGE, big, NULL), MCM_EINVAL);
    mcm_request_free(r);
    /* The Label Text (UT) may be that long. */
    r = valid_request();
    set_raw(r, MCM_TAG_LABEL_TEXT, big);
    ck_assert_uint_eq(validate(r, MCM_VALIDATE_STRICT).status, 0x0000);
    mcm_request_free(r);
    free(big);
}
END_TEST

START_TEST(ut_of_many_megabytes)
{
    const size_t size = 8u << 20;
    char *text = malloc(size + 1);
    ck_assert_ptr_nonnull(text);
    for (size_t i = 0; i < size; i++)
        text[i] = i % 80 == 79 ? '\n' : (char)('a' + (char)(i % 26));
    text[size] = '\0';
    mcm_request *r = valid_request();
    ck_assert_int_eq(mcm_request_set_attribute(r, MCM_TAG_LABEL_TEXT, text), MCM_OK);
    ck_assert_uint_eq(mcm_request_attribute_length(r, MCM_TAG_LABEL_TEXT), size);
    ck_assert_uint_eq(validate(r, MCM_VALIDATE_STRICT).status, 0x0000);
    /* One control character at the very end is found. */
    text[size - 1] = '\x02';
    ck_assert_int_eq(mcm_request_set_attribute(r, MCM_TAG_LABEL_TEXT, text), MCM_EINVAL);
    ck_assert_uint_eq(mcm_request_attribute_length(r, MCM_TAG_LABEL_TEXT), size); /* old value kept */
    set_raw(r, MCM_TAG_LABEL_TEXT, text);
    mcm_response out = validate(r, 0);
    EXPECT(out, 0x0106, MCM_TAG_LABEL_TEXT);
    mcm_request *copy = NULL;
    ck_assert_int_eq(mcm_request_clone(&copy, r), MCM_OK);
    ck_assert_uint_eq(mcm_request_attribute_length(copy, MCM_TAG_LABEL_TEXT), size);
    mcm_request_free(copy);
    mcm_request_free(r);
    free(text);
}
END_TEST

/* Items numbered from base; every bad_every-th one has an invalid instance UID (0: none). */
static mcm_request *many_items(size_t n, size_t bad_every)
{
    mcm_request *r = new_request();
    char uid[MCM_UID_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        if (bad_every != 0 && i % bad_every == bad_every - 1)
            snprintf(uid, sizeof uid, "1.2.0%zu", i);
        else
            snprintf(uid, sizeof uid, "1.2.826.0.1.3680043.2.1125.%zu", i + 1);
        ck_assert_int_eq(
            mcm_request_add_reference_raw(r, CT_IMAGE, strlen(CT_IMAGE), uid, strlen(uid), "STD-GEN-DVD-JPEG", 16),
            MCM_OK);
    }
    ck_assert_uint_eq(mcm_request_reference_count(r), n);
    return r;
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The smallest of three runs: one validation's CPU time. */
static double validation_ms(const mcm_request *r)
{
    double best = 1e30;
    for (int run = 0; run < 3; run++) {
        mcm_response out;
        double start = cpu_ms();
        ck_assert_int_eq(mcm_request_validate(r, MCM_VALIDATE_STRICT, &out), MCM_OK);
        double took = cpu_ms() - start;
        if (took < best)
            best = took;
    }
    return best;
}

START_TEST(hundred_thousand_items_validate_in_linear_time)
{
    enum { SMALL = 10000, LARGE = 100000 };
    mcm_request *small = many_items(SMALL, 0), *large = many_items(LARGE, 0);
    ck_assert_uint_eq(validate(large, MCM_VALIDATE_STRICT).status, 0x0000);
    /* Ten times the items should take about ten times as long. Quadratic work would take a hundred
     * times; the bound is loose (40x), on the best of three runs of CPU time, so that a busy machine
     * cannot make it fail. */
    double t_small = validation_ms(small), t_large = validation_ms(large);
    ck_assert_msg(t_large < 40 * t_small + 5.0, "10,000 items: %.2f ms, 100,000 items: %.2f ms", t_small, t_large);
    mcm_request_free(small);
    mcm_request_free(large);

    /* The same with every 10th item invalid: the offending list stays one tag, the comment is the
     * first bad item. */
    large = many_items(LARGE, 10);
    mcm_response out = validate(large, 0);
    EXPECT(out, 0x0106, MCM_TAG_REFERENCED_SOP_INSTANCE_UID);
    ck_assert_ptr_nonnull(strstr(out.error_comment, "item 10:"));
    mcm_request_free(large);
}
END_TEST

START_TEST(every_attribute_wrong_at_once)
{
    /* 16 attributes, both UIDs, the profile and the icon of every item wrong: 20 distinct tags, of
     * which a response holds 16, each once. */
    enum { ITEMS = 1000 };
    mcm_request *r = new_request();
    mcm_icon icon = {
        .rows = 64, .columns = 64, .bits_allocated = 16, .bits_stored = 16, .high_bit = 15, .photometric = "RGB"};
    for (size_t i = 0; i < ITEMS; i++) {
        add_raw(r, "1.2.x", "1..2", "STD\\GEN");
        ck_assert_int_eq(mcm_request_set_icon_raw(r, i, &icon), MCM_OK);
    }
    const char *wrong = "wrong\\\x01";
    for (size_t k = 0; k < mcm_request_attribute_count; k++)
        set_raw(r, mcm_request_attributes[k].tag, wrong);
    for (uint32_t e = 0; e < 100; e++)
        ck_assert_int_eq(mcm_request_note_unknown(r, MCM_TAG(0x0009, 0x1000 + e)), MCM_OK);

    uint32_t candidates[32];
    size_t n = 0;
    candidates[n++] = MCM_TAG_REFERENCED_SOP_CLASS_UID;
    candidates[n++] = MCM_TAG_REFERENCED_SOP_INSTANCE_UID;
    candidates[n++] = MCM_TAG_REQUESTED_MEDIA_APPLICATION_PROFILE;
    candidates[n++] = MCM_TAG_ICON_IMAGE_SEQUENCE;
    for (size_t k = 0; k < mcm_request_attribute_count; k++)
        candidates[n++] = mcm_request_attributes[k].tag;

    for (int strict = 0; strict <= 1; strict++) {
        mcm_response out = validate(r, strict ? MCM_VALIDATE_STRICT : 0);
        ck_assert_uint_eq(out.status, 0x0106);
        ck_assert_uint_eq(out.offending_element_count, MCM_RESPONSE_MAX_TAGS);
        ck_assert_uint_eq(out.attribute_identifier_count, 0);
        for (size_t i = 0; i < out.offending_element_count; i++) {
            ck_assert(has_tag(candidates, n, out.offending_elements[i]));
            for (size_t k = 0; k < i; k++)
                ck_assert_uint_ne(out.offending_elements[i], out.offending_elements[k]);
        }
        /* The item's tags come first (the sequence is checked before the attributes). */
        ck_assert(has_tag(out.offending_elements, 16, MCM_TAG_REFERENCED_SOP_CLASS_UID));
        ck_assert(has_tag(out.offending_elements, 16, MCM_TAG_ICON_IMAGE_SEQUENCE));
        ck_assert_ptr_nonnull(strstr(out.error_comment, "item 1:"));
    }
    mcm_request_free(r);
}
END_TEST

START_TEST(many_unknown_attributes)
{
    /* A hostile data set may carry 100,000 private attributes; recording them stays cheap (each is
     * compared with the recorded ones only) and a 0105 reply can list 16 of them at most. */
    enum { N = 100000 };
    mcm_request *r = valid_request();
    for (uint32_t i = 0; i < N; i++)
        ck_assert_int_eq(mcm_request_note_unknown(r, MCM_TAG(0x0009 + 2 * (i >> 16), i & 0xFFFF)), MCM_OK);
    ck_assert_uint_eq(mcm_request_unknown_count(r), MCM_RESPONSE_MAX_TAGS);
    for (size_t i = 0; i < MCM_RESPONSE_MAX_TAGS; i++)
        ck_assert_uint_eq(mcm_request_unknown(r, i), MCM_TAG(0x0009, i));
    mcm_response out = validate(r, MCM_VALIDATE_STRICT);
    ck_assert_uint_eq(out.status, 0x0105);
    ck_assert_uint_eq(out.attribute_identifier_count, MCM_RESPONSE_MAX_TAGS);
    ck_assert_uint_eq(out.attribute_identifiers[0], MCM_TAG(0x0009, 0x0000));
    ck_assert_uint_eq(out.attribute_identifiers[15], MCM_TAG(0x0009, 0x000F));
    ck_assert_uint_eq(validate(r, 0).status, 0x0000);
    mcm_request_free(r);
}
END_TEST

Suite *mcm_suite_validate(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tcase_create("statuses");
    tcase_add_test(tc, valid_request_is_success);
    tcase_add_test(tc, missing_sequence_is_0120);
    tcase_add_test(tc, missing_item_uids_are_0120);
    tcase_add_test(tc, empty_sequence_is_0121);
    tcase_add_test(tc, empty_item_uids_are_0121);
    tcase_add_test(tc, invalid_values_are_0106);
    tcase_add_test(tc, invalid_item_values_are_0106);
    tcase_add_test(tc, lenient_and_strict_empty_values);
    tcase_add_test(tc, unknown_attributes_0105_only_when_strict);
    tcase_add_test(tc, strict_fileset_id_must_suit_a_dicomdir);
    tcase_add_test(tc, precedence_0120_0121_0106_0105);
    tcase_add_test(tc, duplicates_accepted_at_ncreate);
    tcase_add_test(tc, validate_null_arguments);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile");
    /* Megabyte values and 100,000 items: generous for valgrind (CK_TIMEOUT_MULTIPLIER). */
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, embedded_nul_characters);
    tcase_add_test(tc, megabyte_strings);
    tcase_add_test(tc, ut_of_many_megabytes);
    tcase_add_test(tc, hundred_thousand_items_validate_in_linear_time);
    tcase_add_test(tc, every_attribute_wrong_at_once);
    tcase_add_test(tc, many_unknown_attributes);
    suite_add_tcase(s, tc);
    return s;
}
