/*
 * tests/core/suite_status.c: status codes, categories, names and what an MCM SCP may send (lib/core/status.c),
 * the mcm_response helpers, mcm_strerror(), mcm_last_error() and mcm_error_set() (lib/core/error.c).
 *
 * The expected tables below are copied from the digest (section 7, corrections of section 11), not
 * from lib/core/status.c, so that a wrong entry in the library shows up as a failure here.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "dcmmcm.h"
#include "core/error.h"
#include "core/status_internal.h"

/* ---- the digest's tables (sections 7.2, 7.3, 7.4) ---- */

typedef struct expected_status {
    uint16_t code;
    mcm_status_category category;
    const char *name;
    int scp_may_send;
} expected_status;

#define S MCM_CATEGORY_SUCCESS
#define W MCM_CATEGORY_WARNING
#define F MCM_CATEGORY_FAILURE

static const char A510_NAME[] = "An Initiate Media Creation action has already been received for this SOP Instance";

/* Digest 7.2: PS3.7 10.1.5.1.6 plus Annex S. Warnings are listed but forbidden to an MCM SCP
 * (S.3.2.1.3); A510 is listed here by the 2020 text but sent only on N-ACTION (A1). */
static const expected_status n_create[] = {
    {0x0000, S, "Success", 1},
    {0x0105, F, "No such Attribute", 1},
    {0x0106, F, "Invalid Attribute Value", 1},
    {0x0107, W, "Attribute list error", 0},
    {0x0110, F, "Processing Failure", 1},
    {0x0111, F, "Duplicate SOP Instance", 1},
    {0x0116, W, "Attribute Value out of range", 0},
    {0x0117, F, "Invalid SOP Instance", 1},
    {0x0118, F, "No such SOP Class", 1},
    {0x0120, F, "Missing Attribute", 1},
    {0x0121, F, "Missing Attribute Value", 1},
    {0x0124, F, "Refused: Not authorized", 1},
    {0x0210, F, "Duplicate invocation", 1},
    {0x0211, F, "Unrecognized operation", 1},
    {0x0212, F, "Mistyped argument", 1},
    {0x0213, F, "Resource limitation", 1},
    {0xA510, F, A510_NAME, 0},
};

/* Digest 7.4: PS3.7 10.1.4.1.10 plus S.3.2.2.4 and S.3.2.3.4. */
static const expected_status n_action[] = {
    {0x0000, S, "Success", 1},
    {0x0110, F, "Processing Failure", 1},
    {0x0112, F, "No such SOP Instance", 1},
    {0x0114, F, "No such argument", 1},
    {0x0115, F, "Invalid argument value", 1},
    {0x0117, F, "Invalid SOP Instance", 1},
    {0x0118, F, "No such SOP Class", 1},
    {0x0119, F, "Class-Instance conflict", 1},
    {0x0123, F, "No such Action", 1},
    {0x0124, F, "Refused: Not authorized", 1},
    {0x0210, F, "Duplicate invocation", 1},
    {0x0211, F, "Unrecognized operation", 1},
    {0x0212, F, "Mistyped argument", 1},
    {0x0213, F, "Resource limitation", 1},
    {0xA510, F, A510_NAME, 1},
    {0xC201, F, "Media creation request already completed", 1},
    {0xC202, F, "Media creation request already in progress and cannot be interrupted", 1},
    {0xC203, F, "Cancellation denied for unspecified reason", 1},
};

/* Digest 7.3: PS3.7 10.1.2.1.9 plus S.3.2.4.4. 0122 is not listed (see below). */
static const expected_status n_get[] = {
    {0x0000, S, "Success", 1},
    {0x0001, W, "Requested optional Attributes are not supported", 1},
    {0x0107, W, "Attribute list error", 1},
    {0x0110, F, "Processing Failure", 1},
    {0x0112, F, "No such SOP Instance", 1},
    {0x0117, F, "Invalid SOP Instance", 1},
    {0x0118, F, "No such SOP Class", 1},
    {0x0119, F, "Class-Instance conflict", 1},
    {0x0124, F, "Refused: Not authorized", 1},
    {0x0210, F, "Duplicate invocation", 1},
    {0x0211, F, "Unrecognized operation", 1},
    {0x0212, F, "Mistyped argument", 1},
    {0x0213, F, "Resource limitation", 1},
};

#undef S
#undef W
#undef F

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef struct op_table {
    mcm_operation op;
    const char *label;
    const expected_status *rows;
    size_t count;
} op_table;

static const op_table tables[] = {
    {MCM_OP_N_CREATE, "N-CREATE", n_create, COUNT(n_create)},
    {MCM_OP_N_ACTION, "N-ACTION", n_action, COUNT(n_action)},
    {MCM_OP_N_GET, "N-GET", n_get, COUNT(n_get)},
};

static const mcm_operation all_ops[] = {MCM_OP_ANY, MCM_OP_N_CREATE, MCM_OP_N_ACTION, MCM_OP_N_GET};

static const expected_status *expected_for(uint16_t code, mcm_operation op)
{
    for (size_t t = 0; t < COUNT(tables); t++)
        if (tables[t].op == op)
            for (size_t i = 0; i < tables[t].count; i++)
                if (tables[t].rows[i].code == code)
                    return &tables[t].rows[i];
    return NULL;
}

/* PS3.7 Annex C class ranges (digest 7.1), written out independently of lib/core/status.c. */
static mcm_status_category by_range(unsigned code)
{
    if (code == 0x0000)
        return MCM_CATEGORY_SUCCESS;
    if (code == 0x0001 || code == 0x0107 || code == 0x0116 || (code >= 0xB000 && code <= 0xBFFF))
        return MCM_CATEGORY_WARNING;
    if ((code >= 0xA000 && code <= 0xAFFF) || (code >= 0xC000 && code <= 0xCFFF) || (code >= 0x0100 && code <= 0x02FF))
        return MCM_CATEGORY_FAILURE;
    if (code == 0xFE00)
        return MCM_CATEGORY_CANCEL;
    if (code == 0xFF00 || code == 0xFF01)
        return MCM_CATEGORY_PENDING;
    return MCM_CATEGORY_UNKNOWN;
}

/* ---- every listed code for every operation ---- */

