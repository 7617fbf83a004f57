/*
 * lib/scp/service.h: the SCP's behaviour, independent of the network: the interface lib/dcmtk calls
 * (lib/scp/service.c and the files split from it by job, listed in lib/scp/service_internal.h).
 *
 * lib/dcmtk/scp_session.cc decodes each DIMSE request into C data and calls one function here; the
 * function runs validation, the authorise callback, the state machine (lib/core/job.c) and the job
 * store (lib/scp/store.c), and returns the reply as an mcm_response (status, Error Comment, Offending
 * Element, Attribute Identifier List, Action Type ID...) plus any data to send back. The network
 * layer only encodes what it gets. Data flows one way: wire -> DCMTK layer -> this -> callbacks.
 *
 * Every function is thread-safe: association threads call them concurrently; job state changes
 * are serialised by the store's lock so a read-modify-write of one job is atomic.
 *
 * Durability: create and action return only after the store has committed (digest A15), so the
 * network layer may send the reply as soon as they return.
 *
 * Return values: the request handlers (echo, store_*, create, action, get) return MCM_OK once rsp
 * holds the reply, whatever its status (a store failure is the reply 0110, or 0xA700 for C-STORE);
 * a negative error only for invalid arguments (then rsp, if not NULL, holds 0110).
 */
#ifndef MCM_LIB_SERVICE_H
#define MCM_LIB_SERVICE_H

#include "dcmmcm/scp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mcm_service mcm_service;

/* Check opts (storage_dir and database_path required, write_media required, AE titles valid,
 * default profile valid LO, ...), copy what is needed, create the storage directory, open the
 * store and recover CREATING jobs to PENDING. */
int mcm_service_open(mcm_service **out, const mcm_scp_options *opts);
/* Stop workers if running, close the store, free. NULL is ignored. */
void mcm_service_close(mcm_service *service);

/* Start opts->media_workers media worker threads (lib/scp/worker.c) and the housekeeping thread
 * (retention, lib/scp/retention.c). */
int mcm_service_start(mcm_service *service);
/* Ask workers to stop (a job being written is asked to stop through its context and goes back to
 * PENDING unless it finishes first), then join them. Safe to call twice. */
void mcm_service_stop(mcm_service *service);

/* Run retention once (what the housekeeping thread does periodically): expire jobs, then
 * instances; at is the current time in seconds since the epoch. */
int mcm_service_housekeeping(mcm_service *service, int64_t at);
/* How often the housekeeping thread runs (default 5000 ms; tests shorten it). */
void mcm_service_set_housekeeping_interval(mcm_service *service, unsigned milliseconds);

/* The job store's busy timeout (see mcm_store_set_busy_timeout; tests shorten it). */
void mcm_service_set_store_busy_timeout(mcm_service *service, int milliseconds);

/* Log through the SCP's log callback (printf-style); a no-op when none is set. */
void mcm_service_log(mcm_service *service, mcm_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Association admission: 1 if calling_ae may associate (allow-list empty or containing it) and
 * called_ae is ours (when check_called_ae_title); otherwise 0 and a reason in why. */
int mcm_service_admit(mcm_service *service, const char *calling_ae, const char *called_ae, char *why,
                      size_t why_size);
/* The SCP's own AE title and limits as configured. */
const char *mcm_service_ae_title(const mcm_service *service);
unsigned mcm_service_max_associations(const mcm_service *service);
const mcm_scp_options *mcm_service_options(const mcm_service *service); /* strings valid while open */

/* C-ECHO: rsp 0000, or 0124 if the authorise callback refuses. */
int mcm_service_echo(mcm_service *service, const char *calling_ae, mcm_response *rsp);

/* C-STORE, in two steps around the network receiving the data set into a file:
 * store_begin checks the UIDs (valid syntax, not a path), authorises, and gives a fresh temporary
 * path inside the storage directory (tmp_path, 4096 bytes); store_finish fsyncs the file, renames
 * it to its final name (derived from the validated SOP Instance UID), fsyncs the directory,
 * records the instance in the store, and answers 0000 (or a C-STORE failure status: 0xA700 out of
 * resources, 0xC000 cannot understand); store_abort removes a temporary file after a failed receive. */
int mcm_service_store_begin(mcm_service *service, const char *calling_ae, const char *sop_class_uid,
                            const char *sop_instance_uid, char tmp_path[4096], mcm_response *rsp);
int mcm_service_store_finish(mcm_service *service, const char *tmp_path, const char *sop_class_uid,
                             const char *sop_instance_uid, const char *transfer_syntax_uid, mcm_response *rsp);
void mcm_service_store_abort(mcm_service *service, const char *tmp_path);

/* N-CREATE. request is taken (freed by the service whatever happens). requested_uid is the
 * Affected SOP Instance UID of the request, or NULL to assign one. On success uid_out receives the
 * instance UID and *created (may be NULL) the new job (IDLE, NORMAL) for the reply's attribute
 * list; free it with mcm_job_free(). rsp: 0000, 0105/0106/0120/0121 (validation), 0111 (UID in
 * use), 0117 (malformed UID), 0124 (refused), 0213 (queue full), 0110 (store failure). */
int mcm_service_create(mcm_service *service, const char *calling_ae, mcm_request *request,
                       const char *requested_uid, char uid_out[MCM_UID_MAX + 1], mcm_job **created,
                       mcm_response *rsp);

/* N-ACTION. action_information (may be NULL: no data set) is taken. rsp: Initiate 0000, 0112,
 * A510, 0114 (unknown argument), 0115 (bad Number of Copies / Request Priority), 0213, 0124;
 * Cancel 0000 (job deleted; a running writer is told to stop), 0112, C201, C202, C203, 0124;
 * 0123 for another action type. Error statuses carry Error Comment, Offending Element and Action
 * Type ID as the digest's A18 says. */
int mcm_service_action(mcm_service *service, const char *calling_ae, const char *uid, uint16_t action_type_id,
                       mcm_request *action_information, mcm_response *rsp);

/* N-GET. tags/tag_count is the Attribute Identifier List (tag_count 0: all attributes). On 0000,
 * 0001 or 0107, *job receives the job (free with mcm_job_free()) and *selected/selected_count the
 * tags to encode (NULL = all the job carries; otherwise free() it). Unknown tags give 0107 with
 * them in the Attribute Identifier List; module attributes the job does not maintain give 0001
 * (digest A5); both: 0107. rsp 0112 for an unknown instance, 0124 if refused. */
int mcm_service_get(mcm_service *service, const char *calling_ae, const char *uid, const uint32_t *tags,
                    size_t tag_count, mcm_job **job, uint32_t **selected, size_t *selected_count, mcm_response *rsp);

/* A job as the store holds it now (mcm_scp_get_job()); MCM_ENOTFOUND if none. */
int mcm_service_job(mcm_service *service, const char *uid, mcm_job **out);

#ifdef __cplusplus
}
#endif

#endif
