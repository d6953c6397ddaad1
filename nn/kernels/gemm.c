/* gemm.c — the library's own single-precision GEMM, so that its speed does
 * not depend on OpenBLAS recognizing the CPU: operands packed into
 * cache-sized blocks and a register-blocked micro-kernel chosen at run time
 * from CPUID (AVX-512, AVX2 + FMA, AVX512-BF16, or portable C), and the
 * threaded driver that splits C's columns over the library's threads
 * (nn_sgemm*). OpenBLAS stays the reference in the tests and a choice
 * (NN_GEMM=openblas). */
#include "nn_gemm.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "../private/nn_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define NN_X86 1
#endif

/* Blocking: a KC-deep slice of B in NC columns stays in the last-level
 * cache, an MC×KC block of A in L2, one micro-panel of B in L1. */
#define GEMM_KC 256
#define GEMM_MC 128
#define GEMM_NC 2048
#define GEMM_MAX_MR 8
#define GEMM_MAX_NR 32

/* c (m×n valid of an mr×nr tile, row stride ldc) = alpha · Σₖ a[k][i] b[k][j]
 * + beta · c, from packed panels a (kc, mr) and b (kc, nr) of floats, or for
 * a bf16 kernel ((kc + 1) / 2, mr, 2) and ((kc + 1) / 2, nr, 2) of bf16 pairs
 * along k. beta = 0 never reads c. */
typedef void (*micro_kernel)(int kc, const void *a, const void *b, float *c, size_t ldc, float alpha, float beta,
                             int m, int n);

typedef struct {
    const char *name;
    int mr, nr;
    micro_kernel micro;
    void (*transpose8)(const float *src, size_t lds, float *dst, size_t ldd); /* for packing */
    int bf16; /* the panels are converted to bf16 pairs */
} kernel_desc;

/* Stores an mr×nr tile held in memory (the kernels' edge case). */
static void store_tile(const float *tile, int nr, float *c, size_t ldc, float alpha, float beta, int m, int n) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float v = alpha * tile[i * nr + j];
            c[i * ldc + j] = beta == 0.0f ? v : v + beta * c[i * ldc + j];
        }
}

/* ------------------------------------------------------------- portable C */

#define PORTABLE_MR 6
#define PORTABLE_NR 8

/* Four floats as one value (GCC and clang vector extensions): SSE on any
 * x86-64, NEON or scalar code elsewhere. */
typedef float v4f __attribute__((vector_size(16)));

static void micro_portable(int kc, const void *pa, const void *pb, float *c, size_t ldc, float alpha, float beta,
                           int m, int n) {
    const float *a = pa, *b = pb;
    v4f acc[PORTABLE_MR][2] = {{{0}}};
    for (int k = 0; k < kc; k++, a += PORTABLE_MR, b += PORTABLE_NR) {
        v4f b0, b1;
        memcpy(&b0, b, sizeof b0), memcpy(&b1, b + 4, sizeof b1);
#pragma GCC unroll 6
        for (int i = 0; i < PORTABLE_MR; i++) {
            const v4f ai = {a[i], a[i], a[i], a[i]};
            acc[i][0] += ai * b0;
            acc[i][1] += ai * b1;
        }
    }
    float tile[PORTABLE_MR * PORTABLE_NR];
    for (int i = 0; i < PORTABLE_MR; i++) memcpy(tile + i * PORTABLE_NR, acc[i], sizeof acc[i]);
    store_tile(tile, PORTABLE_NR, c, ldc, alpha, beta, m, n);
}

#if NN_X86
/* --------------------------------------------------------------- AVX2+FMA */

#define AVX2_MR 6
#define AVX2_NR 16

__attribute__((target("avx2,fma"))) static void micro_avx2(int kc, const void *pa, const void *pb, float *c,
                                                            size_t ldc, float alpha, float beta, int m, int n) {
    const float *a = pa, *b = pb;
    __m256 acc[AVX2_MR][2];
#pragma GCC unroll 6
    for (int i = 0; i < AVX2_MR; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (int k = 0; k < kc; k++, a += AVX2_MR, b += AVX2_NR) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 6
        for (int i = 0; i < AVX2_MR; i++) {
            const __m256 ai = _mm256_broadcast_ss(a + i);
            acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    /* rows unrolled, so that every accumulator index is a constant and they all stay in registers */
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    if (n == AVX2_NR) {
#pragma GCC unroll 6
        for (int i = 0; i < AVX2_MR; i++) {
            if (i >= m) break;
            float *ci = c + i * ldc;
            __m256 r0 = _mm256_mul_ps(va, acc[i][0]), r1 = _mm256_mul_ps(va, acc[i][1]);
            if (beta != 0.0f) {
                r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci), r0);
                r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci + 8), r1);
            }
            _mm256_storeu_ps(ci, r0);
            _mm256_storeu_ps(ci + 8, r1);
        }
        return;
    }
    float tile[AVX2_MR * AVX2_NR];
