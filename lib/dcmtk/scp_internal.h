/*
 * lib/dcmtk/scp_internal.h: what the files of the SCP on the network share (C++ only, private).
 *
 * The SCP on the network owns the listening socket, the accept loop, one thread per association,
 * association negotiation (admission, limits, presentation contexts) and the DIMSE exchange: it
 * decodes each request into C data (lib/dcmtk/dataset.h), calls lib/scp/service.h and encodes the
 * reply it gets (status, status detail fields, data set) exactly. It decides no behaviour of the
 * service class itself: validation, authorisation, job state, the store and the media workers all
 * live behind lib/scp/service.h. Written with DCMTK's raw ASC_/DIMSE_ API rather than
 * DcmSCP/DcmSCPPool because we need our own accept loop (bind address, port 0, a prompt
 * async-signal-safe stop), the association itself, and replies byte for byte as the digest
 * (sections 7 and 8) says.
 *
 * Split by job, as DCMTK splits its own SCP (dcmnet/libsrc/scp.cc, scpthrd.cc, scppool.cc):
 *   scp.cc           the public functions (mcm_scp_new/port/run/stop/get_job/free), the object's
 *                    creation and destruction;
 *   scp_accept.cc    the listening socket, the accept loop, one thread per connection, the stop and
 *                    its grace period, the stop-aware transport;
 *   scp_negotiate.cc admission and presentation contexts of one association request;
 *   scp_session.cc   one association: receive, dispatch to lib/scp/service.h, the end;
 *   scp_reply.cc     encoding and sending the replies (status detail, Annex C fields, data sets).
 * Calls go down that list, never up (scp.cc -> scp_accept.cc -> scp_negotiate.cc, scp_session.cc
 * -> scp_reply.cc); DCMTK failures are classified by lib/dcmtk/conditions.h.
 *
 * Threads: mcm_scp_run() runs the accept loop on the caller's thread; each incoming connection
 * gets a thread (at most max_associations serve, a few more may exist briefly to reject).
 * mcm_scp.lock guards the connection list and the count of active associations; everything else
 * a connection touches belongs to its own thread. DCMTK's network key is shared read-only
 * (dcmtk-notes section 5), and only one thread at a time is ever inside accept(): the loop waits
 * for the thread it started to report its accept before it polls the listening socket again.
 */
#ifndef MCM_LIB_DCMTK_SCP_INTERNAL_H
#define MCM_LIB_DCMTK_SCP_INTERNAL_H

#include "dcmtk/transport.h"
#include "scp/service.h"

#include "dcmmcm/scp.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

struct mcm_scp;

/* One incoming TCP connection and the thread that serves it. */
struct mcm_scp_connection {
    explicit mcm_scp_connection(mcm_scp *owner) : scp(owner)
    {
    }
    mcm_scp *scp;
    std::thread thread;
    std::atomic<bool> accept_reported{false}; /* accept() is over (or never happened) */
    std::atomic<bool> finished{false};        /* the thread is about to return: join it */
    std::atomic<bool> in_request{false};      /* a request is being served: a stop waits for it */
};

/* The SCP's transport layer (scp_accept.cc): the shared McmTransportLayer, plus close-on-exec on
 * every accepted socket (tests and applications run child processes; an inherited socket would
 * keep a connection open after we close it), the accept report the accept loop waits for, and a
 * connection wrapper whose waits for data also watch the stop pipe. */
class ScpTransportLayer : public McmTransportLayer
{
  public:
    explicit ScpTransportLayer(bool tune) : McmTransportLayer(tune)
    {
    }
    DcmTransportConnection *createConnection(DcmNativeSocketType socket, OFBool useSecureLayer) override;
};

struct mcm_scp {
    mcm_service *service = nullptr;
    T_ASC_Network *network = nullptr;
    ScpTransportLayer *layer = nullptr;
    int listen_fd = -1; /* the descriptor DCMTK's network key holds; DCMTK closes it */
    uint16_t port = 0;
    int stop_pipe[2] = {-1, -1}; /* written once by mcm_scp_stop(), never drained */
    int wake_pipe[2] = {-1, -1}; /* connection threads tell the accept loop they accepted/ended */
    std::atomic<int> stop_requested{0};
    std::atomic<int> force_interrupt{0}; /* the stop grace period is over */
    std::atomic<int> ran{0};

    std::mutex lock; /* guards connections and active_associations */
    std::list<std::unique_ptr<mcm_scp_connection>> connections;
    unsigned active_associations = 0;

    unsigned max_associations = 16;
    int acse_timeout = 30;
    int dimse_timeout = 300;
    uint32_t max_pdu = 65536;
    bool annex_c_details = false;
};

