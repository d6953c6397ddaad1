/* nn_guided.h — the engine's upsampling (guided.c): a guided filter fitted
 * at working scale, whose coefficients full-resolution L then turns into
 * colour, the range each working cell may take, and bilinear taps. Part of
 * the nn library; include nn.h for all of it. */
#ifndef NN_GUIDED_H
#define NN_GUIDED_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Guided-filter coefficients at working scale, q = A · I + B, box-averaged
 * (radius 2, ε 2·10⁻³ on L / 100): A and B (h, w) from the guide I and the
 * signal p (h, w); scratch holds 5 planes, dtmp one plane of doubles. */
void nn_guided_coefficients(float *A, float *B, const float *I, const float *p, int w, int h, float *scratch,
                            double *dtmp);
/* For each working cell (x..x+1, y..y+1, clamped at the edges): the lowest
 * and highest of p (wh, ww) at its four corners, the bilinear taps of every
 * output pixel that falls in it. */
void nn_cell_range(float *lo, float *hi, const float *p, int ww, int wh);
/* Bilinear taps (align_corners = False) onto n_in working samples for n_out
 * output samples whose centres lie at origin + (o + 0.5) · step in an axis
 * of n_full full-resolution pixels (the whole axis: origin 0, step 1). */
void nn_bilinear_taps(int *i0, int *i1, float *f, int n_out, int n_in, int n_full, double origin, double step);

#ifdef __cplusplus
}
#endif
#endif
