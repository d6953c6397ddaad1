/* colorize-preview.c — the dialog's preview. It tells the truth: the
 * network sees the whole image at the working resolution, as OK will, in a
 * worker thread (the main thread fetches the pixels: libgimp is not
 * thread-safe); the visible crop, at any zoom, is then composed from that
 * pass on the main thread, so panning, zooming and saturation need no new
 * pass, and the last coloured preview stays up while a new pass runs.
 * Point hints are drawn over it when "Show hints" is on. */

#include "colorize-preview.h"

#include "colorize-outline.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>


#define PREVIEW_FAST_RESOLUTION 128 /* the immediate pass; the full one follows when the controls rest */
#define PREVIEW_FAST_DELAY_MS 60    /* a control that moves (a slider, a key held): its changes merge */
#define PREVIEW_REFINE_DELAY_MS 400
#define PREVIEW_CARRY_MAX_SIDE 256 /* points are carried without the network (on the main thread) at working sizes
                                      this small */
#define PREVIEW_PULSE_MS 100 /* the working indicator's step */
#define PREVIEW_MIN_SIZE 400
#define PREVIEW_MAX_SIDE 1024 /* the picture's long side at most (GIMP's sub-thumbnails stay small) */
#define MARKER_RADIUS 5
#define OUTLINE_SPECK_SHARE 400 /* parts of the hints' outline smaller than 1/400 of the picture are specks */
#define OUTLINE_MIN_SPECK 16

struct PreviewJob {
    ColorizeSettings s;
    nn_colorizer *model;
    gfloat *src, *hint; /* (h, w) R'G'B'A float: the image and the hint layer at working size */
    gint w, h;
    PointHint *points;
    gint n_points;
    gboolean *waited; /* (n_points) which points waited for their colour when the pass started */
    gdouble ox, oy, scale; /* image pixels -> job pixels */
    gint suggest_for;      /* the point whose suggestions are wanted, or -1 */
    nn_engine *engine;
    gfloat suggestions[2 * SUGGESTIONS];
    gint n_suggestions;
    GError *error;
    gboolean ok;
    volatile gint cancel, finished;
    GThread *thread;
    GSource *wake; /* made ready by the worker when it finishes */
    gint64 started; /* µs, for COLORIZE_VERBOSE */
    gint64 asked;   /* µs: the oldest change this pass serves (a click, a key), or 0 */
    const nn_engine *guess_from; /* the last pass shown, at the same size: new points' colours come from it */
    gboolean refine; /* the full pass (else the quick one) */
    gchar *made;     /* a full pass: pass_digest of what it was made from */
};

/* A digest of everything a pass's result depends on but saturation (which
 * the composition applies): the settings, the model, what the reference was
 * made from, the points with their colours, and the pixels of the drawable
 * and the hint layer at working size. */
static gchar *pass_digest(const ColorizeSettings *s, const PointHint *points, gint n_points, const gfloat *src,
                          const gfloat *hint, gint w, gint h) {
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    const gdouble vividness = s->vividness, hint_reach = s->hint_reach;
    const gint numbers[4] = {s->resolution, s->hint_layer, n_points, s->reference};
    const gdouble reference_weight = colorize_has_reference(s) ? s->reference_weight : 0.0;
    g_checksum_update(sum, (const guchar *)&vividness, sizeof vividness);
    g_checksum_update(sum, (const guchar *)&hint_reach, sizeof hint_reach);
    g_checksum_update(sum, (const guchar *)&reference_weight, sizeof reference_weight);
    g_checksum_update(sum, (const guchar *)numbers, sizeof numbers);
    g_checksum_update(sum, (const guchar *)s->model, (gssize)strlen(s->model) + 1); /* "": the installed one */
    const gchar *reference = colorize_has_reference(s) ? colorize_render_reference_made_from() : NULL;
    if (reference) g_checksum_update(sum, (const guchar *)reference, -1); /* a file's path, size and time */
    for (gint i = 0; i < n_points; i++) {
        const gdouble xy[2] = {points[i].at.x, points[i].at.y};
        g_checksum_update(sum, (const guchar *)xy, sizeof xy);
        g_checksum_update(sum, points[i].at.rgb, 3);
    }
    const gsize bytes = sizeof(gfloat) * 4 * (gsize)w * h;
    g_checksum_update(sum, (const guchar *)src, (gssize)bytes);
    if (hint) g_checksum_update(sum, (const guchar *)hint, (gssize)bytes);
    gchar *digest = g_strdup(g_checksum_get_string(sum));
    g_checksum_free(sum);
    return digest;
}

/* ------------------------------------------------------ the preview widget */

typedef GimpZoomPreview ColorizePreview;
typedef GimpZoomPreviewClass ColorizePreviewClass;
static GType colorize_preview_get_type(void);
G_DEFINE_TYPE(ColorizePreview, colorize_preview, GIMP_TYPE_ZOOM_PREVIEW)

static void colorize_preview_draw(GimpPreview *preview) {
    ColorizeDialog *d = g_object_get_data(G_OBJECT(preview), "colorize-dialog");
    /* never a gray flash once there is colour; before, the source with the points' markers */
    if (d) colorize_preview_redraw(d);
    else GIMP_PREVIEW_CLASS(colorize_preview_parent_class)->draw(preview);
}

static void colorize_preview_class_init(ColorizePreviewClass *klass) {
    GIMP_PREVIEW_CLASS(klass)->draw = colorize_preview_draw;
}

static void colorize_preview_init(ColorizePreview *preview) { (void)preview; }

/* -------------------------------------------------------------- geometry */

