/*
 * lib/dcmtk/scu.cc: the network half of the SCU (include/dcmmcm/scu.h): one association with the
 * raw ASC_/DIMSE_ API of DCMTK (DcmSCU has no N-CREATE/N-GET and hides the association,
 * dcmtk-notes section 1), C-ECHO, C-STORE of files, N-CREATE, N-ACTION and N-GET, and the
 * translation of every DCMTK condition into an mcm_error with a message. Owns the association, the
 * network and the transport layer of one mcm_scu. Polling with backoff lives in lib/scu/wait.c;
 * data set conversion in dataset.cc; which DCMTK condition is which failure, in conditions.cc (this
 * file only says it for each phase: association, exchange, release). No exception leaves this
 * file.
 */
#include "dcmmcm/scu.h"

#include "dcmtk/conditions.h"
#include "dcmtk/dataset.h"
#include "core/error.h"
#include "core/log.h"
#include "core/options.h"
#include "core/request_internal.h"
#include "dcmtk/transport.h"
#include "core/vr.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/ofstd/ofstd.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <sstream>
#include <string>
#include <vector>

struct mcm_scu {
    T_ASC_Network *network = NULL;
    T_ASC_Association *association = NULL;
    McmTransportLayer *layer = NULL;
    /* The association is open and in a known state. A timeout, an abort or a protocol error
     * clears it: a late reply could otherwise be taken for the answer to the next request. */
    bool usable = false;
    Uint16 next_message_id = 1;
    int dimse_timeout = 60;
    mcm_log_fn log = NULL;
    void *log_user = NULL;
    mcm_log_level log_level = MCM_LOG_INFO;
    std::string peer; /* "host:port (AE)" for messages */

    ~mcm_scu()
    {
        if (association != NULL) {
            ASC_destroyAssociation(&association);
        }
        if (network != NULL)
            ASC_dropNetwork(&network);
        delete layer; /* installed without ownership: the network never deletes it */
    }
};

namespace
{

const char *const explicit_le = UID_LittleEndianExplicitTransferSyntax;
const char *const implicit_le = UID_LittleEndianImplicitTransferSyntax;

/* ---- logging (the SCU's own callback, not the process-wide handler) ---- */

bool wants(const mcm_scu *scu, mcm_log_level level)
{
    return scu->log != NULL && level <= scu->log_level;
}

void scu_log(const mcm_scu *scu, mcm_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

void scu_log(const mcm_scu *scu, mcm_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mcm_log_vcall(scu->log, scu->log_user, scu->log_level, level, fmt, ap);
    va_end(ap);
}

/* A data set at DEBUG, one line per element line of DCMTK's dump, at most max_lines. */
void log_dataset(const mcm_scu *scu, const char *title, DcmItem *dataset)
{
    if (!wants(scu, MCM_LOG_DEBUG) || dataset == NULL)
        return;
    const size_t max_lines = 200;
    std::ostringstream dump;
    dataset->print(dump);
    std::istringstream lines(dump.str());
    std::string line;
    size_t n = 0, total = 0;
    scu_log(scu, MCM_LOG_DEBUG, "%s:", title);
    while (std::getline(lines, line)) {
        total++;
        if (n < max_lines) {
            scu_log(scu, MCM_LOG_DEBUG, "  %s", line.c_str());
            n++;
        }
    }
    if (total > n)
        scu_log(scu, MCM_LOG_DEBUG, "  ... %zu more lines", total - n);
}

/* ---- errors ---- */

/* How to end an association that can no longer be trusted. */
enum ending { SEND_ABORT, CLOSE_CONNECTION, ALREADY_ENDED };

/* A responsive peer that broke the protocol gets an A-ABORT. A peer that did not answer in time
 * would not read one either, and DCMTK waits up to the ACSE timeout for the peer to close after
 * sending it, so its connection is simply closed (which peers treat as an A-P-ABORT). */
void give_up_association(mcm_scu *scu, ending how)
{
    if (scu->usable && scu->association != NULL) {
        if (how == SEND_ABORT)
            (void)ASC_abortAssociation(scu->association);
        else if (how == CLOSE_CONNECTION)
            (void)ASC_dropAssociation(scu->association);
    }
    scu->usable = false;
}

/* Turn a failed DIMSE exchange into an mcm_error, leaving the association unusable. */
int exchange_failure(mcm_scu *scu, const OFCondition &c, const char *what)
{
    McmConditionClass failure = mcm_condition_classify(c);
    const char *why;
    ending how = CLOSE_CONNECTION;
    switch (failure.failure) {
    case McmFailure::Timeout: why = "no reply within the DIMSE timeout; connection closed"; break;
    case McmFailure::PeerAborted:
        why = "the peer aborted the association (A-ABORT, or the connection closed)";
        how = ALREADY_ENDED;
        break;
    case McmFailure::PeerReleased:
        why = "the peer released the association in the middle of an exchange";
        how = SEND_ABORT;
        break;
    case McmFailure::ConnectionClosed:
        why = "the peer closed the connection";
        how = ALREADY_ENDED;
        break;
    case McmFailure::InvalidPdu: why = "the peer sent an invalid PDU; connection closed"; break;
    default: why = "network error"; break;
    }
    give_up_association(scu, how);
    std::string text = mcm_condition_text(c);
    scu_log(scu, MCM_LOG_ERROR, "%s with %s failed: %s (%s)", what, scu->peer.c_str(), why, text.c_str());
    return mcm_fail(failure.error, "%s with %s failed: %s (%s)", what, scu->peer.c_str(), why, text.c_str());
}

int protocol_failure(mcm_scu *scu, const char *what, const char *detail)
{
    give_up_association(scu, SEND_ABORT);
    scu_log(scu, MCM_LOG_ERROR, "%s: %s; association aborted", what, detail);
    return mcm_fail(MCM_EPROTOCOL, "%s: %s; association aborted", what, detail);
}

int check_usable(const mcm_scu *scu)
{
    if (scu == NULL)
        return mcm_fail(MCM_EINVAL, "scu is NULL");
    if (!scu->usable)
        return mcm_fail(MCM_ESTATE, "the association with %s is closed (released, aborted or failed)",
                        scu->peer.c_str());
    return MCM_OK;
}

bool uid_ok(const char *uid)
{
    return uid != NULL && mcm_uid_is_valid(uid);
}

/* Run body, turning exceptions into error codes. */
template <typename Body> int guarded(Body body)
{
    try {
        return body();
    } catch (const std::bad_alloc &) {
        return mcm_fail(MCM_ENOMEM, "out of memory");
    } catch (...) {
        return mcm_fail(MCM_EINTERNAL, "unexpected exception in the SCU");
    }
}

/* ---- presentation contexts ---- */

struct proposed_context {
    std::string abstract_syntax;
    std::vector<std::string> transfer_syntaxes;
};

void propose(std::vector<proposed_context> &contexts, const std::string &abstract_syntax,
             const std::vector<std::string> &transfer_syntaxes)
{
    for (const proposed_context &c : contexts)
        if (c.abstract_syntax == abstract_syntax && c.transfer_syntaxes == transfer_syntaxes)
            return;
    contexts.push_back(proposed_context{abstract_syntax, transfer_syntaxes});
}

/* SOP class and transfer syntax of a storage file, from its meta header (DcmFileFormat with
 * ERM_metaOnly: the data set is not read); a bare data set is read whole. */
int storage_syntax_of(const char *path, std::string &sop_class, std::string &transfer_syntax)
{
    DcmFileFormat file;
    OFCondition c = file.loadFile(path, EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_metaOnly);
    OFString value;
    if (c.good() && file.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, value).good() &&
        !value.empty()) {
        sop_class = value.c_str();
        if (file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, value).good() && !value.empty()) {
            transfer_syntax = value.c_str();
            return MCM_OK;
        }
    }
    DcmFileFormat whole;
    c = whole.loadFile(path);
    if (c.bad())
        return mcm_fail(MCM_EDICOM, "cannot read DICOM file %s: %s", path, c.text());
    if (whole.getDataset()->findAndGetOFString(DCM_SOPClassUID, value).bad() || value.empty())
        return mcm_fail(MCM_EDICOM, "%s has no SOP Class UID", path);
    sop_class = value.c_str();
    transfer_syntax = DcmXfer(whole.getDataset()->getOriginalXfer()).getXferID();
    return MCM_OK;
}

