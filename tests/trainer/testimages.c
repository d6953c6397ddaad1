/* testimages.c — image files that tests write at run time. */
#include "testimages.h"

#include <gdk-pixbuf/gdk-pixbuf.h>

#include "nn.h"

gboolean test_png_declaring(const char *path, guint32 w, guint32 h) {
    GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, 1, 1);
    gdk_pixbuf_fill(pb, 0x808080ff);
    gchar *png = NULL;
    gsize n = 0;
    gboolean ok = gdk_pixbuf_save_to_buffer(pb, &png, &n, "png", NULL, NULL) && n > 33;
    if (ok) {
        guchar *p = (guchar *)png;
        for (int i = 0; i < 4; i++) p[16 + i] = (guchar)(w >> (24 - 8 * i)), p[20 + i] = (guchar)(h >> (24 - 8 * i));
        guint32 crc = nn_crc32(0, p + 12, 17);
        for (int i = 0; i < 4; i++) p[29 + i] = (guchar)(crc >> (24 - 8 * i));
        ok = g_file_set_contents(path, png, (gssize)n, NULL);
    }
    g_free(png);
    g_object_unref(pb);
    return ok;
}
