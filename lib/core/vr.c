/*
 * lib/core/vr.c: syntax checks of DICOM values (PS3.5 6.2 value representations, PS3.5 9.1 UIDs) and
 * the table of the request's single-valued attributes with their enumerated values (PS3.3 C.22.1).
 * Pure functions over constant tables; no allocation, no state.
 */
#include "core/vr.h"

#include "dcmmcm/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const mcm_attribute_def mcm_request_attributes[] = {
    {MCM_TAG_SPECIFIC_CHARACTER_SET, "SpecificCharacterSet", "Specific Character Set", MCM_VR_CS,
     MCM_RULE_CHARSET},
    {MCM_TAG_STORAGE_MEDIA_FILESET_ID, "StorageMediaFileSetID", "Storage Media File-set ID", MCM_VR_SH,
     MCM_RULE_NONE},
    {MCM_TAG_STORAGE_MEDIA_FILESET_UID, "StorageMediaFileSetUID", "Storage Media File-set UID", MCM_VR_UI,
     MCM_RULE_NONE},
    {MCM_TAG_NUMBER_OF_COPIES, "NumberOfCopies", "Number of Copies", MCM_VR_IS, MCM_RULE_COPIES},
    {MCM_TAG_LABEL_USING_INFORMATION, "LabelUsingInformationExtractedFromInstances",
     "Label Using Information Extracted From Instances", MCM_VR_CS, MCM_RULE_YES_NO},
    {MCM_TAG_LABEL_TEXT, "LabelText", "Label Text", MCM_VR_UT, MCM_RULE_NONE},
    {MCM_TAG_LABEL_STYLE_SELECTION, "LabelStyleSelection", "Label Style Selection", MCM_VR_CS, MCM_RULE_NONE},
    {MCM_TAG_MEDIA_DISPOSITION, "MediaDisposition", "Media Disposition", MCM_VR_LT, MCM_RULE_NONE},
    {MCM_TAG_BARCODE_VALUE, "BarcodeValue", "Barcode Value", MCM_VR_LT, MCM_RULE_NONE},
    {MCM_TAG_BARCODE_SYMBOLOGY, "BarcodeSymbology", "Barcode Symbology", MCM_VR_CS, MCM_RULE_SYMBOLOGY},
    {MCM_TAG_ALLOW_MEDIA_SPLITTING, "AllowMediaSplitting", "Allow Media Splitting", MCM_VR_CS, MCM_RULE_YES_NO},
    {MCM_TAG_INCLUDE_NON_DICOM_OBJECTS, "IncludeNonDICOMObjects", "Include Non-DICOM Objects", MCM_VR_CS,
     MCM_RULE_NON_DICOM},
    {MCM_TAG_INCLUDE_DISPLAY_APPLICATION, "IncludeDisplayApplication", "Include Display Application", MCM_VR_CS,
     MCM_RULE_YES_NO},
    {MCM_TAG_PRESERVE_COMPOSITE_INSTANCES, "PreserveCompositeInstancesAfterMediaCreation",
     "Preserve Composite Instances After Media Creation", MCM_VR_CS, MCM_RULE_YES_NO},
    {MCM_TAG_ALLOW_LOSSY_COMPRESSION, "AllowLossyCompression", "Allow Lossy Compression", MCM_VR_CS,
     MCM_RULE_YES_NO},
    {MCM_TAG_REQUEST_PRIORITY, "RequestPriority", "Request Priority", MCM_VR_CS, MCM_RULE_PRIORITY},
};
const size_t mcm_request_attribute_count = sizeof mcm_request_attributes / sizeof mcm_request_attributes[0];

const mcm_attribute_def *mcm_attribute_find(uint32_t tag)
{
    for (size_t i = 0; i < mcm_request_attribute_count; i++)
        if (mcm_request_attributes[i].tag == tag)
            return &mcm_request_attributes[i];
    return NULL;
}

const char *mcm_vr_name(mcm_vr vr)
{
    static const char *const names[] = {"UI", "CS", "SH", "LO", "LT", "UT", "IS"};
    return (unsigned)vr < sizeof names / sizeof names[0] ? names[vr] : "??";
}

/* Store why a value is invalid and return 0 (invalid). */
static int reason(char *why, size_t size, const char *text)
{
    if (why != NULL && size > 0)
        snprintf(why, size, "%s", text);
    return 0;
}

static int too_long(char *why, size_t size, size_t max)
{
    if (why != NULL && size > 0)
        snprintf(why, size, "longer than %zu characters", max);
    return 0;
}

