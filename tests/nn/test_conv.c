/* test_conv.c — the GEMM convolution (batched im2col + sgemm, 1×1 fast path,
 * chunking by workspace size) and Winograd F(2×2, 3×3) (forward, input and
 * weight gradients, on several thread counts) against the naive oracle on
 * many shapes; the fused activation epilogues
 * against the convolution followed by the activation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "nn_winograd_x86.h" /* nn_winograd_allow_avx512 */
#include "testlib.h"

static void compare(nn_conv2d_dims d, int N, int H, int W, int chunk_images) {
    nn_shape s = {N, d.c_in, H, W};
    int ho = nn_conv2d_out_size(H, d), wo = nn_conv2d_out_size(W, d);
    size_t nx = nn_shape_numel(s), ny = (size_t)N * d.c_out * ho * wo;
    size_t nw = (size_t)d.c_out * d.c_in * d.k * d.k;
    float *x = malloc(nx * 4), *w = malloc(nw * 4), *b = malloc(d.c_out * 4), *dy = malloc(ny * 4);
    fill_uniform(x, nx, -1, 1, 1), fill_uniform(w, nw, -1, 1, 2);
    fill_uniform(b, d.c_out, -1, 1, 3), fill_uniform(dy, ny, -1, 1, 4);
    float *y[2], *dx[2], *dw[2], *db[2];
    for (int i = 0; i < 2; i++)
        y[i] = calloc(ny, 4), dx[i] = calloc(nx, 4), dw[i] = calloc(nw, 4), db[i] = calloc(d.c_out, 4);
    nn_workspace ws;
    ws.floats = nn_conv2d_workspace_floats(d, H, W, chunk_images);
    ws.data = malloc(ws.floats * 4 + 4);
    CHECK(nn_conv2d_forward(y[0], x, w, b, s, d, ws) == NN_OK, "forward");
    CHECK(nn_conv2d_backward(dx[0], dw[0], db[0], dy, x, w, s, d, ws) == NN_OK, "backward");
    nn_conv2d_forward_naive(y[1], x, w, b, s, d);
    nn_conv2d_backward_naive(dx[1], dw[1], db[1], dy, x, w, s, d);
    char name[96];
    snprintf(name, sizeof name, "k%d s%d p%d d%d %dx%dx%dx%d->%d chunk %d", d.k, d.stride, d.pad,
             d.dilation, N, d.c_in, H, W, d.c_out, chunk_images);
    check_close(name, y[0], y[1], ny, 1e-5);
    check_close("  dx", dx[0], dx[1], nx, 1e-5);
    check_close("  dw", dw[0], dw[1], nw, 1e-5);
    check_close("  db", db[0], db[1], d.c_out, 1e-5);
    free(x), free(w), free(b), free(dy), free(ws.data);
    for (int i = 0; i < 2; i++) free(y[i]), free(dx[i]), free(dw[i]), free(db[i]);
}

/* Winograd F(2×2, 3×3) against the naive oracle, including odd sizes
 * (partial 2×2 blocks), on 1, 2 and 3 threads (other blocks). */
