/* eval.c — `colorize-train eval`: measures a model on the CIFAR-10 test set
 * (PSNR, SSIM, AuC, accuracy at 2% and 5%, colourfulness, per class) for
 * the gray baseline and for every hint count × vividness setting, and
 * writes a JSON file, a Markdown report with example grids, and optionally
 * the figures into the model's own metadata. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trainer.h"

#define MAX_SETTINGS 64
#define REPORT_EXAMPLES 10

typedef struct {
    int hints;
    float vividness;
    metrics_acc all, per_class[CIFAR_CLASSES];
} eval_run;

/* Parses "0,1,5" into ints or floats; returns the count or -1. */
static int parse_list(const char *s, double *out, int max, gboolean integers) {
    if (!s) return 0;
    char **parts = g_strsplit(s, ",", -1);
    int n = 0;
    for (char **p = parts; *p; p++) {
        char *end;
        double v = g_ascii_strtod(g_strstrip(*p), &end);
        if (end == *p || *end || n >= max || (integers && (v != floor(v) || v < 0 || v > 1000))) {
            n = -1;
            break;
        }
        out[n++] = v;
    }
    g_strfreev(parts);
    return n;
}

static void json_metrics(GString *s, metrics_result r) {
    g_string_append_printf(s,
                           "\"psnr\": %.4f, \"psnr_mean\": %.4f, \"ssim\": %.5f, \"auc\": %.5f, "
                           "\"acc2\": %.5f, \"acc5\": %.5f, \"colorfulness\": %.3f, \"colorfulness_gt\": %.3f",
                           r.psnr, r.psnr_mean, r.ssim, r.auc, r.acc2, r.acc5, r.colorfulness, r.colorfulness_gt);
}

static void json_run(GString *s, const eval_run *run, gboolean baseline) {
    g_string_append(s, "{");
    if (!baseline)
        g_string_append_printf(s, "\"hints\": %d, \"vividness\": %.3f, \"temperature\": %.4f, ", run->hints,
                               run->vividness, nn_vividness_to_temperature(run->vividness));
    json_metrics(s, metrics_finish(&run->all));
    g_string_append(s, ", \"per_class\": {");
    for (int c = 0; c < CIFAR_CLASSES; c++) {
        g_string_append_printf(s, "%s\"%s\": {", c ? ", " : "", CIFAR_CLASS_NAMES[c]);
        json_metrics(s, metrics_finish(&run->per_class[c]));
        g_string_append(s, "}");
    }
    g_string_append(s, "}}");
}

static void table_row(GString *s, const char *label, metrics_result r) {
    g_string_append_printf(s, "| %s | %.2f | %.2f | %.4f | %.3f | %.1f%% | %.1f%% | %.1f |\n", label, r.psnr,
                           r.psnr_mean, r.ssim, r.auc, 100 * r.acc2, 100 * r.acc5, r.colorfulness);
}

static const char TABLE_HEAD[] =
    "| setting | PSNR (dB) | mean PSNR (dB) | SSIM | AuC | acc. 2% | acc. 5% | colourfulness |\n"
    "|---|---|---|---|---|---|---|---|\n";

/* Colorizes test image i with `hints` hints into rgb (32×32×3). */
typedef struct {
    nn_unet *net;
    const lab_set *test;
    const ab_bins *bins;
    uint64_t seed;
    const float *rebalance; /* NULL with --no-prior */
} eval_ctx;

