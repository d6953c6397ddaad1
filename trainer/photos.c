/* photos.c — `colorize-train eval --photos DIR`: the real-photo benchmark.
 * Every colour photo of a folder is made gray as the samples are (CIE L*
 * with a* = b* = 0), colorized through the same engine as the plug-in at
 * the given settings, and compared with the original: PSNR and SSIM, the
 * gain over the gray input, the wrong-hue rate, colourfulness against the
 * original's, and the mean |ΔL| against the gray input. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "trainer.h"

/* The height of each image in the report's strips. */
#define STRIP_HEIGHT 192

typedef struct {
    char *name;
    int width, height;
    double psnr, psnr_gray, ssim, ssim_gray;
    double wrong_hue; /* NAN without colourful pixels */
    double colorfulness, colorfulness_truth, mean_dL;
} photo_result;

/* The figures over a set of photos (means of the per-photo figures). */
typedef struct {
    int photos;
    double psnr, psnr_gray, gain, ssim, ssim_gray, wrong_hue, beats_gray;
    double colorfulness, colorfulness_truth, colorfulness_ratio, mean_dL;
} photo_summary;

GPtrArray *list_folder_photos(const char *dir, int *left_out, GError **error) {
    char *folder[] = {(char *)dir, NULL};
    photo_listing pl;
    if (!photo_listing_scan(&pl, folder, FALSE, error)) return NULL;
    if (left_out) *left_out = pl.not_regular + pl.too_long;
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < pl.photos->len; i++)
        g_ptr_array_add(files, g_path_get_basename(g_array_index(pl.photos, found_photo, i).path));
    photo_listing_clear(&pl);
    return files;
}

GdkPixbuf *load_photo(const char *path, int max_side, GError **error) {
    if (!image_size_acceptable(path, DEFAULT_MAX_MEGAPIXELS, NULL, error)) return NULL;
    GdkPixbuf *pb = gdk_pixbuf_new_from_file(path, error);
    if (!pb) return NULL;
    if (gdk_pixbuf_get_bits_per_sample(pb) != 8 || gdk_pixbuf_get_n_channels(pb) < 3) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: unsupported pixel format", path);
        g_object_unref(pb);
        return NULL;
    }
    int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb), side = w > h ? w : h;
    if (side > max_side) {
        GdkPixbuf *small = gdk_pixbuf_scale_simple(pb, MAX(1, w * max_side / side), MAX(1, h * max_side / side),
                                                   GDK_INTERP_HYPER);
        g_object_unref(pb);
        pb = small;
    }
    GdkPixbuf *rgb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, gdk_pixbuf_get_width(pb), gdk_pixbuf_get_height(pb));
    /* transparent photos are measured as if on black, which is what the copy does with alpha dropped */
    gdk_pixbuf_fill(rgb, 0);
    gdk_pixbuf_composite(pb, rgb, 0, 0, gdk_pixbuf_get_width(pb), gdk_pixbuf_get_height(pb), 0, 0, 1, 1,
                         GDK_INTERP_NEAREST, 255);
    g_object_unref(pb);
    return rgb;
}

uint8_t *packed_rgb(GdkPixbuf *pb) {
    int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb), stride = gdk_pixbuf_get_rowstride(pb);
    uint8_t *rgb = g_malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++) memcpy(rgb + (size_t)y * w * 3, gdk_pixbuf_read_pixels(pb) + (size_t)y * stride, (size_t)w * 3);
    return rgb;
}

