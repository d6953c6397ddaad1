/* tiles.c — the working size of an image, the origins of the network's
 * tiles along an axis (every half tile, the last flush with the end), and
 * a tile encoded as the network's input (nn_encode_pixel); shared by the
 * engine and the scene pass. */
#include "nn_tiles.h"

#include <math.h>

void nn_engine_working_size(int width, int height, int resolution, int *ww, int *wh) {
    int longest = width > height ? width : height;
    if (resolution < 1 || longest <= resolution) {
        *ww = width, *wh = height;
        return;
    }
    double s = (double)resolution / longest;
    *ww = (int)lround(width * s), *wh = (int)lround(height * s);
    if (*ww < 1) *ww = 1;
    if (*wh < 1) *wh = 1;
}

int nn_tile_origins(int n, int tile, int *out) {
    if (n <= tile) {
        out[0] = 0;
        return 1;
    }
    int k = 0;
    for (int p = 0; p + tile < n; p += tile / 2) out[k++] = p;
    out[k++] = n - tile;
    return k;
}

void nn_encode_tile(const float *L, const float *hint, int w, int h, int x0, int y0, int T, float *x) {
    const int tp = T * T;
    const size_t n = (size_t)w * h;
    for (int ty = 0; ty < T; ty++) {
        int sy = y0 + ty < h ? y0 + ty : h - 1;
        for (int tx = 0; tx < T; tx++) {
            int sx = x0 + tx < w ? x0 + tx : w - 1, inside = y0 + ty < h && x0 + tx < w;
            size_t s = (size_t)sy * w + sx, d = (size_t)ty * T + tx;
            int hinted = inside && hint && hint[2 * n + s] > 0.0f;
            nn_encode_pixel(x + d, (size_t)tp, L[s], hinted, hinted ? hint[s] : 0.0f, hinted ? hint[n + s] : 0.0f);
        }
    }
}
