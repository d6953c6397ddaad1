/* nn_unet_io.h — the U-Net to and from the weights file (unet_io.c; the
 * keys are listed in nn/FORMAT.md). Part of the nn library; include nn.h
 * for all of it. */
#ifndef NN_UNET_IO_H
#define NN_UNET_IO_H

#include "nn_unet.h"
#include "nn_weights.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Model <-> weights file. Tensors are named "<unit>.conv.weight",
 * "<unit>.conv.bias", "<unit>.bn.weight", "<unit>.bn.bias",
 * "<unit>.bn.running_mean", "<unit>.bn.running_var"; the architecture goes
 * into "arch.*" metadata. */
nn_status nn_unet_to_weights(nn_unet *m, nn_weights *w);
nn_status nn_unet_config_from_weights(const nn_weights *w, nn_unet_config *cfg,
                                      const char *name, nn_error *err);
/* Checks, before anything is allocated for it, that w holds exactly the
 * tensors of the architecture cfg with their shapes (`name` in messages). */
nn_status nn_unet_check_weights(const nn_unet_config *cfg, const nn_weights *w, const char *name,
                                nn_error *err);
/* Copies the tensors of w into m, checking names and shapes against m's
 * architecture (`name` is used in messages). */
nn_status nn_unet_load_weights(nn_unet *m, const nn_weights *w, const char *name,
                               nn_error *err);

#ifdef __cplusplus
}
#endif
#endif
