/* trainer.h — internal interfaces of colorize-train: the CIFAR-10 reader,
 * the Lab data pipeline (bins, rebalancing, simulated hints, batches), the
 * evaluation metrics, the cairo plots and the three subcommands.
 * Implemented by cifar.c, data.c, metrics.c, plot.c, dist.c (MPI),
 * options.c, folders.c, images.c, photos.c, photohints.c, reference.c,
 * colorize.c, eval.c, train.c and checkpoint.c. */
#ifndef TRAINER_H
#define TRAINER_H

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib.h>
#include <stdint.h>
#include <stdio.h>

#include "keys.h"
#include "nn.h"

#define CIFAR_SIDE 32
#define CIFAR_PIXELS 1024
#define CIFAR_RECORD 3073
#define CIFAR_RECORDS_PER_FILE 10000
#define CIFAR_CLASSES 10
/* The last CIFAR_VALIDATION_IMAGES training images are held out for
 * validation (train --val, eval --split validation). */
#define CIFAR_VALIDATION_IMAGES 5000

GQuark trainer_error_quark(void);
#define TRAINER_ERROR trainer_error_quark()
/* The error code of a rank that stops because rank 0 failed (rank 0 says why). */
#define TRAINER_FOLLOWED_ROOT 2

/* ------------------------------------------------------------ CIFAR-10 */

typedef struct {
    int n;
    uint8_t *labels; /* (n) */
    uint8_t *rgb;    /* (n, 32, 32, 3) interleaved */
} cifar_set;

/* Reads and validates CIFAR-10 binary batch files from dir: each must hold
 * exactly 10,000 records of 3,073 bytes with labels 0-9. */
gboolean cifar_load(cifar_set *set, const char *dir, const char *const *files, int nfiles,
                    GError **error);
gboolean cifar_load_train(cifar_set *set, const char *dir, GError **error);
gboolean cifar_load_test(cifar_set *set, const char *dir, GError **error);
void cifar_free(cifar_set *set);
extern const char *const CIFAR_CLASS_NAMES[CIFAR_CLASSES];

/* ------------------------------------------------------------ Lab data */

typedef struct {
    int n;
    const uint8_t *labels;
    const uint8_t *rgb; /* (n, 32, 32, 3) */
    float *L;           /* (n, 1024) */
    float *ab;          /* (n, 2, 1024) */
} lab_set;

/* Converts images [first, first + n) of a CIFAR set to Lab. */
gboolean lab_set_init(lab_set *s, const cifar_set *c, int first, int n, GError **error);
void lab_set_free(lab_set *s);

/* The quantized ab targets: the library's bins, with the cell -> bin map
 * (freed with nn_ab_bins_free). */
typedef nn_ab_bins ab_bins;

/* Counts the cells occurring in s and derives the rebalancing weights:
 * w ∝ 1 / ((1 - λ) p + λ / Q), normalized so that E_p[w] = 1. */
gboolean ab_bins_from_data(ab_bins *b, const lab_set *s, float lambda, GError **error);
/* Rebuilds the bins from a weights file's metadata. */
gboolean ab_bins_from_weights(ab_bins *b, const nn_weights *w, const char *name, GError **error);
/* Whether two sets of bins are the same cells of the same grid. */
gboolean ab_bins_same(const ab_bins *a, const ab_bins *b);
/* The model's architecture from a weights file, checked against its
 * tensors and against what this program feeds it (NN_INPUT_CHANNELS);
 * the error names path and the field. */
gboolean model_config_load(const nn_weights *w, const char *path, nn_unet_config *cfg, GError **error);

/* Hint simulation (Zhang et al. 2017): count < 0 draws the training
 * distribution (no hints with probability 1/2, else a geometric number with
 * p = 1/8); each hint is a square patch of side 1-3 at a uniform place,
 * carrying the patch's mean ab, or with probability stroke_share a brush
 * stroke (see simulate_stroke in data.c). */
void simulate_hints(const float *ab, // (2, 1024)
                    int count, float stroke_share, nn_rng *rng,
                    float *hint_ab,   // (2, 1024)
                    float *hint_mask); // (1024)

