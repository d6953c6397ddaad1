/* test_gemm.c — the library's own GEMM kernels against a naive double
 * oracle (every kernel this CPU runs, OpenBLAS too): all transposes, edge
 * sizes around the micro-tiles and cache blocks, alpha and beta, leading
 * dimensions beyond the sizes, beta = 0 never reading C; the threaded
 * product bit-identical to one thread; a packed A, and a B packed by its
 * producer, bit-identical to packing in the product; the chosen kernel matching the
 * CPU's features; and the persistent thread pool under nn_parallel_for
 * (every index once, nested calls, two callers at once, after fork). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nn.h"
#include "testlib.h"

typedef struct {
    int M, N, K;
} gemm_size;

/* Around the tiles (4×16, 6×16, 8×32), the K block (256), the M block (128)
 * and the N block (2048); and the network's own shapes. */
static const gemm_size g_sizes[] = {{1, 1, 1},     {3, 5, 2},      {7, 33, 5},     {8, 32, 256},  {9, 31, 257},
                                    {13, 47, 300}, {130, 70, 17},  {6, 2100, 9},   {32, 1024, 288}, {247, 96, 32},
                                    {64, 200, 576}, {17, 15, 513}};

/* op(X)[r][c] of a row-major X with leading dimension ld. */
static double at(const float *X, int ld, int trans, int r, int c) {
    return trans ? X[(size_t)c * ld + r] : X[(size_t)r * ld + c];
}

/* The oracle: Σₖ op(A)[i][k] op(B)[k][j] in double, and Σ|products| in *mag. */
static double oracle(const float *A, int lda, int ta, const float *B, int ldb, int tb, int i, int j, int K,
                     double *mag) {
    double sum = 0.0;
    *mag = 0.0;
    for (int k = 0; k < K; k++) {
        double p = at(A, lda, ta, i, k) * at(B, ldb, tb, k, j);
        sum += p, *mag += fabs(p);
    }
    return sum;
}

/* Checks C against the oracle: |C - ref| within 2e-6 of Σ|a b| (+|beta c|). */
static int check_product(const char *kernel, gemm_size s, int ta, int tb, float alpha, float beta, const float *A,
                         int lda, const float *B, int ldb, const float *C0, const float *C, int ldc) {
    double worst = 0.0;
    for (int i = 0; i < s.M; i++)
        for (int j = 0; j < s.N; j++) {
            double mag, sum = oracle(A, lda, ta, B, ldb, tb, i, j, s.K, &mag);
            double ref = alpha * sum + (beta != 0.0f ? beta * C0[(size_t)i * ldc + j] : 0.0);
            double scale = fabs(alpha) * mag + fabs(beta * C0[(size_t)i * ldc + j]) + 1e-30;
            double err = fabs(C[(size_t)i * ldc + j] - ref) / scale;
            if (!(err <= worst)) worst = err; /* NaN too */
        }
    int ok = worst <= 2e-6;
    if (!ok)
        fprintf(stderr, "%s: %dx%dx%d trans %d%d alpha %g beta %g: relative error %g\n", kernel, s.M, s.N, s.K, ta, tb,
                alpha, beta, worst);
    return ok;
}

static void test_kernel(nn_gemm_kernel k) {
    CHECK(nn_gemm_set_kernel(k) == NN_OK, "kernel %s refused", nn_gemm_kernel_name(k));
    int cases = 0, failed = 0;
    const float alphas[] = {1.0f, -0.75f}, betas[] = {0.0f, 1.0f, 0.5f};
    for (size_t si = 0; si < sizeof g_sizes / sizeof *g_sizes; si++) {
        const gemm_size s = g_sizes[si];
        for (int t = 0; t < 4; t++) {
            const int ta = t & 1, tb = t >> 1;
            /* leading dimensions 3 beyond the stored widths */
            const int lda = (ta ? s.M : s.K) + 3, ldb = (tb ? s.K : s.N) + 3, ldc = s.N + 3;
            const size_t na = (size_t)(ta ? s.K : s.M) * lda, nb = (size_t)(tb ? s.N : s.K) * ldb, nc = (size_t)s.M * ldc;
            float *A = malloc(sizeof(float) * na), *B = malloc(sizeof(float) * nb);
            float *C0 = malloc(sizeof(float) * nc), *C = malloc(sizeof(float) * nc);
            fill_uniform(A, na, -1, 1, 11 + si), fill_uniform(B, nb, -1, 1, 23 + si), fill_uniform(C0, nc, -1, 1, 5);
            for (int ai = 0; ai < 2; ai++)
                for (int bi = 0; bi < 3; bi++) {
                    if (betas[bi] == 0.0f)
                        for (size_t i = 0; i < nc; i++) C[i] = NAN; /* must never be read */
                    else memcpy(C, C0, sizeof(float) * nc);
                    nn_sgemm_serial(ta, tb, s.M, s.N, s.K, alphas[ai], A, lda, B, ldb, betas[bi], C, ldc);
                    cases++;
                    failed += !check_product(nn_gemm_kernel_name(k), s, ta, tb, alphas[ai], betas[bi], A, lda, B, ldb,
                                             C0, C, ldc);
                }
            free(A), free(B), free(C0), free(C);
        }
    }
    printf("%-16s %d products against the double oracle: %d wrong\n", nn_gemm_kernel_name(k), cases, failed);
    CHECK(failed == 0, "kernel %s: %d of %d products wrong", nn_gemm_kernel_name(k), failed, cases);
}

