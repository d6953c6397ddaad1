/* train_options.h — the checks of train's command line (train_options.c),
 * each problem named. Private to the trainer. */
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

#endif
