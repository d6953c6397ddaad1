/* nn_engine.h — the full-image engine: working scale, tiles, the scene pass,
 * hints, upsampling (point hints as text: nn_points.h). Implemented by
 * engine.c. Part of the nn library; include nn.h for all of it. */
#ifndef NN_ENGINE_H
#define NN_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "nn_colorizer.h"
#include "nn_propagate.h"
#include "nn_reference.h"
#include "nn_scene.h"
#include "nn_tiles.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NN_DEFAULT_RESOLUTION 256
#define NN_MIN_RESOLUTION 32
#define NN_MAX_RESOLUTION 2048

/* The chroma multiplier applied to the result: 0 (gray) to NN_MAX_SATURATION. */
#define NN_DEFAULT_SATURATION 1
#define NN_MAX_SATURATION 2

/* The scene pass (scene.c): by default the working image is also seen
 * whole at NN_DEFAULT_SCENE_SIZE pixels on its long side, and each tile
 * pixel's distribution is multiplied by the scene's raised to
 * NN_DEFAULT_SCENE_WEIGHT. */
#define NN_DEFAULT_SCENE_SIZE 32
#define NN_DEFAULT_SCENE_WEIGHT 1.0 /* doubles, so that help texts can G_STRINGIFY them */
#define NN_MIN_SCENE_SIZE 16
#define NN_MAX_SCENE_SIZE 256
#define NN_MAX_SCENE_WEIGHT 8.0

/* Hint propagation (propagate.c): a point or stroke colours the pixels it
 * reaches along the image without crossing more than about
 * NN_DEFAULT_HINT_REACH of lightness change (changes between neighbours
 * below NN_HINT_TEXTURE are texture and free; crossing the whole image
 * costs NN_HINT_LENGTH); where two hints' regions meet, their colours
 * are blended over NN_HINT_BLEND of the long side where lightness changes
 * by less than NN_HINT_BLEND_LIGHTNESS. Chosen on measurements on real
 * photos (README). */
#define NN_DEFAULT_HINT_REACH 17.0 /* doubles, so that help texts can G_STRINGIFY them */
#define NN_MAX_HINT_REACH 100.0
#define NN_HINT_TEXTURE 0.5f
#define NN_HINT_LENGTH 1.0f
/* Where several hints reach a pixel, the changes under NN_HINT_TEXTURE
 * count at this share too in deciding which one it takes (the hold leaves
 * them out): a gentle ramp is no edge, but a hint at its foot is not the
 * colour of its top when another hint sits at the top's lightness (less
 * leak between clicked regions, up to +0.35 dB on random hints; README).
 * The allowance, the length and this share were chosen again with the
 * median filter (one click per region leaks 4.79 % instead of 5.31 %). */
#define NN_HINT_CONTEST 0.5f
#define NN_HINT_BLEND 0.1f
#define NN_HINT_BLEND_LIGHTNESS 5.0f
/* The lightness a hint travels over is seen through a median filter of
 * this radius (a share of the long side: 4 pixels at the working
 * resolution 256), so that grain, wrinkles, hair and the grain of wood are
 * no edges while the edges between regions stay put (+0.3 to +0.8 dB on
 * random hints and a sixth less leak; README). */
#define NN_HINT_DENOISE (4.0f / 256.0f)
/* A hint's chroma, carried to a pixel lighter or darker than where it was
 * given, is scaled by (L there / L at the hint)^NN_HINT_CHROMA_POWER,
 * within [1/NN_HINT_CHROMA_RANGE, NN_HINT_CHROMA_RANGE]: a surface in
 * shadow or light keeps its hue with less or more chroma (+0.18 to +0.26 dB
 * on random hints, less leak; README). */
