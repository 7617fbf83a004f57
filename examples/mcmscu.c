/*
 * examples/mcmscu.c: make patient media from DICOM files in one command.
 *
 *   mcmscu [options] peer port file-or-directory...
 *
 * Sends the files with C-STORE (directories recursively; non-DICOM files skipped with a note),
 * creates a media creation request (N-CREATE) referencing them, initiates it (N-ACTION), and polls
 * it (N-GET) until DONE or FAILURE, showing progress. Also --get UID and --cancel UID for an existing
 * request. Uses only the public dcmmcm API. Options and exit codes: option_table and
 * MCMSCU_EXIT_CODES below, and mcmscu(1).
 */
#include "common/options.h"

#include <dcmmcm.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The exit codes, once: the enum below and --help's summary come from this list, and
 * check-tool-options.sh holds mcmscu(1)'s EXIT STATUS to that summary. */
#define MCMSCU_EXIT_CODES(X)                                                                                           \
    X(EXIT_DONE, 0, "done")                  /* DONE (or accepted, with --no-wait; --get/--cancel worked) */           \
    X(EXIT_JOB_FAILED, 1, "job failed")      /* the request ended in FAILURE */                                        \
    X(EXIT_REFUSED, 2, "refused by the SCP") /* the SCP answered a request with a failure status */                    \
    X(EXIT_NETWORK, 3, "network error")      /* network or association error */                                        \
    X(EXIT_TIMEOUT, 4, "timeout")            /* --timeout expired before DONE or FAILURE */                            \
    X(EXIT_LOCAL, 5, "local error")          /* a local problem: no DICOM files, unreadable files, out of memory */    \
    X(EXIT_USAGE, 64, "bad usage")           /* bad command line */

enum exit_code { MCMSCU_EXIT_CODES(TOOL_EXIT_ENUM) };
static const tool_exit_code exit_codes[] = {MCMSCU_EXIT_CODES(TOOL_EXIT_ROW)};

typedef struct options {
    const char *peer;
    unsigned port;
    const char *calling_ae, *called_ae;
    const char *label_text, *label_info, *profile, *fileset_id, *split, *viewer, *lossy;
    const char *barcode, *symbology, *disposition, *non_dicom, *preserve;
    int copies;
    mcm_priority priority;
    int no_store, no_wait, json;
    const char *cancel_uid, *get_uid;
    unsigned timeout_s;
    int acse_timeout, dimse_timeout;
    unsigned max_pdu;
    mcm_log_level log_level;
    int verbose;
    char **positional; /* argv's positional arguments (freed by main) */
    char **paths;
    int path_count;
} options;

typedef struct file_list {
    char **paths;
    mcm_file_info *info;
    size_t count, capacity;
    size_t skipped;
} file_list;

static const char *program = "mcmscu";

/* The options, once: the parser (parse_arguments) and --help are made from this table, and
 * check-tool-options.sh holds mcmscu(1)'s OPTIONS to --help. DCMTK's spellings for what storescu
 * also has (-aet, -aec, -v, -d, --log-level), GNU long options for the rest. */
enum option_id {
    OPT_CALLING_AE = 1,
    OPT_CALLED_AE,
    OPT_ACSE_TIMEOUT,
    OPT_DIMSE_TIMEOUT,
    OPT_MAX_PDU,
    OPT_LABEL,
    OPT_LABEL_INFO,
    OPT_COPIES,
    OPT_PRIORITY,
    OPT_PROFILE,
    OPT_FILESET_ID,
    OPT_SPLIT,
    OPT_NO_SPLIT,
    OPT_VIEWER,
    OPT_NO_VIEWER,
    OPT_LOSSY,
    OPT_NO_LOSSY,
    OPT_NON_DICOM,
    OPT_PRESERVE,
    OPT_BARCODE,
    OPT_BARCODE_SYMBOLOGY,
    OPT_DISPOSITION,
    OPT_NO_STORE,
    OPT_NO_WAIT,
    OPT_GET,
    OPT_CANCEL,
    OPT_TIMEOUT,
    OPT_JSON,
    OPT_VERBOSE,
    OPT_DEBUG,
    OPT_LOG_LEVEL,
    OPT_HELP,
    OPT_VERSION
};

