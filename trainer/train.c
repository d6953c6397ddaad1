/* train.c — `colorize-train train`: trains the U-Net colorizer on CIFAR-10
 * in CIE Lab with simulated hints and class-rebalanced cross-entropy, keeps
 * the best model by validation loss, writes atomic checkpoints every epoch
 * and on SIGINT/SIGTERM, and resumes exactly where a run stopped. */
#include <glib/gstdio.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "trainer.h"

#define SAMPLE_COLUMNS 8
G_STATIC_ASSERT(HISTORY_MAX_STEPS <= NN_META_MAX_ARRAY);
/* A new model's base width (--width). */
#define DEFAULT_WIDTH 32
/* The most steps a run may take (--max-steps, a checkpoint's global step). */
#define MAX_GLOBAL_STEP (UINT64_C(1) << 40)
/* The rule that holds photos out for validation (a checkpoint's
 * "checkpoint.split"): by each photo's path inside its folder. */
#define PHOTO_SPLIT_RULE "path-hash"
/* What one training or validation crop takes in memory: RGB, label, Lab planes. */
#define CROP_BYTES (CIFAR_PIXELS * 3 + 1 + sizeof(float) * 3 * CIFAR_PIXELS)

typedef struct {
    /* options */
    char *data, *out, *checkpoint, *resume, *log_dir;
    char *images, *val_images, *init; /* training on photos; fine-tuning from a model */
    double val_fraction;               /* with --images and no --val-images: photos held out */
    int crops, rebin;                  /* with --images: crops per epoch; --init with the bins recomputed */
    int epochs, batch, threads, width, log_every, val, limit;
    int accumulate; /* micro-batches per step and rank (0: not given; a checkpoint's, or 1) */
    long max_steps;
    double lr, weight_decay, lambda;
    double zoom_share, max_zoom, stroke_share; /* augmentation */
    gint64 seed;
    /* progress, saved in checkpoints */
    int epoch, step; /* next step to run: step `step` of epoch `epoch` */
    long global_step;
    double best_val, epoch_loss_sum;
    int best_epoch;
    GArray *h_epoch, *h_train, *h_val, *h_psnr, *h_lr, *h_seconds; /* per epoch */
    GArray *s_epoch, *s_loss, *s_lr; /* per step: position in epochs (1.5: half-way through epoch 2), loss, rate */
    double seconds; /* training time before this invocation */
    gboolean stop;  /* every rank agreed to stop after this step (a signal reached one of them) */
    gboolean probe; /* checkpoint_probe: the model is made for one image, whatever the batch */
    int photos;           /* usable photos of the run (saved, to note a changed folder on resume) */
    GArray *split_forced; /* keys (uint64_t) of the photos on the side their key does not choose (saved) */
    gboolean older_split; /* resumed from a checkpoint that held photos out by an older rule */
} train_run;

/* The history arrays (of doubles) of a run and the keys its split forced,
 * made and freed together. */
static void history_new(train_run *r) {
    GArray **a[] = {&r->h_epoch, &r->h_train, &r->h_val, &r->h_psnr, &r->h_lr, &r->h_seconds,
                    &r->s_epoch, &r->s_loss, &r->s_lr};
    for (size_t i = 0; i < G_N_ELEMENTS(a); i++) *a[i] = g_array_new(FALSE, FALSE, sizeof(double));
    r->split_forced = g_array_new(FALSE, FALSE, sizeof(uint64_t));
}

static void history_free(train_run *r) {
    GArray *a[] = {r->h_epoch, r->h_train, r->h_val, r->h_psnr, r->h_lr, r->h_seconds, r->s_epoch, r->s_loss, r->s_lr};
    for (size_t i = 0; i < G_N_ELEMENTS(a); i++) g_array_free(a[i], TRUE);
    g_array_free(r->split_forced, TRUE);
}

/* Halves the per-step history while it holds HISTORY_MAX_STEPS entries or
 * more: every second step's position and rate, the mean loss of each pair
 * (an odd last step kept), so that every checkpoint written loads again. */
static void thin_step_history(train_run *r) {
    while (r->s_epoch->len >= HISTORY_MAX_STEPS) {
        double *e = (double *)r->s_epoch->data, *l = (double *)r->s_loss->data, *lr = (double *)r->s_lr->data;
        const guint len = r->s_epoch->len;
        guint n = 0;
        for (guint i = 0; i + 1 < len; i += 2, n++) e[n] = e[i + 1], l[n] = 0.5 * (l[i] + l[i + 1]), lr[n] = lr[i + 1];
        if (len % 2) e[n] = e[len - 1], l[n] = l[len - 1], lr[n] = lr[len - 1], n++;
        g_array_set_size(r->s_epoch, n), g_array_set_size(r->s_loss, n), g_array_set_size(r->s_lr, n);
    }
}

static int compare_strings(gconstpointer a, gconstpointer b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static volatile sig_atomic_t g_stop_signal;

static void on_signal(int sig) { g_stop_signal = sig; }

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int steps_per_epoch(const train_run *r, int n_train) { return n_train / r->batch; }

/* The images one forward pass takes: a step's batch is split over the
 * ranks, and on each rank into --accumulate micro-batches. Batch norm
 * normalizes over each micro-batch. */
static int micro_batch(const train_run *r) { return r->batch / (dist_size() * r->accumulate); }

static gboolean batch_split_ok(const train_run *r, const char *source, GError **error) {
    if (r->batch % (dist_size() * r->accumulate) == 0) return TRUE;
    g_set_error(error, TRAINER_ERROR, 1, "%s %d does not split into %d rank(s) × %d micro-batch(es) "
                "(--accumulate): choose a number of ranks and --accumulate whose product divides it", source,
                r->batch, dist_size(), r->accumulate);
    return FALSE;
}

/* A signal reached this process, or (with several ranks) any rank as of
 * the last step. */
static gboolean stop_requested(const train_run *r) { return dist_size() > 1 ? r->stop : g_stop_signal != 0; }

static float learning_rate(const train_run *r, long step, long total) {
    long warmup = total / 20 < 500 ? total / 20 : 500;
    double w = warmup > 0 && step < warmup ? (double)(step + 1) / warmup : 1.0;
    double t = total > 1 ? (double)step / (double)(total - 1) : 1.0;
    return (float)(r->lr * w * (0.02 + 0.98 * 0.5 * (1.0 + cos(M_PI * t))));
}

/* The order of the training images in an epoch: a seeded shuffle. */
static void epoch_order(int *order, int n, uint64_t seed, int epoch) {
    nn_rng rng;
    nn_rng_seed(&rng, derive_seed(seed, 1, (uint64_t)epoch));
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)nn_rng_below(&rng, (uint32_t)(i + 1)), t = order[i];
        order[i] = order[j], order[j] = t;
    }
}

/* ---------------------------------------------------------- checkpoints */

static nn_status put_history(nn_weights *w, const char *key, GArray *a) {
    float *tmp = g_new(float, a->len + 1);
    for (guint i = 0; i < a->len; i++) tmp[i] = (float)g_array_index(a, double, i);
    nn_status st = nn_weights_set_f32_array(w, key, tmp, a->len);
    g_free(tmp);
    return st;
}

static void get_history(const nn_weights *w, const char *key, GArray *a) {
    const float *h = NULL;
    uint64_t n = 0;
    g_array_set_size(a, 0);
    if (nn_weights_get_f32_array(w, key, &h, &n, NULL) != NN_OK) return;
    for (uint64_t i = 0; i < n; i++) {
        double v = h[i];
        g_array_append_val(a, v);
    }
}

/* The last component of each comma-separated path ("" for NULL): what a
 * shared model tells of the folders and files it was made from, without
 * the user's own paths (g_free). */
static char *folder_names(const char *list) {
    char **parts = g_strsplit(list ? list : "", ",", -1);
    for (char **p = parts; *p; p++) {
        char *base = g_path_get_basename(*p);
        g_free(*p), *p = base;
    }
    char *joined = g_strjoinv(",", parts);
    g_strfreev(parts);
    return joined;
}

/* Each comma-separated folder as an absolute path with links resolved
 * (as given when it cannot be resolved), sorted: a run's photo folders
 * however they were written, and from wherever it is resumed (g_free). */
static char *canonical_folders(const char *list) {
    char **parts = g_strsplit(list ? list : "", ",", -1);
    GPtrArray *kept = g_ptr_array_new_with_free_func(g_free);
    for (char **p = parts; *p; p++) {
        if (!**p) continue;
        char *real = realpath(*p, NULL);
        g_ptr_array_add(kept, real ? g_strdup(real) : g_strdup(*p));
        free(real);
    }
    g_ptr_array_sort(kept, compare_strings);
    g_ptr_array_add(kept, NULL);
    char *joined = g_strjoinv(",", (char **)kept->pdata);
    g_ptr_array_free(kept, TRUE);
    g_strfreev(parts);
    return joined;
}

