/*
 * lib/media/fsutil.c: file system helpers for the media writer: bounded path formatting,
 * recursive create/remove/copy/list, links with a copy fallback, and atomic small files. Every
 * failure is reported with mcm_error_set(MCM_EIO or MCM_EINVAL, ...). Knows nothing of DICOM.
 */
#include "media/fsutil.h"

#include "dcmmcm/common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int mcm_fs_path(char out[MCM_PATH_MAX], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, MCM_PATH_MAX, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= MCM_PATH_MAX)
        return mcm_error_set(MCM_EINVAL, "path too long");
    return MCM_OK;
}

int mcm_fs_mkdir_p(const char *path)
{
    char buffer[MCM_PATH_MAX];
    if (mcm_fs_path(buffer, "%s", path) != MCM_OK)
        return MCM_EINVAL;
    for (char *p = buffer + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buffer, 0755) != 0 && errno != EEXIST)
            return mcm_error_set(MCM_EIO, "cannot create %s: %s", buffer, strerror(errno));
        *p = '/';
    }
    if (mkdir(buffer, 0755) != 0 && errno != EEXIST)
        return mcm_error_set(MCM_EIO, "cannot create %s: %s", buffer, strerror(errno));
    struct stat st;
    if (stat(buffer, &st) != 0 || !S_ISDIR(st.st_mode))
        return mcm_error_set(MCM_EIO, "%s is not a directory", buffer);
    return MCM_OK;
}

int mcm_fs_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int mcm_fs_file_size(const char *path, uint64_t *size)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return mcm_error_set(MCM_EIO, "cannot stat %s: %s", path, strerror(errno));
    *size = (uint64_t)st.st_size;
    return MCM_OK;
}

