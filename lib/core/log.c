/*
 * lib/core/log.c: formatting a log line for a per-object log callback (mcm_log_vcall, the one way
 * the SCU, the SCP and media contexts log) and the level names (mcm_log_level_name of common.h).
 * Pure: holds no state. The process-wide handler, which only DCMTK's own logger uses, lives with
 * that logger in lib/dcmtk/log.cc.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

void mcm_log_vcall(mcm_log_fn fn, void *user, mcm_log_level max_level, mcm_log_level level, const char *fmt,
                   va_list ap)
{
    if (fn == NULL || level > max_level)
        return;
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    fn(level, line, user);
}

MCM_EXTERN const char *mcm_log_level_name(mcm_log_level level)
{
    switch (level) {
    case MCM_LOG_ERROR: return "error";
    case MCM_LOG_WARNING: return "warning";
    case MCM_LOG_INFO: return "info";
    case MCM_LOG_DEBUG: return "debug";
    case MCM_LOG_TRACE: return "trace";
    default: return "unknown";
    }
}
