/* colorize-plugin.c — the GIMP 2.10 plug-in "Filters ▸ Enhance ▸ Colorize
 * (Neural)…" (PDB: plug-in-nn-colorize). Thin glue: it reads the drawable
 * through GEGL, hands plain buffers to the engine in nn/ (working scale,
 * tiles, guided upsampling, hints) and writes the result into a new layer
 * above the source. The image is changed only after the colorization has
 * succeeded, inside one undo group, so a cancel or an error leaves it as it
 * was. One render function (render_analyse, then render_rows strip by
 * strip) serves the preview and the final result. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

#include "nn.h"

#define PLUG_IN_PROC "plug-in-nn-colorize"
#define PLUG_IN_BINARY "colorize-neural"
#define PLUG_IN_ROLE "gimp-colorize-neural"
#define MODEL_FILE "colorize-cifar10.weights"
#define STRIP_ROWS 128
#define MODEL_BATCH 16 /* tiles per network pass: activations ~50 MB; larger batches are no faster */
#define PREVIEW_FAST_RESOLUTION 128 /* the immediate preview pass; the full one follows when the controls rest */
#define PREVIEW_REFINE_DELAY_MS 400

typedef struct {
    gchar model[1024]; /* "" = the installed default */
    gdouble vividness;
    gdouble saturation;
    gint resolution;
    gint32 hint_layer; /* -1 = none */
} ColorizeSettings;

static const ColorizeSettings DEFAULTS = {"", NN_DEFAULT_VIVIDNESS, 1.0, NN_DEFAULT_RESOLUTION, -1};
static ColorizeSettings settings;
static const char *plugin_path = "";

static void query(void);

/* Memory figures for tests/bench/bench_plugin.sh (COLORIZE_VERBOSE): the
 * resident set now and its peak, from /proc/self/status, in MB. */
static gdouble status_mb(const gchar *field) {
    gchar *s = NULL;
    gdouble mb = 0.0;
    if (g_file_get_contents("/proc/self/status", &s, NULL, NULL)) {
        const gchar *f = strstr(s, field);
        if (f) mb = g_ascii_strtod(f + strlen(field) + 1, NULL) / 1024.0;
    }
    g_free(s);
    return mb;
}

static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn_vals,
                GimpParam **return_vals);

const GimpPlugInInfo PLUG_IN_INFO = {NULL, NULL, query, run};

int main(int argc, char *argv[]) {
    plugin_path = argc > 0 ? argv[0] : "";
    return gimp_main(&PLUG_IN_INFO, argc, argv);
}

/* The plug-in's own folder (the weights and translations live beside it). */
static gchar *plugin_dir(void) { return g_path_get_dirname(plugin_path); }

static gchar *default_model_path(void) {
    gchar *dir = plugin_dir(), *p = g_build_filename(dir, MODEL_FILE, NULL);
    g_free(dir);
    if (!g_file_test(p, G_FILE_TEST_EXISTS)) {
        g_free(p);
        p = g_build_filename(COLORIZE_DATADIR, MODEL_FILE, NULL);
    }
    return p;
}

static void init_i18n(void) {
    gchar *dir = plugin_dir(), *locale = g_build_filename(dir, "locale", NULL);
    const gchar *use = g_file_test(locale, G_FILE_TEST_IS_DIR) ? locale : COLORIZE_LOCALEDIR;
    bindtextdomain(GETTEXT_PACKAGE, use);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
    g_free(dir), g_free(locale);
}

static void query(void) {
    static const GimpParamDef args[] = {
        {GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }"},
        {GIMP_PDB_IMAGE, "image", "Input image"},
        {GIMP_PDB_DRAWABLE, "drawable", "Input layer"},
        {GIMP_PDB_STRING, "model", "Weights file; \"\" for the installed default"},
        {GIMP_PDB_FLOAT, "vividness", "0 (faithful: the mean colour) to 1 (vivid)"},
        {GIMP_PDB_FLOAT, "saturation", "Chroma multiplier, 0 to 2"},
        {GIMP_PDB_INT32, "resolution", "Working resolution: the long side in pixels at which the network sees the image, 32 to 2048"},
        {GIMP_PDB_DRAWABLE, "hint-layer", "Layer of colour hints (its opaque pixels), -1 for none"},
    };
    static const GimpParamDef return_vals[] = {{GIMP_PDB_LAYER, "layer", "The new \"Colorized\" layer"}};
    init_i18n();
    gimp_plugin_domain_register(GETTEXT_PACKAGE, NULL);
    gimp_install_procedure(PLUG_IN_PROC, N_("Colorize a black-and-white photo with a neural network"),
                           "Adds a layer \"Colorized\" above the layer: its lightness is the layer's own, its "
                           "colour is predicted by a U-Net trained on CIFAR-10 at the working resolution. Opaque "
                           "pixels of the hint layer give their colour to their place. Grayscale images are "
                           "converted to RGB in the same undo step.",
                           "colorize contributors", "colorize contributors", "2026",
                           N_("Colorize (_Neural)..."), "RGB*, GRAY*", GIMP_PLUGIN, G_N_ELEMENTS(args),
                           G_N_ELEMENTS(return_vals), args, return_vals);
    gimp_plugin_menu_register(PLUG_IN_PROC, "<Image>/Filters/Enhance");
}

/* ------------------------------------------------------------ the model */

static nn_colorizer *loaded_model;
static gdouble start_rss_mb, startup_peak_mb;
static gchar *loaded_path;

/* Loads (or reuses) the model; on failure sets *error with the file and the problem. */
static nn_colorizer *get_model(const ColorizeSettings *s, GError **error) {
    gchar *path = s->model[0] ? g_strdup(s->model) : default_model_path();
    if (loaded_model && g_strcmp0(path, loaded_path) == 0) {
        g_free(path);
        return loaded_model;
    }
    nn_colorizer_free(loaded_model);
    g_free(loaded_path);
    loaded_model = NULL, loaded_path = NULL;
    nn_error err = {0};
    if (nn_colorizer_load(&loaded_model, path, MODEL_BATCH, 32, &err) != NN_OK) {
        g_set_error(error, g_quark_from_static_string("colorize"), 1, _("Cannot load the model: %s"), err.msg);
        g_free(path);
        return NULL;
    }
    loaded_path = path;
    return loaded_model;
}

