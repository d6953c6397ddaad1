/* nn.h — public API of the nn library: a small CNN toolkit (layers with forward
 * and backward passes, Adam, CIE Lab colour, ab-bin decoding, the U-Net
 * colorizer and its weights file). C11, depends on libc, libm and OpenBLAS only.
 * The library never prints and never exits; failures return an nn_status and
 * fill an nn_error with a message that names the file and the problem.
 *
 * Conventions (as in llm.c): tensors are float32 NCHW; every pointer carries a
 * shape comment; a `d` prefix marks a gradient; backward functions ADD into
 * the gradients they produce, so callers zero them explicitly. */
#ifndef NN_H
#define NN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors */

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
 * \xNN, cut with "..." to fit cap bytes. Returns buf. */
const char *nn_escape(const char *s, char *buf, size_t cap);

/* --------------------------------------------------------------- threads */

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

/* Row-major C = alpha · op(A) · op(B) + beta · C, split by columns of C
 * across the library's threads (each part is one single-threaded sgemm). */
void nn_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* ------------------------------------------------------------------- rng */

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

/* ----------------------------------------------------------------- layers */

typedef struct {
    int N, C, H, W;
} nn_shape;

static inline size_t nn_shape_numel(nn_shape s) {
    return (size_t)s.N * (size_t)s.C * (size_t)s.H * (size_t)s.W;
}

typedef struct {
    int c_in, c_out, k, stride, pad, dilation;
} nn_conv2d_dims;

/* Output spatial size of a convolution over h (or w). */
static inline int nn_conv2d_out_size(int h, nn_conv2d_dims d) {
    return (h + 2 * d.pad - d.dilation * (d.k - 1) - 1) / d.stride + 1;
}

/* A scratch buffer shared by all layers of a model, sized for its largest
 * layer. A convolution processes as many images per GEMM as fit. */
typedef struct {
    float *data;
    size_t floats;
} nn_workspace;

/* Floats of workspace a convolution needs to process `images` images per
 * GEMM (forward or backward, whichever is larger). */
size_t nn_conv2d_workspace_floats(nn_conv2d_dims d, int h, int w, int images);

/* Convolution, im2col + cblas_sgemm over many images at once; 1×1 stride-1
 * unpadded convolutions skip im2col. Weight is (c_out, c_in, k, k); bias
 * may be NULL. Returns NN_ERR_INVALID when the workspace cannot hold even one
 * image. */
nn_status nn_conv2d_forward(float *out,          // (N, c_out, Ho, Wo)
                            const float *in,     // (N, c_in, H, W)
                            const float *weight, // (c_out, c_in, k, k)
                            const float *bias,   // (c_out) or NULL
                            nn_shape in_shape, nn_conv2d_dims d, nn_workspace ws);
nn_status nn_conv2d_backward(float *din,          // (N, c_in, H, W) or NULL
                             float *dweight,      // (c_out, c_in, k, k)
                             float *dbias,        // (c_out) or NULL
                             const float *dout,   // (N, c_out, Ho, Wo)
                             const float *in,     // (N, c_in, H, W)
                             const float *weight, // (c_out, c_in, k, k)
                             nn_shape in_shape, nn_conv2d_dims d, nn_workspace ws);
/* Winograd F(2×2, 3×3), for inference of 3×3 stride-1 pad-1 convolutions
 * (nn_conv2d_winograd_applies): U, the transformed weights, is computed
 * once (nn_conv2d_winograd_weights); the forward pass then does 16 GEMMs
 * over all tiles of as many images as the workspace holds. Same result as
 * nn_conv2d_forward to float rounding. */
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
size_t nn_conv2d_winograd_workspace_floats(nn_conv2d_dims d, int h, int w, int images);
nn_status nn_conv2d_forward_winograd(float *out,        // (N, c_out, H, W)
                                     const float *in,   // (N, c_in, H, W)
                                     const float *U,    // (16, c_out, c_in)
                                     const float *bias, // (c_out) or NULL
                                     nn_shape in_shape, nn_conv2d_dims d, nn_workspace ws);