/* The visible crop in drawable pixels, as GimpZoomPreview fetches it: its
 * source area starts at the untransformed preview origin and spans
 * (int)(extent / zoom) drawable pixels (the extents are the selection's
 * bounds, or the whole drawable), scaled onto the preview's pw × ph, so
 * preview pixel (i, j) covers [x0 + i·sx, x0 + (i + 1)·sx) × [y0 + j·sy, …). */
void colorize_preview_extent(const ColorizeDialog *d, gint *w, gint *h) {
    gint x, y;
    if (!gimp_drawable_mask_intersect(d->drawable, &x, &y, w, h))
        *w = gimp_drawable_width(d->drawable), *h = gimp_drawable_height(d->drawable);
}

void colorize_preview_crop(ColorizeDialog *d, CropMap *map) {
    GimpPreview *preview = GIMP_PREVIEW(d->preview);
    gint ew, eh, pw, ph, x0, y0, ox, oy;
    colorize_preview_extent(d, &ew, &eh);
    gimp_preview_get_size(preview, &pw, &ph);
    gimp_preview_untransform(preview, 0, 0, &x0, &y0);
    gimp_drawable_offsets(d->drawable, &ox, &oy);
    const gdouble zoom = gimp_zoom_preview_get_factor(GIMP_ZOOM_PREVIEW(d->preview));
    map->x0 = x0, map->y0 = y0;
    map->sx = (gdouble)MAX(1, (gint)(ew / zoom)) / MAX(pw, 1);
    map->sy = (gdouble)MAX(1, (gint)(eh / zoom)) / MAX(ph, 1);
    map->ox = ox, map->oy = oy;
}

void colorize_preview_to_image(const CropMap *map, gdouble px, gdouble py, gdouble *x, gdouble *y) {
    *x = map->x0 + px * map->sx + map->ox, *y = map->y0 + py * map->sy + map->oy;
}

void colorize_preview_from_image(const CropMap *map, gdouble x, gdouble y, gdouble *px, gdouble *py) {
    *px = (x - map->ox - map->x0) / map->sx, *py = (y - map->oy - map->y0) / map->sy;
}

/* --------------------------------------------------------------- drawing */

static void put_pixel(guchar *rgba, gint w, gint h, gint x, gint y, const guchar *c) {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    guchar *p = rgba + 4 * ((gsize)y * w + x);
    p[0] = c[0], p[1] = c[1], p[2] = c[2], p[3] = 255;
}

/* A disc of the point's colour in a black and white ring; the selected
 * point's ring is wider. */
static void draw_markers(ColorizeDialog *d, const CropMap *map, guchar *rgba, gint w, gint h) {
    static const guchar black[3] = {0, 0, 0}, white[3] = {255, 255, 255};
    for (guint i = 0; i < d->points->len; i++) {
        const PointHint *p = &g_array_index(d->points, PointHint, i);
        gdouble cx, cy;
        colorize_preview_from_image(map, p->at.x, p->at.y, &cx, &cy);
        const gint r = MARKER_RADIUS + ((gint)i == d->selected ? 2 : 0);
        for (gint y = -r - 2; y <= r + 2; y++)
            for (gint x = -r - 2; x <= r + 2; x++) {
                gdouble dist = sqrt(x * x + y * y);
                const guchar *c = dist <= r - 1 ? p->at.rgb : dist <= r ? white : dist <= r + 1.5 ? black : NULL;
                if (c) put_pixel(rgba, w, h, (gint)lround(cx) + x, (gint)lround(cy) + y, c);
            }
    }
}

/* What the preview shows: the last pass, or the points carried over it. */
static nn_engine *shown_engine(const ColorizeDialog *d) { return d->carried ? d->carried : d->engine; }

/* The outline of what each hint colours: a dashed black and white line
 * around each hint's region where it holds by 1/2 or more (the engine's
 * pixels under each preview pixel, at `to_engine` of the drawable's
 * scale), also where two hints' regions meet, specks left out. */
static void draw_hint_regions(ColorizeDialog *d, const CropMap *map, gdouble to_engine, guchar *rgba, gint w, gint h) {
    static const guchar black[3] = {0, 0, 0}, white[3] = {255, 255, 255};
    gint *region = g_new(gint, (gsize)w * h);
    for (gint y = 0; y < h; y++)
        for (gint x = 0; x < w; x++)
            region[(gsize)y * w + x] = nn_engine_hint_region_at(shown_engine(d), (map->x0 + (x + 0.5) * map->sx) * to_engine,
                                                                (map->y0 + (y + 0.5) * map->sy) * to_engine);
    colorize_outline_clean(region, w, h, MAX(OUTLINE_MIN_SPECK, w * h / OUTLINE_SPECK_SHARE));
    for (gint y = 0; y < h; y++)
        for (gint x = 0; x < w; x++)
            if (colorize_outline_at(region, w, h, x, y)) put_pixel(rgba, w, h, x, y, ((x + y) / 4) % 2 ? white : black);
    g_free(region);
}

/* The source as it is, RGBA (the "before" of the Preview toggle). */
static void source_to_rgba(const guchar *src, gint bpp, gint n, guchar *rgba) {
    for (gint i = 0; i < n; i++) {
        const guchar *p = src + (gsize)i * bpp;
        guchar *q = rgba + (gsize)i * 4;
        q[0] = p[0], q[1] = bpp >= 3 ? p[1] : p[0], q[2] = bpp >= 3 ? p[2] : p[0];
        q[3] = bpp == 2 || bpp == 4 ? p[bpp - 1] : 255;
    }
}

/* The visible crop as last composed, with the hints' outline but not the
 * markers: what a point dragged over it (or selected) is drawn on, with no
 * composition. */
struct PreviewCanvas {
    guchar *rgba; /* (h, w) RGBA */
    gint w, h;
    CropMap map;
    gdouble saturation;
    gboolean after, outlines; /* the colorized crop (else the source); with the outline */
};

