/* nn_palette.h — a GIMP palette (.gpl) as a colour reference: its text
 * read into an nn_reference, each colour counted as
 * nn_reference_add_colour counts one, so that `colorize-train --palette`
 * and the plug-in's Reference file read palettes alike. Implemented by
 * palette.c. Part of the nn library; include nn.h for all of it. */
#ifndef NN_PALETTE_H
#define NN_PALETTE_H

#include <stddef.h>

#include "nn_reference.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The palette's first line. */
#define NN_PALETTE_HEADER "GIMP Palette"
/* A palette file larger than this is refused before it is read (GIMP's own
 * hold a few kilobytes). */
#define NN_PALETTE_MAX_BYTES (16 << 20)

/* Whether text (len bytes) starts as a GIMP palette does. */
int nn_palette_is(const char *text, size_t len);
/* Counts the colours of a palette's text (len bytes; a NUL ends it early):
 * NN_PALETTE_HEADER on the first line, then "Name:" and "Columns:" lines,
 * # comments, blank lines and "R G B [name]" lines (0..255 each), CRLF or
 * LF. The whole text is read before anything is counted: NN_ERR_INVALID,
 * r untouched, for a first line that is not the header, a line that is
 * not a colour (its number and its text, cut to 40 bytes, named) or no
 * colour at all. Each colour counts with weight 1. */
nn_status nn_palette_add_to_reference(nn_reference *r, const char *text, size_t len, nn_error *err);

#ifdef __cplusplus
}
#endif
#endif
