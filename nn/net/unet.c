/* unet.c — the U-Net colorizer: a table of conv units carved out of one
 * contiguous parameter block (and one gradient block of the same layout),
 * the training forward/backward passes, inference with batch norm folded
 * into the convolutions (the mapping to and from the weights file:
 * unet_io.c). */
#include "nn_unet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_layers.h"
#include "nn_winograd.h"

/* Workspace cap: a convolution processes as many images per GEMM as fit. */
#define WORKSPACE_CAP_FLOATS ((size_t)2 << 20)
/* 3×3 stride-1 convolutions on images at least this large run through
 * Winograd F(2×2, 3×3) (inference; in training the forward pass, the input
 * and the weight gradients); smaller ones are faster with im2col. With the
 * AVX-512 transforms the 4×4 level (256 -> 256 channels, batch 64) takes
 * 2 ms by Winograd against 7 ms by im2col. */
#define WINOGRAD_MIN_SIZE 4
/* Where the CPU runs the AVX-512 transforms, fp32 inference on images at
 * least this large runs through F(4×4, 3×3) (measured, 64 images: 96 -> 32
 * channels at 32×32 11.5 -> 7.7 ms, 384 -> 128 at 8×8 8.6 -> 5.8 ms; at
 * 4×4, one tile an image, 2.7 -> 3.4 ms, so not there). */
#define WINOGRAD4_MIN_SIZE 8
/* Packed weights a unit may hold: F(4×4, 3×3)'s positions, the most. */
#define PACKED_SLOTS NN_WINOGRAD4_POSITIONS

struct nn_unet {
    nn_unet_config cfg;
    int max_batch, h, w;
    int n_units;
    nn_unit *units;
    float *params, *grads, *buffers; // contiguous blocks
    size_t n_params, n_buffers;
    float *folded; // BN-folded (weight, bias[, Winograd U]) per unit, for NN_MODE_EVAL
    size_t *folded_offset;
    int *winograd;   // per unit: its 3×3 convolution runs as Winograd F(2×2, 3×3)
    int *winograd4;  // per unit: its inference runs as F(4×4, 3×3) from the packed weights (set at fold time)
    float *wino_u;   // transformed weights of the unit being trained
    float *wino_din; // its input gradient before it is added into din
    int folded_valid;
    nn_gemm_packed_a **packed; // per unit PACKED_SLOTS slots: its weights (or U_k) packed for inference, or NULL
    size_t packed_bytes, peak_bytes; /* the packed weights, and the most with them */
    /* Activations, carved from one block: per unit the conv output, the
     * unit's output and its gradient, plus BN mean/rstd; per decoder level
     * the upsampled tensor, the concatenation and their gradients. */
    float *act_block;
    float **conv_out, **out, **dout, **bn_mean, **bn_rstd;
    float **up, **cat, **dup, **dcat;
    float *scratch; // (max unit output) the batch norm's input gradient
    nn_workspace ws;
    nn_precision precision; /* of NN_MODE_EVAL's products (fp32 unless set) */
    const float *last_in;
    int last_n;     /* images of the last training forward (0: none) */
    int last_n_any; /* images of the last forward of either mode */
    size_t bytes;
};

nn_unet_config nn_unet_default_config(int num_bins) {
    return (nn_unet_config){.in_channels = 4, .base_width = 32, .depth = 4,
                            .num_bins = num_bins, .upsample = NN_UPSAMPLE_BILINEAR,
                            .activation = NN_ACT_RELU, .leaky_slope = 0.2f,
                            .bn_eps = 1e-5f, .bn_momentum = 0.1f};
}

nn_status nn_unet_config_check(const nn_unet_config *c, nn_error *err) {
    if (c->in_channels < 1 || c->in_channels > 64)
        return nn_set_error(err, NN_ERR_INVALID, "in_channels %d is outside 1..64", c->in_channels);
    if (c->base_width < 1 || c->base_width > 512)
        return nn_set_error(err, NN_ERR_INVALID, "base_width %d is outside 1..512", c->base_width);
    if (c->depth < 1 || c->depth > 6)
        return nn_set_error(err, NN_ERR_INVALID, "depth %d is outside 1..6", c->depth);
    if ((long)c->base_width << (c->depth - 1) > 4096)
        return nn_set_error(err, NN_ERR_INVALID, "the widest level would exceed 4096 channels");
    if (c->num_bins < 2 || c->num_bins > 4096)
        return nn_set_error(err, NN_ERR_INVALID, "num_bins %d is outside 2..4096", c->num_bins);
    if (c->upsample != NN_UPSAMPLE_NEAREST && c->upsample != NN_UPSAMPLE_BILINEAR)
        return nn_set_error(err, NN_ERR_INVALID, "unknown upsampling mode %d", (int)c->upsample);
    if (c->activation != NN_ACT_RELU && c->activation != NN_ACT_LEAKY_RELU)
        return nn_set_error(err, NN_ERR_INVALID, "unknown activation %d", (int)c->activation);
    if (!(c->leaky_slope > 0.0f && c->leaky_slope < 1.0f) || !(c->bn_eps > 0.0f && c->bn_eps < 1.0f) ||
        !(c->bn_momentum >= 0.0f && c->bn_momentum <= 1.0f))
        return nn_set_error(err, NN_ERR_INVALID, "leaky_slope, bn_eps or bn_momentum out of range");
    return NN_OK;
}

