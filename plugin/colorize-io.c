/* colorize-io.c — the final render's talk with GIMP: argument checks,
 * reading the drawable (and the hint layer) through GEGL in strips, and
 * writing the new layer in one undo group. libgimp is not thread-safe and
 * a GimpTileBackend buffer fetches its tiles over the plug-in's wire, so
 * all of this runs on the main thread; only the network and the result's
 * composition, on plain memory, run in worker threads while the main thread
 * keeps the dialog alive or hands the strips to GIMP.
 * The image is changed only after the network has succeeded, so Cancel or
 * an error leaves it as it was. */
#include <stdio.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "colorize.h"

/* Progress over the whole run: reading 0–10 %, the network 10–70 %,
 * writing the result 70–100 %. */
#define PROGRESS_READ 0.1
#define PROGRESS_NETWORK 0.6
#define POLL_US 30000

gboolean colorize_check_drawable(gint32 image, gint32 drawable, GError **error) {
    if (!gimp_image_is_valid(image) || !gimp_item_is_valid(drawable) || !gimp_item_is_layer(drawable) ||
        gimp_item_get_image(drawable) != image) {
        g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_ARGUMENT, _("The drawable must be a layer of the image"));
        return FALSE;
    }
    if (gimp_item_is_group(drawable)) {
        g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_ARGUMENT,
                    _("A layer group cannot be colorized: choose one of its layers"));
        return FALSE;
    }
    if (gimp_drawable_is_indexed(drawable)) {
        g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_ARGUMENT,
                    _("Indexed images cannot be colorized: convert the image to RGB or Grayscale first (Image ▸ Mode)"));
        return FALSE;
    }
    return TRUE;
}

gboolean colorize_check_arguments(gint32 image, gint32 drawable, const ColorizeSettings *s, const GArray *points,
                                  GError **error) {
    if (!colorize_check_drawable(image, drawable, error)) return FALSE;
    const gchar *bad = NULL;
    gchar *msg = NULL;
    if (!(s->vividness >= 0.0 && s->vividness <= NN_MAX_VIVIDNESS))
        msg = g_strdup_printf(_("Vividness %g is outside 0 to %d"), s->vividness, NN_MAX_VIVIDNESS);
    else if (!(s->saturation >= 0.0 && s->saturation <= NN_MAX_SATURATION))
        msg = g_strdup_printf(_("Saturation %g is outside 0 to %d"), s->saturation, NN_MAX_SATURATION);
    else if (s->resolution < NN_MIN_RESOLUTION || s->resolution > NN_MAX_RESOLUTION)
        msg = g_strdup_printf(_("Working resolution %d is outside %d to %d"), s->resolution, NN_MIN_RESOLUTION,
                              NN_MAX_RESOLUTION);
    else if (s->hint_layer != -1 && gimp_item_is_valid(s->hint_layer) && gimp_item_is_group(s->hint_layer))
        bad = _("A layer group cannot be the hint layer: choose one of its layers");
    else if (s->hint_layer != -1 && gimp_item_is_valid(s->hint_layer) && colorize_is_result(s->hint_layer))
        bad = _("An earlier colorized result cannot be the hint layer: every one of its pixels would be a hint");
    else if (s->hint_layer != -1 && !colorize_hint_layer_ok(image, drawable, s->hint_layer))
        bad = _("The hint layer must be another layer of the same image (not a channel or a mask), or -1 for none");
    else if (points && points->len > MAX_POINTS)
        msg = g_strdup_printf(_("More than %d point hints"), MAX_POINTS);
    else if (s->reference != -1 && !(gimp_item_is_valid(s->reference) && gimp_item_is_layer(s->reference) &&
                                     !gimp_item_is_group(s->reference)))
        bad = _("The reference must be a layer of an open image, or -1 for none");
    else if (colorize_has_reference(s) && !(s->reference_weight > 0.0 && s->reference_weight <= NN_MAX_REFERENCE_WEIGHT))
        msg = g_strdup_printf(_("Reference weight %g is outside 0 to %g"), s->reference_weight, NN_MAX_REFERENCE_WEIGHT);
    else if (!(s->hint_reach >= 0.0 && s->hint_reach <= NN_MAX_HINT_REACH))
        msg = g_strdup_printf(_("Hint reach %g is outside 0 to %g"), s->hint_reach, NN_MAX_HINT_REACH);
    if (bad || msg) g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_ARGUMENT, "%s", bad ? bad : msg);
    g_free(msg);
    return !bad && !msg;
}