/* The weight gradient of a 3×3 stride-1 pad-1 convolution by Winograd:
 * dU = Σ over tiles of (A dY Aᵀ)(Bᵀ d B)ᵀ, then dweight += Gᵀ dU G. dU is
 * scratch of nn_conv2d_winograd_weight_floats(d) floats. No bias gradient. */
nn_status nn_conv2d_backward_weights_winograd(float *dweight,     // (c_out, c_in, 3, 3), added into
                                              float *dU,          // (16, c_out, c_in) scratch
                                              const float *dout,  // (N, c_out, H, W)
                                              const float *in,    // (N, c_in, H, W)
                                              nn_shape in_shape, nn_conv2d_dims d, nn_workspace ws);
/* Naive direct convolution: the test oracle for the BLAS path. */
void nn_conv2d_forward_naive(float *out, const float *in, const float *weight,
                             const float *bias, nn_shape in_shape, nn_conv2d_dims d);
void nn_conv2d_backward_naive(float *din, float *dweight, float *dbias,
                              const float *dout, const float *in,
                              const float *weight, nn_shape in_shape,
                              nn_conv2d_dims d);

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
void nn_upsample2x_bilinear_backward(float *din, const float *dout, nn_shape in_shape);

/* Channel concatenation (U-Net skips): out = [a, b] along C. */
void nn_concat_forward(float *out,     // (N, ca + cb, H, W)
                       const float *a, // (N, ca, H, W)
                       const float *b, // (N, cb, H, W)
                       int N, int ca, int cb, int hw);
void nn_concat_backward(float *da, float *db, const float *dout, int N, int ca,
                        int cb, int hw);

/* Per-pixel softmax cross-entropy over Q classes:
 *   loss = sum_i w[t_i] * -log softmax(logits_i)[t_i] / (N * HW)
 * with w = 1 when class_weights is NULL. Writes the probabilities (used by
 * the backward pass). Targets outside [0, Q) are an error (returns NAN). */
float nn_softmax_xent_forward(float *probs,             // (N, Q, H, W)
                              const float *logits,      // (N, Q, H, W)
                              const int32_t *targets,   // (N, H, W)
                              const float *class_weights, // (Q) or NULL
                              int N, int Q, int hw);
void nn_softmax_xent_backward(float *dlogits,            // (N, Q, H, W)
                              const float *probs,        // (N, Q, H, W)
                              const int32_t *targets,    // (N, H, W)
                              const float *class_weights, // (Q) or NULL
                              int N, int Q, int hw, float dloss);

/* Mean absolute error and mean Huber loss (PyTorch's HuberLoss, delta). */
float nn_l1_forward(const float *pred, const float *target, size_t n);
void nn_l1_backward(float *dpred, const float *pred, const float *target,
                    size_t n, float dloss);
float nn_huber_forward(const float *pred, const float *target, size_t n, float delta);
void nn_huber_backward(float *dpred, const float *pred, const float *target,
                       size_t n, float delta, float dloss);

/* -------------------------------------------------------------- optimizer */

typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
    int decoupled; /* 0: Adam (L2 added to the gradient), 1: AdamW */
} nn_adam_config;

nn_adam_config nn_adam_default(float lr);
/* One step with bias correction; t counts steps from 1. Matches
 * torch.optim.Adam / AdamW. */
void nn_adam_step(float *params, const float *grads, float *m, float *v,
                  size_t n, nn_adam_config c, long t);

/* ------------------------------------------------------------ atomic files */

/* The temporary file beside the target: PATH + this, the X's made unique. */
#define NN_ATOMIC_TMP_SUFFIX ".tmp-XXXXXX"
/* Writes data to path atomically: a unique temporary file beside it
 * (O_EXCL: an existing file or link of that name is never followed),
 * fsync, rename. On failure the temporary file is removed, the target is
 * untouched, and NN_ERR_IO names the path and the cause. */
nn_status nn_write_file_atomic(const char *path, const void *data, size_t n, nn_error *err);

