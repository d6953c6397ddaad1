/* test_dialog_points.c — point hints in the dialog, for the dialog test: a
 * click places a point that takes the network's colour (unless its colour
 * dialog opened first), the colour dialog sets it, Repeat uses it; a click
 * on a flat region colours the region up to its edge; drags stop at the
 * layer's edges; a click past the limit is refused; Remove all; the points
 * survive undo. */
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
void point_hint_by_click(int port, int image, int source, const char *log) {
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
 * the click lands in the preview), dark in an L around it. With the
 * dialog's Hint reach typed as `reach` (NULL: left as it is), the expected
 * outcome is the local one of reach 0: the click's place is coloured, the
 * region's far corners are not. */
#define FLAT_W 600
#define FLAT_H 400
#define FLAT_EDGE_X 400 /* the bright region: x < FLAT_EDGE_X and y < FLAT_EDGE_Y */
#define FLAT_EDGE_Y 260
void click_colours_region(int port, const char *log, const char *reach) {
    char *e = g_strdup_printf("(let* ((image (car (gimp-image-new %d %d RGB)))"
                              "       (layer (car (gimp-layer-new image %d %d RGB-IMAGE \"Flat\" 100 LAYER-MODE-NORMAL))))"
                              "  (gimp-image-insert-layer image layer 0 0)"
                              "  (gimp-context-set-foreground '(60 60 60)) (gimp-drawable-edit-fill layer FILL-FOREGROUND)"
                              "  (gimp-image-select-rectangle image CHANNEL-OP-REPLACE 0 0 %d %d)"
                              "  (gimp-context-set-foreground '(205 205 205)) (gimp-drawable-edit-fill layer FILL-FOREGROUND)"
                              "  (gimp-selection-none image) (gimp-display-new image) (gimp-displays-flush)"
                              "  (list image layer))",
                              FLAT_W, FLAT_H, FLAT_W, FLAT_H, FLAT_EDGE_X, FLAT_EDGE_Y);
    int image = 0, source = 0, layer = -1;
    if (!eval_image_layer(port, e, &image, &source)) return;
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, image, source);
    if (dialog) {
        g_usleep(1500000);
        if (reach) {
            CHECK(gui_press(dialog, "alt+n") && gui_press(dialog, "ctrl+a"), "could not reach the Hint reach");
            char *type[] = {"xdotool", "type", "--delay", "50", (char *)reach, NULL};
            CHECK(gui_run_quiet(type, NULL) && gui_press(dialog, "Tab"), "could not type the Hint reach");
            g_usleep(1500000);
        }
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
        int corner_most = -1000;
        for (int i = 0; i < 4; i++) corner_most = MAX(corner_most, redness(port, layer, bright[i][0], bright[i][1]));
        const int here = redness(port, layer, (int)x, (int)y);
        printf("one click at (%.0f, %.0f) on a flat region, hint reach %s: red - green there %d, at its far corners "
               "%d to %d, beyond its edge at most %d\n", x, y, reach ? reach : "as set", here, least, corner_most, most);
        if (!reach) {
            CHECK(least > 25, "the click did not colour its whole region (red - green %d at a corner)", least);
            CHECK(most < least - 20, "the click's colour crossed the region's edge (red - green %d beyond it)", most);
        } else {
            CHECK(here > 25, "at hint reach %s the click did not colour its own place (red - green %d)", reach, here);
            CHECK(corner_most < 15, "at hint reach %s the click's colour still reached a far corner (red - green %d)",
                  reach, corner_most);
            CHECK(most < 15, "at hint reach %s the click's colour crossed the region's edge (red - green %d beyond it)",
                  reach, most);
        }
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
#define DRAG_GUESS_TOLERANCE 24 /* sRGB levels: a guess from the quick pass against one from the full pass */
void drag_past_edges(int port) {
    char *e = g_strdup_printf("(let* ((image (car (gimp-image-new %d %d RGB)))"
                              "       (layer (car (gimp-layer-new image %d %d RGB-IMAGE \"Drag\" 100 LAYER-MODE-NORMAL))))"
                              "  (gimp-image-insert-layer image layer 0 0)"
                              "  (gimp-layer-set-offsets layer %d %d)"
                              "  (gimp-context-set-foreground '(128 128 128)) (gimp-drawable-edit-fill layer FILL-FOREGROUND)"
                              "  (gimp-display-new image) (gimp-displays-flush)"
                              "  (list image layer))", DRAG_W + 2 * DRAG_X, DRAG_H + 2 * DRAG_Y, DRAG_W, DRAG_H, DRAG_X,
                              DRAG_Y);
    int image = 0, source = 0;
    if (!eval_image_layer(port, e, &image, &source)) return;
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

/* Reads the two numbers (x,y) after `key` in the first line from `from` on
 * that holds it, waiting up to `seconds`, and the #rrggbb after them when
 * `hex` is given; FALSE when no such line came. */
static gboolean logged_position(const char *log, gsize from, const char *key, double seconds, double xy[2],
                                char hex[7]) {
    char *line = log_wait_for(log, from, key, seconds);
    const char *at = line ? strstr(line, key) : NULL;
    gboolean got = at && sscanf(at + strlen(key), "%lf,%lf", &xy[0], &xy[1]) == 2;
    if (got && hex) {
        const char *h = strchr(at, '#');
        got = h && sscanf(h + 1, "%6[0-9a-fA-F]", hex) == 1;
    }
    g_free(line);
    return got;
}

/* Whether, from `from` on, the first line holding `first` comes before the
 * first holding `then` (or `then` is not there). */
static gboolean log_position_before(const char *log, gsize from, const char *first, const char *then) {
    char *text = log_wait_for(log, from, first, 0);
    const char *a = text ? strstr(text, first) : NULL, *b = text ? strstr(text, then) : NULL;
    const gboolean before = a && (!b || a < b);
    g_free(text);
    return before;
}

/* The largest difference of the three channels of two #rrggbb colours. */
static int colour_distance(const char *a, const char *b) {
    unsigned ca[3], cb[3];
    if (sscanf(a, "%2x%2x%2x", &ca[0], &ca[1], &ca[2]) != 3 || sscanf(b, "%2x%2x%2x", &cb[0], &cb[1], &cb[2]) != 3)
        return 999;
    int most = 0;
    for (int i = 0; i < 3; i++) most = MAX(most, abs((int)ca[i] - (int)cb[i]));
    return most;
}

/* A point placed in the bright half and dragged slowly (40 steps, 2 s)
 * into the dark half: the preview's tooltip stays away, and after the
 * release the point takes the network's colour where it rests (`rest`,
 * `rest_hex`), not the one guessed where it was pressed. */
static void drag_new_point(const char *dialog, const char *log, gsize from, double rest[2], char rest_hex[7]) {
    double pressed[2] = {-1, -1};
    char pressed_hex[7] = "";
    CHECK(gui_drag_steps(dialog, 100, 80, 300, 220, 40, 50), "could not drag in the preview");
    char *dragged = log_wait_for(log, from, "released after ", 60); /* the drag's own release, handled */
    CHECK(dragged, "the drag's release was not logged within 60 s");
    const gsize released_at = dragged ? from + (gsize)(strstr(dragged, "released after ") - dragged) : from;
    g_free(dragged);
    /* guessed at the press only when no pass ran then (else the point was moving before a pass could guess it) */
    const gboolean guessed_pressed = logged_position(log, from, "point 1 at (", 0.1, pressed, pressed_hex) &&
                                     log_position_before(log, from, "point 1 at (", "released after ");
    CHECK(logged_position(log, released_at, "point 1 at (", 60, rest, rest_hex),
          "the point placed and dragged was not given the network's colour where it rests");
    /* over the full pass on screen, the drag's steps are carried over it: no quick pass at a lower resolution
     * makes the whole preview flicker */
    CHECK(!log_position_before(log, from, "preview pass (quick) at", "released after "),
          "a quick pass ran during the drag over the full pass");
    printf("a point placed at (%.1f, %.1f), #%s, and dragged: guessed again at (%.1f, %.1f), #%s\n", pressed[0],
           pressed[1], guessed_pressed ? pressed_hex : "(none guessed before the drag)", rest[0], rest[1], rest_hex);
    CHECK(!guessed_pressed || (rest[0] != pressed[0] && rest[1] != pressed[1] &&
                               g_ascii_strcasecmp(rest_hex, pressed_hex) != 0),
          "the point kept the colour guessed where it was pressed (#%s)", pressed_hex);
    char *tip = log_wait_for(log, from, "tooltip is asked for during a drag", 0.1);
    CHECK(!tip, "the preview's tooltip came up in the middle of the drag");
    g_free(tip);
}

/* A drag of the point, held still for 1.5 s, then Escape: the point goes
 * back to `rest`, the tooltip stayed away, and the dialog stays open. */
static void escape_drag(const char *dialog, const char *log, const double rest[2]) {
    const gsize escape_from = log_size(log);
    double at[2] = {-1, -1}, back[2] = {-1, -1};
    CHECK(gui_drag_hold(dialog, 300, 220, 420, 300, 15, 40), "could not start a drag to cancel");
    g_usleep(1500000); /* a hand resting: long enough for a tooltip */
    CHECK(gui_key_held(dialog, "Escape"), "could not press Escape during the drag");
    g_usleep(300000);
    CHECK(gui_release(), "could not release the button");
    CHECK(logged_position(log, escape_from, "Escape cancelled its drag at ", 30, at, NULL) &&
              logged_position(log, escape_from, ", back at ", 1, back, NULL),
          "Escape during a drag did not put the point back");
    printf("Escape in a drag at (%.1f, %.1f) put the point back at (%.1f, %.1f)\n", at[0], at[1], back[0], back[1]);
    CHECK(at[0] != rest[0] && at[1] != rest[1], "the drag to cancel did not move the point");
    CHECK(back[0] == rest[0] && back[1] == rest[1], "Escape did not put the point back where it rested");
    char *tip = log_wait_for(log, escape_from, "tooltip is asked for during a drag", 0.1);
    CHECK(!tip, "the preview's tooltip came up while the drag rested");
    g_free(tip);
}

/* Hint reach's field is given the keyboard (Alt+N), then a click places a
 * second point, and the Delete key removes it: the click took the keyboard
 * from the field (else Delete would have cleared the field's text). */
static void delete_key(const char *dialog, const char *log) {
    g_usleep(500000);
    const gsize delete_from = log_size(log);
    CHECK(gui_press(dialog, "alt+n"), "could not reach the Hint reach field");
    CHECK(gui_click(dialog, 160, 200, 1), "could not place a second point");
    g_usleep(1000000);
    CHECK(gui_press(dialog, "Delete"), "could not press Delete");
    char *removed = log_wait_for(log, delete_from, "point 2 removed by the Delete key", 10);
    CHECK(removed, "the Delete key did not remove the selected point");
    g_free(removed);
    g_usleep(1000000);
}

/* Waits until a full pass is on screen, from `from` in the log, and no
 * pass runs. */
static void wait_for_rest(const char *log, gsize from) {
    char *full = log_wait_for(log, from, "preview pass (full) at resolution", 60);
    CHECK(full, "the full preview pass was not shown within 60 s");
    const gsize at = full ? from + (gsize)(strstr(full, "preview pass (full) at resolution") - full) : from;
    g_free(full);
    char *rests = log_wait_for(log, at, "the working indicator rests", 60);
    CHECK(rests, "the preview did not rest within 60 s");
    g_free(rests);
    g_usleep(200000);
}

/* A click at (300, 220) of the dialog on a copy of the image: the colour
 * the plug-in guesses there for a new point (Escape then closes it). */
static gboolean fresh_click_colour(int port, int image, const char *log, double xy[2], char hex[7]) {
    char *e = g_strdup_printf("(let* ((copy (car (gimp-image-duplicate %d))))"
                              "  (gimp-image-detach-parasite copy \"colorize-neural-points\")"
                              "  (gimp-display-new copy) (gimp-displays-flush)"
                              "  (list copy (car (gimp-image-get-active-layer copy))))", image);
    int copy = 0, layer = 0;
    if (!eval_image_layer(port, e, &copy, &layer)) return FALSE;
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, copy, layer);
    const gsize from = log_size(log);
    gboolean got = FALSE;
    if (dialog) {
        g_usleep(1500000);
        CHECK(gui_click(dialog, 300, 220, 1), "could not click the copy's preview");
        got = logged_position(log, from, "point 1 at (", 60, xy, hex);
        CHECK(gui_press(dialog, "Escape"), "could not press Escape");
    }
    wait_call(&c, t);
    g_free(c.expr), g_free(c.answer), g_free(dialog);
    return got;
}

/* A dragged point's colour follows the drag: a point placed with a click,
 * then dragged slowly across the preview (40 steps, 2 s), must have the
 * preview show at least one pass while it moves, and at least one of them
 * at once, the point carried over the last network pass without running
 * the network (the plug-in logs, when it is released, how many passes
 * were shown during its drag and how many were carried). Before, the
 * marker moved but the colour waited for the release: 0. The drag goes
 * from the photo's bright half into its dark half: there the point,
 * placed by that press, takes the network's colour, as a click there on a
 * copy of the photo gives it (before, it kept the colour guessed where it
 * was pressed). Then a click near the point, without moving, selects it
 * and leaves it where it is (the plug-in logs no drag); Escape in a
 * further drag puts it back and leaves the dialog open (before, Escape
 * closed it); no tooltip comes up in either drag; and a second point,
 * placed after typing focus went to a field, goes with the Delete key. OK
 * stores the one point, where it rested. */
void drag_updates_preview(int port, const char *log) {
    char *e = g_strdup_printf("(let* ((image (car (gimp-image-new 600 400 RGB)))"
                              "       (layer (car (gimp-layer-new image 600 400 RGB-IMAGE \"Slow drag\" 100 LAYER-MODE-NORMAL))))"
                              "  (gimp-image-insert-layer image layer 0 0)"
                              "  (gimp-context-set-foreground '(200 200 200)) (gimp-drawable-edit-fill layer FILL-FOREGROUND)"
                              "  (gimp-image-select-rectangle image CHANNEL-OP-REPLACE 0 200 600 200)"
                              "  (gimp-context-set-foreground '(60 60 60)) (gimp-drawable-edit-fill layer FILL-FOREGROUND)"
                              "  (gimp-selection-none image)"
                              "  (gimp-display-new image) (gimp-displays-flush)"
                              "  (list image layer))");
    int image = 0, source = 0;
    if (!eval_image_layer(port, e, &image, &source)) return;
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, image, source);
    const gsize from = log_size(log);
    gsize selected_from = 0;
    double rest[2] = {-1, -1};
    char rest_hex[7] = "";
    if (dialog) {
        wait_for_rest(log, from);
        const gsize drag_from = log_size(log);
        drag_new_point(dialog, log, drag_from, rest, rest_hex);
        wait_for_rest(log, drag_from); /* the full pass for where it rests */
        selected_from = log_size(log);
        CHECK(gui_click(dialog, 304, 223, 1), "could not click near the point"); /* selects it, within its pick radius */
        char *swatches = log_wait_for(log, selected_from, "suggestions for point 1 from the pass shown", 10);
        CHECK(swatches, "selecting a point over the full pass did not take its swatches from it");
        g_free(swatches);
        g_usleep(1000000);
        char *quick = log_wait_for(log, selected_from, "preview pass (quick) at", 0);
        CHECK(!quick, "selecting a point ran a quick pass");
        g_free(quick);
        escape_drag(dialog, log, rest);
        delete_key(dialog, log);
        CHECK(gui_press(dialog, "alt+o"), "could not press OK");
    }
    CHECK(wait_call(&c, t) && c.ok, "OK after the drags failed (did Escape close the dialog?): %s",
          c.answer ? c.answer : "(none)");
    char *moved = selected_from ? log_wait_for(log, selected_from, "released after ", 1) : NULL;
    CHECK(!moved, "a click near the point, to select it, moved it: %s", moved);
    g_free(moved);
    char *released = log_wait_for(log, from, "released after ", 1);
    int shown = -1, carried = -1;
    const char *at = released ? strstr(released, "released after ") : NULL;
    if (at) sscanf(at, "released after %d passes shown during its drag (%d", &shown, &carried);
    printf("a point dragged slowly across the preview: %d passes shown during the drag, %d of them carried over the "
           "last network pass\n", shown, carried);
    CHECK(shown >= 1, "the preview showed no pass while the point was dragged (%d)", shown);
    CHECK(carried >= 1, "no drag step was shown at once, carried over the last network pass (%d)", carried);
    e = g_strdup_printf("(caddr (car (gimp-image-get-parasite %d \"colorize-neural-points\")))", image);
    char *points = gui_eval(port, e);
    double stored[2] = {-1, -1};
    const char *q = strchr(points, '"');
    CHECK(q && sscanf(q + 1, "%lf,%lf,#%*6[0-9a-fA-F]", &stored[0], &stored[1]) == 2 && !strchr(q, ';'),
          "not one point stored after the Delete key: %s", points);
    CHECK(stored[0] == rest[0] && stored[1] == rest[1], "the point stored at (%g, %g), not where it rested",
          stored[0], stored[1]);
    double fresh[2] = {-1, -1};
    char fresh_hex[7] = "";
    CHECK(fresh_click_colour(port, image, log, fresh, fresh_hex), "a click on the copy's preview guessed no colour");
    printf("a click there on a copy: (%.1f, %.1f), #%s (the dragged point: #%s, %d apart)\n", fresh[0], fresh[1],
           fresh_hex, rest_hex, colour_distance(fresh_hex, rest_hex));
    CHECK(fresh[0] == rest[0] && fresh[1] == rest[1], "the click on the copy is not where the point rested");
    CHECK(colour_distance(fresh_hex, rest_hex) <= DRAG_GUESS_TOLERANCE,
          "the dragged point's colour #%s is not what a click there takes (#%s)", rest_hex, fresh_hex);
    g_free(points), g_free(e);
    g_free(released), g_free(c.expr), g_free(c.answer), g_free(dialog);
}

