/* colorize-render.c — the render shared by the preview and the final
 * result, on plain memory only (no libgimp: the worker threads may run it):
 * the model cache, feeding rows of pixels and hints to the engine, the
 * network, and composing result rows or a sampled preview region. */
#include <string.h>

#include <glib/gi18n-lib.h>

#include "colorize.h"

G_DEFINE_QUARK(colorize-error-quark, colorize_error)

const ColorizeSettings COLORIZE_DEFAULTS = {"", NN_DEFAULT_VIVIDNESS, NN_DEFAULT_SATURATION, NN_DEFAULT_RESOLUTION, -1, -1,
                                            NN_DEFAULT_REFERENCE_WEIGHT, "", NN_DEFAULT_HINT_REACH};

gboolean colorize_has_reference(const ColorizeSettings *s) { return s->reference != -1 || s->reference_file[0]; }
static nn_reference *current_reference; /* see colorize_render_set_reference */
static gchar *current_reference_made_from;

void colorize_render_set_reference(nn_reference *r, const gchar *made_from) {
    nn_reference_free(current_reference);
    g_free(current_reference_made_from);
    current_reference = r, current_reference_made_from = r ? g_strdup(made_from) : NULL;
}

const gchar *colorize_render_reference_made_from(void) {
    return current_reference_made_from;
}

static gchar *plugin_dir;
static nn_colorizer *cached_model;
static gchar *cached_path;
static gchar *default_path;

void colorize_set_plugin_dir(const gchar *dir) {
    g_free(plugin_dir);
    plugin_dir = g_strdup(dir);
}

const gchar *colorize_plugin_dir(void) { return plugin_dir ? plugin_dir : "."; }

gchar *colorize_data_file(const gchar *dir, const gchar *relative) {
    gchar *p = g_build_filename(dir, relative, NULL);
    if (!g_file_test(p, G_FILE_TEST_EXISTS)) {
        g_free(p);
        p = g_build_filename(COLORIZE_DATADIR, relative, NULL);
    }
    return p;
}

gchar *colorize_default_model_path(const gchar *dir) { return colorize_data_file(dir, MODEL_FILE); }

const gchar *colorize_model_path(const ColorizeSettings *s) {
    if (s->model[0]) return s->model;
    if (!default_path) default_path = colorize_default_model_path(colorize_plugin_dir());
    return default_path;
}

nn_colorizer *colorize_model_get(const gchar *path, GError **error) {
    if (cached_model && g_strcmp0(path, cached_path) == 0) return cached_model;
    nn_colorizer *model = NULL;
    nn_error err = {0};
    if (nn_colorizer_load(&model, path, NN_TILE_BATCH_INTERACTIVE, NN_TILE_SIDE, &err) != NN_OK) {
        g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_MODEL, _("Cannot load the model: %s"), err.msg);
        return NULL;
    }
    colorize_model_forget();
    cached_model = model, cached_path = g_strdup(path);
    return model;
}

void colorize_model_forget(void) {
    nn_colorizer_free(cached_model);
    g_free(cached_path);
    cached_model = NULL, cached_path = NULL;
    colorize_render_set_reference(NULL, NULL); /* made on that model's bins */
}

static gboolean engine_error(const nn_error *err, GError **error) {
    if (err->status == NN_ERR_CANCELLED) g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_CANCELLED, _("Cancelled"));
    else if (err->status == NN_ERR_NOMEM) g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_MEMORY, "%s", err->msg);
    else g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_ENGINE, "%s", err->msg);
    return FALSE;
}

