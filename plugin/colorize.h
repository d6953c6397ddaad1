/* colorize.h — what the files of the plug-in "Filters ▸ Enhance ▸
 * Colorize (Neural)…" share: names, settings, point hints, errors and the
 * functions each file offers. One file per concern, as GIMP's own
 * plug-ins/lighting/: colorize-main.c (query/run, the PDB), colorize-render.c
 * (the shared render, no libgimp), colorize-io.c (GEGL reading and writing,
 * the undo group, the final render), colorize-hints.c (hint layers and
 * point hints), colorize-preview.c and colorize-dialog.c. */
#ifndef COLORIZE_H
#define COLORIZE_H

#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

#include "nn.h"

#define PLUG_IN_PROC "plug-in-nn-colorize"
#define PLUG_IN_PROC_POINTS "plug-in-nn-colorize-points"
#define PLUG_IN_PROC_REFERENCE "plug-in-nn-colorize-reference"
#define PLUG_IN_BINARY "colorize-neural"
#define PLUG_IN_ROLE "gimp-colorize-neural"
#define MODEL_FILE "colorize-cifar10.weights"
#define STRIP_ROWS 128  /* rows read, composed and written at a time */
#define HELP_FILE "colorize-neural.html"
#define POINTS_PARASITE "colorize-neural-points"
#define RESULT_PARASITE "colorize-neural-result"
#define MAX_POINTS NN_MAX_POINT_HINTS
#define SUGGESTIONS 5
#define USED_COLOURS 3 /* swatches of colours given to other points */

typedef enum {
    COLORIZE_ERROR_MEMORY,
    COLORIZE_ERROR_CANCELLED,
    COLORIZE_ERROR_ENGINE,
    COLORIZE_ERROR_ARGUMENT, /* a calling error: bad PDB arguments */
    COLORIZE_ERROR_MODEL,
} ColorizeError;

#define COLORIZE_ERROR colorize_error_quark()
GQuark colorize_error_quark(void);

/* Saved with gimp_set_data (Filters ▸ Repeat); point hints live with the
 * image instead (a parasite), since they belong to its pixels. */
typedef struct {
    gchar model[1024]; /* "" = the installed default */
    gdouble vividness;
    gdouble saturation;
    gint resolution;
    gint32 hint_layer; /* -1 = none */
    gint32 reference;  /* a drawable of any image whose colours the result takes; -1 = none */
    gdouble reference_weight;
    gchar reference_file[1024]; /* else a colour photo on disk; "" = none */
    gdouble hint_reach; /* how far a hint's colour travels: the lightness change (L*) of the edges it may cross;
                           0 = only where painted (nn_engine_params.hint_reach) */
} ColorizeSettings;

/* TRUE when the settings name a colour reference: a drawable, else a file. */
gboolean colorize_has_reference(const ColorizeSettings *s);

extern const ColorizeSettings COLORIZE_DEFAULTS;

/* A point hint: the library's point (a position in image pixels and an
 * sRGB colour, as its text form gives it). A point just placed in the
 * dialog takes the network's colour at its place: until the
 * next preview pass has chosen it, `guess` is set and its colour is only
 * shown. */
typedef struct {
    nn_point_text at;
    gboolean guess;
} PointHint;

/* ----------------------------------------------------- colorize-render.c */

/* The model, loaded once per path and kept (NULL on failure, *error set
 * with the file and the problem). */
nn_colorizer *colorize_model_get(const gchar *path, GError **error);
void colorize_model_forget(void);
/* A file the plug-in ships (relative: its path under the plug-in's
 * folder): beside the plug-in where installed, else in the build's data
 * folder (g_free). */
gchar *colorize_data_file(const gchar *plugin_dir, const gchar *relative);
/* The shipped model: colorize_data_file of MODEL_FILE (g_free). */
gchar *colorize_default_model_path(const gchar *plugin_dir);
const gchar *colorize_model_path(const ColorizeSettings *s);
void colorize_set_plugin_dir(const gchar *dir);
const gchar *colorize_plugin_dir(void);

/* The colour reference every engine begun from now on uses when the
 * settings name one (the plug-in's, made by colorize_reference_prepare);
 * it takes r, NULL for none, and frees the one before. Only while no pass
 * runs. `made_from` says what r was made from (drawable and model). */
void colorize_render_set_reference(nn_reference *r, const gchar *made_from);
const gchar *colorize_render_reference_made_from(void);
/* An engine for a w×h image with the settings and the point hints
 * (in the image's pixels, offset by (ox, oy) and scaled by `scale` onto
 * the w×h grid). */
