/* photohints.c — `colorize-train eval --photos DIR --hints K[,K…]`: the
 * real-photo benchmark the way users click. For each photo and each K, K
 * point hints at random positions (a fixed seed), each the mean sRGB of the
 * original over 7×7 pixels (Zhang et al. 2017's protocol), then PSNR and
 * the gain over gray. And "one click per region": the original segmented
 * into regions of similar colour (k-means in Lab, connected pieces), one
 * point at the most interior pixel of each large region; how much of each
 * region takes its hint's colour, and how much of the other regions takes
 * a hint colour that is not theirs (where neither their hint nor the
 * original pixel has that hue); then each click given alone, as a user's
 * first click is, and the same two shares. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "trainer.h"

/* A hint is the mean of the original over this many pixels square. */
#define HINT_WINDOW 7
/* Colour classes of the segmentation, its iterations, and the box blur
 * applied to the original's Lab first (radius, pixels). */
#define REGION_CLASSES 6
#define REGION_ITERATIONS 12
#define REGION_BLUR 2
/* A region gets a click when it holds at least this share of the photo. */
#define REGION_MIN_SHARE 0.02
/* "Takes a hint's colour": hue within this many degrees of the hint's and
 * at least half the chroma the hint can have at the pixel's lightness. */
#define TAKE_HUE_DEGREES 30.0
#define TAKE_CHROMA_SHARE 0.5
/* A hint below this chroma has no hue to take. */
#define HINT_MIN_CHROMA 10.0f
/* A pixel below this chroma shows no hue: in the original, any hint's
 * colour there would be a leak; in the output, it shows no leak. */
#define VISIBLE_CHROMA 5.0f

typedef struct {
    double x, y;
    uint8_t rgb[3];
    float a, b;
} bench_hint;

/* The mean sRGB of the original over HINT_WINDOW² pixels around (x, y), and its ab. */
static bench_hint hint_from_truth(const uint8_t *rgb, int w, int h, int x, int y) {
    const int r = HINT_WINDOW / 2;
    double s[3] = {0, 0, 0};
    int n = 0;
    for (int yy = y - r; yy <= y + r; yy++)
        for (int xx = x - r; xx <= x + r; xx++) {
            if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
            for (int c = 0; c < 3; c++) s[c] += rgb[((size_t)yy * w + xx) * 3 + c];
            n++;
        }
    bench_hint hint = {.x = x + 0.5, .y = y + 0.5};
    for (int c = 0; c < 3; c++) hint.rgb[c] = (uint8_t)lround(s[c] / n);
    float lab[3];
    nn_srgb8_to_lab(lab, hint.rgb, 1);
    hint.a = lab[1], hint.b = lab[2];
    return hint;
}

/* The engine on the gray photo with these point hints; out: 8-bit RGB. */
static gboolean colorize_points(nn_colorizer *c, const nn_engine_params *params, const float *L, int w, int h,
                                const bench_hint *hints, int n, uint8_t *out, GError **error) {
    nn_engine *e = NULL;
    nn_error err = {0};
    const size_t np = (size_t)w * h;
    float *ab = g_malloc(sizeof(float) * 2 * np);
    nn_status st = nn_engine_begin(&e, w, h, params, &err);
    if (!st) st = nn_engine_add_rows(e, 0, h, L, NULL, NULL, NULL, &err);
    for (int i = 0; i < n && !st; i++) st = nn_engine_add_point_hint(e, hints[i].x, hints[i].y, hints[i].a, hints[i].b, &err);
    if (!st) st = nn_engine_predict(e, c, NULL, NULL, NULL, &err);
    if (!st) {
        nn_engine_ab_rows(e, 0, h, L, ab, ab + np);
        lab_planes_to_pixels(out, w * 3, 3, L, ab, NULL, w, h);
    } else
        g_set_error(error, TRAINER_ERROR, 1, "%s", err.msg);
    nn_engine_free(e);
    g_free(ab);
    return st == NN_OK;
}

/* Box blur of interleaved triples, radius r, clipped at the edges. */
static void blur3(float *out, const float *in, int w, int h, int r) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double s[3] = {0, 0, 0};
            int n = 0;
            for (int yy = y - r; yy <= y + r; yy++)
                for (int xx = x - r; xx <= x + r; xx++) {
                    if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
                    for (int c = 0; c < 3; c++) s[c] += in[((size_t)yy * w + xx) * 3 + c];
                    n++;
                }
            for (int c = 0; c < 3; c++) out[((size_t)y * w + x) * 3 + c] = (float)(s[c] / n);
        }
}

