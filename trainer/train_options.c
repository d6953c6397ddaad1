/* train_options.c — train's command line checked before any work
 * (train_options.h): options that exclude each other, numbers out of
 * range, a new run's defaults, every output writable, and the batch's split
 * over ranks and micro-batches. */
#include "train_options.h"

/* Options that do not go together, as a message (NULL: none). */
const char *train_options_conflict(const train_run *r) {
    return !r->out ? "--out FILE is required"
           : r->data && r->images ? "--data and --images exclude each other"
           : !r->data && !r->images && !r->resume ? "--data DIR (CIFAR-10) or --images DIR (photos) is required"
           : (r->val_images || r->crops >= 0 || r->val_fraction >= 0) && !r->images && !r->resume
               ? "--val-images, --crops and --val-fraction go with --images"
           : r->rebin && !r->init ? "--rebin goes with --init"
           : r->init && r->resume ? "--init starts a run; a resumed run has its model"
           : r->width && (r->init || r->resume) ? "--width goes with a new model: --init and --resume keep their model's width"
           : NULL;
}

/* Every number within its range (each option out of range named). */
gboolean train_options_in_range(const train_run *r, int epochs) {
    const char *cmd = "train";
    return (epochs == -1 || option_int_ok(cmd, "--epochs", epochs, 1, 100000)) &&
           option_int_ok(cmd, "--batch", r->batch, 1, 4096) && option_int_ok(cmd, "--accumulate", r->accumulate, 0, 4096) &&
           option_double_ok(cmd, "--lr", r->lr, 1e-9, 0.999) &&
           (!r->width || option_int_ok(cmd, "--width", r->width, 1, 256)) &&
           option_int_ok(cmd, "--log-every", r->log_every, 1, 1 << 30) &&
           option_double_ok(cmd, "--lambda", r->lambda, 0, 1) &&
           option_double_ok(cmd, "--zoom-share", r->zoom_share, 0, 1) &&
           option_double_ok(cmd, "--max-zoom", r->max_zoom, 1, 8) &&
           option_double_ok(cmd, "--stroke-share", r->stroke_share, 0, 1) &&
           option_double_ok(cmd, "--weight-decay", r->weight_decay, 0, 1) &&
           option_int_ok(cmd, "--limit", r->limit, 0, 1 << 30) &&
           option_int_ok(cmd, "--max-steps", r->max_steps, 0, (long)MAX_GLOBAL_STEP) &&
           option_int_ok(cmd, "--threads", r->threads, 0, 1024) &&
           (r->crops < 0 || option_int_ok(cmd, "--crops", r->crops, 64, TRAIN_MAX_CROPS)) &&
           (r->val_fraction < 0 || option_double_ok(cmd, "--val-fraction", r->val_fraction, 0.01, 0.9)) &&
           (r->val == -1 || option_int_ok(cmd, "--val", r->val, 1, TRAIN_MAX_CROPS));
}

/* The defaults of a new run, then every output checked before any work,
 * so that none fails after hours of training. */
gboolean train_outputs_ok(train_run *r, GError **error) {
    if (!r->resume && r->crops < 0) r->crops = IMAGES_CROPS_PER_EPOCH;
    if (!r->width) r->width = DEFAULT_WIDTH; /* --init and --resume replace it with their model's */
    if (r->images && !r->resume && r->batch > r->crops) {
        g_printerr("colorize-train train: --batch %d is more than --crops %d: an epoch would have no step\n", r->batch,
                   r->crops);
        return FALSE;
    }
    if (!r->resume && r->val_fraction < 0) r->val_fraction = IMAGES_VAL_FRACTION;
    if (!r->checkpoint) r->checkpoint = g_strconcat(r->out, ".ckpt", NULL); /* freed as the options are */
    if (dist_rank() == 0 && (!output_file_ok(r->out, "the model", error) ||
                             !output_file_ok(r->checkpoint, "the checkpoint", error) ||
                             !output_dir_ok(r->log_dir, "log folder", error)))
        g_printerr("colorize-train train: %s\n", (*error)->message);
    return dist_root_ok(*error == NULL);
}

int micro_batch(const train_run *r) { return r->batch / (dist_size() * r->accumulate); }

gboolean batch_split_ok(const train_run *r, const char *source, GError **error) {
    if (r->batch % (dist_size() * r->accumulate) == 0) return TRUE;
    g_set_error(error, TRAINER_ERROR, 1, "%s %d does not split into %d rank(s) × %d micro-batch(es) "
                "(--accumulate): choose a number of ranks and --accumulate whose product divides it", source,
                r->batch, dist_size(), r->accumulate);
    return FALSE;
}
