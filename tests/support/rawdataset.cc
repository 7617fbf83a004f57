/*
 * tests/support/rawdataset.cc: raw bytes -> DcmDataset (DCMTK's own parser, as on the wire) -> the
 * library's decoders (rawdataset.h).
 */
#include "rawdataset.h"

#include "dcmtk/dataset.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dctk.h>

namespace
{

bool parse(const void *bytes, size_t length, int explicit_vr, DcmDataset &out)
{
    DcmInputBufferStream in;
    in.setBuffer(bytes, (offile_off_t)length);
    in.setEos();
    out.transferInit();
    OFCondition c = out.read(in, explicit_vr ? EXS_LittleEndianExplicit : EXS_LittleEndianImplicit, EGL_noChange);
    out.transferEnd();
    return c.good();
}

} // namespace

extern "C" int mcm_test_request_from_bytes(const void *bytes, size_t length, int explicit_vr, mcm_request **out)
{
    DcmDataset ds;
    if (!parse(bytes, length, explicit_vr, ds))
        return MCM_EDICOM;
    return mcm_request_from_dataset(ds, out);
}

extern "C" int mcm_test_job_from_bytes(const void *bytes, size_t length, int explicit_vr, const char *uid,
                                       mcm_job **out)
{
    DcmDataset ds;
    if (!parse(bytes, length, explicit_vr, ds))
        return MCM_EDICOM;
    return mcm_job_from_dataset(ds, uid, out);
}
