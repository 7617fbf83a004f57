/*
 * tests/support/rawpeer.cc: peers that are not our SCU (see tests/support/rawpeer.h): a raw ASC_/DIMSE_ client
 * that behaves like a minimal or careless third-party MCM SCU, and a DcmSCU with Nagle on for the
 * round-trip timing of suite_nagle_scp. Test code: it may include DCMTK.
 */
#include "rawpeer.h"

#include "dcmtk/transport.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dcmlayer.h>
#include <dcmtk/dcmnet/dcmtrans.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/scu.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace
{

constexpr int kTimeoutSeconds = 30;
const T_ASC_PresentationContextID kVerificationContext = 1;
const T_ASC_PresentationContextID kMcmContext = 3;
const T_ASC_PresentationContextID kStorageContext = 5;
const T_ASC_PresentationContextID kExtraContext = 7;

/* DCMTK's first network initialisation is not thread-safe (dcmtk-notes section 5). */
std::mutex init_lock;

/* Plain TCP, Nagle untouched, remembering the socket so that a test can cut it. */
class RecordingLayer : public DcmTransportLayer
{
  public:
    DcmTransportConnection *createConnection(DcmNativeSocketType socket, OFBool) override
    {
        socket_fd = socket;
        return new DcmTCPConnection(socket);
    }
    int socket_fd = -1;
};

void set_error(char *error, const std::string &text)
{
    if (error != nullptr)
        std::snprintf(error, 256, "%s", text.c_str());
}

} // namespace

struct mcm_rawpeer {
    T_ASC_Network *network = nullptr;
    T_ASC_Association *assoc = nullptr;
    RecordingLayer layer;
    DIC_US next_message_id = 1;
    std::string mcm_syntax;
    bool dead = false;
};

