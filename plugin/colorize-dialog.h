/* colorize-dialog.h — the dialog's state (ColorizeDialog): the image and
 * settings, the point hints, the widgets, and the preview's passes. Made
 * and driven by colorize-dialog.c (colorize_dialog_run, in colorize.h),
 * read by colorize-preview.c, which reports a finished pass through
 * pass_shown. A type only: no .c implements it beyond that. */
#ifndef COLORIZE_DIALOG_H
#define COLORIZE_DIALOG_H

#include "colorize-passes.h"
#include "colorize.h"

typedef struct PreviewJob PreviewJob;
typedef struct PreviewCanvas PreviewCanvas;

typedef struct ColorizeDialog {
    gint32 image, drawable;
    ColorizeSettings *s;
    GArray *points;   /* PointHint, image pixels */
    gint selected;    /* the selected point, or -1 */
    gboolean dragging;
    gboolean drag_placed, drag_moved; /* the press placed a new point; the point moved since */
    PointHint drag_from;              /* the point as the press found it (Escape puts it back) */
    gboolean drag_tooltip;            /* whether the preview had its tooltip before (GIMP's may be off) */
    gint drag_passes, drag_carried;   /* passes shown while it was dragged, and how many of them were carried */
    GtkWidget *dialog, *preview, *progress, *controls, *message, *gray_warning;
    GtkWidget *color_button, *delete_button, *remove_all_button, *swatches, *show_hints, *chooser, *point_row;
    GtkWidget *used_swatches; /* a separator, then USED_COLOURS swatches of the other points' colours */
    gboolean sticky_message; /* the message shown stays until the user acts (a bad model file) */
    gboolean panning;        /* the middle button drags the view */
    gint shown_w, shown_h;   /* the dialog's size when shown: kept at the close only when the user changed it */
    gboolean side_by_side;   /* a picture taller than wide or a short screen: the preview left of the controls */
    gdouble pan_x, pan_y;
    GtkObject *adjs[5];      /* vividness, saturation, working resolution, reference weight, hint reach */
    GtkWidget *reference_combo, *reference_chooser; /* a layer of an open image, or a file */
    gchar *reference_file_item; /* the file the combo's file item stands for (the button shows it only in use) */
    /* the preview */
    guint fast_timer, refine_timer, poll; /* poll: the source the worker wakes when its pass is done */
    guint pulse_timer;                /* pulses the progress bar while a pass runs */
    gint64 asked_at;                  /* µs: the oldest change no pass has started for yet, or 0 */
    PreviewJob *job;                  /* being computed in a worker */
    PreviewCanvas *canvas;            /* the crop last composed, markers aside (colorize-preview.c) */
    ColorizePassesWaiting waiting;    /* newer requests wait for the running job */
    nn_engine *engine;                /* the last finished one, fed the image at working size */
    gint engine_w, engine_h;          /* that size */
    gchar *engine_made;               /* what a full pass made it from (pass_digest), or NULL after a quick pass */
    ColorizeSettings engine_s;        /* the settings it ran with */
    GArray *engine_points;            /* PointHint: the points it was made with */
    gfloat *engine_src, *engine_hint; /* the drawable and the hint layer (or NULL) it was fed, at its size */
    nn_engine *carried;               /* shown over it, or NULL: its network colour with the points as they are
                                         now (dragged or recoloured since), until the network's pass for them */
    gfloat suggestions[2 * SUGGESTIONS]; /* ab of the colours suggested for the selected point */
    gint n_suggestions, suggestions_for;
    gfloat *scaled;                   /* the drawable at working size (R'G'B'A float), fetched once per size */
    gint scaled_w, scaled_h;
    gfloat *scaled_hint;              /* the hint layer likewise, for scaled_hint_id */
    gint32 scaled_hint_id;
    gboolean busy;                    /* the final render runs: no preview may use the model */
    ColorizeUi ui;
    /* set by the dialog, called by the preview when a pass is in: new
     * suggestions, and maybe the selected point's guessed colour */
    void (*pass_shown)(struct ColorizeDialog *d);
} ColorizeDialog;

#endif
