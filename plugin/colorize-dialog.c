/* colorize-dialog.c — the dialog: the preview, the controls (each with a
 * tooltip), the hint layer, point hints placed in the preview (click to
 * add, drag to move, Escape to put back; right-click, the Delete key or
 * the Delete point button to remove; a colour button and the network's own
 * suggestions and the other points' colours as swatches to colour the
 * selected one), the model file, Help, Reset,
 * and OK with a live progress bar and a working Cancel. */
#include "colorize-dialog.h"

#include <math.h>
#include <string.h>

#include <gdk/gdkkeysyms.h>
#include <glib/gi18n-lib.h>

#include "colorize-preview.h"

#define RESPONSE_RESET 1
#define PICK_RADIUS 8 /* preview pixels within which a click takes an existing point */
static const guchar NO_POINT_RGB[3] = {128, 128, 128}; /* the colour button's while no point is selected: no colour */

/* ------------------------------------------------------------------ help */

/* A message under the controls; a sticky one (a bad model file, Help that
 * could not open) stays until the user acts again, a preview pass's does
 * not. */
static void show_message(ColorizeDialog *d, const gchar *text, gboolean sticky) {
    gtk_label_set_text(GTK_LABEL(d->message), text);
    gtk_widget_set_visible(d->message, text && *text); /* an empty line would leave a gap above the buttons */
    if (text && *text && g_getenv("COLORIZE_VERBOSE")) g_printerr("colorize-neural: the dialog says: %s\n", text);
    d->sticky_message = sticky && text && *text;
}

/* Opens the help page installed beside the plug-in in the user's browser. */
static void show_help(const gchar *help_id, gpointer dialog) {
    ColorizeDialog *d = g_object_get_data(G_OBJECT(dialog), "colorize-dialog"); /* GimpDialog passes itself */
    (void)help_id;
    if (!d) return;
    gchar *path = colorize_data_file(colorize_plugin_dir(), "help" G_DIR_SEPARATOR_S HELP_FILE);
    gchar *uri = g_filename_to_uri(path, NULL, NULL);
    GError *error = NULL;
    if (!uri || !g_app_info_launch_default_for_uri(uri, NULL, &error)) {
        gchar *msg = g_strdup_printf(_("Cannot open the help page %s: %s"), path, error ? error->message : "?");
        show_message(d, msg, TRUE);
        g_free(msg);
    }
    g_clear_error(&error);
    g_free(uri), g_free(path);
}

/* ----------------------------------------------------------- point hints */

static PointHint *selected_point(ColorizeDialog *d) {
    return d->selected >= 0 && d->selected < (gint)d->points->len ? &g_array_index(d->points, PointHint, d->selected)
                                                                   : NULL;
}

/* The colour button shows the selected point's colour (also once a pass
 * has guessed it), and a neutral gray while none is selected. It is set
 * only when that colour differs, because setting it also resets the colour
 * dialog, where the user may be typing. */
static void show_selected_colour(ColorizeDialog *d) {
    PointHint *p = selected_point(d);
    const guchar *want = p ? p->at.rgb : NO_POINT_RGB;
    GimpRGB c, shown;
    gimp_rgba_set_uchar(&c, want[0], want[1], want[2], 255); /* alpha too: never stack garbage */
    gimp_color_button_get_color(GIMP_COLOR_BUTTON(d->color_button), &shown);
    guchar r, g, b;
    gimp_rgb_get_uchar(&shown, &r, &g, &b);
    if (r == want[0] && g == want[1] && b == want[2]) return;
    g_object_set_data(G_OBJECT(d->color_button), "updating", GINT_TO_POINTER(1));
    gimp_color_button_set_color(GIMP_COLOR_BUTTON(d->color_button), &c);
    g_object_set_data(G_OBJECT(d->color_button), "updating", NULL);
}

static void suggestions_changed(ColorizeDialog *d);

static void show_point_controls(ColorizeDialog *d) {
    PointHint *p = selected_point(d);
    gtk_widget_set_sensitive(d->color_button, p != NULL);
    gtk_widget_set_sensitive(d->delete_button, p != NULL);
    gtk_widget_set_sensitive(d->remove_all_button, d->points->len > 0);
    suggestions_changed(d);
    if (g_getenv("COLORIZE_VERBOSE")) {
        GimpRGB shown;
        guchar r, g, b;
        gimp_color_button_get_color(GIMP_COLOR_BUTTON(d->color_button), &shown);
        gimp_rgb_get_uchar(&shown, &r, &g, &b);
        g_printerr("colorize-neural: point controls: %u points, Delete point sensitive %d, Remove all sensitive %d, "
                   "colour button #%02x%02x%02x\n", d->points->len, gtk_widget_is_sensitive(d->delete_button),
                   gtk_widget_is_sensitive(d->remove_all_button), r, g, b);
    }
}

static void hints_changed(ColorizeDialog *d) {
    show_point_controls(d);
    colorize_preview_redraw(d);
    colorize_preview_schedule_now(d);
}

/* Removes point i; suggestions made for a point index are void now. */
static void remove_point(ColorizeDialog *d, gint i) {
    g_array_remove_index(d->points, (guint)i);
    d->selected = -1, d->suggestions_for = -1;
    hints_changed(d);
}

static gint point_near(ColorizeDialog *d, const CropMap *map, gdouble px, gdouble py) {
    gint best = -1;
    gdouble best_d = PICK_RADIUS;
    for (guint i = 0; i < d->points->len; i++) {
        const PointHint *p = &g_array_index(d->points, PointHint, i);
        gdouble x, y;
        colorize_preview_from_image(map, p->at.x, p->at.y, &x, &y);
        gdouble dist = hypot(x - px, y - py);
        if (dist <= best_d) best_d = dist, best = (gint)i;
    }
    return best;
}

/* Moves the zoomed preview by (dx, dy) preview pixels, through its scroll bars. */
static void pan(ColorizeDialog *d, gdouble dx, gdouble dy) {
    GimpScrolledPreview *sp = GIMP_SCROLLED_PREVIEW(d->preview);
    GtkAdjustment *adj[2] = {gtk_range_get_adjustment(GTK_RANGE(sp->hscr)), gtk_range_get_adjustment(GTK_RANGE(sp->vscr))};
    const gdouble delta[2] = {dx, dy};
    for (int i = 0; i < 2; i++) {
        gdouble hi = gtk_adjustment_get_upper(adj[i]) - gtk_adjustment_get_page_size(adj[i]);
        gtk_adjustment_set_value(adj[i], CLAMP(gtk_adjustment_get_value(adj[i]) + delta[i], gtk_adjustment_get_lower(adj[i]), hi));
    }
}

/* The wheel scrolls (Shift: sideways; Ctrl is left to the preview's zoom)
 * and the middle button drags the view, as in GIMP's own previews; the
 * left button belongs to the point hints. */
static gboolean pan_event(ColorizeDialog *d, GdkEvent *event) {
    if (event->type == GDK_SCROLL) {
        GdkEventScroll *e = (GdkEventScroll *)event;
        if (e->state & GDK_CONTROL_MASK) return FALSE;
        const gdouble step = 32;
        gboolean sideways = (e->state & GDK_SHIFT_MASK) || e->direction == GDK_SCROLL_LEFT || e->direction == GDK_SCROLL_RIGHT;
        gdouble sign = e->direction == GDK_SCROLL_UP || e->direction == GDK_SCROLL_LEFT ? -1 : 1;
        pan(d, sideways ? sign * step : 0, sideways ? 0 : sign * step);
        return TRUE;
    }
    if (event->type == GDK_BUTTON_PRESS && ((GdkEventButton *)event)->button == 2) {
        d->panning = TRUE, d->pan_x = ((GdkEventButton *)event)->x, d->pan_y = ((GdkEventButton *)event)->y;
        return TRUE;
    }
    if (event->type == GDK_MOTION_NOTIFY && d->panning) {
        GdkEventMotion *m = (GdkEventMotion *)event;
        pan(d, d->pan_x - m->x, d->pan_y - m->y);
        d->pan_x = m->x, d->pan_y = m->y;
        return TRUE;
    }
    if (event->type == GDK_BUTTON_RELEASE && ((GdkEventButton *)event)->button == 2) {
        d->panning = FALSE;
        return TRUE;
    }
    return FALSE;
}

