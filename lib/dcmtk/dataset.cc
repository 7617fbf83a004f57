/*
 * lib/dcmtk/dataset.cc: DcmDataset <-> mcm_request / mcm_job (dataset.h), both directions, with
 * N-GET attribute selection. Owns only the conversion: it never validates (request.c judges what
 * it is given), never talks to the network, and never lets an exception out.
 *
 * Rules it keeps (digest 2, 3, 8; dcmtk-notes section 6):
 * - Values travel byte for byte: the element's raw string with its length, minus DICOM padding
 *   only (one trailing space of a text VR, one trailing NUL of a UI; DCMTK's default input
 *   correction already drops trailing padding when it reads). Nothing is converted between
 *   character sets: Specific Character Set travels as given, beside the values it describes.
 * - An empty element stays present and empty (validation answers 0121 for it in strict mode).
 * - SOP Class UID (0008,0016) and SOP Instance UID (0008,0018) are never encoded (PS3.4 5.4.2.3);
 *   nothing here can produce them because only module attributes are written.
 * - Sequences are walked with nextInContainer(), never indexed: getItem(i) is a walk from the
 *   head of a linked list, quadratic over a 100,000-item Referenced SOP Sequence.
 */
#include "dcmtk/dataset.h"

#include "core/error.h"
#include "core/job_internal.h"
#include "core/request_internal.h"
#include "core/vr.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace
{

/* A failure inside the conversion: the mcm_error code, its message already set with mcm_fail. */
struct conversion_error {
    int code;
};

[[noreturn]] void fail_dicom(const char *what, const OFCondition &condition)
{
    throw conversion_error{mcm_fail(MCM_EDICOM, "%s: %s", what, condition.text())};
}

void check(const OFCondition &condition, const char *what)
{
    if (condition.bad())
        fail_dicom(what, condition);
}

void check_rc(int rc)
{
    if (rc != MCM_OK)
        throw conversion_error{rc};
}

uint32_t tag_of(const DcmObject *object)
{
    const DcmTag &tag = object->getTag();
    return MCM_TAG(tag.getGroup(), tag.getElement());
}

DcmTagKey key_of(uint32_t tag)
{
    return DcmTagKey((Uint16)(tag >> 16), (Uint16)(tag & 0xFFFF));
}

bool is_group_length(uint32_t tag)
{
    return (tag & 0xFFFF) == 0;
}

DcmEVR evr_of(mcm_vr vr)
{
    switch (vr) {
    case MCM_VR_UI: return EVR_UI;
    case MCM_VR_CS: return EVR_CS;
    case MCM_VR_SH: return EVR_SH;
    case MCM_VR_LO: return EVR_LO;
    case MCM_VR_LT: return EVR_LT;
    case MCM_VR_UT: return EVR_UT;
    case MCM_VR_IS: return EVR_IS;
    }
    return EVR_UN;
}

/* ---- encoding ---- */

/* Take ownership of element and insert it into item, replacing an element with the same tag. */
void insert(DcmItem &item, DcmElement *element, const char *what)
{
    OFCondition c = item.insert(element, OFTrue);
    if (c.bad()) {
        delete element;
        fail_dicom(what, c);
    }
}

/* A string element with exactly value[0..length) (possibly empty) as its value. */
void put_raw(DcmItem &item, const DcmTagKey &key, DcmEVR vr, const char *value, size_t length)
{
    if (length > 0xFFFFFFFEu)
        throw conversion_error{
            mcm_fail(MCM_EDICOM, "(%04X,%04X): value too long for DICOM", key.getGroup(), key.getElement())};
    DcmElement *element = NULL;
    check(DcmItem::newDicomElementWithVR(element, DcmTag(key, vr)), "cannot create element");
    OFCondition c = length > 0 ? element->putString(value, (Uint32)length) : EC_Normal;
    if (c.bad()) {
        delete element;
        fail_dicom("cannot set element value", c);
    }
    insert(item, element, "cannot insert element");
}

void put_uint16(DcmItem &item, const DcmTagKey &key, Uint16 value)
{
    DcmElement *element = NULL;
    check(DcmItem::newDicomElementWithVR(element, DcmTag(key, EVR_US)), "cannot create element");
    OFCondition c = element->putUint16(value);
    if (c.bad()) {
        delete element;
        fail_dicom("cannot set element value", c);
    }
    insert(item, element, "cannot insert element");
}

void put_uint16_array(DcmItem &item, const DcmTagKey &key, DcmEVR vr, const Uint16 *values, unsigned long count)
{
    DcmElement *element = NULL;
    check(DcmItem::newDicomElementWithVR(element, DcmTag(key, vr)), "cannot create element");
    OFCondition c = count > 0 ? element->putUint16Array(values, count) : EC_Normal;
    if (c.bad()) {
        delete element;
        fail_dicom("cannot set element value", c);
    }
    insert(item, element, "cannot insert element");
}

/* A new item appended to seq (owned by seq). */
DcmItem *append_item(DcmSequenceOfItems &seq)
{
    DcmItem *item = new DcmItem();
    OFCondition c = seq.append(item);
    if (c.bad()) {
        delete item;
        fail_dicom("cannot append sequence item", c);
    }
    return item;
}

/* Insert a finished sequence into item (ownership passes; deleted on failure). */
void insert_sequence(DcmItem &item, DcmSequenceOfItems *seq)
{
    OFCondition c = item.insert(seq, OFTrue);
    if (c.bad()) {
        delete seq;
        fail_dicom("cannot insert sequence", c);
    }
}

/* Sequence under construction: deleted unless handed over with release(). */
struct pending_sequence {
    DcmSequenceOfItems *seq;
    explicit pending_sequence(const DcmTagKey &key) : seq(new DcmSequenceOfItems(key))
    {
    }
    ~pending_sequence()
    {
        delete seq;
    }
    DcmSequenceOfItems *release()
    {
        DcmSequenceOfItems *s = seq;
        seq = NULL;
        return s;
    }
    pending_sequence(const pending_sequence &) = delete;
    pending_sequence &operator=(const pending_sequence &) = delete;
};

/* LUT data are 16-bit words (OW) held as little endian bytes in mcm_icon. */
std::vector<Uint16> words_of(const uint8_t *bytes, size_t length)
{
    std::vector<Uint16> words((length + 1) / 2, 0);
    for (size_t i = 0; i < length; i++)
        words[i / 2] |= (Uint16)(bytes[i] << ((i % 2) * 8));
    return words;
}

/* Icon Image Sequence (0088,0200) with one item: the Image Pixel Macro of PS3.3 F.7. */
void encode_icon(DcmItem &reference_item, const mcm_icon &icon)
{
    pending_sequence icon_seq(DCM_IconImageSequence);
    DcmItem *item = append_item(*icon_seq.seq);
    put_uint16(*item, DCM_SamplesPerPixel, 1);
    if (icon.photometric != NULL)
        put_raw(*item, DCM_PhotometricInterpretation, EVR_CS, icon.photometric, strlen(icon.photometric));
    put_uint16(*item, DCM_Rows, icon.rows);
    put_uint16(*item, DCM_Columns, icon.columns);
    put_uint16(*item, DCM_BitsAllocated, icon.bits_allocated);
    put_uint16(*item, DCM_BitsStored, icon.bits_stored);
    put_uint16(*item, DCM_HighBit, icon.high_bit);
    put_uint16(*item, DCM_PixelRepresentation, 0);
    bool palette = icon.red_palette != NULL || icon.green_palette != NULL || icon.blue_palette != NULL;
    if (palette) {
        const DcmTagKey descriptors[3] = {DCM_RedPaletteColorLookupTableDescriptor,
                                          DCM_GreenPaletteColorLookupTableDescriptor,
                                          DCM_BluePaletteColorLookupTableDescriptor};
        const DcmTagKey data_tags[3] = {DCM_RedPaletteColorLookupTableData, DCM_GreenPaletteColorLookupTableData,
                                        DCM_BluePaletteColorLookupTableData};
        const uint8_t *data[3] = {icon.red_palette, icon.green_palette, icon.blue_palette};
        for (int k = 0; k < 3; k++) {
            put_uint16_array(*item, descriptors[k], EVR_US, icon.palette_descriptor, 3);
            if (data[k] != NULL) {
                std::vector<Uint16> words = words_of(data[k], icon.palette_length);
                put_uint16_array(*item, data_tags[k], EVR_OW, words.data(), words.size());
            }
        }
    }
    if (icon.pixel_data != NULL) {
        DcmElement *pixels = NULL;
        check(DcmItem::newDicomElementWithVR(pixels, DcmTag(DCM_PixelData, EVR_OB)), "cannot create Pixel Data");
        OFCondition c = pixels->putUint8Array(icon.pixel_data, icon.pixel_data_length);
        if (c.bad()) {
            delete pixels;
            fail_dicom("cannot set icon Pixel Data", c);
        }
        insert(*item, pixels, "cannot insert icon Pixel Data");
    }
    insert_sequence(reference_item, icon_seq.release());
}

/* Referenced SOP Sequence (0008,1199), items in request order; absent UIDs stay absent. */
void encode_references(const mcm_request *request, DcmItem &out)
{
    pending_sequence seq(DCM_ReferencedSOPSequence);
    size_t count = mcm_request_reference_count(request);
    for (size_t i = 0; i < count; i++) {
        mcm_reference ref;
        size_t class_length = 0, instance_length = 0, profile_length = 0;
        check_rc(mcm_request_reference(request, i, &ref));
        check_rc(mcm_request_reference_lengths(request, i, &class_length, &instance_length, &profile_length));
        DcmItem *item = append_item(*seq.seq);
        /* Ascending tag order, so that each insert appends. */
        if (ref.sop_class_uid != NULL)
            put_raw(*item, DCM_ReferencedSOPClassUID, EVR_UI, ref.sop_class_uid, class_length);
        if (ref.sop_instance_uid != NULL)
            put_raw(*item, DCM_ReferencedSOPInstanceUID, EVR_UI, ref.sop_instance_uid, instance_length);
        if (ref.icon != NULL)
            encode_icon(*item, *ref.icon);
        if (ref.profile != NULL)
            put_raw(*item, DCM_RequestedMediaApplicationProfile, EVR_LO, ref.profile, profile_length);
    }
    insert_sequence(out, seq.release());
}

/* One single-valued request attribute, if the request holds it. */
void encode_attribute(const mcm_request *request, const mcm_attribute_def &def, DcmItem &out)
{
    const char *value = mcm_request_attribute(request, def.tag);
    if (value != NULL)
        put_raw(out, key_of(def.tag), evr_of(def.vr), value, mcm_request_attribute_length(request, def.tag));
}

bool is_initiate_attribute(uint32_t tag)
{
    return tag == MCM_TAG_NUMBER_OF_COPIES || tag == MCM_TAG_REQUEST_PRIORITY;
}

void encode_failed(const mcm_job *job, DcmItem &out)
{
    pending_sequence seq(DCM_FailedSOPSequence);
    size_t count = mcm_job_failed_count(job);
    for (size_t i = 0; i < count; i++) {
        mcm_failed_sop failed;
        check_rc(mcm_job_failed(job, i, &failed));
        DcmItem *item = append_item(*seq.seq);
        put_uint16(*item, DCM_FailureReason, failed.failure_reason);
        if (failed.sop_class_uid != NULL)
            put_raw(*item, DCM_ReferencedSOPClassUID, EVR_UI, failed.sop_class_uid, strlen(failed.sop_class_uid));
        if (failed.sop_instance_uid != NULL)
            put_raw(*item, DCM_ReferencedSOPInstanceUID, EVR_UI, failed.sop_instance_uid,
                    strlen(failed.sop_instance_uid));
        if (failed.profile != NULL)
            put_raw(*item, DCM_RequestedMediaApplicationProfile, EVR_LO, failed.profile, strlen(failed.profile));
        if (failed.failure_attribute_count > 0) {
            DcmAttributeTag *attributes = new DcmAttributeTag(DcmTag(DCM_FailureAttributes, EVR_AT));
            for (size_t k = 0; k < failed.failure_attribute_count; k++) {
                OFCondition c = attributes->putTagVal(key_of(failed.failure_attributes[k]), (unsigned long)k);
                if (c.bad()) {
                    delete attributes;
                    fail_dicom("cannot set Failure Attributes", c);
                }
            }
            insert(*item, attributes, "cannot insert Failure Attributes");
        }
    }
    insert_sequence(out, seq.release());
}

void encode_media(const mcm_job *job, DcmItem &out)
{
    pending_sequence seq(DCM_ReferencedStorageMediaSequence);
    size_t count = mcm_job_media_count(job);
    for (size_t i = 0; i < count; i++) {
        mcm_storage_media media;
        check_rc(mcm_job_media(job, i, &media));
        DcmItem *item = append_item(*seq.seq);
        if (media.fileset_id != NULL)
            put_raw(*item, DCM_StorageMediaFileSetID, EVR_SH, media.fileset_id, strlen(media.fileset_id));
        if (media.fileset_uid != NULL)
            put_raw(*item, DCM_StorageMediaFileSetUID, EVR_UI, media.fileset_uid, strlen(media.fileset_uid));
    }
    insert_sequence(out, seq.release());
}

bool job_carries_references(const mcm_job *job)
{
    return mcm_job_has(job, MCM_TAG_REFERENCED_SOP_SEQUENCE) ||
           mcm_request_reference_sequence_present(mcm_job_request(job));
}

/* One attribute of the job by tag; a tag the job does not carry (or that is not an attribute of
 * the module) is skipped. */
void encode_job_attribute(const mcm_job *job, uint32_t tag, DcmItem &out)
{
    const mcm_request *request = mcm_job_request(job);
    switch (tag) {
    case MCM_TAG_EXECUTION_STATUS: {
        mcm_job_state state = mcm_job_state_of(job);
        if (mcm_job_has(job, tag) && state >= MCM_JOB_IDLE && state <= MCM_JOB_FAILURE) {
            const char *name = mcm_job_state_name(state);
            put_raw(out, DCM_ExecutionStatus, EVR_CS, name, strlen(name));
        }
        return;
    }
    case MCM_TAG_EXECUTION_STATUS_INFO:
        if (mcm_job_has(job, tag)) {
            const char *info = mcm_job_status_info(job);
            put_raw(out, DCM_ExecutionStatusInfo, EVR_CS, info != NULL ? info : "", info != NULL ? strlen(info) : 0);
        }
        return;
    case MCM_TAG_TOTAL_NUMBER_OF_PIECES:
        if (mcm_job_has(job, tag)) {
            unsigned pieces = mcm_job_pieces(job);
            put_uint16(out, DCM_TotalNumberOfPiecesOfMediaCreated, (Uint16)(pieces > 0xFFFFu ? 0xFFFFu : pieces));
        }
        return;
    case MCM_TAG_FAILED_SOP_SEQUENCE:
        if (mcm_job_has(job, tag))
            encode_failed(job, out);
        return;
    case MCM_TAG_REFERENCED_STORAGE_MEDIA_SEQUENCE:
        if (mcm_job_has(job, tag))
            encode_media(job, out);
        return;
    case MCM_TAG_REFERENCED_SOP_SEQUENCE:
        if (job_carries_references(job))
            encode_references(request, out);
        return;
    default: {
        const mcm_attribute_def *def = mcm_attribute_find(tag);
        if (def != NULL)
            encode_attribute(request, *def, out);
        return;
    }
    }
}

/* ---- decoding ---- */

/* The raw value of a string element: pointer and length into the element (or into scratch for
 * an element whose VR is not a string), minus one trailing padding character. */
struct raw_value {
    const char *data;
    size_t length;
};

raw_value raw_of(DcmElement *element, std::string &scratch)
{
    char *value = NULL;
    Uint32 length = 0;
    raw_value out = {"", 0};
    if (element->getString(value, length).good()) {
        if (value != NULL) {
            out.data = value;
            out.length = length;
        }
    } else if (element->isLeaf()) {
        /* Not a string VR (a peer sent e.g. OB or UN): take the bytes as they are. Their length is
         * the value's as held in memory, never the length field read from the wire: that may be
         * "undefined" (0xFFFFFFFF), and allocating it would take 4 GiB per element. */
        Uint32 n = element->getLength();
        scratch.assign(n, '\0');
        if (n > 0 && element->getPartialValue(&scratch[0], 0, n).bad())
            scratch.clear();
        out.data = scratch.data();
        out.length = scratch.size();
    }
    /* A sequence where a value belongs (a hostile or broken peer) has no bytes: an empty value,
     * which validation answers as such. */
    /* DICOM pads a value of odd length with one byte: NUL for UI, space for text (PS3.5 6.2).
     * DCMTK's default input correction has already removed it; with that correction switched
     * off by the application, remove it here, and nothing more. */
    char pad = element->ident() == EVR_UI ? '\0' : ' ';
    if (out.length > 0 && out.data[out.length - 1] == pad)
        out.length--;
    return out;
}

std::string string_of(DcmElement *element)
{
    std::string scratch;
    raw_value v = raw_of(element, scratch);
    /* A C string stops at the first NUL, which is what the job's setters store. */
    return std::string(v.data, strnlen(v.data, v.length));
}

DcmSequenceOfItems *as_sequence(DcmObject *object)
{
    return object->ident() == EVR_SQ ? static_cast<DcmSequenceOfItems *>(object) : NULL;
}

Uint16 uint16_of(DcmElement *element, bool *ok)
{
    Uint16 value = 0;
    *ok = element->getUint16(value, 0).good();
    return value;
}

/* Little endian bytes of an element holding 8- or 16-bit binary data (OB, OW, UN). */
std::vector<uint8_t> bytes_of(DcmElement *element)
{
    std::vector<uint8_t> out;
    Uint32 length = element->getLength();
    Uint8 *bytes = NULL;
    if (length == 0)
        return out;
    if (element->getUint8Array(bytes).good() && bytes != NULL) {
        out.assign(bytes, bytes + length);
        return out;
    }
    Uint16 *words = NULL;
    if (element->getUint16Array(words).good() && words != NULL) {
        out.resize(length);
        for (Uint32 i = 0; i < length; i++)
            out[i] = (uint8_t)(words[i / 2] >> ((i % 2) * 8));
    }
    return out;
}

/* Storage for a decoded icon until mcm_request_set_icon_raw() copies it. */
struct icon_buffers {
    mcm_icon icon;
    std::string photometric;
    std::vector<uint8_t> pixels, red, green, blue;
};

void decode_icon(DcmItem &item, icon_buffers &out)
{
    memset(&out.icon, 0, sizeof out.icon);
    bool has_photometric = false;
    for (DcmObject *o = NULL; (o = item.nextInContainer(o)) != NULL;) {
        DcmElement *element = static_cast<DcmElement *>(o);
        DcmTagKey key = o->getTag();
        bool ok = false;
        if (key == DCM_Rows)
            out.icon.rows = uint16_of(element, &ok);
        else if (key == DCM_Columns)
            out.icon.columns = uint16_of(element, &ok);
        else if (key == DCM_BitsAllocated)
            out.icon.bits_allocated = uint16_of(element, &ok);
        else if (key == DCM_BitsStored)
            out.icon.bits_stored = uint16_of(element, &ok);
        else if (key == DCM_HighBit)
            out.icon.high_bit = uint16_of(element, &ok);
        else if (key == DCM_PhotometricInterpretation) {
            out.photometric = string_of(element);
            has_photometric = true;
        } else if (key == DCM_PixelData)
            out.pixels = bytes_of(element);
        else if (key == DCM_RedPaletteColorLookupTableDescriptor) {
            for (unsigned long k = 0; k < 3; k++) {
                Uint16 v = 0;
                if (element->getUint16(v, k).good())
                    out.icon.palette_descriptor[k] = v;
            }
        } else if (key == DCM_RedPaletteColorLookupTableData)
            out.red = bytes_of(element);
        else if (key == DCM_GreenPaletteColorLookupTableData)
            out.green = bytes_of(element);
        else if (key == DCM_BluePaletteColorLookupTableData)
            out.blue = bytes_of(element);
    }
    if (has_photometric)
        out.icon.photometric = out.photometric.c_str();
    /* Pixel data of odd length travel with one pad byte (PS3.5 8.1.1): give back what was set. */
    size_t expected = ((size_t)out.icon.rows * out.icon.columns * out.icon.bits_allocated + 7) / 8;
    if (out.pixels.size() == expected + 1 && expected % 2 == 1)
        out.pixels.pop_back();
    if (!out.pixels.empty()) {
        out.icon.pixel_data = out.pixels.data();
        out.icon.pixel_data_length = out.pixels.size();
    }
    if (!out.red.empty() || !out.green.empty() || !out.blue.empty()) {
        out.icon.red_palette = out.red.empty() ? NULL : out.red.data();
        out.icon.green_palette = out.green.empty() ? NULL : out.green.data();
        out.icon.blue_palette = out.blue.empty() ? NULL : out.blue.data();
        out.icon.palette_length = out.red.size();
    }
}

/* One Referenced SOP Sequence item appended to request; attributes outside the item's macro are
 * noted as unknown. */
void decode_reference_item(DcmItem &item, mcm_request *request)
{
    std::string scratch[3];
    raw_value class_uid = {NULL, 0}, instance_uid = {NULL, 0}, profile = {NULL, 0};
    DcmItem *icon_item = NULL;
    for (DcmObject *o = NULL; (o = item.nextInContainer(o)) != NULL;) {
        uint32_t tag = tag_of(o);
        DcmElement *element = static_cast<DcmElement *>(o);
        if (tag == MCM_TAG_REFERENCED_SOP_CLASS_UID)
            class_uid = raw_of(element, scratch[0]);
        else if (tag == MCM_TAG_REFERENCED_SOP_INSTANCE_UID)
            instance_uid = raw_of(element, scratch[1]);
        else if (tag == MCM_TAG_REQUESTED_MEDIA_APPLICATION_PROFILE)
            profile = raw_of(element, scratch[2]);
        else if (tag == MCM_TAG_ICON_IMAGE_SEQUENCE && as_sequence(o) != NULL) {
            /* Only a single item is allowed (digest 3.1): the first one is the icon. */
            DcmObject *first = as_sequence(o)->nextInContainer(NULL);
            icon_item = first != NULL ? static_cast<DcmItem *>(first) : NULL;
        } else if (!is_group_length(tag))
            check_rc(mcm_request_note_unknown(request, tag));
    }
    check_rc(mcm_request_add_reference_raw(request, class_uid.data, class_uid.length, instance_uid.data,
                                           instance_uid.length, profile.data, profile.length));
    if (icon_item != NULL) {
        icon_buffers icon;
        decode_icon(*icon_item, icon);
        check_rc(mcm_request_set_icon_raw(request, mcm_request_reference_count(request) - 1, &icon.icon));
    }
}

void decode_references(DcmObject *object, mcm_request *request)
{
    mcm_request_set_reference_sequence_present(request, 1);
    DcmSequenceOfItems *seq = as_sequence(object);
    if (seq == NULL)
        return; /* not a sequence on the wire: present, but with no item validation can use */
    for (DcmObject *o = NULL; (o = seq->nextInContainer(o)) != NULL;)
        decode_reference_item(*static_cast<DcmItem *>(o), request);
}

void decode_failed(DcmObject *object, mcm_job *job)
{
    DcmSequenceOfItems *seq = as_sequence(object);
    if (seq == NULL)
        return;
    for (DcmObject *i = NULL; (i = seq->nextInContainer(i)) != NULL;) {
        DcmItem *item = static_cast<DcmItem *>(i);
        std::string class_uid, instance_uid, profile;
        bool has_class = false, has_instance = false, has_profile = false;
        Uint16 reason = 0;
        std::vector<uint32_t> attributes;
        for (DcmObject *o = NULL; (o = item->nextInContainer(o)) != NULL;) {
            uint32_t tag = tag_of(o);
            DcmElement *element = static_cast<DcmElement *>(o);
            bool ok;
            if (tag == MCM_TAG_REFERENCED_SOP_CLASS_UID) {
                class_uid = string_of(element);
                has_class = true;
            } else if (tag == MCM_TAG_REFERENCED_SOP_INSTANCE_UID) {
                instance_uid = string_of(element);
                has_instance = true;
            } else if (tag == MCM_TAG_REQUESTED_MEDIA_APPLICATION_PROFILE) {
                profile = string_of(element);
                has_profile = true;
            } else if (tag == MCM_TAG_FAILURE_REASON) {
                reason = uint16_of(element, &ok);
            } else if (tag == MCM_TAG_FAILURE_ATTRIBUTES && element->ident() == EVR_AT) {
                DcmAttributeTag *at = static_cast<DcmAttributeTag *>(element);
                unsigned long vm = at->getVM();
                for (unsigned long k = 0; k < vm; k++) {
                    DcmTagKey key;
                    if (at->getTagVal(key, k).good())
                        attributes.push_back(MCM_TAG(key.getGroup(), key.getElement()));
                }
            }
        }
        check_rc(mcm_job_add_failed(job, has_class ? class_uid.c_str() : NULL,
                                    has_instance ? instance_uid.c_str() : NULL, has_profile ? profile.c_str() : NULL,
                                    reason, attributes.empty() ? NULL : attributes.data(), attributes.size()));
    }
}

void decode_media(DcmObject *object, mcm_job *job)
{
    DcmSequenceOfItems *seq = as_sequence(object);
    if (seq == NULL)
        return;
    for (DcmObject *i = NULL; (i = seq->nextInContainer(i)) != NULL;) {
        DcmItem *item = static_cast<DcmItem *>(i);
        std::string id, uid;
        bool has_id = false, has_uid = false;
        for (DcmObject *o = NULL; (o = item->nextInContainer(o)) != NULL;) {
            uint32_t tag = tag_of(o);
            if (tag == MCM_TAG_STORAGE_MEDIA_FILESET_ID) {
                id = string_of(static_cast<DcmElement *>(o));
                has_id = true;
            } else if (tag == MCM_TAG_STORAGE_MEDIA_FILESET_UID) {
                uid = string_of(static_cast<DcmElement *>(o));
                has_uid = true;
            }
        }
        check_rc(mcm_job_add_media(job, has_id ? id.c_str() : NULL, has_uid ? uid.c_str() : NULL));
    }
}

/* A top-level request attribute or the Referenced SOP Sequence into request; false if the tag is
 * neither. */
bool decode_request_attribute(DcmObject *object, mcm_request *request)
{
    uint32_t tag = tag_of(object);
    if (tag == MCM_TAG_REFERENCED_SOP_SEQUENCE) {
        decode_references(object, request);
        return true;
    }
    if (mcm_attribute_find(tag) == NULL || object->ident() == EVR_SQ)
        return false;
    std::string scratch;
    raw_value v = raw_of(static_cast<DcmElement *>(object), scratch);
    check_rc(mcm_request_set_attribute_raw(request, tag, v.data, v.length));
    return true;
}

/* Run body, turning what it throws into an mcm_error code. */
template <typename Body> int guarded(Body body)
{
    try {
        body();
        return MCM_OK;
    } catch (const conversion_error &e) {
        return e.code;
    } catch (const std::bad_alloc &) {
        return mcm_fail(MCM_ENOMEM, "out of memory");
    } catch (...) {
        return mcm_fail(MCM_EINTERNAL, "unexpected exception in data set conversion");
    }
}

} // namespace

