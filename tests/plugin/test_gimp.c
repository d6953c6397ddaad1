/* test_gimp.c — integration tests with the real gimp-console: installs the
 * built plug-in and a model into a temporary GIMP profile (GIMP2_DIRECTORY),
 * writes test images, runs tests/plugin/gimp/colorize-tests.scm in batch mode and
 * checks its RESULT lines and exported images: the new layer exists above
 * the source, the source is bitwise unchanged, L is the source's within 1,
 * there is real chroma, alpha and selection are respected at every
 * precision, red hint strokes make their region red, and bad arguments give
 * a PDB error without a crash or a change to the image; a broad stroke
 * keeps its colour (the stroke acceptance case on a real photo), point
 * hints colour a grayscale image, a warm colour reference makes the result
 * warmer than a cool one (a gray reference and a weight of 0 refused), and
 * channels, masks and layer groups are refused.
 * Usage: test_gimp PLUGIN MODEL SCRIPT.scm PHOTO */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn.h"
#include "testlib.h"

static char *g_dir, *g_output;

static void write_png(const char *name, int w, int h, gboolean alpha) {
    GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, alpha, 8, w, h);
    guchar *px = gdk_pixbuf_get_pixels(pb);
    int stride = gdk_pixbuf_get_rowstride(pb), nc = alpha ? 4 : 3;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            /* a gray scene: bright sky, a darker hill, a disc and texture */
            double v = y < 50 ? 200 - y : 90 + 20 * sin(x * 0.3) * cos(y * 0.2);
            if ((x - 110) * (x - 110) + (y - 70) * (y - 70) < 300) v = 150;
            v += 6 * sin(x * 1.3 + y * 0.7);
            guchar *p = px + y * stride + nc * x;
            p[0] = p[1] = p[2] = (guchar)CLAMP(lround(v), 0, 255);
            if (alpha) p[3] = x < 30 ? 0 : (guchar)(255 - y);
        }
    char *path = g_build_filename(g_dir, name, NULL);
    CHECK(gdk_pixbuf_save(pb, path, "png", NULL, NULL), "cannot write %s", path);
    g_free(path);
    g_object_unref(pb);
}

static GdkPixbuf *load(const char *name) {
    char *path = g_build_filename(g_dir, name, NULL);
    GError *e = NULL;
    GdkPixbuf *pb = gdk_pixbuf_new_from_file(path, &e);
    CHECK(pb != NULL, "%s: %s", path, e ? e->message : "?");
    g_clear_error(&e);
    g_free(path);
    return pb;
}

/* The RESULT line starting with `key`, or "" (a failed check). */
static const char *result(const char *key) {
    static char line[512];
    char pattern[128];
    snprintf(pattern, sizeof pattern, "RESULT %s", key);
    const char *p = g_output ? strstr(g_output, pattern) : NULL;
    CHECK(p != NULL, "no RESULT line for %s", key);
    if (!p) return "";
    const char *end = strchr(p, '\n');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n >= sizeof line) n = sizeof line - 1;
    memcpy(line, p, n);
    line[n] = 0;
    return line;
}

/* Lab of pixel (x, y) of an 8-bit pixbuf. */
static void pixel_lab(GdkPixbuf *pb, int x, int y, float lab[3], int *alpha) {
    const guchar *p = gdk_pixbuf_read_pixels(pb) + y * gdk_pixbuf_get_rowstride(pb) + x * gdk_pixbuf_get_n_channels(pb);
    guchar rgb[3] = {p[0], p[1], p[2]};
    if (gdk_pixbuf_get_n_channels(pb) < 3) rgb[1] = rgb[2] = p[0];
    nn_srgb8_to_lab(lab, rgb, 1);
    if (alpha) *alpha = gdk_pixbuf_get_has_alpha(pb) ? p[gdk_pixbuf_get_n_channels(pb) - 1] : 255;
}

