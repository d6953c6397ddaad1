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
#include "hostile_tests.h"

/* Seconds a refusal of a device given as an image may take (it is refused
 * before the model is read; reading /dev/zero until the decoder gave up
 * took 13 s). */
#define SPECIAL_FILE_SECONDS 5

static void set_mtime_ns(const char *path, time_t sec, long nsec) {
    struct timespec t[2] = {{sec, nsec}, {sec, nsec}};
    CHECK(utimensat(AT_FDCWD, path, t, 0) == 0, "cannot set the time of %s", path);
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

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: test_hostile MODEL.weights colorize-train FUZZ_CORPUS\n");
        return 1;
    }
    g_model = argv[1], g_exe = argv[2];
    watchdog_install();
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
