/* test_trainer_colorize.c — `colorize-train colorize` for the trainer
 * test: a small PNG (L kept, alpha kept), outputs never overwriting inputs,
 * limits and address-space failures, a colour reference and a palette,
 * point hints, and batches with --out-dir. */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "synth_cifar.h"
#include "testimages.h"
#include "testlib.h"
#include "trainer.h"
#include "trainer_tests.h"

/* How many entries of the work folder start with `prefix`. */
static int count_prefixed(const char *prefix) {
    GDir *d = g_dir_open(g_work, 0, NULL);
    int n = 0;
    for (const char *e; d && (e = g_dir_read_name(d));) n += g_str_has_prefix(e, prefix);
    if (d) g_dir_close(d);
    return n;
}

/* The result is written through a unique temporary file: a user's file
 * named OUT.tmp and a symbolic link beside the output are never touched,
 * and no temporary file is left after success or failure. */
static void test_colorize_output_safety(const char *model, const char *in) {
    char *out = work_path("safe.png"), *user = work_path("safe.png.tmp"), *target = work_path("precious.txt");
    char *link = work_path("safe.png.tmp-link");
    CHECK(g_file_set_contents(user, "user data", -1, NULL) && g_file_set_contents(target, "precious", -1, NULL),
          "cannot write the test files");
    CHECK(symlink(target, link) == 0, "cannot make a symbolic link");
    CHECK(run_command(command_colorize, "--model", model, "--threads", "2", in, out, NULL) == 0, "colorize failed");
    gchar *u = NULL, *t = NULL;
    g_file_get_contents(user, &u, NULL, NULL);
    g_file_get_contents(target, &t, NULL, NULL);
    CHECK(u && strcmp(u, "user data") == 0, "the user's %s was changed or removed", user);
    CHECK(t && strcmp(t, "precious") == 0, "a symbolic link beside the output was followed");
    /* safe.png, safe.png.tmp and the link: nothing else may start with "safe.png" */
    int left = count_prefixed("safe.png");
    printf("colorize output: OUT.tmp and a link beside it untouched, %d entries named safe.png* (3 expected)\n", left);
    CHECK(left == 3, "%d entries named safe.png* after colorize: a temporary file was left", left);
    char *locked = work_path("locked"), *inside = g_build_filename(locked, "x.png", NULL);
    g_mkdir(locked, 0500);
    if (access(locked, W_OK) != 0) { /* as root the folder stays writable: nothing to check then */
        CHECK(run_command(command_colorize, "--model", model, in, inside, NULL) == 1, "an unwritable output succeeded");
        GDir *d = g_dir_open(locked, 0, NULL);
        CHECK(d && !g_dir_read_name(d), "a temporary file was left in the unwritable folder");
        if (d) g_dir_close(d);
    }
    g_rmdir(locked);
    g_free(u), g_free(t), g_free(out), g_free(user), g_free(target), g_free(link), g_free(locked), g_free(inside);
}

#if !defined(__SANITIZE_ADDRESS__)
typedef struct {
    const char *model, *in, *out;
} limited_colorize;

static int colorize_16_threads(void *ctx) {
    const limited_colorize *c = ctx;
    return run_command(command_colorize, "--model", c->model, "--threads", "16", c->in, c->out, NULL);
}
#endif

/* The Lab planes of 2^20 images (12.9 GB) where the address space grows by
 * 256 MB only: a message naming the options, not an abort. (Not under
 * AddressSanitizer, which needs terabytes of address space.) */
#if !defined(__SANITIZE_ADDRESS__)
static int lab_planes_past_memory(void *ctx) {
    (void)ctx;
    cifar_set c = {1 << 20, NULL, NULL}; /* never read: the planes are allocated first */
    lab_set s;
    GError *error = NULL;
    const gboolean ok = lab_set_init(&s, &c, 0, c.n, &error);
    if (ok) lab_set_free(&s);
    else fprintf(stderr, "%s\n", error->message);
    fflush(stderr); /* the child ends in _exit */
    g_clear_error(&error);
    return ok ? 0 : 1;
}

