/*
 * lib/media/iso.h: ISO 9660 images through libisofs (lib/media/iso.c): writing one volume's
 * staged tree as an image (level 1 names, Rock Ridge, Joliet; PS3.12 Annex F) and reading an image
 * back to verify it before a job is DONE.
 */
#ifndef MCM_LIB_MEDIA_ISO_H
#define MCM_LIB_MEDIA_ISO_H

#include "media/sha256.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* libisofs's process-wide set-up, counted: the first acquire initialises it (without touching
 * the process locale, file names taken as UTF-8, messages neither queued nor printed), the last
 * release finishes it. */
int mcm_iso_acquire(void);
void mcm_iso_release(void);

/* Polled between chunks; non-zero stops the work with MCM_ECANCELED. */
typedef int (*mcm_iso_stop_fn)(void *user);

typedef struct mcm_iso_write_params {
    const char *root;            /* absolute path of the staged volume tree */
    const char *image_path;      /* the image file to create (replaced if it exists) */
    const char *volume_id;       /* ISO 9660 Volume Identifier: the File-set ID (PS3.12 F.1.1) */
    const char *application_id;  /* Application Identifier */
    uint64_t capacity;           /* 0: unlimited; else MCM_EBUSY before writing if the image is larger */
    mcm_iso_stop_fn stop;
    void *stop_user;
} mcm_iso_write_params;

/* Write the image, fsync it, and tell the kernel to drop its cached pages so that a read-back
 * reads the device. *size receives the image size, image_sha256 the SHA-256 of its bytes. On any
 * failure the image file is removed. */
int mcm_iso_write(const mcm_iso_write_params *params, uint64_t *size, char image_sha256[MCM_SHA256_HEX]);

/* One file the read-back must find. */
typedef struct mcm_iso_expect {
    const char *path;            /* relative to the image root, '/' separated */
    const char *sha256;          /* its content's SHA-256 (hex) */
    int in_every_tree;           /* 1: must have this exact path in the ISO 9660, Joliet and Rock Ridge
                                  * trees (the DICOM file-set's names are 8.3-safe by construction) */
} mcm_iso_expect;

/* Read the image at image_path back: it must be size bytes with SHA-256 image_sha256, every
 * expected file must be in its Rock Ridge tree with the expected content, no other file may be
 * there, and files marked in_every_tree must have the same path in the ISO 9660 and Joliet trees.
 * MCM_EIO with a message naming the first difference. */
int mcm_iso_verify(const char *image_path, uint64_t size, const char *image_sha256, const mcm_iso_expect *files,
                   size_t count, mcm_iso_stop_fn stop, void *stop_user);

#ifdef __cplusplus
}
#endif

#endif
