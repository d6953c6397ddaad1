/* conv.c — 2-D convolution: batched im2col + GEMM (nn_gemm.h; one product
 * over as many images as the shared workspace holds, split across the
 * library's threads), a 1×1 fast path without im2col, Winograd F(2×2, 3×3)
 * for the 3×3 stride-1 convolutions, activation epilogues applied as the
 * outputs are written, and a naive direct convolution kept as the test
 * oracle of both. */
#include "nn.h"

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
                const float *srow = src + (size_t)iy * j->w;
                int ix = -d.pad + kj * d.dilation;
                if (d.stride == 1) { /* a shifted copy with zeros where it leaves the image */
                    int lo = ix < 0 ? -ix : 0, hi = j->w - ix < j->wo ? j->w - ix : j->wo;
                    if (hi < lo) hi = lo;
                    for (int x = 0; x < lo; x++) row[x] = 0.0f;
                    for (int x = lo; x < hi; x++) row[x] = srow[ix + x];
                    for (int x = hi; x < j->wo; x++) row[x] = 0.0f;
                    continue;
                }
                for (int x = 0; x < j->wo; x++, ix += d.stride)
                    row[x] = (ix >= 0 && ix < j->w) ? srow[ix] : 0.0f;
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

static nn_status check_dims(nn_shape s, nn_conv2d_dims d) {
    if (s.N < 0 || s.C != d.c_in || d.k < 1 || d.stride < 1 || d.pad < 0 ||
        d.dilation < 1 || d.c_out < 1 || nn_conv2d_out_size(s.H, d) < 1 ||
        nn_conv2d_out_size(s.W, d) < 1)
        return NN_ERR_INVALID;
    return NN_OK;
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

nn_status nn_conv2d_forward_ep(float *out, const float *in, const float *weight, const float *bias, nn_shape s,
                               nn_conv2d_dims d, nn_workspace ws, nn_epilogue ep) {
    if (check_dims(s, d) != NN_OK) return NN_ERR_INVALID;
    const int ho = nn_conv2d_out_size(s.H, d), wo = nn_conv2d_out_size(s.W, d);
    const size_t p = (size_t)ho * wo, img = (size_t)d.c_in * s.H * s.W;
    const int k = d.c_in * d.k * d.k;
    if (is_pointwise(d)) {
        for (int n = 0; n < s.N; n++) {
            float *o = out + (size_t)n * d.c_out * p;
            nn_sgemm_ex(ws.precision, 0, 0, d.c_out, (int)p, d.c_in, 1.0f, weight, d.c_in, in + n * img, (int)p,
                        0.0f, o, (int)p);
            for (int co = 0; co < d.c_out; co++) {
                if (bias)
                    for (size_t i = 0; i < p; i++) o[co * p + i] += bias[co];
                nn_epilogue_apply(o + co * p, p, ep);
            }
        }
        return NN_OK;
    }
    int nb_max = chunk_images(s, d, ws);
    if (nb_max < 1 && s.N > 0) return NN_ERR_INVALID;
    for (int n0 = 0; n0 < s.N; n0 += nb_max) {
        int nb = s.N - n0 < nb_max ? s.N - n0 : nb_max;
        float *col = ws.data;                  // (k, nb*p)
        float *tmp = ws.data + (size_t)k * nb * p; // (c_out, nb*p)
        col_job cj = {d, s.H, s.W, ho, wo, nb, in + n0 * img, col, NULL};
        nn_parallel_for(k, im2col_rows, &cj);
        nn_sgemm_ex(ws.precision, 0, 0, d.c_out, nb * (int)p, k, 1.0f, weight, k, col, nb * (int)p, 0.0f, tmp,
                    nb * (int)p);
        scatter_job sj = {out + (size_t)n0 * d.c_out * p, tmp, bias, NULL, NULL, d.c_out, nb, p, ep};
        nn_parallel_for(d.c_out, scatter_rows, &sj);
    }
    return NN_OK;
}

nn_status nn_conv2d_backward(float *din, float *dweight, float *dbias,
                             const float *dout, const float *in, const float *weight,
                             nn_shape s, nn_conv2d_dims d, nn_workspace ws) {
    if (check_dims(s, d) != NN_OK) return NN_ERR_INVALID;
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

/* ------------------------------------------------ Winograd F(2×2, 3×3) */
/* For inference of 3×3, stride-1, pad-1 convolutions: each 2×2 output block
 * comes from a 4×4 input tile, V = Bᵀ d B, and the weights are transformed
 * once, U = G g Gᵀ; the 16 positions of the transformed domain are 16
 * independent GEMMs M_k = U_k V_k over every tile of a chunk of images, and
 * Y = Aᵀ M A gives the outputs. 2.25× fewer multiplications than im2col, and
 * the transformed input is 4 floats per pixel where im2col writes 9. */

int nn_conv2d_winograd_applies(nn_conv2d_dims d) {
    return d.k == 3 && d.stride == 1 && d.pad == 1 && d.dilation == 1;
}

size_t nn_conv2d_winograd_weight_floats(nn_conv2d_dims d) { return (size_t)16 * d.c_out * d.c_in; }

/* u = G g Gᵀ for one 3×3 kernel (flipped by 180° with `flip`), in double. */
static void winograd_kernel(float *U, size_t stride, const float *g, int flip) {
    static const double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    double k[9], Gg[4][3];
    for (int i = 0; i < 9; i++) k[i] = g[flip ? 8 - i : i];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++) Gg[i][j] = G[i][0] * k[j] + G[i][1] * k[3 + j] + G[i][2] * k[6 + j];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            U[(size_t)(4 * i + j) * stride] = (float)(Gg[i][0] * G[j][0] + Gg[i][1] * G[j][1] + Gg[i][2] * G[j][2]);
}

void nn_conv2d_winograd_weights(float *U, const float *weight, nn_conv2d_dims d) {
    const size_t plane = (size_t)d.c_out * d.c_in;
    for (int co = 0; co < d.c_out; co++)
        for (int ci = 0; ci < d.c_in; ci++)
            winograd_kernel(U + (size_t)co * d.c_in + ci, plane, weight + ((size_t)co * d.c_in + ci) * 9, 0);
}

void nn_conv2d_winograd_weights_transposed(float *U, const float *weight, nn_conv2d_dims d) {
    /* the input gradient of a 3×3 stride-1 pad-1 convolution is the same
     * kind of convolution of dout, with each kernel flipped by 180° and
     * c_in, c_out swapped */
    const size_t plane = (size_t)d.c_out * d.c_in;
    for (int co = 0; co < d.c_out; co++)
        for (int ci = 0; ci < d.c_in; ci++)
            winograd_kernel(U + (size_t)ci * d.c_out + co, plane, weight + ((size_t)co * d.c_in + ci) * 9, 1);
}

static size_t winograd_tiles(int h, int w) { return (size_t)((h + 1) / 2) * ((w + 1) / 2); }

size_t nn_conv2d_winograd_workspace_floats(nn_conv2d_dims d, int h, int w, int images) {
    return (size_t)images * winograd_tiles(h, w) * 16 * ((size_t)d.c_in + d.c_out);
}

typedef struct {
    const float *in;  // (nb, c_in, h, w)
    float *V;         // (16, c_in, T)
    const float *U;   // (16, c_out, c_in)
    float *M;         // (16, c_out, T)
    float *out;       // (nb, c_out, h, w)
    const float *bias;
    int c_in, c_out, h, w, nb, th, tw;
    size_t T;
    nn_precision precision; /* of the forward pass's products */
    nn_epilogue ep;         /* applied to the outputs */
    atomic_int failed; /* a range could not get its row buffers */
} winograd_job;

/* V = Bᵀ d B for every tile of channels [c0, c1), a row of tiles at a
 * time: the four input rows (zero outside the image) are combined
 * vertically into even and odd columns, then each of the 16 outputs is a
 * contiguous vector operation along the row of tiles. */
static void winograd_input(void *ctx, int c0, int c1) {
    const winograd_job *j = ctx;
    const size_t T = j->T, plane = (size_t)j->c_in * T, hw = (size_t)j->h * j->w;
    const int W = j->w, tw = j->tw, pw = 2 * tw + 2; /* a padded row covers x = -1 .. 2·tw */
    float *buf = malloc(sizeof(float) * (4 * (size_t)pw + 8 * ((size_t)tw + 1)));
    if (!buf) {
        atomic_store(&((winograd_job *)ctx)->failed, 1);
        return;
    }
    float *row[4], *ev[4], *od[4];
    for (int i = 0; i < 4; i++) row[i] = buf + (size_t)i * pw;
    for (int i = 0; i < 4; i++) ev[i] = buf + 4 * (size_t)pw + (size_t)(2 * i) * (tw + 1), od[i] = ev[i] + tw + 1;
    for (int c = c0; c < c1; c++)
        for (int n = 0; n < j->nb; n++) {
            const float *src = j->in + ((size_t)n * j->c_in + c) * hw;
            float *v = j->V + (size_t)c * T + (size_t)n * j->th * j->tw;
            for (int ty = 0; ty < j->th; ty++) {
                for (int i = 0; i < 4; i++) {
                    int y = 2 * ty - 1 + i;
                    memset(row[i], 0, sizeof(float) * (size_t)pw);
                    if (y >= 0 && y < j->h) memcpy(row[i] + 1, src + (size_t)y * W, sizeof(float) * (size_t)W);
                }
                const float *r0 = row[0], *r1 = row[1], *r2 = row[2], *r3 = row[3];
                for (int k = 0; k <= tw; k++) {
                    int x = 2 * k;
                    ev[0][k] = r0[x] - r2[x], od[0][k] = r0[x + 1] - r2[x + 1];
                    ev[1][k] = r1[x] + r2[x], od[1][k] = r1[x + 1] + r2[x + 1];
                    ev[2][k] = r2[x] - r1[x], od[2][k] = r2[x + 1] - r1[x + 1];
                    ev[3][k] = r1[x] - r3[x], od[3][k] = r1[x + 1] - r3[x + 1];
                }
                float *o = v + (size_t)ty * tw;
                for (int i = 0; i < 4; i++) {
                    const float *e = ev[i], *d = od[i];
                    float *o0 = o + (size_t)(4 * i) * plane, *o1 = o0 + plane, *o2 = o1 + plane, *o3 = o2 + plane;
                    for (int tx = 0; tx < tw; tx++) {
                        o0[tx] = e[tx] - e[tx + 1];
                        o1[tx] = d[tx] + e[tx + 1];
                        o2[tx] = e[tx + 1] - d[tx];
                        o3[tx] = d[tx] - d[tx + 1];
                    }
                }
            }
        }
    free(buf);
}

/* M_k = U_k V_k, one single-threaded GEMM per position k. */
static void winograd_gemms(void *ctx, int k0, int k1) {
    const winograd_job *j = ctx;
    for (int k = k0; k < k1; k++)
        nn_sgemm_serial_ex(j->precision, 0, 0, j->c_out, (int)j->T, j->c_in, 1.0f,
                           j->U + (size_t)k * j->c_out * j->c_in, j->c_in, j->V + (size_t)k * j->c_in * j->T,
                           (int)j->T, 0.0f, j->M + (size_t)k * j->c_out * j->T, (int)j->T);
}

/* Y = Aᵀ M A (+ bias) into the outputs of channels [c0, c1), a row of
 * tiles at a time, as vector operations along the row. */
static void winograd_output(void *ctx, int c0, int c1) {
    const winograd_job *j = ctx;
    const size_t T = j->T, plane = (size_t)j->c_out * T, hw = (size_t)j->h * j->w;
    const int tw = j->tw;
    float *buf = malloc(sizeof(float) * 12 * (size_t)tw);
    if (!buf) {
        atomic_store(&((winograd_job *)ctx)->failed, 1);
        return;
    }
    float *s[4][2], *y[2][2];
    for (int i = 0; i < 4; i++) s[i][0] = buf + (size_t)(2 * i) * tw, s[i][1] = s[i][0] + tw;
    for (int r = 0; r < 2; r++) y[r][0] = buf + (size_t)(8 + 2 * r) * tw, y[r][1] = y[r][0] + tw;
    for (int c = c0; c < c1; c++) {
        const float b = j->bias ? j->bias[c] : 0.0f;
        for (int n = 0; n < j->nb; n++) {
            float *dst = j->out + ((size_t)n * j->c_out + c) * hw;
            const float *m = j->M + (size_t)c * T + (size_t)n * j->th * j->tw;
            for (int ty = 0; ty < j->th; ty++) {
                const float *p = m + (size_t)ty * tw;
                for (int i = 0; i < 4; i++) {
                    const float *m0 = p + (size_t)(4 * i) * plane, *m1 = m0 + plane, *m2 = m1 + plane, *m3 = m2 + plane;
                    float *a = s[i][0], *d = s[i][1];
                    for (int tx = 0; tx < tw; tx++) {
                        a[tx] = m0[tx] + m1[tx] + m2[tx];
                        d[tx] = m1[tx] - m2[tx] - m3[tx];
                    }
                }
                for (int k = 0; k < 2; k++) {
                    float *y0 = y[0][k], *y1 = y[1][k];
                    const float *a0 = s[0][k], *a1 = s[1][k], *a2 = s[2][k], *a3 = s[3][k];
                    for (int tx = 0; tx < tw; tx++) {
                        y0[tx] = a0[tx] + a1[tx] + a2[tx] + b;
                        y1[tx] = a1[tx] - a2[tx] - a3[tx] + b;
                    }
                    nn_epilogue_apply(y0, (size_t)tw, j->ep);
                    nn_epilogue_apply(y1, (size_t)tw, j->ep);
                }
                for (int r = 0; r < 2 && 2 * ty + r < j->h; r++) {
                    float *out = dst + (size_t)(2 * ty + r) * j->w;
                    for (int tx = 0; tx < tw; tx++) {
                        out[2 * tx] = y[r][0][tx];
                        if (2 * tx + 1 < j->w) out[2 * tx + 1] = y[r][1][tx];
                    }
                }
            }
        }
    }
    free(buf);
}

nn_status nn_conv2d_forward_winograd(float *out, const float *in, const float *U, const float *bias, nn_shape s,
                                     nn_conv2d_dims d, nn_workspace ws) {
    return nn_conv2d_forward_winograd_ep(out, in, U, bias, s, d, ws, (nn_epilogue){NN_EPILOGUE_NONE, 0.0f});
}

nn_status nn_conv2d_forward_winograd_ep(float *out, const float *in, const float *U, const float *bias, nn_shape s,
                                        nn_conv2d_dims d, nn_workspace ws, nn_epilogue ep) {
    if (check_dims(s, d) != NN_OK || !nn_conv2d_winograd_applies(d)) return NN_ERR_INVALID;
    const size_t per = nn_conv2d_winograd_workspace_floats(d, s.H, s.W, 1), hw = (size_t)s.H * s.W;
    size_t fit = ws.floats / per;
    if (fit < 1 && s.N > 0) return NN_ERR_INVALID;
    const int nb_max = fit > (size_t)s.N ? s.N : (int)fit;
    for (int n0 = 0; n0 < s.N; n0 += nb_max) {
        int nb = s.N - n0 < nb_max ? s.N - n0 : nb_max;
        winograd_job j = {.in = in + (size_t)n0 * d.c_in * hw, .U = U, .out = out + (size_t)n0 * d.c_out * hw,
                          .bias = bias, .c_in = d.c_in, .c_out = d.c_out, .h = s.H, .w = s.W, .nb = nb,
                          .th = (s.H + 1) / 2, .tw = (s.W + 1) / 2, .precision = ws.precision, .ep = ep};
        j.T = (size_t)nb * winograd_tiles(s.H, s.W);
        j.V = ws.data, j.M = ws.data + 16 * (size_t)d.c_in * j.T;
        nn_parallel_for(d.c_in, winograd_input, &j);
        if (atomic_load(&j.failed)) return NN_ERR_NOMEM;
        nn_parallel_for(16, winograd_gemms, &j);
        nn_parallel_for(d.c_out, winograd_output, &j);
        if (atomic_load(&j.failed)) return NN_ERR_NOMEM;
    }
    return NN_OK;
}

/* dM = A dY Aᵀ for every 2×2 block of dout in channels [c0, c1), a row of
 * blocks at a time (dout beyond the image counts as 0). */
static void winograd_grad_output(void *ctx, int c0, int c1) {
    const winograd_job *j = ctx;
    const size_t T = j->T, plane = (size_t)j->c_out * T, hw = (size_t)j->h * j->w;
    const int tw = j->tw;
    float *buf = malloc(sizeof(float) * 4 * (size_t)tw);
    if (!buf) {
        atomic_store(&((winograd_job *)ctx)->failed, 1);
        return;
    }
    float *e[2] = {buf, buf + tw}, *o[2] = {buf + 2 * (size_t)tw, buf + 3 * (size_t)tw};
    for (int c = c0; c < c1; c++)
        for (int n = 0; n < j->nb; n++) {
            const float *src = j->in + ((size_t)n * j->c_out + c) * hw; /* dout */
            float *m = j->M + (size_t)c * T + (size_t)n * j->th * j->tw;
            for (int ty = 0; ty < j->th; ty++) {
                for (int r = 0; r < 2; r++) {
                    int y = 2 * ty + r;
                    for (int tx = 0; tx < tw; tx++) {
                        int x = 2 * tx;
                        e[r][tx] = y < j->h ? src[(size_t)y * j->w + x] : 0.0f;
                        o[r][tx] = y < j->h && x + 1 < j->w ? src[(size_t)y * j->w + x + 1] : 0.0f;
                    }
                }
                float *out = m + (size_t)ty * tw;
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
    free(buf);
}

typedef struct {
    const winograd_job *j;
    float *dU; /* (16, c_out, c_in) */
    float beta;
} winograd_dw_job;

/* dU_k (+)= dM_k V_kᵀ, one single-threaded GEMM per position k. */
static void winograd_weight_gemms(void *ctx, int k0, int k1) {
    const winograd_dw_job *g = ctx;
    const winograd_job *j = g->j;
    for (int k = k0; k < k1; k++)
        nn_sgemm_serial(0, 1, j->c_out, j->c_in, (int)j->T, 1.0f, j->M + (size_t)k * j->c_out * j->T, (int)j->T,
                        j->V + (size_t)k * j->c_in * j->T, (int)j->T, g->beta, g->dU + (size_t)k * j->c_out * j->c_in,
                        j->c_in);
}

nn_status nn_conv2d_backward_weights_winograd(float *dweight, float *dU, const float *dout, const float *in,
                                              nn_shape s, nn_conv2d_dims d, nn_workspace ws) {
    if (check_dims(s, d) != NN_OK || !nn_conv2d_winograd_applies(d)) return NN_ERR_INVALID;
    const size_t per = nn_conv2d_winograd_workspace_floats(d, s.H, s.W, 1), hw = (size_t)s.H * s.W;
    size_t fit = ws.floats / per;
    if (fit < 1 && s.N > 0) return NN_ERR_INVALID;
    if (s.N < 1) return NN_OK;
    const int nb_max = fit > (size_t)s.N ? s.N : (int)fit;
    for (int n0 = 0; n0 < s.N; n0 += nb_max) {
        int nb = s.N - n0 < nb_max ? s.N - n0 : nb_max;
        winograd_job j = {.c_in = d.c_in, .c_out = d.c_out, .h = s.H, .w = s.W, .nb = nb, .th = (s.H + 1) / 2,
                          .tw = (s.W + 1) / 2};
        j.T = (size_t)nb * winograd_tiles(s.H, s.W);
        j.V = ws.data, j.M = ws.data + 16 * (size_t)d.c_in * j.T;
        j.in = in + (size_t)n0 * d.c_in * hw;
        nn_parallel_for(d.c_in, winograd_input, &j);
        j.in = dout + (size_t)n0 * d.c_out * hw;
        nn_parallel_for(d.c_out, winograd_grad_output, &j);
        if (atomic_load(&j.failed)) return NN_ERR_NOMEM;
        winograd_dw_job g = {&j, dU, n0 == 0 ? 0.0f : 1.0f};
        nn_parallel_for(16, winograd_weight_gemms, &g);
    }
    /* dg = Gᵀ dU G for each kernel, added into dweight */
    static const double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    const size_t plane = (size_t)d.c_out * d.c_in;
    for (size_t p = 0; p < plane; p++) {
        double u[4][4], t[3][4];
        for (int k = 0; k < 16; k++) u[k / 4][k % 4] = dU[(size_t)k * plane + p];
        for (int a = 0; a < 3; a++)
            for (int c = 0; c < 4; c++) t[a][c] = G[0][a] * u[0][c] + G[1][a] * u[1][c] + G[2][a] * u[2][c] + G[3][a] * u[3][c];
        float *g = dweight + p * 9;
        for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++)
                g[3 * a + b] += (float)(t[a][0] * G[0][b] + t[a][1] * G[1][b] + t[a][2] * G[2][b] + t[a][3] * G[3][b]);
    }
    return NN_OK;
}
