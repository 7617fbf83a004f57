/*
 * tests/support/testpeer.h: a small Media Creation Management peer for the SCU suites, written with
 * DCMTK's raw ASC_/DIMSE_ API (tests/support/testpeer.cc): a real DICOM acceptor on 127.0.0.1 running in
 * a thread. It answers C-ECHO, and answers each N-CREATE, N-ACTION and N-GET with the next reply
 * the test queued (status, every status detail field, a data set), recording what it received.
 * Where a test asks, it breaks the protocol instead (mcm_test_misbehaviour).
 * It is not the library's SCP (that is lib/dcmtk/scp*.cc); it exists so that every reply field can
 * be produced on demand.
 */
#ifndef MCM_TESTS_TESTPEER_H
#define MCM_TESTS_TESTPEER_H

#include "dcmmcm.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How the peer breaks the protocol where a test asks it to (instead of an A-ASSOCIATE-AC, an
 * A-RELEASE-RP or a reply): each provokes one DCMTK failure condition in the SCU
 * (tests/dcmtk/suite_conditions.c). */
typedef enum mcm_test_misbehaviour {
    MCM_TEST_BEHAVE = 0,     /* what the protocol says */
    MCM_TEST_ABORT,          /* an A-ABORT instead */
    MCM_TEST_CLOSE,          /* close the connection (FIN) between PDUs instead */
    MCM_TEST_SILENT,         /* send nothing; keep the connection until the SCU closes it */
    MCM_TEST_RELEASE,        /* an A-RELEASE-RQ of its own instead (replies only) */
    MCM_TEST_HALF_PDU,       /* a P-DATA-TF header and 4 of the 100 bytes it announces, then close */
    MCM_TEST_PARTIAL_HEADER, /* 3 of the 6 bytes of a PDU header, then nothing (kept open) */
    MCM_TEST_UNKNOWN_PDU,    /* a PDU of type 55H, which PS3.8 9.3 does not define (kept open) */
    MCM_TEST_OVERLONG_PDU    /* a P-DATA-TF header announcing 2 GiB, beyond any maximum PDU length */
} mcm_test_misbehaviour;

typedef struct mcm_test_peer_options {
    const char *ae_title; /* called AE title accepted; NULL accepts any */
    int reject;           /* 1: reject every association (permanent, service user, no reason) */
    int accept_mcm;       /* 1: accept the MCM context (default in init) */
    int implicit_only;    /* 1: accept only implicit VR little endian */
    int tcp_tuning;       /* 1: our transport layer (NODELAY + QUICKACK); 0: DCMTK's plain TCP */
    int on_associate;     /* mcm_test_misbehaviour instead of accepting (BEHAVE, ABORT, CLOSE, SILENT) */
    int on_release;       /* mcm_test_misbehaviour instead of the A-RELEASE-RP (BEHAVE, ABORT, CLOSE, SILENT) */
} mcm_test_peer_options;

/* accept_mcm 1, everything else 0 / NULL. */
void mcm_test_peer_options_init(mcm_test_peer_options *options);

/* One queued reply to an N-CREATE, N-ACTION or N-GET. Pointers are borrowed until the reply has
 * been sent (the test keeps them alive until mcm_test_peer_stop). */
typedef struct mcm_test_reply {
    uint16_t status;
    const char *error_comment; /* Error Comment (0000,0902), NULL: none */
    int has_error_id;
    uint16_t error_id;         /* Error ID (0000,0903) */
    const uint32_t *offending; /* Offending Element (0000,0901) */
    size_t offending_count;
    const uint32_t *attribute_identifiers; /* Attribute Identifier List (0000,1005) */
    size_t attribute_identifier_count;
    int has_action_type_id; /* N-ACTION-RSP Action Type ID (0000,1008) */
    uint16_t action_type_id;
    const char *affected_sop_instance_uid; /* Affected SOP Instance UID, NULL: none */
    const mcm_job *data;                   /* reply data set: the job's attributes (N-GET: those
                                            * asked for), NULL: none */
    int delay_ms;                          /* wait before answering */
    int abort_instead;                     /* 1: send A-ABORT instead of a reply */
    int instead;                           /* mcm_test_misbehaviour instead of the reply */
} mcm_test_reply;

/* What the peer received: one entry per DIMSE request. */
typedef struct mcm_test_received {
    char command[16]; /* "C-ECHO-RQ", "N-CREATE-RQ", "N-ACTION-RQ", "N-GET-RQ" */
    int association;  /* 1 for the first association, 2 for the next ... */
    uint16_t message_id;
    char sop_class_uid[65];    /* Affected / Requested SOP Class UID */
    char sop_instance_uid[65]; /* Affected / Requested SOP Instance UID, "" if none */
    char transfer_syntax[65];  /* of the presentation context used */
    uint16_t action_type_id;
    size_t attribute_count; /* N-GET Attribute Identifier List */
    uint32_t attributes[64];
    int has_data_set;
    const mcm_request *data; /* the data set decoded (owned by the peer), or NULL */
    double at_ms;            /* mcm_test_now_ms() when the command arrived */
} mcm_test_received;

typedef struct mcm_test_peer mcm_test_peer;

/* Listen on a free port of 127.0.0.1 (bound before this returns) and serve in a thread. */
mcm_test_peer *mcm_test_peer_start(const mcm_test_peer_options *options);
uint16_t mcm_test_peer_port(const mcm_test_peer *peer);
/* Queue a reply (copied, but not what its pointers point to). Replies are used in order; when
 * the queue is empty, the last one is used again (a Success with no detail if none was queued). */
void mcm_test_peer_push_reply(mcm_test_peer *peer, const mcm_test_reply *reply);
/* Requests received so far; mcm_test_peer_received copies entry index (0-based). */
size_t mcm_test_peer_received_count(mcm_test_peer *peer);
int mcm_test_peer_received(mcm_test_peer *peer, size_t index, mcm_test_received *out);
/* Presentation contexts proposed in the most recent association, one "abstract: ts ts" string
 * each, in proposal order; returns how many (copied into lines, at most max, each 512 bytes). */
size_t mcm_test_peer_proposed(mcm_test_peer *peer, char (*lines)[512], size_t max);
/* Number of associations accepted and ended (released, aborted or lost). */
int mcm_test_peer_associations_done(mcm_test_peer *peer);
/* Stop serving, join the thread, free everything. */
void mcm_test_peer_stop(mcm_test_peer *peer);

#ifdef __cplusplus
}
#endif

#endif
