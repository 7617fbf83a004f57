/*
 * lib/media/plan.c: the volume plan of lib/media/plan.h. Instances are grouped as DICOMDIR
 * records group them (patient, study, series), kept in request order of first appearance, and
 * packed in that order: a study goes whole onto the current volume if it fits, else onto a new
 * one; a study larger than a volume is split by series, a series larger than a volume by
 * instances. Each volume is a complete file-set with its own File IDs. No I/O.
 */
#include "media/plan.h"

#include "dcmmcm/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR 2048u

uint64_t mcm_plan_file_cost(uint64_t size)
{
    /* The file rounded up to whole sectors, plus a sector for its directory entries (ISO 9660
     * with Rock Ridge, Joliet), its DICOMDIR record and its manifest line. */
    return (size + SECTOR - 1) / SECTOR * SECTOR + SECTOR;
}

uint64_t mcm_plan_directory_cost(void)
{
    /* An extent in the ISO 9660 tree and one in the Joliet tree, path table entries, a continuation
     * area for Rock Ridge, and the DICOMDIR record of the level. */
    return 4 * SECTOR;
}

/* Cost of a new patient, study and series directory triple (DICOM/ itself is in the overhead). */
static uint64_t three_directories(void)
{
    return 3 * mcm_plan_directory_cost();
}

int mcm_plan_fits_alone(const mcm_plan_limits *limits, uint64_t size)
{
    if (limits->capacity == 0)
        return 1;
    uint64_t need = limits->volume_overhead + three_directories() + mcm_plan_file_cost(size);
    return need <= limits->capacity;
}

/* ---- grouping ---- */

typedef struct keyed {
    size_t position;               /* into items */
    size_t patient, study, series; /* ordinals: position of the first item of the group */
} keyed;

static const char *or_empty(const char *s)
{
    return s != NULL ? s : "";
}

static int compare_keyed(const void *a, const void *b, void *context)
{
    const keyed *x = a, *y = b;
    const mcm_plan_item *items = context;
    if (x->patient != y->patient)
        return x->patient < y->patient ? -1 : 1;
    if (x->study != y->study)
        return x->study < y->study ? -1 : 1;
    if (x->series != y->series)
        return x->series < y->series ? -1 : 1;
    long nx = items[x->position].instance_number, ny = items[y->position].instance_number;
    if (nx != ny)
        return nx < ny ? -1 : 1;
    return x->position < y->position ? -1 : x->position > y->position;
}

/* glibc has qsort_r; keep the context explicit and portable with a small merge sort. */
static void sort_keyed(keyed *a, keyed *tmp, size_t n, const mcm_plan_item *items)
{
    if (n < 2)
        return;
    size_t half = n / 2;
    sort_keyed(a, tmp, half, items);
    sort_keyed(a + half, tmp, n - half, items);
    size_t i = 0, j = half, k = 0;
    while (i < half && j < n)
        tmp[k++] = compare_keyed(&a[j], &a[i], (void *)items) < 0 ? a[j++] : a[i++];
    while (i < half)
        tmp[k++] = a[i++];
    while (j < n)
        tmp[k++] = a[j++];
    memcpy(a, tmp, n * sizeof *a);
}

/* Key comparison at level 0 (patient), 1 (patient, study) or 2 (patient, study, series). */
static int compare_key(const mcm_plan_item *x, const mcm_plan_item *y, int level)
{
    int c = strcmp(or_empty(x->patient_key), or_empty(y->patient_key));
    if (c == 0 && level >= 1)
        c = strcmp(or_empty(x->study_uid), or_empty(y->study_uid));
    if (c == 0 && level >= 2)
        c = strcmp(or_empty(x->series_uid), or_empty(y->series_uid));
    return c;
}