namespace
{

void fill_reply(mcm_rawpeer_reply *reply, DcmDataset *detail)
{
    if (detail == nullptr)
        return;
    reply->detail_count = static_cast<int>(detail->card());
    OFString comment;
    if (detail->findAndGetOFString(DCM_ErrorComment, comment).good())
        std::snprintf(reply->error_comment, sizeof reply->error_comment, "%s", comment.c_str());
}

void fill_data(mcm_rawpeer_reply *reply, DcmDataset *data)
{
    if (data == nullptr)
        return;
    reply->has_data_set = 1;
    reply->data_set_count = static_cast<int>(data->card());
    OFString value;
    if (data->findAndGetOFString(DCM_ExecutionStatus, value).good())
        std::snprintf(reply->execution_status, sizeof reply->execution_status, "%s", value.c_str());
    if (data->findAndGetOFString(DCM_ExecutionStatusInfo, value).good())
        std::snprintf(reply->execution_status_info, sizeof reply->execution_status_info, "%s", value.c_str());
}

/* Send msg (+ data), then read the response command, its status detail and any data set. */
int exchange(mcm_rawpeer *peer, T_ASC_PresentationContextID pc, T_DIMSE_Message &msg, DcmDataset *data,
             mcm_rawpeer_reply *reply, T_DIMSE_Message *response_out = nullptr)
{
    std::memset(reply, 0, sizeof *reply);
    if (peer->dead || peer->assoc == nullptr)
        return -1;
    OFCondition c = DIMSE_sendMessageUsingMemoryData(peer->assoc, pc, &msg, nullptr, data, nullptr, nullptr);
    T_DIMSE_Message rsp;
    std::memset(&rsp, 0, sizeof rsp);
    T_ASC_PresentationContextID rsp_pc = 0;
    DcmDataset *detail = nullptr;
    if (c.good())
        c = DIMSE_receiveCommand(peer->assoc, DIMSE_NONBLOCKING, kTimeoutSeconds, &rsp_pc, &rsp, &detail);
    if (c.bad()) {
        peer->dead = true;
        return -1;
    }
    fill_reply(reply, detail);
    delete detail;
    T_DIMSE_DataSetType type = DIMSE_DATASET_NULL;
    switch (rsp.CommandField) {
    case DIMSE_C_ECHO_RSP: reply->status = rsp.msg.CEchoRSP.DimseStatus; break;
    case DIMSE_C_STORE_RSP: reply->status = rsp.msg.CStoreRSP.DimseStatus; break;
    case DIMSE_N_CREATE_RSP:
        reply->status = rsp.msg.NCreateRSP.DimseStatus;
        if (rsp.msg.NCreateRSP.opts & O_NCREATE_AFFECTEDSOPINSTANCEUID)
            std::snprintf(reply->affected_sop_instance_uid, 65, "%s", rsp.msg.NCreateRSP.AffectedSOPInstanceUID);
        type = rsp.msg.NCreateRSP.DataSetType;
        break;
    case DIMSE_N_ACTION_RSP:
        reply->status = rsp.msg.NActionRSP.DimseStatus;
        if (rsp.msg.NActionRSP.opts & O_NACTION_AFFECTEDSOPINSTANCEUID)
            std::snprintf(reply->affected_sop_instance_uid, 65, "%s", rsp.msg.NActionRSP.AffectedSOPInstanceUID);
        if (rsp.msg.NActionRSP.opts & O_NACTION_ACTIONTYPEID) {
            reply->has_action_type_id = 1;
            reply->action_type_id = rsp.msg.NActionRSP.ActionTypeID;
        }
        type = rsp.msg.NActionRSP.DataSetType;
        break;
    case DIMSE_N_GET_RSP:
        reply->status = rsp.msg.NGetRSP.DimseStatus;
        if (rsp.msg.NGetRSP.opts & O_NGET_AFFECTEDSOPINSTANCEUID)
            std::snprintf(reply->affected_sop_instance_uid, 65, "%s", rsp.msg.NGetRSP.AffectedSOPInstanceUID);
        type = rsp.msg.NGetRSP.DataSetType;
        break;
    case DIMSE_N_SET_RSP:
        reply->status = rsp.msg.NSetRSP.DimseStatus;
        type = rsp.msg.NSetRSP.DataSetType;
        break;
    case DIMSE_N_DELETE_RSP: reply->status = rsp.msg.NDeleteRSP.DimseStatus; break;
    case DIMSE_N_EVENT_REPORT_RSP:
        reply->status = rsp.msg.NEventReportRSP.DimseStatus;
        type = rsp.msg.NEventReportRSP.DataSetType;
        break;
    case DIMSE_C_FIND_RSP:
        reply->status = rsp.msg.CFindRSP.DimseStatus;
        type = rsp.msg.CFindRSP.DataSetType;
        break;
    default: peer->dead = true; return -1;
    }
    if (type != DIMSE_DATASET_NULL) {
        DcmDataset *received = nullptr;
        T_ASC_PresentationContextID data_pc = 0;
        c = DIMSE_receiveDataSetInMemory(peer->assoc, DIMSE_NONBLOCKING, kTimeoutSeconds, &data_pc, &received, nullptr,
                                         nullptr);
        if (c.bad()) {
            peer->dead = true;
            return -1;
        }
        fill_data(reply, received);
        delete received;
    }
    if (response_out != nullptr)
        *response_out = rsp;
    return 0;
}

void copy_uid(DIC_UI &to, const char *from)
{
    OFStandard::strlcpy(to, from, sizeof(DIC_UI));
}

} // namespace

