/* reference.c — a colour reference (photos or a palette) as a prior over
 * the network's ab bins for each lightness and local texture (after Welsh
 * et al. 2002, who match a pixel to the reference by its lightness and the
 * spread of lightness around it): counted per band of lightness and class
 * of texture, each cell leaning on its band, and the band on the whole
 * reference, where they hold few pixels; blurred over ab; kept as
 * log-probabilities for every whole L*, which the engine combines with
 * each pixel's logits. */
#include "nn_reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_color.h"

/* A cell (band and texture) or a band holding less than this share of the
 * reference's weight leans on the level above it as if it held this much
 * (chosen on the real photos: 0.02 cost 0.5 dB on `eval --reference split`). */
#define PSEUDO_SHARE 0.0005
/* The histogram is blurred over ab by a Gaussian of this many ab units
 * (the bins are 10 apart): a reference's colour also makes its neighbours
 * likely. */
#define AB_BLUR 3.0
/* Every bin keeps this share of uniform probability, so no colour the
 * network is sure of is ruled out entirely. */
#define UNIFORM_SHARE 0.001
/* The log-probabilities are kept for every whole L* (the bands'
 * probabilities interpolated linearly between their centres), so that a
 * pixel's prior is a mixture of its two bands' and is looked up. */
#define FINE_ROWS 101
/* A palette colour counts at other lightnesses by a Gaussian of this many
 * L* units. */
#define PALETTE_LIGHTNESS_SPREAD 25.0f
/* Texture classes: the standard deviation of L* in a window of
 * NN_REFERENCE_TEXTURE_RADIUS, below each of these bounds (the last open). */
static const float TEXTURE_BOUNDS[NN_REFERENCE_TEXTURES - 1] = {1.5f, 4.0f, 9.0f};

struct nn_reference {
    int Q, finished;
    nn_ab_grid grid;
    int *cell_bin;    /* (grid.size²) the nearest bin of each grid cell */
    float *bin_ab;    /* (Q, 2) */
    float *log_prior; /* (Q) the training prior */
    double *count;    /* (BANDS, TEXTURES, Q) */
    double coloured, total;
    float *prob;      /* (BANDS, TEXTURES, Q) after finish */
    float *logit;     /* (Q, FINE_ROWS × TEXTURES) log prob at each whole L* and texture, after finish:
                         bin by bin, so that a block of pixels reads one short row per bin */
};

nn_status nn_reference_create(nn_reference **out, const nn_colorizer *c, nn_error *err) {
    const int Q = c->ab.num_bins, cells = c->ab.grid.size * c->ab.grid.size;
    const size_t table = (size_t)NN_REFERENCE_BANDS * NN_REFERENCE_TEXTURES * Q;
    nn_reference *r = calloc(1, sizeof *r);
    if (r) {
        r->Q = Q, r->grid = c->ab.grid;
        r->cell_bin = malloc(sizeof(int) * (size_t)cells);
        r->bin_ab = malloc(sizeof(float) * 2 * (size_t)Q);
        r->log_prior = malloc(sizeof(float) * (size_t)Q);
        r->count = calloc(table, sizeof(double));
        r->prob = malloc(sizeof(float) * (table + (size_t)FINE_ROWS * NN_REFERENCE_TEXTURES * Q));
        r->logit = r->prob ? r->prob + table : NULL;
    }
    if (!r || !r->cell_bin || !r->bin_ab || !r->log_prior || !r->count || !r->prob) {
        nn_reference_free(r);
        *out = NULL;
        return nn_set_error(err, NN_ERR_NOMEM, "out of memory for the colour reference");
    }
    memcpy(r->bin_ab, c->ab.bin_ab, sizeof(float) * 2 * (size_t)Q);
    nn_colorizer_log_prior(c, r->log_prior);
    nn_ab_cell_map(r->grid, r->bin_ab, Q, r->cell_bin);
    *out = r;
    return NN_OK;
}

void nn_reference_free(nn_reference *r) {
    if (!r) return;
    free(r->cell_bin), free(r->bin_ab), free(r->log_prior), free(r->count), free(r->prob);
    free(r);
}

int nn_reference_is_finished(const nn_reference *r) {
    return r->finished;
}

nn_status nn_reference_check_model(const nn_reference *r, const nn_colorizer *c, nn_error *err) {
    if (r->Q == c->ab.num_bins && memcmp(r->bin_ab, c->ab.bin_ab, sizeof(float) * 2 * (size_t)r->Q) == 0) return NN_OK;
    return nn_set_error(err, NN_ERR_INVALID, "the colour reference was made on another model's colour bins (%d, this "
                        "model has %d)", r->Q, c->ab.num_bins);
}

