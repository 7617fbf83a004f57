/*
 * lib/media/writer.c: the library's default media writer (include/dcmmcm/media.h): for one job,
 * check every instance against its Media Application Profile, convert what the profile needs,
 * plan volumes, stage one DICOM file-set per volume (DICOMDIR, manifest, viewer), write and verify
 * one ISO 9660 image per volume, make the copies and labels, and publish the job's output at once.
 *
 * Rules it follows (digest section): profiles 5.2, 9 and A17; Failure Reasons 4.6; Execution
 * Status Info terms 4.2 and A4; never partial media A12; copies and pieces A13; File-set ID and
 * UID 5.1 and A8; splitting 5.6; lossy compression 5.8; Include Non-DICOM Objects and Display
 * Application 5.7; labels 5.4, 5.5, A10. Reports only through the mcm_media_context: never changes
 * a job's state itself, and logs only through it (mcm_media_log), so its lines reach the SCP's
 * log callback. DICOM encoding is asked of lib/dcmtk/media/dicomdir.h; of libdcmmcm it calls only
 * the public API (errors through mcm_error_set).
 */
#include "dcmmcm/media.h"

#include "dcmtk/media/dicomdir.h"
#include "media/fsutil.h"
#include "media/iso.h"
#include "media/json.h"
#include "media/label.h"
#include "media/plan.h"
#include "media/profile.h"
#include "media/sha256.h"

/* Header-only (inline) helpers of the options versions; they call only the public mcm_error_set. */
#include "core/options.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct mcm_media_writer {
    mcm_media_options opts; /* string members point at the copies below */
    char *output_dir, *staging_dir, *default_profile, *viewer_dir, *application_id;
};

/* What an ISO image needs besides the files (measured with libisofs 1.5.4: an image of one small
 * file is 374,784 bytes with Rock Ridge and Joliet), plus the DICOMDIR header, the DICOM
 * directory and SHA256.TXT's header share, with a margin. */
#define VOLUME_OVERHEAD (1024u * 1024u)

/* The size of each version of mcm_media_options (lib/core/options.h): version 2 appends
 * MCM_OPTIONS_END(mcm_media_options, <its last field>). Version 1: dcmmcm 0.1. */
static const size_t media_options_sizes[] = {MCM_OPTIONS_END(mcm_media_options, image_written_user)};
MCM_OPTIONS_CHECK(mcm_media_options, media_options_sizes, MCM_MEDIA_OPTIONS_VERSION);
static const mcm_options_versions media_options_versions = {"mcm_media_options", "MCM_MEDIA_OPTIONS_INIT",
                                                            media_options_sizes, MCM_MEDIA_OPTIONS_VERSION};

MCM_EXTERN int mcm_media_options_init(mcm_media_options *opts, unsigned int version)
{
    static const mcm_media_options defaults = MCM_MEDIA_OPTIONS_INIT;
    return mcm_options_fill(opts, version, &defaults, &media_options_versions);
}

MCM_EXTERN int mcm_media_profile_supported(const char *profile)
{
    return mcm_profile_find(profile) != NULL;
}

/* ---- writer ---- */

static int copy_option(char **out, const char *value)
{
    *out = NULL;
    if (value == NULL)
        return MCM_OK;
    *out = strdup(value);
    return *out != NULL ? MCM_OK : mcm_error_set(MCM_ENOMEM, "out of memory copying options");
}

/* The viewer is copied to the root of every volume: it must not bring names the file-set owns
 * (compared without case: the ISO 9660 tree upper-cases names). */
static int check_viewer_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return mcm_error_set(MCM_EINVAL, "viewer_dir %s is not a readable directory", dir);
    static const char *const reserved[] = {"DICOMDIR", "DICOM", "SHA256.TXT"};
    int rc = MCM_OK;
    struct dirent *entry;
    while (rc == MCM_OK && (entry = readdir(d)) != NULL)
        for (size_t r = 0; r < sizeof reserved / sizeof reserved[0]; r++)
            if (strcasecmp(entry->d_name, reserved[r]) == 0)
                rc = mcm_error_set(MCM_EINVAL, "viewer_dir %s holds %s, a name the DICOM file-set uses", dir, entry->d_name);
    closedir(d);
    return rc;
}

MCM_EXTERN void mcm_media_writer_free(mcm_media_writer *writer)
{
    if (writer == NULL)
        return;
    free(writer->output_dir);
    free(writer->staging_dir);
    free(writer->default_profile);
    free(writer->viewer_dir);
    free(writer->application_id);
    free(writer);
    mcm_iso_release();
}

MCM_EXTERN int mcm_media_writer_new(mcm_media_writer **out, const mcm_media_options *caller_opts)
{
    if (out == NULL || caller_opts == NULL)
        return mcm_error_set(MCM_EINVAL, "mcm_media_writer_new: NULL argument");
    *out = NULL;
    /* Only the caller's version of its struct is read (lib/core/options.h). */
    mcm_media_options full = MCM_MEDIA_OPTIONS_INIT;
    int version_rc = mcm_options_read(&full, sizeof full, caller_opts, &media_options_versions);
    if (version_rc != MCM_OK)
        return version_rc;
    const mcm_media_options *opts = &full;
    if (opts->output_dir == NULL || opts->output_dir[0] == '\0')
        return mcm_error_set(MCM_EINVAL, "output_dir is required");
    const char *profile = opts->default_profile != NULL ? opts->default_profile : "STD-GEN-CD";
    if (mcm_profile_find(profile) == NULL)
        return mcm_error_set(MCM_EINVAL, "default_profile %s is not supported", profile);
    if (opts->copy_mode != MCM_MEDIA_COPY_LINK && opts->copy_mode != MCM_MEDIA_COPY_FILE)
        return mcm_error_set(MCM_EINVAL, "unknown copy_mode %d", (int)opts->copy_mode);
    if (opts->label_dpi != 0 && (opts->label_dpi < 72 || opts->label_dpi > 1200))
        return mcm_error_set(MCM_EINVAL, "label_dpi %u is outside 72..1200", opts->label_dpi);
    if (opts->viewer_dir != NULL) {
        int rc = check_viewer_dir(opts->viewer_dir);
        if (rc != MCM_OK)
            return rc;
    }
    int rc = mcm_fs_mkdir_p(opts->output_dir);
    if (rc != MCM_OK)
        return rc;
    char staging[MCM_PATH_MAX];
    if (opts->staging_dir != NULL)
        rc = mcm_fs_path(staging, "%s", opts->staging_dir);
    else
        rc = mcm_fs_path(staging, "%s/.staging", opts->output_dir);
    if (rc == MCM_OK)
        rc = mcm_fs_mkdir_p(staging);
    if (rc != MCM_OK)
        return rc;

    mcm_media_writer *w = calloc(1, sizeof *w);
    if (w == NULL)
        return mcm_error_set(MCM_ENOMEM, "out of memory creating a media writer");
    /* Absolute paths: libisofs refuses relative ones, and the SCP's working directory is not ours. */
    w->output_dir = realpath(opts->output_dir, NULL);
    w->staging_dir = realpath(staging, NULL);
    if (w->output_dir == NULL || w->staging_dir == NULL) {
        rc = mcm_error_set(MCM_EIO, "cannot resolve %s or %s: %s", opts->output_dir, staging, strerror(errno));
        free(w->output_dir);
        free(w->staging_dir);
        free(w);
        return rc;
    }
    if (opts->viewer_dir != NULL && (w->viewer_dir = realpath(opts->viewer_dir, NULL)) == NULL)
        rc = mcm_error_set(MCM_EIO, "cannot resolve %s: %s", opts->viewer_dir, strerror(errno));
    if (rc == MCM_OK)
        rc = copy_option(&w->default_profile, profile);
    if (rc == MCM_OK)
        rc = copy_option(&w->application_id, opts->application_id != NULL ? opts->application_id : "DCMMCM");
    if (rc == MCM_OK)
        rc = mcm_iso_acquire();
    if (rc != MCM_OK) {
        free(w->output_dir);
        free(w->staging_dir);
        free(w->default_profile);
        free(w->viewer_dir);
        free(w->application_id);
        free(w);
        return rc;
    }
    w->opts = *opts;
    w->opts.output_dir = w->output_dir;
    w->opts.staging_dir = w->staging_dir;
    w->opts.default_profile = w->default_profile;
    w->opts.viewer_dir = w->viewer_dir;
    w->opts.application_id = w->application_id;
    if (w->opts.label_dpi == 0)
        w->opts.label_dpi = 300;
    *out = w;
    return MCM_OK;
}