START_TEST(every_listed_code_has_its_category_and_name)
{
    for (size_t t = 0; t < COUNT(tables); t++) {
        for (size_t i = 0; i < tables[t].count; i++) {
            const expected_status *e = &tables[t].rows[i];
            ck_assert_msg(mcm_status_category_of(e->code, tables[t].op) == e->category, "%s 0x%04X: category %d",
                          tables[t].label, e->code, mcm_status_category_of(e->code, tables[t].op));
            ck_assert_msg(strcmp(mcm_status_name(e->code, tables[t].op), e->name) == 0, "%s 0x%04X: name \"%s\"",
                          tables[t].label, e->code, mcm_status_name(e->code, tables[t].op));
            ck_assert_msg(mcm_status_is_listed(e->code, tables[t].op), "%s 0x%04X not listed", tables[t].label,
                          e->code);
            ck_assert_msg(mcm_status_scp_may_send(e->code, tables[t].op) == e->scp_may_send,
                          "%s 0x%04X: scp_may_send %d", tables[t].label, e->code,
                          mcm_status_scp_may_send(e->code, tables[t].op));
        }
    }
}
END_TEST

/* Every code of 0x0000..0xFFFF under every operation: listed codes as in the tables, the rest by the
 * PS3.7 ranges, never listed, never sendable. */
START_TEST(every_code_under_every_operation)
{
    for (size_t o = 0; o < COUNT(all_ops); o++) {
        mcm_operation op = all_ops[o];
        for (unsigned code = 0; code <= 0xFFFF; code++) {
            const expected_status *e = expected_for((uint16_t)code, op);
            mcm_status_category want = e != NULL ? e->category : by_range(code);
            mcm_status_category got = mcm_status_category_of((uint16_t)code, op);
            if (got != want)
                ck_abort_msg("op %d 0x%04X: category %d, want %d", (int)op, code, got, want);
            if (mcm_status_is_listed((uint16_t)code, op) != (e != NULL))
                ck_abort_msg("op %d 0x%04X: is_listed %d", (int)op, code, mcm_status_is_listed((uint16_t)code, op));
            int may = e != NULL && e->scp_may_send;
            if (mcm_status_scp_may_send((uint16_t)code, op) != may)
                ck_abort_msg("op %d 0x%04X: scp_may_send %d", (int)op, code, !may);
            const char *name = mcm_status_name((uint16_t)code, op);
            if (name == NULL || name[0] == '\0')
                ck_abort_msg("op %d 0x%04X: empty name", (int)op, code);
        }
    }
}
END_TEST

/* A code listed for one operation keeps its name under another, and its category is the range's. */
START_TEST(codes_of_one_operation_decoded_under_another)
{
    for (size_t t = 0; t < COUNT(tables); t++) {
        for (size_t i = 0; i < tables[t].count; i++) {
            const expected_status *e = &tables[t].rows[i];
            for (size_t o = 0; o < COUNT(all_ops); o++) {
                mcm_operation op = all_ops[o];
                if (expected_for(e->code, op) != NULL)
                    continue;
                ck_assert_msg(strcmp(mcm_status_name(e->code, op), e->name) == 0, "0x%04X under op %d: \"%s\"", e->code,
                              (int)op, mcm_status_name(e->code, op));
                ck_assert_int_eq(mcm_status_category_of(e->code, op), by_range(e->code));
                ck_assert_int_eq(mcm_status_is_listed(e->code, op), 0);
                ck_assert_int_eq(mcm_status_scp_may_send(e->code, op), 0);
            }
        }
    }
    /* Spot checks that do not go through the tables above. */
    ck_assert_int_eq(mcm_status_category_of(0x0001, MCM_OP_N_CREATE), MCM_CATEGORY_WARNING);
    ck_assert_int_eq(mcm_status_category_of(0x0001, MCM_OP_N_ACTION), MCM_CATEGORY_WARNING);
    ck_assert_int_eq(mcm_status_category_of(0xC201, MCM_OP_N_GET), MCM_CATEGORY_FAILURE);
    ck_assert_int_eq(mcm_status_category_of(0xC202, MCM_OP_N_CREATE), MCM_CATEGORY_FAILURE);
    ck_assert_int_eq(mcm_status_category_of(0x0107, MCM_OP_N_ACTION), MCM_CATEGORY_WARNING);
    ck_assert_int_eq(mcm_status_category_of(0x0116, MCM_OP_N_GET), MCM_CATEGORY_WARNING);
    ck_assert_str_eq(mcm_status_name(0x0114, MCM_OP_N_GET), "No such argument");
    ck_assert_str_eq(mcm_status_name(0x0123, MCM_OP_N_CREATE), "No such Action");
    ck_assert_str_eq(mcm_status_name(0x0105, MCM_OP_N_ACTION), "No such Attribute");
    ck_assert_str_eq(mcm_status_name(0x0001, MCM_OP_ANY), "Requested optional Attributes are not supported");
    ck_assert_str_eq(mcm_status_name(0xC203, MCM_OP_ANY), "Cancellation denied for unspecified reason");
}
END_TEST

/* ---- PS3.7 class range boundaries, for codes in no table ---- */

typedef struct boundary {
    uint16_t code;
    mcm_status_category category;
    const char *name;
} boundary;

static const boundary boundaries[] = {
    {0x0000, MCM_CATEGORY_SUCCESS, "Success"},
    {0x0002, MCM_CATEGORY_UNKNOWN, "Unknown status"},
    {0x00FF, MCM_CATEGORY_UNKNOWN, "Unknown status"},
    {0x0100, MCM_CATEGORY_FAILURE, "Failure (unlisted code)"},
    {0x0113, MCM_CATEGORY_FAILURE, "Failure (unlisted code)"},
    {0x01FF, MCM_CATEGORY_FAILURE, "Failure (unlisted code)"},
    {0x0200, MCM_CATEGORY_FAILURE, "Failure (unlisted code)"},
    {0x02FF, MCM_CATEGORY_FAILURE, "Failure (unlisted code)"},
    {0x0300, MCM_CATEGORY_UNKNOWN, "Unknown status"},
    {0x1000, MCM_CATEGORY_UNKNOWN, "Unknown status"},
    {0x9FFF, MCM_CATEGORY_UNKNOWN, "Unknown status"},
    {0xA000, MCM_CATEGORY_FAILURE, "Failure (unlisted Axxx code)"},
    {0xA511, MCM_CATEGORY_FAILURE, "Failure (unlisted Axxx code)"},
    {0xAFFF, MCM_CATEGORY_FAILURE, "Failure (unlisted Axxx code)"},
    {0xB000, MCM_CATEGORY_WARNING, "Warning (unlisted code)"},
    {0xBFFF, MCM_CATEGORY_WARNING, "Warning (unlisted code)"},
    {0xC000, MCM_CATEGORY_FAILURE, "Failure (unlisted Cxxx code)"},
    {0xC200, MCM_CATEGORY_FAILURE, "Failure (unlisted Cxxx code)"},
    {0xC204, MCM_CATEGORY_FAILURE, "Failure (unlisted Cxxx code)"},
    {0xCFFF, MCM_CATEGORY_FAILURE, "Failure (unlisted Cxxx code)"},
    {0xD000, MCM_CATEGORY_UNKNOWN, "Unknown status"},
    {0xFDFF, MCM_CATEGORY_UNKNOWN, "Unknown status"},
    {0xFE00, MCM_CATEGORY_CANCEL, "Cancel"},
    {0xFE01, MCM_CATEGORY_UNKNOWN, "Unknown status"},
    {0xFEFF, MCM_CATEGORY_UNKNOWN, "Unknown status"},
    {0xFF00, MCM_CATEGORY_PENDING, "Pending"},
    {0xFF01, MCM_CATEGORY_PENDING, "Pending"},
    {0xFF02, MCM_CATEGORY_UNKNOWN, "Unknown status"},
    {0xFFFF, MCM_CATEGORY_UNKNOWN, "Unknown status"},
};

