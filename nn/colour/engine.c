/* engine.c — the full-image colorization engine shared by the plug-in and
 * `colorize-train colorize`: L at a working resolution, 32×32 tiles that
 * overlap by half a tile, run in large batches and blended with a Hann
 * window, hints placed at working scale, and ab brought back to full
 * resolution by a fast guided filter (guided.c) whose guide is the
 * full-resolution L; the scene pass (scene.c), hints carried along the
 * image (propagate.c) and a colour reference (reference.c) join in.
 * It streams: the caller feeds full-resolution rows of L (and hints) top to
 * bottom, the engine keeps only working-scale planes, and full-resolution
 * ab is produced row by row from the same L. Plain buffers, a progress
 * callback and a cancel flag. */
#include "nn_engine.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "nn_color.h"
#include "nn_guided.h"
#include "../private/nn_internal.h"


struct nn_engine {
    int W, H, ww, wh;
    nn_engine_params params;
    int next_row;      /* rows fed so far */
    int predicted;
    int any_hint;
    int hints_prepared; /* prepare_hints ran (a retried predict must not thin twice) */
    int *col_x0;       /* (ww + 1) first full-res column of each working column */
    int *row_bin;      /* (H) the working row each full-res row averages into */
    int *bin_rows;     /* (wh) full-res rows per working row */
    int *hint_x;       /* (W) working column of each full-res column (hints) */
    double *acc;       /* (wh, ww) sums of the horizontally averaged rows */
    float *row_mean;   /* (ww) one row averaged horizontally */
    float *Lw;         /* (wh, ww) L at working scale */
    float *hint;       /* (3, wh, ww) sums of hint a, b and hint count */
    float *stroke;     /* (3, wh, ww) strokes as painted: a, b (gamut-fitted), coverage 0..1; NULL without */
    float *coef;       /* (8, wh, ww) guided-filter A, B for a and for b, then per working cell the lowest and
                          highest a and b of its four corners (the range the result may take there) */
    int *tx0, *tx1, *ty0, *ty1; /* bilinear taps, (W) and (H) */
    float *fx, *fy;
    nn_scene *scene;       /* the scene pass of the last predict, or NULL */
    nn_point_hint *points; /* (n_points) point hints, full-resolution coordinates */
    float *hold;           /* (wh, ww) how firmly the propagated hints hold each working pixel, or NULL */
    float *carried;        /* (3, wh, ww) the colour they carry there, and the lightness it was given at */
    int *region;           /* (wh, ww) the hint whose region each working pixel lies in (its seed), or -1 */
    float *texture;        /* (wh, ww) the local texture of Lw (with a colour reference), or NULL */
    float *net_ab;         /* (2, wh, ww) the network's blended ab before the hints, in NN_AB_SCALE units */
    int n_points, cap_points;
};

nn_engine_params nn_engine_default_params(void) {
    return (nn_engine_params){.vividness = NN_DEFAULT_VIVIDNESS, .saturation = NN_DEFAULT_SATURATION, .resolution = NN_DEFAULT_RESOLUTION,
                              .scene_size = NN_DEFAULT_SCENE_SIZE, .scene_weight = NN_DEFAULT_SCENE_WEIGHT,
                              .hint_reach = NN_DEFAULT_HINT_REACH, .reference = NULL,
                              .reference_weight = NN_DEFAULT_REFERENCE_WEIGHT};
}

void nn_engine_free(nn_engine *e) {
    if (!e) return;
    free(e->col_x0), free(e->row_bin), free(e->bin_rows), free(e->hint_x), free(e->acc), free(e->row_mean);
    free(e->Lw), free(e->hint), free(e->coef), free(e->tx0), free(e->fx), free(e->points), free(e->stroke);
    free(e->hold), free(e->carried), free(e->region), free(e->texture), free(e->net_ab);
    nn_scene_free(e->scene);
    free(e);
}

nn_status nn_engine_begin(nn_engine **out, int W, int H, const nn_engine_params *params, nn_error *err) {
    *out = NULL;
    if (W < 1 || H < 1 || (size_t)W * H > ((size_t)1 << 31))
        return nn_set_error(err, NN_ERR_INVALID, "image size %d×%d is out of range", W, H);
    if (!(params->vividness >= 0.0f && params->vividness <= NN_MAX_VIVIDNESS))
        return nn_set_error(err, NN_ERR_INVALID, "vividness %g is outside 0..%d", params->vividness, NN_MAX_VIVIDNESS);
    if (!(params->saturation >= 0.0f && params->saturation <= NN_MAX_SATURATION))
        return nn_set_error(err, NN_ERR_INVALID, "saturation %g is outside 0..%d", params->saturation,
                            NN_MAX_SATURATION);
    if (params->resolution < NN_MIN_RESOLUTION || params->resolution > NN_MAX_RESOLUTION)
        return nn_set_error(err, NN_ERR_INVALID, "working resolution %d is outside %d..%d", params->resolution,
                            NN_MIN_RESOLUTION, NN_MAX_RESOLUTION);
    if (!(params->scene_weight >= 0.0f && params->scene_weight <= NN_MAX_SCENE_WEIGHT))
        return nn_set_error(err, NN_ERR_INVALID, "scene weight %g is outside 0..%g", params->scene_weight,
                            NN_MAX_SCENE_WEIGHT);
    if (params->scene_weight > 0.0f &&
        (params->scene_size < NN_MIN_SCENE_SIZE || params->scene_size > NN_MAX_SCENE_SIZE))
        return nn_set_error(err, NN_ERR_INVALID, "scene size %d is outside %d..%d", params->scene_size,
                            NN_MIN_SCENE_SIZE, NN_MAX_SCENE_SIZE);
    if (!(params->hint_reach >= 0.0f && params->hint_reach <= NN_MAX_HINT_REACH))
        return nn_set_error(err, NN_ERR_INVALID, "hint reach %g is outside 0..%g", params->hint_reach,
                            NN_MAX_HINT_REACH);
    if (params->reference && !(params->reference_weight > 0.0f && params->reference_weight <= NN_MAX_REFERENCE_WEIGHT))
        return nn_set_error(err, NN_ERR_INVALID, "reference weight %g is outside (0, %g]", params->reference_weight,
                            NN_MAX_REFERENCE_WEIGHT);
    if (params->reference && !nn_reference_is_finished(params->reference))
        return nn_set_error(err, NN_ERR_INVALID, "the colour reference is not finished (nn_reference_finish)");
    nn_engine *e = calloc(1, sizeof *e);
    if (!e) return nn_set_error(err, NN_ERR_NOMEM, "out of memory");
    e->W = W, e->H = H, e->params = *params;
    nn_engine_working_size(W, H, params->resolution, &e->ww, &e->wh);
    const int ww = e->ww, wh = e->wh;
    const size_t wn = (size_t)ww * wh;
    e->col_x0 = malloc(sizeof(int) * ((size_t)ww + 1));
    e->row_bin = malloc(sizeof(int) * (size_t)H);
    e->bin_rows = calloc((size_t)wh, sizeof(int));
    e->hint_x = malloc(sizeof(int) * (size_t)W);
    e->acc = calloc(wn, sizeof(double));
    e->row_mean = malloc(sizeof(float) * (size_t)ww);
    e->Lw = malloc(sizeof(float) * wn);
    e->hint = calloc(3 * wn, sizeof(float));
    if (!e->col_x0 || !e->row_bin || !e->bin_rows || !e->hint_x || !e->acc || !e->row_mean || !e->Lw || !e->hint) {
        nn_engine_free(e);
        return nn_set_error(err, NN_ERR_NOMEM, "out of memory for a %d×%d image at working size %d×%d", W, H, ww, wh);
    }
    /* area averaging: working column x covers full-res columns [x·W/ww, (x+1)·W/ww), rows likewise */
    for (int x = 0; x <= ww; x++) e->col_x0[x] = (int)((long)x * W / ww);
    for (int y = 0; y < wh; y++) {
        int y0 = (int)((long)y * H / wh), y1 = (int)((long)(y + 1) * H / wh);
        for (int k = y0; k < y1; k++) e->row_bin[k] = y;
        e->bin_rows[y] = y1 - y0;
    }
    /* hints fall into the working pixel whose area holds them, as L does */
    for (int x = 0; x < ww; x++)
        for (int k = e->col_x0[x]; k < e->col_x0[x + 1]; k++) e->hint_x[k] = x;
    *out = e;
    return NN_OK;
}