extern "C" int mcm_rawpeer_connect(mcm_rawpeer **out, const mcm_rawpeer_options *opts, mcm_rawpeer_rejection *rejection,
                                   char *error)
{
    *out = nullptr;
    if (rejection != nullptr)
        std::memset(rejection, 0, sizeof *rejection);
    mcm_rawpeer *peer = new mcm_rawpeer();
    OFCondition c = mcm_initialize_network(NET_REQUESTOR, 0, kTimeoutSeconds, &peer->network);
    if (c.good())
        c = ASC_setTransportLayer(peer->network, &peer->layer, 0);
    T_ASC_Parameters *params = nullptr;
    if (c.good())
        c = ASC_createAssociationParameters(&params, ASC_DEFAULTMAXPDU);
    if (c.bad()) {
        set_error(error, c.text());
        mcm_rawpeer_free(peer);
        return -1;
    }
    char address[64];
    std::snprintf(address, sizeof address, "127.0.0.1:%u", static_cast<unsigned>(opts->port));
    ASC_setAPTitles(params, opts->calling_ae_title != nullptr ? opts->calling_ae_title : "RAWPEER",
                    opts->called_ae_title != nullptr ? opts->called_ae_title : "MCMSCP", nullptr);
    ASC_setPresentationAddresses(params, "localhost", address);
    const char *implicit_only[] = {UID_LittleEndianImplicitTransferSyntax};
    const char *both[] = {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax};
    const char **syntaxes = opts->implicit_only ? implicit_only : both;
    int count = opts->implicit_only ? 1 : 2;
    c = ASC_addPresentationContext(params, kVerificationContext, UID_VerificationSOPClass, syntaxes, count);
    if (c.good())
        c = ASC_addPresentationContext(params, kMcmContext, UID_MediaCreationManagementSOPClass, syntaxes, count);
    if (c.good() && opts->storage_sop_class != nullptr)
        c = ASC_addPresentationContext(params, kStorageContext, opts->storage_sop_class, syntaxes, count);
    if (c.good() && opts->extra_sop_class != nullptr)
        c = ASC_addPresentationContext(params, kExtraContext, opts->extra_sop_class, syntaxes, count);
    if (c.good())
        c = ASC_requestAssociation(peer->network, params, &peer->assoc);
    if (c.bad()) {
        int rc = -1;
        if (c == DUL_ASSOCIATIONREJECTED) {
            T_ASC_RejectParameters rej;
            ASC_getRejectParameters(params, &rej);
            if (rejection != nullptr) {
                rejection->result = rej.result;
                rejection->source = rej.source;
                rejection->reason = rej.reason;
            }
            rc = 1;
        }
        set_error(error, c.text());
        if (peer->assoc == nullptr)
            ASC_destroyAssociationParameters(&params);
        peer->dead = true;
        mcm_rawpeer_free(peer);
        return rc;
    }
    T_ASC_PresentationContext pc;
    if (ASC_findAcceptedPresentationContext(peer->assoc->params, kMcmContext, &pc).good())
        peer->mcm_syntax = pc.acceptedTransferSyntax;
    *out = peer;
    return 0;
}

extern "C" const char *mcm_rawpeer_mcm_syntax(const mcm_rawpeer *peer)
{
    return peer->mcm_syntax.c_str();
}

extern "C" int mcm_rawpeer_accepted_count(const mcm_rawpeer *peer)
{
    return ASC_countAcceptedPresentationContexts(peer->assoc->params);
}

extern "C" int mcm_rawpeer_echo(mcm_rawpeer *peer, mcm_rawpeer_reply *reply)
{
    T_DIMSE_Message msg;
    std::memset(&msg, 0, sizeof msg);
    msg.CommandField = DIMSE_C_ECHO_RQ;
    msg.msg.CEchoRQ.MessageID = peer->next_message_id++;
    copy_uid(msg.msg.CEchoRQ.AffectedSOPClassUID, UID_VerificationSOPClass);
    msg.msg.CEchoRQ.DataSetType = DIMSE_DATASET_NULL;
    return exchange(peer, kVerificationContext, msg, nullptr, reply);
}

