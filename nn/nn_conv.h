/* nn_conv.h — 2-D convolution: im2col + GEMM over many images at once
 * with one shared workspace, Winograd F(2×2, 3×3) for 3×3 convolutions,
 * and the naive oracle. Part of the nn library; include nn.h for all of it. */
#ifndef NN_CONV_H
#define NN_CONV_H

#include <stddef.h>
#include <stdint.h>

#include "nn_core.h"
#include "nn_gemm.h"
#include "nn_layers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int c_in, c_out, k, stride, pad, dilation;
} nn_conv2d_dims;

/* Output spatial size of a convolution over h (or w). */
static inline int nn_conv2d_out_size(int h, nn_conv2d_dims d) {
    return (h + 2 * d.pad - d.dilation * (d.k - 1) - 1) / d.stride + 1;
}

/* A scratch buffer shared by all layers of a model, sized for its largest
 * layer. A convolution processes as many images per GEMM as fit. The
 * forward passes' products run at `precision` (nn_gemm.h; the backward
 * passes always in fp32). */
typedef struct {
    float *data;
    size_t floats;
    nn_precision precision;
} nn_workspace;

/* Floats of workspace a convolution needs to process `images` images per
 * GEMM (forward or backward, whichever is larger). */
size_t nn_conv2d_workspace_floats(nn_conv2d_dims d, int h, int w, int images);

/* Convolution, im2col + GEMM over many images at once; 1×1 stride-1
 * unpadded convolutions skip im2col. Weight is (c_out, c_in, k, k); bias
 * may be NULL. Returns NN_ERR_INVALID when the workspace cannot hold even one
 * image. */
nn_status nn_conv2d_forward(float *out,          // (N, c_out, Ho, Wo)
                            const float *in,     // (N, c_in, H, W)
                            const float *weight, // (c_out, c_in, k, k)
                            const float *bias,   // (c_out) or NULL
                            nn_shape in_shape, nn_conv2d_dims d, nn_workspace ws);
/* The same with the epilogue applied to every output. */
nn_status nn_conv2d_forward_ep(float *out, const float *in, const float *weight, const float *bias,
                               nn_shape in_shape, nn_conv2d_dims d, nn_workspace ws, nn_epilogue ep);
/* The weights packed once for the GEMM kernel at a precision, for many
 * forward passes (inference): nn_conv2d_forward_packed_ep is
 * nn_conv2d_forward_ep without packing them in every call. The weights
 * must outlive the packed form. NULL: out of memory. */
nn_gemm_packed_a *nn_conv2d_pack_weights(const float *weight, // (c_out, c_in, k, k)
                                         nn_conv2d_dims d, nn_precision precision);
nn_status nn_conv2d_forward_packed_ep(float *out, const float *in, const nn_gemm_packed_a *weight, const float *bias,
                                      nn_shape in_shape, nn_conv2d_dims d, nn_workspace ws, nn_epilogue ep);
nn_status nn_conv2d_backward(float *din,          // (N, c_in, H, W) or NULL
                             float *dweight,      // (c_out, c_in, k, k)
                             float *dbias,        // (c_out) or NULL
                             const float *dout,   // (N, c_out, Ho, Wo)
                             const float *in,     // (N, c_in, H, W)
                             const float *weight, // (c_out, c_in, k, k)
                             nn_shape in_shape, nn_conv2d_dims d, nn_workspace ws);
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
/* Naive direct convolution: the test oracle for the BLAS path. */
void nn_conv2d_forward_naive(float *out, const float *in, const float *weight,
                             const float *bias, nn_shape in_shape, nn_conv2d_dims d);
void nn_conv2d_backward_naive(float *din, float *dweight, float *dbias,
                              const float *dout, const float *in,
                              const float *weight, nn_shape in_shape,
                              nn_conv2d_dims d);

#ifdef __cplusplus
}
#endif
#endif
