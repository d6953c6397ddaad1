/* colorize-outline.h — the outline *Show hints* draws around what each
 * hint colours, from a map of which hint holds each of the preview's
 * pixels: specks cleaned away, then the pixels where one hint's region
 * meets another's or what no hint holds. Plain
 * logic on GLib alone (colorize-outline.c), tested without GIMP
 * (tests/plugin/test_outline.c). */
#ifndef COLORIZE_OUTLINE_H
#define COLORIZE_OUTLINE_H

#include <glib.h>

/* Relabels the 4-connected parts of `labels` ((h, w): a hint's region, or
 * -1 for none) smaller than `min_area` pixels with the label most of their
 * neighbours carry: islands of texture where a hint's hold barely crosses
 * 1/2, or where two hints' regions interleave, which an outline would draw
 * as specks. */
void colorize_outline_clean(gint *labels, gint w, gint h, gint min_area);

/* Whether pixel (x, y) of `labels` ((h, w)) lies on the outline: its right
 * or lower neighbour has another label. */
gboolean colorize_outline_at(const gint *labels, gint w, gint h, gint x, gint y);

#endif