static void test_lab_planes_past_memory(void) {
    gchar *msg = NULL;
    const int status = run_under_address_limit(256, lab_planes_past_memory, NULL, &msg);
    printf("Lab planes of 2^20 images under an address-space limit: %s %d: %s", WIFEXITED(status) ? "exit" : "signal",
           WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), msg ? msg : "\n");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1 && msg && strstr(msg, "1048576") && strstr(msg, "--crops") &&
              strstr(msg, "cannot be allocated"), "no clear failure for Lab planes past memory (status %d): %s", status,
          msg ? msg : "");
    g_free(msg);
}
#endif

/* Under an address-space limit (ulimit -v) that leaves room for the model
 * but not for OpenBLAS's buffers of 16 threads, colorize fails at once with
 * a message, where Debian's OpenBLAS alone would retry its mapping forever.
 * (Not under AddressSanitizer, which needs terabytes of address space.) */
static void test_colorize_address_space(const char *model, const char *in) {
#if defined(__SANITIZE_ADDRESS__)
    (void)model, (void)in;
    printf("address-space limit: skipped under AddressSanitizer\n");
#else
    char *out = work_path("ulimit.png");
    limited_colorize c = {model, in, out};
    gchar *msg = NULL;
    int status = run_under_address_limit(1536, colorize_16_threads, &c, &msg);
    printf("colorize under an address-space limit, 16 threads: %s -> %s", WIFEXITED(status) ? "exited" : "killed",
           msg ? msg : "\n");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1 && msg && strstr(msg, "address space"),
          "no clear failure under an address-space limit (status %d): %s", status, msg ? msg : "");
    g_free(msg), g_free(out);
#endif
}

/* Images above the pixel limit are refused from their header, at once. */
static void test_colorize_limits(const char *model) {
    char *bomb = work_path("bomb.png"), *out = work_path("bomb-out.png");
    CHECK(test_png_declaring(bomb, 30000, 30000), "cannot write %s", bomb);
    char *argv[] = {(char *)g_exe, "colorize", "--model", (char *)model, bomb, out, NULL};
    gchar *err = NULL;
    gint64 t0 = g_get_monotonic_time();
    int rc = run_exe(argv, &err);
    double s = (g_get_monotonic_time() - t0) / 1e6;
    printf("a tiny PNG declaring 30000x30000 -> exit %d in %.2f s: %s", rc, s, err ? err : "\n");
    CHECK(rc == 1 && err && strstr(err, "bomb.png") && strstr(err, "above the limit of 300 megapixels"),
          "the decompression bomb was not refused from its header: exit %d, %s", rc, err);
    CHECK(!g_file_test(out, G_FILE_TEST_EXISTS), "an output was written");
    g_free(err), g_free(bomb), g_free(out);
}

/* Mean Lab b of a PNG's opaque pixels. */
static double mean_b(const char *path) {
    GdkPixbuf *pb = gdk_pixbuf_new_from_file(path, NULL);
    if (!pb) return NAN;
    const int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb), nc = gdk_pixbuf_get_n_channels(pb);
    double sum = 0.0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float lab[3];
            nn_srgb8_to_lab(lab, gdk_pixbuf_read_pixels(pb) + y * gdk_pixbuf_get_rowstride(pb) + nc * x, 1);
            sum += lab[2];
        }
    g_object_unref(pb);
    return sum / ((double)w * h);
}

/* colorize --palette and --reference: a warm palette makes the result
 * warmer than without; a gray reference, a missing one, a file that is not
 * a palette, a palette with a bad line and a weight of 0 are refused and
 * write no output; eval --reference needs --photos. */
