/* nn_color.h — colour: sRGB, linear RGB and CIE Lab, gamut fitting, pixels to
 * L and to hints. Implemented by color.c. Part of the nn library; include
 * nn.h for all of it. */
#ifndef NN_COLOR_H
#define NN_COLOR_H

#include <stddef.h>
#include <stdint.h>

#include "nn_core.h"

/* A display value in 0..1 (clamped; NaN gives 0) as an 8-bit code, rounded
 * to the nearest: the one rule for every float-to-8-bit output. */
static inline uint8_t nn_unit_to_u8(float v) {
    const float c = v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f;
    return (uint8_t)(c * 255.0f + 0.5f);
}

#ifdef __cplusplus
extern "C" {
#endif

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
/* A pixel of a hint image gives a hint when its alpha (or mask) exceeds this. */
#define NN_HINT_THRESHOLD 0.5f
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

#ifdef __cplusplus
}
#endif
#endif
