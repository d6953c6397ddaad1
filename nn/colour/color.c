/* color.c — sRGB <-> CIE L*a*b* (D65, 2° observer) with the same constants as
 * skimage.color.rgb2lab / lab2rgb, for float, 8-bit and linear-light RGB;
 * fitting a colour into the sRGB gamut at its lightness; and the planar
 * conversions at the two ends of every front end: pixels to L, RGBA hint
 * pixels to hint a, b and mask, and L with ab back to gamut-fitted sRGB. */
#include "nn_color.h"

#include <math.h>
#include <pthread.h>

#include "../private/nn_internal.h"

static const double XYZ_FROM_RGB[3][3] = {
    {0.412453, 0.357580, 0.180423},
    {0.212671, 0.715160, 0.072169},
    {0.019334, 0.119193, 0.950227},
};
static const double WHITE[3] = {0.95047, 1.0, 1.08883};

static inline double srgb_to_linear(double c) {
    return c > 0.04045 ? pow((c + 0.055) / 1.055, 2.4) : c / 12.92;
}

static inline double linear_to_srgb(double c) {
    return c > 0.0031308 ? 1.055 * pow(c, 1.0 / 2.4) - 0.055 : c * 12.92;
}

static inline double lab_f(double t) {
    return t > 0.008856 ? cbrt(t) : 7.787 * t + 16.0 / 116.0;
}

static inline double lab_finv(double t) {
    return t > 0.2068966 ? t * t * t : (t - 16.0 / 116.0) / 7.787;
}

static inline void linear_to_lab_px(float *lab, double r, double g, double b) {
    double fx = lab_f((XYZ_FROM_RGB[0][0] * r + XYZ_FROM_RGB[0][1] * g + XYZ_FROM_RGB[0][2] * b) / WHITE[0]);
    double fy = lab_f((XYZ_FROM_RGB[1][0] * r + XYZ_FROM_RGB[1][1] * g + XYZ_FROM_RGB[1][2] * b) / WHITE[1]);
    double fz = lab_f((XYZ_FROM_RGB[2][0] * r + XYZ_FROM_RGB[2][1] * g + XYZ_FROM_RGB[2][2] * b) / WHITE[2]);
    lab[0] = (float)(116.0 * fy - 16.0);
    lab[1] = (float)(500.0 * (fx - fy));
    lab[2] = (float)(200.0 * (fy - fz));
}

/* The inverse of XYZ_FROM_RGB, by cofactors (as numpy's inv, to ~1e-15). */
static void rgb_from_xyz(double m[3][3]) {
    const double(*a)[3] = XYZ_FROM_RGB;
    double det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
                 a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
                 a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            int r0 = (j + 1) % 3, r1 = (j + 2) % 3, c0 = (i + 1) % 3, c1 = (i + 2) % 3;
            m[i][j] = (a[r0][c0] * a[r1][c1] - a[r0][c1] * a[r1][c0]) / det;
        }
}

/* Lab -> linear RGB (unclipped), with skimage's clipping of negative Z. */
static inline void lab_to_linear3(double out[3], float L, float a, float b, double m[3][3]) {
    double fy = (L + 16.0) / 116.0;
    double fx = a / 500.0 + fy;
    double fz = fy - b / 200.0;
    if (fz < 0.0) fz = 0.0;
    double x = lab_finv(fx) * WHITE[0], y = lab_finv(fy) * WHITE[1], z = lab_finv(fz) * WHITE[2];
    for (int i = 0; i < 3; i++) out[i] = m[i][0] * x + m[i][1] * y + m[i][2] * z;
}

static inline void lab_to_linear_px(double out[3], const float *lab, double m[3][3]) {
    lab_to_linear3(out, lab[0], lab[1], lab[2], m);
}

static inline double clip01(double v) { return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v); }

void nn_srgb_to_lab(float *lab, const float *rgb, size_t n) {
    for (size_t i = 0; i < n; i++)
        linear_to_lab_px(lab + 3 * i, srgb_to_linear(rgb[3 * i]), srgb_to_linear(rgb[3 * i + 1]),
                         srgb_to_linear(rgb[3 * i + 2]));
}

