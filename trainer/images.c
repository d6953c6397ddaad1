/* images.c — training on the user's own photos (train --images): every
 * photo of the folders (recursively, PNG, JPEG and what else gdk-pixbuf
 * reads by name) is decoded once, scaled to at most IMAGES_MAX_SIDE on its
 * long side and kept as 8-bit RGB in a cache file beside the checkpoint;
 * later runs read the cache while the photos are unchanged. Training
 * samples are crops at random places and scales, from 32 pixels of the
 * cached photo (detail, as the tiled pass sees it) to its whole short side
 * (the scene, as the scene pass sees it), area-averaged to 32×32. */
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trainer.h"

/* Photos in one cache: the listing refuses more. */
#define IMAGES_MAX_COUNT 1000000

enum { PHOTO_OK = 0, PHOTO_UNREADABLE = 1, PHOTO_GRAY = 2, PHOTO_STATUSES };

/* One listed photo and what became of it: its size in the pixel store and
 * where its pixels start (OK photos only). */
typedef struct {
    const found_photo *file;
    int w, h, status;
    size_t offset;
} photo_entry;

/* The packed RGB of every usable photo, grown as photos are decoded; sized
 * in 64 bits, so tens of thousands of photos fit where memory does. */
typedef struct {
    uint8_t *data;
    size_t len, cap;
} pixel_store;

static gboolean store_reserve(pixel_store *s, size_t more, GError **error) {
    if (more <= s->cap - s->len) return TRUE;
    size_t cap = s->cap > SIZE_MAX / 2 ? SIZE_MAX : s->cap * 2;
    if (more > SIZE_MAX - s->len) cap = 0;
    else if (cap < s->len + more) cap = s->len + more;
    uint8_t *data = cap ? g_try_realloc(s->data, cap) : NULL;
    if (!data) {
        g_set_error(error, TRAINER_ERROR, 1, "the photos' pixels need more than %.2f GB, which cannot be allocated: "
                    "use fewer photos", (double)s->len / 1e9 + (double)more / 1e9);
        return FALSE;
    }
    s->data = data, s->cap = cap;
    return TRUE;
}

/* Decodes one photo at most max_side on its long side (never scaled up) as
 * packed RGB, as the real-photo benchmark reads its photos (load_photo:
 * one filter for what is trained on and what is measured); NULL (with the
 * reason in *why) when it cannot be read. */
static uint8_t *decode_photo(const char *path, int max_side, int *w, int *h, char **why) {
    GError *error = NULL;
    GdkPixbuf *pb = load_photo(path, max_side, &error);
    if (!pb) {
        *why = g_strdup(error->message);
        g_error_free(error);
        return NULL;
    }
    *w = gdk_pixbuf_get_width(pb), *h = gdk_pixbuf_get_height(pb);
    uint8_t *rgb = packed_rgb(pb);
    g_object_unref(pb);
    return rgb;
}

/* Decodes e's photo into the store, setting every field of e: usable,
 * gray, or unreadable (named on stderr). FALSE only when memory runs out. */
static gboolean decode_entry(photo_entry *e, int max_side, pixel_store *store, gboolean tty, GError **error) {
    char *why = NULL;
    uint8_t *rgb = decode_photo(e->file->path, max_side, &e->w, &e->h, &why);
    gboolean ok = TRUE;
    e->status = PHOTO_OK, e->offset = 0;
    if (!rgb) {
        g_printerr("%scolorize-train: skipping %s: %s\n", tty ? "\n" : "", e->file->path, why);
        g_free(why);
        e->status = PHOTO_UNREADABLE;
    } else if (image_mean_chroma(rgb, (size_t)e->w * e->h) < PHOTO_MIN_MEAN_CHROMA) {
        e->status = PHOTO_GRAY;
    } else if ((ok = store_reserve(store, (size_t)e->w * e->h * 3, error))) {
        e->offset = store->len;
        memcpy(store->data + store->len, rgb, (size_t)e->w * e->h * 3);
        store->len += (size_t)e->w * e->h * 3;
    }
    if (e->status != PHOTO_OK) e->w = e->h = 0;
    g_free(rgb);
    return ok;
}

/* ------------------------------------------------------------------ cache */

static gboolean read_exact(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n; }

/* Whether a cache entry can describe a photo of this cache: a known status,
 * and a usable photo's sides between 1 and max_side. */
static gboolean entry_valid(uint32_t status, uint32_t w, uint32_t h, int max_side) {
    if (status >= PHOTO_STATUSES) return FALSE;
    if (status != PHOTO_OK) return w == 0 && h == 0;
    return w >= 1 && h >= 1 && w <= (uint32_t)max_side && h <= (uint32_t)max_side;
}