/* k-means of the Lab pixels into REGION_CLASSES classes (centres spread
 * over the pixels in order of lightness, so the same photo gives the same
 * classes). */
static void kmeans_lab(const float *lab, size_t n, int *cls) {
    float centre[REGION_CLASSES][3];
    for (int k = 0; k < REGION_CLASSES; k++) {
        size_t i = (size_t)((k + 0.5) * n / REGION_CLASSES);
        for (int c = 0; c < 3; c++) centre[k][c] = lab[i * 3 + c];
    }
    for (int it = 0; it < REGION_ITERATIONS; it++) {
        double sum[REGION_CLASSES][4] = {{0}};
        for (size_t i = 0; i < n; i++) {
            int best = 0;
            float bd = INFINITY;
            for (int k = 0; k < REGION_CLASSES; k++) {
                float d = 0;
                for (int c = 0; c < 3; c++) d += (lab[i * 3 + c] - centre[k][c]) * (lab[i * 3 + c] - centre[k][c]);
                if (d < bd) bd = d, best = k;
            }
            cls[i] = best;
            for (int c = 0; c < 3; c++) sum[best][c] += lab[i * 3 + c];
            sum[best][3] += 1;
        }
        for (int k = 0; k < REGION_CLASSES; k++)
            if (sum[k][3] > 0)
                for (int c = 0; c < 3; c++) centre[k][c] = (float)(sum[k][c] / sum[k][3]);
    }
}

/* Connected pieces (4-neighbours) of one class each: region ids in reg,
 * their areas in *area (g_free); returns the count. */
static int label_regions(const int *cls, int w, int h, int *reg, int **area) {
    const size_t n = (size_t)w * h;
    int *stack = g_malloc(sizeof(int) * n), count = 0;
    GArray *areas = g_array_new(FALSE, FALSE, sizeof(int));
    for (size_t i = 0; i < n; i++) reg[i] = -1;
    for (size_t s = 0; s < n; s++) {
        if (reg[s] >= 0) continue;
        int top = 0, a = 0;
        reg[s] = count, stack[top++] = (int)s;
        while (top) {
            const int k = stack[--top], x = k % w, y = k / w;
            a++;
            const int nb[4] = {x > 0 ? k - 1 : -1, x + 1 < w ? k + 1 : -1, y > 0 ? k - w : -1, y + 1 < h ? k + w : -1};
            for (int i = 0; i < 4; i++)
                if (nb[i] >= 0 && reg[nb[i]] < 0 && cls[nb[i]] == cls[k]) reg[nb[i]] = count, stack[top++] = nb[i];
        }
        g_array_append_val(areas, a);
        count++;
    }
    g_free(stack);
    *area = (int *)g_array_free(areas, FALSE);
    return count;
}

/* For each region, its most interior pixel (largest city-block distance to
 * another region or the border), where a user would click. */
static void interior_points(const int *reg, int w, int h, int nreg, int *best) {
    const size_t n = (size_t)w * h;
    int *d = g_malloc(sizeof(int) * n);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t k = (size_t)y * w + x;
            int edge = x == 0 || y == 0 || x == w - 1 || y == h - 1 || reg[k - 1] != reg[k] || reg[k + 1] != reg[k] ||
                       reg[k - w] != reg[k] || reg[k + w] != reg[k];
            d[k] = edge ? 0 : 1 << 28;
        }
    for (int y = 1; y < h; y++)
        for (int x = 1; x < w; x++) {
            size_t k = (size_t)y * w + x;
            d[k] = MIN(d[k], MIN(d[k - 1], d[k - w]) + 1);
        }
    for (int y = h - 2; y >= 0; y--)
        for (int x = w - 2; x >= 0; x--) {
            size_t k = (size_t)y * w + x;
            d[k] = MIN(d[k], MIN(d[k + 1], d[k + w]) + 1);
        }
    int *bd = g_malloc(sizeof(int) * nreg);
    for (int r = 0; r < nreg; r++) bd[r] = -1, best[r] = 0;
    for (size_t k = 0; k < n; k++)
        if (d[k] > bd[reg[k]]) bd[reg[k]] = d[k], best[reg[k]] = (int)k;
    g_free(bd), g_free(d);
}

