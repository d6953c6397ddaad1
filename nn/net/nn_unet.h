/* nn_unet.h — the U-Net model: configuration, parameter table, forward and
 * backward passes (the weights file: nn_unet_io.h). Implemented by unet.c.
 * Part of the nn library; include nn.h for all of it. */
#ifndef NN_UNET_H
#define NN_UNET_H

#include <stddef.h>
#include <stdint.h>

#include "nn_core.h"
#include "nn_conv.h"
#include "nn_layers.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { NN_UPSAMPLE_NEAREST = 0, NN_UPSAMPLE_BILINEAR = 1 } nn_upsample_mode;
typedef enum { NN_ACT_RELU = 0, NN_ACT_LEAKY_RELU = 1 } nn_activation;

/* A U-Net colorizer: `depth` levels; level l has width base_width << l and
 * runs at 1/2^l of the input size. Each level is two 3×3 conv + BN + act
 * units (the first of levels > 0 has stride 2); the decoder upsamples,
 * concatenates the skip and runs two units; a 1×1 head gives num_bins logits. */
typedef struct {
    int in_channels;
    int base_width;
    int depth;
    int num_bins;
    nn_upsample_mode upsample;
    nn_activation activation;
    float leaky_slope;
    float bn_eps, bn_momentum;
} nn_unet_config;

/* The name of the unit that maps features to the bins' logits (its
 * tensors are "head.conv.weight" and "head.conv.bias"). */
#define NN_UNET_CLASSIFIER "head"

/* The default: 4 input channels (L, hint a, hint b, hint mask), widths 32,
 * 64, 128, 256, bilinear upsampling, ReLU. */
nn_unet_config nn_unet_default_config(int num_bins);
nn_status nn_unet_config_check(const nn_unet_config *cfg, nn_error *err);

/* The parameters of one conv unit, indexed by this enum. */
typedef enum {
    NN_UNIT_CONV_WEIGHT = 0,
    NN_UNIT_CONV_BIAS,
    NN_UNIT_BN_GAMMA,
    NN_UNIT_BN_BETA,
    NN_UNIT_PARAM_KINDS
} nn_unit_param;

/* Per-unit buffers (not trained): BN running statistics. */
typedef enum {
    NN_UNIT_BN_RUNNING_MEAN = 0,
    NN_UNIT_BN_RUNNING_VAR,
    NN_UNIT_BUFFER_KINDS
} nn_unit_buffer;

typedef struct {
    char name[24];       /* "enc0.0", "dec1.1", "head" */
    nn_conv2d_dims conv;
    int has_bn;          /* conv has no bias when followed by BN */
    int in_h, in_w;      /* input spatial size at the model's tile size */
    size_t param_offset[NN_UNIT_PARAM_KINDS];   /* into params, in floats */
    size_t param_count[NN_UNIT_PARAM_KINDS];
    size_t buffer_offset[NN_UNIT_BUFFER_KINDS]; /* into buffers */
} nn_unit;

typedef struct nn_unet nn_unet;

/* Creates a model for batches of up to max_batch images of h×w (multiples of
 * 2^(depth-1)). Parameters are zero until nn_unet_init or a load. */
nn_status nn_unet_create(nn_unet **out, const nn_unet_config *cfg, int max_batch,
                         int h, int w, nn_error *err);
void nn_unet_free(nn_unet *m);
const nn_unet_config *nn_unet_get_config(const nn_unet *m);
int nn_unet_num_units(const nn_unet *m);
const nn_unit *nn_unet_unit(const nn_unet *m, int i);
/* The contiguous blocks: all parameters, all gradients (same layout), all
 * BN running statistics. */
float *nn_unet_params(nn_unet *m, size_t *count);
float *nn_unet_grads(nn_unet *m, size_t *count);
float *nn_unet_buffers(nn_unet *m, size_t *count);
/* Pointer to one parameter tensor of one unit (NULL if it has none). */
float *nn_unet_param(nn_unet *m, int unit, nn_unit_param kind);
float *nn_unet_grad(nn_unet *m, int unit, nn_unit_param kind);
float *nn_unet_buffer(nn_unet *m, int unit, nn_unit_buffer kind);
/* He-normal conv weights, zero biases, BN gamma 1 / beta 0, running mean 0 /
 * var 1; the same seed gives the same weights. */
void nn_unet_init(nn_unet *m, uint64_t seed);
void nn_unet_zero_grads(nn_unet *m);

typedef enum {
    NN_MODE_TRAIN = 0, /* BN with batch statistics, activations kept */
    NN_MODE_EVAL = 1,  /* BN folded into the convolutions */
} nn_forward_mode;

/* Forward pass over n ≤ max_batch images. Returns the logits, owned by the
 * model: (n, num_bins, h, w). NN_MODE_EVAL folds BN (once per parameter
 * change; call nn_unet_params_changed after editing parameters). */
nn_status nn_unet_forward(nn_unet *m, const float *in, // (n, in_channels, h, w)
                          int n, nn_forward_mode mode, const float **logits,
                          nn_error *err);
/* Inference in two steps, for a caller that wants the head's logits a few
 * pixels at a time while they are in cache: every unit but the head
 * (*features: (n, base_width, h, w), the model's own buffer, valid until
 * the next call), then the head's logits for columns [p0, p0 + np) of one
 * image's features, the same values nn_unet_forward gives. The second is
 * safe to call from several threads at once. */
nn_status nn_unet_forward_features(nn_unet *m, const float *in, // (n, in_channels, h, w)
                                   int n, const float **features, nn_error *err);
void nn_unet_head_columns(const nn_unet *m, const float *features, // (base_width, h, w) of one image
                          int p0, int np, float *logits);         // (num_bins, np)
/* Backward pass after a NN_MODE_TRAIN forward of the same n: adds into the
 * parameter gradients and, when din is not NULL, into din. */
nn_status nn_unet_backward(nn_unet *m, const float *dlogits, // (n, Q, h, w)
                           float *din, // (n, in_channels, h, w) or NULL
                           nn_error *err);
void nn_unet_params_changed(nn_unet *m);
/* The precision of NN_MODE_EVAL's products (nn_gemm.h): FP32 unless set;
 * NN_MODE_TRAIN always runs in fp32. */
void nn_unet_set_precision(nn_unet *m, nn_precision precision);
nn_precision nn_unet_get_precision(const nn_unet *m);
/* The output of one unit (after its activation; the head's logits) from the
 * last forward pass, with its shape: for inspection and for tests. */
const float *nn_unet_unit_output(const nn_unet *m, int unit, nn_shape *shape);
/* Peak bytes allocated by the model (parameters, activations, workspace,
 * and the weights packed for inference once it has run in NN_MODE_EVAL). */
size_t nn_unet_bytes(const nn_unet *m);

/* The units' table alone of an architecture (names, shapes, parameter
 * counts and offsets), without parameters or activations: *n_units units
 * in *units, which the caller frees (free). */
nn_status nn_unet_plan_units(const nn_unet_config *cfg, nn_unit **units, int *n_units, nn_error *err);

#ifdef __cplusplus
}
#endif
#endif
