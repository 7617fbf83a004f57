/*
 * lib/scp/options.c: the SCP's option defaults (the same values as MCM_SCP_OPTIONS_INIT, for
 * callers that cannot use the macro, e.g. bindings) and the names of the operations an authorise
 * callback is asked about. No state; the versions of the struct are lib/core/options.c's, and the
 * options are checked by mcm_service_open().
 */
#include "dcmmcm/scp.h"

#include "core/options.h"

MCM_EXTERN int mcm_scp_options_init(mcm_scp_options *opts, unsigned int version)
{
    static const mcm_scp_options defaults = MCM_SCP_OPTIONS_INIT;
    return mcm_options_fill(opts, version, &defaults, &mcm_scp_options_versions);
}

MCM_EXTERN const char *mcm_scp_operation_name(mcm_scp_operation op)
{
    switch (op) {
    case MCM_SCP_ECHO: return "C-ECHO";
    case MCM_SCP_STORE: return "C-STORE";
    case MCM_SCP_CREATE: return "N-CREATE";
    case MCM_SCP_INITIATE: return "N-ACTION Initiate";
    case MCM_SCP_CANCEL: return "N-ACTION Cancel";
    case MCM_SCP_GET: return "N-GET";
    default: return "unknown operation";
    }
}
