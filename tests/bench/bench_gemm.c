/* bench_gemm.c — GFLOP/s of every GEMM kernel this CPU runs (the library's
 * own and OpenBLAS, and the bf16 kernel where the CPU has one), side by
 * side and alternating, on a square product and on the network's shapes;
 * the medians, and the best fp32 figure as the machine's measured fp32 peak
 * for this thread count.
 * Usage: bench_gemm [threads] [rounds] */
#include <stdio.h>
#include <stdlib.h>

#include "benchutil.h"
#include "nn.h"

typedef struct {
    const char *what;
    int ta, tb, M, N, K;
} shape;

static const shape g_shapes[] = {
    {"square 1024", 0, 0, 1024, 1024, 1024},
    {"conv 3x3 64->64, 64 tiles of 16x16 (im2col)", 0, 0, 64, 16384, 576},
    {"Winograd position, 128->128, 4096 tiles", 0, 0, 128, 4096, 128},
    {"head 1x1 32->247, 64 tiles of 32x32", 0, 0, 247, 65536, 32},
    {"weight gradient 64x576, K = 16384", 0, 1, 64, 576, 16384},
    {"input gradient 576x16384 (A transposed)", 1, 0, 576, 16384, 64},
};

int main(int argc, char **argv) {
    const int threads = argc > 1 ? atoi(argv[1]) : 1, rounds = argc > 2 ? atoi(argv[2]) : 5;
    nn_set_threads(threads);
    double peak = 0.0;
    const char *peak_kernel = "";
    for (size_t s = 0; s < sizeof g_shapes / sizeof *g_shapes; s++) {
        const shape sh = g_shapes[s];
        const size_t na = (size_t)sh.M * sh.K, nb = (size_t)sh.K * sh.N, nc = (size_t)sh.M * sh.N;
        float *A = malloc(sizeof(float) * na), *B = malloc(sizeof(float) * nb), *C = malloc(sizeof(float) * nc);
        for (size_t i = 0; i < na; i++) A[i] = (float)((i * 7 % 13) - 6) / 8.0f;
        for (size_t i = 0; i < nb; i++) B[i] = (float)((i * 5 % 11) - 5) / 8.0f;
        double t[NN_GEMM_KERNELS + 1][64]; /* the last: bf16 */
        for (int r = 0; r < rounds && r < 64; r++)
            for (int k = NN_GEMM_PORTABLE; k <= NN_GEMM_KERNELS; k++) {
                const int bf16 = k == NN_GEMM_KERNELS;
                if (bf16 ? !nn_gemm_bf16_available() || nn_gemm_set_kernel(NN_GEMM_AUTO) != NN_OK
                         : nn_gemm_set_kernel((nn_gemm_kernel)k) != NN_OK)
                    continue;
                double t0 = bench_now();
                nn_sgemm_ex(bf16 ? NN_PRECISION_BF16 : NN_PRECISION_FP32, sh.ta, sh.tb, sh.M, sh.N, sh.K, 1.0f, A,
                            sh.ta ? sh.M : sh.K, B, sh.tb ? sh.K : sh.N, 0.0f, C, sh.N);
                t[k][r] = bench_now() - t0;
            }
        printf("%s (M %d, N %d, K %d), %d thread(s):\n", sh.what, sh.M, sh.N, sh.K, threads);
        for (int k = NN_GEMM_PORTABLE; k < NN_GEMM_KERNELS; k++) {
            if (!nn_gemm_kernel_available((nn_gemm_kernel)k)) continue;
            double med = bench_median(t[k], rounds), gflops = 2.0 * sh.M * sh.N * sh.K / med * 1e-9;
            printf("  %-16s %8.2f ms  %7.1f GFLOP/s\n", nn_gemm_kernel_name((nn_gemm_kernel)k), med * 1e3, gflops);
            if (gflops > peak) peak = gflops, peak_kernel = nn_gemm_kernel_name((nn_gemm_kernel)k);
        }
        if (nn_gemm_bf16_available()) {
            double med = bench_median(t[NN_GEMM_KERNELS], rounds);
            printf("  %-16s %8.2f ms  %7.1f GFLOP/s (bf16 inputs)\n", nn_gemm_bf16_kernel_name(), med * 1e3,
                   2.0 * sh.M * sh.N * sh.K / med * 1e-9);
        }
        free(A), free(B), free(C);
    }
    printf("measured fp32 peak: %.1f GFLOP/s (%s, %d thread(s))\n", peak, peak_kernel, threads);
    return 0;
}
