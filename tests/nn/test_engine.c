/* test_engine.c — the full-image engine shared by the plug-in and
 * `colorize-train colorize`, with a randomly initialized colorizer: no
 * visible seams at tile borders, odd and large sizes, hint placement,
 * cancellation through the flag, parameter checks, and the streaming
 * interface (rows in strips, ab rows in any order) against the whole call,
 * all in fp32; then the shipped model (the argument) in bf16 against fp32
 * where the CPU has AVX512-BF16, and a colour reference's effect (warm,
 * cool, dark colours to dark pixels, smooth and textured colours to smooth
 * and textured places) and refusals with it. Usage: test_engine MODEL.weights */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "testlib.h"

static nn_colorizer *make_colorizer(int with_rebalance) {
    nn_unet_config cfg = nn_unet_default_config(40);
    cfg.base_width = 8;
    nn_unet *net = NULL;
    nn_error err = {0};
    if (nn_unet_create(&net, &cfg, 1, 32, 32, &err) != NN_OK) return NULL;
    nn_unet_init(net, 11);
    /* non-trivial running statistics, so the folded network is generic */
    float x[4 * 1024];
    fill_uniform(x, sizeof x / 4, -1, 1, 5);
    const float *logits;
    nn_unet_forward(net, x, 1, NN_MODE_TRAIN, &logits, &err);
    nn_weights w;
    nn_weights_init(&w);
    nn_unet_to_weights(net, &w);
    uint32_t bins[40];
    for (int q = 0; q < 40; q++) bins[q] = (uint32_t)(5 * 23 + 3 + (q / 8) * 46 + (q % 8) * 2);
    float rebalance[40];
    for (int q = 0; q < 40; q++) rebalance[q] = 0.5f + 0.05f * q;
    nn_ab_metadata_set(&w, nn_ab_grid_default(), bins, with_rebalance ? rebalance : NULL, 40, 0.5f);
    nn_colorizer *c = NULL;
    if (nn_colorizer_from_weights(&c, &w, "random.weights", 64, 32, &err) != NN_OK)
        fprintf(stderr, "colorizer: %s\n", err.msg);
    nn_weights_free(&w);
    nn_unet_free(net);
    return c;
}

