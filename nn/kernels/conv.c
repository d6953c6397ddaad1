/* conv.c — 2-D convolution: batched im2col + GEMM (nn_gemm.h; one product
 * over as many images as the shared workspace holds, split across the
 * library's threads), a 1×1 fast path without im2col, activation epilogues
 * applied as the outputs are written, and a naive direct convolution kept
 * as the test oracle of this and of Winograd (winograd.c). */
#include "nn_conv.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>



static int is_pointwise(nn_conv2d_dims d) {
    return d.k == 1 && d.stride == 1 && d.pad == 0;
}

size_t nn_conv2d_workspace_floats(nn_conv2d_dims d, int h, int w, int images) {
    if (is_pointwise(d)) return 0;
    size_t ho = (size_t)nn_conv2d_out_size(h, d), wo = (size_t)nn_conv2d_out_size(w, d);
    size_t k = (size_t)d.c_in * d.k * d.k;
    return (size_t)images * (k + (size_t)d.c_out) * ho * wo;
}

/* Geometry shared by the im2col / col2im loops of one chunk. */
typedef struct {
    nn_conv2d_dims d;
    int h, w, ho, wo, nb;
    const float *in; // (nb, c_in, h, w)
    float *col;      // (c_in*k*k, nb*ho*wo)
    float *dimg;     // (nb, c_in, h, w) for col2im
} col_job;

/* row[x] = srow[ix + stride·x] for x < wo, zero where that leaves the
 * row's w pixels; strides 1 and 2 get loops of their own, which vectorize. */
static void im2col_row(float *restrict row, const float *restrict srow, int ix, int stride, int w, int wo) {
    int lo = ix < 0 ? (-ix + stride - 1) / stride : 0;       /* the first x inside */
    int hi = ix < w ? (w - ix + stride - 1) / stride : 0; /* the first x past the right edge */
    if (hi > wo) hi = wo;
    if (lo > hi) lo = hi;
    for (int x = 0; x < lo; x++) row[x] = 0.0f;
    if (stride == 1)
        for (int x = lo; x < hi; x++) row[x] = srow[ix + x];
    else if (stride == 2)
        for (int x = lo; x < hi; x++) row[x] = srow[ix + 2 * x];
    else
        for (int x = lo; x < hi; x++) row[x] = srow[ix + stride * x];
    for (int x = hi; x < wo; x++) row[x] = 0.0f;
}

/* Row r of the column matrix is (c, ki, kj); its columns run over the
 * chunk's images and output pixels. */
static void im2col_rows(void *ctx, int r0, int r1) {
    const col_job *j = ctx;
    const nn_conv2d_dims d = j->d;
    const size_t p = (size_t)j->ho * j->wo, img = (size_t)d.c_in * j->h * j->w;
    for (int r = r0; r < r1; r++) {
        int c = r / (d.k * d.k), ki = (r / d.k) % d.k, kj = r % d.k;
        float *dst = j->col + (size_t)r * j->nb * p;
        for (int n = 0; n < j->nb; n++) {
            const float *src = j->in + n * img + (size_t)c * j->h * j->w;
            for (int y = 0; y < j->ho; y++) {
                int iy = y * d.stride - d.pad + ki * d.dilation;
                float *row = dst + (size_t)n * p + (size_t)y * j->wo;
                if (iy < 0 || iy >= j->h) {
                    memset(row, 0, sizeof(float) * j->wo);
                    continue;
                }
                im2col_row(row, src + (size_t)iy * j->w, -d.pad + kj * d.dilation, d.stride, j->w, j->wo);
            }
        }
    }
}

/* Adds the column matrix back into the images; each input channel is owned
 * by one thread, so there are no write conflicts. */