/* Unit indices: enc l.j is 2l+j, dec l.j is 2D + 2(D-2-l) + j, head last. */
static int unit_enc(const nn_unet *m, int l, int j) { (void)m; return 2 * l + j; }
static int unit_dec(const nn_unet *m, int l, int j) {
    return 2 * m->cfg.depth + 2 * (m->cfg.depth - 2 - l) + j;
}
static int unit_head(const nn_unet *m) { return m->n_units - 1; }
static int width(const nn_unet *m, int l) { return m->cfg.base_width << l; }

static void add_unit(nn_unet *m, int *u, const char *name, int c_in, int c_out, int k,
                     int stride, int has_bn, int in_h, int in_w) {
    nn_unit *t = &m->units[(*u)++];
    memset(t, 0, sizeof *t);
    strncpy(t->name, name, sizeof t->name - 1);
    t->conv = (nn_conv2d_dims){c_in, c_out, k, stride, k / 2, 1};
    t->has_bn = has_bn;
    t->in_h = in_h;
    t->in_w = in_w;
    t->param_count[NN_UNIT_CONV_WEIGHT] = (size_t)c_out * c_in * k * k;
    t->param_count[NN_UNIT_CONV_BIAS] = has_bn ? 0 : (size_t)c_out;
    t->param_count[NN_UNIT_BN_GAMMA] = has_bn ? (size_t)c_out : 0;
    t->param_count[NN_UNIT_BN_BETA] = has_bn ? (size_t)c_out : 0;
    for (int kind = 0; kind < NN_UNIT_PARAM_KINDS; kind++) {
        t->param_offset[kind] = m->n_params;
        m->n_params += t->param_count[kind];
    }
    for (int kind = 0; kind < NN_UNIT_BUFFER_KINDS; kind++) {
        t->buffer_offset[kind] = m->n_buffers;
        m->n_buffers += has_bn ? (size_t)c_out : 0;
    }
}

static void build_units(nn_unet *m) {
    const int D = m->cfg.depth, H = m->h, W = m->w;
    char name[24];
    int u = 0;
    for (int l = 0; l < D; l++) {
        int c_in = l == 0 ? m->cfg.in_channels : width(m, l - 1);
        int ih = l == 0 ? H : H >> (l - 1), iw = l == 0 ? W : W >> (l - 1);
        snprintf(name, sizeof name, "enc%d.0", l);
        add_unit(m, &u, name, c_in, width(m, l), 3, l == 0 ? 1 : 2, 1, ih, iw);
        snprintf(name, sizeof name, "enc%d.1", l);
        add_unit(m, &u, name, width(m, l), width(m, l), 3, 1, 1, H >> l, W >> l);
    }
    for (int l = D - 2; l >= 0; l--) {
        snprintf(name, sizeof name, "dec%d.0", l);
        add_unit(m, &u, name, width(m, l + 1) + width(m, l), width(m, l), 3, 1, 1, H >> l, W >> l);
        snprintf(name, sizeof name, "dec%d.1", l);
        add_unit(m, &u, name, width(m, l), width(m, l), 3, 1, 1, H >> l, W >> l);
    }
    add_unit(m, &u, NN_UNET_CLASSIFIER, m->cfg.base_width, m->cfg.num_bins, 1, 1, 0, H, W);
}

nn_status nn_unet_plan_units(const nn_unet_config *cfg, nn_unit **units, int *n_units, nn_error *err) {
    *units = NULL, *n_units = 0;
    nn_status st = nn_unet_config_check(cfg, err);
    if (st != NN_OK) return st;
    /* the units' table alone (a few kB): no parameters, no activations */
    nn_unet plan = {.cfg = *cfg, .h = 1 << (cfg->depth - 1), .w = 1 << (cfg->depth - 1)};
    plan.n_units = 2 * cfg->depth + 2 * (cfg->depth - 1) + 1;
    plan.units = calloc((size_t)plan.n_units, sizeof *plan.units);
    if (!plan.units) return nn_set_error(err, NN_ERR_NOMEM, "out of memory");
    build_units(&plan);
    *units = plan.units, *n_units = plan.n_units;
    return NN_OK;
}

static size_t unit_out_floats(const nn_unit *t) {
    return (size_t)t->conv.c_out * nn_conv2d_out_size(t->in_h, t->conv) *
           nn_conv2d_out_size(t->in_w, t->conv);
}

static void *xcalloc(nn_unet *m, size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    m->bytes += n * size;
    return p;
}

/* The sizes a model needs beyond its parameters, planned before anything
 * is carved (llm.c: plan sizes first, then carve). */
typedef struct {
    size_t folded;  /* BN-folded weights, biases and Winograd U of every unit */
    size_t acts;    /* the activation block without the scratch plane */
    size_t max_out; /* the largest unit output: the scratch plane */
    size_t ws;      /* the shared convolution workspace */
    size_t max_u;   /* the largest F(4×4, 3×3) U: a unit's transformed weights in training */
    size_t max_in;  /* the largest Winograd unit's input: its input gradient in training */
} unet_sizes;