/* A textured L plane: smooth gradients, stripes and blobs. */
static float *make_L(int w, int h) {
    float *L = malloc(sizeof(float) * (size_t)w * h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            L[(size_t)y * w + x] = 50.0f + 30.0f * sinf(x * 0.05f) * cosf(y * 0.07f) + 10.0f * ((x / 9 + y / 13) % 2);
    return L;
}

static void test_seams(nn_colorizer *c) {
    const int w = 256, h = 160; /* at resolution 256 the working image is the image */
    float *L = make_L(w, h), *ab = malloc(sizeof(float) * 2 * w * h);
    nn_engine_params p = nn_engine_default_params();
    nn_error err = {0};
    CHECK(nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    /* tiles start every 16 px; a seam would show as a jump between columns
     * 16k-1 and 16k (and rows likewise) */
    double border = 0, inside = 0;
    int nb = 0, ni = 0;
    for (int ch = 0; ch < 2; ch++)
        for (int y = 0; y < h; y++)
            for (int x = 0; x + 1 < w; x++) {
                double d = fabs(ab[(size_t)ch * w * h + y * w + x + 1] - ab[(size_t)ch * w * h + y * w + x]);
                if ((x + 1) % 16 == 0) border += d, nb++;
                else inside += d, ni++;
            }
    border /= nb, inside /= ni;
    printf("ab jump across tile borders %.4f, inside tiles %.4f\n", border, inside);
    CHECK(border <= 1.1 * inside, "seams: %.4f across tile borders vs %.4f inside", border, inside);
    free(L), free(ab);
}

static void test_sizes(nn_colorizer *c) {
    const int sizes[][2] = {{1, 1}, {7, 5}, {33, 33}, {1000, 17}, {17, 1000}, {3000, 2000}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        int w = sizes[i][0], h = sizes[i][1];
        float *L = make_L(w, h), *ab = malloc(sizeof(float) * 2 * (size_t)w * h);
        for (size_t k = 0; k < 2 * (size_t)w * h; k++) ab[k] = NAN;
        nn_engine_params p = nn_engine_default_params();
        nn_error err = {0};
        nn_status st = nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab, NULL, NULL, NULL, &err);
        int finite = 1;
        for (size_t k = 0; k < 2 * (size_t)w * h; k++) finite &= isfinite(ab[k]) && fabsf(ab[k]) < 200.0f;
        int ww, wh;
        nn_engine_working_size(w, h, p.resolution, &ww, &wh);
        printf("%4d x %-4d -> working %3d x %-3d: %s\n", w, h, ww, wh, st == NN_OK && finite ? "ok" : "FAILED");
        CHECK(st == NN_OK && finite, "%dx%d: %s", w, h, st ? err.msg : "non-finite ab");
        free(L), free(ab);
    }
}


/* A hint changes the colour near its place more than far away, and only
 * hinted pixels (mask > 0.5) count. */
static void test_hints(nn_colorizer *c) {
    const int w = 200, h = 120;
    float *L = make_L(w, h), *ab0 = malloc(sizeof(float) * 2 * w * h), *ab1 = malloc(sizeof(float) * 2 * w * h);
    float *hab = calloc(2 * (size_t)w * h, sizeof(float)), *mask = calloc((size_t)w * h, sizeof(float));
    nn_engine_params p = nn_engine_default_params();
    p.hint_reach = 0.0f; /* the network's own locality (propagation: test_propagate) */
    nn_error err = {0};
    CHECK(nn_engine_colorize(c, L, w, h, hab, mask, &p, ab0, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    for (int y = 0; y < h; y++) /* a hint with mask 0.4 is ignored */
        for (int x = 0; x < w; x++) mask[y * w + x] = 0.4f, hab[y * w + x] = 80.0f;
    CHECK(nn_engine_colorize(c, L, w, h, hab, mask, &p, ab1, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    CHECK(memcmp(ab0, ab1, sizeof(float) * 2 * w * h) == 0, "pixels with mask 0.4 acted as hints");
    memset(mask, 0, sizeof(float) * w * h);
    for (int y = 50; y < 56; y++)
        for (int x = 150; x < 156; x++) mask[y * w + x] = 1.0f, hab[y * w + x] = 80.0f, hab[(size_t)w * h + y * w + x] = 60.0f;
    CHECK(nn_engine_colorize(c, L, w, h, hab, mask, &p, ab1, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    double near = 0, far = 0;
    int nn_ = 0, nf = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double d = fabs(ab1[y * w + x] - ab0[y * w + x]) + fabs(ab1[w * h + y * w + x] - ab0[w * h + y * w + x]);
            double dist = hypot(x - 152.5, y - 52.5);
            if (dist < 10) near += d, nn_++;
            else if (dist > 80) far += d, nf++;
        }
    near /= nn_, far /= nf;
    printf("hint at (150..155, 50..55): mean |d ab| %.3f near it, %.4f far from it\n", near, far);
    CHECK(near > 0.05 && near > 20 * far, "the hint acted at the wrong place (near %.3f, far %.4f)", near, far);
    free(L), free(ab0), free(ab1), free(hab), free(mask);
}

static volatile int g_cancel;

static void cancel_halfway(double fraction, void *user) {
    (*(int *)user)++;
    if (fraction > 0.3) g_cancel = 1;
}

static void test_cancel_and_params(nn_colorizer *c) {
    const int w = 800, h = 600;
    float *L = make_L(w, h), *ab = malloc(sizeof(float) * 2 * w * h);
    nn_engine_params p = nn_engine_default_params();
    p.resolution = 800;
    nn_error err = {0};
    int calls = 0;
    g_cancel = 0;
    nn_status st = nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab, cancel_halfway, &calls, &g_cancel, &err);
    printf("cancel after %d progress calls: %s\n", calls, nn_status_name(st));
    CHECK(st == NN_ERR_CANCELLED && calls >= 1, "cancel: status %d after %d calls", st, calls);
    g_cancel = 1;
    CHECK(nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab, NULL, NULL, &g_cancel, &err) == NN_ERR_CANCELLED,
          "a raised flag did not cancel");
    nn_engine_params bad = p;
    bad.resolution = 0;
    CHECK(nn_engine_colorize(c, L, w, h, NULL, NULL, &bad, ab, NULL, NULL, NULL, &err) == NN_ERR_INVALID &&
              strstr(err.msg, "resolution"), "resolution 0: %s", err.msg);
    bad = p, bad.saturation = 2.5f;
    CHECK(nn_engine_colorize(c, L, w, h, NULL, NULL, &bad, ab, NULL, NULL, NULL, &err) == NN_ERR_INVALID, "saturation 2.5");
    bad = p, bad.vividness = -0.1f;
    CHECK(nn_engine_colorize(c, L, w, h, NULL, NULL, &bad, ab, NULL, NULL, NULL, &err) == NN_ERR_INVALID, "vividness -0.1");
    bad = p, bad.hint_reach = NAN;
    CHECK(nn_engine_colorize(c, L, w, h, NULL, NULL, &bad, ab, NULL, NULL, NULL, &err) == NN_ERR_INVALID &&
              strstr(err.msg, "hint reach"), "hint reach NaN: %s", err.msg);
    /* saturation scales chroma; 0 gives grey */
    float *ab2 = malloc(sizeof(float) * 2 * w * h);
    p.resolution = 256;
    nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab, NULL, NULL, NULL, &err);
    p.saturation = 2.0f;
    nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab2, NULL, NULL, NULL, &err);
    double ratio_err = 0;
    for (int i = 0; i < 2 * w * h; i++) ratio_err = fmax(ratio_err, fabs(ab2[i] - 2.0f * ab[i]));
    CHECK(ratio_err < 1e-3, "saturation 2 is not twice the chroma (%g)", ratio_err);
    p.saturation = 0.0f;
    nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab2, NULL, NULL, NULL, &err);
    int grey = 1;
    for (int i = 0; i < 2 * w * h; i++) grey &= ab2[i] == 0.0f;
    CHECK(grey, "saturation 0 is not grey");
    free(L), free(ab), free(ab2);
}

/* The streaming interface: strips of any height give bit-identical ab to
 * the whole-plane call (with hints), rows out of order and a prediction
 * before every row is in are refused, and the working size is reported. */
static void test_streaming(nn_colorizer *c) {
    const int w = 300, h = 211;
    const size_t n = (size_t)w * h;
    float *L = make_L(w, h), *whole = malloc(sizeof(float) * 2 * n), *streamed = malloc(sizeof(float) * 2 * n);
    float *hab = calloc(2 * n, sizeof(float)), *mask = calloc(n, sizeof(float));
    for (int y = 40; y < 60; y++)
        for (int x = 100; x < 130; x++) {
            size_t i = (size_t)y * w + x;
            hab[i] = 40.0f, hab[n + i] = 20.0f, mask[i] = 1.0f;
        }
    nn_engine_params p = nn_engine_default_params();
    p.resolution = 128;
    nn_error err = {0};
    CHECK(nn_engine_colorize(c, L, w, h, hab, mask, &p, whole, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    nn_engine *e = NULL;
    CHECK(nn_engine_begin(&e, w, h, &p, &err) == NN_OK, "%s", err.msg);
    if (!e) return;
    int ww, wh;
    nn_engine_get_working_size(e, &ww, &wh);
    CHECK(ww == 128 && wh == 90, "working size %d×%d, expected 128×90", ww, wh);
    CHECK(nn_engine_add_rows(e, 5, 3, L + 5 * w, NULL, NULL, NULL, &err) == NN_ERR_INVALID, "rows out of order accepted");
    int y = 0, step = 1;
    while (y < h) { /* strips of 1, 2, 3, ... rows */
        int rows = step < h - y ? step : h - y;
        size_t o = (size_t)y * w;
        CHECK(nn_engine_add_rows(e, y, rows, L + o, hab + o, hab + n + o, mask + o, &err) == NN_OK, "%s", err.msg);
        y += rows, step++;
        if (y == 100) CHECK(nn_engine_predict(e, c, NULL, NULL, NULL, &err) == NN_ERR_INVALID, "predicted with rows missing");
    }
    CHECK(nn_engine_predict(e, c, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    for (y = h - 1; y >= 0; y -= 7) { /* any order, strips of 7 */
        int y0 = y - 6 < 0 ? 0 : y - 6;
        size_t o = (size_t)y0 * w;
        nn_engine_ab_rows(e, y0, y - y0 + 1, L + o, streamed + o, streamed + n + o);
    }
    CHECK(memcmp(whole, streamed, sizeof(float) * 2 * n) == 0, "streamed ab differs from the whole-plane call");
    printf("streaming: strips of 1..%d rows, ab bit-identical to the whole-plane call: %s\n", step,
           memcmp(whole, streamed, sizeof(float) * 2 * n) == 0 ? "yes" : "NO");
    nn_engine_free(e);
    free(L), free(whole), free(streamed), free(hab), free(mask);
}

/* The colour a new point keeps (nn_engine_colour_at) is the region
 * sampler's one pixel at that place, guided by the working L there, before
 * saturation: the same at saturation 1, and divided by it at 1.5. */
static void colour_at_matches_region(nn_engine *e) {
    const double at[3][2] = {{10.5, 7.25}, {80, 50}, {150.75, 93.5}};
    float worst = 0.0f;
    nn_error err = {0};
    for (int k = 0; k < 2; k++) {
        const float saturation = k ? 1.5f : 1.0f;
        nn_engine_set_saturation(e, saturation);
        for (int i = 0; i < 3; i++) {
            float ab[2], a, b, L = nn_engine_lightness_at(e, at[i][0], at[i][1]);
            CHECK(nn_engine_colour_at(e, at[i][0], at[i][1], ab, &err) == NN_OK &&
                      nn_engine_ab_region(e, at[i][0] - 0.5, at[i][1] - 0.5, 1, 1, 1, 1, &L, &a, &b, &err) == NN_OK,
                  "%s", err.msg);
            worst = fmaxf(worst, fmaxf(fabsf(ab[0] * saturation - a), fabsf(ab[1] * saturation - b)));
        }
    }
    printf("a new point's colour against the region sampler: at most %.2g apart\n", worst);
    CHECK(worst < 1e-4f, "nn_engine_colour_at differs from the colour shown by %g", worst);
    nn_engine_set_saturation(e, 1.0f);
}

/* The preview's region sampler: on the full-resolution grid it is the
 * result itself (bit-identical to ab rows, also for an offset crop); a
 * zoomed region stays between its neighbours' values. Saturation can be
 * changed without a new prediction. */
static void test_region(nn_colorizer *c) {
    const int w = 160, h = 100;
    const size_t n = (size_t)w * h;
    float *L = make_L(w, h), *ab = malloc(sizeof(float) * 2 * n);
    nn_engine_params p = nn_engine_default_params();
    p.resolution = 64;
    nn_error err = {0};
    nn_engine *e = NULL;
    CHECK(nn_engine_begin(&e, w, h, &p, &err) == NN_OK, "%s", err.msg);
    if (!e) return;
    float a[64 * 40], b[64 * 40], Lc[64 * 40];
    CHECK(nn_engine_ab_region(e, 0, 0, 1, 1, 8, 8, L, a, b, &err) == NN_ERR_INVALID, "region before predict accepted");
    CHECK(nn_engine_add_rows(e, 0, h, L, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    CHECK(nn_engine_predict(e, c, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    nn_engine_ab_rows(e, 0, h, L, ab, ab + n);
    for (int y = 0; y < 40; y++) memcpy(Lc + y * 64, L + (size_t)(30 + y) * w + 50, sizeof(float) * 64);
    CHECK(nn_engine_ab_region(e, 50, 30, 1, 1, 64, 40, Lc, a, b, &err) == NN_OK, "%s", err.msg);
    int same = 1;
    for (int y = 0; y < 40; y++)
        for (int x = 0; x < 64; x++) {
            size_t i = (size_t)(30 + y) * w + 50 + x;
            same &= a[y * 64 + x] == ab[i] && b[y * 64 + x] == ab[n + i];
        }
    CHECK(same, "the region at step 1 differs from the result's rows");
    printf("region sampler: a crop at step 1 bit-identical to the result: %s\n", same ? "yes" : "NO");
    for (int i = 0; i < 64 * 40; i++) Lc[i] = 50.0f;
    CHECK(nn_engine_ab_region(e, 50, 30, 0.25, 0.3, 64, 40, Lc, a, b, &err) == NN_OK, "%s", err.msg);
    float lo = 1e9f, hi = -1e9f, zlo = 1e9f, zhi = -1e9f;
    for (int y = 28; y < 44; y++)
        for (int x = 48; x < 68; x++) lo = fminf(lo, ab[(size_t)y * w + x]), hi = fmaxf(hi, ab[(size_t)y * w + x]);
    for (int i = 0; i < 64 * 40; i++) zlo = fminf(zlo, a[i]), zhi = fmaxf(zhi, a[i]);
    CHECK(zlo >= lo - 1.0f && zhi <= hi + 1.0f, "a zoomed region left its neighbourhood's range");
    colour_at_matches_region(e);
    nn_engine_set_saturation(e, 0.0f);
    nn_engine_ab_rows(e, 0, 1, L, ab, ab + n);
    CHECK(ab[0] == 0.0f && ab[n] == 0.0f, "saturation 0 after predict left colour");
    nn_engine_free(e);
    free(L), free(ab);
}

/* A broad stroke keeps its colour inside (it is thinned to training-like
 * hints for the network and painted where it lies), and the result never
 * leaves the colours of its neighbourhood (no guided-filter overshoot). */
static void test_stroke(nn_colorizer *c) {
    const int w = 256, h = 192;
    const size_t n = (size_t)w * h;
    float *L = make_L(w, h), *ab = malloc(sizeof(float) * 2 * n);
    float *hab = calloc(2 * n, sizeof(float)), *mask = calloc(n, sizeof(float));
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (hypot(x - 128, y - 96) <= 40) hab[(size_t)y * w + x] = 40.0f, hab[n + (size_t)y * w + x] = 30.0f, mask[(size_t)y * w + x] = 1;
    nn_engine_params p = nn_engine_default_params();
    nn_error err = {0};
    CHECK(nn_engine_colorize(c, L, w, h, hab, mask, &p, ab, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    double kept = 0, hue = 0;
    int cnt = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (hypot(x - 128, y - 96) > 20) continue;
            size_t i = (size_t)y * w + x;
            float want[3] = {L[i], 40.0f, 30.0f}, got[3] = {L[i], ab[i], ab[n + i]};
            nn_lab_fit_gamut(want, 1);
            nn_lab_fit_gamut(got, 1);
            kept += hypotf(got[1], got[2]) / hypotf(want[1], want[2]);
            double dh = fabs(atan2(got[2], got[1]) - atan2(want[2], want[1])) * 180 / M_PI;
            hue += dh > 180 ? 360 - dh : dh;
            cnt++;
        }
    kept /= cnt, hue /= cnt;
    printf("stroke disc of radius 40: %.0f %% of its chroma kept inside, mean hue error %.1f deg\n", 100 * kept, hue);
    CHECK(kept >= 0.7 && hue <= 20, "a broad stroke lost its colour (%.2f of its chroma, %.1f deg)", kept, hue);
    float amax = 0;
    for (size_t i = 0; i < 2 * n; i++) amax = fmaxf(amax, fabsf(ab[i]));
    CHECK(amax <= NN_AB_SCALE, "ab reached %.1f: the upsampling overshoots", amax);
    free(L), free(ab), free(hab), free(mask);
}

/* Point hints: checked positions, their colour where they are; the
 * suggestions are distinct, ordered and separated. */
static void test_points(nn_colorizer *c) {
    const int w = 128, h = 96;
    const size_t n = (size_t)w * h;
    float *L = make_L(w, h), *ab0 = malloc(sizeof(float) * 2 * n), *ab1 = malloc(sizeof(float) * 2 * n);
    nn_engine_params p = nn_engine_default_params();
    p.hint_reach = 0.0f; /* the network's own locality (propagation: test_propagate) */
    nn_error err = {0};
    nn_engine *e0 = NULL, *e1 = NULL;
    CHECK(nn_engine_begin(&e0, w, h, &p, &err) == NN_OK && nn_engine_begin(&e1, w, h, &p, &err) == NN_OK, "%s", err.msg);
    if (!e0 || !e1) return;
    CHECK(nn_engine_add_point_hint(e1, w, 10, 10, 10, &err) == NN_ERR_INVALID, "a point outside the image accepted");
    CHECK(nn_engine_add_point_hint(e1, 64, 48, 0, -60, &err) == NN_OK, "%s", err.msg);
    CHECK(nn_engine_add_rows(e0, 0, h, L, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    CHECK(nn_engine_add_rows(e1, 0, h, L, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    CHECK(nn_engine_predict(e0, c, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    CHECK(nn_engine_predict(e1, c, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    CHECK(nn_engine_add_point_hint(e1, 10, 10, 10, 10, &err) == NN_ERR_INVALID, "a point after predict accepted");
    nn_engine_ab_rows(e0, 0, h, L, ab0, ab0 + n);
    nn_engine_ab_rows(e1, 0, h, L, ab1, ab1 + n);
    /* the test network is random: the hint must act at its place, not elsewhere */
    size_t at = (size_t)48 * w + 64, corner = 0;
    float near = fabsf(ab1[n + at] - ab0[n + at]) + fabsf(ab1[at] - ab0[at]);
    float far = fabsf(ab1[n + corner] - ab0[n + corner]) + fabsf(ab1[corner] - ab0[corner]);
    printf("point hint at (64, 48): |d ab| %.3f there, %.4f in the far corner\n", near, far);
    CHECK(near > 0.05f && near > 10 * far, "the point hint did not act at its place (%.3f, far %.4f)", near, far);
    float sug[2 * 5], prob[5];
    int found = 0;
    CHECK(nn_engine_suggest(e1, c, 64, 48, 5, sug, prob, &found, &err) == NN_OK, "%s", err.msg);
    CHECK(found >= 2, "only %d suggestions", found);
    for (int i = 1; i < found; i++) {
        CHECK(prob[i] <= prob[i - 1], "suggestions out of order");
        for (int j = 0; j < i; j++)
            CHECK(hypotf(sug[2 * i] - sug[2 * j], sug[2 * i + 1] - sug[2 * j + 1]) >= NN_SUGGESTION_SEPARATION,
                  "suggestions %d and %d are too close", i, j);
    }
    printf("suggestions at (64, 48): %d, most likely ab (%.0f, %.0f) p=%.2f\n", found, sug[0], sug[1], prob[0]);
    /* the point's own hint is left out of the tile and of the scene pass:
     * with it as the only hint, the suggestions are those of no hints */
    float sug0[2 * 5], prob0[5];
    int found0 = 0;
    CHECK(nn_engine_suggest(e0, c, 64, 48, 5, sug0, prob0, &found0, &err) == NN_OK, "%s", err.msg);
    CHECK(found0 == found && memcmp(sug0, sug, sizeof(float) * 2 * found) == 0 &&
              memcmp(prob0, prob, sizeof(float) * found) == 0,
          "the point's own hint reached its suggestions");
    nn_engine_free(e0), nn_engine_free(e1);
    free(L), free(ab0), free(ab1);
}

/* The scene pass against a naive oracle: area-shrunk L, the network on
 * the whole scene as one tile, log-softmax minus log rebalance and log
 * prior, bilinear
 * at each tile pixel, added with the weight. Then the engine: a working
 * image no larger than the scene is unchanged by the weight, a larger one
 * is changed, and bad scene parameters are refused by name. */
/* The oracle's scene pass: the working image shrunk to gw×gh by area,
 * through the network as one tile, log-softmax minus the log rebalancing
 * weights and the log prior; (Q, gh, gw), malloc'd. */
static double *scene_oracle_logp(nn_colorizer *c, const float *L, int w, int h, int gw, int gh) {
    const int T = 32, tp = T * T, Q = c->ab.num_bins;
    nn_error err = {0};
    float gL[32 * 21], in[4 * 1024];
    for (int gy = 0; gy < gh; gy++)
        for (int gx = 0; gx < gw; gx++) {
            int x0 = gx * w / gw, x1 = (gx + 1) * w / gw, y0 = gy * h / gh, y1 = (gy + 1) * h / gh;
            double sum = 0;
            for (int y = y0; y < y1; y++)
                for (int x = x0; x < x1; x++) sum += L[y * w + x];
            gL[gy * gw + gx] = (float)(sum / ((x1 - x0) * (y1 - y0)));
        }
    for (int ty = 0; ty < T; ty++)
        for (int tx = 0; tx < T; tx++) {
            int sx = tx < gw ? tx : gw - 1, sy = ty < gh ? ty : gh - 1;
            in[ty * T + tx] = gL[sy * gw + sx] / 50.0f - 1.0f;
            in[tp + ty * T + tx] = in[2 * tp + ty * T + tx] = in[3 * tp + ty * T + tx] = 0.0f;
        }
    const float *logits;
    CHECK(nn_colorizer_logits(c, in, 1, &logits, &err) == NN_OK, "logits: %s", err.msg);
    double *logp = malloc(sizeof(double) * Q * gw * gh), log_prior[64], inv_sum = 0;
    /* the prior the rebalancing weights came from: w_q ∝ 1 / (p_q / 2 + 1 / (2Q)) at λ = 0.5 */
    for (int q = 0; q < Q; q++) inv_sum += 1.0 / c->ab.rebalance[q];
    for (int q = 0; q < Q; q++) log_prior[q] = log(fmax(2.0 * (1.0 / c->ab.rebalance[q] / inv_sum - 0.5 / Q), 1e-6));
    for (int g = 0; g < gw * gh; g++) {
        int d = (g / gw) * T + g % gw;
        double mx = -1e30, sum = 0;
        for (int q = 0; q < Q; q++) mx = fmax(mx, logits[q * tp + d]);
        for (int q = 0; q < Q; q++) sum += exp(logits[q * tp + d] - mx);
        for (int q = 0; q < Q; q++) logp[q * gw * gh + g] = logits[q * tp + d] - mx - log(sum) - log(c->ab.rebalance[q]) - log_prior[q];
    }
    return logp;
}

/* The scene pass against the naive oracle: its size, and a tile fused
 * with it (bilinear) */
static void test_scene_oracle(nn_colorizer *c) {
    const int w = 96, h = 64, size = 32, T = 32, tp = T * T, Q = c->ab.num_bins;
    float *L = make_L(w, h);
    nn_scene *s = NULL;
    nn_error err = {0};
    CHECK(nn_scene_create(&s, c, L, NULL, w, h, size, &err) == NN_OK, "scene: %s", err.msg);
    if (!s) return;
    int gw, gh;
    nn_scene_size(s, &gw, &gh);
    CHECK(gw == 32 && gh == 21, "scene size %dx%d, expected 32x21", gw, gh);
    double *logp = scene_oracle_logp(c, L, w, h, gw, gh);
    /* a tile of the working image, fused, against the oracle's bilinear */
    float *tile_logits = malloc(sizeof(float) * Q * tp), *fused = malloc(sizeof(float) * Q * tp);
    fill_uniform(tile_logits, (size_t)Q * tp, -3, 3, 9);
    const int x0 = 64, y0 = 32; /* the last tile: its right and bottom edges clamp */
    const float weight = 1.5f;
    nn_scene_add_to_tile(s, weight, x0, y0, T, tile_logits, fused);
    double worst = 0;
    for (int ty = 0; ty < T; ty++)
        for (int tx = 0; tx < T; tx++) {
            int x = x0 + tx < w ? x0 + tx : w - 1, y = y0 + ty < h ? y0 + ty : h - 1;
            double fx = fmin(fmax((x + 0.5) * gw / w - 0.5, 0), gw - 1), fy = fmin(fmax((y + 0.5) * gh / h - 0.5, 0), gh - 1);
            int xa = (int)fx, ya = (int)fy, xb = xa + 1 < gw ? xa + 1 : xa, yb = ya + 1 < gh ? ya + 1 : ya;
            double ax = fx - xa, ay = fy - ya;
            for (int q = 0; q < Q; q++) {
                const double *pl = logp + q * gw * gh;
                double v = (1 - ay) * ((1 - ax) * pl[ya * gw + xa] + ax * pl[ya * gw + xb]) +
                           ay * ((1 - ax) * pl[yb * gw + xa] + ax * pl[yb * gw + xb]);
                double want = tile_logits[q * tp + ty * T + tx] + weight * v;
                worst = fmax(worst, fabs(want - fused[q * tp + ty * T + tx]));
            }
        }
    printf("scene pass: %dx%d, fused tile against the oracle: max error %.2e\n", gw, gh, worst);
    CHECK(worst < 1e-3, "the fused tile is %g from the oracle", worst);
    free(logp), free(tile_logits), free(fused);
    nn_scene_free(s);
    free(L);
}

/* The scene pass in the engine: no effect when the working image is no
 * larger than the scene, an effect otherwise, bad parameters refused. */
static void test_scene_in_engine(nn_colorizer *c) {
    nn_error err = {0};
    const int W = 300, H = 200;
    float *big = make_L(W, H), *ab0 = malloc(sizeof(float) * 2 * W * H), *ab1 = malloc(sizeof(float) * 2 * W * H);
    nn_engine_params p = nn_engine_default_params();
    p.resolution = 64, p.scene_size = 64, p.scene_weight = 0.0f;
    nn_engine_colorize(c, big, W, H, NULL, NULL, &p, ab0, NULL, NULL, NULL, &err);
    p.scene_weight = 2.0f;
    nn_engine_colorize(c, big, W, H, NULL, NULL, &p, ab1, NULL, NULL, NULL, &err);
    CHECK(memcmp(ab0, ab1, sizeof(float) * 2 * W * H) == 0, "a working image no larger than the scene changed with the weight");
    p.resolution = 256, p.scene_size = 32, p.scene_weight = 0.0f;
    nn_engine_colorize(c, big, W, H, NULL, NULL, &p, ab0, NULL, NULL, NULL, &err);
    p.scene_weight = 2.0f;
    CHECK(nn_engine_colorize(c, big, W, H, NULL, NULL, &p, ab1, NULL, NULL, NULL, &err) == NN_OK, "fused: %s", err.msg);
    double moved = 0;
    for (int i = 0; i < 2 * W * H; i++) moved = fmax(moved, fabs(ab1[i] - ab0[i]));
    printf("scene weight 2 moves ab by up to %.2f\n", moved);
    CHECK(moved > 0.5, "the scene pass changed nothing (%g)", moved);
    nn_engine_params bad = p;
    bad.scene_weight = -1.0f;
    CHECK(nn_engine_colorize(c, big, W, H, NULL, NULL, &bad, ab1, NULL, NULL, NULL, &err) == NN_ERR_INVALID &&
              strstr(err.msg, "scene weight"), "scene weight -1: %s", err.msg);
    bad = p, bad.scene_size = 8;
    CHECK(nn_engine_colorize(c, big, W, H, NULL, NULL, &bad, ab1, NULL, NULL, NULL, &err) == NN_ERR_INVALID &&
              strstr(err.msg, "scene size"), "scene size 8: %s", err.msg);
    free(big), free(ab0), free(ab1);
}

static void test_scene(nn_colorizer *c) {
    test_scene_oracle(c);
    test_scene_in_engine(c);
}

/* Point hints as text: good lists, each kind of bad item named, the limit. */
static void test_points_text(void) {
    nn_point_text p[NN_MAX_POINT_HINTS];
    int n = -1;
    nn_error err = {0};
    CHECK(nn_points_parse(" 10,20,#ff0000; 3.5 , 4 ,#00Fa0b;;", p, NN_MAX_POINT_HINTS, &n, &err) == NN_OK && n == 2 &&
              p[0].x == 10 && p[0].y == 20 && p[0].rgb[0] == 255 && p[0].rgb[1] == 0 && p[1].x == 3.5 && p[1].y == 4 &&
              p[1].rgb[1] == 0xfa && p[1].rgb[2] == 0x0b,
          "a good list: %d points (%s)", n, err.msg);
    CHECK(nn_points_parse("", p, NN_MAX_POINT_HINTS, &n, &err) == NN_OK && n == 0, "an empty list");
    const struct {
        const char *item, *why;
    } bad[] = {{"1,2", "fewer than three fields"}, {"1,2,#ggg000", "not #rrggbb"},
               {"-1,2,#000000", "x is negative: outside the image"}, {"3,-0.5,#000000", "y is negative"},
               {"1,2,#000000,5", "more than three fields"}, {"1e3,2,#000000", "x is not a number"},
               {"1,,#000000", "y is not a number"}, {"1.2.3,4,#000000", "x is not a number"},
               {"1,2,000000", "not #rrggbb"}, {"1,2,#0000000", "not #rrggbb"}, {"1,2,red", "not #rrggbb"}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[64], want[96];
        snprintf(text, sizeof text, "5,5,#102030; %s ;6,6,#405060", bad[i].item);
        snprintf(want, sizeof want, "point hint 2 '%s': ", bad[i].item);
        CHECK(nn_points_parse(text, p, NN_MAX_POINT_HINTS, &n, &err) == NN_ERR_INVALID && n == 0 &&
                  strncmp(err.msg, want, strlen(want)) == 0 && strstr(err.msg, bad[i].why),
              "'%s' accepted or misnamed (%s)", bad[i].item, err.msg);
    }
    /* a long bad item is cut before a character that would not fit, not inside it */
    char longer[256] = "1,2,#";
    for (int i = 0; i < 40; i++) strcat(longer, "\xc3\xa9"); /* é */
    CHECK(nn_points_parse(longer, p, NN_MAX_POINT_HINTS, &n, &err) == NN_ERR_INVALID && strlen(err.msg) < 160,
          "a long item was echoed whole: %s", err.msg);
    const char *quote = strchr(err.msg, '\''), *end = strstr(err.msg, "\xe2\x80\xa6'");
    CHECK(quote && end && (end - quote - 1 - 5) % 2 == 0, "the item was cut inside a character: %s", err.msg);
    char many[300 * 16] = "";
    for (int i = 0; i <= NN_MAX_POINT_HINTS; i++) strcat(many, "1,1,#000000;");
    CHECK(nn_points_parse(many, p, NN_MAX_POINT_HINTS, &n, &err) == NN_ERR_INVALID &&
              strcmp(err.msg, "more than 256 point hints (257 given)") == 0, "too many points: %s", err.msg);
    /* a stored list keeps its good items: the bad ones and those past the limit are counted */
    CHECK(nn_points_parse_good("5,5,#102030;-1,2,#000000;6,6,#405060", p, NN_MAX_POINT_HINTS, &n, &err) == 1 &&
              n == 2 && p[1].x == 6 && strstr(err.msg, "point hint 2"), "the good items were not kept (%d, %s)", n, err.msg);
    CHECK(nn_points_parse_good(many, p, NN_MAX_POINT_HINTS, &n, &err) == 1 && n == NN_MAX_POINT_HINTS,
          "a list past the limit: %d kept", n);
    /* points at or past the image's edge */
    nn_point_text inside[2] = {{0, 0, {0, 0, 0}}, {9.9, 4.5, {0, 0, 0}}}, outside[2] = {{0, 0, {0}}, {10, 2, {0}}};
    CHECK(nn_points_check_inside(inside, 2, 10, 5, &err) == NN_OK, "points inside refused: %s", err.msg);
    CHECK(nn_points_check_inside(outside, 2, 10, 5, &err) == NN_ERR_INVALID && strstr(err.msg, "point hint 2 (10, 2)"),
          "a point on the far edge accepted: %s", err.msg);
}

/* The shipped model as the plug-in loads it, or NULL (a failed check). */
static nn_colorizer *load_shipped(const char *model) {
    nn_colorizer *c = NULL;
    nn_error err = {0};
    if (nn_colorizer_load(&c, model, NN_TILE_BATCH_INTERACTIVE, NN_TILE_SIDE, &err) != NN_OK) CHECK(0, "%s", err.msg);
    return c;
}

/* The shipped model's result at bf16 against fp32 on a 512×384 image
 * with hints: every pixel within 1 unit of ab. */
static void test_bf16(const char *model) {
    if (!nn_gemm_bf16_available()) {
        printf("bf16 engine: skipped, this CPU has no AVX512-BF16\n");
        return;
    }
    nn_colorizer *c = load_shipped(model);
    if (!c) return;
    nn_error err = {0};
    const int w = 512, h = 384;
    float *L = make_L(w, h), *hab = calloc((size_t)w * h * 2, sizeof(float)), *mask = calloc((size_t)w * h, sizeof(float));
    float *ab32 = malloc(sizeof(float) * w * h * 2), *ab16 = malloc(sizeof(float) * w * h * 2);
    for (int i = 0; i < 3; i++) { /* three points of colour */
        size_t at = (size_t)(100 + 120 * i) * w + 80 + 150 * i;
        hab[at] = i == 1 ? -40.0f : 50.0f, hab[(size_t)w * h + at] = i == 2 ? -50.0f : 40.0f, mask[at] = 1.0f;
    }
    nn_engine_params p = nn_engine_default_params();
    nn_unet_set_precision(c->net, NN_PRECISION_FP32);
    CHECK(nn_engine_colorize(c, L, w, h, hab, mask, &p, ab32, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    nn_unet_set_precision(c->net, NN_PRECISION_BF16);
    CHECK(nn_engine_colorize(c, L, w, h, hab, mask, &p, ab16, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    double sum = 0.0, worst = 0.0;
    for (size_t i = 0; i < (size_t)w * h; i++) {
        double d = hypot(ab32[i] - ab16[i], ab32[(size_t)w * h + i] - ab16[(size_t)w * h + i]);
        sum += d, worst = fmax(worst, d);
    }
    const double mean = sum / ((double)w * h);
    printf("bf16 engine (%s), shipped model, %dx%d with 3 hints: mean |dab| %.3f, max %.2f (fp32 vs bf16)\n",
           nn_gemm_bf16_kernel_name(), w, h, mean, worst);
    CHECK(worst <= 1.0 && mean > 0.0, "bf16 differs from fp32 by up to %g ab units (mean %g)", worst, mean);
    free(L), free(hab), free(mask), free(ab32), free(ab16);
    nn_colorizer_free(c);
}

/* A reference made of pixels at every lightness from 5 to 95: colour
 * (a, b) below L 50 and (a2, b2) from there, each fitted into the gamut. */
static nn_reference *two_tone_reference(nn_colorizer *c, float a, float b, float a2, float b2) {
    nn_reference *r = NULL;
    nn_error err = {0};
    CHECK(nn_reference_create(&r, c, &err) == NN_OK, "no reference: %s", err.msg);
    if (!r) return NULL;
    for (int L = 5; L <= 95; L++) {
        float lab[3] = {(float)L, L < 50 ? a : a2, L < 50 ? b : b2};
        nn_lab_fit_gamut(lab, 1);
        for (int i = 0; i < 20; i++) nn_reference_add_pixels(r, lab, NULL, 1);
    }
    CHECK(nn_reference_finish(r, &err) == NN_OK, "a coloured reference refused: %s", err.msg);
    return r;
}

/* Mean a and b of ab (2, h, w) over columns [x0, x1). */
static void mean_ab_cols(const float *ab, int w, int h, int x0, int x1, double *a, double *b) {
    double sa = 0.0, sb = 0.0;
    for (int y = 0; y < h; y++)
        for (int x = x0; x < x1; x++) sa += ab[(size_t)y * w + x], sb += ab[(size_t)w * h + (size_t)y * w + x];
    *a = sa / ((double)h * (x1 - x0)), *b = sb / ((double)h * (x1 - x0));
}

/* Mean chroma of ab (2, n). */
static double mean_chroma(const float *ab, size_t n) {
    double s = 0.0;
    for (size_t k = 0; k < n; k++) s += hypot(ab[k], ab[n + k]);
    return s / (double)n;
}

/* Below weight 1 the reference fades out (it once sharpened the network
 * instead, into posterized colour): towards 0 the result is the one
 * without a reference, and the warmth and the chroma grow with the weight
 * up to 1. plain_b: the mean b without a reference; ab: scratch (2, h, w). */
static void reference_fades_below_one(nn_colorizer *c, const float *L, int w, int h, nn_reference *warm,
                                      double plain_b, float *ab) {
    const float weights[] = {0.01f, 0.25f, 0.5f, 1.0f};
    double b[4], chroma[4], a;
    nn_error err = {0};
    nn_engine_params p = nn_engine_default_params();
    p.reference = warm;
    for (int i = 0; i < 4; i++) {
        p.reference_weight = weights[i];
        CHECK(nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
        mean_ab_cols(ab, w, h, 0, w, &a, &b[i]);
        chroma[i] = mean_chroma(ab, (size_t)w * h);
    }
    printf("reference below weight 1: mean b %.1f (without) %.1f %.1f %.1f %.1f, chroma %.1f %.1f %.1f %.1f\n", plain_b,
           b[0], b[1], b[2], b[3], chroma[0], chroma[1], chroma[2], chroma[3]);
    CHECK(fabs(b[0] - plain_b) < 1.5, "a warm reference at weight 0.01 moved b from %.1f to %.1f", plain_b, b[0]);
    for (int i = 1; i < 4; i++) {
        CHECK(b[i] > b[i - 1], "weight %.2f gave b %.1f, weight %.2f %.1f: not warmer", weights[i], b[i],
              weights[i - 1], b[i - 1]);
        CHECK(chroma[i] >= chroma[i - 1] - 0.5, "weight %.2f gave chroma %.1f, weight %.2f %.1f", weights[i],
              chroma[i], weights[i - 1], chroma[i - 1]);
    }
}

/* A colour reference with the shipped model: a warm one makes the image
 * warm and a cool one cool; a reference's dark colours go to the dark
 * half and its light colours to the light half; no reference leaves the
 * result as it was; gray, empty and unfinished references and weights
 * out of range are refused. */
/* A warm reference makes the image warm, a cool one cool, and a weight
 * without a reference changes nothing. */
static void reference_warm_and_cool(nn_colorizer *c, const float *L, int w, int h) {
    const size_t n = (size_t)w * h;
    float *plain = malloc(sizeof(float) * 2 * n), *ab = malloc(sizeof(float) * 2 * n);
    nn_error err = {0};
    nn_engine_params p = nn_engine_default_params();
    CHECK(nn_engine_colorize(c, L, w, h, NULL, NULL, &p, plain, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    p.reference_weight = 5.0f; /* a weight without a reference changes nothing */
    CHECK(nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    CHECK(memcmp(plain, ab, sizeof(float) * 2 * n) == 0, "no reference changed the result");
    double wa, wb, ca, cb, pa, pb;
    mean_ab_cols(plain, w, h, 0, w, &pa, &pb);
    nn_reference *warm = two_tone_reference(c, 30, 50, 30, 50), *cool = two_tone_reference(c, -10, -40, -10, -40);
    p.reference = warm, p.reference_weight = NN_DEFAULT_REFERENCE_WEIGHT;
    CHECK(warm && nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    mean_ab_cols(ab, w, h, 0, w, &wa, &wb);
    p.reference = cool;
    CHECK(cool && nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    mean_ab_cols(ab, w, h, 0, w, &ca, &cb);
    printf("reference: mean ab without (%.1f, %.1f), warm (%.1f, %.1f), cool (%.1f, %.1f)\n", pa, pb, wa, wb, ca, cb);
    CHECK(wb > pb + 5 && wb > 10 && wa > 0, "a warm reference did not make the image warm: b %.1f (%.1f without)", wb, pb);
    CHECK(cb < pb - 5 && cb < -5, "a cool reference did not make the image cool: b %.1f (%.1f without)", cb, pb);
    reference_fades_below_one(c, L, w, h, warm, pb, ab);
    nn_reference_free(warm), nn_reference_free(cool);
    free(plain), free(ab);
}

/* The reference's dark colours go to the dark half and its light colours
 * to the light half (against the reversed reference). Returns that
 * reference (dark blue, light orange) for the refusals. */
static nn_reference *reference_by_lightness(nn_colorizer *c, const float *L, int w, int h) {
    float *ab = malloc(sizeof(float) * 2 * (size_t)w * h);
    nn_error err = {0};
    nn_engine_params p = nn_engine_default_params();
    nn_reference *split = two_tone_reference(c, -10, -40, 30, 50); /* dark blue, light orange */
    nn_reference *reversed = two_tone_reference(c, 30, 50, -10, -40); /* dark orange, light blue */
    double da, db, la, lb, rda, rdb, rla, rlb;
    p.reference = split;
    CHECK(split && nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    mean_ab_cols(ab, w, h, 0, w / 2, &da, &db);
    mean_ab_cols(ab, w, h, w / 2, w, &la, &lb);
    p.reference = reversed;
    CHECK(reversed && nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    mean_ab_cols(ab, w, h, 0, w / 2, &rda, &rdb);
    mean_ab_cols(ab, w, h, w / 2, w, &rla, &rlb);
    printf("reference dark blue, light orange: the dark half (%.1f, %.1f), the light half (%.1f, %.1f); reversed: "
           "(%.1f, %.1f), (%.1f, %.1f)\n", da, db, la, lb, rda, rdb, rla, rlb);
    CHECK(db < rdb - 10 && lb > rlb + 10, "the reference's dark and light colours did not go to the dark and light halves");
    nn_reference_free(reversed);
    free(ab);
    return split;
}

/* texture: a reference whose smooth part is blue and whose textured part
 * is orange, at one lightness, on an image likewise */
static void reference_by_texture(nn_colorizer *c, float *L, int w, int h) {
    float *ab = malloc(sizeof(float) * 2 * (size_t)w * h);
    nn_error err = {0};
    nn_engine_params p = nn_engine_default_params();
    double da, db, la, lb;
    const int rw = 64, rh = 32;
    uint8_t *img = malloc((size_t)rw * rh * 3);
    for (int y = 0; y < rh; y++)
        for (int x = 0; x < rw; x++) {
            const int textured = x >= rw / 2;
            float lab[3] = {textured ? ((x + y) % 2 ? 62.0f : 38.0f) : 50.0f, textured ? 30.0f : -10.0f,
                            textured ? 50.0f : -40.0f};
            nn_lab_to_srgb8(img + 3 * ((size_t)y * rw + x), lab, 1);
        }
    nn_reference *textures = NULL;
    CHECK(nn_reference_create(&textures, c, &err) == NN_OK && nn_reference_add_image(textures, img, 3, rw, rh, 3 * (size_t)rw, &err) == NN_OK &&
              nn_reference_finish(textures, &err) == NN_OK, "%s", err.msg);
    for (int y = 0; y < h; y++) /* the image likewise: smooth on the left, textured on the right */
        for (int x = 0; x < w; x++) L[(size_t)y * w + x] = x < w / 2 ? 50.0f : (x + y) % 2 ? 62.0f : 38.0f;
    p.reference = textures, p.reference_weight = NN_DEFAULT_REFERENCE_WEIGHT;
    CHECK(nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    mean_ab_cols(ab, w, h, 4, w / 2 - 4, &da, &db);
    mean_ab_cols(ab, w, h, w / 2 + 4, w - 4, &la, &lb);
    printf("reference smooth blue, textured orange: the smooth half (%.1f, %.1f), the textured half (%.1f, %.1f)\n", da,
           db, la, lb);
    CHECK(db < -5 && lb > 10, "the reference's smooth and textured colours did not go to the smooth and textured halves");
    nn_reference_free(textures), free(img);
    free(ab);
}

/* Unfinished, empty, gray and malformed references, one made on another
 * model's bins, and weights out of range are refused. */
static void reference_refusals(nn_colorizer *c, const float *L, int w, int h, nn_reference *split) {
    float *ab = malloc(sizeof(float) * 2 * (size_t)w * h);
    nn_error err = {0};
    nn_engine_params p = nn_engine_default_params();
    nn_reference *r = NULL;
    CHECK(nn_reference_create(&r, c, &err) == NN_OK, "%s", err.msg);
    p.reference = r;
    CHECK(nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab, NULL, NULL, NULL, &err) == NN_ERR_INVALID &&
              strstr(err.msg, "not finished"), "an unfinished reference was not refused");
    CHECK(nn_reference_finish(r, &err) == NN_ERR_INVALID && strstr(err.msg, "no colour"), "an empty reference was not refused");
    float gray[3] = {60, 1, -1};
    for (int i = 0; i < 1000; i++) nn_reference_add_pixels(r, gray, NULL, 1);
    CHECK(nn_reference_finish(r, &err) == NN_ERR_INVALID && strstr(err.msg, "no colour"), "a gray reference was not refused: %s",
          err.msg);
    const uint8_t px[8] = {200, 100, 50, 255, 200, 100, 50, 255};
    CHECK(nn_reference_add_image(r, px, 2, 2, 1, 4, &err) == NN_ERR_INVALID &&
              nn_reference_add_image(r, px, 4, 0, 1, 8, &err) == NN_ERR_INVALID &&
              nn_reference_add_image(r, px, 4, 2, 1, 7, &err) == NN_ERR_INVALID,
          "a reference image of 2 channels, no pixels or rows closer than their pixels was not refused");
    nn_reference_free(r);
    nn_colorizer *other = make_colorizer(0); /* 40 bins: a reference made on it does not fit the shipped model */
    nn_reference *foreign = other ? two_tone_reference(other, 30, 50, 30, 50) : NULL;
    p.reference = foreign, p.reference_weight = NN_DEFAULT_REFERENCE_WEIGHT;
    CHECK(foreign && nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab, NULL, NULL, NULL, &err) == NN_ERR_INVALID &&
              strstr(err.msg, "another model"), "a reference made on another model's bins was not refused");
    nn_reference_free(foreign), nn_colorizer_free(other);
    p.reference = split;
    p.reference_weight = 0.0f;
    CHECK(nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab, NULL, NULL, NULL, &err) == NN_ERR_INVALID,
          "reference weight 0 was not refused");
    p.reference_weight = NN_MAX_REFERENCE_WEIGHT * 2;
    CHECK(nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab, NULL, NULL, NULL, &err) == NN_ERR_INVALID,
          "reference weight %g was not refused", p.reference_weight);
    nn_reference_free(split);
    free(ab);
}

/* A palette's text read into a reference (nn_palette_add_to_reference):
 * a warm one (CRLF, a comment, names) makes the image warmer than without;
 * a text without the header, a line that is not three numbers 0..255 and
 * a palette without colours are refused naming the problem (the line's
 * number and text), and nothing of a refused text is counted; a gray
 * image and a wholly transparent one are refused on their own. */
static void palette_texts(nn_colorizer *c, const float *L, int w, int h) {
    float *ab = malloc(sizeof(float) * 2 * (size_t)w * h);
    nn_error err = {0};
    nn_engine_params p = nn_engine_default_params();
    CHECK(nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    double a, plain_b, warm_b;
    mean_ab_cols(ab, w, h, 0, w, &a, &plain_b);
    const char warm[] = "GIMP Palette\r\nName: warm\r\nColumns: 3\r\n# a comment\r\n200 120  60 orange\r\n"
                        "230 190 120\r\n\r\n120 60 30\tbrown\r\n";
    nn_reference *r = NULL;
    CHECK(nn_reference_create(&r, c, &err) == NN_OK, "%s", err.msg);
    CHECK(nn_palette_add_to_reference(r, warm, sizeof warm - 1, &err) == NN_OK && nn_reference_finish(r, &err) == NN_OK,
          "a warm palette was refused: %s", err.msg);
    p.reference = r;
    CHECK(nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    mean_ab_cols(ab, w, h, 0, w, &a, &warm_b);
    printf("palette text: mean b %.1f with a warm palette, %.1f without\n", warm_b, plain_b);
    CHECK(warm_b > plain_b + 5, "a warm palette did not warm the image (b %.1f, %.1f without)", warm_b, plain_b);
    nn_reference_free(r);
    const char *bad[][2] = {{"Name: warm\n200 120 60\n", "not a GIMP palette"},
                            {"GIMP Palette\n200 120 60\n12 x 40\n", "line 3 \"12 x 40\""},
                            {"GIMP Palette\n1 2 300\n", "line 2 \"1 2 300\""},
                            {"GIMP Palette\n10 20 30abc\n", "line 2"},
                            {"GIMP Palette\n99999999999 0 0\n", "line 2"},
                            {"GIMP Palette\n1+2+3\n", "line 2"},
                            {"GIMP Palette\n# only a comment\nName: x\n", "holds no colour"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(nn_reference_create(&r, c, &err) == NN_OK, "%s", err.msg);
        const nn_status st = nn_palette_add_to_reference(r, bad[i][0], strlen(bad[i][0]), &err);
        CHECK(st == NN_ERR_INVALID && strstr(err.msg, bad[i][1]), "palette %zu refused as \"%s\", not with \"%s\"", i,
              st ? err.msg : "(accepted)", bad[i][1]);
        CHECK(nn_reference_finish(r, &err) == NN_ERR_INVALID && strstr(err.msg, "no opaque pixel"),
              "palette %zu counted colours before it was refused", i);
        nn_reference_free(r);
    }
    const uint8_t gray[8] = {90, 90, 90, 255, 91, 90, 90, 255}, clear[8] = {200, 100, 50, 0, 200, 100, 50, 0};
    CHECK(nn_reference_create(&r, c, &err) == NN_OK, "%s", err.msg);
    CHECK(nn_reference_add_image(r, gray, 4, 2, 1, 8, &err) == NN_ERR_INVALID && strstr(err.msg, "it is gray"),
          "a gray image was not refused as one");
    CHECK(nn_reference_add_image(r, clear, 4, 2, 1, 8, &err) == NN_ERR_INVALID && strstr(err.msg, "no opaque pixel"),
          "a transparent image was not refused as one");
    nn_reference_free(r);
    free(ab);
}

static void test_reference(const char *model) {
    nn_colorizer *c = load_shipped(model);
    if (!c) return;
    const int w = 96, h = 64;
    float *L = malloc(sizeof(float) * (size_t)w * h);
    for (int y = 0; y < h; y++) /* a dark left half, a light right half, mildly textured */
        for (int x = 0; x < w; x++) L[(size_t)y * w + x] = (x < w / 2 ? 30.0f : 75.0f) + 3.0f * sinf(x * 0.4f + y * 0.3f);
    reference_warm_and_cool(c, L, w, h);
    nn_reference *split = reference_by_lightness(c, L, w, h);
    reference_by_texture(c, L, w, h);
    reference_refusals(c, L, w, h, split);
    palette_texts(c, L, w, h);
    free(L);
    nn_colorizer_free(c);
}

int main(int argc, char **argv) {
    nn_set_threads(2);
    setenv("NN_PRECISION", "fp32", 1); /* the checks against oracles below are exact in fp32 */
    nn_colorizer *c = make_colorizer(0);
    CHECK(c != NULL, "no colorizer");
    if (!c) return test_finish("test_engine");
    test_seams(c);
    test_sizes(c);
    test_hints(c);
    test_cancel_and_params(c);
    test_streaming(c);
    test_region(c);
    test_stroke(c);
    test_points(c);
    test_points_text();
    nn_colorizer_free(c);
    c = make_colorizer(1);
    CHECK(c != NULL, "no colorizer with rebalancing");
    if (c) test_scene(c);
    nn_colorizer_free(c);
    if (argc > 1) test_bf16(argv[1]), test_reference(argv[1]);
    else CHECK(0, "usage: test_engine MODEL.weights");
    return test_finish("test_engine");
}
