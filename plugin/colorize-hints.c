/* colorize-hints.c — the two kinds of hints: a hint layer (another layer
 * of the same image, whose opaque pixels give their colour) and point
 * hints (a position and a colour, no layer needed: the way to hint a
 * grayscale image). Point hints are written "x,y,#rrggbb;…" in image
 * pixels, in batch mode and in the parasite that keeps them with the image
 * (so Repeat and a saved XCF keep them). */
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "colorize.h"

static GArray *points_array(const nn_point_text *parsed, gint n) {
    GArray *points = g_array_sized_new(FALSE, FALSE, sizeof(PointHint), (guint)n);
    for (gint i = 0; i < n; i++) {
        PointHint p = {parsed[i], FALSE};
        g_array_append_val(points, p);
    }
    return points;
}

GArray *colorize_points_parse(const gchar *text, GError **error) {
    nn_point_text parsed[MAX_POINTS];
    gint n = 0;
    nn_error err = {0};
    if (nn_points_parse(text, parsed, MAX_POINTS, &n, &err) != NN_OK) {
        if (g_str_has_prefix(err.msg, "more than"))
            g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_ARGUMENT, _("More than %d point hints"), MAX_POINTS);
        else
            g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_ARGUMENT,
                        _("Bad point hints (\"x,y,#rrggbb\": image pixels, a colour in hex): %s"), err.msg);
        return NULL;
    }
    return points_array(parsed, n);
}

void colorize_layer_extent(gint32 drawable, gint *x, gint *y, gint *width, gint *height) {
    gimp_drawable_offsets(drawable, x, y);
    *width = gimp_drawable_width(drawable), *height = gimp_drawable_height(drawable);
}

static gboolean point_on_layer(const PointHint *p, gint x, gint y, gint width, gint height) {
    return p->at.x >= x && p->at.y >= y && p->at.x < x + width && p->at.y < y + height;
}

gboolean colorize_points_inside(const GArray *points, gint32 image, gint32 drawable, GError **error) {
    gint x, y, width, height;
    colorize_layer_extent(drawable, &x, &y, &width, &height);
    const gboolean whole = x == 0 && y == 0 && width == gimp_image_width(image) && height == gimp_image_height(image);
    for (guint i = 0; points && i < points->len; i++) {
        const PointHint *p = &g_array_index(points, PointHint, i);
        if (point_on_layer(p, x, y, width, height)) continue;
        if (whole)
            g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_ARGUMENT,
                        _("Point hint %u (%.1f, %.1f) is outside the %d×%d image"), i + 1, p->at.x, p->at.y, width, height);
        else
            g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_ARGUMENT,
                        _("Point hint %u (%.1f, %.1f) is outside the layer, which covers %d×%d pixels at (%d, %d) of "
                          "the image"), i + 1, p->at.x, p->at.y, width, height, x, y);
        return FALSE;
    }
    return TRUE;
}

guint colorize_points_off_layer(const GArray *points, gint32 drawable) {
    gint x, y, width, height;
    colorize_layer_extent(drawable, &x, &y, &width, &height);
    guint off = 0;
    for (guint i = 0; points && i < points->len; i++)
        off += !point_on_layer(&g_array_index(points, PointHint, i), x, y, width, height);
    return off;
}

gchar *colorize_points_off_layer_note(const GArray *points, gint32 drawable) {
    const guint off = colorize_points_off_layer(points, drawable);
    if (!off) return NULL;
    return g_strdup_printf(_("%u of the %u point hints stored with this image lie outside this layer and are not used "
                             "here; they stay stored for the image's other layers."), off, points->len);
}

gchar *colorize_points_format(const GArray *points) {
    GString *s = g_string_new(NULL);
    for (guint i = 0; points && i < points->len; i++) {
        const PointHint *p = &g_array_index(points, PointHint, i);
        gchar x[G_ASCII_DTOSTR_BUF_SIZE], y[G_ASCII_DTOSTR_BUF_SIZE];
        g_ascii_formatd(x, sizeof x, "%.1f", p->at.x);
        g_ascii_formatd(y, sizeof y, "%.1f", p->at.y);
        g_string_append_printf(s, "%s%s,%s,#%02x%02x%02x", i ? ";" : "", x, y, p->at.rgb[0], p->at.rgb[1], p->at.rgb[2]);
    }
    return g_string_free(s, FALSE);
}

/* Drops the points at or past the image's edge (it was cropped or scaled
 * since); how many. */