/* Plans the sizes, and per unit its offset in the folded block and
 * whether it runs as Winograd. */
static unet_sizes plan_sizes(nn_unet *m) {
    unet_sizes z = {0};
    const int max_batch = m->max_batch;
    for (int u = 0; u < m->n_units; u++) {
        const nn_unit *t = &m->units[u];
        m->folded_offset[u] = z.folded;
        z.folded += t->param_count[NN_UNIT_CONV_WEIGHT] + (size_t)t->conv.c_out;
        m->winograd[u] = nn_conv2d_winograd_applies(t->conv) && t->in_h >= WINOGRAD_MIN_SIZE &&
                         t->in_w >= WINOGRAD_MIN_SIZE;
        if (m->winograd[u]) {
            z.folded += nn_conv2d_winograd_weight_floats(t->conv);
            if (nn_conv2d_winograd4_weight_floats(t->conv) > z.max_u) z.max_u = nn_conv2d_winograd4_weight_floats(t->conv);
            size_t in_floats = (size_t)max_batch * t->conv.c_in * t->in_h * t->in_w;
            if (in_floats > z.max_in) z.max_in = in_floats;
        }
        size_t o = unit_out_floats(t) * max_batch;
        z.acts += 3 * o + 2 * (size_t)t->conv.c_out;
        if (o > z.max_out) z.max_out = o;
        size_t need = nn_conv2d_workspace_floats(t->conv, t->in_h, t->in_w, max_batch);
        size_t one = nn_conv2d_workspace_floats(t->conv, t->in_h, t->in_w, 1);
        if (need > WORKSPACE_CAP_FLOATS) need = one > WORKSPACE_CAP_FLOATS ? one : WORKSPACE_CAP_FLOATS;
        if (need > z.ws) z.ws = need;
    }
    for (int l = 0; l + 1 < m->cfg.depth; l++) {
        size_t hw = (size_t)(m->h >> l) * (m->w >> l) * max_batch;
        z.acts += 2 * hw * width(m, l + 1) + 2 * hw * (width(m, l + 1) + width(m, l));
    }
    return z;
}

/* Carves the activation block (planned by plan_sizes) into per-unit and
 * per-level tensors, the scratch plane last. */
static void carve_activations(nn_unet *m) {
    const int L = m->cfg.depth, max_batch = m->max_batch;
    m->out = m->conv_out + m->n_units;
    m->dout = m->out + m->n_units;
    m->bn_mean = m->dout + m->n_units;
    m->bn_rstd = m->bn_mean + m->n_units;
    m->cat = m->up + L;
    m->dup = m->cat + L;
    m->dcat = m->dup + L;
    float *p = m->act_block;
    for (int u = 0; u < m->n_units; u++) {
        size_t o = unit_out_floats(&m->units[u]) * max_batch;
        m->conv_out[u] = p, p += o;
        m->out[u] = p, p += o;
        m->dout[u] = p, p += o;
        m->bn_mean[u] = p, p += m->units[u].conv.c_out;
        m->bn_rstd[u] = p, p += m->units[u].conv.c_out;
    }
    for (int l = 0; l + 1 < L; l++) {
        size_t hw = (size_t)(m->h >> l) * (m->w >> l) * max_batch;
        size_t cu = hw * width(m, l + 1), cc = hw * (width(m, l + 1) + width(m, l));
        m->up[l] = p, p += cu;
        m->dup[l] = p, p += cu;
        m->cat[l] = p, p += cc;
        m->dcat[l] = p, p += cc;
    }
    m->scratch = p;
}

/* The units' table, the parameter, gradient and buffer blocks and the
 * per-unit tables; 0 where memory ran out. */
static int alloc_tables(nn_unet *m) {
    m->units = xcalloc(m, m->n_units, sizeof *m->units);
    if (!m->units) return 0;
    build_units(m);
    m->params = xcalloc(m, m->n_params, sizeof(float));
    m->grads = xcalloc(m, m->n_params, sizeof(float));
    m->buffers = xcalloc(m, m->n_buffers, sizeof(float));
    m->folded_offset = xcalloc(m, m->n_units, sizeof(size_t));
    m->winograd = xcalloc(m, m->n_units, sizeof(int));
    m->winograd4 = xcalloc(m, m->n_units, sizeof(int));
    m->packed = xcalloc(m, (size_t)m->n_units * PACKED_SLOTS, sizeof *m->packed);
    return m->params && m->grads && m->buffers && m->folded_offset && m->winograd && m->winograd4 && m->packed;
}

/* The blocks planned by plan_sizes; 0 where memory ran out. */
static int alloc_planned(nn_unet *m, unet_sizes z) {
    m->folded = xcalloc(m, z.folded, sizeof(float));
    m->wino_u = xcalloc(m, z.max_u, sizeof(float));
    m->wino_din = xcalloc(m, z.max_in, sizeof(float)); /* touched only by training */
    m->act_block = xcalloc(m, z.acts + z.max_out, sizeof(float));
    m->ws.data = xcalloc(m, z.ws, sizeof(float));
    m->ws.floats = z.ws;
    m->conv_out = xcalloc(m, 5 * (size_t)m->n_units, sizeof(float *));
    m->up = xcalloc(m, 4 * (size_t)m->cfg.depth, sizeof(float *));
    return m->folded && m->act_block && m->ws.data && m->conv_out && m->up && m->wino_u && m->wino_din;
}

