/*
 * tests/tools/suite_tools.c: the tools mcmscu and mcmscp (issue 5) as a user runs them: separate
 * processes started from the built binaries in MCM_BUILD_DIR, talking over 127.0.0.1.
 *
 * mcmscu against mcmscp: the whole workflow to DONE with the ISO image and its DICOMDIR checked
 * (dciodvfy: no Error line), --json parsed (a small JSON reader below) and checked field by field
 * against an N-GET of our own, cancel, FAILURE with instances the SCP never received, and every
 * exit code of mcmscu produced for real (0, 1, 2, 3, 4, 5, 64). Against DCMTK: echoscu against
 * mcmscp, mcmscu against storescp (refused before anything is stored). --help and --version of
 * both; SIGTERM stops mcmscp with exit 0, also while a job is being written.
 *
 * A job is held in CREATING by mcmscp's --image-command: a shell loop that waits for a file the
 * test creates, so nothing here depends on timing.
 */
#include "testutil.h"

#include <check.h>
#include <dcmmcm.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, len = 0, n;
    char *text = malloc(cap);
    while (text != NULL && (n = fread(text + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            char *grown = realloc(text, cap * 2);
            if (grown == NULL) {
                free(text);
                text = NULL;
                break;
            }
            text = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (text != NULL)
        text[len] = '\0';
    return text;
}

/* ---- a small JSON reader: enough to check mcmscu --json strictly ------------------------------- */

typedef enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json {
    json_type type;
    int boolean;
    double number;
    char *string;       /* JSON_STRING */
    size_t count;       /* JSON_ARRAY, JSON_OBJECT */
    struct json *items; /* JSON_ARRAY, JSON_OBJECT (values) */
    char **keys;        /* JSON_OBJECT */
} json;

static void json_free_value(json *v)
{
    free(v->string);
    for (size_t i = 0; i < v->count; i++) {
        json_free_value(&v->items[i]);
        if (v->keys != NULL)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
}

static void json_free(json *v)
{
    if (v != NULL) {
        json_free_value(v);
        free(v);
    }
}

static void skip_space(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
        (*p)++;
}

static int parse_value(const char **p, json *out, int depth);

/* A string after its opening quote; escapes decoded (\u only below 0x80, else '?'). */
static char *parse_string(const char **p)
{
    size_t cap = 32, len = 0;
    char *s = malloc(cap);
    if (s == NULL)
        return NULL;
    for (;;) {
        unsigned char c = (unsigned char)*(*p)++;
        if (c == '"')
            break;
        if (c == '\0' || c < 0x20) {
            free(s);
            return NULL;
        }
        if (c == '\\') {
            char e = *(*p)++;
            switch (e) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '/': c = '/'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u': {
                unsigned code = 0;
                for (int k = 0; k < 4; k++) {
                    char h = *(*p)++;
                    code <<= 4;
                    if (h >= '0' && h <= '9')
                        code |= (unsigned)(h - '0');
                    else if (h >= 'a' && h <= 'f')
                        code |= (unsigned)(h - 'a' + 10);
                    else if (h >= 'A' && h <= 'F')
                        code |= (unsigned)(h - 'A' + 10);
                    else {
                        free(s);
                        return NULL;
                    }
                }
                c = code < 0x80 ? (unsigned char)code : '?';
                break;
            }
            default: free(s); return NULL;
            }
        }
        if (len + 2 > cap) {
            char *grown = realloc(s, cap *= 2);
            if (grown == NULL) {
                free(s);
                return NULL;
            }
            s = grown;
        }
        s[len++] = (char)c;
    }
    s[len] = '\0';
    return s;
}

static int append_item(json *container, json *item, char *key)
{
    json *items = realloc(container->items, (container->count + 1) * sizeof *items);
    if (items == NULL)
        return 0;
    container->items = items;
    if (container->type == JSON_OBJECT) {
        char **keys = realloc(container->keys, (container->count + 1) * sizeof *keys);
        if (keys == NULL)
            return 0;
        container->keys = keys;
        keys[container->count] = key;
    }
    items[container->count++] = *item;
    return 1;
}

static int parse_value(const char **p, json *out, int depth)
{
    memset(out, 0, sizeof *out);
    if (depth > 32)
        return 0;
    skip_space(p);
    char c = **p;
    if (c == '{' || c == '[') {
        out->type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
        char close = c == '{' ? '}' : ']';
        (*p)++;
        skip_space(p);
        if (**p == close) {
            (*p)++;
            return 1;
        }
        for (;;) {
            char *key = NULL;
            if (out->type == JSON_OBJECT) {
                skip_space(p);
                if (*(*p)++ != '"' || (key = parse_string(p)) == NULL)
                    return 0;
                skip_space(p);
                if (*(*p)++ != ':') {
                    free(key);
                    return 0;
                }
            }
            json item;
            if (!parse_value(p, &item, depth + 1) || !append_item(out, &item, key)) {
                json_free_value(&item);
                free(key);
                return 0;
            }
            skip_space(p);
            char next = *(*p)++;
            if (next == close)
                return 1;
            if (next != ',')
                return 0;
        }
    }
    if (c == '"') {
        (*p)++;
        out->type = JSON_STRING;
        return (out->string = parse_string(p)) != NULL;
    }
    if (strncmp(*p, "null", 4) == 0) {
        *p += 4;
        return 1;
    }
    if (strncmp(*p, "true", 4) == 0 || strncmp(*p, "false", 5) == 0) {
        out->type = JSON_BOOL;
        out->boolean = **p == 't';
        *p += out->boolean ? 4 : 5;
        return 1;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        char *end;
        out->type = JSON_NUMBER;
        out->number = strtod(*p, &end);
        *p = end;
        return 1;
    }
    return 0;
}

/* Parse text as exactly one JSON value (whitespace around it); NULL if it is not. */
static json *json_parse(const char *text)
{
    json *v = malloc(sizeof *v);
    if (v == NULL)
        return NULL;
    const char *p = text;
    if (!parse_value(&p, v, 0)) {
        json_free_value(v);
        free(v);
        return NULL;
    }
    skip_space(&p);
    if (*p != '\0') {
        json_free(v);
        return NULL;
    }
    return v;
}

static const json *json_get(const json *object, const char *key)
{
    if (object == NULL || object->type != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < object->count; i++)
        if (strcmp(object->keys[i], key) == 0)
            return &object->items[i];
    return NULL;
}

static const char *json_string_of(const json *object, const char *key)
{
    const json *v = json_get(object, key);
    ck_assert_msg(v != NULL && v->type == JSON_STRING, "JSON key \"%s\" is not a string", key);
    return v->string;
}

static double json_number_of(const json *object, const char *key)
{
    const json *v = json_get(object, key);
    ck_assert_msg(v != NULL && v->type == JSON_NUMBER, "JSON key \"%s\" is not a number", key);
    return v->number;
}

static const json *json_array_of(const json *object, const char *key)
{
    const json *v = json_get(object, key);
    ck_assert_msg(v != NULL && v->type == JSON_ARRAY, "JSON key \"%s\" is not an array", key);
    return v;
}

/* The object has exactly these keys (NULL-terminated list), each once. */
static void json_assert_keys(const json *object, const char *const *keys)
{
    ck_assert_int_eq(object->type, JSON_OBJECT);
    size_t expected = 0;
    for (; keys[expected] != NULL; expected++) {
        int seen = 0;
        for (size_t i = 0; i < object->count; i++)
            seen += strcmp(object->keys[i], keys[expected]) == 0;
        ck_assert_msg(seen == 1, "JSON key \"%s\" appears %d times", keys[expected], seen);
    }
    ck_assert_msg(object->count == expected, "JSON object has %zu keys, expected %zu", object->count, expected);
}

START_TEST(test_json_reader)
{
    /* The reader itself: it must refuse what is not JSON, or the checks below prove nothing. */
    json *v = json_parse(" {\"a\":[1,-2.5e1,true,false,null,\"x\\\"\\u0041\"],\"b\":{}} ");
    ck_assert_ptr_nonnull(v);
    const json *a = json_array_of(v, "a");
    ck_assert_uint_eq(a->count, 6);
    ck_assert(a->items[1].number == -25.0);
    ck_assert_str_eq(a->items[5].string, "x\"A");
    ck_assert_int_eq(json_get(v, "b")->type, JSON_OBJECT);
    json_free(v);
    static const char *const bad[] = {"",         "{",     "{\"a\":1,}", "{\"a\" 1}",      "[1 2]", "{\"a\":1} x",
                                      "\"a\nb\"", "{a:1}", "[tru]",      "{\"a\":\"\\q\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = json_parse(bad[i]);
        ck_assert_msg(v == NULL, "accepted %s", bad[i]);
    }
}
END_TEST

/* ---- processes ---------------------------------------------------------------------------------- */

typedef struct world {
    char *dir;
    char study[4096], storage[4096], output[4096], database[4096], release[4096], held[4096];
    char listening[4096], log[4096], out[4096], err[4096];
    pid_t scp_pid;
    uint16_t port;
    /* The study: count DICOM files (CT and MR, two series) and one text file. */
    size_t count;
    char uids[8][65];
    int last_exit;
    char *stdout_text, *stderr_text; /* of the last mcmscu run */
} world;

static void world_init(world *w, size_t count)
{
    memset(w, 0, sizeof *w);
    ck_assert_uint_le(count, 8);
    w->dir = mcm_test_tempdir();
    snprintf(w->study, sizeof w->study, "%s/study", w->dir);
    snprintf(w->storage, sizeof w->storage, "%s/instances", w->dir);
    snprintf(w->output, sizeof w->output, "%s/media", w->dir);
    snprintf(w->database, sizeof w->database, "%s/jobs.sqlite", w->dir);
    snprintf(w->release, sizeof w->release, "%s/release", w->dir);
    snprintf(w->held, sizeof w->held, "%s/held", w->dir);
    snprintf(w->listening, sizeof w->listening, "%s/listening", w->dir);
    snprintf(w->log, sizeof w->log, "%s/mcmscp.log", w->dir);
    snprintf(w->out, sizeof w->out, "%s/mcmscu.out", w->dir);
    snprintf(w->err, sizeof w->err, "%s/mcmscu.err", w->dir);
    w->scp_pid = -1;
    ck_assert_int_eq(mkdir(w->study, 0755), 0);
    char study_uid[65], ct_series[65], mr_series[65];
    mcm_uid_generate(study_uid);
    mcm_uid_generate(ct_series);
    mcm_uid_generate(mr_series);
    for (size_t i = 0; i < count; i++) {
        int mr = i >= (count + 1) / 2;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s%zu.dcm", w->study, mr ? "mr" : "ct", i);
        mcm_test_instance spec;
        memset(&spec, 0, sizeof spec);
        spec.sop_class_uid = mr ? MCM_TEST_MR_IMAGE : MCM_TEST_CT_IMAGE;
        spec.study_instance_uid = study_uid;
        spec.series_instance_uid = mr ? mr_series : ct_series;
        spec.patient_name = "Tools^Test";
        spec.patient_id = "TOOLS01";
        spec.instance_number = (int)i + 1;
        ck_assert_int_eq(mcm_test_write_dicom(path, &spec, w->uids[i]), 0);
    }
    w->count = count;
    char readme[4200];
    snprintf(readme, sizeof readme, "%s/README.txt", w->study);
    FILE *f = fopen(readme, "w");
    ck_assert_ptr_nonnull(f);
    fputs("not a DICOM file\n", f);
    fclose(f);
}

/* Start mcmscp on port 0 with the world's directories and the NULL-terminated extra arguments;
 * wait for its "listening on" line and take the port from it. */
static void scp_start(world *w, ...)
{
    const char *args[64];
    size_t n = 0;
    args[n++] = "mcmscp";
    args[n++] = "--bind";
    args[n++] = "127.0.0.1";
    args[n++] = "--storage";
    args[n++] = w->storage;
    args[n++] = "--output";
    args[n++] = w->output;
    args[n++] = "--db";
    args[n++] = w->database;
    va_list ap;
    va_start(ap, w);
    const char *extra;
    while ((extra = va_arg(ap, const char *)) != NULL && n < 60)
        args[n++] = extra;
    va_end(ap);
    args[n++] = "0";
    args[n] = NULL;
    unlink(w->listening);
    const char *binary = mcm_test_build_path("mcmscp");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
        int out = open(w->listening, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(w->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (out < 0 || err < 0)
            _exit(126);
        dup2(out, 1);
        dup2(err, 2);
        execv(binary, (char *const *)args);
        _exit(127);
    }
    w->scp_pid = pid;
    /* Bounded for a broken build (60 s), not a timing assertion. */
    for (int i = 0; i < 6000; i++) {
        char *line = read_file(w->listening);
        unsigned port = 0;
        int found = line != NULL && sscanf(line, "mcmscp: listening on 127.0.0.1 port %u as MCMSCP", &port) == 1;
        free(line);
        if (found && port > 0 && port < 65536) {
            w->port = (uint16_t)port;
            return;
        }
        int status;
        ck_assert_msg(waitpid(pid, &status, WNOHANG) == 0, "mcmscp exited early: %s", read_file(w->log));
        sleep_ms(10);
    }
    ck_abort_msg("mcmscp printed no listening line");
}

/* Send sig to mcmscp and reap it; returns its exit code (128 + signal if killed). */
static int scp_signal(world *w, int sig)
{
    ck_assert_int_gt(w->scp_pid, 0);
    ck_assert_int_eq(kill(w->scp_pid, sig), 0);
    int status = 0;
    ck_assert_int_eq(waitpid(w->scp_pid, &status, 0), w->scp_pid);
    w->scp_pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

static void world_cleanup(world *w)
{
    if (w->scp_pid > 0)
        scp_signal(w, SIGKILL);
    free(w->stdout_text);
    free(w->stderr_text);
    mcm_test_rmtree(w->dir);
    free(w->dir);
}

/* Run mcmscu with the arguments (a shell fragment); its exit code, standard output and standard
 * error are kept in w. Returns the exit code. */
static int scu_run(world *w, const char *fmt, ...)
{
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    w->last_exit =
        mcm_test_system("'%s' %s > '%s' 2> '%s' < /dev/null", mcm_test_build_path("mcmscu"), args, w->out, w->err);
    free(w->stdout_text);
    free(w->stderr_text);
    w->stdout_text = read_file(w->out);
    w->stderr_text = read_file(w->err);
    ck_assert_ptr_nonnull(w->stdout_text);
    ck_assert_ptr_nonnull(w->stderr_text);
    return w->last_exit;
}

#define ASSERT_EXIT(w, code)                                                                                           \
    ck_assert_msg((w)->last_exit == (code), "mcmscu exit code %d, expected %d\nstdout: %s\nstderr: %s",                \
                  (w)->last_exit, (code), (w)->stdout_text, (w)->stderr_text)
#define ASSERT_STDOUT_HAS(w, text)                                                                                     \
    ck_assert_msg(strstr((w)->stdout_text, (text)) != NULL, "mcmscu stdout lacks \"%s\": %s", (text), (w)->stdout_text)
#define ASSERT_STDERR_HAS(w, text)                                                                                     \
    ck_assert_msg(strstr((w)->stderr_text, (text)) != NULL, "mcmscu stderr lacks \"%s\": %s", (text), (w)->stderr_text)

/* The UID on the line "request UID" of mcmscu's text output, in uid (65 bytes). */
static void request_uid(const world *w, char *uid)
{
    const char *line = strstr(w->stdout_text, "request ");
    ck_assert_msg(line != NULL && sscanf(line, "request %64s", uid) == 1, "no request line: %s", w->stdout_text);
    ck_assert_int_eq(mcm_uid_is_valid(uid), 1);
}

/* An N-GET of our own, independent of mcmscu. */
static mcm_job *library_get(const world *w, const char *uid)
{
    mcm_scu_options opts;
    ck_assert_int_eq(mcm_scu_options_init(&opts, MCM_SCU_OPTIONS_VERSION), MCM_OK);
    opts.peer_host = "127.0.0.1";
    opts.peer_port = w->port;
    opts.calling_ae_title = "SUITETOOLS";
    mcm_scu *scu = NULL;
    ck_assert_int_eq(mcm_scu_connect(&scu, &opts), MCM_OK);
    mcm_job *job = NULL;
    mcm_response rsp;
    ck_assert_int_eq(mcm_scu_get(scu, uid, NULL, 0, &job, &rsp), MCM_OK);
    ck_assert_msg(job != NULL, "N-GET %s: 0x%04X", uid, rsp.status);
    mcm_scu_release(scu);
    mcm_scu_free(scu);
    return job;
}

/* Hold every image of mcmscp in CREATING until the file w->release exists; w->held appears once
 * an image is held. */
static const char *hold_command(world *w)
{
    static char command[9000];
    snprintf(command, sizeof command, "touch '%s'; while [ ! -e '%s' ]; do sleep 0.02; done", w->held, w->release);
    return command;
}

static void wait_held(world *w)
{
    for (int i = 0; i < 6000 && !file_exists(w->held); i++)
        sleep_ms(10);
    ck_assert_msg(file_exists(w->held), "no image was held: %s", read_file(w->log));
}

static void release_hold(world *w)
{
    FILE *f = fopen(w->release, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
}

/* ---- --help and --version ------------------------------------------------------------------------ */

START_TEST(test_help_and_version)
{
    static const char *const tools[] = {"mcmscu", "mcmscp"};
    for (size_t i = 0; i < 2; i++) {
        const char *binary = mcm_test_build_path(tools[i]);
        char *help = mcm_test_capture("'%s' --help; echo \"exit=$?\"", binary);
        ck_assert_ptr_nonnull(help);
        ck_assert_msg(strncmp(help, "usage: ", 7) == 0, "%s --help: %s", tools[i], help);
        ck_assert_ptr_nonnull(strstr(help, "exit codes:"));
        ck_assert_ptr_nonnull(strstr(help, "\nexit=0\n"));
        free(help);
        help = mcm_test_capture("'%s' -h", binary);
        ck_assert_ptr_nonnull(help);
        ck_assert_int_eq(strncmp(help, "usage: ", 7), 0);
        free(help);
        char *version = mcm_test_capture("'%s' --version; echo \"exit=$?\"", binary);
        ck_assert_ptr_nonnull(version);
        char expected[128];
        snprintf(expected, sizeof expected, "%s %s (dcmmcm %s)\nexit=0\n", tools[i], MCM_VERSION_STRING, mcm_version());
        ck_assert_str_eq(version, expected);
        free(version);
    }
}
END_TEST

/* ---- the tools against each other ------------------------------------------------------------- */

START_TEST(test_workflow_done)
{
    world w;
    world_init(&w, 6);
    scp_start(&w, NULL);
    scu_run(&w, "-aet TOOLSTEST --label 'Tools test' --fileset-id TOOLS_1 --copies 2 --priority HIGH 127.0.0.1 %u '%s'",
            (unsigned)w.port, w.study);
    ASSERT_EXIT(&w, 0);
    ASSERT_STDOUT_HAS(&w, "execution status:      DONE\n");
    ASSERT_STDOUT_HAS(&w, "execution status info: NORMAL\n");
    ASSERT_STDOUT_HAS(&w, "pieces of media:       2\n");
    ASSERT_STDOUT_HAS(&w, "file-set TOOLS_1, UID ");
    ASSERT_STDERR_HAS(&w, "README.txt: not a DICOM file");
    ASSERT_STDERR_HAS(&w, "stored 6 files");
    /* Not a terminal: plain progress lines, the last one DONE. */
    ASSERT_STDERR_HAS(&w, "DONE NORMAL, pieces 2\n");
    char uid[65];
    request_uid(&w, uid);

    /* The image, its copy, the label and the job summary. */
    char path[8400];
    static const char *const files[] = {"VOL001.iso", "VOL001_C02.iso", "VOL001.png",
                                        "VOL001.pdf", "VOL001.json",    "JOB.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s/%s", w.output, uid, files[i]);
        ck_assert_msg(file_exists(path), "%s missing", path);
    }
    /* The DICOMDIR read back from the image: dciodvfy finds no error, and it names every instance. */
    char disc[4200];
    snprintf(disc, sizeof disc, "%s/disc", w.dir);
    ck_assert_int_eq(mcm_test_system("xorriso -osirrox on -indev '%s/%s/VOL001.iso' -extract / '%s' >/dev/null 2>&1",
                                     w.output, uid, disc),
                     0);
    char *verdict = mcm_test_capture("dciodvfy '%s/DICOMDIR' 2>&1", disc);
    ck_assert_ptr_nonnull(verdict);
    ck_assert_msg(strstr(verdict, "BasicDirectory") != NULL, "dciodvfy: %s", verdict);
    ck_assert_msg(strstr(verdict, "Error") == NULL, "dciodvfy reports errors: %s", verdict);
    free(verdict);
    char *dump = mcm_test_capture("dcmdump -q +P ReferencedSOPInstanceUIDInFile '%s/DICOMDIR'", disc);
    ck_assert_ptr_nonnull(dump);
    for (size_t i = 0; i < w.count; i++)
        ck_assert_msg(strstr(dump, w.uids[i]) != NULL, "the DICOMDIR lacks %s", w.uids[i]);
    free(dump);
    ck_assert_int_eq(mcm_test_system("cd '%s' && sha256sum --quiet -c SHA256.TXT", disc), 0);

    /* mcmscp logged the requests of the calling AE title, and stops cleanly on SIGTERM. */
    ck_assert_int_eq(scp_signal(&w, SIGTERM), 0);
    char *log = read_file(w.log);
    ck_assert_ptr_nonnull(log);
    ck_assert_ptr_nonnull(strstr(log, "TOOLSTEST: N-CREATE"));
    ck_assert_ptr_nonnull(strstr(log, "TOOLSTEST: N-ACTION Initiate"));
    ck_assert_ptr_nonnull(strstr(log, ": media in "));
    ck_assert_ptr_nonnull(strstr(log, "mcmscp: info: stopped\n"));
    free(log);
    world_cleanup(&w);
}
END_TEST

/* Non-ASCII text options travel as UTF-8 with Specific Character Set ISO_IR 192; bytes that are not
 * UTF-8 are refused as a usage error before anything is sent. */
START_TEST(test_utf8_text_options)
{
    world w;
    world_init(&w, 2);
    scp_start(&w, NULL);
    scu_run(&w, "--no-wait --label 'M\xC3\xBCller \xE2\x9C\x93' 127.0.0.1 %u '%s'", (unsigned)w.port, w.study);
    ASSERT_EXIT(&w, 0);
    char uid[65];
    ck_assert_int_eq(sscanf(w.stdout_text, "%64s", uid), 1);
    mcm_job *job = library_get(&w, uid);
    const mcm_request *request = mcm_job_request(job);
    ck_assert_pstr_eq(mcm_request_attribute(request, MCM_TAG_SPECIFIC_CHARACTER_SET), "ISO_IR 192");
    ck_assert_pstr_eq(mcm_request_attribute(request, MCM_TAG_LABEL_TEXT), "M\xC3\xBCller \xE2\x9C\x93");
    mcm_job_free(job);
    /* Plain ASCII: no character set declared. */
    scu_run(&w, "--no-wait --label 'Plain' 127.0.0.1 %u '%s'", (unsigned)w.port, w.study);
    ASSERT_EXIT(&w, 0);
    ck_assert_int_eq(sscanf(w.stdout_text, "%64s", uid), 1);
    job = library_get(&w, uid);
    ck_assert_ptr_null(mcm_request_attribute(mcm_job_request(job), MCM_TAG_SPECIFIC_CHARACTER_SET));
    mcm_job_free(job);
    /* Latin-1 bytes are not UTF-8. */
    scu_run(&w, "--label \"$(printf 'M\\374ller')\" 127.0.0.1 %u '%s'", (unsigned)w.port, w.study);
    ASSERT_EXIT(&w, 64);
    ASSERT_STDERR_HAS(&w, "--label: not valid UTF-8 text");
    world_cleanup(&w);
}
END_TEST

static const char *const result_keys[] = {
    "result", "uid",    "stored", "skipped",         "execution_status", "execution_status_info", "pieces",
    "media",  "failed", "status", "status_category", "status_name",      "error_comment",         NULL};

START_TEST(test_json_done)
{
    world w;
    world_init(&w, 4);
    scp_start(&w, NULL);
    scu_run(&w, "--json --copies 3 --fileset-id TOOLS_JSON 127.0.0.1 %u '%s'", (unsigned)w.port, w.study);
    ASSERT_EXIT(&w, 0);
    /* Standard output is one JSON object on one line, and nothing else. */
    size_t length = strlen(w.stdout_text);
    ck_assert_uint_gt(length, 2);
    ck_assert_ptr_eq(strchr(w.stdout_text, '\n'), w.stdout_text + length - 1);
    json *result = json_parse(w.stdout_text);
    ck_assert_msg(result != NULL, "not JSON: %s", w.stdout_text);
    json_assert_keys(result, result_keys);
    ck_assert_str_eq(json_string_of(result, "result"), "done");
    const char *uid = json_string_of(result, "uid");
    ck_assert_int_eq(mcm_uid_is_valid(uid), 1);
    ck_assert(json_number_of(result, "stored") == 4);
    ck_assert(json_number_of(result, "skipped") == 1);
    ck_assert_str_eq(json_string_of(result, "execution_status"), "DONE");
    ck_assert_str_eq(json_string_of(result, "execution_status_info"), "NORMAL");
    ck_assert(json_number_of(result, "pieces") == 3);
    ck_assert_uint_eq(json_array_of(result, "failed")->count, 0);
    ck_assert(json_number_of(result, "status") == 0);
    ck_assert_str_eq(json_string_of(result, "status_category"), "Success");
    ck_assert_str_eq(json_string_of(result, "status_name"), mcm_status_name(0, MCM_OP_N_GET));
    ck_assert_str_eq(json_string_of(result, "error_comment"), "");
    const json *media = json_array_of(result, "media");
    ck_assert_uint_eq(media->count, 1);
    static const char *const media_keys[] = {"fileset_id", "fileset_uid", NULL};
    json_assert_keys(&media->items[0], media_keys);
    ck_assert_str_eq(json_string_of(&media->items[0], "fileset_id"), "TOOLS_JSON");

    /* The same facts through an N-GET of our own. */
    mcm_job *job = library_get(&w, uid);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_DONE);
    ck_assert_uint_eq(mcm_job_pieces(job), 3);
    mcm_storage_media m;
    ck_assert_uint_eq(mcm_job_media_count(job), 1);
    ck_assert_int_eq(mcm_job_media(job, 0, &m), MCM_OK);
    ck_assert_str_eq(json_string_of(&media->items[0], "fileset_uid"), m.fileset_uid);
    ck_assert_uint_eq(mcm_request_reference_count(mcm_job_request(job)), 4);
    mcm_job_free(job);

    /* --get --json of the same request: the Execution Status as result, the same media. */
    char uid_copy[65];
    snprintf(uid_copy, sizeof uid_copy, "%s", uid);
    char fileset_uid[65];
    snprintf(fileset_uid, sizeof fileset_uid, "%s", json_string_of(&media->items[0], "fileset_uid"));
    json_free(result);
    scu_run(&w, "--json --get %s 127.0.0.1 %u", uid_copy, (unsigned)w.port);
    ASSERT_EXIT(&w, 0);
    result = json_parse(w.stdout_text);
    ck_assert_msg(result != NULL, "not JSON: %s", w.stdout_text);
    json_assert_keys(result, result_keys);
    ck_assert_str_eq(json_string_of(result, "result"), "DONE");
    ck_assert_str_eq(json_string_of(result, "uid"), uid_copy);
    ck_assert(json_number_of(result, "stored") == 0);
    ck_assert(json_number_of(result, "pieces") == 3);
    media = json_array_of(result, "media");
    ck_assert_uint_eq(media->count, 1);
    ck_assert_str_eq(json_string_of(&media->items[0], "fileset_uid"), fileset_uid);
    json_free(result);
    world_cleanup(&w);
}
END_TEST

/* --no-store with instances mcmscp never received: FAILURE, exit 1, every instance listed. */
START_TEST(test_failure_missing_instances)
{
    world w;
    world_init(&w, 3);
    scp_start(&w, NULL);
    scu_run(&w, "--no-store 127.0.0.1 %u '%s'", (unsigned)w.port, w.study);
    ASSERT_EXIT(&w, 1);
    ASSERT_STDOUT_HAS(&w, "execution status:      FAILURE\n");
    ASSERT_STDOUT_HAS(&w, "execution status info: NO_INSTANCE\n");
    ASSERT_STDOUT_HAS(&w, "pieces of media:       0\n");
    for (size_t i = 0; i < w.count; i++) {
        char line[200];
        snprintf(line, sizeof line, "failed instance:       %s (class ", w.uids[i]);
        ASSERT_STDOUT_HAS(&w, line);
    }
    ASSERT_STDOUT_HAS(&w, "reason 0x0112");
    char uid[65];
    request_uid(&w, uid);
    char path[8400];
    snprintf(path, sizeof path, "%s/%s", w.output, uid);
    ck_assert_msg(!file_exists(path), "a failed request left %s", path); /* never partial media */

    /* The same with --json: the Failed SOP Sequence item by item. */
    scu_run(&w, "--json --no-store 127.0.0.1 %u '%s'", (unsigned)w.port, w.study);
    ASSERT_EXIT(&w, 1);
    json *result = json_parse(w.stdout_text);
    ck_assert_msg(result != NULL, "not JSON: %s", w.stdout_text);
    json_assert_keys(result, result_keys);
    ck_assert_str_eq(json_string_of(result, "result"), "failure");
    ck_assert_str_eq(json_string_of(result, "execution_status"), "FAILURE");
    ck_assert_str_eq(json_string_of(result, "execution_status_info"), "NO_INSTANCE");
    ck_assert(json_number_of(result, "stored") == 0);
    ck_assert(json_number_of(result, "pieces") == 0);
    ck_assert_uint_eq(json_array_of(result, "media")->count, 0);
    const json *failed = json_array_of(result, "failed");
    ck_assert_uint_eq(failed->count, w.count);
    static const char *const failed_keys[] = {"sop_class_uid", "sop_instance_uid", "failure_reason",
                                              "failure_attributes", NULL};
    for (size_t i = 0; i < failed->count; i++) {
        const json *item = &failed->items[i];
        json_assert_keys(item, failed_keys);
        ck_assert(json_number_of(item, "failure_reason") == MCM_FAILURE_NO_SUCH_INSTANCE);
        const char *sop_class = json_string_of(item, "sop_class_uid");
        ck_assert(strcmp(sop_class, MCM_TEST_CT_IMAGE) == 0 || strcmp(sop_class, MCM_TEST_MR_IMAGE) == 0);
        int matched = 0;
        for (size_t k = 0; k < w.count; k++)
            matched += strcmp(json_string_of(item, "sop_instance_uid"), w.uids[k]) == 0;
        ck_assert_int_eq(matched, 1);
        ck_assert_int_eq(json_array_of(item, "failure_attributes")->type, JSON_ARRAY);
    }
    json_free(result);
    world_cleanup(&w);
}
END_TEST

START_TEST(test_cancel)
{
    world w;
    world_init(&w, 2);
    scp_start(&w, "--image-command", hold_command(&w), NULL);
    /* --no-wait: the UID alone on standard output. */
    scu_run(&w, "--no-wait 127.0.0.1 %u '%s'", (unsigned)w.port, w.study);
    ASSERT_EXIT(&w, 0);
    char uid[65];
    ck_assert_int_eq(sscanf(w.stdout_text, "%64s", uid), 1);
    ck_assert_int_eq(mcm_uid_is_valid(uid), 1);
    wait_held(&w);
    scu_run(&w, "--get %s 127.0.0.1 %u", uid, (unsigned)w.port);
    ASSERT_EXIT(&w, 0);
    ASSERT_STDOUT_HAS(&w, "execution status:      CREATING\n");

    scu_run(&w, "--cancel %s 127.0.0.1 %u", uid, (unsigned)w.port);
    ASSERT_EXIT(&w, 0);
    char line[200];
    snprintf(line, sizeof line, "request %s cancelled\n", uid);
    ck_assert_str_eq(w.stdout_text, line);
    /* Cancelled means deleted: N-GET answers 0112, which mcmscu reports as a refusal. */
    scu_run(&w, "--get %s 127.0.0.1 %u", uid, (unsigned)w.port);
    ASSERT_EXIT(&w, 2);
    ASSERT_STDERR_HAS(&w, "0x0112");
    scu_run(&w, "--json --cancel %s 127.0.0.1 %u", uid, (unsigned)w.port);
    ASSERT_EXIT(&w, 2);
    json *result = json_parse(w.stdout_text);
    ck_assert_msg(result != NULL, "not JSON: %s", w.stdout_text);
    ck_assert_str_eq(json_string_of(result, "result"), "refused");
    ck_assert(json_number_of(result, "status") == MCM_STATUS_NO_SUCH_SOP_INSTANCE);
    json_free(result);

    /* The held image goes on, finds the job cancelled, and leaves nothing; then a clean stop. */
    release_hold(&w);
    ck_assert_int_eq(scp_signal(&w, SIGTERM), 0);
    char path[8400];
    snprintf(path, sizeof path, "%s/%s", w.output, uid);
    ck_assert_msg(!file_exists(path), "a cancelled request left %s", path);
    char *log = read_file(w.log);
    ck_assert_ptr_nonnull(log);
    ck_assert_ptr_nonnull(strstr(log, "N-ACTION Cancel"));
    free(log);
    world_cleanup(&w);
}
END_TEST

/* ---- every exit code of mcmscu --------------------------------------------------------------------- */

/* 2: a refused N-CREATE (--strict and a File-set ID a DICOMDIR cannot take), status printed. */
START_TEST(test_exit_refused)
{
    world w;
    world_init(&w, 1);
    scp_start(&w, "--strict", NULL);
    scu_run(&w, "--fileset-id 'my disc' 127.0.0.1 %u '%s'", (unsigned)w.port, w.study);
    ASSERT_EXIT(&w, 2);
    ASSERT_STDERR_HAS(&w, "N-CREATE: 0x0106");
    ck_assert_str_eq(w.stdout_text, "");
    scu_run(&w, "--json --fileset-id 'my disc' 127.0.0.1 %u '%s'", (unsigned)w.port, w.study);
    ASSERT_EXIT(&w, 2);
    json *result = json_parse(w.stdout_text);
    ck_assert_msg(result != NULL, "not JSON: %s", w.stdout_text);
    static const char *const keys[] = {"result",          "uid",         "stored",        "skipped", "status",
                                       "status_category", "status_name", "error_comment", "error",   NULL};
    json_assert_keys(result, keys);
    ck_assert_str_eq(json_string_of(result, "result"), "refused");
    ck_assert_int_eq(json_get(result, "uid")->type, JSON_NULL);
    ck_assert(json_number_of(result, "status") == MCM_STATUS_INVALID_ATTRIBUTE_VALUE);
    ck_assert_str_eq(json_string_of(result, "status_category"), "Failure");
    ck_assert_str_eq(json_string_of(result, "status_name"),
                     mcm_status_name(MCM_STATUS_INVALID_ATTRIBUTE_VALUE, MCM_OP_N_CREATE));
    ck_assert(json_number_of(result, "stored") == 1);
    ck_assert_str_eq(json_string_of(result, "error"), "N-CREATE");
    json_free(result);
    /* Without --strict the same request is accepted (the ID made fit, digest A8). */
    ck_assert_int_eq(scp_signal(&w, SIGTERM), 0);
    scp_start(&w, NULL);
    scu_run(&w, "--fileset-id 'my disc' 127.0.0.1 %u '%s'", (unsigned)w.port, w.study);
    ASSERT_EXIT(&w, 0);
    ASSERT_STDOUT_HAS(&w, "file-set MY_DISC, UID ");
    world_cleanup(&w);
}
END_TEST

/* 3: nothing listens on the port. */
START_TEST(test_exit_network)
{
    world w;
    world_init(&w, 1);
    uint16_t port = mcm_test_free_port();
    scu_run(&w, "127.0.0.1 %u '%s'", (unsigned)port, w.study);
    ASSERT_EXIT(&w, 3);
    ASSERT_STDERR_HAS(&w, "cannot connect");
    scu_run(&w, "--json --get 1.2.3 127.0.0.1 %u", (unsigned)port);
    ASSERT_EXIT(&w, 3);
    json *result = json_parse(w.stdout_text);
    ck_assert_msg(result != NULL, "not JSON: %s", w.stdout_text);
    ck_assert_str_eq(json_string_of(result, "result"), "network-error");
    ck_assert_ptr_nonnull(strstr(json_string_of(result, "error"), "cannot associate"));
    json_free(result);
    world_cleanup(&w);
}
END_TEST

/* 4: --timeout while the request never finishes (held in CREATING). */
START_TEST(test_exit_timeout)
{
    world w;
    world_init(&w, 1);
    scp_start(&w, "--image-command", hold_command(&w), NULL);
    scu_run(&w, "--timeout 1 127.0.0.1 %u '%s'", (unsigned)w.port, w.study);
    ASSERT_EXIT(&w, 4);
    ASSERT_STDERR_HAS(&w, "waiting for the request: timeout");
    scu_run(&w, "--json --timeout 1 127.0.0.1 %u '%s'", (unsigned)w.port, w.study);
    ASSERT_EXIT(&w, 4);
    json *result = json_parse(w.stdout_text);
    ck_assert_msg(result != NULL, "not JSON: %s", w.stdout_text);
    ck_assert_str_eq(json_string_of(result, "result"), "timeout");
    ck_assert_int_eq(mcm_uid_is_valid(json_string_of(result, "uid")), 1); /* to --get it later */
    json_free(result);
    release_hold(&w);
    ck_assert_int_eq(scp_signal(&w, SIGTERM), 0);
    world_cleanup(&w);
}
END_TEST

/* 5: no DICOM file among the paths; a path that does not exist; an empty directory. */
START_TEST(test_exit_local)
{
    world w;
    world_init(&w, 0);
    scu_run(&w, "127.0.0.1 %u '%s'", (unsigned)mcm_test_free_port(), w.study);
    ASSERT_EXIT(&w, 5);
    ASSERT_STDERR_HAS(&w, "no DICOM files found");
    scu_run(&w, "127.0.0.1 %u '%s/none'", (unsigned)mcm_test_free_port(), w.dir);
    ASSERT_EXIT(&w, 5);
    ASSERT_STDERR_HAS(&w, "cannot read");
    /* An empty directory: nothing to send (and under UBSan, no qsort of a NULL array). */
    char empty[4200];
    snprintf(empty, sizeof empty, "%s/empty", w.dir);
    ck_assert_int_eq(mkdir(empty, 0755), 0);
    scu_run(&w, "127.0.0.1 %u '%s'", (unsigned)mcm_test_free_port(), empty);
    ASSERT_EXIT(&w, 5);
    ASSERT_STDERR_HAS(&w, "no DICOM files found in the 1 path given");
    world_cleanup(&w);
}
END_TEST

/* 64: bad command lines, refused before anything is read or sent. */
START_TEST(test_exit_usage)
{
    world w;
    world_init(&w, 1);
    static const char *const bad[] = {
        "",                                 /* nothing */
        "127.0.0.1",                        /* no port */
        "127.0.0.1 11112",                  /* no files */
        "127.0.0.1 0 study",                /* port 0 */
        "127.0.0.1 http study",             /* port not a number */
        "--copies 0 127.0.0.1 11112 study", /* copies out of range */
        "--priority URGENT 127.0.0.1 11112 study",
        "--label-info MAYBE 127.0.0.1 11112 study",
        "--non-dicom MAYBE 127.0.0.1 11112 study", /* not a defined term: refused before connecting */
        "--no-such-option 127.0.0.1 11112 study",
        "-x 127.0.0.1 11112 study",         /* unknown single-dash option */
        "--json=yes 127.0.0.1 11112 study", /* a flag with a value */
        "--timeout",                        /* a value missing */
        "--get 1.2.3 --cancel 1.2.3 127.0.0.1 11112",
        "--get not-a-uid 127.0.0.1 11112",
        "--get 1.2.3 127.0.0.1 11112 study",            /* --get takes no files */
        "-aet ABCDEFGHIJKLMNOPQ 127.0.0.1 11112 study", /* AE title longer than 16 */
    };
    char cwd[4200];
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
    ck_assert_int_eq(chdir(w.dir), 0); /* "study" is the world's study */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        scu_run(&w, "%s", bad[i]);
        ck_assert_msg(w.last_exit == 64, "mcmscu %s: exit %d (%s)", bad[i], w.last_exit, w.stderr_text);
        ck_assert_msg(w.stderr_text[0] != '\0', "mcmscu %s: no message", bad[i]);
        ck_assert_msg(w.stdout_text[0] == '\0', "mcmscu %s: wrote to stdout", bad[i]);
    }
    ck_assert_int_eq(chdir(cwd), 0);
    world_cleanup(&w);
}
END_TEST

/* mcmscp's own exit codes: 64 bad usage, 3 port in use, 5 local. */
START_TEST(test_mcmscp_exit_codes)
{
    world w;
    world_init(&w, 0);
    const char *binary = mcm_test_build_path("mcmscp");
    ck_assert_int_eq(mcm_test_system("'%s' --output o --db d 0 >/dev/null 2>&1", binary), 64); /* no --storage */
    ck_assert_int_eq(mcm_test_system("cd '%s' && '%s' --storage s --output o --db d --profile STD-GEN-DVD-RAM 0 "
                                     ">/dev/null 2>&1",
                                     w.dir, binary),
                     64); /* not supported */
    ck_assert_int_eq(mcm_test_system("cd '%s' && '%s' --storage s --output o --db d --capacity 4.7X 0 >/dev/null 2>&1",
                                     w.dir, binary),
                     64);
    ck_assert_int_eq(mcm_test_system("cd '%s' && '%s' --storage s --output o --db d --retention-done 7y 0 "
                                     ">/dev/null 2>&1",
                                     w.dir, binary),
                     64);
    ck_assert_int_eq(mcm_test_system("cd '%s' && '%s' --storage s --output o --db d --viewer nowhere 0 >/dev/null 2>&1",
                                     w.dir, binary),
                     64);
    ck_assert_int_eq(
        mcm_test_system("cd '%s' && '%s' --storage s --output o --db no/such/dir/d 0 >/dev/null 2>&1", w.dir, binary),
        5);
    /* The port of a running mcmscp. */
    scp_start(&w, NULL);
    ck_assert_int_eq(mcm_test_system("cd '%s' && '%s' --bind 127.0.0.1 --storage s --output o --db d %u >/dev/null "
                                     "2>&1",
                                     w.dir, binary, (unsigned)w.port),
                     3);
    ck_assert_int_eq(scp_signal(&w, SIGINT), 0); /* SIGINT as SIGTERM */
    world_cleanup(&w);
}
END_TEST

/* SIGTERM while a job is being written: mcmscp waits for the image in flight, exits 0, and the job
 * is DONE or PENDING; started again on the same database, it finishes the job. */
START_TEST(test_sigterm_in_flight)
{
    world w;
    world_init(&w, 2);
    scp_start(&w, "--image-command", hold_command(&w), NULL);
    scu_run(&w, "--no-wait 127.0.0.1 %u '%s'", (unsigned)w.port, w.study);
    ASSERT_EXIT(&w, 0);
    char uid[65];
    ck_assert_int_eq(sscanf(w.stdout_text, "%64s", uid), 1);
    wait_held(&w);
    ck_assert_int_eq(kill(w.scp_pid, SIGTERM), 0);
    /* mcmscp cannot finish while the image is held; it must not be killed for it either. */
    int status;
    ck_assert_int_eq(waitpid(w.scp_pid, &status, WNOHANG), 0);
    release_hold(&w);
    ck_assert_int_eq(waitpid(w.scp_pid, &status, 0), w.scp_pid);
    w.scp_pid = -1;
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "mcmscp wait status %d", status);

    scp_start(&w, NULL);
    scu_run(&w, "--get %s 127.0.0.1 %u", uid, (unsigned)w.port);
    ASSERT_EXIT(&w, 0);
    ck_assert_msg(strstr(w.stdout_text, "DONE") || strstr(w.stdout_text, "PENDING") ||
                      strstr(w.stdout_text, "CREATING"),
                  "%s", w.stdout_text);
    int done = 0;
    for (int i = 0; i < 3000 && !done; i++) { /* bounded, not a timing assertion */
        scu_run(&w, "--get %s 127.0.0.1 %u", uid, (unsigned)w.port);
        ASSERT_EXIT(&w, 0);
        done = strstr(w.stdout_text, "execution status:      DONE") != NULL;
        if (!done)
            sleep_ms(20);
    }
    ck_assert_msg(done, "%s", w.stdout_text);
    char path[8400];
    snprintf(path, sizeof path, "%s/%s/VOL001.iso", w.output, uid);
    ck_assert(file_exists(path));
    ck_assert_int_eq(scp_signal(&w, SIGTERM), 0);
    world_cleanup(&w);
}
END_TEST

