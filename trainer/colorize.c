/* colorize.c — `colorize-train colorize`: colorizes an image file with the
 * same engine as the GIMP plug-in (working scale, tiles, guided upsampling,
 * hints), keeping the source's L and alpha. Reads and writes PNG (and what
 * else gdk-pixbuf reads) through gdk-pixbuf. */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
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
            for (int ch = 0; ch < 3; ch++) row[(size_t)x * nc + ch] = nn_unit_to_u8(rgb[3 * x + ch]);
            if (nc == 4) row[(size_t)x * nc + 3] = alpha ? nn_unit_to_u8(alpha[o + x]) : 255;
        }
    }
    g_free(rgb);
}

/* What every file of a run shares: the model, the settings, the hints. */
typedef struct {
    nn_colorizer *colorizer;
    nn_engine_params params;
    double max_mpx;
    GdkPixbuf *hint_image;      /* or NULL */
    const char *hint_path;
    nn_point_text *points;      /* (n_points) */
    int n_points;
    int progress;               /* show the engine's progress on the terminal */
    int not_regular;            /* inputs in folders that are not regular files: named, failed */
} colorize_setup;

/* The hint image at the photo's size (nearest neighbour, so strokes keep
 * their colours), as ab and mask planes. */
static gboolean hint_planes(const colorize_setup *cs, int w, int h, float **ab, float **mask, GError **error) {
    GdkPixbuf *pb = cs->hint_image;
    gboolean scaled = gdk_pixbuf_get_width(pb) != w || gdk_pixbuf_get_height(pb) != h;
    if (scaled) pb = gdk_pixbuf_scale_simple(cs->hint_image, w, h, GDK_INTERP_NEAREST);
    *ab = g_try_malloc(sizeof(float) * 2 * (size_t)w * h);
    *mask = g_try_malloc(sizeof(float) * (size_t)w * h);
    gboolean ok = pb && *ab && *mask;
    if (ok) pixbuf_to_hints(pb, *ab, *mask);
    else g_set_error(error, TRAINER_ERROR, 1, "%s: out of memory for the hints at %d×%d", cs->hint_path, w, h);
    if (scaled && pb) g_object_unref(pb);
    return ok;
}

/* Colorizes L (w×h) through the engine with the run's hints into ab. */
static gboolean run_engine(const colorize_setup *cs, const char *in_path, const float *L, int w, int h, float *ab,
                           GError **error) {
    const size_t n = (size_t)w * h;
    float *hint_ab = NULL, *hint_mask = NULL;
    nn_engine *e = NULL;
    nn_error err = {0};
    gboolean ok = !cs->hint_image || hint_planes(cs, w, h, &hint_ab, &hint_mask, error);
    if (ok && nn_points_check_inside(cs->points, cs->n_points, w, h, &err) != NN_OK) ok = FALSE;
    if (ok && nn_engine_begin(&e, w, h, &cs->params, &err) != NN_OK) ok = FALSE;
    for (int i = 0; ok && i < cs->n_points; i++) {
        const nn_point_text *p = &cs->points[i];
        if (nn_engine_add_point_rgb8(e, p->x, p->y, p->rgb, &err) != NN_OK) ok = FALSE;
    }
    int tty = cs->progress;
    if (ok && nn_engine_add_rows(e, 0, h, L, hint_ab, hint_ab ? hint_ab + n : NULL, hint_mask, &err) != NN_OK) ok = FALSE;
    if (ok && nn_engine_predict(e, cs->colorizer, show_progress, &tty, NULL, &err) != NN_OK) ok = FALSE;
    if (tty) g_printerr("\n");
    if (ok) nn_engine_ab_rows(e, 0, h, L, ab, ab + n);
    if (!ok && err.status) g_set_error(error, TRAINER_ERROR, 1, "%s: %s", in_path, err.msg);
    nn_engine_free(e);
    g_free(hint_ab), g_free(hint_mask);
    return ok;
}

/* Encodes the result in memory, then writes it atomically: a failure never
 * leaves half a file. */
