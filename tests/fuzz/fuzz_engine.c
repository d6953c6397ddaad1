/* fuzz_engine.c — libFuzzer target: the full-image engine on small images
 * of any size (1..64 px a side), working resolution, lightness, strokes and
 * point hints taken from the input, with a small random network: predict,
 * ab rows, a zoomed region and the suggestions. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static nn_colorizer *model(void) {
    static nn_colorizer *c;
    if (c) return c;
    nn_unet_config cfg = nn_unet_default_config(8);
    cfg.base_width = 4, cfg.depth = 2;
    nn_unet *net = NULL;
    nn_error err = {0};
    if (nn_unet_create(&net, &cfg, 4, NN_TILE_SIDE, NN_TILE_SIDE, &err) != NN_OK) abort();
    nn_unet_init(net, 7);
    nn_weights w;
    nn_weights_init(&w);
    uint32_t bins[8] = {100, 150, 200, 250, 300, 350, 400, 450};
    if (nn_unet_to_weights(net, &w) != NN_OK || nn_ab_metadata_set(&w, nn_ab_grid_default(), bins, NULL, 8, 0.5f) ||
        nn_colorizer_from_weights(&c, &w, "fuzz", 4, NN_TILE_SIDE, &err) != NN_OK)
        abort();
    nn_weights_free(&w);
    nn_unet_free(net);
    nn_set_threads(1);
    return c;
}

static uint8_t next(const uint8_t *d, size_t n, size_t *i) { return n ? d[(*i)++ % n] : 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    nn_colorizer *c = model();
    size_t i = 0;
    const int w = 1 + next(data, size, &i) % 64, h = 1 + next(data, size, &i) % 64;
    nn_engine_params p = {next(data, size, &i) / 255.0f, next(data, size, &i) / 127.5f,
                          NN_MIN_RESOLUTION + next(data, size, &i) % 64, NN_MIN_SCENE_SIZE + next(data, size, &i) % 48,
                          next(data, size, &i) / 32.0f, next(data, size, &i) / 8.0f, NULL, 0.0f};
    const size_t n = (size_t)w * h;
    float *L = malloc(sizeof(float) * n), *ha = calloc(2 * n, sizeof(float)), *hm = calloc(n, sizeof(float));
    float *ab = malloc(sizeof(float) * 2 * n);
    for (size_t k = 0; k < n; k++) {
        uint8_t v = next(data, size, &i);
        L[k] = v * (100.0f / 255.0f);
        if (v % 7 == 0) hm[k] = 1.0f, ha[k] = (int8_t)v, ha[n + k] = (int8_t)(v * 3);
    }
    nn_error err = {0};
    nn_engine *e = NULL;
    if (nn_engine_begin(&e, w, h, &p, &err) == NN_OK) {
        int points = next(data, size, &i) % 4;
        for (int k = 0; k < points; k++)
            nn_engine_add_point_hint(e, next(data, size, &i) % (w + 2), next(data, size, &i) % (h + 2),
                                     (int8_t)next(data, size, &i), (int8_t)next(data, size, &i), &err);
        if (nn_engine_add_rows(e, 0, h, L, ha, ha + n, hm, &err) == NN_OK &&
            nn_engine_predict(e, c, NULL, NULL, NULL, &err) == NN_OK) {
            nn_engine_ab_rows(e, 0, h, L, ab, ab + n);
            const double step = 0.25 + next(data, size, &i) / 64.0;
            const int rw = 1 + w / 2, rh = 1 + h / 2;
            nn_engine_ab_region(e, next(data, size, &i) % w, next(data, size, &i) % h, step, step * 1.25, rw, rh, L, ab, ab + n,
                                &err);
            float sug[2 * 5], prob[5];
            int found;
            nn_engine_suggest(e, c, next(data, size, &i) % w, next(data, size, &i) % h, 5, sug, prob, &found, &err);
        }
        nn_engine_free(e);
    }
    free(L), free(ha), free(hm), free(ab);
    return 0;
}