/* The model, its ab bins and the provenance metadata. */
static nn_status model_weights(nn_weights *w, nn_unet *net, const ab_bins *bins, const train_run *r,
                               int n_train) {
    nn_status st = nn_unet_to_weights(net, w);
    if (!st) st = nn_ab_metadata_set(w, bins->grid, bins->bins, bins->rebalance, bins->num_bins, bins->lambda);
    char date[32];
    time_t t = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    if (!st) st = nn_weights_set_str(w, "train.dataset", r->images ? "photos" : "CIFAR-10 binary (data_batch_1..5)");
    char *names = folder_names(r->images), *val_names = folder_names(r->val_images), *init = folder_names(r->init);
    if (!st && r->images) st = nn_weights_set_str(w, "train.photo_folders", names);
    if (!st && r->images) st = nn_weights_set_str(w, "train.val_photo_folders", val_names);
    if (!st && r->images) st = nn_weights_set_f64(w, "train.val_fraction", r->val_fraction);
    if (!st && r->images) st = nn_weights_set_u32(w, "train.crops", (uint32_t)r->crops);
    if (!st && r->init) st = nn_weights_set_str(w, "train.init", init);
    g_free(names), g_free(val_names), g_free(init);
    if (!st && r->init) st = nn_weights_set_u32(w, "train.rebin", (uint32_t)r->rebin);
    if (!st) st = nn_weights_set_u32(w, "train.images", (uint32_t)n_train);
    if (!st) st = nn_weights_set_u32(w, "train.validation_images", (uint32_t)r->val);
    if (!st) st = nn_weights_set_u64(w, "train.seed", (uint64_t)r->seed);
    if (!st) st = nn_weights_set_u32(w, "train.batch", (uint32_t)r->batch);
    if (!st) st = nn_weights_set_f64(w, "train.lr", r->lr);
    if (!st) st = nn_weights_set_f64(w, "train.weight_decay", r->weight_decay);
    if (!st) st = nn_weights_set_u32(w, "train.epochs_planned", (uint32_t)r->epochs);
    if (!st) st = nn_weights_set_u32(w, "train.threads", (uint32_t)r->threads);
    if (!st) st = nn_weights_set_u32(w, "train.ranks", (uint32_t)dist_size());
    if (!st) st = nn_weights_set_u32(w, "train.accumulate", (uint32_t)r->accumulate);
    if (!st) st = nn_weights_set_f64(w, "train.zoom_share", r->zoom_share);
    if (!st) st = nn_weights_set_f64(w, "train.max_zoom", r->max_zoom);
    if (!st) st = nn_weights_set_f64(w, "train.stroke_share", r->stroke_share);
    if (!st) st = nn_weights_set_str(w, "train.date", date);
    if (!st) st = nn_weights_set_str(w, "train.software", "colorize-train " PROJECT_VERSION);
    return st;
}

/* What only a checkpoint keeps of a run on photos: its folders and --init
 * as absolute paths (to resume it from anywhere), its photo count, the
 * rule that held photos out and the photos the rule did not place (each
 * key as two u32, low half first). */
static nn_status put_paths(nn_weights *w, const train_run *r) {
    char *images = canonical_folders(r->images), *val = canonical_folders(r->val_images);
    char *init = canonical_folders(r->init);
    nn_status st = nn_weights_set_str(w, "checkpoint.photo_folders", images);
    if (!st) st = nn_weights_set_str(w, "checkpoint.val_photo_folders", val);
    if (!st) st = nn_weights_set_str(w, "checkpoint.init", init);
    if (!st) st = nn_weights_set_u32(w, "checkpoint.photos", (uint32_t)r->photos);
    if (!st) st = nn_weights_set_str(w, "checkpoint.split", PHOTO_SPLIT_RULE);
    const guint nf = r->split_forced->len;
    uint32_t *halves = g_new(uint32_t, 2 * (size_t)nf + 1);
    for (guint k = 0; k < nf; k++) {
        const uint64_t key = g_array_index(r->split_forced, uint64_t, k);
        halves[2 * k] = (uint32_t)key, halves[2 * k + 1] = (uint32_t)(key >> 32);
    }
    if (!st) st = nn_weights_set_u32_array(w, "checkpoint.split_forced", halves, 2 * (uint64_t)nf);
    g_free(halves);
    g_free(images), g_free(val), g_free(init);
    return st;
}

static gboolean save_checkpoint(train_run *r, nn_unet *net, const ab_bins *bins, const float *m,
                                const float *v, int n_train, double seconds, GError **error) {
    nn_weights w;
    nn_weights_init(&w);
    size_t np;
    nn_unet_params(net, &np);
    nn_status st = model_weights(&w, net, bins, r, n_train);
    if (!st) st = nn_weights_add_tensor(&w, "optimizer.adam_m", 1, (uint64_t[]){np}, m);
    if (!st) st = nn_weights_add_tensor(&w, "optimizer.adam_v", 1, (uint64_t[]){np}, v);
    if (!st) st = nn_weights_set_str(&w, "checkpoint.kind", "colorize-train checkpoint");
    if (!st && r->images) st = put_paths(&w, r);
    if (!st) st = nn_weights_set_u32(&w, "checkpoint.epoch", (uint32_t)r->epoch);
    if (!st) st = nn_weights_set_u32(&w, "checkpoint.step", (uint32_t)r->step);
    if (!st) st = nn_weights_set_u64(&w, "checkpoint.global_step", (uint64_t)r->global_step);
    if (!st) st = nn_weights_set_f64(&w, "checkpoint.best_val", r->best_val);
    if (!st) st = nn_weights_set_u32(&w, "checkpoint.best_epoch", (uint32_t)r->best_epoch);
    if (!st) st = nn_weights_set_f64(&w, "checkpoint.epoch_loss_sum", r->epoch_loss_sum);
    if (!st) st = nn_weights_set_f64(&w, "checkpoint.seconds", seconds);
    if (!st) st = nn_weights_set_u32(&w, "checkpoint.width", (uint32_t)r->width);
    if (!st) st = nn_weights_set_u32(&w, "checkpoint.limit", (uint32_t)r->limit);
    if (!st) st = put_history(&w, "history.epoch", r->h_epoch);
    if (!st) st = put_history(&w, "history.train_loss", r->h_train);
    if (!st) st = put_history(&w, "history.val_loss", r->h_val);
    if (!st) st = put_history(&w, "history.val_psnr", r->h_psnr);
    if (!st) st = put_history(&w, "history.lr", r->h_lr);
    if (!st) st = put_history(&w, "history.seconds", r->h_seconds);
    if (!st) st = put_history(&w, "history.step_epoch", r->s_epoch);
    if (!st) st = put_history(&w, "history.step_loss", r->s_loss);
    if (!st) st = put_history(&w, "history.step_lr", r->s_lr);
    nn_error err = {0};
    if (st) nn_set_error(&err, st, "%s: out of memory", r->checkpoint);
    else st = nn_weights_save(&w, r->checkpoint, &err);
    nn_weights_free(&w);
    if (st) g_set_error(error, TRAINER_ERROR, 1, "%s", err.msg);
    return st == NN_OK;
}

static gboolean meta_u32(const nn_weights *w, const char *key, int *out, const char *path, GError **error) {
    uint32_t v;
    nn_error err = {0};
    if (nn_weights_get_u32(w, key, &v, &err) != NN_OK) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: not a colorize-train checkpoint: %s", path, err.msg);
        return FALSE;
    }
    if (v > INT32_MAX) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: checkpoint field '%s' is %u, beyond %d", path, key, v, INT32_MAX);
        return FALSE;
    }
    *out = (int)v;
    return TRUE;
}

/* Fields that must agree with each other, named with the file when not. */
static gboolean check_checkpoint(const train_run *r, int epochs_planned, const float *v, size_t np, GError **error) {
    const char *bad = NULL;
    char detail[96] = "";
    GArray *h[] = {r->h_epoch, r->h_train, r->h_val, r->h_psnr, r->h_lr, r->h_seconds};
    if (r->batch < 1 || r->batch > 65536) bad = "train.batch", g_snprintf(detail, sizeof detail, "%d, outside 1..65536", r->batch);
    else if (r->width < 1 || r->width > 512) bad = "checkpoint.width", g_snprintf(detail, sizeof detail, "%d, outside 1..512", r->width);
    else if (r->val < 1 || r->val > TRAIN_MAX_CROPS)
        bad = "train.validation_images", g_snprintf(detail, sizeof detail, "%d, outside 1..%d", r->val, TRAIN_MAX_CROPS);
    else if (epochs_planned < 1) bad = "train.epochs_planned", g_snprintf(detail, sizeof detail, "%d, below 1", epochs_planned);
    else if (r->best_epoch > r->epoch)
        bad = "checkpoint.best_epoch", g_snprintf(detail, sizeof detail, "%d, after the checkpoint's epoch %d", r->best_epoch, r->epoch);
    else if (r->global_step < 0 || r->global_step > (long)MAX_GLOBAL_STEP)
        bad = "checkpoint.global_step", g_snprintf(detail, sizeof detail, "%ld, out of range", r->global_step);
    for (size_t i = 1; !bad && i < G_N_ELEMENTS(h); i++)
        if (h[i]->len != h[0]->len)
            bad = "history.*", g_snprintf(detail, sizeof detail, "arrays of different lengths (%u and %u)", h[0]->len, h[i]->len);
    if (!bad && h[0]->len > (guint)r->epoch + 1)
        bad = "history.epoch", g_snprintf(detail, sizeof detail, "%u entries for %d epochs", h[0]->len, r->epoch);
    if (!bad && (r->s_loss->len != r->s_epoch->len || r->s_lr->len != r->s_epoch->len))
        bad = "history.step_*", g_snprintf(detail, sizeof detail, "arrays of different lengths (%u, %u and %u)",
                                           r->s_epoch->len, r->s_loss->len, r->s_lr->len);
    if (!bad && r->s_epoch->len > (guint)r->global_step)
        bad = "history.step_epoch", g_snprintf(detail, sizeof detail, "%u entries for %ld steps", r->s_epoch->len, r->global_step);
    for (size_t i = 0; !bad && i < np; i++)
        if (!(v[i] >= 0.0f)) bad = "optimizer.adam_v", g_snprintf(detail, sizeof detail, "a negative second moment at %zu", i);
    if (bad) g_set_error(error, TRAINER_ERROR, 1, "%s: checkpoint field '%s' is %s", r->resume, bad, detail);
    return bad == NULL;
}

static double meta_f64(const nn_weights *w, const char *key, double fallback) {
    double d;
    float f;
    if (nn_weights_get_f64(w, key, &d, NULL) == NN_OK) return d;
    return nn_weights_get_f32(w, key, &f, NULL) == NN_OK ? f : fallback; /* older checkpoints wrote f32 */
}

