/* dialog_calls.c — what the dialog test's files share (dialog_tests.h):
 * the plug-in called interactively from a thread (so that the test can
 * drive its dialog meanwhile), Script-Fu answers read as numbers, a
 * layer's redness, and GIMP's output log read from a position. */
#include "dialog_tests.h"

#include <stdio.h>
#include <string.h>

#include "gimpgui.h"
#include "testlib.h"

static gpointer call_thread(gpointer data) {
    Call *c = data;
    c->answer = gui_script_fu(c->port, c->expr, &c->ok);
    g_atomic_int_set(&c->done, 1);
    return NULL;
}

/* Opens the dialog as RUN-INTERACTIVE from a thread (the call returns when
 * the dialog closes); returns the dialog window (g_free it) or NULL. */
char *open_dialog(Call *c, GThread **t, int port, int image, int source) {
    *c = (Call){port, g_strdup_printf("(car (plug-in-nn-colorize RUN-INTERACTIVE %d %d \"\" 0.5 1.0 256 -1))", image, source),
                NULL, FALSE, 0};
    *t = g_thread_new("interactive-call", call_thread, c);
    char *dialog = gui_find_window("^Colorize .Neural.$", 60);
    CHECK(dialog != NULL, "the dialog did not appear");
    return dialog;
}

/* Waits up to 120 s for the call to return; TRUE when it did. */
gboolean wait_call(Call *c, GThread *t) {
    for (int i = 0; i < 1200 && !g_atomic_int_get(&c->done); i++) g_usleep(100000);
    if (!g_atomic_int_get(&c->done)) return FALSE;
    g_thread_join(t);
    return TRUE;
}

gboolean eval_image_layer(int port, char *expr, int *image, int *layer) {
    char *ids = gui_eval(port, expr);
    const gboolean ok = sscanf(ids, "(%d %d)", image, layer) == 2 && *image > 0;
    CHECK(ok, "no image and layer in the answer to %s: %s", expr, ids);
    g_free(ids), g_free(expr);
    return ok;
}

int eval_int(int port, const char *expr) {
    char *r = gui_eval(port, expr);
    int v = -1;
    if (sscanf(r + strspn(r, "("), "%d", &v) != 1) CHECK(0, "no number in the answer to %s: %s", expr, r);
    g_free(r);
    return v;
}

/* Red minus green at a pixel of the layer (8-bit RGB). */
int redness(int port, int layer, int x, int y) {
    char *e = g_strdup_printf("(cadr (gimp-drawable-get-pixel %d %d %d))", layer, x, y);
    char *r = gui_eval(port, e);
    int red = 0, green = 0;
    CHECK(sscanf(r, "#(%d %d", &red, &green) == 2, "no pixel in %s", r);
    g_free(e), g_free(r);
    return red - green;
}

/* The bytes of GIMP's log so far (where the plug-in's COLORIZE_VERBOSE
 * lines go): later text is what happened since. */
gsize log_size(const char *log) {
    gchar *text = NULL;
    gsize n = 0;
    g_file_get_contents(log, &text, &n, NULL);
    g_free(text);
    return n;
}

/* Waits up to `seconds` for `what` in the log after byte `from`; returns
 * the text from there (g_free it) or NULL. */
char *log_wait_for(const char *log, gsize from, const char *what, double seconds) {
    for (int i = 0; i <= seconds * 10; i++) {
        gchar *text = NULL;
        gsize n = 0;
        if (g_file_get_contents(log, &text, &n, NULL) && n >= from && strstr(text + from, what)) {
            char *rest = g_strdup(text + from);
            g_free(text);
            return rest;
        }
        g_free(text);
        g_usleep(100000);
    }
    return NULL;
}