float nn_engine_lightness_at(const nn_engine *e, double x, double y) {
    int px = (int)(x * e->ww / e->W), py = (int)(y * e->wh / e->H);
    px = px < 0 ? 0 : px >= e->ww ? e->ww - 1 : px;
    py = py < 0 ? 0 : py >= e->wh ? e->wh - 1 : py;
    return e->predicted ? e->Lw[(size_t)py * e->ww + px] : 50.0f;
}

float nn_engine_hint_hold_at(const nn_engine *e, double x, double y) {
    if (!e->predicted || !e->hold) return 0.0f;
    int px = (int)(x * e->ww / e->W), py = (int)(y * e->wh / e->H);
    px = px < 0 ? 0 : px >= e->ww ? e->ww - 1 : px;
    py = py < 0 ? 0 : py >= e->wh ? e->wh - 1 : py;
    return e->hold[(size_t)py * e->ww + px];
}

int nn_engine_hint_region_at(const nn_engine *e, double x, double y) {
    if (!e->predicted || !e->hold || !e->region) return -1;
    int px = (int)(x * e->ww / e->W), py = (int)(y * e->wh / e->H);
    px = px < 0 ? 0 : px >= e->ww ? e->ww - 1 : px;
    py = py < 0 ? 0 : py >= e->wh ? e->wh - 1 : py;
    const size_t k = (size_t)py * e->ww + px;
    return e->hold[k] >= 0.5f ? e->region[k] : -1;
}

void nn_engine_set_saturation(nn_engine *e, float saturation) {
    e->params.saturation = saturation < 0.0f ? 0.0f : saturation > NN_MAX_SATURATION ? NN_MAX_SATURATION : saturation;
}

void nn_engine_get_working_size(const nn_engine *e, int *ww, int *wh) {
    *ww = e->ww, *wh = e->wh;
}

nn_status nn_engine_add_rows(nn_engine *e, int y0, int rows, const float *L, const float *hint_a,
                             const float *hint_b, const float *hint_mask, nn_error *err) {
    if (e->predicted || y0 != e->next_row || rows < 0 || rows > e->H - y0)
        return nn_set_error(err, NN_ERR_INVALID, "rows %d..%d fed out of order (expected row %d of %d)", y0,
                            y0 + rows - 1, e->next_row, e->H);
    const int W = e->W, ww = e->ww;
    for (int r = 0; r < rows; r++) {
        const int y = y0 + r;
        const float *row = L + (size_t)r * W;
        for (int x = 0; x < ww; x++) {
            const int x0 = e->col_x0[x], x1 = e->col_x0[x + 1];
            double s = 0.0;
            for (int k = x0; k < x1; k++) s += row[k];
            e->row_mean[x] = (float)(s / (x1 - x0));
        }
        double *acc = e->acc + (size_t)e->row_bin[y] * ww;
        for (int x = 0; x < ww; x++) acc[x] += e->row_mean[x];
        if (hint_a && hint_b && hint_mask) {
            /* every hinted full-resolution pixel votes for its working pixel */
            const size_t wn = (size_t)ww * e->wh;
            const size_t wy = (size_t)e->row_bin[y] * ww;
            const float *m = hint_mask + (size_t)r * W, *ha = hint_a + (size_t)r * W, *hb = hint_b + (size_t)r * W;
            for (int x = 0; x < W; x++) {
                if (!(m[x] > NN_HINT_THRESHOLD)) continue;
                size_t k = wy + (size_t)e->hint_x[x];
                e->hint[k] += ha[x], e->hint[wn + k] += hb[x], e->hint[2 * wn + k] += 1.0f;
                e->any_hint = 1;
            }
        }
    }
    e->next_row += rows;
    return NN_OK;
}

nn_status nn_engine_add_point_hint(nn_engine *e, double x, double y, float a, float b, nn_error *err) {
    if (e->predicted) return nn_set_error(err, NN_ERR_INVALID, "point hints must come before predict");
    if (!(x >= 0.0 && x < e->W && y >= 0.0 && y < e->H))
        return nn_set_error(err, NN_ERR_INVALID, "point hint (%g, %g) is outside the %d×%d image", x, y, e->W, e->H);
    if (!(a >= -NN_AB_SCALE && a <= NN_AB_SCALE && b >= -NN_AB_SCALE && b <= NN_AB_SCALE))
        return nn_set_error(err, NN_ERR_INVALID, "point hint colour a=%g b=%g is outside ±%g", a, b, NN_AB_SCALE);
    if (e->n_points == e->cap_points) {
        int cap = e->cap_points ? 2 * e->cap_points : 16;
        nn_point_hint *p = realloc(e->points, sizeof *p * (size_t)cap);
        if (!p) return nn_set_error(err, NN_ERR_NOMEM, "out of memory for point hints");
        e->points = p, e->cap_points = cap;
    }
    e->points[e->n_points++] = (nn_point_hint){x, y, a, b};
    e->any_hint = 1;
    return NN_OK;
}

/* Strokes become hints of the kind the network was trained on (sparse
 * patches of a few pixels): one hint per NN_HINT_SPACING² cell of working
 * pixels, at the hinted pixel nearest the cell's centre, carrying the mean
 * colour of the cell's hinted pixels. A dense stroke is otherwise far out
 * of the training distribution (a gray core, blocks of unrelated colour). */
