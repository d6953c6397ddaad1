/* nn_scene.h — the scene pass (scene.c): the whole working image seen by
 * the network at once, small, so that the tiles agree on what the scene
 * is. Part of the nn library; include nn.h for all of it. */
#ifndef NN_SCENE_H
#define NN_SCENE_H

#include "nn_colorizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The scene pass: the w×h working image shrunk to `size` pixels on its
 * long side (area average; hints averaged over hinted pixels) and run
 * through the network, its per-pixel log-probabilities kept with the
 * rebalancing weights divided out (so that the fused distribution is
 * corrected once, when decoded) and the training set's colour prior
 * divided out (so that the prior counts once in the product). */
typedef struct nn_scene nn_scene;
nn_status nn_scene_create(nn_scene **s, nn_colorizer *c,
                          const float *L,    // (h, w)
                          const float *hint, // (3, h, w) or NULL
                          int w, int h, int size, nn_error *err);
void nn_scene_free(nn_scene *s);
/* s = share × s + (1 - share) × other, in log-probabilities, with share
 * (h, w) given on the working image of both (area-averaged onto the scene). */
nn_status nn_scene_mix(nn_scene *s, const nn_scene *other, const float *share, nn_error *err);
void nn_scene_size(const nn_scene *s, int *gw, int *gh);
/* out (Q) = weight × the scene's log-probabilities at working pixel (x, y). */
void nn_scene_at(const nn_scene *s, float weight, int x, int y, float *out);
/* fused = logits + weight × the scene's log-probabilities at each pixel of
 * the T×T tile at (x0, y0) of the working image (bilinear). */
void nn_scene_add_to_tile(const nn_scene *s, float weight, int x0, int y0, int T,
                          const float *logits, // (Q, T, T)
                          float *fused);       // (Q, T, T)
/* The same for the tile's rows [t0, t1) only (fused may be logits). */
void nn_scene_add_to_tile_rows(const nn_scene *s, float weight, int x0, int y0, int T, int t0, int t1,
                               const float *logits, // (Q, t1 - t0, T)
                               float *fused);       // (Q, t1 - t0, T)

#ifdef __cplusplus
}
#endif
#endif