/* Epochs a new training runs without --epochs. */
#define TRAIN_DEFAULT_EPOCHS 8

/* The training augmentation's defaults: the share of samples shown as a
 * zoomed crop, the largest zoom, and the share of hints drawn as strokes. */
#define TRAIN_ZOOM_SHARE 0.35
#define TRAIN_MAX_ZOOM 4.0
#define TRAIN_STROKE_SHARE 0.3

/* Assembles a batch: optional augmentation (horizontal flip, and either a
 * shift of up to 2 px with edge replication or, in a share zoom_share of
 * the samples, a random crop enlarged bilinearly back to 32x32 at a
 * log-uniform zoom of 1 to max_zoom), simulated hints, the encoded network
 * input and the bin targets. Lab planes of the augmented images go to L/ab
 * when not NULL. */
typedef struct {
    int augment;
    int hints;          /* -1: training distribution, else this many */
    float zoom_share;   /* with augment: share of samples zoomed */
    float max_zoom;     /* with augment: the largest zoom (>= 1) */
    float stroke_share; /* share of hints drawn as strokes */
} batch_options;

void make_batch(const lab_set *s, const ab_bins *bins, const int *index, int nb, nn_rng *rng,
                batch_options opt,
                float *input,     // (nb, 4, 32, 32)
                int32_t *targets, // (nb, 1024) or NULL
                float *L,         // (nb, 1024) or NULL
                float *ab);       // (nb, 2, 1024) or NULL

/* A 64-bit seed derived from a base seed and up to two counters. */
uint64_t derive_seed(uint64_t seed, uint64_t a, uint64_t b);

/* The gray images with their hints marked, for sample grids: each hinted
 * pixel in its hint colour, the gray pixels around a hint drawn dark. */
void hints_to_rgb8(uint8_t *rgb,      // (n, 32, 32, 3)
                   const float *L,    // (n, 1024)
                   const float *in,   // (n, 4, 32, 32) the encoded network input
                   int n);

/* Recombines L with predicted ab into 8-bit sRGB. */
void lab_planes_to_rgb8(uint8_t *rgb, // (n, 32, 32, 3)
                        const float *L, const float *ab, int n);

/* --------------------------------------------------------------- metrics */

#define AUC_THRESHOLDS 151

typedef struct {
    double sse;       /* sum of squared 8-bit RGB errors */
    double psnr_sum;  /* per-image PSNR (capped at 100 dB) */
    double ssim_sum;
    double colorfulness_sum, colorfulness_gt_sum;
    uint64_t auc_hist[AUC_THRESHOLDS + 1]; /* ceil(ab error), clipped */
    uint64_t acc2, acc5, pixels;
    uint64_t images;
} metrics_acc;

typedef struct {
    double psnr, psnr_mean, ssim, auc, acc2, acc5, colorfulness, colorfulness_gt;
    uint64_t images;
} metrics_result;

void metrics_init(metrics_acc *m);
/* Adds one image pair (8-bit interleaved RGB, w×h). */
void metrics_add(metrics_acc *m, const uint8_t *pred, const uint8_t *gt, int w, int h);
void metrics_merge(metrics_acc *into, const metrics_acc *from);
metrics_result metrics_finish(const metrics_acc *m);

/* The single-image metrics, as skimage computes them. */
double image_psnr(const uint8_t *a, const uint8_t *b, int w, int h);
double image_ssim(const uint8_t *a, const uint8_t *b, int w, int h);
double image_colorfulness(const uint8_t *rgb, int w, int h);

/* Wrong hue (the real-photo benchmark): the share of truly colourful
 * pixels (chroma >= WRONG_HUE_TRUE_CHROMA) whose output has chroma >=
 * WRONG_HUE_OUTPUT_CHROMA and a hue more than WRONG_HUE_DEGREES away; NAN
 * when no pixel is colourful. */
#define WRONG_HUE_TRUE_CHROMA 20.0
#define WRONG_HUE_OUTPUT_CHROMA 10.0
#define WRONG_HUE_DEGREES 90.0
double image_wrong_hue(const uint8_t *out, const uint8_t *truth, size_t n);
/* The mean CIE chroma of 8-bit RGB pixels. */
double image_mean_chroma(const uint8_t *rgb, size_t n);
/* The mean |L*(a) - L*(b)|. */
double image_mean_abs_dL(const uint8_t *a, const uint8_t *b, size_t n);