static void sparsify_hints(float *ha, float *hb, float *hm, int ww, int wh) {
    const int S = NN_HINT_SPACING;
    for (int cy = 0; cy < wh; cy += S)
        for (int cx = 0; cx < ww; cx += S) {
            double sa = 0.0, sb = 0.0, sn = 0.0, best_d = 1e30;
            size_t best = 0;
            const double mx = cx + (S - 1) * 0.5, my = cy + (S - 1) * 0.5;
            for (int y = cy; y < cy + S && y < wh; y++)
                for (int x = cx; x < cx + S && x < ww; x++) {
                    size_t k = (size_t)y * ww + x;
                    if (!(hm[k] > 0.0f)) continue;
                    sa += ha[k], sb += hb[k], sn += hm[k];
                    double d = (x - mx) * (x - mx) + (y - my) * (y - my);
                    if (d < best_d) best_d = d, best = k;
                    ha[k] = hb[k] = hm[k] = 0.0f;
                }
            if (sn > 0.0) ha[best] = (float)(sa / sn), hb[best] = (float)(sb / sn), hm[best] = 1.0f;
        }
}

/* Keeps the strokes as painted (before thinning): their colour and the
 * share of the working pixel they cover. After prediction they are the
 * seeds of the hint propagation (or, without it, the painted colour,
 * fitted into the gamut there, replaces the network's by that share).
 * hm holds hint pixel counts. */
static nn_status keep_strokes(nn_engine *e) {
    const int ww = e->ww, wh = e->wh;
    const size_t wn = (size_t)ww * wh;
    const float *ha = e->hint, *hb = ha + wn, *hm = hb + wn;
    e->stroke = malloc(sizeof(float) * 3 * wn);
    if (!e->stroke) return NN_ERR_NOMEM;
    float *sa = e->stroke, *sb = sa + wn, *cover = sb + wn;
    for (int y = 0; y < wh; y++)
        for (int x = 0; x < ww; x++) {
            const size_t k = (size_t)y * ww + x;
            const float area = (float)(e->col_x0[x + 1] - e->col_x0[x]) * (float)e->bin_rows[y];
            sa[k] = hm[k] > 0.0f ? ha[k] : 0.0f, sb[k] = hm[k] > 0.0f ? hb[k] : 0.0f;
            cover[k] = hm[k] > 0.0f ? (hm[k] < area ? hm[k] / area : 1.0f) : 0.0f;
        }
    return NN_OK;
}

/* The hint planes as the network sees them: strokes thinned, point hints
 * as NN_POINT_HINT_SIDE² patches (the largest the training used), every
 * hint fitted into the gamut at its pixel's lightness (same hue, chroma
 * reduced, as every training hint was). */
static nn_status prepare_hints(nn_engine *e, nn_error *err) {
    const int ww = e->ww, wh = e->wh;
    const size_t wn = (size_t)ww * wh;
    float *ha = e->hint, *hb = ha + wn, *hm = hb + wn;
    if (!e->any_hint) return NN_OK;
    int strokes = 0;
    for (size_t k = 0; k < wn; k++)
        if (hm[k] > 0.0f) ha[k] /= hm[k], hb[k] /= hm[k], strokes = 1;
    if ((strokes || e->n_points) && keep_strokes(e) != NN_OK)
        return nn_set_error(err, NN_ERR_NOMEM, "out of memory for the hint planes");
    for (size_t k = 0; k < wn; k++)
        if (hm[k] > 0.0f) hm[k] = 1.0f;
    sparsify_hints(ha, hb, hm, ww, wh);
    for (int i = 0; i < e->n_points; i++) {
        const nn_point_hint *p = &e->points[i];
        int px = (int)(p->x * ww / e->W), py = (int)(p->y * wh / e->H), r = NN_POINT_HINT_SIDE / 2;
        for (int y = py - r; y <= py + r; y++)
            for (int x = px - r; x <= px + r; x++) {
                if (x < 0 || y < 0 || x >= ww || y >= wh) continue;
                size_t k = (size_t)y * ww + x;
                ha[k] = p->a, hb[k] = p->b, hm[k] = 1.0f;
                /* and painted there, as a stroke is: the point's own place takes its colour */
                e->stroke[k] = p->a, e->stroke[wn + k] = p->b, e->stroke[2 * wn + k] = 1.0f;
            }
    }
    for (size_t k = 0; k < wn; k++) {
        if (!(hm[k] > 0.0f)) continue;
        float lab[3] = {e->Lw[k], ha[k], hb[k]};
        nn_lab_fit_gamut(lab, 1);
        ha[k] = lab[1], hb[k] = lab[2];
    }
    return NN_OK;
}

/* The network input for the T×T tile at (x0, y0) of the working image. */
static void encode_tile(const nn_engine *e, int x0, int y0, int T, float *x /* (4, T, T) */) {
    nn_encode_tile(e->Lw, e->any_hint ? e->hint : NULL, e->ww, e->wh, x0, y0, T, x);
}

typedef struct {
    const nn_scene *scene;
    float weight;
    const nn_colorizer *c;
    const float *features; /* (n, C, T, T): the network's output before its head */
    float *tile_ab;       /* (n, 2, T, T) */
    const int *x0, *y0;   /* (n) tile origins */
    const float *bin_ab, *bias;
    float inv_t;
    int T, Q;
    const nn_reference *reference; /* or NULL */
    float reference_weight;
    const float *L, *texture;      /* (wh, ww) the working image's lightness and its texture */
    int ww, wh;
    atomic_int failed; /* a range could not get its block buffer */
} fuse_job;

/* The working image's lightness and texture under rows [r0, r1) of the
 * T×T tile at (x0, y0), edges repeated as the tile's input repeats them. */
static void tile_rows_lightness(const fuse_job *j, int x0, int y0, int r0, int r1, float *L, float *texture) {
    const int T = j->T;
    for (int ty = r0; ty < r1; ty++) {
        const int sy = y0 + ty < j->wh ? y0 + ty : j->wh - 1;
        for (int tx = 0; tx < T; tx++) {
            const size_t k = (size_t)sy * j->ww + (x0 + tx < j->ww ? x0 + tx : j->ww - 1);
            L[(ty - r0) * T + tx] = j->L[k], texture[(ty - r0) * T + tx] = j->texture[k];
        }
    }
}

/* Tiles [t0, t1): a few rows at a time (NN_PIXEL_BLOCK pixels), the
 * head's logits plus the scene's and the reference's weighted
 * log-probabilities into a block that stays in cache, decoded from there
 * into the tile's ab. */
