/* fuzz_png.c — libFuzzer target: image and hint input as `colorize-train
 * colorize` takes it: the header's size check, gdk-pixbuf's decoding (from
 * memory, refused above 4 megapixels as the CLI refuses above its limit),
 * then the library's conversions to L and to hint planes. */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <stddef.h>
#include <stdint.h>

#include "nn.h"

#define FUZZ_MAX_PIXELS (4 << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_size(GdkPixbufLoader *loader, gint w, gint h, gpointer user) {
    if ((gint64)w * h > FUZZ_MAX_PIXELS || w < 1 || h < 1) {
        *(gboolean *)user = TRUE;
        gdk_pixbuf_loader_set_size(loader, 1, 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    GdkPixbufLoader *loader = gdk_pixbuf_loader_new();
    gboolean too_big = FALSE;
    g_signal_connect(loader, "size-prepared", G_CALLBACK(on_size), &too_big);
    gboolean ok = gdk_pixbuf_loader_write(loader, data, size, NULL);
    ok = gdk_pixbuf_loader_close(loader, NULL) && ok;
    GdkPixbuf *pb = ok && !too_big ? gdk_pixbuf_loader_get_pixbuf(loader) : NULL;
    if (pb && gdk_pixbuf_get_bits_per_sample(pb) == 8 && gdk_pixbuf_get_n_channels(pb) >= 3) {
        const int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb), nc = gdk_pixbuf_get_n_channels(pb);
        const int stride = gdk_pixbuf_get_rowstride(pb);
        float *rgba = g_new(float, 4 * (gsize)w), *L = g_new(float, w), *a = g_new(float, w), *b = g_new(float, w),
              *m = g_new(float, w);
        for (int y = 0; y < h; y++) {
            const guchar *row = gdk_pixbuf_read_pixels(pb) + (gsize)y * stride;
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 4; c++) rgba[4 * x + c] = c < 3 || nc == 4 ? row[x * nc + c] / 255.0f : 1.0f;
            nn_pixels_to_lightness(L, rgba, (size_t)w, 4);
            nn_rgba_to_hints(a, b, m, rgba, (size_t)w);
        }
        g_free(rgba), g_free(L), g_free(a), g_free(b), g_free(m);
    }
    g_object_unref(loader);
    return 0;
}
