/*
 * lib/dcmtk/conditions.cc: the table of DCMTK failures (lib/dcmtk/conditions.h). Owns which DCMTK
 * condition means which failure and mcm_error, and the reading of the causes DCMTK wraps. Every
 * row was seen over loopback with DCMTK 3.6.7 (tests/dcmtk/suite_conditions.c provokes each one
 * through the SCU or the SCP); a condition without a row is McmFailure::Other. Calls nothing but
 * DCMTK's OFCondition accessors.
 */
#include "dcmtk/conditions.h"

#include "dcmmcm/common.h"

#include <dcmtk/dcmnet/cond.h>

#include <cstring>
#include <vector>

namespace
{

struct Row {
    unsigned short module;
    unsigned short code;
    /* Non-NULL: the row matches only a cause whose text ends so (see the connect timeout). */
    const char *text_suffix;
    McmConditionClass result;
};

/* Rows with a text_suffix come before the plain row of the same code. */
const Row kRows[] = {
    /* DIMSE_readNextPDV() in non-blocking mode: no data within the DIMSE timeout. */
    {OFM_dcmnet, DIMSEC_NODATAAVAILABLE, nullptr, {McmFailure::Timeout, MCM_ETIMEOUT, "timeout"}},
    /* DUL: no answer within the ACSE timeout (association request, release), or a PDU that stopped
     * arriving half-way (then wrapped in DIMSE_READPDVFAILED). */
    {OFM_dcmnet, DULC_READTIMEOUT, nullptr, {McmFailure::Timeout, MCM_ETIMEOUT, "timeout"}},
    /* DCMTK gives a connect timeout no code of its own: requestAssociationTCP() (dulfsm.cc)
     * reports it as a TCP initialisation error with " (Timeout)" appended. */
    {OFM_dcmnet, DULC_TCPINITERROR, " (Timeout)", {McmFailure::ConnectTimeout, MCM_ETIMEOUT, "connect timeout"}},
    {OFM_dcmnet, DULC_TCPINITERROR, nullptr, {McmFailure::ConnectFailed, MCM_ENET, "cannot connect"}},
    {OFM_dcmnet, DULC_UNKNOWNHOST, nullptr, {McmFailure::UnknownHost, MCM_ENET, "unknown host"}},
    {OFM_dcmnet, DULC_ASSOCIATIONREJECTED, nullptr, {McmFailure::Rejected, MCM_EREJECTED, "rejected"}},
    /* A-ABORT (state machine action AA-3) and a connection closed between PDUs (AA-4). */
    {OFM_dcmnet, DULC_PEERABORTEDASSOCIATION, nullptr, {McmFailure::PeerAborted, MCM_EABORTED, "aborted by the peer"}},
    {OFM_dcmnet, DULC_PEERREQUESTEDRELEASE, nullptr, {McmFailure::PeerReleased, MCM_EABORTED, "released by the peer"}},
    /* A read that found the connection closed in the middle of a PDU (defragmentTCP()). */
    {OFM_dcmnet,
     DULC_NETWORKCLOSED,
     nullptr,
     {McmFailure::ConnectionClosed, MCM_ENET, "connection closed by the peer"}},
    /* readPDUHead(): a PDU type PS3.8 9.3 does not define, or a P-DATA-TF longer than the maximum
     * length we announced. */
    {OFM_dcmnet, DULC_UNRECOGNIZEDPDUTYPE, nullptr, {McmFailure::InvalidPdu, MCM_EPROTOCOL, "invalid PDU"}},
    {OFM_dcmnet, DULC_ILLEGALPDULENGTH, nullptr, {McmFailure::InvalidPdu, MCM_EPROTOCOL, "invalid PDU"}},
    /* ASC_receiveAssociation() in non-blocking mode found no connection to accept. */
    {OFM_dcmnet,
     DULC_NOASSOCIATIONREQUEST,
     nullptr,
     {McmFailure::NoAssociationRequest, MCM_ENET, "no association request"}},
};

const McmConditionClass kOther = {McmFailure::Other, MCM_ENET, "network error"};

/* One condition of a chain: the condition itself, or a cause it wraps. */
struct Link {
    unsigned short module;
    unsigned short code;
    std::string text;
};

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Four hex digits at p into *value. */
bool hex4(const char *p, unsigned short *value)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(p[i]);
        if (d < 0)
            return false;
        v = v * 16 + static_cast<unsigned>(d);
    }
    *value = static_cast<unsigned short>(v);
    return true;
}

/* The length of the cause marker DimseCondition::push() writes ("\nMMMM:CCCC "). */
constexpr size_t kMarkerLength = 11;

/* A cause marker at p (which points at a '\n'): its module and code. */
bool cause_marker(const char *p, unsigned short *module, unsigned short *code)
{
    return p[0] == '\n' && hex4(p + 1, module) && p[5] == ':' && hex4(p + 6, code) && p[10] == ' ';
}

/* c and the causes it wraps, outermost first. */
std::vector<Link> chain_of(const OFCondition &c)
{
    std::vector<Link> chain;
    chain.push_back({c.module(), c.code(), std::string()});
    const char *text = c.text() != nullptr ? c.text() : "";
    const char *segment = text;
    for (const char *p = text; *p != '\0'; p++) {
        unsigned short module = 0, code = 0;
        /* The marker's characters are checked one by one, so none is read past the end. */
        if (!cause_marker(p, &module, &code))
            continue;
        chain.back().text.assign(segment, p);
        chain.push_back({module, code, std::string()});
        segment = p + kMarkerLength;
        p = segment - 1;
    }
    chain.back().text.assign(segment);
    return chain;
}

bool ends_with(const std::string &text, const char *suffix)
{
    size_t n = std::strlen(suffix);
    return text.size() >= n && text.compare(text.size() - n, n, suffix) == 0;
}

const Row *row_of(const Link &link)
{
    for (const Row &row : kRows)
        if (row.module == link.module && row.code == link.code &&
            (row.text_suffix == nullptr || ends_with(link.text, row.text_suffix)))
            return &row;
    return nullptr;
}

} // namespace

McmConditionClass mcm_condition_classify(const OFCondition &c)
{
    if (c.good())
        return {McmFailure::None, MCM_OK, "no failure"};
    std::vector<Link> chain = chain_of(c);
    for (auto it = chain.rbegin(); it != chain.rend(); ++it)
        if (const Row *row = row_of(*it))
            return row->result;
    return kOther;
}

std::string mcm_condition_text(const OFCondition &c)
{
    std::string out;
    for (const Link &link : chain_of(c)) {
        if (link.text.empty())
            continue;
        if (!out.empty())
            out += ": ";
        out += link.text;
    }
    for (char &ch : out)
        if (ch == '\n' || ch == '\r')
            ch = ' ';
    return out;
}