/* The product split over threads equals the one-thread product bit for bit. */
static void test_threads(void) {
    const int M = 64, N = 3000, K = 300;
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
    float *C1 = malloc(sizeof(float) * M * N), *C2 = malloc(sizeof(float) * M * N);
    fill_uniform(A, (size_t)M * K, -1, 1, 1), fill_uniform(B, (size_t)K * N, -1, 1, 2);
    nn_sgemm_serial(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C1, N);
    nn_set_threads(2);
    nn_sgemm(0, 0, M, N, K, 1.0f, A, K, B, N, 0.0f, C2, N);
    int same = memcmp(C1, C2, sizeof(float) * M * N) == 0;
    printf("%s: 2 threads %s 1 thread\n", nn_gemm_kernel_name(nn_gemm_get_kernel()), same ? "bit-identical to" : "DIFFER from");
    CHECK(same, "the threaded product differs from the serial one");
    free(A), free(B), free(C1), free(C2);
}

/* A packed once gives the same bits as packing it in every product, for
 * every kernel and both precisions, transposed or not, across the K and M
 * blocks; and a kernel changed after packing falls back to A itself. */
static void test_packed_a(void) {
    static const gemm_size sizes[] = {{7, 33, 5}, {130, 70, 300}, {32, 300, 288}, {247, 64, 32}, {17, 15, 513}};
    const nn_gemm_kernel chosen = nn_gemm_get_kernel();
    int cases = 0, failed = 0;
    for (int k = NN_GEMM_PORTABLE; k < NN_GEMM_KERNELS; k++) {
        if (!nn_gemm_kernel_available((nn_gemm_kernel)k)) continue;
        nn_gemm_set_kernel((nn_gemm_kernel)k);
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
            for (int t = 0; t < 4; t++) {
                const gemm_size s = sizes[si];
                const int ta = t & 1, precision = t >> 1, lda = (ta ? s.M : s.K) + 3, ldc = s.N + 1;
                const size_t na = (size_t)(ta ? s.K : s.M) * lda, nc = (size_t)s.M * ldc;
                float *A = malloc(sizeof(float) * na), *B = malloc(sizeof(float) * s.K * s.N);
                float *C = malloc(sizeof(float) * nc), *Cp = malloc(sizeof(float) * nc);
                fill_uniform(A, na, -1, 1, 31 + si), fill_uniform(B, (size_t)s.K * s.N, -1, 1, 37 + si);
                fill_uniform(C, nc, -1, 1, 41), memcpy(Cp, C, sizeof(float) * nc);
                nn_sgemm_serial_ex((nn_precision)precision, ta, 0, s.M, s.N, s.K, 0.5f, A, lda, B, s.N, 0.25f, C, ldc);
                nn_gemm_packed_a *pa = nn_gemm_pack_a((nn_precision)precision, ta, s.M, s.K, A, lda);
                nn_sgemm_serial_packed_a(pa, s.N, 0.5f, B, s.N, 0.25f, Cp, ldc);
                cases++;
                failed += memcmp(C, Cp, sizeof(float) * nc) != 0;
                if (k == NN_GEMM_PORTABLE && si == 1) { /* packed for the portable kernel, run with another */
                    nn_gemm_set_kernel(nn_gemm_best_kernel());
                    memcpy(Cp, C, sizeof(float) * nc);
                    nn_sgemm_serial_ex((nn_precision)precision, ta, 0, s.M, s.N, s.K, 1.0f, A, lda, B, s.N, 0.0f, C,
                                       ldc);
                    nn_sgemm_serial_packed_a(pa, s.N, 1.0f, B, s.N, 0.0f, Cp, ldc);
                    cases++;
                    failed += memcmp(C, Cp, sizeof(float) * nc) != 0;
                    nn_gemm_set_kernel((nn_gemm_kernel)k);
                }
                nn_gemm_packed_a_free(pa);
                free(A), free(B), free(C), free(Cp);
            }
    }
    nn_gemm_set_kernel(chosen);
    printf("packed A: %d products against packing in the product: %d differ\n", cases, failed);
    CHECK(failed == 0, "%d of %d products with a packed A differ", failed, cases);
}