extern "C" int mcm_rawpeer_create(mcm_rawpeer *peer, const char *sop_class_uid, const char *sop_instance_uid,
                                  const char *requested_uid, uint32_t extra_tag, const char *extra_value,
                                  mcm_rawpeer_reply *reply)
{
    DcmDataset data;
    DcmItem *item = nullptr;
    if (data.findOrCreateSequenceItem(DCM_ReferencedSOPSequence, item, -2).bad() || item == nullptr)
        return -1;
    item->putAndInsertString(DCM_ReferencedSOPClassUID, sop_class_uid);
    item->putAndInsertString(DCM_ReferencedSOPInstanceUID, sop_instance_uid);
    if (extra_tag != 0 &&
        data.putAndInsertString(DcmTagKey(static_cast<Uint16>(extra_tag >> 16), static_cast<Uint16>(extra_tag)),
                                extra_value != nullptr ? extra_value : "")
            .bad())
        return -1;
    T_DIMSE_Message msg;
    std::memset(&msg, 0, sizeof msg);
    msg.CommandField = DIMSE_N_CREATE_RQ;
    msg.msg.NCreateRQ.MessageID = peer->next_message_id++;
    copy_uid(msg.msg.NCreateRQ.AffectedSOPClassUID, UID_MediaCreationManagementSOPClass);
    msg.msg.NCreateRQ.DataSetType = DIMSE_DATASET_PRESENT;
    if (requested_uid != nullptr) {
        copy_uid(msg.msg.NCreateRQ.AffectedSOPInstanceUID, requested_uid);
        msg.msg.NCreateRQ.opts = O_NCREATE_AFFECTEDSOPINSTANCEUID;
    }
    return exchange(peer, kMcmContext, msg, &data, reply);
}

extern "C" int mcm_rawpeer_create_minimal(mcm_rawpeer *peer, const char *sop_class_uid, const char *sop_instance_uid,
                                          mcm_rawpeer_reply *reply)
{
    /* No Affected SOP Instance UID: the SCP assigns it. */
    return mcm_rawpeer_create(peer, sop_class_uid, sop_instance_uid, nullptr, 0, nullptr, reply);
}

extern "C" int mcm_rawpeer_action(mcm_rawpeer *peer, const char *uid, uint16_t action_type_id, mcm_rawpeer_reply *reply)
{
    T_DIMSE_Message msg;
    std::memset(&msg, 0, sizeof msg);
    msg.CommandField = DIMSE_N_ACTION_RQ;
    msg.msg.NActionRQ.MessageID = peer->next_message_id++;
    copy_uid(msg.msg.NActionRQ.RequestedSOPClassUID, UID_MediaCreationManagementSOPClass);
    copy_uid(msg.msg.NActionRQ.RequestedSOPInstanceUID, uid);
    msg.msg.NActionRQ.ActionTypeID = action_type_id;
    msg.msg.NActionRQ.DataSetType = DIMSE_DATASET_NULL;
    return exchange(peer, kMcmContext, msg, nullptr, reply);
}

extern "C" int mcm_rawpeer_get_all(mcm_rawpeer *peer, const char *uid, mcm_rawpeer_reply *reply)
{
    T_DIMSE_Message msg;
    std::memset(&msg, 0, sizeof msg);
    msg.CommandField = DIMSE_N_GET_RQ;
    msg.msg.NGetRQ.MessageID = peer->next_message_id++;
    copy_uid(msg.msg.NGetRQ.RequestedSOPClassUID, UID_MediaCreationManagementSOPClass);
    copy_uid(msg.msg.NGetRQ.RequestedSOPInstanceUID, uid);
    msg.msg.NGetRQ.DataSetType = DIMSE_DATASET_NULL;
    msg.msg.NGetRQ.ListCount = 0;
    msg.msg.NGetRQ.AttributeIdentifierList = nullptr;
    return exchange(peer, kMcmContext, msg, nullptr, reply);
}

extern "C" int mcm_rawpeer_set(mcm_rawpeer *peer, const char *uid, mcm_rawpeer_reply *reply)
{
    DcmDataset data;
    data.putAndInsertString(DCM_LabelText, "changed by N-SET");
    T_DIMSE_Message msg;
    std::memset(&msg, 0, sizeof msg);
    msg.CommandField = DIMSE_N_SET_RQ;
    msg.msg.NSetRQ.MessageID = peer->next_message_id++;
    copy_uid(msg.msg.NSetRQ.RequestedSOPClassUID, UID_MediaCreationManagementSOPClass);
    copy_uid(msg.msg.NSetRQ.RequestedSOPInstanceUID, uid);
    msg.msg.NSetRQ.DataSetType = DIMSE_DATASET_PRESENT;
    return exchange(peer, kMcmContext, msg, &data, reply);
}

