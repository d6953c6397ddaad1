/* nn_points.h — point hints as text (points.c): "x,y,#rrggbb;…" parsed
 * and checked, and a point's 8-bit sRGB colour given to the engine. Part of
 * the nn library; include nn.h for all of it. */
#ifndef NN_POINTS_H
#define NN_POINTS_H

#include <stdint.h>

#include "nn_engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A point hint as text gives it (points.c): image pixels and an sRGB colour. */
typedef struct {
    double x, y;
    uint8_t rgb[3];
} nn_point_text;
#define NN_MAX_POINT_HINTS 256
/* Parses "x,y,#rrggbb;…" (blank items ignored, any locale) into out (at
 * most max). NN_ERR_INVALID, with *n = 0, when any item is bad: err->msg
 * names the first ("point hint 2 '-5,40,#ff0000': x is negative: outside
 * the image", the item cut to 48 bytes at a character) or says "more than
 * max point hints (N given)". */
nn_status nn_points_parse(const char *text, nn_point_text *out, int max, int *n, nn_error *err);
/* The same, keeping the good items (at most max) of a stored list with
 * bad ones; returns how many items were left out (bad, or past max), the
 * first described in first_bad. */
int nn_points_parse_good(const char *text, nn_point_text *out, int max, int *n, nn_error *first_bad);
/* NN_ERR_INVALID naming the first point at or past width × height. */
nn_status nn_points_check_inside(const nn_point_text *points, int n, int width, int height, nn_error *err);
/* A point hint whose colour is 8-bit sRGB at (x, y) in the engine's pixels:
 * its ab into nn_engine_add_point_hint (the one conversion of a user's
 * point colour). */
nn_status nn_engine_add_point_rgb8(nn_engine *e, double x, double y, const uint8_t rgb[3], nn_error *err);

#ifdef __cplusplus
}
#endif
#endif
