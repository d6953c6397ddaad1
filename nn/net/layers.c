/* layers.c — batch normalization (training, inference and folding), ReLU and
 * leaky ReLU, 2× nearest and bilinear upsampling, channel concatenation. */
#include "nn_layers.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../private/nn_internal.h"

/* ------------------------------------------------------------ batch norm */

typedef struct {
    float *out, *mean, *rstd, *running_mean, *running_var;
    float *din, *dgamma, *dbeta;
    const float *in, *dout, *gamma, *beta, *cmean, *crstd;
    const float *act_out; /* backward: the activation's output, whose gradient dout is (NULL: none) */
    nn_shape s;
    float momentum, eps;
    nn_epilogue ep;
} bn_job;

#define BN_LANES 8

/* Σ x, then Σ (x - mu)², of one channel over the batch, each in BN_LANES
 * double lanes (independent sums that vectorize, in a fixed order) added
 * up at the end. */
NN_VECTOR_CLONES static double channel_sum(const float *in, int N, size_t plane_stride, size_t hw, double mu,
                                           int squares) {
    double lane[BN_LANES] = {0};
    for (int n = 0; n < N; n++) {
        const float *x = in + (size_t)n * plane_stride;
        size_t i = 0;
        for (; i + BN_LANES <= hw; i += BN_LANES)
            for (int k = 0; k < BN_LANES; k++) {
                const double t = (double)x[i + k] - mu;
                lane[k] += squares ? t * t : t;
            }
        for (; i < hw; i++) {
            const double t = (double)x[i] - mu;
            lane[i % BN_LANES] += squares ? t * t : t;
        }
    }
    double total = 0.0;
    for (int k = 0; k < BN_LANES; k++) total += lane[k];
    return total;
}

static void bn_train_channels(void *ctx, int c0, int c1) {
    const bn_job *j = ctx;
    const size_t hw = (size_t)j->s.H * j->s.W, m = (size_t)j->s.N * hw, plane_stride = (size_t)j->s.C * hw;
    for (int c = c0; c < c1; c++) {
        const float *in = j->in + (size_t)c * hw;
        const double mu = channel_sum(in, j->s.N, plane_stride, hw, 0.0, 0) / (double)m;
        const double sq = channel_sum(in, j->s.N, plane_stride, hw, mu, 1);
        const double var = sq / (double)m;
        const float rstd = (float)(1.0 / sqrt(var + j->eps));
        j->mean[c] = (float)mu;
        j->rstd[c] = rstd;
        if (j->running_mean) {
            double unbiased = m > 1 ? sq / (double)(m - 1) : var;
            j->running_mean[c] = (1.0f - j->momentum) * j->running_mean[c] + j->momentum * (float)mu;
            j->running_var[c] = (1.0f - j->momentum) * j->running_var[c] + j->momentum * (float)unbiased;
        }
        const float scale = j->gamma[c] * rstd, shift = j->beta[c] - (float)mu * scale;
        for (int n = 0; n < j->s.N; n++) {
            const size_t off = (size_t)n * plane_stride + (size_t)c * hw;
            for (size_t i = 0; i < hw; i++) j->out[off + i] = j->in[off + i] * scale + shift;
            nn_epilogue_apply(j->out + off, hw, j->ep); /* while the plane is in cache */
        }
    }
}

void nn_batchnorm_forward_train(float *out, float *mean, float *rstd,
                                float *running_mean, float *running_var,
                                const float *in, const float *gamma, const float *beta,
                                nn_shape s, float momentum, float eps) {
    nn_batchnorm_forward_train_ep(out, mean, rstd, running_mean, running_var, in, gamma, beta, s, momentum, eps,
                                  (nn_epilogue){NN_EPILOGUE_NONE, 0.0f});
}

void nn_batchnorm_forward_train_ep(float *out, float *mean, float *rstd, float *running_mean, float *running_var,
                                   const float *in, const float *gamma, const float *beta, nn_shape s,
                                   float momentum, float eps, nn_epilogue ep) {
    bn_job j = {.out = out, .mean = mean, .rstd = rstd, .running_mean = running_mean,
                .running_var = running_var, .in = in, .gamma = gamma, .beta = beta,
                .s = s, .momentum = momentum, .eps = eps, .ep = ep};
    nn_parallel_for(s.C, bn_train_channels, &j);
}