/* ------------------------------------------------------------------ plots */

/* A series of (x, y) points, drawn as a line, a thin line or dots. */
typedef enum { PLOT_LINE, PLOT_THIN, PLOT_DOTS } plot_style;
typedef struct {
    const char *label;
    const double *x, *y;
    int n;
    plot_style style;
} plot_series;

/* One panel of a chart: its y label and series. */
typedef struct {
    const char *ylabel;
    const plot_series *series;
    int nseries;
} plot_panel;

/* Draws panels stacked over one shared x axis into a PNG, each with a
 * legend sized to its labels; with whole_x the x ticks are whole numbers
 * (epochs). */
gboolean plot_panels(const char *path, const char *title, const char *xlabel, const plot_panel *panels, int npanels,
                     gboolean whole_x, GError **error);

/* Writes a grid of 32×32 RGB tiles (rows × cols, row-major), each scaled
 * by `scale`, with a label at the left of each row. */
gboolean plot_tile_grid(const char *path, const uint8_t *const *tiles, int rows, int cols,
                        const char *const *row_labels, int scale, GError **error);

/* ----------------------------------------------------------------- MPI */

/* Data-parallel training (dist.c). Started by mpirun, a run has
 * dist_size() ranks; otherwise, or built without MPI, one. */
gboolean dist_init(int *argc, char ***argv, GError **error);
int dist_launch_size(void); /* ranks mpirun started, from the environment (1 without it) */
void dist_finalize(void);
void dist_abort(int code); /* ends every rank of the job (a rank failed alone) */
int dist_rank(void);
int dist_size(void);
int dist_local_size(void); /* ranks on this machine */
/* In place, on every rank: the sum over ranks (one MPI_Allreduce). */
void dist_sum_floats(float *x, size_t n);
void dist_sum_doubles(double *x, int n);
/* In place: rank 0's values on every rank. */
void dist_broadcast_floats(float *x, size_t n);
/* Collective: TRUE when ok on every rank / on rank 0. */
gboolean dist_all_ok(gboolean ok);
gboolean dist_root_ok(gboolean ok);
/* The MPI library's name and version, or NULL when built without MPI. */
const char *dist_library(void);

/* ------------------------------------------------------------- commands */

/* options.c: a number outside its range prints "colorize-train COMMAND:
 * OPTION VALUE is outside LO..HI" and returns FALSE (NaN and Inf are never
 * inside); an output that cannot be written (its folder missing or
 * read-only, or a folder where a file is wanted) sets error naming it. */
gboolean option_int_ok(const char *command, const char *option, long value, long lo, long hi);
gboolean option_double_ok(const char *command, const char *option, double value, double lo, double hi);
/* --precision auto (bf16 where the CPU has AVX512-BF16), fp32 or bf16: the
 * precision of inference's products; training is always fp32. */
#define PRECISION_HELP "Inference precision: auto (bf16 where the CPU has AVX512-BF16, else fp32), fp32 or bf16"
gboolean option_precision_ok(const char *command, const char *value);
gboolean output_file_ok(const char *path, const char *what, GError **error);
gboolean output_dir_ok(const char *dir, const char *what, GError **error);
/* A duration as h:mm:ss (0:00:00 for anything negative or absurd). */
void format_hms(char *buf, size_t size, double seconds);

/* Reads and checks a checkpoint as --resume does, then lets it go (for
 * tests and the fuzzer): FALSE with an error naming the file and field. */
gboolean checkpoint_probe(const char *path, GError **error);

/* colorize.c, shared with eval --photos: */
/* Images are refused above this many megapixels unless --max-megapixels
 * says otherwise: a small compressed file can declare a huge image. */
