/*
 * dcmmcm/scp.h: the Media Creation Management SCP: a media creation device on the network.
 *
 * The SCP accepts Verification, every storage SOP class (C-STORE into its instance store) and
 * Media Creation Management (N-CREATE, N-ACTION Initiate/Cancel, N-GET). Jobs live in a durable
 * SQLite job store: a job acknowledged by N-CREATE or Initiate is committed before the reply
 * leaves, and a restarted SCP on the same database answers for every job. Media workers take
 * PENDING jobs by Request Priority then arrival and call the application's write_media callback.
 * The library alone changes job state; callbacks report through the mcm_media_context.
 *
 * Threads: mcm_scp_run() accepts associations on the calling thread and serves each on a thread
 * of its own (at most max_associations); media_workers threads write media. Callbacks run on
 * those threads and must be thread-safe.
 *
 * TCP: as for the SCU (scu.h), TCP_NODELAY and TCP_QUICKACK on every accepted socket unless
 * tcp_tuning is 0.
 */
#ifndef DCMMCM_SCP_H
#define DCMMCM_SCP_H

#include "common.h"
#include "status.h"
#include "request.h"
#include "job.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Operations an authorise callback is asked about. */
typedef enum mcm_scp_operation {
    MCM_SCP_ECHO = 0,
    MCM_SCP_STORE = 1,
    MCM_SCP_CREATE = 2,
    MCM_SCP_INITIATE = 3,
    MCM_SCP_CANCEL = 4,
    MCM_SCP_GET = 5
} mcm_scp_operation;

/* "C-ECHO", "C-STORE", "N-CREATE", "N-ACTION Initiate", "N-ACTION Cancel", "N-GET". */
MCM_EXTERN const char *mcm_scp_operation_name(mcm_scp_operation op);

/* Verdicts of an authorise callback. */
#define MCM_AUTHORIZE_ALLOW 0       /* go ahead */
#define MCM_AUTHORIZE_REFUSE 1      /* refuse with 0124 (Refused: Not authorized) */
#define MCM_AUTHORIZE_DENY_CANCEL 2 /* MCM_SCP_CANCEL only: local policy denies the cancellation, C203
                                     * (a DONE or FAILURE job still answers C201); elsewhere as REFUSE */

/* Return MCM_AUTHORIZE_ALLOW to allow op by the peer calling_ae_title, MCM_AUTHORIZE_REFUSE (or any
 * other non-zero value) to refuse it with 0124, or MCM_AUTHORIZE_DENY_CANCEL for a Cancel the local
 * policy denies. job is the instance concerned (for CREATE: the job about to be created, IDLE), or
 * NULL for ECHO and STORE. */
typedef int (*mcm_authorize_fn)(const char *calling_ae_title, mcm_scp_operation op, const mcm_job *job,
                                void *user);

/* One referenced instance as the media writer receives it, in Referenced SOP Sequence order. */
typedef struct mcm_instance {
    const char *sop_class_uid;
    const char *sop_instance_uid;
    const char *transfer_syntax_uid;   /* as stored */
    const char *path;                  /* the stored Part 10 file */
    const char *profile;               /* Requested Media Application Profile, or the SCP's default */
    uint64_t size;                     /* bytes */
} mcm_instance;

/* The handle through which a media writer reports; valid only during its write_media call. */
typedef struct mcm_media_context mcm_media_context;

/* Write the media of job. instances are the referenced instances, all present with the right SOP
 * class (the library has checked, and failed the job itself otherwise). Return 0 when done: the
 * job becomes DONE, unless the writer called mcm_media_fail() (FAILURE) or mcm_media_defer()
 * (back to PENDING, retried later). A non-zero return without either makes the job FAILURE with
 * MCD_FAILURE. Runs on a media worker thread. */
typedef int (*mcm_write_media_fn)(const mcm_job *job, const mcm_instance *instances, size_t count,
                                  mcm_media_context *ctx, void *user);

