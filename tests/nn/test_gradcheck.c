/* test_gradcheck.c — finite-difference gradient checks of every layer's
 * backward pass and of a whole small U-Net with its loss. Each check
 * compares the analytic gradient of f = sum(r · layer(x)) with central
 * differences. Coordinates where the two step sizes h and h/2 disagree sit
 * on a ReLU/L1 kink and are skipped; at most a quarter may be skipped. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "testlib.h"

typedef double (*objective_fn)(void *ctx);
/* Optional: a signature of every activation's side of its kink after the
 * last objective call; a change between x-h and x+h means a kink. */
typedef uint64_t (*signature_fn)(void *ctx);

/* Checks analytic[i] against d f / d x[i] on `want` coordinates (all of
 * them when n <= want), drawing at most 4·want to find kink-free ones.
 * A kink at distance d from x biases the central differences of steps h and
 * h/2 by different amounts unless d is near 0; a kink near 0 shows in the
 * second differences k(s) = (f(x+s) - 2f(x) + f(x-s)) / s, which are ~f''s for
 * smooth f but stay near the slope jump at a kink, so k(h) != 2 k(h/2).
 * Both detectors allow for the float rounding noise of f; the final
 * comparison does not. */
static void gradcheck(const char *name, float *x, size_t n, const float *analytic,
                      objective_fn f, signature_fn sig, void *ctx, float h, int want,
                      double rtol, double atol_frac) {
    nn_rng rng;
    nn_rng_seed(&rng, n * 7919 + 17);
    double gmax = 0.0;
    for (size_t i = 0; i < n; i++) gmax = fmax(gmax, fabs(analytic[i]));
    double atol = atol_frac * gmax + 1e-6, worst = 0.0;
    int checked = 0, skipped = 0, bad = 0;
    const int all = (size_t)want >= n, target = all ? (int)n : want, draws = all ? (int)n : 4 * want;
    for (int c = 0; c < draws && checked < target; c++) {
        size_t i = all ? (size_t)c : nn_rng_below(&rng, (uint32_t)n);
        float xi = x[i];
        double f0 = f(ctx), est[2], second[2];
        uint64_t sig0 = sig ? sig(ctx) : 0;
        int crossed = 0;
        for (int k = 0; k < 2; k++) {
            float step = k ? h / 2 : h;
            x[i] = xi + step;
            double fp = f(ctx);
            crossed |= sig && sig(ctx) != sig0;
            x[i] = xi - step;
            double fm = f(ctx);
            crossed |= sig && sig(ctx) != sig0;
            x[i] = xi;
            est[k] = (fp - fm) / (2.0 * step);
            second[k] = (fp - 2.0 * f0 + fm) / step;
        }
        /* float evaluation noise of f, as seen by each difference */
        double noise = 4.0 * FLT_EPSILON * fabs(f0) / h;
        double thr = 0.5 * (atol + rtol * fabs(est[1])) + noise;
        if (crossed || fabs(est[0] - est[1]) > thr ||
            fabs(second[0] - 2.0 * second[1]) > 2.0 * thr + 8.0 * noise) {
            skipped++;
            continue;
        }
        checked++;
        double err = fabs(est[1] - analytic[i]);
        double rel = err / (atol + rtol * fabs(analytic[i]));
        if (rel > worst) worst = rel;
        if (rel > 1.0) {
            bad++;
            if (bad <= 3)
                fprintf(stderr, "  %s[%zu]: numeric %.6g analytic %.6g\n", name, i, est[1], analytic[i]);
        }
    }
    f(ctx); /* leave the layer's state as at x */
    printf("%-40s %4d coords checked, %3d skipped at kinks, worst err/tol %.3f%s\n", name, checked,
           skipped, worst, bad ? "  <-- FAIL" : "");
    CHECK(bad == 0, "%s: %d coordinates disagree", name, bad);
    CHECK(all ? skipped * 4 <= target : checked == target, "%s: only %d kink-free coordinates",
          name, checked);
}

static double dot(const float *a, const float *b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
    return s;
}

/* ------------------------------------------------------------ convolution */

typedef struct {
    nn_shape s;
    nn_conv2d_dims d;
    float *x, *w, *b, *y, *r;
    nn_workspace ws;
    size_t ny;
} conv_ctx;

static double conv_objective(void *p) {
    conv_ctx *c = p;
    nn_conv2d_forward(c->y, c->x, c->w, c->b, c->s, c->d, c->ws);
    return dot(c->y, c->r, c->ny);
}

