/* test_render.c — the plug-in's shared render (plugin/colorize-render.c),
 * on plain memory without GIMP: a point just placed in the dialog takes
 * the colour the render shows at its place (at saturation 1), predicted
 * with the user's other points as hints and without the point itself
 * (not the network's first suggestion, often a plain gray); points whose colour the
 * user chose keep it; and the settings' hint reach is the engine's.
 * Argument: the model file. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../plugin/colorize.h"
#include "testlib.h"

#define W 96
#define H 64

/* A gray scene: a bright sky over a darker, textured ground. */
static gfloat *scene(void) {
    gfloat *px = g_new(gfloat, 4 * W * H);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            gfloat v = y < H / 2 ? 0.8f - 0.004f * y : 0.3f + 0.1f * (float)((x * 7 + y * 3) % 5) / 5.0f;
            for (int c = 0; c < 3; c++) px[4 * (y * W + x) + c] = v;
            px[4 * (y * W + x) + 3] = 1.0f;
        }
    return px;
}

/* The colour the render with `others` as point hints gives (x, y), as a
 * preview at saturation 1 shows it: the oracle, read through the region
 * sampler the preview uses. Also the network's first suggestion there. */
static void shown_colour(nn_colorizer *model, const ColorizeSettings *s, const gfloat *px, const PointHint *others,
                         int n_others, double x, double y, guchar rgb[3], guchar first[3]) {
    GError *error = NULL;
    nn_engine *e = colorize_render_begin(s, W, H, others, n_others, 0, 0, 1.0, &error);
    gboolean ok = e && colorize_render_feed(e, W, 0, H, px, 4, NULL, NULL, &error) &&
                  colorize_render_predict(e, model, NULL, NULL, NULL, &error);
    CHECK(ok, "the oracle's engine failed: %s", error ? error->message : "?");
    float ab[2], prob, L = ok ? nn_engine_lightness_at(e, x, y) : 0.0f;
    int found = 0;
    nn_error err = {0};
    if (ok) nn_engine_set_saturation(e, 1.0f);
    CHECK(ok && nn_engine_ab_region(e, x - 0.5, y - 0.5, 1.0, 1.0, 1, 1, &L, &ab[0], &ab[1], &err) == NN_OK,
          "no colour: %s", err.msg);
    colorize_render_ab_to_rgb(e, x, y, ab, rgb);
    CHECK(ok && nn_engine_suggest(e, model, x, y, 1, ab, &prob, &found, &err) == NN_OK && found == 1,
          "no suggestion: %s", err.msg);
    colorize_render_ab_to_rgb(e, x, y, ab, first);
    nn_engine_free(e);
    g_clear_error(&error);
}

/* How firmly a magenta point on the sky holds (x, y), through the render
 * the dialog and OK use, at the settings' hint reach. */
static float hold_at(nn_colorizer *model, const ColorizeSettings *s, const gfloat *px, double x, double y) {
    PointHint point = {{20, 10, {200, 60, 190}}, FALSE};
    GError *error = NULL;
    nn_engine *e = colorize_render_begin(s, W, H, &point, 1, 0, 0, 1.0, &error);
    gboolean ok = e && colorize_render_feed(e, W, 0, H, px, 4, NULL, NULL, &error) &&
                  colorize_render_predict(e, model, NULL, NULL, NULL, &error);
    CHECK(ok, "the render failed: %s", error ? error->message : "?");
    const float hold = ok ? nn_engine_hint_hold_at(e, x, y) : -1.0f;
    nn_engine_free(e);
    g_clear_error(&error);
    return hold;
}

/* The dialog's Hint reach reaches the engine: at the default a point on
 * the sky holds the sky's far corner and not the ground beyond the edge;
 * at 0 it holds nothing away from itself. */
static void test_hint_reach(nn_colorizer *model, const gfloat *px) {
    ColorizeSettings s = COLORIZE_DEFAULTS;
    s.resolution = 128;
    const float sky = hold_at(model, &s, px, W - 3, 3), ground = hold_at(model, &s, px, W / 2, H - 5);
    s.hint_reach = 0.0;
    const float sky0 = hold_at(model, &s, px, W - 3, 3);
    printf("hint reach %g: the point holds the far sky %.2f, the ground %.2f; reach 0: the far sky %.2f\n",
           COLORIZE_DEFAULTS.hint_reach, sky, ground, sky0);
    CHECK(sky > 0.8f, "at the default reach the point does not hold the far sky (%.2f)", sky);
    CHECK(ground < 0.05f, "at the default reach the point holds the ground beyond the edge (%.2f)", ground);
    CHECK(sky0 < 0.05f, "at reach 0 the point still holds the far sky (%.2f)", sky0);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_render MODEL\n");
        return 2;
    }
    GError *error = NULL;
    nn_colorizer *model = colorize_model_get(argv[1], &error);
    CHECK(model, "cannot load %s: %s", argv[1], error ? error->message : "?");
    if (!model) return test_finish("test_render");
    ColorizeSettings s = COLORIZE_DEFAULTS;
    s.resolution = 128;
    gfloat *px = scene();
    /* a blue point the user chose on the sky, a new one on the ground, and a new one outside the image */
    PointHint points[3] = {{{20, 10, {40, 70, 200}}, FALSE}, {{60, 50, {40, 70, 200}}, TRUE}, {{W + 5, 10, {1, 2, 3}}, TRUE}};
    CHECK(colorize_render_guess_colours(&s, W, H, px, NULL, points, 3, 0, 0, 1.0, model, NULL, &error), "%s",
          error ? error->message : "?");
    guchar want[3], first[3];
    shown_colour(model, &s, px, points, 1, 60, 50, want, first);
    printf("the new point on the ground: #%02x%02x%02x; the colour shown there: #%02x%02x%02x; the network's first "
           "suggestion there: #%02x%02x%02x\n", points[1].at.rgb[0], points[1].at.rgb[1], points[1].at.rgb[2], want[0],
           want[1], want[2], first[0], first[1], first[2]);
    CHECK(memcmp(points[1].at.rgb, want, 3) == 0, "the new point did not take the colour shown at its place");
    CHECK(memcmp(points[1].at.rgb, points[0].at.rgb, 3) != 0, "the new point took the other point's colour");
    CHECK(!points[0].guess && !points[1].guess && !points[2].guess, "a point still waits for its colour");
    CHECK(points[0].at.rgb[0] == 40 && points[0].at.rgb[1] == 70 && points[0].at.rgb[2] == 200, "the chosen colour changed");
    CHECK(points[2].at.rgb[0] == 1 && points[2].at.rgb[1] == 2 && points[2].at.rgb[2] == 3,
          "a point outside the image was given a colour");
    /* no point waits: nothing is computed, nothing changes */
    PointHint again = points[1];
    CHECK(colorize_render_guess_colours(&s, W, H, px, NULL, &again, 1, 0, 0, 1.0, model, NULL, &error) &&
              memcmp(again.at.rgb, points[1].at.rgb, 3) == 0,
          "a point with a chosen colour was guessed again");
    test_hint_reach(model, px);
    g_free(px);
    g_clear_error(&error);
    colorize_model_forget();
    return test_finish("test_render");
}
