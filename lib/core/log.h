/*
 * lib/core/log.h: internal access to the process-wide log handler (lib/core/log.c).
 */
#ifndef MCM_LIB_LOG_H
#define MCM_LIB_LOG_H

#include "dcmmcm/common.h"

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Store the handler (called by mcm_log_set_handler()). */
void mcm_log_store_handler(mcm_log_fn fn, void *user, mcm_log_level max_level);
/* Format one line (at most 1023 bytes) and pass it to a per-object log callback fn, if fn is set
 * and level is at most max_level: the one way the SCU, the SCP and media contexts log. */
void mcm_log_vcall(mcm_log_fn fn, void *user, mcm_log_level max_level, mcm_log_level level, const char *fmt,
                   va_list ap);

/* Pass one line to the handler if one is set and level is wanted. */
void mcm_log_emit(mcm_log_level level, const char *message);

/* Switch DCMTK's log off unless mcm_log_set_handler() was called (lib/dcmtk/log.cc); called
 * before the first DCMTK network is initialised, so the library is silent by default. */
void mcm_log_apply_default(void);

#ifdef __cplusplus
}
#endif

#endif