START_TEST(class_range_boundaries)
{
    for (size_t i = 0; i < COUNT(boundaries); i++) {
        const boundary *b = &boundaries[i];
        for (size_t o = 0; o < COUNT(all_ops); o++) {
            mcm_operation op = all_ops[o];
            if (expected_for(b->code, op) != NULL)
                continue; /* 0x0000 is listed everywhere but under MCM_OP_ANY */
            ck_assert_msg(mcm_status_category_of(b->code, op) == b->category, "0x%04X op %d: category %d", b->code,
                          (int)op, mcm_status_category_of(b->code, op));
            ck_assert_msg(strcmp(mcm_status_name(b->code, op), b->name) == 0, "0x%04X op %d: name \"%s\"", b->code,
                          (int)op, mcm_status_name(b->code, op));
            ck_assert_int_eq(mcm_status_is_listed(b->code, op), 0);
            ck_assert_int_eq(mcm_status_scp_may_send(b->code, op), 0);
        }
    }
}
END_TEST

START_TEST(unknown_operation_decodes_by_range)
{
    /* An operation value outside the enum behaves like MCM_OP_ANY. */
    mcm_operation bogus = (mcm_operation)42;
    ck_assert_int_eq(mcm_status_category_of(0x0107, bogus), MCM_CATEGORY_WARNING);
    ck_assert_int_eq(mcm_status_category_of(0xA510, bogus), MCM_CATEGORY_FAILURE);
    ck_assert_int_eq(mcm_status_category_of(0x0300, bogus), MCM_CATEGORY_UNKNOWN);
    ck_assert_int_eq(mcm_status_is_listed(0x0000, bogus), 0);
    ck_assert_int_eq(mcm_status_scp_may_send(0x0000, bogus), 0);
    ck_assert_str_eq(mcm_status_name(0xC201, bogus), "Media creation request already completed");
}
END_TEST

START_TEST(category_names)
{
    ck_assert_str_eq(mcm_status_category_name(MCM_CATEGORY_SUCCESS), "Success");
    ck_assert_str_eq(mcm_status_category_name(MCM_CATEGORY_WARNING), "Warning");
    ck_assert_str_eq(mcm_status_category_name(MCM_CATEGORY_FAILURE), "Failure");
    ck_assert_str_eq(mcm_status_category_name(MCM_CATEGORY_CANCEL), "Cancel");
    ck_assert_str_eq(mcm_status_category_name(MCM_CATEGORY_PENDING), "Pending");
    ck_assert_str_eq(mcm_status_category_name(MCM_CATEGORY_UNKNOWN), "Unknown");
    ck_assert_str_eq(mcm_status_category_name((mcm_status_category)99), "Unknown");
}
END_TEST

START_TEST(header_constants_match_the_digest)
{
    ck_assert_uint_eq(MCM_STATUS_SUCCESS, 0x0000);
    ck_assert_uint_eq(MCM_STATUS_NO_SUCH_ATTRIBUTE, 0x0105);
    ck_assert_uint_eq(MCM_STATUS_INVALID_ATTRIBUTE_VALUE, 0x0106);
    ck_assert_uint_eq(MCM_STATUS_ATTRIBUTE_LIST_ERROR, 0x0107);
    ck_assert_uint_eq(MCM_STATUS_PROCESSING_FAILURE, 0x0110);
    ck_assert_uint_eq(MCM_STATUS_DUPLICATE_SOP_INSTANCE, 0x0111);
    ck_assert_uint_eq(MCM_STATUS_NO_SUCH_SOP_INSTANCE, 0x0112);
    ck_assert_uint_eq(MCM_STATUS_NO_SUCH_ARGUMENT, 0x0114);
    ck_assert_uint_eq(MCM_STATUS_INVALID_ARGUMENT_VALUE, 0x0115);
    ck_assert_uint_eq(MCM_STATUS_ATTRIBUTE_VALUE_OUT_OF_RANGE, 0x0116);
    ck_assert_uint_eq(MCM_STATUS_INVALID_SOP_INSTANCE, 0x0117);
    ck_assert_uint_eq(MCM_STATUS_NO_SUCH_SOP_CLASS, 0x0118);
    ck_assert_uint_eq(MCM_STATUS_CLASS_INSTANCE_CONFLICT, 0x0119);
    ck_assert_uint_eq(MCM_STATUS_MISSING_ATTRIBUTE, 0x0120);
    ck_assert_uint_eq(MCM_STATUS_MISSING_ATTRIBUTE_VALUE, 0x0121);
    ck_assert_uint_eq(MCM_STATUS_SOP_CLASS_NOT_SUPPORTED, 0x0122);
    ck_assert_uint_eq(MCM_STATUS_NO_SUCH_ACTION, 0x0123);
    ck_assert_uint_eq(MCM_STATUS_NOT_AUTHORIZED, 0x0124);
    ck_assert_uint_eq(MCM_STATUS_DUPLICATE_INVOCATION, 0x0210);
    ck_assert_uint_eq(MCM_STATUS_UNRECOGNIZED_OPERATION, 0x0211);
    ck_assert_uint_eq(MCM_STATUS_MISTYPED_ARGUMENT, 0x0212);
    ck_assert_uint_eq(MCM_STATUS_RESOURCE_LIMITATION, 0x0213);
    ck_assert_uint_eq(MCM_STATUS_OPTIONAL_ATTRIBUTES_UNSUPPORTED, 0x0001);
    ck_assert_uint_eq(MCM_STATUS_ALREADY_INITIATED, 0xA510);
    ck_assert_uint_eq(MCM_STATUS_ALREADY_COMPLETED, 0xC201);
    ck_assert_uint_eq(MCM_STATUS_NOT_INTERRUPTIBLE, 0xC202);
    ck_assert_uint_eq(MCM_STATUS_CANCEL_DENIED, 0xC203);
}
END_TEST

/* ---- what an SCP may send (status.h rules, digest 5.10, 7.3, 7.4, A1) ---- */