static gboolean canvas_fits(const PreviewCanvas *c, const CropMap *map, gint w, gint h, gdouble saturation,
                            gboolean after, gboolean outlines) {
    const gboolean same_crop = c && c->map.x0 == map->x0 && c->map.y0 == map->y0 && c->map.sx == map->sx &&
                               c->map.sy == map->sy && c->map.ox == map->ox && c->map.oy == map->oy;
    return same_crop && c->w == w && c->h == h && c->saturation == saturation && c->after == after &&
           c->outlines == outlines;
}

static void canvas_forget(ColorizeDialog *d) {
    if (d->canvas) g_free(d->canvas->rgba);
    g_clear_pointer(&d->canvas, g_free);
}

/* Composes the crop (from the source and the last pass) into the canvas. */
static gboolean compose_canvas(ColorizeDialog *d, const CropMap *map, gboolean after, gboolean outlines) {
    gint w, h, bpp;
    guchar *src = gimp_zoom_preview_get_source(GIMP_ZOOM_PREVIEW(d->preview), &w, &h, &bpp);
    if (!src) return FALSE;
    const gdouble to_engine = (gdouble)d->engine_w / gimp_drawable_width(d->drawable);
    guchar *rgba = g_malloc((gsize)w * h * 4);
    if (d->engine) nn_engine_set_saturation(shown_engine(d), (float)d->s->saturation);
    if (!after) source_to_rgba(src, bpp, w * h, rgba);
    const gboolean ok = !after || colorize_render_region(shown_engine(d), map->x0 * to_engine, map->y0 * to_engine,
                                                         map->sx * to_engine, map->sy * to_engine, w, h, src, bpp,
                                                         rgba, NULL);
    g_free(src);
    if (!ok) {
        g_free(rgba);
        return FALSE;
    }
    if (after && outlines) draw_hint_regions(d, map, to_engine, rgba, w, h);
    canvas_forget(d);
    d->canvas = g_new0(PreviewCanvas, 1);
    *d->canvas = (PreviewCanvas){rgba, w, h, *map, d->s->saturation, after, outlines};
    return TRUE;
}

void colorize_preview_redraw(ColorizeDialog *d) {
    CropMap map;
    colorize_preview_crop(d, &map);
    gint pw, ph;
    gimp_preview_get_size(GIMP_PREVIEW(d->preview), &pw, &ph);
    /* unchecked, the source, to compare; before the first pass, the source with the markers at once */
    const gboolean after = d->engine && gimp_preview_get_update(GIMP_PREVIEW(d->preview));
    const gboolean hints = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(d->show_hints));
    if (!d->engine && g_getenv("COLORIZE_VERBOSE"))
        g_printerr("colorize-neural: the source drawn with %u point markers, before any pass\n", d->points->len);
    if (!canvas_fits(d->canvas, &map, pw, ph, d->s->saturation, after, hints) &&
        !compose_canvas(d, &map, after, hints))
        return;
    const PreviewCanvas *c = d->canvas;
    guchar *rgba = g_memdup2(c->rgba, (gsize)c->w * c->h * 4);
    if (hints) draw_markers(d, &map, rgba, c->w, c->h);
    gimp_preview_area_draw(GIMP_PREVIEW_AREA(gimp_preview_get_area(GIMP_PREVIEW(d->preview))), 0, 0, c->w, c->h,
                           GIMP_RGBA_IMAGE, rgba, c->w * 4);
    g_free(rgba);
}

/* ------------------------------------------------------------ the passes */

void colorize_preview_colour_at(ColorizeDialog *d, gdouble x, gdouble y, guchar rgb[3]) {
    rgb[0] = rgb[1] = rgb[2] = 128;
    if (!d->engine) return;
    gint ox, oy;
    gimp_drawable_offsets(d->drawable, &ox, &oy);
    const gdouble to_engine = (gdouble)d->engine_w / gimp_drawable_width(d->drawable);
    const gdouble ex = (x - ox) * to_engine, ey = (y - oy) * to_engine;
    if (ex < 0 || ey < 0 || ex >= d->engine_w || ey >= d->engine_h) return;
    const nn_engine *e = shown_engine(d);
    gfloat L = nn_engine_lightness_at(e, ex, ey), ab[2];
    nn_error err = {0};
    if (nn_engine_ab_region(e, ex - 0.5, ey - 0.5, 1.0, 1.0, 1, 1, &L, &ab[0], &ab[1], &err) == NN_OK)
        colorize_render_ab_to_rgb(e, ex, ey, ab, rgb);
}

/* Whether a point waiting for its colour is one the pass shown was made
 * with (placed and dragged at once): guessed from that pass, it would find
 * mostly its own old colour, so the guess runs the network without it. */
static gboolean guess_sees_itself(const ColorizeDialog *d, const PreviewJob *j) {
    for (gint i = 0; i < j->n_points && i < (gint)d->engine_points->len; i++)
        if (j->points[i].guess) return TRUE;
    return FALSE;
}

/* New points take the network's colour at their place: from the last pass
 * shown (a lookup), or, before there is one, from a pass
 * run for it. */
static gboolean guess_new_points(PreviewJob *j) {
    if (j->guess_from)
        return colorize_render_guess_from(j->guess_from, j->w, j->h, j->points, j->n_points, j->ox, j->oy,
                                          j->scale, &j->error);
    return colorize_render_guess_colours(&j->s, j->w, j->h, j->src, j->hint, j->points, j->n_points, j->ox, j->oy,
                                         j->scale, j->model, &j->cancel, &j->error);
}