static void compare_winograd(int c_in, int c_out, int N, int H, int W) {
    nn_conv2d_dims d = {c_in, c_out, 3, 1, 1, 1};
    nn_shape s = {N, c_in, H, W};
    size_t nx = nn_shape_numel(s), ny = (size_t)N * c_out * H * W, nw = (size_t)c_out * c_in * 9;
    float *x = malloc(nx * 4), *w = malloc(nw * 4), *b = malloc(c_out * 4), *y = calloc(ny, 4), *ref = calloc(ny, 4);
    float *U = malloc(nn_conv2d_winograd_weight_floats(d) * 4);
    fill_uniform(x, nx, -1, 1, 11), fill_uniform(w, nw, -1, 1, 12), fill_uniform(b, c_out, -1, 1, 13);
    const nn_workspace ws = {NULL, 0, NN_PRECISION_FP32}; /* Winograd needs none */
    nn_conv2d_winograd_weights(U, w, d);
    CHECK(nn_conv2d_forward_winograd(y, x, U, b, s, d, ws) == NN_OK, "winograd forward");
    nn_conv2d_forward_naive(ref, x, w, b, s, d);
    char name[96];
    snprintf(name, sizeof name, "winograd %dx%dx%dx%d->%d", N, c_in, H, W, c_out);
    check_close(name, y, ref, ny, 1e-5);
    /* the tiles run in blocks whose size follows the thread count: every
     * output is the same sum whatever the blocks */
    float *y_other = malloc(ny * 4);
    const int threads = nn_get_threads();
    for (int t = 1; t <= 3; t += 2) {
        nn_set_threads(t);
        CHECK(nn_conv2d_forward_winograd(y_other, x, U, b, s, d, ws) == NN_OK, "winograd forward");
        CHECK(memcmp(y_other, y, ny * 4) == 0, "winograd forward on %d threads differs from %d threads", t, threads);
    }
    nn_set_threads(threads);
    free(y_other);
    /* the input gradient through the transposed weights */
    float *dy = malloc(ny * 4), *dx = malloc(nx * 4), *dx_ref = calloc(nx, 4), *dw = calloc(nw, 4);
    fill_uniform(dy, ny, -1, 1, 14);
    nn_conv2d_dims t = {c_out, c_in, 3, 1, 1, 1};
    nn_conv2d_winograd_weights_transposed(U, w, d);
    CHECK(nn_conv2d_forward_winograd(dx, dy, U, NULL, (nn_shape){N, c_out, H, W}, t, ws) == NN_OK, "winograd dx");
    nn_conv2d_backward_naive(dx_ref, dw, NULL, dy, x, w, s, d);
    check_close("  dx (transposed weights)", dx, dx_ref, nx, 1e-5);
    float *dw2 = malloc(nw * 4), *dU = malloc(nn_conv2d_winograd_weight_floats(d) * 4);
    for (size_t i = 0; i < nw; i++) dw2[i] = 0.5f; /* the gradient is added into what is there */
    CHECK(nn_conv2d_backward_weights_winograd(dw2, dU, dy, x, s, d) == NN_OK, "winograd dw");
    for (size_t i = 0; i < nw; i++) dw2[i] -= 0.5f;
    check_close("  dw (Winograd)", dw2, dw, nw, 1e-5);
    /* the weight gradient sums each thread's blocks: the same bits again
     * on the same threads, close on others */
    float *dw3 = malloc(nw * 4);
    for (int nt = 1; nt <= 3; nt++) {
        nn_set_threads(nt);
        for (size_t i = 0; i < nw; i++) dw3[i] = 0.5f;
        CHECK(nn_conv2d_backward_weights_winograd(dw3, dU, dy, x, s, d) == NN_OK, "winograd dw");
        for (size_t i = 0; i < nw; i++) dw3[i] -= 0.5f;
        if (nt == threads) CHECK(memcmp(dw3, dw2, nw * 4) == 0, "winograd dw differs on the same %d threads", nt);
        else check_close(nt == 1 ? "  dw on 1 thread" : "  dw on 3 threads", dw3, dw, nw, 1e-5);
    }
    nn_set_threads(threads);
    free(dw2), free(dw3), free(dU);
    free(x), free(w), free(b), free(y), free(ref), free(U), free(dy), free(dx), free(dx_ref), free(dw);
}

/* The AVX-512 Winograd transforms give the portable loops' bits: the
 * forward pass (with each epilogue, every row width they serve, odd
 * heights, groups of tile rows cut short) and the weight gradient, which
 * runs the input transform too. */