/* The image position under the preview pixel (px, py), kept on the layer
 * the preview shows (half a pixel from its far edges, so that the stored
 * "%.1f" text stays on it too): a point dragged past the preview's edge
 * stops there. */
static void preview_to_image_inside(ColorizeDialog *d, const CropMap *map, gdouble px, gdouble py, PointHint *p) {
    gint x, y, width, height;
    colorize_layer_extent(d->drawable, &x, &y, &width, &height);
    colorize_preview_to_image(map, px, py, &p->at.x, &p->at.y);
    p->at.x = CLAMP(p->at.x, x, x + width - 0.5);
    p->at.y = CLAMP(p->at.y, y, y + height - 0.5);
}

/* A drag holds the pointer until its release: every motion and the
 * release come to the preview, wherever the pointer goes (over the
 * dialog's other widgets, a tooltip or another window), as GIMP's canvas
 * does with its own grab. The preview's tooltip rests meanwhile. */
static void begin_drag(ColorizeDialog *d, GtkWidget *area, const GdkEventButton *press, gboolean placed) {
    d->dragging = TRUE;
    d->drag_placed = placed, d->drag_moved = FALSE, d->drag_passes = d->drag_carried = 0;
    d->drag_from = *selected_point(d); /* every caller has just selected it; Escape puts it back */
    d->drag_tooltip = gtk_widget_get_has_tooltip(area);
    gtk_widget_set_has_tooltip(area, FALSE);
    gdk_pointer_grab(gtk_widget_get_window(area), FALSE, GDK_BUTTON1_MOTION_MASK | GDK_BUTTON_RELEASE_MASK, NULL,
                     NULL, press->time);
}

/* Moves the dragged point under the preview pixel (x, y) of an event;
 * whether it moved. */
static gboolean drag_to(ColorizeDialog *d, gdouble x, gdouble y) {
    PointHint *p = selected_point(d);
    if (!p) return FALSE;
    CropMap map;
    colorize_preview_crop(d, &map);
    colorize_preview_event_to_picture(d, &x, &y);
    const gdouble was_x = p->at.x, was_y = p->at.y;
    preview_to_image_inside(d, &map, x, y, p);
    if (p->at.x == was_x && p->at.y == was_y) return FALSE;
    d->drag_moved = TRUE;
    colorize_preview_redraw(d);
    return TRUE;
}

/* The drag is over, however it ended: the pointer is released (a grab
 * already broken is released by nobody: time 0) and the tooltip back. */
static void stop_dragging(ColorizeDialog *d, guint32 time) {
    d->dragging = FALSE;
    if (time) gdk_pointer_ungrab(time);
    gtk_widget_set_has_tooltip(gimp_preview_get_area(GIMP_PREVIEW(d->preview)), d->drag_tooltip);
}

/* The passes after a drag: the point carried where it rests and the full
 * pass for it at once, or, for a point only selected, its suggestions
 * (from the pass on screen when it can: no new pass). */
static void after_drag(ColorizeDialog *d) {
    if (d->drag_moved) colorize_preview_follow(d), colorize_preview_schedule_full_now(d);
    else if (!d->drag_placed && !colorize_preview_suggest_now(d)) colorize_preview_schedule_now(d);
}

/* The drag ends at its release (the point where the pointer rests) or
 * when another program takes the pointer (where the last motion left it).
 * A point placed by this press and dragged takes the network's colour
 * where it rests, as a click there would give it. */
static void end_drag(ColorizeDialog *d, const GdkEventButton *release) {
    /* where it is released, if it was moved at all (a click that selects a point leaves it), and not while OK renders */
    if (release && d->drag_moved && !d->busy) drag_to(d, release->x, release->y);
    stop_dragging(d, release ? release->time : 0);
    if (g_getenv("COLORIZE_VERBOSE") && d->drag_moved)
        g_printerr("colorize-neural: point %d released after %d passes shown during its drag (%d of them its "
                   "points carried over the last network pass)\n",
                   d->selected + 1, d->drag_passes, d->drag_carried);
    PointHint *p = selected_point(d);
    if (d->drag_moved && d->drag_placed && p && !d->busy) p->guess = TRUE; /* the next pass guesses it, without it */
    after_drag(d);
}

/* Escape during a drag puts the point back as the press found it (place
 * and colour) and ends the drag, as on GIMP's canvas; the dialog stays
 * open. While OK renders the point stays: the render has it where it is. */
static void cancel_drag(ColorizeDialog *d, guint32 time) {
    PointHint *p = selected_point(d);
    stop_dragging(d, time);
    if (!p || d->busy) return;
    if (g_getenv("COLORIZE_VERBOSE"))
        g_printerr("colorize-neural: point %d: Escape cancelled its drag at %.1f,%.1f, back at %.1f,%.1f\n",
                   d->selected + 1, p->at.x, p->at.y, d->drag_from.at.x, d->drag_from.at.y);
    *p = d->drag_from;
    colorize_preview_redraw(d);
    after_drag(d);
}

/* Keys in the dialog: Escape ends a drag (instead of closing the dialog),
 * and Delete or BackSpace, without a modifier, remove the selected point
 * unless a text field has the keyboard (the preview takes it when clicked). */
static gboolean on_dialog_key(GtkWidget *dialog, GdkEventKey *key, gpointer data) {
    ColorizeDialog *d = data;
    if (key->keyval == GDK_KEY_Escape && d->dragging) {
        cancel_drag(d, key->time);
        return TRUE;
    }
    const gboolean delete_key = (key->keyval == GDK_KEY_Delete || key->keyval == GDK_KEY_KP_Delete ||
                                 key->keyval == GDK_KEY_BackSpace) &&
                                !(key->state & gtk_accelerator_get_default_mod_mask());
    GtkWidget *focus = gtk_window_get_focus(GTK_WINDOW(dialog));
    if (!delete_key || d->busy || d->dragging || !selected_point(d) || (focus && GTK_IS_EDITABLE(focus))) return FALSE;
    if (g_getenv("COLORIZE_VERBOSE"))
        g_printerr("colorize-neural: point %d removed by the Delete key\n", d->selected + 1);
    remove_point(d, d->selected);
    return TRUE;
}

static gboolean on_area_event(GtkWidget *area, GdkEvent *event, gpointer data) {
    ColorizeDialog *d = data;
    if (pan_event(d, event)) return TRUE;
    if (event->type == GDK_BUTTON_RELEASE && d->dragging && ((GdkEventButton *)event)->button == 1) {
        end_drag(d, (GdkEventButton *)event); /* also while OK renders: the grab ends */
        return TRUE;
    }
    if (event->type == GDK_GRAB_BROKEN && d->dragging &&
        ((GdkEventGrabBroken *)event)->grab_window != gtk_widget_get_window(area)) { /* not our own grab's start */
        end_drag(d, NULL); /* the grab is gone already */
        return TRUE;
    }
    if (d->busy) return TRUE;
    if (event->type == GDK_BUTTON_PRESS) {
        GdkEventButton *b = (GdkEventButton *)event;
        gtk_widget_grab_focus(area); /* the keys (Delete) now go to the points, not to a field typed in before */
        CropMap map;
        colorize_preview_crop(d, &map);
        gdouble bx = b->x, by = b->y;
        colorize_preview_event_to_picture(d, &bx, &by);
        gint hit = point_near(d, &map, bx, by);
        if (b->button == 3 && hit >= 0) { /* right-click removes */
            remove_point(d, hit);
        } else if (b->button == 1 && hit >= 0) {
            d->selected = hit;
            begin_drag(d, area, b, FALSE);
            show_point_controls(d);
            colorize_preview_redraw(d);
        } else if (b->button == 1 && d->points->len >= MAX_POINTS) {
            gchar *msg = g_strdup_printf(_("At most %d point hints: remove one to place another"), MAX_POINTS);
            show_message(d, msg, FALSE);
            g_free(msg);
        } else if (b->button == 1) {
            PointHint p = {{0, 0, {0, 0, 0}}, TRUE}; /* the next pass gives it the network's colour there */
            preview_to_image_inside(d, &map, bx, by, &p);
            colorize_preview_colour_at(d, p.at.x, p.at.y, p.at.rgb); /* meanwhile, the colour the preview shows there */
            g_array_append_val(d->points, p);
            d->selected = (gint)d->points->len - 1;
            begin_drag(d, area, b, TRUE);
            const gboolean shown = colorize_preview_place(d); /* its colour and region at once when the model is free */
            show_point_controls(d);
            colorize_preview_redraw(d);
            if (shown) colorize_preview_schedule_full_now(d); /* the network's answer to it, at full resolution */
            else colorize_preview_schedule_now(d);
        }
        return TRUE;
    }
    if (event->type == GDK_MOTION_NOTIFY && d->dragging) {
        const GdkEventMotion *m = (const GdkEventMotion *)event;
        if (drag_to(d, m->x, m->y)) colorize_preview_follow(d); /* the colour follows the drag */
        return TRUE;
    }
    return FALSE;
}

