/* nn_conv.h — 2-D convolution: im2col + GEMM over many images at once with
 * one shared workspace, and the naive oracle (Winograd for the 3×3
 * convolutions: nn_winograd.h). Implemented by conv.c. Part of the nn
 * library; include nn.h for all of it. */
#ifndef NN_CONV_H
#define NN_CONV_H

#include <stddef.h>
#include <stdint.h>

#include "nn_core.h"
#include "nn_gemm.h"
#include "nn_epilogue.h"

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

/* NN_ERR_INVALID unless the input shape fits the convolution (its
 * channels, a positive output) and the dimensions are sane. */
static inline nn_status nn_conv2d_check_dims(nn_shape s, nn_conv2d_dims d) {
    if (s.N < 0 || s.C != d.c_in || d.k < 1 || d.stride < 1 || d.pad < 0 || d.dilation < 1 || d.c_out < 1 ||
        nn_conv2d_out_size(s.H, d) < 1 || nn_conv2d_out_size(s.W, d) < 1)
        return NN_ERR_INVALID;
    return NN_OK;
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
