/*
 * lib/dcmtk/scp.cc: the SCP on the network, its public functions: mcm_scp_new/port/run/stop/get_job/free
 * (include/dcmmcm/scp.h). Owns the creation of an mcm_scp (options checked, lib/scp/service.h opened,
 * DCMTK's network initialised, the listener bound, the transport layer installed) and its
 * destruction, and keeps every exception out of C. What the SCP owns, how it is split into files
 * and how its threads share it: lib/dcmtk/scp_internal.h.
 */
#include "dcmtk/scp_internal.h"

#include "core/error.h"
#include "core/options.h"

#include <dcmtk/dcmdata/dcdict.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <new>

namespace
{

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
    if ((rc = mcm_scp_bind_listener(raw, opts)) != MCM_OK) {
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
        return mcm_scp_serve(scp);
    } catch (...) {
        return mcm_fail(MCM_EINTERNAL, "mcm_scp_run: unexpected exception");
    }
}

/* Async-signal-safe: a lock-free atomic store and one write() to a non-blocking pipe. */
MCM_EXTERN void mcm_scp_stop(mcm_scp *scp)
{
    if (scp == nullptr)
        return;
    mcm_scp_request_stop(scp);
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
        mcm_scp_join_connections(scp, true);
        destroy(scp);
    } catch (...) {
    }
}

} // extern "C"
