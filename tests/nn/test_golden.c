/* test_golden.c — compares every layer, Adam/AdamW and two whole U-Nets
 * (forward, loss, all gradients, running statistics and the BN-folded
 * inference output) against PyTorch's values in golden/golden.bin. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "testlib.h"

#define TOL_LAYER 2e-5
#define TOL_MODEL 2e-5

static golden_file G;

static const float *gd(const char *fmt, const char *a) {
    char name[160];
    snprintf(name, sizeof name, fmt, a);
    const golden_tensor *t = golden_get(&G, name);
    return t ? t->data : NULL;
}

static const golden_tensor *gt(const char *name) { return golden_get(&G, name); }

static float *zeros(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

static void test_conv(int i) {
    char p[16], name[64];
    snprintf(p, sizeof p, "conv%d", i);
    const float *prm = gd("%s.params", p);
    snprintf(name, sizeof name, "conv%d.x", i);
    const golden_tensor *x = gt(name);
    if (!prm || !x) return;
    nn_conv2d_dims d = {3, 5, (int)prm[0], (int)prm[1], (int)prm[2], (int)prm[3]};
    nn_shape s = {(int)x->dims[0], (int)x->dims[1], (int)x->dims[2], (int)x->dims[3]};
    snprintf(name, sizeof name, "conv%d.y", i);
    const golden_tensor *yt = gt(name);
    if (!yt) return;
    size_t ws_floats = nn_conv2d_workspace_floats(d, s.H, s.W, s.N);
    nn_workspace ws = {zeros(ws_floats), ws_floats, NN_PRECISION_FP32};
    float *out = zeros(yt->numel), *dx = zeros(x->numel);
    size_t nw = (size_t)d.c_out * d.c_in * d.k * d.k;
    float *dw = zeros(nw), *db = zeros(5);
    CHECK(nn_conv2d_forward(out, x->data, gd("%s.w", p), gd("%s.b", p), s, d, ws) == NN_OK, "conv");
    snprintf(name, sizeof name, "conv%d forward (k%d s%d p%d d%d)", i, d.k, d.stride, d.pad, d.dilation);
    check_close(name, out, yt->data, yt->numel, TOL_LAYER);
    CHECK(nn_conv2d_backward(dx, dw, db, gd("%s.dy", p), x->data, gd("%s.w", p), s, d, ws) == NN_OK, "conv bwd");
    snprintf(name, sizeof name, "conv%d dx", i);
    check_close(name, dx, gd("%s.dx", p), x->numel, TOL_LAYER);
    snprintf(name, sizeof name, "conv%d dw", i);
    check_close(name, dw, gd("%s.dw", p), nw, TOL_LAYER);
    snprintf(name, sizeof name, "conv%d db", i);
    check_close(name, db, gd("%s.db", p), 5, TOL_LAYER);
    /* the naive oracle agrees with PyTorch too */
    memset(dx, 0, x->numel * 4), memset(dw, 0, nw * 4), memset(db, 0, 20);
    nn_conv2d_forward_naive(out, x->data, gd("%s.w", p), gd("%s.b", p), s, d);
    nn_conv2d_backward_naive(dx, dw, db, gd("%s.dy", p), x->data, gd("%s.w", p), s, d);
    snprintf(name, sizeof name, "conv%d naive forward", i);
    check_close(name, out, yt->data, yt->numel, TOL_LAYER);
    snprintf(name, sizeof name, "conv%d naive dw", i);
    check_close(name, dw, gd("%s.dw", p), nw, TOL_LAYER);
    free(ws.data), free(out), free(dx), free(dw), free(db);
}

