/*
 * lib/core/request.c: the media creation request object (N-CREATE attributes and Initiate arguments)
 * and its validation (digest 3.1, 3.2, 3.5, 5.10, decisions A8-A11, A14).
 * Owns the request's memory. Does not know DICOM encoding (lib/dcmtk/ converts data sets) and
 * never checks anything that needs the instances (that is the media worker's job at start, A11).
 */
#include "core/request_internal.h"

#include "core/error.h"
#include "core/vr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ATTRIBUTE_SLOTS 32

typedef struct stored_value {
    char *value;   /* NUL-terminated copy; may contain embedded NULs within length */
    size_t length;
} stored_value;

typedef struct reference_item {
    stored_value class_uid;    /* value NULL: absent */
    stored_value instance_uid;
    stored_value profile;
    mcm_icon *icon;            /* owned deep copy, or NULL */
} reference_item;

struct mcm_request {
    stored_value attributes[ATTRIBUTE_SLOTS]; /* indexed like mcm_request_attributes */
    reference_item *references;
    size_t reference_count, reference_capacity;
    int reference_sequence_present;
    /* The first distinct unknown tags, as many as a 0105 reply can list: a hostile data set with
     * 100,000 private attributes costs 16 comparisons each, not a quadratic scan (digest A9). */
    uint32_t unknown[MCM_RESPONSE_MAX_TAGS];
    size_t unknown_count;
};

static int store_value(stored_value *slot, const char *value, size_t length)
{
    char *copy = NULL;
    if (value != NULL) {
        copy = malloc(length + 1);
        if (copy == NULL)
            return mcm_fail(MCM_ENOMEM, "out of memory");
        memcpy(copy, value, length);
        copy[length] = '\0';
    }
    free(slot->value);
    slot->value = copy;
    slot->length = value != NULL ? length : 0;
    return MCM_OK;
}

static void free_icon(mcm_icon *icon)
{
    if (icon == NULL)
        return;
    free((void *)icon->photometric);
    free((void *)icon->pixel_data);
    free((void *)icon->red_palette);
    free((void *)icon->green_palette);
    free((void *)icon->blue_palette);
    free(icon);
}

static void *copy_bytes(const void *data, size_t length, int *failed)
{
    if (data == NULL || length == 0)
        return NULL;
    void *copy = malloc(length);
    if (copy == NULL)
        *failed = 1;
    else
        memcpy(copy, data, length);
    return copy;
}

static mcm_icon *clone_icon(const mcm_icon *icon)
{
    mcm_icon *copy = calloc(1, sizeof *copy);
    if (copy == NULL)
        return NULL;
    int failed = 0;
    *copy = *icon;
    copy->photometric = icon->photometric != NULL ? copy_bytes(icon->photometric, strlen(icon->photometric) + 1, &failed)
                                                  : NULL;
    copy->pixel_data = copy_bytes(icon->pixel_data, icon->pixel_data_length, &failed);
    copy->red_palette = copy_bytes(icon->red_palette, icon->palette_length, &failed);
    copy->green_palette = copy_bytes(icon->green_palette, icon->palette_length, &failed);
    copy->blue_palette = copy_bytes(icon->blue_palette, icon->palette_length, &failed);
    if (failed) {
        free_icon(copy);
        return NULL;
    }
    return copy;
}

