/* nn_winograd_x86.h — the Winograd transforms in AVX-512
 * (winograd_x86.c), used by winograd.c where the CPU has it, and the switch
 * the tests use to compare them with the portable loops. Part of the nn
 * library's kernels; not in nn.h. */
#ifndef NN_WINOGRAD_X86_H
#define NN_WINOGRAD_X86_H

#include <stddef.h>

#include "nn_epilogue.h"

#ifdef __cplusplus
extern "C" {
#endif

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

#ifdef __cplusplus
}
#endif
#endif
