/* test_hostile.c — hostile photo folders and caches, each written by the
 * test at run time: a cache whose sizes add up past 4 GiB, cache entries
 * with a zero side, an unknown status or a stale status, photos that were
 * unreadable once, mtimes that differ in nanoseconds only, small photos
 * (never scaled up), FIFOs and devices named .png, symbolic-link loops,
 * hard links and a folder named twice, an unreadable subfolder; models and
 * checkpoints of another input width, bins shifted at the same count, a
 * per-step history at its cap, validation counts and crops past memory.
 * Every load runs under a watchdog, so a hang fails instead of blocking
 * the suite; the fuzz target's seed caches still read. Usage: test_hostile
 * MODEL.weights colorize-train FUZZ_CORPUS */
#include <fcntl.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../fuzz/fuzz_cache.h"
#include "testimages.h"
#include "testlib.h"
#include "trainer.h"

/* Seconds any one load may take before the test counts it as a hang. */
#define WATCHDOG_SECONDS 60
/* Seconds a refusal of a device given as an image may take (it is refused
 * before the model is read; reading /dev/zero until the decoder gave up
 * took 13 s). */
#define SPECIAL_FILE_SECONDS 5

static char *g_work;
static const char *g_model, *g_exe;

static char *work_path(const char *name) { return g_build_filename(g_work, name, NULL); }

static char *make_folder(const char *name) {
    char *dir = work_path(name);
    g_mkdir_with_parents(dir, 0755);
    return dir;
}

/* A colour photo: a hue ramp of (r, g, b); saved as PNG or BMP by the name. */
static void write_photo(const char *path, int w, int h, int r, int g, int b) {
    GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, w, h);
    guchar *px = gdk_pixbuf_get_pixels(pb);
    const int stride = gdk_pixbuf_get_rowstride(pb);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            guchar *p = px + y * stride + 3 * x;
            p[0] = (guchar)(r * (w + x) / (2 * w)), p[1] = (guchar)(g * (h + y) / (2 * h)), p[2] = (guchar)b;
        }
    const char *type = g_str_has_suffix(path, ".bmp") ? "bmp" : "png";
    CHECK(gdk_pixbuf_save(pb, path, type, NULL, NULL), "cannot write %s", path);
    g_object_unref(pb);
}

static void in_folder(char *out, size_t cap, const char *dir, const char *name) {
    g_snprintf(out, cap, "%s/%s", dir, name);
}

static void set_mtime_ns(const char *path, time_t sec, long nsec) {
    struct timespec t[2] = {{sec, nsec}, {sec, nsec}};
    CHECK(utimensat(AT_FDCWD, path, t, 0) == 0, "cannot set the time of %s", path);
}

/* What g_printerr says while capturing (into out; NULL: back to stderr). */
static GString *g_captured;
static void capture_print(const char *text) { g_string_append(g_captured, text); }
static void capture_stderr(GString *out) {
    g_captured = out;
    g_set_printerr_handler(out ? capture_print : NULL);
}

static void on_watchdog(int sig) {
    (void)sig;
    static const char msg[] = "FAIL: a load hung (watchdog)\n";
    if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
    _exit(3);
}

/* photo_set_load under the watchdog; prints the error when it fails. */
static gboolean load(photo_set *ps, const char *dirs, const char *cache, int max_side) {
    GError *error = NULL;
    alarm(WATCHDOG_SECONDS);
    gboolean ok = photo_set_load(ps, dirs, cache, max_side, &error);
    alarm(0);
    if (!ok) printf("load %s: %s\n", dirs, error->message);
    g_clear_error(&error);
    return ok;
}

/* Offset of entry 0's w field in a cache whose first path is path. */
static long first_entry_w_offset(const char *path) { return 8 + 4 + 4 + 4 + (long)strlen(path) + 8 + 8; }

/* Overwrites n bytes of file at offset. */
static void patch_file(const char *file, long offset, const void *bytes, size_t n) {
    FILE *f = fopen(file, "r+b");
    CHECK(f && fseek(f, offset, SEEK_SET) == 0 && fwrite(bytes, 1, n, f) == n, "cannot patch %s", file);
    if (f) fclose(f);
}

/* Sizes that add up past 4 GiB, where a 32-bit total wraps to 171 KiB,
 * with 1 MiB of pixels: more than that wrapped size (the first reader
 * sized its buffer so and read the whole file into it). */
static void test_cache_size_overflow(void) {
    char *dir = make_folder("overflow"), *cache = work_path("overflow.cache"), photo[4096];
    in_folder(photo, sizeof photo, dir, "p.png");
    write_photo(photo, 40, 30, 220, 120, 40);
    GStatBuf st;
    CHECK(g_stat(photo, &st) == 0, "setup");
    const uint32_t side = 40000, count = 1, len = (uint32_t)strlen(photo), w = 37838, h = 37838, status = 0;
    const int64_t size = st.st_size, mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    FILE *f = fopen(cache, "wb");
    CHECK(f != NULL, "cannot write %s", cache);
    if (f) {
        fwrite(PHOTO_CACHE_MAGIC, 1, 8, f), fwrite(&side, 4, 1, f), fwrite(&count, 4, 1, f);
        fwrite(&len, 4, 1, f), fwrite(photo, 1, len, f), fwrite(&size, 8, 1, f), fwrite(&mtime, 8, 1, f);
        fwrite(&w, 4, 1, f), fwrite(&h, 4, 1, f), fwrite(&status, 4, 1, f);
        char *mib = g_malloc0(1 << 20);
        fwrite(mib, 1, 1 << 20, f);
        g_free(mib);
        fclose(f);
    }
    photo_set ps;
    gboolean ok = load(&ps, dir, cache, (int)side);
    CHECK(ok && !ps.from_cache && ps.n == 1 && ps.w[0] == 40 && ps.h[0] == 30,
          "a cache of 37838×37838 pixels in 1 MiB was not refused and the photo decoded afresh");
    if (ok) photo_set_free(&ps);
    g_free(dir), g_free(cache);
}

/* The photos of a full cache at the trainer's side whose pixels add up to
 * just past 4 GiB: 21,846 of 256×256 RGB (196,608 bytes each). */
#define WRAP_PHOTOS 21846
#define WRAP_PHOTO_BYTES (IMAGES_MAX_SIDE * IMAGES_MAX_SIDE * 3)

/* That cache with exactly the bytes a 32-bit total wraps to (128 KiB): a
 * reader summing in 32 bits finds them all there and takes it, and its
 * photos' pixels then lie gigabytes past what it read. It must be refused,
 * without a crash, as a stale cache is. */
