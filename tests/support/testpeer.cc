/*
 * tests/support/testpeer.cc: a scripted Media Creation Management peer over DCMTK's raw ASC_/DIMSE_ API,
 * serving one association at a time in its own thread (testpeer.h). The network is created on the
 * caller's thread, so the port is listening before mcm_test_peer_start() returns and DCMTK's
 * one-time network set-up never races.
 */
#include "testpeer.h"

#include "dcmtk/dataset.h"
#include "dcmtk/transport.h"
#include "testutil.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dimse.h>

#include <arpa/inet.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

/* The peer's transport: ours (tuned or plain TCP, as the options say), remembering the socket of
 * the association being served (one at a time) so that the peer can write broken PDUs on it. */
class PeerLayer : public McmTransportLayer
{
  public:
    explicit PeerLayer(bool tune) : McmTransportLayer(tune)
    {
    }
    DcmTransportConnection *createConnection(DcmNativeSocketType socket, OFBool useSecureLayer) override
    {
        last_socket.store(socket);
        return McmTransportLayer::createConnection(socket, useSecureLayer);
    }
    std::atomic<int> last_socket{-1};
};

struct mcm_test_peer {
    mcm_test_peer_options options;
    std::string ae_title;
    uint16_t port = 0;
    T_ASC_Network *network = NULL;
    std::unique_ptr<PeerLayer> layer;
    std::thread thread;
    std::atomic<bool> stop{false};

    std::mutex lock; /* guards everything below */
    std::deque<mcm_test_reply> replies;
    mcm_test_reply last_reply;
    std::vector<mcm_test_received> received;
    std::vector<mcm_request *> decoded;
    std::vector<std::string> proposed;
    int associations_started = 0;
    int associations_done = 0;
};

namespace
{

DcmTagKey key_of(uint32_t tag)
{
    return DcmTagKey((Uint16)(tag >> 16), (Uint16)(tag & 0xFFFF));
}

mcm_test_reply next_reply(mcm_test_peer *peer)
{
    std::lock_guard<std::mutex> guard(peer->lock);
    if (!peer->replies.empty()) {
        peer->last_reply = peer->replies.front();
        peer->replies.pop_front();
    }
    return peer->last_reply;
}

void record(mcm_test_peer *peer, mcm_test_received &entry, DcmDataset *data)
{
    mcm_request *request = NULL;
    if (data != NULL && mcm_request_from_dataset(*data, &request) == MCM_OK)
        entry.data = request;
    std::lock_guard<std::mutex> guard(peer->lock);
    if (request != NULL)
        peer->decoded.push_back(request);
    peer->received.push_back(entry);
}

void put_tags(DcmDataset &detail, const DcmTagKey &key, const uint32_t *tags, size_t count)
{
    if (count == 0)
        return;
    DcmAttributeTag *at = new DcmAttributeTag(key);
    for (size_t i = 0; i < count; i++)
        at->putTagVal(key_of(tags[i]), (unsigned long)i);
    detail.insert(at, OFTrue);
}

/* Status detail of reply (empty if it has none). */
void build_detail(const mcm_test_reply &reply, DcmDataset &detail)
{
    if (reply.error_comment != NULL)
        detail.putAndInsertString(DCM_ErrorComment, reply.error_comment);
    if (reply.has_error_id)
        detail.putAndInsertUint16(DCM_ErrorID, reply.error_id);
    put_tags(detail, DCM_OffendingElement, reply.offending, reply.offending_count);
    put_tags(detail, DCM_AttributeIdentifierList, reply.attribute_identifiers, reply.attribute_identifier_count);
}

void write_all(int fd, const unsigned char *bytes, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, bytes, n);
        if (w <= 0)
            return;
        bytes += w;
        n -= (size_t)w;
    }
}

/* Keep the connection until the other side closes it (or the peer stops, or 60 s pass: a bound for
 * a broken build). */
void wait_until_closed(mcm_test_peer *peer, int fd)
{
    double end = mcm_test_now_ms() + 60000;
    while (!peer->stop && mcm_test_now_ms() < end) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 100) > 0) {
            char buffer[512];
            if (read(fd, buffer, sizeof buffer) <= 0)
                return;
        }
    }
}

/* Do what how says instead of the protocol's next PDU. The socket is shut down rather than
 * closed, so that DCMTK, which owns the descriptor, closes it once (a second close could hit a
 * descriptor another thread of the test has opened meanwhile). */
