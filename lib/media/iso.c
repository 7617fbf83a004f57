/*
 * lib/media/iso.c: ISO 9660 images through libisofs 1.5 (media-notes.md section 3): one volume's
 * staged tree in, one image file out, then the image read back through libisofs's own reader
 * (structure, names in all three trees, content) and byte for byte (its SHA-256). Owns the
 * process-wide libisofs set-up (counted). Knows nothing of DICOM beyond the file list it is given.
 */
#define LIBISOFS_WITHOUT_LIBBURN 1
#include "media/iso.h"

#include "media/fsutil.h"

#include "dcmmcm/common.h"

#include <errno.h>
#include <fcntl.h>
#include <libisofs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- process-wide set-up ---- */

static pthread_mutex_t iso_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned iso_users;

/* libisofs 1.5.4 keeps process-global state without locks (a registry of directory iterators,
 * among others): two threads importing or building images at once crash inside it (seen with two
 * media workers: a SIGSEGV in iso_dir_iter_free during iso_image_import). Every use of libisofs
 * after initialisation holds this lock, so concurrent jobs take turns at their image phases. */
static pthread_mutex_t iso_work_lock = PTHREAD_MUTEX_INITIALIZER;

int mcm_iso_acquire(void)
{
    int rc = MCM_OK;
    pthread_mutex_lock(&iso_lock);
    if (iso_users == 0) {
        /* bit0: leave the process locale alone (a library must not call setlocale). */
        int r = iso_init_with_flag(1);
        if (r < 0) {
            rc = mcm_error_set(MCM_EINTERNAL, "libisofs initialisation failed: %s", iso_error_to_msg(r));
        } else {
            /* Staged names are ASCII; a viewer's may be UTF-8 whatever the locale says. */
            iso_set_local_charset("UTF-8", 0);
            iso_set_msgs_severities("NEVER", "NEVER", "libisofs: ");
        }
    }
    if (rc == MCM_OK)
        iso_users++;
    pthread_mutex_unlock(&iso_lock);
    return rc;
}

void mcm_iso_release(void)
{
    pthread_mutex_lock(&iso_lock);
    if (iso_users > 0 && --iso_users == 0)
        iso_finish();
    pthread_mutex_unlock(&iso_lock);
}

static int iso_failure(int code, int r, const char *what)
{
    return mcm_error_set(code, "%s: %s (0x%x)", what, iso_error_to_msg(r), (unsigned)r);
}

/* ---- writing ---- */

static int write_image(const mcm_iso_write_params *params, uint64_t *size, char image_sha256[MCM_SHA256_HEX]);

int mcm_iso_write(const mcm_iso_write_params *params, uint64_t *size, char image_sha256[MCM_SHA256_HEX])
{
    pthread_mutex_lock(&iso_work_lock);
    int rc = write_image(params, size, image_sha256);
    pthread_mutex_unlock(&iso_work_lock);
    return rc;
}