static_assert(std::atomic<int>::is_always_lock_free, "mcm_scp_stop() must be async-signal-safe");

/* ---- scp_accept.cc ---------------------------------------------------------------------------- */

/* Replace the socket DCMTK listens on by ours, bound to opts' address and port; sets scp->port. */
int mcm_scp_bind_listener(mcm_scp *scp, const mcm_scp_options *opts);
/* mcm_scp_run(): start the service, accept and serve until a stop, then wind down. */
int mcm_scp_serve(mcm_scp *scp);
/* mcm_scp_stop(): async-signal-safe (a lock-free atomic store and one write() to a pipe). */
void mcm_scp_request_stop(mcm_scp *scp);
/* Join every connection thread (all: also those still running, after a stop). */
void mcm_scp_join_connections(mcm_scp *scp, bool all);

/* ---- scp_negotiate.cc ------------------------------------------------------------------------- */

/* Admission and presentation contexts of a received association request, then the A-ASSOCIATE-AC
 * or -RJ. Returns true if the association was acknowledged; *counted tells whether it holds one of
 * the max_associations slots (the caller gives it back). */
bool mcm_scp_negotiate(mcm_scp *scp, T_ASC_Association *assoc, const char *calling, const char *called, bool *counted);

/* ---- scp_session.cc --------------------------------------------------------------------------- */

/* Serve requests on an acknowledged association until release, abort, timeout or stop. The
 * association is left for the caller to drop and destroy. */
void mcm_scp_serve_association(mcm_scp *scp, mcm_scp_connection *connection, T_ASC_Association *assoc,
                               const char *calling);

/* ---- scp_reply.cc ----------------------------------------------------------------------------- */

/* A local failure inside the service call (not a DIMSE outcome) becomes 0110 Processing failure,
 * unless the service already chose a failure status. */
void mcm_scp_settle_local_failure(int rc, mcm_response &rsp, mcm_operation op);
/* The status detail elements (Error Comment, Error ID, Offending Element, Attribute Identifier
 * List) of a reply with rsp to an op request, as annex_c_only allows; NULL when there are none.
 * The caller deletes it (DIMSE moves the elements into the command set but not the data set). */
DcmDataset *mcm_scp_reply_detail(const mcm_response &rsp, mcm_operation op, bool annex_c_only);
/* Send reply (with data, may be NULL) and detail (may be NULL, deleted here). */
OFCondition mcm_scp_send_reply(T_ASC_Association *assoc, T_ASC_PresentationContextID pc, T_DIMSE_Message &reply,
                               DcmDataset *data, DcmDataset *detail);

OFCondition mcm_scp_reply_echo(T_ASC_Association *assoc, T_ASC_PresentationContextID pc, T_DIMSE_C_EchoRQ &rq,
                               const mcm_response &rsp, bool annex_c_only);
/* A C-STORE refused before its data set was read (the data set is drained already). */
OFCondition mcm_scp_reply_store_refusal(T_ASC_Association *assoc, T_ASC_PresentationContextID pc, T_DIMSE_C_StoreRQ &rq,
                                        const mcm_response &rsp, bool annex_c_only);
/* uid: the instance created (success); requested_uid: the one the SCU asked for (NULL: none);
 * created: the new job (NULL unless success), whose Execution Status and Info go back. */
OFCondition mcm_scp_reply_create(T_ASC_Association *assoc, T_ASC_PresentationContextID pc, const T_DIMSE_N_CreateRQ &rq,
                                 const mcm_response &rsp, const char *requested_uid, const char *uid,
                                 const mcm_job *created, bool annex_c_only);
OFCondition mcm_scp_reply_action(T_ASC_Association *assoc, T_ASC_PresentationContextID pc, const T_DIMSE_N_ActionRQ &rq,
                                 const mcm_response &rsp, bool annex_c_only);
/* job and selected (the attributes asked for, NULL/0: all) are the service's answer; rsp becomes
 * 0110 if the job cannot be encoded. */
OFCondition mcm_scp_reply_get(T_ASC_Association *assoc, T_ASC_PresentationContextID pc, const T_DIMSE_N_GetRQ &rq,
                              mcm_response &rsp, const mcm_job *job, const uint32_t *selected, size_t selected_count,
                              bool annex_c_only);
/* The 0211 reply to a request of a service we do not provide (N-SET, N-DELETE, N-EVENT-REPORT,
 * C-FIND, C-GET, C-MOVE): fills reply (no status detail yet), *incoming (the data set type of the
 * request, to drain), *name and *uid (for the log). false for any other command. */
bool mcm_scp_unprovided_reply(const T_DIMSE_Message &request, T_DIMSE_Message &reply, T_DIMSE_DataSetType *incoming,
                              const char **name, const char **uid);

#endif
