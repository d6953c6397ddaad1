/* hostile_tests.h — what the hostile test's files share: the work folder,
 * the model and program under test, photo folders written by the test
 * (hostile_files.c), and the checks of test_hostile_runs.c (models,
 * checkpoints and runs on hostile photos), which test_hostile.c's main()
 * runs after the folder and cache checks. */
#ifndef HOSTILE_TESTS_H
#define HOSTILE_TESTS_H

#include <glib.h>

#include "trainer.h"

extern char *g_work;                 /* outputs */
extern const char *g_model, *g_exe;  /* the shipped model, the real colorize-train */
extern char *g_train_photos, *g_base, *g_base_ckpt; /* the base run of test_hostile_runs.c */

/* A path in the work folder (g_free). */
char *work_path(const char *name);
/* out = dir/name (cap bytes). */
void in_folder(char *out, size_t cap, const char *dir, const char *name);
/* A new folder in the work folder (g_free). */
char *make_folder(const char *name);
/* A colour photo: a hue ramp of (r, g, b); saved as PNG or BMP by the name. */
void write_photo(const char *path, int w, int h, int r, int g, int b);
/* What g_printerr says while capturing (into out; NULL: back to stderr). */
void capture_stderr(GString *out);
/* Seconds any one load may take before the test counts it as a hang. */
#define WATCHDOG_SECONDS 60
/* A load past WATCHDOG_SECONDS (alarm) fails the test and exits. */
void watchdog_install(void);
/* photo_set_load under the watchdog; prints the error when it fails. */
gboolean load(photo_set *ps, const char *dirs, const char *cache, int max_side);

/* test_hostile_runs.c */
void make_base_run(void);
void test_input_channels(void);
void test_rebin_shifted_bins(void);
void test_history_cap(void);
void test_counts_past_memory(void);
void test_split_stable(void);
void test_resume_keeps_photos(void);
void test_resume_keeps_forced_split(void);
void test_messages(void);

#endif