static void fuse_decode_tiles(void *ctx, int t0, int t1) {
    fuse_job *j = ctx;
    const int T = j->T, tp = T * T, rows = NN_PIXEL_BLOCK / T > 0 ? NN_PIXEL_BLOCK / T : 1;
    float *block = malloc(sizeof(float) * ((size_t)j->Q + 2) * rows * T), *L = block + (size_t)j->Q * rows * T;
    float *texture = L + (size_t)rows * T;
    if (!block) {
        atomic_store(&j->failed, 1);
        return;
    }
    for (int t = t0; t < t1; t++) {
        float *a = j->tile_ab + (size_t)t * 2 * tp, *b = a + tp;
        for (int r0 = 0; r0 < T; r0 += rows) {
            const int r1 = r0 + rows < T ? r0 + rows : T, np = (r1 - r0) * T;
            nn_colorizer_head_columns(j->c, j->features, t, r0 * T, np, block);
            if (j->scene) nn_scene_add_to_tile_rows(j->scene, j->weight, j->x0[t], j->y0[t], T, r0, r1, block, block);
            if (j->reference) {
                tile_rows_lightness(j, j->x0[t], j->y0[t], r0, r1, L, texture);
                nn_reference_temper_logits(j->reference, j->reference_weight, j->bias, L, texture, np, block,
                                           (size_t)np);
            }
            nn_decode_annealed_mean_pixels(a + (size_t)r0 * T, b + (size_t)r0 * T, block, (size_t)np, np, j->bin_ab,
                                           j->reference ? NULL : j->bias, j->Q, j->inv_t);
        }
    }
    free(block);
}

/* The network over nb encoded tiles, each pixel's distribution multiplied
 * by the scene's and the reference's, decoded at the engine's vividness
 * into tile_ab. */
static nn_status predict_fused(const nn_engine *e, nn_colorizer *c, const float *in, int nb, const int *x0,
                               const int *y0, float *tile_ab, nn_error *err) {
    const float *features;
    nn_status st = nn_colorizer_features(c, in, nb, &features, err);
    if (st) return st;
    float *bias, T;
    if (nn_vivid_decoding(c->ab.rebalance, c->ab.num_bins, e->params.vividness, &bias, &T) != NN_OK)
        return nn_set_error(err, NN_ERR_NOMEM, "out of memory while decoding");
    fuse_job j = {e->scene, e->params.scene_weight, c, features, tile_ab, x0, y0, c->ab.bin_ab, bias,
                  nn_decode_inverse_temperature(T), c->tile, c->ab.num_bins, e->params.reference,
                  e->params.reference_weight, e->Lw, e->texture, e->ww, e->wh, 0};
    nn_parallel_for(nb, fuse_decode_tiles, &j);
    free(bias);
    return atomic_load(&j.failed) ? nn_set_error(err, NN_ERR_NOMEM, "out of memory while decoding") : NN_OK;
}

/* Without propagation: the painted colour, fitted into the gamut at each
 * working pixel's lightness, replaces the network's (sa, sb, in units of
 * NN_AB_SCALE) by the share of the pixel the strokes cover. */
static void paint_strokes(const nn_engine *e, float *sa, float *sb) {
    const size_t wn = (size_t)e->ww * e->wh;
    const float *pa = e->stroke, *pb = pa + wn, *cover = pb + wn;
    for (size_t k = 0; k < wn; k++) {
        if (!(cover[k] > 0.0f)) continue;
        float lab[3] = {e->Lw[k], pa[k], pb[k]};
        nn_lab_fit_gamut(lab, 1);
        sa[k] += cover[k] * (lab[1] / NN_AB_SCALE - sa[k]);
        sb[k] += cover[k] * (lab[2] / NN_AB_SCALE - sb[k]);
    }
}

/* The seeds of the propagation: each point's patch (a point wins over a
 * stroke where they overlap), then the strokes' connected pieces of one
 * colour; *n their count. */
static int *hint_seeds(const nn_engine *e, float **seed_ab, int *n) {
    const int ww = e->ww, wh = e->wh, r = NN_POINT_HINT_SIDE / 2;
    const size_t wn = (size_t)ww * wh;
    int *seed = malloc(sizeof(int) * 2 * wn);
    *seed_ab = malloc(sizeof(float) * 2 * (wn + (size_t)e->n_points));
    if (!seed || !*seed_ab) {
        free(seed), free(*seed_ab), *seed_ab = NULL;
        return NULL;
    }
    for (size_t k = 0; k < wn; k++) seed[k] = -1;
    for (int i = 0; i < e->n_points; i++) {
        const nn_point_hint *p = &e->points[i];
        const int px = (int)(p->x * ww / e->W), py = (int)(p->y * wh / e->H);
        for (int y = py - r; y <= py + r; y++)
            for (int x = px - r; x <= px + r; x++)
                if (x >= 0 && y >= 0 && x < ww && y < wh) seed[(size_t)y * ww + x] = i;
        (*seed_ab)[2 * i] = p->a, (*seed_ab)[2 * i + 1] = p->b;
    }
    *n = nn_stroke_seeds(e->stroke, e->stroke + 2 * wn, ww, wh, seed, *seed_ab, e->n_points, seed + wn);
    return seed;
}

/* The mean working L under each seed's pixels (n_seeds), allocated. */
static float *seed_lightness(const nn_engine *e, const int *seed, int n_seeds) {
    const size_t wn = (size_t)e->ww * e->wh;
    float *sum = calloc(2 * (size_t)n_seeds + 1, sizeof(float)), *count = sum ? sum + n_seeds : NULL;
    if (!sum) return NULL;
    for (size_t k = 0; k < wn; k++)
        if (seed[k] >= 0) sum[seed[k]] += e->Lw[k], count[seed[k]] += 1.0f;
    for (int i = 0; i < n_seeds; i++) sum[i] = count[i] > 0.0f ? sum[i] / count[i] : 0.0f;
    return sum;
}

/* Hints of one colour (within NN_HINT_SAME_COLOUR) make one region: each
 * seed's region becomes that of the first seed of its colour (two points
 * on one sky given one swatch, a stroke cut in pieces by a point's patch). */
static void merge_regions_of_one_colour(int *region, size_t wn, const float *seed_ab, int n_seeds) {
    int *first = malloc(sizeof(int) * (size_t)(n_seeds > 0 ? n_seeds : 1));
    if (!first) return; /* the regions stay apart: only their outline shows more lines */
    const float tol2 = NN_HINT_SAME_COLOUR * NN_HINT_SAME_COLOUR;
    for (int s = 0; s < n_seeds; s++) {
        first[s] = s;
        for (int t = 0; t < s; t++) {
            const float da = seed_ab[2 * s] - seed_ab[2 * t], db = seed_ab[2 * s + 1] - seed_ab[2 * t + 1];
            if (da * da + db * db <= tol2) {
                first[s] = first[t];
                break;
            }
        }
    }
    for (size_t k = 0; k < wn; k++)
        if (region[k] >= 0) region[k] = first[region[k]];
    free(first);
}

/* The hints carried along the image's edges, before the network runs:
 * e->hold, how firmly they hold each working pixel, e->carried, the colour
 * they carry there and the lightness it was given at, and e->region, which
 * hint's region each pixel lies in. */