static void on_delete_point(GtkWidget *button, gpointer data) {
    ColorizeDialog *d = data;
    (void)button;
    if (d->busy || d->dragging || !selected_point(d)) return; /* as the Delete key: not while a point moves */
    remove_point(d, d->selected);
}

static void on_remove_all(GtkWidget *button, gpointer data) {
    ColorizeDialog *d = data;
    (void)button;
    if (d->busy || d->points->len == 0) return;
    g_array_set_size(d->points, 0);
    d->selected = -1, d->suggestions_for = -1;
    hints_changed(d);
}

static void on_point_color(GimpColorButton *button, gpointer data) {
    ColorizeDialog *d = data;
    PointHint *p = selected_point(d);
    if (d->busy || !p || g_object_get_data(G_OBJECT(button), "updating")) return; /* not while OK renders */
    GimpRGB c;
    gimp_color_button_get_color(button, &c);
    gimp_rgb_get_uchar(&c, &p->at.rgb[0], &p->at.rgb[1], &p->at.rgb[2]);
    p->guess = FALSE;
    colorize_preview_redraw(d);
    colorize_preview_follow(d);
}

/* Opening the colour dialog hands the selected point's colour to the user:
 * a guess arriving later must not change the colour being edited. */
static void on_point_color_opened(GtkWidget *button, gpointer data) {
    ColorizeDialog *d = data;
    PointHint *p = selected_point(d);
    (void)button;
    if (d->busy || !p) return;
    if (g_getenv("COLORIZE_VERBOSE"))
        g_printerr("colorize-neural: the colour dialog opened for point %d%s\n", d->selected + 1,
                   p->guess ? ", before its guess: no guess will change its colour now" : "");
    p->guess = FALSE;
}

static void on_swatch(GtkWidget *button, gpointer data) {
    ColorizeDialog *d = data;
    PointHint *p = selected_point(d);
    guchar *rgb = g_object_get_data(G_OBJECT(button), "rgb");
    if (d->busy || !p || !rgb) return;
    memcpy(p->at.rgb, rgb, 3);
    p->guess = FALSE;
    hints_changed(d);
}

/* Shows swatch button b with colour rgb (kept as its "rgb" for on_swatch). */
static void set_swatch(GtkWidget *b, const guchar rgb[3]) {
    memcpy(g_object_get_data(G_OBJECT(b), "rgb"), rgb, 3);
    GimpRGB color;
    gimp_rgba_set_uchar(&color, rgb[0], rgb[1], rgb[2], 255);
    gimp_color_area_set_color(GIMP_COLOR_AREA(gtk_bin_get_child(GTK_BIN(b))), &color);
    gtk_widget_show(b);
}

/* Up to `most` colours given to points other than the selected one, the
 * latest first, none twice and none the selected point's own; guessed
 * colours (no pass has chosen them yet) are left out. */
static gint used_colours(ColorizeDialog *d, guchar (*rgb)[3], gint most) {
    const PointHint *p = selected_point(d);
    gint n = 0;
    for (gint i = (gint)d->points->len - 1; i >= 0 && n < most; i--) {
        const PointHint *q = &g_array_index(d->points, PointHint, i);
        gboolean seen = q == p || q->guess || (p && memcmp(q->at.rgb, p->at.rgb, 3) == 0);
        for (gint j = 0; j < n && !seen; j++) seen = memcmp(rgb[j], q->at.rgb, 3) == 0;
        if (!seen) memcpy(rgb[n++], q->at.rgb, 3);
    }
    return n;
}

/* The swatches of the colours given to the other points, so that a second
 * object of one colour takes it in one click. */
static void used_colours_changed(ColorizeDialog *d) {
    guchar rgb[USED_COLOURS][3];
    const gint n = selected_point(d) ? used_colours(d, rgb, USED_COLOURS) : 0;
    GList *children = gtk_container_get_children(GTK_CONTAINER(d->used_swatches));
    gint i = -1; /* the separator first */
    for (GList *c = children; c; c = c->next, i++) {
        if (i < 0) gtk_widget_set_visible(c->data, n > 0);
        else if (i < n) set_swatch(c->data, rgb[i]);
        else gtk_widget_hide(c->data);
    }
    g_list_free(children);
    if (g_getenv("COLORIZE_VERBOSE")) {
        GString *line = g_string_new("colorize-neural: used colours:");
        for (gint j = 0; j < n; j++) g_string_append_printf(line, " #%02x%02x%02x", rgb[j][0], rgb[j][1], rgb[j][2]);
        g_printerr("%s%s\n", line->str, n ? "" : " none");
        g_string_free(line, TRUE);
    }
}

/* Verbose: where the used colours' swatches are, in the dialog's window. */
static void log_used_swatches(GtkWidget *box, GtkAllocation *allocation, gpointer data) {
    ColorizeDialog *d = data;
    (void)allocation;
    GString *line = g_string_new("colorize-neural: used colour swatches at");
    GList *children = gtk_container_get_children(GTK_CONTAINER(box));
    for (GList *c = children ? children->next : NULL; c; c = c->next) {
        gint x, y;
        GtkAllocation a;
        gtk_widget_get_allocation(c->data, &a);
        if (gtk_widget_get_visible(c->data) &&
            gtk_widget_translate_coordinates(c->data, d->dialog, a.width / 2, a.height / 2, &x, &y))
            g_string_append_printf(line, " (%d, %d)", x, y);
    }
    g_list_free(children);
    g_printerr("%s\n", line->str);
    g_string_free(line, TRUE);
}

/* The selected point's colour, the network's most likely colours there
 * as swatches, and the other points' colours. */
static void suggestions_changed(ColorizeDialog *d) {
    show_selected_colour(d);
    GList *children = gtk_container_get_children(GTK_CONTAINER(d->swatches));
    const PointHint *p = selected_point(d);
    gint i = 0;
    for (GList *c = children; c; c = c->next, i++) {
        GtkWidget *button = c->data;
        gboolean show = p && d->engine && d->suggestions_for == d->selected && i < d->n_suggestions;
        gtk_widget_set_visible(button, show);
        if (!show) continue;
        gint ox, oy;
        gimp_drawable_offsets(d->drawable, &ox, &oy);
        const gdouble to_engine = (gdouble)d->engine_w / gimp_drawable_width(d->drawable);
        guchar rgb[3];
        colorize_render_ab_to_rgb(d->engine, (p->at.x - ox) * to_engine, (p->at.y - oy) * to_engine, &d->suggestions[2 * i],
                                  rgb);
        set_swatch(button, rgb);
    }
    g_list_free(children);
    used_colours_changed(d);
}

/* -------------------------------------------------------------- controls */

static void on_value_changed(GtkAdjustment *adj, gpointer data) {
    ColorizeDialog *d = data;
    gdouble v = gtk_adjustment_get_value(adj);
    if (adj == GTK_ADJUSTMENT(d->adjs[0])) d->s->vividness = v;
    if (adj == GTK_ADJUSTMENT(d->adjs[2])) d->s->resolution = (gint)lround(v);
    if (adj == GTK_ADJUSTMENT(d->adjs[3])) d->s->reference_weight = v;
    if (adj == GTK_ADJUSTMENT(d->adjs[4])) d->s->hint_reach = v;
    if (adj == GTK_ADJUSTMENT(d->adjs[1])) {
        d->s->saturation = v;
        colorize_preview_redraw(d); /* saturation needs no new pass */
        return;
    }
    colorize_preview_schedule(d);
}

static void update_gray_warning(ColorizeDialog *d) {
    gtk_widget_set_visible(d->gray_warning, gimp_image_base_type(d->image) == GIMP_GRAY && d->s->hint_layer != -1);
}

static void on_hint_changed(GtkWidget *combo, gpointer data) {
    ColorizeDialog *d = data;
    gint id = -1;
    gimp_int_combo_box_get_active(GIMP_INT_COMBO_BOX(combo), &id);
    d->s->hint_layer = id;
    update_gray_warning(d);
    colorize_preview_schedule(d);
}