/* Stable merge sort of positions by key at level (ties keep request order). */
static void sort_positions(size_t *a, size_t *tmp, size_t n, const mcm_plan_item *items, int level)
{
    if (n < 2)
        return;
    size_t half = n / 2;
    sort_positions(a, tmp, half, items, level);
    sort_positions(a + half, tmp, n - half, items, level);
    size_t i = 0, j = half, k = 0;
    while (i < half && j < n)
        tmp[k++] = compare_key(&items[a[j]], &items[a[i]], level) < 0 ? a[j++] : a[i++];
    while (i < half)
        tmp[k++] = a[i++];
    while (j < n)
        tmp[k++] = a[j++];
    memcpy(a, tmp, n * sizeof *a);
}

/* For every item, the position of the first item with the same key at level: the group's
 * ordinal, so that groups keep the order in which the request first names them. */
static int first_positions(const mcm_plan_item *items, size_t count, int level, keyed *k)
{
    size_t *a = malloc(count * sizeof *a), *tmp = malloc(count * sizeof *tmp);
    if (a == NULL || tmp == NULL) {
        free(a);
        free(tmp);
        return mcm_error_set(MCM_ENOMEM, "out of memory planning volumes");
    }
    for (size_t i = 0; i < count; i++)
        a[i] = i;
    sort_positions(a, tmp, count, items, level);
    size_t first = 0;
    for (size_t i = 0; i < count; i++) {
        if (i == 0 || compare_key(&items[a[i]], &items[a[i - 1]], level) != 0)
            first = a[i]; /* stable: the smallest position of the group comes first */
        if (level == 0)
            k[a[i]].patient = first;
        else if (level == 1)
            k[a[i]].study = first;
        else
            k[a[i]].series = first;
    }
    free(a);
    free(tmp);
    return MCM_OK;
}

/* ---- packing ---- */

typedef struct packer {
    const mcm_plan_limits *limits;
    unsigned volume; /* current, 1-based */
    uint64_t used;   /* bytes used on the current volume */
    size_t items_on_volume;
    /* the last patient/study/series placed on the current volume (ordinals), to know which
     * directories a group adds */
    size_t last_patient, last_study, last_series;
    int has_last;
} packer;

static void new_volume(packer *p)
{
    p->volume++;
    p->used = p->limits->volume_overhead;
    p->items_on_volume = 0;
    p->has_last = 0;
}

/* Bytes the range [begin, end) of sorted entries adds to the current volume. */
static uint64_t range_cost(const packer *p, const keyed *k, size_t begin, size_t end, const mcm_plan_item *items)
{
    uint64_t cost = 0;
    int has = p->has_last;
    size_t patient = p->last_patient, study = p->last_study, series = p->last_series;
    for (size_t i = begin; i < end; i++) {
        if (!has || k[i].patient != patient)
            cost += three_directories();
        else if (k[i].study != study)
            cost += 2 * mcm_plan_directory_cost();
        else if (k[i].series != series)
            cost += mcm_plan_directory_cost();
        has = 1;
        patient = k[i].patient;
        study = k[i].study;
        series = k[i].series;
        cost += mcm_plan_file_cost(items[k[i].position].size);
    }
    return cost;
}

static int fits(const packer *p, uint64_t cost)
{
    return p->limits->capacity == 0 || p->used + cost <= p->limits->capacity;
}

static void place(packer *p, const keyed *k, size_t begin, size_t end, mcm_plan_item *items)
{
    p->used += range_cost(p, k, begin, end, items);
    for (size_t i = begin; i < end; i++) {
        items[k[i].position].volume = p->volume;
        p->items_on_volume++;
    }
    p->has_last = 1;
    p->last_patient = k[end - 1].patient;
    p->last_study = k[end - 1].study;
    p->last_series = k[end - 1].series;
}

/* Place [begin, end) whole, on this volume or an empty one; returns 0 if it fits neither. */
static int place_whole(packer *p, const keyed *k, size_t begin, size_t end, mcm_plan_item *items)
{
    if (fits(p, range_cost(p, k, begin, end, items))) {
        place(p, k, begin, end, items);
        return 1;
    }
    if (p->items_on_volume == 0)
        return 0;
    packer fresh = *p;
    new_volume(&fresh);
    if (!fits(&fresh, range_cost(&fresh, k, begin, end, items)))
        return 0;
    *p = fresh;
    place(p, k, begin, end, items);
    return 1;
}

