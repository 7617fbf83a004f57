/*
 * lib/core/error.h: internal helpers to report an error: set this thread's message for mcm_last_error()
 * and return the code. Owns nothing else.
 */
#ifndef MCM_LIB_ERROR_H
#define MCM_LIB_ERROR_H

#include "dcmmcm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Set this thread's error message (printf-style) and return code: mcm_error_set() of common.h,
 * for code inside libdcmmcm (code outside it, libdcmmcm-media included, calls mcm_error_set). */
int mcm_fail(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Clear this thread's error message. */
void mcm_clear_error(void);

#ifdef __cplusplus
}
#endif

#endif
