/*
 * examples/mcmscp.c: mcmscp, a media creation device in one command.
 *
 *   mcmscp [options] [port]
 *
 * A Media Creation Management SCP (PS3.4 Annex S) over the library's SCP (scp.h) and its default
 * media writer (media.h): it stores what peers send with C-STORE, keeps media creation requests in
 * a durable SQLite job store, and writes each initiated request as DICOM file-sets in ISO 9660
 * images with labels under --output. It prints one line saying where it listens, logs one line per
 * request to standard error, and stops cleanly on SIGINT or SIGTERM.
 *
 * Uses only the public API (dcmmcm.h); the options follow DCMTK's storescp where they overlap
 * (-aet, -v, -d, --log-level, positional port). Options and exit codes: option_table and
 * MCMSCP_EXIT_CODES below, and mcmscp(1). This file owns the command line and the process
 * (signals, exit codes); it must not reach into the library.
 */
#include "common/options.h"

#include <dcmmcm.h>
#include <dcmmcm/media.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The exit codes, once: the enum below and --help's summary come from this list, and
 * check-tool-options.sh holds mcmscp(1)'s EXIT STATUS to that summary. */
#define MCMSCP_EXIT_CODES(X)                                                                                           \
    X(EXIT_STOPPED, 0, "stopped by SIGINT or SIGTERM") /* (or --help, --version) */                                    \
    X(EXIT_NETWORK, 3, "cannot listen")                /* the port cannot be listened on (in use, not our address) */  \
    X(EXIT_LOCAL, 5, "local error (storage, output, database)") /* or the writer; a fatal error */                     \
    X(EXIT_USAGE, 64, "bad usage")                              /* bad command line or option value */

enum exit_code { MCMSCP_EXIT_CODES(TOOL_EXIT_ENUM) };
static const tool_exit_code exit_codes[] = {MCMSCP_EXIT_CODES(TOOL_EXIT_ROW)};

static const char *program = "mcmscp";

/* ---- what the callbacks share: the SCP's user pointer (mcm_media_writer_new(3)) ---- */

typedef struct app {
    mcm_media_writer *writer;
    const char *output_dir;
    const char *image_command; /* --image-command, or NULL */
    mcm_log_level level;       /* the most verbose level logged */
} app;

/* The log callback of the SCP (its media writer's lines included) and of DCMTK's own messages.
 * One fprintf per line: stdio locks the stream, so lines from several threads do not mix. */
static void log_line(mcm_log_level level, const char *message, void *user)
{
    const app *a = user;
    /* DCMTK's informational messages repeat the SCP's own request lines: only with -d. */
    if (level >= MCM_LOG_INFO && a->level < MCM_LOG_DEBUG && strncmp(message, "dcmtk: ", 7) == 0)
        return;
    fprintf(stderr, "%s: %s: %s\n", program, mcm_log_level_name(level), message);
}

