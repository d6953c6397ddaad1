/* test_dialog.c — the plug-in's dialog used as a user uses it, in the real
 * GIMP 2.10 under Xvfb: a photo (a sample, made RGB) with a hint layer
 * holding a red disc is opened in a display; the dialog is opened through
 * Script-Fu as RUN-INTERACTIVE ten times; each time the test waits for the
 * preview, picks the hint layer in the combo with the keyboard (every
 * other run) or "None", and presses OK (Alt+O). Every run must return a
 * new "Colorized" layer (red at the disc when hinted; above both the source
 * and the hint layer), and GIMP's output must hold no wire or tile error
 * (the crash this guards against was a race on the plug-in's wire), nor a
 * sanitizer report. Then Help opens the installed help page in the user's
 * browser (a stand-in registered for text/html), and Cancel leaves the
 * image as it was. A point placed by a click (and coloured in the colour
 * dialog, which the preview follows live) is kept with the image and used
 * by Repeat; a new point starts with the network's colour there, unless
 * its colour dialog opened first (a later guess never changes a colour
 * being edited); on a flat region one click colours the whole region and
 * stops at its edge; points dragged past the preview's edges stay inside
 * the image, stored and used by Repeat; Remove all leaves none stored; the
 * quick preview pass is shown before the full one; OK reuses the preview's
 * full pass; a click past 256 points is refused with a message; a colour
 * reference picked in the Reference combo warms the result, and Repeat
 * keeps it; so does one taken from a file with the Reference file button.
 * Usage: test_dialog PLUGIN MODEL PHOTO HELP.html (re-runs itself under xvfb-run). */
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gimpgui.h"
#include "testlib.h"

#define RUNS 10
#define POINT_RED "c83c28" /* the colour the tests give clicked points */
#define POINT_BLUE "2040c0"
#define REUSE_MEAN_TOLERANCE 2.0 /* of 255: OK from the preview's pass against Repeat, which runs the network */
#define PHOTO_W 2000 /* the sample, enlarged: the crash showed on photos of 512 to 2400 px */
#define PHOTO_H 1250
#define DISC_X 1000 /* the hint disc's centre and radius, image pixels */
#define DISC_Y 600
#define DISC_R 120

typedef struct {
    int port;
    char *expr, *answer;
    gboolean ok;
    volatile gint done;
} Call;

static gpointer call_thread(gpointer data) {
    Call *c = data;
    c->answer = gui_script_fu(c->port, c->expr, &c->ok);
    g_atomic_int_set(&c->done, 1);
    return NULL;
}

/* Opens the dialog as RUN-INTERACTIVE from a thread (the call returns when
 * the dialog closes); returns the dialog window (g_free it) or NULL. */
static char *open_dialog(Call *c, GThread **t, int port, int image, int source) {
    *c = (Call){port, g_strdup_printf("(car (plug-in-nn-colorize RUN-INTERACTIVE %d %d \"\" 0.5 1.0 256 -1))", image, source),
                NULL, FALSE, 0};
    *t = g_thread_new("interactive-call", call_thread, c);
    char *dialog = gui_find_window("^Colorize .Neural.$", 60);
    CHECK(dialog != NULL, "the dialog did not appear");
    return dialog;
}

/* Waits up to 120 s for the call to return; TRUE when it did. */
static gboolean wait_call(Call *c, GThread *t) {
    for (int i = 0; i < 1200 && !g_atomic_int_get(&c->done); i++) g_usleep(100000);
    if (!g_atomic_int_get(&c->done)) return FALSE;
    g_thread_join(t);
    return TRUE;
}

static int eval_int(int port, const char *expr) {
    char *r = gui_eval(port, expr);
    int v = -1;
    if (sscanf(r + strspn(r, "("), "%d", &v) != 1) CHECK(0, "no number in the answer to %s: %s", expr, r);
    g_free(r);
    return v;
}

/* Red minus green at a pixel of the layer (8-bit RGB). */
static int redness(int port, int layer, int x, int y) {
    char *e = g_strdup_printf("(cadr (gimp-drawable-get-pixel %d %d %d))", layer, x, y);
    char *r = gui_eval(port, e);
    int red = 0, green = 0;
    CHECK(sscanf(r, "#(%d %d", &red, &green) == 2, "no pixel in %s", r);
    g_free(e), g_free(r);
    return red - green;
}

/* Opens the dialog, picks the hint layer or None, presses OK; returns the
 * new layer or -1. */
static int one_run(int port, int image, int source, gboolean with_hint) {
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, image, source);
    if (dialog) {
        g_usleep(1500000); /* the preview's first passes */
        CHECK(gui_press(dialog, "alt+i") && gui_press(dialog, with_hint ? "End" : "Home"),
              "could not choose the hint layer");
        g_usleep(300000);
        const char *shots = g_getenv("COLORIZE_TEST_SHOTS"); /* a folder for screenshots of the dialog */
        if (shots) {
            char *file = g_strdup_printf("%s/dialog-%s.png", shots, with_hint ? "hint" : "none");
            char *shot[] = {"import", "-window", dialog, file, NULL};
            gui_run_quiet(shot, NULL);
            g_free(file);
        }
        CHECK(gui_press(dialog, "alt+o"), "could not press OK");
    }
    int layer = -1;
    if (wait_call(&c, t)) {
        CHECK(c.ok && c.answer && sscanf(c.answer, "%d", &layer) == 1 && layer > 0, "OK gave no layer: %s",
              c.answer ? c.answer : "(no answer)");
        printf("run with%s hint layer -> %s\n", with_hint ? "" : "out", c.answer ? c.answer : "(none)");
    } else {
        CHECK(0, "the plug-in did not return within 120 s of OK");
    }
    g_free(c.expr), g_free(c.answer), g_free(dialog);
    return layer;
}

static gboolean log_has_wire_errors(const char *log) {
    gchar *text = NULL;
    CHECK(g_file_get_contents(log, &text, NULL, NULL), "cannot read %s", log);
    const char *bad[] = {"tile ack", "TILE_ACK", "gimp_wire", "unexpected message", "handle_proc_run: ERROR",
                         "handle_tile_get: ERROR", "Plug-in crashed", "colorize-neural: fatal",
                         "ERROR: AddressSanitizer", "runtime error:"};
    gboolean found = FALSE;
    for (size_t i = 0; text && i < G_N_ELEMENTS(bad); i++)
        if (strstr(text, bad[i])) {
            printf("GIMP's output has \"%s\"\n", bad[i]);
            found = TRUE;
        }
    char **lines = g_strsplit(text ? text : "", "\n", -1);
    for (char **l = lines; *l; l++)
        if (strstr(*l, "(colorize-neural:") && (strstr(*l, "-CRITICAL") || (strstr(*l, "-WARNING **: ") && !strstr(*l, "theme engine")))) {
            printf("the plug-in warned: %s\n", *l);
            found = TRUE;
        }
    g_strfreev(lines);
    if (found) printf("--- %s ---\n%s\n---\n", log, text);
    g_free(text);
    return found;
}

/* A stand-in browser for text/html: it writes the URI it is given into
 * DIR/help-opened; GIO finds it through XDG_DATA_HOME and XDG_CONFIG_HOME. */
