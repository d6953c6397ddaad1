/* nn_file_atomic.h — writing a file so that it is either wholly new or
 * untouched (file_atomic.c): the weights file, the trainer's checkpoints
 * and caches. Part of the nn library; include nn.h for all of it. */
#ifndef NN_FILE_ATOMIC_H
#define NN_FILE_ATOMIC_H

#include <stddef.h>

#include "nn_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The temporary file beside the target: PATH + this, the X's made unique. */
#define NN_ATOMIC_TMP_SUFFIX ".tmp-XXXXXX"
/* Writes data to path atomically: a unique temporary file beside it
 * (O_EXCL: an existing file or link of that name is never followed),
 * fsync, rename. On failure the temporary file is removed, the target is
 * untouched, and NN_ERR_IO names the path and the cause. */
nn_status nn_write_file_atomic(const char *path, const void *data, size_t n, nn_error *err);
/* One piece of a file written from several buffers. */
typedef struct {
    const void *data;
    size_t n;
} nn_file_part;
/* nn_write_file_atomic for a file made of nparts pieces, in order (no copy
 * of the whole: a photo cache of many gigabytes is written as it lies). */
nn_status nn_write_file_atomic_parts(const char *path, const nn_file_part *parts, size_t nparts, nn_error *err);

#ifdef __cplusplus
}
#endif
#endif
