/* test_hostile_runs.c — hostile models and checkpoints for the hostile
 * test: another input width, bins shifted at the same count, a per-step
 * history at its cap, validation counts and crops past memory, the photo
 * split kept stable and on resume, and the messages naming both files. */
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
char *g_train_photos, *g_base, *g_base_ckpt;

void make_base_run(void) {
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
void test_input_channels(void) {
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
void test_rebin_shifted_bins(void) {
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
void test_history_cap(void) {
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
void test_split_stable(void) {
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
void test_resume_keeps_photos(void) {
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
void test_resume_keeps_forced_split(void) {
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
void test_messages(void) {
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
void test_counts_past_memory(void) {
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
