/* nn_reference.h — colour from a reference: one or more colour photos, or a
 * palette, turned into a prior over the network's ab bins for each band of
 * lightness and class of local texture (the reference's dark colours go to
 * the image's dark pixels, its smooth colours to smooth places). The engine
 * multiplies each pixel's distribution by it, raised to a weight, as one more
 * expert beside the tiles and the scene (a global hint in the sense of Zhang
 * et al. 2017). Implemented by reference.c. Part of the nn library; include
 * nn.h for all of it. */
#ifndef NN_REFERENCE_H
#define NN_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

#include "nn_colorizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Lightness bands of NN_REFERENCE_BAND units (L* 0..100); a pixel's prior
 * is interpolated between the two bands whose centres surround its L. */
#define NN_REFERENCE_BAND 10.0f
#define NN_REFERENCE_BANDS 10
/* Texture: the standard deviation of L* over the (2R+1)² window around a
 * pixel, at working scale (a reference photo is read at about the same
 * scale), in NN_REFERENCE_TEXTURES classes. */
#define NN_REFERENCE_TEXTURE_RADIUS 2
#define NN_REFERENCE_TEXTURES 4
/* A reference with fewer than this share of its weight at a chroma of
 * NN_REFERENCE_MIN_CHROMA or more has no colour to give. */
#define NN_REFERENCE_MIN_COLOURED 0.01
#define NN_REFERENCE_MIN_CHROMA 5.0f
/* A reference photo is counted at most this long side (the callers shrink
 * it): its colours per band of lightness and texture class count, not its
 * detail. 512 rather than 256: the texture classes, measured over 5×5
 * pixels, then see the reference at a scale nearer the working image's
 * (on the real photos, `split` beats gray on 92 % of photos, not 89 %). */
#define NN_REFERENCE_SIDE 512
/* How strongly the reference counts against the network (see
 * nn_reference_temper_logits). */
#define NN_DEFAULT_REFERENCE_WEIGHT 2.0 /* doubles, so that help texts can G_STRINGIFY them */
#define NN_MAX_REFERENCE_WEIGHT 8.0

typedef struct nn_reference nn_reference;

/* An empty reference on c's bins. NN_ERR_NOMEM. */
nn_status nn_reference_create(nn_reference **r, const nn_colorizer *c, nn_error *err);
void nn_reference_free(nn_reference *r);
/* texture (h, w): the local texture of L (h, w). */
void nn_reference_texture(const float *L, int w, int h, float *texture);
/* Counts n pixels of a colour photo, with their texture (NULL: counted in
 * every class alike). */
void nn_reference_add_pixels(nn_reference *r, const float *lab, // (n, 3) CIE Lab
                             const float *texture,              // (n) or NULL
                             size_t n);
/* Counts an 8-bit sRGB image of `channels` 3 (RGB) or 4 (RGBA: pixels
 * below NN_REFERENCE_MIN_ALPHA of 255 left out), its rows `stride` bytes
 * apart (at least channels × w). NN_ERR_INVALID also when the image (its
 * opaque part) has no colour to give, as nn_reference_finish says it:
 * nothing of it is then counted. NN_ERR_NOMEM. */
#define NN_REFERENCE_MIN_ALPHA 128
nn_status nn_reference_add_image(nn_reference *r, const uint8_t *px, // (h, stride)
                                 int channels, int w, int h, size_t stride, nn_error *err);
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
/* NN_OK when r was made on c's bins; else NN_ERR_INVALID saying so. */
nn_status nn_reference_check_model(const nn_reference *r, const nn_colorizer *c, nn_error *err);
/* The reference as the prior of the network's opinion, which is tempered
 * by the weight: for np pixels of lightness L and texture, out (Q, np), strided by
 * `stride` between bins, holds the network's logits (the tiles' and the
 * scene's); at a weight w of 1 or more they become
 * (out + bias - log p_train) / w + log p_ref, to be decoded with no
 * further bias. Weight 1 swaps the training prior for the reference's; a
 * larger weight trusts the reference more, and in the limit each pixel
 * takes the reference's colours of its lightness. Below 1 the reference
 * fades out: out + bias + w (log p_ref - log p_train), the network's
 * opinion untouched under a prior mixed from the two (towards 0, the
 * result without a reference). */
void nn_reference_temper_logits(const nn_reference *r, float weight, const float *bias, // (Q) or NULL
                                const float *L,       // (np)
                                const float *texture, // (np)
                                int np, float *out, size_t stride);
/* out (Q, np) += min(1, weight) (log p_ref - log p_train): the plain
 * product (suggestions), fading below weight 1 as the result does. */
void nn_reference_add_logits(const nn_reference *r, float weight, const float *L, const float *texture, int np,
                             float *out, size_t stride);

#ifdef __cplusplus
}
#endif
#endif