/* mcmscp's own messages, at the same levels as the library's. */
static void app_log(const app *a, mcm_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void app_log(const app *a, mcm_log_level level, const char *fmt, ...)
{
    if (level > a->level)
        return;
    char line[4500];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log_line(level, line, (void *)a);
}

/* The write_media callback: the default media writer, then one line saying where the media are. */
static int write_media(const mcm_job *job, const mcm_instance *instances, size_t count, mcm_media_context *ctx,
                       void *user)
{
    const app *a = user;
    int rc = mcm_media_writer_write(job, instances, count, ctx, a->writer);
    struct stat st;
    char path[4096];
    /* The job's directory appears, complete, only when the writer succeeded (mcm_media_writer_new(3)). */
    if (rc == MCM_OK && snprintf(path, sizeof path, "%s/%s", a->output_dir, mcm_job_uid(job)) < (int)sizeof path &&
        stat(path, &st) == 0)
        app_log(a, MCM_LOG_INFO, "job %s: media in %s", mcm_job_uid(job), path);
    return rc;
}

/* --image-command: sh -c COMMAND with the image's path, the volume and the number of volumes as $1,
 * $2 and $3. Runs on the media worker; a non-zero exit fails the job with MCD_FAILURE. */
static int run_image_command(const char *image_path, unsigned volume, unsigned volumes, void *user)
{
    const app *a = user;
    char volume_text[16], volumes_text[16];
    snprintf(volume_text, sizeof volume_text, "%u", volume);
    snprintf(volumes_text, sizeof volumes_text, "%u", volumes);
    /* Everything the child needs is ready before fork(): after it, in a process with threads, only
     * async-signal-safe calls. */
    char *const argv[] = {"sh",         "-c", (char *)a->image_command, "mcmscp-image", (char *)image_path, volume_text,
                          volumes_text, NULL};
    pid_t pid = fork();
    if (pid < 0) {
        app_log(a, MCM_LOG_ERROR, "--image-command: fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        /* The command gets the signal handling of a fresh process: mcmscp's handlers, DCMTK's
         * ignored SIGPIPE and the worker thread's mask are not the command's business. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        /* No input; its output goes to the log (standard output is mcmscp's one line); none of
         * mcmscp's descriptors (the listening socket, associations, the job store), so that a
         * command that leaves something running cannot keep the port or the database open. */
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0 && null != 0) {
            dup2(null, 0);
            close(null);
        }
        dup2(2, 1);
        closefrom(3);
        execv("/bin/sh", argv);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            app_log(a, MCM_LOG_ERROR, "--image-command: waitpid: %s", strerror(errno));
            return -1;
        }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status))
        app_log(a, MCM_LOG_ERROR, "--image-command exited with %d for %s", WEXITSTATUS(status), image_path);
    else
        app_log(a, MCM_LOG_ERROR, "--image-command killed by signal %d for %s",
                WIFSIGNALED(status) ? WTERMSIG(status) : 0, image_path);
    return -1;
}

/* ---- signals ---- */

static mcm_scp *volatile running_scp;

/* SA_RESETHAND: the first SIGINT or SIGTERM asks for a clean stop; a second one ends the process
 * at once (the job store is crash-safe: a job left CREATING goes back to PENDING on restart). */
static void on_signal(int signo)
{
    (void)signo;
    mcm_scp *scp = running_scp;
    if (scp != NULL)
        mcm_scp_stop(scp); /* async-signal-safe */
}

/* ---- the command line ---- */

/* The options, once: the parser (parse_arguments) and --help are made from this table, and
 * check-tool-options.sh holds mcmscp(1)'s OPTIONS to --help. DCMTK's storescp spellings where
 * they overlap (-aet, -v, -d, --log-level), GNU long options for the rest. */
enum option_id {
    OPT_STORAGE = 1,
    OPT_OUTPUT,
    OPT_DB,
    OPT_AETITLE,
    OPT_ALLOW,
    OPT_BIND,
    OPT_MAX_ASSOCIATIONS,
    OPT_ACSE_TIMEOUT,
    OPT_DIMSE_TIMEOUT,
    OPT_MAX_PDU,
    OPT_PROFILE,
    OPT_STRICT,
    OPT_ANNEX_C,
    OPT_ACCEPT_UNKNOWN_SOP_CLASSES,
    OPT_QUEUE_LIMIT,
    OPT_MAX_COPIES,
    OPT_RETENTION_IDLE,
    OPT_RETENTION_DONE,
    OPT_RETENTION_INSTANCES,
    OPT_WORKERS,
    OPT_CAPACITY,
    OPT_USB_CAPACITY,
    OPT_VIEWER,
    OPT_STAGING,
    OPT_KEEP_STAGING,
    OPT_COPY_FILES,
    OPT_APPLICATION_ID,
    OPT_NO_LABEL_PNG,
    OPT_NO_LABEL_PDF,
    OPT_LABEL_DPI,
    OPT_IMAGE_COMMAND,
    OPT_VERBOSE,
    OPT_DEBUG,
    OPT_QUIET,
    OPT_LOG_LEVEL,
    OPT_HELP,
    OPT_VERSION
};

