/* colorizer.c — the colorizer as the trainer and the plug-in load it: the
 * U-Net plus its ab bins from the weights file, the network input encoding
 * of whole images and its metadata, the vividness-to-temperature mapping,
 * decoding at a vividness, the training prior, and batched prediction of
 * ab, logits and features. */
#include "nn_colorizer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_keys.h"
#include "nn_unet_io.h"
#include "../private/nn_internal.h"

void nn_encode_input(float *in, const float *L, const float *hint_ab, const float *hint_mask,
                     int n, int hw) {
    for (int i = 0; i < n; i++) {
        float *x = in + (size_t)i * NN_INPUT_CHANNELS * hw;
        const float *l = L + (size_t)i * hw;
        const float *h = hint_ab && hint_mask ? hint_ab + (size_t)i * 2 * hw : NULL;
        const float *m = h ? hint_mask + (size_t)i * hw : NULL;
        for (int p = 0; p < hw; p++)
            nn_encode_pixel(x + p, (size_t)hw, l[p], m && m[p] > 0.0f, h ? h[p] : 0.0f, h ? h[hw + p] : 0.0f);
    }
}

float nn_vividness_to_temperature(float v) {
    if (!(v >= 0.0f)) v = 0.0f;
    if (v > 1.0f) v = 1.0f;
    return powf(NN_VIVID_TEMPERATURE, v);
}

nn_status nn_vivid_decoding(const float *rebalance, int Q, float vividness, float **bias_out, float *temperature) {
    if (!(vividness >= 0.0f)) vividness = 0.0f;
    if (vividness > 1.0f) vividness = 1.0f;
    float *bias = NULL;
    if (rebalance && vividness < 1.0f) {
        bias = malloc(sizeof(float) * (size_t)Q);
        if (!bias) return NN_ERR_NOMEM;
        for (int q = 0; q < Q; q++) bias[q] = -(1.0f - vividness) * logf(rebalance[q] > 1e-30f ? rebalance[q] : 1e-30f);
    }
    *bias_out = bias;
    *temperature = nn_vividness_to_temperature(vividness);
    return NN_OK;
}

nn_status nn_decode_vivid(float *ab, const float *logits, const float *bin_ab, const float *rebalance, int N,
                          int Q, int hw, float vividness) {
    float *bias, T;
    if (nn_vivid_decoding(rebalance, Q, vividness, &bias, &T) != NN_OK) return NN_ERR_NOMEM;
    nn_decode_annealed_mean(ab, logits, bin_ab, bias, N, Q, hw, T);
    free(bias);
    return NN_OK;
}

nn_status nn_ab_metadata_set(nn_weights *w, nn_ab_grid g, const uint32_t *bins,
                             const float *rebalance, int num_bins, float lambda) {
    nn_status st = nn_weights_set_str(w, NN_KEY_COLOR_SPACE, "CIELAB-D65");
    if (!st) st = nn_weights_set_str(w, NN_KEY_INPUT_ENCODING, NN_INPUT_ENCODING);
    if (!st) st = nn_weights_set_f32(w, NN_KEY_AB_GRID_STEP, g.step);
    if (!st) st = nn_weights_set_f32(w, NN_KEY_AB_GRID_MIN, g.min);
    if (!st) st = nn_weights_set_u32(w, NN_KEY_AB_GRID_SIZE, (uint32_t)g.size);
    if (!st) st = nn_weights_set_u32_array(w, NN_KEY_AB_BINS, bins, (uint64_t)num_bins);
    if (!st && rebalance) st = nn_weights_set_f32_array(w, NN_KEY_AB_REBALANCE_WEIGHTS, rebalance, (uint64_t)num_bins);
    if (!st) st = nn_weights_set_f32(w, NN_KEY_AB_REBALANCE_LAMBDA, lambda);
    return st;
}

