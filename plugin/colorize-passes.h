/* colorize-passes.h — which preview pass runs next. The preview asks for a
 * quick pass (at a low resolution, shown at once) and a full one (when the
 * controls rest). While a pass runs, a newer request waits and the running
 * pass is cancelled, except a quick pass that a full one waits for: that is
 * shown first. A waiting quick pass goes before a waiting full one, so the
 * quick result is never lost behind a slow cancelled pass. Plain logic on
 * GLib alone (colorize-passes.c), tested without GIMP
 * (tests/plugin/test_passes.c). */
#ifndef COLORIZE_PASSES_H
#define COLORIZE_PASSES_H

#include <glib.h>

typedef enum { COLORIZE_PASS_NONE, COLORIZE_PASS_QUICK, COLORIZE_PASS_FULL } ColorizePass;

typedef struct {
    gboolean quick, full; /* asked for while another pass ran */
} ColorizePassesWaiting;

/* A pass is asked for while `running` runs: it waits. Returns whether the
 * running pass is to be cancelled. */
gboolean colorize_passes_wait(ColorizePassesWaiting *waiting, ColorizePass running, ColorizePass asked);

/* A quick pass is asked for that must not cancel the running one (a point
 * being dragged: each pass shown is a step of the drag); it waits. */
void colorize_passes_wait_behind(ColorizePassesWaiting *waiting);

/* The running pass ended: the waiting pass to start now (quick first), or
 * COLORIZE_PASS_NONE; it no longer waits. */
ColorizePass colorize_passes_next(ColorizePassesWaiting *waiting);

/* Nothing waits any more (the dialog closes). */
void colorize_passes_clear(ColorizePassesWaiting *waiting);

#endif