static gboolean write_examples(const char *path, const eval_ctx *e, int hints, float vividness, GError **error) {
    const int n = REPORT_EXAMPLES, Q = e->bins->num_bins, rows = hints ? 4 : 3;
    float in[NN_INPUT_CHANNELS * CIFAR_PIXELS], L[CIFAR_PIXELS], ab[2 * CIFAR_PIXELS], zero[2 * CIFAR_PIXELS] = {0};
    uint8_t *rgb = g_new(uint8_t, (size_t)3 * n * CIFAR_PIXELS * 3);
    const uint8_t *tiles[4 * REPORT_EXAMPLES];
    for (int i = 0; i < n; i++) {
        int idx = i * (e->test->n / n);
        nn_rng rng;
        nn_rng_seed(&rng, derive_seed(e->seed, (uint64_t)hints, (uint64_t)idx));
        make_batch(e->test, e->bins, &idx, 1, &rng, (batch_options){.hints = hints}, in, NULL, L, NULL);
        const float *logits;
        nn_error err = {0};
        if (nn_unet_forward(e->net, in, 1, NN_MODE_EVAL, &logits, &err) != NN_OK ||
            nn_decode_vivid(ab, logits, e->bins->bin_ab, e->rebalance, 1, Q, CIFAR_PIXELS, vividness) != NN_OK) {
            g_set_error(error, TRAINER_ERROR, 1, "%s: %s", path, err.status ? err.msg : "out of memory while decoding");
            g_free(rgb);
            return FALSE;
        }
        uint8_t *gray = rgb + (size_t)i * CIFAR_PIXELS * 3, *given = rgb + (size_t)(n + i) * CIFAR_PIXELS * 3;
        uint8_t *col = rgb + (size_t)(2 * n + i) * CIFAR_PIXELS * 3;
        lab_planes_to_rgb8(gray, L, zero, 1);
        hints_to_rgb8(given, L, in, 1);
        lab_planes_to_rgb8(col, L, ab, 1);
        int r = 0;
        tiles[r++ * n + i] = gray;
        if (hints) tiles[r++ * n + i] = given;
        tiles[r++ * n + i] = col;
        tiles[r * n + i] = e->test->rgb + (size_t)idx * CIFAR_PIXELS * 3;
    }
    char label[64], given_label[64];
    snprintf(label, sizeof label, hints ? "colorized, %d hints" : "colorized", hints);
    snprintf(given_label, sizeof given_label, "the %d hints", hints);
    const char *labels[4] = {"gray", hints ? given_label : label, hints ? label : "ground truth", "ground truth"};
    gboolean ok = plot_tile_grid(path, tiles, rows, n, labels, 3, error);
    g_free(rgb);
    return ok;
}

/* The Markdown report: the tables, then a grid of examples for no hints
 * (the default setting) and for each other hint count asked for. */
static gboolean write_report(const char *report, const eval_ctx *e, const char *model, int n, const char *table,
                             const char *classes, const double *hints, int nh, GError **error) {
    if (g_mkdir_with_parents(report, 0755) != 0) return FALSE;
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "# Evaluation of `%s`\n\nCIFAR-10 test set, %d images. Hints are simulated from the "
                           "ground truth (seed %" G_GUINT64_FORMAT "): square patches of side 1-3 px at random "
                           "places, carrying the patch's mean ab.\n\n%s\n## Per class (default setting)\n\n%s\n"
                           "## Examples\n\n![no hints](examples.png)\n",
                           model, n, e->seed, table, classes);
    char *path = g_build_filename(report, "examples.png", NULL);
    gboolean ok = write_examples(path, e, 0, NN_DEFAULT_VIVIDNESS, error);
    g_free(path);
    for (int h = 0; ok && h < nh; h++) {
        int count = (int)hints[h], seen = count == 0;
        for (int k = 0; k < h; k++) seen |= (int)hints[k] == count;
        if (seen) continue;
        char name[64];
        g_snprintf(name, sizeof name, "examples-%d-hints.png", count);
        path = g_build_filename(report, name, NULL);
        ok = write_examples(path, e, count, NN_DEFAULT_VIVIDNESS, error);
        g_string_append_printf(s, "\n![%d hints](%s)\n", count, name);
        g_free(path);
    }
    char *md = g_build_filename(report, "report.md", NULL);
    ok = ok && g_file_set_contents(md, s->str, (gssize)s->len, error);
    g_free(md);
    g_string_free(s, TRUE);
    return ok;
}

