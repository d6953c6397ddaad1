/* test_trainer_photos.c — evaluation for the trainer test: eval on the
 * synthetic CIFAR-10 batches (JSON, report), the wrong-hue metric, the
 * real-photo benchmark with and without hints, and train --images with its
 * cache. */
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

/* eval: the JSON holds the default setting at the top level and, in
 * `runs`, every requested vividness at every requested hint count. */
void test_eval(void) {
    char *model = work_path("a.weights"), *json = work_path("eval.json"), *report = work_path("report");
    int rc = run_command(command_eval, "--data", g_dir, "--model", model, "--limit", "60", "--batch", "25",
                         "--hints", "0,5,10", "--vividness", "0,1", "--json", json, "--report", report,
                         "--threads", "2", NULL);
    CHECK(rc == 0, "eval failed with %d", rc);
    gchar *text = NULL;
    g_file_get_contents(json, &text, NULL, NULL);
    char default_run[64];
    g_snprintf(default_run, sizeof default_run, "\"hints\": 0, \"vividness\": %.3f", NN_DEFAULT_VIVIDNESS);
    const char *want[] = {"\"psnr\": ", "\"ssim\": ", "\"auc\": ", "\"acc2\": ", "\"acc5\": ",
                          "\"colorfulness\": ", "\"colorfulness_gt\": ", "\"runs\": [", default_run,
                          "\"hints\": 0, \"vividness\": 0.000", "\"hints\": 0, \"vividness\": 1.000",
                          "\"hints\": 5, \"vividness\": 0.000", "\"hints\": 10, \"vividness\": 0.000",
                          "\"hints\": 10, \"vividness\": 1.000", "\"baseline\": {", "\"per_class\": {\"airplane\""};
    for (size_t i = 0; text && i < G_N_ELEMENTS(want); i++) CHECK(strstr(text, want[i]), "eval JSON lacks %s", want[i]);
    /* the default setting first, then each vividness at each hint count, the default not twice */
    int runs = 0, expected = 1 + 3 * 2 - (NN_DEFAULT_VIVIDNESS == 0.0f || NN_DEFAULT_VIVIDNESS == 1.0f);
    for (const char *p = text; p && (p = strstr(p, "\"hints\": ")); p++) runs++;
    CHECK(runs == expected, "eval JSON has %d runs, expected %d", runs, expected);
    /* hints reach the network (whether they help is the trained model's
     * business, measured by eval on CIFAR-10) */
    const char *h0 = text ? strstr(text, "\"hints\": 0, \"vividness\": 0.000") : NULL;
    const char *h10 = text ? strstr(text, "\"hints\": 10, \"vividness\": 0.000") : NULL;
    double p0 = h0 ? g_ascii_strtod(strstr(h0, "\"psnr\": ") + 8, NULL) : 0;
    double p10 = h10 ? g_ascii_strtod(strstr(h10, "\"psnr\": ") + 8, NULL) : 0;
    printf("eval: faithful PSNR %.2f dB with 0 hints, %.2f dB with 10 hints\n", p0, p10);
    CHECK(p0 > 5 && p10 > 5 && p10 != p0, "hints changed nothing: %g vs %g", p10, p0);
    const char *files[] = {"report.md", "examples.png", "examples-5-hints.png", "examples-10-hints.png"};
    for (int i = 0; i < 4; i++) {
        char *p = g_build_filename(report, files[i], NULL);
        CHECK(g_file_test(p, G_FILE_TEST_IS_REGULAR), "%s was not written", p);
        g_free(p);
    }
    char *unasked = g_build_filename(report, "examples-1-hints.png", NULL);
    char *plain = g_build_filename(report, "examples.png", NULL), *hinted = g_build_filename(report, "examples-5-hints.png", NULL);
    GdkPixbuf *g0 = gdk_pixbuf_new_from_file(plain, NULL), *g5 = gdk_pixbuf_new_from_file(hinted, NULL);
    CHECK(!g_file_test(unasked, G_FILE_TEST_EXISTS), "a grid for a hint count not asked for");
    CHECK(g0 && g5 && gdk_pixbuf_get_height(g5) > gdk_pixbuf_get_height(g0),
          "the 5-hint grid has no row showing where the hints are");
    if (g0) g_object_unref(g0);
    if (g5) g_object_unref(g5);
    g_free(unasked), g_free(plain), g_free(hinted);
    CHECK(run_command(command_eval, "--data", g_dir, "--model", model, "--hints", "x", NULL) == 2, "bad --hints accepted");
    CHECK(run_command(command_eval, "--data", g_dir, "--model", model, "--vividness", "2", NULL) == 2,
          "vividness 2 accepted");
    g_free(text), g_free(model), g_free(json), g_free(report);
}