int build_contexts(const mcm_scu_options &opts, std::vector<proposed_context> &contexts)
{
    const std::vector<std::string> uncompressed = {explicit_le, implicit_le};
    propose(contexts, UID_VerificationSOPClass, uncompressed);
    propose(contexts, MCM_SOP_CLASS_UID, uncompressed);
    for (size_t i = 0; i < opts.store_file_count; i++) {
        std::string sop_class, syntax;
        if (opts.store_files[i] == NULL)
            return mcm_fail(MCM_EINVAL, "store_files[%zu] is NULL", i);
        int rc = storage_syntax_of(opts.store_files[i], sop_class, syntax);
        if (rc != MCM_OK)
            return rc;
        propose(contexts, sop_class, uncompressed);
        /* Any other syntax (compressed, deflated, big endian) gets a context of its own, so that
         * the peer can accept or refuse it separately from the uncompressed ones. */
        if (syntax != explicit_le && syntax != implicit_le)
            propose(contexts, sop_class, {syntax});
    }
    for (size_t i = 0; i < opts.store_sop_class_count; i++) {
        if (!uid_ok(opts.store_sop_classes[i]))
            return mcm_fail(MCM_EINVAL, "store_sop_classes[%zu] is not a valid UID", i);
        propose(contexts, opts.store_sop_classes[i], uncompressed);
    }
    if (contexts.size() > 128) /* odd context IDs 1..255 (PS3.8 9.3.2.2) */
        return mcm_fail(MCM_EINVAL, "%zu presentation contexts proposed; at most 128 fit in an association",
                        contexts.size());
    return MCM_OK;
}

/* ---- options ---- */

/* o is the complete copy mcm_options_read made, its version already checked. */
int check_options(const mcm_scu_options &o)
{
    if (o.peer_host == NULL || o.peer_host[0] == '\0')
        return mcm_fail(MCM_EINVAL, "peer_host is not set");
    if (strlen(o.peer_host) > 57) /* "host:port" must fit DUL's 63 characters */
        return mcm_fail(MCM_EINVAL, "peer_host is longer than 57 characters");
    if (o.peer_port == 0)
        return mcm_fail(MCM_EINVAL, "peer_port is 0");
    if (o.calling_ae_title != NULL && !mcm_ae_title_check(o.calling_ae_title))
        return mcm_fail(MCM_EINVAL, "calling AE title \"%.40s\" is not 1-16 printable characters", o.calling_ae_title);
    if (o.called_ae_title != NULL && !mcm_ae_title_check(o.called_ae_title))
        return mcm_fail(MCM_EINVAL, "called AE title \"%.40s\" is not 1-16 printable characters", o.called_ae_title);
    if (o.acse_timeout_seconds < 0 || o.dimse_timeout_seconds < 0)
        return mcm_fail(MCM_EINVAL, "timeouts must not be negative");
    if (o.max_pdu != 0 && (o.max_pdu < ASC_MINIMUMPDUSIZE || o.max_pdu > ASC_MAXIMUMPDUSIZE))
        return mcm_fail(MCM_EINVAL, "max_pdu %u is not in %u..%u", (unsigned)o.max_pdu, (unsigned)ASC_MINIMUMPDUSIZE,
                        (unsigned)ASC_MAXIMUMPDUSIZE);
    if ((o.store_file_count > 0 && o.store_files == NULL) ||
        (o.store_sop_class_count > 0 && o.store_sop_classes == NULL))
        return mcm_fail(MCM_EINVAL, "a storage list has a count but no array");
    if ((int)o.log_level < MCM_LOG_ERROR || (int)o.log_level > MCM_LOG_TRACE)
        return mcm_fail(MCM_EINVAL, "invalid log level %d", (int)o.log_level);
    if (o.tls != NULL)
        return mcm_fail(MCM_EUNSUPPORTED, "TLS is not available in this build");
    return MCM_OK;
}

const char *reject_result_text(const T_ASC_RejectParameters &r)
{
    return r.result == ASC_RESULT_REJECTEDTRANSIENT ? "transiently" : "permanently";
}

const char *reject_source_text(const T_ASC_RejectParameters &r)
{
    switch (r.source) {
    case ASC_SOURCE_SERVICEUSER: return "the service user";
    case ASC_SOURCE_SERVICEPROVIDER_ACSE_RELATED: return "the service provider (ACSE)";
    case ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED: return "the service provider (presentation)";
    }
    return "an unknown source";
}

