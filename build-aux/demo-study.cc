/*
 * build-aux/demo-study.cc: the study of `make demo`, and a reader of the DICOMDIR it comes back in.
 *
 *   demo-study DIR         write one patient's head CT and head MR (two studies, 20 images) into DIR
 *   demo-study --list FILE print the records of the DICOMDIR FILE as a tree
 *
 * The images are synthetic but complete: a head phantom (scalp, skull, brain, ventricles) in
 * Hounsfield units for the CT and T1-like intensities for the MR, with the patient, study, series,
 * equipment, image plane and pixel modules the CT and MR Image IODs ask for (dciodvfy finds no
 * error), so that the DICOMDIR and the label have real data to show. Nothing is downloaded.
 * Demo code: it uses DCMTK directly and nothing of dcmmcm.
 */
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcddirif.h>
#include <dcmtk/dcmdata/dctk.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace
{

const char *const kCtImage = "1.2.840.10008.5.1.4.1.1.2";
const char *const kMrImage = "1.2.840.10008.5.1.4.1.1.4";
const unsigned kSize = 256;  /* rows and columns */
const double kSpacing = 0.9; /* mm per pixel */

std::string new_uid()
{
    char uid[100];
    dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
    return uid;
}

/* A deterministic noise source, so that two runs write the same pixels. */
struct Noise {
    unsigned long state = 12345;
    double next()
    {
        state = state * 1103515245UL + 12345UL;
        return (double)((state >> 16) & 0x7FFF) / 32768.0 - 0.5;
    }
};

/* Tissue at (x, y) mm from the centre on the slice at height z mm: 0 air, 1 scalp, 2 skull,
 * 3 brain (grey), 4 brain (white), 5 ventricle. An ellipsoid head whose section shrinks away from
 * the middle slice. */
int tissue(double x, double y, double z)
{
    double shrink = std::sqrt(std::fmax(0.0, 1.0 - (z / 95.0) * (z / 95.0)));
    double a = 78.0 * shrink, b = 96.0 * shrink;
    if (a < 1.0)
        return 0;
    double r = std::sqrt((x / a) * (x / a) + (y / b) * (y / b));
    if (r > 1.0)
        return 0;
    if (r > 0.95)
        return 1;
    if (r > 0.88)
        return 2;
    /* Two ventricles near the middle slices. */
    double vz = 1.0 - (z / 30.0) * (z / 30.0);
    if (vz > 0) {
        for (int side = -1; side <= 1; side += 2) {
            double vx = (x - side * 9.0) / (6.0 * vz + 1.0), vy = (y + 5.0) / (22.0 * vz + 1.0);
            if (vx * vx + vy * vy < 1.0)
                return 5;
        }
    }
    return r < 0.55 ? 4 : 3;
}

struct Series {
    const char *sop_class;
    const char *modality;
    std::string study_uid, series_uid, frame_uid;
    const char *study_date, *study_time, *study_id, *accession, *study_description;
    const char *series_description;
    int series_number;
    unsigned slices;
    double slice_thickness;
};

bool put(DcmDataset *ds, const DcmTagKey &tag, const std::string &value)
{
    return ds->putAndInsertString(tag, value.c_str()).good();
}

bool write_image(const std::string &path, const Series &s, unsigned index, Noise &noise)
{
    DcmFileFormat file;
    DcmDataset *ds = file.getDataset();
    bool ct = std::strcmp(s.modality, "CT") == 0;
    double z = ((double)index - (s.slices - 1) / 2.0) * s.slice_thickness;
    char text[64];
    bool ok = put(ds, DCM_SpecificCharacterSet, "ISO_IR 100") && put(ds, DCM_SOPClassUID, s.sop_class) &&
              put(ds, DCM_SOPInstanceUID, new_uid()) &&
              put(ds, DCM_ImageType, ct ? "ORIGINAL\\PRIMARY\\AXIAL" : "ORIGINAL\\PRIMARY\\OTHER") &&
              put(ds, DCM_InstanceCreationDate, s.study_date) && put(ds, DCM_StudyDate, s.study_date) &&
              put(ds, DCM_SeriesDate, s.study_date) && put(ds, DCM_ContentDate, s.study_date) &&
              put(ds, DCM_StudyTime, s.study_time) && put(ds, DCM_SeriesTime, s.study_time) &&
              put(ds, DCM_ContentTime, s.study_time) && put(ds, DCM_AccessionNumber, s.accession) &&
              put(ds, DCM_Modality, s.modality) && put(ds, DCM_Manufacturer, "dcmmcm demo") &&
              put(ds, DCM_InstitutionName, "Example Hospital") && put(ds, DCM_ReferringPhysicianName, "Lee^Sam") &&
              put(ds, DCM_StationName, ct ? "CT01" : "MR01") && put(ds, DCM_StudyDescription, s.study_description) &&
              put(ds, DCM_SeriesDescription, s.series_description) &&
              put(ds, DCM_ManufacturerModelName, ct ? "Phantom CT" : "Phantom MR") &&
              put(ds, DCM_PatientName, "Jordan^Alex") && put(ds, DCM_PatientID, "DEMO0042") &&
              put(ds, DCM_PatientBirthDate, "19800214") && put(ds, DCM_PatientSex, "F") &&
              put(ds, DCM_PatientAge, "046Y") && put(ds, DCM_BodyPartExamined, "HEAD") &&
              put(ds, DCM_SliceThickness, std::to_string(s.slice_thickness)) && put(ds, DCM_PatientPosition, "HFS") &&
              put(ds, DCM_StudyInstanceUID, s.study_uid) && put(ds, DCM_SeriesInstanceUID, s.series_uid) &&
              put(ds, DCM_StudyID, s.study_id) && put(ds, DCM_SeriesNumber, std::to_string(s.series_number)) &&
              put(ds, DCM_AcquisitionNumber, "1") && put(ds, DCM_InstanceNumber, std::to_string(index + 1)) &&
              put(ds, DCM_FrameOfReferenceUID, s.frame_uid) && put(ds, DCM_PositionReferenceIndicator, "") &&
              put(ds, DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0") && put(ds, DCM_PixelSpacing, "0.9\\0.9") &&
              put(ds, DCM_PhotometricInterpretation, "MONOCHROME2");
    double origin = -(kSize / 2.0) * kSpacing;
    std::snprintf(text, sizeof text, "%.1f\\%.1f\\%.1f", origin, origin, z);
    ok = ok && put(ds, DCM_ImagePositionPatient, text);
    std::snprintf(text, sizeof text, "%.1f", z);
    ok = ok && put(ds, DCM_SliceLocation, text);
    if (ct)
        ok = ok && put(ds, DCM_KVP, "120") && put(ds, DCM_RescaleIntercept, "-1024") &&
             put(ds, DCM_RescaleSlope, "1") && put(ds, DCM_RescaleType, "HU") && put(ds, DCM_WindowCenter, "40") &&
             put(ds, DCM_WindowWidth, "80") && put(ds, DCM_ConvolutionKernel, "STANDARD");
    else
        ok = ok && put(ds, DCM_ScanningSequence, "SE") && put(ds, DCM_SequenceVariant, "NONE") &&
             put(ds, DCM_ScanOptions, "") && put(ds, DCM_MRAcquisitionType, "2D") && put(ds, DCM_EchoTime, "12") &&
             put(ds, DCM_RepetitionTime, "520") && put(ds, DCM_EchoTrainLength, "1") &&
             put(ds, DCM_MagneticFieldStrength, "1.5") && put(ds, DCM_ImagingFrequency, "63.87") &&
             put(ds, DCM_WindowCenter, "400") && put(ds, DCM_WindowWidth, "800");
    ok = ok && ds->putAndInsertUint16(DCM_SamplesPerPixel, 1).good() &&
         ds->putAndInsertUint16(DCM_Rows, kSize).good() && ds->putAndInsertUint16(DCM_Columns, kSize).good() &&
         ds->putAndInsertUint16(DCM_BitsAllocated, 16).good() && ds->putAndInsertUint16(DCM_BitsStored, 12).good() &&
         ds->putAndInsertUint16(DCM_HighBit, 11).good() && ds->putAndInsertUint16(DCM_PixelRepresentation, 0).good();
    if (!ok)
        return false;

    /* CT: Hounsfield units + 1024; MR: T1-weighted-like signal. */
    static const double ct_value[] = {-1000, 40, 1200, 38, 28, 5};
    static const double mr_value[] = {8, 820, 60, 430, 560, 140};
    std::vector<Uint16> pixels((size_t)kSize * kSize);
    for (unsigned row = 0; row < kSize; row++)
        for (unsigned col = 0; col < kSize; col++) {
            double x = ((double)col - kSize / 2.0) * kSpacing, y = ((double)row - kSize / 2.0) * kSpacing;
            int t = tissue(x, y, z);
            double v = ct ? ct_value[t] + 1024.0 + 12.0 * noise.next() : mr_value[t] * (1.0 + 0.08 * noise.next());
            pixels[(size_t)row * kSize + col] = (Uint16)std::fmin(4095.0, std::fmax(0.0, v));
        }
    if (ds->putAndInsertUint16Array(DCM_PixelData, pixels.data(), (unsigned long)pixels.size()).bad())
        return false;
    OFCondition c = file.saveFile(path.c_str(), EXS_LittleEndianExplicit);
    if (c.bad())
        std::fprintf(stderr, "demo-study: %s: %s\n", path.c_str(), c.text());
    return c.good();
}

int write_study(const std::string &dir)
{
    Series ct = {kCtImage,          "CT",     new_uid(), new_uid(),   new_uid(),
                 "20260302",        "091500", "4711",    "A20260302", "CT head without contrast",
                 "Head 5 mm axial", 2,        12,        5.0};
    Series mr = {kMrImage, "MR",        new_uid(),  new_uid(),     new_uid(), "20260309", "141000",
                 "4718",   "A20260309", "MR brain", "T1 SE axial", 3,         8,          6.0};
    Noise noise;
    size_t written = 0;
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        std::fprintf(stderr, "demo-study: cannot create %s: %s\n", dir.c_str(), std::strerror(errno));
        return 1;
    }
    for (const Series *s : {&ct, &mr}) {
        std::string sub = dir + "/" + s->modality;
        if (mkdir(sub.c_str(), 0755) != 0 && errno != EEXIST) {
            std::fprintf(stderr, "demo-study: cannot create %s: %s\n", sub.c_str(), std::strerror(errno));
            return 1;
        }
        for (unsigned i = 0; i < s->slices; i++) {
            char name[32];
            std::snprintf(name, sizeof name, "/%s%03u.dcm", s->modality, i + 1);
            if (!write_image(sub + name, *s, i, noise))
                return 1;
            written++;
        }
    }
    std::printf("demo-study: %zu images of patient Jordan^Alex (DEMO0042) in %s: CT head (12), MR brain (8)\n", written,
                dir.c_str());
    return 0;
}

/* ---- --list: the DICOMDIR as a tree ---- */

std::string value(DcmDirectoryRecord *record, const DcmTagKey &tag)
{
    OFString text;
    if (record->findAndGetOFStringArray(tag, text).bad())
        return "";
    return text.c_str();
}

void list_record(DcmDirectoryRecord *record, int depth)
{
    std::string type = value(record, DCM_DirectoryRecordType);
    std::string indent((size_t)depth * 2, ' ');
    if (type == "PATIENT") {
        std::printf("%sPATIENT %s, ID %s\n", indent.c_str(), value(record, DCM_PatientName).c_str(),
                    value(record, DCM_PatientID).c_str());
    } else if (type == "STUDY") {
        std::printf("%sSTUDY %s %s \"%s\", accession %s\n", indent.c_str(), value(record, DCM_StudyDate).c_str(),
                    value(record, DCM_StudyTime).c_str(), value(record, DCM_StudyDescription).c_str(),
                    value(record, DCM_AccessionNumber).c_str());
    } else if (type == "SERIES") {
        /* Images are summarised: their count and first and last File ID. */
        unsigned long images = record->cardSub();
        std::string first, last;
        if (images > 0) {
            first = value(record->getSub(0), DCM_ReferencedFileID);
            last = value(record->getSub(images - 1), DCM_ReferencedFileID);
        }
        std::printf("%sSERIES %s number %s, %lu image%s: %s%s%s\n", indent.c_str(), value(record, DCM_Modality).c_str(),
                    value(record, DCM_SeriesNumber).c_str(), images, images == 1 ? "" : "s", first.c_str(),
                    images > 1 ? " .. " : "", images > 1 ? last.c_str() : "");
        return;
    } else {
        std::printf("%s%s %s\n", indent.c_str(), type.c_str(), value(record, DCM_ReferencedFileID).c_str());
    }
    for (unsigned long i = 0; i < record->cardSub(); i++)
        list_record(record->getSub(i), depth + 1);
}

int list_dicomdir(const char *path)
{
    DcmDicomDir dicomdir(path);
    if (dicomdir.error().bad()) {
        std::fprintf(stderr, "demo-study: cannot read %s: %s\n", path, dicomdir.error().text());
        return 1;
    }
    OFString fileset_id;
    dicomdir.getDirFileFormat().getDataset()->findAndGetOFString(DCM_FileSetID, fileset_id);
    std::printf("DICOMDIR of file-set %s\n", fileset_id.c_str());
    DcmDirectoryRecord &root = dicomdir.getRootRecord();
    for (unsigned long i = 0; i < root.cardSub(); i++)
        list_record(root.getSub(i), 1);
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    /* DCMTK's logger would print warnings of its own; the demo reports what matters itself. */
    OFLog::configure(OFLogger::ERROR_LOG_LEVEL);
    if (argc == 3 && std::strcmp(argv[1], "--list") == 0)
        return list_dicomdir(argv[2]);
    if (argc == 2 && argv[1][0] != '-')
        return write_study(argv[1]);
    std::fprintf(stderr, "usage: demo-study DIR | demo-study --list DICOMDIR\n");
    return 64;
}
