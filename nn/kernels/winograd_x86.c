/* winograd_x86.c — Winograd transforms in AVX-512 for the row widths the
 * U-Net's tiles give (4, 8, 16 and 32 pixels), sixteen tiles a vector
 * (from one row of tiles or from several consecutive ones):
 *  - F(2×2, 3×3): the input and output transforms and the weight
 *    gradient's dY transform, the same arithmetic in the same order as
 *    winograd.c's portable loops, so the results are the same bits;
 *  - F(4×4, 3×3): the input and output transforms (there is no portable
 *    F(4×4, 3×3); winograd.c uses it only where these run).
 * conv.c calls them where nn_winograd_avx512_serves says so. */
#include "nn_winograd_x86.h"

#include <stddef.h>

#include "nn_cpu.h"
#include "../private/nn_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

static int g_avx512_allowed = 1;

void nn_winograd_allow_avx512(int allowed) { g_avx512_allowed = allowed; }

int nn_winograd_avx512_serves(int w) {
    return nn_cpu_features_once()->avx512f && g_avx512_allowed && (w == 4 || w == 8 || w == 16 || w == 32);
}

#define AVX512_TARGET __attribute__((target("avx512f")))

/* 16 floats from the rows p[0 .. 16 / w) of w floats each, one after the
 * other (w <= 16), or the 16 floats at p[0] (w = 32). */
AVX512_TARGET static inline __m512 load_rows16(const float *const *p, int w) {
    switch (w) {
    case 4: {
        __m512 v = _mm512_castps128_ps512(_mm_loadu_ps(p[0]));
        v = _mm512_insertf32x4(v, _mm_loadu_ps(p[1]), 1);
        v = _mm512_insertf32x4(v, _mm_loadu_ps(p[2]), 2);
        return _mm512_insertf32x4(v, _mm_loadu_ps(p[3]), 3);
    }
    case 8: {
        const __m512d lo = _mm512_castpd256_pd512(_mm256_castps_pd(_mm256_loadu_ps(p[0])));
        return _mm512_castpd_ps(_mm512_insertf64x4(lo, _mm256_castps_pd(_mm256_loadu_ps(p[1])), 1));
    }
    default: return _mm512_loadu_ps(p[0]);
    }
}

/* The rows p[0 .. 16 / w) of w floats each from v (w <= 16), or v to p[0]
 * (w = 32); a NULL row is not written. */