static void on_reference_changed(GtkWidget *combo, gpointer data);

/* The Reference combo's item for a chosen file (after None and the layers). */
#define REFERENCE_FROM_FILE (-2)

/* Sets the combo to `id` without acting on it. */
static void set_reference_choice(ColorizeDialog *d, gint id) {
    g_signal_handlers_block_by_func(d->reference_combo, on_reference_changed, d);
    gimp_int_combo_box_set_active(GIMP_INT_COMBO_BOX(d->reference_combo), id);
    g_signal_handlers_unblock_by_func(d->reference_combo, on_reference_changed, d);
}

/* The combo's file item, labelled with the file's name: added the first
 * time, renamed after. */
static void show_reference_file_item(ColorizeDialog *d) {
    g_free(d->reference_file_item), d->reference_file_item = g_strdup(d->s->reference_file);
    gchar *base = g_filename_display_basename(d->s->reference_file);
    gchar *label = g_strdup_printf(_("%s (file)"), base);
    GtkTreeModel *model = gtk_combo_box_get_model(GTK_COMBO_BOX(d->reference_combo));
    GtkTreeIter iter;
    gboolean found = FALSE;
    for (gboolean more = gtk_tree_model_get_iter_first(model, &iter); more && !found;
         more = more && !found && gtk_tree_model_iter_next(model, &iter)) {
        gint id = 0;
        gtk_tree_model_get(model, &iter, GIMP_INT_STORE_VALUE, &id, -1);
        found = id == REFERENCE_FROM_FILE;
        if (found) gtk_list_store_set(GTK_LIST_STORE(model), &iter, GIMP_INT_STORE_LABEL, label, -1);
    }
    if (!found)
        gimp_int_combo_box_append(GIMP_INT_COMBO_BOX(d->reference_combo), GIMP_INT_STORE_VALUE, REFERENCE_FROM_FILE,
                                  GIMP_INT_STORE_LABEL, label, -1);
    g_free(base), g_free(label);
}

/* Makes the chosen reference for the passes to come, after a new choice or
 * a new model (whose bins it is built on): no pass may use the old one
 * meanwhile, nor the last pass made with it. One that cannot serve is
 * reported and None is chosen again. */
static void take_reference(ColorizeDialog *d) {
    colorize_preview_stop(d);
    colorize_preview_forget_engine(d);
    GError *error = NULL;
    if (!colorize_reference_prepare(d->s, &error)) {
        show_message(d, error->message, TRUE);
        g_clear_error(&error);
        d->s->reference = -1, d->s->reference_file[0] = '\0';
        colorize_reference_prepare(d->s, NULL);
        set_reference_choice(d, -1);
        gtk_file_chooser_unselect_all(GTK_FILE_CHOOSER(d->reference_chooser));
    }
    gimp_scale_entry_set_sensitive(d->adjs[3], colorize_has_reference(d->s));
}

static void log_reference(const ColorizeDialog *d) {
    if (!g_getenv("COLORIZE_VERBOSE")) return;
    gchar *shown = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(d->reference_chooser));
    g_printerr("colorize-neural: reference %d, file \"%s\"\n", d->s->reference, d->s->reference_file);
    g_printerr("colorize-neural: the Reference file button shows \"%s\"\n", shown ? shown : "");
    g_free(shown);
}

static void on_reference_changed(GtkWidget *combo, gpointer data) {
    ColorizeDialog *d = data;
    gint id = -1;
    gimp_int_combo_box_get_active(GIMP_INT_COMBO_BOX(combo), &id);
    const gchar *file = id == REFERENCE_FROM_FILE ? d->reference_file_item : NULL;
    d->s->reference = id == REFERENCE_FROM_FILE ? -1 : id;
    g_strlcpy(d->s->reference_file, file ? file : "", sizeof d->s->reference_file);
    /* the button shows the file only while it is the reference: never beside a layer the combo names */
    if (file) gtk_file_chooser_set_filename(GTK_FILE_CHOOSER(d->reference_chooser), file);
    else gtk_file_chooser_unselect_all(GTK_FILE_CHOOSER(d->reference_chooser));
    show_message(d, "", FALSE);
    take_reference(d);
    log_reference(d);
    colorize_preview_schedule(d);
}

static void on_reference_file_set(GtkFileChooserButton *chooser, gpointer data) {
    ColorizeDialog *d = data;
    gchar *file = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(chooser));
    if (!file) return;
    if (strlen(file) >= sizeof d->s->reference_file) {
        show_message(d, _("The reference file's path is too long"), TRUE);
        g_free(file);
        return;
    }
    d->s->reference = -1;
    g_strlcpy(d->s->reference_file, file, sizeof d->s->reference_file);
    g_free(file);
    show_message(d, "", FALSE);
    take_reference(d); /* one that cannot serve leaves reference_file empty */
    if (d->s->reference_file[0]) { /* the combo's file item stands for it; a bad file leaves the last good one there */
        show_reference_file_item(d);
        set_reference_choice(d, REFERENCE_FROM_FILE);
    }
    log_reference(d);
    colorize_preview_schedule(d);
}

static void on_show_hints(GtkToggleButton *toggle, gpointer data) {
    (void)toggle;
    colorize_preview_redraw(data);
}

/* A new model file: loaded at once; a bad one is reported here and the
 * previous model stays. */
static void set_model(ColorizeDialog *d, const gchar *file) {
    colorize_preview_stop(d); /* the running pass uses the old model */
    gchar *def = colorize_default_model_path(colorize_plugin_dir());
    ColorizeSettings next = *d->s;
    g_strlcpy(next.model, file && g_strcmp0(file, def) != 0 ? file : "", sizeof next.model);
    GError *error = NULL;
    if (colorize_model_get(colorize_model_path(&next), &error)) {
        *d->s = next;
        show_message(d, "", FALSE);
    } else {
        show_message(d, error->message, TRUE);
        g_clear_error(&error);
    }
    const gchar *now = colorize_model_path(d->s);
    gchar *shown = gtk_file_chooser_get_filename(GTK_FILE_CHOOSER(d->chooser));
    if (g_strcmp0(shown, now) != 0) gtk_file_chooser_set_filename(GTK_FILE_CHOOSER(d->chooser), now);
    g_free(shown), g_free(def);
    take_reference(d); /* made again on the new model's bins */
    colorize_preview_schedule(d);
}

static void on_model_changed(GtkFileChooser *chooser, gpointer data) {
    gchar *f = gtk_file_chooser_get_filename(chooser);
    set_model(data, f);
    g_free(f);
}

/* A reference may be any layer of any open image but the one being
 * colorized (gray, or about to be) and an earlier result (whose colours
 * are the network's own). */
static gboolean reference_constraint(gint32 image, gint32 item, gpointer data) {
    const ColorizeDialog *d = data;
    (void)image;
    return item != d->drawable && gimp_item_is_layer(item) && !gimp_item_is_group(item) && !colorize_is_result(item);
}

static gboolean hint_constraint(gint32 image, gint32 item, gpointer data) {
    ColorizeDialog *d = data;
    return image == d->image && colorize_hint_layer_ok(d->image, d->drawable, item);
}

/* An item's label: the layer's name, after its image's name when
 * `with_image`; with `ids`, each name followed by its ID, as GIMP tells
 * apart images of one name ("flower.png-2") (g_free). */
static gchar *layer_label(gint32 id, gboolean with_image, gboolean ids) {
    gchar *name = gimp_item_get_name(id), *label;
    if (ids) {
        gchar *named = g_strdup_printf("%s-%d", name, id);
        g_free(name), name = named;
    }
    if (with_image) {
        const gint32 image_id = gimp_item_get_image(id);
        gchar *image = gimp_image_get_name(image_id);
        label = ids ? g_strdup_printf("%s-%d / %s", image, image_id, name) : g_strdup_printf("%s / %s", image, name);
        g_free(image);
    } else {
        label = g_strdup(name);
    }
    g_free(name);
    return label;
}

/* The combo's items by the layers' own names (libgimp's layer combo shows
 * "image-ID/layer-ID"), after their image's name when `with_image`; labels
 * that two items would share get the IDs, so that no two read the same. */
