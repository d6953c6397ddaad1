/* bench_step.c — times the default U-Net's training step (forward, loss,
 * backward, Adam) and its inference forward on 32×32 tiles, in fp32 and,
 * where the CPU has AVX512-BF16, with bf16 products; prints medians.
 * Usage: bench_step [batch] [threads] [repeats] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "nn.h"

int main(int argc, char **argv) {
    int batch = argc > 1 ? atoi(argv[1]) : 64, threads = argc > 2 ? atoi(argv[2]) : 2;
    int reps = argc > 3 ? atoi(argv[3]) : 7;
    const int Q = 313;
    nn_set_threads(threads);
    nn_unet_config cfg = nn_unet_default_config(Q);
    nn_unet *m;
    nn_error err;
    if (nn_unet_create(&m, &cfg, batch, 32, 32, &err) != NN_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    nn_unet_init(m, 1);
    size_t np, nin = (size_t)batch * 4 * 1024, nl = (size_t)batch * Q * 1024;
    float *params = nn_unet_params(m, &np), *x = malloc(nin * 4), *probs = malloc(nl * 4), *dl = malloc(nl * 4);
    float *mom = calloc(np, 4), *vel = calloc(np, 4);
    int32_t *t = malloc(sizeof(int32_t) * batch * 1024);
    for (size_t i = 0; i < nin; i++) x[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
    for (int i = 0; i < batch * 1024; i++) t[i] = (i * 7) % Q;
    double train[64], infer[64], infer_bf16[64];
    const int bf16 = nn_gemm_bf16_available();
    nn_adam_config ac = nn_adam_default(1e-3f);
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up, not timed */
        const float *logits;
        double t0 = bench_now();
        nn_unet_forward(m, x, batch, NN_MODE_TRAIN, &logits, &err);
        nn_softmax_xent_forward(probs, logits, t, NULL, batch, Q, 1024);
        memset(dl, 0, nl * 4);
        nn_softmax_xent_backward(dl, probs, t, NULL, batch, Q, 1024, 1.0f);
        nn_unet_zero_grads(m);
        nn_unet_backward(m, dl, NULL, &err);
        nn_adam_step(params, nn_unet_grads(m, NULL), mom, vel, np, ac, r + 2);
        nn_unet_params_changed(m);
        double t1 = bench_now();
        nn_unet_set_precision(m, NN_PRECISION_FP32);
        nn_unet_forward(m, x, batch, NN_MODE_EVAL, &logits, &err);
        double t2 = bench_now();
        if (bf16) {
            nn_unet_set_precision(m, NN_PRECISION_BF16);
            nn_unet_forward(m, x, batch, NN_MODE_EVAL, &logits, &err);
        }
        double t3 = bench_now();
        if (r >= 0) train[r] = t1 - t0, infer[r] = t2 - t1, infer_bf16[r] = t3 - t2;
    }
    double tm = bench_median(train, reps), im = bench_median(infer, reps);
    /* the nominal work of one inference: 2 · c_out · c_in · k² per output pixel of every convolution */
    double flops = 0.0;
    for (int u = 0; u < nn_unet_num_units(m); u++) {
        const nn_unit *unit = nn_unet_unit(m, u);
        const nn_conv2d_dims d = unit->conv;
        flops += 2.0 * d.c_out * d.c_in * d.k * d.k * nn_conv2d_out_size(unit->in_h, d) * nn_conv2d_out_size(unit->in_w, d);
    }
    char cpu[256];
    printf("%s\n", nn_cpu_describe(cpu, sizeof cpu));
    printf("params %zu, batch %d, threads %d\n", np, batch, threads);
    printf("inference work %.3f GFLOP (nominal convolution FLOPs) = %.1f GFLOP/s\n", flops * batch * 1e-9,
           flops * batch / im * 1e-9);
    printf("train step median %.1f ms = %.1f img/s\n", tm * 1e3, batch / tm);
    printf("inference median %.1f ms = %.1f tiles/s\n", im * 1e3, batch / im);
    if (bf16) {
        double bm = bench_median(infer_bf16, reps);
        printf("bf16 inference median %.1f ms = %.1f tiles/s (%s)\n", bm * 1e3, batch / bm, nn_gemm_bf16_kernel_name());
    }
    return 0;
}