static const tool_option option_table[] = {
    {0, {NULL, NULL}, NULL, "network:"},
    {OPT_CALLING_AE, {"-aet", NULL}, "TITLE", "calling AE title (default MCMSCU)"},
    {OPT_CALLED_AE, {"-aec", NULL}, "TITLE", "called AE title (default MCMSCP)"},
    {OPT_ACSE_TIMEOUT, {"--acse-timeout", NULL}, "S", "association timeout in seconds (default 30)"},
    {OPT_DIMSE_TIMEOUT, {"--dimse-timeout", NULL}, "S", "DIMSE reply timeout in seconds (default 60)"},
    {OPT_MAX_PDU, {"--max-pdu", NULL}, "BYTES", "maximum receive PDU (default 65536)"},
    {0, {NULL, NULL}, NULL, "request:"},
    {OPT_LABEL, {"--label", NULL}, "TEXT", "Label Text (2200,0002)"},
    {OPT_LABEL_INFO, {"--label-info", NULL}, "YES|NO", "Label Using Information Extracted From Instances (2200,0001)"},
    {OPT_COPIES, {"--copies", NULL}, "N", "Number of Copies (2000,0010), sent with Initiate"},
    {OPT_PRIORITY, {"--priority", NULL}, "HIGH|MED|LOW", "Request Priority (2200,0020), sent with Initiate"},
    {OPT_PROFILE, {"--profile", NULL}, "ID", "Requested Media Application Profile of every item (e.g. STD-GEN-CD)"},
    {OPT_FILESET_ID, {"--fileset-id", NULL}, "ID", "Storage Media File-set ID (0088,0130)"},
    {OPT_SPLIT, {"--split", NULL}, NULL, "Allow Media Splitting YES (2200,0007)"},
    {OPT_NO_SPLIT, {"--no-split", NULL}, NULL, "Allow Media Splitting NO"},
    {OPT_VIEWER, {"--viewer", NULL}, NULL, "Include Display Application YES (2200,0009)"},
    {OPT_NO_VIEWER, {"--no-viewer", NULL}, NULL, "Include Display Application NO"},
    {OPT_LOSSY, {"--lossy", NULL}, NULL, "Allow Lossy Compression YES (2200,000F)"},
    {OPT_NO_LOSSY, {"--no-lossy", NULL}, NULL, "Allow Lossy Compression NO"},
    {OPT_NON_DICOM, {"--non-dicom", NULL}, "TERM", "Include Non-DICOM Objects (2200,0008): NO, FOR_PHYSICIAN, ..."},
    {OPT_PRESERVE, {"--preserve", NULL}, "YES|NO", "Preserve Composite Instances After Media Creation (2200,000A)"},
    {OPT_BARCODE, {"--barcode", NULL}, "VALUE", "Barcode Value (2200,0005)"},
    {OPT_BARCODE_SYMBOLOGY,
     {"--barcode-symbology", NULL},
     "T",
     "Barcode Symbology (2200,0006): CODE128, CODE39, INTER_2_5, HIBC"},
    {OPT_DISPOSITION, {"--disposition", NULL}, "TEXT", "Media Disposition (2200,0004)"},
    {0, {NULL, NULL}, NULL, "workflow:"},
    {OPT_NO_STORE, {"--no-store", NULL}, NULL, "do not send the files (the SCP has them); only reference them"},
    {OPT_NO_WAIT, {"--no-wait", NULL}, NULL, "stop after Initiate and print the request's UID"},
    {OPT_GET, {"--get", NULL}, "UID", "print the state of an existing request"},
    {OPT_CANCEL, {"--cancel", NULL}, "UID", "cancel an existing request"},
    {OPT_TIMEOUT, {"--timeout", NULL}, "S", "give up waiting after S seconds (default 0: wait for ever)"},
    {0, {NULL, NULL}, NULL, "output:"},
    {OPT_JSON, {"--json", NULL}, NULL, "print the result as one JSON object on standard output"},
    {OPT_VERBOSE, {"-v", "--verbose"}, NULL, "more messages"},
    {OPT_DEBUG, {"-d", "--debug"}, NULL, "debug messages"},
    {OPT_LOG_LEVEL, {"--log-level", NULL}, "LEVEL", "error, warning, info, debug or trace"},
    {OPT_HELP, {"-h", "--help"}, NULL, "this help"},
    {OPT_VERSION, {"--version", NULL}, NULL, "the version"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: %s [options] peer port file-or-directory...\n"
            "       %s [options] --get UID peer port\n"
            "       %s [options] --cancel UID peer port\n"
            "\n"
            "Send DICOM files to a Media Creation Management SCP and make media from them:\n"
            "C-STORE the files, N-CREATE a request, N-ACTION Initiate it, N-GET until DONE or FAILURE.\n"
            "\n",
            program, program, program);
    tool_print_options(out, option_table, sizeof option_table / sizeof option_table[0], 27);
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

static void note(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", program);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static int parse_unsigned(const char *text, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    if (text == NULL || text[0] == '\0' || text[0] == '-')
        return 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return 0;
    *out = (unsigned)v;
    return 1;
}

static int yes_no(const char *value)
{
    return value != NULL && (strcmp(value, "YES") == 0 || strcmp(value, "NO") == 0);
}

/* The options in the order given (the last of a repeated one wins), then the positional
 * arguments. Returns -1 to go on, or an exit code. */
static int parse_options(tool_parser *parser, options *o, char **positional)
{
    int npos = 0, id;
    while ((id = tool_parse_next(parser)) != TOOL_PARSE_END) {
        const char *v = parser->value;
        const char *name = parser->name;
        unsigned n;
        switch (id) {
        case TOOL_PARSE_POSITIONAL: positional[npos++] = (char *)v; break;
        case TOOL_PARSE_MISSING_VALUE: return usage_error("option %s needs a value", name);
        case TOOL_PARSE_UNEXPECTED_VALUE: return usage_error("option %s takes no value", name);
        case TOOL_PARSE_UNKNOWN: return usage_error("unknown option %s", name);
        case OPT_HELP: usage(stdout); return EXIT_DONE;
        case OPT_VERSION: printf("%s %s (dcmmcm %s)\n", program, MCM_VERSION_STRING, mcm_version()); return EXIT_DONE;
        case OPT_VERBOSE:
            o->log_level = MCM_LOG_INFO;
            o->verbose = 1;
            break;
        case OPT_DEBUG:
            o->log_level = MCM_LOG_DEBUG;
            o->verbose = 1;
            break;
        case OPT_NO_STORE: o->no_store = 1; break;
        case OPT_NO_WAIT: o->no_wait = 1; break;
        case OPT_JSON: o->json = 1; break;
        case OPT_SPLIT: o->split = "YES"; break;
        case OPT_NO_SPLIT: o->split = "NO"; break;
        case OPT_VIEWER: o->viewer = "YES"; break;
        case OPT_NO_VIEWER: o->viewer = "NO"; break;
        case OPT_LOSSY: o->lossy = "YES"; break;
        case OPT_NO_LOSSY: o->lossy = "NO"; break;
        case OPT_CALLING_AE: o->calling_ae = v; break;
        case OPT_CALLED_AE: o->called_ae = v; break;
        case OPT_LABEL: o->label_text = v; break;
        case OPT_LABEL_INFO:
            if (!yes_no(v))
                return usage_error("--label-info takes YES or NO, not \"%s\"", v);
            o->label_info = v;
            break;
        case OPT_PRESERVE:
            if (!yes_no(v))
                return usage_error("--preserve takes YES or NO, not \"%s\"", v);
            o->preserve = v;
            break;
        case OPT_COPIES:
            if (!parse_unsigned(v, MCM_MAX_COPIES, &n) || n == 0)
                return usage_error("--copies takes a number from 1 to %d, not \"%s\"", MCM_MAX_COPIES, v);
            o->copies = (int)n;
            break;
        case OPT_PRIORITY:
            if (mcm_priority_parse(v, &o->priority) != MCM_OK)
                return usage_error("--priority takes HIGH, MED or LOW, not \"%s\"", v);
            break;
        case OPT_PROFILE: o->profile = v; break;
        case OPT_FILESET_ID: o->fileset_id = v; break;
        case OPT_NON_DICOM: o->non_dicom = v; break;
        case OPT_BARCODE: o->barcode = v; break;
        case OPT_BARCODE_SYMBOLOGY: o->symbology = v; break;
        case OPT_DISPOSITION: o->disposition = v; break;
        case OPT_GET: o->get_uid = v; break;
        case OPT_CANCEL: o->cancel_uid = v; break;
        case OPT_TIMEOUT:
            if (!parse_unsigned(v, 30u * 86400u, &o->timeout_s))
                return usage_error("--timeout takes seconds, not \"%s\"", v);
            break;
        case OPT_ACSE_TIMEOUT:
        case OPT_DIMSE_TIMEOUT:
            if (!parse_unsigned(v, 86400, &n) || n == 0)
                return usage_error("%s takes seconds (1 or more), not \"%s\"", name, v);
            *(id == OPT_ACSE_TIMEOUT ? &o->acse_timeout : &o->dimse_timeout) = (int)n;
            break;
        case OPT_MAX_PDU:
            if (!parse_unsigned(v, 131072, &n) || n < 4096)
                return usage_error("--max-pdu takes 4096 to 131072, not \"%s\"", v);
            o->max_pdu = n;
            break;
        case OPT_LOG_LEVEL: {
            static const char *const levels[] = {"error", "warning", "info", "debug", "trace"};
            int found = 0;
            for (int k = 0; k < 5; k++)
                if (strcmp(v, levels[k]) == 0) {
                    o->log_level = (mcm_log_level)k;
                    found = 1;
                }
            if (!found)
                return usage_error("--log-level takes error, warning, info, debug or trace, not \"%s\"", v);
            o->verbose = o->log_level >= MCM_LOG_INFO;
            break;
        }
        default: return usage_error("unknown option %s", name); /* a row without a case: a bug here */
        }
    }
    if (o->get_uid != NULL && o->cancel_uid != NULL)
        return usage_error("--get and --cancel cannot be combined");
    if (npos < 2)
        return usage_error("missing peer and port");
    o->peer = positional[0];
    if (!parse_unsigned(positional[1], 65535, &o->port) || o->port == 0)
        return usage_error("port must be a number from 1 to 65535, not \"%s\"", positional[1]);
    o->paths = positional + 2;
    o->path_count = npos - 2;
    if (o->get_uid != NULL || o->cancel_uid != NULL) {
        const char *uid = o->get_uid != NULL ? o->get_uid : o->cancel_uid;
        if (!mcm_uid_is_valid(uid))
            return usage_error("\"%s\" is not a valid UID", uid);
        if (o->path_count > 0)
            return usage_error("--get and --cancel take no files");
    } else if (o->path_count == 0) {
        return usage_error("no files or directories given");
    }
    return -1;
}

/* Parse the command line (option_table): DCMTK's -aet/-aec/-v/-d, GNU long options as --name value
 * or --name=value, and the positional arguments, mixed in any order. Returns -1 to go on, or an
 * exit code. */
static int parse_arguments(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->calling_ae = "MCMSCU";
    o->called_ae = "MCMSCP";
    o->log_level = MCM_LOG_WARNING;
    o->acse_timeout = 30;
    o->dimse_timeout = 60;
    o->max_pdu = 65536;
    /* At most argc - 1 positional arguments: any number of files. */
    char **positional = o->positional = calloc((size_t)argc, sizeof *positional);
    tool_parser parser;
    if (positional == NULL ||
        tool_parser_init(&parser, option_table, sizeof option_table / sizeof option_table[0], argc, argv) != 0) {
        note("out of memory");
        return EXIT_LOCAL;
    }
    int code = parse_options(&parser, o, positional);
    tool_parser_free(&parser);
    return code;
}

static void log_to_stderr(mcm_log_level level, const char *message, void *user)
{
    (void)user;
    fprintf(stderr, "%s: %s: %s\n", program, mcm_log_level_name(level), message);
}

/* ---- collecting files ---- */

static int add_file(file_list *files, const char *path, const mcm_file_info *info)
{
    if (files->count == files->capacity) {
        size_t capacity = files->capacity ? files->capacity * 2 : 64;
        char **paths = realloc(files->paths, capacity * sizeof *paths);
        if (paths == NULL)
            return 0;
        files->paths = paths;
        mcm_file_info *infos = realloc(files->info, capacity * sizeof *infos);
        if (infos == NULL)
            return 0;
        files->info = infos;
        files->capacity = capacity;
    }
    files->paths[files->count] = strdup(path);
    if (files->paths[files->count] == NULL)
        return 0;
    files->info[files->count++] = *info;
    return 1;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add path (a file, or a directory walked recursively in name order). Returns 0 on a fatal error. */
static int collect(file_list *files, const char *path, int verbose)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        note("cannot read %s: %s", path, strerror(errno));
        return 0;
    }
    if (S_ISDIR(st.st_mode)) {
        DIR *dir = opendir(path);
        if (dir == NULL) {
            note("cannot read directory %s: %s", path, strerror(errno));
            return 0;
        }
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *entry;
        int ok = 1;
        while (ok && (entry = readdir(dir)) != NULL) {
            if (entry->d_name[0] == '.')
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 32;
                char **grown = realloc(names, cap * sizeof *grown);
                if (grown == NULL) {
                    ok = 0;
                    break;
                }
                names = grown;
            }
            size_t len = strlen(path) + strlen(entry->d_name) + 2;
            names[n] = malloc(len);
            if (names[n] == NULL) {
                ok = 0;
                break;
            }
            snprintf(names[n], len, "%s/%s", path, entry->d_name);
            n++;
        }
        closedir(dir);
        if (ok && n > 1) /* an empty directory has no array: qsort must not see NULL (C11 7.22.5) */
            qsort(names, n, sizeof *names, compare_names);
        for (size_t i = 0; i < n; i++) {
            if (ok)
                ok = collect(files, names[i], verbose);
            free(names[i]);
        }
        free(names);
        if (!ok)
            note("out of memory while reading %s", path);
        return ok;
    }
    mcm_file_info info;
    int rc = mcm_file_info_read(path, &info);
    if (rc == MCM_EDICOM) {
        note("skipping %s: not a DICOM file", path);
        files->skipped++;
        return 1;
    }
    if (rc != MCM_OK) {
        note("cannot read %s: %s", path, mcm_last_error());
        return 0;
    }
    /* The same instance twice (a copy, or a path given twice) would make the SCP fail the whole
     * request with DUPL_REF_INST (digest A14): send and reference it once. */
    for (size_t i = 0; i < files->count; i++)
        if (strcmp(files->info[i].sop_instance_uid, info.sop_instance_uid) == 0) {
            note("skipping %s: the same instance as %s (%s)", path, files->paths[i], info.sop_instance_uid);
            files->skipped++;
            return 1;
        }
    if (verbose)
        note("found %s (%s)", path, info.sop_instance_uid);
    if (!add_file(files, path, &info)) {
        note("out of memory");
        return 0;
    }
    return 1;
}