static void col2im_channels(void *ctx, int c0, int c1) {
    const col_job *j = ctx;
    const nn_conv2d_dims d = j->d;
    const size_t p = (size_t)j->ho * j->wo, img = (size_t)d.c_in * j->h * j->w;
    for (int c = c0; c < c1; c++) {
        for (int ki = 0; ki < d.k; ki++) {
            for (int kj = 0; kj < d.k; kj++) {
                int r = (c * d.k + ki) * d.k + kj;
                const float *src = j->col + (size_t)r * j->nb * p;
                for (int n = 0; n < j->nb; n++) {
                    float *dst = j->dimg + n * img + (size_t)c * j->h * j->w;
                    for (int y = 0; y < j->ho; y++) {
                        int iy = y * d.stride - d.pad + ki * d.dilation;
                        if (iy < 0 || iy >= j->h) continue;
                        const float *row = src + (size_t)n * p + (size_t)y * j->wo;
                        float *drow = dst + (size_t)iy * j->w;
                        int ix = -d.pad + kj * d.dilation;
                        for (int x = 0; x < j->wo; x++, ix += d.stride)
                            if (ix >= 0 && ix < j->w) drow[ix] += row[x];
                    }
                }
            }
        }
    }
}

/* out[n][co][p] = tmp[co][n*P + p] + bias[co], parallel over co. */
typedef struct {
    float *out;
    const float *tmp, *bias;
    float *dst_t;       // for gather: (c_out, nb*P)
    const float *dout;  // for gather
    int c_out, nb;
    size_t p;
    nn_epilogue ep;     // for scatter
} scatter_job;

static void scatter_rows(void *ctx, int c0, int c1) {
    const scatter_job *j = ctx;
    for (int co = c0; co < c1; co++) {
        float b = j->bias ? j->bias[co] : 0.0f;
        for (int n = 0; n < j->nb; n++) {
            const float *src = j->tmp + (size_t)co * j->nb * j->p + (size_t)n * j->p;
            float *dst = j->out + ((size_t)n * j->c_out + co) * j->p;
            for (size_t i = 0; i < j->p; i++) dst[i] = src[i] + b;
            nn_epilogue_apply(dst, j->p, j->ep); /* while the row is in cache */
        }
    }
}

static void gather_rows(void *ctx, int c0, int c1) {
    const scatter_job *j = ctx;
    for (int co = c0; co < c1; co++)
        for (int n = 0; n < j->nb; n++)
            memcpy(j->dst_t + (size_t)co * j->nb * j->p + (size_t)n * j->p,
                   j->dout + ((size_t)n * j->c_out + co) * j->p, sizeof(float) * j->p);
}

/* Images per GEMM chunk that the workspace holds (0: not even one). */
static int chunk_images(nn_shape s, nn_conv2d_dims d, nn_workspace ws) {
    size_t per = nn_conv2d_workspace_floats(d, s.H, s.W, 1);
    size_t fit = per ? ws.floats / per : (size_t)s.N;
    return fit > (size_t)s.N ? s.N : (int)fit;
}

nn_status nn_conv2d_forward(float *out, const float *in, const float *weight,
                            const float *bias, nn_shape s, nn_conv2d_dims d,
                            nn_workspace ws) {
    return nn_conv2d_forward_ep(out, in, weight, bias, s, d, ws, (nn_epilogue){NN_EPILOGUE_NONE, 0.0f});
}

typedef struct {
    const nn_gemm_packed_a *weight; /* (c_out, c_in), packed */
    const float *in;                // (N, c_in, p)
    float *out;                     // (N, c_out, p)
    const float *bias;
    int c_in, c_out;
    size_t p;
    int parts; /* column ranges per image */
    nn_epilogue ep;
    atomic_int failed; /* a range could not get its scratch */
} pointwise_job;

/* Columns of a 1×1 convolution's product at a time: the rows of that many
 * columns stay in a core's cache until bias and activation are applied. */
#define POINTWISE_COLUMNS 128

/* out = act(scratch + bias) for c_out rows of n columns (scratch rows n
 * apart, out rows p apart). */
static void pointwise_finish(float *out, size_t p, const float *scratch, int n, int c_out, const float *bias,
                             nn_epilogue ep) {
    for (int co = 0; co < c_out; co++) {
        float *row = out + (size_t)co * p;
        const float *src = scratch + (size_t)co * n, b = bias ? bias[co] : 0.0f;
        if (bias)
            for (int i = 0; i < n; i++) row[i] = src[i] + b;
        else
            memcpy(row, src, sizeof(float) * (size_t)n);
        nn_epilogue_apply(row, (size_t)n, ep);
    }
}

/* A 1×1 convolution over column range q % parts of image q / parts: the
 * product POINTWISE_COLUMNS columns at a time into a scratch that stays in
 * cache, then bias and activation on the way out. */
