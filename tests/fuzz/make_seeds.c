/* make_seeds.c — writes the small seed corpora of the fuzz targets into
 * tests/fuzz/corpus/<target>/ (committed; run again only when the formats
 * change): a tiny valid weights file, a tiny checkpoint, a short CIFAR-like
 * batch, small PNGs, engine inputs, photo caches and point-hint lists. Usage: make_seeds CORPUS_DIR */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_cache.h"
#include "nn.h"

static void save_bytes(const char *dir, const char *target, const char *name, const void *p, size_t n) {
    char *d = g_build_filename(dir, target, NULL), *path = g_build_filename(d, name, NULL);
    g_mkdir_with_parents(d, 0755);
    if (!g_file_set_contents(path, p, (gssize)n, NULL)) fprintf(stderr, "cannot write %s\n", path), exit(1);
    g_free(d), g_free(path);
}

static void save_weights(const char *dir, const char *target, const char *name, const nn_weights *w) {
    char *tmp = g_build_filename(g_get_tmp_dir(), "colorize-seed.weights", NULL);
    nn_error err = {0};
    if (nn_weights_save(w, tmp, &err) != NN_OK) fprintf(stderr, "%s\n", err.msg), exit(1);
    gchar *bytes;
    gsize n;
    g_file_get_contents(tmp, &bytes, &n, NULL);
    save_bytes(dir, target, name, bytes, n);
    g_unlink(tmp);
    g_free(bytes), g_free(tmp);
}

/* Photo caches for fuzz_cache.h's listing: all usable, and one of each status. */
static void save_cache_seeds(const char *dir) {
    const uint32_t sizes[2][FUZZ_CACHE_PHOTOS][3] = {{{16, 12, 0}, {5, 16, 0}, {1, 1, 0}}, {{16, 9, 0}, {0, 0, 1}, {0, 0, 2}}};
    const char *names[2] = {"usable.cache", "statuses.cache"};
    for (int k = 0; k < 2; k++) {
        GByteArray *b = g_byte_array_new();
        uint32_t side = FUZZ_CACHE_SIDE, count = FUZZ_CACHE_PHOTOS;
        size_t pixels = 0;
        g_byte_array_append(b, (const guint8 *)PHOTO_CACHE_MAGIC, 8);
        g_byte_array_append(b, (const guint8 *)&side, 4), g_byte_array_append(b, (const guint8 *)&count, 4);
        for (int i = 0; i < FUZZ_CACHE_PHOTOS; i++) {
            const found_photo *p = &FUZZ_CACHE_LISTING[i];
            uint32_t len = (uint32_t)strlen(p->path);
            int64_t size = p->size, mtime = p->mtime_ns;
            g_byte_array_append(b, (const guint8 *)&len, 4), g_byte_array_append(b, (const guint8 *)p->path, len);
            g_byte_array_append(b, (const guint8 *)&size, 8), g_byte_array_append(b, (const guint8 *)&mtime, 8);
            g_byte_array_append(b, (const guint8 *)sizes[k][i], 12);
            if (sizes[k][i][2] == 0) pixels += (size_t)sizes[k][i][0] * sizes[k][i][1] * 3;
        }
        for (size_t i = 0; i < pixels; i++) g_byte_array_append(b, (const guint8 *)"\x80", 1);
        save_bytes(dir, "cache", names[k], b->data, b->len);
        g_byte_array_unref(b);
    }
}

/* Point hints as text: good lists, bad items of each kind, a long one. */
static void save_point_seeds(const char *dir) {
    const char *seeds[] = {"10,20,#ff0000; 3.5 , 4 ,#00Fa0b;;", "5,5,#102030;-1,2,#000000;6,6,#405060",
                           "1,2,red;1,,#000000;1e3,2,#000000;1,2,#000000,5", "1,2,#\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"};
    for (size_t i = 0; i < G_N_ELEMENTS(seeds); i++) {
        char name[16];
        g_snprintf(name, sizeof name, "seed-%zu.txt", i);
        save_bytes(dir, "points", name, seeds[i], strlen(seeds[i]));
    }
}