const char *reject_reason_text(const T_ASC_RejectParameters &r)
{
    switch (r.reason) {
    case ASC_REASON_SU_NOREASON:
    case ASC_REASON_SP_ACSE_NOREASON: return "no reason given";
    case ASC_REASON_SU_APPCONTEXTNAMENOTSUPPORTED: return "application context name not supported";
    case ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED: return "calling AE title not recognized";
    case ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED: return "called AE title not recognized";
    case ASC_REASON_SP_ACSE_PROTOCOLVERSIONNOTSUPPORTED: return "protocol version not supported";
    case ASC_REASON_SP_PRES_TEMPORARYCONGESTION: return "temporary congestion";
    case ASC_REASON_SP_PRES_LOCALLIMITEXCEEDED: return "local limit exceeded";
    }
    return "unknown reason";
}

/* The error for a failed ASC_requestAssociation(). */
int association_failure(mcm_scu *scu, T_ASC_Parameters *params, const OFCondition &c)
{
    McmConditionClass failure = mcm_condition_classify(c);
    if (failure.failure == McmFailure::Rejected) {
        T_ASC_RejectParameters rej;
        ASC_getRejectParameters(params, &rej);
        scu_log(scu, MCM_LOG_ERROR, "association rejected by %s", scu->peer.c_str());
        return mcm_fail(MCM_EREJECTED, "%s rejected the association %s: %s (source: %s)", scu->peer.c_str(),
                        reject_result_text(rej), reject_reason_text(rej), reject_source_text(rej));
    }
    const char *why;
    switch (failure.failure) {
    case McmFailure::Timeout: why = "no association answer within the ACSE timeout"; break;
    case McmFailure::ConnectTimeout: why = "cannot connect within the ACSE timeout"; break;
    case McmFailure::PeerAborted:
        why = "the peer aborted the association request (A-ABORT, or the connection closed)";
        break;
    case McmFailure::UnknownHost: why = "cannot resolve the host name"; break;
    case McmFailure::ConnectFailed: why = "cannot connect (is an SCP listening there?)"; break;
    case McmFailure::InvalidPdu: why = "the peer answered with an invalid PDU"; break;
    default: why = "cannot negotiate an association"; break;
    }
    std::string text = mcm_condition_text(c);
    scu_log(scu, MCM_LOG_ERROR, "association with %s failed: %s (%s)", scu->peer.c_str(), why, text.c_str());
    return mcm_fail(failure.error, "%s: %s (%s)", scu->peer.c_str(), why, text.c_str());
}

/* ---- DIMSE exchange ---- */

T_DIMSE_BlockingMode blocking(const mcm_scu *scu)
{
    return scu->dimse_timeout > 0 ? DIMSE_NONBLOCKING : DIMSE_BLOCKING;
}

Uint16 next_id(mcm_scu *scu)
{
    Uint16 id = scu->next_message_id++;
    if (scu->next_message_id == 0)
        scu->next_message_id = 1;
    return id;
}

T_ASC_PresentationContextID mcm_context(mcm_scu *scu)
{
    return ASC_findAcceptedPresentationContextID(scu->association, MCM_SOP_CLASS_UID);
}

int no_mcm_context(const mcm_scu *scu)
{
    return mcm_fail(MCM_ENOCONTEXT, "%s did not accept the Media Creation Management SOP class (%s)", scu->peer.c_str(),
                    MCM_SOP_CLASS_UID);
}

/* Copy a string element's value (padding removed) into dst (size bytes, always terminated). */
void copy_string(DcmElement *element, char *dst, size_t size)
{
    char *value = NULL;
    Uint32 length = 0;
    dst[0] = '\0';
    if (element->getString(value, length).bad() || value == NULL)
        return;
    while (length > 0 && (value[length - 1] == ' ' || value[length - 1] == '\0'))
        length--;
    size_t n = length < size - 1 ? length : size - 1;
    memcpy(dst, value, n);
    dst[n] = '\0';
}

void add_tags(DcmElement *element, mcm_response *r, bool offending)
{
    if (element->ident() != EVR_AT)
        return;
    DcmAttributeTag *at = static_cast<DcmAttributeTag *>(element);
    unsigned long vm = at->getVM();
    for (unsigned long i = 0; i < vm; i++) {
        DcmTagKey key;
        if (at->getTagVal(key, i).bad())
            continue;
        uint32_t tag = MCM_TAG(key.getGroup(), key.getElement());
        if (offending)
            (void)mcm_response_add_offending(r, tag);
        else
            (void)mcm_response_add_attribute_identifier(r, tag);
    }
}

/* Status and status detail of a reply into r, decoded for op. */
void fill_response(mcm_response *r, mcm_operation op, Uint16 status, DcmDataset *detail)
{
    mcm_response_clear(r);
    r->status = status;
    r->category = mcm_status_category_of(status, op);
    if (detail == NULL)
        return;
    for (DcmObject *o = NULL; (o = detail->nextInContainer(o)) != NULL;) {
        DcmElement *element = static_cast<DcmElement *>(o);
        DcmTagKey key = o->getTag();
        Uint16 value = 0;
        if (key == DCM_ErrorComment)
            copy_string(element, r->error_comment, sizeof r->error_comment);
        else if (key == DCM_ErrorID && element->getUint16(value).good()) {
            r->has_error_id = 1;
            r->error_id = value;
        } else if (key == DCM_OffendingElement)
            add_tags(element, r, true);
        else if (key == DCM_AttributeIdentifierList)
            add_tags(element, r, false);
        else if (key == DCM_ActionTypeID && element->getUint16(value).good()) {
            r->has_action_type_id = 1;
            r->action_type_id = value;
        } else if (key == DCM_AffectedSOPInstanceUID)
            copy_string(element, r->affected_sop_instance_uid, sizeof r->affected_sop_instance_uid);
    }
}

/* The fields every response shares. */
struct reply_header {
    DIC_US id;
    T_DIMSE_DataSetType data_set_type;
    DIC_US status;
};

bool reply_header_of(const T_DIMSE_Message &m, reply_header &h)
{
    switch (m.CommandField) {
    case DIMSE_N_CREATE_RSP:
        h = {m.msg.NCreateRSP.MessageIDBeingRespondedTo, m.msg.NCreateRSP.DataSetType, m.msg.NCreateRSP.DimseStatus};
        return true;
    case DIMSE_N_ACTION_RSP:
        h = {m.msg.NActionRSP.MessageIDBeingRespondedTo, m.msg.NActionRSP.DataSetType, m.msg.NActionRSP.DimseStatus};
        return true;
    case DIMSE_N_GET_RSP:
        h = {m.msg.NGetRSP.MessageIDBeingRespondedTo, m.msg.NGetRSP.DataSetType, m.msg.NGetRSP.DimseStatus};
        return true;
    default: return false;
    }
}

