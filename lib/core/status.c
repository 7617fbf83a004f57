/*
 * lib/core/status.c: the status codes of N-CREATE, N-ACTION and N-GET for Media Creation Management
 * (digest section 7: PS3.7 10.1.2.1.9, 10.1.4.1.10, 10.1.5.1.6, Annex C; PS3.4 S.3.2), their
 * categories and names, what an MCM SCP may send, and the mcm_response helpers.
 * Constant tables and pure functions; no state.
 */
#include "core/error.h"
#include "core/status_internal.h"

#include "dcmmcm/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct status_entry {
    uint16_t code;
    mcm_status_category category;
    const char *name;
    int scp_may_send; /* an MCM SCP may send it for this operation */
} status_entry;

#define S MCM_CATEGORY_SUCCESS
#define W MCM_CATEGORY_WARNING
#define F MCM_CATEGORY_FAILURE

/* PS3.7 10.1.5.1.6 plus PS3.4 S.3.2.1.4. Warnings are listed by PS3.7 but forbidden to an MCM SCP
 * (S.3.2.1.3); A510 is listed under N-CREATE by the 2020 text but sent only on N-ACTION (A1). */
static const status_entry n_create[] = {
    {0x0000, S, "Success", 1},
    {0x0105, F, "No such Attribute", 1},
    {0x0106, F, "Invalid Attribute Value", 1},
    {0x0107, W, "Attribute list error", 0},
    {0x0110, F, "Processing Failure", 1},
    {0x0111, F, "Duplicate SOP Instance", 1},
    {0x0116, W, "Attribute Value out of range", 0},
    {0x0117, F, "Invalid SOP Instance", 1},
    {0x0118, F, "No such SOP Class", 1},
    {0x0120, F, "Missing Attribute", 1},
    {0x0121, F, "Missing Attribute Value", 1},
    {0x0124, F, "Refused: Not authorized", 1},
    {0x0210, F, "Duplicate invocation", 1},
    {0x0211, F, "Unrecognized operation", 1},
    {0x0212, F, "Mistyped argument", 1},
    {0x0213, F, "Resource limitation", 1},
    {0xA510, F, "An Initiate Media Creation action has already been received for this SOP Instance", 0},
};

/* PS3.7 10.1.4.1.10 plus PS3.4 S.3.2.2.4 and S.3.2.3.4. */
static const status_entry n_action[] = {
    {0x0000, S, "Success", 1},
    {0x0110, F, "Processing Failure", 1},
    {0x0112, F, "No such SOP Instance", 1},
    {0x0114, F, "No such argument", 1},
    {0x0115, F, "Invalid argument value", 1},
    {0x0117, F, "Invalid SOP Instance", 1},
    {0x0118, F, "No such SOP Class", 1},
    {0x0119, F, "Class-Instance conflict", 1},
    {0x0123, F, "No such Action", 1},
    {0x0124, F, "Refused: Not authorized", 1},
    {0x0210, F, "Duplicate invocation", 1},
    {0x0211, F, "Unrecognized operation", 1},
    {0x0212, F, "Mistyped argument", 1},
    {0x0213, F, "Resource limitation", 1},
    {0xA510, F, "An Initiate Media Creation action has already been received for this SOP Instance", 1},
    {0xC201, F, "Media creation request already completed", 1},
    {0xC202, F, "Media creation request already in progress and cannot be interrupted", 1},
    {0xC203, F, "Cancellation denied for unspecified reason", 1},
};

/* PS3.7 10.1.2.1.9 plus PS3.4 S.3.2.4.4. 0122 is not in PS3.7's N-GET list (pynetdicom lists it):
 * decoded here, marked not listed and never sent. */
static const status_entry n_get[] = {
    {0x0000, S, "Success", 1},
    {0x0001, W, "Requested optional Attributes are not supported", 1},
    {0x0107, W, "Attribute list error", 1},
    {0x0110, F, "Processing Failure", 1},
    {0x0112, F, "No such SOP Instance", 1},
    {0x0117, F, "Invalid SOP Instance", 1},
    {0x0118, F, "No such SOP Class", 1},
    {0x0119, F, "Class-Instance conflict", 1},
    {0x0124, F, "Refused: Not authorized", 1},
    {0x0210, F, "Duplicate invocation", 1},
    {0x0211, F, "Unrecognized operation", 1},
    {0x0212, F, "Mistyped argument", 1},
    {0x0213, F, "Resource limitation", 1},
};

/* Codes known by name in no operation's table above (or in another operation's). */
static const status_entry others[] = {
    {0x0122, F, "Refused: SOP Class not supported", 0},
};

#undef S
#undef W
#undef F

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const status_entry *find_in(const status_entry *table, size_t n, uint16_t code)
{
    for (size_t i = 0; i < n; i++)
        if (table[i].code == code)
            return &table[i];
    return NULL;
}