extern "C" int mcm_rawpeer_event_report(mcm_rawpeer *peer, const char *uid, mcm_rawpeer_reply *reply)
{
    DcmDataset data;
    data.putAndInsertString(DCM_ExecutionStatus, "DONE");
    T_DIMSE_Message msg;
    std::memset(&msg, 0, sizeof msg);
    msg.CommandField = DIMSE_N_EVENT_REPORT_RQ;
    msg.msg.NEventReportRQ.MessageID = peer->next_message_id++;
    copy_uid(msg.msg.NEventReportRQ.AffectedSOPClassUID, UID_MediaCreationManagementSOPClass);
    copy_uid(msg.msg.NEventReportRQ.AffectedSOPInstanceUID, uid);
    msg.msg.NEventReportRQ.EventTypeID = 1;
    msg.msg.NEventReportRQ.DataSetType = DIMSE_DATASET_PRESENT;
    return exchange(peer, kMcmContext, msg, &data, reply);
}

extern "C" int mcm_rawpeer_find(mcm_rawpeer *peer, mcm_rawpeer_reply *reply)
{
    DcmDataset identifier;
    identifier.putAndInsertString(DCM_PatientID, "*");
    T_DIMSE_Message msg;
    std::memset(&msg, 0, sizeof msg);
    msg.CommandField = DIMSE_C_FIND_RQ;
    msg.msg.CFindRQ.MessageID = peer->next_message_id++;
    copy_uid(msg.msg.CFindRQ.AffectedSOPClassUID, UID_MediaCreationManagementSOPClass);
    msg.msg.CFindRQ.Priority = DIMSE_PRIORITY_MEDIUM;
    msg.msg.CFindRQ.DataSetType = DIMSE_DATASET_PRESENT;
    return exchange(peer, kMcmContext, msg, &identifier, reply);
}

extern "C" int mcm_rawpeer_delete(mcm_rawpeer *peer, const char *uid, mcm_rawpeer_reply *reply)
{
    T_DIMSE_Message msg;
    std::memset(&msg, 0, sizeof msg);
    msg.CommandField = DIMSE_N_DELETE_RQ;
    msg.msg.NDeleteRQ.MessageID = peer->next_message_id++;
    copy_uid(msg.msg.NDeleteRQ.RequestedSOPClassUID, UID_MediaCreationManagementSOPClass);
    copy_uid(msg.msg.NDeleteRQ.RequestedSOPInstanceUID, uid);
    msg.msg.NDeleteRQ.DataSetType = DIMSE_DATASET_NULL;
    return exchange(peer, kMcmContext, msg, nullptr, reply);
}

extern "C" int mcm_rawpeer_wrong_contexts(mcm_rawpeer *peer, const char *uid, mcm_rawpeer_reply *echo_reply,
                                          mcm_rawpeer_reply *get_reply)
{
    T_DIMSE_Message msg;
    std::memset(&msg, 0, sizeof msg);
    msg.CommandField = DIMSE_C_ECHO_RQ;
    msg.msg.CEchoRQ.MessageID = peer->next_message_id++;
    copy_uid(msg.msg.CEchoRQ.AffectedSOPClassUID, UID_VerificationSOPClass);
    msg.msg.CEchoRQ.DataSetType = DIMSE_DATASET_NULL;
    if (exchange(peer, kMcmContext, msg, nullptr, echo_reply) != 0)
        return -1;
    std::memset(&msg, 0, sizeof msg);
    msg.CommandField = DIMSE_N_GET_RQ;
    msg.msg.NGetRQ.MessageID = peer->next_message_id++;
    copy_uid(msg.msg.NGetRQ.RequestedSOPClassUID, UID_MediaCreationManagementSOPClass);
    copy_uid(msg.msg.NGetRQ.RequestedSOPInstanceUID, uid);
    msg.msg.NGetRQ.DataSetType = DIMSE_DATASET_NULL;
    return exchange(peer, kVerificationContext, msg, nullptr, get_reply);
}

