/* engine.c — the full-image colorization engine shared by the plug-in and
 * `colorize-train colorize`: L at a working resolution, 32×32 tiles that
 * overlap by half a tile, run in large batches and blended with a Hann
 * window, hints placed at working scale, and ab brought back to full
 * resolution by a fast guided filter whose guide is the full-resolution L.
 * Plain buffers in, plain buffers out, a progress callback and a cancel flag. */
#include "nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GUIDE_RADIUS 2     /* working pixels */
#define GUIDE_EPS 2e-3f    /* on L / 100 */
#define TILE_BATCH_MAX 256 /* tiles per network call */

nn_engine_params nn_engine_default_params(void) {
    return (nn_engine_params){NN_DEFAULT_VIVIDNESS, 1.0f, NN_DEFAULT_RESOLUTION};
}

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

/* Area-average downscaling of one plane (or its bin-sum with `sum`). */
static void downscale(float *out, const float *in, int w, int h, int ow, int oh, float *tmp /* h × ow */) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < ow; x++) {
            int x0 = (int)((long)x * w / ow), x1 = (int)((long)(x + 1) * w / ow);
            if (x1 <= x0) x1 = x0 + 1;
            double s = 0.0;
            for (int k = x0; k < x1; k++) s += in[(size_t)y * w + k];
            tmp[(size_t)y * ow + x] = (float)(s / (x1 - x0));
        }
    for (int y = 0; y < oh; y++) {
        int y0 = (int)((long)y * h / oh), y1 = (int)((long)(y + 1) * h / oh);
        if (y1 <= y0) y1 = y0 + 1;
        for (int x = 0; x < ow; x++) {
            double s = 0.0;
            for (int k = y0; k < y1; k++) s += tmp[(size_t)k * ow + x];
            out[(size_t)y * ow + x] = (float)(s / (y1 - y0));
        }
    }
}

/* Tile origins along one axis: every half tile, the last flush with the end. */
static int tile_origins(int n, int tile, int *out) {
    if (n <= tile) {
        out[0] = 0;
        return 1;
    }
    int k = 0;
    for (int p = 0; p + tile < n; p += tile / 2) out[k++] = p;
    out[k++] = n - tile;
    return k;
}

/* Box mean over a (2r+1)² window clipped to the image: O(N) running sums. */
static void box_mean(float *out, const float *in, int w, int h, int r, double *tmp /* w × h */) {
    for (int y = 0; y < h; y++) {
        const float *row = in + (size_t)y * w;
        double s = 0.0;
        for (int x = 0; x <= r && x < w; x++) s += row[x];
        for (int x = 0; x < w; x++) {
            int lo = x - r < 0 ? 0 : x - r, hi = x + r >= w ? w - 1 : x + r;
            tmp[(size_t)y * w + x] = s / (hi - lo + 1);
            if (x + r + 1 < w) s += row[x + r + 1];
            if (x - r >= 0) s -= row[x - r];
        }
    }
    for (int x = 0; x < w; x++) {
        double s = 0.0;
        for (int y = 0; y <= r && y < h; y++) s += tmp[(size_t)y * w + x];
        for (int y = 0; y < h; y++) {
            int lo = y - r < 0 ? 0 : y - r, hi = y + r >= h ? h - 1 : y + r;
            out[(size_t)y * w + x] = (float)(s / (hi - lo + 1));
            if (y + r + 1 < h) s += tmp[(size_t)(y + r + 1) * w + x];
            if (y - r >= 0) s -= tmp[(size_t)(y - r) * w + x];
        }
    }
}