/* ------------------------------------------------------------------ colour */

/* sRGB (D65) <-> CIE L*a*b* (D65, 2° observer), as skimage.color.rgb2lab and
 * lab2rgb. Pixels are interleaved triples. lab->rgb clips to [0, 1]. */
void nn_srgb_to_lab(float *lab, const float *rgb, size_t n);
void nn_srgb8_to_lab(float *lab, const uint8_t *rgb, size_t n);
void nn_lab_to_srgb(float *rgb, const float *lab, size_t n);
void nn_lab_to_srgb8(uint8_t *rgb, const float *lab, size_t n);
/* L* only, from sRGB pixels with `stride` floats between pixels (3 for RGB,
 * 4 for RGBA; values clamped to [0, 1]): nn_srgb_to_lab's L to within 1e-4,
 * through interpolated tables (no pow per pixel). nn_gray_to_lightness is
 * the same for one gray value per pixel (R = G = B). */
void nn_srgb_to_lightness(float *L, const float *rgb, size_t n, size_t stride);
void nn_gray_to_lightness(float *L, const float *gray, size_t n, size_t stride);
/* Lab -> sRGB in [0, 1] with the L-preserving gamut fit of nn_lab_fit_gamut
 * (nn_lab_fit_gamut followed by nn_lab_to_srgb to within 2e-6, with one
 * conversion per in-gamut pixel and the sRGB curve from an interpolated
 * table); rgb has `stride` floats per pixel. */
void nn_lab_to_srgb_fitted(float *rgb, const float *lab, size_t n, size_t stride);
/* Moves out-of-gamut Lab colours into the sRGB gamut by reducing their
 * chroma (a, b scaled toward 0 by bisection), keeping L exactly, so that a
 * later Lab -> RGB conversion needs no clipping that would change L. */
void nn_lab_fit_gamut(float *lab, size_t n);
/* The two ends of every front end (plug-in, trainer), row by row:
 * pixels with `channels` floats each (1 gray, 2 gray + alpha, 3 RGB,
 * 4 RGBA; sRGB-encoded, alpha ignored) -> L* ... */
void nn_pixels_to_lightness(float *L, const float *px, size_t n, int channels);
/* ... RGBA hint pixels -> hint a, b and mask (1 where alpha exceeds
 * NN_HINT_THRESHOLD, its colour's ab; 0 and ab 0 elsewhere) ... */
void nn_rgba_to_hints(float *a, float *b, float *mask, const float *rgba, size_t n);
/* ... and L with ab -> gamut-fitted sRGB (L kept) into `stride` floats per
 * pixel (3 or 4; a fourth channel is left for the caller's alpha). */
void nn_lab_planes_to_srgb(float *rgb, const float *L, const float *a, const float *b, size_t n, size_t stride);
/* Linear-light RGB (as GIMP's linear precisions) <-> Lab. */
void nn_linear_rgb_to_lab(float *lab, const float *rgb, size_t n);
void nn_lab_to_linear_rgb(float *rgb, const float *lab, size_t n);

/* ------------------------------------------------------------- ab bins */

/* The quantized ab plane: a square grid of `size`×`size` cells of width
 * `step` whose first centre is `min` (default: 10, -110, 23). */
typedef struct {
    float step, min;
    int size;
} nn_ab_grid;

nn_ab_grid nn_ab_grid_default(void);
/* Grid cell index of (a, b), clamped to the grid. */
int nn_ab_grid_cell(nn_ab_grid g, float a, float b);
void nn_ab_grid_center(nn_ab_grid g, int cell, float *a, float *b);

/* Decodes per-pixel logits over Q bins (centres bin_ab, (Q, 2)) into ab:
 * the annealed mean softmax((logits + bias) / T) · centres (Zhang et al.
 * 2016; T = 1 is the plain mean, smaller T is more vivid), or the mode. */