extern "C" int mcm_rawpeer_store(mcm_rawpeer *peer, const char *path, mcm_rawpeer_reply *reply)
{
    std::memset(reply, 0, sizeof *reply);
    DcmFileFormat file;
    if (file.loadFile(path).bad())
        return -1;
    DcmDataset *data = file.getDataset();
    OFString sop_class, sop_instance;
    data->findAndGetOFString(DCM_SOPClassUID, sop_class);
    data->findAndGetOFString(DCM_SOPInstanceUID, sop_instance);
    T_DIMSE_Message msg;
    std::memset(&msg, 0, sizeof msg);
    msg.CommandField = DIMSE_C_STORE_RQ;
    T_DIMSE_C_StoreRQ &rq = msg.msg.CStoreRQ;
    rq.MessageID = peer->next_message_id++;
    copy_uid(rq.AffectedSOPClassUID, sop_class.c_str());
    copy_uid(rq.AffectedSOPInstanceUID, sop_instance.c_str());
    rq.DataSetType = DIMSE_DATASET_PRESENT;
    rq.Priority = DIMSE_PRIORITY_MEDIUM;
    return exchange(peer, kStorageContext, msg, data, reply);
}

namespace
{

struct CutContext {
    int socket_fd;
    bool cut;
};

void cut_after_first_pdv(void *context, unsigned long)
{
    CutContext *cut = static_cast<CutContext *>(context);
    if (!cut->cut && cut->socket_fd >= 0) {
        /* Only shutdown(): the descriptor still belongs to DCMTK, which closes it later. */
        shutdown(cut->socket_fd, SHUT_RDWR);
        cut->cut = true;
    }
}

} // namespace

extern "C" int mcm_rawpeer_drop_mid_dataset(mcm_rawpeer *peer)
{
    if (peer->dead || peer->assoc == nullptr)
        return -1;
    DcmDataset data;
    DcmItem *item = nullptr;
    data.findOrCreateSequenceItem(DCM_ReferencedSOPSequence, item, -2);
    item->putAndInsertString(DCM_ReferencedSOPClassUID, "1.2.840.10008.5.1.4.1.1.2");
    item->putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3.4.5.6.7.8.9");
    std::string label(300000, 'x'); /* several PDVs at any PDU size the SCP may offer */
    data.putAndInsertString(DCM_LabelText, label.c_str());
    T_DIMSE_Message msg;
    std::memset(&msg, 0, sizeof msg);
    msg.CommandField = DIMSE_N_CREATE_RQ;
    msg.msg.NCreateRQ.MessageID = peer->next_message_id++;
    copy_uid(msg.msg.NCreateRQ.AffectedSOPClassUID, UID_MediaCreationManagementSOPClass);
    msg.msg.NCreateRQ.DataSetType = DIMSE_DATASET_PRESENT;
    CutContext cut = {peer->layer.socket_fd, false};
    (void)DIMSE_sendMessageUsingMemoryData(peer->assoc, kMcmContext, &msg, nullptr, &data, cut_after_first_pdv, &cut);
    peer->dead = true;
    return cut.cut ? 0 : -1;
}

