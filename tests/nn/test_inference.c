/* test_inference.c — ab-bin decoding (annealed mean and mode), the ab grid,
 * seeded He initialization and batched inference of the U-Net. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "testlib.h"

static void test_decoding(void) {
    enum { N = 2, Q = 5, HW = 300 };
    float bins[2 * Q] = {0, 0, 40, 10, -30, 20, 10, -50, 60, 60};
    float *logits = malloc(sizeof(float) * N * Q * HW), ab[N * 2 * HW], want[N * 2 * HW];
    fill_uniform(logits, (size_t)N * Q * HW, -4, 4, 5);
    for (int T10 = 2; T10 <= 10; T10 += 4) {
        float T = T10 / 10.0f;
        nn_decode_annealed_mean(ab, logits, bins, NULL, N, Q, HW, T);
        for (int n = 0; n < N; n++)
            for (int p = 0; p < HW; p++) {
                double z = 0, a = 0, b = 0;
                for (int q = 0; q < Q; q++) {
                    double e = exp(logits[(n * Q + q) * HW + p] / T);
                    z += e, a += e * bins[2 * q], b += e * bins[2 * q + 1];
                }
                want[(n * 2) * HW + p] = (float)(a / z);
                want[(n * 2 + 1) * HW + p] = (float)(b / z);
            }
        char name[64];
        snprintf(name, sizeof name, "annealed mean T=%.1f", T);
        check_abs(name, ab, want, N * 2 * HW, 1e-3);
    }
    nn_decode_mode(ab, logits, bins, N, Q, HW);
    for (int n = 0; n < N; n++)
        for (int p = 0; p < HW; p++) {
            int best = 0;
            for (int q = 1; q < Q; q++)
                if (logits[(n * Q + q) * HW + p] > logits[(n * Q + best) * HW + p]) best = q;
            want[(n * 2) * HW + p] = bins[2 * best], want[(n * 2 + 1) * HW + p] = bins[2 * best + 1];
        }
    check_abs("mode", ab, want, N * 2 * HW, 0.0);
    /* very small T approaches the mode */
    nn_decode_annealed_mean(ab, logits, bins, NULL, N, Q, HW, 0.01f);
    int near = 0;
    for (int i = 0; i < N * 2 * HW; i++) near += fabsf(ab[i] - want[i]) < 1.0f;
    CHECK(near > N * 2 * HW * 95 / 100, "T=0.01 is not close to the mode (%d of %d)", near, N * 2 * HW);
    /* lower T is more colourful on average */
    double chroma[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        nn_decode_annealed_mean(ab, logits, bins, NULL, N, Q, HW, k ? 0.38f : 1.0f);
        for (int n = 0; n < N; n++)
            for (int p = 0; p < HW; p++) chroma[k] += hypot(ab[n * 2 * HW + p], ab[(n * 2 + 1) * HW + p]);
    }
    printf("mean chroma T=1: %.2f, T=0.38: %.2f\n", chroma[0] / (N * HW), chroma[1] / (N * HW));
    CHECK(chroma[1] > chroma[0], "lower temperature is not more colourful");
    free(logits);
}

/* Vividness 0 divides the rebalancing weights out (bias -log w, T = 1);
 * vividness 1 is the uncorrected annealed mean at NN_VIVID_TEMPERATURE. */
static void test_vivid(void) {
    enum { Q = 4, HW = 50 };
    float bins[2 * Q] = {0, 0, 50, 0, 0, 50, -40, -40}, w[Q] = {0.5f, 2.0f, 4.0f, 1.0f}, bias[Q];
    float logits[Q * HW], ab[2 * HW], want[2 * HW];
    fill_uniform(logits, Q * HW, -2, 2, 9);
    for (int q = 0; q < Q; q++) bias[q] = -logf(w[q]);
    CHECK(nn_decode_vivid(ab, logits, bins, w, 1, Q, HW, 0.0f) == NN_OK, "decode");
    nn_decode_annealed_mean(want, logits, bins, bias, 1, Q, HW, 1.0f);
    check_abs("vividness 0 = prior-corrected mean", ab, want, 2 * HW, 1e-5);
    nn_decode_vivid(ab, logits, bins, w, 1, Q, HW, 1.0f);
    nn_decode_annealed_mean(want, logits, bins, NULL, 1, Q, HW, NN_VIVID_TEMPERATURE);
    check_abs("vividness 1 = annealed mean at T=0.38", ab, want, 2 * HW, 1e-5);
    nn_decode_vivid(ab, logits, bins, NULL, 1, Q, HW, 0.0f);
    nn_decode_annealed_mean(want, logits, bins, NULL, 1, Q, HW, 1.0f);
    check_abs("vividness 0 without weights = plain mean", ab, want, 2 * HW, 1e-5);
    CHECK(fabsf(nn_vividness_to_temperature(0.5f) - sqrtf(NN_VIVID_TEMPERATURE)) < 1e-6f, "T(0.5)");
}

static void test_grid(void) {
    nn_ab_grid g = nn_ab_grid_default();
    int ok = 1;
    for (int cell = 0; cell < g.size * g.size; cell++) {
        float a, b;
        nn_ab_grid_center(g, cell, &a, &b);
        ok &= nn_ab_grid_cell(g, a + 4.9f, b - 4.9f) == cell;
    }
    CHECK(ok, "grid centres do not map back to their cells");
    CHECK(nn_ab_grid_cell(g, -500, 500) == g.size - 1, "far values are not clamped");
    CHECK(nn_ab_grid_cell(g, 0, 0) == 11 * 23 + 11, "(0, 0) is not the centre cell");
}