/* The text after the last `what` in the log from `from` on, or NULL. */
static char *last_log_line(const char *log, gsize from, const char *what) {
    char *text = log_wait_for(log, from, what, 10);
    if (!text) return NULL;
    const char *last = text;
    for (const char *p = text; (p = strstr(p, what)); p++) last = p;
    char *line = g_strndup(last + strlen(what), strcspn(last + strlen(what), "\n"));
    g_free(text);
    return line;
}

/* A third point given the first one's colour with one click, on the
 * swatch of the colours given to other points: which swatch and where it
 * is, from the dialog's latest log lines since `from`; FALSE when it is
 * not offered. */
static gboolean click_used_colour(const char *dialog, const char *log, gsize from, const char *hex) {
    char *colours = last_log_line(log, from, "used colours:"), *at = NULL;
    char *want = g_strdup_printf("#%s", hex);
    int index = -1, x = 0, y = 0;
    if (colours) {
        gchar **parts = g_strsplit(g_strstrip(colours), " ", -1);
        for (int i = 0; parts[i]; i++)
            if (g_ascii_strcasecmp(parts[i], want) == 0) index = i;
        g_strfreev(parts);
    }
    printf("a third point: the used colours offered are %s (%s at %d)\n", colours ? colours : "(none)", want, index);
    if (index >= 0) at = last_log_line(log, from, "used colour swatches at");
    const char *p = at; /* "(x, y) (x, y) …": the index-th pair */
    for (int i = 0; p && i <= index; i++) {
        p = strchr(p, '(');
        if (p && sscanf(p, "(%d, %d)", &x, &y) != 2) p = NULL;
        if (p) p++;
    }
    gboolean ok = p && gui_click(dialog, x, y, 1);
    g_free(colours), g_free(at), g_free(want);
    return ok;
}

