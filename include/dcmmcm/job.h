/*
 * dcmmcm/job.h: one Media Creation Management SOP instance: its lifecycle state machine
 * (digest section 6, decisions A1-A6 and A12-A13) and the results it carries.
 *
 * mcm_job_next() is the state machine: a pure function of (state, event) that returns the DIMSE
 * reply status and the new state. An mcm_job is the read-only view of one instance that an SCU
 * gets from N-GET and that an SCP's callbacks receive; only the library changes it.
 */
#ifndef DCMMCM_JOB_H
#define DCMMCM_JOB_H

#include "common.h"
#include "request.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Execution Status (2100,0020) plus the two states of an instance that does not exist. */
typedef enum mcm_job_state {
    MCM_JOB_ABSENT = 0,   /* never created */
    MCM_JOB_IDLE = 1,
    MCM_JOB_PENDING = 2,
    MCM_JOB_CREATING = 3,
    MCM_JOB_DONE = 4,
    MCM_JOB_FAILURE = 5,
    MCM_JOB_DELETED = 6   /* cancelled or expired */
} mcm_job_state;

/* "IDLE", "PENDING", "CREATING", "DONE", "FAILURE" (the enumerated values), "ABSENT", "DELETED". */
MCM_EXTERN const char *mcm_job_state_name(mcm_job_state state);
/* Parse an Execution Status value ("IDLE" .. "FAILURE") into *out; MCM_EINVAL otherwise. */
MCM_EXTERN int mcm_job_state_parse(const char *name, mcm_job_state *out);

/* Events of the lifecycle. Wire events always produce a reply status; device events do not. */
typedef enum mcm_job_event_type {
    MCM_EVENT_CREATE = 0,   /* wire: N-CREATE naming this instance */
    MCM_EVENT_INITIATE = 1, /* wire: N-ACTION Initiate Media Creation (Action Type ID 1) */
    MCM_EVENT_CANCEL = 2,   /* wire: N-ACTION Cancel Media Creation (Action Type ID 2) */
    MCM_EVENT_GET = 3,      /* wire: N-GET */
    MCM_EVENT_START = 4,    /* device: a media worker takes the job */
    MCM_EVENT_TRANSIENT = 5,/* device: transient problem; the job waits (PENDING + info term) */
    MCM_EVENT_COMPLETE = 6, /* device: media written */
    MCM_EVENT_FAIL = 7,     /* device: the job failed for good (FAILURE + info term) */
    MCM_EVENT_EXPIRE = 8    /* housekeeping: the retention period ended */
} mcm_job_event_type;

typedef struct mcm_job_event {
    mcm_job_event_type type;
    /* CREATE / INITIATE: a non-zero DIMSE status that validation found (0105, 0106, 0117, 0120,
     * 0121, 0213 for CREATE; 0114, 0115, 0213 for INITIATE). The event is refused with it and the
     * state does not change (a refused Initiate leaves the job IDLE, digest A1). A refusal that is
     * not a Failure an SCP may send for the operation (a Warning, A510 on N-CREATE), or for INITIATE
     * one of the Cancel statuses C201-C203 or A510, makes mcm_job_next() return MCM_EINVAL. */
    uint16_t refusal;
    /* CANCEL: the job cannot be interrupted now (CREATING gives C202). */
    int not_interruptible;
    /* CANCEL: local policy denies cancellation (C203, digest section 6 "any"). */
    int cancel_denied;
    /* TRANSIENT / FAIL: the Execution Status Info term; NULL gives QUEUED / PROC_FAILURE. */
    const char *info;
} mcm_job_event;

/* The outcome of one event. */
typedef struct mcm_job_transition {
    uint16_t status;       /* reply status for wire events, 0 for device events */
    mcm_job_state state;   /* the state after the event */
    const char *info;      /* Execution Status Info after the event (static or event->info), or NULL
                            * when the instance does not exist */
    int changed;           /* 1 if state or info changed */
} mcm_job_transition;

/* The state machine. From state (with its current Execution Status Info current_info, may be
 * NULL) and event, fill *out. Returns MCM_OK; MCM_ESTATE for a device or housekeeping event that
 * is not legal in state (e.g. START on IDLE, EXPIRE on CREATING), MCM_EINVAL for an info term that
 * is not legal for the target state (NORMAL only with IDLE/CREATING/DONE; see
 * mcm_execution_status_info_allowed). On error *out holds the unchanged state. */
MCM_EXTERN int mcm_job_next(mcm_job_state state, const char *current_info, const mcm_job_event *event,
                            mcm_job_transition *out);