static gpointer preview_worker(gpointer data) {
    PreviewJob *j = data;
    if (guess_new_points(j))
        j->engine = colorize_render_begin(&j->s, j->w, j->h, j->points, j->n_points, j->ox, j->oy, j->scale, &j->error);
    if (j->refine)
        j->made = pass_digest(&j->s, j->points, j->n_points, j->src, j->hint, j->w, j->h);
    gboolean ok = j->engine && colorize_render_feed(j->engine, j->w, 0, j->h, j->src, 4, j->hint, NULL, &j->error) &&
                  colorize_render_predict(j->engine, j->model, NULL, NULL, &j->cancel, &j->error);
    if (ok && j->suggest_for >= 0) {
        const PointHint *p = &j->points[j->suggest_for];
        gfloat prob[SUGGESTIONS];
        nn_error err = {0};
        gdouble x = (p->at.x - j->ox) * j->scale, y = (p->at.y - j->oy) * j->scale;
        if (x >= 0 && y >= 0 && x < j->w && y < j->h)
            nn_engine_suggest(j->engine, j->model, x, y, SUGGESTIONS, j->suggestions, prob, &j->n_suggestions, &err);
    }
    j->ok = ok;
    g_atomic_int_set(&j->finished, 1);
    g_source_set_ready_time(j->wake, 0); /* thread-safe: the main loop takes the pass at once */
    return NULL;
}

static void free_job(PreviewJob *j) {
    if (!j) return;
    nn_engine_free(j->engine);
    g_free(j->src), g_free(j->hint), g_free(j->points), g_free(j->waited), g_free(j->made);
    g_clear_error(&j->error);
    if (j->wake) g_source_unref(j->wake);
    g_free(j);
}

static void start_pass(ColorizeDialog *d, gboolean refine);

static gboolean pulse(gpointer data) {
    gtk_progress_bar_pulse(GTK_PROGRESS_BAR(((ColorizeDialog *)data)->progress));
    return G_SOURCE_CONTINUE;
}

/* The "working" indicator: the progress bar pulses, with a word, while a pass runs. */
static void show_working(ColorizeDialog *d, gboolean working) {
    if (working != (d->pulse_timer != 0) && g_getenv("COLORIZE_VERBOSE"))
        g_printerr("colorize-neural: the working indicator %s\n", working ? "pulses" : "rests");
    if (working && !d->pulse_timer) {
        gtk_progress_bar_set_text(GTK_PROGRESS_BAR(d->progress), _("Computing the preview…"));
        d->pulse_timer = g_timeout_add(PREVIEW_PULSE_MS, pulse, d);
    } else if (!working && d->pulse_timer) {
        g_source_remove(d->pulse_timer), d->pulse_timer = 0;
        gtk_progress_bar_set_text(GTK_PROGRESS_BAR(d->progress), " "); /* a text keeps the bar's height: no relayout */
        gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(d->progress), 0.0);
    }
}

/* A source that runs its callback when made ready (g_source_set_ready_time
 * from the worker), then waits again. */
static gboolean wake_dispatch(GSource *source, GSourceFunc callback, gpointer data) {
    g_source_set_ready_time(source, -1);
    return callback(data);
}

static GSourceFuncs wake_funcs = {NULL, NULL, wake_dispatch, NULL, NULL, NULL};

/* The colours a finished pass guessed, for points still waiting for one at
 * the same place (a point dragged meanwhile is guessed again) that already
 * waited when it started (a pass started before is no guess). */
static void take_guesses(ColorizeDialog *d, const PreviewJob *j) {
    for (gint i = 0; i < j->n_points && i < (gint)d->points->len; i++) {
        PointHint *p = &g_array_index(d->points, PointHint, i);
        if (!p->guess || !j->waited[i] || p->at.x != j->points[i].at.x || p->at.y != j->points[i].at.y) continue;
        memcpy(p->at.rgb, j->points[i].at.rgb, 3);
        p->guess = FALSE;
        if (g_getenv("COLORIZE_VERBOSE"))
            g_printerr("colorize-neural: point %d at (%.1f, %.1f) takes the network's colour #%02x%02x%02x\n", i + 1,
                       p->at.x, p->at.y, p->at.rgb[0], p->at.rgb[1], p->at.rgb[2]);
    }
}

/* With COLORIZE_VERBOSE: when a pass is on screen, from its start and from
 * the change (a click, a key) it serves. */
static void log_shown(const PreviewJob *j) {
    if (!g_getenv("COLORIZE_VERBOSE")) return;
    const gint64 now = g_get_monotonic_time();
    gchar *since = j->asked ? g_strdup_printf(", %.1f ms after the change it shows", (now - j->asked) / 1e3) : g_strdup("");
    g_printerr("colorize-neural: preview pass (%s) at resolution %d shown after %.1f ms%s\n", j->refine ? "full" : "quick",
               j->s.resolution, (now - j->started) / 1e3, since);
    g_free(since);
}

/* Whether the points differ from those the last pass was made with (a
 * point dragged or recoloured since it started). */
static gboolean points_moved_since(const ColorizeDialog *d) {
    if (!d->engine || d->engine_points->len != d->points->len) return FALSE; /* added or removed: the network's */
    for (guint i = 0; i < d->points->len; i++) {
        const PointHint *p = &g_array_index(d->points, PointHint, i), *q = &g_array_index(d->engine_points, PointHint, i);
        if (p->at.x != q->at.x || p->at.y != q->at.y || memcmp(p->at.rgb, q->at.rgb, 3) != 0) return TRUE;
    }
    return FALSE;
}

/* Main thread: the points as they are now carried over the last pass's
 * network colour and shown at once, with no network (a few ms), until the
 * network's pass for them is in; asked: the change it shows (µs), or 0.
 * It is fed what that pass was fed. FALSE when not carried (no pass yet,
 * a working size above PREVIEW_CARRY_MAX_SIDE, or an error). */
