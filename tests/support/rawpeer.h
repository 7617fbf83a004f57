/*
 * tests/support/rawpeer.h: peers that are not our SCU, for testing the SCP (tests/support/rawpeer.cc).
 *
 * mcm_rawpeer is written with DCMTK's raw ASC_/DIMSE_ API the way another vendor's MCM SCU might
 * be: it can propose implicit VR little endian only, send an N-CREATE with nothing but the
 * Referenced SOP Sequence, an Initiate without a data set, an N-GET without an Attribute Identifier
 * List, requests the SCP does not provide (N-SET, N-DELETE), and it can abort or simply drop the
 * TCP connection, also in the middle of a data set.
 *
 * mcm_test_nagle_client is a DcmSCU with no transport layer of ours (Nagle left on, as Debian's
 * DCMTK does unless TCP_NODELAY is in the environment) that times C-ECHO and N-GET round trips.
 */
#ifndef MCM_TESTS_RAWPEER_H
#define MCM_TESTS_RAWPEER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mcm_rawpeer mcm_rawpeer;

/* What mcm_rawpeer_connect() proposes. */
typedef struct mcm_rawpeer_options {
    uint16_t port;                 /* on 127.0.0.1 */
    const char *calling_ae_title;  /* NULL: "RAWPEER" */
    const char *called_ae_title;   /* NULL: "MCMSCP" */
    int implicit_only;             /* 1: every context proposes implicit VR little endian alone */
    const char *storage_sop_class; /* NULL: none; else one storage context for this class */
    const char *extra_sop_class;   /* NULL: none; else one more context (e.g. an unknown class) */
} mcm_rawpeer_options;

/* The A-ASSOCIATE-RJ fields when a connect was rejected (all 0 otherwise). */
typedef struct mcm_rawpeer_rejection {
    int result; /* 1 permanent, 2 transient */
    int source; /* 1 service user, 2 provider ACSE, 3 provider presentation */
    int reason; /* as T_ASC_RejectParametersReason, e.g. 0x0103 calling AE not recognised */
} mcm_rawpeer_rejection;

/* Connect and negotiate. Returns 0 on acceptance; 1 on rejection (filled in *rejection, may be
 * NULL); -1 on any other failure (message in *error, 256 bytes, may be NULL). */
int mcm_rawpeer_connect(mcm_rawpeer **out, const mcm_rawpeer_options *opts, mcm_rawpeer_rejection *rejection,
                        char *error);
/* The transfer syntax the SCP accepted for the MCM context ("" if none). */
const char *mcm_rawpeer_mcm_syntax(const mcm_rawpeer *peer);
/* Number of accepted presentation contexts. */
int mcm_rawpeer_accepted_count(const mcm_rawpeer *peer);

/* A reply as a raw peer sees it. */
typedef struct mcm_rawpeer_reply {
    uint16_t status;
    char affected_sop_instance_uid[65]; /* "" if absent */
    int has_action_type_id;
    uint16_t action_type_id;
    char error_comment[65]; /* "" if absent */
    int detail_count;       /* status detail elements received */
    int has_data_set;
    int data_set_count;             /* top-level elements of the returned data set */
    char execution_status[17];      /* (2100,0020) in the data set, "" if absent */
    char execution_status_info[65]; /* (2100,0030) in the data set, "" if absent */
} mcm_rawpeer_reply;

/* Each returns 0 when a reply came back (in *reply), -1 otherwise (the association is then dead). */
int mcm_rawpeer_echo(mcm_rawpeer *peer, mcm_rawpeer_reply *reply);
/* N-CREATE whose data set holds only the Referenced SOP Sequence with one item (SOP Class UID,
 * SOP Instance UID): no Affected SOP Instance UID, no optional attribute at all. */
int mcm_rawpeer_create_minimal(mcm_rawpeer *peer, const char *sop_class_uid, const char *sop_instance_uid,
                               mcm_rawpeer_reply *reply);
