/*
 * lib/core/job.c: the lifecycle of one Media Creation Management SOP instance (digest section 6 with
 * decisions A1-A6, A12-A13) and the job object that carries its state and results.
 * mcm_job_next() is pure; the job object owns its strings and arrays. No I/O, no threads.
 */
#include "core/job_internal.h"

#include "core/error.h"
#include "core/vr.h"

#include <stdlib.h>
#include <string.h>

typedef struct failed_item {
    char *sop_class_uid, *sop_instance_uid, *profile;
    uint16_t failure_reason;
    uint32_t *failure_attributes;
    size_t failure_attribute_count;
} failed_item;

typedef struct media_item {
    char *fileset_id, *fileset_uid;
} media_item;

/* Attributes whose presence a job records (mcm_job_has()); request attributes are looked up in the
 * request itself. */
static const uint32_t maintained_tags[] = {
    MCM_TAG_EXECUTION_STATUS, MCM_TAG_EXECUTION_STATUS_INFO, MCM_TAG_TOTAL_NUMBER_OF_PIECES,
    MCM_TAG_FAILED_SOP_SEQUENCE, MCM_TAG_REFERENCED_STORAGE_MEDIA_SEQUENCE, MCM_TAG_REFERENCED_SOP_SEQUENCE,
};
#define MAINTAINED_COUNT (sizeof maintained_tags / sizeof maintained_tags[0])

struct mcm_job {
    char uid[MCM_UID_MAX + 1];
    mcm_job_state state;
    char info[MCM_INFO_MAX + 1]; /* "" when absent */
    unsigned pieces;
    mcm_request *request;
    failed_item *failed;
    size_t failed_count, failed_capacity;
    media_item *media;
    size_t media_count, media_capacity;
    unsigned char present[MAINTAINED_COUNT];
    int64_t created, updated;
};

/* ---- Execution Status Info terms (PS3.3 C.22.1.3; digest 4.2 and A4) ---- */

static const char *const pending_terms[] = {"QUEUED", "MCD_BUSY", "OUT_OF_SUPPLIES", "CHECK_MCD_OP", NULL};
static const char *const failure_terms[] = {"DIR_PROC_ERR",  "DUPL_REF_INST", "INST_AP_CONFLICT",
                                            "INST_OVERSIZED", "NO_INSTANCE",   "NOT_SUPPORTED",
                                            "PROC_FAILURE",  "SET_OVERSIZED", "UNKNOWN",
                                            NULL};
static const char *const either_terms[] = {"CHECK_MCD_SRV", "INSUFFIC_MEMORY", "INSUFFIC MEMORY", "MCD_FAILURE", NULL};

static int in_list(const char *term, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcmp(term, *list) == 0)
            return 1;
    return 0;
}

MCM_EXTERN int mcm_execution_status_info_allowed(mcm_job_state state, const char *term)
{
    if (term == NULL || term[0] == '\0')
        return 0;
    int normal = strcmp(term, "NORMAL") == 0;
    switch (state) {
    case MCM_JOB_IDLE:
    case MCM_JOB_CREATING:
    case MCM_JOB_DONE:
        return normal;
    case MCM_JOB_PENDING:
    case MCM_JOB_FAILURE: {
        if (normal)
            return 0;
        if (in_list(term, either_terms))
            return 1;
        if (in_list(term, pending_terms))
            return state == MCM_JOB_PENDING;
        if (in_list(term, failure_terms))
            return state == MCM_JOB_FAILURE;
        /* A private term: any valid CS value (documented in the conformance statement), without
         * padding: "QUEUED " is QUEUED, not a private term that FAILURE would accept. */
        size_t length = strlen(term);
        return mcm_vr_check(MCM_VR_CS, term, length, NULL, 0) && term[0] != ' ' && term[length - 1] != ' ';
    }
    default:
        return 0;
    }
}

