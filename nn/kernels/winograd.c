/* winograd.c — Winograd F(2×2, 3×3) and F(4×4, 3×3) for the 3×3 stride-1
 * pad-1 convolutions (nn_winograd.h): the weight, input and output
 * transforms in portable loops (AVX-512 ones in winograd_x86.c), the 16 or
 * 36 products on the packed GEMM, the input gradient through the flipped
 * weights and the weight gradient. */
#include "nn_winograd.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "nn_cpu.h"
#include "nn_winograd_x86.h"
#include "../private/nn_internal.h"

/* ------------------------------------------------ Winograd F(2×2, 3×3) */
/* For 3×3, stride-1, pad-1 convolutions (inference; in training the
 * forward pass, the input gradient and the weight gradient): each 2×2
 * output block comes from a 4×4 input tile, V = Bᵀ d B, and the weights are
 * transformed once, U = G g Gᵀ; the 16 positions of the transformed domain
 * are 16 independent GEMMs M_k = U_k V_k, and Y = Aᵀ M A gives the outputs.
 * The tiles run in blocks of tile rows small enough that a block's V and M
 * stay in the core's cache from the input transform through the products
 * to the output transform. 2.25× fewer multiplications than im2col, and
 * the transformed input is 4 floats per pixel where im2col writes 9.
 * F(4×4, 3×3) below serves fp32 inference where AVX-512 runs its
 * transforms. */

int nn_conv2d_winograd_applies(nn_conv2d_dims d) {
    return d.k == 3 && d.stride == 1 && d.pad == 1 && d.dilation == 1;
}

size_t nn_conv2d_winograd_weight_floats(nn_conv2d_dims d) { return (size_t)16 * d.c_out * d.c_in; }