static const tool_option option_table[] = {
    {0, {NULL, NULL}, NULL, "where things go (all three required):"},
    {OPT_STORAGE, {"--storage", NULL}, "DIR", "received instances (created if missing)"},
    {OPT_OUTPUT, {"--output", NULL}, "DIR", "media: DIR/<request UID>/VOL001.iso, labels, JOB.json"},
    {OPT_DB, {"--db", NULL}, "FILE", "the SQLite job store (created if missing)"},
    {0, {NULL, NULL}, NULL, "network:"},
    {OPT_AETITLE, {"-aet", "--aetitle"}, "TITLE", "our AE title (default MCMSCP)"},
    {OPT_ALLOW,
     {"--allow", NULL},
     "TITLE",
     "accept associations only from this calling AE title\n(repeatable; default: any)"},
    {OPT_BIND, {"--bind", NULL}, "ADDRESS", "IPv4 address to listen on (default: all)"},
    {OPT_MAX_ASSOCIATIONS, {"--max-associations", NULL}, "N", "simultaneous associations (default 16)"},
    {OPT_ACSE_TIMEOUT, {"--acse-timeout", NULL}, "S", "association negotiation timeout (default 30)"},
    {OPT_DIMSE_TIMEOUT, {"--dimse-timeout", NULL}, "S", "abort an association idle this long (default 300)"},
    {OPT_MAX_PDU, {"--max-pdu", NULL}, "BYTES", "maximum receive PDU, 4096 to 131072 (default 65536)"},
    {0, {NULL, NULL}, NULL, "requests:"},
    {OPT_PROFILE,
     {"--profile", NULL},
     "ID",
     "default Requested Media Application Profile (default\nSTD-GEN-CD; e.g. STD-GEN-DVD-JPEG, STD-GEN-USB-JPEG)"},
    {OPT_STRICT,
     {"--strict", NULL},
     NULL,
     "refuse requests with unknown attributes (0105), empty\nvalues (0121), or File-set IDs not fit for a DICOMDIR "
     "(0106)"},
    {OPT_ANNEX_C, {"--annex-c", NULL}, NULL, "send only the status details PS3.7 Annex C lists"},
    {OPT_ACCEPT_UNKNOWN_SOP_CLASSES,
     {"--accept-unknown-sop-classes", NULL},
     NULL,
     "also store private SOP classes DCMTK does not know"},
    {OPT_QUEUE_LIMIT,
     {"--queue-limit", NULL},
     "N",
     "live requests at most; more are refused with 0213 (default 0:\nno limit)"},
    {OPT_MAX_COPIES, {"--max-copies", NULL}, "N", "Number of Copies above N is refused with 0115 (default 99)"},
    {OPT_RETENTION_IDLE, {"--retention-idle", NULL}, "TIME", "keep requests never initiated (default 24h)"},
    {OPT_RETENTION_DONE, {"--retention-done", NULL}, "TIME", "keep DONE and FAILURE results (default 7d)"},
    {OPT_RETENTION_INSTANCES,
     {"--retention-instances", NULL},
     "TIME",
     "keep received instances no live request uses (default 7d)\nTIME: N, Ns, Nm, Nh, Nd, Nw or forever"},
    {0, {NULL, NULL}, NULL, "media:"},
    {OPT_WORKERS, {"--workers", NULL}, "N", "requests written at the same time (default 1)"},
    {OPT_CAPACITY,
     {"--capacity", NULL},
     "SIZE",
     "capacity of every medium, e.g. 650M, 4.7G, 25G (default: the\nprofile's: CD 737,280,000 bytes, DVD 4.7G, BD "
     "25G)"},
    {OPT_USB_CAPACITY,
     {"--usb-capacity", NULL},
     "SIZE",
     "capacity of USB/flash media (default: unlimited)\nSIZE: bytes, or with K, M, G, T (x1000) or Ki, Mi, Gi, Ti "
     "(x1024)"},
    {OPT_VIEWER,
     {"--viewer", NULL},
     "DIR",
     "display application copied to every volume when a request\nasks for one (Include Display Application YES)"},
    {OPT_STAGING, {"--staging", NULL}, "DIR", "where volumes are assembled (default OUTPUT/.staging)"},
    {OPT_KEEP_STAGING, {"--keep-staging", NULL}, NULL, "keep each volume's file-set tree (STAGING/<UID>/VOL001/)"},
    {OPT_COPY_FILES, {"--copy-files", NULL}, NULL, "copies 2..n as files, not hard links"},
    {OPT_APPLICATION_ID, {"--application-id", NULL}, "TEXT", "ISO 9660 Application Identifier (default DCMMCM)"},
    {OPT_NO_LABEL_PNG, {"--no-label-png", NULL}, NULL, "no PNG label"},
    {OPT_NO_LABEL_PDF, {"--no-label-pdf", NULL}, NULL, "no PDF label"},
    {OPT_LABEL_DPI, {"--label-dpi", NULL}, "N", "PNG label resolution, 72 to 1200 (default 300)"},
    {OPT_IMAGE_COMMAND,
     {"--image-command", NULL},
     "COMMAND",
     "run the shell COMMAND for each image written (before it\nis verified): $1 the image, $2 the volume, $3 the "
     "volumes;\nnon-zero fails the request (MCD_FAILURE)"},
    {0, {NULL, NULL}, NULL, "output:"},
    {OPT_VERBOSE, {"-v", "--verbose"}, NULL, "one line per request and job step (the default)"},
    {OPT_DEBUG, {"-d", "--debug"}, NULL, "debug messages, DCMTK's included"},
    {OPT_QUIET, {"-q", "--quiet"}, NULL, "warnings and errors only"},
    {OPT_LOG_LEVEL, {"--log-level", NULL}, "LEVEL", "error, warning, info, debug or trace"},
    {OPT_HELP, {"-h", "--help"}, NULL, "this help"},
    {OPT_VERSION, {"--version", NULL}, NULL, "the version"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [options] [port]\n"
            "\n"
            "A DICOM Media Creation Management SCP (PS3.4 Annex S): stores the instances peers send\n"
            "with C-STORE and writes each media creation request as DICOM file-sets in ISO 9660\n"
            "images with labels. Port 11112 by default; 0 picks a free port. Prints one line\n"
            "\"listening on ADDRESS port PORT as AETITLE\" on standard output, then logs on standard\n"
            "error until SIGINT or SIGTERM.\n"
            "\n",
            program);
    tool_print_options(out, option_table, sizeof option_table / sizeof option_table[0], 30);
    fputc('\n', out);
    tool_print_exit_codes(out, exit_codes, sizeof exit_codes / sizeof exit_codes[0]);
}

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", program);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (try --help)\n");
    return EXIT_USAGE;
}

