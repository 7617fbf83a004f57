/*
 * lib/scp/get.c: N-GET of a job (PS3.4 S.3.2.4; digest 3.4, A5, A6): which requested attributes
 * are returned, which are unknown (0107) or not maintained (0001); and a job as the store holds it
 * now, for mcm_scp_get_job(). Reads jobs, never changes one.
 *
 * May call admission.c, reply.c, the job store and lib/core.
 */
#include "scp/service_internal.h"

#include "core/error.h"
#include "core/job_internal.h"
#include "core/vr.h"

#include <stdlib.h>

/* Top-level attributes of the Media Creation Management module (PS3.3 C.22.1) that a job carries
 * (digest 3.1-3.3): the request attributes, its Referenced SOP Sequence and the SCP-maintained ones. */
static int maintained_attribute(uint32_t tag)
{
    if (mcm_attribute_find(tag) != NULL) /* Specific Character Set (SOP Common) included */
        return 1;
    switch (tag) {
    case MCM_TAG_REFERENCED_SOP_SEQUENCE:
    case MCM_TAG_EXECUTION_STATUS:
    case MCM_TAG_EXECUTION_STATUS_INFO:
    case MCM_TAG_TOTAL_NUMBER_OF_PIECES:
    case MCM_TAG_FAILED_SOP_SEQUENCE:
    case MCM_TAG_REFERENCED_STORAGE_MEDIA_SEQUENCE: return 1;
    default: return 0;
    }
}

/* Top-level attributes of the SOP Common module (PS3.3 C.12.1, editions 2016-2020) that the SCP
 * does not maintain. SOP Class and Instance UID are among them: PS3.4 5.4.2.3 keeps them out of
 * the data set, in the command. Requesting these gives 0001 (digest A5). */
static int unmaintained_iod_attribute(uint32_t tag)
{
    static const uint32_t sop_common[] = {
        MCM_TAG(0x0008, 0x0012),                                                    /* Instance Creation Date */
        MCM_TAG(0x0008, 0x0013),                                                    /* Instance Creation Time */
        MCM_TAG(0x0008, 0x0014),                                                    /* Instance Creator UID */
        MCM_TAG(0x0008, 0x0015),                                                    /* Instance Coercion DateTime */
        MCM_TAG_SOP_CLASS_UID,   MCM_TAG_SOP_INSTANCE_UID, MCM_TAG(0x0008, 0x001A), /* Related General SOP Class UID */
        MCM_TAG(0x0008, 0x001B), /* Original Specialized SOP Class UID */
        MCM_TAG(0x0008, 0x0053), /* Query/Retrieve View */
        MCM_TAG(0x0008, 0x0110), /* Coding Scheme Identification Sequence */
        MCM_TAG(0x0008, 0x0123), /* Context Group Identification Sequence */
        MCM_TAG(0x0008, 0x0124), /* Mapping Resource Identification Sequence */
        MCM_TAG(0x0008, 0x0201), /* Timezone Offset From UTC */
        MCM_TAG(0x0008, 0x0300), /* Private Data Element Characteristics Sequence */
        MCM_TAG(0x0018, 0x9004), /* Content Qualification */
        MCM_TAG(0x0018, 0xA001), /* Contributing Equipment Sequence */
        MCM_TAG(0x0020, 0x0013), /* Instance Number */
        MCM_TAG(0x0020, 0x9172), /* Conversion Source Attributes Sequence */
        MCM_TAG(0x0028, 0x0303), /* Longitudinal Temporal Information Modified */
        MCM_TAG(0x0040, 0xA390), /* HL7 Structured Document Reference Sequence */
        MCM_TAG(0x0100, 0x0410), /* SOP Instance Status */
        MCM_TAG(0x0100, 0x0420), /* SOP Authorization DateTime */
        MCM_TAG(0x0100, 0x0424), /* SOP Authorization Comment */
        MCM_TAG(0x0100, 0x0426), /* Authorization Equipment Certification Number */
        MCM_TAG(0x0400, 0x0500), /* Encrypted Attributes Sequence */
        MCM_TAG(0x0400, 0x0561), /* Original Attributes Sequence */
        MCM_TAG(0x4FFE, 0x0001), /* MAC Parameters Sequence (Digital Signatures Macro) */
        MCM_TAG(0xFFFA, 0xFFFA), /* Digital Signatures Sequence (Digital Signatures Macro) */
    };
    for (size_t i = 0; i < sizeof sop_common / sizeof sop_common[0]; i++)
        if (sop_common[i] == tag)
            return 1;
    return 0;
}

