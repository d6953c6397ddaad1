/* options.c — checks of colorize-train's command line that every command
 * shares: numbers inside their ranges (the message names the option and the
 * range) and outputs that can be written, checked before any work starts so
 * that a long run never fails at its end for a path the user mistyped. */
#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "trainer.h"

gboolean option_int_ok(const char *command, const char *option, long value, long lo, long hi) {
    if (value >= lo && value <= hi) return TRUE;
    g_printerr("colorize-train %s: %s %ld is outside %ld..%ld\n", command, option, value, lo, hi);
    return FALSE;
}

gboolean option_double_ok(const char *command, const char *option, double value, double lo, double hi) {
    if (isfinite(value) && value >= lo && value <= hi) return TRUE;
    g_printerr("colorize-train %s: %s %g is outside %g..%g\n", command, option, value, lo, hi);
    return FALSE;
}

gboolean option_precision_ok(const char *command, const char *value) {
    if (!value || strcmp(value, "auto") == 0) {
        g_unsetenv("NN_PRECISION");
        return TRUE;
    }
    if (strcmp(value, "fp32") == 0 || (strcmp(value, "bf16") == 0 && nn_gemm_bf16_available())) {
        g_setenv("NN_PRECISION", value, TRUE); /* read by nn_default_precision() */
        return TRUE;
    }
    if (strcmp(value, "bf16") == 0)
        g_printerr("colorize-train %s: --precision bf16: this CPU has no AVX512-BF16 (%s)\n", command,
                   nn_gemm_bf16_kernel_name());
    else g_printerr("colorize-train %s: --precision is auto, fp32 or bf16, not '%s'\n", command, value);
    return FALSE;
}

/* A file can be created beside path (a unique name, removed at once). */
static gboolean can_create_beside(const char *path, const char *what, GError **error) {
    char *tmp = g_strconcat(path, ".check-XXXXXX", NULL);
    int fd = g_mkstemp(tmp);
    gboolean ok = fd >= 0;
    if (!ok)
        g_set_error(error, TRAINER_ERROR, 1, "%s: %s cannot be written there: %s", path, what, g_strerror(errno));
    else close(fd), g_unlink(tmp);
    g_free(tmp);
    return ok;
}

gboolean output_file_ok(const char *path, const char *what, GError **error) {
    if (!path) return TRUE;
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: %s is a folder, not a file", path, what);
        return FALSE;
    }
    return can_create_beside(path, what, error);
}

gboolean output_dir_ok(const char *dir, const char *what, GError **error) {
    if (!dir) return TRUE;
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        g_set_error(error, TRAINER_ERROR, 1, "%s: cannot create the %s: %s", dir, what, g_strerror(errno));
        return FALSE;
    }
    char *probe = g_build_filename(dir, "probe", NULL);
    gboolean ok = can_create_beside(probe, what, error);
    g_free(probe);
    return ok;
}

void format_hms(char *buf, size_t size, double seconds) {
    long s = seconds > 0 && seconds < 1e9 ? (long)(seconds + 0.5) : 0;
    g_snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
}