/* --------------------------------------------------- the render function */

/* Reads rows into px and returns their layout: 1 (Y' float, for
 * grayscale sources) or 4 (R'G'B'A float) floats per pixel. */
typedef gint (*RowReader)(gpointer ctx, gint y0, gint rows, gfloat *px);

typedef struct {
    volatile gint cancel;
    volatile gint progress_permille;
    gboolean direct; /* no worker thread: report to GIMP from the engine's callback */
} RenderControl;

/* Progress over the whole run: reading 0–10 %, the network 10–70 %,
 * writing the result 70–100 %. */
#define PROGRESS_READ 0.1
#define PROGRESS_NETWORK 0.6

static void report_progress(RenderControl *rc, double fraction) {
    if (!rc) return;
    g_atomic_int_set(&rc->progress_permille, (gint)(fraction * 1000));
    if (rc->direct) gimp_progress_update(fraction);
}

static void on_engine_progress(double fraction, void *user) {
    report_progress(user, PROGRESS_READ + PROGRESS_NETWORK * fraction);
}

typedef struct {
    const gfloat *px; /* rows of Y' float (channels 1) or R'G'B'A float (4) */
    gfloat *L;        /* the same rows of L */
    gint width, channels;
} LightnessJob;

static void lightness_rows(void *ctx, int r0, int r1) {
    const LightnessJob *j = ctx;
    const gsize start = (gsize)r0 * j->width, n = (gsize)(r1 - r0) * j->width;
    if (j->channels == 1) nn_gray_to_lightness(j->L + start, j->px + start, n, 1);
    else nn_srgb_to_lightness(j->L + start, j->px + start * 4, n, 4);
}

/* Hint rows: every opaque pixel (alpha > 0.5) gives its colour's ab. */
static void hint_rows(const gfloat *rgba, gint n, gfloat *a, gfloat *b, gfloat *mask) {
    for (gint i = 0; i < n; i++) {
        const gfloat *p = rgba + 4 * (gsize)i;
        mask[i] = p[3] > 0.5f ? 1.0f : 0.0f;
        a[i] = b[i] = 0.0f;
        if (!(p[3] > 0.5f)) continue;
        gfloat rgb[3] = {CLAMP(p[0], 0.0f, 1.0f), CLAMP(p[1], 0.0f, 1.0f), CLAMP(p[2], 0.0f, 1.0f)}, lab[3];
        nn_srgb_to_lab(lab, rgb, 1);
        a[i] = lab[1], b[i] = lab[2];
    }
}

/* The render function, pass 1: reads the w×h source through `read` (and
 * the hint pixels through `read_hint`, may be NULL) strip by strip, keeps
 * their L (*L_out, g_free it) and feeds it to the engine, then runs the
 * network. Returns the engine, ready for render_rows. */
static nn_engine *render_analyse(nn_colorizer *model, const ColorizeSettings *s, gint w, gint h, RowReader read,
                                 gpointer ctx, RowReader read_hint, gpointer hint_ctx, gfloat **L_out,
                                 RenderControl *control, GError **error) {
    GQuark q = g_quark_from_static_string("colorize");
    nn_engine_params params = {(float)s->vividness, (float)s->saturation, s->resolution};
    nn_error err = {0};
    nn_engine *engine = NULL;
    if (nn_engine_begin(&engine, w, h, &params, &err) != NN_OK) {
        g_set_error(error, q, 4, "%s", err.msg);
        return NULL;
    }
    const gsize strip = (gsize)w * STRIP_ROWS;
    gfloat *rows = g_try_malloc(sizeof(gfloat) * 4 * strip), *L = g_try_malloc(sizeof(gfloat) * w * (gsize)h);
    gfloat *hints = read_hint ? g_try_malloc(sizeof(gfloat) * 3 * strip) : NULL;
    if (!rows || !L || (read_hint && !hints)) {
        g_set_error(error, q, 2, _("Not enough memory for a %d×%d image"), w, h);
        goto fail;
    }
    for (gint y0 = 0; y0 < h; y0 += STRIP_ROWS) {
        gint nr = MIN(STRIP_ROWS, h - y0);
        gint channels = read(ctx, y0, nr, rows);
        gfloat *Ls = L + (gsize)y0 * w;
        LightnessJob lj = {rows, Ls, w, channels};
        nn_parallel_for(nr, lightness_rows, &lj);
        gfloat *ha = NULL, *hb = NULL, *hm = NULL;
        if (read_hint) {
            read_hint(hint_ctx, y0, nr, rows);
            ha = hints, hb = ha + strip, hm = hb + strip;
            hint_rows(rows, nr * w, ha, hb, hm);
        }
        if (nn_engine_add_rows(engine, y0, nr, Ls, ha, hb, hm, &err) != NN_OK) {
            g_set_error(error, q, 4, "%s", err.msg);
            goto fail;
        }
        if (control && g_atomic_int_get(&control->cancel)) {
            g_set_error(error, q, 3, _("Cancelled"));
            goto fail;
        }
        report_progress(control, PROGRESS_READ * (y0 + nr) / h);
    }
    g_free(rows), g_free(hints);
    rows = hints = NULL;
    if (nn_engine_predict(engine, model, on_engine_progress, control, control ? &control->cancel : NULL, &err) !=
        NN_OK) {
        g_set_error(error, q, err.status == NN_ERR_CANCELLED ? 3 : 4, "%s",
                    err.status == NN_ERR_CANCELLED ? _("Cancelled") : err.msg);
        goto fail;
    }
    *L_out = L;
    return engine;
fail:
    g_free(rows), g_free(L), g_free(hints);
    nn_engine_free(engine);
    return NULL;
}