/* A checkpoint's string key, or the older key it replaced, or "". */
static const char *meta_str(const nn_weights *w, const char *key, const char *older) {
    const char *v = NULL;
    if (nn_weights_get_str(w, key, &v, NULL) != NN_OK && older) nn_weights_get_str(w, older, &v, NULL);
    return v ? v : "";
}

/* Whether two comma-separated folder lists name the same folders. */
static gboolean same_folders(const char *a, const char *b) {
    char *ca = canonical_folders(a), *cb = canonical_folders(b);
    const gboolean same = strcmp(ca, cb) == 0;
    g_free(ca), g_free(cb);
    return same;
}

/* What the command line gives for a resumed run on photos must agree with
 * the checkpoint: the run continues on its photos, crops and split. */
static gboolean resume_agrees(const train_run *r, const char *images, const char *val_images, uint32_t crops,
                              double fraction, GError **error) {
    char *bad = NULL;
    if (r->images && !same_folders(r->images, images))
        bad = g_strdup_printf("--images %s: the checkpoint trains on %s", r->images, images);
    else if (r->val_images && !same_folders(r->val_images, val_images))
        bad = g_strdup_printf("--val-images %s: the checkpoint validates on %s", r->val_images,
                              *val_images ? val_images : "photos held out of --images");
    else if (r->crops >= 0 && (uint32_t)r->crops != crops)
        bad = g_strdup_printf("--crops %d: the checkpoint's run takes %u crops an epoch", r->crops, crops);
    else if (r->val_fraction >= 0 && r->val_fraction != fraction)
        bad = g_strdup_printf("--val-fraction %g: the checkpoint's run holds out %g", r->val_fraction, fraction);
    if (bad) g_set_error(error, TRAINER_ERROR, 1, "%s: %s; a resumed run keeps its photos (start a new run, with "
                         "--init from its model, to train on others)", r->resume, bad);
    g_free(bad);
    return bad == NULL;
}

/* The photos the checkpoint's split put where their keys do not (absent
 * in older checkpoints: none), kept there. */
static gboolean read_split_forced(const nn_weights *w, train_run *r, GError **error) {
    const uint32_t *halves = NULL;
    uint64_t count = 0;
    g_array_set_size(r->split_forced, 0);
    if (r->older_split || !nn_weights_get(w, "checkpoint.split_forced")) return TRUE;
    if (nn_weights_get_u32_array(w, "checkpoint.split_forced", &halves, &count, NULL) != NN_OK || count % 2) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: checkpoint field 'checkpoint.split_forced' is not an even number "
                    "of u32 (pairs of halves of photo keys)", r->resume);
        return FALSE;
    }
    for (uint64_t k = 0; k < count; k += 2) {
        const uint64_t key = (uint64_t)halves[k] | (uint64_t)halves[k + 1] << 32;
        g_array_append_val(r->split_forced, key);
    }
    return TRUE;
}

/* A run on photos continues on the same photos, split and crops. */
static gboolean read_photo_fields(const nn_weights *w, train_run *r, GError **error) {
    const char *images = meta_str(w, "checkpoint.photo_folders", "train.photo_folders");
    const char *val_images = meta_str(w, "checkpoint.val_photo_folders", "train.val_photo_folders");
    const char *init = meta_str(w, "checkpoint.init", "train.init");
    uint32_t crops = 0, rebin = 0, photos = 0;
    nn_weights_get_u32(w, "train.crops", &crops, NULL);
    nn_weights_get_u32(w, "train.rebin", &rebin, NULL);
    nn_weights_get_u32(w, "checkpoint.photos", &photos, NULL);
    const double fraction = meta_f64(w, "train.val_fraction", 0.0);
    if (*images && (crops < 1 || crops > TRAIN_MAX_CROPS || !(fraction >= 0.0 && fraction < 1.0))) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: checkpoint fields 'train.crops' (%u) or 'train.val_fraction' (%g) "
                    "are out of range", r->resume, crops, fraction);
        return FALSE;
    }
    if (*images && !resume_agrees(r, images, val_images, crops, fraction, error)) return FALSE;
    if (!*images && r->images) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: a CIFAR-10 run, not one on photos: --images does not apply", r->resume);
        return FALSE;
    }
    g_free(r->images), g_free(r->val_images), g_free(r->init);
    r->images = *images ? g_strdup(images) : NULL;
    r->val_images = *val_images ? g_strdup(val_images) : NULL;
    r->init = *init ? g_strdup(init) : NULL;
    r->crops = (int)crops, r->rebin = (int)rebin, r->val_fraction = fraction, r->photos = (int)photos;
    r->older_split = r->images && strcmp(meta_str(w, "checkpoint.split", NULL), PHOTO_SPLIT_RULE) != 0;
    return read_split_forced(w, r, error);
}

static void read_history(const nn_weights *w, train_run *r) {
    get_history(w, "history.epoch", r->h_epoch);
    get_history(w, "history.train_loss", r->h_train);
    get_history(w, "history.val_loss", r->h_val);
    get_history(w, "history.val_psnr", r->h_psnr);
    get_history(w, "history.lr", r->h_lr);
    get_history(w, "history.seconds", r->h_seconds);
    get_history(w, "history.step_epoch", r->s_epoch); /* absent in older checkpoints: curves start here */
    get_history(w, "history.step_loss", r->s_loss);
    get_history(w, "history.step_lr", r->s_lr);
}

/* How the checkpoint's run split its batches (absent: one rank, no
 * accumulation); this run keeps its --accumulate unless told otherwise.
 * A different split or thread count is allowed, with a note. */
static gboolean read_split(const nn_weights *w, train_run *r, int threads, GError **error) {
    uint32_t ranks = 1, accumulate = 1;
    nn_error err = {0};
    if (nn_weights_get(w, "train.ranks")) nn_weights_get_u32(w, "train.ranks", &ranks, &err);
    if (nn_weights_get(w, "train.accumulate")) nn_weights_get_u32(w, "train.accumulate", &accumulate, &err);
    if (err.status) {
        g_set_error(error, TRAINER_ERROR, 1, "%s", err.msg);
        return FALSE;
    }
    if (ranks < 1 || ranks > 65536 || accumulate < 1 || accumulate > 65536) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: checkpoint field '%s' is %u, outside 1..65536", r->resume,
                    ranks < 1 || ranks > 65536 ? "train.ranks" : "train.accumulate",
                    ranks < 1 || ranks > 65536 ? ranks : accumulate);
        return FALSE;
    }
    if (r->accumulate == 0) r->accumulate = (int)accumulate;
    if (!batch_split_ok(r, "the checkpoint's batch", error)) return FALSE; /* before any note */
    if (dist_rank() == 0 && threads != r->threads)
        g_printerr("colorize-train: note: the checkpoint ran with %d threads, this run uses %d; "
                   "results will not be bit-identical to an uninterrupted run\n", threads, r->threads);
    if (dist_rank() == 0 && (ranks * accumulate != (uint32_t)(dist_size() * r->accumulate)))
        g_printerr("colorize-train: note: the checkpoint normalized batches in %u groups (%u rank(s) × %u "
                   "micro-batch(es)), this run in %d; batch norm sees other groups from here on\n",
                   ranks * accumulate, ranks, accumulate, dist_size() * r->accumulate);
    return TRUE;
}

/* The optimizer's moments are taken out of w; what remains is the model,
 * checked against the architecture before its memory is reserved, and
 * the moments must match it. */
static gboolean read_model(nn_weights *w, const train_run *r, nn_unet **net, float **m, float **v, size_t *np,
                           GError **error) {
    nn_error err = {0};
    const nn_tensor_entry *tm = nn_weights_find_tensor(w, "optimizer.adam_m");
    const nn_tensor_entry *tv = nn_weights_find_tensor(w, "optimizer.adam_v");
    const uint64_t nm = tm && tm->ndims == 1 ? tm->dims[0] : 0, nv = tv && tv->ndims == 1 ? tv->dims[0] : 0;
    *m = nm ? g_memdup2(tm->data, nm * sizeof(float)) : NULL;
    *v = nv ? g_memdup2(tv->data, nv * sizeof(float)) : NULL;
    nn_weights_remove_tensor(w, "optimizer.adam_m", NULL);
    nn_weights_remove_tensor(w, "optimizer.adam_v", NULL);
    nn_unet_config cfg;
    if (!model_config_load(w, r->resume, &cfg, error)) return FALSE;
    nn_status st = nn_unet_create(net, &cfg, r->probe ? 1 : micro_batch(r), CIFAR_SIDE, CIFAR_SIDE, &err);
    if (st == NN_OK) st = nn_unet_load_weights(*net, w, r->resume, &err);
    if (st != NN_OK) {
        g_set_error(error, TRAINER_ERROR, 1, "%s", err.msg);
        return FALSE;
    }
    nn_unet_params(*net, np);
    if (nm != *np || nv != *np) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: the optimizer state is missing or does not match the model",
                    r->resume);
        return FALSE;
    }
    return TRUE;
}

/* Reads a checkpoint into r (hyperparameters and progress), bins, the
 * model and the Adam moments (allocated here). */
