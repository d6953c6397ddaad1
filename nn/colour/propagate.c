/* propagate.c — edge-aware propagation of colour hints: a multi-source
 * Dijkstra over the 8-connected working image whose step cost is the
 * lightness change crossed (less a texture allowance) plus a small cost for
 * length. Every pixel takes its geodesically nearest seed's colour, held
 * as firmly as that distance allows (2^-(d/reach)^4); which seed is
 * nearest, where several reach, is settled by a second search that counts
 * the changes under the allowance too (p->contest); where the regions of
 * two seeds meet inside a smooth area the colours are blended by the
 * domain transform's edge-aware recursive filter (Gastal and Oliveira
 * 2011), weighted by the hold. A geodesic distance, unlike a diffusion
 * (Levin et al. 2004), does not leak through a weak edge by summing over
 * its length: one edge crossed is one cost paid. The lightness is seen
 * through a median filter (p->denoise), so that grain, wrinkles and other
 * thin lines are not edges while the edges between regions stay put; the
 * thin structure a seed sits on is seen as it is. */
#include "nn_propagate.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Past this many times the reach a seed's hold is below 2^-256 and
 * nothing more is spread. */
#define MAX_REACH_FACTOR 4.0f

typedef struct {
    float d;
    int node, seed;
} heap_item;

typedef struct {
    heap_item *items;
    size_t n, cap;
} heap;

static int heap_push(heap *q, heap_item it) {
    if (q->n == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 1024;
        heap_item *p = realloc(q->items, sizeof *p * cap);
        if (!p) return -1;
        q->items = p, q->cap = cap;
    }
    size_t i = q->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (q->items[parent].d <= it.d) break;
        q->items[i] = q->items[parent];
        i = parent;
    }
    q->items[i] = it;
    return 0;
}

static heap_item heap_pop(heap *q) {
    heap_item top = q->items[0], last = q->items[--q->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->n) break;
        if (c + 1 < q->n && q->items[c + 1].d < q->items[c].d) c++;
        if (last.d <= q->items[c].d) break;
        q->items[i] = q->items[c];
        i = c;
    }
    if (q->n) q->items[i] = last;
    return top;
}

/* The median filter's histogram: bins of 1/NN_MEDIAN_BINS_PER_UNIT L*
 * unit over 0..100, far finer than the texture allowance. */
#define MEDIAN_BINS (100 * NN_MEDIAN_BINS_PER_UNIT + 1)

/* Clamped to 0..100 before rounding (NaN goes to 0). */
static inline uint16_t lightness_bin(float l) {
    const float clamped = l > 0.0f ? (l < 100.0f ? l : 100.0f) : 0.0f;
    return (uint16_t)lrintf(clamped * NN_MEDIAN_BINS_PER_UNIT);
}

/* Moves *median_bin (with *below, the count in the bins under it) to the
 * bin of the value of rank median_rank (0-based). */
static inline void settle_median(const int *hist, int median_rank, int *median_bin, int *below) {
    while (*below > median_rank) *below -= hist[--*median_bin];
    while (*below + hist[*median_bin] <= median_rank) *below += hist[(*median_bin)++];
}

static inline int clamp_index(int i, int n) { return i < 0 ? 0 : i >= n ? n - 1 : i; }

/* One row of the median filter: Huang's sliding histogram, a column of
 * 2r+1 bins leaving and one entering at each step (rows and columns
 * clamped to the image). */
static void median_row(const uint16_t *bin, // (h, w)
                       int w, int h, int r, int y,
                       int *hist,           // (MEDIAN_BINS) scratch
                       float *out) {        // (h, w)
    const int median_rank = (2 * r + 1) * (2 * r + 1) / 2;
    int median_bin = 0, below = 0;
    memset(hist, 0, sizeof(int) * MEDIAN_BINS);
    for (int j = -r; j <= r; j++) {
        const uint16_t *row = bin + (size_t)clamp_index(y + j, h) * w;
        for (int i = -r; i <= r; i++) hist[row[clamp_index(i, w)]]++;
    }
    for (int x = 0; x < w; x++) {
        if (x > 0) {
            const int leaving = clamp_index(x - r - 1, w), entering = clamp_index(x + r, w);
            for (int j = -r; j <= r; j++) {
                const uint16_t *row = bin + (size_t)clamp_index(y + j, h) * w;
                hist[row[leaving]]--, below -= row[leaving] < median_bin;
                hist[row[entering]]++, below += row[entering] < median_bin;
            }
        }
        settle_median(hist, median_rank, &median_bin, &below);
        out[(size_t)y * w + x] = (float)median_bin / NN_MEDIAN_BINS_PER_UNIT;
    }
}