nn_engine *colorize_render_begin(const ColorizeSettings *s, gint w, gint h, const PointHint *points, gint n_points,
                                 gdouble ox, gdouble oy, gdouble scale, GError **error);
/* Feeds rows y0.. of pixels (channels floats each) and optional hint RGBA
 * rows; keeps their L in L_rows (rows × w) when non-NULL. With e NULL,
 * only L_rows is computed. */
gboolean colorize_render_feed(nn_engine *e, gint w, gint y0, gint rows, const gfloat *px, gint channels,
                              const gfloat *hint_rgba, gfloat *L_rows, GError **error);
/* The network (plain memory: safe in a worker thread). */
gboolean colorize_render_predict(nn_engine *e, nn_colorizer *model, nn_progress_fn progress, gpointer user,
                                 const volatile gint *cancel, GError **error);
/* Without the network: the points fed to e carried over the network's
 * colour of `base`, a pass already made at the same size (fast: what a
 * dragged point shows at once). */
gboolean colorize_render_carry(nn_engine *e, const nn_engine *base, GError **error);
/* The sRGB colour of ab at the engine's pixel (x, y), at its lightness
 * there, fitted into the gamut: how a suggested colour looks in place. */
void colorize_render_ab_to_rgb(const nn_engine *e, gdouble x, gdouble y, const gfloat ab[2], guchar rgb[3]);
/* Points whose colour is still to be guessed (inside the w×h pixels the
 * engine `e` was fed, made without them) take the colour `e` gives their
 * place (before saturation): what the preview showed there, so that a
 * click adds a point without changing the colour by itself (the network's
 * most likely bin, the first swatch, is often a plain gray where the
 * preview shows a colour). Their `guess` is then cleared. Only reads `e`:
 * safe in a worker while the main thread draws from it. */
gboolean colorize_render_guess_from(const nn_engine *e, gint w, gint h, PointHint *points, gint n_points, gdouble ox,
                                    gdouble oy, gdouble scale, GError **error);
/* Points whose colour is still to be guessed take the network's colour at
 * their place, as colorize_render_guess_from, predicted from the w×h
 * pixels (R'G'B'A float) with the hint layer and the other points; their
 * `guess` is then cleared. Plain memory: safe in a worker. */
gboolean colorize_render_guess_colours(const ColorizeSettings *s, gint w, gint h, const gfloat *src,
                                       const gfloat *hint_rgba, PointHint *points, gint n_points, gdouble ox,
                                       gdouble oy, gdouble scale, nn_colorizer *model, const volatile gint *cancel,
                                       GError **error);
/* The pixel formats colorize_render_rows writes: babl's "R'G'B'A float",
 * and the 8-bit layers' own "R'G'B' u8" and "R'G'B'A u8" (converted on the
 * library's threads, so GEGL need not convert on the main thread). */
typedef enum { COLORIZE_ROWS_RGBA_FLOAT, COLORIZE_ROWS_RGB_U8, COLORIZE_ROWS_RGBA_U8 } ColorizeRowFormat;
/* Result rows y0..: L with the engine's ab, gamut-fitted; alpha from
 * src_rgba (NULL: opaque); where mask is given, blended with src_rgba.
 * to_engine 0: the engine was fed these rows; else it was fed the image at
 * working size, to_engine of these rows' scale (the preview's pass), and
 * its ab is sampled under them, guided by L, as the preview shows it. */
gboolean colorize_render_rows(const nn_engine *e, gdouble to_engine, gint w, gint y0, gint rows, const gfloat *L,
                              const gfloat *src_rgba, const gfloat *mask, gpointer out, ColorizeRowFormat format,
                              GError **error);
/* The same for a region sampled on its own grid (a zoomed preview):
 * 8-bit RGB(A) or gray(A) source pixels of bpp bytes in, 8-bit RGBA out. */
gboolean colorize_render_region(const nn_engine *e, gdouble x0, gdouble y0, gdouble step_x, gdouble step_y, gint w,
                                gint h, const guchar *src, gint bpp, guchar *out_rgba, GError **error);

/* ------------------------------------------------------- colorize-hints.c */

/* "x,y,#rrggbb;…" (image pixels) <-> point hints. Parsing names the bad
 * item; an empty string is no points. */