START_TEST(ncreate_reply_is_never_a_warning)
{
    for (unsigned code = 0; code <= 0xFFFF; code++)
        if (mcm_status_category_of((uint16_t)code, MCM_OP_N_CREATE) == MCM_CATEGORY_WARNING &&
            mcm_status_scp_may_send((uint16_t)code, MCM_OP_N_CREATE))
            ck_abort_msg("Warning 0x%04X sendable on N-CREATE", code);
    ck_assert_int_eq(mcm_status_scp_may_send(0x0107, MCM_OP_N_CREATE), 0);
    ck_assert_int_eq(mcm_status_scp_may_send(0x0116, MCM_OP_N_CREATE), 0);
    ck_assert_int_eq(mcm_status_scp_may_send(0x0001, MCM_OP_N_CREATE), 0);
    ck_assert_int_eq(mcm_status_scp_may_send(0xB000, MCM_OP_N_CREATE), 0);
}
END_TEST

START_TEST(status_0122_is_never_sent)
{
    for (size_t o = 0; o < COUNT(all_ops); o++)
        ck_assert_int_eq(mcm_status_scp_may_send(0x0122, all_ops[o]), 0);
}
END_TEST

START_TEST(a510_only_on_naction)
{
    ck_assert_int_eq(mcm_status_scp_may_send(0xA510, MCM_OP_N_ACTION), 1);
    ck_assert_int_eq(mcm_status_scp_may_send(0xA510, MCM_OP_N_CREATE), 0);
    ck_assert_int_eq(mcm_status_scp_may_send(0xA510, MCM_OP_N_GET), 0);
    ck_assert_int_eq(mcm_status_scp_may_send(0xA510, MCM_OP_ANY), 0);
}
END_TEST

START_TEST(c201_to_c203_only_on_naction)
{
    for (uint16_t code = 0xC201; code <= 0xC203; code++) {
        ck_assert_int_eq(mcm_status_scp_may_send(code, MCM_OP_N_ACTION), 1);
        ck_assert_int_eq(mcm_status_scp_may_send(code, MCM_OP_N_CREATE), 0);
        ck_assert_int_eq(mcm_status_scp_may_send(code, MCM_OP_N_GET), 0);
        ck_assert_int_eq(mcm_status_scp_may_send(code, MCM_OP_ANY), 0);
    }
    ck_assert_int_eq(mcm_status_scp_may_send(0xC200, MCM_OP_N_ACTION), 0);
    ck_assert_int_eq(mcm_status_scp_may_send(0xC204, MCM_OP_N_ACTION), 0);
}
END_TEST

START_TEST(status_0001_only_on_nget)
{
    ck_assert_int_eq(mcm_status_scp_may_send(0x0001, MCM_OP_N_GET), 1);
    ck_assert_int_eq(mcm_status_scp_may_send(0x0001, MCM_OP_N_CREATE), 0);
    ck_assert_int_eq(mcm_status_scp_may_send(0x0001, MCM_OP_N_ACTION), 0);
    ck_assert_int_eq(mcm_status_scp_may_send(0x0001, MCM_OP_ANY), 0);
}
END_TEST

START_TEST(nothing_is_sendable_for_any_operation)
{
    for (unsigned code = 0; code <= 0xFFFF; code++)
        if (mcm_status_scp_may_send((uint16_t)code, MCM_OP_ANY))
            ck_abort_msg("0x%04X sendable for MCM_OP_ANY", code);
}
END_TEST

/* ---- the seed table's errors (digest section 11), one test each ---- */

START_TEST(seed_ncreate_codes_are_not_all_success)
{
    /* 11.1: only 0000 is Success; 0107 and 0116 are Warnings; everything else is Failure. */
    static const uint16_t failures[] = {0x0105, 0x0106, 0x0110, 0x0111, 0x0117, 0x0118, 0x0120,
                                        0x0121, 0x0124, 0x0210, 0x0211, 0x0212, 0x0213, 0xA510};
    ck_assert_int_eq(mcm_status_category_of(0x0000, MCM_OP_N_CREATE), MCM_CATEGORY_SUCCESS);
    ck_assert_int_eq(mcm_status_category_of(0x0107, MCM_OP_N_CREATE), MCM_CATEGORY_WARNING);
    ck_assert_int_eq(mcm_status_category_of(0x0116, MCM_OP_N_CREATE), MCM_CATEGORY_WARNING);
    for (size_t i = 0; i < COUNT(failures); i++) {
        ck_assert_msg(mcm_status_category_of(failures[i], MCM_OP_N_CREATE) == MCM_CATEGORY_FAILURE, "0x%04X",
                      failures[i]);
        ck_assert_int_eq(mcm_status_is_listed(failures[i], MCM_OP_N_CREATE), 1);
    }
}
END_TEST

START_TEST(seed_a510_sent_on_naction_decoded_anywhere)
{
    /* 11.2 */
    ck_assert_int_eq(mcm_status_is_listed(0xA510, MCM_OP_N_CREATE), 1);
    ck_assert_int_eq(mcm_status_is_listed(0xA510, MCM_OP_N_ACTION), 1);
    for (size_t o = 0; o < COUNT(all_ops); o++)
        ck_assert_int_eq(mcm_status_category_of(0xA510, all_ops[o]), MCM_CATEGORY_FAILURE);
    ck_assert_int_eq(mcm_status_scp_may_send(0xA510, MCM_OP_N_CREATE), 0);
    ck_assert_int_eq(mcm_status_scp_may_send(0xA510, MCM_OP_N_ACTION), 1);
}
END_TEST

START_TEST(seed_nget_0107_is_attribute_list_error)
{
    /* 11.3: not "SOP Class not supported". */
    ck_assert_str_eq(mcm_status_name(0x0107, MCM_OP_N_GET), "Attribute list error");
    ck_assert_int_eq(mcm_status_category_of(0x0107, MCM_OP_N_GET), MCM_CATEGORY_WARNING);
    ck_assert_int_eq(mcm_status_scp_may_send(0x0107, MCM_OP_N_GET), 1);
}
END_TEST

START_TEST(seed_nget_0122_decoded_not_listed)
{
    /* 11.4 */
    ck_assert_int_eq(mcm_status_is_listed(0x0122, MCM_OP_N_GET), 0);
    ck_assert_int_eq(mcm_status_category_of(0x0122, MCM_OP_N_GET), MCM_CATEGORY_FAILURE);
    ck_assert_str_eq(mcm_status_name(0x0122, MCM_OP_N_GET), "Refused: SOP Class not supported");
    ck_assert_int_eq(mcm_status_scp_may_send(0x0122, MCM_OP_N_GET), 0);
}
END_TEST

