/* gimpgui.h — helpers for the tests that drive the real GIMP 2.10 under
 * Xvfb, the way a user does: a throw-away GIMP profile with the built
 * plug-in installed, GIMP started with the Script-Fu server (to set up
 * images and inspect them), and xdotool to find windows and press keys or
 * click (gimpgui.c). Used by test_undo and test_dialog. */
#ifndef GIMPGUI_H
#define GIMPGUI_H

#include <glib.h>

typedef struct {
    char *dir;     /* temporary folder, removed by gui_profile_free */
    char *profile; /* GIMP2_DIRECTORY */
} GuiProfile;

/* A fresh profile in a temporary folder with the plug-in and the model
 * installed into plug-ins/colorize-neural/. */
GuiProfile gui_profile_new(const char *plugin, const char *model);
void gui_profile_free(GuiProfile *p);
/* Installs one more file into the plug-in's folder (subdir may be ""). */
void gui_profile_install(GuiProfile *p, const char *file, const char *subdir);

/* Runs argv (searching PATH), stderr discarded; TRUE when it exited 0. */
gboolean gui_run_quiet(char **argv, char **out);
/* A free TCP port on the loopback interface. */
int gui_free_port(void);
/* Re-runs this test program under xvfb-run with extra arguments; prints its
 * output; TRUE when it passed. */
gboolean gui_rerun_in_xvfb(const char *argv0, char **args);

typedef struct {
    GPid pid;
    int port;
    char *log; /* GIMP's stdout and stderr */
} GuiGimp;

/* Starts gimp-2.10 with the Script-Fu server on `port` in the profile,
 * its output into DIR/gimp.log, and waits until the server answers.
 * FALSE (and a failed check) when it never does. */
gboolean gui_gimp_start(GuiGimp *g, const char *profile, const char *dir, int port);
/* Quits GIMP (or kills it) and frees the log path. */
void gui_gimp_stop(GuiGimp *g);

/* Evaluates one Script-Fu expression through the server; returns the
 * answer (g_free it) or NULL when unreachable; *ok is the success flag. */
char *gui_script_fu(int port, const char *expr, gboolean *ok);
/* The same, checked: a failed check when the server reports an error.
 * Never NULL. */
char *gui_eval(int port, const char *expr);

/* The first visible window whose name matches the regular expression,
 * waiting up to `seconds`; NULL when none appeared. */
char *gui_find_window(const char *name_regex, double seconds);
/* Focuses the window and presses keys (xdotool syntax, e.g. "alt+o"). */
gboolean gui_press(const char *window, const char *keys);
/* Clicks mouse button `button` at (x, y) relative to the window. */
gboolean gui_click(const char *window, int x, int y, int button);
/* Resizes the window to w × h. */
gboolean gui_resize(const char *window, int w, int h);
/* Presses the left button at (x0, y0) relative to the window, moves in
 * GUI_DRAG_STEPS steps to (x1, y1) (which may lie outside it) and releases. */
#define GUI_DRAG_STEPS 10
gboolean gui_drag(const char *window, int x0, int y0, int x1, int y1);
/* The same in `steps` steps, `step_ms` apart (a slow hand). */
gboolean gui_drag_steps(const char *window, int x0, int y0, int x1, int y1, int steps, int step_ms);
/* The same without the release: the button stays down (gui_release). */
gboolean gui_drag_hold(const char *window, int x0, int y0, int x1, int y1, int steps, int step_ms);
/* Focuses the window and presses keys as they are, the mouse button held
 * (gui_press clears the button with the modifiers). */
gboolean gui_key_held(const char *window, const char *keys);
/* Releases the left button. */
gboolean gui_release(void);

#endif
