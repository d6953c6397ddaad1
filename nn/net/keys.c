/* keys.c — the table of the library's own weights-file keys (nn_keys.h). */
#include "nn_keys.h"

const char *const nn_keys[] = {
    NN_KEY_ARCH_NAME,
    NN_KEY_ARCH_IN_CHANNELS,
    NN_KEY_ARCH_BASE_WIDTH,
    NN_KEY_ARCH_DEPTH,
    NN_KEY_ARCH_NUM_BINS,
    NN_KEY_ARCH_UPSAMPLE,
    NN_KEY_ARCH_ACTIVATION,
    NN_KEY_ARCH_LEAKY_SLOPE,
    NN_KEY_ARCH_BN_EPS,
    NN_KEY_ARCH_BN_MOMENTUM,
    NN_KEY_COLOR_SPACE,
    NN_KEY_INPUT_ENCODING,
    NN_KEY_AB_GRID_STEP,
    NN_KEY_AB_GRID_MIN,
    NN_KEY_AB_GRID_SIZE,
    NN_KEY_AB_BINS,
    NN_KEY_AB_REBALANCE_WEIGHTS,
    NN_KEY_AB_REBALANCE_LAMBDA,
};
const size_t nn_key_count = sizeof nn_keys / sizeof nn_keys[0];
