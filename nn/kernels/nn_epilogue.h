/* nn_epilogue.h — what a kernel does to its outputs as it writes them
 * (epilogue.c): nothing, ReLU, or leaky ReLU. The convolutions apply it in
 * cache; the layers' activations are the same loops. Part of the nn
 * library; include nn.h for all of it. */
#ifndef NN_EPILOGUE_H
#define NN_EPILOGUE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a layer does to its outputs as it writes them: nothing, ReLU, or
 * leaky ReLU of the slope (a forward convolution after its bias: in
 * inference, with batch norm folded into the weights, the whole unit; batch
 * norm in training after its affine step). */
typedef enum { NN_EPILOGUE_NONE = 0, NN_EPILOGUE_RELU, NN_EPILOGUE_LEAKY_RELU } nn_epilogue_kind;
typedef struct {
    nn_epilogue_kind kind;
    float slope;
} nn_epilogue;

/* out = epilogue(in) over n floats (out may be in). */
void nn_epilogue_forward(float *out, const float *in, size_t n, nn_epilogue e);
/* x = epilogue(x) in place. */
void nn_epilogue_apply(float *x, size_t n, nn_epilogue e);

#ifdef __cplusplus
}
#endif
#endif