const char *command_name(T_DIMSE_Command c)
{
    switch (c) {
    case DIMSE_N_CREATE_RQ: return "N-CREATE-RQ";
    case DIMSE_N_CREATE_RSP: return "N-CREATE-RSP";
    case DIMSE_N_ACTION_RQ: return "N-ACTION-RQ";
    case DIMSE_N_ACTION_RSP: return "N-ACTION-RSP";
    case DIMSE_N_GET_RQ: return "N-GET-RQ";
    case DIMSE_N_GET_RSP: return "N-GET-RSP";
    case DIMSE_C_ECHO_RSP: return "C-ECHO-RSP";
    case DIMSE_C_STORE_RSP: return "C-STORE-RSP";
    default: return "an unexpected command";
    }
}

/* Send request (with data, may be NULL) on the MCM context and receive the reply of type
 * expected: its command in reply, its status detail in detail (caller deletes) and its data set,
 * if any, in reply_data (caller deletes; NULL if none). */
int n_exchange(mcm_scu *scu, T_DIMSE_Message &request, DcmDataset *data, T_DIMSE_Command expected,
               T_DIMSE_Message &reply, DcmDataset *&detail, DcmDataset *&reply_data)
{
    const char *what = command_name(request.CommandField);
    DIC_US id = 0;
    switch (request.CommandField) {
    case DIMSE_N_CREATE_RQ: id = request.msg.NCreateRQ.MessageID; break;
    case DIMSE_N_ACTION_RQ: id = request.msg.NActionRQ.MessageID; break;
    case DIMSE_N_GET_RQ: id = request.msg.NGetRQ.MessageID; break;
    default: break;
    }
    detail = NULL;
    reply_data = NULL;
    T_ASC_PresentationContextID context = mcm_context(scu);
    if (context == 0)
        return no_mcm_context(scu);
    log_dataset(scu, "data set sent", data);
    OFCondition c = DIMSE_sendMessageUsingMemoryData(scu->association, context, &request, NULL, data, NULL, NULL);
    if (c.bad())
        return exchange_failure(scu, c, what);
    memset(&reply, 0, sizeof reply);
    T_ASC_PresentationContextID reply_context = 0;
    c = DIMSE_receiveCommand(scu->association, blocking(scu), scu->dimse_timeout, &reply_context, &reply, &detail);
    if (c.bad())
        return exchange_failure(scu, c, what);
    std::unique_ptr<DcmDataset> detail_owner(detail);
    reply_header header;
    if (reply.CommandField != expected || !reply_header_of(reply, header)) {
        char text[128];
        snprintf(text, sizeof text, "expected %s, received %s (0x%04X)", command_name(expected),
                 command_name(reply.CommandField), (unsigned)reply.CommandField);
        detail = NULL;
        return protocol_failure(scu, what, text);
    }
    if (header.id != id) {
        char text[128];
        snprintf(text, sizeof text, "reply answers message %u, not %u", (unsigned)header.id, (unsigned)id);
        detail = NULL;
        return protocol_failure(scu, what, text);
    }
    if (header.data_set_type != DIMSE_DATASET_NULL) {
        DcmDataset *received = NULL;
        c = DIMSE_receiveDataSetInMemory(scu->association, blocking(scu), scu->dimse_timeout, &reply_context, &received,
                                         NULL, NULL);
        if (c.bad()) {
            detail = NULL;
            return exchange_failure(scu, c, what);
        }
        reply_data = received;
        log_dataset(scu, "data set received", reply_data);
    }
    log_dataset(scu, "status detail received", detail);
    detail_owner.release();
    return MCM_OK;
}

void log_reply(const mcm_scu *scu, const char *name, DIC_US id, const mcm_response *r, mcm_operation op)
{
    if (!wants(scu, MCM_LOG_INFO))
        return;
    char text[512];
    mcm_response_format(r, op, text, sizeof text);
    scu_log(scu, MCM_LOG_INFO, "%s (message %u): %s", name, (unsigned)id, text);
}

int n_action(mcm_scu *scu, const char *instance_uid, Uint16 action_type, const mcm_request *information,
             mcm_response *response)
{
    int rc = check_usable(scu);
    if (rc != MCM_OK)
        return rc;
    if (!uid_ok(instance_uid))
        return mcm_fail(MCM_EINVAL, "instance UID \"%.70s\" is not a valid UID",
                        instance_uid ? instance_uid : "(null)");
    DcmDataset data;
    bool with_data = false;
    if (information != NULL) {
        rc = mcm_dataset_from_request(information, MCM_PART_INITIATE, data);
        if (rc != MCM_OK)
            return rc;
        /* Any other attribute a caller put into the Action Information goes too (private actions). */
        DcmDataset others;
        rc = mcm_dataset_from_request(information, MCM_PART_CREATE, others);
        if (rc != MCM_OK)
            return rc;
        DcmObject *o;
        while ((o = others.nextInContainer(NULL)) != NULL) {
            DcmElement *element = others.remove(o);
            if (element == NULL || data.insert(element, OFTrue).bad()) {
                delete element;
                return mcm_fail(MCM_EDICOM, "cannot build the Action Information");
            }
        }
        /* An empty data set cannot be sent as present (dcmtk-notes section 1). */
        with_data = data.card() > 0;
    }
    T_DIMSE_Message request;
    memset(&request, 0, sizeof request);
    request.CommandField = DIMSE_N_ACTION_RQ;
    T_DIMSE_N_ActionRQ &rq = request.msg.NActionRQ;
    rq.MessageID = next_id(scu);
    OFStandard::strlcpy(rq.RequestedSOPClassUID, MCM_SOP_CLASS_UID, sizeof rq.RequestedSOPClassUID);
    OFStandard::strlcpy(rq.RequestedSOPInstanceUID, instance_uid, sizeof rq.RequestedSOPInstanceUID);
    rq.ActionTypeID = action_type;
    rq.DataSetType = with_data ? DIMSE_DATASET_PRESENT : DIMSE_DATASET_NULL;
    scu_log(scu, MCM_LOG_INFO, "N-ACTION-RQ (message %u): action type %u%s on %s, %s", (unsigned)rq.MessageID,
            (unsigned)action_type,
            action_type == 1   ? " (Initiate)"
            : action_type == 2 ? " (Cancel)"
                               : "",
            instance_uid, with_data ? "with Action Information" : "no data set");
    T_DIMSE_Message reply;
    DcmDataset *detail = NULL, *reply_data = NULL;
    rc = n_exchange(scu, request, with_data ? &data : NULL, DIMSE_N_ACTION_RSP, reply, detail, reply_data);
    if (rc != MCM_OK)
        return rc;
    std::unique_ptr<DcmDataset> detail_owner(detail), data_owner(reply_data);
    const T_DIMSE_N_ActionRSP &rsp = reply.msg.NActionRSP;
    mcm_response local{};
    mcm_response *r = response != NULL ? response : &local;
    fill_response(r, MCM_OP_N_ACTION, rsp.DimseStatus, detail);
    if (rsp.opts & O_NACTION_ACTIONTYPEID) {
        r->has_action_type_id = 1;
        r->action_type_id = rsp.ActionTypeID;
    }
    if (rsp.opts & O_NACTION_AFFECTEDSOPINSTANCEUID)
        OFStandard::strlcpy(r->affected_sop_instance_uid, rsp.AffectedSOPInstanceUID,
                            sizeof r->affected_sop_instance_uid);
    log_reply(scu, "N-ACTION-RSP", rq.MessageID, r, MCM_OP_N_ACTION);
    return MCM_OK;
}

