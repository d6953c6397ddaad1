/* data.c — the Lab data pipeline of the trainer: Lab planes of CIFAR
 * images, the in-gamut ab bins and their rebalancing weights, simulated
 * user hints, augmentation and batch assembly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trainer.h"

uint64_t derive_seed(uint64_t seed, uint64_t a, uint64_t b) {
    uint64_t x = seed ^ 0x9E3779B97F4A7C15ull;
    uint64_t parts[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        x ^= parts[i] + 0x632BE59BD9B4E019ull + (x << 6) + (x >> 2);
        x = (x ^ (x >> 31)) * 0xBF58476D1CE4E5B9ull;
        x ^= x >> 29;
    }
    return x;
}

gboolean lab_set_init(lab_set *s, const cifar_set *c, int first, int n, GError **error) {
    memset(s, 0, sizeof *s);
    if (first < 0 || n < 1 || first + n > c->n) {
        g_set_error(error, TRAINER_ERROR, 1, "images %d..%d are outside the %d loaded", first,
                    first + n - 1, c->n);
        return FALSE;
    }
    /* the L and ab planes: 3 floats a pixel, in 64 bits (n < 2^31, so no product overflows) */
    const uint64_t L_bytes = (uint64_t)sizeof(float) * (uint64_t)n * CIFAR_PIXELS, ab_bytes = 2 * L_bytes;
    if (L_bytes + ab_bytes <= SIZE_MAX) {
        s->L = g_try_malloc((size_t)L_bytes);
        s->ab = s->L ? g_try_malloc((size_t)ab_bytes) : NULL;
    }
    if (!s->ab) {
        g_free(s->L), s->L = NULL;
        g_set_error(error, TRAINER_ERROR, 1, "the Lab planes of %d training or validation images need %.2f GB of "
                    "memory, which cannot be allocated: lower --crops, --val or --limit", n,
                    (double)(L_bytes + ab_bytes) / 1e9);
        return FALSE;
    }
    s->n = n;
    s->labels = c->labels + first;
    s->rgb = c->rgb + (size_t)first * CIFAR_PIXELS * 3;
    float *lab = g_malloc(sizeof(float) * 3 * CIFAR_PIXELS);
    for (int i = 0; i < n; i++) {
        nn_srgb8_to_lab(lab, s->rgb + (size_t)i * CIFAR_PIXELS * 3, CIFAR_PIXELS);
        float *L = s->L + (size_t)i * CIFAR_PIXELS, *ab = s->ab + (size_t)i * 2 * CIFAR_PIXELS;
        for (int p = 0; p < CIFAR_PIXELS; p++) {
            L[p] = lab[3 * p];
            ab[p] = lab[3 * p + 1];
            ab[CIFAR_PIXELS + p] = lab[3 * p + 2];
        }
    }
    g_free(lab);
    return TRUE;
}

void lab_set_free(lab_set *s) {
    g_free(s->L);
    g_free(s->ab);
    memset(s, 0, sizeof *s);
}

gboolean ab_bins_from_data(ab_bins *b, const lab_set *s, float lambda, GError **error) {
    memset(b, 0, sizeof *b);
    b->grid = nn_ab_grid_default();
    b->lambda = lambda;
    int cells = b->grid.size * b->grid.size;
    uint64_t *count = g_new0(uint64_t, cells), total = 0;
    for (int i = 0; i < s->n; i++) {
        const float *ab = s->ab + (size_t)i * 2 * CIFAR_PIXELS;
        for (int p = 0; p < CIFAR_PIXELS; p++) count[nn_ab_grid_cell(b->grid, ab[p], ab[CIFAR_PIXELS + p])]++;
    }
    for (int c = 0; c < cells; c++) b->num_bins += count[c] > 0, total += count[c];
    if (b->num_bins < 2) {
        g_set_error(error, TRAINER_ERROR, 1, "the training images hold only %d colour bin(s): "
                    "are they grayscale?", b->num_bins);
        g_free(count);
        return FALSE;
    }
    b->bins = malloc(sizeof(uint32_t) * b->num_bins); /* freed by nn_ab_bins_free */
    b->rebalance = malloc(sizeof(float) * b->num_bins);
    if (!b->bins || !b->rebalance) {
        g_set_error(error, TRAINER_ERROR, 1, "out of memory for %d colour bins", b->num_bins);
        g_free(count), nn_ab_bins_free(b);
        return FALSE;
    }
    double norm = 0.0;
    for (int c = 0, q = 0; c < cells; c++) {
        if (!count[c]) continue;
        double p = (double)count[c] / (double)total;
        double w = 1.0 / ((1.0 - lambda) * p + lambda / b->num_bins);
        b->bins[q] = (uint32_t)c;
        b->rebalance[q] = (float)w;
        norm += p * w;
        q++;
    }
    for (int q = 0; q < b->num_bins; q++) b->rebalance[q] = (float)(b->rebalance[q] / norm);
    g_free(count);
    if (nn_ab_bins_finish(b, 1) == NN_OK) return TRUE;
    g_set_error(error, TRAINER_ERROR, 1, "out of memory for %d colour bins", b->num_bins);
    nn_ab_bins_free(b);
    return FALSE;
}