nn_status nn_unet_create(nn_unet **out, const nn_unet_config *cfg, int max_batch, int h, int w,
                         nn_error *err) {
    *out = NULL;
    nn_status st = nn_unet_config_check(cfg, err);
    if (st != NN_OK) return st;
    int mult = 1 << (cfg->depth - 1);
    if (max_batch < 1 || max_batch > 65536 || h < mult || w < mult || h % mult || w % mult ||
        h > 4096 || w > 4096)
        return nn_set_error(err, NN_ERR_INVALID,
                            "model input %d×%d (batch %d): sizes must be multiples of %d", h, w,
                            max_batch, mult);
    nn_unet *m = calloc(1, sizeof *m);
    if (!m) return nn_set_error(err, NN_ERR_NOMEM, "out of memory");
    m->cfg = *cfg;
    m->max_batch = max_batch;
    m->h = h;
    m->w = w;
    m->n_units = 2 * cfg->depth + 2 * (cfg->depth - 1) + 1;
    if (!alloc_tables(m) || !alloc_planned(m, plan_sizes(m))) {
        nn_unet_free(m);
        return nn_set_error(err, NN_ERR_NOMEM, "out of memory creating the model");
    }
    carve_activations(m);
    *out = m;
    return NN_OK;
}

static void free_packed(nn_unet *m) {
    for (size_t i = 0; m->packed && i < (size_t)m->n_units * PACKED_SLOTS; i++) nn_gemm_packed_a_free(m->packed[i]), m->packed[i] = NULL;
}

void nn_unet_free(nn_unet *m) {
    if (!m) return;
    free(m->units);
    free(m->params);
    free(m->grads);
    free(m->buffers);
    free(m->folded);
    free(m->folded_offset);
    free_packed(m);
    free(m->packed);
    free(m->winograd);
    free(m->winograd4);
    free(m->wino_u);
    free(m->wino_din);
    free(m->act_block);
    free(m->ws.data);
    free(m->conv_out);
    free(m->up);
    free(m);
}

const nn_unet_config *nn_unet_get_config(const nn_unet *m) { return &m->cfg; }
int nn_unet_num_units(const nn_unet *m) { return m->n_units; }
const nn_unit *nn_unet_unit(const nn_unet *m, int i) { return &m->units[i]; }
size_t nn_unet_bytes(const nn_unet *m) {
    return (m->peak_bytes > m->bytes ? m->peak_bytes : m->bytes) + sizeof *m;
}

float *nn_unet_params(nn_unet *m, size_t *count) {
    if (count) *count = m->n_params;
    return m->params;
}

float *nn_unet_grads(nn_unet *m, size_t *count) {
    if (count) *count = m->n_params;
    return m->grads;
}

float *nn_unet_buffers(nn_unet *m, size_t *count) {
    if (count) *count = m->n_buffers;
    return m->buffers;
}

float *nn_unet_param(nn_unet *m, int unit, nn_unit_param kind) {
    const nn_unit *t = &m->units[unit];
    return t->param_count[kind] ? m->params + t->param_offset[kind] : NULL;
}

float *nn_unet_grad(nn_unet *m, int unit, nn_unit_param kind) {
    const nn_unit *t = &m->units[unit];
    return t->param_count[kind] ? m->grads + t->param_offset[kind] : NULL;
}

float *nn_unet_buffer(nn_unet *m, int unit, nn_unit_buffer kind) {
    const nn_unit *t = &m->units[unit];
    return t->has_bn ? m->buffers + t->buffer_offset[kind] : NULL;
}

void nn_unet_params_changed(nn_unet *m) { m->folded_valid = 0; }

const float *nn_unet_unit_output(const nn_unet *m, int unit, nn_shape *shape) {
    const nn_unit *t = &m->units[unit];
    if (shape)
        *shape = (nn_shape){m->last_n_any, t->conv.c_out, nn_conv2d_out_size(t->in_h, t->conv),
                            nn_conv2d_out_size(t->in_w, t->conv)};
    return unit == m->n_units - 1 ? m->conv_out[unit] : m->out[unit];
}

void nn_unet_init(nn_unet *m, uint64_t seed) {
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    memset(m->params, 0, m->n_params * sizeof(float));
    for (int u = 0; u < m->n_units; u++) {
        const nn_unit *t = &m->units[u];
        nn_init_he_normal(nn_unet_param(m, u, NN_UNIT_CONV_WEIGHT),
                          t->param_count[NN_UNIT_CONV_WEIGHT], t->conv.c_in * t->conv.k * t->conv.k,
                          &rng);
        if (t->has_bn) {
            float *g = nn_unet_param(m, u, NN_UNIT_BN_GAMMA);
            float *rv = nn_unet_buffer(m, u, NN_UNIT_BN_RUNNING_VAR);
            float *rm = nn_unet_buffer(m, u, NN_UNIT_BN_RUNNING_MEAN);
            for (int c = 0; c < t->conv.c_out; c++) g[c] = rv[c] = 1.0f, rm[c] = 0.0f;
        }
    }
    m->folded_valid = 0;
}