nn_status nn_median_lightness(const float *L, int w, int h, int r, float *out, nn_error *err) {
    if (w < 1 || h < 1 || r < 0 || r > NN_MAX_MEDIAN_RADIUS)
        return nn_set_error(err, NN_ERR_INVALID, "a median filter of radius %d over %d×%d pixels (the radius may be "
                            "0..%d)", r, w, h, NN_MAX_MEDIAN_RADIUS);
    const size_t n = (size_t)w * h;
    if (r == 0) {
        memmove(out, L, sizeof(float) * n);
        return NN_OK;
    }
    uint16_t *bin = malloc(sizeof(uint16_t) * n); // (h, w)
    int *hist = malloc(sizeof(int) * MEDIAN_BINS); // (MEDIAN_BINS)
    if (!bin || !hist) {
        free(bin), free(hist);
        return nn_set_error(err, NN_ERR_NOMEM, "out of memory for the median filter of a %d×%d image", w, h);
    }
    for (size_t k = 0; k < n; k++) bin[k] = lightness_bin(L[k]);
    for (int y = 0; y < h; y++) median_row(bin, w, h, r, y, hist, out);
    free(bin), free(hist);
    return NN_OK;
}

/* A seed whose own lightness lies this far (L* units) from the filtered
 * one sits on something thinner than the median filter; the structure
 * under it reaches as far as the lightness lies half this far from the
 * filtered one on the same side. */
#define THIN_STRUCTURE_CONTRAST 6.0f

/* The mean of L - seen under each seed's pixels. */
static void seed_offsets(const float *L,    // (n)
                         const float *seen, // (n)
                         const int *seed,   // (n)
                         size_t n, int n_seeds,
                         float *offset,     // (n_seeds) output
                         int *count) {      // (n_seeds) scratch
    for (int s = 0; s < n_seeds; s++) offset[s] = 0.0f, count[s] = 0;
    for (size_t k = 0; k < n; k++)
        if (seed[k] >= 0) offset[seed[k]] += L[k] - seen[k], count[seed[k]]++;
    for (int s = 0; s < n_seeds; s++) offset[s] = count[s] ? offset[s] / (float)count[s] : 0.0f;
}

/* Marks (side[k] = +1 or -1) the pixels 8-connected to those already
 * marked whose lightness lies more than THIN_STRUCTURE_CONTRAST / 2 from
 * the filtered one on the marked side; stack holds the marked pixels to
 * grow from (top of them). */
static void flood_structure(const float *L, const float *seen, int w, int h,
                            int8_t *side, // (h, w) in and out
                            int *stack,   // (h, w) scratch
                            size_t top) {
    while (top) {
        const int k = stack[--top], x = k % w, y = k / w;
        for (int j = -1; j <= 1; j++)
            for (int i = -1; i <= 1; i++) {
                const int nx = x + i, ny = y + j;
                if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
                const size_t k2 = (size_t)ny * w + nx;
                if (side[k2] || !((float)side[k] * (L[k2] - seen[k2]) > 0.5f * THIN_STRUCTURE_CONTRAST)) continue;
                side[k2] = side[k], stack[top++] = (int)k2;
            }
    }
}

/* Where a seed sits on something thinner than the filter (a ribbon, a
 * stem, a pole), the filter would erase what was clicked and let the seed
 * spread over its surroundings: the structure under it (the seed's pixels
 * and those 8-connected to them on its side of the filtered lightness,
 * flood_structure) is seen as it is. */
