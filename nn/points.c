/* points.c — point hints as text: "x,y,#rrggbb;…", positions in image
 * pixels and sRGB colours in hex, items separated by semicolons (blank
 * items ignored). It is the plug-in's batch argument and image parasite
 * and `colorize-train colorize --hints`. Parsing does not depend on the
 * locale (a decimal point is always '.'). */
#include "nn.h"

#include <ctype.h>
#include <string.h>

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

/* One item "x,y,#rrggbb" in [s, e). */
static int parse_item(const char *s, const char *e, nn_point_text *p) {
    const char *field[3][2];
    int n = 0;
    for (const char *f = s;; n++) {
        const char *comma = memchr(f, ',', (size_t)(e - f));
        if (n == 3) return 0;
        field[n][0] = f, field[n][1] = comma ? comma : e;
        trim(&field[n][0], &field[n][1]);
        if (!comma) break;
        f = comma + 1;
    }
    return n == 2 && parse_decimal(field[0][0], (size_t)(field[0][1] - field[0][0]), &p->x) &&
           parse_decimal(field[1][0], (size_t)(field[1][1] - field[1][0]), &p->y) &&
           parse_colour(field[2][0], (size_t)(field[2][1] - field[2][0]), p->rgb);
}

nn_status nn_points_parse(const char *text, nn_point_text *out, int max, int *n, nn_error *err) {
    *n = 0;
    for (const char *s = text ? text : ""; *s;) {
        const char *semi = strchr(s, ';'), *e = semi ? semi : s + strlen(s), *is = s, *ie = e;
        trim(&is, &ie);
        if (is < ie) {
            if (*n >= max) return nn_set_error(err, NN_ERR_INVALID, "more than %d point hints", max);
            if (!parse_item(is, ie, &out[*n]))
                return nn_set_error(err, NN_ERR_INVALID, "%.*s", (int)(ie - is > 200 ? 200 : ie - is), is);
            (*n)++;
        }
        s = semi ? semi + 1 : e;
    }
    return NN_OK;
}