/* Depth-first removal without following symbolic links (unlinkat on the entries). */
static int remove_at(int parent, const char *name, const char *shown)
{
    struct stat st;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? MCM_OK : mcm_error_set(MCM_EIO, "cannot stat %s: %s", shown, strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        if (unlinkat(parent, name, 0) != 0 && errno != ENOENT)
            return mcm_error_set(MCM_EIO, "cannot remove %s: %s", shown, strerror(errno));
        return MCM_OK;
    }
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return mcm_error_set(MCM_EIO, "cannot open %s: %s", shown, strerror(errno));
    DIR *dir = fdopendir(fd);
    if (dir == NULL) {
        close(fd);
        return mcm_error_set(MCM_EIO, "cannot read %s: %s", shown, strerror(errno));
    }
    int rc = MCM_OK;
    struct dirent *entry;
    while (rc == MCM_OK && (entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        rc = remove_at(dirfd(dir), entry->d_name, shown);
    }
    closedir(dir);
    if (rc == MCM_OK && unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        rc = mcm_error_set(MCM_EIO, "cannot remove %s: %s", shown, strerror(errno));
    return rc;
}

int mcm_fs_rmtree(const char *path)
{
    if (path == NULL || path[0] == '\0' || strcmp(path, "/") == 0)
        return mcm_error_set(MCM_EINVAL, "refusing to remove \"%s\"", path != NULL ? path : "(null)");
    return remove_at(AT_FDCWD, path, path);
}

int mcm_fs_copy_file(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return mcm_error_set(MCM_EIO, "cannot open %s: %s", src, strerror(errno));
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        int e = errno;
        close(in);
        return mcm_error_set(MCM_EIO, "cannot create %s: %s", dst, strerror(e));
    }
    static const size_t chunk = 1 << 20;
    char *buffer = malloc(chunk);
    int rc = buffer != NULL ? MCM_OK : mcm_error_set(MCM_ENOMEM, "out of memory copying %s", src);
    while (rc == MCM_OK) {
        ssize_t n = read(in, buffer, chunk);
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = mcm_error_set(MCM_EIO, "cannot read %s: %s", src, strerror(errno));
            break;
        }
        for (ssize_t done = 0; done < n && rc == MCM_OK;) {
            ssize_t w = write(out, buffer + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                rc = mcm_error_set(MCM_EIO, "cannot write %s: %s", dst, strerror(errno));
            else
                done += w;
        }
    }
    free(buffer);
    close(in);
    if (close(out) != 0 && rc == MCM_OK)
        rc = mcm_error_set(MCM_EIO, "cannot write %s: %s", dst, strerror(errno));
    if (rc != MCM_OK)
        unlink(dst);
    return rc;
}

int mcm_fs_link_or_copy(const char *src, const char *dst, int *linked)
{
    if (link(src, dst) == 0) {
        if (linked != NULL)
            *linked = 1;
        return MCM_OK;
    }
    if (errno != EXDEV && errno != EPERM && errno != EMLINK && errno != ENOTSUP)
        return mcm_error_set(MCM_EIO, "cannot link %s to %s: %s", dst, src, strerror(errno));
    if (linked != NULL)
        *linked = 0;
    return mcm_fs_copy_file(src, dst);
}

int mcm_fs_copy_tree(const char *src, const char *dst)
{
    int rc = mcm_fs_mkdir_p(dst);
    if (rc != MCM_OK)
        return rc;
    DIR *dir = opendir(src);
    if (dir == NULL)
        return mcm_error_set(MCM_EIO, "cannot read %s: %s", src, strerror(errno));
    struct dirent *entry;
    while (rc == MCM_OK && (entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        char from[MCM_PATH_MAX], to[MCM_PATH_MAX];
        if ((rc = mcm_fs_path(from, "%s/%s", src, entry->d_name)) != MCM_OK ||
            (rc = mcm_fs_path(to, "%s/%s", dst, entry->d_name)) != MCM_OK)
            break;
        struct stat st;
        if (stat(from, &st) != 0) {
            rc = mcm_error_set(MCM_EIO, "cannot stat %s: %s", from, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            rc = mcm_fs_copy_tree(from, to);
        } else if (S_ISREG(st.st_mode)) {
            rc = mcm_fs_copy_file(from, to);
        }
    }
    closedir(dir);
    return rc;
}

/* ---- listing ---- */

typedef struct file_list {
    char **items;
    size_t count, capacity;
    uint64_t bytes;
    size_t files, dirs;
} file_list;

static int list_add(file_list *list, const char *relative)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? 2 * list->capacity : 64;
        char **items = realloc(list->items, capacity * sizeof *items);
        if (items == NULL)
            return mcm_error_set(MCM_ENOMEM, "out of memory listing files");
        list->items = items;
        list->capacity = capacity;
    }
    list->items[list->count] = strdup(relative);
    if (list->items[list->count] == NULL)
        return mcm_error_set(MCM_ENOMEM, "out of memory listing files");
    list->count++;
    return MCM_OK;
}

static int walk(const char *root, const char *relative, file_list *list, int collect)
{
    char path[MCM_PATH_MAX];
    int rc = relative[0] ? mcm_fs_path(path, "%s/%s", root, relative) : mcm_fs_path(path, "%s", root);
    if (rc != MCM_OK)
        return rc;
    DIR *dir = opendir(path);
    if (dir == NULL)
        return mcm_error_set(MCM_EIO, "cannot read %s: %s", path, strerror(errno));
    struct dirent *entry;
    while (rc == MCM_OK && (entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        char child[MCM_PATH_MAX], child_path[MCM_PATH_MAX];
        if ((rc = relative[0] ? mcm_fs_path(child, "%s/%s", relative, entry->d_name)
                              : mcm_fs_path(child, "%s", entry->d_name)) != MCM_OK ||
            (rc = mcm_fs_path(child_path, "%s/%s", root, child)) != MCM_OK)
            break;
        struct stat st;
        if (stat(child_path, &st) != 0) {
            rc = mcm_error_set(MCM_EIO, "cannot stat %s: %s", child_path, strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            list->dirs++;
            rc = walk(root, child, list, collect);
        } else if (S_ISREG(st.st_mode)) {
            list->bytes += (uint64_t)st.st_size;
            list->files++;
            if (collect)
                rc = list_add(list, child);
        }
    }
    closedir(dir);
    return rc;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int mcm_fs_list_files(const char *root, char ***out, size_t *count)
{
    file_list list = {0};
    int rc = walk(root, "", &list, 1);
    if (rc != MCM_OK) {
        mcm_fs_free_list(list.items, list.count);
        return rc;
    }
    if (list.count > 1)
        qsort(list.items, list.count, sizeof *list.items, compare_strings);
    *out = list.items;
    *count = list.count;
    return MCM_OK;
}

void mcm_fs_free_list(char **list, size_t count)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        free(list[i]);
    free(list);
}

int mcm_fs_tree_size(const char *root, uint64_t *bytes, size_t *files, size_t *dirs)
{
    file_list list = {0};
    int rc = walk(root, "", &list, 0);
    if (rc == MCM_OK) {
        *bytes = list.bytes;
        *files = list.files;
        *dirs = list.dirs;
    }
    mcm_fs_free_list(list.items, list.count);
    return rc;
}

/* ---- durable small files ---- */

int mcm_fs_sync(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mcm_error_set(MCM_EIO, "cannot open %s: %s", path, strerror(errno));
    int rc = fsync(fd) == 0 ? MCM_OK : mcm_error_set(MCM_EIO, "cannot sync %s: %s", path, strerror(errno));
    close(fd);
    return rc;
}

int mcm_fs_write_file(const char *path, const void *data, size_t size)
{
    char tmp[MCM_PATH_MAX];
    int rc = mcm_fs_path(tmp, "%s.tmp", path);
    if (rc != MCM_OK)
        return rc;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return mcm_error_set(MCM_EIO, "cannot create %s: %s", tmp, strerror(errno));
    const char *p = data;
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, p + done, size - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = mcm_error_set(MCM_EIO, "cannot write %s: %s", tmp, strerror(errno));
            break;
        }
        done += (size_t)w;
    }
    if (rc == MCM_OK && fsync(fd) != 0)
        rc = mcm_error_set(MCM_EIO, "cannot sync %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && rc == MCM_OK)
        rc = mcm_error_set(MCM_EIO, "cannot write %s: %s", tmp, strerror(errno));
    if (rc == MCM_OK && rename(tmp, path) != 0)
        rc = mcm_error_set(MCM_EIO, "cannot rename %s: %s", tmp, strerror(errno));
    if (rc != MCM_OK)
        unlink(tmp);
    return rc;
}