static void label_layers_by_name(GtkWidget *combo, gboolean with_image) {
    GtkTreeModel *model = gtk_combo_box_get_model(GTK_COMBO_BOX(combo));
    GtkTreeIter iter;
    GHashTable *count = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (gboolean more = gtk_tree_model_get_iter_first(model, &iter); more; more = gtk_tree_model_iter_next(model, &iter)) {
        gint id = -1;
        gtk_tree_model_get(model, &iter, GIMP_INT_STORE_VALUE, &id, -1);
        if (id == -1 || !gimp_item_is_valid(id)) continue;
        gchar *label = layer_label(id, with_image, FALSE);
        g_hash_table_replace(count, label, GINT_TO_POINTER(GPOINTER_TO_INT(g_hash_table_lookup(count, label)) + 1));
    }
    GString *shown = g_string_new(NULL), *ids = g_string_new(NULL); /* COLORIZE_VERBOSE: the labels, as the user
                                                                        reads them, and the layers' IDs */
    for (gboolean more = gtk_tree_model_get_iter_first(model, &iter); more; more = gtk_tree_model_iter_next(model, &iter)) {
        gint id = -1;
        gtk_tree_model_get(model, &iter, GIMP_INT_STORE_VALUE, &id, -1);
        if (id != -1 && gimp_item_is_valid(id)) {
            gchar *label = layer_label(id, with_image, FALSE);
            if (GPOINTER_TO_INT(g_hash_table_lookup(count, label)) > 1) g_free(label), label = layer_label(id, with_image, TRUE);
            gtk_list_store_set(GTK_LIST_STORE(model), &iter, GIMP_INT_STORE_LABEL, label, -1);
            g_free(label);
        }
        gchar *label = NULL;
        gtk_tree_model_get(model, &iter, GIMP_INT_STORE_LABEL, &label, -1);
        g_string_append_printf(shown, "%s%s", shown->len ? " | " : "", label ? label : "");
        g_string_append_printf(ids, " %d", id);
        g_free(label);
    }
    if (g_getenv("COLORIZE_VERBOSE")) /* one write: a reader of the log sees both lines or neither */
        g_printerr("colorize-neural: %s choices: %s\ncolorize-neural: %s choices' IDs:%s\n",
                   with_image ? "reference" : "hint layer", shown->str, with_image ? "reference" : "hint layer",
                   ids->str);
    g_string_free(shown, TRUE), g_string_free(ids, TRUE);
    g_hash_table_destroy(count);
}

static GtkObject *add_scale(GtkWidget *table, gint row, const gchar *label, gdouble value, gdouble lo, gdouble hi,
                            gdouble step, gint digits, const gchar *tip) {
    return gimp_scale_entry_new(GTK_TABLE(table), 0, row, label, 200, 6, value, lo, hi, step, step * 10, digits, TRUE,
                                0, 0, tip, NULL);
}

/* A swatch: a button showing a colour (its "rgb") that the selected point
 * takes when clicked. */
static GtkWidget *swatch_button(ColorizeDialog *d, const gchar *tip) {
    GimpRGB gray;
    gimp_rgba_set_uchar(&gray, NO_POINT_RGB[0], NO_POINT_RGB[1], NO_POINT_RGB[2], 255);
    GtkWidget *b = gtk_button_new(), *area = gimp_color_area_new(&gray, GIMP_COLOR_AREA_FLAT, 0);
    gtk_widget_set_size_request(area, 20, 16);
    gtk_container_add(GTK_CONTAINER(b), area);
    g_object_set_data_full(G_OBJECT(b), "rgb", g_malloc0(3), g_free);
    gimp_help_set_help_data(b, tip, NULL);
    g_signal_connect(b, "clicked", G_CALLBACK(on_swatch), d);
    return b;
}

static GtkWidget *point_row(ColorizeDialog *d) {
    GtkWidget *row = gtk_hbox_new(FALSE, 6);
    d->show_hints = gtk_check_button_new_with_mnemonic(_("Show hin_ts"));
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(d->show_hints), TRUE);
    gimp_help_set_help_data(d->show_hints, _("Draw the point hints over the preview, and a dashed outline around what each hint colours"), NULL);
    g_signal_connect(d->show_hints, "toggled", G_CALLBACK(on_show_hints), d);
    gtk_box_pack_start(GTK_BOX(row), d->show_hints, FALSE, FALSE, 0);
    GimpRGB c;
    gimp_rgba_set_uchar(&c, NO_POINT_RGB[0], NO_POINT_RGB[1], NO_POINT_RGB[2], 255);
    d->color_button = gimp_color_button_new(_("Point hint colour"), 32, 20, &c, GIMP_COLOR_AREA_FLAT);
    gimp_color_button_set_update(GIMP_COLOR_BUTTON(d->color_button), TRUE); /* the preview follows the colour dialog */
    gimp_help_set_help_data(d->color_button,
                            _("The colour of the selected point hint. A new point starts with the colour the preview "
                              "shows there"),
                            NULL);
    GtkWidget *label = gtk_label_new_with_mnemonic(_("Co_lour:"));
    gtk_label_set_mnemonic_widget(GTK_LABEL(label), d->color_button);
    gtk_box_pack_start(GTK_BOX(row), label, FALSE, FALSE, 0);
    g_signal_connect(d->color_button, "color-changed", G_CALLBACK(on_point_color), d);
    g_signal_connect(d->color_button, "clicked", G_CALLBACK(on_point_color_opened), d);
    gtk_box_pack_start(GTK_BOX(row), d->color_button, FALSE, FALSE, 0);
    d->swatches = gtk_hbox_new(FALSE, 2);
    for (gint i = 0; i < SUGGESTIONS; i++)
        gtk_box_pack_start(GTK_BOX(d->swatches),
                           swatch_button(d, _("A colour the network finds likely here: click to use it")), FALSE,
                           FALSE, 0);
    gtk_box_pack_start(GTK_BOX(row), d->swatches, FALSE, FALSE, 0);
    d->used_swatches = gtk_hbox_new(FALSE, 2);
    gtk_box_pack_start(GTK_BOX(d->used_swatches), gtk_vseparator_new(), FALSE, FALSE, 2);
    for (gint i = 0; i < USED_COLOURS; i++)
        gtk_box_pack_start(GTK_BOX(d->used_swatches),
                           swatch_button(d, _("A colour you gave another point: click to give it this one too")),
                           FALSE, FALSE, 0);
    if (g_getenv("COLORIZE_VERBOSE"))
        g_signal_connect(d->used_swatches, "size-allocate", G_CALLBACK(log_used_swatches), d);
    gtk_box_pack_start(GTK_BOX(row), d->used_swatches, FALSE, FALSE, 0);
    d->delete_button = gtk_button_new_with_mnemonic(_("_Delete point"));
    gimp_help_set_help_data(d->delete_button, _("Remove the selected point hint (or right-click it)"), NULL);
    g_signal_connect(d->delete_button, "clicked", G_CALLBACK(on_delete_point), d);
    GtkWidget *all = d->remove_all_button = gtk_button_new_with_mnemonic(_("Remove _all"));
    gimp_help_set_help_data(all, _("Remove every point hint (Reset keeps them)"), NULL);
    g_signal_connect(all, "clicked", G_CALLBACK(on_remove_all), d);
    gtk_box_pack_end(GTK_BOX(row), all, FALSE, FALSE, 0);
    gtk_box_pack_end(GTK_BOX(row), d->delete_button, FALSE, FALSE, 0);
    return row;
}

/* GIMP's palette folders, the user's and the installed ones, as the file
 * dialog's shortcuts: a palette is found where GIMP keeps it. */
static void add_palette_folders(GtkFileChooser *chooser) {
    gchar *folders[2] = {gimp_personal_rc_file("palettes"), g_build_filename(gimp_data_directory(), "palettes", NULL)};
    for (int i = 0; i < 2; i++) {
        if (g_file_test(folders[i], G_FILE_TEST_IS_DIR)) gtk_file_chooser_add_shortcut_folder(chooser, folders[i], NULL);
        g_free(folders[i]);
    }
}

/* A colour photo or a GIMP palette on disk as the reference, chosen in row `row`; the file
 * in the settings shown as the combo's file item. */