static void check_precision(const char *name) {
    char key[64], src_name[64], out_name[64];
    snprintf(key, sizeof key, "%s ", name);
    const char *line = result(key);
    printf("%s\n", line);
    CHECK(strstr(line, "unchanged=yes") && strstr(line, "layers=2") && strstr(line, "on-top=yes") &&
              strstr(line, "named=yes") && strstr(line, "rgb=yes") && strstr(line, "same-size=yes"),
          "%s: %s", name, line);
    snprintf(src_name, sizeof src_name, "%s-src.png", name);
    snprintf(out_name, sizeof out_name, "%s-out.png", name);
    GdkPixbuf *src = load(src_name), *out = load(out_name);
    if (!src || !out) return;
    int w = gdk_pixbuf_get_width(src), h = gdk_pixbuf_get_height(src);
    double max_dl = 0, chroma = 0;
    const int u8_linear = strcmp(name, "u8-linear") == 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float a[3], b[3];
            pixel_lab(src, x, y, a, NULL);
            pixel_lab(out, x, y, b, NULL);
            double dl = fabs(a[0] - b[0]);
            if (u8_linear) {
                /* the result itself is stored as 8-bit linear light: allow half
                 * a code of that storage, in L units, on top of the 1 unit */
                double Y = a[0] > 8 ? pow((a[0] + 16) / 116.0, 3) : a[0] / 903.3;
                double Y2 = Y + 0.5 / 255.0;
                double L2 = Y2 > 0.008856 ? 116 * cbrt(Y2) - 16 : 903.3 * Y2;
                dl -= L2 - a[0];
            }
            max_dl = fmax(max_dl, dl);
            chroma += hypot(b[1], b[2]);
        }
    chroma /= w * h;
    printf("  %-12s max |dL| %.3f, mean chroma %.2f\n", name, max_dl, chroma);
    CHECK(max_dl <= 1.0, "%s: L differs from the source by %.3f", name, max_dl);
    CHECK(chroma > 3.0, "%s: no real chroma (%.2f)", name, chroma);
    g_object_unref(src), g_object_unref(out);
}

static void check_selection(void) {
    printf("%s\n", result("selection"));
    CHECK(strstr(result("selection"), "alpha=yes"), "the new layer lost its alpha channel");
    GdkPixbuf *in = load("alpha.png"), *out = load("selection-out.png");
    if (!in || !out) return;
    int w = gdk_pixbuf_get_width(in), h = gdk_pixbuf_get_height(in), alpha_ok = 1;
    double inside = 0, outside = 0;
    int ni = 0, no = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float a[3], b[3];
            int aa, ab;
            pixel_lab(in, x, y, a, &aa);
            pixel_lab(out, x, y, b, &ab);
            alpha_ok &= aa == ab;
            if (ab == 0) continue;
            int sel = x >= 60 && x < 120 && y >= 30 && y < 80;
            if (sel) inside += hypot(b[1], b[2]), ni++;
            else outside += hypot(b[1], b[2]), no++;
        }
    inside /= ni, outside /= no;
    printf("  selection: chroma %.2f inside, %.2f outside; alpha %s\n", inside, outside, alpha_ok ? "kept" : "CHANGED");
    CHECK(alpha_ok, "alpha changed");
    CHECK(inside > 3.0 && outside < 1.0, "the colour is not limited to the selection (%.2f in, %.2f out)", inside, outside);
    g_object_unref(in), g_object_unref(out);
}

static void check_hints(void) {
    result("hints done");
    GdkPixbuf *hinted = load("hints-out.png"), *plain = load("rgb-u8-out.png");
    if (!hinted || !plain) return;
    double a_h = 0, b_h = 0, a_p = 0;
    int n = 0;
    for (int y = 20; y < 54; y++)
        for (int x = 20; x < 60; x++) {
            float h[3], p[3];
            pixel_lab(hinted, x, y, h, NULL);
            pixel_lab(plain, x, y, p, NULL);
            a_h += h[1], b_h += h[2], a_p += p[1], n++;
        }
    a_h /= n, b_h /= n, a_p /= n;
    printf("  hinted region: mean a %.1f, b %.1f with red strokes; a %.1f without\n", a_h, b_h, a_p);
    CHECK(a_h > 20.0 && a_h > a_p + 10.0 && a_h > fabs(b_h) * 0.5, "red strokes did not make the region red");
    g_object_unref(hinted), g_object_unref(plain);
}

/* The stroke acceptance: inside the inner 30 px of a saturated disc of
 * radius 60 painted on a hint layer, the result keeps at least 70 % of the
 * stroke's chroma (at each pixel's lightness, after the gamut fit), its
 * mean hue error is at most 20 degrees, and within the disc no block of
 * unrelated colour appears (under 2 % of the pixels more than 60 degrees
 * off with chroma above 10). */