void nn_batchnorm_forward_eval(float *out, const float *in, const float *gamma,
                               const float *beta, const float *running_mean,
                               const float *running_var, nn_shape s, float eps) {
    const size_t hw = (size_t)s.H * s.W;
    for (int c = 0; c < s.C; c++) {
        float scale = gamma[c] / sqrtf(running_var[c] + eps);
        float shift = beta[c] - running_mean[c] * scale;
        for (int n = 0; n < s.N; n++) {
            size_t off = ((size_t)n * s.C + c) * hw;
            for (size_t i = 0; i < hw; i++) out[off + i] = in[off + i] * scale + shift;
        }
    }
}

/* The factor of dout through the activation where its output is not
 * positive: 0 for ReLU, the slope for leaky ReLU, 1 without one. */
static float activation_negative_factor(nn_epilogue ep) {
    return ep.kind == NN_EPILOGUE_RELU ? 0.0f : ep.kind == NN_EPILOGUE_LEAKY_RELU ? ep.slope : 1.0f;
}

#define BN_CHUNK 512 /* dy is formed a chunk at a time, then summed */

/* Σ dy and Σ dy·x̂ of one channel over the batch (dy = dout through the
 * activation, whose output is y: dout · (y > 0 ? 1 : neg)), in BN_LANES
 * double lanes added up at the end. */
NN_VECTOR_CLONES static void bn_backward_sums(const float *dout, const float *y, const float *in, int N,
                                              size_t plane_stride, size_t hw, float mu, float rstd, float neg,
                                              double *sum_dy, double *sum_dy_xhat) {
    double ld[BN_LANES] = {0}, lx[BN_LANES] = {0};
    float dy[BN_CHUNK], xh[BN_CHUNK];
    for (int n = 0; n < N; n++) {
        const size_t off = (size_t)n * plane_stride;
        for (size_t i0 = 0; i0 < hw; i0 += BN_CHUNK) {
            const size_t len = hw - i0 < BN_CHUNK ? hw - i0 : BN_CHUNK;
            const float *d = dout + off + i0, *x = in + off + i0, *a = y + off + i0;
            for (size_t i = 0; i < len; i++) {
                dy[i] = d[i] * (a[i] > 0.0f ? 1.0f : neg);
                xh[i] = dy[i] * ((x[i] - mu) * rstd);
            }
            size_t i = 0;
            for (; i + BN_LANES <= len; i += BN_LANES)
                for (int k = 0; k < BN_LANES; k++) ld[k] += dy[i + k], lx[k] += xh[i + k];
            for (; i < len; i++) ld[(i0 + i) % BN_LANES] += dy[i], lx[(i0 + i) % BN_LANES] += xh[i];
        }
    }
    double td = 0.0, tx = 0.0;
    for (int k = 0; k < BN_LANES; k++) td += ld[k], tx += lx[k];
    *sum_dy = td, *sum_dy_xhat = tx;
}

/* din += γ·rstd·(dy - mean(dy) - x̂·mean(dy·x̂)) for one channel. */
NN_VECTOR_CLONES static void bn_backward_din(float *din, const float *dout, const float *y, const float *in, int N,
                                             size_t plane_stride, size_t hw, float mu, float rstd, float g,
                                             float mean_dy, float mean_dy_xhat, float neg) {
    for (int n = 0; n < N; n++) {
        const size_t off = (size_t)n * plane_stride;
        const float *d = dout + off, *x = in + off, *a = y + off;
        float *o = din + off;
        for (size_t i = 0; i < hw; i++) {
            const float dy = d[i] * (a[i] > 0.0f ? 1.0f : neg);
            const float xhat = (x[i] - mu) * rstd;
            o[i] += g * rstd * (dy - mean_dy - xhat * mean_dy_xhat);
        }
    }
}

static void bn_backward_channels(void *ctx, int c0, int c1) {
    const bn_job *j = ctx;
    const size_t hw = (size_t)j->s.H * j->s.W, m = (size_t)j->s.N * hw, plane_stride = (size_t)j->s.C * hw;
    for (int c = c0; c < c1; c++) {
        const size_t off = (size_t)c * hw;
        /* without an activation any array serves as y: the factor is 1 either way */
        const float *y = j->act_out ? j->act_out + off : j->dout + off;
        const float neg = j->act_out ? activation_negative_factor(j->ep) : 1.0f;
        double sum_dy, sum_dy_xhat;
        bn_backward_sums(j->dout + off, y, j->in + off, j->s.N, plane_stride, hw, j->cmean[c], j->crstd[c], neg,
                         &sum_dy, &sum_dy_xhat);
        j->dgamma[c] += (float)sum_dy_xhat;
        j->dbeta[c] += (float)sum_dy;
        if (j->din)
            bn_backward_din(j->din + off, j->dout + off, y, j->in + off, j->s.N, plane_stride, hw, j->cmean[c],
                            j->crstd[c], j->gamma[c], (float)(sum_dy / (double)m), (float)(sum_dy_xhat / (double)m),
                            neg);
    }
}