/* The accepted presentation contexts for sop_class. */
std::vector<T_ASC_PresentationContext> accepted_contexts(mcm_scu *scu, const char *sop_class)
{
    std::vector<T_ASC_PresentationContext> out;
    T_ASC_Parameters *params = scu->association->params;
    int count = ASC_countPresentationContexts(params);
    for (int i = 0; i < count; i++) {
        T_ASC_PresentationContext pc;
        if (ASC_getPresentationContext(params, i, &pc).good() && pc.resultReason == ASC_P_ACCEPTANCE &&
            strcmp(pc.abstractSyntax, sop_class) == 0)
            out.push_back(pc);
    }
    return out;
}

bool is_uncompressed(const char *transfer_syntax)
{
    DcmXfer x(transfer_syntax);
    return x.getXfer() != EXS_Unknown && x.isNotEncapsulated();
}

} // namespace

extern "C" {

MCM_EXTERN int mcm_scu_connect(mcm_scu **out, const mcm_scu_options *caller_opts)
{
    if (out == NULL || caller_opts == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_scu_connect: NULL argument");
    *out = NULL;
    /* Only the caller's version of its struct is read (lib/core/options.h). */
    mcm_scu_options full = MCM_SCU_OPTIONS_INIT;
    int rc = mcm_options_read(&full, sizeof full, caller_opts, &mcm_scu_options_versions);
    if (rc != MCM_OK)
        return rc;
    const mcm_scu_options *opts = &full;
    rc = check_options(*opts);
    if (rc != MCM_OK)
        return rc;
    return guarded([&]() -> int {
        std::unique_ptr<mcm_scu> scu(new mcm_scu());
        const char *calling = opts->calling_ae_title != NULL ? opts->calling_ae_title : "MCMSCU";
        const char *called = opts->called_ae_title != NULL ? opts->called_ae_title : "MCMSCP";
        int acse_timeout = opts->acse_timeout_seconds > 0 ? opts->acse_timeout_seconds : 30;
        scu->dimse_timeout = opts->dimse_timeout_seconds;
        scu->log = opts->log;
        scu->log_user = opts->log_user;
        scu->log_level = opts->log_level;
        char address[64];
        snprintf(address, sizeof address, "%s:%u", opts->peer_host, (unsigned)opts->peer_port);
        scu->peer = std::string(address) + " (" + called + ")";

        std::vector<proposed_context> contexts;
        int rc2 = build_contexts(*opts, contexts);
        if (rc2 != MCM_OK)
            return rc2;

        OFCondition c = mcm_initialize_network(NET_REQUESTOR, 0, acse_timeout, &scu->network);
        if (c.bad())
            return mcm_fail(MCM_ENET, "cannot initialise the network: %s", c.text());
        scu->layer = new McmTransportLayer(opts->tcp_tuning != 0);
        c = ASC_setTransportLayer(scu->network, scu->layer, 0);
        if (c.bad())
            return mcm_fail(MCM_ENET, "cannot install the transport layer: %s", c.text());

        T_ASC_Parameters *params = NULL;
        c = ASC_createAssociationParameters(&params, (long)(opts->max_pdu != 0 ? opts->max_pdu : 65536));
        if (c.bad())
            return mcm_fail(MCM_ENOMEM, "cannot create association parameters: %s", c.text());
        ASC_setAPTitles(params, calling, called, NULL);
        ASC_setPresentationAddresses(params, OFStandard::getHostName().c_str(), address);
        for (size_t i = 0; i < contexts.size() && c.good(); i++) {
            std::vector<const char *> syntaxes;
            for (const std::string &s : contexts[i].transfer_syntaxes)
                syntaxes.push_back(s.c_str());
            c = ASC_addPresentationContext(params, (T_ASC_PresentationContextID)(2 * i + 1),
                                           contexts[i].abstract_syntax.c_str(), syntaxes.data(), (int)syntaxes.size());
        }
        if (c.bad()) {
            ASC_destroyAssociationParameters(&params);
            return mcm_fail(MCM_EINVAL, "cannot add a presentation context: %s", c.text());
        }
        /* DCMTK's connect timeout is a process-wide setting (dcmConnectionTimeout, the same one
         * DcmSCU::setConnectionTimeout writes): without it a connect to an unreachable host
         * blocks for minutes. The ACSE timeout bounds the whole negotiation, connect included. */
        dcmConnectionTimeout.set(acse_timeout);
        scu_log(scu.get(), MCM_LOG_INFO, "requesting association with %s as %s, %zu presentation contexts",
                scu->peer.c_str(), calling, contexts.size());
        if (wants(scu.get(), MCM_LOG_DEBUG))
            for (size_t i = 0; i < contexts.size(); i++) {
                std::string ts;
                for (const std::string &s : contexts[i].transfer_syntaxes)
                    ts += (ts.empty() ? "" : ", ") + s;
                scu_log(scu.get(), MCM_LOG_DEBUG, "  context %zu: %s [%s]", 2 * i + 1,
                        contexts[i].abstract_syntax.c_str(), ts.c_str());
            }
        c = ASC_requestAssociation(scu->network, params, &scu->association);
        if (c.bad()) {
            int code = association_failure(scu.get(), params, c);
            if (scu->association == NULL)
                ASC_destroyAssociationParameters(&params); /* else the association owns them */
            return code;
        }
        scu->usable = true;
        int accepted = ASC_countAcceptedPresentationContexts(params);
        if (wants(scu.get(), MCM_LOG_DEBUG)) {
            int count = ASC_countPresentationContexts(params);
            for (int i = 0; i < count; i++) {
                T_ASC_PresentationContext pc;
                if (ASC_getPresentationContext(params, i, &pc).good())
                    scu_log(scu.get(), MCM_LOG_DEBUG, "  context %u %s: %s", (unsigned)pc.presentationContextID,
                            pc.resultReason == ASC_P_ACCEPTANCE ? "accepted" : "refused",
                            pc.resultReason == ASC_P_ACCEPTANCE ? pc.acceptedTransferSyntax : pc.abstractSyntax);
            }
        }
        if (accepted == 0) {
            (void)ASC_releaseAssociation(scu->association);
            scu->usable = false;
            return mcm_fail(MCM_ENOCONTEXT, "%s accepted none of the %zu proposed presentation contexts",
                            scu->peer.c_str(), contexts.size());
        }
        scu_log(scu.get(), MCM_LOG_INFO, "association accepted by %s: %d of %zu contexts, max send PDV %lu",
                scu->peer.c_str(), accepted, contexts.size(), (unsigned long)scu->association->sendPDVLength);
        *out = scu.release();
        return MCM_OK;
    });
}

MCM_EXTERN int mcm_scu_has_context(const mcm_scu *scu, const char *sop_class_uid)
{
    if (scu == NULL || sop_class_uid == NULL || !scu->usable)
        return 0;
    return ASC_findAcceptedPresentationContextID(scu->association, sop_class_uid) != 0;
}

MCM_EXTERN int mcm_scu_echo(mcm_scu *scu, mcm_response *response)
{
    int rc = check_usable(scu);
    if (rc != MCM_OK)
        return rc;
    return guarded([&]() -> int {
        if (ASC_findAcceptedPresentationContextID(scu->association, UID_VerificationSOPClass) == 0)
            return mcm_fail(MCM_ENOCONTEXT, "%s did not accept the Verification SOP class", scu->peer.c_str());
        Uint16 id = next_id(scu);
        DIC_US status = 0;
        DcmDataset *detail = NULL;
        scu_log(scu, MCM_LOG_INFO, "C-ECHO-RQ (message %u)", (unsigned)id);
        OFCondition c = DIMSE_echoUser(scu->association, id, blocking(scu), scu->dimse_timeout, &status, &detail);
        std::unique_ptr<DcmDataset> detail_owner(detail);
        if (c.bad())
            return exchange_failure(scu, c, "C-ECHO");
        mcm_response local{};
        mcm_response *r = response != NULL ? response : &local;
        fill_response(r, MCM_OP_ANY, status, detail);
        log_reply(scu, "C-ECHO-RSP", id, r, MCM_OP_ANY);
        return MCM_OK;
    });
}

MCM_EXTERN int mcm_scu_store_file(mcm_scu *scu, const char *path, mcm_response *response)
{
    int rc = check_usable(scu);
    if (rc != MCM_OK)
        return rc;
    if (path == NULL)
        return mcm_fail(MCM_EINVAL, "path is NULL");
    return guarded([&]() -> int {
        DcmFileFormat file;
        OFCondition c = file.loadFile(path);
        if (c.bad())
            return mcm_fail(MCM_EDICOM, "cannot read DICOM file %s: %s", path, c.text());
        DcmDataset *dataset = file.getDataset();
        OFString sop_class, sop_instance;
        if (dataset->findAndGetOFString(DCM_SOPClassUID, sop_class).bad() || sop_class.empty())
            file.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, sop_class);
        if (dataset->findAndGetOFString(DCM_SOPInstanceUID, sop_instance).bad() || sop_instance.empty())
            file.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, sop_instance);
        if (sop_class.empty() || sop_instance.empty())
            return mcm_fail(MCM_EDICOM, "%s has no SOP Class UID or SOP Instance UID", path);
        E_TransferSyntax file_xfer = dataset->getOriginalXfer();
        DcmXfer file_syntax(file_xfer);

        /* The syntax the file is in, if accepted; else, for an uncompressed file, an accepted
         * uncompressed syntax (explicit little endian first) that DIMSE converts to losslessly. */
        std::vector<T_ASC_PresentationContext> contexts = accepted_contexts(scu, sop_class.c_str());
        if (contexts.empty())
            return mcm_fail(MCM_ENOCONTEXT, "%s accepted no presentation context for SOP class %s of %s",
                            scu->peer.c_str(), sop_class.c_str(), path);
        const T_ASC_PresentationContext *chosen = NULL;
        for (const T_ASC_PresentationContext &pc : contexts)
            if (strcmp(pc.acceptedTransferSyntax, file_syntax.getXferID()) == 0)
                chosen = &pc;
        if (chosen == NULL && file_syntax.isNotEncapsulated()) {
            const char *preferred[] = {explicit_le, implicit_le};
            for (const char *p : preferred)
                for (const T_ASC_PresentationContext &pc : contexts)
                    if (chosen == NULL && strcmp(pc.acceptedTransferSyntax, p) == 0)
                        chosen = &pc;
            for (const T_ASC_PresentationContext &pc : contexts)
                if (chosen == NULL && is_uncompressed(pc.acceptedTransferSyntax))
                    chosen = &pc;
        }
        if (chosen == NULL) {
            std::string accepted;
            for (const T_ASC_PresentationContext &pc : contexts)
                accepted += (accepted.empty() ? "" : ", ") + std::string(pc.acceptedTransferSyntax);
            return mcm_fail(MCM_ENOCONTEXT,
                            "%s is in %s (%s), which %s did not accept for %s (accepted: %s); compressed data is "
                            "not converted",
                            path, file_syntax.getXferName(), file_syntax.getXferID(), scu->peer.c_str(),
                            sop_class.c_str(), accepted.c_str());
        }
        T_DIMSE_C_StoreRQ rq;
        memset(&rq, 0, sizeof rq);
        rq.MessageID = next_id(scu);
        OFStandard::strlcpy(rq.AffectedSOPClassUID, sop_class.c_str(), sizeof rq.AffectedSOPClassUID);
        OFStandard::strlcpy(rq.AffectedSOPInstanceUID, sop_instance.c_str(), sizeof rq.AffectedSOPInstanceUID);
        rq.DataSetType = DIMSE_DATASET_PRESENT;
        rq.Priority = DIMSE_PRIORITY_MEDIUM;
        scu_log(scu, MCM_LOG_INFO, "C-STORE-RQ (message %u): %s, instance %s, %s as %s", (unsigned)rq.MessageID,
                sop_class.c_str(), sop_instance.c_str(), path, DcmXfer(chosen->acceptedTransferSyntax).getXferName());
        T_DIMSE_C_StoreRSP rsp;
        memset(&rsp, 0, sizeof rsp);
        DcmDataset *detail = NULL;
        c = DIMSE_storeUser(scu->association, chosen->presentationContextID, &rq, NULL, dataset, NULL, NULL,
                            blocking(scu), scu->dimse_timeout, &rsp, &detail, NULL, 0);
        std::unique_ptr<DcmDataset> detail_owner(detail);
        if (c.bad())
            return exchange_failure(scu, c, "C-STORE");
        mcm_response local{};
        mcm_response *r = response != NULL ? response : &local;
        fill_response(r, MCM_OP_ANY, rsp.DimseStatus, detail);
        if (rsp.opts & O_STORE_AFFECTEDSOPINSTANCEUID)
            OFStandard::strlcpy(r->affected_sop_instance_uid, rsp.AffectedSOPInstanceUID,
                                sizeof r->affected_sop_instance_uid);
        log_reply(scu, "C-STORE-RSP", rq.MessageID, r, MCM_OP_ANY);
        return MCM_OK;
    });
}