static int write_image(const mcm_iso_write_params *params, uint64_t *size, char image_sha256[MCM_SHA256_HEX])
{
    IsoImage *image = NULL;
    IsoWriteOpts *opts = NULL;
    struct burn_source *source = NULL;
    unsigned char *buffer = NULL;
    int fd = -1;
    int rc = MCM_OK;
    int r;

    /* The Volume Identifier is at most 32 d-characters; the File-set ID (at most 16, A-Z 0-9 _)
     * always fits (PS3.12 F.1.1). */
    if ((r = iso_image_new(params->volume_id, &image)) < 0) {
        rc = iso_failure(MCM_ENOMEM, r, "cannot create an ISO image");
        goto done;
    }
    iso_image_set_application_id(image, params->application_id);
    iso_tree_set_follow_symlinks(image, 0);
    iso_tree_set_ignore_special(image, 1);
    /* The root must be absolute: a relative one fails with "file does not exist". */
    if ((r = iso_tree_add_dir_rec(image, iso_image_get_root(image), params->root)) < 0) {
        rc = iso_failure(MCM_EIO, r, "cannot add the staged volume to the image");
        goto done;
    }
    if ((r = iso_write_opts_new(&opts, 0)) < 0) {
        rc = iso_failure(MCM_ENOMEM, r, "cannot create ISO write options");
        goto done;
    }
    /* Level 1 names (8.3, PS3.12 F.1.2.1: "/COMP1/.../COMPN.;1"), Rock Ridge and Joliet trees with
     * the same names; read-only modes and uid/gid 0 as on pressed media. */
    iso_write_opts_set_iso_level(opts, 1);
    iso_write_opts_set_rockridge(opts, 1);
    iso_write_opts_set_joliet(opts, 1);
    iso_write_opts_set_replace_mode(opts, 1, 1, 1, 1);
    iso_write_opts_set_always_gmt(opts, 1);
    if ((r = iso_image_create_burn_source(image, opts, &source)) < 0) {
        rc = iso_failure(MCM_EIO, r, "cannot start writing the image");
        source = NULL;
        goto done;
    }
    uint64_t total = (uint64_t)source->get_size(source);
    if (params->capacity != 0 && total > params->capacity) {
        rc = mcm_error_set(MCM_EBUSY, "the image of %s would be %llu bytes, more than the %llu of the medium",
                      params->volume_id, (unsigned long long)total, (unsigned long long)params->capacity);
        goto done;
    }
    fd = open(params->image_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = mcm_error_set(MCM_EIO, "cannot create %s: %s", params->image_path, strerror(errno));
        goto done;
    }
    /* read_xt delivers whole buffers or EOF: asking for more than remains loses the last partial
     * chunk (media-notes.md section 3), so never ask for more than remains. */
    enum { CHUNK = 256 * 1024 };
    buffer = malloc(CHUNK);
    if (buffer == NULL) {
        rc = mcm_error_set(MCM_ENOMEM, "out of memory writing an image");
        goto done;
    }
    mcm_sha256 hash;
    mcm_sha256_init(&hash);
    uint64_t written = 0;
    while (written < total) {
        if (params->stop != NULL && params->stop(params->stop_user)) {
            rc = mcm_error_set(MCM_ECANCELED, "writing %s was stopped", params->image_path);
            goto done;
        }
        int want = total - written < CHUNK ? (int)(total - written) : CHUNK;
        int n = source->read_xt(source, buffer, want);
        if (n <= 0) {
            rc = mcm_error_set(MCM_EIO, "libisofs delivered %llu of %llu bytes of %s", (unsigned long long)written,
                          (unsigned long long)total, params->image_path);
            goto done;
        }
        mcm_sha256_update(&hash, buffer, (size_t)n);
        for (int off = 0; off < n;) {
            ssize_t w = write(fd, buffer + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                rc = mcm_error_set(MCM_EIO, "cannot write %s: %s", params->image_path, strerror(errno));
                goto done;
            }
            off += (int)w;
        }
        written += (uint64_t)n;
    }
    if (fsync(fd) != 0) {
        rc = mcm_error_set(MCM_EIO, "cannot sync %s: %s", params->image_path, strerror(errno));
        goto done;
    }
    /* Clean pages can now be dropped: the read-back then reads what the device holds. */
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    unsigned char digest[MCM_SHA256_SIZE];
    mcm_sha256_final(&hash, digest);
    mcm_sha256_hex(digest, image_sha256);
    *size = written;

done:
    if (fd >= 0 && close(fd) != 0 && rc == MCM_OK)
        rc = mcm_error_set(MCM_EIO, "cannot write %s: %s", params->image_path, strerror(errno));
    if (rc != MCM_OK && fd >= 0)
        unlink(params->image_path);
    free(buffer);
    if (source != NULL) {
        if (rc != MCM_OK && source->cancel != NULL)
            source->cancel(source);
        source->free_data(source);
        free(source);
    }
    if (opts != NULL)
        iso_write_opts_free(opts);
    if (image != NULL)
        iso_image_unref(image);
    return rc;
}

/* ---- reading back ---- */

