/* test_propagate.c — hints that reach their whole region and stop at its
 * edges: the geodesic search against a naive oracle (Bellman-Ford
 * relaxation until nothing changes), the hold and blend on a step image,
 * then the engine with the shipped model (the argument) on a synthetic
 * photo, a bright softly textured region A over a darker region B with a
 * wavy edge between them: one point of a plausible or an implausible
 * colour in A reaches at least 90 % of A and at most 5 % of B; a stroke
 * does the same; two points in two regions keep their own colours; with
 * no hint the propagation changes nothing; a point dragged without the
 * network (nn_engine_predict_from) does what it does with it; a hint's
 * chroma follows the lightness along a ramp. Also the median filter the
 * lightness is seen through against sorting each window, thin dark lines
 * that stop a point without it and not with it, and a point on a thin
 * stripe that keeps to it. Usage: test_propagate MODEL */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "testlib.h"

#define SYN_W 640
#define SYN_H 480

/* The edge between A (above) and B (below) at column x. */
static int edge_row(int x) { return (int)(240.0 + 40.0 * sin(2.0 * M_PI * x / 160.0)); }

/* A bright, softly textured region A over a darker, textured region B. */
static float *synthetic_L(void) {
    float *L = malloc(sizeof(float) * SYN_W * SYN_H);
    for (int y = 0; y < SYN_H; y++)
        for (int x = 0; x < SYN_W; x++) {
            const float texture = 2.0f * sinf(x * 0.21f + y * 0.13f) * cosf(y * 0.17f - x * 0.05f) +
                                  1.5f * sinf(x * 0.031f) * sinf(y * 0.027f);
            L[(size_t)y * SYN_W + x] = (y < edge_row(x) ? 78.0f : 42.0f) + texture;
        }
    return L;
}

/* Whether a pixel (L, a, b) takes the colour (ha, hb): hue within 30° and
 * at least half the chroma that hue can have at the pixel's lightness. */
static int takes(float L, float a, float b, float ha, float hb) {
    const double hue = atan2(hb, ha);
    float most[3] = {L, (float)(150.0 * cos(hue)), (float)(150.0 * sin(hue))};
    nn_lab_fit_gamut(most, 1);
    if (hypotf(a, b) < 0.5f * hypotf(most[1], most[2])) return 0;
    double d = fabs(atan2(b, a) - hue) * 180.0 / M_PI;
    return (d > 180.0 ? 360.0 - d : d) <= 30.0;
}

/* Shares of A and of B (pixels more than 3 px from the edge) taking (ha,
 * hb); with `before` (ab without the hint), only the pixels that did not
 * take it before count: what the hint itself did. */
static void shares(const float *L, const float *ab, const float *before, float ha, float hb, double *in_a,
                   double *in_b) {
    const size_t n = (size_t)SYN_W * SYN_H;
    long na = 0, nb = 0, ta = 0, tb = 0;
    for (int y = 0; y < SYN_H; y++)
        for (int x = 0; x < SYN_W; x++) {
            const int e = edge_row(x);
            if (abs(y - e) <= 3) continue;
            const size_t k = (size_t)y * SYN_W + x;
            const int t = takes(L[k], ab[k], ab[n + k], ha, hb) &&
                          !(before && takes(L[k], before[k], before[n + k], ha, hb));
            if (y < e) na++, ta += t;
            else nb++, tb += t;
        }
    *in_a = (double)ta / na, *in_b = (double)tb / nb;
}

static void srgb8_ab(const uint8_t rgb[3], float *a, float *b) {
    float lab[3];
    nn_srgb8_to_lab(lab, rgb, 1);
    *a = lab[1], *b = lab[2];
}

/* The engine at its defaults with point hints. */
static int colorize_points(nn_colorizer *c, const float *L, const nn_point_hint *pts, int n, float *ab,
                           float hint_reach) {
    nn_engine_params p = nn_engine_default_params();
    p.hint_reach = hint_reach;
    nn_engine *e = NULL;
    nn_error err = {0};
    nn_status st = nn_engine_begin(&e, SYN_W, SYN_H, &p, &err);
    if (!st) st = nn_engine_add_rows(e, 0, SYN_H, L, NULL, NULL, NULL, &err);
    for (int i = 0; i < n && !st; i++) st = nn_engine_add_point_hint(e, pts[i].x, pts[i].y, pts[i].a, pts[i].b, &err);
    if (!st) st = nn_engine_predict(e, c, NULL, NULL, NULL, &err);
    if (!st) nn_engine_ab_rows(e, 0, SYN_H, L, ab, ab + (size_t)SYN_W * SYN_H);
    if (st) fprintf(stderr, "engine: %s\n", err.msg);
    nn_engine_free(e);
    return st == NN_OK;
}

static const struct {
    const char *name;
    uint8_t rgb[3];
} colours[] = {{"sky blue", {90, 140, 210}}, {"green", {60, 160, 60}}, {"magenta", {200, 60, 190}}};

/* One point in A: it reaches 90 % of A, and turns at most 5 % of B to its
 * colour (the network alone colours this gray image sky blue nearly
 * everywhere, B too: what counts is what the hint changes). */