static void test_cache_size_wraps_exactly(void) {
    const uint64_t total = (uint64_t)WRAP_PHOTOS * WRAP_PHOTO_BYTES, wrapped = total & 0xFFFFFFFFu;
    CHECK(total > UINT32_MAX && wrapped == 131072, "setup: %llu bytes wrap to %llu", (unsigned long long)total,
          (unsigned long long)wrapped);
    found_photo *listing = g_new0(found_photo, WRAP_PHOTOS);
    GByteArray *b = g_byte_array_new();
    const uint32_t side = IMAGES_MAX_SIDE, count = WRAP_PHOTOS, wh = IMAGES_MAX_SIDE, status = 0;
    g_byte_array_append(b, (const guint8 *)PHOTO_CACHE_MAGIC, 8);
    g_byte_array_append(b, (const guint8 *)&side, 4), g_byte_array_append(b, (const guint8 *)&count, 4);
    for (int i = 0; i < WRAP_PHOTOS; i++) {
        listing[i] = (found_photo){g_strdup_printf("/photos/p%05d.png", i), 1000 + i, 1700000000000000000 + i, 8};
        const uint32_t len = (uint32_t)strlen(listing[i].path);
        g_byte_array_append(b, (const guint8 *)&len, 4), g_byte_array_append(b, (const guint8 *)listing[i].path, len);
        g_byte_array_append(b, (const guint8 *)&listing[i].size, 8);
        g_byte_array_append(b, (const guint8 *)&listing[i].mtime_ns, 8);
        g_byte_array_append(b, (const guint8 *)&wh, 4), g_byte_array_append(b, (const guint8 *)&wh, 4);
        g_byte_array_append(b, (const guint8 *)&status, 4);
    }
    const guint head = b->len;
    g_byte_array_set_size(b, head + (guint)wrapped);
    memset(b->data + head, 128, (size_t)wrapped);
    alarm(WATCHDOG_SECONDS);
    FILE *f = fmemopen(b->data, b->len, "rb");
    const int got = f ? photo_cache_check(f, b->len, listing, WRAP_PHOTOS, IMAGES_MAX_SIDE) : -2;
    if (f) fclose(f);
    alarm(0);
    CHECK(got == -1, "a cache of %d photos of 256×256 (%llu bytes of pixels) in %u bytes gives %d photos, not -1 "
          "(refused)", WRAP_PHOTOS, (unsigned long long)total, b->len, got);
    for (int i = 0; i < WRAP_PHOTOS; i++) g_free(listing[i].path);
    g_free(listing);
    g_byte_array_unref(b);
}

/* A usable folder of two photos and its cache. */
static void two_photos(const char *name, char **dir, char **cache, char *first, size_t cap) {
    *dir = make_folder(name);
    char *c = g_strconcat(name, ".cache", NULL);
    *cache = work_path(c);
    g_free(c);
    char second[4096];
    in_folder(first, cap, *dir, "a.png"), in_folder(second, sizeof second, *dir, "b.png");
    write_photo(first, 50, 40, 230, 90, 30), write_photo(second, 60, 45, 40, 200, 180);
}

/* Entries the cache's own writer never makes: refused, decoded afresh, and
 * crops of every photo then read inside their pixels. */
static void test_cache_bad_entries(void) {
    char *dir, *cache, first[4096];
    two_photos("entries", &dir, &cache, first, sizeof first);
    photo_set ps;
    CHECK(load(&ps, dir, cache, IMAGES_MAX_SIDE) && !ps.from_cache && ps.n == 2, "the first load");
    photo_set_free(&ps);
    CHECK(load(&ps, dir, cache, IMAGES_MAX_SIDE) && ps.from_cache && ps.n == 2, "the cache was not read back");
    photo_set_free(&ps);
    const struct {
        const char *what;
        uint32_t whs[3];
    } bad[] = {
        {"w = 0, usable", {0, 40, 0}},
        {"h = 0, usable", {50, 0, 0}},
        {"w past the side", {257, 40, 0}},
        {"an unknown status", {50, 40, 7}},
        {"unreadable, with pixels", {50, 40, 1}},
    };
    gchar *good = NULL;
    gsize n = 0;
    CHECK(g_file_get_contents(cache, &good, &n, NULL), "cannot read %s", cache);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        CHECK(g_file_set_contents(cache, good, (gssize)n, NULL), "setup");
        patch_file(cache, first_entry_w_offset(first), bad[i].whs, sizeof bad[i].whs);
        gboolean ok = load(&ps, dir, cache, IMAGES_MAX_SIDE);
        CHECK(ok && !ps.from_cache && ps.n == 2 && ps.w[0] == 50 && ps.h[0] == 40,
              "a cache entry with %s was used", bad[i].what);
        if (!ok) continue;
        const int photos[] = {0, 1};
        uint8_t *rgb = g_malloc((size_t)64 * CIFAR_PIXELS * 3);
        photo_set_crops(&ps, photos, 2, 64, 5, rgb);
        g_free(rgb);
        photo_set_free(&ps);
    }
    g_free(good), g_free(dir), g_free(cache);
}

/* The same size, the same second, another nanosecond: a changed photo. */
static void test_cache_nanoseconds(void) {
    char *dir = make_folder("nanoseconds"), *cache = work_path("nanoseconds.cache"), photo[4096];
    in_folder(photo, sizeof photo, dir, "a.bmp");
    write_photo(photo, 40, 30, 250, 20, 20);
    set_mtime_ns(photo, 1700000000, 100);
    photo_set ps;
    CHECK(load(&ps, dir, cache, IMAGES_MAX_SIDE), "the first load");
    photo_set_free(&ps);
    write_photo(photo, 40, 30, 20, 20, 250);
    set_mtime_ns(photo, 1700000000, 200);
    gboolean ok = load(&ps, dir, cache, IMAGES_MAX_SIDE);
    CHECK(ok && !ps.from_cache && ps.pixels[2] > 200 && ps.pixels[0] < 50,
          "a photo changed within one second was read from the cache");
    if (ok) photo_set_free(&ps);
    g_free(dir), g_free(cache);
}

/* A photo unreadable in one run and readable in the next, with the same
 * size and time: retried, named, and its pixels where they belong. */
