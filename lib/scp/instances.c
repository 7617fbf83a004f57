/*
 * lib/scp/instances.c: C-STORE into the instance store: the received file's temporary name inside
 * the storage directory, its fsync, rename to "<SOP Instance UID>.dcm" and directory fsync, and its
 * record in the job store, in the order that survives a crash (digest A15); and the removal of the
 * temporaries an interrupted receive left behind. Owns the names of the files in the storage
 * directory that are not yet instances.
 *
 * May call admission.c, reply.c, the job store and lib/core. Takes the service's instance_lock
 * around a rename and its record, before the store's mutex (service_internal.h), as retention does.
 */
#include "scp/service_internal.h"

#include "core/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* C-STORE failure statuses (PS3.4 B.2.3): out of resources, cannot understand. */
#define STORE_STATUS_OUT_OF_RESOURCES 0xA700
#define STORE_STATUS_CANNOT_UNDERSTAND 0xC000

/* Received files are written as storage_dir/TEMP_PREFIX-XXXXXX, then renamed to <UID>.dcm. */
#define TEMP_PREFIX ".incoming-"

/* Remove temporary files left by a receive that a crash interrupted. A storage directory belongs to
 * one SCP, so no receive is in progress while it opens. */
void mcm_service_remove_stale_temporaries(mcm_service *service)
{
    DIR *dir = opendir(service->storage_dir);
    if (dir == NULL)
        return;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (strncmp(entry->d_name, TEMP_PREFIX, strlen(TEMP_PREFIX)) != 0)
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", service->storage_dir, entry->d_name);
        if (unlink(path) == 0)
            mcm_service_log(service, MCM_LOG_INFO, "removed stale temporary file %s", path);
    }
    closedir(dir);
}

int mcm_service_store_begin(mcm_service *service, const char *calling_ae, const char *sop_class_uid,
                            const char *sop_instance_uid, char tmp_path[4096], mcm_response *rsp)
{
    if (service == NULL || tmp_path == NULL || rsp == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_service_store_begin: NULL argument");
    mcm_response_clear(rsp);
    tmp_path[0] = '\0';
    /* The instance UID becomes a file name: only a valid UID (digits and dots, no empty component,
     * so never "." or "..", at most 64 characters) ever reaches a path. */
    if (sop_instance_uid == NULL || !mcm_uid_is_valid(sop_instance_uid)) {
        mcm_response_set(rsp, MCM_OP_ANY, MCM_STATUS_INVALID_SOP_INSTANCE, "SOP Instance UID is not a valid UID");
        mcm_response_add_offending(rsp, TAG_AFFECTED_SOP_INSTANCE_UID);
        mcm_service_reply_affected_uid(rsp, sop_instance_uid);
        mcm_service_reply_finish(service, rsp);
        return MCM_OK;
    }
    if (sop_class_uid == NULL || !mcm_uid_is_valid(sop_class_uid)) {
        mcm_response_set(rsp, MCM_OP_ANY, STORE_STATUS_CANNOT_UNDERSTAND, "SOP Class UID is not a valid UID");
        mcm_response_add_offending(rsp, MCM_TAG(0x0000, 0x0002));
        mcm_service_reply_finish(service, rsp);
        return MCM_OK;
    }
    if (!mcm_service_authorized(service, calling_ae, MCM_SCP_STORE, NULL)) {
        mcm_service_refuse_unauthorized(rsp, MCM_OP_ANY, MCM_SCP_STORE, calling_ae);
        mcm_service_reply_finish(service, rsp);
        return MCM_OK;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/" TEMP_PREFIX "XXXXXX", service->storage_dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        mcm_service_log(service, MCM_LOG_ERROR, "C-STORE %s: cannot create a temporary file in %s: %s",
                        sop_instance_uid, service->storage_dir, strerror(errno));
        mcm_response_set(rsp, MCM_OP_ANY, STORE_STATUS_OUT_OF_RESOURCES, "cannot create a file: %s", strerror(errno));
        mcm_service_reply_finish(service, rsp);
        return MCM_OK;
    }
    close(fd);
    memcpy(tmp_path, path, strlen(path) + 1);
    return MCM_OK;
}