static int parse_unsigned(const char *text, unsigned long min, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    if (text == NULL || text[0] < '0' || text[0] > '9')
        return 0;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < min || value > max)
        return 0;
    *out = value;
    return 1;
}

/* SIZE: a number of bytes, possibly with a fraction, and a unit: K, M, G, T (powers of 1000, as
 * disc capacities are sold: 4.7G is 4,700,000,000) or Ki, Mi, Gi, Ti (powers of 1024), with an
 * optional B. "650M" is 650,000,000 bytes. */
static int parse_size(const char *text, uint64_t *out)
{
    char *end = NULL;
    if (text == NULL || !((text[0] >= '0' && text[0] <= '9') || text[0] == '.'))
        return 0;
    errno = 0;
    double value = strtod(text, &end);
    if (errno != 0 || end == text || !(value >= 0))
        return 0;
    double unit = 1;
    const char *p = end;
    static const char units[] = "KMGT";
    const char *u = *p != '\0' ? strchr(units, *p == 'k' ? 'K' : *p) : NULL;
    if (u != NULL) {
        int power = (int)(u - units) + 1;
        p++;
        double base = 1000;
        if (*p == 'i') {
            base = 1024;
            p++;
        }
        for (int k = 0; k < power; k++)
            unit *= base;
    }
    if (*p == 'B')
        p++;
    if (*p != '\0')
        return 0;
    double bytes = value * unit;
    if (bytes < 1 || bytes > 1e18)
        return 0;
    *out = (uint64_t)(bytes + 0.5);
    return 1;
}

