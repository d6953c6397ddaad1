/* test_undo.c — "one Undo restores the image": GIMP 2.10's PDB has no undo
 * procedure, so this test drives a real GIMP under Xvfb. It starts gimp
 * with the Script-Fu server, loads a grayscale image into a display,
 * records it, runs plug-in-nn-colorize, presses Ctrl+Z once in the image
 * window (xdotool), and checks that the image is grayscale again with
 * exactly its old layer and bitwise the same pixels; then Ctrl+Y (redo)
 * brings the colorized result back, so the colorization was one step.
 * Usage: test_undo PLUGIN MODEL (re-runs itself under xvfb-run). */
#include <arpa/inet.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

static int g_port;

static gboolean read_all(int fd, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, (char *)buf + got, n - got);
        if (k <= 0) return FALSE;
        got += (size_t)k;
    }
    return TRUE;
}

/* Evaluates one Script-Fu expression in the running GIMP through the
 * Script-Fu server's protocol ('G', 16-bit length, text; the answer: 'G',
 * error flag, 16-bit length, text). Returns the answer (g_free it) or NULL
 * when the server cannot be reached; *ok is the server's success flag. */
static char *script_fu(const char *expr, gboolean *ok) {
    *ok = FALSE;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g_port)};
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

/* Evaluates expr and checks that the server answered without error. */
static char *eval(const char *expr) {
    gboolean ok;
    char *r = script_fu(expr, &ok);
    CHECK(r && ok, "Script-Fu %s -> %s", expr, r ? r : "(no answer)");
    printf("%-70.70s -> %s\n", expr, r ? r : "(no answer)");
    return r ? r : g_strdup("");
}

static gboolean run_quiet(char **argv, char **out) {
    gint status = -1;
    gboolean ok = g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, out,
                               NULL, &status, NULL);
    return ok && status == 0;
}

/* The image's state: "(base-type (n-layers #(ids)))". */
static char *state(int image) {
    char *e = g_strdup_printf("(list (car (gimp-image-base-type %d)) (gimp-image-get-layers %d))", image, image);
    char *r = eval(e);
    g_free(e);
    return r;
}

/* Presses keys in the image window, then waits for the state to change. */
static char *press(const char *keys, const char *window, int image, const char *old) {
    char *focus[] = {"xdotool", "windowfocus", "--sync", (char *)window, NULL};
    char *key[] = {"xdotool", "key", "--clearmodifiers", (char *)keys, NULL};
    CHECK(run_quiet(focus, NULL) && run_quiet(key, NULL), "xdotool could not press %s in window %s", keys, window);
    char *now = NULL;
    for (int i = 0; i < 100; i++) { /* up to 10 s */
        g_free(now);
        now = state(image);
        if (strcmp(now, old) != 0) break;
        g_usleep(100000);
    }
    return now;
}

static GdkPixbuf *load(const char *path) {
    GdkPixbuf *pb = gdk_pixbuf_new_from_file(path, NULL);
    CHECK(pb != NULL, "cannot read %s", path);
    return pb;
}

static gboolean same_pixels(GdkPixbuf *a, GdkPixbuf *b) {
    if (!a || !b) return FALSE;
    int w = gdk_pixbuf_get_width(a), h = gdk_pixbuf_get_height(a), n = gdk_pixbuf_get_n_channels(a);
    if (w != gdk_pixbuf_get_width(b) || h != gdk_pixbuf_get_height(b) || n != gdk_pixbuf_get_n_channels(b)) return FALSE;
    for (int y = 0; y < h; y++)
        if (memcmp(gdk_pixbuf_read_pixels(a) + y * gdk_pixbuf_get_rowstride(a),
                   gdk_pixbuf_read_pixels(b) + y * gdk_pixbuf_get_rowstride(b), (size_t)w * n) != 0)
            return FALSE;
    return TRUE;
}

