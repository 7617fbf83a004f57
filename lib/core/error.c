/*
 * lib/core/error.c: error codes' names and the per-thread detailed error message (mcm_strerror,
 * mcm_last_error, mcm_error_set of dcmmcm/common.h; mcm_fail, the library's own name for
 * mcm_error_set, and mcm_clear_error of core/error.h).
 * Owns the thread-local message buffer; nothing else.
 */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[512];

MCM_EXTERN const char *mcm_strerror(int error)
{
    switch (error) {
    case MCM_OK: return "success";
    case MCM_EINVAL: return "invalid argument";
    case MCM_ENOMEM: return "out of memory";
    case MCM_ENOTFOUND: return "not found";
    case MCM_ESTATE: return "not allowed in the current state";
    case MCM_EIO: return "file system error";
    case MCM_EDB: return "job database error";
    case MCM_ENET: return "network error";
    case MCM_EREJECTED: return "association rejected";
    case MCM_ETIMEOUT: return "timeout";
    case MCM_EPROTOCOL: return "DICOM protocol error";
    case MCM_EDICOM: return "DICOM data error";
    case MCM_EABORTED: return "association aborted";
    case MCM_ENOCONTEXT: return "no accepted presentation context";
    case MCM_ECANCELED: return "cancelled";
    case MCM_EBUSY: return "busy or limit reached";
    case MCM_EUNSUPPORTED: return "not supported";
    case MCM_EINTERNAL: return "internal error";
    default: return "unknown error code";
    }
}

MCM_EXTERN const char *mcm_last_error(void)
{
    return last_error;
}

static void set_message(const char *fmt, va_list ap)
{
    /* Format aside first: an argument may be mcm_last_error() itself ("context: %s"). */
    char text[sizeof last_error];
    vsnprintf(text, sizeof text, fmt, ap);
    memcpy(last_error, text, strlen(text) + 1);
}

MCM_EXTERN int mcm_error_set(int code, const char *fmt, ...)
{
    if (fmt == NULL) {
        last_error[0] = '\0';
        return code;
    }
    va_list ap;
    va_start(ap, fmt);
    set_message(fmt, ap);
    va_end(ap);
    return code;
}

int mcm_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_message(fmt, ap);
    va_end(ap);
    return code;
}

void mcm_clear_error(void)
{
    last_error[0] = '\0';
}