int mcm_service_get(mcm_service *service, const char *calling_ae, const char *uid, const uint32_t *tags,
                    size_t tag_count, mcm_job **job, uint32_t **selected, size_t *selected_count, mcm_response *rsp)
{
    if (job != NULL)
        *job = NULL;
    if (selected != NULL)
        *selected = NULL;
    if (selected_count != NULL)
        *selected_count = 0;
    if (service == NULL || rsp == NULL || job == NULL || selected == NULL || selected_count == NULL ||
        (tag_count > 0 && tags == NULL)) {
        if (rsp != NULL)
            mcm_response_set(rsp, MCM_OP_N_GET, MCM_STATUS_PROCESSING_FAILURE, "internal error");
        return mcm_fail(MCM_EINVAL, "mcm_service_get: NULL argument");
    }
    mcm_response_clear(rsp);
    mcm_job *loaded = NULL;
    uint32_t *list = NULL;

    if (uid == NULL || !mcm_uid_is_valid(uid)) {
        mcm_response_set(rsp, MCM_OP_N_GET, MCM_STATUS_INVALID_SOP_INSTANCE,
                         "Requested SOP Instance UID is not a valid UID");
        mcm_response_add_offending(rsp, TAG_REQUESTED_SOP_INSTANCE_UID);
        mcm_service_reply_affected_uid(rsp, uid);
        goto done;
    }
    int rc = mcm_store_load_job(service->store, uid, &loaded);
    mcm_job_transition t;
    mcm_job_event event = {.type = MCM_EVENT_GET};
    if (rc != MCM_OK && rc != MCM_ENOTFOUND) {
        mcm_service_reply_store_failure(service, rsp, MCM_OP_N_GET, "N-GET", uid);
        goto done;
    }
    mcm_job_next(loaded != NULL ? mcm_job_state_of(loaded) : MCM_JOB_ABSENT, mcm_job_status_info(loaded), &event, &t);
    if (t.status == MCM_STATUS_NO_SUCH_SOP_INSTANCE) {
        mcm_response_set(rsp, MCM_OP_N_GET, t.status, "no such media creation request");
        mcm_response_add_offending(rsp, TAG_REQUESTED_SOP_INSTANCE_UID);
        mcm_service_reply_affected_uid(rsp, uid);
        goto done;
    }
    if (!mcm_service_authorized(service, calling_ae, MCM_SCP_GET, loaded)) {
        mcm_service_refuse_unauthorized(rsp, MCM_OP_N_GET, MCM_SCP_GET, calling_ae);
        goto done;
    }
    /* A job of the SCP carries every attribute it maintains (digest A6). */
    mcm_job_mark_maintained(loaded);

    if (tag_count > 0) {
        /* Digest 3.4 and A5: return what is maintained; name unknown tags (0107) or, failing
         * those, the IOD attributes we do not maintain (0001). Never fail for either. */
        list = malloc(tag_count * sizeof *list);
        if (list == NULL) {
            mcm_response_set(rsp, MCM_OP_N_GET, MCM_STATUS_PROCESSING_FAILURE, "out of memory");
            goto done;
        }
        size_t n = 0, unknown = 0, unmaintained = 0;
        uint32_t unmaintained_tags[MCM_RESPONSE_MAX_TAGS];
        size_t unmaintained_listed = 0;
        for (size_t i = 0; i < tag_count; i++) {
            uint32_t tag = tags[i];
            if (maintained_attribute(tag)) {
                int seen = 0;
                for (size_t j = 0; j < n && !seen; j++)
                    seen = list[j] == tag;
                if (!seen)
                    list[n++] = tag;
            } else if (unmaintained_iod_attribute(tag)) {
                unmaintained++;
                int seen = 0;
                for (size_t j = 0; j < unmaintained_listed && !seen; j++)
                    seen = unmaintained_tags[j] == tag;
                if (!seen && unmaintained_listed < MCM_RESPONSE_MAX_TAGS)
                    unmaintained_tags[unmaintained_listed++] = tag;
            } else {
                unknown++;
                mcm_response_add_attribute_identifier(rsp, tag);
            }
        }
        if (unknown > 0) {
            mcm_response_set(rsp, MCM_OP_N_GET, MCM_STATUS_ATTRIBUTE_LIST_ERROR,
                             "%zu requested attribute(s) not in the MCM IOD", unknown);
        } else if (unmaintained > 0) {
            mcm_response_set(rsp, MCM_OP_N_GET, MCM_STATUS_OPTIONAL_ATTRIBUTES_UNSUPPORTED,
                             "%zu requested optional attribute(s) not maintained", unmaintained);
            for (size_t i = 0; i < unmaintained_listed; i++)
                mcm_response_add_offending(rsp, unmaintained_tags[i]);
        }
        *selected_count = n;
        *selected = list;
        list = NULL;
    }
    mcm_service_reply_affected_uid(rsp, uid);
    *job = loaded;
    loaded = NULL;

done:
    free(list);
    mcm_job_free(loaded);
    mcm_service_reply_finish(service, rsp);
    return MCM_OK;
}

int mcm_service_job(mcm_service *service, const char *uid, mcm_job **out)
{
    if (out != NULL)
        *out = NULL;
    if (service == NULL || uid == NULL || out == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_service_job: NULL argument");
    int rc = mcm_store_load_job(service->store, uid, out);
    if (rc == MCM_OK)
        mcm_job_mark_maintained(*out);
    return rc;
}