/* Whether the output pixel (Lab) takes the hint's colour. */
static gboolean takes_hint(const float *lab, const bench_hint *hint) {
    const float hc = hypotf(hint->a, hint->b);
    if (hc < HINT_MIN_CHROMA) return FALSE;
    float fit[3] = {lab[0], hint->a, hint->b};
    nn_lab_fit_gamut(fit, 1);
    const float want = TAKE_CHROMA_SHARE * hypotf(fit[1], fit[2]), c = hypotf(lab[1], lab[2]);
    if (c < want || c < 1e-3f) return FALSE;
    double dh = fabs(atan2(lab[2], lab[1]) - atan2(hint->b, hint->a)) * 180.0 / M_PI;
    if (dh > 180.0) dh = 360.0 - dh;
    return dh <= TAKE_HUE_DEGREES;
}

/* Whether the original pixel (Lab) is itself of the hint's hue: a hint's
 * colour there is no leak, whatever region the pixel is in. */
static gboolean truth_has_hue(const float *lab, const bench_hint *hint) {
    if (hypotf(lab[1], lab[2]) < VISIBLE_CHROMA) return FALSE;
    double dh = fabs(atan2(lab[2], lab[1]) - atan2(hint->b, hint->a)) * 180.0 / M_PI;
    if (dh > 180.0) dh = 360.0 - dh;
    return dh <= TAKE_HUE_DEGREES;
}

/* Two hints whose colours a pixel could not tell apart (both hueless, or
 * hues within TAKE_HUE_DEGREES). */
static gboolean same_hue(const bench_hint *p, const bench_hint *q) {
    const int pc = hypotf(p->a, p->b) >= HINT_MIN_CHROMA, qc = hypotf(q->a, q->b) >= HINT_MIN_CHROMA;
    if (!pc || !qc) return pc == qc;
    double dh = fabs(atan2(p->b, p->a) - atan2(q->b, q->a)) * 180.0 / M_PI;
    if (dh > 180.0) dh = 360.0 - dh;
    return dh <= TAKE_HUE_DEGREES;
}

/* One click per region figures of one photo. */
typedef struct {
    int clicks;   /* large regions clicked */
    double reach; /* mean share of a chromatic hint's region taking its colour */
    long leaked, exposed; /* pixels of other regions (and of another hue) that took a hint's colour, of those exposed */
    long alone;           /* of those, how many take that colour with no hint at all (the network's own) */
    long by_hints;        /* and how many take it only with the hints: what the hints did */
    int reach_n;
    /* each chromatic click given alone: the sum over them of the share of its
     * region taking its colour and of the other regions' exposed pixels
     * taking it only with that hint; lone_n clicks */
    double lone_reach, lone_leak;
    int lone_n;
} region_figures;

/* A photo segmented into regions, and the click on each large one. */
typedef struct {
    int w, h;
    float *truth;      // (h, w, 3) the original's Lab
    int *reg;          // (h, w) the region of each pixel
    int *click;        // (nreg) the hint clicked in each region, -1 if none
    bench_hint *hints; // (nh) the clicks
    int nh;
} photo_regions;

static void photo_regions_free(photo_regions *r) {
    g_free(r->truth), g_free(r->reg), g_free(r->click), g_free(r->hints);
}

/* The original in Lab, its regions (k-means classes of the blurred Lab,
 * cut into connected pieces), and one click at the most interior pixel of
 * each region of at least REGION_MIN_SHARE of the photo. */