#define NN_HINT_CHROMA_POWER 0.5f
#define NN_HINT_CHROMA_RANGE 2.0f
/* Hints whose colours lie within this ab distance are one colour: they
 * share one region in nn_engine_hint_region_at (two points given one
 * swatch, a stroke cut into pieces by a point's patch), while two clicks
 * of nearby but different colours (a gray sky and a gray mountain, each
 * taking the colour the preview showed) keep a region each. */
#define NN_HINT_SAME_COLOUR 2.0f

typedef struct {
    float vividness;    /* 0 (faithful, T = 1) .. 1 (vivid) */
    float saturation;   /* chroma multiplier, 0 .. 2 */
    int resolution;     /* long side of the working image, 32 .. 2048 */
    int scene_size;     /* long side of the scene pass, 16 .. 256 */
    float scene_weight; /* 0 (no scene pass) .. 8 */
    float hint_reach;   /* L* units: the lightness change (edges crossed) at which a hint's hold halves;
                           0: a hint holds only its own pixels (the scene pass sees it only there) */
    const nn_reference *reference; /* a finished colour reference (the caller keeps it), or NULL */
    float reference_weight;        /* its weight, (0, NN_MAX_REFERENCE_WEIGHT] */
} nn_engine_params;

nn_engine_params nn_engine_default_params(void);

/* Progress in [0, 1]. */
typedef void (*nn_progress_fn)(double fraction, void *user);

/* The streaming engine, for images larger than one wants in memory as
 * float planes: begin, feed every row of full-resolution L once, top to
 * bottom (with optional hints), predict (the network at working scale),
 * then ask for full-resolution ab rows in any order, from the same L.
 * It holds only working-scale planes (a few MB at resolution 2048). */
typedef struct nn_engine nn_engine;

/* Strokes are thinned to one hint per NN_HINT_SPACING² working pixels, the
 * density of the sparse hints the network was trained on. */
#define NN_HINT_SPACING 6
/* A point hint covers NN_POINT_HINT_SIDE² working pixels (the training's
 * largest hint patch). */
#define NN_POINT_HINT_SIDE 3
/* Suggested colours differ by at least this much in ab. */
#define NN_SUGGESTION_SEPARATION 25.0f

/* A hint at one point: full-resolution pixel coordinates and its ab. */
typedef struct {
    double x, y;
    float a, b;
} nn_point_hint;

/* Checks the parameters and sizes; NN_ERR_INVALID names the bad one. */
nn_status nn_engine_begin(nn_engine **e, int width, int height, const nn_engine_params *params,
                          nn_error *err);
void nn_engine_get_working_size(const nn_engine *e, int *ww, int *wh);
/* Rows y0 .. y0+rows-1 of L; hints (all three or none): every pixel with
 * mask > 0.5 gives its ab to the working pixel it falls in (averaged, then
 * fitted into the gamut at that pixel's lightness, keeping the hue). */
nn_status nn_engine_add_rows(nn_engine *e, int y0, int rows,
                             const float *L,         // (rows, W) in Lab units
                             const float *hint_a,    // (rows, W) or NULL
                             const float *hint_b,    // (rows, W) or NULL
                             const float *hint_mask, // (rows, W) or NULL
                             nn_error *err);
/* Covers the working image with tiles overlapping by half a tile, runs them
 * through the network in large batches, blends them with a Hann window and
 * fits the guided filter. Progress goes from 0 to 1 over the tiles; *cancel
 * is checked between batches (NN_ERR_CANCELLED). */
nn_status nn_engine_predict(nn_engine *e, nn_colorizer *c, nn_progress_fn progress, void *user,
                            const volatile int *cancel, nn_error *err);
/* Predicts without the network: the network's colour of `base` (a predicted
 * engine of the same image size and working size, its colour as its own
 * settings, hints, scene and reference made it) with this engine's own
 * hints carried over it. What a preview shows at once while a point is
 * dragged or recoloured, until the network's pass for the new hints is
 * ready; with the base's hints it gives the base's result, bit for bit.
 * base is only read (threads may share it); this engine has no scene pass,
 * so its suggestions are the tiles' alone. */
