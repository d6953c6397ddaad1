/* loss.c — per-pixel softmax cross-entropy with class weights, L1 and Huber
 * losses, and the decoding of ab-bin logits (annealed mean and mode). */
#include "nn.h"

#include <math.h>
#include <stdlib.h>

#define PIXEL_BLOCK 256

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

static inline float softmax_exp(float x) {
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

/* Softmax over Q for a block of pixels of one image; logits are strided by
 * hw. Writes probs at the same layout and returns log-sum-exp per pixel. */
static void softmax_block(float *probs, const float *logits, int Q, int hw, int p0, int np,
                          float inv_t, float *lse) {
    float mx[PIXEL_BLOCK], sum[PIXEL_BLOCK];
    for (int i = 0; i < np; i++) {
        mx[i] = -INFINITY;
        sum[i] = 0.0f;
    }
    for (int q = 0; q < Q; q++) {
        const float *l = logits + (size_t)q * hw + p0;
        for (int i = 0; i < np; i++) { float v = l[i] * inv_t; mx[i] = v > mx[i] ? v : mx[i]; }
    }
    for (int q = 0; q < Q; q++) {
        const float *l = logits + (size_t)q * hw + p0;
        float *pr = probs + (size_t)q * hw + p0;
        for (int i = 0; i < np; i++) {
            pr[i] = softmax_exp(l[i] * inv_t - mx[i]);
            sum[i] += pr[i];
        }
    }
    for (int i = 0; i < np; i++) {
        if (lse) lse[i] = mx[i] + logf(sum[i]);
        sum[i] = 1.0f / sum[i];
    }
    for (int q = 0; q < Q; q++) {
        float *pr = probs + (size_t)q * hw + p0;
        for (int i = 0; i < np; i++) pr[i] *= sum[i];
    }
}

typedef struct {
    float *probs, *dlogits, *ab;
    const float *logits, *class_weights, *bin_ab, *bias;
    const int32_t *targets;
    double *image_loss;
    int Q, hw, bad;
    float scale, inv_t;
} xent_job;

static void xent_forward_images(void *ctx, int n0, int n1) {
    xent_job *j = ctx;
    float lse[PIXEL_BLOCK];
    for (int n = n0; n < n1; n++) {
        const float *l = j->logits + (size_t)n * j->Q * j->hw;
        float *pr = j->probs + (size_t)n * j->Q * j->hw;
        const int32_t *t = j->targets + (size_t)n * j->hw;
        double acc = 0.0;
        for (int p0 = 0; p0 < j->hw; p0 += PIXEL_BLOCK) {
            int np = j->hw - p0 < PIXEL_BLOCK ? j->hw - p0 : PIXEL_BLOCK;
            softmax_block(pr, l, j->Q, j->hw, p0, np, 1.0f, lse);
            for (int i = 0; i < np; i++) {
                int32_t c = t[p0 + i];
                if (c < 0 || c >= j->Q) {
                    j->bad = 1;
                    continue;
                }
                float w = j->class_weights ? j->class_weights[c] : 1.0f;
                acc += (double)w * (lse[i] - l[(size_t)c * j->hw + p0 + i]);
            }
        }
        j->image_loss[n] = acc;
    }
}

float nn_softmax_xent_forward(float *probs, const float *logits, const int32_t *targets,
                              const float *class_weights, int N, int Q, int hw) {
    double *image_loss = malloc(sizeof(double) * (N > 0 ? N : 1));
    if (!image_loss) return NAN;
    xent_job j = {.probs = probs, .logits = logits, .class_weights = class_weights,
                  .targets = targets, .image_loss = image_loss, .Q = Q, .hw = hw};
    nn_parallel_for(N, xent_forward_images, &j);
    double total = 0.0;
    for (int n = 0; n < N; n++) total += image_loss[n];
    free(image_loss);
    if (j.bad) return NAN;
    return (float)(total / ((double)N * hw));
}

/* dlogits += scale * w[t] * (probs - onehot(t)), contiguous over pixels. */
static void xent_backward_images(void *ctx, int n0, int n1) {
    const xent_job *j = ctx;
    float s[PIXEL_BLOCK];
    for (int n = n0; n < n1; n++) {
        const float *pr = j->probs + (size_t)n * j->Q * j->hw;
        float *dl = j->dlogits + (size_t)n * j->Q * j->hw;
        const int32_t *t = j->targets + (size_t)n * j->hw;
        for (int p0 = 0; p0 < j->hw; p0 += PIXEL_BLOCK) {
            int np = j->hw - p0 < PIXEL_BLOCK ? j->hw - p0 : PIXEL_BLOCK;
            for (int i = 0; i < np; i++) {
                int32_t c = t[p0 + i];
                s[i] = c < 0 || c >= j->Q ? 0.0f
                                          : j->scale * (j->class_weights ? j->class_weights[c] : 1.0f);
            }
            for (int q = 0; q < j->Q; q++) {
                const float *pq = pr + (size_t)q * j->hw + p0;
                float *dq = dl + (size_t)q * j->hw + p0;
                for (int i = 0; i < np; i++) dq[i] += s[i] * pq[i];
            }
            for (int i = 0; i < np; i++) {
                int32_t c = t[p0 + i];
                if (c >= 0 && c < j->Q) dl[(size_t)c * j->hw + p0 + i] -= s[i];
            }
        }
    }
}

void nn_softmax_xent_backward(float *dlogits, const float *probs, const int32_t *targets,
                              const float *class_weights, int N, int Q, int hw, float dloss) {
    xent_job j = {.probs = (float *)probs, .dlogits = dlogits, .class_weights = class_weights,
                  .targets = targets, .Q = Q, .hw = hw,
                  .scale = dloss / (float)((double)N * hw)};
    nn_parallel_for(N, xent_backward_images, &j);
}

float nn_l1_forward(const float *pred, const float *target, size_t n) {
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) acc += fabsf(pred[i] - target[i]);
    return n ? (float)(acc / (double)n) : 0.0f;
}