#pragma GCC unroll 6
    for (int i = 0; i < AVX2_MR; i++) _mm256_storeu_ps(tile + i * AVX2_NR, acc[i][0]), _mm256_storeu_ps(tile + i * AVX2_NR + 8, acc[i][1]);
    store_tile(tile, AVX2_NR, c, ldc, alpha, beta, m, n);
}

/* ---------------------------------------------------------------- AVX-512 */

#define AVX512_MR 8
#define AVX512_NR 32

/* alpha · acc + beta · c into the m×n valid part of an 8×32 tile; columns
 * beyond n are masked off, so every row is stored with vectors. Rows are
 * unrolled: the accumulators stay in registers. */
__attribute__((target("avx512f"), always_inline)) static inline void store_avx512(__m512 acc[AVX512_MR][2], float *c,
                                                                               size_t ldc, float alpha, float beta,
                                                                               int m, int n) {
    const __mmask16 m0 = (__mmask16)(n >= 16 ? 0xffff : (1u << n) - 1);
    const __mmask16 m1 = (__mmask16)(n >= 32 ? 0xffff : n <= 16 ? 0 : (1u << (n - 16)) - 1);
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 8
    for (int i = 0; i < AVX512_MR; i++) {
        if (i >= m) break;
        float *ci = c + i * ldc;
        __m512 r0 = _mm512_mul_ps(va, acc[i][0]), r1 = _mm512_mul_ps(va, acc[i][1]);
        if (beta != 0.0f) {
            r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, ci), r0);
            r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, ci + 16), r1);
        }
        _mm512_mask_storeu_ps(ci, m0, r0);
        _mm512_mask_storeu_ps(ci + 16, m1, r1);
    }
}