/* Characters, not bytes: continuation bytes of UTF-8 (10xxxxxx) do not count. The VR limits are in
 * characters (PS3.5 6.2); for single-byte character sets every byte is one character, and bytes
 * 0x80-0xBF of those are undercounted, which only ever makes the check more lenient. */
static size_t character_count(const char *value, size_t length)
{
    size_t n = 0;
    for (size_t i = 0; i < length; i++)
        if (((unsigned char)value[i] & 0xC0) != 0x80)
            n++;
    return n;
}

int mcm_uid_check(const char *value, size_t length)
{
    if (value == NULL || length == 0 || length > 64)
        return 0;
    size_t component_start = 0;
    for (size_t i = 0; i <= length; i++) {
        if (i == length || value[i] == '.') {
            size_t component_length = i - component_start;
            if (component_length == 0)
                return 0;
            if (component_length > 1 && value[component_start] == '0')
                return 0;
            component_start = i + 1;
        } else if (value[i] < '0' || value[i] > '9') {
            return 0;
        }
    }
    return 1;
}

/* Default character repertoire plus ESC (for ISO 2022 escapes): no other control character. */
static int text_char_ok(unsigned char c, int multiline)
{
    if (c == 0x1B)
        return 1;
    if (multiline && (c == 0x0A || c == 0x0C || c == 0x0D || c == 0x09))
        return 1;
    return c >= 0x20 && c != 0x7F;
}

int mcm_vr_check(mcm_vr vr, const char *value, size_t length, char *why, size_t why_size)
{
    if (value == NULL)
        return reason(why, why_size, "no value");
    if (memchr(value, '\0', length) != NULL)
        return reason(why, why_size, "contains a NUL character");
    switch (vr) {
    case MCM_VR_UI:
        if (length > 64)
            return reason(why, why_size, "UID longer than 64 characters");
        if (!mcm_uid_check(value, length))
            return reason(why, why_size, "not a valid UID");
        return 1;
    case MCM_VR_CS:
        if (length > 16)
            return too_long(why, why_size, 16);
        for (size_t i = 0; i < length; i++) {
            char c = value[i];
            if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' || c == '_'))
                return reason(why, why_size, "character not allowed in CS (A-Z 0-9 space _)");
        }
        return 1;
    case MCM_VR_SH:
    case MCM_VR_LO: {
        size_t max = vr == MCM_VR_SH ? 16 : 64;
        if (character_count(value, length) > max)
            return too_long(why, why_size, max);
        for (size_t i = 0; i < length; i++) {
            if (value[i] == '\\')
                return reason(why, why_size, "contains a backslash");
            if (!text_char_ok((unsigned char)value[i], 0))
                return reason(why, why_size, "contains a control character");
        }
        return 1;
    }
    case MCM_VR_LT:
    case MCM_VR_UT: {
        size_t max = vr == MCM_VR_LT ? 10240 : (size_t)4294967294u;
        if (character_count(value, length) > max)
            return too_long(why, why_size, max);
        for (size_t i = 0; i < length; i++)
            if (!text_char_ok((unsigned char)value[i], 1))
                return reason(why, why_size, "contains a control character");
        return 1;
    }
    case MCM_VR_IS: {
        if (length > 12)
            return too_long(why, why_size, 12);
        size_t i = 0;
        while (i < length && value[i] == ' ')
            i++;
        size_t end = length;
        while (end > i && value[end - 1] == ' ')
            end--;
        if (i < end && (value[i] == '+' || value[i] == '-'))
            i++;
        if (i == end)
            return reason(why, why_size, "not an integer string");
        for (size_t k = i; k < end; k++)
            if (value[k] < '0' || value[k] > '9')
                return reason(why, why_size, "not an integer string");
        char buf[16];
        memcpy(buf, value, length);
        buf[length] = '\0';
        long long n = strtoll(buf, NULL, 10);
        if (n < -2147483648LL || n > 2147483647LL)
            return reason(why, why_size, "outside the IS range");
        return 1;
    }
    }
    return reason(why, why_size, "unknown VR");
}

int mcm_ae_title_check(const char *title)
{
    if (title == NULL)
        return 0;
    size_t n = strlen(title);
    if (n == 0 || n > 16)
        return 0;
    int significant = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)title[i];
        if (c < 0x20 || c >= 0x7F || c == '\\')
            return 0;
        if (c != ' ')
            significant = 1;
    }
    return significant;
}

static int equals(const char *value, size_t length, const char *term)
{
    return strlen(term) == length && memcmp(value, term, length) == 0;
}

static int one_of(const char *value, size_t length, const char *const *terms)
{
    for (; *terms != NULL; terms++)
        if (equals(value, length, *terms))
            return 1;
    return 0;
}

