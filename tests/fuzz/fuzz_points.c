/* fuzz_points.c — libFuzzer target: point hints as text, the strict parser
 * (colorize --hints, the batch procedure) and the one that keeps the good
 * items of a stored list (the plug-in's parasite), on arbitrary bytes.
 * Checked: counts within the limit; every kept point a finite position in
 * 0 ≤ x, y < 1e6; both parsers agreeing when nothing is bad; a message
 * that is valid UTF-8 whenever the input is. */
#include <glib.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_points(const nn_point_text *p, int n) {
    for (int i = 0; i < n; i++)
        if (!(isfinite(p[i].x) && isfinite(p[i].y) && p[i].x >= 0 && p[i].y >= 0 && p[i].x < 1e6 && p[i].y < 1e6))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = g_strndup((const char *)data, size); /* a parasite's bytes, cut at a NUL as the plug-in does */
    static nn_point_text strict[NN_MAX_POINT_HINTS], good[NN_MAX_POINT_HINTS];
    int n_strict = -1, n_good = -1;
    nn_error e1 = {0}, e2 = {0};
    const nn_status st = nn_points_parse(text, strict, NN_MAX_POINT_HINTS, &n_strict, &e1);
    const int bad = nn_points_parse_good(text, good, NN_MAX_POINT_HINTS, &n_good, &e2);
    if (n_strict < 0 || n_strict > NN_MAX_POINT_HINTS || n_good < 0 || n_good > NN_MAX_POINT_HINTS || bad < 0) abort();
    if ((st == NN_OK) != (bad == 0)) abort();
    if (st == NN_OK && (n_strict != n_good || memcmp(strict, good, sizeof *strict * (size_t)n_good) != 0)) abort();
    if (st != NN_OK && n_strict != 0) abort();
    check_points(good, n_good);
    if (g_utf8_validate(text, -1, NULL) && ((st != NN_OK && !g_utf8_validate(e1.msg, -1, NULL)) ||
                                            (bad && !g_utf8_validate(e2.msg, -1, NULL))))
        abort();
    nn_error e3 = {0};
    nn_points_check_inside(good, n_good, 640, 480, &e3);
    g_free(text);
    return 0;
}