void nn_l1_backward(float *dpred, const float *pred, const float *target, size_t n,
                    float dloss) {
    float s = dloss / (float)n;
    for (size_t i = 0; i < n; i++) {
        float d = pred[i] - target[i];
        dpred[i] += d > 0.0f ? s : (d < 0.0f ? -s : 0.0f);
    }
}

float nn_huber_forward(const float *pred, const float *target, size_t n, float delta) {
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) {
        float d = fabsf(pred[i] - target[i]);
        acc += d < delta ? 0.5 * d * d : delta * (d - 0.5 * delta);
    }
    return n ? (float)(acc / (double)n) : 0.0f;
}

void nn_huber_backward(float *dpred, const float *pred, const float *target, size_t n,
                       float delta, float dloss) {
    float s = dloss / (float)n;
    for (size_t i = 0; i < n; i++) {
        float d = pred[i] - target[i];
        float g = d < -delta ? -delta : (d > delta ? delta : d);
        dpred[i] += s * g;
    }
}

/* -------------------------------------------------------------- decoding */

/* AVX2 clones chosen at run time, never inlined (clang never inlines a
 * multiversioned function and refuses the explicit attribute). */
#if defined(__clang__)
#define VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VECTOR_CLONES __attribute__((noinline, target_clones("avx2", "default")))
#endif

/* One bin's share of the annealed mean over a block of pixels. Not inlined:
 * GCC would otherwise interchange the loops and lose the vectorization; an
 * AVX2 clone is chosen at run time where the CPU has it (the arithmetic is
 * the same: ISO C mode contracts no multiply-add into an FMA). */
VECTOR_CLONES static void accumulate_bin(float *restrict sum, float *restrict sa, float *restrict sb, const float *restrict lq,
                           const float *restrict mx, float bq, float inv_t, float ca, float cb, int np) {
    for (int i = 0; i < np; i++) {
        float p = softmax_exp((lq[i] + bq) * inv_t - mx[i]);
        sum[i] += p;
        sa[i] += p * ca;
        sb[i] += p * cb;
    }
}