static nn_status keep_clicked_structures(const float *L, float *seen, const int *seed, int w, int h, nn_error *err) {
    const size_t n = (size_t)w * h;
    int n_seeds = 0;
    for (size_t k = 0; k < n; k++)
        if (seed[k] >= n_seeds) n_seeds = seed[k] + 1;
    float *offset = malloc(sizeof(float) * (size_t)(n_seeds ? n_seeds : 1)); // (n_seeds)
    int *count = malloc(sizeof(int) * (size_t)(n_seeds ? n_seeds : 1));      // (n_seeds)
    int *stack = NULL;                                                      // (h, w)
    int8_t *side = NULL;                                                    // (h, w)
    nn_status st = NN_OK;
    if (!offset || !count) goto out_of_memory;
    seed_offsets(L, seen, seed, n, n_seeds, offset, count);
    int any = 0;
    for (int s = 0; s < n_seeds; s++) any |= fabsf(offset[s]) > THIN_STRUCTURE_CONTRAST;
    if (!any) goto done;
    stack = malloc(sizeof(int) * n), side = calloc(n, 1);
    if (!stack || !side) goto out_of_memory;
    size_t top = 0;
    for (size_t k = 0; k < n; k++)
        if (seed[k] >= 0 && fabsf(offset[seed[k]]) > THIN_STRUCTURE_CONTRAST)
            side[k] = offset[seed[k]] < 0.0f ? -1 : 1, stack[top++] = (int)k;
    flood_structure(L, seen, w, h, side, stack, top);
    for (size_t k = 0; k < n; k++)
        if (side[k]) seen[k] = L[k];
    goto done;
out_of_memory:
    st = nn_set_error(err, NN_ERR_NOMEM, "out of memory for the hint propagation of a %d×%d image", w, h);
done:
    free(offset), free(count), free(stack), free(side);
    return st;
}

/* The lightness the hints travel over: L through the median filter, but
 * as it is on the thin structures that seeds sit on. */
static nn_status seen_lightness(const float *L, int w, int h, const int *seed, int r, float *seen, nn_error *err) {
    nn_status st = nn_median_lightness(L, w, h, r, seen, err);
    return !st && r >= 1 ? keep_clicked_structures(L, seen, seed, w, h, err) : st;
}

/* The cost of the step from pixel k to its neighbour k2, `len` apart:
 * the lightness change beyond `texture`, and `below` of the part under it. */
static inline float step_cost(const float *L, size_t k, size_t k2, float len, float per_pixel, float texture,
                              float below) {
    const float dl = fabsf(L[k] - L[k2]);
    return len * per_pixel + (dl > texture ? dl - texture + below * texture : below * dl);
}

/* Settles each pixel's nearest seed (nearest[k], -1 if none within
 * MAX_REACH_FACTOR × reach) and its distance (dist[k]), in order of
 * distance, the changes under the texture allowance counting at `below`.
 * With `within`, the search keeps to the pixels where within[k] >= 0,
 * however far, instead of to the reach. */
static nn_status search(const float *L, int w, int h, const int *seed, const nn_propagation_params *p, float below,
                        const int *within, int *nearest, float *dist, nn_error *err) {
    static const int dx[8] = {1, -1, 0, 0, 1, 1, -1, -1}, dy[8] = {0, 0, 1, -1, 1, -1, 1, -1};
    static const float len[8] = {1, 1, 1, 1, (float)M_SQRT2, (float)M_SQRT2, (float)M_SQRT2, (float)M_SQRT2};
    const size_t n = (size_t)w * h;
    const float per_pixel = p->length / (float)(w > h ? w : h);
    const float limit = within ? INFINITY : MAX_REACH_FACTOR * p->reach;
    heap q = {0};
    nn_status st = NN_OK;
    for (size_t k = 0; k < n; k++) nearest[k] = -1, dist[k] = INFINITY; /* dist: the best known until settled */
    for (size_t k = 0; k < n && !st; k++)
        if (seed[k] >= 0) {
            dist[k] = 0.0f;
            if (heap_push(&q, (heap_item){0.0f, (int)k, seed[k]})) st = NN_ERR_NOMEM;
        }
    while (!st && q.n) {
        const heap_item it = heap_pop(&q);
        if (nearest[it.node] >= 0) continue;
        nearest[it.node] = it.seed;
        const int x = it.node % w, y = it.node / w;
        for (int i = 0; i < 8 && !st; i++) {
            const int nx = x + dx[i], ny = y + dy[i];
            if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
            const size_t k2 = (size_t)ny * w + nx;
            if (nearest[k2] >= 0 || (within && within[k2] < 0)) continue;
            const float d = it.d + step_cost(L, (size_t)it.node, k2, len[i], per_pixel, p->texture, below);
            if (d > limit || !(d < dist[k2])) continue; /* only improvements are queued */
            dist[k2] = d;
            if (heap_push(&q, (heap_item){d, (int)k2, it.seed})) st = NN_ERR_NOMEM;
        }
    }
    free(q.items);
    return st ? nn_set_error(err, st, "out of memory for the hint propagation of a %d×%d image", w, h) : NN_OK;
}