MCM_EXTERN const char *mcm_job_state_name(mcm_job_state state)
{
    switch (state) {
    case MCM_JOB_ABSENT: return "ABSENT";
    case MCM_JOB_IDLE: return "IDLE";
    case MCM_JOB_PENDING: return "PENDING";
    case MCM_JOB_CREATING: return "CREATING";
    case MCM_JOB_DONE: return "DONE";
    case MCM_JOB_FAILURE: return "FAILURE";
    case MCM_JOB_DELETED: return "DELETED";
    default: return "INVALID";
    }
}

MCM_EXTERN int mcm_job_state_parse(const char *name, mcm_job_state *out)
{
    static const mcm_job_state values[] = {MCM_JOB_IDLE, MCM_JOB_PENDING, MCM_JOB_CREATING, MCM_JOB_DONE,
                                           MCM_JOB_FAILURE};
    if (name != NULL && out != NULL)
        for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
            if (strcmp(name, mcm_job_state_name(values[i])) == 0) {
                *out = values[i];
                return MCM_OK;
            }
    return mcm_fail(MCM_EINVAL, "\"%.20s\" is not an Execution Status", name != NULL ? name : "(null)");
}

/* ---- the state machine ---- */

static int exists(mcm_job_state state)
{
    return state != MCM_JOB_ABSENT && state != MCM_JOB_DELETED;
}

static int reply(mcm_job_transition *out, mcm_job_state from, const char *from_info, uint16_t status,
                 mcm_job_state to, const char *to_info)
{
    out->status = status;
    out->state = to;
    out->info = to_info;
    out->changed = from != to || (from_info == NULL) != (to_info == NULL) ||
                   (from_info != NULL && to_info != NULL && strcmp(from_info, to_info) != 0);
    return MCM_OK;
}

/* The machine itself reports a refusal in *why rather than through mcm_fail(), so that the
 * predicates below (mcm_job_event_applies, mcm_job_state_live) can ask it about a state without
 * touching this thread's mcm_last_error(); mcm_job_next() turns *why into the error. */
static int refuse_event(mcm_job_transition *out, mcm_job_state state, const char *info, int code, const char *message,
                        const char **why)
{
    reply(out, state, info, 0, state, info);
    *why = message;
    return code;
}

