/* test_trainer.c — colorize-train on synthetic CIFAR-10 batches written by
 * the test: the reader's rejections, the metrics against scikit-image's
 * values, a short training run whose loss falls, exact resume after
 * --max-steps and after SIGINT, checkpoint atomicity when a write fails,
 * and `colorize` on a small PNG; the file keys against FORMAT.md. Usage:
 * test_trainer metrics_ref.bin colorize-train FORMAT.md */
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


static void make_dataset(void) { g_dir = synth_cifar_dataset(); }

static void expect_reader_error(const char *label, const char *dir, const char *file, const char *what) {
    cifar_set s;
    GError *e = NULL;
    const char *files[1] = {file};
    gboolean ok = cifar_load(&s, dir, files, 1, &e);
    printf("%-24s -> %s\n", label, e ? e->message : "accepted");
    CHECK(!ok && e && strstr(e->message, file) && strstr(e->message, what), "%s: %s", label, e ? e->message : "accepted");
    g_clear_error(&e);
}

static void test_reader(void) {
    char *bad = g_dir_make_tmp("colorize-bad-XXXXXX", NULL);
    char *src = g_build_filename(g_dir, "data_batch_1.bin", NULL), *contents;
    gsize len;
    g_file_get_contents(src, &contents, &len, NULL);
    char *p = g_build_filename(bad, "truncated.bin", NULL);
    g_file_set_contents(p, contents, (gssize)len - 100, NULL);
    g_free(p);
    p = g_build_filename(bad, "short.bin", NULL);
    g_file_set_contents(p, contents, (gssize)len - CIFAR_RECORD, NULL);
    g_free(p);
    contents[5 * CIFAR_RECORD] = 12;
    p = g_build_filename(bad, "label.bin", NULL);
    g_file_set_contents(p, contents, (gssize)len, NULL);
    g_free(p);
    p = g_build_filename(bad, "folder.bin", NULL);
    g_mkdir(p, 0700);
    g_free(p);
    expect_reader_error("missing file", bad, "absent.bin", "cannot open");
    expect_reader_error("truncated file", bad, "truncated.bin", "not a whole number of 3073-byte records");
    expect_reader_error("9,999 records", bad, "short.bin", "holds 9999 records");
    expect_reader_error("label 12", bad, "label.bin", "record 5 has label 12");
    expect_reader_error("a folder", bad, "folder.bin", "not a regular file");
    cifar_set s;
    GError *e = NULL;
    CHECK(cifar_load_test(&s, g_dir, &e) && s.n == 10000 && s.labels[13] == 3, "the good file was rejected");
    cifar_free(&s);
    g_free(contents), g_free(src);
    char *cmd = g_strdup_printf("rm -rf '%s'", bad);
    CHECK(system(cmd) == 0, "cleanup");
    g_free(cmd), g_free(bad);
}

static void test_metrics(const char *ref_path) {
    golden_file g;
    if (!golden_load(&g, ref_path)) return;
    for (int i = 0; i < 6; i++) {
        char name[32];
        snprintf(name, sizeof name, "pair%d.a", i);
        const golden_tensor *a = golden_get(&g, name);
        snprintf(name, sizeof name, "pair%d.b", i);
        const golden_tensor *b = golden_get(&g, name);
        snprintf(name, sizeof name, "pair%d.values", i);
        const golden_tensor *v = golden_get(&g, name);
        if (!a || !b || !v) continue;
        int h = (int)a->dims[0], w = (int)a->dims[1];
        uint8_t *pa = g_malloc(a->numel), *pb = g_malloc(b->numel);
        for (size_t k = 0; k < a->numel; k++) pa[k] = (uint8_t)a->data[k], pb[k] = (uint8_t)b->data[k];
        float got[4] = {(float)image_ssim(pa, pb, w, h), (float)image_psnr(pa, pb, w, h),
                        (float)image_colorfulness(pa, w, h), (float)image_colorfulness(pb, w, h)};
        snprintf(name, sizeof name, "SSIM %dx%d vs skimage", w, h);
        check_abs(name, got, v->data, 1, 1e-4);
        snprintf(name, sizeof name, "PSNR %dx%d vs skimage", w, h);
        check_abs(name, got + 1, v->data + 1, 1, 1e-3);
        snprintf(name, sizeof name, "colourfulness %dx%d", w, h);
        check_abs(name, got + 2, v->data + 2, 2, 1e-3);
        g_free(pa), g_free(pb);
    }
    golden_free(&g);
}

