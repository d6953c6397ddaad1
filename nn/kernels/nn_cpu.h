/* nn_cpu.h — what the CPU offers and the OS lets programs use (CPUID and
 * XCR0: AVX2, FMA, AVX-512, AVX512-BF16, AMX), read once (cpu.c). The
 * kernels chosen from it are described by nn_gemm.h's nn_cpu_get_info.
 * Part of the nn library; include nn.h for all of it. */
#ifndef NN_CPU_H
#define NN_CPU_H

#ifdef __cplusplus
extern "C" {
#endif

/* What the CPU offers (and the OS lets programs use), the library's GEMM
 * kernel in use (nn_gemm.h) and the kernel OpenBLAS chose for itself. */
typedef struct {
    int avx2, fma, avx512f, avx512_bf16, amx_bf16;
    char gemm_kernel[32];
    char blas_core[64];
} nn_cpu_info;

/* The CPU's features alone (nn_cpu_get_info adds the kernels in use); the
 * second, read once and kept, for the hot paths that ask on every call. */
void nn_cpu_features(nn_cpu_info *info);
const nn_cpu_info *nn_cpu_features_once(void);

#ifdef __cplusplus
}
#endif
#endif
