/*
 * lib/scp/service.c: the service object's life: the options checked and copied, the storage
 * directory created, the job store opened and locked for this SCP alone, CREATING jobs recovered,
 * and the parts below the service (the media workers, lib/scp/worker.c; retention and its
 * housekeeping thread, lib/scp/retention.c) made, started and stopped; the accessors lib/dcmtk
 * reads the configuration through. What the SCP answers to each request is in the files
 * service_internal.h lists (admission.c, instances.c, create.c, action.c, get.c).
 *
 * Owns struct mcm_service (service_internal.h): a private copy of the options, the job store
 * handle, the workers, retention and the lock that serialises file renames with instance
 * retention. May call instances.c (stale temporaries at open), reply.c (its log lines), the
 * workers, retention, the job store and lib/core; never a request handler, and nothing below calls
 * it. Never parses DICOM and never includes DCMTK.
 */
#include "scp/service_internal.h"

#include "core/error.h"
#include "core/vr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The longest storage directory path we accept: room for "/<64-character UID>.dcm". */
#define STORAGE_DIR_MAX (PATH_MAX - 80)

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
    if (o->max_pdu != 0 && (o->max_pdu < 4096 || o->max_pdu > 131072)) /* 0: the default (lib/dcmtk/scp_negotiate.cc) */
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
    mcm_service_remove_stale_temporaries(service);
    /* The parts below the service get what they use, the log channel included: they never call
     * back up into it (service_internal.h). */
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

int mcm_service_housekeeping(mcm_service *service, int64_t at)
{
    if (service == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_service_housekeeping: service is NULL");
    return mcm_retention_run(service->retention, at);
}
