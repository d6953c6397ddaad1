/* nn_optim.h — the optimizer: Adam and AdamW. Implemented by optim.c. Part of
 * the nn library; include nn.h for all of it. */
#ifndef NN_OPTIM_H
#define NN_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "nn_core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
    int decoupled; /* 0: Adam (L2 added to the gradient), 1: AdamW */
} nn_adam_config;

nn_adam_config nn_adam_default(float lr);
/* One step with bias correction; t counts steps from 1. Matches
 * torch.optim.Adam / AdamW. */
void nn_adam_step(float *params, const float *grads, float *m, float *v,
                  size_t n, nn_adam_config c, long t);

#ifdef __cplusplus
}
#endif
#endif
