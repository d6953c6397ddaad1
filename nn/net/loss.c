/* loss.c — per-pixel softmax cross-entropy with class weights, L1 and Huber
 * losses. */
#include "nn_loss.h"

#include <math.h>
#include <stdlib.h>

#include "nn_core.h"
#include "../private/nn_internal.h"

/* Softmax over Q for a block of pixels of one image; logits are strided by
 * hw. Writes probs at the same layout and returns log-sum-exp per pixel. */
NN_VECTOR_CLONES static void softmax_block(float *probs, const float *logits, int Q, int hw, int p0, int np,
                          float inv_t, float *lse) {
    float mx[NN_PIXEL_BLOCK], sum[NN_PIXEL_BLOCK];
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
            pr[i] = nn_softmax_exp(l[i] * inv_t - mx[i]);
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
    float *probs, *dlogits;
    const float *logits, *class_weights;
    const int32_t *targets;
    double *image_loss;
    int Q, hw, bad;
    float scale;
} xent_job;

static void xent_forward_images(void *ctx, int n0, int n1) {
    xent_job *j = ctx;
    float lse[NN_PIXEL_BLOCK];
    for (int n = n0; n < n1; n++) {
        const float *l = j->logits + (size_t)n * j->Q * j->hw;
        float *pr = j->probs + (size_t)n * j->Q * j->hw;
        const int32_t *t = j->targets + (size_t)n * j->hw;
        double acc = 0.0;
        for (int p0 = 0; p0 < j->hw; p0 += NN_PIXEL_BLOCK) {
            int np = j->hw - p0 < NN_PIXEL_BLOCK ? j->hw - p0 : NN_PIXEL_BLOCK;
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
    float s[NN_PIXEL_BLOCK];
    for (int n = n0; n < n1; n++) {
        const float *pr = j->probs + (size_t)n * j->Q * j->hw;
        float *dl = j->dlogits + (size_t)n * j->Q * j->hw;
        const int32_t *t = j->targets + (size_t)n * j->hw;
        for (int p0 = 0; p0 < j->hw; p0 += NN_PIXEL_BLOCK) {
            int np = j->hw - p0 < NN_PIXEL_BLOCK ? j->hw - p0 : NN_PIXEL_BLOCK;
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