static void test_one_point(nn_colorizer *c, const float *L, float *ab) {
    const size_t n = (size_t)SYN_W * SYN_H;
    float *none = malloc(sizeof(float) * 2 * n);
    CHECK(colorize_points(c, L, NULL, 0, none, NN_DEFAULT_HINT_REACH), "engine without hints");
    for (size_t i = 0; i < sizeof colours / sizeof colours[0]; i++) {
        nn_point_hint pt = {320, 100, 0, 0};
        srgb8_ab(colours[i].rgb, &pt.a, &pt.b);
        double in_a, in_b, by_hint_b, none_a, none_b, old_a, old_b;
        shares(L, none, NULL, pt.a, pt.b, &none_a, &none_b);
        CHECK(colorize_points(c, L, &pt, 1, ab, 0.0f), "engine without propagation");
        shares(L, ab, NULL, pt.a, pt.b, &old_a, &old_b);
        CHECK(colorize_points(c, L, &pt, 1, ab, NN_DEFAULT_HINT_REACH), "engine");
        shares(L, ab, NULL, pt.a, pt.b, &in_a, &in_b);
        shares(L, ab, none, pt.a, pt.b, &by_hint_b, &by_hint_b);
        printf("one %s point in A: A %.1f %%, B %.1f %%, of which the hint turned %.1f %% (no hint: A %.1f %%, B "
               "%.1f %%; without propagation: A %.1f %%, B %.1f %%)\n", colours[i].name, 100 * in_a, 100 * in_b,
               100 * by_hint_b, 100 * none_a, 100 * none_b, 100 * old_a, 100 * old_b);
        CHECK(in_a >= 0.90, "a %s point reaches %.1f %% of its region (want >= 90 %%)", colours[i].name, 100 * in_a);
        CHECK(by_hint_b <= 0.05, "a %s point turns %.1f %% of the other region to its colour (want <= 5 %%)",
              colours[i].name, 100 * by_hint_b);
    }
    free(none);
}

static void test_stroke(nn_colorizer *c, const float *L, float *ab) {
    const size_t n = (size_t)SYN_W * SYN_H;
    float *hint_ab = calloc(2 * n, sizeof(float)), *mask = calloc(n, sizeof(float));
    float ha, hb;
    srgb8_ab(colours[2].rgb, &ha, &hb);
    for (int y = 96; y < 104; y++) /* a short horizontal stroke in A */
        for (int x = 200; x < 330; x++) {
            const size_t k = (size_t)y * SYN_W + x;
            hint_ab[k] = ha, hint_ab[n + k] = hb, mask[k] = 1.0f;
        }
    nn_engine_params p = nn_engine_default_params();
    nn_error err = {0};
    CHECK(nn_engine_colorize(c, L, SYN_W, SYN_H, hint_ab, mask, &p, ab, NULL, NULL, NULL, &err) == NN_OK, "%s", err.msg);
    double in_a, in_b;
    shares(L, ab, NULL, ha, hb, &in_a, &in_b);
    printf("a magenta stroke in A: A %.1f %%, B %.1f %%\n", 100 * in_a, 100 * in_b);
    CHECK(in_a >= 0.90 && in_b <= 0.05, "a stroke reaches %.1f %% of A and %.1f %% of B", 100 * in_a, 100 * in_b);
    free(hint_ab), free(mask);
}

static void test_two_points(nn_colorizer *c, const float *L, float *ab) {
    nn_point_hint pts[2] = {{320, 100, 0, 0}, {320, 420, 0, 0}};
    const uint8_t orange[3] = {220, 130, 40};
    srgb8_ab(colours[0].rgb, &pts[0].a, &pts[0].b);
    srgb8_ab(orange, &pts[1].a, &pts[1].b);
    CHECK(colorize_points(c, L, pts, 2, ab, NN_DEFAULT_HINT_REACH), "engine");
    double blue_a, blue_b, orange_a, orange_b;
    shares(L, ab, NULL, pts[0].a, pts[0].b, &blue_a, &blue_b);
    shares(L, ab, NULL, pts[1].a, pts[1].b, &orange_a, &orange_b);
    printf("blue in A, orange in B: blue on A %.1f %% and B %.1f %%, orange on B %.1f %% and A %.1f %%\n",
           100 * blue_a, 100 * blue_b, 100 * orange_b, 100 * orange_a);
    CHECK(blue_a >= 0.90 && orange_b >= 0.90 && blue_b <= 0.05 && orange_a <= 0.05,
          "two points keep their own regions (blue %.2f/%.2f, orange %.2f/%.2f)", blue_a, blue_b, orange_b, orange_a);
}

/* An engine at the defaults with point hints, predicted by the network, or
 * without it from `base`; NULL on failure. */
static nn_engine *engine_with_points(nn_colorizer *c, const float *L, const nn_point_hint *pts, int n,
                                     const nn_engine *base, int width) {
    nn_engine_params p = nn_engine_default_params();
    nn_engine *e = NULL;
    nn_error err = {0};
    nn_status st = nn_engine_begin(&e, width, SYN_H, &p, &err);
    for (int y = 0; y < SYN_H && !st; y++) st = nn_engine_add_rows(e, y, 1, L + (size_t)y * SYN_W, NULL, NULL, NULL, &err);
    for (int i = 0; i < n && !st; i++) st = nn_engine_add_point_hint(e, pts[i].x, pts[i].y, pts[i].a, pts[i].b, &err);
    if (!st) st = base ? nn_engine_predict_from(e, base, &err) : nn_engine_predict(e, c, NULL, NULL, NULL, &err);
    if (st) {
        fprintf(stderr, "engine: %s\n", err.msg);
        nn_engine_free(e);
        return NULL;
    }
    return e;
}