static void free_files(file_list *files)
{
    for (size_t i = 0; i < files->count; i++)
        free(files->paths[i]);
    free(files->paths);
    free(files->info);
}

/* ---- output ---- */

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void print_response(const char *what, const mcm_response *rsp, mcm_operation op)
{
    char line[512];
    note("%s: %s", what, mcm_response_format(rsp, op, line, sizeof line));
}

/* The job as lines of text (stdout). */
static void print_job_text(const mcm_job *job)
{
    printf("request %s\n", mcm_job_uid(job));
    printf("  execution status:      %s\n",
           mcm_job_has(job, MCM_TAG_EXECUTION_STATUS) ? mcm_job_state_name(mcm_job_state_of(job)) : "(not returned)");
    printf("  execution status info: %s\n", mcm_job_status_info(job) ? mcm_job_status_info(job) : "(none)");
    printf("  pieces of media:       %u\n", mcm_job_pieces(job));
    for (size_t i = 0; i < mcm_job_media_count(job); i++) {
        mcm_storage_media m;
        if (mcm_job_media(job, i, &m) == MCM_OK)
            printf("  media %zu:               file-set %s, UID %s\n", i + 1, m.fileset_id ? m.fileset_id : "",
                   m.fileset_uid ? m.fileset_uid : "");
    }
    for (size_t i = 0; i < mcm_job_failed_count(job); i++) {
        mcm_failed_sop f;
        if (mcm_job_failed(job, i, &f) != MCM_OK)
            continue;
        printf("  failed instance:       %s (class %s) reason 0x%04X", f.sop_instance_uid ? f.sop_instance_uid : "",
               f.sop_class_uid ? f.sop_class_uid : "", f.failure_reason);
        for (size_t k = 0; k < f.failure_attribute_count; k++)
            printf(" (%04X,%04X)", (unsigned)(f.failure_attributes[k] >> 16),
                   (unsigned)(f.failure_attributes[k] & 0xFFFF));
        printf("\n");
    }
}

