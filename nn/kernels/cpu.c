/* cpu.c — what the CPU offers (CPUID, and what the OS saves: AVX2, FMA,
 * AVX-512, AVX512-BF16, AMX), read once. The description of the CPU with
 * the kernels in use is gemm.c's, which chooses them. */
#include "nn_cpu.h"

#include <pthread.h>
#include <string.h>

#include "../private/nn_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* The register state the OS saves (XCR0): without it an instruction set
 * the CPU has cannot be used. */
static uint64_t os_saved_state(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE)) return 0;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void x86_features(nn_cpu_info *info) {
    unsigned a, b, c, d;
    const uint64_t xcr0 = os_saved_state();
    const int ymm = (xcr0 & 0x6) == 0x6, zmm = ymm && (xcr0 & 0xe0) == 0xe0, tiles = (xcr0 & 0x60000) == 0x60000;
    if (__get_cpuid(1, &a, &b, &c, &d)) info->fma = ymm && (c & bit_FMA) != 0;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        info->avx2 = ymm && (b & bit_AVX2) != 0;
        info->avx512f = zmm && (b & bit_AVX512F) != 0;
        info->amx_bf16 = tiles && (d & (1u << 22)) != 0 && (d & (1u << 24)) != 0; /* AMX-BF16 and AMX-TILE */
    }
    if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) info->avx512_bf16 = zmm && (a & (1u << 5)) != 0;
}
#endif

/* CPUID is slow (a VM traps it): read once. */
static nn_cpu_info g_features;
static pthread_once_t g_features_once = PTHREAD_ONCE_INIT;

static void read_features(void) {
    memset(&g_features, 0, sizeof g_features);
#if defined(__x86_64__) || defined(__i386__)
    x86_features(&g_features);
#endif
}

void nn_cpu_features(nn_cpu_info *info) { *info = *nn_cpu_features_once(); }

const nn_cpu_info *nn_cpu_features_once(void) {
    pthread_once(&g_features_once, read_features);
    return &g_features;
}
