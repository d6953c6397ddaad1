/* colorize.c — `colorize-train colorize`: colorizes an image file with the
 * same engine as the GIMP plug-in (working scale, tiles, guided upsampling,
 * hints), keeping the source's L and alpha. Reads and writes PNG (and what
 * else gdk-pixbuf reads) through gdk-pixbuf. */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "trainer.h"

#ifndef DEFAULT_MODEL_PATH
#define DEFAULT_MODEL_PATH "/usr/local/share/colorize/colorize-cifar10.weights"
#endif
#define SOURCE_TREE_MODEL_PATH "data/colorize-cifar10.weights"

static void show_progress(double fraction, void *user) {
    if (*(const int *)user) g_printerr("\rcolorizing: %3d%%", (int)(fraction * 100));
}

/* One row of an 8-bit RGB(A) pixbuf as R'G'B'A floats. */
static void pixbuf_row(GdkPixbuf *pb, int y, float *rgba) {
    const int w = gdk_pixbuf_get_width(pb), nc = gdk_pixbuf_get_n_channels(pb);
    const guchar *row = gdk_pixbuf_read_pixels(pb) + (size_t)y * gdk_pixbuf_get_rowstride(pb);
    for (int x = 0; x < w; x++)
        for (int c = 0; c < 4; c++) rgba[4 * x + c] = c < 3 || nc == 4 ? row[(size_t)x * nc + c] / 255.0f : 1.0f;
}

void pixbuf_to_lightness(GdkPixbuf *pb, float *L, float *alpha) {
    const int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb);
    float *rgba = g_malloc(sizeof(float) * 4 * w);
    for (int y = 0; y < h; y++) {
        pixbuf_row(pb, y, rgba);
        nn_pixels_to_lightness(L + (size_t)y * w, rgba, (size_t)w, 4);
        if (alpha)
            for (int x = 0; x < w; x++) alpha[(size_t)y * w + x] = rgba[4 * x + 3];
    }
    g_free(rgba);
}

/* A hint image's planes: ab (2, H, W) and mask (H, W), through the library. */
static void pixbuf_to_hints(GdkPixbuf *pb, float *ab, float *mask) {
    const int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb);
    const size_t n = (size_t)w * h;
    float *rgba = g_malloc(sizeof(float) * 4 * w);
    for (int y = 0; y < h; y++) {
        const size_t o = (size_t)y * w;
        pixbuf_row(pb, y, rgba);
        nn_rgba_to_hints(ab + o, ab + n + o, mask + o, rgba, (size_t)w);
    }
    g_free(rgba);
}

gboolean image_size_acceptable(const char *path, double max_mpx, GError **error) {
    int w = 0, h = 0;
    if (!gdk_pixbuf_get_file_info(path, &w, &h)) return TRUE; /* unreadable: the decoder names the problem */
    double mpx = (double)w * h / 1e6;
    if (w > 0 && h > 0 && mpx <= max_mpx) return TRUE;
    g_set_error(error, TRAINER_ERROR, 1, "%s: %d×%d pixels (%.0f megapixels) is above the limit of %g megapixels "
                "(raise it with --max-megapixels)", path, w, h, mpx, max_mpx);
    return FALSE;
}

const char *default_model_path(void) {
    return g_file_test(DEFAULT_MODEL_PATH, G_FILE_TEST_EXISTS) ? DEFAULT_MODEL_PATH : SOURCE_TREE_MODEL_PATH;
}

void lab_planes_to_pixels(guchar *px, int stride, int nc, const float *L, const float *ab, const float *alpha,
                          int w, int h) {
    const size_t n = (size_t)w * h;
    float *rgb = g_malloc(sizeof(float) * 3 * w);
    for (int y = 0; y < h; y++) {
        const size_t o = (size_t)y * w;
        nn_lab_planes_to_srgb(rgb, L + o, ab + o, ab + n + o, (size_t)w, 3);
        guchar *row = px + (size_t)y * stride;
        for (int x = 0; x < w; x++) {
            for (int ch = 0; ch < 3; ch++) row[(size_t)x * nc + ch] = (guchar)lrintf(CLAMP(rgb[3 * x + ch], 0.0f, 1.0f) * 255.0f);
            if (nc == 4) row[(size_t)x * nc + 3] = alpha ? (guchar)lrintf(alpha[o + x] * 255.0f) : 255;
        }
    }
    g_free(rgb);
}