/* The result as one JSON object (stdout). job and rsp may be NULL. */
static void print_json(const char *result, const char *uid, const mcm_job *job, const mcm_response *rsp,
                       mcm_operation op, size_t stored, size_t skipped, const char *error)
{
    FILE *out = stdout;
    fprintf(out, "{\"result\":");
    json_string(out, result);
    fprintf(out, ",\"uid\":");
    if (uid != NULL && uid[0] != '\0')
        json_string(out, uid);
    else
        fprintf(out, "null");
    fprintf(out, ",\"stored\":%zu,\"skipped\":%zu", stored, skipped);
    if (job != NULL) {
        fprintf(out, ",\"execution_status\":");
        if (mcm_job_has(job, MCM_TAG_EXECUTION_STATUS))
            json_string(out, mcm_job_state_name(mcm_job_state_of(job)));
        else
            fprintf(out, "null");
        fprintf(out, ",\"execution_status_info\":");
        if (mcm_job_status_info(job) != NULL)
            json_string(out, mcm_job_status_info(job));
        else
            fprintf(out, "null");
        fprintf(out, ",\"pieces\":%u,\"media\":[", mcm_job_pieces(job));
        for (size_t i = 0; i < mcm_job_media_count(job); i++) {
            mcm_storage_media m;
            if (mcm_job_media(job, i, &m) != MCM_OK)
                continue;
            fprintf(out, "%s{\"fileset_id\":", i ? "," : "");
            json_string(out, m.fileset_id);
            fprintf(out, ",\"fileset_uid\":");
            json_string(out, m.fileset_uid);
            fprintf(out, "}");
        }
        fprintf(out, "],\"failed\":[");
        for (size_t i = 0; i < mcm_job_failed_count(job); i++) {
            mcm_failed_sop f;
            if (mcm_job_failed(job, i, &f) != MCM_OK)
                continue;
            fprintf(out, "%s{\"sop_class_uid\":", i ? "," : "");
            json_string(out, f.sop_class_uid);
            fprintf(out, ",\"sop_instance_uid\":");
            json_string(out, f.sop_instance_uid);
            fprintf(out, ",\"failure_reason\":%u,\"failure_attributes\":[", f.failure_reason);
            for (size_t k = 0; k < f.failure_attribute_count; k++) {
                char tag[16];
                snprintf(tag, sizeof tag, "%04X,%04X", (unsigned)(f.failure_attributes[k] >> 16),
                         (unsigned)(f.failure_attributes[k] & 0xFFFF));
                fprintf(out, "%s", k ? "," : "");
                json_string(out, tag);
            }
            fprintf(out, "]}");
        }
        fprintf(out, "]");
    }
    if (rsp != NULL) {
        fprintf(out, ",\"status\":%u,\"status_category\":", rsp->status);
        json_string(out, mcm_status_category_name(mcm_status_category_of(rsp->status, op)));
        fprintf(out, ",\"status_name\":");
        json_string(out, mcm_status_name(rsp->status, op));
        fprintf(out, ",\"error_comment\":");
        json_string(out, rsp->error_comment);
    }
    if (error != NULL) {
        fprintf(out, ",\"error\":");
        json_string(out, error);
    }
    fprintf(out, "}\n");
}