void nn_unet_zero_grads(nn_unet *m) { memset(m->grads, 0, m->n_params * sizeof(float)); }

/* Whether a Winograd unit's fp32 convolutions run through F(4×4, 3×3):
 * inference, and in training the forward pass and the input gradient (the
 * weight gradient stays F(2×2, 3×3)). */
static int takes_winograd4(const nn_unit *t) {
    return t->in_w >= WINOGRAD4_MIN_SIZE && t->in_h >= WINOGRAD4_MIN_SIZE &&
           nn_conv2d_winograd4_applies(t->conv, t->in_w);
}

/* For fp32 inference where F(4×4, 3×3) applies: its transformed weights
 * packed (the transform itself freed); 0 where it does not apply or
 * memory is short. */
static int pack_winograd4(nn_gemm_packed_a **packed, const float *w, const nn_unit *t, nn_precision precision) {
    if (precision != NN_PRECISION_FP32 || !takes_winograd4(t)) return 0;
    float *U4 = malloc(sizeof(float) * nn_conv2d_winograd4_weight_floats(t->conv));
    if (!U4) return 0;
    nn_conv2d_winograd4_weights(U4, w, t->conv);
    const int ok = nn_conv2d_winograd4_pack(packed, U4, t->conv) == NN_OK;
    if (!ok) nn_conv2d_winograd4_packed_free(packed);
    free(U4);
    return ok;
}

/* The folded weights, then packed for the products at the model's
 * precision (where memory is short a unit runs unpacked). */
static void fold_all(nn_unet *m) {
    free_packed(m);
    for (int u = 0; u < m->n_units; u++) {
        const nn_unit *t = &m->units[u];
        size_t per_out = (size_t)t->conv.c_in * t->conv.k * t->conv.k;
        float *w = m->folded + m->folded_offset[u];
        float *b = w + t->param_count[NN_UNIT_CONV_WEIGHT];
        memcpy(w, nn_unet_param(m, u, NN_UNIT_CONV_WEIGHT),
               t->param_count[NN_UNIT_CONV_WEIGHT] * sizeof(float));
        const float *bias = nn_unet_param(m, u, NN_UNIT_CONV_BIAS);
        for (int c = 0; c < t->conv.c_out; c++) b[c] = bias ? bias[c] : 0.0f;
        if (t->has_bn)
            nn_batchnorm_fold(w, b, nn_unet_param(m, u, NN_UNIT_BN_GAMMA),
                              nn_unet_param(m, u, NN_UNIT_BN_BETA),
                              nn_unet_buffer(m, u, NN_UNIT_BN_RUNNING_MEAN),
                              nn_unet_buffer(m, u, NN_UNIT_BN_RUNNING_VAR), t->conv.c_out,
                              per_out, m->cfg.bn_eps);
        nn_gemm_packed_a **packed = m->packed + (size_t)u * PACKED_SLOTS;
        m->winograd4[u] = 0;
        if (m->winograd[u]) { /* F(4×4, 3×3) where it applies, else F(2×2, 3×3)'s U (kept unpacked if memory is short) */
            m->winograd4[u] = pack_winograd4(packed, w, t, m->precision);
            if (!m->winograd4[u]) {
                nn_conv2d_winograd_weights(b + t->conv.c_out, w, t->conv);
                if (nn_conv2d_winograd_pack(packed, b + t->conv.c_out, t->conv, m->precision) != NN_OK)
                    nn_conv2d_winograd_packed_free(packed);
            }
        } else {
            packed[0] = nn_conv2d_pack_weights(w, t->conv, m->precision);
        }
    }
    m->packed_bytes = 0;
    for (size_t i = 0; i < (size_t)m->n_units * PACKED_SLOTS; i++) m->packed_bytes += nn_gemm_packed_a_bytes(m->packed[i]);
    if (m->bytes + m->packed_bytes > m->peak_bytes) m->peak_bytes = m->bytes + m->packed_bytes;
    m->folded_valid = 1;
}

static nn_shape unit_in_shape(const nn_unit *t, int n) {
    return (nn_shape){n, t->conv.c_in, t->in_h, t->in_w};
}

static nn_shape unit_out_shape(const nn_unit *t, int n) {
    return (nn_shape){n, t->conv.c_out, nn_conv2d_out_size(t->in_h, t->conv),
                      nn_conv2d_out_size(t->in_w, t->conv)};
}

static nn_epilogue activation_epilogue(const nn_unet *m) {
    return (nn_epilogue){m->cfg.activation == NN_ACT_RELU ? NN_EPILOGUE_RELU : NN_EPILOGUE_LEAKY_RELU,
                         m->cfg.leaky_slope};
}

