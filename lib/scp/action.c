/*
 * lib/scp/action.c: N-ACTION on a job (PS3.4 S.3.2.2, S.3.2.3): Initiate (its Number of Copies
 * and Request Priority checked, digest 3.2, A11) and Cancel (a job being written is interrupted
 * through the media workers' registry, digest 5.12), each a read-modify-write of the job under the
 * store's mutex through the state machine (lib/core/job.c), committed before the reply (digest A15).
 *
 * May call admission.c, reply.c, the media workers (wake, interrupt, forget: worker.h, with the
 * store's mutex held where it says so), the job store and lib/core.
 */
#include "scp/service_internal.h"

#include "core/error.h"
#include "core/job_internal.h"
#include "core/request_internal.h"
#include "core/vr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A CS or IS value without its leading and trailing spaces (padding, PS3.5 6.2) into out. */
static const char *trim_value(const char *value, char *out, size_t size)
{
    while (*value == ' ')
        value++;
    size_t n = strlen(value);
    while (n > 0 && value[n - 1] == ' ')
        n--;
    if (n >= size)
        n = size - 1;
    memcpy(out, value, n);
    out[n] = '\0';
    return out;
}

typedef struct initiate_arguments {
    int copies;            /* 0: not sent */
    mcm_priority priority; /* UNSET: not sent */
} initiate_arguments;

/* Name every attribute of the Action Information info as Offending Element, except Number of
 * Copies and Request Priority when allow_initiate_arguments. Returns how many; *first receives
 * the first one. */
static size_t foreign_arguments(const mcm_request *info, int allow_initiate_arguments, mcm_response *rsp,
                                uint32_t *first)
{
    size_t count = 0;
    *first = 0;
    if (info == NULL)
        return 0;
    for (size_t k = 0; k < mcm_request_attribute_count; k++) {
        uint32_t tag = mcm_request_attributes[k].tag;
        if (allow_initiate_arguments && (tag == MCM_TAG_NUMBER_OF_COPIES || tag == MCM_TAG_REQUEST_PRIORITY))
            continue;
        /* Not an argument but a description of the data set's text (SOP Common, PS3.3 C.12.1):
         * toolkits that put it into every data set they send must not get 0114 for it. */
        if (tag == MCM_TAG_SPECIFIC_CHARACTER_SET)
            continue;
        if (mcm_request_attribute(info, tag) != NULL) {
            if (count++ == 0)
                *first = tag;
            mcm_response_add_offending(rsp, tag);
        }
    }
    if (mcm_request_reference_sequence_present(info)) {
        if (count++ == 0)
            *first = MCM_TAG_REFERENCED_SOP_SEQUENCE;
        mcm_response_add_offending(rsp, MCM_TAG_REFERENCED_SOP_SEQUENCE);
    }
    for (size_t i = 0; i < mcm_request_unknown_count(info); i++) {
        uint32_t tag = mcm_request_unknown(info, i);
        if (count++ == 0)
            *first = tag;
        mcm_response_add_offending(rsp, tag);
    }
    return count;
}

/* Check the Initiate Action Information (digest 3.2, A11): Number of Copies an IS in
 * 1..max_copies, Request Priority HIGH/MED/LOW (else 0115), nothing else (else 0114). Fills rsp
 * with the refusal (status stays 0000 when all is well). */
