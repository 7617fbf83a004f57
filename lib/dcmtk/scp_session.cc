/*
 * lib/dcmtk/scp_session.cc: one association of the SCP (lib/dcmtk/scp_internal.h). Owns the
 * exchange on an acknowledged association: waiting for the next request (DIMSE timeout, stop),
 * receiving its command and data set, checking the presentation context and SOP class it came on,
 * calling lib/scp/service.h for C-ECHO, C-STORE, N-CREATE, N-ACTION and N-GET, draining what the
 * class does not provide before its 0211 reply, and the end of the association (release, abort,
 * loss). Replies are encoded by scp_reply.cc; accepting the association was scp_negotiate.cc's job,
 * and its thread belongs to scp_accept.cc.
 */
#include "dcmtk/scp_internal.h"

#include "core/error.h"
#include "dcmtk/conditions.h"
#include "dcmtk/dataset.h"

#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/dulstruc.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>

namespace
{

enum class ContextKind { Verification, MediaCreation, Storage };

/* What an accepted context is for: we accept Verification, Media Creation Management, and
 * storage SOP classes only (scp_negotiate.cc), so every other accepted context is one of the
 * latter. */
ContextKind kind_of(const T_ASC_PresentationContext &ctx)
{
    if (std::strcmp(ctx.abstractSyntax, UID_VerificationSOPClass) == 0)
        return ContextKind::Verification;
    if (std::strcmp(ctx.abstractSyntax, UID_MediaCreationManagementSOPClass) == 0)
        return ContextKind::MediaCreation;
    return ContextKind::Storage;
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
        mcm_scp_settle_local_failure(rc, ctx->rsp, MCM_OP_ANY);
        if (rc != MCM_OK && ctx->rsp.status == MCM_STATUS_PROCESSING_FAILURE)
            ctx->rsp.status = STATUS_STORE_Refused_OutOfResources;
        response->DimseStatus = ctx->rsp.status;
    }
    ctx->detail = mcm_scp_reply_detail(ctx->rsp, MCM_OP_ANY, ctx->annex_c_only);
    *detail = ctx->detail;
}

class Session
{
  public:
    Session(mcm_scp *scp, mcm_scp_connection *connection, T_ASC_Association *assoc, const char *calling)
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
    OFCondition receive_request(T_ASC_PresentationContextID pc, T_DIMSE_DataSetType type, mcm_request **out, int *rc);
    void log_request(const char *operation, const char *uid, const mcm_response &rsp, mcm_operation op);
    bool wait_for_request();
    void end_after_failure(const OFCondition &c);

    mcm_scp *scp_;
    mcm_scp_connection *connection_;
    T_ASC_Association *assoc_;
    const char *calling_;
};

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

OFCondition Session::echo(T_ASC_PresentationContextID pc, const T_ASC_PresentationContext &ctx, T_DIMSE_C_EchoRQ &rq)
{
    mcm_response rsp;
    mcm_response_clear(&rsp);
    if (kind_of(ctx) != ContextKind::Verification) {
        mcm_response_set(&rsp, MCM_OP_ANY, MCM_STATUS_UNRECOGNIZED_OPERATION, "C-ECHO on a %s context",
                         ctx.abstractSyntax);
    } else {
        int rc = mcm_service_echo(scp_->service, calling_, &rsp);
        mcm_scp_settle_local_failure(rc, rsp, MCM_OP_ANY);
    }
    OFCondition c = mcm_scp_reply_echo(assoc_, pc, rq, rsp, scp_->annex_c_details);
    log_request("C-ECHO", nullptr, rsp, MCM_OP_ANY);
    return c;
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
        mcm_scp_settle_local_failure(rc, rsp, MCM_OP_ANY);
        if (rc != MCM_OK && rsp.status == MCM_STATUS_PROCESSING_FAILURE)
            rsp.status = STATUS_STORE_Refused_OutOfResources;
    }

    if (rsp.status != MCM_STATUS_SUCCESS) {
        /* Refused before the data set: drain it, then answer (PS3.7 allows an early failure, but
         * the data set must still be read off the wire to keep the association usable). */
        OFCondition c = drain_data_set(rq.DataSetType);
        if (c.bad())
            return c;
        c = mcm_scp_reply_store_refusal(assoc_, pc, rq, rsp, scp_->annex_c_details);
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
        /* Never sent (the association is lost): for the log, whose next line has DCMTK's text. */
        mcm_response_set(&store_ctx.rsp, MCM_OP_ANY, STATUS_STORE_Refused_OutOfResources, "receive failed: %s",
                         mcm_condition_classify(c).word);
    }
    log_request("C-STORE", rq.AffectedSOPInstanceUID, store_ctx.rsp, MCM_OP_ANY);
    return c;
}