/* conv -> BN -> activation (the head: conv only, into conv_out). */
static nn_status unit_forward(nn_unet *m, int u, const float *in, int n, nn_forward_mode mode) {
    const nn_unit *t = &m->units[u];
    const nn_shape is = unit_in_shape(t, n), os = unit_out_shape(t, n);
    const int head = u == unit_head(m);
    if (mode == NN_MODE_EVAL) {
        const float *w = m->folded + m->folded_offset[u];
        float *dst = head ? m->conv_out[u] : m->out[u];
        const float *b = w + t->param_count[NN_UNIT_CONV_WEIGHT];
        /* batch norm is in the weights; the activation is applied as the outputs are written */
        const nn_epilogue ep = head ? (nn_epilogue){NN_EPILOGUE_NONE, 0.0f} : activation_epilogue(m);
        const nn_gemm_packed_a *const *packed = (const nn_gemm_packed_a *const *)m->packed + (size_t)u * PACKED_SLOTS;
        if (m->winograd4[u]) return nn_conv2d_forward_winograd4_packed_cat_ep(dst, in, is.C, NULL, packed, b, is, t->conv, ep);
        if (m->winograd[u])
            return packed[0] ? nn_conv2d_forward_winograd_packed_ep(dst, in, packed, b, is, t->conv, ep)
                             : nn_conv2d_forward_winograd_ep(dst, in, b + t->conv.c_out, b, is, t->conv, m->ws, ep);
        return packed[0] ? nn_conv2d_forward_packed_ep(dst, in, packed[0], b, is, t->conv, m->ws, ep)
                         : nn_conv2d_forward_ep(dst, in, w, b, is, t->conv, m->ws, ep);
    }
    const float *weight = nn_unet_param(m, u, NN_UNIT_CONV_WEIGHT), *bias = nn_unet_param(m, u, NN_UNIT_CONV_BIAS);
    nn_status st;
    if (m->winograd[u]) {
        if (takes_winograd4(t)) {
            nn_conv2d_winograd4_weights(m->wino_u, weight, t->conv);
            st = nn_conv2d_forward_winograd4(m->conv_out[u], in, m->wino_u, bias, is, t->conv);
        } else {
            nn_conv2d_winograd_weights(m->wino_u, weight, t->conv);
            st = nn_conv2d_forward_winograd(m->conv_out[u], in, m->wino_u, bias, is, t->conv, m->ws);
        }
    } else {
        st = nn_conv2d_forward(m->conv_out[u], in, weight, bias, is, t->conv, m->ws);
    }
    if (st != NN_OK || head) return st;
    nn_batchnorm_forward_train_ep(m->out[u], m->bn_mean[u], m->bn_rstd[u],
                                  nn_unet_buffer(m, u, NN_UNIT_BN_RUNNING_MEAN),
                                  nn_unet_buffer(m, u, NN_UNIT_BN_RUNNING_VAR), m->conv_out[u],
                                  nn_unet_param(m, u, NN_UNIT_BN_GAMMA), nn_unet_param(m, u, NN_UNIT_BN_BETA), os,
                                  m->cfg.bn_momentum, m->cfg.bn_eps, activation_epilogue(m));
    return NN_OK;
}

/* Whether unit u's inference can read its input as two tensors (the
 * upsampled level below and the skip connection) instead of their
 * concatenation: through Winograd from the packed weights. */
static int eval_reads_two_inputs(const nn_unet *m, int u) {
    return m->winograd[u] && m->packed[(size_t)u * PACKED_SLOTS] != NULL;
}

/* A decoder unit's inference over [up, skip] concatenated along the
 * channels, without the copy (up: c_up channels). */
static nn_status unit_forward_eval_cat(nn_unet *m, int u, const float *up, int c_up, const float *skip, int n) {
    const nn_unit *t = &m->units[u];
    const float *w = m->folded + m->folded_offset[u];
    const float *b = w + t->param_count[NN_UNIT_CONV_WEIGHT];
    const nn_gemm_packed_a *const *packed = (const nn_gemm_packed_a *const *)m->packed + (size_t)u * PACKED_SLOTS;
    if (m->winograd4[u])
        return nn_conv2d_forward_winograd4_packed_cat_ep(m->out[u], up, c_up, skip, packed, b, unit_in_shape(t, n),
                                                         t->conv, activation_epilogue(m));
    return nn_conv2d_forward_winograd_packed_cat_ep(m->out[u], up, c_up, skip, packed, b, unit_in_shape(t, n), t->conv,
                                                    activation_epilogue(m));
}

/* Given the gradient of the unit's output (dout[u], or dlogits for the
 * head), adds into the parameter gradients and into din. */