static guint drop_points_outside(GArray *points, gint width, gint height) {
    guint kept = 0;
    for (guint i = 0; i < points->len; i++) {
        const PointHint p = g_array_index(points, PointHint, i);
        if (p.at.x < width && p.at.y < height) g_array_index(points, PointHint, kept++) = p;
    }
    const guint dropped = points->len - kept;
    g_array_set_size(points, kept);
    return dropped;
}

/* The plug-in's own copy of an image's points (kept by GIMP for the session,
 * under a key naming the image): Ctrl+Z after OK undoes the parasite with
 * the layer, and the user's clicks must not go with it (g_free). */
static gchar *points_data_key(gint32 image) { return g_strdup_printf("%s-points-%d", PLUG_IN_PROC, image); }

/* The plug-in's own copy of an image's points, else NULL (g_free). */
static gchar *own_points_copy(gint32 image) {
    gchar *key = points_data_key(image), *text = NULL;
    const gint size = gimp_get_data_size(key);
    if (size > 0) {
        guint8 *data = g_malloc0((gsize)size + 1);
        gimp_get_data(key, data);
        text = (gchar *)data;
    }
    g_free(key);
    return text;
}

/* The stored points as text: the plug-in's own copy, which every OK and
 * Repeat in this session wrote last (an undo takes the parasite back to an
 * older list, or away), else the parasite (an XCF opened in a new session),
 * else NULL (g_free). */
static gchar *stored_points_text(gint32 image) {
    gchar *own = own_points_copy(image);
    if (own) return own;
    GimpParasite *parasite = gimp_image_get_parasite(image, POINTS_PARASITE);
    if (!parasite) return NULL;
    gchar *text = g_strndup(gimp_parasite_data(parasite), gimp_parasite_data_size(parasite));
    gimp_parasite_free(parasite);
    return text;
}

GArray *colorize_points_load(gint32 image) {
    nn_point_text parsed[MAX_POINTS];
    nn_error first_bad = {0};
    gint n = 0, bad = 0;
    gchar *text = stored_points_text(image);
    if (text) bad = nn_points_parse_good(text, parsed, MAX_POINTS, &n, &first_bad);
    g_free(text);
    GArray *points = points_array(parsed, n);
    const guint outside = drop_points_outside(points, gimp_image_width(image), gimp_image_height(image));
    if (bad || outside) /* said once, as the points are read for this run */
        g_message(_("%u of the point hints stored with this image could not be used and were left out (%s); "
                    "the other %u are kept."), (guint)bad + outside,
                  bad ? first_bad.msg : _("outside the image"), points->len);
    return points;
}

void colorize_points_save(gint32 image, const GArray *points) {
    gchar *key = points_data_key(image), *copy = colorize_points_format(points);
    gimp_set_data(key, copy, (guint32)strlen(copy) + 1); /* "" when the user removed them all */
    g_free(key), g_free(copy);
    if (!points || points->len == 0) {
        GimpParasite *old = gimp_image_get_parasite(image, POINTS_PARASITE);
        if (old) gimp_image_detach_parasite(image, POINTS_PARASITE);
        gimp_parasite_free(old);
        return;
    }
    gchar *text = colorize_points_format(points);
    GimpParasite *p = gimp_parasite_new(POINTS_PARASITE, GIMP_PARASITE_PERSISTENT | GIMP_PARASITE_UNDOABLE,
                                        (guint32)strlen(text) + 1, text);
    gimp_image_attach_parasite(image, p);
    gimp_parasite_free(p);
    g_free(text);
}

gboolean colorize_is_result(gint32 item) {
    GimpParasite *p = gimp_item_get_parasite(item, RESULT_PARASITE);
    gimp_parasite_free(p);
    return p != NULL;
}

void colorize_mark_result(gint32 layer) {
    GimpParasite *p = gimp_parasite_new(RESULT_PARASITE, GIMP_PARASITE_PERSISTENT | GIMP_PARASITE_UNDOABLE, 1, "");
    gimp_item_attach_parasite(layer, p);
    gimp_parasite_free(p);
}

gboolean colorize_hint_layer_ok(gint32 image, gint32 drawable, gint32 item) {
    return item != drawable && gimp_item_is_valid(item) && gimp_item_is_layer(item) &&
           !gimp_item_is_layer_mask(item) && gimp_item_get_image(item) == image && !gimp_item_is_group(item) &&
           !colorize_is_result(item);
}

gint32 colorize_hint_layer_for(gint32 image, gint32 drawable, gint32 saved) {
    return saved != -1 && colorize_hint_layer_ok(image, drawable, saved) ? saved : -1;
}