/* Guided-filter coefficients at working scale: q = A · I + B, box-averaged. */
static void guided_coefficients(float *A, float *B, const float *I, const float *p, int w, int h, float *scratch,
                                double *dtmp) {
    const size_t n = (size_t)w * h;
    float *mI = scratch, *mp = mI + n, *mIp = mp + n, *mII = mIp + n, *t = mII + n;
    box_mean(mI, I, w, h, GUIDE_RADIUS, dtmp);
    box_mean(mp, p, w, h, GUIDE_RADIUS, dtmp);
    for (size_t i = 0; i < n; i++) t[i] = I[i] * p[i];
    box_mean(mIp, t, w, h, GUIDE_RADIUS, dtmp);
    for (size_t i = 0; i < n; i++) t[i] = I[i] * I[i];
    box_mean(mII, t, w, h, GUIDE_RADIUS, dtmp);
    for (size_t i = 0; i < n; i++) {
        float var = mII[i] - mI[i] * mI[i], cov = mIp[i] - mI[i] * mp[i];
        float a = cov / (var + GUIDE_EPS);
        mIp[i] = a;                   /* reuse: A before averaging */
        mII[i] = mp[i] - a * mI[i];   /* reuse: B before averaging */
    }
    box_mean(A, mIp, w, h, GUIDE_RADIUS, dtmp);
    box_mean(B, mII, w, h, GUIDE_RADIUS, dtmp);
}

/* Bilinear taps (align_corners = False) from n_out samples onto n_in. */
static void taps(int *i0, int *i1, float *f, int n_out, int n_in) {
    for (int o = 0; o < n_out; o++) {
        float s = ((float)o + 0.5f) * (float)n_in / (float)n_out - 0.5f;
        if (s < 0.0f) s = 0.0f;
        int lo = (int)s;
        if (lo > n_in - 1) lo = n_in - 1;
        i0[o] = lo;
        i1[o] = lo + 1 < n_in ? lo + 1 : n_in - 1;
        f[o] = s - (float)lo;
    }
}

typedef struct {
    const float *L;      /* (H, W) full resolution */
    const float *coef;   /* A_a, B_a, A_b, B_b at working scale */
    float *ab;           /* (2, H, W) */
    int W, H, ww, wh;
    const int *x0, *x1, *y0, *y1;
    const float *fx, *fy;
    float scale;         /* NN_AB_SCALE × saturation */
} upsample_job;

static void upsample_rows(void *ctx, int r0, int r1) {
    const upsample_job *j = ctx;
    const size_t wn = (size_t)j->ww * j->wh, n = (size_t)j->W * j->H;
    for (int y = r0; y < r1; y++) {
        const float fy = j->fy[y];
        const size_t ra = (size_t)j->y0[y] * j->ww, rb = (size_t)j->y1[y] * j->ww;
        const float *Lr = j->L + (size_t)y * j->W;
        for (int c = 0; c < 2; c++) {
            const float *A = j->coef + 2 * c * wn, *B = A + wn;
            float *out = j->ab + c * n + (size_t)y * j->W;
            for (int x = 0; x < j->W; x++) {
                const int xa = j->x0[x], xb = j->x1[x];
                const float fx = j->fx[x];
                float a = (1 - fy) * ((1 - fx) * A[ra + xa] + fx * A[ra + xb]) + fy * ((1 - fx) * A[rb + xa] + fx * A[rb + xb]);
                float b = (1 - fy) * ((1 - fx) * B[ra + xa] + fx * B[ra + xb]) + fy * ((1 - fx) * B[rb + xa] + fx * B[rb + xb]);
                out[x] = (a * Lr[x] * 0.01f + b) * j->scale;
            }
        }
    }
}

