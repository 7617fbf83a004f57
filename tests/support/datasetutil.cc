/*
 * tests/support/datasetutil.cc: the C suites' way into lib/dcmtk/dataset.cc (datasetutil.h). Encodes to
 * bytes and parses back with DCMTK's own stream classes, the path DIMSE takes on the wire.
 */
#include "datasetutil.h"

#include "dcmtk/dataset.h"
#include "testutil.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dctk.h>

#include <cstring>
#include <vector>

namespace
{

DcmTagKey key_of(uint32_t tag)
{
    return DcmTagKey((Uint16)(tag >> 16), (Uint16)(tag & 0xFFFF));
}

/* Write ds in xfer to bytes and parse them into a fresh data set (returned; caller deletes). */
DcmDataset *through_wire(DcmDataset &ds, mcm_test_wire wire)
{
    E_TransferSyntax xfer = wire == MCM_TEST_WIRE_IMPLICIT ? EXS_LittleEndianImplicit : EXS_LittleEndianExplicit;
    Uint32 length = ds.calcElementLength(xfer, EET_ExplicitLength);
    std::vector<char> buffer(length + 16);
    DcmOutputBufferStream out(buffer.data(), (offile_off_t)buffer.size());
    ds.transferInit();
    OFCondition c = ds.write(out, xfer, EET_ExplicitLength, NULL);
    ds.transferEnd();
    if (c.bad())
        return NULL;
    void *written = NULL;
    offile_off_t written_length = 0;
    out.flushBuffer(written, written_length);
    DcmInputBufferStream in;
    in.setBuffer(written, written_length);
    in.setEos();
    DcmDataset *parsed = new DcmDataset();
    parsed->transferInit();
    c = parsed->read(in, xfer, EGL_noChange);
    parsed->transferEnd();
    if (c.bad()) {
        delete parsed;
        return NULL;
    }
    return parsed;
}

/* Add one extra element to item. */
bool add_extra(DcmItem &item, const mcm_test_extra &extra)
{
    DcmTagKey key = key_of(extra.tag);
    DcmTag tag(key);
    if (tag.getEVR() == EVR_UNKNOWN || tag.getEVR() == EVR_UN)
        tag.setVR(DcmVR(EVR_OB));
    if (key.getElement() == 0)
        tag.setVR(DcmVR(EVR_UL));
    DcmElement *element = NULL;
    if (DcmItem::newDicomElementWithVR(element, tag).bad())
        return false;
    const char *value = extra.value != NULL ? extra.value : "1";
    OFCondition c;
    switch (element->ident()) {
    case EVR_UL: c = element->putUint32(0); break;
    case EVR_US: c = element->putUint16(1); break;
    case EVR_OB:
    case EVR_UN: c = element->putUint8Array((const Uint8 *)value, (unsigned long)strlen(value)); break;
    default: c = element->putString(value); break;
    }
    if (c.good())
        c = item.insert(element, OFTrue);
    if (c.bad()) {
        delete element;
        return false;
    }
    return true;
}

bool add_extras(DcmDataset &ds, const mcm_test_extra *extras, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        DcmItem *target = &ds;
        if (extras[i].item >= 0) {
            DcmSequenceOfItems *seq = NULL;
            if (ds.findAndGetSequence(DCM_ReferencedSOPSequence, seq).bad() || seq == NULL)
                return false;
            target = seq->getItem((unsigned long)extras[i].item);
            if (target == NULL)
                return false;
        }
        if (!add_extra(*target, extras[i]))
            return false;
    }
    return true;
}

/* Run the wire step and the extras on encoded; returns the data set to decode (encoded itself
 * or a parsed copy held in holder). */
DcmDataset *prepare(DcmDataset &encoded, mcm_test_wire wire, const mcm_test_extra *extras, size_t extra_count,
                    DcmDataset *&holder)
{
    DcmDataset *ds = &encoded;
    holder = NULL;
    if (wire != MCM_TEST_WIRE_MEMORY) {
        holder = through_wire(encoded, wire);
        if (holder == NULL)
            return NULL;
        ds = holder;
    }
    if (!add_extras(*ds, extras, extra_count))
        return NULL;
    return ds;
}

