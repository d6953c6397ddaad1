/* hostile_files.c — what the hostile test's files share (hostile_tests.h):
 * the work folder and its paths, colour photos written at run time, what
 * g_printerr says captured, and photo-set loads under a watchdog, so that
 * a hang fails instead of blocking the suite. */
#include "hostile_tests.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "testlib.h"

char *g_work;
const char *g_model, *g_exe;

char *work_path(const char *name) { return g_build_filename(g_work, name, NULL); }

char *make_folder(const char *name) {
    char *dir = work_path(name);
    g_mkdir_with_parents(dir, 0755);
    return dir;
}

/* A colour photo: a hue ramp of (r, g, b); saved as PNG or BMP by the name. */
void write_photo(const char *path, int w, int h, int r, int g, int b) {
    GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, w, h);
    guchar *px = gdk_pixbuf_get_pixels(pb);
    const int stride = gdk_pixbuf_get_rowstride(pb);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            guchar *p = px + y * stride + 3 * x;
            p[0] = (guchar)(r * (w + x) / (2 * w)), p[1] = (guchar)(g * (h + y) / (2 * h)), p[2] = (guchar)b;
        }
    const char *type = g_str_has_suffix(path, ".bmp") ? "bmp" : "png";
    CHECK(gdk_pixbuf_save(pb, path, type, NULL, NULL), "cannot write %s", path);
    g_object_unref(pb);
}

void in_folder(char *out, size_t cap, const char *dir, const char *name) {
    g_snprintf(out, cap, "%s/%s", dir, name);
}

/* What g_printerr says while capturing (into out; NULL: back to stderr). */
static GString *g_captured;
static void capture_print(const char *text) { g_string_append(g_captured, text); }
void capture_stderr(GString *out) {
    g_captured = out;
    g_set_printerr_handler(out ? capture_print : NULL);
}

static void on_watchdog(int sig) {
    (void)sig;
    static const char msg[] = "FAIL: a load hung (watchdog)\n";
    if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
    _exit(3);
}

/* photo_set_load under the watchdog; prints the error when it fails. */
gboolean load(photo_set *ps, const char *dirs, const char *cache, int max_side) {
    GError *error = NULL;
    alarm(WATCHDOG_SECONDS);
    gboolean ok = photo_set_load(ps, dirs, cache, max_side, &error);
    alarm(0);
    if (!ok) printf("load %s: %s\n", dirs, error->message);
    g_clear_error(&error);
    return ok;
}

void watchdog_install(void) { signal(SIGALRM, on_watchdog); }