static const status_entry *find_for(uint16_t code, mcm_operation op)
{
    switch (op) {
    case MCM_OP_N_CREATE: return find_in(n_create, COUNT(n_create), code);
    case MCM_OP_N_ACTION: return find_in(n_action, COUNT(n_action), code);
    case MCM_OP_N_GET: return find_in(n_get, COUNT(n_get), code);
    default: return NULL;
    }
}

/* Any table's entry for code, for names of codes unlisted for the operation at hand. */
static const status_entry *find_any(uint16_t code)
{
    const status_entry *e = find_in(n_action, COUNT(n_action), code);
    if (e == NULL)
        e = find_in(n_create, COUNT(n_create), code);
    if (e == NULL)
        e = find_in(n_get, COUNT(n_get), code);
    if (e == NULL)
        e = find_in(others, COUNT(others), code);
    return e;
}

/* PS3.7 Annex C class ranges. */
static mcm_status_category category_by_range(uint16_t code)
{
    if (code == 0x0000)
        return MCM_CATEGORY_SUCCESS;
    if (code == 0x0001 || code == 0x0107 || code == 0x0116 || (code & 0xF000) == 0xB000)
        return MCM_CATEGORY_WARNING;
    if ((code & 0xF000) == 0xA000 || (code & 0xF000) == 0xC000 || (code & 0xFF00) == 0x0100 ||
        (code & 0xFF00) == 0x0200)
        return MCM_CATEGORY_FAILURE;
    if (code == 0xFE00)
        return MCM_CATEGORY_CANCEL;
    if (code == 0xFF00 || code == 0xFF01)
        return MCM_CATEGORY_PENDING;
    return MCM_CATEGORY_UNKNOWN;
}

MCM_EXTERN mcm_status_category mcm_status_category_of(uint16_t status, mcm_operation op)
{
    const status_entry *e = find_for(status, op);
    return e != NULL ? e->category : category_by_range(status);
}

MCM_EXTERN const char *mcm_status_name(uint16_t status, mcm_operation op)
{
    const status_entry *e = find_for(status, op);
    if (e == NULL)
        e = find_any(status);
    if (e != NULL)
        return e->name;
    switch (category_by_range(status)) {
    case MCM_CATEGORY_SUCCESS: return "Success";
    case MCM_CATEGORY_WARNING: return "Warning (unlisted code)";
    case MCM_CATEGORY_FAILURE:
        if ((status & 0xF000) == 0xA000)
            return "Failure (unlisted Axxx code)";
        if ((status & 0xF000) == 0xC000)
            return "Failure (unlisted Cxxx code)";
        return "Failure (unlisted code)";
    case MCM_CATEGORY_CANCEL: return "Cancel";
    case MCM_CATEGORY_PENDING: return "Pending";
    default: return "Unknown status";
    }
}

MCM_EXTERN const char *mcm_status_category_name(mcm_status_category category)
{
    switch (category) {
    case MCM_CATEGORY_SUCCESS: return "Success";
    case MCM_CATEGORY_WARNING: return "Warning";
    case MCM_CATEGORY_FAILURE: return "Failure";
    case MCM_CATEGORY_CANCEL: return "Cancel";
    case MCM_CATEGORY_PENDING: return "Pending";
    default: return "Unknown";
    }
}

MCM_EXTERN int mcm_status_is_listed(uint16_t status, mcm_operation op)
{
    return find_for(status, op) != NULL;
}

MCM_EXTERN int mcm_status_scp_may_send(uint16_t status, mcm_operation op)
{
    const status_entry *e = find_for(status, op);
    return e != NULL && e->scp_may_send;
}

unsigned mcm_status_annex_c_fields(uint16_t status)
{
    switch (status) {
    case 0x0000:
        return MCM_FIELD_AFFECTED_SOP_CLASS_UID | MCM_FIELD_AFFECTED_SOP_INSTANCE_UID | MCM_FIELD_ACTION_TYPE_ID;
    case 0x0105:
    case 0x0120: return MCM_FIELD_ATTRIBUTE_IDENTIFIER_LIST;
    case 0x0107:
        return MCM_FIELD_AFFECTED_SOP_CLASS_UID | MCM_FIELD_AFFECTED_SOP_INSTANCE_UID |
               MCM_FIELD_ATTRIBUTE_IDENTIFIER_LIST;
    case 0x0110:
        return MCM_FIELD_AFFECTED_SOP_CLASS_UID | MCM_FIELD_AFFECTED_SOP_INSTANCE_UID | MCM_FIELD_ERROR_COMMENT |
               MCM_FIELD_ERROR_ID;
    case 0x0111:
    case 0x0112:
    case 0x0117: return MCM_FIELD_AFFECTED_SOP_INSTANCE_UID;
    case 0x0118: return MCM_FIELD_AFFECTED_SOP_CLASS_UID;
    case 0x0119: return MCM_FIELD_AFFECTED_SOP_CLASS_UID | MCM_FIELD_AFFECTED_SOP_INSTANCE_UID;
    case 0x0114:
    case 0x0123: return MCM_FIELD_AFFECTED_SOP_CLASS_UID | MCM_FIELD_ACTION_TYPE_ID;
    case 0x0115:
        return MCM_FIELD_AFFECTED_SOP_CLASS_UID | MCM_FIELD_AFFECTED_SOP_INSTANCE_UID | MCM_FIELD_ACTION_TYPE_ID;
    case 0x0122:
    case 0x0124: return MCM_FIELD_ERROR_COMMENT;
    default: {
        unsigned high = status >> 12;
        if (status == 0x0001 || high == 0xA || high == 0xB || high == 0xC)
            return MCM_FIELD_ERROR_COMMENT | MCM_FIELD_OFFENDING_ELEMENT;
        return 0; /* 0106, 0121, 0210-0213 and the rest: Status only */
    }
    }
}