nn_engine *colorize_render_begin(const ColorizeSettings *s, gint w, gint h, const PointHint *points, gint n_points,
                                 gdouble ox, gdouble oy, gdouble scale, GError **error) {
    nn_engine_params params = nn_engine_default_params();
    params.vividness = (float)s->vividness, params.saturation = (float)s->saturation, params.resolution = s->resolution;
    params.hint_reach = (float)s->hint_reach;
    if (colorize_has_reference(s) && !current_reference) { /* colorize_reference_prepare was not called: a bug */
        g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_ENGINE, "the colour reference %d (%s) was not prepared",
                    s->reference, s->reference_file);
        return NULL;
    }
    if (colorize_has_reference(s)) params.reference = current_reference, params.reference_weight = (float)s->reference_weight;
    nn_error err = {0};
    nn_engine *e = NULL;
    if (nn_engine_begin(&e, w, h, &params, &err) != NN_OK) {
        engine_error(&err, error);
        return NULL;
    }
    for (gint i = 0; i < n_points; i++) {
        gdouble x = (points[i].at.x - ox) * scale, y = (points[i].at.y - oy) * scale;
        if (x < 0 || y < 0 || x >= w || y >= h) continue; /* outside this layer */
        if (nn_engine_add_point_rgb8(e, x, y, points[i].at.rgb, &err) != NN_OK) {
            engine_error(&err, error);
            nn_engine_free(e);
            return NULL;
        }
    }
    return e;
}

typedef struct {
    const gfloat *px;
    gfloat *L;
    gint width, channels;
} LightnessJob;

static void lightness_rows(void *ctx, int r0, int r1) {
    const LightnessJob *j = ctx;
    const gsize start = (gsize)r0 * j->width, n = (gsize)(r1 - r0) * j->width;
    nn_pixels_to_lightness(j->L + start, j->px + start * j->channels, n, j->channels);
}

gboolean colorize_render_feed(nn_engine *e, gint w, gint y0, gint rows, const gfloat *px, gint channels,
                              const gfloat *hint_rgba, gfloat *L_rows, GError **error) {
    const gsize n = (gsize)w * rows;
    gfloat *L = L_rows ? L_rows : g_try_malloc(sizeof(gfloat) * n);
    gfloat *hints = hint_rgba ? g_try_malloc(sizeof(gfloat) * 3 * n) : NULL;
    gboolean ok = L && (!hint_rgba || hints);
    if (!ok) g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_MEMORY, _("Not enough memory for a %d×%d image"), w, rows);
    if (ok) {
        LightnessJob lj = {px, L, w, channels};
        nn_parallel_for(rows, lightness_rows, &lj);
        if (hints) nn_rgba_to_hints(hints, hints + n, hints + 2 * n, hint_rgba, n);
        nn_error err = {0};
        if (e && nn_engine_add_rows(e, y0, rows, L, hints, hints ? hints + n : NULL, hints ? hints + 2 * n : NULL,
                                    &err) != NN_OK)
            ok = engine_error(&err, error);
    }
    if (!L_rows) g_free(L);
    g_free(hints);
    return ok;
}

gboolean colorize_render_predict(nn_engine *e, nn_colorizer *model, nn_progress_fn progress, gpointer user,
                                 const volatile gint *cancel, GError **error) {
    nn_error err = {0};
    if (nn_engine_predict(e, model, progress, user, cancel, &err) != NN_OK) return engine_error(&err, error);
    return TRUE;
}

gboolean colorize_render_carry(nn_engine *e, const nn_engine *base, GError **error) {
    nn_error err = {0};
    if (nn_engine_predict_from(e, base, &err) != NN_OK) return engine_error(&err, error);
    return TRUE;
}

void colorize_render_ab_to_rgb(const nn_engine *e, gdouble x, gdouble y, const gfloat ab[2], guchar rgb[3]) {
    float lab[3] = {nn_engine_lightness_at(e, x, y), ab[0], ab[1]};
    nn_lab_fit_gamut(lab, 1);
    nn_lab_to_srgb8(rgb, lab, 1);
}

gboolean colorize_render_guess_from(const nn_engine *e, gint w, gint h, PointHint *points, gint n_points, gdouble ox,
                                    gdouble oy, gdouble scale, GError **error) {
    for (gint i = 0; i < n_points; i++) {
        PointHint *p = &points[i];
        const gdouble x = (p->at.x - ox) * scale, y = (p->at.y - oy) * scale;
        if (!p->guess || x < 0 || y < 0 || x >= w || y >= h) continue;
        gfloat ab[2];
        nn_error err = {0};
        if (nn_engine_colour_at(e, x, y, ab, &err) != NN_OK) return engine_error(&err, error);
        colorize_render_ab_to_rgb(e, x, y, ab, p->at.rgb);
    }
    for (gint i = 0; i < n_points; i++) points[i].guess = FALSE;
    return TRUE;
}

