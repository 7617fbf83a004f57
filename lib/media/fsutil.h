/*
 * lib/media/fsutil.h: the file system operations the media writer needs (lib/media/fsutil.c):
 * paths, directories, trees, links and copies, durable small files. POSIX only.
 */
#ifndef MCM_LIB_MEDIA_FSUTIL_H
#define MCM_LIB_MEDIA_FSUTIL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCM_PATH_MAX 4096

/* printf into out (MCM_PATH_MAX bytes); MCM_EINVAL if the path does not fit. */
int mcm_fs_path(char out[MCM_PATH_MAX], const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* mkdir -p (mode 0755). */
int mcm_fs_mkdir_p(const char *path);
/* rm -rf; a missing path is not an error. */
int mcm_fs_rmtree(const char *path);
/* 1 if path exists (any type). */
int mcm_fs_exists(const char *path);
int mcm_fs_file_size(const char *path, uint64_t *size);

/* Copy the regular file src to dst (created or truncated, mode 0644). */
int mcm_fs_copy_file(const char *src, const char *dst);
/* A hard link dst to src, or a copy where links cannot be made (another file system, no
 * permission). *linked (may be NULL) says which. */
int mcm_fs_link_or_copy(const char *src, const char *dst, int *linked);
/* Copy the content of directory src into directory dst (created), following symbolic links;
 * only directories and regular files are copied. */
int mcm_fs_copy_tree(const char *src, const char *dst);

/* Every regular file under root, as paths relative to root with '/' separators, sorted
 * byte-wise; *out is a malloc'd array of malloc'd strings (free with mcm_fs_free_list). */
int mcm_fs_list_files(const char *root, char ***out, size_t *count);
void mcm_fs_free_list(char **list, size_t count);
/* Total bytes of the regular files under root, the number of files and of directories (root
 * excluded). */
int mcm_fs_tree_size(const char *root, uint64_t *bytes, size_t *files, size_t *dirs);

/* Write data to path through path.tmp, fsync and rename: the file is there whole or not at all. */
int mcm_fs_write_file(const char *path, const void *data, size_t size);
/* fsync a file or directory by path. */
int mcm_fs_sync(const char *path);

#ifdef __cplusplus
}
#endif

#endif
