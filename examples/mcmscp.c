/*
 * examples/mcmscp.c: mcmscp, a Media Creation Management SCP on the command line (first version).
 *
 * Listens for Verification, Storage and Media Creation Management until SIGINT or SIGTERM, logs
 * one line per request to stderr, keeps its jobs in an SQLite database, and "writes media" by
 * copying the instances of each job into OUTPUT/<job UID>/ (each file and the directory fsync'd),
 * reporting one volume. A real disc publisher plugs its own write_media callback in instead.
 * Uses only the public API (dcmmcm.h); the options follow DCMTK's storescp where they overlap.
 */
#include <dcmmcm.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static mcm_scp *volatile running_scp;

static void on_signal(int signo)
{
    (void)signo;
    mcm_scp *scp = running_scp;
    if (scp != NULL)
        mcm_scp_stop(scp); /* async-signal-safe */
}

static void log_line(mcm_log_level level, const char *message, void *user)
{
    (void)user;
    fprintf(stderr, "mcmscp: %s: %s\n", mcm_log_level_name(level), message);
}

static void usage(FILE *out)
{
    fprintf(out, "usage: mcmscp [options] [port]\n"
                 "\n"
                 "A DICOM Media Creation Management SCP (PS3.4 Annex S) that stores received instances and\n"
                 "writes each completed media creation request as a directory of copied files.\n"
                 "\n"
                 "  -h, --help                 show this help and exit\n"
                 "      --version              show the version and exit\n"
                 "  -v, --verbose              log one line per request (the default)\n"
                 "  -d, --debug                log associations and DCMTK debug messages too\n"
                 "  -q, --quiet                log warnings and errors only\n"
                 "  -aet, --aetitle TITLE      our AE title (default MCMSCP)\n"
                 "      --storage DIR          directory for received instances (required)\n"
                 "      --output DIR           directory for written media (required)\n"
                 "      --db FILE              SQLite job database (required)\n"
                 "      --bind ADDRESS         IPv4 address to listen on (default: all)\n"
                 "      --max-associations N   simultaneous associations (default 16)\n"
                 "      --annex-c              only the status detail fields PS3.7 Annex C lists\n"
                 "  port                       TCP port (default 11112; 0 picks a free port)\n");
}

static int parse_unsigned(const char *text, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value > max || text[0] == '-')
        return -1;
    *out = value;
    return 0;
}

/* mkdir -p for one level below an existing parent. */
static int make_directory(const char *path)
{
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return 0;
    return -1;
}

static int fsync_path(const char *path, int flags)
{
    int fd = open(path, flags | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

static int copy_file(const char *from, const char *to, char *error, size_t error_size)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    if (in < 0) {
        snprintf(error, error_size, "open %s: %s", from, strerror(errno));
        return -1;
    }
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        snprintf(error, error_size, "create %s: %s", to, strerror(errno));
        close(in);
        return -1;
    }
    char buffer[65536];
    int rc = 0;
    for (;;) {
        ssize_t n = read(in, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(error, error_size, "read %s: %s", from, strerror(errno));
            rc = -1;
            break;
        }
        if (n == 0)
            break;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buffer + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                snprintf(error, error_size, "write %s: %s", to, strerror(errno));
                rc = -1;
                break;
            }
            done += w;
        }
        if (rc != 0)
            break;
    }
    if (rc == 0 && fsync(out) != 0) {
        snprintf(error, error_size, "fsync %s: %s", to, strerror(errno));
        rc = -1;
    }
    if (close(out) != 0 && rc == 0) {
        snprintf(error, error_size, "close %s: %s", to, strerror(errno));
        rc = -1;
    }
    close(in);
    return rc;
}

struct writer {
    const char *output_dir;
};

/* The media writer: OUTPUT/<job UID>/<SOP Instance UID>.dcm for every instance, then one volume
 * with the request's File-set ID and UID (made DICOMDIR-safe, digest A8) or generated ones. */
