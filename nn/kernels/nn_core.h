/* nn_core.h — the base of the library's lowest layer (nn/kernels/): errors,
 * the thread count and parallel loops, random numbers and He initialization.
 * Implemented by core.c. Part of the nn library; include nn.h for all of it. */
#ifndef NN_CORE_H
#define NN_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A tensor shape, NCHW. */
typedef struct {
    int N, C, H, W;
} nn_shape;

static inline size_t nn_shape_numel(nn_shape s) {
    return (size_t)s.N * (size_t)s.C * (size_t)s.H * (size_t)s.W;
}

typedef enum {
    NN_OK = 0,
    NN_ERR_NOMEM,     /* an allocation failed */
    NN_ERR_IO,        /* open/read/write/rename failed */
    NN_ERR_FORMAT,    /* a file is malformed, truncated or fails its checksum */
    NN_ERR_INVALID,   /* a parameter or a shape is out of range */
    NN_ERR_CANCELLED, /* the caller's cancel flag was raised */
} nn_status;

typedef struct {
    nn_status status;
    char msg[512];
} nn_error;

/* Sets err (when not NULL) and returns status. printf-style message. */
nn_status nn_set_error(nn_error *err, nn_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *nn_status_name(nn_status status);
/* Text from a file made safe to print in a message: control characters as
 * \xNN, cut with "..." to fit cap bytes (before a UTF-8 character that
 * would not fit whole). Returns buf. */
const char *nn_escape(const char *s, char *buf, size_t cap);

/* Sets the number of threads used by OpenBLAS and by the library's own
 * parallel loops (n < 1 means "all cores"). */
#define NN_MAX_THREADS 256
void nn_set_threads(int n);
int nn_get_threads(void);
/* What each thread's first call into OpenBLAS maps for its buffers. */
#define NN_BLAS_BUFFER_BYTES (128 << 20)
/* NN_ERR_NOMEM (with a message saying what to do) when the address space
 * left (ulimit -v) cannot hold OpenBLAS's buffers for every thread: Debian's
 * OpenBLAS 0.3.21 would retry the mapping forever. Every forward pass checks
 * it until one has succeeded with as many threads (nn_blas_buffers_mapped):
 * OpenBLAS then reuses its buffers. */
nn_status nn_blas_address_space_check(nn_error *err);
void nn_blas_buffers_mapped(void);
/* Runs fn(ctx, begin, end) over [0, n) split into contiguous ranges, one per
 * thread. The split depends only on n and the thread count (deterministic). */
typedef void (*nn_range_fn)(void *ctx, int begin, int end);
void nn_parallel_for(int n, nn_range_fn fn, void *ctx);

typedef struct {
    uint64_t s[4];
} nn_rng;

void nn_rng_seed(nn_rng *rng, uint64_t seed);
uint64_t nn_rng_u64(nn_rng *rng);
/* uniform in [0, 1) */
float nn_rng_uniform(nn_rng *rng);
/* uniform integer in [0, n) */
uint32_t nn_rng_below(nn_rng *rng, uint32_t n);
/* standard normal (Box–Muller) */
float nn_rng_normal(nn_rng *rng);
/* He (Kaiming normal, fan-in) initialization: std = sqrt(2 / fan_in). */
void nn_init_he_normal(float *w, size_t n, int fan_in, nn_rng *rng);

#ifdef __cplusplus
}
#endif
#endif
