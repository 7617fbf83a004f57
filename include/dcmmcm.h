/*
 * dcmmcm.h: the umbrella header of dcmmcm, a C library implementing the DICOM Media Creation
 * Management service class (PS3.4 Annex S, SOP Class UID 1.2.840.10008.5.1.1.33) over DCMTK.
 * Include this one header and link libdcmmcm (pkg-config dcmmcm); see dcmmcm(3) for the overview.
 *
 * The default media writer is a library of its own, libdcmmcm-media (pkg-config dcmmcm-media), with
 * its own header: include <dcmmcm/media.h> as well to use it. This header leaves it out on purpose,
 * so that a program that links only libdcmmcm cannot compile a call it could not link.
 */
#ifndef DCMMCM_H
#define DCMMCM_H

#include "dcmmcm/common.h"
#include "dcmmcm/status.h"
#include "dcmmcm/request.h"
#include "dcmmcm/job.h"
#include "dcmmcm/scu.h"
#include "dcmmcm/scp.h"

#endif