/* ---- against DCMTK's tools ------------------------------------------------------------------------ */

START_TEST(test_echoscu_against_mcmscp)
{
    world w;
    world_init(&w, 0);
    scp_start(&w, "-aet", "MCMSCP", "--allow", "ECHOSCU", "--allow", "MCMSCU", NULL);
    ck_assert_int_eq(mcm_test_system("echoscu -aet ECHOSCU -aec MCMSCP 127.0.0.1 %u 2>&1", (unsigned)w.port), 0);
    /* Not on the allow-list, or addressed to another AE title: rejected. */
    ck_assert_int_ne(
        mcm_test_system("echoscu -aet STRANGER -aec MCMSCP 127.0.0.1 %u >/dev/null 2>&1", (unsigned)w.port), 0);
    ck_assert_int_ne(mcm_test_system("echoscu -aet ECHOSCU -aec OTHER 127.0.0.1 %u >/dev/null 2>&1", (unsigned)w.port),
                     0);
    ck_assert_int_eq(scp_signal(&w, SIGTERM), 0);
    world_cleanup(&w);
}
END_TEST

/* mcmscu against DCMTK's storescp, which accepts storage but not Media Creation Management:
 * refused before any instance is sent, with a message that says why. */
START_TEST(test_mcmscu_against_storescp)
{
    world w;
    world_init(&w, 2);
    char received[4200];
    snprintf(received, sizeof received, "%s/storescp", w.dir);
    ck_assert_int_eq(mkdir(received, 0755), 0);
    uint16_t port = mcm_test_free_port();
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%u", (unsigned)port);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execlp("storescp", "storescp", "--output-directory", received, port_text, (char *)NULL);
        _exit(127);
    }
    int up = 0;
    for (int i = 0; i < 3000 && !up; i++) {
        up = mcm_test_system("echoscu 127.0.0.1 %u >/dev/null 2>&1", (unsigned)port) == 0;
        if (!up)
            sleep_ms(10);
    }
    ck_assert_msg(up, "storescp did not start");

    scu_run(&w, "127.0.0.1 %u '%s'", (unsigned)port, w.study);
    ASSERT_EXIT(&w, 2);
    ASSERT_STDERR_HAS(&w, "does not accept Media Creation Management");
    ASSERT_STDERR_HAS(&w, "nothing was sent");
    scu_run(&w, "--json 127.0.0.1 %u '%s'", (unsigned)port, w.study);
    ASSERT_EXIT(&w, 2);
    json *result = json_parse(w.stdout_text);
    ck_assert_msg(result != NULL, "not JSON: %s", w.stdout_text);
    ck_assert_str_eq(json_string_of(result, "result"), "refused");
    ck_assert(json_number_of(result, "stored") == 0);
    json_free(result);
    char *listing = mcm_test_capture("ls -A '%s'", received);
    ck_assert_ptr_nonnull(listing);
    ck_assert_msg(listing[0] == '\0', "storescp received: %s", listing);
    free(listing);

    /* mcm_scu_has_context, which mcmscu relies on: storescp accepts CT storage only. */
    mcm_scu_options opts;
    ck_assert_int_eq(mcm_scu_options_init(&opts, MCM_SCU_OPTIONS_VERSION), MCM_OK);
    opts.peer_host = "127.0.0.1";
    opts.peer_port = port;
    const char *sop_classes[] = {MCM_TEST_CT_IMAGE};
    opts.store_sop_classes = sop_classes;
    opts.store_sop_class_count = 1;
    mcm_scu *scu = NULL;
    ck_assert_int_eq(mcm_scu_connect(&scu, &opts), MCM_OK);
    ck_assert_int_eq(mcm_scu_has_context(scu, MCM_SOP_CLASS_UID), 0);
    ck_assert_int_eq(mcm_scu_has_context(scu, MCM_TEST_CT_IMAGE), 1);
    ck_assert_int_eq(mcm_scu_has_context(scu, MCM_TEST_MR_IMAGE), 0); /* not proposed */
    ck_assert_int_eq(mcm_scu_has_context(scu, NULL), 0);
    ck_assert_int_eq(mcm_scu_release(scu), MCM_OK);
    ck_assert_int_eq(mcm_scu_has_context(scu, MCM_TEST_CT_IMAGE), 0); /* closed */
    mcm_scu_free(scu);
    ck_assert_int_eq(mcm_scu_has_context(NULL, MCM_SOP_CLASS_UID), 0);

    kill(pid, SIGTERM);
    int status;
    waitpid(pid, &status, 0);
    world_cleanup(&w);
}
END_TEST