/* TIME: seconds, or N with s, m, h, d or w; "forever" is MCM_RETAIN_FOREVER. */
static int parse_duration(const char *text, int64_t *out)
{
    if (text != NULL && strcmp(text, "forever") == 0) {
        *out = MCM_RETAIN_FOREVER;
        return 1;
    }
    char *end = NULL;
    if (text == NULL || text[0] < '0' || text[0] > '9')
        return 0;
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0 || end == text)
        return 0;
    unsigned long long scale = 1;
    switch (*end) {
    case '\0': break;
    case 's': scale = 1; break;
    case 'm': scale = 60; break;
    case 'h': scale = 3600; break;
    case 'd': scale = 86400; break;
    case 'w': scale = 7 * 86400; break;
    default: return 0;
    }
    if (*end != '\0' && end[1] != '\0')
        return 0;
    if (value > 100ULL * 365 * 86400 / scale) /* a century: a typo, not a policy */
        return 0;
    *out = (int64_t)(value * scale);
    return 1;
}

static int parse_level(const char *text, mcm_log_level *out)
{
    for (int k = MCM_LOG_ERROR; k <= MCM_LOG_TRACE; k++)
        if (strcmp(text, mcm_log_level_name((mcm_log_level)k)) == 0) {
            *out = (mcm_log_level)k;
            return 1;
        }
    return 0;
}

typedef struct settings {
    mcm_scp_options scp;
    mcm_media_options media;
    const char *output_dir;
    const char *image_command;
    const char **allowed;
    size_t allowed_count;
    mcm_log_level level;
} settings;

/* The options and the port in the order given (the last of a repeated option wins; --allow adds
 * up). Returns -1 to go on, or an exit code (0 after --help or --version). */