extern "C" int mcm_rawpeer_send_raw(mcm_rawpeer *peer, const void *bytes, size_t n, int close_after)
{
    if (peer->dead || peer->assoc == nullptr || peer->layer.socket_fd < 0)
        return -1;
    peer->dead = true;
    const char *p = static_cast<const char *>(bytes);
    while (n > 0) {
        ssize_t w = write(peer->layer.socket_fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= static_cast<size_t>(w);
    }
    /* Shut down, not closed: DCMTK owns the descriptor and closes it in mcm_rawpeer_free(). */
    if (close_after)
        shutdown(peer->layer.socket_fd, SHUT_RDWR);
    return 0;
}

extern "C" int mcm_rawpeer_abort(mcm_rawpeer *peer)
{
    if (peer->assoc == nullptr)
        return -1;
    OFCondition c = ASC_abortAssociation(peer->assoc);
    peer->dead = true;
    return c.good() ? 0 : -1;
}

extern "C" int mcm_rawpeer_drop(mcm_rawpeer *peer)
{
    if (peer->assoc == nullptr || peer->layer.socket_fd < 0)
        return -1;
    /* Linger 0: close() sends a TCP RST, no A-RELEASE or A-ABORT ever leaves. */
    struct linger hard = {1, 0};
    setsockopt(peer->layer.socket_fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    ASC_dropAssociation(peer->assoc);
    ASC_destroyAssociation(&peer->assoc);
    peer->dead = true;
    return 0;
}

extern "C" int mcm_rawpeer_release(mcm_rawpeer *peer)
{
    if (peer->dead || peer->assoc == nullptr)
        return -1;
    OFCondition c = ASC_releaseAssociation(peer->assoc);
    peer->dead = true;
    return c.good() ? 0 : -1;
}

extern "C" void mcm_rawpeer_free(mcm_rawpeer *peer)
{
    if (peer == nullptr)
        return;
    if (peer->assoc != nullptr) {
        if (!peer->dead)
            ASC_releaseAssociation(peer->assoc);
        ASC_dropAssociation(peer->assoc);
        ASC_destroyAssociation(&peer->assoc);
    }
    if (peer->network != nullptr)
        ASC_dropNetwork(&peer->network);
    delete peer;
}

extern "C" int mcm_rawpeer_silent_connection(uint16_t port, int hold_ms)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in address;
    std::memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, reinterpret_cast<struct sockaddr *>(&address), sizeof address);
    if (rc == 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
    close(fd);
    return rc == 0 ? 0 : -1;
}

/* ---- Nagle on: a DcmSCU left as Debian builds it -------------------------------------------- */

namespace
{

class NagleScu : public DcmSCU
{
  public:
    using DcmSCU::receiveDIMSECommand;
    using DcmSCU::receiveDIMSEDataset;
    using DcmSCU::sendDIMSEMessage;
};

double median(std::vector<double> values)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    size_t n = values.size();
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double elapsed_ms(std::chrono::steady_clock::time_point since)
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
}

} // namespace