static nn_status propagate_hints(nn_engine *e, nn_error *err) {
    const int ww = e->ww, wh = e->wh;
    const size_t wn = (size_t)ww * wh;
    float *seed_ab = NULL, *seed_L = NULL;
    int n_seeds = 0, *seed = hint_seeds(e, &seed_ab, &n_seeds);
    if (seed) seed_L = seed_lightness(e, seed, n_seeds);
    free(e->hold), free(e->carried), free(e->region);
    e->hold = malloc(sizeof(float) * wn), e->carried = malloc(sizeof(float) * 3 * wn);
    e->region = malloc(sizeof(int) * wn);
    nn_status st = NN_OK;
    if (!seed || !seed_L || !e->hold || !e->carried || !e->region) {
        st = nn_set_error(err, NN_ERR_NOMEM, "out of memory for the hint propagation");
    } else {
        const nn_propagation_params pp = {.reach = e->params.hint_reach, .texture = NN_HINT_TEXTURE,
                                          .length = NN_HINT_LENGTH, .contest = NN_HINT_CONTEST,
                                          .smooth = NN_HINT_BLEND, .smooth_l = NN_HINT_BLEND_LIGHTNESS,
                                          .denoise = NN_HINT_DENOISE};
        st = nn_propagate_hints(e->Lw, ww, wh, seed, seed_ab, seed_L, &pp, e->carried, e->carried + 2 * wn, e->hold,
                                e->region, err);
        if (!st) merge_regions_of_one_colour(e->region, wn, seed_ab, n_seeds);
    }
    if (st) free(e->hold), free(e->carried), free(e->region), e->hold = e->carried = NULL, e->region = NULL;
    free(seed), free(seed_ab), free(seed_L);
    return st;
}

/* After the network: each working pixel takes the carried colour (its
 * chroma following the lightness, NN_HINT_CHROMA_POWER, and fitted into
 * the gamut there) by the hold, the network's (sa, sb, in units of
 * NN_AB_SCALE) by the rest. */
static void apply_hints(const nn_engine *e, float *sa, float *sb) {
    const size_t wn = (size_t)e->ww * e->wh;
    for (size_t k = 0; k < wn; k++) {
        const float hold = e->hold[k];
        if (!(hold > 0.0f)) continue;
        const float given_at = e->carried[2 * wn + k];
        float f = given_at > 1.0f ? powf(e->Lw[k] / given_at, NN_HINT_CHROMA_POWER) : 1.0f;
        f = f < 1.0f / NN_HINT_CHROMA_RANGE ? 1.0f / NN_HINT_CHROMA_RANGE : f > NN_HINT_CHROMA_RANGE ? NN_HINT_CHROMA_RANGE : f;
        float lab[3] = {e->Lw[k], f * e->carried[k], f * e->carried[wn + k]};
        nn_lab_fit_gamut(lab, 1);
        sa[k] += hold * (lab[1] / NN_AB_SCALE - sa[k]);
        sb[k] += hold * (lab[2] / NN_AB_SCALE - sb[k]);
    }
}

/* The scene pass. With propagated hints, the scene that sees them counts
 * where they hold, the scene that does not see them elsewhere: the scene
 * (the whole image at 32 px) would otherwise carry a plausible hint's
 * colour over the whole image, across every edge. */
static nn_status scene_pass(nn_engine *e, nn_colorizer *c, nn_error *err) {
    nn_scene_free(e->scene), e->scene = NULL;
    const int ww = e->ww, wh = e->wh, long_side = ww > wh ? ww : wh;
    if (!(e->params.scene_weight > 0.0f) || long_side <= e->params.scene_size) return NN_OK;
    nn_status st = nn_scene_create(&e->scene, c, e->Lw, e->any_hint ? e->hint : NULL, ww, wh, e->params.scene_size, err);
    if (st || !e->hold) return st;
    nn_scene *plain = NULL;
    st = nn_scene_create(&plain, c, e->Lw, NULL, ww, wh, e->params.scene_size, err);
    if (!st) st = nn_scene_mix(e->scene, plain, e->hold, err);
    nn_scene_free(plain);
    return st;
}

/* The buffers of one predict, beside the engine's own planes. */
typedef struct {
    int *ox, *oy;            /* tile origins along x and y */
    float *work;             /* (9, wh, ww) ab sums (2), weights, scratch (5), the guide */
    double *dtmp;            /* (wh, ww) the box filter's running sums */
    float *in;               /* (batch_max, NN_INPUT_CHANNELS, T, T) a batch of encoded tiles */
    float *tile_ab;          /* (batch_max, 2, T, T) their ab */
    int *batch_x0, *batch_y0; /* (batch_max) their origins */
    int batch_max;
} predict_buffers;

static void predict_buffers_free(predict_buffers *p) {
    free(p->ox), free(p->oy), free(p->work), free(p->dtmp), free(p->in), free(p->tile_ab), free(p->batch_x0);
}

/* The engine's planes that a predict fills: the guided filter's
 * coefficients, the taps and the network's colour (replaced: a retry after
 * a cancelled predict); and the fit's work planes. */
static nn_status fit_planes_alloc(nn_engine *e, predict_buffers *p, nn_error *err) {
    const size_t wn = (size_t)e->ww * e->wh;
    p->work = malloc(sizeof(float) * wn * 9);
    p->dtmp = malloc(sizeof(double) * wn);
    free(e->coef), free(e->tx0), free(e->fx), free(e->net_ab);
    e->coef = malloc(sizeof(float) * 8 * wn);
    e->tx0 = malloc(sizeof(int) * 2 * ((size_t)e->W + e->H));
    e->fx = malloc(sizeof(float) * ((size_t)e->W + e->H));
    e->net_ab = malloc(sizeof(float) * 2 * wn);
    if (!p->work || !p->dtmp || !e->coef || !e->tx0 || !e->fx || !e->net_ab)
        return nn_set_error(err, NN_ERR_NOMEM, "out of memory for a %d×%d image at working size %d×%d", e->W, e->H,
                            e->ww, e->wh);
    e->tx1 = e->tx0 + e->W, e->ty0 = e->tx1 + e->W, e->ty1 = e->ty0 + e->H, e->fy = e->fx + e->W;
    return NN_OK;
}

/* The predict's buffers: the fit's, and the tiles' batches. */
static nn_status predict_buffers_alloc(nn_engine *e, const nn_colorizer *c, predict_buffers *p, nn_error *err) {
    const int T = c->tile, tp = T * T;
    p->ox = malloc(sizeof(int) * (size_t)(e->ww / (T / 2) + 3)), p->oy = malloc(sizeof(int) * (size_t)(e->wh / (T / 2) + 3));
    p->batch_max = c->max_batch < NN_TILE_BATCH_MAX ? c->max_batch : NN_TILE_BATCH_MAX;
    p->in = malloc(sizeof(float) * (size_t)p->batch_max * NN_INPUT_CHANNELS * tp);
    p->tile_ab = malloc(sizeof(float) * (size_t)p->batch_max * 2 * tp);
    p->batch_x0 = malloc(sizeof(int) * 2 * (size_t)p->batch_max);
    p->batch_y0 = p->batch_x0 ? p->batch_x0 + p->batch_max : NULL;
    nn_status st = fit_planes_alloc(e, p, err);
    if (!st && (!p->ox || !p->oy || !p->in || !p->tile_ab || !p->batch_x0))
        st = nn_set_error(err, NN_ERR_NOMEM, "out of memory for a %d×%d image at working size %d×%d", e->W, e->H,
                          e->ww, e->wh);
    return st;
}