int main(int argc, char **argv) {
    if (argc != 2) return fprintf(stderr, "usage: make_seeds CORPUS_DIR\n"), 2;
    const char *dir = argv[1];
    nn_unet_config cfg = nn_unet_default_config(4);
    cfg.base_width = 2, cfg.depth = 2;
    nn_unet *net = NULL;
    nn_error err = {0};
    if (nn_unet_create(&net, &cfg, 1, 32, 32, &err) != NN_OK) return fprintf(stderr, "%s\n", err.msg), 1;
    nn_unet_init(net, 3);
    nn_weights w;
    nn_weights_init(&w);
    uint32_t bins[4] = {100, 200, 300, 400};
    float reb[4] = {1, 2, 0.5f, 1};
    nn_unet_to_weights(net, &w);
    nn_ab_metadata_set(&w, nn_ab_grid_default(), bins, reb, 4, 0.5f);
    save_weights(dir, "weights", "tiny.weights", &w);
    /* a checkpoint: the model plus the keys `train --resume` reads */
    size_t np;
    nn_unet_params(net, &np);
    float *moments = calloc(np, sizeof(float)), hist[2] = {1, 2};
    nn_weights_add_tensor(&w, "optimizer.adam_m", 1, (uint64_t[]){np}, moments);
    nn_weights_add_tensor(&w, "optimizer.adam_v", 1, (uint64_t[]){np}, moments);
    nn_weights_set_str(&w, "checkpoint.kind", "colorize-train checkpoint");
    const char *u32s[] = {"checkpoint.epoch", "checkpoint.step", "checkpoint.limit", "checkpoint.best_epoch"};
    for (size_t i = 0; i < G_N_ELEMENTS(u32s); i++) nn_weights_set_u32(&w, u32s[i], i == 0 ? 2 : 1);
    nn_weights_set_u32(&w, "checkpoint.width", 2);
    nn_weights_set_u32(&w, "train.batch", 4);
    nn_weights_set_u32(&w, "train.validation_images", 8);
    nn_weights_set_u32(&w, "train.epochs_planned", 3);
    nn_weights_set_u32(&w, "train.threads", 1);
    nn_weights_set_u64(&w, "checkpoint.global_step", 9);
    nn_weights_set_u64(&w, "train.seed", 1);
    nn_weights_set_f64(&w, "train.lr", 1e-3);
    nn_weights_set_f64(&w, "train.weight_decay", 0);
    const char *hs[] = {"history.epoch", "history.train_loss", "history.val_loss", "history.val_psnr", "history.lr",
                        "history.seconds"};
    for (size_t i = 0; i < G_N_ELEMENTS(hs); i++) nn_weights_set_f32_array(&w, hs[i], hist, 2);
    save_weights(dir, "checkpoint", "tiny.ckpt", &w);
    nn_weights_free(&w), nn_unet_free(net), free(moments);
    /* CIFAR: two records of a label byte and 3072 pixel bytes (a real batch has 10,000) */
    guchar rec[2 * 3073];
    for (size_t i = 0; i < sizeof rec; i++) rec[i] = (guchar)(i % 3073 == 0 ? i / 3073 : i * 7);
    save_bytes(dir, "cifar", "two-records.bin", rec, sizeof rec);
    /* PNGs: RGB and RGBA */
    for (int alpha = 0; alpha < 2; alpha++) {
        GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, alpha, 8, 5, 4);
        gdk_pixbuf_fill(pb, alpha ? 0xc0402080 : 0x406080ff);
        gchar *png;
        gsize n;
        gdk_pixbuf_save_to_buffer(pb, &png, &n, "png", NULL, NULL);
        save_bytes(dir, "png", alpha ? "rgba.png" : "rgb.png", png, n);
        g_free(png), g_object_unref(pb);
    }
    /* engine inputs: sizes, parameters, then pixels */
    guchar e1[64], e2[300];
    for (size_t i = 0; i < sizeof e1; i++) e1[i] = (guchar)(i * 37);
    for (size_t i = 0; i < sizeof e2; i++) e2[i] = (guchar)(i * 11 + (i > 5 ? 90 : 0));
    save_bytes(dir, "engine", "small.bin", e1, sizeof e1);
    save_bytes(dir, "engine", "hints.bin", e2, sizeof e2);
    save_cache_seeds(dir);
    save_point_seeds(dir);
    return 0;
}