static const nn_meta *history(const nn_weights *w, const char *key) {
    const nn_meta *m = nn_weights_get(w, key);
    CHECK(m && m->type == NN_META_F32_ARRAY, "%s missing", key);
    return m;
}

/* Every tensor of a and b is bit-identical. */
static int same_tensors(const char *pa, const char *pb) {
    nn_weights a, b;
    nn_error e = {0};
    if (nn_weights_load(&a, pa, &e) || nn_weights_load(&b, pb, &e)) {
        CHECK(0, "%s", e.msg);
        return 0;
    }
    int same = a.n_tensors == b.n_tensors && a.n_tensors > 0;
    for (size_t i = 0; same && i < a.n_tensors; i++) {
        const nn_tensor_entry *t = nn_weights_find_tensor(&b, a.tensors[i].name);
        size_t n = 1;
        for (uint32_t d = 0; d < a.tensors[i].ndims; d++) n *= a.tensors[i].dims[d];
        same = t && memcmp(t->data, a.tensors[i].data, n * sizeof(float)) == 0;
    }
    nn_weights_free(&a), nn_weights_free(&b);
    return same;
}

static void test_training(void) {
    char *out = work_path("a.weights"), *ckpt = work_path("a.ckpt"), *logs = work_path("logs");
    int rc = run_command(command_train, TRAIN_ARGS, "--epochs", "3", "--out", out, "--checkpoint", ckpt,
                         "--log-dir", logs, NULL);
    CHECK(rc == 0, "training failed with %d", rc);
    nn_weights w;
    nn_error e = {0};
    CHECK(nn_weights_load(&w, ckpt, &e) == NN_OK, "%s", e.msg);
    const nn_meta *loss = history(&w, "history.train_loss"), *val = history(&w, "history.val_loss");
    if (loss && loss->count == 3 && val && val->count == 3) {
        const float *l = loss->array, *v = val->array;
        printf("training loss by epoch: %.4f %.4f %.4f; validation: %.4f %.4f %.4f\n", l[0], l[1], l[2], v[0], v[1], v[2]);
        CHECK(l[2] < 0.9f * l[0], "the training loss did not fall: %g -> %g", l[0], l[2]);
        CHECK(v[2] < v[0], "the validation loss did not fall: %g -> %g", v[0], v[2]);
    } else CHECK(0, "history has the wrong length");
    /* per step: 160 images in batches of 16 is 10 steps an epoch */
    const nn_meta *steps = history(&w, "history.step_loss"), *at = history(&w, "history.step_epoch");
    const nn_meta *rate = history(&w, "history.step_lr");
    CHECK(steps && at && rate && steps->count == 30 && at->count == 30 && rate->count == 30,
          "per-step history: %d entries, expected 30", steps ? (int)steps->count : -1);
    if (at && at->count == 30) {
        const float *x = at->array, *lr = rate->array;
        CHECK(fabsf(x[0] - 0.1f) < 1e-6f && fabsf(x[9] - 1.0f) < 1e-6f && fabsf(x[29] - 3.0f) < 1e-6f,
              "step positions %g %g %g are not in epochs", x[0], x[9], x[29]);
        CHECK(lr[29] < lr[10], "the per-step learning rate does not follow the schedule");
    }
    nn_weights_free(&w);
    const char *files[] = {"metrics.csv", "loss.png", "validation-psnr.png", "samples-epoch001.png", "samples-epoch003.png"};
    for (int i = 0; i < 5; i++) {
        char *p = g_build_filename(logs, files[i], NULL);
        CHECK(g_file_test(p, G_FILE_TEST_IS_REGULAR), "%s was not written", p);
        g_free(p);
    }
    nn_colorizer *c = NULL;
    CHECK(nn_colorizer_load(&c, out, 4, 32, &e) == NN_OK, "the model does not load: %s", e.msg);
    const nn_meta *ds = c ? nn_weights_get(&c->meta, "train.dataset") : NULL;
    CHECK(ds && ds->type == NN_META_STR, "no provenance metadata");
    nn_colorizer_free(c);
    g_free(out), g_free(ckpt), g_free(logs);
}

