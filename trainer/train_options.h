/* train_options.h — the checks of train's command line (train_options.c),
 * each problem named, and how a step's batch splits over ranks and
 * micro-batches. Private to the trainer. */
#ifndef TRAIN_OPTIONS_H
#define TRAIN_OPTIONS_H

#include "train.h"

/* Options that do not go together, as a message (NULL: none). */
const char *train_options_conflict(const train_run *r);
/* Every number within its range (each option out of range named). */
gboolean train_options_in_range(const train_run *r, int epochs);
/* The defaults of a new run, then every output checked before any work,
 * so that none fails after hours of training (all ranks agree). */
gboolean train_outputs_ok(train_run *r, GError **error);
/* The images one forward pass takes: a step's batch is split over the
 * ranks, and on each rank into --accumulate micro-batches. */
int micro_batch(const train_run *r);
/* Whether the batch (`source` names where it came from) splits so; an
 * error naming the numbers when not. */
gboolean batch_split_ok(const train_run *r, const char *source, GError **error);

#endif