static void pointwise_parts(void *ctx, int q0, int q1) {
    pointwise_job *j = ctx;
    float *scratch = malloc(sizeof(float) * (size_t)j->c_out * POINTWISE_COLUMNS);
    if (!scratch) {
        atomic_store(&j->failed, 1);
        return;
    }
    for (int q = q0; q < q1; q++) {
        const int n = q / j->parts, part = q % j->parts;
        const size_t c0 = j->p * part / j->parts, c1 = j->p * (part + 1) / j->parts;
        for (size_t col = c0; col < c1; col += POINTWISE_COLUMNS) {
            const int cols = c1 - col < POINTWISE_COLUMNS ? (int)(c1 - col) : POINTWISE_COLUMNS;
            nn_sgemm_serial_packed_a(j->weight, cols, 1.0f, j->in + (size_t)n * j->c_in * j->p + col, (int)j->p, 0.0f,
                                     scratch, cols);
            pointwise_finish(j->out + (size_t)n * j->c_out * j->p + col, j->p, scratch, cols, j->c_out, j->bias, j->ep);
        }
    }
    free(scratch);
}

/* Chunks of images whose column matrix and product fit in a core's cache,
 * for the im2col convolutions with small weights. */
#define IM2COL_BLOCK_FLOATS ((size_t)1 << 18)

typedef struct {
    nn_conv2d_dims d;
    int h, w, ho, wo, N, per_chunk;
    const float *in;  // (N, c_in, h, w)
    float *out;       // (N, c_out, ho, wo)
    const nn_gemm_packed_a *weight;
    const float *bias;
    nn_epilogue ep;
    atomic_int failed;
} im2col_block_job;

/* Chunks [c0, c1) on this thread: im2col, the product, the scatter with
 * bias and activation, each chunk while it is in cache. */
static void im2col_chunks(void *ctx, int c0, int c1) {
    im2col_block_job *j = ctx;
    const nn_conv2d_dims d = j->d;
    const size_t p = (size_t)j->ho * j->wo, img = (size_t)d.c_in * j->h * j->w;
    const int k = d.c_in * d.k * d.k;
    float *col = malloc(sizeof(float) * ((size_t)k + d.c_out) * j->per_chunk * p);
    if (!col) {
        atomic_store(&j->failed, 1);
        return;
    }
    for (int c = c0; c < c1; c++) {
        const int n0 = c * j->per_chunk, nb = j->N - n0 < j->per_chunk ? j->N - n0 : j->per_chunk;
        float *tmp = col + (size_t)k * nb * p; // (c_out, nb*p)
        col_job cj = {d, j->h, j->w, j->ho, j->wo, nb, j->in + n0 * img, col, NULL};
        im2col_rows(&cj, 0, k);
        nn_sgemm_serial_packed_a(j->weight, nb * (int)p, 1.0f, col, nb * (int)p, 0.0f, tmp, nb * (int)p);
        scatter_job sj = {j->out + (size_t)n0 * d.c_out * p, tmp, j->bias, NULL, NULL, d.c_out, nb, p, j->ep};
        scatter_rows(&sj, 0, d.c_out);
    }
    free(col);
}

nn_gemm_packed_a *nn_conv2d_pack_weights(const float *weight, nn_conv2d_dims d, nn_precision precision) {
    return nn_gemm_pack_a(precision, 0, d.c_out, d.c_in * d.k * d.k, weight, d.c_in * d.k * d.k);
}

nn_status nn_conv2d_forward_ep(float *out, const float *in, const float *weight, const float *bias, nn_shape s,
                               nn_conv2d_dims d, nn_workspace ws, nn_epilogue ep) {
    if (nn_conv2d_check_dims(s, d) != NN_OK) return NN_ERR_INVALID;
    nn_gemm_packed_a *pa = nn_conv2d_pack_weights(weight, d, ws.precision);
    if (!pa) return NN_ERR_NOMEM;
    nn_status st = nn_conv2d_forward_packed_ep(out, in, pa, bias, s, d, ws, ep);
    nn_gemm_packed_a_free(pa);
    return st;
}

