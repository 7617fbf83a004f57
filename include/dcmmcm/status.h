/*
 * dcmmcm/status.h: DIMSE status codes of the Media Creation Management service class.
 *
 * Every status that N-CREATE, N-ACTION and N-GET can carry for this SOP class (PS3.7 Annex C and
 * sections 10.1.2, 10.1.4, 10.1.5; PS3.4 Annex S), with its real category and name, and the
 * mcm_response structure in which every DIMSE reply comes back.
 */
#ifndef DCMMCM_STATUS_H
#define DCMMCM_STATUS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* PS3.7 general codes used by the N-services of this class. */
#define MCM_STATUS_SUCCESS                       0x0000
#define MCM_STATUS_NO_SUCH_ATTRIBUTE             0x0105
#define MCM_STATUS_INVALID_ATTRIBUTE_VALUE       0x0106
#define MCM_STATUS_ATTRIBUTE_LIST_ERROR          0x0107 /* Warning */
#define MCM_STATUS_PROCESSING_FAILURE            0x0110
#define MCM_STATUS_DUPLICATE_SOP_INSTANCE        0x0111
#define MCM_STATUS_NO_SUCH_SOP_INSTANCE          0x0112
#define MCM_STATUS_NO_SUCH_ARGUMENT              0x0114
#define MCM_STATUS_INVALID_ARGUMENT_VALUE        0x0115
#define MCM_STATUS_ATTRIBUTE_VALUE_OUT_OF_RANGE  0x0116 /* Warning */
#define MCM_STATUS_INVALID_SOP_INSTANCE          0x0117
#define MCM_STATUS_NO_SUCH_SOP_CLASS             0x0118
#define MCM_STATUS_CLASS_INSTANCE_CONFLICT       0x0119
#define MCM_STATUS_MISSING_ATTRIBUTE             0x0120
#define MCM_STATUS_MISSING_ATTRIBUTE_VALUE       0x0121
#define MCM_STATUS_SOP_CLASS_NOT_SUPPORTED       0x0122 /* decoded, never sent */
#define MCM_STATUS_NO_SUCH_ACTION                0x0123
#define MCM_STATUS_NOT_AUTHORIZED                0x0124
#define MCM_STATUS_DUPLICATE_INVOCATION          0x0210
#define MCM_STATUS_UNRECOGNIZED_OPERATION        0x0211
#define MCM_STATUS_MISTYPED_ARGUMENT             0x0212
#define MCM_STATUS_RESOURCE_LIMITATION           0x0213

/* The service's own codes (PS3.4 S.3.2). */
#define MCM_STATUS_OPTIONAL_ATTRIBUTES_UNSUPPORTED 0x0001 /* N-GET Warning */
#define MCM_STATUS_ALREADY_INITIATED             0xA510 /* Initiate already received */
#define MCM_STATUS_ALREADY_COMPLETED             0xC201 /* Cancel: already completed */
#define MCM_STATUS_NOT_INTERRUPTIBLE             0xC202 /* Cancel: in progress, cannot be interrupted */
#define MCM_STATUS_CANCEL_DENIED                 0xC203 /* Cancel: denied for unspecified reason */

/* Status categories (PS3.7 Annex C). */
typedef enum mcm_status_category {
    MCM_CATEGORY_SUCCESS = 0,
    MCM_CATEGORY_WARNING = 1,
    MCM_CATEGORY_FAILURE = 2,
    MCM_CATEGORY_CANCEL = 3,
    MCM_CATEGORY_PENDING = 4,
    MCM_CATEGORY_UNKNOWN = 5 /* outside every PS3.7 range: treat as failure */
} mcm_status_category;

/* The DIMSE operations whose statuses this header describes. */
typedef enum mcm_operation {
    MCM_OP_ANY = 0,      /* decode by the PS3.7 class ranges only */
    MCM_OP_N_CREATE = 1,
    MCM_OP_N_ACTION = 2, /* Initiate (Action Type ID 1) and Cancel (2) */
    MCM_OP_N_GET = 3
} mcm_operation;

/* The category of status for op: the per-operation tables first, then the PS3.7 class ranges
 * (Axxx/Cxxx Failure, Bxxx Warning, FE00 Cancel, FF00/FF01 Pending, others UNKNOWN). */
MCM_EXTERN mcm_status_category mcm_status_category_of(uint16_t status, mcm_operation op);

/* The name of status for op ("Attribute list error"), or for a code in no table a name of its
 * range ("Failure (unlisted Cxxx)", "Unknown status"). Never NULL. */
MCM_EXTERN const char *mcm_status_name(uint16_t status, mcm_operation op);

/* "Success", "Warning", "Failure", "Cancel", "Pending" or "Unknown". */
MCM_EXTERN const char *mcm_status_category_name(mcm_status_category category);

/* 1 if status is listed for op in PS3.7/PS3.4 Annex S (whatever its category), else 0. */
MCM_EXTERN int mcm_status_is_listed(uint16_t status, mcm_operation op);

/* 1 if an MCM SCP may send status in reply to op, else 0. An N-CREATE reply is never a Warning
 * (PS3.4 S.3.2.1.3); 0122 is never sent; A510 only on N-ACTION (digest A1); C201-C203 only on
 * N-ACTION; 0001 only on N-GET. */
MCM_EXTERN int mcm_status_scp_may_send(uint16_t status, mcm_operation op);

/* Longest Offending Element / Attribute Identifier List kept in a response. */
#define MCM_RESPONSE_MAX_TAGS 16

/* A DIMSE reply as the SCU received it, or as an SCP is to send it. Tags are (group << 16) | element. */
typedef struct mcm_response {
    uint16_t status;                        /* Status (0000,0900) */
    mcm_status_category category;           /* decoded for the operation replied to */
    char error_comment[MCM_COMMENT_MAX + 1];/* Error Comment (0000,0902), "" if none */
    int has_error_id;
    uint16_t error_id;                      /* Error ID (0000,0903) when has_error_id */
    size_t offending_element_count;
    uint32_t offending_elements[MCM_RESPONSE_MAX_TAGS];    /* Offending Element (0000,0901) */
    size_t attribute_identifier_count;
    uint32_t attribute_identifiers[MCM_RESPONSE_MAX_TAGS]; /* Attribute Identifier List (0000,1005) */
    int has_action_type_id;
    uint16_t action_type_id;                /* Action Type ID (0000,1008) when present */
    char affected_sop_instance_uid[MCM_UID_MAX + 1]; /* Affected SOP Instance UID, "" if absent */
} mcm_response;

/* Reset r to an empty Success response. */
MCM_EXTERN void mcm_response_clear(mcm_response *r);

/* Set status (and category for op) and a printf-style Error Comment made a valid LO value in the
 * default repertoire: at most 64 characters, non-ASCII characters replaced by '?', backslashes by
 * '/', control characters by spaces. fmt may be NULL. */
MCM_EXTERN void mcm_response_set(mcm_response *r, mcm_operation op, uint16_t status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Append a tag to Offending Element / Attribute Identifier List, ignoring duplicates; returns
 * MCM_EBUSY when the list already holds MCM_RESPONSE_MAX_TAGS tags. */
MCM_EXTERN int mcm_response_add_offending(mcm_response *r, uint32_t tag);
MCM_EXTERN int mcm_response_add_attribute_identifier(mcm_response *r, uint32_t tag);

/* A one-line description such as "0xC201 Failure (Media creation request already completed):
 * job is DONE [offending (2200,0020)]" into buf (always NUL-terminated). Returns buf. */
MCM_EXTERN char *mcm_response_format(const mcm_response *r, mcm_operation op, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif
