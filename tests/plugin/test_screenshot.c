/* test_screenshot.c — renders the plug-in's dialog in a real GIMP under
 * Xvfb (tests/plugin/gimp/screenshot.sh), converts the XWD capture to PNG in the
 * build directory, and checks that it is a real dialog: not blank, of a
 * sensible size that fits a 1366×768 laptop screen, with a colorized
 * preview.
 * Usage: test_screenshot SCRIPT PLUGIN MODEL IMAGE OUT.png */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn.h"
#include "testlib.h"

static guint32 be32(const guchar *p) { return (guint32)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

/* XWD (X Window Dump, ZPixmap, 24/32 bpp TrueColor) -> pixbuf. */
static GdkPixbuf *read_xwd(const char *path) {
    gchar *d;
    gsize len;
    if (!g_file_get_contents(path, &d, &len, NULL) || len < 100) return NULL;
    const guchar *u = (const guchar *)d;
    guint32 header = be32(u), format = be32(u + 8), w = be32(u + 16), h = be32(u + 20);
    guint32 byte_order = be32(u + 28), bpp = be32(u + 44), bpl = be32(u + 48), ncolors = be32(u + 76);
    guint32 rmask = be32(u + 56), gmask = be32(u + 60), bmask = be32(u + 64);
    gsize off = header + (gsize)ncolors * 12;
    GdkPixbuf *pb = NULL;
    if (format == 2 && bpp == 32 && w > 0 && h > 0 && w < 10000 && h < 10000 && off + (gsize)bpl * h <= len &&
        rmask == 0xff0000 && gmask == 0xff00 && bmask == 0xff) {
        pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, (int)w, (int)h);
        guchar *px = gdk_pixbuf_get_pixels(pb);
        int stride = gdk_pixbuf_get_rowstride(pb);
        for (guint32 y = 0; y < h; y++)
            for (guint32 x = 0; x < w; x++) {
                const guchar *s = u + off + (gsize)y * bpl + 4 * x;
                guint32 v = byte_order == 0 ? (guint32)s[0] | s[1] << 8 | s[2] << 16 | (guint32)s[3] << 24 : be32(s);
                guchar *o = px + y * stride + 3 * x;
                o[0] = v >> 16 & 255, o[1] = v >> 8 & 255, o[2] = v & 255;
            }
    }
    g_free(d);
    return pb;
}

/* The mean chroma of the dialog's top third (where the preview sits), and
 * the luminance's standard deviation over the whole window in *sd. */
static double preview_chroma(GdkPixbuf *pb, double *sd) {
    const int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb), stride = gdk_pixbuf_get_rowstride(pb);
    const guchar *px = gdk_pixbuf_read_pixels(pb);
    double sum = 0, sq = 0, chroma = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const guchar *p = px + y * stride + 3 * x;
            double v = (p[0] + p[1] + p[2]) / 3.0;
            sum += v, sq += v * v;
            if (y < h / 3) {
                float lab[3];
                nn_srgb8_to_lab(lab, p, 1);
                chroma += hypot(lab[1], lab[2]);
            }
        }
    const double n = (double)w * h;
    *sd = sqrt(fmax(0, sq / n - (sum / n) * (sum / n)));
    return chroma / (w * (h / 3));
}

/* The mean absolute difference of the two windows' gray levels over the
 * top third (the preview), and that region's standard deviation in a. */
static double preview_gray_difference(GdkPixbuf *a, GdkPixbuf *b, double *sd) {
    const int w = MIN(gdk_pixbuf_get_width(a), gdk_pixbuf_get_width(b));
    const int h = MIN(gdk_pixbuf_get_height(a), gdk_pixbuf_get_height(b)) / 3;
    const int sa = gdk_pixbuf_get_rowstride(a), sb = gdk_pixbuf_get_rowstride(b);
    const guchar *pa = gdk_pixbuf_read_pixels(a), *pb = gdk_pixbuf_read_pixels(b);
    double diff = 0, sum = 0, sq = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const guchar *p = pa + y * sa + 3 * x, *q = pb + y * sb + 3 * x;
            float la[3], lb[3];
            nn_srgb8_to_lab(la, p, 1), nn_srgb8_to_lab(lb, q, 1);
            diff += fabs(la[0] - lb[0]), sum += la[0], sq += la[0] * la[0];
        }
    const double n = (double)w * h;
    *sd = sqrt(fmax(0, sq / n - (sum / n) * (sum / n)));
    return diff / n;
}

/* The screen: a common laptop's, on which a landscape photo's dialog was
 * once 806 px tall (its buttons below the edge); the dialog must leave
 * LAPTOP_BARS for its title bar and the desktop's panel. */
