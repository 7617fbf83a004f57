/*
 * lib/core/options.h: the versions of the public options structs, in libgit2's form
 * (git_clone_options_init(opts, GIT_CLONE_OPTIONS_VERSION)). A program built against older
 * headers hands the library a smaller struct of an older version, so the library reads and writes
 * only that version's bytes: each struct has a table of its versions' sizes, and every entry
 * point that takes the struct first copies the caller's version over the current defaults into a
 * complete struct of its own (mcm_options_read), then reads only that one. Unlike libgit2's
 * GIT_INIT_STRUCTURE_FROM_TEMPLATE, which copies the whole current template whatever version the
 * caller names, *_options_init writes only the caller's version (mcm_options_fill).
 *
 * The tables of libdcmmcm's structs (SCU, wait, SCP) are in lib/core/options.c; the media
 * writer's, in its own library, is beside mcm_media_options_init in lib/media/writer.c.
 *
 * Adding version N+1 to a struct: append its fields at the end (never move, retype or remove a
 * field of an earlier version), bump MCM_<X>_OPTIONS_VERSION, extend MCM_<X>_OPTIONS_INIT, and
 * append MCM_OPTIONS_END(type, <last field of version N+1>) to the struct's table. A table whose
 * length is not the version fails to compile.
 *
 * Pure C11 (and C++, for lib/dcmtk); no state. Header-only (static inline) and calling only the
 * public mcm_error_set(), so that libdcmmcm-media, which may use only what libdcmmcm exports, can
 * use it too.
 */
#ifndef MCM_LIB_OPTIONS_H
#define MCM_LIB_OPTIONS_H

#include "dcmmcm/common.h"

#include <stddef.h>
#include <string.h>

#ifdef __cplusplus
#define MCM_OPTIONS_STATIC_ASSERT(condition, message) static_assert(condition, message)
extern "C" {
#else
#define MCM_OPTIONS_STATIC_ASSERT(condition, message) _Static_assert(condition, message)
#endif

/* The size of a version: where its last field ends, which is never more than the sizeof a caller
 * built against that version's header allocated. Named by field because an older version's sizeof
 * cannot be named once the struct has grown. */
#define MCM_OPTIONS_END(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/* One struct's versions. sizes[v - 1] is the size of version v; current is this library's
 * version, the number of sizes. */
typedef struct mcm_options_versions {
    const char *type;       /* "mcm_scp_options", for messages */
    const char *init_macro; /* "MCM_SCP_OPTIONS_INIT", for messages */
    const size_t *sizes;
    unsigned current;
} mcm_options_versions;

/* Compile-time checks of a table: one size per version (VERSION is the header's
 * MCM_<X>_OPTIONS_VERSION), and version the first field (read before anything else is known). */
#define MCM_OPTIONS_CHECK(type, sizes, VERSION)                                                                        \
    MCM_OPTIONS_STATIC_ASSERT(sizeof sizes / sizeof sizes[0] == (VERSION),                                             \
                              "one size per version of " #type ": add the new version's size");                        \
    MCM_OPTIONS_STATIC_ASSERT(offsetof(type, version) == 0, "version is the first field of " #type)

/* The tables of libdcmmcm's structs (lib/core/options.c). */
extern const mcm_options_versions mcm_scu_options_versions;
extern const mcm_options_versions mcm_wait_options_versions;
extern const mcm_options_versions mcm_scp_options_versions;

/* MCM_OK if this library knows version, else MCM_EINVAL with a message naming the struct. */
static inline int mcm_options_version_check(const mcm_options_versions *versions, unsigned version)
{
    if (version >= 1 && version <= versions->current)
        return MCM_OK;
    return mcm_error_set(MCM_EINVAL,
                    "%s version %u is unknown: this library knows versions 1 to %u (set it with %s or "
                    "%s_init(opts, version))",
                    versions->type, version, versions->current, versions->init_macro, versions->type);
}

/* *_options_init: the defaults (a complete current struct) into the caller's opts of version, no
 * byte past that version's size, and opts->version = version. Nothing is written if version is
 * unknown. */
static inline int mcm_options_fill(void *opts, unsigned version, const void *defaults,
                                   const mcm_options_versions *versions)
{
    if (opts == NULL)
        return mcm_error_set(MCM_EINVAL, "%s_init: NULL options", versions->type);
    int rc = mcm_options_version_check(versions, version);
    if (rc != MCM_OK)
        return rc;
    memcpy(opts, defaults, versions->sizes[version - 1]);
    memcpy(opts, &version, sizeof version); /* the first field, checked by MCM_OPTIONS_VERSIONS */
    return MCM_OK;
}

/* An entry point's copy: full (full_size bytes, a complete current struct already holding the
 * defaults, e.g. from MCM_<X>_OPTIONS_INIT) gets the caller's struct up to the size of the version
 * it names; the fields of later versions keep their defaults and full->version stays the caller's.
 * Only the version field is read before the version is known. */
static inline int mcm_options_read(void *full, size_t full_size, const void *caller,
                                   const mcm_options_versions *versions)
{
    unsigned version;
    memcpy(&version, caller, sizeof version);
    int rc = mcm_options_version_check(versions, version);
    if (rc != MCM_OK)
        return rc;
    size_t size = versions->sizes[version - 1];
    if (size > full_size) /* a table larger than its struct: a bug here, not the caller's */
        return mcm_error_set(MCM_EINTERNAL, "%s version %u is %zu bytes, more than the %zu this library has", versions->type,
                        version, size, full_size);
    memcpy(full, caller, size);
    return MCM_OK;
}

#ifdef __cplusplus
}
#endif

#endif