/* A new point starts with the colour the preview shows at its place, not
 * with the previous point's: a first point is made blue in the colour
 * dialog (the preview follows it while that dialog is open), a second one
 * is placed elsewhere, and OK stores the blue and, for the second, the
 * colour the plug-in logged as the network's guess there. A third point
 * takes the blue with one click on the swatches of the colours given to
 * the other points, and OK stores it. */
void new_point_takes_network_colour(int port, int image, int source, const char *log) {
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
        CHECK(gui_click(dialog, 180, 60, 1), "could not place a third point");
        g_usleep(1500000);
        /* the latest lines since the second click: the swatches are laid
         * out again only when how many show changes */
        CHECK(click_used_colour(dialog, log, from, POINT_BLUE), "the first point's blue was not offered among "
              "the used colours for a third point, or its swatch could not be clicked");
        g_usleep(1500000);
        CHECK(gui_press(dialog, "alt+o"), "could not press OK");
    }
    CHECK(wait_call(&c, t) && c.ok, "OK failed: %s", c.answer ? c.answer : "(none)");
    char *e = g_strdup_printf("(caddr (car (gimp-image-get-parasite %d \"colorize-neural-points\")))", image);
    char *points = gui_eval(port, e);
    char *guessed = log_wait_for(log, from, "takes the network's colour #", 1);
    printf("a blue point, then a new one: stored %s; the plug-in's log: %.80s\n", points,
           guessed ? strstr(guessed, "point 2") ? strstr(guessed, "point 2") : guessed : "(no guess logged)");
    const char *q = strchr(points, '"');
    char first[7] = "", second[7] = "", third[7] = "";
    CHECK(q && sscanf(q + 1, "%*f,%*f,#%6[0-9a-fA-F];%*f,%*f,#%6[0-9a-fA-F];%*f,%*f,#%6[0-9a-fA-F]", first, second,
                      third) == 3,
          "three points were not stored: %s", points);
    CHECK(g_ascii_strcasecmp(third, POINT_BLUE) == 0, "the third point did not take the blue from the used colours' "
          "swatch: #%s", third);
    CHECK(g_ascii_strcasecmp(first, POINT_BLUE) == 0, "the first point is not the blue chosen: #%s", first);
    CHECK(second[0] && g_ascii_strcasecmp(second, POINT_BLUE) != 0, "the new point took the previous point's colour");
    const char *line = guessed ? strstr(guessed, "point 2 at") : NULL;
    const char *hash = line ? strchr(line, '#') : NULL;
    CHECK(hash && g_ascii_strncasecmp(hash + 1, second, 6) == 0,
          "the new point's stored colour #%s is not the network's guess logged for it", second);
    g_free(guessed), g_free(points), g_free(e), g_free(c.expr), g_free(c.answer), g_free(dialog);
}