/* mx = max(mx, (lq + bq) / T) over a block of pixels (not inlined, as above). */
VECTOR_CLONES static void running_max(float *restrict mx, const float *restrict lq, float bq, float inv_t,
                                                  int np) {
    for (int i = 0; i < np; i++) {
        float v = (lq[i] + bq) * inv_t;
        mx[i] = v > mx[i] ? v : mx[i];
    }
}

static void decode_mean_images(void *ctx, int n0, int n1) {
    const xent_job *j = ctx;
    float mx[PIXEL_BLOCK], sum[PIXEL_BLOCK], sa[PIXEL_BLOCK], sb[PIXEL_BLOCK];
    for (int n = n0; n < n1; n++) {
        const float *l = j->logits + (size_t)n * j->Q * j->hw;
        float *ab = j->ab + (size_t)n * 2 * j->hw;
        for (int p0 = 0; p0 < j->hw; p0 += PIXEL_BLOCK) {
            int np = j->hw - p0 < PIXEL_BLOCK ? j->hw - p0 : PIXEL_BLOCK;
            for (int i = 0; i < np; i++) {
                mx[i] = -INFINITY;
                sum[i] = sa[i] = sb[i] = 0.0f;
            }
            for (int q = 0; q < j->Q; q++) {
                const float *lq = l + (size_t)q * j->hw + p0;
                const float bq = j->bias ? j->bias[q] : 0.0f;
                running_max(mx, lq, bq, j->inv_t, np);
            }
            for (int q = 0; q < j->Q; q++) {
                const float *lq = l + (size_t)q * j->hw + p0;
                const float ca = j->bin_ab[2 * q], cb = j->bin_ab[2 * q + 1], bq = j->bias ? j->bias[q] : 0.0f;
                accumulate_bin(sum, sa, sb, lq, mx, bq, j->inv_t, ca, cb, np);
            }
            for (int i = 0; i < np; i++) {
                ab[p0 + i] = sa[i] / sum[i];
                ab[j->hw + p0 + i] = sb[i] / sum[i];
            }
        }
    }
}

void nn_decode_annealed_mean(float *ab, const float *logits, const float *bin_ab, const float *bias,
                             int N, int Q, int hw, float T) {
    if (!(T > 1e-3f)) T = 1e-3f;
    xent_job j = {.ab = ab, .logits = logits, .bin_ab = bin_ab, .bias = bias, .Q = Q, .hw = hw,
                  .inv_t = 1.0f / T};
    nn_parallel_for(N, decode_mean_images, &j);
}

void nn_decode_mode(float *ab, const float *logits, const float *bin_ab, int N, int Q,
                    int hw) {
    for (int n = 0; n < N; n++) {
        const float *l = logits + (size_t)n * Q * hw;
        float *out = ab + (size_t)n * 2 * hw;
        for (int p = 0; p < hw; p++) {
            int best = 0;
            for (int q = 1; q < Q; q++)
                if (l[(size_t)q * hw + p] > l[(size_t)best * hw + p]) best = q;
            out[p] = bin_ab[2 * best];
            out[hw + p] = bin_ab[2 * best + 1];
        }
    }
}

nn_ab_grid nn_ab_grid_default(void) { return (nn_ab_grid){10.0f, -110.0f, 23}; }

int nn_ab_grid_cell(nn_ab_grid g, float a, float b) {
    int ia = (int)lrintf((a - g.min) / g.step), ib = (int)lrintf((b - g.min) / g.step);
    ia = ia < 0 ? 0 : (ia >= g.size ? g.size - 1 : ia);
    ib = ib < 0 ? 0 : (ib >= g.size ? g.size - 1 : ib);
    return ia * g.size + ib;
}

void nn_ab_grid_center(nn_ab_grid g, int cell, float *a, float *b) {
    *a = g.min + g.step * (float)(cell / g.size);
    *b = g.min + g.step * (float)(cell % g.size);
}