MCM_EXTERN int mcm_scu_create(mcm_scu *scu, const mcm_request *request, const char *instance_uid,
                              char uid_out[MCM_UID_MAX + 1], mcm_response *response)
{
    if (uid_out != NULL)
        uid_out[0] = '\0';
    int rc = check_usable(scu);
    if (rc != MCM_OK)
        return rc;
    if (request == NULL)
        return mcm_fail(MCM_EINVAL, "request is NULL");
    if (instance_uid != NULL && !uid_ok(instance_uid))
        return mcm_fail(MCM_EINVAL, "instance UID \"%.70s\" is not a valid UID", instance_uid);
    return guarded([&]() -> int {
        DcmDataset data;
        int rc2 = mcm_dataset_from_request(request, MCM_PART_CREATE, data);
        if (rc2 != MCM_OK)
            return rc2;
        bool with_data = data.card() > 0; /* an empty data set cannot be sent (dcmtk-notes 1) */
        T_DIMSE_Message message;
        memset(&message, 0, sizeof message);
        message.CommandField = DIMSE_N_CREATE_RQ;
        T_DIMSE_N_CreateRQ &rq = message.msg.NCreateRQ;
        rq.MessageID = next_id(scu);
        OFStandard::strlcpy(rq.AffectedSOPClassUID, MCM_SOP_CLASS_UID, sizeof rq.AffectedSOPClassUID);
        if (instance_uid != NULL) {
            OFStandard::strlcpy(rq.AffectedSOPInstanceUID, instance_uid, sizeof rq.AffectedSOPInstanceUID);
            rq.opts = O_NCREATE_AFFECTEDSOPINSTANCEUID;
        }
        rq.DataSetType = with_data ? DIMSE_DATASET_PRESENT : DIMSE_DATASET_NULL;
        scu_log(scu, MCM_LOG_INFO, "N-CREATE-RQ (message %u): instance %s, %zu referenced instances",
                (unsigned)rq.MessageID, instance_uid != NULL ? instance_uid : "(assigned by the SCP)",
                mcm_request_reference_count(request));
        T_DIMSE_Message reply;
        DcmDataset *detail = NULL, *reply_data = NULL;
        rc2 = n_exchange(scu, message, with_data ? &data : NULL, DIMSE_N_CREATE_RSP, reply, detail, reply_data);
        if (rc2 != MCM_OK)
            return rc2;
        std::unique_ptr<DcmDataset> detail_owner(detail), data_owner(reply_data);
        const T_DIMSE_N_CreateRSP &rsp = reply.msg.NCreateRSP;
        mcm_response local{};
        mcm_response *r = response != NULL ? response : &local;
        fill_response(r, MCM_OP_N_CREATE, rsp.DimseStatus, detail);
        if ((rsp.opts & O_NCREATE_AFFECTEDSOPINSTANCEUID) && rsp.AffectedSOPInstanceUID[0] != '\0')
            OFStandard::strlcpy(r->affected_sop_instance_uid, rsp.AffectedSOPInstanceUID,
                                sizeof r->affected_sop_instance_uid);
        log_reply(scu, "N-CREATE-RSP", rq.MessageID, r, MCM_OP_N_CREATE);
        if (r->category == MCM_CATEGORY_SUCCESS || r->category == MCM_CATEGORY_WARNING) {
            const char *uid = r->affected_sop_instance_uid[0] != '\0' ? r->affected_sop_instance_uid : instance_uid;
            if (uid == NULL)
                return mcm_fail(MCM_EPROTOCOL, "%s created an instance but did not say its UID", scu->peer.c_str());
            if (uid_out != NULL)
                OFStandard::strlcpy(uid_out, uid, MCM_UID_MAX + 1);
        }
        return MCM_OK;
    });
}

