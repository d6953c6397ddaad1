/* train.h — what the training command (train.c), its option checks
 * (train_options.c) and its checkpoint format (checkpoint.c) share: a
 * run's options and progress. Private to the trainer. */
#ifndef TRAIN_H
#define TRAIN_H

#include "trainer.h"

/* A new model's base width (--width). */
#define DEFAULT_WIDTH 32
/* The most steps a run may take (--max-steps, a checkpoint's global step). */
#define MAX_GLOBAL_STEP (UINT64_C(1) << 40)
/* The rule that holds photos out for validation (a checkpoint's
 * "checkpoint.split"): by each photo's path inside its folder. */
#define PHOTO_SPLIT_RULE "path-hash"

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

#endif