static void test_colorize_reference(const char *model, const char *in, const char *plain) {
    char *warm = work_path("warm.gpl"), *bad = work_path("bad.gpl"), *gray = work_path("gray.png");
    char *out = work_path("ref-out.png"), *missing = work_path("missing-ref.png");
    CHECK(g_file_set_contents(warm, "GIMP Palette\nName: warm\nColumns: 3\n# a comment\n200 120 60 orange\n"
                              "230 190 120\n120 60 30 brown\n", -1, NULL) &&
              g_file_set_contents(bad, "GIMP Palette\n200 120 60\n12 x 40\n", -1, NULL),
          "cannot write the palettes");
    GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, 20, 20);
    gdk_pixbuf_fill(pb, 0x808080ff);
    CHECK(gdk_pixbuf_save(pb, gray, "png", NULL, NULL), "cannot write the gray reference");
    g_object_unref(pb);
    int rc = run_command(command_colorize, "--model", model, "--threads", "2", "--palette", warm, in, out, NULL);
    const double b_plain = mean_b(plain), b_warm = mean_b(out);
    printf("colorize --palette warm.gpl: mean b %.1f (%.1f without)\n", b_warm, b_plain);
    CHECK(rc == 0 && b_warm > b_plain + 3, "a warm palette did not make the result warmer (rc %d, b %.1f, %.1f without)",
          rc, b_warm, b_plain);
    g_remove(out);
    const char *refusals[][2] = {{"--reference", gray}, {"--reference", missing}, {"--palette", gray}, {"--palette", bad}};
    for (int i = 0; i < 4; i++) {
        rc = run_command(command_colorize, "--model", model, refusals[i][0], refusals[i][1], in, out, NULL);
        CHECK(rc == 1 && !g_file_test(out, G_FILE_TEST_EXISTS), "%s %s was not refused (rc %d)", refusals[i][0],
              refusals[i][1], rc);
    }
    /* a bad line shown cut to 40 bytes, before a character that would not fit whole (é at bytes 40-41) */
    char *accent = work_path("accent.gpl");
    CHECK(g_file_set_contents(accent, "GIMP Palette\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xc3\xa9\xc3\xa9 1 2 3\n", -1, NULL),
          "cannot write %s", accent);
    char *argv[] = {(char *)g_exe, "colorize", "--model", (char *)model, "--palette", accent, (char *)in, out, NULL};
    gchar *err = NULL;
    rc = run_exe(argv, &err);
    CHECK(rc == 1 && err && strstr(err, "line 2 \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\"") &&
              g_utf8_validate(err, -1, NULL), "a palette line cut inside a character: exit %d: %s", rc, err ? err : "");
    g_free(err), g_free(accent);
    CHECK(run_command(command_colorize, "--model", model, "--palette", warm, "--reference-weight", "0", in, out, NULL) == 2,
          "--reference-weight 0 was not refused");
    CHECK(run_command(command_colorize, "--model", model, "--reference", ",", in, out, NULL) == 2 &&
              !g_file_test(out, G_FILE_TEST_EXISTS), "--reference with no file was not refused");
    CHECK(run_command(command_eval, "--data", g_dir, "--model", model, "--reference", "self", NULL) == 2,
          "eval --reference without --photos was not refused");
    g_free(warm), g_free(bad), g_free(gray), g_free(out), g_free(missing);
}

/* A 24×24 image of one colour (with alpha: RGBA), written to the work folder. */
static char *flat_image(const char *name, guint32 rgba, gboolean alpha) {
    char *path = work_path(name);
    GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, alpha, 8, 24, 24);
    gdk_pixbuf_fill(pb, rgba);
    CHECK(gdk_pixbuf_save(pb, path, "png", NULL, NULL), "cannot write %s", path);
    g_object_unref(pb);
    return path;
}

static char *flat_photo(const char *name, guint32 rgb) { return flat_image(name, rgb, FALSE); }

/* Whether two files hold the same bytes. */
static gboolean same_contents(const char *a, const char *b) {
    gchar *x = NULL, *y = NULL;
    gsize nx = 0, ny = 0;
    const gboolean same = g_file_get_contents(a, &x, &nx, NULL) && g_file_get_contents(b, &y, &ny, NULL) && nx == ny &&
                          memcmp(x, y, nx) == 0;
    g_free(x), g_free(y);
    return same;
}