MCM_EXTERN int mcm_scu_initiate(mcm_scu *scu, const char *instance_uid, int copies, mcm_priority priority,
                                mcm_response *response)
{
    if (copies < 0)
        return mcm_fail(MCM_EINVAL, "copies %d is negative", copies);
    if (priority != MCM_PRIORITY_UNSET && mcm_priority_name(priority) == NULL)
        return mcm_fail(MCM_EINVAL, "unknown priority %d", (int)priority);
    return guarded([&]() -> int {
        mcm_request *information = NULL;
        int rc = mcm_request_new(&information);
        if (rc != MCM_OK)
            return rc;
        std::unique_ptr<mcm_request, void (*)(mcm_request *)> owner(information, mcm_request_free);
        if (copies > 0) {
            /* Any positive value is sent as given: the SCP judges it (0115 beyond its limits). */
            char text[16];
            snprintf(text, sizeof text, "%d", copies);
            rc = mcm_request_set_attribute_raw(information, MCM_TAG_NUMBER_OF_COPIES, text, strlen(text));
        }
        if (rc == MCM_OK && priority != MCM_PRIORITY_UNSET)
            rc = mcm_request_set_priority(information, priority);
        if (rc != MCM_OK)
            return rc;
        return n_action(scu, instance_uid, 1, information, response);
    });
}

