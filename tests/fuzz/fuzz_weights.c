/* fuzz_weights.c — libFuzzer target: the weights loader from memory, then,
 * for what it accepts, the colorizer built from it (the architecture checked
 * against the tensors before its memory is reserved). */
#include <stddef.h>
#include <stdint.h>

#include "nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    nn_weights w;
    nn_error err = {0};
    if (nn_weights_parse(&w, data, size, "fuzz.weights", &err) != NN_OK) return 0;
    nn_colorizer *c = NULL;
    if (nn_colorizer_from_weights(&c, &w, "fuzz.weights", 2, NN_TILE_SIDE, &err) == NN_OK) nn_colorizer_free(c);
    nn_weights_free(&w);
    return 0;
}