void nn_batchnorm_backward(float *din, float *dgamma, float *dbeta, const float *dout,
                           const float *in, const float *mean, const float *rstd,
                           const float *gamma, nn_shape s) {
    nn_batchnorm_backward_ep(din, dgamma, dbeta, dout, NULL, in, mean, rstd, gamma, s,
                             (nn_epilogue){NN_EPILOGUE_NONE, 0.0f});
}

void nn_batchnorm_backward_ep(float *din, float *dgamma, float *dbeta, const float *dout, const float *act_out,
                              const float *in, const float *mean, const float *rstd, const float *gamma, nn_shape s,
                              nn_epilogue ep) {
    bn_job j = {.din = din, .dgamma = dgamma, .dbeta = dbeta, .dout = dout, .in = in, .act_out = act_out,
                .cmean = mean, .crstd = rstd, .gamma = gamma, .s = s, .ep = ep};
    nn_parallel_for(s.C, bn_backward_channels, &j);
}

void nn_batchnorm_fold(float *weight, float *bias, const float *gamma, const float *beta,
                       const float *running_mean, const float *running_var, int c_out,
                       size_t per_out, float eps) {
    for (int co = 0; co < c_out; co++) {
        float scale = gamma[co] / sqrtf(running_var[co] + eps);
        for (size_t i = 0; i < per_out; i++) weight[co * per_out + i] *= scale;
        bias[co] = (bias[co] - running_mean[co]) * scale + beta[co];
    }
}

/* ----------------------------------------------------------- activations */

void nn_relu_forward(float *out, const float *in, size_t n) {
    nn_epilogue_forward(out, in, n, (nn_epilogue){NN_EPILOGUE_RELU, 0.0f});
}

void nn_relu_backward(float *din, const float *dout, const float *out, size_t n) {
    for (size_t i = 0; i < n; i++) din[i] += out[i] > 0.0f ? dout[i] : 0.0f;
}

void nn_leaky_relu_forward(float *out, const float *in, size_t n, float slope) {
    nn_epilogue_forward(out, in, n, (nn_epilogue){NN_EPILOGUE_LEAKY_RELU, slope});
}

void nn_leaky_relu_backward(float *din, const float *dout, const float *out, size_t n,
                            float slope) {
    for (size_t i = 0; i < n; i++) din[i] += out[i] > 0.0f ? dout[i] : slope * dout[i];
}

/* ------------------------------------------------------------ upsampling */

void nn_upsample2x_nearest_forward(float *out, const float *in, nn_shape s) {
    const size_t planes = (size_t)s.N * s.C;
    const int w2 = 2 * s.W;
    for (size_t pl = 0; pl < planes; pl++) {
        const float *src = in + pl * s.H * s.W;
        float *dst = out + pl * 4 * s.H * s.W;
        for (int y = 0; y < s.H; y++) {
            float *r0 = dst + (size_t)(2 * y) * w2;
            for (int x = 0; x < s.W; x++) r0[2 * x] = r0[2 * x + 1] = src[y * s.W + x];
            memcpy(r0 + w2, r0, sizeof(float) * w2);
        }
    }
}

void nn_upsample2x_nearest_backward(float *din, const float *dout, nn_shape s) {
    const size_t planes = (size_t)s.N * s.C;
    const int w2 = 2 * s.W;
    for (size_t pl = 0; pl < planes; pl++) {
        float *dst = din + pl * s.H * s.W;
        const float *src = dout + pl * 4 * s.H * s.W;
        for (int y = 0; y < s.H; y++) {
            const float *r0 = src + (size_t)(2 * y) * w2, *r1 = r0 + w2;
            for (int x = 0; x < s.W; x++)
                dst[y * s.W + x] += r0[2 * x] + r0[2 * x + 1] + r1[2 * x] + r1[2 * x + 1];
        }
    }
}

