/*
 * lib/scp/service.c: what the SCP answers to each request, independent of the network: options,
 * association admission, C-ECHO, C-STORE into the instance store, N-CREATE, N-ACTION (Initiate,
 * Cancel), N-GET, retention. Every reply is an mcm_response with the status, Error Comment,
 * Offending Element and the Annex C fields the digest's A7/A18 ask for.
 *
 * Owns the service object: a private copy of the options, the job store handle, the media workers
 * (lib/scp/worker.c), retention (lib/scp/retention.c) and the lock that serialises file renames
 * with instance retention. The workers and retention are given the store, the options and a log
 * channel, and never call back into the service. Changes job state only through the state machine
 * (mcm_job_apply / mcm_job_next, lib/core/job.c), and saves every change in the store before
 * returning (digest A15). Never parses DICOM and never includes DCMTK.
 */
#include "scp/service.h"

#include "core/error.h"
#include "core/log.h"
#include "core/job_internal.h"
#include "core/request_internal.h"
#include "core/status_internal.h"
#include "scp/log_channel.h"
#include "scp/retention.h"
#include "scp/store.h"
#include "core/vr.h"
#include "scp/worker.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Command elements that a reply may name as Offending Element (PS3.7 Annex E). */
#define TAG_AFFECTED_SOP_INSTANCE_UID MCM_TAG(0x0000, 0x1000)
#define TAG_REQUESTED_SOP_INSTANCE_UID MCM_TAG(0x0000, 0x1001)
#define TAG_ACTION_TYPE_ID MCM_TAG(0x0000, 0x1008)

/* C-STORE failure statuses (PS3.4 B.2.3): out of resources, cannot understand. */
#define STORE_STATUS_OUT_OF_RESOURCES 0xA700
#define STORE_STATUS_CANNOT_UNDERSTAND 0xC000

/* Received files are written as storage_dir/TEMP_PREFIX-XXXXXX, then renamed to <UID>.dcm. */
#define TEMP_PREFIX ".incoming-"

/* The longest storage directory path we accept: room for "/<64-character UID>.dcm". */
#define STORAGE_DIR_MAX (PATH_MAX - 80)

struct mcm_service {
    mcm_scp_options opts; /* copy; its strings point at the owned copies below */
    char *storage_dir;    /* absolute, without trailing slash */
    char *database_path;
    char *ae_title;
    char *default_profile;
    char *bind_address;
    char **allowed_titles;
    mcm_log_channel log; /* opts' log callback: the service's, the workers' and retention's */
    mcm_store *store;
    mcm_workers *workers;
    mcm_retention *retention;
    int lock_fd; /* holds the flock on "<database>.lock" (lock_database), or -1 */
    /* Serialises "rename a received file + record it" with "expire instance records + unlink
     * their files", so that retention never removes a file that was just received again. */
    pthread_mutex_t instance_lock;
};

/* ---- logging ---- */

void mcm_service_log(mcm_service *service, mcm_log_level level, const char *fmt, ...)
{
    if (service == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    mcm_log_vcall(service->log.fn, service->log.user, service->log.max_level, level, fmt, ap);
    va_end(ap);
}

/* ---- options ---- */

/* The significant part of an AE title (without leading and trailing spaces) into out[17]. */
static const char *ae_trim(const char *title, char out[17])
{
    size_t n = 0;
    if (title != NULL) {
        while (*title == ' ')
            title++;
        size_t length = strlen(title);
        while (length > 0 && title[length - 1] == ' ')
            length--;
        n = length < 16 ? length : 16;
        memcpy(out, title, n);
    }
    out[n] = '\0';
    return out;
}

static char *copy_string(const char *s, int *failed)
{
    if (s == NULL)
        return NULL;
    char *copy = strdup(s);
    if (copy == NULL)
        *failed = 1;
    return copy;
}

static int check_options(const mcm_scp_options *o)
{
    char why[96];
    /* Every version up to ours: a program built against older headers keeps working with a newer
     * library of the same soname (the SCU, wait and media options do the same). */
    if (o->version < 1 || o->version > MCM_SCP_OPTIONS_VERSION)
        return mcm_fail(MCM_EINVAL,
                        "mcm_scp_options.version is %u, this library knows versions 1 to %u (use "
                        "MCM_SCP_OPTIONS_INIT)",
                        o->version, MCM_SCP_OPTIONS_VERSION);
    if (o->storage_dir == NULL || o->storage_dir[0] == '\0')
        return mcm_fail(MCM_EINVAL, "mcm_scp_options.storage_dir is required (where received instances are kept)");
    if (strlen(o->storage_dir) > STORAGE_DIR_MAX)
        return mcm_fail(MCM_EINVAL, "mcm_scp_options.storage_dir is longer than %d characters", STORAGE_DIR_MAX);
    if (o->database_path == NULL || o->database_path[0] == '\0')
        return mcm_fail(MCM_EINVAL, "mcm_scp_options.database_path is required (the job store)");
    if (o->write_media == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_scp_options.write_media is required (the media writer callback)");
    if (o->ae_title != NULL && !mcm_ae_title_check(o->ae_title))
        return mcm_fail(MCM_EINVAL,
                        "mcm_scp_options.ae_title \"%.40s\" is not a valid AE title (1-16 ASCII characters, "
                        "no backslash or control character)",
                        o->ae_title);
    if (o->allowed_calling_ae_title_count > 0 && o->allowed_calling_ae_titles == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_scp_options.allowed_calling_ae_titles is NULL but its count is %zu",
                        o->allowed_calling_ae_title_count);
    for (size_t i = 0; i < o->allowed_calling_ae_title_count; i++)
        if (!mcm_ae_title_check(o->allowed_calling_ae_titles[i]))
            return mcm_fail(MCM_EINVAL, "allowed calling AE title %zu \"%.40s\" is not a valid AE title", i,
                            o->allowed_calling_ae_titles[i] != NULL ? o->allowed_calling_ae_titles[i] : "(null)");
    if (o->default_profile != NULL &&
        (o->default_profile[0] == '\0' ||
         !mcm_vr_check(MCM_VR_LO, o->default_profile, strlen(o->default_profile), why, sizeof why)))
        return mcm_fail(MCM_EINVAL, "mcm_scp_options.default_profile is not a Media Application Profile (LO): %s",
                        o->default_profile[0] == '\0' ? "empty" : why);
    if (o->bind_address != NULL) {
        struct in_addr address;
        if (inet_pton(AF_INET, o->bind_address, &address) != 1)
            return mcm_fail(MCM_EINVAL, "mcm_scp_options.bind_address \"%.60s\" is not an IPv4 address",
                            o->bind_address);
    }
    if (o->max_associations == 0)
        return mcm_fail(MCM_EINVAL, "mcm_scp_options.max_associations must be at least 1");
    if (o->media_workers == 0)
        return mcm_fail(MCM_EINVAL, "mcm_scp_options.media_workers must be at least 1");
    if (o->max_copies == 0 || o->max_copies > MCM_MAX_COPIES)
        return mcm_fail(MCM_EINVAL, "mcm_scp_options.max_copies %u is not in 1..%d", o->max_copies, MCM_MAX_COPIES);
    if (o->acse_timeout_seconds < 0 || o->dimse_timeout_seconds < 0)
        return mcm_fail(MCM_EINVAL, "mcm_scp_options timeouts must not be negative");
    if (o->max_pdu != 0 && (o->max_pdu < 4096 || o->max_pdu > 131072)) /* 0: the default (lib/dcmtk/scp.cc) */
        return mcm_fail(MCM_EINVAL, "mcm_scp_options.max_pdu %u is not in 4096..131072 (DCMTK's range)",
                        (unsigned)o->max_pdu);
    const int64_t retention[3] = {o->retention_idle_seconds, o->retention_done_seconds, o->retention_instance_seconds};
    for (size_t i = 0; i < 3; i++)
        if (retention[i] < 0 && retention[i] != MCM_RETAIN_FOREVER)
            return mcm_fail(MCM_EINVAL, "a retention period is %lld: use seconds >= 0 or MCM_RETAIN_FOREVER",
                            (long long)retention[i]);
    if ((o->strict & ~MCM_VALIDATE_STRICT) != 0)
        return mcm_fail(MCM_EINVAL, "mcm_scp_options.strict has unknown flags 0x%x", o->strict & ~MCM_VALIDATE_STRICT);
    if ((unsigned)o->log_level > MCM_LOG_TRACE)
        return mcm_fail(MCM_EINVAL, "mcm_scp_options.log_level %d is not a log level", (int)o->log_level);
    return MCM_OK;
}

/* mkdir -p path (mode 0700 for what it creates: received instances are patient data). */
static int make_directories(const char *path)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof buf)
        return mcm_fail(MCM_EINVAL, "path too long");
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST)
            return mcm_fail(MCM_EIO, "cannot create directory %s: %s", buf, strerror(errno));
        buf[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return mcm_fail(MCM_EIO, "%s is not a directory", path);
    return MCM_OK;
}