AVX512_TARGET static inline void store_rows16(float *const *p, int w, __m512 v) {
    switch (w) {
    case 4: /* the lane index must be a constant */
        if (p[0]) _mm_storeu_ps(p[0], _mm512_castps512_ps128(v));
        if (p[1]) _mm_storeu_ps(p[1], _mm512_extractf32x4_ps(v, 1));
        if (p[2]) _mm_storeu_ps(p[2], _mm512_extractf32x4_ps(v, 2));
        if (p[3]) _mm_storeu_ps(p[3], _mm512_extractf32x4_ps(v, 3));
        return;
    case 8:
        if (p[0]) _mm256_storeu_ps(p[0], _mm512_castps512_ps256(v));
        if (p[1]) _mm256_storeu_pd((double *)p[1], _mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
        return;
    default:
        if (p[0]) _mm512_storeu_ps(p[0], v);
    }
}

/* Lanes j with j % tw == 0 (the first tile of a row) and j % tw == tw - 1
 * (the last). */
static __mmask16 first_tiles(int tw) {
    __mmask16 m = 0;
    for (int j = 0; j < 16; j += tw) m |= (__mmask16)(1u << j);
    return m;
}

AVX512_TARGET void nn_winograd_input_avx512(const float *const (*rows)[4], int n, int w, float *o, size_t plane) {
    const int tw = w / 2, per = 32 / w; /* tile rows a group */
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512i zero = _mm512_setzero_si512();
    const __mmask16 first = first_tiles(tw), last = (__mmask16)(first << (tw - 1)), all = (__mmask16)0xffff;
    static const float zeros[32];
    for (int g = 0; g < n; g += per) {
        const int rows_here = n - g < per ? n - g : per;
        const __mmask16 keep = rows_here == per ? all : (__mmask16)((1u << (rows_here * tw)) - 1);
        __m512 r[4][2]; /* input rows 0..3 of the group's tiles: the 32 floats of their rows, end to end */
        for (int k = 0; k < 4; k++) {
            if (w == 32) {
                r[k][0] = _mm512_loadu_ps(rows[g][k]);
                r[k][1] = _mm512_loadu_ps(rows[g][k] + 16);
                continue;
            }
            const float *p[8];
            for (int i = 0; i < per; i++) p[i] = i < rows_here ? rows[g + i][k] : zeros;
            r[k][0] = load_rows16(p, w);
            r[k][1] = load_rows16(p + per / 2, w);
        }
        __m512 t[4][2]; /* Bᵀ d down the columns */
        for (int h = 0; h < 2; h++) {
            t[0][h] = _mm512_sub_ps(r[0][h], r[2][h]);
            t[1][h] = _mm512_add_ps(r[1][h], r[2][h]);
            t[2][h] = _mm512_sub_ps(r[2][h], r[1][h]);
            t[3][h] = _mm512_sub_ps(r[1][h], r[3][h]);
        }
        float *og = o + (size_t)g * tw;
        for (int i = 0; i < 4; i++) { /* then along the rows: columns 2tx - 1 .. 2tx + 2 of each tile */
            const __m512 e = _mm512_permutex2var_ps(t[i][0], even, t[i][1]); /* column 2tx */
            const __m512 d = _mm512_permutex2var_ps(t[i][0], odd, t[i][1]);  /* column 2tx + 1 */
            const __m512 d_before = _mm512_castsi512_ps( /* column 2tx - 1, zero left of the image */
                _mm512_maskz_alignr_epi32((__mmask16)~first, _mm512_castps_si512(d), zero, 15));
            const __m512 e_after = _mm512_castsi512_ps( /* column 2tx + 2, zero right of the image */
                _mm512_maskz_alignr_epi32((__mmask16)~last, zero, _mm512_castps_si512(e), 1));
            float *oi = og + (size_t)(4 * i) * plane;
            _mm512_mask_storeu_ps(oi, keep, _mm512_sub_ps(d_before, d));
            _mm512_mask_storeu_ps(oi + plane, keep, _mm512_add_ps(e, d));
            _mm512_mask_storeu_ps(oi + 2 * plane, keep, _mm512_sub_ps(d, e));
            _mm512_mask_storeu_ps(oi + 3 * plane, keep, _mm512_sub_ps(e, e_after));
        }
    }
}

AVX512_TARGET static inline __m512 activate(__m512 v, nn_epilogue ep) {
    switch (ep.kind) {
    case NN_EPILOGUE_RELU: return _mm512_max_ps(v, _mm512_setzero_ps()); /* v > 0 ? v : 0, NaN to 0 */
    case NN_EPILOGUE_LEAKY_RELU:
        return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ),
                                    _mm512_mul_ps(_mm512_set1_ps(ep.slope), v), v);
    default: return v;
    }
}

AVX512_TARGET void nn_winograd_output_avx512(const float *m, size_t plane, int n, int w, float bias, nn_epilogue ep,
                                             float *const (*dst)[2]) {
    const int tw = w / 2, per = 32 / w;
    const __m512i lo_cols = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i hi_cols = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512 b = _mm512_set1_ps(bias);
    for (int g = 0; g < n; g += per) {
        const int rows_here = n - g < per ? n - g : per;
        const __mmask16 keep = rows_here == per ? (__mmask16)0xffff : (__mmask16)((1u << (rows_here * tw)) - 1);
        const float *mg = m + (size_t)g * tw;
        __m512 a[4], d[4]; /* Aᵀ M down the positions: the even and the odd column sums */
        for (int i = 0; i < 4; i++) {
            const float *mi = mg + (size_t)(4 * i) * plane;
            const __m512 m0 = _mm512_maskz_loadu_ps(keep, mi), m1 = _mm512_maskz_loadu_ps(keep, mi + plane),
                         m2 = _mm512_maskz_loadu_ps(keep, mi + 2 * plane),
                         m3 = _mm512_maskz_loadu_ps(keep, mi + 3 * plane);
            a[i] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
            d[i] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
        }
        for (int y = 0; y < 2; y++) { /* output row 2ty + y of each tile row */
            const __m512 ve = y ? _mm512_sub_ps(_mm512_sub_ps(a[1], a[2]), a[3]) : _mm512_add_ps(_mm512_add_ps(a[0], a[1]), a[2]);
            const __m512 vo = y ? _mm512_sub_ps(_mm512_sub_ps(d[1], d[2]), d[3]) : _mm512_add_ps(_mm512_add_ps(d[0], d[1]), d[2]);
            const __m512 e = activate(_mm512_add_ps(ve, b), ep), o = activate(_mm512_add_ps(vo, b), ep);
            const __m512 lo = _mm512_permutex2var_ps(e, lo_cols, o), hi = _mm512_permutex2var_ps(e, hi_cols, o);
            if (w == 32) {
                float *row = dst[g][y];
                if (row) _mm512_storeu_ps(row, lo), _mm512_storeu_ps(row + 16, hi);
                continue;
            }
            float *p[8];
            for (int i = 0; i < per; i++) p[i] = i < rows_here ? dst[g + i][y] : NULL;
            store_rows16(p, w, lo);
            store_rows16(p + per / 2, w, hi);
        }
    }
}

