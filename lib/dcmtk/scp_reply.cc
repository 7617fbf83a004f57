/*
 * lib/dcmtk/scp_reply.cc: the SCP's replies on the wire (lib/dcmtk/scp_internal.h). Owns the
 * encoding of every response the SCP sends: which optional fields a status carries (PS3.7 Annex C,
 * or every detail the service gave: digest 7.5, 8.4, A18), the status detail elements (Error
 * Comment, Error ID, Offending Element, Attribute Identifier List), the Affected SOP Class and
 * Instance UIDs and Action Type ID, the data sets of N-CREATE and N-GET replies, and the 0211
 * replies to services the class does not have. It decides no status: the status and its detail
 * come from lib/scp/service.h through the session (scp_session.cc). Calls lib/dcmtk/dataset.h and
 * lib/core only.
 */
#include "dcmtk/scp_internal.h"

#include "core/error.h"
#include "core/status_internal.h"
#include "dcmtk/dataset.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrat.h>

#include <cstring>
#include <memory>
#include <new>

namespace
{

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

} // namespace

void mcm_scp_settle_local_failure(int rc, mcm_response &rsp, mcm_operation op)
{
    if (rc != MCM_OK && rsp.status == MCM_STATUS_SUCCESS)
        mcm_response_set(&rsp, op, MCM_STATUS_PROCESSING_FAILURE, "%s", mcm_last_error());
}

DcmDataset *mcm_scp_reply_detail(const mcm_response &rsp, mcm_operation op, bool annex_c_only)
{
    return status_detail(rsp, reply_fields(rsp, op, annex_c_only));
}

OFCondition mcm_scp_send_reply(T_ASC_Association *assoc, T_ASC_PresentationContextID pc, T_DIMSE_Message &reply,
                               DcmDataset *data, DcmDataset *detail)
{
    OFCondition c = DIMSE_sendMessageUsingMemoryData(assoc, pc, &reply, detail, data, nullptr, nullptr);
    delete detail;
    return c;
}

OFCondition mcm_scp_reply_echo(T_ASC_Association *assoc, T_ASC_PresentationContextID pc, T_DIMSE_C_EchoRQ &rq,
                               const mcm_response &rsp, bool annex_c_only)
{
    DcmDataset *detail = mcm_scp_reply_detail(rsp, MCM_OP_ANY, annex_c_only);
    OFCondition c = DIMSE_sendEchoResponse(assoc, pc, &rq, rsp.status, detail);
    delete detail;
    return c;
}

OFCondition mcm_scp_reply_store_refusal(T_ASC_Association *assoc, T_ASC_PresentationContextID pc, T_DIMSE_C_StoreRQ &rq,
                                        const mcm_response &rsp, bool annex_c_only)
{
    T_DIMSE_C_StoreRSP response;
    std::memset(&response, 0, sizeof response);
    response.MessageIDBeingRespondedTo = rq.MessageID;
    response.DataSetType = DIMSE_DATASET_NULL;
    response.DimseStatus = rsp.status;
    copy_uid(response.AffectedSOPClassUID, rq.AffectedSOPClassUID);
    copy_uid(response.AffectedSOPInstanceUID, rq.AffectedSOPInstanceUID);
    response.opts = O_STORE_AFFECTEDSOPCLASSUID | O_STORE_AFFECTEDSOPINSTANCEUID;
    DcmDataset *detail = mcm_scp_reply_detail(rsp, MCM_OP_ANY, annex_c_only);
    OFCondition c = DIMSE_sendStoreResponse(assoc, pc, &rq, &response, detail);
    delete detail;
    return c;
}

OFCondition mcm_scp_reply_create(T_ASC_Association *assoc, T_ASC_PresentationContextID pc, const T_DIMSE_N_CreateRQ &rq,
                                 const mcm_response &rsp, const char *requested_uid, const char *uid,
                                 const mcm_job *created, bool annex_c_only)
{
    T_DIMSE_Message reply;
    std::memset(&reply, 0, sizeof reply);
    reply.CommandField = DIMSE_N_CREATE_RSP;
    T_DIMSE_N_CreateRSP &r = reply.msg.NCreateRSP;
    r.MessageIDBeingRespondedTo = rq.MessageID;
    r.DimseStatus = rsp.status;
    r.DataSetType = DIMSE_DATASET_NULL;
    ReplyFields fields = reply_fields(rsp, MCM_OP_N_CREATE, annex_c_only);
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
    return mcm_scp_send_reply(assoc, pc, reply, data.get(), status_detail(rsp, fields));
}

OFCondition mcm_scp_reply_action(T_ASC_Association *assoc, T_ASC_PresentationContextID pc, const T_DIMSE_N_ActionRQ &rq,
                                 const mcm_response &rsp, bool annex_c_only)
{
    T_DIMSE_Message reply;
    std::memset(&reply, 0, sizeof reply);
    reply.CommandField = DIMSE_N_ACTION_RSP;
    T_DIMSE_N_ActionRSP &r = reply.msg.NActionRSP;
    r.MessageIDBeingRespondedTo = rq.MessageID;
    r.DimseStatus = rsp.status;
    r.DataSetType = DIMSE_DATASET_NULL; /* no Action Reply is defined for this class (digest 3.2) */
    ReplyFields fields = reply_fields(rsp, MCM_OP_N_ACTION, annex_c_only);
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
    return mcm_scp_send_reply(assoc, pc, reply, nullptr, status_detail(rsp, fields));
}