/* eval --photos: checks the options that apply, then runs the benchmark. */
static int photos_command(const char *dir, const char *model, int nv, const double *viv, double saturation,
                          nn_engine_params *params, int max_side, int limit, int threads, const char *json,
                          const char *report, gboolean update_model, gboolean cifar_options, const double *hints,
                          int nh, uint64_t seed, const char *reference, double reference_weight) {
    const char *cmd = "eval";
    if (cifar_options) {
        g_printerr("colorize-train eval: --photos takes --model, --vividness (one value), --saturation, "
                   "--resolution, --scene-size, --scene-weight, --hint-reach, --hints, --seed, --max-side, --limit, "
                   "--reference, --reference-weight, "
                   "--threads, --json, --report and --update-model only\n");
        return 2;
    }
    if (nh < 0 || (nh > 0 && (report || update_model))) {
        g_printerr("colorize-train eval: %s\n", nh < 0 ? "--hints takes a comma-separated list of hint counts, 0..256"
                                                        : "--photos with --hints takes no --report or --update-model");
        return 2;
    }
    if (nv > 1 || nv < 0) {
        g_printerr("colorize-train eval: --photos takes one --vividness value in 0..%d\n", NN_MAX_VIVIDNESS);
        return 2;
    }
    if (nv == 1) params->vividness = (float)viv[0];
    params->saturation = (float)saturation;
    GError *error = NULL;
    if (!option_int_ok(cmd, "--resolution", params->resolution, NN_MIN_RESOLUTION, NN_MAX_RESOLUTION) ||
        !option_double_ok(cmd, "--saturation", saturation, 0, 2) || !option_int_ok(cmd, "--max-side", max_side, 16, 16384) ||
        !option_int_ok(cmd, "--scene-size", params->scene_size, NN_MIN_SCENE_SIZE, NN_MAX_SCENE_SIZE) ||
        !option_double_ok(cmd, "--scene-weight", params->scene_weight, 0, NN_MAX_SCENE_WEIGHT) ||
        !option_double_ok(cmd, "--hint-reach", params->hint_reach, 0, NN_MAX_HINT_REACH) ||
        !option_int_ok(cmd, "--limit", limit, 0, 1 << 30) || !option_int_ok(cmd, "--threads", threads, 0, 1024) ||
        !option_double_ok(cmd, "--reference-weight", reference_weight, 1e-3, NN_MAX_REFERENCE_WEIGHT))
        return 2;
    if (reference && (nh > 0 || (strcmp(reference, "self") != 0 && strcmp(reference, "split") != 0 &&
                                 !g_file_test(reference, G_FILE_TEST_IS_DIR)))) {
        g_printerr("colorize-train eval: %s\n", nh > 0 ? "--reference takes no --hints"
                                                       : "--reference is self, split or a folder of references");
        return 2;
    }
    if (update_model && !model) {
        g_printerr("colorize-train eval: --update-model needs --model FILE\n");
        return 2;
    }
    if (!output_file_ok(json, "the JSON file", &error) || !output_dir_ok(report, "report folder", &error) ||
        (update_model && !output_file_ok(model, "the model to update", &error))) {
        g_printerr("colorize-train eval: %s\n", error->message);
        g_error_free(error);
        return 2;
    }
    nn_set_threads(threads);
    if (nh > 0)
        return eval_photo_hints(dir, model ? model : default_model_path(), params, max_side, limit, hints, nh, seed, json);
    return eval_photos(dir, model ? model : default_model_path(), params, max_side, limit, json, report, update_model,
                       reference, reference_weight);
}

/* A CIFAR-10 evaluation: the model, the images, the settings and their
 * figures. */
typedef struct {
    nn_weights w;  /* the model file, kept for --update-model */
    nn_unet *net;
    cifar_set cifar;
    lab_set test;
    ab_bins bins;
    int n, batch;
    uint64_t seed;
    gboolean no_prior, validation;
    eval_run baseline, *runs;
    int nruns;
} cifar_eval;

static void cifar_eval_free(cifar_eval *ev) {
    g_free(ev->runs);
    nn_unet_free(ev->net);
    nn_weights_free(&ev->w);
    nn_ab_bins_free(&ev->bins);
    lab_set_free(&ev->test);
    cifar_free(&ev->cifar);
}

/* The model (checked against its architecture before its memory is
 * reserved), its bins, and the test images or the validation split. */
static gboolean load_eval(cifar_eval *ev, const char *model, const char *data, int limit, GError **error) {
    nn_error err = {0};
    nn_unet_config cfg;
    if (nn_weights_load(&ev->w, model, &err) != NN_OK) {
        g_set_error(error, TRAINER_ERROR, 1, "%s", err.msg);
        return FALSE;
    }
    if (!model_config_load(&ev->w, model, &cfg, error)) return FALSE;
    if (nn_unet_create(&ev->net, &cfg, ev->batch, CIFAR_SIDE, CIFAR_SIDE, &err) != NN_OK ||
        nn_unet_load_weights(ev->net, &ev->w, model, &err) != NN_OK) {
        g_set_error(error, TRAINER_ERROR, 1, "%s", err.msg);
        return FALSE;
    }
    nn_unet_set_precision(ev->net, nn_default_precision()); /* as the plug-in runs */
    if (!ab_bins_from_weights(&ev->bins, &ev->w, model, error) ||
        !(ev->validation ? cifar_load_train(&ev->cifar, data, error) : cifar_load_test(&ev->cifar, data, error)))
        return FALSE;
    const int first = ev->validation ? ev->cifar.n - CIFAR_VALIDATION_IMAGES : 0, avail = ev->cifar.n - first;
    ev->n = limit > 0 && limit < avail ? limit : avail;
    return lab_set_init(&ev->test, &ev->cifar, first, ev->n, error);
}

