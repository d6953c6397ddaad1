/* plot.c — PNG output with cairo: line charts of the training curves and
 * grids of 32×32 sample tiles. */
#include <cairo.h>
#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <string.h>

#include "trainer.h"

static cairo_status_t append_bytes(void *closure, const unsigned char *data, unsigned int length) {
    g_byte_array_append(closure, data, length);
    return CAIRO_STATUS_SUCCESS;
}

/* Encodes in memory, then writes atomically (nn_write_file_atomic). */
static gboolean write_png(cairo_surface_t *surface, const char *path, GError **error) {
    GByteArray *png = g_byte_array_new();
    cairo_status_t st = cairo_surface_write_to_png_stream(surface, append_bytes, png);
    nn_error err = {0};
    gboolean ok = st == CAIRO_STATUS_SUCCESS && nn_write_file_atomic(path, png->data, png->len, &err) == NN_OK;
    if (!ok)
        g_set_error(error, TRAINER_ERROR, 1, "%s", st != CAIRO_STATUS_SUCCESS ? cairo_status_to_string(st) : err.msg);
    g_byte_array_unref(png);
    return ok;
}

gboolean plot_lines(const char *path, const char *title, const char *xlabel, const char *ylabel,
                    const plot_series *series, int nseries, GError **error) {
    const int W = 720, H = 440, L = 70, R = 20, T = 40, B = 50;
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int s = 0; s < nseries; s++)
        for (int i = 0; i < series[s].n; i++) {
            if (!isfinite(series[s].y[i])) continue;
            x0 = fmin(x0, series[s].x[i]), x1 = fmax(x1, series[s].x[i]);
            y0 = fmin(y0, series[s].y[i]), y1 = fmax(y1, series[s].y[i]);
        }
    if (!isfinite(x0)) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    if (x1 <= x0) x1 = x0 + 1;
    if (y1 <= y0) y1 = y0 + 1;
    double pad = 0.05 * (y1 - y0);
    y0 -= pad, y1 += pad;
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    cairo_t *cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);
    cairo_set_line_width(cr, 1);
    char buf[64];
    for (int i = 0; i <= 5; i++) { /* grid and tick labels */
        double fy = T + (H - T - B) * (1.0 - i / 5.0), fx = L + (W - L - R) * (i / 5.0);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, L, fy), cairo_line_to(cr, W - R, fy);
        cairo_move_to(cr, fx, T), cairo_line_to(cr, fx, H - B);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        snprintf(buf, sizeof buf, "%.3g", y0 + (y1 - y0) * i / 5.0);
        cairo_move_to(cr, 5, fy + 4), cairo_show_text(cr, buf);
        snprintf(buf, sizeof buf, "%.3g", x0 + (x1 - x0) * i / 5.0);
        cairo_move_to(cr, fx - 10, H - B + 18), cairo_show_text(cr, buf);
    }
    cairo_move_to(cr, L, 25), cairo_show_text(cr, title);
    cairo_move_to(cr, (W - L - R) / 2.0 + L - 20, H - 10), cairo_show_text(cr, xlabel);
    cairo_move_to(cr, 5, T - 8), cairo_show_text(cr, ylabel);
    static const double colors[][3] = {{0.12, 0.47, 0.71}, {0.84, 0.15, 0.16}, {0.17, 0.63, 0.17}, {0.58, 0.40, 0.74}};
    cairo_set_line_width(cr, 2);
    for (int s = 0; s < nseries; s++) {
        const double *c = colors[s % 4];
        cairo_set_source_rgb(cr, c[0], c[1], c[2]);
        int started = 0;
        for (int i = 0; i < series[s].n; i++) {
            if (!isfinite(series[s].y[i])) continue;
            double px = L + (W - L - R) * (series[s].x[i] - x0) / (x1 - x0);
            double py = T + (H - T - B) * (1.0 - (series[s].y[i] - y0) / (y1 - y0));
            if (started) cairo_line_to(cr, px, py);
            else cairo_move_to(cr, px, py), started = 1;
        }
        cairo_stroke(cr);
        cairo_rectangle(cr, W - R - 150, T + 10 + 18 * s, 12, 3), cairo_fill(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_move_to(cr, W - R - 132, T + 16 + 18 * s), cairo_show_text(cr, series[s].label);
    }
    cairo_destroy(cr);
    gboolean ok = write_png(surface, path, error);
    cairo_surface_destroy(surface);
    return ok;
}

gboolean plot_tile_grid(const char *path, const uint8_t *const *tiles, int rows, int cols,
                        const char *const *row_labels, int scale, GError **error) {
    const int label_w = 150, gap = 4, side = CIFAR_SIDE * scale;
    int W = label_w + cols * (side + gap), H = rows * (side + gap) + gap;
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
    unsigned char *data = cairo_image_surface_get_data(surface);
    int stride = cairo_image_surface_get_stride(surface);
    cairo_surface_flush(surface);
    memset(data, 255, (size_t)stride * H);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            const uint8_t *t = tiles[r * cols + c];
            if (!t) continue;
            int ox = label_w + c * (side + gap), oy = gap + r * (side + gap);
            for (int y = 0; y < side; y++) {
                uint32_t *row = (uint32_t *)(data + (size_t)(oy + y) * stride) + ox;
                for (int x = 0; x < side; x++) {
                    const uint8_t *p = t + 3 * ((y / scale) * CIFAR_SIDE + x / scale);
                    row[x] = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
                }
            }
        }
    cairo_surface_mark_dirty(surface);
    cairo_t *cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 13);
    for (int r = 0; r < rows && row_labels; r++) {
        cairo_move_to(cr, 6, gap + r * (side + gap) + side / 2.0 + 5);
        cairo_show_text(cr, row_labels[r]);
    }
    cairo_destroy(cr);
    gboolean ok = write_png(surface, path, error);
    cairo_surface_destroy(surface);
    return ok;
}