/* A strip gray | output | original, each STRIP_HEIGHT high, as PNG. */
static gboolean write_strip(const char *path, GdkPixbuf *const parts[3], GError **error) {
    int w = gdk_pixbuf_get_width(parts[0]), h = gdk_pixbuf_get_height(parts[0]);
    int sw = MAX(1, w * STRIP_HEIGHT / h), gap = 4;
    GdkPixbuf *strip = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, 3 * sw + 2 * gap, STRIP_HEIGHT);
    gdk_pixbuf_fill(strip, 0xffffffff);
    for (int i = 0; i < 3; i++)
        gdk_pixbuf_scale(parts[i], strip, i * (sw + gap), 0, sw, STRIP_HEIGHT, i * (sw + gap), 0, (double)sw / w,
                         (double)STRIP_HEIGHT / h, GDK_INTERP_BILINEAR);
    gboolean ok = gdk_pixbuf_save(strip, path, "png", error, NULL);
    g_object_unref(strip);
    return ok;
}

typedef struct {
    nn_colorizer *colorizer;
    nn_engine_params params;
    int max_side;
    const char *report; /* NULL: no strips */
    const char *reference; /* NULL, "self", "split" or a folder of references named as the photos */
    float reference_weight;
} photo_eval;

/* The colour reference of one photo: the photo itself ("self"); its right
 * REFERENCE_SPLIT share ("split"; *truth becomes the rest, the part that
 * is colorized and measured); or the photo of the same name in a folder;
 * each shrunk as `colorize --reference` shrinks a file. */
#define REFERENCE_SPLIT 0.4
static nn_reference *photo_reference(const photo_eval *pe, const char *name, GdkPixbuf **truth, GError **error) {
    if (strcmp(pe->reference, "self") == 0 || strcmp(pe->reference, "split") == 0) {
        const int w = gdk_pixbuf_get_width(*truth), h = gdk_pixbuf_get_height(*truth);
        const int left = strcmp(pe->reference, "split") == 0 ? MAX(1, (int)lrint(w * (1.0 - REFERENCE_SPLIT))) : 0;
        if (left >= w) {
            g_set_error(error, TRAINER_ERROR, 1, "%s: too narrow (%d pixels) to split", name, w);
            return NULL;
        }
        GdkPixbuf *right = gdk_pixbuf_new_subpixbuf(*truth, left, 0, w - left, h);
        nn_reference *r = reference_from_pixbuf(pe->colorizer, right, name, error);
        g_object_unref(right);
        if (left > 0) {
            GdkPixbuf *part = gdk_pixbuf_new_subpixbuf(*truth, 0, 0, left, h), *copy = gdk_pixbuf_copy(part);
            g_object_unref(part), g_object_unref(*truth);
            *truth = copy;
        }
        return r;
    }
    char *path = g_build_filename(pe->reference, name, NULL);
    GdkPixbuf *pb = load_photo(path, pe->max_side, error);
    nn_reference *r = NULL;
    if (pb) {
        r = reference_from_pixbuf(pe->colorizer, pb, path, error);
        g_object_unref(pb);
    }
    g_free(path);
    return r;
}

/* Colorizes one photo's gray version and measures it. FALSE with an error
 * for a photo that cannot be read; *skipped for one with no colour. */