nn_status nn_conv2d_forward_packed_ep(float *out, const float *in, const nn_gemm_packed_a *weight, const float *bias,
                                      nn_shape s, nn_conv2d_dims d, nn_workspace ws, nn_epilogue ep) {
    if (nn_conv2d_check_dims(s, d) != NN_OK || nn_gemm_packed_a_rows(weight) != d.c_out ||
        nn_gemm_packed_a_depth(weight) != d.c_in * d.k * d.k)
        return NN_ERR_INVALID;
    const int ho = nn_conv2d_out_size(s.H, d), wo = nn_conv2d_out_size(s.W, d);
    const size_t p = (size_t)ho * wo, img = (size_t)d.c_in * s.H * s.W;
    const int k = d.c_in * d.k * d.k;
    if (is_pointwise(d)) {
        /* images split into column ranges until every thread has work */
        const int threads = nn_get_threads();
        int parts = s.N >= threads ? 1 : (threads + s.N - 1) / s.N;
        if ((size_t)parts * 64 > p) parts = p >= 64 ? (int)(p / 64) : 1;
        pointwise_job pj = {weight, in, out, bias, d.c_in, d.c_out, p, parts, ep, 0};
        nn_parallel_for(s.N * parts, pointwise_parts, &pj);
        return atomic_load(&pj.failed) ? NN_ERR_NOMEM : NN_OK;
    }
    /* small weights and many images: each thread runs whole chunks in its cache */
    im2col_block_job bj = {.d = d, .h = s.H, .w = s.W, .ho = ho, .wo = wo, .N = s.N, .in = in, .out = out,
                           .weight = weight, .bias = bias, .ep = ep};
    bj.per_chunk = (int)(IM2COL_BLOCK_FLOATS / (((size_t)k + d.c_out) * p));
    if (bj.per_chunk < 1) bj.per_chunk = 1;
    const int chunks = (s.N + bj.per_chunk - 1) / bj.per_chunk;
    if ((size_t)d.c_out * k <= IM2COL_BLOCK_FLOATS / 2 && chunks >= 2 * nn_get_threads()) {
        nn_parallel_for(chunks, im2col_chunks, &bj);
        return atomic_load(&bj.failed) ? NN_ERR_NOMEM : NN_OK;
    }
    int nb_max = chunk_images(s, d, ws);
    if (nb_max < 1 && s.N > 0) return NN_ERR_INVALID;
    for (int n0 = 0; n0 < s.N; n0 += nb_max) {
        int nb = s.N - n0 < nb_max ? s.N - n0 : nb_max;
        float *col = ws.data;                  // (k, nb*p)
        float *tmp = ws.data + (size_t)k * nb * p; // (c_out, nb*p)
        col_job cj = {d, s.H, s.W, ho, wo, nb, in + n0 * img, col, NULL};
        nn_parallel_for(k, im2col_rows, &cj);
        nn_sgemm_packed_a(weight, nb * (int)p, 1.0f, col, nb * (int)p, 0.0f, tmp, nb * (int)p);
        scatter_job sj = {out + (size_t)n0 * d.c_out * p, tmp, bias, NULL, NULL, d.c_out, nb, p, ep};
        nn_parallel_for(d.c_out, scatter_rows, &sj);
    }
    return NN_OK;
}