int mcm_dataset_from_request(const mcm_request *request, mcm_request_part part, DcmDataset &out)
{
    if (request == NULL)
        return mcm_fail(MCM_EINVAL, "request is NULL");
    return guarded([&] {
        out.clear();
        for (size_t i = 0; i < mcm_request_attribute_count; i++) {
            const mcm_attribute_def &def = mcm_request_attributes[i];
            if ((part == MCM_PART_INITIATE) == is_initiate_attribute(def.tag))
                encode_attribute(request, def, out);
        }
        if (part == MCM_PART_CREATE &&
            (mcm_request_reference_sequence_present(request) || mcm_request_reference_count(request) > 0))
            encode_references(request, out);
    });
}

int mcm_request_from_dataset(DcmDataset &in, mcm_request **out)
{
    if (out == NULL)
        return mcm_fail(MCM_EINVAL, "out is NULL");
    *out = NULL;
    mcm_request *request = NULL;
    int rc = mcm_request_new(&request);
    if (rc != MCM_OK)
        return rc;
    rc = guarded([&] {
        for (DcmObject *o = NULL; (o = in.nextInContainer(o)) != NULL;) {
            uint32_t tag = tag_of(o);
            if (!decode_request_attribute(o, request) && !is_group_length(tag))
                check_rc(mcm_request_note_unknown(request, tag));
        }
    });
    if (rc != MCM_OK) {
        mcm_request_free(request);
        return rc;
    }
    *out = request;
    return MCM_OK;
}