/* Writes a w*h photo: a red disc on a blue-green gradient, or gray. */
void write_photo(const char *path, int w, int h, gboolean colour) {
    GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, w, h);
    guchar *px = gdk_pixbuf_get_pixels(pb);
    int stride = gdk_pixbuf_get_rowstride(pb);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            guchar *p = px + y * stride + 3 * x;
            int disc = (x - w / 2) * (x - w / 2) + (y - h / 2) * (y - h / 2) < h * h / 9;
            p[0] = disc ? 200 : 40, p[1] = disc ? 40 : (guchar)(80 + 100 * y / h), p[2] = disc ? 30 : (guchar)(200 - 60 * x / w);
            if (!colour) p[0] = p[1] = p[2] = (guchar)((p[0] + p[1] + p[2]) / 3);
        }
    CHECK(gdk_pixbuf_save(pb, path, "png", NULL, NULL), "cannot write %s", path);
    g_object_unref(pb);
}

/* JSON number after "key": in text, or NAN. */
static double json_number(const char *text, const char *key) {
    char *pattern = g_strdup_printf("\"%s\": ", key);
    const char *p = text ? strstr(text, pattern) : NULL;
    double v = p ? g_ascii_strtod(p + strlen(pattern), NULL) : NAN;
    g_free(pattern);
    return v;
}

/* The wrong-hue metric on pixels whose answer is known. */
static void test_wrong_hue(void) {
    const uint8_t red[3] = {200, 30, 30}, green[3] = {30, 160, 40}, gray[3] = {90, 90, 90}, orange[3] = {210, 90, 30};
    uint8_t truth[4 * 3], out[4 * 3];
    for (int i = 0; i < 4; i++) memcpy(truth + 3 * i, red, 3);
    memcpy(out, green, 3), memcpy(out + 3, gray, 3), memcpy(out + 6, orange, 3), memcpy(out + 9, red, 3);
    double r = image_wrong_hue(out, truth, 4);
    CHECK(fabs(r - 0.25) < 1e-9, "wrong hue %.3f, expected 0.25 (green wrong; gray, orange and red not)", r);
    CHECK(isnan(image_wrong_hue(out, out + 3, 1)), "a gray truth has colourful pixels");
    CHECK(image_mean_abs_dL(truth, truth, 4) == 0.0 && image_mean_abs_dL(gray, red, 1) > 1.0, "mean |dL| is wrong");
}

/* eval --photos: the real-photo benchmark on small synthetic photos, with
 * an unreadable file and a gray photo skipped and counted. */
