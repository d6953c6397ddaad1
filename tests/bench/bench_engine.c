/* bench_engine.c — times the render function's work for a preview update
 * (the engine on a 256×192 preview at working resolution 128 and 256, then the
 * Lab -> RGB composition) and the engine on a 4000×3000 photo at the
 * default working resolution; prints medians.
 * Usage: bench_engine MODEL [repeats] [threads] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "benchutil.h"
#include "nn.h"

static double median_run(nn_colorizer *c, int w, int h, int resolution, int reps) {
    float *L = malloc(sizeof(float) * (size_t)w * h), *ab = malloc(sizeof(float) * 2 * (size_t)w * h);
    float *lab = malloc(sizeof(float) * 3 * (size_t)w), *rgba = malloc(sizeof(float) * 4 * (size_t)w);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) L[(size_t)y * w + x] = 50.0f + 40.0f * sinf(x * 0.01f) * cosf(y * 0.013f);
    double t[64];
    nn_engine_params p = nn_engine_default_params();
    p.resolution = resolution;
    nn_error err;
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up */
        double t0 = bench_now();
        if (nn_engine_colorize(c, L, w, h, NULL, NULL, &p, ab, NULL, NULL, NULL, &err) != NN_OK) {
            fprintf(stderr, "%s\n", err.msg);
            exit(1);
        }
        for (int y = 0; y < h; y++) { /* the composition the plug-in does */
            for (int x = 0; x < w; x++) {
                size_t i = (size_t)y * w + x;
                lab[3 * x] = L[i], lab[3 * x + 1] = ab[i], lab[3 * x + 2] = ab[(size_t)w * h + i];
            }
            nn_lab_to_srgb_fitted(rgba, lab, (size_t)w, 4);
        }
        if (r >= 0) t[r] = bench_now() - t0;
    }
    free(L), free(ab), free(lab), free(rgba);
    return bench_median(t, reps);
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
    if (nn_colorizer_load(&c, argv[1], 16, 32, &err) /* the plug-in's batch */ != NN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    printf("threads %d\n", nn_get_threads());
    printf("preview update (fast pass), 256x192 at working resolution 128: median %.1f ms (target 150 ms)\n",
           1e3 * median_run(c, 256, 192, 128, reps));
    printf("preview full pass, 256x192 at working resolution 256: median %.1f ms\n", 1e3 * median_run(c, 256, 192, 256, reps));
    printf("engine + composition, 4000x3000 at resolution 256: median %.3f s\n", median_run(c, 4000, 3000, 256, reps < 5 ? reps : 5));
    nn_colorizer_free(c);
    return 0;
}