static gboolean write_png(GdkPixbuf *out, const char *out_path, GError **error) {
    gchar *png = NULL;
    gsize png_len = 0;
    nn_error err = {0};
    if (!gdk_pixbuf_save_to_buffer(out, &png, &png_len, "png", error, NULL)) {
        g_prefix_error(error, "%s: ", out_path);
        return FALSE;
    }
    nn_status st = nn_write_file_atomic(out_path, png, png_len, &err);
    g_free(png);
    if (st != NN_OK) g_set_error(error, TRAINER_ERROR, 1, "%s", err.msg);
    return st == NN_OK;
}

/* Whether an image holds colour (mean chroma, over up to 64 rows spread
 * over it, above what a gray scan's noise gives): its colours would be lost. */
static gboolean is_colour_image(GdkPixbuf *pb) {
    const int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb), nc = gdk_pixbuf_get_n_channels(pb);
    const int rows = h < 64 ? h : 64;
    uint8_t *rgb = g_malloc((size_t)w * 3);
    double sum = 0;
    for (int r = 0; r < rows; r++) {
        const guchar *row = gdk_pixbuf_read_pixels(pb) + (size_t)((int64_t)r * h / rows) * gdk_pixbuf_get_rowstride(pb);
        for (int x = 0; x < w; x++) memcpy(rgb + (size_t)x * 3, row + (size_t)x * nc, 3);
        sum += image_mean_chroma(rgb, (size_t)w);
    }
    g_free(rgb);
    return sum / rows > PHOTO_MIN_MEAN_CHROMA;
}

/* One file: read, colorize keeping L and alpha, write out_path (PNG). */
static gboolean colorize_file(const colorize_setup *cs, const char *in_path, const char *out_path, GError **error) {
    if (!image_size_acceptable(in_path, cs->max_mpx, "--max-megapixels", error)) return FALSE;
    GdkPixbuf *src = gdk_pixbuf_new_from_file(in_path, error), *out = NULL;
    if (!src) {
        g_prefix_error(error, "%s: ", in_path);
        return FALSE;
    }
    gboolean ok = FALSE;
    float *L = NULL, *ab = NULL, *alpha = NULL;
    const int w = gdk_pixbuf_get_width(src), h = gdk_pixbuf_get_height(src);
    const size_t n = (size_t)w * h;
    if (gdk_pixbuf_get_bits_per_sample(src) != 8 || gdk_pixbuf_get_n_channels(src) < 3) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: unsupported pixel format", in_path);
        goto out;
    }
    L = g_try_malloc(sizeof(float) * n), ab = g_try_malloc(sizeof(float) * 2 * n), alpha = g_try_malloc(sizeof(float) * n);
    if (!L || !ab || !alpha) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: out of memory for %d×%d pixels", in_path, w, h);
        goto out;
    }
    if (is_colour_image(src))
        g_printerr("colorize-train colorize: note: %s is a colour image: its colours are replaced (only its lightness "
                   "is kept)\n", in_path);
    pixbuf_to_lightness(src, L, alpha);
    if (!run_engine(cs, in_path, L, w, h, ab, error)) goto out;
    gboolean has_alpha = gdk_pixbuf_get_has_alpha(src);
    out = gdk_pixbuf_new(GDK_COLORSPACE_RGB, has_alpha, 8, w, h);
    if (!out) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: out of memory for the %d×%d result", out_path, w, h);
        goto out;
    }
    lab_planes_to_pixels(gdk_pixbuf_get_pixels(out), gdk_pixbuf_get_rowstride(out), has_alpha ? 4 : 3, L, ab, alpha, w, h);
    ok = write_png(out, out_path, error);
out:
    g_object_unref(src);
    if (out) g_object_unref(out);
    g_free(L), g_free(ab), g_free(alpha);
    return ok;
}

/* --hints: an existing file is a hint image (RGBA); anything else must be
 * point hints "x,y,#rrggbb;…". */