static int transition(mcm_job_state state, const char *current_info, const mcm_job_event *event,
                      mcm_job_transition *out, const char **why)
{
    const char *info = exists(state) ? current_info : NULL;
    const char *term;
    /* job.h: on error *out holds the unchanged state, for these errors too. */
    if (event == NULL)
        return refuse_event(out, state, info, MCM_EINVAL, "mcm_job_next: event is NULL", why);
    if ((unsigned)state > MCM_JOB_DELETED)
        return refuse_event(out, state, NULL, MCM_EINVAL, "mcm_job_next: invalid state", why);

    switch (event->type) {
    case MCM_EVENT_CREATE:
        if (exists(state))
            return reply(out, state, info, MCM_STATUS_DUPLICATE_SOP_INSTANCE, state, info);
        if (event->refusal != 0) {
            if (mcm_status_category_of(event->refusal, MCM_OP_N_CREATE) != MCM_CATEGORY_FAILURE ||
                !mcm_status_scp_may_send(event->refusal, MCM_OP_N_CREATE))
                return refuse_event(out, state, info, MCM_EINVAL, "N-CREATE refusal must be a Failure an SCP may send",
                                    why);
            return reply(out, state, info, event->refusal, state, info);
        }
        return reply(out, state, info, MCM_STATUS_SUCCESS, MCM_JOB_IDLE, "NORMAL");

    case MCM_EVENT_INITIATE:
        if (!exists(state))
            return reply(out, state, info, MCM_STATUS_NO_SUCH_SOP_INSTANCE, state, info);
        if (state != MCM_JOB_IDLE) /* digest A1: a second successful Initiate */
            return reply(out, state, info, MCM_STATUS_ALREADY_INITIATED, state, info);
        if (event->refusal != 0) {
            /* C201-C203 answer a Cancel only (PS3.4 Table S.3.2.3.4-1, digest 6: "C201 is defined only
             * for Cancel"), and A510 means the instance was already initiated, which an IDLE one was
             * not (A1): neither can refuse this Initiate. */
            uint16_t code = event->refusal;
            if (mcm_status_category_of(code, MCM_OP_N_ACTION) != MCM_CATEGORY_FAILURE ||
                !mcm_status_scp_may_send(code, MCM_OP_N_ACTION) || code == MCM_STATUS_ALREADY_INITIATED ||
                code == MCM_STATUS_ALREADY_COMPLETED || code == MCM_STATUS_NOT_INTERRUPTIBLE ||
                code == MCM_STATUS_CANCEL_DENIED)
                return refuse_event(out, state, info, MCM_EINVAL,
                                    "Initiate refusal must be a Failure an SCP may send in reply to an Initiate", why);
            return reply(out, state, info, code, state, info);
        }
        return reply(out, state, info, MCM_STATUS_SUCCESS, MCM_JOB_PENDING, "QUEUED");

    case MCM_EVENT_CANCEL:
        if (!exists(state))
            return reply(out, state, info, MCM_STATUS_NO_SUCH_SOP_INSTANCE, state, info);
        if (state == MCM_JOB_DONE || state == MCM_JOB_FAILURE) /* digest A3 */
            return reply(out, state, info, MCM_STATUS_ALREADY_COMPLETED, state, info);
        if (state == MCM_JOB_CREATING && event->not_interruptible)
            return reply(out, state, info, MCM_STATUS_NOT_INTERRUPTIBLE, state, info);
        if (event->cancel_denied)
            return reply(out, state, info, MCM_STATUS_CANCEL_DENIED, state, info);
        return reply(out, state, info, MCM_STATUS_SUCCESS, MCM_JOB_DELETED, NULL); /* digest A2 for IDLE */

    case MCM_EVENT_GET:
        if (!exists(state))
            return reply(out, state, info, MCM_STATUS_NO_SUCH_SOP_INSTANCE, state, info);
        return reply(out, state, info, MCM_STATUS_SUCCESS, state, info);

    case MCM_EVENT_START:
        if (state != MCM_JOB_PENDING)
            return refuse_event(out, state, info, MCM_ESTATE, "a job starts only from PENDING", why);
        return reply(out, state, info, 0, MCM_JOB_CREATING, "NORMAL");

    case MCM_EVENT_TRANSIENT:
        if (state != MCM_JOB_PENDING && state != MCM_JOB_CREATING) /* CREATING -> PENDING: digest A4 */
            return refuse_event(out, state, info, MCM_ESTATE, "a transient problem applies only to PENDING or CREATING",
                                why);
        term = event->info != NULL ? event->info : "QUEUED";
        if (!mcm_execution_status_info_allowed(MCM_JOB_PENDING, term))
            return refuse_event(out, state, info, MCM_EINVAL, "Execution Status Info term not allowed with PENDING",
                                why);
        return reply(out, state, info, 0, MCM_JOB_PENDING, term);

    case MCM_EVENT_COMPLETE:
        if (state != MCM_JOB_CREATING)
            return refuse_event(out, state, info, MCM_ESTATE, "a job completes only from CREATING", why);
        return reply(out, state, info, 0, MCM_JOB_DONE, "NORMAL");

    case MCM_EVENT_FAIL:
        if (state != MCM_JOB_PENDING && state != MCM_JOB_CREATING)
            return refuse_event(out, state, info, MCM_ESTATE, "a job fails only from PENDING or CREATING", why);
        term = event->info != NULL ? event->info : "PROC_FAILURE";
        if (!mcm_execution_status_info_allowed(MCM_JOB_FAILURE, term))
            return refuse_event(out, state, info, MCM_EINVAL, "Execution Status Info term not allowed with FAILURE",
                                why);
        return reply(out, state, info, 0, MCM_JOB_FAILURE, term);

    case MCM_EVENT_EXPIRE:
        if (state != MCM_JOB_IDLE && state != MCM_JOB_DONE && state != MCM_JOB_FAILURE)
            return refuse_event(out, state, info, MCM_ESTATE, "only IDLE, DONE and FAILURE jobs expire", why);
        return reply(out, state, info, 0, MCM_JOB_DELETED, NULL);
    }
    return refuse_event(out, state, info, MCM_EINVAL, "unknown event type", why);
}

