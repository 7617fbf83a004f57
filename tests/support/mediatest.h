/*
 * tests/support/mediatest.h: a media-writer test bench shared by the suite_media* suites: real DICOM
 * files (mcm_test_write_dicom) in a scratch store, a job built with the internal API, a writer,
 * a media context, and checks of what was written (dciodvfy, dcmdump, xorriso, sha256sum).
 */
#ifndef MCM_TESTS_MEDIATEST_H
#define MCM_TESTS_MEDIATEST_H

#include "testutil.h"

#include "dcmmcm.h"
#include "dcmmcm/media.h"
#include "core/job_internal.h"
#include "scp/media_context.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCM_MT_MAX 64

typedef struct mcm_media_bench {
    char *dir;                       /* scratch root */
    char store[4096], out[4096], staging[4096];
    char job_uid[65];
    mcm_job *job;
    mcm_request *request;            /* owned by job */
    mcm_instance instances[MCM_MT_MAX];
    char paths[MCM_MT_MAX][4096];
    char classes[MCM_MT_MAX][65], uids[MCM_MT_MAX][65], syntaxes[MCM_MT_MAX][65], profiles[MCM_MT_MAX][65];
    size_t count;
    mcm_media_options opts;
    mcm_media_writer *writer;
    mcm_media_context ctx;
    int ctx_ready;
    int rc;                          /* what mcm_media_writer_write returned */
    mcm_log_fn log;                  /* the context's log callback (as an SCP's options give it); NULL */
    void *log_user;
    mcm_log_level log_level;
} mcm_media_bench;

/* A new bench in its own scratch directory; options default with output and staging inside it. */
void mcm_mb_init(mcm_media_bench *b);
/* Remove everything (the scratch directory too). */
void mcm_mb_free(mcm_media_bench *b);
/* Write an instance into the store and reference it (profile may be NULL). Returns its index. */
size_t mcm_mb_add(mcm_media_bench *b, const mcm_test_instance *spec, const char *profile);
/* Add a standard mix: 2 patients, 3 studies, 5 series, CT/MR/SC, implicit and explicit VR; 10 instances. */
void mcm_mb_add_mix(mcm_media_bench *b, const char *profile);
/* Create the writer from b->opts and run it on the job; returns b->rc. The context stays for
 * inspection (b->ctx.outcome, term, results). */
int mcm_mb_run(mcm_media_bench *b);

/* "<out>/<job>/<name>" in a static buffer. */
const char *mcm_mb_output(const mcm_media_bench *b, const char *name);
/* Number of regular files and directories under <out> (0 when the writer wrote nothing). */
size_t mcm_mb_output_entries(const mcm_media_bench *b);

/* Extract an image into a new directory under scratch; returns the path (static). */
const char *mcm_mb_extract(const char *scratch, const char *image);
/* The sorted file list of an image's tree: "rr" (Rock Ridge), "joliet", "iso" (ISO 9660 names,
 * version and trailing dot stripped). Caller frees. */
char *mcm_mb_list(const char *image, const char *tree);
/* dciodvfy's "Error" lines for a DICOMDIR ("" when clean); caller frees. */
char *mcm_mb_dciodvfy_errors(const char *dicomdir);

/* The checks every image must pass: the same files in its Rock Ridge, Joliet and ISO 9660 trees;
 * extracted, a DICOMDIR that dciodvfy (no Error line) and dcmdump accept, whose File-set ID and
 * UID are fileset_id and fileset_uid, and every listed file referenced by it; SHA256.TXT that
 * sha256sum -c accepts; the Volume Identifier is the File-set ID. Returns the extracted root
 * (caller frees; it lives in the scratch directory) and
 * appends the referenced SOP Instance UIDs to uids (newline-separated, caller frees). */
char *mcm_mb_check_image(const char *scratch, const char *image, const char *fileset_id, const char *fileset_uid,
                         char **uids);
/* The request's SOP Instance UIDs, sorted, one per line (caller frees). */
char *mcm_mb_request_uids(const mcm_media_bench *b);
/* Sort the lines of text in place. */
void mcm_mb_sort_lines(char *text);

#ifdef __cplusplus
}
#endif

#endif