/* End of the group starting at begin at level (0 patient, 1 study, 2 series). */
static size_t group_end(const keyed *k, size_t begin, size_t count, int level)
{
    size_t end = begin + 1;
    while (end < count && k[end].patient == k[begin].patient && (level < 1 || k[end].study == k[begin].study) &&
           (level < 2 || k[end].series == k[begin].series))
        end++;
    return end;
}

static void pack_level(packer *p, const keyed *k, size_t begin, size_t end, int level, mcm_plan_item *items)
{
    for (size_t at = begin; at < end;) {
        size_t stop = level <= 2 ? group_end(k, at, end, level) : at + 1;
        if (!place_whole(p, k, at, stop, items)) {
            if (level < 3) {
                pack_level(p, k, at, stop, level + 1, items);
            } else {
                /* A single instance that fits no volume: the caller checked mcm_plan_fits_alone,
                 * so this cannot happen; place it anyway on its own volume. */
                if (p->items_on_volume > 0)
                    new_volume(p);
                place(p, k, at, stop, items);
            }
        }
        at = stop;
    }
}

/* ---- File IDs ---- */

static int assign_file_ids(mcm_plan_item *items, const keyed *k, size_t count)
{
    unsigned volume = 0;
    unsigned long patient_n = 0, study_n = 0, series_n = 0, instance_n = 0;
    const keyed *previous = NULL;
    for (size_t i = 0; i < count; i++) {
        mcm_plan_item *item = &items[k[i].position];
        if (previous == NULL || item->volume != volume) {
            volume = item->volume;
            patient_n = study_n = series_n = instance_n = 0;
            previous = NULL;
        }
        if (previous == NULL || k[i].patient != previous->patient) {
            patient_n++;
            study_n = series_n = instance_n = 0;
        }
        if (previous == NULL || k[i].patient != previous->patient || k[i].study != previous->study) {
            study_n++;
            series_n = instance_n = 0;
        }
        if (previous == NULL || k[i].patient != previous->patient || k[i].study != previous->study ||
            k[i].series != previous->series) {
            series_n++;
            instance_n = 0;
        }
        instance_n++;
        if (patient_n > 99999 || study_n > 99999 || series_n > 99999 || instance_n > 999999)
            return mcm_error_set(MCM_EINVAL,
                            "volume %u holds more patients, studies, series or instances than its "
                            "File IDs can name",
                            volume);
        snprintf(item->file_id, sizeof item->file_id, "DICOM/PAT%05lu/STU%05lu/SER%05lu/IM%06lu", patient_n, study_n,
                 series_n, instance_n);
        previous = &k[i];
    }
    return MCM_OK;
}

int mcm_plan_volumes(mcm_plan_item *items, size_t count, const mcm_plan_limits *limits, size_t *order,
                     unsigned *volumes)
{
    if (items == NULL || limits == NULL || order == NULL || volumes == NULL || count == 0)
        return mcm_error_set(MCM_EINVAL, "mcm_plan_volumes: nothing to plan");
    keyed *k = calloc(count, sizeof *k);
    keyed *tmp = calloc(count, sizeof *tmp);
    if (k == NULL || tmp == NULL) {
        free(k);
        free(tmp);
        return mcm_error_set(MCM_ENOMEM, "out of memory planning volumes");
    }
    for (size_t i = 0; i < count; i++)
        k[i].position = i;
    for (int level = 0; level < 3; level++) {
        int rc = first_positions(items, count, level, k);
        if (rc != MCM_OK) {
            free(k);
            free(tmp);
            return rc;
        }
    }
    sort_keyed(k, tmp, count, items);
    free(tmp);

    packer p = {.limits = limits};
    new_volume(&p);
    pack_level(&p, k, 0, count, 1, items);
    int rc = assign_file_ids(items, k, count);
    if (rc == MCM_OK) {
        for (size_t i = 0; i < count; i++)
            order[i] = k[i].position;
        *volumes = p.volume;
    }
    free(k);
    return rc;
}