/* The settings: the default (0 hints, default vividness) first, then every
 * listed vividness at every listed hint count. */
static void plan_runs(cifar_eval *ev, const double *hints, int nh, const double *viv, int nv) {
    ev->runs = g_new0(eval_run, 1 + MAX_SETTINGS * (nv ? nv : 1));
    ev->runs[0].hints = 0, ev->runs[0].vividness = NN_DEFAULT_VIVIDNESS;
    ev->nruns = 1;
    for (int h = 0; h < nh; h++)
        for (int k = 0; k < (nv ? nv : 1); k++) {
            float v = nv ? (float)viv[k] : NN_DEFAULT_VIVIDNESS;
            if (hints[h] == 0 && fabsf(v - NN_DEFAULT_VIVIDNESS) < 1e-6f) continue;
            ev->runs[ev->nruns].hints = (int)hints[h], ev->runs[ev->nruns].vividness = v;
            ev->nruns++;
        }
}

/* The gray baseline: L with a = b = 0. */
static void measure_baseline(cifar_eval *ev) {
    float *zero = g_new0(float, (size_t)ev->batch * 2 * CIFAR_PIXELS);
    uint8_t *rgb = g_new(uint8_t, (size_t)ev->batch * CIFAR_PIXELS * 3);
    for (int i0 = 0; i0 < ev->n; i0 += ev->batch) {
        int nb = ev->n - i0 < ev->batch ? ev->n - i0 : ev->batch;
        lab_planes_to_rgb8(rgb, ev->test.L + (size_t)i0 * CIFAR_PIXELS, zero, nb);
        for (int i = 0; i < nb; i++)
            metrics_add(&ev->baseline.per_class[ev->test.labels[i0 + i]], rgb + (size_t)i * CIFAR_PIXELS * 3,
                        ev->test.rgb + (size_t)(i0 + i) * CIFAR_PIXELS * 3, CIFAR_SIDE, CIFAR_SIDE);
    }
    for (int c = 0; c < CIFAR_CLASSES; c++) metrics_merge(&ev->baseline.all, &ev->baseline.per_class[c]);
    g_free(zero), g_free(rgb);
}

/* One forward pass over the images per hint count, decoded at each of its
 * vividness settings; progress on a terminal. */
