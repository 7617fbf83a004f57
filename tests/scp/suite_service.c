/*
 * tests/scp/suite_service.c: the SCP's answers without the network (lib/scp/service.c): options, admission,
 * C-ECHO, C-STORE file naming, N-CREATE, N-ACTION, N-GET selection, authorisation, queue limit,
 * retention, concurrency. Real job store in a scratch directory, real DICOM files through
 * store_begin/store_finish. Every failure's Error Comment and offending tags are asserted.
 */
#include <check.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <sqlite3.h>

#include "service_fixture.h"

#include "core/job_internal.h"
#include "core/request_internal.h"
#include "scp/store.h"
#include "core/vr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TAG_AFFECTED_SOP_INSTANCE_UID MCM_TAG(0x0000, 0x1000)
#define TAG_REQUESTED_SOP_INSTANCE_UID MCM_TAG(0x0000, 0x1001)
#define TAG_ACTION_TYPE_ID MCM_TAG(0x0000, 0x1008)

static mcm_fx fx;

static void setup(void)
{
    mcm_fx_setup(&fx);
    mcm_fx_open(&fx);
}

static void setup_closed(void)
{
    mcm_fx_setup(&fx);
}

static void teardown(void)
{
    mcm_fx_teardown(&fx);
}

static int has_tag(const uint32_t *tags, size_t count, uint32_t tag)
{
    for (size_t i = 0; i < count; i++)
        if (tags[i] == tag)
            return 1;
    return 0;
}

#define ck_assert_comment(rsp)                                                                                         \
    do {                                                                                                               \
        ck_assert_msg((rsp).error_comment[0] != '\0', "status 0x%04X without Error Comment", (rsp).status);            \
        ck_assert_uint_le(strlen((rsp).error_comment), MCM_COMMENT_MAX);                                               \
    } while (0)

#define ck_assert_offending(rsp, tag)                                                                                  \
    ck_assert_msg(has_tag((rsp).offending_elements, (rsp).offending_element_count, (tag)),                             \
                  "status 0x%04X: Offending Element lacks (%04X,%04X)", (rsp).status, (unsigned)((tag) >> 16),         \
                  (unsigned)((tag)&0xFFFF))

#define ck_assert_identifier(rsp, tag)                                                                                 \
    ck_assert_msg(has_tag((rsp).attribute_identifiers, (rsp).attribute_identifier_count, (tag)),                       \
                  "status 0x%04X: Attribute Identifier List lacks (%04X,%04X)", (rsp).status, (unsigned)((tag) >> 16), \
                  (unsigned)((tag)&0xFFFF))

/* ---- authorise callback ---- */

typedef struct authorise_log {
    mcm_scp_operation refuse; /* the operation refused */
    int refuse_any;           /* refuse only when set */
    int verdict;              /* what a refusal returns; 0 means MCM_AUTHORIZE_REFUSE */
    int calls;
    mcm_scp_operation last_op;
    char last_ae[17];
    mcm_job_state last_state;
    size_t last_references;
    char last_uid[MCM_UID_MAX + 1];
} authorise_log;

static authorise_log auth;

static int authorise(const char *calling_ae, mcm_scp_operation op, const mcm_job *job, void *user)
{
    (void)user;
    auth.calls++;
    auth.last_op = op;
    snprintf(auth.last_ae, sizeof auth.last_ae, "%s", calling_ae);
    auth.last_state = job != NULL ? mcm_job_state_of(job) : MCM_JOB_ABSENT;
    auth.last_references = job != NULL ? mcm_request_reference_count(mcm_job_request(job)) : 0;
    snprintf(auth.last_uid, sizeof auth.last_uid, "%s", job != NULL ? mcm_job_uid(job) : "");
    if (!auth.refuse_any || op != auth.refuse)
        return MCM_AUTHORIZE_ALLOW;
    return auth.verdict != 0 ? auth.verdict : MCM_AUTHORIZE_REFUSE;
}

static void open_with_authorise(mcm_scp_operation refused)
{
    memset(&auth, 0, sizeof auth);
    auth.refuse = refused;
    auth.refuse_any = 1;
    fx.opts.authorize = authorise;
    mcm_fx_reopen(&fx);
}

/* ---- options ---- */

/* Open with one option changed; expect MCM_EINVAL and a message naming what is wrong. */
static void expect_refused(const mcm_scp_options *opts, const char *mentions)
{
    mcm_service *service = (mcm_service *)0x1;
    int rc = mcm_service_open(&service, opts);
    ck_assert_msg(rc == MCM_EINVAL, "expected MCM_EINVAL for \"%s\", got %d", mentions, rc);
    ck_assert_ptr_null(service);
    ck_assert_msg(strstr(mcm_last_error(), mentions) != NULL, "message \"%s\" does not mention \"%s\"",
                  mcm_last_error(), mentions);
}

/* One SCP per job database (another would steal its CREATING jobs at start): a second service on
 * the same database is refused, in this process or another, and the lock goes with its holder. */
