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
 * stops at its edge, and with the Hint reach typed as 0 it colours only
 * its own place; points dragged past the preview's edges stay inside
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
#include "dialog_tests.h"

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

/* The saved settings name the first image's hint layer: on another image
 * the dialog must fall back to "None", so a plain OK works there. */
static void other_image(int port, const char *photo) {
    char *e = g_strdup_printf("(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"%s\" \"%s\")))"
                              " (layer (car (gimp-image-get-active-layer image))))"
                              " (gimp-display-new image) (gimp-displays-flush) (list image layer))", photo, photo);
    int image = 0, layer = 0;
    if (!eval_image_layer(port, e, &image, &layer)) return;
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
    g_free(c.expr), g_free(c.answer), g_free(dialog);
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

/* The progress bar (about 25 px) and the spacing around it. */
#define MAX_GAP_ABOVE_BUTTONS 50
/* The dialog opened RUNS times, the hint layer picked every other run,
 * OK pressed; each must give a layer, red at the disc and on top when
 * hinted. Returns how many did. */
static int ok_runs(int port, int image, int source) {
    char *e;
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
    return made;
}

/* Every control's label on a row of its own: two given one row were drawn
 * over each other ("Hint reach" over "Reference", "Model file" over
 * "Reference weight"), which no other check saw. */
static void control_rows_distinct(const char *seen) {
    const char *line = seen ? strstr(seen, "colorize-neural: control rows:") : NULL;
    CHECK(line != NULL, "the plug-in did not log its control rows");
    if (!line) return;
    int count[64] = {0}, n = 0, shared = -1;
    for (const char *p = line + strlen("colorize-neural: control rows:"); *p == ' ';) {
        char *end;
        const long row = strtol(p + 1, &end, 10);
        if (end == p + 1) break;
        if (row >= 0 && row < 64 && ++count[row] == 2) shared = (int)row;
        n++, p = end;
    }
    printf("%d control labels, %s\n", n, shared < 0 ? "each on its own row" : "two on one row");
    CHECK(n >= 8 && shared < 0, "%d control labels; row %d holds two of them", n, shared);
}

/* What the user saw (the plug-in logs its widgets' state): the hint layer
 * by its own name, and during OK "Show hints" still checked and live (it
 * looked unchecked when greyed out), the point controls resting and Cancel
 * live; no empty band above the buttons. */
static void check_widget_log(const char *log) {
    /* what the user saw (the plug-in logs its widgets' state): the hint layer by its own name, and during OK
     * "Show hints" still checked and live (it looked unchecked when greyed out), the point controls resting and
     * Cancel live */
    gchar *seen = NULL;
    g_file_get_contents(log, &seen, NULL, NULL);
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
    control_rows_distinct(seen);
    g_free(seen);
}

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
    int made = image > 0 ? ok_runs(port, image, source) : 0;
    check_widget_log(g.log);
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
    if (image > 0) tall_picture_beside_controls(port, photo, g.log);
    if (image > 0) reference_file_picked(port, image, source, g.log, dir, without_reference);
    if (image > 0) palette_file_picked(port, image, source, g.log, dir, without_reference);
    click_colours_region(port, g.log, NULL);
    drag_past_edges(port);
    drag_updates_preview(port, g.log);
    points_survive_undo(port);
    click_past_point_limit(port, g.log);
    click_colours_region(port, g.log, "0"); /* last: the dialog keeps the reach for later runs */
    CHECK(!log_has_wire_errors(g.log), "GIMP reported wire or tile errors (see above)");
    const char *keep = g_getenv("COLORIZE_TEST_KEEP_LOG"); /* a copy of GIMP's output, for the preview's timings */
    gchar *text = NULL;
    gsize n = 0;
    if (keep && g_file_get_contents(g.log, &text, &n, NULL))
        CHECK(g_file_set_contents(keep, text, (gssize)n, NULL), "cannot write %s", keep);
    g_free(text);
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
