/*
 * dcmmcm.h: the umbrella header of dcmmcm, a C library implementing the DICOM Media Creation
 * Management service class (PS3.4 Annex S, SOP Class UID 1.2.840.10008.5.1.1.33) over DCMTK.
 * Include this one header; see dcmmcm(3) for the overview.
 */
#ifndef DCMMCM_H
#define DCMMCM_H

#include "dcmmcm/common.h"
#include "dcmmcm/status.h"
#include "dcmmcm/request.h"
#include "dcmmcm/job.h"
#include "dcmmcm/scu.h"
#include "dcmmcm/scp.h"
#include "dcmmcm/media.h"

#endif