START_TEST(one_service_per_database)
{
    mcm_fx_open(&fx);
    mcm_service *second = (mcm_service *)0x1;
    ck_assert_int_eq(mcm_service_open(&second, &fx.opts), MCM_EBUSY);
    ck_assert_ptr_null(second);
    ck_assert_ptr_nonnull(strstr(mcm_last_error(), "in use by another SCP"));
    /* Another process is refused too. */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        mcm_service *other = NULL;
        _exit(mcm_service_open(&other, &fx.opts) == MCM_EBUSY ? 0 : 1);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* Closed, the database is free again; and a holder killed outright frees it as well. */
    mcm_service_close(fx.service);
    fx.service = NULL;
    int ready[2];
    ck_assert_int_eq(pipe(ready), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        mcm_service *holder = NULL;
        char ok = mcm_service_open(&holder, &fx.opts) == MCM_OK ? 'y' : 'n';
        if (write(ready[1], &ok, 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char ok = 0;
    ck_assert_int_eq(read(ready[0], &ok, 1), 1);
    ck_assert_int_eq(ok, 'y');
    ck_assert_int_eq(mcm_service_open(&second, &fx.opts), MCM_EBUSY);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    close(ready[0]);
    close(ready[1]);
    mcm_fx_open(&fx);
}
END_TEST

START_TEST(options_refused_with_clear_errors)
{
    mcm_scp_options o = fx.opts;
    o.storage_dir = NULL;
    expect_refused(&o, "storage_dir");
    o = fx.opts;
    o.storage_dir = "";
    expect_refused(&o, "storage_dir");
    o = fx.opts;
    o.database_path = NULL;
    expect_refused(&o, "database_path");
    o = fx.opts;
    o.write_media = NULL;
    expect_refused(&o, "write_media");
    o = fx.opts;
    o.version = 99;
    expect_refused(&o, "version");
    o.version = 0;
    expect_refused(&o, "version");
    /* AE is the default repertoire (PS3.5 6.2): nothing outside ASCII, as the SCU's options check. */
    const char *bad_titles[] = {"", "SEVENTEEN_CHARS_X", "BACK\\SLASH", "TAB\tTITLE", "    ", "CAF\xC3\x89", "DEL\x7F"};
    for (size_t i = 0; i < sizeof bad_titles / sizeof bad_titles[0]; i++) {
        o = fx.opts;
        o.ae_title = bad_titles[i];
        expect_refused(&o, "ae_title");
    }
    const char *allowed[] = {"GOOD", "\xC3\x89"
                                     "CRAN"};
    o = fx.opts;
    o.allowed_calling_ae_titles = allowed;
    o.allowed_calling_ae_title_count = 2;
    expect_refused(&o, "allowed calling AE title 1");
    o = fx.opts;
    o.allowed_calling_ae_titles = NULL;
    o.allowed_calling_ae_title_count = 1;
    expect_refused(&o, "allowed_calling_ae_titles");
    char long_profile[70];
    memset(long_profile, 'P', 65);
    long_profile[65] = '\0';
    const char *bad_profiles[] = {"", "STD\\GEN", long_profile, "STD-GEN\x01"};
    for (size_t i = 0; i < sizeof bad_profiles / sizeof bad_profiles[0]; i++) {
        o = fx.opts;
        o.default_profile = bad_profiles[i];
        expect_refused(&o, "default_profile");
    }
    o = fx.opts;
    o.max_copies = 0;
    expect_refused(&o, "max_copies");
    o = fx.opts;
    o.max_copies = MCM_MAX_COPIES + 1;
    expect_refused(&o, "max_copies");
    o = fx.opts;
    o.media_workers = 0;
    expect_refused(&o, "media_workers");
    o = fx.opts;
    o.max_associations = 0;
    expect_refused(&o, "max_associations");
    o = fx.opts;
    o.bind_address = "localhost:104";
    expect_refused(&o, "bind_address");
    o = fx.opts;
    o.retention_idle_seconds = -5;
    expect_refused(&o, "retention");
    o = fx.opts;
    o.max_pdu = 100;
    expect_refused(&o, "max_pdu");
    /* 0 is the default, as for the SCU and the timeouts (scp.h). */
    char other_database[4200], other_storage[4200];
    snprintf(other_database, sizeof other_database, "%s/other.sqlite", fx.dir);
    snprintf(other_storage, sizeof other_storage, "%s/other-instances", fx.dir);
    o = fx.opts;
    o.max_pdu = 0;
    o.database_path = other_database;
    o.storage_dir = other_storage;
    mcm_service *with_default_pdu = NULL;
    ck_assert_msg(mcm_service_open(&with_default_pdu, &o) == MCM_OK, "max_pdu 0: %s", mcm_last_error());
    mcm_service_close(with_default_pdu);
    o = fx.opts;
    o.strict = 0x80;
    expect_refused(&o, "strict");
    /* Nothing was created for a refused configuration. */
    struct stat st;
    ck_assert_int_ne(stat(fx.storage_dir, &st), 0);
    ck_assert_int_ne(stat(fx.database_path, &st), 0);
}
END_TEST

START_TEST(options_accepted_and_copied)
{
    char storage[4200];
    snprintf(storage, sizeof storage, "%s/deep/er/instances", fx.dir);
    char title[] = "  MYSCP ";
    char profile[] = "STD-GEN-DVD-JPEG";
    const char *allowed[] = {"ALPHA", "BETA"};
    fx.opts.storage_dir = storage;
    fx.opts.ae_title = title;
    fx.opts.default_profile = profile;
    fx.opts.allowed_calling_ae_titles = allowed;
    fx.opts.allowed_calling_ae_title_count = 2;
    fx.opts.bind_address = "127.0.0.1";
    mcm_fx_open(&fx);
    struct stat st;
    ck_assert_int_eq(stat(storage, &st), 0); /* created, parents included */
    ck_assert(S_ISDIR(st.st_mode));
    ck_assert_int_eq(stat(fx.database_path, &st), 0);
    /* The service keeps its own copies of the strings. */
    memset(title, 'X', sizeof title - 1);
    memset(profile, 'Y', sizeof profile - 1);
    ck_assert_str_eq(mcm_service_ae_title(fx.service), "  MYSCP ");
    const mcm_scp_options *o = mcm_service_options(fx.service);
    ck_assert_str_eq(o->default_profile, "STD-GEN-DVD-JPEG");
    ck_assert_str_eq(o->bind_address, "127.0.0.1");
    ck_assert_uint_eq(o->allowed_calling_ae_title_count, 2);
    ck_assert_str_eq(o->allowed_calling_ae_titles[1], "BETA");
    ck_assert_ptr_ne(o->storage_dir, storage);
    ck_assert_uint_eq(mcm_service_max_associations(fx.service), 16);
}
END_TEST

START_TEST(options_init_matches_macro)
{
    mcm_scp_options from_macro = MCM_SCP_OPTIONS_INIT, from_function;
    memset(&from_function, 0xA5, sizeof from_function);
    ck_assert_int_eq(mcm_scp_options_init(&from_function, MCM_SCP_OPTIONS_VERSION), MCM_OK);
    ck_assert_uint_eq(from_function.version, MCM_SCP_OPTIONS_VERSION);
    ck_assert_str_eq(from_function.ae_title, from_macro.ae_title);
    ck_assert_str_eq(from_function.default_profile, "STD-GEN-CD");
    ck_assert_int_eq(from_function.check_called_ae_title, 1);
    ck_assert_uint_eq(from_function.max_associations, 16);
    ck_assert_int_eq(from_function.acse_timeout_seconds, 30);
    ck_assert_int_eq(from_function.dimse_timeout_seconds, 300);
    ck_assert_uint_eq(from_function.max_pdu, 65536);
    ck_assert_int_eq(from_function.retention_idle_seconds, 86400);
    ck_assert_int_eq(from_function.retention_done_seconds, 604800);
    ck_assert_int_eq(from_function.retention_instance_seconds, 604800);
    ck_assert_uint_eq(from_function.queue_limit, 0);
    ck_assert_uint_eq(from_function.media_workers, 1);
    ck_assert_uint_eq(from_function.max_copies, 99);
    ck_assert_int_eq(from_function.tcp_tuning, 1);
    ck_assert_int_eq(from_function.log_level, MCM_LOG_INFO);
    ck_assert_ptr_null(from_function.write_media);
    ck_assert_ptr_null(from_function.storage_dir);
    /* Every field as the macro has it (memcmp would compare padding bytes, which C leaves open). */
#define SAME(field) ck_assert_msg(from_macro.field == from_function.field, #field " differs")
    SAME(version), SAME(bind_address), SAME(port), SAME(allowed_calling_ae_titles);
    SAME(allowed_calling_ae_title_count), SAME(check_called_ae_title), SAME(max_associations);
    SAME(acse_timeout_seconds), SAME(dimse_timeout_seconds), SAME(max_pdu), SAME(storage_dir), SAME(database_path);
    SAME(retention_idle_seconds), SAME(retention_done_seconds), SAME(retention_instance_seconds), SAME(queue_limit);
    SAME(media_workers), SAME(max_copies), SAME(strict), SAME(annex_c_details), SAME(tcp_tuning), SAME(authorize);
    SAME(write_media), SAME(log), SAME(log_level), SAME(user), SAME(accept_unknown_storage);
#undef SAME
    ck_assert_int_eq(mcm_scp_options_init(NULL, MCM_SCP_OPTIONS_VERSION), MCM_EINVAL);
}
END_TEST

START_TEST(operation_names)
{
    ck_assert_str_eq(mcm_scp_operation_name(MCM_SCP_ECHO), "C-ECHO");
    ck_assert_str_eq(mcm_scp_operation_name(MCM_SCP_STORE), "C-STORE");
    ck_assert_str_eq(mcm_scp_operation_name(MCM_SCP_CREATE), "N-CREATE");
    ck_assert_str_eq(mcm_scp_operation_name(MCM_SCP_INITIATE), "N-ACTION Initiate");
    ck_assert_str_eq(mcm_scp_operation_name(MCM_SCP_CANCEL), "N-ACTION Cancel");
    ck_assert_str_eq(mcm_scp_operation_name(MCM_SCP_GET), "N-GET");
    ck_assert_str_eq(mcm_scp_operation_name((mcm_scp_operation)42), "unknown operation");
}
END_TEST

/* ---- admission, C-ECHO ---- */

START_TEST(admit_checks_called_and_calling)
{
    const char *allowed[] = {"ALPHA", "BETA "};
    fx.opts.allowed_calling_ae_titles = allowed;
    fx.opts.allowed_calling_ae_title_count = 2;
    mcm_fx_reopen(&fx);
    char why[128];
    ck_assert_int_eq(mcm_service_admit(fx.service, "ALPHA", "MCMSCP", why, sizeof why), 1);
    ck_assert_int_eq(mcm_service_admit(fx.service, " BETA", "MCMSCP  ", why, sizeof why), 1); /* padding */
    ck_assert_int_eq(mcm_service_admit(fx.service, "GAMMA", "MCMSCP", why, sizeof why), 0);
    ck_assert_ptr_nonnull(strstr(why, "GAMMA"));
    ck_assert_int_eq(mcm_service_admit(fx.service, "ALPHA", "OTHER", why, sizeof why), 0);
    ck_assert_ptr_nonnull(strstr(why, "OTHER"));
    ck_assert_int_eq(mcm_service_admit(fx.service, "alpha", "MCMSCP", why, sizeof why), 0); /* case matters */

    fx.opts.allowed_calling_ae_title_count = 0;
    fx.opts.check_called_ae_title = 0;
    mcm_fx_reopen(&fx);
    ck_assert_int_eq(mcm_service_admit(fx.service, "ANYONE", "WHATEVER", why, sizeof why), 1);
}
END_TEST

START_TEST(echo_and_refusal)
{
    mcm_response rsp;
    ck_assert_int_eq(mcm_service_echo(fx.service, "SCU", &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
    open_with_authorise(MCM_SCP_ECHO);
    ck_assert_int_eq(mcm_service_echo(fx.service, "INTRUDER", &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_NOT_AUTHORIZED);
    ck_assert_comment(rsp);
    ck_assert_ptr_nonnull(strstr(rsp.error_comment, "INTRUDER"));
    ck_assert_int_eq(auth.last_op, MCM_SCP_ECHO);
    ck_assert_int_eq(auth.last_state, MCM_JOB_ABSENT); /* no job for C-ECHO */
    ck_assert_int_eq(mcm_service_echo(NULL, "SCU", &rsp), MCM_EINVAL);
}
END_TEST

/* ---- C-STORE ---- */

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

START_TEST(store_names_file_by_uid)
{
    char uid[65], tmp[4096];
    mcm_response rsp;
    ck_assert_int_eq(mcm_uid_generate(uid), MCM_OK);
    ck_assert_int_eq(mcm_service_store_begin(fx.service, "SCU", MCM_TEST_CT_IMAGE, uid, tmp, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
    /* The temporary file is inside the storage directory. */
    char resolved[4096];
    ck_assert_ptr_nonnull(realpath(fx.storage_dir, resolved));
    ck_assert_int_eq(strncmp(tmp, resolved, strlen(resolved)), 0);
    mcm_test_instance spec = {.sop_instance_uid = uid};
    ck_assert_int_eq(mcm_test_write_dicom(tmp, &spec, NULL), 0);
    off_t size = file_size(tmp);
    ck_assert_int_gt(size, 0);
    ck_assert_int_eq(mcm_service_store_finish(fx.service, tmp, MCM_TEST_CT_IMAGE, uid, MCM_TEST_EXPLICIT_LE, &rsp),
                     MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
    ck_assert_str_eq(rsp.affected_sop_instance_uid, uid);
    ck_assert_int_eq(access(tmp, F_OK), -1); /* renamed away */
    char final_path[4200];
    snprintf(final_path, sizeof final_path, "%s/%s.dcm", resolved, uid);
    ck_assert_int_eq(file_size(final_path), size);
    ck_assert_int_eq(mcm_fx_count_entries(fx.storage_dir), 1);
}
END_TEST

START_TEST(store_resent_instance_replaces_file)
{
    char uid[65], tmp[4096];
    mcm_response rsp;
    ck_assert_int_eq(mcm_uid_generate(uid), MCM_OK);
    off_t sizes[2];
    for (int round = 0; round < 2; round++) {
        ck_assert_int_eq(mcm_service_store_begin(fx.service, "SCU", MCM_TEST_CT_IMAGE, uid, tmp, &rsp), MCM_OK);
        mcm_test_instance spec = {.sop_instance_uid = uid, .rows = round == 0 ? 16 : 128, .columns = 128};
        ck_assert_int_eq(mcm_test_write_dicom(tmp, &spec, NULL), 0);
        sizes[round] = file_size(tmp);
        ck_assert_int_eq(mcm_service_store_finish(fx.service, tmp, MCM_TEST_CT_IMAGE, uid, MCM_TEST_EXPLICIT_LE, &rsp),
                         MCM_OK);
        ck_assert_uint_eq(rsp.status, 0x0000);
    }
    ck_assert_int_ne(sizes[0], sizes[1]);
    char resolved[4096], final_path[4200];
    ck_assert_ptr_nonnull(realpath(fx.storage_dir, resolved));
    snprintf(final_path, sizeof final_path, "%s/%s.dcm", resolved, uid);
    ck_assert_int_eq(file_size(final_path), sizes[1]);
    ck_assert_int_eq(mcm_fx_count_entries(fx.storage_dir), 1);
}
END_TEST

START_TEST(store_refuses_hostile_uids)
{
    char absurd[300];
    memset(absurd, '1', sizeof absurd - 1);
    for (size_t i = 1; i < sizeof absurd - 1; i += 2)
        absurd[i] = '.';
    absurd[sizeof absurd - 1] = '\0';
    char sixty_five[66];
    memset(sixty_five, '1', 65);
    sixty_five[65] = '\0';
    const char *hostile[] = {"../../etc/passwd", "1.2.3/../../4", "/etc/passwd", absurd,     sixty_five, "", ".", "..",
                             "1.2..3",           "1.2.3\n",       "1.2.03",      "1.2.3.dcm"};
    /* A directory beside the storage directory: nothing may appear there either. */
    char outside[4200];
    snprintf(outside, sizeof outside, "%s/etc", fx.dir);
    ck_assert_int_eq(mkdir(outside, 0700), 0);
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        char tmp[4096] = "untouched";
        mcm_response rsp;
        ck_assert_int_eq(mcm_service_store_begin(fx.service, "SCU", MCM_TEST_CT_IMAGE, hostile[i], tmp, &rsp), MCM_OK);
        ck_assert_msg(rsp.status == MCM_STATUS_INVALID_SOP_INSTANCE, "\"%.40s\" got 0x%04X", hostile[i], rsp.status);
        ck_assert_comment(rsp);
        ck_assert_offending(rsp, TAG_AFFECTED_SOP_INSTANCE_UID);
        ck_assert_str_eq(tmp, "");
        /* The offending UID is echoed only when it fits a UI value. */
        if (strlen(hostile[i]) > MCM_UID_MAX || strchr(hostile[i], '\n') != NULL)
            ck_assert_str_eq(rsp.affected_sop_instance_uid, "");
    }
    ck_assert_int_eq(
        mcm_service_store_begin(fx.service, "SCU", MCM_TEST_CT_IMAGE, NULL, (char[4096]){0}, &(mcm_response){0}),
        MCM_OK);
    /* A hostile UID at finish (the network layer passes it again) is refused the same way. */
    char good[65], tmp[4096];
    mcm_response rsp;
    ck_assert_int_eq(mcm_uid_generate(good), MCM_OK);
    ck_assert_int_eq(mcm_service_store_begin(fx.service, "SCU", MCM_TEST_CT_IMAGE, good, tmp, &rsp), MCM_OK);
    ck_assert_int_eq(mcm_test_write_dicom(tmp, NULL, NULL), 0);
    ck_assert_int_eq(
        mcm_service_store_finish(fx.service, tmp, MCM_TEST_CT_IMAGE, "../../etc/passwd", MCM_TEST_EXPLICIT_LE, &rsp),
        MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_INVALID_SOP_INSTANCE);
    ck_assert_comment(rsp);
    ck_assert_int_eq(access(tmp, F_OK), -1); /* the received data went away */
    ck_assert_int_eq(mcm_fx_count_entries(fx.storage_dir), 0);
    ck_assert_int_eq(mcm_fx_count_entries(outside), 0);
}
END_TEST

START_TEST(store_refuses_bad_class_and_foreign_paths)
{
    char uid[65], tmp[4096];
    mcm_response rsp;
    ck_assert_int_eq(mcm_uid_generate(uid), MCM_OK);
    ck_assert_int_eq(mcm_service_store_begin(fx.service, "SCU", "not-a-uid", uid, tmp, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0xC000);
    ck_assert_comment(rsp);
    ck_assert_offending(rsp, MCM_TAG(0x0000, 0x0002));

    /* finish and abort only ever touch the service's own temporary files. */
    char victim[4200];
    snprintf(victim, sizeof victim, "%s/victim.dcm", fx.dir);
    ck_assert_int_eq(mcm_test_write_dicom(victim, NULL, NULL), 0);
    ck_assert_int_eq(mcm_service_store_finish(fx.service, victim, MCM_TEST_CT_IMAGE, uid, MCM_TEST_EXPLICIT_LE, &rsp),
                     MCM_EINVAL);
    ck_assert_uint_ne(rsp.status, 0x0000);
    mcm_service_store_abort(fx.service, victim);
    ck_assert_int_eq(access(victim, F_OK), 0);
    char sneaky[8400];
    snprintf(sneaky, sizeof sneaky, "%s/.incoming-../../victim.dcm", fx.storage_dir);
    mcm_service_store_abort(fx.service, sneaky);
    ck_assert_int_eq(access(victim, F_OK), 0);

    /* abort removes a real temporary file. */
    ck_assert_int_eq(mcm_service_store_begin(fx.service, "SCU", MCM_TEST_CT_IMAGE, uid, tmp, &rsp), MCM_OK);
    ck_assert_int_eq(access(tmp, F_OK), 0);
    mcm_service_store_abort(fx.service, tmp);
    ck_assert_int_eq(access(tmp, F_OK), -1);

    /* An empty receive is not an instance. */
    ck_assert_int_eq(mcm_service_store_begin(fx.service, "SCU", MCM_TEST_CT_IMAGE, uid, tmp, &rsp), MCM_OK);
    ck_assert_int_eq(mcm_service_store_finish(fx.service, tmp, MCM_TEST_CT_IMAGE, uid, MCM_TEST_EXPLICIT_LE, &rsp),
                     MCM_OK);
    ck_assert_uint_eq(rsp.status, 0xC000);
    ck_assert_comment(rsp);
    ck_assert_int_eq(mcm_fx_count_entries(fx.storage_dir), 0);
}
END_TEST

START_TEST(store_refused_by_authorise)
{
    open_with_authorise(MCM_SCP_STORE);
    char uid[65], tmp[4096] = "x";
    mcm_response rsp;
    ck_assert_int_eq(mcm_uid_generate(uid), MCM_OK);
    ck_assert_int_eq(mcm_service_store_begin(fx.service, "INTRUDER", MCM_TEST_CT_IMAGE, uid, tmp, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_NOT_AUTHORIZED);
    ck_assert_comment(rsp);
    ck_assert_str_eq(tmp, "");
    ck_assert_int_eq(auth.last_op, MCM_SCP_STORE);
    ck_assert_int_eq(mcm_fx_count_entries(fx.storage_dir), 0);
}
END_TEST

START_TEST(stale_temporaries_removed_at_open)
{
    char uid[65], tmp[4096];
    mcm_response rsp;
    ck_assert_int_eq(mcm_uid_generate(uid), MCM_OK);
    ck_assert_int_eq(mcm_service_store_begin(fx.service, "SCU", MCM_TEST_CT_IMAGE, uid, tmp, &rsp), MCM_OK);
    ck_assert_int_eq(access(tmp, F_OK), 0);
    mcm_fx_reopen(&fx); /* as after a crash in the middle of a receive */
    ck_assert_int_eq(access(tmp, F_OK), -1);
}
END_TEST

START_TEST(store_out_of_resources_a700)
{
    char uid[65], tmp[4096];
    mcm_response rsp;
    ck_assert_int_eq(mcm_uid_generate(uid), MCM_OK);
    /* The final name is taken by a directory: the rename fails, the received data is dropped. */
    char resolved[4096], squatter[4200], inside[4300];
    ck_assert_ptr_nonnull(realpath(fx.storage_dir, resolved));
    snprintf(squatter, sizeof squatter, "%s/%s.dcm", resolved, uid);
    snprintf(inside, sizeof inside, "%s/keep", squatter);
    ck_assert_int_eq(mkdir(squatter, 0700), 0);
    ck_assert_int_eq(mcm_test_write_dicom(inside, NULL, NULL), 0);
    ck_assert_int_eq(mcm_service_store_begin(fx.service, "SCU", MCM_TEST_CT_IMAGE, uid, tmp, &rsp), MCM_OK);
    ck_assert_int_eq(mcm_test_write_dicom(tmp, NULL, NULL), 0);
    ck_assert_int_eq(mcm_service_store_finish(fx.service, tmp, MCM_TEST_CT_IMAGE, uid, MCM_TEST_EXPLICIT_LE, &rsp),
                     MCM_OK);
    ck_assert_uint_eq(rsp.status, 0xA700);
    ck_assert_comment(rsp);
    ck_assert_int_eq(access(tmp, F_OK), -1);
    ck_assert_int_eq(access(inside, F_OK), 0);
    /* The storage directory disappears under the SCP: no temporary file can be made. */
    mcm_test_rmtree(fx.storage_dir);
    ck_assert_int_eq(mcm_service_store_begin(fx.service, "SCU", MCM_TEST_CT_IMAGE, uid, tmp, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0xA700);
    ck_assert_comment(rsp);
    ck_assert_str_eq(tmp, "");
}
END_TEST

/* ---- N-CREATE ---- */

START_TEST(create_success_is_durable)
{
    mcm_request *request = mcm_fx_request_one(&fx);
    ck_assert_int_eq(mcm_request_set_attribute(request, MCM_TAG_LABEL_TEXT, "For Dr. Who"), MCM_OK);
    char uid[65];
    mcm_job *created = NULL;
    mcm_response rsp;
    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", request, NULL, uid, &created, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
    ck_assert(mcm_uid_is_valid(uid));
    ck_assert_str_eq(rsp.affected_sop_instance_uid, uid);
    ck_assert_str_eq(mcm_job_uid(created), uid);
    ck_assert_int_eq(mcm_job_state_of(created), MCM_JOB_IDLE);
    ck_assert_str_eq(mcm_job_status_info(created), "NORMAL");
    ck_assert_uint_eq(mcm_request_reference_count(mcm_job_request(created)), 1);
    ck_assert_str_eq(mcm_request_attribute(mcm_job_request(created), MCM_TAG_LABEL_TEXT), "For Dr. Who");
    ck_assert(mcm_job_has(created, MCM_TAG_EXECUTION_STATUS));
    ck_assert(mcm_job_has(created, MCM_TAG_TOTAL_NUMBER_OF_PIECES));
    ck_assert_uint_eq(mcm_job_pieces(created), 0);
    mcm_job_free(created);
    /* Committed: a reopened service (a restarted SCP) answers for it. */
    mcm_fx_reopen(&fx);
    mcm_job *job = NULL;
    ck_assert_int_eq(mcm_service_job(fx.service, uid, &job), MCM_OK);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_IDLE);
    ck_assert_str_eq(mcm_request_attribute(mcm_job_request(job), MCM_TAG_LABEL_TEXT), "For Dr. Who");
    mcm_job_free(job);
}
END_TEST

START_TEST(create_with_requested_uid)
{
    char requested[65], uid[65];
    ck_assert_int_eq(mcm_uid_generate(requested), MCM_OK);
    mcm_response rsp;
    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", mcm_fx_request_one(&fx), requested, uid, NULL, &rsp),
                     MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
    ck_assert_str_eq(uid, requested);
    ck_assert_str_eq(rsp.affected_sop_instance_uid, requested);
    ck_assert_int_eq(mcm_fx_state(&fx, requested, NULL), MCM_JOB_IDLE);
}
END_TEST

START_TEST(create_malformed_uid_0117)
{
    const char *malformed[] = {"1.2.abc", "", "1..2", "01.2", "../../etc/passwd"};
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        char uid[65] = "x";
        mcm_job *created = (mcm_job *)0x1;
        mcm_response rsp;
        ck_assert_int_eq(
            mcm_service_create(fx.service, "SCU", mcm_fx_request_one(&fx), malformed[i], uid, &created, &rsp), MCM_OK);
        ck_assert_uint_eq(rsp.status, MCM_STATUS_INVALID_SOP_INSTANCE);
        ck_assert_comment(rsp);
        ck_assert_offending(rsp, TAG_AFFECTED_SOP_INSTANCE_UID);
        ck_assert_str_eq(rsp.affected_sop_instance_uid, malformed[i]); /* Annex C: the offending UID */
        ck_assert_str_eq(uid, "");
        ck_assert_ptr_null(created);
    }
    /* A malformed UID with a malformed data set: the command is judged first. */
    mcm_request *empty;
    ck_assert_int_eq(mcm_request_new(&empty), MCM_OK);
    mcm_response rsp;
    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", empty, "x", NULL, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_INVALID_SOP_INSTANCE);
}
END_TEST

START_TEST(create_duplicate_uid_0111)
{
    char requested[65];
    ck_assert_int_eq(mcm_uid_generate(requested), MCM_OK);
    mcm_response rsp;
    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", mcm_fx_request_one(&fx), requested, NULL, NULL, &rsp),
                     MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
    ck_assert_int_eq(mcm_fx_initiate(&fx, requested, 0, NULL), 0x0000);
    mcm_job *created = (mcm_job *)0x1;
    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", mcm_fx_request_one(&fx), requested, NULL, &created, &rsp),
                     MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_DUPLICATE_SOP_INSTANCE);
    ck_assert_comment(rsp);
    ck_assert_offending(rsp, TAG_AFFECTED_SOP_INSTANCE_UID);
    ck_assert_str_eq(rsp.affected_sop_instance_uid, requested);
    ck_assert_ptr_null(created);
    /* The existing job is untouched. */
    char info[65];
    ck_assert_int_eq(mcm_fx_state(&fx, requested, info), MCM_JOB_PENDING);
    ck_assert_str_eq(info, "QUEUED");
}
END_TEST

START_TEST(create_validation_statuses)
{
    mcm_response rsp;
    char uid[65];
    /* 0120: no Referenced SOP Sequence. */
    mcm_request *request;
    ck_assert_int_eq(mcm_request_new(&request), MCM_OK);
    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", request, NULL, uid, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_MISSING_ATTRIBUTE);
    ck_assert_comment(rsp);
    ck_assert_identifier(rsp, MCM_TAG_REFERENCED_SOP_SEQUENCE);
    ck_assert_str_eq(rsp.affected_sop_instance_uid, ""); /* digest A7 */
    ck_assert_str_eq(uid, "");
    /* NULL request: same as an N-CREATE without a data set. */
    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", NULL, NULL, uid, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_MISSING_ATTRIBUTE);
    /* 0120: an item without its Referenced SOP Instance UID. */
    ck_assert_int_eq(mcm_request_new(&request), MCM_OK);
    ck_assert_int_eq(
        mcm_request_add_reference_raw(request, MCM_TEST_CT_IMAGE, strlen(MCM_TEST_CT_IMAGE), NULL, 0, NULL, 0), MCM_OK);
    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", request, NULL, uid, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_MISSING_ATTRIBUTE);
    ck_assert_identifier(rsp, MCM_TAG_REFERENCED_SOP_INSTANCE_UID);
    /* 0121: an empty Referenced SOP Class UID. */
    ck_assert_int_eq(mcm_request_new(&request), MCM_OK);
    ck_assert_int_eq(mcm_request_add_reference_raw(request, "", 0, "1.2.3", 5, NULL, 0), MCM_OK);
    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", request, NULL, uid, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_MISSING_ATTRIBUTE_VALUE);
    ck_assert_comment(rsp);
    ck_assert_offending(rsp, MCM_TAG_REFERENCED_SOP_CLASS_UID);
    /* 0106: Allow Media Splitting neither YES nor NO. */
    request = mcm_fx_request_one(&fx);
    ck_assert_int_eq(mcm_request_set_attribute_raw(request, MCM_TAG_ALLOW_MEDIA_SPLITTING, "MAYBE", 5), MCM_OK);
    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", request, NULL, uid, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_INVALID_ATTRIBUTE_VALUE);
    ck_assert_comment(rsp);
    ck_assert_offending(rsp, MCM_TAG_ALLOW_MEDIA_SPLITTING);
    /* Unknown attributes: ignored by default (digest A9), 0105 in strict mode. */
    request = mcm_fx_request_one(&fx);
    ck_assert_int_eq(mcm_request_note_unknown(request, MCM_TAG(0x0010, 0x0010)), MCM_OK);
    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", request, NULL, uid, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
    fx.opts.strict = MCM_VALIDATE_STRICT;
    mcm_fx_reopen(&fx);
    request = mcm_fx_request_one(&fx);
    ck_assert_int_eq(mcm_request_note_unknown(request, MCM_TAG(0x0010, 0x0010)), MCM_OK);
    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", request, NULL, uid, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_NO_SUCH_ATTRIBUTE);
    ck_assert_comment(rsp);
    ck_assert_identifier(rsp, MCM_TAG(0x0010, 0x0010));
    /* Strict: a File-set ID that is not DICOMDIR-safe is 0106 (digest A8). */
    request = mcm_fx_request_one(&fx);
    ck_assert_int_eq(mcm_request_set_attribute(request, MCM_TAG_STORAGE_MEDIA_FILESET_ID, "my disc"), MCM_OK);
    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", request, NULL, uid, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_INVALID_ATTRIBUTE_VALUE);
    ck_assert_offending(rsp, MCM_TAG_STORAGE_MEDIA_FILESET_ID);
}
END_TEST

START_TEST(create_queue_limit_0213)
{
    fx.opts.queue_limit = 2;
    mcm_fx_reopen(&fx);
    char first[65], second[65], uid[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), first);
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), second);
    ck_assert_int_eq(mcm_fx_initiate(&fx, second, 0, NULL), 0x0000); /* PENDING still counts */
    mcm_response rsp;
    mcm_job *created = (mcm_job *)0x1;
    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", mcm_fx_request_one(&fx), NULL, uid, &created, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_RESOURCE_LIMITATION);
    ck_assert_comment(rsp);
    ck_assert_ptr_nonnull(strstr(rsp.error_comment, "queue full"));
    ck_assert_ptr_null(created);
    ck_assert_str_eq(uid, "");
    /* A duplicate UID is still 0111 when the queue is full. */
    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", mcm_fx_request_one(&fx), first, NULL, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_DUPLICATE_SOP_INSTANCE);
    /* A freed place is available again. */
    ck_assert_int_eq(mcm_fx_cancel(&fx, first, NULL), 0x0000);
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
}
END_TEST

START_TEST(create_refused_by_authorise)
{
    open_with_authorise(MCM_SCP_CREATE);
    char uid[65], requested[65];
    ck_assert_int_eq(mcm_uid_generate(requested), MCM_OK);
    mcm_response rsp;
    ck_assert_int_eq(mcm_service_create(fx.service, "INTRUDER", mcm_fx_request_one(&fx), requested, uid, NULL, &rsp),
                     MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_NOT_AUTHORIZED);
    ck_assert_comment(rsp);
    ck_assert_str_eq(rsp.affected_sop_instance_uid, "");
    /* The callback saw the job about to be created. */
    ck_assert_int_eq(auth.last_op, MCM_SCP_CREATE);
    ck_assert_str_eq(auth.last_ae, "INTRUDER");
    ck_assert_int_eq(auth.last_state, MCM_JOB_IDLE);
    ck_assert_uint_eq(auth.last_references, 1);
    ck_assert_str_eq(auth.last_uid, requested);
    ck_assert_int_eq(mcm_fx_state(&fx, requested, NULL), MCM_JOB_ABSENT);
}
END_TEST

START_TEST(annex_c_details_mode)
{
    fx.opts.annex_c_details = 1;
    mcm_fx_reopen(&fx);
    mcm_response rsp;
    /* 0117 on N-CREATE: Affected SOP Instance UID only. */
    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", mcm_fx_request_one(&fx), "1.x", NULL, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_INVALID_SOP_INSTANCE);
    ck_assert_str_eq(rsp.error_comment, "");
    ck_assert_uint_eq(rsp.offending_element_count, 0);
    ck_assert_str_eq(rsp.affected_sop_instance_uid, "1.x");
    /* 0115: Affected SOP Instance UID and Action Type ID. */
    char uid[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
    mcm_request *info;
    ck_assert_int_eq(mcm_request_new(&info), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute_raw(info, MCM_TAG_NUMBER_OF_COPIES, "0", 1), MCM_OK);
    ck_assert_int_eq(mcm_service_action(fx.service, "SCU", uid, 1, info, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_INVALID_ARGUMENT_VALUE);
    ck_assert_str_eq(rsp.error_comment, "");
    ck_assert_uint_eq(rsp.offending_element_count, 0);
    ck_assert(rsp.has_action_type_id);
    ck_assert_str_eq(rsp.affected_sop_instance_uid, uid);
    /* A510: Error Comment and Offending Element stay (service-specific Failed). */
    ck_assert_int_eq(mcm_fx_initiate(&fx, uid, 0, NULL), 0x0000);
    ck_assert_int_eq(mcm_service_action(fx.service, "SCU", uid, 1, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_ALREADY_INITIATED);
    ck_assert_comment(rsp);
    ck_assert_offending(rsp, TAG_ACTION_TYPE_ID);
    /* 0124: Error Comment only. */
    open_with_authorise(MCM_SCP_GET);
    mcm_job *job = NULL;
    uint32_t *selected = NULL;
    size_t count = 0;
    ck_assert_int_eq(mcm_service_get(fx.service, "SCU", uid, NULL, 0, &job, &selected, &count, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_NOT_AUTHORIZED);
    ck_assert_comment(rsp);
    ck_assert_str_eq(rsp.affected_sop_instance_uid, "");
    ck_assert_ptr_null(job);
}
END_TEST

/* ---- N-ACTION ---- */

START_TEST(action_unknown_type_0123)
{
    char uid[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
    mcm_response rsp;
    ck_assert_int_eq(mcm_service_action(fx.service, "SCU", uid, 3, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_NO_SUCH_ACTION);
    ck_assert_comment(rsp);
    ck_assert_offending(rsp, TAG_ACTION_TYPE_ID);
    ck_assert(rsp.has_action_type_id);
    ck_assert_uint_eq(rsp.action_type_id, 3);
    ck_assert_int_eq(mcm_fx_state(&fx, uid, NULL), MCM_JOB_IDLE);
    ck_assert_int_eq(mcm_service_action(fx.service, "SCU", uid, 0, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_NO_SUCH_ACTION);
}
END_TEST

START_TEST(action_unknown_and_invalid_instance)
{
    char absent[65];
    ck_assert_int_eq(mcm_uid_generate(absent), MCM_OK);
    for (uint16_t type = 1; type <= 2; type++) {
        mcm_response rsp;
        ck_assert_int_eq(mcm_service_action(fx.service, "SCU", absent, type, NULL, &rsp), MCM_OK);
        ck_assert_uint_eq(rsp.status, MCM_STATUS_NO_SUCH_SOP_INSTANCE);
        ck_assert_comment(rsp);
        ck_assert_offending(rsp, TAG_REQUESTED_SOP_INSTANCE_UID);
        ck_assert_str_eq(rsp.affected_sop_instance_uid, absent);
        ck_assert_int_eq(mcm_service_action(fx.service, "SCU", "1.2.x", type, NULL, &rsp), MCM_OK);
        ck_assert_uint_eq(rsp.status, MCM_STATUS_INVALID_SOP_INSTANCE);
        ck_assert_comment(rsp);
        ck_assert_offending(rsp, TAG_REQUESTED_SOP_INSTANCE_UID);
        ck_assert_str_eq(rsp.affected_sop_instance_uid, "1.2.x");
    }
}
END_TEST

START_TEST(initiate_persists_arguments)
{
    char uid[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
    mcm_request *info;
    ck_assert_int_eq(mcm_request_new(&info), MCM_OK);
    /* Values as they may come off the wire: IS with spaces, CS padded to even length. */
    ck_assert_int_eq(mcm_request_set_attribute_raw(info, MCM_TAG_NUMBER_OF_COPIES, " 3 ", 3), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute_raw(info, MCM_TAG_REQUEST_PRIORITY, "LOW ", 4), MCM_OK);
    mcm_response rsp;
    ck_assert_int_eq(mcm_service_action(fx.service, "SCU", uid, 1, info, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
    ck_assert(rsp.has_action_type_id);
    ck_assert_uint_eq(rsp.action_type_id, 1);
    ck_assert_str_eq(rsp.affected_sop_instance_uid, uid);
    mcm_fx_reopen(&fx); /* committed with the state change */
    mcm_job *job = NULL;
    ck_assert_int_eq(mcm_service_job(fx.service, uid, &job), MCM_OK);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_PENDING);
    ck_assert_str_eq(mcm_job_status_info(job), "QUEUED");
    ck_assert_int_eq(mcm_request_copies(mcm_job_request(job)), 3);
    ck_assert_int_eq(mcm_request_priority(mcm_job_request(job)), MCM_PRIORITY_LOW);
    mcm_job_free(job);
}
END_TEST

START_TEST(initiate_defaults)
{
    char uid[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
    ck_assert_uint_eq(mcm_fx_initiate(&fx, uid, 0, NULL), 0x0000);
    mcm_job *job = NULL;
    ck_assert_int_eq(mcm_service_job(fx.service, uid, &job), MCM_OK);
    ck_assert_int_eq(mcm_request_copies(mcm_job_request(job)), 1);
    ck_assert_int_eq(mcm_request_priority(mcm_job_request(job)), MCM_PRIORITY_MED);
    mcm_job_free(job);
    /* A Number of Copies given at N-CREATE stands when Initiate sends none. */
    mcm_request *request = mcm_fx_request_one(&fx);
    ck_assert_int_eq(mcm_request_set_copies(request, 4), MCM_OK);
    mcm_fx_create(&fx, request, uid);
    ck_assert_uint_eq(mcm_fx_initiate(&fx, uid, 0, "HIGH"), 0x0000);
    ck_assert_int_eq(mcm_service_job(fx.service, uid, &job), MCM_OK);
    ck_assert_int_eq(mcm_request_copies(mcm_job_request(job)), 4);
    ck_assert_int_eq(mcm_request_priority(mcm_job_request(job)), MCM_PRIORITY_HIGH);
    mcm_job_free(job);
    /* ...but answers to the device limit as an Initiate argument would (0115), and an Initiate
     * that sends its own valid Number of Copies replaces it. */
    request = mcm_fx_request_one(&fx);
    ck_assert_int_eq(mcm_request_set_copies(request, (int)fx.opts.max_copies + 1), MCM_OK);
    mcm_fx_create(&fx, request, uid);
    mcm_response rsp;
    ck_assert_int_eq(mcm_service_action(fx.service, "SCU", uid, 1, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_INVALID_ARGUMENT_VALUE);
    ck_assert_ptr_nonnull(strstr(rsp.error_comment, "from N-CREATE"));
    ck_assert_offending(rsp, MCM_TAG_NUMBER_OF_COPIES);
    ck_assert_int_eq(mcm_fx_state(&fx, uid, NULL), MCM_JOB_IDLE);
    ck_assert_uint_eq(mcm_fx_initiate(&fx, uid, 2, NULL), 0x0000);
    ck_assert_int_eq(mcm_service_job(fx.service, uid, &job), MCM_OK);
    ck_assert_int_eq(mcm_request_copies(mcm_job_request(job)), 2);
    mcm_job_free(job);
}
END_TEST

/* Initiate with one raw argument; expect status, offending tag; the job stays IDLE. */
static void expect_initiate_refused(const char *uid, uint32_t tag, const char *value, uint16_t status,
                                    uint32_t offending)
{
    mcm_request *info;
    ck_assert_int_eq(mcm_request_new(&info), MCM_OK);
    if (mcm_attribute_find(tag) != NULL)
        ck_assert_int_eq(mcm_request_set_attribute_raw(info, tag, value, strlen(value)), MCM_OK);
    else
        ck_assert_int_eq(mcm_request_note_unknown(info, tag), MCM_OK);
    mcm_response rsp;
    ck_assert_int_eq(mcm_service_action(fx.service, "SCU", uid, 1, info, &rsp), MCM_OK);
    ck_assert_msg(rsp.status == status, "value \"%s\": 0x%04X, expected 0x%04X", value, rsp.status, status);
    ck_assert_comment(rsp);
    ck_assert_offending(rsp, offending);
    ck_assert(rsp.has_action_type_id);
    ck_assert_uint_eq(rsp.action_type_id, 1);
    ck_assert_int_eq(mcm_fx_state(&fx, uid, NULL), MCM_JOB_IDLE);
}

START_TEST(initiate_bad_arguments_0115_0114)
{
    fx.opts.max_copies = 5;
    mcm_fx_reopen(&fx);
    char uid[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
    const char *bad_copies[] = {"0", "-1", "6", "abc", "", "1.5", "99999999999999"};
    for (size_t i = 0; i < sizeof bad_copies / sizeof bad_copies[0]; i++)
        expect_initiate_refused(uid, MCM_TAG_NUMBER_OF_COPIES, bad_copies[i], MCM_STATUS_INVALID_ARGUMENT_VALUE,
                                MCM_TAG_NUMBER_OF_COPIES);
    const char *bad_priorities[] = {"URGENT", "", "high", "MEDIUM"};
    for (size_t i = 0; i < sizeof bad_priorities / sizeof bad_priorities[0]; i++)
        expect_initiate_refused(uid, MCM_TAG_REQUEST_PRIORITY, bad_priorities[i], MCM_STATUS_INVALID_ARGUMENT_VALUE,
                                MCM_TAG_REQUEST_PRIORITY);
    expect_initiate_refused(uid, MCM_TAG_LABEL_TEXT, "not an argument", MCM_STATUS_NO_SUCH_ARGUMENT,
                            MCM_TAG_LABEL_TEXT);
    expect_initiate_refused(uid, MCM_TAG(0x0010, 0x0010), "", MCM_STATUS_NO_SUCH_ARGUMENT, MCM_TAG(0x0010, 0x0010));
    /* A refused Initiate does not count (digest A1): a corrected one succeeds. */
    ck_assert_uint_eq(mcm_fx_initiate(&fx, uid, 5, "MED"), 0x0000);
    ck_assert_int_eq(mcm_fx_state(&fx, uid, NULL), MCM_JOB_PENDING);
}
END_TEST

START_TEST(initiate_twice_a510)
{
    char uid[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
    ck_assert_uint_eq(mcm_fx_initiate(&fx, uid, 2, "LOW"), 0x0000);
    mcm_response rsp;
    ck_assert_int_eq(mcm_service_action(fx.service, "SCU", uid, 1, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_ALREADY_INITIATED);
    ck_assert_comment(rsp);
    ck_assert_offending(rsp, TAG_ACTION_TYPE_ID);
    ck_assert_ptr_nonnull(strstr(rsp.error_comment, "PENDING"));
    /* Even with arguments that would be refused, and without changing the stored ones. */
    mcm_request *info;
    ck_assert_int_eq(mcm_request_new(&info), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute_raw(info, MCM_TAG_NUMBER_OF_COPIES, "0", 1), MCM_OK);
    ck_assert_int_eq(mcm_service_action(fx.service, "SCU", uid, 1, info, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_ALREADY_INITIATED);
    ck_assert_uint_eq(mcm_fx_initiate(&fx, uid, 7, "HIGH"), MCM_STATUS_ALREADY_INITIATED);
    mcm_job *job = NULL;
    ck_assert_int_eq(mcm_service_job(fx.service, uid, &job), MCM_OK);
    ck_assert_int_eq(mcm_request_copies(mcm_job_request(job)), 2);
    ck_assert_int_eq(mcm_request_priority(mcm_job_request(job)), MCM_PRIORITY_LOW);
    mcm_job_free(job);
}
END_TEST

START_TEST(cancel_idle_and_pending_delete)
{
    char idle[65], pending[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), idle);
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), pending);
    ck_assert_uint_eq(mcm_fx_initiate(&fx, pending, 0, NULL), 0x0000);
    const char *uids[] = {idle, pending};
    for (size_t i = 0; i < 2; i++) {
        mcm_response rsp;
        ck_assert_uint_eq(mcm_fx_cancel(&fx, uids[i], &rsp), 0x0000);
        ck_assert(rsp.has_action_type_id);
        ck_assert_uint_eq(rsp.action_type_id, 2);
        ck_assert_str_eq(rsp.affected_sop_instance_uid, uids[i]);
        ck_assert_int_eq(mcm_fx_state(&fx, uids[i], NULL), MCM_JOB_ABSENT);
        /* Deleted: everything after is 0112. */
        ck_assert_uint_eq(mcm_fx_cancel(&fx, uids[i], &rsp), MCM_STATUS_NO_SUCH_SOP_INSTANCE);
        ck_assert_uint_eq(mcm_fx_initiate(&fx, uids[i], 0, NULL), MCM_STATUS_NO_SUCH_SOP_INSTANCE);
        mcm_job *job = NULL;
        uint32_t *selected = NULL;
        size_t count = 0;
        ck_assert_int_eq(mcm_service_get(fx.service, "SCU", uids[i], NULL, 0, &job, &selected, &count, &rsp), MCM_OK);
        ck_assert_uint_eq(rsp.status, MCM_STATUS_NO_SUCH_SOP_INSTANCE);
    }
    /* Deleted for good: not back after a restart. */
    mcm_fx_reopen(&fx);
    ck_assert_int_eq(mcm_fx_state(&fx, idle, NULL), MCM_JOB_ABSENT);
    ck_assert_int_eq(mcm_fx_state(&fx, pending, NULL), MCM_JOB_ABSENT);
}
END_TEST

START_TEST(cancel_with_arguments_0114)
{
    char uid[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
    mcm_request *info;
    ck_assert_int_eq(mcm_request_new(&info), MCM_OK);
    ck_assert_int_eq(mcm_request_set_copies(info, 2), MCM_OK);
    mcm_response rsp;
    ck_assert_int_eq(mcm_service_action(fx.service, "SCU", uid, 2, info, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_NO_SUCH_ARGUMENT);
    ck_assert_comment(rsp);
    ck_assert_offending(rsp, MCM_TAG_NUMBER_OF_COPIES);
    ck_assert(rsp.has_action_type_id);
    ck_assert_uint_eq(rsp.action_type_id, 2);
    ck_assert_int_eq(mcm_fx_state(&fx, uid, NULL), MCM_JOB_IDLE);
    /* An empty Action Information is harmless. */
    ck_assert_int_eq(mcm_request_new(&info), MCM_OK);
    ck_assert_int_eq(mcm_service_action(fx.service, "SCU", uid, 2, info, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, 0x0000);
}
END_TEST

/* Specific Character Set in the Action Information describes its text, it is no argument: some
 * toolkits put it into every data set. Initiate and Cancel take it without 0114. */
START_TEST(action_information_with_specific_character_set)
{
    char uid[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
    mcm_request *info;
    ck_assert_int_eq(mcm_request_new(&info), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute(info, MCM_TAG_SPECIFIC_CHARACTER_SET, "ISO_IR 100"), MCM_OK);
    ck_assert_int_eq(mcm_request_set_copies(info, 2), MCM_OK);
    mcm_response rsp;
    ck_assert_int_eq(mcm_service_action(fx.service, "SCU", uid, 1, info, &rsp), MCM_OK);
    ck_assert_msg(rsp.status == 0x0000, "Initiate: 0x%04X %s", rsp.status, rsp.error_comment);
    ck_assert_int_eq(mcm_fx_state(&fx, uid, NULL), MCM_JOB_PENDING);
    ck_assert_int_eq(mcm_request_new(&info), MCM_OK);
    ck_assert_int_eq(mcm_request_set_attribute(info, MCM_TAG_SPECIFIC_CHARACTER_SET, "ISO_IR 192"), MCM_OK);
    ck_assert_int_eq(mcm_service_action(fx.service, "SCU", uid, 2, info, &rsp), MCM_OK);
    ck_assert_msg(rsp.status == 0x0000, "Cancel: 0x%04X %s", rsp.status, rsp.error_comment);
}
END_TEST

START_TEST(actions_refused_by_authorise)
{
    char uid[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
    open_with_authorise(MCM_SCP_INITIATE);
    mcm_response rsp;
    ck_assert_int_eq(mcm_service_action(fx.service, "INTRUDER", uid, 1, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_NOT_AUTHORIZED);
    ck_assert_comment(rsp);
    ck_assert_int_eq(auth.last_op, MCM_SCP_INITIATE);
    ck_assert_int_eq(auth.last_state, MCM_JOB_IDLE);
    ck_assert_str_eq(auth.last_uid, uid);
    ck_assert_int_eq(mcm_fx_state(&fx, uid, NULL), MCM_JOB_IDLE);
    ck_assert_uint_eq(mcm_fx_cancel(&fx, uid, NULL), 0x0000); /* only Initiate is refused */

    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
    open_with_authorise(MCM_SCP_CANCEL);
    ck_assert_uint_eq(mcm_fx_initiate(&fx, uid, 0, NULL), 0x0000);
    ck_assert_int_eq(mcm_service_action(fx.service, "INTRUDER", uid, 2, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_NOT_AUTHORIZED);
    ck_assert_comment(rsp);
    ck_assert_int_eq(auth.last_op, MCM_SCP_CANCEL);
    ck_assert_int_eq(auth.last_state, MCM_JOB_PENDING);
    ck_assert_int_eq(mcm_fx_state(&fx, uid, NULL), MCM_JOB_PENDING);
}
END_TEST

START_TEST(cancel_denied_by_policy_c203)
{
    char idle[65], pending[65], done[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), done);
    ck_assert_uint_eq(mcm_fx_initiate(&fx, done, 0, NULL), 0x0000);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert(mcm_fx_wait_state(&fx, done, MCM_JOB_DONE, NULL));
    mcm_service_stop(fx.service);
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), idle);
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), pending);
    ck_assert_uint_eq(mcm_fx_initiate(&fx, pending, 0, NULL), 0x0000);

    open_with_authorise(MCM_SCP_CANCEL);
    auth.verdict = MCM_AUTHORIZE_DENY_CANCEL;
    mcm_response rsp;
    const char *live[] = {idle, pending};
    const mcm_job_state states[] = {MCM_JOB_IDLE, MCM_JOB_PENDING};
    for (size_t i = 0; i < 2; i++) {
        ck_assert_uint_eq(mcm_fx_cancel(&fx, live[i], &rsp), MCM_STATUS_CANCEL_DENIED);
        ck_assert_str_eq(rsp.error_comment, "cancellation denied by local policy");
        ck_assert_int_eq(mcm_fx_state(&fx, live[i], NULL), states[i]); /* unchanged */
    }
    /* A finished job answers "already completed" whatever the policy says (digest A3). */
    ck_assert_uint_eq(mcm_fx_cancel(&fx, done, &rsp), MCM_STATUS_ALREADY_COMPLETED);
    ck_assert_int_eq(mcm_fx_state(&fx, done, NULL), MCM_JOB_DONE);

    /* The cancel verdict means nothing for another operation: there it refuses with 0124. */
    open_with_authorise(MCM_SCP_INITIATE);
    auth.verdict = MCM_AUTHORIZE_DENY_CANCEL;
    ck_assert_uint_eq(mcm_fx_initiate(&fx, idle, 0, NULL), MCM_STATUS_NOT_AUTHORIZED);
    ck_assert_int_eq(mcm_fx_state(&fx, idle, NULL), MCM_JOB_IDLE);
}
END_TEST

/* ---- N-GET ---- */

static uint16_t get(const char *uid, const uint32_t *tags, size_t count, mcm_job **job, uint32_t **selected,
                    size_t *selected_count, mcm_response *rsp)
{
    ck_assert_int_eq(mcm_service_get(fx.service, "SCU", uid, tags, count, job, selected, selected_count, rsp), MCM_OK);
    return rsp->status;
}

START_TEST(get_all)
{
    char uid[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
    mcm_job *job = NULL;
    uint32_t *selected = (uint32_t *)0x1;
    size_t count = 99;
    mcm_response rsp;
    ck_assert_uint_eq(get(uid, NULL, 0, &job, &selected, &count, &rsp), 0x0000);
    ck_assert_ptr_null(selected); /* every attribute the job carries */
    ck_assert_uint_eq(count, 0);
    ck_assert_str_eq(rsp.affected_sop_instance_uid, uid);
    ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_IDLE);
    ck_assert_str_eq(mcm_job_status_info(job), "NORMAL");
    ck_assert(mcm_job_has(job, MCM_TAG_EXECUTION_STATUS));
    ck_assert(mcm_job_has(job, MCM_TAG_EXECUTION_STATUS_INFO));
    ck_assert(mcm_job_has(job, MCM_TAG_TOTAL_NUMBER_OF_PIECES));
    ck_assert(mcm_job_has(job, MCM_TAG_FAILED_SOP_SEQUENCE));
    ck_assert(mcm_job_has(job, MCM_TAG_REFERENCED_STORAGE_MEDIA_SEQUENCE));
    ck_assert(mcm_job_has(job, MCM_TAG_REFERENCED_SOP_SEQUENCE));
    mcm_job_free(job);
    /* An empty list is the same as none (digest 3.4). */
    uint32_t none[1] = {0};
    ck_assert_uint_eq(get(uid, none, 0, &job, &selected, &count, &rsp), 0x0000);
    ck_assert_ptr_null(selected);
    mcm_job_free(job);
}
END_TEST

START_TEST(get_list)
{
    char uid[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
    const uint32_t tags[] = {MCM_TAG_EXECUTION_STATUS, MCM_TAG_LABEL_TEXT, MCM_TAG_EXECUTION_STATUS,
                             MCM_TAG_SPECIFIC_CHARACTER_SET, MCM_TAG_FAILED_SOP_SEQUENCE};
    mcm_job *job = NULL;
    uint32_t *selected = NULL;
    size_t count = 0;
    mcm_response rsp;
    ck_assert_uint_eq(get(uid, tags, 5, &job, &selected, &count, &rsp), 0x0000);
    ck_assert_ptr_nonnull(job);
    ck_assert_uint_eq(count, 4); /* the repeat once */
    ck_assert_uint_eq(selected[0], MCM_TAG_EXECUTION_STATUS);
    ck_assert_uint_eq(selected[1], MCM_TAG_LABEL_TEXT);
    ck_assert_uint_eq(selected[2], MCM_TAG_SPECIFIC_CHARACTER_SET);
    ck_assert_uint_eq(selected[3], MCM_TAG_FAILED_SOP_SEQUENCE);
    free(selected);
    mcm_job_free(job);
}
END_TEST

START_TEST(get_unknown_tags_0107)
{
    char uid[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
    const uint32_t tags[] = {MCM_TAG(0x0010, 0x0010), MCM_TAG_EXECUTION_STATUS, MCM_TAG(0x0009, 0x1001),
                             MCM_TAG_REFERENCED_SOP_INSTANCE_UID /* item level, not top level */};
    mcm_job *job = NULL;
    uint32_t *selected = NULL;
    size_t count = 0;
    mcm_response rsp;
    ck_assert_uint_eq(get(uid, tags, 4, &job, &selected, &count, &rsp), MCM_STATUS_ATTRIBUTE_LIST_ERROR);
    ck_assert_int_eq(rsp.category, MCM_CATEGORY_WARNING);
    ck_assert_comment(rsp);
    ck_assert_uint_eq(rsp.attribute_identifier_count, 3);
    ck_assert_identifier(rsp, MCM_TAG(0x0010, 0x0010));
    ck_assert_identifier(rsp, MCM_TAG(0x0009, 0x1001));
    ck_assert_identifier(rsp, MCM_TAG_REFERENCED_SOP_INSTANCE_UID);
    ck_assert_str_eq(rsp.affected_sop_instance_uid, uid);
    ck_assert_ptr_nonnull(job); /* values that could be read come back */
    ck_assert_uint_eq(count, 1);
    ck_assert_uint_eq(selected[0], MCM_TAG_EXECUTION_STATUS);
    free(selected);
    mcm_job_free(job);
}
END_TEST

START_TEST(get_unmaintained_0001)
{
    char uid[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
    const uint32_t tags[] = {MCM_TAG_EXECUTION_STATUS, MCM_TAG(0x0008, 0x0012) /* Instance Creation Date */,
                             MCM_TAG_SOP_INSTANCE_UID, MCM_TAG_SOP_CLASS_UID};
    mcm_job *job = NULL;
    uint32_t *selected = NULL;
    size_t count = 0;
    mcm_response rsp;
    ck_assert_uint_eq(get(uid, tags, 4, &job, &selected, &count, &rsp), MCM_STATUS_OPTIONAL_ATTRIBUTES_UNSUPPORTED);
    ck_assert_int_eq(rsp.category, MCM_CATEGORY_WARNING);
    ck_assert_comment(rsp);
    ck_assert_offending(rsp, MCM_TAG(0x0008, 0x0012));
    ck_assert_offending(rsp, MCM_TAG_SOP_INSTANCE_UID);
    ck_assert_offending(rsp, MCM_TAG_SOP_CLASS_UID);
    ck_assert_uint_eq(rsp.attribute_identifier_count, 0);
    ck_assert_uint_eq(count, 1); /* SOP Class/Instance UID never go into the data set */
    ck_assert_uint_eq(selected[0], MCM_TAG_EXECUTION_STATUS);
    free(selected);
    mcm_job_free(job);
    /* Only unmaintained attributes: an empty selection, not "all". */
    const uint32_t only[] = {MCM_TAG_SOP_INSTANCE_UID};
    ck_assert_uint_eq(get(uid, only, 1, &job, &selected, &count, &rsp), MCM_STATUS_OPTIONAL_ATTRIBUTES_UNSUPPORTED);
    ck_assert_ptr_nonnull(selected);
    ck_assert_uint_eq(count, 0);
    free(selected);
    mcm_job_free(job);
}
END_TEST

START_TEST(get_both_0107)
{
    char uid[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
    const uint32_t tags[] = {MCM_TAG(0x0008, 0x0012), MCM_TAG(0x7FE0, 0x0010), MCM_TAG_TOTAL_NUMBER_OF_PIECES};
    mcm_job *job = NULL;
    uint32_t *selected = NULL;
    size_t count = 0;
    mcm_response rsp;
    ck_assert_uint_eq(get(uid, tags, 3, &job, &selected, &count, &rsp), MCM_STATUS_ATTRIBUTE_LIST_ERROR);
    ck_assert_comment(rsp);
    ck_assert_uint_eq(rsp.attribute_identifier_count, 1);
    ck_assert_identifier(rsp, MCM_TAG(0x7FE0, 0x0010));
    ck_assert_uint_eq(count, 1);
    ck_assert_uint_eq(selected[0], MCM_TAG_TOTAL_NUMBER_OF_PIECES);
    free(selected);
    mcm_job_free(job);
}
END_TEST

START_TEST(get_failures)
{
    mcm_job *job = (mcm_job *)0x1;
    uint32_t *selected = (uint32_t *)0x1;
    size_t count = 5;
    mcm_response rsp;
    char absent[65];
    ck_assert_int_eq(mcm_uid_generate(absent), MCM_OK);
    ck_assert_uint_eq(get(absent, NULL, 0, &job, &selected, &count, &rsp), MCM_STATUS_NO_SUCH_SOP_INSTANCE);
    ck_assert_comment(rsp);
    ck_assert_offending(rsp, TAG_REQUESTED_SOP_INSTANCE_UID);
    ck_assert_str_eq(rsp.affected_sop_instance_uid, absent);
    ck_assert_ptr_null(job);
    ck_assert_ptr_null(selected);
    ck_assert_uint_eq(get("1.2.3.", NULL, 0, &job, &selected, &count, &rsp), MCM_STATUS_INVALID_SOP_INSTANCE);
    ck_assert_comment(rsp);
    ck_assert_offending(rsp, TAG_REQUESTED_SOP_INSTANCE_UID);
    ck_assert_str_eq(rsp.affected_sop_instance_uid, "1.2.3.");

    char uid[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
    open_with_authorise(MCM_SCP_GET);
    const uint32_t tags[] = {MCM_TAG_EXECUTION_STATUS};
    ck_assert_uint_eq(get(uid, tags, 1, &job, &selected, &count, &rsp), MCM_STATUS_NOT_AUTHORIZED);
    ck_assert_comment(rsp);
    ck_assert_ptr_null(job);
    ck_assert_ptr_null(selected);
    ck_assert_int_eq(auth.last_op, MCM_SCP_GET);
    ck_assert_int_eq(auth.last_state, MCM_JOB_IDLE);
    ck_assert_int_eq(mcm_service_get(fx.service, "SCU", uid, NULL, 0, NULL, &selected, &count, &rsp), MCM_EINVAL);
}
END_TEST

/* ---- retention ---- */

START_TEST(retention_expires_idle_jobs)
{
    fx.opts.retention_idle_seconds = 100;
    mcm_fx_reopen(&fx);
    char idle[65], pending[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), idle);
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), pending);
    ck_assert_uint_eq(mcm_fx_initiate(&fx, pending, 0, NULL), 0x0000);
    int64_t now = (int64_t)time(NULL);
    ck_assert_int_eq(mcm_service_housekeeping(fx.service, now + 50), MCM_OK);
    ck_assert_int_eq(mcm_fx_state(&fx, idle, NULL), MCM_JOB_IDLE);
    ck_assert_int_eq(mcm_service_housekeeping(fx.service, now + 102), MCM_OK);
    ck_assert_int_eq(mcm_fx_state(&fx, idle, NULL), MCM_JOB_ABSENT);
    mcm_response rsp;
    mcm_job *job;
    uint32_t *selected;
    size_t count;
    ck_assert_uint_eq(get(idle, NULL, 0, &job, &selected, &count, &rsp), MCM_STATUS_NO_SUCH_SOP_INSTANCE);
    ck_assert_uint_eq(mcm_fx_initiate(&fx, idle, 0, NULL), MCM_STATUS_NO_SUCH_SOP_INSTANCE);
    /* A PENDING job never expires (digest section 6). */
    ck_assert_int_eq(mcm_service_housekeeping(fx.service, now + 100000000), MCM_OK);
    ck_assert_int_eq(mcm_fx_state(&fx, pending, NULL), MCM_JOB_PENDING);
}
END_TEST

START_TEST(retention_forever)
{
    fx.opts.retention_idle_seconds = MCM_RETAIN_FOREVER;
    fx.opts.retention_instance_seconds = MCM_RETAIN_FOREVER;
    mcm_fx_reopen(&fx);
    char uid[65], unreferenced[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
    mcm_fx_store(&fx, MCM_TEST_MR_IMAGE, unreferenced);
    ck_assert_int_eq(mcm_service_housekeeping(fx.service, (int64_t)time(NULL) + 100000000), MCM_OK);
    ck_assert_int_eq(mcm_fx_state(&fx, uid, NULL), MCM_JOB_IDLE);
    ck_assert_int_eq(mcm_fx_count_entries(fx.storage_dir), 2);
}
END_TEST

START_TEST(retention_expires_instances_and_files)
{
    fx.opts.retention_idle_seconds = MCM_RETAIN_FOREVER;
    fx.opts.retention_instance_seconds = 100;
    mcm_fx_reopen(&fx);
    char kept[65], unreferenced[65], job_uid[65];
    mcm_fx_store(&fx, MCM_TEST_CT_IMAGE, kept);
    mcm_fx_store(&fx, MCM_TEST_MR_IMAGE, unreferenced);
    const char *classes[] = {MCM_TEST_CT_IMAGE};
    const char *uids[] = {kept};
    mcm_fx_create(&fx, mcm_fx_request(1, classes, uids, NULL), job_uid);
    ck_assert_int_eq(mcm_fx_count_entries(fx.storage_dir), 2);
    int64_t now = (int64_t)time(NULL);
    ck_assert_int_eq(mcm_service_housekeeping(fx.service, now + 50), MCM_OK);
    ck_assert_int_eq(mcm_fx_count_entries(fx.storage_dir), 2);
    ck_assert_int_eq(mcm_service_housekeeping(fx.service, now + 102), MCM_OK);
    /* The instance an IDLE job references stays; the other one and its file are gone. */
    ck_assert_int_eq(mcm_fx_count_entries(fx.storage_dir), 1);
    char resolved[4096], path[4200];
    ck_assert_ptr_nonnull(realpath(fx.storage_dir, resolved));
    snprintf(path, sizeof path, "%s/%s.dcm", resolved, kept);
    ck_assert_int_eq(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/%s.dcm", resolved, unreferenced);
    ck_assert_int_eq(access(path, F_OK), -1);
    /* Once the job goes, its instance expires too. */
    ck_assert_uint_eq(mcm_fx_cancel(&fx, job_uid, NULL), 0x0000);
    ck_assert_int_eq(mcm_service_housekeeping(fx.service, now + 102), MCM_OK);
    ck_assert_int_eq(mcm_fx_count_entries(fx.storage_dir), 0);
}
END_TEST

START_TEST(housekeeping_thread_runs_and_stops)
{
    fx.opts.retention_idle_seconds = 0;
    mcm_fx_reopen(&fx);
    mcm_service_set_housekeeping_interval(fx.service, 20);
    char uid[65];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), uid);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK);
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_ESTATE);
    /* Created at second T, gone once the thread runs at T+1 or later. */
    ck_assert(mcm_fx_wait_state(&fx, uid, MCM_JOB_ABSENT, NULL));
    mcm_service_stop(fx.service);
    mcm_service_stop(fx.service);                            /* twice is fine */
    ck_assert_int_eq(mcm_service_start(fx.service), MCM_OK); /* and it starts again */
    mcm_service_stop(fx.service);
}
END_TEST

/* ---- the job store failing: 0110 (A700 for C-STORE) ---- */

START_TEST(store_failure_0110)
{
    char idle[65], instance[65], tmp[4096];
    mcm_fx_create(&fx, mcm_fx_request_one(&fx), idle);
    ck_assert_int_eq(mcm_uid_generate(instance), MCM_OK);
    mcm_response rsp;
    ck_assert_int_eq(mcm_service_store_begin(fx.service, "SCU", MCM_TEST_CT_IMAGE, instance, tmp, &rsp), MCM_OK);
    ck_assert_int_eq(mcm_test_write_dicom(tmp, NULL, NULL), 0);
    mcm_request *request = mcm_fx_request_one(&fx);
    /* Another program holds the database's write lock for longer than the store waits (shortened
     * from 10 s so that the three refusals below take a second, not half a minute). */
    mcm_service_set_store_busy_timeout(fx.service, 300);
    sqlite3 *other = NULL;
    ck_assert_int_eq(sqlite3_open(fx.database_path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);

    char uid[65];
    mcm_job *created = (mcm_job *)0x1;
    ck_assert_int_eq(mcm_service_create(fx.service, "SCU", request, NULL, uid, &created, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_PROCESSING_FAILURE);
    ck_assert_comment(rsp);
    ck_assert_str_eq(rsp.affected_sop_instance_uid, ""); /* N-CREATE failed: no instance (A7) */
    ck_assert_ptr_null(created);
    ck_assert_str_eq(uid, "");
    ck_assert_int_eq(mcm_service_action(fx.service, "SCU", idle, 1, NULL, &rsp), MCM_OK);
    ck_assert_uint_eq(rsp.status, MCM_STATUS_PROCESSING_FAILURE);
    ck_assert_comment(rsp);
    ck_assert_str_eq(rsp.affected_sop_instance_uid, idle);
    ck_assert_int_eq(mcm_service_store_finish(fx.service, tmp, MCM_TEST_CT_IMAGE, instance, MCM_TEST_EXPLICIT_LE, &rsp),
                     MCM_OK);
    ck_assert_uint_eq(rsp.status, 0xA700);
    ck_assert_comment(rsp);

    ck_assert_int_eq(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    /* Nothing half-done: the job is still IDLE and the SCP works again. */
    ck_assert_int_eq(mcm_fx_state(&fx, idle, NULL), MCM_JOB_IDLE);
    ck_assert_uint_eq(mcm_fx_initiate(&fx, idle, 0, NULL), 0x0000);
}
END_TEST

/* ---- concurrency ---- */

#define CONCURRENT_THREADS 4
#define JOBS_PER_THREAD 12

typedef struct client {
    pthread_t thread;
    char instance_uid[65];
    int errors;
    char first_error[200];
} client;

static void *client_main(void *arg)
{
    client *c = arg;
    for (int i = 0; i < JOBS_PER_THREAD; i++) {
        mcm_request *request = NULL;
        mcm_request_new(&request);
        mcm_request_add_reference(request, MCM_TEST_CT_IMAGE, c->instance_uid, NULL);
        char uid[65];
        mcm_response rsp;
        mcm_service_create(fx.service, "SCU", request, NULL, uid, NULL, &rsp);
        uint16_t statuses[4] = {rsp.status, 0, 0, 0};
        mcm_request *info = NULL;
        mcm_request_new(&info);
        mcm_request_set_priority(info, (mcm_priority)(1 + i % 3));
        mcm_service_action(fx.service, "SCU", uid, 1, info, &rsp);
        statuses[1] = rsp.status;
        mcm_job *job = NULL;
        uint32_t *selected = NULL;
        size_t count = 0;
        mcm_service_get(fx.service, "SCU", uid, NULL, 0, &job, &selected, &count, &rsp);
        statuses[2] = rsp.status;
        int state_ok = job != NULL && mcm_job_state_of(job) == MCM_JOB_PENDING;
        mcm_job_free(job);
        if (i % 4 == 3) {
            mcm_service_action(fx.service, "SCU", uid, 2, NULL, &rsp);
            statuses[3] = rsp.status;
        }
        if (statuses[0] || statuses[1] || statuses[2] || statuses[3] || !state_ok) {
            if (c->errors++ == 0)
                snprintf(c->first_error, sizeof c->first_error, "job %d: %04X %04X %04X %04X state_ok %d", i,
                         statuses[0], statuses[1], statuses[2], statuses[3], state_ok);
        }
    }
    return NULL;
}

START_TEST(concurrent_clients)
{
    char instance[65];
    mcm_fx_store(&fx, MCM_TEST_CT_IMAGE, instance);
    client clients[CONCURRENT_THREADS];
    memset(clients, 0, sizeof clients);
    for (int i = 0; i < CONCURRENT_THREADS; i++) {
        memcpy(clients[i].instance_uid, instance, sizeof instance);
        ck_assert_int_eq(pthread_create(&clients[i].thread, NULL, client_main, &clients[i]), 0);
    }
    for (int i = 0; i < CONCURRENT_THREADS; i++) {
        pthread_join(clients[i].thread, NULL);
        ck_assert_msg(clients[i].errors == 0, "client %d: %d errors, first: %s", i, clients[i].errors,
                      clients[i].first_error);
    }
    /* Every job acknowledged and not cancelled is there, PENDING, in the store. */
    mcm_store *store = NULL;
    size_t live = 0;
    mcm_service_close(fx.service);
    fx.service = NULL;
    ck_assert_int_eq(mcm_store_open(&store, fx.database_path), MCM_OK);
    ck_assert_int_eq(mcm_store_count_live(store, &live), MCM_OK);
    mcm_store_close(store);
    ck_assert_uint_eq(live, CONCURRENT_THREADS * (JOBS_PER_THREAD - JOBS_PER_THREAD / 4));
}
END_TEST

/* ---- throughput: measured, not asserted ---- */

/* The floor under a durable workflow: two appends made durable with fsync (N-CREATE and Initiate
 * each commit once), in the same directory as the job store. Returns milliseconds for n pairs. */
static double fsync_baseline_ms(int fd, int n)
{
    char block[4096];
    memset(block, 'x', sizeof block);
    double start = mcm_test_now_ms();
    for (int i = 0; i < 2 * n; i++) {
        ck_assert_int_eq(write(fd, block, sizeof block), (ssize_t)sizeof block);
        ck_assert_int_eq(fsync(fd), 0);
    }
    return mcm_test_now_ms() - start;
}

static double workflows_ms(const char *instance, int n)
{
    double start = mcm_test_now_ms();
    for (int i = 0; i < n; i++) {
        mcm_request *request;
        ck_assert_int_eq(mcm_request_new(&request), MCM_OK);
        ck_assert_int_eq(mcm_request_add_reference(request, MCM_TEST_CT_IMAGE, instance, NULL), MCM_OK);
        char uid[65];
        mcm_response rsp;
        ck_assert_int_eq(mcm_service_create(fx.service, "SCU", request, NULL, uid, NULL, &rsp), MCM_OK);
        ck_assert_uint_eq(rsp.status, 0x0000);
        ck_assert_int_eq(mcm_service_action(fx.service, "SCU", uid, 1, NULL, &rsp), MCM_OK);
        ck_assert_uint_eq(rsp.status, 0x0000);
        mcm_job *job = NULL;
        uint32_t *selected = NULL;
        size_t count = 0;
        ck_assert_uint_eq(get(uid, NULL, 0, &job, &selected, &count, &rsp), 0x0000);
        ck_assert_int_eq(mcm_job_state_of(job), MCM_JOB_PENDING);
        mcm_job_free(job);
    }
    return mcm_test_now_ms() - start;
}

START_TEST(throughput_create_initiate_get)
{
    /* Blocks of workflows and of baseline fsyncs alternate, so that a change in the machine's load
     * (other builds share the disk) weighs on both alike. */
    int blocks = mcm_test_under_valgrind() ? 1 : 10, per_block = mcm_test_under_valgrind() ? 5 : 25;
    char instance[65], baseline_path[4200];
    mcm_fx_store(&fx, MCM_TEST_CT_IMAGE, instance);
    snprintf(baseline_path, sizeof baseline_path, "%s/fsync-baseline", fx.dir);
    int fd = open(baseline_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    double service_ms = 0, baseline_ms = 0;
    for (int b = 0; b < blocks; b++) {
        baseline_ms += fsync_baseline_ms(fd, per_block);
        service_ms += workflows_ms(instance, per_block);
    }
    close(fd);
    int n = blocks * per_block;
    fprintf(stderr,
            "service: %d x (N-CREATE + Initiate + N-GET): %.2f ms each, %.0f/s; 2 x (4 KiB write + fsync) in the "
            "same directory: %.2f ms; ratio %.2f\n",
            n, service_ms / n, n / (service_ms / 1000.0), baseline_ms / n, service_ms / baseline_ms);
}
END_TEST

Suite *mcm_suite_service(void)
{
    Suite *s = suite_create("service");

    TCase *tc = tcase_create("options");
    tcase_add_checked_fixture(tc, setup_closed, teardown);
    tcase_add_test(tc, options_refused_with_clear_errors);
    tcase_add_test(tc, one_service_per_database);
    tcase_add_test(tc, options_accepted_and_copied);
    tcase_add_test(tc, options_init_matches_macro);
    tcase_add_test(tc, operation_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("admission");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, admit_checks_called_and_calling);
    tcase_add_test(tc, echo_and_refusal);
    suite_add_tcase(s, tc);

    tc = tcase_create("c_store");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, store_names_file_by_uid);
    tcase_add_test(tc, store_resent_instance_replaces_file);
    tcase_add_test(tc, store_refuses_hostile_uids);
    tcase_add_test(tc, store_refuses_bad_class_and_foreign_paths);
    tcase_add_test(tc, store_refused_by_authorise);
    tcase_add_test(tc, store_out_of_resources_a700);
    tcase_add_test(tc, stale_temporaries_removed_at_open);
    suite_add_tcase(s, tc);

    tc = tcase_create("n_create");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, create_success_is_durable);
    tcase_add_test(tc, create_with_requested_uid);
    tcase_add_test(tc, create_malformed_uid_0117);
    tcase_add_test(tc, create_duplicate_uid_0111);
    tcase_add_test(tc, create_validation_statuses);
    tcase_add_test(tc, create_queue_limit_0213);
    tcase_add_test(tc, create_refused_by_authorise);
    tcase_add_test(tc, annex_c_details_mode);
    suite_add_tcase(s, tc);

    tc = tcase_create("n_action");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, action_unknown_type_0123);
    tcase_add_test(tc, action_unknown_and_invalid_instance);
    tcase_add_test(tc, initiate_persists_arguments);
    tcase_add_test(tc, initiate_defaults);
    tcase_add_test(tc, initiate_bad_arguments_0115_0114);
    tcase_add_test(tc, initiate_twice_a510);
    tcase_add_test(tc, cancel_idle_and_pending_delete);
    tcase_add_test(tc, cancel_with_arguments_0114);
    tcase_add_test(tc, action_information_with_specific_character_set);
    tcase_add_test(tc, actions_refused_by_authorise);
    tcase_add_test(tc, cancel_denied_by_policy_c203);
    suite_add_tcase(s, tc);

    tc = tcase_create("n_get");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, get_all);
    tcase_add_test(tc, get_list);
    tcase_add_test(tc, get_unknown_tags_0107);
    tcase_add_test(tc, get_unmaintained_0001);
    tcase_add_test(tc, get_both_0107);
    tcase_add_test(tc, get_failures);
    suite_add_tcase(s, tc);

    tc = tcase_create("retention");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, retention_expires_idle_jobs);
    tcase_add_test(tc, retention_forever);
    tcase_add_test(tc, retention_expires_instances_and_files);
    tcase_add_test(tc, housekeeping_thread_runs_and_stops);
    suite_add_tcase(s, tc);

    tc = tcase_create("store_failure");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120); /* three calls each wait out the store's 10 s busy timeout */
    tcase_add_test(tc, store_failure_0110);
    suite_add_tcase(s, tc);

    tc = tcase_create("concurrency");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, concurrent_clients);
    tcase_add_test(tc, throughput_create_initiate_get);
    suite_add_tcase(s, tc);
    return s;
}