static gboolean load_checkpoint(train_run *r, ab_bins *bins, nn_unet **net, float **m, float **v,
                                GError **error) {
    nn_weights w;
    nn_error err = {0};
    if (nn_weights_load(&w, r->resume, &err) != NN_OK) {
        g_set_error(error, TRAINER_ERROR, 1, "%s", err.msg);
        return FALSE;
    }
    gboolean ok = FALSE, have_bins = FALSE;
    const char *kind = NULL;
    int epochs_planned = 0, threads = 0, batch = 0;
    const int given_val = r->val; /* -1: not given */
    if (nn_weights_get_str(&w, "checkpoint.kind", &kind, &err) != NN_OK) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: not a colorize-train checkpoint (a model file?)", r->resume);
        goto done;
    }
    if (!meta_u32(&w, "checkpoint.epoch", &r->epoch, r->resume, error) ||
        !meta_u32(&w, "checkpoint.step", &r->step, r->resume, error) ||
        !meta_u32(&w, "checkpoint.width", &r->width, r->resume, error) ||
        !meta_u32(&w, "checkpoint.limit", &r->limit, r->resume, error) ||
        !meta_u32(&w, "checkpoint.best_epoch", &r->best_epoch, r->resume, error) ||
        !meta_u32(&w, "train.batch", &batch, r->resume, error) ||
        !meta_u32(&w, "train.validation_images", &r->val, r->resume, error) ||
        !meta_u32(&w, "train.epochs_planned", &epochs_planned, r->resume, error) ||
        !meta_u32(&w, "train.threads", &threads, r->resume, error))
        goto done;
    r->batch = batch;
    if (given_val >= 0 && given_val != r->val) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: --val %d: the checkpoint's run validates on %d %s; a resumed run "
                    "keeps its validation set", r->resume, given_val, r->val,
                    nn_weights_get(&w, "checkpoint.photo_folders") ? "crops" : "images");
        goto done;
    }
    uint64_t gs = 0, sd = 0;
    double lr = meta_f64(&w, "train.lr", NAN), wd = meta_f64(&w, "train.weight_decay", NAN);
    if (nn_weights_get_u64(&w, "checkpoint.global_step", &gs, &err) != NN_OK ||
        nn_weights_get_u64(&w, "train.seed", &sd, &err) != NN_OK || !isfinite(lr) || !isfinite(wd)) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: checkpoint metadata is incomplete%s%s", r->resume,
                    err.msg[0] ? ": " : "", err.msg);
        goto done;
    }
    if (gs > MAX_GLOBAL_STEP) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: checkpoint field 'checkpoint.global_step' is %" G_GUINT64_FORMAT
                    ", beyond %" G_GUINT64_FORMAT, r->resume, (guint64)gs, (guint64)MAX_GLOBAL_STEP);
        goto done;
    }
    r->global_step = (long)gs;
    r->seed = (gint64)sd;
    r->lr = lr, r->weight_decay = wd;
    /* checkpoints written before zoom and strokes trained without them */
    r->zoom_share = meta_f64(&w, "train.zoom_share", 0.0);
    r->max_zoom = meta_f64(&w, "train.max_zoom", 1.0);
    r->stroke_share = meta_f64(&w, "train.stroke_share", 0.0);
    if (!read_photo_fields(&w, r, error)) goto done;
    if (r->epochs <= 0) r->epochs = epochs_planned;
    if (!read_split(&w, r, threads, error)) goto done;
    r->best_val = meta_f64(&w, "checkpoint.best_val", INFINITY);
    r->epoch_loss_sum = meta_f64(&w, "checkpoint.epoch_loss_sum", 0.0);
    r->seconds = meta_f64(&w, "checkpoint.seconds", 0.0);
    read_history(&w, r);
    if (!check_checkpoint(r, epochs_planned, NULL, 0, error)) goto done; /* before the model is made */
    thin_step_history(r);
    if (!ab_bins_from_weights(bins, &w, r->resume, error)) goto done;
    have_bins = TRUE;
    size_t np = 0;
    if (!read_model(&w, r, net, m, v, &np, error)) goto done;
    if (!check_checkpoint(r, epochs_planned, *v, np, error)) goto done;
    ok = TRUE;
done:
    nn_weights_free(&w);
    if (!ok) { /* nothing taken here outlives a failure */
        g_free(*m), g_free(*v);
        *m = *v = NULL;
        nn_unet_free(*net), *net = NULL;
        if (have_bins) ab_bins_free(bins);
    }
    return ok;
}

/* ------------------------------------------------------------ validation */

typedef struct {
    double loss, psnr;
} val_result;

/* Validation loss with simulated hints (a fixed seed, so epochs compare)
 * and PSNR of the plain-mean prediction without hints. */
