/* test_undo.c — "one Undo restores the image": GIMP 2.10's PDB has no undo
 * procedure, so this test drives a real GIMP under Xvfb. It starts gimp
 * with the Script-Fu server, loads a grayscale image into a display,
 * records it, runs plug-in-nn-colorize, presses Ctrl+Z once in the image
 * window (xdotool), and checks that the image is grayscale again with
 * exactly its old layer and bitwise the same pixels; then Ctrl+Y (redo)
 * brings the colorized result back, so the colorization was one step.
 * Usage: test_undo PLUGIN MODEL (re-runs itself under xvfb-run). */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gimpgui.h"
#include "testlib.h"

static int g_port;

static char *eval(const char *expr) { return gui_eval(g_port, expr); }

/* The image's state: "(base-type (n-layers #(ids)))". */
static char *state(int image) {
    char *e = g_strdup_printf("(list (car (gimp-image-base-type %d)) (gimp-image-get-layers %d))", image, image);
    char *r = eval(e);
    g_free(e);
    return r;
}

/* Presses keys in the image window, then waits for the state to change. */
static char *press(const char *keys, const char *window, int image, const char *old) {
    CHECK(gui_press(window, keys), "xdotool could not press %s in window %s", keys, window);
    char *now = NULL;
    for (int i = 0; i < 100; i++) { /* up to 10 s */
        g_free(now);
        now = state(image);
        if (strcmp(now, old) != 0) break;
        g_usleep(100000);
    }
    return now;
}

static GdkPixbuf *load(const char *path) {
    GdkPixbuf *pb = gdk_pixbuf_new_from_file(path, NULL);
    CHECK(pb != NULL, "cannot read %s", path);
    return pb;
}

static gboolean same_pixels(GdkPixbuf *a, GdkPixbuf *b) {
    if (!a || !b) return FALSE;
    int w = gdk_pixbuf_get_width(a), h = gdk_pixbuf_get_height(a), n = gdk_pixbuf_get_n_channels(a);
    if (w != gdk_pixbuf_get_width(b) || h != gdk_pixbuf_get_height(b) || n != gdk_pixbuf_get_n_channels(b)) return FALSE;
    for (int y = 0; y < h; y++)
        if (memcmp(gdk_pixbuf_read_pixels(a) + y * gdk_pixbuf_get_rowstride(a),
                   gdk_pixbuf_read_pixels(b) + y * gdk_pixbuf_get_rowstride(b), (size_t)w * n) != 0)
            return FALSE;
    return TRUE;
}