static void test_cache_retries_unreadable(void) {
    char *dir = make_folder("retry"), *cache = work_path("retry.cache"), *fresh = work_path("retry-fresh.bmp");
    char a[4096], b[4096], c[4096];
    in_folder(a, sizeof a, dir, "a.bmp"), in_folder(b, sizeof b, dir, "b.bmp"), in_folder(c, sizeof c, dir, "c.bmp");
    write_photo(a, 40, 30, 250, 60, 20), write_photo(c, 30, 40, 20, 60, 250), write_photo(fresh, 36, 36, 30, 240, 60);
    gchar *good = NULL;
    gsize n = 0;
    CHECK(g_file_get_contents(fresh, &good, &n, NULL), "setup");
    char *garbage = g_malloc0(n);
    CHECK(g_file_set_contents(b, garbage, (gssize)n, NULL), "setup");
    set_mtime_ns(b, 1700000000, 5);
    photo_set ps, direct;
    CHECK(load(&ps, dir, cache, IMAGES_MAX_SIDE) && ps.n == 2 && ps.unreadable == 1, "b.bmp was not unreadable");
    photo_set_free(&ps);
    /* still unreadable: the cache says so, it is tried again and named again */
    GString *said = g_string_new("");
    capture_stderr(said);
    gboolean again = load(&ps, dir, cache, IMAGES_MAX_SIDE);
    capture_stderr(NULL);
    CHECK(again && ps.from_cache && ps.unreadable == 1 && strstr(said->str, b),
          "b.bmp, unreadable in the cache and still, was not tried again and named: %s", said->str);
    if (again) photo_set_free(&ps);
    g_string_free(said, TRUE);
    CHECK(g_file_set_contents(b, good, (gssize)n, NULL), "setup");
    set_mtime_ns(b, 1700000000, 5);
    gboolean ok = load(&ps, dir, cache, IMAGES_MAX_SIDE), ok2 = load(&direct, dir, NULL, IMAGES_MAX_SIDE);
    CHECK(ok && ok2 && ps.from_cache && ps.n == 3 && ps.unreadable == 0, "b.bmp, readable now, was not retried");
    for (int p = 0; ok && ok2 && p < 3 && ps.n == 3; p++)
        CHECK(ps.w[p] == direct.w[p] && ps.h[p] == direct.h[p] &&
                  memcmp(ps.pixels + ps.offset[p], direct.pixels + direct.offset[p], (size_t)ps.w[p] * ps.h[p] * 3) == 0,
              "photo %d's pixels differ from a fresh decode after the retry", p);
    if (ok) photo_set_free(&ps);
    if (ok2) photo_set_free(&direct);
    CHECK(load(&ps, dir, cache, IMAGES_MAX_SIDE) && ps.from_cache && ps.n == 3, "the retried photo was not cached");
    photo_set_free(&ps);
    g_free(good), g_free(garbage), g_free(dir), g_free(cache), g_free(fresh);
}

/* Photos smaller than the cache's side keep their size. */
static void test_no_upscaling(void) {
    char *dir = make_folder("small"), small[4096], big[4096];
    in_folder(small, sizeof small, dir, "a-small.png"), in_folder(big, sizeof big, dir, "b-big.png");
    write_photo(small, 100, 70, 200, 100, 50), write_photo(big, 600, 300, 50, 100, 200);
    photo_set ps;
    gboolean ok = load(&ps, dir, NULL, IMAGES_MAX_SIDE);
    CHECK(ok && ps.n == 2 && ps.w[0] == 100 && ps.h[0] == 70 && ps.w[1] == 256 && ps.h[1] == 128,
          "sizes %d×%d and %d×%d, not 100×70 and 256×128", ok ? ps.w[0] : 0, ok ? ps.h[0] : 0, ok && ps.n > 1 ? ps.w[1] : 0,
          ok && ps.n > 1 ? ps.h[1] : 0);
    if (ok) photo_set_free(&ps);
    g_free(dir);
}

/* A FIFO and a link to a device named as images: named and counted, never
 * opened, by train --images, eval --photos and colorize. */
static void test_special_files(void) {
    char *dir = make_folder("special"), *out = work_path("special-out"), photo[4096], fifo[4096], dev[4096];
    in_folder(photo, sizeof photo, dir, "a.png"), in_folder(fifo, sizeof fifo, dir, "zz.png");
    in_folder(dev, sizeof dev, dir, "x.tif");
    write_photo(photo, 40, 30, 220, 120, 40);
    CHECK(mkfifo(fifo, 0644) == 0 && symlink("/dev/zero", dev) == 0, "setup");
    photo_set ps;
    gboolean ok = load(&ps, dir, NULL, IMAGES_MAX_SIDE);
    CHECK(ok && ps.n == 1 && ps.unreadable == 2, "train --images: the FIFO and the device were not counted unreadable");
    if (ok) photo_set_free(&ps);
    GError *error = NULL;
    int rc;
    alarm(WATCHDOG_SECONDS);
    int left_out = 0;
    GPtrArray *listed = list_folder_photos(dir, &left_out, &error);
    CHECK(listed && listed->len == 1 && left_out == 2, "eval --photos lists %u files, not 1, and leaves out %d, not 2",
          listed ? listed->len : 0, left_out);
    if (listed) g_ptr_array_free(listed, TRUE);
    char *json = work_path("special.json");
    char *eval[] = {"colorize-train", "--photos", dir, "--model", (char *)g_model, "--resolution", "64", "--json", json, NULL};
    rc = command_eval(G_N_ELEMENTS(eval) - 1, eval);
    gchar *text = NULL;
    g_file_get_contents(json, &text, NULL, NULL);
    CHECK(rc == 0 && text && strstr(text, "\"photos\": 1,") && strstr(text, "\"unreadable\": 2,"),
          "eval --photos: exit %d, the FIFO and the device not counted unreadable: %.300s", rc, text ? text : "(no JSON)");
    g_free(text), g_free(json);
    char *args[] = {"colorize-train", "--model", (char *)g_model, "--out-dir", out, dir, NULL};
    rc = command_colorize(G_N_ELEMENTS(args) - 1, args);
    char *done = g_build_filename(out, "a.png", NULL);
    CHECK(rc == 1 && g_file_test(done, G_FILE_TEST_IS_REGULAR), "colorize --out-dir: exit %d, a.png written: %d", rc,
          g_file_test(done, G_FILE_TEST_IS_REGULAR));
    char *target = work_path("special.png");
    char *single[] = {"colorize-train", "--model", (char *)g_model, fifo, target, NULL};
    CHECK(command_colorize(G_N_ELEMENTS(single) - 1, single) == 1, "colorize FIFO OUT accepted");
    char *hinted[] = {"colorize-train", "--model", (char *)g_model, "--hints", fifo, photo, target, NULL};
    CHECK(command_colorize(G_N_ELEMENTS(hinted) - 1, hinted) == 1, "colorize --hints FIFO accepted");
    char *device[] = {"colorize-train", "--model", (char *)g_model, dev, target, NULL};
    const gint64 start = g_get_monotonic_time();
    rc = command_colorize(G_N_ELEMENTS(device) - 1, device);
    const double seconds = (g_get_monotonic_time() - start) / 1e6;
    /* refused from the file's type at once, not after reading /dev/zero until the decoder gives up */
    CHECK(rc == 1 && seconds < SPECIAL_FILE_SECONDS, "colorize /dev/zero: exit %d after %.1f s (expected exit 1 within %d s)", rc,
          seconds, SPECIAL_FILE_SECONDS);
    alarm(0);
    g_free(dir), g_free(out), g_free(done), g_free(target);
}

/* A photo whose path reaches PHOTO_PATH_MAX bytes (in folders of 250-byte
 * names, made from inside them): named and counted unreadable, beside a
 * photo that trains. */