static void check_stroke(void) {
    const char *line = result("stroke ");
    printf("%s\n", line);
    CHECK(strstr(line, "on-top=yes"), "the result is not above the hint layer: %s", line);
    GdkPixbuf *out = load("stroke-out.png");
    if (!out) return;
    guchar paint[3] = {230, 40, 30};
    float hint[3];
    nn_srgb8_to_lab(hint, paint, 1);
    double ratio = 0, hue = 0;
    int inner = 0, disc = 0, off = 0;
    for (int y = 0; y < gdk_pixbuf_get_height(out); y++)
        for (int x = 0; x < gdk_pixbuf_get_width(out); x++) {
            double d = hypot(x + 0.5 - 256, y + 0.5 - 192);
            if (d > 58) continue;
            float got[3];
            pixel_lab(out, x, y, got, NULL);
            float want[3] = {got[0], hint[1], hint[2]};
            nn_lab_fit_gamut(want, 1);
            double cw = hypot(want[1], want[2]), cg = hypot(got[1], got[2]);
            double dh = fabs(atan2(got[2], got[1]) - atan2(want[2], want[1])) * 180 / G_PI;
            if (dh > 180) dh = 360 - dh;
            disc++;
            if (cg > 10 && dh > 60) off++;
            if (d <= 30 && cw > 5) ratio += cg / cw, hue += dh, inner++;
        }
    ratio /= MAX(inner, 1), hue /= MAX(inner, 1);
    printf("  stroke disc: chroma kept %.1f %%, mean hue error %.1f deg, off-hue pixels %.2f %%\n", 100 * ratio, hue,
           100.0 * off / MAX(disc, 1));
    CHECK(inner > 1000, "only %d measurable pixels in the inner disc", inner);
    CHECK(ratio >= 0.70, "the stroke kept only %.0f %% of its chroma inside", 100 * ratio);
    CHECK(hue <= 20.0, "the stroke's mean hue error is %.1f degrees", hue);
    CHECK(off < 0.02 * disc, "%d of %d disc pixels have an unrelated colour", off, disc);
    g_object_unref(out);
}

/* Point hints on a grayscale image: blue at the left point, red at the right. */
static void check_points(void) {
    result("points done");
    GdkPixbuf *out = load("points-out.png");
    if (!out) return;
    float left[3], right[3];
    pixel_lab(out, 40, 90, left, NULL);
    pixel_lab(out, 120, 90, right, NULL);
    printf("  point hints: at the blue point a %.1f b %.1f; at the red point a %.1f b %.1f\n", left[1], left[2],
           right[1], right[2]);
    CHECK(left[2] < -15.0, "the blue point hint did not make its place blue (b %.1f)", left[2]);
    CHECK(right[1] > 15.0, "the red point hint did not make its place red (a %.1f)", right[1]);
    g_object_unref(out);
}

/* A colour reference: a warm one makes the result warmer than a cool one. */
static void check_reference(void) {
    result("reference done");
    GdkPixbuf *warm = load("reference-warm-out.png"), *cool = load("reference-cool-out.png");
    if (!warm || !cool) return;
    double bw = 0, bc = 0;
    int n = 0;
    for (int y = 4; y < gdk_pixbuf_get_height(warm); y += 8)
        for (int x = 4; x < gdk_pixbuf_get_width(warm); x += 8, n++) {
            float w[3], c[3];
            pixel_lab(warm, x, y, w, NULL);
            pixel_lab(cool, x, y, c, NULL);
            bw += w[2], bc += c[2];
        }
    printf("  reference: mean b %.1f with a warm one, %.1f with a cool one\n", bw / n, bc / n);
    CHECK(bw / n > bc / n + 15.0, "a warm reference did not make the result warmer than a cool one");
    g_object_unref(warm), g_object_unref(cool);
}

/* Under -Db_sanitize the plug-in reports to GIMP's stderr: any ASan or
 * UBSan error fails, and so does a leak whose stack holds a frame of ours
 * (GEGL, babl and json-glib keep a few allocations for the process life). */
static void check_sanitizers(void) {
    CHECK(!strstr(g_output, "ERROR: AddressSanitizer"), "AddressSanitizer report from the plug-in");
    CHECK(!strstr(g_output, "runtime error:"), "UndefinedBehaviorSanitizer report from the plug-in");
    int ours = 0;
    char **lines = g_strsplit(g_output, "\n", -1);
    for (char **l = lines; *l; l++)
        if (strstr(*l, "    #") && (strstr(*l, "plugin/colorize-") || strstr(*l, "/nn/") || strstr(*l, "(colorize-neural+")))
            ours++;
    g_strfreev(lines);
    CHECK(ours == 0, "%d sanitizer stack frames point into our code", ours);
    printf("sanitizer reports involving the plug-in's code: %d\n", ours);
}

