/* ab.c — the quantized ab plane: the grid of colour bins, the decoding of
 * per-pixel logits over the bins into ab (the annealed mean of Zhang et al.
 * 2016, and the mode), and a model's bins (nn_ab_bins) read from a weights
 * file's metadata with their centres, rebalancing weights, λ and the
 * nearest-bin map. */
#include "nn_ab.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_keys.h"
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

nn_status nn_ab_metadata_get(const nn_weights *w, const char *name, int num_bins, nn_ab_grid *grid,
                             uint32_t **bins_out, float **rebalance_out, nn_error *err) {
    *bins_out = NULL, *rebalance_out = NULL;
    nn_error e = {0};
    float step, min;
    uint32_t size;
    if (nn_weights_get_f32(w, NN_KEY_AB_GRID_STEP, &step, &e) || nn_weights_get_f32(w, NN_KEY_AB_GRID_MIN, &min, &e) ||
        nn_weights_get_u32(w, NN_KEY_AB_GRID_SIZE, &size, &e))
        return nn_set_error(err, NN_ERR_FORMAT, "%s: %s", name, e.msg);
    if (!(step > 0.0f && step <= 100.0f) || !(min >= -200.0f && min <= 0.0f) || size < 2 || size > 128)
        return nn_set_error(err, NN_ERR_FORMAT, "%s: absurd ab grid (step %g, min %g, size %u)", name, step, min, size);
    *grid = (nn_ab_grid){step, min, (int)size};
    const nn_meta *bins = nn_weights_get(w, NN_KEY_AB_BINS);
    if (!bins || bins->type != NN_META_U32_ARRAY || bins->count != (uint64_t)num_bins)
        return nn_set_error(err, NN_ERR_FORMAT, "%s: '" NN_KEY_AB_BINS "' is missing or does not list the model's %d bins",
                            name, num_bins);
    const uint32_t *cells = bins->array;
    for (int q = 0; q < num_bins; q++)
        if (cells[q] >= size * size)
            return nn_set_error(err, NN_ERR_FORMAT, "%s: ab bin %d names grid cell %u outside the %u×%u grid",
                                name, q, cells[q], size, size);
    *bins_out = malloc(sizeof(uint32_t) * (size_t)num_bins);
    if (!*bins_out) return nn_set_error(err, NN_ERR_NOMEM, "%s: out of memory", name);
    memcpy(*bins_out, cells, sizeof(uint32_t) * (size_t)num_bins);
    const nn_meta *reb = nn_weights_get(w, NN_KEY_AB_REBALANCE_WEIGHTS);
    const char *bad = !reb ? NULL
                      : reb->type != NN_META_F32_ARRAY || reb->count != (uint64_t)num_bins ? "is not one weight per bin"
                                                                                             : NULL;
    for (uint64_t q = 0; reb && !bad && q < reb->count; q++) {
        const float v = ((const float *)reb->array)[q];
        if (!(v > 0.0f && v < 1e30f)) bad = "holds a weight that is not a positive number";
    }
    if (bad) {
        free(*bins_out), *bins_out = NULL;
        return nn_set_error(err, NN_ERR_FORMAT, "%s: 'ab.rebalance_weights' %s (%d bins)", name, bad, num_bins);
    }
    if (reb) {
        *rebalance_out = malloc(sizeof(float) * (size_t)num_bins);
        if (!*rebalance_out) {
            free(*bins_out), *bins_out = NULL;
            return nn_set_error(err, NN_ERR_NOMEM, "%s: out of memory", name);
        }
        memcpy(*rebalance_out, reb->array, sizeof(float) * (size_t)num_bins);
    }
    return NN_OK;
}

nn_status nn_ab_bins_finish(nn_ab_bins *b, int cell_map) {
    const size_t cells = (size_t)b->grid.size * b->grid.size;
    b->bin_ab = malloc(sizeof(float) * 2 * (size_t)b->num_bins);
    if (cell_map) b->cell_to_bin = malloc(sizeof(int) * cells);
    if (!b->bin_ab || (cell_map && !b->cell_to_bin)) return NN_ERR_NOMEM;
    for (int q = 0; q < b->num_bins; q++)
        nn_ab_grid_center(b->grid, (int)b->bins[q], &b->bin_ab[2 * q], &b->bin_ab[2 * q + 1]);
    if (cell_map) nn_ab_cell_map(b->grid, b->bin_ab, b->num_bins, b->cell_to_bin);
    return NN_OK;
}

void nn_ab_cell_map(nn_ab_grid g, const float *bin_ab, int Q, int *cell_to_bin) {
    for (int cell = 0; cell < g.size * g.size; cell++) {
        float a, b;
        nn_ab_grid_center(g, cell, &a, &b);
        int best = 0;
        float best_d = INFINITY;
        for (int q = 0; q < Q; q++) {
            const float da = a - bin_ab[2 * q], db = b - bin_ab[2 * q + 1], d = da * da + db * db;
            if (d < best_d) best_d = d, best = q;
        }
        cell_to_bin[cell] = best;
    }
}

nn_status nn_ab_bins_from_weights(nn_ab_bins *b, const nn_weights *w, const char *name, int num_bins, int cell_map,
                                  nn_error *err) {
    memset(b, 0, sizeof *b);
    b->num_bins = num_bins;
    nn_status st = nn_ab_metadata_get(w, name, num_bins, &b->grid, &b->bins, &b->rebalance, err);
    if (st) return st;
    b->lambda = (float)NN_DEFAULT_REBALANCE_LAMBDA; /* files written before the key existed */
    nn_weights_get_f32(w, NN_KEY_AB_REBALANCE_LAMBDA, &b->lambda, NULL);
    if (nn_ab_bins_finish(b, cell_map) != NN_OK) {
        nn_ab_bins_free(b);
        return nn_set_error(err, NN_ERR_NOMEM, "%s: out of memory", name);
    }
    return NN_OK;
}

void nn_ab_bins_free(nn_ab_bins *b) {
    free(b->bins), free(b->bin_ab), free(b->rebalance), free(b->cell_to_bin);
    memset(b, 0, sizeof *b);
}
