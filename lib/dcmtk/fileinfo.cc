/*
 * lib/dcmtk/fileinfo.cc: mcm_file_info_read(): what identifies a DICOM file (SOP Class and Instance
 * UID, transfer syntax, Patient ID, Study Instance UID), for tools and integrators that decide what
 * to send and reference. Reads up to, not including, the pixel data; never throws.
 */
#include "core/error.h"
#include "dcmtk/log.h"

#include "dcmmcm/scu.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <cerrno>
#include <cstring>
#include <sys/stat.h>

namespace {

void copy_value(DcmItem *item, const DcmTagKey &tag, char *out, size_t size)
{
    OFString value;
    out[0] = '\0';
    if (item != NULL && item->findAndGetOFString(tag, value).good())
        OFStandard::strlcpy(out, value.c_str(), size);
}

} // namespace

extern "C" MCM_EXTERN int mcm_file_info_read(const char *path, mcm_file_info *out)
{
    if (path == NULL || out == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_file_info_read: NULL argument");
    std::memset(out, 0, sizeof *out);
    mcm_log_apply_default(); /* DCMTK warns when it stops at the pixel data; stay silent unless asked */
    struct stat st;
    if (stat(path, &st) != 0)
        return mcm_fail(errno == ENOENT ? MCM_ENOTFOUND : MCM_EIO, "%s: %s", path, std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        return mcm_fail(MCM_EDICOM, "%s: not a regular file", path);
    try {
        DcmFileFormat file;
        /* Stop before the pixel data: nothing here needs it, and a big file stays cheap. */
        OFCondition c = file.loadFileUntilTag(path, EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect,
                                              DCM_PixelData);
        if (c.bad())
            return mcm_fail(MCM_EDICOM, "%s: not a DICOM file (%s)", path, c.text());
        DcmMetaInfo *meta = file.getMetaInfo();
        DcmDataset *data = file.getDataset();
        copy_value(meta, DCM_MediaStorageSOPClassUID, out->sop_class_uid, sizeof out->sop_class_uid);
        copy_value(meta, DCM_MediaStorageSOPInstanceUID, out->sop_instance_uid, sizeof out->sop_instance_uid);
        copy_value(meta, DCM_TransferSyntaxUID, out->transfer_syntax_uid, sizeof out->transfer_syntax_uid);
        if (out->sop_class_uid[0] == '\0')
            copy_value(data, DCM_SOPClassUID, out->sop_class_uid, sizeof out->sop_class_uid);
        if (out->sop_instance_uid[0] == '\0')
            copy_value(data, DCM_SOPInstanceUID, out->sop_instance_uid, sizeof out->sop_instance_uid);
        if (out->transfer_syntax_uid[0] == '\0' && data != NULL) {
            DcmXfer xfer(data->getOriginalXfer());
            if (xfer.getXfer() != EXS_Unknown)
                OFStandard::strlcpy(out->transfer_syntax_uid, xfer.getXferID(), sizeof out->transfer_syntax_uid);
        }
        copy_value(data, DCM_PatientID, out->patient_id, sizeof out->patient_id);
        copy_value(data, DCM_StudyInstanceUID, out->study_instance_uid, sizeof out->study_instance_uid);
        if (out->sop_class_uid[0] == '\0' || out->sop_instance_uid[0] == '\0')
            return mcm_fail(MCM_EDICOM, "%s: no SOP Class UID or SOP Instance UID", path);
        return MCM_OK;
    } catch (...) {
        return mcm_fail(MCM_EINTERNAL, "%s: unexpected error while reading", path);
    }
}
