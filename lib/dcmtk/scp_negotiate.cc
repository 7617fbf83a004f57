/*
 * lib/dcmtk/scp_negotiate.cc: association negotiation of the SCP (lib/dcmtk/scp_internal.h). Owns
 * what the SCP answers to an A-ASSOCIATE-RQ: the application context, admission (lib/scp/service.h
 * judges the AE titles; the reason of a rejection is ours), the limit of active associations, and
 * the presentation contexts accepted with their transfer syntaxes (Verification, Media Creation
 * Management, storage classes DCMTK lists and those it does not). Ends with the A-ASSOCIATE-AC or
 * -RJ; serving the association is scp_session.cc's job.
 */
#include "dcmtk/scp_internal.h"

#include <dcmtk/dcmdata/dcuid.h>

#include <cstring>
#include <mutex>

namespace
{

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

void reject(T_ASC_Association *assoc, T_ASC_RejectParametersResult result, T_ASC_RejectParametersSource source,
            T_ASC_RejectParametersReason reason)
{
    T_ASC_RejectParameters parameters;
    parameters.result = result;
    parameters.source = source;
    parameters.reason = reason;
    (void)ASC_rejectAssociation(assoc, &parameters);
}

} // namespace

bool mcm_scp_negotiate(mcm_scp *scp, T_ASC_Association *assoc, const char *calling, const char *called, bool *counted)
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