START_TEST(seed_naction_lists_0110)
{
    /* 11.5 */
    ck_assert_int_eq(mcm_status_is_listed(0x0110, MCM_OP_N_ACTION), 1);
    ck_assert_int_eq(mcm_status_category_of(0x0110, MCM_OP_N_ACTION), MCM_CATEGORY_FAILURE);
    ck_assert_int_eq(mcm_status_scp_may_send(0x0110, MCM_OP_N_ACTION), 1);
    ck_assert_str_eq(mcm_status_name(0x0110, MCM_OP_N_ACTION), "Processing Failure");
}
END_TEST

START_TEST(seed_0117_is_invalid_sop_instance)
{
    /* 11.6: not "Invalid object instance". */
    for (size_t o = 0; o < COUNT(all_ops); o++)
        ck_assert_str_eq(mcm_status_name(0x0117, all_ops[o]), "Invalid SOP Instance");
}
END_TEST

/* ---- mcm_response ---- */

static void dirty(mcm_response *r)
{
    memset(r, 0x5A, sizeof *r);
}

START_TEST(response_clear_resets_everything)
{
    mcm_response r;
    dirty(&r);
    mcm_response_clear(&r);
    ck_assert_uint_eq(r.status, 0);
    ck_assert_int_eq(r.category, MCM_CATEGORY_SUCCESS);
    ck_assert_str_eq(r.error_comment, "");
    ck_assert_int_eq(r.has_error_id, 0);
    ck_assert_uint_eq(r.offending_element_count, 0);
    ck_assert_uint_eq(r.attribute_identifier_count, 0);
    ck_assert_int_eq(r.has_action_type_id, 0);
    ck_assert_str_eq(r.affected_sop_instance_uid, "");
    mcm_response_clear(NULL); /* ignored */
}
END_TEST

START_TEST(response_set_status_category_and_comment)
{
    mcm_response r;
    mcm_response_clear(&r);
    mcm_response_set(&r, MCM_OP_N_ACTION, 0xC201, "job %s is %d days old", "X", 3);
    ck_assert_uint_eq(r.status, 0xC201);
    ck_assert_int_eq(r.category, MCM_CATEGORY_FAILURE);
    ck_assert_str_eq(r.error_comment, "job X is 3 days old");

    /* The category follows the operation. */
    mcm_response_set(&r, MCM_OP_N_GET, 0x0107, NULL);
    ck_assert_int_eq(r.category, MCM_CATEGORY_WARNING);
    ck_assert_str_eq(r.error_comment, ""); /* fmt NULL clears the old comment */
    mcm_response_set(&r, MCM_OP_ANY, 0x0300, "x");
    ck_assert_int_eq(r.category, MCM_CATEGORY_UNKNOWN);
    mcm_response_set(&r, MCM_OP_N_CREATE, 0x0000, "%s", "");
    ck_assert_int_eq(r.category, MCM_CATEGORY_SUCCESS);
    ck_assert_str_eq(r.error_comment, "");
    mcm_response_set(NULL, MCM_OP_N_GET, 0x0110, "ignored");
}
END_TEST