GArray *colorize_points_parse(const gchar *text, GError **error);
gchar *colorize_points_format(const GArray *points);
/* The points stored with the image (an empty array when none): the
 * plug-in's own copy for this image, written by every OK and Repeat of this
 * session (an undo does not touch it), else its parasite (an XCF opened in
 * a new session); items that are damaged, past the limit or outside the
 * image are left out, and a message says so once. */
GArray *colorize_points_load(gint32 image);
/* The drawable's place in its image: offsets and size. */
void colorize_layer_extent(gint32 drawable, gint *x, gint *y, gint *width, gint *height);
/* FALSE with a calling error naming the first point off the drawable (the
 * image's size when the drawable covers it all). */
gboolean colorize_points_inside(const GArray *points, gint32 image, gint32 drawable, GError **error);
/* How many points lie off the drawable (inside the image, on no pixel of
 * this layer), and a note saying so for the user, NULL when none (g_free). */
guint colorize_points_off_layer(const GArray *points, gint32 drawable);
gchar *colorize_points_off_layer_note(const GArray *points, gint32 drawable);
/* Stores them with the image (removes the parasite when empty) and in the
 * plug-in's own copy for this image, which an undo does not touch. */
void colorize_points_save(gint32 image, const GArray *points);
/* TRUE when `item` may serve as the hint layer of `drawable`: another
 * layer of the same image, not a channel, mask or layer group, nor an
 * earlier result (whose every pixel would be a hint). */
gboolean colorize_hint_layer_ok(gint32 image, gint32 drawable, gint32 item);
/* Results carry the parasite RESULT_PARASITE (kept in an XCF), so that they
 * are never offered as hint layers. */
gboolean colorize_is_result(gint32 item);
void colorize_mark_result(gint32 layer);
/* The saved reference if it is still a drawable, else -1. */
gint32 colorize_reference_for(gint32 saved);
/* Makes the colour reference of s->reference (a drawable), else of
 * s->reference_file (a photo file), read at most NN_REFERENCE_SIDE on its
 * long side with transparent pixels left out, for the renders to come;
 * none when there is neither. It is made again only when its source, the
 * file's size or time of change, or the model changed. FALSE with an error
 * naming the layer or file when it cannot serve (gray, no longer there,
 * unreadable). Main thread only. */
gboolean colorize_reference_prepare(const ColorizeSettings *s, GError **error);
/* The saved hint layer if it still fits this image and drawable, else -1. */
gint32 colorize_hint_layer_for(gint32 image, gint32 drawable, gint32 saved);

/* ---------------------------------------------------------- colorize-io.c */

/* Progress and Cancel of the dialog while the final render runs; NULL in
 * batch mode (GIMP's own progress then). */
typedef struct {
    GtkProgressBar *bar;
    volatile gint cancel;
} ColorizeUi;

/* Checks the arguments (a calling error names the bad one). */
gboolean colorize_check_drawable(gint32 image, gint32 drawable, GError **error);
gboolean colorize_check_arguments(gint32 image, gint32 drawable, const ColorizeSettings *s, const GArray *points,
                                  GError **error);
/* The final render: reads the drawable, runs the network (in a worker
 * thread when ui is given; only this main thread talks to GIMP), then
 * writes the new layer in one undo group (with the points stored in the
 * image when store_points). Returns the layer or -1. */
gint32 colorize_apply(gint32 image, gint32 drawable, const ColorizeSettings *s, const GArray *points,
                      gboolean store_points, ColorizeUi *ui, GError **error);
/* The same from the dialog's last full preview pass, when it was made
 * with these very settings, points and pixels: `ready` was fed the
 * drawable at working size and predicted; its ab is brought to full size
 * under the drawable's L as the preview shows it, with no second network
 * pass. Saturation is applied here. */
gint32 colorize_apply_ready(gint32 image, gint32 drawable, const ColorizeSettings *s, const GArray *points,
                            nn_engine *ready, ColorizeUi *ui, GError **error);

/* COLORIZE_VERBOSE: remembers the memory at the start of run and restarts
 * the peak, so the colorization's own peak can be reported. */
void colorize_note_startup_memory(void);

/* ------------------------------------------------------ colorize-dialog.c */

/* Runs the dialog; OK colorizes. Returns the new layer or -1 (error set,
 * COLORIZE_ERROR_CANCELLED on Cancel). Edits *s and the image's points. */
gint32 colorize_dialog_run(gint32 image, gint32 drawable, ColorizeSettings *s, GError **error);

#endif