static gboolean measure_runs(cifar_eval *ev, GError **error) {
    const int Q = ev->bins.num_bins, tty = isatty(STDOUT_FILENO);
    float *in = g_new(float, (size_t)ev->batch * NN_INPUT_CHANNELS * CIFAR_PIXELS);
    float *L = g_new(float, (size_t)ev->batch * CIFAR_PIXELS), *ab = g_new(float, (size_t)ev->batch * 2 * CIFAR_PIXELS);
    uint8_t *rgb = g_new(uint8_t, (size_t)ev->batch * CIFAR_PIXELS * 3);
    gboolean ok = TRUE;
    for (int r0 = 0; ok && r0 < ev->nruns; r0++) {
        int h = ev->runs[r0].hints, done_before = 0;
        for (int k = 0; k < r0; k++) done_before |= ev->runs[k].hints == h;
        if (done_before) continue;
        g_print("evaluating %d images with %d hint(s)...%s", ev->n, h, tty ? "" : "\n");
        for (int i0 = 0; ok && i0 < ev->n; i0 += ev->batch) {
            int nb = ev->n - i0 < ev->batch ? ev->n - i0 : ev->batch;
            for (int i = 0; i < nb; i++) { /* hints depend only on the seed, the count and the image */
                int idx = i0 + i;
                nn_rng rng;
                nn_rng_seed(&rng, derive_seed(ev->seed, (uint64_t)h, (uint64_t)idx));
                make_batch(&ev->test, &ev->bins, &idx, 1, &rng, (batch_options){.hints = h},
                           in + (size_t)i * NN_INPUT_CHANNELS * CIFAR_PIXELS, NULL, L + (size_t)i * CIFAR_PIXELS, NULL);
            }
            const float *logits;
            nn_error err = {0};
            if (nn_unet_forward(ev->net, in, nb, NN_MODE_EVAL, &logits, &err) != NN_OK) {
                g_set_error(error, TRAINER_ERROR, 1, "%s", err.msg);
                ok = FALSE;
                break;
            }
            for (int r = r0; r < ev->nruns; r++) {
                if (ev->runs[r].hints != h) continue;
                nn_decode_vivid(ab, logits, ev->bins.bin_ab, ev->no_prior ? NULL : ev->bins.rebalance, nb, Q,
                                CIFAR_PIXELS, ev->runs[r].vividness);
                lab_planes_to_rgb8(rgb, L, ab, nb);
                for (int i = 0; i < nb; i++)
                    metrics_add(&ev->runs[r].per_class[ev->test.labels[i0 + i]], rgb + (size_t)i * CIFAR_PIXELS * 3,
                                ev->test.rgb + (size_t)(i0 + i) * CIFAR_PIXELS * 3, CIFAR_SIDE, CIFAR_SIDE);
            }
            if (tty) g_print("\revaluating %d images with %d hint(s)... %3d%%", ev->n, h, 100 * (i0 + nb) / ev->n);
        }
        if (tty) g_print("\n");
    }
    for (int r = 0; r < ev->nruns; r++)
        for (int c = 0; c < CIFAR_CLASSES; c++) metrics_merge(&ev->runs[r].all, &ev->runs[r].per_class[c]);
    g_free(in), g_free(L), g_free(ab), g_free(rgb);
    return ok;
}

/* The results table and the per-class table (default setting). */
static void results_tables(const cifar_eval *ev, GString **table_out, GString **classes_out) {
    GString *table = g_string_new(TABLE_HEAD);
    table_row(table, "gray baseline (a = b = 0)", metrics_finish(&ev->baseline.all));
    for (int r = 0; r < ev->nruns; r++) {
        char label[96];
        snprintf(label, sizeof label, "model, %d hint%s, vividness %.2f%s", ev->runs[r].hints,
                 ev->runs[r].hints == 1 ? "" : "s", ev->runs[r].vividness, r == 0 ? " (default)" : "");
        table_row(table, label, metrics_finish(&ev->runs[r].all));
    }
    metrics_result def = metrics_finish(&ev->runs[0].all);
    g_string_append_printf(table, "\nGround-truth colourfulness: %.1f. %s images: %d.%s\n", def.colorfulness_gt,
                           ev->validation ? "Validation" : "Test", ev->n,
                           ev->no_prior ? " Decoded without prior correction." : "");
    GString *classes = g_string_new("| class | gray PSNR | model PSNR | gray SSIM | model SSIM | model colourfulness | truth colourfulness |\n"
                                    "|---|---|---|---|---|---|---|\n");
    for (int c = 0; c < CIFAR_CLASSES; c++) {
        metrics_result b = metrics_finish(&ev->baseline.per_class[c]), m = metrics_finish(&ev->runs[0].per_class[c]);
        g_string_append_printf(classes, "| %s | %.2f | %.2f | %.4f | %.4f | %.1f | %.1f |\n", CIFAR_CLASS_NAMES[c],
                               b.psnr, m.psnr, b.ssim, m.ssim, m.colorfulness, m.colorfulness_gt);
    }
    *table_out = table, *classes_out = classes;
}

/* Every figure as JSON: the default setting at the top level. */
static gboolean write_eval_json(const char *path, const cifar_eval *ev, const char *model, GError **error) {
    GString *s = g_string_new("{");
    g_string_append_printf(s, "\"model\": \"%s\", \"split\": \"%s\", \"images\": %d, \"hint_seed\": %" G_GUINT64_FORMAT
                           ", \"default_vividness\": %.3f, \"prior_correction\": %s, ", model,
                           ev->validation ? "validation" : "test", ev->n, ev->seed, NN_DEFAULT_VIVIDNESS,
                           ev->no_prior ? "false" : "true");
    json_metrics(s, metrics_finish(&ev->runs[0].all));
    g_string_append(s, ",\n\"baseline\": ");
    json_run(s, &ev->baseline, TRUE);
    g_string_append(s, ",\n\"runs\": [");
    for (int r = 0; r < ev->nruns; r++) {
        g_string_append(s, r ? ",\n" : "\n");
        json_run(s, &ev->runs[r], FALSE);
    }
    g_string_append(s, "\n]}\n");
    gboolean ok = g_file_set_contents(path, s->str, (gssize)s->len, error);
    g_string_free(s, TRUE);
    return ok;
}