/* Stored points with a damaged item and one outside the image: the good
 * one used, the others named once. */
static void check_stored_points(void) {
    const char *line = result("stored-points ");
    printf("%s\n", line);
    CHECK(strstr(line, "layers=2"), "Repeat with damaged stored points did not colorize: %s", line);
    const char *said = g_output ? strstr(g_output, "2 of the point hints stored with this image could not be used") : NULL;
    CHECK(said && strstr(said, "point hint 2 '-3,2,#000000'") && strstr(said, "the other 1 are kept"),
          "the points left out were not named");
    CHECK(!said || !strstr(said + 8, "of the point hints stored with this image"), "the message came more than once");
    GdkPixbuf *out = load("stored-points-out.png");
    if (!out) return;
    float lab[3];
    pixel_lab(out, 40, 90, lab, NULL);
    printf("  the stored blue point: b %.1f\n", lab[2]);
    CHECK(lab[2] < -15.0, "the good stored point was not used (b %.1f)", lab[2]);
    g_object_unref(out);
}

/* Repeat with a stored point off the layer: it colorizes with the other
 * and names what it left out, once. */
static void check_stored_off_layer(void) {
    const char *line = result("stored-off-layer ");
    printf("%s\n", line);
    CHECK(strstr(line, "layers=2"), "Repeat with a stored point off the layer did not colorize: %s", line);
    const char *said = g_output ? strstr(g_output, "1 of the 2 point hints stored with this image lie outside this layer")
                                : NULL;
    CHECK(said, "the point off the layer was not named");
    CHECK(!said || !strstr(said + 20, "point hints stored with this image lie outside"), "the message came more than once");
}

static void check_bad(const char *name, const char *message) {
    char key[64];
    snprintf(key, sizeof key, "bad-%s ", name);
    const char *line = result(key);
    printf("%s\n", line);
    CHECK(strstr(line, "error=yes") && strstr(line, "layers=1") && strstr(line, "unchanged=yes"), "%s", line);
    CHECK(g_output && strstr(g_output, message), "%s: no message containing '%s'", name, message);
}

/* A throw-away GIMP profile in g_dir with the plug-in and the model
 * installed, and a corrupt copy of the model beside it; returns the
 * profile's folder (g_free). */
static char *install_profile(const char *plugin, const char *model) {
    char *profile = g_build_filename(g_dir, "profile", NULL);
    char *plugdir = g_build_filename(profile, "plug-ins", "colorize-neural", NULL);
    g_mkdir_with_parents(plugdir, 0755);
    const char *data_dirs[] = {"brushes", "dynamics", "fonts", "gradients", "palettes", "patterns", "tool-presets",
                               "mypaint-brushes", "templates", "tags"};
    for (size_t i = 0; i < G_N_ELEMENTS(data_dirs); i++) {
        char *p = g_build_filename(profile, data_dirs[i], NULL);
        g_mkdir_with_parents(p, 0755);
        g_free(p);
    }
    gchar *bytes;
    gsize len;
    char *dst = g_build_filename(plugdir, "colorize-neural", NULL);
    CHECK(g_file_get_contents(plugin, &bytes, &len, NULL) && g_file_set_contents(dst, bytes, (gssize)len, NULL) &&
              g_chmod(dst, 0755) == 0, "cannot install the plug-in");
    g_free(bytes), g_free(dst);
    dst = g_build_filename(plugdir, "colorize-cifar10.weights", NULL);
    CHECK(g_file_get_contents(model, &bytes, &len, NULL) && g_file_set_contents(dst, bytes, (gssize)len, NULL),
          "cannot install the model %s", model);
    g_free(dst);
    dst = g_build_filename(g_dir, "corrupt.weights", NULL);
    g_file_set_contents(dst, bytes, (gssize)len / 2, NULL);
    g_free(dst), g_free(bytes);
    g_free(plugdir);
    return profile;
}

/* The images the script opens: small PNGs (with and without alpha) and a
 * real photo at 512x384 for the stroke case. */
