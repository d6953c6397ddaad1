/* ab.c — the quantized ab plane: the grid of colour bins, and the decoding
 * of per-pixel logits over the bins into ab (the annealed mean of Zhang et
 * al. 2016, and the mode). */
#include "nn_ab.h"

#include <math.h>
#include <stdlib.h>

#include "../private/nn_internal.h"

/* One bin's share of the annealed mean over a block of pixels. Not inlined:
 * GCC would otherwise interchange the loops and lose the vectorization; an
 * AVX2 clone is chosen at run time where the CPU has it (the arithmetic is
 * the same: ISO C mode contracts no multiply-add into an FMA). */
NN_VECTOR_CLONES static void accumulate_bin(float *restrict sum, float *restrict sa, float *restrict sb, const float *restrict lq,
                           const float *restrict mx, float bq, float inv_t, float ca, float cb, int np) {
    for (int i = 0; i < np; i++) {
        float p = nn_softmax_exp((lq[i] + bq) * inv_t - mx[i]);
        sum[i] += p;
        sa[i] += p * ca;
        sb[i] += p * cb;
    }
}

/* mx = max(mx, (lq + bq) / T) over a block of pixels (not inlined, as above). */
NN_VECTOR_CLONES static void running_max(float *restrict mx, const float *restrict lq, float bq, float inv_t,
                                                  int np) {
    for (int i = 0; i < np; i++) {
        float v = (lq[i] + bq) * inv_t;
        mx[i] = v > mx[i] ? v : mx[i];
    }
}

void nn_decode_annealed_mean_pixels(float *a, float *b, const float *logits, size_t stride, int np,
                                    const float *bin_ab, const float *bias, int Q, float inv_t) {
    float mx[NN_PIXEL_BLOCK], sum[NN_PIXEL_BLOCK], sa[NN_PIXEL_BLOCK], sb[NN_PIXEL_BLOCK];
    for (int p0 = 0; p0 < np; p0 += NN_PIXEL_BLOCK) {
        const int n = np - p0 < NN_PIXEL_BLOCK ? np - p0 : NN_PIXEL_BLOCK;
        for (int i = 0; i < n; i++) {
            mx[i] = -INFINITY;
            sum[i] = sa[i] = sb[i] = 0.0f;
        }
        for (int q = 0; q < Q; q++) running_max(mx, logits + (size_t)q * stride + p0, bias ? bias[q] : 0.0f, inv_t, n);
        for (int q = 0; q < Q; q++)
            accumulate_bin(sum, sa, sb, logits + (size_t)q * stride + p0, mx, bias ? bias[q] : 0.0f, inv_t,
                           bin_ab[2 * q], bin_ab[2 * q + 1], n);
        for (int i = 0; i < n; i++) {
            a[p0 + i] = sa[i] / sum[i];
            b[p0 + i] = sb[i] / sum[i];
        }
    }
}

typedef struct {
    float *ab;
    const float *logits, *bin_ab, *bias;
    int Q, hw;
    float inv_t;
} decode_job;

static void decode_mean_images(void *ctx, int n0, int n1) {
    const decode_job *j = ctx;
    for (int n = n0; n < n1; n++) {
        float *ab = j->ab + (size_t)n * 2 * j->hw;
        nn_decode_annealed_mean_pixels(ab, ab + j->hw, j->logits + (size_t)n * j->Q * j->hw, (size_t)j->hw, j->hw,
                                       j->bin_ab, j->bias, j->Q, j->inv_t);
    }
}

void nn_decode_annealed_mean(float *ab, const float *logits, const float *bin_ab, const float *bias,
                             int N, int Q, int hw, float T) {
    decode_job j = {.ab = ab, .logits = logits, .bin_ab = bin_ab, .bias = bias, .Q = Q, .hw = hw,
                    .inv_t = nn_decode_inverse_temperature(T)};
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