/* References as users give them: the option twice counts both, as one
 * comma-separated list does ("a, b" with its space too); an empty name in
 * the list, an empty --reference, a gray photo among colour ones, a weight
 * of nan and a weight with no reference are refused; no output may be a reference or the hint image, even with
 * --overwrite, in either form; a failed --out-dir run leaves none of the
 * folders it made. */
static void test_colorize_reference_lists(const char *model, const char *in) {
    char *warm = flat_photo("warm-ref.png", 0xd07030ff), *cool = flat_photo("cool-ref.png", 0x3060c0ff);
    char *gray = flat_photo("gray-ref.png", 0x808080ff), *keep = flat_photo("keep.png", 0xd07030ff);
    char *both = work_path("both.png"), *list = work_path("list.png"), *one = work_path("one.png");
    char *pair = g_strdup_printf("%s, %s", warm, cool), *with_gray = g_strdup_printf("%s,%s", warm, gray);
    char *trailing = g_strdup_printf("%s,", warm), *fresh = work_path("fresh-out-dir"),
         *fresh_sub = g_build_filename(fresh, "sub", NULL);
    CHECK(run_command(command_colorize, "--model", model, "--reference", warm, "--reference", cool, in, both, NULL) == 0 &&
              run_command(command_colorize, "--model", model, "--reference", pair, in, list, NULL) == 0 &&
              run_command(command_colorize, "--model", model, "--reference", cool, in, one, NULL) == 0,
          "colorize with two references failed");
    CHECK(same_contents(both, list) && !same_contents(both, one),
          "--reference given twice is not the list of both (or only its last counted)");
    const char *bad[][2] = {{"--reference", trailing}, {"--reference", ""}, {"--reference-weight", "3"}};
    for (int i = 0; i < 3; i++) {
        g_remove(one);
        CHECK(run_command(command_colorize, "--model", model, bad[i][0], bad[i][1], in, one, NULL) == 2 &&
                  !g_file_test(one, G_FILE_TEST_EXISTS), "%s %s was not refused", bad[i][0], bad[i][1]);
    }
    CHECK(run_command(command_colorize, "--model", model, "--reference", warm, "--reference-weight", "nan", in, one,
                      NULL) == 2 && !g_file_test(one, G_FILE_TEST_EXISTS), "--reference-weight nan was not refused");
    CHECK(run_command(command_colorize, "--model", model, "--reference", with_gray, in, one, NULL) == 1 &&
              !g_file_test(one, G_FILE_TEST_EXISTS), "a gray photo among the references was not refused");
    /* the reference, and the hint image, as the output: refused, the file intact */
    char *hints = flat_image("hint-image.png", 0xd0703000, TRUE), /* no opaque pixel: no hint, a hint image all the same */
        *hints_kept = flat_image("hint-kept.png", 0xd0703000, TRUE);
    const char *read_files[] = {warm, hints};
    for (int i = 0; i < 2; i++) {
        const char *out = read_files[i];
        int rc = run_command(command_colorize, "--model", model, "--overwrite", "--reference", keep, "--hints", hints,
                             "--reference", warm, in, out, NULL);
        CHECK(rc == 1 && same_contents(out, i ? hints_kept : keep), "colorize --overwrite wrote over %s (rc %d)", out, rc);
    }
    /* an input named as the reference, in another folder: its output in the reference's folder is the reference */
    char *src = work_path("src"), *named = g_build_filename(src, "warm-ref.png", NULL);
    g_mkdir(src, 0755);
    gchar *bytes = NULL;
    gsize size = 0;
    CHECK(g_file_get_contents(in, &bytes, &size, NULL) && g_file_set_contents(named, bytes, (gssize)size, NULL),
          "cannot copy the input to %s", named);
    g_free(bytes);
    int rc = run_command(command_colorize, "--model", model, "--overwrite", "--reference", warm, "--out-dir", g_work,
                         named, NULL);
    CHECK(rc == 1 && same_contents(warm, keep), "--out-dir --overwrite wrote over the reference (rc %d)", rc);
    rc = run_command(command_colorize, "--model", model, "--reference", "no-such-reference.png", "--out-dir", fresh_sub,
                     in, NULL);
    CHECK(rc == 1 && !g_file_test(fresh, G_FILE_TEST_EXISTS), "a failed --out-dir run left the folders it made (rc %d)",
          rc);
    printf("colorize references: the option twice = the list; trailing comma, gray among colour, weight alone refused; "
           "the reference and the hint image never written over\n");
    g_free(warm), g_free(cool), g_free(gray), g_free(keep), g_free(both), g_free(list), g_free(one), g_free(pair);
    g_free(with_gray), g_free(trailing), g_free(fresh), g_free(fresh_sub), g_free(hints), g_free(hints_kept), g_free(src), g_free(named);
}

