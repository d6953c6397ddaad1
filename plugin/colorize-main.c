/* colorize-main.c — the GIMP 2.10 plug-in "Filters ▸ Enhance ▸ Colorize
 * (Neural)…": query (the three PDB procedures) and run (the run modes,
 * the settings kept for Filters ▸ Repeat). plug-in-nn-colorize keeps its
 * eight arguments for existing scripts; plug-in-nn-colorize-points adds
 * point hints as a string; plug-in-nn-colorize-reference adds a colour
 * reference drawable and its weight after them. */
#include <string.h>

#include <glib/gi18n-lib.h>

#include "colorize.h"

static void query(void);
static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn_vals, GimpParam **return_vals);

const GimpPlugInInfo PLUG_IN_INFO = {NULL, NULL, query, run};

int main(int argc, char *argv[]) {
    gchar *dir = g_path_get_dirname(argc > 0 ? argv[0] : ".");
    colorize_set_plugin_dir(dir);
    g_free(dir);
    return gimp_main(&PLUG_IN_INFO, argc, argv);
}

static void init_i18n(void) {
    gchar *locale = g_build_filename(colorize_plugin_dir(), "locale", NULL);
    const gchar *use = g_file_test(locale, G_FILE_TEST_IS_DIR) ? locale : COLORIZE_LOCALEDIR;
    bindtextdomain(GETTEXT_PACKAGE, use);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
    g_free(locale);
}

#define COMMON_ARGS                                                                                                    \
    {GIMP_PDB_INT32, "run-mode", "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1) }"},                      \
        {GIMP_PDB_IMAGE, "image", "Input image"}, {GIMP_PDB_DRAWABLE, "drawable", "Input layer"},                      \
        {GIMP_PDB_STRING, "model", "Weights file; \"\" for the installed default"},                                   \
        {GIMP_PDB_FLOAT, "vividness", "0 (faithful: the mean colour) to " G_STRINGIFY(NN_MAX_VIVIDNESS) " (vivid)"},             \
        {GIMP_PDB_FLOAT, "saturation", "Chroma multiplier, 0 to " G_STRINGIFY(NN_MAX_SATURATION)},                                           \
        {GIMP_PDB_INT32, "resolution",                                                                                 \
         "Working resolution: the long side in pixels at which the network sees the image, " G_STRINGIFY(NN_MIN_RESOLUTION) " to " G_STRINGIFY(NN_MAX_RESOLUTION)}, \
        {GIMP_PDB_DRAWABLE, "hint-layer",                                                                              \
         "Another layer of the image whose opaque pixels give their colour, -1 for none"}

#define HELP_TEXT                                                                                                      \
    "Adds a layer \"Colorized\" above the layer: its lightness is the layer's own, its colour is predicted by a "      \
    "U-Net trained on CIFAR-10 at the working resolution. Strokes on the hint layer give their colour to where they " \
    "are painted, and the network carries it on up to edges of about " G_STRINGIFY(NN_DEFAULT_HINT_REACH) " in L* "  \
    "(the dialog's Hint reach). Grayscale images are converted to RGB in the same undo step."