/* Which seed each pixel takes (nearest) and how far the nearest of all is
 * (dist): two searches, the first (for the hold) leaving the lightness
 * changes under the texture allowance out, the second (which seed wins
 * where several reach) counting them at p->contest, over every pixel the
 * first reached (each first-search path lies in that set, so the second
 * reaches them all: no seam where its own distance would pass the reach). */
static nn_status nearest_seeds(const float *L, int w, int h, const int *seed, const nn_propagation_params *p,
                               int *nearest, float *dist, nn_error *err) {
    const size_t n = (size_t)w * h;
    nn_status st = search(L, w, h, seed, p, 0.0f, NULL, nearest, dist, err);
    if (st || !(p->contest > 0.0f)) return st;
    int *winner = malloc(sizeof(int) * n);
    float *scratch = malloc(sizeof(float) * n);
    st = !winner || !scratch ? nn_set_error(err, NN_ERR_NOMEM, "out of memory for the hint propagation of a %d×%d "
                                            "image", w, h)
                             : search(L, w, h, seed, p, p->contest, nearest, winner, scratch, err);
    for (size_t k = 0; k < n && !st; k++)
        if (winner[k] >= 0) nearest[k] = winner[k];
    free(winner), free(scratch);
    return st;
}

/* One pass of the domain transform's recursive filter (Gastal and Oliveira
 * 2011) along n samples `stride` apart, forwards then backwards: each
 * sample is pulled towards its neighbour by a^(1 + ratio·|ΔL|), so the
 * smoothing stops at lightness edges. */
static void recursive_pass(float *v, int channels, size_t plane, const float *L, int n, size_t stride, float a,
                           float ratio) {
    for (int i = 1; i < n; i++) {
        const size_t k = i * stride, p = k - stride;
        const float f = powf(a, 1.0f + ratio * fabsf(L[k] - L[p]));
        for (int c = 0; c < channels; c++) v[c * plane + k] += f * (v[c * plane + p] - v[c * plane + k]);
    }
    for (int i = n - 2; i >= 0; i--) {
        const size_t k = i * stride, p = k + stride;
        const float f = powf(a, 1.0f + ratio * fabsf(L[k] - L[p]));
        for (int c = 0; c < channels; c++) v[c * plane + k] += f * (v[c * plane + p] - v[c * plane + k]);
    }
}

/* Edge-aware smoothing of the planes v (channels × w·h) over sigma pixels,
 * lightness changes of sigma_l counting as sigma pixels: three iterations
 * of rows then columns, the spatial scale shrinking as the paper says. */
static void smooth_along_edges(float *v, int channels, const float *L, int w, int h, float sigma, float sigma_l) {
    const size_t plane = (size_t)w * h;
    const int iterations = 3;
    for (int it = 0; it < iterations; it++) {
        const float s = sigma * sqrtf(3.0f) * powf(2.0f, (float)(iterations - it - 1)) /
                        sqrtf(powf(4.0f, (float)iterations) - 1.0f);
        const float a = expf(-sqrtf(2.0f) / s), ratio = sigma / sigma_l;
        for (int y = 0; y < h; y++) recursive_pass(v + (size_t)y * w, channels, plane, L + (size_t)y * w, w, 1, a, ratio);
        for (int x = 0; x < w; x++) recursive_pass(v + x, channels, plane, L + x, h, (size_t)w, a, ratio);
    }
}

/* The median filter's radius in pixels: p->denoise of the long side
 * (0 unless that is a share in [0, 1)). */
static int denoise_radius(const nn_propagation_params *p, int w, int h) {
    return p->denoise > 0.0f && p->denoise < 1.0f ? (int)lrintf(p->denoise * (float)(w > h ? w : h)) : 0;
}