nn_status nn_engine_colorize(nn_colorizer *c, const float *L, int W, int H, const float *hint_ab,
                             const float *hint_mask, const nn_engine_params *params, float *ab,
                             nn_progress_fn progress, void *user, const volatile int *cancel, nn_error *err) {
    if (W < 1 || H < 1 || (size_t)W * H > ((size_t)1 << 31))
        return nn_set_error(err, NN_ERR_INVALID, "image size %d×%d is out of range", W, H);
    if (!(params->vividness >= 0.0f && params->vividness <= 1.0f))
        return nn_set_error(err, NN_ERR_INVALID, "vividness %g is outside 0..1", params->vividness);
    if (!(params->saturation >= 0.0f && params->saturation <= 2.0f))
        return nn_set_error(err, NN_ERR_INVALID, "saturation %g is outside 0..2", params->saturation);
    if (params->resolution < NN_MIN_RESOLUTION || params->resolution > NN_MAX_RESOLUTION)
        return nn_set_error(err, NN_ERR_INVALID, "working resolution %d is outside %d..%d", params->resolution,
                            NN_MIN_RESOLUTION, NN_MAX_RESOLUTION);
    const int T = c->tile, tp = T * T;
    if (T < 2 || T > 64) return nn_set_error(err, NN_ERR_INVALID, "tile size %d is outside 2..64", T);
    int ww, wh;
    nn_engine_working_size(W, H, params->resolution, &ww, &wh);
    const size_t wn = (size_t)ww * wh;
    int *ox = malloc(sizeof(int) * (size_t)(ww / (T / 2) + 3)), *oy = malloc(sizeof(int) * (size_t)(wh / (T / 2) + 3));
    int *tx0 = malloc(sizeof(int) * 2 * ((size_t)W + H)), *tx1 = tx0 + W, *ty0 = tx1 + W, *ty1 = ty0 + H;
    float *tf = malloc(sizeof(float) * ((size_t)W + H));
    /* working planes: L, hint a, hint b, hint mask, ab sums (2), weights, coefficients (4), scratch (5) */
    float *work = malloc(sizeof(float) * wn * 17 + sizeof(float) * (size_t)H * (ww > wh ? ww : wh));
    double *dtmp = malloc(sizeof(double) * wn);
    const int batch_max = c->max_batch < TILE_BATCH_MAX ? c->max_batch : TILE_BATCH_MAX;
    float *in = malloc(sizeof(float) * (size_t)batch_max * NN_INPUT_CHANNELS * tp);
    float *tile_ab = malloc(sizeof(float) * (size_t)batch_max * 2 * tp);
    nn_status st = NN_OK;
    if (!ox || !oy || !tx0 || !tf || !work || !dtmp || !in || !tile_ab) {
        st = nn_set_error(err, NN_ERR_NOMEM, "out of memory for a %d×%d image at working size %d×%d", W, H, ww, wh);
        goto done;
    }
    float *Lw = work, *ha = Lw + wn, *hb = ha + wn, *hm = hb + wn, *sa = hm + wn, *sb = sa + wn, *sw = sb + wn;
    float *coef = sw + wn, *scratch = coef + 4 * wn, *tmp = scratch + 5 * wn;
    downscale(Lw, L, W, H, ww, wh, tmp);

    /* hints: every hinted full-resolution pixel votes for its working pixel */
    memset(ha, 0, sizeof(float) * 3 * wn);
    int any_hint = 0;
    if (hint_ab && hint_mask) {
        for (int y = 0; y < H; y++) {
            size_t wy = (size_t)((long)y * wh / H) * ww;
            for (int x = 0; x < W; x++) {
                size_t i = (size_t)y * W + x;
                if (!(hint_mask[i] > 0.5f)) continue;
                size_t k = wy + (size_t)((long)x * ww / W);
                ha[k] += hint_ab[i], hb[k] += hint_ab[(size_t)W * H + i], hm[k] += 1.0f;
                any_hint = 1;
            }
        }
        for (size_t k = 0; k < wn; k++) {
            if (!(hm[k] > 0.0f)) continue;
            /* the hint's colour as it can exist at this lightness: same hue,
             * chroma reduced into the sRGB gamut (as every training hint was) */
            float lab[3] = {Lw[k], ha[k] / hm[k], hb[k] / hm[k]};
            nn_lab_fit_gamut(lab, 1);
            ha[k] = lab[1], hb[k] = lab[2], hm[k] = 1.0f;
        }
    }

    /* tiles */
    int nx = tile_origins(ww, T, ox), ny = tile_origins(wh, T, oy), ntiles = nx * ny, done_tiles = 0;
    float window[64];
    for (int t = 0; t < T && t < 64; t++) {
        float s = sinf((float)M_PI * ((float)t + 0.5f) / (float)T);
        window[t] = s * s;
    }
    memset(sa, 0, sizeof(float) * 3 * wn);
    while (done_tiles < ntiles) {
        if (cancel && *cancel) {
            st = nn_set_error(err, NN_ERR_CANCELLED, "cancelled");
            goto done;
        }
        int nb = ntiles - done_tiles < batch_max ? ntiles - done_tiles : batch_max;
        for (int b = 0; b < nb; b++) {
            int k = done_tiles + b, x0 = ox[k % nx], y0 = oy[k / nx];
            float *x = in + (size_t)b * NN_INPUT_CHANNELS * tp;
            for (int ty = 0; ty < T; ty++) {
                int sy = y0 + ty < wh ? y0 + ty : wh - 1;
                for (int tx = 0; tx < T; tx++) {
                    int sx = x0 + tx < ww ? x0 + tx : ww - 1, inside = y0 + ty < wh && x0 + tx < ww;
                    size_t s = (size_t)sy * ww + sx, d = (size_t)ty * T + tx;
                    int hinted = inside && any_hint && hm[s] > 0.0f;
                    x[d] = Lw[s] * (1.0f / 50.0f) - 1.0f;
                    x[tp + d] = hinted ? ha[s] / NN_AB_SCALE : 0.0f;
                    x[2 * tp + d] = hinted ? hb[s] / NN_AB_SCALE : 0.0f;
                    x[3 * tp + d] = hinted ? 1.0f : 0.0f;
                }
            }
        }
        st = nn_colorizer_predict(c, in, nb, params->vividness, tile_ab, err);
        if (st) goto done;
        for (int b = 0; b < nb; b++) {
            int k = done_tiles + b, x0 = ox[k % nx], y0 = oy[k / nx];
            const float *ta = tile_ab + (size_t)b * 2 * tp, *tb = ta + tp;
            for (int ty = 0; ty < T && y0 + ty < wh; ty++)
                for (int tx = 0; tx < T && x0 + tx < ww; tx++) {
                    float wgt = (ww <= T ? 1.0f : window[tx]) * (wh <= T ? 1.0f : window[ty]);
                    size_t s = (size_t)(y0 + ty) * ww + x0 + tx, d = (size_t)ty * T + tx;
                    sa[s] += wgt * ta[d], sb[s] += wgt * tb[d], sw[s] += wgt;
                }
        }
        done_tiles += nb;
        if (progress) progress(0.9 * done_tiles / ntiles, user);
    }
    for (size_t k = 0; k < wn; k++) { /* blended ab, in units of NN_AB_SCALE */
        sa[k] = sa[k] / sw[k] / NN_AB_SCALE;
        sb[k] = sb[k] / sw[k] / NN_AB_SCALE;
        scratch[k] = Lw[k] * 0.01f; /* the guide at working scale */
    }
    if (cancel && *cancel) {
        st = nn_set_error(err, NN_ERR_CANCELLED, "cancelled");
        goto done;
    }
    memcpy(hm, scratch, sizeof(float) * wn); /* hm is free now: keep the guide there */
    guided_coefficients(coef, coef + wn, hm, sa, ww, wh, scratch, dtmp);
    guided_coefficients(coef + 2 * wn, coef + 3 * wn, hm, sb, ww, wh, scratch, dtmp);
    taps(tx0, tx1, tf, W, ww);
    taps(ty0, ty1, tf + W, H, wh);
    upsample_job job = {L, coef, ab, W, H, ww, wh, tx0, tx1, ty0, ty1, tf, tf + W, NN_AB_SCALE * params->saturation};
    nn_parallel_for(H, upsample_rows, &job);
    if (progress) progress(1.0, user);
done:
    free(ox), free(oy), free(tx0), free(tf), free(work), free(dtmp), free(in), free(tile_ab);
    return st;
}
