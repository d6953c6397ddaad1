/* test_outline.c — the outline that *Show hints* draws
 * (plugin/colorize-outline.c), without GIMP: a held region whose hold
 * barely crosses 1/2 in textured places (held specks outside it, holes
 * inside) must come out as the region alone, outlined by one clean line;
 * large parts must stay, however odd their shape; two hints that hold
 * the whole picture between them are outlined where they meet. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../plugin/colorize-outline.h"
#include "testlib.h"

enum { W = 120, H = 80, MIN_AREA = 24 };

static int outline_pixels(const gint *mask) {
    int n = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) n += colorize_outline_at(mask, W, H, x, y);
    return n;
}

/* The left half held, with specks: one-pixel and 3×3 islands on the right,
 * one-pixel and 2×4 holes on the left. */
static void specks_cleaned(void) {
    gint *mask = g_new(gint, (gsize)W * H);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) mask[y * W + x] = x < W / 2;
    const int before_specks = outline_pixels(mask);
    srand(7);
    for (int k = 0; k < 60; k++) { /* single pixels, away from the boundary */
        const int x = 5 + rand() % (W / 2 - 10), y = 2 + rand() % (H - 4);
        mask[y * W + x] = 0, mask[y * W + W / 2 + x] = 1;
    }
    for (int y = 10; y < 13; y++)
        for (int x = 90; x < 93; x++) mask[y * W + x] = 1;
    for (int y = 40; y < 42; y++)
        for (int x = 20; x < 24; x++) mask[y * W + x] = 0;
    const int specked = outline_pixels(mask);
    colorize_outline_clean(mask, W, H, MIN_AREA);
    int wrong = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) wrong += mask[y * W + x] != (x < W / 2);
    const int after = outline_pixels(mask);
    printf("outline pixels: %d for the half alone, %d with the specks, %d cleaned; %d pixels differ from the half\n",
           before_specks, specked, after, wrong);
    CHECK(specked > 3 * before_specks, "the specks should lengthen the outline (%d against %d)", specked, before_specks);
    CHECK(wrong == 0 && after == before_specks, "cleaned, %d pixels differ from the held half and the outline has %d "
          "pixels, not %d", wrong, after, before_specks);
    g_free(mask);
}

/* Parts of at least the minimum area stay: a thin held line across the
 * image (a stroke's region), and a held 5×5 square (25 pixels). */
static void large_parts_kept(void) {
    gint *mask = g_new0(gint, (gsize)W * H);
    for (int x = 0; x < W; x++) mask[20 * W + x] = 1;
    for (int y = 50; y < 55; y++)
        for (int x = 50; x < 55; x++) mask[y * W + x] = 1;
    colorize_outline_clean(mask, W, H, MIN_AREA);
    int held = 0;
    for (int i = 0; i < W * H; i++) held += mask[i];
    CHECK(held == W + 25, "the line and the square should stay held (%d pixels held, not %d)", held, W + 25);
    /* all held or none: nothing to clean, no outline */
    for (int i = 0; i < W * H; i++) mask[i] = 1;
    colorize_outline_clean(mask, W, H, MIN_AREA);
    CHECK(mask[0] == 1 && outline_pixels(mask) == 0, "a wholly held picture stays held, with no outline");
    g_free(mask);
}

/* Two hints hold everything (labels 0 and 1, left and right of a wavy
 * line; -1 is what no hint holds), with a speck of each inside the other:
 * the outline is the line between them, one pixel per row. */
static void regions_meeting(void) {
    gint *mask = g_new(gint, (gsize)W * H);
    int border[H];
    for (int y = 0; y < H; y++) {
        border[y] = W / 2 + (int)(8 * sin(y * 0.2));
        for (int x = 0; x < W; x++) mask[y * W + x] = x < border[y] ? 0 : 1;
    }
    mask[10 * W + 5] = 1, mask[30 * W + W - 6] = 0, mask[50 * W + 7] = -1;
    colorize_outline_clean(mask, W, H, MIN_AREA);
    int wrong = 0, on_line = 0, off_line = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            wrong += mask[y * W + x] != (x < border[y] ? 0 : 1);
            const int line = colorize_outline_at(mask, W, H, x, y);
            on_line += line && (x == border[y] - 1 || (y + 1 < H && x >= MIN(border[y], border[y + 1]) - 1 &&
                                                       x < MAX(border[y], border[y + 1])));
            off_line += line && !(x >= MIN(border[y], y + 1 < H ? border[y + 1] : border[y]) - 1 &&
                                  x < MAX(border[y], y + 1 < H ? border[y + 1] : border[y]));
        }
    printf("two regions meeting: %d pixels relabelled wrongly, %d outline pixels on their line, %d off it\n", wrong,
           on_line, off_line);
    CHECK(wrong == 0, "the specks of each hint inside the other should be cleaned (%d pixels wrong)", wrong);
    CHECK(on_line >= H && off_line == 0, "the outline should follow the line where the hints meet (%d pixels on it, "
          "%d off)", on_line, off_line);
    g_free(mask);
}

/* Two specks side by side in an unheld picture, the first (in scan order)
 * bordering only the second: the first joins the second, which, smaller
 * than the minimum area, then goes too; nothing of either may stay (in one
 * pass the first's pixel kept the second's label). */
static void adjacent_specks(void) {
    gint *mask = g_new(gint, (gsize)W * H);
    for (int i = 0; i < W * H; i++) mask[i] = -1;
    mask[0] = 1;                          /* the corner pixel, label 1: its neighbours are the second speck's */
    mask[1] = mask[2] = 2;                /* 7 px right of and under it, label 2 */
    for (int x = 0; x < 5; x++) mask[W + x] = 2;
    colorize_outline_clean(mask, W, H, MIN_AREA);
    int left = 0;
    for (int i = 0; i < W * H; i++) left += mask[i] != -1;
    printf("two adjacent specks: %d pixels left labelled\n", left);
    CHECK(left == 0 && outline_pixels(mask) == 0, "%d pixels of two adjacent specks stayed", left);
    g_free(mask);
}

int main(void) {
    specks_cleaned();
    large_parts_kept();
    regions_meeting();
    adjacent_specks();
    return test_finish("test_outline");
}
