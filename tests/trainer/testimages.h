/* testimages.h — image files that tests write at run time (testimages.c). */
#ifndef TESTIMAGES_H
#define TESTIMAGES_H

#include <glib.h>

/* A 1×1 PNG whose header is made to declare w×h (the IHDR checksum fixed):
 * a decompression bomb in a few dozen bytes. FALSE when it was not written. */
gboolean test_png_declaring(const char *path, guint32 w, guint32 h);

#endif
