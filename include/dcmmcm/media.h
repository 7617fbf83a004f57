/*
 * dcmmcm/media.h: the library's default media writer: for each job, DICOM file-sets (PS3.10) with
 * a DICOMDIR, one ISO 9660 image per volume (Joliet and Rock Ridge), labels and a SHA-256 manifest.
 *
 * An SCP uses it through its write_media callback:
 *
 *     mcm_media_writer *writer;
 *     mcm_media_options media = MCM_MEDIA_OPTIONS_INIT;
 *     media.output_dir = "/srv/mcm/out";
 *     mcm_media_writer_new(&writer, &media);
 *     opts.write_media = mcm_media_writer_write;
 *     opts.user = writer;
 *
 * What it writes for a job, under output_dir (the job appears there only when complete; until then
 * it is built in "<output_dir>/<job UID>.part/" and removed if the job fails):
 *
 *     <job UID>/VOL001.iso           volume 1 (VOL002.iso ... when the request was split)
 *     <job UID>/VOL001_C02.iso       copy 2 of volume 1 (a hard link, or a copy: copy_mode)
 *     <job UID>/VOL001.json          the label description of volume 1 (all copies share it)
 *     <job UID>/VOL001.png, .pdf     the rendered label (label_png, label_pdf)
 *     <job UID>/JOB.json             the job summary: volumes, File-set IDs/UIDs, images, SHA-256
 *
 * Each image holds one DICOM file-set: DICOMDIR at the root, the instances under
 * DICOM/PATnnnnn/STUnnnnn/SERnnnnn/IMnnnnnn (PS3.10 File IDs, 8 upper-case characters per
 * component), SHA256.TXT (sha256sum format, every other file of the volume), and the viewer
 * directory when Include Display Application is YES. The ISO 9660 Volume Identifier is the
 * volume's File-set ID (PS3.12 F.1.1).
 *
 * The writer reports only through the mcm_media_context (scp.h): volumes, pieces, failed
 * instances with their Failure Reasons, and failure terms; mcm_media_writer_new(3) states every
 * rule (profiles, conversions, Failure Reasons, splitting, copies, labels).
 *
 * Thread safety: a writer is immutable once created; mcm_media_writer_write() may run for several
 * jobs at once on different threads (the SCP's media_workers).
 */
#ifndef DCMMCM_MEDIA_H
#define DCMMCM_MEDIA_H

#include "common.h"
#include "job.h"
#include "scp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How copies 2..n of an image are made (Number of Copies, digest A13). */
typedef enum mcm_media_copy_mode {
    MCM_MEDIA_COPY_LINK = 0, /* a hard link to the image (falls back to a copy across file systems) */
    MCM_MEDIA_COPY_FILE = 1  /* an independent copy of the image */
} mcm_media_copy_mode;

/* Called for each volume after its image is written (at image_path, its temporary name) and
 * before the image is read back and verified. An integrator may hand the image to a device here;
 * whatever the hook leaves at image_path is what is verified. Non-zero fails the job with
 * MCD_FAILURE. */
typedef int (*mcm_media_image_fn)(const char *image_path, unsigned volume, unsigned volumes, void *user);

/* Versions (libgit2's form): a program sets version to the MCM_MEDIA_OPTIONS_VERSION of the header
 * it was built with (MCM_MEDIA_OPTIONS_INIT or mcm_media_options_init() do), and the library reads
 * only the fields of that version, so a struct of an older version keeps working with a newer
 * library. A new version only appends fields, bumps MCM_MEDIA_OPTIONS_VERSION and adds the size of
 * the new version to the table beside mcm_media_options_init in lib/media/writer.c. Version 1:
 * every field below. */
#define MCM_MEDIA_OPTIONS_VERSION 1

typedef struct mcm_media_options {
    unsigned int version;           /* MCM_MEDIA_OPTIONS_VERSION */
    const char *output_dir;         /* required; created if missing */
    const char *staging_dir;        /* file-set trees are staged here; NULL: "<output_dir>/.staging" */
    int keep_staging;               /* 1: leave "<staging_dir>/<job UID>/VOLnnn/" trees behind; 0 (default) */
    const char *default_profile;    /* for instances without a profile; NULL: "STD-GEN-CD" */
    uint64_t capacity_bytes;        /* non-zero: the capacity of every medium (tests, odd media);
                                     * 0: the profile's medium (CD 737,280,000, DVD 4,700,372,992,
                                     * BD 25,025,314,816 bytes) */
    uint64_t usb_capacity_bytes;    /* USB/flash profiles when capacity_bytes is 0; 0: unlimited */
    const char *viewer_dir;         /* Include Display Application YES: this directory's content is
                                     * copied to each volume's root; NULL: none (not an error) */
    const char *application_id;     /* ISO 9660 Application Identifier; NULL: "DCMMCM" */
    mcm_media_copy_mode copy_mode;  /* default MCM_MEDIA_COPY_LINK */
    int label_png;                  /* 1 (default): render VOLnnn.png */
    int label_pdf;                  /* 1 (default): render VOLnnn.pdf */
    unsigned label_dpi;             /* PNG resolution; 0: 300 */
    mcm_media_image_fn image_written; /* NULL: none */
    void *image_written_user;
} mcm_media_options;

#define MCM_MEDIA_OPTIONS_INIT                                                                       \
    { MCM_MEDIA_OPTIONS_VERSION, NULL, NULL, 0, NULL, 0, 0, NULL, NULL, MCM_MEDIA_COPY_LINK, 1, 1, 0,   \
      NULL, NULL }

/* Fill the fields of version (pass MCM_MEDIA_OPTIONS_VERSION) of opts with the defaults, the same
 * as MCM_MEDIA_OPTIONS_INIT, and set opts->version: nothing past that version's fields is written.
 * MCM_EINVAL (nothing written) for NULL or a version this library does not know. */
MCM_EXTERN int mcm_media_options_init(mcm_media_options *opts, unsigned int version);

typedef struct mcm_media_writer mcm_media_writer;

/* A new writer in *out with a copy of opts (strings copied); creates output_dir and staging_dir.
 * MCM_EINVAL for a missing output_dir, an unknown default_profile or version, MCM_EIO if a
 * directory cannot be created. Free with mcm_media_writer_free(). */
MCM_EXTERN int mcm_media_writer_new(mcm_media_writer **out, const mcm_media_options *opts);

/* Free a writer (no job may be running on it). NULL is ignored. */
MCM_EXTERN void mcm_media_writer_free(mcm_media_writer *writer);

/* An mcm_write_media_fn (scp.h): user is the mcm_media_writer. Writes the media of job and
 * reports through ctx. Returns 0 when the job is DONE or failed through mcm_media_fail() (with
 * Failed SOP items where they apply); MCM_ECANCELED when mcm_media_should_stop() said to stop
 * (nothing final written); another negative mcm_error for a local failure (which the SCP's worker
 * turns into FAILURE with MCD_FAILURE, after this function has already called mcm_media_fail). */
MCM_EXTERN int mcm_media_writer_write(const mcm_job *job, const mcm_instance *instances, size_t count,
                                      mcm_media_context *ctx, void *user);

/* 1 if the writer can make media for this Requested Media Application Profile, else 0. */
MCM_EXTERN int mcm_media_profile_supported(const char *profile);

#ifdef __cplusplus
}
#endif

#endif