void nn_decode_annealed_mean(float *ab,           // (N, 2, H, W)
                             const float *logits, // (N, Q, H, W)
                             const float *bin_ab, // (Q, 2)
                             const float *bias,   // (Q) or NULL
                             int N, int Q, int hw, float T);
void nn_decode_mode(float *ab, const float *logits, const float *bin_ab, int N,
                    int Q, int hw);

/* ------------------------------------------------------------ weights file */

typedef enum {
    NN_META_U32 = 1,
    NN_META_I32 = 2,
    NN_META_F32 = 3,
    NN_META_U64 = 4,
    NN_META_F64 = 5,
    NN_META_STR = 6,
    NN_META_U32_ARRAY = 7,
    NN_META_F32_ARRAY = 8,
} nn_meta_type;

typedef struct {
    char *key;
    nn_meta_type type;
    union {
        uint32_t u32;
        int32_t i32;
        float f32;
        uint64_t u64;
        double f64;
    } v;
    char *str;      /* NN_META_STR */
    void *array;    /* NN_META_*_ARRAY */
    uint64_t count; /* array elements, or string bytes */
} nn_meta;

#define NN_MAX_DIMS 4

typedef struct {
    char *name;
    uint32_t ndims;
    uint64_t dims[NN_MAX_DIMS];
    float *data; /* owned copy */
} nn_tensor_entry;

/* The in-memory form of a weights file: typed metadata plus named tensors. */
typedef struct {
    nn_meta *meta;
    size_t n_meta, cap_meta;
    nn_tensor_entry *tensors;
    size_t n_tensors, cap_tensors;
} nn_weights;

void nn_weights_init(nn_weights *w);
void nn_weights_free(nn_weights *w);
/* Setters replace an existing key. They copy their arguments. */
nn_status nn_weights_set_u32(nn_weights *w, const char *key, uint32_t v);
nn_status nn_weights_set_i32(nn_weights *w, const char *key, int32_t v);
nn_status nn_weights_set_f32(nn_weights *w, const char *key, float v);
nn_status nn_weights_set_u64(nn_weights *w, const char *key, uint64_t v);
nn_status nn_weights_set_f64(nn_weights *w, const char *key, double v);
nn_status nn_weights_set_str(nn_weights *w, const char *key, const char *s);
nn_status nn_weights_set_u32_array(nn_weights *w, const char *key,
                                   const uint32_t *a, uint64_t count);
nn_status nn_weights_set_f32_array(nn_weights *w, const char *key,
                                   const float *a, uint64_t count);
const nn_meta *nn_weights_get(const nn_weights *w, const char *key);
/* Typed getters: return NN_ERR_FORMAT (with a message naming the key) when
 * the key is missing or of another type. */
nn_status nn_weights_get_u32(const nn_weights *w, const char *key, uint32_t *v, nn_error *err);
nn_status nn_weights_get_f32(const nn_weights *w, const char *key, float *v, nn_error *err);
nn_status nn_weights_get_str(const nn_weights *w, const char *key, const char **v, nn_error *err);
nn_status nn_weights_get_u64(const nn_weights *w, const char *key, uint64_t *v, nn_error *err);
nn_status nn_weights_get_f64(const nn_weights *w, const char *key, double *v, nn_error *err);
/* The array itself (owned by w) and its length. */
nn_status nn_weights_get_f32_array(const nn_weights *w, const char *key, const float **a, uint64_t *count,
                                   nn_error *err);
nn_status nn_weights_get_u32_array(const nn_weights *w, const char *key, const uint32_t **a, uint64_t *count,
                                   nn_error *err);
/* Removes (and frees) the tensor `name`; NN_ERR_FORMAT when there is none. */
nn_status nn_weights_remove_tensor(nn_weights *w, const char *name, nn_error *err);
nn_status nn_weights_add_tensor(nn_weights *w, const char *name, uint32_t ndims,
                                const uint64_t *dims, const float *data);
const nn_tensor_entry *nn_weights_find_tensor(const nn_weights *w, const char *name);

