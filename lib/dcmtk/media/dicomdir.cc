/*
 * lib/dcmtk/media/dicomdir.cc: everything DICOM-encoded that the media writer needs, through DCMTK:
 * inspecting stored instances against a Media Application Profile (DicomDirInterface's own
 * checks, so that what passes here passes when the DICOMDIR is built), naming the attributes a
 * DICOMDIR lacks (Failure Attributes, digest 4.6), rewriting files in explicit VR little endian,
 * building DICOMDIRs with their File-set UID, and converting text to UTF-8 for labels.
 * Owns no state beyond the once-per-process codec registration. Must not decide policy (which
 * Failure Reason, which volume): lib/media/ does.
 */
#include "dcmtk/media/dicomdir.h"

#include "dcmmcm/common.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcddirif.h>
#include <dcmtk/dcmdata/dcdicdir.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcspchrs.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

namespace
{

/* DicomDirInterface keeps its per-file checks protected; this subclass makes the three steps
 * callable one by one, so that a refusal can be told apart (SOP class, transfer syntax,
 * attributes) and answered with the right Failure Reason. */
class ProfileChecker : public DicomDirInterface
{
  public:
    using DicomDirInterface::checkMandatoryAttributes;
    using DicomDirInterface::checkSOPClassAndXfer;
    using DicomDirInterface::selectApplicationProfile;
};

DicomDirInterface::E_ApplicationProfile dcmtk_profile(mcm_dd_profile profile)
{
    switch (profile) {
    case MCM_DD_GENERAL_PURPOSE: return DicomDirInterface::AP_GeneralPurpose;
    case MCM_DD_DVD_JPEG: return DicomDirInterface::AP_GeneralPurposeDVDJPEG;
    case MCM_DD_DVD_J2K: return DicomDirInterface::AP_GeneralPurposeDVDJPEG2000;
    case MCM_DD_BD_JPEG: return DicomDirInterface::AP_GeneralPurposeBDJPEG;
    case MCM_DD_BD_J2K: return DicomDirInterface::AP_GeneralPurposeBDJPEG2000;
    case MCM_DD_USB_JPEG: return DicomDirInterface::AP_USBandFlashJPEG;
    case MCM_DD_USB_J2K: return DicomDirInterface::AP_USBandFlashJPEG2000;
    case MCM_DD_DVD_MPEG2_MPML: return DicomDirInterface::AP_MPEG2MPatMLDVD;
    case MCM_DD_BD_MPEG2_MPML: return DicomDirInterface::AP_GeneralPurposeBDMPEG2MPatML;
    case MCM_DD_BD_MPEG2_MPHL: return DicomDirInterface::AP_GeneralPurposeBDMPEG2MPatHL;
    case MCM_DD_BD_MPEG4_HPLV41: return DicomDirInterface::AP_GeneralPurposeBDMPEG4HPatLV41;
    case MCM_DD_BD_MPEG4_HPLV41BD: return DicomDirInterface::AP_GeneralPurposeBDMPEG4HPatLV41BD;
    case MCM_DD_BD_MPEG4_HPLV42_2D: return DicomDirInterface::AP_GeneralPurposeBDMPEG4HPatLV42_2D;
    case MCM_DD_BD_MPEG4_HPLV42_3D: return DicomDirInterface::AP_GeneralPurposeBDMPEG4HPatLV42_3D;
    case MCM_DD_BD_MPEG4_SHPLV42: return DicomDirInterface::AP_GeneralPurposeBDMPEG4StereoHPatLV42;
    }
    return DicomDirInterface::AP_GeneralPurpose;
}

/* Decoders are registered once per process, the first time one is needed, and deregistered only
 * when the process ends: DCMTK's registration is global, and deregistering while another thread
 * decodes is unsafe (djdecode.h). DCMTK's list keeps only pointers to its entries, so without the
 * deregistration they would be lost at exit (and reported so by leak checkers). The guard is
 * destroyed before dcmdata's own statics, which were constructed before ours. */
std::atomic<bool> decoders_registered{false};

struct DecoderGuard {
    ~DecoderGuard()
    {
        if (decoders_registered.load()) {
            DJDecoderRegistration::cleanup();
            DJLSDecoderRegistration::cleanup();
            DcmRLEDecoderRegistration::cleanup();
        }
    }
} decoder_guard;

void register_decoders()
{
    static std::once_flag once;
    std::call_once(once, [] {
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEDecoderRegistration::registerCodecs();
        decoders_registered.store(true);
    });
}

uint32_t tag_of(const DcmTagKey &key)
{
    return ((uint32_t)key.getGroup() << 16) | key.getElement();
}

/* ---- which attributes a DICOMDIR record needs (PS3.3 F.5; as DCMTK 3.6.7 checks them) ---- */

enum class RecordKind {
    Image,
    SR,
    KeyObject,
    Presentation,
    Waveform,
    EncapsulatedDocument,
    RTDose,
    RTStructureSet,
    RTPlan,
    RTTreatmentRecord,
    Other
};

bool has_prefix(const OFString &uid, const char *prefix)
{
    return uid.compare(0, std::strlen(prefix), prefix) == 0;
}

/* The record kind DCMTK gives a SOP class, for the classes whose extra required attributes this
 * layer names; Other covers the rest (their refusal is still reported, without tags). */
RecordKind record_kind(const OFString &sop_class)
{
    if (sop_class == UID_KeyObjectSelectionDocumentStorage)
        return RecordKind::KeyObject;
    if (has_prefix(sop_class, "1.2.840.10008.5.1.4.1.1.88."))
        return RecordKind::SR;
    if (has_prefix(sop_class, "1.2.840.10008.5.1.4.1.1.11."))
        return RecordKind::Presentation;
    if (has_prefix(sop_class, "1.2.840.10008.5.1.4.1.1.9."))
        return RecordKind::Waveform;
    if (has_prefix(sop_class, "1.2.840.10008.5.1.4.1.1.104."))
        return RecordKind::EncapsulatedDocument;
    if (sop_class == UID_RTDoseStorage)
        return RecordKind::RTDose;
    if (sop_class == UID_RTStructureSetStorage)
        return RecordKind::RTStructureSet;
    if (sop_class == UID_RTPlanStorage || sop_class == UID_RTIonPlanStorage)
        return RecordKind::RTPlan;
    if (sop_class == UID_RTBeamsTreatmentRecordStorage || sop_class == UID_RTBrachyTreatmentRecordStorage ||
        sop_class == UID_RTTreatmentSummaryRecordStorage || sop_class == UID_RTIonBeamsTreatmentRecordStorage)
        return RecordKind::RTTreatmentRecord;
    for (int i = 0; i < numberOfDcmImageSOPClassUIDs; i++)
        if (sop_class == dcmImageSOPClassUIDs[i])
            return RecordKind::Image;
    return RecordKind::Other;
}

void note_tag(uint32_t *list, size_t *count, const DcmTagKey &key)
{
    uint32_t tag = tag_of(key);
    for (size_t i = 0; i < *count; i++)
        if (list[i] == tag)
            return;
    if (*count < MCM_DICOM_MAX_TAGS)
        list[(*count)++] = tag;
}

/* Type 1 in the record: absent -> 0120H, present without a value -> 0121H. */
void need_value(DcmItem &ds, const DcmTagKey &key, mcm_dicom_info *out)
{
    if (!ds.tagExists(key))
        note_tag(out->missing, &out->missing_count, key);
    else if (!ds.tagExistsWithValue(key))
        note_tag(out->empty, &out->empty_count, key);
}

/* Type 2 in the record: only absence is a problem. */
void need_present(DcmItem &ds, const DcmTagKey &key, mcm_dicom_info *out)
{
    if (!ds.tagExists(key))
        note_tag(out->missing, &out->missing_count, key);
}

bool profile_needs_rows_columns(mcm_dd_profile profile)
{
    return profile != MCM_DD_GENERAL_PURPOSE;
}

/* Name the attributes DCMTK's checkMandatoryAttributes() requires (dcddirif.cc, DCMTK 3.6.7). */
void name_missing_attributes(DcmItem &ds, const OFString &sop_class, mcm_dd_profile profile, mcm_dicom_info *out)
{
    need_value(ds, DCM_PatientID, out);
    need_present(ds, DCM_PatientName, out);
    need_value(ds, DCM_StudyDate, out);
    need_value(ds, DCM_StudyTime, out);
    need_value(ds, DCM_StudyInstanceUID, out);
    need_value(ds, DCM_StudyID, out);
    need_value(ds, DCM_Modality, out);
    need_value(ds, DCM_SeriesInstanceUID, out);
    need_value(ds, DCM_SeriesNumber, out);
    RecordKind kind = record_kind(sop_class);
    /* Every instance-level record but the catch-all carries Instance Number. */
    if (kind != RecordKind::Other)
        need_value(ds, DCM_InstanceNumber, out);
    switch (kind) {
    case RecordKind::Image:
        if (profile_needs_rows_columns(profile)) {
            need_value(ds, DCM_Rows, out);
            need_value(ds, DCM_Columns, out);
        }
        break;
    case RecordKind::SR:
        need_value(ds, DCM_CompletionFlag, out);
        need_value(ds, DCM_VerificationFlag, out);
        need_value(ds, DCM_ContentDate, out);
        need_value(ds, DCM_ContentTime, out);
        need_value(ds, DCM_ConceptNameCodeSequence, out);
        break;
    case RecordKind::KeyObject:
        need_value(ds, DCM_ContentDate, out);
        need_value(ds, DCM_ContentTime, out);
        need_value(ds, DCM_ConceptNameCodeSequence, out);
        break;
    case RecordKind::Presentation:
        need_value(ds, DCM_ContentLabel, out);
        need_value(ds, DCM_PresentationCreationDate, out);
        need_value(ds, DCM_PresentationCreationTime, out);
        break;
    case RecordKind::Waveform:
        need_value(ds, DCM_ContentDate, out);
        need_value(ds, DCM_ContentTime, out);
        break;
    case RecordKind::EncapsulatedDocument:
        need_value(ds, DCM_MIMETypeOfEncapsulatedDocument, out);
        break;
    case RecordKind::RTDose:
        need_value(ds, DCM_DoseSummationType, out);
        break;
    case RecordKind::RTStructureSet:
        need_value(ds, DCM_StructureSetLabel, out);
        break;
    case RecordKind::RTPlan:
        need_value(ds, DCM_RTPlanLabel, out);
        break;
    case RecordKind::RTTreatmentRecord: break;
    case RecordKind::Other: break;
    }
}

/* ---- text ---- */

char *dup_string(const char *text, size_t length)
{
    char *copy = static_cast<char *>(std::malloc(length + 1));
    if (copy != nullptr) {
        std::memcpy(copy, text, length);
        copy[length] = '\0';
    }
    return copy;
}

/* ASCII only, everything else '?': the fallback when a character set is unknown to iconv. */
char *ascii_copy(const char *text, size_t length)
{
    char *copy = dup_string(text, length);
    if (copy != nullptr)
        for (size_t i = 0; i < length; i++)
            if ((unsigned char)copy[i] >= 0x80 ||
                (copy[i] < 0x20 && copy[i] != '\n' && copy[i] != '\r' && copy[i] != '\t'))
                copy[i] = '?';
    return copy;
}

/* Strip DICOM padding: trailing spaces (and NULs, as UI pads), leading spaces for non-text VRs. */
OFString trimmed(const OFString &value)
{
    size_t end = value.size();
    while (end > 0 && (value[end - 1] == ' ' || value[end - 1] == '\0'))
        end--;
    size_t begin = 0;
    while (begin < end && value[begin] == ' ')
        begin++;
    return value.substr(begin, end - begin);
}

/* The attribute's whole value (all values, backslashes kept) in UTF-8, or "" if absent. */
char *utf8_value(DcmItem &ds, const DcmTagKey &key, DcmSpecificCharacterSet *converter, const char *delimiters)
{
    OFString raw;
    if (ds.findAndGetOFStringArray(key, raw).bad())
        raw.clear();
    raw = trimmed(raw);
    if (converter != nullptr) {
        OFString converted;
        if (converter->convertString(raw, converted, delimiters).good())
            return dup_string(converted.c_str(), converted.size());
    }
    return ascii_copy(raw.c_str(), raw.size());
}

void copy_uid(char dest[65], DcmItem &ds, const DcmTagKey &key)
{
    OFString value;
    dest[0] = '\0';
    if (ds.findAndGetOFString(key, value).good()) {
        value = trimmed(value);
        std::snprintf(dest, 65, "%s", value.c_str());
    }
}

int fill_strings(DcmItem &ds, mcm_dicom_info *out)
{
    /* Values travel in the instance's Specific Character Set (PS3.5 6.1); labels and JSON want
     * UTF-8. A set iconv does not know leaves ASCII with '?' for the rest. */
    DcmSpecificCharacterSet converter;
    DcmSpecificCharacterSet *use = nullptr;
    if (converter.selectCharacterSet(ds).good()) {
        converter.setConversionFlags(OFCharacterEncoding::TransliterateIllegalSequences |
                                     OFCharacterEncoding::DiscardIllegalSequences);
        use = &converter;
    }
    struct {
        char **field;
        DcmTagKey key;
        const char *delimiters;
    } fields[] = {
        {&out->patient_id, DCM_PatientID, ""},
        {&out->patient_name, DCM_PatientName, "\\^="},
        {&out->patient_birth_date, DCM_PatientBirthDate, ""},
        {&out->patient_sex, DCM_PatientSex, ""},
        {&out->study_instance_uid, DCM_StudyInstanceUID, ""},
        {&out->study_date, DCM_StudyDate, ""},
        {&out->study_time, DCM_StudyTime, ""},
        {&out->study_description, DCM_StudyDescription, ""},
        {&out->study_id, DCM_StudyID, ""},
        {&out->accession_number, DCM_AccessionNumber, ""},
        {&out->series_instance_uid, DCM_SeriesInstanceUID, ""},
        {&out->series_number, DCM_SeriesNumber, ""},
        {&out->modality, DCM_Modality, ""},
        {&out->instance_number, DCM_InstanceNumber, ""},
    };
    for (auto &f : fields) {
        *f.field = utf8_value(ds, f.key, use, f.delimiters);
        if (*f.field == nullptr)
            return mcm_error_set(MCM_ENOMEM, "out of memory reading %s", f.key.toString().c_str());
    }
    return MCM_OK;
}

} // namespace