/* Past 256 points a click places none and the dialog says why: an image
 * with 256 stored points (lower right), one click in its upper left. */
void click_past_point_limit(int port, const char *log) {
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
    int image = 0, source = 0;
    g_string_free(list, TRUE);
    if (!eval_image_layer(port, e, &image, &source)) return;
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
 * no points, and Remove all then rests, the colour button showing neutral
 * gray, no point's colour (the plug-in logs the point controls' state). */
void remove_all_points(int port, int image, int source, const char *log) {
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
        CHECK(state && strstr(state, "0 points, Delete point sensitive 0, Remove all sensitive 0, colour button #808080"),
              "after Remove all, the colour button does not show neutral gray");
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

/* The number of points in the image's stored-points parasite (0 when none). */
int stored_point_count(int port, int image) {
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
void points_survive_undo(int port) {
    char *e = g_strdup_printf("(let* ((image (car (gimp-image-new 300 200 RGB)))"
                              "       (layer (car (gimp-layer-new image 300 200 RGB-IMAGE \"Undo\" 100 LAYER-MODE-NORMAL))))"
                              "  (gimp-image-insert-layer image layer 0 0)"
                              "  (gimp-context-set-foreground '(150 150 150)) (gimp-drawable-edit-fill layer FILL-FOREGROUND)"
                              "  (gimp-image-clean-all image)"
                              "  (gimp-image-set-filename image \"undo-points.xcf\")"
                              "  (gimp-display-new image) (gimp-displays-flush)"
                              "  (list image layer))");
    int image = 0, source = 0;
    if (!eval_image_layer(port, e, &image, &source)) return;
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