#define DEFAULT_MAX_MEGAPIXELS 300.0
/* The installed model, or the source tree's when run from a checkout. */
const char *default_model_path(void);
/* The source's L (and alpha, unless NULL) plane, through the library's conversion. */
void pixbuf_to_lightness(GdkPixbuf *pb, float *L, float *alpha);
/* L and ab planes (and alpha, or opaque) as 8-bit pixels of nc = 3 or 4
 * channels, rows `stride` bytes apart. */
void lab_planes_to_pixels(guchar *px, int stride, int nc, const float *L, const float *ab, const float *alpha,
                          int w, int h);


/* folders.c: an image file by its name's extension (what gdk-pixbuf reads). */
gboolean is_image_name(const char *name);
/* Reads only the header: refuses an image above the pixel limit before
 * anything is decoded (a decompression bomb), naming the file, the sizes
 * and the option that raises the limit (raise_with; NULL where none does),
 * and refuses a path that is not a regular file. */
gboolean image_size_acceptable(const char *path, double max_mpx, const char *raise_with, GError **error);
/* folders.c: the photos in the folders a user names. */
#define PHOTO_PATH_MAX 4096 /* paths of this many bytes or more are named, counted and left out */
typedef struct {
    char *path;
    gint64 size, mtime_ns; /* to know when a cache still holds the file */
    size_t relative;       /* path + relative: the path inside the folder named */
} found_photo;
typedef struct {
    GArray *photos;         /* found_photo, sorted by path */
    int not_regular;        /* image names that are FIFOs, devices, …: named, never opened */
    int too_long;           /* image files whose paths reach PHOTO_PATH_MAX bytes: named, left out */
    int unreadable_folders; /* subfolders that could not be opened: named, skipped */
    int repeats;            /* files and folders reached again (links, a folder named twice) */
} photo_listing;
/* The image files of the NULL-terminated folders (and their subfolders when
 * recursive), each once; a folder named that cannot be read is an error. */
gboolean photo_listing_scan(photo_listing *pl, char **folders, gboolean recursive, GError **error);
void photo_listing_clear(photo_listing *pl);
/* "device:inode" of a file that exists, or NULL (g_free). */
char *file_identity(const char *path);
/* FALSE with an error naming path when it exists but is not a regular
 * file: a FIFO would block the reader, a device would feed it forever. */
gboolean is_regular_file(const char *path, GError **error);

/* images.c: training on the user's own photos. */
/* The photo cache's first 8 bytes; 02: mtimes in nanoseconds, small photos
 * no longer scaled up; 03: photos shrunk by load_photo's filter, as the
 * benchmark reads them. Then the side (u32), the count (u32), per photo its
 * path (u32 length, bytes), size and mtime in ns (i64 each), w, h, status
 * (u32 each: 0 usable, 1 unreadable, 2 gray), then every usable photo's RGB. */
#define PHOTO_CACHE_MAGIC "CTIMGS03"
#define TRAIN_MAX_CROPS (1 << 24) /* --crops and --val at most */
#define HISTORY_MAX_STEPS (1 << 20) /* the per-step history a checkpoint keeps: a longer one is thinned */
#define IMAGES_MAX_SIDE 256 /* the cached photos' long side: the plug-in's default working resolution */
#define IMAGES_CROPS_PER_EPOCH 10000
#define IMAGES_VAL_CROPS 1000
#define IMAGES_VAL_FRACTION 0.1
typedef struct {
    int n;              /* usable photos */
    int *w, *h;         /* (n) their sizes in the cache */
    size_t *offset;     /* (n) where each starts in pixels */
    uint8_t *pixels;    /* RGB of every photo, packed */
    uint64_t *key;        /* (n) a hash of each photo's path inside its folder: its place in the split */
    int unreadable, gray; /* skipped */
    gboolean from_cache;  /* the pixels came from the cache file */
} photo_set;
/* The photos of comma-separated folders (recursively), decoded once into
 * the cache file (when given) and read from it while they are unchanged;
 * unreadable and gray photos are skipped and counted; none usable is an
 * error naming the folders. */
gboolean photo_set_load(photo_set *ps, const char *dirs, const char *cache, int max_side, GError **error);
void photo_set_free(photo_set *ps);
/* The cache reader on its own, for the fuzz target: a cache of size bytes
 * read from f against a listing of n files; the number of usable photos,
 * or -1 when the cache is refused. */