/* Writes atomically: a temporary file in the same folder, fsync, rename. */
nn_status nn_weights_save(const nn_weights *w, const char *path, nn_error *err);
/* Validates every field against the file size and sane limits before it
 * allocates, verifies the CRC-32 and rejects NaN/Inf tensor values. On error
 * w is left empty. */
nn_status nn_weights_load(nn_weights *w, const char *path, nn_error *err);
/* The same, from memory (`name` is used in messages). */
nn_status nn_weights_parse(nn_weights *w, const uint8_t *bytes, size_t size,
                           const char *name, nn_error *err);

/* CRC-32 (IEEE 802.3, as zlib's crc32). Start with crc = 0. */
uint32_t nn_crc32(uint32_t crc, const void *data, size_t n);

/* ------------------------------------------------------------- U-Net model */

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
/* Backward pass after a NN_MODE_TRAIN forward of the same n: adds into the
 * parameter gradients and, when din is not NULL, into din. */
nn_status nn_unet_backward(nn_unet *m, const float *dlogits, // (n, Q, h, w)
                           float *din, // (n, in_channels, h, w) or NULL
                           nn_error *err);
void nn_unet_params_changed(nn_unet *m);
/* The output of one unit (after its activation; the head's logits) from the
 * last forward pass, with its shape: for inspection and for tests. */
const float *nn_unet_unit_output(const nn_unet *m, int unit, nn_shape *shape);
/* Peak bytes allocated by the model (parameters, activations, workspace). */
size_t nn_unet_bytes(const nn_unet *m);

/* Model <-> weights file. Tensors are named "<unit>.conv.weight",
 * "<unit>.conv.bias", "<unit>.bn.weight", "<unit>.bn.bias",
 * "<unit>.bn.running_mean", "<unit>.bn.running_var"; the architecture goes
 * into "arch.*" metadata. */
nn_status nn_unet_to_weights(nn_unet *m, nn_weights *w);
nn_status nn_unet_config_from_weights(const nn_weights *w, nn_unet_config *cfg,
                                      const char *name, nn_error *err);
/* Checks, before anything is allocated for it, that w holds exactly the
 * tensors of the architecture cfg with their shapes (`name` in messages). */
nn_status nn_unet_check_weights(const nn_unet_config *cfg, const nn_weights *w, const char *name,
                                nn_error *err);
/* Copies the tensors of w into m, checking names and shapes against m's
 * architecture (`name` is used in messages). */
nn_status nn_unet_load_weights(nn_unet *m, const nn_weights *w, const char *name,
                               nn_error *err);

/* -------------------------------------------------------------- colorizer */

/* Network input encoding: channel 0 is L / 50 - 1, channels 1-2 the hint's
 * a / 110 and b / 110 (0 without a hint), channel 3 the hint mask. */
#define NN_INPUT_CHANNELS 4
#define NN_AB_SCALE 110.0f
/* The side of the tiles the network colours: the size of CIFAR-10's images. */
#define NN_TILE_SIDE 32

/* Writes the network input for n images of hw pixels. hint_ab and
 * hint_mask may be NULL (no hints). */
void nn_encode_input(float *in,              // (n, 4, H, W)
                     const float *L,         // (n, H, W) in Lab units
                     const float *hint_ab,   // (n, 2, H, W) or NULL
                     const float *hint_mask, // (n, H, W) or NULL
                     int n, int hw);

/* Vividness v in [0, 1] sets the decoding. A network trained with class
 * rebalancing weights w learns p_model ∝ w · p_true, so the faithful
 * estimate divides the weights out again: v = 0 is the plain mean of the
 * prior-corrected distribution (bias -log w, T = 1). Towards v = 1 the
 * correction fades (bias -(1 - v) log w) and the temperature falls to
 * NN_VIVID_TEMPERATURE (T = 0.38^v, geometric), which is vivid. */
#define NN_VIVID_TEMPERATURE 0.38f
float nn_vividness_to_temperature(float vividness);
#define NN_DEFAULT_VIVIDNESS 0.5f
/* Decodes with the vividness setting; rebalance (Q) may be NULL (no
 * correction). Returns NN_ERR_NOMEM if a scratch allocation fails. */
