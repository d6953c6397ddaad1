/* checkpoint.h — (checkpoint.c) the training checkpoint, a weights file (nn/FORMAT.md)
 * with the model, the Adam moments, the run's hyperparameters, progress,
 * photo split and history: written atomically, read back with every field
 * checked, and the run's history arrays it carries. */
#ifndef CHECKPOINT_H
#define CHECKPOINT_H

#include "train.h"

/* The history arrays (of doubles) of a run and the keys its split forced,
 * made and freed together. */
void history_new(train_run *r);
void history_free(train_run *r);
/* Halves the per-step history while it is at HISTORY_MAX_STEPS or more. */
void thin_step_history(train_run *r);

/* The model, its ab bins and the provenance metadata, into w (the model
 * file holds these; a checkpoint adds its own fields). */
nn_status model_weights(nn_weights *w, nn_unet *net, const ab_bins *bins, const train_run *r, int n_train);
/* Writes r->checkpoint atomically: the model, the moments m and v, the
 * progress and the history. */
gboolean save_checkpoint(train_run *r, nn_unet *net, const ab_bins *bins, const float *m, const float *v,
                         int n_train, double seconds, GError **error);
/* Reads r->resume into r (hyperparameters and progress), bins, the model
 * and the Adam moments (allocated here); on failure nothing is kept. */
gboolean load_checkpoint(train_run *r, ab_bins *bins, nn_unet **net, float **m, float **v, GError **error);
/* Removes (and names) what an interrupted write of this checkpoint left. */
void remove_stale_temporaries(const char *checkpoint);

#endif