static gboolean measure_photo(const photo_eval *pe, const char *dir, const char *name, photo_result *r,
                              gboolean *skipped, GError **error) {
    char *path = g_build_filename(dir, name, NULL);
    GdkPixbuf *truth = load_photo(path, pe->max_side, error);
    g_free(path);
    if (!truth) return FALSE;
    nn_engine_params params = pe->params;
    nn_reference *ref = pe->reference ? photo_reference(pe, name, &truth, error) : NULL;
    if (pe->reference && !ref) {
        g_object_unref(truth);
        return FALSE;
    }
    params.reference = ref, params.reference_weight = pe->reference_weight;
    const int w = gdk_pixbuf_get_width(truth), h = gdk_pixbuf_get_height(truth);
    const size_t n = (size_t)w * h;
    float *L = g_malloc(sizeof(float) * n), *ab = g_malloc(sizeof(float) * 2 * n), *zero = g_malloc0(sizeof(float) * 2 * n);
    pixbuf_to_lightness(truth, L, NULL);
    uint8_t *gray = g_malloc(n * 3), *out = g_malloc(n * 3), *rgb = packed_rgb(truth);
    lab_planes_to_pixels(gray, w * 3, 3, L, zero, NULL, w, h);
    nn_error err = {0};
    gboolean ok = nn_engine_colorize(pe->colorizer, L, w, h, NULL, NULL, &params, ab, NULL, NULL, NULL, &err) == NN_OK;
    nn_reference_free(ref);
    if (!ok) g_set_error(error, TRAINER_ERROR, 1, "%s: %s", name, err.msg);
    if (ok) {
        lab_planes_to_pixels(out, w * 3, 3, L, ab, NULL, w, h);
        *r = (photo_result){.name = g_strdup(name), .width = w, .height = h};
        r->psnr = image_psnr(out, rgb, w, h), r->psnr_gray = image_psnr(gray, rgb, w, h);
        r->ssim = image_ssim(out, rgb, w, h), r->ssim_gray = image_ssim(gray, rgb, w, h);
        r->colorfulness = image_colorfulness(out, w, h), r->colorfulness_truth = image_colorfulness(rgb, w, h);
        r->wrong_hue = image_wrong_hue(out, rgb, n);
        r->mean_dL = image_mean_abs_dL(out, gray, n);
        *skipped = image_mean_chroma(rgb, n) < PHOTO_MIN_MEAN_CHROMA;
    }
    if (ok && !*skipped && pe->report) {
        GdkPixbuf *parts[3] = {
            gdk_pixbuf_new_from_data(gray, GDK_COLORSPACE_RGB, FALSE, 8, w, h, w * 3, NULL, NULL),
            gdk_pixbuf_new_from_data(out, GDK_COLORSPACE_RGB, FALSE, 8, w, h, w * 3, NULL, NULL), truth};
        char *base = g_strdup(name);
        char *dot = strrchr(base, '.');
        if (dot) *dot = '\0';
        char *file = g_strdup_printf("%s.png", base), *strip = g_build_filename(pe->report, file, NULL);
        ok = write_strip(strip, parts, error);
        g_object_unref(parts[0]), g_object_unref(parts[1]);
        g_free(base), g_free(file), g_free(strip);
    }
    g_free(L), g_free(ab), g_free(zero), g_free(gray), g_free(out), g_free(rgb);
    g_object_unref(truth);
    return ok;
}

static photo_summary summarize(const photo_result *r, int n) {
    photo_summary s = {.photos = n};
    int hue_photos = 0;
    for (int i = 0; i < n; i++) {
        s.psnr += r[i].psnr, s.psnr_gray += r[i].psnr_gray, s.ssim += r[i].ssim, s.ssim_gray += r[i].ssim_gray;
        s.beats_gray += r[i].psnr > r[i].psnr_gray;
        s.colorfulness += r[i].colorfulness, s.colorfulness_truth += r[i].colorfulness_truth;
        s.mean_dL += r[i].mean_dL;
        if (!isnan(r[i].wrong_hue)) s.wrong_hue += r[i].wrong_hue, hue_photos++;
    }
    s.psnr /= n, s.psnr_gray /= n, s.ssim /= n, s.ssim_gray /= n, s.beats_gray /= n;
    s.colorfulness /= n, s.colorfulness_truth /= n, s.mean_dL /= n;
    s.gain = s.psnr - s.psnr_gray;
    s.colorfulness_ratio = s.colorfulness_truth > 0 ? s.colorfulness / s.colorfulness_truth : NAN;
    s.wrong_hue = hue_photos ? s.wrong_hue / hue_photos : NAN;
    return s;
}