/* What *Show hints* outlines: with a point in A and one in B, each
 * region's pixels lie in its point's region (nn_engine_hint_region_at),
 * both held, so the outline runs along the edge between them, also in the
 * view a drag carries; two points of one colour share one region (no line
 * between them), two of near colours do not (each click shows its own);
 * without hints no pixel lies in any. */
static void test_hint_regions(nn_colorizer *c, const float *L) {
    nn_point_hint pts[2] = {{320, 100, 0, 0}, {320, 420, 0, 0}};
    const uint8_t orange[3] = {220, 130, 40};
    srgb8_ab(colours[0].rgb, &pts[0].a, &pts[0].b);
    srgb8_ab(orange, &pts[1].a, &pts[1].b);
    nn_point_hint same[2] = {pts[0], pts[1]}; /* a second blue point in B: one colour, one region */
    same[1].a = pts[0].a, same[1].b = pts[0].b;
    nn_point_hint near[2] = {pts[0], same[1]}; /* ... of a blue 7.8 ab units away: two colours, two regions */
    near[1].a += 6.0f, near[1].b += 5.0f;
    nn_engine *two = engine_with_points(c, L, pts, 2, NULL, SYN_W), *none = engine_with_points(c, L, NULL, 0, NULL, SYN_W);
    nn_engine *carried = two ? engine_with_points(c, L, pts, 2, two, SYN_W) : NULL; /* a drag's view */
    nn_engine *one_colour = engine_with_points(c, L, same, 2, NULL, SYN_W);
    nn_engine *near_colours = engine_with_points(c, L, near, 2, NULL, SYN_W);
    CHECK(two && none && carried && one_colour && near_colours, "the engines");
    if (two && none && carried && one_colour && near_colours) {
        long in_own[2] = {0, 0}, count[2] = {0, 0}, anywhere = 0, differ = 0, apart = 0, near_apart = 0;
        for (int y = 0; y < SYN_H; y += 4)
            for (int x = 0; x < SYN_W; x += 4) {
                const int side = y >= edge_row(x);
                if (abs(y - edge_row(x)) > 8) count[side]++, in_own[side] += nn_engine_hint_region_at(two, x, y) == side;
                anywhere += nn_engine_hint_region_at(none, x, y) != -1;
                differ += nn_engine_hint_region_at(carried, x, y) != nn_engine_hint_region_at(two, x, y);
                apart += nn_engine_hint_region_at(one_colour, x, y) == 1;
                near_apart += nn_engine_hint_region_at(near_colours, x, y) == 1;
            }
        printf("hint regions: A in the first point's %.1f %%, B in the second's %.1f %%; without hints %ld pixels in "
               "one; carried without the network, %ld differ; two points of one colour, %ld in the second's; of two near "
               "colours, %ld\n", 100.0 * in_own[0] / count[0], 100.0 * in_own[1] / count[1], anywhere, differ, apart,
               near_apart);
        CHECK(in_own[0] >= 0.9 * count[0] && in_own[1] >= 0.9 * count[1], "each region should lie in its point's "
              "(A %ld of %ld, B %ld of %ld)", in_own[0], count[0], in_own[1], count[1]);
        CHECK(anywhere == 0, "without hints %ld pixels lie in a hint's region", anywhere);
        CHECK(differ == 0, "the carried view's regions differ from its base's on %ld pixels", differ);
        CHECK(apart == 0, "two points of one colour should share a region (%ld pixels in the second's)", apart);
        CHECK(near_apart >= 0.9 * count[1], "two points of near but different colours should keep a region each "
              "(%ld pixels in the second's, of %ld in B)", near_apart, count[1]);
    }
    nn_engine_free(two), nn_engine_free(none), nn_engine_free(carried), nn_engine_free(one_colour);
    nn_engine_free(near_colours);
}

/* What a dragged point shows at once: the network's colour of the pass
 * before with the point carried along the image where it is now. With the
 * base's own points it is the base, bit for bit; a point moved from B into
 * A takes A (and what it did to B by the network stays until the network
 * runs again: printed); a base of another size is refused. */