void test_photo_benchmark(void) {
    test_wrong_hue();
    char *model = work_path("a.weights"), *dir = work_path("photos"), *json = work_path("photos.json");
    char *report = work_path("photo-report"), *empty = work_path("no-photos");
    g_mkdir_with_parents(dir, 0755), g_mkdir_with_parents(empty, 0755);
    char *p1 = g_build_filename(dir, "a.png", NULL), *p2 = g_build_filename(dir, "b.png", NULL);
    char *p3 = g_build_filename(dir, "gray.png", NULL), *p4 = g_build_filename(dir, "broken.jpg", NULL);
    write_photo(p1, 96, 64, TRUE), write_photo(p2, 50, 80, TRUE), write_photo(p3, 40, 40, FALSE);
    CHECK(g_file_set_contents(p4, "not a jpeg", -1, NULL), "cannot write %s", p4);
    int rc = run_command(command_eval, "--photos", dir, "--model", model, "--resolution", "64", "--json", json,
                         "--report", report, "--threads", "2", NULL);
    CHECK(rc == 0, "eval --photos failed with %d", rc);
    gchar *text = NULL;
    g_file_get_contents(json, &text, NULL, NULL);
    CHECK(json_number(text, "photos") == 2 && json_number(text, "unreadable") == 1 && json_number(text, "colourless") == 1,
          "eval --photos counted %g photos, %g unreadable, %g colourless (expected 2, 1, 1)", json_number(text, "photos"),
          json_number(text, "unreadable"), json_number(text, "colourless"));
    double psnr = json_number(text, "psnr"), gray = json_number(text, "psnr_gray"), gain = json_number(text, "gain");
    CHECK(psnr > 10 && gray > 10 && fabs(gain - (psnr - gray)) < 1e-3, "gain %g is not PSNR %g minus gray %g", gain, psnr, gray);
    CHECK(json_number(text, "mean_dL") < 1.0, "the output's L moved by %g from the gray input", json_number(text, "mean_dL"));
    double wh = json_number(text, "wrong_hue"), cr = json_number(text, "colorfulness_ratio");
    CHECK(wh >= 0 && wh <= 1 && cr >= 0, "wrong hue %g or colourfulness ratio %g out of range", wh, cr);
    CHECK(text && strstr(text, "\"photo\": \"a.png\"") && strstr(text, "\"photo\": \"b.png\""), "per-photo figures missing");
    const char *files[] = {"report.md", "a.png", "b.png"};
    for (int i = 0; i < 3; i++) {
        char *p = g_build_filename(report, files[i], NULL);
        CHECK(g_file_test(p, G_FILE_TEST_IS_REGULAR), "%s was not written", p);
        g_free(p);
    }
    char *strip = g_build_filename(report, "a.png", NULL);
    GdkPixbuf *pb = gdk_pixbuf_new_from_file(strip, NULL);
    CHECK(pb && gdk_pixbuf_get_width(pb) > 3 * gdk_pixbuf_get_height(pb), "the strip is not gray | output | original");
    if (pb) g_object_unref(pb);
    /* --update-model keeps the averages in the model */
    char *copy = work_path("photo-figures.weights");
    gchar *bytes = NULL;
    gsize len = 0;
    CHECK(g_file_get_contents(model, &bytes, &len, NULL) && g_file_set_contents(copy, bytes, (gssize)len, NULL), "copy");
    g_free(bytes);
    rc = run_command(command_eval, "--photos", dir, "--model", copy, "--resolution", "64", "--update-model", NULL);
    nn_weights w;
    nn_error e = {0};
    double stored = NAN;
    if (nn_weights_load(&w, copy, &e) == NN_OK) {
        nn_weights_get_f64(&w, "eval.photos.gain", &stored, NULL);
        nn_weights_free(&w);
    }
    CHECK(rc == 0 && fabs(stored - gain) < 1e-3, "eval --photos --update-model stored gain %g, measured %g", stored, gain);
    g_free(copy);
    CHECK(run_command(command_eval, "--photos", empty, "--model", model, NULL) == 1, "an empty folder was not an error");
    /* --hints: points from the originals help, the same seed gives the same points */
    char *hjson = work_path("photo-hints.json"), *hjson2 = work_path("photo-hints2.json");
    rc = run_command(command_eval, "--photos", dir, "--model", model, "--resolution", "64", "--hints", "0,8", "--json",
                     hjson, NULL);
    CHECK(rc == 0, "eval --photos --hints failed with %d", rc);
    CHECK(run_command(command_eval, "--photos", dir, "--model", model, "--resolution", "64", "--hints", "0,8", "--json",
                      hjson2, NULL) == 0, "eval --photos --hints failed the second time");
    gchar *ht = NULL, *ht2 = NULL;
    g_file_get_contents(hjson, &ht, NULL, NULL), g_file_get_contents(hjson2, &ht2, NULL, NULL);
    const char *summary = ht ? strstr(ht, "\"summary\"") : NULL, *eight = summary ? strstr(summary, "\"hints\": 8") : NULL;
    const double gain0 = summary ? json_number(summary, "gain") : NAN, gain8 = eight ? json_number(eight, "gain") : NAN;
    printf("eval --photos --hints 0,8: gain %+.2f dB without hints, %+.2f dB with 8\n", gain0, gain8);
    CHECK(gain8 > gain0 + 0.5, "8 hints from the originals gained %g dB against %g without", gain8, gain0);
    CHECK(ht && ht2 && strcmp(ht, ht2) == 0, "the same seed gave other hints or figures");
    const double reach = ht ? json_number(strstr(ht, "\"photos\":"), "region_reach") : NAN;
    CHECK(reach >= 0 && reach <= 1, "one click per region: reach %g", reach);
    /* the leak split: what the network gives with no hint, what only the hints give (a leaked pixel is one or the other) */
    const char *totals = ht ? strstr(ht, "\"photos\":") : NULL;
    const double leak = totals ? json_number(totals, "region_leak") : NAN;
    const double alone = totals ? json_number(totals, "region_leak_alone") : NAN;
    const double by_hints = totals ? json_number(totals, "region_leak_by_hints") : NAN;
    CHECK(leak >= 0 && alone >= 0 && by_hints >= 0 && by_hints <= leak + 1e-9 && leak <= alone + by_hints + 1e-9,
          "one click per region: leak %g, with no hint %g, by the hints only %g", leak, alone, by_hints);
    /* each click alone: a share of its region and of the others */
    const double lone_reach = totals ? json_number(totals, "lone_reach") : NAN;
    const double lone_leak = totals ? json_number(totals, "lone_leak") : NAN;
    CHECK(lone_reach >= 0 && lone_reach <= 1 && lone_leak >= 0 && lone_leak <= 1,
          "each click alone: reach %g, leak %g", lone_reach, lone_leak);
    g_free(ht), g_free(ht2), g_free(hjson), g_free(hjson2);
    CHECK(run_command(command_eval, "--photos", dir, "--model", model, "--hints", "5", "--report", report, NULL) == 2,
          "--photos --hints accepted --report");
    CHECK(run_command(command_eval, "--photos", dir, "--model", model, "--hints", "300", NULL) == 2,
          "--photos accepted 300 hints");
    CHECK(run_command(command_eval, "--photos", dir, "--model", model, "--hint-reach", "-1", NULL) == 2,
          "--photos accepted --hint-reach -1");
    CHECK(run_command(command_eval, "--photos", dir, "--model", model, "--vividness", "0,1", NULL) == 2,
          "--photos accepted two vividness values");
    g_free(text), g_free(model), g_free(dir), g_free(json), g_free(report), g_free(empty), g_free(strip);
    g_free(p1), g_free(p2), g_free(p3), g_free(p4);
}

