/* train.c — `colorize-train train`: trains the U-Net colorizer on CIFAR-10
 * in CIE Lab with simulated hints and class-rebalanced cross-entropy, keeps
 * the best model by validation loss, writes atomic checkpoints every epoch
 * and on SIGINT/SIGTERM (the format: checkpoint.c), and resumes exactly
 * where a run stopped. */
#include "train.h"

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

#include "checkpoint.h"
#include "validate.h"
#include "train_options.h"

G_STATIC_ASSERT(HISTORY_MAX_STEPS <= NN_META_MAX_ARRAY);
/* What one training or validation crop takes in memory: RGB, label, Lab planes. */
#define CROP_BYTES (CIFAR_PIXELS * 3 + 1 + sizeof(float) * 3 * CIFAR_PIXELS)

static volatile sig_atomic_t g_stop_signal;

static void on_signal(int sig) { g_stop_signal = sig; }

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int steps_per_epoch(const train_run *r, int n_train) { return n_train / r->batch; }

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

/* What survives a failure: the checkpoint, if one has been written. */
static const char *intact_checkpoint(const train_run *r) {
    static char text[1200];
    if (g_file_test(r->checkpoint, G_FILE_TEST_IS_REGULAR))
        g_snprintf(text, sizeof text, "the last checkpoint (%s) is intact", r->checkpoint);
    else g_snprintf(text, sizeof text, "no checkpoint was written yet");
    return text;
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
    nn_ab_bins_free(&ts->bins);
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
    if (nn_weights_get(&w, TK_CHECKPOINT_KIND)) {
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
    nn_ab_bins_free(&model_bins);
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
                    r->step > ts->spe ? TK_CHECKPOINT_STEP : TK_CHECKPOINT_EPOCH, r->step > ts->spe ? r->step : r->epoch,
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
    if (!st) st = nn_weights_set_u32(&w, TK_TRAIN_EPOCHS, (uint32_t)r->best_epoch);
    if (!st) st = nn_weights_set_f32(&w, TK_TRAIN_VALIDATION_LOSS, (float)vr->loss);
    if (!st) st = nn_weights_set_f32(&w, TK_TRAIN_VALIDATION_PSNR, (float)vr->psnr);
    if (!st) st = nn_weights_set_f64(&w, TK_TRAIN_SECONDS, seconds);
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

/* Trains, each rank reporting its own failure; 0, 1 (failed) or 130
 * (stopped by a signal, with a checkpoint). */
static int train_and_report(train_run *r, GError **error) {
    int rc = 0;
    if (!r->resume && r->accumulate == 0) r->accumulate = 1;
    /* ranks on one machine share its cores */
    if (r->threads == 0 && dist_local_size() > 1) r->threads = MAX(1, (int)g_get_num_processors() / dist_local_size());
    nn_set_threads(r->threads);
    r->threads = nn_get_threads();
    history_new(r);
    if (!train(r, error)) {
        if (dist_rank() > 0 && !g_error_matches(*error, TRAINER_ERROR, TRAINER_FOLLOWED_ROOT))
            fprintf(stderr, "colorize-train train (rank %d of %d): %s\n", dist_rank(), dist_size(), (*error)->message);
        else if (dist_rank() == 0 && !g_error_matches(*error, TRAINER_ERROR, TRAINER_FOLLOWED_ROOT))
            g_printerr("colorize-train train: %s\n", *error ? (*error)->message : "failed");
        rc = 1;
    } else if (r->stop || g_stop_signal) {
        rc = 130;
    }
    history_free(r);
    return rc;
}

int command_train(int argc, char **argv) {
    train_run r = {.epochs = 0, .batch = 64, .threads = 0, .width = 0, .log_every = 50, .val = -1,
                   .lr = 1e-3, .lambda = NN_DEFAULT_REBALANCE_LAMBDA, .seed = 1, .zoom_share = TRAIN_ZOOM_SHARE,
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
        {"lambda", 0, 0, G_OPTION_ARG_DOUBLE, &r.lambda, "Rebalancing: uniform mixing weight (default " G_STRINGIFY(NN_DEFAULT_REBALANCE_LAMBDA) ")", "X"},
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
    const char *bad = argc > 1 ? "unexpected arguments (see --help)" : train_options_conflict(&r);
    if (bad) {
        if (dist_rank() == 0) g_printerr("colorize-train train: %s\n", bad);
        rc = 2;
        goto out;
    }
    if (r.val < 0 && !r.resume) r.val = r.images ? IMAGES_VAL_CROPS : CIFAR_VALIDATION_IMAGES; /* or the checkpoint's */
    if (!train_options_in_range(&r, epochs) || !train_outputs_ok(&r, &error)) {
        rc = 2;
        goto out;
    }
    rc = train_and_report(&r, &error);
out:
    g_free(r.data), g_free(r.out), g_free(r.checkpoint), g_free(r.resume), g_free(r.log_dir);
    g_free(r.images), g_free(r.val_images), g_free(r.init);
    g_clear_error(&error);
    g_option_context_free(ctx);
    dist_finalize();
    return rc;
}