/* Source taps of output coordinate o for an input of size n, as PyTorch's
 * align_corners=False: src = (o + 0.5) / 2 - 0.5, clamped at 0. */
static void bilinear_taps(int o, int n, int *i0, int *i1, float *frac) {
    float src = (o + 0.5f) * 0.5f - 0.5f;
    if (src < 0.0f) src = 0.0f;
    int lo = (int)src;
    if (lo > n - 1) lo = n - 1;
    *i0 = lo;
    *i1 = lo + 1 < n ? lo + 1 : n - 1;
    *frac = src - (float)lo;
}

typedef struct {
    float *out;
    const float *in;
    nn_shape s;
    atomic_int failed; /* a range could not get its row buffer */
} upsample_job;

/* dst += f · src over n floats. */
NN_VECTOR_CLONES static void add_scaled_row(float *restrict dst, const float *restrict src, float f, int n) {
    for (int i = 0; i < n; i++) dst[i] += f * src[i];
}

/* r[ox] = (1 - fx) s[x0] + fx s[x1] for the 2W outputs of an input row s.
 * Inside the row the taps of a 2× upsampling are x0 = i - 1, x1 = i for
 * ox = 2i and x0 = i, x1 = i + 1 for ox = 2i + 1: those outputs are read
 * without the tap tables' indirection, so that the loop vectorizes. */
NN_VECTOR_CLONES static void bilinear_row(float *restrict r, const float *restrict s, int W, const int *x0,
                                          const int *x1, const float *restrict fx) {
    r[0] = (1.0f - fx[0]) * s[x0[0]] + fx[0] * s[x1[0]];
    for (int i = 1; i < W; i++) { /* ox = 2i - 1 and 2i */
        r[2 * i - 1] = (1.0f - fx[2 * i - 1]) * s[i - 1] + fx[2 * i - 1] * s[i];
        r[2 * i] = (1.0f - fx[2 * i]) * s[i - 1] + fx[2 * i] * s[i];
    }
    r[2 * W - 1] = (1.0f - fx[2 * W - 1]) * s[x0[2 * W - 1]] + fx[2 * W - 1] * s[x1[2 * W - 1]];
}

/* Rows first (each input row interpolated along x once), then each output
 * row blends two of them: the same arithmetic as the per-pixel formula, as
 * vector operations along the rows. */
/* The column taps of a 2× upsampling of rows of W pixels and a buffer of
 * H rows of 2W; 0 (the job marked failed) where memory is short. */
typedef struct {
    int *x0, *x1;
    float *fx, *rows;
} bilinear_buffers;

static int bilinear_buffers_get(upsample_job *j, bilinear_buffers *b) {
    const int H = j->s.H, W = j->s.W;
    b->x0 = malloc(sizeof(int) * 2 * (size_t)W * 2), b->x1 = b->x0 ? b->x0 + 2 * W : NULL;
    b->fx = malloc(sizeof(float) * 2 * (size_t)W), b->rows = malloc(sizeof(float) * 2 * (size_t)W * H);
    if (!b->x0 || !b->fx || !b->rows) {
        atomic_store(&j->failed, 1);
        free(b->x0), free(b->fx), free(b->rows);
        return 0;
    }
    for (int ox = 0; ox < 2 * W; ox++) bilinear_taps(ox, W, &b->x0[ox], &b->x1[ox], &b->fx[ox]);
    return 1;
}

static void bilinear_buffers_free(bilinear_buffers *b) { free(b->x0), free(b->fx), free(b->rows); }

static void bilinear_forward_planes(void *ctx, int p0, int p1) {
    upsample_job *j = ctx;
    const int H = j->s.H, W = j->s.W;
    bilinear_buffers bb;
    if (!bilinear_buffers_get(j, &bb)) return;
    for (int pl = p0; pl < p1; pl++) {
        const float *src = j->in + (size_t)pl * H * W;
        float *dst = j->out + (size_t)pl * 4 * H * W;
        for (int y = 0; y < H; y++)
            bilinear_row(bb.rows + (size_t)y * 2 * W, src + (size_t)y * W, W, bb.x0, bb.x1, bb.fx);
        for (int oy = 0; oy < 2 * H; oy++) {
            int y0, y1;
            float fy;
            bilinear_taps(oy, H, &y0, &y1, &fy);
            const float *top = bb.rows + (size_t)y0 * 2 * W, *bot = bb.rows + (size_t)y1 * 2 * W;
            float *d = dst + (size_t)oy * 2 * W;
            for (int ox = 0; ox < 2 * W; ox++) d[ox] = (1.0f - fy) * top[ox] + fy * bot[ox];
        }
    }
    bilinear_buffers_free(&bb);
}

