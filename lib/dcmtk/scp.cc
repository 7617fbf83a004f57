/*
 * lib/dcmtk/scp.cc: the SCP on the network: mcm_scp_new/port/run/stop/get_job/free.
 *
 * Owns the listening socket, the accept loop, one thread per association, association
 * negotiation (admission, limits, presentation contexts) and the DIMSE exchange: it decodes each
 * request into C data (lib/dcmtk/dataset.h), calls lib/scp/service.h and encodes the reply it gets
 * (status, status detail fields, data set) exactly. It decides no behaviour of the service class
 * itself: validation, authorisation, job state, the store and the media workers all live behind
 * lib/scp/service.h. Written with DCMTK's raw ASC_/DIMSE_ API rather than DcmSCP/DcmSCPPool because we
 * need our own accept loop (bind address, port 0, a prompt async-signal-safe stop), the
 * association itself, and replies byte for byte as the digest (sections 7 and 8) says.
 *
 * Threads: mcm_scp_run() runs the accept loop on the caller's thread; each incoming connection
 * gets a thread (at most max_associations serve, a few more may exist briefly to reject).
 * mcm_scp.lock guards the connection list and the count of active associations; everything else
 * a connection touches belongs to its own thread. DCMTK's network key is shared read-only
 * (dcmtk-notes section 5), and only one thread at a time is ever inside accept(): the loop waits
 * for the thread it started to report its accept before it polls the listening socket again.
 */
#include "dcmtk/dataset.h"
#include "dcmtk/transport.h"
#include "core/error.h"
#include "core/options.h"
#include "scp/service.h"
#include "core/status_internal.h"

#include "dcmmcm/scp.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrat.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/dulstruc.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>

namespace
{

/* Connection threads allowed beyond max_associations: they only read the A-ASSOCIATE-RQ and
 * reject it (transient, local limit exceeded), so a full SCP still answers politely. */
constexpr unsigned kExtraConnections = 4;
/* After mcm_scp_stop(), requests in flight get this long to finish before every read is cut. */
constexpr int kStopGraceMilliseconds = 10000;
/* Waiting for the peer to close after a release, reject or abort. */
constexpr int kDropTimeoutSeconds = 1;

/* Transfer syntaxes, our preference first (explicit VR little endian), so that a peer proposing
 * several gets explicit LE and a peer proposing implicit VR only still gets a context. */
const char *const kPlainSyntaxes[] = {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
                                      UID_BigEndianExplicitTransferSyntax,
                                      UID_DeflatedExplicitVRLittleEndianTransferSyntax};
const char *const kVerificationSyntaxes[] = {UID_LittleEndianExplicitTransferSyntax,
                                             UID_LittleEndianImplicitTransferSyntax,
                                             UID_BigEndianExplicitTransferSyntax};
/* Storage: instances are stored as received (bit-preserving), so the common compressed syntaxes
 * are accepted too when that is all a peer proposes for a context. */
const char *const kStorageSyntaxes[] = {UID_LittleEndianExplicitTransferSyntax,
                                        UID_LittleEndianImplicitTransferSyntax,
                                        UID_BigEndianExplicitTransferSyntax,
                                        UID_DeflatedExplicitVRLittleEndianTransferSyntax,
                                        UID_JPEGProcess1TransferSyntax,
                                        UID_JPEGProcess2_4TransferSyntax,
                                        UID_JPEGProcess14SV1TransferSyntax,
                                        UID_JPEGProcess14TransferSyntax,
                                        UID_JPEGLSLosslessTransferSyntax,
                                        UID_JPEGLSLossyTransferSyntax,
                                        UID_JPEG2000LosslessOnlyTransferSyntax,
                                        UID_JPEG2000TransferSyntax,
                                        UID_RLELosslessTransferSyntax,
                                        UID_MPEG2MainProfileAtMainLevelTransferSyntax,
                                        UID_MPEG2MainProfileAtHighLevelTransferSyntax,
                                        UID_MPEG4HighProfileLevel4_1TransferSyntax,
                                        UID_MPEG4BDcompatibleHighProfileLevel4_1TransferSyntax,
                                        UID_HEVCMainProfileLevel5_1TransferSyntax,
                                        UID_HEVCMain10ProfileLevel5_1TransferSyntax};

template <typename T, size_t N> constexpr int count_of(T (&)[N])
{
    return static_cast<int>(N);
}

struct Connection;

/* The connection whose thread is running: lets the transport layer, which DCMTK calls from inside
 * ASC_receiveAssociation(), find the connection it creates a transport for. */
thread_local Connection *current_connection = nullptr;

void write_byte(int fd)
{
    char byte = 1;
    ssize_t n;
    do {
        n = write(fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    /* EAGAIN: the pipe is full, so it is readable already; nothing else to do. */
}

void drain(int fd)
{
    char buffer[256];
    while (read(fd, buffer, sizeof buffer) > 0) {
    }
}

int64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

} // namespace

struct mcm_scp;

namespace
{

/* One incoming TCP connection and the thread that serves it. */
struct Connection {
    explicit Connection(mcm_scp *owner) : scp(owner)
    {
    }
    mcm_scp *scp;
    std::thread thread;
    std::atomic<bool> accept_reported{false}; /* accept() is over (or never happened) */
    std::atomic<bool> finished{false};        /* the thread is about to return: join it */
    std::atomic<bool> in_request{false};      /* a request is being served: a stop waits for it */
};

/* The transport connection DCMTK reads through: the layer's own connection (TCP_NODELAY and
 * TCP_QUICKACK, lib/dcmtk/transport.h) wrapped so that every wait for data also watches the SCP's
 * stop pipe. DUL only reads after networkDataAvailable() says so (we use non-blocking DUL/DIMSE
 * modes everywhere), so answering "no data" once a stop is due ends any wait at once: a peer that
 * connected and never spoke, or an idle association, cannot hold mcm_scp_run() up. A request in
 * flight is not cut unless it outlives the stop grace period. */
class StopAwareConnection : public DcmTransportConnection
{
  public:
    StopAwareConnection(DcmTransportConnection *inner, int socket_fd, Connection *connection)
        : DcmTransportConnection(-1), inner_(inner), socket_fd_(socket_fd), connection_(connection)
    {
    }
    ~StopAwareConnection() override
    {
        delete inner_;
    }
    OFCondition serverSideHandshake() override
    {
        return inner_->serverSideHandshake();
    }
    OFCondition clientSideHandshake() override
    {
        return inner_->clientSideHandshake();
    }
    OFCondition renegotiate(const char *suite) override
    {
        return inner_->renegotiate(suite);
    }
    ssize_t read(void *buffer, size_t length) override
    {
        return inner_->read(buffer, length);
    }
    ssize_t write(void *buffer, size_t length) override
    {
        return inner_->write(buffer, length);
    }
    void close() override
    {
        socket_fd_ = -1;
        inner_->close();
    }
    void closeTransportConnection() override
    {
        inner_->closeTransportConnection();
    }
    unsigned long getPeerCertificateLength() override
    {
        return inner_->getPeerCertificateLength();
    }
    unsigned long getPeerCertificate(void *buffer, unsigned long length) override
    {
        return inner_->getPeerCertificate(buffer, length);
    }
    OFBool isTransparentConnection() override
    {
        return inner_->isTransparentConnection();
    }
    OFString &dumpConnectionParameters(OFString &text) override
    {
        return inner_->dumpConnectionParameters(text);
    }
    OFBool networkDataAvailable(int timeout) override;

  private:
    DcmTransportConnection *inner_;
    int socket_fd_;
    Connection *connection_;
};

/* The SCP's transport layer: the shared McmTransportLayer, plus close-on-exec on every accepted
 * socket (tests and applications run child processes; an inherited socket would keep a connection
 * open after we close it), the accept report the accept loop waits for, and the stop-aware
 * wrapper above. */
class ScpTransportLayer : public McmTransportLayer
{
  public:
    explicit ScpTransportLayer(bool tune) : McmTransportLayer(tune)
    {
    }
    DcmTransportConnection *createConnection(DcmNativeSocketType socket, OFBool useSecureLayer) override;
};

} // namespace

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
    std::list<std::unique_ptr<Connection>> connections;
    unsigned active_associations = 0;

    unsigned max_associations = 16;
    int acse_timeout = 30;
    int dimse_timeout = 300;
    uint32_t max_pdu = 65536;
    bool annex_c_details = false;
};

static_assert(std::atomic<int>::is_always_lock_free, "mcm_scp_stop() must be async-signal-safe");

namespace
{

OFBool StopAwareConnection::networkDataAvailable(int timeout)
{
    mcm_scp *scp = connection_->scp;
    if (socket_fd_ < 0)
        return inner_->networkDataAvailable(timeout);
    int64_t deadline = now_ms() + (timeout > 0 ? static_cast<int64_t>(timeout) * 1000 : 0);
    for (;;) {
        bool stopping = scp->stop_requested.load() != 0;
        if (stopping && (!connection_->in_request.load() || scp->force_interrupt.load() != 0))
            return OFFalse;
        struct pollfd fds[2];
        fds[0].fd = socket_fd_;
        fds[0].events = POLLIN;
        fds[0].revents = 0;
        fds[1].fd = scp->stop_pipe[0];
        fds[1].events = POLLIN;
        fds[1].revents = 0;
        int64_t left = deadline - now_ms();
        if (left < 0)
            left = 0;
        /* Once stopping, the stop pipe stays readable: poll the socket alone, in slices, so that the
         * end of the grace period is noticed. */
        int slice = stopping ? static_cast<int>(left < 100 ? left : 100) : static_cast<int>(left);
        int n = poll(fds, stopping ? 1 : 2, slice);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return OFFalse;
        }
        if (fds[0].revents != 0)
            return inner_->networkDataAvailable(0);
        if (n == 0 && now_ms() >= deadline)
            return OFFalse;
    }
}

DcmTransportConnection *ScpTransportLayer::createConnection(DcmNativeSocketType socket, OFBool useSecureLayer)
{
    Connection *connection = current_connection;
    int flags = fcntl(socket, F_GETFD);
    if (flags >= 0)
        (void)fcntl(socket, F_SETFD, flags | FD_CLOEXEC);
    DcmTransportConnection *inner = McmTransportLayer::createConnection(socket, useSecureLayer);
    if (connection == nullptr || inner == nullptr)
        return inner;
    if (!connection->accept_reported.exchange(true))
        write_byte(connection->scp->wake_pipe[1]);
    DcmTransportConnection *wrapped = new (std::nothrow) StopAwareConnection(inner, socket, connection);
    if (wrapped == nullptr) {
        delete inner;
        return nullptr;
    }
    return wrapped;
}

/* ---- Encoding replies ---------------------------------------------------------------------- */

/* Which optional fields a reply carries (PS3.7 Annex C, digest 7.5 and 8.4). */
struct ReplyFields {
    bool error_comment = false;
    bool error_id = false;
    bool offending_element = false;
    bool attribute_list = false;
    bool action_type_id = false;
    bool affected_class = false;
    bool affected_instance = false;
};

/* The fields PS3.7 Annex C lists for status (lib/core/status_internal.h); the Action Type ID only in
 * an N-ACTION reply. */
ReplyFields annex_c_fields(uint16_t status, mcm_operation op)
{
    unsigned mask = mcm_status_annex_c_fields(status);
    ReplyFields f;
    f.error_comment = (mask & MCM_FIELD_ERROR_COMMENT) != 0;
    f.error_id = (mask & MCM_FIELD_ERROR_ID) != 0;
    f.offending_element = (mask & MCM_FIELD_OFFENDING_ELEMENT) != 0;
    f.attribute_list = (mask & MCM_FIELD_ATTRIBUTE_IDENTIFIER_LIST) != 0;
    f.action_type_id = (mask & MCM_FIELD_ACTION_TYPE_ID) != 0 && op == MCM_OP_N_ACTION;
    f.affected_class = (mask & MCM_FIELD_AFFECTED_SOP_CLASS_UID) != 0;
    f.affected_instance = (mask & MCM_FIELD_AFFECTED_SOP_INSTANCE_UID) != 0;
    return f;
}

/* The fields to send: Annex C's alone in strict mode; otherwise also every detail the service put
 * in the response (Error Comment and Offending Element on every failure, digest A18). */
ReplyFields reply_fields(const mcm_response &rsp, mcm_operation op, bool annex_c_only)
{
    ReplyFields f = annex_c_fields(rsp.status, op);
    if (annex_c_only)
        return f;
    f.error_comment = f.error_comment || rsp.error_comment[0] != '\0';
    f.error_id = f.error_id || rsp.has_error_id;
    f.offending_element = f.offending_element || rsp.offending_element_count > 0;
    f.attribute_list = f.attribute_list || rsp.attribute_identifier_count > 0;
    f.action_type_id = f.action_type_id || rsp.has_action_type_id;
    f.affected_class = true; /* U(=) in every N-service response */
    f.affected_instance = f.affected_instance || rsp.affected_sop_instance_uid[0] != '\0';
    return f;
}

OFCondition put_tags(DcmDataset &detail, const DcmTagKey &key, const uint32_t *tags, size_t count)
{
    DcmAttributeTag *element = new (std::nothrow) DcmAttributeTag(DcmTag(key, EVR_AT));
    if (element == nullptr)
        return EC_MemoryExhausted;
    for (size_t i = 0; i < count; i++) {
        OFCondition c =
            element->putTagVal(DcmTagKey(static_cast<Uint16>(tags[i] >> 16), static_cast<Uint16>(tags[i] & 0xFFFF)),
                               static_cast<unsigned long>(i));
        if (c.bad()) {
            delete element;
            return c;
        }
    }
    OFCondition c = detail.insert(element, OFTrue);
    if (c.bad())
        delete element;
    return c;
}

/* The status detail elements of a reply (they travel in the command set, dcmtk-notes section 2):
 * Error Comment, Error ID, Offending Element, Attribute Identifier List. NULL when there are none.
 * The Affected SOP UIDs and the Action Type ID go through the message structure instead. */
DcmDataset *status_detail(const mcm_response &rsp, const ReplyFields &f)
{
    std::unique_ptr<DcmDataset> detail(new (std::nothrow) DcmDataset());
    if (!detail)
        return nullptr;
    if (f.error_comment && rsp.error_comment[0] != '\0')
        (void)detail->putAndInsertString(DCM_ErrorComment, rsp.error_comment);
    if (f.error_id && rsp.has_error_id)
        (void)detail->putAndInsertUint16(DCM_ErrorID, rsp.error_id);
    if (f.offending_element && rsp.offending_element_count > 0)
        (void)put_tags(*detail, DCM_OffendingElement, rsp.offending_elements, rsp.offending_element_count);
    if (f.attribute_list && rsp.attribute_identifier_count > 0)
        (void)put_tags(*detail, DCM_AttributeIdentifierList, rsp.attribute_identifiers, rsp.attribute_identifier_count);
    if (detail->card() == 0)
        return nullptr;
    return detail.release();
}

void copy_uid(DIC_UI &to, const char *from)
{
    OFStandard::strlcpy(to, from != nullptr ? from : "", sizeof(DIC_UI));
}

/* A local failure inside the service call (not a DIMSE outcome) becomes 0110 Processing failure,
 * unless the service already chose a failure status. */
void settle_local_failure(int rc, mcm_response &rsp, mcm_operation op)
{
    if (rc != MCM_OK && rsp.status == MCM_STATUS_SUCCESS)
        mcm_response_set(&rsp, op, MCM_STATUS_PROCESSING_FAILURE, "%s", mcm_last_error());
}

/* ---- One association ----------------------------------------------------------------------- */

enum class ContextKind { Verification, MediaCreation, Storage, None };

class Session
{
  public:
    Session(mcm_scp *scp, Connection *connection, T_ASC_Association *assoc, const char *calling)
        : scp_(scp), connection_(connection), assoc_(assoc), calling_(calling)
    {
    }
    /* Serve requests until release, abort, timeout or stop. */
    void serve();

