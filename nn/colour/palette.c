/* palette.c — a GIMP palette's text (.gpl) read into a colour reference:
 * the header, then one colour per line as three numbers 0..255, checked
 * whole before any colour is counted. */
#include "nn_palette.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn_color.h"

/* A line is shown in a message cut to this many bytes. */
#define SHOWN_LINE 48

/* The next line of text[*at..len) without its end of line and the blanks
 * around it, copied into line (cap bytes, cut); 0 at the end of the text. */
static int next_line(const char *text, size_t len, size_t *at, char *line, size_t cap) {
    if (*at >= len || !text[*at]) return 0;
    size_t end = *at;
    while (end < len && text[end] && text[end] != '\n') end++;
    size_t a = *at, b = end;
    while (a < b && isspace((unsigned char)text[a])) a++;
    while (b > a && isspace((unsigned char)text[b - 1])) b--;
    const size_t n = b - a < cap - 1 ? b - a : cap - 1;
    memcpy(line, text + a, n), line[n] = '\0';
    *at = end < len && text[end] == '\n' ? end + 1 : end;
    return 1;
}

int nn_palette_is(const char *text, size_t len) {
    const size_t n = strlen(NN_PALETTE_HEADER);
    return text && len >= n && memcmp(text, NN_PALETTE_HEADER, n) == 0;
}

/* Whether a line names no colour: blank, a comment, Name: or Columns:. */
static int is_not_a_colour_line(const char *s) {
    return !*s || *s == '#' || strncmp(s, "Name:", 5) == 0 || strncmp(s, "Columns:", 8) == 0;
}

/* The line's colour in rgb, or 0 when it does not start with three whole
 * numbers 0..255 (digits only), each followed by a blank or the end (a
 * name may follow). */
static int parse_colour(const char *s, uint8_t rgb[3]) {
    const char *p = s;
    for (int c = 0; c < 3; c++) {
        while (*p == ' ' || *p == '\t') p++;
        if (!isdigit((unsigned char)*p)) return 0;
        char *end = NULL;
        errno = 0;
        const long v = strtol(p, &end, 10);
        if (errno || v > 255 || (*end && !isspace((unsigned char)*end))) return 0;
        rgb[c] = (uint8_t)v, p = end;
    }
    return 1;
}

/* Checks every line (pass 0) or counts the colours (pass 1). */
static nn_status read_lines(nn_reference *r, const char *text, size_t len, int counting, int *colours, nn_error *err) {
    char line[4096], shown[SHOWN_LINE];
    size_t at = 0;
    next_line(text, len, &at, line, sizeof line); /* the header */
    *colours = 0;
    for (int number = 2; next_line(text, len, &at, line, sizeof line); number++) {
        if (is_not_a_colour_line(line)) continue;
        uint8_t rgb[3];
        if (!parse_colour(line, rgb))
            return nn_set_error(err, NN_ERR_INVALID, "line %d \"%s\" is not a colour (three numbers 0..255)", number,
                                nn_escape(line, shown, sizeof shown));
        if (counting) {
            float lab[3];
            nn_srgb8_to_lab(lab, rgb, 1);
            nn_reference_add_colour(r, lab, 1.0f);
        }
        (*colours)++;
    }
    return NN_OK;
}

nn_status nn_palette_add_to_reference(nn_reference *r, const char *text, size_t len, nn_error *err) {
    if (len > NN_PALETTE_MAX_BYTES)
        return nn_set_error(err, NN_ERR_INVALID, "a palette of %zu bytes: too large (at most %d)", len,
                            NN_PALETTE_MAX_BYTES);
    if (!nn_palette_is(text, len))
        return nn_set_error(err, NN_ERR_INVALID, "not a GIMP palette (its first line is not \"%s\")", NN_PALETTE_HEADER);
    int colours = 0;
    nn_status st = read_lines(r, text, len, 0, &colours, err);
    if (st) return st;
    if (colours == 0) return nn_set_error(err, NN_ERR_INVALID, "the palette holds no colour");
    return read_lines(r, text, len, 1, &colours, err);
}
