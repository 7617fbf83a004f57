/*
 * lib/core/version.c: mcm_version() (dcmmcm/common.h): the version of the library that runs, which
 * may differ from MCM_VERSION_STRING of the headers an application was compiled with.
 */
#include "dcmmcm/common.h"

MCM_EXTERN const char *mcm_version(void)
{
    return MCM_VERSION_STRING;
}