nn_status nn_propagate_hints(const float *L, int w, int h, const int *seed, const float *seed_ab, const float *seed_L,
                             const nn_propagation_params *p, float *hint_ab, float *hint_L, float *hold, int *owner,
                             nn_error *err) {
    const size_t n = (size_t)w * h;
    const int channels = seed_L && hint_L ? 4 : 3;
    int *nearest = malloc(sizeof(int) * n);
    float *v = malloc(sizeof(float) * channels * n); /* hold × a, hold × b, hold (, hold × L); the distances first */
    float *seen = malloc(sizeof(float) * n);          /* (h, w) the lightness through the median filter */
    nn_status st = !nearest || !v || !seen ? nn_set_error(err, NN_ERR_NOMEM, "out of memory for the hint "
                                                          "propagation of a %d×%d image", w, h)
                                           : seen_lightness(L, w, h, seed, denoise_radius(p, w, h), seen, err);
    if (!st) st = nearest_seeds(seen, w, h, seed, p, nearest, v, err);
    if (st) {
        free(nearest), free(v), free(seen);
        return st;
    }
    const float reach = p->reach > 1e-3f ? p->reach : 1e-3f;
    for (size_t k = 0; k < n; k++) {
        const int s = nearest[k];
        const float r = s >= 0 ? v[k] / reach : 0.0f;
        hold[k] = s >= 0 ? exp2f(-(r * r) * (r * r)) : 0.0f;
    }
    if (owner) memcpy(owner, nearest, sizeof(int) * n);
    for (size_t k = 0; k < n; k++) {
        const int s = nearest[k];
        v[k] = s >= 0 ? hold[k] * seed_ab[2 * s] : 0.0f, v[n + k] = s >= 0 ? hold[k] * seed_ab[2 * s + 1] : 0.0f;
        v[2 * n + k] = hold[k];
        if (channels == 4) v[3 * n + k] = s >= 0 ? hold[k] * seed_L[s] : 0.0f;
    }
    /* the seeds' regions meet along lines: blend them where the image is smooth, weighted by the hold */
    const float sigma = p->smooth * (float)(w > h ? w : h);
    if (sigma > 0.5f) smooth_along_edges(v, channels, seen, w, h, sigma, p->smooth_l > 1e-3f ? p->smooth_l : 1e-3f);
    for (size_t k = 0; k < n; k++) {
        const float wt = v[2 * n + k];
        hint_ab[k] = wt > 1e-6f ? v[k] / wt : 0.0f, hint_ab[n + k] = wt > 1e-6f ? v[n + k] / wt : 0.0f;
        if (channels == 4) hint_L[k] = wt > 1e-6f ? v[3 * n + k] / wt : 0.0f;
    }
    free(nearest), free(v), free(seen);
    return NN_OK;
}

int nn_stroke_seeds(const float *ab, const float *cover, int w, int h, int *seed, float *seed_ab, int n_seeds,
                    int *stack) {
    const size_t n = (size_t)w * h;
    const float tol2 = NN_STROKE_SEED_TOLERANCE * NN_STROKE_SEED_TOLERANCE;
    for (size_t start = 0; start < n; start++) {
        if (!(cover[start] > 0.0f) || seed[start] >= 0) continue;
        const float a0 = ab[start], b0 = ab[n + start];
        double sa = 0.0, sb = 0.0;
        int top = 0, count = 0;
        seed[start] = n_seeds, stack[top++] = (int)start;
        while (top) {
            const int k = stack[--top], x = k % w, y = k / w;
            sa += ab[k], sb += ab[n + k], count++;
            const int nb[4] = {x > 0 ? k - 1 : -1, x + 1 < w ? k + 1 : -1, y > 0 ? k - w : -1, y + 1 < h ? k + w : -1};
            for (int i = 0; i < 4; i++) {
                const int k2 = nb[i];
                if (k2 < 0 || !(cover[k2] > 0.0f) || seed[k2] >= 0) continue;
                const float da = ab[k2] - a0, db = ab[n + k2] - b0;
                if (da * da + db * db > tol2) continue;
                seed[k2] = n_seeds, stack[top++] = k2;
            }
        }
        seed_ab[2 * n_seeds] = (float)(sa / count), seed_ab[2 * n_seeds + 1] = (float)(sb / count);
        n_seeds++;
    }
    return n_seeds;
}