/* ---- the workflow ---- */

typedef struct progress_state {
    struct timespec start; /* Initiate answered */
    int terminal;
    int quiet;
    unsigned last_state;
    char last_info[65];
    unsigned last_pieces;
} progress_state;

static int on_progress(const mcm_job *job, unsigned poll, void *user)
{
    progress_state *p = user;
    if (p->quiet)
        return 0;
    const char *state = mcm_job_state_name(mcm_job_state_of(job));
    const char *info = mcm_job_status_info(job) ? mcm_job_status_info(job) : "";
    if (p->terminal) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double seconds = (double)(now.tv_sec - p->start.tv_sec) + (double)(now.tv_nsec - p->start.tv_nsec) / 1e9;
        fprintf(stderr, "\r%s: %-8s %-16s pieces %u   (%.1f s, poll %u)   ", program, state, info, mcm_job_pieces(job),
                seconds, poll);
        fflush(stderr);
    } else if ((unsigned)mcm_job_state_of(job) != p->last_state || strcmp(info, p->last_info) != 0 ||
               mcm_job_pieces(job) != p->last_pieces) {
        /* Not a terminal: a plain line only when something changed. */
        fprintf(stderr, "%s: %s %s, pieces %u\n", program, state, info, mcm_job_pieces(job));
    }
    p->last_state = (unsigned)mcm_job_state_of(job);
    snprintf(p->last_info, sizeof p->last_info, "%s", info);
    p->last_pieces = mcm_job_pieces(job);
    return 0;
}