static void json_photo(GString *s, const photo_result *r) {
    char *name = g_strescape(r->name, NULL);
    g_string_append_printf(s, "{\"photo\": \"%s\", \"width\": %d, \"height\": %d, \"psnr\": %.4f, \"psnr_gray\": %.4f, "
                           "\"gain\": %.4f, \"ssim\": %.5f, \"ssim_gray\": %.5f, \"wrong_hue\": %.5f, "
                           "\"colorfulness\": %.3f, \"colorfulness_truth\": %.3f, \"mean_dL\": %.4f}",
                           name, r->width, r->height, r->psnr, r->psnr_gray, r->psnr - r->psnr_gray, r->ssim,
                           r->ssim_gray, isnan(r->wrong_hue) ? -1.0 : r->wrong_hue, r->colorfulness,
                           r->colorfulness_truth, r->mean_dL);
    g_free(name);
}

static GString *photos_json(const char *model, const photo_eval *pe, const photo_result *r, int n, photo_summary s,
                            int unreadable, int colourless) {
    GString *j = g_string_new("{");
    char *m = g_strescape(model, NULL), *ref = g_strescape(pe->reference ? pe->reference : "", NULL);
    g_string_append_printf(j, "\"reference\": \"%s\", \"reference_weight\": %.3f, ", ref,
                           pe->reference ? pe->reference_weight : 0.0);
    g_free(ref);
    g_string_append_printf(j, "\"model\": \"%s\", \"vividness\": %.3f, \"saturation\": %.3f, \"resolution\": %d, "
                           "\"scene_size\": %d, \"scene_weight\": %.3f, "
                           "\"max_side\": %d, \"photos\": %d, \"unreadable\": %d, \"colourless\": %d,\n"
                           "\"psnr\": %.4f, \"psnr_gray\": %.4f, \"gain\": %.4f, \"ssim\": %.5f, \"ssim_gray\": %.5f, "
                           "\"beats_gray\": %.4f, \"wrong_hue\": %.5f, \"colorfulness\": %.3f, "
                           "\"colorfulness_truth\": %.3f, \"colorfulness_ratio\": %.4f, \"mean_dL\": %.4f,\n\"per_photo\": [",
                           m, pe->params.vividness, pe->params.saturation, pe->params.resolution,
                           pe->params.scene_size, pe->params.scene_weight, pe->max_side, n,
                           unreadable, colourless, s.psnr, s.psnr_gray, s.gain, s.ssim, s.ssim_gray, s.beats_gray,
                           s.wrong_hue, s.colorfulness, s.colorfulness_truth, s.colorfulness_ratio, s.mean_dL);
    for (int i = 0; i < n; i++) {
        g_string_append(j, i ? ",\n" : "\n");
        json_photo(j, &r[i]);
    }
    g_string_append(j, "\n]}\n");
    g_free(m);
    return j;
}

static GString *photos_table(const photo_result *r, int n, photo_summary s) {
    GString *t = g_string_new("| photo | PSNR (dB) | gray PSNR | gain | SSIM | gray SSIM | wrong hue | colourfulness (output / original) | mean abs dL |\n"
                              "|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < n; i++) {
        char hue[32] = "—";
        if (!isnan(r[i].wrong_hue)) g_snprintf(hue, sizeof hue, "%.1f%%", 100 * r[i].wrong_hue);
        g_string_append_printf(t, "| %s | %.2f | %.2f | %+.2f | %.4f | %.4f | %s | %.1f / %.1f | %.2f |\n", r[i].name,
                               r[i].psnr, r[i].psnr_gray, r[i].psnr - r[i].psnr_gray, r[i].ssim, r[i].ssim_gray, hue,
                               r[i].colorfulness, r[i].colorfulness_truth, r[i].mean_dL);
    }
    g_string_append_printf(t, "| **mean** | %.2f | %.2f | **%+.2f** | %.4f | %.4f | %.1f%% | %.1f / %.1f (%.2f×) | %.2f |\n",
                           s.psnr, s.psnr_gray, s.gain, s.ssim, s.ssim_gray, 100 * s.wrong_hue, s.colorfulness,
                           s.colorfulness_truth, s.colorfulness_ratio, s.mean_dL);
    g_string_append_printf(t, "\nThe output beats gray on %.0f%% of the %d photos.\n", 100 * s.beats_gray, n);
    return t;
}

