/*
 * lib/scp/service_internal.h: the service object (struct mcm_service) and what the service's files
 * share, for those files only (lib/scp/service.c, reply.c, admission.c, instances.c, create.c,
 * action.c, get.c). Everything else, lib/dcmtk included, sees only lib/scp/service.h.
 *
 * The service is split by job, and calls go one way only, down this list (build-aux/check-layers.sh
 * proves it from the objects' symbol tables):
 *   service.c    open, close, start, stop; the options copied and checked; accessors
 *   create.c     N-CREATE          action.c  N-ACTION Initiate and Cancel
 *   get.c        N-GET, a job as stored
 *   instances.c  C-STORE into the storage directory; the instance files' names
 *   admission.c  association admission, C-ECHO, the authorise callback
 *   reply.c      what every reply shares; the service's log lines
 * and below the service, each given what it needs (the store, the options, a log channel) and
 * calling nothing above it: worker.c (media workers), retention.c (expiry of jobs and instances, its
 * housekeeping thread), store.c (the job store), media_context.c; then lib/core.
 *
 * Every request handler answers with an mcm_response holding the status, Error Comment, Offending
 * Element and the Annex C fields the digest's A7/A18 ask for; changes job state only through the
 * state machine (mcm_job_apply / mcm_job_next, lib/core/job.c), and saves every change in the store
 * before returning (digest A15). None parses DICOM or includes DCMTK.
 *
 * Locks, in the order they are taken (never the reverse): instance_lock (a received file's rename
 * and record, against retention unlinking expired files), then the store's mutex, then the
 * workers' own lock (lib/scp/worker.h). The retention thread's lock is never held while it runs.
 */
#ifndef MCM_LIB_SCP_SERVICE_INTERNAL_H
#define MCM_LIB_SCP_SERVICE_INTERNAL_H

#include "scp/log_channel.h"
#include "scp/retention.h"
#include "scp/service.h"
#include "scp/store.h"
#include "scp/worker.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Command elements that a reply may name as Offending Element (PS3.7 Annex E). */
#define TAG_AFFECTED_SOP_INSTANCE_UID MCM_TAG(0x0000, 0x1000)
#define TAG_REQUESTED_SOP_INSTANCE_UID MCM_TAG(0x0000, 0x1001)
#define TAG_ACTION_TYPE_ID MCM_TAG(0x0000, 0x1008)

struct mcm_service {
    mcm_scp_options opts; /* copy; its strings point at the owned copies below */
    char *storage_dir;    /* absolute, without trailing slash */
    char *database_path;
    char *ae_title;
    char *default_profile;
    char *bind_address;
    char **allowed_titles;
    mcm_log_channel log; /* opts' log callback: the service's, the workers' and retention's */
    mcm_store *store;
    mcm_workers *workers;
    mcm_retention *retention;
    int lock_fd; /* holds the flock on "<database>.lock" (lock_database), or -1 */
    /* Serialises "rename a received file + record it" with "expire instance records + unlink
     * their files", so that retention never removes a file that was just received again. */
    pthread_mutex_t instance_lock;
};

static inline int64_t mcm_service_now(void)
{
    return (int64_t)time(NULL);
}

/* reply.c: the parts every reply shares. */
void mcm_service_reply_finish(const mcm_service *service, mcm_response *rsp);
void mcm_service_reply_affected_uid(mcm_response *rsp, const char *uid);
void mcm_service_reply_action_type(mcm_response *rsp, uint16_t action_type_id);
void mcm_service_reply_store_failure(mcm_service *service, mcm_response *rsp, mcm_operation op, const char *what,
                                     const char *uid);

/* admission.c: the authorise callback's verdict (MCM_AUTHORIZE_*), whether it allows op, and the
 * 0124 reply to a refusal. */
int mcm_service_authorize(mcm_service *service, const char *calling_ae, mcm_scp_operation op, const mcm_job *job);
int mcm_service_authorized(mcm_service *service, const char *calling_ae, mcm_scp_operation op, const mcm_job *job);
void mcm_service_refuse_unauthorized(mcm_response *rsp, mcm_operation op, mcm_scp_operation what,
                                     const char *calling_ae);

/* instances.c: remove what an interrupted receive left in the storage directory (at open). */
void mcm_service_remove_stale_temporaries(mcm_service *service);

#ifdef __cplusplus
}
#endif

#endif
