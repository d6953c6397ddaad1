/* images.c — training on the user's own photos (train --images): every
 * photo of the folders (recursively, PNG, JPEG and what else gdk-pixbuf
 * reads by name) is decoded once, scaled to at most IMAGES_MAX_SIDE on its
 * long side and kept as 8-bit RGB in a cache file beside the checkpoint;
 * later runs read the cache while the photos are unchanged. Training
 * samples are crops at random places and scales, from 32 pixels of the
 * cached photo (detail, as the tiled pass sees it) to its whole short side
 * (the scene, as the scene pass sees it), area-averaged to 32×32. */
#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trainer.h"

#define CACHE_MAGIC "CTIMGS01"
/* A photo whose mean chroma is below this is gray: no colour to learn. */
#define IMAGES_MIN_MEAN_CHROMA 2.0
/* Photos in one cache, and the longest path it records. */
#define IMAGES_MAX_COUNT 1000000
#define IMAGES_MAX_PATH 4096

enum { PHOTO_OK = 0, PHOTO_UNREADABLE = 1, PHOTO_GRAY = 2 };

/* One file as listed: path, size and time, to know when the cache holds it. */
typedef struct {
    char *path;
    gint64 size, mtime;
    int w, h, status;
} photo_entry;

static int compare_entries(gconstpointer a, gconstpointer b) {
    return strcmp(((const photo_entry *)a)->path, ((const photo_entry *)b)->path);
}

/* The image files under dir, recursively, into entries. */
static gboolean list_dir(const char *dir, GArray *entries, GError **error) {
    GDir *d = g_dir_open(dir, 0, error);
    if (!d) return FALSE;
    const char *name;
    gboolean ok = TRUE;
    while (ok && (name = g_dir_read_name(d))) {
        char *path = g_build_filename(dir, name, NULL);
        GStatBuf st;
        if (g_stat(path, &st) != 0) {
            g_free(path);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            ok = list_dir(path, entries, error);
            g_free(path);
        } else if (is_image_name(name) && strlen(path) < IMAGES_MAX_PATH) {
            photo_entry e = {path, (gint64)st.st_size, (gint64)st.st_mtime, 0, 0, PHOTO_OK};
            g_array_append_val(entries, e);
        } else {
            g_free(path);
        }
    }
    g_dir_close(d);
    return ok;
}

/* The photos of a comma-separated list of folders, sorted by path. */
static GArray *list_photos(const char *dirs, GError **error) {
    GArray *entries = g_array_new(FALSE, FALSE, sizeof(photo_entry));
    char **parts = g_strsplit(dirs, ",", -1);
    gboolean ok = TRUE;
    for (char **p = parts; ok && *p; p++) {
        if (!**p) continue;
        if (!g_file_test(*p, G_FILE_TEST_IS_DIR)) {
            g_set_error(error, TRAINER_ERROR, 1, "%s: not a folder of photos", *p);
            ok = FALSE;
        } else {
            ok = list_dir(*p, entries, error);
        }
    }
    g_strfreev(parts);
    if (ok && entries->len > IMAGES_MAX_COUNT) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: %u photos, more than %d", dirs, entries->len, IMAGES_MAX_COUNT);
        ok = FALSE;
    }
    if (!ok) {
        for (guint i = 0; i < entries->len; i++) g_free(g_array_index(entries, photo_entry, i).path);
        g_array_free(entries, TRUE);
        return NULL;
    }
    g_array_sort(entries, compare_entries);
    return entries;
}

/* Decodes one photo at most max_side on its long side as packed RGB; NULL
 * (with the reason in *why) when it cannot be read. */
static uint8_t *decode_photo(const char *path, int max_side, int *w, int *h, char **why) {
    GError *error = NULL;
    if (!image_size_acceptable(path, DEFAULT_MAX_MEGAPIXELS, &error)) {
        *why = g_strdup(error->message);
        g_error_free(error);
        return NULL;
    }
    GdkPixbuf *pb = gdk_pixbuf_new_from_file_at_scale(path, max_side, max_side, TRUE, &error);
    if (!pb) {
        *why = g_strdup(error->message);
        g_error_free(error);
        return NULL;
    }
    if (gdk_pixbuf_get_bits_per_sample(pb) != 8 || gdk_pixbuf_get_n_channels(pb) < 3) {
        *why = g_strdup("unsupported pixel format");
        g_object_unref(pb);
        return NULL;
    }
    *w = gdk_pixbuf_get_width(pb), *h = gdk_pixbuf_get_height(pb);
    const int nc = gdk_pixbuf_get_n_channels(pb), stride = gdk_pixbuf_get_rowstride(pb);
    uint8_t *rgb = g_malloc((size_t)*w * *h * 3);
    for (int y = 0; y < *h; y++) {
        const guchar *row = gdk_pixbuf_read_pixels(pb) + (size_t)y * stride;
        for (int x = 0; x < *w; x++) memcpy(rgb + ((size_t)y * *w + x) * 3, row + (size_t)x * nc, 3);
    }
    g_object_unref(pb);
    return rgb;
}

