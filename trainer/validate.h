/* validate.h — the end of a training epoch: validation, sample grids and
 * the run's logs (validate.c). Private to the trainer. */
#ifndef VALIDATE_H
#define VALIDATE_H

#include "train.h"

typedef struct {
    double loss, psnr;
} val_result;

/* Validation loss with simulated hints (a fixed seed, so epochs compare)
 * and PSNR of the plain-mean prediction without hints. */
gboolean validate(nn_unet *net, const lab_set *val, const ab_bins *bins, int batch, uint64_t seed,
                  val_result *out, GError **error);
/* One grid per epoch in dir: gray, prediction without hints, with 5 hints,
 * truth. */
gboolean write_samples(nn_unet *net, const lab_set *val, const ab_bins *bins, const char *dir, int epoch,
                       uint64_t seed, int capacity, GError **error);
/* The run's history as CSV and plots in r->log_dir. */
void write_logs(const train_run *r);

#endif