static gboolean validate(nn_unet *net, const lab_set *val, const ab_bins *bins, int batch, uint64_t seed,
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
static gboolean write_samples(nn_unet *net, const lab_set *val, const ab_bins *bins, const char *dir, int epoch,
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

static void write_logs(const train_run *r) {
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

/* ------------------------------------------------------------- progress */

static void show_progress(const train_run *r, int spe, double ips, double loss, double eta, gboolean tty,
                          gboolean force) {
    char hms[32];
    format_hms(hms, sizeof hms, eta);
    const double lr = learning_rate(r, r->global_step, (long)spe * r->epochs);
    if (tty) {
        int width = 24, done = (int)((double)r->step / spe * width);
        char bar[32];
        for (int i = 0; i < width; i++) bar[i] = i < done ? '#' : '-';
        bar[width] = 0;
        g_printerr("\repoch %d/%d [%s] %3d%%  %.0f img/s  loss %.4f  lr %.2e  ETA %s ", r->epoch + 1, r->epochs, bar,
                   100 * r->step / spe, ips, loss, lr, hms);
    } else if (force || r->step % r->log_every == 0) {
        g_print("epoch %d/%d step %d/%d  %.1f img/s  loss %.4f  lr %.3g  ETA %s\n", r->epoch + 1, r->epochs, r->step,
                spe, ips, loss, lr, hms);
    }
}

/* The whole command that continues this run (g_free it). */
static char *resume_command(const train_run *r) {
    char *data = g_shell_quote(r->images ? r->images : r->data), *out = g_shell_quote(r->out), *ckpt = g_shell_quote(r->checkpoint);
    char *logs = r->log_dir ? g_shell_quote(r->log_dir) : NULL, *usual = g_strconcat(r->out, ".ckpt", NULL);
    gboolean own_checkpoint = strcmp(usual, r->checkpoint) != 0; /* then it must be named again */
    char *cmd = g_strdup_printf("colorize-train train --%s %s --out %s --resume %s%s%s --threads %d%s%s",
                                r->images ? "images" : "data", data, out,
                                ckpt, own_checkpoint ? " --checkpoint " : "", own_checkpoint ? ckpt : "", r->threads,
                                logs ? " --log-dir " : "", logs ? logs : "");
    g_free(usual);
    g_free(data), g_free(out), g_free(ckpt), g_free(logs);
    return cmd;
}

/* ---------------------------------------------------------------- train */

/* Temporary files of an earlier write of this checkpoint that a kill cut
 * short (CKPT.tmp-XXXXXX beside it) are removed, and the user is told. */
static void remove_stale_temporaries(const char *checkpoint) {
    char *dir = g_path_get_dirname(checkpoint), *base = g_path_get_basename(checkpoint);
    char *prefix = g_strconcat(base, ".tmp-", NULL);
    const size_t unique = strlen(NN_ATOMIC_TMP_SUFFIX) - strlen(".tmp-");
    GDir *d = g_dir_open(dir, 0, NULL);
    for (const char *e; d && (e = g_dir_read_name(d));) {
        if (!g_str_has_prefix(e, prefix) || strlen(e) != strlen(prefix) + unique) continue;
        char *path = g_build_filename(dir, e, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_REGULAR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK) && g_unlink(path) == 0)
            g_printerr("colorize-train: removed %s, left by an interrupted checkpoint write\n", path);
        g_free(path);
    }
    if (d) g_dir_close(d);
    g_free(dir), g_free(base), g_free(prefix);
}

/* What survives a failure: the checkpoint, if one has been written. */
static const char *intact_checkpoint(const train_run *r) {
    static char text[1200];
    if (g_file_test(r->checkpoint, G_FILE_TEST_IS_REGULAR))
        g_snprintf(text, sizeof text, "the last checkpoint (%s) is intact", r->checkpoint);
    else g_snprintf(text, sizeof text, "no checkpoint was written yet");
    return text;
}

gboolean checkpoint_probe(const char *path, GError **error) {
    train_run r = {.resume = (char *)path, .threads = 1, .batch = 1, .probe = TRUE};
    history_new(&r);
    ab_bins bins;
    nn_unet *net = NULL;
    float *m = NULL, *v = NULL;
    gboolean ok = load_checkpoint(&r, &bins, &net, &m, &v, error);
    if (ok) {
        ab_bins_free(&bins);
        nn_unet_free(net);
        g_free(m), g_free(v);
    }
    history_free(&r);
    return ok;
}

/* What a training run holds besides its options and progress (train_run). */
typedef struct {
    ab_bins bins;
    nn_unet *net;
    float *m, *v;          // (np) Adam's moments
    float *in;             // (batch, 4, 32, 32)
    float *probs, *dlogits; // (batch, Q, 32, 32)
    int32_t *targets;      // (batch, 1024)
    int *order;            // (n_train) this epoch's order
    cifar_set cifar;       /* the CIFAR-10 images, or the crops of photos (the epoch's, then validation's) */
    lab_set tr, val;
    photo_set photos, val_photos; /* with --images; val_photos only with --val-images */
    int *train_photos, *held_photos; /* indices into photos (held_photos: the validation share) */
    int n_train_photos, n_held_photos;
    size_t np;
    int n_train, spe, Q;
    long total;            // steps in the whole run
    nn_adam_config adam;
} train_state;

static void train_state_free(train_state *ts) {
    g_free(ts->in), g_free(ts->probs), g_free(ts->dlogits), g_free(ts->targets), g_free(ts->order);
    g_free(ts->m), g_free(ts->v);
    nn_unet_free(ts->net);
    ab_bins_free(&ts->bins);
    lab_set_free(&ts->tr), lab_set_free(&ts->val);
    cifar_free(&ts->cifar);
    photo_set_free(&ts->photos), photo_set_free(&ts->val_photos);
    g_free(ts->train_photos), g_free(ts->held_photos);
}

/* The weights of init for a network of cfg whose bins were recomputed
 * and differ from init's: every tensor of the same name and shape from
 * init but the classifier's (its channels are other cells of the ab plane,
 * even when their count is the same), which keeps the network's own
 * initialization, as do tensors of another shape. */
static gboolean merge_init(nn_unet *net, const nn_weights *init, const char *name, GError **error) {
    nn_weights own, merged;
    nn_weights_init(&own), nn_weights_init(&merged);
    nn_error err = {0};
    gboolean ok = nn_unet_to_weights(net, &own) == NN_OK;
    int kept = 0, fresh = 0;
    for (size_t i = 0; ok && i < own.n_tensors; i++) {
        const nn_tensor_entry *a = &own.tensors[i], *b = nn_weights_find_tensor(init, a->name);
        gboolean same = b && b->ndims == a->ndims && memcmp(b->dims, a->dims, sizeof(uint64_t) * a->ndims) == 0 &&
                        !g_str_has_prefix(a->name, NN_UNET_CLASSIFIER ".");
        ok = nn_weights_add_tensor(&merged, a->name, a->ndims, a->dims, same ? b->data : a->data) == NN_OK;
        kept += same, fresh += !same;
    }
    if (ok) ok = nn_unet_load_weights(net, &merged, name, &err) == NN_OK;
    if (!ok) g_set_error(error, TRAINER_ERROR, 1, "%s: %s", name, err.msg[0] ? err.msg : "out of memory");
    else g_print("--init %s: %d tensors kept, %d (the classifier over the new bins) started afresh\n", name, kept, fresh);
    nn_weights_free(&own), nn_weights_free(&merged);
    return ok;
}

/* --init: the model's architecture and weights, and its bins unless
 * --rebin (then the bins come from the new data). */
static gboolean init_from_model(train_run *r, train_state *ts, GError **error) {
    nn_weights w;
    nn_error err = {0};
    nn_unet_config cfg;
    if (nn_weights_load(&w, r->init, &err) != NN_OK) {
        g_set_error(error, TRAINER_ERROR, 1, "%s", err.msg);
        return FALSE;
    }
    if (nn_weights_get(&w, "checkpoint.kind")) {
        g_set_error(error, TRAINER_ERROR, 1, "%s is a checkpoint: --resume %s continues its run; --init takes a model "
                    "(the --out file of a run)", r->init, r->init);
        nn_weights_free(&w);
        return FALSE;
    }
    ab_bins model_bins = {0};
    gboolean ok = model_config_load(&w, r->init, &cfg, error) && ab_bins_from_weights(&model_bins, &w, r->init, error);
    if (ok) ok = r->rebin ? ab_bins_from_data(&ts->bins, &ts->tr, (float)r->lambda, error)
                          : ab_bins_from_weights(&ts->bins, &w, r->init, error);
    const gboolean same_bins = ok && ab_bins_same(&ts->bins, &model_bins);
    ab_bins_free(&model_bins);
    cfg.num_bins = ok ? ts->bins.num_bins : cfg.num_bins;
    if (ok && nn_unet_create(&ts->net, &cfg, micro_batch(r), CIFAR_SIDE, CIFAR_SIDE, &err) != NN_OK) {
        g_set_error(error, TRAINER_ERROR, 1, "%s", err.msg);
        ok = FALSE;
    }
    if (ok) {
        nn_unet_init(ts->net, (uint64_t)r->seed);
        if (!r->rebin || same_bins) {
            ok = nn_unet_load_weights(ts->net, &w, r->init, &err) == NN_OK;
            if (!ok) g_set_error(error, TRAINER_ERROR, 1, "%s", err.msg);
        } else {
            ok = merge_init(ts->net, &w, r->init, error);
        }
    }
    r->width = cfg.base_width;
    nn_weights_free(&w);
    return ok;
}

/* A new model (or --init's), its bins from the training images (or the
 * model's) and zero moments. */
static gboolean fresh_model(train_run *r, train_state *ts, GError **error) {
    nn_error err = {0};
    if (r->init) {
        if (!init_from_model(r, ts, error)) return FALSE;
    } else {
        if (!ab_bins_from_data(&ts->bins, &ts->tr, (float)r->lambda, error)) return FALSE;
        nn_unet_config cfg = nn_unet_default_config(ts->bins.num_bins);
        cfg.base_width = r->width;
        if (nn_unet_create(&ts->net, &cfg, micro_batch(r), CIFAR_SIDE, CIFAR_SIDE, &err) != NN_OK) {
            g_set_error(error, TRAINER_ERROR, 1, "%s", err.msg);
            return FALSE;
        }
        nn_unet_init(ts->net, (uint64_t)r->seed);
    }
    nn_unet_params(ts->net, &ts->np);
    ts->m = g_new0(float, ts->np);
    ts->v = g_new0(float, ts->np);
    r->best_val = INFINITY;
    return TRUE;
}

/* CIFAR-10's training batches: the last r->val images for validation. */
static gboolean load_cifar_data(train_run *r, train_state *ts, GError **error) {
    if (!r->data) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: a CIFAR-10 run: give --data DIR to resume it", r->resume);
        return FALSE;
    }
    if (!cifar_load_train(&ts->cifar, r->data, error)) return FALSE;
    if (r->val < 1 || r->val >= ts->cifar.n) {
        g_set_error(error, TRAINER_ERROR, 1, "--val %d: must be between 1 and %d", r->val, ts->cifar.n - 1);
        return FALSE;
    }
    ts->n_train = ts->cifar.n - r->val;
    if (r->limit > 0 && r->limit < ts->n_train) ts->n_train = r->limit;
    return lab_set_init(&ts->tr, &ts->cifar, 0, ts->n_train, error) &&
           lab_set_init(&ts->val, &ts->cifar, ts->cifar.n - r->val, r->val, error);
}

/* The epoch's training crops (the same for the same seed and epoch). */
static gboolean refresh_crops(train_run *r, train_state *ts, int epoch, GError **error) {
    photo_set_crops(&ts->photos, ts->train_photos, ts->n_train_photos, r->crops,
                    derive_seed((uint64_t)r->seed, 0xE0, (uint64_t)epoch), ts->cifar.rgb);
    lab_set_free(&ts->tr);
    return lab_set_init(&ts->tr, &ts->cifar, 0, r->crops, error);
}

/* Whether the epoch's and the validation crops fit in the machine's
 * memory: checked from the options before any photo is read. */
static gboolean crops_fit(const train_run *r, GError **error) {
    const double need = ((double)r->crops + r->val) * CROP_BYTES;
    const double have = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (need <= have) return TRUE;
    g_set_error(error, TRAINER_ERROR, 1, "%s%d crops and %d validation crops need %.1f GB of memory, more than this "
                "machine's %.1f GB: lower --crops or --val", r->resume ? "the checkpoint's " : "", r->crops, r->val,
                need / 1e9, have / 1e9);
    return FALSE;
}

/* Room for the epoch's and the validation crops, where CIFAR-10's images would be. */
static gboolean reserve_crops(const train_run *r, train_state *ts, GError **error) {
    ts->cifar.n = r->crops + r->val;
    ts->cifar.labels = g_try_malloc0((size_t)ts->cifar.n);
    ts->cifar.rgb = ts->cifar.labels ? g_try_malloc((size_t)ts->cifar.n * CIFAR_PIXELS * 3) : NULL;
    if (ts->cifar.rgb) return TRUE;
    g_set_error(error, TRAINER_ERROR, 1, "%d crops and %d validation crops: out of memory", r->crops, r->val);
    return FALSE;
}

/* The training and the held-out photos (all train with --val-images). */
static gboolean split_photos(train_run *r, train_state *ts, GError **error) {
    const int n = ts->photos.n;
    if (!r->val_images && n < 2) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: 1 usable photo: at least 2 are needed to hold one out for validation "
                    "(or give --val-images)", r->images);
        return FALSE;
    }
    ts->train_photos = g_new(int, n), ts->held_photos = g_new(int, n);
    photo_set_split(&ts->photos, (uint64_t)r->seed, r->val_images ? 0.0 : r->val_fraction, r->split_forced,
                    ts->train_photos, &ts->n_train_photos, ts->held_photos, &ts->n_held_photos);
    return TRUE;
}

/* A resumed run whose folder changed says so, and what became of the split. */
static void note_changed_folder(train_run *r, int n) {
    if (r->resume && r->photos && r->photos != n)
        g_print("note: %d usable photos now, %d when the checkpoint was written: the photos held out stay held out, "
                "new ones are split by the same rule\n", n, r->photos);
    if (r->resume && r->older_split)
        g_print("note: this checkpoint held photos out by an older rule; from now on they are held out by their "
                "paths, so some of the validation photos may change\n");
    r->photos = n;
}

/* The photos, split into training and validation photos (--val-images,
 * or a held-out share chosen by the seed), the fixed validation crops and
 * the first epoch's training crops. */