/* ------------------------------------------------------------------ cache */

static gboolean read_exact(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n; }

/* Reads the cache when it lists exactly these files, sizes and times at
 * this max_side; FALSE (the caller decodes afresh) otherwise. */
static gboolean read_cache(const char *cache, GArray *entries, int max_side, GByteArray *pixels) {
    FILE *f = fopen(cache, "rb");
    if (!f) return FALSE;
    char magic[8];
    uint32_t side = 0, count = 0;
    gboolean ok = read_exact(f, magic, 8) && memcmp(magic, CACHE_MAGIC, 8) == 0 && read_exact(f, &side, 4) &&
                  read_exact(f, &count, 4) && side == (uint32_t)max_side && count == entries->len;
    uint64_t total = 0;
    for (guint i = 0; ok && i < entries->len; i++) {
        photo_entry *e = &g_array_index(entries, photo_entry, i);
        uint32_t len = 0, w = 0, h = 0, status = 0;
        int64_t size = 0, mtime = 0;
        char path[IMAGES_MAX_PATH];
        ok = read_exact(f, &len, 4) && len == strlen(e->path) && read_exact(f, path, len) &&
             memcmp(path, e->path, len) == 0 && read_exact(f, &size, 8) && read_exact(f, &mtime, 8) &&
             size == e->size && mtime == e->mtime && read_exact(f, &w, 4) && read_exact(f, &h, 4) &&
             read_exact(f, &status, 4) && status <= PHOTO_GRAY && w <= (uint32_t)max_side && h <= (uint32_t)max_side;
        e->w = (int)w, e->h = (int)h, e->status = (int)status;
        if (ok && status == PHOTO_OK) total += (uint64_t)w * h * 3;
    }
    if (ok) {
        g_byte_array_set_size(pixels, (guint)total);
        ok = read_exact(f, pixels->data, (size_t)total) && fgetc(f) == EOF;
    }
    fclose(f);
    return ok;
}

/* Writes the cache atomically; a failure is only a warning (the photos are
 * decoded again next time). */
static void write_cache(const char *cache, const GArray *entries, int max_side, const GByteArray *pixels) {
    GByteArray *b = g_byte_array_new();
    uint32_t side = (uint32_t)max_side, count = entries->len;
    g_byte_array_append(b, (const guint8 *)CACHE_MAGIC, 8);
    g_byte_array_append(b, (const guint8 *)&side, 4);
    g_byte_array_append(b, (const guint8 *)&count, 4);
    for (guint i = 0; i < entries->len; i++) {
        const photo_entry *e = &g_array_index(entries, photo_entry, i);
        uint32_t len = (uint32_t)strlen(e->path), w = (uint32_t)e->w, h = (uint32_t)e->h, status = (uint32_t)e->status;
        int64_t size = e->size, mtime = e->mtime;
        g_byte_array_append(b, (const guint8 *)&len, 4);
        g_byte_array_append(b, (const guint8 *)e->path, len);
        g_byte_array_append(b, (const guint8 *)&size, 8);
        g_byte_array_append(b, (const guint8 *)&mtime, 8);
        g_byte_array_append(b, (const guint8 *)&w, 4);
        g_byte_array_append(b, (const guint8 *)&h, 4);
        g_byte_array_append(b, (const guint8 *)&status, 4);
    }
    g_byte_array_append(b, pixels->data, pixels->len);
    nn_error err = {0};
    if (nn_write_file_atomic(cache, b->data, b->len, &err) != NN_OK)
        g_printerr("colorize-train: warning: the photo cache was not written: %s\n", err.msg);
    g_byte_array_unref(b);
}

/* Decodes every photo (progress on the terminal, a line per 100 off it),
 * marking the unreadable and the gray ones. */
static void decode_all(GArray *entries, int max_side, GByteArray *pixels) {
    const gboolean tty = isatty(STDERR_FILENO);
    g_byte_array_set_size(pixels, 0);
    for (guint i = 0; i < entries->len; i++) {
        photo_entry *e = &g_array_index(entries, photo_entry, i);
        char *why = NULL;
        uint8_t *rgb = decode_photo(e->path, max_side, &e->w, &e->h, &why);
        if (!rgb) {
            g_printerr("%scolorize-train: skipping %s: %s\n", tty ? "\n" : "", e->path, why);
            g_free(why);
            e->status = PHOTO_UNREADABLE, e->w = e->h = 0;
        } else if (image_mean_chroma(rgb, (size_t)e->w * e->h) < IMAGES_MIN_MEAN_CHROMA) {
            e->status = PHOTO_GRAY, e->w = e->h = 0;
        } else {
            g_byte_array_append(pixels, rgb, (guint)((size_t)e->w * e->h * 3));
        }
        g_free(rgb);
        if (tty) g_printerr("\rdecoding photos: %u/%u", i + 1, entries->len);
        else if ((i + 1) % 100 == 0 || i + 1 == entries->len) g_print("decoding photos: %u/%u\n", i + 1, entries->len);
    }
    if (tty) g_printerr("\n");
}