/* L at working scale, from the rows' sums; then the hints thinned (once)
 * and carried along the image. */
static nn_status prepare_lightness_and_hints(nn_engine *e, nn_error *err) {
    const int ww = e->ww, wh = e->wh;
    for (int y = 0; y < wh; y++)
        for (int x = 0; x < ww; x++) {
            size_t k = (size_t)y * ww + x;
            e->Lw[k] = (float)(e->acc[k] / e->bin_rows[y]);
        }
    if (!e->hints_prepared) { /* once: thinning is not to be done twice */
        nn_status st = prepare_hints(e, err);
        if (st) return st;
        e->hints_prepared = 1;
    }
    return e->stroke ? propagate_hints(e, err) : NN_OK; /* at reach 0 each hint holds only its own pixels */
}

/* With a colour reference: the texture its prior depends on. */
static nn_status prepare_texture(nn_engine *e, nn_error *err) {
    if (!e->params.reference) return NN_OK;
    free(e->texture);
    e->texture = malloc(sizeof(float) * e->ww * e->wh);
    if (!e->texture)
        return nn_set_error(err, NN_ERR_NOMEM, "out of memory for the colour reference at %d×%d", e->ww, e->wh);
    nn_reference_texture(e->Lw, e->ww, e->wh, e->texture);
    return NN_OK;
}

/* Before the tiles: L and the hints, the scene pass, and the texture that
 * a colour reference's prior depends on. */
static nn_status predict_prepare(nn_engine *e, nn_colorizer *c, nn_error *err) {
    nn_status st = prepare_lightness_and_hints(e, err);
    if (!st) st = scene_pass(e, c, err);
    return st ? st : prepare_texture(e, err);
}

/* The tiles, in batches through the network, their ab blended into the
 * sums sa, sb with Hann-window weights sw (each (wh, ww)). */
static nn_status predict_tiles(nn_engine *e, nn_colorizer *c, predict_buffers *p, float *sa, float *sb, float *sw,
                               nn_progress_fn progress, void *user, const volatile int *cancel, nn_error *err) {
    const int T = c->tile, tp = T * T, ww = e->ww, wh = e->wh;
    int nx = nn_tile_origins(ww, T, p->ox), ny = nn_tile_origins(wh, T, p->oy), ntiles = nx * ny, done_tiles = 0;
    float window[64];
    for (int t = 0; t < T && t < 64; t++) {
        float s = sinf((float)M_PI * ((float)t + 0.5f) / (float)T);
        window[t] = s * s;
    }
    memset(sa, 0, sizeof(float) * 3 * ww * wh);
    while (done_tiles < ntiles) {
        if (cancel && *cancel) return nn_set_error(err, NN_ERR_CANCELLED, "cancelled");
        int nb = ntiles - done_tiles < p->batch_max ? ntiles - done_tiles : p->batch_max;
        for (int b = 0; b < nb; b++) {
            int k = done_tiles + b;
            encode_tile(e, p->ox[k % nx], p->oy[k / nx], T, p->in + (size_t)b * NN_INPUT_CHANNELS * tp);
            p->batch_x0[b] = p->ox[k % nx], p->batch_y0[b] = p->oy[k / nx];
        }
        nn_status st = e->scene || e->params.reference
                           ? predict_fused(e, c, p->in, nb, p->batch_x0, p->batch_y0, p->tile_ab, err)
                           : nn_colorizer_predict(c, p->in, nb, e->params.vividness, p->tile_ab, err);
        if (st) return st;
        for (int b = 0; b < nb; b++) {
            const int x0 = p->batch_x0[b], y0 = p->batch_y0[b];
            const float *ta = p->tile_ab + (size_t)b * 2 * tp, *tb = ta + tp;
            for (int ty = 0; ty < T && y0 + ty < wh; ty++)
                for (int tx = 0; tx < T && x0 + tx < ww; tx++) {
                    float wgt = (ww <= T ? 1.0f : window[tx]) * (wh <= T ? 1.0f : window[ty]);
                    size_t s = (size_t)(y0 + ty) * ww + x0 + tx, d = (size_t)ty * T + tx;
                    sa[s] += wgt * ta[d], sb[s] += wgt * tb[d], sw[s] += wgt;
                }
        }
        done_tiles += nb;
        if (progress) progress((double)done_tiles / ntiles, user);
    }
    return NN_OK;
}

/* After the tiles: the blended ab (sums sa, sb over weights sw, made
 * units of NN_AB_SCALE in place), kept as the network's colour. */
static void blend_tiles(nn_engine *e, float *sa, float *sb, const float *sw) {
    const size_t wn = (size_t)e->ww * e->wh;
    for (size_t k = 0; k < wn; k++) {
        sa[k] = sa[k] / sw[k] / NN_AB_SCALE;
        sb[k] = sb[k] / sw[k] / NN_AB_SCALE;
    }
    memcpy(e->net_ab, sa, sizeof(float) * wn), memcpy(e->net_ab + wn, sb, sizeof(float) * wn);
}

/* The network's colour (the work planes' first two) with the hints laid
 * over it, and the guided filter's coefficients, ranges and taps that
 * full-resolution rows use. */
static void predict_fit(nn_engine *e, predict_buffers *p) {
    const int ww = e->ww, wh = e->wh;
    const size_t wn = (size_t)ww * wh;
    float *sa = p->work, *sb = sa + wn, *sw = sb + wn, *scratch = sw + wn;
    float *guide = scratch + 5 * wn; /* not a scratch plane: nn_guided_coefficients uses all five */
    for (size_t k = 0; k < wn; k++) guide[k] = e->Lw[k] * 0.01f; /* the guide at working scale */
    if (e->stroke) {
        if (e->hold) apply_hints(e, sa, sb);
        else paint_strokes(e, sa, sb);
    }
    nn_guided_coefficients(e->coef, e->coef + wn, guide, sa, ww, wh, scratch, p->dtmp);
    nn_guided_coefficients(e->coef + 2 * wn, e->coef + 3 * wn, guide, sb, ww, wh, scratch, p->dtmp);
    nn_cell_range(e->coef + 4 * wn, e->coef + 5 * wn, sa, ww, wh);
    nn_cell_range(e->coef + 6 * wn, e->coef + 7 * wn, sb, ww, wh);
    nn_bilinear_taps(e->tx0, e->tx1, e->fx, e->W, ww, e->W, 0.0, 1.0);
    nn_bilinear_taps(e->ty0, e->ty1, e->fy, e->H, wh, e->H, 0.0, 1.0);
}

