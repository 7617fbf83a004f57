/*
 * lib/core/status_internal.h: what lib/core/status.c tells the rest of the library beyond the public
 * status.h: which status detail fields PS3.7 Annex C lists for a status (digest 7.5), the one
 * table that both the service (lib/scp/service.c, strict Annex C replies) and the network layer
 * (lib/dcmtk/scp_reply.cc, encoding them) follow.
 */
#ifndef MCM_LIB_STATUS_INTERNAL_H
#define MCM_LIB_STATUS_INTERNAL_H

#include "dcmmcm/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Status detail fields of a DIMSE reply, one bit each. */
#define MCM_FIELD_ERROR_COMMENT 0x01u             /* (0000,0902) */
#define MCM_FIELD_ERROR_ID 0x02u                  /* (0000,0903) */
#define MCM_FIELD_OFFENDING_ELEMENT 0x04u         /* (0000,0901) */
#define MCM_FIELD_ATTRIBUTE_IDENTIFIER_LIST 0x08u /* (0000,1005) */
#define MCM_FIELD_ACTION_TYPE_ID 0x10u            /* (0000,1008), N-ACTION replies only */
#define MCM_FIELD_AFFECTED_SOP_CLASS_UID 0x20u    /* (0000,0002) */
#define MCM_FIELD_AFFECTED_SOP_INSTANCE_UID 0x40u /* (0000,1000) */

/* The fields PS3.7 Annex C lists for status (digest 7.5); for 0000 the Affected SOP Class and
 * Instance UIDs and the Action Type ID (digest A7). Service-specific codes (0001, Axxx, Bxxx,
 * Cxxx) get Error Comment and Offending Element. */
unsigned mcm_status_annex_c_fields(uint16_t status);

#ifdef __cplusplus
}
#endif

#endif