static gboolean carry_points(ColorizeDialog *d, gint64 asked) {
    if (!d->engine || !d->engine_src || MAX(d->engine_w, d->engine_h) > PREVIEW_CARRY_MAX_SIDE) return FALSE;
    const gint64 t0 = g_get_monotonic_time();
    gint ox, oy;
    gimp_drawable_offsets(d->drawable, &ox, &oy);
    const gdouble scale = (gdouble)d->engine_w / gimp_drawable_width(d->drawable);
    GError *error = NULL;
    nn_engine *e = colorize_render_begin(&d->engine_s, d->engine_w, d->engine_h, (const PointHint *)d->points->data,
                                         (gint)d->points->len, ox, oy, scale, &error);
    const gboolean ok = e &&
                        colorize_render_feed(e, d->engine_w, 0, d->engine_h, d->engine_src, 4, d->engine_hint, NULL,
                                             &error) &&
                        colorize_render_carry(e, d->engine, &error);
    if (!ok) { /* the network's pass, already asked for, shows them */
        if (g_getenv("COLORIZE_VERBOSE")) g_printerr("colorize-neural: points not carried: %s\n", error->message);
        g_clear_error(&error);
        nn_engine_free(e);
        return FALSE;
    }
    nn_engine_free(d->carried);
    d->carried = e;
    canvas_forget(d);
    colorize_preview_redraw(d);
    if (g_getenv("COLORIZE_VERBOSE")) {
        const gint64 now = g_get_monotonic_time();
        gchar *since = asked ? g_strdup_printf(", %.1f ms after the change it shows", (now - asked) / 1e3) : g_strdup("");
        g_printerr("colorize-neural: preview points carried over the last pass, shown after %.1f ms%s\n",
                   (now - t0) / 1e3, since);
        g_free(since);
    }
    return TRUE;
}

/* Whether the pass on screen is the full one at the working resolution
 * (a quick pass would show less than is there: the whole preview would
 * flicker between the two). */
static gboolean full_pass_shown(const ColorizeDialog *d) {
    return d->engine && d->engine_s.resolution == d->s->resolution;
}

gboolean colorize_preview_place(ColorizeDialog *d) {
    if (d->busy || d->job || !d->engine || g_strcmp0(colorize_model_path(&d->engine_s), colorize_model_path(d->s)) != 0)
        return FALSE;
    const gint64 asked = g_get_monotonic_time();
    GError *error = NULL;
    const guint n = d->points->len;
    gboolean *waiting = g_new0(gboolean, MAX(n, 1)), carried = FALSE;
    for (guint i = 0; i < n; i++) waiting[i] = g_array_index(d->points, PointHint, i).guess;
    gint ox, oy;
    gimp_drawable_offsets(d->drawable, &ox, &oy);
    const gdouble scale = (gdouble)d->engine_w / gimp_drawable_width(d->drawable);
    if (colorize_render_guess_from(d->engine, d->engine_w, d->engine_h, (PointHint *)d->points->data, (gint)n, ox, oy,
                                   scale, &error)) {
        for (guint i = 0; i < n && g_getenv("COLORIZE_VERBOSE"); i++) {
            const PointHint *p = &g_array_index(d->points, PointHint, i);
            if (waiting[i])
                g_printerr("colorize-neural: point %u at (%.1f, %.1f) takes the network's colour #%02x%02x%02x\n", i + 1,
                           p->at.x, p->at.y, p->at.rgb[0], p->at.rgb[1], p->at.rgb[2]);
        }
        carried = carry_points(d, asked);
    }
    g_clear_error(&error); /* the network's pass, asked for next, guesses and reports */
    g_free(waiting);
    return carried && full_pass_shown(d);
}

gboolean colorize_preview_suggest_now(ColorizeDialog *d) {
    const PointHint *p = d->selected >= 0 && d->selected < (gint)d->points->len
                             ? &g_array_index(d->points, PointHint, d->selected) : NULL;
    if (!p || d->busy || d->job || d->carried || !full_pass_shown(d)) return FALSE;
    nn_colorizer *model = colorize_model_get(colorize_model_path(d->s), NULL);
    gint ox, oy;
    gimp_drawable_offsets(d->drawable, &ox, &oy);
    const gdouble scale = (gdouble)d->engine_w / gimp_drawable_width(d->drawable);
    const gdouble x = (p->at.x - ox) * scale, y = (p->at.y - oy) * scale;
    gfloat prob[SUGGESTIONS];
    nn_error err = {0};
    if (!model || x < 0 || y < 0 || x >= d->engine_w || y >= d->engine_h ||
        nn_engine_suggest(d->engine, model, x, y, SUGGESTIONS, d->suggestions, prob, &d->n_suggestions, &err) != NN_OK)
        return FALSE;
    d->suggestions_for = d->selected;
    if (g_getenv("COLORIZE_VERBOSE"))
        g_printerr("colorize-neural: suggestions for point %d from the pass shown, no new pass\n", d->selected + 1);
    if (d->pass_shown) d->pass_shown(d);
    return TRUE;
}

/* Main thread, woken by the worker: takes a finished pass, then starts the
 * request that waited. */