MCM_EXTERN int mcm_request_new(mcm_request **out)
{
    if (out == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_request_new: out is NULL");
    *out = calloc(1, sizeof **out);
    return *out != NULL ? MCM_OK : mcm_fail(MCM_ENOMEM, "out of memory");
}

static void free_reference(reference_item *item)
{
    free(item->class_uid.value);
    free(item->instance_uid.value);
    free(item->profile.value);
    free_icon(item->icon);
}

MCM_EXTERN void mcm_request_free(mcm_request *request)
{
    if (request == NULL)
        return;
    for (size_t i = 0; i < ATTRIBUTE_SLOTS; i++)
        free(request->attributes[i].value);
    for (size_t i = 0; i < request->reference_count; i++)
        free_reference(&request->references[i]);
    free(request->references);
    free(request);
}

MCM_EXTERN int mcm_request_clone(mcm_request **out, const mcm_request *request)
{
    if (out == NULL || request == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_request_clone: NULL argument");
    mcm_request *copy;
    int rc = mcm_request_new(&copy);
    if (rc != MCM_OK)
        return rc;
    for (size_t i = 0; i < ATTRIBUTE_SLOTS && rc == MCM_OK; i++)
        if (request->attributes[i].value != NULL)
            rc = store_value(&copy->attributes[i], request->attributes[i].value, request->attributes[i].length);
    for (size_t i = 0; i < request->reference_count && rc == MCM_OK; i++) {
        const reference_item *item = &request->references[i];
        rc = mcm_request_add_reference_raw(copy, item->class_uid.value, item->class_uid.length, item->instance_uid.value,
                                           item->instance_uid.length, item->profile.value, item->profile.length);
        if (rc == MCM_OK && item->icon != NULL)
            rc = mcm_request_set_icon_raw(copy, i, item->icon);
    }
    copy->reference_sequence_present = request->reference_sequence_present;
    for (size_t i = 0; i < request->unknown_count && rc == MCM_OK; i++)
        rc = mcm_request_note_unknown(copy, request->unknown[i]);
    if (rc != MCM_OK) {
        mcm_request_free(copy);
        return rc;
    }
    *out = copy;
    return MCM_OK;
}

static stored_value *attribute_slot(mcm_request *request, uint32_t tag, const mcm_attribute_def **def_out)
{
    const mcm_attribute_def *def = mcm_attribute_find(tag);
    if (def_out != NULL)
        *def_out = def;
    return def != NULL ? &request->attributes[def - mcm_request_attributes] : NULL;
}

/* CS values: leading and trailing spaces are not significant (PS3.5 6.2). The request keeps a CS
 * value without them, so that every reader compares plain terms ("YES", not "YES "). */
static void drop_cs_padding(const mcm_attribute_def *def, const char **value, size_t *length)
{
    if (def->vr != MCM_VR_CS || *value == NULL)
        return;
    while (*length > 0 && (*value)[*length - 1] == ' ')
        (*length)--;
    while (*length > 0 && **value == ' ') {
        (*value)++;
        (*length)--;
    }
}

int mcm_request_set_attribute_raw(mcm_request *request, uint32_t tag, const char *value, size_t length)
{
    const mcm_attribute_def *def;
    if (request == NULL)
        return mcm_fail(MCM_EINVAL, "request is NULL");
    stored_value *slot = attribute_slot(request, tag, &def);
    if (slot == NULL)
        return mcm_fail(MCM_EINVAL, "(%04X,%04X) is not a request attribute", (unsigned)(tag >> 16),
                        (unsigned)(tag & 0xFFFF));
    drop_cs_padding(def, &value, &length);
    return store_value(slot, value, length);
}

MCM_EXTERN int mcm_request_set_attribute(mcm_request *request, uint32_t tag, const char *value)
{
    const mcm_attribute_def *def;
    if (request == NULL)
        return mcm_fail(MCM_EINVAL, "request is NULL");
    stored_value *slot = attribute_slot(request, tag, &def);
    if (slot == NULL)
        return mcm_fail(MCM_EINVAL, "(%04X,%04X) is not a single-valued attribute of the request",
                        (unsigned)(tag >> 16), (unsigned)(tag & 0xFFFF));
    if (value != NULL) {
        char why[96];
        size_t length = strlen(value);
        drop_cs_padding(def, &value, &length);
        if (length == 0)
            return mcm_fail(MCM_EINVAL, "%s (%04X,%04X): empty value (remove the attribute with NULL instead)",
                            def->name, (unsigned)(tag >> 16), (unsigned)(tag & 0xFFFF));
        if (!mcm_attribute_check(def, value, length, why, sizeof why))
            return mcm_fail(MCM_EINVAL, "%s (%04X,%04X): %s", def->name, (unsigned)(tag >> 16),
                            (unsigned)(tag & 0xFFFF), why);
        if (def->rule == MCM_RULE_COPIES) {
            long n = strtol(value, NULL, 10);
            if (n < 1 || n > MCM_MAX_COPIES)
                return mcm_fail(MCM_EINVAL, "Number of Copies (2000,0010): %ld is not in 1..%d", n, MCM_MAX_COPIES);
        }
        return store_value(slot, value, length);
    }
    return store_value(slot, NULL, 0);
}

MCM_EXTERN const char *mcm_request_attribute(const mcm_request *request, uint32_t tag)
{
    if (request == NULL)
        return NULL;
    const mcm_attribute_def *def = mcm_attribute_find(tag);
    return def != NULL ? request->attributes[def - mcm_request_attributes].value : NULL;
}

size_t mcm_request_attribute_length(const mcm_request *request, uint32_t tag)
{
    const mcm_attribute_def *def = mcm_attribute_find(tag);
    return request != NULL && def != NULL ? request->attributes[def - mcm_request_attributes].length : 0;
}

int mcm_request_add_reference_raw(mcm_request *request, const char *sop_class_uid, size_t class_length,
                                  const char *sop_instance_uid, size_t instance_length, const char *profile,
                                  size_t profile_length)
{
    if (request == NULL)
        return mcm_fail(MCM_EINVAL, "request is NULL");
    if (request->reference_count == request->reference_capacity) {
        size_t capacity = request->reference_capacity ? request->reference_capacity * 2 : 8;
        reference_item *grown = realloc(request->references, capacity * sizeof *grown);
        if (grown == NULL)
            return mcm_fail(MCM_ENOMEM, "out of memory");
        request->references = grown;
        request->reference_capacity = capacity;
    }
    reference_item item;
    memset(&item, 0, sizeof item);
    if (store_value(&item.class_uid, sop_class_uid, class_length) != MCM_OK ||
        store_value(&item.instance_uid, sop_instance_uid, instance_length) != MCM_OK ||
        store_value(&item.profile, profile, profile_length) != MCM_OK) {
        free_reference(&item);
        return mcm_fail(MCM_ENOMEM, "out of memory");
    }
    request->references[request->reference_count++] = item;
    request->reference_sequence_present = 1;
    return MCM_OK;
}

MCM_EXTERN int mcm_request_add_reference(mcm_request *request, const char *sop_class_uid,
                                         const char *sop_instance_uid, const char *profile)
{
    char why[96];
    if (request == NULL || sop_class_uid == NULL || sop_instance_uid == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_request_add_reference: NULL argument");
    if (!mcm_uid_is_valid(sop_class_uid))
        return mcm_fail(MCM_EINVAL, "Referenced SOP Class UID (0008,1150) \"%.80s\" is not a valid UID", sop_class_uid);
    if (!mcm_uid_is_valid(sop_instance_uid))
        return mcm_fail(MCM_EINVAL, "Referenced SOP Instance UID (0008,1155) \"%.80s\" is not a valid UID",
                        sop_instance_uid);
    if (profile != NULL && (profile[0] == '\0' || !mcm_vr_check(MCM_VR_LO, profile, strlen(profile), why, sizeof why)))
        return mcm_fail(MCM_EINVAL, "Requested Media Application Profile (2200,000C): %s",
                        profile[0] == '\0' ? "empty value" : why);
    return mcm_request_add_reference_raw(request, sop_class_uid, strlen(sop_class_uid), sop_instance_uid,
                                         strlen(sop_instance_uid), profile, profile != NULL ? strlen(profile) : 0);
}

/* PS3.3 F.7 limits of an icon in a DICOMDIR record. Returns 1 if icon is acceptable, else 0 and why. */
static int icon_check(const mcm_icon *icon, char *why, size_t why_size)
{
    const char *text = NULL;
    int palette = icon->photometric != NULL && strcmp(icon->photometric, "PALETTE COLOR") == 0;
    if (icon->rows == 0 || icon->columns == 0)
        text = "rows and columns must be non-zero";
    else if (icon->photometric == NULL ||
             (!palette && strcmp(icon->photometric, "MONOCHROME1") != 0 && strcmp(icon->photometric, "MONOCHROME2") != 0))
        text = "photometric interpretation must be MONOCHROME1, MONOCHROME2 or PALETTE COLOR";
    else if (icon->bits_allocated != 1 && icon->bits_allocated != 8)
        text = "bits allocated must be 1 or 8";
    else if (icon->bits_stored != icon->bits_allocated || icon->high_bit != icon->bits_stored - 1)
        text = "bits stored must equal bits allocated, high bit one less";
    else if (palette && icon->bits_allocated != 8)
        text = "a palette icon needs 8 bits allocated";
    else {
        /* Pixel Data is OB/OW: an odd number of bytes is padded by one to even length (PS3.5 7.1.1),
         * so expected + 1 only when expected is odd. */
        size_t expected = ((size_t)icon->rows * icon->columns * icon->bits_allocated + 7) / 8;
        size_t padded = expected + (expected & 1);
        if (icon->pixel_data == NULL || (icon->pixel_data_length != expected && icon->pixel_data_length != padded))
            text = "pixel data length does not match rows x columns";
        else if (palette) {
            /* PS3.3 C.7.6.3.1.5: the descriptor's third value, bits per entry, is 8 or 16; each entry
             * takes 16 bits in the LUT Data (OW) either way. */
            size_t entries = icon->palette_descriptor[0] == 0 ? 65536 : icon->palette_descriptor[0];
            if (icon->palette_descriptor[2] != 8 && icon->palette_descriptor[2] != 16)
                text = "palette descriptor bits per entry must be 8 or 16";
            else if (icon->red_palette == NULL || icon->green_palette == NULL || icon->blue_palette == NULL ||
                     icon->palette_length != entries * 2)
                text = "palette LUT data missing or not descriptor entries x 2 bytes";
        }
    }
    if (text == NULL)
        return 1;
    if (why != NULL && why_size > 0) {
        strncpy(why, text, why_size - 1);
        why[why_size - 1] = '\0';
    }
    return 0;
}

int mcm_request_set_icon_raw(mcm_request *request, size_t index, const mcm_icon *icon)
{
    if (request == NULL || index >= request->reference_count)
        return mcm_fail(MCM_ENOTFOUND, "no Referenced SOP Sequence item %zu", index);
    mcm_icon *copy = NULL;
    if (icon != NULL && (copy = clone_icon(icon)) == NULL)
        return mcm_fail(MCM_ENOMEM, "out of memory");
    free_icon(request->references[index].icon);
    request->references[index].icon = copy;
    return MCM_OK;
}

MCM_EXTERN int mcm_request_set_icon(mcm_request *request, size_t index, const mcm_icon *icon)
{
    char why[96];
    if (request == NULL)
        return mcm_fail(MCM_EINVAL, "request is NULL");
    if (index >= request->reference_count)
        return mcm_fail(MCM_ENOTFOUND, "no Referenced SOP Sequence item %zu", index);
    if (icon != NULL && !icon_check(icon, why, sizeof why))
        return mcm_fail(MCM_EINVAL, "Icon Image Sequence (0088,0200): %s", why);
    return mcm_request_set_icon_raw(request, index, icon);
}

MCM_EXTERN size_t mcm_request_reference_count(const mcm_request *request)
{
    return request != NULL ? request->reference_count : 0;
}

MCM_EXTERN int mcm_request_reference(const mcm_request *request, size_t index, mcm_reference *out)
{
    if (request == NULL || out == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_request_reference: NULL argument");
    if (index >= request->reference_count)
        return mcm_fail(MCM_ENOTFOUND, "no Referenced SOP Sequence item %zu", index);
    const reference_item *item = &request->references[index];
    out->sop_class_uid = item->class_uid.value;
    out->sop_instance_uid = item->instance_uid.value;
    out->profile = item->profile.value;
    out->icon = item->icon;
    return MCM_OK;
}

int mcm_request_reference_lengths(const mcm_request *request, size_t index, size_t *class_length,
                                  size_t *instance_length, size_t *profile_length)
{
    if (request == NULL || index >= request->reference_count)
        return mcm_fail(MCM_ENOTFOUND, "no Referenced SOP Sequence item %zu", index);
    const reference_item *item = &request->references[index];
    if (class_length != NULL)
        *class_length = item->class_uid.length;
    if (instance_length != NULL)
        *instance_length = item->instance_uid.length;
    if (profile_length != NULL)
        *profile_length = item->profile.length;
    return MCM_OK;
}

void mcm_request_set_reference_sequence_present(mcm_request *request, int present)
{
    if (request != NULL)
        request->reference_sequence_present = present != 0;
}

int mcm_request_reference_sequence_present(const mcm_request *request)
{
    return request != NULL && request->reference_sequence_present;
}

int mcm_request_note_unknown(mcm_request *request, uint32_t tag)
{
    if (request == NULL)
        return mcm_fail(MCM_EINVAL, "request is NULL");
    for (size_t i = 0; i < request->unknown_count; i++)
        if (request->unknown[i] == tag)
            return MCM_OK;
    if (request->unknown_count < MCM_RESPONSE_MAX_TAGS)
        request->unknown[request->unknown_count++] = tag;
    return MCM_OK;
}

size_t mcm_request_unknown_count(const mcm_request *request)
{
    return request != NULL ? request->unknown_count : 0;
}

uint32_t mcm_request_unknown(const mcm_request *request, size_t index)
{
    return request != NULL && index < request->unknown_count ? request->unknown[index] : 0;
}

MCM_EXTERN int mcm_request_set_copies(mcm_request *request, int copies)
{
    char text[16];
    if (copies == 0)
        return mcm_request_set_attribute(request, MCM_TAG_NUMBER_OF_COPIES, NULL);
    if (copies < 0 || copies > MCM_MAX_COPIES)
        return mcm_fail(MCM_EINVAL, "Number of Copies %d is not in 1..%d", copies, MCM_MAX_COPIES);
    snprintf(text, sizeof text, "%d", copies);
    return mcm_request_set_attribute(request, MCM_TAG_NUMBER_OF_COPIES, text);
}

MCM_EXTERN int mcm_request_copies(const mcm_request *request)
{
    const char *value = mcm_request_attribute(request, MCM_TAG_NUMBER_OF_COPIES);
    if (value == NULL || !mcm_vr_check(MCM_VR_IS, value, mcm_request_attribute_length(request, MCM_TAG_NUMBER_OF_COPIES),
                                       NULL, 0))
        return 0;
    long n = strtol(value, NULL, 10);
    return n >= 1 && n <= MCM_MAX_COPIES ? (int)n : 0;
}

MCM_EXTERN const char *mcm_priority_name(mcm_priority priority)
{
    switch (priority) {
    case MCM_PRIORITY_HIGH: return "HIGH";
    case MCM_PRIORITY_MED: return "MED";
    case MCM_PRIORITY_LOW: return "LOW";
    default: return NULL;
    }
}

MCM_EXTERN int mcm_priority_parse(const char *name, mcm_priority *out)
{
    static const mcm_priority all[] = {MCM_PRIORITY_HIGH, MCM_PRIORITY_MED, MCM_PRIORITY_LOW};
    if (name != NULL && out != NULL)
        for (size_t i = 0; i < 3; i++)
            if (strcmp(name, mcm_priority_name(all[i])) == 0) {
                *out = all[i];
                return MCM_OK;
            }
    return mcm_fail(MCM_EINVAL, "Request Priority \"%.20s\" is not HIGH, MED or LOW", name != NULL ? name : "(null)");
}

MCM_EXTERN int mcm_request_set_priority(mcm_request *request, mcm_priority priority)
{
    if (priority == MCM_PRIORITY_UNSET)
        return mcm_request_set_attribute(request, MCM_TAG_REQUEST_PRIORITY, NULL);
    const char *name = mcm_priority_name(priority);
    if (name == NULL)
        return mcm_fail(MCM_EINVAL, "unknown priority %d", (int)priority);
    return mcm_request_set_attribute(request, MCM_TAG_REQUEST_PRIORITY, name);
}

MCM_EXTERN mcm_priority mcm_request_priority(const mcm_request *request)
{
    mcm_priority priority;
    const char *value = mcm_request_attribute(request, MCM_TAG_REQUEST_PRIORITY);
    /* A raw value may hold an embedded NUL ("HIGH\0X" is not HIGH): the whole stored length counts. */
    if (value == NULL || strlen(value) != mcm_request_attribute_length(request, MCM_TAG_REQUEST_PRIORITY))
        return MCM_PRIORITY_UNSET;
    return mcm_priority_parse(value, &priority) == MCM_OK ? priority : MCM_PRIORITY_UNSET;
}

MCM_EXTERN char *mcm_fileset_id_sanitize(const char *fileset_id, char out[17])
{
    size_t n = 0;
    if (fileset_id != NULL) {
        /* Leading and trailing spaces are padding, not content. */
        size_t length = strlen(fileset_id);
        while (length > 0 && fileset_id[length - 1] == ' ')
            length--;
        while (length > 0 && *fileset_id == ' ') {
            fileset_id++;
            length--;
        }
        for (size_t i = 0; i < length && n < 16; i++) {
            char c = fileset_id[i];
            /* One '_' per character: the continuation bytes of a UTF-8 character add none. */
            if (i > 0 && ((unsigned char)c & 0xC0) == 0x80 && ((unsigned char)fileset_id[i - 1] & 0x80) != 0)
                continue;
            if (c >= 'a' && c <= 'z')
                c = (char)(c - 'a' + 'A');
            out[n++] = ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_') ? c : '_';
        }
    }
    out[n] = '\0';
    return out;
}

/* ---- validation ---- */

/* What the validation found for one status class: the first problem's comment and every tag. */
typedef struct finding {
    int found;
    char comment[MCM_COMMENT_MAX + 1];
    uint32_t tags[MCM_RESPONSE_MAX_TAGS];
    size_t tag_count;
} finding;

typedef enum { FIND_MISSING, FIND_EMPTY, FIND_INVALID, FIND_UNKNOWN, FIND_CLASSES } finding_class;

typedef struct findings {
    finding by_class[FIND_CLASSES];
} findings;

static void note(findings *f, finding_class cls, uint32_t tag, size_t item, const char *what)
{
    finding *x = &f->by_class[cls];
    if (!x->found) {
        x->found = 1;
        char text[160];
        if (item > 0)
            snprintf(text, sizeof text, "item %zu: (%04X,%04X) %s", item, (unsigned)(tag >> 16), (unsigned)(tag & 0xFFFF),
                     what);
        else
            snprintf(text, sizeof text, "(%04X,%04X) %s", (unsigned)(tag >> 16), (unsigned)(tag & 0xFFFF), what);
        mcm_response tmp;
        mcm_response_clear(&tmp);
        mcm_response_set(&tmp, MCM_OP_N_CREATE, 0, "%s", text);
        memcpy(x->comment, tmp.error_comment, sizeof x->comment);
    }
    for (size_t i = 0; i < x->tag_count; i++)
        if (x->tags[i] == tag)
            return;
    if (x->tag_count < MCM_RESPONSE_MAX_TAGS)
        x->tags[x->tag_count++] = tag;
}

/* One UID-valued item attribute: absent, empty, or invalid. */
static void check_item_uid(findings *f, const stored_value *v, uint32_t tag, size_t item)
{
    if (v->value == NULL)
        note(f, FIND_MISSING, tag, item, "missing");
    else if (v->length == 0)
        note(f, FIND_EMPTY, tag, item, "empty");
    else if (!mcm_uid_check(v->value, v->length) || memchr(v->value, '\0', v->length) != NULL)
        note(f, FIND_INVALID, tag, item, "is not a valid UID");
}

MCM_EXTERN int mcm_request_validate(const mcm_request *request, unsigned flags, mcm_response *out)
{
    if (request == NULL || out == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_request_validate: NULL argument");
    findings f;
    memset(&f, 0, sizeof f);
    int strict = (flags & MCM_VALIDATE_STRICT) != 0;
    char why[96];

    if (!request->reference_sequence_present)
        note(&f, FIND_MISSING, MCM_TAG_REFERENCED_SOP_SEQUENCE, 0, "Referenced SOP Sequence missing");
    else if (request->reference_count == 0)
        note(&f, FIND_EMPTY, MCM_TAG_REFERENCED_SOP_SEQUENCE, 0, "Referenced SOP Sequence has no item");
    for (size_t i = 0; i < request->reference_count; i++) {
        const reference_item *item = &request->references[i];
        check_item_uid(&f, &item->class_uid, MCM_TAG_REFERENCED_SOP_CLASS_UID, i + 1);
        check_item_uid(&f, &item->instance_uid, MCM_TAG_REFERENCED_SOP_INSTANCE_UID, i + 1);
        if (item->profile.value != NULL) {
            if (item->profile.length == 0) {
                if (strict)
                    note(&f, FIND_EMPTY, MCM_TAG_REQUESTED_MEDIA_APPLICATION_PROFILE, i + 1, "empty");
            } else if (!mcm_vr_check(MCM_VR_LO, item->profile.value, item->profile.length, why, sizeof why)) {
                note(&f, FIND_INVALID, MCM_TAG_REQUESTED_MEDIA_APPLICATION_PROFILE, i + 1, why);
            }
        }
        if (item->icon != NULL && !icon_check(item->icon, why, sizeof why))
            note(&f, FIND_INVALID, MCM_TAG_ICON_IMAGE_SEQUENCE, i + 1, why);
    }
    for (size_t k = 0; k < mcm_request_attribute_count; k++) {
        const mcm_attribute_def *def = &mcm_request_attributes[k];
        const stored_value *v = &request->attributes[k];
        if (v->value == NULL)
            continue;
        if (v->length == 0) {
            /* Type 3 attributes may not be sent empty (PS3.4 5.4.2.1); lenient mode treats an empty
             * optional attribute as absent, strict mode answers 0121. */
            if (strict)
                note(&f, FIND_EMPTY, def->tag, 0, "empty");
            continue;
        }
        if (!mcm_attribute_check(def, v->value, v->length, why, sizeof why))
            note(&f, FIND_INVALID, def->tag, 0, why);
        else if (strict && def->tag == MCM_TAG_STORAGE_MEDIA_FILESET_ID) {
            /* SH padding is not significant (PS3.5 6.2): compare what is left without it. */
            char safe[17];
            const char *id = v->value;
            size_t length = v->length;
            while (length > 0 && id[length - 1] == ' ')
                length--;
            while (length > 0 && *id == ' ') {
                id++;
                length--;
            }
            mcm_fileset_id_sanitize(v->value, safe);
            if (strlen(safe) != length || memcmp(safe, id, length) != 0)
                note(&f, FIND_INVALID, def->tag, 0, "not a DICOMDIR File-set ID (A-Z 0-9 _)");
        }
    }
    if (strict)
        for (size_t i = 0; i < request->unknown_count; i++)
            note(&f, FIND_UNKNOWN, request->unknown[i], 0, "is not an N-CREATE attribute");

    static const uint16_t statuses[FIND_CLASSES] = {MCM_STATUS_MISSING_ATTRIBUTE, MCM_STATUS_MISSING_ATTRIBUTE_VALUE,
                                                    MCM_STATUS_INVALID_ATTRIBUTE_VALUE, MCM_STATUS_NO_SUCH_ATTRIBUTE};
    mcm_response_clear(out);
    for (int cls = 0; cls < FIND_CLASSES; cls++) {
        const finding *x = &f.by_class[cls];
        if (!x->found)
            continue;
        mcm_response_set(out, MCM_OP_N_CREATE, statuses[cls], "%s", x->comment);
        for (size_t i = 0; i < x->tag_count; i++) {
            /* Annex C lists Attribute Identifier List for 0105 and 0120; Offending Element for the rest. */
            if (cls == FIND_MISSING || cls == FIND_UNKNOWN)
                mcm_response_add_attribute_identifier(out, x->tags[i]);
            else
                mcm_response_add_offending(out, x->tags[i]);
        }
        break;
    }
    return MCM_OK;
}