static void test_path_too_long(void) {
    char *top = make_folder("long"), *cwd = g_get_current_dir(), name[256], path[4096];
    in_folder(path, sizeof path, top, "a.png"), write_photo(path, 40, 30, 220, 120, 40);
    GString *deep = g_string_new(top);
    memset(name, 'd', 250), name[250] = '\0';
    CHECK(chdir(top) == 0, "setup");
    while (deep->len + 1 + 250 < PHOTO_PATH_MAX - 20) {
        CHECK(mkdir(name, 0755) == 0 && chdir(name) == 0, "setup: cannot make %zu bytes of folders", deep->len);
        g_string_append_c(deep, '/'), g_string_append(deep, name);
    }
    const size_t file_len = PHOTO_PATH_MAX - deep->len - 1; /* the whole path exactly PHOTO_PATH_MAX bytes */
    memset(name, 'f', file_len - 4), memcpy(name + file_len - 4, ".png", 5);
    write_photo(name, 40, 30, 40, 120, 220);
    CHECK(chdir(cwd) == 0, "setup");
    GString *said = g_string_new("");
    capture_stderr(said);
    photo_set ps;
    gboolean ok = load(&ps, top, NULL, IMAGES_MAX_SIDE);
    capture_stderr(NULL);
    CHECK(ok && ps.n == 1 && ps.unreadable == 1 && strstr(said->str, name) && strstr(said->str, "4096"),
          "a photo's path of %d bytes was not named and counted (%d photos, %d unreadable): %s", PHOTO_PATH_MAX,
          ok ? ps.n : 0, ok ? ps.unreadable : 0, said->str);
    if (ok) photo_set_free(&ps);
    g_string_free(said, TRUE), g_string_free(deep, TRUE);
    g_free(top), g_free(cwd);
}

/* Links and repeated names: every photo counts once, and the walk ends. */
static void test_links(void) {
    char *dir = make_folder("links"), *sub = make_folder("links/sub"), path[4096];
    for (int i = 0; i < 4; i++) {
        char name[16];
        g_snprintf(name, sizeof name, "p%d.png", i);
        in_folder(path, sizeof path, i < 2 ? dir : sub, name);
        write_photo(path, 40 + i, 30, 200, 60 + 30 * i, 40);
    }
    char one[4096], two[4096], hard[4096];
    in_folder(one, sizeof one, dir, "loop-a"), in_folder(two, sizeof two, dir, "loop-b");
    in_folder(hard, sizeof hard, sub, "hard-link.png");
    CHECK(symlink(".", one) == 0, "setup");
    photo_set ps;
    CHECK(load(&ps, dir, NULL, IMAGES_MAX_SIDE) && ps.n == 4, "one link loop: %d photos, not 4", ps.n);
    photo_set_free(&ps);
    CHECK(symlink(".", two) == 0 && link(path, hard) == 0, "setup");
    CHECK(load(&ps, dir, NULL, IMAGES_MAX_SIDE) && ps.n == 4, "two link loops and a hard link: %d photos, not 4", ps.n);
    photo_set_free(&ps);
    char *twice = g_strconcat(dir, ",", dir, ",", sub, NULL);
    CHECK(load(&ps, twice, NULL, IMAGES_MAX_SIDE) && ps.n == 4, "--images D,D,D/sub: %d photos, not 4", ps.n);
    photo_set_free(&ps);
    g_free(twice), g_free(dir), g_free(sub);
}

/* A subfolder that cannot be opened (here: no file descriptor left, which
 * fails even for root) is named, counted and skipped. */
static void test_unreadable_subfolder(void) {
    char *dir = make_folder("unreadable"), *sub = make_folder("unreadable/locked"), path[4096];
    in_folder(path, sizeof path, dir, "a.png"), write_photo(path, 40, 30, 200, 100, 40);
    in_folder(path, sizeof path, sub, "b.png"), write_photo(path, 40, 30, 40, 100, 200);
    struct rlimit old;
    getrlimit(RLIMIT_NOFILE, &old);
    const int lowest_free = open("/dev/null", O_RDONLY);
    CHECK(lowest_free >= 0, "cannot open /dev/null");
    close(lowest_free);
    struct rlimit tight = {(rlim_t)lowest_free + 1, old.rlim_max};
    char *folders[] = {dir, NULL};
    photo_listing pl;
    GError *error = NULL;
    setrlimit(RLIMIT_NOFILE, &tight);
    gboolean ok = photo_listing_scan(&pl, folders, TRUE, &error);
    setrlimit(RLIMIT_NOFILE, &old);
    CHECK(ok && pl.photos->len == 1 && pl.unreadable_folders == 1, "an unreadable subfolder: %s",
          ok ? "not counted" : error->message);
    if (ok) photo_listing_clear(&pl);
    g_clear_error(&error);
    g_free(dir), g_free(sub);
}


/* The fuzz target's seed caches still match the format: the usable one
 * gives its three photos, and a truncated copy is refused. */
static void test_fuzz_seeds(const char *corpus) {
    char *usable = g_build_filename(corpus, "cache", "usable.cache", NULL);
    gchar *bytes = NULL;
    gsize n = 0;
    CHECK(g_file_get_contents(usable, &bytes, &n, NULL), "cannot read %s", usable);
    found_photo listing[FUZZ_CACHE_PHOTOS];
    memcpy(listing, FUZZ_CACHE_LISTING, sizeof listing);
    for (int cut = 0; bytes && cut < 2; cut++) {
        FILE *f = fmemopen(bytes, n - (size_t)cut, "rb");
        const int got = f ? photo_cache_check(f, n - (size_t)cut, listing, FUZZ_CACHE_PHOTOS, FUZZ_CACHE_SIDE) : -2;
        if (f) fclose(f);
        CHECK(got == (cut ? -1 : 3), "the seed cache%s gives %d photos", cut ? ", one byte short," : "", got);
    }
    g_free(bytes), g_free(usable);
}

/* ------------------------------------------------ models and checkpoints */

/* Runs the real colorize-train ARGS… (NULL-ended); its exit status, -1 when
 * it did not exit; its standard output in *out when out is not NULL, its
 * standard error in *err (g_free them). */
static int run_exe_v(gchar **out, gchar **err, const char *first, va_list ap) {
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)g_exe);
    for (const char *a = first; a; a = va_arg(ap, const char *)) g_ptr_array_add(argv, (char *)a);
    g_ptr_array_add(argv, NULL);
    gint status = 0;
    gchar *said = NULL;
    gboolean ran = g_spawn_sync(NULL, (char **)argv->pdata, NULL, 0, NULL, NULL, &said, err, &status, NULL);
    g_ptr_array_free(argv, TRUE);
    if (out) *out = said;
    else g_free(said);
    return ran && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

G_GNUC_NULL_TERMINATED static int run_exe(gchar **err, const char *first, ...) {
    va_list ap;
    va_start(ap, first);
    int rc = run_exe_v(NULL, err, first, ap);
    va_end(ap);
    return rc;
}

G_GNUC_NULL_TERMINATED static int run_exe_out(gchar **out, gchar **err, const char *first, ...) {
    va_list ap;
    va_start(ap, first);
    int rc = run_exe_v(out, err, first, ap);
    va_end(ap);
    return rc;
}

#define SHORT_RUN "--crops", "64", "--val", "32", "--batch", "32", "--threads", "2", "--seed", "4"

/* Replaces w's model with a fresh one of in_channels inputs (and, for a
 * checkpoint, zero Adam moments that match it), the rest of w kept. */