static void check_conv(nn_conv2d_dims d, int N, int H, int W) {
    conv_ctx c = {.s = {N, d.c_in, H, W}, .d = d};
    int ho = nn_conv2d_out_size(H, d), wo = nn_conv2d_out_size(W, d);
    size_t nx = nn_shape_numel(c.s), nw = (size_t)d.c_out * d.c_in * d.k * d.k;
    c.ny = (size_t)N * d.c_out * ho * wo;
    c.ws.floats = nn_conv2d_workspace_floats(d, H, W, 1); /* one image per GEMM: exercises chunking */
    c.ws.data = calloc(c.ws.floats + 1, 4);
    c.x = malloc(nx * 4), c.w = malloc(nw * 4), c.b = malloc(d.c_out * 4);
    c.y = malloc(c.ny * 4), c.r = malloc(c.ny * 4);
    fill_uniform(c.x, nx, -1, 1, 1), fill_uniform(c.w, nw, -1, 1, 2);
    fill_uniform(c.b, d.c_out, -1, 1, 3), fill_uniform(c.r, c.ny, -1, 1, 4);
    float *dx = calloc(nx, 4), *dw = calloc(nw, 4), *db = calloc(d.c_out, 4);
    conv_objective(&c);
    nn_conv2d_backward(dx, dw, db, c.r, c.x, c.w, c.s, d, c.ws);
    char name[80];
    snprintf(name, sizeof name, "conv k%d s%d p%d d%d dx", d.k, d.stride, d.pad, d.dilation);
    gradcheck(name, c.x, nx, dx, conv_objective, NULL, &c, 1e-2f, 150, 1e-2, 1e-3);
    snprintf(name, sizeof name, "conv k%d s%d p%d d%d dw", d.k, d.stride, d.pad, d.dilation);
    gradcheck(name, c.w, nw, dw, conv_objective, NULL, &c, 1e-2f, 150, 1e-2, 1e-3);
    snprintf(name, sizeof name, "conv k%d s%d p%d d%d db", d.k, d.stride, d.pad, d.dilation);
    gradcheck(name, c.b, d.c_out, db, conv_objective, NULL, &c, 1e-2f, 150, 1e-2, 1e-3);
    free(c.ws.data), free(c.x), free(c.w), free(c.b), free(c.y), free(c.r), free(dx), free(dw), free(db);
}

/* ------------------------------------------------------------- batch norm */

typedef struct {
    nn_shape s;
    float *x, *g, *b, *y, *r, mean[8], rstd[8];
} bn_ctx;

static double bn_objective(void *p) {
    bn_ctx *c = p;
    nn_batchnorm_forward_train(c->y, c->mean, c->rstd, NULL, NULL, c->x, c->g, c->b, c->s, 0.1f, 1e-5f);
    return dot(c->y, c->r, nn_shape_numel(c->s));
}

static void check_batchnorm(void) {
    bn_ctx c = {.s = {3, 4, 3, 5}};
    size_t n = nn_shape_numel(c.s);
    c.x = malloc(n * 4), c.y = malloc(n * 4), c.r = malloc(n * 4), c.g = malloc(16), c.b = malloc(16);
    fill_uniform(c.x, n, -2, 2, 5), fill_uniform(c.r, n, -1, 1, 6);
    fill_uniform(c.g, 4, 0.5f, 1.5f, 7), fill_uniform(c.b, 4, -1, 1, 8);
    float *dx = calloc(n, 4), dg[4] = {0}, db[4] = {0};
    bn_objective(&c);
    nn_batchnorm_backward(dx, dg, db, c.r, c.x, c.mean, c.rstd, c.g, c.s);
    gradcheck("batchnorm dx", c.x, n, dx, bn_objective, NULL, &c, 1e-2f, 180, 1e-2, 1e-3);
    gradcheck("batchnorm dgamma", c.g, 4, dg, bn_objective, NULL, &c, 1e-2f, 4, 1e-2, 1e-3);
    gradcheck("batchnorm dbeta", c.b, 4, db, bn_objective, NULL, &c, 1e-2f, 4, 1e-2, 1e-3);
    free(c.x), free(c.y), free(c.r), free(c.g), free(c.b), free(dx);
}

/* ------------------------------------------- pointwise, upsample, concat */

typedef struct {
    int kind; /* 0 relu, 1 leaky, 2 nearest, 3 bilinear, 4 concat */
    nn_shape s;
    float *x, *x2, *y, *r;
    size_t ny;
} simple_ctx;

static double simple_objective(void *p) {
    simple_ctx *c = p;
    size_t n = nn_shape_numel(c->s);
    switch (c->kind) {
    case 0: nn_relu_forward(c->y, c->x, n); break;
    case 1: nn_leaky_relu_forward(c->y, c->x, n, 0.2f); break;
    case 2: nn_upsample2x_nearest_forward(c->y, c->x, c->s); break;
    case 3: nn_upsample2x_bilinear_forward(c->y, c->x, c->s); break;
    case 4: nn_concat_forward(c->y, c->x, c->x2, c->s.N, c->s.C, 2, c->s.H * c->s.W); break;
    }
    return dot(c->y, c->r, c->ny);
}

static void check_simple(int kind, const char *name) {
    simple_ctx c = {.kind = kind, .s = {2, 3, 4, 5}};
    size_t n = nn_shape_numel(c.s), n2 = (size_t)2 * 2 * 20;
    c.ny = kind >= 2 && kind <= 3 ? 4 * n : (kind == 4 ? n + n2 : n);
    c.x = malloc(n * 4), c.x2 = malloc(n2 * 4), c.y = malloc(c.ny * 4), c.r = malloc(c.ny * 4);
    fill_uniform(c.x, n, -1, 1, 9), fill_uniform(c.x2, n2, -1, 1, 10), fill_uniform(c.r, c.ny, -1, 1, 11);
    for (size_t i = 0; i < n; i++) /* keep ReLU inputs away from the kink */
        if (fabsf(c.x[i]) < 0.05f) c.x[i] = 0.1f;
    float *dx = calloc(n, 4), *dx2 = calloc(n2, 4);
    simple_objective(&c);
    switch (kind) {
    case 0: nn_relu_backward(dx, c.r, c.y, n); break;
    case 1: nn_leaky_relu_backward(dx, c.r, c.y, n, 0.2f); break;
    case 2: nn_upsample2x_nearest_backward(dx, c.r, c.s); break;
    case 3: nn_upsample2x_bilinear_backward(dx, c.r, c.s); break;
    case 4: nn_concat_backward(dx, dx2, c.r, c.s.N, c.s.C, 2, 20); break;
    }
    gradcheck(name, c.x, n, dx, simple_objective, NULL, &c, 1e-2f, 120, 1e-2, 1e-3);
    if (kind == 4) gradcheck("concat d(second input)", c.x2, n2, dx2, simple_objective, NULL, &c, 1e-2f, 80, 1e-2, 1e-3);
    free(c.x), free(c.x2), free(c.y), free(c.r), free(dx), free(dx2);
}

/* ------------------------------------------------------------------ losses */

typedef struct {
    int kind; /* 0 xent, 1 l1, 2 huber */
    float *x, *t, *w, *probs;
    int32_t *targets;
    int N, Q, hw;
    size_t n;
} loss_ctx;

static double loss_objective(void *p) {
    loss_ctx *c = p;
    if (c->kind == 0) return nn_softmax_xent_forward(c->probs, c->x, c->targets, c->w, c->N, c->Q, c->hw);
    if (c->kind == 1) return nn_l1_forward(c->x, c->t, c->n);
    return nn_huber_forward(c->x, c->t, c->n, 1.0f);
}

static void check_losses(void) {
    loss_ctx c = {.N = 2, .Q = 5, .hw = 6};
    c.n = (size_t)c.N * c.Q * c.hw;
    c.x = malloc(c.n * 4), c.t = malloc(c.n * 4), c.w = malloc(c.Q * 4), c.probs = malloc(c.n * 4);
    c.targets = malloc(sizeof(int32_t) * c.N * c.hw);
    fill_uniform(c.x, c.n, -3, 3, 12), fill_uniform(c.t, c.n, -3, 3, 13), fill_uniform(c.w, c.Q, 0.5f, 2, 14);
    for (int i = 0; i < c.N * c.hw; i++) c.targets[i] = (i * 3) % c.Q;
    const char *names[3] = {"softmax xent dlogits", "l1 dpred", "huber dpred"};
    for (int kind = 0; kind < 3; kind++) {
        c.kind = kind;
        float *dx = calloc(c.n, 4);
        loss_objective(&c);
        if (kind == 0) nn_softmax_xent_backward(dx, c.probs, c.targets, c.w, c.N, c.Q, c.hw, 1.0f);
        if (kind == 1) nn_l1_backward(dx, c.x, c.t, c.n, 1.0f);
        if (kind == 2) nn_huber_backward(dx, c.x, c.t, c.n, 1.0f, 1.0f);
        gradcheck(names[kind], c.x, c.n, dx, loss_objective, NULL, &c, 1e-2f, 60, 1e-2, 1e-3);
        free(dx);
    }
    free(c.x), free(c.t), free(c.w), free(c.probs), free(c.targets);
}

/* ------------------------------------------------------------ whole U-Net */

typedef struct {
    nn_unet *m;
    float *x, *probs, *w;
    int32_t *targets;
    int n, q, hw;
} unet_ctx;