static void test_resume(void) {
    char *out_a = work_path("a.weights"), *ckpt_a = work_path("a.ckpt");
    char *out_b = work_path("b.weights"), *ckpt_b = work_path("b.ckpt");
    /* stop at step 4 of epoch 1, then at step 5 of epoch 2 (crossing an epoch end), then finish */
    int rc1 = run_command(command_train, TRAIN_ARGS, "--epochs", "3", "--out", out_b, "--checkpoint", ckpt_b,
                          "--max-steps", "4", NULL);
    int rc2 = run_command(command_train, "--data", g_dir, "--threads", "2", "--out", out_b, "--resume", ckpt_b,
                          "--checkpoint", ckpt_b, "--max-steps", "11", NULL);
    int rc3 = run_command(command_train, "--data", g_dir, "--threads", "2", "--out", out_b, "--resume", ckpt_b,
                          "--checkpoint", ckpt_b, NULL);
    CHECK(rc1 == 0 && rc2 == 0 && rc3 == 0, "interrupted runs failed: %d %d %d", rc1, rc2, rc3);
    int same = same_tensors(ckpt_a, ckpt_b) && same_tensors(out_a, out_b);
    printf("resume after --max-steps: %s\n", same ? "bit-identical to the uninterrupted run" : "DIFFERS");
    CHECK(same, "resumed training differs from the uninterrupted run");

    /* SIGINT to a real process, then resume */
    char *out_c = work_path("c.weights"), *ckpt_c = work_path("c.ckpt");
    char *argv[] = {(char *)g_exe, "train", "--data", g_dir, "--batch", "16", "--limit", "160", "--val", "48",
                    "--width", "8", "--threads", "2", "--seed", "3", "--lr", "3e-3", "--epochs", "3", "--out", out_c,
                    "--checkpoint", ckpt_c, "--log-every", "1", NULL};
    GPid pid;
    int out_fd;
    GError *error = NULL;
    if (!g_spawn_async_with_pipes(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, NULL, &out_fd,
                                  NULL, &error)) {
        CHECK(0, "cannot start %s: %s", g_exe, error->message);
        g_clear_error(&error);
        return;
    }
    FILE *f = fdopen(out_fd, "r");
    char line[512];
    int signalled = 0, hms_eta = 0, resume_cmd = 0;
    while (fgets(line, sizeof line, f)) {
        const char *eta = strstr(line, "ETA ");
        int h, m, sec;
        hms_eta |= eta && sscanf(eta, "ETA %d:%2d:%2d", &h, &m, &sec) == 3;
        resume_cmd |= strstr(line, "colorize-train train --data ") && strstr(line, "--resume ") &&
                      strstr(line, ckpt_c) && strstr(line, "--threads 2");
        if (!signalled && strstr(line, "step 6/")) {
            kill(pid, SIGINT);
            signalled = 1;
        }
    }
    fclose(f);
    CHECK(hms_eta, "the progress lines give no ETA as h:mm:ss");
    CHECK(resume_cmd, "no complete resume command was printed after SIGINT");
    int status = 0;
    waitpid(pid, &status, 0);
    g_spawn_close_pid(pid);
    CHECK(signalled && WIFEXITED(status) && WEXITSTATUS(status) == 130, "SIGINT: exit status %d", status);
    nn_weights w;
    nn_error e = {0};
    uint32_t epoch = 99, step = 0;
    if (nn_weights_load(&w, ckpt_c, &e) == NN_OK) {
        nn_weights_get_u32(&w, "checkpoint.epoch", &epoch, &e);
        nn_weights_get_u32(&w, "checkpoint.step", &step, &e);
        nn_weights_free(&w);
    }
    printf("SIGINT: checkpoint at epoch %u, step %u\n", epoch + 1, step);
    CHECK(epoch == 0 && step >= 6, "the SIGINT checkpoint is at epoch %u step %u", epoch, step);
    int rc4 = run_command(command_train, "--data", g_dir, "--threads", "2", "--out", out_c, "--resume", ckpt_c,
                          "--checkpoint", ckpt_c, NULL);
    same = rc4 == 0 && same_tensors(ckpt_a, ckpt_c);
    printf("resume after SIGINT: %s\n", same ? "bit-identical to the uninterrupted run" : "DIFFERS");
    CHECK(same, "training resumed after SIGINT differs from the uninterrupted run");
    g_free(out_a), g_free(ckpt_a), g_free(out_b), g_free(ckpt_b), g_free(out_c), g_free(ckpt_c);
}

/* A checkpoint write that fails (here: a file-size limit, as a full disk)
 * leaves the previous checkpoint intact and no temporary file behind. */