static void replace_model(nn_weights *w, int in_channels, gboolean moments) {
    nn_unet_config cfg;
    nn_error e = {0};
    nn_unet *net = NULL;
    CHECK(nn_unet_config_from_weights(w, &cfg, "model", &e) == NN_OK, "%s", e.msg);
    cfg.in_channels = in_channels;
    while (w->n_tensors) nn_weights_remove_tensor(w, w->tensors[0].name, NULL);
    CHECK(nn_unet_create(&net, &cfg, 1, 32, 32, &e) == NN_OK, "%s", e.msg);
    nn_unet_init(net, 1);
    CHECK(nn_unet_to_weights(net, w) == NN_OK, "cannot store the model");
    size_t np = 0;
    nn_unet_params(net, &np);
    float *zero = g_new0(float, np);
    const uint64_t dims[1] = {np};
    if (moments)
        CHECK(nn_weights_add_tensor(w, "optimizer.adam_m", 1, dims, zero) == NN_OK &&
                  nn_weights_add_tensor(w, "optimizer.adam_v", 1, dims, zero) == NN_OK, "cannot store the moments");
    g_free(zero);
    nn_unet_free(net);
}

/* A copy of file with edit applied, saved as name; its path (g_free). */
static char *edited_copy(const char *file, const char *name, void (*edit)(nn_weights *, const void *), const void *arg) {
    nn_weights w;
    nn_error e = {0};
    char *out = work_path(name);
    CHECK(nn_weights_load(&w, file, &e) == NN_OK, "%s", e.msg);
    edit(&w, arg);
    CHECK(nn_weights_save(&w, out, &e) == NN_OK, "%s", e.msg);
    nn_weights_free(&w);
    return out;
}

static void edit_model_inputs(nn_weights *w, const void *channels) { replace_model(w, *(const int *)channels, FALSE); }
static void edit_checkpoint_inputs(nn_weights *w, const void *channels) {
    replace_model(w, *(const int *)channels, TRUE);
}
static void edit_shift_bins(nn_weights *w, const void *unused) {
    (void)unused;
    const uint32_t *bins = NULL;
    uint64_t n = 0;
    uint32_t size = 0;
    CHECK(nn_weights_get_u32_array(w, "ab.bins", &bins, &n, NULL) == NN_OK &&
              nn_weights_get_u32(w, "ab.grid_size", &size, NULL) == NN_OK, "no bins");
    uint32_t *shifted = g_new(uint32_t, n + 1);
    const int up = bins[n - 1] + 1 < size * size;
    for (uint64_t i = 0; i < n; i++) shifted[i] = up ? bins[i] + 1 : bins[i] - 1;
    CHECK(up || bins[0] > 0, "the bins cannot be shifted");
    nn_weights_set_u32_array(w, "ab.bins", shifted, n);
    g_free(shifted);
    /* a classifier no initialization makes: 0.5 everywhere */
    const nn_tensor_entry *head = nn_weights_find_tensor(w, "head.conv.weight");
    CHECK(head != NULL, "no classifier");
    if (!head) return;
    const uint64_t dims[4] = {head->dims[0], head->dims[1], head->dims[2], head->dims[3]};
    const size_t count = dims[0] * dims[1] * dims[2] * dims[3];
    float *half = g_new(float, count);
    for (size_t i = 0; i < count; i++) half[i] = 0.5f;
    nn_weights_remove_tensor(w, "head.conv.weight", NULL);
    CHECK(nn_weights_add_tensor(w, "head.conv.weight", 4, dims, half) == NN_OK, "cannot store the classifier");
    g_free(half);
}
static void edit_validation_images(nn_weights *w, const void *count) {
    nn_weights_set_u32(w, "train.validation_images", *(const uint32_t *)count);
}
static void edit_full_history(nn_weights *w, const void *unused) {
    (void)unused;
    float *h = g_new(float, HISTORY_MAX_STEPS);
    for (int i = 0; i < HISTORY_MAX_STEPS; i++) h[i] = (float)i / HISTORY_MAX_STEPS;
    const char *keys[] = {"history.step_epoch", "history.step_loss", "history.step_lr"};
    for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) nn_weights_set_f32_array(w, keys[k], h, HISTORY_MAX_STEPS);
    nn_weights_set_u64(w, "checkpoint.global_step", (uint64_t)HISTORY_MAX_STEPS + 10);
    g_free(h);
}

/* A folder of photos to train on, and a short run's model and checkpoint. */
static char *g_train_photos, *g_base, *g_base_ckpt;

static void make_base_run(void) {
    g_train_photos = make_folder("train-photos");
    for (int i = 0; i < 6; i++) {
        char name[16], path[4096];
        g_snprintf(name, sizeof name, "p%d.png", i);
        in_folder(path, sizeof path, g_train_photos, name);
        write_photo(path, 60 + 10 * i, 50, 240 - 30 * i, 60 + 30 * i, 40 + 25 * i);
    }
    g_base = work_path("base.weights"), g_base_ckpt = work_path("base.weights.ckpt");
    gchar *err = NULL;
    int rc = run_exe(&err, "train", "--images", g_train_photos, "--out", g_base, "--epochs", "1", "--width", "8",
                     SHORT_RUN, NULL);
    CHECK(rc == 0, "the base run failed (%d): %s", rc, err);
    g_free(err);
}

/* Expects a refusal naming what, with no model written. */
static void expect_refusal(int rc, gchar *err, const char *out, const char *what, const char *label) {
    CHECK(rc == 1 && err && strstr(err, what), "%s: exit %d, not 1 with '%s': %s", label, rc, what, err ? err : "");
    CHECK(!out || !g_file_test(out, G_FILE_TEST_EXISTS), "%s: a model was written", label);
    g_free(err);
}

/* Models and checkpoints of 64 or 1 input channels: train --init, train
 * --resume and eval refuse them, naming the file and the field. */
static void test_input_channels(void) {
    const int widths[] = {64, 1};
    char *out = work_path("channels-out.weights");
    for (size_t i = 0; i < G_N_ELEMENTS(widths); i++) {
        char name[64];
        g_snprintf(name, sizeof name, "inputs-%d.weights", widths[i]);
        char *model = edited_copy(g_base, name, edit_model_inputs, &widths[i]);
        g_snprintf(name, sizeof name, "inputs-%d.ckpt", widths[i]);
        char *ckpt = edited_copy(g_base_ckpt, name, edit_checkpoint_inputs, &widths[i]);
        gchar *err = NULL;
        int rc = run_exe(&err, "train", "--images", g_train_photos, "--init", model, "--out", out, "--epochs", "1",
                         SHORT_RUN, NULL);
        CHECK(err && strstr(err, model), "train --init: the message does not name %s: %s", model, err ? err : "");
        expect_refusal(rc, err, out, "arch.in_channels", "train --init");
        rc = run_exe(&err, "train", "--images", g_train_photos, "--resume", ckpt, "--out", out, "--epochs", "2", NULL);
        CHECK(err && strstr(err, ckpt), "train --resume: the message does not name %s: %s", ckpt, err ? err : "");
        expect_refusal(rc, err, out, "arch.in_channels", "train --resume");
        rc = run_exe(&err, "eval", "--model", model, "--data", g_work, NULL);
        CHECK(err && strstr(err, model), "eval: the message does not name %s: %s", model, err ? err : "");
        expect_refusal(rc, err, NULL, "arch.in_channels", "eval --data");
        g_free(model), g_free(ckpt);
    }
    g_free(out);
}