void nn_reference_texture(const float *L, int w, int h, float *texture) {
    const int R = NN_REFERENCE_TEXTURE_RADIUS;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double s = 0.0, s2 = 0.0;
            int n = 0;
            for (int yy = y - R; yy <= y + R; yy++)
                for (int xx = x - R; xx <= x + R; xx++) {
                    if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
                    const double v = L[(size_t)yy * w + xx];
                    s += v, s2 += v * v, n++;
                }
            const double var = s2 / n - (s / n) * (s / n);
            texture[(size_t)y * w + x] = var > 0.0 ? (float)sqrt(var) : 0.0f;
        }
}

static int band_of(float L) {
    const int band = (int)(L / NN_REFERENCE_BAND);
    return band < 0 ? 0 : band >= NN_REFERENCE_BANDS ? NN_REFERENCE_BANDS - 1 : band;
}

static int texture_class(float t) {
    int c = 0;
    while (c < NN_REFERENCE_TEXTURES - 1 && !(t < TEXTURE_BOUNDS[c])) c++;
    return c;
}

static double *cell_counts(nn_reference *r, int band, int texture) {
    return r->count + ((size_t)band * NN_REFERENCE_TEXTURES + texture) * r->Q;
}

static void count(nn_reference *r, int band, int texture, float a, float b, double weight) {
    const int q = r->cell_bin[nn_ab_grid_cell(r->grid, a, b)];
    if (texture >= 0) {
        cell_counts(r, band, texture)[q] += weight;
        return;
    }
    for (int t = 0; t < NN_REFERENCE_TEXTURES; t++) cell_counts(r, band, t)[q] += weight / NN_REFERENCE_TEXTURES;
}

void nn_reference_add_pixels(nn_reference *r, const float *lab, const float *texture, size_t n) {
    if (r->finished) return;
    for (size_t i = 0; i < n; i++) {
        const float *p = lab + 3 * i;
        if (!(p[0] >= 0.0f && p[0] <= 100.0f)) continue; /* NaN or out of range: no information */
        count(r, band_of(p[0]), texture ? texture_class(texture[i]) : -1, p[1], p[2], 1.0);
        r->coloured += hypotf(p[1], p[2]) >= NN_REFERENCE_MIN_CHROMA;
        r->total += 1.0;
    }
}

/* Whether pixels (or palette weight) `total`, `coloured` of them at a
 * chroma of NN_REFERENCE_MIN_CHROMA or more, have too little colour to give. */
static int no_colour(double coloured, double total) {
    return !(total > 0.0) || coloured < NN_REFERENCE_MIN_COLOURED * total;
}

static nn_status no_colour_error(double coloured, double total, nn_error *err) {
    if (!(total > 0.0))
        return nn_set_error(err, NN_ERR_INVALID, "the colour reference has no colour to give: it has no opaque pixel");
    return nn_set_error(err, NN_ERR_INVALID, "the colour reference has no colour to give: it is gray (%.1f%% of it has "
                        "a chroma of %g or more; %g%% is needed)", 100.0 * coloured / total,
                        NN_REFERENCE_MIN_CHROMA, 100.0 * NN_REFERENCE_MIN_COLOURED);
}

nn_status nn_reference_add_image(nn_reference *r, const uint8_t *px, int channels, int w, int h, size_t stride,
                                 nn_error *err) {
    if ((channels != 3 && channels != 4) || w < 1 || h < 1 || stride < (size_t)channels * (size_t)w)
        return nn_set_error(err, NN_ERR_INVALID,
                            "a %d×%d colour reference of %d channels, rows %zu bytes apart: 1×1 or more, 3 or 4 "
                            "channels, rows no closer than their pixels", w, h, channels, stride);
    const size_t n = (size_t)w * h;
    float *lab = malloc(sizeof(float) * 5 * n), *L = lab ? lab + 3 * n : NULL, *texture = L ? L + n : NULL;
    uint8_t *rgb = malloc(3 * n);
    if (!lab || !rgb) {
        free(lab), free(rgb);
        return nn_set_error(err, NN_ERR_NOMEM, "out of memory for a %d×%d colour reference", w, h);
    }
    for (size_t i = 0; i < n; i++) memcpy(rgb + 3 * i, px + (i / w) * stride + (size_t)channels * (i % w), 3);
    nn_srgb8_to_lab(lab, rgb, n);
    for (size_t i = 0; i < n; i++) L[i] = lab[3 * i];
    nn_reference_texture(L, w, h, texture);
    size_t kept = 0, coloured = 0; /* the opaque pixels, packed */
    for (size_t i = 0; i < n; i++) {
        if (channels == 4 && px[(i / w) * stride + 4 * (i % w) + 3] < NN_REFERENCE_MIN_ALPHA) continue;
        memmove(lab + 3 * kept, lab + 3 * i, sizeof(float) * 3);
        coloured += hypotf(lab[3 * kept + 1], lab[3 * kept + 2]) >= NN_REFERENCE_MIN_CHROMA;
        texture[kept++] = texture[i];
    }
    /* each image must have colour of its own: a gray one among several is a mistake, not a reference */
    nn_status st = no_colour(coloured, kept) ? no_colour_error((double)coloured, (double)kept, err) : NN_OK;
    if (!st) nn_reference_add_pixels(r, lab, texture, kept);
    free(lab), free(rgb);
    return st;
}