static void test_winograd_avx512(void) {
    if (!nn_winograd_avx512_serves(32)) {
        printf("Winograd AVX-512 transforms: this CPU has no AVX-512, skipped\n");
        return;
    }
    const int shapes[][4] = {{3, 5, 32, 32}, {2, 4, 16, 16}, {5, 3, 8, 8}, {3, 6, 4, 4}, {1, 2, 7, 8},
                             {2, 3, 5, 16}, {1, 4, 3, 4}, {2, 2, 9, 32}};
    const nn_epilogue eps[3] = {{NN_EPILOGUE_NONE, 0.0f}, {NN_EPILOGUE_RELU, 0.0f}, {NN_EPILOGUE_LEAKY_RELU, 0.2f}};
    int same = 1;
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        const int N = shapes[k][0], c = shapes[k][1], H = shapes[k][2], W = shapes[k][3];
        const nn_conv2d_dims d = {c, c + 1, 3, 1, 1, 1};
        const nn_shape s = {N, c, H, W};
        const size_t nx = nn_shape_numel(s), ny = (size_t)N * d.c_out * H * W, nw = (size_t)d.c_out * c * 9;
        float *x = malloc(nx * 4), *w = malloc(nw * 4), *b = malloc(d.c_out * 4), *U = malloc(nn_conv2d_winograd_weight_floats(d) * 4);
        float *y[2] = {malloc(ny * 4), malloc(ny * 4)}, *dy = malloc(ny * 4), *dw[2] = {calloc(nw, 4), calloc(nw, 4)};
        fill_uniform(x, nx, -1, 1, 21), fill_uniform(w, nw, -1, 1, 22), fill_uniform(b, d.c_out, -1, 1, 23);
        fill_uniform(dy, ny, -1, 1, 24);
        nn_conv2d_winograd_weights(U, w, d);
        const nn_workspace ws = {NULL, 0, NN_PRECISION_FP32};
        for (int e = 0; e < 3; e++) {
            for (int fast = 0; fast < 2; fast++) {
                nn_winograd_allow_avx512(fast);
                CHECK(nn_conv2d_forward_winograd_ep(y[fast], x, U, b, s, d, ws, eps[e]) == NN_OK, "winograd forward");
            }
            if (memcmp(y[0], y[1], ny * 4) != 0) {
                same = 0;
                CHECK(0, "AVX-512 Winograd forward %dx%dx%dx%d, epilogue %d: not the portable loops' bits", N, c, H, W, e);
            }
        }
        for (int fast = 0; fast < 2; fast++) {
            nn_winograd_allow_avx512(fast);
            float *dU = malloc(nn_conv2d_winograd_weight_floats(d) * 4);
            CHECK(nn_conv2d_backward_weights_winograd(dw[fast], dU, dy, x, s, d) == NN_OK, "winograd dw");
            free(dU);
        }
        if (memcmp(dw[0], dw[1], nw * 4) != 0) {
            same = 0;
            CHECK(0, "AVX-512 Winograd weight gradient %dx%dx%dx%d: not the portable loops' bits", N, c, H, W);
        }
        free(x), free(w), free(b), free(U), free(y[0]), free(y[1]), free(dy), free(dw[0]), free(dw[1]);
    }
    nn_winograd_allow_avx512(1);
    printf("Winograd AVX-512 transforms = the portable loops, bit for bit (8 shapes, 3 epilogues): %s\n",
           same ? "ok" : "FAILED");
}

/* The Winograd forward over two tensors concatenated along the channels
 * gives the bits of the forward over their copy, and refuses a split
 * outside the channels or a missing second tensor. */