/* --init X --rebin where X has as many bins as the data but other cells:
 * its classifier is started afresh, not kept (lr 1e-9: what is kept stays). */
static void test_rebin_shifted_bins(void) {
    char *shifted = edited_copy(g_base, "shifted.weights", edit_shift_bins, NULL), *out = work_path("rebinned.weights");
    gchar *err = NULL;
    int rc = run_exe(&err, "train", "--images", g_train_photos, "--init", shifted, "--rebin", "--out", out, "--epochs",
                     "1", "--lr", "1e-9", SHORT_RUN, NULL);
    CHECK(rc == 0, "--init --rebin failed (%d): %s", rc, err);
    g_free(err);
    nn_weights a, b;
    nn_error e = {0};
    if (nn_weights_load(&a, shifted, &e) == NN_OK && nn_weights_load(&b, out, &e) == NN_OK) {
        const nn_tensor_entry *hb = nn_weights_find_tensor(&b, "head.conv.weight");
        const nn_tensor_entry *ea = nn_weights_find_tensor(&a, "enc0.0.conv.weight");
        const nn_tensor_entry *eb = nn_weights_find_tensor(&b, "enc0.0.conv.weight");
        double head = 0, body = 0;
        for (uint64_t i = 0; hb && i < hb->dims[0] * hb->dims[1]; i++) head = fmax(head, fabs(hb->data[i] - 0.5));
        for (uint64_t i = 0; ea && eb && i < ea->dims[0] * ea->dims[1] * 9; i++)
            body = fmax(body, fabs((double)ea->data[i] - eb->data[i]));
        printf("--rebin over shifted bins: the classifier is %.3g from the file's 0.5, the first conv moved %.3g\n",
               head, body);
        CHECK(hb && head > 0.1, "the classifier over shifted bins was kept");
        CHECK(ea && eb && body < 1e-4, "the rest of the model was not kept");
        nn_weights_free(&a), nn_weights_free(&b);
    } else CHECK(0, "%s", e.msg);
    g_free(shifted), g_free(out);
}

/* A checkpoint whose per-step history is at its cap: the resumed run
 * thins it, and the checkpoint it writes loads again. */
static void test_history_cap(void) {
    char *ckpt = edited_copy(g_base_ckpt, "full-history.ckpt", edit_full_history, NULL);
    char *out = work_path("full-history.weights");
    gchar *err = NULL;
    int rc = run_exe(&err, "train", "--images", g_train_photos, "--resume", ckpt, "--out", out, "--epochs", "2",
                     "--checkpoint", ckpt, NULL);
    CHECK(rc == 0, "resuming a full history failed (%d): %s", rc, err);
    g_free(err);
    nn_weights w;
    nn_error e = {0};
    const float *h = NULL;
    uint64_t n = 0;
    CHECK(nn_weights_load(&w, ckpt, &e) == NN_OK, "the checkpoint written does not load: %s", e.msg);
    if (!e.status) {
        CHECK(nn_weights_get_f32_array(&w, "history.step_epoch", &h, &n, NULL) == NN_OK && n < HISTORY_MAX_STEPS &&
                  n > HISTORY_MAX_STEPS / 4, "the step history holds %llu entries", (unsigned long long)n);
        for (uint64_t i = 1; h && i < n; i++)
            if (!(h[i] >= h[i - 1])) {
                CHECK(0, "the thinned history goes back at %llu", (unsigned long long)i);
                break;
            }
        nn_weights_free(&w);
    }
    g_free(ckpt), g_free(out);
}

/* The keys held out of a folder's photos by the split (seed 7, 20 %). */
static GHashTable *held_keys(const char *dir, int expect, int *n_train) {
    photo_set ps;
    GHashTable *keys = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    if (!load(&ps, dir, NULL, IMAGES_MAX_SIDE)) return keys;
    CHECK(ps.n == expect, "%d photos, not %d", ps.n, expect);
    int *train = g_new(int, ps.n), *held = g_new(int, ps.n), nh = 0;
    photo_set_split(&ps, 7, 0.2, NULL, train, n_train, held, &nh);
    for (int k = 0; k < nh; k++) g_hash_table_add(keys, g_memdup2(&ps.key[held[k]], sizeof(uint64_t)));
    g_free(train), g_free(held);
    photo_set_free(&ps);
    return keys;
}

/* Photos added to a folder never move a photo from one side of the split
 * to the other, and a folder moved elsewhere splits the same way. */
static void test_split_stable(void) {
    char *dir = make_folder("split"), *sub = make_folder("split/sub"), path[4096];
    GHashTable *before = NULL, *after = NULL;
    int train_before = 0, train_after = 0;
    for (int i = 0; i < 40; i++) {
        char name[32];
        g_snprintf(name, sizeof name, "p%02d.png", i);
        in_folder(path, sizeof path, i % 3 ? dir : sub, name);
        write_photo(path, 40, 30, 200, 40 + 4 * i, 60);
        if (i == 29) before = held_keys(dir, 30, &train_before);
    }
    after = held_keys(dir, 40, &train_after);
    GHashTableIter it;
    gpointer key;
    int kept = 0;
    g_hash_table_iter_init(&it, before);
    while (g_hash_table_iter_next(&it, &key, NULL)) kept += g_hash_table_contains(after, key);
    printf("split of 30 photos: %u held out; after 10 more: %u held out, %d of the first still held out\n",
           g_hash_table_size(before), g_hash_table_size(after), kept);
    CHECK(g_hash_table_size(before) >= 1 && kept == (int)g_hash_table_size(before), "a held-out photo moved to training");
    CHECK(train_after - train_before == 10 - ((int)g_hash_table_size(after) - (int)g_hash_table_size(before)),
          "a training photo moved to validation");
    char *moved = work_path("split-moved");
    CHECK(g_rename(dir, moved) == 0, "cannot move the folder");
    int train_moved = 0;
    GHashTable *elsewhere = held_keys(moved, 40, &train_moved);
    CHECK(train_moved == train_after && g_hash_table_size(elsewhere) == g_hash_table_size(after),
          "the moved folder splits differently");
    g_hash_table_iter_init(&it, after);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (!g_hash_table_contains(elsewhere, key)) {
            CHECK(0, "the moved folder holds out other photos");
            break;
        }
    g_hash_table_destroy(before), g_hash_table_destroy(after), g_hash_table_destroy(elsewhere);
    g_free(dir), g_free(sub), g_free(moved);
}

/* A resumed run keeps its photos and crops: other folders or counts on the
 * command line are refused, naming both; a shared model names its folders
 * without the user's paths, while the checkpoint keeps them whole. */
