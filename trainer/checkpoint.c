/* checkpoint.c — the training checkpoint: the run's history arrays, the
 * model's provenance metadata, writing a checkpoint (model, Adam moments,
 * progress, photo folders and split, history) and reading one back with
 * every field checked against the others and against the command line;
 * checkpoint_probe for the fuzzer and the tests. Its keys are listed in
 * nn/FORMAT.md. */
#include "checkpoint.h"

#include <glib/gstdio.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "train_options.h"

/* The history arrays (of doubles) of a run and the keys its split forced,
 * made and freed together. */
void history_new(train_run *r) {
    GArray **a[] = {&r->h_epoch, &r->h_train, &r->h_val, &r->h_psnr, &r->h_lr, &r->h_seconds,
                    &r->s_epoch, &r->s_loss, &r->s_lr};
    for (size_t i = 0; i < G_N_ELEMENTS(a); i++) *a[i] = g_array_new(FALSE, FALSE, sizeof(double));
    r->split_forced = g_array_new(FALSE, FALSE, sizeof(uint64_t));
}

void history_free(train_run *r) {
    GArray *a[] = {r->h_epoch, r->h_train, r->h_val, r->h_psnr, r->h_lr, r->h_seconds, r->s_epoch, r->s_loss, r->s_lr};
    for (size_t i = 0; i < G_N_ELEMENTS(a); i++) g_array_free(a[i], TRUE);
    g_array_free(r->split_forced, TRUE);
}

/* Halves the per-step history while it holds HISTORY_MAX_STEPS entries or
 * more: every second step's position and rate, the mean loss of each pair
 * (an odd last step kept), so that every checkpoint written loads again. */
