/*
 * tests/support/testutil.h: helpers shared by the test suites: scratch directories, free loopback ports,
 * running commands, and writing real DICOM files (tests/support/dicomgen.cc, through DCMTK).
 */
#ifndef MCM_TESTS_TESTUTIL_H
#define MCM_TESTS_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A new empty directory under $TMPDIR (or /tmp), e.g. "/tmp/dcmmcm-test-XXXXXX"; the caller frees
 * the string and removes the tree with mcm_test_rmtree(). Aborts the test on failure. */
char *mcm_test_tempdir(void);
/* Remove a directory tree (rm -rf). */
void mcm_test_rmtree(const char *path);
/* A TCP port on 127.0.0.1 that was free a moment ago. */
uint16_t mcm_test_free_port(void);
/* Run a shell command; returns its exit status (or -1). */
int mcm_test_system(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Run a shell command and capture its standard output (caller frees), NULL on failure. */
char *mcm_test_capture(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;
/* Milliseconds on a monotonic clock. */
double mcm_test_now_ms(void);
/* 1 when the suite runs under valgrind (make check-valgrind): tests may shrink their loops. */
int mcm_test_under_valgrind(void);
/* A path in the build directory (MCM_BUILD_DIR) or the source tree (MCM_SOURCE_DIR); static buffer. */
const char *mcm_test_build_path(const char *relative);
const char *mcm_test_source_path(const char *relative);

#define MCM_TEST_CT_IMAGE "1.2.840.10008.5.1.4.1.1.2"
#define MCM_TEST_MR_IMAGE "1.2.840.10008.5.1.4.1.1.4"
#define MCM_TEST_SC_IMAGE "1.2.840.10008.5.1.4.1.1.7"
#define MCM_TEST_EXPLICIT_LE "1.2.840.10008.1.2.1"
#define MCM_TEST_IMPLICIT_LE "1.2.840.10008.1.2"

/* What a generated DICOM image holds. NULL strings get sensible defaults; NULL UIDs are generated. */
typedef struct mcm_test_instance {
    const char *sop_class_uid;        /* default CT Image Storage */
    const char *sop_instance_uid;     /* default: generated */
    const char *study_instance_uid;   /* default: generated */
    const char *series_instance_uid;  /* default: generated */
    const char *patient_name;         /* default "Doe^Jane" */
    const char *patient_id;           /* default "PID0001"; "" writes an empty Patient ID */
    const char *modality;             /* default from the SOP class (CT, MR, OT) */
    const char *transfer_syntax_uid;  /* default explicit VR little endian */
    unsigned rows, columns;           /* default 64 x 64, 16-bit monochrome */
    int instance_number;              /* default 1 */
    int omit_patient_id;              /* 1: no Patient ID at all */
    size_t extra_pixel_bytes;         /* grow the file (e.g. to test media capacity); 0 */
} mcm_test_instance;

/* Write a Part 10 file at path; sop_instance_uid_out (65 bytes, may be NULL) receives its UID.
 * Returns 0 on success. */
int mcm_test_write_dicom(const char *path, const mcm_test_instance *spec, char *sop_instance_uid_out);

#ifdef __cplusplus
}
#endif

#endif