/* Report progress: volume of volumes (logged; N-GET shows CREATING meanwhile). */
MCM_EXTERN void mcm_media_progress(mcm_media_context *ctx, unsigned volume, unsigned volumes);
/* Record a volume actually written (a Referenced Storage Media Sequence item). */
MCM_EXTERN int mcm_media_add_volume(mcm_media_context *ctx, const char *fileset_id, const char *fileset_uid);
/* Set Total Number of Pieces of Media Created (digest A13: copies x volumes). */
MCM_EXTERN int mcm_media_set_pieces(mcm_media_context *ctx, unsigned pieces);
/* Record a Failed SOP Sequence item for instances[index] with a Failure Reason (MCM_FAILURE_*)
 * and its Failure Attributes (may be NULL/0). */
MCM_EXTERN int mcm_media_fail_instance(mcm_media_context *ctx, size_t index, uint16_t failure_reason,
                                       const uint32_t *failure_attributes, size_t failure_attribute_count);
/* End the job as FAILURE with Execution Status Info term (NULL: PROC_FAILURE) and a log message.
 * MCM_EINVAL if term is not legal with FAILURE. */
MCM_EXTERN int mcm_media_fail(mcm_media_context *ctx, const char *term, const char *message);
/* A transient problem: the job goes back to PENDING with term (NULL: MCD_BUSY) and is retried
 * after retry_seconds. MCM_EINVAL if term is not legal with PENDING. */
MCM_EXTERN int mcm_media_defer(mcm_media_context *ctx, const char *term, unsigned retry_seconds);
/* Non-zero when the writer should stop as soon as it can: the job was cancelled or the SCP is
 * stopping. Poll it between files. Work stopped for a stop goes back to PENDING. */
MCM_EXTERN int mcm_media_should_stop(const mcm_media_context *ctx);
/* Declare whether a Cancel may interrupt the job now (default 1). With 0, Cancel gets C202; a
 * Cancel that came first wins, so check mcm_media_should_stop() right after declaring 0. */
MCM_EXTERN void mcm_media_set_interruptible(mcm_media_context *ctx, int interruptible);
/* Log one line (printf-style, at most 1023 bytes) through the log callback of the SCP that runs
 * the job (mcm_scp_options.log, at its log_level or more severe): the one channel a media writer
 * logs through. Nothing happens without a callback or for a NULL ctx. */
