/* nn_loss.h — the losses (loss.c): softmax cross-entropy over the ab
 * bins, with class weights, and the L1 and Huber regression losses, each a
 * forward/backward pair. Part of the nn library; include nn.h for all of
 * it. */
#ifndef NN_LOSS_H
#define NN_LOSS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Per-pixel softmax cross-entropy over Q classes:
 *   loss = sum_i w[t_i] * -log softmax(logits_i)[t_i] / (N * HW)
 * with w = 1 when class_weights is NULL. Writes the probabilities (used by
 * the backward pass). Targets outside [0, Q) are an error (returns NAN). */
float nn_softmax_xent_forward(float *probs,             // (N, Q, H, W)
                              const float *logits,      // (N, Q, H, W)
                              const int32_t *targets,   // (N, H, W)
                              const float *class_weights, // (Q) or NULL
                              int N, int Q, int hw);
void nn_softmax_xent_backward(float *dlogits,            // (N, Q, H, W)
                              const float *probs,        // (N, Q, H, W)
                              const int32_t *targets,    // (N, H, W)
                              const float *class_weights, // (Q) or NULL
                              int N, int Q, int hw, float dloss);

/* Mean absolute error and mean Huber loss (PyTorch's HuberLoss, delta). */
float nn_l1_forward(const float *pred, const float *target, size_t n);
void nn_l1_backward(float *dpred, const float *pred, const float *target,
                    size_t n, float dloss);
float nn_huber_forward(const float *pred, const float *target, size_t n, float delta);
void nn_huber_backward(float *dpred, const float *pred, const float *target,
                       size_t n, float delta, float dloss);

#ifdef __cplusplus
}
#endif
#endif