static char *fake_browser(const char *dir) {
    char *apps = g_build_filename(dir, "xdg-data", "applications", NULL), *config = g_build_filename(dir, "xdg-config", NULL);
    g_mkdir_with_parents(apps, 0755), g_mkdir_with_parents(config, 0755);
    char *opened = g_build_filename(dir, "help-opened", NULL), *script = g_build_filename(dir, "browser.sh", NULL);
    char *body = g_strdup_printf("#!/bin/sh\necho \"$1\" >> '%s'\n", opened);
    CHECK(g_file_set_contents(script, body, -1, NULL) && g_chmod(script, 0755) == 0, "cannot write %s", script);
    char *desktop = g_strdup_printf("[Desktop Entry]\nType=Application\nName=Test browser\nExec=%s %%u\n"
                                    "MimeType=text/html;\n", script);
    char *desktop_path = g_build_filename(apps, "test-browser.desktop", NULL);
    char *mimeapps = g_build_filename(config, "mimeapps.list", NULL);
    CHECK(g_file_set_contents(desktop_path, desktop, -1, NULL) &&
              g_file_set_contents(mimeapps, "[Default Applications]\ntext/html=test-browser.desktop\n", -1, NULL),
          "cannot register the test browser");
    char *data_home = g_build_filename(dir, "xdg-data", NULL);
    g_setenv("XDG_DATA_HOME", data_home, TRUE);
    g_setenv("XDG_CONFIG_HOME", config, TRUE);
    g_free(apps), g_free(config), g_free(script), g_free(body), g_free(desktop), g_free(desktop_path);
    g_free(mimeapps), g_free(data_home);
    return opened;
}

/* The bytes of GIMP's log so far (where the plug-in's COLORIZE_VERBOSE
 * lines go): later text is what happened since. */
static gsize log_size(const char *log) {
    gchar *text = NULL;
    gsize n = 0;
    g_file_get_contents(log, &text, &n, NULL);
    g_free(text);
    return n;
}

/* Waits up to `seconds` for `what` in the log after byte `from`; returns
 * the text from there (g_free it) or NULL. */
static char *log_wait_for(const char *log, gsize from, const char *what, double seconds) {
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

/* Alt+L opens the selected point's colour dialog; returns its window id
 * (g_free it) or NULL. */
static char *open_colour_dialog(const char *dialog) {
    CHECK(gui_press(dialog, "alt+l"), "could not press Alt+L (the point's colour)");
    char *window = gui_find_window("^Point hint colour$", 10);
    CHECK(window, "the point colour dialog did not open");
    return window;
}

/* In the open colour dialog, Alt+N reaches its HTML notation, the hex is
 * typed with Enter, and the colour dialog's OK closes it. Returns whether
 * the preview showed a new pass while the colour dialog was still open (it
 * follows the colour live). */
static gboolean type_colour(const char *window, const char *hex, const char *log) {
    const gsize from = log_size(log);
    char *type[] = {"xdotool", "type", "--delay", "30", (char *)hex, NULL};
    CHECK(gui_press(window, "alt+n") && gui_press(window, "ctrl+a") && gui_run_quiet(type, NULL) &&
              gui_press(window, "Return"),
          "could not type the colour %s", hex);
    /* a pass started after the colour was typed, and shown, before the colour dialog's OK */
    char *started = log_wait_for(log, from, "pixels ready", 10);
    char *shown = started ? log_wait_for(log, from + (strstr(started, "pixels ready") - started), "shown after", 30) : NULL;
    const gboolean live = shown != NULL;
    CHECK(gui_press(window, "alt+o"), "could not press the colour dialog's OK");
    g_usleep(300000);
    g_free(started), g_free(shown);
    return live;
}

/* Gives the selected point a colour as a user does, in its colour dialog. */
static gboolean choose_point_colour(const char *dialog, const char *hex, const char *log) {
    char *window = open_colour_dialog(dialog);
    const gboolean live = window && type_colour(window, hex, log);
    g_free(window);
    return live;
}

/* A point hint placed by clicking the preview and made red in the colour
 * dialog: after OK the image keeps the point (its parasite) and the result
 * is red there; Filters ▸ Repeat (RUN-WITH-LAST-VALS) uses it again. */
static void point_hint_by_click(int port, int image, int source, const char *log) {
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, image, source);
    if (dialog) {
        g_usleep(1500000);
        CHECK(gui_press(dialog, "alt+i") && gui_press(dialog, "Home"), "could not choose no hint layer");
        CHECK(gui_click(dialog, 120, 100, 1), "could not click the preview"); /* inside the preview area */
        g_usleep(1000000);
        choose_point_colour(dialog, POINT_RED, log);
        g_usleep(1500000);
        CHECK(gui_press(dialog, "alt+o"), "could not press OK");
    }
    int layer = -1;
    CHECK(wait_call(&c, t), "the plug-in did not return within 120 s of OK");
    CHECK(c.ok && c.answer && sscanf(c.answer, "%d", &layer) == 1 && layer > 0, "OK gave no layer: %s",
          c.answer ? c.answer : "(none)");
    char *e = g_strdup_printf("(caddr (car (gimp-image-get-parasite %d \"colorize-neural-points\")))", image);
    char *points = gui_eval(port, e);
    double x = -1, y = -1;
    const char *q = strchr(points, '"');
    CHECK(q && sscanf(q + 1, "%lf,%lf", &x, &y) == 2, "no point hint stored with the image: %s", points);
    printf("point placed by a click, stored with the image: %s\n", points);
    if (layer > 0 && x >= 0) {
        int red = redness(port, layer, (int)x, (int)y);
        char *plain_call = g_strdup_printf("(car (plug-in-nn-colorize RUN-NONINTERACTIVE %d %d \"\" 0.5 1.0 256 -1))",
                                           image, source);
        int plain = eval_int(port, plain_call), base = plain > 0 ? redness(port, plain, (int)x, (int)y) : 0;
        printf("  red - green at the point: %d (without point hints: %d)\n", red, base);
        CHECK(red > base + 10, "the clicked point hint did not colour its place (red - green %d, %d without)", red, base);
        g_free(plain_call);
        g_free(e);
        e = g_strdup_printf("(car (plug-in-nn-colorize RUN-WITH-LAST-VALS %d %d \"\" 0.5 1.0 256 -1))", image, source);
        char *again = gui_eval(port, e);
        int repeated = -1;
        CHECK(sscanf(again + strspn(again, "("), "%d", &repeated) == 1 && repeated > 0, "Repeat gave no layer: %s", again);
        if (repeated > 0) {
            int red2 = redness(port, repeated, (int)x, (int)y);
            printf("  Repeat: red - green at the point: %d\n", red2);
            CHECK(red2 > base + 10, "Repeat did not use the stored point hint (red - green %d, %d without)", red2, base);
        }
        g_free(again);
    }
    g_free(e), g_free(points), g_free(c.expr), g_free(c.answer), g_free(dialog);
}

/* The colour dialog opened at once after a click, before the network's
 * guess for the new point is in: a pass that ends while the dialog is open
 * must not change the colour the user is editing (on a slow machine the
 * guess used to reset the dialog while the user typed). Then red is typed. */
static void colour_while_guess_pending(const char *dialog, gsize from, const char *log) {
    char *window = open_colour_dialog(dialog);
    if (!window) return;
    char *opened = log_wait_for(log, from, "the colour dialog opened for point", 5);
    CHECK(opened, "the plug-in did not log the colour dialog's opening");
    const char *line = opened ? strstr(opened, "the colour dialog opened for point") : NULL;
    const gboolean pending = line && !g_strstr_len(opened, line - opened, "takes the network's colour");
    printf("the colour dialog opened at once after a click: %s\n",
           !line ? "?" : pending ? "the point was still waiting for its guess" : "the guess was already in");
    if (pending) {
        const gsize open_at = from + (line - opened);
        char *shown = log_wait_for(log, open_at, "shown after", 60);
        CHECK(shown, "no preview pass ended while the colour dialog was open");
        CHECK(!shown || !strstr(shown, "takes the network's colour"),
              "a guess changed the colour of a point whose colour dialog was open");
        g_free(shown);
    }
    type_colour(window, POINT_RED, log);
    g_free(opened), g_free(window);
}

/* One click on a flat region colours that whole region in the result and
 * nothing beyond its edge: a gray image, bright in its upper left (where
 * the click lands in the preview), dark in an L around it. */