AVX512_TARGET void nn_winograd_grad_output_avx512(const float *const (*rows)[2], int n, int w, float *m,
                                                  size_t plane) {
    const int tw = w / 2, per = 32 / w;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    const __m512 zero = _mm512_setzero_ps();
    static const float zeros[32];
    for (int g = 0; g < n; g += per) {
        const int rows_here = n - g < per ? n - g : per;
        const __mmask16 keep = rows_here == per ? (__mmask16)0xffff : (__mmask16)((1u << (rows_here * tw)) - 1);
        __m512 e[2], o[2]; /* each tile's even and odd column of dY's two rows */
        for (int r = 0; r < 2; r++) {
            const float *p[8];
            for (int i = 0; i < per; i++) p[i] = i < rows_here && rows[g + i][r] ? rows[g + i][r] : zeros;
            const __m512 lo = w == 32 ? _mm512_loadu_ps(p[0]) : load_rows16(p, w);
            const __m512 hi = w == 32 ? _mm512_loadu_ps(p[0] + 16) : load_rows16(p + per / 2, w);
            e[r] = _mm512_permutex2var_ps(lo, even, hi);
            o[r] = _mm512_permutex2var_ps(lo, odd, hi);
        }
        float *mg = m + (size_t)g * tw;
        for (int i = 0; i < 4; i++) { /* dM = A dY Aᵀ: row combination i, then the columns */
            const __m512 xr = i == 0 ? e[0] : i == 1 ? _mm512_add_ps(e[0], e[1]) : i == 2 ? _mm512_sub_ps(e[0], e[1])
                                                                                          : _mm512_sub_ps(zero, e[1]);
            const __m512 yr = i == 0 ? o[0] : i == 1 ? _mm512_add_ps(o[0], o[1]) : i == 2 ? _mm512_sub_ps(o[0], o[1])
                                                                                          : _mm512_sub_ps(zero, o[1]);
            float *mi = mg + (size_t)(4 * i) * plane;
            _mm512_mask_storeu_ps(mi, keep, xr);
            _mm512_mask_storeu_ps(mi + plane, keep, _mm512_add_ps(xr, yr));
            _mm512_mask_storeu_ps(mi + 2 * plane, keep, _mm512_sub_ps(xr, yr));
            _mm512_mask_storeu_ps(mi + 3 * plane, keep, _mm512_sub_ps(zero, yr));
        }
    }
}

/* ------------------------------------------------------ F(4×4, 3×3) */

/* The four stride-4 phases of 64 floats a[0..3]: p[q] lane j = float 4j + q. */
AVX512_TARGET static inline void phases4(const __m512 a[4], __m512 p[4]) {
    for (int q = 0; q < 4; q++) {
        const __m512i idx = _mm512_setr_epi32(q, 4 + q, 8 + q, 12 + q, 16 + q, 20 + q, 24 + q, 28 + q, q, 4 + q,
                                              8 + q, 12 + q, 16 + q, 20 + q, 24 + q, 28 + q);
        const __m512 lo = _mm512_permutex2var_ps(a[0], idx, a[1]), hi = _mm512_permutex2var_ps(a[2], idx, a[3]);
        p[q] = _mm512_mask_blend_ps((__mmask16)0xff00, lo, hi);
    }
}

/* Bᵀ x for the 6 values x[0..5] of F(4×4, 3×3), into r[0..5]. */
AVX512_TARGET static inline void winograd4_bt(const __m512 x[6], __m512 r[6]) {
    const __m512 four = _mm512_set1_ps(4.0f), five = _mm512_set1_ps(5.0f), two = _mm512_set1_ps(2.0f);
    const __m512 s12 = _mm512_add_ps(x[1], x[2]), d12 = _mm512_sub_ps(x[1], x[2]);
    const __m512 s34 = _mm512_add_ps(x[3], x[4]), d43 = _mm512_sub_ps(x[4], x[3]);
    const __m512 d42 = _mm512_sub_ps(x[4], x[2]), d31 = _mm512_sub_ps(x[3], x[1]);
    r[0] = _mm512_add_ps(_mm512_fnmadd_ps(five, x[2], _mm512_mul_ps(four, x[0])), x[4]); /* 4x0 - 5x2 + x4 */
    r[1] = _mm512_fnmadd_ps(four, s12, s34);                                             /* x3 + x4 - 4(x1 + x2) */
    r[2] = _mm512_fmadd_ps(four, d12, d43);                                              /* x4 - x3 + 4(x1 - x2) */
    r[3] = _mm512_fmadd_ps(two, d31, d42);                                               /* x4 - x2 + 2(x3 - x1) */
    r[4] = _mm512_fnmadd_ps(two, d31, d42);                                              /* x4 - x2 - 2(x3 - x1) */
    r[5] = _mm512_add_ps(_mm512_fnmadd_ps(five, x[3], _mm512_mul_ps(four, x[1])), x[5]); /* 4x1 - 5x3 + x5 */
}