void misbehave(mcm_test_peer *peer, T_ASC_Association *assoc, int how)
{
    static const unsigned char half_pdu[] = {0x04, 0, 0, 0, 0, 100, 0, 0, 0, 96};
    static const unsigned char partial_header[] = {0x04, 0, 0};
    static const unsigned char unknown_pdu[] = {0x55, 0, 0, 0, 0, 2, 'x', 'x'};
    static const unsigned char overlong_pdu[] = {0x04, 0, 0x7F, 0xFF, 0xFF, 0xFF};
    int fd = peer->layer->last_socket.load();
    switch (how) {
    case MCM_TEST_ABORT: ASC_abortAssociation(assoc); return;
    case MCM_TEST_CLOSE: shutdown(fd, SHUT_RDWR); return;
    case MCM_TEST_SILENT: wait_until_closed(peer, fd); return;
    case MCM_TEST_RELEASE: ASC_releaseAssociation(assoc); return; /* the SCU answers with an A-ABORT */
    case MCM_TEST_HALF_PDU:
        write_all(fd, half_pdu, sizeof half_pdu);
        shutdown(fd, SHUT_RDWR);
        return;
    case MCM_TEST_PARTIAL_HEADER: write_all(fd, partial_header, sizeof partial_header); break;
    case MCM_TEST_UNKNOWN_PDU: write_all(fd, unknown_pdu, sizeof unknown_pdu); break;
    case MCM_TEST_OVERLONG_PDU: write_all(fd, overlong_pdu, sizeof overlong_pdu); break;
    default: return;
    }
    wait_until_closed(peer, fd);
}