static void test_predict_from(nn_colorizer *c, const float *L, float *ab) {
    const size_t n = (size_t)SYN_W * SYN_H;
    float *ab2 = malloc(sizeof(float) * 2 * n), *none = malloc(sizeof(float) * 2 * n);
    nn_point_hint in_b = {320, 420, 0, 0}, in_a = {320, 100, 0, 0};
    srgb8_ab(colours[2].rgb, &in_b.a, &in_b.b);
    in_a.a = in_b.a, in_a.b = in_b.b;
    nn_engine *plain = engine_with_points(c, L, NULL, 0, NULL, SYN_W);
    nn_engine *base = engine_with_points(c, L, &in_b, 1, NULL, SYN_W);
    nn_engine *same = base ? engine_with_points(c, L, &in_b, 1, base, SYN_W) : NULL;
    nn_engine *moved = base ? engine_with_points(c, L, &in_a, 1, base, SYN_W) : NULL;
    CHECK(plain && base && same && moved, "the engines");
    if (plain && base && same && moved) {
        nn_engine_ab_rows(base, 0, SYN_H, L, ab, ab + n);
        nn_engine_ab_rows(same, 0, SYN_H, L, ab2, ab2 + n);
        CHECK(memcmp(ab, ab2, sizeof(float) * 2 * n) == 0, "from its base with the base's hints, not the base's result");
        nn_engine_ab_rows(plain, 0, SYN_H, L, none, none + n);
        nn_engine_ab_rows(moved, 0, SYN_H, L, ab2, ab2 + n);
        double on_a, on_b, left_b, left_b_before;
        shares(L, ab2, none, in_a.a, in_a.b, &on_a, &on_b);
        shares(L, ab, none, in_a.a, in_a.b, &left_b_before, &left_b_before);
        shares(L, ab2, NULL, in_a.a, in_a.b, &left_b, &left_b);
        printf("a magenta point dragged from B to A, without the network: A %.1f %% by the hint; B still %.1f %% "
               "magenta (%.1f %% before the drag)\n", 100 * on_a, 100 * left_b, 100 * left_b_before);
        CHECK(on_a >= 0.90, "the dragged point reaches %.1f %% of A (want >= 90 %%)", 100 * on_a);
    }
    nn_engine *other = base ? engine_with_points(c, L, &in_a, 1, base, SYN_W - 1) : NULL;
    CHECK(!other, "a base of another size was taken");
    if (base) {
        nn_engine_params p = nn_engine_default_params();
        nn_engine *e = NULL;
        nn_error err = {0};
        nn_engine_begin(&e, SYN_W / 2, SYN_H, &p, &err);
        for (int y = 0; y < SYN_H; y++) nn_engine_add_rows(e, y, 1, L + (size_t)y * SYN_W, NULL, NULL, NULL, &err);
        CHECK(nn_engine_predict_from(e, base, &err) == NN_ERR_INVALID && strstr(err.msg, "working size"),
              "a base of another size: %s", err.msg);
        nn_engine_free(e);
    }
    nn_engine_free(other), nn_engine_free(plain), nn_engine_free(base), nn_engine_free(same), nn_engine_free(moved);
    free(ab2), free(none);
}

/* A hint's chroma follows the lightness of the pixels it reaches: on a
 * smooth ramp from L* 80 down to 40 (no edge to stop it), a point at the
 * bright end gives the dark end its hue with about (40/80)^0.5 of its
 * chroma, as a surface in shadow shows it (NN_HINT_CHROMA_POWER). */
static void test_chroma_follows_lightness(nn_colorizer *c) {
    enum { RW = 320, RH = 240 };
    const size_t n = (size_t)RW * RH;
    float *L = malloc(sizeof(float) * n), *ab = malloc(sizeof(float) * 2 * n);
    for (int y = 0; y < RH; y++)
        for (int x = 0; x < RW; x++) L[(size_t)y * RW + x] = 80.0f - 40.0f * x / (RW - 1);
    nn_engine_params p = nn_engine_default_params();
    nn_engine *e = NULL;
    nn_error err = {0};
    const float ha = 20.0f, hb = 30.0f; /* an orange, in gamut along the whole ramp */
    nn_status st = nn_engine_begin(&e, RW, RH, &p, &err);
    if (!st) st = nn_engine_add_rows(e, 0, RH, L, NULL, NULL, NULL, &err);
    if (!st) st = nn_engine_add_point_hint(e, 12, RH / 2, ha, hb, &err);
    if (!st) st = nn_engine_predict(e, c, NULL, NULL, NULL, &err);
    CHECK(st == NN_OK, "engine on the ramp: %s", err.msg);
    if (!st) {
        nn_engine_ab_rows(e, 0, RH, L, ab, ab + n);
        double near = 0.0, far = 0.0, hue_far = 0.0;
        int nn_ = 0, nf = 0;
        for (int y = RH / 2 - 20; y < RH / 2 + 20; y++) {
            for (int x = 4; x < 20; x++, nn_++) near += hypotf(ab[(size_t)y * RW + x], ab[n + (size_t)y * RW + x]);
            for (int x = RW - 20; x < RW - 4; x++, nf++) {
                const size_t k = (size_t)y * RW + x;
                far += hypotf(ab[k], ab[n + k]);
                hue_far += fabs(atan2(ab[n + k], ab[k]) - atan2(hb, ha)) * 180.0 / M_PI;
            }
        }
        const double ratio = (far / nf) / (near / nn_), expected = pow(41.0 / 79.0, NN_HINT_CHROMA_POWER);
        printf("a point at the bright end of a ramp: chroma %.1f there, %.1f at the dark end (ratio %.2f, expected about "
               "%.2f), hue off by %.1f deg\n", near / nn_, far / nf, ratio, expected, hue_far / nf);
        CHECK(fabs(ratio - expected) < 0.1, "the dark end has %.2f of the hint's chroma, not about %.2f", ratio, expected);
        CHECK(hue_far / nf < 5.0, "the dark end's hue is %.1f deg off the hint's", hue_far / nf);
    }
    nn_engine_free(e);
    free(L), free(ab);
}

static void test_no_hints_unchanged(nn_colorizer *c, const float *L, float *ab) {
    const size_t n = (size_t)SYN_W * SYN_H;
    float *off = malloc(sizeof(float) * 2 * n);
    CHECK(colorize_points(c, L, NULL, 0, ab, NN_DEFAULT_HINT_REACH) && colorize_points(c, L, NULL, 0, off, 0.0f),
          "engine");
    CHECK(memcmp(ab, off, sizeof(float) * 2 * n) == 0, "with no hint the propagation changed the result");
    free(off);
}