/* The same, with requested_uid (may be NULL, sent as it is even if malformed) as Affected SOP
 * Instance UID and one extra top-level attribute (extra_tag 0: none; its VR from the dictionary). */
int mcm_rawpeer_create(mcm_rawpeer *peer, const char *sop_class_uid, const char *sop_instance_uid,
                       const char *requested_uid, uint32_t extra_tag, const char *extra_value,
                       mcm_rawpeer_reply *reply);
/* N-ACTION of type action_type_id on uid without a data set. */
int mcm_rawpeer_action(mcm_rawpeer *peer, const char *uid, uint16_t action_type_id, mcm_rawpeer_reply *reply);
/* N-GET of uid with no Attribute Identifier List. */
int mcm_rawpeer_get_all(mcm_rawpeer *peer, const char *uid, mcm_rawpeer_reply *reply);
/* N-SET of uid with a small modification list; N-DELETE of uid. */
int mcm_rawpeer_set(mcm_rawpeer *peer, const char *uid, mcm_rawpeer_reply *reply);
/* N-EVENT-REPORT about uid (event type 1, a small data set) and C-FIND (a one-attribute
 * identifier), both on the Media Creation Management context: services the class does not have. */
int mcm_rawpeer_event_report(mcm_rawpeer *peer, const char *uid, mcm_rawpeer_reply *reply);
int mcm_rawpeer_find(mcm_rawpeer *peer, mcm_rawpeer_reply *reply);
int mcm_rawpeer_delete(mcm_rawpeer *peer, const char *uid, mcm_rawpeer_reply *reply);
/* Requests on a context whose SOP class is wrong for them: C-ECHO on the MCM context (into
 * *echo_reply), N-GET of uid on the Verification context (into *get_reply). 0 if both replied. */
int mcm_rawpeer_wrong_contexts(mcm_rawpeer *peer, const char *uid, mcm_rawpeer_reply *echo_reply,
                               mcm_rawpeer_reply *get_reply);
/* C-STORE of the Part 10 file at path on the storage context (as stored, it must match the
 * accepted syntax; the generator writes explicit VR little endian, which the peer converts). */
int mcm_rawpeer_store(mcm_rawpeer *peer, const char *path, mcm_rawpeer_reply *reply);
/* Send an N-CREATE whose data set is large (a long Label Text) and cut the TCP connection once
 * the first data PDV has left: the SCP sees half a data set and then nothing. The peer is dead
 * afterwards (free it). */
int mcm_rawpeer_drop_mid_dataset(mcm_rawpeer *peer);
/* Write n bytes as they are (a broken PDU) on the association's connection, then shut the
 * connection down (close_after 1: the SCP sees it closed) or leave it open and silent (0). The
 * peer is dead afterwards (free it). */
int mcm_rawpeer_send_raw(mcm_rawpeer *peer, const void *bytes, size_t n, int close_after);
/* A-ABORT; drop the TCP connection without any PDU; A-RELEASE. The peer can only be freed after. */
int mcm_rawpeer_abort(mcm_rawpeer *peer);
int mcm_rawpeer_drop(mcm_rawpeer *peer);
int mcm_rawpeer_release(mcm_rawpeer *peer);
void mcm_rawpeer_free(mcm_rawpeer *peer);

/* Connect to 127.0.0.1:port with no bytes ever sent, then close after hold_ms. */
int mcm_rawpeer_silent_connection(uint16_t port, int hold_ms);

/* A DcmSCU (Nagle on: no transport layer of ours, TCP_NODELAY unset in the environment by the
 * caller) that creates one job, then times rounds C-ECHO and rounds N-GET round trips on one
 * association. Medians in milliseconds. Returns 0, or -1 with a message in error (256 bytes). */
int mcm_test_nagle_client(uint16_t port, const char *called_ae_title, const char *sop_class_uid,
                          const char *sop_instance_uid, int rounds, double *echo_median_ms, double *get_median_ms,
                          char *error);

#ifdef __cplusplus
}
#endif

#endif