/* Writes the JSON and the report; FALSE with an error naming the file. */
static gboolean write_photo_outputs(const char *json, const char *report, GString *j, GString *table, const char *model,
                                    const char *dir, const photo_result *r, int n, GError **error) {
    if (json && !g_file_set_contents(json, j->str, (gssize)j->len, error)) return FALSE;
    if (!report) return TRUE;
    g_string_append(table, "\n## Gray | output | original\n\n");
    for (int i = 0; i < n; i++) {
        char *base = g_strdup(r[i].name), *dot = strrchr(base, '.');
        if (dot) *dot = '\0';
        g_string_append_printf(table, "![%s](%s.png)\n\n", base, base);
        g_free(base);
    }
    char *md = g_build_filename(report, "report.md", NULL);
    char *text = g_strdup_printf("# Real-photo benchmark of `%s`\n\nThe photos of `%s`, made gray (CIE L* with "
                                 "a* = b* = 0), colorized and compared with the originals. Wrong hue: the share of "
                                 "pixels with true chroma >= 20 whose output has chroma >= 10 and a hue more than 90° "
                                 "off.\n\n%s", model, dir, table->str);
    gboolean ok = g_file_set_contents(md, text, -1, error);
    g_free(md), g_free(text);
    return ok;
}

/* --update-model: the averages into the model's metadata (eval.photos.*). */
static gboolean store_photo_figures(const char *model, const photo_eval *pe, photo_summary s, GError **error) {
    nn_weights w;
    nn_error err = {0};
    nn_status st = nn_weights_load(&w, model, &err);
    if (st) {
        g_set_error(error, TRAINER_ERROR, 1, "%s", err.msg);
        return FALSE;
    }
    st = nn_weights_set_u32(&w, TK_EVAL_PHOTOS_COUNT, (uint32_t)s.photos);
    if (!st) st = nn_weights_set_f64(&w, TK_EVAL_PHOTOS_GAIN, s.gain);
    if (!st) st = nn_weights_set_f64(&w, TK_EVAL_PHOTOS_PSNR, s.psnr);
    if (!st) st = nn_weights_set_f64(&w, TK_EVAL_PHOTOS_SSIM, s.ssim);
    if (!st) st = nn_weights_set_f64(&w, TK_EVAL_PHOTOS_BEATS_GRAY, s.beats_gray);
    if (!st) st = nn_weights_set_f64(&w, TK_EVAL_PHOTOS_WRONG_HUE, s.wrong_hue);
    if (!st) st = nn_weights_set_f64(&w, TK_EVAL_PHOTOS_COLORFULNESS_RATIO, s.colorfulness_ratio);
    if (!st) st = nn_weights_set_f64(&w, "eval.photos.mean_dL", s.mean_dL);
    if (!st) st = nn_weights_set_u32(&w, TK_EVAL_PHOTOS_RESOLUTION, (uint32_t)pe->params.resolution);
    if (!st) st = nn_weights_set_f32(&w, TK_EVAL_PHOTOS_VIVIDNESS, pe->params.vividness);
    if (!st) st = nn_weights_set_u32(&w, TK_EVAL_PHOTOS_SCENE_SIZE, (uint32_t)pe->params.scene_size);
    if (!st) st = nn_weights_set_f32(&w, TK_EVAL_PHOTOS_SCENE_WEIGHT, pe->params.scene_weight);
    if (!st) st = nn_weights_save(&w, model, &err);
    if (st) g_set_error(error, TRAINER_ERROR, 1, "%s", err.status ? err.msg : "out of memory");
    nn_weights_free(&w);
    return st == NN_OK;
}