/* ---- inspecting ---- */

extern "C" void mcm_dicom_info_clear(mcm_dicom_info *info)
{
    if (info == nullptr)
        return;
    char **fields[] = {&info->patient_id,       &info->patient_name,        &info->patient_birth_date,
                       &info->patient_sex,      &info->study_instance_uid,  &info->study_date,
                       &info->study_time,       &info->study_description,   &info->study_id,
                       &info->accession_number, &info->series_instance_uid, &info->series_number,
                       &info->modality,         &info->instance_number};
    for (char **f : fields) {
        std::free(*f);
        *f = nullptr;
    }
}

extern "C" int mcm_dicom_inspect(const char *path, mcm_dd_profile profile, int check_transfer_syntax,
                                 mcm_dicom_info *out)
{
    if (path == nullptr || out == nullptr)
        return mcm_error_set(MCM_EINVAL, "mcm_dicom_inspect: NULL argument");
    std::memset(out, 0, sizeof *out);
    try {
        DcmFileFormat file;
        /* Values longer than DCM_MaxReadLength stay on disk until used: pixel data is never read
         * for an inspection. */
        OFCondition c = file.loadFile(path, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
        DcmMetaInfo *meta = file.getMetaInfo();
        DcmDataset *ds = file.getDataset();
        if (c.bad() || meta == nullptr || ds == nullptr || meta->card() == 0 || ds->card() == 0) {
            out->verdict = MCM_DICOM_UNREADABLE;
            DcmDataset nothing;
            int rc = fill_strings(nothing, out);
            if (rc != MCM_OK)
                mcm_dicom_info_clear(out);
            return rc;
        }
        copy_uid(out->sop_class_uid, *ds, DCM_SOPClassUID);
        if (out->sop_class_uid[0] == '\0')
            copy_uid(out->sop_class_uid, *meta, DCM_MediaStorageSOPClassUID);
        copy_uid(out->sop_instance_uid, *ds, DCM_SOPInstanceUID);
        if (out->sop_instance_uid[0] == '\0')
            copy_uid(out->sop_instance_uid, *meta, DCM_MediaStorageSOPInstanceUID);
        copy_uid(out->transfer_syntax_uid, *meta, DCM_TransferSyntaxUID);

        ProfileChecker checker;
        checker.disableTransferSyntaxCheck(); /* (sic) disables it: the transfer syntax is judged below */
        if (!check_transfer_syntax) {
            /* The caller judges this file's transfer syntax itself (it is about to be converted):
             * an explicit VR little endian stand-in in the in-memory File Meta Information, never
             * saved, keeps DCMTK from logging a warning per instance about what is not a problem. */
            meta->putAndInsertString(DCM_TransferSyntaxUID, UID_LittleEndianExplicitTransferSyntax);
        }
        OFCondition selected = checker.selectApplicationProfile(dcmtk_profile(profile));
        if (selected.bad()) {
            mcm_dicom_info_clear(out);
            return mcm_error_set(MCM_EINTERNAL, "DCMTK refused application profile %d: %s", (int)profile, selected.text());
        }
        OFFilename name(path);
        OFCondition sop = checker.checkSOPClassAndXfer(meta, ds, name);
        if (sop == EC_ApplicationProfileViolated) {
            out->verdict = MCM_DICOM_SOP_CLASS;
        } else if (sop.bad()) {
            out->verdict = MCM_DICOM_UNREADABLE;
        } else {
            if (check_transfer_syntax) {
                checker.disableTransferSyntaxCheck(OFTrue); /* enables it */
                if (checker.checkSOPClassAndXfer(meta, ds, name).bad())
                    out->verdict = MCM_DICOM_TRANSFER_SYNTAX;
            }
            if (out->verdict == MCM_DICOM_OK && checker.checkMandatoryAttributes(meta, ds, name).bad()) {
                out->verdict = MCM_DICOM_ATTRIBUTES;
                OFString sop_class(out->sop_class_uid);
                name_missing_attributes(*ds, sop_class, profile, out);
            }
        }
        int rc = fill_strings(*ds, out);
        if (rc != MCM_OK)
            mcm_dicom_info_clear(out);
        return rc;
    } catch (const std::bad_alloc &) {
        mcm_dicom_info_clear(out);
        return mcm_error_set(MCM_ENOMEM, "out of memory inspecting %s", path);
    } catch (...) {
        mcm_dicom_info_clear(out);
        return mcm_error_set(MCM_EINTERNAL, "unexpected exception inspecting %s", path);
    }
}

/* ---- rewriting ---- */

extern "C" int mcm_dicom_rewrite_explicit_le(const char *src, const char *dst)
{
    if (src == nullptr || dst == nullptr)
        return mcm_error_set(MCM_EINVAL, "mcm_dicom_rewrite_explicit_le: NULL argument");
    try {
        register_decoders();
        DcmFileFormat file;
        OFCondition c = file.loadFile(src);
        if (c.bad())
            return mcm_error_set(MCM_EDICOM, "cannot read %s: %s", src, c.text());
        DcmDataset *ds = file.getDataset();
        /* Decoding is lossless with respect to what was received: pixel data already lossy stays
         * as it is (Lossy Image Compression kept), nothing is compressed again (PS3.4 S.3.2.1.1.9). */
        c = ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
        if (c.bad() || !ds->canWriteXfer(EXS_LittleEndianExplicit))
            return mcm_error_set(MCM_EDICOM, "cannot convert %s to explicit VR little endian: %s", src,
                            c.bad() ? c.text() : "representation not available");
        c = file.saveFile(dst, EXS_LittleEndianExplicit, EET_ExplicitLength, EGL_recalcGL, EPD_noChange, 0, 0,
                          EWM_fileformat);
        if (c.bad()) {
            std::remove(dst);
            return mcm_error_set(MCM_EDICOM, "cannot write %s: %s", dst, c.text());
        }
        return MCM_OK;
    } catch (const std::bad_alloc &) {
        std::remove(dst);
        return mcm_error_set(MCM_ENOMEM, "out of memory converting %s", src);
    } catch (...) {
        std::remove(dst);
        return mcm_error_set(MCM_EINTERNAL, "unexpected exception converting %s", src);
    }
}

/* ---- DICOMDIR ---- */

struct mcm_dicomdir {
    DicomDirInterface iface;
    std::string root;
    std::string path;
};

extern "C" int mcm_dicomdir_begin(mcm_dicomdir **out, mcm_dd_profile profile, const char *root, const char *fileset_id,
                                  int check_transfer_syntax)
{
    if (out == nullptr || root == nullptr || fileset_id == nullptr)
        return mcm_error_set(MCM_EINVAL, "mcm_dicomdir_begin: NULL argument");
    *out = nullptr;
    try {
        mcm_dicomdir *dd = new mcm_dicomdir;
        dd->root = root;
        dd->path = dd->root + "/DICOMDIR";
        dd->iface.disableBackupMode();
        if (!check_transfer_syntax)
            dd->iface.disableTransferSyntaxCheck();
        OFCondition c = dd->iface.createNewDicomDir(dcmtk_profile(profile), dd->path.c_str(), fileset_id);
        if (c.bad()) {
            delete dd;
            return mcm_error_set(MCM_EDICOM, "cannot create DICOMDIR in %s: %s", root, c.text());
        }
        *out = dd;
        return MCM_OK;
    } catch (const std::bad_alloc &) {
        return mcm_error_set(MCM_ENOMEM, "out of memory creating a DICOMDIR");
    } catch (...) {
        return mcm_error_set(MCM_EINTERNAL, "unexpected exception creating a DICOMDIR");
    }
}

extern "C" int mcm_dicomdir_add(mcm_dicomdir *dd, const char *file_id)
{
    if (dd == nullptr || file_id == nullptr)
        return mcm_error_set(MCM_EINVAL, "mcm_dicomdir_add: NULL argument");
    try {
        OFCondition c = dd->iface.addDicomFile(file_id, dd->root.c_str());
        if (c.bad())
            return mcm_error_set(MCM_EDICOM, "DICOMDIR refused %s: %s", file_id, c.text());
        return MCM_OK;
    } catch (const std::bad_alloc &) {
        return mcm_error_set(MCM_ENOMEM, "out of memory adding %s to a DICOMDIR", file_id);
    } catch (...) {
        return mcm_error_set(MCM_EINTERNAL, "unexpected exception adding %s to a DICOMDIR", file_id);
    }
}

extern "C" int mcm_dicomdir_finish(mcm_dicomdir *dd, const char *fileset_uid)
{
    if (dd == nullptr || fileset_uid == nullptr)
        return mcm_error_set(MCM_EINVAL, "mcm_dicomdir_finish: NULL argument");
    try {
        OFCondition c = dd->iface.writeDicomDir();
        if (c.bad())
            return mcm_error_set(MCM_EDICOM, "cannot write %s: %s", dd->path.c_str(), c.text());
        /* Its records are on disk now: free them before the DICOMDIR is read back below, so that
         * a large file-set is not held twice. */
        dd->iface.cleanup();
        /* DicomDirInterface has no File-set UID setter and generates one on write; the DICOMDIR is
         * read back and written again through DcmDicomDir::write(), which recomputes the record
         * offsets (media-notes.md section 1). */
        DcmDicomDir dir(dd->path.c_str());
        if (dir.error().bad())
            return mcm_error_set(MCM_EDICOM, "cannot read back %s: %s", dd->path.c_str(), dir.error().text());
        c = dir.getDirFileFormat().getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID, fileset_uid);
        if (c.good())
            c = dir.write();
        if (c.bad())
            return mcm_error_set(MCM_EDICOM, "cannot set the File-set UID of %s: %s", dd->path.c_str(), c.text());
        return MCM_OK;
    } catch (const std::bad_alloc &) {
        return mcm_error_set(MCM_ENOMEM, "out of memory writing a DICOMDIR");
    } catch (...) {
        return mcm_error_set(MCM_EINTERNAL, "unexpected exception writing a DICOMDIR");
    }
}