gboolean photo_set_load(photo_set *ps, const char *dirs, const char *cache, int max_side, GError **error) {
    memset(ps, 0, sizeof *ps);
    GArray *entries = list_photos(dirs, error);
    if (!entries) return FALSE;
    GByteArray *pixels = g_byte_array_new();
    gboolean cached = cache && read_cache(cache, entries, max_side, pixels);
    if (!cached) {
        decode_all(entries, max_side, pixels);
        if (cache) write_cache(cache, entries, max_side, pixels);
    }
    for (guint i = 0; i < entries->len; i++) {
        const photo_entry *e = &g_array_index(entries, photo_entry, i);
        ps->unreadable += e->status == PHOTO_UNREADABLE, ps->gray += e->status == PHOTO_GRAY;
        ps->n += e->status == PHOTO_OK;
    }
    ps->w = g_new(int, ps->n + 1), ps->h = g_new(int, ps->n + 1), ps->offset = g_new(size_t, ps->n + 1);
    size_t at = 0;
    for (guint i = 0, k = 0; i < entries->len; i++) {
        photo_entry *e = &g_array_index(entries, photo_entry, i);
        if (e->status == PHOTO_OK) ps->w[k] = e->w, ps->h[k] = e->h, ps->offset[k] = at, at += (size_t)e->w * e->h * 3, k++;
        g_free(e->path);
    }
    g_print("%s: %d photos%s (%d unreadable, %d gray, skipped)\n", dirs, ps->n, cached ? " from the cache" : "",
            ps->unreadable, ps->gray);
    g_array_free(entries, TRUE);
    ps->pixels = g_byte_array_free(pixels, FALSE);
    if (ps->n == 0) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: no usable colour photo (%d unreadable, %d gray)", dirs, ps->unreadable,
                    ps->gray);
        photo_set_free(ps);
        return FALSE;
    }
    return TRUE;
}

void photo_set_free(photo_set *ps) {
    g_free(ps->w), g_free(ps->h), g_free(ps->offset), g_free(ps->pixels);
    memset(ps, 0, sizeof *ps);
}

/* ------------------------------------------------------------------ crops */

/* One crop of side `side` at (x0, y0) of photo p, area-averaged to 32×32. */
static void crop_to_tile(const photo_set *ps, int p, double x0, double y0, double side, uint8_t *out) {
    const int w = ps->w[p], h = ps->h[p];
    const uint8_t *src = ps->pixels + ps->offset[p];
    for (int ty = 0; ty < CIFAR_SIDE; ty++) {
        int ya = (int)(y0 + ty * side / CIFAR_SIDE), yb = (int)(y0 + (ty + 1) * side / CIFAR_SIDE);
        ya = ya < h ? ya : h - 1, yb = yb > ya ? (yb <= h ? yb : h) : ya + 1;
        for (int tx = 0; tx < CIFAR_SIDE; tx++) {
            int xa = (int)(x0 + tx * side / CIFAR_SIDE), xb = (int)(x0 + (tx + 1) * side / CIFAR_SIDE);
            xa = xa < w ? xa : w - 1, xb = xb > xa ? (xb <= w ? xb : w) : xa + 1;
            unsigned sum[3] = {0, 0, 0}, n = 0;
            for (int y = ya; y < yb; y++)
                for (int x = xa; x < xb; x++, n++)
                    for (int c = 0; c < 3; c++) sum[c] += src[((size_t)y * w + x) * 3 + c];
            for (int c = 0; c < 3; c++) out[(ty * CIFAR_SIDE + tx) * 3 + c] = (uint8_t)((sum[c] + n / 2) / n);
        }
    }
}

void photo_set_crops(const photo_set *ps, const int *photos, int nphotos, int count, uint64_t seed, uint8_t *rgb) {
    for (int k = 0; k < count; k++) {
        nn_rng rng;
        nn_rng_seed(&rng, derive_seed(seed, 0xC0, (uint64_t)k));
        const int p = photos[nn_rng_below(&rng, (uint32_t)nphotos)];
        const int shortest = ps->w[p] < ps->h[p] ? ps->w[p] : ps->h[p];
        const double lo = shortest < CIFAR_SIDE ? shortest : CIFAR_SIDE;
        const double side = lo * exp(nn_rng_uniform(&rng) * log((double)shortest / lo));
        const double x0 = nn_rng_uniform(&rng) * (ps->w[p] - side), y0 = nn_rng_uniform(&rng) * (ps->h[p] - side);
        crop_to_tile(ps, p, x0, y0, side, rgb + (size_t)k * CIFAR_PIXELS * 3);
    }
}
