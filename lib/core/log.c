/*
 * lib/core/log.c: the process-wide log handler of the library (set by mcm_log_set_handler(), which
 * lives in lib/dcmtk/log.cc because it also routes DCMTK's logger) and mcm_log_internal().
 * Owns the handler triple under one mutex.
 */
#include "core/error.h"
#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

static pthread_mutex_t handler_lock = PTHREAD_MUTEX_INITIALIZER;
static mcm_log_fn handler_fn;
static void *handler_user;
static mcm_log_level handler_level = MCM_LOG_ERROR;

void mcm_log_store_handler(mcm_log_fn fn, void *user, mcm_log_level max_level)
{
    pthread_mutex_lock(&handler_lock);
    handler_fn = fn;
    handler_user = user;
    handler_level = max_level;
    pthread_mutex_unlock(&handler_lock);
}

void mcm_log_emit(mcm_log_level level, const char *message)
{
    pthread_mutex_lock(&handler_lock);
    mcm_log_fn fn = handler_fn;
    void *user = handler_user;
    int wanted = fn != NULL && level <= handler_level;
    pthread_mutex_unlock(&handler_lock);
    if (wanted)
        fn(level, message, user);
}

void mcm_log_vcall(mcm_log_fn fn, void *user, mcm_log_level max_level, mcm_log_level level, const char *fmt,
                   va_list ap)
{
    if (fn == NULL || level > max_level)
        return;
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    fn(level, line, user);
}

void mcm_log_internal(mcm_log_level level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    mcm_log_emit(level, line);
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