typedef struct {
    const nn_engine *engine;
    const gfloat *L, *src, *mask;
    gfloat *out;
    gint width, y0;
} ComposeJob;

static void compose_row_range(void *ctx, int r0, int r1) {
    const ComposeJob *j = ctx;
    const gint w = j->width;
    gfloat *a = g_malloc(sizeof(gfloat) * 5 * w), *b = a + w, *lab = b + w;
    for (int r = r0; r < r1; r++) {
        gfloat *o = j->out + (gsize)r * w * 4;
        const gfloat *L = j->L + (gsize)r * w, *s = j->src ? j->src + (gsize)r * w * 4 : NULL;
        nn_engine_ab_rows(j->engine, j->y0 + r, 1, L, a, b);
        for (gint x = 0; x < w; x++) lab[3 * x] = L[x], lab[3 * x + 1] = a[x], lab[3 * x + 2] = b[x];
        nn_lab_to_srgb_fitted(o, lab, (size_t)w, 4);
        for (gint x = 0; x < w; x++) {
            if (j->mask) {
                gfloat m = CLAMP(j->mask[(gsize)r * w + x], 0.0f, 1.0f);
                for (gint c = 0; c < 3; c++) o[4 * x + c] = m * o[4 * x + c] + (1.0f - m) * s[4 * x + c];
            }
            o[4 * x + 3] = s ? s[4 * x + 3] : 1.0f;
        }
    }
    g_free(a);
}

/* The render function, pass 2: result rows y0 .. y0+rows-1: the source's
 * own L (kept by pass 1) with the engine's ab, fitted into the gamut (L
 * kept); given the source rows (R'G'B'A float), their alpha, and where a
 * selection mask is given, a blend with them. Without source rows the
 * result is opaque (and mask must be NULL). */
static void render_rows(const nn_engine *engine, gint w, gint y0, gint rows, const gfloat *L, const gfloat *src_rgba,
                        const gfloat *mask, gfloat *out_rgba) {
    ComposeJob j = {engine, L, src_rgba, src_rgba ? mask : NULL, out_rgba, w, y0};
    nn_parallel_for(rows, compose_row_range, &j);
}

/* --------------------------------------------------------- GEGL readers */

typedef struct {
    GeglBuffer *buffer;
    gint dx, dy; /* offset of the read area within the buffer */
    gint width;
    gboolean gray; /* read Y' float: a quarter of the bytes, one table lookup for L */
} BufferReader;