gint32 colorize_reference_for(gint32 saved) {
    return saved != -1 && gimp_item_is_valid(saved) && gimp_item_is_layer(saved) && !gimp_item_is_group(saved) ? saved
                                                                                                              : -1;
}

/* The drawable's opaque pixels, at most NN_REFERENCE_SIDE on the long side,
 * counted into r. */
static nn_status count_reference_pixels(gint32 drawable, nn_reference *r, nn_error *err) {
    const gint w = gimp_drawable_width(drawable), h = gimp_drawable_height(drawable), side = MAX(w, h);
    const gdouble scale = side > NN_REFERENCE_SIDE ? (gdouble)NN_REFERENCE_SIDE / side : 1.0;
    const GeglRectangle rect = {0, 0, MAX(1, (gint)(w * scale)), MAX(1, (gint)(h * scale))};
    guchar *px = g_malloc(4 * (gsize)rect.width * rect.height);
    GeglBuffer *buffer = gimp_drawable_get_buffer(drawable);
    gegl_buffer_get(buffer, &rect, scale, babl_format("R'G'B'A u8"), px, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_CLAMP);
    g_object_unref(buffer);
    nn_status st = nn_reference_add_image(r, px, 4, rect.width, rect.height, 4 * (size_t)rect.width, err);
    g_free(px);
    return st;
}

/* A GIMP palette file's colours counted into r, as colorize-train
 * colorize --palette counts them; FALSE with *why (g_free). */
static gboolean count_palette(const gchar *text, gsize len, nn_reference *r, gchar **why) {
    nn_error err = {0};
    if (nn_palette_add_to_reference(r, text, len, &err) == NN_OK) return TRUE;
    *why = g_strdup(err.msg);
    return FALSE;
}

/* Whether the file at path starts as a GIMP palette does. */
static gboolean file_is_palette(const gchar *path) {
    gchar head[sizeof NN_PALETTE_HEADER] = "";
    FILE *f = g_fopen(path, "rb");
    const size_t n = f ? fread(head, 1, sizeof head - 1, f) : 0;
    if (f) fclose(f);
    return nn_palette_is(head, n);
}

/* The reference file's colours counted into r: a GIMP palette's, or a
 * photo's opaque pixels, shrunk to NN_REFERENCE_SIDE on its long side (as
 * colorize-train colorize --reference shrinks it); FALSE with *why when
 * it cannot be read (g_free). */
static gboolean count_file_pixels(const gchar *path, nn_reference *r, gchar **why) {
    GError *e = NULL;
    nn_error err = {0};
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) { /* a FIFO or device would block or never end */
        *why = g_strdup(_("it is not a file that can be read"));
        return FALSE;
    }
    if (file_is_palette(path)) {
        gchar *text = NULL;
        gsize len = 0;
        GStatBuf st;
        if (g_stat(path, &st) == 0 && st.st_size > NN_PALETTE_MAX_BYTES) {
            *why = g_strdup_printf(_("it is too large for a palette (%lld bytes)"), (long long)st.st_size);
            return FALSE;
        }
        gboolean ok = g_file_get_contents(path, &text, &len, &e) && count_palette(text, len, r, why);
        if (e) *why = g_strdup(e->message);
        g_free(text);
        g_clear_error(&e);
        return ok;
    }
    GdkPixbuf *pb = gdk_pixbuf_new_from_file(path, &e);
    const gint w = pb ? gdk_pixbuf_get_width(pb) : 0, h = pb ? gdk_pixbuf_get_height(pb) : 0, side = MAX(w, h);
    GdkPixbuf *small = pb && side > NN_REFERENCE_SIDE
                           ? gdk_pixbuf_scale_simple(pb, MAX(1, w * NN_REFERENCE_SIDE / side),
                                                     MAX(1, h * NN_REFERENCE_SIDE / side), GDK_INTERP_BILINEAR)
                           : pb ? g_object_ref(pb) : NULL;
    gboolean ok = small && nn_reference_add_image(r, gdk_pixbuf_read_pixels(small), gdk_pixbuf_get_n_channels(small),
                                                  gdk_pixbuf_get_width(small), gdk_pixbuf_get_height(small),
                                                  (size_t)gdk_pixbuf_get_rowstride(small), &err) == NN_OK;
    if (!ok) *why = g_strdup(e ? e->message : err.status ? err.msg : _("out of memory"));
    if (small) g_object_unref(small);
    if (pb) g_object_unref(pb);
    g_clear_error(&e);
    return ok;
}