/* The nearest seed's distance by relaxing every edge until nothing
 * changes, the changes under the texture allowance counting at `below`. */
static void oracle_distance(const float *L, int w, int h, const int *seed, const nn_propagation_params *p, float below,
                            float *d) {
    const float per_pixel = p->length / (float)(w > h ? w : h);
    for (int k = 0; k < w * h; k++) d[k] = seed[k] >= 0 ? 0.0f : INFINITY;
    for (int changed = 1; changed;) {
        changed = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        const int nx = x + dx, ny = y + dy;
                        if ((!dx && !dy) || nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
                        const int k = y * w + x, k2 = ny * w + nx;
                        const float dl = fabsf(L[k] - L[k2]);
                        const float step = (dx && dy ? (float)M_SQRT2 : 1.0f) * per_pixel +
                                           (dl > p->texture ? dl - p->texture + below * p->texture : below * dl);
                        if (d[k] + step < d[k2] - 1e-4f) d[k2] = d[k] + step, changed = 1;
                    }
    }
}

static void test_search_against_oracle(void) {
    const int w = 37, h = 23, n = w * h;
    float *L = malloc(sizeof(float) * n), *d = malloc(sizeof(float) * n), *ab = malloc(sizeof(float) * 2 * n),
          *hold = malloc(sizeof(float) * n);
    int *seed = malloc(sizeof(int) * n);
    fill_uniform(L, (size_t)n, 20, 80, 3);
    for (int k = 0; k < n; k++) seed[k] = -1;
    seed[5 * w + 4] = 0, seed[17 * w + 30] = 1;
    const float seed_ab[4] = {40, -20, -30, 50};
    /* no smoothing: the hold is then a function of the nearest distance alone */
    const nn_propagation_params p = {.reach = 60, .texture = 1, .length = 10, .smooth = 0};
    nn_error err = {0};
    CHECK(nn_propagate_hints(L, w, h, seed, seed_ab, NULL, &p, ab, NULL, hold, NULL, &err) == NN_OK, "%s", err.msg);
    oracle_distance(L, w, h, seed, &p, 0.0f, d);
    double worst = 0;
    for (int k = 0; k < n; k++) {
        const float r = d[k] / p.reach, want = exp2f(-r * r * r * r);
        worst = fmax(worst, fabs(hold[k] - want));
    }
    printf("geodesic search against the oracle: largest hold difference %.2g\n", worst);
    CHECK(worst < 1e-4, "the hold differs from the oracle's distance by %g", worst);
    /* the contest: each pixel the colour of the seed nearest when every change counts */
    nn_propagation_params pc = p;
    pc.contest = NN_HINT_CONTEST;
    CHECK(nn_propagate_hints(L, w, h, seed, seed_ab, NULL, &pc, ab, NULL, hold, NULL, &err) == NN_OK, "%s", err.msg);
    float *dc = malloc(sizeof(float) * 4 * n); /* (seed, contest or not, n) each seed's distances alone */
    int *one = malloc(sizeof(int) * n), wrong = 0, ties = 0, changed = 0;
    for (int s = 0; s < 4; s++) {
        for (int k = 0; k < n; k++) one[k] = seed[k] == s / 2 ? s / 2 : -1;
        oracle_distance(L, w, h, one, &p, s % 2 ? pc.contest : 0.0f, dc + (size_t)s * n);
    }
    for (int k = 0; k < n; k++) {
        const float *c0 = dc + n + k, *c1 = dc + 3 * n + k, *p0 = dc + k, *p1 = dc + 2 * n + k;
        if (fabsf(*c0 - *c1) < 1e-3f || fabsf(*p0 - *p1) < 1e-3f) {
            ties++;
            continue;
        }
        const int s = *c1 < *c0;
        wrong += fabsf(ab[k] - seed_ab[2 * s]) > 1e-3f;
        changed += s != (*p1 < *p0);
    }
    printf("the contest against the oracle: %d of %d pixels given another seed than the nearest (%d ties; the contest "
           "changed %d pixels' seed)\n", wrong, n - ties, ties, changed);
    CHECK(wrong == 0, "%d pixels took a seed that is not the contest's nearest", wrong);
    CHECK(changed > 0, "the contest changed no pixel's seed here, so this check proves nothing");
    free(dc), free(one);
    CHECK(hold[5 * w + 4] == 1.0f && fabsf(ab[5 * w + 4] - 40) < 1e-3f && fabsf(ab[n + 17 * w + 30] - 50) < 1e-3f,
          "a seed holds its own pixel with its own colour");
    free(L), free(d), free(ab), free(hold), free(seed);
}

/* The sliding-histogram median against sorting each window (borders
 * replicated), on noise that also leaves 0..100, for several radii, one
 * wider than the image. */