START_TEST(response_set_keeps_64_characters)
{
    char text[200];
    mcm_response r;
    mcm_response_clear(&r);
    memset(text, 'a', 64);
    text[64] = '\0';
    mcm_response_set(&r, MCM_OP_N_CREATE, 0x0110, "%s", text);
    ck_assert_str_eq(r.error_comment, text);

    memset(text, 'b', 65);
    text[65] = '\0';
    mcm_response_set(&r, MCM_OP_N_CREATE, 0x0110, "%s", text);
    ck_assert_uint_eq(strlen(r.error_comment), 64);
    ck_assert_int_eq(strspn(r.error_comment, "b"), 64);

    memset(text, 'c', 199);
    text[199] = '\0';
    mcm_response_set(&r, MCM_OP_N_CREATE, 0x0110, "%s", text);
    ck_assert_uint_eq(strlen(r.error_comment), 64);

    /* Longer than any internal buffer. */
    char huge[5000];
    memset(huge, 'd', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    mcm_response_set(&r, MCM_OP_N_CREATE, 0x0110, "%s%s", huge, "tail");
    ck_assert_uint_eq(strlen(r.error_comment), 64);
    ck_assert_int_eq(strspn(r.error_comment, "d"), 64);
}
END_TEST

START_TEST(response_set_keeps_to_the_default_repertoire)
{
    char text[256];
    mcm_response r;
    mcm_response_clear(&r);

    /* The command set has no Specific Character Set: one '?' per non-ASCII character, whatever
     * its UTF-8 length, and the 64-character limit counts the replacements. */
    mcm_response_set(&r, MCM_OP_N_CREATE, 0x0110, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x92\xBF end");
    ck_assert_str_eq(r.error_comment, "caf? ? ? end");

    memset(text, 'a', 63);
    strcpy(text + 63, "\xC3\xA9zz");
    mcm_response_set(&r, MCM_OP_N_CREATE, 0x0110, "%s", text);
    ck_assert_uint_eq(strlen(r.error_comment), 64);
    ck_assert_int_eq(r.error_comment[63], '?');

    /* A stray continuation byte or a lone lead byte is still replaced, never copied. */
    mcm_response_set(&r, MCM_OP_N_CREATE, 0x0110, "x\xC3y\xFF");
    ck_assert_str_eq(r.error_comment, "x?y?");
    for (const char *p = r.error_comment; *p != '\0'; p++)
        ck_assert_int_lt((unsigned char)*p, 0x80);

    text[0] = '\0';
    for (int i = 0; i < 70; i++)
        strcat(text, "\xC3\xA9");
    mcm_response_set(&r, MCM_OP_N_CREATE, 0x0110, "%s", text);
    ck_assert_uint_eq(strlen(r.error_comment), 64);
    ck_assert_int_eq((int)strspn(r.error_comment, "?"), 64);
}
END_TEST

START_TEST(response_set_replaces_backslash_and_control_characters)
{
    mcm_response r;
    mcm_response_clear(&r);
    mcm_response_set(&r, MCM_OP_N_CREATE, 0x0106,
                     "a\\b\nc\rd\te\x01"
                     "f\x7Fg\x1Bh");
    /* LO in the default repertoire: no backslash (value delimiter), no control character, and
     * no ESC either (there is no character set to escape to in a command set). */
    ck_assert_str_eq(r.error_comment, "a/b c d e f g h");
    for (const char *p = r.error_comment; *p != '\0'; p++) {
        ck_assert_int_ne(*p, '\\');
        ck_assert((unsigned char)*p >= 0x20 && *p != 0x7F);
    }
    /* Trailing spaces (from a trailing newline, say) carry nothing. */
    mcm_response_set(&r, MCM_OP_N_CREATE, 0x0106, "message\n");
    ck_assert_str_eq(r.error_comment, "message");
    mcm_response_set(&r, MCM_OP_N_CREATE, 0x0106, "\n\n\n");
    ck_assert_str_eq(r.error_comment, "");
}
END_TEST

START_TEST(response_set_leaves_tag_lists_alone)
{
    mcm_response r;
    mcm_response_clear(&r);
    ck_assert_int_eq(mcm_response_add_offending(&r, MCM_TAG_LABEL_TEXT), MCM_OK);
    mcm_response_set(&r, MCM_OP_N_CREATE, 0x0106, "x");
    ck_assert_uint_eq(r.offending_element_count, 1);
}
END_TEST

START_TEST(response_add_offending_and_attribute_identifier)
{
    mcm_response r;
    mcm_response_clear(&r);
    ck_assert_int_eq(mcm_response_add_offending(&r, MCM_TAG_LABEL_TEXT), MCM_OK);
    ck_assert_int_eq(mcm_response_add_offending(&r, MCM_TAG_BARCODE_VALUE), MCM_OK);
    ck_assert_int_eq(mcm_response_add_offending(&r, MCM_TAG_LABEL_TEXT), MCM_OK); /* duplicate ignored */
    ck_assert_uint_eq(r.offending_element_count, 2);
    ck_assert_uint_eq(r.offending_elements[0], MCM_TAG_LABEL_TEXT);
    ck_assert_uint_eq(r.offending_elements[1], MCM_TAG_BARCODE_VALUE);
    ck_assert_uint_eq(r.attribute_identifier_count, 0); /* the lists are separate */

    ck_assert_int_eq(mcm_response_add_attribute_identifier(&r, MCM_TAG_REFERENCED_SOP_SEQUENCE), MCM_OK);
    ck_assert_int_eq(mcm_response_add_attribute_identifier(&r, MCM_TAG_REFERENCED_SOP_SEQUENCE), MCM_OK);
    ck_assert_int_eq(mcm_response_add_attribute_identifier(&r, MCM_TAG_LABEL_TEXT), MCM_OK);
    ck_assert_uint_eq(r.attribute_identifier_count, 2);
    ck_assert_uint_eq(r.attribute_identifiers[0], MCM_TAG_REFERENCED_SOP_SEQUENCE);
    ck_assert_uint_eq(r.attribute_identifiers[1], MCM_TAG_LABEL_TEXT);
    ck_assert_uint_eq(r.offending_element_count, 2);

    ck_assert_int_eq(mcm_response_add_offending(NULL, 1), MCM_EINVAL);
    ck_assert_int_eq(mcm_response_add_attribute_identifier(NULL, 1), MCM_EINVAL);
}
END_TEST

START_TEST(response_tag_lists_hold_16)
{
    mcm_response r;
    mcm_response_clear(&r);
    for (uint32_t i = 0; i < MCM_RESPONSE_MAX_TAGS; i++) {
        ck_assert_int_eq(mcm_response_add_offending(&r, MCM_TAG(0x0009, 0x1000 + i)), MCM_OK);
        ck_assert_int_eq(mcm_response_add_attribute_identifier(&r, MCM_TAG(0x0011, 0x1000 + i)), MCM_OK);
    }
    ck_assert_uint_eq(MCM_RESPONSE_MAX_TAGS, 16);
    mcm_clear_error();
    ck_assert_int_eq(mcm_response_add_offending(&r, MCM_TAG(0x0009, 0x2000)), MCM_EBUSY);
    ck_assert_str_ne(mcm_last_error(), "");
    ck_assert_int_eq(mcm_response_add_attribute_identifier(&r, MCM_TAG(0x0011, 0x2000)), MCM_EBUSY);
    ck_assert_uint_eq(r.offending_element_count, 16);
    ck_assert_uint_eq(r.attribute_identifier_count, 16);
    /* A tag already in a full list is still a harmless duplicate. */
    ck_assert_int_eq(mcm_response_add_offending(&r, MCM_TAG(0x0009, 0x100F)), MCM_OK);
    ck_assert_int_eq(mcm_response_add_attribute_identifier(&r, MCM_TAG(0x0011, 0x1000)), MCM_OK);
    ck_assert_uint_eq(r.offending_elements[15], MCM_TAG(0x0009, 0x100F));
    ck_assert_uint_eq(r.attribute_identifiers[15], MCM_TAG(0x0011, 0x100F));
}
END_TEST

START_TEST(response_format_one_line)
{
    char buf[256];
    mcm_response r;
    mcm_response_clear(&r);
    mcm_response_set(&r, MCM_OP_N_ACTION, 0xC201, "job is DONE");
    mcm_response_add_offending(&r, MCM_TAG_REQUEST_PRIORITY);
    ck_assert_ptr_eq(mcm_response_format(&r, MCM_OP_N_ACTION, buf, sizeof buf), buf);
    ck_assert_str_eq(buf, "0xC201 Failure (Media creation request already completed): job is DONE "
                          "[offending (2200,0020)]");

    mcm_response_clear(&r);
    ck_assert_str_eq(mcm_response_format(&r, MCM_OP_N_GET, buf, sizeof buf), "0x0000 Success (Success)");

    mcm_response_set(&r, MCM_OP_N_CREATE, 0x0120, "missing");
    mcm_response_add_attribute_identifier(&r, MCM_TAG_REFERENCED_SOP_SEQUENCE);
    mcm_response_add_attribute_identifier(&r, MCM_TAG_REFERENCED_SOP_CLASS_UID);
    mcm_response_add_offending(&r, MCM_TAG_ICON_IMAGE_SEQUENCE);
    r.has_error_id = 1;
    r.error_id = 7;
    ck_assert_str_eq(mcm_response_format(&r, MCM_OP_N_CREATE, buf, sizeof buf),
                     "0x0120 Failure (Missing Attribute): missing [offending (0088,0200)] "
                     "[attributes (0008,1199) (0008,1150)] [error id 7]");

    /* The category is the one of the operation asked for, not the stored field. */
    mcm_response_clear(&r);
    r.status = 0x0107;
    ck_assert_str_eq(mcm_response_format(&r, MCM_OP_N_GET, buf, sizeof buf), "0x0107 Warning (Attribute list error)");
    r.status = 0xFFFF;
    ck_assert_str_eq(mcm_response_format(&r, MCM_OP_ANY, buf, sizeof buf), "0xFFFF Unknown (Unknown status)");
}
END_TEST

START_TEST(response_format_truncates_safely)
{
    char buf[64];
    mcm_response r;
    mcm_response_clear(&r);
    mcm_response_set(&r, MCM_OP_N_ACTION, 0xC202, "a comment long enough to overflow a small buffer for sure");
    for (uint32_t i = 0; i < MCM_RESPONSE_MAX_TAGS; i++) {
        mcm_response_add_offending(&r, MCM_TAG(0x0009, i));
        mcm_response_add_attribute_identifier(&r, MCM_TAG(0x0011, i));
    }
    for (size_t size = 1; size < sizeof buf; size++) {
        memset(buf, 'Z', sizeof buf);
        mcm_response_format(&r, MCM_OP_N_ACTION, buf, size);
        ck_assert_uint_eq(strlen(buf), size - 1);
        ck_assert_int_eq(buf[size], 'Z'); /* nothing written past size */
        const char *prefix = "0xC202 Failure (Media creation request";
        size_t compare = size - 1 < strlen(prefix) ? size - 1 : strlen(prefix);
        ck_assert_int_eq(strncmp(buf, prefix, compare), 0);
    }
    char big[1024];
    mcm_response_format(&r, MCM_OP_N_ACTION, big, sizeof big);
    ck_assert_ptr_nonnull(strstr(big, "(0009,000F)]"));
    ck_assert_ptr_nonnull(strstr(big, "(0011,000F)]"));
    /* size 0 and NULL response leave a usable result. */
    buf[0] = 'Q';
    ck_assert_ptr_eq(mcm_response_format(&r, MCM_OP_N_ACTION, buf, 0), buf);
    ck_assert_int_eq(buf[0], 'Q');
    ck_assert_str_eq(mcm_response_format(NULL, MCM_OP_N_ACTION, buf, sizeof buf), "");
    ck_assert_ptr_null(mcm_response_format(&r, MCM_OP_N_ACTION, NULL, 10));
}
END_TEST

/* ---- mcm_strerror, mcm_last_error, mcm_version ---- */

START_TEST(strerror_names_every_code)
{
    static const struct {
        int code;
        const char *text;
    } names[] = {
        {MCM_OK, "success"},
        {MCM_EINVAL, "invalid argument"},
        {MCM_ENOMEM, "out of memory"},
        {MCM_ENOTFOUND, "not found"},
        {MCM_ESTATE, "not allowed in the current state"},
        {MCM_EIO, "file system error"},
        {MCM_EDB, "job database error"},
        {MCM_ENET, "network error"},
        {MCM_EREJECTED, "association rejected"},
        {MCM_ETIMEOUT, "timeout"},
        {MCM_EPROTOCOL, "DICOM protocol error"},
        {MCM_EDICOM, "DICOM data error"},
        {MCM_EABORTED, "association aborted"},
        {MCM_ENOCONTEXT, "no accepted presentation context"},
        {MCM_ECANCELED, "cancelled"},
        {MCM_EBUSY, "busy or limit reached"},
        {MCM_EUNSUPPORTED, "not supported"},
        {MCM_EINTERNAL, "internal error"},
    };
    /* The numbers are part of the ABI (common.h: never change once released). */
    ck_assert_int_eq(MCM_EINTERNAL, -17);
    ck_assert_uint_eq(COUNT(names), 18);
    for (size_t i = 0; i < COUNT(names); i++) {
        ck_assert_int_eq(names[i].code, -(int)i);
        ck_assert_str_eq(mcm_strerror(names[i].code), names[i].text);
        for (size_t k = 0; k < i; k++)
            ck_assert_str_ne(mcm_strerror(names[i].code), mcm_strerror(names[k].code));
    }
    ck_assert_str_eq(mcm_strerror(-18), "unknown error code");
    ck_assert_str_eq(mcm_strerror(1), "unknown error code");
    ck_assert_str_eq(mcm_strerror(-2147483647 - 1), "unknown error code");
    ck_assert_str_eq(mcm_strerror(2147483647), "unknown error code");
}
END_TEST

static void *fail_in_thread(void *arg)
{
    char *seen = arg;
    /* A new thread starts with no message... */
    snprintf(seen, 256, "%s", mcm_last_error());
    /* ...and its own failure does not reach the main thread. */
    mcm_request *r = NULL;
    mcm_request_new(&r);
    mcm_request_set_attribute(r, MCM_TAG_REQUEST_PRIORITY, "URGENT");
    mcm_request_free(r);
    return NULL;
}

START_TEST(last_error_is_per_thread_and_detailed)
{
    mcm_request *r = NULL;
    ck_assert_int_eq(mcm_request_new(&r), MCM_OK);
    ck_assert_int_eq(mcm_request_set_copies(r, 10000), MCM_EINVAL);
    ck_assert_ptr_nonnull(strstr(mcm_last_error(), "10000"));
    char main_message[512];
    snprintf(main_message, sizeof main_message, "%s", mcm_last_error());

    char seen[256] = "not run";
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, fail_in_thread, seen), 0);
    ck_assert_int_eq(pthread_join(thread, NULL), 0);
    ck_assert_str_eq(seen, "");
    ck_assert_str_eq(mcm_last_error(), main_message);

    /* A later failure replaces the message. */
    ck_assert_int_eq(mcm_request_set_attribute(r, MCM_TAG_ALLOW_MEDIA_SPLITTING, "maybe"), MCM_EINVAL);
    ck_assert_ptr_nonnull(strstr(mcm_last_error(), "Allow Media Splitting"));
    ck_assert_ptr_null(strstr(mcm_last_error(), "10000"));
    mcm_request_free(r);
}
END_TEST

