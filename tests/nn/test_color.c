/* test_color.c — sRGB <-> CIE Lab against scikit-image's values in
 * golden/color_ref.bin (within 1e-3), and the round trips. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn.h"
#include "testlib.h"

/* 8-bit sRGB -> Lab against skimage, and back exactly. */
static void test_srgb8(const golden_tensor *rgb8, const golden_tensor *rgb8_lab) {
    size_t n8 = rgb8->dims[0];
    uint8_t *px = malloc(3 * n8), *back8 = malloc(3 * n8);
    float *out = malloc(sizeof(float) * 3 * n8);
    for (size_t i = 0; i < 3 * n8; i++) px[i] = (uint8_t)rgb8->data[i];
    nn_srgb8_to_lab(out, px, n8);
    check_abs("8-bit sRGB -> Lab vs skimage", out, rgb8_lab->data, 3 * n8, 1e-3);
    nn_lab_to_srgb8(back8, out, n8);
    int exact = memcmp(back8, px, 3 * n8) == 0;
    printf("%-40s %s\n", "8-bit sRGB -> Lab -> sRGB round trip", exact ? "exact" : "differs  <-- FAIL");
    CHECK(exact, "8-bit round trip is not exact");
    free(px), free(back8), free(out);
}

/* float and linear-light sRGB -> Lab against skimage, and back. */
static void test_float_and_linear(const golden_tensor *rgbf, const golden_tensor *rgbf_lab) {
    size_t nf = rgbf->dims[0];
    float *out = malloc(sizeof(float) * 3 * nf), *back = malloc(sizeof(float) * 3 * nf);
    nn_srgb_to_lab(out, rgbf->data, nf);
    check_abs("float sRGB -> Lab vs skimage", out, rgbf_lab->data, 3 * nf, 1e-3);
    nn_lab_to_srgb(back, out, nf);
    check_abs("float sRGB -> Lab -> sRGB round trip", back, rgbf->data, 3 * nf, 1e-5);

    /* linear-light entry points agree with the sRGB ones */
    float *lin = malloc(sizeof(float) * 3 * nf), *lab2 = malloc(sizeof(float) * 3 * nf);
    for (size_t i = 0; i < 3 * nf; i++) {
        double c = rgbf->data[i];
        lin[i] = (float)(c > 0.04045 ? pow((c + 0.055) / 1.055, 2.4) : c / 12.92);
    }
    nn_linear_rgb_to_lab(lab2, lin, nf);
    check_abs("linear RGB -> Lab vs skimage", lab2, rgbf_lab->data, 3 * nf, 1e-3);
    nn_lab_to_linear_rgb(back, lab2, nf);
    check_abs("linear RGB -> Lab -> linear round trip", back, lin, 3 * nf, 1e-5);
    free(out), free(back), free(lin), free(lab2);
}

/* Lab -> sRGB (clipped) against skimage. */
static void test_lab_clipped(const golden_tensor *lab, const golden_tensor *lab_rgb) {
    size_t nl = lab->dims[0];
    float *out = malloc(sizeof(float) * 3 * nl);
    nn_lab_to_srgb(out, lab->data, nl);
    check_abs("Lab -> sRGB (clipped) vs skimage", out, lab_rgb->data, 3 * nl, 1e-3);
    free(out);
}

/* L only (stride 3) equals the L of the full conversion and skimage's */
static void test_lightness_only(const golden_tensor *rgbf, const golden_tensor *rgbf_lab) {
    size_t nf = rgbf->dims[0];
    float *Lonly = malloc(sizeof(float) * nf), *Lref = malloc(sizeof(float) * nf);
    nn_srgb_to_lightness(Lonly, rgbf->data, nf, 3);
    for (size_t i = 0; i < nf; i++) Lref[i] = rgbf_lab->data[3 * i];
    check_abs("sRGB -> L only vs skimage", Lonly, Lref, nf, 1e-3);
    free(Lonly), free(Lref);
}

/* The gamut fit fused or in two steps, per pixel or planar, the same; and
 * it keeps L. */