MCM_EXTERN int mcm_job_next(mcm_job_state state, const char *current_info, const mcm_job_event *event,
                            mcm_job_transition *out)
{
    if (out == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_job_next: out is NULL");
    const char *why = NULL;
    int rc = transition(state, current_info, event, out, &why);
    return rc == MCM_OK ? MCM_OK : mcm_fail(rc, "%s", why);
}

int mcm_job_state_exists(mcm_job_state state)
{
    return (unsigned)state <= MCM_JOB_DELETED && exists(state);
}

int mcm_job_event_applies(mcm_job_state state, const mcm_job_event *event)
{
    mcm_job_transition t;
    const char *why = NULL;
    return transition(state, NULL, event, &t, &why) == MCM_OK && t.status == MCM_STATUS_SUCCESS;
}

/* Asked of the machine rather than listed, so that the store's queue limit and instance retention
 * cannot drift from the table: a state is live when some event other than deletion still moves the
 * job on (Initiate from IDLE, the start from PENDING, completion or failure from CREATING). Digest
 * 6: "There is no transition out of DONE or FAILURE other than deletion". */
int mcm_job_state_live(mcm_job_state state)
{
    static const mcm_job_event_type onward[] = {MCM_EVENT_INITIATE, MCM_EVENT_START, MCM_EVENT_TRANSIENT,
                                                MCM_EVENT_COMPLETE, MCM_EVENT_FAIL};
    if (!mcm_job_state_exists(state))
        return 0;
    for (size_t i = 0; i < sizeof onward / sizeof onward[0]; i++) {
        mcm_job_event event = {.type = onward[i]};
        mcm_job_transition t;
        const char *why = NULL;
        if (transition(state, NULL, &event, &t, &why) == MCM_OK && t.status == MCM_STATUS_SUCCESS && t.state != state &&
            exists(t.state))
            return 1;
    }
    return 0;
}

/* ---- the job object ---- */

static char *dup_or_null(const char *s, int *failed)
{
    if (s == NULL)
        return NULL;
    char *copy = strdup(s);
    if (copy == NULL)
        *failed = 1;
    return copy;
}

int mcm_job_new(mcm_job **out, const char *uid)
{
    if (out == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_job_new: out is NULL");
    if (uid != NULL && strlen(uid) > MCM_UID_MAX)
        return mcm_fail(MCM_EINVAL, "UID longer than 64 characters");
    mcm_job *job = calloc(1, sizeof *job);
    if (job == NULL)
        return mcm_fail(MCM_ENOMEM, "out of memory");
    if (mcm_request_new(&job->request) != MCM_OK) {
        free(job);
        return MCM_ENOMEM;
    }
    if (uid != NULL)
        strcpy(job->uid, uid);
    *out = job;
    return MCM_OK;
}

MCM_EXTERN void mcm_job_free(mcm_job *job)
{
    if (job == NULL)
        return;
    mcm_job_clear_results(job);
    free(job->failed);
    free(job->media);
    mcm_request_free(job->request);
    free(job);
}

void mcm_job_set_request(mcm_job *job, mcm_request *request)
{
    if (job == NULL || request == NULL)
        return;
    mcm_request_free(job->request);
    job->request = request;
}

mcm_request *mcm_job_request_mut(mcm_job *job)
{
    return job != NULL ? job->request : NULL;
}

/* info may be the job's own buffer: a transition that keeps the Execution Status Info (N-GET, a
 * refused event) hands back the current_info that mcm_job_apply() passed in, so copy with memmove. */
static void set_info(mcm_job *job, const char *info)
{
    size_t length = info != NULL ? strnlen(info, MCM_INFO_MAX) : 0;
    memmove(job->info, info != NULL ? info : "", length);
    job->info[length] = '\0';
}

int mcm_job_apply(mcm_job *job, const mcm_job_event *event, mcm_job_transition *out)
{
    mcm_job_transition t;
    memset(&t, 0, sizeof t);
    if (job == NULL)
        return mcm_fail(MCM_EINVAL, "job is NULL");
    int rc = mcm_job_next(job->state, job->info[0] != '\0' ? job->info : NULL, event, &t);
    if (rc == MCM_OK) {
        job->state = t.state;
        set_info(job, t.info);
        if (out != NULL) {
            *out = t;
            out->info = job->info[0] != '\0' ? job->info : NULL; /* event->info may not outlive the call */
        }
    } else if (out != NULL) {
        *out = t;
    }
    return rc;
}

int mcm_job_set_state(mcm_job *job, mcm_job_state state, const char *info)
{
    if (job == NULL || (unsigned)state > MCM_JOB_DELETED)
        return mcm_fail(MCM_EINVAL, "mcm_job_set_state: invalid argument");
    job->state = state;
    set_info(job, info);
    return MCM_OK;
}

void mcm_job_set_pieces(mcm_job *job, unsigned pieces)
{
    if (job != NULL)
        job->pieces = pieces;
}

static int grow(void **array, size_t *capacity, size_t count, size_t element_size)
{
    if (count < *capacity)
        return MCM_OK;
    size_t n = *capacity ? *capacity * 2 : 4;
    void *grown = realloc(*array, n * element_size);
    if (grown == NULL)
        return mcm_fail(MCM_ENOMEM, "out of memory");
    *array = grown;
    *capacity = n;
    return MCM_OK;
}

int mcm_job_add_failed(mcm_job *job, const char *sop_class_uid, const char *sop_instance_uid, const char *profile,
                       uint16_t failure_reason, const uint32_t *failure_attributes, size_t failure_attribute_count)
{
    if (job == NULL)
        return mcm_fail(MCM_EINVAL, "job is NULL");
    if (grow((void **)&job->failed, &job->failed_capacity, job->failed_count, sizeof *job->failed) != MCM_OK)
        return MCM_ENOMEM;
    failed_item item;
    int failed = 0;
    memset(&item, 0, sizeof item);
    item.sop_class_uid = dup_or_null(sop_class_uid, &failed);
    item.sop_instance_uid = dup_or_null(sop_instance_uid, &failed);
    item.profile = dup_or_null(profile, &failed);
    item.failure_reason = failure_reason;
    if (failure_attribute_count > 0 && failure_attributes != NULL) {
        item.failure_attributes = malloc(failure_attribute_count * sizeof(uint32_t));
        if (item.failure_attributes == NULL)
            failed = 1;
        else {
            memcpy(item.failure_attributes, failure_attributes, failure_attribute_count * sizeof(uint32_t));
            item.failure_attribute_count = failure_attribute_count;
        }
    }
    if (failed) {
        free(item.sop_class_uid);
        free(item.sop_instance_uid);
        free(item.profile);
        free(item.failure_attributes);
        return mcm_fail(MCM_ENOMEM, "out of memory");
    }
    job->failed[job->failed_count++] = item;
    return MCM_OK;
}

int mcm_job_add_media(mcm_job *job, const char *fileset_id, const char *fileset_uid)
{
    if (job == NULL)
        return mcm_fail(MCM_EINVAL, "job is NULL");
    if (grow((void **)&job->media, &job->media_capacity, job->media_count, sizeof *job->media) != MCM_OK)
        return MCM_ENOMEM;
    int failed = 0;
    media_item item = {dup_or_null(fileset_id, &failed), dup_or_null(fileset_uid, &failed)};
    if (failed) {
        free(item.fileset_id);
        free(item.fileset_uid);
        return mcm_fail(MCM_ENOMEM, "out of memory");
    }
    job->media[job->media_count++] = item;
    return MCM_OK;
}

void mcm_job_clear_results(mcm_job *job)
{
    if (job == NULL)
        return;
    for (size_t i = 0; i < job->failed_count; i++) {
        free(job->failed[i].sop_class_uid);
        free(job->failed[i].sop_instance_uid);
        free(job->failed[i].profile);
        free(job->failed[i].failure_attributes);
    }
    job->failed_count = 0;
    for (size_t i = 0; i < job->media_count; i++) {
        free(job->media[i].fileset_id);
        free(job->media[i].fileset_uid);
    }
    job->media_count = 0;
    job->pieces = 0;
}

void mcm_job_mark(mcm_job *job, uint32_t tag, int present)
{
    if (job == NULL)
        return;
    for (size_t i = 0; i < MAINTAINED_COUNT; i++)
        if (maintained_tags[i] == tag)
            job->present[i] = present != 0;
}

void mcm_job_mark_maintained(mcm_job *job)
{
    if (job == NULL)
        return;
    for (size_t i = 0; i < MAINTAINED_COUNT; i++)
        if (maintained_tags[i] != MCM_TAG_REFERENCED_SOP_SEQUENCE)
            job->present[i] = 1;
}

void mcm_job_set_times(mcm_job *job, int64_t created, int64_t updated)
{
    if (job != NULL) {
        job->created = created;
        job->updated = updated;
    }
}

int64_t mcm_job_created(const mcm_job *job)
{
    return job != NULL ? job->created : 0;
}

int64_t mcm_job_updated(const mcm_job *job)
{
    return job != NULL ? job->updated : 0;
}

/* ---- public read-only view ---- */

MCM_EXTERN const char *mcm_job_uid(const mcm_job *job)
{
    return job != NULL ? job->uid : NULL;
}

MCM_EXTERN mcm_job_state mcm_job_state_of(const mcm_job *job)
{
    return job != NULL ? job->state : MCM_JOB_ABSENT;
}

MCM_EXTERN const char *mcm_job_status_info(const mcm_job *job)
{
    return job != NULL && job->info[0] != '\0' ? job->info : NULL;
}

MCM_EXTERN unsigned mcm_job_pieces(const mcm_job *job)
{
    return job != NULL ? job->pieces : 0;
}

MCM_EXTERN const mcm_request *mcm_job_request(const mcm_job *job)
{
    return job != NULL ? job->request : NULL;
}

MCM_EXTERN size_t mcm_job_failed_count(const mcm_job *job)
{
    return job != NULL ? job->failed_count : 0;
}

MCM_EXTERN int mcm_job_failed(const mcm_job *job, size_t index, mcm_failed_sop *out)
{
    if (job == NULL || out == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_job_failed: NULL argument");
    if (index >= job->failed_count)
        return mcm_fail(MCM_ENOTFOUND, "no Failed SOP Sequence item %zu", index);
    const failed_item *item = &job->failed[index];
    out->sop_class_uid = item->sop_class_uid;
    out->sop_instance_uid = item->sop_instance_uid;
    out->profile = item->profile;
    out->failure_reason = item->failure_reason;
    out->failure_attribute_count = item->failure_attribute_count;
    out->failure_attributes = item->failure_attributes;
    return MCM_OK;
}

MCM_EXTERN size_t mcm_job_media_count(const mcm_job *job)
{
    return job != NULL ? job->media_count : 0;
}

MCM_EXTERN int mcm_job_media(const mcm_job *job, size_t index, mcm_storage_media *out)
{
    if (job == NULL || out == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_job_media: NULL argument");
    if (index >= job->media_count)
        return mcm_fail(MCM_ENOTFOUND, "no Referenced Storage Media Sequence item %zu", index);
    out->fileset_id = job->media[index].fileset_id;
    out->fileset_uid = job->media[index].fileset_uid;
    return MCM_OK;
}

MCM_EXTERN int mcm_job_has(const mcm_job *job, uint32_t tag)
{
    if (job == NULL)
        return 0;
    for (size_t i = 0; i < MAINTAINED_COUNT; i++)
        if (maintained_tags[i] == tag)
            return job->present[i] || (tag == MCM_TAG_REFERENCED_SOP_SEQUENCE &&
                                       mcm_request_reference_count(job->request) > 0);
    return mcm_request_attribute(job->request, tag) != NULL;
}