/* A call that failed locally (rc < 0): the exit code and the JSON result for it. A peer that
 * accepted no presentation context for what we asked refused the service (2: retrying will not
 * help); the network and the association are 3, timeouts 4, our own files and memory 5. */
static int call_failed(const options *o, const char *what, int rc, const char *uid, size_t stored, size_t skipped)
{
    char text[600];
    snprintf(text, sizeof text, "%s: %s: %s", what, mcm_strerror(rc), mcm_last_error());
    int code;
    const char *result;
    switch (rc) {
    case MCM_ETIMEOUT: code = EXIT_TIMEOUT, result = "timeout"; break;
    case MCM_ENOCONTEXT: code = EXIT_REFUSED, result = "refused"; break;
    case MCM_EDICOM:
    case MCM_EIO:
    case MCM_ENOTFOUND:
    case MCM_ENOMEM: code = EXIT_LOCAL, result = "local-error"; break;
    default: code = EXIT_NETWORK, result = "network-error"; break;
    }
    if (o->json)
        print_json(result, uid, NULL, NULL, MCM_OP_ANY, stored, skipped, text);
    note("%s", text);
    return code;
}

static int refused(const options *o, const char *what, const mcm_response *rsp, mcm_operation op, const char *uid,
                   size_t stored, size_t skipped)
{
    if (o->json)
        print_json("refused", uid, NULL, rsp, op, stored, skipped, what);
    print_response(what, rsp, op);
    return EXIT_REFUSED;
}

static int set_attribute(mcm_request *req, uint32_t tag, const char *value, const char *option)
{
    if (value == NULL || mcm_request_set_attribute(req, tag, value) == MCM_OK)
        return 1;
    note("%s: %s", option, mcm_last_error());
    return 0;
}

/* 0 if text is plain ASCII, 1 if it is well-formed UTF-8 beyond ASCII, -1 otherwise. */
static int utf8_class(const char *text)
{
    int beyond_ascii = 0;
    const unsigned char *p = (const unsigned char *)text;
    while (p != NULL && *p != '\0') {
        int extra = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : (*p & 0xF8) == 0xF0 ? 3 : -1;
        if (extra < 0 || (extra == 1 && *p < 0xC2))
            return -1;
        beyond_ascii |= extra > 0;
        p++;
        for (int k = 0; k < extra; k++, p++)
            if ((*p & 0xC0) != 0x80)
                return -1;
    }
    return beyond_ascii;
}

/* Text options are taken as UTF-8, the encoding of command lines on every system we run on: a
 * request with any non-ASCII text declares Specific Character Set ISO_IR 192 (PS3.3 C.12.1.1.2),
 * so that the SCP reads it right; bytes that are not UTF-8 are refused rather than sent garbled. */
static int declare_character_set(const options *o, mcm_request *req)
{
    const struct {
        const char *value, *option;
    } texts[] = {{o->label_text, "--label"}, {o->fileset_id, "--fileset-id"}, {o->barcode, "--barcode"},
                 {o->disposition, "--disposition"}};
    int utf8 = 0;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        int c = utf8_class(texts[i].value);
        if (c < 0) {
            note("%s: not valid UTF-8 text", texts[i].option);
            return 0;
        }
        utf8 |= c;
    }
    return !utf8 || set_attribute(req, MCM_TAG_SPECIFIC_CHARACTER_SET, "ISO_IR 192", "character set");
}

static int build_request(const options *o, const file_list *files, mcm_request **out)
{
    mcm_request *req;
    if (mcm_request_new(&req) != MCM_OK)
        return EXIT_LOCAL;
    int ok = declare_character_set(o, req) && set_attribute(req, MCM_TAG_LABEL_TEXT, o->label_text, "--label") &&
             set_attribute(req, MCM_TAG_LABEL_USING_INFORMATION, o->label_info, "--label-info") &&
             set_attribute(req, MCM_TAG_STORAGE_MEDIA_FILESET_ID, o->fileset_id, "--fileset-id") &&
             set_attribute(req, MCM_TAG_ALLOW_MEDIA_SPLITTING, o->split, "--split") &&
             set_attribute(req, MCM_TAG_INCLUDE_DISPLAY_APPLICATION, o->viewer, "--viewer") &&
             set_attribute(req, MCM_TAG_ALLOW_LOSSY_COMPRESSION, o->lossy, "--lossy") &&
             set_attribute(req, MCM_TAG_INCLUDE_NON_DICOM_OBJECTS, o->non_dicom, "--non-dicom") &&
             set_attribute(req, MCM_TAG_PRESERVE_COMPOSITE_INSTANCES, o->preserve, "--preserve") &&
             set_attribute(req, MCM_TAG_BARCODE_VALUE, o->barcode, "--barcode") &&
             set_attribute(req, MCM_TAG_BARCODE_SYMBOLOGY, o->symbology, "--barcode-symbology") &&
             set_attribute(req, MCM_TAG_MEDIA_DISPOSITION, o->disposition, "--disposition");
    for (size_t i = 0; ok && i < files->count; i++) {
        if (mcm_request_add_reference(req, files->info[i].sop_class_uid, files->info[i].sop_instance_uid, o->profile) !=
            MCM_OK) {
            note("%s: %s", files->paths[i], mcm_last_error());
            ok = 0;
        }
    }
    if (!ok) {
        mcm_request_free(req);
        return EXIT_USAGE;
    }
    *out = req;
    return EXIT_DONE;
}