static gboolean load_hints(colorize_setup *cs, const char *hints, GError **error) {
    if (!hints) return TRUE;
    if (g_file_test(hints, G_FILE_TEST_EXISTS)) {
        if (!image_size_acceptable(hints, cs->max_mpx, "--max-megapixels", error)) return FALSE;
        cs->hint_image = gdk_pixbuf_new_from_file(hints, error);
        if (!cs->hint_image) {
            g_prefix_error(error, "%s: ", hints);
            return FALSE;
        }
        if (gdk_pixbuf_get_bits_per_sample(cs->hint_image) != 8 || gdk_pixbuf_get_n_channels(cs->hint_image) != 4) {
            g_set_error(error, TRAINER_ERROR, 1, "%s: the hint image must be an RGBA image (its opaque pixels are the hints)", hints);
            return FALSE;
        }
        cs->hint_path = hints;
        return TRUE;
    }
    nn_error err = {0};
    if (!strchr(hints, ',')) { /* no point hint has no comma: a file name */
        g_set_error(error, TRAINER_ERROR, 1, "--hints %s: no such file (point hints are written \"x,y,#rrggbb;…\")",
                    hints);
        return FALSE;
    }
    cs->points = g_new(nn_point_text, NN_MAX_POINT_HINTS);
    if (nn_points_parse(hints, cs->points, NN_MAX_POINT_HINTS, &cs->n_points, &err) != NN_OK) {
        g_set_error(error, TRAINER_ERROR, 1, "--hints: %s", err.msg);
        return FALSE;
    }
    return TRUE;
}

/* The files named and the images in the folders named (not recursive),
 * each folder's sorted by name; NULL with an error naming a missing one.
 * Image names in the folders that are not regular files (or whose paths
 * are too long) are counted in *not_regular. */
static GPtrArray *collect_inputs(char **args, int n, int *not_regular, GError **error) {
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    for (int i = 0; i < n; i++) {
        if (!g_file_test(args[i], G_FILE_TEST_IS_DIR)) {
            g_ptr_array_add(files, g_strdup(args[i])); /* a missing file fails in its turn, named */
            continue;
        }
        char *folder[] = {args[i], NULL};
        photo_listing pl;
        if (!photo_listing_scan(&pl, folder, FALSE, error)) {
            g_ptr_array_free(files, TRUE);
            return NULL;
        }
        for (guint k = 0; k < pl.photos->len; k++) {
            found_photo *p = &g_array_index(pl.photos, found_photo, k);
            g_ptr_array_add(files, p->path), p->path = NULL; /* the path now belongs to files */
        }
        *not_regular += pl.not_regular + pl.too_long;
        photo_listing_clear(&pl);
    }
    return files;
}

/* The files a run reads (inputs, references, palettes, the hint image,
 * the model), by identity (the same file by any name or link) to what they
 * are ("the reference sunset.png"): no output may be one of them, even
 * with --overwrite. */
static void note_read(GHashTable *reads, const char *path, const char *role) {
    char *id = file_identity(path);
    if (id && !g_hash_table_contains(reads, id)) g_hash_table_insert(reads, id, g_strdup_printf("%s %s", role, path));
    else g_free(id);
}

/* What writing out would replace among the files read, or NULL. */
static const char *read_file_at(GHashTable *reads, const char *out) {
    char *id = file_identity(out);
    const char *what = id ? g_hash_table_lookup(reads, id) : NULL;
    g_free(id);
    return what;
}

/* The batch: each input to OUT_DIR/<name>.png, existing outputs skipped
 * unless overwrite, a failing file reported and the others carried on;
 * reads: note_read's table of the run's other files. */