/* One entry of the cache, checked against the listed file; its size and
 * status into got (entries untouched until the whole cache is good). */
static gboolean read_cache_entry(FILE *f, const photo_entry *e, int max_side, photo_entry *got) {
    uint32_t len = 0, w = 0, h = 0, status = 0;
    int64_t size = 0, mtime = 0;
    char path[PHOTO_PATH_MAX];
    const size_t want = strlen(e->file->path);
    gboolean ok = read_exact(f, &len, 4) && len == want && read_exact(f, path, len) &&
                  memcmp(path, e->file->path, len) == 0 && read_exact(f, &size, 8) && read_exact(f, &mtime, 8) &&
                  size == e->file->size && mtime == e->file->mtime_ns && read_exact(f, &w, 4) &&
                  read_exact(f, &h, 4) && read_exact(f, &status, 4) && entry_valid(status, w, h, max_side);
    *got = (photo_entry){e->file, (int)w, (int)h, (int)status, 0};
    return ok;
}

/* Reads a cache of file_size bytes from f when it lists exactly these
 * files, sizes and times at this max_side and every size adds up to the
 * bytes it holds; FALSE (nothing of it kept) otherwise. */
static gboolean read_cache_stream(FILE *f, uint64_t file_size, GArray *entries, int max_side, pixel_store *store) {
    char magic[8];
    uint32_t side = 0, count = 0;
    gboolean ok = read_exact(f, magic, 8) && memcmp(magic, PHOTO_CACHE_MAGIC, 8) == 0 && read_exact(f, &side, 4) &&
                  read_exact(f, &count, 4) && side == (uint32_t)max_side && count == entries->len;
    photo_entry *got = g_new0(photo_entry, entries->len + 1);
    uint64_t total = 0;
    for (guint i = 0; ok && i < entries->len; i++) {
        ok = read_cache_entry(f, &g_array_index(entries, photo_entry, i), max_side, &got[i]);
        got[i].offset = (size_t)total;
        if (ok && got[i].status == PHOTO_OK) total += (uint64_t)got[i].w * (uint64_t)got[i].h * 3;
    }
    const long at = ok ? ftell(f) : -1;
    ok = ok && at >= 0 && (uint64_t)at <= file_size && total == file_size - (uint64_t)at && total <= SIZE_MAX;
    uint8_t *pixels = ok ? g_try_malloc(total ? (size_t)total : 1) : NULL;
    ok = ok && pixels && read_exact(f, pixels, (size_t)total);
    if (ok) {
        memcpy(entries->data, got, sizeof(photo_entry) * entries->len);
        g_free(store->data);
        *store = (pixel_store){pixels, (size_t)total, (size_t)total};
    } else {
        g_free(pixels);
    }
    g_free(got);
    return ok;
}

/* The cache file, when it is a regular file that read_cache_stream takes. */
static gboolean read_cache(const char *cache, GArray *entries, int max_side, pixel_store *store) {
    GStatBuf st;
    if (g_stat(cache, &st) != 0 || !S_ISREG(st.st_mode)) return FALSE;
    FILE *f = fopen(cache, "rb");
    if (!f) return FALSE;
    gboolean ok = read_cache_stream(f, (uint64_t)st.st_size, entries, max_side, store);
    fclose(f);
    return ok;
}

int photo_cache_check(FILE *f, uint64_t size, const found_photo *listing, int n, int max_side) {
    GArray *entries = g_array_sized_new(FALSE, TRUE, sizeof(photo_entry), (guint)n);
    for (int i = 0; i < n; i++) {
        photo_entry e = {&listing[i], 0, 0, PHOTO_UNREADABLE, 0};
        g_array_append_val(entries, e);
    }
    pixel_store store = {0};
    int usable = -1;
    if (read_cache_stream(f, size, entries, max_side, &store)) {
        usable = 0;
        for (int i = 0; i < n; i++) {
            const photo_entry *e = &g_array_index(entries, photo_entry, i);
            if (e->status != PHOTO_OK) continue;
            usable++;
            /* every usable photo's pixels lie inside the store: touch its last byte */
            volatile uint8_t last = store.data[e->offset + (size_t)e->w * e->h * 3 - 1];
            (void)last;
        }
    }
    g_free(store.data);
    g_array_free(entries, TRUE);
    return usable;
}

/* Writes the cache atomically, straight from the store; a failure is only
 * a warning (the photos are decoded again next time). */
