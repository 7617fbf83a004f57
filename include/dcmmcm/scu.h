/*
 * dcmmcm/scu.h: the Media Creation Management SCU: one association with a media creation device.
 *
 * Every call that exchanges a DIMSE message returns a local error code (MCM_OK if the exchange
 * itself worked) and, separately, the peer's reply in an mcm_response: a DIMSE failure from the
 * peer is MCM_OK with response->category == MCM_CATEGORY_FAILURE, never a local error.
 *
 * Thread safety: one mcm_scu is used by one thread at a time; distinct handles are independent.
 *
 * TCP: every socket the SCU opens has TCP_NODELAY and TCP_QUICKACK set (quick ACK re-armed around
 * every read), so a round trip never waits for Nagle's algorithm or a delayed ACK whatever the
 * peer does. Set tcp_tuning = 0 in the options to leave the sockets as the system makes them.
 */
#ifndef DCMMCM_SCU_H
#define DCMMCM_SCU_H

#include "common.h"
#include "status.h"
#include "request.h"
#include "job.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TLS settings (reserved: TLS is not built yet; a non-NULL tls in the options gives
 * MCM_EUNSUPPORTED and no field is read). When TLS is built, this struct gets a version macro, an
 * init function and a table in lib/core/options.c like mcm_scu_options. */
typedef struct mcm_tls_options {
    unsigned int version;
    const char *certificate_file;
    const char *private_key_file;
    const char *ca_file;
    int verify_peer;
} mcm_tls_options;

/* Versions (libgit2's form): a program sets version to the MCM_SCU_OPTIONS_VERSION of the header
 * it was built with (MCM_SCU_OPTIONS_INIT or mcm_scu_options_init() do), and the library reads only
 * the fields of that version, so a struct of an older version keeps working with a newer library.
 * A new version only appends fields, bumps MCM_SCU_OPTIONS_VERSION and adds the size of the new
 * version to the table in lib/core/options.c. Version 1: every field below. */
#define MCM_SCU_OPTIONS_VERSION 1

typedef struct mcm_scu_options {
    unsigned int version;           /* MCM_SCU_OPTIONS_VERSION */
    const char *peer_host;          /* host name or address of the SCP */
    uint16_t peer_port;
    const char *calling_ae_title;   /* ours; default "MCMSCU" */
    const char *called_ae_title;    /* the SCP's; default "MCMSCP" */
    int acse_timeout_seconds;       /* connect, association negotiation and release; 0 = the
                                     * default 30 (DCMTK's connect timeout is process-wide: the
                                     * last mcm_scu_connect() sets it) */
    int dimse_timeout_seconds;      /* waiting for a DIMSE reply; 0 = block forever; default 60.
                                     * On expiry the connection is closed (MCM_ETIMEOUT) and the
                                     * handle can then only be freed */
    uint32_t max_pdu;               /* maximum receive PDU; default 65536 (4096..131072) */
    /* Storage contexts: the SOP classes and transfer syntaxes of these files (read from their
     * meta headers) are proposed, each with explicit and implicit VR little endian too. */
    const char *const *store_files;
    size_t store_file_count;
    /* Extra storage SOP classes to propose with explicit/implicit VR little endian. */
    const char *const *store_sop_classes;
    size_t store_sop_class_count;
    int tcp_tuning;                 /* 1 (default): TCP_NODELAY + TCP_QUICKACK; 0: leave sockets alone */
    const mcm_tls_options *tls;     /* NULL: plain TCP */
    mcm_log_fn log;                 /* NULL: silent */
    void *log_user;
    mcm_log_level log_level;        /* most verbose level passed to log */
} mcm_scu_options;

#define MCM_SCU_OPTIONS_INIT                                                                        \
    { MCM_SCU_OPTIONS_VERSION, NULL, 11112, "MCMSCU", "MCMSCP", 30, 60, 65536, NULL, 0, NULL, 0, 1, \
      NULL, NULL, NULL, MCM_LOG_INFO }