static int colorize_batch(colorize_setup *cs, GPtrArray *inputs, GHashTable *reads, const char *out_dir,
                          gboolean overwrite) {
    const gboolean tty = isatty(STDERR_FILENO);
    GHashTable *outputs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GPtrArray *failures = g_ptr_array_new_with_free_func(g_free);
    int done = 0, skipped = 0;
    for (guint i = 0; i < inputs->len; i++) note_read(reads, inputs->pdata[i], "the input");
    const gint64 start = g_get_monotonic_time();
    cs->progress = 0;
    for (guint i = 0; i < inputs->len; i++) {
        const char *in = inputs->pdata[i];
        char *base = g_path_get_basename(in), *dot = strrchr(base, '.');
        if (dot && dot != base) *dot = '\0';
        char *file = g_strconcat(base, ".png", NULL), *out = g_build_filename(out_dir, file, NULL);
        GError *error = NULL;
        const char *replaced = NULL;
        if (g_hash_table_contains(outputs, out)) {
            g_set_error(&error, TRAINER_ERROR, 1, "%s: another input of this run already writes %s", in, out);
        } else if ((replaced = read_file_at(reads, out))) {
            g_set_error(&error, TRAINER_ERROR, 1, "%s: its output %s is %s: refused, even with --overwrite",
                        in, out, replaced);
        } else if (!overwrite && g_file_test(out, G_FILE_TEST_EXISTS)) {
            skipped++;
        } else if (colorize_file(cs, in, out, &error)) {
            done++;
        }
        g_hash_table_add(outputs, g_strdup(out));
        if (error) g_ptr_array_add(failures, g_strdup(error->message)), g_clear_error(&error);
        /* the rate of the images colorized (skipped and failed ones take no time to speak of) */
        double elapsed = (g_get_monotonic_time() - start) / 1e6, rate = done / (elapsed > 1e-6 ? elapsed : 1e-6);
        char eta[32];
        format_hms(eta, sizeof eta, done ? (inputs->len - i - 1) / rate : 0);
        if (done)
            g_printerr(tty ? "\r[%u/%u] %.2f images/s  ETA %s  %-40.40s" : "[%u/%u] %.2f images/s  ETA %s  %s\n", i + 1,
                       inputs->len, rate, eta, in);
        else
            g_printerr(tty ? "\r[%u/%u] %-40.40s" : "[%u/%u] %s\n", i + 1, inputs->len, in);
        g_free(base), g_free(file), g_free(out);
    }
    if (tty) g_printerr("\n");
    g_print("colorized %d, skipped %d%s, failed %u\n", done, skipped,
            skipped ? " (outputs exist; --overwrite replaces them)" : "", failures->len + cs->not_regular);
    for (guint i = 0; i < failures->len; i++) g_printerr("colorize-train colorize: failed: %s\n", (char *)failures->pdata[i]);
    int rc = failures->len || cs->not_regular ? 1 : 0;
    g_hash_table_destroy(outputs);
    g_ptr_array_free(failures, TRUE);
    return rc;
}

/* colorize's options as given. */
typedef struct {
    char *model, *hints, *out_dir, *precision;
    char **reference, **palette;     /* as given: each a comma-separated list */
    char **ref_files, **pal_files;   /* the files of those lists */
    char *reference_weight_text; /* as given, or NULL */
    double reference_weight;
    double vividness, saturation, scene_weight, hint_reach;
    gboolean overwrite;
    int resolution, threads, scene_size;
} colorize_options;

static void colorize_options_free(colorize_options *o) {
    g_free(o->model), g_free(o->hints), g_free(o->out_dir), g_free(o->precision), g_free(o->reference_weight_text);
    g_strfreev(o->reference), g_strfreev(o->palette), g_strfreev(o->ref_files), g_strfreev(o->pal_files);
}

/* text as a whole number in C notation (no locale), into *x. */
static gboolean parse_double(const char *text, double *x) {
    char *end = NULL;
    *x = g_ascii_strtod(text, &end);
    return end != text && *end == '\0';
}

/* Every number within its range, and the output (a .png, or a usable
 * folder) writable, before any work; each problem named. */