  private:
    OFCondition dispatch(T_ASC_PresentationContextID pc, T_DIMSE_Message &msg);
    OFCondition echo(T_ASC_PresentationContextID pc, const T_ASC_PresentationContext &ctx, T_DIMSE_C_EchoRQ &rq);
    OFCondition store(T_ASC_PresentationContextID pc, const T_ASC_PresentationContext &ctx, T_DIMSE_C_StoreRQ &rq);
    OFCondition create(T_ASC_PresentationContextID pc, const T_ASC_PresentationContext &ctx, T_DIMSE_N_CreateRQ &rq);
    OFCondition action(T_ASC_PresentationContextID pc, const T_ASC_PresentationContext &ctx, T_DIMSE_N_ActionRQ &rq);
    OFCondition get(T_ASC_PresentationContextID pc, const T_ASC_PresentationContext &ctx, T_DIMSE_N_GetRQ &rq);
    OFCondition unrecognized(T_ASC_PresentationContextID pc, T_DIMSE_Message &msg);

    OFCondition drain_data_set(T_DIMSE_DataSetType type);
    OFCondition receive_data_set(T_ASC_PresentationContextID pc, DcmDataset **out);
    OFCondition receive_request(T_ASC_PresentationContextID pc, T_DIMSE_DataSetType type, mcm_request **out,
                                int *rc);
    OFCondition send(T_ASC_PresentationContextID pc, T_DIMSE_Message &rsp, DcmDataset *data, DcmDataset *detail);
    void log_request(const char *operation, const char *uid, const mcm_response &rsp, mcm_operation op);
    bool wait_for_request();