void nn_colorizer_free(nn_colorizer *c) {
    if (!c) return;
    nn_unet_free(c->net);
    nn_ab_bins_free(&c->ab);
    nn_weights_free(&c->meta);
    free(c);
}

/* Copies the metadata of w (not its tensors) into dst. */
static nn_status copy_metadata(nn_weights *dst, const nn_weights *w) {
    for (size_t i = 0; i < w->n_meta; i++) {
        const nn_meta *m = &w->meta[i];
        nn_status st = NN_OK;
        switch (m->type) {
        case NN_META_U32: st = nn_weights_set_u32(dst, m->key, m->v.u32); break;
        case NN_META_I32: st = nn_weights_set_i32(dst, m->key, m->v.i32); break;
        case NN_META_F32: st = nn_weights_set_f32(dst, m->key, m->v.f32); break;
        case NN_META_U64: st = nn_weights_set_u64(dst, m->key, m->v.u64); break;
        case NN_META_F64: st = nn_weights_set_f64(dst, m->key, m->v.f64); break;
        case NN_META_STR: st = nn_weights_set_str(dst, m->key, m->str); break;
        case NN_META_U32_ARRAY: st = nn_weights_set_u32_array(dst, m->key, m->array, m->count); break;
        case NN_META_F32_ARRAY: st = nn_weights_set_f32_array(dst, m->key, m->array, m->count); break;
        }
        if (st != NN_OK) return st;
    }
    return NN_OK;
}

nn_status nn_colorizer_from_weights(nn_colorizer **out, const nn_weights *w, const char *name,
                                    int max_batch, int tile, nn_error *err) {
    *out = NULL;
    nn_colorizer *c = calloc(1, sizeof *c);
    if (!c) return nn_set_error(err, NN_ERR_NOMEM, "%s: out of memory", name);
    nn_weights_init(&c->meta);
    nn_status st = nn_unet_config_from_weights(w, &c->cfg, name, err);
    if (st) goto fail;
    if (c->cfg.in_channels != NN_INPUT_CHANNELS) {
        st = nn_set_error(err, NN_ERR_FORMAT, "%s: the model takes %d input channels, not %d", name,
                          c->cfg.in_channels, NN_INPUT_CHANNELS);
        goto fail;
    }
    st = nn_unet_check_weights(&c->cfg, w, name, err); /* before the architecture's memory is reserved */
    if (st) goto fail;
    st = nn_ab_bins_from_weights(&c->ab, w, name, c->cfg.num_bins, 0, err);
    if (st) goto fail;
    c->tile = tile;
    c->max_batch = max_batch;
    st = nn_unet_create(&c->net, &c->cfg, max_batch, tile, tile, err);
    if (st) goto fail;
    st = nn_unet_load_weights(c->net, w, name, err);
    if (st) goto fail;
    nn_unet_set_precision(c->net, nn_default_precision()); /* bf16 where the CPU runs it */
    if (copy_metadata(&c->meta, w) != NN_OK) {
        st = nn_set_error(err, NN_ERR_NOMEM, "%s: out of memory", name);
        goto fail;
    }
    *out = c;
    return NN_OK;
fail:
    nn_colorizer_free(c);
    return st;
}

nn_status nn_colorizer_load(nn_colorizer **out, const char *path, int max_batch, int tile,
                            nn_error *err) {
    nn_weights w;
    nn_status st = nn_weights_load(&w, path, err);
    if (st) return st;
    st = nn_colorizer_from_weights(out, &w, path, max_batch, tile, err);
    nn_weights_free(&w);
    return st;
}

