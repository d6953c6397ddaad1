/* weights.c — the weights file (see FORMAT.md): typed metadata, a tensor
 * directory with aligned float32 data and a CRC-32 trailer. Saving is atomic;
 * loading validates every field against the file size and sane limits before
 * it allocates anything. */
#include "nn_weights.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn_file_atomic.h"

#define MAGIC "CLZW"
#define FORMAT_VERSION 1u
#define ALIGNMENT 32u
#define HEADER_BYTES 48u
#define MAX_FILE_BYTES (1ull << 30)
#define MAX_ENTRIES 4096u
#define MAX_NAME_BYTES 256u
#define MAX_DIM (1ull << 24)

/* --------------------------------------------------------------- CRC-32 */

uint32_t nn_crc32(uint32_t crc, const void *data, size_t n) {
    static uint32_t table[256];
    static int ready;
    if (!ready) { /* idempotent: concurrent first calls write the same values */
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

/* ------------------------------------------------------ in-memory model */

void nn_weights_init(nn_weights *w) { memset(w, 0, sizeof *w); }

static void meta_clear(nn_meta *m) {
    free(m->key);
    free(m->str);
    free(m->array);
}

void nn_weights_free(nn_weights *w) {
    for (size_t i = 0; i < w->n_meta; i++) meta_clear(&w->meta[i]);
    for (size_t i = 0; i < w->n_tensors; i++) {
        free(w->tensors[i].name);
        free(w->tensors[i].data);
    }
    free(w->meta);
    free(w->tensors);
    nn_weights_init(w);
}

static char *dup_bytes(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

/* Returns the slot for key (replacing an existing entry's value). */
static nn_meta *meta_slot(nn_weights *w, const char *key) {
    for (size_t i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta[i].key, key) == 0) {
            free(w->meta[i].str);
            free(w->meta[i].array);
            w->meta[i].str = NULL;
            w->meta[i].array = NULL;
            return &w->meta[i];
        }
    if (w->n_meta == w->cap_meta) {
        size_t cap = w->cap_meta ? 2 * w->cap_meta : 16;
        nn_meta *m = realloc(w->meta, cap * sizeof *m);
        if (!m) return NULL;
        w->meta = m;
        w->cap_meta = cap;
    }
    nn_meta *m = &w->meta[w->n_meta];
    memset(m, 0, sizeof *m);
    m->key = dup_bytes(key, strlen(key));
    if (!m->key) return NULL;
    w->n_meta++;
    return m;
}

#define DEFINE_SCALAR_SETTER(fn, ctype, tag, field)                \
    nn_status fn(nn_weights *w, const char *key, ctype v) {        \
        nn_meta *m = meta_slot(w, key);                            \
        if (!m) return NN_ERR_NOMEM;                               \
        m->type = tag;                                             \
        m->v.field = v;                                            \
        m->count = 0;                                              \
        return NN_OK;                                              \
    }
DEFINE_SCALAR_SETTER(nn_weights_set_u32, uint32_t, NN_META_U32, u32)
DEFINE_SCALAR_SETTER(nn_weights_set_i32, int32_t, NN_META_I32, i32)
DEFINE_SCALAR_SETTER(nn_weights_set_f32, float, NN_META_F32, f32)
DEFINE_SCALAR_SETTER(nn_weights_set_u64, uint64_t, NN_META_U64, u64)
DEFINE_SCALAR_SETTER(nn_weights_set_f64, double, NN_META_F64, f64)

nn_status nn_weights_set_str(nn_weights *w, const char *key, const char *s) {
    size_t n = strlen(s);
    char *copy = dup_bytes(s, n);
    if (!copy) return NN_ERR_NOMEM;
    nn_meta *m = meta_slot(w, key);
    if (!m) {
        free(copy);
        return NN_ERR_NOMEM;
    }
    m->type = NN_META_STR;
    m->str = copy;
    m->count = n;
    return NN_OK;
}

static nn_status set_array(nn_weights *w, const char *key, nn_meta_type type,
                           const void *a, uint64_t count) {
    void *copy = malloc(count ? count * 4 : 1);
    if (!copy) return NN_ERR_NOMEM;
    if (count) memcpy(copy, a, count * 4);
    nn_meta *m = meta_slot(w, key);
    if (!m) {
        free(copy);
        return NN_ERR_NOMEM;
    }
    m->type = type;
    m->array = copy;
    m->count = count;
    return NN_OK;
}

nn_status nn_weights_set_u32_array(nn_weights *w, const char *key, const uint32_t *a,
                                   uint64_t count) {
    return set_array(w, key, NN_META_U32_ARRAY, a, count);
}

nn_status nn_weights_set_f32_array(nn_weights *w, const char *key, const float *a,
                                   uint64_t count) {
    return set_array(w, key, NN_META_F32_ARRAY, a, count);
}

const nn_meta *nn_weights_get(const nn_weights *w, const char *key) {
    for (size_t i = 0; i < w->n_meta; i++)
        if (strcmp(w->meta[i].key, key) == 0) return &w->meta[i];
    return NULL;
}

static const nn_meta *get_typed(const nn_weights *w, const char *key, nn_meta_type type,
                                nn_error *err) {
    const nn_meta *m = nn_weights_get(w, key);
    if (!m) nn_set_error(err, NN_ERR_FORMAT, "metadata key '%s' is missing", key);
    else if (m->type != type) {
        nn_set_error(err, NN_ERR_FORMAT, "metadata key '%s' has type %d, expected %d", key,
                     (int)m->type, (int)type);
        m = NULL;
    }
    return m;
}

nn_status nn_weights_get_u32(const nn_weights *w, const char *key, uint32_t *v, nn_error *err) {
    const nn_meta *m = get_typed(w, key, NN_META_U32, err);
    if (!m) return NN_ERR_FORMAT;
    *v = m->v.u32;
    return NN_OK;
}

nn_status nn_weights_get_f32(const nn_weights *w, const char *key, float *v, nn_error *err) {
    const nn_meta *m = get_typed(w, key, NN_META_F32, err);
    if (!m) return NN_ERR_FORMAT;
    *v = m->v.f32;
    return NN_OK;
}

nn_status nn_weights_get_str(const nn_weights *w, const char *key, const char **v,
                             nn_error *err) {
    const nn_meta *m = get_typed(w, key, NN_META_STR, err);
    if (!m) return NN_ERR_FORMAT;
    *v = m->str;
    return NN_OK;
}

nn_status nn_weights_get_u64(const nn_weights *w, const char *key, uint64_t *v, nn_error *err) {
    const nn_meta *m = get_typed(w, key, NN_META_U64, err);
    if (!m) return NN_ERR_FORMAT;
    *v = m->v.u64;
    return NN_OK;
}

nn_status nn_weights_get_f64(const nn_weights *w, const char *key, double *v, nn_error *err) {
    const nn_meta *m = get_typed(w, key, NN_META_F64, err);
    if (!m) return NN_ERR_FORMAT;
    *v = m->v.f64;
    return NN_OK;
}

nn_status nn_weights_get_f32_array(const nn_weights *w, const char *key, const float **a, uint64_t *count,
                                   nn_error *err) {
    const nn_meta *m = get_typed(w, key, NN_META_F32_ARRAY, err);
    if (!m) return NN_ERR_FORMAT;
    *a = m->array, *count = m->count;
    return NN_OK;
}

nn_status nn_weights_get_u32_array(const nn_weights *w, const char *key, const uint32_t **a, uint64_t *count,
                                   nn_error *err) {
    const nn_meta *m = get_typed(w, key, NN_META_U32_ARRAY, err);
    if (!m) return NN_ERR_FORMAT;
    *a = m->array, *count = m->count;
    return NN_OK;
}

nn_status nn_weights_remove_tensor(nn_weights *w, const char *name, nn_error *err) {
    for (size_t i = 0; i < w->n_tensors; i++) {
        if (strcmp(w->tensors[i].name, name) != 0) continue;
        free(w->tensors[i].name), free(w->tensors[i].data);
        memmove(&w->tensors[i], &w->tensors[i + 1], sizeof *w->tensors * (w->n_tensors - i - 1));
        w->n_tensors--;
        return NN_OK;
    }
    return nn_set_error(err, NN_ERR_FORMAT, "tensor '%s' is missing", name);
}

nn_status nn_weights_add_tensor(nn_weights *w, const char *name, uint32_t ndims,
                                const uint64_t *dims, const float *data) {
    if (ndims < 1 || ndims > NN_MAX_DIMS || strlen(name) > MAX_NAME_BYTES) return NN_ERR_INVALID;
    uint64_t numel = 1;
    for (uint32_t i = 0; i < ndims; i++) {
        if (dims[i] < 1 || dims[i] > MAX_DIM) return NN_ERR_INVALID;
        numel *= dims[i];
    }
    if (numel * 4 > MAX_FILE_BYTES) return NN_ERR_INVALID;
    if (w->n_tensors == w->cap_tensors) {
        size_t cap = w->cap_tensors ? 2 * w->cap_tensors : 32;
        nn_tensor_entry *t = realloc(w->tensors, cap * sizeof *t);
        if (!t) return NN_ERR_NOMEM;
        w->tensors = t;
        w->cap_tensors = cap;
    }
    nn_tensor_entry *t = &w->tensors[w->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = dup_bytes(name, strlen(name));
    t->data = malloc(numel * 4);
    if (!t->name || !t->data) {
        free(t->name);
        free(t->data);
        return NN_ERR_NOMEM;
    }
    t->ndims = ndims;
    memcpy(t->dims, dims, ndims * sizeof *dims);
    if (data) memcpy(t->data, data, numel * 4);
    else memset(t->data, 0, numel * 4);
    w->n_tensors++;
    return NN_OK;
}

const nn_tensor_entry *nn_weights_find_tensor(const nn_weights *w, const char *name) {
    for (size_t i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0) return &w->tensors[i];
    return NULL;
}

static uint64_t tensor_numel(const nn_tensor_entry *t) {
    uint64_t n = 1;
    for (uint32_t i = 0; i < t->ndims; i++) n *= t->dims[i];
    return n;
}

/* --------------------------------------------------------------- writing */

typedef struct {
    uint8_t *p;
    size_t len, cap;
    int failed;
} byte_buf;

static void buf_put(byte_buf *b, const void *src, size_t n) {
    if (b->failed) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (src) memcpy(b->p + b->len, src, n);
    else memset(b->p + b->len, 0, n);
    b->len += n;
}

static void put_u32(byte_buf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    buf_put(b, x, 4);
}

static void put_u64(byte_buf *b, uint64_t v) {
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_f32(byte_buf *b, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(b, u);
}

static void put_name(byte_buf *b, const char *s) {
    size_t n = strlen(s);
    put_u32(b, (uint32_t)n);
    buf_put(b, s, n);
}

static void patch_u64(byte_buf *b, size_t at, uint64_t v) {
    for (int i = 0; i < 8; i++) b->p[at + i] = (uint8_t)(v >> (8 * i));
}

static void serialize(const nn_weights *w, byte_buf *b) {
    buf_put(b, MAGIC, 4);
    put_u32(b, FORMAT_VERSION);
    put_u32(b, ALIGNMENT);
    put_u32(b, 0); /* flags */
    put_u64(b, 0); /* file size, patched below */
    put_u64(b, w->n_meta);
    put_u64(b, w->n_tensors);
    put_u64(b, 0); /* data offset, patched below */
    for (size_t i = 0; i < w->n_meta; i++) {
        const nn_meta *m = &w->meta[i];
        put_name(b, m->key);
        put_u32(b, (uint32_t)m->type);
        switch (m->type) {
        case NN_META_U32: put_u32(b, m->v.u32); break;
        case NN_META_I32: put_u32(b, (uint32_t)m->v.i32); break;
        case NN_META_F32: put_f32(b, m->v.f32); break;
        case NN_META_U64: put_u64(b, m->v.u64); break;
        case NN_META_F64: {
            uint64_t u;
            memcpy(&u, &m->v.f64, 8);
            put_u64(b, u);
            break;
        }
        case NN_META_STR:
            put_u64(b, m->count);
            buf_put(b, m->str, m->count);
            break;
        case NN_META_U32_ARRAY:
        case NN_META_F32_ARRAY:
            put_u64(b, m->count);
            for (uint64_t k = 0; k < m->count; k++) put_u32(b, ((const uint32_t *)m->array)[k]);
            break;
        }
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < w->n_tensors; i++) {
        const nn_tensor_entry *t = &w->tensors[i];
        put_name(b, t->name);
        put_u32(b, t->ndims);
        for (uint32_t d = 0; d < t->ndims; d++) put_u64(b, t->dims[d]);
        put_u32(b, 0); /* dtype: float32 */
        put_u64(b, offset);
        offset += (tensor_numel(t) * 4 + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }
    size_t data_offset = (b->len + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    buf_put(b, NULL, data_offset - b->len);
    for (size_t i = 0; i < w->n_tensors; i++) {
        const nn_tensor_entry *t = &w->tensors[i];
        uint64_t n = tensor_numel(t);
        for (uint64_t k = 0; k < n; k++) put_f32(b, t->data[k]);
        buf_put(b, NULL, (ALIGNMENT - (n * 4) % ALIGNMENT) % ALIGNMENT);
    }
    if (b->failed) return;
    patch_u64(b, 16, b->len + 4);
    patch_u64(b, 40, data_offset);
    put_u32(b, nn_crc32(0, b->p, b->len));
}

nn_status nn_weights_save(const nn_weights *w, const char *path, nn_error *err) {
    byte_buf b = {0};
    serialize(w, &b);
    if (b.failed) {
        free(b.p);
        return nn_set_error(err, NN_ERR_NOMEM, "%s: out of memory while serializing", path);
    }
    nn_status st = nn_write_file_atomic(path, b.p, b.len, err);
    free(b.p);
    return st;
}

/* --------------------------------------------------------------- reading */

typedef struct {
    const uint8_t *p;
    size_t pos, end; /* end excludes the CRC trailer */
    const char *name;
    nn_error *err;
} reader;

static int need(reader *r, uint64_t n, const char *what) {
    if (n > r->end - r->pos) {
        nn_set_error(r->err, NN_ERR_FORMAT, "%s: %s at byte %zu runs past the end of the data",
                     r->name, what, r->pos);
        return 0;
    }
    return 1;
}

static uint32_t rd_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd_u64(const uint8_t *p) { return rd_u32(p) | (uint64_t)rd_u32(p + 4) << 32; }

static int get_u32(reader *r, uint32_t *v, const char *what) {
    if (!need(r, 4, what)) return 0;
    *v = rd_u32(r->p + r->pos);
    r->pos += 4;
    return 1;
}

static int get_u64(reader *r, uint64_t *v, const char *what) {
    if (!need(r, 8, what)) return 0;
    *v = rd_u64(r->p + r->pos);
    r->pos += 8;
    return 1;
}

/* A length-prefixed name; returns its position and length without copying. */
static int get_name(reader *r, size_t *at, uint32_t *len, const char *what) {
    if (!get_u32(r, len, what)) return 0;
    if (*len == 0 || *len > MAX_NAME_BYTES) {
        nn_set_error(r->err, NN_ERR_FORMAT, "%s: %s at byte %zu has absurd length %u", r->name,
                     what, r->pos - 4, *len);
        return 0;
    }
    if (!need(r, *len, what)) return 0;
    *at = r->pos;
    for (uint32_t i = 0; i < *len; i++)
        if (r->p[r->pos + i] < 0x20 || r->p[r->pos + i] == 0x7F) {
            nn_set_error(r->err, NN_ERR_FORMAT, "%s: %s at byte %zu has a control character",
                         r->name, what, r->pos);
            return 0;
        }
    r->pos += *len;
    return 1;
}

typedef struct {
    size_t name_at;
    uint32_t name_len, ndims;
    uint64_t dims[NN_MAX_DIMS], numel, offset;
} dir_entry;

typedef struct {
    size_t key_at, value_at;
    uint32_t key_len, type;
    uint64_t count;
} meta_entry;

static int by_offset(const void *a, const void *b) {
    const dir_entry *x = *(const dir_entry *const *)a, *y = *(const dir_entry *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Tensor data ranges must not overlap: a file of aliased entries would
 * otherwise make the loader copy the same bytes many times over (with
 * disjoint ranges, what the loader allocates is bounded by the file size). */
static nn_status check_disjoint(reader *r, dir_entry *de, uint64_t n) {
    if (n < 2) return NN_OK;
    dir_entry **order = malloc(sizeof *order * n);
    if (!order) return nn_set_error(r->err, NN_ERR_NOMEM, "%s: out of memory", r->name);
    for (uint64_t i = 0; i < n; i++) order[i] = &de[i];
    qsort(order, n, sizeof *order, by_offset);
    nn_status st = NN_OK;
    for (uint64_t i = 1; i < n && st == NN_OK; i++) {
        const dir_entry *a = order[i - 1], *b = order[i];
        if (a->offset + a->numel * 4 > b->offset)
            st = nn_set_error(r->err, NN_ERR_FORMAT, "%s: the data of tensors '%.*s' and '%.*s' overlap", r->name,
                              (int)a->name_len, (const char *)r->p + a->name_at, (int)b->name_len,
                              (const char *)r->p + b->name_at);
    }
    free(order);
    return st;
}

/* Pass 1: walks the whole structure with bounds checks, allocating nothing
 * but the two index arrays, whose sizes are bounded by MAX_ENTRIES. */
/* Reads and checks metadata entry i (its type, length, value within the
 * file, no NUL in a string, a key not seen before). */
static nn_status validate_meta(reader *r, meta_entry *me, uint64_t i) {
    meta_entry *m = &me[i];
    if (!get_name(r, &m->key_at, &m->key_len, "metadata key")) return NN_ERR_FORMAT;
    if (!get_u32(r, &m->type, "metadata type")) return NN_ERR_FORMAT;
    m->count = 0;
    uint64_t bytes;
    switch (m->type) {
    case NN_META_U32: case NN_META_I32: case NN_META_F32: bytes = 4; break;
    case NN_META_U64: case NN_META_F64: bytes = 8; break;
    case NN_META_STR: case NN_META_U32_ARRAY: case NN_META_F32_ARRAY:
        if (!get_u64(r, &m->count, "metadata length")) return NN_ERR_FORMAT;
        if (m->count > NN_META_MAX_ARRAY)
            return nn_set_error(r->err, NN_ERR_FORMAT,
                                "%s: metadata '%.*s' has absurd length %llu", r->name,
                                (int)m->key_len, (const char *)r->p + m->key_at,
                                (unsigned long long)m->count);
        bytes = m->type == NN_META_STR ? m->count : m->count * 4;
        break;
    default:
        return nn_set_error(r->err, NN_ERR_FORMAT, "%s: metadata '%.*s' has unknown type %u",
                            r->name, (int)m->key_len, (const char *)r->p + m->key_at, m->type);
    }
    if (!need(r, bytes, "metadata value")) return NN_ERR_FORMAT;
    m->value_at = r->pos;
    r->pos += bytes;
    if (m->type == NN_META_STR && memchr(r->p + m->value_at, 0, bytes))
        return nn_set_error(r->err, NN_ERR_FORMAT, "%s: metadata '%.*s' holds a NUL character", r->name,
                            (int)m->key_len, (const char *)r->p + m->key_at);
    for (uint64_t k = 0; k < i; k++)
        if (me[k].key_len == m->key_len && memcmp(r->p + me[k].key_at, r->p + m->key_at, m->key_len) == 0)
            return nn_set_error(r->err, NN_ERR_FORMAT, "%s: metadata '%.*s' appears twice", r->name,
                                (int)m->key_len, (const char *)r->p + m->key_at);
    return NN_OK;
}

/* Reads and checks directory entry i (rank, dimensions, size, type, data
 * within the file and aligned, a name not seen before). */
static nn_status validate_tensor(reader *r, uint64_t data_offset, dir_entry *de, uint64_t i) {
    dir_entry *t = &de[i];
    if (!get_name(r, &t->name_at, &t->name_len, "tensor name")) return NN_ERR_FORMAT;
    if (!get_u32(r, &t->ndims, "tensor rank")) return NN_ERR_FORMAT;
    if (t->ndims < 1 || t->ndims > NN_MAX_DIMS)
        return nn_set_error(r->err, NN_ERR_FORMAT, "%s: tensor '%.*s' has absurd rank %u",
                            r->name, (int)t->name_len, (const char *)r->p + t->name_at,
                            t->ndims);
    t->numel = 1;
    for (uint32_t d = 0; d < t->ndims; d++) {
        if (!get_u64(r, &t->dims[d], "tensor dimension")) return NN_ERR_FORMAT;
        if (t->dims[d] < 1 || t->dims[d] > MAX_DIM)
            return nn_set_error(r->err, NN_ERR_FORMAT,
                                "%s: tensor '%.*s' has absurd dimension %llu", r->name,
                                (int)t->name_len, (const char *)r->p + t->name_at,
                                (unsigned long long)t->dims[d]);
        t->numel *= t->dims[d];
        if (t->numel > MAX_FILE_BYTES / 4)
            return nn_set_error(r->err, NN_ERR_FORMAT,
                                "%s: tensor '%.*s' has absurd size", r->name,
                                (int)t->name_len, (const char *)r->p + t->name_at);
    }
    uint32_t dtype;
    if (!get_u32(r, &dtype, "tensor type")) return NN_ERR_FORMAT;
    if (dtype != 0)
        return nn_set_error(r->err, NN_ERR_FORMAT, "%s: tensor '%.*s' has unknown type %u",
                            r->name, (int)t->name_len, (const char *)r->p + t->name_at, dtype);
    if (!get_u64(r, &t->offset, "tensor offset")) return NN_ERR_FORMAT;
    if (t->offset % ALIGNMENT || t->offset > r->end ||
        data_offset + t->offset + t->numel * 4 > r->end)
        return nn_set_error(r->err, NN_ERR_FORMAT,
                            "%s: tensor '%.*s' data (offset %llu, %llu bytes) lies outside "
                            "the file or is misaligned",
                            r->name, (int)t->name_len, (const char *)r->p + t->name_at,
                            (unsigned long long)t->offset,
                            (unsigned long long)(t->numel * 4));
    for (uint64_t k = 0; k < i; k++)
        if (de[k].name_len == t->name_len &&
            memcmp(r->p + de[k].name_at, r->p + t->name_at, t->name_len) == 0)
            return nn_set_error(r->err, NN_ERR_FORMAT, "%s: tensor '%.*s' appears twice",
                                r->name, (int)t->name_len, (const char *)r->p + t->name_at);
    return NN_OK;
}

/* No NaN or Inf in any tensor's data. */
static nn_status validate_values(reader *r, uint64_t n_tensors, uint64_t data_offset, const dir_entry *de) {
    for (uint64_t i = 0; i < n_tensors; i++) {
        const uint8_t *p = r->p + data_offset + de[i].offset;
        for (uint64_t k = 0; k < de[i].numel; k++) {
            uint32_t u = rd_u32(p + 4 * k);
            if ((u & 0x7F800000u) == 0x7F800000u)
                return nn_set_error(r->err, NN_ERR_FORMAT,
                                    "%s: tensor '%.*s' holds a NaN or Inf value at element %llu",
                                    r->name, (int)de[i].name_len,
                                    (const char *)r->p + de[i].name_at, (unsigned long long)k);
        }
    }
    return NN_OK;
}

static nn_status validate(reader *r, uint64_t n_meta, uint64_t n_tensors, uint64_t data_offset,
                          meta_entry *me, dir_entry *de) {
    nn_status st = NN_OK;
    for (uint64_t i = 0; i < n_meta && st == NN_OK; i++) st = validate_meta(r, me, i);
    for (uint64_t i = 0; i < n_tensors && st == NN_OK; i++) st = validate_tensor(r, data_offset, de, i);
    if (st == NN_OK) st = check_disjoint(r, de, n_tensors);
    if (st != NN_OK) return st;
    if (r->pos > data_offset)
        return nn_set_error(r->err, NN_ERR_FORMAT,
                            "%s: the directory ends at byte %zu, past the data offset %llu",
                            r->name, r->pos, (unsigned long long)data_offset);
    return validate_values(r, n_tensors, data_offset, de);
}

/* Pass 2: copies the validated entries into w. */
static nn_status build(nn_weights *w, const uint8_t *p, uint64_t n_meta, uint64_t n_tensors,
                       uint64_t data_offset, const meta_entry *me, const dir_entry *de) {
    char key[MAX_NAME_BYTES + 1];
    for (uint64_t i = 0; i < n_meta; i++) {
        const meta_entry *m = &me[i];
        memcpy(key, p + m->key_at, m->key_len);
        key[m->key_len] = 0;
        const uint8_t *v = p + m->value_at;
        nn_status st = NN_OK;
        switch (m->type) {
        case NN_META_U32: st = nn_weights_set_u32(w, key, rd_u32(v)); break;
        case NN_META_I32: st = nn_weights_set_i32(w, key, (int32_t)rd_u32(v)); break;
        case NN_META_F32: {
            uint32_t u = rd_u32(v);
            float f;
            memcpy(&f, &u, 4);
            st = nn_weights_set_f32(w, key, f);
            break;
        }
        case NN_META_U64: st = nn_weights_set_u64(w, key, rd_u64(v)); break;
        case NN_META_F64: {
            uint64_t u = rd_u64(v);
            double f;
            memcpy(&f, &u, 8);
            st = nn_weights_set_f64(w, key, f);
            break;
        }
        case NN_META_STR: {
            char *s = dup_bytes((const char *)v, m->count);
            if (!s) return NN_ERR_NOMEM;
            st = nn_weights_set_str(w, key, s);
            free(s);
            break;
        }
        default: {
            uint32_t *a = malloc(m->count ? m->count * 4 : 1);
            if (!a) return NN_ERR_NOMEM;
            for (uint64_t k = 0; k < m->count; k++) a[k] = rd_u32(v + 4 * k);
            st = set_array(w, key, (nn_meta_type)m->type, a, m->count);
            free(a);
        }
        }
        if (st != NN_OK) return st;
    }
    for (uint64_t i = 0; i < n_tensors; i++) {
        memcpy(key, p + de[i].name_at, de[i].name_len);
        key[de[i].name_len] = 0;
        nn_status st = nn_weights_add_tensor(w, key, de[i].ndims, de[i].dims, NULL);
        if (st != NN_OK) return st;
        float *dst = w->tensors[w->n_tensors - 1].data;
        const uint8_t *src = p + data_offset + de[i].offset;
        for (uint64_t k = 0; k < de[i].numel; k++) {
            uint32_t u = rd_u32(src + 4 * k);
            memcpy(&dst[k], &u, 4);
        }
    }
    return NN_OK;
}

nn_status nn_weights_parse(nn_weights *w, const uint8_t *bytes, size_t size, const char *name,
                           nn_error *err) {
    nn_weights_init(w);
    if (size < 4 || memcmp(bytes, MAGIC, 4) != 0) {
        if (size < 4 && memcmp(bytes, MAGIC, size) == 0)
            return nn_set_error(err, NN_ERR_FORMAT, "%s: truncated: %zu bytes, too short for a header",
                                name, size);
        return nn_set_error(err, NN_ERR_FORMAT,
                            "%s: not a colorizer weights file (wrong magic number)", name);
    }
    if (size < HEADER_BYTES + 4)
        return nn_set_error(err, NN_ERR_FORMAT,
                            "%s: truncated: %zu bytes, a header and checksum need %u", name, size,
                            HEADER_BYTES + 4);
    uint32_t version = rd_u32(bytes + 4);
    if (version != FORMAT_VERSION)
        return nn_set_error(err, NN_ERR_FORMAT,
                            "%s: unsupported format version %u (this build reads version %u)",
                            name, version, FORMAT_VERSION);
    uint32_t alignment = rd_u32(bytes + 8);
    uint64_t file_size = rd_u64(bytes + 16), n_meta = rd_u64(bytes + 24),
             n_tensors = rd_u64(bytes + 32), data_offset = rd_u64(bytes + 40);
    if (file_size > size)
        return nn_set_error(err, NN_ERR_FORMAT,
                            "%s: truncated: the header promises %llu bytes, the file has %zu",
                            name, (unsigned long long)file_size, size);
    if (file_size < size)
        return nn_set_error(err, NN_ERR_FORMAT,
                            "%s: %zu unexpected bytes after the end of the data", name,
                            size - (size_t)file_size);
    uint32_t stored = rd_u32(bytes + size - 4), computed = nn_crc32(0, bytes, size - 4);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    stored = computed; /* the fuzz build only: let mutated files reach the checks behind the checksum */
#endif
    if (stored != computed)
        return nn_set_error(err, NN_ERR_FORMAT,
                            "%s: checksum mismatch (stored %08x, computed %08x): the file is corrupt",
                            name, stored, computed);
    if (alignment != ALIGNMENT || data_offset % ALIGNMENT || data_offset > size - 4)
        return nn_set_error(err, NN_ERR_FORMAT, "%s: bad alignment %u or data offset %llu", name,
                            alignment, (unsigned long long)data_offset);
    if (n_meta > MAX_ENTRIES || n_tensors > MAX_ENTRIES)
        return nn_set_error(err, NN_ERR_FORMAT,
                            "%s: absurd counts: %llu metadata entries, %llu tensors", name,
                            (unsigned long long)n_meta, (unsigned long long)n_tensors);
    meta_entry *me = calloc(n_meta ? n_meta : 1, sizeof *me);
    dir_entry *de = calloc(n_tensors ? n_tensors : 1, sizeof *de);
    nn_status st;
    if (!me || !de) st = nn_set_error(err, NN_ERR_NOMEM, "%s: out of memory", name);
    else {
        reader r = {bytes, HEADER_BYTES, size - 4, name, err};
        st = validate(&r, n_meta, n_tensors, data_offset, me, de);
        if (st == NN_OK) {
            st = build(w, bytes, n_meta, n_tensors, data_offset, me, de);
            if (st != NN_OK) nn_set_error(err, st, "%s: out of memory while loading", name);
        }
    }
    free(me);
    free(de);
    if (st != NN_OK) nn_weights_free(w);
    return st;
}

nn_status nn_weights_load(nn_weights *w, const char *path, nn_error *err) {
    nn_weights_init(w);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return nn_set_error(err, NN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return nn_set_error(err, NN_ERR_IO, "%s: not a regular file", path);
    }
    if ((unsigned long long)st.st_size > MAX_FILE_BYTES) {
        close(fd);
        return nn_set_error(err, NN_ERR_FORMAT, "%s: absurd size (%lld bytes)", path,
                            (long long)st.st_size);
    }
    size_t size = (size_t)st.st_size;
    uint8_t *bytes = malloc(size ? size : 1);
    if (!bytes) {
        close(fd);
        return nn_set_error(err, NN_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t done = 0;
    while (done < size) {
        ssize_t k = read(fd, bytes + done, size - done);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        done += (size_t)k;
    }
    close(fd);
    nn_status s = done == size
                      ? nn_weights_parse(w, bytes, size, path, err)
                      : nn_set_error(err, NN_ERR_IO, "%s: read failed after %zu of %zu bytes",
                                     path, done, size);
    free(bytes);
    return s;
}