static void check_initiate_arguments(const mcm_service *service, const mcm_request *info, initiate_arguments *args,
                                     mcm_response *rsp)
{
    args->copies = 0;
    args->priority = MCM_PRIORITY_UNSET;
    if (info == NULL)
        return;
    uint32_t first;
    size_t foreign = foreign_arguments(info, 1, rsp, &first);
    if (foreign > 0) {
        mcm_response_set(rsp, MCM_OP_N_ACTION, MCM_STATUS_NO_SUCH_ARGUMENT, "(%04X,%04X) is not an Initiate argument%s",
                         (unsigned)(first >> 16), (unsigned)(first & 0xFFFF), foreign > 1 ? " (and others)" : "");
        mcm_service_reply_action_type(rsp, 1);
        return;
    }

    char text[80];
    const char *copies = mcm_request_attribute(info, MCM_TAG_NUMBER_OF_COPIES);
    if (copies != NULL) {
        size_t length = mcm_request_attribute_length(info, MCM_TAG_NUMBER_OF_COPIES);
        long n = 0;
        int valid =
            length > 0 && memchr(copies, '\0', length) == NULL && mcm_vr_check(MCM_VR_IS, copies, length, NULL, 0);
        if (valid) {
            char *end;
            trim_value(copies, text, sizeof text);
            errno = 0;
            n = strtol(text, &end, 10);
            valid = errno == 0 && *end == '\0' && text[0] != '\0';
        }
        if (!valid || n < 1 || (unsigned long)n > service->opts.max_copies) {
            if (!valid)
                mcm_response_set(rsp, MCM_OP_N_ACTION, MCM_STATUS_INVALID_ARGUMENT_VALUE,
                                 "Number of Copies is not an integer string");
            else
                mcm_response_set(rsp, MCM_OP_N_ACTION, MCM_STATUS_INVALID_ARGUMENT_VALUE,
                                 "Number of Copies %ld is not in 1..%u", n, service->opts.max_copies);
            mcm_response_add_offending(rsp, MCM_TAG_NUMBER_OF_COPIES);
            mcm_service_reply_action_type(rsp, 1);
            return;
        }
        args->copies = (int)n;
    }
    const char *priority = mcm_request_attribute(info, MCM_TAG_REQUEST_PRIORITY);
    if (priority != NULL) {
        size_t length = mcm_request_attribute_length(info, MCM_TAG_REQUEST_PRIORITY);
        if (length == 0 || memchr(priority, '\0', length) != NULL ||
            mcm_priority_parse(trim_value(priority, text, sizeof text), &args->priority) != MCM_OK) {
            args->priority = MCM_PRIORITY_UNSET;
            mcm_response_set(rsp, MCM_OP_N_ACTION, MCM_STATUS_INVALID_ARGUMENT_VALUE,
                             "Request Priority is not HIGH, MED or LOW");
            mcm_response_add_offending(rsp, MCM_TAG_REQUEST_PRIORITY);
            mcm_service_reply_action_type(rsp, 1);
            return;
        }
    }
}

/* The reply for a state machine refusal of an action (not 0000). */
static void action_refusal(mcm_response *rsp, const mcm_job_transition *t, mcm_job_state state, const char *uid)
{
    switch (t->status) {
    case MCM_STATUS_NO_SUCH_SOP_INSTANCE:
        mcm_response_set(rsp, MCM_OP_N_ACTION, t->status, "no such media creation request");
        mcm_response_add_offending(rsp, TAG_REQUESTED_SOP_INSTANCE_UID);
        mcm_service_reply_affected_uid(rsp, uid);
        break;
    case MCM_STATUS_ALREADY_INITIATED:
        mcm_response_set(rsp, MCM_OP_N_ACTION, t->status, "already initiated: the request is %s",
                         mcm_job_state_name(state));
        mcm_response_add_offending(rsp, TAG_ACTION_TYPE_ID);
        break;
    case MCM_STATUS_ALREADY_COMPLETED:
        mcm_response_set(rsp, MCM_OP_N_ACTION, t->status, "cannot cancel: the request is already %s",
                         mcm_job_state_name(state));
        mcm_response_add_offending(rsp, TAG_ACTION_TYPE_ID);
        break;
    case MCM_STATUS_NOT_INTERRUPTIBLE:
        mcm_response_set(rsp, MCM_OP_N_ACTION, t->status, "cannot cancel: media are being written");
        mcm_response_add_offending(rsp, TAG_ACTION_TYPE_ID);
        break;
    case MCM_STATUS_CANCEL_DENIED: /* cancel() words the comment: it knows why */
        mcm_response_set(rsp, MCM_OP_N_ACTION, t->status, "cancellation denied");
        mcm_response_add_offending(rsp, TAG_ACTION_TYPE_ID);
        break;
    default: mcm_response_set(rsp, MCM_OP_N_ACTION, t->status, "refused"); break;
    }
}

