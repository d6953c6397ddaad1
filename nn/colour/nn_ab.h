/* nn_ab.h — the quantized ab plane: the bin grid and the decoding of logits
 * into ab. Implemented by ab.c. Part of the nn library; include nn.h for all
 * of it. */
#ifndef NN_AB_H
#define NN_AB_H

#include <stddef.h>
#include <stdint.h>

#include "nn_core.h"
#include "nn_weights.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The quantized ab plane: a square grid of `size`×`size` cells of width
 * `step` whose first centre is `min` (default: 10, -110, 23). */
typedef struct {
    float step, min;
    int size;
} nn_ab_grid;

nn_ab_grid nn_ab_grid_default(void);
/* The rebalancing's uniform mixing weight λ (Zhang et al. 2016): the
 * trainer's default, and what a file from before the key was written
 * means. A double, so that help texts can G_STRINGIFY it. */
#define NN_DEFAULT_REBALANCE_LAMBDA 0.5
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

/* The annealed mean (ab.c) of np pixels on this thread: logits (Q rows
 * `stride` apart) plus bias[q] (or none), over the temperature 1 / inv_t,
 * into a[0 .. np) and b[0 .. np). */
void nn_decode_annealed_mean_pixels(float *a, float *b, const float *logits, size_t stride, int np,
                                    const float *bin_ab, const float *bias, int Q, float inv_t);
/* 1 / T for the annealed mean, T kept at 1e-3 or more. */
static inline float nn_decode_inverse_temperature(float T) { return 1.0f / (T > 1e-3f ? T : 1e-3f); }

/* The quantized ab targets of a model: the grid, its in-gamut bins (cells
 * seen in the training data) with their centres, the rebalancing weights
 * and their λ, and (for training targets) the nearest bin of every cell.
 * The one type of the library and the trainer. */
typedef struct {
    nn_ab_grid grid;
    int num_bins;
    uint32_t *bins;   /* (Q) grid cells */
    float *bin_ab;    /* (Q, 2) their centres */
    float *rebalance; /* (Q) rebalancing weights, or NULL */
    int *cell_to_bin; /* (size * size) nearest bin of each cell, or NULL */
    float lambda;     /* the rebalancing's λ */
} nn_ab_bins;
/* bin_ab, and cell_to_bin where cell_map, from grid and bins (malloc'd;
 * NN_ERR_NOMEM, the rest left for nn_ab_bins_free). */
nn_status nn_ab_bins_finish(nn_ab_bins *b, int cell_map);
/* The bins of a weights file's metadata (nn_ab_metadata_get, λ or its
 * default), finished; `name` in messages. */
nn_status nn_ab_bins_from_weights(nn_ab_bins *b, const nn_weights *w, const char *name, int num_bins, int cell_map,
                                  nn_error *err);
void nn_ab_bins_free(nn_ab_bins *b);
/* The nearest of Q bins (centres bin_ab) to each cell of grid g, into
 * cell_to_bin (g.size² entries). */
void nn_ab_cell_map(nn_ab_grid g, const float *bin_ab, int Q, int *cell_to_bin);

/* Reads and validates the ab-grid metadata of w (ab.grid_*, ab.bins with
 * num_bins entries, optional ab.rebalance_weights); allocates *bins and
 * *rebalance (NULL when absent), which the caller frees. */
nn_status nn_ab_metadata_get(const nn_weights *w, const char *name, int num_bins, nn_ab_grid *grid,
                             uint32_t **bins, float **rebalance, nn_error *err);
#ifdef __cplusplus
}
#endif
#endif