/* Remove temporary files left by a receive that a crash interrupted. A storage directory belongs to
 * one SCP, so no receive is in progress while it opens. */
static void remove_stale_temporaries(mcm_service *service)
{
    DIR *dir = opendir(service->storage_dir);
    if (dir == NULL)
        return;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (strncmp(entry->d_name, TEMP_PREFIX, strlen(TEMP_PREFIX)) != 0)
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", service->storage_dir, entry->d_name);
        if (unlink(path) == 0)
            mcm_service_log(service, MCM_LOG_INFO, "removed stale temporary file %s", path);
    }
    closedir(dir);
}

static void free_service(mcm_service *service)
{
    if (service == NULL)
        return;
    mcm_retention_free(service->retention);
    mcm_workers_free(service->workers);
    mcm_store_close(service->store);
    if (service->lock_fd >= 0)
        close(service->lock_fd); /* releases the flock */
    free(service->storage_dir);
    free(service->database_path);
    free(service->ae_title);
    free(service->default_profile);
    free(service->bind_address);
    if (service->allowed_titles != NULL)
        for (size_t i = 0; i < service->opts.allowed_calling_ae_title_count; i++)
            free(service->allowed_titles[i]);
    free(service->allowed_titles);
    pthread_mutex_destroy(&service->instance_lock);
    free(service);
}

/* One SCP per job database. At start an SCP puts every CREATING job back to PENDING and its
 * workers then take PENDING jobs: a second SCP on the same database would steal the first one's
 * running jobs and write their media twice. An exclusive flock on "<database>.lock", held for the
 * service's life, refuses the second one; the kernel drops it when the process ends, however it
 * ends, so a crash never leaves the database locked. (A file of its own rather than the database:
 * SQLite's POSIX locks on the database must not meet ours, over NFS in particular.) */
static int lock_database(mcm_service *service)
{
    char path[PATH_MAX + 8];
    snprintf(path, sizeof path, "%s.lock", service->database_path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return mcm_fail(errno == ENOENT ? MCM_EIO : MCM_EDB, "cannot open the lock file %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return mcm_fail(MCM_EBUSY, "the job database %s is in use by another SCP (lock file %s)",
                            service->database_path, path);
        return mcm_fail(MCM_EDB, "cannot lock %s: %s", path, strerror(e));
    }
    service->lock_fd = fd;
    return MCM_OK;
}

int mcm_service_open(mcm_service **out, const mcm_scp_options *opts)
{
    if (out == NULL || opts == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_service_open: NULL argument");
    *out = NULL;
    int rc = check_options(opts);
    if (rc != MCM_OK)
        return rc;
    mcm_service *service = calloc(1, sizeof *service);
    if (service == NULL)
        return mcm_fail(MCM_ENOMEM, "out of memory");
    pthread_mutex_init(&service->instance_lock, NULL);
    service->lock_fd = -1;
    service->opts = *opts;
    service->opts.allowed_calling_ae_title_count = 0; /* until the copies exist (free_service) */
    service->log = mcm_log_channel_of(&service->opts);

    int failed = 0;
    service->database_path = copy_string(opts->database_path, &failed);
    service->ae_title = copy_string(opts->ae_title != NULL ? opts->ae_title : "MCMSCP", &failed);
    service->default_profile =
        copy_string(opts->default_profile != NULL ? opts->default_profile : "STD-GEN-CD", &failed);
    service->bind_address = copy_string(opts->bind_address, &failed);
    if (opts->allowed_calling_ae_title_count > 0) {
        service->allowed_titles = calloc(opts->allowed_calling_ae_title_count, sizeof(char *));
        if (service->allowed_titles == NULL)
            failed = 1;
        else {
            service->opts.allowed_calling_ae_title_count = opts->allowed_calling_ae_title_count;
            for (size_t i = 0; i < opts->allowed_calling_ae_title_count; i++)
                service->allowed_titles[i] = copy_string(opts->allowed_calling_ae_titles[i], &failed);
        }
    }
    if (failed) {
        free_service(service);
        return mcm_fail(MCM_ENOMEM, "out of memory");
    }
    rc = make_directories(opts->storage_dir);
    if (rc == MCM_OK) {
        char resolved[PATH_MAX];
        if (realpath(opts->storage_dir, resolved) == NULL)
            rc = mcm_fail(MCM_EIO, "cannot resolve %s: %s", opts->storage_dir, strerror(errno));
        else if (strlen(resolved) > STORAGE_DIR_MAX)
            rc = mcm_fail(MCM_EINVAL, "storage directory %s is too long", resolved);
        else if ((service->storage_dir = strdup(resolved)) == NULL)
            rc = mcm_fail(MCM_ENOMEM, "out of memory");
    }
    if (rc != MCM_OK) {
        free_service(service);
        return rc;
    }
    service->opts.storage_dir = service->storage_dir;
    service->opts.database_path = service->database_path;
    service->opts.ae_title = service->ae_title;
    service->opts.default_profile = service->default_profile;
    service->opts.bind_address = service->bind_address;
    service->opts.allowed_calling_ae_titles = (const char *const *)service->allowed_titles;

    rc = mcm_store_open(&service->store, service->database_path);
    if (rc != MCM_OK) {
        char message[512];
        snprintf(message, sizeof message, "%s", mcm_last_error());
        free_service(service);
        return mcm_fail(rc, "cannot open the job store %s: %s", opts->database_path, message);
    }
    /* After the store opened (its errors explain a bad path best), before anything changes. */
    rc = lock_database(service);
    if (rc != MCM_OK) {
        free_service(service);
        return rc;
    }
    size_t recovered = 0;
    rc = mcm_store_recover(service->store, &recovered);
    if (rc != MCM_OK) {
        free_service(service);
        return rc;
    }
    if (recovered > 0)
        mcm_service_log(service, MCM_LOG_WARNING,
                        "%zu job(s) were CREATING when the SCP last stopped: back to PENDING (QUEUED)", recovered);
    remove_stale_temporaries(service);
    /* The parts below the service get what they use, the log channel included: they never call
     * back up into it (worker.h, retention.h). */
    rc = mcm_workers_new(&service->workers, service->store, &service->opts, service->log);
    if (rc == MCM_OK)
        rc = mcm_retention_new(&service->retention, service->store, service->storage_dir, &service->instance_lock,
                               &service->opts, service->log);
    if (rc != MCM_OK) {
        free_service(service);
        return rc;
    }
    *out = service;
    return MCM_OK;
}

void mcm_service_close(mcm_service *service)
{
    if (service == NULL)
        return;
    mcm_service_stop(service);
    free_service(service);
}

int mcm_service_start(mcm_service *service)
{
    if (service == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_service_start: service is NULL");
    int rc = mcm_workers_start(service->workers);
    if (rc != MCM_OK)
        return rc; /* MCM_ESTATE if running */
    rc = mcm_retention_start(service->retention);
    if (rc != MCM_OK) {
        char message[512];
        snprintf(message, sizeof message, "%s", mcm_last_error());
        mcm_workers_stop(service->workers);
        return mcm_fail(rc, "%s", message);
    }
    return MCM_OK;
}

void mcm_service_stop(mcm_service *service)
{
    /* Retention first, so that nothing expires while the workers wind down; both stop at once from
     * the caller's point of view. */
    if (service != NULL) {
        mcm_retention_stop(service->retention);
        mcm_workers_stop(service->workers);
    }
}

void mcm_service_set_housekeeping_interval(mcm_service *service, unsigned milliseconds)
{
    if (service != NULL)
        mcm_retention_set_interval(service->retention, milliseconds);
}

void mcm_service_set_store_busy_timeout(mcm_service *service, int milliseconds)
{
    if (service != NULL)
        mcm_store_set_busy_timeout(service->store, milliseconds);
}

const char *mcm_service_ae_title(const mcm_service *service)
{
    return service != NULL ? service->ae_title : NULL;
}

unsigned mcm_service_max_associations(const mcm_service *service)
{
    return service != NULL ? service->opts.max_associations : 0;
}

const mcm_scp_options *mcm_service_options(const mcm_service *service)
{
    return service != NULL ? &service->opts : NULL;
}

/* ---- replies ---- */

/* Keep only the status detail fields PS3.7 Annex C lists for rsp's status (digest 7.5) when the
 * SCP runs with annex_c_details; otherwise keep everything (digest A18). */
static void finish_response(const mcm_service *service, mcm_response *rsp)
{
    if (!service->opts.annex_c_details)
        return;
    unsigned fields = mcm_status_annex_c_fields(rsp->status);
    if (!(fields & MCM_FIELD_ERROR_COMMENT))
        rsp->error_comment[0] = '\0';
    if (!(fields & MCM_FIELD_OFFENDING_ELEMENT))
        rsp->offending_element_count = 0;
    if (!(fields & MCM_FIELD_ATTRIBUTE_IDENTIFIER_LIST))
        rsp->attribute_identifier_count = 0;
    if (!(fields & MCM_FIELD_ACTION_TYPE_ID))
        rsp->has_action_type_id = 0;
    if (!(fields & MCM_FIELD_AFFECTED_SOP_INSTANCE_UID))
        rsp->affected_sop_instance_uid[0] = '\0';
    if (!(fields & MCM_FIELD_ERROR_ID))
        rsp->has_error_id = 0;
}

/* Copy a UID into the reply's Affected SOP Instance UID if it can be sent as UI at all (at most 64
 * printable characters, no backslash); a longer or binary value is better left out than cut. */
static void set_affected_uid(mcm_response *rsp, const char *uid)
{
    rsp->affected_sop_instance_uid[0] = '\0';
    if (uid == NULL)
        return;
    size_t n = strlen(uid);
    if (n > MCM_UID_MAX)
        return;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)uid[i] < 0x20 || (unsigned char)uid[i] >= 0x7F || uid[i] == '\\')
            return;
    memcpy(rsp->affected_sop_instance_uid, uid, n + 1);
}