static void test_batchnorm(void) {
    const golden_tensor *x = gt("bn.x");
    if (!x) return;
    nn_shape s = {(int)x->dims[0], (int)x->dims[1], (int)x->dims[2], (int)x->dims[3]};
    float *y = zeros(x->numel), *dx = zeros(x->numel), mean[4], rstd[4], rm[4] = {0}, rv[4] = {1, 1, 1, 1};
    float dg[4] = {0}, dbeta[4] = {0};
    nn_batchnorm_forward_train(y, mean, rstd, rm, rv, x->data, gd("%s.gamma", "bn"), gd("%s.beta", "bn"), s, 0.1f, 1e-5f);
    check_close("batchnorm train forward", y, gd("%s.y", "bn"), x->numel, TOL_LAYER);
    check_close("batchnorm running mean", rm, gd("%s.running_mean", "bn"), 4, TOL_LAYER);
    check_close("batchnorm running var", rv, gd("%s.running_var", "bn"), 4, TOL_LAYER);
    nn_batchnorm_backward(dx, dg, dbeta, gd("%s.dy", "bn"), x->data, mean, rstd, gd("%s.gamma", "bn"), s);
    check_close("batchnorm dx", dx, gd("%s.dx", "bn"), x->numel, TOL_LAYER);
    check_close("batchnorm dgamma", dg, gd("%s.dgamma", "bn"), 4, TOL_LAYER);
    check_close("batchnorm dbeta", dbeta, gd("%s.dbeta", "bn"), 4, TOL_LAYER);
    nn_batchnorm_forward_eval(y, x->data, gd("%s.gamma", "bn"), gd("%s.beta", "bn"), rm, rv, s, 1e-5f);
    check_close("batchnorm eval forward", y, gd("%s.eval_y", "bn"), x->numel, TOL_LAYER);
    free(y), free(dx);
}

static void test_upsample(const char *mode) {
    char name[64];
    snprintf(name, sizeof name, "up_%s.x", mode);
    const golden_tensor *x = gt(name);
    if (!x) return;
    nn_shape s = {(int)x->dims[0], (int)x->dims[1], (int)x->dims[2], (int)x->dims[3]};
    float *y = zeros(4 * x->numel), *dx = zeros(x->numel);
    char p[32];
    snprintf(p, sizeof p, "up_%s", mode);
    int bil = strcmp(mode, "bilinear") == 0;
    if (bil) nn_upsample2x_bilinear_forward(y, x->data, s);
    else nn_upsample2x_nearest_forward(y, x->data, s);
    snprintf(name, sizeof name, "upsample %s forward", mode);
    check_close(name, y, gd("%s.y", p), 4 * x->numel, TOL_LAYER);
    if (bil) nn_upsample2x_bilinear_backward(dx, gd("%s.dy", p), s);
    else nn_upsample2x_nearest_backward(dx, gd("%s.dy", p), s);
    snprintf(name, sizeof name, "upsample %s dx", mode);
    check_close(name, dx, gd("%s.dx", p), x->numel, TOL_LAYER);
    free(y), free(dx);
}

static void test_pointwise_and_losses(void) {
    const golden_tensor *x = gt("leaky.x");
    if (x) {
        float *y = zeros(x->numel), *dx = zeros(x->numel);
        nn_leaky_relu_forward(y, x->data, x->numel, 0.2f);
        check_close("leaky relu forward", y, gd("%s.y", "leaky"), x->numel, TOL_LAYER);
        nn_leaky_relu_backward(dx, gd("%s.dy", "leaky"), y, x->numel, 0.2f);
        check_close("leaky relu dx", dx, gd("%s.dx", "leaky"), x->numel, TOL_LAYER);
        free(y), free(dx);
    }
    const golden_tensor *l = gt("xent.logits"), *t = gt("xent.targets");
    if (l && t) {
        int N = (int)l->dims[0], Q = (int)l->dims[1], hw = (int)(l->dims[2] * l->dims[3]);
        int32_t *tg = malloc(sizeof(int32_t) * t->numel);
        for (size_t i = 0; i < t->numel; i++) tg[i] = (int32_t)t->data[i];
        float *probs = zeros(l->numel), *dl = zeros(l->numel);
        float loss = nn_softmax_xent_forward(probs, l->data, tg, gd("%s.weights", "xent"), N, Q, hw);
        check_close("softmax xent loss", &loss, gd("%s.loss", "xent"), 1, TOL_LAYER);
        nn_softmax_xent_backward(dl, probs, tg, gd("%s.weights", "xent"), N, Q, hw, 1.0f);
        check_close("softmax xent dlogits", dl, gd("%s.dlogits", "xent"), l->numel, TOL_LAYER);
        tg[0] = Q; /* an out-of-range target is reported, not read */
        CHECK(isnan(nn_softmax_xent_forward(probs, l->data, tg, NULL, N, Q, hw)), "bad target accepted");
        free(tg), free(probs), free(dl);
    }
    const golden_tensor *pr = gt("l1.pred");
    if (pr) {
        float d[40] = {0}, loss = nn_l1_forward(pr->data, gd("%s.target", "l1"), 40);
        check_close("l1 loss", &loss, gd("%s.loss", "l1"), 1, TOL_LAYER);
        nn_l1_backward(d, pr->data, gd("%s.target", "l1"), 40, 1.0f);
        check_close("l1 dpred", d, gd("%s.dpred", "l1"), 40, TOL_LAYER);
        memset(d, 0, sizeof d);
        loss = nn_huber_forward(pr->data, gd("%s.target", "huber"), 40, 1.0f);
        check_close("huber loss", &loss, gd("%s.loss", "huber"), 1, TOL_LAYER);
        nn_huber_backward(d, pr->data, gd("%s.target", "huber"), 40, 1.0f, 1.0f);
        check_close("huber dpred", d, gd("%s.dpred", "huber"), 40, TOL_LAYER);
    }
}