/* Aᵀ m for the 6 values m[0..5] of F(4×4, 3×3), into y[0..3]. */
AVX512_TARGET static inline void winograd4_at(const __m512 m[6], __m512 y[4]) {
    const __m512 s12 = _mm512_add_ps(m[1], m[2]), d12 = _mm512_sub_ps(m[1], m[2]);
    const __m512 s34 = _mm512_add_ps(m[3], m[4]), d34 = _mm512_sub_ps(m[3], m[4]);
    y[0] = _mm512_add_ps(_mm512_add_ps(m[0], s12), s34);
    y[1] = _mm512_fmadd_ps(_mm512_set1_ps(2.0f), d34, d12);
    y[2] = _mm512_fmadd_ps(_mm512_set1_ps(4.0f), s34, s12);
    y[3] = _mm512_add_ps(_mm512_fmadd_ps(_mm512_set1_ps(8.0f), d34, d12), m[5]);
}

/* 64 floats from the rows p[0 .. 64 / w) of w floats each, end to end. */
AVX512_TARGET static inline void load_rows64(const float *const *p, int w, __m512 a[4]) {
    if (w == 32) {
        a[0] = _mm512_loadu_ps(p[0]), a[1] = _mm512_loadu_ps(p[0] + 16);
        a[2] = _mm512_loadu_ps(p[1]), a[3] = _mm512_loadu_ps(p[1] + 16);
        return;
    }
    const int per = 16 / w; /* rows a vector */
    for (int i = 0; i < 4; i++) a[i] = load_rows16(p + i * per, w);
}

/* The rows p[0 .. 64 / w) of w floats each from 64 floats a[0..3] (a NULL
 * row is not written). */
AVX512_TARGET static inline void store_rows64(float *const *p, int w, const __m512 a[4]) {
    if (w == 32) {
        for (int r = 0; r < 2; r++)
            if (p[r]) _mm512_storeu_ps(p[r], a[2 * r]), _mm512_storeu_ps(p[r] + 16, a[2 * r + 1]);
        return;
    }
    const int per = 16 / w;
    for (int i = 0; i < 4; i++) store_rows16(p + i * per, w, a[i]);
}

AVX512_TARGET void nn_winograd4_input_avx512(const float *const (*rows)[6], int n, int w, float *o, size_t plane,
                                             float *scratch) {
    const int tw = w / 4, per = 64 / w; /* tiles a row, tile rows a group */
    const __m512i zero = _mm512_setzero_si512();
    const __mmask16 first = first_tiles(tw), last = (__mmask16)(first << (tw - 1));
    static const float zeros[32];
    __m512 *h = (__m512 *)scratch; /* B applied along the rows, [input row k][column combination i] */
    for (int g = 0; g < n; g += per) {
        const int rows_here = n - g < per ? n - g : per;
        const __mmask16 keep = rows_here == per ? (__mmask16)0xffff : (__mmask16)((1u << (rows_here * tw)) - 1);
        for (int k = 0; k < 6; k++) {
            const float *p[16];
            for (int i = 0; i < per; i++) p[i] = i < rows_here ? rows[g + i][k] : zeros;
            __m512 a[4], ph[4], x[6];
            load_rows64(p, w, a);
            phases4(a, ph); /* columns 4tx .. 4tx + 3 */
            x[0] = _mm512_castsi512_ps( /* column 4tx - 1, zero left of the image */
                _mm512_maskz_alignr_epi32((__mmask16)~first, _mm512_castps_si512(ph[3]), zero, 15));
            x[1] = ph[0], x[2] = ph[1], x[3] = ph[2], x[4] = ph[3];
            x[5] = _mm512_castsi512_ps( /* column 4tx + 4, zero right of the image */
                _mm512_maskz_alignr_epi32((__mmask16)~last, zero, _mm512_castps_si512(ph[0]), 1));
            winograd4_bt(x, h + 6 * k);
        }
        float *og = o + (size_t)g * tw;
        for (int i = 0; i < 6; i++) { /* then down the columns */
            __m512 x[6], r[6];
            for (int k = 0; k < 6; k++) x[k] = h[6 * k + i];
            winograd4_bt(x, r);
            for (int k = 0; k < 6; k++) _mm512_mask_storeu_ps(og + (size_t)(6 * k + i) * plane, keep, r[k]);
        }
    }
}