static int parse_options(tool_parser *parser, settings *s)
{
    unsigned long port = 11112, n;
    int have_port = 0, id;
    while ((id = tool_parse_next(parser)) != TOOL_PARSE_END) {
        const char *value = parser->value;
        const char *name = parser->name;
        switch (id) {
        case TOOL_PARSE_POSITIONAL:
            if (have_port)
                return usage_error("unexpected argument \"%s\"", value);
            if (!parse_unsigned(value, 0, 65535, &port))
                return usage_error("the port must be a number from 0 to 65535, not \"%s\"", value);
            have_port = 1;
            break;
        case TOOL_PARSE_MISSING_VALUE: return usage_error("%s needs a value", name);
        case TOOL_PARSE_UNEXPECTED_VALUE: return usage_error("%s takes no value", name);
        case TOOL_PARSE_UNKNOWN: return usage_error("unknown option %s", name);
        case OPT_HELP: usage(stdout); return EXIT_STOPPED;
        case OPT_VERSION:
            printf("%s %s (dcmmcm %s)\n", program, MCM_VERSION_STRING, mcm_version());
            return EXIT_STOPPED;
        case OPT_VERBOSE: s->level = MCM_LOG_INFO; break;
        case OPT_DEBUG: s->level = MCM_LOG_DEBUG; break;
        case OPT_QUIET: s->level = MCM_LOG_WARNING; break;
        case OPT_LOG_LEVEL:
            if (!parse_level(value, &s->level))
                return usage_error("--log-level takes error, warning, info, debug or trace, not \"%s\"", value);
            break;
        case OPT_AETITLE: s->scp.ae_title = value; break;
        case OPT_ALLOW: s->allowed[s->allowed_count++] = value; break;
        case OPT_BIND: s->scp.bind_address = value; break;
        case OPT_MAX_ASSOCIATIONS:
            if (!parse_unsigned(value, 1, 1000, &n))
                return usage_error("--max-associations takes 1 to 1000, not \"%s\"", value);
            s->scp.max_associations = (unsigned)n;
            break;
        case OPT_ACSE_TIMEOUT:
        case OPT_DIMSE_TIMEOUT:
            if (!parse_unsigned(value, 1, 86400, &n))
                return usage_error("%s takes seconds, 1 to 86400, not \"%s\"", name, value);
            *(id == OPT_ACSE_TIMEOUT ? &s->scp.acse_timeout_seconds : &s->scp.dimse_timeout_seconds) = (int)n;
            break;
        case OPT_MAX_PDU:
            if (!parse_unsigned(value, 4096, 131072, &n))
                return usage_error("--max-pdu takes 4096 to 131072, not \"%s\"", value);
            s->scp.max_pdu = (uint32_t)n;
            break;
        case OPT_STORAGE: s->scp.storage_dir = value; break;
        case OPT_OUTPUT: s->output_dir = value; break;
        case OPT_DB: s->scp.database_path = value; break;
        case OPT_PROFILE:
            if (!mcm_media_profile_supported(value))
                return usage_error("--profile: %s is not a profile this writer supports (see mcmscp(1))", value);
            s->scp.default_profile = value;
            s->media.default_profile = value;
            break;
        case OPT_STRICT: s->scp.strict |= MCM_VALIDATE_STRICT; break;
        case OPT_ANNEX_C: s->scp.annex_c_details = 1; break;
        case OPT_ACCEPT_UNKNOWN_SOP_CLASSES: s->scp.accept_unknown_storage = 1; break;
        case OPT_QUEUE_LIMIT:
            if (!parse_unsigned(value, 0, 1000000, &n))
                return usage_error("--queue-limit takes 0 to 1000000, not \"%s\"", value);
            s->scp.queue_limit = (unsigned)n;
            break;
        case OPT_MAX_COPIES:
            if (!parse_unsigned(value, 1, MCM_MAX_COPIES, &n))
                return usage_error("--max-copies takes 1 to %d, not \"%s\"", MCM_MAX_COPIES, value);
            s->scp.max_copies = (unsigned)n;
            break;
        case OPT_RETENTION_IDLE:
        case OPT_RETENTION_DONE:
        case OPT_RETENTION_INSTANCES: {
            int64_t seconds;
            if (!parse_duration(value, &seconds))
                return usage_error("%s takes a time such as 3600, 90m, 24h, 7d, 2w or forever, not \"%s\"", name,
                                   value);
            *(id == OPT_RETENTION_IDLE   ? &s->scp.retention_idle_seconds
              : id == OPT_RETENTION_DONE ? &s->scp.retention_done_seconds
                                         : &s->scp.retention_instance_seconds) = seconds;
            break;
        }
        case OPT_WORKERS:
            if (!parse_unsigned(value, 1, 64, &n))
                return usage_error("--workers takes 1 to 64, not \"%s\"", value);
            s->scp.media_workers = (unsigned)n;
            break;
        case OPT_CAPACITY:
        case OPT_USB_CAPACITY: {
            uint64_t bytes;
            if (!parse_size(value, &bytes))
                return usage_error("%s takes a size such as 650M, 4.7G or 700Mi, not \"%s\"", name, value);
            *(id == OPT_CAPACITY ? &s->media.capacity_bytes : &s->media.usb_capacity_bytes) = bytes;
            break;
        }
        case OPT_VIEWER: s->media.viewer_dir = value; break;
        case OPT_STAGING: s->media.staging_dir = value; break;
        case OPT_KEEP_STAGING: s->media.keep_staging = 1; break;
        case OPT_COPY_FILES: s->media.copy_mode = MCM_MEDIA_COPY_FILE; break;
        case OPT_APPLICATION_ID: s->media.application_id = value; break;
        case OPT_NO_LABEL_PNG: s->media.label_png = 0; break;
        case OPT_NO_LABEL_PDF: s->media.label_pdf = 0; break;
        case OPT_LABEL_DPI:
            if (!parse_unsigned(value, 72, 1200, &n))
                return usage_error("--label-dpi takes 72 to 1200, not \"%s\"", value);
            s->media.label_dpi = (unsigned)n;
            break;
        case OPT_IMAGE_COMMAND: s->image_command = value; break;
        default: return usage_error("unknown option %s", name); /* a row without a case: a bug here */
        }
    }
    if (s->scp.storage_dir == NULL || s->output_dir == NULL || s->scp.database_path == NULL)
        return usage_error("--storage, --output and --db are required");
    s->scp.port = (uint16_t)port;
    s->scp.allowed_calling_ae_titles = s->allowed;
    s->scp.allowed_calling_ae_title_count = s->allowed_count;
    s->media.output_dir = s->output_dir;
    return -1;
}

