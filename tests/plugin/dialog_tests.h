/* dialog_tests.h — what the dialog test's files share: the photo and hint
 * disc it opens, the colours it gives points, an interactive call of the
 * plug-in run from a thread, Script-Fu answers and GIMP's log
 * (dialog_calls.c); and each file's checks, which test_dialog.c's inside()
 * runs in order. */
#ifndef DIALOG_TESTS_H
#define DIALOG_TESTS_H

#include <glib.h>

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

/* dialog_calls.c: the interactive call, Script-Fu answers, GIMP's log. */
char *open_dialog(Call *c, GThread **t, int port, int image, int source);
gboolean wait_call(Call *c, GThread *t);
int eval_int(int port, const char *expr);
/* Evaluates expr (freed here), whose answer is "(image layer)"; FALSE
 * (and a failed check) when it is not. */
gboolean eval_image_layer(int port, char *expr, int *image, int *layer);
int redness(int port, int layer, int x, int y);
gsize log_size(const char *log);
char *log_wait_for(const char *log, gsize from, const char *what, double seconds);

/* test_dialog_points.c: point hints placed, coloured, dragged, removed,
 * kept through undo, and the region one click colours. */
void point_hint_by_click(int port, int image, int source, const char *log);
void click_colours_region(int port, const char *log, const char *reach);
void drag_past_edges(int port);
void drag_updates_preview(int port, const char *log);
void new_point_takes_network_colour(int port, int image, int source, const char *log);
void click_past_point_limit(int port, const char *log);
void remove_all_points(int port, int image, int source, const char *log);
int stored_point_count(int port, int image);
void points_survive_undo(int port);

/* test_dialog_preview.c: the colour reference (an open image, a file), OK
 * reusing the preview's pass, the quick pass first, the preview growing,
 * and beside the controls for a tall picture. */
int warmth(int port, int layer, int w, int h);
void layer_difference(int port, int a, int b, int w, int h, double *mean, int *most);
int reference_picked(int port, int image, int source, const char *log);
void reference_file_picked(int port, int image, int source, const char *log, const char *dir, int without);
void palette_file_picked(int port, int image, int source, const char *log, const char *dir, int without);
void ok_reuses_preview(int port, int image, int source, const char *log);
void preview_grows(int port, int image, int source, const char *log);
void tall_picture_beside_controls(int port, const char *photo, const char *log);
void quick_pass_shown(int port, int image, int source, const char *log);

#endif