static void initiate(mcm_service *service, const char *uid, const mcm_request *info, mcm_response *rsp)
{
    initiate_arguments args;
    mcm_response refusal;
    mcm_response_clear(&refusal);
    check_initiate_arguments(service, info, &args, &refusal);

    mcm_store_lock(service->store);
    mcm_job *job = NULL;
    int rc = mcm_store_load_job(service->store, uid, &job);
    mcm_job_state state = rc == MCM_OK ? mcm_job_state_of(job) : MCM_JOB_ABSENT;
    mcm_job_transition t;
    memset(&t, 0, sizeof t);
    if (rc == MCM_OK && refusal.status == 0 && args.copies == 0 &&
        mcm_request_copies(mcm_job_request(job)) > (int)service->opts.max_copies) {
        /* Number of Copies belongs to Initiate (PS3.4 Table S.3.2.2.1-1); one sent with N-CREATE is
         * kept as the default, but it answers to the same device limit. */
        mcm_response_set(&refusal, MCM_OP_N_ACTION, MCM_STATUS_INVALID_ARGUMENT_VALUE,
                         "Number of Copies %d (from N-CREATE) is not in 1..%u",
                         mcm_request_copies(mcm_job_request(job)), service->opts.max_copies);
        mcm_response_add_offending(&refusal, MCM_TAG_NUMBER_OF_COPIES);
        mcm_service_reply_action_type(&refusal, 1);
    }
    if (rc == MCM_OK || rc == MCM_ENOTFOUND) {
        mcm_job_event event = {.type = MCM_EVENT_INITIATE, .refusal = refusal.status};
        if (job != NULL) {
            rc = mcm_job_apply(job, &event, &t);
        } else {
            rc = mcm_job_next(MCM_JOB_ABSENT, NULL, &event, &t);
        }
    }
    if (rc == MCM_OK && t.status == MCM_STATUS_SUCCESS) {
        /* Persist the arguments with the state change (digest 3.3: both can be read back). A
         * Number of Copies from N-CREATE stands unless Initiate sends one; absent, it is 1. */
        mcm_request *request = mcm_job_request_mut(job);
        if (args.copies > 0)
            rc = mcm_request_set_copies(request, args.copies);
        else if (mcm_request_copies(request) == 0)
            rc = mcm_request_set_copies(request, 1);
        if (rc == MCM_OK && args.priority != MCM_PRIORITY_UNSET)
            rc = mcm_request_set_priority(request, args.priority);
        else if (rc == MCM_OK && mcm_request_priority(request) == MCM_PRIORITY_UNSET)
            rc = mcm_request_set_priority(request, MCM_PRIORITY_MED);
        if (rc == MCM_OK)
            rc = mcm_store_update_job(service->store, job, MCM_JOB_IDLE, 0, mcm_service_now());
    }
    mcm_store_unlock(service->store);

    if (rc != MCM_OK) {
        mcm_service_reply_store_failure(service, rsp, MCM_OP_N_ACTION, "Initiate", uid);
    } else if (t.status == MCM_STATUS_SUCCESS) {
        mcm_service_reply_action_type(rsp, 1);
        mcm_service_reply_affected_uid(rsp, uid);
        mcm_service_log(service, MCM_LOG_INFO, "Initiate %s: PENDING (%d copies, priority %s)", uid,
                        mcm_request_copies(mcm_job_request(job)),
                        mcm_priority_name(mcm_request_priority(mcm_job_request(job))));
        mcm_workers_wake(service->workers);
    } else if (t.status == refusal.status) {
        *rsp = refusal; /* 0114 / 0115 from the argument check, with its comment and tags */
        mcm_service_reply_affected_uid(rsp, uid);
    } else {
        action_refusal(rsp, &t, state, uid);
    }
    mcm_job_free(job);
}

static void cancel(mcm_service *service, const char *uid, int denied_by_policy, mcm_response *rsp)
{
    mcm_store_lock(service->store);
    mcm_job_state state = MCM_JOB_ABSENT;
    char info[65] = "";
    int rc = mcm_store_load_state(service->store, uid, &state, info);
    if (rc == MCM_ENOTFOUND) {
        state = MCM_JOB_ABSENT;
        rc = MCM_OK;
    }
    mcm_job_transition t;
    memset(&t, 0, sizeof t);
    if (rc == MCM_OK) {
        mcm_job_event event = {.type = MCM_EVENT_CANCEL, .cancel_denied = denied_by_policy};
        if (state == MCM_JOB_CREATING) {
            /* Digest 5.12: success means the creation was stopped. The writer is stopped here, in
             * the step that finds it interruptible, before the job is deleted: a writer that
             * declares itself non-interruptible after this sees the stop instead of finishing. */
            int interrupted = 0;
            int running = mcm_workers_interrupt(service->workers, uid, !denied_by_policy, &interrupted);
            event.not_interruptible = running && !interrupted;
            /* CREATING but no worker here holds it: another process's job; do not pull it away. */
            event.cancel_denied = event.cancel_denied || !running;
        }
        rc = mcm_job_next(state, info[0] != '\0' ? info : NULL, &event, &t);
    }
    /* Under the store's mutex, so that the worker's result is dropped before the UID can be used
     * again. Should the deletion fail, the stopped job goes back to the queue (lib/scp/worker.c). */
    if (rc == MCM_OK && t.status == MCM_STATUS_SUCCESS) {
        rc = mcm_store_delete_job(service->store, uid);
        if (rc == MCM_OK && state == MCM_JOB_CREATING)
            mcm_workers_forget(service->workers, uid);
    }
    mcm_store_unlock(service->store);

    if (rc != MCM_OK) {
        mcm_service_reply_store_failure(service, rsp, MCM_OP_N_ACTION, "Cancel", uid);
    } else if (t.status == MCM_STATUS_SUCCESS) {
        mcm_service_reply_action_type(rsp, 2);
        mcm_service_reply_affected_uid(rsp, uid);
        mcm_service_log(service, MCM_LOG_INFO, "Cancel %s: deleted (was %s)", uid, mcm_job_state_name(state));
    } else {
        action_refusal(rsp, &t, state, uid);
        if (t.status == MCM_STATUS_CANCEL_DENIED)
            mcm_response_set(rsp, MCM_OP_N_ACTION, t.status, "%s",
                             denied_by_policy ? "cancellation denied by local policy"
                                              : "cannot cancel: the job is being written by another process");
    }
}

