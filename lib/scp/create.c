/*
 * lib/scp/create.c: N-CREATE of a Media Creation Management instance (PS3.4 S.3.2.1): the
 * command's UID, syntax-only validation of the data set (digest A11), the authorise callback, and
 * the job's creation through the state machine (mcm_job_next, lib/core/job.c) with the queue limit
 * (digest A16), committed to the store before the reply (digest A15).
 *
 * May call admission.c, reply.c, the job store and lib/core.
 */
#include "scp/service_internal.h"

#include "core/error.h"
#include "core/job_internal.h"
#include "core/request_internal.h"
#include "core/vr.h"

#include <stdio.h>
#include <string.h>

static void log_unknown_attributes(mcm_service *service, const mcm_request *request)
{
    size_t n = mcm_request_unknown_count(request);
    for (size_t i = 0; i < n; i++) {
        uint32_t tag = mcm_request_unknown(request, i);
        mcm_service_log(service, MCM_LOG_INFO, "N-CREATE: ignored attribute (%04X,%04X) (digest A9)",
                        (unsigned)(tag >> 16), (unsigned)(tag & 0xFFFF));
    }
}

int mcm_service_create(mcm_service *service, const char *calling_ae, mcm_request *request, const char *requested_uid,
                       char uid_out[MCM_UID_MAX + 1], mcm_job **created, mcm_response *rsp)
{
    if (created != NULL)
        *created = NULL;
    if (uid_out != NULL)
        uid_out[0] = '\0';
    if (service == NULL || rsp == NULL) {
        mcm_request_free(request);
        if (rsp != NULL)
            mcm_response_set(rsp, MCM_OP_N_CREATE, MCM_STATUS_PROCESSING_FAILURE, "internal error");
        return mcm_fail(MCM_EINVAL, "mcm_service_create: NULL argument");
    }
    mcm_response_clear(rsp);
    mcm_job *job = NULL;
    int rc;

    /* The command first: a malformed requested UID is 0117 whatever the data set holds. */
    if (requested_uid != NULL && !mcm_uid_is_valid(requested_uid)) {
        mcm_response_set(rsp, MCM_OP_N_CREATE, MCM_STATUS_INVALID_SOP_INSTANCE,
                         "Affected SOP Instance UID is not a valid UID");
        mcm_response_add_offending(rsp, TAG_AFFECTED_SOP_INSTANCE_UID);
        mcm_service_reply_affected_uid(rsp, requested_uid);
        goto done;
    }
    if (request == NULL && mcm_request_new(&request) != MCM_OK) {
        mcm_response_set(rsp, MCM_OP_N_CREATE, MCM_STATUS_PROCESSING_FAILURE, "out of memory");
        goto done;
    }
    /* Syntax only (digest A11): the instances are checked when the job starts. */
    mcm_request_validate(request, service->opts.strict, rsp);
    if (rsp->status != MCM_STATUS_SUCCESS) {
        mcm_service_log(service, MCM_LOG_INFO, "N-CREATE refused with 0x%04X: %s", rsp->status, rsp->error_comment);
        goto done;
    }
    log_unknown_attributes(service, request);
    /* Lenient validation took an empty optional attribute as absent (PS3.4 5.4.2.1: not permitted
     * with zero length); so does the job, or N-GET would return it empty, which 3/3 forbids too. */
    for (size_t k = 0; k < mcm_request_attribute_count; k++) {
        uint32_t tag = mcm_request_attributes[k].tag;
        if (mcm_request_attribute(request, tag) != NULL && mcm_request_attribute_length(request, tag) == 0)
            (void)mcm_request_set_attribute_raw(request, tag, NULL, 0);
    }

    char uid[MCM_UID_MAX + 1];
    if (requested_uid != NULL)
        snprintf(uid, sizeof uid, "%s", requested_uid);
    else if (mcm_uid_generate(uid) != MCM_OK) {
        mcm_response_set(rsp, MCM_OP_N_CREATE, MCM_STATUS_PROCESSING_FAILURE, "cannot generate a UID");
        goto done;
    }
    if (mcm_job_new(&job, uid) != MCM_OK) {
        mcm_response_set(rsp, MCM_OP_N_CREATE, MCM_STATUS_PROCESSING_FAILURE, "out of memory");
        goto done;
    }
    mcm_job_set_request(job, request);
    request = NULL;
    mcm_job_mark_maintained(job);
    /* The job the authorise callback sees: what N-CREATE would create, IDLE / NORMAL. */
    mcm_job_event create = {.type = MCM_EVENT_CREATE};
    mcm_job_apply(job, &create, NULL);
    if (!mcm_service_authorized(service, calling_ae, MCM_SCP_CREATE, job)) {
        mcm_service_refuse_unauthorized(rsp, MCM_OP_N_CREATE, MCM_SCP_CREATE, calling_ae);
        goto done;
    }

    /* Existence, queue limit and insertion in one critical section of the store. */
    mcm_store_lock(service->store);
    mcm_job_state state = MCM_JOB_ABSENT;
    char info[65] = "";
    rc = mcm_store_load_state(service->store, uid, &state, info);
    if (rc == MCM_ENOTFOUND) {
        state = MCM_JOB_ABSENT;
        rc = MCM_OK;
    }
    size_t live = 0;
    if (rc == MCM_OK && service->opts.queue_limit > 0)
        rc = mcm_store_count_live(service->store, &live);
    mcm_job_transition t;
    if (rc == MCM_OK) {
        mcm_job_event event = {.type = MCM_EVENT_CREATE};
        if (service->opts.queue_limit > 0 && live >= service->opts.queue_limit)
            event.refusal = MCM_STATUS_RESOURCE_LIMITATION; /* digest A16 */
        mcm_job_next(state, info[0] != '\0' ? info : NULL, &event, &t);
        if (t.status == MCM_STATUS_SUCCESS) {
            int64_t now = mcm_service_now();
            rc = mcm_store_insert_job(service->store, job, now);
            if (rc == MCM_ESTATE) /* inserted meanwhile by another process: still a duplicate */
                t.status = MCM_STATUS_DUPLICATE_SOP_INSTANCE;
            else if (rc == MCM_OK)
                mcm_job_set_times(job, now, now);
        }
    }
    mcm_store_unlock(service->store);

    if (rc != MCM_OK && rc != MCM_ESTATE) {
        mcm_service_log(service, MCM_LOG_ERROR, "N-CREATE %s: job store failure: %s", uid, mcm_last_error());
        mcm_response_set(rsp, MCM_OP_N_CREATE, MCM_STATUS_PROCESSING_FAILURE, "job store failure");
        goto done;
    }
    switch (t.status) {
    case MCM_STATUS_SUCCESS:
        mcm_service_reply_affected_uid(rsp, uid);
        if (uid_out != NULL)
            memcpy(uid_out, uid, strlen(uid) + 1);
        mcm_service_log(service, MCM_LOG_INFO, "N-CREATE %s: IDLE, %zu instance(s)", uid,
                        mcm_request_reference_count(mcm_job_request(job)));
        if (created != NULL) {
            *created = job;
            job = NULL;
        }
        break;
    case MCM_STATUS_DUPLICATE_SOP_INSTANCE:
        mcm_response_set(rsp, MCM_OP_N_CREATE, t.status, "SOP Instance UID already in use");
        mcm_response_add_offending(rsp, TAG_AFFECTED_SOP_INSTANCE_UID);
        mcm_service_reply_affected_uid(rsp, uid);
        break;
    case MCM_STATUS_RESOURCE_LIMITATION:
        mcm_response_set(rsp, MCM_OP_N_CREATE, t.status, "queue full: %zu live requests (limit %u)", live,
                         service->opts.queue_limit);
        break;
    default: mcm_response_set(rsp, MCM_OP_N_CREATE, t.status, "refused"); break;
    }

done:
    mcm_request_free(request);
    mcm_job_free(job);
    mcm_service_reply_finish(service, rsp);
    return MCM_OK;
}