static int compare_floats(const void *a, const void *b) {
    const float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static float oracle_median(const float *L, int w, int h, int x, int y, int r, float *window) {
    int n = 0;
    for (int j = -r; j <= r; j++)
        for (int i = -r; i <= r; i++) {
            const int xx = x + i < 0 ? 0 : x + i >= w ? w - 1 : x + i, yy = y + j < 0 ? 0 : y + j >= h ? h - 1 : y + j;
            window[n++] = L[yy * w + xx];
        }
    qsort(window, (size_t)n, sizeof(float), compare_floats);
    const float m = fminf(fmaxf(window[n / 2], 0.0f), 100.0f);
    return (float)lrintf(m * NN_MEDIAN_BINS_PER_UNIT) / NN_MEDIAN_BINS_PER_UNIT; /* to the filter's bins */
}

/* The filter over w×h pixels of L at radius r against the oracle: how
 * many pixels differ. */
static int median_differences(const float *L, int w, int h, int r) {
    float *out = malloc(sizeof(float) * w * h);                          // (h, w)
    float *window = malloc(sizeof(float) * (2 * r + 1) * (2 * r + 1)); // (2r+1, 2r+1)
    nn_error err = {0};
    int wrong = w * h;
    const nn_status st = nn_median_lightness(L, w, h, r, out, &err);
    CHECK(st == NN_OK, "%s", err.msg);
    if (st == NN_OK) {
        wrong = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) wrong += out[y * w + x] != oracle_median(L, w, h, x, y, r, window);
    }
    free(out), free(window);
    return wrong;
}

static void test_median_against_oracle(void) {
    const int w = 41, h = 29, n = w * h, radii[4] = {1, 2, 4, 45};
    float *L = malloc(sizeof(float) * n), *out = malloc(sizeof(float) * n); // (h, w) each
    fill_uniform(L, (size_t)n, -5, 105, 11);
    L[7] = INFINITY, L[300] = -INFINITY, L[600] = 1e30f, L[900] = -1e30f; /* clamped before they are rounded */
    for (int t = 0; t < 4; t++) {
        const int r = radii[t], wrong = median_differences(L, w, h, r);
        printf("median filter, radius %d, against sorting each window: %d of %d pixels differ\n", r, wrong, n);
        CHECK(wrong == 0, "the median of radius %d differs from the oracle's on %d pixels", r, wrong);
    }
    const int row = median_differences(L, w, 1, 3), column = median_differences(L, 1, h, 3);
    CHECK(row == 0 && column == 0, "the median of one row differs on %d pixels, of one column on %d", row, column);
    nn_error err = {0};
    CHECK(nn_median_lightness(L, w, h, 0, out, &err) == NN_OK && memcmp(out, L, sizeof(float) * n) == 0,
          "radius 0 should copy the lightness");
    CHECK(nn_median_lightness(L, 0, h, 1, out, &err) == NN_ERR_INVALID &&
              nn_median_lightness(L, w, h, NN_MAX_MEDIAN_RADIUS + 1, out, &err) == NN_ERR_INVALID &&
              nn_median_lightness(L, w, h, -1, out, &err) == NN_ERR_INVALID,
          "an empty image or a radius out of range should be refused");
    free(L), free(out);
}

/* A textured region (A, L* 65, crossed by thin dark lines like wrinkles or
 * the grain of wood, 15 units deep, every 6 pixels) over a flat darker one
 * (B, L* 40) beyond a straight step: seen through the median filter, a
 * point in A fills A and B stays free; seen as it is, each line costs 28
 * of the reach's 17 and the point holds only its own stripe. */
static void test_denoise_thin_lines(void) {
    const int w = 256, h = 192, n = w * h, step = 120;
    float *L = malloc(sizeof(float) * n), *ab = malloc(sizeof(float) * 2 * n); // (h, w), (2, h, w)
    float *hold = malloc(sizeof(float) * n);                                    // (h, w)
    int *seed = malloc(sizeof(int) * n);                                        // (h, w)
    for (int k = 0; k < n; k++) {
        const int x = k % w, y = k / w;
        L[k] = y >= step ? 40.0f : (y % 6 == 3 || (x + 2 * y) % 23 == 0) ? 50.0f : 65.0f, seed[k] = -1;
    }
    seed[50 * w + 100] = 0;
    const float seed_ab[2] = {50, 20};
    nn_propagation_params p = {.reach = NN_DEFAULT_HINT_REACH, .texture = NN_HINT_TEXTURE, .length = NN_HINT_LENGTH,
                               .contest = NN_HINT_CONTEST, .smooth = NN_HINT_BLEND,
                               .smooth_l = NN_HINT_BLEND_LIGHTNESS};
    double share_a[2], share_b[2];
    for (int filtered = 0; filtered < 2; filtered++) {
        p.denoise = filtered ? NN_HINT_DENOISE : 0.0f;
        nn_error err = {0};
        CHECK(nn_propagate_hints(L, w, h, seed, seed_ab, NULL, &p, ab, NULL, hold, NULL, &err) == NN_OK, "%s",
              err.msg);
        int in_a = 0, in_b = 0;
        for (int k = 0; k < n; k++)
            if (hold[k] >= 0.5f) *(k / w < step ? &in_a : &in_b) += 1;
        share_a[filtered] = (double)in_a / (step * w), share_b[filtered] = (double)in_b / ((h - step) * w);
    }
    printf("thin lines: a point holds %.0f %% of its textured region and %.1f %% of the other through the median, "
           "%.0f %% and %.1f %% without\n", 100 * share_a[1], 100 * share_b[1], 100 * share_a[0], 100 * share_b[0]);
    CHECK(share_a[1] >= 0.9 && share_b[1] <= 0.01, "through the median a point should fill its textured region "
          "(%.0f %%) and stop at the step (%.1f %% beyond)", 100 * share_a[1], 100 * share_b[1]);
    CHECK(share_a[0] < 0.5, "without the median the thin lines should stop the point (it held %.0f %%), or this test "
          "proves nothing", 100 * share_a[0]);
    free(L), free(ab), free(hold), free(seed);
}