OFCondition mcm_scp_reply_get(T_ASC_Association *assoc, T_ASC_PresentationContextID pc, const T_DIMSE_N_GetRQ &rq,
                              mcm_response &rsp, const mcm_job *job, const uint32_t *selected, size_t selected_count,
                              bool annex_c_only)
{
    T_DIMSE_Message reply;
    std::memset(&reply, 0, sizeof reply);
    reply.CommandField = DIMSE_N_GET_RSP;
    T_DIMSE_N_GetRSP &r = reply.msg.NGetRSP;
    r.MessageIDBeingRespondedTo = rq.MessageID;
    r.DimseStatus = rsp.status;
    r.DataSetType = DIMSE_DATASET_NULL;
    ReplyFields fields = reply_fields(rsp, MCM_OP_N_GET, annex_c_only);
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
            fields = reply_fields(rsp, MCM_OP_N_GET, annex_c_only);
        } else if (data->card() == 0) {
            data.reset();
        } else {
            r.DataSetType = DIMSE_DATASET_PRESENT;
        }
    }
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
    return mcm_scp_send_reply(assoc, pc, reply, data.get(), detail);
}

bool mcm_scp_unprovided_reply(const T_DIMSE_Message &request, T_DIMSE_Message &reply, T_DIMSE_DataSetType *incoming,
                              const char **name, const char **uid)
{
    std::memset(&reply, 0, sizeof reply);
    *incoming = DIMSE_DATASET_NULL;
    *name = "request";
    *uid = nullptr;
    switch (request.CommandField) {
    case DIMSE_N_SET_RQ: {
        const T_DIMSE_N_SetRQ &rq = request.msg.NSetRQ;
        reply.CommandField = DIMSE_N_SET_RSP;
        refuse_n_request(rq, rq.RequestedSOPClassUID, rq.RequestedSOPInstanceUID, reply.msg.NSetRSP,
                         O_NSET_AFFECTEDSOPCLASSUID | O_NSET_AFFECTEDSOPINSTANCEUID, incoming);
        *name = "N-SET";
        *uid = rq.RequestedSOPInstanceUID;
        return true;
    }
    case DIMSE_N_DELETE_RQ: {
        const T_DIMSE_N_DeleteRQ &rq = request.msg.NDeleteRQ;
        reply.CommandField = DIMSE_N_DELETE_RSP;
        refuse_n_request(rq, rq.RequestedSOPClassUID, rq.RequestedSOPInstanceUID, reply.msg.NDeleteRSP,
                         O_NDELETE_AFFECTEDSOPCLASSUID | O_NDELETE_AFFECTEDSOPINSTANCEUID, incoming);
        *name = "N-DELETE";
        *uid = rq.RequestedSOPInstanceUID;
        return true;
    }
    case DIMSE_N_EVENT_REPORT_RQ: {
        const T_DIMSE_N_EventReportRQ &rq = request.msg.NEventReportRQ;
        reply.CommandField = DIMSE_N_EVENT_REPORT_RSP;
        refuse_n_request(rq, rq.AffectedSOPClassUID, rq.AffectedSOPInstanceUID, reply.msg.NEventReportRSP,
                         O_NEVENTREPORT_AFFECTEDSOPCLASSUID | O_NEVENTREPORT_AFFECTEDSOPINSTANCEUID |
                             O_NEVENTREPORT_EVENTTYPEID,
                         incoming);
        reply.msg.NEventReportRSP.EventTypeID = rq.EventTypeID;
        *name = "N-EVENT-REPORT";
        *uid = rq.AffectedSOPInstanceUID;
        return true;
    }
    case DIMSE_C_FIND_RQ:
        reply.CommandField = DIMSE_C_FIND_RSP;
        refuse_c_request(request.msg.CFindRQ, reply.msg.CFindRSP, O_FIND_AFFECTEDSOPCLASSUID, incoming);
        *name = "C-FIND";
        return true;
    case DIMSE_C_GET_RQ:
        reply.CommandField = DIMSE_C_GET_RSP;
        refuse_c_request(request.msg.CGetRQ, reply.msg.CGetRSP, O_GET_AFFECTEDSOPCLASSUID, incoming);
        *name = "C-GET";
        return true;
    case DIMSE_C_MOVE_RQ:
        reply.CommandField = DIMSE_C_MOVE_RSP;
        refuse_c_request(request.msg.CMoveRQ, reply.msg.CMoveRSP, O_MOVE_AFFECTEDSOPCLASSUID, incoming);
        *name = "C-MOVE";
        return true;
    default: return false;
    }
}