/* Answer one N-service request; false if the association ended. */
bool answer(mcm_test_peer *peer, T_ASC_Association *assoc, T_ASC_PresentationContextID context,
            T_DIMSE_Message &request, mcm_test_received &entry)
{
    DcmDataset *data = NULL;
    T_DIMSE_DataSetType data_set_type = DIMSE_DATASET_NULL;
    std::vector<uint32_t> asked;
    DIC_US id = 0;
    switch (request.CommandField) {
    case DIMSE_N_CREATE_RQ:
        id = request.msg.NCreateRQ.MessageID;
        data_set_type = request.msg.NCreateRQ.DataSetType;
        OFStandard::strlcpy(entry.sop_class_uid, request.msg.NCreateRQ.AffectedSOPClassUID, 65);
        if (request.msg.NCreateRQ.opts & O_NCREATE_AFFECTEDSOPINSTANCEUID)
            OFStandard::strlcpy(entry.sop_instance_uid, request.msg.NCreateRQ.AffectedSOPInstanceUID, 65);
        break;
    case DIMSE_N_ACTION_RQ:
        id = request.msg.NActionRQ.MessageID;
        data_set_type = request.msg.NActionRQ.DataSetType;
        OFStandard::strlcpy(entry.sop_class_uid, request.msg.NActionRQ.RequestedSOPClassUID, 65);
        OFStandard::strlcpy(entry.sop_instance_uid, request.msg.NActionRQ.RequestedSOPInstanceUID, 65);
        entry.action_type_id = request.msg.NActionRQ.ActionTypeID;
        break;
    case DIMSE_N_GET_RQ: {
        T_DIMSE_N_GetRQ &rq = request.msg.NGetRQ;
        id = rq.MessageID;
        data_set_type = rq.DataSetType;
        OFStandard::strlcpy(entry.sop_class_uid, rq.RequestedSOPClassUID, 65);
        OFStandard::strlcpy(entry.sop_instance_uid, rq.RequestedSOPInstanceUID, 65);
        for (int i = 0; i + 1 < rq.ListCount; i += 2)
            asked.push_back(MCM_TAG(rq.AttributeIdentifierList[i], rq.AttributeIdentifierList[i + 1]));
        free(rq.AttributeIdentifierList); /* allocated by DCMTK's parser with malloc */
        rq.AttributeIdentifierList = NULL;
        entry.attribute_count = asked.size() < 64 ? asked.size() : 64;
        for (size_t i = 0; i < entry.attribute_count; i++)
            entry.attributes[i] = asked[i];
        break;
    }
    default: return false;
    }
    entry.message_id = id;
    if (data_set_type != DIMSE_DATASET_NULL) {
        T_ASC_PresentationContextID data_context = 0;
        OFCondition c = DIMSE_receiveDataSetInMemory(assoc, DIMSE_BLOCKING, 0, &data_context, &data, NULL, NULL);
        if (c.bad())
            return false;
        entry.has_data_set = 1;
    }
    std::unique_ptr<DcmDataset> data_owner(data);
    record(peer, entry, data);

    mcm_test_reply reply = next_reply(peer);
    if (reply.delay_ms > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(reply.delay_ms));
    if (reply.abort_instead || reply.instead != MCM_TEST_BEHAVE) {
        misbehave(peer, assoc, reply.abort_instead ? MCM_TEST_ABORT : reply.instead);
        return false;
    }
    DcmDataset reply_data;
    if (reply.data != NULL)
        mcm_dataset_from_job(reply.data, asked.empty() ? NULL : asked.data(), asked.size(), reply_data);
    /* An empty data set cannot be sent as present (dcmtk-notes section 1). */
    T_DIMSE_DataSetType reply_type = reply_data.card() > 0 ? DIMSE_DATASET_PRESENT : DIMSE_DATASET_NULL;
    T_DIMSE_Message rsp;
    memset(&rsp, 0, sizeof rsp);
    switch (request.CommandField) {
    case DIMSE_N_CREATE_RSP:
    case DIMSE_N_CREATE_RQ: {
        rsp.CommandField = DIMSE_N_CREATE_RSP;
        T_DIMSE_N_CreateRSP &r = rsp.msg.NCreateRSP;
        r.MessageIDBeingRespondedTo = id;
        r.DimseStatus = reply.status;
        r.DataSetType = reply_type;
        OFStandard::strlcpy(r.AffectedSOPClassUID, MCM_SOP_CLASS_UID, sizeof r.AffectedSOPClassUID);
        r.opts = O_NCREATE_AFFECTEDSOPCLASSUID;
        if (reply.affected_sop_instance_uid != NULL) {
            OFStandard::strlcpy(r.AffectedSOPInstanceUID, reply.affected_sop_instance_uid,
                                sizeof r.AffectedSOPInstanceUID);
            r.opts |= O_NCREATE_AFFECTEDSOPINSTANCEUID;
        }
        break;
    }
    case DIMSE_N_ACTION_RQ: {
        rsp.CommandField = DIMSE_N_ACTION_RSP;
        T_DIMSE_N_ActionRSP &r = rsp.msg.NActionRSP;
        r.MessageIDBeingRespondedTo = id;
        r.DimseStatus = reply.status;
        r.DataSetType = reply_type;
        OFStandard::strlcpy(r.AffectedSOPClassUID, MCM_SOP_CLASS_UID, sizeof r.AffectedSOPClassUID);
        r.opts = O_NACTION_AFFECTEDSOPCLASSUID;
        if (reply.affected_sop_instance_uid != NULL) {
            OFStandard::strlcpy(r.AffectedSOPInstanceUID, reply.affected_sop_instance_uid,
                                sizeof r.AffectedSOPInstanceUID);
            r.opts |= O_NACTION_AFFECTEDSOPINSTANCEUID;
        }
        if (reply.has_action_type_id) {
            r.ActionTypeID = reply.action_type_id;
            r.opts |= O_NACTION_ACTIONTYPEID;
        }
        break;
    }
    default: {
        rsp.CommandField = DIMSE_N_GET_RSP;
        T_DIMSE_N_GetRSP &r = rsp.msg.NGetRSP;
        r.MessageIDBeingRespondedTo = id;
        r.DimseStatus = reply.status;
        r.DataSetType = reply_type;
        OFStandard::strlcpy(r.AffectedSOPClassUID, MCM_SOP_CLASS_UID, sizeof r.AffectedSOPClassUID);
        r.opts = O_NGET_AFFECTEDSOPCLASSUID;
        if (reply.affected_sop_instance_uid != NULL) {
            OFStandard::strlcpy(r.AffectedSOPInstanceUID, reply.affected_sop_instance_uid,
                                sizeof r.AffectedSOPInstanceUID);
            r.opts |= O_NGET_AFFECTEDSOPINSTANCEUID;
        }
        break;
    }
    }
    DcmDataset detail;
    build_detail(reply, detail);
    OFCondition c =
        DIMSE_sendMessageUsingMemoryData(assoc, context, &rsp, detail.card() > 0 ? &detail : NULL,
                                         reply_type == DIMSE_DATASET_PRESENT ? &reply_data : NULL, NULL, NULL);
    return c.good();
}

