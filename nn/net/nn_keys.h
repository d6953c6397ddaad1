/* nn_keys.h — every metadata key the library itself writes into a weights
 * file and reads back (the U-Net's architecture, the colour space, the
 * input encoding, the ab bins), one home for each name, as gguf keeps one
 * list of its keys; nn/FORMAT.md lists each (the trainer test checks both
 * ways). The table is in keys.c. Part of the nn library; include nn.h for
 * all of it. */
#ifndef NN_KEYS_H
#define NN_KEYS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NN_KEY_ARCH_NAME "arch.name"
#define NN_KEY_ARCH_IN_CHANNELS "arch.in_channels"
#define NN_KEY_ARCH_BASE_WIDTH "arch.base_width"
#define NN_KEY_ARCH_DEPTH "arch.depth"
#define NN_KEY_ARCH_NUM_BINS "arch.num_bins"
#define NN_KEY_ARCH_UPSAMPLE "arch.upsample"
#define NN_KEY_ARCH_ACTIVATION "arch.activation"
#define NN_KEY_ARCH_LEAKY_SLOPE "arch.leaky_slope"
#define NN_KEY_ARCH_BN_EPS "arch.bn_eps"
#define NN_KEY_ARCH_BN_MOMENTUM "arch.bn_momentum"
#define NN_KEY_COLOR_SPACE "color.space"
#define NN_KEY_INPUT_ENCODING "input.encoding"
#define NN_KEY_AB_GRID_STEP "ab.grid_step"
#define NN_KEY_AB_GRID_MIN "ab.grid_min"
#define NN_KEY_AB_GRID_SIZE "ab.grid_size"
#define NN_KEY_AB_BINS "ab.bins"
#define NN_KEY_AB_REBALANCE_WEIGHTS "ab.rebalance_weights"
#define NN_KEY_AB_REBALANCE_LAMBDA "ab.rebalance_lambda"

/* Every key above, once. */
extern const char *const nn_keys[];
extern const size_t nn_key_count;

#ifdef __cplusplus
}
#endif
#endif