static void test_winograd_concatenated(void) {
    const int N = 3, c_a = 5, c_b = 7, H = 8, W = 16, C = c_a + c_b;
    const nn_conv2d_dims d = {C, 6, 3, 1, 1, 1};
    const nn_shape s = {N, C, H, W};
    const size_t hw = (size_t)H * W, ny = (size_t)N * d.c_out * hw, nw = (size_t)d.c_out * C * 9;
    float *a = malloc(N * c_a * hw * 4), *b = malloc(N * c_b * hw * 4), *cat = malloc(N * C * hw * 4);
    float *w = malloc(nw * 4), *bias = malloc(d.c_out * 4), *U = malloc(nn_conv2d_winograd_weight_floats(d) * 4);
    float *y = malloc(ny * 4), *y_cat = malloc(ny * 4);
    fill_uniform(a, N * c_a * hw, -1, 1, 31), fill_uniform(b, N * c_b * hw, -1, 1, 32);
    fill_uniform(w, nw, -1, 1, 33), fill_uniform(bias, d.c_out, -1, 1, 34);
    nn_concat_forward(cat, a, b, N, c_a, c_b, (int)hw);
    nn_conv2d_winograd_weights(U, w, d);
    nn_gemm_packed_a *packed[NN_WINOGRAD_POSITIONS];
    CHECK(nn_conv2d_winograd_pack(packed, U, d, NN_PRECISION_FP32) == NN_OK, "winograd pack");
    const nn_gemm_packed_a *const *pk = (const nn_gemm_packed_a *const *)packed;
    const nn_epilogue ep = {NN_EPILOGUE_RELU, 0.0f};
    CHECK(nn_conv2d_forward_winograd_packed_ep(y_cat, cat, pk, bias, s, d, ep) == NN_OK, "winograd forward");
    CHECK(nn_conv2d_forward_winograd_packed_cat_ep(y, a, c_a, b, pk, bias, s, d, ep) == NN_OK, "winograd two inputs");
    const int same = memcmp(y, y_cat, ny * 4) == 0;
    CHECK(same, "Winograd over two inputs differs from over their concatenation");
    CHECK(nn_conv2d_forward_winograd_packed_cat_ep(y, a, C + 1, b, pk, bias, s, d, ep) == NN_ERR_INVALID,
          "a split past the channels accepted");
    CHECK(nn_conv2d_forward_winograd_packed_cat_ep(y, a, c_a, NULL, pk, bias, s, d, ep) == NN_ERR_INVALID,
          "a missing second input accepted");
    printf("Winograd over two inputs = over their concatenation, bit for bit: %s\n", same ? "ok" : "FAILED");
    nn_conv2d_winograd_packed_free(packed);
    free(a), free(b), free(cat), free(w), free(bias), free(U), free(y), free(y_cat);
}

/* Winograd F(4×4, 3×3) against the naive oracle (every row width it
 * takes, heights that leave partial tiles, an input split in two tensors,
 * each epilogue), the same bits on 1, 2 and 3 threads, and refused where
 * it does not apply. */