OFCondition Session::create(T_ASC_PresentationContextID pc, const T_ASC_PresentationContext &ctx,
                            T_DIMSE_N_CreateRQ &rq)
{
    mcm_response rsp;
    mcm_response_clear(&rsp);
    /* An Affected SOP Instance UID sent empty is taken as not sent: the SCP assigns one (PS3.7
     * 10.1.5.1.4 makes it optional; a zero-length value carries no UID to object to). */
    const char *requested_uid = (rq.opts & O_NCREATE_AFFECTEDSOPINSTANCEUID) && rq.AffectedSOPInstanceUID[0] != '\0'
                                    ? rq.AffectedSOPInstanceUID
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
        mcm_scp_settle_local_failure(rc, rsp, MCM_OP_N_CREATE);
    }
    OFCondition c = mcm_scp_reply_create(assoc_, pc, rq, rsp, requested_uid, uid, created, scp_->annex_c_details);
    mcm_job_free(created);
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
        mcm_scp_settle_local_failure(rc, rsp, MCM_OP_N_ACTION);
    }
    OFCondition c = mcm_scp_reply_action(assoc_, pc, rq, rsp, scp_->annex_c_details);
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
        mcm_scp_settle_local_failure(rc, rsp, MCM_OP_N_GET);
    }
    c = mcm_scp_reply_get(assoc_, pc, rq, rsp, job, selected, selected_count, scp_->annex_c_details);
    mcm_job_free(job);
    std::free(selected);
    log_request("N-GET", rq.RequestedSOPInstanceUID, rsp, MCM_OP_N_GET);
    return c;
}

/* Everything this SCP does not provide (N-SET, N-DELETE, N-EVENT-REPORT, C-FIND, C-GET, C-MOVE):
 * drain any data set and answer 0211 Unrecognized operation, keeping the association (digest
 * 1.1, dcmtk-notes section 3). */
OFCondition Session::unrecognized(T_ASC_PresentationContextID pc, T_DIMSE_Message &msg)
{
    T_DIMSE_Message reply;
    T_DIMSE_DataSetType incoming = DIMSE_DATASET_NULL;
    const char *name = "request";
    const char *uid = nullptr;
    if (!mcm_scp_unprovided_reply(msg, reply, &incoming, &name, &uid))
        return makeDcmnetCondition(DIMSEC_UNEXPECTEDREQUEST, OF_error, "unexpected DIMSE message");
    OFCondition c = drain_data_set(incoming);
    if (c.bad())
        return c;
    mcm_response rsp;
    mcm_response_clear(&rsp);
    mcm_response_set(&rsp, MCM_OP_ANY, MCM_STATUS_UNRECOGNIZED_OPERATION, "%s is not provided", name);
    c = mcm_scp_send_reply(assoc_, pc, reply, nullptr, mcm_scp_reply_detail(rsp, MCM_OP_ANY, scp_->annex_c_details));
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
     * (StopAwareConnection in scp_accept.cc), so a stop ends it at once. */
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
        McmFailure failure = mcm_condition_classify(c).failure;
        if (failure == McmFailure::PeerReleased) {
            (void)ASC_acknowledgeRelease(assoc_);
            connection_->in_request.store(false);
            mcm_service_log(scp_->service, MCM_LOG_DEBUG, "%s: association released", calling_);
            return;
        }
        if (failure == McmFailure::PeerAborted) {
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
            end_after_failure(c);
            return;
        }
    }
}

/* The association failed in the middle of a request (receiving it, or sending the reply). */
void Session::end_after_failure(const OFCondition &c)
{
    McmConditionClass failure = mcm_condition_classify(c);
    std::string text = mcm_condition_text(c);
    if (failure.failure == McmFailure::PeerAborted) {
        /* Already over on the peer's side: nothing to send. */
        mcm_service_log(scp_->service, MCM_LOG_WARNING, "%s: association aborted by the peer during a request (%s)",
                        calling_, text.c_str());
        return;
    }
    mcm_service_log(scp_->service, MCM_LOG_WARNING, "%s: association aborted: %s: %s", calling_, failure.word,
                    text.c_str());
    (void)ASC_abortAssociation(assoc_);
}

} // namespace

void mcm_scp_serve_association(mcm_scp *scp, mcm_scp_connection *connection, T_ASC_Association *assoc,
                               const char *calling)
{
    Session session(scp, connection, assoc, calling);
    session.serve();
}
