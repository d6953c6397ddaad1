/* colorize-preview.h — the dialog's state, shared by colorize-dialog.c
 * (controls, point hints, OK/Cancel) and colorize-preview.c (the preview:
 * the network on the whole image at the working resolution in a worker
 * thread, the visible crop composed from it on the main thread). */
#ifndef COLORIZE_PREVIEW_H
#define COLORIZE_PREVIEW_H

#include "colorize-passes.h"
#include "colorize.h"

typedef struct PreviewJob PreviewJob;

typedef struct {
    gint32 image, drawable;
    ColorizeSettings *s;
    GArray *points;   /* PointHint, image pixels */
    gint selected;    /* the selected point, or -1 */
    gboolean dragging;
    GtkWidget *dialog, *preview, *progress, *controls, *message, *gray_warning;
    GtkWidget *color_button, *delete_button, *remove_all_button, *swatches, *show_hints, *chooser, *point_row;
    gboolean sticky_message; /* the message shown stays until the user acts (a bad model file) */
    gboolean panning;        /* the middle button drags the view */
    gdouble pan_x, pan_y;
    GtkObject *adjs[4];      /* vividness, saturation, working resolution, reference weight */
    GtkWidget *reference_combo, *reference_chooser; /* a layer of an open image, or a file */
    /* the preview */
    guint fast_timer, refine_timer, poll; /* poll: the source the worker wakes when its pass is done */
    guint pulse_timer;                /* pulses the progress bar while a pass runs */
    PreviewJob *job;                  /* being computed in a worker */
    ColorizePassesWaiting waiting;    /* newer requests wait for the running job */
    nn_engine *engine;                /* the last finished one, fed the image at working size */
    gint engine_w, engine_h;          /* that size */
    gchar *engine_made;               /* what a full pass made it from (pass_digest), or NULL after a quick pass */
    gfloat suggestions[2 * SUGGESTIONS]; /* ab of the colours suggested for the selected point */
    gint n_suggestions, suggestions_for;
    gfloat *scaled;                   /* the drawable at working size (R'G'B'A float), fetched once per size */
    gint scaled_w, scaled_h;
    gfloat *scaled_hint;              /* the hint layer likewise, for scaled_hint_id */
    gint32 scaled_hint_id;
    gboolean busy;                    /* the final render runs: no preview may use the model */
    ColorizeUi ui;
} ColorizeDialog;

/* The preview widget (a GimpZoomPreview that draws the colorized crop). */
GtkWidget *colorize_preview_new(ColorizeDialog *d);
/* Settings or hints changed: a quick pass soon, the full one when the
 * controls rest; each cancels an older pass. */
void colorize_preview_schedule(ColorizeDialog *d);
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
void colorize_preview_crop(ColorizeDialog *d, CropMap *map);
/* An event's position in the preview area to the picture's own pixels. */
void colorize_preview_event_to_picture(ColorizeDialog *d, gdouble *x, gdouble *y);
void colorize_preview_to_image(const CropMap *map, gdouble px, gdouble py, gdouble *x, gdouble *y);
void colorize_preview_from_image(const CropMap *map, gdouble x, gdouble y, gdouble *px, gdouble *py);
/* Called by the preview when a pass is in: new suggestions, and maybe the
 * selected point's guessed colour. */
void colorize_dialog_suggestions_changed(ColorizeDialog *d);

#endif