/* G of F(2×2, 3×3) and of F(4×4, 3×3) (points 0, ±1, ±2). */
static const double WINOGRAD_G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
static const double WINOGRAD_G4[6][3] = {{1.0 / 4, 0, 0},
                                         {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                         {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                         {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                         {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                         {0, 0, 1}};

/* u = G g Gᵀ (t×t, G t×3) in double for the c_in kernels of one output
 * channel, g: (c_in, 3, 3), each flipped by 180° with `flip`; position
 * t·i + k of kernel ci goes to U[(t·i + k)·plane + ci·stride]. The taps
 * are first laid out tap by tap so that every step is a loop over the
 * kernels. scratch: (9 + 3t)·c_in doubles. */
NN_VECTOR_CLONES static void winograd_kernels(float *U, size_t plane, size_t stride, const float *g, int c_in,
                                              int flip, const double (*G)[3], int t, double *scratch) {
    double *k = scratch, *Gg = scratch + 9 * (size_t)c_in; /* k[tap][ci], Gg[i][c][ci] */
    for (int tap = 0; tap < 9; tap++)
        for (int ci = 0; ci < c_in; ci++) k[(size_t)tap * c_in + ci] = g[(size_t)ci * 9 + (flip ? 8 - tap : tap)];
    for (int i = 0; i < t; i++)
        for (int c = 0; c < 3; c++) {
            double *gg = Gg + (size_t)(3 * i + c) * c_in;
            const double *k0 = k + (size_t)c * c_in, *k1 = k + (size_t)(3 + c) * c_in, *k2 = k + (size_t)(6 + c) * c_in;
            for (int ci = 0; ci < c_in; ci++) gg[ci] = G[i][0] * k0[ci] + G[i][1] * k1[ci] + G[i][2] * k2[ci];
        }
    for (int i = 0; i < t; i++)
        for (int j = 0; j < t; j++) {
            const double *g0 = Gg + (size_t)(3 * i) * c_in, *g1 = g0 + c_in, *g2 = g1 + c_in;
            float *u = U + (size_t)(t * i + j) * plane;
            for (int ci = 0; ci < c_in; ci++)
                u[(size_t)ci * stride] = (float)(g0[ci] * G[j][0] + g1[ci] * G[j][1] + g2[ci] * G[j][2]);
        }
}

typedef struct {
    float *U;
    const float *weight;
    nn_conv2d_dims d;
    int transposed;
    const double (*G)[3];
    int t; /* G's rows: 4 or 6 */
} winograd_weights_job;

static void winograd_weights_rows(void *ctx, int co0, int co1) {
    const winograd_weights_job *j = ctx;
    const nn_conv2d_dims d = j->d;
    const size_t plane = (size_t)d.c_out * d.c_in;
    double *scratch = malloc(sizeof(double) * (9 + 3 * (size_t)j->t) * d.c_in);
    for (int co = co0; co < co1; co++) {
        const float *g = j->weight + (size_t)co * d.c_in * 9;
        float *u = j->transposed ? j->U + co : j->U + (size_t)co * d.c_in;
        const size_t stride = j->transposed ? (size_t)d.c_out : 1;
        if (scratch) {
            winograd_kernels(u, plane, stride, g, d.c_in, j->transposed, j->G, j->t, scratch);
            continue;
        }
        for (int ci = 0; ci < d.c_in; ci++) { /* no memory for the scratch: a kernel at a time */
            double one[9 + 3 * 6];
            winograd_kernels(u + (size_t)ci * stride, plane, stride, g + (size_t)ci * 9, 1, j->transposed, j->G, j->t,
                             one);
        }
    }
    free(scratch);
}

/* U for every kernel, over the output channels in parallel. */
static void winograd_weights(float *U, const float *weight, nn_conv2d_dims d, int transposed, const double (*G)[3],
                             int t) {
    winograd_weights_job j = {U, weight, d, transposed, G, t};
    nn_parallel_for(d.c_out, winograd_weights_rows, &j);
}

void nn_conv2d_winograd_weights(float *U, const float *weight, nn_conv2d_dims d) {
    winograd_weights(U, weight, d, 0, WINOGRAD_G2, 4);
}

void nn_conv2d_winograd_weights_transposed(float *U, const float *weight, nn_conv2d_dims d) {
    /* the input gradient of a 3×3 stride-1 pad-1 convolution is the same
     * kind of convolution of dout, with each kernel flipped by 180° and
     * c_in, c_out swapped */
    winograd_weights(U, weight, d, 1, WINOGRAD_G2, 4);
}

typedef struct {
    const float *in;  // (nb, c_split, h, w): the input's first c_split channels
    const float *in2; // (nb, c_in - c_split, h, w): the rest, or NULL where c_split = c_in
    int c_split;
    const float *U;   // (16, c_out, c_in)
    float *out;       // (nb, c_out, h, w)
    const float *bias;
    int c_in, c_out, h, w, nb, th, tw; /* th × tw tiles per image */
    int rows_per_block;     /* tile rows per block */
    int tile;      /* outputs a tile side: 2 for F(2×2, 3×3), 4 for F(4×4, 3×3) */
    int positions; /* of the transformed domain: 16 or 36 */
    nn_gemm_packed_a *packed_u[NN_WINOGRAD4_POSITIONS]; /* U_k packed once for the blocks' products */
    nn_precision precision; /* of the forward pass's products */
    nn_epilogue ep;         /* applied to the outputs */
    atomic_int failed; /* a range could not get its buffers */
} winograd_job;

/* Tile rows whose row pointers are gathered at a time (a multiple of the
 * AVX-512 transforms' group, 32 / w rows). */
#define WINOGRAD_ROWS_AT_ONCE 16

/* One row of tiles of V = Bᵀ d B from its four input rows r[0..3] (w
 * floats each; a row of zeros outside the image): the rows are combined
 * vertically into t_i over x = -1 .. 2 tw (zero beyond the image's
 * columns), then each of the 16 outputs (o, position planes `plane` apart)
 * is a vector operation along the row of tiles. t: 4 (2 tw + 2) floats. */
NN_VECTOR_CLONES static void winograd_input_tile_row(const float *restrict r0, const float *restrict r1,
                                                    const float *restrict r2, const float *restrict r3, int w, int tw,
                                                    float *restrict t, float *restrict o, size_t plane) {
    const int pw = 2 * tw + 2; /* x = -1 .. 2·tw */
    float *restrict t0 = t, *restrict t1 = t + pw, *restrict t2 = t1 + pw, *restrict t3 = t2 + pw;
    for (int x = 0; x < w; x++) {
        t0[x + 1] = r0[x] - r2[x];
        t1[x + 1] = r1[x] + r2[x];
        t2[x + 1] = r2[x] - r1[x];
        t3[x + 1] = r1[x] - r3[x];
    }
    for (int x = 0; x < pw; x += x == 0 ? w + 1 : 1) /* the zero padding: x = -1 and x >= w */
        t0[x] = t1[x] = t2[x] = t3[x] = 0.0f;
    for (int i = 0; i < 4; i++) {
        const float *restrict ti = t + (size_t)i * pw;
        float *restrict o0 = o + (size_t)(4 * i) * plane, *restrict o1 = o0 + plane, *restrict o2 = o1 + plane,
                        *restrict o3 = o2 + plane;
        for (int tx = 0; tx < tw; tx++) {
            const float e0 = ti[2 * tx], d0 = ti[2 * tx + 1], e1 = ti[2 * tx + 2], d1 = ti[2 * tx + 3];
            o0[tx] = e0 - e1;
            o1[tx] = d0 + e1;
            o2[tx] = e1 - d0;
            o3[tx] = d0 - d1;
        }
    }
}

/* V for channel c of the tile rows [g0, g1) (row g: image g / th, tile
 * row g % th) into v, the channel's tiles, a row after the other (position
 * planes `plane` apart). buf: winograd_input_buf_floats(w, tw). */
/* Channel c of image n of the input (c_in planes, the first c_split from
 * in and the rest from in2). */
static const float *winograd_input_plane(const winograd_job *j, int n, int c) {
    const size_t hw = (size_t)j->h * j->w;
    if (c < j->c_split) return j->in + ((size_t)n * j->c_split + c) * hw;
    return j->in2 + ((size_t)n * (j->c_in - j->c_split) + (c - j->c_split)) * hw;
}

/* Asks the cache for the input rows that channel c's tile rows [g0, g1)
 * read: each channel's rows start on a new page, where the hardware's
 * prefetcher starts cold. */
static void winograd_prefetch_rows(const winograd_job *j, int c, int g0, int g1) {
    for (int g = g0; g < g1;) {
        const int n = g / j->th, ty0 = g % j->th, rows = g1 - g < j->th - ty0 ? g1 - g : j->th - ty0;
        const int m = j->tile, y0 = m * ty0 > 0 ? m * ty0 - 1 : 0;
        const int y1 = m * (ty0 + rows) + 1 < j->h ? m * (ty0 + rows) + 1 : j->h;
        const char *p = (const char *)(winograd_input_plane(j, n, c) + (size_t)y0 * j->w);
        const size_t bytes = sizeof(float) * (size_t)(y1 - y0) * j->w;
        for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(p + o, 0, 3);
        g += rows;
    }
}

/* rows[r·k + i]: input row tile·ty - 1 + i of channel c for tile row
 * g + r (ty its row in its image), zeros outside the image; k = tile + 2. */
static void winograd_input_row_pointers(const winograd_job *j, int c, int g, int n_rows, const float *zeros,
                                        const float **rows) {
    const int k = j->tile + 2;
    for (int r = 0; r < n_rows; r++) {
        const int n = (g + r) / j->th, ty = (g + r) % j->th;
        const float *src = winograd_input_plane(j, n, c);
        for (int i = 0; i < k; i++) {
            const int y = j->tile * ty - 1 + i;
            rows[r * k + i] = y >= 0 && y < j->h ? src + (size_t)y * j->w : zeros;
        }
    }
}

/* F(4×4, 3×3)'s V for channel c of the tile rows [g0, g1), as below. */
static void winograd4_input_rows(const winograd_job *j, int c, int g0, int g1, float *v, size_t plane,
                                 const float *zeros) {
    _Alignas(64) float scratch[NN_WINOGRAD4_POSITIONS * 16];
    const float *rows[WINOGRAD_ROWS_AT_ONCE][6]; /* each tile row's six input rows */
    for (int g = g0; g < g1; g += WINOGRAD_ROWS_AT_ONCE) {
        const int n_rows = g1 - g < WINOGRAD_ROWS_AT_ONCE ? g1 - g : WINOGRAD_ROWS_AT_ONCE;
        winograd_input_row_pointers(j, c, g, n_rows, zeros, &rows[0][0]);
        nn_winograd4_input_avx512((const float *const(*)[6])rows, n_rows, j->w, v + (size_t)(g - g0) * j->tw, plane,
                                  scratch);
    }
}

static void winograd_input_rows(const winograd_job *j, int c, int g0, int g1, float *v, size_t plane, float *buf) {
    const int tw = j->tw;
    if (c + 1 < j->c_in) winograd_prefetch_rows(j, c + 1, g0, g1);
    float *zeros = buf + 4 * (size_t)(2 * tw + 2);
    memset(zeros, 0, sizeof(float) * (size_t)j->w);
    if (j->tile == 4) {
        winograd4_input_rows(j, c, g0, g1, v, plane, zeros);
        return;
    }
    const int avx512 = nn_winograd_avx512_serves(j->w);
    const float *rows[WINOGRAD_ROWS_AT_ONCE][4]; /* each tile row's four input rows */
    for (int g = g0; g < g1; g += WINOGRAD_ROWS_AT_ONCE) {
        const int n_rows = g1 - g < WINOGRAD_ROWS_AT_ONCE ? g1 - g : WINOGRAD_ROWS_AT_ONCE;
        winograd_input_row_pointers(j, c, g, n_rows, zeros, &rows[0][0]);
        float *vg = v + (size_t)(g - g0) * tw;
        if (avx512) {
            nn_winograd_input_avx512((const float *const(*)[4])rows, n_rows, j->w, vg, plane);
            continue;
        }
        for (int r = 0; r < n_rows; r++)
            winograd_input_tile_row(rows[r][0], rows[r][1], rows[r][2], rows[r][3], j->w, tw, buf, vg + (size_t)r * tw,
                                    plane);
    }
}

/* The input transform's rows and a row of zeros; also the output
 * transform's 8 tw. */
static size_t winograd_input_buf_floats(int w, int tw) { return 4 * (size_t)(2 * tw + 2) + (size_t)w + 8 * (size_t)tw; }

/* out[2 tx] = act(e[tx]) and out[2 tx + 1] = act(o[tx]) for the row's
 * tiles, the odd column of the last tile left out where w is odd; one loop
 * per activation so that each vectorizes. */
static inline void winograd_store_columns(float *restrict out, const float *restrict e, const float *restrict o,
                                          int tw, int w, nn_epilogue ep) {
    const int full = w / 2; /* tiles with both columns in the image */
    const float slope = ep.slope;
    if (ep.kind == NN_EPILOGUE_RELU)
        for (int tx = 0; tx < full; tx++) {
            out[2 * tx] = e[tx] > 0.0f ? e[tx] : 0.0f;
            out[2 * tx + 1] = o[tx] > 0.0f ? o[tx] : 0.0f;
        }
    else if (ep.kind == NN_EPILOGUE_LEAKY_RELU)
        for (int tx = 0; tx < full; tx++) {
            out[2 * tx] = e[tx] > 0.0f ? e[tx] : slope * e[tx];
            out[2 * tx + 1] = o[tx] > 0.0f ? o[tx] : slope * o[tx];
        }
    else
        for (int tx = 0; tx < full; tx++) {
            out[2 * tx] = e[tx];
            out[2 * tx + 1] = o[tx];
        }
    if (full < tw) {
        const float v = e[full];
        out[2 * full] = ep.kind == NN_EPILOGUE_RELU         ? (v > 0.0f ? v : 0.0f)
                        : ep.kind == NN_EPILOGUE_LEAKY_RELU ? (v > 0.0f ? v : slope * v)
                                                            : v;
    }
}

/* One row of tiles of Y = Aᵀ M A + bias, the epilogue applied, from m
 * (position planes `plane` apart) into the output rows y0 and y1 (y1 NULL
 * past the image's last row) of width w; s: 8 tw floats. */
NN_VECTOR_CLONES static void winograd_output_tile_row(const float *restrict m, size_t plane, int tw, int w, float b,
                                                     nn_epilogue ep, float *restrict s, float *restrict y0,
                                                     float *restrict y1) {
    float *restrict a[4], *restrict d[4];
    for (int i = 0; i < 4; i++) a[i] = s + (size_t)(2 * i) * tw, d[i] = a[i] + tw;
    for (int i = 0; i < 4; i++) {
        const float *restrict m0 = m + (size_t)(4 * i) * plane, *restrict m1 = m0 + plane, *restrict m2 = m1 + plane,
                              *restrict m3 = m2 + plane;
        float *restrict ai = a[i], *restrict di = d[i];
        for (int tx = 0; tx < tw; tx++) {
            ai[tx] = m0[tx] + m1[tx] + m2[tx];
            di[tx] = m1[tx] - m2[tx] - m3[tx];
        }
    }
    /* the even and the odd columns of row 1 (a1 - a2 - a3 + b, into a3 and
     * d3) before row 0's (a0 + a1 + a2 + b, into a0 and d0) overwrite
     * nothing row 1 needs */
    if (y1) {
        for (int tx = 0; tx < tw; tx++) {
            a[3][tx] = a[1][tx] - a[2][tx] - a[3][tx] + b;
            d[3][tx] = d[1][tx] - d[2][tx] - d[3][tx] + b;
        }
        winograd_store_columns(y1, a[3], d[3], tw, w, ep);
    }
    for (int tx = 0; tx < tw; tx++) {
        a[0][tx] = a[0][tx] + a[1][tx] + a[2][tx] + b;
        d[0][tx] = d[0][tx] + d[1][tx] + d[2][tx] + b;
    }
    winograd_store_columns(y0, a[0], d[0], tw, w, ep);
}

/* F(4×4, 3×3)'s Y for channel c of the tile rows [g0, g1), as below. */
static void winograd4_output_rows(const winograd_job *j, int c, int g0, int g1, const float *m, size_t plane,
                                  float b) {
    const size_t hw = (size_t)j->h * j->w;
    float *rows[WINOGRAD_ROWS_AT_ONCE][4]; /* each tile row's four output rows (NULL past the image) */
    for (int g = g0; g < g1; g += WINOGRAD_ROWS_AT_ONCE) {
        const int n_rows = g1 - g < WINOGRAD_ROWS_AT_ONCE ? g1 - g : WINOGRAD_ROWS_AT_ONCE;
        for (int r = 0; r < n_rows; r++) {
            const int n = (g + r) / j->th, ty = (g + r) % j->th;
            float *plane_out = j->out + ((size_t)n * j->c_out + c) * hw;
            for (int i = 0; i < 4; i++)
                rows[r][i] = 4 * ty + i < j->h ? plane_out + (size_t)(4 * ty + i) * j->w : NULL;
        }
        nn_winograd4_output_avx512(m + (size_t)(g - g0) * j->tw, plane, n_rows, j->w, b, j->ep,
                                   (float *const(*)[4])rows);
    }
}

/* Y for channel c of the tile rows [g0, g1) from m, the channel's tiles
 * (position planes `plane` apart); buf: 8 tw floats. */
static void winograd_output_rows(const winograd_job *j, int c, int g0, int g1, const float *m, size_t plane,
                                 float *buf) {
    const size_t hw = (size_t)j->h * j->w;
    const float b = j->bias ? j->bias[c] : 0.0f;
    if (j->tile == 4) {
        winograd4_output_rows(j, c, g0, g1, m, plane, b);
        return;
    }
    const int avx512 = nn_winograd_avx512_serves(j->w);
    float *rows[WINOGRAD_ROWS_AT_ONCE][2]; /* each tile row's two output rows (the second NULL past the image) */
    for (int g = g0; g < g1; g += WINOGRAD_ROWS_AT_ONCE) {
        const int n_rows = g1 - g < WINOGRAD_ROWS_AT_ONCE ? g1 - g : WINOGRAD_ROWS_AT_ONCE;
        for (int r = 0; r < n_rows; r++) {
            const int n = (g + r) / j->th, ty = (g + r) % j->th;
            rows[r][0] = j->out + ((size_t)n * j->c_out + c) * hw + (size_t)(2 * ty) * j->w;
            rows[r][1] = 2 * ty + 1 < j->h ? rows[r][0] + j->w : NULL;
        }
        const float *mg = m + (size_t)(g - g0) * j->tw;
        if (avx512) {
            nn_winograd_output_avx512(mg, plane, n_rows, j->w, b, j->ep, (float *const(*)[2])rows);
            continue;
        }
        for (int r = 0; r < n_rows; r++)
            winograd_output_tile_row(mg + (size_t)r * j->tw, plane, j->tw, j->w, b, j->ep, buf, rows[r][0],
                                     rows[r][1]);
    }
}

/* V of the tile rows [g0, g1) written straight into the fp32 panels the
 * products read (nn_gemm.h's packed B: nr tiles wide, a position's panels
 * `pos_bytes` apart; tw divides nr, so a row of tiles never straddles two
 * panels). */
static void winograd_input_packed(const winograd_job *j, int g0, int g1, char *V, size_t pos_bytes, int nr,
                                  float *buf) {
    const int tw = j->tw, tb = (g1 - g0) * tw;
    const size_t panel = (size_t)j->c_in * nr; /* floats */
    for (int c = 0; c < j->c_in; c++)
        for (int g = g0, n; g < g1; g += n) { /* the rows of tiles that share a panel */
            const int col = (g - g0) * tw;
            n = (nr - col % nr) / tw < g1 - g ? (nr - col % nr) / tw : g1 - g;
            winograd_input_rows(j, c, g, g + n, (float *)V + (size_t)(col / nr) * panel + (size_t)c * nr + col % nr,
                                pos_bytes / sizeof(float), buf);
        }
    if (tb % nr) /* the last panel's columns past the tiles */
        for (int k = 0; k < j->positions; k++) {
            float *last = (float *)(V + (size_t)k * pos_bytes) + (size_t)(tb / nr) * panel;
            for (int c = 0; c < j->c_in; c++) memset(last + (size_t)c * nr + tb % nr, 0, sizeof(float) * (nr - tb % nr));
        }
}

/* Blocks [b0, b1) of rows_per_block tile rows each, one after the other
 * while they stay in cache: the input transform of every channel (straight
 * into the products' packed panels where the kernel takes them), the 16
 * products M_k = U_k V_k over the block's tiles, the output transform. */
static void winograd_blocks(void *ctx, int b0, int b1) {
    const winograd_job *j = ctx;
    const int rows = j->nb * j->th, tw = j->tw;
    const size_t tb_max = (size_t)j->rows_per_block * tw;
    /* fp32 products take V in their panels; for bf16 the product's own
     * packing rounds 32 columns at a time, faster than pairs of rows of tw */
    int nr = 0, bf16 = 0;
    const int packed = nn_gemm_packed_b_panel(j->packed_u[0], (int)tb_max, &nr, &bf16) && !bf16 && nr % tw == 0;
    /* a position's V: plain (c_in, tb) floats, or packed panels (whole panels, for the largest block) */
    const size_t pos_bytes = packed ? (nn_gemm_packed_b_bytes(j->packed_u[0], (int)tb_max) + 63) / 64 * 64
                                    : sizeof(float) * j->c_in * tb_max;
    const int P = j->positions;
    const size_t m_floats = (size_t)P * j->c_out * tb_max, buf_floats = winograd_input_buf_floats(j->w, tw);
    char *V = aligned_alloc(64, ((size_t)P * pos_bytes + sizeof(float) * (m_floats + buf_floats) + 63) / 64 * 64);
    if (!V) {
        atomic_store(&((winograd_job *)ctx)->failed, 1);
        return;
    }
    float *M = (float *)(V + (size_t)P * pos_bytes), *buf = M + m_floats;
    for (int blk = b0; blk < b1; blk++) {
        const int g0 = blk * j->rows_per_block, g1 = g0 + j->rows_per_block < rows ? g0 + j->rows_per_block : rows;
        const size_t tb = (size_t)(g1 - g0) * tw;
        if (packed) {
            const size_t pos = (nn_gemm_packed_b_bytes(j->packed_u[0], (int)tb) + 63) / 64 * 64;
            winograd_input_packed(j, g0, g1, V, pos, nr, buf);
            for (int k = 0; k < P; k++)
                nn_sgemm_serial_packed_ab(j->packed_u[k], V + (size_t)k * pos, (int)tb, 1.0f, 0.0f,
                                          M + (size_t)k * j->c_out * tb, (int)tb);
        } else {
            float *Vf = (float *)V;
            for (int c = 0; c < j->c_in; c++)
                winograd_input_rows(j, c, g0, g1, Vf + (size_t)c * tb, (size_t)j->c_in * tb, buf);
            for (int k = 0; k < P; k++)
                nn_sgemm_serial_packed_a(j->packed_u[k], (int)tb, 1.0f, Vf + (size_t)k * j->c_in * tb, (int)tb, 0.0f,
                                         M + (size_t)k * j->c_out * tb, (int)tb);
        }
        for (int c = 0; c < j->c_out; c++)
            winograd_output_rows(j, c, g0, g1, M + (size_t)c * tb, (size_t)j->c_out * tb, buf);
    }
    free(V);
}

static void winograd_pack_u(void *ctx, int k0, int k1) {
    winograd_job *j = ctx;
    for (int k = k0; k < k1; k++)
        j->packed_u[k] = nn_gemm_pack_a(j->precision, 0, j->c_out, j->c_in, j->U + (size_t)k * j->c_out * j->c_in,
                                        j->c_in);
}

/* Tile rows per block: the block's V and M within WINOGRAD_BLOCK_BYTES,
 * at least WINOGRAD_BLOCK_MIN_TILES tiles (the products' width), and
 * blocks enough to keep every thread busy. */
#define WINOGRAD_BLOCK_BYTES ((size_t)1 << 20)
#define WINOGRAD_BLOCK_MIN_TILES 64
static int winograd_rows_per_block(const winograd_job *j) {
    const int rows = j->nb * j->th;
    size_t tiles = WINOGRAD_BLOCK_BYTES / (j->positions * sizeof(float) * ((size_t)j->c_in + j->c_out));
    if (tiles < WINOGRAD_BLOCK_MIN_TILES) tiles = WINOGRAD_BLOCK_MIN_TILES;
    int per = (int)((tiles + (size_t)j->tw - 1) / j->tw);
    const int threads = nn_get_threads(), balanced = (rows + 2 * threads - 1) / (2 * threads);
    if (per > balanced) per = balanced;
    return per < 1 ? 1 : per;
}

nn_status nn_conv2d_forward_winograd(float *out, const float *in, const float *U, const float *bias, nn_shape s,
                                     nn_conv2d_dims d, nn_workspace ws) {
    return nn_conv2d_forward_winograd_ep(out, in, U, bias, s, d, ws, (nn_epilogue){NN_EPILOGUE_NONE, 0.0f});
}

nn_status nn_conv2d_forward_winograd_ep(float *out, const float *in, const float *U, const float *bias, nn_shape s,
                                        nn_conv2d_dims d, nn_workspace ws, nn_epilogue ep) {
    if (nn_conv2d_check_dims(s, d) != NN_OK || !nn_conv2d_winograd_applies(d)) return NN_ERR_INVALID;
    if (s.N < 1) return NN_OK;
    nn_gemm_packed_a *packed[NN_WINOGRAD_POSITIONS];
    nn_status st = nn_conv2d_winograd_pack(packed, U, d, ws.precision);
    if (st == NN_OK) st = nn_conv2d_forward_winograd_packed_ep(out, in, (const nn_gemm_packed_a *const *)packed, bias,
                                                               s, d, ep);
    nn_conv2d_winograd_packed_free(packed);
    return st;
}

/* U's `positions` planes packed for the products, in parallel. */
static nn_status winograd_pack_positions(nn_gemm_packed_a **packed, int positions, const float *U, nn_conv2d_dims d,
                                         nn_precision precision) {
    winograd_job j = {.U = U, .c_in = d.c_in, .c_out = d.c_out, .precision = precision};
    nn_parallel_for(positions, winograd_pack_u, &j);
    int ok = 1;
    for (int k = 0; k < positions; k++) packed[k] = j.packed_u[k], ok &= packed[k] != NULL;
    return ok ? NN_OK : NN_ERR_NOMEM;
}

nn_status nn_conv2d_winograd_pack(nn_gemm_packed_a *packed[NN_WINOGRAD_POSITIONS], const float *U, nn_conv2d_dims d,
                                  nn_precision precision) {
    return winograd_pack_positions(packed, NN_WINOGRAD_POSITIONS, U, d, precision);
}

void nn_conv2d_winograd_packed_free(nn_gemm_packed_a *packed[NN_WINOGRAD_POSITIONS]) {
    for (int k = 0; k < NN_WINOGRAD_POSITIONS; k++) nn_gemm_packed_a_free(packed[k]), packed[k] = NULL;
}

/* The forward pass over tiles of `tile` outputs a side from U's packed
 * positions; the input's first c_first channels from in, the rest from
 * in_rest. */
static nn_status winograd_forward(float *out, const float *in, int c_first, const float *in_rest,
                                  const nn_gemm_packed_a *const *packed, int tile, int positions, const float *bias,
                                  nn_shape s, nn_conv2d_dims d, nn_epilogue ep) {
    if (nn_conv2d_check_dims(s, d) != NN_OK || !nn_conv2d_winograd_applies(d) || c_first < 0 || c_first > s.C ||
        (c_first < s.C && !in_rest))
        return NN_ERR_INVALID;
    for (int k = 0; k < positions; k++)
        if (!packed[k] || nn_gemm_packed_a_rows(packed[k]) != d.c_out || nn_gemm_packed_a_depth(packed[k]) != d.c_in)
            return NN_ERR_INVALID;
    if (s.N < 1) return NN_OK;
    winograd_job j = {.in = in, .in2 = in_rest, .c_split = c_first, .out = out, .bias = bias, .c_in = d.c_in,
                      .c_out = d.c_out, .h = s.H, .w = s.W, .nb = s.N, .th = (s.H + tile - 1) / tile,
                      .tw = (s.W + tile - 1) / tile, .tile = tile, .positions = positions, .ep = ep};
    for (int k = 0; k < positions; k++) j.packed_u[k] = (nn_gemm_packed_a *)packed[k];
    j.rows_per_block = winograd_rows_per_block(&j);
    const int rows = j.nb * j.th;
    nn_parallel_for((rows + j.rows_per_block - 1) / j.rows_per_block, winograd_blocks, &j);
    return atomic_load(&j.failed) ? NN_ERR_NOMEM : NN_OK;
}

nn_status nn_conv2d_forward_winograd_packed_ep(float *out, const float *in, const nn_gemm_packed_a *const packed[NN_WINOGRAD_POSITIONS],
                                               const float *bias, nn_shape s, nn_conv2d_dims d, nn_epilogue ep) {
    return nn_conv2d_forward_winograd_packed_cat_ep(out, in, s.C, NULL, packed, bias, s, d, ep);
}

nn_status nn_conv2d_forward_winograd_packed_cat_ep(float *out, const float *in, int c_first, const float *in_rest,
                                                   const nn_gemm_packed_a *const packed[NN_WINOGRAD_POSITIONS],
                                                   const float *bias, nn_shape s, nn_conv2d_dims d, nn_epilogue ep) {
    return winograd_forward(out, in, c_first, in_rest, packed, 2, NN_WINOGRAD_POSITIONS, bias, s, d, ep);
}

/* ------------------------------------------------ Winograd F(4×4, 3×3) */
/* Tiles of 4×4 outputs from 6×6 inputs (Lavin and Gray's points 0, ±1,
 * ±2): 36 products for 16 outputs against F(2×2, 3×3)'s 64, for fp32
 * inference where the AVX-512 transforms run (winograd_x86.c). Its error
 * is larger (test_conv: 1.5e-6 to 7e-6 of the largest output, against
 * 1.5e-7 for F(2×2, 3×3)), fine in fp32; with bf16 inputs it moved the
 * plug-in's ab by more than 1 unit, so bf16 keeps F(2×2, 3×3). */

int nn_conv2d_winograd4_applies(nn_conv2d_dims d, int w) {
    return nn_conv2d_winograd_applies(d) && nn_winograd_avx512_serves(w);
}

size_t nn_conv2d_winograd4_weight_floats(nn_conv2d_dims d) {
    return (size_t)NN_WINOGRAD4_POSITIONS * d.c_out * d.c_in;
}

void nn_conv2d_winograd4_weights(float *U, const float *weight, nn_conv2d_dims d) {
    winograd_weights(U, weight, d, 0, WINOGRAD_G4, 6);
}

void nn_conv2d_winograd4_weights_transposed(float *U, const float *weight, nn_conv2d_dims d) {
    winograd_weights(U, weight, d, 1, WINOGRAD_G4, 6);
}

nn_status nn_conv2d_forward_winograd4(float *out, const float *in, const float *U, const float *bias, nn_shape s,
                                      nn_conv2d_dims d) {
    if (nn_conv2d_check_dims(s, d) != NN_OK || !nn_conv2d_winograd4_applies(d, s.W)) return NN_ERR_INVALID;
    if (s.N < 1) return NN_OK;
    nn_gemm_packed_a *packed[NN_WINOGRAD4_POSITIONS];
    nn_status st = nn_conv2d_winograd4_pack(packed, U, d);
    if (st == NN_OK)
        st = nn_conv2d_forward_winograd4_packed_cat_ep(out, in, s.C, NULL, (const nn_gemm_packed_a *const *)packed,
                                                       bias, s, d, (nn_epilogue){NN_EPILOGUE_NONE, 0.0f});
    nn_conv2d_winograd4_packed_free(packed);
    return st;
}

nn_status nn_conv2d_winograd4_pack(nn_gemm_packed_a *packed[NN_WINOGRAD4_POSITIONS], const float *U,
                                   nn_conv2d_dims d) {
    return winograd_pack_positions(packed, NN_WINOGRAD4_POSITIONS, U, d, NN_PRECISION_FP32);
}

void nn_conv2d_winograd4_packed_free(nn_gemm_packed_a *packed[NN_WINOGRAD4_POSITIONS]) {
    for (int k = 0; k < NN_WINOGRAD4_POSITIONS; k++) nn_gemm_packed_a_free(packed[k]), packed[k] = NULL;
}

nn_status nn_conv2d_forward_winograd4_packed_cat_ep(float *out, const float *in, int c_first, const float *in_rest,
                                                    const nn_gemm_packed_a *const packed[NN_WINOGRAD4_POSITIONS],
                                                    const float *bias, nn_shape s, nn_conv2d_dims d, nn_epilogue ep) {
    if (!nn_conv2d_winograd4_applies(d, s.W)) return NN_ERR_INVALID;
    return winograd_forward(out, in, c_first, in_rest, packed, 4, NN_WINOGRAD4_POSITIONS, bias, s, d, ep);
}

/* dM = A dY Aᵀ for channel c of the tile rows [g0, g1) of dout (j->in)
 * into m, the channel's tiles (position planes `plane` apart), a row of
 * 2×2 blocks at a time (dout beyond the image counts as 0). buf: 4 tw. */
static void winograd_grad_output_rows(const winograd_job *j, int c, int g0, int g1, float *m, size_t plane,
                                      float *buf) {
    const size_t hw = (size_t)j->h * j->w;
    const int tw = j->tw;
    if (nn_winograd_avx512_serves(j->w)) {
        const float *rows[WINOGRAD_ROWS_AT_ONCE][2];
        for (int g = g0; g < g1; g += WINOGRAD_ROWS_AT_ONCE) {
            const int n_rows = g1 - g < WINOGRAD_ROWS_AT_ONCE ? g1 - g : WINOGRAD_ROWS_AT_ONCE;
            for (int r = 0; r < n_rows; r++) {
                const int n = (g + r) / j->th, ty = (g + r) % j->th;
                const float *src = j->in + ((size_t)n * j->c_out + c) * hw; /* dout */
                for (int i = 0; i < 2; i++) rows[r][i] = 2 * ty + i < j->h ? src + (size_t)(2 * ty + i) * j->w : NULL;
            }
            nn_winograd_grad_output_avx512((const float *const(*)[2])rows, n_rows, j->w, m + (size_t)(g - g0) * tw,
                                           plane);
        }
        return;
    }
    float *e[2] = {buf, buf + tw}, *o[2] = {buf + 2 * (size_t)tw, buf + 3 * (size_t)tw};
    for (int g = g0; g < g1; g++) {
        const int n = g / j->th, ty = g % j->th;
        const float *src = j->in + ((size_t)n * j->c_out + c) * hw; /* dout */
        for (int r = 0; r < 2; r++) {
            int y = 2 * ty + r;
            for (int tx = 0; tx < tw; tx++) {
                int x = 2 * tx;
                e[r][tx] = y < j->h ? src[(size_t)y * j->w + x] : 0.0f;
                o[r][tx] = y < j->h && x + 1 < j->w ? src[(size_t)y * j->w + x + 1] : 0.0f;
            }
        }
        float *out = m + (size_t)(g - g0) * tw;
        for (int i = 0; i < 4; i++) {
            float *m0 = out + (size_t)(4 * i) * plane, *m1 = m0 + plane, *m2 = m1 + plane, *m3 = m2 + plane;
            for (int tx = 0; tx < tw; tx++) {
                float xr = i == 0 ? e[0][tx] : i == 1 ? e[0][tx] + e[1][tx] : i == 2 ? e[0][tx] - e[1][tx] : -e[1][tx];
                float yr = i == 0 ? o[0][tx] : i == 1 ? o[0][tx] + o[1][tx] : i == 2 ? o[0][tx] - o[1][tx] : -o[1][tx];
                m0[tx] = xr, m1[tx] = xr + yr, m2[tx] = xr - yr, m3[tx] = -yr;
            }
        }
    }
}

typedef struct {
    winograd_job j;   /* in: the layer's input x; dout below */
    const float *dout; // (N, c_out, H, W)
    float *partial;    // (parts, 16, c_out, c_in): each part's sum over its blocks
    int parts, blocks;
} winograd_dw_job;

/* Part p: the blocks [p·blocks/parts, (p+1)·blocks/parts) of tile rows one
 * after the other while they stay in cache: V of x, dM of dout, and
 * dU_k += dM_k V_kᵀ for the 16 positions into the part's own sum. */
static void winograd_weight_parts(void *ctx, int p0, int p1) {
    winograd_dw_job *g = ctx;
    const winograd_job *j = &g->j;
    const int rows = j->nb * j->th, tw = j->tw;
    const size_t tb_max = (size_t)j->rows_per_block * tw, unit = (size_t)j->c_out * j->c_in;
    const size_t v_floats = 16 * (size_t)j->c_in * tb_max, m_floats = 16 * (size_t)j->c_out * tb_max;
    float *V = malloc(sizeof(float) * (v_floats + m_floats + winograd_input_buf_floats(j->w, tw)));
    if (!V) {
        atomic_store(&g->j.failed, 1);
        return;
    }
    float *M = V + v_floats, *buf = M + m_floats;
    winograd_job dj = *j;
    dj.in = g->dout;
    for (int p = p0; p < p1; p++) {
        float *dU = g->partial + (size_t)p * NN_WINOGRAD_POSITIONS * unit;
        const int b0 = (int)((long)g->blocks * p / g->parts), b1 = (int)((long)g->blocks * (p + 1) / g->parts);
        memset(dU, 0, sizeof(float) * NN_WINOGRAD_POSITIONS * unit);
        for (int blk = b0; blk < b1; blk++) {
            const int r0 = blk * j->rows_per_block, r1 = r0 + j->rows_per_block < rows ? r0 + j->rows_per_block : rows;
            const size_t tb = (size_t)(r1 - r0) * tw;
            for (int c = 0; c < j->c_in; c++)
                winograd_input_rows(j, c, r0, r1, V + (size_t)c * tb, (size_t)j->c_in * tb, buf);
            for (int c = 0; c < j->c_out; c++)
                winograd_grad_output_rows(&dj, c, r0, r1, M + (size_t)c * tb, (size_t)j->c_out * tb, buf);
            for (int k = 0; k < NN_WINOGRAD_POSITIONS; k++)
                nn_sgemm_serial(0, 1, j->c_out, j->c_in, (int)tb, 1.0f, M + (size_t)k * j->c_out * tb, (int)tb,
                                V + (size_t)k * j->c_in * tb, (int)tb, 1.0f, dU + (size_t)k * unit, j->c_in);
        }
    }
    free(V);
}

nn_status nn_conv2d_backward_weights_winograd(float *dweight, float *dU, const float *dout, const float *in,
                                              nn_shape s, nn_conv2d_dims d) {
    if (nn_conv2d_check_dims(s, d) != NN_OK || !nn_conv2d_winograd_applies(d)) return NN_ERR_INVALID;
    if (s.N < 1) return NN_OK;
    winograd_dw_job g = {.j = {.in = in, .c_split = d.c_in, .c_in = d.c_in, .c_out = d.c_out, .h = s.H, .w = s.W, .nb = s.N,
                               .th = (s.H + 1) / 2, .tw = (s.W + 1) / 2, .tile = 2,
                               .positions = NN_WINOGRAD_POSITIONS},
                         .dout = dout};
    g.j.rows_per_block = winograd_rows_per_block(&g.j);
    const int rows = g.j.nb * g.j.th;
    g.blocks = (rows + g.j.rows_per_block - 1) / g.j.rows_per_block;
    g.parts = nn_get_threads() < g.blocks ? nn_get_threads() : g.blocks; /* the sums follow the thread count */
    const size_t unit = (size_t)d.c_out * d.c_in;
    g.partial = malloc(sizeof(float) * NN_WINOGRAD_POSITIONS * unit * (size_t)g.parts);
    if (!g.partial) return NN_ERR_NOMEM;
    nn_parallel_for(g.parts, winograd_weight_parts, &g);
    if (atomic_load(&g.j.failed)) {
        free(g.partial);
        return NN_ERR_NOMEM;
    }
    memcpy(dU, g.partial, sizeof(float) * NN_WINOGRAD_POSITIONS * unit);
    for (int p = 1; p < g.parts; p++) /* in a fixed order */
        for (size_t i = 0; i < NN_WINOGRAD_POSITIONS * unit; i++) dU[i] += g.partial[(size_t)p * NN_WINOGRAD_POSITIONS * unit + i];
    free(g.partial);
    /* dg = Gᵀ dU G for each kernel, added into dweight */
    static const double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    const size_t plane = (size_t)d.c_out * d.c_in;
    for (size_t p = 0; p < plane; p++) {
        double u[4][4], t[3][4];
        for (int k = 0; k < NN_WINOGRAD_POSITIONS; k++) u[k / 4][k % 4] = dU[(size_t)k * plane + p];
        for (int a = 0; a < 3; a++)
            for (int c = 0; c < 4; c++) t[a][c] = G[0][a] * u[0][c] + G[1][a] * u[1][c] + G[2][a] * u[2][c] + G[3][a] * u[3][c];
        float *dg = dweight + p * 9;
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++)
                dg[3 * a + b] += (float)(t[a][0] * G[0][b] + t[a][1] * G[1][b] + t[a][2] * G[2][b] + t[a][3] * G[3][b]);
    }
    return NN_OK;
}