static gboolean colorize_options_ok(colorize_options *o, const colorize_setup *cs, char **argv) {
    const char *cmd = "colorize";
    GError *error = NULL;
    if (!(o->ref_files = reference_list(o->reference, "--reference", &error)) ||
        !(o->pal_files = reference_list(o->palette, "--palette", &error))) {
        g_printerr("colorize-train colorize: %s\n", error->message);
        g_error_free(error);
        return FALSE;
    }
    if (o->reference_weight_text && !*o->ref_files && !*o->pal_files) {
        g_printerr("colorize-train colorize: --reference-weight: there is no --reference or --palette to weigh\n");
        return FALSE;
    }
    if (o->reference_weight_text && !parse_double(o->reference_weight_text, &o->reference_weight)) {
        g_printerr("colorize-train colorize: --reference-weight %s: not a number\n", o->reference_weight_text);
        return FALSE;
    }
    if (!option_double_ok(cmd, "--vividness", o->vividness, 0, NN_MAX_VIVIDNESS) ||
        !option_double_ok(cmd, "--saturation", o->saturation, 0, NN_MAX_SATURATION) ||
        !option_int_ok(cmd, "--resolution", o->resolution, NN_MIN_RESOLUTION, NN_MAX_RESOLUTION) ||
        !option_double_ok(cmd, "--max-megapixels", cs->max_mpx, 1, 100000) ||
        !option_int_ok(cmd, "--scene-size", o->scene_size, NN_MIN_SCENE_SIZE, NN_MAX_SCENE_SIZE) ||
        !option_double_ok(cmd, "--scene-weight", o->scene_weight, 0, NN_MAX_SCENE_WEIGHT) ||
        !option_double_ok(cmd, "--hint-reach", o->hint_reach, 0, NN_MAX_HINT_REACH) ||
        !option_double_ok(cmd, "--reference-weight", o->reference_weight, 1e-3, NN_MAX_REFERENCE_WEIGHT) ||
        !option_int_ok(cmd, "--threads", o->threads, 0, 1024) || !option_precision_ok(cmd, o->precision))
        return FALSE;
    const char *ext = o->out_dir ? ".png" : strrchr(argv[2], '.');
    if (!ext || g_ascii_strcasecmp(ext, ".png") != 0) {
        g_printerr("colorize-train colorize: %s: the output must be a .png file\n", argv[2]);
        return FALSE;
    }
    if (o->out_dir && !*o->out_dir) {
        g_printerr("colorize-train colorize: --out-dir: the folder name is empty\n");
        return FALSE;
    }
    if ((o->out_dir && !output_dir_ok(o->out_dir, "output folder", &error)) ||
        (!o->out_dir && !output_file_ok(argv[2], "the output", &error))) { /* found before the work */
        g_printerr("colorize-train colorize: %s\n", error->message);
        g_error_free(error);
        return FALSE;
    }
    return TRUE;
}

/* The engine's parameters from the options (no reference yet). */
static nn_engine_params colorize_params(const colorize_options *o) {
    nn_engine_params p = nn_engine_default_params();
    p.vividness = (float)o->vividness, p.saturation = (float)o->saturation;
    p.resolution = o->resolution, p.scene_size = o->scene_size;
    p.scene_weight = (float)o->scene_weight, p.hint_reach = (float)o->hint_reach;
    return p;
}

/* The highest folder on the way to dir (dir included) that does not exist
 * yet, or NULL when dir exists (g_free). */
static char *highest_missing_folder(const char *dir) {
    char *missing = NULL, *at = g_strdup(dir);
    while (*at && !g_file_test(at, G_FILE_TEST_EXISTS)) {
        g_free(missing), missing = at;
        at = g_path_get_dirname(missing);
        if (strcmp(at, missing) == 0) break; /* "." or "/" */
    }
    if (at != missing) g_free(at);
    return missing;
}

/* Removes dir and its parents up to `top` while they are empty. */
static void remove_empty_folders(const char *dir, const char *top) {
    char *at = g_strdup(dir);
    while (g_rmdir(at) == 0 && strcmp(at, top) != 0) {
        char *up = g_path_get_dirname(at);
        g_free(at), at = up;
    }
    g_free(at);
}

/* Whether OUT may be written: never over a file the run reads (the same
 * file by another name too; reads: note_read's table), and over another
 * file only with --overwrite. */
static gboolean colorize_output_free(GHashTable *reads, const char *out, gboolean overwrite) {
    if (!g_file_test(out, G_FILE_TEST_EXISTS)) return TRUE;
    const char *replaced = read_file_at(reads, out);
    if (!replaced && overwrite) return TRUE;
    if (replaced)
        g_printerr("colorize-train colorize: the output %s is %s (the same file): refused, even with --overwrite\n",
                   out, replaced);
    else
        g_printerr("colorize-train colorize: %s exists; --overwrite replaces it\n", out);
    return FALSE;
}

/* The run's files other than its inputs, into note_read's table. */
static GHashTable *files_read(const colorize_options *o, const colorize_setup *cs) {
    GHashTable *reads = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (char **f = o->ref_files; *f; f++) note_read(reads, *f, "the reference");
    for (char **f = o->pal_files; *f; f++) note_read(reads, *f, "the palette");
    if (cs->hint_path) note_read(reads, cs->hint_path, "the hint image");
    note_read(reads, o->model ? o->model : default_model_path(), "the model");
    return reads;
}

