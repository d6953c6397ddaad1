/* nn_internal.h — helpers shared by the library's own files, not part of
 * its API: the CPU's features, the vectorizable softmax exponential and
 * the AVX2 clone attribute for the pixel loops. */
#ifndef NN_INTERNAL_H
#define NN_INTERNAL_H

#include <stdint.h>

#include "nn_core.h"
#include "nn_layers.h"

/* The CPU's features alone (nn_cpu_get_info adds the kernels in use); the
 * second, read once and kept, for the hot paths that ask on every call. */
void nn_cpu_features(nn_cpu_info *info);
const nn_cpu_info *nn_cpu_features_once(void);

/* The Winograd F(2×2, 3×3) transforms in AVX-512 (winograd_x86.c), for
 * rows of w = 4, 8, 16 or 32 floats where the CPU has it: the input
 * transform of n consecutive rows of tiles (rows[r]: the four input rows
 * of tile row r, a row of zeros outside the image) into o, the tiles one
 * after the other, position planes `plane` apart; the output transform of
 * n rows of tiles from m (laid out the same) plus bias, the epilogue
 * applied, into each tile row's two output rows dst[r] (dst[r][1] NULL
 * past the image). The same bits as conv.c's loops. */
int nn_winograd_avx512_serves(int w);
/* The weight gradient's dM = A dY Aᵀ of n rows of tiles, laid out as
 * above: rows[r] are dY's two rows of tile row r (NULL past the image). */
void nn_winograd_grad_output_avx512(const float *const (*rows)[2], int n, int w, float *m, size_t plane);
/* F(4×4, 3×3) in AVX-512 for rows of w = 4, 8, 16 or 32 floats, laid out
 * as above with 36 position planes: rows[r] are the six input rows of
 * tile row r, dst[r] its four output rows (NULL past the image); scratch:
 * 36 × 16 floats, 64-byte aligned. There is no portable F(4×4, 3×3): it
 * runs where these do. */
void nn_winograd4_input_avx512(const float *const (*rows)[6], int n, int w, float *o, size_t plane, float *scratch);
void nn_winograd4_output_avx512(const float *m, size_t plane, int n, int w, float bias, nn_epilogue ep,
                                float *const (*dst)[4]);
/* Whether the AVX-512 transforms may run (default yes): for the tests
 * that compare them with the portable loops; not thread-safe. */
void nn_winograd_allow_avx512(int allowed);
void nn_winograd_input_avx512(const float *const (*rows)[4], int n, int w, float *o, size_t plane);
void nn_winograd_output_avx512(const float *m, size_t plane, int n, int w, float bias, nn_epilogue ep,
                               float *const (*dst)[2]);

/* Pixels per block of the per-pixel softmax loops. */
#define NN_PIXEL_BLOCK 256

/* The annealed mean (ab.c) of np pixels on this thread: logits (Q rows
 * `stride` apart) plus bias[q] (or none), over the temperature 1 / inv_t,
 * into a[0 .. np) and b[0 .. np). */
void nn_decode_annealed_mean_pixels(float *a, float *b, const float *logits, size_t stride, int np,
                                    const float *bin_ab, const float *bias, int Q, float inv_t);
/* 1 / T for the annealed mean, T kept at 1e-3 or more. */
static inline float nn_decode_inverse_temperature(float T) { return 1.0f / (T > 1e-3f ? T : 1e-3f); }

/* The per-bin bias of decoding at a vividness (the rebalancing weights
 * partly divided out; NULL where there is none to add, *bias_out too) and
 * its temperature; NN_ERR_NOMEM where the bias cannot be had. */
nn_status nn_vivid_decoding(const float *rebalance, int Q, float vividness, float **bias_out, float *temperature);

/* AVX2 clones chosen at run time, never inlined (clang never inlines a
 * multiversioned function and refuses the explicit attribute). */
#if defined(__clang__)
#define NN_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define NN_VECTOR_CLONES __attribute__((noinline, target_clones("avx2", "default")))
#endif

/* e^x for the x <= 0 of a softmax, within 2 ulp of expf, written so that
 * the pixel loops vectorize (no call, no float comparison per element): x
 * is clamped at -87.3 through its bits (for negative floats a larger
 * magnitude is a larger unsigned pattern; -inf and NaN clamp too), then
 * x = r·ln2 + f with r rounded to an integer, e^f by Cephes' degree-6
 * polynomial on |f| <= ln2/2, and 2^r put into the exponent bits. Below
 * -87.3 (e^x < 1.2e-38, nothing next to the largest term, 1) it returns
 * e^-87.3. */
typedef union {
    uint32_t u;
    float f;
} float_bits;

static inline float nn_softmax_exp(float x) {
    float_bits b = {.f = x}, lowest = {.f = -87.3f};
    b.u = b.u > lowest.u ? lowest.u : b.u;
    x = b.f;
    float r = x * 1.44269504088896341f + 12582912.0f; /* round to nearest through 1.5·2^23 */
    r -= 12582912.0f;
    float f = x - r * 0.693359375f;
    f = f - r * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * f + 1.3981999507e-3f;
    p = p * f + 8.3334519073e-3f;
    p = p * f + 4.1665795894e-2f;
    p = p * f + 1.6666665459e-1f;
    p = p * f + 5.0000001201e-1f;
    p = p * f * f + f + 1.0f;
    float_bits two_r = {.u = (uint32_t)((int32_t)r + 127) << 23};
    return p * two_r.f;
}

#endif