nn_status nn_conv2d_backward(float *din, float *dweight, float *dbias,
                             const float *dout, const float *in, const float *weight,
                             nn_shape s, nn_conv2d_dims d, nn_workspace ws) {
    if (nn_conv2d_check_dims(s, d) != NN_OK) return NN_ERR_INVALID;
    const int ho = nn_conv2d_out_size(s.H, d), wo = nn_conv2d_out_size(s.W, d);
    const size_t p = (size_t)ho * wo, img = (size_t)d.c_in * s.H * s.W;
    const int k = d.c_in * d.k * d.k;
    if (dbias) {
        for (int n = 0; n < s.N; n++)
            for (int co = 0; co < d.c_out; co++) {
                const float *g = dout + ((size_t)n * d.c_out + co) * p;
                float acc = 0.0f;
                for (size_t i = 0; i < p; i++) acc += g[i];
                dbias[co] += acc;
            }
    }
    if (is_pointwise(d)) {
        for (int n = 0; n < s.N; n++) {
            const float *g = dout + (size_t)n * d.c_out * p;
            nn_sgemm(0, 1, d.c_out, d.c_in, (int)p, 1.0f, g, (int)p, in + n * img, (int)p, 1.0f,
                     dweight, d.c_in);
            if (din)
                nn_sgemm(1, 0, d.c_in, (int)p, d.c_out, 1.0f, weight, d.c_in, g, (int)p, 1.0f,
                         din + n * img, (int)p);
        }
        return NN_OK;
    }
    int nb_max = chunk_images(s, d, ws);
    if (nb_max < 1 && s.N > 0) return NN_ERR_INVALID;
    for (int n0 = 0; n0 < s.N; n0 += nb_max) {
        int nb = s.N - n0 < nb_max ? s.N - n0 : nb_max;
        float *col = ws.data;                      // (k, nb*p), then dcol
        float *dy = ws.data + (size_t)k * nb * p;  // (c_out, nb*p)
        scatter_job gj = {NULL, NULL, NULL, dy, dout + (size_t)n0 * d.c_out * p, d.c_out, nb, p, {NN_EPILOGUE_NONE, 0.0f}};
        nn_parallel_for(d.c_out, gather_rows, &gj);
        col_job cj = {d, s.H, s.W, ho, wo, nb, in + n0 * img, col,
                      din ? din + n0 * img : NULL};
        nn_parallel_for(k, im2col_rows, &cj);
        nn_sgemm(0, 1, d.c_out, k, nb * (int)p, 1.0f, dy, nb * (int)p, col, nb * (int)p, 1.0f,
                 dweight, k);
        if (din) {
            nn_sgemm(1, 0, k, nb * (int)p, d.c_out, 1.0f, weight, k, dy, nb * (int)p, 0.0f, col,
                     nb * (int)p);
            nn_parallel_for(d.c_in, col2im_channels, &cj);
        }
    }
    return NN_OK;
}

void nn_conv2d_forward_naive(float *out, const float *in, const float *weight,
                             const float *bias, nn_shape s, nn_conv2d_dims d) {
    const int ho = nn_conv2d_out_size(s.H, d), wo = nn_conv2d_out_size(s.W, d);
    for (int n = 0; n < s.N; n++)
        for (int co = 0; co < d.c_out; co++)
            for (int y = 0; y < ho; y++)
                for (int x = 0; x < wo; x++) {
                    double acc = bias ? bias[co] : 0.0;
                    for (int c = 0; c < d.c_in; c++)
                        for (int ki = 0; ki < d.k; ki++)
                            for (int kj = 0; kj < d.k; kj++) {
                                int iy = y * d.stride - d.pad + ki * d.dilation;
                                int ix = x * d.stride - d.pad + kj * d.dilation;
                                if (iy < 0 || iy >= s.H || ix < 0 || ix >= s.W) continue;
                                acc += (double)in[((size_t)(n * s.C + c) * s.H + iy) * s.W + ix] *
                                       weight[((size_t)(co * d.c_in + c) * d.k + ki) * d.k + kj];
                            }
                    out[((size_t)(n * d.c_out + co) * ho + y) * wo + x] = (float)acc;
                }
}

void nn_conv2d_backward_naive(float *din, float *dweight, float *dbias,
                              const float *dout, const float *in,
                              const float *weight, nn_shape s, nn_conv2d_dims d) {
    const int ho = nn_conv2d_out_size(s.H, d), wo = nn_conv2d_out_size(s.W, d);
    for (int n = 0; n < s.N; n++)
        for (int co = 0; co < d.c_out; co++)
            for (int y = 0; y < ho; y++)
                for (int x = 0; x < wo; x++) {
                    float g = dout[((size_t)(n * d.c_out + co) * ho + y) * wo + x];
                    if (dbias) dbias[co] += g;
                    for (int c = 0; c < d.c_in; c++)
                        for (int ki = 0; ki < d.k; ki++)
                            for (int kj = 0; kj < d.k; kj++) {
                                int iy = y * d.stride - d.pad + ki * d.dilation;
                                int ix = x * d.stride - d.pad + kj * d.dilation;
                                if (iy < 0 || iy >= s.H || ix < 0 || ix >= s.W) continue;
                                size_t ii = ((size_t)(n * s.C + c) * s.H + iy) * s.W + ix;
                                size_t wi = ((size_t)(co * d.c_in + c) * d.k + ki) * d.k + kj;
                                dweight[wi] += g * in[ii];
                                if (din) din[ii] += g * weight[wi];
                            }
                }
}
