/* trainer_tests.h — what the trainer test's files share: the synthetic
 * data set and work folder, running colorize-train in this process or as
 * the real program (trainer_runs.c), and each file's tests that
 * test_trainer.c's main() runs in order. */
#ifndef TRAINER_TESTS_H
#define TRAINER_TESTS_H

#include <glib.h>

extern char *g_dir;       /* the synthetic data set */
extern char *g_work;      /* outputs */
extern const char *g_exe; /* the real colorize-train */

/* Runs `colorize-train ARGS…` (NULL-terminated) in this process. */
int run_command(int (*cmd)(int, char **), const char *first, ...);
/* A path in the work folder (g_free). */
char *work_path(const char *name);
/* Runs the real colorize-train; returns its exit status (-1 when it did not
 * exit), its standard error in *err (g_free it). */
int run_exe(char **argv, gchar **err);

#if !defined(__SANITIZE_ADDRESS__)
/* Runs fn(ctx) in a child whose address space may grow by only extra_mb
 * (ulimit -v), with a 60 s alarm for hangs; returns its wait status and its
 * standard error in *msg (g_free it). */
int run_under_address_limit(size_t extra_mb, int (*fn)(void *), void *ctx, gchar **msg);
#endif

#define TRAIN_ARGS "--data", g_dir, "--batch", "16", "--limit", "160", "--val", "48", "--width", "8", \
                   "--threads", "2", "--seed", "3", "--lr", "3e-3"

/* test_trainer_colorize.c: `colorize` on one file and in batches. */
void test_colorize(void);
void test_colorize_batch(void);
/* test_trainer_photos.c: eval on CIFAR-10 and on photos, train --images. */
/* Writes a w*h photo: a red disc on a blue-green gradient, or gray. */
void write_photo(const char *path, int w, int h, gboolean colour);
void test_eval(void);
void test_photo_benchmark(void);
void test_train_images(void);

#endif
