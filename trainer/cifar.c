/* cifar.c — reads CIFAR-10 binary batches (official layout: per record one
 * label byte, then 1,024 red, green and blue bytes) and validates them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "trainer.h"

G_DEFINE_QUARK(colorize-train-error-quark, trainer_error)

const char *const CIFAR_CLASS_NAMES[CIFAR_CLASSES] = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

static gboolean load_file(const char *path, uint8_t *labels, uint8_t *rgb, GError **error) {
    struct stat st;
    if (stat(path, &st) != 0) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: cannot open: %s", path, strerror(errno));
        return FALSE;
    }
    if (!S_ISREG(st.st_mode)) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: not a regular file", path);
        return FALSE;
    }
    long long size = (long long)st.st_size;
    if (size % CIFAR_RECORD != 0) {
        g_set_error(error, TRAINER_ERROR, 1,
                    "%s: %lld bytes is not a whole number of %d-byte records: truncated, or not "
                    "a CIFAR-10 binary batch (the Python and MATLAB versions are not supported)",
                    path, size, CIFAR_RECORD);
        return FALSE;
    }
    if (size / CIFAR_RECORD != CIFAR_RECORDS_PER_FILE) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: holds %lld records, a CIFAR-10 batch holds %d",
                    path, size / CIFAR_RECORD, CIFAR_RECORDS_PER_FILE);
        return FALSE;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: cannot open: %s", path, strerror(errno));
        return FALSE;
    }
    uint8_t rec[CIFAR_RECORD];
    for (int i = 0; i < CIFAR_RECORDS_PER_FILE; i++) {
        if (fread(rec, 1, CIFAR_RECORD, f) != CIFAR_RECORD) {
            g_set_error(error, TRAINER_ERROR, 1, "%s: read failed at record %d: %s", path, i,
                        ferror(f) ? strerror(errno) : "unexpected end of file");
            fclose(f);
            return FALSE;
        }
        if (rec[0] >= CIFAR_CLASSES) {
            g_set_error(error, TRAINER_ERROR, 1,
                        "%s: record %d has label %d, outside 0-9: not a CIFAR-10 batch "
                        "(CIFAR-100 files have two label bytes)",
                        path, i, rec[0]);
            fclose(f);
            return FALSE;
        }
        labels[i] = rec[0];
        uint8_t *dst = rgb + (size_t)i * CIFAR_PIXELS * 3;
        for (int p = 0; p < CIFAR_PIXELS; p++) {
            dst[3 * p] = rec[1 + p];
            dst[3 * p + 1] = rec[1 + CIFAR_PIXELS + p];
            dst[3 * p + 2] = rec[1 + 2 * CIFAR_PIXELS + p];
        }
    }
    fclose(f);
    return TRUE;
}

gboolean cifar_load(cifar_set *set, const char *dir, const char *const *files, int nfiles,
                    GError **error) {
    memset(set, 0, sizeof *set);
    set->n = nfiles * CIFAR_RECORDS_PER_FILE;
    set->labels = g_malloc((size_t)set->n);
    set->rgb = g_malloc((size_t)set->n * CIFAR_PIXELS * 3);
    for (int i = 0; i < nfiles; i++) {
        char *path = g_build_filename(dir, files[i], NULL);
        gboolean ok = load_file(path, set->labels + (size_t)i * CIFAR_RECORDS_PER_FILE,
                                set->rgb + (size_t)i * CIFAR_RECORDS_PER_FILE * CIFAR_PIXELS * 3, error);
        g_free(path);
        if (!ok) {
            cifar_free(set);
            return FALSE;
        }
    }
    return TRUE;
}

gboolean cifar_load_train(cifar_set *set, const char *dir, GError **error) {
    static const char *const files[] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                        "data_batch_4.bin", "data_batch_5.bin"};
    return cifar_load(set, dir, files, 5, error);
}

gboolean cifar_load_test(cifar_set *set, const char *dir, GError **error) {
    static const char *const files[] = {"test_batch.bin"};
    return cifar_load(set, dir, files, 1, error);
}

void cifar_free(cifar_set *set) {
    g_free(set->labels);
    g_free(set->rgb);
    memset(set, 0, sizeof *set);
}
