/*
 * lib/core/log.h: formatting one log line for a per-object log callback (lib/core/log.c).
 */
#ifndef MCM_LIB_LOG_H
#define MCM_LIB_LOG_H

#include "dcmmcm/common.h"

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Format one line (at most 1023 bytes) and pass it to a per-object log callback fn, if fn is set
 * and level is at most max_level: the one way the SCU, the SCP and media contexts log. */
void mcm_log_vcall(mcm_log_fn fn, void *user, mcm_log_level max_level, mcm_log_level level, const char *fmt,
                   va_list ap);

#ifdef __cplusplus
}
#endif

#endif
