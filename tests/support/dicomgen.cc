/*
 * tests/support/dicomgen.cc: writes small but real DICOM images (CT, MR, Secondary Capture) with patient,
 * study and series data through DCMTK, for the suites that store, create media and validate
 * DICOMDIRs.
 */
#include "testutil.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

const char *or_default(const char *value, const char *fallback)
{
    return value != nullptr ? value : fallback;
}

std::string new_uid()
{
    char uid[100];
    dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
    return uid;
}

} // namespace

extern "C" int mcm_test_write_dicom(const char *path, const mcm_test_instance *spec, char *sop_instance_uid_out)
{
    mcm_test_instance defaults;
    std::memset(&defaults, 0, sizeof defaults);
    const mcm_test_instance &s = spec != nullptr ? *spec : defaults;
    std::string sop_class = or_default(s.sop_class_uid, MCM_TEST_CT_IMAGE);
    std::string instance = s.sop_instance_uid != nullptr ? s.sop_instance_uid : new_uid();
    std::string modality = s.modality != nullptr ? s.modality
                           : sop_class == MCM_TEST_MR_IMAGE ? "MR"
                           : sop_class == MCM_TEST_SC_IMAGE ? "OT"
                                                             : "CT";
    unsigned rows = s.rows ? s.rows : 64, columns = s.columns ? s.columns : 64;

    DcmFileFormat file;
    DcmDataset *ds = file.getDataset();
    OFCondition c = EC_Normal;
    auto put = [&](const DcmTagKey &tag, const std::string &value) {
        if (c.good())
            c = ds->putAndInsertString(tag, value.c_str());
    };
    put(DCM_SpecificCharacterSet, "ISO_IR 100");
    put(DCM_SOPClassUID, sop_class);
    put(DCM_SOPInstanceUID, instance);
    put(DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL");
    put(DCM_StudyDate, "20261125");
    put(DCM_StudyTime, "101500");
    put(DCM_ContentDate, "20261125");
    put(DCM_ContentTime, "101501");
    put(DCM_AccessionNumber, "ACC0001");
    put(DCM_Modality, modality);
    put(DCM_Manufacturer, "dcmmcm tests");
    put(DCM_ReferringPhysicianName, "");
    put(DCM_StudyDescription, "Test study");
    put(DCM_SeriesDescription, modality + " series");
    put(DCM_PatientName, or_default(s.patient_name, "Doe^Jane"));
    if (!s.omit_patient_id)
        put(DCM_PatientID, or_default(s.patient_id, "PID0001"));
    put(DCM_PatientBirthDate, "19700101");
    put(DCM_PatientSex, "F");
    put(DCM_StudyInstanceUID, s.study_instance_uid != nullptr ? s.study_instance_uid : new_uid());
    put(DCM_SeriesInstanceUID, s.series_instance_uid != nullptr ? s.series_instance_uid : new_uid());
    put(DCM_StudyID, "1");
    put(DCM_SeriesNumber, "1");
    put(DCM_InstanceNumber, std::to_string(s.instance_number ? s.instance_number : 1));
    put(DCM_PatientOrientation, "");
    if (sop_class == MCM_TEST_CT_IMAGE || sop_class == MCM_TEST_MR_IMAGE) {
        put(DCM_FrameOfReferenceUID, new_uid());
        put(DCM_PositionReferenceIndicator, "");
        put(DCM_ImagePositionPatient, "0\\0\\0");
        put(DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
        put(DCM_PixelSpacing, "0.5\\0.5");
        put(DCM_SliceThickness, "1");
    }
    if (sop_class == MCM_TEST_CT_IMAGE) {
        put(DCM_RescaleIntercept, "-1024");
        put(DCM_RescaleSlope, "1");
        put(DCM_KVP, "120");
        put(DCM_AcquisitionNumber, "1");
    }
    if (sop_class == MCM_TEST_MR_IMAGE) {
        put(DCM_ScanningSequence, "SE");
        put(DCM_SequenceVariant, "NONE");
        put(DCM_ScanOptions, "");
        put(DCM_MRAcquisitionType, "2D");
        put(DCM_EchoTime, "10");
        put(DCM_RepetitionTime, "500");
        put(DCM_EchoTrainLength, "1");
    }
    if (sop_class == MCM_TEST_SC_IMAGE)
        put(DCM_ConversionType, "WSD");
    put(DCM_PhotometricInterpretation, "MONOCHROME2");
    if (c.good()) c = ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    if (c.good()) c = ds->putAndInsertUint16(DCM_Rows, (Uint16)rows);
    if (c.good()) c = ds->putAndInsertUint16(DCM_Columns, (Uint16)columns);
    if (c.good()) c = ds->putAndInsertUint16(DCM_BitsAllocated, 16);
    if (c.good()) c = ds->putAndInsertUint16(DCM_BitsStored, 12);
    if (c.good()) c = ds->putAndInsertUint16(DCM_HighBit, 11);
    if (c.good()) c = ds->putAndInsertUint16(DCM_PixelRepresentation, 0);
    size_t pixels = (size_t)rows * columns;
    std::vector<Uint16> data(pixels + s.extra_pixel_bytes / 2, 0);
    for (size_t i = 0; i < pixels; i++)
        data[i] = (Uint16)((i * 37 + instance.size()) % 4096);
    if (s.extra_pixel_bytes > 0) {
        /* Extra bytes go into a private attribute so that the image itself stays consistent. */
        std::vector<Uint8> filler(s.extra_pixel_bytes, 0x5A);
        if (c.good()) c = ds->putAndInsertString(DcmTag(0x0009, 0x0010, EVR_LO), "DCMMCM TEST");
        if (c.good()) c = ds->putAndInsertUint8Array(DcmTag(0x0009, 0x1000, EVR_OB), filler.data(), (unsigned long)filler.size());
    }
    if (c.good()) c = ds->putAndInsertUint16Array(DCM_PixelData, data.data(), (unsigned long)pixels);
    if (c.bad())
        return -1;
    E_TransferSyntax xfer = EXS_LittleEndianExplicit;
    if (s.transfer_syntax_uid != nullptr) {
        DcmXfer x(s.transfer_syntax_uid);
        xfer = x.getXfer();
        if (xfer == EXS_Unknown)
            return -1;
    }
    c = file.saveFile(path, xfer);
    if (c.bad())
        return -1;
    if (sop_instance_uid_out != nullptr) {
        std::strncpy(sop_instance_uid_out, instance.c_str(), 64);
        sop_instance_uid_out[64] = '\0';
    }
    return 0;
}