/* What a reference is made from, to know when it must be made again: the
 * drawable, or the file with its size and time of change, and the model
 * (g_free). */
static gchar *reference_source(const ColorizeSettings *s) {
    if (s->reference != -1) return g_strdup_printf("%d %s", s->reference, colorize_model_path(s));
    GStatBuf st;
    if (g_stat(s->reference_file, &st) != 0) st.st_size = 0, st.st_mtime = 0;
    return g_strdup_printf("file %s %lld %lld %s", s->reference_file, (long long)st.st_size, (long long)st.st_mtime,
                           colorize_model_path(s));
}

/* The reference's name for the user: the layer's, or the file's base name (g_free). */
static gchar *reference_name(const ColorizeSettings *s) {
    if (s->reference == -1) return g_filename_display_basename(s->reference_file);
    return colorize_reference_for(s->reference) != -1 ? gimp_item_get_name(s->reference) : g_strdup("?");
}

gboolean colorize_reference_prepare(const ColorizeSettings *s, GError **error) {
    if (!colorize_has_reference(s)) {
        colorize_render_set_reference(NULL, NULL);
        return TRUE;
    }
    gchar *made_from = reference_source(s);
    if (g_strcmp0(made_from, colorize_render_reference_made_from()) == 0) {
        g_free(made_from);
        return TRUE;
    }
    nn_colorizer *model = colorize_model_get(colorize_model_path(s), error);
    nn_reference *r = NULL;
    nn_error err = {0};
    gchar *why = NULL;
    gboolean ok = model && nn_reference_create(&r, model, &err) == NN_OK;
    if (ok && s->reference != -1)
        ok = colorize_reference_for(s->reference) != -1 && count_reference_pixels(s->reference, r, &err) == NN_OK;
    else if (ok)
        ok = count_file_pixels(s->reference_file, r, &why);
    if (ok && nn_reference_finish(r, &err) != NN_OK) ok = FALSE;
    if (ok) {
        colorize_render_set_reference(r, made_from);
    } else if (model) {
        gchar *name = reference_name(s);
        g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_ARGUMENT, _("The reference “%s” cannot serve: %s"), name,
                    why ? why : err.status ? err.msg : _("it is no longer open"));
        g_free(name);
        nn_reference_free(r);
        colorize_render_set_reference(NULL, NULL);
    }
    g_free(made_from), g_free(why);
    return ok;
}

/* The run's state; everything here is touched by the main thread only,
 * except `engine` and `model` during the worker's predict. */
typedef struct {
    gint32 image, drawable;
    const ColorizeSettings *s;
    nn_colorizer *model;
    nn_engine *engine;
    gdouble to_engine; /* 0: the engine is fed here; else it is the preview's, at this scale of the drawable */
    gint w, h;
    gfloat *L; /* (h, w) the source's L, kept for writing */
    ColorizeUi *ui;
    volatile gint network_permille, network_done;
    gboolean network_ok;
    GError *network_error;
} FinalRun;

static void show_progress(FinalRun *r, gdouble fraction) {
    gimp_progress_update(fraction);
    if (!r->ui) return;
    gtk_progress_bar_set_fraction(r->ui->bar, fraction);
    while (gtk_events_pending()) gtk_main_iteration();
}

static gboolean cancelled(FinalRun *r, GError **error) {
    if (!r->ui || !g_atomic_int_get(&r->ui->cancel)) return FALSE;
    g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_CANCELLED, _("Cancelled"));
    return TRUE;
}

/* Pass 1 (main thread): the source (and hint layer) strip by strip into
 * the engine; L is kept (and is all that is read for a ready engine). */
