/* test_mpi.c — data-parallel training through the real mpirun on
 * localhost: one rank under mpirun is bit-identical to a run without it;
 * two ranks are repeatable, resume exactly, and match one rank that runs
 * the same batches as two micro-batches (--accumulate 2, so that batch
 * norm sees the same groups) to within float summation tolerance.
 * Usage: test_mpi colorize-train (mpirun from $MPIRUN). Skipped (77) when
 * colorize-train was built without MPI. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "synth_cifar.h"
#include "testlib.h"
#include "trainer.h"

/* After TWIN_STEPS steps, the largest differences between a 2-rank run
 * and its 1-rank twin that are still float summation: the two add the
 * same gradients in another order (the reduction against the accumulating
 * GEMM). Measured on the synthetic set: 1.8e-6 and 7.5e-9 (on CIFAR-10:
 * 8.2e-7 and 1.1e-8); the twin that normalizes all 16 images together
 * differs by 1.2e-2. Over more steps the gap grows (8e-4 after 20),
 * because Adam's normalized update turns the rounding of
 * near-zero gradients into whole steps of ±lr. */
#define TWIN_STEPS "2"
#define PARAM_TOLERANCE 1e-5
#define MOMENT_TOLERANCE 1e-6

static const char *g_exe, *g_mpirun;
static char *g_data, *g_work;

static char *work_path(const char *name) { return g_build_filename(g_work, name, NULL); }

/* Runs colorize-train train with the common arguments and then `more`,
 * under mpirun with `ranks` ranks (0: without mpirun). Returns the exit
 * status; its standard error goes to *err when err is not NULL. */
static int train(int ranks, const char *const *more, gchar **err) {
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    if (ranks > 0) {
        const char *launch[] = {g_mpirun, "-np", NULL, "--oversubscribe", "--bind-to", "none"};
        for (int i = 0; i < 6; i++) g_ptr_array_add(argv, i == 2 ? g_strdup_printf("%d", ranks) : g_strdup(launch[i]));
    }
    const char *common[] = {g_exe, "train", "--data", g_data, "--batch", "16", "--limit", "160", "--val", "48",
                            "--threads", "1", "--seed", "3", "--lr", "3e-3", "--epochs", "2"};
    for (size_t i = 0; i < G_N_ELEMENTS(common); i++) g_ptr_array_add(argv, g_strdup(common[i]));
    gboolean resumes = FALSE;
    for (int i = 0; more[i]; i++) g_ptr_array_add(argv, g_strdup(more[i])), resumes |= strcmp(more[i], "--resume") == 0;
    if (!resumes) g_ptr_array_add(argv, g_strdup("--width")), g_ptr_array_add(argv, g_strdup("8")); /* a new model's */
    g_ptr_array_add(argv, NULL);
    gint status = -1;
    gchar *out = NULL, *errtext = NULL;
    GError *e = NULL;
    if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, 0, NULL, NULL, &out, &errtext, &status, &e)) {
        CHECK(0, "cannot run %s: %s", (char *)argv->pdata[0], e->message);
        g_clear_error(&e);
    }
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (rc != 0 && !err) fprintf(stderr, "%s%s", out ? out : "", errtext ? errtext : "");
    if (err) *err = errtext;
    else g_free(errtext);
    g_free(out);
    g_ptr_array_free(argv, TRUE);
    return rc;
}

/* The largest absolute differences between two weights files: of the
 * trained parameters, of Adam's moments, and of the batch-norm running
 * statistics. Negative when a file does not load or the tensors differ in
 * name or size. */
typedef struct {
    double params, moments, buffers;
} tensor_diff;

