/* reference.c — a colour reference (photos or a palette) as a prior over
 * the network's ab bins per band of lightness: counted, each band leaning
 * on the whole reference where it holds few pixels, blurred over ab, and
 * kept as log-probabilities over the training prior, which the engine adds
 * to each pixel's logits. */
#include "nn_reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_color.h"

/* A band holding less than this share of the reference's weight leans on
 * the whole reference's histogram, as if it held this much of it. */
#define BAND_PSEUDO_SHARE 0.02
/* The histogram is blurred over ab by a Gaussian of this many ab units
 * (the bins are 10 apart): a reference's colour also makes its neighbours
 * likely. */
#define AB_BLUR 7.0
/* Every bin keeps this share of uniform probability, so no colour the
 * network is sure of is ruled out entirely. */
#define UNIFORM_SHARE 0.01
/* A palette colour counts at other lightnesses by a Gaussian of this many
 * L* units. */
#define PALETTE_LIGHTNESS_SPREAD 25.0f

struct nn_reference {
    int Q, finished;
    nn_ab_grid grid;
    int *cell_bin;   /* (grid.size²) the nearest bin of each grid cell */
    float *bin_ab;   /* (Q, 2) */
    float *log_prior; /* (Q) the training prior */
    double *count;   /* (BANDS, Q) */
    double coloured, total;
    float *prob;     /* (BANDS, Q) after finish */
    float *logit;    /* (BANDS, Q) log prob - log prior, after finish */
};

static int nearest_bin(const float *bin_ab, int Q, float a, float b) {
    int best = 0;
    float best_d = INFINITY;
    for (int q = 0; q < Q; q++) {
        const float da = bin_ab[2 * q] - a, db = bin_ab[2 * q + 1] - b, d = da * da + db * db;
        if (d < best_d) best_d = d, best = q;
    }
    return best;
}

nn_status nn_reference_create(nn_reference **out, const nn_colorizer *c, nn_error *err) {
    const int Q = c->num_bins, cells = c->grid.size * c->grid.size;
    nn_reference *r = calloc(1, sizeof *r);
    if (r) {
        r->Q = Q, r->grid = c->grid;
        r->cell_bin = malloc(sizeof(int) * (size_t)cells);
        r->bin_ab = malloc(sizeof(float) * 2 * (size_t)Q);
        r->log_prior = malloc(sizeof(float) * (size_t)Q);
        r->count = calloc((size_t)NN_REFERENCE_BANDS * Q, sizeof(double));
        r->prob = malloc(sizeof(float) * 2 * NN_REFERENCE_BANDS * (size_t)Q);
        r->logit = r->prob ? r->prob + (size_t)NN_REFERENCE_BANDS * Q : NULL;
    }
    if (!r || !r->cell_bin || !r->bin_ab || !r->log_prior || !r->count || !r->prob) {
        nn_reference_free(r);
        *out = NULL;
        return nn_set_error(err, NN_ERR_NOMEM, "out of memory for the colour reference");
    }
    memcpy(r->bin_ab, c->bin_ab, sizeof(float) * 2 * (size_t)Q);
    nn_colorizer_log_prior(c, r->log_prior);
    for (int cell = 0; cell < cells; cell++) {
        float a, b;
        nn_ab_grid_center(r->grid, cell, &a, &b);
        r->cell_bin[cell] = nearest_bin(r->bin_ab, Q, a, b);
    }
    *out = r;
    return NN_OK;
}

void nn_reference_free(nn_reference *r) {
    if (!r) return;
    free(r->cell_bin), free(r->bin_ab), free(r->log_prior), free(r->count), free(r->prob);
    free(r);
}

static int band_of(float L) {
    const int band = (int)(L / NN_REFERENCE_BAND);
    return band < 0 ? 0 : band >= NN_REFERENCE_BANDS ? NN_REFERENCE_BANDS - 1 : band;
}

static void count(nn_reference *r, int band, float a, float b, double weight) {
    r->count[(size_t)band * r->Q + r->cell_bin[nn_ab_grid_cell(r->grid, a, b)]] += weight;
}

void nn_reference_add_pixels(nn_reference *r, const float *lab, size_t n) {
    if (r->finished) return;
    for (size_t i = 0; i < n; i++) {
        const float *p = lab + 3 * i;
        if (!(p[0] >= 0.0f && p[0] <= 100.0f)) continue; /* NaN or out of range: no information */
        count(r, band_of(p[0]), p[1], p[2], 1.0);
        r->coloured += hypotf(p[1], p[2]) >= NN_REFERENCE_MIN_CHROMA;
        r->total += 1.0;
    }
}