    mcm_scp *scp_;
    Connection *connection_;
    T_ASC_Association *assoc_;
    const char *calling_;
};

/* What an accepted context is for: we accept Verification, Media Creation Management, and
 * storage SOP classes only (see accept_storage_contexts), so every other accepted context is one
 * of the latter. */
ContextKind kind_of(const T_ASC_PresentationContext &ctx)
{
    if (std::strcmp(ctx.abstractSyntax, UID_VerificationSOPClass) == 0)
        return ContextKind::Verification;
    if (std::strcmp(ctx.abstractSyntax, UID_MediaCreationManagementSOPClass) == 0)
        return ContextKind::MediaCreation;
    return ContextKind::Storage;
}

/* A storage SOP class that DCMTK 3.6.7 does not list: a UID under the root of the standard's storage
 * classes (PS3.4 B.5; classes added after DCMTK's table), or, with accept_unknown, any valid UID
 * outside the DICOM root that DCMTK does not know (a private storage class; a vendor's UID root).
 * An unknown UID under the DICOM root but not under the storage root is a service we cannot know
 * to be storage: refused. */
bool unlisted_storage_class(const char *uid, bool accept_unknown)
{
    static const char storage_root[] = "1.2.840.10008.5.1.4.1.1.";
    static const char dicom_root[] = "1.2.840.10008.";
    if (!mcm_uid_is_valid(uid) || dcmFindNameOfUID(uid, nullptr) != nullptr)
        return false;
    if (std::strncmp(uid, storage_root, sizeof storage_root - 1) == 0)
        return true;
    return accept_unknown && std::strncmp(uid, dicom_root, sizeof dicom_root - 1) != 0;
}

/* Accept the proposed contexts of unlisted storage classes with the first transfer syntax of ours
 * (kStorageSyntaxes order) that the peer proposed. */
OFCondition accept_unlisted_storage(T_ASC_Parameters *params, bool accept_unknown)
{
    int n = ASC_countPresentationContexts(params);
    for (int i = 0; i < n; i++) {
        T_ASC_PresentationContext pc;
        OFCondition c = ASC_getPresentationContext(params, i, &pc);
        if (c.bad())
            return c;
        if (pc.resultReason == ASC_P_ACCEPTANCE || !unlisted_storage_class(pc.abstractSyntax, accept_unknown))
            continue;
        for (int k = 0; k < count_of(kStorageSyntaxes); k++) {
            bool proposed = false;
            for (int t = 0; t < pc.transferSyntaxCount && !proposed; t++)
                proposed = std::strcmp(pc.proposedTransferSyntaxes[t], kStorageSyntaxes[k]) == 0;
            if (proposed) {
                c = ASC_acceptPresentationContext(params, pc.presentationContextID, kStorageSyntaxes[k]);
                if (c.bad())
                    return c;
                break;
            }
        }
    }
    return EC_Normal;
}

void Session::log_request(const char *operation, const char *uid, const mcm_response &rsp, mcm_operation op)
{
    mcm_service_log(scp_->service, MCM_LOG_INFO, "%s: %s%s%s -> 0x%04X %s%s%s", calling_, operation,
                    uid != nullptr && uid[0] != '\0' ? " " : "", uid != nullptr ? uid : "", rsp.status,
                    mcm_status_name(rsp.status, op), rsp.error_comment[0] != '\0' ? ": " : "", rsp.error_comment);
}

OFCondition Session::drain_data_set(T_DIMSE_DataSetType type)
{
    if (type == DIMSE_DATASET_NULL)
        return EC_Normal;
    DIC_UL bytes = 0, pdvs = 0;
    return DIMSE_ignoreDataSet(assoc_, DIMSE_NONBLOCKING, scp_->dimse_timeout, &bytes, &pdvs);
}

OFCondition Session::receive_data_set(T_ASC_PresentationContextID pc, DcmDataset **out)
{
    T_ASC_PresentationContextID data_pc = 0;
    *out = nullptr;
    OFCondition c =
        DIMSE_receiveDataSetInMemory(assoc_, DIMSE_NONBLOCKING, scp_->dimse_timeout, &data_pc, out, nullptr, nullptr);
    if (c.good() && data_pc != pc) {
        delete *out;
        *out = nullptr;
        return makeDcmnetCondition(DIMSEC_INVALIDPRESENTATIONCONTEXTID, OF_error,
                                   "presentation contexts of command and data set differ");
    }
    return c;
}

OFCondition Session::send(T_ASC_PresentationContextID pc, T_DIMSE_Message &rsp, DcmDataset *data, DcmDataset *detail)
{
    OFCondition c = DIMSE_sendMessageUsingMemoryData(assoc_, pc, &rsp, detail, data, nullptr, nullptr);
    delete detail;
    return c;
}

OFCondition Session::echo(T_ASC_PresentationContextID pc, const T_ASC_PresentationContext &ctx, T_DIMSE_C_EchoRQ &rq)
{
    mcm_response rsp;
    mcm_response_clear(&rsp);
    if (kind_of(ctx) != ContextKind::Verification) {
        mcm_response_set(&rsp, MCM_OP_ANY, MCM_STATUS_UNRECOGNIZED_OPERATION, "C-ECHO on a %s context",
                         ctx.abstractSyntax);
    } else {
        int rc = mcm_service_echo(scp_->service, calling_, &rsp);
        settle_local_failure(rc, rsp, MCM_OP_ANY);
    }
    DcmDataset *detail = status_detail(rsp, reply_fields(rsp, MCM_OP_ANY, scp_->annex_c_details));
    OFCondition c = DIMSE_sendEchoResponse(assoc_, pc, &rq, rsp.status, detail);
    delete detail;
    log_request("C-ECHO", nullptr, rsp, MCM_OP_ANY);
    return c;
}

/* What DIMSE_storeProvider's callback needs to finish a C-STORE before the reply leaves. */
struct StoreContext {
    mcm_service *service;
    const char *tmp_path;
    const char *transfer_syntax;
    bool annex_c_only;
    bool finished = false;
    mcm_response rsp;
    DcmDataset *detail = nullptr;
};

void store_progress(void *data, T_DIMSE_StoreProgress *progress, T_DIMSE_C_StoreRQ *rq, char *, DcmDataset **,
                    T_DIMSE_C_StoreRSP *response, DcmDataset **detail)
{
    StoreContext *ctx = static_cast<StoreContext *>(data);
    if (progress->state != DIMSE_StoreEnd)
        return;
    ctx->finished = true;
    if (response->DimseStatus != STATUS_STORE_Success) {
        /* DCMTK could not write the file (A700): nothing to record. */
        mcm_service_store_abort(ctx->service, ctx->tmp_path);
        mcm_response_set(&ctx->rsp, MCM_OP_ANY, response->DimseStatus, "cannot write the instance");
    } else {
        int rc = mcm_service_store_finish(ctx->service, ctx->tmp_path, rq->AffectedSOPClassUID,
                                          rq->AffectedSOPInstanceUID, ctx->transfer_syntax, &ctx->rsp);
        settle_local_failure(rc, ctx->rsp, MCM_OP_ANY);
        if (rc != MCM_OK && ctx->rsp.status == MCM_STATUS_PROCESSING_FAILURE)
            ctx->rsp.status = STATUS_STORE_Refused_OutOfResources;
        response->DimseStatus = ctx->rsp.status;
    }
    ctx->detail = status_detail(ctx->rsp, reply_fields(ctx->rsp, MCM_OP_ANY, ctx->annex_c_only));
    *detail = ctx->detail;
}

OFCondition Session::store(T_ASC_PresentationContextID pc, const T_ASC_PresentationContext &ctx, T_DIMSE_C_StoreRQ &rq)
{
    mcm_response rsp;
    mcm_response_clear(&rsp);
    char tmp_path[4096] = "";
    if (kind_of(ctx) != ContextKind::Storage) {
        mcm_response_set(&rsp, MCM_OP_ANY, MCM_STATUS_UNRECOGNIZED_OPERATION, "C-STORE on a %s context",
                         ctx.abstractSyntax);
    } else if (std::strcmp(rq.AffectedSOPClassUID, ctx.abstractSyntax) != 0) {
        mcm_response_set(&rsp, MCM_OP_ANY, MCM_STATUS_SOP_CLASS_NOT_SUPPORTED,
                         "SOP class differs from the presentation context's");
    } else {
        int rc = mcm_service_store_begin(scp_->service, calling_, rq.AffectedSOPClassUID, rq.AffectedSOPInstanceUID,
                                         tmp_path, &rsp);
        settle_local_failure(rc, rsp, MCM_OP_ANY);
        if (rc != MCM_OK && rsp.status == MCM_STATUS_PROCESSING_FAILURE)
            rsp.status = STATUS_STORE_Refused_OutOfResources;
    }

    if (rsp.status != MCM_STATUS_SUCCESS) {
        /* Refused before the data set: drain it, then answer (PS3.7 allows an early failure, but
         * the data set must still be read off the wire to keep the association usable). */
        OFCondition c = drain_data_set(rq.DataSetType);
        if (c.bad())
            return c;
        T_DIMSE_C_StoreRSP response;
        std::memset(&response, 0, sizeof response);
        response.MessageIDBeingRespondedTo = rq.MessageID;
        response.DataSetType = DIMSE_DATASET_NULL;
        response.DimseStatus = rsp.status;
        copy_uid(response.AffectedSOPClassUID, rq.AffectedSOPClassUID);
        copy_uid(response.AffectedSOPInstanceUID, rq.AffectedSOPInstanceUID);
        response.opts = O_STORE_AFFECTEDSOPCLASSUID | O_STORE_AFFECTEDSOPINSTANCEUID;
        DcmDataset *detail = status_detail(rsp, reply_fields(rsp, MCM_OP_ANY, scp_->annex_c_details));
        c = DIMSE_sendStoreResponse(assoc_, pc, &rq, &response, detail);
        delete detail;
        log_request("C-STORE", rq.AffectedSOPInstanceUID, rsp, MCM_OP_ANY);
        return c;
    }

    StoreContext store_ctx;
    store_ctx.service = scp_->service;
    store_ctx.tmp_path = tmp_path;
    store_ctx.transfer_syntax = ctx.acceptedTransferSyntax;
    store_ctx.annex_c_only = scp_->annex_c_details;
    mcm_response_clear(&store_ctx.rsp);
    /* Bit-preserving: the data set goes to the file as it arrives, behind a meta header. */
    OFCondition c = DIMSE_storeProvider(assoc_, pc, &rq, tmp_path, OFTrue, nullptr, store_progress, &store_ctx,
                                        DIMSE_NONBLOCKING, scp_->dimse_timeout);
    delete store_ctx.detail;
    if (!store_ctx.finished) {
        mcm_service_store_abort(scp_->service, tmp_path);
        mcm_response_set(&store_ctx.rsp, MCM_OP_ANY, STATUS_STORE_Refused_OutOfResources, "receive failed: %s",
                         c.text());
    }
    log_request("C-STORE", rq.AffectedSOPInstanceUID, store_ctx.rsp, MCM_OP_ANY);
    return c;
}

/* An N-service request is served only on the Media Creation Management context and for its SOP
 * class; otherwise rsp gets 0211 (another context) or 0118 (another class) and false returns. */
bool for_media_creation(const T_ASC_PresentationContext &ctx, const char *sop_class_uid, mcm_operation op,
                        const char *name, mcm_response &rsp)
{
    if (kind_of(ctx) != ContextKind::MediaCreation) {
        mcm_response_set(&rsp, op, MCM_STATUS_UNRECOGNIZED_OPERATION, "%s on a %s context", name, ctx.abstractSyntax);
        return false;
    }
    if (std::strcmp(sop_class_uid, UID_MediaCreationManagementSOPClass) != 0) {
        mcm_response_set(&rsp, op, MCM_STATUS_NO_SUCH_SOP_CLASS, "SOP class %.40s is not %s", sop_class_uid,
                         UID_MediaCreationManagementSOPClass);
        return false;
    }
    return true;
}

/* Receive a request's data set (if one follows) decoded as a request: *out is NULL when none came;
 * *rc is the decoding's mcm_error. A bad condition means the association is lost. */
OFCondition Session::receive_request(T_ASC_PresentationContextID pc, T_DIMSE_DataSetType type, mcm_request **out,
                                     int *rc)
{
    *out = nullptr;
    *rc = MCM_OK;
    if (type == DIMSE_DATASET_NULL)
        return EC_Normal;
    DcmDataset *data = nullptr;
    OFCondition c = receive_data_set(pc, &data);
    if (c.bad())
        return c;
    *rc = mcm_request_from_dataset(*data, out);
    delete data;
    return EC_Normal;
}

OFCondition Session::create(T_ASC_PresentationContextID pc, const T_ASC_PresentationContext &ctx,
                            T_DIMSE_N_CreateRQ &rq)
{
    mcm_response rsp;
    mcm_response_clear(&rsp);
    /* An Affected SOP Instance UID sent empty is taken as not sent: the SCP assigns one (PS3.7
     * 10.1.5.1.4 makes it optional; a zero-length value carries no UID to object to). */
    const char *requested_uid =
        (rq.opts & O_NCREATE_AFFECTEDSOPINSTANCEUID) && rq.AffectedSOPInstanceUID[0] != '\0' ? rq.AffectedSOPInstanceUID
                                                                                              : nullptr;
    char uid[MCM_UID_MAX + 1] = "";
    mcm_job *created = nullptr;
    if (!for_media_creation(ctx, rq.AffectedSOPClassUID, MCM_OP_N_CREATE, "N-CREATE", rsp)) {
        OFCondition c = drain_data_set(rq.DataSetType);
        if (c.bad())
            return c;
    } else {
        mcm_request *request = nullptr;
        int rc = MCM_OK;
        OFCondition c = receive_request(pc, rq.DataSetType, &request, &rc);
        if (c.bad())
            return c;
        if (rc == MCM_OK && request == nullptr)
            rc = mcm_request_new(&request); /* no attribute list at all: validation answers 0120 */
        if (rc == MCM_OK) {
            /* The service takes the request whatever happens. */
            rc = mcm_service_create(scp_->service, calling_, request, requested_uid, uid, &created, &rsp);
        }
        settle_local_failure(rc, rsp, MCM_OP_N_CREATE);
    }

    T_DIMSE_Message reply;
    std::memset(&reply, 0, sizeof reply);
    reply.CommandField = DIMSE_N_CREATE_RSP;
    T_DIMSE_N_CreateRSP &r = reply.msg.NCreateRSP;
    r.MessageIDBeingRespondedTo = rq.MessageID;
    r.DimseStatus = rsp.status;
    r.DataSetType = DIMSE_DATASET_NULL;
    ReplyFields fields = reply_fields(rsp, MCM_OP_N_CREATE, scp_->annex_c_details);
    if (fields.affected_class) {
        copy_uid(r.AffectedSOPClassUID, rq.AffectedSOPClassUID);
        r.opts |= O_NCREATE_AFFECTEDSOPCLASSUID;
    }
    /* Success: always the instance UID (required when the SCP assigned it, PS3.7 10.1.5.1.4).
     * Failure: only where Annex C allows the offending UID (0111, 0117; digest A7). */
    const char *instance = rsp.status == MCM_STATUS_SUCCESS           ? uid
                           : rsp.affected_sop_instance_uid[0] != '\0' ? rsp.affected_sop_instance_uid
                                                                      : requested_uid;
    bool offending_uid =
        rsp.status == MCM_STATUS_DUPLICATE_SOP_INSTANCE || rsp.status == MCM_STATUS_INVALID_SOP_INSTANCE;
    if (fields.affected_instance && instance != nullptr && instance[0] != '\0' &&
        (rsp.status == MCM_STATUS_SUCCESS || offending_uid || rsp.affected_sop_instance_uid[0] != '\0')) {
        copy_uid(r.AffectedSOPInstanceUID, instance);
        r.opts |= O_NCREATE_AFFECTEDSOPINSTANCEUID;
    }
    /* The attributes the SCP created (PS3.4 S.3.2.1.3): Execution Status and Execution Status Info. */
    std::unique_ptr<DcmDataset> data;
    if (rsp.status == MCM_STATUS_SUCCESS && created != nullptr) {
        static const uint32_t created_tags[] = {MCM_TAG_EXECUTION_STATUS, MCM_TAG_EXECUTION_STATUS_INFO};
        data.reset(new (std::nothrow) DcmDataset());
        if (data && mcm_dataset_from_job(created, created_tags, 2, *data) == MCM_OK && data->card() > 0)
            r.DataSetType = DIMSE_DATASET_PRESENT;
        else
            data.reset();
    }
    mcm_job_free(created);
    OFCondition c = send(pc, reply, data.get(), status_detail(rsp, fields));
    log_request("N-CREATE", rsp.status == MCM_STATUS_SUCCESS ? uid : requested_uid, rsp, MCM_OP_N_CREATE);
    return c;
}

OFCondition Session::action(T_ASC_PresentationContextID pc, const T_ASC_PresentationContext &ctx,
                            T_DIMSE_N_ActionRQ &rq)
{
    mcm_response rsp;
    mcm_response_clear(&rsp);
    if (!for_media_creation(ctx, rq.RequestedSOPClassUID, MCM_OP_N_ACTION, "N-ACTION", rsp)) {
        OFCondition c = drain_data_set(rq.DataSetType);
        if (c.bad())
            return c;
    } else {
        mcm_request *information = nullptr;
        int rc = MCM_OK;
        OFCondition c = receive_request(pc, rq.DataSetType, &information, &rc);
        if (c.bad())
            return c;
        if (rc == MCM_OK)
            rc = mcm_service_action(scp_->service, calling_, rq.RequestedSOPInstanceUID, rq.ActionTypeID, information,
                                    &rsp);
        settle_local_failure(rc, rsp, MCM_OP_N_ACTION);
    }

    T_DIMSE_Message reply;
    std::memset(&reply, 0, sizeof reply);
    reply.CommandField = DIMSE_N_ACTION_RSP;
    T_DIMSE_N_ActionRSP &r = reply.msg.NActionRSP;
    r.MessageIDBeingRespondedTo = rq.MessageID;
    r.DimseStatus = rsp.status;
    r.DataSetType = DIMSE_DATASET_NULL; /* no Action Reply is defined for this class (digest 3.2) */
    ReplyFields fields = reply_fields(rsp, MCM_OP_N_ACTION, scp_->annex_c_details);
    if (fields.affected_class) {
        copy_uid(r.AffectedSOPClassUID, rq.RequestedSOPClassUID);
        r.opts |= O_NACTION_AFFECTEDSOPCLASSUID;
    }
    if (fields.affected_instance) {
        copy_uid(r.AffectedSOPInstanceUID,
                 rsp.affected_sop_instance_uid[0] != '\0' ? rsp.affected_sop_instance_uid : rq.RequestedSOPInstanceUID);
        r.opts |= O_NACTION_AFFECTEDSOPINSTANCEUID;
    }
    if (fields.action_type_id) {
        r.ActionTypeID = rsp.has_action_type_id ? rsp.action_type_id : rq.ActionTypeID;
        r.opts |= O_NACTION_ACTIONTYPEID;
    }
    OFCondition c = send(pc, reply, nullptr, status_detail(rsp, fields));
    const char *name = rq.ActionTypeID == 1 ? "N-ACTION Initiate" : rq.ActionTypeID == 2 ? "N-ACTION Cancel" : nullptr;
    char other[40];
    if (name == nullptr) {
        std::snprintf(other, sizeof other, "N-ACTION type %u", static_cast<unsigned>(rq.ActionTypeID));
        name = other;
    }
    log_request(name, rq.RequestedSOPInstanceUID, rsp, MCM_OP_N_ACTION);
    return c;
}

OFCondition Session::get(T_ASC_PresentationContextID pc, const T_ASC_PresentationContext &ctx, T_DIMSE_N_GetRQ &rq)
{
    /* DIMSE_parseCmdObject malloc()s the Attribute Identifier List: we own it. */
    std::unique_ptr<DIC_US, decltype(&std::free)> list(rq.AttributeIdentifierList, &std::free);
    rq.AttributeIdentifierList = nullptr;
    mcm_response rsp;
    mcm_response_clear(&rsp);
    mcm_job *job = nullptr;
    uint32_t *selected = nullptr;
    size_t selected_count = 0;

    OFCondition c = drain_data_set(rq.DataSetType); /* an N-GET-RQ carries none; tolerate one */
    if (c.bad())
        return c;
    if (for_media_creation(ctx, rq.RequestedSOPClassUID, MCM_OP_N_GET, "N-GET", rsp)) {
        /* The list holds (group, element) pairs; an absent or empty list asks for everything. */
        size_t pairs = list && rq.ListCount > 0 ? static_cast<size_t>(rq.ListCount) / 2 : 0;
        std::unique_ptr<uint32_t[]> tags(pairs > 0 ? new (std::nothrow) uint32_t[pairs] : nullptr);
        int rc = MCM_OK;
        if (pairs > 0 && !tags) {
            rc = mcm_fail(MCM_ENOMEM, "out of memory");
        } else {
            for (size_t i = 0; i < pairs; i++)
                tags[i] = MCM_TAG(list.get()[2 * i], list.get()[2 * i + 1]);
            rc = mcm_service_get(scp_->service, calling_, rq.RequestedSOPInstanceUID, tags.get(), pairs, &job,
                                 &selected, &selected_count, &rsp);
        }
        settle_local_failure(rc, rsp, MCM_OP_N_GET);
    }

    T_DIMSE_Message reply;
    std::memset(&reply, 0, sizeof reply);
    reply.CommandField = DIMSE_N_GET_RSP;
    T_DIMSE_N_GetRSP &r = reply.msg.NGetRSP;
    r.MessageIDBeingRespondedTo = rq.MessageID;
    r.DimseStatus = rsp.status;
    r.DataSetType = DIMSE_DATASET_NULL;
    ReplyFields fields = reply_fields(rsp, MCM_OP_N_GET, scp_->annex_c_details);
    /* A data set only with success and the two warnings (digest 8.3, 8.4). DCMTK cannot send an
     * empty one, so a selection that leaves nothing goes without. */
    std::unique_ptr<DcmDataset> data;
    bool with_data = rsp.status == MCM_STATUS_SUCCESS || rsp.status == MCM_STATUS_OPTIONAL_ATTRIBUTES_UNSUPPORTED ||
                     rsp.status == MCM_STATUS_ATTRIBUTE_LIST_ERROR;
    if (with_data && job != nullptr) {
        data.reset(new (std::nothrow) DcmDataset());
        int rc = data ? mcm_dataset_from_job(job, selected, selected_count, *data) : MCM_ENOMEM;
        if (rc != MCM_OK) {
            data.reset();
            mcm_response_set(&rsp, MCM_OP_N_GET, MCM_STATUS_PROCESSING_FAILURE, "cannot encode the job: %s",
                             mcm_last_error());
            r.DimseStatus = rsp.status;
            fields = reply_fields(rsp, MCM_OP_N_GET, scp_->annex_c_details);
        } else if (data->card() == 0) {
            data.reset();
        } else {
            r.DataSetType = DIMSE_DATASET_PRESENT;
        }
    }
    mcm_job_free(job);
    std::free(selected);
    /* DCMTK 3.6.7's buildNGetRSP() writes Affected SOP Instance UID only when the class UID flag
     * is set (it tests O_NGET_AFFECTEDSOPCLASSUID twice), so a reply with the instance UID alone
     * (0112 in strict mode) would lose it, and one with the class alone would carry an empty one.
     * Both travel as command elements through the status detail instead, like the other
     * optional fields. */
    DcmDataset *detail = status_detail(rsp, fields);
    if (fields.affected_class || fields.affected_instance) {
        if (detail == nullptr)
            detail = new (std::nothrow) DcmDataset();
        if (detail != nullptr && fields.affected_class)
            (void)detail->putAndInsertString(DCM_AffectedSOPClassUID, rq.RequestedSOPClassUID);
        if (detail != nullptr && fields.affected_instance)
            (void)detail->putAndInsertString(DCM_AffectedSOPInstanceUID, rsp.affected_sop_instance_uid[0] != '\0'
                                                                             ? rsp.affected_sop_instance_uid
                                                                             : rq.RequestedSOPInstanceUID);
    }
    c = send(pc, reply, data.get(), detail);
    log_request("N-GET", rq.RequestedSOPInstanceUID, rsp, MCM_OP_N_GET);
    return c;
}

/* The 0211 reply to a request of an N-service we do not provide: the instance it named as Affected
 * SOP Class/Instance UID, no data set. */
template <typename Request, typename Reply>
void refuse_n_request(const Request &rq, const char *sop_class, const char *sop_instance, Reply &r, int opts,
                      T_DIMSE_DataSetType *incoming)
{
    r.MessageIDBeingRespondedTo = rq.MessageID;
    copy_uid(r.AffectedSOPClassUID, sop_class);
    copy_uid(r.AffectedSOPInstanceUID, sop_instance);
    r.opts = opts;
    r.DataSetType = DIMSE_DATASET_NULL;
    r.DimseStatus = MCM_STATUS_UNRECOGNIZED_OPERATION;
    *incoming = rq.DataSetType;
}

/* The same for a C-service (C-FIND, C-GET, C-MOVE): Affected SOP Class UID only. */
template <typename Request, typename Reply>
void refuse_c_request(const Request &rq, Reply &r, int opts, T_DIMSE_DataSetType *incoming)
{
    r.MessageIDBeingRespondedTo = rq.MessageID;
    copy_uid(r.AffectedSOPClassUID, rq.AffectedSOPClassUID);
    r.opts = opts;
    r.DataSetType = DIMSE_DATASET_NULL;
    r.DimseStatus = MCM_STATUS_UNRECOGNIZED_OPERATION;
    *incoming = rq.DataSetType;
}

/* Everything this SCP does not provide (N-SET, N-DELETE, N-EVENT-REPORT, C-FIND, C-GET, C-MOVE):
 * drain any data set and answer 0211 Unrecognized operation, keeping the association (digest
 * 1.1, dcmtk-notes section 3). */
OFCondition Session::unrecognized(T_ASC_PresentationContextID pc, T_DIMSE_Message &msg)
{
    mcm_response rsp;
    mcm_response_clear(&rsp);
    T_DIMSE_Message reply;
    std::memset(&reply, 0, sizeof reply);
    T_DIMSE_DataSetType incoming = DIMSE_DATASET_NULL;
    const char *name = "request";
    const char *uid = nullptr;
    switch (msg.CommandField) {
    case DIMSE_N_SET_RQ: {
        const T_DIMSE_N_SetRQ &rq = msg.msg.NSetRQ;
        reply.CommandField = DIMSE_N_SET_RSP;
        refuse_n_request(rq, rq.RequestedSOPClassUID, rq.RequestedSOPInstanceUID, reply.msg.NSetRSP,
                         O_NSET_AFFECTEDSOPCLASSUID | O_NSET_AFFECTEDSOPINSTANCEUID, &incoming);
        name = "N-SET";
        uid = rq.RequestedSOPInstanceUID;
        break;
    }
    case DIMSE_N_DELETE_RQ: {
        const T_DIMSE_N_DeleteRQ &rq = msg.msg.NDeleteRQ;
        reply.CommandField = DIMSE_N_DELETE_RSP;
        refuse_n_request(rq, rq.RequestedSOPClassUID, rq.RequestedSOPInstanceUID, reply.msg.NDeleteRSP,
                         O_NDELETE_AFFECTEDSOPCLASSUID | O_NDELETE_AFFECTEDSOPINSTANCEUID, &incoming);
        name = "N-DELETE";
        uid = rq.RequestedSOPInstanceUID;
        break;
    }
    case DIMSE_N_EVENT_REPORT_RQ: {
        const T_DIMSE_N_EventReportRQ &rq = msg.msg.NEventReportRQ;
        reply.CommandField = DIMSE_N_EVENT_REPORT_RSP;
        refuse_n_request(rq, rq.AffectedSOPClassUID, rq.AffectedSOPInstanceUID, reply.msg.NEventReportRSP,
                         O_NEVENTREPORT_AFFECTEDSOPCLASSUID | O_NEVENTREPORT_AFFECTEDSOPINSTANCEUID |
                             O_NEVENTREPORT_EVENTTYPEID,
                         &incoming);
        reply.msg.NEventReportRSP.EventTypeID = rq.EventTypeID;
        name = "N-EVENT-REPORT";
        uid = rq.AffectedSOPInstanceUID;
        break;
    }
    case DIMSE_C_FIND_RQ:
        reply.CommandField = DIMSE_C_FIND_RSP;
        refuse_c_request(msg.msg.CFindRQ, reply.msg.CFindRSP, O_FIND_AFFECTEDSOPCLASSUID, &incoming);
        name = "C-FIND";
        break;
    case DIMSE_C_GET_RQ:
        reply.CommandField = DIMSE_C_GET_RSP;
        refuse_c_request(msg.msg.CGetRQ, reply.msg.CGetRSP, O_GET_AFFECTEDSOPCLASSUID, &incoming);
        name = "C-GET";
        break;
    case DIMSE_C_MOVE_RQ:
        reply.CommandField = DIMSE_C_MOVE_RSP;
        refuse_c_request(msg.msg.CMoveRQ, reply.msg.CMoveRSP, O_MOVE_AFFECTEDSOPCLASSUID, &incoming);
        name = "C-MOVE";
        break;
    default: return makeDcmnetCondition(DIMSEC_UNEXPECTEDREQUEST, OF_error, "unexpected DIMSE message");
    }
    OFCondition c = drain_data_set(incoming);
    if (c.bad())
        return c;
    mcm_response_set(&rsp, MCM_OP_ANY, MCM_STATUS_UNRECOGNIZED_OPERATION, "%s is not provided", name);
    c = send(pc, reply, nullptr, status_detail(rsp, reply_fields(rsp, MCM_OP_ANY, scp_->annex_c_details)));
    log_request(name, uid, rsp, MCM_OP_ANY);
    return c;
}

OFCondition Session::dispatch(T_ASC_PresentationContextID pc, T_DIMSE_Message &msg)
{
    T_ASC_PresentationContext ctx;
    std::memset(&ctx, 0, sizeof ctx);
    OFCondition c = ASC_findAcceptedPresentationContext(assoc_->params, pc, &ctx);
    if (c.bad())
        return c;
    switch (msg.CommandField) {
    case DIMSE_C_ECHO_RQ: return echo(pc, ctx, msg.msg.CEchoRQ);
    case DIMSE_C_STORE_RQ: return store(pc, ctx, msg.msg.CStoreRQ);
    case DIMSE_N_CREATE_RQ: return create(pc, ctx, msg.msg.NCreateRQ);
    case DIMSE_N_ACTION_RQ: return action(pc, ctx, msg.msg.NActionRQ);
    case DIMSE_N_GET_RQ: return get(pc, ctx, msg.msg.NGetRQ);
    case DIMSE_C_CANCEL_RQ: return EC_Normal; /* nothing of ours can be cancelled; no reply exists */
    default: return unrecognized(pc, msg);
    }
}

/* Wait until the next request starts arriving. false: stop, idle timeout, or the peer is gone
 * (DIMSE_receiveCommand then reports which). */
bool Session::wait_for_request()
{
    if (scp_->stop_requested.load() != 0)
        return false;
    /* A P-DATA PDU may carry the next request's PDVs already: DUL_dataWaiting() only asks the
     * socket, so look at DUL's queue of unread PDVs first. */
    const PRIVATE_ASSOCIATIONKEY *key = reinterpret_cast<const PRIVATE_ASSOCIATIONKEY *>(assoc_->DULassociation);
    if (key != nullptr && key->pdvIndex >= 0 && key->pdvIndex < key->pdvCount)
        return true;
    /* The DIMSE timeout bounds an idle association; the wait itself watches the stop pipe
     * (StopAwareConnection), so a stop ends it at once. */
    if (ASC_dataWaiting(assoc_, scp_->dimse_timeout))
        return true;
    return false;
}

void Session::serve()
{
    for (;;) {
        if (!wait_for_request()) {
            if (scp_->stop_requested.load() != 0)
                mcm_service_log(scp_->service, MCM_LOG_DEBUG, "%s: association aborted: SCP stopping", calling_);
            else
                mcm_service_log(scp_->service, MCM_LOG_WARNING,
                                "%s: association aborted: no request for %d s (DIMSE timeout)", calling_,
                                scp_->dimse_timeout);
            (void)ASC_abortAssociation(assoc_);
            return;
        }
        connection_->in_request.store(true);
        T_ASC_PresentationContextID pc = 0;
        T_DIMSE_Message msg;
        std::memset(&msg, 0, sizeof msg);
        DcmDataset *peer_detail = nullptr;
        OFCondition c = DIMSE_receiveCommand(assoc_, DIMSE_NONBLOCKING, scp_->dimse_timeout, &pc, &msg, &peer_detail);
        delete peer_detail;
        if (c == DUL_PEERREQUESTEDRELEASE) {
            (void)ASC_acknowledgeRelease(assoc_);
            connection_->in_request.store(false);
            mcm_service_log(scp_->service, MCM_LOG_DEBUG, "%s: association released", calling_);
            return;
        }
        if (c == DUL_PEERABORTEDASSOCIATION) {
            connection_->in_request.store(false);
            mcm_service_log(scp_->service, MCM_LOG_DEBUG, "%s: association aborted by the peer", calling_);
            return;
        }
        if (c.good())
            c = dispatch(pc, msg);
        else if (msg.CommandField == DIMSE_N_GET_RQ)
            std::free(msg.msg.NGetRQ.AttributeIdentifierList);
        connection_->in_request.store(false);
        if (c.bad()) {
            mcm_service_log(scp_->service, MCM_LOG_WARNING, "%s: association aborted: %s", calling_, c.text());
            (void)ASC_abortAssociation(assoc_);
            return;
        }
    }
}

/* ---- Association negotiation --------------------------------------------------------------- */

void reject(T_ASC_Association *assoc, T_ASC_RejectParametersResult result, T_ASC_RejectParametersSource source,
            T_ASC_RejectParametersReason reason)
{
    T_ASC_RejectParameters parameters;
    parameters.result = result;
    parameters.source = source;
    parameters.reason = reason;
    (void)ASC_rejectAssociation(assoc, &parameters);
}

/* Admission and presentation contexts. Returns true if the association was acknowledged;
 * *counted tells whether it holds one of the max_associations slots. */
bool negotiate(mcm_scp *scp, T_ASC_Association *assoc, const char *calling, const char *called, bool *counted)
{
    *counted = false;
    char context_name[65] = "";
    (void)ASC_getApplicationContextName(assoc->params, context_name, sizeof context_name);
    if (std::strcmp(context_name, UID_StandardApplicationContext) != 0) {
        mcm_service_log(scp->service, MCM_LOG_WARNING, "%s: association rejected: application context %s", calling,
                        context_name);
        reject(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_APPCONTEXTNAMENOTSUPPORTED);
        return false;
    }
    if (scp->stop_requested.load() != 0) {
        reject(assoc, ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
               ASC_REASON_SP_PRES_TEMPORARYCONGESTION);
        return false;
    }
    char why[256] = "";
    if (!mcm_service_admit(scp->service, calling, called, why, sizeof why)) {
        const mcm_scp_options *opts = mcm_service_options(scp->service);
        /* The called title is checked first: a request addressed to another AE is not ours to
         * judge by its caller. */
        bool called_wrong = opts->check_called_ae_title && std::strcmp(called, mcm_service_ae_title(scp->service)) != 0;
        mcm_service_log(scp->service, MCM_LOG_WARNING, "%s: association rejected (called AE \"%s\"): %s", calling,
                        called, why);
        reject(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER,
               called_wrong ? ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED : ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED);
        return false;
    }
    bool full = false;
    {
        std::lock_guard<std::mutex> guard(scp->lock);
        if (scp->active_associations >= scp->max_associations)
            full = true;
        else
            scp->active_associations++;
    }
    if (full) {
        mcm_service_log(scp->service, MCM_LOG_WARNING, "%s: association rejected: %u associations active", calling,
                        scp->max_associations);
        reject(assoc, ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
               ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED);
        return false;
    }
    *counted = true;

    static const char *const verification[] = {UID_VerificationSOPClass};
    static const char *const media_creation[] = {UID_MediaCreationManagementSOPClass};
    OFCondition c = ASC_acceptContextsWithPreferredTransferSyntaxes(
        assoc->params, const_cast<const char **>(verification), 1, const_cast<const char **>(kVerificationSyntaxes),
        count_of(kVerificationSyntaxes));
    if (c.good())
        c = ASC_acceptContextsWithPreferredTransferSyntaxes(assoc->params, const_cast<const char **>(media_creation), 1,
                                                            const_cast<const char **>(kPlainSyntaxes),
                                                            count_of(kPlainSyntaxes));
    if (c.good())
        c = ASC_acceptContextsWithPreferredTransferSyntaxes(
            assoc->params, dcmAllStorageSOPClassUIDs, numberOfDcmAllStorageSOPClassUIDs,
            const_cast<const char **>(kStorageSyntaxes), count_of(kStorageSyntaxes));
    if (c.good())
        c = accept_unlisted_storage(assoc->params, mcm_service_options(scp->service)->accept_unknown_storage != 0);
    if (c.bad()) {
        mcm_service_log(scp->service, MCM_LOG_WARNING, "%s: association rejected: %s", calling, c.text());
        reject(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_NOREASON);
        return false;
    }
    if (ASC_countAcceptedPresentationContexts(assoc->params) == 0) {
        mcm_service_log(scp->service, MCM_LOG_WARNING,
                        "%s: association rejected: no proposed presentation context is acceptable", calling);
        reject(assoc, ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_NOREASON);
        return false;
    }
    c = ASC_acknowledgeAssociation(assoc);
    if (c.bad()) {
        mcm_service_log(scp->service, MCM_LOG_WARNING, "%s: cannot acknowledge the association: %s", calling, c.text());
        return false;
    }
    mcm_service_log(scp->service, MCM_LOG_DEBUG, "%s: association accepted (%d presentation contexts)", calling,
                    ASC_countAcceptedPresentationContexts(assoc->params));
    return true;
}

/* The body of a connection thread: receive the association, negotiate, serve, clean up. */
void serve_connection(Connection *connection)
{
    mcm_scp *scp = connection->scp;
    current_connection = connection;
    T_ASC_Association *assoc = nullptr;
    bool counted = false;
    try {
        OFCondition c = ASC_receiveAssociation(scp->network, &assoc, static_cast<long>(scp->max_pdu), nullptr, nullptr,
                                               OFFalse, DUL_NOBLOCK, 0);
        /* If accept() failed or found nothing, the transport layer was never called: report now. */
        if (!connection->accept_reported.exchange(true))
            write_byte(scp->wake_pipe[1]);
        if (c.good()) {
            char calling[20] = "", called[20] = "";
            (void)ASC_getAPTitles(assoc->params, calling, sizeof calling, called, sizeof called, nullptr, 0);
            if (negotiate(scp, assoc, calling, called, &counted)) {
                Session session(scp, connection, assoc, calling);
                session.serve();
            }
        } else if (c != DUL_NOASSOCIATIONREQUEST) {
            mcm_service_log(scp->service, MCM_LOG_DEBUG, "association not received: %s", c.text());
        }
    } catch (...) {
        mcm_service_log(scp->service, MCM_LOG_ERROR, "association thread: unexpected exception");
        if (assoc != nullptr)
            (void)ASC_abortAssociation(assoc);
    }
    if (assoc != nullptr) {
        (void)ASC_dropSCPAssociation(assoc, kDropTimeoutSeconds);
        (void)ASC_destroyAssociation(&assoc);
    }
    if (counted) {
        std::lock_guard<std::mutex> guard(scp->lock);
        scp->active_associations--;
    }
    current_connection = nullptr;
    connection->finished.store(true);
    write_byte(scp->wake_pipe[1]);
}

/* Join and forget the connections whose threads have ended. */
void reap(mcm_scp *scp, bool all)
{
    std::list<std::unique_ptr<Connection>> ended;
    {
        std::lock_guard<std::mutex> guard(scp->lock);
        for (auto it = scp->connections.begin(); it != scp->connections.end();) {
            if (all || (*it)->finished.load()) {
                ended.push_back(std::move(*it));
                it = scp->connections.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto &connection : ended)
        if (connection->thread.joinable())
            connection->thread.join();
}

size_t connection_count(mcm_scp *scp)
{
    std::lock_guard<std::mutex> guard(scp->lock);
    return scp->connections.size();
}

/* Replace the socket DCMTK listens on by ours, bound to the configured address and port:
 * DCMTK 3.6.7 binds INADDR_ANY and cannot be told otherwise. dup3() swaps the descriptor in place,
 * so DCMTK's network key keeps its number and closes ours in ASC_dropNetwork(). */
int bind_listener(mcm_scp *scp, const mcm_scp_options *opts)
{
    PRIVATE_NETWORKKEY *key = reinterpret_cast<PRIVATE_NETWORKKEY *>(scp->network->network);
    if (key == nullptr || key->networkSpecific.TCP.listenSocket < 0)
        return mcm_fail(MCM_EINTERNAL, "DCMTK's network has no listening socket");
    struct sockaddr_in address;
    std::memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons(opts->port);
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    if (opts->bind_address != nullptr && opts->bind_address[0] != '\0') {
        struct addrinfo hints;
        std::memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_INET;
        hints.ai_socktype = SOCK_STREAM;
        struct addrinfo *found = nullptr;
        int rc = getaddrinfo(opts->bind_address, nullptr, &hints, &found);
        if (rc != 0 || found == nullptr)
            return mcm_fail(MCM_EINVAL, "bind address %s: %s", opts->bind_address, gai_strerror(rc));
        address.sin_addr = reinterpret_cast<struct sockaddr_in *>(found->ai_addr)->sin_addr;
        freeaddrinfo(found);
    }
    /* Non-blocking: a connection that vanishes between our poll() and DCMTK's accept() must make
     * accept() fail at once (EAGAIN), not block the connection thread until the next client
     * (accepted sockets do not inherit O_NONBLOCK on Linux). */
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return mcm_fail(MCM_ENET, "socket: %s", std::strerror(errno));
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, reinterpret_cast<struct sockaddr *>(&address), sizeof address) != 0 || listen(fd, 64) != 0) {
        int error = errno;
        close(fd);
        char text[INET_ADDRSTRLEN] = "";
        inet_ntop(AF_INET, &address.sin_addr, text, sizeof text);
        return mcm_fail(error == EADDRINUSE ? MCM_EBUSY : MCM_ENET, "cannot listen on %s:%u: %s", text,
                        static_cast<unsigned>(opts->port), std::strerror(error));
    }
    socklen_t length = sizeof address;
    if (getsockname(fd, reinterpret_cast<struct sockaddr *>(&address), &length) != 0) {
        int error = errno;
        close(fd);
        return mcm_fail(MCM_ENET, "getsockname: %s", std::strerror(error));
    }
    int target = key->networkSpecific.TCP.listenSocket;
    /* dup3() keeps the file status flags (O_NONBLOCK) and sets close-on-exec on the copy. */
    if (dup3(fd, target, O_CLOEXEC) < 0) {
        int error = errno;
        close(fd);
        return mcm_fail(MCM_ENET, "dup3: %s", std::strerror(error));
    }
    close(fd);
    scp->listen_fd = target;
    scp->port = ntohs(address.sin_port);
    return MCM_OK;
}

/* Stop listening without closing the descriptor DCMTK owns: an unbound socket takes its place. */
void close_listener(mcm_scp *scp)
{
    if (scp->listen_fd < 0)
        return;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        (void)dup3(fd, scp->listen_fd, O_CLOEXEC);
        close(fd);
    }
}