gboolean ab_bins_from_weights(ab_bins *b, const nn_weights *w, const char *name, GError **error) {
    memset(b, 0, sizeof *b);
    nn_error err = {0};
    uint32_t q;
    if (nn_weights_get_u32(w, NN_KEY_ARCH_NUM_BINS, &q, &err) != NN_OK || q < 2 || q > 4096 ||
        nn_ab_bins_from_weights(b, w, name, (int)q, 1, &err) != NN_OK) {
        g_set_error(error, TRAINER_ERROR, 1, "%s%s%s", strstr(err.msg, name) ? "" : name,
                    strstr(err.msg, name) ? "" : ": ", err.msg[0] ? err.msg : "bad " NN_KEY_ARCH_NUM_BINS);
        return FALSE;
    }
    return TRUE;
}

gboolean ab_bins_same(const ab_bins *a, const ab_bins *b) {
    return a->num_bins == b->num_bins && a->grid.step == b->grid.step && a->grid.min == b->grid.min &&
           a->grid.size == b->grid.size &&
           memcmp(a->bins, b->bins, sizeof(uint32_t) * (size_t)a->num_bins) == 0;
}

gboolean model_config_load(const nn_weights *w, const char *path, nn_unet_config *cfg, GError **error) {
    nn_error err = {0};
    if (nn_unet_config_from_weights(w, cfg, path, &err) != NN_OK || nn_unet_check_weights(cfg, w, path, &err) != NN_OK) {
        g_set_error(error, TRAINER_ERROR, 1, "%s", err.msg);
        return FALSE;
    }
    if (cfg->in_channels != NN_INPUT_CHANNELS) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: arch.in_channels is %d; colorize-train uses models of %d input "
                    "channels (L, hint a, hint b, hint mask)", path, cfg->in_channels, NN_INPUT_CHANNELS);
        return FALSE;
    }
    return TRUE;
}

/* The stroke simulation's shape: a brush 2-4 px wide dragged 0-12 px (0: a
 * blob), keeping only the pixels whose colour is within STROKE_COLOUR_RANGE
 * ab units of the colour where it starts, as a user paints inside one
 * object; the stroke carries the mean ab of the pixels it keeps. */
#define STROKE_MAX_LENGTH 12
#define STROKE_COLOUR_RANGE 12.0f

static void paint_hint(float *hint_ab, float *hint_mask, const uint8_t *covered, float ma, float mb) {
    for (int p = 0; p < CIFAR_PIXELS; p++)
        if (covered[p]) {
            hint_ab[p] = ma;
            hint_ab[CIFAR_PIXELS + p] = mb;
            hint_mask[p] = 1.0f;
        }
}

/* Marks a square patch of side 1-3 in covered. */
static void simulate_patch(nn_rng *rng, uint8_t *covered) {
    int side = 1 + (int)nn_rng_below(rng, 3);
    int y0 = (int)nn_rng_below(rng, CIFAR_SIDE - side + 1), x0 = (int)nn_rng_below(rng, CIFAR_SIDE - side + 1);
    for (int y = y0; y < y0 + side; y++)
        for (int x = x0; x < x0 + side; x++) covered[y * CIFAR_SIDE + x] = 1;
}

/* Marks a brush stroke in covered, limited to the colour it starts on. */
static void simulate_stroke(const float *ab, nn_rng *rng, uint8_t *covered) {
    float x0 = nn_rng_uniform(rng) * CIFAR_SIDE, y0 = nn_rng_uniform(rng) * CIFAR_SIDE;
    float angle = nn_rng_uniform(rng) * 6.2831853f, length = (float)nn_rng_below(rng, STROKE_MAX_LENGTH + 1);
    float radius = (2.0f + (float)nn_rng_below(rng, 3)) * 0.5f;
    int start = (int)y0 * CIFAR_SIDE + (int)x0;
    float sa = ab[start], sb = ab[CIFAR_PIXELS + start];
    float dx = cosf(angle), dy = sinf(angle);
    for (int y = 0; y < CIFAR_SIDE; y++)
        for (int x = 0; x < CIFAR_SIDE; x++) {
            /* distance from the pixel centre to the segment */
            float px = x + 0.5f - x0, py = y + 0.5f - y0;
            float t = px * dx + py * dy;
            t = t < 0.0f ? 0.0f : (t > length ? length : t);
            float ex = px - t * dx, ey = py - t * dy;
            int p = y * CIFAR_SIDE + x;
            float da = ab[p] - sa, db = ab[CIFAR_PIXELS + p] - sb;
            if (ex * ex + ey * ey <= radius * radius && da * da + db * db <= STROKE_COLOUR_RANGE * STROKE_COLOUR_RANGE)
                covered[p] = 1;
        }
    covered[start] = 1;
}