#define FLAT_W 600
#define FLAT_H 400
#define FLAT_EDGE_X 400 /* the bright region: x < FLAT_EDGE_X and y < FLAT_EDGE_Y */
#define FLAT_EDGE_Y 260
static void click_colours_region(int port, const char *log) {
    char *e = g_strdup_printf("(let* ((image (car (gimp-image-new %d %d RGB)))"
                              "       (layer (car (gimp-layer-new image %d %d RGB-IMAGE \"Flat\" 100 LAYER-MODE-NORMAL))))"
                              "  (gimp-image-insert-layer image layer 0 0)"
                              "  (gimp-context-set-foreground '(60 60 60)) (gimp-drawable-edit-fill layer FILL-FOREGROUND)"
                              "  (gimp-image-select-rectangle image CHANNEL-OP-REPLACE 0 0 %d %d)"
                              "  (gimp-context-set-foreground '(205 205 205)) (gimp-drawable-edit-fill layer FILL-FOREGROUND)"
                              "  (gimp-selection-none image) (gimp-display-new image) (gimp-displays-flush)"
                              "  (list image layer))",
                              FLAT_W, FLAT_H, FLAT_W, FLAT_H, FLAT_EDGE_X, FLAT_EDGE_Y);
    char *ids = gui_eval(port, e);
    g_free(e);
    int image = 0, source = 0, layer = -1;
    CHECK(sscanf(ids, "(%d %d)", &image, &source) == 2, "no flat image in %s", ids);
    g_free(ids);
    if (image <= 0) return;
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, image, source);
    if (dialog) {
        g_usleep(1500000);
        const gsize from = log_size(log);
        CHECK(gui_click(dialog, 120, 100, 1), "could not click the preview");
        colour_while_guess_pending(dialog, from, log);
        g_usleep(1500000);
        CHECK(gui_press(dialog, "alt+o"), "could not press OK");
    }
    CHECK(wait_call(&c, t), "the plug-in did not return within 120 s of OK");
    CHECK(c.ok && c.answer && sscanf(c.answer, "%d", &layer) == 1 && layer > 0, "OK gave no layer: %s",
          c.answer ? c.answer : "(none)");
    e = g_strdup_printf("(caddr (car (gimp-image-get-parasite %d \"colorize-neural-points\")))", image);
    char *points = gui_eval(port, e);
    double x = -1, y = -1;
    const char *q = strchr(points, '"');
    CHECK(q && sscanf(q + 1, "%lf,%lf", &x, &y) == 2 && x < FLAT_EDGE_X && y < FLAT_EDGE_Y,
          "the click did not place a point in the bright region: %s", points);
    if (layer > 0 && x >= 0) {
        /* the bright region's far corners, away from the click, and the dark region beyond its edge */
        const int bright[4][2] = {{8, 8}, {FLAT_EDGE_X - 8, 8}, {8, FLAT_EDGE_Y - 8}, {FLAT_EDGE_X - 8, FLAT_EDGE_Y - 8}};
        const int dark[3][2] = {{FLAT_W - 20, 20}, {20, FLAT_H - 20}, {FLAT_W - 20, FLAT_H - 20}};
        int least = 1000, most = -1000;
        for (int i = 0; i < 4; i++) least = MIN(least, redness(port, layer, bright[i][0], bright[i][1]));
        for (int i = 0; i < 3; i++) most = MAX(most, redness(port, layer, dark[i][0], dark[i][1]));
        printf("one click at (%.0f, %.0f) on a flat region: red - green at its far corners at least %d, beyond its "
               "edge at most %d\n", x, y, least, most);
        CHECK(least > 25, "the click did not colour its whole region (red - green %d at a corner)", least);
        CHECK(most < least - 20, "the click's colour crossed the region's edge (red - green %d beyond it)", most);
    }
    g_free(e), g_free(points), g_free(c.expr), g_free(c.answer), g_free(dialog);
}

/* Points dragged past the preview's edges (above it, beyond its right and
 * bottom, and left of it) stop at the edge of the layer the preview shows:
 * here a DRAG_W×DRAG_H layer at (DRAG_X, DRAG_Y) of a larger image, so a
 * point can neither leave the image nor land on none of the layer's
 * pixels. All three are stored, readable, on the layer, and Repeat
 * renders with them. */
#define DRAG_W 300
#define DRAG_H 200
#define DRAG_X 70
#define DRAG_Y 40
static void drag_past_edges(int port) {
    char *e = g_strdup_printf("(let* ((image (car (gimp-image-new %d %d RGB)))"
                              "       (layer (car (gimp-layer-new image %d %d RGB-IMAGE \"Drag\" 100 LAYER-MODE-NORMAL))))"
                              "  (gimp-image-insert-layer image layer 0 0)"
                              "  (gimp-layer-set-offsets layer %d %d)"
                              "  (gimp-context-set-foreground '(128 128 128)) (gimp-drawable-edit-fill layer FILL-FOREGROUND)"
                              "  (gimp-display-new image) (gimp-displays-flush)"
                              "  (list image layer))", DRAG_W + 2 * DRAG_X, DRAG_H + 2 * DRAG_Y, DRAG_W, DRAG_H, DRAG_X,
                              DRAG_Y);
    char *ids = gui_eval(port, e);
    g_free(e);
    int image = 0, source = 0;
    CHECK(sscanf(ids, "(%d %d)", &image, &source) == 2, "no image in %s", ids);
    g_free(ids);
    if (image <= 0) return;
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, image, source);
    if (dialog) {
        g_usleep(1500000);
        CHECK(gui_drag(dialog, 120, 100, 60, -80), "could not drag above the preview");
        g_usleep(500000);
        CHECK(gui_drag(dialog, 150, 120, 3000, 3000), "could not drag past the preview's far corner");
        g_usleep(500000);
        CHECK(gui_drag(dialog, 200, 150, 2, 150), "could not drag left of the preview"); /* xdotool takes a negative x for an option */
        g_usleep(1000000);
        CHECK(gui_press(dialog, "alt+o"), "could not press OK");
    }
    CHECK(wait_call(&c, t), "the plug-in did not return within 120 s of OK");
    e = g_strdup_printf("(caddr (car (gimp-image-get-parasite %d \"colorize-neural-points\")))", image);
    char *points = gui_eval(port, e);
    printf("points dragged past the preview's edges, stored: %s\n", points);
    double p[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
    const char *q = strchr(points, '"');
    int got = q ? sscanf(q + 1, "%lf,%lf,#%*6[0-9a-fA-F];%lf,%lf,#%*6[0-9a-fA-F];%lf,%lf", &p[0][0], &p[0][1],
                         &p[1][0], &p[1][1], &p[2][0], &p[2][1])
                : 0;
    CHECK(got == 6, "three points were not stored: %s", points);
    for (int i = 0; i < 3 && got == 6; i++)
        CHECK(p[i][0] >= DRAG_X && p[i][0] < DRAG_X + DRAG_W && p[i][1] >= DRAG_Y && p[i][1] < DRAG_Y + DRAG_H,
              "point %d (%g, %g) is off the %d×%d layer at (%d, %d)", i + 1, p[i][0], p[i][1], DRAG_W, DRAG_H, DRAG_X,
              DRAG_Y);
    CHECK(got == 6 && p[0][1] == DRAG_Y, "the point dragged above the preview is not on the top edge (y %g)", p[0][1]);
    CHECK(got == 6 && p[1][0] > DRAG_X + DRAG_W - 1 && p[1][1] > DRAG_Y + DRAG_H - 1,
          "the point dragged past the far corner is not at the corner (%g, %g)", p[1][0], p[1][1]);
    CHECK(got == 6 && p[2][0] == DRAG_X, "the point dragged left of the preview is not on the left edge (x %g)", p[2][0]);
    g_free(e);
    e = g_strdup_printf("(car (plug-in-nn-colorize RUN-WITH-LAST-VALS %d %d \"\" 0 1.0 256 -1))", image, source);
    gboolean ok = FALSE;
    char *again = gui_script_fu(port, e, &ok);
    CHECK(ok, "Repeat with the dragged points failed: %s", again ? again : "(no answer)");
    g_free(again), g_free(e), g_free(points), g_free(c.expr), g_free(c.answer), g_free(dialog);
}