void test_colorize(void) {
    char *model = work_path("a.weights"), *in = work_path("in.png"), *outp = work_path("out.png");
    const int w = 45, h = 30;
    GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, TRUE, 8, w, h);
    guchar *px = gdk_pixbuf_get_pixels(pb);
    int stride = gdk_pixbuf_get_rowstride(pb);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            guchar v = (guchar)(30 + 5 * x + (y > 15 ? 40 : 0));
            guchar *p = px + y * stride + 4 * x;
            p[0] = p[1] = p[2] = v;
            p[3] = (guchar)(x < 5 ? 0 : 255 - y);
        }
    CHECK(gdk_pixbuf_save(pb, in, "png", NULL, NULL), "cannot write the input PNG");
    int rc = run_command(command_colorize, "--model", model, "--threads", "2", in, outp, NULL);
    CHECK(rc == 0, "colorize failed with %d", rc);
    GdkPixbuf *res = gdk_pixbuf_new_from_file(outp, NULL);
    CHECK(res && gdk_pixbuf_get_width(res) == w && gdk_pixbuf_get_height(res) == h && gdk_pixbuf_get_has_alpha(res),
          "the output has the wrong size or no alpha");
    if (res) {
        const guchar *rp = gdk_pixbuf_read_pixels(res);
        int rs = gdk_pixbuf_get_rowstride(res), alpha_ok = 1;
        double max_dl = 0, chroma = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                const guchar *a = px + y * stride + 4 * x, *b = rp + y * rs + 4 * x;
                float la[3], lb[3];
                nn_srgb8_to_lab(la, a, 1);
                nn_srgb8_to_lab(lb, b, 1);
                max_dl = fmax(max_dl, fabs(la[0] - lb[0]));
                chroma += hypot(lb[1], lb[2]);
                alpha_ok &= a[3] == b[3];
            }
        printf("colorize %dx%d: max |dL| %.3f, mean chroma %.2f, alpha %s\n", w, h, max_dl, chroma / (w * h),
               alpha_ok ? "kept" : "CHANGED");
        CHECK(max_dl <= 1.0, "L changed by %g", max_dl);
        CHECK(alpha_ok, "alpha changed");
        CHECK(chroma / (w * h) > 1.0, "no colour was added");
        g_object_unref(res);
    }
    /* bad input: a clear error naming the file, no output */
    char *missing = work_path("missing.png"), *out2 = work_path("out2.png");
    CHECK(run_command(command_colorize, "--model", model, missing, out2, NULL) == 1 && !g_file_test(out2, G_FILE_TEST_EXISTS),
          "a missing input was not an error");
    CHECK(run_command(command_colorize, "--model", model, "--resolution", "0", in, out2, NULL) == 2, "resolution 0 accepted");
    CHECK(run_command(command_colorize, "--model", in, in, out2, NULL) == 1, "a PNG accepted as a model");
    g_object_unref(pb);
    test_colorize_output_safety(model, in);
    test_colorize_reference(model, in, outp);
    test_colorize_reference_lists(model, in);
    test_colorize_limits(model);
    test_colorize_address_space(model, in);
#if !defined(__SANITIZE_ADDRESS__)
    test_lab_planes_past_memory();
#endif
    g_free(model), g_free(in), g_free(outp), g_free(missing), g_free(out2);
}