__attribute__((target("avx512f"))) static void micro_avx512(int kc, const void *pa, const void *pb, float *c,
                                                             size_t ldc, float alpha, float beta, int m, int n) {
    const float *a = pa, *b = pb;
    __m512 acc[AVX512_MR][2];
#pragma GCC unroll 8
    for (int i = 0; i < AVX512_MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int k = 0; k < kc; k++, a += AVX512_MR, b += AVX512_NR) {
        const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 8
        for (int i = 0; i < AVX512_MR; i++) {
            const __m512 ai = _mm512_set1_ps(a[i]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    store_avx512(acc, c, ldc, alpha, beta, m, n);
}

/* ----------------------------------------------------------- AVX512-BF16 */

/* bf16 inputs, fp32 products and sums: each VDPBF16PS adds a pair of
 * products along k into each of 16 fp32 lanes. */
__attribute__((target("avx512f,avx512bf16"))) static void micro_avx512_bf16(int kc, const void *pa, const void *pb,
                                                                             float *c, size_t ldc, float alpha,
                                                                             float beta, int m, int n) {
    const int32_t *a = pa; /* a pair of bf16 per row */
    const __m512i *b = pb; /* 2 vectors of 16 columns × a pair per k pair */
    __m512 acc[AVX512_MR][2];
#pragma GCC unroll 8
    for (int i = 0; i < AVX512_MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int p = 0; p < (kc + 1) / 2; p++, a += AVX512_MR, b += 2) {
        const __m512bh b0 = (__m512bh)_mm512_load_si512(b), b1 = (__m512bh)_mm512_load_si512(b + 1);
#pragma GCC unroll 8
        for (int i = 0; i < AVX512_MR; i++) {
            const __m512bh ai = (__m512bh)_mm512_set1_epi32(a[i]);
            acc[i][0] = _mm512_dpbf16_ps(acc[i][0], ai, b0);
            acc[i][1] = _mm512_dpbf16_ps(acc[i][1], ai, b1);
        }
    }
    store_avx512(acc, c, ldc, alpha, beta, m, n);
}
#endif

/* --------------------------------------------------------------- packing */

/* dst[k][c] = src[c][k] for an 8×8 block (row strides lds, ldd). */
static void transpose8_scalar(const float *src, size_t lds, float *dst, size_t ldd) {
    for (int c = 0; c < 8; c++)
        for (int k = 0; k < 8; k++) dst[k * ldd + c] = src[c * lds + k];
}

#if NN_X86
/* The same in AVX registers: unpack pairs, then quads, then halves. */
__attribute__((target("avx2"))) static void transpose8_avx2(const float *src, size_t lds, float *dst, size_t ldd) {
    __m256 r[8], t[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * lds);
    for (int i = 0; i < 8; i += 2) t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]), t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44), r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44), r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int i = 0; i < 4; i++) {
        _mm256_storeu_ps(dst + i * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
        _mm256_storeu_ps(dst + (i + 4) * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
    }
}
#endif

typedef void (*transpose8_fn)(const float *src, size_t lds, float *dst, size_t ldd);

/* dst[k][c] = src[c][k] for c < cols, k < kc (dst row stride ldd), in 8×8
 * blocks where they fit. */
static void transpose_into(transpose8_fn t8, const float *src, size_t lds, int cols, int kc, float *dst, size_t ldd) {
    const int c8 = cols & ~7, k8 = kc & ~7;
    for (int c = 0; c < c8; c += 8)
        for (int k = 0; k < k8; k += 8) t8(src + (size_t)c * lds + k, lds, dst + (size_t)k * ldd + c, ldd);
    for (int c = 0; c < cols; c++)
        for (int k = c < c8 ? k8 : 0; k < kc; k++) dst[(size_t)k * ldd + c] = src[(size_t)c * lds + k];
}

/* op(A)[i0 .. i0+mc) × [k0 .. k0+kc) into panels of mr rows: (panel, k, mr),
 * rows past mc zero. A plain A is transposed on the way (rows run along k). */
static void pack_a(transpose8_fn t8, float *dst, const float *A, int lda, int trans, int i0, int mc, int k0, int kc,
                   int mr) {
    for (int p = 0; p < mc; p += mr, dst += (size_t)kc * mr) {
        const int rows = mc - p < mr ? mc - p : mr;
        if (trans) {
            for (int k = 0; k < kc; k++) {
                const float *src = A + (size_t)(k0 + k) * lda + i0 + p;
                for (int r = 0; r < rows; r++) dst[k * mr + r] = src[r];
            }
        } else {
            transpose_into(t8, A + (size_t)(i0 + p) * lda + k0, (size_t)lda, rows, kc, dst, (size_t)mr);
        }
        for (int r = rows; r < mr; r++)
            for (int k = 0; k < kc; k++) dst[k * mr + r] = 0.0f;
    }
}

/* op(B)[k0 .. k0+kc) × [j0 .. j0+nc) into panels of nr columns: (panel, k, nr),
 * columns past nc zero. A transposed B is transposed back on the way. */
static void pack_b(transpose8_fn t8, float *dst, const float *B, int ldb, int trans, int k0, int kc, int j0, int nc,
                   int nr) {
    for (int q = 0; q < nc; q += nr, dst += (size_t)kc * nr) {
        const int cols = nc - q < nr ? nc - q : nr;
        if (trans) {
            transpose_into(t8, B + (size_t)(j0 + q) * ldb + k0, (size_t)ldb, cols, kc, dst, (size_t)nr);
        } else {
            for (int k = 0; k < kc; k++) {
                const float *src = B + (size_t)(k0 + k) * ldb + j0 + q;
                float *d = dst + k * nr;
                for (int c = 0; c < cols; c++) d[c] = src[c]; /* a short row: inline, not a memcpy call */
            }
        }
        for (int c = cols; c < nr; c++)
            for (int k = 0; k < kc; k++) dst[k * nr + c] = 0.0f;
    }
}

/* ------------------------------------------------------------- the kernels */

static const kernel_desc g_kernels[NN_GEMM_KERNELS] = {
    [NN_GEMM_PORTABLE] = {"portable C 6x8", PORTABLE_MR, PORTABLE_NR, micro_portable, transpose8_scalar, 0},
#if NN_X86
    [NN_GEMM_AVX2] = {"AVX2+FMA 6x16", AVX2_MR, AVX2_NR, micro_avx2, transpose8_avx2, 0},
    [NN_GEMM_AVX512] = {"AVX-512 8x32", AVX512_MR, AVX512_NR, micro_avx512, transpose8_avx2, 0},
#endif
    [NN_GEMM_OPENBLAS] = {"OpenBLAS", 0, 0, NULL, NULL, 0},
};

#if NN_X86
static const kernel_desc g_bf16_kernel = {"AVX512-BF16 8x32", AVX512_MR, AVX512_NR, micro_avx512_bf16, transpose8_avx2, 1};
#endif

/* ------------------------------------------------------------- selection */

static nn_gemm_kernel g_kernel = NN_GEMM_AUTO;
static pthread_once_t g_kernel_once = PTHREAD_ONCE_INIT;

int nn_gemm_kernel_available(nn_gemm_kernel k) {
    nn_cpu_info i;
    nn_cpu_features(&i);
    switch (k) {
    case NN_GEMM_PORTABLE:
    case NN_GEMM_OPENBLAS: return 1;
#if NN_X86
    case NN_GEMM_AVX2: return i.avx2 && i.fma;
    case NN_GEMM_AVX512: return i.avx512f;
#endif
    default: return 0;
    }
}

int nn_gemm_bf16_available(void) { return nn_cpu_features_once()->avx512_bf16; }

const char *nn_gemm_bf16_kernel_name(void) {
#if NN_X86
    if (nn_gemm_bf16_available()) return g_bf16_kernel.name;
#endif
    return "none (no AVX512-BF16)";
}

/* NN_PRECISION=fp32 keeps inference in fp32 where bf16 would run. */
nn_precision nn_default_precision(void) {
    const char *want = getenv("NN_PRECISION");
    if (want && strcmp(want, "fp32") == 0) return NN_PRECISION_FP32;
    return nn_gemm_bf16_available() ? NN_PRECISION_BF16 : NN_PRECISION_FP32;
}

nn_gemm_kernel nn_gemm_best_kernel(void) {
    if (nn_gemm_kernel_available(NN_GEMM_AVX512)) return NN_GEMM_AVX512;
    if (nn_gemm_kernel_available(NN_GEMM_AVX2)) return NN_GEMM_AVX2;
    return NN_GEMM_PORTABLE;
}

const char *nn_gemm_kernel_name(nn_gemm_kernel k) {
    return k > NN_GEMM_AUTO && k < NN_GEMM_KERNELS && g_kernels[k].name ? g_kernels[k].name : "unknown";
}

/* NN_GEMM=portable|avx2|avx512|openblas picks a kernel (for comparisons);
 * otherwise the best the CPU runs. */
static void choose_kernel(void) {
    static const char *names[NN_GEMM_KERNELS] = {[NN_GEMM_PORTABLE] = "portable", [NN_GEMM_AVX2] = "avx2",
                                                 [NN_GEMM_AVX512] = "avx512", [NN_GEMM_OPENBLAS] = "openblas"};
    const char *want = getenv("NN_GEMM");
    nn_gemm_kernel k = nn_gemm_best_kernel();
    for (int i = NN_GEMM_AUTO + 1; want && i < NN_GEMM_KERNELS; i++)
        if (strcmp(want, names[i]) == 0 && nn_gemm_kernel_available((nn_gemm_kernel)i)) k = (nn_gemm_kernel)i;
    if (g_kernel == NN_GEMM_AUTO) g_kernel = k;
}

nn_gemm_kernel nn_gemm_get_kernel(void) {
    pthread_once(&g_kernel_once, choose_kernel);
    return g_kernel;
}

nn_status nn_gemm_set_kernel(nn_gemm_kernel k) {
    pthread_once(&g_kernel_once, choose_kernel);
    if (k == NN_GEMM_AUTO) k = nn_gemm_best_kernel();
    if (k <= NN_GEMM_AUTO || k >= NN_GEMM_KERNELS || !nn_gemm_kernel_available(k)) return NN_ERR_INVALID;
    g_kernel = k;
    return NN_OK;
}

/* ------------------------------------------------------- packing buffers */

/* Each thread keeps its packing buffers (freed when it ends). */
typedef struct {
    float *a, *b;
    uint16_t *a16, *b16; /* the bf16 pairs, made on first use */
} pack_buffers;

/* aligned_alloc takes sizes that are multiples of the alignment. */
static void *alloc64(size_t bytes) { return aligned_alloc(64, (bytes + 63) / 64 * 64); }

static pthread_key_t g_pack_key;
static pthread_once_t g_pack_once = PTHREAD_ONCE_INIT;

static void free_pack_buffers(void *p) {
    pack_buffers *pb = p;
    free(pb->a), free(pb->b), free(pb->a16), free(pb->b16), free(pb);
}

static void make_pack_key(void) { pthread_key_create(&g_pack_key, free_pack_buffers); }

static pack_buffers *thread_pack_buffers(void) {
    pthread_once(&g_pack_once, make_pack_key);
    pack_buffers *pb = pthread_getspecific(g_pack_key);
    if (pb) return pb;
    pb = calloc(1, sizeof *pb);
    if (!pb) return NULL;
    pb->a = alloc64(sizeof(float) * (GEMM_MC + GEMM_MAX_MR) * GEMM_KC);
    pb->b = alloc64(sizeof(float) * (GEMM_NC + GEMM_MAX_NR) * GEMM_KC);
    if (!pb->a || !pb->b || pthread_setspecific(g_pack_key, pb) != 0) {
        free_pack_buffers(pb);
        return NULL;
    }
    return pb;
}

/* fp32 to bf16, rounding to nearest even (NaN stays NaN). */
static uint16_t bf16_from_float(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

#if NN_X86
/* One k pair of a 32-wide and of an 8-wide panel in vectors: both rows
 * rounded to bf16 (VCVTNE2PS2BF16), then their elements interleaved. */
__attribute__((target("avx512f,avx512bf16,avx512bw,avx512vl"))) static void bf16_pair32(const float *r0, const float *r1,
                                                                                       uint16_t *dst) {
    const __m512i order = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6,
                                           21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    for (int h = 0; h < 2; h++) {
        __m512i both = (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(r1 + 16 * h), _mm512_loadu_ps(r0 + 16 * h));
        _mm512_storeu_si512(dst + 32 * h, _mm512_permutexvar_epi16(order, both));
    }
}

__attribute__((target("avx512f,avx512bf16,avx512bw,avx512vl"))) static void bf16_pair8(const float *r0, uint16_t *dst) {
    const __m256i order = _mm256_set_epi16(15, 7, 14, 6, 13, 5, 12, 4, 11, 3, 10, 2, 9, 1, 8, 0);
    __m256i both = (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(r0)); /* rows 2p and 2p + 1 follow each other */
    _mm256_storeu_si256((__m256i *)dst, _mm256_permutexvar_epi16(order, both));
}
#endif

/* Packed fp32 panels (kc, w) into bf16 pair panels ((kc + 1) / 2, w, 2),
 * a missing last k zero. */
static void bf16_pairs(const float *src, int kc, int w, int panels, uint16_t *dst) {
    const int pairs = (kc + 1) / 2;
    for (int q = 0; q < panels; q++, src += (size_t)kc * w, dst += (size_t)pairs * w * 2)
        for (int p = 0; p < pairs; p++) {
#if NN_X86
            if (2 * p + 1 < kc && (w == 32 || w == 8)) { /* the bf16 kernel's panels, on a CPU that has it */
                if (w == 32) bf16_pair32(src + 2 * p * w, src + (2 * p + 1) * w, dst + p * w * 2);
                else bf16_pair8(src + 2 * p * w, dst + p * w * 2);
                continue;
            }
#endif
            for (int c = 0; c < w; c++) {
                dst[(p * w + c) * 2] = bf16_from_float(src[2 * p * w + c]);
                dst[(p * w + c) * 2 + 1] = 2 * p + 1 < kc ? bf16_from_float(src[(2 * p + 1) * w + c]) : 0;
            }
        }
}

/* A plain B[k0 .. k0+kc) × [j0 .. j0+nc) straight into bf16 pair panels
 * ((kc + 1) / 2, nr, 2), as pack_b then bf16_pairs would give it. */
static void pack_b_bf16(uint16_t *dst, const float *B, int ldb, int k0, int kc, int j0, int nc, int nr) {
    const int pairs = (kc + 1) / 2;
    for (int q = 0; q < nc; q += nr, dst += (size_t)pairs * nr * 2) {
        const int cols = nc - q < nr ? nc - q : nr;
        for (int p = 0; p < pairs; p++) {
            const float *r0 = B + (size_t)(k0 + 2 * p) * ldb + j0 + q, *r1 = r0 + ldb;
            const int has_r1 = 2 * p + 1 < kc;
            uint16_t *d = dst + (size_t)p * nr * 2;
#if NN_X86
            if (cols == 32 && nr == 32 && has_r1) {
                bf16_pair32(r0, r1, d);
                continue;
            }
#endif
            for (int c = 0; c < nr; c++) {
                d[2 * c] = c < cols ? bf16_from_float(r0[c]) : 0;
                d[2 * c + 1] = c < cols && has_r1 ? bf16_from_float(r1[c]) : 0;
            }
        }
    }
}

/* The packed GEMM on this thread with kernel kd; FALSE when the buffers
 * cannot be had. */
static int packed_sgemm(const kernel_desc *kd, int trans_a, int trans_b, int M, int N, int K, float alpha,
                        const float *A, int lda, const char *a_packed, const float *B, int ldb, const char *b_packed,
                        float beta, float *C, int ldc) {
    pack_buffers *pb = a_packed && b_packed ? NULL : thread_pack_buffers(); /* both packed: no buffers needed */
    if (!pb && !(a_packed && b_packed)) return 0;
    if (pb && kd->bf16 && !pb->a16) pb->a16 = alloc64(sizeof(uint16_t) * (GEMM_MC + GEMM_MAX_MR) * (GEMM_KC + 1));
    if (pb && kd->bf16 && !pb->b16) pb->b16 = alloc64(sizeof(uint16_t) * (GEMM_NC + GEMM_MAX_NR) * (GEMM_KC + 1));
    if (pb && kd->bf16 && (!pb->a16 || !pb->b16)) return 0;
    const int mr = kd->mr, nr = kd->nr;
    const transpose8_fn t8 = kd->transpose8;
    for (int j0 = 0; j0 < N; j0 += GEMM_NC) {
        const int nc = N - j0 < GEMM_NC ? N - j0 : GEMM_NC;
        const char *a_next = a_packed; /* the blocks of a packed A, in the order of the loops below */
        for (int k0 = 0; k0 < K; k0 += GEMM_KC) {
            const int kc = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
            const float beta_k = k0 == 0 ? beta : 1.0f;
            /* bytes per row or column of a packed panel: kc floats, or kc rounded up to pairs of bf16 */
            const size_t line = kd->bf16 ? (size_t)(kc + 1) / 2 * 2 * sizeof(uint16_t) : (size_t)kc * sizeof(float);
            if (b_packed) { /* the caller's panels: one block (K <= GEMM_KC, N <= GEMM_NC) */
            } else if (kd->bf16 && !trans_b) {
                pack_b_bf16(pb->b16, B, ldb, k0, kc, j0, nc, nr);
            } else {
                pack_b(t8, pb->b, B, ldb, trans_b, k0, kc, j0, nc, nr);
                if (kd->bf16) bf16_pairs(pb->b, kc, nr, (nc + nr - 1) / nr, pb->b16);
            }
            const char *bp = b_packed ? b_packed : kd->bf16 ? (const char *)pb->b16 : (const char *)pb->b;
            for (int i0 = 0; i0 < M; i0 += GEMM_MC) {
                const int mc = M - i0 < GEMM_MC ? M - i0 : GEMM_MC;
                const char *ap;
                if (a_next) {
                    ap = a_next;
                    a_next += (size_t)(mc + mr - 1) / mr * mr * line;
                } else {
                    pack_a(t8, pb->a, A, lda, trans_a, i0, mc, k0, kc, mr);
                    if (kd->bf16) bf16_pairs(pb->a, kc, mr, (mc + mr - 1) / mr, pb->a16);
                    ap = kd->bf16 ? (const char *)pb->a16 : (const char *)pb->a;
                }
                for (int jr = 0; jr < nc; jr += nr)
                    for (int ir = 0; ir < mc; ir += mr)
                        kd->micro(kc, ap + (size_t)ir * line, bp + (size_t)jr * line,
                                  C + (size_t)(i0 + ir) * ldc + j0 + jr, (size_t)ldc, alpha, beta_k,
                                  mc - ir < mr ? mc - ir : mr, nc - jr < nr ? nc - jr : nr);
            }
        }
    }
    return 1;
}

/* Without packing buffers (no memory for them): slow, but it never fails. */
static void plain_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                        const float *B, int ldb, float beta, float *C, int ldc) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float sum = 0.0f;
            for (int k = 0; k < K; k++)
                sum += (trans_a ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]) *
                       (trans_b ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]);
            float *c = C + (size_t)i * ldc + j;
            *c = beta == 0.0f ? alpha * sum : alpha * sum + beta * *c;
        }
}

