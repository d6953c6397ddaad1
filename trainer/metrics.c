/* metrics.c — evaluation metrics on 8-bit RGB images: PSNR (whole-set and
 * per-image), SSIM as skimage.metrics.structural_similarity with an 11×11
 * Gaussian window (σ = 1.5), the AuC of the cumulative ab error over 0-150
 * (Zhang et al. 2016), accuracy at ε = 2% and 5% on rounded Lab (Nazeri et
 * al. 2018) and the Hasler–Süsstrunk colourfulness. */
#include <math.h>
#include <string.h>

#include "trainer.h"

#define SSIM_RADIUS 5 /* int(3.5 * 1.5 + 0.5), skimage's truncate = 3.5 */

void metrics_init(metrics_acc *m) { memset(m, 0, sizeof *m); }

double image_psnr(const uint8_t *a, const uint8_t *b, int w, int h) {
    double sse = 0.0;
    size_t n = (size_t)w * h * 3;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        sse += d * d;
    }
    if (sse == 0.0) return 100.0;
    double psnr = 10.0 * log10(255.0 * 255.0 / (sse / (double)n));
    return psnr > 100.0 ? 100.0 : psnr;
}

/* Separable Gaussian filter of one plane, evaluated only where the whole
 * window lies inside the image (skimage crops the border of that width
 * before averaging, so the boundary mode never matters). */
static void gaussian_valid(double *out, const double *in, int w, int h, const double *k,
                           double *tmp /* w × (h - 2r) */) {
    int vw = w - 2 * SSIM_RADIUS, vh = h - 2 * SSIM_RADIUS;
    for (int y = 0; y < vh; y++)
        for (int x = 0; x < w; x++) {
            double s = 0.0;
            for (int t = -SSIM_RADIUS; t <= SSIM_RADIUS; t++) s += k[t + SSIM_RADIUS] * in[(y + SSIM_RADIUS + t) * w + x];
            tmp[y * w + x] = s;
        }
    for (int y = 0; y < vh; y++)
        for (int x = 0; x < vw; x++) {
            double s = 0.0;
            for (int t = -SSIM_RADIUS; t <= SSIM_RADIUS; t++) s += k[t + SSIM_RADIUS] * tmp[y * w + x + SSIM_RADIUS + t];
            out[y * vw + x] = s;
        }
}

double image_ssim(const uint8_t *a, const uint8_t *b, int w, int h) {
    if (w <= 2 * SSIM_RADIUS || h <= 2 * SSIM_RADIUS) return NAN;
    double k[2 * SSIM_RADIUS + 1], ksum = 0.0;
    for (int t = -SSIM_RADIUS; t <= SSIM_RADIUS; t++) ksum += k[t + SSIM_RADIUS] = exp(-0.5 * t * t / (1.5 * 1.5));
    for (int t = 0; t <= 2 * SSIM_RADIUS; t++) k[t] /= ksum;
    const double c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255);
    const int n = w * h, vn = (w - 2 * SSIM_RADIUS) * (h - 2 * SSIM_RADIUS);
    double *buf = g_malloc(sizeof(double) * (6 * (size_t)n + 5 * (size_t)vn));
    double *x = buf, *y = x + n, *xx = y + n, *yy = xx + n, *xy = yy + n;
    double *tmp = xy + n, *ux = tmp + n, *uy = ux + vn, *uxx = uy + vn, *uyy = uxx + vn, *uxy = uyy + vn;
    double total = 0.0;
    for (int c = 0; c < 3; c++) {
        for (int i = 0; i < n; i++) {
            x[i] = a[3 * i + c], y[i] = b[3 * i + c];
            xx[i] = x[i] * x[i], yy[i] = y[i] * y[i], xy[i] = x[i] * y[i];
        }
        gaussian_valid(ux, x, w, h, k, tmp), gaussian_valid(uy, y, w, h, k, tmp);
        gaussian_valid(uxx, xx, w, h, k, tmp), gaussian_valid(uyy, yy, w, h, k, tmp);
        gaussian_valid(uxy, xy, w, h, k, tmp);
        double s = 0.0;
        for (int i = 0; i < vn; i++) {
            double vx = uxx[i] - ux[i] * ux[i], vy = uyy[i] - uy[i] * uy[i], vxy = uxy[i] - ux[i] * uy[i];
            s += (2 * ux[i] * uy[i] + c1) * (2 * vxy + c2) /
                 ((ux[i] * ux[i] + uy[i] * uy[i] + c1) * (vx + vy + c2));
        }
        total += s / vn;
    }
    g_free(buf);
    return total / 3.0;
}

double image_colorfulness(const uint8_t *rgb, int w, int h) {
    double srg = 0, syb = 0, srg2 = 0, syb2 = 0;
    int n = w * h;
    for (int i = 0; i < n; i++) {
        double r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2];
        double rg = r - g, yb = 0.5 * (r + g) - b;
        srg += rg, syb += yb, srg2 += rg * rg, syb2 += yb * yb;
    }
    double mrg = srg / n, myb = syb / n;
    double vrg = srg2 / n - mrg * mrg, vyb = syb2 / n - myb * myb;
    return sqrt(fmax(vrg, 0) + fmax(vyb, 0)) + 0.3 * sqrt(mrg * mrg + myb * myb);
}