/* --update-model: the default and the faithful figures into the model. */
static gboolean store_figures(cifar_eval *ev, const char *model, GError **error) {
    metrics_result def = metrics_finish(&ev->runs[0].all);
    nn_weights *w = &ev->w;
    nn_error err = {0};
    nn_status st = nn_weights_set_f64(w, TK_EVAL_PSNR, def.psnr);
    if (!st) st = nn_weights_set_f64(w, TK_EVAL_SSIM, def.ssim);
    if (!st) st = nn_weights_set_f64(w, TK_EVAL_AUC, def.auc);
    if (!st) st = nn_weights_set_f64(w, TK_EVAL_ACC2, def.acc2);
    if (!st) st = nn_weights_set_f64(w, TK_EVAL_ACC5, def.acc5);
    if (!st) st = nn_weights_set_f64(w, TK_EVAL_COLORFULNESS, def.colorfulness);
    if (!st) st = nn_weights_set_f32(w, TK_EVAL_VIVIDNESS, NN_DEFAULT_VIVIDNESS);
    if (!st) st = nn_weights_set_u32(w, TK_EVAL_IMAGES, (uint32_t)ev->n);
    for (int r = 1; r < ev->nruns && !st; r++) {
        if (ev->runs[r].vividness != 0.0f) continue;
        char key[64];
        metrics_result f = metrics_finish(&ev->runs[r].all);
        snprintf(key, sizeof key, "eval.faithful.hints%d.psnr", ev->runs[r].hints);
        st = nn_weights_set_f64(w, key, f.psnr);
        snprintf(key, sizeof key, "eval.faithful.hints%d.ssim", ev->runs[r].hints);
        if (!st) st = nn_weights_set_f64(w, key, f.ssim);
    }
    if (!st) st = nn_weights_save(w, model, &err);
    if (st) g_set_error(error, TRAINER_ERROR, 1, "%s", err.status ? err.msg : "out of memory");
    return st == NN_OK;
}

/* eval's options as given. */
typedef struct {
    char *data, *model, *hints_s, *viv_s, *json, *report, *split, *photos, *precision, *reference;
    double reference_weight, saturation, scene_weight, hint_reach;
    int limit, threads, batch, max_side;
    nn_engine_params params;
    gint64 seed;
    gboolean update_model, no_prior;
    double hints[MAX_SETTINGS], viv[MAX_SETTINGS]; /* parsed from hints_s and viv_s */
    int nh, nv;                                    /* their counts; -1: a bad list */
} eval_options;

static void eval_options_free(eval_options *o) {
    g_free(o->photos), g_free(o->reference), g_free(o->data), g_free(o->model), g_free(o->hints_s), g_free(o->viv_s);
    g_free(o->json), g_free(o->report), g_free(o->split), g_free(o->precision);
}

/* The CIFAR-10 evaluation: options checked, every output checked before
 * the work, the runs measured, the tables printed and written. */