static void test_gamut_fit(const golden_tensor *lab) {
    size_t nl = lab->dims[0];
    /* the fused gamut fit + conversion equals the two steps */
    float *fit = malloc(sizeof(float) * 3 * nl), *two = malloc(sizeof(float) * 3 * nl), *one = malloc(sizeof(float) * 4 * nl);
    memcpy(fit, lab->data, sizeof(float) * 3 * nl);
    nn_lab_fit_gamut(fit, nl);
    nn_lab_to_srgb(two, fit, nl);
    nn_lab_to_srgb_fitted(one, lab->data, nl, 4);
    float *one3 = malloc(sizeof(float) * 3 * nl);
    for (size_t i = 0; i < nl; i++) memcpy(one3 + 3 * i, one + 4 * i, sizeof(float) * 3);
    check_abs("fused Lab -> sRGB with gamut fit (table)", one3, two, 3 * nl, 2e-6);
    /* the planar path of the plug-in (blocks, the gamut fit vectorized over the pixels outside) is the same, bit for bit */
    float *pl = malloc(sizeof(float) * nl), *pa = malloc(sizeof(float) * nl), *pb = malloc(sizeof(float) * nl);
    float *planar = malloc(sizeof(float) * 4 * nl);
    for (size_t i = 0; i < nl; i++) pl[i] = lab->data[3 * i], pa[i] = lab->data[3 * i + 1], pb[i] = lab->data[3 * i + 2];
    nn_lab_planes_to_srgb(planar, pl, pa, pb, nl, 4);
    int same = 1;
    for (size_t i = 0; i < nl; i++) same &= memcmp(planar + 4 * i, one + 4 * i, sizeof(float) * 3) == 0;
    printf("planar Lab -> sRGB (blocked, vectorized fit) vs per pixel: %s (%zu colours)\n", same ? "bit-identical" : "DIFFER", nl);
    CHECK(same, "nn_lab_planes_to_srgb differs from nn_lab_to_srgb_fitted");
    free(pl), free(pa), free(pb), free(planar);
    /* and the fit keeps L: the sRGB result converts back to the same L */
    float *back_lab = malloc(sizeof(float) * 3 * nl), *want_L = malloc(sizeof(float) * nl), *got_L = malloc(sizeof(float) * nl);
    nn_srgb_to_lab(back_lab, one3, nl);
    for (size_t i = 0; i < nl; i++) {
        float l = lab->data[3 * i];
        want_L[i] = l < 0 ? 0 : (l > 100 ? 100 : l);
        got_L[i] = back_lab[3 * i];
    }
    check_abs("gamut fit keeps L (Lab -> sRGB -> Lab)", got_L, want_L, nl, 2e-3);
    free(fit), free(two), free(one), free(one3), free(back_lab), free(want_L), free(got_L);
}

/* the table-driven L* against the exact conversion on a dense sweep:
 * every gray level of a fine ramp, then random colours */
static void test_lightness_tables(void) {
    const size_t ns = 200001;
    float *rgb = malloc(sizeof(float) * 3 * ns), *exact_lab = malloc(sizeof(float) * 3 * ns);
    float *Lt = malloc(sizeof(float) * ns), *Lg = malloc(sizeof(float) * ns), *gray = malloc(sizeof(float) * ns);
    float *Le = malloc(sizeof(float) * ns), *Lge = malloc(sizeof(float) * ns);
    uint32_t seed = 12345;
    for (size_t i = 0; i < ns; i++) {
        gray[i] = (float)i / (float)(ns - 1);
        for (int c = 0; c < 3; c++) {
            seed = seed * 1664525u + 1013904223u;
            rgb[3 * i + c] = (float)(seed >> 8) / 16777216.0f;
        }
    }
    nn_srgb_to_lab(exact_lab, rgb, ns);
    nn_srgb_to_lightness(Lt, rgb, ns, 3);
    for (size_t i = 0; i < ns; i++) Le[i] = exact_lab[3 * i];
    check_abs("table sRGB -> L vs exact_lab, random colours", Lt, Le, ns, 1e-4);
    for (size_t i = 0; i < ns; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = gray[i];
    nn_srgb_to_lab(exact_lab, rgb, ns);
    nn_gray_to_lightness(Lg, gray, ns, 1);
    for (size_t i = 0; i < ns; i++) Lge[i] = exact_lab[3 * i];
    check_abs("table gray -> L vs exact_lab, every level", Lg, Lge, ns, 1e-4);
    nn_srgb_to_lightness(Lt, rgb, ns, 3);
    check_abs("gray and RGB paths agree on greys", Lt, Lg, ns, 1e-5);
    free(rgb), free(exact_lab), free(Lt), free(Lg), free(gray), free(Le), free(Lge);
}

int main(int argc, char **argv) {
    golden_file g;
    if (argc < 2 || !golden_load(&g, argv[1])) return 1;
    const golden_tensor *rgb8 = golden_get(&g, "rgb8"), *rgb8_lab = golden_get(&g, "rgb8_lab");
    const golden_tensor *rgbf = golden_get(&g, "rgbf"), *rgbf_lab = golden_get(&g, "rgbf_lab");
    const golden_tensor *lab = golden_get(&g, "lab"), *lab_rgb = golden_get(&g, "lab_rgb");
    if (!rgb8 || !rgb8_lab || !rgbf || !rgbf_lab || !lab || !lab_rgb) return test_finish("test_color");
    test_srgb8(rgb8, rgb8_lab);
    test_float_and_linear(rgbf, rgbf_lab);
    test_lab_clipped(lab, lab_rgb);
    test_lightness_only(rgbf, rgbf_lab);
    test_gamut_fit(lab);
    test_lightness_tables();
    /* neutral greys are neutral to within the rounding of skimage's matrix */
    float grey[3] = {0.5f, 0.5f, 0.5f}, gl[3];
    nn_srgb_to_lab(gl, grey, 1);
    CHECK(fabsf(gl[1]) < 1e-2f && fabsf(gl[2]) < 1e-2f, "grey has chroma %g %g", gl[1], gl[2]);
    golden_free(&g);
    return test_finish("test_color");
}
