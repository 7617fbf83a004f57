/*
 * tests/tools/suite_tool_options.c: the command-line parser of mcmscu and mcmscp (issue 8), run as
 * a user runs them: the built binaries in MCM_BUILD_DIR, each message checked line for line.
 *
 * Unknown options (abbreviations, the other number of dashes, bundled letters, -aet=VALUE) and
 * missing values give one line and exit 64; --name=value and --name value are the same value; a
 * value that looks like an option is still the value; DCMTK's -aet/-aec and mcmscp's
 * -aet/--aetitle/--allow proven by what they do: mcmscp answers with the AE title it was given,
 * and admits mcmscu only under the calling and called titles the options said, with options
 * before, after and among the positional arguments and after "--".
 *
 * build-aux/check-tool-options.sh (make check-tools) holds every option of --help to the parser
 * and the man page; this suite checks what a user sees.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct run_result {
    int exit_code;
    char out[8192], err[8192];
} run_result;

/* The start of a file's content in buffer; "" if the file is not there (yet). */
static void read_into(const char *path, char *buffer, size_t size)
{
    buffer[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return;
    size_t n = fread(buffer, 1, size - 1, f);
    buffer[n] = '\0';
    fclose(f);
}

/* Run TOOL with ARGS (a shell fragment) in directory dir; keeps exit code, stdout, stderr. */
static void run_tool(run_result *r, const char *dir, const char *tool, const char *fmt, ...)
{
    char args[4096], out[4200], err[4200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(err, sizeof err, "%s/err", dir);
    r->exit_code = mcm_test_system("cd '%s' && '%s' %s > '%s' 2> '%s' < /dev/null", dir, mcm_test_build_path(tool),
                                   args, out, err);
    read_into(out, r->out, sizeof r->out);
    read_into(err, r->err, sizeof r->err);
}

/* The tool refused the command line: exit 64, nothing on stdout, exactly `line` on stderr. */
static void assert_refused(const char *dir, const char *tool, const char *args, const char *line)
{
    run_result r;
    run_tool(&r, dir, tool, "%s", args);
    ck_assert_msg(r.exit_code == 64, "%s %s: exit %d, not 64 (%s)", tool, args, r.exit_code, r.err);
    ck_assert_msg(r.out[0] == '\0', "%s %s: wrote to stdout: %s", tool, args, r.out);
    char expected[1024];
    snprintf(expected, sizeof expected, "%s: %s (try --help)\n", tool, line);
    ck_assert_msg(strcmp(r.err, expected) == 0, "%s %s:\n  stderr   %s  expected %s", tool, args, r.err, expected);
}

START_TEST(test_unknown_options)
{
    char *dir = mcm_test_tempdir();
    static const struct {
        const char *tool, *args, *line;
    } cases[] = {
        {"mcmscu", "--no-such-option 127.0.0.1 11112 study", "unknown option --no-such-option"},
        {"mcmscu", "-x 127.0.0.1 11112 study", "unknown option -x"},
        /* getopt_long_only would take each of these for an option; the tools never did. */
        {"mcmscu", "--lab X 127.0.0.1 11112 study", "unknown option --lab"},     /* abbreviation */
        {"mcmscu", "--verb 127.0.0.1 11112 study", "unknown option --verb"},     /* abbreviation */
        {"mcmscu", "-ae X 127.0.0.1 11112 study", "unknown option -ae"},         /* -aet or -aec? neither */
        {"mcmscu", "--aet X 127.0.0.1 11112 study", "unknown option --aet"},     /* DCMTK's one dash only */
        {"mcmscu", "-label X 127.0.0.1 11112 study", "unknown option -label"},   /* GNU's two dashes only */
        {"mcmscu", "--v 127.0.0.1 11112 study", "unknown option --v"},           /* -v has one dash */
        {"mcmscu", "-vd 127.0.0.1 11112 study", "unknown option -vd"},           /* letters are not bundled */
        {"mcmscu", "-aet=WS1 127.0.0.1 11112 study", "unknown option -aet=WS1"}, /* = only after -- names */
        {"mcmscu", "127.0.0.1 11112 study --bogus", "unknown option --bogus"},   /* after the positionals */
        {"mcmscu", "--json=yes 127.0.0.1 11112 study", "option --json takes no value"},
        {"mcmscu", "--help=1", "option --help takes no value"},
        {"mcmscp", "--no-such-option", "unknown option --no-such-option"},
        {"mcmscp", "--stor s --output o --db d 0", "unknown option --stor"},
        {"mcmscp", "-storage s --output o --db d 0", "unknown option -storage"},
        {"mcmscp", "--aet PUB --storage s --output o --db d 0", "unknown option --aet"},
        {"mcmscp", "-qv --storage s --output o --db d 0", "unknown option -qv"},
        {"mcmscp", "-aet=PUB --storage s --output o --db d 0", "unknown option -aet=PUB"},
        {"mcmscp", "--strict=1 --storage s --output o --db d 0", "--strict takes no value"},
        {"mcmscp", "0 1", "unexpected argument \"1\""},
        {"mcmscp", "-- --help", "the port must be a number from 0 to 65535, not \"--help\""}, /* after --: positional */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_refused(dir, cases[i].tool, cases[i].args, cases[i].line);
    mcm_test_rmtree(dir);
    free(dir);
}
END_TEST

START_TEST(test_missing_and_odd_values)
{
    char *dir = mcm_test_tempdir();
    static const struct {
        const char *tool, *args, *line;
    } cases[] = {
        {"mcmscu", "127.0.0.1 11112 study --label", "option --label needs a value"},
        {"mcmscu", "127.0.0.1 11112 study -aet", "option -aet needs a value"},
        {"mcmscu", "--timeout", "option --timeout needs a value"},
        {"mcmscp", "--storage s --output o --db", "--db needs a value"},
        {"mcmscp", "-aet", "-aet needs a value"},
        /* The argument after a value option is its value, whatever it looks like. */
        {"mcmscu", "--copies --json 127.0.0.1 11112 study", "--copies takes a number from 1 to 9999, not \"--json\""},
        {"mcmscu", "--copies -- 127.0.0.1 11112 study", "--copies takes a number from 1 to 9999, not \"--\""},
        {"mcmscp", "--workers -v", "--workers takes 1 to 64, not \"-v\""},
        /* --name=value and --name value: the same value; --name= is an empty value, not a missing one. */
        {"mcmscu", "--priority=URGENT 127.0.0.1 11112 study", "--priority takes HIGH, MED or LOW, not \"URGENT\""},
        {"mcmscu", "--priority URGENT 127.0.0.1 11112 study", "--priority takes HIGH, MED or LOW, not \"URGENT\""},
        {"mcmscu", "--copies= 127.0.0.1 11112 study", "--copies takes a number from 1 to 9999, not \"\""},
        {"mcmscu", "--label=a=b --copies=1=2 127.0.0.1 11112 study",
         "--copies takes a number from 1 to 9999, not \"1=2\""},
        {"mcmscp", "--capacity=4.7X", "--capacity takes a size such as 650M, 4.7G or 700Mi, not \"4.7X\""},
        {"mcmscp", "--capacity 4.7X", "--capacity takes a size such as 650M, 4.7G or 700Mi, not \"4.7X\""},
        /* Options are taken in order: the first bad one is the one named. */
        {"mcmscp", "--workers=0 --label-dpi=1", "--workers takes 1 to 64, not \"0\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_refused(dir, cases[i].tool, cases[i].args, cases[i].line);
    /* --help ends the parse where it stands: after a bad option it is too late, before it in time. */
    run_result r;
    run_tool(&r, dir, "mcmscu", "--help --copies 0");
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_int_eq(strncmp(r.out, "usage: mcmscu ", 14), 0);
    assert_refused(dir, "mcmscu", "--copies 0 --help", "--copies takes a number from 1 to 9999, not \"0\"");
    mcm_test_rmtree(dir);
    free(dir);
}
END_TEST

/* ---- the options doing their job: mcmscu against mcmscp ---------------------------------------- */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Start mcmscp with argv (NULL-terminated; its last argument the port, 0), wait for its listening
 * line, and return its pid; the line in line (size bytes). */
static pid_t start_scp(const char *dir, const char *const *argv, char *line, size_t size)
{
    char line_path[4200], log_path[4200];
    snprintf(line_path, sizeof line_path, "%s/listening", dir);
    snprintf(log_path, sizeof log_path, "%s/mcmscp.log", dir);
    const char *binary = mcm_test_build_path("mcmscp");
    unlink(line_path); /* an earlier mcmscp's line is not this one's */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
        int out = open(line_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (out < 0 || err < 0)
            _exit(126);
        dup2(out, 1);
        dup2(err, 2);
        execv(binary, (char *const *)argv);
        _exit(127);
    }
    /* Bounded for a broken build (60 s), not a timing assertion. */
    for (int i = 0; i < 6000; i++) {
        read_into(line_path, line, size);
        if (strchr(line, '\n') != NULL)
            return pid;
        int status;
        ck_assert_msg(waitpid(pid, &status, WNOHANG) == 0, "mcmscp exited early (see %s)", log_path);
        sleep_ms(10);
    }
    ck_abort_msg("mcmscp printed no listening line");
    return -1;
}

static int stop_scp(pid_t pid)
{
    int status = 0;
    ck_assert_int_eq(kill(pid, SIGTERM), 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

START_TEST(test_ae_titles_do_their_job)
{
    char *dir = mcm_test_tempdir();
    char storage[4200], output[4200], database[4200], line[512];
    snprintf(storage, sizeof storage, "--storage=%s/instances", dir); /* both value forms on one line */
    snprintf(output, sizeof output, "%s/media", dir);
    snprintf(database, sizeof database, "--db=%s/jobs.sqlite", dir);
    const char *argv[] = {"mcmscp", "--bind", "127.0.0.1", storage, "--output",    output, database,
                          "-aet",   "PUB",    "--allow",   "WS1",   "--allow=WS2", "0",    NULL};
    pid_t pid = start_scp(dir, argv, line, sizeof line);
    unsigned port = 0;
    ck_assert_msg(sscanf(line, "mcmscp: listening on 127.0.0.1 port %u as PUB\n", &port) == 1 && port > 0,
                  "listening line: %s", line);

    /* An association mcmscp admits gets as far as the N-GET of a request it does not have: 2
     * (refused, 0112H). One it rejects is 3 (network or association error). */
    static const struct {
        const char *args; /* %u: the port */
        int exit_code;
    } cases[] = {
        {"-aet WS1 -aec PUB --get 1.2.3 127.0.0.1 %u", 2},
        {"-aet WS2 -aec PUB --get 1.2.3 127.0.0.1 %u", 2},          /* the second --allow adds to the first */
        {"127.0.0.1 %u --get 1.2.3 -aet WS1 -aec PUB", 2},          /* options after the positionals */
        {"127.0.0.1 -aet WS1 %u -aec PUB --get 1.2.3", 2},          /* and among them */
        {"-aet WS1 -aec PUB --get=1.2.3 -- 127.0.0.1 %u", 2},       /* after -- */
        {"-aet WS3 -aec PUB --get 1.2.3 127.0.0.1 %u", 3},          /* a calling title not allowed */
        {"-aet WS1 --get 1.2.3 127.0.0.1 %u", 3},                   /* the default called title, MCMSCP */
        {"-aet WS1 -aec OTHER --get 1.2.3 127.0.0.1 %u", 3},        /* another called title */
        {"-aet WS1 -aec PUB -aet WS3 --get 1.2.3 127.0.0.1 %u", 3}, /* the last -aet wins */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char args[256];
        snprintf(args, sizeof args, cases[i].args, port);
        run_result r;
        run_tool(&r, dir, "mcmscu", "%s", args);
        ck_assert_msg(r.exit_code == cases[i].exit_code, "mcmscu %s: exit %d, not %d (%s)", args, r.exit_code,
                      cases[i].exit_code, r.err);
        ck_assert_ptr_nonnull(strstr(r.err, cases[i].exit_code == 2 ? "0x0112" : "rejected the association"));
    }
    ck_assert_int_eq(stop_scp(pid), 0);

    /* --aetitle is -aet's other spelling. */
    const char *argv2[] = {"mcmscp", "--bind",    "127.0.0.1", storage, "--output", output,
                           database, "--aetitle", "OTHERPUB",  "0",     NULL};
    pid = start_scp(dir, argv2, line, sizeof line);
    ck_assert_msg(sscanf(line, "mcmscp: listening on 127.0.0.1 port %u as OTHERPUB\n", &port) == 1 && port > 0,
                  "listening line: %s", line);
    ck_assert_int_eq(stop_scp(pid), 0);
    mcm_test_rmtree(dir);
    free(dir);
}
END_TEST

Suite *mcm_suite_tool_options(void)
{
    Suite *s = suite_create("tool_options");
    TCase *parser = tcase_create("parser");
    tcase_add_test(parser, test_unknown_options);
    tcase_add_test(parser, test_missing_and_odd_values);
    tcase_set_timeout(parser, 60);
    suite_add_tcase(s, parser);
    TCase *together = tcase_create("options at work");
    tcase_add_test(together, test_ae_titles_do_their_job);
    tcase_set_timeout(together, 120);
    suite_add_tcase(s, together);
    return s;
}