void nn_reference_add_colour(nn_reference *r, const float lab[3], float weight) {
    if (r->finished || !(weight > 0.0f && isfinite(weight)) || !(lab[0] >= 0.0f && lab[0] <= 100.0f)) return;
    for (int band = 0; band < NN_REFERENCE_BANDS; band++) {
        const float centre = (band + 0.5f) * NN_REFERENCE_BAND, z = (centre - lab[0]) / PALETTE_LIGHTNESS_SPREAD;
        float at[3] = {centre, lab[1], lab[2]};
        nn_lab_fit_gamut(at, 1);
        count(r, band, -1, at[1], at[2], weight * exp(-0.5 * z * z));
    }
    r->coloured += hypotf(lab[1], lab[2]) >= NN_REFERENCE_MIN_CHROMA ? weight : 0.0f;
    r->total += weight;
}

/* h = (counts + pseudo × parent) / (n + pseudo), parent a distribution. */
static void lean_on(const double *counts, const double *parent, double pseudo, int Q, double *h) {
    double n = 0.0;
    for (int q = 0; q < Q; q++) n += counts[q];
    for (int q = 0; q < Q; q++) h[q] = (counts[q] + pseudo * parent[q]) / (n + pseudo);
}

/* kernel (Q, Q): the Gaussian of AB_BLUR between every two bins. */
static void blur_kernel(const nn_reference *r, double *kernel) {
    const int Q = r->Q;
    for (int q = 0; q < Q; q++)
        for (int j = 0; j < Q; j++) {
            const double da = r->bin_ab[2 * q] - r->bin_ab[2 * j], db = r->bin_ab[2 * q + 1] - r->bin_ab[2 * j + 1];
            kernel[(size_t)q * Q + j] = exp(-(da * da + db * db) / (2.0 * AB_BLUR * AB_BLUR));
        }
}

/* A histogram blurred over ab, with a share of uniform, as probabilities. */
static void blur_into(const nn_reference *r, const double *kernel, const double *h, float *p) {
    const int Q = r->Q;
    double sum = 0.0;
    for (int q = 0; q < Q; q++) {
        double v = 0.0;
        for (int j = 0; j < Q; j++) v += h[j] * kernel[(size_t)q * Q + j];
        p[q] = (float)v, sum += v;
    }
    for (int q = 0; q < Q; q++) p[q] = (float)((1.0 - UNIFORM_SHARE) * p[q] / sum + UNIFORM_SHARE / Q);
}

/* The two bands around lightness L and the share of the upper one. */
static void bands_around(float L, int *b0, int *b1, float *f) {
    float t = L / NN_REFERENCE_BAND - 0.5f;
    t = t < 0.0f ? 0.0f : t > NN_REFERENCE_BANDS - 1 ? (float)(NN_REFERENCE_BANDS - 1) : t;
    if (!(t == t)) t = 0.0f; /* NaN */
    *b0 = (int)t, *b1 = *b0 + 1 < NN_REFERENCE_BANDS ? *b0 + 1 : *b0, *f = t - (float)*b0;
}

/* Every cell's probabilities: the cell leaning on its band, the band on
 * the whole reference. work: Q × (Q + 3) doubles. */