static void test_checkpoint_atomicity(void) {
    char *out = work_path("d.weights"), *ckpt = work_path("d.ckpt");
    CHECK(run_command(command_train, TRAIN_ARGS, "--epochs", "2", "--out", out, "--checkpoint", ckpt,
                      "--max-steps", "3", NULL) == 0, "first run failed");
    gchar *before = NULL, *after = NULL;
    gsize nb = 0, na = 0;
    g_file_get_contents(ckpt, &before, &nb, NULL);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit lim = {(rlim_t)nb / 2, (rlim_t)nb / 2};
        setrlimit(RLIMIT_FSIZE, &lim);
        int rc = run_command(command_train, "--data", g_dir, "--threads", "2", "--out", out, "--resume", ckpt,
                             "--checkpoint", ckpt, "--max-steps", "2", NULL);
        _exit(rc == 0 ? 0 : 7);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7, "the failing write was not reported (status %d)", status);
    g_file_get_contents(ckpt, &after, &na, NULL);
    CHECK(before && after && na == nb && memcmp(before, after, nb) == 0, "the previous checkpoint changed");
    GDir *d = g_dir_open(g_work, 0, NULL);
    int leftovers = 0;
    for (const char *name; d && (name = g_dir_read_name(d));) leftovers += strstr(name, ".tmp") != NULL;
    if (d) g_dir_close(d);
    CHECK(leftovers == 0, "%d temporary files left", leftovers);
    printf("failed checkpoint write: previous checkpoint intact, %d temporaries left\n", leftovers);
    g_free(before), g_free(after), g_free(out), g_free(ckpt);
}

/* Bad options and unwritable outputs fail at once (exit 2), naming the
 * option and its range or the path, before any data is read. */
static void test_bad_options(void) {
    char *out = work_path("opt.weights"), *file = work_path("a-file");
    char *under_file = g_build_filename(file, "logs", NULL);
    CHECK(g_file_set_contents(file, "x", -1, NULL), "cannot write %s", file);
    struct {
        const char *label, *option, *value, *want;
    } cases[] = {
        {"--epochs 0", "--epochs", "0", "--epochs 0 is outside 1.."},
        {"--weight-decay nan", "--weight-decay", "nan", "--weight-decay nan is outside"},
        {"--weight-decay inf", "--weight-decay", "inf", "--weight-decay inf is outside"},
        {"--batch 0", "--batch", "0", "--batch 0 is outside 1..4096"},
        {"--lr 2", "--lr", "2", "--lr 2 is outside"},
        {"--out in a missing folder", "--out", "/nonexistent/folder/x.weights", "/nonexistent/folder/x.weights"},
        {"--log-dir below a file", "--log-dir", under_file, "cannot create the log folder"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        const gboolean is_out = strcmp(cases[i].option, "--out") == 0;
        char *argv[] = {(char *)g_exe, "train", "--data", "/nonexistent/cifar", "--out",
                        is_out ? (char *)cases[i].value : out, (char *)cases[i].option, (char *)cases[i].value, NULL};
        if (is_out) argv[6] = NULL;
        gchar *err = NULL;
        int rc = run_exe(argv, &err);
        printf("%-28s -> exit %d: %s", cases[i].label, rc, err ? err : "\n");
        CHECK(rc == 2 && err && strstr(err, cases[i].want) && !strstr(err, "cifar"),
              "%s: exit %d, '%s' (wanted exit 2 and '%s', before the data is read)", cases[i].label, rc, err,
              cases[i].want);
        g_free(err);
    }
    /* eval checks its outputs before it reads the model or the data */
    const char *eval_outputs[][2] = {{"--json", "/nonexistent/folder/eval.json"}, {"--report", under_file}};
    for (int i = 0; i < 2; i++) {
        char *argv[] = {(char *)g_exe, "eval", "--data", "/nonexistent/cifar", "--model", "/nonexistent/m.weights",
                        (char *)eval_outputs[i][0], (char *)eval_outputs[i][1], NULL};
        gchar *err = NULL;
        int rc = run_exe(argv, &err);
        printf("eval %-23s -> exit %d: %s", eval_outputs[i][0], rc, err ? err : "\n");
        CHECK(rc == 2 && err && strstr(err, eval_outputs[i][1]) && !strstr(err, "m.weights"),
              "eval %s: exit %d, '%s'", eval_outputs[i][0], rc, err);
        g_free(err);
    }
    g_free(out), g_free(file), g_free(under_file);
}

/* Runs the real colorize-train with a tampered copy of a checkpoint; it must
 * fail (no crash, no garbage written) with a message naming the file and
 * the field. */
static void expect_bad_checkpoint(const char *label, const char *ckpt, void (*tamper)(nn_weights *), const char *field) {
    nn_weights w;
    nn_error e = {0};
    CHECK(nn_weights_load(&w, ckpt, &e) == NN_OK, "%s", e.msg);
    tamper(&w);
    char *bad = work_path("tampered.ckpt"), *out = work_path("tampered.weights"), *logs = work_path("tampered-logs");
    CHECK(nn_weights_save(&w, bad, &e) == NN_OK, "%s", e.msg);
    nn_weights_free(&w);
    char *argv[] = {(char *)g_exe, "train", "--data", g_dir, "--threads", "2", "--out", out, "--resume", bad,
                    "--checkpoint", bad, "--log-dir", logs, "--max-steps", "1", NULL};
    gchar *err = NULL;
    gint status = 0;
    CHECK(g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err, &status, NULL),
          "cannot run %s", g_exe);
    const char *msg = err ? err : "";
    printf("%-34s -> %s", label, msg);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 0 && strstr(msg, "tampered.ckpt") && strstr(msg, field),
          "%s: status %d, message '%s' (wanted the file and '%s')", label, status, msg, field);
    CHECK(!g_file_test(out, G_FILE_TEST_EXISTS), "%s: a model was written from a bad checkpoint", label);
    g_free(err), g_free(bad), g_free(out), g_free(logs);
}