static gboolean load_photo_data(train_run *r, train_state *ts, GError **error) {
    char *cache = g_strconcat(r->checkpoint, ".images", NULL), *val_cache = g_strconcat(r->checkpoint, ".val-images", NULL);
    gboolean ok = crops_fit(r, error) && photo_set_load(&ts->photos, r->images, cache, IMAGES_MAX_SIDE, error) &&
                  (!r->val_images || photo_set_load(&ts->val_photos, r->val_images, val_cache, IMAGES_MAX_SIDE, error));
    g_free(cache), g_free(val_cache);
    if (!ok) return FALSE;
    if (!split_photos(r, ts, error)) return FALSE;
    note_changed_folder(r, ts->photos.n);
    /* the crops live where CIFAR-10's images would: the epoch's, then the validation's */
    if (!reserve_crops(r, ts, error)) return FALSE;
    uint8_t *val_rgb = ts->cifar.rgb + (size_t)r->crops * CIFAR_PIXELS * 3;
    uint64_t val_seed = derive_seed((uint64_t)r->seed, 0xF0, 0);
    if (r->val_images) {
        int *all = g_new(int, ts->val_photos.n);
        for (int i = 0; i < ts->val_photos.n; i++) all[i] = i;
        photo_set_crops(&ts->val_photos, all, ts->val_photos.n, r->val, val_seed, val_rgb);
        g_free(all);
    } else {
        photo_set_crops(&ts->photos, ts->held_photos, ts->n_held_photos, r->val, val_seed, val_rgb);
    }
    g_print("training on %d photos (%d crops an epoch), validating on %d crops of %d %s photos\n", ts->n_train_photos,
            r->crops, r->val, r->val_images ? ts->val_photos.n : ts->n_held_photos,
            r->val_images ? "--val-images" : "held-out");
    ts->n_train = r->crops;
    return refresh_crops(r, ts, r->epoch, error) && lab_set_init(&ts->val, &ts->cifar, r->crops, r->val, error);
}

/* The photos, read by rank 0 first (which writes the cache beside the
 * checkpoint when it is stale), then by the other ranks from that cache. */
static gboolean load_photos_in_turn(train_run *r, train_state *ts, GError **error) {
    gboolean ok = dist_rank() == 0 ? load_photo_data(r, ts, error) : TRUE;
    if (!dist_root_ok(ok)) {
        if (ok) g_set_error(error, TRAINER_ERROR, TRAINER_FOLLOWED_ROOT, "rank 0 could not read the photos");
        return FALSE;
    }
    return dist_rank() == 0 || load_photo_data(r, ts, error);
}

/* The data and the model (a checkpoint brings its own hyperparameters,
 * split and bins), checked against each other, and the step buffers. */
static gboolean prepare_run(train_run *r, train_state *ts, GError **error) {
    if (r->resume && !load_checkpoint(r, &ts->bins, &ts->net, &ts->m, &ts->v, error)) return FALSE;
    if (!r->resume && !batch_split_ok(r, "--batch", error)) return FALSE;
    if (r->checkpoint && dist_rank() == 0) remove_stale_temporaries(r->checkpoint);
    if (!(r->images ? load_photos_in_turn(r, ts, error) : load_cifar_data(r, ts, error))) return FALSE;
    if (r->batch < 1 || r->batch > ts->n_train) {
        g_set_error(error, TRAINER_ERROR, 1, "--batch %d: must be between 1 and the %d training images", r->batch,
                    ts->n_train);
        return FALSE;
    }
    if (r->resume) {
        nn_unet_params(ts->net, &ts->np);
        g_print("resuming %s at epoch %d, step %d\n", r->resume, r->epoch + 1, r->step);
    } else if (!fresh_model(r, ts, error)) {
        return FALSE;
    }
    ts->spe = steps_per_epoch(r, ts->n_train), ts->Q = ts->bins.num_bins;
    if (r->resume && (r->step > ts->spe || r->epoch > r->epochs)) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: checkpoint field '%s' is %d, beyond the run's %d", r->resume,
                    r->step > ts->spe ? "checkpoint.step" : "checkpoint.epoch", r->step > ts->spe ? r->step : r->epoch,
                    r->step > ts->spe ? ts->spe : r->epochs);
        return FALSE;
    }
    ts->total = (long)ts->spe * r->epochs;
    g_print("training on %d images (%d validation), %d colour bins, %zu parameters, %d steps of %d per epoch, "
            "%d threads\n", ts->n_train, r->val, ts->Q, ts->np, ts->spe, r->batch, r->threads);
    if (dist_size() > 1 || r->accumulate > 1)
        g_print("each step: %d rank(s) × %d micro-batch(es) of %d images, batch norm over each micro-batch%s\n",
                dist_size(), r->accumulate, micro_batch(r), dist_size() > 1 ? " (per rank, as DDP without SyncBN)" : "");
    if (r->log_dir && g_mkdir_with_parents(r->log_dir, 0755) != 0) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: cannot create the log folder: %s", r->log_dir, g_strerror(errno));
        return FALSE;
    }
    /* every rank makes the whole batch (the same augmentation for any split) and runs its part */
    ts->in = g_new(float, (size_t)r->batch * NN_INPUT_CHANNELS * CIFAR_PIXELS);
    ts->targets = g_new(int32_t, (size_t)r->batch * CIFAR_PIXELS);
    ts->probs = g_new(float, (size_t)micro_batch(r) * ts->Q * CIFAR_PIXELS);
    ts->dlogits = g_new(float, (size_t)micro_batch(r) * ts->Q * CIFAR_PIXELS);
    ts->order = g_new(int, ts->n_train);
    ts->adam = nn_adam_default((float)r->lr);
    if (r->weight_decay > 0) ts->adam.weight_decay = (float)r->weight_decay, ts->adam.decoupled = 1;
    return TRUE;
}

/* A failure of this rank alone (the others wait in a collective call):
 * said here, then the whole job ends. */
static void fail_alone(const GError *error) {
    if (dist_size() < 2) return;
    fprintf(stderr, "colorize-train train (rank %d of %d): %s\n", dist_rank(), dist_size(), error->message);
    fflush(stderr);
    dist_abort(1);
}

/* This rank's micro-batches of the step: forward, loss and backward, the
 * gradients added up scaled so that their sum over all ranks and
 * micro-batches is the gradient of the whole batch's mean loss. Returns
 * this rank's share of that mean loss. */
static gboolean rank_gradients(train_run *r, train_state *ts, double *loss_share, GError **error) {
    nn_error err = {0};
    const int Q = ts->Q, micro = micro_batch(r), parts = dist_size() * r->accumulate;
    nn_unet_zero_grads(ts->net);
    *loss_share = 0.0;
    for (int k = 0; k < r->accumulate; k++) {
        const size_t first = (size_t)(dist_rank() * r->accumulate + k) * micro;
        const float *logits;
        if (nn_unet_forward(ts->net, ts->in + first * NN_INPUT_CHANNELS * CIFAR_PIXELS, micro, NN_MODE_TRAIN, &logits,
                            &err) != NN_OK) {
            g_set_error(error, TRAINER_ERROR, 1, "the forward pass failed at epoch %d step %d: %s; %s", r->epoch + 1,
                        r->step, err.msg, intact_checkpoint(r));
            return FALSE;
        }
        const int32_t *targets = ts->targets + first * CIFAR_PIXELS;
        float loss = nn_softmax_xent_forward(ts->probs, logits, targets, ts->bins.rebalance, micro, Q, CIFAR_PIXELS);
        memset(ts->dlogits, 0, sizeof(float) * (size_t)micro * Q * CIFAR_PIXELS);
        nn_softmax_xent_backward(ts->dlogits, ts->probs, targets, ts->bins.rebalance, micro, Q, CIFAR_PIXELS,
                                 1.0f / (float)parts);
        if (nn_unet_backward(ts->net, ts->dlogits, NULL, &err) != NN_OK) {
            g_set_error(error, TRAINER_ERROR, 1, "the backward pass failed at epoch %d step %d: %s; %s", r->epoch + 1,
                        r->step, err.msg, intact_checkpoint(r));
            return FALSE;
        }
        *loss_share += (double)loss / parts;
    }
    return TRUE;
}

/* One step: an augmented batch, this rank's gradients, their sum over the
 * ranks (one MPI_Allreduce on the gradient block), Adam; the step's loss
 * and rate go into the history. */
static gboolean train_step(train_run *r, train_state *ts, GError **error) {
    nn_rng rng;
    nn_rng_seed(&rng, derive_seed((uint64_t)r->seed, 2 + (uint64_t)r->epoch, (uint64_t)r->step));
    batch_options augmented = {.augment = 1, .hints = -1, .zoom_share = (float)r->zoom_share,
                               .max_zoom = (float)r->max_zoom, .stroke_share = (float)r->stroke_share};
    make_batch(&ts->tr, &ts->bins, ts->order + (size_t)r->step * r->batch, r->batch, &rng, augmented, ts->in,
               ts->targets, NULL, NULL);
    double shared[2] = {0.0, g_stop_signal ? 1.0 : 0.0}; /* the batch's mean loss, ranks asked to stop */
    if (!rank_gradients(r, ts, &shared[0], error)) {
        fail_alone(*error);
        return FALSE;
    }
    dist_sum_floats(nn_unet_grads(ts->net, NULL), ts->np);
    dist_sum_doubles(shared, 2);
    r->stop = shared[1] > 0;
    const double loss = shared[0];
    if (!isfinite(loss)) {
        g_set_error(error, TRAINER_ERROR, 1, "the loss became %g at epoch %d step %d; %s; try a lower --lr", loss,
                    r->epoch + 1, r->step, intact_checkpoint(r));
        return FALSE;
    }
    ts->adam.lr = learning_rate(r, r->global_step, ts->total);
    nn_adam_step(nn_unet_params(ts->net, NULL), nn_unet_grads(ts->net, NULL), ts->m, ts->v, ts->np, ts->adam,
                 r->global_step + 1);
    nn_unet_params_changed(ts->net);
    r->epoch_loss_sum += loss;
    r->step++, r->global_step++;
    double position = r->epoch + (double)r->step / ts->spe, step_lr = ts->adam.lr;
    g_array_append_val(r->s_epoch, position);
    g_array_append_val(r->s_loss, loss);
    g_array_append_val(r->s_lr, step_lr);
    thin_step_history(r);
    return TRUE;
}