/* 1 if term may accompany state as Execution Status Info (2100,0030): NORMAL with IDLE, CREATING
 * and DONE only; the transient terms (QUEUED, MCD_BUSY, OUT_OF_SUPPLIES, CHECK_MCD_OP) with PENDING;
 * the request-intrinsic terms (DIR_PROC_ERR, DUPL_REF_INST, INST_AP_CONFLICT, INST_OVERSIZED,
 * NO_INSTANCE, NOT_SUPPORTED, PROC_FAILURE, SET_OVERSIZED, UNKNOWN) with FAILURE; CHECK_MCD_SRV,
 * INSUFFIC_MEMORY (or "INSUFFIC MEMORY") and MCD_FAILURE with either; a private term (a valid CS
 * value not defined by PS3.3 C.22.1.3) with PENDING or FAILURE. */
MCM_EXTERN int mcm_execution_status_info_allowed(mcm_job_state state, const char *term);

/* One Failed SOP Sequence item. Strings are owned by the job. */
typedef struct mcm_failed_sop {
    const char *sop_class_uid;
    const char *sop_instance_uid;
    const char *profile;            /* profile used for the instance, NULL if absent */
    uint16_t failure_reason;        /* Failure Reason (0008,1197), e.g. 0x0112 */
    size_t failure_attribute_count;
    const uint32_t *failure_attributes; /* Failure Attributes (2200,000E) */
} mcm_failed_sop;

/* Failure Reason defined terms (PS3.3 C.22.1.4). */
#define MCM_FAILURE_PROCESSING           0x0110
#define MCM_FAILURE_NO_SUCH_INSTANCE     0x0112
#define MCM_FAILURE_CLASS_INSTANCE_CONFLICT 0x0119
#define MCM_FAILURE_MISSING_ATTRIBUTE    0x0120
#define MCM_FAILURE_MISSING_ATTRIBUTE_VALUE 0x0121
#define MCM_FAILURE_SOP_CLASS_NOT_SUPPORTED 0x0122
#define MCM_FAILURE_PROFILES_CONFLICT    0x0201
#define MCM_FAILURE_PROFILE_INSTANCE_CONFLICT 0x0202
#define MCM_FAILURE_PROFILE_COMPRESSION_CONFLICT 0x0203
#define MCM_FAILURE_PROFILE_NOT_SUPPORTED 0x0204
#define MCM_FAILURE_INSTANCE_SIZE_EXCEEDED 0x0205

/* One Referenced Storage Media Sequence item: a volume actually written. */
typedef struct mcm_storage_media {
    const char *fileset_id;   /* Storage Media File-set ID (0088,0130) as written */
    const char *fileset_uid;  /* Storage Media File-set UID (0088,0140) */
} mcm_storage_media;

typedef struct mcm_job mcm_job;

/* Free a job (as returned by mcm_scu_get()). NULL is ignored. */
MCM_EXTERN void mcm_job_free(mcm_job *job);
/* The SOP Instance UID. */
MCM_EXTERN const char *mcm_job_uid(const mcm_job *job);
/* Execution Status; MCM_JOB_ABSENT if an N-GET did not return it. */
MCM_EXTERN mcm_job_state mcm_job_state_of(const mcm_job *job);
/* Execution Status Info, or NULL if absent. */
MCM_EXTERN const char *mcm_job_status_info(const mcm_job *job);
/* Total Number of Pieces of Media Created (0 until media exist). */
MCM_EXTERN unsigned mcm_job_pieces(const mcm_job *job);
/* The request attributes the job carries (for an N-GET result: those returned). Never NULL. */
MCM_EXTERN const mcm_request *mcm_job_request(const mcm_job *job);
/* Failed SOP Sequence items. */
MCM_EXTERN size_t mcm_job_failed_count(const mcm_job *job);
MCM_EXTERN int mcm_job_failed(const mcm_job *job, size_t index, mcm_failed_sop *out);
/* Referenced Storage Media Sequence items. */
MCM_EXTERN size_t mcm_job_media_count(const mcm_job *job);
MCM_EXTERN int mcm_job_media(const mcm_job *job, size_t index, mcm_storage_media *out);
/* 1 if the job carries attribute tag (top-level tag of the module, e.g. MCM_TAG_EXECUTION_STATUS
 * or a request attribute): for an N-GET result, whether the SCP returned it. */
MCM_EXTERN int mcm_job_has(const mcm_job *job, uint32_t tag);

#ifdef __cplusplus
}
#endif

#endif