void simulate_hints(const float *ab, int count, float stroke_share, nn_rng *rng, float *hint_ab,
                    float *hint_mask) {
    memset(hint_ab, 0, sizeof(float) * 2 * CIFAR_PIXELS);
    memset(hint_mask, 0, sizeof(float) * CIFAR_PIXELS);
    if (count < 0) {
        count = 0;
        if (nn_rng_uniform(rng) >= 0.5f)
            do count++;
            while (count < 64 && nn_rng_uniform(rng) >= 1.0f / 8.0f);
    }
    uint8_t covered[CIFAR_PIXELS];
    for (int k = 0; k < count; k++) {
        memset(covered, 0, sizeof covered);
        /* no draw when stroke_share is 0, so runs without strokes repeat older ones */
        if (stroke_share > 0.0f && nn_rng_uniform(rng) < stroke_share) simulate_stroke(ab, rng, covered);
        else simulate_patch(rng, covered);
        double sa = 0.0, sb = 0.0;
        int n = 0;
        for (int p = 0; p < CIFAR_PIXELS; p++)
            if (covered[p]) sa += ab[p], sb += ab[CIFAR_PIXELS + p], n++;
        paint_hint(hint_ab, hint_mask, covered, (float)(sa / n), (float)(sb / n));
    }
}

/* Bilinear sample of a 32x32 plane at (x, y), clamped to its edges. */
static float sample_bilinear(const float *plane, float x, float y) {
    x = x < 0.0f ? 0.0f : (x > CIFAR_SIDE - 1 ? CIFAR_SIDE - 1 : x);
    y = y < 0.0f ? 0.0f : (y > CIFAR_SIDE - 1 ? CIFAR_SIDE - 1 : y);
    int x0 = (int)x, y0 = (int)y;
    int x1 = x0 + 1 < CIFAR_SIDE ? x0 + 1 : x0, y1 = y0 + 1 < CIFAR_SIDE ? y0 + 1 : y0;
    float fx = x - x0, fy = y - y0;
    float top = plane[y0 * CIFAR_SIDE + x0] * (1 - fx) + plane[y0 * CIFAR_SIDE + x1] * fx;
    float bottom = plane[y1 * CIFAR_SIDE + x0] * (1 - fx) + plane[y1 * CIFAR_SIDE + x1] * fx;
    return top * (1 - fy) + bottom * fy;
}

/* A crop of side 32/zoom at a random place, enlarged to 32x32. */
static void zoomed_crop(const float *sl, const float *sab, float zoom, int flip, nn_rng *rng, float *L, float *ab) {
    float side = CIFAR_SIDE / zoom;
    float ox = nn_rng_uniform(rng) * (CIFAR_SIDE - side), oy = nn_rng_uniform(rng) * (CIFAR_SIDE - side);
    for (int y = 0; y < CIFAR_SIDE; y++)
        for (int x = 0; x < CIFAR_SIDE; x++) {
            int xx = flip ? CIFAR_SIDE - 1 - x : x;
            float sx = ox + (xx + 0.5f) / zoom - 0.5f, sy = oy + (y + 0.5f) / zoom - 0.5f;
            int dst = y * CIFAR_SIDE + x;
            L[dst] = sample_bilinear(sl, sx, sy);
            ab[dst] = sample_bilinear(sab, sx, sy);
            ab[CIFAR_PIXELS + dst] = sample_bilinear(sab + CIFAR_PIXELS, sx, sy);
        }
}

/* The image shifted by (dx, dy) with edge replication, flipped if asked. */
static void shifted_copy(const float *sl, const float *sab, int dx, int dy, int flip, float *L, float *ab) {
    for (int y = 0; y < CIFAR_SIDE; y++) {
        int sy = y + dy < 0 ? 0 : (y + dy >= CIFAR_SIDE ? CIFAR_SIDE - 1 : y + dy);
        for (int x = 0; x < CIFAR_SIDE; x++) {
            int xx = flip ? CIFAR_SIDE - 1 - x : x;
            int sx = xx + dx < 0 ? 0 : (xx + dx >= CIFAR_SIDE ? CIFAR_SIDE - 1 : xx + dx);
            int src = sy * CIFAR_SIDE + sx, dst = y * CIFAR_SIDE + x;
            L[dst] = sl[src];
            ab[dst] = sab[src];
            ab[CIFAR_PIXELS + dst] = sab[CIFAR_PIXELS + src];
        }
    }
}