static void compare_winograd4(int c_in, int c_out, int N, int H, int W, int c_first) {
    const nn_conv2d_dims d = {c_in, c_out, 3, 1, 1, 1};
    const nn_shape s = {N, c_in, H, W};
    const size_t hw = (size_t)H * W, nx = nn_shape_numel(s), ny = (size_t)N * c_out * hw, nw = (size_t)c_out * c_in * 9;
    float *x = malloc(nx * 4), *w = malloc(nw * 4), *b = malloc(c_out * 4), *y = malloc(ny * 4), *ref = calloc(ny, 4);
    float *y_other = malloc(ny * 4), *U = malloc(nn_conv2d_winograd4_weight_floats(d) * 4);
    fill_uniform(x, nx, -1, 1, 41), fill_uniform(w, nw, -1, 1, 42), fill_uniform(b, c_out, -1, 1, 43);
    /* x as two tensors: its first c_first channels of each image, then the rest */
    float *first = malloc((size_t)N * c_first * hw * 4 + 4), *rest = malloc((size_t)N * (c_in - c_first) * hw * 4 + 4);
    for (int n = 0; n < N; n++) {
        memcpy(first + (size_t)n * c_first * hw, x + (size_t)n * c_in * hw, (size_t)c_first * hw * 4);
        memcpy(rest + (size_t)n * (c_in - c_first) * hw, x + ((size_t)n * c_in + c_first) * hw,
               (size_t)(c_in - c_first) * hw * 4);
    }
    nn_conv2d_winograd4_weights(U, w, d);
    nn_gemm_packed_a *packed[NN_WINOGRAD4_POSITIONS];
    CHECK(nn_conv2d_winograd4_pack(packed, U, d) == NN_OK, "winograd4 pack");
    const nn_gemm_packed_a *const *pk = (const nn_gemm_packed_a *const *)packed;
    nn_conv2d_forward_naive(ref, x, w, b, s, d);
    const nn_epilogue eps[3] = {{NN_EPILOGUE_NONE, 0.0f}, {NN_EPILOGUE_RELU, 0.0f}, {NN_EPILOGUE_LEAKY_RELU, 0.1f}};
    const int threads = nn_get_threads();
    for (int e = 0; e < 3; e++) {
        float *want = malloc(ny * 4);
        memcpy(want, ref, ny * 4);
        nn_epilogue_apply(want, ny, eps[e]);
        CHECK(nn_conv2d_forward_winograd4_packed_cat_ep(y, first, c_first, rest, pk, b, s, d, eps[e]) == NN_OK,
              "winograd4 forward");
        char name[96];
        snprintf(name, sizeof name, "winograd4 %dx%dx%dx%d->%d ep %d", N, c_in, H, W, c_out, e);
        check_close(name, y, want, ny, 2e-5);
        for (int t = 1; t <= 3; t += 2) {
            nn_set_threads(t);
            CHECK(nn_conv2d_forward_winograd4_packed_cat_ep(y_other, x, c_in, NULL, pk, b, s, d, eps[e]) == NN_OK,
                  "winograd4 forward");
            CHECK(memcmp(y_other, y, ny * 4) == 0, "winograd4 on %d threads (one input) differs from %d threads (two)",
                  t, threads);
        }
        nn_set_threads(threads);
        free(want);
    }
    nn_conv2d_winograd4_packed_free(packed);
    free(x), free(w), free(b), free(y), free(ref), free(y_other), free(U), free(first), free(rest);
}

static void test_winograd4(void) {
    if (!nn_conv2d_winograd4_applies((nn_conv2d_dims){4, 8, 3, 1, 1, 1}, 32)) {
        printf("Winograd F(4x4, 3x3): this CPU has no AVX-512, skipped\n");
        CHECK(!nn_conv2d_winograd4_applies((nn_conv2d_dims){4, 8, 3, 1, 1, 1}, 16), "F(4x4, 3x3) applies without AVX-512");
        return;
    }
    CHECK(!nn_conv2d_winograd4_applies((nn_conv2d_dims){4, 8, 3, 1, 1, 1}, 12) &&
              !nn_conv2d_winograd4_applies((nn_conv2d_dims){4, 8, 3, 1, 1, 1}, 64) &&
              !nn_conv2d_winograd4_applies((nn_conv2d_dims){4, 8, 3, 2, 1, 1}, 32) &&
              nn_conv2d_winograd4_applies((nn_conv2d_dims){4, 8, 3, 1, 1, 1}, 4),
          "F(4x4, 3x3) applies to 3x3 stride-1 convolutions over rows of 4, 8, 16 or 32 pixels only");
    compare_winograd4(5, 6, 3, 32, 32, 2);
    compare_winograd4(7, 4, 2, 16, 16, 7);
    compare_winograd4(3, 5, 5, 8, 8, 1);
    compare_winograd4(6, 3, 9, 4, 4, 3);   /* one tile an image: groups of 16 tile rows, one cut short */
    compare_winograd4(4, 4, 2, 13, 16, 2); /* a height that leaves a partial tile */
    compare_winograd4(2, 3, 1, 6, 32, 1);
    compare_winograd4(96, 32, 4, 32, 32, 64); /* a decoder level: the upsampled input and the skip connection */
    /* refused where it does not apply: a row of 12 pixels */
    const nn_conv2d_dims d = {2, 2, 3, 1, 1, 1};
    float U[NN_WINOGRAD4_POSITIONS * 4] = {0}, w[36] = {0}, x[2 * 12 * 12] = {0}, y[2 * 12 * 12];
    nn_conv2d_winograd4_weights(U, w, d);
    nn_gemm_packed_a *packed[NN_WINOGRAD4_POSITIONS];
    CHECK(nn_conv2d_winograd4_pack(packed, U, d) == NN_OK, "winograd4 pack");
    CHECK(nn_conv2d_forward_winograd4_packed_cat_ep(y, x, 2, NULL, (const nn_gemm_packed_a *const *)packed, NULL,
                                                    (nn_shape){1, 2, 12, 12}, d,
                                                    (nn_epilogue){NN_EPILOGUE_NONE, 0.0f}) == NN_ERR_INVALID,
          "F(4x4, 3x3) over rows of 12 pixels accepted");
    nn_conv2d_winograd4_packed_free(packed);
}