static void cell_probabilities(nn_reference *r, double *work) {
    const int Q = r->Q, T = NN_REFERENCE_TEXTURES;
    double *all = work, *band = all + Q, *h = band + Q, *kernel = h + Q, all_n = 0.0, pseudo = 0.0;
    blur_kernel(r, kernel);
    memset(all, 0, sizeof(double) * 3 * (size_t)Q);
    for (size_t i = 0; i < (size_t)NN_REFERENCE_BANDS * T * Q; i++) all[i % Q] += r->count[i], all_n += r->count[i];
    for (int q = 0; q < Q; q++) all[q] /= all_n;
    pseudo = PSEUDO_SHARE * all_n;
    for (int b = 0; b < NN_REFERENCE_BANDS; b++) {
        memset(h, 0, sizeof(double) * (size_t)Q);
        for (int t = 0; t < T; t++)
            for (int q = 0; q < Q; q++) h[q] += cell_counts(r, b, t)[q];
        lean_on(h, all, pseudo, Q, band);
        for (int t = 0; t < T; t++) {
            lean_on(cell_counts(r, b, t), band, pseudo, Q, h);
            blur_into(r, kernel, h, r->prob + ((size_t)b * T + t) * Q);
        }
    }
}

nn_status nn_reference_finish(nn_reference *r, nn_error *err) {
    const int Q = r->Q, T = NN_REFERENCE_TEXTURES;
    if (r->finished) return NN_OK;
    if (no_colour(r->coloured, r->total)) return no_colour_error(r->coloured, r->total, err);
    double *work = malloc(sizeof(double) * ((size_t)Q + 3) * Q);
    if (!work) return nn_set_error(err, NN_ERR_NOMEM, "out of memory for the colour reference");
    cell_probabilities(r, work);
    free(work);
    for (int row = 0; row < FINE_ROWS; row++) {
        int b0, b1;
        float f;
        bands_around((float)row, &b0, &b1, &f);
        for (int t = 0; t < T; t++) {
            const float *lo = r->prob + ((size_t)b0 * T + t) * Q, *hi = r->prob + ((size_t)b1 * T + t) * Q;
            const size_t at = (size_t)row * T + t;
            for (int q = 0; q < Q; q++) r->logit[(size_t)q * FINE_ROWS * T + at] = logf(lo[q] + f * (hi[q] - lo[q]));
        }
    }
    r->finished = 1;
    return NN_OK;
}

/* The column of the table for lightness L (its nearest whole L*) and texture t. */
static int fine_column(float L, float t) {
    const int row = !(L > 0.0f) ? 0 : L >= FINE_ROWS - 1 ? FINE_ROWS - 1 : (int)(L + 0.5f); /* NaN: 0 */
    return row * NN_REFERENCE_TEXTURES + texture_class(t);
}

/* Pixels are taken this many at a time (their columns kept on the stack). */
#define PIXEL_CHUNK 256

void nn_reference_temper_logits(const nn_reference *r, float weight, const float *bias, const float *L,
                                const float *texture, int np, float *out, size_t stride) {
    /* above 1 the network's opinion is tempered; below, the reference's prior fades into the training set's */
    const float beta = weight > 1.0f ? 1.0f / weight : 1.0f, gamma = weight < 1.0f ? weight : 1.0f;
    int column[PIXEL_CHUNK];
    for (int i0 = 0; i0 < np; i0 += PIXEL_CHUNK) {
        const int n = np - i0 < PIXEL_CHUNK ? np - i0 : PIXEL_CHUNK;
        for (int i = 0; i < n; i++) column[i] = fine_column(L[i0 + i], texture[i0 + i]);
        for (int q = 0; q < r->Q; q++) {
            const float *table = r->logit + (size_t)q * FINE_ROWS * NN_REFERENCE_TEXTURES;
            const float shift = (bias ? bias[q] : 0.0f) - r->log_prior[q], kept = (1.0f - gamma) * r->log_prior[q];
            float *o = out + (size_t)q * stride + i0;
            for (int i = 0; i < n; i++) o[i] = beta * (o[i] + shift) + gamma * table[column[i]] + kept;
        }
    }
}

void nn_reference_add_logits(const nn_reference *r, float weight, const float *L, const float *texture, int np,
                             float *out, size_t stride) {
    const float gamma = weight < 1.0f ? weight : 1.0f;
    for (int i = 0; i < np; i++) {
        const int column = fine_column(L[i], texture[i]);
        for (int q = 0; q < r->Q; q++)
            out[(size_t)q * stride + i] +=
                gamma * (r->logit[(size_t)q * FINE_ROWS * NN_REFERENCE_TEXTURES + column] - r->log_prior[q]);
    }
}
