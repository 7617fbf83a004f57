/*
 * lib/media/sha256.h: SHA-256 (FIPS 180-4) for the volume manifests (SHA256.TXT) and image
 * verification (lib/media/sha256.c). Our own small implementation: no library already in the
 * dependency closure (DCMTK's core libraries, SQLite, libisofs, cairo, zint) offers SHA-256, and
 * adding libcrypto for one hash would add a dependency to every static link.
 */
#ifndef MCM_LIB_MEDIA_SHA256_H
#define MCM_LIB_MEDIA_SHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCM_SHA256_SIZE 32
#define MCM_SHA256_HEX (2 * MCM_SHA256_SIZE + 1)

typedef struct mcm_sha256 {
    uint32_t state[8];
    uint64_t length;       /* bytes hashed so far */
    unsigned char block[64];
    size_t used;           /* bytes waiting in block */
    /* The compression function over n whole blocks: the portable one, or the x86 SHA extensions
     * when the processor has them (same results; both tested). */
    void (*compress)(uint32_t state[8], const unsigned char *blocks, size_t n);
} mcm_sha256;

void mcm_sha256_init(mcm_sha256 *ctx);
/* As mcm_sha256_init(), but always with the portable compression function (for tests). */
void mcm_sha256_init_portable(mcm_sha256 *ctx);
/* 1 if mcm_sha256_init() uses the processor's SHA extensions. */
int mcm_sha256_accelerated(void);
void mcm_sha256_update(mcm_sha256 *ctx, const void *data, size_t size);
void mcm_sha256_final(mcm_sha256 *ctx, unsigned char digest[MCM_SHA256_SIZE]);
/* Lower-case hexadecimal, as sha256sum prints it. */
void mcm_sha256_hex(const unsigned char digest[MCM_SHA256_SIZE], char hex[MCM_SHA256_HEX]);

/* Hash the file at path into hex; *size (may be NULL) receives its length. MCM_EIO on failure. */
int mcm_sha256_file(const char *path, char hex[MCM_SHA256_HEX], uint64_t *size);

#ifdef __cplusplus
}
#endif

#endif
