/* fuzz_checkpoint.c — libFuzzer target: the checkpoint reader of
 * `colorize-train train --resume` (the weights loader, then every
 * checkpoint field checked against the others and the model). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_file.h"
#include "trainer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *path = fuzz_file_write("fuzz.ckpt", data, size);
    if (!path) return 0;
    GError *error = NULL;
    checkpoint_probe(path, &error);
    g_clear_error(&error);
    fuzz_file_done(path);
    return 0;
}
