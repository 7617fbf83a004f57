/*
 * lib/media/label.h: the label of one volume (lib/media/label.c): a machine-readable description
 * (JSON) and a rendering that a person or a label printer can use (PNG, PDF) with an optional
 * barcode (PS3.3 C.22.1.1 Barcode Symbology; digest 4.5, 5.4, 5.5 and A10).
 */
#ifndef MCM_LIB_MEDIA_LABEL_H
#define MCM_LIB_MEDIA_LABEL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mcm_label_patient {
    const char *name, *id, *birth_date, *sex; /* UTF-8 */
} mcm_label_patient;

typedef struct mcm_label_study {
    const char *patient_id, *study_uid, *date, *description, *accession_number; /* UTF-8 */
    char modalities[64];   /* distinct Modality values, backslash-separated, in order of first appearance */
    unsigned images;       /* instances of the study on this volume */
} mcm_label_study;

/* Everything a label shows or describes. Strings are UTF-8; NULL means absent. */
typedef struct mcm_label {
    const char *job_uid;
    const char *fileset_id, *fileset_uid;
    const char *profile, *medium;
    unsigned volume, volumes, copies;
    int use_extracted;            /* Label Using Information Extracted From Instances: 1 YES (or absent), 0 NO */
    const char *label_text;       /* Label Text */
    const char *style;            /* Label Style Selection as sent */
    const char *barcode_value;    /* Barcode Value */
    const char *barcode_symbology;/* Barcode Symbology as sent */
    const char *media_disposition;/* Media Disposition */
    const mcm_label_patient *patients;
    size_t patient_count;
    const mcm_label_study *studies;
    size_t study_count;
    unsigned images;              /* instances on this volume */
    const char *created;          /* ISO 8601 UTC time of writing */
} mcm_label;

/* The label styles (Label Style Selection has no defined terms, PS3.3 C.22.1; these are ours). */
#define MCM_LABEL_STYLE_DISC "DISC"           /* 120 mm disc with its hub: the default */
#define MCM_LABEL_STYLE_RECTANGLE "RECTANGLE" /* 100 x 50 mm adhesive label (case, sleeve, USB pouch) */

/* What rendering did, for the description. */
typedef struct mcm_label_result {
    const char *style;            /* the style used */
    int barcode_requested;        /* a Barcode Value was given */
    int barcode_rendered;
    char barcode_note[200];       /* why not, or "" */
    unsigned png_width, png_height;
} mcm_label_result;

/* zint's symbology for a Barcode Symbology term: the four defined terms (CODE128, CODE39,
 * INTER_2_5, HIBC as HIBC Code 128) and our documented extras QR and DATAMATRIX; 0 if unknown. */
int mcm_label_symbology(const char *term);

/* Render the label to png_path and/or pdf_path (either may be NULL); fills *result. An unknown
 * symbology or a value the symbology cannot encode leaves the barcode off (digest A10): not an
 * error. MCM_EIO / MCM_ENOMEM if a file cannot be written. */
int mcm_label_render(const mcm_label *label, const char *png_path, const char *pdf_path, unsigned dpi,
                     mcm_label_result *result);

/* Write the label description as JSON at path (atomically). */
int mcm_label_write_json(const mcm_label *label, const mcm_label_result *result, const char *png_name,
                         const char *pdf_name, const char *path);

#ifdef __cplusplus
}
#endif

#endif
