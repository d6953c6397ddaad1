/* nn_ab.h — the quantized ab plane: the bin grid and the decoding of logits
 * into ab. Part of the nn library; include nn.h for all of it. */
#ifndef NN_AB_H
#define NN_AB_H

#include <stddef.h>
#include <stdint.h>

#include "nn_core.h"

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

#ifdef __cplusplus
}
#endif
#endif