static void write_inputs(const char *photo_path) {
    write_png("photo.png", 160, 120, FALSE);
    write_png("alpha.png", 160, 120, TRUE);
    GdkPixbuf *photo = gdk_pixbuf_new_from_file(photo_path, NULL);
    CHECK(photo != NULL, "cannot read %s", photo_path);
    if (photo) { /* a real photo at 512x384 for the stroke case */
        GdkPixbuf *scaled = gdk_pixbuf_scale_simple(photo, 512, 384, GDK_INTERP_BILINEAR);
        char *path = g_build_filename(g_dir, "stroke-photo.png", NULL);
        CHECK(gdk_pixbuf_save(scaled, path, "png", NULL, NULL), "cannot write %s", path);
        g_free(path);
        g_object_unref(scaled), g_object_unref(photo);
    }
}

/* What the script's output must say. */
static void check_output(void) {
    CHECK(strstr(g_output, "RESULT finished"), "the test script did not finish:\n%s", g_output);
    CHECK(!strstr(g_output, "crashed") && !strstr(g_output, "terminated"), "the plug-in crashed:\n%s", g_output);
    const char *precisions[] = {"gray-u8", "rgb-u8", "u8-linear", "u16-gamma", "u16-linear", "half-linear",
                                "float-linear", "float-gamma", "u32-linear"};
    for (size_t i = 0; i < G_N_ELEMENTS(precisions); i++) check_precision(precisions[i]);
    check_selection();
    check_hints();
    check_bad("missing-model", "Cannot load the model: /nonexistent/model.weights");
    check_bad("corrupt-model", "corrupt.weights: truncated");
    check_bad("resolution-0", "Working resolution 0 is outside 32 to 2048");
    check_bad("vividness-2", "Vividness 2 is outside 0 to 1");
    check_bad("saturation-3", "Saturation 3 is outside 0 to 2");
    check_bad("hint-99999", "invalid ID for argument 'hint-layer'");
    check_bad("hint-self", "The hint layer must be another layer");
    check_bad("indexed", "Indexed images cannot be colorized");
    check_stroke();
    check_points();
    check_bad("points-syntax", "point hint 1 '10,10,red': the colour is not #rrggbb");
    check_bad("points-negative", "point hint 1 '-5,40,#ff0000': x is negative: outside the image");
    check_bad("points-outside", "Point hint 2 (500.0, 90.0) is outside the 160×120 image");
    check_reference();
    check_bad("reference-gray", "cannot serve: the colour reference has no colour to give");
    check_bad("reference-weight-0", "Reference weight 0 is outside 0 to 8");
    check_bad("points-off-layer", "Point hint 1 (10.0, 10.0) is outside the layer, which covers 80×60 pixels at "
                                  "(40, 30) of the image");
    check_stored_points();
    check_stored_off_layer();
    check_bad("hint-group", "A layer group cannot be the hint layer");
    check_bad("hint-result", "An earlier colorized result cannot be the hint layer");
    check_bad("hint-channel", "The hint layer must be another layer");
    check_bad("hint-mask", "The hint layer must be another layer");
    check_bad("group", "A layer group cannot be colorized");
    check_sanitizers();
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: test_gimp PLUGIN MODEL SCRIPT.scm PHOTO\n");
        return 1;
    }
    g_dir = g_dir_make_tmp("colorize-gimp-XXXXXX", NULL);
    char *profile = install_profile(argv[1], argv[2]);
    write_inputs(argv[4]);
    /* one batch command: definitions made by `load` do not outlive it */
    char *script = g_canonicalize_filename(argv[3], NULL);
    char *run_cmd = g_strdup_printf("(begin (load \"%s\") (run-colorize-tests \"%s\"))", script, g_dir);
    char *gimp_argv[] = {"gimp-console-2.10", "-i", "-d", "-f", "-b", run_cmd, "-b", "(gimp-quit 0)", NULL};
    char **env = g_environ_setenv(g_get_environ(), "GIMP2_DIRECTORY", profile, TRUE);
    gchar *out = NULL, *err = NULL;
    gint status = 0;
    GError *error = NULL;
    gboolean spawned = g_spawn_sync(NULL, gimp_argv, env, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error);
    CHECK(spawned, "cannot run gimp-console-2.10: %s", error ? error->message : "?");
    g_output = g_strconcat(out ? out : "", err ? err : "", NULL);
    if (spawned) check_output();
    if (test_failures) fprintf(stderr, "gimp-console output:\n%s\n", g_output);
    char *rm = g_strdup_printf("rm -rf '%s'", g_dir);
    if (!test_failures) CHECK(system(rm) == 0, "cleanup");
    g_free(rm), g_free(out), g_free(err), g_free(g_output), g_free(script), g_free(run_cmd);
    g_strfreev(env);
    g_free(profile);
    return test_finish("test_gimp");
}