/* The features nn_cpu_get_info reports are the ones Linux lists for the
 * CPU (it lists only what the kernel lets programs use). */
static void test_cpu_info(void) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) {
        printf("cpu info: no /proc/cpuinfo, skipped\n");
        return;
    }
    char line[8192], flags[8200] = "";
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "flags", 5) == 0) {
            const char *list = strchr(line, ':') ? strchr(line, ':') + 1 : line;
            flags[0] = ' ';
            memcpy(flags + 1, list, strlen(list));
            flags[1 + strlen(list)] = ' ', flags[2 + strlen(list)] = '\0';
            break;
        }
    fclose(f);
    for (char *p = flags; *p; p++)
        if (*p == '\n' || *p == '\t') *p = ' ';
    nn_cpu_info info;
    nn_cpu_get_info(&info);
    const struct { const char *flag; int have; } want[] = {
        {" avx2 ", info.avx2}, {" fma ", info.fma}, {" avx512f ", info.avx512f},
        {" avx512_bf16 ", info.avx512_bf16}, {" amx_bf16 ", info.amx_bf16}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++)
        CHECK((strstr(flags, want[i].flag) != NULL) == (want[i].have != 0), "cpu feature%s: reported %d, /proc/cpuinfo %s",
              want[i].flag, want[i].have, strstr(flags, want[i].flag) ? "has it" : "does not");
    char text[256];
    printf("%s\n", nn_cpu_describe(text, sizeof text));
    CHECK(strlen(info.blas_core) > 0 && strstr(text, info.blas_core) && strstr(text, info.gemm_kernel),
          "the GEMM kernels are not named");
}

/* forward_ep with ReLU / leaky ReLU: bit-identical to forward, then the
 * activation, on the im2col, 1×1 and Winograd paths. */
/* The batch norm's backward pass behind an activation, fused, equals the
 * activation's backward pass into a buffer and then the batch norm's, bit
 * for bit. */