static tensor_diff compare(const char *pa, const char *pb) {
    tensor_diff d = {-1, -1, -1};
    nn_weights a, b;
    nn_error e = {0};
    if (nn_weights_load(&a, pa, &e) != NN_OK) {
        CHECK(0, "%s", e.msg);
        return d;
    }
    if (nn_weights_load(&b, pb, &e) != NN_OK) {
        CHECK(0, "%s", e.msg);
        nn_weights_free(&a);
        return d;
    }
    tensor_diff m = {0, 0, 0};
    int same_layout = a.n_tensors == b.n_tensors && a.n_tensors > 0;
    for (size_t i = 0; same_layout && i < a.n_tensors; i++) {
        const nn_tensor_entry *ta = &a.tensors[i], *tb = nn_weights_find_tensor(&b, ta->name);
        size_t n = 1;
        for (uint32_t k = 0; k < ta->ndims; k++) n *= ta->dims[k];
        if (!tb || tb->ndims != ta->ndims || memcmp(tb->dims, ta->dims, sizeof(uint64_t) * ta->ndims) != 0) {
            same_layout = 0;
            break;
        }
        double *slot = g_str_has_prefix(ta->name, "optimizer.") ? &m.moments
                       : strstr(ta->name, ".running_") ? &m.buffers
                                                       : &m.params;
        for (size_t k = 0; k < n; k++) *slot = fmax(*slot, fabs((double)ta->data[k] - (double)tb->data[k]));
    }
    nn_weights_free(&a), nn_weights_free(&b);
    CHECK(same_layout, "%s and %s hold different tensors", pa, pb);
    return same_layout ? m : d;
}

static void print_diff(const char *what, tensor_diff d) {
    printf("%-52s parameters %.3g, moments %.3g, running statistics %.3g\n", what, d.params, d.moments, d.buffers);
}

/* One rank under mpirun and a run without mpirun: bit-identical. */
static void test_one_rank(void) {
    char *plain = work_path("plain.ckpt"), *one = work_path("one.ckpt");
    char *plain_out = work_path("plain.weights"), *one_out = work_path("one.weights");
    int rc0 = train(0, (const char *[]){"--out", plain_out, "--checkpoint", plain, NULL}, NULL);
    int rc1 = train(1, (const char *[]){"--out", one_out, "--checkpoint", one, NULL}, NULL);
    CHECK(rc0 == 0 && rc1 == 0, "training failed: %d without mpirun, %d with one rank", rc0, rc1);
    tensor_diff d = compare(plain, one);
    print_diff("mpirun -np 1 against no mpirun:", d);
    CHECK(d.params == 0 && d.moments == 0 && d.buffers == 0, "one rank under mpirun is not bit-identical");
    g_free(plain), g_free(one), g_free(plain_out), g_free(one_out);
}

/* Two ranks: the same twice. After TWIN_STEPS steps, against one rank with
 * --accumulate 2 (the same images in the same batch-norm groups): within
 * the tolerance; against one rank normalizing all 16 images together:
 * clearly different. After two epochs, still far closer to the first. */
