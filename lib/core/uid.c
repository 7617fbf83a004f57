/*
 * lib/core/uid.c: UID generation: "2.25." followed by a random 128-bit UUID as a decimal integer
 * (PS3.5 B.2), at most 44 characters. Reads the kernel's random source; no state.
 */
#include "core/error.h"
#include "core/vr.h"

#include "dcmmcm/request.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

MCM_EXTERN int mcm_uid_generate(char out[MCM_UID_MAX + 1])
{
    unsigned char bytes[16];
    if (out == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_uid_generate: out is NULL");
    size_t got = 0;
    while (got < sizeof bytes) {
        ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
        if (n < 0 && errno == EINTR)
            continue; /* a signal while the kernel's pool was not yet initialised (getrandom(2)) */
        if (n < 0)
            return mcm_fail(MCM_EIO, "getrandom failed: %s", strerror(errno));
        got += (size_t)n;
    }
    /* A version 4 UUID (RFC 4122): version and variant bits fixed. */
    bytes[6] = (unsigned char)((bytes[6] & 0x0F) | 0x40);
    bytes[8] = (unsigned char)((bytes[8] & 0x3F) | 0x80);
    unsigned __int128 value = 0;
    for (size_t i = 0; i < sizeof bytes; i++)
        value = (value << 8) | bytes[i];
    char digits[40];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + (int)(value % 10));
        value /= 10;
    } while (value != 0);
    strcpy(out, "2.25.");
    size_t at = 5;
    while (n > 0)
        out[at++] = digits[--n];
    out[at] = '\0';
    return MCM_OK;
}

MCM_EXTERN int mcm_uid_is_valid(const char *uid)
{
    return uid != NULL && mcm_uid_check(uid, strlen(uid));
}