int eval_photos(const char *dir, const char *model, const nn_engine_params *params, int max_side, int limit,
                const char *json, const char *report, gboolean update_model, const char *reference,
                double reference_weight) {
    GError *error = NULL;
    nn_error err = {0};
    photo_eval pe = {.params = *params, .max_side = max_side, .report = report, .reference = reference,
                     .reference_weight = (float)reference_weight};
    int rc = 1, n = 0, unreadable = 0, colourless = 0;
    photo_result *results = NULL;
    GPtrArray *files = list_folder_photos(dir, &unreadable, &error); /* FIFOs, devices: unreadable */
    if (!files) {
        g_printerr("colorize-train eval: --photos %s: %s\n", dir, error->message);
        goto out;
    }
    if (files->len == 0) {
        g_printerr("colorize-train eval: --photos %s: no photo (PNG, JPEG, TIFF, …) in the folder\n", dir);
        goto out;
    }
    if (report && g_mkdir_with_parents(report, 0755) != 0) {
        g_printerr("colorize-train eval: %s: %s\n", report, g_strerror(errno));
        goto out;
    }
    if (nn_colorizer_load(&pe.colorizer, model, NN_TILE_BATCH, NN_TILE_SIDE, &err) != NN_OK) {
        g_printerr("colorize-train eval: %s\n", err.msg);
        goto out;
    }
    int total = limit > 0 && (guint)limit < files->len ? limit : (int)files->len;
    results = g_new0(photo_result, total);
    for (int i = 0; i < total; i++) {
        const char *name = g_ptr_array_index(files, i);
        gboolean skipped = FALSE;
        if (!measure_photo(&pe, dir, name, &results[n], &skipped, &error)) {
            g_printerr("colorize-train eval: skipping %s\n", error->message);
            g_clear_error(&error);
            unreadable++;
            continue;
        }
        if (skipped) {
            g_printerr("colorize-train eval: skipping %s: it has no colour to compare with\n", name);
            g_free(results[n].name);
            colourless++;
            continue;
        }
        const photo_result *r = &results[n++];
        g_print("[%d/%d] %-24s gain %+6.2f dB  SSIM %.4f  wrong hue %5.1f%%  colourfulness %5.1f / %5.1f\n", i + 1,
                total, name, r->psnr - r->psnr_gray, r->ssim, isnan(r->wrong_hue) ? 0.0 : 100 * r->wrong_hue,
                r->colorfulness, r->colorfulness_truth);
    }
    if (n == 0) {
        g_printerr("colorize-train eval: --photos %s: no usable colour photo (%d unreadable, %d without colour)\n", dir,
                   unreadable, colourless);
        goto out;
    }
    photo_summary s = summarize(results, n);
    GString *table = photos_table(results, n, s);
    GString *j = photos_json(model, &pe, results, n, s, unreadable, colourless);
    g_print("\n%s", table->str);
    if (unreadable || colourless)
        g_print("Skipped: %d unreadable, %d without colour.\n", unreadable, colourless);
    g_print("photos %d  gain %+.2f dB  beats gray %.0f%%  wrong hue %.1f%%  colourfulness %.2fx  SSIM %.4f  mean |dL| %.2f\n",
            n, s.gain, 100 * s.beats_gray, 100 * s.wrong_hue, s.colorfulness_ratio, s.ssim, s.mean_dL);
    if (write_photo_outputs(json, report, j, table, model, dir, results, n, &error) &&
        (!update_model || store_photo_figures(model, &pe, s, &error)))
        rc = 0;
    else
        g_printerr("colorize-train eval: %s\n", error->message);
    if (rc == 0 && update_model) g_print("stored the photo figures in %s\n", model);
    g_string_free(table, TRUE);
    g_string_free(j, TRUE);
out:
    for (int i = 0; i < n; i++) g_free(results[i].name);
    g_free(results);
    if (files) g_ptr_array_free(files, TRUE);
    nn_colorizer_free(pe.colorizer);
    g_clear_error(&error);
    return rc;
}
