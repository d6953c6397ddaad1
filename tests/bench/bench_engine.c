/* bench_engine.c — times the render function's work for a preview update
 * (the engine on a 256×192 preview at working resolution 128 and 256, then the
 * Lab -> RGB composition) and the engine on a 4000×3000 photo at the
 * default working resolution; each plain, with a colour reference (a
 * synthetic 256×192 photo) and with BENCH_POINTS point hints carried along
 * the edges (what a click in the preview reruns), side by side; prints
 * medians.
 * Usage: bench_engine MODEL [repeats] [threads] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "benchutil.h"
#include "nn.h"

/* Point hints in a run with hints: as many as a user clicks on a photo. */
#define BENCH_POINTS 5

/* The engine as the plug-in runs it: rows fed, `points` point hints at
 * spread positions with spread colours, predict, ab rows. */
static nn_status engine_run(nn_colorizer *c, const float *L, int w, int h, const nn_engine_params *p, int points,
                            float *ab, nn_error *err) {
    nn_engine *e;
    nn_status st = nn_engine_begin(&e, w, h, p, err);
    if (st) return st;
    st = nn_engine_add_rows(e, 0, h, L, NULL, NULL, NULL, err);
    for (int i = 0; i < points && !st; i++) {
        const float hue = 2.0f * (float)M_PI * i / points;
        st = nn_engine_add_point_hint(e, w * (0.1 + 0.8 * ((i * 37) % 11) / 10.0), h * (0.1 + 0.8 * ((i * 53) % 7) / 6.0),
                                      40.0f * cosf(hue), 40.0f * sinf(hue), err);
    }
    if (!st) st = nn_engine_predict(e, c, NULL, NULL, NULL, err);
    if (!st) nn_engine_ab_rows(e, 0, h, L, ab, ab + (size_t)w * h);
    nn_engine_free(e);
    return st;
}

/* One engine run and the composition the plug-in does; its seconds. */
static double one_run(nn_colorizer *c, const float *L, float *ab, float *lab, float *rgba, int w, int h,
                      const nn_engine_params *p, int points) {
    nn_error err;
    double t0 = bench_now();
    if (engine_run(c, L, w, h, p, points, ab, &err) != NN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            lab[3 * x] = L[i], lab[3 * x + 1] = ab[i], lab[3 * x + 2] = ab[(size_t)w * h + i];
        }
        nn_lab_to_srgb_fitted(rgba, lab, (size_t)w, 4);
    }
    return bench_now() - t0;
}

/* Medians of reps runs plain (median[0]), with the reference (median[1])
 * and with BENCH_POINTS points (median[2]), alternating, after one warm-up
 * of each. */
static void median_three(nn_colorizer *c, int w, int h, int resolution, const nn_reference *ref, int reps,
                         double median[3]) {
    float *L = malloc(sizeof(float) * (size_t)w * h), *ab = malloc(sizeof(float) * 2 * (size_t)w * h);
    float *lab = malloc(sizeof(float) * 3 * (size_t)w), *rgba = malloc(sizeof(float) * 4 * (size_t)w);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) L[(size_t)y * w + x] = 50.0f + 40.0f * sinf(x * 0.01f) * cosf(y * 0.013f);
    double t[3][64];
    nn_engine_params p[3] = {nn_engine_default_params(), nn_engine_default_params(), nn_engine_default_params()};
    p[0].resolution = p[1].resolution = p[2].resolution = resolution, p[1].reference = ref;
    for (int r = -1; r < reps; r++) /* r = -1: warm-up */
        for (int k = 0; k < 3; k++) {
            const double s = one_run(c, L, ab, lab, rgba, w, h, &p[k], k == 2 ? BENCH_POINTS : 0);
            if (r >= 0) t[k][r] = s;
        }
    free(L), free(ab), free(lab), free(rgba);
    for (int k = 0; k < 3; k++) median[k] = bench_median(t[k], reps);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_engine MODEL [repeats] [threads]\n");
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 7, threads = argc > 3 ? atoi(argv[3]) : 0;
    if (reps < 1 || reps > 64) reps = 7;
    nn_set_threads(threads);
    nn_colorizer *c;
    nn_error err;
    if (nn_colorizer_load(&c, argv[1], NN_TILE_BATCH_INTERACTIVE, NN_TILE_SIDE, &err) != NN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    printf("threads %d\n", nn_get_threads());
    /* a synthetic colour reference: hue across, lightness down, some texture */
    const int rw = 256, rh = 192;
    uint8_t *img = malloc((size_t)rw * rh * 3);
    for (int y = 0; y < rh; y++)
        for (int x = 0; x < rw; x++) {
            float lab[3] = {10.0f + 80.0f * y / rh + 4.0f * ((x * 7 + y * 3) % 5), 40.0f * cosf(x * 0.03f),
                            40.0f * sinf(x * 0.03f)};
            nn_lab_to_srgb8(img + 3 * ((size_t)y * rw + x), lab, 1);
        }
    nn_reference *ref = NULL;
    if (nn_reference_create(&ref, c, &err) != NN_OK || nn_reference_add_image(ref, img, 3, rw, rh, 3 * (size_t)rw, &err) != NN_OK ||
        nn_reference_finish(ref, &err) != NN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    static const struct {
        const char *what;
        int w, h, resolution;
    } cases[] = {{"preview update (fast pass), 256x192 at working resolution 128", 256, 192, 128},
                 {"preview full pass, 256x192 at working resolution 256", 256, 192, 256},
                 {"engine + composition, 4000x3000 at resolution 256", 4000, 3000, 256}};
    for (int i = 0; i < 3; i++) {
        double m[3];
        median_three(c, cases[i].w, cases[i].h, cases[i].resolution, ref, i == 2 && reps > 5 ? 5 : reps, m);
        printf("%s: median %.1f ms; with a colour reference %.1f ms (%+.0f%%); with %d points %.1f ms (%+.0f%%)\n",
               cases[i].what, 1e3 * m[0], 1e3 * m[1], 100.0 * (m[1] / m[0] - 1.0), BENCH_POINTS, 1e3 * m[2],
               100.0 * (m[2] / m[0] - 1.0));
    }
    nn_reference_free(ref), free(img);
    nn_colorizer_free(c);
    return 0;
}