static nn_status check_rows_fed(const nn_engine *e, nn_error *err) {
    if (e->predicted || e->next_row != e->H)
        return nn_set_error(err, NN_ERR_INVALID, "the engine has %d of %d rows", e->next_row, e->H);
    return NN_OK;
}

nn_status nn_engine_predict(nn_engine *e, nn_colorizer *c, nn_progress_fn progress, void *user,
                            const volatile int *cancel, nn_error *err) {
    nn_status st = check_rows_fed(e, err);
    if (st) return st;
    if (c->tile < 2 || c->tile > 64) return nn_set_error(err, NN_ERR_INVALID, "tile size %d is outside 2..64", c->tile);
    if (e->params.reference && nn_reference_check_model(e->params.reference, c, err) != NN_OK) return err->status;
    const size_t wn = (size_t)e->ww * e->wh;
    predict_buffers p = {0};
    st = predict_buffers_alloc(e, c, &p, err);
    if (!st) st = predict_prepare(e, c, err);
    if (!st) st = predict_tiles(e, c, &p, p.work, p.work + wn, p.work + 2 * wn, progress, user, cancel, err);
    if (!st && cancel && *cancel) st = nn_set_error(err, NN_ERR_CANCELLED, "cancelled");
    if (!st) {
        blend_tiles(e, p.work, p.work + wn, p.work + 2 * wn);
        predict_fit(e, &p);
        e->predicted = 1;
    }
    predict_buffers_free(&p);
    return st;
}

nn_status nn_engine_predict_from(nn_engine *e, const nn_engine *base, nn_error *err) {
    nn_status st = check_rows_fed(e, err);
    if (st) return st;
    if (!base->predicted || !base->net_ab)
        return nn_set_error(err, NN_ERR_INVALID, "the engine to take the network's colour from has not predicted");
    if (base->W != e->W || base->H != e->H || base->ww != e->ww || base->wh != e->wh)
        return nn_set_error(err, NN_ERR_INVALID,
                            "the engine to take the network's colour from is %d×%d at working size %d×%d, not %d×%d "
                            "at %d×%d",
                            base->W, base->H, base->ww, base->wh, e->W, e->H, e->ww, e->wh);
    const size_t wn = (size_t)e->ww * e->wh;
    predict_buffers p = {0};
    st = fit_planes_alloc(e, &p, err);
    if (!st) st = prepare_lightness_and_hints(e, err);
    if (!st) st = prepare_texture(e, err); /* a reference's suggestions read it */
    if (!st) {
        memcpy(e->net_ab, base->net_ab, sizeof(float) * 2 * wn);
        memcpy(p.work, base->net_ab, sizeof(float) * 2 * wn);
        predict_fit(e, &p);
        e->predicted = 1;
    }
    predict_buffers_free(&p);
    return st;
}

/* One output row of ab from the coefficient planes: working rows ra and rb
 * blended by fy, columns by the taps xa, xb, fx, guided by the row's L;
 * times `scale` (NN_AB_SCALE, with the saturation or without). */
static void ab_row(const nn_engine *e, size_t ra, size_t rb, float fy, const int *xa, const int *xb, const float *fx,
                   int w, const float *Lr, float *a, float *b, float scale) {
    const size_t wn = (size_t)e->ww * e->wh;
    for (int c = 0; c < 2; c++) {
        const float *A = e->coef + 2 * c * wn, *B = A + wn, *LO = e->coef + (4 + 2 * c) * wn, *HI = LO + wn;
        float *out = c ? b : a;
        for (int x = 0; x < w; x++) {
            const float f = fx[x];
            float ca = (1 - fy) * ((1 - f) * A[ra + xa[x]] + f * A[ra + xb[x]]) + fy * ((1 - f) * A[rb + xa[x]] + f * A[rb + xb[x]]);
            float cb = (1 - fy) * ((1 - f) * B[ra + xa[x]] + f * B[ra + xb[x]]) + fy * ((1 - f) * B[rb + xa[x]] + f * B[rb + xb[x]]);
            /* the guided filter extrapolates where full-resolution L leaves
             * the working pixel's range: keep within the neighbours' colour */
            const float lo = LO[ra + xa[x]], hi = HI[ra + xa[x]], q = ca * Lr[x] * 0.01f + cb;
            out[x] = (q < lo ? lo : q > hi ? hi : q) * scale;
        }
    }
}

void nn_engine_ab_rows(const nn_engine *e, int y0, int rows, const float *L, float *a, float *b) {
    const int W = e->W;
    for (int r = 0; r < rows; r++) {
        const int y = y0 + r;
        const size_t o = (size_t)r * W;
        ab_row(e, (size_t)e->ty0[y] * e->ww, (size_t)e->ty1[y] * e->ww, e->fy[y], e->tx0, e->tx1, e->fx, W, L + o,
               a + o, b + o, NN_AB_SCALE * e->params.saturation);
    }
}

typedef struct {
    const nn_engine *e;
    const int *xa, *xb;
    const float *fx;
    double y0, step_y;
    int w;
    const float *L;
    float *a, *b;
} region_job;

static void region_rows(void *ctx, int r0, int r1) {
    const region_job *j = ctx;
    const nn_engine *e = j->e;
    for (int r = r0; r < r1; r++) {
        int ya, yb;
        float fy;
        nn_bilinear_taps(&ya, &yb, &fy, 1, e->wh, e->H, j->y0 + r * j->step_y, j->step_y);
        const size_t o = (size_t)r * j->w;
        ab_row(e, (size_t)ya * e->ww, (size_t)yb * e->ww, fy, j->xa, j->xb, j->fx, j->w, j->L + o, j->a + o, j->b + o,
               NN_AB_SCALE * e->params.saturation);
    }
}

nn_status nn_engine_colour_at(const nn_engine *e, double x, double y, float ab[2], nn_error *err) {
    if (!e->predicted) return nn_set_error(err, NN_ERR_INVALID, "a colour asked for before predict");
    int xa, xb, ya, yb;
    float fx, fy;
    nn_bilinear_taps(&xa, &xb, &fx, 1, e->ww, e->W, x - 0.5, 1.0); /* one pixel centred at (x, y) */
    nn_bilinear_taps(&ya, &yb, &fy, 1, e->wh, e->H, y - 0.5, 1.0);
    const float L = nn_engine_lightness_at(e, x, y);
    ab_row(e, (size_t)ya * e->ww, (size_t)yb * e->ww, fy, &xa, &xb, &fx, 1, &L, &ab[0], &ab[1], NN_AB_SCALE);
    return NN_OK;
}