static void step_past_int(nn_weights *w) { nn_weights_set_u32(w, "checkpoint.step", 0x80000000u); }
static void step_past_epoch(nn_weights *w) { nn_weights_set_u32(w, "checkpoint.step", 100000); }
static void uneven_history(nn_weights *w) {
    const float extra[3] = {1, 2, 3};
    nn_weights_set_f32_array(w, "history.val_loss", extra, 3);
}
static void negative_moment(nn_weights *w) {
    for (size_t i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, "optimizer.adam_v") == 0) w->tensors[i].data[5] = -1.0f;
}
static void batch_zero(nn_weights *w) { nn_weights_set_u32(w, "train.batch", 0); }

/* Error paths of `train` after data, bins or a model were taken, run in
 * this process: under the sanitizer build LeakSanitizer fails the test if
 * any of them leaks. */
static void test_train_error_paths(const char *ckpt) {
    char *out = work_path("err.weights"), *tampered = work_path("tampered.ckpt");
    CHECK(run_command(command_train, TRAIN_ARGS, "--val", "100000", "--out", out, NULL) == 1, "--val too large accepted");
    CHECK(run_command(command_train, "--data", g_dir, "--limit", "10", "--batch", "64", "--val", "48", "--out", out,
                      NULL) == 1, "a batch larger than the training set accepted");
    CHECK(run_command(command_train, "--data", g_dir, "--out", out, "--resume", tampered, "--checkpoint", tampered,
                      NULL) == 1, "a tampered checkpoint accepted");
    (void)ckpt;
    printf("train error paths (too large --val, a batch larger than the set, a tampered checkpoint): all refused\n");
    g_free(out), g_free(tampered);
}

#if !defined(__SANITIZE_ADDRESS__)
static int train_16_threads(void *ctx) {
    return run_command(command_train, "--data", g_dir, "--batch", "16", "--limit", "160", "--val", "48", "--width", "8",
                       "--threads", "16", "--epochs", "1", "--out", (const char *)ctx, NULL);
}
#endif

/* A forward pass that fails in training (here: no address space left for
 * OpenBLAS's buffers of 16 threads) is an error with its cause, exit 1 and
 * no model, never a normal stop. (Not under AddressSanitizer.) */
static void test_train_forward_failure(void) {
#if defined(__SANITIZE_ADDRESS__)
    printf("forward failure in training: skipped under AddressSanitizer\n");
#else
    char *out = work_path("nomem.weights");
    gchar *msg = NULL;
    int status = run_under_address_limit(1536, train_16_threads, out, &msg);
    printf("training whose forward pass fails: %s %d -> %s", WIFEXITED(status) ? "exit" : "signal",
           WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), msg ? msg : "\n");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1 && msg && strstr(msg, "forward pass failed") &&
              strstr(msg, "no checkpoint was written yet"),
          "a failing forward pass was not an error (status %d): %s", status, msg ? msg : "");
    CHECK(!g_file_test(out, G_FILE_TEST_EXISTS), "a model was written");
    g_free(msg), g_free(out);