static int run_get_or_cancel(const options *o, mcm_scu *scu)
{
    mcm_response rsp;
    if (o->cancel_uid != NULL) {
        int rc = mcm_scu_cancel(scu, o->cancel_uid, &rsp);
        if (rc != MCM_OK)
            return call_failed(o, "N-ACTION Cancel", rc, o->cancel_uid, 0, 0);
        if (rsp.category != MCM_CATEGORY_SUCCESS)
            return refused(o, "N-ACTION Cancel", &rsp, MCM_OP_N_ACTION, o->cancel_uid, 0, 0);
        if (o->json)
            print_json("cancelled", o->cancel_uid, NULL, &rsp, MCM_OP_N_ACTION, 0, 0, NULL);
        else
            printf("request %s cancelled\n", o->cancel_uid);
        return EXIT_DONE;
    }
    mcm_job *job = NULL;
    int rc = mcm_scu_get(scu, o->get_uid, NULL, 0, &job, &rsp);
    if (rc != MCM_OK)
        return call_failed(o, "N-GET", rc, o->get_uid, 0, 0);
    if (job == NULL)
        return refused(o, "N-GET", &rsp, MCM_OP_N_GET, o->get_uid, 0, 0);
    if (rsp.category == MCM_CATEGORY_WARNING)
        print_response("N-GET", &rsp, MCM_OP_N_GET);
    if (o->json)
        print_json(mcm_job_state_name(mcm_job_state_of(job)), o->get_uid, job, &rsp, MCM_OP_N_GET, 0, 0, NULL);
    else
        print_job_text(job);
    mcm_job_free(job);
    return EXIT_DONE;
}

/* Store the files (unless --no-store), create the request (built and checked before any file was
 * sent), initiate it and wait. */
static int run_workflow(const options *o, mcm_scu *scu, const file_list *files, const mcm_request *req)
{
    mcm_response rsp;
    size_t stored = 0;
    char uid[MCM_UID_MAX + 1] = "";
    int rc;

    if (!o->no_store) {
        /* On a terminal, one line counts the files as they go (a study may have thousands). */
        int counter = isatty(STDERR_FILENO) && !o->json && !o->verbose;
        for (size_t i = 0; i < files->count; i++) {
            if (counter) {
                fprintf(stderr, "\r%s: storing %zu of %zu files", program, i + 1, files->count);
                fflush(stderr);
            }
            rc = mcm_scu_store_file(scu, files->paths[i], &rsp);
            if (counter &&
                (rc != MCM_OK || rsp.category == MCM_CATEGORY_FAILURE || rsp.category == MCM_CATEGORY_UNKNOWN))
                fputc('\n', stderr);
            if (rc != MCM_OK)
                return call_failed(o, files->paths[i], rc, NULL, stored, files->skipped);
            if (rsp.category == MCM_CATEGORY_FAILURE || rsp.category == MCM_CATEGORY_UNKNOWN) {
                char what[4200];
                snprintf(what, sizeof what, "C-STORE %s", files->paths[i]);
                return refused(o, what, &rsp, MCM_OP_ANY, NULL, stored, files->skipped);
            }
            stored++;
            if (o->verbose)
                note("stored %s (%zu of %zu)", files->paths[i], stored, files->count);
        }
        if (counter) /* over the counter, which is longer: blank its end */
            fprintf(stderr, "\r%s: stored %zu file%s        \n", program, stored, stored == 1 ? "" : "s");
        else if (!o->json)
            note("stored %zu file%s", stored, stored == 1 ? "" : "s");
    }

    rc = mcm_scu_create(scu, req, NULL, uid, &rsp);
    if (rc != MCM_OK)
        return call_failed(o, "N-CREATE", rc, NULL, stored, files->skipped);
    if (rsp.category != MCM_CATEGORY_SUCCESS)
        return refused(o, "N-CREATE", &rsp, MCM_OP_N_CREATE, NULL, stored, files->skipped);
    if (!o->json)
        note("created request %s", uid);

    rc = mcm_scu_initiate(scu, uid, o->copies, o->priority, &rsp);
    if (rc != MCM_OK)
        return call_failed(o, "N-ACTION Initiate", rc, uid, stored, files->skipped);
    if (rsp.category != MCM_CATEGORY_SUCCESS)
        return refused(o, "N-ACTION Initiate", &rsp, MCM_OP_N_ACTION, uid, stored, files->skipped);

    if (o->no_wait) {
        if (o->json)
            print_json("initiated", uid, NULL, &rsp, MCM_OP_N_ACTION, stored, files->skipped, NULL);
        else
            printf("%s\n", uid);
        return EXIT_DONE;
    }

    progress_state progress;
    memset(&progress, 0, sizeof progress);
    progress.terminal = isatty(STDERR_FILENO) && !o->json;
    clock_gettime(CLOCK_MONOTONIC, &progress.start);
    progress.quiet = o->json;
    progress.last_state = (unsigned)-1;
    mcm_wait_options wait = MCM_WAIT_OPTIONS_INIT;
    /* A small request is written in tens of milliseconds: poll soon, then back off to 5 s (an
     * N-GET costs the SCP well under a millisecond; digest A19). */
    wait.initial_interval_ms = 50;
    wait.max_interval_ms = 5000;
    wait.timeout_ms = o->timeout_s * 1000u;
    wait.progress = on_progress;
    wait.progress_user = &progress;
    mcm_job *job = NULL;
    rc = mcm_scu_wait(scu, uid, &wait, &job, &rsp);
    if (progress.terminal)
        fputc('\n', stderr);
    if (rc != MCM_OK)
        return call_failed(o, "waiting for the request", rc, uid, stored, files->skipped);
    if (job == NULL) /* N-GET refused: e.g. 0112 after a cancel or purge elsewhere (digest A19) */
        return refused(o, "N-GET", &rsp, MCM_OP_N_GET, uid, stored, files->skipped);
    int failed = mcm_job_state_of(job) == MCM_JOB_FAILURE;
    if (o->json)
        print_json(failed ? "failure" : "done", uid, job, &rsp, MCM_OP_N_GET, stored, files->skipped, NULL);
    else
        print_job_text(job);
    mcm_job_free(job);
    return failed ? EXIT_JOB_FAILED : EXIT_DONE;
}