static int write_media(const mcm_job *job, const mcm_instance *instances, size_t count, mcm_media_context *ctx,
                       void *user)
{
    const struct writer *w = user;
    const char *uid = mcm_job_uid(job);
    char dir[PATH_MAX], path[PATH_MAX], error[PATH_MAX + 128];
    if (snprintf(dir, sizeof dir, "%s/%s", w->output_dir, uid) >= (int)sizeof dir) {
        mcm_media_fail(ctx, "PROC_FAILURE", "output path too long");
        return -1;
    }
    if (make_directory(dir) != 0) {
        snprintf(error, sizeof error, "mkdir %s: %s", dir, strerror(errno));
        mcm_media_fail(ctx, "MCD_FAILURE", error);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        /* Cancelled, or the SCP is stopping: give up; a stopped job goes back to PENDING. */
        if (mcm_media_should_stop(ctx))
            return -1;
        mcm_media_progress(ctx, 1, 1);
        if (snprintf(path, sizeof path, "%s/%s.dcm", dir, instances[i].sop_instance_uid) >= (int)sizeof path) {
            mcm_media_fail(ctx, "PROC_FAILURE", "output path too long");
            return -1;
        }
        if (copy_file(instances[i].path, path, error, sizeof error) != 0) {
            mcm_media_fail_instance(ctx, i, MCM_FAILURE_PROCESSING, NULL, 0);
            mcm_media_fail(ctx, "PROC_FAILURE", error);
            return -1;
        }
    }
    if (fsync_path(dir, O_RDONLY | O_DIRECTORY) != 0 || fsync_path(w->output_dir, O_RDONLY | O_DIRECTORY) != 0) {
        snprintf(error, sizeof error, "fsync %s: %s", dir, strerror(errno));
        mcm_media_fail(ctx, "MCD_FAILURE", error);
        return -1;
    }

    const mcm_request *request = mcm_job_request(job);
    const char *requested_id = mcm_request_attribute(request, MCM_TAG_STORAGE_MEDIA_FILESET_ID);
    const char *requested_uid = mcm_request_attribute(request, MCM_TAG_STORAGE_MEDIA_FILESET_UID);
    char fileset_id[17], fileset_uid[MCM_UID_MAX + 1];
    if (requested_id != NULL && requested_id[0] != '\0') {
        mcm_fileset_id_sanitize(requested_id, fileset_id);
    } else {
        /* Generated: MCM and the last 13 digits of the job UID (CS: A-Z 0-9 _, 16 at most). */
        size_t length = strlen(uid), j = 0;
        char digits[14];
        for (size_t i = length; i > 0 && j < 13; i--)
            if (uid[i - 1] >= '0' && uid[i - 1] <= '9')
                digits[j++] = uid[i - 1];
        digits[j] = '\0';
        snprintf(fileset_id, sizeof fileset_id, "MCM%s", digits);
    }
    if (requested_uid != NULL && mcm_uid_is_valid(requested_uid)) {
        snprintf(fileset_uid, sizeof fileset_uid, "%s", requested_uid);
    } else if (mcm_uid_generate(fileset_uid) != MCM_OK) {
        mcm_media_fail(ctx, "PROC_FAILURE", "cannot generate a File-set UID");
        return -1;
    }
    int copies = mcm_request_copies(request);
    if (copies < 1)
        copies = 1;
    if (mcm_media_add_volume(ctx, fileset_id, fileset_uid) != MCM_OK ||
        mcm_media_set_pieces(ctx, (unsigned)copies) != MCM_OK) {
        mcm_media_fail(ctx, "PROC_FAILURE", mcm_last_error());
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    mcm_scp_options opts;
    mcm_scp_options_init(&opts);
    const char *output_dir = NULL;
    mcm_log_level level = MCM_LOG_INFO;
    unsigned long port = 11112;
    int have_port = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDS_VALUE()                                                                                                  \
    do {                                                                                                               \
        if (value == NULL) {                                                                                           \
            fprintf(stderr, "mcmscp: %s needs a value\n", a);                                                          \
            return 2;                                                                                                  \
        }                                                                                                              \
        i++;                                                                                                           \
    } while (0)
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("mcmscp (dcmmcm) %s\n", mcm_version());
            return 0;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            level = MCM_LOG_INFO;
        } else if (strcmp(a, "-d") == 0 || strcmp(a, "--debug") == 0) {
            level = MCM_LOG_DEBUG;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            level = MCM_LOG_WARNING;
        } else if (strcmp(a, "-aet") == 0 || strcmp(a, "--aetitle") == 0) {
            NEEDS_VALUE();
            opts.ae_title = value;
        } else if (strcmp(a, "--storage") == 0) {
            NEEDS_VALUE();
            opts.storage_dir = value;
        } else if (strcmp(a, "--output") == 0) {
            NEEDS_VALUE();
            output_dir = value;
        } else if (strcmp(a, "--db") == 0) {
            NEEDS_VALUE();
            opts.database_path = value;
        } else if (strcmp(a, "--bind") == 0) {
            NEEDS_VALUE();
            opts.bind_address = value;
        } else if (strcmp(a, "--max-associations") == 0) {
            unsigned long n;
            NEEDS_VALUE();
            if (parse_unsigned(value, 1000, &n) != 0 || n == 0) {
                fprintf(stderr, "mcmscp: invalid --max-associations %s\n", value);
                return 2;
            }
            opts.max_associations = (unsigned)n;
        } else if (strcmp(a, "--annex-c") == 0) {
            opts.annex_c_details = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "mcmscp: unknown option %s (see --help)\n", a);
            return 2;
        } else if (!have_port) {
            if (parse_unsigned(a, 65535, &port) != 0) {
                fprintf(stderr, "mcmscp: invalid port %s\n", a);
                return 2;
            }
            have_port = 1;
        } else {
            fprintf(stderr, "mcmscp: unexpected argument %s\n", a);
            return 2;
        }