/* PS3.3 C.12.1.1.2 defined terms of Specific Character Set. */
static const char *const charset_terms[] = {
    "ISO_IR 100", "ISO_IR 101", "ISO_IR 109", "ISO_IR 110", "ISO_IR 144", "ISO_IR 127", "ISO_IR 126",
    "ISO_IR 138", "ISO_IR 148", "ISO_IR 203", "ISO_IR 13", "ISO_IR 166", "ISO_IR 192", "GB18030", "GBK",
    "ISO 2022 IR 6", "ISO 2022 IR 100", "ISO 2022 IR 101", "ISO 2022 IR 109", "ISO 2022 IR 110",
    "ISO 2022 IR 144", "ISO 2022 IR 127", "ISO 2022 IR 126", "ISO 2022 IR 138", "ISO 2022 IR 148",
    "ISO 2022 IR 203", "ISO 2022 IR 13", "ISO 2022 IR 166", "ISO 2022 IR 87", "ISO 2022 IR 159",
    "ISO 2022 IR 149", "ISO 2022 IR 58", NULL};

/* The multi-byte code extensions: never value 1, which is the single-byte set in G0 (PS3.3 Table
 * C.12-4 describes them "for value 2 to value n"). */
static const char *const multibyte_extension_terms[] = {"ISO 2022 IR 87", "ISO 2022 IR 159", "ISO 2022 IR 149",
                                                        "ISO 2022 IR 58", NULL};

static int check_charset(const char *value, size_t length, char *why, size_t why_size)
{
    size_t start = 0;
    int multi_valued = memchr(value, '\\', length) != NULL;
    for (size_t i = 0, n = 0; i <= length; i++) {
        if (i < length && value[i] != '\\')
            continue;
        const char *v = value + start;
        size_t len = i - start;
        while (len > 0 && v[len - 1] == ' ')
            len--;
        while (len > 0 && *v == ' ') {
            v++;
            len--;
        }
        if (!mcm_vr_check(MCM_VR_CS, v, len, why, why_size))
            return 0;
        /* Only the first value may be empty (default repertoire, PS3.3 C.12.1.1.2). */
        if (len == 0 ? n > 0 : !one_of(v, len, charset_terms))
            return reason(why, why_size, "unknown character set term");
        /* With more than one value, code extensions are in use and every term is an ISO 2022 one;
         * the terms without code extensions (ISO_IR nnn, GB18030, GBK) stand alone (PS3.3 C.12.1.1.2). */
        if (multi_valued && len > 0 && !(len > 9 && memcmp(v, "ISO 2022 ", 9) == 0))
            return reason(why, why_size, "only ISO 2022 terms may be combined");
        if (n == 0 && one_of(v, len, multibyte_extension_terms))
            return reason(why, why_size, "a multi-byte code extension cannot be value 1");
        n++;
        start = i + 1;
    }
    return 1;
}

int mcm_attribute_check(const mcm_attribute_def *def, const char *value, size_t length, char *why,
                        size_t why_size)
{
    static const char *const yes_no[] = {"YES", "NO", NULL};
    static const char *const priorities[] = {"HIGH", "MED", "LOW", NULL};
    static const char *const non_dicom[] = {"NO", "FOR_PHYSICIAN", "FOR_PATIENT", "FOR_TEACHING", "FOR_RESEARCH",
                                            NULL};
    if (def->rule == MCM_RULE_CHARSET) {
        /* Each value is checked as CS by check_charset(); the whole value first, so that why is
         * always set when the answer is 0. */
        if (value == NULL)
            return reason(why, why_size, "no value");
        if (memchr(value, '\0', length) != NULL)
            return reason(why, why_size, "contains a NUL character");
        return check_charset(value, length, why, why_size);
    }
    if (!mcm_vr_check(def->vr, value, length, why, why_size))
        return 0;
    /* Enumerated values and defined terms are CS, whose padding is not significant (PS3.5 6.2). */
    while (length > 0 && value[length - 1] == ' ')
        length--;
    while (length > 0 && *value == ' ') {
        value++;
        length--;
    }
    switch (def->rule) {
    case MCM_RULE_YES_NO:
        return one_of(value, length, yes_no) ? 1 : reason(why, why_size, "not YES or NO");
    case MCM_RULE_PRIORITY:
        return one_of(value, length, priorities) ? 1 : reason(why, why_size, "not HIGH, MED or LOW");
    case MCM_RULE_NON_DICOM:
        return one_of(value, length, non_dicom) ? 1 : reason(why, why_size, "not a defined term");
    default:
        return 1;
    }
}