/* The saved settings name the first image's hint layer: on another image
 * the dialog must fall back to "None", so a plain OK works there. */
static void other_image(int port, const char *photo) {
    char *e = g_strdup_printf("(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"%s\" \"%s\")))"
                              " (layer (car (gimp-image-get-active-layer image))))"
                              " (gimp-display-new image) (gimp-displays-flush) (list image layer))", photo, photo);
    char *ids = gui_eval(port, e);
    int image = 0, layer = 0;
    CHECK(sscanf(ids, "(%d %d)", &image, &layer) == 2, "no second image: %s", ids);
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, image, layer);
    if (dialog) {
        g_usleep(1500000);
        CHECK(gui_press(dialog, "alt+o"), "could not press OK");
    }
    int made = -1;
    CHECK(wait_call(&c, t) && c.ok && c.answer && sscanf(c.answer, "%d", &made) == 1 && made > 0,
          "OK on another image failed (the saved hint layer of the first image?): %s", c.answer ? c.answer : "(none)");
    printf("OK on a second image with the first image's hint layer saved -> %s\n", c.answer ? c.answer : "(none)");
    g_free(e), g_free(ids), g_free(c.expr), g_free(c.answer), g_free(dialog);
}

/* Help opens the installed page; then Cancel changes nothing. */
static void help_and_cancel(int port, int image, int source, const char *opened) {
    char *e = g_strdup_printf("(car (gimp-image-get-layers %d))", image);
    int layers = eval_int(port, e);
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, image, source);
    gchar *text = NULL;
    if (dialog) {
        g_usleep(1000000);
        CHECK(gui_press(dialog, "alt+h"), "could not press Help");
        for (int i = 0; i < 100 && !g_file_get_contents(opened, &text, NULL, NULL); i++) g_usleep(100000);
        printf("Help opened: %s", text ? text : "(nothing)\n");
        CHECK(text && strstr(text, "/help/colorize-neural.html"),
              "Help did not open the installed help page");
        CHECK(gui_press(dialog, "Escape"), "could not press Escape");
    }
    wait_call(&c, t);
    /* Script-Fu answers a cancelled call with #f (or an error) instead of a layer */
    CHECK(g_atomic_int_get(&c.done) && (!c.ok || (c.answer && strstr(c.answer, "#f"))),
          "Cancel did not end the call without a layer: %s", c.answer ? c.answer : "(no answer)");
    int after = eval_int(port, e);
    CHECK(after == layers, "Cancel changed the image: %d layers, %d before", after, layers);
    g_free(text), g_free(e), g_free(c.expr), g_free(c.answer), g_free(dialog);
}

/* A new point starts with the network's most likely colour at its place,
 * not with the previous point's: a first point is made blue in the colour
 * dialog (the preview follows it while that dialog is open), a second one
 * is placed elsewhere, and OK stores the blue and, for the second, the
 * colour the plug-in logged as the network's guess there. */
static void new_point_takes_network_colour(int port, int image, int source, const char *log) {
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, image, source);
    gsize from = 0;
    if (dialog) {
        g_usleep(1500000);
        CHECK(gui_press(dialog, "alt+i") && gui_press(dialog, "Home"), "could not choose no hint layer");
        CHECK(gui_click(dialog, 120, 100, 1), "could not click the preview");
        g_usleep(1000000);
        CHECK(choose_point_colour(dialog, POINT_BLUE, log), "the preview did not follow the colour dialog live");
        from = log_size(log);
        CHECK(gui_click(dialog, 260, 200, 1), "could not click the preview again");
        g_usleep(2000000);
        CHECK(gui_press(dialog, "alt+o"), "could not press OK");
    }
    CHECK(wait_call(&c, t) && c.ok, "OK failed: %s", c.answer ? c.answer : "(none)");
    char *e = g_strdup_printf("(caddr (car (gimp-image-get-parasite %d \"colorize-neural-points\")))", image);
    char *points = gui_eval(port, e);
    char *guessed = log_wait_for(log, from, "takes the network's colour #", 1);
    printf("a blue point, then a new one: stored %s; the plug-in's log: %.80s\n", points,
           guessed ? strstr(guessed, "point 2") ? strstr(guessed, "point 2") : guessed : "(no guess logged)");
    const char *q = strchr(points, '"');
    char first[7] = "", second[7] = "";
    CHECK(q && sscanf(q + 1, "%*f,%*f,#%6[0-9a-fA-F];%*f,%*f,#%6[0-9a-fA-F]", first, second) == 2,
          "two points were not stored: %s", points);
    CHECK(g_ascii_strcasecmp(first, POINT_BLUE) == 0, "the first point is not the blue chosen: #%s", first);
    CHECK(second[0] && g_ascii_strcasecmp(second, POINT_BLUE) != 0, "the new point took the previous point's colour");
    const char *line = guessed ? strstr(guessed, "point 2 at") : NULL;
    const char *hash = line ? strchr(line, '#') : NULL;
    CHECK(hash && g_ascii_strncasecmp(hash + 1, second, 6) == 0,
          "the new point's stored colour #%s is not the network's guess logged for it", second);
    g_free(guessed), g_free(points), g_free(e), g_free(c.expr), g_free(c.answer), g_free(dialog);
}

/* Warmth (red minus blue) averaged over a 5×4 grid of a layer's pixels. */
static int warmth(int port, int layer, int w, int h) {
    int sum = 0, n = 0;
    for (int gy = 0; gy < 4; gy++)
        for (int gx = 0; gx < 5; gx++, n++) {
            char *e = g_strdup_printf("(cadr (gimp-drawable-get-pixel %d %d %d))", layer, (2 * gx + 1) * w / 10,
                                      (2 * gy + 1) * h / 8);
            char *r = gui_eval(port, e);
            int red = 0, green = 0, blue = 0;
            CHECK(sscanf(r, "#(%d %d %d", &red, &green, &blue) == 3, "no pixel in %s", r);
            sum += red - blue;
            g_free(e), g_free(r);
        }
    return sum / n;
}

/* A colour reference picked in the dialog as a user does: a second image,
 * warm, is open; Alt+E reaches the Reference combo, whose choices the
 * plug-in logs ("image / layer"); Home and the arrow keys pick the warm
 * layer; a pass is shown with it, and OK gives a result warmer than the
 * same settings without a reference. The warm image is closed afterwards,
 * so the runs after this one have no reference. */