void nn_linear_rgb_to_lab(float *lab, const float *rgb, size_t n) {
    for (size_t i = 0; i < n; i++) linear_to_lab_px(lab + 3 * i, rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]);
}

void nn_srgb8_to_lab(float *lab, const uint8_t *rgb, size_t n) {
    double lut[256];
    for (int v = 0; v < 256; v++) lut[v] = srgb_to_linear(v / 255.0);
    for (size_t i = 0; i < n; i++)
        linear_to_lab_px(lab + 3 * i, lut[rgb[3 * i]], lut[rgb[3 * i + 1]], lut[rgb[3 * i + 2]]);
}

void nn_lab_to_srgb(float *rgb, const float *lab, size_t n) {
    double m[3][3], lin[3];
    rgb_from_xyz(m);
    for (size_t i = 0; i < n; i++) {
        lab_to_linear_px(lin, lab + 3 * i, m);
        for (int c = 0; c < 3; c++) rgb[3 * i + c] = (float)clip01(linear_to_srgb(lin[c]));
    }
}

void nn_lab_to_linear_rgb(float *rgb, const float *lab, size_t n) {
    double m[3][3], lin[3];
    rgb_from_xyz(m);
    for (size_t i = 0; i < n; i++) {
        lab_to_linear_px(lin, lab + 3 * i, m);
        for (int c = 0; c < 3; c++) rgb[3 * i + c] = (float)clip01(lin[c]);
    }
}

void nn_lab_to_srgb8(uint8_t *rgb, const float *lab, size_t n) {
    double m[3][3], lin[3];
    rgb_from_xyz(m);
    for (size_t i = 0; i < n; i++) {
        lab_to_linear_px(lin, lab + 3 * i, m);
        for (int c = 0; c < 3; c++)
            rgb[3 * i + c] = nn_unit_to_u8((float)linear_to_srgb(lin[c])); /* the one 8-bit rule */
    }
}

/* Tables for the hot full-resolution paths (interpolated linearly; each
 * error bound is checked in tests/nn/test_color.c against the exact formulas):
 * sRGB -> linear on the encoded value, linear -> sRGB on sqrt(linear), and
 * Y -> L* on sqrt(Y), where the curves are smooth enough for 4096 steps to
 * stay below 1e-6 (sRGB) and 1e-5 (L*). */
#define LUT_STEPS 4096
static float lut_to_linear[LUT_STEPS + 2], lut_to_srgb[LUT_STEPS + 2], lut_lightness[LUT_STEPS + 2];
static pthread_once_t lut_once = PTHREAD_ONCE_INIT;

static void build_luts(void) {
    for (int i = 0; i <= LUT_STEPS + 1; i++) {
        double u = (double)(i < LUT_STEPS ? i : LUT_STEPS) / LUT_STEPS;
        lut_to_linear[i] = (float)srgb_to_linear(u);
        lut_to_srgb[i] = (float)linear_to_srgb(u * u);
        lut_lightness[i] = (float)(116.0 * lab_f(u * u) - 16.0);
    }
}

/* Table lookup of u in [0, 1] (clamped; NaN gives 0). */
static inline float lut_lookup(const float *t, float u) {
    float s = (u > 0.0f ? (u < 1.0f ? u : 1.0f) : 0.0f) * LUT_STEPS;
    int i = (int)s;
    float f = s - (float)i;
    return t[i] + f * (t[i + 1] - t[i]);
}

void nn_srgb_to_lightness(float *L, const float *rgb, size_t n, size_t stride) {
    pthread_once(&lut_once, build_luts);
    const float kr = (float)XYZ_FROM_RGB[1][0], kg = (float)XYZ_FROM_RGB[1][1], kb = (float)XYZ_FROM_RGB[1][2];
    for (size_t i = 0; i < n; i++) {
        const float *p = rgb + i * stride;
        float Y = kr * lut_lookup(lut_to_linear, p[0]) + kg * lut_lookup(lut_to_linear, p[1]) +
                  kb * lut_lookup(lut_to_linear, p[2]);
        L[i] = lut_lookup(lut_lightness, sqrtf(Y > 0.0f ? Y : 0.0f));
    }
}