static gboolean read_source(FinalRun *r, GError **error) {
    const gint w = r->w, h = r->h;
    const gboolean gray = gimp_drawable_is_gray(r->drawable);
    const gsize strip = (gsize)w * STRIP_ROWS;
    GeglBuffer *src = gimp_drawable_get_buffer(r->drawable), *hint = NULL;
    gint ox, oy, hx = 0, hy = 0;
    gimp_drawable_offsets(r->drawable, &ox, &oy);
    if (r->s->hint_layer != -1 && !r->to_engine) {
        hint = gimp_drawable_get_buffer(r->s->hint_layer);
        gimp_drawable_offsets(r->s->hint_layer, &hx, &hy);
    }
    gfloat *px = g_try_malloc(sizeof(gfloat) * 4 * strip), *hpx = hint ? g_try_malloc(sizeof(gfloat) * 4 * strip) : NULL;
    r->L = g_try_malloc(sizeof(gfloat) * w * (gsize)h);
    gboolean ok = px && r->L && (!hint || hpx);
    if (!ok) g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_MEMORY, _("Not enough memory for a %d×%d image"), w, h);
    for (gint y0 = 0; ok && y0 < h; y0 += STRIP_ROWS) {
        const gint rows = MIN(STRIP_ROWS, h - y0);
        GeglRectangle rect = {0, y0, w, rows};
        gegl_buffer_get(src, &rect, 1.0, babl_format(gray ? "Y' float" : "R'G'B'A float"), px, GEGL_AUTO_ROWSTRIDE,
                        GEGL_ABYSS_NONE);
        if (hint) {
            GeglRectangle hrect = {ox - hx, oy - hy + y0, w, rows};
            gegl_buffer_get(hint, &hrect, 1.0, babl_format("R'G'B'A float"), hpx, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
        }
        ok = colorize_render_feed(r->to_engine ? NULL : r->engine, w, y0, rows, px, gray ? 1 : 4, hpx,
                                  r->L + (gsize)y0 * w, error) &&
             !cancelled(r, error);
        show_progress(r, PROGRESS_READ * (y0 + rows) / h);
    }
    g_object_unref(src);
    if (hint) g_object_unref(hint);
    g_free(px), g_free(hpx);
    return ok;
}

static void on_network_progress(double fraction, void *user) {
    FinalRun *r = user;
    g_atomic_int_set(&r->network_permille, (gint)(fraction * 1000));
    if (!r->ui) gimp_progress_update(PROGRESS_READ + PROGRESS_NETWORK * fraction); /* batch: this is the main thread */
}

static gpointer network_worker(gpointer data) {
    FinalRun *r = data;
    r->network_ok = colorize_render_predict(r->engine, r->model, on_network_progress, r, &r->ui->cancel,
                                            &r->network_error);
    g_atomic_int_set(&r->network_done, 1);
    return NULL;
}

/* The network: in batch mode directly; with the dialog in a worker thread
 * on plain memory while this thread shows progress and runs the dialog. */
static gboolean run_network(FinalRun *r, GError **error) {
    if (!r->ui) return colorize_render_predict(r->engine, r->model, on_network_progress, r, NULL, error);
    GThread *t = g_thread_new("colorize-network", network_worker, r);
    while (!g_atomic_int_get(&r->network_done)) {
        show_progress(r, PROGRESS_READ + PROGRESS_NETWORK * g_atomic_int_get(&r->network_permille) / 1000.0);
        g_usleep(POLL_US);
    }
    g_thread_join(t);
    if (!r->network_ok) g_propagate_error(error, r->network_error);
    return r->network_ok;
}

/* Where the new layer goes: above the source, and above the hint layer
 * too when they share a parent (else the hint layer is hidden), so that
 * the strokes never cover the result. */
static void insert_result(FinalRun *r, gint32 layer) {
    gint32 parent = gimp_item_get_parent(r->drawable);
    gint position = gimp_image_get_item_position(r->image, r->drawable);
    gint32 hint = r->s->hint_layer;
    if (hint != -1 && gimp_item_get_parent(hint) == parent)
        position = MIN(position, gimp_image_get_item_position(r->image, hint));
    else if (hint != -1)
        gimp_item_set_visible(hint, FALSE);
    gimp_image_insert_layer(r->image, layer, parent, position);
}

/* One strip of the result: its source alpha and selection (read by the
 * main thread), and its pixels, composed on plain memory by a worker while
 * the main thread hands the previous strip to GIMP. */
typedef struct {
    const nn_engine *engine;
    gdouble to_engine;     /* see FinalRun */
    const gfloat *L;       /* the whole image's */
    gfloat *in, *mask;     /* (rows, w) R'G'B'A float and Y float, or NULL */
    gpointer out;          /* (rows, w) in `format` */
    ColorizeRowFormat format;
    gint w, y0, rows;
    GThread *thread;
    gboolean ok;
    GError *error;
} ResultStrip;

static gpointer compose_strip(gpointer data) {
    ResultStrip *st = data;
    st->ok = colorize_render_rows(st->engine, st->to_engine, st->w, st->y0, st->rows, st->L + (gsize)st->y0 * st->w,
                                  st->in, st->mask, st->out, st->format, &st->error);
    return NULL;
}