static void set_action_type(mcm_response *rsp, uint16_t action_type_id)
{
    rsp->has_action_type_id = 1;
    rsp->action_type_id = action_type_id;
}

/* Ask the authorise callback for its verdict (MCM_AUTHORIZE_*). */
static int authorize_verdict(mcm_service *service, const char *calling_ae, mcm_scp_operation op, const mcm_job *job)
{
    if (service->opts.authorize == NULL)
        return MCM_AUTHORIZE_ALLOW;
    int verdict = service->opts.authorize(calling_ae != NULL ? calling_ae : "", op, job, service->opts.user);
    if (verdict != MCM_AUTHORIZE_ALLOW)
        mcm_service_log(service, MCM_LOG_INFO, "%s %s for calling AE \"%s\" by the authorise callback",
                        mcm_scp_operation_name(op),
                        op == MCM_SCP_CANCEL && verdict == MCM_AUTHORIZE_DENY_CANCEL ? "denied" : "refused",
                        calling_ae != NULL ? calling_ae : "");
    return verdict;
}

/* 1 if the authorise callback allows op. */
static int authorized(mcm_service *service, const char *calling_ae, mcm_scp_operation op, const mcm_job *job)
{
    return authorize_verdict(service, calling_ae, op, job) == MCM_AUTHORIZE_ALLOW;
}

static void refuse_unauthorized(mcm_response *rsp, mcm_operation op, mcm_scp_operation what, const char *calling_ae)
{
    char trimmed[17];
    mcm_response_set(rsp, op, MCM_STATUS_NOT_AUTHORIZED, "%s not authorized for %s", mcm_scp_operation_name(what),
                     calling_ae != NULL && calling_ae[0] != '\0' ? ae_trim(calling_ae, trimmed) : "this peer");
}

static int64_t now_seconds(void)
{
    return (int64_t)time(NULL);
}

/* ---- association admission, C-ECHO ---- */

int mcm_service_admit(mcm_service *service, const char *calling_ae, const char *called_ae, char *why, size_t why_size)
{
    char calling[17], called[17], ours[17], allowed[17];
    if (why != NULL && why_size > 0)
        why[0] = '\0';
    if (service == NULL) {
        if (why != NULL && why_size > 0)
            snprintf(why, why_size, "no service");
        return 0;
    }
    ae_trim(calling_ae, calling);
    ae_trim(called_ae, called);
    ae_trim(service->ae_title, ours);
    if (service->opts.check_called_ae_title && strcmp(called, ours) != 0) {
        if (why != NULL && why_size > 0)
            snprintf(why, why_size, "called AE title \"%s\" is not ours (\"%s\")", called, ours);
        return 0;
    }
    if (service->opts.allowed_calling_ae_title_count == 0)
        return 1;
    for (size_t i = 0; i < service->opts.allowed_calling_ae_title_count; i++)
        if (strcmp(calling, ae_trim(service->allowed_titles[i], allowed)) == 0)
            return 1;
    if (why != NULL && why_size > 0)
        snprintf(why, why_size, "calling AE title \"%s\" is not allowed", calling);
    return 0;
}

