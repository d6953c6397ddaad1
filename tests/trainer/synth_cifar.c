/* synth_cifar.c — a synthetic CIFAR-10 binary data set for the trainer's
 * tests: learnable colour scenes in the official file layout. */
#include <glib.h>
#include <stdio.h>

#include "synth_cifar.h"
#include "testlib.h"
#include "trainer.h"

/* Synthetic scenes with learnable colour: a sky whose blue follows the row,
 * green ground, and a red or yellow disc whose brightness tells which. */
static void synth_record(uint8_t *rec, int label, nn_rng *rng) {
    rec[0] = (uint8_t)label;
    int horizon = 12 + (int)nn_rng_below(rng, 10), cx = 6 + (int)nn_rng_below(rng, 20), cy = 6 + (int)nn_rng_below(rng, 20);
    int rad = 3 + (int)nn_rng_below(rng, 5), red = label % 2;
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 32; x++) {
            int r, g, b;
            if ((x - cx) * (x - cx) + (y - cy) * (y - cy) < rad * rad) r = red ? 200 : 230, g = red ? 30 : 210, b = 30;
            else if (y < horizon) r = 90 + 2 * y, g = 140 + 2 * y, b = 230;
            else r = 50, g = 120 + (y - horizon) * 2, b = 40;
            int noise = (int)nn_rng_below(rng, 9) - 4;
            int p = y * 32 + x;
            rec[1 + p] = (uint8_t)CLAMP(r + noise, 0, 255);
            rec[1 + 1024 + p] = (uint8_t)CLAMP(g + noise, 0, 255);
            rec[1 + 2048 + p] = (uint8_t)CLAMP(b + noise, 0, 255);
        }
}

static void write_batch(const char *path, int records, uint64_t seed) {
    FILE *f = fopen(path, "wb");
    nn_rng rng;
    nn_rng_seed(&rng, seed);
    uint8_t rec[CIFAR_RECORD];
    int written = 0;
    for (int i = 0; i < records; i++) {
        synth_record(rec, i % 10, &rng);
        written += fwrite(rec, 1, sizeof rec, f) == sizeof rec;
    }
    CHECK(fclose(f) == 0 && written == records, "%s: short write", path);
}

char *synth_cifar_dataset(void) {
    char *dir = g_dir_make_tmp("colorize-cifar-XXXXXX", NULL);
    const char *names[6] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                            "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};
    for (int i = 0; i < 6; i++) {
        char *p = g_build_filename(dir, names[i], NULL);
        write_batch(p, CIFAR_RECORDS_PER_FILE, 100 + i);
        g_free(p);
    }
    return dir;
}
