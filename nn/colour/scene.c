/* scene.c — the scene pass of the engine: the whole working image shrunk to
 * the scale the network was trained on (CIFAR-10 shows whole objects in 32
 * pixels), run through the network once, its colour distributions kept per
 * pixel with the rebalancing divided out. The tiled pass at working
 * resolution then multiplies each pixel's distribution by the scene's,
 * raised to a weight, before decoding: the scene decides which colours are
 * plausible, the tiles place them along the detail. */
#include "nn_scene.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_tiles.h"
#include "../private/nn_internal.h"

struct nn_scene {
    int w, h;       /* the working image the scene was made from */
    int gw, gh, Q;  /* the scene's size and bins */
    float *logp;    /* (Q, gh, gw) log-probabilities minus log rebalance */
};

/* Area-averages L (and the hints: ab averaged over hinted pixels, mask 1
 * where any) from w×h down to gw×gh. */
static void shrink_planes(const float *L, const float *hint, int w, int h, float *gL, float *ghint, int gw, int gh) {
    const size_t n = (size_t)w * h, gn = (size_t)gw * gh;
    for (int gy = 0; gy < gh; gy++)
        for (int gx = 0; gx < gw; gx++) {
            int x0 = (int)((long)gx * w / gw), x1 = (int)((long)(gx + 1) * w / gw);
            int y0 = (int)((long)gy * h / gh), y1 = (int)((long)(gy + 1) * h / gh);
            double sl = 0.0, sa = 0.0, sb = 0.0, sm = 0.0;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++) {
                    size_t k = (size_t)y * w + x;
                    sl += L[k];
                    if (hint && hint[2 * n + k] > 0.0f) sa += hint[k], sb += hint[n + k], sm += 1.0;
                }
            size_t g = (size_t)gy * gw + gx;
            gL[g] = (float)(sl / ((double)(x1 - x0) * (y1 - y0)));
            ghint[g] = sm > 0 ? (float)(sa / sm) : 0.0f;
            ghint[gn + g] = sm > 0 ? (float)(sb / sm) : 0.0f;
            ghint[2 * gn + g] = sm > 0 ? 1.0f : 0.0f;
        }
}

/* Adds one scene tile's log-probabilities (rebalancing divided out) into
 * the sums, weighted by the tile window. */
static void accumulate_tile(nn_scene *s, const float *logits, const float *log_divisor, int x0, int y0, int T,
                            const float *window, float *wsum) {
    const int tp = T * T, Q = s->Q, gw = s->gw, gh = s->gh;
    const size_t gn = (size_t)gw * gh;
    for (int ty = 0; ty < T && y0 + ty < gh; ty++)
        for (int tx = 0; tx < T && x0 + tx < gw; tx++) {
            const int d = ty * T + tx;
            float mx = -INFINITY;
            for (int q = 0; q < Q; q++) mx = logits[(size_t)q * tp + d] > mx ? logits[(size_t)q * tp + d] : mx;
            double sum = 0.0;
            for (int q = 0; q < Q; q++) sum += exp((double)(logits[(size_t)q * tp + d] - mx));
            const float lse = mx + (float)log(sum);
            const float wgt = (gw <= T ? 1.0f : window[tx]) * (gh <= T ? 1.0f : window[ty]);
            const size_t g = (size_t)(y0 + ty) * gw + x0 + tx;
            for (int q = 0; q < Q; q++) s->logp[(size_t)q * gn + g] += wgt * (logits[(size_t)q * tp + d] - lse - log_divisor[q]);
            wsum[g] += wgt;
        }
}