/* B packed by the caller in the documented panels gives the same bits as
 * B packed by the product, for every kernel that takes it, in fp32 and
 * bf16; a kernel that cannot take it (OpenBLAS) says so. */
static void test_packed_b(void) {
    const nn_gemm_kernel chosen = nn_gemm_get_kernel();
    const int M = 40, N = 70, K = 37; /* a partial last panel, an odd K (a half-empty bf16 pair) */
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
    float *C = malloc(sizeof(float) * M * N), *Cp = malloc(sizeof(float) * M * N);
    fill_uniform(A, (size_t)M * K, -1, 1, 51), fill_uniform(B, (size_t)K * N, -1, 1, 52);
    int cases = 0, failed = 0, refused = 0;
    for (int k = NN_GEMM_PORTABLE; k < NN_GEMM_KERNELS; k++) {
        if (!nn_gemm_kernel_available((nn_gemm_kernel)k)) continue;
        nn_gemm_set_kernel((nn_gemm_kernel)k);
        for (int precision = 0; precision < 2; precision++) {
            nn_gemm_packed_a *pa = nn_gemm_pack_a((nn_precision)precision, 0, M, K, A, K);
            int nr, bf16;
            if (!nn_gemm_packed_b_panel(pa, N, &nr, &bf16)) {
                refused += k == NN_GEMM_OPENBLAS;
                CHECK(nn_sgemm_serial_packed_ab(pa, B, N, 1.0f, 0.0f, Cp, N) == NN_ERR_INVALID,
                      "a packed B accepted where the kernel takes none");
                nn_gemm_packed_a_free(pa);
                continue;
            }
            const int panels = (N + nr - 1) / nr, rows = bf16 ? (K + 1) / 2 : K;
            const size_t panel = (size_t)rows * nr * (bf16 ? 2 : 1);
            CHECK(nn_gemm_packed_b_bytes(pa, N) == panels * panel * (bf16 ? 2 : 4), "packed B size");
            const size_t bytes = (panels * panel * sizeof(float) + 63) / 64 * 64; /* 64-byte aligned, as the kernels load */
            float *pf = aligned_alloc(64, bytes);
            uint16_t *p16 = aligned_alloc(64, bytes);
            memset(pf, 0, bytes), memset(p16, 0, bytes); /* zero: the columns past N */
            float r0[64], r1[64];
            for (int q = 0; q < panels; q++)
                for (int r = 0; r < rows; r++) {
                    const int cols = N - q * nr < nr ? N - q * nr : nr;
                    if (!bf16) {
                        memcpy(pf + q * panel + (size_t)r * nr, B + (size_t)r * N + q * nr, sizeof(float) * cols);
                        continue;
                    }
                    for (int c = 0; c < cols; c++)
                        r0[c] = B[(size_t)(2 * r) * N + q * nr + c], r1[c] = 2 * r + 1 < K ? B[(size_t)(2 * r + 1) * N + q * nr + c] : 0;
                    nn_gemm_bf16_pair_row(p16 + q * panel + (size_t)r * nr * 2, r0, 2 * r + 1 < K ? r1 : NULL, cols);
                }
            nn_sgemm_serial_packed_a(pa, N, 1.0f, B, N, 0.0f, C, N);
            CHECK(nn_sgemm_serial_packed_ab(pa, bf16 ? (const void *)p16 : (const void *)pf, N, 1.0f, 0.0f, Cp, N) ==
                      NN_OK,
                  "packed B refused");
            cases++;
            failed += memcmp(C, Cp, sizeof(float) * M * N) != 0;
            free(pf), free(p16);
            nn_gemm_packed_a_free(pa);
        }
    }
    nn_gemm_set_kernel(chosen);
    printf("packed B: %d products against B packed by the product: %d differ; OpenBLAS refuses it: %s\n", cases,
           failed, refused ? "yes" : "no");
    CHECK(cases > 0 && failed == 0, "%d of %d products with a packed B differ", failed, cases);
    CHECK(refused >= 1, "OpenBLAS took a packed B"); /* in fp32; bf16 products run on the bf16 kernel */
    free(A), free(B), free(C), free(Cp);
}

