/* nn_internal.h — helpers shared by the library's own files in every
 * layer, not part of its API and on no include path (a file includes it as
 * "../private/nn_internal.h"): the pixel block, the AVX2 clone attribute
 * for the pixel loops and the vectorizable softmax exponential. Macros and
 * inline functions only: no .c implements it. */
#ifndef NN_INTERNAL_H
#define NN_INTERNAL_H

#include <stdint.h>

/* Pixels per block of the per-pixel softmax loops. */
#define NN_PIXEL_BLOCK 256

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