nn_status nn_engine_predict_from(nn_engine *e, const nn_engine *base, nn_error *err);
/* Full-resolution ab (saturation applied) for rows y0 .. y0+rows-1, guided
 * by the same rows of L. Read-only: threads may ask for disjoint rows. */
void nn_engine_ab_rows(const nn_engine *e, int y0, int rows,
                       const float *L, // (rows, W)
                       float *a,       // (rows, W) output
                       float *b);      // (rows, W) output
/* ab for a region sampled on its own grid: output pixel (i, r) is centred
 * at full-resolution coordinates (x0 + (i + 0.5)·step_x, y0 + (r + 0.5)·step_y),
 * guided by L at those pixels; this is what a zoomed preview shows. */
nn_status nn_engine_ab_region(const nn_engine *e, double x0, double y0, double step_x, double step_y, int w, int rows,
                              const float *L, // (rows, w)
                              float *a,       // (rows, w) output
                              float *b,       // (rows, w) output
                              nn_error *err);
/* After predict: the colour (a, b) the engine gives full-resolution
 * position (x, y), guided by the working L there, before saturation: what
 * a point placed there keeps, so that placing it changes nothing by
 * itself. */
nn_status nn_engine_colour_at(const nn_engine *e, double x, double y, float ab[2], nn_error *err);
/* Adds a point hint (before predict): colour (a, b) at full-resolution
 * position (x, y). It wins over strokes where they overlap. */
nn_status nn_engine_add_point_hint(nn_engine *e, double x, double y, float a, float b, nn_error *err);
/* After predict: up to k colours the network finds most likely at (x, y)
 * (its faithful distribution there, given the other hints but not one at
 * that point), most likely first, at least NN_SUGGESTION_SEPARATION apart;
 * ab (k, 2), prob (k); *found says how many. Uses the model: not while
 * another thread predicts with it. */
nn_status nn_engine_suggest(const nn_engine *e, nn_colorizer *c, double x, double y, int k, float *ab,
                            float *prob, int *found, nn_error *err);
/* L at working scale under full-resolution position (x, y) (after predict). */
float nn_engine_lightness_at(const nn_engine *e, double x, double y);
/* How firmly the propagated hints hold the working pixel under
 * full-resolution position (x, y), 0..1 (after predict; 0 without hints or
 * propagation): where it is 1/2 or more, the hints' colour wins. */
float nn_engine_hint_hold_at(const nn_engine *e, double x, double y);
/* Which hint's region the working pixel under full-resolution position
 * (x, y) lies in, where the hints hold it by 1/2 or more (after predict):
 * a point's index in the order the engine was given them (0 .. points - 1),
 * or from the points' count on one piece of a stroke of one colour; hints
 * of one colour (NN_HINT_SAME_COLOUR) share the first one's region. -1
 * where no hint holds it so. */
int nn_engine_hint_region_at(const nn_engine *e, double x, double y);
/* Changes the saturation that ab comes out with (no new prediction needed). */
void nn_engine_set_saturation(nn_engine *e, float saturation);
void nn_engine_free(nn_engine *e);

/* The whole engine on full planes: downscales L to the working resolution,
 * predicts there and brings ab back to full resolution with a guided filter
 * whose guide is the full-resolution L; then applies saturation. The caller
 * recombines ab with its own L, so detail and brightness stay the source's. */
nn_status nn_engine_colorize(nn_colorizer *c,
                             const float *L,         // (H, W) in Lab units
                             int width, int height,
                             const float *hint_ab,   // (2, H, W) or NULL
                             const float *hint_mask, // (H, W) or NULL
                             const nn_engine_params *params,
                             float *ab,              // (2, H, W) output
                             nn_progress_fn progress, void *user, const volatile int *cancel,
                             nn_error *err);

#ifdef __cplusplus
}
#endif
#endif
