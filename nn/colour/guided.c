/* guided.c — bringing the working-scale colour to full resolution along
 * the photo's own edges (nn_guided.h): the guided filter's coefficients
 * (He, Sun and Tang 2010) from box means in O(N), the range each working
 * cell's colour may take, and the bilinear taps from full-resolution
 * pixels onto working ones. */
#include "nn_guided.h"

#define GUIDE_RADIUS 2  /* working pixels */
#define GUIDE_EPS 2e-3f /* on L / 100 */

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

void nn_guided_coefficients(float *A, float *B, const float *I, const float *p, int w, int h, float *scratch,
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

void nn_bilinear_taps(int *i0, int *i1, float *f, int n_out, int n_in, int n_full, double origin, double step) {
    for (int o = 0; o < n_out; o++) {
        float s = (float)((origin + ((double)o + 0.5) * step) * n_in / n_full - 0.5);
        if (s < 0.0f) s = 0.0f;
        int lo = (int)s;
        if (lo > n_in - 1) lo = n_in - 1;
        i0[o] = lo;
        i1[o] = lo + 1 < n_in ? lo + 1 : n_in - 1;
        f[o] = s - (float)lo < 1.0f ? s - (float)lo : 1.0f;
    }
}

void nn_cell_range(float *lo, float *hi, const float *p, int ww, int wh) {
    for (int y = 0; y < wh; y++) {
        const float *r0 = p + (size_t)y * ww, *r1 = p + (size_t)(y + 1 < wh ? y + 1 : y) * ww;
        for (int x = 0; x < ww; x++) {
            const int x1 = x + 1 < ww ? x + 1 : x;
            float a = r0[x] < r0[x1] ? r0[x] : r0[x1], b = r1[x] < r1[x1] ? r1[x] : r1[x1];
            float c = r0[x] > r0[x1] ? r0[x] : r0[x1], d = r1[x] > r1[x1] ? r1[x] : r1[x1];
            lo[(size_t)y * ww + x] = a < b ? a : b;
            hi[(size_t)y * ww + x] = c > d ? c : d;
        }
    }
}