START_TEST(fail_may_quote_the_last_error)
{
    /* Wrapping the previous message ("context: <previous>") must not read the buffer being written. */
    ck_assert_int_eq(mcm_fail(MCM_EIO, "disk full at %d%%", 100), MCM_EIO);
    ck_assert_str_eq(mcm_last_error(), "disk full at 100%");
    ck_assert_int_eq(mcm_fail(MCM_EDB, "saving job: %s", mcm_last_error()), MCM_EDB);
    ck_assert_str_eq(mcm_last_error(), "saving job: disk full at 100%");
    /* Long messages are cut, still terminated. */
    char long_text[2000];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    mcm_fail(MCM_EINVAL, "%s", long_text);
    ck_assert_uint_gt(strlen(mcm_last_error()), 64);
    ck_assert_uint_lt(strlen(mcm_last_error()), sizeof long_text - 1);
    mcm_clear_error();
    ck_assert_str_eq(mcm_last_error(), "");
}
END_TEST

static void *set_error_in_thread(void *arg)
{
    (void)arg;
    mcm_error_set(MCM_EIO, "thread's own");
    return NULL;
}

/* mcm_error_set(), for writers and callbacks outside the library, sets the same per-thread message
 * as the library's own failures. */
START_TEST(error_set_is_the_public_way_to_fail)
{
    ck_assert_int_eq(mcm_error_set(MCM_EIO, "cannot open %s: %s", "/x", "gone"), MCM_EIO);
    ck_assert_str_eq(mcm_last_error(), "cannot open /x: gone");
    ck_assert_int_eq(mcm_error_set(MCM_EDICOM, "writing: %s", mcm_last_error()), MCM_EDICOM);
    ck_assert_str_eq(mcm_last_error(), "writing: cannot open /x: gone");
    /* Any code comes back as given, and the message is cut at 511 bytes, terminated. */
    char long_text[2000];
    memset(long_text, 'y', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    ck_assert_int_eq(mcm_error_set(-12345, "%s", long_text), -12345);
    ck_assert_uint_eq(strlen(mcm_last_error()), 511);
    /* Another thread's message stays its own. */
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, set_error_in_thread, NULL), 0);
    ck_assert_int_eq(pthread_join(thread, NULL), 0);
    ck_assert_uint_eq(strlen(mcm_last_error()), 511);
    /* A library failure replaces it like any other; NULL clears it. */
    mcm_request *r = NULL;
    ck_assert_int_eq(mcm_request_new(&r), MCM_OK);
    ck_assert_int_eq(mcm_request_set_copies(r, 10000), MCM_EINVAL);
    ck_assert_ptr_nonnull(strstr(mcm_last_error(), "10000"));
    mcm_request_free(r);
    ck_assert_int_eq(mcm_error_set(MCM_OK, NULL), MCM_OK);
    ck_assert_str_eq(mcm_last_error(), "");
}
END_TEST

