/* colorize-preview.h — the dialog's preview (colorize-preview.c): the
 * network on the whole image at the working resolution in a worker thread,
 * the visible crop composed from it on the main thread. The dialog
 * (colorize-dialog.c) calls it; it reports back only through the dialog
 * state's pass_shown callback (colorize-dialog.h), so the two files do not
 * call each other both ways. */
#ifndef COLORIZE_PREVIEW_H
#define COLORIZE_PREVIEW_H

#include "colorize-dialog.h"

/* The preview widget (a GimpZoomPreview that draws the colorized crop). */
GtkWidget *colorize_preview_new(ColorizeDialog *d);
/* Settings changed: a quick pass soon (changes within PREVIEW_FAST_DELAY_MS
 * merge), the full one when the controls rest; each cancels an older pass. */
void colorize_preview_schedule(ColorizeDialog *d);
/* A hint placed, removed or recoloured: the quick pass starts at once. */
void colorize_preview_schedule_now(ColorizeDialog *d);
/* A point dragged, or its colour edited in the colour dialog: the points
 * carried over the last pass at once (no network), and a quick pass at
 * once, or, while a quick one runs, right after it (never cancelling it),
 * so the preview follows the drag; a running full pass is cancelled; the
 * full one again when it rests. */
void colorize_preview_follow(ColorizeDialog *d);
/* A click placed a point: when no pass runs (the model is free), its
 * colour is guessed from the pass shown and the points are carried over
 * that pass's network colour at once. TRUE when that pass was a full one
 * at the working resolution: the quick pass would show less than is on
 * screen, and the full one may follow at once
 * (colorize_preview_schedule_full_now); else the quick one follows. */
gboolean colorize_preview_place(ColorizeDialog *d);
/* The selected point's suggestions (swatches) from the pass on screen, at
 * once and without a new pass, when that pass is the full one, no pass
 * runs (the model is free) and no point moved since; FALSE otherwise (a
 * pass must bring them). */
gboolean colorize_preview_suggest_now(ColorizeDialog *d);
/* The full pass at once (no quick pass first). */
void colorize_preview_schedule_full_now(ColorizeDialog *d);
/* Composes the visible crop again from the last pass (saturation, markers). */
void colorize_preview_redraw(ColorizeDialog *d);
/* The colour the preview shows at image pixel (x, y) (mid-gray before the
 * first pass): a new point's colour until its guess is in. */
void colorize_preview_colour_at(ColorizeDialog *d, gdouble x, gdouble y, guchar rgb[3]);
/* Guesses, now, the colours of points that still wait for one (OK pressed
 * before the pass that would have): after colorize_preview_stop. */
gboolean colorize_preview_guess_now(ColorizeDialog *d, GError **error);
/* The last pass, when it was the full one and made from exactly what OK
 * would use now (settings but saturation, model, points, and the pixels of
 * the drawable and hint layer, fetched again): OK may reuse it. Else NULL. */
nn_engine *colorize_preview_ready_engine(ColorizeDialog *d);
/* Stops the preview work and waits for it (the final render needs the model). */
void colorize_preview_stop(ColorizeDialog *d);
/* Drops the last finished pass (after stop): it refers to a colour
 * reference that is about to be replaced. */
void colorize_preview_forget_engine(ColorizeDialog *d);
void colorize_preview_free(ColorizeDialog *d);
/* Where the preview's pixels lie in the image (a few calls into GIMP: get
 * it once per redraw or event), and the mapping both ways. */
typedef struct {
    gdouble x0, y0, sx, sy; /* crop origin and drawable pixels per preview pixel */
    gint ox, oy;            /* the drawable's offsets in the image */
} CropMap;
/* The size of what is colorized: the selection's bounds, or the whole
 * drawable. */
void colorize_preview_extent(const ColorizeDialog *d, gint *w, gint *h);
void colorize_preview_crop(ColorizeDialog *d, CropMap *map);
/* An event's position in the preview area to the picture's own pixels. */
void colorize_preview_event_to_picture(ColorizeDialog *d, gdouble *x, gdouble *y);
/* With COLORIZE_VERBOSE: the preview area's size and place in the dialog
 * and its picture's size (the dialog test reads them), on every
 * allocation once realized and when the dialog is shown. */
void colorize_preview_log_layout(const ColorizeDialog *d);
void colorize_preview_to_image(const CropMap *map, gdouble px, gdouble py, gdouble *x, gdouble *y);
void colorize_preview_from_image(const CropMap *map, gdouble x, gdouble y, gdouble *px, gdouble *py);

#endif
