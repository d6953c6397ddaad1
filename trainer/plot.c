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

#define PLOT_W 760
#define PLOT_LEFT 70
#define PLOT_RIGHT 24
#define PLOT_TOP 40
#define PLOT_BOTTOM 50
#define PANEL_H 300
#define PANEL_GAP 36

static const double SERIES_COLOURS[][3] = {{0.12, 0.47, 0.71}, {0.84, 0.15, 0.16}, {0.17, 0.63, 0.17}, {0.58, 0.40, 0.74}};

typedef struct {
    double x0, x1, y0, y1; /* data range */
    double left, top, width, height; /* pixels */
} plot_frame;

static double frame_x(const plot_frame *f, double x) { return f->left + f->width * (x - f->x0) / (f->x1 - f->x0); }
static double frame_y(const plot_frame *f, double y) { return f->top + f->height * (1.0 - (y - f->y0) / (f->y1 - f->y0)); }

/* The finite range of the panel's values, padded by 5 %. */
static void panel_y_range(const plot_panel *p, double *y0, double *y1) {
    *y0 = INFINITY, *y1 = -INFINITY;
    for (int s = 0; s < p->nseries; s++)
        for (int i = 0; i < p->series[s].n; i++)
            if (isfinite(p->series[s].y[i])) *y0 = fmin(*y0, p->series[s].y[i]), *y1 = fmax(*y1, p->series[s].y[i]);
    if (!isfinite(*y0)) *y0 = 0, *y1 = 1;
    if (*y1 <= *y0) *y1 = *y0 + fabs(*y0) * 0.1 + 1e-9;
    double pad = 0.05 * (*y1 - *y0);
    *y0 -= pad, *y1 += pad;
}

static void draw_grid(cairo_t *cr, const plot_frame *f, const char *ylabel, gboolean whole_x, gboolean x_labels) {
    char buf[64];
    cairo_set_line_width(cr, 1);
    for (int i = 0; i <= 5; i++) {
        double v = f->y0 + (f->y1 - f->y0) * i / 5.0, fy = frame_y(f, v);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, f->left, fy), cairo_line_to(cr, f->left + f->width, fy), cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        snprintf(buf, sizeof buf, "%.3g", v);
        cairo_move_to(cr, 5, fy + 4), cairo_show_text(cr, buf);
    }
    double step = whole_x ? fmax(1.0, ceil((f->x1 - f->x0) / 10.0)) : (f->x1 - f->x0) / 5.0;
    for (double x = whole_x ? ceil(f->x0) : f->x0; x <= f->x1 + 1e-9; x += step) {
        double fx = frame_x(f, x);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, fx, f->top), cairo_line_to(cr, fx, f->top + f->height), cairo_stroke(cr);
        if (!x_labels) continue;
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        snprintf(buf, sizeof buf, whole_x ? "%.0f" : "%.3g", x);
        cairo_text_extents_t te;
        cairo_text_extents(cr, buf, &te);
        cairo_move_to(cr, fx - te.width / 2, f->top + f->height + 18), cairo_show_text(cr, buf);
    }
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_move_to(cr, 5, f->top - 8), cairo_show_text(cr, ylabel);
}

static void draw_series(cairo_t *cr, const plot_frame *f, const plot_series *s, const double *c) {
    cairo_set_source_rgb(cr, c[0], c[1], c[2]);
    cairo_set_line_width(cr, s->style == PLOT_THIN ? 0.7 : 2);
    int started = 0;
    for (int i = 0; i < s->n; i++) {
        if (!isfinite(s->y[i])) continue;
        double px = frame_x(f, s->x[i]), py = frame_y(f, s->y[i]);
        if (s->style == PLOT_DOTS) {
            cairo_arc(cr, px, py, 3.5, 0, 2 * M_PI), cairo_fill(cr);
        } else if (started) {
            cairo_line_to(cr, px, py);
        } else {
            cairo_move_to(cr, px, py), started = 1;
        }
    }
    if (s->style != PLOT_DOTS) cairo_stroke(cr);
}

/* The legend in the panel's top right corner, a box sized to its labels. */
static void draw_legend(cairo_t *cr, const plot_frame *f, const plot_panel *p) {
    double widest = 0;
    for (int s = 0; s < p->nseries; s++) {
        cairo_text_extents_t te;
        cairo_text_extents(cr, p->series[s].label, &te);
        widest = fmax(widest, te.x_advance);
    }
    const double row = 18, w = widest + 34, h = row * p->nseries + 8;
    const double x = f->left + f->width - w - 6, y = f->top + 6;
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_rectangle(cr, x, y, w, h), cairo_fill(cr);
    for (int s = 0; s < p->nseries; s++) {
        const double *c = SERIES_COLOURS[s % 4];
        cairo_set_source_rgb(cr, c[0], c[1], c[2]);
        if (p->series[s].style == PLOT_DOTS) cairo_arc(cr, x + 12, y + 11 + row * s, 3.5, 0, 2 * M_PI);
        else cairo_rectangle(cr, x + 6, y + 10 + row * s, 14, 3);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_move_to(cr, x + 26, y + 16 + row * s), cairo_show_text(cr, p->series[s].label);
    }
}

gboolean plot_panels(const char *path, const char *title, const char *xlabel, const plot_panel *panels, int npanels,
                     gboolean whole_x, GError **error) {
    double x0 = INFINITY, x1 = -INFINITY;
    for (int k = 0; k < npanels; k++)
        for (int s = 0; s < panels[k].nseries; s++)
            for (int i = 0; i < panels[k].series[s].n; i++)
                x0 = fmin(x0, panels[k].series[s].x[i]), x1 = fmax(x1, panels[k].series[s].x[i]);
    if (!isfinite(x0)) x0 = 0, x1 = 1;
    if (whole_x) x0 = floor(x0), x1 = ceil(x1);
    if (x1 <= x0) x1 = x0 + 1;
    const int H = PLOT_TOP + npanels * PANEL_H + (npanels - 1) * PANEL_GAP + PLOT_BOTTOM;
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, PLOT_W, H);
    cairo_t *cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 12);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_move_to(cr, PLOT_LEFT, 22), cairo_show_text(cr, title);
    for (int k = 0; k < npanels; k++) {
        plot_frame f = {x0, x1, 0, 1, PLOT_LEFT, PLOT_TOP + k * (PANEL_H + PANEL_GAP), PLOT_W - PLOT_LEFT - PLOT_RIGHT,
                        PANEL_H};
        panel_y_range(&panels[k], &f.y0, &f.y1);
        draw_grid(cr, &f, panels[k].ylabel, whole_x, k == npanels - 1);
        for (int s = 0; s < panels[k].nseries; s++) draw_series(cr, &f, &panels[k].series[s], SERIES_COLOURS[s % 4]);
        draw_legend(cr, &f, &panels[k]);
    }
    cairo_text_extents_t te;
    cairo_text_extents(cr, xlabel, &te);
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_move_to(cr, PLOT_LEFT + (PLOT_W - PLOT_LEFT - PLOT_RIGHT - te.width) / 2, H - 10), cairo_show_text(cr, xlabel);
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