static void write_cache(const char *cache, const GArray *entries, int max_side, const pixel_store *store) {
    GByteArray *b = g_byte_array_new();
    nn_file_part *parts = g_new(nn_file_part, entries->len + 1);
    size_t nparts = 1;
    uint32_t side = (uint32_t)max_side, count = entries->len;
    g_byte_array_append(b, (const guint8 *)PHOTO_CACHE_MAGIC, 8);
    g_byte_array_append(b, (const guint8 *)&side, 4);
    g_byte_array_append(b, (const guint8 *)&count, 4);
    for (guint i = 0; i < entries->len; i++) {
        const photo_entry *e = &g_array_index(entries, photo_entry, i);
        uint32_t len = (uint32_t)strlen(e->file->path), w = (uint32_t)e->w, h = (uint32_t)e->h;
        uint32_t status = (uint32_t)e->status;
        int64_t size = e->file->size, mtime = e->file->mtime_ns;
        g_byte_array_append(b, (const guint8 *)&len, 4);
        g_byte_array_append(b, (const guint8 *)e->file->path, len);
        g_byte_array_append(b, (const guint8 *)&size, 8);
        g_byte_array_append(b, (const guint8 *)&mtime, 8);
        g_byte_array_append(b, (const guint8 *)&w, 4);
        g_byte_array_append(b, (const guint8 *)&h, 4);
        g_byte_array_append(b, (const guint8 *)&status, 4);
        if (e->status == PHOTO_OK) parts[nparts++] = (nn_file_part){store->data + e->offset, (size_t)e->w * e->h * 3};
    }
    parts[0] = (nn_file_part){b->data, b->len};
    nn_error err = {0};
    if (nn_write_file_atomic_parts(cache, parts, nparts, &err) != NN_OK)
        g_printerr("colorize-train: warning: the photo cache was not written: %s\n", err.msg);
    g_free(parts);
    g_byte_array_unref(b);
}

/* Decodes every photo (progress on the terminal, a line per 100 off it). */
static gboolean decode_all(GArray *entries, int max_side, pixel_store *store, GError **error) {
    const gboolean tty = isatty(STDERR_FILENO);
    store->len = 0;
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < entries->len; i++) {
        ok = decode_entry(&g_array_index(entries, photo_entry, i), max_side, store, tty, error);
        if (tty) g_printerr("\rdecoding photos: %u/%u", i + 1, entries->len);
        else if ((i + 1) % 100 == 0 || i + 1 == entries->len) g_print("decoding photos: %u/%u\n", i + 1, entries->len);
    }
    if (tty) g_printerr("\n");
    return ok;
}

/* Photos the cache calls unreadable are tried again (a failure may have
 * been passing: permissions, a file being copied), each named if it still
 * fails; the number that now decode (their pixels join the store). */
static int retry_unreadable(GArray *entries, int max_side, pixel_store *store, GError **error) {
    int now_read = 0;
    for (guint i = 0; i < entries->len; i++) {
        photo_entry *e = &g_array_index(entries, photo_entry, i);
        if (e->status != PHOTO_UNREADABLE) continue;
        if (!decode_entry(e, max_side, store, FALSE, error)) return -1;
        now_read += e->status != PHOTO_UNREADABLE;
    }
    return now_read;
}

/* The listing of comma-separated folders, empty names left out. */
static gboolean list_photos(const char *dirs, photo_listing *pl, GError **error) {
    char **parts = g_strsplit(dirs, ",", -1), **kept = g_new0(char *, g_strv_length(parts) + 1);
    for (char **p = parts, **k = kept; *p; p++)
        if (**p) *k++ = *p;
    gboolean ok = photo_listing_scan(pl, kept, TRUE, error);
    g_free(kept);
    g_strfreev(parts);
    if (ok && pl->photos->len > IMAGES_MAX_COUNT) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: %u photos, more than the limit of %d", dirs, pl->photos->len,
                    IMAGES_MAX_COUNT);
        photo_listing_clear(pl);
        ok = FALSE;
    }
    return ok;
}

/* The entries' pixels, from the cache when it still holds them. */
static gboolean load_pixels(GArray *entries, const char *cache, int max_side, pixel_store *store, gboolean *cached,
                            GError **error) {
    *cached = cache && read_cache(cache, entries, max_side, store);
    if (*cached) {
        const int now_read = retry_unreadable(entries, max_side, store, error);
        if (now_read > 0) write_cache(cache, entries, max_side, store);
        return now_read >= 0;
    }
    if (!decode_all(entries, max_side, store, error)) return FALSE;
    if (cache) write_cache(cache, entries, max_side, store);
    return TRUE;
}

/* FNV-1a, 64 bits: a photo's key from its path inside its folder, the
 * same wherever the folder is and whatever else it holds. */
uint64_t photo_path_key(const char *path) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) h = (h ^ *p) * 0x100000001b3ull;
    return h;
}