static void query(void) {
    static const GimpParamDef args[] = {COMMON_ARGS};
    static const GimpParamDef point_args[] = {
        COMMON_ARGS,
        {GIMP_PDB_STRING, "points",
         "Point hints \"x,y,#rrggbb;...\": positions in image pixels and sRGB colours; \"\" for none"}};
    static const GimpParamDef reference_args[] = {
        COMMON_ARGS,
        {GIMP_PDB_STRING, "points",
         "Point hints \"x,y,#rrggbb;...\": positions in image pixels and sRGB colours; \"\" for none"},
        {GIMP_PDB_DRAWABLE, "reference",
         "A colour photo's layer (any open image) whose colours, band of lightness by band, the result takes; -1 "
         "for none"},
        {GIMP_PDB_FLOAT, "reference-weight", "How strongly the reference counts, above 0 to " G_STRINGIFY(NN_MAX_REFERENCE_WEIGHT) " (below 1 it fades out; "
                                             G_STRINGIFY(NN_DEFAULT_REFERENCE_WEIGHT) " is the default)"}};
    static const GimpParamDef return_vals[] = {{GIMP_PDB_LAYER, "layer", "The new \"Colorized\" layer"}};
    init_i18n();
    gimp_plugin_domain_register(GETTEXT_PACKAGE, NULL);
    gimp_install_procedure(PLUG_IN_PROC, N_("Colorize a black-and-white photo with a neural network"), HELP_TEXT,
                           "colorize contributors", "colorize contributors", "2026", N_("Colorize (_Neural)..."),
                           "RGB*, GRAY*", GIMP_PLUGIN, G_N_ELEMENTS(args), G_N_ELEMENTS(return_vals), args,
                           return_vals);
    gimp_plugin_menu_register(PLUG_IN_PROC, "<Image>/Filters/Enhance");
    gimp_install_procedure(PLUG_IN_PROC_POINTS,
                           "Colorize a black-and-white photo with a neural network, with point hints",
                           HELP_TEXT " Point hints need no layer: each gives its colour at its position.",
                           "colorize contributors", "colorize contributors", "2026", NULL, "RGB*, GRAY*", GIMP_PLUGIN,
                           G_N_ELEMENTS(point_args), G_N_ELEMENTS(return_vals), point_args, return_vals);
    gimp_install_procedure(PLUG_IN_PROC_REFERENCE,
                           "Colorize a black-and-white photo with a neural network, with point hints and a colour "
                           "reference",
                           HELP_TEXT " Point hints need no layer: each gives its colour at its position. A reference "
                           "(a layer of a colour photo of a like scene) gives its colours to the pixels of like "
                           "lightness.",
                           "colorize contributors", "colorize contributors", "2026", NULL, "RGB*, GRAY*", GIMP_PLUGIN,
                           G_N_ELEMENTS(reference_args), G_N_ELEMENTS(return_vals), reference_args, return_vals);
}

/* Settings saved by an earlier interactive run, checked against this image. */
static void load_settings(ColorizeSettings *s, gint32 image, gint32 drawable) {
    *s = COLORIZE_DEFAULTS;
    if (gimp_get_data_size(PLUG_IN_PROC) == sizeof *s) gimp_get_data(PLUG_IN_PROC, s);
    s->model[sizeof s->model - 1] = 0, s->reference_file[sizeof s->reference_file - 1] = 0;
    s->hint_layer = colorize_hint_layer_for(image, drawable, s->hint_layer);
    s->reference = colorize_reference_for(s->reference);
}

/* The batch arguments; FALSE with a calling error when they do not fit. */
static gboolean batch_arguments(const gchar *name, gint nparams, const GimpParam *param, ColorizeSettings *s,
                                GArray **points, GError **error) {
    const gboolean with_reference = strcmp(name, PLUG_IN_PROC_REFERENCE) == 0;
    const gboolean with_points = with_reference || strcmp(name, PLUG_IN_PROC_POINTS) == 0;
    const gint want = with_reference ? 11 : with_points ? 9 : 8;
    if (nparams != want) {
        g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_ARGUMENT, "%s takes %d arguments, not %d", name, want,
                    nparams);
        return FALSE;
    }
    *s = COLORIZE_DEFAULTS;
    g_strlcpy(s->model, param[3].data.d_string ? param[3].data.d_string : "", sizeof s->model);
    s->vividness = param[4].data.d_float;
    s->saturation = param[5].data.d_float;
    s->resolution = param[6].data.d_int32;
    s->hint_layer = param[7].data.d_drawable;
    if (with_reference) s->reference = param[9].data.d_drawable, s->reference_weight = param[10].data.d_float;
    if (with_points) *points = colorize_points_parse(param[8].data.d_string, error);
    return !with_points || *points != NULL;
}