int mcm_service_action(mcm_service *service, const char *calling_ae, const char *uid, uint16_t action_type_id,
                       mcm_request *action_information, mcm_response *rsp)
{
    if (service == NULL || rsp == NULL) {
        mcm_request_free(action_information);
        if (rsp != NULL)
            mcm_response_set(rsp, MCM_OP_N_ACTION, MCM_STATUS_PROCESSING_FAILURE, "internal error");
        return mcm_fail(MCM_EINVAL, "mcm_service_action: NULL argument");
    }
    mcm_response_clear(rsp);
    mcm_job *job = NULL;
    if (action_type_id != 1 && action_type_id != 2) {
        mcm_response_set(rsp, MCM_OP_N_ACTION, MCM_STATUS_NO_SUCH_ACTION,
                         "Action Type ID %u: only 1 (Initiate) and 2 (Cancel)", action_type_id);
        mcm_response_add_offending(rsp, TAG_ACTION_TYPE_ID);
        mcm_service_reply_action_type(rsp, action_type_id);
        goto done;
    }
    if (uid == NULL || !mcm_uid_is_valid(uid)) {
        mcm_response_set(rsp, MCM_OP_N_ACTION, MCM_STATUS_INVALID_SOP_INSTANCE,
                         "Requested SOP Instance UID is not a valid UID");
        mcm_response_add_offending(rsp, TAG_REQUESTED_SOP_INSTANCE_UID);
        mcm_service_reply_affected_uid(rsp, uid);
        goto done;
    }
    int rc = mcm_store_load_job(service->store, uid, &job);
    if (rc == MCM_ENOTFOUND) {
        mcm_job_transition t = {.status = MCM_STATUS_NO_SUCH_SOP_INSTANCE};
        action_refusal(rsp, &t, MCM_JOB_ABSENT, uid);
        goto done;
    }
    if (rc != MCM_OK) {
        mcm_service_reply_store_failure(service, rsp, MCM_OP_N_ACTION, "N-ACTION", uid);
        goto done;
    }
    mcm_scp_operation op = action_type_id == 1 ? MCM_SCP_INITIATE : MCM_SCP_CANCEL;
    int verdict = mcm_service_authorize(service, calling_ae, op, job);
    int cancel_denied = op == MCM_SCP_CANCEL && verdict == MCM_AUTHORIZE_DENY_CANCEL;
    if (verdict != MCM_AUTHORIZE_ALLOW && !cancel_denied) {
        mcm_service_refuse_unauthorized(rsp, MCM_OP_N_ACTION, op, calling_ae);
        goto done;
    }
    if (action_type_id == 1) {
        initiate(service, uid, action_information, rsp);
    } else {
        /* Cancel carries no Action Information (PS3.4 Table S.3.2.3.1-1): an empty data set is
         * harmless, an attribute in it is an argument Cancel does not have. */
        uint32_t first;
        size_t foreign = foreign_arguments(action_information, 0, rsp, &first);
        if (foreign > 0) {
            mcm_response_set(rsp, MCM_OP_N_ACTION, MCM_STATUS_NO_SUCH_ARGUMENT,
                             "Cancel takes no argument: (%04X,%04X)%s", (unsigned)(first >> 16),
                             (unsigned)(first & 0xFFFF), foreign > 1 ? " and others" : "");
            mcm_service_reply_action_type(rsp, 2);
        } else {
            cancel(service, uid, cancel_denied, rsp);
        }
    }

done:
    mcm_request_free(action_information);
    mcm_job_free(job);
    mcm_service_reply_finish(service, rsp);
    return MCM_OK;
}