/* ---- one job ---- */

/* The Execution Status Info term for a Failure Reason (digest 4.6). */
static const char *term_for_reason(uint16_t reason)
{
    switch (reason) {
    case MCM_FAILURE_NO_SUCH_INSTANCE: return "NO_INSTANCE";
    case MCM_FAILURE_PROFILE_NOT_SUPPORTED:
    case MCM_FAILURE_SOP_CLASS_NOT_SUPPORTED: return "NOT_SUPPORTED";
    case MCM_FAILURE_CLASS_INSTANCE_CONFLICT:
    case MCM_FAILURE_PROFILES_CONFLICT:
    case MCM_FAILURE_PROFILE_INSTANCE_CONFLICT:
    case MCM_FAILURE_PROFILE_COMPRESSION_CONFLICT: return "INST_AP_CONFLICT";
    case MCM_FAILURE_MISSING_ATTRIBUTE:
    case MCM_FAILURE_MISSING_ATTRIBUTE_VALUE: return "DIR_PROC_ERR";
    case MCM_FAILURE_INSTANCE_SIZE_EXCEEDED: return "INST_OVERSIZED";
    default: return "PROC_FAILURE";
    }
}

/* When instances fail for different reasons, one term must speak for the job: the first of these
 * that applies (what the SCU must fix first: send the instances, then choose profiles it can
 * have, then fix the data, then size). */
static int term_rank(const char *term)
{
    static const char *const order[] = {"NO_INSTANCE",  "NOT_SUPPORTED",  "INST_AP_CONFLICT",
                                        "DIR_PROC_ERR", "INST_OVERSIZED", "PROC_FAILURE"};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (strcmp(term, order[i]) == 0)
            return (int)i;
    return (int)(sizeof order / sizeof order[0]);
}

typedef struct instance_state {
    const mcm_profile *profile;
    mcm_dicom_info info;
    int inspected;
    mcm_ts_action action;
    uint16_t failure; /* 0 while the instance is fine */
    uint64_t size;    /* of the file prepared for the media (pool_path()) */
    char original_ts[65];
} instance_state;

typedef struct volume_state {
    char fileset_id[17];
    char fileset_uid[MCM_UID_MAX + 1];
    char image_name[64];
    uint64_t image_size;
    char image_sha256[MCM_SHA256_HEX];
    char **copy_names;
    unsigned copy_count;
    int copies_linked;
    size_t first, end; /* range in the plan order */
    char label_json[32], label_png[32], label_pdf[32];
} volume_state;

typedef struct job_run {
    mcm_media_writer *writer;
    const mcm_job *job;
    const mcm_request *request;
    mcm_media_context *ctx;
    const mcm_instance *instances;
    size_t count;
    const char *uid;
    instance_state *state;
    const char *worst_term; /* the job's term when instances failed */
    char message[256];
    int reported; /* the job was failed through the context (mcm_media_fail) */
    /* plan */
    mcm_plan_item *items;
    size_t *order;
    unsigned volumes;
    volume_state *volume;
    unsigned copies;
    const mcm_profile *first_profile;
    int include_viewer;
    /* paths */
    char staging[MCM_PATH_MAX]; /* <staging>/<uid> */
    char part[MCM_PATH_MAX];    /* <output>/<uid>.part */
    char final[MCM_PATH_MAX];   /* <output>/<uid> */
    /* UTF-8 request values for labels */
    char *label_text, *media_disposition, *barcode_value;
    char created[32];
} job_run;

/* Milliseconds on a monotonic clock, for the phase timings logged at debug level. */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static double mb_per_s(uint64_t bytes, double ms)
{
    return ms > 0 ? (double)bytes / 1e3 / ms : 0;
}

static int stopped(void *user)
{
    return mcm_media_should_stop(user);
}

/* Record a Failed SOP Sequence item and remember the job's term. */
static int fail_instance(job_run *run, size_t index, uint16_t reason, const uint32_t *tags, size_t tag_count,
                         const char *why)
{
    run->state[index].failure = reason;
    const char *term = term_for_reason(reason);
    if (run->worst_term == NULL || term_rank(term) < term_rank(run->worst_term)) {
        run->worst_term = term;
        snprintf(run->message, sizeof run->message, "instance %s: %s", run->instances[index].sop_instance_uid, why);
    }
    mcm_media_log(run->ctx, MCM_LOG_INFO, "job %s: instance %s fails with %04X: %s", run->uid,
                  run->instances[index].sop_instance_uid, reason, why);
    return mcm_media_fail_instance(run->ctx, index, reason, tags, tag_count);
}