/* Inside Xvfb: GIMP, the plug-in, one Ctrl+Z. */
static int inside(const char *profile, const char *dir) {
    char *log = g_build_filename(dir, "gimp.log", NULL);
    char *server = g_strdup_printf("(plug-in-script-fu-server RUN-NONINTERACTIVE \"127.0.0.1\" %d \"\")", g_port);
    char *gimp = g_strdup_printf("GIMP2_DIRECTORY='%s' exec gimp-2.10 -n -d -f -s -b '%s' >'%s' 2>&1", profile, server, log);
    char *sh[] = {"sh", "-c", gimp, NULL};
    GPid pid;
    CHECK(g_spawn_async(NULL, sh, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, NULL),
          "cannot start gimp");
    char *version = NULL;
    for (int i = 0; i < 1200 && !version; i++) { /* GIMP's first start in a new profile: up to 2 min */
        gboolean ok;
        version = script_fu("(car (gimp-version))", &ok);
        if (!version) g_usleep(100000);
    }
    CHECK(version != NULL, "the Script-Fu server did not answer (see %s)", log);
    if (!version) {
        kill(pid, SIGTERM);
        return test_finish("test_undo (inside Xvfb)");
    }
    printf("GIMP %s, Script-Fu server on port %d\n", version, g_port);

    char *image_path = g_build_filename(dir, "undo-test.png", NULL);
    char *before_path = g_build_filename(dir, "before.png", NULL), *after_path = g_build_filename(dir, "after.png", NULL);
    char *e = g_strdup_printf("(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"%s\" \"%s\")))"
                              " (layer (car (gimp-image-get-active-layer image))))"
                              " (gimp-display-new image) (gimp-displays-flush) (list image layer))",
                              image_path, image_path);
    char *ids = eval(e);
    int image = 0, layer = 0;
    CHECK(sscanf(ids, "(%d %d)", &image, &layer) == 2, "no image and layer in %s", ids);
    g_free(e);
    char *save = g_strdup_printf("(gimp-file-save RUN-NONINTERACTIVE %d %d \"%s\" \"%s\")", image, layer, before_path,
                                 before_path);
    g_free(eval(save));
    g_free(save);
    char *before = state(image);
    CHECK(g_str_has_prefix(before, "(1 (1 "), "the test image is not a one-layer grayscale image: %s", before);

    e = g_strdup_printf("(plug-in-nn-colorize RUN-NONINTERACTIVE %d %d \"\" 0.5 1.0 64 -1)", image, layer);
    char *made = eval(e);
    g_free(e);
    int colorized = 0;
    CHECK(sscanf(made, "(%d)", &colorized) == 1 && colorized > 0, "no new layer: %s", made);
    g_free(eval("(gimp-displays-flush)"));
    char *after_run = state(image);
    char *want_run = g_strdup_printf("(0 (2 #(%d %d)))", colorized, layer);
    CHECK(strcmp(after_run, want_run) == 0, "after the plug-in: %s, expected %s (RGB, the new layer above)", after_run,
          want_run);

    char *out = NULL, *window = NULL;
    char *search[] = {"xdotool", "search", "--onlyvisible", "--name", "undo-test", NULL};
    for (int i = 0; i < 50 && !window; i++) {
        if (run_quiet(search, &out) && out && *out) window = g_strndup(out, strcspn(out, "\n"));
        g_clear_pointer(&out, g_free);
        if (!window) g_usleep(100000);
    }
    CHECK(window != NULL, "no image window titled undo-test");
    if (window) {
        printf("image window %s: one Ctrl+Z\n", window);
        char *undone = press("ctrl+z", window, image, after_run);
        CHECK(strcmp(undone, before) == 0, "after one Undo: %s, expected the old image %s", undone, before);
        save = g_strdup_printf("(gimp-file-save RUN-NONINTERACTIVE %d %d \"%s\" \"%s\")", image, layer, after_path,
                               after_path);
        g_free(eval(save));
        g_free(save);
        GdkPixbuf *a = load(before_path), *b = load(after_path);
        CHECK(same_pixels(a, b), "the layer's pixels differ after Undo");
        printf("pixels after Undo: %s\n", same_pixels(a, b) ? "bitwise equal to before" : "DIFFERENT");
        if (a) g_object_unref(a);
        if (b) g_object_unref(b);
        printf("Ctrl+Y (redo)\n");
        char *redone = press("ctrl+y", window, image, undone);
        CHECK(strcmp(redone, want_run) == 0, "after Redo: %s, expected %s", redone, want_run);
        g_free(undone), g_free(redone);
    }
    gboolean ok;
    g_free(script_fu("(gimp-quit TRUE)", &ok));
    int status = 0;
    for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; i++) g_usleep(100000);
    kill(pid, SIGKILL);
    g_free(log), g_free(server), g_free(gimp), g_free(version), g_free(image_path), g_free(before_path);
    g_free(after_path), g_free(ids), g_free(before), g_free(made), g_free(after_run), g_free(want_run), g_free(window);
    return test_finish("test_undo (inside Xvfb)");
}

/* A free TCP port on the loopback interface. */
static int free_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0), port = 0;
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(s, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (s >= 0) close(s);
    return port;
}