static void test_init_and_batching(void) {
    nn_unet_config cfg = nn_unet_default_config(12);
    cfg.base_width = 8, cfg.depth = 3;
    nn_unet *a = NULL, *b = NULL;
    nn_error err = {0};
    CHECK(nn_unet_create(&a, &cfg, 9, 16, 16, &err) == NN_OK, "%s", err.msg);
    CHECK(nn_unet_create(&b, &cfg, 9, 16, 16, &err) == NN_OK, "%s", err.msg);
    if (!a || !b) return;
    size_t np = 0;
    nn_unet_init(a, 77);
    nn_unet_init(b, 77);
    const float *pa = nn_unet_params(a, &np); /* np set before it is used: argument order is unspecified */
    CHECK(memcmp(pa, nn_unet_params(b, NULL), np * 4) == 0, "same seed, different weights");
    nn_unet_init(b, 78);
    CHECK(memcmp(nn_unet_params(a, NULL), nn_unet_params(b, NULL), np * 4) != 0, "different seeds, same weights");
    /* He std = sqrt(2 / fan_in) on the widest layer */
    int u = 2 * cfg.depth - 1;
    const nn_unit *t = nn_unet_unit(a, u);
    const float *w = nn_unet_param(a, u, NN_UNIT_CONV_WEIGHT);
    double ss = 0;
    for (size_t i = 0; i < t->param_count[NN_UNIT_CONV_WEIGHT]; i++) ss += (double)w[i] * w[i];
    double std = sqrt(ss / t->param_count[NN_UNIT_CONV_WEIGHT]), want = sqrt(2.0 / (t->conv.c_in * 9));
    printf("He init std %.5f, expected %.5f\n", std, want);
    CHECK(fabs(std / want - 1) < 0.05, "He init std %g, expected %g", std, want);

    /* a batch of 9 gives the same logits as 9 single-image passes */
    size_t per_in = 4 * 256, per_out = 12 * 256;
    float *x = malloc(sizeof(float) * 9 * per_in), *one = malloc(sizeof(float) * 9 * per_out);
    fill_uniform(x, 9 * per_in, -1, 1, 3);
    const float *logits;
    nn_unet_forward(a, x, 9, NN_MODE_TRAIN, &logits, &err); /* non-trivial running stats */
    for (int i = 0; i < 9; i++) {
        CHECK(nn_unet_forward(a, x + i * per_in, 1, NN_MODE_EVAL, &logits, &err) == NN_OK, "%s", err.msg);
        memcpy(one + i * per_out, logits, per_out * 4);
    }
    CHECK(nn_unet_forward(a, x, 9, NN_MODE_EVAL, &logits, &err) == NN_OK, "%s", err.msg);
    check_close("batched vs single-image inference", logits, one, 9 * per_out, 1e-5);
    /* in two steps, the head a few columns at a time: the same bits */
    const float *features;
    CHECK(nn_unet_forward_features(a, x, 9, &features, &err) == NN_OK, "%s", err.msg);
    float *cols = malloc(sizeof(float) * 12 * 256), *two = malloc(sizeof(float) * 9 * per_out);
    for (int i = 0; i < 9; i++)
        for (int p0 = 0; p0 < 256; p0 += 100) { /* columns 0-99, 100-199, 200-255 */
            const int cn = 256 - p0 < 100 ? 256 - p0 : 100;
            nn_unet_head_columns(a, features + (size_t)i * cfg.base_width * 256, p0, cn, cols);
            for (int q = 0; q < 12; q++) memcpy(two + i * per_out + q * 256 + p0, cols + q * cn, cn * 4);
        }
    CHECK(nn_unet_forward(a, x, 9, NN_MODE_EVAL, &logits, &err) == NN_OK, "%s", err.msg);
    CHECK(memcmp(two, logits, 9 * per_out * 4) == 0, "the head by columns differs from the whole forward pass");
    printf("inference in two steps (features, then the head by columns) = the whole pass, bit for bit\n");
    CHECK(nn_unet_forward_features(a, x, 10, &features, &err) == NN_ERR_INVALID, "oversized batch accepted (features)");
    free(cols), free(two);
    CHECK(nn_unet_forward(a, x, 10, NN_MODE_EVAL, &logits, &err) == NN_ERR_INVALID, "oversized batch accepted");
    CHECK(nn_unet_backward(a, one, NULL, &err) == NN_ERR_INVALID, "backward after an eval pass accepted");
    nn_unet *bad = NULL;
    CHECK(nn_unet_create(&bad, &cfg, 1, 18, 16, &err) == NN_ERR_INVALID && !bad, "18 px accepted at depth 3");
    printf("model memory for batch 9 at 16x16: %.1f MB\n", nn_unet_bytes(a) / 1e6);
    free(x), free(one);
    nn_unet_free(a), nn_unet_free(b);
}

int main(void) {
    nn_set_threads(2);
    test_decoding();
    test_vivid();
    test_grid();
    test_init_and_batching();
    return test_finish("test_inference");
}