static void test_resume_keeps_photos(void) {
    char *other = make_folder("other-photos"), *out = work_path("resumed.weights"), path[4096];
    in_folder(path, sizeof path, other, "x.png"), write_photo(path, 50, 40, 100, 200, 30);
    in_folder(path, sizeof path, other, "y.png"), write_photo(path, 50, 40, 200, 100, 30);
    gchar *err = NULL;
    int rc = run_exe(&err, "train", "--images", other, "--resume", g_base_ckpt, "--out", out, "--epochs", "2", NULL);
    expect_refusal(rc, err, out, "a resumed run keeps its photos", "--resume with other --images");
    rc = run_exe(&err, "train", "--images", g_train_photos, "--resume", g_base_ckpt, "--out", out, "--crops", "128",
                 "--epochs", "2", NULL);
    expect_refusal(rc, err, out, "--crops 128: the checkpoint's run takes 64 crops", "--resume with other --crops");
    rc = run_exe(&err, "train", "--images", g_train_photos, "--resume", g_base_ckpt, "--out", out, "--val", "48",
                 "--epochs", "2", NULL);
    expect_refusal(rc, err, out, "--val 48: the checkpoint's run validates on 32 crops", "--resume with other --val");
    rc = run_exe(&err, "train", "--images", g_train_photos, "--resume", g_base_ckpt, "--out", out, "--val-images", other,
                 "--epochs", "2", NULL);
    expect_refusal(rc, err, out, "the checkpoint validates on photos held out of --images",
                   "--resume with other --val-images");
    rc = run_exe(&err, "train", "--images", g_train_photos, "--resume", g_base_ckpt, "--out", out, "--val-fraction",
                 "0.3", "--epochs", "2", NULL);
    expect_refusal(rc, err, out, "--val-fraction 0.3: the checkpoint's run holds out 0.1",
                   "--resume with other --val-fraction");
    /* the checkpoint's own values are taken */
    rc = run_exe(&err, "train", "--images", g_train_photos, "--resume", g_base_ckpt, "--out", out, "--val", "32",
                 "--val-fraction", "0.1", "--epochs", "1", NULL);
    CHECK(rc == 0, "--resume with the checkpoint's --val and --val-fraction refused (%d): %s", rc, err);
    g_free(err);
    nn_weights w;
    nn_error e = {0};
    const char *folders = NULL;
    char *real = realpath(g_train_photos, NULL);
    if (nn_weights_load(&w, g_base, &e) == NN_OK) {
        CHECK(nn_weights_get_str(&w, "train.photo_folders", &folders, NULL) == NN_OK && strcmp(folders, "train-photos") == 0,
              "the model names its photo folders as '%s', not 'train-photos'", folders ? folders : "");
        nn_weights_free(&w);
    } else CHECK(0, "%s", e.msg);
    if (nn_weights_load(&w, g_base_ckpt, &e) == NN_OK) {
        CHECK(nn_weights_get_str(&w, "checkpoint.photo_folders", &folders, NULL) == NN_OK && real &&
                  strcmp(folders, real) == 0, "the checkpoint keeps '%s', not '%s'", folders ? folders : "", real);
        nn_weights_free(&w);
    } else CHECK(0, "%s", e.msg);
    free(real);
    g_free(other), g_free(out);
}

/* Where a photo of this name falls in the split of SHORT_RUN's seed (4):
 * held out by the rule when below --val-fraction. */
static double split_place(const char *name) {
    return (double)(derive_seed(4, 0xD0, photo_path_key(name)) >> 11) * 0x1.0p-53;
}

/* The keys a checkpoint's split forced to the side their place does not choose. */
static GArray *forced_keys(const char *ckpt) {
    GArray *keys = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    nn_weights w;
    nn_error e = {0};
    const uint32_t *halves = NULL;
    uint64_t n = 0;
    CHECK(nn_weights_load(&w, ckpt, &e) == NN_OK, "%s", e.msg);
    if (e.status) return keys;
    CHECK(nn_weights_get_u32_array(&w, "checkpoint.split_forced", &halves, &n, NULL) == NN_OK && n % 2 == 0,
          "%s: no even 'checkpoint.split_forced'", ckpt);
    for (uint64_t k = 0; halves && k + 1 < n; k += 2) {
        const uint64_t key = (uint64_t)halves[k] | (uint64_t)halves[k + 1] << 32;
        g_array_append_val(keys, key);
    }
    nn_weights_free(&w);
    return keys;
}

/* A split of five photos where none falls below --val-fraction 0.5 (the
 * lowest is held out anyway), and one where all do (the highest trains):
 * a sixth photo on the other side, added before --resume, lets the rule
 * place every photo, yet the forced photo stays where it was. */
static void test_resume_keeps_forced_split(void) {
    for (int all_below = 0; all_below < 2; all_below++) {
        char *dir = make_folder(all_below ? "forced-train" : "forced-held"), path[4096], name[32], forced[32] = "";
        char *out = work_path(all_below ? "forced-train.weights" : "forced-held.weights");
        char *ckpt = g_strconcat(out, ".ckpt", NULL);
        int written = 0, added = 0;
        double extreme = all_below ? -1.0 : 2.0;
        for (int i = 0; i < 10000 && (written < 5 || !added); i++) {
            g_snprintf(name, sizeof name, "p%04d.png", i);
            const gboolean below = split_place(name) < 0.5;
            if (below != (all_below != 0)) { /* on the other side: the name added before --resume */
                added = added ? added : i + 1;
                continue;
            }
            if (written == 5) continue;
            in_folder(path, sizeof path, dir, name), write_photo(path, 60, 50, 240 - 40 * written, 60 + 35 * written, 90);
            written++;
            if (all_below ? split_place(name) > extreme : split_place(name) < extreme)
                extreme = split_place(name), g_strlcpy(forced, name, sizeof forced);
        }
        CHECK(written == 5 && added, "setup: no names for the split");
        gchar *said = NULL, *err = NULL;
        int rc = run_exe_out(&said, &err, "train", "--images", dir, "--out", out, "--epochs", "1", "--width", "8",
                             "--val-fraction", "0.5", SHORT_RUN, NULL);
        const char *first = all_below ? "training on 1 photos" : "training on 4 photos";
        CHECK(rc == 0 && said && strstr(said, first), "the first run of five (%s): exit %d: %s%s",
              all_below ? "all below" : "none below", rc, said ? said : "", err ? err : "");
        g_free(said), g_free(err);
        GArray *keys = forced_keys(ckpt);
        const uint64_t want = photo_path_key(forced);
        CHECK(keys->len == 1 && g_array_index(keys, uint64_t, 0) == want,
              "the checkpoint records %u forced photos, not %s alone", keys->len, forced);
        g_array_free(keys, TRUE);
        g_snprintf(name, sizeof name, "p%04d.png", added - 1);
        in_folder(path, sizeof path, dir, name), write_photo(path, 60, 50, 30, 220, 200);
        rc = run_exe_out(&said, &err, "train", "--images", dir, "--resume", ckpt, "--out", out, "--epochs", "2", NULL);
        const char *then = all_below ? "training on 2 photos" : "training on 4 photos";
        const char *held = all_below ? "of 4 held-out photos" : "of 2 held-out photos";
        printf("forced split (%s), %s forced; after %s was added: %s", all_below ? "all below" : "none below", forced,
               name, said && strstr(said, "training on") ? strstr(said, "training on") : "(no split)\n");
        CHECK(rc == 0 && said && strstr(said, then) && strstr(said, held),
              "resumed with a sixth photo, %s moved across the split (exit %d, expected '%s' and '%s'): %s%s", forced, rc,
              then, held, said ? said : "", err ? err : "");
        g_free(said), g_free(err);
        keys = forced_keys(ckpt);
        CHECK(keys->len == 1 && g_array_index(keys, uint64_t, 0) == want, "the resumed checkpoint lost %s", forced);
        g_array_free(keys, TRUE);
        g_free(dir), g_free(out), g_free(ckpt);
    }
}

