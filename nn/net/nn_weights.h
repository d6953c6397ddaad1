/* nn_weights.h — the weights file: a versioned, self-describing container of
 * metadata and tensors (spec: FORMAT.md). Implemented by weights.c. Part of
 * the nn library; include nn.h for all of it. */
#ifndef NN_WEIGHTS_H
#define NN_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "nn_core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    NN_META_U32 = 1,
    NN_META_I32 = 2,
    NN_META_F32 = 3,
    NN_META_U64 = 4,
    NN_META_F64 = 5,
    NN_META_STR = 6,
    NN_META_U32_ARRAY = 7,
    NN_META_F32_ARRAY = 8,
} nn_meta_type;

typedef struct {
    char *key;
    nn_meta_type type;
    union {
        uint32_t u32;
        int32_t i32;
        float f32;
        uint64_t u64;
        double f64;
    } v;
    char *str;      /* NN_META_STR */
    void *array;    /* NN_META_*_ARRAY */
    uint64_t count; /* array elements, or string bytes */
} nn_meta;

#define NN_MAX_DIMS 4
/* The longest metadata string or array the loader reads (a writer must stay within it). */
#define NN_META_MAX_ARRAY (1u << 24)

typedef struct {
    char *name;
    uint32_t ndims;
    uint64_t dims[NN_MAX_DIMS];
    float *data; /* owned copy */
} nn_tensor_entry;

/* The in-memory form of a weights file: typed metadata plus named tensors. */
typedef struct {
    nn_meta *meta;
    size_t n_meta, cap_meta;
    nn_tensor_entry *tensors;
    size_t n_tensors, cap_tensors;
} nn_weights;

void nn_weights_init(nn_weights *w);
void nn_weights_free(nn_weights *w);
/* Setters replace an existing key. They copy their arguments. */
nn_status nn_weights_set_u32(nn_weights *w, const char *key, uint32_t v);
nn_status nn_weights_set_i32(nn_weights *w, const char *key, int32_t v);
nn_status nn_weights_set_f32(nn_weights *w, const char *key, float v);
nn_status nn_weights_set_u64(nn_weights *w, const char *key, uint64_t v);
nn_status nn_weights_set_f64(nn_weights *w, const char *key, double v);
nn_status nn_weights_set_str(nn_weights *w, const char *key, const char *s);
nn_status nn_weights_set_u32_array(nn_weights *w, const char *key,
                                   const uint32_t *a, uint64_t count);
nn_status nn_weights_set_f32_array(nn_weights *w, const char *key,
                                   const float *a, uint64_t count);
const nn_meta *nn_weights_get(const nn_weights *w, const char *key);
/* Typed getters: return NN_ERR_FORMAT (with a message naming the key) when
 * the key is missing or of another type. */
nn_status nn_weights_get_u32(const nn_weights *w, const char *key, uint32_t *v, nn_error *err);
nn_status nn_weights_get_f32(const nn_weights *w, const char *key, float *v, nn_error *err);
nn_status nn_weights_get_str(const nn_weights *w, const char *key, const char **v, nn_error *err);
nn_status nn_weights_get_u64(const nn_weights *w, const char *key, uint64_t *v, nn_error *err);
nn_status nn_weights_get_f64(const nn_weights *w, const char *key, double *v, nn_error *err);
/* The array itself (owned by w) and its length. */
nn_status nn_weights_get_f32_array(const nn_weights *w, const char *key, const float **a, uint64_t *count,
                                   nn_error *err);
nn_status nn_weights_get_u32_array(const nn_weights *w, const char *key, const uint32_t **a, uint64_t *count,
                                   nn_error *err);
/* Removes (and frees) the tensor `name`; NN_ERR_FORMAT when there is none. */
nn_status nn_weights_remove_tensor(nn_weights *w, const char *name, nn_error *err);
nn_status nn_weights_add_tensor(nn_weights *w, const char *name, uint32_t ndims,
                                const uint64_t *dims, const float *data);
const nn_tensor_entry *nn_weights_find_tensor(const nn_weights *w, const char *name);

/* Writes atomically: a temporary file in the same folder, fsync, rename. */
nn_status nn_weights_save(const nn_weights *w, const char *path, nn_error *err);
/* Validates every field against the file size and sane limits before it
 * allocates, verifies the CRC-32 and rejects NaN/Inf tensor values. On error
 * w is left empty. */
nn_status nn_weights_load(nn_weights *w, const char *path, nn_error *err);
/* The same, from memory (`name` is used in messages). */
nn_status nn_weights_parse(nn_weights *w, const uint8_t *bytes, size_t size,
                           const char *name, nn_error *err);

/* CRC-32 (IEEE 802.3, as zlib's crc32). Start with crc = 0. */
uint32_t nn_crc32(uint32_t crc, const void *data, size_t n);

#ifdef __cplusplus
}
#endif
#endif