static double unet_objective(void *p) {
    unet_ctx *c = p;
    const float *logits;
    if (nn_unet_forward(c->m, c->x, c->n, NN_MODE_TRAIN, &logits, NULL) != NN_OK) return NAN;
    return nn_softmax_xent_forward(c->probs, logits, c->targets, c->w, c->n, c->q, c->hw);
}

/* FNV-1a over the sign bits of every unit's output but the head's. */
static uint64_t unet_signature(void *p) {
    unet_ctx *c = p;
    uint64_t hash = 1469598103934665603ull;
    for (int u = 0; u + 1 < nn_unet_num_units(c->m); u++) {
        nn_shape s;
        const float *y = nn_unet_unit_output(c->m, u, &s);
        for (size_t i = 0; i < nn_shape_numel(s); i++) hash = (hash ^ (y[i] > 0.0f)) * 1099511628211ull;
    }
    return hash;
}

static void check_unet(nn_upsample_mode up, nn_activation act, const char *label) {
    nn_unet_config cfg = nn_unet_default_config(6);
    cfg.base_width = 3, cfg.depth = 3, cfg.upsample = up, cfg.activation = act;
    unet_ctx c = {.n = 4, .q = 6, .hw = 64};
    nn_error err = {0};
    CHECK(nn_unet_create(&c.m, &cfg, c.n, 8, 8, &err) == NN_OK, "%s", err.msg);
    if (!c.m) return;
    nn_unet_init(c.m, 42);
    size_t nx = (size_t)c.n * 4 * c.hw, nl = (size_t)c.n * c.q * c.hw, np;
    c.x = malloc(nx * 4), c.probs = malloc(nl * 4), c.w = malloc(c.q * 4);
    c.targets = malloc(sizeof(int32_t) * c.n * c.hw);
    fill_uniform(c.x, nx, -1, 1, 15), fill_uniform(c.w, c.q, 0.5f, 2, 16);
    for (int i = 0; i < c.n * c.hw; i++) c.targets[i] = (i * 7 + i / 5) % c.q;
    float *params = nn_unet_params(c.m, &np);
    /* Perturb BN affine parameters away from (1, 0) so their gradients are generic. */
    for (int u = 0; u < nn_unet_num_units(c.m); u++) {
        float *g = nn_unet_param(c.m, u, NN_UNIT_BN_GAMMA), *b = nn_unet_param(c.m, u, NN_UNIT_BN_BETA);
        int co = nn_unet_unit(c.m, u)->conv.c_out;
        if (g) fill_uniform(g, co, 0.5f, 1.5f, 100 + u), fill_uniform(b, co, -0.5f, 0.5f, 200 + u);
    }
    float *dx = calloc(nx, 4), *dl = calloc(nl, 4);
    unet_objective(&c);
    nn_softmax_xent_backward(dl, c.probs, c.targets, c.w, c.n, c.q, c.hw, 1.0f);
    nn_unet_zero_grads(c.m);
    CHECK(nn_unet_backward(c.m, dl, dx, &err) == NN_OK, "%s", err.msg);
    float *grads = malloc(np * 4);
    memcpy(grads, nn_unet_grads(c.m, NULL), np * 4);
    char name[80];
    snprintf(name, sizeof name, "U-Net %s d(loss)/d(params)", label);
    gradcheck(name, params, np, grads, unet_objective, unet_signature, &c, 5e-3f, 120, 1e-2, 2e-3);
    snprintf(name, sizeof name, "U-Net %s d(loss)/d(input)", label);
    gradcheck(name, c.x, nx, dx, unet_objective, unet_signature, &c, 5e-3f, 80, 3e-2, 5e-3);
    free(c.x), free(c.probs), free(c.w), free(c.targets), free(dx), free(dl), free(grads);
    nn_unet_free(c.m);
}

int main(void) {
    nn_set_threads(2);
    check_conv((nn_conv2d_dims){3, 4, 3, 1, 1, 1}, 2, 6, 5);
    check_conv((nn_conv2d_dims){3, 4, 3, 2, 1, 1}, 2, 7, 6);
    check_conv((nn_conv2d_dims){2, 3, 3, 1, 2, 2}, 2, 6, 6);
    check_conv((nn_conv2d_dims){5, 3, 1, 1, 0, 1}, 2, 4, 3);
    check_batchnorm();
    check_simple(0, "relu dx");
    check_simple(1, "leaky relu dx");
    check_simple(2, "upsample nearest dx");
    check_simple(3, "upsample bilinear dx");
    check_simple(4, "concat d(first input)");
    check_losses();
    check_unet(NN_UPSAMPLE_BILINEAR, NN_ACT_RELU, "bilinear/relu");
    check_unet(NN_UPSAMPLE_NEAREST, NN_ACT_LEAKY_RELU, "nearest/leaky");
    return test_finish("test_gradcheck");
}