static void reference_file_row(ColorizeDialog *d, GtkWidget *table, gint row) {
    d->reference_chooser = gtk_file_chooser_button_new(_("Select a colour reference photo or palette"),
                                                       GTK_FILE_CHOOSER_ACTION_OPEN);
    GtkFileFilter *images = gtk_file_filter_new(), *all = gtk_file_filter_new();
    gtk_file_filter_set_name(images, _("Images and GIMP palettes"));
    gtk_file_filter_add_pixbuf_formats(images);
    gtk_file_filter_add_pattern(images, "*.gpl");
    gtk_file_filter_add_pattern(images, "*.GPL");
    gtk_file_filter_set_name(all, _("All files"));
    gtk_file_filter_add_pattern(all, "*");
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d->reference_chooser), images);
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d->reference_chooser), all);
    add_palette_folders(GTK_FILE_CHOOSER(d->reference_chooser));
    gchar *image_file = gimp_image_get_filename(d->image);
    if (d->s->reference == -1 && d->s->reference_file[0]) {
        gtk_file_chooser_set_filename(GTK_FILE_CHOOSER(d->reference_chooser), d->s->reference_file);
        show_reference_file_item(d);
        set_reference_choice(d, REFERENCE_FROM_FILE);
    } else if (image_file) { /* a like photo is often kept beside the scan */
        gchar *folder = g_path_get_dirname(image_file);
        gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(d->reference_chooser), folder);
        g_free(folder);
    }
    g_free(image_file);
    g_signal_connect(d->reference_chooser, "file-set", G_CALLBACK(on_reference_file_set), d);
    gimp_table_attach_aligned(GTK_TABLE(table), 0, row, _("Reference _file:"), 0.0, 0.5, d->reference_chooser, 2, FALSE);
    gimp_help_set_help_data(d->reference_chooser,
                            _("Or a colour photo on disk, without opening it in GIMP, or a GIMP palette (.gpl); it "
                              "then shows in the Reference list"),
                            NULL);
}

/* The rows of the controls' table, top to bottom: one home for each, so
 * that no two controls share a row (a row given twice draws two labels
 * over each other). */
enum {
    ROW_VIVIDNESS,
    ROW_SATURATION,
    ROW_RESOLUTION,
    ROW_HINT_LAYER,
    ROW_GRAY_WARNING,
    ROW_HINT_REACH,
    ROW_REFERENCE,
    ROW_REFERENCE_FILE,
    ROW_REFERENCE_WEIGHT,
    ROW_MODEL,
    N_CONTROL_ROWS
};

/* With COLORIZE_VERBOSE: the table row of each label, for the dialog
 * test, which fails when two share one. */
static void log_control_rows(GtkWidget *table) {
    if (!g_getenv("COLORIZE_VERBOSE")) return;
    GString *rows = g_string_new("");
    GList *children = gtk_container_get_children(GTK_CONTAINER(table));
    for (GList *c = g_list_last(children); c; c = c->prev) {
        guint left = 0, top = 0;
        gtk_container_child_get(GTK_CONTAINER(table), c->data, "left-attach", &left, "top-attach", &top, NULL);
        if (left == 0 && GTK_IS_LABEL(c->data)) g_string_append_printf(rows, " %u", top);
    }
    g_list_free(children);
    g_printerr("colorize-neural: control rows:%s\n", rows->str);
    g_string_free(rows, TRUE);
}

static GtkWidget *controls_table(ColorizeDialog *d) {
    GtkWidget *table = gtk_table_new(N_CONTROL_ROWS, 3, FALSE);
    gtk_table_set_col_spacings(GTK_TABLE(table), 6);
    gtk_table_set_row_spacings(GTK_TABLE(table), 6);
    d->adjs[0] = add_scale(table, ROW_VIVIDNESS, _("_Vividness:"), d->s->vividness, 0.0, NN_MAX_VIVIDNESS, 0.01, 2,
                           _("0 gives the most likely average colour (faithful); higher values give more vivid, "
                             "more daring colour"));
    d->adjs[1] = add_scale(table, ROW_SATURATION, _("_Saturation:"), d->s->saturation, 0.0, NN_MAX_SATURATION, 0.01, 2,
                           _("Multiplies the chroma of the predicted colour (1 leaves it as predicted)"));
    d->adjs[2] = add_scale(table, ROW_RESOLUTION, _("_Working resolution:"), d->s->resolution, NN_MIN_RESOLUTION,
                           NN_MAX_RESOLUTION, 1, 0,
                           _("The long side, in pixels, at which the network sees the image. Lower: it sees whole "
                             "objects, as in its training, and is faster, but colour is coarser. Higher: finer "
                             "colour detail, but it sees only parts of objects, and it is slower"));
    for (int i = 0; i < 3; i++) g_signal_connect(d->adjs[i], "value-changed", G_CALLBACK(on_value_changed), d);

    GtkWidget *combo = gimp_layer_combo_box_new(hint_constraint, d);
    gimp_int_combo_box_prepend(GIMP_INT_COMBO_BOX(combo), GIMP_INT_STORE_VALUE, -1, GIMP_INT_STORE_LABEL, _("None"), -1);
    label_layers_by_name(combo, FALSE);
    gimp_int_combo_box_set_active(GIMP_INT_COMBO_BOX(combo), d->s->hint_layer);
    g_signal_connect(combo, "changed", G_CALLBACK(on_hint_changed), d);
    gimp_table_attach_aligned(GTK_TABLE(table), 0, ROW_HINT_LAYER, _("H_int layer:"), 0.0, 0.5, combo, 2, FALSE);
    gimp_help_set_help_data(combo,
                            _("Another layer of this image with colour strokes: each stroke gives its colour where "
                              "it is painted, and the network carries it on"),
                            NULL);
    d->gray_warning = gtk_label_new(_("This image is grayscale: a hint layer can only carry gray. Click the preview "
                                      "to place point hints instead."));
    gtk_label_set_line_wrap(GTK_LABEL(d->gray_warning), TRUE);
    gtk_table_attach(GTK_TABLE(table), d->gray_warning, 0, 3, ROW_GRAY_WARNING, ROW_GRAY_WARNING + 1,
                     GTK_FILL | GTK_EXPAND, 0, 0, 0);
    gtk_table_set_row_spacing(GTK_TABLE(table), ROW_HINT_LAYER, 0); /* no double gap while the warning is hidden */
    /* the dialog's hint reach; batch calls use the default */
    d->adjs[4] = add_scale(table, ROW_HINT_REACH, _("Hi_nt reach:"), d->s->hint_reach, 0.0, NN_MAX_HINT_REACH, 1, 0,
                           _("How far a point's or a stroke's colour travels: the lightness step of the edges it "
                             "may cross. Lower it when one click colours more than its object; 0 colours only "
                             "where the hint is"));
    g_signal_connect(d->adjs[4], "value-changed", G_CALLBACK(on_value_changed), d);

    d->chooser = gtk_file_chooser_button_new(_("Select a model"), GTK_FILE_CHOOSER_ACTION_OPEN);
    GtkFileFilter *weights = gtk_file_filter_new(), *all = gtk_file_filter_new();
    gtk_file_filter_set_name(weights, _("Model weights (*.weights)"));
    gtk_file_filter_add_pattern(weights, "*.weights");
    gtk_file_filter_set_name(all, _("All files"));
    gtk_file_filter_add_pattern(all, "*");
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d->chooser), weights);
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d->chooser), all);
    gtk_file_chooser_set_filename(GTK_FILE_CHOOSER(d->chooser), colorize_model_path(d->s));
    g_signal_connect(d->chooser, "file-set", G_CALLBACK(on_model_changed), d);
    gimp_table_attach_aligned(GTK_TABLE(table), 0, ROW_MODEL, _("_Model file:"), 0.0, 0.5, d->chooser, 2, FALSE);
    gimp_help_set_help_data(d->chooser, _("The trained network; Reset returns to the installed model"), NULL);

    GtkWidget *ref = d->reference_combo = gimp_layer_combo_box_new(reference_constraint, d);
    gimp_int_combo_box_prepend(GIMP_INT_COMBO_BOX(ref), GIMP_INT_STORE_VALUE, -1, GIMP_INT_STORE_LABEL, _("None"), -1);
    label_layers_by_name(ref, TRUE);
    gimp_int_combo_box_set_active(GIMP_INT_COMBO_BOX(ref), d->s->reference);
    g_signal_connect(ref, "changed", G_CALLBACK(on_reference_changed), d);
    gimp_table_attach_aligned(GTK_TABLE(table), 0, ROW_REFERENCE, _("R_eference:"), 0.0, 0.5, ref, 2, FALSE);
    gimp_help_set_help_data(ref,
                            _("A colour photo of a like scene, opened in GIMP: the result takes its colours, the "
                              "reference's dark colours going to dark pixels and its light colours to light ones"),
                            NULL);
    reference_file_row(d, table, ROW_REFERENCE_FILE);
    d->adjs[3] = add_scale(table, ROW_REFERENCE_WEIGHT, _("Reference wei_ght:"), d->s->reference_weight, 0.1, NN_MAX_REFERENCE_WEIGHT,
                           0.1, 1, _("How strongly the reference counts against the network's own colours: "
                             "higher follows it more closely; below 1 it fades out"));
    g_signal_connect(d->adjs[3], "value-changed", G_CALLBACK(on_value_changed), d);
    gimp_scale_entry_set_sensitive(d->adjs[3], colorize_has_reference(d->s));
    log_control_rows(table);
    return table;
}