extern "C" int mcm_test_nagle_client(uint16_t port, const char *called_ae_title, const char *sop_class_uid,
                                     const char *sop_instance_uid, int rounds, double *echo_median_ms,
                                     double *get_median_ms, char *error)
{
    NagleScu scu;
    scu.setPeerHostName("127.0.0.1");
    scu.setPeerPort(port);
    scu.setAETitle("NAGLESCU");
    scu.setPeerAETitle(called_ae_title);
    scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    scu.setDIMSETimeout(kTimeoutSeconds);
    scu.setACSETimeout(kTimeoutSeconds);
    OFList<OFString> syntaxes;
    syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
    syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
    scu.addPresentationContext(UID_VerificationSOPClass, syntaxes);
    scu.addPresentationContext(UID_MediaCreationManagementSOPClass, syntaxes);
    OFCondition c;
    {
        std::lock_guard<std::mutex> guard(init_lock);
        c = scu.initNetwork();
    }
    if (c.good())
        c = scu.negotiateAssociation();
    if (c.bad()) {
        set_error(error, std::string("association: ") + c.text());
        return -1;
    }
    T_ASC_PresentationContextID verification = scu.findPresentationContextID(UID_VerificationSOPClass, "");
    T_ASC_PresentationContextID mcm = scu.findPresentationContextID(UID_MediaCreationManagementSOPClass, "");
    if (verification == 0 || mcm == 0) {
        set_error(error, "no accepted context");
        return -1;
    }
    DIC_US message_id = 1000;

    /* One job to poll. */
    DcmDataset request;
    DcmItem *item = nullptr;
    request.findOrCreateSequenceItem(DCM_ReferencedSOPSequence, item, -2);
    item->putAndInsertString(DCM_ReferencedSOPClassUID, sop_class_uid);
    item->putAndInsertString(DCM_ReferencedSOPInstanceUID, sop_instance_uid);
    T_DIMSE_Message msg;
    std::memset(&msg, 0, sizeof msg);
    msg.CommandField = DIMSE_N_CREATE_RQ;
    msg.msg.NCreateRQ.MessageID = message_id++;
    OFStandard::strlcpy(msg.msg.NCreateRQ.AffectedSOPClassUID, UID_MediaCreationManagementSOPClass, sizeof(DIC_UI));
    msg.msg.NCreateRQ.DataSetType = DIMSE_DATASET_PRESENT;
    c = scu.sendDIMSEMessage(mcm, &msg, &request);
    T_DIMSE_Message rsp;
    std::memset(&rsp, 0, sizeof rsp);
    DcmDataset *detail = nullptr;
    T_ASC_PresentationContextID pc = mcm;
    if (c.good())
        c = scu.receiveDIMSECommand(&pc, &rsp, &detail);
    delete detail;
    if (c.bad() || rsp.CommandField != DIMSE_N_CREATE_RSP || rsp.msg.NCreateRSP.DimseStatus != 0) {
        set_error(error, std::string("N-CREATE failed: ") + c.text());
        return -1;
    }
    std::string uid = rsp.msg.NCreateRSP.AffectedSOPInstanceUID;
    if (rsp.msg.NCreateRSP.DataSetType != DIMSE_DATASET_NULL) {
        DcmDataset *created = nullptr;
        c = scu.receiveDIMSEDataset(&pc, &created);
        delete created;
        if (c.bad()) {
            set_error(error, std::string("N-CREATE data set: ") + c.text());
            return -1;
        }
    }

    std::vector<double> echo_times, get_times;
    for (int i = 0; i < rounds; i++) {
        auto start = std::chrono::steady_clock::now();
        c = scu.sendECHORequest(verification);
        if (c.bad()) {
            set_error(error, std::string("C-ECHO: ") + c.text());
            return -1;
        }
        echo_times.push_back(elapsed_ms(start));
    }
    static const DIC_US status_tags[] = {0x2100, 0x0020, 0x2100, 0x0030};
    for (int i = 0; i < rounds; i++) {
        auto start = std::chrono::steady_clock::now();
        std::memset(&msg, 0, sizeof msg);
        msg.CommandField = DIMSE_N_GET_RQ;
        msg.msg.NGetRQ.MessageID = message_id++;
        OFStandard::strlcpy(msg.msg.NGetRQ.RequestedSOPClassUID, UID_MediaCreationManagementSOPClass, sizeof(DIC_UI));
        OFStandard::strlcpy(msg.msg.NGetRQ.RequestedSOPInstanceUID, uid.c_str(), sizeof(DIC_UI));
        msg.msg.NGetRQ.DataSetType = DIMSE_DATASET_NULL;
        msg.msg.NGetRQ.ListCount = 4;
        msg.msg.NGetRQ.AttributeIdentifierList = const_cast<DIC_US *>(status_tags);
        c = scu.sendDIMSEMessage(mcm, &msg, nullptr);
        std::memset(&rsp, 0, sizeof rsp);
        detail = nullptr;
        pc = mcm;
        if (c.good())
            c = scu.receiveDIMSECommand(&pc, &rsp, &detail);
        delete detail;
        if (c.good() && rsp.CommandField == DIMSE_N_GET_RSP && rsp.msg.NGetRSP.DataSetType != DIMSE_DATASET_NULL) {
            DcmDataset *data = nullptr;
            c = scu.receiveDIMSEDataset(&pc, &data);
            delete data;
        }
        if (c.bad() || rsp.CommandField != DIMSE_N_GET_RSP || rsp.msg.NGetRSP.DimseStatus != 0) {
            set_error(error, std::string("N-GET failed: ") + c.text());
            return -1;
        }
        get_times.push_back(elapsed_ms(start));
    }
    scu.releaseAssociation();
    *echo_median_ms = median(echo_times);
    *get_median_ms = median(get_times);
    return 0;
}
