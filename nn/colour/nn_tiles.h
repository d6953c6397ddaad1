/* nn_tiles.h — how the engine and the scene pass cut an image for the
 * network: the working size, the tiles' origins and the one encoding of a
 * tile as the network's input. Implemented by tiles.c. Part of the nn
 * library; include nn.h for all of it. */
#ifndef NN_TILES_H
#define NN_TILES_H

#include "nn_colorizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The working size for an image: its long side scaled down to resolution
 * (images already smaller keep their size). */
void nn_engine_working_size(int width, int height, int resolution, int *ww, int *wh);
/* Tile origins along an axis of n pixels: every half tile, the last flush
 * with the end (one at 0 when n <= tile); returns the count. */
int nn_tile_origins(int n, int tile, int *out);
/* The network input for the T×T tile at (x0, y0) of a w×h image (edges
 * repeated where the image is smaller than a tile). */
void nn_encode_tile(const float *L,    // (h, w) in Lab units
                    const float *hint, // (3, h, w) a, b, mask; or NULL
                    int w, int h, int x0, int y0, int T,
                    float *x);         // (4, T, T)

#ifdef __cplusplus
}
#endif
#endif