static int eval_cifar(eval_options *o, int argc) {
    cifar_eval ev = {0};
    nn_weights_init(&ev.w);
    ev.validation = o->split && strcmp(o->split, "validation") == 0;
    const char *bad = !o->data || !o->model ? "--data DIR and --model FILE are required"
                      : argc > 1            ? "unexpected arguments (see --help)"
                      : o->reference        ? "--reference needs --photos DIR"
                      : o->nh < 1           ? "--hints takes a comma-separated list of hint counts, 0..1024"
                      : o->nv < 0 ? "--vividness takes a comma-separated list of values in 0.." G_STRINGIFY(NN_MAX_VIVIDNESS)
                      : o->split && !ev.validation && strcmp(o->split, "test") != 0 ? "--split is test or validation"
                      : o->update_model && (ev.validation || o->no_prior)
                          ? "--update-model stores test figures: not with --split validation or --no-prior"
                          : NULL;
    if (bad) g_printerr("colorize-train eval: %s\n", bad);
    if (bad || !option_int_ok("eval", "--limit", o->limit, 0, 1 << 30) ||
        !option_int_ok("eval", "--batch", o->batch, 1, 4096) || !option_int_ok("eval", "--threads", o->threads, 0, 1024)) {
        cifar_eval_free(&ev);
        return 2;
    }
    GError *error = NULL;
    int rc = 1;
    GString *table = NULL, *classes = NULL;
    if (!output_file_ok(o->json, "the JSON file", &error) || !output_dir_ok(o->report, "report folder", &error) ||
        (o->update_model && !output_file_ok(o->model, "the model to update", &error))) {
        rc = 2;
        goto failed;
    }
    nn_set_threads(o->threads);
    ev.batch = o->batch, ev.seed = (uint64_t)o->seed, ev.no_prior = o->no_prior;
    if (!load_eval(&ev, o->model, o->data, o->limit, &error)) goto failed;
    plan_runs(&ev, o->hints, o->nh, o->viv, o->nv);
    measure_baseline(&ev);
    if (!measure_runs(&ev, &error)) goto failed;
    results_tables(&ev, &table, &classes);
    g_print("\n%s\nPer class (default setting):\n\n%s", table->str, classes->str);
    eval_ctx ectx = {ev.net, &ev.test, &ev.bins, ev.seed, o->no_prior ? NULL : ev.bins.rebalance};
    if ((o->json && !write_eval_json(o->json, &ev, o->model, &error)) ||
        (o->report && !write_report(o->report, &ectx, o->model, ev.n, table->str, classes->str, o->hints, o->nh, &error)) ||
        (o->update_model && !store_figures(&ev, o->model, &error)))
        goto failed;
    if (o->update_model) g_print("stored the figures in %s\n", o->model);
    rc = 0;
    goto out;
failed:
    g_printerr("colorize-train eval: %s\n", error ? error->message : g_strerror(errno));
out:
    if (table) g_string_free(table, TRUE);
    if (classes) g_string_free(classes, TRUE);
    cifar_eval_free(&ev);
    g_clear_error(&error);
    return rc;
}