static void click_regions(const uint8_t *truth, int w, int h, photo_regions *r) {
    const size_t n = (size_t)w * h;
    float *blur = g_malloc(sizeof(float) * 3 * n);
    int *cls = g_malloc(sizeof(int) * n), *area = NULL;
    *r = (photo_regions){.w = w, .h = h, .truth = g_malloc(sizeof(float) * 3 * n), .reg = g_malloc(sizeof(int) * n)};
    nn_srgb8_to_lab(r->truth, truth, n);
    blur3(blur, r->truth, w, h, REGION_BLUR);
    kmeans_lab(blur, n, cls);
    const int nreg = label_regions(cls, w, h, r->reg, &area);
    int *inner = g_malloc(sizeof(int) * nreg);
    interior_points(r->reg, w, h, nreg, inner);
    r->click = g_malloc(sizeof(int) * nreg), r->hints = g_new(bench_hint, nreg);
    for (int g = 0; g < nreg; g++) {
        r->click[g] = -1;
        if (area[g] < REGION_MIN_SHARE * n || r->nh == NN_MAX_POINT_HINTS) continue;
        r->click[g] = r->nh;
        r->hints[r->nh++] = hint_from_truth(truth, w, h, inner[g] % w, inner[g] / w);
    }
    g_free(blur), g_free(cls), g_free(area), g_free(inner);
}

static gboolean is_chromatic(const bench_hint *hint) { return hypotf(hint->a, hint->b) >= HINT_MIN_CHROMA; }

/* Whether the result's pixel (Lab) shows the hint's colour. */
static gboolean shows_hint(const float *lab, const bench_hint *hint) {
    return takes_hint(lab, hint) && hypotf(lab[1], lab[2]) >= VISIBLE_CHROMA;
}

/* Whether hint j's colour on pixel k would be a leak: k lies in another
 * clicked region, whose hint is of another hue, and the original is not of
 * j's hue there. */
static gboolean exposed_to(const photo_regions *r, size_t k, int j) {
    const int own = r->click[r->reg[k]];
    return own >= 0 && own != j && !same_hue(&r->hints[j], &r->hints[own]) &&
           !truth_has_hue(r->truth + 3 * k, &r->hints[j]);
}

/* Every click given at once: each region's share taking its hint's colour,
 * and the other regions' pixels taking a hint's colour (result and alone,
 * the result with no hint, both Lab). */
static void count_taken_and_leaked(const photo_regions *r, const float *result, const float *alone,
                                   region_figures *f) {
    const size_t n = (size_t)r->w * r->h;
    const int nh = r->nh;
    long *in_region = g_new0(long, nh), *taken = g_new0(long, nh), *other = g_new0(long, nh), *leaked = g_new0(long, nh);
    long *was_alone = g_new0(long, nh), *by_hints = g_new0(long, nh);
    for (size_t k = 0; k < n; k++) {
        const int own = r->click[r->reg[k]];
        if (own < 0) continue;
        in_region[own]++;
        taken[own] += takes_hint(result + 3 * k, &r->hints[own]);
        for (int j = 0; j < nh; j++) {
            if (!exposed_to(r, k, j)) continue;
            const gboolean was = shows_hint(alone + 3 * k, &r->hints[j]), is = shows_hint(result + 3 * k, &r->hints[j]);
            other[j]++, leaked[j] += is, was_alone[j] += was, by_hints[j] += is && !was;
        }
    }
    for (int j = 0; j < nh; j++) {
        if (!is_chromatic(&r->hints[j])) continue;
        f->reach += (double)taken[j] / in_region[j], f->reach_n++;
        f->leaked += leaked[j], f->exposed += other[j], f->alone += was_alone[j], f->by_hints += by_hints[j];
    }
    g_free(in_region), g_free(taken), g_free(other), g_free(leaked), g_free(was_alone), g_free(by_hints);
}

/* Each chromatic click given alone, as a user's first click is: the share
 * of its region taking its colour, and of the other regions' exposed
 * pixels taking it only with that hint (alone: the result with no hint,
 * Lab); out and lab are scratch. */
static gboolean measure_lone_clicks(nn_colorizer *c, const nn_engine_params *params, const float *L,
                                    const photo_regions *r, const float *alone, uint8_t *out, float *lab,
                                    region_figures *f, GError **error) {
    const size_t n = (size_t)r->w * r->h;
    for (int j = 0; j < r->nh; j++) {
        if (!is_chromatic(&r->hints[j])) continue;
        if (!colorize_points(c, params, L, r->w, r->h, r->hints + j, 1, out, error)) return FALSE;
        nn_srgb8_to_lab(lab, out, n);
        long in_region = 0, taken = 0, other = 0, leaked = 0;
        for (size_t k = 0; k < n; k++) {
            if (r->click[r->reg[k]] == j) {
                in_region++, taken += takes_hint(lab + 3 * k, &r->hints[j]);
            } else if (exposed_to(r, k, j)) {
                other++, leaked += shows_hint(lab + 3 * k, &r->hints[j]) && !shows_hint(alone + 3 * k, &r->hints[j]);
            }
        }
        f->lone_reach += (double)taken / in_region, f->lone_leak += other ? (double)leaked / other : 0.0;
        f->lone_n++;
    }
    return TRUE;
}