gboolean colorize_render_guess_colours(const ColorizeSettings *s, gint w, gint h, const gfloat *src,
                                       const gfloat *hint_rgba, PointHint *points, gint n_points, gdouble ox,
                                       gdouble oy, gdouble scale, nn_colorizer *model, const volatile gint *cancel,
                                       GError **error) {
    PointHint *chosen = g_new(PointHint, MAX(n_points, 1)); /* the points whose colour the user chose */
    gint n_chosen = 0;
    for (gint i = 0; i < n_points; i++)
        if (!points[i].guess) chosen[n_chosen++] = points[i];
    gboolean ok = TRUE;
    if (n_chosen < n_points) {
        nn_engine *e = colorize_render_begin(s, w, h, chosen, n_chosen, ox, oy, scale, error);
        ok = e && colorize_render_feed(e, w, 0, h, src, 4, hint_rgba, NULL, error) &&
             colorize_render_predict(e, model, NULL, NULL, cancel, error) &&
             colorize_render_guess_from(e, w, h, points, n_points, ox, oy, scale, error);
        nn_engine_free(e);
    }
    g_free(chosen);
    return ok;
}

typedef struct {
    const nn_engine *engine;
    const gfloat *L, *src, *mask;
    const gfloat *a, *b; /* (rows, width) ab already sampled from an engine at working size, or NULL */
    gpointer out;
    gint width, y0, out_channels;
    gboolean out_u8;
} ComposeJob;

/* The source's alpha, and where a selection mask is given, a blend with
 * the source (partly selected pixels). */
static void keep_alpha_and_selection(gfloat *o, const gfloat *s, const gfloat *mask, gint w) {
    for (gint x = 0; x < w; x++) {
        if (mask) {
            gfloat m = CLAMP(mask[x], 0.0f, 1.0f);
            for (gint c = 0; c < 3; c++) o[4 * x + c] = m * o[4 * x + c] + (1.0f - m) * s[4 * x + c];
        }
        o[4 * x + 3] = s ? s[4 * x + 3] : 1.0f;
    }
}

/* R'G'B'A float to R'G'B'(A) u8, rounded to nearest. */
static void row_to_u8(guchar *o, const gfloat *rgba, gint w, gint channels) {
    for (gint x = 0; x < w; x++)
        for (gint c = 0; c < channels; c++) o[channels * x + c] = nn_unit_to_u8(rgba[4 * x + c]);
}

static void compose_row_range(void *ctx, int r0, int r1) {
    const ComposeJob *j = ctx;
    const gint w = j->width;
    gfloat *ab = g_malloc(sizeof(gfloat) * (j->out_u8 ? 6 : 2) * w), *row = ab + 2 * w;
    for (int r = r0; r < r1; r++) {
        gfloat *o = j->out_u8 ? row : (gfloat *)j->out + (gsize)r * w * 4;
        const gfloat *L = j->L + (gsize)r * w, *s = j->src ? j->src + (gsize)r * w * 4 : NULL;
        const gfloat *a = ab, *b = ab + w;
        if (j->a) a = j->a + (gsize)r * w, b = j->b + (gsize)r * w;
        else nn_engine_ab_rows(j->engine, j->y0 + r, 1, L, ab, ab + w);
        nn_lab_planes_to_srgb(o, L, a, b, (size_t)w, 4);
        keep_alpha_and_selection(o, s, j->mask && s ? j->mask + (gsize)r * w : NULL, w);
        if (j->out_u8) row_to_u8((guchar *)j->out + (gsize)r * w * j->out_channels, o, w, j->out_channels);
    }
    g_free(ab);
}

