/*
 * tests/core/suite_request.c: the request object (lib/core/request.c) and the syntax checks behind it
 * (lib/core/vr.c): every request attribute through mcm_request_set_attribute() with valid and invalid
 * values (digest 3.1, 3.2, 4.3-4.5, A10), Referenced SOP Sequence items and icons (digest 3.6, PS3.3
 * F.7), clone, the typed copies/priority helpers, File-set ID sanitising (A8) and UIDs (PS3.5 9.1, B.2).
 * Validation of whole requests is in suite_validate.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcmmcm.h"
#include "core/error.h"
#include "core/request_internal.h"
#include "core/vr.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define CT_IMAGE "1.2.840.10008.5.1.4.1.1.2"
#define INSTANCE_1 "1.2.826.0.1.3680043.2.1125.1.1"
#define INSTANCE_2 "1.2.826.0.1.3680043.2.1125.1.2"

static mcm_request *new_request(void)
{
    mcm_request *r = NULL;
    ck_assert_int_eq(mcm_request_new(&r), MCM_OK);
    ck_assert_ptr_nonnull(r);
    return r;
}

/* A string of n copies of c (caller frees). */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    ck_assert_ptr_nonnull(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* A string of n copies of the UTF-8 text unit (caller frees). */
static char *repeat_text(const char *unit, size_t n)
{
    size_t len = strlen(unit);
    char *s = malloc(len * n + 1);
    ck_assert_ptr_nonnull(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * len, unit, len);
    s[len * n] = '\0';
    return s;
}

/* A valid UID of exactly n characters ("1.2.3...." padded with 9s). */
static char *uid_of_length(size_t n)
{
    char *s = repeat('9', n);
    if (n >= 4)
        memcpy(s, "1.2.", 4);
    return s;
}

/* ---- the attribute table (digest 3.1, 3.2) ---- */

typedef struct expected_attribute {
    uint32_t tag;
    const char *keyword;
    mcm_vr vr;
    mcm_value_rule rule;
} expected_attribute;

static const expected_attribute request_table[] = {
    {MCM_TAG(0x0008, 0x0005), "SpecificCharacterSet", MCM_VR_CS, MCM_RULE_CHARSET},
    {MCM_TAG(0x0088, 0x0130), "StorageMediaFileSetID", MCM_VR_SH, MCM_RULE_NONE},
    {MCM_TAG(0x0088, 0x0140), "StorageMediaFileSetUID", MCM_VR_UI, MCM_RULE_NONE},
    {MCM_TAG(0x2000, 0x0010), "NumberOfCopies", MCM_VR_IS, MCM_RULE_COPIES},
    {MCM_TAG(0x2200, 0x0001), "LabelUsingInformationExtractedFromInstances", MCM_VR_CS, MCM_RULE_YES_NO},
    {MCM_TAG(0x2200, 0x0002), "LabelText", MCM_VR_UT, MCM_RULE_NONE},
    {MCM_TAG(0x2200, 0x0003), "LabelStyleSelection", MCM_VR_CS, MCM_RULE_NONE},
    {MCM_TAG(0x2200, 0x0004), "MediaDisposition", MCM_VR_LT, MCM_RULE_NONE},
    {MCM_TAG(0x2200, 0x0005), "BarcodeValue", MCM_VR_LT, MCM_RULE_NONE},
    {MCM_TAG(0x2200, 0x0006), "BarcodeSymbology", MCM_VR_CS, MCM_RULE_SYMBOLOGY},
    {MCM_TAG(0x2200, 0x0007), "AllowMediaSplitting", MCM_VR_CS, MCM_RULE_YES_NO},
    {MCM_TAG(0x2200, 0x0008), "IncludeNonDICOMObjects", MCM_VR_CS, MCM_RULE_NON_DICOM},
    {MCM_TAG(0x2200, 0x0009), "IncludeDisplayApplication", MCM_VR_CS, MCM_RULE_YES_NO},
    {MCM_TAG(0x2200, 0x000A), "PreserveCompositeInstancesAfterMediaCreation", MCM_VR_CS, MCM_RULE_YES_NO},
    {MCM_TAG(0x2200, 0x000F), "AllowLossyCompression", MCM_VR_CS, MCM_RULE_YES_NO},
    {MCM_TAG(0x2200, 0x0020), "RequestPriority", MCM_VR_CS, MCM_RULE_PRIORITY},
};

START_TEST(attribute_table_is_the_digest_table)
{
    ck_assert_uint_eq(mcm_request_attribute_count, COUNT(request_table));
    for (size_t i = 0; i < COUNT(request_table); i++) {
        const mcm_attribute_def *def = &mcm_request_attributes[i];
        ck_assert_uint_eq(def->tag, request_table[i].tag);
        ck_assert_str_eq(def->keyword, request_table[i].keyword);
        ck_assert_int_eq(def->vr, request_table[i].vr);
        ck_assert_int_eq(def->rule, request_table[i].rule);
        ck_assert_ptr_nonnull(def->name);
        ck_assert_ptr_eq(mcm_attribute_find(def->tag), def);
        if (i > 0)
            ck_assert_uint_gt(def->tag, mcm_request_attributes[i - 1].tag); /* tag order */
    }
    /* The public MCM_TAG_* of request.h's first group are exactly these. */
    static const uint32_t header_tags[] = {MCM_TAG_SPECIFIC_CHARACTER_SET,
                                           MCM_TAG_STORAGE_MEDIA_FILESET_ID,
                                           MCM_TAG_STORAGE_MEDIA_FILESET_UID,
                                           MCM_TAG_LABEL_USING_INFORMATION,
                                           MCM_TAG_LABEL_TEXT,
                                           MCM_TAG_LABEL_STYLE_SELECTION,
                                           MCM_TAG_MEDIA_DISPOSITION,
                                           MCM_TAG_BARCODE_VALUE,
                                           MCM_TAG_BARCODE_SYMBOLOGY,
                                           MCM_TAG_ALLOW_MEDIA_SPLITTING,
                                           MCM_TAG_INCLUDE_NON_DICOM_OBJECTS,
                                           MCM_TAG_INCLUDE_DISPLAY_APPLICATION,
                                           MCM_TAG_PRESERVE_COMPOSITE_INSTANCES,
                                           MCM_TAG_ALLOW_LOSSY_COMPRESSION,
                                           MCM_TAG_NUMBER_OF_COPIES,
                                           MCM_TAG_REQUEST_PRIORITY};
    ck_assert_uint_eq(COUNT(header_tags), COUNT(request_table));
    for (size_t i = 0; i < COUNT(header_tags); i++)
        ck_assert_ptr_nonnull(mcm_attribute_find(header_tags[i]));
    ck_assert_str_eq(mcm_vr_name(MCM_VR_UI), "UI");
    ck_assert_str_eq(mcm_vr_name(MCM_VR_IS), "IS");
    ck_assert_str_eq(mcm_vr_name((mcm_vr)77), "??");
}
END_TEST

/* ---- values per attribute ---- */

/* Set value and expect it stored as stored (NULL: as given). */
static void expect_accepted(mcm_request *r, uint32_t tag, const char *value, const char *stored)
{
    int rc = mcm_request_set_attribute(r, tag, value);
    ck_assert_msg(rc == MCM_OK, "(%04X,%04X) \"%.40s\" refused: %s", (unsigned)(tag >> 16), (unsigned)(tag & 0xFFFF),
                  value, mcm_last_error());
    const char *want = stored != NULL ? stored : value;
    ck_assert_msg(mcm_request_attribute(r, tag) != NULL && strcmp(mcm_request_attribute(r, tag), want) == 0,
                  "(%04X,%04X) \"%.40s\" stored as \"%.40s\"", (unsigned)(tag >> 16), (unsigned)(tag & 0xFFFF), value,
                  mcm_request_attribute(r, tag));
    ck_assert_uint_eq(mcm_request_attribute_length(r, tag), strlen(want));
    ck_assert_ptr_ne(mcm_request_attribute(r, tag), value); /* a copy */
}

/* Expect value refused with MCM_EINVAL, the previous value kept, and a message naming the attribute. */
static void expect_refused(mcm_request *r, uint32_t tag, const char *value)
{
    const mcm_attribute_def *def = mcm_attribute_find(tag);
    ck_assert_ptr_nonnull(def);
    ck_assert_int_eq(mcm_request_set_attribute(r, tag, NULL), MCM_OK);
    mcm_clear_error();
    int rc = mcm_request_set_attribute(r, tag, value);
    ck_assert_msg(rc == MCM_EINVAL, "(%04X,%04X) \"%.40s\" accepted", (unsigned)(tag >> 16), (unsigned)(tag & 0xFFFF),
                  value);
    ck_assert_msg(strstr(mcm_last_error(), def->name) != NULL, "message \"%s\"", mcm_last_error());
    ck_assert_ptr_null(mcm_request_attribute(r, tag)); /* still absent */
}

/* One attribute: valid values (stored as themselves unless padded CS), invalid ones. The previous
 * value survives each refusal. */
static void check_values(uint32_t tag, const char *const *valid, const char *const *invalid)
{
    mcm_request *r = new_request();
    for (size_t i = 0; valid[i] != NULL; i++)
        expect_accepted(r, tag, valid[i], NULL);
    for (size_t i = 0; invalid[i] != NULL; i++)
        expect_refused(r, tag, invalid[i]);
    /* A refusal leaves a present value as it was. */
    expect_accepted(r, tag, valid[0], NULL);
    for (size_t i = 0; invalid[i] != NULL; i++) {
        ck_assert_int_eq(mcm_request_set_attribute(r, tag, invalid[i]), MCM_EINVAL);
        ck_assert_str_eq(mcm_request_attribute(r, tag), valid[0]);
    }
    /* Empty is refused (remove with NULL instead); NULL removes; NULL on an absent value is fine. */
    ck_assert_int_eq(mcm_request_set_attribute(r, tag, ""), MCM_EINVAL);
    ck_assert_str_eq(mcm_request_attribute(r, tag), valid[0]);
    ck_assert_int_eq(mcm_request_set_attribute(r, tag, NULL), MCM_OK);
    ck_assert_ptr_null(mcm_request_attribute(r, tag));
    ck_assert_uint_eq(mcm_request_attribute_length(r, tag), 0);
    ck_assert_int_eq(mcm_request_set_attribute(r, tag, NULL), MCM_OK);
    mcm_request_free(r);
}

static const char *const yes_no_valid[] = {"YES", "NO", NULL};
static const char *const yes_no_invalid[] = {"yes",  "Yes",   "no",      "Y",     "N",    "TRUE", "MAYBE",
                                             "YESS", "Y E S", "YES\\NO", "YES\n", "NO\t", "-YES", "YESYESYESYESYESYE",
                                             NULL};

START_TEST(yes_no_flags)
{
    static const uint32_t flags[] = {MCM_TAG_LABEL_USING_INFORMATION, MCM_TAG_ALLOW_MEDIA_SPLITTING,
                                     MCM_TAG_ALLOW_LOSSY_COMPRESSION, MCM_TAG_INCLUDE_DISPLAY_APPLICATION,
                                     MCM_TAG_PRESERVE_COMPOSITE_INSTANCES};
    for (size_t i = 0; i < COUNT(flags); i++)
        check_values(flags[i], yes_no_valid, yes_no_invalid);
    /* Include Non-DICOM Objects is not a YES/NO flag (digest 4.4). */
    mcm_request *r = new_request();
    ck_assert_int_eq(mcm_request_set_attribute(r, MCM_TAG_INCLUDE_NON_DICOM_OBJECTS, "YES"), MCM_EINVAL);
    mcm_request_free(r);
}
END_TEST

START_TEST(cs_padding_is_not_significant)
{
    /* PS3.5 6.2 CS: leading and trailing spaces are not significant; the request keeps the value
     * without them, so that every reader compares plain terms. */
    mcm_request *r = new_request();
    expect_accepted(r, MCM_TAG_ALLOW_MEDIA_SPLITTING, "YES ", "YES");
    expect_accepted(r, MCM_TAG_ALLOW_MEDIA_SPLITTING, " NO", "NO");
    expect_accepted(r, MCM_TAG_REQUEST_PRIORITY, "MED ", "MED");
    ck_assert_int_eq(mcm_request_priority(r), MCM_PRIORITY_MED);
    expect_accepted(r, MCM_TAG_INCLUDE_NON_DICOM_OBJECTS, " FOR_PATIENT  ", "FOR_PATIENT");
    expect_accepted(r, MCM_TAG_BARCODE_SYMBOLOGY, "CODE39 ", "CODE39");
    expect_accepted(r, MCM_TAG_LABEL_STYLE_SELECTION, " A B ", "A B");
    expect_accepted(r, MCM_TAG_SPECIFIC_CHARACTER_SET, "ISO_IR 100 ", "ISO_IR 100");
    /* Only spaces is an empty value: refused like "". */
    ck_assert_int_eq(mcm_request_set_attribute(r, MCM_TAG_ALLOW_LOSSY_COMPRESSION, "    "), MCM_EINVAL);
    ck_assert_ptr_null(mcm_request_attribute(r, MCM_TAG_ALLOW_LOSSY_COMPRESSION));
    /* Padding is not part of the value, however long it is; 17 significant characters are. */
    expect_accepted(r, MCM_TAG_ALLOW_LOSSY_COMPRESSION, "YES              ", "YES");
    ck_assert_int_eq(mcm_request_set_attribute(r, MCM_TAG_LABEL_STYLE_SELECTION, " ABCDEFGHIJKLMNOPQ "), MCM_EINVAL);
    ck_assert_str_eq(mcm_request_attribute(r, MCM_TAG_LABEL_STYLE_SELECTION), "A B");
    /* The raw setter keeps the wire's padding out too. */
    ck_assert_int_eq(mcm_request_set_attribute_raw(r, MCM_TAG_ALLOW_LOSSY_COMPRESSION, "NO  ", 4), MCM_OK);
    ck_assert_str_eq(mcm_request_attribute(r, MCM_TAG_ALLOW_LOSSY_COMPRESSION), "NO");
    ck_assert_uint_eq(mcm_request_attribute_length(r, MCM_TAG_ALLOW_LOSSY_COMPRESSION), 2);
    /* Non-CS values keep their spaces. */
    expect_accepted(r, MCM_TAG_STORAGE_MEDIA_FILESET_ID, " DISC ", NULL);
    expect_accepted(r, MCM_TAG_LABEL_TEXT, "  indented", NULL);
    mcm_request_free(r);
}
END_TEST

START_TEST(request_priority_values)
{
    static const char *const valid[] = {"HIGH", "MED", "LOW", NULL};
    static const char *const invalid[] = {"MEDIUM", "high", "Med", "URGENT", "H", "NORMAL", "LOW\\HIGH", "0", NULL};
    check_values(MCM_TAG_REQUEST_PRIORITY, valid, invalid);
}
END_TEST

START_TEST(include_non_dicom_objects_values)
{
    static const char *const valid[] = {"NO", "FOR_PHYSICIAN", "FOR_PATIENT", "FOR_TEACHING", "FOR_RESEARCH", NULL};
    static const char *const invalid[] = {"YES",         "for_patient",  "FOR PATIENT",     "FOR_LAWYERS",   "PATIENT",
                                          "FOR-PATIENT", "FOR_PATIENTS", "NO\\FOR_PATIENT", "FOR_RESEARCHX", NULL};
    check_values(MCM_TAG_INCLUDE_NON_DICOM_OBJECTS, valid, invalid);
}
END_TEST

START_TEST(barcode_symbology_values)
{
    /* Defined terms (digest 4.5) plus private ones, accepted per A10. */
    static const char *const valid[] = {"CODE128", "CODE39",      "INTER_2_5",        "HIBC",   "QR_CODE",
                                        "PDF417",  "DATA_MATRIX", "ABCDEFGHIJKLMNOP", "EAN 13", NULL};
    static const char *const invalid[] = {"code128",           "QR-CODE", "Code39",   "CODE128\\HIBC",
                                          "ABCDEFGHIJKLMNOPQ", "EAN.13",  "CODE39\n", NULL};
    check_values(MCM_TAG_BARCODE_SYMBOLOGY, valid, invalid);
}
END_TEST

START_TEST(label_style_selection_values)
{
    /* CS with no defined terms (digest 4.7): any CS value. */
    static const char *const valid[] = {"BIG", "STYLE_2", "A B", "0", "ABCDEFGHIJKLMNOP", NULL};
    static const char *const invalid[] = {"big", "A-B", "A.B", "ABCDEFGHIJKLMNOPQ", "A\\B", "A\tB", "\xC3\x89", NULL};
    check_values(MCM_TAG_LABEL_STYLE_SELECTION, valid, invalid);
}
END_TEST

START_TEST(number_of_copies_values)
{
    static const char *const valid[] = {"1", "9999", "42", " 7", "7 ", "+3", "0010", NULL};
    static const char *const invalid[] = {"0",   "-1", "10000", "2147483647", "2147483648",    "1.5",  "1e3",
                                          "abc", "+",  "-",     "1 2",        "0000000000001", "0x10", NULL};
    check_values(MCM_TAG_NUMBER_OF_COPIES, valid, invalid);
}
END_TEST

START_TEST(fileset_id_values)
{
    char *longest = repeat('x', 16), *too_long = repeat('x', 17);
    char *utf8_16 = repeat_text("\xC3\xA9", 16), *utf8_17 = repeat_text("\xC3\xA9", 17);
    /* SH: 16 characters (not bytes), no backslash, no control character but ESC (A8: any valid SH). */
    const char *const valid[] = {"MY DISC", "disc-1 (a)", longest, utf8_16, "a\x1B(Bb", NULL};
    const char *const invalid[] = {too_long, utf8_17, "a\\b", "a\nb", "a\tb", "a\x7F", "a\x01", "a\rb", NULL};
    check_values(MCM_TAG_STORAGE_MEDIA_FILESET_ID, valid, invalid);
    free(longest);
    free(too_long);
    free(utf8_16);
    free(utf8_17);
}
END_TEST

START_TEST(fileset_uid_values)
{
    char *longest = uid_of_length(64), *too_long = uid_of_length(65);
    ck_assert_uint_eq(strlen(longest), 64);
    const char *const valid[] = {"1.2.3", "0", "0.0", "2.25.1234", "1.2.840.10008.5.1.1.33", longest, "1.20.300", NULL};
    const char *const invalid[] = {too_long, "1.02.3", "01.2",     "1..2", ".1",     "1.", "1.2.a", " 1.2",
                                   "1.2 ",   "1,2",    "1.2\\1.3", "-1",   "1.2.00", "a",  NULL};
    check_values(MCM_TAG_STORAGE_MEDIA_FILESET_UID, valid, invalid);
    free(longest);
    free(too_long);
}
END_TEST

START_TEST(label_text_values)
{
    /* UT: multi-line text with CR, LF, FF, TAB and ESC; backslash allowed; no other control character. */
    char *big = repeat('x', 1u << 20);
    const char *const valid[] = {"Line 1\r\nLine 2\tTabbed\fpage", "C:\\path\\name", "caf\xC3\xA9 \x1B$B", big, NULL};
    const char *const invalid[] = {"\x01", "abc\x7F", "a\x1F", "bell\a", "back\bspace", "vertical\vtab", NULL};
    check_values(MCM_TAG_LABEL_TEXT, valid, invalid);
    free(big);
}
END_TEST

START_TEST(lt_values)
{
    /* LT: 10240 characters (not bytes). */
    char *longest = repeat('x', 10240), *too_long = repeat('x', 10241);
    char *utf8_longest = repeat_text("\xE2\x82\xAC", 10240), *utf8_too_long = repeat_text("\xE2\x82\xAC", 10241);
    const char *const valid[] = {"To: Dr. Smith\r\nWard 3", "back\\slash", longest, utf8_longest, NULL};
    const char *const invalid[] = {too_long, utf8_too_long, "\x02", "x\x7F", NULL};
    check_values(MCM_TAG_MEDIA_DISPOSITION, valid, invalid);
    check_values(MCM_TAG_BARCODE_VALUE, valid, invalid);
    free(longest);
    free(too_long);
    free(utf8_longest);
    free(utf8_too_long);
}
END_TEST

/* PS3.3 C.12.1.1.2 defined terms. */
static const char *const charset_terms[] = {"ISO_IR 100",      "ISO_IR 101",      "ISO_IR 109",
                                            "ISO_IR 110",      "ISO_IR 144",      "ISO_IR 127",
                                            "ISO_IR 126",      "ISO_IR 138",      "ISO_IR 148",
                                            "ISO_IR 203",      "ISO_IR 13",       "ISO_IR 166",
                                            "ISO_IR 192",      "GB18030",         "GBK",
                                            "ISO 2022 IR 6",   "ISO 2022 IR 100", "ISO 2022 IR 101",
                                            "ISO 2022 IR 109", "ISO 2022 IR 110", "ISO 2022 IR 144",
                                            "ISO 2022 IR 127", "ISO 2022 IR 126", "ISO 2022 IR 138",
                                            "ISO 2022 IR 148", "ISO 2022 IR 203", "ISO 2022 IR 13",
                                            "ISO 2022 IR 166", "ISO 2022 IR 87",  "ISO 2022 IR 159",
                                            "ISO 2022 IR 149", "ISO 2022 IR 58",  NULL};

START_TEST(specific_character_set_values)
{
    /* Every defined term alone, except the multi-byte code extensions: PS3.3 Table C.12-4 gives them
     * for value 2 to n only (value 1 is the single-byte set, empty meaning ISO 2022 IR 6). */
    mcm_request *r = new_request();
    for (size_t i = 0; charset_terms[i] != NULL; i++) {
        const char *t = charset_terms[i];
        if (strcmp(t, "ISO 2022 IR 87") == 0 || strcmp(t, "ISO 2022 IR 159") == 0 ||
            strcmp(t, "ISO 2022 IR 149") == 0 || strcmp(t, "ISO 2022 IR 58") == 0) {
            expect_refused(r, MCM_TAG_SPECIFIC_CHARACTER_SET, t);
            char combined[64];
            snprintf(combined, sizeof combined, "\\%s", t);
            expect_accepted(r, MCM_TAG_SPECIFIC_CHARACTER_SET, combined, NULL);
            snprintf(combined, sizeof combined, "%s\\ISO 2022 IR 6", t);
            expect_refused(r, MCM_TAG_SPECIFIC_CHARACTER_SET, combined);
        } else {
            expect_accepted(r, MCM_TAG_SPECIFIC_CHARACTER_SET, t, NULL);
        }
    }
    mcm_request_free(r);

    /* Multi-valued: code extensions only (ISO 2022 terms); only the first value may be empty. */
    static const char *const valid[] = {"\\ISO 2022 IR 87",
                                        "ISO 2022 IR 6\\ISO 2022 IR 87",
                                        "ISO 2022 IR 13\\ISO 2022 IR 87",
                                        "\\ISO 2022 IR 149",
                                        "\\ISO 2022 IR 58",
                                        "ISO 2022 IR 100\\ISO 2022 IR 144",
                                        "\\ISO 2022 IR 87\\ISO 2022 IR 159",
                                        NULL};
    static const char *const invalid[] = {"iso_ir 100",
                                          "ISO_IR 999",
                                          "ISO_IR100",
                                          "UTF-8",
                                          "ISO_IR 100\\",
                                          "\\",
                                          "ISO_IR 100\\\\ISO 2022 IR 87",
                                          "\\ISO 2022 IR 87\\",
                                          "ISO_IR 100\\ISO_IR 144",
                                          "ISO_IR 192\\ISO 2022 IR 87",
                                          "\\ISO_IR 192",
                                          "ISO 2022 IR 6\\GB18030",
                                          "\\ISO 2022 IR 99",
                                          "ISO_IR 100\n",
                                          "ISO 2022 IR 1000X",
                                          NULL};
    check_values(MCM_TAG_SPECIFIC_CHARACTER_SET, valid, invalid);
}
END_TEST

START_TEST(unknown_and_sequence_tags_refused)
{
    static const uint32_t refused[] = {MCM_TAG_REFERENCED_SOP_SEQUENCE,
                                       MCM_TAG_REFERENCED_SOP_CLASS_UID,
                                       MCM_TAG_REFERENCED_SOP_INSTANCE_UID,
                                       MCM_TAG_REQUESTED_MEDIA_APPLICATION_PROFILE,
                                       MCM_TAG_ICON_IMAGE_SEQUENCE,
                                       MCM_TAG_FAILED_SOP_SEQUENCE,
                                       MCM_TAG_FAILURE_REASON,
                                       MCM_TAG_FAILURE_ATTRIBUTES,
                                       MCM_TAG_REFERENCED_STORAGE_MEDIA_SEQUENCE,
                                       MCM_TAG_EXECUTION_STATUS,
                                       MCM_TAG_EXECUTION_STATUS_INFO,
                                       MCM_TAG_TOTAL_NUMBER_OF_PIECES,
                                       MCM_TAG_SOP_CLASS_UID,
                                       MCM_TAG_SOP_INSTANCE_UID,
                                       MCM_TAG(0x0009, 0x1001),
                                       MCM_TAG(0x0010, 0x0010),
                                       MCM_TAG(0x2000, 0x0020),
                                       0,
                                       0xFFFFFFFFu};
    mcm_request *r = new_request();
    for (size_t i = 0; i < COUNT(refused); i++) {
        mcm_clear_error();
        ck_assert_int_eq(mcm_request_set_attribute(r, refused[i], "1"), MCM_EINVAL);
        ck_assert_str_ne(mcm_last_error(), "");
        ck_assert_int_eq(mcm_request_set_attribute(r, refused[i], NULL), MCM_EINVAL);
        ck_assert_int_eq(mcm_request_set_attribute_raw(r, refused[i], "1", 1), MCM_EINVAL);
        ck_assert_ptr_null(mcm_request_attribute(r, refused[i]));
        ck_assert_uint_eq(mcm_request_attribute_length(r, refused[i]), 0);
    }
    ck_assert_int_eq(mcm_request_set_attribute(NULL, MCM_TAG_LABEL_TEXT, "x"), MCM_EINVAL);
    ck_assert_int_eq(mcm_request_set_attribute_raw(NULL, MCM_TAG_LABEL_TEXT, "x", 1), MCM_EINVAL);
    ck_assert_ptr_null(mcm_request_attribute(NULL, MCM_TAG_LABEL_TEXT));
    mcm_request_free(r);
}
END_TEST

START_TEST(attribute_value_is_copied)
{
    mcm_request *r = new_request();
    char value[] = "Patient copy";
    ck_assert_int_eq(mcm_request_set_attribute(r, MCM_TAG_LABEL_TEXT, value), MCM_OK);
    value[0] = 'X';
    ck_assert_str_eq(mcm_request_attribute(r, MCM_TAG_LABEL_TEXT), "Patient copy");
    /* Setting again replaces (no leak under ASan). */
    ck_assert_int_eq(mcm_request_set_attribute(r, MCM_TAG_LABEL_TEXT, "second"), MCM_OK);
    ck_assert_str_eq(mcm_request_attribute(r, MCM_TAG_LABEL_TEXT), "second");
    /* Attributes are independent. */
    ck_assert_ptr_null(mcm_request_attribute(r, MCM_TAG_BARCODE_VALUE));
    mcm_request_free(r);
    mcm_request_free(NULL);
}
END_TEST

/* ---- mcm_vr_check directly: IS range, reasons ---- */

static int vr_ok(mcm_vr vr, const char *value)
{
    return mcm_vr_check(vr, value, strlen(value), NULL, 0);
}

START_TEST(integer_string_range)
{
    static const char *const valid[] = {"2147483647", "-2147483648",  "+0",          "0", "-0",
                                        "  12  ",     "000000000001", "+2147483647", NULL};
    static const char *const invalid[] = {"2147483648", "-2147483649",   "9999999999", "1 2", "+",   "-",   "",
                                          " ",          "0000000000001", "12a",        "1.0", "--1", "+-1", NULL};
    for (size_t i = 0; valid[i] != NULL; i++)
        ck_assert_msg(vr_ok(MCM_VR_IS, valid[i]), "\"%s\"", valid[i]);
    for (size_t i = 0; invalid[i] != NULL; i++)
        ck_assert_msg(!vr_ok(MCM_VR_IS, invalid[i]), "\"%s\"", invalid[i]);
    char why[64];
    ck_assert_int_eq(mcm_vr_check(MCM_VR_IS, "2147483648", 10, why, sizeof why), 0);
    ck_assert_str_eq(why, "outside the IS range");
    ck_assert_int_eq(mcm_vr_check(MCM_VR_IS, "1234567890123", 13, why, sizeof why), 0);
    ck_assert_str_eq(why, "longer than 12 characters");
    ck_assert_int_eq(mcm_vr_check(MCM_VR_IS,
                                  "1\0"
                                  "2",
                                  3, why, sizeof why),
                     0);
    ck_assert_str_eq(why, "contains a NUL character");
    /* A too-small why buffer is still terminated. */
    ck_assert_int_eq(mcm_vr_check(MCM_VR_SH, "a\\b", 3, why, 4), 0);
    ck_assert_str_eq(why, "con");
    ck_assert_int_eq(mcm_vr_check(MCM_VR_CS, NULL, 0, why, sizeof why), 0);
    ck_assert_int_eq(mcm_vr_check((mcm_vr)99, "x", 1, why, sizeof why), 0);
    ck_assert_str_eq(why, "unknown VR");
}
END_TEST

START_TEST(vr_lengths_by_one)
{
    static const struct {
        mcm_vr vr;
        size_t max;
    } limits[] = {{MCM_VR_CS, 16}, {MCM_VR_SH, 16}, {MCM_VR_LO, 64}, {MCM_VR_LT, 10240}};
    for (size_t i = 0; i < COUNT(limits); i++) {
        char *ok = repeat('A', limits[i].max), *over = repeat('A', limits[i].max + 1);
        ck_assert_msg(vr_ok(limits[i].vr, ok), "%s at %zu", mcm_vr_name(limits[i].vr), limits[i].max);
        ck_assert_msg(!vr_ok(limits[i].vr, over), "%s at %zu", mcm_vr_name(limits[i].vr), limits[i].max + 1);
        free(ok);
        free(over);
    }
    /* LO backslash and control characters, as in profiles. */
    ck_assert(!vr_ok(MCM_VR_LO, "STD\\GEN"));
    ck_assert(!vr_ok(MCM_VR_LO, "STD\nGEN"));
    ck_assert(vr_ok(MCM_VR_LO, "STD-GEN-CD"));
}
END_TEST

/* ---- UIDs ---- */

START_TEST(uid_is_valid_rules)
{
    char *longest = uid_of_length(64), *too_long = uid_of_length(65);
    static const char *const valid[] = {
        "1.2.3", "0",        "0.0.0", "2.25.329800735698586629295641978511506172918", "1.2.840.10008.5.1.1.33",
        "9",     "10.20.30", NULL};
    static const char *const invalid[] = {"",     ".",    "1.",   ".1",  "1..2", "1.02",  "00", "01", "1.2a",
                                          "1 .2", "1.2 ", " 1.2", "1-2", "1/2",  "1.2\n", "+1", NULL};
    for (size_t i = 0; valid[i] != NULL; i++)
        ck_assert_msg(mcm_uid_is_valid(valid[i]) == 1, "\"%s\"", valid[i]);
    for (size_t i = 0; invalid[i] != NULL; i++)
        ck_assert_msg(mcm_uid_is_valid(invalid[i]) == 0, "\"%s\"", invalid[i]);
    ck_assert_int_eq(mcm_uid_is_valid(longest), 1);
    ck_assert_int_eq(mcm_uid_is_valid(too_long), 0);
    ck_assert_int_eq(mcm_uid_is_valid(NULL), 0);
    /* The length-bounded internal check stops where it is told. */
    ck_assert_int_eq(mcm_uid_check("1.2.3garbage", 5), 1);
    ck_assert_int_eq(mcm_uid_check("1.2\0"
                                   "3",
                                   5),
                     0);
    free(longest);
    free(too_long);
}
END_TEST

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The UUID behind "2.25.<decimal>" (PS3.5 B.2): version 4, variant 10xx (RFC 4122). */
static void check_uuid_bits(const char *uid)
{
    unsigned __int128 value = 0;
    for (const char *p = uid + 5; *p != '\0'; p++)
        value = value * 10 + (unsigned)(*p - '0');
    unsigned version = (unsigned)((value >> 76) & 0xF);
    unsigned variant = (unsigned)((value >> 62) & 0x3);
    ck_assert_msg(version == 4 && variant == 2, "%s: version %u variant %u", uid, version, variant);
}

START_TEST(uid_generate_valid_and_unique)
{
    enum { N = 10000 };
    char **uids = malloc(N * sizeof *uids);
    ck_assert_ptr_nonnull(uids);
    for (size_t i = 0; i < N; i++) {
        uids[i] = malloc(MCM_UID_MAX + 1);
        ck_assert_ptr_nonnull(uids[i]);
        ck_assert_int_eq(mcm_uid_generate(uids[i]), MCM_OK);
        ck_assert_msg(mcm_uid_is_valid(uids[i]), "\"%s\"", uids[i]);
        ck_assert_int_eq(strncmp(uids[i], "2.25.", 5), 0);
        ck_assert_uint_le(strlen(uids[i]), 44); /* 5 + 39 digits of a 128-bit number */
        check_uuid_bits(uids[i]);
    }
    qsort(uids, N, sizeof *uids, compare_strings);
    for (size_t i = 1; i < N; i++)
        ck_assert_msg(strcmp(uids[i - 1], uids[i]) != 0, "duplicate %s", uids[i]);
    for (size_t i = 0; i < N; i++)
        free(uids[i]);
    free(uids);
    ck_assert_int_eq(mcm_uid_generate(NULL), MCM_EINVAL);
}
END_TEST

/* ---- Referenced SOP Sequence items ---- */

START_TEST(add_reference_and_read_back)
{
    mcm_request *r = new_request();
    ck_assert_uint_eq(mcm_request_reference_count(r), 0);
    ck_assert_int_eq(mcm_request_reference_sequence_present(r), 0);
    char class_uid[] = CT_IMAGE, instance_uid[] = INSTANCE_1, profile[] = "STD-GEN-CD";
    ck_assert_int_eq(mcm_request_add_reference(r, class_uid, instance_uid, profile), MCM_OK);
    ck_assert_int_eq(mcm_request_add_reference(r, CT_IMAGE, INSTANCE_2, NULL), MCM_OK);
    class_uid[0] = instance_uid[0] = profile[0] = 'X'; /* copies were taken */
    ck_assert_uint_eq(mcm_request_reference_count(r), 2);
    ck_assert_int_eq(mcm_request_reference_sequence_present(r), 1);

    mcm_reference ref;
    ck_assert_int_eq(mcm_request_reference(r, 0, &ref), MCM_OK);
    ck_assert_str_eq(ref.sop_class_uid, CT_IMAGE);
    ck_assert_str_eq(ref.sop_instance_uid, INSTANCE_1);
    ck_assert_str_eq(ref.profile, "STD-GEN-CD");
    ck_assert_ptr_null(ref.icon);
    ck_assert_int_eq(mcm_request_reference(r, 1, &ref), MCM_OK);
    ck_assert_str_eq(ref.sop_instance_uid, INSTANCE_2);
    ck_assert_ptr_null(ref.profile);

    size_t class_length, instance_length, profile_length;
    ck_assert_int_eq(mcm_request_reference_lengths(r, 0, &class_length, &instance_length, &profile_length), MCM_OK);
    ck_assert_uint_eq(class_length, strlen(CT_IMAGE));
    ck_assert_uint_eq(instance_length, strlen(INSTANCE_1));
    ck_assert_uint_eq(profile_length, strlen("STD-GEN-CD"));
    ck_assert_int_eq(mcm_request_reference_lengths(r, 2, NULL, NULL, NULL), MCM_ENOTFOUND);

    ck_assert_int_eq(mcm_request_reference(r, 2, &ref), MCM_ENOTFOUND);
    ck_assert_int_eq(mcm_request_reference(r, 0, NULL), MCM_EINVAL);
    ck_assert_int_eq(mcm_request_reference(NULL, 0, &ref), MCM_EINVAL);
    ck_assert_uint_eq(mcm_request_reference_count(NULL), 0);

    /* Duplicates are accepted at N-CREATE (A14: DUPL_REF_INST at job start). */
    ck_assert_int_eq(mcm_request_add_reference(r, CT_IMAGE, INSTANCE_1, "STD-GEN-CD"), MCM_OK);
    ck_assert_uint_eq(mcm_request_reference_count(r), 3);
    mcm_request_free(r);
}
END_TEST

START_TEST(add_reference_refuses_bad_items)
{
    char *profile_64 = repeat('P', 64), *profile_65 = repeat('P', 65), *uid_65 = uid_of_length(65);
    const struct {
        const char *class_uid, *instance_uid, *profile;
    } bad[] = {
        {NULL, INSTANCE_1, NULL},
        {CT_IMAGE, NULL, NULL},
        {"", INSTANCE_1, NULL},
        {CT_IMAGE, "", NULL},
        {"1.02.3", INSTANCE_1, NULL},
        {CT_IMAGE, "1.2.03", NULL},
        {CT_IMAGE, uid_65, NULL},
        {"1.2.x", INSTANCE_1, NULL},
        {CT_IMAGE, INSTANCE_1, ""},
        {CT_IMAGE, INSTANCE_1, profile_65},
        {CT_IMAGE, INSTANCE_1, "STD\\GEN"},
        {CT_IMAGE, INSTANCE_1, "STD\nGEN"},
        {CT_IMAGE, INSTANCE_1, "STD\x01"},
    };
    mcm_request *r = new_request();
    for (size_t i = 0; i < COUNT(bad); i++) {
        mcm_clear_error();
        ck_assert_msg(mcm_request_add_reference(r, bad[i].class_uid, bad[i].instance_uid, bad[i].profile) == MCM_EINVAL,
                      "case %zu accepted", i);
        ck_assert_str_ne(mcm_last_error(), "");
        ck_assert_uint_eq(mcm_request_reference_count(r), 0);
        ck_assert_int_eq(mcm_request_reference_sequence_present(r), 0);
    }
    ck_assert_int_eq(mcm_request_add_reference(NULL, CT_IMAGE, INSTANCE_1, NULL), MCM_EINVAL);
    ck_assert_int_eq(mcm_request_add_reference(r, CT_IMAGE, INSTANCE_1, profile_64), MCM_OK);
    ck_assert_int_eq(mcm_request_add_reference(r, CT_IMAGE, INSTANCE_1, "caf\xC3\xA9"), MCM_OK);
    ck_assert_uint_eq(mcm_request_reference_count(r), 2);
    free(profile_64);
    free(profile_65);
    free(uid_65);
    mcm_request_free(r);
}
END_TEST

/* ---- icons (digest 3.6, PS3.3 F.7) ---- */

typedef struct icon_buffers {
    mcm_icon icon;
    uint8_t pixels[65536 * 2];
    uint8_t red[65536 * 2], green[65536 * 2], blue[65536 * 2];
} icon_buffers;

static icon_buffers *monochrome_icon(uint16_t rows, uint16_t columns, uint16_t bits, const char *photometric)
{
    icon_buffers *b = calloc(1, sizeof *b);
    ck_assert_ptr_nonnull(b);
    for (size_t i = 0; i < sizeof b->pixels; i++)
        b->pixels[i] = (uint8_t)(i * 7);
    b->icon.rows = rows;
    b->icon.columns = columns;
    b->icon.bits_allocated = bits;
    b->icon.bits_stored = bits;
    b->icon.high_bit = (uint16_t)(bits - 1);
    b->icon.photometric = photometric;
    b->icon.pixel_data = b->pixels;
    b->icon.pixel_data_length = ((size_t)rows * columns * bits + 7) / 8;
    return b;
}

static icon_buffers *palette_icon(uint16_t entries_descriptor, size_t entries)
{
    icon_buffers *b = monochrome_icon(64, 64, 8, "PALETTE COLOR");
    for (size_t i = 0; i < entries * 2; i++) {
        b->red[i] = (uint8_t)i;
        b->green[i] = (uint8_t)(i >> 1);
        b->blue[i] = (uint8_t)(255 - i);
    }
    b->icon.palette_descriptor[0] = entries_descriptor;
    b->icon.palette_descriptor[1] = 0;
    b->icon.palette_descriptor[2] = 16;
    b->icon.red_palette = b->red;
    b->icon.green_palette = b->green;
    b->icon.blue_palette = b->blue;
    b->icon.palette_length = entries * 2;
    return b;
}

static mcm_request *request_with_items(size_t n)
{
    mcm_request *r = new_request();
    for (size_t i = 0; i < n; i++) {
        char uid[MCM_UID_MAX + 1];
        snprintf(uid, sizeof uid, "1.2.3.%zu", i + 1);
        ck_assert_int_eq(mcm_request_add_reference(r, CT_IMAGE, uid, NULL), MCM_OK);
    }
    return r;
}

static void expect_icon_accepted(icon_buffers *b)
{
    mcm_request *r = request_with_items(1);
    int rc = mcm_request_set_icon(r, 0, &b->icon);
    ck_assert_msg(rc == MCM_OK, "%ux%u %u-bit %s refused: %s", b->icon.rows, b->icon.columns, b->icon.bits_allocated,
                  b->icon.photometric, mcm_last_error());
    mcm_response out;
    ck_assert_int_eq(mcm_request_validate(r, MCM_VALIDATE_STRICT, &out), MCM_OK);
    ck_assert_uint_eq(out.status, 0x0000);
    mcm_request_free(r);
    free(b);
}

static void expect_icon_refused(icon_buffers *b, const char *what)
{
    mcm_request *r = request_with_items(1);
    mcm_clear_error();
    ck_assert_msg(mcm_request_set_icon(r, 0, &b->icon) == MCM_EINVAL, "icon with %s accepted", what);
    ck_assert_ptr_nonnull(strstr(mcm_last_error(), "Icon Image Sequence"));
    mcm_reference ref;
    ck_assert_int_eq(mcm_request_reference(r, 0, &ref), MCM_OK);
    ck_assert_ptr_null(ref.icon);
    /* Stored unchecked (as from the wire), validation answers 0106 with the icon's tag. */
    ck_assert_int_eq(mcm_request_set_icon_raw(r, 0, &b->icon), MCM_OK);
    mcm_response out;
    ck_assert_int_eq(mcm_request_validate(r, 0, &out), MCM_OK);
    ck_assert_msg(out.status == 0x0106, "icon with %s: status 0x%04X", what, out.status);
    ck_assert_uint_eq(out.offending_element_count, 1);
    ck_assert_uint_eq(out.offending_elements[0], MCM_TAG_ICON_IMAGE_SEQUENCE);
    mcm_request_free(r);
    free(b);
}

START_TEST(icons_within_f7_accepted)
{
    expect_icon_accepted(monochrome_icon(64, 64, 8, "MONOCHROME2"));
    expect_icon_accepted(monochrome_icon(64, 64, 8, "MONOCHROME1"));
    expect_icon_accepted(monochrome_icon(64, 64, 1, "MONOCHROME2"));
    expect_icon_accepted(monochrome_icon(128, 128, 8, "MONOCHROME2")); /* larger icons may be ignored, not refused */
    expect_icon_accepted(monochrome_icon(1, 1, 8, "MONOCHROME2"));
    expect_icon_accepted(monochrome_icon(3, 3, 1, "MONOCHROME2")); /* 9 bits: 2 bytes */
    expect_icon_accepted(palette_icon(256, 256));
    expect_icon_accepted(palette_icon(0, 65536)); /* 0 means 2^16 entries (PS3.3 C.7.6.3.1.5) */
    icon_buffers *b = palette_icon(256, 256);
    b->icon.palette_descriptor[2] = 8;
    expect_icon_accepted(b);
    /* Odd pixel data is padded to even length (PS3.5 7.1.1): 3x3x8 = 9 bytes, 10 on the wire. */
    b = monochrome_icon(3, 3, 8, "MONOCHROME2");
    b->icon.pixel_data_length = 10;
    expect_icon_accepted(b);
}
END_TEST

START_TEST(icons_breaking_f7_refused)
{
    icon_buffers *b;
    expect_icon_refused(monochrome_icon(0, 64, 8, "MONOCHROME2"), "zero rows");
    expect_icon_refused(monochrome_icon(64, 0, 8, "MONOCHROME2"), "zero columns");
    /* F.7 a: monochrome or palette only. */
    expect_icon_refused(monochrome_icon(64, 64, 8, "RGB"), "RGB");
    expect_icon_refused(monochrome_icon(64, 64, 8, "YBR_FULL"), "YBR_FULL");
    expect_icon_refused(monochrome_icon(64, 64, 8, "monochrome2"), "lower-case photometric");
    expect_icon_refused(monochrome_icon(64, 64, 8, "MONOCHROME2 "), "padded photometric");
    expect_icon_refused(monochrome_icon(64, 64, 8, NULL), "no photometric");
    /* F.7 c: 1 or 8 bits; high bit one less than bits stored. */
    expect_icon_refused(monochrome_icon(64, 64, 16, "MONOCHROME2"), "16 bits");
    expect_icon_refused(monochrome_icon(64, 64, 4, "MONOCHROME2"), "4 bits");
    expect_icon_refused(monochrome_icon(64, 64, 12, "MONOCHROME2"), "12 bits");
    b = monochrome_icon(64, 64, 8, "MONOCHROME2");
    b->icon.bits_stored = 7;
    b->icon.high_bit = 6;
    expect_icon_refused(b, "bits stored 7");
    b = monochrome_icon(64, 64, 8, "MONOCHROME2");
    b->icon.bits_stored = 1;
    b->icon.high_bit = 0;
    expect_icon_refused(b, "bits stored 1 of 8");
    b = monochrome_icon(64, 64, 8, "MONOCHROME2");
    b->icon.high_bit = 8;
    expect_icon_refused(b, "high bit 8");
    b = monochrome_icon(64, 64, 8, "MONOCHROME2");
    b->icon.high_bit = 0;
    expect_icon_refused(b, "high bit 0");
    b = monochrome_icon(64, 64, 1, "MONOCHROME2");
    b->icon.high_bit = 1;
    expect_icon_refused(b, "1-bit high bit 1");
    /* F.7 f: a palette needs 8 bits allocated. */
    b = palette_icon(256, 256);
    b->icon.bits_allocated = b->icon.bits_stored = 1;
    b->icon.high_bit = 0;
    b->icon.pixel_data_length = 64 * 64 / 8;
    expect_icon_refused(b, "1-bit palette");
    /* Pixel data matching rows x columns. */
    b = monochrome_icon(64, 64, 8, "MONOCHROME2");
    b->icon.pixel_data = NULL;
    expect_icon_refused(b, "no pixel data");
    b = monochrome_icon(64, 64, 8, "MONOCHROME2");
    b->icon.pixel_data_length--;
    expect_icon_refused(b, "short pixel data");
    b = monochrome_icon(64, 64, 8, "MONOCHROME2");
    b->icon.pixel_data_length += 1;
    expect_icon_refused(b, "odd pixel data past an even length");
    b = monochrome_icon(64, 64, 8, "MONOCHROME2");
    b->icon.pixel_data_length += 2;
    expect_icon_refused(b, "long pixel data");
    b = monochrome_icon(64, 64, 1, "MONOCHROME2");
    b->icon.pixel_data_length = 64 * 64;
    expect_icon_refused(b, "1-bit icon with a byte per pixel");
    /* Palette LUTs: present, descriptor entries x 2 bytes each, 8 or 16 bits per entry. */
    b = palette_icon(256, 256);
    b->icon.red_palette = NULL;
    expect_icon_refused(b, "no red LUT");
    b = palette_icon(256, 256);
    b->icon.blue_palette = NULL;
    expect_icon_refused(b, "no blue LUT");
    b = palette_icon(256, 256);
    b->icon.palette_length = 256;
    expect_icon_refused(b, "LUT of one byte per entry");
    b = palette_icon(0, 256);
    expect_icon_refused(b, "descriptor 0 (65536) with 256 entries");
    b = palette_icon(256, 256);
    b->icon.palette_descriptor[2] = 12;
    expect_icon_refused(b, "12-bit LUT entries");
}
END_TEST

START_TEST(icon_is_deep_copied_and_removable)
{
    mcm_request *r = request_with_items(2);
    icon_buffers *b = palette_icon(256, 256);
    char photometric[] = "PALETTE COLOR";
    b->icon.photometric = photometric;
    ck_assert_int_eq(mcm_request_set_icon(r, 1, &b->icon), MCM_OK);
    icon_buffers *original = calloc(1, sizeof *original);
    ck_assert_ptr_nonnull(original);
    memcpy(original, b, sizeof *b);
    /* Change and free everything the caller lent. */
    memset(b->pixels, 0, sizeof b->pixels);
    memset(b->red, 0, sizeof b->red);
    photometric[0] = 'X';
    free(b);

    mcm_reference ref;
    ck_assert_int_eq(mcm_request_reference(r, 0, &ref), MCM_OK);
    ck_assert_ptr_null(ref.icon);
    ck_assert_int_eq(mcm_request_reference(r, 1, &ref), MCM_OK);
    ck_assert_ptr_nonnull(ref.icon);
    ck_assert_str_eq(ref.icon->photometric, "PALETTE COLOR");
    ck_assert_uint_eq(ref.icon->rows, 64);
    ck_assert_uint_eq(ref.icon->pixel_data_length, 4096);
    ck_assert_mem_eq(ref.icon->pixel_data, original->pixels, 4096);
    ck_assert_mem_eq(ref.icon->red_palette, original->red, 512);
    ck_assert_mem_eq(ref.icon->green_palette, original->green, 512);
    ck_assert_mem_eq(ref.icon->blue_palette, original->blue, 512);
    ck_assert_uint_eq(ref.icon->palette_descriptor[0], 256);
    ck_assert_uint_eq(ref.icon->palette_descriptor[2], 16);

    /* A refused icon leaves the old one; NULL removes it; replacing does not leak. */
    icon_buffers *bad = monochrome_icon(64, 64, 16, "MONOCHROME2");
    ck_assert_int_eq(mcm_request_set_icon(r, 1, &bad->icon), MCM_EINVAL);
    free(bad);
    ck_assert_int_eq(mcm_request_reference(r, 1, &ref), MCM_OK);
    ck_assert_ptr_nonnull(ref.icon);
    icon_buffers *mono = monochrome_icon(32, 32, 8, "MONOCHROME1");
    ck_assert_int_eq(mcm_request_set_icon(r, 1, &mono->icon), MCM_OK);
    free(mono);
    ck_assert_int_eq(mcm_request_reference(r, 1, &ref), MCM_OK);
    ck_assert_str_eq(ref.icon->photometric, "MONOCHROME1");
    ck_assert_ptr_null(ref.icon->red_palette);
    ck_assert_int_eq(mcm_request_set_icon(r, 1, NULL), MCM_OK);
    ck_assert_int_eq(mcm_request_reference(r, 1, &ref), MCM_OK);
    ck_assert_ptr_null(ref.icon);

    /* No such item. */
    icon_buffers *good = monochrome_icon(64, 64, 8, "MONOCHROME2");
    ck_assert_int_eq(mcm_request_set_icon(r, 2, &good->icon), MCM_ENOTFOUND);
    ck_assert_int_eq(mcm_request_set_icon(r, 2, NULL), MCM_ENOTFOUND);
    ck_assert_int_eq(mcm_request_set_icon_raw(r, 2, &good->icon), MCM_ENOTFOUND);
    ck_assert_int_eq(mcm_request_set_icon(NULL, 0, &good->icon), MCM_EINVAL);
    free(good);
    free(original);
    mcm_request_free(r);
}
END_TEST

/* ---- clone ---- */

static void expect_same_request(const mcm_request *a, const mcm_request *b)
{
    for (size_t k = 0; k < mcm_request_attribute_count; k++) {
        uint32_t tag = mcm_request_attributes[k].tag;
        const char *va = mcm_request_attribute(a, tag), *vb = mcm_request_attribute(b, tag);
        ck_assert_int_eq(va == NULL, vb == NULL);
        ck_assert_uint_eq(mcm_request_attribute_length(a, tag), mcm_request_attribute_length(b, tag));
        if (va != NULL) {
            ck_assert_ptr_ne(va, vb);
            ck_assert_mem_eq(va, vb, mcm_request_attribute_length(a, tag) + 1);
        }
    }
    ck_assert_int_eq(mcm_request_reference_sequence_present(a), mcm_request_reference_sequence_present(b));
    ck_assert_uint_eq(mcm_request_reference_count(a), mcm_request_reference_count(b));
    for (size_t i = 0; i < mcm_request_reference_count(a); i++) {
        mcm_reference ra, rb;
        size_t la[3], lb[3];
        ck_assert_int_eq(mcm_request_reference(a, i, &ra), MCM_OK);
        ck_assert_int_eq(mcm_request_reference(b, i, &rb), MCM_OK);
        ck_assert_int_eq(mcm_request_reference_lengths(a, i, &la[0], &la[1], &la[2]), MCM_OK);
        ck_assert_int_eq(mcm_request_reference_lengths(b, i, &lb[0], &lb[1], &lb[2]), MCM_OK);
        const char *sa[3] = {ra.sop_class_uid, ra.sop_instance_uid, ra.profile};
        const char *sb[3] = {rb.sop_class_uid, rb.sop_instance_uid, rb.profile};
        for (int f = 0; f < 3; f++) {
            ck_assert_int_eq(sa[f] == NULL, sb[f] == NULL);
            ck_assert_uint_eq(la[f], lb[f]);
            if (sa[f] != NULL) {
                ck_assert_ptr_ne(sa[f], sb[f]);
                ck_assert_mem_eq(sa[f], sb[f], la[f] + 1);
            }
        }
        ck_assert_int_eq(ra.icon == NULL, rb.icon == NULL);
        if (ra.icon != NULL) {
            ck_assert_ptr_ne(ra.icon, rb.icon);
            ck_assert_ptr_ne(ra.icon->pixel_data, rb.icon->pixel_data);
            ck_assert_uint_eq(ra.icon->pixel_data_length, rb.icon->pixel_data_length);
            ck_assert_mem_eq(ra.icon->pixel_data, rb.icon->pixel_data, ra.icon->pixel_data_length);
            ck_assert_str_eq(ra.icon->photometric, rb.icon->photometric);
            ck_assert_ptr_ne(ra.icon->photometric, rb.icon->photometric);
            ck_assert_int_eq(ra.icon->red_palette == NULL, rb.icon->red_palette == NULL);
            if (ra.icon->red_palette != NULL) {
                ck_assert_ptr_ne(ra.icon->red_palette, rb.icon->red_palette);
                ck_assert_mem_eq(ra.icon->blue_palette, rb.icon->blue_palette, ra.icon->palette_length);
            }
        }
    }
    ck_assert_uint_eq(mcm_request_unknown_count(a), mcm_request_unknown_count(b));
    for (size_t i = 0; i < mcm_request_unknown_count(a); i++)
        ck_assert_uint_eq(mcm_request_unknown(a, i), mcm_request_unknown(b, i));
}

START_TEST(clone_is_deep_and_equal)
{
    mcm_request *r = request_with_items(3);
    ck_assert_int_eq(mcm_request_set_attribute(r, MCM_TAG_LABEL_TEXT, "Jane Doe"), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute(r, MCM_TAG_SPECIFIC_CHARACTER_SET, "\\ISO 2022 IR 87"), MCM_OK);
    ck_assert_int_eq(mcm_request_set_copies(r, 3), MCM_OK);
    ck_assert_int_eq(mcm_request_set_priority(r, MCM_PRIORITY_HIGH), MCM_OK);
    /* Raw values as from the wire: empty, embedded NUL. */
    ck_assert_int_eq(mcm_request_set_attribute_raw(r, MCM_TAG_BARCODE_VALUE, "", 0), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute_raw(r, MCM_TAG_MEDIA_DISPOSITION, "a\0b", 3), MCM_OK);
    ck_assert_int_eq(mcm_request_add_reference_raw(r, NULL, 0, "", 0, "STD\0X", 5), MCM_OK);
    icon_buffers *b = palette_icon(256, 256);
    ck_assert_int_eq(mcm_request_set_icon(r, 1, &b->icon), MCM_OK);
    free(b);
    b = monochrome_icon(16, 16, 1, "MONOCHROME2");
    ck_assert_int_eq(mcm_request_set_icon(r, 2, &b->icon), MCM_OK);
    free(b);
    ck_assert_int_eq(mcm_request_note_unknown(r, MCM_TAG_SOP_INSTANCE_UID), MCM_OK);
    ck_assert_int_eq(mcm_request_note_unknown(r, MCM_TAG(0x0009, 0x1010)), MCM_OK);

    mcm_request *copy = NULL;
    ck_assert_int_eq(mcm_request_clone(&copy, r), MCM_OK);
    expect_same_request(r, copy);

    /* Validation answers the same for both. */
    mcm_response ra, rb;
    ck_assert_int_eq(mcm_request_validate(r, MCM_VALIDATE_STRICT, &ra), MCM_OK);
    ck_assert_int_eq(mcm_request_validate(copy, MCM_VALIDATE_STRICT, &rb), MCM_OK);
    ck_assert_uint_eq(ra.status, rb.status);
    ck_assert_str_eq(ra.error_comment, rb.error_comment);

    /* Changing the copy leaves the original; the copy outlives the original. */
    ck_assert_int_eq(mcm_request_set_attribute(copy, MCM_TAG_LABEL_TEXT, "changed"), MCM_OK);
    ck_assert_int_eq(mcm_request_set_icon(copy, 1, NULL), MCM_OK);
    ck_assert_str_eq(mcm_request_attribute(r, MCM_TAG_LABEL_TEXT), "Jane Doe");
    mcm_reference ref;
    ck_assert_int_eq(mcm_request_reference(r, 1, &ref), MCM_OK);
    ck_assert_ptr_nonnull(ref.icon);
    mcm_request_free(r);
    ck_assert_int_eq(mcm_request_reference(copy, 2, &ref), MCM_OK);
    ck_assert_uint_eq(ref.icon->pixel_data_length, 32);
    ck_assert_int_eq(mcm_request_copies(copy), 3);
    mcm_request_free(copy);
}
END_TEST

START_TEST(clone_of_empty_and_present_but_empty_sequence)
{
    mcm_request *r = new_request(), *copy = NULL;
    ck_assert_int_eq(mcm_request_clone(&copy, r), MCM_OK);
    expect_same_request(r, copy);
    ck_assert_int_eq(mcm_request_reference_sequence_present(copy), 0);
    mcm_request_free(copy);
    mcm_request_set_reference_sequence_present(r, 1);
    ck_assert_int_eq(mcm_request_clone(&copy, r), MCM_OK);
    ck_assert_int_eq(mcm_request_reference_sequence_present(copy), 1);
    ck_assert_uint_eq(mcm_request_reference_count(copy), 0);
    mcm_request_free(copy);
    ck_assert_int_eq(mcm_request_clone(NULL, r), MCM_EINVAL);
    ck_assert_int_eq(mcm_request_clone(&copy, NULL), MCM_EINVAL);
    ck_assert_int_eq(mcm_request_new(NULL), MCM_EINVAL);
    mcm_request_free(r);
}
END_TEST

/* ---- copies and priority ---- */

START_TEST(copies_helpers)
{
    mcm_request *r = new_request();
    ck_assert_int_eq(mcm_request_copies(r), 0);
    ck_assert_int_eq(mcm_request_set_copies(r, 1), MCM_OK);
    ck_assert_str_eq(mcm_request_attribute(r, MCM_TAG_NUMBER_OF_COPIES), "1");
    ck_assert_int_eq(mcm_request_copies(r), 1);
    ck_assert_int_eq(mcm_request_set_copies(r, MCM_MAX_COPIES), MCM_OK);
    ck_assert_str_eq(mcm_request_attribute(r, MCM_TAG_NUMBER_OF_COPIES), "9999");
    ck_assert_int_eq(mcm_request_copies(r), 9999);
    ck_assert_int_eq(mcm_request_set_copies(r, 10000), MCM_EINVAL);
    ck_assert_int_eq(mcm_request_set_copies(r, -1), MCM_EINVAL);
    ck_assert_int_eq(mcm_request_set_copies(r, -2147483647 - 1), MCM_EINVAL);
    ck_assert_int_eq(mcm_request_copies(r), 9999);
    ck_assert_int_eq(mcm_request_set_copies(r, 0), MCM_OK); /* removes */
    ck_assert_ptr_null(mcm_request_attribute(r, MCM_TAG_NUMBER_OF_COPIES));
    ck_assert_int_eq(mcm_request_copies(r), 0);
    /* Values from the wire that are not 1..9999 read as 0. */
    static const struct {
        const char *raw;
        int copies;
    } raw[] = {{"0", 0},  {"-3", 0},  {"10000", 0},          {"abc", 0},       {" 12 ", 12},
               {"+5", 5}, {"007", 7}, {"99999999999999", 0}, {"2147483648", 0}};
    for (size_t i = 0; i < COUNT(raw); i++) {
        ck_assert_int_eq(mcm_request_set_attribute_raw(r, MCM_TAG_NUMBER_OF_COPIES, raw[i].raw, strlen(raw[i].raw)),
                         MCM_OK);
        ck_assert_msg(mcm_request_copies(r) == raw[i].copies, "\"%s\" read as %d", raw[i].raw, mcm_request_copies(r));
    }
    ck_assert_int_eq(mcm_request_set_attribute_raw(r, MCM_TAG_NUMBER_OF_COPIES,
                                                   "5\0"
                                                   "0",
                                                   3),
                     MCM_OK);
    ck_assert_int_eq(mcm_request_copies(r), 0);
    ck_assert_int_eq(mcm_request_set_copies(NULL, 3), MCM_EINVAL);
    ck_assert_int_eq(mcm_request_copies(NULL), 0);
    mcm_request_free(r);
}
END_TEST

START_TEST(priority_helpers)
{
    mcm_request *r = new_request();
    ck_assert_int_eq(mcm_request_priority(r), MCM_PRIORITY_UNSET);
    static const mcm_priority all[] = {MCM_PRIORITY_HIGH, MCM_PRIORITY_MED, MCM_PRIORITY_LOW};
    static const char *const names[] = {"HIGH", "MED", "LOW"};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(mcm_request_set_priority(r, all[i]), MCM_OK);
        ck_assert_str_eq(mcm_request_attribute(r, MCM_TAG_REQUEST_PRIORITY), names[i]);
        ck_assert_int_eq(mcm_request_priority(r), all[i]);
    }
    ck_assert_int_eq(mcm_request_set_priority(r, (mcm_priority)7), MCM_EINVAL);
    ck_assert_int_eq(mcm_request_set_priority(r, (mcm_priority)-1), MCM_EINVAL);
    ck_assert_int_eq(mcm_request_priority(r), MCM_PRIORITY_LOW);
    ck_assert_int_eq(mcm_request_set_priority(r, MCM_PRIORITY_UNSET), MCM_OK);
    ck_assert_ptr_null(mcm_request_attribute(r, MCM_TAG_REQUEST_PRIORITY));
    ck_assert_int_eq(mcm_request_priority(r), MCM_PRIORITY_UNSET);
    ck_assert_int_eq(mcm_request_set_attribute_raw(r, MCM_TAG_REQUEST_PRIORITY, "URGENT", 6), MCM_OK);
    ck_assert_int_eq(mcm_request_priority(r), MCM_PRIORITY_UNSET);
    ck_assert_int_eq(mcm_request_set_attribute_raw(r, MCM_TAG_REQUEST_PRIORITY,
                                                   "HIGH\0"
                                                   "X",
                                                   6),
                     MCM_OK);
    ck_assert_int_eq(mcm_request_priority(r), MCM_PRIORITY_UNSET);
    ck_assert_int_eq(mcm_request_set_priority(NULL, MCM_PRIORITY_HIGH), MCM_EINVAL);
    ck_assert_int_eq(mcm_request_priority(NULL), MCM_PRIORITY_UNSET);
    mcm_request_free(r);
}
END_TEST