static void blas_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                       const float *B, int ldb, float beta, float *C, int ldc) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K,
                alpha, A, lda, B, ldb, beta, C, ldc);
}

void nn_sgemm_serial_ex(nn_precision precision, int trans_a, int trans_b, int M, int N, int K, float alpha,
                        const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    if (M <= 0 || N <= 0) return;
    const nn_gemm_kernel k = nn_gemm_get_kernel();
    if (K <= 0) { /* C = beta · C, as BLAS does */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[(size_t)i * ldc + j];
        return;
    }
#if NN_X86
    if (precision == NN_PRECISION_BF16 && nn_gemm_bf16_available() &&
        packed_sgemm(&g_bf16_kernel, trans_a, trans_b, M, N, K, alpha, A, lda, NULL, B, ldb, NULL, beta, C, ldc))
        return;
#endif
    if (k == NN_GEMM_OPENBLAS) blas_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else if (!packed_sgemm(&g_kernels[k], trans_a, trans_b, M, N, K, alpha, A, lda, NULL, B, ldb, NULL, beta, C, ldc))
        plain_sgemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void nn_sgemm_serial(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc) {
    nn_sgemm_serial_ex(NN_PRECISION_FP32, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* ------------------------------------------------------------ packed A */

struct nn_gemm_packed_a {
    const kernel_desc *kd; /* the kernel it was packed for */
    nn_precision precision;
    int trans_a, M, K, lda;
    const float *A;
    char *data; /* the blocks of A as packed_sgemm walks them: KC slices, then MC blocks */
    size_t bytes;
};

/* The packed kernel a product at this precision runs now, or NULL
 * (OpenBLAS). */
static const kernel_desc *current_kernel(nn_precision precision) {
#if NN_X86
    if (precision == NN_PRECISION_BF16 && nn_gemm_bf16_available()) return &g_bf16_kernel;
#endif
    const nn_gemm_kernel k = nn_gemm_get_kernel();
    return k == NN_GEMM_OPENBLAS ? NULL : &g_kernels[k];
}

nn_gemm_packed_a *nn_gemm_pack_a(nn_precision precision, int trans_a, int M, int K, const float *A, int lda) {
    nn_gemm_packed_a *pa = calloc(1, sizeof *pa);
    if (!pa) return NULL;
    *pa = (nn_gemm_packed_a){current_kernel(precision), precision, trans_a, M, K, lda, A, NULL, sizeof *pa};
    const kernel_desc *kd = pa->kd;
    pack_buffers *pb = thread_pack_buffers();
    if (!kd || M <= 0 || K <= 0 || !pb) return pa; /* products fall back to A itself */
    const int mr = kd->mr;
    size_t bytes = 0;
    for (int pass = 0; pass < 2; pass++) { /* the size, then the panels */
        char *dst = pa->data;
        for (int k0 = 0; k0 < K; k0 += GEMM_KC) {
            const int kc = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
            const size_t line = kd->bf16 ? (size_t)(kc + 1) / 2 * 2 * sizeof(uint16_t) : (size_t)kc * sizeof(float);
            for (int i0 = 0; i0 < M; i0 += GEMM_MC) {
                const int mc = M - i0 < GEMM_MC ? M - i0 : GEMM_MC, panels = (mc + mr - 1) / mr;
                if (pass == 0) {
                    bytes += (size_t)panels * mr * line;
                    continue;
                }
                if (kd->bf16) {
                    pack_a(kd->transpose8, pb->a, A, lda, trans_a, i0, mc, k0, kc, mr);
                    bf16_pairs(pb->a, kc, mr, panels, (uint16_t *)dst);
                } else {
                    pack_a(kd->transpose8, (float *)dst, A, lda, trans_a, i0, mc, k0, kc, mr);
                }
                dst += (size_t)panels * mr * line;
            }
        }
        if (pass == 0 && !(pa->data = alloc64(bytes))) return pa;
        if (pass == 0) pa->bytes += bytes;
    }
    return pa;
}

void nn_sgemm_serial_packed_a(const nn_gemm_packed_a *pa, int N, float alpha, const float *B, int ldb, float beta,
                              float *C, int ldc) {
    if (pa->M <= 0 || N <= 0) return;
    if (pa->data && pa->K > 0 && pa->kd == current_kernel(pa->precision) &&
        packed_sgemm(pa->kd, pa->trans_a, 0, pa->M, N, pa->K, alpha, pa->A, pa->lda, pa->data, B, ldb, NULL, beta, C,
                     ldc))
        return;
    nn_sgemm_serial_ex(pa->precision, pa->trans_a, 0, pa->M, N, pa->K, alpha, pa->A, pa->lda, B, ldb, beta, C, ldc);
}

/* ------------------------------------------------------------ packed B */

int nn_gemm_packed_b_panel(const nn_gemm_packed_a *pa, int N, int *nr, int *bf16) {
    if (!pa->data || pa->K <= 0 || pa->K > GEMM_KC || N <= 0 || N > GEMM_NC || pa->kd != current_kernel(pa->precision))
        return 0;
    *nr = pa->kd->nr, *bf16 = pa->kd->bf16;
    return 1;
}

size_t nn_gemm_packed_b_bytes(const nn_gemm_packed_a *pa, int N) {
    int nr, bf16;
    if (!nn_gemm_packed_b_panel(pa, N, &nr, &bf16)) return 0;
    const size_t panels = (size_t)(N + nr - 1) / nr;
    return panels * nr * (bf16 ? (size_t)(pa->K + 1) / 2 * 2 * sizeof(uint16_t) : (size_t)pa->K * sizeof(float));
}

#if NN_X86
/* Up to 16 columns of two rows (r1 NULL: zeros) into pairs, in vectors:
 * masked loads and stores for a partial chunk. */
__attribute__((target("avx512f,avx512bf16,avx512bw,avx512vl"))) static void bf16_pair_chunks(uint16_t *dst,
                                                                                              const float *r0,
                                                                                              const float *r1, int n) {
    const __m512i order = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6,
                                           21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    for (int c = 0; c < n; c += 16) {
        const int cnt = n - c < 16 ? n - c : 16;
        const __mmask16 m = (__mmask16)(cnt == 16 ? 0xffff : (1u << cnt) - 1);
        const __m512 a = _mm512_maskz_loadu_ps(m, r0 + c), b = r1 ? _mm512_maskz_loadu_ps(m, r1 + c) : _mm512_setzero_ps();
        const __m512i both = _mm512_permutexvar_epi16(order, (__m512i)_mm512_cvtne2ps_pbh(b, a));
        _mm512_mask_storeu_epi16(dst + 2 * c, (__mmask32)(cnt == 16 ? 0xffffffffu : (1u << (2 * cnt)) - 1), both);
    }
}
#endif

void nn_gemm_bf16_pair_row(uint16_t *dst, const float *r0, const float *r1, int n) {
#if NN_X86
    if (nn_gemm_bf16_available()) {
        bf16_pair_chunks(dst, r0, r1, n);
        return;
    }
#endif
    for (int c = 0; c < n; c++) {
        dst[2 * c] = bf16_from_float(r0[c]);
        dst[2 * c + 1] = r1 ? bf16_from_float(r1[c]) : 0;
    }
}

nn_status nn_sgemm_serial_packed_ab(const nn_gemm_packed_a *pa, const void *packed_b, int N, float alpha, float beta,
                                    float *C, int ldc) {
    int nr, bf16;
    if (pa->M <= 0 || N <= 0) return NN_OK;
    if (!nn_gemm_packed_b_panel(pa, N, &nr, &bf16)) return NN_ERR_INVALID;
    packed_sgemm(pa->kd, pa->trans_a, 0, pa->M, N, pa->K, alpha, pa->A, pa->lda, pa->data, NULL, 0, packed_b, beta, C,
                 ldc); /* both packed: it needs no buffers, so it runs */
    return NN_OK;
}

int nn_gemm_packed_a_rows(const nn_gemm_packed_a *pa) { return pa->M; }
int nn_gemm_packed_a_depth(const nn_gemm_packed_a *pa) { return pa->K; }
size_t nn_gemm_packed_a_bytes(const nn_gemm_packed_a *pa) { return pa ? pa->bytes : 0; }

void nn_gemm_packed_a_free(nn_gemm_packed_a *pa) {
    if (!pa) return;
    free(pa->data);
    free(pa);
}

/* ------------------------------------------------------------ threaded GEMM */

typedef struct {
    int trans_a, trans_b, M, N, K, lda, ldb, ldc, parts;
    nn_precision precision;
    const float *A, *B;
    const nn_gemm_packed_a *packed; /* A packed once for every part, or NULL */
    float *C;
    float alpha, beta;
} gemm_job;

/* Each part computes a contiguous block of C's columns (row-major). */
static void gemm_parts(void *ctx, int p0, int p1) {
    const gemm_job *g = ctx;
    for (int p = p0; p < p1; p++) {
        int c0 = (int)((long)g->N * p / g->parts), c1 = (int)((long)g->N * (p + 1) / g->parts);
        if (c1 <= c0) continue;
        const float *b = g->trans_b ? g->B + (size_t)c0 * g->ldb : g->B + c0;
        if (g->packed)
            nn_sgemm_serial_packed_a(g->packed, c1 - c0, g->alpha, b, g->ldb, g->beta, g->C + c0, g->ldc);
        else
            nn_sgemm_serial_ex(g->precision, g->trans_a, g->trans_b, g->M, c1 - c0, g->K, g->alpha, g->A, g->lda, b,
                               g->ldb, g->beta, g->C + c0, g->ldc);
    }
}

static int gemm_split(int M, int N, int K) {
    const int threads = nn_get_threads();
    if ((long)M * N * K < 200000 || N < 64 * threads) return 1; /* too small to split */
    return threads;
}

void nn_sgemm_packed_a(const nn_gemm_packed_a *pa, int N, float alpha, const float *B, int ldb, float beta, float *C,
                       int ldc) {
    const int M = nn_gemm_packed_a_rows(pa), K = nn_gemm_packed_a_depth(pa);
    gemm_job g = {.M = M, .N = N, .K = K, .ldb = ldb, .ldc = ldc, .parts = gemm_split(M, N, K), .B = B,
                  .packed = pa, .C = C, .alpha = alpha, .beta = beta};
    nn_parallel_for(g.parts, gemm_parts, &g);
}

void nn_sgemm_ex(nn_precision precision, int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                 int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    /* A packed once, not by every part and every block of columns */
    nn_gemm_packed_a *pa = !trans_b && M > 0 && K > 0 ? nn_gemm_pack_a(precision, trans_a, M, K, A, lda) : NULL;
    if (pa) {
        nn_sgemm_packed_a(pa, N, alpha, B, ldb, beta, C, ldc);
        nn_gemm_packed_a_free(pa);
        return;
    }
    gemm_job g = {trans_a, trans_b, M, N, K, lda, ldb, ldc, gemm_split(M, N, K), precision, A, B, NULL, C, alpha, beta};
    nn_parallel_for(g.parts, gemm_parts, &g);
}

void nn_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
              int ldb, float beta, float *C, int ldc) {
    nn_sgemm_ex(NN_PRECISION_FP32, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* ------------------------------------------------ the CPU and the kernels in use */

void nn_cpu_get_info(nn_cpu_info *info) {
    nn_cpu_features(info);
    const char *core = openblas_get_corename();
    snprintf(info->blas_core, sizeof info->blas_core, "%s", core ? core : "unknown");
    snprintf(info->gemm_kernel, sizeof info->gemm_kernel, "%s", nn_gemm_kernel_name(nn_gemm_get_kernel()));
}

const char *nn_cpu_describe(char *buf, size_t cap) {
    nn_cpu_info i;
    nn_cpu_get_info(&i);
    const char *names[] = {"AVX2", "FMA", "AVX-512", "AVX512-BF16", "AMX-BF16"};
    const int have[] = {i.avx2, i.fma, i.avx512f, i.avx512_bf16, i.amx_bf16};
    char features[96] = "";
    for (int k = 0; k < 5; k++)
        if (have[k]) snprintf(features + strlen(features), sizeof features - strlen(features), "%s%s", *features ? " " : "", names[k]);
    const int bf16 = nn_default_precision() == NN_PRECISION_BF16;
    snprintf(buf, cap, "CPU: %s; GEMM: %s%s (OpenBLAS's own choice: its %s kernel); inference: %s%s%s",
             *features ? features : "no AVX", i.gemm_kernel, nn_gemm_get_kernel() == NN_GEMM_OPENBLAS ? "" : " kernel",
             i.blas_core, bf16 ? "bf16, " : "fp32", bf16 ? nn_gemm_bf16_kernel_name() : "", bf16 ? " kernel" : "");
    return buf;
}