#define LAPTOP_W 1366
#define LAPTOP_H 768
#define LAPTOP_BARS 40

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: test_screenshot SCRIPT PLUGIN MODEL IMAGE OUT.png\n");
        return 1;
    }
    char *dir = g_dir_make_tmp("colorize-shot-XXXXXX", NULL);
    char *plugdir = g_build_filename(dir, "profile", "plug-ins", "colorize-neural", NULL);
    g_mkdir_with_parents(plugdir, 0755);
    const char *data_dirs[] = {"brushes", "dynamics", "gradients", "palettes", "patterns", "tool-presets"};
    for (size_t i = 0; i < G_N_ELEMENTS(data_dirs); i++) {
        char *p = g_build_filename(dir, "profile", data_dirs[i], NULL);
        g_mkdir_with_parents(p, 0755);
        g_free(p);
    }
    const char *names[2] = {"colorize-neural", "colorize-cifar10.weights"};
    for (int i = 0; i < 2; i++) {
        gchar *bytes;
        gsize len;
        char *dst = g_build_filename(plugdir, names[i], NULL);
        CHECK(g_file_get_contents(argv[2 + i], &bytes, &len, NULL) && g_file_set_contents(dst, bytes, (gssize)len, NULL),
              "cannot install %s", argv[2 + i]);
        g_chmod(dst, 0755);
        g_free(bytes), g_free(dst);
    }
    char *profile = g_build_filename(dir, "profile", NULL), *xwd = g_build_filename(dir, "dialog.xwd", NULL);
    char *image = g_canonicalize_filename(argv[4], NULL), *script = g_canonicalize_filename(argv[1], NULL);
    char *cmd[] = {"xvfb-run", "-a", "-s", "-screen 0 " G_STRINGIFY(LAPTOP_W) "x" G_STRINGIFY(LAPTOP_H) "x24", script,
                   profile, image, xwd, NULL};
    gint status = -1;
    gchar *out = NULL, *err = NULL;
    GError *error = NULL;
    CHECK(g_spawn_sync(NULL, cmd, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error) && status == 0,
          "the dialog did not appear (status %d): %s%s", status, error ? error->message : "", err ? err : "");
    GdkPixbuf *pb = read_xwd(xwd);
    CHECK(pb != NULL, "%s is missing or not a 32-bit TrueColor XWD", xwd);
    if (pb) {
        double sd = 0, chroma = preview_chroma(pb, &sd);
        const int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb);
        printf("dialog %dx%d: luminance std %.1f, mean chroma of the preview area %.1f -> %s\n", w, h, sd, chroma, argv[5]);
        CHECK(w >= 300 && h >= 300, "the dialog is only %dx%d", w, h);
        CHECK(w <= LAPTOP_W && h <= LAPTOP_H - LAPTOP_BARS, "the dialog (%dx%d) does not fit a %dx%d screen with %d px "
              "of title bar and panel: its buttons are off the screen", w, h, LAPTOP_W, LAPTOP_H, LAPTOP_BARS);
        CHECK(sd > 20.0, "the screenshot is blank (std %.1f)", sd);
        CHECK(chroma > 5.0, "the preview shows no colour (chroma %.1f)", chroma);
        CHECK(gdk_pixbuf_save(pb, argv[5], "png", NULL, NULL), "cannot write %s", argv[5]);
        g_object_unref(pb);
    }
    /* Preview unchecked: the gray source, to compare (the result's own
     * lightness, not a blank); checked again: the result back */
    char *before_xwd = g_strconcat(xwd, ".before", NULL), *after_xwd = g_strconcat(xwd, ".after", NULL);
    GdkPixbuf *shown = read_xwd(xwd), *before = read_xwd(before_xwd), *after = read_xwd(after_xwd);
    CHECK(before != NULL && after != NULL, "%s or %s is missing", before_xwd, after_xwd);
    if (shown && before && after) {
        double sd = 0, unused = 0, chroma = preview_chroma(before, &unused);
        const double dL = preview_gray_difference(before, shown, &sd);
        printf("Preview unchecked: mean chroma of the preview area %.1f, its L* std %.1f, mean |dL*| from the "
               "result %.1f\n", chroma, sd, dL);
        CHECK(chroma < 2.0, "with Preview unchecked the preview still shows colour (chroma %.1f)", chroma);
        CHECK(sd > 10.0 && dL < 5.0, "with Preview unchecked the preview is not the source (L* std %.1f, mean |dL*| "
              "from the result %.1f)", sd, dL);
        double again = preview_chroma(after, &unused);
        printf("Preview checked again: mean chroma of the preview area %.1f\n", again);
        CHECK(again > 5.0, "with Preview checked again the preview shows no colour (chroma %.1f)", again);
    }
    if (shown) g_object_unref(shown);
    if (before) g_object_unref(before);
    if (after) g_object_unref(after);
    g_free(before_xwd), g_free(after_xwd);
    char *rm = g_strdup_printf("rm -rf '%s'", dir);
    CHECK(system(rm) == 0, "cleanup");
    g_free(rm), g_free(dir), g_free(plugdir), g_free(profile), g_free(xwd), g_free(image), g_free(script);
    g_free(out), g_free(err);
    return test_finish("test_screenshot");
}
