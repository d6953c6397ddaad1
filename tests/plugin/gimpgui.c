/* gimpgui.c — driving the real GIMP under Xvfb for the GUI tests (see
 * gimpgui.h): profile, Script-Fu server client, xdotool. */
#include "gimpgui.h"

#include <arpa/inet.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

static void install(const char *from, const char *dir) {
    gchar *bytes, *base = g_path_get_basename(from), *to = g_build_filename(dir, base, NULL);
    gsize len;
    CHECK(g_file_get_contents(from, &bytes, &len, NULL) && g_file_set_contents(to, bytes, (gssize)len, NULL),
          "cannot install %s", from);
    g_chmod(to, 0755);
    g_free(bytes), g_free(base), g_free(to);
}

GuiProfile gui_profile_new(const char *plugin, const char *model) {
    GuiProfile p;
    p.dir = g_dir_make_tmp("colorize-gui-XXXXXX", NULL);
    p.profile = g_build_filename(p.dir, "profile", NULL);
    char *plugdir = g_build_filename(p.profile, "plug-ins", "colorize-neural", NULL);
    g_mkdir_with_parents(plugdir, 0755);
    const char *data_dirs[] = {"brushes", "dynamics", "gradients", "palettes", "patterns", "tool-presets"};
    for (size_t i = 0; i < G_N_ELEMENTS(data_dirs); i++) {
        char *d = g_build_filename(p.profile, data_dirs[i], NULL);
        g_mkdir_with_parents(d, 0755);
        g_free(d);
    }
    char *gimprc = g_build_filename(p.profile, "gimprc", NULL);
    CHECK(g_file_set_contents(gimprc, "(show-tips no)\n(restore-session no)\n", -1, NULL), "cannot write gimprc");
    install(plugin, plugdir);
    install(model, plugdir);
    g_free(plugdir), g_free(gimprc);
    return p;
}

void gui_profile_install(GuiProfile *p, const char *file, const char *subdir) {
    char *dir = g_build_filename(p->profile, "plug-ins", "colorize-neural", subdir, NULL);
    g_mkdir_with_parents(dir, 0755);
    install(file, dir);
    g_free(dir);
}

void gui_profile_free(GuiProfile *p) {
    char *rm = g_strdup_printf("rm -rf '%s'", p->dir);
    CHECK(system(rm) == 0, "cleanup of %s", p->dir);
    g_free(rm), g_free(p->dir), g_free(p->profile);
}

gboolean gui_run_quiet(char **argv, char **out) {
    gint status = -1;
    gboolean ok = g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, out,
                               NULL, &status, NULL);
    return ok && status == 0;
}

int gui_free_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0), port = 0;
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(s, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (s >= 0) close(s);
    return port;
}

gboolean gui_rerun_in_xvfb(const char *argv0, char **args) {
    char *self = g_canonicalize_filename(argv0, NULL);
    GPtrArray *cmd = g_ptr_array_new();
    const char *head[] = {"xvfb-run", "-a", "-s", "-screen 0 1280x1024x24"};
    for (size_t i = 0; i < G_N_ELEMENTS(head); i++) g_ptr_array_add(cmd, (char *)head[i]);
    g_ptr_array_add(cmd, self);
    for (char **a = args; *a; a++) g_ptr_array_add(cmd, *a);
    g_ptr_array_add(cmd, NULL);
    gint status = -1;
    gchar *out = NULL, *err = NULL;
    GError *error = NULL;
    gboolean spawned = g_spawn_sync(NULL, (char **)cmd->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                                    &status, &error);
    printf("%s", out ? out : "");
    fprintf(stderr, "%s", err ? err : "");
    CHECK(spawned && status == 0, "the test inside Xvfb failed (status %d) %s", status, error ? error->message : "");
    g_clear_error(&error);
    g_free(out), g_free(err), g_free(self);
    g_ptr_array_free(cmd, TRUE);
    return spawned && status == 0;
}

static gboolean read_all(int fd, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, (char *)buf + got, n - got);
        if (k <= 0) return FALSE;
        got += (size_t)k;
    }
    return TRUE;
}

/* The Script-Fu server's protocol: 'G', 16-bit length, text; the answer:
 * 'G', error flag, 16-bit length, text. */
char *gui_script_fu(int port, const char *expr, gboolean *ok) {
    *ok = FALSE;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        if (s >= 0) close(s);
        return NULL;
    }
    size_t n = strlen(expr);
    unsigned char head[3] = {'G', (unsigned char)(n >> 8), (unsigned char)(n & 255)}, reply[4];
    char *text = NULL;
    if (n < 65536 && write(s, head, 3) == 3 && write(s, expr, n) == (ssize_t)n && read_all(s, reply, 4) &&
        reply[0] == 'G') {
        size_t len = (size_t)reply[2] << 8 | reply[3];
        text = g_malloc0(len + 1);
        if (read_all(s, text, len)) *ok = reply[1] == 0;
        else g_clear_pointer(&text, g_free);
    }
    close(s);
    return text;
}

char *gui_eval(int port, const char *expr) {
    gboolean ok;
    char *r = gui_script_fu(port, expr, &ok);
    CHECK(r && ok, "Script-Fu %s -> %s", expr, r ? r : "(no answer)");
    printf("%-70.70s -> %s\n", expr, r ? r : "(no answer)");
    return r ? r : g_strdup("");
}

