/* fuzz_file.h — for the libFuzzer targets whose code under test reads a
 * file: writes the input into a fresh temporary folder and returns its
 * path there (g_free it; fuzz_file_done removes the folder). Inline functions only:
 * no .c implements it. */
#ifndef FUZZ_FILE_H
#define FUZZ_FILE_H

#include <glib.h>
#include <glib/gstdio.h>

static inline char *fuzz_file_write(const char *name, const uint8_t *data, size_t size) {
    char *dir = g_dir_make_tmp("colorize-fuzz-XXXXXX", NULL);
    if (!dir) return NULL;
    char *path = g_build_filename(dir, name, NULL);
    g_free(dir);
    if (!g_file_set_contents(path, (const char *)data, (gssize)size, NULL)) g_clear_pointer(&path, g_free);
    return path;
}

static inline void fuzz_file_done(char *path) {
    if (!path) return;
    char *dir = g_path_get_dirname(path);
    g_unlink(path);
    g_rmdir(dir);
    g_free(dir), g_free(path);
}

#endif
