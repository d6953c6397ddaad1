/* nn_layers.h — layers other than convolution: batch norm, activations,
 * upsampling and concatenation, each a forward/backward pair (the losses:
 * nn_loss.h). Implemented by layers.c. Part of the nn library; include nn.h
 * for all of it. */
#ifndef NN_LAYERS_H
#define NN_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "nn_core.h"
#include "nn_epilogue.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Batch normalization, training mode: normalizes with the batch statistics
 * (biased variance), saves mean and 1/sqrt(var + eps) per channel for the
 * backward pass and updates the running statistics as PyTorch does
 * (running = (1 - momentum) * running + momentum * batch, unbiased var). */
void nn_batchnorm_forward_train(float *out,          // (N, C, H, W)
                                float *mean,         // (C) saved
                                float *rstd,         // (C) saved
                                float *running_mean, // (C) updated, or NULL
                                float *running_var,  // (C) updated, or NULL
                                const float *in,     // (N, C, H, W)
                                const float *gamma,  // (C)
                                const float *beta,   // (C)
                                nn_shape shape, float momentum, float eps);
/* The same with the epilogue applied to every output (the unit's activation). */
void nn_batchnorm_forward_train_ep(float *out, float *mean, float *rstd, float *running_mean, float *running_var,
                                   const float *in, const float *gamma, const float *beta, nn_shape shape,
                                   float momentum, float eps, nn_epilogue ep);
void nn_batchnorm_forward_eval(float *out, const float *in, const float *gamma,
                               const float *beta, const float *running_mean,
                               const float *running_var, nn_shape shape, float eps);
void nn_batchnorm_backward(float *din,         // (N, C, H, W)
                           float *dgamma,      // (C)
                           float *dbeta,       // (C)
                           const float *dout,  // (N, C, H, W)
                           const float *in,    // (N, C, H, W)
                           const float *mean,  // (C)
                           const float *rstd,  // (C)
                           const float *gamma, // (C)
                           nn_shape shape);
/* The same behind the activation ep: dout is the gradient of the
 * activation's output act_out (N, C, H, W), taken through it on the way. */
void nn_batchnorm_backward_ep(float *din, float *dgamma, float *dbeta, const float *dout, const float *act_out,
                              const float *in, const float *mean, const float *rstd, const float *gamma,
                              nn_shape shape, nn_epilogue ep);
/* Folds an inference-mode batch norm into the preceding convolution:
 * weight (c_out, per_out) and bias (c_out) are rewritten in place. */
void nn_batchnorm_fold(float *weight, float *bias, const float *gamma,
                       const float *beta, const float *running_mean,
                       const float *running_var, int c_out, size_t per_out,
                       float eps);

void nn_relu_forward(float *out, const float *in, size_t n);
/* Uses the forward output: out > 0 exactly where in > 0. */
void nn_relu_backward(float *din, const float *dout, const float *out, size_t n);
void nn_leaky_relu_forward(float *out, const float *in, size_t n, float slope);
/* Uses the forward output: with slope > 0 its sign is the input's. */
void nn_leaky_relu_backward(float *din, const float *dout, const float *out,
                            size_t n, float slope);

/* 2× upsampling; bilinear follows PyTorch's align_corners=False. */
void nn_upsample2x_nearest_forward(float *out,      // (N, C, 2H, 2W)
                                   const float *in, // (N, C, H, W)
                                   nn_shape in_shape);
void nn_upsample2x_nearest_backward(float *din, const float *dout, nn_shape in_shape);
nn_status nn_upsample2x_bilinear_forward(float *out, const float *in, nn_shape in_shape); /* NN_ERR_NOMEM: no row buffer */
nn_status nn_upsample2x_bilinear_backward(float *din, const float *dout, nn_shape in_shape); /* NN_ERR_NOMEM: no row buffer */

/* Channel concatenation (U-Net skips): out = [a, b] along C. */
void nn_concat_forward(float *out,     // (N, ca + cb, H, W)
                       const float *a, // (N, ca, H, W)
                       const float *b, // (N, cb, H, W)
                       int N, int ca, int cb, int hw);
void nn_concat_backward(float *da, float *db, const float *dout, int N, int ca,
                        int cb, int hw);

#ifdef __cplusplus
}
#endif
#endif