int command_colorize(int argc, char **argv) {
    char *model = NULL, *hints_path = NULL;
    double vividness = NN_DEFAULT_VIVIDNESS, saturation = 1.0;
    int resolution = NN_DEFAULT_RESOLUTION, threads = 0, scene_size = NN_DEFAULT_SCENE_SIZE;
    double scene_weight = NN_DEFAULT_SCENE_WEIGHT;
    double max_mpx = DEFAULT_MAX_MEGAPIXELS;
    GOptionEntry entries[] = {
        {"model", 0, 0, G_OPTION_ARG_FILENAME, &model, "Weights file (default: the installed model, " DEFAULT_MODEL_PATH ")", "FILE.weights"},
        {"vividness", 0, 0, G_OPTION_ARG_DOUBLE, &vividness, "0 (faithful) to 1 (vivid), default 0.5", "X"},
        {"saturation", 0, 0, G_OPTION_ARG_DOUBLE, &saturation, "Chroma multiplier, 0 to 2 (default 1)", "X"},
        {"resolution", 0, 0, G_OPTION_ARG_INT, &resolution, "Working resolution: long side in pixels, 32 to 2048 (default 256)", "N"},
        {"scene-size", 0, 0, G_OPTION_ARG_INT, &scene_size, "Long side of the scene pass, 16 to 256 (default 32)", "N"},
        {"scene-weight", 0, 0, G_OPTION_ARG_DOUBLE, &scene_weight, "Weight of the scene pass, 0 (off) to 8 (default 1)", "X"},
        {"hints", 0, 0, G_OPTION_ARG_FILENAME, &hints_path, "Hint image of the same size: its opaque pixels give their colour", "HINTS.png"},
        {"threads", 0, 0, G_OPTION_ARG_INT, &threads, "Threads (default: all cores)", "N"},
        {"max-megapixels", 0, 0, G_OPTION_ARG_DOUBLE, &max_mpx,
         "Refuse images larger than this, read from the file's header before decoding (default 300)", "N"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("IN.png OUT.png - colorize an image");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *error = NULL;
    int rc = 1;
    GdkPixbuf *src = NULL, *hints = NULL, *out = NULL;
    nn_colorizer *c = NULL;
    float *L = NULL, *ab = NULL, *alpha = NULL, *hint_ab = NULL, *hint_mask = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("colorize-train colorize: %s\n", error->message);
        rc = 2;
        goto out;
    }
    if (argc != 3) {
        g_printerr("colorize-train colorize: give exactly IN and OUT (see --help)\n");
        rc = 2;
        goto out;
    }
    if (!option_double_ok("colorize", "--vividness", vividness, 0, 1) ||
        !option_double_ok("colorize", "--saturation", saturation, 0, 2) ||
        !option_int_ok("colorize", "--resolution", resolution, NN_MIN_RESOLUTION, NN_MAX_RESOLUTION) ||
        !option_double_ok("colorize", "--max-megapixels", max_mpx, 1, 100000) ||
        !option_int_ok("colorize", "--scene-size", scene_size, NN_MIN_SCENE_SIZE, NN_MAX_SCENE_SIZE) ||
        !option_double_ok("colorize", "--scene-weight", scene_weight, 0, NN_MAX_SCENE_WEIGHT) ||
        !option_int_ok("colorize", "--threads", threads, 0, 1024)) {
        rc = 2;
        goto out;
    }
    const char *in_path = argv[1], *out_path = argv[2];
    const char *ext = strrchr(out_path, '.');
    if (!ext || g_ascii_strcasecmp(ext, ".png") != 0) {
        g_printerr("colorize-train colorize: %s: the output must be a .png file\n", out_path);
        rc = 2;
        goto out;
    }
    nn_set_threads(threads);
    if (!image_size_acceptable(in_path, max_mpx, &error) ||
        (hints_path && !image_size_acceptable(hints_path, max_mpx, &error))) {
        g_printerr("colorize-train colorize: %s\n", error->message);
        goto out;
    }
    src = gdk_pixbuf_new_from_file(in_path, &error);
    if (!src) {
        g_printerr("colorize-train colorize: %s: %s\n", in_path, error->message);
        goto out;
    }
    if (gdk_pixbuf_get_bits_per_sample(src) != 8 || gdk_pixbuf_get_n_channels(src) < 3) {
        g_printerr("colorize-train colorize: %s: unsupported pixel format\n", in_path);
        goto out;
    }
    int w = gdk_pixbuf_get_width(src), h = gdk_pixbuf_get_height(src);
    size_t n = (size_t)w * h;
    if (hints_path) {
        hints = gdk_pixbuf_new_from_file(hints_path, &error);
        if (!hints) {
            g_printerr("colorize-train colorize: %s: %s\n", hints_path, error->message);
            goto out;
        }
        if (gdk_pixbuf_get_width(hints) != w || gdk_pixbuf_get_height(hints) != h ||
            gdk_pixbuf_get_bits_per_sample(hints) != 8 || gdk_pixbuf_get_n_channels(hints) != 4) {
            g_printerr("colorize-train colorize: %s: the hint image must be an RGBA image of %d×%d pixels\n",
                       hints_path, w, h);
            goto out;
        }
    }
    /* the installed model, or the source tree's when run from a checkout */
    const char *model_path = model ? model : default_model_path();
    nn_error err = {0};
    if (nn_colorizer_load(&c, model_path, 128, NN_TILE_SIDE, &err) != NN_OK) {
        g_printerr("colorize-train colorize: %s\n", err.msg);
        goto out;
    }
    L = g_try_malloc(sizeof(float) * n);
    ab = g_try_malloc(sizeof(float) * 2 * n);
    alpha = g_try_malloc(sizeof(float) * n);
    if (!L || !ab || !alpha) {
        g_printerr("colorize-train colorize: %s: out of memory for %d×%d pixels\n", in_path, w, h);
        goto out;
    }
    pixbuf_to_lightness(src, L, alpha);
    if (hints) {
        hint_ab = g_malloc(sizeof(float) * 2 * n);
        hint_mask = g_malloc(sizeof(float) * n);
        pixbuf_to_hints(hints, hint_ab, hint_mask);
    }
    int tty = isatty(STDERR_FILENO);
    nn_engine_params params = nn_engine_default_params();
    params.vividness = (float)vividness, params.saturation = (float)saturation, params.resolution = resolution;
    params.scene_size = scene_size, params.scene_weight = (float)scene_weight;
    if (nn_engine_colorize(c, L, w, h, hint_ab, hint_mask, &params, ab, show_progress, &tty, NULL, &err) != NN_OK) {
        g_printerr("%scolorize-train colorize: %s: %s\n", tty ? "\n" : "", in_path, err.msg);
        goto out;
    }
    if (tty) g_printerr("\n");
    gboolean has_alpha = gdk_pixbuf_get_has_alpha(src);
    out = gdk_pixbuf_new(GDK_COLORSPACE_RGB, has_alpha, 8, w, h);
    if (!out) {
        g_printerr("colorize-train colorize: %s: out of memory for the %d×%d result\n", out_path, w, h);
        goto out;
    }
    lab_planes_to_pixels(gdk_pixbuf_get_pixels(out), gdk_pixbuf_get_rowstride(out), has_alpha ? 4 : 3, L, ab, alpha, w, h);
    /* encoded in memory, then written atomically: a failure never leaves half a file */
    gchar *png = NULL;
    gsize png_len = 0;
    if (!gdk_pixbuf_save_to_buffer(out, &png, &png_len, "png", &error, NULL)) {
        g_printerr("colorize-train colorize: %s: %s\n", out_path, error->message);
        goto out;
    }
    nn_status wst = nn_write_file_atomic(out_path, png, png_len, &err);
    g_free(png);
    if (wst != NN_OK) {
        g_printerr("colorize-train colorize: %s\n", err.msg);
        goto out;
    }
    rc = 0;
out:
    if (src) g_object_unref(src);
    if (hints) g_object_unref(hints);
    if (out) g_object_unref(out);
    nn_colorizer_free(c);
    g_free(L), g_free(ab), g_free(alpha), g_free(hint_ab), g_free(hint_mask);
    g_free(model), g_free(hints_path);
    g_clear_error(&error);
    g_option_context_free(ctx);
    return rc;
}