/* Writes the model when it is the best so far by validation loss. */
static gboolean save_best(train_run *r, train_state *ts, const val_result *vr, double seconds, GError **error) {
    nn_error err = {0};
    r->best_val = vr->loss;
    r->best_epoch = r->epoch + 1;
    nn_weights w;
    nn_weights_init(&w);
    nn_status st = model_weights(&w, ts->net, &ts->bins, r, ts->n_train);
    if (!st) st = nn_weights_set_u32(&w, "train.epochs", (uint32_t)r->best_epoch);
    if (!st) st = nn_weights_set_f32(&w, "train.validation_loss", (float)vr->loss);
    if (!st) st = nn_weights_set_f32(&w, "train.validation_psnr", (float)vr->psnr);
    if (!st) st = nn_weights_set_f64(&w, "train.seconds", seconds);
    if (!st) st = nn_weights_save(&w, r->out, &err);
    nn_weights_free(&w);
    if (st) g_set_error(error, TRAINER_ERROR, 1, "%s", err.msg);
    return st == NN_OK;
}

/* Before rank 0 validates or saves: the batch-norm running statistics,
 * which each rank gathered from its own images, averaged over the ranks;
 * and rank 0's parameters and moments on every rank (they are equal
 * already, as every rank applies the same summed gradients; this keeps
 * any rounding difference of the reduction from adding up). */
static void sync_ranks(train_state *ts) {
    if (dist_size() < 2) return;
    size_t nb;
    float *buffers = nn_unet_buffers(ts->net, &nb);
    dist_sum_floats(buffers, nb);
    for (size_t i = 0; i < nb; i++) buffers[i] /= (float)dist_size();
    dist_broadcast_floats(nn_unet_params(ts->net, NULL), ts->np);
    dist_broadcast_floats(ts->m, ts->np);
    dist_broadcast_floats(ts->v, ts->np);
    nn_unet_params_changed(ts->net);
}

/* After rank 0 alone wrote something: whether it succeeded, on every rank
 * (the others end with TRAINER_FOLLOWED_ROOT when it did not). */
static gboolean root_succeeded(gboolean ok, GError **error) {
    if (dist_root_ok(ok)) return TRUE;
    if (dist_rank() > 0) g_set_error(error, TRAINER_ERROR, TRAINER_FOLLOWED_ROOT, "rank 0 failed");
    return FALSE;
}

/* The end of an epoch on rank 0: validation, the history, the best model,
 * the logs and the checkpoint. */
static gboolean record_epoch(train_run *r, train_state *ts, double seconds, GError **error) {
    val_result vr;
    if (!validate(ts->net, &ts->val, &ts->bins, micro_batch(r), (uint64_t)r->seed, &vr, error)) return FALSE;
    double train_loss = r->epoch_loss_sum / ts->spe, e1 = r->epoch + 1;
    double lr_now = learning_rate(r, r->global_step - 1, ts->total);
    g_array_append_val(r->h_epoch, e1);
    g_array_append_val(r->h_train, train_loss);
    g_array_append_val(r->h_val, vr.loss);
    g_array_append_val(r->h_psnr, vr.psnr);
    g_array_append_val(r->h_lr, lr_now);
    g_array_append_val(r->h_seconds, seconds);
    gboolean best = vr.loss < r->best_val;
    g_print("epoch %d/%d: train loss %.4f, validation loss %.4f, validation PSNR %.2f dB (no hints)%s\n", r->epoch + 1,
            r->epochs, train_loss, vr.loss, vr.psnr, best ? " (best so far)" : "");
    if (best && !save_best(r, ts, &vr, seconds, error)) return FALSE;
    if (r->log_dir) {
        if (!write_samples(ts->net, &ts->val, &ts->bins, r->log_dir, r->epoch, (uint64_t)r->seed, micro_batch(r),
                           error))
            return FALSE;
        write_logs(r);
    }
    r->epoch++, r->step = 0, r->epoch_loss_sum = 0.0;
    return save_checkpoint(r, ts->net, &ts->bins, ts->m, ts->v, ts->n_train, seconds, error);
}

/* The end of an epoch: the ranks synchronized, then rank 0 records it. */
static gboolean end_epoch(train_run *r, train_state *ts, double seconds, GError **error) {
    sync_ranks(ts);
    if (dist_rank() > 0) {
        r->epoch++, r->step = 0, r->epoch_loss_sum = 0.0;
        return root_succeeded(TRUE, error);
    }
    return root_succeeded(record_epoch(r, ts, seconds, error), error);
}

/* The command that resumes this run, with its mpirun when it has ranks (g_free it). */
static char *full_resume_command(const train_run *r) {
    char *cmd = resume_command(r);
    if (dist_size() < 2) return cmd;
    char *full = g_strdup_printf("mpirun -np %d %s", dist_size(), cmd);
    g_free(cmd);
    return full;
}

/* Stopped by a signal or --max-steps: the checkpoint, and how to go on. */
static gboolean stop_run(train_run *r, train_state *ts, double seconds, GError **error) {
    sync_ranks(ts);
    gboolean ok = dist_rank() > 0 || save_checkpoint(r, ts->net, &ts->bins, ts->m, ts->v, ts->n_train, seconds, error);
    if (!root_succeeded(ok, error)) return FALSE;
    char *cmd = full_resume_command(r);
    g_print("%s at epoch %d step %d; checkpoint written to %s; resume with:\n  %s\n",
            stop_requested(r) ? "interrupted" : "stopped", r->epoch + 1, r->step, r->checkpoint, cmd);
    g_free(cmd);
    return TRUE;
}

/* Progress over a sliding window of about two seconds, on rank 0. */
typedef struct {
    double window_start, ips;
    long window_images;
} progress_meter;

static void step_progress(const train_run *r, const train_state *ts, progress_meter *pm, gboolean tty) {
    pm->window_images += r->batch;
    double t = now_seconds();
    if (t - pm->window_start > 2.0)
        pm->ips = pm->window_images / (t - pm->window_start), pm->window_start = t, pm->window_images = 0;
    double eta = pm->ips > 0 ? (double)(ts->total - r->global_step) * r->batch / pm->ips : 0.0;
    if (dist_rank() == 0) show_progress(r, ts->spe, pm->ips, r->epoch_loss_sum / r->step, eta, tty, FALSE);
}

