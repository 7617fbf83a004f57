/*
 * lib/scp/reply.c: what every reply of the service shares, and the service's log lines: the Annex
 * C trimming of status detail fields (digest 7.5, A18), the Affected SOP Instance UID and Action
 * Type ID of a reply, the 0110 reply to a job store failure, and mcm_service_log() through the
 * SCP's log callback.
 *
 * The lowest of the service's files (service_internal.h): it may call lib/core only.
 */
#include "scp/service_internal.h"

#include "core/error.h"
#include "core/log.h"
#include "core/status_internal.h"

#include <stdarg.h>
#include <string.h>

void mcm_service_log(mcm_service *service, mcm_log_level level, const char *fmt, ...)
{
    if (service == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    mcm_log_vcall(service->log.fn, service->log.user, service->log.max_level, level, fmt, ap);
    va_end(ap);
}

/* Keep only the status detail fields PS3.7 Annex C lists for rsp's status (digest 7.5) when the
 * SCP runs with annex_c_details; otherwise keep everything (digest A18). */
void mcm_service_reply_finish(const mcm_service *service, mcm_response *rsp)
{
    if (!service->opts.annex_c_details)
        return;
    unsigned fields = mcm_status_annex_c_fields(rsp->status);
    if (!(fields & MCM_FIELD_ERROR_COMMENT))
        rsp->error_comment[0] = '\0';
    if (!(fields & MCM_FIELD_OFFENDING_ELEMENT))
        rsp->offending_element_count = 0;
    if (!(fields & MCM_FIELD_ATTRIBUTE_IDENTIFIER_LIST))
        rsp->attribute_identifier_count = 0;
    if (!(fields & MCM_FIELD_ACTION_TYPE_ID))
        rsp->has_action_type_id = 0;
    if (!(fields & MCM_FIELD_AFFECTED_SOP_INSTANCE_UID))
        rsp->affected_sop_instance_uid[0] = '\0';
    if (!(fields & MCM_FIELD_ERROR_ID))
        rsp->has_error_id = 0;
}

/* Copy a UID into the reply's Affected SOP Instance UID if it can be sent as UI at all (at most 64
 * printable characters, no backslash); a longer or binary value is better left out than cut. */
void mcm_service_reply_affected_uid(mcm_response *rsp, const char *uid)
{
    rsp->affected_sop_instance_uid[0] = '\0';
    if (uid == NULL)
        return;
    size_t n = strlen(uid);
    if (n > MCM_UID_MAX)
        return;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)uid[i] < 0x20 || (unsigned char)uid[i] >= 0x7F || uid[i] == '\\')
            return;
    memcpy(rsp->affected_sop_instance_uid, uid, n + 1);
}

void mcm_service_reply_action_type(mcm_response *rsp, uint16_t action_type_id)
{
    rsp->has_action_type_id = 1;
    rsp->action_type_id = action_type_id;
}

void mcm_service_reply_store_failure(mcm_service *service, mcm_response *rsp, mcm_operation op, const char *what,
                                     const char *uid)
{
    mcm_service_log(service, MCM_LOG_ERROR, "%s %s: job store failure: %s", what, uid, mcm_last_error());
    mcm_response_set(rsp, op, MCM_STATUS_PROCESSING_FAILURE, "job store failure");
    mcm_service_reply_affected_uid(rsp, uid);
}