nn_status nn_scene_create(nn_scene **out, nn_colorizer *c, const float *L, const float *hint, int w, int h, int size,
                          nn_error *err) {
    *out = NULL;
    const int T = c->tile, tp = T * T, Q = c->ab.num_bins;
    nn_scene *s = calloc(1, sizeof *s);
    if (!s) return nn_set_error(err, NN_ERR_NOMEM, "out of memory for the scene pass");
    s->w = w, s->h = h, s->Q = Q;
    nn_engine_working_size(w, h, size, &s->gw, &s->gh);
    const size_t gn = (size_t)s->gw * s->gh;
    int ox[64], oy[64], nx = 0, ny = 0;
    float *gL = malloc(sizeof(float) * 4 * gn), *ghint = gL ? gL + gn : NULL;
    float *wsum = calloc(gn, sizeof(float)), *log_divisor = malloc(sizeof(float) * (size_t)Q);
    float *in = malloc(sizeof(float) * NN_INPUT_CHANNELS * tp);
    s->logp = calloc((size_t)Q * gn, sizeof(float));
    nn_status st = NN_OK;
    if (T < 2 || T > 64 || s->gw / (T / 2) + 2 > 64 || s->gh / (T / 2) + 2 > 64) {
        st = nn_set_error(err, NN_ERR_INVALID, "scene size %d is too large for %d-pixel tiles", size, T);
        goto done;
    }
    if (!gL || !wsum || !log_divisor || !in || !s->logp) {
        st = nn_set_error(err, NN_ERR_NOMEM, "out of memory for the scene pass");
        goto done;
    }
    shrink_planes(L, hint, w, h, gL, ghint, s->gw, s->gh);
    for (int q = 0; q < Q; q++) log_divisor[q] = c->ab.rebalance && c->ab.rebalance[q] > 1e-30f ? logf(c->ab.rebalance[q]) : 0.0f;
    {
        float *log_prior = malloc(sizeof(float) * (size_t)Q);
        if (!log_prior) {
            st = nn_set_error(err, NN_ERR_NOMEM, "out of memory for the scene pass");
            goto done;
        }
        nn_colorizer_log_prior(c, log_prior); /* divided out: the fusion is then a product of experts */
        for (int q = 0; q < Q; q++) log_divisor[q] += log_prior[q];
        free(log_prior);
    }
    float window[64];
    for (int t = 0; t < T && t < 64; t++) {
        float v = sinf((float)M_PI * ((float)t + 0.5f) / (float)T);
        window[t] = v * v;
    }
    nx = nn_tile_origins(s->gw, T, ox), ny = nn_tile_origins(s->gh, T, oy);
    for (int k = 0; k < nx * ny && !st; k++) {
        const float *logits;
        nn_encode_tile(gL, hint ? ghint : NULL, s->gw, s->gh, ox[k % nx], oy[k / nx], T, in);
        st = nn_colorizer_logits(c, in, 1, &logits, err);
        if (!st) accumulate_tile(s, logits, log_divisor, ox[k % nx], oy[k / nx], T, window, wsum);
    }
    for (int q = 0; q < Q && !st; q++)
        for (size_t g = 0; g < gn; g++) s->logp[(size_t)q * gn + g] /= wsum[g];
done:
    free(gL), free(wsum), free(log_divisor), free(in);
    if (st) nn_scene_free(s);
    else *out = s;
    return st;
}

void nn_scene_free(nn_scene *s) {
    if (!s) return;
    free(s->logp);
    free(s);
}

void nn_scene_size(const nn_scene *s, int *gw, int *gh) { *gw = s->gw, *gh = s->gh; }

/* Bilinear taps from working-image coordinates onto the scene's axis. */
static void scene_taps(int *i0, int *i1, float *f, int origin, int T, int n_work, int n_scene) {
    for (int t = 0; t < T; t++) {
        int p = origin + t < n_work ? origin + t : n_work - 1;
        float g = ((float)p + 0.5f) * (float)n_scene / (float)n_work - 0.5f;
        g = g < 0.0f ? 0.0f : (g > n_scene - 1 ? (float)(n_scene - 1) : g);
        i0[t] = (int)g;
        i1[t] = i0[t] + 1 < n_scene ? i0[t] + 1 : i0[t];
        f[t] = g - (float)i0[t];
    }
}

/* fused = logits + weight · (one bin of the scene, bilinear at the tile's
 * pixels): rows [r0, r0 + nr) of the scene are first interpolated along x
 * at the tile's columns (hrow, nr × T), then each tile row is a vector
 * operation between its two scene rows (the same sums, in the same order,
 * as interpolating each pixel on its own). */
/* Rows [t0, t1) of one bin's plane of a tile: out = lq (those rows) + weight × the
 * scene's plane at those pixels (bilinear), grid rows r0 .. r0 + nr - 1
 * interpolated along x first. */