static int reference_picked(int port, int image, int source, const char *log) {
    int warm = eval_int(port, "(let* ((image (car (gimp-image-new 64 48 RGB)))"
                              "       (layer (car (gimp-layer-new image 64 48 RGB-IMAGE \"Warm\" 100 LAYER-MODE-NORMAL))))"
                              "  (gimp-image-insert-layer image layer 0 0)"
                              "  (gimp-context-set-foreground '(220 120 40)) (gimp-drawable-edit-fill layer FILL-FOREGROUND)"
                              "  (gimp-image-select-rectangle image CHANNEL-OP-REPLACE 0 0 64 16)"
                              "  (gimp-drawable-brightness-contrast layer -0.4 0)"
                              "  (gimp-image-select-rectangle image CHANNEL-OP-REPLACE 0 32 64 16)"
                              "  (gimp-drawable-brightness-contrast layer 0.4 0)"
                              "  (gimp-selection-none image) (list layer))");
    const gsize from = log_size(log);
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, image, source);
    int index = -1;
    if (dialog) {
        char *choices = log_wait_for(log, from, "reference choices: ", 10);
        const char *line = choices ? strstr(choices, "reference choices: ") : NULL;
        if (line) {
            char *end = strchr(line, '\n'), *text = g_strndup(line + 19, end ? (gsize)(end - line - 19) : strlen(line));
            char **items = g_strsplit(text, " | ", -1);
            for (int i = 0; items[i]; i++) {
                if (g_str_has_suffix(items[i], "/ Warm")) index = i;
                for (int j = 0; j < i; j++) CHECK(strcmp(items[i], items[j]) != 0, "two references read \"%s\"", items[i]);
            }
            printf("reference choices: %s (the warm layer is item %d)\n", text, index);
            g_strfreev(items), g_free(text);
        }
        g_free(choices);
        CHECK(index > 0, "the warm layer is not among the reference choices");
        g_usleep(1500000);
        const gsize picked_from = log_size(log);
        CHECK(gui_press(dialog, "alt+e") && gui_press(dialog, "Home"), "could not reach the Reference combo");
        for (int i = 0; i < index; i++) CHECK(gui_press(dialog, "Down"), "could not press Down");
        char *want = g_strdup_printf("colorize-neural: reference %d, file \"\"\n", warm);
        char *picked = log_wait_for(log, picked_from, want, 10);
        CHECK(picked, "the dialog did not take the warm layer as its reference");
        char *shown = picked ? log_wait_for(log, picked_from + (strstr(picked, want) - picked), "shown after", 60) : NULL;
        CHECK(shown, "no preview pass was shown with the reference");
        g_free(want), g_free(picked), g_free(shown);
        CHECK(gui_press(dialog, "alt+o"), "could not press OK");
    }
    int layer = -1;
    CHECK(wait_call(&c, t) && c.ok && c.answer && sscanf(c.answer, "%d", &layer) == 1 && layer > 0, "OK gave no layer");
    if (layer > 0) {
        /* Repeat keeps the reference; once its image is closed, Repeat runs without one */
        char *e = g_strdup_printf("(car (plug-in-nn-colorize RUN-WITH-LAST-VALS %d %d \"\" 0.5 1.0 256 -1))", image,
                                  source);
        const int with = warmth(port, layer, PHOTO_W, PHOTO_H), repeated = warmth(port, eval_int(port, e), PHOTO_W, PHOTO_H);
        char *close = g_strdup_printf("(gimp-image-delete (car (gimp-item-get-image %d)))", warm);
        g_free(gui_eval(port, close));
        const int without = warmth(port, eval_int(port, e), PHOTO_W, PHOTO_H);
        printf("a warm reference picked in the dialog: red - blue %d after OK, %d by Repeat, %d once its image is "
               "closed\n", with, repeated, without);
        CHECK(with > without + 10, "the reference picked in the dialog did not warm the result (%d, %d without)", with,
              without);
        CHECK(abs(repeated - with) <= 3, "Repeat did not keep the reference (%d against %d)", repeated, with);
        g_free(e), g_free(close);
        g_free(c.expr), g_free(c.answer), g_free(dialog);
        return without;
    }
    g_free(c.expr), g_free(c.answer), g_free(dialog);
    return INT_MIN;
}

/* Writes a warm photo (three bands of orange, dark to light) as PNG. */
static gboolean write_warm_photo(const char *path) {
    GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, 63, 48); /* odd: its rows are padded */
    const int stride = gdk_pixbuf_get_rowstride(pb);
    guchar *px = gdk_pixbuf_get_pixels(pb);
    for (int y = 0; y < 48; y++)
        for (int x = 0; x < 63; x++) {
            const double k = 0.5 + 0.4 * (y / 16); /* 0.5, 0.9, 1.3 */
            guchar *p = px + y * stride + 3 * x;
            p[0] = (guchar)MIN(255, 200 * k), p[1] = (guchar)MIN(255, 110 * k), p[2] = (guchar)MIN(255, 35 * k);
        }
    gboolean ok = gdk_pixbuf_save(pb, path, "png", NULL, NULL);
    g_object_unref(pb);
    return ok;
}

/* A colour reference taken from a file, as a user does: Alt+F reaches the
 * Reference file button, Space opens its file dialog in the image's
 * folder, Ctrl+L its location field, the file's name is typed and Return
 * takes it; the plug-in logs the file, a pass is shown with it,
 * and OK gives a result warmer than without a reference (`without`, from
 * reference_picked); Repeat keeps it; once the file is gone, Repeat fails
 * with an error naming it. */
static void reference_file_picked(int port, int image, int source, const char *log, const char *dir, int without) {
    char *path = g_build_filename(dir, "warm-reference.png", NULL), *scan = g_build_filename(dir, "flower.png", NULL);
    CHECK(write_warm_photo(path), "cannot write %s", path);
    /* the image as if opened from that folder: the file dialog opens there, and the name alone is typed */
    char *named = g_strdup_printf("(gimp-image-set-filename %d \"%s\")", image, scan);
    g_free(gui_eval(port, named));
    g_free(named), g_free(scan);
    const gsize from = log_size(log);
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, image, source);
    if (dialog) {
        g_usleep(1500000);
        CHECK(gui_press(dialog, "alt+f") && gui_press(dialog, "space"), "could not open the reference file dialog");
        char *files = gui_find_window("^Select a colour reference photo$", 10);
        CHECK(files, "the reference file dialog did not open");
        char *type[] = {"xdotool", "type", "--delay", "50", "warm-reference.png", NULL};
        g_usleep(1000000);
        CHECK(files && gui_press(files, "ctrl+l") && gui_run_quiet(type, NULL), "could not type the reference's path");
        g_usleep(500000);
        CHECK(files && gui_press(files, "Return"), "could not press Return in the file dialog");
        char *want = g_strdup_printf("colorize-neural: reference -1, file \"%s\"\n", path);
        char *picked = log_wait_for(log, from, want, 15);
        CHECK(picked, "the dialog did not take the file as its reference");
        if (!picked && files) gui_press(files, "Escape"); /* the file dialog left open would block OK */
        char *shown = picked ? log_wait_for(log, from + (strstr(picked, want) - picked), "shown after", 60) : NULL;
        CHECK(shown, "no preview pass was shown with the reference file");
        g_free(want), g_free(picked), g_free(shown), g_free(files);
        CHECK(gui_press(dialog, "alt+o"), "could not press OK");
    }
    int layer = -1;
    CHECK(wait_call(&c, t) && c.ok && c.answer && sscanf(c.answer, "%d", &layer) == 1 && layer > 0, "OK gave no layer");
    if (layer > 0) {
        char *e = g_strdup_printf("(car (plug-in-nn-colorize RUN-WITH-LAST-VALS %d %d \"\" 0 1.0 256 -1))", image, source);
        const int with = warmth(port, layer, PHOTO_W, PHOTO_H), repeated = warmth(port, eval_int(port, e), PHOTO_W, PHOTO_H);
        printf("a warm reference file picked in the dialog: red - blue %d after OK, %d by Repeat, %d without\n", with,
               repeated, without);
        CHECK(without != INT_MIN && with > without + 10, "the reference file did not warm the result (%d, %d without)",
              with, without);
        CHECK(abs(repeated - with) <= 3, "Repeat did not keep the reference file (%d against %d)", repeated, with);
        g_remove(path);
        gboolean ok = TRUE;
        char *answer = gui_script_fu(port, e, &ok);
        printf("Repeat after the file was removed: %s\n", answer ? answer : "(no answer)");
        CHECK(!ok && answer && strstr(answer, "warm-reference.png") && strstr(answer, "cannot serve"),
              "Repeat without the reference file did not fail naming it");
        g_free(answer), g_free(e);
    }
    g_free(c.expr), g_free(c.answer), g_free(dialog), g_free(path);
}