AVX512_TARGET void nn_winograd4_output_avx512(const float *m, size_t plane, int n, int w, float bias, nn_epilogue ep,
                                              float *const (*dst)[4]) {
    const int tw = w / 4, per = 64 / w;
    const __m512i pairs_lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i pairs_hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const __m512i quads_lo = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11);
    const __m512i quads_hi = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
    const __m512 b = _mm512_set1_ps(bias);
    for (int g = 0; g < n; g += per) {
        const int rows_here = n - g < per ? n - g : per;
        const __mmask16 keep = rows_here == per ? (__mmask16)0xffff : (__mmask16)((1u << (rows_here * tw)) - 1);
        const float *mg = m + (size_t)g * tw;
        __m512 t[6][4]; /* A applied along each row of M */
        for (int i = 0; i < 6; i++) {
            __m512 x[6];
            for (int k = 0; k < 6; k++) x[k] = _mm512_maskz_loadu_ps(keep, mg + (size_t)(6 * i + k) * plane);
            winograd4_at(x, t[i]);
        }
        for (int c = 0; c < 4; c++) { /* down the columns: y[r] is output row r, column c of each tile */
            __m512 x[6], y[4];
            for (int i = 0; i < 6; i++) x[i] = t[i][c];
            winograd4_at(x, y);
            for (int r = 0; r < 4; r++) t[r][c] = activate(_mm512_add_ps(y[r], b), ep);
        }
        for (int r = 0; r < 4; r++) { /* output row 4ty + r of each tile row: columns 4tx .. 4tx + 3 side by side */
            const __m512 p01_lo = _mm512_permutex2var_ps(t[r][0], pairs_lo, t[r][1]),
                         p01_hi = _mm512_permutex2var_ps(t[r][0], pairs_hi, t[r][1]),
                         p23_lo = _mm512_permutex2var_ps(t[r][2], pairs_lo, t[r][3]),
                         p23_hi = _mm512_permutex2var_ps(t[r][2], pairs_hi, t[r][3]);
            __m512 out[4];
            out[0] = _mm512_castpd_ps(_mm512_permutex2var_pd(_mm512_castps_pd(p01_lo), quads_lo, _mm512_castps_pd(p23_lo)));
            out[1] = _mm512_castpd_ps(_mm512_permutex2var_pd(_mm512_castps_pd(p01_lo), quads_hi, _mm512_castps_pd(p23_lo)));
            out[2] = _mm512_castpd_ps(_mm512_permutex2var_pd(_mm512_castps_pd(p01_hi), quads_lo, _mm512_castps_pd(p23_hi)));
            out[3] = _mm512_castpd_ps(_mm512_permutex2var_pd(_mm512_castps_pd(p01_hi), quads_hi, _mm512_castps_pd(p23_hi)));
            float *p[16];
            for (int i = 0; i < per; i++) p[i] = i < rows_here ? dst[g + i][r] : NULL;
            store_rows64(p, w, out);
        }
    }
}

#else

void nn_winograd_allow_avx512(int allowed) { (void)allowed; }

int nn_winograd_avx512_serves(int w) {
    (void)w;
    return 0;
}

void nn_winograd_input_avx512(const float *const (*rows)[4], int n, int w, float *o, size_t plane) {
    (void)rows, (void)n, (void)w, (void)o, (void)plane;
}

void nn_winograd_output_avx512(const float *m, size_t plane, int n, int w, float bias, nn_epilogue ep,
                               float *const (*dst)[2]) {
    (void)m, (void)plane, (void)n, (void)w, (void)bias, (void)ep, (void)dst;
}

void nn_winograd_grad_output_avx512(const float *const (*rows)[2], int n, int w, float *m, size_t plane) {
    (void)rows, (void)n, (void)w, (void)m, (void)plane;
}

void nn_winograd4_input_avx512(const float *const (*rows)[6], int n, int w, float *o, size_t plane, float *scratch) {
    (void)rows, (void)n, (void)w, (void)o, (void)plane, (void)scratch;
}

void nn_winograd4_output_avx512(const float *m, size_t plane, int n, int w, float bias, nn_epilogue ep,
                                float *const (*dst)[4]) {
    (void)m, (void)plane, (void)n, (void)w, (void)bias, (void)ep, (void)dst;
}

#endif