int mcm_service_echo(mcm_service *service, const char *calling_ae, mcm_response *rsp)
{
    if (service == NULL || rsp == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_service_echo: NULL argument");
    mcm_response_clear(rsp);
    if (!authorized(service, calling_ae, MCM_SCP_ECHO, NULL))
        refuse_unauthorized(rsp, MCM_OP_ANY, MCM_SCP_ECHO, calling_ae);
    finish_response(service, rsp);
    return MCM_OK;
}

/* ---- C-STORE ---- */

int mcm_service_store_begin(mcm_service *service, const char *calling_ae, const char *sop_class_uid,
                            const char *sop_instance_uid, char tmp_path[4096], mcm_response *rsp)
{
    if (service == NULL || tmp_path == NULL || rsp == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_service_store_begin: NULL argument");
    mcm_response_clear(rsp);
    tmp_path[0] = '\0';
    /* The instance UID becomes a file name: only a valid UID (digits and dots, no empty component,
     * so never "." or "..", at most 64 characters) ever reaches a path. */
    if (sop_instance_uid == NULL || !mcm_uid_is_valid(sop_instance_uid)) {
        mcm_response_set(rsp, MCM_OP_ANY, MCM_STATUS_INVALID_SOP_INSTANCE, "SOP Instance UID is not a valid UID");
        mcm_response_add_offending(rsp, TAG_AFFECTED_SOP_INSTANCE_UID);
        set_affected_uid(rsp, sop_instance_uid);
        finish_response(service, rsp);
        return MCM_OK;
    }
    if (sop_class_uid == NULL || !mcm_uid_is_valid(sop_class_uid)) {
        mcm_response_set(rsp, MCM_OP_ANY, STORE_STATUS_CANNOT_UNDERSTAND, "SOP Class UID is not a valid UID");
        mcm_response_add_offending(rsp, MCM_TAG(0x0000, 0x0002));
        finish_response(service, rsp);
        return MCM_OK;
    }
    if (!authorized(service, calling_ae, MCM_SCP_STORE, NULL)) {
        refuse_unauthorized(rsp, MCM_OP_ANY, MCM_SCP_STORE, calling_ae);
        finish_response(service, rsp);
        return MCM_OK;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/" TEMP_PREFIX "XXXXXX", service->storage_dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        mcm_service_log(service, MCM_LOG_ERROR, "C-STORE %s: cannot create a temporary file in %s: %s",
                        sop_instance_uid, service->storage_dir, strerror(errno));
        mcm_response_set(rsp, MCM_OP_ANY, STORE_STATUS_OUT_OF_RESOURCES, "cannot create a file: %s", strerror(errno));
        finish_response(service, rsp);
        return MCM_OK;
    }
    close(fd);
    memcpy(tmp_path, path, strlen(path) + 1);
    return MCM_OK;
}

/* 1 if path is one of our temporary files: storage_dir/.incoming-XXXXXX, nothing else. */
static int is_our_temporary(const mcm_service *service, const char *path)
{
    size_t dir_length = strlen(service->storage_dir);
    if (path == NULL || strncmp(path, service->storage_dir, dir_length) != 0 || path[dir_length] != '/')
        return 0;
    const char *name = path + dir_length + 1;
    return strncmp(name, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0 && strchr(name, '/') == NULL &&
           strlen(name) == strlen(TEMP_PREFIX) + 6;
}

/* fsync a directory so that a rename in it is durable. */
static int sync_directory(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

void mcm_service_store_abort(mcm_service *service, const char *tmp_path)
{
    if (service != NULL && is_our_temporary(service, tmp_path))
        unlink(tmp_path);
}

int mcm_service_store_finish(mcm_service *service, const char *tmp_path, const char *sop_class_uid,
                             const char *sop_instance_uid, const char *transfer_syntax_uid, mcm_response *rsp)
{
    if (service == NULL || rsp == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_service_store_finish: NULL argument");
    mcm_response_clear(rsp);
    if (!is_our_temporary(service, tmp_path)) {
        mcm_response_set(rsp, MCM_OP_ANY, STORE_STATUS_OUT_OF_RESOURCES, "internal error: not a receive file");
        finish_response(service, rsp);
        return mcm_fail(MCM_EINVAL, "mcm_service_store_finish: %s is not a temporary file of this SCP",
                        tmp_path != NULL ? tmp_path : "(null)");
    }
    if (sop_instance_uid == NULL || !mcm_uid_is_valid(sop_instance_uid) || sop_class_uid == NULL ||
        !mcm_uid_is_valid(sop_class_uid)) {
        unlink(tmp_path);
        mcm_response_set(rsp, MCM_OP_ANY, MCM_STATUS_INVALID_SOP_INSTANCE, "SOP Class or Instance UID not valid");
        set_affected_uid(rsp, sop_instance_uid);
        finish_response(service, rsp);
        return MCM_OK;
    }
    const char *syntax =
        transfer_syntax_uid != NULL && mcm_uid_is_valid(transfer_syntax_uid) ? transfer_syntax_uid : "";
    char final_path[PATH_MAX];
    snprintf(final_path, sizeof final_path, "%s/%s.dcm", service->storage_dir, sop_instance_uid);

    /* The data first, then the name, then the directory entry, then the record: a crash at any
     * point leaves either no record or a record whose file is complete. */
    const char *failed_step = NULL;
    int error = 0;
    struct stat st;
    memset(&st, 0, sizeof st);
    int fd = open(tmp_path, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0 || fstat(fd, &st) != 0) {
        failed_step = "sync";
        error = errno;
    }
    if (fd >= 0)
        close(fd);
    if (failed_step == NULL && st.st_size == 0) {
        unlink(tmp_path);
        mcm_response_set(rsp, MCM_OP_ANY, STORE_STATUS_CANNOT_UNDERSTAND, "received an empty data set");
        finish_response(service, rsp);
        return MCM_OK;
    }
    pthread_mutex_lock(&service->instance_lock);
    if (failed_step == NULL && rename(tmp_path, final_path) != 0) {
        failed_step = "rename";
        error = errno;
    }
    if (failed_step == NULL && sync_directory(service->storage_dir) != 0) {
        failed_step = "directory sync";
        error = errno;
    }
    int rc = MCM_OK;
    if (failed_step == NULL)
        rc = mcm_store_put_instance(service->store, sop_class_uid, sop_instance_uid, syntax, final_path,
                                    (uint64_t)st.st_size, now_seconds());
    pthread_mutex_unlock(&service->instance_lock);

    if (failed_step != NULL) {
        unlink(tmp_path);
        mcm_service_log(service, MCM_LOG_ERROR, "C-STORE %s: %s failed: %s", sop_instance_uid, failed_step,
                        strerror(error));
        mcm_response_set(rsp, MCM_OP_ANY, STORE_STATUS_OUT_OF_RESOURCES, "cannot store the instance: %s",
                         strerror(error));
    } else if (rc != MCM_OK) {
        mcm_service_log(service, MCM_LOG_ERROR, "C-STORE %s: cannot record the instance: %s", sop_instance_uid,
                        mcm_last_error());
        mcm_response_set(rsp, MCM_OP_ANY, STORE_STATUS_OUT_OF_RESOURCES, "cannot record the instance");
    } else {
        mcm_service_log(service, MCM_LOG_DEBUG, "C-STORE %s (%s): %lld bytes in %s", sop_instance_uid, sop_class_uid,
                        (long long)st.st_size, final_path);
        set_affected_uid(rsp, sop_instance_uid);
    }
    finish_response(service, rsp);
    return MCM_OK;
}

/* ---- N-CREATE ---- */

static void log_unknown_attributes(mcm_service *service, const mcm_request *request)
{
    size_t n = mcm_request_unknown_count(request);
    for (size_t i = 0; i < n; i++) {
        uint32_t tag = mcm_request_unknown(request, i);
        mcm_service_log(service, MCM_LOG_INFO, "N-CREATE: ignored attribute (%04X,%04X) (digest A9)",
                        (unsigned)(tag >> 16), (unsigned)(tag & 0xFFFF));
    }
}

int mcm_service_create(mcm_service *service, const char *calling_ae, mcm_request *request, const char *requested_uid,
                       char uid_out[MCM_UID_MAX + 1], mcm_job **created, mcm_response *rsp)
{
    if (created != NULL)
        *created = NULL;
    if (uid_out != NULL)
        uid_out[0] = '\0';
    if (service == NULL || rsp == NULL) {
        mcm_request_free(request);
        if (rsp != NULL)
            mcm_response_set(rsp, MCM_OP_N_CREATE, MCM_STATUS_PROCESSING_FAILURE, "internal error");
        return mcm_fail(MCM_EINVAL, "mcm_service_create: NULL argument");
    }
    mcm_response_clear(rsp);
    mcm_job *job = NULL;
    int rc;

    /* The command first: a malformed requested UID is 0117 whatever the data set holds. */
    if (requested_uid != NULL && !mcm_uid_is_valid(requested_uid)) {
        mcm_response_set(rsp, MCM_OP_N_CREATE, MCM_STATUS_INVALID_SOP_INSTANCE,
                         "Affected SOP Instance UID is not a valid UID");
        mcm_response_add_offending(rsp, TAG_AFFECTED_SOP_INSTANCE_UID);
        set_affected_uid(rsp, requested_uid);
        goto done;
    }
    if (request == NULL && mcm_request_new(&request) != MCM_OK) {
        mcm_response_set(rsp, MCM_OP_N_CREATE, MCM_STATUS_PROCESSING_FAILURE, "out of memory");
        goto done;
    }
    /* Syntax only (digest A11): the instances are checked when the job starts. */
    mcm_request_validate(request, service->opts.strict, rsp);
    if (rsp->status != MCM_STATUS_SUCCESS) {
        mcm_service_log(service, MCM_LOG_INFO, "N-CREATE refused with 0x%04X: %s", rsp->status, rsp->error_comment);
        goto done;
    }
    log_unknown_attributes(service, request);
    /* Lenient validation took an empty optional attribute as absent (PS3.4 5.4.2.1: not permitted
     * with zero length); so does the job, or N-GET would return it empty, which 3/3 forbids too. */
    for (size_t k = 0; k < mcm_request_attribute_count; k++) {
        uint32_t tag = mcm_request_attributes[k].tag;
        if (mcm_request_attribute(request, tag) != NULL && mcm_request_attribute_length(request, tag) == 0)
            (void)mcm_request_set_attribute_raw(request, tag, NULL, 0);
    }

    char uid[MCM_UID_MAX + 1];
    if (requested_uid != NULL)
        snprintf(uid, sizeof uid, "%s", requested_uid);
    else if (mcm_uid_generate(uid) != MCM_OK) {
        mcm_response_set(rsp, MCM_OP_N_CREATE, MCM_STATUS_PROCESSING_FAILURE, "cannot generate a UID");
        goto done;
    }
    if (mcm_job_new(&job, uid) != MCM_OK) {
        mcm_response_set(rsp, MCM_OP_N_CREATE, MCM_STATUS_PROCESSING_FAILURE, "out of memory");
        goto done;
    }
    mcm_job_set_request(job, request);
    request = NULL;
    mcm_job_mark_maintained(job);
    /* The job the authorise callback sees: what N-CREATE would create, IDLE / NORMAL. */
    mcm_job_event create = {.type = MCM_EVENT_CREATE};
    mcm_job_apply(job, &create, NULL);
    if (!authorized(service, calling_ae, MCM_SCP_CREATE, job)) {
        refuse_unauthorized(rsp, MCM_OP_N_CREATE, MCM_SCP_CREATE, calling_ae);
        goto done;
    }

    /* Existence, queue limit and insertion in one critical section of the store. */
    mcm_store_lock(service->store);
    mcm_job_state state = MCM_JOB_ABSENT;
    char info[65] = "";
    rc = mcm_store_load_state(service->store, uid, &state, info);
    if (rc == MCM_ENOTFOUND) {
        state = MCM_JOB_ABSENT;
        rc = MCM_OK;
    }
    size_t live = 0;
    if (rc == MCM_OK && service->opts.queue_limit > 0)
        rc = mcm_store_count_live(service->store, &live);
    mcm_job_transition t;
    if (rc == MCM_OK) {
        mcm_job_event event = {.type = MCM_EVENT_CREATE};
        if (service->opts.queue_limit > 0 && live >= service->opts.queue_limit)
            event.refusal = MCM_STATUS_RESOURCE_LIMITATION; /* digest A16 */
        mcm_job_next(state, info[0] != '\0' ? info : NULL, &event, &t);
        if (t.status == MCM_STATUS_SUCCESS) {
            int64_t now = now_seconds();
            rc = mcm_store_insert_job(service->store, job, now);
            if (rc == MCM_ESTATE) /* inserted meanwhile by another process: still a duplicate */
                t.status = MCM_STATUS_DUPLICATE_SOP_INSTANCE;
            else if (rc == MCM_OK)
                mcm_job_set_times(job, now, now);
        }
    }
    mcm_store_unlock(service->store);

    if (rc != MCM_OK && rc != MCM_ESTATE) {
        mcm_service_log(service, MCM_LOG_ERROR, "N-CREATE %s: job store failure: %s", uid, mcm_last_error());
        mcm_response_set(rsp, MCM_OP_N_CREATE, MCM_STATUS_PROCESSING_FAILURE, "job store failure");
        goto done;
    }
    switch (t.status) {
    case MCM_STATUS_SUCCESS:
        set_affected_uid(rsp, uid);
        if (uid_out != NULL)
            memcpy(uid_out, uid, strlen(uid) + 1);
        mcm_service_log(service, MCM_LOG_INFO, "N-CREATE %s: IDLE, %zu instance(s)", uid,
                        mcm_request_reference_count(mcm_job_request(job)));
        if (created != NULL) {
            *created = job;
            job = NULL;
        }
        break;
    case MCM_STATUS_DUPLICATE_SOP_INSTANCE:
        mcm_response_set(rsp, MCM_OP_N_CREATE, t.status, "SOP Instance UID already in use");
        mcm_response_add_offending(rsp, TAG_AFFECTED_SOP_INSTANCE_UID);
        set_affected_uid(rsp, uid);
        break;
    case MCM_STATUS_RESOURCE_LIMITATION:
        mcm_response_set(rsp, MCM_OP_N_CREATE, t.status, "queue full: %zu live requests (limit %u)", live,
                         service->opts.queue_limit);
        break;
    default: mcm_response_set(rsp, MCM_OP_N_CREATE, t.status, "refused"); break;
    }

done:
    mcm_request_free(request);
    mcm_job_free(job);
    finish_response(service, rsp);
    return MCM_OK;
}

/* ---- N-ACTION ---- */

/* A CS or IS value without its leading and trailing spaces (padding, PS3.5 6.2) into out. */
static const char *trim_value(const char *value, char *out, size_t size)
{
    while (*value == ' ')
        value++;
    size_t n = strlen(value);
    while (n > 0 && value[n - 1] == ' ')
        n--;
    if (n >= size)
        n = size - 1;
    memcpy(out, value, n);
    out[n] = '\0';
    return out;
}

typedef struct initiate_arguments {
    int copies;            /* 0: not sent */
    mcm_priority priority; /* UNSET: not sent */
} initiate_arguments;

/* Name every attribute of the Action Information info as Offending Element, except Number of
 * Copies and Request Priority when allow_initiate_arguments. Returns how many; *first receives
 * the first one. */
static size_t foreign_arguments(const mcm_request *info, int allow_initiate_arguments, mcm_response *rsp,
                                uint32_t *first)
{
    size_t count = 0;
    *first = 0;
    if (info == NULL)
        return 0;
    for (size_t k = 0; k < mcm_request_attribute_count; k++) {
        uint32_t tag = mcm_request_attributes[k].tag;
        if (allow_initiate_arguments && (tag == MCM_TAG_NUMBER_OF_COPIES || tag == MCM_TAG_REQUEST_PRIORITY))
            continue;
        /* Not an argument but a description of the data set's text (SOP Common, PS3.3 C.12.1):
         * toolkits that put it into every data set they send must not get 0114 for it. */
        if (tag == MCM_TAG_SPECIFIC_CHARACTER_SET)
            continue;
        if (mcm_request_attribute(info, tag) != NULL) {
            if (count++ == 0)
                *first = tag;
            mcm_response_add_offending(rsp, tag);
        }
    }
    if (mcm_request_reference_sequence_present(info)) {
        if (count++ == 0)
            *first = MCM_TAG_REFERENCED_SOP_SEQUENCE;
        mcm_response_add_offending(rsp, MCM_TAG_REFERENCED_SOP_SEQUENCE);
    }
    for (size_t i = 0; i < mcm_request_unknown_count(info); i++) {
        uint32_t tag = mcm_request_unknown(info, i);
        if (count++ == 0)
            *first = tag;
        mcm_response_add_offending(rsp, tag);
    }
    return count;
}

/* Check the Initiate Action Information (digest 3.2, A11): Number of Copies an IS in
 * 1..max_copies, Request Priority HIGH/MED/LOW (else 0115), nothing else (else 0114). Fills rsp
 * with the refusal (status stays 0000 when all is well). */
static void check_initiate_arguments(const mcm_service *service, const mcm_request *info, initiate_arguments *args,
                                     mcm_response *rsp)
{
    args->copies = 0;
    args->priority = MCM_PRIORITY_UNSET;
    if (info == NULL)
        return;
    uint32_t first;
    size_t foreign = foreign_arguments(info, 1, rsp, &first);
    if (foreign > 0) {
        mcm_response_set(rsp, MCM_OP_N_ACTION, MCM_STATUS_NO_SUCH_ARGUMENT, "(%04X,%04X) is not an Initiate argument%s",
                         (unsigned)(first >> 16), (unsigned)(first & 0xFFFF), foreign > 1 ? " (and others)" : "");
        set_action_type(rsp, 1);
        return;
    }

    char text[80];
    const char *copies = mcm_request_attribute(info, MCM_TAG_NUMBER_OF_COPIES);
    if (copies != NULL) {
        size_t length = mcm_request_attribute_length(info, MCM_TAG_NUMBER_OF_COPIES);
        long n = 0;
        int valid =
            length > 0 && memchr(copies, '\0', length) == NULL && mcm_vr_check(MCM_VR_IS, copies, length, NULL, 0);
        if (valid) {
            char *end;
            trim_value(copies, text, sizeof text);
            errno = 0;
            n = strtol(text, &end, 10);
            valid = errno == 0 && *end == '\0' && text[0] != '\0';
        }
        if (!valid || n < 1 || (unsigned long)n > service->opts.max_copies) {
            if (!valid)
                mcm_response_set(rsp, MCM_OP_N_ACTION, MCM_STATUS_INVALID_ARGUMENT_VALUE,
                                 "Number of Copies is not an integer string");
            else
                mcm_response_set(rsp, MCM_OP_N_ACTION, MCM_STATUS_INVALID_ARGUMENT_VALUE,
                                 "Number of Copies %ld is not in 1..%u", n, service->opts.max_copies);
            mcm_response_add_offending(rsp, MCM_TAG_NUMBER_OF_COPIES);
            set_action_type(rsp, 1);
            return;
        }
        args->copies = (int)n;
    }
    const char *priority = mcm_request_attribute(info, MCM_TAG_REQUEST_PRIORITY);
    if (priority != NULL) {
        size_t length = mcm_request_attribute_length(info, MCM_TAG_REQUEST_PRIORITY);
        if (length == 0 || memchr(priority, '\0', length) != NULL ||
            mcm_priority_parse(trim_value(priority, text, sizeof text), &args->priority) != MCM_OK) {
            args->priority = MCM_PRIORITY_UNSET;
            mcm_response_set(rsp, MCM_OP_N_ACTION, MCM_STATUS_INVALID_ARGUMENT_VALUE,
                             "Request Priority is not HIGH, MED or LOW");
            mcm_response_add_offending(rsp, MCM_TAG_REQUEST_PRIORITY);
            set_action_type(rsp, 1);
            return;
        }
    }
}

/* The reply for a state machine refusal of an action (not 0000). */
static void action_refusal(mcm_response *rsp, const mcm_job_transition *t, mcm_job_state state, const char *uid)
{
    switch (t->status) {
    case MCM_STATUS_NO_SUCH_SOP_INSTANCE:
        mcm_response_set(rsp, MCM_OP_N_ACTION, t->status, "no such media creation request");
        mcm_response_add_offending(rsp, TAG_REQUESTED_SOP_INSTANCE_UID);
        set_affected_uid(rsp, uid);
        break;
    case MCM_STATUS_ALREADY_INITIATED:
        mcm_response_set(rsp, MCM_OP_N_ACTION, t->status, "already initiated: the request is %s",
                         mcm_job_state_name(state));
        mcm_response_add_offending(rsp, TAG_ACTION_TYPE_ID);
        break;
    case MCM_STATUS_ALREADY_COMPLETED:
        mcm_response_set(rsp, MCM_OP_N_ACTION, t->status, "cannot cancel: the request is already %s",
                         mcm_job_state_name(state));
        mcm_response_add_offending(rsp, TAG_ACTION_TYPE_ID);
        break;
    case MCM_STATUS_NOT_INTERRUPTIBLE:
        mcm_response_set(rsp, MCM_OP_N_ACTION, t->status, "cannot cancel: media are being written");
        mcm_response_add_offending(rsp, TAG_ACTION_TYPE_ID);
        break;
    case MCM_STATUS_CANCEL_DENIED: /* cancel() words the comment: it knows why */
        mcm_response_set(rsp, MCM_OP_N_ACTION, t->status, "cancellation denied");
        mcm_response_add_offending(rsp, TAG_ACTION_TYPE_ID);
        break;
    default: mcm_response_set(rsp, MCM_OP_N_ACTION, t->status, "refused"); break;
    }
}

static void store_failure(mcm_service *service, mcm_response *rsp, mcm_operation op, const char *what, const char *uid)
{
    mcm_service_log(service, MCM_LOG_ERROR, "%s %s: job store failure: %s", what, uid, mcm_last_error());
    mcm_response_set(rsp, op, MCM_STATUS_PROCESSING_FAILURE, "job store failure");
    set_affected_uid(rsp, uid);
}

static void initiate(mcm_service *service, const char *uid, const mcm_request *info, mcm_response *rsp)
{
    initiate_arguments args;
    mcm_response refusal;
    mcm_response_clear(&refusal);
    check_initiate_arguments(service, info, &args, &refusal);

    mcm_store_lock(service->store);
    mcm_job *job = NULL;
    int rc = mcm_store_load_job(service->store, uid, &job);
    mcm_job_state state = rc == MCM_OK ? mcm_job_state_of(job) : MCM_JOB_ABSENT;
    mcm_job_transition t;
    memset(&t, 0, sizeof t);
    if (rc == MCM_OK && refusal.status == 0 && args.copies == 0 &&
        mcm_request_copies(mcm_job_request(job)) > (int)service->opts.max_copies) {
        /* Number of Copies belongs to Initiate (PS3.4 Table S.3.2.2.1-1); one sent with N-CREATE is
         * kept as the default, but it answers to the same device limit. */
        mcm_response_set(&refusal, MCM_OP_N_ACTION, MCM_STATUS_INVALID_ARGUMENT_VALUE,
                         "Number of Copies %d (from N-CREATE) is not in 1..%u",
                         mcm_request_copies(mcm_job_request(job)), service->opts.max_copies);
        mcm_response_add_offending(&refusal, MCM_TAG_NUMBER_OF_COPIES);
        set_action_type(&refusal, 1);
    }
    if (rc == MCM_OK || rc == MCM_ENOTFOUND) {
        mcm_job_event event = {.type = MCM_EVENT_INITIATE, .refusal = refusal.status};
        if (job != NULL) {
            rc = mcm_job_apply(job, &event, &t);
        } else {
            rc = mcm_job_next(MCM_JOB_ABSENT, NULL, &event, &t);
        }
    }
    if (rc == MCM_OK && t.status == MCM_STATUS_SUCCESS) {
        /* Persist the arguments with the state change (digest 3.3: both can be read back). A
         * Number of Copies from N-CREATE stands unless Initiate sends one; absent, it is 1. */
        mcm_request *request = mcm_job_request_mut(job);
        if (args.copies > 0)
            rc = mcm_request_set_copies(request, args.copies);
        else if (mcm_request_copies(request) == 0)
            rc = mcm_request_set_copies(request, 1);
        if (rc == MCM_OK && args.priority != MCM_PRIORITY_UNSET)
            rc = mcm_request_set_priority(request, args.priority);
        else if (rc == MCM_OK && mcm_request_priority(request) == MCM_PRIORITY_UNSET)
            rc = mcm_request_set_priority(request, MCM_PRIORITY_MED);
        if (rc == MCM_OK)
            rc = mcm_store_update_job(service->store, job, MCM_JOB_IDLE, 0, now_seconds());
    }
    mcm_store_unlock(service->store);

    if (rc != MCM_OK) {
        store_failure(service, rsp, MCM_OP_N_ACTION, "Initiate", uid);
    } else if (t.status == MCM_STATUS_SUCCESS) {
        set_action_type(rsp, 1);
        set_affected_uid(rsp, uid);
        mcm_service_log(service, MCM_LOG_INFO, "Initiate %s: PENDING (%d copies, priority %s)", uid,
                        mcm_request_copies(mcm_job_request(job)),
                        mcm_priority_name(mcm_request_priority(mcm_job_request(job))));
        mcm_workers_wake(service->workers);
    } else if (t.status == refusal.status) {
        *rsp = refusal; /* 0114 / 0115 from the argument check, with its comment and tags */
        set_affected_uid(rsp, uid);
    } else {
        action_refusal(rsp, &t, state, uid);
    }
    mcm_job_free(job);
}

static void cancel(mcm_service *service, const char *uid, int denied_by_policy, mcm_response *rsp)
{
    mcm_store_lock(service->store);
    mcm_job_state state = MCM_JOB_ABSENT;
    char info[65] = "";
    int rc = mcm_store_load_state(service->store, uid, &state, info);
    if (rc == MCM_ENOTFOUND) {
        state = MCM_JOB_ABSENT;
        rc = MCM_OK;
    }
    mcm_job_transition t;
    memset(&t, 0, sizeof t);
    if (rc == MCM_OK) {
        mcm_job_event event = {.type = MCM_EVENT_CANCEL, .cancel_denied = denied_by_policy};
        if (state == MCM_JOB_CREATING) {
            /* Digest 5.12: success means the creation was stopped. The writer is stopped here, in
             * the step that finds it interruptible, before the job is deleted: a writer that
             * declares itself non-interruptible after this sees the stop instead of finishing. */
            int interrupted = 0;
            int running = mcm_workers_interrupt(service->workers, uid, !denied_by_policy, &interrupted);
            event.not_interruptible = running && !interrupted;
            /* CREATING but no worker here holds it: another process's job; do not pull it away. */
            event.cancel_denied = event.cancel_denied || !running;
        }
        rc = mcm_job_next(state, info[0] != '\0' ? info : NULL, &event, &t);
    }
    /* Under the store's mutex, so that the worker's result is dropped before the UID can be used
     * again. Should the deletion fail, the stopped job goes back to the queue (lib/scp/worker.c). */
    if (rc == MCM_OK && t.status == MCM_STATUS_SUCCESS) {
        rc = mcm_store_delete_job(service->store, uid);
        if (rc == MCM_OK && state == MCM_JOB_CREATING)
            mcm_workers_forget(service->workers, uid);
    }
    mcm_store_unlock(service->store);

    if (rc != MCM_OK) {
        store_failure(service, rsp, MCM_OP_N_ACTION, "Cancel", uid);
    } else if (t.status == MCM_STATUS_SUCCESS) {
        set_action_type(rsp, 2);
        set_affected_uid(rsp, uid);
        mcm_service_log(service, MCM_LOG_INFO, "Cancel %s: deleted (was %s)", uid, mcm_job_state_name(state));
    } else {
        action_refusal(rsp, &t, state, uid);
        if (t.status == MCM_STATUS_CANCEL_DENIED)
            mcm_response_set(rsp, MCM_OP_N_ACTION, t.status, "%s",
                             denied_by_policy ? "cancellation denied by local policy"
                                              : "cannot cancel: the job is being written by another process");
    }
}

int mcm_service_action(mcm_service *service, const char *calling_ae, const char *uid, uint16_t action_type_id,
                       mcm_request *action_information, mcm_response *rsp)
{
    if (service == NULL || rsp == NULL) {
        mcm_request_free(action_information);
        if (rsp != NULL)
            mcm_response_set(rsp, MCM_OP_N_ACTION, MCM_STATUS_PROCESSING_FAILURE, "internal error");
        return mcm_fail(MCM_EINVAL, "mcm_service_action: NULL argument");
    }
    mcm_response_clear(rsp);
    mcm_job *job = NULL;
    if (action_type_id != 1 && action_type_id != 2) {
        mcm_response_set(rsp, MCM_OP_N_ACTION, MCM_STATUS_NO_SUCH_ACTION,
                         "Action Type ID %u: only 1 (Initiate) and 2 (Cancel)", action_type_id);
        mcm_response_add_offending(rsp, TAG_ACTION_TYPE_ID);
        set_action_type(rsp, action_type_id);
        goto done;
    }
    if (uid == NULL || !mcm_uid_is_valid(uid)) {
        mcm_response_set(rsp, MCM_OP_N_ACTION, MCM_STATUS_INVALID_SOP_INSTANCE,
                         "Requested SOP Instance UID is not a valid UID");
        mcm_response_add_offending(rsp, TAG_REQUESTED_SOP_INSTANCE_UID);
        set_affected_uid(rsp, uid);
        goto done;
    }
    int rc = mcm_store_load_job(service->store, uid, &job);
    if (rc == MCM_ENOTFOUND) {
        mcm_job_transition t = {.status = MCM_STATUS_NO_SUCH_SOP_INSTANCE};
        action_refusal(rsp, &t, MCM_JOB_ABSENT, uid);
        goto done;
    }
    if (rc != MCM_OK) {
        store_failure(service, rsp, MCM_OP_N_ACTION, "N-ACTION", uid);
        goto done;
    }
    mcm_scp_operation op = action_type_id == 1 ? MCM_SCP_INITIATE : MCM_SCP_CANCEL;
    int verdict = authorize_verdict(service, calling_ae, op, job);
    int cancel_denied = op == MCM_SCP_CANCEL && verdict == MCM_AUTHORIZE_DENY_CANCEL;
    if (verdict != MCM_AUTHORIZE_ALLOW && !cancel_denied) {
        refuse_unauthorized(rsp, MCM_OP_N_ACTION, op, calling_ae);
        goto done;
    }
    if (action_type_id == 1) {
        initiate(service, uid, action_information, rsp);
    } else {
        /* Cancel carries no Action Information (PS3.4 Table S.3.2.3.1-1): an empty data set is
         * harmless, an attribute in it is an argument Cancel does not have. */
        uint32_t first;
        size_t foreign = foreign_arguments(action_information, 0, rsp, &first);
        if (foreign > 0) {
            mcm_response_set(rsp, MCM_OP_N_ACTION, MCM_STATUS_NO_SUCH_ARGUMENT,
                             "Cancel takes no argument: (%04X,%04X)%s", (unsigned)(first >> 16),
                             (unsigned)(first & 0xFFFF), foreign > 1 ? " and others" : "");
            set_action_type(rsp, 2);
        } else {
            cancel(service, uid, cancel_denied, rsp);
        }
    }

done:
    mcm_request_free(action_information);
    mcm_job_free(job);
    finish_response(service, rsp);
    return MCM_OK;
}

/* ---- N-GET ---- */

/* Top-level attributes of the Media Creation Management module (PS3.3 C.22.1) that a job carries
 * (digest 3.1-3.3): the request attributes, its Referenced SOP Sequence and the SCP-maintained ones. */
static int maintained_attribute(uint32_t tag)
{
    if (mcm_attribute_find(tag) != NULL) /* Specific Character Set (SOP Common) included */
        return 1;
    switch (tag) {
    case MCM_TAG_REFERENCED_SOP_SEQUENCE:
    case MCM_TAG_EXECUTION_STATUS:
    case MCM_TAG_EXECUTION_STATUS_INFO:
    case MCM_TAG_TOTAL_NUMBER_OF_PIECES:
    case MCM_TAG_FAILED_SOP_SEQUENCE:
    case MCM_TAG_REFERENCED_STORAGE_MEDIA_SEQUENCE: return 1;
    default: return 0;
    }
}

/* Top-level attributes of the SOP Common module (PS3.3 C.12.1, editions 2016-2020) that the SCP
 * does not maintain. SOP Class and Instance UID are among them: PS3.4 5.4.2.3 keeps them out of
 * the data set, in the command. Requesting these gives 0001 (digest A5). */
static int unmaintained_iod_attribute(uint32_t tag)
{
    static const uint32_t sop_common[] = {
        MCM_TAG(0x0008, 0x0012),                                                    /* Instance Creation Date */
        MCM_TAG(0x0008, 0x0013),                                                    /* Instance Creation Time */
        MCM_TAG(0x0008, 0x0014),                                                    /* Instance Creator UID */
        MCM_TAG(0x0008, 0x0015),                                                    /* Instance Coercion DateTime */
        MCM_TAG_SOP_CLASS_UID,   MCM_TAG_SOP_INSTANCE_UID, MCM_TAG(0x0008, 0x001A), /* Related General SOP Class UID */
        MCM_TAG(0x0008, 0x001B), /* Original Specialized SOP Class UID */
        MCM_TAG(0x0008, 0x0053), /* Query/Retrieve View */
        MCM_TAG(0x0008, 0x0110), /* Coding Scheme Identification Sequence */
        MCM_TAG(0x0008, 0x0123), /* Context Group Identification Sequence */
        MCM_TAG(0x0008, 0x0124), /* Mapping Resource Identification Sequence */
        MCM_TAG(0x0008, 0x0201), /* Timezone Offset From UTC */
        MCM_TAG(0x0008, 0x0300), /* Private Data Element Characteristics Sequence */
        MCM_TAG(0x0018, 0x9004), /* Content Qualification */
        MCM_TAG(0x0018, 0xA001), /* Contributing Equipment Sequence */
        MCM_TAG(0x0020, 0x0013), /* Instance Number */
        MCM_TAG(0x0020, 0x9172), /* Conversion Source Attributes Sequence */
        MCM_TAG(0x0028, 0x0303), /* Longitudinal Temporal Information Modified */
        MCM_TAG(0x0040, 0xA390), /* HL7 Structured Document Reference Sequence */
        MCM_TAG(0x0100, 0x0410), /* SOP Instance Status */
        MCM_TAG(0x0100, 0x0420), /* SOP Authorization DateTime */
        MCM_TAG(0x0100, 0x0424), /* SOP Authorization Comment */
        MCM_TAG(0x0100, 0x0426), /* Authorization Equipment Certification Number */
        MCM_TAG(0x0400, 0x0500), /* Encrypted Attributes Sequence */
        MCM_TAG(0x0400, 0x0561), /* Original Attributes Sequence */
        MCM_TAG(0x4FFE, 0x0001), /* MAC Parameters Sequence (Digital Signatures Macro) */
        MCM_TAG(0xFFFA, 0xFFFA), /* Digital Signatures Sequence (Digital Signatures Macro) */
    };
    for (size_t i = 0; i < sizeof sop_common / sizeof sop_common[0]; i++)
        if (sop_common[i] == tag)
            return 1;
    return 0;
}

int mcm_service_get(mcm_service *service, const char *calling_ae, const char *uid, const uint32_t *tags,
                    size_t tag_count, mcm_job **job, uint32_t **selected, size_t *selected_count, mcm_response *rsp)
{
    if (job != NULL)
        *job = NULL;
    if (selected != NULL)
        *selected = NULL;
    if (selected_count != NULL)
        *selected_count = 0;
    if (service == NULL || rsp == NULL || job == NULL || selected == NULL || selected_count == NULL ||
        (tag_count > 0 && tags == NULL)) {
        if (rsp != NULL)
            mcm_response_set(rsp, MCM_OP_N_GET, MCM_STATUS_PROCESSING_FAILURE, "internal error");
        return mcm_fail(MCM_EINVAL, "mcm_service_get: NULL argument");
    }
    mcm_response_clear(rsp);
    mcm_job *loaded = NULL;
    uint32_t *list = NULL;

    if (uid == NULL || !mcm_uid_is_valid(uid)) {
        mcm_response_set(rsp, MCM_OP_N_GET, MCM_STATUS_INVALID_SOP_INSTANCE,
                         "Requested SOP Instance UID is not a valid UID");
        mcm_response_add_offending(rsp, TAG_REQUESTED_SOP_INSTANCE_UID);
        set_affected_uid(rsp, uid);
        goto done;
    }
    int rc = mcm_store_load_job(service->store, uid, &loaded);
    mcm_job_transition t;
    mcm_job_event event = {.type = MCM_EVENT_GET};
    if (rc != MCM_OK && rc != MCM_ENOTFOUND) {
        store_failure(service, rsp, MCM_OP_N_GET, "N-GET", uid);
        goto done;
    }
    mcm_job_next(loaded != NULL ? mcm_job_state_of(loaded) : MCM_JOB_ABSENT, mcm_job_status_info(loaded), &event, &t);
    if (t.status == MCM_STATUS_NO_SUCH_SOP_INSTANCE) {
        mcm_response_set(rsp, MCM_OP_N_GET, t.status, "no such media creation request");
        mcm_response_add_offending(rsp, TAG_REQUESTED_SOP_INSTANCE_UID);
        set_affected_uid(rsp, uid);
        goto done;
    }
    if (!authorized(service, calling_ae, MCM_SCP_GET, loaded)) {
        refuse_unauthorized(rsp, MCM_OP_N_GET, MCM_SCP_GET, calling_ae);
        goto done;
    }
    /* A job of the SCP carries every attribute it maintains (digest A6). */
    mcm_job_mark_maintained(loaded);

    if (tag_count > 0) {
        /* Digest 3.4 and A5: return what is maintained; name unknown tags (0107) or, failing
         * those, the IOD attributes we do not maintain (0001). Never fail for either. */
        list = malloc(tag_count * sizeof *list);
        if (list == NULL) {
            mcm_response_set(rsp, MCM_OP_N_GET, MCM_STATUS_PROCESSING_FAILURE, "out of memory");
            goto done;
        }
        size_t n = 0, unknown = 0, unmaintained = 0;
        uint32_t unmaintained_tags[MCM_RESPONSE_MAX_TAGS];
        size_t unmaintained_listed = 0;
        for (size_t i = 0; i < tag_count; i++) {
            uint32_t tag = tags[i];
            if (maintained_attribute(tag)) {
                int seen = 0;
                for (size_t j = 0; j < n && !seen; j++)
                    seen = list[j] == tag;
                if (!seen)
                    list[n++] = tag;
            } else if (unmaintained_iod_attribute(tag)) {
                unmaintained++;
                int seen = 0;
                for (size_t j = 0; j < unmaintained_listed && !seen; j++)
                    seen = unmaintained_tags[j] == tag;
                if (!seen && unmaintained_listed < MCM_RESPONSE_MAX_TAGS)
                    unmaintained_tags[unmaintained_listed++] = tag;
            } else {
                unknown++;
                mcm_response_add_attribute_identifier(rsp, tag);
            }
        }
        if (unknown > 0) {
            mcm_response_set(rsp, MCM_OP_N_GET, MCM_STATUS_ATTRIBUTE_LIST_ERROR,
                             "%zu requested attribute(s) not in the MCM IOD", unknown);
        } else if (unmaintained > 0) {
            mcm_response_set(rsp, MCM_OP_N_GET, MCM_STATUS_OPTIONAL_ATTRIBUTES_UNSUPPORTED,
                             "%zu requested optional attribute(s) not maintained", unmaintained);
            for (size_t i = 0; i < unmaintained_listed; i++)
                mcm_response_add_offending(rsp, unmaintained_tags[i]);
        }
        *selected_count = n;
        *selected = list;
        list = NULL;
    }
    set_affected_uid(rsp, uid);
    *job = loaded;
    loaded = NULL;

done:
    free(list);
    mcm_job_free(loaded);
    finish_response(service, rsp);
    return MCM_OK;
}

int mcm_service_job(mcm_service *service, const char *uid, mcm_job **out)
{
    if (out != NULL)
        *out = NULL;
    if (service == NULL || uid == NULL || out == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_service_job: NULL argument");
    int rc = mcm_store_load_job(service->store, uid, out);
    if (rc == MCM_OK)
        mcm_job_mark_maintained(*out);
    return rc;
}

/* ---- retention (digest A15): lib/scp/retention.c ---- */

int mcm_service_housekeeping(mcm_service *service, int64_t at)
{
    if (service == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_service_housekeeping: service is NULL");
    return mcm_retention_run(service->retention, at);
}