int command_eval(int argc, char **argv) {
    eval_options o = {.reference_weight = NN_DEFAULT_REFERENCE_WEIGHT, .batch = 200, .max_side = 1024,
                      .params = nn_engine_default_params(), .seed = 1234};
    o.saturation = o.params.saturation, o.scene_weight = o.params.scene_weight, o.hint_reach = o.params.hint_reach;
    GOptionEntry entries[] = {
        {"data", 0, 0, G_OPTION_ARG_FILENAME, &o.data, "CIFAR-10 binary folder (test_batch.bin)", "DIR"},
        {"model", 0, 0, G_OPTION_ARG_FILENAME, &o.model, "The model to evaluate", "FILE.weights"},
        {"hints", 0, 0, G_OPTION_ARG_STRING, &o.hints_s, "Hint counts to evaluate, e.g. 0,1,5,10 (default 0)", "LIST"},
        {"vividness", 0, 0, G_OPTION_ARG_STRING, &o.viv_s, "Vividness settings, 0 (faithful) to " G_STRINGIFY(NN_MAX_VIVIDNESS) " (default: the default)", "LIST"},
        {"json", 0, 0, G_OPTION_ARG_FILENAME, &o.json, "Write every figure as JSON", "FILE"},
        {"report", 0, 0, G_OPTION_ARG_FILENAME, &o.report, "Write a Markdown report with example grids", "DIR"},
        {"limit", 0, 0, G_OPTION_ARG_INT, &o.limit, "Evaluate only the first N test images", "N"},
        {"seed", 0, 0, G_OPTION_ARG_INT64, &o.seed, "Seed of the simulated hints (default 1234)", "N"},
        {"threads", 0, 0, G_OPTION_ARG_INT, &o.threads, "Threads (default: all cores)", "N"},
        {"precision", 0, 0, G_OPTION_ARG_STRING, &o.precision, PRECISION_HELP, "NAME"},
        {"batch", 0, 0, G_OPTION_ARG_INT, &o.batch, "Images per forward pass (default 200)", "N"},
        {"update-model", 0, 0, G_OPTION_ARG_NONE, &o.update_model, "Store the default and faithful figures (with --photos: the photo figures) in the model's metadata", NULL},
        {"split", 0, 0, G_OPTION_ARG_STRING, &o.split, "test (default) or validation: the last " G_STRINGIFY(CIFAR_VALIDATION_IMAGES) " training images, for choosing settings without the test set", "NAME"},
        {"photos", 0, 0, G_OPTION_ARG_FILENAME, &o.photos, "Instead of CIFAR-10: the real-photo benchmark on a folder of colour photos (PNG, JPEG), made gray, colorized as the plug-in does and compared with the originals", "DIR"},
        {"resolution", 0, 0, G_OPTION_ARG_INT, &o.params.resolution, "With --photos: the working resolution (default " G_STRINGIFY(NN_DEFAULT_RESOLUTION) ")", "N"},
        {"saturation", 0, 0, G_OPTION_ARG_DOUBLE, &o.saturation, "With --photos: the chroma multiplier (default " G_STRINGIFY(NN_DEFAULT_SATURATION) ")", "X"},
        {"scene-size", 0, 0, G_OPTION_ARG_INT, &o.params.scene_size, "With --photos: the scene pass's long side (default " G_STRINGIFY(NN_DEFAULT_SCENE_SIZE) ")", "N"},
        {"scene-weight", 0, 0, G_OPTION_ARG_DOUBLE, &o.scene_weight, "With --photos: the scene pass's weight, 0 (off) to " G_STRINGIFY(NN_MAX_SCENE_WEIGHT) " (default " G_STRINGIFY(NN_DEFAULT_SCENE_WEIGHT) ")", "X"},
        {"hint-reach", 0, 0, G_OPTION_ARG_DOUBLE, &o.hint_reach, "With --photos: how far a hint's colour travels, in L* units of edges crossed, 0 (only where painted) to " G_STRINGIFY(NN_MAX_HINT_REACH) " (default " G_STRINGIFY(NN_DEFAULT_HINT_REACH) ")", "X"},
        {"max-side", 0, 0, G_OPTION_ARG_INT, &o.max_side, "With --photos: photos larger than this on their long side are scaled down first (default 1024)", "N"},
        {"reference", 0, 0, G_OPTION_ARG_FILENAME, &o.reference, "With --photos: colour each photo with a colour reference: "
         "self (the original), split (the left 60 % is colorized and measured, the right 40 % is the reference) or a "
         "folder holding a reference under each photo's name", "self|split|DIR"},
        {"reference-weight", 0, 0, G_OPTION_ARG_DOUBLE, &o.reference_weight, "With --reference: its weight, 0.001 to " G_STRINGIFY(NN_MAX_REFERENCE_WEIGHT) " (default " G_STRINGIFY(NN_DEFAULT_REFERENCE_WEIGHT) ")", "X"},
        {"no-prior", 0, 0, G_OPTION_ARG_NONE, &o.no_prior, "Decode without dividing out the rebalancing weights (for comparison)", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("- evaluate a model on the CIFAR-10 test set, or on photos");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *error = NULL;
    int rc = 2;
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        g_printerr("colorize-train eval: %s\n", error->message);
        goto out;
    }
    if (!option_precision_ok("eval", o.precision)) goto out;
    o.nh = parse_list(o.hints_s ? o.hints_s : "0", o.hints, MAX_SETTINGS, TRUE);
    o.nv = o.viv_s ? parse_list(o.viv_s, o.viv, MAX_SETTINGS, FALSE) : 0;
    for (int i = 0; i < o.nv; i++)
        if (!(o.viv[i] >= 0 && o.viv[i] <= NN_MAX_VIVIDNESS)) o.nv = -1;
    if (o.photos) {
        o.params.scene_weight = (float)o.scene_weight, o.params.hint_reach = (float)o.hint_reach;
        for (int i = 0; i < o.nh; i++)
            if (o.hints[i] > NN_MAX_POINT_HINTS) o.nh = -1;
        rc = photos_command(o.photos, o.model, o.nv, o.viv, o.saturation, &o.params, o.max_side, o.limit, o.threads,
                            o.json, o.report, o.update_model, o.data || o.split || o.no_prior || argc > 1, o.hints,
                            o.hints_s ? o.nh : 0, (uint64_t)o.seed, o.reference, o.reference_weight);
    } else {
        rc = eval_cifar(&o, argc);
    }
out:
    eval_options_free(&o);
    g_clear_error(&error);
    g_option_context_free(ctx);
    return rc;
}