static void edit_accumulate(nn_weights *w, const void *unused) {
    (void)unused;
    nn_weights_set_u32(w, "train.accumulate", 65537);
}
static void edit_global_step(nn_weights *w, const void *unused) {
    (void)unused;
    nn_weights_set_u64(w, "checkpoint.global_step", UINT64_MAX);
}

/* Runs colorize-train ARGS… (NULL-ended) and expects exit code `code` with
 * `what` in its standard error, and not `never` when given. */
G_GNUC_NULL_TERMINATED static void expect_message(int code, const char *what, const char *never, const char *first,
                                                   ...) {
    va_list ap;
    va_start(ap, first);
    gchar *err = NULL;
    int rc = run_exe_v(NULL, &err, first, ap);
    va_end(ap);
    CHECK(rc == code && err && strstr(err, what) && !(never && strstr(err, never)),
          "exit %d (not %d) or the message lacks '%s': %s", rc, code, what, err ? err : "");
    g_free(err);
}

/* Messages that name the problem, found before the work. */
static void test_messages(void) {
    char *dir = make_folder("messages"), *bomb = NULL, *out = work_path("messages.weights");
    char photo[4096];
    in_folder(photo, sizeof photo, dir, "a.png"), write_photo(photo, 60, 40, 220, 90, 30);
    in_folder(photo, sizeof photo, dir, "b.png"), write_photo(photo, 60, 40, 30, 90, 220);
    bomb = g_build_filename(dir, "bomb.png", NULL);
    CHECK(test_png_declaring(bomb, 30000, 30000), "cannot write %s", bomb);
    /* most photos held out still leaves one to train on (two usable photos, --val-fraction 0.9) */
    gchar *said = NULL, *err = NULL;
    char *argv[] = {(char *)g_exe, "train", "--images", dir, "--out", out, "--epochs", "1", "--width", "8",
                    "--val-fraction", "0.9", SHORT_RUN, NULL};
    g_spawn_sync(NULL, argv, NULL, 0, NULL, NULL, &said, &err, NULL, NULL);
    CHECK(said && strstr(said, "training on 1 photos") && strstr(said, "of 1 held-out photos"),
          "--val-fraction 0.9 over two photos: %s%s", said ? said : "", err ? err : "");
    g_free(said), g_free(err);
    /* a photo over the limit in train: no option of train raises it, so none is named */
    expect_message(0, "above the limit of 300 megapixels", "--max-megapixels", "train", "--images", dir, "--out", out,
                   "--epochs", "1", "--width", "8", SHORT_RUN, NULL);
    char *accumulate = edited_copy(g_base_ckpt, "accumulate.ckpt", edit_accumulate, NULL);
    char *step = edited_copy(g_base_ckpt, "step.ckpt", edit_global_step, NULL);
    expect_message(1, "'train.accumulate' is 65537, outside 1..65536", NULL, "train", "--images", g_train_photos,
                   "--resume", accumulate, "--out", out, NULL);
    expect_message(1, "'checkpoint.global_step' is 18446744073709551615", NULL, "train", "--images", g_train_photos,
                   "--resume", step, "--out", out, NULL);
    expect_message(1, "is a checkpoint: --resume", NULL, "train", "--images", g_train_photos, "--init", g_base_ckpt,
                   "--out", out, SHORT_RUN, NULL);
    expect_message(2, "--width goes with a new model", NULL, "train", "--images", g_train_photos, "--init", g_base,
                   "--width", "16", "--out", out, NULL);
    expect_message(2, "--batch 128 is more than --crops 64", NULL, "train", "--images", g_train_photos, "--out", out,
                   "--crops", "64", "--batch", "128", NULL);
    expect_message(2, "--out-dir: the folder name is empty", NULL, "colorize", "--out-dir", "", photo, NULL);
    /* an output that cannot be written is named before the model is even read */
    expect_message(2, "/no/such/folder/out.png", "no-such.weights", "colorize", "--model", "no-such.weights", photo,
                   "/no/such/folder/out.png", NULL);
    g_free(accumulate), g_free(step), g_free(dir), g_free(bomb), g_free(out);
}

/* Counts that would not fit: refused before any allocation, naming them. */
static void test_counts_past_memory(void) {
    const uint32_t counts[] = {1073741824u, 2147483647u};
    char *out = work_path("counts.weights");
    for (size_t i = 0; i < G_N_ELEMENTS(counts); i++) {
        char *ckpt = edited_copy(g_base_ckpt, "counts.ckpt", edit_validation_images, &counts[i]);
        gchar *err = NULL;
        int rc = run_exe(&err, "train", "--images", g_train_photos, "--resume", ckpt, "--out", out, "--epochs", "2",
                         NULL);
        expect_refusal(rc, err, out, "train.validation_images", "a checkpoint's validation count");
        g_free(ckpt);
    }
    gchar *err = NULL;
    int rc = run_exe(&err, "train", "--images", g_train_photos, "--out", out, "--crops", "16777216", "--val", "16777216",
                     "--width", "8", NULL);
    expect_refusal(rc, err, out, "GB of memory", "--crops 16777216 --val 16777216");
    g_free(out);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: test_hostile MODEL.weights colorize-train FUZZ_CORPUS\n");
        return 1;
    }
    g_model = argv[1], g_exe = argv[2];
    signal(SIGALRM, on_watchdog);
    g_work = g_dir_make_tmp("colorize-hostile-XXXXXX", NULL);
    test_cache_size_overflow();
    test_cache_size_wraps_exactly();
    test_cache_bad_entries();
    test_cache_nanoseconds();
    test_cache_retries_unreadable();
    test_no_upscaling();
    test_special_files();
    test_links();
    test_path_too_long();
    test_unreadable_subfolder();
    test_fuzz_seeds(argv[3]);
    make_base_run();
    test_input_channels();
    test_rebin_shifted_bins();
    test_history_cap();
    test_counts_past_memory();
    test_split_stable();
    test_resume_keeps_photos();
    test_resume_keeps_forced_split();
    test_messages();
    g_free(g_train_photos), g_free(g_base), g_free(g_base_ckpt);
    char *cmd = g_strdup_printf("rm -rf '%s'", g_work);
    CHECK(system(cmd) == 0, "cleanup");
    g_free(cmd), g_free(g_work);
    return test_finish("test_hostile");
}