void serve_association(mcm_test_peer *peer, T_ASC_Association *assoc, int number)
{
    while (!peer->stop) {
        T_DIMSE_Message request;
        memset(&request, 0, sizeof request);
        T_ASC_PresentationContextID context = 0;
        DcmDataset *detail = NULL;
        OFCondition c = DIMSE_receiveCommand(assoc, DIMSE_NONBLOCKING, 1, &context, &request, &detail);
        delete detail;
        if (c == DIMSE_NODATAAVAILABLE)
            continue;
        if (c == DUL_PEERREQUESTEDRELEASE) {
            if (peer->options.on_release != MCM_TEST_BEHAVE)
                misbehave(peer, assoc, peer->options.on_release);
            else
                ASC_acknowledgeRelease(assoc);
            return;
        }
        if (c.bad())
            return;
        mcm_test_received entry{};
        entry.at_ms = mcm_test_now_ms();
        entry.association = number;
        T_ASC_PresentationContext pc;
        if (ASC_findAcceptedPresentationContext(assoc->params, context, &pc).good())
            OFStandard::strlcpy(entry.transfer_syntax, pc.acceptedTransferSyntax, sizeof entry.transfer_syntax);
        if (request.CommandField == DIMSE_C_ECHO_RQ) {
            OFStandard::strlcpy(entry.command, "C-ECHO-RQ", sizeof entry.command);
            OFStandard::strlcpy(entry.sop_class_uid, request.msg.CEchoRQ.AffectedSOPClassUID, 65);
            entry.message_id = request.msg.CEchoRQ.MessageID;
            record(peer, entry, NULL);
            if (DIMSE_sendEchoResponse(assoc, context, &request.msg.CEchoRQ, STATUS_Success, NULL).bad())
                return;
            continue;
        }
        const char *name = request.CommandField == DIMSE_N_CREATE_RQ   ? "N-CREATE-RQ"
                           : request.CommandField == DIMSE_N_ACTION_RQ ? "N-ACTION-RQ"
                           : request.CommandField == DIMSE_N_GET_RQ    ? "N-GET-RQ"
                                                                       : NULL;
        if (name == NULL) {
            ASC_abortAssociation(assoc);
            return;
        }
        OFStandard::strlcpy(entry.command, name, sizeof entry.command);
        if (!answer(peer, assoc, context, request, entry))
            return;
    }
}

void run(mcm_test_peer *peer)
{
    while (!peer->stop) {
        T_ASC_Association *assoc = NULL;
        OFCondition c =
            ASC_receiveAssociation(peer->network, &assoc, ASC_DEFAULTMAXPDU, NULL, NULL, OFFalse, DUL_NOBLOCK, 1);
        if (c.bad() || peer->stop) {
            if (assoc != NULL) {
                ASC_dropSCPAssociation(assoc);
                ASC_destroyAssociation(&assoc);
            }
            continue;
        }
        std::vector<std::string> proposed;
        int count = ASC_countPresentationContexts(assoc->params);
        for (int i = 0; i < count; i++) {
            T_ASC_PresentationContext pc;
            if (ASC_getPresentationContext(assoc->params, i, &pc).bad())
                continue;
            std::string line = std::string(pc.abstractSyntax) + ":";
            for (int k = 0; k < pc.transferSyntaxCount; k++)
                line += std::string(" ") + pc.proposedTransferSyntaxes[k];
            proposed.push_back(line);
        }
        char calling[65] = "", called[65] = "";
        ASC_getAPTitles(assoc->params, calling, sizeof calling, called, sizeof called, NULL, 0);
        int number;
        {
            std::lock_guard<std::mutex> guard(peer->lock);
            peer->proposed = proposed;
            number = ++peer->associations_started;
        }
        bool wrong_ae = !peer->ae_title.empty() && peer->ae_title != called;
        if (peer->options.reject || wrong_ae) {
            T_ASC_RejectParameters rej = {ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER,
                                          wrong_ae ? ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED : ASC_REASON_SU_NOREASON};
            ASC_rejectAssociation(assoc, &rej);
        } else if (peer->options.on_associate != MCM_TEST_BEHAVE) {
            misbehave(peer, assoc, peer->options.on_associate);
        } else {
            const char *abstracts[] = {UID_VerificationSOPClass, MCM_SOP_CLASS_UID};
            const char *both[] = {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax};
            const char *implicit[] = {UID_LittleEndianImplicitTransferSyntax};
            ASC_acceptContextsWithPreferredTransferSyntaxes(assoc->params, abstracts, peer->options.accept_mcm ? 2 : 1,
                                                            peer->options.implicit_only ? implicit : both,
                                                            peer->options.implicit_only ? 1 : 2);
            if (ASC_acknowledgeAssociation(assoc).good())
                serve_association(peer, assoc, number);
        }
        ASC_dropSCPAssociation(assoc);
        ASC_destroyAssociation(&assoc);
        std::lock_guard<std::mutex> guard(peer->lock);
        peer->associations_done++;
    }
}