/* A point on something thinner than the median filter (a dark stripe 3
 * pixels wide, like a pole or a ribbon, on a bright flat ground, with a
 * second stripe further right) and one on the ground between the stripes:
 * the filter would erase the first stripe and its point would colour the
 * ground; the stripe under the point is seen as it is, so that point
 * colours its stripe and stops there, while the other stripe, not
 * clicked, is still filtered away and the ground's point crosses it. */
static void test_clicked_thin_structure(void) {
    const int w = 256, h = 192, n = w * h, x0 = 100, x1 = 180, width = 3;
    float *L = malloc(sizeof(float) * n), *ab = malloc(sizeof(float) * 2 * n); // (h, w), (2, h, w)
    float *hold = malloc(sizeof(float) * n);                                    // (h, w)
    int *seed = malloc(sizeof(int) * n), *owner = malloc(sizeof(int) * n);    // (h, w) each
    for (int k = 0; k < n; k++) {
        const int x = k % w;
        L[k] = (x >= x0 && x < x0 + width) || (x >= x1 && x < x1 + width) ? 35.0f : 70.0f, seed[k] = -1;
    }
    for (int y = 89; y <= 91; y++)
        for (int x = -1; x <= 1; x++) seed[y * w + x0 + 1 + x] = 0, seed[y * w + 140 + x] = 1; /* 3×3 patches */
    const float seed_ab[4] = {40, 40, -30, 30};
    const nn_propagation_params p = {.reach = NN_DEFAULT_HINT_REACH, .texture = NN_HINT_TEXTURE,
                                     .length = NN_HINT_LENGTH, .contest = NN_HINT_CONTEST, .smooth = NN_HINT_BLEND,
                                     .smooth_l = NN_HINT_BLEND_LIGHTNESS, .denoise = NN_HINT_DENOISE};
    nn_error err = {0};
    CHECK(nn_propagate_hints(L, w, h, seed, seed_ab, NULL, &p, ab, NULL, hold, owner, &err) == NN_OK, "%s",
          err.msg);
    int stripe = 0, left = 0, right = 0, n_left = 0, n_right = 0;
    for (int k = 0; k < n; k++) {
        const int x = k % w, held = hold[k] >= 0.5f;
        if (x >= x0 && x < x0 + width) stripe += held && owner[k] == 0;
        else if (x < x0) n_left++, left += held;
        else if (x >= x1 + width) n_right++, right += held && owner[k] == 1;
    }
    const double share_stripe = (double)stripe / (width * h), share_left = (double)left / n_left,
                 share_right = (double)right / n_right;
    printf("a point on a thin stripe holds %.0f %% of it, and the ground beyond it is %.1f %% held; the ground's "
           "point holds %.0f %% of the ground beyond the other stripe\n",
           100 * share_stripe, 100 * share_left, 100 * share_right);
    CHECK(share_stripe >= 0.9 && share_left <= 0.01, "a point on a thin stripe should colour the stripe (%.0f %%) "
          "and not the ground (%.1f %%)", 100 * share_stripe, 100 * share_left);
    CHECK(share_right >= 0.9, "the stripe nobody clicked should still be filtered away: the ground's point held "
          "%.0f %% beyond it", 100 * share_right);
    free(L), free(ab), free(hold), free(seed), free(owner);
}

/* A step: seeds on the left half stay there. */
static void test_step_edge(void) {
    const int w = 64, h = 32, n = w * h;
    float *L = malloc(sizeof(float) * n), *ab = malloc(sizeof(float) * 2 * n), *hold = malloc(sizeof(float) * n);
    int *seed = malloc(sizeof(int) * n);
    for (int k = 0; k < n; k++) L[k] = k % w < 40 ? 70.0f : 40.0f, seed[k] = -1;
    seed[16 * w + 5] = 0;
    const float seed_ab[2] = {60, 10};
    /* crossing this small image costs little: the edge alone decides */
    const nn_propagation_params p = {.reach = NN_DEFAULT_HINT_REACH, .texture = NN_HINT_TEXTURE, .length = 1,
                                     .smooth = NN_HINT_BLEND, .smooth_l = NN_HINT_BLEND_LIGHTNESS};
    nn_error err = {0};
    CHECK(nn_propagate_hints(L, w, h, seed, seed_ab, NULL, &p, ab, NULL, hold, NULL, &err) == NN_OK, "%s", err.msg);
    float least_in = 1, most_out = 0;
    for (int k = 0; k < n; k++)
        if (k % w < 40) least_in = fminf(least_in, hold[k]);
        else most_out = fmaxf(most_out, hold[k]);
    printf("step edge: the hold is at least %.3f on the seed's side, at most %.4f beyond\n", least_in, most_out);
    CHECK(least_in > 0.95f && most_out < 0.01f, "hold %.3f inside, %.4f beyond a step of 30", least_in, most_out);
    CHECK(fabsf(ab[10 * w + 30] - 60) < 1e-3f, "a lone seed's colour fills its region");
    free(L), free(ab), free(hold), free(seed);
}

/* Where two seeds reach a pixel, the contest counts the lightness changes
 * that the hold leaves out: a pixel at the top of a gentle ramp (each step
 * under the texture allowance) goes to the seed on the flat beyond it, of
 * its own lightness, not to the one at the ramp's foot a little nearer;
 * and the hold is the same with or without the contest. */