static gboolean measure_regions(nn_colorizer *c, const nn_engine_params *params, const float *L, const uint8_t *truth,
                                int w, int h, region_figures *f, GString *hints_json, GError **error) {
    const size_t n = (size_t)w * h;
    photo_regions r;
    click_regions(truth, w, h, &r);
    *f = (region_figures){.clicks = r.nh};
    uint8_t *out = g_malloc(n * 3);
    float *alone = g_malloc(sizeof(float) * 3 * n), *result = g_malloc(sizeof(float) * 3 * n); /* Lab */
    gboolean ok = colorize_points(c, params, L, w, h, r.hints, 0, out, error);
    if (ok) nn_srgb8_to_lab(alone, out, n);
    if (ok) ok = colorize_points(c, params, L, w, h, r.hints, r.nh, out, error);
    if (ok) {
        nn_srgb8_to_lab(result, out, n);
        count_taken_and_leaked(&r, result, alone, f);
        ok = measure_lone_clicks(c, params, L, &r, alone, out, result, f, error);
    }
    for (int j = 0; j < r.nh && hints_json; j++)
        g_string_append_printf(hints_json, "%s[%.1f, %.1f, \"#%02x%02x%02x\"]", j ? ", " : "", r.hints[j].x,
                               r.hints[j].y, r.hints[j].rgb[0], r.hints[j].rgb[1], r.hints[j].rgb[2]);
    photo_regions_free(&r);
    g_free(out), g_free(alone), g_free(result);
    return ok;
}

/* The benchmark over the photos of dir; the exit code. */
/* What eval --photos --hints adds up over the photos. */
typedef struct {
    double gain[64], psnr[64], reach;
    long leaked, exposed, alone, by_hints;
    double lone_reach, lone_leak; /* sums over lone_n clicks each given alone */
    int reach_n, clicks, done, lone_n;
} hint_totals;

/* The K random hints of each count on one photo (photo i), measured and
 * written into the JSON; FALSE with *error when colorizing fails. */
static gboolean random_hint_counts(nn_colorizer *c, const nn_engine_params *params, const float *L,
                                   const uint8_t *truth, int w, int h, int i, const double *counts, int ncounts,
                                   uint64_t seed, double gray_psnr, uint8_t *out, GString *js, hint_totals *t,
                                   GError **error) {
    gboolean ok = TRUE;
    for (int j = 0; j < ncounts && ok; j++) {
        const int K = (int)counts[j];
        nn_rng rng;
        nn_rng_seed(&rng, derive_seed(seed, (uint64_t)i, (uint64_t)K));
        bench_hint *hints = g_new(bench_hint, K > 0 ? K : 1);
        for (int k = 0; k < K; k++) {
            int x = (int)nn_rng_below(&rng, (uint32_t)w), y = (int)nn_rng_below(&rng, (uint32_t)h);
            hints[k] = hint_from_truth(truth, w, h, x, y);
        }
        ok = colorize_points(c, params, L, w, h, hints, K, out, error);
        if (ok) {
            const double p = image_psnr(out, truth, w, h);
            t->psnr[j] += p, t->gain[j] += p - gray_psnr;
            g_print("  %d: %+5.2f", K, p - gray_psnr);
            g_string_append_printf(js, "%s{\"hints\": %d, \"psnr\": %.4f, \"points\": [", j ? ", " : "", K, p);
            for (int k = 0; k < K; k++)
                g_string_append_printf(js, "%s[%.1f, %.1f, \"#%02x%02x%02x\"]", k ? ", " : "", hints[k].x,
                                       hints[k].y, hints[k].rgb[0], hints[k].rgb[1], hints[k].rgb[2]);
            g_string_append(js, "]}");
        }
        g_free(hints);
    }
    return ok;
}

/* One photo of the folder (the i-th of total): random hints at every count,
 * then one click per region; 1 measured, 0 skipped (named), -1 failed
 * (*error set). */