static int hash_image_file(const char *path, uint64_t size, const char *expected, mcm_iso_stop_fn stop, void *user)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mcm_error_set(MCM_EIO, "read-back: cannot open %s: %s", path, strerror(errno));
    enum { CHUNK = 1 << 20 };
    unsigned char *buffer = malloc(CHUNK);
    if (buffer == NULL) {
        close(fd);
        return mcm_error_set(MCM_ENOMEM, "out of memory reading %s back", path);
    }
    mcm_sha256 hash;
    mcm_sha256_init(&hash);
    uint64_t total = 0;
    int rc = MCM_OK;
    for (;;) {
        if (stop != NULL && stop(user)) {
            rc = mcm_error_set(MCM_ECANCELED, "reading %s back was stopped", path);
            break;
        }
        ssize_t n = read(fd, buffer, CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = mcm_error_set(MCM_EIO, "read-back: cannot read %s: %s", path, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        mcm_sha256_update(&hash, buffer, (size_t)n);
        total += (uint64_t)n;
    }
    free(buffer);
    close(fd);
    if (rc != MCM_OK)
        return rc;
    unsigned char digest[MCM_SHA256_SIZE];
    char hex[MCM_SHA256_HEX];
    mcm_sha256_final(&hash, digest);
    mcm_sha256_hex(digest, hex);
    if (total != size)
        return mcm_error_set(MCM_EIO, "read-back: %s has %llu bytes, %llu were written", path, (unsigned long long)total,
                        (unsigned long long)size);
    if (strcmp(hex, expected) != 0)
        return mcm_error_set(MCM_EIO, "read-back: %s differs from what was written (SHA-256 %.16s..., expected %.16s...)",
                        path, hex, expected);
    return MCM_OK;
}

typedef enum { TREE_ROCK_RIDGE, TREE_JOLIET, TREE_ECMA119 } tree_kind;

static const char *tree_name(tree_kind tree)
{
    return tree == TREE_ROCK_RIDGE ? "Rock Ridge" : tree == TREE_JOLIET ? "Joliet" : "ISO 9660";
}

static int import_tree(const char *path, tree_kind tree, IsoImage **out)
{
    IsoImage *image = NULL;
    IsoDataSource *source = NULL;
    IsoReadOpts *opts = NULL;
    IsoReadImageFeatures *features = NULL;
    int rc = MCM_OK, r;
    if ((r = iso_image_new("VERIFY", &image)) < 0) {
        rc = iso_failure(MCM_ENOMEM, r, "read-back: cannot create an image");
        goto done;
    }
    if ((r = iso_data_source_new_from_file(path, &source)) < 0) {
        rc = iso_failure(MCM_EIO, r, "read-back: cannot open the image");
        goto done;
    }
    if ((r = iso_read_opts_new(&opts, 0)) < 0) {
        rc = iso_failure(MCM_ENOMEM, r, "read-back: cannot create read options");
        goto done;
    }
    iso_read_opts_set_no_iso1999(opts, 1);
    if (tree != TREE_ROCK_RIDGE)
        iso_read_opts_set_no_rockridge(opts, 1);
    if (tree == TREE_ECMA119) {
        iso_read_opts_set_no_joliet(opts, 1);
        iso_read_opts_set_ecma119_map(opts, 1); /* strip ".;1" */
    } else if (tree == TREE_JOLIET) {
        iso_read_opts_set_preferjoliet(opts, 1);
        iso_read_opts_set_joliet_map(opts, 1);
    }
    if ((r = iso_image_import(image, source, opts, &features)) < 0) {
        rc = iso_failure(MCM_EIO, r, "read-back: the image does not parse");
        goto done;
    }
    if (tree == TREE_ROCK_RIDGE && !iso_read_image_features_has_rockridge(features))
        rc = mcm_error_set(MCM_EIO, "read-back: the image has no Rock Ridge tree");
    if (tree == TREE_JOLIET && !iso_read_image_features_has_joliet(features))
        rc = mcm_error_set(MCM_EIO, "read-back: the image has no Joliet tree");
done:
    if (features != NULL)
        iso_read_image_features_destroy(features);
    if (opts != NULL)
        iso_read_opts_free(opts);
    if (source != NULL)
        iso_data_source_unref(source);
    if (rc != MCM_OK && image != NULL) {
        iso_image_unref(image);
        image = NULL;
    }
    *out = image;
    return rc;
}

static int count_files(IsoDir *dir, size_t *count)
{
    IsoDirIter *iter;
    int r = iso_dir_get_children(dir, &iter);
    if (r < 0)
        return iso_failure(MCM_EIO, r, "read-back: cannot list a directory");
    IsoNode *node;
    int rc = MCM_OK;
    while (rc == MCM_OK && iso_dir_iter_next(iter, &node) == 1) {
        if (ISO_NODE_IS_DIR(node))
            rc = count_files((IsoDir *)node, count);
        else
            (*count)++;
    }
    iso_dir_iter_free(iter);
    return rc;
}

static int hash_node(IsoNode *node, char hex[MCM_SHA256_HEX], mcm_iso_stop_fn stop, void *user)
{
    IsoStream *stream = iso_file_get_stream((IsoFile *)node);
    int r = iso_stream_open(stream);
    if (r < 0)
        return iso_failure(MCM_EIO, r, "read-back: cannot open a file of the image");
    enum { CHUNK = 1 << 16 };
    unsigned char *buffer = malloc(CHUNK);
    if (buffer == NULL) {
        iso_stream_close(stream);
        return mcm_error_set(MCM_ENOMEM, "out of memory reading an image back");
    }
    mcm_sha256 hash;
    mcm_sha256_init(&hash);
    int rc = MCM_OK;
    for (;;) {
        if (stop != NULL && stop(user)) {
            rc = mcm_error_set(MCM_ECANCELED, "read-back was stopped");
            break;
        }
        int n = iso_stream_read(stream, buffer, CHUNK);
        if (n < 0) {
            rc = iso_failure(MCM_EIO, n, "read-back: cannot read a file of the image");
            break;
        }
        if (n == 0)
            break;
        mcm_sha256_update(&hash, buffer, (size_t)n);
    }
    iso_stream_close(stream);
    free(buffer);
    unsigned char digest[MCM_SHA256_SIZE];
    mcm_sha256_final(&hash, digest);
    mcm_sha256_hex(digest, hex);
    return rc;
}

static int check_tree(const char *image_path, tree_kind tree, const mcm_iso_expect *files, size_t count,
                      mcm_iso_stop_fn stop, void *user)
{
    IsoImage *image;
    int rc = import_tree(image_path, tree, &image);
    if (rc != MCM_OK)
        return rc;
    size_t present = 0;
    if (tree == TREE_ROCK_RIDGE) {
        rc = count_files(iso_image_get_root(image), &present);
        if (rc == MCM_OK && present != count)
            rc = mcm_error_set(MCM_EIO, "read-back: the image holds %zu files, %zu were staged", present, count);
    }
    for (size_t i = 0; rc == MCM_OK && i < count; i++) {
        if (tree != TREE_ROCK_RIDGE && !files[i].in_every_tree)
            continue;
        char path[MCM_PATH_MAX];
        if ((rc = mcm_fs_path(path, "/%s", files[i].path)) != MCM_OK)
            break;
        IsoNode *node = NULL;
        if (iso_tree_path_to_node(image, path, &node) != 1 || node == NULL || !ISO_NODE_IS_FILE(node)) {
            rc = mcm_error_set(MCM_EIO, "read-back: %s is missing from the %s tree", files[i].path, tree_name(tree));
            break;
        }
        if (tree == TREE_ROCK_RIDGE) {
            char hex[MCM_SHA256_HEX];
            if ((rc = hash_node(node, hex, stop, user)) != MCM_OK)
                break;
            if (strcmp(hex, files[i].sha256) != 0)
                rc = mcm_error_set(MCM_EIO, "read-back: %s in the image differs from the staged file", files[i].path);
        }
    }
    iso_image_unref(image);
    return rc;
}

int mcm_iso_verify(const char *image_path, uint64_t size, const char *image_sha256, const mcm_iso_expect *files,
                   size_t count, mcm_iso_stop_fn stop, void *stop_user)
{
    int rc = hash_image_file(image_path, size, image_sha256, stop, stop_user);
    pthread_mutex_lock(&iso_work_lock);
    if (rc == MCM_OK)
        rc = check_tree(image_path, TREE_ROCK_RIDGE, files, count, stop, stop_user);
    if (rc == MCM_OK)
        rc = check_tree(image_path, TREE_JOLIET, files, count, stop, stop_user);
    if (rc == MCM_OK)
        rc = check_tree(image_path, TREE_ECMA119, files, count, stop, stop_user);
    pthread_mutex_unlock(&iso_work_lock);
    return rc;
}