/* The kernel chosen by default is the best the CPU's features allow. */
static void test_choice(void) {
    nn_cpu_info info;
    nn_cpu_get_info(&info);
    nn_gemm_kernel want = info.avx512f ? NN_GEMM_AVX512 : info.avx2 && info.fma ? NN_GEMM_AVX2 : NN_GEMM_PORTABLE;
    const char *forced = getenv("NN_GEMM");
    printf("CPU: avx512f %d, avx2 %d, fma %d -> %s (best: %s)%s\n", info.avx512f, info.avx2, info.fma,
           nn_gemm_kernel_name(nn_gemm_get_kernel()), nn_gemm_kernel_name(nn_gemm_best_kernel()),
           forced ? " NN_GEMM is set" : "");
    CHECK(nn_gemm_best_kernel() == want, "best kernel %s, the features call for %s",
          nn_gemm_kernel_name(nn_gemm_best_kernel()), nn_gemm_kernel_name(want));
    if (!forced) CHECK(nn_gemm_get_kernel() == want, "the kernel in use is %s", nn_gemm_kernel_name(nn_gemm_get_kernel()));
    CHECK(strcmp(info.gemm_kernel, nn_gemm_kernel_name(nn_gemm_get_kernel())) == 0, "nn_cpu_get_info names %s",
          info.gemm_kernel);
    char text[256];
    nn_cpu_describe(text, sizeof text);
    CHECK(strstr(text, info.gemm_kernel) && strstr(text, info.blas_core), "the description '%s' misses a kernel", text);
    CHECK(nn_gemm_set_kernel(NN_GEMM_KERNELS) == NN_ERR_INVALID && nn_gemm_set_kernel((nn_gemm_kernel)-1) == NN_ERR_INVALID,
          "an unknown kernel was accepted");
    for (int k = NN_GEMM_PORTABLE; k < NN_GEMM_KERNELS; k++)
        if (!nn_gemm_kernel_available((nn_gemm_kernel)k)) {
            printf("%s: not on this CPU, refused\n", nn_gemm_kernel_name((nn_gemm_kernel)k));
            CHECK(nn_gemm_set_kernel((nn_gemm_kernel)k) == NN_ERR_INVALID, "an unavailable kernel was accepted");
        }
}

/* ------------------------------------------------------------------- bf16 */

/* x rounded to bf16's 8 significant bits, ties to even (nearbyint in the
 * default rounding mode): computed apart from the library's bit trick. */
static double bf16_round(float x) {
    int e;
    double m = frexp(x, &e);
    return ldexp(nearbyint(m * 256.0), e - 8);
}

/* The bf16 product against the double oracle on bf16-rounded inputs (as
 * tight as fp32: products of bf16 are exact in fp32) and against the fp32
 * oracle (within 2⁻⁷ of Σ|a b|: each input is off by at most 2⁻⁹). */