nn_status nn_decode_vivid(float *ab,              // (N, 2, H, W)
                          const float *logits,    // (N, Q, H, W)
                          const float *bin_ab,    // (Q, 2)
                          const float *rebalance, // (Q) or NULL
                          int N, int Q, int hw, float vividness);

/* A loaded colorizer: the network (BN folded) and its ab bins. */
typedef struct {
    nn_unet *net;
    nn_unet_config cfg;
    nn_ab_grid grid;
    int num_bins;
    float *bin_ab;    /* (Q, 2) bin centres */
    uint32_t *bins;   /* (Q) grid cells */
    float *rebalance; /* (Q) class weights, or NULL */
    int tile, max_batch;
    nn_weights meta;  /* the file's metadata (tensors dropped) */
} nn_colorizer;

/* Loads a weights file for inference on batches of up to max_batch tiles of
 * tile×tile pixels. */
nn_status nn_colorizer_load(nn_colorizer **out, const char *path, int max_batch, int tile,
                            nn_error *err);
/* The same from parsed weights (name is used in messages). */
nn_status nn_colorizer_from_weights(nn_colorizer **out, const nn_weights *w, const char *name,
                                    int max_batch, int tile, nn_error *err);
void nn_colorizer_free(nn_colorizer *c);
/* Runs the network over n encoded tiles (any n; batched by max_batch) and
 * decodes ab at the vividness (nn_decode_vivid). Uses the BN-folded network. */
nn_status nn_colorizer_predict(nn_colorizer *c, const float *in, // (n, 4, tile, tile)
                               int n, float vividness,
                               float *ab, // (n, 2, tile, tile)
                               nn_error *err);
/* Runs the network over 1..max_batch encoded tiles; *logits is the
 * network's own output buffer, valid until the next call. */
nn_status nn_colorizer_logits(nn_colorizer *c, const float *in, // (n, 4, tile, tile)
                              int n, const float **logits,       // (n, Q, tile, tile)
                              nn_error *err);
/* The faithful colour distribution (prior-corrected softmax, vividness 0)
 * at pixel `pixel` of one encoded tile, with `extra` (Q, or NULL) added to
 * its logits: prob (Q). */
nn_status nn_colorizer_distribution(nn_colorizer *c, const float *in, // (1, 4, tile, tile)
                                    int pixel, const float *extra, float *prob, nn_error *err);
/* Reads and validates the ab-grid metadata of w (ab.grid_*, ab.bins with
 * num_bins entries, optional ab.rebalance_weights); allocates *bins and
 * *rebalance (NULL when absent), which the caller frees. */
nn_status nn_ab_metadata_get(const nn_weights *w, const char *name, int num_bins, nn_ab_grid *grid,
                             uint32_t **bins, float **rebalance, nn_error *err);
/* Writes the ab-grid metadata (ab.*, color.space) into w. */
nn_status nn_ab_metadata_set(nn_weights *w, nn_ab_grid g, const uint32_t *bins,
                             const float *rebalance, int num_bins, float lambda);

/* ----------------------------------------------------------------- engine */

/* Tile origins along an axis of n pixels: every half tile, the last flush
 * with the end (one at 0 when n <= tile); returns the count. */
int nn_tile_origins(int n, int tile, int *out);
/* The network input for the T×T tile at (x0, y0) of a w×h image (edges
 * repeated where the image is smaller than a tile). */
void nn_encode_tile(const float *L,    // (h, w) in Lab units
                    const float *hint, // (3, h, w) a, b, mask; or NULL
                    int w, int h, int x0, int y0, int T,
                    float *x);         // (4, T, T)

/* The scene pass: the w×h working image shrunk to `size` pixels on its
 * long side (area average; hints averaged over hinted pixels) and run
 * through the network, its per-pixel log-probabilities kept with the
 * rebalancing weights divided out (so that the fused distribution is
 * corrected once, when decoded) and the training set's colour prior
 * divided out (so that the prior counts once in the product). */