/* The a* of pixel (x, y) of a PNG, or NAN. */
static double png_a_at(const char *path, int x, int y) {
    GdkPixbuf *pb = gdk_pixbuf_new_from_file(path, NULL);
    if (!pb) return NAN;
    const guchar *p = gdk_pixbuf_read_pixels(pb) + y * gdk_pixbuf_get_rowstride(pb) + x * gdk_pixbuf_get_n_channels(pb);
    float lab[3];
    nn_srgb8_to_lab(lab, p, 1);
    g_object_unref(pb);
    return lab[1];
}

/* colorize --out-dir: files and folders in one run, names kept, outputs
 * that exist skipped unless --overwrite, a broken file reported at the end
 * without stopping the others, and point hints for every file. */
/* Runs the real colorize-train; its standard output and error (g_free). */
static void run_exe_both(char **argv, gchar **out, gchar **err) {
    *out = *err = NULL;
    g_spawn_sync(NULL, argv, NULL, 0, NULL, NULL, out, err, NULL, NULL);
}

/* What colorize says: each command's usage names it, a colour input is
 * noted, a skipped file reports no rate. gray is a gray input of dir,
 * whose output in out exists. */
static void test_colorize_words(const char *model, const char *gray, const char *dir, const char *out) {
    const char *commands[] = {"train", "eval", "colorize"};
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        char *argv[] = {(char *)g_exe, (char *)commands[i], "--help", NULL};
        gchar *text = NULL, *err = NULL, *want = g_strdup_printf("colorize-train %s [OPTION", commands[i]);
        run_exe_both(argv, &text, &err);
        CHECK(text && strstr(text, want), "%s --help does not name the command: %s", commands[i], text ? text : "");
        g_free(text), g_free(err), g_free(want);
    }
    char *colour = work_path("colour-in.png"), *colour_out = work_path("colour-out.png");
    write_photo(colour, 40, 30, TRUE);
    char *argv_colour[] = {(char *)g_exe, "colorize", "--model", (char *)model, "--overwrite", colour, colour_out, NULL};
    char *argv_gray[] = {(char *)g_exe, "colorize", "--model", (char *)model, "--overwrite", (char *)gray, colour_out, NULL};
    char *argv_skip[] = {(char *)g_exe, "colorize", "--model", (char *)model, "--out-dir", (char *)out, (char *)dir, NULL};
    gchar *text = NULL, *err = NULL;
    run_exe_both(argv_colour, &text, &err);
    CHECK(err && strstr(err, "is a colour image: its colours are replaced"), "a colour input was not noted: %s", err);
    g_free(text), g_free(err);
    run_exe_both(argv_gray, &text, &err);
    CHECK(err && !strstr(err, "colour image"), "a gray input was called colour: %s", err);
    g_free(text), g_free(err);
    run_exe_both(argv_skip, &text, &err);
    CHECK(text && strstr(text, "colorized 0, skipped"), "the batch did not skip: %s", text ? text : "");
    CHECK(err && !strstr(err, "images/s"), "skipped files report a rate: %s", err ? err : "");
    g_free(text), g_free(err), g_free(colour), g_free(colour_out);
}

/* The files of the batch test. */
typedef struct {
    char *model, *dir, *out; /* the model, the input folder, the output folder */
    char *a, *other;         /* an input in the folder, one of the same name elsewhere */
    char *plain, *hinted;    /* single outputs */
} batch_files;

/* A folder with a broken file: the others written, exit 1; existing outputs
 * skipped, replaced with --overwrite; two inputs for one output refused. */