/* The model, and the reference or palette if given, into cs. */
static gboolean colorize_load_model(const colorize_options *o, colorize_setup *cs, nn_reference **ref) {
    nn_error err = {0};
    if (!o->model && !g_file_test(default_model_path(), G_FILE_TEST_EXISTS)) {
        g_printerr("colorize-train colorize: no model: neither the installed %s nor %s in the current folder; give "
                   "--model FILE.weights\n", DEFAULT_MODEL_PATH, SOURCE_TREE_MODEL_PATH);
        return FALSE;
    }
    if (nn_colorizer_load(&cs->colorizer, o->model ? o->model : default_model_path(), NN_TILE_BATCH, NN_TILE_SIDE, &err) != NN_OK) {
        g_printerr("colorize-train colorize: %s\n", err.msg);
        return FALSE;
    }
    if (!*o->ref_files && !*o->pal_files) return TRUE;
    GError *error = NULL;
    *ref = reference_load(cs->colorizer, (const char *const *)o->ref_files, (const char *const *)o->pal_files,
                          cs->max_mpx, &error);
    if (!*ref) {
        g_printerr("colorize-train colorize: %s\n", error->message);
        g_error_free(error);
        return FALSE;
    }
    cs->params.reference = *ref, cs->params.reference_weight = (float)o->reference_weight;
    return TRUE;
}

