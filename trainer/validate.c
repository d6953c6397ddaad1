/* validate.c — what a training run reports at the end of an epoch: the
 * validation loss and PSNR, a grid of sample colorizations, and the logs
 * (CSV and plots) of the run's history. */
#include "validate.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Columns of the sample grid: validation images shown. */
#define SAMPLE_COLUMNS 8

/* Validation loss with simulated hints (a fixed seed, so epochs compare)
 * and PSNR of the plain-mean prediction without hints. */
gboolean validate(nn_unet *net, const lab_set *val, const ab_bins *bins, int batch, uint64_t seed,
                  val_result *out, GError **error) {
    const int Q = bins->num_bins;
    float *in = g_new(float, (size_t)batch * NN_INPUT_CHANNELS * CIFAR_PIXELS);
    float *probs = g_new(float, (size_t)batch * Q * CIFAR_PIXELS);
    float *ab = g_new(float, (size_t)batch * 2 * CIFAR_PIXELS), *L = g_new(float, (size_t)batch * CIFAR_PIXELS);
    int32_t *targets = g_new(int32_t, (size_t)batch * CIFAR_PIXELS);
    uint8_t *rgb = g_new(uint8_t, (size_t)batch * CIFAR_PIXELS * 3);
    int *index = g_new(int, batch);
    nn_rng rng;
    nn_rng_seed(&rng, derive_seed(seed, 7, 0));
    double loss_sum = 0.0;
    metrics_acc acc;
    metrics_init(&acc);
    nn_error err = {0};
    gboolean ok = TRUE;
    const gboolean tty = isatty(STDERR_FILENO);
    for (int i0 = 0; ok && i0 < val->n; i0 += batch) {
        int nb = val->n - i0 < batch ? val->n - i0 : batch;
        for (int i = 0; i < nb; i++) index[i] = i0 + i;
        const float *logits;
        make_batch(val, bins, index, nb, &rng, (batch_options){.hints = -1}, in, targets, NULL, NULL);
        if (nn_unet_forward(net, in, nb, NN_MODE_EVAL, &logits, &err) != NN_OK) break;
        loss_sum += (double)nn_softmax_xent_forward(probs, logits, targets, bins->rebalance, nb, Q, CIFAR_PIXELS) * nb;
        make_batch(val, bins, index, nb, &rng, (batch_options){.hints = 0}, in, NULL, L, NULL);
        if (nn_unet_forward(net, in, nb, NN_MODE_EVAL, &logits, &err) != NN_OK ||
            nn_decode_vivid(ab, logits, bins->bin_ab, bins->rebalance, nb, Q, CIFAR_PIXELS, 0.0f) != NN_OK) {
            if (!err.status) nn_set_error(&err, NN_ERR_NOMEM, "out of memory while decoding");
            break;
        }
        lab_planes_to_rgb8(rgb, L, ab, nb);
        for (int i = 0; i < nb; i++)
            metrics_add(&acc, rgb + (size_t)i * CIFAR_PIXELS * 3, val->rgb + (size_t)(i0 + i) * CIFAR_PIXELS * 3,
                        CIFAR_SIDE, CIFAR_SIDE);
        if (tty) g_printerr("\rvalidating: %3d%%", (int)(100.0 * (i0 + nb) / val->n));
    }
    if (tty) g_printerr("\r                \r");
    ok = err.status == NN_OK;
    metrics_result mr = metrics_finish(&acc);
    g_free(in), g_free(probs), g_free(ab), g_free(L), g_free(targets), g_free(rgb), g_free(index);
    if (ok) *out = (val_result){loss_sum / val->n, mr.psnr};
    else g_set_error(error, TRAINER_ERROR, 1, "validation failed: %s", err.msg);
    return ok;
}