/* Wake a blocked ASC_receiveAssociation by connecting (it then fails and sees the stop flag). */
void poke(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    (void)connect(fd, (struct sockaddr *)&addr, sizeof addr);
    close(fd);
}

} // namespace

extern "C" void mcm_test_peer_options_init(mcm_test_peer_options *options)
{
    memset(options, 0, sizeof *options);
    options->accept_mcm = 1;
}

extern "C" mcm_test_peer *mcm_test_peer_start(const mcm_test_peer_options *options)
{
    std::unique_ptr<mcm_test_peer> peer(new mcm_test_peer());
    if (options != NULL)
        peer->options = *options;
    else
        mcm_test_peer_options_init(&peer->options);
    if (peer->options.ae_title != NULL)
        peer->ae_title = peer->options.ae_title;
    memset(&peer->last_reply, 0, sizeof peer->last_reply);
    for (int attempt = 0; attempt < 5 && peer->network == NULL; attempt++) {
        peer->port = mcm_test_free_port();
        if (mcm_initialize_network(NET_ACCEPTOR, peer->port, 30, &peer->network).bad())
            peer->network = NULL;
    }
    if (peer->network == NULL)
        return NULL;
    /* Untuned, the layer makes the plain DcmTCPConnection that DCMTK's default layer makes. */
    peer->layer.reset(new PeerLayer(peer->options.tcp_tuning != 0));
    ASC_setTransportLayer(peer->network, peer->layer.get(), 0);
    mcm_test_peer *p = peer.get();
    peer->thread = std::thread([p] { run(p); });
    return peer.release();
}

extern "C" uint16_t mcm_test_peer_port(const mcm_test_peer *peer)
{
    return peer->port;
}

extern "C" void mcm_test_peer_push_reply(mcm_test_peer *peer, const mcm_test_reply *reply)
{
    std::lock_guard<std::mutex> guard(peer->lock);
    peer->replies.push_back(*reply);
}

extern "C" size_t mcm_test_peer_received_count(mcm_test_peer *peer)
{
    std::lock_guard<std::mutex> guard(peer->lock);
    return peer->received.size();
}

extern "C" int mcm_test_peer_received(mcm_test_peer *peer, size_t index, mcm_test_received *out)
{
    std::lock_guard<std::mutex> guard(peer->lock);
    if (index >= peer->received.size())
        return -1;
    *out = peer->received[index];
    return 0;
}

extern "C" size_t mcm_test_peer_proposed(mcm_test_peer *peer, char (*lines)[512], size_t max)
{
    std::lock_guard<std::mutex> guard(peer->lock);
    size_t n = 0;
    for (; n < peer->proposed.size() && n < max; n++)
        OFStandard::strlcpy(lines[n], peer->proposed[n].c_str(), 512);
    return n;
}

extern "C" int mcm_test_peer_associations_done(mcm_test_peer *peer)
{
    std::lock_guard<std::mutex> guard(peer->lock);
    return peer->associations_done;
}

extern "C" void mcm_test_peer_stop(mcm_test_peer *peer)
{
    if (peer == NULL)
        return;
    peer->stop = true;
    poke(peer->port);
    if (peer->thread.joinable())
        peer->thread.join();
    ASC_dropNetwork(&peer->network);
    for (mcm_request *r : peer->decoded)
        mcm_request_free(r);
    delete peer;
}
