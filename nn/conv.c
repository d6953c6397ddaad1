/* conv.c — 2-D convolution: batched im2col + cblas_sgemm (one GEMM over as
 * many images as the shared workspace holds, split across the library's
 * threads), a 1×1 fast path without
 * im2col, and a naive direct convolution kept as the test oracle. */
#include "nn.h"

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
} scatter_job;

static void scatter_rows(void *ctx, int c0, int c1) {
    const scatter_job *j = ctx;
    for (int co = c0; co < c1; co++) {
        float b = j->bias ? j->bias[co] : 0.0f;
        for (int n = 0; n < j->nb; n++) {
            const float *src = j->tmp + (size_t)co * j->nb * j->p + (size_t)n * j->p;
            float *dst = j->out + ((size_t)n * j->c_out + co) * j->p;
            for (size_t i = 0; i < j->p; i++) dst[i] = src[i] + b;
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
    if (check_dims(s, d) != NN_OK) return NN_ERR_INVALID;
    const int ho = nn_conv2d_out_size(s.H, d), wo = nn_conv2d_out_size(s.W, d);
    const size_t p = (size_t)ho * wo, img = (size_t)d.c_in * s.H * s.W;
    const int k = d.c_in * d.k * d.k;
    if (is_pointwise(d)) {
        for (int n = 0; n < s.N; n++) {
            float *o = out + (size_t)n * d.c_out * p;
            nn_sgemm(0, 0, d.c_out, (int)p, d.c_in, 1.0f, weight, d.c_in, in + n * img, (int)p,
                     0.0f, o, (int)p);
            if (bias)
                for (int co = 0; co < d.c_out; co++)
                    for (size_t i = 0; i < p; i++) o[co * p + i] += bias[co];
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
        nn_sgemm(0, 0, d.c_out, nb * (int)p, k, 1.0f, weight, k, col, nb * (int)p, 0.0f, tmp,
                 nb * (int)p);
        scatter_job sj = {out + (size_t)n0 * d.c_out * p, tmp, bias, NULL, NULL, d.c_out, nb, p};
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
        scatter_job gj = {NULL, NULL, NULL, dy, dout + (size_t)n0 * d.c_out * p, d.c_out, nb, p};
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
