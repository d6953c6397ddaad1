/* points.c — point hints as text: "x,y,#rrggbb;…", positions in image
 * pixels and sRGB colours in hex, items separated by semicolons (blank
 * items ignored). It is the plug-in's batch argument and image parasite
 * and `colorize-train colorize --hints`. Parsing does not depend on the
 * locale (a decimal point is always '.'). A point's 8-bit colour enters the
 * engine through nn_engine_add_point_rgb8. */
#include "nn_points.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "nn_color.h"

/* A non-negative decimal below 1e6, [digits][.digits], whole string. */
static int parse_decimal(const char *s, size_t len, double *v) {
    double whole = 0.0, scale = 1.0;
    int digits = 0, point = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.' && !point) {
            point = 1;
        } else if (isdigit((unsigned char)s[i])) {
            digits++;
            if (point) whole += (s[i] - '0') * (scale *= 0.1);
            else whole = whole * 10.0 + (s[i] - '0');
        } else {
            return 0;
        }
    }
    *v = whole;
    return digits > 0 && whole < 1e6;
}

static int hex_digit(char c) {
    return isdigit((unsigned char)c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
}

static int parse_colour(const char *s, size_t len, uint8_t rgb[3]) {
    if (len != 7 || s[0] != '#') return 0;
    for (int c = 0; c < 3; c++) {
        int hi = hex_digit(s[1 + 2 * c]), lo = hex_digit(s[2 + 2 * c]);
        if (hi < 0 || lo < 0) return 0;
        rgb[c] = (uint8_t)(hi * 16 + lo);
    }
    return 1;
}

/* [s, e) without surrounding blanks. */
static void trim(const char **s, const char **e) {
    while (*s < *e && isspace((unsigned char)**s)) (*s)++;
    while (*e > *s && isspace((unsigned char)(*e)[-1])) (*e)--;
}

/* Why an item is not a point hint, or NULL when it is one (into p). */
static const char *parse_item(const char *s, const char *e, nn_point_text *p) {
    const char *field[3][2];
    int n = 0;
    for (const char *f = s;; n++) {
        const char *comma = memchr(f, ',', (size_t)(e - f));
        if (n == 3) return "more than three fields: x,y,#rrggbb expected";
        field[n][0] = f, field[n][1] = comma ? comma : e;
        trim(&field[n][0], &field[n][1]);
        if (!comma) break;
        f = comma + 1;
    }
    if (n != 2) return "fewer than three fields: x,y,#rrggbb expected";
    double *v[2] = {&p->x, &p->y};
    for (int i = 0; i < 2; i++) {
        const size_t len = (size_t)(field[i][1] - field[i][0]);
        if (len && field[i][0][0] == '-') return i ? "y is negative: outside the image" : "x is negative: outside the image";
        if (!parse_decimal(field[i][0], len, v[i]))
            return i ? "y is not a number of pixels below 1000000" : "x is not a number of pixels below 1000000";
    }
    if (!parse_colour(field[2][0], (size_t)(field[2][1] - field[2][0]), p->rgb))
        return "the colour is not #rrggbb (six hex digits)";
    return NULL;
}

/* At most NN_POINT_ITEM_SHOWN bytes of [s, e), cut before a UTF-8
 * character that would not fit, "…" added when cut. */
#define NN_POINT_ITEM_SHOWN 48
static void describe_item(const char *s, const char *e, char *out, size_t cap) {
    size_t len = (size_t)(e - s);
    const int cut = len > NN_POINT_ITEM_SHOWN;
    if (cut) {
        len = NN_POINT_ITEM_SHOWN;
        while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80) len--; /* s[len] continues a character */
    }
    snprintf(out, cap, "%.*s%s", (int)len, s, cut ? "\u2026" : "");
}

/* The one loop of both parsers: every item checked; good ones kept (at
 * most max); the first problem described in err; the bad items counted. */
static void parse_points(const char *text, nn_point_text *out, int max, int *n, int *bad, nn_error *err) {
    int item = 0, extra = 0;
    *n = 0, *bad = 0;
    for (const char *s = text ? text : ""; *s;) {
        const char *semi = strchr(s, ';'), *e = semi ? semi : s + strlen(s), *is = s, *ie = e;
        trim(&is, &ie);
        s = semi ? semi + 1 : e;
        if (is == ie) continue;
        item++;
        nn_point_text p;
        const char *why = parse_item(is, ie, &p);
        if (why) {
            char shown[NN_POINT_ITEM_SHOWN + 8];
            describe_item(is, ie, shown, sizeof shown);
            if (!*bad && !extra) nn_set_error(err, NN_ERR_INVALID, "point hint %d '%s': %s", item, shown, why);
            (*bad)++;
        } else if (*n < max) {
            out[(*n)++] = p;
        } else {
            extra++;
        }
    }
    if (extra && !*bad) nn_set_error(err, NN_ERR_INVALID, "more than %d point hints (%d given)", max, item);
    *bad += extra;
}

nn_status nn_points_parse(const char *text, nn_point_text *out, int max, int *n, nn_error *err) {
    int bad = 0;
    parse_points(text, out, max, n, &bad, err);
    if (bad) *n = 0;
    return bad ? NN_ERR_INVALID : NN_OK;
}

int nn_points_parse_good(const char *text, nn_point_text *out, int max, int *n, nn_error *first_bad) {
    int bad = 0;
    parse_points(text, out, max, n, &bad, first_bad);
    return bad;
}

nn_status nn_points_check_inside(const nn_point_text *points, int n, int width, int height, nn_error *err) {
    for (int i = 0; i < n; i++)
        if (!(points[i].x < width && points[i].y < height))
            return nn_set_error(err, NN_ERR_INVALID, "point hint %d (%g, %g) is outside the %d×%d image", i + 1,
                                points[i].x, points[i].y, width, height);
    return NN_OK;
}

nn_status nn_engine_add_point_rgb8(nn_engine *e, double x, double y, const uint8_t rgb[3], nn_error *err) {
    float unit[3] = {rgb[0] / 255.0f, rgb[1] / 255.0f, rgb[2] / 255.0f}, lab[3];
    nn_srgb_to_lab(lab, unit, 1);
    return nn_engine_add_point_hint(e, x, y, lab[1], lab[2], err);
}
