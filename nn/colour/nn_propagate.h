/* nn_propagate.h — edge-aware propagation of the user's colour hints at
 * working scale: each hint (a point's patch, a connected stroke) is a seed;
 * its hold on a pixel falls with the geodesic distance to it, measured in
 * lightness changes crossed (above a noise floor) plus a small cost for
 * length, so a hint fills its region and stops at the region's edges;
 * the lightness is seen through a median filter, so that grain and thin
 * lines are no edges.
 * Implemented by propagate.c. Part of the nn library; include nn.h for all of
 * it. */
#ifndef NN_PROPAGATE_H
#define NN_PROPAGATE_H

#include "nn_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How far a hint travels (all in L* units, 0..100). */
typedef struct {
    float reach;   /* accumulated lightness change at which a hint's hold halves */
    float texture; /* the change between neighbours that counts as texture, not an edge (not counted) */
    float length;  /* what crossing the image's long side costs, on top of the edges crossed */
    float contest; /* where several hints reach a pixel, the one nearest wins, the changes under `texture`
                      counting at this share (0 .. 1); the hold leaves them out */
    float smooth;   /* where two seeds' regions meet, their colours are blended over this share of the long
                       side (0: not at all) ... */
    float smooth_l; /* ... where lightness changes by less than about this */
    float denoise;  /* the lightness is seen through a median filter of this radius, as a share of the long
                       side in [0, 1) (0: as it is), so that grain and lines up to about that wide (specks
                       up to about 1.5 times) are no edge; where a seed's own lightness lies more than 6
                       units from the filtered one, the thin structure under it is seen as it is */
} nn_propagation_params;

/* The median filter's values are multiples of 1/NN_MEDIAN_BINS_PER_UNIT. */
#define NN_MEDIAN_BINS_PER_UNIT 8
#define NN_MAX_MEDIAN_RADIUS 1024

/* out: L through a (2r+1)² median filter, borders replicated, to the
 * nearest 1/NN_MEDIAN_BINS_PER_UNIT of an L* unit, L clamped to 0..100
 * first (NaN taken as 0); r = 0 copies L (out may then be L).
 * NN_ERR_INVALID unless w, h >= 1 and 0 <= r <= NN_MAX_MEDIAN_RADIUS;
 * NN_ERR_NOMEM without scratch. */
nn_status nn_median_lightness(const float *L, // (h, w)
                              int w, int h, int r,
                              float *out,     // (h, w) output
                              nn_error *err);

/* Seeds give their colours to a w×h plane: seed[k] is the seed id of pixel k
 * (0 .. n_seeds-1) or -1; seed_ab (n_seeds, 2) their ab, and optionally
 * seed_L (n_seeds) the lightness they were given at. For every pixel:
 * hold in [0, 1], how firmly its geodesically nearest seed holds it
 * (2^-(d/reach)^4: 1 on the seed and within its region, 1/2 at `reach`,
 * 2^-16 at twice that), and hint_ab, that seed's colour, blended with its
 * neighbours' where regions meet in a smooth area (0 where no seed holds);
 * hint_L likewise the seed's lightness (with seed_L and hint_L, else
 * neither is used); and, where `owner` is given, the seed whose region each
 * pixel lies in (the one that takes it, at any hold; -1 where none reaches).
 * NN_ERR_NOMEM where the queue cannot be had. */
nn_status nn_propagate_hints(const float *L,       // (h, w) L* at working scale
                             int w, int h,
                             const int *seed,      // (h, w) seed id or -1
                             const float *seed_ab, // (n_seeds, 2)
                             const float *seed_L,  // (n_seeds) or NULL
                             const nn_propagation_params *p,
                             float *hint_ab,       // (2, h, w) output
                             float *hint_L,        // (h, w) output, or NULL
                             float *hold,          // (h, w) output
                             int *owner,           // (h, w) output, or NULL
                             nn_error *err);

/* Painted pixels within this ab distance of where a stroke starts belong
 * to one seed. */
#define NN_STROKE_SEED_TOLERANCE 12.0f

/* Makes seeds of the painted pixels not yet seeded (cover > 0, seed -1):
 * each 4-connected group of colours within NN_STROKE_SEED_TOLERANCE of its
 * first pixel is one seed, ids from n_seeds on, carrying its mean colour
 * into seed_ab (room for one seed per pixel). Returns the seeds in all.
 * stack: w·h ints of scratch. */
int nn_stroke_seeds(const float *ab,    // (2, h, w) painted colours
                    const float *cover, // (h, w) painted share, 0: none
                    int w, int h,
                    int *seed,          // (h, w) in and out
                    float *seed_ab,     // (n_seeds + new, 2) out
                    int n_seeds, int *stack);

#ifdef __cplusplus
}
#endif
#endif