nn_status nn_colorizer_predict(nn_colorizer *c, const float *in, int n, float vividness, float *ab,
                               nn_error *err) {
    const int hw = c->tile * c->tile;
    for (int i = 0; i < n; i += c->max_batch) {
        int nb = n - i < c->max_batch ? n - i : c->max_batch;
        const float *logits;
        nn_status st = nn_unet_forward(c->net, in + (size_t)i * NN_INPUT_CHANNELS * hw, nb,
                                       NN_MODE_EVAL, &logits, err);
        if (st) return st;
        if (nn_decode_vivid(ab + (size_t)i * 2 * hw, logits, c->ab.bin_ab, c->ab.rebalance, nb, c->ab.num_bins, hw,
                            vividness) != NN_OK)
            return nn_set_error(err, NN_ERR_NOMEM, "out of memory");
    }
    return NN_OK;
}

nn_status nn_colorizer_logits(nn_colorizer *c, const float *in, int n, const float **logits, nn_error *err) {
    if (n < 1 || n > c->max_batch)
        return nn_set_error(err, NN_ERR_INVALID, "%d tiles is outside 1..%d", n, c->max_batch);
    return nn_unet_forward(c->net, in, n, NN_MODE_EVAL, logits, err);
}

nn_status nn_colorizer_features(nn_colorizer *c, const float *in, int n, const float **features, nn_error *err) {
    if (n < 1 || n > c->max_batch)
        return nn_set_error(err, NN_ERR_INVALID, "%d tiles is outside 1..%d", n, c->max_batch);
    return nn_unet_forward_features(c->net, in, n, features, err);
}

void nn_colorizer_head_columns(const nn_colorizer *c, const float *features, int tile, int p0, int np,
                               float *logits) {
    const size_t per_tile = (size_t)nn_unet_get_config(c->net)->base_width * c->tile * c->tile;
    nn_unet_head_columns(c->net, features + (size_t)tile * per_tile, p0, np, logits);
}

nn_status nn_colorizer_distribution(nn_colorizer *c, const float *in, int pixel, const float *extra, float *prob,
                                    nn_error *err) {
    const int hw = c->tile * c->tile, Q = c->ab.num_bins;
    if (pixel < 0 || pixel >= hw) return nn_set_error(err, NN_ERR_INVALID, "pixel %d is outside the tile", pixel);
    const float *logits;
    nn_status st = nn_unet_forward(c->net, in, 1, NN_MODE_EVAL, &logits, err);
    if (st) return st;
    double max = -1e30, sum = 0.0;
    for (int q = 0; q < Q; q++) {
        float w = c->ab.rebalance && c->ab.rebalance[q] > 1e-30f ? c->ab.rebalance[q] : 1.0f;
        prob[q] = logits[(size_t)q * hw + pixel] - logf(w) + (extra ? extra[q] : 0.0f);
        if (prob[q] > max) max = prob[q];
    }
    for (int q = 0; q < Q; q++) sum += prob[q] = expf((float)(prob[q] - max));
    for (int q = 0; q < Q; q++) prob[q] = (float)(prob[q] / sum);
    return NN_OK;
}

/* The rebalancing weights were w_q ∝ 1 / ((1 - λ) p_q + λ / Q) (loss.c), so
 * p_q = (1 / (k w_q) - λ / Q) / (1 - λ) with k = Σ 1 / w_q. */
void nn_colorizer_log_prior(const nn_colorizer *c, float *log_prior) {
    const int Q = c->ab.num_bins;
    const float lambda = c->ab.lambda; /* read with the bins (nn_ab_bins_from_weights) */
    for (int q = 0; q < Q; q++) log_prior[q] = 0.0f; /* uniform, up to a constant */
    if (!c->ab.rebalance) return; /* no prior known: uniform */
    if (!(lambda >= 0.0f && lambda < 1.0f)) return;
    double k = 0.0;
    for (int q = 0; q < Q; q++) k += 1.0 / c->ab.rebalance[q];
    for (int q = 0; q < Q; q++) {
        double p = (1.0 / (c->ab.rebalance[q] * k) - lambda / Q) / (1.0 - lambda);
        log_prior[q] = (float)log(p > NN_MIN_BIN_PRIOR ? p : NN_MIN_BIN_PRIOR);
    }
}