/* The adjoint of the forward's two passes: each gradient row of the
 * output added into the two rows it came from (a vector operation along
 * the row), then each of those rows' columns into the input columns. */
static void bilinear_backward_planes(void *ctx, int p0, int p1) {
    upsample_job *j = ctx;
    const int H = j->s.H, W = j->s.W;
    bilinear_buffers bb;
    if (!bilinear_buffers_get(j, &bb)) return;
    const int *x0 = bb.x0, *x1 = bb.x1;
    const float *fx = bb.fx;
    for (int pl = p0; pl < p1; pl++) {
        float *dsrc = j->out + (size_t)pl * H * W;
        const float *g = j->in + (size_t)pl * 4 * H * W;
        float *rows = bb.rows;
        memset(rows, 0, sizeof(float) * 2 * (size_t)W * H);
        for (int oy = 0; oy < 2 * H; oy++) {
            int y0, y1;
            float fy;
            bilinear_taps(oy, H, &y0, &y1, &fy);
            add_scaled_row(rows + (size_t)y0 * 2 * W, g + (size_t)oy * 2 * W, 1.0f - fy, 2 * W);
            add_scaled_row(rows + (size_t)y1 * 2 * W, g + (size_t)oy * 2 * W, fy, 2 * W);
        }
        for (int y = 0; y < H; y++) {
            const float *r = rows + (size_t)y * 2 * W;
            float *d = dsrc + (size_t)y * W;
            for (int ox = 0; ox < 2 * W; ox++) {
                d[x0[ox]] += (1.0f - fx[ox]) * r[ox];
                d[x1[ox]] += fx[ox] * r[ox];
            }
        }
    }
    bilinear_buffers_free(&bb);
}

nn_status nn_upsample2x_bilinear_forward(float *out, const float *in, nn_shape s) {
    upsample_job j = {out, in, s, 0};
    nn_parallel_for(s.N * s.C, bilinear_forward_planes, &j);
    return atomic_load(&j.failed) ? NN_ERR_NOMEM : NN_OK;
}

nn_status nn_upsample2x_bilinear_backward(float *din, const float *dout, nn_shape s) {
    upsample_job j = {din, dout, s, 0};
    nn_parallel_for(s.N * s.C, bilinear_backward_planes, &j);
    return atomic_load(&j.failed) ? NN_ERR_NOMEM : NN_OK;
}

/* ---------------------------------------------------------------- concat */

typedef struct {
    float *out, *da, *db;
    const float *a, *b, *dout;
    int ca, cb, hw;
} concat_job;

static void concat_forward_images(void *ctx, int n0, int n1) {
    const concat_job *j = ctx;
    const size_t sa = (size_t)j->ca * j->hw, sb = (size_t)j->cb * j->hw;
    for (int n = n0; n < n1; n++) {
        memcpy(j->out + (size_t)n * (sa + sb), j->a + (size_t)n * sa, sizeof(float) * sa);
        memcpy(j->out + (size_t)n * (sa + sb) + sa, j->b + (size_t)n * sb, sizeof(float) * sb);
    }
}

static void concat_backward_images(void *ctx, int n0, int n1) {
    const concat_job *j = ctx;
    const size_t sa = (size_t)j->ca * j->hw, sb = (size_t)j->cb * j->hw;
    for (int n = n0; n < n1; n++) {
        const float *g = j->dout + (size_t)n * (sa + sb);
        float *pa = j->da + (size_t)n * sa, *pb = j->db + (size_t)n * sb;
        for (size_t i = 0; i < sa; i++) pa[i] += g[i];
        for (size_t i = 0; i < sb; i++) pb[i] += g[sa + i];
    }
}

void nn_concat_forward(float *out, const float *a, const float *b, int N, int ca, int cb, int hw) {
    concat_job j = {.out = out, .a = a, .b = b, .ca = ca, .cb = cb, .hw = hw};
    nn_parallel_for(N, concat_forward_images, &j);
}

void nn_concat_backward(float *da, float *db, const float *dout, int N, int ca, int cb, int hw) {
    concat_job j = {.da = da, .db = db, .dout = dout, .ca = ca, .cb = cb, .hw = hw};
    nn_parallel_for(N, concat_backward_images, &j);
}