/* Fill the fields of version (pass MCM_SCU_OPTIONS_VERSION) of opts with the defaults, the same as
 * MCM_SCU_OPTIONS_INIT, and set opts->version: nothing past that version's fields is written.
 * MCM_EINVAL (nothing written) for NULL or a version this library does not know (0, or above its
 * MCM_SCU_OPTIONS_VERSION). */
MCM_EXTERN int mcm_scu_options_init(mcm_scu_options *opts, unsigned int version);

typedef struct mcm_scu mcm_scu;

/* What identifies a DICOM file: read from its meta header, or from the data set of a file without
 * one. Strings are "" when absent. */
typedef struct mcm_file_info {
    char sop_class_uid[MCM_UID_MAX + 1];
    char sop_instance_uid[MCM_UID_MAX + 1];
    char transfer_syntax_uid[MCM_UID_MAX + 1];
    char patient_id[65];
    char study_instance_uid[MCM_UID_MAX + 1];
} mcm_file_info;

/* Read what identifies the DICOM file at path into *out (reading no pixel data). MCM_EDICOM if it is
 * not a DICOM file or lacks SOP Class/Instance UID, MCM_ENOTFOUND / MCM_EIO if it cannot be read. */
MCM_EXTERN int mcm_file_info_read(const char *path, mcm_file_info *out);

/* Open an association with the SCP: proposes Verification, Media Creation Management and the
 * storage contexts of the options. MCM_EREJECTED if the peer rejects it (reason in
 * mcm_last_error()), MCM_ENET if it cannot be reached, MCM_ETIMEOUT, MCM_ENOCONTEXT if it accepts
 * none of the proposed contexts, MCM_EDICOM if a store file cannot be read. On success *out must
 * be freed with mcm_scu_free().
 * After any exchange fails locally (timeout, abort, network or protocol error) the association is
 * gone: later calls give MCM_ESTATE and the handle can only be freed. */
MCM_EXTERN int mcm_scu_connect(mcm_scu **out, const mcm_scu_options *opts);

/* 1 if the peer accepted a presentation context for sop_class_uid on this open association (e.g.
 * MCM_SOP_CLASS_UID, to know before storing anything that the peer makes media), else 0 (also
 * for NULL arguments or a closed association). */
MCM_EXTERN int mcm_scu_has_context(const mcm_scu *scu, const char *sop_class_uid);

/* C-ECHO. */
MCM_EXTERN int mcm_scu_echo(mcm_scu *scu, mcm_response *response);

/* C-STORE of the DICOM file at path (Part 10 file, or a bare data set in a known syntax) in
 * the best accepted transfer syntax: as stored if accepted, else converted losslessly to an
 * accepted uncompressed syntax. MCM_ENOCONTEXT if the peer accepted no context for its SOP class,
 * MCM_EDICOM if the file cannot be read. */
MCM_EXTERN int mcm_scu_store_file(mcm_scu *scu, const char *path, mcm_response *response);

/* N-CREATE of a Media Creation Management instance from request (copies and priority are not
 * sent: they belong to Initiate). instance_uid may be NULL to let the SCP assign it. On a
 * success reply, uid_out (65 bytes, may be NULL) receives the instance's UID: the SCP's answer,
 * or instance_uid if the SCP did not echo it (neither: MCM_EPROTOCOL). */
MCM_EXTERN int mcm_scu_create(mcm_scu *scu, const mcm_request *request, const char *instance_uid,
                              char uid_out[MCM_UID_MAX + 1], mcm_response *response);

/* N-ACTION Initiate Media Creation (Action Type ID 1). copies 0 and priority UNSET are omitted
 * from the Action Information; with both omitted no data set is sent. copies < 0 is MCM_EINVAL;
 * any positive value is sent as given (the SCP judges it). */