static int measure_photo(nn_colorizer *c, const nn_engine_params *params, const char *dir, const char *name, int i,
                         int total, int max_side, const double *counts, int ncounts, uint64_t seed, GString *js,
                         hint_totals *t, GError **error) {
    char *path = g_build_filename(dir, name, NULL);
    GdkPixbuf *pb = load_photo(path, max_side, error);
    g_free(path);
    if (!pb) {
        g_printerr("colorize-train eval: skipping %s\n", (*error)->message);
        g_clear_error(error);
        return 0;
    }
    const int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb);
    const size_t n = (size_t)w * h;
    uint8_t *truth = packed_rgb(pb), *gray = g_malloc(n * 3), *out = g_malloc(n * 3);
    float *L = g_malloc(sizeof(float) * n), *zero = g_malloc0(sizeof(float) * 2 * n);
    pixbuf_to_lightness(pb, L, NULL);
    g_object_unref(pb);
    if (image_mean_chroma(truth, n) < PHOTO_MIN_MEAN_CHROMA) {
        g_printerr("colorize-train eval: skipping %s: it has no colour to compare with\n", name);
        g_free(truth), g_free(gray), g_free(out), g_free(L), g_free(zero);
        return 0;
    }
    lab_planes_to_pixels(gray, w * 3, 3, L, zero, NULL, w, h);
    const double gray_psnr = image_psnr(gray, truth, w, h);
    char *ename = g_strescape(name, NULL);
    g_string_append_printf(js, "%s\n{\"photo\": \"%s\", \"width\": %d, \"height\": %d, \"psnr_gray\": %.4f, \"counts\": [",
                           t->done ? "," : "", ename, w, h, gray_psnr);
    g_free(ename);
    g_print("[%d/%d] %-22s", i + 1, total, name);
    gboolean ok = random_hint_counts(c, params, L, truth, w, h, i, counts, ncounts, seed, gray_psnr, out, js, t, error);
    region_figures f = {0};
    g_string_append(js, "], \"region_points\": [");
    if (ok) ok = measure_regions(c, params, L, truth, w, h, &f, js, error);
    g_string_append_printf(js, "], \"region_reach\": %.4f, \"region_leak\": %.4f, \"region_leak_alone\": %.4f, "
                           "\"region_leak_by_hints\": %.4f, \"lone_reach\": %.4f, \"lone_leak\": %.4f}",
                           f.reach_n ? f.reach / f.reach_n : -1.0, f.exposed ? (double)f.leaked / f.exposed : -1.0,
                           f.exposed ? (double)f.alone / f.exposed : -1.0, f.exposed ? (double)f.by_hints / f.exposed : -1.0,
                           f.lone_n ? f.lone_reach / f.lone_n : -1.0, f.lone_n ? f.lone_leak / f.lone_n : -1.0);
    g_free(truth), g_free(gray), g_free(out), g_free(L), g_free(zero);
    if (!ok) {
        g_printerr("\ncolorize-train eval: %s: %s\n", name, (*error)->message);
        return -1;
    }
    g_print("  regions %d: reach %.0f%% leak %.1f%% (no hint %.1f%%, by the hints %.1f%%); alone: reach %.0f%% leak "
            "%.1f%%\n", f.clicks, f.reach_n ? 100 * f.reach / f.reach_n : 0.0,
            f.exposed ? 100.0 * f.leaked / f.exposed : 0.0, f.exposed ? 100.0 * f.alone / f.exposed : 0.0,
            f.exposed ? 100.0 * f.by_hints / f.exposed : 0.0, f.lone_n ? 100 * f.lone_reach / f.lone_n : 0.0,
            f.lone_n ? 100 * f.lone_leak / f.lone_n : 0.0);
    t->lone_reach += f.lone_reach, t->lone_leak += f.lone_leak, t->lone_n += f.lone_n;
    t->reach += f.reach, t->reach_n += f.reach_n, t->leaked += f.leaked, t->exposed += f.exposed;
    t->alone += f.alone, t->by_hints += f.by_hints;
    t->clicks += f.clicks, t->done++;
    return 1;
}