START_TEST(version_matches_header)
{
    ck_assert_str_eq(mcm_version(), MCM_VERSION_STRING);
    char expected[32];
    snprintf(expected, sizeof expected, "%d.%d.%d", MCM_VERSION_MAJOR, MCM_VERSION_MINOR, MCM_VERSION_PATCH);
    ck_assert_str_eq(mcm_version(), expected);
}
END_TEST

/* The one Annex C table of status detail fields (digest 7.5) that the service and the network
 * layer both follow: every row. */
#define COMMENT MCM_FIELD_ERROR_COMMENT
#define ERROR_ID MCM_FIELD_ERROR_ID
#define OFFENDING MCM_FIELD_OFFENDING_ELEMENT
#define LIST MCM_FIELD_ATTRIBUTE_IDENTIFIER_LIST
#define ACTION MCM_FIELD_ACTION_TYPE_ID
#define CLASS MCM_FIELD_AFFECTED_SOP_CLASS_UID
#define INSTANCE MCM_FIELD_AFFECTED_SOP_INSTANCE_UID
START_TEST(annex_c_fields_follow_digest_7_5)
{
    static const struct {
        uint16_t status;
        unsigned fields;
    } rows[] = {
        {0x0000, CLASS | INSTANCE | ACTION}, /* success: digest A7 */
        {0x0001, COMMENT | OFFENDING},       /* generic Warning, service-specific */
        {0xB000, COMMENT | OFFENDING},
        {0xA510, COMMENT | OFFENDING}, /* "Failed", service-specific */
        {0xC201, COMMENT | OFFENDING},
        {0xC202, COMMENT | OFFENDING},
        {0xC203, COMMENT | OFFENDING},
        {0x0107, CLASS | INSTANCE | LIST},
        {0x0116, 0},
        {0x0105, LIST},
        {0x0120, LIST},
        {0x0106, 0},
        {0x0121, 0},
        {0x0110, CLASS | INSTANCE | COMMENT | ERROR_ID},
        {0x0111, INSTANCE},
        {0x0117, INSTANCE},
        {0x0112, INSTANCE},
        {0x0118, CLASS},
        {0x0119, CLASS | INSTANCE},
        {0x0114, CLASS | ACTION},
        {0x0115, CLASS | INSTANCE | ACTION},
        {0x0123, CLASS | ACTION},
        {0x0124, COMMENT},
        {0x0122, COMMENT},
        {0x0210, 0},
        {0x0211, 0},
        {0x0212, 0},
        {0x0213, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        ck_assert_msg(mcm_status_annex_c_fields(rows[i].status) == rows[i].fields,
                      "0x%04X: fields 0x%02X, digest 7.5 says 0x%02X", rows[i].status,
                      mcm_status_annex_c_fields(rows[i].status), rows[i].fields);
}
END_TEST
#undef COMMENT
#undef ERROR_ID
#undef OFFENDING
#undef LIST
#undef ACTION
#undef CLASS
#undef INSTANCE

Suite *mcm_suite_status(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("codes");
    tcase_add_test(tc, every_listed_code_has_its_category_and_name);
    tcase_add_test(tc, every_code_under_every_operation);
    tcase_add_test(tc, codes_of_one_operation_decoded_under_another);
    tcase_add_test(tc, class_range_boundaries);
    tcase_add_test(tc, unknown_operation_decodes_by_range);
    tcase_add_test(tc, category_names);
    tcase_add_test(tc, header_constants_match_the_digest);
    suite_add_tcase(s, tc);

    tc = tcase_create("scp_may_send");
    tcase_add_test(tc, ncreate_reply_is_never_a_warning);
    tcase_add_test(tc, status_0122_is_never_sent);
    tcase_add_test(tc, a510_only_on_naction);
    tcase_add_test(tc, c201_to_c203_only_on_naction);
    tcase_add_test(tc, status_0001_only_on_nget);
    tcase_add_test(tc, nothing_is_sendable_for_any_operation);
    suite_add_tcase(s, tc);

    tc = tcase_create("seed_errors");
    tcase_add_test(tc, seed_ncreate_codes_are_not_all_success);
    tcase_add_test(tc, seed_a510_sent_on_naction_decoded_anywhere);
    tcase_add_test(tc, seed_nget_0107_is_attribute_list_error);
    tcase_add_test(tc, seed_nget_0122_decoded_not_listed);
    tcase_add_test(tc, seed_naction_lists_0110);
    tcase_add_test(tc, seed_0117_is_invalid_sop_instance);
    suite_add_tcase(s, tc);

    tc = tcase_create("response");
    tcase_add_test(tc, response_clear_resets_everything);
    tcase_add_test(tc, response_set_status_category_and_comment);
    tcase_add_test(tc, response_set_keeps_64_characters);
    tcase_add_test(tc, response_set_keeps_to_the_default_repertoire);
    tcase_add_test(tc, response_set_replaces_backslash_and_control_characters);
    tcase_add_test(tc, response_set_leaves_tag_lists_alone);
    tcase_add_test(tc, response_add_offending_and_attribute_identifier);
    tcase_add_test(tc, response_tag_lists_hold_16);
    tcase_add_test(tc, response_format_one_line);
    tcase_add_test(tc, response_format_truncates_safely);
    tcase_add_test(tc, annex_c_fields_follow_digest_7_5);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, strerror_names_every_code);
    tcase_add_test(tc, last_error_is_per_thread_and_detailed);
    tcase_add_test(tc, fail_may_quote_the_last_error);
    tcase_add_test(tc, error_set_is_the_public_way_to_fail);
    tcase_add_test(tc, version_matches_header);
    suite_add_tcase(s, tc);
    return s;
}