bool contains_tag(DcmItem &item, const DcmTagKey &key)
{
    for (DcmObject *o = NULL; (o = item.nextInContainer(o)) != NULL;) {
        if (o->getTag() == key)
            return true;
        if (o->ident() == EVR_SQ) {
            DcmSequenceOfItems *seq = static_cast<DcmSequenceOfItems *>(o);
            for (DcmObject *i = NULL; (i = seq->nextInContainer(i)) != NULL;)
                if (contains_tag(*static_cast<DcmItem *>(i), key))
                    return true;
        }
    }
    return false;
}

} // namespace

extern "C" int mcm_test_request_roundtrip(const mcm_request *in, int part, mcm_test_wire wire,
                                          const mcm_test_extra *extras, size_t extra_count, mcm_request **out,
                                          double *encode_ms, double *decode_ms)
{
    DcmDataset encoded;
    double t0 = mcm_test_now_ms();
    int rc = mcm_dataset_from_request(in, part == 1 ? MCM_PART_INITIATE : MCM_PART_CREATE, encoded);
    double t1 = mcm_test_now_ms();
    if (rc != MCM_OK)
        return rc;
    DcmDataset *holder = NULL;
    DcmDataset *ds = prepare(encoded, wire, extras, extra_count, holder);
    if (ds == NULL) {
        delete holder;
        return MCM_EDICOM;
    }
    double t2 = mcm_test_now_ms();
    rc = mcm_request_from_dataset(*ds, out);
    double t3 = mcm_test_now_ms();
    delete holder;
    if (encode_ms != NULL)
        *encode_ms = t1 - t0;
    if (decode_ms != NULL)
        *decode_ms = t3 - t2;
    return rc;
}

extern "C" int mcm_test_job_roundtrip(const mcm_job *in, const uint32_t *tags, size_t tag_count, mcm_test_wire wire,
                                      const mcm_test_extra *extras, size_t extra_count, const char *uid, mcm_job **out,
                                      double *encode_ms, double *decode_ms)
{
    DcmDataset encoded;
    double t0 = mcm_test_now_ms();
    int rc = mcm_dataset_from_job(in, tags, tag_count, encoded);
    double t1 = mcm_test_now_ms();
    if (rc != MCM_OK)
        return rc;
    DcmDataset *holder = NULL;
    DcmDataset *ds = prepare(encoded, wire, extras, extra_count, holder);
    if (ds == NULL) {
        delete holder;
        return MCM_EDICOM;
    }
    double t2 = mcm_test_now_ms();
    rc = mcm_job_from_dataset(*ds, uid, out);
    double t3 = mcm_test_now_ms();
    delete holder;
    if (encode_ms != NULL)
        *encode_ms = t1 - t0;
    if (decode_ms != NULL)
        *decode_ms = t3 - t2;
    return rc;
}

extern "C" int mcm_test_request_encodes_tag(const mcm_request *in, int part, uint32_t tag)
{
    DcmDataset ds;
    if (mcm_dataset_from_request(in, part == 1 ? MCM_PART_INITIATE : MCM_PART_CREATE, ds) != MCM_OK)
        return -1;
    return contains_tag(ds, key_of(tag)) ? 1 : 0;
}

extern "C" int mcm_test_job_encodes_tag(const mcm_job *in, const uint32_t *tags, size_t tag_count, uint32_t tag)
{
    DcmDataset ds;
    if (mcm_dataset_from_job(in, tags, tag_count, ds) != MCM_OK)
        return -1;
    return contains_tag(ds, key_of(tag)) ? 1 : 0;
}

extern "C" int mcm_test_request_encoded_shape(const mcm_request *in, int part, size_t *top_level, long *items)
{
    DcmDataset ds;
    int rc = mcm_dataset_from_request(in, part == 1 ? MCM_PART_INITIATE : MCM_PART_CREATE, ds);
    if (rc != MCM_OK)
        return rc;
    *top_level = ds.card();
    DcmSequenceOfItems *seq = NULL;
    *items = ds.findAndGetSequence(DCM_ReferencedSOPSequence, seq).good() && seq != NULL ? (long)seq->card() : -1;
    return MCM_OK;
}