static gboolean train(train_run *r, GError **error) {
    train_state ts = {0}; /* everything starts empty, so that every exit frees it all */
    gboolean ok = prepare_run(r, &ts, error);
    double failed = ok ? 0.0 : 1.0; /* ranks that could not start */
    dist_sum_doubles(&failed, 1);
    if (failed > 0) {
        if (ok || (failed == dist_size() && dist_rank() > 0)) { /* all failed alike: rank 0 says why */
            g_clear_error(error);
            g_set_error(error, TRAINER_ERROR, TRAINER_FOLLOWED_ROOT, "another rank could not start");
        }
        train_state_free(&ts);
        return FALSE;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    const gboolean tty = isatty(STDERR_FILENO);
    const double start = now_seconds();
    long steps_this_run = 0;
    progress_meter pm = {.window_start = now_seconds()};
    int crops_epoch = r->epoch; /* prepare_run made this epoch's crops */
    while (ok && r->epoch < r->epochs) {
        if (r->images && crops_epoch != r->epoch && !(ok = refresh_crops(r, &ts, r->epoch, error))) break;
        crops_epoch = r->epoch;
        epoch_order(ts.order, ts.n_train, (uint64_t)r->seed, r->epoch);
        while (ok && r->step < ts.spe && !stop_requested(r) && !(r->max_steps > 0 && steps_this_run >= r->max_steps)) {
            ok = train_step(r, &ts, error);
            steps_this_run++;
            if (ok) step_progress(r, &ts, &pm, tty);
        }
        if (!ok) break;
        if (tty && dist_rank() == 0) g_printerr("\n");
        double seconds = r->seconds + (now_seconds() - start);
        if (r->step < ts.spe) {
            ok = stop_run(r, &ts, seconds, error);
            break;
        }
        ok = end_epoch(r, &ts, seconds, error);
        if (ok && !dist_all_ok(!g_stop_signal)) { /* a signal reached a rank during the epoch's end */
            r->stop = TRUE;
            char *cmd = full_resume_command(r);
            g_print("interrupted after epoch %d; checkpoint written to %s; resume with:\n  %s\n", r->epoch,
                    r->checkpoint, cmd);
            g_free(cmd);
            break;
        }
    }
    if (ok && r->epoch >= r->epochs)
        g_print("done: best validation loss %.4f at epoch %d, model in %s\n", r->best_val, r->best_epoch, r->out);
    train_state_free(&ts);
    return ok;
}

static void discard_print(const char *text) { (void)text; }

int command_train(int argc, char **argv) {
    train_run r = {.epochs = 0, .batch = 64, .threads = 0, .width = 0, .log_every = 50, .val = -1,
                   .lr = 1e-3, .lambda = 0.5, .seed = 1, .zoom_share = TRAIN_ZOOM_SHARE,
                   .max_zoom = TRAIN_MAX_ZOOM, .stroke_share = TRAIN_STROKE_SHARE,
                   .val_fraction = -1, .crops = -1}; /* -1: not given (a new run's defaults, or the checkpoint's) */
    int epochs = -1; /* -1: not given */
    GOptionEntry entries[] = {
        {"data", 0, 0, G_OPTION_ARG_FILENAME, &r.data, "CIFAR-10 binary folder (data_batch_1..5.bin)", "DIR"},
        {"images", 0, 0, G_OPTION_ARG_FILENAME, &r.images, "Instead of CIFAR-10: folders of colour photos, searched recursively (comma-separated)", "DIR[,DIR...]"},
        {"val-images", 0, 0, G_OPTION_ARG_FILENAME, &r.val_images, "With --images: validate on these photos (default: hold some out)", "DIR[,DIR...]"},
        {"val-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &r.val_fraction, "With --images: the share of photos held out for validation (default " G_STRINGIFY(IMAGES_VAL_FRACTION) ")", "X"},
        {"crops", 0, 0, G_OPTION_ARG_INT, &r.crops, "With --images: training crops per epoch (default " G_STRINGIFY(IMAGES_CROPS_PER_EPOCH) ")", "N"},
        {"init", 0, 0, G_OPTION_ARG_FILENAME, &r.init, "Start from this model (fine-tuning): its architecture, weights and colour bins", "MODEL.weights"},
        {"rebin", 0, 0, G_OPTION_ARG_NONE, &r.rebin, "With --init: recompute the colour bins and their weights from the new data", NULL},
        {"out", 0, 0, G_OPTION_ARG_FILENAME, &r.out, "Write the best model (by validation loss) here", "FILE"},
        {"epochs", 0, 0, G_OPTION_ARG_INT, &epochs, "Epochs to train (default " G_STRINGIFY(TRAIN_DEFAULT_EPOCHS) ")", "N"},
        {"batch", 0, 0, G_OPTION_ARG_INT, &r.batch, "Images per step, over all MPI ranks (default 64)", "N"},
        {"accumulate", 0, 0, G_OPTION_ARG_INT, &r.accumulate, "Run each step (each rank's part of it) as N micro-batches, gradients added up: less memory; batch norm over each (default 1, or the checkpoint's)", "N"},
        {"lr", 0, 0, G_OPTION_ARG_DOUBLE, &r.lr, "Peak Adam learning rate, cosine schedule (default 1e-3)", "X"},
        {"weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &r.weight_decay, "AdamW weight decay (default 0: Adam)", "X"},
        {"seed", 0, 0, G_OPTION_ARG_INT64, &r.seed, "Random seed (default 1)", "N"},
        {"threads", 0, 0, G_OPTION_ARG_INT, &r.threads, "Threads (default: all cores, shared among the MPI ranks on a machine)", "N"},
        {"width", 0, 0, G_OPTION_ARG_INT, &r.width, "Base width of a new U-Net (default " G_STRINGIFY(DEFAULT_WIDTH) ")", "N"},
        {"lambda", 0, 0, G_OPTION_ARG_DOUBLE, &r.lambda, "Rebalancing: uniform mixing weight (default 0.5)", "X"},
        {"zoom-share", 0, 0, G_OPTION_ARG_DOUBLE, &r.zoom_share, "Share of samples shown as a zoomed crop (default " G_STRINGIFY(TRAIN_ZOOM_SHARE) ")", "X"},
        {"max-zoom", 0, 0, G_OPTION_ARG_DOUBLE, &r.max_zoom, "Largest zoom of those crops (default " G_STRINGIFY(TRAIN_MAX_ZOOM) ")", "X"},
        {"stroke-share", 0, 0, G_OPTION_ARG_DOUBLE, &r.stroke_share, "Share of hints drawn as brush strokes (default " G_STRINGIFY(TRAIN_STROKE_SHARE) ")", "X"},
        {"resume", 0, 0, G_OPTION_ARG_FILENAME, &r.resume, "Continue from this checkpoint", "CKPT"},
        {"checkpoint", 0, 0, G_OPTION_ARG_FILENAME, &r.checkpoint, "Checkpoint file (default FILE.ckpt)", "CKPT"},
        {"log-dir", 0, 0, G_OPTION_ARG_FILENAME, &r.log_dir, "Write metrics.csv, curves and sample grids here", "DIR"},
        {"log-every", 0, 0, G_OPTION_ARG_INT, &r.log_every, "Steps between progress lines off a terminal (default 50)", "N"},
        {"val", 0, 0, G_OPTION_ARG_INT, &r.val, "Training images held out for validation (default " G_STRINGIFY(CIFAR_VALIDATION_IMAGES) "), or with --images validation crops (default " G_STRINGIFY(IMAGES_VAL_CROPS) ")", "N"},
        {"limit", 0, 0, G_OPTION_ARG_INT, &r.limit, "Train on only the first N images (for quick trials)", "N"},
        {"max-steps", 0, 0, G_OPTION_ARG_INT64, &r.max_steps, "Stop after N steps of this run, with a checkpoint", "N"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("- train the colorizer on CIFAR-10 or on photos");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *error = NULL;
    int rc = 0;
    if (!dist_init(&argc, &argv, &error)) {
        g_printerr("colorize-train train: %s\n", error->message);
        g_clear_error(&error);
        g_option_context_free(ctx);
        return 1;
    }
    if (dist_rank() > 0) { /* rank 0 speaks for the job; the others only of their own failures */
        g_set_print_handler(discard_print);
        g_set_printerr_handler(discard_print);
    }
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        if (dist_rank() == 0) g_printerr("colorize-train train: %s\n", error->message);
        rc = 2;
        goto out;
    }
    r.epochs = epochs > 0 ? epochs : (r.resume ? 0 : TRAIN_DEFAULT_EPOCHS);
    const char *bad = argc > 1 ? "unexpected arguments (see --help)"
                      : !r.out ? "--out FILE is required"
                      : r.data && r.images ? "--data and --images exclude each other"
                      : !r.data && !r.images && !r.resume ? "--data DIR (CIFAR-10) or --images DIR (photos) is required"
                      : (r.val_images || r.crops >= 0 || r.val_fraction >= 0) && !r.images && !r.resume
                          ? "--val-images, --crops and --val-fraction go with --images"
                      : r.rebin && !r.init ? "--rebin goes with --init"
                      : r.init && r.resume ? "--init starts a run; a resumed run has its model"
                      : r.width && (r.init || r.resume) ? "--width goes with a new model: --init and --resume keep their model's width"
                      : NULL;
    if (bad) {
        if (dist_rank() == 0) g_printerr("colorize-train train: %s\n", bad);
        rc = 2;
        goto out;
    }
    if (r.val < 0 && !r.resume) r.val = r.images ? IMAGES_VAL_CROPS : CIFAR_VALIDATION_IMAGES; /* or the checkpoint's */
    const char *cmd = "train";
    if ((epochs != -1 && !option_int_ok(cmd, "--epochs", epochs, 1, 100000)) ||
        !option_int_ok(cmd, "--batch", r.batch, 1, 4096) || !option_int_ok(cmd, "--accumulate", r.accumulate, 0, 4096) || !option_double_ok(cmd, "--lr", r.lr, 1e-9, 0.999) ||
        (r.width && !option_int_ok(cmd, "--width", r.width, 1, 256)) || !option_int_ok(cmd, "--log-every", r.log_every, 1, 1 << 30) ||
        !option_double_ok(cmd, "--lambda", r.lambda, 0, 1) ||
        !option_double_ok(cmd, "--zoom-share", r.zoom_share, 0, 1) ||
        !option_double_ok(cmd, "--max-zoom", r.max_zoom, 1, 8) ||
        !option_double_ok(cmd, "--stroke-share", r.stroke_share, 0, 1) ||
        !option_double_ok(cmd, "--weight-decay", r.weight_decay, 0, 1) ||
        !option_int_ok(cmd, "--limit", r.limit, 0, 1 << 30) || !option_int_ok(cmd, "--max-steps", r.max_steps, 0, (long)MAX_GLOBAL_STEP) ||
        !option_int_ok(cmd, "--threads", r.threads, 0, 1024) || (r.crops >= 0 && !option_int_ok(cmd, "--crops", r.crops, 64, TRAIN_MAX_CROPS)) ||
        (r.val_fraction >= 0 && !option_double_ok(cmd, "--val-fraction", r.val_fraction, 0.01, 0.9)) || (r.val != -1 && !option_int_ok(cmd, "--val", r.val, 1, TRAIN_MAX_CROPS))) {
        rc = 2;
        goto out;
    }
    if (!r.resume && r.crops < 0) r.crops = IMAGES_CROPS_PER_EPOCH;
    if (!r.width) r.width = DEFAULT_WIDTH; /* --init and --resume replace it with their model's */
    if (r.images && !r.resume && r.batch > r.crops) {
        g_printerr("colorize-train train: --batch %d is more than --crops %d: an epoch would have no step\n", r.batch,
                   r.crops);
        rc = 2;
        goto out;
    }
    if (!r.resume && r.val_fraction < 0) r.val_fraction = IMAGES_VAL_FRACTION;
    if (!r.checkpoint) r.checkpoint = g_strconcat(r.out, ".ckpt", NULL); /* freed below, as options are */
    /* every output is checked before any work, so none fails after hours of training */
    if (dist_rank() == 0 && (!output_file_ok(r.out, "the model", &error) ||
                             !output_file_ok(r.checkpoint, "the checkpoint", &error) ||
                             !output_dir_ok(r.log_dir, "log folder", &error)))
        g_printerr("colorize-train train: %s\n", error->message);
    if (!dist_root_ok(error == NULL)) {
        rc = 2;
        goto out;
    }
    if (!r.resume && r.accumulate == 0) r.accumulate = 1;
    /* ranks on one machine share its cores */
    if (r.threads == 0 && dist_local_size() > 1) r.threads = MAX(1, (int)g_get_num_processors() / dist_local_size());
    nn_set_threads(r.threads);
    r.threads = nn_get_threads();
    history_new(&r);
    if (!train(&r, &error)) {
        if (dist_rank() > 0 && !g_error_matches(error, TRAINER_ERROR, TRAINER_FOLLOWED_ROOT))
            fprintf(stderr, "colorize-train train (rank %d of %d): %s\n", dist_rank(), dist_size(), error->message);
        else if (dist_rank() == 0 && !g_error_matches(error, TRAINER_ERROR, TRAINER_FOLLOWED_ROOT))
            g_printerr("colorize-train train: %s\n", error ? error->message : "failed");
        rc = 1;
    } else if (r.stop || g_stop_signal) {
        rc = 130;
    }
    history_free(&r);
out:
    g_free(r.data), g_free(r.out), g_free(r.checkpoint), g_free(r.resume), g_free(r.log_dir);
    g_free(r.images), g_free(r.val_images), g_free(r.init);
    g_clear_error(&error);
    g_option_context_free(ctx);
    dist_finalize();
    return rc;
}