MCM_EXTERN void mcm_response_clear(mcm_response *r)
{
    if (r != NULL) {
        memset(r, 0, sizeof *r);
        r->category = MCM_CATEGORY_SUCCESS;
    }
}

MCM_EXTERN void mcm_response_set(mcm_response *r, mcm_operation op, uint16_t status, const char *fmt, ...)
{
    if (r == NULL)
        return;
    r->status = status;
    r->category = mcm_status_category_of(status, op);
    r->error_comment[0] = '\0';
    if (fmt == NULL)
        return;
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    /* The command set has no Specific Character Set: its LO values are in the default character
     * repertoire (PS3.5 6.1.2, PS3.7 6.3.1). So at most 64 characters of printable ASCII: each
     * byte outside it becomes '?' (one per UTF-8 character, so a name stays readable), control
     * characters a space, and a backslash (the value delimiter) a '/'. */
    size_t n = 0;
    for (size_t i = 0; text[i] != '\0' && n < MCM_COMMENT_MAX; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x80) {
            if ((c & 0xC0) == 0x80)
                continue; /* continuation byte of a character already replaced */
            r->error_comment[n++] = '?';
        } else {
            r->error_comment[n++] = c == '\\' ? '/' : (c < 0x20 || c == 0x7F) ? ' ' : (char)c;
        }
    }
    /* LO values carry no trailing spaces of meaning; drop them. */
    while (n > 0 && r->error_comment[n - 1] == ' ')
        n--;
    r->error_comment[n] = '\0';
}

static int add_tag(uint32_t *list, size_t *count, uint32_t tag)
{
    for (size_t i = 0; i < *count; i++)
        if (list[i] == tag)
            return MCM_OK;
    if (*count >= MCM_RESPONSE_MAX_TAGS)
        return mcm_fail(MCM_EBUSY, "a response holds at most %d tags; (%04X,%04X) not added", MCM_RESPONSE_MAX_TAGS,
                        (unsigned)(tag >> 16), (unsigned)(tag & 0xFFFF));
    list[(*count)++] = tag;
    return MCM_OK;
}

MCM_EXTERN int mcm_response_add_offending(mcm_response *r, uint32_t tag)
{
    if (r == NULL)
        return mcm_fail(MCM_EINVAL, "response is NULL");
    return add_tag(r->offending_elements, &r->offending_element_count, tag);
}

MCM_EXTERN int mcm_response_add_attribute_identifier(mcm_response *r, uint32_t tag)
{
    if (r == NULL)
        return mcm_fail(MCM_EINVAL, "response is NULL");
    return add_tag(r->attribute_identifiers, &r->attribute_identifier_count, tag);
}

static size_t append(char *buf, size_t size, size_t at, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static size_t append(char *buf, size_t size, size_t at, const char *fmt, ...)
{
    if (at >= size)
        return at;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + at, size - at, fmt, ap);
    va_end(ap);
    return n < 0 ? at : at + (size_t)n;
}

static size_t append_tags(char *buf, size_t size, size_t at, const char *label, const uint32_t *tags, size_t n)
{
    if (n == 0)
        return at;
    at = append(buf, size, at, " [%s", label);
    for (size_t i = 0; i < n; i++)
        at = append(buf, size, at, " (%04X,%04X)", (unsigned)(tags[i] >> 16), (unsigned)(tags[i] & 0xFFFF));
    return append(buf, size, at, "]");
}

MCM_EXTERN char *mcm_response_format(const mcm_response *r, mcm_operation op, char *buf, size_t size)
{
    if (buf == NULL || size == 0)
        return buf;
    buf[0] = '\0';
    if (r == NULL)
        return buf;
    size_t at = append(buf, size, 0, "0x%04X %s (%s)", r->status,
                       mcm_status_category_name(mcm_status_category_of(r->status, op)), mcm_status_name(r->status, op));
    if (r->error_comment[0] != '\0')
        at = append(buf, size, at, ": %s", r->error_comment);
    at = append_tags(buf, size, at, "offending", r->offending_elements, r->offending_element_count);
    at = append_tags(buf, size, at, "attributes", r->attribute_identifiers, r->attribute_identifier_count);
    if (r->has_error_id)
        at = append(buf, size, at, " [error id %u]", r->error_id);
    (void)at;
    return buf;
}