/* ---- File-set ID for a DICOMDIR (A8) ---- */

START_TEST(fileset_id_sanitize)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"my disc-1", "MY_DISC_1"},
        {"ABC_123", "ABC_123"},
        {"abcdefghijklmnopqrst", "ABCDEFGHIJKLMNOP"},
        {"  padded  ", "PADDED"},
        {"", ""},
        {"    ", ""},
        {"a.b/c\\d", "A_B_C_D"},
        {"Caf\xC3\xA9", "CAF_"}, /* one '_' per character, not per byte */
        {"\xE2\x82\xAC"
         "100",
         "_100"},
        {"\xF0\x9F\x92\xBF"
         "disc",
         "_DISC"},
        {"zz\x1B$Bzz", "ZZ__BZZ"},
        {"0123456789012345", "0123456789012345"},
    };
    char out[17];
    for (size_t i = 0; i < COUNT(cases); i++) {
        memset(out, 'Z', sizeof out);
        ck_assert_ptr_eq(mcm_fileset_id_sanitize(cases[i].in, out), out);
        ck_assert_msg(strcmp(out, cases[i].out) == 0, "\"%s\" -> \"%s\", want \"%s\"", cases[i].in, out, cases[i].out);
    }
    ck_assert_str_eq(mcm_fileset_id_sanitize(NULL, out), "");
    /* Whatever the input, the result is a valid DICOMDIR File-set ID: CS of A-Z 0-9 _, 16 at most. */
    char *big = repeat_text("\xC3\xA9x", 50);
    mcm_fileset_id_sanitize(big, out);
    ck_assert_uint_eq(strlen(out), 16);
    ck_assert_uint_eq(strspn(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"), 16);
    free(big);
}
END_TEST

Suite *mcm_suite_request(void)
{
    Suite *s = suite_create("request");
    TCase *tc = tcase_create("attributes");
    tcase_add_test(tc, attribute_table_is_the_digest_table);
    tcase_add_test(tc, yes_no_flags);
    tcase_add_test(tc, cs_padding_is_not_significant);
    tcase_add_test(tc, request_priority_values);
    tcase_add_test(tc, include_non_dicom_objects_values);
    tcase_add_test(tc, barcode_symbology_values);
    tcase_add_test(tc, label_style_selection_values);
    tcase_add_test(tc, number_of_copies_values);
    tcase_add_test(tc, fileset_id_values);
    tcase_add_test(tc, fileset_uid_values);
    tcase_add_test(tc, label_text_values);
    tcase_add_test(tc, lt_values);
    tcase_add_test(tc, specific_character_set_values);
    tcase_add_test(tc, unknown_and_sequence_tags_refused);
    tcase_add_test(tc, attribute_value_is_copied);
    tcase_add_test(tc, integer_string_range);
    tcase_add_test(tc, vr_lengths_by_one);
    suite_add_tcase(s, tc);

    tc = tcase_create("uids");
    tcase_add_test(tc, uid_is_valid_rules);
    tcase_add_test(tc, uid_generate_valid_and_unique);
    suite_add_tcase(s, tc);

    tc = tcase_create("references");
    tcase_add_test(tc, add_reference_and_read_back);
    tcase_add_test(tc, add_reference_refuses_bad_items);
    tcase_add_test(tc, icons_within_f7_accepted);
    tcase_add_test(tc, icons_breaking_f7_refused);
    tcase_add_test(tc, icon_is_deep_copied_and_removable);
    suite_add_tcase(s, tc);

    tc = tcase_create("object");
    tcase_add_test(tc, clone_is_deep_and_equal);
    tcase_add_test(tc, clone_of_empty_and_present_but_empty_sequence);
    tcase_add_test(tc, copies_helpers);
    tcase_add_test(tc, priority_helpers);
    tcase_add_test(tc, fileset_id_sanitize);
    suite_add_tcase(s, tc);
    return s;
}