static gboolean poll_pass(gpointer data) {
    ColorizeDialog *d = data;
    PreviewJob *j = d->job;
    if (j && !g_atomic_int_get(&j->finished)) return G_SOURCE_CONTINUE;
    d->poll = 0;
    if (j) {
        g_thread_join(j->thread);
        d->job = NULL;
        if (j->ok && !g_atomic_int_get(&j->cancel)) {
            nn_engine_free(d->engine);
            canvas_forget(d);
            d->engine = j->engine, d->engine_w = j->w, d->engine_h = j->h, d->engine_s = j->s;
            j->engine = NULL;
            g_array_set_size(d->engine_points, 0);
            g_array_append_vals(d->engine_points, j->points, (guint)j->n_points);
            g_free(d->engine_src), g_free(d->engine_hint);
            d->engine_src = d->engine_hint = NULL;
            if (MAX(j->w, j->h) <= PREVIEW_CARRY_MAX_SIDE) /* kept for carry_points */
                d->engine_src = j->src, d->engine_hint = j->hint, j->src = j->hint = NULL;
            g_free(d->engine_made);
            d->engine_made = j->made, j->made = NULL;
            take_guesses(d, j);
            if (j->suggest_for >= 0 || !d->dragging) { /* while a point moves, its swatches stay as they were */
                memcpy(d->suggestions, j->suggestions, sizeof d->suggestions);
                d->n_suggestions = j->n_suggestions, d->suggestions_for = j->suggest_for;
            }
            if (!d->sticky_message) gtk_label_set_text(GTK_LABEL(d->message), "");
            g_clear_pointer(&d->carried, nn_engine_free);
            if (points_moved_since(d)) carry_points(d, 0); /* moved or recoloured meanwhile: shown where they are */
            else colorize_preview_redraw(d);
            log_shown(j);
            if (d->dragging && d->drag_moved) d->drag_passes++;
            if (d->pass_shown) d->pass_shown(d);
        } else if (j->error && !g_error_matches(j->error, COLORIZE_ERROR, COLORIZE_ERROR_CANCELLED)) {
            gtk_label_set_text(GTK_LABEL(d->message), j->error->message);
        } else if (j->asked && (!d->asked_at || j->asked < d->asked_at)) {
            d->asked_at = j->asked; /* cancelled: the pass that replaces it serves its change too */
        }
        free_job(j);
    }
    const ColorizePass next = colorize_passes_next(&d->waiting);
    if (next != COLORIZE_PASS_NONE) start_pass(d, next == COLORIZE_PASS_FULL);
    show_working(d, d->job != NULL);
    return G_SOURCE_REMOVE;
}