/* Logs (COLORIZE_VERBOSE) the empty height between the last control and
 * the buttons, which the dialog test keeps small. */
static void log_gap(GtkWidget *buttons, GtkAllocation *a, gpointer data) {
    ColorizeDialog *d = data;
    GtkAllocation controls; /* both without a window of their own: in the dialog window's coordinates */
    (void)buttons;
    gtk_widget_get_allocation(d->controls, &controls);
    g_printerr("colorize-neural: %d px from the last control to the buttons\n", a->y - (controls.y + controls.height));
}

/* With COLORIZE_VERBOSE: the preview's tooltip asked for in the middle of
 * a drag, where it would cover the preview (the dialog test looks for it). */
static gboolean log_tooltip(GtkWidget *area, gint x, gint y, gboolean keyboard, GtkTooltip *tooltip, gpointer data) {
    (void)area, (void)x, (void)y, (void)keyboard, (void)tooltip;
    if (((ColorizeDialog *)data)->dragging)
        g_printerr("colorize-neural: the preview's tooltip is asked for during a drag\n");
    return FALSE;
}

/* The dialog's size as the user left it, kept for this GIMP session (two
 * gints under DIALOG_SIZE_KEY, or DIALOG_SIDE_BY_SIDE_SIZE_KEY for the side-by-side
 * layout, whose sizes differ): Re-show opens it at that size again. */
#define DIALOG_SIZE_KEY PLUG_IN_PROC "-dialog-size"
#define DIALOG_SIDE_BY_SIDE_SIZE_KEY PLUG_IN_PROC "-dialog-size-side-by-side"
#define DIALOG_DEFAULT_WIDTH 480

static const gchar *size_key(const ColorizeDialog *d) {
    return d->side_by_side ? DIALOG_SIDE_BY_SIDE_SIZE_KEY : DIALOG_SIZE_KEY;
}

/* The size kept for this layout into size[2]; FALSE (size untouched) when none. */
static gboolean saved_size(const ColorizeDialog *d, gint size[2]) {
    if (gimp_get_data_size(size_key(d)) != sizeof(gint[2])) return FALSE;
    gimp_get_data(size_key(d), size);
    return TRUE;
}

/* Opens the dialog at its last size (at least the default width). */
static void restore_size(const ColorizeDialog *d) {
    gint size[2] = {DIALOG_DEFAULT_WIDTH, -1};
    saved_size(d, size);
    gtk_window_set_default_size(GTK_WINDOW(d->dialog), MAX(size[0], DIALOG_DEFAULT_WIDTH), size[1] > 0 ? size[1] : -1);
}

/* Keeps the size the dialog is closed at, when the user resized it (not
 * maximized: that is no size to open a dialog at). */
static void keep_size(const ColorizeDialog *d) {
    gint size[2];
    gtk_window_get_size(GTK_WINDOW(d->dialog), &size[0], &size[1]);
    const GdkWindow *window = gtk_widget_get_window(d->dialog);
    const gboolean maximized = window && (gdk_window_get_state((GdkWindow *)window) & GDK_WINDOW_STATE_MAXIMIZED);
    if (maximized || (size[0] == d->shown_w && size[1] == d->shown_h)) return;
    gimp_set_data(size_key(d), size, sizeof size);
}

/* The dialog's size when first shown (once: a window mapped again, say
 * restored from a minimized state, keeps the size the user gave it); with
 * COLORIZE_VERBOSE also logged (the dialog test reads it). Side by side
 * and at no saved size, the dialog is first fitted to what it holds: its
 * width was asked for while the preview still had the square size it
 * starts at (the preview's layout logged here is from before the fit; the
 * allocation that follows logs it again). */
static gboolean note_size_shown(GtkWidget *dialog, GdkEvent *event, gpointer data) {
    ColorizeDialog *d = data;
    gint saved[2];
    (void)event;
    g_signal_handlers_disconnect_by_func(dialog, note_size_shown, d);
    gtk_window_get_size(GTK_WINDOW(dialog), &d->shown_w, &d->shown_h);
    if (d->side_by_side && !saved_size(d, saved)) {
        GtkRequisition fitted;
        gtk_widget_size_request(dialog, &fitted);
        gtk_window_resize(GTK_WINDOW(dialog), fitted.width, fitted.height);
        d->shown_w = fitted.width, d->shown_h = fitted.height;
    }
    if (g_getenv("COLORIZE_VERBOSE")) g_printerr("colorize-neural: dialog shown at %dx%d\n", d->shown_w, d->shown_h);
    colorize_preview_log_layout(d);
    return FALSE;
}

/* Below this height (pixels) a screen cannot hold the dialog with the
 * preview above the controls (about 810 px, 747 at its smallest) and its
 * title bar and panels: a 1366×768 laptop's. */
#define SHORT_SCREEN_HEIGHT 900

/* The preview goes beside the controls for a picture (the selection's
 * bounds) taller than wide, where above them it would be narrow and the
 * dialog too tall for a laptop's screen, and on a short screen, where the
 * stacked dialog would hide its buttons below the screen's edge. */
static gboolean preview_beside_controls(const ColorizeDialog *d) {
    gint w, h;
    colorize_preview_extent(d, &w, &h);
    GdkScreen *screen = gdk_screen_get_default();
    GdkRectangle monitor = {0, 0, 0, G_MAXINT};
    if (screen) gdk_screen_get_monitor_geometry(screen, gdk_screen_get_primary_monitor(screen), &monitor);
    return h > w || monitor.height < SHORT_SCREEN_HEIGHT;
}

/* The preview, which grows with the dialog, above the controls or (for a
 * tall picture, or on a short screen) on their left; returns the box the
 * controls go in. */
static GtkWidget *lay_out_preview(ColorizeDialog *d) {
    d->side_by_side = preview_beside_controls(d);
    GtkWidget *body = d->side_by_side ? gtk_hbox_new(FALSE, 12) : gtk_vbox_new(FALSE, 8);
    gtk_container_set_border_width(GTK_CONTAINER(body), 12);
    gtk_box_pack_start(GTK_BOX(gtk_dialog_get_content_area(GTK_DIALOG(d->dialog))), body, TRUE, TRUE, 0);
    gtk_box_pack_start(GTK_BOX(body), colorize_preview_new(d), TRUE, TRUE, 0);
    if (!d->side_by_side) return body;
    GtkWidget *column = gtk_vbox_new(FALSE, 8);
    gtk_box_pack_start(GTK_BOX(body), column, FALSE, FALSE, 0);
    return column;
}