MCM_EXTERN int mcm_scu_cancel(mcm_scu *scu, const char *instance_uid, mcm_response *response)
{
    return guarded([&]() -> int { return n_action(scu, instance_uid, 2, NULL, response); });
}

MCM_EXTERN int mcm_scu_action(mcm_scu *scu, const char *instance_uid, uint16_t action_type_id,
                              const mcm_request *action_information, mcm_response *response)
{
    return guarded([&]() -> int { return n_action(scu, instance_uid, action_type_id, action_information, response); });
}

MCM_EXTERN int mcm_scu_get(mcm_scu *scu, const char *instance_uid, const uint32_t *tags, size_t tag_count,
                           mcm_job **job_out, mcm_response *response)
{
    if (job_out != NULL)
        *job_out = NULL;
    int rc = check_usable(scu);
    if (rc != MCM_OK)
        return rc;
    if (!uid_ok(instance_uid))
        return mcm_fail(MCM_EINVAL, "instance UID \"%.70s\" is not a valid UID",
                        instance_uid ? instance_uid : "(null)");
    if (tag_count > 0 && tags == NULL)
        return mcm_fail(MCM_EINVAL, "tags is NULL");
    if (tag_count > 0x3FFF)
        return mcm_fail(MCM_EINVAL, "%zu tags do not fit an Attribute Identifier List", tag_count);
    return guarded([&]() -> int {
        std::vector<DIC_US> list(2 * tag_count);
        for (size_t i = 0; i < tag_count; i++) {
            list[2 * i] = (DIC_US)(tags[i] >> 16);
            list[2 * i + 1] = (DIC_US)(tags[i] & 0xFFFF);
        }
        T_DIMSE_Message message;
        memset(&message, 0, sizeof message);
        message.CommandField = DIMSE_N_GET_RQ;
        T_DIMSE_N_GetRQ &rq = message.msg.NGetRQ;
        rq.MessageID = next_id(scu);
        OFStandard::strlcpy(rq.RequestedSOPClassUID, MCM_SOP_CLASS_UID, sizeof rq.RequestedSOPClassUID);
        OFStandard::strlcpy(rq.RequestedSOPInstanceUID, instance_uid, sizeof rq.RequestedSOPInstanceUID);
        rq.DataSetType = DIMSE_DATASET_NULL;
        rq.ListCount = (int)list.size();
        rq.AttributeIdentifierList = tag_count > 0 ? list.data() : NULL;
        scu_log(scu, MCM_LOG_INFO, "N-GET-RQ (message %u): instance %s, %zu attributes%s", (unsigned)rq.MessageID,
                instance_uid, tag_count, tag_count == 0 ? " (all)" : "");
        T_DIMSE_Message reply;
        DcmDataset *detail = NULL, *reply_data = NULL;
        int rc2 = n_exchange(scu, message, NULL, DIMSE_N_GET_RSP, reply, detail, reply_data);
        if (rc2 != MCM_OK)
            return rc2;
        std::unique_ptr<DcmDataset> detail_owner(detail), data_owner(reply_data);
        const T_DIMSE_N_GetRSP &rsp = reply.msg.NGetRSP;
        mcm_response local{};
        mcm_response *r = response != NULL ? response : &local;
        fill_response(r, MCM_OP_N_GET, rsp.DimseStatus, detail);
        if (rsp.opts & O_NGET_AFFECTEDSOPINSTANCEUID)
            OFStandard::strlcpy(r->affected_sop_instance_uid, rsp.AffectedSOPInstanceUID,
                                sizeof r->affected_sop_instance_uid);
        log_reply(scu, "N-GET-RSP", rq.MessageID, r, MCM_OP_N_GET);
        if (job_out != NULL && (r->category == MCM_CATEGORY_SUCCESS || r->category == MCM_CATEGORY_WARNING)) {
            DcmDataset empty;
            rc2 = mcm_job_from_dataset(reply_data != NULL ? *reply_data : empty, instance_uid, job_out);
            if (rc2 != MCM_OK)
                return rc2;
        }
        return MCM_OK;
    });
}

MCM_EXTERN int mcm_scu_release(mcm_scu *scu)
{
    int rc = check_usable(scu);
    if (rc != MCM_OK)
        return rc;
    return guarded([&]() -> int {
        scu->usable = false;
        scu_log(scu, MCM_LOG_INFO, "releasing association with %s", scu->peer.c_str());
        OFCondition c = ASC_releaseAssociation(scu->association);
        if (c.bad()) {
            (void)ASC_abortAssociation(scu->association);
            McmConditionClass failure = mcm_condition_classify(c);
            std::string text = mcm_condition_text(c);
            scu_log(scu, MCM_LOG_ERROR, "release failed: %s (%s)", failure.word, text.c_str());
            if (failure.failure == McmFailure::PeerAborted)
                return mcm_fail(
                    MCM_EABORTED,
                    "the peer aborted the association during release (A-ABORT, or the connection closed): %s",
                    text.c_str());
            return mcm_fail(failure.error, "release of the association with %s failed: %s (%s)", scu->peer.c_str(),
                            failure.word, text.c_str());
        }
        return MCM_OK;
    });
}

MCM_EXTERN int mcm_scu_abort(mcm_scu *scu)
{
    int rc = check_usable(scu);
    if (rc != MCM_OK)
        return rc;
    return guarded([&]() -> int {
        scu->usable = false;
        scu_log(scu, MCM_LOG_INFO, "aborting association with %s", scu->peer.c_str());
        OFCondition c = ASC_abortAssociation(scu->association);
        if (c.bad())
            return mcm_fail(MCM_ENET, "abort of the association with %s failed: %s", scu->peer.c_str(), c.text());
        return MCM_OK;
    });
}

MCM_EXTERN void mcm_scu_free(mcm_scu *scu)
{
    if (scu == NULL)
        return;
    try {
        if (scu->usable) {
            scu->usable = false;
            if (ASC_releaseAssociation(scu->association).bad())
                (void)ASC_abortAssociation(scu->association);
        }
        delete scu;
    } catch (...) {
        /* Nothing sensible is left to do: never let an exception into C. */
    }
}

} /* extern "C" */