/* Mean and largest difference over a 6×5 grid of pixels of two layers. */
static void layer_difference(int port, int a, int b, int w, int h, double *mean, int *most) {
    int n = 0, sum = 0;
    *most = 0;
    for (int gy = 0; gy < 5; gy++)
        for (int gx = 0; gx < 6; gx++, n++) {
            const int x = (2 * gx + 1) * w / 12, y = (2 * gy + 1) * h / 10;
            int pa[3] = {0}, pb[3] = {0};
            for (int k = 0; k < 2; k++) {
                char *e = g_strdup_printf("(cadr (gimp-drawable-get-pixel %d %d %d))", k ? b : a, x, y);
                char *r = gui_eval(port, e);
                int *p = k ? pb : pa;
                CHECK(sscanf(r, "#(%d %d %d", &p[0], &p[1], &p[2]) == 3, "no pixel in %s", r);
                g_free(e), g_free(r);
            }
            for (int c = 0; c < 3; c++) sum += abs(pa[c] - pb[c]), *most = MAX(*most, abs(pa[c] - pb[c]));
        }
    *mean = sum / (3.0 * n);
}

/* OK right after the preview's full pass reuses it (no second network
 * pass), and gives what Repeat, which runs the network on the same
 * settings, gives, up to the working-size sampling; OK right after a
 * change runs the network again. */
static void ok_reuses_preview(int port, int image, int source, const char *log) {
    for (int round = 0; round < 2; round++) { /* OK after the full pass; OK right after a change */
        const gsize from = log_size(log);
        Call c;
        GThread *t;
        char *dialog = open_dialog(&c, &t, port, image, source);
        if (dialog) {
            char *shown = log_wait_for(log, from, "preview pass (full) at resolution", 60);
            CHECK(shown && strstr(strstr(shown, "preview pass (full) at resolution"), "shown after"),
                  "the preview's full pass was not shown");
            g_free(shown);
            if (round == 1) {
                CHECK(gui_press(dialog, "alt+v") && gui_press(dialog, "ctrl+a"), "could not reach the vividness");
                char *type[] = {"xdotool", "type", "0.3", NULL};
                CHECK(gui_run_quiet(type, NULL) && gui_press(dialog, "Tab"), "could not type the vividness");
            }
            CHECK(gui_press(dialog, "alt+o"), "could not press OK");
        }
        int layer = -1;
        CHECK(wait_call(&c, t) && c.ok && c.answer && sscanf(c.answer, "%d", &layer) == 1, "OK failed: %s",
              c.answer ? c.answer : "(none)");
        char *said = log_wait_for(log, from, "colorize-neural: OK ", 5);
        const char *line = said ? strstr(said, "colorize-neural: OK ") : NULL;
        printf("%s: the plug-in logged \"%.60s\"\n", round ? "OK right after a change" : "OK after the full pass",
               line ? line : "(nothing)");
        CHECK(line && strncmp(line + 20, round ? "runs the network again" : "uses the preview's full pass",
                              round ? 22 : 28) == 0,
              "%s", round ? "OK reused a pass made with other settings" : "OK did not reuse the preview's full pass");
        if (round == 0 && layer > 0) { /* Repeat runs the network with the same (last) values */
            char *e = g_strdup_printf("(car (plug-in-nn-colorize RUN-WITH-LAST-VALS %d %d \"\" 0 1.0 256 -1))", image,
                                      source);
            int again = eval_int(port, e);
            double mean = 0;
            int most = 0;
            if (again > 0) layer_difference(port, layer, again, PHOTO_W, PHOTO_H, &mean, &most);
            printf("OK from the preview's pass and Repeat: mean difference %.2f, largest %d (of 255)\n", mean, most);
            CHECK(again > 0 && mean <= REUSE_MEAN_TOLERANCE, "OK from the preview's pass differs from Repeat");
            g_free(e);
        }
        g_free(said), g_free(c.expr), g_free(c.answer), g_free(dialog);
    }
}

/* Past 256 points a click places none and the dialog says why: an image
 * with 256 stored points (lower right), one click in its upper left. */
static void click_past_point_limit(int port, const char *log) {
    GString *list = g_string_new("(string-append"); /* Script-Fu reads string literals of about 1 KB at most */
    for (int i = 0; i < 256; i++)
        g_string_append_printf(list, "%s%s%d,%d,#808080%s", i % 32 ? "" : " \"", i % 32 ? ";" : i ? ";" : "",
                               310 + 18 * (i % 16), 205 + 12 * (i / 16), i % 32 == 31 ? "\"" : "");
    g_string_append(list, ")");
    char *e = g_strdup_printf("(let* ((image (car (gimp-image-new 600 400 RGB)))"
                              "       (layer (car (gimp-layer-new image 600 400 RGB-IMAGE \"Many\" 100 LAYER-MODE-NORMAL))))"
                              "  (gimp-image-insert-layer image layer 0 0)"
                              "  (gimp-context-set-foreground '(128 128 128)) (gimp-drawable-edit-fill layer FILL-FOREGROUND)"
                              "  (gimp-image-attach-parasite image (list \"colorize-neural-points\" 1 %s))"
                              "  (gimp-display-new image) (gimp-displays-flush)"
                              "  (list image layer))", list->str);
    char *ids = gui_eval(port, e);
    int image = 0, source = 0;
    CHECK(sscanf(ids, "(%d %d)", &image, &source) == 2, "no image in %s", ids);
    g_free(e), g_free(ids), g_string_free(list, TRUE);
    if (image <= 0) return;
    const gsize from = log_size(log);
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, image, source);
    char *said = NULL;
    if (dialog) {
        g_usleep(1500000);
        CHECK(gui_click(dialog, 40, 40, 1), "could not click the preview");
        said = log_wait_for(log, from, "the dialog says: At most 256", 5);
        CHECK(gui_press(dialog, "Escape"), "could not press Escape");
    }
    wait_call(&c, t);
    const char *line = said ? strstr(said, "the dialog says: At most 256") : NULL;
    printf("a click past 256 points: %.80s\n", line ? line : "(nothing said)");
    CHECK(line, "a click past 256 points was ignored without a word");
    g_free(said), g_free(c.expr), g_free(c.answer), g_free(dialog);
}

/* Remove all: two more points placed, then Alt+A and OK: the image keeps
 * no points, and Remove all then rests (the plug-in logs the point
 * controls' state). */
static void remove_all_points(int port, int image, int source, const char *log) {
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, image, source);
    if (dialog) {
        g_usleep(1500000);
        CHECK(gui_click(dialog, 60, 60, 1) && gui_click(dialog, 200, 150, 1), "could not click the preview");
        g_usleep(500000);
        const gsize from = log_size(log);
        CHECK(gui_press(dialog, "alt+a"), "could not press Remove all");
        char *state = log_wait_for(log, from, "point controls: 0 points", 5);
        CHECK(state && strstr(state, "point controls: 0 points, Delete point sensitive 0, Remove all sensitive 0"),
              "after Remove all, the point controls do not rest");
        g_free(state);
        g_usleep(500000);
        CHECK(gui_press(dialog, "alt+o"), "could not press OK");
    }
    CHECK(wait_call(&c, t) && c.ok, "OK after Remove all failed: %s", c.answer ? c.answer : "(none)");
    char *e = g_strdup_printf("(gimp-image-get-parasite-list %d)", image);
    char *list = gui_eval(port, e);
    printf("parasites after Remove all and OK: %s\n", list);
    CHECK(!strstr(list, "colorize-neural-points"), "points are still stored after Remove all: %s", list);
    g_free(e), g_free(list), g_free(c.expr), g_free(c.answer), g_free(dialog);
}

/* The last preview layout the plug-in logged (COLORIZE_VERBOSE: "preview
 * area WxH at (X, Y), picture PWxPH") after byte `from` of GIMP's log;
 * FALSE when none. */
typedef struct {
    int w, h, x, y, pw, ph;
} PreviewLayout;

static gboolean logged_preview_layout(const char *log, gsize from, PreviewLayout *l) {
    gchar *text = NULL;
    gsize n = 0;
    *l = (PreviewLayout){0};
    if (!g_file_get_contents(log, &text, &n, NULL) || n < from) return FALSE;
    for (const char *p = text + from; (p = strstr(p, "colorize-neural: preview area ")); p++)
        sscanf(p, "colorize-neural: preview area %dx%d at (%d, %d), picture %dx%d", &l->w, &l->h, &l->x, &l->y, &l->pw,
               &l->ph);
    g_free(text);
    return l->pw > 0;
}