#endif
}

/* Checkpoint fields are validated against each other and the run. */
static void test_bad_checkpoints(void) {
    char *out = work_path("e.weights"), *ckpt = work_path("e.ckpt"), *stale = work_path("e.ckpt.tmp-Ab3dE9");
    CHECK(g_file_set_contents(stale, "half a checkpoint", -1, NULL), "cannot write %s", stale);
    CHECK(run_command(command_train, TRAIN_ARGS, "--epochs", "2", "--out", out, "--checkpoint", ckpt, "--max-steps",
                      "12", NULL) == 0, "first run failed");
    CHECK(!g_file_test(stale, G_FILE_TEST_EXISTS), "a stale temporary checkpoint was left: %s", stale);
    g_free(stale);
    expect_bad_checkpoint("checkpoint.step = 2^31", ckpt, step_past_int, "checkpoint.step");
    expect_bad_checkpoint("checkpoint.step past the epoch", ckpt, step_past_epoch, "checkpoint.step");
    expect_bad_checkpoint("history arrays of unequal lengths", ckpt, uneven_history, "history");
    expect_bad_checkpoint("negative Adam second moment", ckpt, negative_moment, "optimizer.adam_v");
    expect_bad_checkpoint("batch 0", ckpt, batch_zero, "train.batch");
    test_train_error_paths(ckpt);
    test_train_forward_failure();
    g_free(out), g_free(ckpt);
}

/* A 32x32 Lab image: L a ramp of 2 per column, ab two flat halves far apart. */
static void ramp_and_halves(float *L, float *ab) {
    for (int y = 0; y < CIFAR_SIDE; y++)
        for (int x = 0; x < CIFAR_SIDE; x++) {
            int p = y * CIFAR_SIDE + x;
            L[p] = 10.0f + 2.0f * x;
            ab[p] = x < 16 ? 40.0f : -30.0f;
            ab[CIFAR_PIXELS + p] = x < 16 ? 20.0f : -10.0f;
        }
}

/* The mean |ΔL| between neighbours of row 16, columns 12..20. */
static float middle_slope(const float *L) {
    float s = 0.0f;
    for (int x = 12; x < 20; x++) s += fabsf(L[16 * CIFAR_SIDE + x + 1] - L[16 * CIFAR_SIDE + x]);
    return s / 8.0f;
}

/* Scale augmentation enlarges crops by 1x to the largest zoom, and never
 * without being asked; stroke hints stay on the colour they start on and
 * are larger than patches. */
static void test_augmentation(void) {
    float L[CIFAR_PIXELS], ab[2 * CIFAR_PIXELS], in[NN_INPUT_CHANNELS * CIFAR_PIXELS];
    float outL[CIFAR_PIXELS], outab[2 * CIFAR_PIXELS];
    ramp_and_halves(L, ab);
    lab_set set = {.n = 1, .L = L, .ab = ab};
    ab_bins bins = {.grid = nn_ab_grid_default()};
    int index = 0;
    float least = INFINITY, most = 0.0f;
    for (int zoomed = 0; zoomed < 2; zoomed++)
        for (int k = 0; k < 200; k++) {
            nn_rng rng;
            nn_rng_seed(&rng, 100 + k);
            batch_options opt = {.augment = 1, .hints = 0, .zoom_share = zoomed ? 1.0f : 0.0f, .max_zoom = 4.0f};
            make_batch(&set, &bins, &index, 1, &rng, opt, in, NULL, outL, outab);
            float slope = middle_slope(outL);
            if (!zoomed) CHECK(fabsf(slope - 2.0f) < 1e-4f, "unzoomed sample %d has slope %.3f, not 2", k, slope);
            else least = fminf(least, slope), most = fmaxf(most, slope);
        }
    CHECK(least >= 0.5f - 1e-3f && most <= 2.0f + 1e-3f, "zoomed slopes %.3f..%.3f outside 0.5..2 (zoom 1..4)", least, most);
    CHECK(least < 0.7f && most > 1.6f, "zoomed slopes %.3f..%.3f do not span zoom 1..4", least, most);

    float hint_ab[2 * CIFAR_PIXELS], mask[CIFAR_PIXELS];
    int largest_stroke = 0, largest_patch = 0;
    for (int k = 0; k < 200; k++) {
        for (int strokes = 0; strokes < 2; strokes++) {
            nn_rng rng;
            nn_rng_seed(&rng, 500 + k);
            simulate_hints(ab, 1, strokes ? 1.0f : 0.0f, &rng, hint_ab, mask);
            int covered = 0, off_colour = 0;
            for (int p = 0; p < CIFAR_PIXELS; p++)
                if (mask[p] > 0.0f) {
                    covered++;
                    off_colour += fabsf(hint_ab[p] - ab[p]) > 1e-3f || fabsf(hint_ab[CIFAR_PIXELS + p] - ab[CIFAR_PIXELS + p]) > 1e-3f;
                }
            if (strokes) {
                CHECK(off_colour == 0, "stroke %d crosses into the other colour at %d pixels", k, off_colour);
                largest_stroke = covered > largest_stroke ? covered : largest_stroke;
            } else {
                largest_patch = covered > largest_patch ? covered : largest_patch;
            }
            CHECK(covered >= 1, "hint %d covers nothing", k);
        }
    }
    CHECK(largest_patch <= 9, "a patch covers %d pixels, more than 3x3", largest_patch);
    CHECK(largest_stroke >= 30, "the largest of 200 strokes covers only %d pixels", largest_stroke);
}