static int fail_job(job_run *run, const char *term, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail_job(job_run *run, const char *term, const char *fmt, ...)
{
    char message[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    run->reported = 1;
    return mcm_media_fail(run->ctx, term, message);
}

/* End the job with the term of its failed instances. */
static int fail_with_instances(job_run *run)
{
    return fail_job(run, run->worst_term, "%s", run->message);
}

static const char *attribute(const job_run *run, uint32_t tag)
{
    return mcm_request_attribute(run->request, tag);
}

static int attribute_is(const job_run *run, uint32_t tag, const char *value)
{
    const char *v = attribute(run, tag);
    if (v == NULL)
        return 0;
    size_t n = strlen(v);
    while (n > 0 && v[n - 1] == ' ')
        n--;
    return strlen(value) == n && strncmp(v, value, n) == 0;
}

/* A request value in UTF-8 (the request's own Specific Character Set, PS3.5 6.1), or NULL. */
static int request_text(const job_run *run, uint32_t tag, char **out)
{
    *out = NULL;
    const char *value = attribute(run, tag);
    if (value == NULL)
        return MCM_OK;
    /* A request that passed validation holds no NUL inside a value (mcm_vr_check refuses one), so
     * the C string is the whole value; trailing NULs are dropped as padding all the same. */
    size_t length = strlen(value);
    while (length > 0 && (value[length - 1] == ' ' || value[length - 1] == '\0'))
        length--;
    if (length == 0)
        return MCM_OK;
    return mcm_dicom_text_to_utf8(attribute(run, MCM_TAG_SPECIFIC_CHARACTER_SET), value, length, out);
}

/* ---- phase 1: profiles ---- */

static int resolve_profiles(job_run *run)
{
    const mcm_profile *first = NULL;
    for (size_t i = 0; i < run->count; i++) {
        const char *name = run->instances[i].profile != NULL && run->instances[i].profile[0] != '\0'
                               ? run->instances[i].profile
                               : run->writer->default_profile;
        const mcm_profile *p = mcm_profile_find(name);
        run->state[i].profile = p;
        int rc = MCM_OK;
        if (p == NULL) {
            char why[128];
            snprintf(why, sizeof why, "profile %.64s is not supported", name);
            rc = fail_instance(run, i, MCM_FAILURE_PROFILE_NOT_SUPPORTED, NULL, 0, why);
        } else if (first == NULL) {
            first = p;
        } else if (p->medium != first->medium) {
            /* Profiles of different media cannot be on one piece of media (0201H). */
            char why[160];
            snprintf(why, sizeof why, "profile %s (%s) conflicts with %s (%s)", p->name, mcm_medium_name(p->medium),
                     first->name, mcm_medium_name(first->medium));
            rc = fail_instance(run, i, MCM_FAILURE_PROFILES_CONFLICT, NULL, 0, why);
        }
        if (rc != MCM_OK)
            return rc;
    }
    run->first_profile = first;
    return MCM_OK;
}

/* ---- phase 2: instances ---- */

static int compare_uid_pointers(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Digest A14: the same instance twice fails the job with DUPL_REF_INST. */
static int find_duplicate(const job_run *run, const char **duplicate)
{
    const char **uids = malloc(run->count * sizeof *uids);
    if (uids == NULL)
        return mcm_error_set(MCM_ENOMEM, "out of memory checking duplicates");
    for (size_t i = 0; i < run->count; i++)
        uids[i] = run->instances[i].sop_instance_uid != NULL ? run->instances[i].sop_instance_uid : "";
    qsort(uids, run->count, sizeof *uids, compare_uid_pointers);
    *duplicate = NULL;
    for (size_t i = 1; i < run->count && *duplicate == NULL; i++)
        if (strcmp(uids[i], uids[i - 1]) == 0)
            *duplicate = uids[i];
    free(uids);
    return MCM_OK;
}

static int same_uid(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static int inspect_instances(job_run *run)
{
    int lossy_allowed = attribute_is(run, MCM_TAG_ALLOW_LOSSY_COMPRESSION, "YES");
    for (size_t i = 0; i < run->count; i++) {
        if (mcm_media_should_stop(run->ctx))
            return MCM_ECANCELED;
        instance_state *st = &run->state[i];
        const mcm_instance *in = &run->instances[i];
        if (st->failure != 0)
            continue;
        int rc;
        if (in->path == NULL || access(in->path, R_OK) != 0) {
            rc = fail_instance(run, i, MCM_FAILURE_NO_SUCH_INSTANCE, NULL, 0, "the stored file is not readable");
            if (rc != MCM_OK)
                return rc;
            continue;
        }
        /* The transfer syntax the file really has decides; the check of it as it is only makes sense
         * when it is to be kept. */
        mcm_dicom_info probe;
        rc = mcm_dicom_inspect(in->path, st->profile->dicomdir, 0, &probe);
        if (rc != MCM_OK)
            return rc;
        mcm_ts_action action = mcm_profile_ts_action(st->profile, probe.transfer_syntax_uid);
        if (action == MCM_TS_KEEP && probe.verdict == MCM_DICOM_OK) {
            mcm_dicom_info_clear(&probe);
            rc = mcm_dicom_inspect(in->path, st->profile->dicomdir, 1, &probe);
            if (rc != MCM_OK)
                return rc;
        }
        st->info = probe;
        st->inspected = 1;
        st->action = action;
        snprintf(st->original_ts, sizeof st->original_ts, "%s", probe.transfer_syntax_uid);
        char why[200];
        if (probe.verdict == MCM_DICOM_UNREADABLE) {
            rc = fail_instance(run, i, MCM_FAILURE_PROCESSING, NULL, 0, "the stored file is not a readable DICOM file");
        } else if (!same_uid(probe.sop_class_uid, in->sop_class_uid) ||
                   !same_uid(probe.sop_instance_uid, in->sop_instance_uid)) {
            snprintf(why, sizeof why, "the stored file is %.64s / %.64s", probe.sop_class_uid, probe.sop_instance_uid);
            rc = fail_instance(run, i, MCM_FAILURE_CLASS_INSTANCE_CONFLICT, NULL, 0, why);
        } else if (probe.verdict == MCM_DICOM_SOP_CLASS) {
            snprintf(why, sizeof why, "SOP class %.64s is not allowed by %s", probe.sop_class_uid, st->profile->name);
            rc = fail_instance(run, i, MCM_FAILURE_PROFILE_INSTANCE_CONFLICT, NULL, 0, why);
        } else if (action == MCM_TS_NEEDS_LOSSY) {
            /* PS3.4 S.3.2.1.1.9: lossy only where the profile needs it and the SCU allows it; this
             * writer has no video encoder, so even an allowed lossy conversion cannot be made. */
            snprintf(why, sizeof why, "%s needs lossy compression of %.64s%s", st->profile->name,
                     probe.transfer_syntax_uid,
                     lossy_allowed ? ", which this writer cannot make" : " and Allow Lossy Compression is not YES");
            rc = fail_instance(run, i,
                               lossy_allowed ? MCM_FAILURE_PROFILE_INSTANCE_CONFLICT
                                             : MCM_FAILURE_PROFILE_COMPRESSION_CONFLICT,
                               NULL, 0, why);
        } else if (action == MCM_TS_IMPOSSIBLE || probe.verdict == MCM_DICOM_TRANSFER_SYNTAX) {
            snprintf(why, sizeof why, "transfer syntax %.64s is not allowed by %s and cannot be converted",
                     probe.transfer_syntax_uid, st->profile->name);
            rc = fail_instance(run, i, MCM_FAILURE_PROFILE_INSTANCE_CONFLICT, NULL, 0, why);
        } else if (probe.verdict == MCM_DICOM_ATTRIBUTES) {
            /* One item per instance: the absent attributes first (0120H); the empty ones (0121H)
             * when nothing is absent. */
            if (probe.missing_count > 0 || probe.empty_count == 0)
                rc = fail_instance(run, i, MCM_FAILURE_MISSING_ATTRIBUTE, probe.missing, probe.missing_count,
                                   "attributes the DICOMDIR needs are missing");
            else
                rc = fail_instance(run, i, MCM_FAILURE_MISSING_ATTRIBUTE_VALUE, probe.empty, probe.empty_count,
                                   "attributes the DICOMDIR needs are empty");
        }
        if (rc != MCM_OK)
            return rc;
    }
    return MCM_OK;
}

/* ---- phase 3: the files that go on the media ---- */

/* Where instance index's file for the media is prepared: "<staging>/<uid>/pool/<index>" (computed,
 * not stored: a job may reference 100,000 instances). */
static int pool_path(const job_run *run, size_t index, char out[MCM_PATH_MAX])
{
    return mcm_fs_path(out, "%s/pool/%06zu", run->staging, index);
}

static int prepare_files(job_run *run)
{
    char pool[MCM_PATH_MAX];
    int rc = mcm_fs_path(pool, "%s/pool", run->staging);
    if (rc == MCM_OK)
        rc = mcm_fs_mkdir_p(pool);
    for (size_t i = 0; rc == MCM_OK && i < run->count; i++) {
        if (mcm_media_should_stop(run->ctx))
            return MCM_ECANCELED;
        instance_state *st = &run->state[i];
        char prepared[MCM_PATH_MAX];
        if ((rc = pool_path(run, i, prepared)) != MCM_OK)
            break;
        if (st->action == MCM_TS_KEEP) {
            rc = mcm_fs_link_or_copy(run->instances[i].path, prepared, NULL);
        } else {
            /* MCM_TS_REWRITE or MCM_TS_DECODE: explicit VR little endian, which every profile that
             * gets here allows. */
            rc = mcm_dicom_rewrite_explicit_le(run->instances[i].path, prepared);
            if (rc == MCM_EDICOM) {
                char why[200];
                snprintf(why, sizeof why, "cannot convert to explicit VR little endian: %.150s", mcm_last_error());
                rc = fail_instance(run, i, MCM_FAILURE_PROCESSING, NULL, 0, why);
                continue;
            }
            if (rc == MCM_OK)
                mcm_media_log(run->ctx, MCM_LOG_DEBUG,
                              "job %s: instance %s converted from %s to explicit VR little endian", run->uid, run->instances[i].sop_instance_uid, st->original_ts);
        }
        if (rc == MCM_OK)
            rc = mcm_fs_file_size(prepared, &st->size);
    }
    return rc;
}

/* ---- phase 4: volumes ---- */

static uint64_t capacity_of(const job_run *run)
{
    const mcm_media_options *o = &run->writer->opts;
    if (o->capacity_bytes != 0)
        return o->capacity_bytes;
    if (run->first_profile->medium == MCM_MEDIUM_FLASH)
        return o->usb_capacity_bytes;
    return mcm_medium_capacity(run->first_profile->medium);
}

static int plan_volumes(job_run *run, const mcm_plan_limits *limits)
{
    run->items = calloc(run->count, sizeof *run->items);
    run->order = calloc(run->count, sizeof *run->order);
    if (run->items == NULL || run->order == NULL)
        return mcm_error_set(MCM_ENOMEM, "out of memory planning volumes");
    for (size_t i = 0; i < run->count; i++) {
        mcm_plan_item *item = &run->items[i];
        const mcm_dicom_info *info = &run->state[i].info;
        item->index = i;
        item->patient_key = info->patient_id;
        item->study_uid = info->study_instance_uid;
        item->series_uid = info->series_instance_uid;
        item->instance_number = strtol(info->instance_number, NULL, 10);
        item->size = run->state[i].size;
    }
    return mcm_plan_volumes(run->items, run->count, limits, run->order, &run->volumes);
}

/* File-set IDs (digest A8, 5.1): the SCU's, made DICOMDIR-safe, else generated; with several
 * volumes, at most 12 characters of it and "_nnn". UIDs: the SCU's for volume 1, generated for
 * the others (each volume its own, PS3.4 S.3.2.1.1.1); copies share their volume's. */
static int name_volumes(job_run *run)
{
    char base[17];
    mcm_fileset_id_sanitize(attribute(run, MCM_TAG_STORAGE_MEDIA_FILESET_ID), base);
    if (base[0] == '\0') {
        /* "DCMMCM" and the last ten digits of the job's UID: stable for the job, readable. */
        char digits[MCM_UID_MAX + 1];
        size_t n = 0;
        for (const char *p = run->uid; *p != '\0'; p++)
            if (*p >= '0' && *p <= '9')
                digits[n++] = *p;
        digits[n] = '\0';
        snprintf(base, sizeof base, "DCMMCM%.10s", n > 10 ? digits + n - 10 : digits);
    }
    const char *scu_uid = attribute(run, MCM_TAG_STORAGE_MEDIA_FILESET_UID);
    for (unsigned v = 0; v < run->volumes; v++) {
        volume_state *vol = &run->volume[v];
        if (run->volumes == 1)
            snprintf(vol->fileset_id, sizeof vol->fileset_id, "%s", base);
        else
            snprintf(vol->fileset_id, sizeof vol->fileset_id, "%.12s_%03u", base, (v + 1) % 1000);
        if (v == 0 && scu_uid != NULL && mcm_uid_is_valid(scu_uid)) {
            snprintf(vol->fileset_uid, sizeof vol->fileset_uid, "%s", scu_uid);
        } else {
            int rc = mcm_uid_generate(vol->fileset_uid);
            if (rc != MCM_OK)
                return rc;
        }
        snprintf(vol->image_name, sizeof vol->image_name, "VOL%03u.iso", v + 1);
        snprintf(vol->label_json, sizeof vol->label_json, "VOL%03u.json", v + 1);
        snprintf(vol->label_png, sizeof vol->label_png, "VOL%03u.png", v + 1);
        snprintf(vol->label_pdf, sizeof vol->label_pdf, "VOL%03u.pdf", v + 1);
    }
    /* Volume ranges in plan order. */
    size_t at = 0;
    for (unsigned v = 0; v < run->volumes; v++) {
        run->volume[v].first = at;
        while (at < run->count && run->items[run->order[at]].volume == v + 1)
            at++;
        run->volume[v].end = at;
    }
    return MCM_OK;
}

/* ---- phase 5: one volume ---- */

/* The DICOMDIR rules for a volume: its one profile, or, when profiles of one medium are mixed,
 * the first that is not a video profile (they allow every SOP class the others do), with the
 * transfer syntax check off because each file was checked against its own profile. */
static void volume_dicomdir_profile(const job_run *run, const volume_state *vol, mcm_dd_profile *profile,
                                    int *check_transfer_syntax)
{
    const mcm_profile *chosen = NULL; /* every volume holds at least one instance */
    int mixed = 0;
    for (size_t k = vol->first; k < vol->end; k++) {
        const mcm_profile *p = run->state[run->order[k]].profile;
        if (chosen == NULL)
            chosen = p;
        else if (p != chosen)
            mixed = 1;
    }
    if (mixed)
        for (size_t k = vol->first; k < vol->end; k++) {
            const mcm_profile *p = run->state[run->order[k]].profile;
            if (p->dicomdir <= MCM_DD_USB_J2K) {
                chosen = p;
                break;
            }
        }
    if (chosen == NULL)
        chosen = run->first_profile;
    *profile = chosen->dicomdir;
    *check_transfer_syntax = !mixed;
}

static int parent_dirs(const char *path)
{
    char dir[MCM_PATH_MAX];
    int rc = mcm_fs_path(dir, "%s", path);
    if (rc != MCM_OK)
        return rc;
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        return MCM_OK;
    *slash = '\0';
    return mcm_fs_mkdir_p(dir);
}

/* Names of the file-set itself: the same in all three trees of the image. */
static int in_fileset(const char *relative)
{
    return strcmp(relative, "DICOMDIR") == 0 || strcmp(relative, "SHA256.TXT") == 0 ||
           strncmp(relative, "DICOM/", 6) == 0;
}

/* SHA256.TXT: "<hash>  <path>" for every other file of the volume, the format sha256sum -c
 * reads; its 8.3 name survives readers without Rock Ridge or Joliet (media-notes.md section 4).
 * The expectations for the read-back come out of the same hashes. */
static int write_manifest(const char *root, mcm_iso_expect **expect_out, char ***hashes_out, char ***paths_out,
                          size_t *count_out)
{
    char **paths;
    size_t count;
    int rc = mcm_fs_list_files(root, &paths, &count);
    if (rc != MCM_OK)
        return rc;
    /* One more slot in each for SHA256.TXT itself. */
    size_t slots = count + 1;
    char **hashes = calloc(slots, sizeof *hashes);
    mcm_iso_expect *expect = calloc(slots, sizeof *expect);
    size_t text_size = 0, text_capacity = 4096;
    char *text = malloc(text_capacity);
    if (hashes == NULL || expect == NULL || text == NULL)
        rc = mcm_error_set(MCM_ENOMEM, "out of memory writing a manifest");
    for (size_t i = 0; rc == MCM_OK && i < count; i++) {
        char full[MCM_PATH_MAX], hex[MCM_SHA256_HEX];
        if ((rc = mcm_fs_path(full, "%s/%s", root, paths[i])) != MCM_OK ||
            (rc = mcm_sha256_file(full, hex, NULL)) != MCM_OK)
            break;
        if ((hashes[i] = strdup(hex)) == NULL) {
            rc = mcm_error_set(MCM_ENOMEM, "out of memory writing a manifest");
            break;
        }
        size_t need = strlen(hex) + 2 + strlen(paths[i]) + 2;
        if (text_size + need > text_capacity) {
            while (text_size + need > text_capacity)
                text_capacity *= 2;
            char *bigger = realloc(text, text_capacity);
            if (bigger == NULL) {
                rc = mcm_error_set(MCM_ENOMEM, "out of memory writing a manifest");
                break;
            }
            text = bigger;
        }
        text_size += (size_t)sprintf(text + text_size, "%s  %s\n", hex, paths[i]);
        expect[i].path = paths[i];
        expect[i].sha256 = hashes[i];
        expect[i].in_every_tree = in_fileset(paths[i]);
    }
    char manifest_path[MCM_PATH_MAX];
    if (rc == MCM_OK && (rc = mcm_fs_path(manifest_path, "%s/SHA256.TXT", root)) == MCM_OK)
        rc = mcm_fs_write_file(manifest_path, text, text_size);
    free(text);
    /* The manifest is on the volume too: the read-back checks it like any file. */
    char **grown = rc == MCM_OK ? realloc(paths, (count + 1) * sizeof *paths) : NULL;
    if (rc == MCM_OK && grown == NULL)
        rc = mcm_error_set(MCM_ENOMEM, "out of memory writing a manifest");
    if (rc == MCM_OK) {
        paths = grown;
        char hex[MCM_SHA256_HEX];
        paths[count] = strdup("SHA256.TXT");
        rc = paths[count] == NULL ? mcm_error_set(MCM_ENOMEM, "out of memory") : mcm_sha256_file(manifest_path, hex, NULL);
        if (paths[count] != NULL)
            count++;
        if (rc == MCM_OK && (hashes[count - 1] = strdup(hex)) == NULL)
            rc = mcm_error_set(MCM_ENOMEM, "out of memory writing a manifest");
        if (rc == MCM_OK) {
            expect[count - 1].path = paths[count - 1];
            expect[count - 1].sha256 = hashes[count - 1];
            expect[count - 1].in_every_tree = 1;
        }
    }
    if (rc != MCM_OK) {
        mcm_fs_free_list(paths, count);
        mcm_fs_free_list(hashes, slots);
        free(expect);
        return rc;
    }
    *expect_out = expect;
    *hashes_out = hashes;
    *paths_out = paths;
    *count_out = count;
    return MCM_OK;
}

/* Copies 2..n of a volume's image (digest A13): hard links or copies, as configured. */
static int make_copies(job_run *run, volume_state *vol, unsigned v)
{
    if (run->copies < 2)
        return MCM_OK;
    vol->copy_names = calloc(run->copies - 1, sizeof *vol->copy_names);
    if (vol->copy_names == NULL)
        return mcm_error_set(MCM_ENOMEM, "out of memory making copies");
    int width = run->copies >= 100 ? (run->copies >= 1000 ? 4 : 3) : 2;
    char image[MCM_PATH_MAX];
    int rc = mcm_fs_path(image, "%s/%s", run->part, vol->image_name);
    vol->copies_linked = run->writer->opts.copy_mode == MCM_MEDIA_COPY_LINK;
    for (unsigned c = 2; rc == MCM_OK && c <= run->copies; c++) {
        char name[64], path[MCM_PATH_MAX];
        snprintf(name, sizeof name, "VOL%03u_C%0*u.iso", v + 1, width, c);
        if ((rc = mcm_fs_path(path, "%s/%s", run->part, name)) != MCM_OK)
            break;
        if (run->writer->opts.copy_mode == MCM_MEDIA_COPY_LINK) {
            int linked = 0;
            rc = mcm_fs_link_or_copy(image, path, &linked);
            if (!linked)
                vol->copies_linked = 0;
        } else {
            rc = mcm_fs_copy_file(image, path);
        }
        if (rc == MCM_OK && (vol->copy_names[vol->copy_count] = strdup(name)) == NULL)
            rc = mcm_error_set(MCM_ENOMEM, "out of memory making copies");
        if (rc == MCM_OK)
            vol->copy_count++;
    }
    return rc;
}

/* The volume's label: what its instances say (digest 5.4) and what the request asks. */
static int write_label(job_run *run, volume_state *vol, unsigned v)
{
    size_t n = vol->end - vol->first;
    mcm_label_patient *patients = calloc(n, sizeof *patients);
    mcm_label_study *studies = calloc(n, sizeof *studies);
    if (patients == NULL || studies == NULL) {
        free(patients);
        free(studies);
        return mcm_error_set(MCM_ENOMEM, "out of memory making a label");
    }
    size_t patient_count = 0, study_count = 0;
    for (size_t k = vol->first; k < vol->end; k++) {
        const mcm_dicom_info *info = &run->state[run->order[k]].info;
        size_t p = 0;
        while (p < patient_count && strcmp(patients[p].id, info->patient_id) != 0)
            p++;
        if (p == patient_count) {
            patients[p].name = info->patient_name;
            patients[p].id = info->patient_id;
            patients[p].birth_date = info->patient_birth_date;
            patients[p].sex = info->patient_sex;
            patient_count++;
        }
        size_t s = 0;
        while (s < study_count && strcmp(studies[s].study_uid, info->study_instance_uid) != 0)
            s++;
        if (s == study_count) {
            studies[s].patient_id = info->patient_id;
            studies[s].study_uid = info->study_instance_uid;
            studies[s].date = info->study_date;
            studies[s].description = info->study_description;
            studies[s].accession_number = info->accession_number;
            study_count++;
        }
        studies[s].images++;
        /* Modalities of the study, each once. */
        char *m = studies[s].modalities;
        size_t length = strlen(m), mod_length = strlen(info->modality);
        int seen = 0;
        for (const char *q = m; *q != '\0';) {
            size_t part = strcspn(q, "\\");
            if (part == mod_length && strncmp(q, info->modality, part) == 0)
                seen = 1;
            q += part;
            if (*q == '\\')
                q++;
        }
        if (!seen && mod_length > 0 && length + mod_length + 2 < sizeof studies[s].modalities)
            snprintf(m + length, sizeof studies[s].modalities - length, "%s%s", length > 0 ? "\\" : "", info->modality);
    }
    const char *use = attribute(run, MCM_TAG_LABEL_USING_INFORMATION);
    char symbology[17] = "";
    const char *raw_symbology = attribute(run, MCM_TAG_BARCODE_SYMBOLOGY);
    if (raw_symbology != NULL)
        snprintf(symbology, sizeof symbology, "%s", raw_symbology);
    mcm_label label = {
        .job_uid = run->uid,
        .fileset_id = vol->fileset_id,
        .fileset_uid = vol->fileset_uid,
        .profile = run->first_profile->name,
        .medium = mcm_medium_name(run->first_profile->medium),
        .volume = v + 1,
        .volumes = run->volumes,
        .copies = run->copies,
        /* Absent counts as YES: a label without the patient is of little use on patient media. */
        .use_extracted = use == NULL || !attribute_is(run, MCM_TAG_LABEL_USING_INFORMATION, "NO"),
        .label_text = run->label_text,
        .style = attribute(run, MCM_TAG_LABEL_STYLE_SELECTION),
        .barcode_value = run->barcode_value,
        .barcode_symbology = raw_symbology != NULL ? symbology : NULL,
        .media_disposition = run->media_disposition,
        .patients = patients,
        .patient_count = patient_count,
        .studies = studies,
        .study_count = study_count,
        .images = (unsigned)n,
        .created = run->created,
    };
    char png[MCM_PATH_MAX], pdf[MCM_PATH_MAX], json[MCM_PATH_MAX];
    int rc = mcm_fs_path(png, "%s/%s", run->part, vol->label_png);
    if (rc == MCM_OK)
        rc = mcm_fs_path(pdf, "%s/%s", run->part, vol->label_pdf);
    if (rc == MCM_OK)
        rc = mcm_fs_path(json, "%s/%s", run->part, vol->label_json);
    mcm_label_result result;
    const mcm_media_options *o = &run->writer->opts;
    if (rc == MCM_OK)
        rc = mcm_label_render(&label, o->label_png ? png : NULL, o->label_pdf ? pdf : NULL, o->label_dpi, &result);
    if (rc == MCM_OK)
        rc = mcm_label_write_json(&label, &result, o->label_png ? vol->label_png : NULL,
                                  o->label_pdf ? vol->label_pdf : NULL, json);
    free(patients);
    free(studies);
    return rc;
}

/* Stage, index, image, verify, copy and label volume v. Failures that are the device's (file
 * system, libisofs, verification) come back as mcm_error codes; DICOMDIR refusals fail the
 * instance concerned. */
static int write_volume(job_run *run, unsigned v)
{
    double t_start = now_ms();
    volume_state *vol = &run->volume[v];
    const mcm_media_options *o = &run->writer->opts;
    char root[MCM_PATH_MAX];
    int rc = mcm_fs_path(root, "%s/VOL%03u", run->staging, v + 1);
    if (rc == MCM_OK)
        rc = mcm_fs_mkdir_p(root);
    /* The instances, hard-linked from the pool under their File IDs. */
    for (size_t k = vol->first; rc == MCM_OK && k < vol->end; k++) {
        if (mcm_media_should_stop(run->ctx))
            return MCM_ECANCELED;
        const mcm_plan_item *item = &run->items[run->order[k]];
        char path[MCM_PATH_MAX], prepared[MCM_PATH_MAX];
        if ((rc = mcm_fs_path(path, "%s/%s", root, item->file_id)) == MCM_OK && (rc = parent_dirs(path)) == MCM_OK &&
            (rc = pool_path(run, item->index, prepared)) == MCM_OK)
            rc = mcm_fs_link_or_copy(prepared, path, NULL);
    }
    if (rc == MCM_OK && run->include_viewer)
        rc = mcm_fs_copy_tree(run->writer->viewer_dir, root);
    if (rc != MCM_OK)
        return rc;

    /* The DICOMDIR. */
    mcm_dd_profile dd_profile;
    int check_ts;
    volume_dicomdir_profile(run, vol, &dd_profile, &check_ts);
    mcm_dicomdir *dd;
    if ((rc = mcm_dicomdir_begin(&dd, dd_profile, root, vol->fileset_id, check_ts)) != MCM_OK) {
        if (rc == MCM_EDICOM)
            fail_job(run, "DIR_PROC_ERR", "%s", mcm_last_error());
        return rc;
    }
    for (size_t k = vol->first; k < vol->end; k++) {
        const mcm_plan_item *item = &run->items[run->order[k]];
        rc = mcm_dicomdir_add(dd, item->file_id);
        if (rc == MCM_EDICOM) {
            /* Checked before against the same rules: a refusal here is DCMTK finding what the
             * inspection did not (e.g. records that contradict each other). */
            char why[200];
            snprintf(why, sizeof why, "the DICOMDIR refused it: %.150s", mcm_last_error());
            int frc = fail_instance(run, item->index, MCM_FAILURE_PROCESSING, NULL, 0, why);
            mcm_dicomdir_free(dd);
            if (frc != MCM_OK)
                return frc;
            fail_job(run, "DIR_PROC_ERR", "%s", run->message);
            return MCM_EDICOM;
        }
        if (rc != MCM_OK) {
            mcm_dicomdir_free(dd);
            return rc;
        }
    }
    rc = mcm_dicomdir_finish(dd, vol->fileset_uid);
    mcm_dicomdir_free(dd);
    if (rc == MCM_EDICOM) {
        fail_job(run, "DIR_PROC_ERR", "%s", mcm_last_error());
        return rc;
    }
    if (rc != MCM_OK)
        return rc;

    /* The manifest, then the image. */
    double t_dicomdir = now_ms();
    mcm_iso_expect *expect = NULL;
    char **hashes = NULL, **paths = NULL;
    size_t file_count = 0;
    if ((rc = write_manifest(root, &expect, &hashes, &paths, &file_count)) != MCM_OK)
        return rc;
    double t_manifest = now_ms();
    char image_tmp[MCM_PATH_MAX] = "", image[MCM_PATH_MAX] = "";
    rc = mcm_fs_path(image_tmp, "%s/%s.part", run->part, vol->image_name);
    if (rc == MCM_OK)
        rc = mcm_fs_path(image, "%s/%s", run->part, vol->image_name);
    if (rc == MCM_OK) {
        mcm_iso_write_params params = {
            .root = root,
            .image_path = image_tmp,
            .volume_id = vol->fileset_id,
            .application_id = run->writer->application_id,
            .capacity = capacity_of(run),
            .stop = stopped,
            .stop_user = run->ctx,
        };
        rc = mcm_iso_write(&params, &vol->image_size, vol->image_sha256);
    }
    double t_image = now_ms();
    if (rc == MCM_OK && o->image_written != NULL &&
        o->image_written(image_tmp, v + 1, run->volumes, o->image_written_user) != 0)
        rc = mcm_error_set(MCM_EIO, "the image_written hook refused %s", vol->image_name);
    if (rc == MCM_OK)
        rc = mcm_iso_verify(image_tmp, vol->image_size, vol->image_sha256, expect, file_count, stopped, run->ctx);
    double t_verified = now_ms();
    if (rc == MCM_OK && rename(image_tmp, image) != 0)
        rc = mcm_error_set(MCM_EIO, "cannot rename %s: %s", image_tmp, strerror(errno));
    free(expect);
    mcm_fs_free_list(hashes, file_count); /* file_count includes SHA256.TXT: every slot */
    mcm_fs_free_list(paths, file_count);
    if (rc != MCM_OK) {
        unlink(image_tmp);
        return rc;
    }
    mcm_media_log(run->ctx, MCM_LOG_DEBUG,
                  "job %s: volume %u: staged with its DICOMDIR in %.0f ms, manifest %.0f ms, image of %llu bytes "
                  "%.0f ms (%.0f MB/s), read back %.0f ms (%.0f MB/s)",
                  run->uid, v + 1, t_dicomdir - t_start, t_manifest - t_dicomdir, (unsigned long long)vol->image_size,
                  t_image - t_manifest, mb_per_s(vol->image_size, t_image - t_manifest), t_verified - t_image,
                  mb_per_s(vol->image_size, t_verified - t_image));
    if ((rc = make_copies(run, vol, v)) != MCM_OK)
        return rc;
    if ((rc = write_label(run, vol, v)) != MCM_OK)
        return rc;
    if (!o->keep_staging)
        rc = mcm_fs_rmtree(root);
    return rc;
}

/* ---- phase 6: the job summary and publishing ---- */

static int write_job_summary(job_run *run)
{
    mcm_json j;
    mcm_json_init(&j);
    mcm_json_begin_object(&j);
    mcm_json_kv_string(&j, "format", "dcmmcm-job/1");
    mcm_json_kv_string(&j, "job", run->uid);
    mcm_json_kv_string(&j, "medium", mcm_medium_name(run->first_profile->medium));
    mcm_json_kv_int(&j, "capacity_bytes", (int64_t)capacity_of(run));
    mcm_json_kv_int(&j, "copies", run->copies);
    mcm_json_kv_int(&j, "pieces", (int64_t)run->copies * run->volumes);
    mcm_json_kv_string(&j, "copy_mode", run->writer->opts.copy_mode == MCM_MEDIA_COPY_LINK ? "link" : "file");
    mcm_json_kv_string(&j, "include_display_application", attribute(run, MCM_TAG_INCLUDE_DISPLAY_APPLICATION));
    mcm_json_kv_bool(&j, "display_application_included", run->include_viewer);
    mcm_json_kv_string(&j, "include_non_dicom_objects", attribute(run, MCM_TAG_INCLUDE_NON_DICOM_OBJECTS));
    /* No non-DICOM renderings are ever made (digest 5.7: being unable to add them is not an error). */
    mcm_json_kv_bool(&j, "non_dicom_objects_included", 0);
    mcm_json_key(&j, "volumes");
    mcm_json_begin_array(&j);
    for (unsigned v = 0; v < run->volumes; v++) {
        const volume_state *vol = &run->volume[v];
        mcm_json_begin_object(&j);
        mcm_json_kv_int(&j, "volume", v + 1);
        mcm_json_kv_string(&j, "fileset_id", vol->fileset_id);
        mcm_json_kv_string(&j, "fileset_uid", vol->fileset_uid);
        mcm_json_kv_string(&j, "image", vol->image_name);
        mcm_json_kv_int(&j, "size", (int64_t)vol->image_size);
        mcm_json_kv_string(&j, "sha256", vol->image_sha256);
        mcm_json_kv_bool(&j, "verified", 1);
        mcm_json_key(&j, "copies");
        mcm_json_begin_array(&j);
        for (unsigned c = 0; c < vol->copy_count; c++)
            mcm_json_string(&j, vol->copy_names[c]);
        mcm_json_end_array(&j);
        mcm_json_kv_string(&j, "copies_made_as",
                           vol->copy_count == 0 ? NULL
                           : vol->copies_linked ? "hard links"
                                                : "files");
        mcm_json_kv_string(&j, "label", vol->label_json);
        mcm_json_kv_int(&j, "instances", (int64_t)(vol->end - vol->first));
        mcm_json_end_object(&j);
    }
    mcm_json_end_array(&j);
    mcm_json_key(&j, "instances");
    mcm_json_begin_array(&j);
    for (size_t k = 0; k < run->count; k++) {
        const mcm_plan_item *item = &run->items[run->order[k]];
        const instance_state *st = &run->state[item->index];
        mcm_json_begin_object(&j);
        mcm_json_kv_string(&j, "sop_instance_uid", run->instances[item->index].sop_instance_uid);
        mcm_json_kv_string(&j, "profile", st->profile->name);
        mcm_json_kv_int(&j, "volume", item->volume);
        mcm_json_kv_string(&j, "file_id", item->file_id);
        mcm_json_kv_string(&j, "transfer_syntax_received", st->original_ts);
        mcm_json_kv_string(&j, "transfer_syntax_written",
                           st->action == MCM_TS_KEEP ? st->original_ts : MCM_UID_EXPLICIT_VR_LE);
        mcm_json_end_object(&j);
    }
    mcm_json_end_array(&j);
    mcm_json_kv_string(&j, "created", run->created);
    mcm_json_end_object(&j);
    char path[MCM_PATH_MAX];
    const char *text = mcm_json_text(&j);
    int rc = text == NULL ? mcm_error_set(MCM_ENOMEM, "out of memory writing JOB.json")
                          : mcm_fs_path(path, "%s/JOB.json", run->part);
    if (rc == MCM_OK)
        rc = mcm_fs_write_file(path, text, strlen(text));
    mcm_json_free(&j);
    return rc;
}

/* The job's directory appears complete or not at all: <uid>.part is renamed to <uid>. A directory
 * left by an earlier run of the same job (the SCP stopped after publishing but before recording
 * DONE) is replaced. */
static int publish(job_run *run)
{
    /* Every file first, then the directory: once the job is DONE (the worker records it right
     * after this), a crash must not leave a copy made with MCM_MEDIA_COPY_FILE, a label or a
     * copy that fell back from a link half written. The images themselves are synced already. */
    char **files = NULL;
    size_t count = 0;
    int rc = mcm_fs_list_files(run->part, &files, &count);
    for (size_t i = 0; rc == MCM_OK && i < count; i++) {
        char path[MCM_PATH_MAX];
        if ((rc = mcm_fs_path(path, "%s/%s", run->part, files[i])) == MCM_OK)
            rc = mcm_fs_sync(path);
    }
    mcm_fs_free_list(files, count);
    if (rc == MCM_OK)
        rc = mcm_fs_sync(run->part);
    if (rc != MCM_OK)
        return rc;
    char old[MCM_PATH_MAX] = "";
    if (mcm_fs_exists(run->final)) {
        if ((rc = mcm_fs_path(old, "%s.old.%ld", run->final, (long)getpid())) != MCM_OK)
            return rc;
        mcm_fs_rmtree(old);
        if (rename(run->final, old) != 0)
            return mcm_error_set(MCM_EIO, "cannot move %s aside: %s", run->final, strerror(errno));
    }
    if (rename(run->part, run->final) != 0) {
        rc = mcm_error_set(MCM_EIO, "cannot rename %s: %s", run->part, strerror(errno));
        if (old[0] != '\0')
            rename(old, run->final);
        return rc;
    }
    if (old[0] != '\0')
        mcm_fs_rmtree(old);
    return mcm_fs_sync(run->writer->output_dir);
}

static void run_free(job_run *run)
{
    if (run->state != NULL)
        for (size_t i = 0; i < run->count; i++)
            mcm_dicom_info_clear(&run->state[i].info);
    free(run->state);
    if (run->volume != NULL)
        for (unsigned v = 0; v < run->volumes; v++)
            mcm_fs_free_list(run->volume[v].copy_names, run->volume[v].copy_count);
    free(run->volume);
    free(run->items);
    free(run->order);
    free(run->label_text);
    free(run->media_disposition);
    free(run->barcode_value);
}

/* Everything between the checks and publishing. Returns MCM_OK when the job failed through the
 * context (nothing final written) or succeeded; MCM_ECANCELED when stopped; another code for a
 * device failure (not yet reported). */
static int write_job(job_run *run)
{
    /* Every instance is checked, so that the Failed SOP Sequence lists all that must be fixed. */
    double t_start = now_ms();
    int rc = resolve_profiles(run);
    if (rc == MCM_OK)
        rc = inspect_instances(run);
    if (rc != MCM_OK)
        return rc;
    if (run->worst_term != NULL)
        return fail_with_instances(run);

    if ((rc = mcm_fs_rmtree(run->staging)) != MCM_OK || (rc = mcm_fs_mkdir_p(run->staging)) != MCM_OK)
        return rc;
    double t_checked = now_ms();
    if ((rc = prepare_files(run)) != MCM_OK)
        return rc;
    mcm_media_log(run->ctx, MCM_LOG_DEBUG, "job %s: %zu instances checked in %.0f ms, prepared for the media in %.0f ms",
                  run->uid, run->count, t_checked - t_start, now_ms() - t_checked);
    if (run->worst_term != NULL)
        return fail_with_instances(run);

    /* Capacity (PS3.4 S.3.2.1.1.6): an instance larger than the medium fails alone (0205H). */
    run->include_viewer =
        attribute_is(run, MCM_TAG_INCLUDE_DISPLAY_APPLICATION, "YES") && run->writer->viewer_dir != NULL;
    mcm_plan_limits limits = {.capacity = capacity_of(run), .volume_overhead = VOLUME_OVERHEAD};
    if (run->include_viewer) {
        uint64_t bytes;
        size_t files, dirs;
        if ((rc = mcm_fs_tree_size(run->writer->viewer_dir, &bytes, &files, &dirs)) != MCM_OK)
            return rc;
        limits.volume_overhead += bytes + files * mcm_plan_file_cost(0) + dirs * mcm_plan_directory_cost();
    }
    for (size_t i = 0; i < run->count; i++)
        if (!mcm_plan_fits_alone(&limits, run->state[i].size)) {
            char why[160];
            snprintf(why, sizeof why, "%llu bytes do not fit a %llu-byte medium",
                     (unsigned long long)run->state[i].size, (unsigned long long)limits.capacity);
            if ((rc = fail_instance(run, i, MCM_FAILURE_INSTANCE_SIZE_EXCEEDED, NULL, 0, why)) != MCM_OK)
                return rc;
        }
    if (run->worst_term != NULL)
        return fail_with_instances(run);
    if ((rc = plan_volumes(run, &limits)) != MCM_OK)
        return fail_job(run, "PROC_FAILURE", "%s", mcm_last_error());
    if (run->volumes > 1 && !attribute_is(run, MCM_TAG_ALLOW_MEDIA_SPLITTING, "YES"))
        return fail_job(run, "SET_OVERSIZED",
                        "the file-set needs %u volumes of %llu bytes and Allow Media "
                        "Splitting is not YES",
                        run->volumes, (unsigned long long)limits.capacity);
    if (run->volumes > 999 || (uint64_t)run->volumes * run->copies > 65535)
        return fail_job(run, "PROC_FAILURE", "%u volumes x %u copies are more than this writer makes", run->volumes,
                        run->copies);

    run->volume = calloc(run->volumes, sizeof *run->volume);
    if (run->volume == NULL)
        return mcm_error_set(MCM_ENOMEM, "out of memory");
    if ((rc = name_volumes(run)) != MCM_OK)
        return rc;
    if ((rc = mcm_fs_rmtree(run->part)) != MCM_OK || (rc = mcm_fs_mkdir_p(run->part)) != MCM_OK)
        return rc;
    for (unsigned v = 0; v < run->volumes; v++) {
        mcm_media_progress(run->ctx, v + 1, run->volumes);
        if (mcm_media_should_stop(run->ctx))
            return MCM_ECANCELED;
        rc = write_volume(run, v);
        if (rc != MCM_OK)
            return rc;
    }
    if ((rc = write_job_summary(run)) != MCM_OK)
        return rc;

    /* From here the job cannot be taken back: a Cancel now gets C202. */
    mcm_media_set_interruptible(run->ctx, 0);
    if (mcm_media_should_stop(run->ctx)) {
        mcm_media_set_interruptible(run->ctx, 1);
        return MCM_ECANCELED;
    }
    if ((rc = publish(run)) != MCM_OK)
        return rc;
    for (unsigned v = 0; v < run->volumes; v++)
        if ((rc = mcm_media_add_volume(run->ctx, run->volume[v].fileset_id, run->volume[v].fileset_uid)) != MCM_OK)
            return rc;
    return mcm_media_set_pieces(run->ctx, run->copies * run->volumes);
}

MCM_EXTERN int mcm_media_writer_write(const mcm_job *job, const mcm_instance *instances, size_t count,
                                      mcm_media_context *ctx, void *user)
{
    if (job == NULL || ctx == NULL || user == NULL || (instances == NULL && count > 0))
        return mcm_error_set(MCM_EINVAL, "mcm_media_writer_write: NULL argument");
    job_run run = {
        .writer = user,
        .job = job,
        .request = mcm_job_request(job),
        .ctx = ctx,
        .instances = instances,
        .count = count,
        .uid = mcm_job_uid(job),
    };
    if (count == 0)
        return fail_job(&run, "PROC_FAILURE", "the job references no instance");
    const char *duplicate = NULL;
    int rc = find_duplicate(&run, &duplicate);
    if (rc != MCM_OK) {
        fail_job(&run, "INSUFFIC_MEMORY", "%s", mcm_last_error());
        return rc;
    }
    if (duplicate != NULL)
        return fail_job(&run, "DUPL_REF_INST", "instance %.64s is referenced more than once", duplicate);
    int copies = mcm_request_copies(run.request);
    run.copies = copies > 0 ? (unsigned)copies : 1;
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(run.created, sizeof run.created, "%Y-%m-%dT%H:%M:%SZ", &utc);

    run.state = calloc(count, sizeof *run.state);
    rc = run.state == NULL ? mcm_error_set(MCM_ENOMEM, "out of memory") : MCM_OK;
    if (rc == MCM_OK)
        rc = mcm_fs_path(run.staging, "%s/%s", run.writer->staging_dir, run.uid);
    if (rc == MCM_OK)
        rc = mcm_fs_path(run.part, "%s/%s.part", run.writer->output_dir, run.uid);
    if (rc == MCM_OK)
        rc = mcm_fs_path(run.final, "%s/%s", run.writer->output_dir, run.uid);
    if (rc == MCM_OK)
        rc = request_text(&run, MCM_TAG_LABEL_TEXT, &run.label_text);
    if (rc == MCM_OK)
        rc = request_text(&run, MCM_TAG_MEDIA_DISPOSITION, &run.media_disposition);
    if (rc == MCM_OK)
        rc = request_text(&run, MCM_TAG_BARCODE_VALUE, &run.barcode_value);
    if (rc == MCM_OK)
        rc = write_job(&run);

    if (rc == MCM_ECANCELED) {
        mcm_media_log(run.ctx, MCM_LOG_INFO, "job %s: media writing stopped", run.uid);
    } else if (rc != MCM_OK && run.reported) {
        /* A failure of the request (e.g. DIR_PROC_ERR) already reported: the call did its work. */
        rc = MCM_OK;
    } else if (rc != MCM_OK) {
        /* The device could not do its work (file system, libisofs, verification): MCD_FAILURE. */
        fail_job(&run, rc == MCM_ENOMEM ? "INSUFFIC_MEMORY" : "MCD_FAILURE", "%s", mcm_last_error());
    }
    if (rc != MCM_OK || run.reported) {
        /* Never partial media (digest A12): nothing of the job stays in the output. */
        if (run.part[0] != '\0')
            mcm_fs_rmtree(run.part);
    }
    if (run.staging[0] != '\0' && !run.writer->opts.keep_staging)
        mcm_fs_rmtree(run.staging);
    else if (run.staging[0] != '\0') {
        char pool[MCM_PATH_MAX];
        if (mcm_fs_path(pool, "%s/pool", run.staging) == MCM_OK)
            mcm_fs_rmtree(pool);
    }
    run_free(&run);
    return rc;
}