MCM_EXTERN int mcm_scu_initiate(mcm_scu *scu, const char *instance_uid, int copies, mcm_priority priority,
                                mcm_response *response);

/* N-ACTION Cancel Media Creation (Action Type ID 2). */
MCM_EXTERN int mcm_scu_cancel(mcm_scu *scu, const char *instance_uid, mcm_response *response);

/* Any N-ACTION: action type and Action Information given as a request's attributes (NULL or an
 * empty request: no data set). For tests and peers' private actions. */
MCM_EXTERN int mcm_scu_action(mcm_scu *scu, const char *instance_uid, uint16_t action_type_id,
                              const mcm_request *action_information, mcm_response *response);

/* N-GET. tags/tag_count is the Attribute Identifier List (top-level tags); tag_count 0 sends no
 * list, which asks for every attribute. On a Success or Warning reply *job_out (may be NULL)
 * receives the returned attributes as a job (free with mcm_job_free()); otherwise it is NULL. */
MCM_EXTERN int mcm_scu_get(mcm_scu *scu, const char *instance_uid, const uint32_t *tags, size_t tag_count,
                           mcm_job **job_out, mcm_response *response);

/* The tags mcm_scu_wait() asks for: Specific Character Set, Execution Status, Execution Status
 * Info, Total Number of Pieces, Failed SOP Sequence, Referenced Storage Media Sequence. */
MCM_EXTERN size_t mcm_scu_status_tags(const uint32_t **tags);

/* Called after each poll of mcm_scu_wait() with the job as returned; return non-zero to stop
 * waiting (mcm_scu_wait() then returns MCM_ECANCELED). */
typedef int (*mcm_progress_fn)(const mcm_job *job, unsigned poll, void *user);

/* Versioned as mcm_scu_options is (its table in lib/core/options.c). Version 1: every field below. */
#define MCM_WAIT_OPTIONS_VERSION 1
typedef struct mcm_wait_options {
    unsigned int version;
    unsigned initial_interval_ms;   /* first pause between polls; default 200 */
    unsigned max_interval_ms;       /* the pause doubles up to this; default 5000 */
    unsigned timeout_ms;            /* give up after this; 0 = never; default 0 */
    mcm_progress_fn progress;
    void *progress_user;
} mcm_wait_options;
#define MCM_WAIT_OPTIONS_INIT { MCM_WAIT_OPTIONS_VERSION, 200, 5000, 0, NULL, NULL }

/* Fill the fields of version (pass MCM_WAIT_OPTIONS_VERSION) of opts with the defaults, the same
 * as MCM_WAIT_OPTIONS_INIT, and set opts->version. MCM_EINVAL (nothing written) for NULL or an
 * unknown version. */
MCM_EXTERN int mcm_wait_options_init(mcm_wait_options *opts, unsigned int version);

/* Poll with N-GET (the status tags) until Execution Status is DONE or FAILURE: MCM_OK with the
 * final job in *job_out (may be NULL). A non-success N-GET reply (e.g. 0112 after a cancel or purge
 * elsewhere, digest A19) returns MCM_OK with that reply in response and *job_out NULL: check
 * response->status. MCM_ETIMEOUT after timeout_ms; MCM_EPROTOCOL if a reply lacks a valid Execution
 * Status. opts may be NULL for the defaults. */
MCM_EXTERN int mcm_scu_wait(mcm_scu *scu, const char *instance_uid, const mcm_wait_options *opts,
                            mcm_job **job_out, mcm_response *response);

/* Release the association (A-RELEASE). The handle can then only be freed. */
MCM_EXTERN int mcm_scu_release(mcm_scu *scu);
/* Abort the association (A-ABORT). The handle can then only be freed. */
MCM_EXTERN int mcm_scu_abort(mcm_scu *scu);
/* Free the handle; an association still open is released first. NULL is ignored. */
MCM_EXTERN void mcm_scu_free(mcm_scu *scu);

#ifdef __cplusplus
}
#endif

#endif