static void test_adam(const char *name, int decoupled, float wd) {
    char key[32];
    float p[50], m[50] = {0}, v[50] = {0};
    snprintf(key, sizeof key, "%s.p0", name);
    const golden_tensor *p0 = gt(key);
    if (!p0) return;
    memcpy(p, p0->data, sizeof p);
    nn_adam_config c = nn_adam_default(0.01f);
    c.weight_decay = wd;
    c.decoupled = decoupled;
    for (int step = 0; step < 3; step++) {
        snprintf(key, sizeof key, "%s.g%d", name, step);
        const golden_tensor *g = gt(key);
        if (!g) return;
        nn_adam_step(p, g->data, m, v, 50, c, step + 1);
        snprintf(key, sizeof key, "%s.p%d", name, step + 1);
        const golden_tensor *want = gt(key);
        char label[48];
        snprintf(label, sizeof label, "%s step %d parameters", name, step + 1);
        if (want) check_close(label, p, want->data, 50, 1e-6);
    }
}

static const char *const SUFFIX[NN_UNIT_PARAM_KINDS] = {"conv.weight", "conv.bias", "bn.weight", "bn.bias"};

static void test_unet(const char *prefix) {
    char key[128];
    snprintf(key, sizeof key, "%s.config", prefix);
    const golden_tensor *ct = gt(key);
    if (!ct) return;
    const float *c = ct->data;
    nn_unet_config cfg = nn_unet_default_config((int)c[3]);
    cfg.in_channels = (int)c[0], cfg.base_width = (int)c[1], cfg.depth = (int)c[2];
    cfg.upsample = c[4] > 0 ? NN_UPSAMPLE_BILINEAR : NN_UPSAMPLE_NEAREST;
    cfg.activation = c[5] > 0 ? NN_ACT_LEAKY_RELU : NN_ACT_RELU;
    if (c[5] > 0) cfg.leaky_slope = c[6];
    int n = (int)c[7], h = (int)c[8], w = (int)c[9];
    nn_unet *m = NULL;
    nn_error err = {0};
    CHECK(nn_unet_create(&m, &cfg, n, h, w, &err) == NN_OK, "%s", err.msg);
    if (!m) return;
    nn_unet_init(m, 1);
    for (int u = 0; u < nn_unet_num_units(m); u++) {
        const nn_unit *t = nn_unet_unit(m, u);
        for (int k = 0; k < NN_UNIT_PARAM_KINDS; k++) {
            if (!t->param_count[k]) continue;
            snprintf(key, sizeof key, "%s.param.%s.%s", prefix, t->name, SUFFIX[k]);
            const golden_tensor *src = gt(key);
            CHECK(src && src->numel == t->param_count[k], "%s shape", key);
            if (src && src->numel == t->param_count[k])
                memcpy(nn_unet_param(m, u, (nn_unit_param)k), src->data, src->numel * 4);
        }
    }
    snprintf(key, sizeof key, "%s.x", prefix);
    const golden_tensor *x = gt(key);
    snprintf(key, sizeof key, "%s.targets", prefix);
    const golden_tensor *tt = gt(key);
    snprintf(key, sizeof key, "%s.logits", prefix);
    const golden_tensor *lt = gt(key);
    if (!x || !tt || !lt) return;
    const float *logits;
    CHECK(nn_unet_forward(m, x->data, n, NN_MODE_TRAIN, &logits, &err) == NN_OK, "%s", err.msg);
    snprintf(key, sizeof key, "%s train logits", prefix);
    check_close(key, logits, lt->data, lt->numel, TOL_MODEL);
    int32_t *tg = malloc(sizeof(int32_t) * tt->numel);
    for (size_t i = 0; i < tt->numel; i++) tg[i] = (int32_t)tt->data[i];
    float *probs = zeros(lt->numel), *dl = zeros(lt->numel), *dx = zeros(x->numel);
    snprintf(key, sizeof key, "%s.weights", prefix);
    const float *cw = gt(key) ? gt(key)->data : NULL;
    float loss = nn_softmax_xent_forward(probs, logits, tg, cw, n, cfg.num_bins, h * w);
    snprintf(key, sizeof key, "%s.loss", prefix);
    const golden_tensor *want_loss = gt(key);
    snprintf(key, sizeof key, "%s loss", prefix);
    if (want_loss) check_close(key, &loss, want_loss->data, 1, TOL_MODEL);
    nn_softmax_xent_backward(dl, probs, tg, cw, n, cfg.num_bins, h * w, 1.0f);
    nn_unet_zero_grads(m);
    CHECK(nn_unet_backward(m, dl, dx, &err) == NN_OK, "%s", err.msg);
    snprintf(key, sizeof key, "%s.dx", prefix);
    const golden_tensor *wdx = gt(key);
    snprintf(key, sizeof key, "%s dinput", prefix);
    if (wdx) check_close(key, dx, wdx->data, x->numel, TOL_MODEL);
    for (int u = 0; u < nn_unet_num_units(m); u++) {
        const nn_unit *t = nn_unet_unit(m, u);
        for (int k = 0; k < NN_UNIT_PARAM_KINDS; k++) {
            if (!t->param_count[k]) continue;
            snprintf(key, sizeof key, "%s.grad.%s.%s", prefix, t->name, SUFFIX[k]);
            const golden_tensor *g = gt(key);
            if (g) check_close(key, nn_unet_grad(m, u, (nn_unit_param)k), g->data, g->numel, TOL_MODEL);
        }
        if (!t->has_bn) continue;
        snprintf(key, sizeof key, "%s.running_mean.%s", prefix, t->name);
        const golden_tensor *rm = gt(key);
        if (rm) check_close(key, nn_unet_buffer(m, u, NN_UNIT_BN_RUNNING_MEAN), rm->data, rm->numel, TOL_MODEL);
        snprintf(key, sizeof key, "%s.running_var.%s", prefix, t->name);
        const golden_tensor *rv = gt(key);
        if (rv) check_close(key, nn_unet_buffer(m, u, NN_UNIT_BN_RUNNING_VAR), rv->data, rv->numel, TOL_MODEL);
    }
    CHECK(nn_unet_forward(m, x->data, n, NN_MODE_EVAL, &logits, &err) == NN_OK, "%s", err.msg);
    snprintf(key, sizeof key, "%s.eval_logits", prefix);
    const golden_tensor *el = gt(key);
    snprintf(key, sizeof key, "%s eval logits (BN folded)", prefix);
    if (el) check_close(key, logits, el->data, el->numel, TOL_MODEL);
    free(tg), free(probs), free(dl), free(dx);
    nn_unet_free(m);
}

int main(int argc, char **argv) {
    if (argc < 2 || !golden_load(&G, argv[1])) {
        fprintf(stderr, "usage: test_golden golden.bin\n");
        return 1;
    }
    nn_set_threads(2);
    for (int i = 0; i < 4; i++) test_conv(i);
    test_batchnorm();
    test_upsample("nearest");
    test_upsample("bilinear");
    test_pointwise_and_losses();
    test_adam("adam", 0, 0.01f);
    test_adam("adamw", 1, 0.05f);
    test_unet("unetA");
    test_unet("unetB");
    golden_free(&G);
    return test_finish("test_golden");
}