int open_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0)
        return mcm_fail(MCM_EIO, "pipe: %s", std::strerror(errno));
    return MCM_OK;
}

void destroy(mcm_scp *scp)
{
    if (scp->network != nullptr)
        (void)ASC_dropNetwork(&scp->network);
    delete scp->layer;
    for (int fd : {scp->stop_pipe[0], scp->stop_pipe[1], scp->wake_pipe[0], scp->wake_pipe[1]})
        if (fd >= 0)
            close(fd);
    mcm_service_close(scp->service);
    delete scp;
}

int create(mcm_scp **out, const mcm_scp_options *caller_opts)
{
    if (out == nullptr || caller_opts == nullptr)
        return mcm_fail(MCM_EINVAL, "mcm_scp_new: NULL argument");
    *out = nullptr;
    /* Only the caller's version of its struct is read (lib/core/options.h). */
    mcm_scp_options full = MCM_SCP_OPTIONS_INIT;
    int version_rc = mcm_options_read(&full, sizeof full, caller_opts, &mcm_scp_options_versions);
    if (version_rc != MCM_OK)
        return version_rc;
    const mcm_scp_options *opts = &full;
    if (opts->max_pdu != 0 && (opts->max_pdu < ASC_MINIMUMPDUSIZE || opts->max_pdu > ASC_MAXIMUMPDUSIZE))
        return mcm_fail(MCM_EINVAL, "max_pdu %u outside %u..%u", static_cast<unsigned>(opts->max_pdu),
                        static_cast<unsigned>(ASC_MINIMUMPDUSIZE), static_cast<unsigned>(ASC_MAXIMUMPDUSIZE));
    if (!dcmDataDict.isDictionaryLoaded())
        return mcm_fail(MCM_EINTERNAL, "DCMTK's data dictionary is not loaded (DCMDICTPATH?)");

    std::unique_ptr<mcm_scp> scp(new (std::nothrow) mcm_scp());
    if (!scp)
        return mcm_fail(MCM_ENOMEM, "out of memory");
    scp->max_associations = opts->max_associations > 0 ? opts->max_associations : 16;
    scp->acse_timeout = opts->acse_timeout_seconds > 0 ? opts->acse_timeout_seconds : 30;
    scp->dimse_timeout = opts->dimse_timeout_seconds > 0 ? opts->dimse_timeout_seconds : 300;
    scp->max_pdu = opts->max_pdu != 0 ? opts->max_pdu : 65536;
    scp->annex_c_details = opts->annex_c_details != 0;

    int rc = mcm_service_open(&scp->service, opts);
    if (rc != MCM_OK)
        return rc;
    mcm_scp *raw = scp.release();
    if ((rc = open_pipe(raw->stop_pipe)) != MCM_OK || (rc = open_pipe(raw->wake_pipe)) != MCM_OK) {
        destroy(raw);
        return rc;
    }
    /* Serialised process-wide: DCMTK's first initialisation (SIGPIPE ignored, DUL tables) sits
     * behind an unsynchronised static (dcmtk-notes section 5). */
    OFCondition c = mcm_initialize_network(NET_ACCEPTOR, 0, raw->acse_timeout, &raw->network);
    if (c.bad()) {
        destroy(raw);
        return mcm_fail(MCM_ENET, "cannot initialise the network: %s", c.text());
    }
    if ((rc = bind_listener(raw, opts)) != MCM_OK) {
        destroy(raw);
        return rc;
    }
    raw->layer = new (std::nothrow) ScpTransportLayer(opts->tcp_tuning != 0);
    if (raw->layer == nullptr) {
        destroy(raw);
        return mcm_fail(MCM_ENOMEM, "out of memory");
    }
    c = ASC_setTransportLayer(raw->network, raw->layer, 0);
    if (c.bad()) {
        destroy(raw);
        return mcm_fail(MCM_ENET, "cannot install the transport layer: %s", c.text());
    }
    mcm_service_log(raw->service, MCM_LOG_DEBUG, "listening on port %u as %s", static_cast<unsigned>(raw->port),
                    mcm_service_ae_title(raw->service));
    *out = raw;
    return MCM_OK;
}