int photo_cache_check(FILE *f, uint64_t size, const found_photo *listing, int n, int max_side);
/* The photos held out for validation and those that train (indices into
 * ps, at most ps->n each): a photo is held out when its key (its path inside
 * its folder), mixed with the seed, falls below fraction, so photos added
 * to or removed from a folder never move another from one side to the
 * other; with two photos or more, at least one on each side (none held
 * out when fraction is 0): the lowest is held out when none falls below,
 * the highest trains when all do. forced (uint64_t keys, or NULL) names
 * the photos an earlier split of the run (its checkpoint's) put on the
 * side their key does not choose, kept there; it is replaced with this
 * split's. */
void photo_set_split(const photo_set *ps, uint64_t seed, double fraction, GArray *forced, int *train, int *n_train,
                     int *held, int *n_held);
/* A photo's key: FNV-1a of its path inside its folder. */
uint64_t photo_path_key(const char *relative);
/* count crops, each from one of photos (nphotos indices) at a random
 * place and scale (32 px to the short side), area-averaged to 32×32 RGB;
 * the same seed gives the same crops. */
void photo_set_crops(const photo_set *ps, const int *photos, int nphotos, int count, uint64_t seed,
                     uint8_t *rgb); // (count, 32, 32, 3)

/* photos.c: eval --photos DIR, the real-photo benchmark; the exit code. */
/* A photo whose mean chroma is below this is gray: no colour to measure
 * (eval --photos, colorize's reference) or to learn from (train --images). */
#define PHOTO_MIN_MEAN_CHROMA 2.0
/* The photos of dir (by name, as gdk-pixbuf reads them), sorted; NULL with
 * an error. Image names left out (FIFOs, devices, paths too long: each
 * named on stderr) are counted in *left_out when it is not NULL. */
GPtrArray *list_folder_photos(const char *dir, int *left_out, GError **error);
/* The photo as 8-bit RGB, scaled down to max_side on its long side. */
/* A colour reference (reference.c): photos and/or GIMP palettes (either
 * list may be NULL or empty, not both), finished; NULL with an error
 * naming the file and the problem (unreadable, too large, not a palette, a
 * bad line, a photo or the whole without colour). */
nn_reference *reference_load(nn_colorizer *c, const char *const *photos, const char *const *palettes, double max_mpx,
                             GError **error);
/* The file names of an option given once or more, each a comma-separated
 * list ("a.png, b.png": spaces around a name dropped), NULL-terminated
 * (g_strfreev); NULL with an error naming `option` on an empty name. */
char **reference_list(char **given, const char *option, GError **error);
/* The same from an 8-bit RGB(A) pixbuf, shrunk as a reference file is;
 * `what` names it in errors. */
nn_reference *reference_from_pixbuf(nn_colorizer *c, GdkPixbuf *pb, const char *what, GError **error);
/* A photo as 8-bit RGB at most max_side on its long side (never enlarged):
 * shrunk with GDK_INTERP_HYPER, the best of gdk-pixbuf's filters (photos
 * are read once, for training into the cache), transparent parts as if on
 * black; an error naming the file when it cannot be read or is too large. */
GdkPixbuf *load_photo(const char *path, int max_side, GError **error);
/* Packs a pixbuf's rows into a w*h*3 buffer (g_free). */
uint8_t *packed_rgb(GdkPixbuf *pb);
/* photohints.c: eval --photos DIR --hints K[,K…], hints from the originals
 * at random places (seed) and one click per region; the exit code. */
int eval_photo_hints(const char *dir, const char *model, const nn_engine_params *params, int max_side, int limit,
                     const double *counts, int ncounts, uint64_t seed, const char *json);
/* With reference "self", "split" or a folder (NULL: none), each photo
 * is colorized with that colour reference at reference_weight. */
int eval_photos(const char *dir, const char *model, const nn_engine_params *params, int max_side, int limit,
                const char *json, const char *report, gboolean update_model, const char *reference,
                double reference_weight);

int command_train(int argc, char **argv);
int command_eval(int argc, char **argv);
int command_colorize(int argc, char **argv);

#endif
