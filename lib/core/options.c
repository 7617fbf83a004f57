/*
 * lib/core/options.c: the version tables of libdcmmcm's public options structs (mcm_scu_options,
 * mcm_wait_options, mcm_scp_options): the size of each version, as lib/core/options.h describes.
 * They are here, below every layer, because the layers that fill a struct (lib/scu, lib/scp) and
 * the ones that read it (lib/dcmtk, lib/scu, lib/scp) all need them and none may call the one
 * above it. Data only.
 *
 * Adding version 2 of a struct: append MCM_OPTIONS_END(type, <its last field>) to its sizes.
 */
#include "core/options.h"

#include "dcmmcm/scp.h"
#include "dcmmcm/scu.h"

/* Version 1: dcmmcm 0.1. */
static const size_t scu_sizes[] = {MCM_OPTIONS_END(mcm_scu_options, log_level)};
MCM_OPTIONS_CHECK(mcm_scu_options, scu_sizes, MCM_SCU_OPTIONS_VERSION);
const mcm_options_versions mcm_scu_options_versions = {"mcm_scu_options", "MCM_SCU_OPTIONS_INIT", scu_sizes,
                                                       MCM_SCU_OPTIONS_VERSION};

/* Version 1: dcmmcm 0.1. */
static const size_t wait_sizes[] = {MCM_OPTIONS_END(mcm_wait_options, progress_user)};
MCM_OPTIONS_CHECK(mcm_wait_options, wait_sizes, MCM_WAIT_OPTIONS_VERSION);
const mcm_options_versions mcm_wait_options_versions = {"mcm_wait_options", "MCM_WAIT_OPTIONS_INIT", wait_sizes,
                                                        MCM_WAIT_OPTIONS_VERSION};

/* Version 1: dcmmcm 0.1. */
static const size_t scp_sizes[] = {MCM_OPTIONS_END(mcm_scp_options, accept_unknown_storage)};
MCM_OPTIONS_CHECK(mcm_scp_options, scp_sizes, MCM_SCP_OPTIONS_VERSION);
const mcm_options_versions mcm_scp_options_versions = {"mcm_scp_options", "MCM_SCP_OPTIONS_INIT", scp_sizes,
                                                       MCM_SCP_OPTIONS_VERSION};