typedef struct nn_scene nn_scene;
nn_status nn_scene_create(nn_scene **s, nn_colorizer *c,
                          const float *L,    // (h, w)
                          const float *hint, // (3, h, w) or NULL
                          int w, int h, int size, nn_error *err);
void nn_scene_free(nn_scene *s);
void nn_scene_size(const nn_scene *s, int *gw, int *gh);
/* out (Q) = weight × the scene's log-probabilities at working pixel (x, y). */
void nn_scene_at(const nn_scene *s, float weight, int x, int y, float *out);
/* fused = logits + weight × the scene's log-probabilities at each pixel of
 * the T×T tile at (x0, y0) of the working image (bilinear). */
void nn_scene_add_to_tile(const nn_scene *s, float weight, int x0, int y0, int T,
                          const float *logits, // (Q, T, T)
                          float *fused);       // (Q, T, T)

#define NN_DEFAULT_RESOLUTION 256
#define NN_MIN_RESOLUTION 32
#define NN_MAX_RESOLUTION 2048

/* The scene pass (scene.c): by default the working image is also seen
 * whole at NN_DEFAULT_SCENE_SIZE pixels on its long side, and each tile
 * pixel's distribution is multiplied by the scene's raised to
 * NN_DEFAULT_SCENE_WEIGHT. */
#define NN_DEFAULT_SCENE_SIZE 32
#define NN_DEFAULT_SCENE_WEIGHT 1.0f
#define NN_MIN_SCENE_SIZE 16
#define NN_MAX_SCENE_SIZE 256
#define NN_MAX_SCENE_WEIGHT 8.0f

typedef struct {
    float vividness;    /* 0 (faithful, T = 1) .. 1 (vivid) */
    float saturation;   /* chroma multiplier, 0 .. 2 */
    int resolution;     /* long side of the working image, 32 .. 2048 */
    int scene_size;     /* long side of the scene pass, 16 .. 256 */
    float scene_weight; /* 0 (no scene pass) .. 8 */
} nn_engine_params;

nn_engine_params nn_engine_default_params(void);
/* The working size for an image: its long side scaled down to resolution
 * (images already smaller keep their size). */
void nn_engine_working_size(int width, int height, int resolution, int *ww, int *wh);

/* Progress in [0, 1]. */
typedef void (*nn_progress_fn)(double fraction, void *user);

/* The streaming engine, for images larger than one wants in memory as
 * float planes: begin, feed every row of full-resolution L once, top to
 * bottom (with optional hints), predict (the network at working scale),
 * then ask for full-resolution ab rows in any order, from the same L.
 * It holds only working-scale planes (a few MB at resolution 2048). */
typedef struct nn_engine nn_engine;

/* A pixel of a hint image gives a hint when its alpha (or mask) exceeds this. */
#define NN_HINT_THRESHOLD 0.5f
/* Strokes are thinned to one hint per NN_HINT_SPACING² working pixels, the
 * density of the sparse hints the network was trained on. */
#define NN_HINT_SPACING 6
/* A point hint covers NN_POINT_HINT_SIDE² working pixels (the training's
 * largest hint patch). */
#define NN_POINT_HINT_SIDE 3
/* Suggested colours differ by at least this much in ab. */
#define NN_SUGGESTION_SEPARATION 25.0f

/* A hint at one point: full-resolution pixel coordinates and its ab. */
typedef struct {
    double x, y;
    float a, b;
} nn_point_hint;

/* A point hint as text gives it (points.c): image pixels and an sRGB colour. */
typedef struct {
    double x, y;
    uint8_t rgb[3];
} nn_point_text;
#define NN_MAX_POINT_HINTS 256
/* Parses "x,y,#rrggbb;…" (blank items ignored, any locale) into out (at
 * most max). NN_ERR_INVALID with err->msg set to the bad item itself (for
 * the caller's message), or to "more than N point hints". */
nn_status nn_points_parse(const char *text, nn_point_text *out, int max, int *n, nn_error *err);