static void install(const char *from, const char *dir) {
    gchar *bytes, *base = g_path_get_basename(from), *to = g_build_filename(dir, base, NULL);
    gsize len;
    CHECK(g_file_get_contents(from, &bytes, &len, NULL) && g_file_set_contents(to, bytes, (gssize)len, NULL),
          "cannot install %s", from);
    g_chmod(to, 0755);
    g_free(bytes), g_free(base), g_free(to);
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "--inside") == 0) {
        g_port = atoi(argv[4]);
        return inside(argv[2], argv[3]);
    }
    if (argc < 3) {
        fprintf(stderr, "usage: test_undo PLUGIN MODEL\n");
        return 1;
    }
    char *dir = g_dir_make_tmp("colorize-undo-XXXXXX", NULL);
    char *profile = g_build_filename(dir, "profile", NULL), *plugdir = g_build_filename(profile, "plug-ins", "colorize-neural", NULL);
    g_mkdir_with_parents(plugdir, 0755);
    const char *data_dirs[] = {"brushes", "dynamics", "gradients", "palettes", "patterns", "tool-presets"};
    for (size_t i = 0; i < G_N_ELEMENTS(data_dirs); i++) {
        char *p = g_build_filename(profile, data_dirs[i], NULL);
        g_mkdir_with_parents(p, 0755);
        g_free(p);
    }
    char *gimprc = g_build_filename(profile, "gimprc", NULL);
    CHECK(g_file_set_contents(gimprc, "(show-tips no)\n(restore-session no)\n", -1, NULL), "cannot write gimprc");
    install(argv[1], plugdir);
    install(argv[2], plugdir);

    /* a grayscale photo-like test image: gradient sky, hill, texture */
    const int w = 96, h = 64;
    GdkPixbuf *pb = gdk_pixbuf_new(GDK_COLORSPACE_RGB, FALSE, 8, w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double v = y < 24 ? 210 - 2 * y : 80 + 30 * sin(x * 0.2) * cos(y * 0.3);
            guchar *p = gdk_pixbuf_get_pixels(pb) + y * gdk_pixbuf_get_rowstride(pb) + 3 * x;
            p[0] = p[1] = p[2] = (guchar)CLAMP(lround(v), 0, 255);
        }
    char *png = g_build_filename(dir, "undo-test-rgb.png", NULL), *gray = g_build_filename(dir, "undo-test.png", NULL);
    CHECK(gdk_pixbuf_save(pb, png, "png", NULL, NULL), "cannot write %s", png);
    g_object_unref(pb);
    /* GIMP loads an RGB PNG as RGB: make it grayscale with gimp-console first */
    char *convert = g_strdup_printf("(let* ((image (car (gimp-file-load RUN-NONINTERACTIVE \"%s\" \"%s\")))"
                                    " (layer (car (gimp-image-get-active-layer image))))"
                                    " (gimp-image-convert-grayscale image)"
                                    " (gimp-file-save RUN-NONINTERACTIVE image layer \"%s\" \"%s\"))",
                                    png, png, gray, gray);
    char *env_profile = g_strdup_printf("GIMP2_DIRECTORY=%s", profile);
    char *console[] = {"env", env_profile, "gimp-console-2.10", "-i", "-d", "-f", "-b", convert, "-b", "(gimp-quit 0)", NULL};
    CHECK(run_quiet(console, NULL) && g_file_test(gray, G_FILE_TEST_EXISTS), "gimp-console could not write %s", gray);

    char *port = g_strdup_printf("%d", free_port());
    char *self = g_canonicalize_filename(argv[0], NULL);
    char *cmd[] = {"xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", self, "--inside", profile, dir, port, NULL};
    gint status = -1;
    gchar *out = NULL, *err = NULL;
    GError *error = NULL;
    gboolean spawned = g_spawn_sync(NULL, cmd, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error);
    printf("%s", out ? out : "");
    fprintf(stderr, "%s", err ? err : "");
    CHECK(spawned && status == 0, "the test inside Xvfb failed (status %d) %s", status, error ? error->message : "");
    char *rm = g_strdup_printf("rm -rf '%s'", dir);
    CHECK(system(rm) == 0, "cleanup");
    g_free(rm), g_free(dir), g_free(profile), g_free(plugdir), g_free(gimprc), g_free(png), g_free(gray);
    g_free(convert), g_free(env_profile), g_free(port), g_free(self), g_free(out), g_free(err);
    g_clear_error(&error);
    return test_finish("test_undo");
}
