/*
 * lib/scp/admission.c: who may talk to the SCP: association admission (the called AE title and
 * the allow-list of calling AE titles), C-ECHO, and the application's authorise callback, which
 * every request handler asks before it acts (0124 when it refuses).
 *
 * May call reply.c and lib/core; no handler above it is called from here (service_internal.h).
 */
#include "scp/service_internal.h"

#include "core/error.h"

#include <stdio.h>
#include <string.h>

/* The significant part of an AE title (without leading and trailing spaces) into out[17]. */
static const char *ae_trim(const char *title, char out[17])
{
    size_t n = 0;
    if (title != NULL) {
        while (*title == ' ')
            title++;
        size_t length = strlen(title);
        while (length > 0 && title[length - 1] == ' ')
            length--;
        n = length < 16 ? length : 16;
        memcpy(out, title, n);
    }
    out[n] = '\0';
    return out;
}

/* Ask the authorise callback for its verdict (MCM_AUTHORIZE_*). */
int mcm_service_authorize(mcm_service *service, const char *calling_ae, mcm_scp_operation op, const mcm_job *job)
{
    if (service->opts.authorize == NULL)
        return MCM_AUTHORIZE_ALLOW;
    int verdict = service->opts.authorize(calling_ae != NULL ? calling_ae : "", op, job, service->opts.user);
    if (verdict != MCM_AUTHORIZE_ALLOW)
        mcm_service_log(service, MCM_LOG_INFO, "%s %s for calling AE \"%s\" by the authorise callback",
                        mcm_scp_operation_name(op),
                        op == MCM_SCP_CANCEL && verdict == MCM_AUTHORIZE_DENY_CANCEL ? "denied" : "refused",
                        calling_ae != NULL ? calling_ae : "");
    return verdict;
}

/* 1 if the authorise callback allows op. */
int mcm_service_authorized(mcm_service *service, const char *calling_ae, mcm_scp_operation op, const mcm_job *job)
{
    return mcm_service_authorize(service, calling_ae, op, job) == MCM_AUTHORIZE_ALLOW;
}

void mcm_service_refuse_unauthorized(mcm_response *rsp, mcm_operation op, mcm_scp_operation what,
                                     const char *calling_ae)
{
    char trimmed[17];
    mcm_response_set(rsp, op, MCM_STATUS_NOT_AUTHORIZED, "%s not authorized for %s", mcm_scp_operation_name(what),
                     calling_ae != NULL && calling_ae[0] != '\0' ? ae_trim(calling_ae, trimmed) : "this peer");
}

int mcm_service_admit(mcm_service *service, const char *calling_ae, const char *called_ae, char *why, size_t why_size)
{
    char calling[17], called[17], ours[17], allowed[17];
    if (why != NULL && why_size > 0)
        why[0] = '\0';
    if (service == NULL) {
        if (why != NULL && why_size > 0)
            snprintf(why, why_size, "no service");
        return 0;
    }
    ae_trim(calling_ae, calling);
    ae_trim(called_ae, called);
    ae_trim(service->ae_title, ours);
    if (service->opts.check_called_ae_title && strcmp(called, ours) != 0) {
        if (why != NULL && why_size > 0)
            snprintf(why, why_size, "called AE title \"%s\" is not ours (\"%s\")", called, ours);
        return 0;
    }
    if (service->opts.allowed_calling_ae_title_count == 0)
        return 1;
    for (size_t i = 0; i < service->opts.allowed_calling_ae_title_count; i++)
        if (strcmp(calling, ae_trim(service->allowed_titles[i], allowed)) == 0)
            return 1;
    if (why != NULL && why_size > 0)
        snprintf(why, why_size, "calling AE title \"%s\" is not allowed", calling);
    return 0;
}

int mcm_service_echo(mcm_service *service, const char *calling_ae, mcm_response *rsp)
{
    if (service == NULL || rsp == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_service_echo: NULL argument");
    mcm_response_clear(rsp);
    if (!mcm_service_authorized(service, calling_ae, MCM_SCP_ECHO, NULL))
        mcm_service_refuse_unauthorized(rsp, MCM_OP_ANY, MCM_SCP_ECHO, calling_ae);
    mcm_service_reply_finish(service, rsp);
    return MCM_OK;
}