/* Start a connection thread for a connection waiting on the listening socket. false if no thread
 * could be made (the connection is then accepted and closed, so that the loop does not spin). */
Connection *start_connection(mcm_scp *scp)
{
    Connection *raw = new (std::nothrow) Connection(scp);
    bool listed = false;
    try {
        if (raw != nullptr) {
            std::lock_guard<std::mutex> guard(scp->lock);
            scp->connections.emplace_back(raw); /* the list owns it from here */
            listed = true;
            /* Under the lock, so that the list never holds a connection whose thread is not set. */
            raw->thread = std::thread(serve_connection, raw);
            return raw;
        }
    } catch (...) {
        std::lock_guard<std::mutex> guard(scp->lock);
        if (listed)
            scp->connections.remove_if([raw](const std::unique_ptr<Connection> &c) { return c.get() == raw; });
        else
            delete raw;
    }
    mcm_service_log(scp->service, MCM_LOG_ERROR, "cannot start an association thread: closing the connection");
    int fd = accept4(scp->listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0)
        close(fd);
    return nullptr;
}

int run(mcm_scp *scp)
{
    if (scp->ran.exchange(1) != 0)
        return mcm_fail(MCM_ESTATE, "mcm_scp_run: the SCP has already run");
    if (scp->stop_requested.load() != 0) {
        close_listener(scp);
        return MCM_OK;
    }
    int rc = mcm_service_start(scp->service);
    if (rc != MCM_OK)
        return rc;
    const size_t max_connections = scp->max_associations + kExtraConnections;
    Connection *accepting = nullptr; /* started, not yet past accept(): do not poll the listener */
    int failure = 0;                 /* errno of a failed poll: the loop ends as for a stop */
    while (scp->stop_requested.load() == 0) {
        if (accepting != nullptr && (accepting->accept_reported.load() || accepting->finished.load()))
            accepting = nullptr;
        reap(scp, false);
        bool listen_now = accepting == nullptr && connection_count(scp) < max_connections;
        struct pollfd fds[3];
        fds[0] = {scp->stop_pipe[0], POLLIN, 0};
        fds[1] = {scp->wake_pipe[0], POLLIN, 0};
        fds[2] = {scp->listen_fd, POLLIN, 0};
        int n = poll(fds, listen_now ? 3 : 2, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            failure = errno;
            mcm_service_log(scp->service, MCM_LOG_ERROR, "poll: %s: stopping", std::strerror(failure));
            /* Associations end only when they see a stop (StopAwareConnection): raise it, or
             * idle ones would hold this function up until their DIMSE timeout. */
            mcm_scp_stop(scp);
            break;
        }
        if (fds[1].revents != 0)
            drain(scp->wake_pipe[0]);
        if (listen_now && (fds[2].revents & POLLIN) != 0 && scp->stop_requested.load() == 0)
            accepting = start_connection(scp);
    }

    /* Stopping: no new associations; requests in flight finish; the rest is aborted (the
     * transport's waits end at once); after the grace period every read is cut. */
    close_listener(scp);
    int64_t grace_end = now_ms() + kStopGraceMilliseconds;
    for (;;) {
        reap(scp, false);
        if (connection_count(scp) == 0)
            break;
        int64_t left = grace_end - now_ms();
        if (left <= 0 && scp->force_interrupt.exchange(1) == 0)
            mcm_service_log(scp->service, MCM_LOG_WARNING, "stop: cutting requests still in flight");
        struct pollfd wake = {scp->wake_pipe[0], POLLIN, 0};
        (void)poll(&wake, 1, left > 0 ? static_cast<int>(left < 200 ? left : 200) : 200);
        drain(scp->wake_pipe[0]);
    }
    reap(scp, true);
    mcm_service_stop(scp->service);
    mcm_service_log(scp->service, MCM_LOG_DEBUG, "stopped");
    if (failure != 0)
        return mcm_fail(MCM_ENET, "mcm_scp_run: waiting for connections failed: %s", std::strerror(failure));
    return MCM_OK;
}

} // namespace