gboolean colorize_render_rows(const nn_engine *e, gdouble to_engine, gint w, gint y0, gint rows, const gfloat *L,
                              const gfloat *src_rgba, const gfloat *mask, gpointer out, ColorizeRowFormat format,
                              GError **error) {
    ComposeJob j = {e, L, src_rgba, mask, NULL, NULL, out, w, y0, format == COLORIZE_ROWS_RGB_U8 ? 3 : 4,
                    format != COLORIZE_ROWS_RGBA_FLOAT};
    gfloat *ab = NULL;
    if (to_engine > 0.0) { /* the engine's pixel centres under these rows' */
        ab = g_try_malloc(sizeof(gfloat) * 2 * (gsize)w * rows);
        nn_error err = {0};
        if (!ab) {
            g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_MEMORY, _("Not enough memory for a %d×%d image"), w, rows);
            return FALSE;
        }
        if (nn_engine_ab_region(e, 0.0, y0 * to_engine, to_engine, to_engine, w, rows, L, ab, ab + (gsize)w * rows,
                                &err) != NN_OK) {
            g_free(ab);
            return engine_error(&err, error);
        }
        j.a = ab, j.b = ab + (gsize)w * rows;
    }
    nn_parallel_for(rows, compose_row_range, &j);
    g_free(ab);
    return TRUE;
}

typedef struct {
    const guchar *src;
    gint bpp, w;
    gfloat *px, *L, *a, *b;
    guchar *out_rgba;
} RegionJob;

/* Rows [r0, r1) of the sampled source to float and L. */
static void region_lightness(void *ctx, int r0, int r1) {
    const RegionJob *j = ctx;
    const gboolean gray = j->bpp <= 2, alpha = j->bpp == 2 || j->bpp == 4;
    for (gsize i = (gsize)r0 * j->w; i < (gsize)r1 * j->w; i++)
        for (gint c = 0; c < 4; c++)
            j->px[4 * i + c] = c < 3 ? j->src[i * j->bpp + (gray ? 0 : c)] / 255.0f
                               : alpha ? j->src[i * j->bpp + j->bpp - 1] / 255.0f
                                       : 1.0f;
    nn_pixels_to_lightness(j->L + (gsize)r0 * j->w, j->px + 4 * (gsize)r0 * j->w, (gsize)(r1 - r0) * j->w, 4);
}

/* Rows [r0, r1) of (L, a, b) to 8-bit RGBA with the source's alpha. */
static void region_to_rgba(void *ctx, int r0, int r1) {
    const RegionJob *j = ctx;
    const gsize i0 = (gsize)r0 * j->w, n = (gsize)(r1 - r0) * j->w;
    gfloat *rgb = g_malloc(sizeof(gfloat) * 3 * n);
    nn_lab_planes_to_srgb(rgb, j->L + i0, j->a + i0, j->b + i0, n, 3);
    for (gsize i = 0; i < n; i++) {
        guchar *o = j->out_rgba + 4 * (i0 + i);
        for (gint c = 0; c < 3; c++) o[c] = nn_unit_to_u8(rgb[3 * i + c]);
        o[3] = nn_unit_to_u8(j->px[4 * (i0 + i) + 3]);
    }
    g_free(rgb);
}

gboolean colorize_render_region(const nn_engine *e, gdouble x0, gdouble y0, gdouble step_x, gdouble step_y, gint w,
                                gint h, const guchar *src, gint bpp, guchar *out_rgba, GError **error) {
    const gsize n = (gsize)w * h;
    gfloat *px = g_try_malloc(sizeof(gfloat) * 4 * n), *L = g_try_malloc(sizeof(gfloat) * 3 * n);
    gboolean ok = px && L;
    if (!ok) g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_MEMORY, _("Not enough memory for a %d×%d image"), w, h);
    if (ok) {
        RegionJob j = {src, bpp, w, px, L, L + n, L + 2 * n, out_rgba};
        nn_parallel_for(h, region_lightness, &j);
        nn_error err = {0};
        if (nn_engine_ab_region(e, x0, y0, step_x, step_y, w, h, L, j.a, j.b, &err) != NN_OK) ok = engine_error(&err, error);
        if (ok) nn_parallel_for(h, region_to_rgba, &j);
    }
    g_free(px), g_free(L);
    return ok;
}