static void run(const gchar *name, gint nparams, const GimpParam *param, gint *nreturn_vals, GimpParam **return_vals) {
    static GimpParam values[2];
    static GError *error = NULL; /* its message is read by GIMP after run() returns */
    g_clear_error(&error);
    init_i18n();
    gegl_init(NULL, NULL);
    /* GEGL's tile cache in this process: our reads and writes stream in strips */
    g_object_set(gegl_config(), "tile-cache-size", (guint64)32 << 20, NULL);
    nn_set_threads(0);
    if (g_getenv("COLORIZE_VERBOSE")) {
        char cpu[256];
        colorize_note_startup_memory();
        g_printerr("colorize-neural kernels: %s\n", nn_cpu_describe(cpu, sizeof cpu));
    }
    *nreturn_vals = 1;
    *return_vals = values;
    values[0].type = GIMP_PDB_STATUS;
    values[0].data.d_status = GIMP_PDB_SUCCESS;
    const GimpRunMode mode = param[0].data.d_int32;
    const gint32 image = param[1].data.d_image, drawable = param[2].data.d_drawable;
    ColorizeSettings settings = COLORIZE_DEFAULTS;
    GArray *points = NULL;
    gint32 layer = -1;
    switch (mode) {
    case GIMP_RUN_INTERACTIVE:
        if (!colorize_check_drawable(image, drawable, &error)) break;
        load_settings(&settings, image, drawable);
        layer = colorize_dialog_run(image, drawable, &settings, &error);
        if (layer != -1) gimp_set_data(PLUG_IN_PROC, &settings, sizeof settings);
        break;
    case GIMP_RUN_NONINTERACTIVE:
        /* the caller's points must lie on this layer; stored ones (dialog, Repeat) may serve other layers */
        if (batch_arguments(name, nparams, param, &settings, &points, &error) &&
            colorize_check_drawable(image, drawable, &error) && colorize_points_inside(points, image, drawable, &error))
            layer = colorize_apply(image, drawable, &settings, points, FALSE, NULL, &error);
        break;
    case GIMP_RUN_WITH_LAST_VALS:
        if (!colorize_check_drawable(image, drawable, &error)) break;
        load_settings(&settings, image, drawable);
        points = colorize_points_load(image);
        gchar *off_layer = colorize_points_off_layer_note(points, drawable);
        if (off_layer) g_message("%s", off_layer), g_free(off_layer);
        /* stored with the image again, as OK does: after an undo they came from the plug-in's own copy */
        layer = colorize_apply(image, drawable, &settings, points, TRUE, NULL, &error);
        break;
    default:
        g_set_error(&error, COLORIZE_ERROR, COLORIZE_ERROR_ARGUMENT, "unknown run mode %d", mode);
    }
    if (points) g_array_free(points, TRUE);
    if (layer != -1) {
        if (mode != GIMP_RUN_NONINTERACTIVE) gimp_displays_flush();
        *nreturn_vals = 2;
        values[1].type = GIMP_PDB_LAYER;
        values[1].data.d_layer = layer;
    } else {
        const gboolean cancelled = g_error_matches(error, COLORIZE_ERROR, COLORIZE_ERROR_CANCELLED);
        const gboolean calling = g_error_matches(error, COLORIZE_ERROR, COLORIZE_ERROR_ARGUMENT);
        values[0].data.d_status = cancelled ? GIMP_PDB_CANCEL : calling ? GIMP_PDB_CALLING_ERROR : GIMP_PDB_EXECUTION_ERROR;
        if (error && !cancelled) {
            *nreturn_vals = 2;
            values[1].type = GIMP_PDB_STRING;
            values[1].data.d_string = error->message;
            if (mode == GIMP_RUN_INTERACTIVE) g_message("%s", error->message);
        }
    }
    colorize_model_forget();
}