/* Main thread: the drawable (or a hint layer, at its offset) at the job's size. */
static gfloat *fetch_scaled(gint32 drawable, gint32 relative_to, gint w, gint h, gdouble scale) {
    gint ox, oy, dx, dy;
    gimp_drawable_offsets(relative_to, &ox, &oy);
    gimp_drawable_offsets(drawable, &dx, &dy);
    GeglBuffer *buffer = gimp_drawable_get_buffer(drawable);
    GeglRectangle rect = {(gint)lround((ox - dx) * scale), (gint)lround((oy - dy) * scale), w, h};
    gfloat *px = g_malloc(sizeof(gfloat) * 4 * (gsize)w * h);
    gegl_buffer_get(buffer, &rect, scale, babl_format("R'G'B'A float"), px, GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
    g_object_unref(buffer);
    return px;
}

/* The drawable (and the hint layer) at the working size, fetched from GIMP
 * only when the size or the hint layer changes. */
static void cache_scaled(ColorizeDialog *d, gint w, gint h, gdouble scale) {
    if (!d->scaled || d->scaled_w != w || d->scaled_h != h) {
        g_free(d->scaled), g_free(d->scaled_hint);
        d->scaled = fetch_scaled(d->drawable, d->drawable, w, h, scale);
        d->scaled_w = w, d->scaled_h = h;
        d->scaled_hint = NULL, d->scaled_hint_id = -1;
    }
    gint32 hint = d->s->hint_layer != -1 && colorize_hint_layer_ok(d->image, d->drawable, d->s->hint_layer)
                      ? d->s->hint_layer
                      : -1;
    if (hint != d->scaled_hint_id) {
        g_free(d->scaled_hint);
        d->scaled_hint = hint != -1 ? fetch_scaled(hint, d->drawable, w, h, scale) : NULL;
        d->scaled_hint_id = hint;
    }
}

static void start_pass(ColorizeDialog *d, gboolean refine) {
    if (d->busy) return;
    if (d->job) {
        /* the full pass waits for a running quick one, which is shown first (it takes a fraction of a second,
         * and a high working resolution can take many); anything newer replaces the running pass */
        if (colorize_passes_wait(&d->waiting, d->job->refine ? COLORIZE_PASS_FULL : COLORIZE_PASS_QUICK,
                                 refine ? COLORIZE_PASS_FULL : COLORIZE_PASS_QUICK))
            g_atomic_int_set(&d->job->cancel, 1);
        return;
    }
    GError *error = NULL;
    nn_colorizer *model = colorize_model_get(colorize_model_path(d->s), &error);
    if (!model) {
        gtk_label_set_text(GTK_LABEL(d->message), error->message);
        g_clear_error(&error);
        return;
    }
    const gint W = gimp_drawable_width(d->drawable), H = gimp_drawable_height(d->drawable);
    PreviewJob *j = g_new0(PreviewJob, 1);
    j->s = *d->s, j->model = model, j->refine = refine;
    nn_engine_working_size(W, H, d->s->resolution, &j->w, &j->h);
    j->scale = (gdouble)j->w / W;
    if (!refine) j->s.resolution = MIN(j->s.resolution, PREVIEW_FAST_RESOLUTION);
    const gint64 t0 = j->started = g_get_monotonic_time();
    j->asked = d->asked_at, d->asked_at = 0;
    if (refine) d->scaled_hint_id = -2; /* strokes may have been painted meanwhile: read the hint layer again */
    cache_scaled(d, j->w, j->h, j->scale);
    j->src = g_memdup2(d->scaled, sizeof(gfloat) * 4 * (gsize)j->w * j->h);
    if (d->scaled_hint) j->hint = g_memdup2(d->scaled_hint, sizeof(gfloat) * 4 * (gsize)j->w * j->h);
    if (g_getenv("COLORIZE_VERBOSE"))
        g_printerr("colorize-neural: preview pass (%s) at %dx%d: pixels ready in %.1f ms\n", refine ? "full" : "quick",
                   j->w, j->h, (g_get_monotonic_time() - t0) / 1e3);
    gint ox, oy;
    gimp_drawable_offsets(d->drawable, &ox, &oy);
    j->ox = ox, j->oy = oy;
    j->n_points = (gint)d->points->len;
    j->points = g_memdup2(d->points->data, sizeof(PointHint) * d->points->len);
    j->waited = g_new0(gboolean, MAX(j->n_points, 1));
    for (gint i = 0; i < j->n_points; i++) j->waited[i] = j->points[i].guess;
    j->suggest_for = d->dragging && d->drag_moved ? -1 : d->selected; /* a moving point's come when it rests */
    if (d->engine && d->engine_w == j->w && d->engine_h == j->h && !guess_sees_itself(d, j))
        j->guess_from = d->engine; /* freed only after joining */
    d->job = j;
    if (!d->poll) {
        GSource *wake = g_source_new(&wake_funcs, sizeof(GSource));
        g_source_set_callback(wake, poll_pass, d, NULL);
        d->poll = g_source_attach(wake, NULL);
        g_source_unref(wake); /* the context holds it */
    }
    j->wake = g_source_ref(g_main_context_find_source_by_id(NULL, d->poll));
    j->thread = g_thread_new("colorize-preview", preview_worker, j);
    show_working(d, TRUE);
}

static gboolean fast_pass(gpointer data) {
    ColorizeDialog *d = data;
    d->fast_timer = 0;
    start_pass(d, FALSE);
    return G_SOURCE_REMOVE;
}

static gboolean refine_pass(gpointer data) {
    ColorizeDialog *d = data;
    d->refine_timer = 0;
    start_pass(d, TRUE);
    return G_SOURCE_REMOVE;
}

/* A change to show: noted for the latency log, and the full pass put off
 * until the controls rest. */
static void note_change(ColorizeDialog *d) {
    if (!d->asked_at) d->asked_at = g_get_monotonic_time();
    if (d->refine_timer) g_source_remove(d->refine_timer);
    d->refine_timer = g_timeout_add(PREVIEW_REFINE_DELAY_MS, refine_pass, d);
}

void colorize_preview_schedule(ColorizeDialog *d) {
    if (d->busy) return;
    note_change(d);
    if (!d->fast_timer) d->fast_timer = g_timeout_add(PREVIEW_FAST_DELAY_MS, fast_pass, d);
}

void colorize_preview_schedule_now(ColorizeDialog *d) {
    if (d->busy) return;
    note_change(d);
    if (d->fast_timer) g_source_remove(d->fast_timer), d->fast_timer = 0;
    start_pass(d, FALSE);
}

void colorize_preview_schedule_full_now(ColorizeDialog *d) {
    if (d->busy) return;
    note_change(d);
    if (d->fast_timer) g_source_remove(d->fast_timer), d->fast_timer = 0;
    if (d->refine_timer) g_source_remove(d->refine_timer), d->refine_timer = 0;
    start_pass(d, TRUE);
}

void colorize_preview_follow(ColorizeDialog *d) {
    if (d->busy) return;
    const gint64 asked = g_get_monotonic_time();
    const gboolean carried = carry_points(d, asked);
    if (carried && d->dragging && d->drag_moved) d->drag_passes++, d->drag_carried++;
    note_change(d);
    if (carried && full_pass_shown(d)) return; /* the full pass follows when the change rests */
    if (d->job && !d->job->refine) colorize_passes_wait_behind(&d->waiting);
    else if (d->job || !d->fast_timer) start_pass(d, FALSE); /* a running full pass is stale: cancelled */
}

nn_engine *colorize_preview_ready_engine(ColorizeDialog *d) {
    if (!d->engine || !d->engine_made) return NULL;
    const gint W = gimp_drawable_width(d->drawable), H = gimp_drawable_height(d->drawable);
    gint w, h;
    nn_engine_working_size(W, H, d->s->resolution, &w, &h);
    if (w != d->engine_w || h != d->engine_h) return NULL;
    const gdouble scale = (gdouble)w / W;
    /* the pixels as they are now: the drawable or the hint layer may have been painted on meanwhile */
    gfloat *src = fetch_scaled(d->drawable, d->drawable, w, h, scale), *hint = NULL;
    if (d->s->hint_layer != -1 && colorize_hint_layer_ok(d->image, d->drawable, d->s->hint_layer))
        hint = fetch_scaled(d->s->hint_layer, d->drawable, w, h, scale);
    gchar *now = pass_digest(d->s, (const PointHint *)d->points->data, (gint)d->points->len, src, hint, w, h);
    const gboolean same = strcmp(now, d->engine_made) == 0;
    if (g_getenv("COLORIZE_VERBOSE"))
        g_printerr("colorize-neural: OK %s\n", same ? "uses the preview's full pass"
                                                   : "runs the network again: the preview's last pass differs");
    g_free(src), g_free(hint), g_free(now);
    return same ? d->engine : NULL;
}

gboolean colorize_preview_guess_now(ColorizeDialog *d, GError **error) {
    gboolean waiting = FALSE;
    for (guint i = 0; i < d->points->len; i++) waiting |= g_array_index(d->points, PointHint, i).guess;
    if (!waiting) return TRUE;
    nn_colorizer *model = colorize_model_get(colorize_model_path(d->s), error);
    if (!model) return FALSE;
    const gint W = gimp_drawable_width(d->drawable), H = gimp_drawable_height(d->drawable);
    gint w, h, ox, oy;
    nn_engine_working_size(W, H, d->s->resolution, &w, &h);
    cache_scaled(d, w, h, (gdouble)w / W);
    gimp_drawable_offsets(d->drawable, &ox, &oy);
    return colorize_render_guess_colours(d->s, w, h, d->scaled, d->scaled_hint, (PointHint *)d->points->data,
                                         (gint)d->points->len, ox, oy, (gdouble)w / W, model, NULL, error);
}

void colorize_preview_stop(ColorizeDialog *d) {
    if (d->fast_timer) g_source_remove(d->fast_timer), d->fast_timer = 0;
    if (d->refine_timer) g_source_remove(d->refine_timer), d->refine_timer = 0;
    if (d->poll) g_source_remove(d->poll), d->poll = 0;
    if (d->job) {
        g_atomic_int_set(&d->job->cancel, 1);
        g_thread_join(d->job->thread);
        free_job(d->job);
        d->job = NULL;
    }
    colorize_passes_clear(&d->waiting);
    show_working(d, FALSE);
}

void colorize_preview_forget_engine(ColorizeDialog *d) {
    canvas_forget(d);
    nn_engine_free(d->engine);
    d->engine = NULL;
    g_clear_pointer(&d->carried, nn_engine_free);
    g_clear_pointer(&d->engine_src, g_free);
    g_clear_pointer(&d->engine_hint, g_free);
    g_free(d->engine_made);
    d->engine_made = NULL;
}

void colorize_preview_free(ColorizeDialog *d) {
    colorize_preview_stop(d);
    colorize_preview_forget_engine(d);
    g_free(d->scaled), g_free(d->scaled_hint);
    d->scaled = d->scaled_hint = NULL;
}

/* Zoom or pan: the crop is composed from the last pass at once (in draw);
 * the first pass is started here if GIMP had no pixels before. */
static void on_invalidated(GimpPreview *preview, gpointer data) {
    ColorizeDialog *d = data;
    (void)preview;
    if (!d->engine && !d->job) colorize_preview_schedule(d);
}

/* The picture grows and shrinks with the dialog, as GIMP's own filter
 * previews do: GimpZoomPreview keeps it within its bounds (512 px on the
 * long side), so the bounds follow the area, keeping the drawable's aspect,
 * up to PREVIEW_MAX_SIDE and never past 1:1; the zoom preview then sizes
 * the picture to them on the allocation this queues. */
static void on_area_allocate(GtkWidget *area, GtkAllocation *a, gpointer data) {
    ColorizeDialog *d = data;
    GimpPreview *p = GIMP_PREVIEW(d->preview);
    gint ew, eh;
    colorize_preview_extent(d, &ew, &eh);
    gdouble scale = MIN((gdouble)a->width / ew, (gdouble)a->height / eh);
    scale = MIN(scale, MIN(1.0, (gdouble)PREVIEW_MAX_SIDE / MAX(ew, eh)));
    const gint fw = MAX(1, (gint)(ew * scale)), fh = MAX(1, (gint)(eh * scale));
    if (fw != p->xmax - p->xmin || fh != p->ymax - p->ymin) {
        gimp_preview_set_bounds(p, 0, 0, fw, fh);
        gtk_widget_queue_resize(area);
    }
    colorize_preview_log_layout(d);
}

void colorize_preview_log_layout(const ColorizeDialog *d) {
    GtkWidget *area = gimp_preview_get_area(GIMP_PREVIEW(d->preview));
    GimpPreview *p = GIMP_PREVIEW(d->preview);
    GtkAllocation a;
    gtk_widget_get_allocation(area, &a);
    gint x = 0, y = 0; /* where the area lies in the dialog's window: known once it is realized */
    if (g_getenv("COLORIZE_VERBOSE") && gtk_widget_translate_coordinates(area, gtk_widget_get_toplevel(area), 0, 0, &x, &y))
        g_printerr("colorize-neural: preview area %dx%d at (%d, %d), picture %dx%d\n", a.width, a.height, x, y,
                   p->width, p->height);
}

void colorize_preview_event_to_picture(ColorizeDialog *d, gdouble *x, gdouble *y) {
    GtkWidget *area = gimp_preview_get_area(GIMP_PREVIEW(d->preview));
    GtkAllocation a;
    gtk_widget_get_allocation(area, &a);
    /* GimpPreviewArea centres a picture smaller than itself */
    *x -= (a.width - GIMP_PREVIEW_AREA(area)->width) / 2;
    *y -= (a.height - GIMP_PREVIEW_AREA(area)->height) / 2;
}

GtkWidget *colorize_preview_new(ColorizeDialog *d) {
    /* GimpPreview takes its size (the long side) from a style property */
    gchar *rc = g_strdup_printf("style \"colorize-preview-style\" { GimpPreview::size = %d }\n"
                                "widget \"*.colorize-preview\" style \"colorize-preview-style\"\n",
                                PREVIEW_MIN_SIZE);
    gtk_rc_parse_string(rc);
    g_free(rc);
    GtkWidget *preview = g_object_new(colorize_preview_get_type(), "drawable-id", d->drawable, NULL);
    gtk_widget_set_name(preview, "colorize-preview");
    g_object_set_data(G_OBJECT(preview), "colorize-dialog", d);
    GtkWidget *area = gimp_preview_get_area(GIMP_PREVIEW(preview));
    /* the left button places and drags point hints: the scrolled preview's
     * own drag-to-pan handler gives way (the scroll bars still pan) */
    g_signal_handlers_disconnect_matched(area, G_SIGNAL_MATCH_ID | G_SIGNAL_MATCH_DATA,
                                         g_signal_lookup("event", GTK_TYPE_WIDGET), 0, NULL, NULL, preview);
    g_signal_connect(preview, "invalidated", G_CALLBACK(on_invalidated), d);
    g_signal_connect(area, "size-allocate", G_CALLBACK(on_area_allocate), d);
    g_signal_connect_swapped(preview, "notify::update", G_CALLBACK(colorize_preview_redraw), d);
    d->preview = preview;
    return preview;
}
