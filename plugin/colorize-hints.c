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

static gboolean parse_colour(const gchar *s, guchar rgb[3]) {
    if (s[0] != '#' || strlen(s) != 7) return FALSE;
    for (gint i = 1; i < 7; i++)
        if (!g_ascii_isxdigit(s[i])) return FALSE;
    for (gint c = 0; c < 3; c++) rgb[c] = (guchar)(g_ascii_xdigit_value(s[1 + 2 * c]) * 16 + g_ascii_xdigit_value(s[2 + 2 * c]));
    return TRUE;
}

static gboolean parse_number(const gchar *s, gdouble *v) {
    gchar *end = NULL;
    *v = g_ascii_strtod(s, &end);
    return end && end != s && *end == 0 && *v >= 0.0 && *v < 1e6;
}

GArray *colorize_points_parse(const gchar *text, GError **error) {
    GArray *points = g_array_new(FALSE, FALSE, sizeof(PointHint));
    gchar **items = g_strsplit(text ? text : "", ";", -1);
    for (gint i = 0; items[i]; i++) {
        gchar *item = g_strstrip(items[i]);
        if (!*item) continue;
        gchar **f = g_strsplit(item, ",", -1);
        PointHint p;
        gboolean ok = g_strv_length(f) == 3 && parse_number(g_strstrip(f[0]), &p.x) &&
                      parse_number(g_strstrip(f[1]), &p.y) && parse_colour(g_strstrip(f[2]), p.rgb);
        g_strfreev(f);
        if (!ok || points->len >= MAX_POINTS) {
            if (!ok)
                g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_ARGUMENT,
                            _("Point hint '%s' is not \"x,y,#rrggbb\" (image pixels, a colour in hex)"), item);
            else
                g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_ARGUMENT, _("More than %d point hints"), MAX_POINTS);
            g_strfreev(items);
            g_array_free(points, TRUE);
            return NULL;
        }
        g_array_append_val(points, p);
    }
    g_strfreev(items);
    return points;
}

gchar *colorize_points_format(const GArray *points) {
    GString *s = g_string_new(NULL);
    for (guint i = 0; points && i < points->len; i++) {
        const PointHint *p = &g_array_index(points, PointHint, i);
        gchar x[G_ASCII_DTOSTR_BUF_SIZE], y[G_ASCII_DTOSTR_BUF_SIZE];
        g_ascii_formatd(x, sizeof x, "%.1f", p->x);
        g_ascii_formatd(y, sizeof y, "%.1f", p->y);
        g_string_append_printf(s, "%s%s,%s,#%02x%02x%02x", i ? ";" : "", x, y, p->rgb[0], p->rgb[1], p->rgb[2]);
    }
    return g_string_free(s, FALSE);
}

GArray *colorize_points_load(gint32 image) {
    GimpParasite *parasite = gimp_image_get_parasite(image, POINTS_PARASITE);
    GArray *points = NULL;
    if (parasite) {
        gchar *text = g_strndup(gimp_parasite_data(parasite), gimp_parasite_data_size(parasite));
        points = colorize_points_parse(text, NULL); /* a damaged parasite counts as none */
        g_free(text);
        gimp_parasite_free(parasite);
    }
    return points ? points : g_array_new(FALSE, FALSE, sizeof(PointHint));
}

void colorize_points_save(gint32 image, const GArray *points) {
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

gboolean colorize_hint_layer_ok(gint32 image, gint32 drawable, gint32 item) {
    return item != drawable && gimp_item_is_valid(item) && gimp_item_is_layer(item) &&
           !gimp_item_is_layer_mask(item) && gimp_item_get_image(item) == image;
}

gint32 colorize_hint_layer_for(gint32 image, gint32 drawable, gint32 saved) {
    return saved != -1 && colorize_hint_layer_ok(image, drawable, saved) ? saved : -1;
}
