/* file_atomic.c — the one way this project writes a file that must never be
 * seen half-written: a unique temporary file beside the target (mkstemp:
 * O_CREAT | O_EXCL, so an existing file or a symbolic link of that name is
 * never followed or overwritten), written in full, fsync'ed, then renamed
 * over the target; on any failure the temporary file is removed and the
 * target is untouched. Used by the weights saver (models and the trainer's
 * checkpoints), the trainer's photo cache (images.c), its plots and sample
 * grids (plot.c) and colorize's outputs (colorize.c). */
#include "nn_file_atomic.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writes n bytes in full, retrying short writes; 0 or the errno. */
static int write_all(int fd, const char *data, size_t n) {
    for (size_t done = 0; done < n;) {
        ssize_t k = write(fd, data + done, n - done);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return errno;
        done += (size_t)k;
    }
    return 0;
}

nn_status nn_write_file_atomic_parts(const char *path, const nn_file_part *parts, size_t nparts, nn_error *err) {
    const size_t len = strlen(path);
    char *tmp = malloc(len + sizeof NN_ATOMIC_TMP_SUFFIX);
    if (!tmp) return nn_set_error(err, NN_ERR_NOMEM, "%s: out of memory", path);
    memcpy(tmp, path, len);
    memcpy(tmp + len, NN_ATOMIC_TMP_SUFFIX, sizeof NN_ATOMIC_TMP_SUFFIX);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        nn_set_error(err, NN_ERR_IO, "%s: cannot create a temporary file beside it: %s", path, strerror(errno));
        free(tmp);
        return NN_ERR_IO;
    }
    int e = fchmod(fd, 0644) != 0 ? errno : 0; /* mkstemp makes 0600; umask() would race with other threads */
    for (size_t i = 0; !e && i < nparts; i++) e = write_all(fd, parts[i].data, parts[i].n);
    if (!e && fsync(fd) != 0) e = errno;
    if (close(fd) != 0 && !e) e = errno;
    if (!e && rename(tmp, path) != 0) e = errno;
    if (e) {
        unlink(tmp);
        nn_set_error(err, NN_ERR_IO, "%s: write failed: %s (the previous file is untouched)", path, strerror(e));
    }
    free(tmp);
    return e ? NN_ERR_IO : NN_OK;
}

nn_status nn_write_file_atomic(const char *path, const void *data, size_t n, nn_error *err) {
    const nn_file_part whole = {data, n};
    return nn_write_file_atomic_parts(path, &whole, 1, err);
}
