/*
 * lib/dcmtk/conditions.h: DCMTK's failures classified by condition code (lib/dcmtk/conditions.cc),
 * the one table that the SCU (scu.cc) and the SCP (scp_*.cc) consult to turn an OFCondition into an
 * mcm_error, a reason for their messages and a few words for the log. C++ only.
 *
 * Classified by module and code (dcmnet/cond.h), never by message text, so that a DCMTK upgrade
 * that rewords a message cannot change an error code. DCMTK wraps some causes: dimse.cc reports a
 * DUL failure inside a DIMSE exchange as DIMSE_RECEIVEFAILED around DIMSE_READPDVFAILED around
 * the DUL condition, and DimseCondition::push (cond.cc) keeps of each cause only its module and
 * code, written as "\nMMMM:CCCC " in front of its text. The classification reads that chain and
 * the innermost cause the table knows decides.
 */
#ifndef MCM_LIB_DCMTK_CONDITIONS_H
#define MCM_LIB_DCMTK_CONDITIONS_H

#include <dcmtk/config/osconfig.h>
#include <dcmtk/ofstd/ofcond.h>

#include <string>

/* What went wrong, as far as the caller needs to know to react and to say it. */
enum class McmFailure {
    None,                 /* the condition is good */
    Timeout,              /* nothing (or not all of a PDU) arrived within the timeout */
    ConnectTimeout,       /* the TCP connection was not made within the connect timeout */
    PeerAborted,          /* an A-ABORT, or the connection closed between PDUs (an A-P-ABORT:
                           * PS3.8 9.2 action AA-4; DCMTK reports both alike) */
    PeerReleased,         /* the peer sent an A-RELEASE-RQ */
    ConnectionClosed,     /* the connection closed in the middle of a PDU */
    Rejected,             /* the peer sent an A-ASSOCIATE-RJ */
    UnknownHost,          /* the peer's host name does not resolve */
    ConnectFailed,        /* the TCP connection could not be made (refused, unreachable) */
    InvalidPdu,           /* the peer sent what is not a PDU of PS3.8 9.3 */
    NoAssociationRequest, /* an acceptor found no association request to read */
    Other                 /* anything else: a local or network failure the table does not know */
};

struct McmConditionClass {
    McmFailure failure;
    int error;        /* the mcm_error for it (dcmmcm/common.h) */
    const char *word; /* a few words for the log, e.g. "timeout", "connection closed by the peer" */
};

/* Classify c (see above); a good condition is McmFailure::None with MCM_OK. */
McmConditionClass mcm_condition_classify(const OFCondition &c);

/* The condition's text on one line: each wrapped cause follows its wrapper after ": ", without
 * the "MMMM:CCCC" codes, e.g. "DIMSE Failed to receive message: DIMSE Read PDV failed: DUL
 * network closed". */
std::string mcm_condition_text(const OFCondition &c);

#endif