extern "C" {

MCM_EXTERN int mcm_scp_new(mcm_scp **out, const mcm_scp_options *opts)
{
    try {
        return create(out, opts);
    } catch (...) {
        return mcm_fail(MCM_EINTERNAL, "mcm_scp_new: unexpected exception");
    }
}

MCM_EXTERN uint16_t mcm_scp_port(const mcm_scp *scp)
{
    return scp != nullptr ? scp->port : 0;
}

MCM_EXTERN int mcm_scp_run(mcm_scp *scp)
{
    if (scp == nullptr)
        return mcm_fail(MCM_EINVAL, "mcm_scp_run: NULL SCP");
    try {
        return run(scp);
    } catch (...) {
        return mcm_fail(MCM_EINTERNAL, "mcm_scp_run: unexpected exception");
    }
}

/* Async-signal-safe: a lock-free atomic store and one write() to a non-blocking pipe. */
MCM_EXTERN void mcm_scp_stop(mcm_scp *scp)
{
    if (scp == nullptr)
        return;
    int saved_errno = errno;
    scp->stop_requested.store(1);
    write_byte(scp->stop_pipe[1]);
    errno = saved_errno;
}

MCM_EXTERN int mcm_scp_get_job(mcm_scp *scp, const char *instance_uid, mcm_job **out)
{
    if (scp == nullptr || instance_uid == nullptr || out == nullptr)
        return mcm_fail(MCM_EINVAL, "mcm_scp_get_job: NULL argument");
    return mcm_service_job(scp->service, instance_uid, out);
}

MCM_EXTERN void mcm_scp_free(mcm_scp *scp)
{
    if (scp == nullptr)
        return;
    try {
        reap(scp, true);
        destroy(scp);
    } catch (...) {
    }
}

} // extern "C"