/* Parse argv (option_table) into s. Returns -1 to go on, or an exit code (0 after --help or
 * --version). */
static int parse_arguments(int argc, char **argv, settings *s)
{
    tool_parser parser;
    s->allowed = calloc((size_t)argc, sizeof *s->allowed);
    if (s->allowed == NULL ||
        tool_parser_init(&parser, option_table, sizeof option_table / sizeof option_table[0], argc, argv) != 0) {
        fprintf(stderr, "%s: out of memory\n", program);
        return EXIT_LOCAL;
    }
    int code = parse_options(&parser, s);
    tool_parser_free(&parser);
    return code;
}

/* The exit code for a library error while starting or running. */
static int exit_code_of(int rc)
{
    switch (rc) {
    case MCM_EINVAL: return EXIT_USAGE;
    case MCM_ENET:
    case MCM_EBUSY: return EXIT_NETWORK; /* the port is in use */
    default: return EXIT_LOCAL;
    }
}

int main(int argc, char **argv)
{
    settings s;
    memset(&s, 0, sizeof s);
    mcm_scp_options_init(&s.scp, MCM_SCP_OPTIONS_VERSION);
    mcm_media_options_init(&s.media, MCM_MEDIA_OPTIONS_VERSION);
    s.level = MCM_LOG_INFO;
    int code = parse_arguments(argc, argv, &s);
    if (code >= 0) {
        free(s.allowed);
        return code;
    }

    app a;
    memset(&a, 0, sizeof a);
    a.output_dir = s.output_dir;
    a.image_command = s.image_command;
    a.level = s.level;
    /* Before anything runs: DCMTK's own messages (its logger is process-wide); the SCP's and the
     * media writer's come through s.scp.log. */
    mcm_log_set_handler(log_line, &a, s.level);

    if (s.image_command != NULL) {
        s.media.image_written = run_image_command;
        s.media.image_written_user = &a;
    }
    int rc = mcm_media_writer_new(&a.writer, &s.media);
    if (rc != MCM_OK) {
        fprintf(stderr, "%s: media writer: %s\n", program, mcm_last_error());
        free(s.allowed);
        return exit_code_of(rc);
    }
    /* One user pointer for every callback: the writer is reached through the app. */
    s.scp.write_media = write_media;
    s.scp.log = log_line;
    s.scp.log_level = s.level;
    s.scp.user = &a;

    mcm_scp *scp = NULL;
    rc = mcm_scp_new(&scp, &s.scp);
    if (rc != MCM_OK) {
        fprintf(stderr, "%s: %s\n", program, mcm_last_error());
        mcm_media_writer_free(a.writer);
        free(s.allowed);
        return exit_code_of(rc);
    }
    running_scp = scp;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);

    /* The line scripts wait for: the real port, also when 0 asked for a free one. */
    printf("%s: listening on %s port %u as %s\n", program, s.scp.bind_address ? s.scp.bind_address : "0.0.0.0",
           (unsigned)mcm_scp_port(scp), s.scp.ae_title);
    fflush(stdout);
    app_log(&a, MCM_LOG_INFO, "storage %s, output %s, database %s, default profile %s, %u media worker%s",
            s.scp.storage_dir, s.output_dir, s.scp.database_path, s.scp.default_profile, s.scp.media_workers,
            s.scp.media_workers == 1 ? "" : "s");

    rc = mcm_scp_run(scp);
    /* A late signal must not reach an SCP being freed. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    running_scp = NULL;
    if (rc != MCM_OK)
        app_log(&a, MCM_LOG_ERROR, "%s: %s", mcm_strerror(rc), mcm_last_error());
    else
        app_log(&a, MCM_LOG_INFO, "stopped");
    mcm_scp_free(scp);
    mcm_media_writer_free(a.writer);
    mcm_log_set_handler(NULL, NULL, MCM_LOG_ERROR);
    free(s.allowed);
    return rc == MCM_OK ? EXIT_STOPPED : exit_code_of(rc);
}