nn_status nn_engine_ab_region(const nn_engine *e, double x0, double y0, double step_x, double step_y, int w,
                              int rows, const float *L, float *a, float *b, nn_error *err) {
    if (!e->predicted) return nn_set_error(err, NN_ERR_INVALID, "ab asked for before predict");
    if (w < 1 || rows < 1 || !(step_x > 0.0) || !(step_y > 0.0)) return nn_set_error(err, NN_ERR_INVALID, "empty region");
    int *xa = malloc(sizeof(int) * 2 * (size_t)w);
    float *fx = malloc(sizeof(float) * (size_t)w);
    if (!xa || !fx) {
        free(xa), free(fx);
        return nn_set_error(err, NN_ERR_NOMEM, "out of memory for a %d-pixel row", w);
    }
    nn_bilinear_taps(xa, xa + w, fx, w, e->ww, e->W, x0, step_x);
    region_job j = {e, xa, xa + w, fx, y0, step_y, w, L, a, b};
    nn_parallel_for(rows, region_rows, &j); /* rows apart: the same result on any threads */
    free(xa), free(fx);
    return NN_OK;
}

/* The scene's share of the logits at working pixel (px, py), from a scene
 * pass that does not see the hint patch there (as the tile does not). */
static nn_status scene_without_point(const nn_engine *e, nn_colorizer *c, int px, int py, float *out, nn_error *err) {
    const int ww = e->ww, wh = e->wh, r = NN_POINT_HINT_SIDE / 2;
    const size_t wn = (size_t)ww * wh;
    float *hint = e->any_hint ? malloc(sizeof(float) * 3 * wn) : NULL;
    if (e->any_hint && !hint) return nn_set_error(err, NN_ERR_NOMEM, "out of memory");
    if (hint) {
        memcpy(hint, e->hint, sizeof(float) * 3 * wn);
        for (int y = py - r; y <= py + r; y++)
            for (int x = px - r; x <= px + r; x++)
                if (x >= 0 && y >= 0 && x < ww && y < wh) hint[2 * wn + (size_t)y * ww + x] = 0.0f;
    }
    nn_scene *s = NULL;
    nn_status st = nn_scene_create(&s, c, e->Lw, hint, ww, wh, e->params.scene_size, err);
    if (!st) nn_scene_at(s, e->params.scene_weight, px, py, out);
    nn_scene_free(s);
    free(hint);
    return st;
}

nn_status nn_engine_suggest(const nn_engine *e, nn_colorizer *c, double x, double y, int k, float *ab,
                            float *prob, int *found, nn_error *err) {
    *found = 0;
    if (!e->predicted) return nn_set_error(err, NN_ERR_INVALID, "suggestions asked for before predict");
    if (!(x >= 0.0 && x < e->W && y >= 0.0 && y < e->H))
        return nn_set_error(err, NN_ERR_INVALID, "(%g, %g) is outside the %d×%d image", x, y, e->W, e->H);
    const int T = c->tile, tp = T * T, Q = c->ab.num_bins;
    const int px = (int)(x * e->ww / e->W), py = (int)(y * e->wh / e->H);
    int x0 = px - T / 2, y0 = py - T / 2;
    x0 = x0 > e->ww - T ? e->ww - T : x0, y0 = y0 > e->wh - T ? e->wh - T : y0;
    x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0;
    float *in = malloc(sizeof(float) * NN_INPUT_CHANNELS * tp), *p = malloc(sizeof(float) * 2 * (size_t)Q);
    float *scene = p ? p + Q : NULL; /* the scene's share of the logits */
    nn_status st = NN_OK;
    if (!in || !p) {
        st = nn_set_error(err, NN_ERR_NOMEM, "out of memory");
        goto done;
    }
    encode_tile(e, x0, y0, T, in);
    /* the point's own hint is left out: the suggestions are what the network expects there without it */
    for (int ty = py - y0 - NN_POINT_HINT_SIDE / 2; ty <= py - y0 + NN_POINT_HINT_SIDE / 2; ty++)
        for (int tx = px - x0 - NN_POINT_HINT_SIDE / 2; tx <= px - x0 + NN_POINT_HINT_SIDE / 2; tx++)
            if (tx >= 0 && ty >= 0 && tx < T && ty < T)
                for (int ch = 1; ch < NN_INPUT_CHANNELS; ch++) in[ch * tp + ty * T + tx] = 0.0f;
    if (e->scene) {
        st = scene_without_point(e, c, px, py, scene, err);
        if (st) goto done;
    } else {
        memset(scene, 0, sizeof(float) * (size_t)Q);
    }
    if (e->params.reference) { /* the reference's share, at the point's lightness */
        const size_t at = (size_t)py * e->ww + px;
        nn_reference_add_logits(e->params.reference, e->params.reference_weight, &e->Lw[at], &e->texture[at], 1, scene, 1);
    }
    st = nn_colorizer_distribution(c, in, (py - y0) * T + (px - x0), e->scene || e->params.reference ? scene : NULL,
                                   p, err);
    if (st) goto done;
    /* the most likely bins, each at least NN_SUGGESTION_SEPARATION from those already chosen */
    for (int n = 0; n < k; n++) {
        int best = -1;
        for (int q = 0; q < Q; q++) {
            if (best >= 0 && p[q] <= p[best]) continue;
            int near = 0;
            for (int j = 0; j < n && !near; j++)
                near = hypotf(c->ab.bin_ab[2 * q] - ab[2 * j], c->ab.bin_ab[2 * q + 1] - ab[2 * j + 1]) <
                       NN_SUGGESTION_SEPARATION;
            if (!near) best = q;
        }
        if (best < 0) break;
        ab[2 * n] = c->ab.bin_ab[2 * best], ab[2 * n + 1] = c->ab.bin_ab[2 * best + 1], prob[n] = p[best];
        *found = n + 1;
    }
done:
    free(in), free(p);
    return st;
}

typedef struct {
    const nn_engine *e;
    const float *L;
    float *ab;
} ab_job;

static void ab_rows_job(void *ctx, int r0, int r1) {
    const ab_job *j = ctx;
    const size_t W = (size_t)j->e->W, n = W * j->e->H;
    nn_engine_ab_rows(j->e, r0, r1 - r0, j->L + r0 * W, j->ab + r0 * W, j->ab + n + r0 * W);
}

nn_status nn_engine_colorize(nn_colorizer *c, const float *L, int W, int H, const float *hint_ab,
                             const float *hint_mask, const nn_engine_params *params, float *ab,
                             nn_progress_fn progress, void *user, const volatile int *cancel, nn_error *err) {
    nn_engine *e;
    nn_status st = nn_engine_begin(&e, W, H, params, err);
    if (st) return st;
    const size_t n = (size_t)W * H;
    const int hints = hint_ab && hint_mask;
    st = nn_engine_add_rows(e, 0, H, L, hints ? hint_ab : NULL, hints ? hint_ab + n : NULL, hints ? hint_mask : NULL, err);
    if (st == NN_OK) st = nn_engine_predict(e, c, progress, user, cancel, err);
    if (st == NN_OK) {
        ab_job j = {e, L, ab};
        nn_parallel_for(H, ab_rows_job, &j);
    }
    nn_engine_free(e);
    return st;
}