void nn_gray_to_lightness(float *L, const float *gray, size_t n, size_t stride) {
    pthread_once(&lut_once, build_luts);
    for (size_t i = 0; i < n; i++) {
        float Y = lut_lookup(lut_to_linear, gray[i * stride]);
        L[i] = lut_lookup(lut_lightness, sqrtf(Y));
    }
}

/* True when the linear RGB of (L, a, b) lies in [0, 1]³ (with a hair of slack
 * for rounding). */
static inline int linear_in_gamut(const double lin[3]) {
    return lin[0] >= -1e-6 && lin[0] <= 1.000001 && lin[1] >= -1e-6 && lin[1] <= 1.000001 && lin[2] >= -1e-6 &&
           lin[2] <= 1.000001;
}

static inline int in_gamut(const float *lab, double m[3][3]) {
    double lin[3];
    lab_to_linear_px(lin, lab, m);
    return linear_in_gamut(lin);
}

/* One pixel of nn_lab_to_srgb_fitted (p is changed: clamped, fitted). */
static inline void fitted_px(float *out, float p[3], double m[3][3]) {
    double lin[3];
    if (p[0] < 0.0f) p[0] = 0.0f;
    if (p[0] > 100.0f) p[0] = 100.0f;
    lab_to_linear_px(lin, p, m);
    if (!linear_in_gamut(lin)) {
        nn_lab_fit_gamut(p, 1);
        lab_to_linear_px(lin, p, m);
    }
    for (int c = 0; c < 3; c++) {
        float v = (float)lin[c];
        out[c] = lut_lookup(lut_to_srgb, sqrtf(v > 0.0f ? v : 0.0f));
    }
}

void nn_lab_to_srgb_fitted(float *rgb, const float *lab, size_t n, size_t stride) {
    pthread_once(&lut_once, build_luts);
    double m[3][3];
    rgb_from_xyz(m);
    for (size_t i = 0; i < n; i++) {
        float p[3] = {lab[3 * i], lab[3 * i + 1], lab[3 * i + 2]};
        fitted_px(rgb + i * stride, p, m);
    }
}

/* Pixels per block of nn_lab_planes_to_srgb's passes. */
#define LAB_BLOCK 256
/* Bisection steps of the gamut fit: the chroma scale to 2⁻¹⁴. */
#define GAMUT_STEPS 14

/* Linear RGB of a block of Lab pixels (L clamped to [0, 100]) in three
 * planes, and how many are out of gamut (their indices in out): the same
 * operations as lab_to_linear_px, in a loop that vectorizes. */
NN_VECTOR_CLONES static int block_to_linear(double *lr, double *lg, double *lb, int *out, const float *L,
                                            const float *a, const float *b, int n, double m[3][3]) {
    for (int i = 0; i < n; i++) {
        double lin[3];
        lab_to_linear3(lin, L[i] < 0.0f ? 0.0f : L[i] > 100.0f ? 100.0f : L[i], a[i], b[i], m);
        lr[i] = lin[0], lg[i] = lin[1], lb[i] = lin[2];
    }
    int bad = 0;
    for (int i = 0; i < n; i++) {
        const double lin[3] = {lr[i], lg[i], lb[i]};
        if (!linear_in_gamut(lin)) out[bad++] = i;
    }
    return bad;
}

/* nn_lab_fit_gamut's bisection for n pixels at once (L already clamped),
 * step for step the same, so the results are too: the chroma scale that
 * keeps each pixel in gamut, applied to a and b. */
NN_VECTOR_CLONES static void fit_block(const float *L, float *a, float *b, int n, double m[3][3]) {
    float lo[LAB_BLOCK], hi[LAB_BLOCK];
    for (int i = 0; i < n; i++) lo[i] = 0.0f, hi[i] = 1.0f;
    for (int it = 0; it < GAMUT_STEPS; it++)
        for (int i = 0; i < n; i++) {
            const float mid = 0.5f * (lo[i] + hi[i]);
            double lin[3];
            lab_to_linear3(lin, L[i], a[i] * mid, b[i] * mid, m);
            const int inside = linear_in_gamut(lin);
            lo[i] = inside ? mid : lo[i];
            hi[i] = inside ? hi[i] : mid;
        }
    for (int i = 0; i < n; i++) a[i] *= lo[i], b[i] *= lo[i];
}

/* sRGB of a block's linear planes through the table (NaN-free: negatives
 * are 0). */