void metrics_add(metrics_acc *m, const uint8_t *pred, const uint8_t *gt, int w, int h) {
    const int n = w * h;
    double sse = 0.0;
    for (int i = 0; i < 3 * n; i++) {
        double d = (double)pred[i] - gt[i];
        sse += d * d;
    }
    m->sse += sse;
    m->psnr_sum += image_psnr(pred, gt, w, h);
    m->ssim_sum += image_ssim(pred, gt, w, h);
    m->colorfulness_sum += image_colorfulness(pred, w, h);
    m->colorfulness_gt_sum += image_colorfulness(gt, w, h);
    float *lp = g_malloc(sizeof(float) * 6 * n), *lg = lp + 3 * n;
    nn_srgb8_to_lab(lp, pred, n);
    nn_srgb8_to_lab(lg, gt, n);
    for (int i = 0; i < n; i++) {
        double da = lp[3 * i + 1] - lg[3 * i + 1], db = lp[3 * i + 2] - lg[3 * i + 2];
        double e = ceil(sqrt(da * da + db * db));
        m->auc_hist[e > AUC_THRESHOLDS ? AUC_THRESHOLDS : (int)e]++;
        double dl = fabs(rint(lp[3 * i]) - rint(lg[3 * i]));
        double ra = fabs(rint(lp[3 * i + 1]) - rint(lg[3 * i + 1]));
        double rb = fabs(rint(lp[3 * i + 2]) - rint(lg[3 * i + 2]));
        m->acc2 += dl <= 2.0 && ra <= 0.02 * 220 && rb <= 0.02 * 220;
        m->acc5 += dl <= 5.0 && ra <= 0.05 * 220 && rb <= 0.05 * 220;
    }
    g_free(lp);
    m->pixels += (uint64_t)n;
    m->images++;
}

void metrics_merge(metrics_acc *into, const metrics_acc *from) {
    into->sse += from->sse;
    into->psnr_sum += from->psnr_sum;
    into->ssim_sum += from->ssim_sum;
    into->colorfulness_sum += from->colorfulness_sum;
    into->colorfulness_gt_sum += from->colorfulness_gt_sum;
    for (int i = 0; i <= AUC_THRESHOLDS; i++) into->auc_hist[i] += from->auc_hist[i];
    into->acc2 += from->acc2;
    into->acc5 += from->acc5;
    into->pixels += from->pixels;
    into->images += from->images;
}

metrics_result metrics_finish(const metrics_acc *m) {
    metrics_result r = {0};
    if (!m->images) return r;
    double mse = m->sse / (3.0 * (double)m->pixels);
    r.psnr = mse > 0 ? 10.0 * log10(255.0 * 255.0 / mse) : 100.0;
    r.psnr_mean = m->psnr_sum / m->images;
    r.ssim = m->ssim_sum / m->images;
    r.colorfulness = m->colorfulness_sum / m->images;
    r.colorfulness_gt = m->colorfulness_gt_sum / m->images;
    /* AuC: the mean over thresholds t = 0..150 of the share of pixels whose
     * ab error is at most t. */
    uint64_t cum = 0;
    double area = 0.0;
    for (int t = 0; t < AUC_THRESHOLDS; t++) {
        cum += m->auc_hist[t];
        area += (double)cum / (double)m->pixels;
    }
    r.auc = area / AUC_THRESHOLDS;
    r.acc2 = (double)m->acc2 / (double)m->pixels;
    r.acc5 = (double)m->acc5 / (double)m->pixels;
    r.images = m->images;
    return r;
}

/* Lab of n 8-bit RGB pixels, allocated. */
static float *rgb8_lab(const uint8_t *rgb, size_t n) {
    float *lab = g_malloc(sizeof(float) * 3 * n);
    nn_srgb8_to_lab(lab, rgb, n);
    return lab;
}

double image_wrong_hue(const uint8_t *out, const uint8_t *truth, size_t n) {
    float *lo = rgb8_lab(out, n), *lt = rgb8_lab(truth, n);
    size_t colourful = 0, wrong = 0;
    for (size_t i = 0; i < n; i++) {
        double ct = hypot(lt[3 * i + 1], lt[3 * i + 2]), co = hypot(lo[3 * i + 1], lo[3 * i + 2]);
        if (ct < WRONG_HUE_TRUE_CHROMA) continue;
        colourful++;
        if (co < WRONG_HUE_OUTPUT_CHROMA) continue;
        double d = fabs(atan2(lo[3 * i + 2], lo[3 * i + 1]) - atan2(lt[3 * i + 2], lt[3 * i + 1])) * 180.0 / G_PI;
        if (d > 180.0) d = 360.0 - d;
        wrong += d > WRONG_HUE_DEGREES;
    }
    g_free(lo), g_free(lt);
    return colourful ? (double)wrong / (double)colourful : NAN;
}

double image_mean_chroma(const uint8_t *rgb, size_t n) {
    float *lab = rgb8_lab(rgb, n);
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += hypot(lab[3 * i + 1], lab[3 * i + 2]);
    g_free(lab);
    return n ? sum / (double)n : 0.0;
}

double image_mean_abs_dL(const uint8_t *a, const uint8_t *b, size_t n) {
    float *la = rgb8_lab(a, n), *lb = rgb8_lab(b, n);
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += fabs(la[3 * i] - lb[3 * i]);
    g_free(la), g_free(lb);
    return n ? sum / (double)n : 0.0;
}