void thin_step_history(train_run *r) {
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
nn_status model_weights(nn_weights *w, nn_unet *net, const ab_bins *bins, const train_run *r, int n_train) {
    nn_status st = nn_unet_to_weights(net, w);
    if (!st) st = nn_ab_metadata_set(w, bins->grid, bins->bins, bins->rebalance, bins->num_bins, bins->lambda);
    char date[32];
    time_t t = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    if (!st) st = nn_weights_set_str(w, TK_TRAIN_DATASET, r->images ? "photos" : "CIFAR-10 binary (data_batch_1..5)");
    char *names = folder_names(r->images), *val_names = folder_names(r->val_images), *init = folder_names(r->init);
    if (!st && r->images) st = nn_weights_set_str(w, TK_TRAIN_PHOTO_FOLDERS, names);
    if (!st && r->images) st = nn_weights_set_str(w, TK_TRAIN_VAL_PHOTO_FOLDERS, val_names);
    if (!st && r->images) st = nn_weights_set_f64(w, TK_TRAIN_VAL_FRACTION, r->val_fraction);
    if (!st && r->images) st = nn_weights_set_u32(w, TK_TRAIN_CROPS, (uint32_t)r->crops);
    if (!st && r->init) st = nn_weights_set_str(w, TK_TRAIN_INIT, init);
    g_free(names), g_free(val_names), g_free(init);
    if (!st && r->init) st = nn_weights_set_u32(w, TK_TRAIN_REBIN, (uint32_t)r->rebin);
    if (!st) st = nn_weights_set_u32(w, TK_TRAIN_IMAGES, (uint32_t)n_train);
    if (!st) st = nn_weights_set_u32(w, TK_TRAIN_VALIDATION_IMAGES, (uint32_t)r->val);
    if (!st) st = nn_weights_set_u64(w, TK_TRAIN_SEED, (uint64_t)r->seed);
    if (!st) st = nn_weights_set_u32(w, TK_TRAIN_BATCH, (uint32_t)r->batch);
    if (!st) st = nn_weights_set_f64(w, TK_TRAIN_LR, r->lr);
    if (!st) st = nn_weights_set_f64(w, TK_TRAIN_WEIGHT_DECAY, r->weight_decay);
    if (!st) st = nn_weights_set_u32(w, TK_TRAIN_EPOCHS_PLANNED, (uint32_t)r->epochs);
    if (!st) st = nn_weights_set_u32(w, TK_TRAIN_THREADS, (uint32_t)r->threads);
    if (!st) st = nn_weights_set_u32(w, TK_TRAIN_RANKS, (uint32_t)dist_size());
    if (!st) st = nn_weights_set_u32(w, TK_TRAIN_ACCUMULATE, (uint32_t)r->accumulate);
    if (!st) st = nn_weights_set_f64(w, TK_TRAIN_ZOOM_SHARE, r->zoom_share);
    if (!st) st = nn_weights_set_f64(w, TK_TRAIN_MAX_ZOOM, r->max_zoom);
    if (!st) st = nn_weights_set_f64(w, TK_TRAIN_STROKE_SHARE, r->stroke_share);
    if (!st) st = nn_weights_set_str(w, TK_TRAIN_DATE, date);
    if (!st) st = nn_weights_set_str(w, TK_TRAIN_SOFTWARE, "colorize-train " PROJECT_VERSION);
    return st;
}

/* What only a checkpoint keeps of a run on photos: its folders and --init
 * as absolute paths (to resume it from anywhere), its photo count, the
 * rule that held photos out and the photos the rule did not place (each
 * key as two u32, low half first). */
static nn_status put_paths(nn_weights *w, const train_run *r) {
    char *images = canonical_folders(r->images), *val = canonical_folders(r->val_images);
    char *init = canonical_folders(r->init);
    nn_status st = nn_weights_set_str(w, TK_CHECKPOINT_PHOTO_FOLDERS, images);
    if (!st) st = nn_weights_set_str(w, TK_CHECKPOINT_VAL_PHOTO_FOLDERS, val);
    if (!st) st = nn_weights_set_str(w, TK_CHECKPOINT_INIT, init);
    if (!st) st = nn_weights_set_u32(w, TK_CHECKPOINT_PHOTOS, (uint32_t)r->photos);
    if (!st) st = nn_weights_set_str(w, TK_CHECKPOINT_SPLIT, PHOTO_SPLIT_RULE);
    const guint nf = r->split_forced->len;
    uint32_t *halves = g_new(uint32_t, 2 * (size_t)nf + 1);
    for (guint k = 0; k < nf; k++) {
        const uint64_t key = g_array_index(r->split_forced, uint64_t, k);
        halves[2 * k] = (uint32_t)key, halves[2 * k + 1] = (uint32_t)(key >> 32);
    }
    if (!st) st = nn_weights_set_u32_array(w, TK_CHECKPOINT_SPLIT_FORCED, halves, 2 * (uint64_t)nf);
    g_free(halves);
    g_free(images), g_free(val), g_free(init);
    return st;
}

gboolean save_checkpoint(train_run *r, nn_unet *net, const ab_bins *bins, const float *m, const float *v,
                         int n_train, double seconds, GError **error) {
    nn_weights w;
    nn_weights_init(&w);
    size_t np;
    nn_unet_params(net, &np);
    nn_status st = model_weights(&w, net, bins, r, n_train);
    if (!st) st = nn_weights_add_tensor(&w, TK_OPTIMIZER_ADAM_M, 1, (uint64_t[]){np}, m);
    if (!st) st = nn_weights_add_tensor(&w, TK_OPTIMIZER_ADAM_V, 1, (uint64_t[]){np}, v);
    if (!st) st = nn_weights_set_str(&w, TK_CHECKPOINT_KIND, "colorize-train checkpoint");
    if (!st && r->images) st = put_paths(&w, r);
    if (!st) st = nn_weights_set_u32(&w, TK_CHECKPOINT_EPOCH, (uint32_t)r->epoch);
    if (!st) st = nn_weights_set_u32(&w, TK_CHECKPOINT_STEP, (uint32_t)r->step);
    if (!st) st = nn_weights_set_u64(&w, TK_CHECKPOINT_GLOBAL_STEP, (uint64_t)r->global_step);
    if (!st) st = nn_weights_set_f64(&w, TK_CHECKPOINT_BEST_VAL, r->best_val);
    if (!st) st = nn_weights_set_u32(&w, TK_CHECKPOINT_BEST_EPOCH, (uint32_t)r->best_epoch);
    if (!st) st = nn_weights_set_f64(&w, TK_CHECKPOINT_EPOCH_LOSS_SUM, r->epoch_loss_sum);
    if (!st) st = nn_weights_set_f64(&w, TK_CHECKPOINT_SECONDS, seconds);
    if (!st) st = nn_weights_set_u32(&w, TK_CHECKPOINT_WIDTH, (uint32_t)r->width);
    if (!st) st = nn_weights_set_u32(&w, TK_CHECKPOINT_LIMIT, (uint32_t)r->limit);
    if (!st) st = put_history(&w, TK_HISTORY_EPOCH, r->h_epoch);
    if (!st) st = put_history(&w, TK_HISTORY_TRAIN_LOSS, r->h_train);
    if (!st) st = put_history(&w, TK_HISTORY_VAL_LOSS, r->h_val);
    if (!st) st = put_history(&w, TK_HISTORY_VAL_PSNR, r->h_psnr);
    if (!st) st = put_history(&w, TK_HISTORY_LR, r->h_lr);
    if (!st) st = put_history(&w, TK_HISTORY_SECONDS, r->h_seconds);
    if (!st) st = put_history(&w, TK_HISTORY_STEP_EPOCH, r->s_epoch);
    if (!st) st = put_history(&w, TK_HISTORY_STEP_LOSS, r->s_loss);
    if (!st) st = put_history(&w, TK_HISTORY_STEP_LR, r->s_lr);
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
    if (r->batch < 1 || r->batch > 65536) bad = TK_TRAIN_BATCH, g_snprintf(detail, sizeof detail, "%d, outside 1..65536", r->batch);
    else if (r->width < 1 || r->width > 512) bad = TK_CHECKPOINT_WIDTH, g_snprintf(detail, sizeof detail, "%d, outside 1..512", r->width);
    else if (r->val < 1 || r->val > TRAIN_MAX_CROPS)
        bad = TK_TRAIN_VALIDATION_IMAGES, g_snprintf(detail, sizeof detail, "%d, outside 1..%d", r->val, TRAIN_MAX_CROPS);
    else if (epochs_planned < 1) bad = TK_TRAIN_EPOCHS_PLANNED, g_snprintf(detail, sizeof detail, "%d, below 1", epochs_planned);
    else if (r->best_epoch > r->epoch)
        bad = TK_CHECKPOINT_BEST_EPOCH, g_snprintf(detail, sizeof detail, "%d, after the checkpoint's epoch %d", r->best_epoch, r->epoch);
    else if (r->global_step < 0 || r->global_step > (long)MAX_GLOBAL_STEP)
        bad = TK_CHECKPOINT_GLOBAL_STEP, g_snprintf(detail, sizeof detail, "%ld, out of range", r->global_step);
    for (size_t i = 1; !bad && i < G_N_ELEMENTS(h); i++)
        if (h[i]->len != h[0]->len)
            bad = "history.*", g_snprintf(detail, sizeof detail, "arrays of different lengths (%u and %u)", h[0]->len, h[i]->len);
    if (!bad && h[0]->len > (guint)r->epoch + 1)
        bad = TK_HISTORY_EPOCH, g_snprintf(detail, sizeof detail, "%u entries for %d epochs", h[0]->len, r->epoch);
    if (!bad && (r->s_loss->len != r->s_epoch->len || r->s_lr->len != r->s_epoch->len))
        bad = "history.step_*", g_snprintf(detail, sizeof detail, "arrays of different lengths (%u, %u and %u)",
                                           r->s_epoch->len, r->s_loss->len, r->s_lr->len);
    if (!bad && r->s_epoch->len > (guint)r->global_step)
        bad = TK_HISTORY_STEP_EPOCH, g_snprintf(detail, sizeof detail, "%u entries for %ld steps", r->s_epoch->len, r->global_step);
    for (size_t i = 0; !bad && i < np; i++)
        if (!(v[i] >= 0.0f)) bad = TK_OPTIMIZER_ADAM_V, g_snprintf(detail, sizeof detail, "a negative second moment at %zu", i);
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
    if (r->older_split || !nn_weights_get(w, TK_CHECKPOINT_SPLIT_FORCED)) return TRUE;
    if (nn_weights_get_u32_array(w, TK_CHECKPOINT_SPLIT_FORCED, &halves, &count, NULL) != NN_OK || count % 2) {
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
    const char *images = meta_str(w, TK_CHECKPOINT_PHOTO_FOLDERS, TK_TRAIN_PHOTO_FOLDERS);
    const char *val_images = meta_str(w, TK_CHECKPOINT_VAL_PHOTO_FOLDERS, TK_TRAIN_VAL_PHOTO_FOLDERS);
    const char *init = meta_str(w, TK_CHECKPOINT_INIT, TK_TRAIN_INIT);
    uint32_t crops = 0, rebin = 0, photos = 0;
    nn_weights_get_u32(w, TK_TRAIN_CROPS, &crops, NULL);
    nn_weights_get_u32(w, TK_TRAIN_REBIN, &rebin, NULL);
    nn_weights_get_u32(w, TK_CHECKPOINT_PHOTOS, &photos, NULL);
    const double fraction = meta_f64(w, TK_TRAIN_VAL_FRACTION, 0.0);
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
    r->older_split = r->images && strcmp(meta_str(w, TK_CHECKPOINT_SPLIT, NULL), PHOTO_SPLIT_RULE) != 0;
    return read_split_forced(w, r, error);
}

static void read_history(const nn_weights *w, train_run *r) {
    get_history(w, TK_HISTORY_EPOCH, r->h_epoch);
    get_history(w, TK_HISTORY_TRAIN_LOSS, r->h_train);
    get_history(w, TK_HISTORY_VAL_LOSS, r->h_val);
    get_history(w, TK_HISTORY_VAL_PSNR, r->h_psnr);
    get_history(w, TK_HISTORY_LR, r->h_lr);
    get_history(w, TK_HISTORY_SECONDS, r->h_seconds);
    get_history(w, TK_HISTORY_STEP_EPOCH, r->s_epoch); /* absent in older checkpoints: curves start here */
    get_history(w, TK_HISTORY_STEP_LOSS, r->s_loss);
    get_history(w, TK_HISTORY_STEP_LR, r->s_lr);
}

/* How the checkpoint's run split its batches (absent: one rank, no
 * accumulation); this run keeps its --accumulate unless told otherwise.
 * A different split or thread count is allowed, with a note. */
static gboolean read_split(const nn_weights *w, train_run *r, int threads, GError **error) {
    uint32_t ranks = 1, accumulate = 1;
    nn_error err = {0};
    if (nn_weights_get(w, TK_TRAIN_RANKS)) nn_weights_get_u32(w, TK_TRAIN_RANKS, &ranks, &err);
    if (nn_weights_get(w, TK_TRAIN_ACCUMULATE)) nn_weights_get_u32(w, TK_TRAIN_ACCUMULATE, &accumulate, &err);
    if (err.status) {
        g_set_error(error, TRAINER_ERROR, 1, "%s", err.msg);
        return FALSE;
    }
    if (ranks < 1 || ranks > 65536 || accumulate < 1 || accumulate > 65536) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: checkpoint field '%s' is %u, outside 1..65536", r->resume,
                    ranks < 1 || ranks > 65536 ? TK_TRAIN_RANKS : TK_TRAIN_ACCUMULATE,
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
    const nn_tensor_entry *tm = nn_weights_find_tensor(w, TK_OPTIMIZER_ADAM_M);
    const nn_tensor_entry *tv = nn_weights_find_tensor(w, TK_OPTIMIZER_ADAM_V);
    const uint64_t nm = tm && tm->ndims == 1 ? tm->dims[0] : 0, nv = tv && tv->ndims == 1 ? tv->dims[0] : 0;
    *m = nm ? g_memdup2(tm->data, nm * sizeof(float)) : NULL;
    *v = nv ? g_memdup2(tv->data, nv * sizeof(float)) : NULL;
    nn_weights_remove_tensor(w, TK_OPTIMIZER_ADAM_M, NULL);
    nn_weights_remove_tensor(w, TK_OPTIMIZER_ADAM_V, NULL);
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
gboolean load_checkpoint(train_run *r, ab_bins *bins, nn_unet **net, float **m, float **v, GError **error) {
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
    if (nn_weights_get_str(&w, TK_CHECKPOINT_KIND, &kind, &err) != NN_OK) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: not a colorize-train checkpoint (a model file?)", r->resume);
        goto done;
    }
    if (!meta_u32(&w, TK_CHECKPOINT_EPOCH, &r->epoch, r->resume, error) ||
        !meta_u32(&w, TK_CHECKPOINT_STEP, &r->step, r->resume, error) ||
        !meta_u32(&w, TK_CHECKPOINT_WIDTH, &r->width, r->resume, error) ||
        !meta_u32(&w, TK_CHECKPOINT_LIMIT, &r->limit, r->resume, error) ||
        !meta_u32(&w, TK_CHECKPOINT_BEST_EPOCH, &r->best_epoch, r->resume, error) ||
        !meta_u32(&w, TK_TRAIN_BATCH, &batch, r->resume, error) ||
        !meta_u32(&w, TK_TRAIN_VALIDATION_IMAGES, &r->val, r->resume, error) ||
        !meta_u32(&w, TK_TRAIN_EPOCHS_PLANNED, &epochs_planned, r->resume, error) ||
        !meta_u32(&w, TK_TRAIN_THREADS, &threads, r->resume, error))
        goto done;
    r->batch = batch;
    if (given_val >= 0 && given_val != r->val) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: --val %d: the checkpoint's run validates on %d %s; a resumed run "
                    "keeps its validation set", r->resume, given_val, r->val,
                    nn_weights_get(&w, TK_CHECKPOINT_PHOTO_FOLDERS) ? "crops" : "images");
        goto done;
    }
    uint64_t gs = 0, sd = 0;
    double lr = meta_f64(&w, TK_TRAIN_LR, NAN), wd = meta_f64(&w, TK_TRAIN_WEIGHT_DECAY, NAN);
    if (nn_weights_get_u64(&w, TK_CHECKPOINT_GLOBAL_STEP, &gs, &err) != NN_OK ||
        nn_weights_get_u64(&w, TK_TRAIN_SEED, &sd, &err) != NN_OK || !isfinite(lr) || !isfinite(wd)) {
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
    r->zoom_share = meta_f64(&w, TK_TRAIN_ZOOM_SHARE, 0.0);
    r->max_zoom = meta_f64(&w, TK_TRAIN_MAX_ZOOM, 1.0);
    r->stroke_share = meta_f64(&w, TK_TRAIN_STROKE_SHARE, 0.0);
    if (!read_photo_fields(&w, r, error)) goto done;
    if (r->epochs <= 0) r->epochs = epochs_planned;
    if (!read_split(&w, r, threads, error)) goto done;
    r->best_val = meta_f64(&w, TK_CHECKPOINT_BEST_VAL, INFINITY);
    r->epoch_loss_sum = meta_f64(&w, TK_CHECKPOINT_EPOCH_LOSS_SUM, 0.0);
    r->seconds = meta_f64(&w, TK_CHECKPOINT_SECONDS, 0.0);
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
        if (have_bins) nn_ab_bins_free(bins);
    }
    return ok;
}

/* Temporary files of an earlier write of this checkpoint that a kill cut
 * short (CKPT.tmp-XXXXXX beside it) are removed, and the user is told. */
void remove_stale_temporaries(const char *checkpoint) {
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

gboolean checkpoint_probe(const char *path, GError **error) {
    train_run r = {.resume = (char *)path, .threads = 1, .batch = 1, .probe = TRUE};
    history_new(&r);
    ab_bins bins;
    nn_unet *net = NULL;
    float *m = NULL, *v = NULL;
    gboolean ok = load_checkpoint(&r, &bins, &net, &m, &v, error);
    if (ok) {
        nn_ab_bins_free(&bins);
        nn_unet_free(net);
        g_free(m), g_free(v);
    }
    history_free(&r);
    return ok;
}
