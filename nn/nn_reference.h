/* nn_reference.h — colour from a reference: one or more colour photos, or
 * a palette, turned into a prior over the network's ab bins for each band
 * of lightness (the reference's dark colours go to the image's dark
 * pixels). The engine multiplies each pixel's distribution by it, raised
 * to a weight, as one more expert beside the tiles and the scene (a global
 * hint in the sense of Zhang et al. 2017). Part of the nn library; include
 * nn.h for all of it. */
#ifndef NN_REFERENCE_H
#define NN_REFERENCE_H

#include <stddef.h>

#include "nn_colorizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Lightness bands of NN_REFERENCE_BAND units (L* 0..100); a pixel's prior
 * is interpolated between the two bands whose centres surround its L. */
#define NN_REFERENCE_BAND 10.0f
#define NN_REFERENCE_BANDS 10
/* A reference with fewer than this share of its weight at a chroma of
 * NN_REFERENCE_MIN_CHROMA or more has no colour to give. */
#define NN_REFERENCE_MIN_COLOURED 0.01
#define NN_REFERENCE_MIN_CHROMA 5.0f
/* The weight of the reference's expert (its log-probabilities, the
 * training prior divided out, are multiplied by it). */
#define NN_DEFAULT_REFERENCE_WEIGHT 1.0f
#define NN_MAX_REFERENCE_WEIGHT 8.0f

typedef struct nn_reference nn_reference;

/* An empty reference on c's bins. NN_ERR_NOMEM. */
nn_status nn_reference_create(nn_reference **r, const nn_colorizer *c, nn_error *err);
void nn_reference_free(nn_reference *r);
/* Counts n pixels of a colour photo. */
void nn_reference_add_pixels(nn_reference *r, const float *lab, // (n, 3) CIE Lab
                             size_t n);
/* Counts a palette colour, weight `weight`: at its own lightness and,
 * less the further away, at every other (fitted into the gamut there,
 * keeping its hue), so a palette colours dark and light pixels alike. */
void nn_reference_add_colour(nn_reference *r, const float lab[3], float weight);
/* Turns the counts into the prior (each band's histogram, leaning on the
 * whole reference's where the band holds few pixels, blurred over ab).
 * NN_ERR_INVALID when the reference has no colour (gray, or empty): the
 * message says so. Nothing more may be added afterwards. */
nn_status nn_reference_finish(nn_reference *r, nn_error *err);
int nn_reference_is_finished(const nn_reference *r);
/* out (Q, np), strided by `stride` between bins: += weight × the
 * reference's log-probabilities over the training prior, for np pixels of
 * lightness L (np). */
void nn_reference_add_logits(const nn_reference *r, float weight, const float *L, int np, float *out, size_t stride);
/* The reference's most likely ab in the band around lightness L (for
 * tests and reports). */
void nn_reference_mean_ab(const nn_reference *r, float L, float *a, float *b);

#ifdef __cplusplus
}
#endif
#endif