/* Checks the parameters and sizes; NN_ERR_INVALID names the bad one. */
nn_status nn_engine_begin(nn_engine **e, int width, int height, const nn_engine_params *params,
                          nn_error *err);
void nn_engine_get_working_size(const nn_engine *e, int *ww, int *wh);
/* Rows y0 .. y0+rows-1 of L; hints (all three or none): every pixel with
 * mask > 0.5 gives its ab to the working pixel it falls in (averaged, then
 * fitted into the gamut at that pixel's lightness, keeping the hue). */
nn_status nn_engine_add_rows(nn_engine *e, int y0, int rows,
                             const float *L,         // (rows, W) in Lab units
                             const float *hint_a,    // (rows, W) or NULL
                             const float *hint_b,    // (rows, W) or NULL
                             const float *hint_mask, // (rows, W) or NULL
                             nn_error *err);
/* Covers the working image with tiles overlapping by half a tile, runs them
 * through the network in large batches, blends them with a Hann window and
 * fits the guided filter. Progress goes from 0 to 1 over the tiles; *cancel
 * is checked between batches (NN_ERR_CANCELLED). */
nn_status nn_engine_predict(nn_engine *e, nn_colorizer *c, nn_progress_fn progress, void *user,
                            const volatile int *cancel, nn_error *err);
/* Full-resolution ab (saturation applied) for rows y0 .. y0+rows-1, guided
 * by the same rows of L. Read-only: threads may ask for disjoint rows. */
void nn_engine_ab_rows(const nn_engine *e, int y0, int rows,
                       const float *L, // (rows, W)
                       float *a,       // (rows, W) output
                       float *b);      // (rows, W) output
/* ab for a region sampled on its own grid: output pixel (i, r) is centred
 * at full-resolution coordinates (x0 + (i + 0.5)·step_x, y0 + (r + 0.5)·step_y),
 * guided by L at those pixels; this is what a zoomed preview shows. */
nn_status nn_engine_ab_region(const nn_engine *e, double x0, double y0, double step_x, double step_y, int w, int rows,
                              const float *L, // (rows, w)
                              float *a,       // (rows, w) output
                              float *b,       // (rows, w) output
                              nn_error *err);
/* Adds a point hint (before predict): colour (a, b) at full-resolution
 * position (x, y). It wins over strokes where they overlap. */
nn_status nn_engine_add_point_hint(nn_engine *e, double x, double y, float a, float b, nn_error *err);
/* After predict: up to k colours the network finds most likely at (x, y)
 * (its faithful distribution there, given the other hints but not one at
 * that point), most likely first, at least NN_SUGGESTION_SEPARATION apart;
 * ab (k, 2), prob (k); *found says how many. Uses the model: not while
 * another thread predicts with it. */
nn_status nn_engine_suggest(const nn_engine *e, nn_colorizer *c, double x, double y, int k, float *ab,
                            float *prob, int *found, nn_error *err);
/* L at working scale under full-resolution position (x, y) (after predict). */
float nn_engine_lightness_at(const nn_engine *e, double x, double y);
/* Changes the saturation that ab comes out with (no new prediction needed). */
void nn_engine_set_saturation(nn_engine *e, float saturation);
void nn_engine_free(nn_engine *e);

/* The whole engine on full planes: downscales L to the working resolution,
 * predicts there and brings ab back to full resolution with a guided filter
 * whose guide is the full-resolution L; then applies saturation. The caller
 * recombines ab with its own L, so detail and brightness stay the source's. */
nn_status nn_engine_colorize(nn_colorizer *c,
                             const float *L,         // (H, W) in Lab units
                             int width, int height,
                             const float *hint_ab,   // (2, H, W) or NULL
                             const float *hint_mask, // (H, W) or NULL
                             const nn_engine_params *params,
                             float *ab,              // (2, H, W) output
                             nn_progress_fn progress, void *user, const volatile int *cancel,
                             nn_error *err);

#ifdef __cplusplus
}
#endif
#endif
