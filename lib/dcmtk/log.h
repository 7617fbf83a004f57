/*
 * lib/dcmtk/log.h: DCMTK's process-wide logger as the library sets it up (lib/dcmtk/log.cc).
 */
#ifndef MCM_LIB_DCMTK_LOG_H
#define MCM_LIB_DCMTK_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

/* Switch DCMTK's log off unless mcm_log_set_handler() was called; called before the first DCMTK
 * network is initialised and before the first file is read, so the library is silent by default. */
void mcm_log_apply_default(void);

#ifdef __cplusplus
}
#endif

#endif