/* Main thread: the strip's inputs from GIMP, then its composition started
 * in a worker. */
static void start_strip(ResultStrip *st, gint y0, gint h, GeglBuffer *src, GeglBuffer *sel, gint offx, gint offy) {
    st->y0 = y0, st->rows = MIN(STRIP_ROWS, h - y0);
    GeglRectangle rect = {0, y0, st->w, st->rows}, srect = {offx, offy + y0, st->w, st->rows};
    if (src) gegl_buffer_get(src, &rect, 1.0, babl_format("R'G'B'A float"), st->in, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    if (sel) gegl_buffer_get(sel, &srect, 1.0, babl_format("Y float"), st->mask, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    st->thread = g_thread_new("colorize-compose", compose_strip, st);
}

/* Where the new layer's pixels come from: its own 8-bit format, composed on
 * the library's threads, or R'G'B'A float for GEGL to convert. */
static ColorizeRowFormat result_format(gint32 layer, const Babl **format) {
    const Babl *f = gimp_drawable_get_format(layer);
    const ColorizeRowFormat rows = f == babl_format("R'G'B' u8")    ? COLORIZE_ROWS_RGB_U8
                                   : f == babl_format("R'G'B'A u8") ? COLORIZE_ROWS_RGBA_U8
                                                                    : COLORIZE_ROWS_RGBA_FLOAT;
    *format = rows == COLORIZE_ROWS_RGBA_FLOAT ? babl_format("R'G'B'A float") : f;
    return rows;
}

/* Pass 2 (main thread): the only part that changes the image, in one undo
 * group; reads the source again only for its alpha or the selection. The
 * strips alternate between two buffers: strip k + 1 is composed while
 * strip k goes to GIMP. */
static gint32 write_result(FinalRun *r, const GArray *store_points, GError **error) {
    const gint w = r->w, h = r->h;
    gimp_image_undo_group_start(r->image);
    if (store_points) colorize_points_save(r->image, store_points);
    if (gimp_image_base_type(r->image) == GIMP_GRAY) gimp_image_convert_rgb(r->image);
    gint32 layer = gimp_layer_new_from_drawable(r->drawable, r->image);
    gimp_item_set_name(layer, _("Colorized"));
    colorize_mark_result(layer);
    insert_result(r, layer);
    GeglBuffer *dst = gimp_drawable_get_buffer(layer), *src = NULL, *sel = NULL;
    gint offx, offy;
    gimp_drawable_offsets(r->drawable, &offx, &offy);
    if (!gimp_selection_is_empty(r->image)) sel = gimp_drawable_get_buffer(gimp_image_get_selection(r->image));
    if (sel || gimp_drawable_has_alpha(r->drawable)) src = gimp_drawable_get_buffer(r->drawable);
    const Babl *out_format;
    const ColorizeRowFormat format = result_format(layer, &out_format);
    ResultStrip strips[2];
    for (gint i = 0; i < 2; i++) {
        strips[i] = (ResultStrip){.engine = r->engine, .to_engine = r->to_engine, .L = r->L, .format = format, .w = w};
        strips[i].in = src ? g_malloc(sizeof(gfloat) * 4 * (gsize)w * STRIP_ROWS) : NULL;
        strips[i].out = g_malloc(sizeof(gfloat) * 4 * (gsize)w * STRIP_ROWS); /* large enough for every format */
        strips[i].mask = sel ? g_malloc(sizeof(gfloat) * (gsize)w * STRIP_ROWS) : NULL;
    }
    GError *failure = NULL; /* a strip that could not be composed (memory): the layer is taken away again */
    start_strip(&strips[0], 0, h, src, sel, offx, offy);
    for (gint k = 0; k * STRIP_ROWS < h; k++) {
        ResultStrip *st = &strips[k % 2];
        g_thread_join(st->thread);
        if (!st->ok) {
            failure = st->error, st->error = NULL;
            break;
        }
        if ((k + 1) * STRIP_ROWS < h) start_strip(&strips[(k + 1) % 2], (k + 1) * STRIP_ROWS, h, src, sel, offx, offy);
        GeglRectangle rect = {0, st->y0, w, st->rows};
        gegl_buffer_set(dst, &rect, 0, out_format, st->out, GEGL_AUTO_ROWSTRIDE);
        gegl_buffer_flush(dst); /* its tiles to GIMP while the next strip is composed */
        show_progress(r, PROGRESS_READ + PROGRESS_NETWORK +
                             (1.0 - PROGRESS_READ - PROGRESS_NETWORK) * (st->y0 + st->rows) / h);
    }
    gegl_buffer_flush(dst);
    g_object_unref(dst);
    if (src) g_object_unref(src);
    if (sel) g_object_unref(sel);
    for (gint i = 0; i < 2; i++) g_free(strips[i].in), g_free(strips[i].out), g_free(strips[i].mask);
    gimp_drawable_update(layer, 0, 0, w, h);
    if (failure) {
        gimp_image_remove_layer(r->image, layer);
        g_propagate_error(error, failure);
        layer = -1;
    }
    gimp_image_undo_group_end(r->image);
    return layer;
}

/* Memory figures for tests/bench/bench_plugin.sh (COLORIZE_VERBOSE): the
 * resident set's peak from /proc/self/status, in MB. */
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

static gdouble start_rss_mb, startup_peak_mb;

void colorize_note_startup_memory(void) {
    /* babl_init (inside gegl_init) benchmarks its lookup tables on buffers
     * of up to 256 MB and frees them: every GEGL plug-in pays that before
     * it touches an image. Restart the peak from here (Linux >= 4.0), so
     * the colorization's own peak can be reported. */
    start_rss_mb = status_mb("VmRSS:");
    startup_peak_mb = status_mb("VmHWM:");
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) fputs("5", f), fclose(f);
}

/* Reads, runs the network unless the engine is ready, and writes. */
static gint32 run_final(FinalRun *r, const GArray *store_points, GError **error) {
    gint64 t0 = g_get_monotonic_time();
    gimp_progress_init(_("Colorizing"));
    gint32 layer = -1;
    if (read_source(r, error) && (r->to_engine || run_network(r, error))) {
        gint64 t1 = g_get_monotonic_time();
        layer = write_result(r, store_points, error);
        if (g_getenv("COLORIZE_VERBOSE"))
            g_printerr("colorize-neural: %dx%d at resolution %d%s: %.3f s (read and network %.3f s, write %.3f s), "
                       "peak RSS %.1f MB (%.1f MB at the start of run; babl's start-up peak %.1f MB)\n",
                       r->w, r->h, r->s->resolution, r->to_engine ? " from the preview's pass" : "",
                       (g_get_monotonic_time() - t0) / 1e6, (t1 - t0) / 1e6, (g_get_monotonic_time() - t1) / 1e6,
                       status_mb("VmHWM:"), start_rss_mb, startup_peak_mb);
    }
    g_free(r->L);
    gimp_progress_end();
    return layer;
}

gint32 colorize_apply(gint32 image, gint32 drawable, const ColorizeSettings *s, const GArray *points,
                      gboolean store_points, ColorizeUi *ui, GError **error) {
    if (!colorize_check_arguments(image, drawable, s, points, error)) return -1;
    FinalRun r = {.image = image, .drawable = drawable, .s = s, .ui = ui};
    r.model = colorize_model_get(colorize_model_path(s), error);
    if (!r.model || !colorize_reference_prepare(s, error)) return -1;
    r.w = gimp_drawable_width(drawable), r.h = gimp_drawable_height(drawable);
    gint ox, oy;
    gimp_drawable_offsets(drawable, &ox, &oy);
    r.engine = colorize_render_begin(s, r.w, r.h, points ? (const PointHint *)points->data : NULL,
                                     points ? (gint)points->len : 0, ox, oy, 1.0, error);
    if (!r.engine) return -1;
    gint32 layer = run_final(&r, store_points ? points : NULL, error);
    nn_engine_free(r.engine);
    return layer;
}

gint32 colorize_apply_ready(gint32 image, gint32 drawable, const ColorizeSettings *s, const GArray *points,
                            nn_engine *ready, ColorizeUi *ui, GError **error) {
    if (!colorize_check_arguments(image, drawable, s, points, error)) return -1;
    FinalRun r = {.image = image, .drawable = drawable, .s = s, .ui = ui, .engine = ready};
    r.w = gimp_drawable_width(drawable), r.h = gimp_drawable_height(drawable);
    gint ww, wh;
    nn_engine_get_working_size(ready, &ww, &wh);
    r.to_engine = (gdouble)ww / r.w;
    nn_engine_set_saturation(ready, (float)s->saturation);
    return run_final(&r, points, error);
}