static void test_bn_backward_through_activation(void) {
    const nn_shape s = {3, 5, 7, 9};
    const size_t n = nn_shape_numel(s);
    float *x = malloc(n * 4), *y = malloc(n * 4), *dy = malloc(n * 4), *mid = malloc(n * 4);
    float *dx0 = calloc(n, 4), *dx1 = calloc(n, 4), mean[5], rstd[5], rm[5] = {0}, rv[5] = {1, 1, 1, 1, 1};
    float g[5], beta[5], dg0[5] = {0}, db0[5] = {0}, dg1[5] = {0}, db1[5] = {0};
    fill_uniform(x, n, -2, 2, 21), fill_uniform(dy, n, -1, 1, 22), fill_uniform(g, 5, 0.5, 1.5, 23);
    fill_uniform(beta, 5, -0.5, 0.5, 24);
    int same = 1;
    for (int kind = NN_EPILOGUE_RELU; kind <= NN_EPILOGUE_LEAKY_RELU; kind++) {
        const nn_epilogue ep = {(nn_epilogue_kind)kind, 0.1f};
        nn_batchnorm_forward_train_ep(y, mean, rstd, rm, rv, x, g, beta, s, 0.1f, 1e-5f, ep);
        memset(mid, 0, n * 4), memset(dx0, 0, n * 4), memset(dx1, 0, n * 4);
        if (kind == NN_EPILOGUE_RELU) nn_relu_backward(mid, dy, y, n);
        else nn_leaky_relu_backward(mid, dy, y, n, ep.slope);
        nn_batchnorm_backward(dx0, dg0, db0, mid, x, mean, rstd, g, s);
        nn_batchnorm_backward_ep(dx1, dg1, db1, dy, y, x, mean, rstd, g, s, ep);
        same &= memcmp(dx0, dx1, n * 4) == 0 && memcmp(dg0, dg1, sizeof dg0) == 0 && memcmp(db0, db1, sizeof db0) == 0;
    }
    printf("batch norm backward through ReLU and leaky ReLU, fused: %s\n", same ? "bit-identical" : "DIFFERENT");
    CHECK(same, "the fused batch norm backward differs from the activation's then the batch norm's");
    free(x), free(y), free(dy), free(mid), free(dx0), free(dx1);
}

static void test_epilogues(void) {
    const nn_conv2d_dims dims[3] = {{6, 5, 3, 2, 1, 1}, {7, 9, 1, 1, 0, 1}, {8, 6, 3, 1, 1, 1}};
    const char *names[3] = {"im2col", "1x1", "Winograd"};
    int all_same = 1;
    for (int c = 0; c < 3; c++)
        for (int kind = NN_EPILOGUE_RELU; kind <= NN_EPILOGUE_LEAKY_RELU; kind++) {
            const nn_conv2d_dims d = dims[c];
            const nn_shape s = {3, d.c_in, 10, 9};
            const int ho = nn_conv2d_out_size(10, d), wo = nn_conv2d_out_size(9, d);
            size_t nx = nn_shape_numel(s), ny = (size_t)3 * d.c_out * ho * wo, nw = (size_t)d.c_out * d.c_in * d.k * d.k;
            size_t nws = nn_conv2d_workspace_floats(d, 10, 9, 3);
            float *x = malloc(nx * 4), *w = malloc(nw * 4), *b = malloc(d.c_out * 4), *ws = malloc(nws * 4);
            float *y0 = malloc(ny * 4), *y1 = malloc(ny * 4), *U = malloc(nn_conv2d_winograd_weight_floats(d) * 4);
            fill_uniform(x, nx, -1, 1, 7), fill_uniform(w, nw, -1, 1, 8), fill_uniform(b, d.c_out, -1, 1, 9);
            const nn_workspace wsp = {ws, nws, NN_PRECISION_FP32};
            const nn_epilogue ep = {(nn_epilogue_kind)kind, 0.1f};
            if (c == 2) {
                nn_conv2d_winograd_weights(U, w, d);
                nn_conv2d_forward_winograd(y0, x, U, b, s, d, wsp);
                nn_conv2d_forward_winograd_ep(y1, x, U, b, s, d, wsp, ep);
            } else {
                nn_conv2d_forward(y0, x, w, b, s, d, wsp);
                nn_conv2d_forward_ep(y1, x, w, b, s, d, wsp, ep);
            }
            if (kind == NN_EPILOGUE_RELU) nn_relu_forward(y0, y0, ny);
            else nn_leaky_relu_forward(y0, y0, ny, 0.1f);
            int same = memcmp(y0, y1, ny * 4) == 0;
            CHECK(same, "%s with the %s epilogue differs from the convolution and then the activation", names[c],
                  kind == NN_EPILOGUE_RELU ? "ReLU" : "leaky ReLU");
            all_same &= same;
            free(x), free(w), free(b), free(ws), free(y0), free(y1), free(U);
        }
    printf("fused ReLU and leaky ReLU epilogues (im2col, 1x1, Winograd): %s\n",
           all_same ? "bit-identical to the separate activation" : "DIFFER");
}

