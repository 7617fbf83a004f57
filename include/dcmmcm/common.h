/*
 * dcmmcm/common.h: export macro, version, error codes, logging types.
 *
 * Every public header of dcmmcm includes this one. It is plain C11 and needs no other library's
 * header. Errors follow one rule everywhere: a function returns int, MCM_OK (0) on success or a
 * negative mcm_error; mcm_strerror() names the code and mcm_last_error() gives this thread's
 * detailed message for the most recent failure. An outcome on the wire (a DIMSE status from the
 * peer) is never an error code: it comes back in an mcm_response (see status.h).
 */
#ifndef DCMMCM_COMMON_H
#define DCMMCM_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* MCM_EXTERN marks every public symbol; the library is built with hidden visibility. */
#if defined(MCM_BUILDING_LIBRARY) && defined(__GNUC__)
#define MCM_EXTERN __attribute__((visibility("default")))
#else
#define MCM_EXTERN
#endif

#define MCM_VERSION_MAJOR 0
#define MCM_VERSION_MINOR 1
#define MCM_VERSION_PATCH 0
#define MCM_VERSION_STRING "0.1.0"

/* The SOP Class UID of Media Creation Management (PS3.4 Annex S). */
#define MCM_SOP_CLASS_UID "1.2.840.10008.5.1.1.33"

/* Longest UID (PS3.5 9.1) and Error Comment (LO) in characters, without the terminating NUL. */
#define MCM_UID_MAX 64
#define MCM_COMMENT_MAX 64

/* Error codes. Numbers never change once released; new codes are added at the end. */
typedef enum mcm_error {
    MCM_OK = 0,
    MCM_EINVAL = -1,       /* an argument is invalid: NULL, bad syntax, out of range */
    MCM_ENOMEM = -2,       /* out of memory */
    MCM_ENOTFOUND = -3,    /* no such job, item, attribute or file */
    MCM_ESTATE = -4,       /* not allowed in the object's current state */
    MCM_EIO = -5,          /* a file system operation failed */
    MCM_EDB = -6,          /* the job database failed */
    MCM_ENET = -7,         /* a network operation failed (connect, send, receive) */
    MCM_EREJECTED = -8,    /* the peer rejected the association */
    MCM_ETIMEOUT = -9,     /* a timeout expired */
    MCM_EPROTOCOL = -10,   /* the peer broke the DICOM protocol (unexpected or malformed message) */
    MCM_EDICOM = -11,      /* a DICOM file or data set could not be read, parsed or written */
    MCM_EABORTED = -12,    /* the association was aborted */
    MCM_ENOCONTEXT = -13,  /* no accepted presentation context for the SOP class */
    MCM_ECANCELED = -14,   /* the operation was cancelled or stopped */
    MCM_EBUSY = -15,       /* a resource is busy or a limit is reached */
    MCM_EUNSUPPORTED = -16,/* the feature is not available in this build or by this peer */
    MCM_EINTERNAL = -17    /* an internal error (a bug): please report it */
} mcm_error;

/* The fixed name of an error code ("invalid argument"); never NULL. */
MCM_EXTERN const char *mcm_strerror(int error);

/* This thread's detailed message for the most recent failed dcmmcm call, or "" if none.
 * The pointer stays valid until the thread's next dcmmcm call. */
MCM_EXTERN const char *mcm_last_error(void);

/* Set this thread's mcm_last_error() message (printf-style, at most 511 bytes; fmt NULL clears
 * it) and return code: how a media writer or another callback reports a failure in the library's
 * own way, e.g. return mcm_error_set(MCM_EIO, "cannot open %s", path). */
MCM_EXTERN int mcm_error_set(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* The library's version string, e.g. "0.1.0" (may differ from MCM_VERSION_STRING of the headers
 * an application was compiled with). */
MCM_EXTERN const char *mcm_version(void);

/* Log levels, most severe first. */
typedef enum mcm_log_level {
    MCM_LOG_ERROR = 0,
    MCM_LOG_WARNING = 1,
    MCM_LOG_INFO = 2,
    MCM_LOG_DEBUG = 3,
    MCM_LOG_TRACE = 4
} mcm_log_level;

/* A log callback: message is one line without a trailing newline. May be called from any thread
 * the library runs; it must be thread-safe and must not call back into the same SCU or SCP. */
typedef void (*mcm_log_fn)(mcm_log_level level, const char *message, void *user);

/* Route DCMTK's own log messages to fn, for messages at max_level or more severe; fn == NULL
 * silences them, which is the default. DCMTK's logger is process-global, so this handler is too:
 * call it before starting SCUs or SCPs. Everything the library itself says about an SCU, an SCP
 * or a media writer goes to the log callback of that SCU's or SCP's options instead (one channel
 * per object); this handler receives only DCMTK's own lines, which begin with "dcmtk: ". */
MCM_EXTERN int mcm_log_set_handler(mcm_log_fn fn, void *user, mcm_log_level max_level);

/* The name of a log level ("error", "warning", "info", "debug", "trace"). */
MCM_EXTERN const char *mcm_log_level_name(mcm_log_level level);

#ifdef __cplusplus
}
#endif

#endif