NN_VECTOR_CLONES static void scene_bin_to_tile(const float *restrict plane, int gw, int r0, int nr, const int *xa,
                                               const int *xb, const float *fx, const int *ya, const int *yb,
                                               const float *fy, int T, int t0, int t1, float weight,
                                               const float *lq, float *restrict hrow, float *out) {
    for (int r = 0; r < nr; r++) {
        const float *restrict ra = plane + (size_t)(r0 + r) * gw;
        float *restrict h = hrow + (size_t)r * T;
        for (int tx = 0; tx < T; tx++) h[tx] = ra[xa[tx]] + fx[tx] * (ra[xb[tx]] - ra[xa[tx]]);
    }
    for (int ty = t0; ty < t1; ty++) {
        const float *restrict top = hrow + (size_t)(ya[ty] - r0) * T, *restrict bottom = hrow + (size_t)(yb[ty] - r0) * T;
        const float *l = lq + (size_t)(ty - t0) * T; /* o may be l: each element read before it is written */
        float *o = out + (size_t)(ty - t0) * T;
        const float wy = fy[ty];
        for (int tx = 0; tx < T; tx++) o[tx] = l[tx] + weight * (top[tx] + wy * (bottom[tx] - top[tx]));
    }
}

void nn_scene_add_to_tile_rows(const nn_scene *s, float weight, int x0, int y0, int T, int t0, int t1,
                               const float *logits, float *fused) {
    int xa[64], xb[64], ya[64], yb[64];
    float fx[64], fy[64], hrow[65 * 64];
    const int np = (t1 - t0) * T;
    const size_t gn = (size_t)s->gw * s->gh;
    scene_taps(xa, xb, fx, x0, T, s->w, s->gw);
    scene_taps(ya, yb, fy, y0, T, s->h, s->gh);
    const int r0 = ya[t0], nr = yb[t1 - 1] - ya[t0] + 1; /* the taps grow with the row: at most T + 1 rows */
    for (int q = 0; q < s->Q; q++)
        scene_bin_to_tile(s->logp + (size_t)q * gn, s->gw, r0, nr, xa, xb, fx, ya, yb, fy, T, t0, t1, weight,
                          logits + (size_t)q * np, hrow, fused + (size_t)q * np);
}

void nn_scene_add_to_tile(const nn_scene *s, float weight, int x0, int y0, int T, const float *logits, float *fused) {
    nn_scene_add_to_tile_rows(s, weight, x0, y0, T, 0, T, logits, fused);
}

void nn_scene_at(const nn_scene *s, float weight, int x, int y, float *out) {
    int xa, xb, ya, yb;
    float fx, fy;
    const size_t gn = (size_t)s->gw * s->gh;
    scene_taps(&xa, &xb, &fx, x, 1, s->w, s->gw);
    scene_taps(&ya, &yb, &fy, y, 1, s->h, s->gh);
    for (int q = 0; q < s->Q; q++) {
        const float *plane = s->logp + (size_t)q * gn, *ra = plane + (size_t)ya * s->gw, *rb = plane + (size_t)yb * s->gw;
        float top = ra[xa] + fx * (ra[xb] - ra[xa]), bottom = rb[xa] + fx * (rb[xb] - rb[xa]);
        out[q] = weight * (top + fy * (bottom - top));
    }
}

nn_status nn_scene_mix(nn_scene *s, const nn_scene *other, const float *share, nn_error *err) {
    const size_t gn = (size_t)s->gw * s->gh;
    float *g = malloc(sizeof(float) * gn);
    if (!g) return nn_set_error(err, NN_ERR_NOMEM, "out of memory for the scene pass");
    for (int gy = 0; gy < s->gh; gy++) /* the share, area-averaged onto the scene's grid */
        for (int gx = 0; gx < s->gw; gx++) {
            const int x0 = (int)((long)gx * s->w / s->gw), x1 = (int)((long)(gx + 1) * s->w / s->gw);
            const int y0 = (int)((long)gy * s->h / s->gh), y1 = (int)((long)(gy + 1) * s->h / s->gh);
            double sum = 0.0;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++) sum += share[(size_t)y * s->w + x];
            g[(size_t)gy * s->gw + gx] = (float)(sum / ((double)(x1 - x0) * (y1 - y0)));
        }
    for (int q = 0; q < s->Q; q++) {
        float *p = s->logp + (size_t)q * gn;
        const float *o = other->logp + (size_t)q * gn;
        for (size_t k = 0; k < gn; k++) p[k] = o[k] + g[k] * (p[k] - o[k]);
    }
    free(g);
    return NN_OK;
}