/* The usable photos of entries into ps, which takes the store's pixels. */
static void fill_photo_set(photo_set *ps, const GArray *entries, pixel_store *store) {
    for (guint i = 0; i < entries->len; i++) {
        const photo_entry *e = &g_array_index(entries, photo_entry, i);
        ps->unreadable += e->status == PHOTO_UNREADABLE, ps->gray += e->status == PHOTO_GRAY;
        ps->n += e->status == PHOTO_OK;
    }
    ps->w = g_new(int, ps->n + 1), ps->h = g_new(int, ps->n + 1), ps->offset = g_new(size_t, ps->n + 1);
    ps->key = g_new(uint64_t, ps->n + 1);
    for (guint i = 0, k = 0; i < entries->len; i++) {
        const photo_entry *e = &g_array_index(entries, photo_entry, i);
        if (e->status != PHOTO_OK) continue;
        ps->w[k] = e->w, ps->h[k] = e->h, ps->offset[k] = e->offset;
        ps->key[k++] = photo_path_key(e->file->path + e->file->relative);
    }
    ps->pixels = store->data, store->data = NULL;
}

gboolean photo_set_load(photo_set *ps, const char *dirs, const char *cache, int max_side, GError **error) {
    memset(ps, 0, sizeof *ps);
    photo_listing pl;
    if (!list_photos(dirs, &pl, error)) return FALSE;
    GArray *entries = g_array_sized_new(FALSE, TRUE, sizeof(photo_entry), pl.photos->len);
    for (guint i = 0; i < pl.photos->len; i++) {
        photo_entry e = {&g_array_index(pl.photos, found_photo, i), 0, 0, PHOTO_UNREADABLE, 0};
        g_array_append_val(entries, e);
    }
    pixel_store store = {0};
    gboolean cached = FALSE, ok = load_pixels(entries, cache, max_side, &store, &cached, error);
    if (ok) {
        fill_photo_set(ps, entries, &store);
        ps->unreadable += pl.not_regular + pl.too_long, ps->from_cache = cached;
        g_print("%s: %d photos%s (%d unreadable, %d gray, skipped", dirs, ps->n, cached ? " from the cache" : "",
                ps->unreadable, ps->gray);
        if (pl.unreadable_folders) g_print("; %d unreadable folders skipped", pl.unreadable_folders);
        if (pl.repeats) g_print("; %d files or folders reached again by links or names, counted once", pl.repeats);
        g_print(")\n");
    }
    g_free(store.data);
    g_array_free(entries, TRUE);
    photo_listing_clear(&pl);
    if (ok && ps->n == 0) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: no usable colour photo (%d unreadable, %d gray)", dirs, ps->unreadable,
                    ps->gray);
        ok = FALSE;
    }
    if (!ok) photo_set_free(ps);
    return ok;
}

void photo_set_free(photo_set *ps) {
    g_free(ps->w), g_free(ps->h), g_free(ps->offset), g_free(ps->key), g_free(ps->pixels);
    memset(ps, 0, sizeof *ps);
}

/* ------------------------------------------------------------------ split */

void photo_set_split(const photo_set *ps, uint64_t seed, double fraction, GArray *forced, int *train, int *n_train,
                     int *held, int *n_held) {
    const int n = ps->n;
    double *u = g_new(double, n + 1);
    gboolean *hold = g_new(gboolean, n + 1);
    GHashTable *flip = g_hash_table_new(g_int64_hash, g_int64_equal); /* keys into forced's data */
    for (guint k = 0; forced && k < forced->len; k++) g_hash_table_add(flip, &g_array_index(forced, uint64_t, k));
    int lowest = 0, highest = 0, n_hold = 0;
    for (int i = 0; i < n; i++) {
        u[i] = (double)(derive_seed(seed, 0xD0, ps->key[i]) >> 11) * 0x1.0p-53;
        lowest = u[i] < u[lowest] ? i : lowest, highest = u[i] > u[highest] ? i : highest;
        hold[i] = fraction > 0 && n >= 2 && (u[i] < fraction) != g_hash_table_contains(flip, &ps->key[i]);
        n_hold += hold[i];
    }
    g_hash_table_destroy(flip);
    if (fraction > 0 && n >= 2 && n_hold == 0) hold[lowest] = TRUE;
    else if (fraction > 0 && n >= 2 && n_hold == n) hold[highest] = FALSE;
    *n_train = *n_held = 0;
    if (forced) g_array_set_size(forced, 0);
    for (int i = 0; i < n; i++) {
        if (hold[i]) held[(*n_held)++] = i;
        else train[(*n_train)++] = i;
        if (forced && fraction > 0 && n >= 2 && hold[i] != (u[i] < fraction)) g_array_append_val(forced, ps->key[i]);
    }
    g_free(u), g_free(hold);
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