static void test_bf16(void) {
    if (!nn_gemm_bf16_available()) {
        printf("bf16: skipped, this CPU has no AVX512-BF16 (%s)\n", nn_gemm_bf16_kernel_name());
        return;
    }
    int cases = 0, exact_bad = 0, fp32_bad = 0;
    double worst_vs_fp32 = 0.0;
    for (size_t si = 0; si < sizeof g_sizes / sizeof *g_sizes; si++) {
        const gemm_size s = g_sizes[si];
        for (int t = 0; t < 4; t++) {
            const int ta = t & 1, tb = t >> 1, lda = (ta ? s.M : s.K) + 1, ldb = (tb ? s.K : s.N) + 1, ldc = s.N + 1;
            const size_t na = (size_t)(ta ? s.K : s.M) * lda, nb = (size_t)(tb ? s.N : s.K) * ldb, nc = (size_t)s.M * ldc;
            float *A = malloc(sizeof(float) * na), *B = malloc(sizeof(float) * nb), *C = malloc(sizeof(float) * nc);
            float *Ar = malloc(sizeof(float) * na), *Br = malloc(sizeof(float) * nb), *C0 = calloc(nc, sizeof(float));
            fill_uniform(A, na, -1, 1, 101 + si), fill_uniform(B, nb, -1, 1, 203 + si);
            for (size_t i = 0; i < na; i++) Ar[i] = (float)bf16_round(A[i]);
            for (size_t i = 0; i < nb; i++) Br[i] = (float)bf16_round(B[i]);
            for (size_t i = 0; i < nc; i++) C[i] = NAN;
            nn_sgemm_serial_ex(NN_PRECISION_BF16, ta, tb, s.M, s.N, s.K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
            cases++;
            exact_bad += !check_product("bf16 (rounded inputs)", s, ta, tb, 1.0f, 0.0f, Ar, lda, Br, ldb, C0, C, ldc);
            for (int i = 0; i < s.M; i++)
                for (int j = 0; j < s.N; j++) {
                    double mag, sum = oracle(A, lda, ta, B, ldb, tb, i, j, s.K, &mag);
                    double err = fabs(C[(size_t)i * ldc + j] - sum) / (mag + 1e-30);
                    if (!(err <= worst_vs_fp32)) worst_vs_fp32 = err;
                }
            free(A), free(B), free(C), free(Ar), free(Br), free(C0);
        }
    }
    fp32_bad = !(worst_vs_fp32 <= 1.0 / 128);
    printf("bf16 (%s): %d products; against bf16-rounded inputs %d wrong; against fp32 worst %.2e of sum|ab| "
           "(bound 2^-7)\n", nn_gemm_bf16_kernel_name(), cases, exact_bad, worst_vs_fp32);
    CHECK(exact_bad == 0, "%d bf16 products differ from the oracle on rounded inputs", exact_bad);
    CHECK(!fp32_bad && worst_vs_fp32 > 0, "bf16 against fp32: %g", worst_vs_fp32);
}

/* ---------------------------------------------------------- thread pool */

typedef struct {
    int *hits; /* (n) */
    int nested;
} pool_job;

static void count_nested(void *ctx, int b, int e) {
    int *hits = ctx;
    for (int i = b; i < e; i++) __atomic_add_fetch(&hits[i], 1, __ATOMIC_RELAXED);
}

static void count_hits(void *ctx, int b, int e) {
    pool_job *j = ctx;
    for (int i = b; i < e; i++) __atomic_add_fetch(&j->hits[i], 1, __ATOMIC_RELAXED);
    if (j->nested) nn_parallel_for(e - b, count_nested, j->hits + b); /* from inside a range */
}

/* Every index of n visited exactly `times` times by one call. */
static int visit_all(int n, int nested, int times) {
    int *hits = calloc((size_t)n, sizeof(int));
    pool_job j = {hits, nested};
    nn_parallel_for(n, count_hits, &j);
    int ok = 1;
    for (int i = 0; i < n; i++) ok &= hits[i] == times;
    free(hits);
    return ok;
}

static void *caller_thread(void *arg) {
    int *ok = arg;
    for (int r = 0; r < 200; r++) *ok &= visit_all(1000 + r, 0, 1);
    return NULL;
}

static void test_pool(void) {
    nn_set_threads(3); /* more threads than this machine may have cores: the pool must still finish */
    int ok = 1;
    for (int r = 0; r < 500; r++) ok &= visit_all(1 + r % 97, 0, 1);
    CHECK(ok, "nn_parallel_for missed or repeated an index");
    CHECK(visit_all(5000, 1, 2), "a call from inside a range went wrong");
    int ok_a = 1, ok_b = 1;
    pthread_t a, b;
    pthread_create(&a, NULL, caller_thread, &ok_a);
    pthread_create(&b, NULL, caller_thread, &ok_b);
    pthread_join(a, NULL), pthread_join(b, NULL);
    CHECK(ok_a && ok_b, "two callers at once went wrong");
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20); /* a pool that waits for its parent's workers would hang */
        _exit(visit_all(10000, 0, 1) ? 0 : 1);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "after fork the pool failed (status %d)", status);
    printf("thread pool: every index once in 500 calls, nested calls, two callers at once, after fork: %s\n",
           ok && ok_a && ok_b && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "yes" : "NO");
}

int main(void) {
    nn_set_threads(1);
    test_choice();
    const nn_gemm_kernel chosen = nn_gemm_get_kernel();
    for (int k = NN_GEMM_PORTABLE; k < NN_GEMM_KERNELS; k++)
        if (nn_gemm_kernel_available((nn_gemm_kernel)k)) test_kernel((nn_gemm_kernel)k);
    nn_gemm_set_kernel(chosen);
    test_threads();
    test_packed_a();
    test_packed_b();
    test_bf16();
    test_pool();
    return test_finish("test_gemm");
}