static void test_contest_counts_gentle_ramps(void) {
    /* the ramp climbs 40 units in steps of 0.8 × the allowance; the pixel lies just beyond its top, nearer A */
    const float slope = 0.8f * NN_HINT_TEXTURE;
    const int ramp = (int)lrintf(40.0f / slope), w = 2 * ramp + 20, h = 6, n = w * h, px = ramp + 5, py = 3;
    float *L = malloc(sizeof(float) * n), *ab = malloc(sizeof(float) * 2 * n), *hold = malloc(sizeof(float) * n),
          *hold_off = malloc(sizeof(float) * n);
    int *seed = malloc(sizeof(int) * n);
    for (int k = 0; k < n; k++) L[k] = k % w < ramp ? 30.0f + slope * (float)(k % w) : 70.0f, seed[k] = -1;
    seed[py * w + 0] = 0, seed[py * w + w - 1] = 1; /* A at the ramp's foot, B at the far end of the flat */
    const float seed_ab[4] = {50, 0, -40, 0};
    nn_propagation_params p = {.reach = NN_DEFAULT_HINT_REACH, .texture = NN_HINT_TEXTURE, .length = 1, .smooth = 0};
    nn_error err = {0};
    CHECK(nn_propagate_hints(L, w, h, seed, seed_ab, NULL, &p, ab, NULL, hold_off, NULL, &err) == NN_OK, "%s", err.msg);
    const float a_off = ab[py * w + px];
    p.contest = NN_HINT_CONTEST;
    CHECK(nn_propagate_hints(L, w, h, seed, seed_ab, NULL, &p, ab, NULL, hold, NULL, &err) == NN_OK, "%s", err.msg);
    const float a_on = ab[py * w + px];
    printf("contest: the pixel above a gentle ramp takes a = %.0f without it, %.0f with it (A 50, B -40)\n", a_off,
           a_on);
    CHECK(fabsf(a_off - 50) < 1e-3f, "without the contest the nearer seed (A) should win, got a = %g", a_off);
    CHECK(fabsf(a_on + 40) < 1e-3f, "with the contest the seed of the pixel's lightness (B) should win, got a = %g",
          a_on);
    CHECK(memcmp(hold, hold_off, sizeof(float) * n) == 0, "the contest changed the hold");
    free(L), free(ab), free(hold), free(hold_off), free(seed);
}

/* The contest reaches every pixel the hold does, however far in its own
 * measure: on a long gentle ramp with a small reach, a pixel that the hold
 * keeps firmly, and that is further than 4 × reach from both seeds counting
 * every change, still takes the seed of its lightness (B), not the one
 * nearer in length (A) — no seam where the contest's distance passes the
 * reach. */
static void test_contest_beyond_reach(void) {
    const int w = 200, h = 4, n = w * h, px = 90, py = 2;
    float *L = malloc(sizeof(float) * n), *ab = malloc(sizeof(float) * 2 * n), *hold = malloc(sizeof(float) * n);
    int *seed = malloc(sizeof(int) * n);
    for (int k = 0; k < n; k++) L[k] = k % w < 120 ? 20.0f + 0.5f * (float)(k % w) : 80.0f, seed[k] = -1;
    seed[py * w + 0] = 0, seed[py * w + w - 1] = 1;
    const float seed_ab[4] = {50, 0, -40, 0};
    const nn_propagation_params p = {.reach = 3, .texture = NN_HINT_TEXTURE, .length = 1, .contest = NN_HINT_CONTEST,
                                     .smooth = 0};
    nn_error err = {0};
    CHECK(nn_propagate_hints(L, w, h, seed, seed_ab, NULL, &p, ab, NULL, hold, NULL, &err) == NN_OK, "%s", err.msg);
    printf("contest beyond 4 × reach: the pixel takes a = %.0f (B -40) with hold %.3f\n", ab[py * w + px],
           hold[py * w + px]);
    CHECK(hold[py * w + px] > 0.99f, "the hold should keep the pixel (%.3f)", hold[py * w + px]);
    CHECK(fabsf(ab[py * w + px] + 40) < 1e-3f, "beyond the contest's reach the pixel took a = %g, not B's -40",
          ab[py * w + px]);
    free(L), free(ab), free(hold), free(seed);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_propagate MODEL.weights\n");
        return 2;
    }
    test_search_against_oracle();
    test_median_against_oracle();
    test_denoise_thin_lines();
    test_clicked_thin_structure();
    test_step_edge();
    test_contest_counts_gentle_ramps();
    test_contest_beyond_reach();
    nn_colorizer *c = NULL;
    nn_error err = {0};
    CHECK(nn_colorizer_load(&c, argv[1], 64, NN_TILE_SIDE, &err) == NN_OK, "%s", err.msg);
    if (c) {
        float *L = synthetic_L(), *ab = malloc(sizeof(float) * 2 * SYN_W * SYN_H);
        test_one_point(c, L, ab);
        test_stroke(c, L, ab);
        test_two_points(c, L, ab);
        test_no_hints_unchanged(c, L, ab);
        test_predict_from(c, L, ab);
        test_hint_regions(c, L);
        test_chroma_follows_lightness(c);
        free(L), free(ab);
        nn_colorizer_free(c);
    }
    return test_finish("test_propagate");
}