/* Inside Xvfb: GIMP, the plug-in, one Ctrl+Z. */
static int inside(const char *profile, const char *dir) {
    GuiGimp g;
    if (!gui_gimp_start(&g, profile, dir, g_port)) return test_finish("test_undo (inside Xvfb)");

    char *image_path = g_build_filename(dir, "undo-test.png", NULL);
    char *before_path = g_build_filename(dir, "before.png", NULL), *after_path = g_build_filename(dir, "after.png", NULL);
    char *e = g_strdup_printf("(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"%s\" \"%s\")))"
                              " (layer (car (gimp-image-get-active-layer image))))"
                              " (gimp-display-new image) (gimp-displays-flush) (list image layer))",
                              image_path, image_path);
    char *ids = eval(e);
    int image = 0, layer = 0;
    CHECK(sscanf(ids, "(%d %d)", &image, &layer) == 2, "no image and layer in %s", ids);
    g_free(e);
    char *save = g_strdup_printf("(gimp-file-save RUN-NONINTERACTIVE %d %d \"%s\" \"%s\")", image, layer, before_path,
                                 before_path);
    g_free(eval(save));
    g_free(save);
    char *before = state(image);
    CHECK(g_str_has_prefix(before, "(1 (1 "), "the test image is not a one-layer grayscale image: %s", before);

    e = g_strdup_printf("(plug-in-nn-colorize RUN-NONINTERACTIVE %d %d \"\" 0.5 1.0 64 -1)", image, layer);
    char *made = eval(e);
    g_free(e);
    int colorized = 0;
    CHECK(sscanf(made, "(%d)", &colorized) == 1 && colorized > 0, "no new layer: %s", made);
    g_free(eval("(gimp-displays-flush)"));
    char *after_run = state(image);
    char *want_run = g_strdup_printf("(0 (2 #(%d %d)))", colorized, layer);
    CHECK(strcmp(after_run, want_run) == 0, "after the plug-in: %s, expected %s (RGB, the new layer above)", after_run,
          want_run);

    char *window = gui_find_window("undo-test", 5);
    CHECK(window != NULL, "no image window titled undo-test");
    if (window) {
        printf("image window %s: one Ctrl+Z\n", window);
        char *undone = press("ctrl+z", window, image, after_run);
        CHECK(strcmp(undone, before) == 0, "after one Undo: %s, expected the old image %s", undone, before);
        save = g_strdup_printf("(gimp-file-save RUN-NONINTERACTIVE %d %d \"%s\" \"%s\")", image, layer, after_path,
                               after_path);
        g_free(eval(save));
        g_free(save);
        GdkPixbuf *a = load(before_path), *b = load(after_path);
        CHECK(same_pixels(a, b), "the layer's pixels differ after Undo");
        printf("pixels after Undo: %s\n", same_pixels(a, b) ? "bitwise equal to before" : "DIFFERENT");
        if (a) g_object_unref(a);
        if (b) g_object_unref(b);
        printf("Ctrl+Y (redo)\n");
        char *redone = press("ctrl+y", window, image, undone);
        CHECK(strcmp(redone, want_run) == 0, "after Redo: %s, expected %s", redone, want_run);
        g_free(undone), g_free(redone);
    }
    gui_gimp_stop(&g);
    g_free(image_path), g_free(before_path);
    g_free(after_path), g_free(ids), g_free(before), g_free(made), g_free(after_run), g_free(want_run), g_free(window);
    return test_finish("test_undo (inside Xvfb)");
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "--inside") == 0) {
        g_port = atoi(argv[4]);
        return inside(argv[2], argv[3]);
    }
    if (argc < 3) {
        fprintf(stderr, "usage: test_undo PLUGIN MODEL\n");
        return 1;
    }
    GuiProfile prof = gui_profile_new(argv[1], argv[2]);
    const char *dir = prof.dir, *profile = prof.profile;

    /* a grayscale photo-like test image: gradient sky, hill, texture */
    const int w = 96, h = 64;
    GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double v = y < 24 ? 210 - 2 * y : 80 + 30 * sin(x * 0.2) * cos(y * 0.3);
            guchar *p = gdk_pixbuf_get_pixels(pb) + y * gdk_pixbuf_get_rowstride(pb) + 3 * x;
            p[0] = p[1] = p[2] = (guchar)CLAMP(lround(v), 0, 255);
        }
    char *png = g_build_filename(dir, "undo-test-rgb.png", NULL), *gray = g_build_filename(dir, "undo-test.png", NULL);
    CHECK(gdk_pixbuf_save(pb, png, "png", NULL, NULL), "cannot write %s", png);
    g_object_unref(pb);
    /* GIMP loads an RGB PNG as RGB: make it grayscale with gimp-console first */
    char *convert = g_strdup_printf("(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"%s\" \"%s\")))"
                                    " (layer (car (gimp-image-get-active-layer image))))"
                                    " (gimp-image-convert-grayscale image)"
                                    " (gimp-file-save RUN-NONINTERACTIVE image layer \"%s\" \"%s\"))",
                                    png, png, gray, gray);
    char *env_profile = g_strdup_printf("GIMP2_DIRECTORY=%s", profile);
    char *console[] = {"env", env_profile, "gimp-console-2.10", "-i", "-d", "-f", "-b", convert, "-b", "(gimp-quit 0)", NULL};
    CHECK(gui_run_quiet(console, NULL) && g_file_test(gray, G_FILE_TEST_EXISTS), "gimp-console could not write %s", gray);

    char *port = g_strdup_printf("%d", gui_free_port());
    char *args[] = {"--inside", (char *)profile, (char *)dir, port, NULL};
    gui_rerun_in_xvfb(argv[0], args);
    gui_profile_free(&prof);
    g_free(png), g_free(gray), g_free(convert), g_free(env_profile), g_free(port);
    return test_finish("test_undo");
}