/* The table of every count and the region figures, printed and closing the JSON. */
static void hint_summary(const hint_totals *t, const double *counts, int ncounts, const nn_engine_params *params,
                         GString *js) {
    const int done = t->done;
    g_print("\n| hints | PSNR (dB) | gain over gray |\n|---|---|---|\n");
    g_string_append(js, "\n], \"summary\": [");
    for (int j = 0; j < ncounts; j++) {
        g_print("| %d | %.2f | %+.2f |\n", (int)counts[j], t->psnr[j] / done, t->gain[j] / done);
        g_string_append_printf(js, "%s{\"hints\": %d, \"psnr\": %.4f, \"gain\": %.4f}", j ? ", " : "", (int)counts[j],
                               t->psnr[j] / done, t->gain[j] / done);
    }
    g_print("\none click per region: %d clicks on %d photos; a region takes its hint's colour on %.1f%% of its pixels "
            "(mean over %d chromatic hints); a hint's colour leaks onto %.2f%% of the other regions' pixels that are not "
            "of its hue (with no hint at all, the network alone gives %.2f%% of them that colour; %.2f%% take it only "
            "with the hints)\n",
            t->clicks, done, t->reach_n ? 100 * t->reach / t->reach_n : 0.0, t->reach_n,
            t->exposed ? 100.0 * t->leaked / t->exposed : 0.0, t->exposed ? 100.0 * t->alone / t->exposed : 0.0,
            t->exposed ? 100.0 * t->by_hints / t->exposed : 0.0);
    g_print("each click given alone (a first click): its region takes its colour on %.1f%% of its pixels, and %.2f%% "
            "of the other regions' pixels that are not of its hue take it (only with the hint; means over %d clicks)\n",
            t->lone_n ? 100 * t->lone_reach / t->lone_n : 0.0, t->lone_n ? 100 * t->lone_leak / t->lone_n : 0.0,
            t->lone_n);
    g_string_append_printf(js, "], \"photos\": %d, \"hint_reach\": %.3f, \"region_reach\": %.4f, \"region_leak\": %.4f, "
                           "\"region_leak_alone\": %.4f, \"region_leak_by_hints\": %.4f, \"lone_reach\": %.4f, "
                           "\"lone_leak\": %.4f}\n",
                           done, params->hint_reach, t->reach_n ? t->reach / t->reach_n : -1.0,
                           t->exposed ? (double)t->leaked / t->exposed : -1.0,
                           t->exposed ? (double)t->alone / t->exposed : -1.0,
                           t->exposed ? (double)t->by_hints / t->exposed : -1.0,
                           t->lone_n ? t->lone_reach / t->lone_n : -1.0, t->lone_n ? t->lone_leak / t->lone_n : -1.0);
}

int eval_photo_hints(const char *dir, const char *model, const nn_engine_params *params, int max_side, int limit,
                     const double *counts, int ncounts, uint64_t seed, const char *json) {
    GError *error = NULL;
    nn_error err = {0};
    nn_colorizer *c = NULL;
    int rc = 1;
    GPtrArray *files = list_folder_photos(dir, NULL, &error);
    hint_totals t = {0};
    GString *js = g_string_new("{\"per_photo\": [");
    if (!files || files->len == 0) {
        g_printerr("colorize-train eval: --photos %s: %s\n", dir, files ? "no photo in the folder" : error->message);
        goto out;
    }
    if (nn_colorizer_load(&c, model, NN_TILE_BATCH, NN_TILE_SIDE, &err) != NN_OK) {
        g_printerr("colorize-train eval: %s\n", err.msg);
        goto out;
    }
    const int total = limit > 0 && (guint)limit < files->len ? limit : (int)files->len;
    for (int i = 0; i < total; i++)
        if (measure_photo(c, params, dir, g_ptr_array_index(files, i), i, total, max_side, counts, ncounts, seed, js,
                          &t, &error) < 0)
            goto out;
    if (!t.done) {
        g_printerr("colorize-train eval: --photos %s: no usable colour photo\n", dir);
        goto out;
    }
    hint_summary(&t, counts, ncounts, params, js);
    if (json && !g_file_set_contents(json, js->str, (gssize)js->len, &error)) {
        g_printerr("colorize-train eval: %s\n", error->message);
        goto out;
    }
    rc = 0;
out:
    g_string_free(js, TRUE);
    if (files) g_ptr_array_free(files, TRUE);
    nn_colorizer_free(c);
    g_clear_error(&error);
    return rc;
}