static void test_two_ranks(void) {
    char *a = work_path("two-a.ckpt"), *b = work_path("two-b.ckpt"), *acc = work_path("acc.ckpt");
    char *out = work_path("two.weights"), *plain = work_path("plain.ckpt");
    char *a2 = work_path("two-2.ckpt"), *acc2 = work_path("acc-2.ckpt"), *plain2 = work_path("plain-2.ckpt");
    gchar *err = NULL;
    int rc[6] = {
        train(2, (const char *[]){"--out", out, "--checkpoint", a, NULL}, &err),
        train(2, (const char *[]){"--out", out, "--checkpoint", b, NULL}, NULL),
        train(0, (const char *[]){"--out", out, "--checkpoint", acc, "--accumulate", "2", NULL}, NULL),
        train(2, (const char *[]){"--out", out, "--checkpoint", a2, "--max-steps", TWIN_STEPS, NULL}, NULL),
        train(0, (const char *[]){"--out", out, "--checkpoint", acc2, "--max-steps", TWIN_STEPS, "--accumulate", "2",
                                  NULL}, NULL),
        train(0, (const char *[]){"--out", out, "--checkpoint", plain2, "--max-steps", TWIN_STEPS, NULL}, NULL)};
    for (int i = 0; i < 6; i++) CHECK(rc[i] == 0, "training run %d failed with %d", i, rc[i]);
    CHECK(err && !strstr(err, "rank 1"), "rank 1 spoke although nothing failed: %s", err ? err : "");
    tensor_diff again = compare(a, b), twin = compare(a2, acc2), whole = compare(a2, plain2);
    tensor_diff twin_long = compare(a, acc), whole_long = compare(a, plain);
    print_diff("two ranks, run twice:", again);
    print_diff("after " TWIN_STEPS " steps, against one rank with --accumulate 2:", twin);
    print_diff("after " TWIN_STEPS " steps, against one rank, batch norm over 16:", whole);
    print_diff("after 2 epochs, against one rank with --accumulate 2:", twin_long);
    print_diff("after 2 epochs, against one rank, batch norm over 16:", whole_long);
    CHECK(again.params == 0 && again.moments == 0 && again.buffers == 0, "two-rank runs are not repeatable");
    CHECK(twin.params >= 0 && twin.params <= PARAM_TOLERANCE && twin.moments <= MOMENT_TOLERANCE,
          "two ranks differ from one rank with the same batches by %g, moments by %g (tolerances %g, %g)",
          twin.params, twin.moments, PARAM_TOLERANCE, MOMENT_TOLERANCE);
    CHECK(whole.params > 100 * PARAM_TOLERANCE,
          "two ranks are as close to one rank without accumulation (%g) as the tolerance: the comparison "
          "cannot tell batch-norm groups apart", whole.params);
    CHECK(twin_long.params >= 0 && twin_long.params < whole_long.params / 10,
          "after 2 epochs two ranks are not closer to their one-rank twin (%g) than to the other grouping (%g)",
          twin_long.params, whole_long.params);
    g_free(err);
    g_free(a), g_free(b), g_free(acc), g_free(out), g_free(plain), g_free(a2), g_free(acc2), g_free(plain2);
}

/* Two ranks stopped by --max-steps and resumed by two ranks: parameters
 * and moments bit-identical to the uninterrupted run (the running
 * statistics, averaged over the ranks at the stop, within rounding); and
 * the checkpoint resumed by one rank, with a note, and refused by three
 * (whose split of the batch it checks before any note). */
static void test_resume(void) {
    char *ckpt = work_path("cut.ckpt"), *out = work_path("cut.weights"), *whole = work_path("two-a.ckpt");
    char *one = work_path("cut-one.ckpt");
    int rc1 = train(2, (const char *[]){"--out", out, "--checkpoint", ckpt, "--max-steps", "7", NULL}, NULL);
    gchar *bytes = NULL;
    gsize len = 0;
    g_file_get_contents(ckpt, &bytes, &len, NULL);
    CHECK(rc1 == 0 && bytes, "the interrupted two-rank run failed (%d)", rc1);
    g_file_set_contents(one, bytes ? bytes : "", (gssize)len, NULL);
    g_free(bytes);
    const char *resume[] = {"--out", out, "--checkpoint", ckpt, "--resume", ckpt, NULL};
    int rc2 = train(2, resume, NULL);
    CHECK(rc2 == 0, "resuming with two ranks failed (%d)", rc2);
    tensor_diff d = compare(whole, ckpt);
    print_diff("two ranks resumed after 7 steps against uninterrupted:", d);
    CHECK(d.params == 0 && d.moments == 0, "the resumed two-rank run differs from the uninterrupted one");
    CHECK(d.buffers >= 0 && d.buffers < 1e-4, "running statistics differ by %g after resuming", d.buffers);
    gchar *err = NULL;
    int rc3 = train(0, (const char *[]){"--out", out, "--checkpoint", one, "--resume", one, NULL}, &err);
    printf("a two-rank checkpoint resumed by one rank: exit %d, %s\n", rc3,
           err && strstr(err, "normalized batches in 2 groups") ? "with a note on batch-norm groups" : "NO NOTE");
    CHECK(rc3 == 0 && err && strstr(err, "normalized batches in 2 groups"), "resuming with one rank: %s",
          err ? err : "");
    g_free(err), err = NULL;
    /* three ranks cannot split its batch of 16: refused, with no note on batch-norm groups first */
    int rc4 = train(3, (const char *[]){"--out", out, "--checkpoint", one, "--resume", one, NULL}, &err);
    printf("the checkpoint resumed by three ranks: exit %d: %s", rc4, err ? err : "(nothing)\n");
    CHECK(rc4 == 1 && err && strstr(err, "16 does not split into 3 rank(s)") && !strstr(err, "note:"),
          "resuming with three ranks: %s", err ? err : "");
    g_free(err), g_free(ckpt), g_free(out), g_free(whole), g_free(one);
}