static void batch_skip_and_overwrite(const batch_files *f) {
    int rc = run_command(command_colorize, "--model", f->model, "--threads", "2", "--out-dir", f->out, f->dir, NULL);
    char *oa = g_build_filename(f->out, "a.png", NULL), *ob = g_build_filename(f->out, "b.png", NULL);
    char *obroken = g_build_filename(f->out, "broken.png", NULL), *onote = g_build_filename(f->out, "notes.png", NULL);
    CHECK(rc == 1, "a batch with a broken file exited %d, not 1", rc);
    CHECK(g_file_test(oa, G_FILE_TEST_IS_REGULAR) && g_file_test(ob, G_FILE_TEST_IS_REGULAR), "a.png or b.png not written");
    CHECK(!g_file_test(obroken, G_FILE_TEST_EXISTS) && !g_file_test(onote, G_FILE_TEST_EXISTS),
          "an output for the broken file or the text file");
    /* existing outputs are skipped, then replaced with --overwrite */
    CHECK(g_file_set_contents(oa, "mine", -1, NULL), "cannot mark %s", oa);
    rc = run_command(command_colorize, "--model", f->model, "--out-dir", f->out, f->a, NULL);
    gchar *text = NULL;
    g_file_get_contents(oa, &text, NULL, NULL);
    CHECK(rc == 0 && text && strcmp(text, "mine") == 0, "an existing output was replaced without --overwrite (rc %d)", rc);
    g_free(text), text = NULL;
    rc = run_command(command_colorize, "--model", f->model, "--out-dir", f->out, "--overwrite", f->a, NULL);
    GdkPixbuf *res = gdk_pixbuf_new_from_file(oa, NULL);
    CHECK(rc == 0 && res && gdk_pixbuf_get_width(res) == 64, "--overwrite did not replace the output (rc %d)", rc);
    if (res) g_object_unref(res);
    /* two inputs writing one output: the second fails, named */
    rc = run_command(command_colorize, "--model", f->model, "--out-dir", f->out, "--overwrite", f->a, f->other, NULL);
    CHECK(rc == 1, "two inputs for one output: exit %d, not 1", rc);
    g_free(oa), g_free(ob), g_free(obroken), g_free(onote);
}

/* Point hints apply to every file; each bad --hints named by what is wrong. */
static void batch_point_hints(const batch_files *f) {
    int rc = run_command(command_colorize, "--model", f->model, f->a, f->plain, NULL);
    int rc2 = run_command(command_colorize, "--model", f->model, "--hints", "10,10,#e02020; 50,40,#2040e0", f->a, f->hinted, NULL);
    double a0 = png_a_at(f->plain, 10, 10), a1 = png_a_at(f->hinted, 10, 10);
    printf("point hint #e02020 at (10, 10): a* %.1f, without it %.1f\n", a1, a0);
    CHECK(rc == 0 && rc2 == 0 && a1 > a0 + 15, "the point hint did not colour its place (a* %g vs %g)", a1, a0);
    CHECK(run_command(command_colorize, "--model", f->model, "--hints", "10,10,red", f->a, f->hinted, NULL) == 1,
          "a bad point hint accepted");
    /* each bad --hints named by what is wrong with it */
    const char *wrong[][2] = {{"no-such-hints.png", "no such file"},
                              {"-5,40,#ff0000", "x is negative: outside the image"},
                              {"10,10,#ff00", "not #rrggbb"},
                              {"500,10,#ff0000", "outside the 64×48 image"}};
    for (size_t i = 0; i < G_N_ELEMENTS(wrong); i++) {
        char *argv[] = {(char *)g_exe, "colorize", "--model", f->model, "--overwrite", "--hints", (char *)wrong[i][0], f->a,
                        f->hinted, NULL};
        gchar *err = NULL;
        int code = run_exe(argv, &err);
        CHECK(code == 1 && err && strstr(err, wrong[i][1]), "--hints %s: exit %d, not 1 with '%s': %s", wrong[i][0],
              code, wrong[i][1], err ? err : "");
        g_free(err);
    }
}

/* No input is ever overwritten (by name, through a link, or by --out-dir
 * onto its folder), and one output only with --overwrite. */