/* A table of file keys against nn/FORMAT.md: every key in it is listed
 * there (in backquotes), and every key listed there under the table's
 * prefixes (a regex alternation) is in the table. */
static void check_key_table(const char *format_md, const char *text, const char *who, const char *const *keys,
                            size_t n, const char *prefixes) {
    GHashTable *table = g_hash_table_new(g_str_hash, g_str_equal);
    for (size_t i = 0; i < n; i++) {
        char *quoted = g_strdup_printf("`%s`", keys[i]);
        CHECK(strstr(text, quoted) != NULL, "%s key %s is not in %s", who, keys[i], format_md);
        g_hash_table_add(table, (gpointer)keys[i]);
        g_free(quoted);
    }
    char *pattern = g_strdup_printf("`((%s)\\.[a-z_0-9.]+)`", prefixes);
    GRegex *re = g_regex_new(pattern, 0, 0, NULL);
    GMatchInfo *mi = NULL;
    int listed = 0;
    for (g_regex_match(re, text, 0, &mi); g_match_info_matches(mi); g_match_info_next(mi, NULL)) {
        gchar *key = g_match_info_fetch(mi, 1);
        listed++;
        CHECK(g_hash_table_contains(table, key), "%s lists %s, which the %s does not write", format_md, key, who);
        g_free(key);
    }
    printf("file keys: %zu in the %s's table, %d of its keys listed in FORMAT.md\n", n, who, listed);
    g_match_info_free(mi), g_regex_unref(re), g_free(pattern), g_hash_table_destroy(table);
}

/* The trainer's and the library's tables of file keys against FORMAT.md,
 * both ways. */
static void test_keys_documented(const char *format_md) {
    gchar *text = NULL;
    CHECK(g_file_get_contents(format_md, &text, NULL, NULL), "cannot read %s", format_md);
    if (!text) return;
    check_key_table(format_md, text, "trainer", trainer_keys, trainer_key_count,
                    "train|checkpoint|history|optimizer|eval");
    check_key_table(format_md, text, "library", nn_keys, nn_key_count, "arch|color|input|ab");
    g_free(text);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: test_trainer metrics_ref.bin colorize-train FORMAT.md\n");
        return 1;
    }
    g_exe = argv[2];
    make_dataset();
    g_work = g_dir_make_tmp("colorize-work-XXXXXX", NULL);
    test_keys_documented(argv[3]);
    test_reader();
    test_metrics(argv[1]);
    test_augmentation();
    test_training();
    test_resume();
    test_checkpoint_atomicity();
    test_bad_checkpoints();
    test_bad_options();
    test_eval();
    test_photo_benchmark();
    test_train_images();
    test_colorize();
    test_colorize_batch();
    char *cmd = g_strdup_printf("rm -rf '%s' '%s'", g_dir, g_work);
    CHECK(system(cmd) == 0, "cleanup");
    g_free(cmd);
    return test_finish("test_trainer");
}
