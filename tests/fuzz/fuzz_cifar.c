/* fuzz_cifar.c — libFuzzer target: the CIFAR-10 batch reader on one file
 * of arbitrary bytes (its size, record and label checks). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_file.h"
#include "trainer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *path = fuzz_file_write("data_batch_1.bin", data, size);
    if (!path) return 0;
    char *dir = g_path_get_dirname(path);
    const char *files[] = {"data_batch_1.bin"};
    cifar_set set;
    GError *error = NULL;
    if (cifar_load(&set, dir, files, 1, &error)) cifar_free(&set);
    g_clear_error(&error);
    g_free(dir);
    fuzz_file_done(path);
    return 0;
}