static void never_overwrite_input(const batch_files *f) {
    int rc;
    gchar *before = NULL, *after = NULL, *kept = NULL;
    gsize nbefore = 0, nafter = 0;
    g_file_get_contents(f->a, &before, &nbefore, NULL);
    char *alias = work_path("alias.png");
    CHECK(symlink(f->a, alias) == 0, "cannot link %s", alias);
    /* each refusal names the output and the input it would replace */
    const char *onto[][2] = {{f->a, f->a}, {alias, f->a}};
    for (size_t i = 0; i < G_N_ELEMENTS(onto); i++) {
        char *argv[] = {(char *)g_exe, "colorize", "--model", (char *)f->model, "--overwrite", (char *)onto[i][1],
                        (char *)onto[i][0], NULL};
        gchar *err = NULL, *want = g_strdup_printf("the output %s is the input %s", onto[i][0], onto[i][1]);
        rc = run_exe(argv, &err);
        CHECK(rc == 1 && err && strstr(err, want), "colorize %s %s: exit %d, not 1 with '%s': %s", onto[i][1],
              onto[i][0], rc, want, err ? err : "");
        g_free(err), g_free(want);
    }
    char *batch[] = {(char *)g_exe, "colorize", "--model", (char *)f->model, "--out-dir", f->dir, "--overwrite", f->a, NULL};
    gchar *said = NULL, *base = g_path_get_basename(f->a);
    char *written = g_build_filename(f->dir, base, NULL), *collides = g_strdup_printf("its output %s is the input %s", written, f->a);
    rc = run_exe(batch, &said);
    g_file_get_contents(f->a, &after, &nafter, NULL);
    CHECK(rc == 1 && before && after && nbefore == nafter && memcmp(before, after, nbefore) == 0,
          "an input was overwritten (rc %d)", rc);
    CHECK(said && strstr(said, collides), "colorize --out-dir onto its input does not say '%s': %s", collides,
          said ? said : "");
    g_free(said), g_free(base), g_free(written), g_free(collides);
    CHECK(g_file_set_contents(f->plain, "mine", -1, NULL), "cannot mark %s", f->plain);
    rc = run_command(command_colorize, "--model", f->model, f->a, f->plain, NULL);
    g_file_get_contents(f->plain, &kept, NULL, NULL);
    CHECK(rc == 1 && kept && strcmp(kept, "mine") == 0, "an existing output was replaced without --overwrite (rc %d)", rc);
    CHECK(run_command(command_colorize, "--model", f->model, "--overwrite", f->a, f->plain, NULL) == 0,
          "--overwrite did not replace one output");
    g_free(before), g_free(after), g_free(kept), g_free(alias);
}

void test_colorize_batch(void) {
    batch_files f = {work_path("a.weights"), work_path("batch-in"), work_path("batch-out"), NULL, work_path("a.jpg"),
                     work_path("plain.png"), work_path("hinted.png")};
    g_mkdir_with_parents(f.dir, 0755);
    f.a = g_build_filename(f.dir, "a.png", NULL);
    char *b = g_build_filename(f.dir, "b.jpg", NULL);
    char *broken = g_build_filename(f.dir, "broken.png", NULL), *note = g_build_filename(f.dir, "notes.txt", NULL);
    write_photo(f.a, 64, 48, FALSE), write_photo(f.other, 40, 30, FALSE);
    GdkPixbuf *pb = gdk_pixbuf_new_from_file(f.a, NULL);
    CHECK(pb && gdk_pixbuf_save(pb, b, "jpeg", NULL, NULL), "cannot write %s", b);
    if (pb) g_object_unref(pb);
    CHECK(g_file_set_contents(broken, "not a png", -1, NULL) && g_file_set_contents(note, "x", -1, NULL), "setup");
    batch_skip_and_overwrite(&f);
    batch_point_hints(&f);
    never_overwrite_input(&f);
    char *nothing = work_path("nothing-here");
    CHECK(run_command(command_colorize, "--model", f.model, "--out-dir", f.out, nothing, NULL) == 1,
          "a missing input was not a failure");
    g_free(nothing);
    test_colorize_words(f.model, f.a, f.dir, f.out);
    g_free(f.model), g_free(f.dir), g_free(f.out), g_free(f.a), g_free(b), g_free(broken), g_free(f.other), g_free(note);
    g_free(f.plain), g_free(f.hinted);
}