int mcm_dataset_from_job(const mcm_job *job, const uint32_t *tags, size_t tag_count, DcmDataset &out)
{
    if (job == NULL)
        return mcm_fail(MCM_EINVAL, "job is NULL");
    if (tags == NULL && tag_count > 0)
        return mcm_fail(MCM_EINVAL, "tags is NULL");
    return guarded([&] {
        out.clear();
        if (tags != NULL) {
            for (size_t i = 0; i < tag_count; i++)
                encode_job_attribute(job, tags[i], out);
            return;
        }
        static const uint32_t maintained[] = {MCM_TAG_EXECUTION_STATUS,
                                              MCM_TAG_EXECUTION_STATUS_INFO,
                                              MCM_TAG_TOTAL_NUMBER_OF_PIECES,
                                              MCM_TAG_FAILED_SOP_SEQUENCE,
                                              MCM_TAG_REFERENCED_STORAGE_MEDIA_SEQUENCE,
                                              MCM_TAG_REFERENCED_SOP_SEQUENCE};
        for (uint32_t tag : maintained)
            encode_job_attribute(job, tag, out);
        for (size_t i = 0; i < mcm_request_attribute_count; i++)
            encode_job_attribute(job, mcm_request_attributes[i].tag, out);
    });
}

int mcm_job_from_dataset(DcmDataset &in, const char *uid, mcm_job **out)
{
    if (out == NULL)
        return mcm_fail(MCM_EINVAL, "out is NULL");
    *out = NULL;
    mcm_job *job = NULL;
    int rc = mcm_job_new(&job, uid);
    if (rc != MCM_OK)
        return rc;
    rc = guarded([&] {
        mcm_request *request = mcm_job_request_mut(job);
        std::string status, info;
        bool has_status = false, has_info = false;
        for (DcmObject *o = NULL; (o = in.nextInContainer(o)) != NULL;) {
            uint32_t tag = tag_of(o);
            DcmElement *element = static_cast<DcmElement *>(o);
            bool ok;
            switch (tag) {
            case MCM_TAG_EXECUTION_STATUS:
                status = string_of(element);
                has_status = true;
                break;
            case MCM_TAG_EXECUTION_STATUS_INFO:
                info = string_of(element);
                has_info = true;
                break;
            case MCM_TAG_TOTAL_NUMBER_OF_PIECES: {
                Uint16 pieces = uint16_of(element, &ok);
                mcm_job_set_pieces(job, ok ? pieces : 0);
                break;
            }
            case MCM_TAG_FAILED_SOP_SEQUENCE: decode_failed(o, job); break;
            case MCM_TAG_REFERENCED_STORAGE_MEDIA_SEQUENCE: decode_media(o, job); break;
            default:
                if (!decode_request_attribute(o, request)) {
                    if (!is_group_length(tag))
                        check_rc(mcm_request_note_unknown(request, tag));
                    continue;
                }
                break;
            }
            mcm_job_mark(job, tag, 1);
        }
        mcm_job_state state = MCM_JOB_ABSENT;
        if (has_status && mcm_job_state_parse(status.c_str(), &state) != MCM_OK) {
            state = MCM_JOB_ABSENT; /* present but not an Execution Status value: has() says so */
            mcm_clear_error();
        }
        check_rc(mcm_job_set_state(job, state, has_info ? info.c_str() : NULL));
    });
    if (rc != MCM_OK) {
        mcm_job_free(job);
        return rc;
    }
    *out = job;
    return MCM_OK;
}