static GtkWidget *build_dialog(ColorizeDialog *d) {
    gimp_ui_init(PLUG_IN_BINARY, TRUE);
    GtkWidget *dialog = gimp_dialog_new(_("Colorize (Neural)"), PLUG_IN_ROLE, NULL, 0, show_help, PLUG_IN_PROC,
                                        _("_Reset"), RESPONSE_RESET, _("_Cancel"), GTK_RESPONSE_CANCEL, _("_OK"),
                                        GTK_RESPONSE_OK, NULL);
    g_object_set_data(G_OBJECT(dialog), "colorize-dialog", d); /* for the help function */
    GtkWidget *reset_button = gtk_dialog_get_widget_for_response(GTK_DIALOG(dialog), RESPONSE_RESET);
    if (reset_button)
        gimp_help_set_help_data(reset_button, _("Restore the default settings and model; the point hints stay "
                                                "(Remove all removes them)"), NULL);
    gtk_dialog_set_alternative_button_order(GTK_DIALOG(dialog), GTK_RESPONSE_OK, RESPONSE_RESET, GTK_RESPONSE_CANCEL, -1);
    gimp_window_set_transient(GTK_WINDOW(dialog));
    d->dialog = dialog;
    GtkWidget *column = lay_out_preview(d); /* the controls' box */
    GtkWidget *area = gimp_preview_get_area(GIMP_PREVIEW(d->preview));
    gtk_widget_add_events(area, GDK_BUTTON_PRESS_MASK | GDK_BUTTON_RELEASE_MASK | GDK_BUTTON1_MOTION_MASK |
                                    GDK_BUTTON2_MOTION_MASK | GDK_SCROLL_MASK);
    g_signal_connect(area, "event", G_CALLBACK(on_area_event), d);
    gtk_widget_set_can_focus(area, TRUE);
    g_signal_connect(dialog, "key-press-event", G_CALLBACK(on_dialog_key), d);
    if (g_getenv("COLORIZE_VERBOSE")) g_signal_connect(area, "query-tooltip", G_CALLBACK(log_tooltip), d);
    gimp_help_set_help_data(area, _("Click to place a point hint, drag to move it (Escape puts it back), right-click "
                                     "or Delete to remove it"), NULL);
    d->point_row = point_row(d);
    gtk_box_pack_start(GTK_BOX(column), d->point_row, FALSE, FALSE, 0);
    d->controls = controls_table(d);
    gtk_box_pack_start(GTK_BOX(column), d->controls, FALSE, FALSE, 0);
    d->message = gtk_label_new("");
    gtk_label_set_line_wrap(GTK_LABEL(d->message), TRUE);
    gtk_box_pack_start(GTK_BOX(column), d->message, FALSE, FALSE, 0);
    d->progress = gtk_progress_bar_new();
    gtk_progress_bar_set_text(GTK_PROGRESS_BAR(d->progress), " "); /* as tall as with a text: no relayout */
    gtk_box_pack_start(GTK_BOX(column), d->progress, FALSE, FALSE, 0);
    restore_size(d);
    g_signal_connect(dialog, "map-event", G_CALLBACK(note_size_shown), d);
    gtk_widget_show_all(dialog); /* the progress bar stays: it pulses while a preview pass runs, fills during OK */
    gtk_widget_hide(d->message); /* shown with a message */
    if (g_getenv("COLORIZE_VERBOSE"))
        g_signal_connect(gtk_dialog_get_action_area(GTK_DIALOG(dialog)), "size-allocate", G_CALLBACK(log_gap), d);
    update_gray_warning(d);
    show_point_controls(d);
    colorize_preview_schedule(d); /* the first pass, whatever the preview widget signals */
    return dialog;
}

static void reset(ColorizeDialog *d) {
    gtk_adjustment_set_value(GTK_ADJUSTMENT(d->adjs[0]), COLORIZE_DEFAULTS.vividness);
    gtk_adjustment_set_value(GTK_ADJUSTMENT(d->adjs[1]), COLORIZE_DEFAULTS.saturation);
    gtk_adjustment_set_value(GTK_ADJUSTMENT(d->adjs[2]), COLORIZE_DEFAULTS.resolution);
    gtk_adjustment_set_value(GTK_ADJUSTMENT(d->adjs[3]), COLORIZE_DEFAULTS.reference_weight);
    gtk_adjustment_set_value(GTK_ADJUSTMENT(d->adjs[4]), COLORIZE_DEFAULTS.hint_reach);
    gimp_int_combo_box_set_active(GIMP_INT_COMBO_BOX(d->reference_combo), -1); /* None: no layer, no file */
    gtk_file_chooser_unselect_all(GTK_FILE_CHOOSER(d->reference_chooser));
    if (d->s->model[0]) set_model(d, NULL); /* the installed model */
}

static void on_busy_response(GtkDialog *dialog, gint response, gpointer data) {
    ColorizeDialog *d = data;
    (void)dialog, (void)response;
    g_atomic_int_set(&d->ui.cancel, 1);
}

/* OK: the final render with the dialog's progress bar and Cancel live. */
/* While OK renders: the controls, the point controls, OK and Reset rest
 * (clicks on the preview are ignored); "Show hints" stays as it is, so it
 * does not look unchecked, and Cancel stays live. */
static void set_busy(ColorizeDialog *d) {
    d->busy = TRUE; /* no preview may use the model while the render does */
    gtk_widget_set_sensitive(d->controls, FALSE);
    GList *children = gtk_container_get_children(GTK_CONTAINER(d->point_row));
    for (GList *c = children; c; c = c->next)
        if (c->data != d->show_hints) gtk_widget_set_sensitive(c->data, FALSE);
    g_list_free(children);
    gtk_dialog_set_response_sensitive(GTK_DIALOG(d->dialog), GTK_RESPONSE_OK, FALSE);
    gtk_dialog_set_response_sensitive(GTK_DIALOG(d->dialog), RESPONSE_RESET, FALSE);
    if (g_getenv("COLORIZE_VERBOSE")) {
        GtkWidget *cancel = gtk_dialog_get_widget_for_response(GTK_DIALOG(d->dialog), GTK_RESPONSE_CANCEL);
        g_printerr("colorize-neural: during OK: Show hints sensitive %d, checked %d; Delete point sensitive %d; "
                   "Cancel sensitive %d\n",
                   gtk_widget_is_sensitive(d->show_hints),
                   gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(d->show_hints)),
                   gtk_widget_is_sensitive(d->delete_button), cancel && gtk_widget_is_sensitive(cancel));
    }
}

static gint32 apply(ColorizeDialog *d, GError **error) {
    colorize_preview_stop(d);
    set_busy(d);
    d->ui.bar = GTK_PROGRESS_BAR(d->progress);
    gtk_progress_bar_set_text(d->ui.bar, _("Colorizing"));
    gulong handler = g_signal_connect(d->dialog, "response", G_CALLBACK(on_busy_response), d);
    gint32 layer = -1;
    if (colorize_preview_guess_now(d, error)) {
        nn_engine *ready = colorize_preview_ready_engine(d); /* the preview's full pass, when it is what OK would make */
        layer = ready ? colorize_apply_ready(d->image, d->drawable, d->s, d->points, ready, &d->ui, error)
                      : colorize_apply(d->image, d->drawable, d->s, d->points, TRUE, &d->ui, error);
    }
    g_signal_handler_disconnect(d->dialog, handler);
    return layer;
}

gint32 colorize_dialog_run(gint32 image, gint32 drawable, ColorizeSettings *s, GError **error) {
    ColorizeDialog d = {.image = image, .drawable = drawable, .s = s, .selected = -1, .suggestions_for = -1,
                        .scaled_hint_id = -1, .pass_shown = suggestions_changed};
    d.points = colorize_points_load(image);
    d.engine_points = g_array_new(FALSE, FALSE, sizeof(PointHint));
    GError *unusable = NULL; /* the saved reference, when it can no longer serve: said in the dialog */
    if (s->reference != -1 && gimp_item_is_valid(s->reference) &&
        (s->reference == drawable || colorize_is_result(s->reference))) { /* the combo does not offer these */
        s->reference = -1;
        g_set_error(&unusable, COLORIZE_ERROR, COLORIZE_ERROR_ARGUMENT,
                    _("The reference used last time is the layer being colorized or an earlier result, and cannot "
                      "serve: no reference is used"));
    }
    if (!colorize_reference_prepare(s, unusable ? NULL : &unusable))
        s->reference = -1, s->reference_file[0] = '\0', colorize_reference_prepare(s, NULL);
    GtkWidget *dialog = build_dialog(&d);
    if (unusable) show_message(&d, unusable->message, TRUE), g_error_free(unusable);
    gchar *off_layer = colorize_points_off_layer_note(d.points, drawable);
    if (off_layer) show_message(&d, off_layer, TRUE), g_free(off_layer);
    gint32 layer = -1;
    for (;;) {
        gint response = gimp_dialog_run(GIMP_DIALOG(dialog));
        if (response == RESPONSE_RESET) {
            reset(&d);
            continue;
        }
        if (response == GTK_RESPONSE_OK) layer = apply(&d, error);
        else g_set_error(error, COLORIZE_ERROR, COLORIZE_ERROR_CANCELLED, _("Cancelled"));
        break;
    }
    keep_size(&d);
    colorize_preview_free(&d);
    gtk_widget_destroy(dialog);
    g_array_free(d.points, TRUE);
    g_array_free(d.engine_points, TRUE);
    g_free(d.reference_file_item);
    return layer;
}