MCM_EXTERN void mcm_media_log(mcm_media_context *ctx, mcm_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#define MCM_RETAIN_FOREVER (-1)

/* Versions (libgit2's form): a program sets version to the MCM_SCP_OPTIONS_VERSION of the header
 * it was built with (MCM_SCP_OPTIONS_INIT or mcm_scp_options_init() do), and the library reads only
 * the fields of that version, so a struct of an older version keeps working with a newer library.
 * A new version only appends fields, bumps MCM_SCP_OPTIONS_VERSION and adds the size of the new
 * version to the table in lib/core/options.c. Version 1: every field below. */
#define MCM_SCP_OPTIONS_VERSION 1

typedef struct mcm_scp_options {
    unsigned int version;             /* MCM_SCP_OPTIONS_VERSION */
    const char *bind_address;         /* IPv4 address to listen on; NULL: all */
    uint16_t port;                    /* 0: a free port (see mcm_scp_port()) */
    const char *ae_title;             /* ours; default "MCMSCP" */
    const char *const *allowed_calling_ae_titles; /* empty: any peer */
    size_t allowed_calling_ae_title_count;
    int check_called_ae_title;        /* 1 (default): reject associations addressed to another AE title */
    unsigned max_associations;        /* simultaneous; default 16; more are rejected (transient) */
    int acse_timeout_seconds;         /* default 30; 0: the default */
    int dimse_timeout_seconds;        /* idle association: abort after this; default 300; 0: the default */
    uint32_t max_pdu;                 /* default 65536 (4096..131072); 0: the default */
    const char *storage_dir;          /* received instances (created if missing); required */
    const char *database_path;        /* SQLite job store (created if missing); required */
    int64_t retention_idle_seconds;   /* IDLE jobs kept; default 86400; MCM_RETAIN_FOREVER */
    int64_t retention_done_seconds;   /* DONE/FAILURE jobs kept; default 604800 */
    int64_t retention_instance_seconds; /* received instances no live job references; default 604800 */
    unsigned queue_limit;             /* live (IDLE/PENDING/CREATING) jobs; 0 = unlimited; more: 0213 */
    unsigned media_workers;           /* default 1 */
    unsigned max_copies;              /* Initiate Number of Copies above this: 0115; default 99 */
    unsigned strict;                  /* MCM_VALIDATE_STRICT and friends, for N-CREATE */
    int annex_c_details;              /* 1: only the status detail fields PS3.7 Annex C lists; 0 (default):
                                       * also Error Comment and Offending Element on every failure */
    const char *default_profile;      /* Requested Media Application Profile when absent; "STD-GEN-CD" */
    int tcp_tuning;                   /* 1 (default): TCP_NODELAY + TCP_QUICKACK */
    mcm_authorize_fn authorize;       /* NULL: allow everything */
    mcm_write_media_fn write_media;   /* required */
    mcm_log_fn log;                   /* NULL: silent */
    mcm_log_level log_level;
    void *user;                       /* passed to every callback */
    /* Storage SOP classes: every class DCMTK knows, and any proposed UID under the storage root
     * 1.2.840.10008.5.1.4.1.1 (classes newer than DCMTK) are accepted. 1: also accept any other
     * abstract syntax DCMTK does not know (private storage SOP classes); 0 (default): reject them. */
    int accept_unknown_storage;
} mcm_scp_options;

#define MCM_SCP_OPTIONS_INIT                                                                         \
    { MCM_SCP_OPTIONS_VERSION, NULL, 0, "MCMSCP", NULL, 0, 1, 16, 30, 300, 65536, NULL, NULL, 86400,  \
      604800, 604800, 0, 1, 99, 0, 0, "STD-GEN-CD", 1, NULL, NULL, NULL, MCM_LOG_INFO, NULL, 0 }

/* Fill the fields of version (pass MCM_SCP_OPTIONS_VERSION) of opts with the defaults, the same as
 * MCM_SCP_OPTIONS_INIT, and set opts->version: nothing past that version's fields is written.
 * MCM_EINVAL (nothing written) for NULL or a version this library does not know (0, or above its
 * MCM_SCP_OPTIONS_VERSION). */
MCM_EXTERN int mcm_scp_options_init(mcm_scp_options *opts, unsigned int version);

typedef struct mcm_scp mcm_scp;

/* Create an SCP: checks the options, opens (or creates) the job store, puts jobs found CREATING
 * back to PENDING, and binds the listening socket, so that mcm_scp_port() is known at once.
 * Free it with mcm_scp_free(). */
MCM_EXTERN int mcm_scp_new(mcm_scp **out, const mcm_scp_options *opts);

/* The TCP port the SCP listens on. */
MCM_EXTERN uint16_t mcm_scp_port(const mcm_scp *scp);

/* Serve until mcm_scp_stop(): returns MCM_OK after a stop, once every association thread and
 * media worker has finished (requests in flight are answered; a job being written finishes or
 * goes back to PENDING). Should waiting for connections itself fail, it stops the same way and
 * returns MCM_ENET. An SCP runs once: a second call returns MCM_ESTATE (free it and make a new one
 * on the same database to serve again). */
MCM_EXTERN int mcm_scp_run(mcm_scp *scp);

/* Ask mcm_scp_run() to return. Async-signal-safe and thread-safe; may be called before run. */
MCM_EXTERN void mcm_scp_stop(mcm_scp *scp);

/* A job's current state as the store holds it, in *out (free with mcm_job_free()). MCM_ENOTFOUND
 * if there is no such job. Thread-safe. */
MCM_EXTERN int mcm_scp_get_job(mcm_scp *scp, const char *instance_uid, mcm_job **out);

/* Free the SCP (stopping it first if it is running on another thread is the caller's job:
 * call mcm_scp_stop() and wait for mcm_scp_run() to return). NULL is ignored. */
MCM_EXTERN void mcm_scp_free(mcm_scp *scp);

#ifdef __cplusplus
}
#endif

#endif