static gint read_buffer_rows(gpointer ctx, gint y0, gint rows, gfloat *px) {
    BufferReader *b = ctx;
    GeglRectangle rect = {b->dx, b->dy + y0, b->width, rows};
    gegl_buffer_get(b->buffer, &rect, 1.0, babl_format(b->gray ? "Y' float" : "R'G'B'A float"), px,
                    GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    return b->gray ? 1 : 4;
}

/* --------------------------------------------------------------- checks */

static gboolean check_drawable(gint32 image, gint32 drawable, GError **error) {
    GQuark q = g_quark_from_static_string("colorize");
    if (!gimp_image_is_valid(image) || !gimp_item_is_valid(drawable) || !gimp_item_is_layer(drawable) ||
        gimp_item_get_image(drawable) != image) {
        g_set_error(error, q, 5, _("The drawable must be a layer of the image"));
        return FALSE;
    }
    if (gimp_drawable_is_indexed(drawable)) {
        g_set_error(error, q, 5, _("Indexed images cannot be colorized: convert the image to RGB or Grayscale first (Image ▸ Mode)"));
        return FALSE;
    }
    return TRUE;
}

static gboolean check_arguments(gint32 image, gint32 drawable, const ColorizeSettings *s, GError **error) {
    GQuark q = g_quark_from_static_string("colorize");
    if (!check_drawable(image, drawable, error)) return FALSE;
    if (!(s->vividness >= 0.0 && s->vividness <= 1.0)) {
        g_set_error(error, q, 5, _("Vividness %g is outside 0 to 1"), s->vividness);
        return FALSE;
    }
    if (!(s->saturation >= 0.0 && s->saturation <= 2.0)) {
        g_set_error(error, q, 5, _("Saturation %g is outside 0 to 2"), s->saturation);
        return FALSE;
    }
    if (s->resolution < NN_MIN_RESOLUTION || s->resolution > NN_MAX_RESOLUTION) {
        g_set_error(error, q, 5, _("Working resolution %d is outside %d to %d"), s->resolution, NN_MIN_RESOLUTION,
                    NN_MAX_RESOLUTION);
        return FALSE;
    }
    if (s->hint_layer != -1 && (!gimp_item_is_valid(s->hint_layer) || !gimp_item_is_drawable(s->hint_layer) ||
                                gimp_item_get_image(s->hint_layer) != image || s->hint_layer == drawable)) {
        g_set_error(error, q, 5, _("The hint layer must be another layer of the same image, or -1 for none"));
        return FALSE;
    }
    return TRUE;
}

/* ------------------------------------------------------ the final result */

typedef struct {
    gint32 image, drawable;
    ColorizeSettings s;
    nn_colorizer *model;
    BufferReader src, hint;
    gint w, h;
    nn_engine *engine;
    gfloat *L; /* (h, w) the source's L */
    GError *error;
    gboolean ok;
    RenderControl control;
    volatile gint finished;
} FinalJob;

static gpointer final_worker(gpointer data) {
    FinalJob *j = data;
    j->engine = render_analyse(j->model, &j->s, j->w, j->h, read_buffer_rows, &j->src,
                               j->hint.buffer ? read_buffer_rows : NULL, &j->hint, &j->L, &j->control, &j->error);
    j->ok = j->engine != NULL;
    g_atomic_int_set(&j->finished, 1);
    return NULL;
}

/* Writes the new layer; the only part that changes the image. */
static gint32 apply_result(FinalJob *j) {
    const gint w = j->w, h = j->h;
    gimp_image_undo_group_start(j->image);
    if (gimp_image_base_type(j->image) == GIMP_GRAY) gimp_image_convert_rgb(j->image);
    gint32 layer = gimp_layer_new_from_drawable(j->drawable, j->image);
    gimp_item_set_name(layer, _("Colorized"));
    gimp_image_insert_layer(j->image, layer, gimp_item_get_parent(j->drawable),
                            gimp_image_get_item_position(j->image, j->drawable));
    GeglBuffer *dst = gimp_drawable_get_buffer(layer), *src = NULL, *sel = NULL;
    gint offx, offy;
    gimp_drawable_offsets(j->drawable, &offx, &offy);
    if (!gimp_selection_is_empty(j->image)) sel = gimp_drawable_get_buffer(gimp_image_get_selection(j->image));
    /* the source is read again only for its alpha or to blend at the selection's edge */
    if (sel || gimp_drawable_has_alpha(j->drawable)) src = gimp_drawable_get_buffer(j->drawable);
    gfloat *in = src ? g_malloc(sizeof(gfloat) * 4 * (gsize)w * STRIP_ROWS) : NULL;
    gfloat *out = g_malloc(sizeof(gfloat) * 4 * (gsize)w * STRIP_ROWS);
    gfloat *mask = sel ? g_malloc(sizeof(gfloat) * (gsize)w * STRIP_ROWS) : NULL;
    for (gint y0 = 0; y0 < h; y0 += STRIP_ROWS) {
        gint nr = MIN(STRIP_ROWS, h - y0);
        GeglRectangle rect = {0, y0, w, nr};
        if (src) gegl_buffer_get(src, &rect, 1.0, babl_format("R'G'B'A float"), in, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
        if (sel) {
            GeglRectangle srect = {offx, offy + y0, w, nr};
            gegl_buffer_get(sel, &srect, 1.0, babl_format("Y float"), mask, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
        }
        render_rows(j->engine, w, y0, nr, j->L + (gsize)y0 * w, in, mask, out);
        gegl_buffer_set(dst, &rect, 0, babl_format("R'G'B'A float"), out, GEGL_AUTO_ROWSTRIDE);
        gimp_progress_update(PROGRESS_READ + PROGRESS_NETWORK + (1.0 - PROGRESS_READ - PROGRESS_NETWORK) * (y0 + nr) / h);
    }
    gegl_buffer_flush(dst);
    g_object_unref(dst);
    if (src) g_object_unref(src);
    if (sel) g_object_unref(sel);
    g_free(in), g_free(out), g_free(mask);
    gimp_drawable_update(layer, 0, 0, w, h);
    gimp_image_undo_group_end(j->image);
    return layer;
}

/* Colorizes; with `dialog_progress` the work runs in a thread while the
 * dialog's progress bar moves and its Cancel button works. */
static gint32 colorize(gint32 image, gint32 drawable, const ColorizeSettings *s, GtkProgressBar *dialog_progress,
                       volatile gint **cancel_slot, GError **error) {
    if (!check_arguments(image, drawable, s, error)) return -1;
    nn_colorizer *model = get_model(s, error);
    if (!model) return -1;
    FinalJob j = {.image = image, .drawable = drawable, .s = *s, .model = model};
    j.w = gimp_drawable_width(drawable), j.h = gimp_drawable_height(drawable);
    j.src = (BufferReader){gimp_drawable_get_buffer(drawable), 0, 0, j.w, gimp_drawable_is_gray(drawable)};
    if (s->hint_layer != -1) {
        gint ox, oy, hx, hy;
        gimp_drawable_offsets(drawable, &ox, &oy);
        gimp_drawable_offsets(s->hint_layer, &hx, &hy);
        j.hint = (BufferReader){gimp_drawable_get_buffer(s->hint_layer), ox - hx, oy - hy, j.w, FALSE};
    }
    gint64 t0 = g_get_monotonic_time();
    gimp_progress_init(_("Colorizing"));
    if (dialog_progress) {
        if (cancel_slot) *cancel_slot = &j.control.cancel;
        GThread *t = g_thread_new("colorize", final_worker, &j);
        while (!g_atomic_int_get(&j.finished)) {
            gdouble f = g_atomic_int_get(&j.control.progress_permille) / 1000.0;
            gtk_progress_bar_set_fraction(dialog_progress, f);
            gimp_progress_update(f);
            while (gtk_events_pending()) gtk_main_iteration();
            g_usleep(30000);
        }
        g_thread_join(t);
        if (cancel_slot) *cancel_slot = NULL;
    } else {
        j.control.direct = TRUE;
        final_worker(&j);
    }
    g_object_unref(j.src.buffer);
    if (j.hint.buffer) g_object_unref(j.hint.buffer);
    gint32 layer = -1;
    gint64 t1 = g_get_monotonic_time();
    if (j.ok) layer = apply_result(&j);
    else g_propagate_error(error, j.error);
    if (g_getenv("COLORIZE_VERBOSE")) /* for tests/bench/bench_plugin.sh */
        g_printerr("colorize-neural: %dx%d at resolution %d: %.3f s (colorize %.3f s, write %.3f s), "
                   "peak RSS %.1f MB (%.1f MB at the start of run; babl's start-up peak %.1f MB)\n",
                   j.w, j.h, s->resolution, (g_get_monotonic_time() - t0) / 1e6, (t1 - t0) / 1e6,
                   (g_get_monotonic_time() - t1) / 1e6, status_mb("VmHWM:"), start_rss_mb, startup_peak_mb);
    nn_engine_free(j.engine);
    g_free(j.L);
    gimp_progress_end();
    return layer;
}

/* ------------------------------------------------------------- preview */

/* One preview render, computed in a worker thread from pixels the main
 * thread fetched (libgimp is not thread-safe): the UI never waits for it,
 * and a newer request cancels it through its RenderControl. */
typedef struct {
    ColorizeSettings s;
    nn_colorizer *model;
    guchar *src;  /* the preview's source pixels, bpp bytes each */
    gfloat *hint; /* (h, w) R'G'B'A float of the hint layer at preview scale, or NULL */
    guchar *rgba; /* (h, w) the result */
    gint w, h, bpp;
    RenderControl control;
    GError *error;
    gboolean ok;
    volatile gint finished;
    GThread *thread;
} PreviewJob;

typedef struct {
    GtkWidget *preview;
    gint32 drawable;
    guint idle;
    GtkWidget *progress, *dialog;
    volatile gint *cancel;
    gboolean busy; /* the final render runs: the model is in use */
    guint refine;  /* pending full-resolution preview pass */
    PreviewJob *job; /* the preview being computed */
    guint poll;      /* watches the job */
    gboolean pending, pending_refine; /* a newer request waits for the cancelled job */
} DialogState;

typedef struct {
    const guchar *src;
    gint bpp, width;
} MemReader;

static gint read_memory_rows(gpointer ctx, gint y0, gint rows, gfloat *rgba) {
    MemReader *m = ctx;
    for (gint r = 0; r < rows; r++)
        for (gint x = 0; x < m->width; x++) {
            const guchar *p = m->src + ((gsize)(y0 + r) * m->width + x) * m->bpp;
            gfloat *o = rgba + ((gsize)r * m->width + x) * 4;
            gboolean gray = m->bpp <= 2;
            o[0] = p[0] / 255.0f;
            o[1] = (gray ? p[0] : p[1]) / 255.0f;
            o[2] = (gray ? p[0] : p[2]) / 255.0f;
            o[3] = (m->bpp == 2 || m->bpp == 4) ? p[m->bpp - 1] / 255.0f : 1.0f;
        }
    return 4;
}

typedef struct {
    GeglBuffer *buffer;
    GeglRectangle rect; /* in the scaled space */
    gdouble scale;
    gint width;
} ScaledReader;

static gint read_scaled_rows(gpointer ctx, gint y0, gint rows, gfloat *rgba) {
    ScaledReader *s = ctx;
    GeglRectangle r = {s->rect.x, s->rect.y + y0, s->width, rows};
    gegl_buffer_get(s->buffer, &r, s->scale, babl_format("R'G'B'A float"), rgba, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    return 4;
}

typedef struct {
    const gfloat *rgba;
    gint width;
} FloatReader;

static gint read_float_rows(gpointer ctx, gint y0, gint rows, gfloat *rgba) {
    FloatReader *f = ctx;
    memcpy(rgba, f->rgba + (gsize)y0 * f->width * 4, sizeof(gfloat) * 4 * (gsize)f->width * rows);
    return 4;
}

static gpointer preview_worker(gpointer data) {
    PreviewJob *j = data;
    const gsize n = (gsize)j->w * j->h;
    MemReader mem = {j->src, j->bpp, j->w};
    FloatReader hint = {j->hint, j->w};
    gfloat *L = NULL;
    nn_engine *engine = render_analyse(j->model, &j->s, j->w, j->h, read_memory_rows, &mem,
                                       j->hint ? read_float_rows : NULL, &hint, &L, &j->control, &j->error);
    if (engine && !g_atomic_int_get(&j->control.cancel)) {
        gfloat *in = g_malloc(sizeof(gfloat) * 4 * n), *out = g_malloc(sizeof(gfloat) * 4 * n);
        read_memory_rows(&mem, 0, j->h, in);
        render_rows(engine, j->w, 0, j->h, L, in, NULL, out);
        for (gsize i = 0; i < n * 4; i++) j->rgba[i] = (guchar)lrintf(CLAMP(out[i], 0.0f, 1.0f) * 255.0f);
        g_free(in), g_free(out);
        j->ok = TRUE;
    }
    nn_engine_free(engine);
    g_free(L);
    g_atomic_int_set(&j->finished, 1);
    return NULL;
}

static void free_preview_job(PreviewJob *j) {
    g_free(j->src), g_free(j->hint), g_free(j->rgba);
    g_clear_error(&j->error);
    g_free(j);
}

/* Cancels the preview work and waits for it (the final render needs the model). */
static void stop_preview(DialogState *d) {
    if (d->idle) g_source_remove(d->idle), d->idle = 0;
    if (d->refine) g_source_remove(d->refine), d->refine = 0;
    if (d->poll) g_source_remove(d->poll), d->poll = 0;
    if (d->job) {
        g_atomic_int_set(&d->job->control.cancel, 1);
        g_thread_join(d->job->thread);
        free_preview_job(d->job);
        d->job = NULL;
    }
    d->pending = FALSE;
}

static void schedule_preview(DialogState *d);
static void start_preview(DialogState *d, gboolean refine);

static void draw_preview(DialogState *d, const guchar *rgba, gint w, gint h) {
    gimp_preview_area_draw(GIMP_PREVIEW_AREA(gimp_preview_get_area(GIMP_PREVIEW(d->preview))), 0, 0, w, h,
                           GIMP_RGBA_IMAGE, rgba, w * 4);
}

/* The source unchanged, when there is nothing to show. */
static void draw_source(DialogState *d, const guchar *src, gint w, gint h, gint bpp) {
    guchar *rgba = g_malloc((gsize)w * h * 4);
    for (gsize i = 0; i < (gsize)w * h; i++) {
        const guchar *p = src + i * bpp;
        rgba[4 * i] = p[0], rgba[4 * i + 1] = bpp <= 2 ? p[0] : p[1], rgba[4 * i + 2] = bpp <= 2 ? p[0] : p[2];
        rgba[4 * i + 3] = (bpp == 2 || bpp == 4) ? p[bpp - 1] : 255;
    }
    draw_preview(d, rgba, w, h);
    g_free(rgba);
}

/* Main thread: shows a finished job, then starts the request that waited. */
static gboolean poll_preview(gpointer data) {
    DialogState *d = data;
    PreviewJob *j = d->job;
    if (j && !g_atomic_int_get(&j->finished)) return G_SOURCE_CONTINUE;
    d->poll = 0;
    if (j) {
        g_thread_join(j->thread);
        d->job = NULL;
        if (j->ok && !g_atomic_int_get(&j->control.cancel)) draw_preview(d, j->rgba, j->w, j->h);
        else if (j->error && j->error->code != 3) {
            draw_source(d, j->src, j->w, j->h, j->bpp);
            g_message("%s", j->error->message);
        }
        free_preview_job(j);
    }
    if (d->pending) {
        d->pending = FALSE;
        start_preview(d, d->pending_refine);
    }
    return G_SOURCE_REMOVE;
}

/* Main thread: fetches the preview's pixels (and the hint layer's at the
 * same scale) and hands them to a worker; a running job is cancelled and
 * this request waits for it. */
static void start_preview(DialogState *d, gboolean refine) {
    if (d->busy) return;
    if (d->job) {
        g_atomic_int_set(&d->job->control.cancel, 1);
        d->pending = TRUE, d->pending_refine = refine;
        return;
    }
    GimpPreview *preview = GIMP_PREVIEW(d->preview);
    gint w, h, bpp;
    guchar *src = gimp_zoom_preview_get_source(GIMP_ZOOM_PREVIEW(d->preview), &w, &h, &bpp);
    if (!src) { /* GIMP has no preview pixels for us yet: try again shortly */
        schedule_preview(d);
        return;
    }
    GError *error = NULL;
    nn_colorizer *model = get_model(&settings, &error);
    if (!model) {
        draw_source(d, src, w, h, bpp);
        g_message("%s", error->message);
        g_clear_error(&error);
        g_free(src);
        return;
    }
    PreviewJob *j = g_new0(PreviewJob, 1);
    j->s = settings, j->model = model, j->src = src, j->w = w, j->h = h, j->bpp = bpp;
    j->rgba = g_malloc((gsize)w * h * 4);
    j->s.resolution = MIN(j->s.resolution, MAX(w, h)); /* never work above the preview's own size */
    if (!refine) j->s.resolution = MIN(j->s.resolution, PREVIEW_FAST_RESOLUTION);
    j->s.resolution = MAX(j->s.resolution, NN_MIN_RESOLUTION);
    if (settings.hint_layer != -1 && gimp_item_is_valid(settings.hint_layer)) {
        gint ox, oy, hx, hy, px, py;
        /* preview pixel (i, j) shows drawable pixel ((px + i) / f, (py + j) / f) */
        gdouble scale = gimp_zoom_preview_get_factor(GIMP_ZOOM_PREVIEW(d->preview));
        gimp_drawable_offsets(d->drawable, &ox, &oy);
        gimp_drawable_offsets(settings.hint_layer, &hx, &hy);
        gimp_preview_get_position(preview, &px, &py);
        ScaledReader hint = {gimp_drawable_get_buffer(settings.hint_layer),
                             {px + (gint)lround((ox - hx) * scale), py + (gint)lround((oy - hy) * scale), w, h},
                             scale, w};
        j->hint = g_malloc(sizeof(gfloat) * 4 * (gsize)w * h);
        read_scaled_rows(&hint, 0, h, j->hint);
        g_object_unref(hint.buffer);
    }
    d->job = j;
    j->thread = g_thread_new("colorize-preview", preview_worker, j);
    if (!d->poll) d->poll = g_timeout_add(20, poll_preview, d);
}

static gboolean fast_preview(gpointer data) {
    DialogState *d = data;
    d->idle = 0;
    start_preview(d, FALSE);
    return G_SOURCE_REMOVE;
}

static gboolean refine_preview(gpointer data) {
    DialogState *d = data;
    d->refine = 0;
    start_preview(d, TRUE);
    return G_SOURCE_REMOVE;
}

/* A fast pass soon; the full-resolution pass once the controls rest. Both
 * run in a worker thread; a newer request cancels the older one. */
static void schedule_preview(DialogState *d) {
    if (d->busy) return;
    if (!d->idle) d->idle = g_timeout_add(60, fast_preview, d);
    if (d->refine) g_source_remove(d->refine);
    d->refine = g_timeout_add(PREVIEW_REFINE_DELAY_MS, refine_preview, d);
}

static void on_invalidated(GimpPreview *preview, gpointer data) {
    (void)preview;
    schedule_preview(data);
}

static void on_value_changed(GtkAdjustment *adj, gpointer data) {
    DialogState *d = data;
    gdouble *target = g_object_get_data(G_OBJECT(adj), "target-double");
    gint *itarget = g_object_get_data(G_OBJECT(adj), "target-int");
    if (target) *target = gtk_adjustment_get_value(adj);
    if (itarget) *itarget = (gint)lround(gtk_adjustment_get_value(adj));
    schedule_preview(d);
}

static void on_hint_changed(GtkWidget *combo, gpointer data) {
    gint id = -1;
    gimp_int_combo_box_get_active(GIMP_INT_COMBO_BOX(combo), &id);
    settings.hint_layer = id;
    schedule_preview(data);
}

static void on_model_changed(GtkFileChooser *chooser, gpointer data) {
    gchar *f = gtk_file_chooser_get_filename(chooser);
    gchar *def = default_model_path();
    g_strlcpy(settings.model, f && g_strcmp0(f, def) != 0 ? f : "", sizeof settings.model);
    g_free(f), g_free(def);
    schedule_preview(data);
}

static gboolean hint_constraint(gint32 image, gint32 item, gpointer data) {
    (void)image;
    return item != GPOINTER_TO_INT(data) && gimp_item_is_layer(item);
}

static GtkObject *add_scale(GtkWidget *table, gint row, const gchar *label, gdouble value, gdouble lo, gdouble hi,
                            gdouble step, gint digits, const gchar *tip) {
    return gimp_scale_entry_new(GTK_TABLE(table), 0, row, label, 200, 6, value, lo, hi, step, step * 10, digits, TRUE,
                                0, 0, tip, NULL);
}

/* Builds the dialog; exported for the screenshot harness as well. */
GtkWidget *colorize_dialog_new(gint32 image, gint32 drawable, DialogState *d, GtkObject **adjs);

GtkWidget *colorize_dialog_new(gint32 image, gint32 drawable, DialogState *d, GtkObject **adjs) {
    gimp_ui_init(PLUG_IN_BINARY, TRUE);
    GtkWidget *dialog = gimp_dialog_new(_("Colorize (Neural)"), PLUG_IN_ROLE, NULL, 0, gimp_standard_help_func,
                                        PLUG_IN_PROC, _("_Reset"), 1, _("_Cancel"), GTK_RESPONSE_CANCEL,
                                        _("_OK"), GTK_RESPONSE_OK, NULL);
    gtk_dialog_set_alternative_button_order(GTK_DIALOG(dialog), GTK_RESPONSE_OK, 1, GTK_RESPONSE_CANCEL, -1);
    gimp_window_set_transient(GTK_WINDOW(dialog));
    GtkWidget *vbox = gtk_vbox_new(FALSE, 12);
    gtk_container_set_border_width(GTK_CONTAINER(vbox), 12);
    gtk_box_pack_start(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(dialog))), vbox, TRUE, TRUE, 0);
    d->drawable = drawable;
    d->dialog = dialog;
    d->preview = gimp_zoom_preview_new_from_drawable_id(drawable);
    gtk_box_pack_start(GTK_BOX(vbox), d->preview, TRUE, TRUE, 0);
    g_signal_connect(d->preview, "invalidated", G_CALLBACK(on_invalidated), d);

    GtkWidget *table = gtk_table_new(6, 3, FALSE);
    gtk_table_set_col_spacings(GTK_TABLE(table), 6);
    gtk_table_set_row_spacings(GTK_TABLE(table), 6);
    gtk_box_pack_start(GTK_BOX(vbox), table, FALSE, FALSE, 0);
    adjs[0] = add_scale(table, 0, _("_Vividness:"), settings.vividness, 0.0, 1.0, 0.01, 2,
                        _("0 gives the most likely average colour (faithful); higher values give more vivid colour"));
    g_object_set_data(G_OBJECT(adjs[0]), "target-double", &settings.vividness);
    adjs[1] = add_scale(table, 1, _("_Saturation:"), settings.saturation, 0.0, 2.0, 0.01, 2,
                        _("Multiplies the chroma of the predicted colour"));
    g_object_set_data(G_OBJECT(adjs[1]), "target-double", &settings.saturation);
    adjs[2] = add_scale(table, 2, _("_Working resolution:"), settings.resolution, NN_MIN_RESOLUTION,
                        NN_MAX_RESOLUTION, 1, 0,
                        _("The long side, in pixels, at which the network sees the image; the colour is then "
                          "brought to full size along the image's edges"));
    g_object_set_data(G_OBJECT(adjs[2]), "target-int", &settings.resolution);
    for (int i = 0; i < 3; i++) g_signal_connect(adjs[i], "value-changed", G_CALLBACK(on_value_changed), d);

    GtkWidget *combo = gimp_layer_combo_box_new(hint_constraint, GINT_TO_POINTER(drawable));
    gimp_int_combo_box_prepend(GIMP_INT_COMBO_BOX(combo), GIMP_INT_STORE_VALUE, -1, GIMP_INT_STORE_LABEL, _("None"), -1);
    gimp_int_combo_box_set_active(GIMP_INT_COMBO_BOX(combo),
                                  settings.hint_layer != -1 && gimp_item_is_valid(settings.hint_layer) &&
                                          gimp_item_get_image(settings.hint_layer) == image
                                      ? settings.hint_layer
                                      : -1);
    g_signal_connect(combo, "changed", G_CALLBACK(on_hint_changed), d);
    gimp_table_attach_aligned(GTK_TABLE(table), 0, 3, _("_Hint layer:"), 0.0, 0.5, combo, 2, FALSE);
    gimp_help_set_help_data(combo, _("Paint colour strokes on a layer: each opaque pixel gives its colour to its place"), NULL);

    GtkWidget *chooser = gtk_file_chooser_button_new(_("Select a model"), GTK_FILE_CHOOSER_ACTION_OPEN);
    gchar *def = default_model_path();
    gtk_file_chooser_set_filename(GTK_FILE_CHOOSER(chooser), settings.model[0] ? settings.model : def);
    g_free(def);
    g_signal_connect(chooser, "file-set", G_CALLBACK(on_model_changed), d);
    gimp_table_attach_aligned(GTK_TABLE(table), 0, 4, _("_Model file:"), 0.0, 0.5, chooser, 2, FALSE);

    d->progress = gtk_progress_bar_new();
    gtk_table_attach(GTK_TABLE(table), d->progress, 0, 3, 5, 6, GTK_FILL | GTK_EXPAND, 0, 0, 0);
    gtk_widget_show_all(dialog);
    gtk_widget_hide(d->progress);
    schedule_preview(d); /* the first preview, whatever the preview widget signals */
    return dialog;
}

static void reset_dialog(GtkObject **adjs) {
    settings.vividness = DEFAULTS.vividness, settings.saturation = DEFAULTS.saturation;
    settings.resolution = DEFAULTS.resolution;
    gtk_adjustment_set_value(GTK_ADJUSTMENT(adjs[0]), DEFAULTS.vividness);
    gtk_adjustment_set_value(GTK_ADJUSTMENT(adjs[1]), DEFAULTS.saturation);
    gtk_adjustment_set_value(GTK_ADJUSTMENT(adjs[2]), DEFAULTS.resolution);
}

static void on_busy_response(GtkDialog *dialog, gint response, gpointer data) {
    DialogState *d = data;
    (void)dialog, (void)response;
    if (d->cancel) g_atomic_int_set(d->cancel, 1);
}

/* Runs the dialog; on OK colorizes with its progress bar and Cancel live. */
static gint32 run_dialog(gint32 image, gint32 drawable, GError **error) {
    DialogState d = {0};
    GtkObject *adjs[3];
    GtkWidget *dialog = colorize_dialog_new(image, drawable, &d, adjs);
    gint32 layer = -1;
    gboolean done = FALSE;
    while (!done) {
        gint response = gimp_dialog_run(GIMP_DIALOG(dialog));
        if (response == 1) {
            reset_dialog(adjs);
            continue;
        }
        if (response != GTK_RESPONSE_OK) {
            g_set_error(error, g_quark_from_static_string("colorize"), 3, _("Cancelled"));
            break;
        }
        stop_preview(&d);
        d.busy = TRUE; /* no preview may use the model while the worker does */
        gtk_widget_set_sensitive(gtk_widget_get_parent(d.progress), FALSE);
        gtk_widget_set_sensitive(d.preview, FALSE);
        gtk_dialog_set_response_sensitive(GTK_DIALOG(dialog), GTK_RESPONSE_OK, FALSE);
        gtk_dialog_set_response_sensitive(GTK_DIALOG(dialog), 1, FALSE);
        gtk_widget_show(d.progress);
        /* while the work runs, Cancel (or closing the dialog) raises the cancel flag */
        gulong handler = g_signal_connect(dialog, "response", G_CALLBACK(on_busy_response), &d);
        layer = colorize(image, drawable, &settings, GTK_PROGRESS_BAR(d.progress), &d.cancel, error);
        g_signal_handler_disconnect(dialog, handler);
        done = TRUE;
    }
    stop_preview(&d);
    gtk_widget_destroy(dialog);
    return layer;
}

/* ------------------------------------------------------------------ run */

static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn_vals,
                GimpParam **return_vals) {
    static GimpParam values[2];
    (void)name;
    init_i18n();
    gegl_init(NULL, NULL);
    /* GEGL's tile cache in this process: our reads and writes stream in strips */
    g_object_set(gegl_config(), "tile-cache-size", (guint64)32 << 20, NULL);
    nn_set_threads(0);
    if (g_getenv("COLORIZE_VERBOSE")) {
        /* babl_init (inside gegl_init) benchmarks its lookup tables on
         * buffers of up to 256 MB and frees them: every GEGL plug-in pays
         * that before it touches an image. Restart the peak from here
         * (Linux ≥ 4.0), so the colorization's own peak can be reported. */
        start_rss_mb = status_mb("VmRSS:");
        startup_peak_mb = status_mb("VmHWM:");
        FILE *f = fopen("/proc/self/clear_refs", "w");
        if (f) fputs("5", f), fclose(f);
    }
    *nreturn_vals = 1;
    *return_vals = values;
    values[0].type = GIMP_PDB_STATUS;
    values[0].data.d_status = GIMP_PDB_SUCCESS;
    GimpRunMode mode = param[0].data.d_int32;
    gint32 image = param[1].data.d_image, drawable = param[2].data.d_drawable;
    GError *error = NULL;
    gint32 layer = -1;
    settings = DEFAULTS;
    switch (mode) {
    case GIMP_RUN_INTERACTIVE:
        gimp_get_data(PLUG_IN_PROC, &settings);
        settings.model[sizeof settings.model - 1] = 0;
        if (!check_drawable(image, drawable, &error)) break;
        layer = run_dialog(image, drawable, &error);
        break;
    case GIMP_RUN_NONINTERACTIVE:
        if (nparams != 8) {
            g_set_error(&error, g_quark_from_static_string("colorize"), 5,
                        "plug-in-nn-colorize takes 8 arguments, not %d", nparams);
            break;
        }
        g_strlcpy(settings.model, param[3].data.d_string ? param[3].data.d_string : "", sizeof settings.model);
        settings.vividness = param[4].data.d_float;
        settings.saturation = param[5].data.d_float;
        settings.resolution = param[6].data.d_int32;
        settings.hint_layer = param[7].data.d_drawable;
        layer = colorize(image, drawable, &settings, NULL, NULL, &error);
        break;
    case GIMP_RUN_WITH_LAST_VALS:
        gimp_get_data(PLUG_IN_PROC, &settings);
        settings.model[sizeof settings.model - 1] = 0;
        if (settings.hint_layer != -1 && !gimp_item_is_valid(settings.hint_layer)) settings.hint_layer = -1;
        layer = colorize(image, drawable, &settings, NULL, NULL, &error);
        break;
    default:
        g_set_error(&error, g_quark_from_static_string("colorize"), 5, "unknown run mode %d", mode);
    }
    if (layer != -1) {
        if (mode == GIMP_RUN_INTERACTIVE) gimp_set_data(PLUG_IN_PROC, &settings, sizeof settings);
        if (mode != GIMP_RUN_NONINTERACTIVE) gimp_displays_flush();
        *nreturn_vals = 2;
        values[1].type = GIMP_PDB_LAYER;
        values[1].data.d_layer = layer;
    } else {
        gboolean cancelled = error && error->code == 3;
        gboolean calling = error && error->code == 5;
        values[0].data.d_status = cancelled ? GIMP_PDB_CANCEL : calling ? GIMP_PDB_CALLING_ERROR : GIMP_PDB_EXECUTION_ERROR;
        if (error && !cancelled) {
            *nreturn_vals = 2;
            values[1].type = GIMP_PDB_STRING;
            values[1].data.d_string = error->message;
            if (mode == GIMP_RUN_INTERACTIVE) g_message("%s", error->message);
        }
    }
    /* error->message stays alive: GIMP reads the return values after run() */
    nn_colorizer_free(loaded_model);
    loaded_model = NULL;
}
