/*
 * lib/scp/deadline.h: an absolute time for pthread_cond_timedwait, shared by the threads of the
 * SCP runtime (the media workers, lib/scp/worker.c; the housekeeping thread, lib/scp/retention.c).
 * Header only; no state.
 */
#ifndef MCM_LIB_SCP_DEADLINE_H
#define MCM_LIB_SCP_DEADLINE_H

#include <time.h>

/* An absolute CLOCK_REALTIME deadline milliseconds from now (the conditions use the default clock,
 * which also matches the store's retry times in seconds since the epoch). */
static inline struct timespec mcm_deadline_after(unsigned milliseconds)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += milliseconds / 1000;
    ts.tv_nsec += (long)(milliseconds % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

#endif