Suite *mcm_suite_tools(void)
{
    Suite *s = suite_create("tools");
    TCase *basics = tcase_create("basics");
    tcase_add_test(basics, test_json_reader);
    tcase_add_test(basics, test_help_and_version);
    tcase_add_test(basics, test_exit_usage);
    tcase_add_test(basics, test_exit_local);
    tcase_set_timeout(basics, 60);
    suite_add_tcase(s, basics);
    TCase *together = tcase_create("mcmscu with mcmscp");
    tcase_add_test(together, test_workflow_done);
    tcase_add_test(together, test_utf8_text_options);
    tcase_add_test(together, test_json_done);
    tcase_add_test(together, test_failure_missing_instances);
    tcase_add_test(together, test_cancel);
    tcase_add_test(together, test_exit_refused);
    tcase_add_test(together, test_exit_network);
    tcase_add_test(together, test_exit_timeout);
    tcase_add_test(together, test_mcmscp_exit_codes);
    tcase_add_test(together, test_sigterm_in_flight);
    tcase_set_timeout(together, 180);
    suite_add_tcase(s, together);
    TCase *dcmtk = tcase_create("DCMTK tools");
    tcase_add_test(dcmtk, test_echoscu_against_mcmscp);
    tcase_add_test(dcmtk, test_mcmscu_against_storescp);
    tcase_set_timeout(dcmtk, 120);
    suite_add_tcase(s, dcmtk);
    return s;
}