/* train --images: a folder of small photos (in a subfolder too) with a
 * broken file and a gray photo skipped and counted, the cache written and
 * then read, --init fine-tuning with and without --rebin, resume, and the
 * errors: no usable photo, --data with --images, --rebin alone. */
void test_train_images(void) {
    char *dir = work_path("own-photos"), *sub = g_build_filename(dir, "more", NULL), *gray_dir = work_path("gray-photos");
    g_mkdir_with_parents(sub, 0755), g_mkdir_with_parents(gray_dir, 0755);
    for (int i = 0; i < 6; i++) {
        char name[32];
        g_snprintf(name, sizeof name, "p%d.png", i);
        char *path = g_build_filename(i < 4 ? dir : sub, name, NULL);
        write_photo(path, 90 + 10 * i, 70, TRUE);
        g_free(path);
    }
    char *broken = g_build_filename(dir, "broken.jpg", NULL), *gray = g_build_filename(dir, "gray.png", NULL);
    char *gray2 = g_build_filename(gray_dir, "g.png", NULL);
    CHECK(g_file_set_contents(broken, "not a jpeg", -1, NULL), "setup");
    write_photo(gray, 60, 60, FALSE), write_photo(gray2, 60, 60, FALSE);
    char *out = work_path("own.weights"), *ckpt = work_path("own.weights.ckpt"), *cache = work_path("own.weights.ckpt.images");
    char *argv[] = {(char *)g_exe, "train", "--images", dir, "--out", out, "--crops", "128", "--val", "64", "--batch", "32",
                    "--width", "8", "--epochs", "2", "--threads", "2", "--max-steps", "5", NULL};
    gchar *err = NULL, *text = NULL;
    int rc = run_exe(argv, &err);
    CHECK(rc == 0, "train --images failed with %d: %s", rc, err);
    CHECK(err && strstr(err, "skipping") && strstr(err, "broken.jpg"), "the broken photo was not named: %s", err);
    CHECK(g_file_test(cache, G_FILE_TEST_IS_REGULAR), "no photo cache beside the checkpoint");
    g_free(err), err = NULL;
    /* resume: the cache is read, not decoded again, and training finishes */
    char *resume[] = {(char *)g_exe, "train", "--images", dir, "--out", out, "--resume", ckpt, "--threads", "2", NULL};
    gchar *stdout_text = NULL;
    gint status = 0;
    g_spawn_sync(NULL, resume, NULL, 0, NULL, NULL, &stdout_text, &err, &status, NULL);
    CHECK(g_spawn_check_wait_status(status, NULL) && stdout_text && strstr(stdout_text, "6 photos from the cache (1 unreadable, 1 gray"),
          "the resumed run did not read the cache: %s%s", stdout_text ? stdout_text : "", err ? err : "");
    CHECK(stdout_text && strstr(stdout_text, "done:"), "the resumed photo run did not finish: %s", stdout_text);
    g_free(stdout_text), g_free(err), err = NULL;
    nn_weights w;
    nn_error e = {0};
    const char *ds = NULL;
    CHECK(nn_weights_load(&w, out, &e) == NN_OK && nn_weights_get_str(&w, "train.dataset", &ds, NULL) == NN_OK &&
              strcmp(ds, "photos") == 0, "the photo model's provenance is missing: %s", e.msg);
    nn_weights_free(&w);
    /* --init: fine-tuning the CIFAR-10 model keeps its bins; --rebin makes new ones */
    char *model = work_path("a.weights"), *tuned = work_path("tuned.weights"), *rebinned = work_path("rebinned.weights");
    int rc1 = run_command(command_train, "--images", dir, "--init", model, "--out", tuned, "--crops", "64", "--val", "32",
                          "--batch", "32", "--epochs", "1", "--threads", "2", NULL);
    int rc2 = run_command(command_train, "--images", dir, "--init", model, "--rebin", "--out", rebinned, "--crops", "64",
                          "--val", "32", "--batch", "32", "--epochs", "1", "--threads", "2", NULL);
    CHECK(rc1 == 0 && rc2 == 0, "fine-tuning failed: %d %d", rc1, rc2);
    uint32_t q0 = 0, q1 = 0, q2 = 0;
    nn_weights a, b, c;
    if (nn_weights_load(&a, model, &e) == NN_OK && nn_weights_load(&b, tuned, &e) == NN_OK &&
        nn_weights_load(&c, rebinned, &e) == NN_OK) {
        nn_weights_get_u32(&a, "arch.num_bins", &q0, NULL), nn_weights_get_u32(&b, "arch.num_bins", &q1, NULL);
        nn_weights_get_u32(&c, "arch.num_bins", &q2, NULL);
        printf("bins: CIFAR model %u, fine-tuned %u, fine-tuned with --rebin %u\n", q0, q1, q2);
        CHECK(q1 == q0, "--init changed the bins (%u, not %u)", q1, q0);
        CHECK(q2 != q0, "--rebin kept the model's bins (%u)", q2);
        nn_weights_free(&a), nn_weights_free(&b), nn_weights_free(&c);
    } else CHECK(0, "cannot read the models: %s", e.msg);
    /* errors */
    char *none = work_path("none.weights");
    CHECK(run_command(command_train, "--images", gray_dir, "--out", none, NULL) == 1, "a folder of gray photos accepted");
    CHECK(run_command(command_train, "--images", dir, "--data", g_dir, "--out", none, NULL) == 2, "--images with --data");
    CHECK(run_command(command_train, "--images", dir, "--rebin", "--out", none, NULL) == 2, "--rebin without --init");
    g_free(dir), g_free(sub), g_free(gray_dir), g_free(broken), g_free(gray), g_free(gray2), g_free(out), g_free(ckpt);
    g_free(cache), g_free(model), g_free(tuned), g_free(rebinned), g_free(none), g_free(text);
}

