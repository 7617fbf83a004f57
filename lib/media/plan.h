/*
 * lib/media/plan.h: dividing a job's instances into volumes (lib/media/plan.c): the patient /
 * study / series / instance order, the DICOM File IDs within each volume, and splitting by media
 * capacity so that studies stay whole where they fit on one volume, then series, then instances
 * (PS3.4 S.3.2.1.1.6: an instance never spans volumes). Pure computation, no I/O.
 */
#ifndef MCM_LIB_MEDIA_PLAN_H
#define MCM_LIB_MEDIA_PLAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "DICOM/PAT00001/STU00001/SER00001/IM000001" and its terminating NUL. */
#define MCM_FILE_ID_MAX 48

typedef struct mcm_plan_item {
    /* in */
    size_t index;                /* the caller's own index (its instance) */
    const char *patient_key;     /* Patient ID: DICOMDIR PATIENT records are keyed on it */
    const char *study_uid;
    const char *series_uid;
    long instance_number;        /* order within a series (then by index) */
    uint64_t size;               /* bytes of the file that goes on the media */
    /* out */
    unsigned volume;             /* 1-based */
    char file_id[MCM_FILE_ID_MAX];
} mcm_plan_item;

typedef struct mcm_plan_limits {
    uint64_t capacity;           /* bytes per volume; 0: unlimited (one volume) */
    uint64_t volume_overhead;    /* bytes every volume needs besides the instances (ISO structures,
                                  * DICOMDIR header, manifest, viewer) */
} mcm_plan_limits;

/* Bytes one file takes on a volume, with its share of the directory structures, DICOMDIR record
 * and manifest line (an upper bound: ISO 9660 rounds files up to 2048-byte sectors). */
uint64_t mcm_plan_file_cost(uint64_t size);
/* Bytes a new directory takes (the ISO 9660 and Joliet extents and its DICOMDIR record). */
uint64_t mcm_plan_directory_cost(void);
/* 1 if an item of this size fits on an otherwise empty volume (with its patient, study and series
 * directories), else 0. */
int mcm_plan_fits_alone(const mcm_plan_limits *limits, uint64_t size);

/* Order items (patient, study, series in order of first appearance; instances by number), assign
 * each a volume and a File ID, and fill order[] (count entries) with the item positions in
 * volume-then-hierarchy order. *volumes receives the number of volumes. Every item must fit alone
 * (mcm_plan_fits_alone). MCM_EINVAL when a volume would hold more than the File ID scheme allows
 * (99,999 patients, studies per patient, series per study; 999,999 instances per series),
 * MCM_ENOMEM. */
int mcm_plan_volumes(mcm_plan_item *items, size_t count, const mcm_plan_limits *limits, size_t *order,
                     unsigned *volumes);

#ifdef __cplusplus
}
#endif

#endif