extern "C" void mcm_dicomdir_free(mcm_dicomdir *dd)
{
    delete dd;
}

extern "C" int mcm_dicomdir_read_ids(const char *path, char fileset_id[17], char fileset_uid[65])
{
    if (path == nullptr || fileset_id == nullptr || fileset_uid == nullptr)
        return mcm_error_set(MCM_EINVAL, "mcm_dicomdir_read_ids: NULL argument");
    try {
        DcmFileFormat file;
        OFCondition c = file.loadFile(path);
        if (c.bad())
            return mcm_error_set(MCM_EDICOM, "cannot read %s: %s", path, c.text());
        OFString id, uid;
        file.getDataset()->findAndGetOFString(DCM_FileSetID, id);
        file.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, uid);
        std::snprintf(fileset_id, 17, "%s", trimmed(id).c_str());
        std::snprintf(fileset_uid, 65, "%s", trimmed(uid).c_str());
        return MCM_OK;
    } catch (...) {
        return mcm_error_set(MCM_EINTERNAL, "unexpected exception reading %s", path);
    }
}

/* ---- text ---- */

extern "C" int mcm_dicom_text_to_utf8(const char *charset, const char *text, size_t length, char **out)
{
    if (out == nullptr || (text == nullptr && length > 0))
        return mcm_error_set(MCM_EINVAL, "mcm_dicom_text_to_utf8: NULL argument");
    *out = nullptr;
    try {
        if (text == nullptr)
            text = "";
        DcmSpecificCharacterSet converter;
        OFString from = charset != nullptr ? charset : "";
        if (converter.selectCharacterSet(from).good()) {
            converter.setConversionFlags(OFCharacterEncoding::TransliterateIllegalSequences |
                                         OFCharacterEncoding::DiscardIllegalSequences);
            OFString converted;
            if (converter.convertString(text, length, converted).good()) {
                *out = dup_string(converted.c_str(), converted.size());
                return *out != nullptr ? MCM_OK : mcm_error_set(MCM_ENOMEM, "out of memory converting text");
            }
        }
        *out = ascii_copy(text, length);
        return *out != nullptr ? MCM_OK : mcm_error_set(MCM_ENOMEM, "out of memory converting text");
    } catch (...) {
        *out = ascii_copy(text, length);
        return *out != nullptr ? MCM_OK : mcm_error_set(MCM_ENOMEM, "out of memory converting text");
    }
}