/* One training image after augmentation. */
static void augmented_image(const float *sl, const float *sab, batch_options opt, nn_rng *rng, float *L, float *ab) {
    if (!opt.augment) {
        shifted_copy(sl, sab, 0, 0, 0, L, ab);
        return;
    }
    int flip = nn_rng_below(rng, 2);
    int dx = (int)nn_rng_below(rng, 5) - 2;
    int dy = (int)nn_rng_below(rng, 5) - 2;
    /* no draw when zoom_share is 0, so runs without zoom repeat older ones */
    if (opt.zoom_share > 0.0f && opt.max_zoom > 1.0f && nn_rng_uniform(rng) < opt.zoom_share) {
        float zoom = expf(nn_rng_uniform(rng) * logf(opt.max_zoom));
        zoomed_crop(sl, sab, zoom, flip, rng, L, ab);
    } else {
        shifted_copy(sl, sab, dx, dy, flip, L, ab);
    }
}

void make_batch(const lab_set *s, const ab_bins *bins, const int *index, int nb, nn_rng *rng,
                batch_options opt, float *input, int32_t *targets, float *L_out, float *ab_out) {
    float L[CIFAR_PIXELS], ab[2 * CIFAR_PIXELS], hint_ab[2 * CIFAR_PIXELS], mask[CIFAR_PIXELS];
    for (int i = 0; i < nb; i++) {
        const float *sl = s->L + (size_t)index[i] * CIFAR_PIXELS;
        const float *sab = s->ab + (size_t)index[i] * 2 * CIFAR_PIXELS;
        augmented_image(sl, sab, opt, rng, L, ab);
        simulate_hints(ab, opt.hints, opt.stroke_share, rng, hint_ab, mask);
        nn_encode_input(input + (size_t)i * NN_INPUT_CHANNELS * CIFAR_PIXELS, L, hint_ab, mask, 1, CIFAR_PIXELS);
        if (targets)
            for (int p = 0; p < CIFAR_PIXELS; p++)
                targets[(size_t)i * CIFAR_PIXELS + p] =
                    bins->cell_to_bin[nn_ab_grid_cell(bins->grid, ab[p], ab[CIFAR_PIXELS + p])];
        if (L_out) memcpy(L_out + (size_t)i * CIFAR_PIXELS, L, sizeof L);
        if (ab_out) memcpy(ab_out + (size_t)i * 2 * CIFAR_PIXELS, ab, sizeof ab);
    }
}

void lab_planes_to_rgb8(uint8_t *rgb, const float *L, const float *ab, int n) {
    float lab[3 * CIFAR_PIXELS];
    for (int i = 0; i < n; i++) {
        const float *l = L + (size_t)i * CIFAR_PIXELS, *a = ab + (size_t)i * 2 * CIFAR_PIXELS;
        for (int p = 0; p < CIFAR_PIXELS; p++) {
            lab[3 * p] = l[p];
            lab[3 * p + 1] = a[p];
            lab[3 * p + 2] = a[CIFAR_PIXELS + p];
        }
        nn_lab_fit_gamut(lab, CIFAR_PIXELS);
        nn_lab_to_srgb8(rgb + (size_t)i * CIFAR_PIXELS * 3, lab, CIFAR_PIXELS);
    }
}

void hints_to_rgb8(uint8_t *rgb, const float *L, const float *in, int n) {
    float ab[2 * CIFAR_PIXELS];
    for (int i = 0; i < n; i++) {
        const float *x = in + (size_t)i * NN_INPUT_CHANNELS * CIFAR_PIXELS, *mask = x + 3 * CIFAR_PIXELS;
        float l[CIFAR_PIXELS];
        for (int p = 0; p < CIFAR_PIXELS; p++) {
            const int px = p % CIFAR_SIDE, py = p / CIFAR_SIDE;
            int ring = 0; /* a gray pixel beside a hint: drawn dark, so that any hint stands out */
            for (int dy = -1; dy <= 1 && mask[p] <= 0.0f; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int qx = px + dx, qy = py + dy;
                    if (qx >= 0 && qy >= 0 && qx < CIFAR_SIDE && qy < CIFAR_SIDE && mask[qy * CIFAR_SIDE + qx] > 0.0f) ring = 1;
                }
            l[p] = ring ? 5.0f : L[(size_t)i * CIFAR_PIXELS + p];
            ab[p] = mask[p] > 0.0f ? x[CIFAR_PIXELS + p] * NN_AB_SCALE : 0.0f;
            ab[CIFAR_PIXELS + p] = mask[p] > 0.0f ? x[2 * CIFAR_PIXELS + p] * NN_AB_SCALE : 0.0f;
        }
        lab_planes_to_rgb8(rgb + (size_t)i * CIFAR_PIXELS * 3, l, ab, 1);
    }
}