/* A batch that does not split over the ranks is refused once, by rank 0,
 * naming the numbers; other commands refuse to run under mpirun. */
static void test_refusals(void) {
    char *out = work_path("bad.weights");
    gchar *err = NULL;
    int rc = train(3, (const char *[]){"--out", out, NULL}, &err);
    printf("--batch 16 over 3 ranks: exit %d: %s", rc, err ? err : "(nothing)\n");
    CHECK(rc == 1 && err && strstr(err, "16 does not split into 3 rank(s)"), "an unsplittable batch: %s",
          err ? err : "");
    CHECK(err && !strstr(err, "rank 1 of 3"), "the refusal was repeated by every rank");
    g_free(err);
    const char *argv[] = {g_mpirun, "-np", "2", "--oversubscribe", g_exe, "eval", "--help", NULL};
    gint status = -1;
    err = NULL;
    g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err, &status, NULL);
    CHECK(err && strstr(err, "only train runs over MPI"), "eval under mpirun: %s", err ? err : "");
    g_free(err), g_free(out);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_mpi colorize-train\n");
        return 1;
    }
    if (!dist_library()) {
        printf("skipped: colorize-train was built without MPI (install libopenmpi-dev, meson -Dmpi=enabled)\n");
        return 77;
    }
    g_exe = argv[1];
    g_mpirun = getenv("MPIRUN");
    if (!g_mpirun || !*g_mpirun) {
        CHECK(0, "colorize-train was built with MPI, but no mpirun was found to test it (install openmpi-bin)");
        return test_finish("test_mpi");
    }
    /* in containers the kernel may forbid the single-copy transfers of Open
     * MPI's shared-memory transport; plain copies work everywhere */
    g_setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", FALSE);
    if (geteuid() == 0) { /* Open MPI refuses root unless told twice */
        g_setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", TRUE);
        g_setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", TRUE);
    }
#if defined(__SANITIZE_ADDRESS__)
    /* Open MPI unloads its components at MPI_Finalize, so LeakSanitizer
     * cannot name (nor be told to suppress) what they keep: no leak check
     * under mpirun. The trainer test checks the training code for leaks. */
    const char *asan = g_getenv("ASAN_OPTIONS");
    char *opts = g_strconcat(asan ? asan : "", asan ? ":" : "", "detect_leaks=0", NULL);
    g_setenv("ASAN_OPTIONS", opts, TRUE);
    g_free(opts);
#endif
    g_data = synth_cifar_dataset();
    g_work = g_dir_make_tmp("colorize-mpi-XXXXXX", NULL);
    test_one_rank();
    test_two_ranks();
    test_resume();
    test_refusals();
    char *cmd = g_strdup_printf("rm -rf '%s' '%s'", g_data, g_work);
    CHECK(system(cmd) == 0, "cleanup");
    g_free(cmd), g_free(g_data), g_free(g_work);
    return test_finish("test_mpi");
}
