/*
 * lib/scu/options.c: the SCU's network-free defaults (dcmmcm/scu.h): mcm_scu_options_init(),
 * mcm_wait_options_init() and the status tags that mcm_scu_wait() asks for. Owns no state; the
 * versions of the structs are lib/core/options.c's.
 */
#include "dcmmcm/scu.h"

#include "core/options.h"

MCM_EXTERN int mcm_scu_options_init(mcm_scu_options *opts, unsigned int version)
{
    static const mcm_scu_options defaults = MCM_SCU_OPTIONS_INIT;
    return mcm_options_fill(opts, version, &defaults, &mcm_scu_options_versions);
}

MCM_EXTERN int mcm_wait_options_init(mcm_wait_options *opts, unsigned int version)
{
    static const mcm_wait_options defaults = MCM_WAIT_OPTIONS_INIT;
    return mcm_options_fill(opts, version, &defaults, &mcm_wait_options_versions);
}

/* Specific Character Set first: the SCU should always ask for it with the status (digest A19). */
static const uint32_t status_tags[] = {
    MCM_TAG_SPECIFIC_CHARACTER_SET, MCM_TAG_EXECUTION_STATUS,    MCM_TAG_EXECUTION_STATUS_INFO,
    MCM_TAG_TOTAL_NUMBER_OF_PIECES, MCM_TAG_FAILED_SOP_SEQUENCE, MCM_TAG_REFERENCED_STORAGE_MEDIA_SEQUENCE,
};

MCM_EXTERN size_t mcm_scu_status_tags(const uint32_t **tags)
{
    if (tags != NULL)
        *tags = status_tags;
    return sizeof status_tags / sizeof status_tags[0];
}
