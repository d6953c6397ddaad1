/* colorize-outline.h — the outline *Show hints* draws around what the
 * hints colour, from a mask of the preview's pixels that a hint holds:
 * specks cleaned away, then the pixels where held meets not held. Plain
 * logic on GLib alone (colorize-outline.c), tested without GIMP
 * (tests/plugin/test_outline.c). */
#ifndef COLORIZE_OUTLINE_H
#define COLORIZE_OUTLINE_H

#include <glib.h>

/* Flips the 4-connected parts of `mask` ((h, w), 0 or 1) smaller than
 * `min_area` pixels to the value around them: islands of texture where a
 * hint's hold barely crosses 1/2, which an outline would draw as specks.
 * Held islands go first, then the holes left in what is held. */
void colorize_outline_clean(guint8 *mask, gint w, gint h, gint min_area);

/* Whether pixel (x, y) of `mask` ((h, w)) lies on the outline: its right
 * or lower neighbour has the other value. */
gboolean colorize_outline_at(const guint8 *mask, gint w, gint h, gint x, gint y);

#endif