gboolean gui_gimp_start(GuiGimp *g, const char *profile, const char *dir, int port) {
    g->port = port;
    g->log = g_build_filename(dir, "gimp.log", NULL);
    char *server = g_strdup_printf("(plug-in-script-fu-server RUN-NONINTERACTIVE \"127.0.0.1\" %d \"\")", port);
    char *gimp = g_strdup_printf("GIMP2_DIRECTORY='%s' exec gimp-2.10 -n -d -f -s -b '%s' >'%s' 2>&1", profile, server,
                                 g->log);
    char *sh[] = {"sh", "-c", gimp, NULL};
    gboolean started = g_spawn_async(NULL, sh, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                     &g->pid, NULL);
    CHECK(started, "cannot start gimp");
    char *version = NULL;
    for (int i = 0; started && i < 1200 && !version; i++) { /* a first start in a new profile: up to 2 min */
        gboolean ok;
        version = gui_script_fu(port, "(car (gimp-version))", &ok);
        if (!version) g_usleep(100000);
    }
    CHECK(version != NULL, "the Script-Fu server did not answer (see %s)", g->log);
    if (version) printf("GIMP %s, Script-Fu server on port %d\n", version, port);
    g_free(server), g_free(gimp), g_free(version);
    return version != NULL;
}

void gui_gimp_stop(GuiGimp *g) {
    gboolean ok;
    g_free(gui_script_fu(g->port, "(gimp-quit TRUE)", &ok));
    int status = 0;
    for (int i = 0; i < 100 && waitpid(g->pid, &status, WNOHANG) == 0; i++) g_usleep(100000);
    kill(g->pid, SIGKILL);
    waitpid(g->pid, &status, WNOHANG);
    g_clear_pointer(&g->log, g_free);
}

char *gui_find_window(const char *name_regex, double seconds) {
    char *out = NULL, *window = NULL;
    char *search[] = {"xdotool", "search", "--onlyvisible", "--name", (char *)name_regex, NULL};
    for (int i = 0; i < seconds * 10 && !window; i++) {
        if (gui_run_quiet(search, &out) && out && *out) window = g_strndup(out, strcspn(out, "\n"));
        g_clear_pointer(&out, g_free);
        if (!window) g_usleep(100000);
    }
    return window;
}

gboolean gui_press(const char *window, const char *keys) {
    char *focus[] = {"xdotool", "windowactivate", "--sync", (char *)window, NULL};
    char *focus2[] = {"xdotool", "windowfocus", "--sync", (char *)window, NULL};
    char *key[] = {"xdotool", "key", "--clearmodifiers", (char *)keys, NULL};
    gboolean focused = gui_run_quiet(focus, NULL) || gui_run_quiet(focus2, NULL);
    return focused && gui_run_quiet(key, NULL);
}

gboolean gui_drag(const char *window, int x0, int y0, int x1, int y1) {
    return gui_drag_steps(window, x0, y0, x1, y1, GUI_DRAG_STEPS, 30);
}

gboolean gui_drag_hold(const char *window, int x0, int y0, int x1, int y1, int steps, int step_ms) {
    char xs[2][16], ys[2][16];
    snprintf(xs[0], sizeof xs[0], "%d", x0), snprintf(ys[0], sizeof ys[0], "%d", y0);
    snprintf(xs[1], sizeof xs[1], "%d", x1), snprintf(ys[1], sizeof ys[1], "%d", y1);
    char *start[] = {"xdotool", "mousemove", "--sync", "--window", (char *)window, xs[0], ys[0], "mousedown", "1", NULL};
    gboolean ok = gui_run_quiet(start, NULL);
    for (int i = 1; ok && i <= steps; i++) { /* a hand's path: motion events all the way */
        char x[16], y[16];
        snprintf(x, sizeof x, "%d", x0 + (x1 - x0) * i / steps);
        snprintf(y, sizeof y, "%d", y0 + (y1 - y0) * i / steps);
        char *move[] = {"xdotool", "mousemove", "--window", (char *)window, x, y, NULL};
        ok = gui_run_quiet(move, NULL);
        g_usleep((gulong)step_ms * 1000);
    }
    return ok;
}

gboolean gui_key_held(const char *window, const char *keys) {
    char *key[] = {"xdotool", "windowfocus", "--sync", (char *)window, "key", (char *)keys, NULL};
    return gui_run_quiet(key, NULL);
}

gboolean gui_release(void) {
    char *end[] = {"xdotool", "mouseup", "1", NULL};
    return gui_run_quiet(end, NULL);
}

gboolean gui_drag_steps(const char *window, int x0, int y0, int x1, int y1, int steps, int step_ms) {
    const gboolean ok = gui_drag_hold(window, x0, y0, x1, y1, steps, step_ms);
    return gui_release() && ok;
}

gboolean gui_resize(const char *window, int w, int h) {
    char ws[16], hs[16];
    snprintf(ws, sizeof ws, "%d", w), snprintf(hs, sizeof hs, "%d", h);
    char *size[] = {"xdotool", "windowsize", "--sync", (char *)window, ws, hs, NULL};
    return gui_run_quiet(size, NULL);
}

gboolean gui_click(const char *window, int x, int y, int button) {
    char xs[16], ys[16], bs[8];
    snprintf(xs, sizeof xs, "%d", x), snprintf(ys, sizeof ys, "%d", y), snprintf(bs, sizeof bs, "%d", button);
    char *move[] = {"xdotool", "mousemove", "--sync", "--window", (char *)window, xs, ys, NULL};
    char *click[] = {"xdotool", "click", bs, NULL};
    return gui_run_quiet(move, NULL) && gui_run_quiet(click, NULL);
}