/* One grid per epoch: gray, prediction without hints, with 5 hints, truth. */
gboolean write_samples(nn_unet *net, const lab_set *val, const ab_bins *bins, const char *dir, int epoch,
                       uint64_t seed, int capacity, GError **error) {
    const int n = val->n < SAMPLE_COLUMNS ? val->n : SAMPLE_COLUMNS, Q = bins->num_bins;
    int index[SAMPLE_COLUMNS];
    float in[SAMPLE_COLUMNS * NN_INPUT_CHANNELS * CIFAR_PIXELS], L[SAMPLE_COLUMNS * CIFAR_PIXELS];
    float ab[SAMPLE_COLUMNS * 2 * CIFAR_PIXELS], zero[SAMPLE_COLUMNS * 2 * CIFAR_PIXELS] = {0};
    uint8_t rgb[4][SAMPLE_COLUMNS * CIFAR_PIXELS * 3]; /* gray, no hints, the 5 hints, 5 hints */
    const uint8_t *tiles[5 * SAMPLE_COLUMNS] = {0};
    for (int i = 0; i < n; i++) index[i] = i * (val->n / n);
    for (int row = 0; row < 3; row++) {
        nn_rng rng;
        nn_rng_seed(&rng, derive_seed(seed, 9, (uint64_t)row));
        make_batch(val, bins, index, n, &rng, (batch_options){.hints = row == 2 ? 5 : 0}, in, NULL, L, NULL);
        if (row == 0) lab_planes_to_rgb8(rgb[0], L, zero, n);
        else {
            for (int i0 = 0; i0 < n; i0 += capacity) { /* as many as the model takes at once */
                const int nb = n - i0 < capacity ? n - i0 : capacity;
                const float *logits;
                nn_error err = {0};
                if (nn_unet_forward(net, in + (size_t)i0 * NN_INPUT_CHANNELS * CIFAR_PIXELS, nb, NN_MODE_EVAL, &logits,
                                    &err) != NN_OK ||
                    nn_decode_vivid(ab + (size_t)i0 * 2 * CIFAR_PIXELS, logits, bins->bin_ab, bins->rebalance, nb, Q,
                                    CIFAR_PIXELS, NN_DEFAULT_VIVIDNESS)) {
                    g_set_error(error, TRAINER_ERROR, 1, "sample grid of epoch %d: %s", epoch + 1,
                                err.status ? err.msg : "out of memory while decoding");
                    return FALSE;
                }
            }
            if (row == 2) hints_to_rgb8(rgb[2], L, in, n);
            lab_planes_to_rgb8(rgb[row == 2 ? 3 : 1], L, ab, n);
        }
    }
    for (int row = 0; row < 4; row++)
        for (int i = 0; i < n; i++) tiles[row * SAMPLE_COLUMNS + i] = rgb[row] + (size_t)i * CIFAR_PIXELS * 3;
    for (int i = 0; i < n; i++) tiles[4 * SAMPLE_COLUMNS + i] = val->rgb + (size_t)index[i] * CIFAR_PIXELS * 3;
    const char *labels[5] = {"gray", "no hints", "the 5 hints", "5 hints", "ground truth"};
    char name[64];
    snprintf(name, sizeof name, "samples-epoch%03d.png", epoch + 1);
    char *path = g_build_filename(dir, name, NULL);
    GError *write_error = NULL; /* a log that cannot be written is a warning, not the end of training */
    if (!plot_tile_grid(path, tiles, 5, SAMPLE_COLUMNS, labels, 3, &write_error)) {
        g_printerr("colorize-train: warning: %s\n", write_error->message);
        g_error_free(write_error);
    }
    g_free(path);
    return TRUE;
}

void write_logs(const train_run *r) {
    if (!r->log_dir) return;
    GError *error = NULL;
    char *csv = g_build_filename(r->log_dir, "metrics.csv", NULL);
    GString *s = g_string_new("epoch,train_loss,val_loss,val_psnr,lr,seconds\n");
    for (guint i = 0; i < r->h_epoch->len; i++)
        g_string_append_printf(s, "%d,%.6f,%.6f,%.4f,%.6g,%.1f\n", (int)g_array_index(r->h_epoch, double, i),
                               g_array_index(r->h_train, double, i), g_array_index(r->h_val, double, i),
                               g_array_index(r->h_psnr, double, i), g_array_index(r->h_lr, double, i),
                               g_array_index(r->h_seconds, double, i));
    if (!g_file_set_contents(csv, s->str, (gssize)s->len, &error)) {
        g_printerr("colorize-train: warning: %s\n", error->message);
        g_clear_error(&error);
    }
    g_string_free(s, TRUE);
    g_free(csv);
    int n = (int)r->h_epoch->len, ns = (int)r->s_epoch->len;
    const double *x = (const double *)r->h_epoch->data, *sx = (const double *)r->s_epoch->data;
    plot_series loss[2] = {{"training loss, per step", sx, (const double *)r->s_loss->data, ns, PLOT_THIN},
                           {"validation loss, per epoch", x, (const double *)r->h_val->data, n, PLOT_DOTS}};
    plot_series lr = {"learning rate, per step", sx, (const double *)r->s_lr->data, ns, PLOT_LINE};
    plot_panel panels[2] = {{"loss", loss, 2}, {"learning rate", &lr, 1}};
    char *path = g_build_filename(r->log_dir, "loss.png", NULL);
    if (!plot_panels(path, "Rebalanced cross-entropy and learning rate", "epoch", panels, 2, TRUE, &error)) {
        g_printerr("colorize-train: warning: %s\n", error->message);
        g_clear_error(&error);
    }
    g_free(path);
    plot_series psnr = {"validation PSNR, no hints, vividness 0", x, (const double *)r->h_psnr->data, n, PLOT_DOTS};
    plot_panel psnr_panel = {"dB", &psnr, 1};
    path = g_build_filename(r->log_dir, "validation-psnr.png", NULL);
    if (!plot_panels(path, "Validation PSNR (dB)", "epoch", &psnr_panel, 1, TRUE, &error)) {
        g_printerr("colorize-train: warning: %s\n", error->message);
        g_clear_error(&error);
    }
    g_free(path);
}