NN_VECTOR_CLONES static void block_to_srgb(float *rgb, size_t stride, const double *lr, const double *lg,
                                           const double *lb, int n) {
    for (int i = 0; i < n; i++) {
        const float r = (float)lr[i], g = (float)lg[i], bl = (float)lb[i];
        rgb[i * stride] = lut_lookup(lut_to_srgb, sqrtf(r > 0.0f ? r : 0.0f));
        rgb[i * stride + 1] = lut_lookup(lut_to_srgb, sqrtf(g > 0.0f ? g : 0.0f));
        rgb[i * stride + 2] = lut_lookup(lut_to_srgb, sqrtf(bl > 0.0f ? bl : 0.0f));
    }
}

/* As fitted_px on every pixel, in blocks: the linear values of all pixels
 * in vector loops, the gamut fit on the few outside, then the table. */
void nn_lab_planes_to_srgb(float *rgb, const float *L, const float *a, const float *b, size_t n, size_t stride) {
    pthread_once(&lut_once, build_luts);
    double m[3][3];
    rgb_from_xyz(m);
    double lr[LAB_BLOCK], lg[LAB_BLOCK], lb[LAB_BLOCK];
    int outside[LAB_BLOCK];
    for (size_t i0 = 0; i0 < n; i0 += LAB_BLOCK) {
        const int nb = n - i0 < LAB_BLOCK ? (int)(n - i0) : LAB_BLOCK;
        const int bad = block_to_linear(lr, lg, lb, outside, L + i0, a + i0, b + i0, nb, m);
        float fl[LAB_BLOCK], fa[LAB_BLOCK], fb[LAB_BLOCK]; /* the pixels outside, gathered */
        for (int k = 0; k < bad; k++) {
            const size_t i = i0 + (size_t)outside[k];
            fl[k] = L[i] < 0.0f ? 0.0f : L[i] > 100.0f ? 100.0f : L[i], fa[k] = a[i], fb[k] = b[i];
        }
        fit_block(fl, fa, fb, bad, m);
        for (int k = 0; k < bad; k++) {
            double lin[3];
            lab_to_linear3(lin, fl[k], fa[k], fb[k], m);
            lr[outside[k]] = lin[0], lg[outside[k]] = lin[1], lb[outside[k]] = lin[2];
        }
        block_to_srgb(rgb + i0 * stride, stride, lr, lg, lb, nb);
    }
}

void nn_pixels_to_lightness(float *L, const float *px, size_t n, int channels) {
    if (channels <= 2) nn_gray_to_lightness(L, px, n, (size_t)channels);
    else nn_srgb_to_lightness(L, px, n, (size_t)channels);
}

void nn_rgba_to_hints(float *a, float *b, float *mask, const float *rgba, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const float *p = rgba + 4 * i;
        mask[i] = p[3] > NN_HINT_THRESHOLD ? 1.0f : 0.0f;
        a[i] = b[i] = 0.0f;
        if (!(p[3] > NN_HINT_THRESHOLD)) continue;
        float rgb[3], lab[3];
        for (int c = 0; c < 3; c++) rgb[c] = p[c] < 0.0f ? 0.0f : p[c] > 1.0f ? 1.0f : p[c];
        nn_srgb_to_lab(lab, rgb, 1);
        a[i] = lab[1], b[i] = lab[2];
    }
}

void nn_lab_fit_gamut(float *lab, size_t n) {
    double m[3][3];
    rgb_from_xyz(m);
    for (size_t i = 0; i < n; i++) {
        float *p = lab + 3 * i;
        if (p[0] < 0.0f) p[0] = 0.0f;
        if (p[0] > 100.0f) p[0] = 100.0f;
        if (in_gamut(p, m)) continue;
        const float a = p[1], b = p[2];
        float lo = 0.0f, hi = 1.0f; /* chroma scale: lo is in gamut (greys are) */
        for (int it = 0; it < GAMUT_STEPS; it++) {
            float mid = 0.5f * (lo + hi);
            p[1] = a * mid, p[2] = b * mid;
            if (in_gamut(p, m)) lo = mid;
            else hi = mid;
        }
        p[1] = a * lo, p[2] = b * lo;
    }
}