int command_colorize(int argc, char **argv) {
    colorize_options o = {.reference_weight = NN_DEFAULT_REFERENCE_WEIGHT, .vividness = NN_DEFAULT_VIVIDNESS,
                          .saturation = NN_DEFAULT_SATURATION, .resolution = NN_DEFAULT_RESOLUTION,
                          .scene_size = NN_DEFAULT_SCENE_SIZE, .scene_weight = NN_DEFAULT_SCENE_WEIGHT,
                          .hint_reach = NN_DEFAULT_HINT_REACH};
    nn_reference *ref = NULL;
    colorize_setup cs = {.max_mpx = DEFAULT_MAX_MEGAPIXELS};
    GOptionEntry entries[] = {
        {"model", 0, 0, G_OPTION_ARG_FILENAME, &o.model, "Weights file (default: the installed model, " DEFAULT_MODEL_PATH ")", "FILE.weights"},
        {"vividness", 0, 0, G_OPTION_ARG_DOUBLE, &o.vividness, "0 (faithful) to " G_STRINGIFY(NN_MAX_VIVIDNESS) " (vivid), default 0", "X"},
        {"saturation", 0, 0, G_OPTION_ARG_DOUBLE, &o.saturation, "Chroma multiplier, 0 to " G_STRINGIFY(NN_MAX_SATURATION) " (default " G_STRINGIFY(NN_DEFAULT_SATURATION) ")", "X"},
        {"resolution", 0, 0, G_OPTION_ARG_INT, &o.resolution, "Working resolution: long side in pixels, " G_STRINGIFY(NN_MIN_RESOLUTION) " to " G_STRINGIFY(NN_MAX_RESOLUTION) " (default " G_STRINGIFY(NN_DEFAULT_RESOLUTION) ")", "N"},
        {"scene-size", 0, 0, G_OPTION_ARG_INT, &o.scene_size, "Long side of the scene pass, " G_STRINGIFY(NN_MIN_SCENE_SIZE) " to " G_STRINGIFY(NN_MAX_SCENE_SIZE) " (default " G_STRINGIFY(NN_DEFAULT_SCENE_SIZE) ")", "N"},
        {"scene-weight", 0, 0, G_OPTION_ARG_DOUBLE, &o.scene_weight, "Weight of the scene pass, 0 (off) to " G_STRINGIFY(NN_MAX_SCENE_WEIGHT) " (default " G_STRINGIFY(NN_DEFAULT_SCENE_WEIGHT) ")", "X"},
        {"hint-reach", 0, 0, G_OPTION_ARG_DOUBLE, &o.hint_reach,
         "How far a hint's colour travels along the image: the lightness change (L* units) of the edges it may "
         "cross, 0 (only where painted) to " G_STRINGIFY(NN_MAX_HINT_REACH) " (default " G_STRINGIFY(NN_DEFAULT_HINT_REACH) ")",
         "X"},
        {"hints", 0, 0, G_OPTION_ARG_FILENAME, &o.hints,
         "A hint image (RGBA; its opaque pixels give their colour; scaled to each input's size) or point hints "
         "\"x,y,#rrggbb;…\" in image pixels, applied to every input", "HINTS"},
        {"reference", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.reference,
         "Colour photos of a like scene whose colours, band of lightness by band, the result should take (the "
         "option may be given again)", "FILE[,FILE…]"},
        {"palette", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.palette,
         "A GIMP palette whose colours the result should take (the option may be given again)", "FILE.gpl"},
        {"reference-weight", 0, 0, G_OPTION_ARG_STRING, &o.reference_weight_text,
         "How strongly the reference or palette counts, 0.001 to " G_STRINGIFY(NN_MAX_REFERENCE_WEIGHT) ": higher follows it more closely, below 1 it fades out (default " G_STRINGIFY(NN_DEFAULT_REFERENCE_WEIGHT) ")", "X"},
        {"out-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.out_dir, "Colorize every input (files, folders of images) into DIR as NAME.png", "DIR"},
        {"overwrite", 0, 0, G_OPTION_ARG_NONE, &o.overwrite, "Replace outputs that exist (default: refuse one output, skip them with --out-dir); never an input", NULL},
        {"threads", 0, 0, G_OPTION_ARG_INT, &o.threads, "Threads (default: all cores)", "N"},
        {"precision", 0, 0, G_OPTION_ARG_STRING, &o.precision, PRECISION_HELP, "NAME"},
        {"max-megapixels", 0, 0, G_OPTION_ARG_DOUBLE, &cs.max_mpx,
         "Refuse images larger than this, read from the file's header before decoding (default 300)", "N"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("IN.png OUT.png | --out-dir DIR IN... - colorize images");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *error = NULL;
    GPtrArray *inputs = NULL;
    GHashTable *reads = NULL;
    char *made_from = NULL; /* the highest folder of --out-dir this run makes, or NULL */
    int rc = 2;
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("colorize-train colorize: %s\n", error->message);
        goto out;
    }
    if (o.out_dir ? argc < 2 : argc != 3) {
        g_printerr("colorize-train colorize: give IN and OUT, or --out-dir DIR and one or more inputs (see --help)\n");
        goto out;
    }
    made_from = o.out_dir ? highest_missing_folder(o.out_dir) : NULL;
    if (!colorize_options_ok(&o, &cs, argv)) goto out;
    rc = 1;
    nn_set_threads(o.threads);
    cs.params = colorize_params(&o);
    if ((!o.out_dir && !is_regular_file(argv[1], &error)) || /* a FIFO or device as the input: before the model is read */
        !load_hints(&cs, o.hints, &error) ||
        !(o.out_dir ? (inputs = collect_inputs(argv + 1, argc - 1, &cs.not_regular, &error)) != NULL : TRUE)) {
        g_printerr("colorize-train colorize: %s\n", error->message);
        goto out;
    }
    if (o.out_dir && inputs->len == 0) {
        g_printerr("colorize-train colorize: no image among the inputs\n");
        goto out;
    }
    reads = files_read(&o, &cs);
    if (!o.out_dir) note_read(reads, argv[1], "the input");
    if ((!o.out_dir && !colorize_output_free(reads, argv[2], o.overwrite)) || !colorize_load_model(&o, &cs, &ref))
        goto out;
    if (o.out_dir) {
        rc = colorize_batch(&cs, inputs, reads, o.out_dir, o.overwrite);
    } else {
        cs.progress = isatty(STDERR_FILENO);
        if (colorize_file(&cs, argv[1], argv[2], &error)) rc = 0;
        else g_printerr("colorize-train colorize: %s\n", error->message);
    }
out:
    if (made_from && rc != 0) remove_empty_folders(o.out_dir, made_from); /* a failed run leaves none it made */
    g_free(made_from);
    if (reads) g_hash_table_destroy(reads);
    if (inputs) g_ptr_array_free(inputs, TRUE);
    if (cs.hint_image) g_object_unref(cs.hint_image);
    g_free(cs.points);
    nn_reference_free(ref);
    nn_colorizer_free(cs.colorizer);
    colorize_options_free(&o);
    g_clear_error(&error);
    g_option_context_free(ctx);
    return rc;
}
