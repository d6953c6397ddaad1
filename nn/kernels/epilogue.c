/* epilogue.c — the activation a kernel applies to its outputs as it writes
 * them (nn_epilogue.h); the layers' ReLU and leaky ReLU forward passes are
 * these loops. */
#include "nn_epilogue.h"

void nn_epilogue_forward(float *out, const float *in, size_t n, nn_epilogue e) {
    if (e.kind == NN_EPILOGUE_RELU) {
        for (size_t i = 0; i < n; i++) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
    } else if (e.kind == NN_EPILOGUE_LEAKY_RELU) {
        for (size_t i = 0; i < n; i++) out[i] = in[i] > 0.0f ? in[i] : e.slope * in[i];
    } else if (out != in) {
        for (size_t i = 0; i < n; i++) out[i] = in[i];
    }
}

void nn_epilogue_apply(float *x, size_t n, nn_epilogue e) { nn_epilogue_forward(x, x, n, e); }