static nn_status unit_backward(nn_unet *m, int u, const float *in, float *din,
                               const float *dlogits, int n) {
    const nn_unit *t = &m->units[u];
    const nn_shape is = unit_in_shape(t, n), os = unit_out_shape(t, n);
    const size_t count = nn_shape_numel(os);
    const float *dconv = dlogits;
    if (u != unit_head(m)) {
        float *dbn_in = m->scratch;
        memset(dbn_in, 0, count * sizeof(float));
        /* through the activation and the batch norm in one pass */
        nn_batchnorm_backward_ep(dbn_in, nn_unet_grad(m, u, NN_UNIT_BN_GAMMA), nn_unet_grad(m, u, NN_UNIT_BN_BETA),
                                 m->dout[u], m->out[u], m->conv_out[u], m->bn_mean[u], m->bn_rstd[u],
                                 nn_unet_param(m, u, NN_UNIT_BN_GAMMA), os, activation_epilogue(m));
        dconv = dbn_in;
    }
    const float *weight = nn_unet_param(m, u, NN_UNIT_CONV_WEIGHT);
    if (!m->winograd[u])
        return nn_conv2d_backward(din, nn_unet_grad(m, u, NN_UNIT_CONV_WEIGHT), nn_unet_grad(m, u, NN_UNIT_CONV_BIAS),
                                  dconv, in, weight, is, t->conv, m->ws);
    /* the weight gradient by Winograd too (im2col where there is a conv
     * bias to sum as well); the input gradient as a Winograd convolution of
     * dconv with the flipped kernels, added into din */
    float *dbias = nn_unet_grad(m, u, NN_UNIT_CONV_BIAS);
    nn_status st = dbias ? nn_conv2d_backward(NULL, nn_unet_grad(m, u, NN_UNIT_CONV_WEIGHT), dbias, dconv, in, weight,
                                              is, t->conv, m->ws)
                         : nn_conv2d_backward_weights_winograd(nn_unet_grad(m, u, NN_UNIT_CONV_WEIGHT), m->wino_u,
                                                               dconv, in, is, t->conv);
    if (st != NN_OK || !din) return st;
    const nn_conv2d_dims td = {t->conv.c_out, t->conv.c_in, 3, 1, 1, 1};
    if (takes_winograd4(t)) {
        nn_conv2d_winograd4_weights_transposed(m->wino_u, weight, t->conv);
        st = nn_conv2d_forward_winograd4(m->wino_din, dconv, m->wino_u, NULL, os, td);
    } else {
        nn_conv2d_winograd_weights_transposed(m->wino_u, weight, t->conv);
        st = nn_conv2d_forward_winograd(m->wino_din, dconv, m->wino_u, NULL, os, td, m->ws);
    }
    if (st != NN_OK) return st;
    const size_t nin = nn_shape_numel(is);
    for (size_t i = 0; i < nin; i++) din[i] += m->wino_din[i];
    return NN_OK;
}

/* The tensor each unit reads. */
static const float *unit_input(nn_unet *m, int u, const float *in) {
    const int D = m->cfg.depth;
    if (u == 0) return in;
    if (u < 2 * D) return m->out[u - 1];
    if (u == unit_head(m)) return m->out[u - 1];
    int k = u - 2 * D, l = D - 2 - k / 2;
    return k % 2 == 0 ? m->cat[l] : m->out[u - 1];
}

/* The output feeding decoder level l's upsampling. */
static int below(const nn_unet *m, int l) {
    return l == m->cfg.depth - 2 ? unit_enc(m, m->cfg.depth - 1, 1) : unit_dec(m, l + 1, 1);
}

static nn_status upsample_forward(nn_unet *m, int l, int n) {
    nn_shape s = {n, width(m, l + 1), m->h >> (l + 1), m->w >> (l + 1)};
    if (m->cfg.upsample == NN_UPSAMPLE_BILINEAR) return nn_upsample2x_bilinear_forward(m->up[l], m->out[below(m, l)], s);
    nn_upsample2x_nearest_forward(m->up[l], m->out[below(m, l)], s);
    return NN_OK;
}

/* Every unit but the head, into m->out[unit_head(m) - 1]. */
static nn_status forward_trunk(nn_unet *m, const float *in, int n, nn_forward_mode mode) {
    if (mode == NN_MODE_EVAL && !m->folded_valid) fold_all(m);
    m->ws.precision = mode == NN_MODE_EVAL ? m->precision : NN_PRECISION_FP32; /* training stays fp32 */
    const int D = m->cfg.depth;
    nn_status st = NN_OK;
    for (int l = 0; l < D && st == NN_OK; l++) {
        st = unit_forward(m, unit_enc(m, l, 0), unit_input(m, unit_enc(m, l, 0), in), n, mode);
        if (st == NN_OK) st = unit_forward(m, unit_enc(m, l, 1), m->out[unit_enc(m, l, 0)], n, mode);
    }
    for (int l = D - 2; l >= 0 && st == NN_OK; l--) {
        st = upsample_forward(m, l, n);
        if (st != NN_OK) break;
        const int u = unit_dec(m, l, 0);
        if (mode == NN_MODE_EVAL && eval_reads_two_inputs(m, u)) {
            st = unit_forward_eval_cat(m, u, m->up[l], width(m, l + 1), m->out[unit_enc(m, l, 1)], n);
        } else {
            int hw = (m->h >> l) * (m->w >> l);
            nn_concat_forward(m->cat[l], m->up[l], m->out[unit_enc(m, l, 1)], n, width(m, l + 1), width(m, l), hw);
            st = unit_forward(m, u, m->cat[l], n, mode);
        }
        if (st == NN_OK) st = unit_forward(m, unit_dec(m, l, 1), m->out[unit_dec(m, l, 0)], n, mode);
    }
    return st;
}

static nn_status check_forward(const nn_unet *m, int n, nn_error *err) {
    if (n < 1 || n > m->max_batch)
        return nn_set_error(err, NN_ERR_INVALID, "batch of %d images; the model holds 1..%d", n, m->max_batch);
    return nn_blas_address_space_check(err);
}

