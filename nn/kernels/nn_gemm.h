/* nn_gemm.h — single-precision matrix products: the library's own packed
 * kernels, chosen at run time from the CPU's features, and the threaded
 * product the layers use. Implemented by gemm.c. Part of the nn library;
 * include nn.h for all of it. */
#ifndef NN_GEMM_H
#define NN_GEMM_H

#include "nn_core.h"
#include "nn_cpu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The micro-kernels. AUTO: the best the CPU runs (AVX-512, else AVX2+FMA,
 * else portable C); OpenBLAS is the reference and a choice. The
 * environment variable NN_GEMM (portable, avx2, avx512, openblas) picks one
 * at start, when the CPU runs it. */
typedef enum {
    NN_GEMM_AUTO = 0,
    NN_GEMM_PORTABLE,
    NN_GEMM_AVX2,
    NN_GEMM_AVX512,
    NN_GEMM_OPENBLAS,
    NN_GEMM_KERNELS
} nn_gemm_kernel;

nn_gemm_kernel nn_gemm_get_kernel(void);
/* NN_ERR_INVALID when this CPU cannot run k. Not thread-safe against
 * products running at the same time: for tests and benchmarks. */
nn_status nn_gemm_set_kernel(nn_gemm_kernel k);
int nn_gemm_kernel_available(nn_gemm_kernel k);
nn_gemm_kernel nn_gemm_best_kernel(void);
/* "AVX-512 8x32", "OpenBLAS", … */
const char *nn_gemm_kernel_name(nn_gemm_kernel k);

/* The precision of a product's inputs. BF16: A and B rounded to bf16 (to
 * nearest even) as they are packed, products and sums in fp32, C fp32; on
 * CPUs with AVX512-BF16, elsewhere the product runs in FP32. */
typedef enum { NN_PRECISION_FP32 = 0, NN_PRECISION_BF16 = 1 } nn_precision;
int nn_gemm_bf16_available(void);
const char *nn_gemm_bf16_kernel_name(void);
/* BF16 where the CPU runs it, unless the environment says NN_PRECISION=fp32. */
nn_precision nn_default_precision(void);

/* Row-major C = alpha · op(A) · op(B) + beta · C (op transposes when
 * trans_*), on the calling thread with the chosen kernel. beta = 0 never
 * reads C. */
void nn_sgemm_serial(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                     const float *B, int ldb, float beta, float *C, int ldc);
void nn_sgemm_serial_ex(nn_precision precision, int trans_a, int trans_b, int M, int N, int K, float alpha,
                        const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);
/* The same, split by columns of C across the library's threads. The split
 * depends only on the sizes and the thread count (deterministic). */
void nn_sgemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
              int lda, const float *B, int ldb, float beta, float *C, int ldc);
void nn_sgemm_ex(nn_precision precision, int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                 int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* A packed once for many products with the same left operand (a layer's
 * weights times many blocks of B): op(A) is M×K, B plain (K×N). A must
 * stay valid while the packed form is used: when the kernel or the CPU's
 * precision changed meanwhile, or packing found no memory, the product runs
 * from A itself. NULL only when even the handle cannot be allocated. */
typedef struct nn_gemm_packed_a nn_gemm_packed_a;
nn_gemm_packed_a *nn_gemm_pack_a(nn_precision precision, int trans_a, int M, int K, const float *A, int lda);
/* C = alpha · op(A) · B + beta · C on the calling thread. */
void nn_sgemm_serial_packed_a(const nn_gemm_packed_a *pa, int N, float alpha, const float *B, int ldb, float beta,
                              float *C, int ldc);
/* The same, split by columns of C across the library's threads. */
void nn_sgemm_packed_a(const nn_gemm_packed_a *pa, int N, float alpha, const float *B, int ldb, float beta, float *C,
                       int ldc);
int nn_gemm_packed_a_rows(const nn_gemm_packed_a *pa);  /* M */
int nn_gemm_packed_a_depth(const nn_gemm_packed_a *pa); /* K */
size_t nn_gemm_packed_a_bytes(const nn_gemm_packed_a *pa); /* memory held (0 for NULL) */
void nn_gemm_packed_a_free(nn_gemm_packed_a *pa);

/* B packed by its producer straight into the panels the product with pa
 * reads (as Winograd's input transform does), saving a pass over B. It
 * starts 64-byte aligned; the panels are nr columns wide, one after the other; a panel holds K rows of
 * nr floats, or for a bf16 kernel (K + 1) / 2 rows of nr pairs of bf16
 * (rows 2p and 2p + 1 interleaved, nn_gemm_bf16_pair_row; a missing last
 * row zero); columns past N are zero. nn_gemm_packed_b_panel says whether
 * pa's kernel takes such a B of N columns (not OpenBLAS, K and N within one
 * cache block) and its nr. */
int nn_gemm_packed_b_panel(const nn_gemm_packed_a *pa, int N, int *nr, int *bf16);
size_t nn_gemm_packed_b_bytes(const nn_gemm_packed_a *pa, int N); /* 0 when not taken */
/* dst[2c], dst[2c + 1] = r0[c], r1[c] rounded to bf16 (r1 NULL: 0), c < n. */
void nn_gemm_bf16_pair_row(uint16_t *dst, const float *r0, const float *r1, int n);
/* C = alpha · op(A) · B + beta · C from a packed B; NN_ERR_INVALID when
 * nn_gemm_packed_b_panel says no. */
nn_status nn_sgemm_serial_packed_ab(const nn_gemm_packed_a *pa, const void *packed_b, int N, float alpha, float beta,
                                    float *C, int ldc);

/* The CPU's features (nn_cpu.h) with the GEMM kernel in use and the one
 * OpenBLAS chose for itself. */
void nn_cpu_get_info(nn_cpu_info *info);
/* One line for --version and verbose output: the features and the GEMM
 * kernels. */
const char *nn_cpu_describe(char *buf, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
