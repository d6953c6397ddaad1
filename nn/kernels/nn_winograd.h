/* nn_winograd.h — Winograd F(2×2, 3×3) and F(4×4, 3×3) for the 3×3
 * stride-1 pad-1 convolutions (winograd.c): forward, input and weight
 * gradients, weights transformed and packed once. Part of the nn library;
 * include nn.h for all of it. */
#ifndef NN_WINOGRAD_H
#define NN_WINOGRAD_H

#include <stddef.h>

#include "nn_conv.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Winograd F(2×2, 3×3) for 3×3 stride-1 pad-1 convolutions
 * (nn_conv2d_winograd_applies), in inference and in training (the forward
 * pass, the input gradient through the transposed U, and the weight
 * gradient below): U, the transformed weights, is computed
 * once (nn_conv2d_winograd_weights); the forward pass then runs the tiles
 * in blocks that stay in cache (input transform, 16 GEMMs, output
 * transform), on buffers of its own: it does not use the workspace (only
 * its precision). Same result as nn_conv2d_forward to float rounding. */
/* F(2×2, 3×3) works on 4×4 tiles: 16 positions of the transformed domain,
 * each its own product. */
#define NN_WINOGRAD_POSITIONS 16
int nn_conv2d_winograd_applies(nn_conv2d_dims d);
size_t nn_conv2d_winograd_weight_floats(nn_conv2d_dims d);
void nn_conv2d_winograd_weights(float *U,            // (16, c_out, c_in)
                                const float *weight, // (c_out, c_in, 3, 3)
                                nn_conv2d_dims d);
/* U for the input gradient: dx = nn_conv2d_forward_winograd(dout, Uᵀ) with
 * dims {c_out, c_in, 3, 1, 1, 1} (kernels flipped, channels swapped). */
void nn_conv2d_winograd_weights_transposed(float *U,            // (16, c_in, c_out)
                                           const float *weight, // (c_out, c_in, 3, 3)
                                           nn_conv2d_dims d);
nn_status nn_conv2d_forward_winograd(float *out,        // (N, c_out, H, W)
                                     const float *in,   // (N, c_in, H, W)
                                     const float *U,    // (16, c_out, c_in)
                                     const float *bias, // (c_out) or NULL
                                     nn_shape in_shape, nn_conv2d_dims d, nn_workspace ws);
nn_status nn_conv2d_forward_winograd_ep(float *out, const float *in, const float *U, const float *bias,
                                        nn_shape in_shape, nn_conv2d_dims d, nn_workspace ws, nn_epilogue ep);
/* U's 16 positions packed once for the GEMM kernel at a precision (U
 * must outlive them), and the forward pass from them. */
nn_status nn_conv2d_winograd_pack(nn_gemm_packed_a *packed[NN_WINOGRAD_POSITIONS], const float *U, nn_conv2d_dims d,
                                  nn_precision precision);
void nn_conv2d_winograd_packed_free(nn_gemm_packed_a *packed[NN_WINOGRAD_POSITIONS]);
nn_status nn_conv2d_forward_winograd_packed_ep(float *out, const float *in, const nn_gemm_packed_a *const packed[NN_WINOGRAD_POSITIONS],
                                               const float *bias, nn_shape in_shape, nn_conv2d_dims d,
                                               nn_epilogue ep);
/* The same over an input given as two tensors, concatenated along the
 * channels without a copy: its first c_first channels from in (N,
 * c_first, H, W), the other in_shape.C - c_first from in_rest. */
nn_status nn_conv2d_forward_winograd_packed_cat_ep(float *out, const float *in, int c_first, const float *in_rest,
                                                   const nn_gemm_packed_a *const packed[NN_WINOGRAD_POSITIONS],
                                                   const float *bias, nn_shape in_shape, nn_conv2d_dims d,
                                                   nn_epilogue ep);
/* Winograd F(4×4, 3×3): 36 positions, 36 products for 16 outputs (F(2×2,
 * 3×3): 64), for fp32 inference only, and only where the CPU runs its
 * AVX-512 transforms on rows of w = 4, 8, 16 or 32 pixels (applies says
 * so). U: nn_conv2d_winograd4_weight_floats(d) floats. */
#define NN_WINOGRAD4_POSITIONS 36
int nn_conv2d_winograd4_applies(nn_conv2d_dims d, int w);
size_t nn_conv2d_winograd4_weight_floats(nn_conv2d_dims d);
void nn_conv2d_winograd4_weights(float *U,            // (36, c_out, c_in)
                                 const float *weight, // (c_out, c_in, 3, 3)
                                 nn_conv2d_dims d);
/* U for the input gradient: each kernel flipped by 180°, c_in and c_out
 * swapped (as nn_conv2d_winograd_weights_transposed). */
void nn_conv2d_winograd4_weights_transposed(float *U,            // (36, c_in, c_out)
                                            const float *weight, // (c_out, c_in, 3, 3)
                                            nn_conv2d_dims d);
/* The forward pass from U, packed for the call (training: U changes with
 * every step). */
nn_status nn_conv2d_forward_winograd4(float *out, const float *in, const float *U, const float *bias,
                                      nn_shape in_shape, nn_conv2d_dims d);
nn_status nn_conv2d_winograd4_pack(nn_gemm_packed_a *packed[NN_WINOGRAD4_POSITIONS], const float *U,
                                   nn_conv2d_dims d);
void nn_conv2d_winograd4_packed_free(nn_gemm_packed_a *packed[NN_WINOGRAD4_POSITIONS]);
nn_status nn_conv2d_forward_winograd4_packed_cat_ep(float *out, const float *in, int c_first, const float *in_rest,
                                                    const nn_gemm_packed_a *const packed[NN_WINOGRAD4_POSITIONS],
                                                    const float *bias, nn_shape in_shape, nn_conv2d_dims d,
                                                    nn_epilogue ep);
/* The weight gradient of a 3×3 stride-1 pad-1 convolution by Winograd:
 * dU = Σ over tiles of (A dY Aᵀ)(Bᵀ d B)ᵀ, then dweight += Gᵀ dU G. The
 * tiles run in cache-sized blocks, each thread summing its own blocks; the
 * threads' sums are added in a fixed order (the same result for the same
 * thread count). dU is scratch of nn_conv2d_winograd_weight_floats(d)
 * floats. No bias gradient. */
nn_status nn_conv2d_backward_weights_winograd(float *dweight,     // (c_out, c_in, 3, 3), added into
                                              float *dU,          // (16, c_out, c_in) scratch
                                              const float *dout,  // (N, c_out, H, W)
                                              const float *in,    // (N, c_in, H, W)
                                              nn_shape in_shape, nn_conv2d_dims d);
#ifdef __cplusplus
}
#endif
#endif
