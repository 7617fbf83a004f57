/*
 * lib/scp/log_channel.h: where a part of the SCP runtime writes its log lines. The service owns
 * the SCP's options and hands their log callback (mcm_scp_options.log, .user, .log_level) down to
 * the parts it drives (the media workers, retention) as a channel, so that they log without
 * calling up into the service: data flows one way (README "Layout"). Header only; it calls only
 * lib/core/log.c's formatter.
 */
#ifndef MCM_LIB_SCP_LOG_CHANNEL_H
#define MCM_LIB_SCP_LOG_CHANNEL_H

#include "core/log.h"
#include "dcmmcm/scp.h"

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A registered log callback: fn (NULL: silent), its user data and the most verbose level wanted. */
typedef struct mcm_log_channel {
    mcm_log_fn fn;
    void *user;
    mcm_log_level max_level;
} mcm_log_channel;

/* The channel of an SCP's options: its log callback, user data and log_level. */
static inline mcm_log_channel mcm_log_channel_of(const mcm_scp_options *opts)
{
    mcm_log_channel channel = {opts->log, opts->user, opts->log_level};
    return channel;
}

static inline void mcm_log_channel_write(const mcm_log_channel *channel, mcm_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* One line (printf-style, at most 1023 bytes) through the channel, as mcm_log_vcall() decides. */
static inline void mcm_log_channel_write(const mcm_log_channel *channel, mcm_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mcm_log_vcall(channel->fn, channel->user, channel->max_level, level, fmt, ap);
    va_end(ap);
}

#ifdef __cplusplus
}
#endif

#endif