/* The preview grows with the dialog, as GIMP's own filter previews do: the
 * dialog resized to 1000×1150, the picture itself (not only the area
 * around it) must grow to at least twice its area, and a click at the
 * area's centre must place a point at the image's centre. */
static void preview_grows(int port, int image, int source, const char *log) {
    const gsize from = log_size(log);
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, image, source);
    PreviewLayout before = {0}, after = {0};
    if (dialog) {
        g_usleep(1500000);
        CHECK(logged_preview_layout(log, from, &before), "the preview's layout was not logged");
        CHECK(gui_resize(dialog, 1000, 1150), "could not resize the dialog");
        g_usleep(2500000);
        logged_preview_layout(log, from, &after);
        CHECK(after.w > 0 && gui_click(dialog, after.x + after.w / 2, after.y + after.h / 2, 1),
              "could not click the preview's centre");
        g_usleep(1000000);
        CHECK(gui_press(dialog, "alt+o"), "could not press OK");
    }
    CHECK(wait_call(&c, t) && c.ok, "OK failed: %s", c.answer ? c.answer : "(none)");
    printf("the dialog resized to 1000×1150: the preview's picture %d×%d in an area of %d×%d, was %d×%d in %d×%d\n",
           after.pw, after.ph, after.w, after.h, before.pw, before.ph, before.w, before.h);
    CHECK((long)after.pw * after.ph >= 2L * before.pw * before.ph && before.pw > 0,
          "the preview's picture did not grow with the dialog");
    char *e = g_strdup_printf("(caddr (car (gimp-image-get-parasite %d \"colorize-neural-points\")))", image);
    char *points = gui_eval(port, e);
    const char *last = strrchr(points, ';');
    double x = -1, y = -1;
    CHECK(sscanf(last ? last + 1 : points + 1, "%lf,%lf", &x, &y) == 2, "no point stored: %s", points);
    printf("  a click at the preview's centre placed a point at (%.1f, %.1f) of the %d×%d image\n", x, y, PHOTO_W, PHOTO_H);
    CHECK(fabs(x - PHOTO_W / 2.0) < 0.03 * PHOTO_W && fabs(y - PHOTO_H / 2.0) < 0.03 * PHOTO_H,
          "a click at the enlarged preview's centre did not land at the image's centre");
    g_free(e), g_free(points), g_free(c.expr), g_free(c.answer), g_free(dialog);
}

/* The number of points in the image's stored-points parasite (0 when none). */
static int stored_point_count(int port, int image) {
    char *e = g_strdup_printf("(gimp-image-get-parasite-list %d)", image);
    char *list = gui_eval(port, e);
    int n = 0;
    if (strstr(list, "colorize-neural-points")) {
        g_free(e);
        e = g_strdup_printf("(caddr (car (gimp-image-get-parasite %d \"colorize-neural-points\")))", image);
        char *points = gui_eval(port, e);
        n = strchr(points, ',') ? 1 : 0;
        for (const char *p = points; (p = strchr(p, ';')); p++) n++;
        g_free(points);
    }
    g_free(e), g_free(list);
    return n;
}

/* Ctrl+Z after OK takes the layer and the stored points back, but not the
 * user's clicks: a click and OK, another click and OK, then Ctrl+Z (the
 * stored list goes back to the first OK's one point); the dialog opened
 * again brings back both clicks, and Reset (which restores the settings,
 * not the points) then OK stores both. */
static void points_survive_undo(int port) {
    char *e = g_strdup_printf("(let* ((image (car (gimp-image-new 300 200 RGB)))"
                              "       (layer (car (gimp-layer-new image 300 200 RGB-IMAGE \"Undo\" 100 LAYER-MODE-NORMAL))))"
                              "  (gimp-image-insert-layer image layer 0 0)"
                              "  (gimp-context-set-foreground '(150 150 150)) (gimp-drawable-edit-fill layer FILL-FOREGROUND)"
                              "  (gimp-image-clean-all image)"
                              "  (gimp-image-set-filename image \"undo-points.xcf\")"
                              "  (gimp-display-new image) (gimp-displays-flush)"
                              "  (list image layer))");
    char *ids = gui_eval(port, e);
    g_free(e);
    int image = 0, source = 0;
    CHECK(sscanf(ids, "(%d %d)", &image, &source) == 2, "no image in %s", ids);
    g_free(ids);
    if (image <= 0) return;
    const int clicks[2][2] = {{120, 100}, {200, 140}};
    for (int round = 0; round < 3; round++) { /* a click and OK, twice; then, after the undo, OK alone */
        Call c;
        GThread *t;
        char *dialog = open_dialog(&c, &t, port, image, source);
        if (dialog) {
            g_usleep(1500000);
            if (round < 2) CHECK(gui_click(dialog, clicks[round][0], clicks[round][1], 1), "could not click the preview");
            if (round == 2) CHECK(gui_press(dialog, "alt+r"), "could not press Reset"); /* it keeps the points */
            g_usleep(1000000);
            CHECK(gui_press(dialog, "alt+o"), "could not press OK");
        }
        CHECK(wait_call(&c, t) && c.ok, "OK failed: %s", c.answer ? c.answer : "(none)");
        const int stored = stored_point_count(port, image);
        printf("%s: %d points stored\n", round < 2 ? "a click and OK" : "after the undo, Reset and OK", stored);
        CHECK(stored == (round == 0 ? 1 : 2), "%s: %d points stored, not %d",
              round == 0 ? "the first OK" : round == 1 ? "the second OK" : "OK after the undo", stored, round ? 2 : 1);
        g_free(c.expr), g_free(c.answer), g_free(dialog);
        if (round != 1) continue;
        char *window = gui_find_window("undo-points", 5);
        CHECK(window && gui_press(window, "ctrl+z"), "could not press Ctrl+Z in the image window");
        g_usleep(1500000);
        const int undone = stored_point_count(port, image);
        printf("after Ctrl+Z: %d points stored with the image\n", undone);
        CHECK(undone == 1, "Ctrl+Z did not take the stored points back to the first OK's (%d stored)", undone);
        g_free(window);
    }
}

/* At a high working resolution the quick pass is shown at once, before
 * the full one, which waits for it: the plug-in's log (COLORIZE_VERBOSE)
 * names both, in that order. The resolution is typed into its field, as a
 * user does; Cancel then leaves the saved settings as they were. 1024, not
 * 2048: on this 2000×1250 photo with its points a 2048 pass takes over two
 * minutes in the sanitizer build on two cores. */