void nn_reference_add_colour(nn_reference *r, const float lab[3], float weight) {
    if (r->finished || !(weight > 0.0f) || !(lab[0] >= 0.0f && lab[0] <= 100.0f)) return;
    for (int band = 0; band < NN_REFERENCE_BANDS; band++) {
        const float centre = (band + 0.5f) * NN_REFERENCE_BAND, z = (centre - lab[0]) / PALETTE_LIGHTNESS_SPREAD;
        float at[3] = {centre, lab[1], lab[2]};
        nn_lab_fit_gamut(at, 1);
        count(r, band, at[1], at[2], weight * exp(-0.5 * z * z));
    }
    r->coloured += hypotf(lab[1], lab[2]) >= NN_REFERENCE_MIN_CHROMA ? weight : 0.0f;
    r->total += weight;
}

/* One band's probabilities: its histogram with the whole reference's as a
 * pseudo-count, blurred over ab, with a share of uniform. */
static void band_probabilities(const nn_reference *r, const double *band, const double *all, double all_n, float *p,
                               double *tmp) {
    const int Q = r->Q;
    double n = 0.0, sum = 0.0;
    for (int q = 0; q < Q; q++) n += band[q];
    const double pseudo = BAND_PSEUDO_SHARE * all_n;
    for (int q = 0; q < Q; q++) tmp[q] = (band[q] + pseudo * all[q] / all_n) / (n + pseudo);
    for (int q = 0; q < Q; q++) {
        double v = 0.0;
        for (int j = 0; j < Q; j++) {
            const double da = r->bin_ab[2 * q] - r->bin_ab[2 * j], db = r->bin_ab[2 * q + 1] - r->bin_ab[2 * j + 1];
            v += tmp[j] * exp(-(da * da + db * db) / (2.0 * AB_BLUR * AB_BLUR));
        }
        p[q] = (float)v, sum += v;
    }
    for (int q = 0; q < Q; q++) p[q] = (float)((1.0 - UNIFORM_SHARE) * p[q] / sum + UNIFORM_SHARE / Q);
}

nn_status nn_reference_finish(nn_reference *r, nn_error *err) {
    const int Q = r->Q;
    if (r->finished) return NN_OK;
    if (!(r->total > 0.0) || r->coloured < NN_REFERENCE_MIN_COLOURED * r->total)
        return nn_set_error(err, NN_ERR_INVALID,
                            "the colour reference has no colour to give (%.1f%% of it has a chroma of %g or more)",
                            r->total > 0.0 ? 100.0 * r->coloured / r->total : 0.0, NN_REFERENCE_MIN_CHROMA);
    double *all = calloc((size_t)2 * Q, sizeof(double)), *tmp = all ? all + Q : NULL, all_n = 0.0;
    if (!all) return nn_set_error(err, NN_ERR_NOMEM, "out of memory for the colour reference");
    for (int band = 0; band < NN_REFERENCE_BANDS; band++)
        for (int q = 0; q < Q; q++) all[q] += r->count[(size_t)band * Q + q], all_n += r->count[(size_t)band * Q + q];
    for (int band = 0; band < NN_REFERENCE_BANDS; band++) {
        float *p = r->prob + (size_t)band * Q, *logit = r->logit + (size_t)band * Q;
        band_probabilities(r, r->count + (size_t)band * Q, all, all_n, p, tmp);
        for (int q = 0; q < Q; q++) logit[q] = logf(p[q]) - r->log_prior[q];
    }
    free(all);
    r->finished = 1;
    return NN_OK;
}

int nn_reference_is_finished(const nn_reference *r) {
    return r->finished;
}

/* The two bands around lightness L and the share of the upper one. */
static void bands_around(float L, int *b0, int *b1, float *f) {
    float t = L / NN_REFERENCE_BAND - 0.5f;
    t = t < 0.0f ? 0.0f : t > NN_REFERENCE_BANDS - 1 ? (float)(NN_REFERENCE_BANDS - 1) : t;
    if (!(t == t)) t = 0.0f; /* NaN */
    *b0 = (int)t, *b1 = *b0 + 1 < NN_REFERENCE_BANDS ? *b0 + 1 : *b0, *f = t - (float)*b0;
}

void nn_reference_add_logits(const nn_reference *r, float weight, const float *L, int np, float *out, size_t stride) {
    const int Q = r->Q;
    for (int i = 0; i < np; i++) {
        int b0, b1;
        float f;
        bands_around(L[i], &b0, &b1, &f);
        const float *lo = r->logit + (size_t)b0 * Q, *hi = r->logit + (size_t)b1 * Q;
        for (int q = 0; q < Q; q++) out[(size_t)q * stride + i] += weight * (lo[q] + f * (hi[q] - lo[q]));
    }
}

void nn_reference_mean_ab(const nn_reference *r, float L, float *a, float *b) {
    int b0, b1;
    float f;
    bands_around(L, &b0, &b1, &f);
    double sa = 0.0, sb = 0.0;
    for (int q = 0; q < r->Q; q++) {
        const float p = (1.0f - f) * r->prob[(size_t)b0 * r->Q + q] + f * r->prob[(size_t)b1 * r->Q + q];
        sa += p * r->bin_ab[2 * q], sb += p * r->bin_ab[2 * q + 1];
    }
    *a = (float)sa, *b = (float)sb;
}
