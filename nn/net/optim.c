/* optim.c — Adam and AdamW with bias correction, as torch.optim. */
#include "nn_optim.h"

#include <math.h>

nn_adam_config nn_adam_default(float lr) {
    return (nn_adam_config){lr, 0.9f, 0.999f, 1e-8f, 0.0f, 0};
}

void nn_adam_step(float *params, const float *grads, float *m, float *v, size_t n,
                  nn_adam_config c, long t) {
    const float bc1 = 1.0f - powf(c.beta1, (float)t);
    const float bc2_sqrt = sqrtf(1.0f - powf(c.beta2, (float)t));
    const float step = c.lr / bc1;
    for (size_t i = 0; i < n; i++) {
        float g = grads[i];
        if (c.weight_decay != 0.0f) {
            if (c.decoupled) params[i] *= 1.0f - c.lr * c.weight_decay;
            else g += c.weight_decay * params[i];
        }
        m[i] = c.beta1 * m[i] + (1.0f - c.beta1) * g;
        v[i] = c.beta2 * v[i] + (1.0f - c.beta2) * g * g;
        params[i] -= step * m[i] / (sqrtf(v[i]) / bc2_sqrt + c.eps);
    }
}