int main(void) {
    nn_set_threads(2);
    test_epilogues();
    test_bn_backward_through_activation();
    test_cpu_info();
    test_winograd_avx512();
    test_winograd_concatenated();
    test_winograd4();
    CHECK(nn_conv2d_winograd_applies((nn_conv2d_dims){4, 8, 3, 1, 1, 1}) &&
              !nn_conv2d_winograd_applies((nn_conv2d_dims){4, 8, 3, 2, 1, 1}) &&
              !nn_conv2d_winograd_applies((nn_conv2d_dims){4, 8, 3, 1, 2, 2}) &&
              !nn_conv2d_winograd_applies((nn_conv2d_dims){4, 8, 1, 1, 0, 1}),
          "Winograd applies to exactly the 3×3 stride-1 pad-1 convolutions");
    compare_winograd(4, 8, 5, 8, 8);
    compare_winograd(3, 5, 2, 7, 9); /* odd sizes: partial blocks */
    compare_winograd(32, 16, 3, 32, 32);
    compare_winograd(96, 32, 2, 16, 16);
    compare_winograd(3, 2, 1, 1, 1); /* 1×1 image */
    compare_winograd(5, 6, 3, 4, 4);   /* the narrowest rows the AVX-512 transforms take: 8 tile rows a group */
    compare_winograd(4, 3, 2, 7, 16);  /* an odd height: the last tile's second row is not written */
    compare_winograd(32, 32, 64, 32, 32); /* the network's first level: many blocks */
    compare((nn_conv2d_dims){4, 8, 3, 1, 1, 1}, 5, 8, 8, 5);
    compare((nn_conv2d_dims){4, 8, 3, 1, 1, 1}, 5, 8, 8, 2); /* chunks of 2, 2, 1 */
    compare((nn_conv2d_dims){4, 8, 3, 1, 1, 1}, 5, 8, 8, 1);
    compare((nn_conv2d_dims){6, 5, 3, 2, 1, 1}, 3, 9, 7, 3);
    compare((nn_conv2d_dims){3, 4, 3, 1, 2, 2}, 2, 7, 7, 2);
    compare((nn_conv2d_dims){3, 4, 5, 2, 2, 1}, 2, 11, 6, 1);
    compare((nn_conv2d_dims){2, 3, 3, 3, 0, 1}, 2, 10, 10, 2);
    compare((nn_conv2d_dims){7, 9, 1, 1, 0, 1}, 3, 5, 6, 3);  /* 1×1 fast path */
    compare((nn_conv2d_dims){7, 9, 1, 2, 0, 1}, 3, 5, 6, 3);  /* strided 1×1: im2col */
    compare((nn_conv2d_dims){32, 16, 3, 1, 1, 1}, 4, 16, 16, 3);
    compare((nn_conv2d_dims){3, 2, 3, 1, 1, 1}, 1, 1, 1, 1);  /* 1×1 image */
    compare((nn_conv2d_dims){32, 64, 3, 2, 1, 1}, 40, 32, 32, 40); /* the strided level: chunks in cache per thread */
    /* a workspace too small for one image is an error, not an overflow */
    nn_conv2d_dims d = {4, 8, 3, 1, 1, 1};
    float x[4 * 16] = {0}, w[8 * 4 * 9] = {0}, y[8 * 16], tiny[4];
    CHECK(nn_conv2d_forward(y, x, w, NULL, (nn_shape){1, 4, 4, 4}, d, (nn_workspace){tiny, 4, NN_PRECISION_FP32}) == NN_ERR_INVALID,
          "undersized workspace accepted");
    CHECK(nn_conv2d_forward(y, x, w, NULL, (nn_shape){1, 3, 4, 4}, d, (nn_workspace){tiny, 4, NN_PRECISION_FP32}) == NN_ERR_INVALID,
          "channel mismatch accepted");
    return test_finish("test_conv");
}
