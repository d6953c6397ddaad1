/* test_dialog_preview.c — the preview and the colour reference, for the
 * dialog test: a reference picked among the open images warms the result
 * and Repeat keeps it, so does one from a file (and Repeat fails naming it
 * once it is gone); OK reuses the preview's full pass; the quick pass is
 * shown first; the preview grows with the dialog, and stands beside the
 * controls for a tall picture. */
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

/* Warmth (red minus blue) averaged over a 5×4 grid of a layer's pixels. */
int warmth(int port, int layer, int w, int h) {
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

/* The dialog opened on the layer that served as the reference last time
 * (saved with the settings at OK) must not use it as its own reference: it
 * says so and uses none (the combo does not offer it, and showed nothing
 * while the layer stayed in use). */
static void own_reference_refused(int port, int warm, const char *log) {
    char *e = g_strdup_printf("(car (gimp-item-get-image %d))", warm);
    const int warm_image = eval_int(port, e);
    const gsize from = log_size(log);
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, warm_image, warm);
    char *said = dialog ? log_wait_for(log, from, "the dialog says: The reference used last time", 15) : NULL;
    if (dialog) CHECK(gui_press(dialog, "Escape"), "could not press Escape");
    wait_call(&c, t);
    printf("the dialog opened on last time's reference layer: %s\n", said ? "said it cannot serve" : "said nothing");
    CHECK(said, "the dialog on last time's reference layer did not say it cannot serve as its own reference");
    g_free(said), g_free(e), g_free(c.expr), g_free(c.answer), g_free(dialog);
}

/* A colour reference picked in the dialog as a user does: a second image,
 * warm, is open; Alt+E reaches the Reference combo, whose choices the
 * plug-in logs ("image / layer"); Home and the arrow keys pick the warm
 * layer; a pass is shown with it, and OK gives a result warmer than the
 * same settings without a reference. The warm image is closed afterwards,
 * so the runs after this one have no reference. */