#define HIGH_RESOLUTION "1024"
static void quick_pass_shown(int port, int image, int source, const char *log) {
    gsize before = 0;
    gchar *text = NULL;
    g_file_get_contents(log, &text, &before, NULL);
    g_free(text), text = NULL;
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, image, source);
    const char *quick = NULL, *full = NULL;
    if (dialog) {
        g_usleep(2000000);
        CHECK(gui_press(dialog, "alt+w") && gui_press(dialog, "ctrl+a"), "could not reach the working resolution");
        char *type[] = {"xdotool", "type", "--delay", "50", HIGH_RESOLUTION, NULL};
        CHECK(gui_run_quiet(type, NULL) && gui_press(dialog, "Tab"), "could not type the working resolution");
        for (int i = 0; i < 1800 && !full; i++) { /* up to 3 minutes for the full pass */
            g_usleep(100000);
            g_free(text), text = NULL;
            gsize n = 0;
            if (!g_file_get_contents(log, &text, &n, NULL) || n < before) continue;
            quick = strstr(text + before, "preview pass (quick) at resolution 128 shown");
            full = strstr(text + before, "preview pass (full) at resolution " HIGH_RESOLUTION " shown");
        }
        CHECK(gui_press(dialog, "Escape"), "could not press Escape");
    }
    wait_call(&c, t);
    printf("working resolution " HIGH_RESOLUTION ": the quick preview pass %s, the full one %s\n",
           quick ? "shown" : "NEVER SHOWN",
           full ? (quick && quick < full ? "shown after it" : "shown FIRST") : "not shown within 3 minutes");
    CHECK(quick && full && quick < full, "the quick preview pass was not shown before the full one");
    /* the stored points' markers are drawn on the source at once, before any pass */
    const char *first = text ? strstr(text + before, "the source drawn with ") : NULL;
    const int markers = first ? atoi(first + strlen("the source drawn with ")) : -1;
    printf("before any pass: the source drawn with %d point markers\n", markers);
    CHECK(first && markers >= 1 && (!quick || first < quick), "the stored points' markers were not drawn before any pass");
    /* the working indicator pulses while the full pass runs (from its start to its showing), and rests after */
    const char *started = NULL, *last_on = NULL, *last_off = NULL; /* started: the high pass's first line */
    for (const char *p = text + before; full && (p = strstr(p, "preview pass (full) at ")) && p < full; p++)
        if (p[23] >= '0' && p[23] <= '9') started = p; /* "at WxH: pixels ready", not "at resolution" */
    for (const char *p = text + before; full && (p = strstr(p, "the working indicator ")); p++) {
        if (p < full && !strncmp(p + 22, "pulses", 6)) last_on = p;
        if (p < full && !strncmp(p + 22, "rests", 5)) last_off = p;
    }
    /* pulsing when the full pass is shown, with no rest since it started */
    CHECK(started && last_on && (!last_off || (last_off < started && last_off < last_on)),
          "the working indicator did not pulse while the full pass ran");
    g_free(text), g_free(c.expr), g_free(c.answer), g_free(dialog);
}

/* The progress bar (about 25 px) and the spacing around it. */
#define MAX_GAP_ABOVE_BUTTONS 50
static int inside(const char *profile, const char *dir, const char *photo, int port) {
    char *opened = fake_browser(dir);
    g_setenv("COLORIZE_VERBOSE", "1", TRUE); /* the plug-in logs its preview passes into GIMP's output */
    GuiGimp g;
    if (!gui_gimp_start(&g, profile, dir, port)) return test_finish("test_dialog (inside Xvfb)");
    char *e = g_strdup_printf(
        "(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"%s\" \"%s\")))"
        "       (source (car (gimp-image-get-active-layer image))))"
        "  (gimp-image-convert-rgb image)"
        "  (gimp-image-scale image %d %d)"
        "  (let ((hints (car (gimp-layer-new image (car (gimp-image-width image)) (car (gimp-image-height image))"
        "                      RGBA-IMAGE \"Hints\" 100 LAYER-MODE-NORMAL))))"
        "    (gimp-image-insert-layer image hints 0 0)"
        "    (gimp-context-set-foreground '(230 40 30))"
        "    (gimp-image-select-ellipse image CHANNEL-OP-REPLACE %d %d %d %d)"
        "    (gimp-drawable-edit-fill hints FILL-FOREGROUND)"
        "    (gimp-selection-none image)"
        "    (gimp-image-set-active-layer image source)"
        "    (gimp-display-new image) (gimp-displays-flush)"
        "    (list image source hints)))",
        photo, photo, PHOTO_W, PHOTO_H, DISC_X - DISC_R, DISC_Y - DISC_R, 2 * DISC_R, 2 * DISC_R);
    char *ids = gui_eval(port, e);
    g_free(e);
    int image = 0, source = 0, hints = 0;
    CHECK(sscanf(ids, "(%d %d %d)", &image, &source, &hints) == 3, "no image and layers in %s", ids);
    int made = 0;
    for (int run = 0; run < RUNS && image > 0; run++) {
        gboolean with_hint = run % 2 == 1;
        int layer = one_run(port, image, source, with_hint);
        if (layer <= 0) continue;
        made++;
        e = g_strdup_printf("(vector-ref (cadr (gimp-image-get-layers %d)) 0)", image);
        int top = eval_int(port, e);
        g_free(e);
        if (with_hint) {
            int red = redness(port, layer, DISC_X, DISC_Y);
            printf("  red - green at the disc's centre: %d\n", red);
            CHECK(red > 40, "run %d: the hinted result is not red at the disc (red - green %d)", run, red);
            CHECK(top == layer, "run %d: the result is not above the hint layer (top layer %d)", run, top);
        }
        e = g_strdup_printf("(gimp-image-remove-layer %d %d)", image, layer);
        g_free(gui_eval(port, e));
        g_free(e);
    }
    printf("%d of %d runs gave a new layer\n", made, RUNS);
    /* what the user saw (the plug-in logs its widgets' state): the hint layer by its own name, and during OK
     * "Show hints" still checked and live (it looked unchecked when greyed out), the point controls resting and
     * Cancel live */
    gchar *seen = NULL;
    g_file_get_contents(g.log, &seen, NULL, NULL);
    CHECK(seen && strstr(seen, "hint layer choices: None | Hints\n"), "the hint layer combo does not read \"None | Hints\"");
    CHECK(seen && strstr(seen, "during OK: Show hints sensitive 1, checked 1; Delete point sensitive 0; Cancel sensitive 1"),
          "during OK, Show hints was not left as it was, or Cancel was not live");
    /* no empty band above the buttons: the last control, the progress bar, the buttons */
    const char *gap_line = seen ? strstr(seen, "px from the last control to the buttons") : NULL;
    int gap = -1;
    while (gap_line && gap_line > seen && gap_line[-1] == ' ') gap_line--;
    while (gap_line && gap_line > seen && g_ascii_isdigit(gap_line[-1])) gap_line--;
    if (gap_line) gap = atoi(gap_line);
    printf("%d px from the last control to the buttons\n", gap);
    CHECK(gap >= 0 && gap <= MAX_GAP_ABOVE_BUTTONS, "%d px from the last control to the buttons (at most %d)", gap,
          MAX_GAP_ABOVE_BUTTONS);
    g_free(seen);
    CHECK(made == RUNS, "only %d of %d OK presses gave a layer", made, RUNS);
    if (image > 0) other_image(port, photo);
    if (image > 0) help_and_cancel(port, image, source, opened);
    if (image > 0) point_hint_by_click(port, image, source, g.log);
    if (image > 0) remove_all_points(port, image, source, g.log);
    if (image > 0) new_point_takes_network_colour(port, image, source, g.log);
    const int without_reference = image > 0 ? reference_picked(port, image, source, g.log) : INT_MIN;
    if (image > 0) ok_reuses_preview(port, image, source, g.log);
    if (image > 0) quick_pass_shown(port, image, source, g.log);
    if (image > 0) preview_grows(port, image, source, g.log);
    if (image > 0) reference_file_picked(port, image, source, g.log, dir, without_reference);
    click_colours_region(port, g.log);
    drag_past_edges(port);
    points_survive_undo(port);
    click_past_point_limit(port, g.log);
    CHECK(!log_has_wire_errors(g.log), "GIMP reported wire or tile errors (see above)");
    gui_gimp_stop(&g);
    g_free(ids), g_free(opened);
    return test_finish("test_dialog (inside Xvfb)");
}

int main(int argc, char **argv) {
    if (argc == 6 && strcmp(argv[1], "--inside") == 0) return inside(argv[2], argv[3], argv[4], atoi(argv[5]));
    if (argc < 5) {
        fprintf(stderr, "usage: test_dialog PLUGIN MODEL PHOTO HELP.html\n");
        return 1;
    }
    GuiProfile p = gui_profile_new(argv[1], argv[2]);
    gui_profile_install(&p, argv[4], "help");
    char *photo = g_canonicalize_filename(argv[3], NULL), *port = g_strdup_printf("%d", gui_free_port());
    char *args[] = {"--inside", p.profile, p.dir, photo, port, NULL};
    gui_rerun_in_xvfb(argv[0], args);
    gui_profile_free(&p);
    g_free(photo), g_free(port);
    return test_finish("test_dialog");
}