#undef NEEDS_VALUE
    }
    if (opts.storage_dir == NULL || output_dir == NULL || opts.database_path == NULL) {
        fprintf(stderr, "mcmscp: --storage, --output and --db are required (see --help)\n");
        return 2;
    }
    if (make_directory(output_dir) != 0) {
        fprintf(stderr, "mcmscp: cannot create %s: %s\n", output_dir, strerror(errno));
        return 1;
    }

    struct writer writer = {output_dir};
    opts.port = (uint16_t)port;
    opts.write_media = write_media;
    opts.user = &writer;
    opts.log = log_line;
    opts.log_level = level;
    /* DCMTK's own messages: warnings and errors, everything with -d. */
    mcm_log_set_handler(log_line, NULL, level >= MCM_LOG_DEBUG ? MCM_LOG_DEBUG : MCM_LOG_WARNING);

    mcm_scp *scp = NULL;
    int rc = mcm_scp_new(&scp, &opts);
    if (rc != MCM_OK) {
        fprintf(stderr, "mcmscp: %s: %s\n", mcm_strerror(rc), mcm_last_error());
        return 1;
    }
    running_scp = scp;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);

    fprintf(stderr, "mcmscp: %s listening on port %u\n", opts.ae_title, (unsigned)mcm_scp_port(scp));
    rc = mcm_scp_run(scp);
    /* A late signal must not reach an SCP being freed. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    running_scp = NULL;
    if (rc != MCM_OK)
        fprintf(stderr, "mcmscp: %s: %s\n", mcm_strerror(rc), mcm_last_error());
    else
        fprintf(stderr, "mcmscp: stopped\n");
    mcm_scp_free(scp);
    return rc == MCM_OK ? 0 : 1;
}