/* 1 if path is one of our temporary files: storage_dir/.incoming-XXXXXX, nothing else. */
static int is_our_temporary(const mcm_service *service, const char *path)
{
    size_t dir_length = strlen(service->storage_dir);
    if (path == NULL || strncmp(path, service->storage_dir, dir_length) != 0 || path[dir_length] != '/')
        return 0;
    const char *name = path + dir_length + 1;
    return strncmp(name, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0 && strchr(name, '/') == NULL &&
           strlen(name) == strlen(TEMP_PREFIX) + 6;
}

/* fsync a directory so that a rename in it is durable. */
static int sync_directory(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

void mcm_service_store_abort(mcm_service *service, const char *tmp_path)
{
    if (service != NULL && is_our_temporary(service, tmp_path))
        unlink(tmp_path);
}

int mcm_service_store_finish(mcm_service *service, const char *tmp_path, const char *sop_class_uid,
                             const char *sop_instance_uid, const char *transfer_syntax_uid, mcm_response *rsp)
{
    if (service == NULL || rsp == NULL)
        return mcm_fail(MCM_EINVAL, "mcm_service_store_finish: NULL argument");
    mcm_response_clear(rsp);
    if (!is_our_temporary(service, tmp_path)) {
        mcm_response_set(rsp, MCM_OP_ANY, STORE_STATUS_OUT_OF_RESOURCES, "internal error: not a receive file");
        mcm_service_reply_finish(service, rsp);
        return mcm_fail(MCM_EINVAL, "mcm_service_store_finish: %s is not a temporary file of this SCP",
                        tmp_path != NULL ? tmp_path : "(null)");
    }
    if (sop_instance_uid == NULL || !mcm_uid_is_valid(sop_instance_uid) || sop_class_uid == NULL ||
        !mcm_uid_is_valid(sop_class_uid)) {
        unlink(tmp_path);
        mcm_response_set(rsp, MCM_OP_ANY, MCM_STATUS_INVALID_SOP_INSTANCE, "SOP Class or Instance UID not valid");
        mcm_service_reply_affected_uid(rsp, sop_instance_uid);
        mcm_service_reply_finish(service, rsp);
        return MCM_OK;
    }
    const char *syntax =
        transfer_syntax_uid != NULL && mcm_uid_is_valid(transfer_syntax_uid) ? transfer_syntax_uid : "";
    char final_path[PATH_MAX];
    snprintf(final_path, sizeof final_path, "%s/%s.dcm", service->storage_dir, sop_instance_uid);

    /* The data first, then the name, then the directory entry, then the record: a crash at any
     * point leaves either no record or a record whose file is complete. */
    const char *failed_step = NULL;
    int error = 0;
    struct stat st;
    memset(&st, 0, sizeof st);
    int fd = open(tmp_path, O_RDONLY);
    if (fd < 0 || fsync(fd) != 0 || fstat(fd, &st) != 0) {
        failed_step = "sync";
        error = errno;
    }
    if (fd >= 0)
        close(fd);
    if (failed_step == NULL && st.st_size == 0) {
        unlink(tmp_path);
        mcm_response_set(rsp, MCM_OP_ANY, STORE_STATUS_CANNOT_UNDERSTAND, "received an empty data set");
        mcm_service_reply_finish(service, rsp);
        return MCM_OK;
    }
    pthread_mutex_lock(&service->instance_lock);
    if (failed_step == NULL && rename(tmp_path, final_path) != 0) {
        failed_step = "rename";
        error = errno;
    }
    if (failed_step == NULL && sync_directory(service->storage_dir) != 0) {
        failed_step = "directory sync";
        error = errno;
    }
    int rc = MCM_OK;
    if (failed_step == NULL)
        rc = mcm_store_put_instance(service->store, sop_class_uid, sop_instance_uid, syntax, final_path,
                                    (uint64_t)st.st_size, mcm_service_now());
    pthread_mutex_unlock(&service->instance_lock);

    if (failed_step != NULL) {
        unlink(tmp_path);
        mcm_service_log(service, MCM_LOG_ERROR, "C-STORE %s: %s failed: %s", sop_instance_uid, failed_step,
                        strerror(error));
        mcm_response_set(rsp, MCM_OP_ANY, STORE_STATUS_OUT_OF_RESOURCES, "cannot store the instance: %s",
                         strerror(error));
    } else if (rc != MCM_OK) {
        mcm_service_log(service, MCM_LOG_ERROR, "C-STORE %s: cannot record the instance: %s", sop_instance_uid,
                        mcm_last_error());
        mcm_response_set(rsp, MCM_OP_ANY, STORE_STATUS_OUT_OF_RESOURCES, "cannot record the instance");
    } else {
        mcm_service_log(service, MCM_LOG_DEBUG, "C-STORE %s (%s): %lld bytes in %s", sop_instance_uid, sop_class_uid,
                        (long long)st.st_size, final_path);
        mcm_service_reply_affected_uid(rsp, sop_instance_uid);
    }
    mcm_service_reply_finish(service, rsp);
    return MCM_OK;
}