nn_status nn_unet_forward(nn_unet *m, const float *in, int n, nn_forward_mode mode,
                          const float **logits, nn_error *err) {
    nn_status st = check_forward(m, n, err);
    if (st != NN_OK) return st;
    st = forward_trunk(m, in, n, mode);
    if (st == NN_OK) st = unit_forward(m, unit_head(m), m->out[unit_head(m) - 1], n, mode);
    if (st != NN_OK) return nn_set_error(err, st, "forward pass failed: %s", nn_status_name(st));
    m->last_in = in;
    m->last_n = mode == NN_MODE_TRAIN ? n : 0;
    m->last_n_any = n;
    *logits = m->conv_out[unit_head(m)];
    nn_blas_buffers_mapped();
    return NN_OK;
}

nn_status nn_unet_forward_features(nn_unet *m, const float *in, int n, const float **features, nn_error *err) {
    nn_status st = check_forward(m, n, err);
    if (st != NN_OK) return st;
    st = forward_trunk(m, in, n, NN_MODE_EVAL);
    if (st != NN_OK) return nn_set_error(err, st, "forward pass failed: %s", nn_status_name(st));
    m->last_in = in;
    m->last_n = 0;
    m->last_n_any = n;
    *features = m->out[unit_head(m) - 1];
    nn_blas_buffers_mapped();
    return NN_OK;
}

void nn_unet_head_columns(const nn_unet *m, const float *features, int p0, int np, float *logits) {
    const int u = unit_head(m), hw = m->h * m->w;
    const nn_unit *t = &m->units[u];
    const float *w = m->folded + m->folded_offset[u], *b = w + t->param_count[NN_UNIT_CONV_WEIGHT];
    const nn_gemm_packed_a *packed = m->packed[(size_t)u * PACKED_SLOTS];
    if (packed)
        nn_sgemm_serial_packed_a(packed, np, 1.0f, features + p0, hw, 0.0f, logits, np);
    else
        nn_sgemm_serial(0, 0, t->conv.c_out, np, t->conv.c_in, 1.0f, w, t->conv.c_in, features + p0, hw, 0.0f, logits,
                        np);
    for (int q = 0; q < t->conv.c_out; q++) {
        float *row = logits + (size_t)q * np;
        for (int i = 0; i < np; i++) row[i] += b[q];
    }
}

nn_status nn_unet_backward(nn_unet *m, const float *dlogits, float *din, nn_error *err) {
    const int n = m->last_n, D = m->cfg.depth;
    if (n < 1)
        return nn_set_error(err, NN_ERR_INVALID, "backward pass without a training forward pass");
    for (int u = 0; u < m->n_units; u++)
        memset(m->dout[u], 0, unit_out_floats(&m->units[u]) * n * sizeof(float));
    nn_status st = unit_backward(m, unit_head(m), m->out[unit_head(m) - 1], m->dout[unit_head(m) - 1],
                                 dlogits, n);
    for (int l = 0; l + 1 < D && st == NN_OK; l++) {
        int hw = (m->h >> l) * (m->w >> l);
        size_t cu = (size_t)n * width(m, l + 1) * hw;
        memset(m->dup[l], 0, cu * sizeof(float));
        memset(m->dcat[l], 0, (cu + (size_t)n * width(m, l) * hw) * sizeof(float));
        st = unit_backward(m, unit_dec(m, l, 1), m->out[unit_dec(m, l, 0)],
                           m->dout[unit_dec(m, l, 0)], NULL, n);
        if (st == NN_OK) st = unit_backward(m, unit_dec(m, l, 0), m->cat[l], m->dcat[l], NULL, n);
        if (st != NN_OK) break;
        nn_concat_backward(m->dup[l], m->dout[unit_enc(m, l, 1)], m->dcat[l], n, width(m, l + 1),
                           width(m, l), hw);
        nn_shape s = {n, width(m, l + 1), m->h >> (l + 1), m->w >> (l + 1)};
        if (m->cfg.upsample == NN_UPSAMPLE_BILINEAR) st = nn_upsample2x_bilinear_backward(m->dout[below(m, l)], m->dup[l], s);
        else nn_upsample2x_nearest_backward(m->dout[below(m, l)], m->dup[l], s);
    }
    for (int l = D - 1; l >= 0 && st == NN_OK; l--) {
        st = unit_backward(m, unit_enc(m, l, 1), m->out[unit_enc(m, l, 0)],
                           m->dout[unit_enc(m, l, 0)], NULL, n);
        if (st == NN_OK)
            st = unit_backward(m, unit_enc(m, l, 0), unit_input(m, unit_enc(m, l, 0), m->last_in),
                               l == 0 ? din : m->dout[unit_enc(m, l - 1, 1)], NULL, n);
    }
    if (st != NN_OK) return nn_set_error(err, st, "backward pass failed: %s", nn_status_name(st));
    return NN_OK;
}

void nn_unet_set_precision(nn_unet *m, nn_precision precision) {
    if (precision != m->precision) m->folded_valid = 0; /* the weights are packed for the precision */
    m->precision = precision;
}
nn_precision nn_unet_get_precision(const nn_unet *m) { return m->precision; }