int reference_picked(int port, int image, int source, const char *log) {
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
        const char *ids = choices ? strstr(choices, "reference choices' IDs:") : NULL;
        char *ids_line = ids ? g_strndup(ids, strcspn(ids, "\n")) : NULL, **id = g_strsplit(ids_line ? strchr(ids_line, ':') + 1 : "", " ", -1);
        gboolean offered = FALSE;
        for (int i = 0; id[i]; i++) offered |= *id[i] && atoi(id[i]) == source;
        printf("%s (the layer colorized is %d)\n", ids_line ? ids_line : "no IDs logged", source);
        CHECK(ids_line && !offered, "the layer being colorized, %d, is offered as its own reference", source);
        g_strfreev(id), g_free(ids_line);
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
        own_reference_refused(port, warm, log);
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
 * (file_button_follows_combo), and OK gives a result warmer than without
 * a reference (`without`, from reference_picked); Repeat keeps it; once the file is gone, Repeat fails
 * with an error naming it. */
/* The Reference file button shows its file only while the file is the
 * reference: None chosen in the combo (Alt+E, Home) empties it (it once
 * kept showing the file beside the combo's other choice), and the combo's
 * file item (End) takes the file again and shows it, a pass made with it. */
static void file_button_follows_combo(const char *dialog, const char *log, const char *path) {
    const char *keys[2] = {"Home", "End"}, *files[2] = {"", path};
    for (int i = 0; i < 2; i++) {
        const gsize from = log_size(log);
        CHECK(gui_press(dialog, "alt+e") && gui_press(dialog, keys[i]), "could not reach the Reference combo");
        char *want = g_strdup_printf("colorize-neural: reference -1, file \"%s\"\n"
                                     "colorize-neural: the Reference file button shows \"%s\"\n", files[i], files[i]);
        char *got = log_wait_for(log, from, want, 15);
        CHECK(got, "%s in the Reference combo: the reference and its file button do not read \"%s\"", keys[i], files[i]);
        char *shown = got ? log_wait_for(log, from + (strstr(got, want) - got), "shown after", 60) : NULL;
        CHECK(shown, "no preview pass was shown after %s in the Reference combo", keys[i]);
        g_free(want), g_free(got), g_free(shown);
    }
}

/* In the open dialog, the file `name` of the image's folder (path, in
 * full) picked with the Reference file button as a user does (Alt+F,
 * Space, Ctrl+L, the name typed, Return): the plug-in must log it as the
 * reference and show a pass made with it (log read from `from`). */
static gboolean pick_reference_file(const char *dialog, const char *log, gsize from, const char *name, const char *path) {
    CHECK(gui_press(dialog, "alt+f") && gui_press(dialog, "space"), "could not open the reference file dialog");
    char *files = gui_find_window("^Select a colour reference photo or palette$", 10);
    CHECK(files, "the reference file dialog did not open");
    char *type[] = {"xdotool", "type", "--delay", "50", (char *)name, NULL};
    g_usleep(1000000);
    CHECK(files && gui_press(files, "ctrl+l") && gui_run_quiet(type, NULL), "could not type the reference's path");
    g_usleep(500000);
    CHECK(files && gui_press(files, "Return"), "could not press Return in the file dialog");
    char *want = g_strdup_printf("colorize-neural: reference -1, file \"%s\"\n", path);
    char *picked = log_wait_for(log, from, want, 15);
    CHECK(picked, "the dialog did not take %s as its reference", name);
    if (!picked && files) gui_press(files, "Escape"); /* the file dialog left open would block OK */
    char *shown = picked ? log_wait_for(log, from + (strstr(picked, want) - picked), "shown after", 60) : NULL;
    CHECK(shown, "no preview pass was shown with the reference file %s", name);
    const gboolean ok = picked && shown;
    g_free(want), g_free(picked), g_free(shown), g_free(files);
    return ok;
}

/* Opens the dialog, picks the file `name` (path) with the Reference file
 * button, then (with check_button) file_button_follows_combo, and presses
 * OK: the new layer, or -1. */
static int ok_with_reference_file(int port, int image, int source, const char *log, const char *name, const char *path,
                                  gboolean check_button) {
    const gsize from = log_size(log);
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, image, source);
    if (dialog) {
        g_usleep(1500000);
        pick_reference_file(dialog, log, from, name, path);
        if (check_button) file_button_follows_combo(dialog, log, path);
        CHECK(gui_press(dialog, "alt+o"), "could not press OK");
    }
    int layer = -1;
    CHECK(wait_call(&c, t) && c.ok && c.answer && sscanf(c.answer, "%d", &layer) == 1 && layer > 0, "OK gave no layer");
    g_free(c.expr), g_free(c.answer), g_free(dialog);
    return layer;
}

void reference_file_picked(int port, int image, int source, const char *log, const char *dir, int without) {
    char *path = g_build_filename(dir, "warm-reference.png", NULL), *scan = g_build_filename(dir, "flower.png", NULL);
    CHECK(write_warm_photo(path), "cannot write %s", path);
    /* the image as if opened from that folder: the file dialog opens there, and the name alone is typed */
    char *named = g_strdup_printf("(gimp-image-set-filename %d \"%s\")", image, scan);
    g_free(gui_eval(port, named));
    g_free(named), g_free(scan);
    const int layer = ok_with_reference_file(port, image, source, log, "warm-reference.png", path, TRUE);
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
    g_free(path);
}

/* A GIMP palette picked with the Reference file button as a photo is (in
 * the image's folder, where reference_file_picked put the image): a pass
 * is shown with it and OK gives a result warmer than without a reference
 * (`without`, from reference_picked). The file is then removed, so that the
 * saved settings name no reference the later tests would use. */
void palette_file_picked(int port, int image, int source, const char *log, const char *dir, int without) {
    char *path = g_build_filename(dir, "warm-palette.gpl", NULL);
    CHECK(g_file_set_contents(path, "GIMP Palette\r\nName: warm\r\n#\r\n120  45   5 dark orange\r\n"
                                    "230 110  20\r\n255 185 100 light\r\n", -1, NULL), "cannot write %s", path);
    const int layer = ok_with_reference_file(port, image, source, log, "warm-palette.gpl", path, FALSE);
    if (layer > 0) {
        const int with = warmth(port, layer, PHOTO_W, PHOTO_H);
        printf("a warm GIMP palette picked in the dialog: red - blue %d after OK, %d without\n", with, without);
        CHECK(without != INT_MIN && with > without + 10, "the palette did not warm the result (%d, %d without)", with,
              without);
    }
    g_remove(path); /* the dialogs to come find it gone and start without a reference */
    g_free(path);
}