/* Everything main() owns, released on every way out. */
typedef struct run {
    options o;
    file_list files;
    mcm_request *request;
    mcm_scu *scu;
} run;

static int finish(run *r, int code)
{
    if (r->scu != NULL) {
        /* After a network failure or a timeout the association may be unusable: abort it. */
        if (code == EXIT_NETWORK || code == EXIT_TIMEOUT)
            mcm_scu_abort(r->scu);
        else
            mcm_scu_release(r->scu);
        mcm_scu_free(r->scu);
    }
    mcm_request_free(r->request);
    free_files(&r->files);
    free(r->o.positional);
    return code;
}

int main(int argc, char **argv)
{
    run r;
    memset(&r, 0, sizeof r);
    options *o = &r.o;
    int code = parse_arguments(argc, argv, o);
    if (code >= 0)
        return finish(&r, code);
    if (o->verbose)
        mcm_log_set_handler(log_to_stderr, NULL, o->log_level);

    if (o->get_uid == NULL && o->cancel_uid == NULL) {
        for (int i = 0; i < o->path_count; i++)
            if (!collect(&r.files, o->paths[i], o->verbose))
                return finish(&r, EXIT_LOCAL);
        if (r.files.count == 0) {
            note("no DICOM files found in the %d path%s given", o->path_count, o->path_count == 1 ? "" : "s");
            return finish(&r, EXIT_LOCAL);
        }
        /* The request is complete before the first byte is sent: a bad option value never
         * leaves instances stored for nothing. */
        if ((code = build_request(o, &r.files, &r.request)) != EXIT_DONE)
            return finish(&r, code);
    }

    mcm_scu_options so;
    mcm_scu_options_init(&so, MCM_SCU_OPTIONS_VERSION);
    so.peer_host = o->peer;
    so.peer_port = (uint16_t)o->port;
    so.calling_ae_title = o->calling_ae;
    so.called_ae_title = o->called_ae;
    so.acse_timeout_seconds = o->acse_timeout;
    so.dimse_timeout_seconds = o->dimse_timeout;
    so.max_pdu = o->max_pdu;
    if (!o->no_store) {
        so.store_files = (const char *const *)r.files.paths;
        so.store_file_count = r.files.count;
    }
    if (o->verbose) {
        so.log = log_to_stderr;
        so.log_level = o->log_level;
    }
    int rc = mcm_scu_connect(&r.scu, &so);
    if (rc == MCM_EINVAL) {
        note("%s", mcm_last_error());
        return finish(&r, EXIT_USAGE);
    }
    if (rc != MCM_OK) {
        r.scu = NULL;
        return finish(&r, call_failed(o, "cannot associate", rc, NULL, 0, r.files.skipped));
    }
    /* A peer that does not accept Media Creation Management (a PACS, a plain storage SCP) makes
     * no media: say so before any instance is sent to it. */
    if (!mcm_scu_has_context(r.scu, MCM_SOP_CLASS_UID)) {
        char what[200];
        snprintf(what, sizeof what, "%s port %u does not accept Media Creation Management", o->peer, o->port);
        note("%s (%s): it is not a media creation SCP; nothing was sent", what, MCM_SOP_CLASS_UID);
        if (o->json)
            print_json("refused", o->get_uid != NULL ? o->get_uid : o->cancel_uid, NULL, NULL, MCM_OP_ANY, 0,
                       r.files.skipped, what);
        return finish(&r, EXIT_REFUSED);
    }
    if (o->get_uid != NULL || o->cancel_uid != NULL)
        code = run_get_or_cancel(o, r.scu);
    else
        code = run_workflow(o, r.scu, &r.files, r.request);
    return finish(&r, code);
}