/* Mean and largest difference over a 6×5 grid of pixels of two layers. */
void layer_difference(int port, int a, int b, int w, int h, double *mean, int *most) {
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
void ok_reuses_preview(int port, int image, int source, const char *log) {
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

/* The dialog's size when last shown, as the plug-in logs it; FALSE when
 * not logged since `from`. */
static gboolean logged_dialog_size(const char *log, gsize from, int *w, int *h) {
    gchar *text = NULL;
    gsize n = 0;
    *w = *h = 0;
    if (!g_file_get_contents(log, &text, &n, NULL) || n < from) return FALSE;
    for (const char *p = text + from; (p = strstr(p, "colorize-neural: dialog shown at ")); p++)
        sscanf(p, "colorize-neural: dialog shown at %dx%d", w, h);
    g_free(text);
    return *w > 0;
}

/* The last point hint stored on the image (at OK) must lie at the centre
 * of the w × h image: where a click at the preview's centre put it. */
static void point_at_centre(int port, int image, int w, int h) {
    char *e = g_strdup_printf("(caddr (car (gimp-image-get-parasite %d \"colorize-neural-points\")))", image);
    char *points = gui_eval(port, e);
    const char *last = strrchr(points, ';');
    double x = -1, y = -1;
    CHECK(sscanf(last ? last + 1 : points + 1, "%lf,%lf", &x, &y) == 2, "no point stored: %s", points);
    printf("  a click at the preview's centre placed a point at (%.1f, %.1f) of the %d×%d image\n", x, y, w, h);
    CHECK(fabs(x - w / 2.0) < 0.03 * w && fabs(y - h / 2.0) < 0.03 * h,
          "a click at the preview's centre did not land at the image's centre");
    g_free(e), g_free(points);
}

/* The dialog opens again at the size it was left at (1000×1150, as
 * preview_grows leaves it), and is then given back its first size
 * (first_w × first_h) and cancelled, so that the runs after this one see
 * the dialog as it first opened. */
static void size_remembered(int port, int image, int source, const char *log, int first_w, int first_h) {
    const gsize from = log_size(log);
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, image, source);
    int w = 0, h = 0;
    if (dialog) {
        g_usleep(1500000);
        CHECK(logged_dialog_size(log, from, &w, &h), "the dialog's size was not logged");
        CHECK(gui_resize(dialog, first_w, first_h), "could not resize the dialog");
        g_usleep(1000000);
        CHECK(gui_press(dialog, "Escape"), "could not press Escape");
    }
    wait_call(&c, t);
    printf("the dialog opened again at %dx%d after it was left at 1000x1150 (first %dx%d)\n", w, h, first_w, first_h);
    CHECK(w == 1000 && h == 1150, "the dialog did not open at the size it was left at (%dx%d)", w, h);
    g_free(c.expr), g_free(c.answer), g_free(dialog);
}

/* What resize_and_click_centre saw: the preview's layout before and
 * after the resize, and the dialog's size when shown. */
typedef struct {
    PreviewLayout first, grown;
    int w, h;
} Resized;

/* The dialog opened on the layer, its first layout and size read,
 * resized to to_w × to_h (or by that much each way when relative), its
 * layout read again, the preview's centre clicked and OK pressed; OK must
 * succeed. */
static void resize_and_click_centre(int port, int image, int layer, const char *log, int to_w, int to_h,
                                    gboolean relative, Resized *r) {
    const gsize from = log_size(log);
    Call c;
    GThread *t;
    char *dialog = open_dialog(&c, &t, port, image, layer);
    *r = (Resized){0};
    if (dialog) {
        g_usleep(1500000);
        CHECK(logged_preview_layout(log, from, &r->first), "the preview's layout was not logged");
        CHECK(logged_dialog_size(log, from, &r->w, &r->h), "the dialog's size was not logged");
        CHECK(gui_resize(dialog, relative ? r->w + to_w : to_w, relative ? r->h + to_h : to_h),
              "could not resize the dialog");
        g_usleep(2500000);
        logged_preview_layout(log, from, &r->grown);
        CHECK(r->grown.w > 0 && gui_click(dialog, r->grown.x + r->grown.w / 2, r->grown.y + r->grown.h / 2, 1),
              "could not click the preview's centre");
        g_usleep(1000000);
        CHECK(gui_press(dialog, "alt+o"), "could not press OK");
    }
    CHECK(wait_call(&c, t) && c.ok, "OK failed: %s", c.answer ? c.answer : "(none)");
    g_free(c.expr), g_free(c.answer), g_free(dialog);
}

/* The preview grows with the dialog, as GIMP's own filter previews do: the
 * dialog resized to 1000×1150, the picture itself (not only the area
 * around it) must grow to at least twice its area, and a click at the
 * area's centre must place a point at the image's centre. The next time
 * the dialog opens at that size (size_remembered). */
void preview_grows(int port, int image, int source, const char *log) {
    Resized r;
    resize_and_click_centre(port, image, source, log, 1000, 1150, FALSE, &r);
    const PreviewLayout before = r.first, after = r.grown;
    const int first_w = r.w, first_h = r.h;
    printf("the dialog resized to 1000×1150: the preview's picture %d×%d in an area of %d×%d, was %d×%d in %d×%d\n",
           after.pw, after.ph, after.w, after.h, before.pw, before.ph, before.w, before.h);
    CHECK((long)after.pw * after.ph >= 2L * before.pw * before.ph && before.pw > 0,
          "the preview's picture did not grow with the dialog");
    point_at_centre(port, image, PHOTO_W, PHOTO_H);
    if (first_w > 0) size_remembered(port, image, source, log, first_w, first_h);
}

/* A picture taller than wide gets its preview beside the controls, not
 * above them, where it was narrow and the dialog taller than a laptop's
 * screen: the dialog must fit a 1366×768 screen (less a panel and the
 * title bar), the preview take most of its height (above the controls it
 * cannot) from its left edge, and the picture fill the preview's height;
 * the dialog's corner dragged out, the picture grows, and a click at its
 * centre lands at the image's centre. The enlarged size stays saved for
 * side-by-side dialogs in this GIMP session (no test after this one opens
 * a tall picture). */
#define TALL_W 600
#define TALL_H 1000
#define LAPTOP_DIALOG_MAX_H 700
#define TALL_GROWTH 300
void tall_picture_beside_controls(int port, const char *photo, const char *log) {
    char *e = g_strdup_printf("(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"%s\" \"%s\")))"
                              " (layer (car (gimp-image-get-active-layer image))))"
                              " (gimp-image-scale image %d %d) (gimp-display-new image) (gimp-displays-flush)"
                              " (list image layer))", photo, photo, TALL_W, TALL_H);
    int image = 0, layer = 0;
    if (!eval_image_layer(port, e, &image, &layer)) return;
    Resized r;
    resize_and_click_centre(port, image, layer, log, TALL_GROWTH, TALL_GROWTH, TRUE, &r);
    const PreviewLayout first = r.first, grown = r.grown;
    const int w = r.w, h = r.h;
    printf("a %d×%d picture: the dialog %d×%d, the preview's area %d×%d at (%d, %d) holding a %d×%d picture; "
           "%d px wider and taller, the picture %d×%d\n", TALL_W, TALL_H, w, h, first.w, first.h, first.x, first.y, first.pw,
           first.ph, TALL_GROWTH, grown.pw, grown.ph);
    CHECK(h > 0 && h <= LAPTOP_DIALOG_MAX_H, "the dialog is %d px tall for a tall picture (at most %d)", h,
          LAPTOP_DIALOG_MAX_H);
    CHECK(first.h * 2 > h && first.x < w / 10, "the preview is not beside the controls");
    CHECK(first.ph >= first.h * 9 / 10, "the picture does not fill the preview's height (%d of %d)", first.ph, first.h);
    CHECK(grown.ph >= first.ph + TALL_GROWTH / 2, "the picture did not grow with the dialog");
    point_at_centre(port, image, TALL_W, TALL_H);
}

/* At a high working resolution the quick pass is shown at once, before
 * the full one, which waits for it: the plug-in's log (COLORIZE_VERBOSE)
 * names both, in that order. The resolution is typed into its field, as a
 * user does; Cancel then leaves the saved settings as they were. 1024, not
 * 2048: on this 2000×1250 photo with its points a 2048 pass takes over two
 * minutes in the sanitizer build on two cores. */
#define HIGH_RESOLUTION "1024"
void quick_pass_shown(int port, int image, int source, const char *log) {
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

