/* unet_io.c — the U-Net and the weights file (nn_unet_io.h): the
 * architecture as "arch.*" metadata, each unit's parameters and batch-norm
 * buffers as "<unit>.<suffix>" tensors, and every tensor's name and shape
 * checked against the architecture before anything is copied. Through
 * nn_unet.h's accessors only. */
#include "nn_unet_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_keys.h"

static const char *const PARAM_SUFFIX[NN_UNIT_PARAM_KINDS] = {
    [NN_UNIT_CONV_WEIGHT] = "conv.weight", [NN_UNIT_CONV_BIAS] = "conv.bias",
    [NN_UNIT_BN_GAMMA] = "bn.weight", [NN_UNIT_BN_BETA] = "bn.bias"};
static const char *const BUFFER_SUFFIX[NN_UNIT_BUFFER_KINDS] = {
    [NN_UNIT_BN_RUNNING_MEAN] = "bn.running_mean", [NN_UNIT_BN_RUNNING_VAR] = "bn.running_var"};

/* Expected dims of a unit's tensor; returns the rank. */
static uint32_t expected_dims(const nn_unit *t, int is_weight, uint64_t dims[NN_MAX_DIMS]) {
    if (!is_weight) {
        dims[0] = (uint64_t)t->conv.c_out;
        return 1;
    }
    dims[0] = (uint64_t)t->conv.c_out;
    dims[1] = (uint64_t)t->conv.c_in;
    dims[2] = dims[3] = (uint64_t)t->conv.k;
    return 4;
}

nn_status nn_unet_to_weights(nn_unet *m, nn_weights *w) {
    const nn_unet_config *c = nn_unet_get_config(m);
    nn_status st = nn_weights_set_str(w, NN_KEY_ARCH_NAME, "unet-colorizer");
    if (!st) st = nn_weights_set_u32(w, NN_KEY_ARCH_IN_CHANNELS, (uint32_t)c->in_channels);
    if (!st) st = nn_weights_set_u32(w, NN_KEY_ARCH_BASE_WIDTH, (uint32_t)c->base_width);
    if (!st) st = nn_weights_set_u32(w, NN_KEY_ARCH_DEPTH, (uint32_t)c->depth);
    if (!st) st = nn_weights_set_u32(w, NN_KEY_ARCH_NUM_BINS, (uint32_t)c->num_bins);
    if (!st) st = nn_weights_set_str(w, NN_KEY_ARCH_UPSAMPLE, c->upsample == NN_UPSAMPLE_BILINEAR ? "bilinear" : "nearest");
    if (!st) st = nn_weights_set_str(w, NN_KEY_ARCH_ACTIVATION, c->activation == NN_ACT_RELU ? "relu" : "leaky_relu");
    if (!st) st = nn_weights_set_f32(w, NN_KEY_ARCH_LEAKY_SLOPE, c->leaky_slope);
    if (!st) st = nn_weights_set_f32(w, NN_KEY_ARCH_BN_EPS, c->bn_eps);
    if (!st) st = nn_weights_set_f32(w, NN_KEY_ARCH_BN_MOMENTUM, c->bn_momentum);
    char name[64];
    uint64_t dims[NN_MAX_DIMS];
    for (int u = 0; u < nn_unet_num_units(m) && st == NN_OK; u++) {
        const nn_unit *t = nn_unet_unit(m, u);
        for (int k = 0; k < NN_UNIT_PARAM_KINDS && st == NN_OK; k++) {
            if (!t->param_count[k]) continue;
            snprintf(name, sizeof name, "%s.%s", t->name, PARAM_SUFFIX[k]);
            st = nn_weights_add_tensor(w, name, expected_dims(t, k == NN_UNIT_CONV_WEIGHT, dims),
                                       dims, nn_unet_param(m, u, (nn_unit_param)k));
        }
        for (int k = 0; k < NN_UNIT_BUFFER_KINDS && st == NN_OK && t->has_bn; k++) {
            snprintf(name, sizeof name, "%s.%s", t->name, BUFFER_SUFFIX[k]);
            st = nn_weights_add_tensor(w, name, expected_dims(t, 0, dims), dims,
                                       nn_unet_buffer(m, u, (nn_unit_buffer)k));
        }
    }
    return st == NN_OK ? NN_OK : NN_ERR_NOMEM;
}

nn_status nn_unet_config_from_weights(const nn_weights *w, nn_unet_config *cfg, const char *name,
                                      nn_error *err) {
    nn_error e = {0};
    const char *arch, *up, *act;
    char safe[80];
    uint32_t in_ch, base, depth, bins;
    *cfg = nn_unet_default_config(2);
    if (nn_weights_get_str(w, NN_KEY_ARCH_NAME, &arch, &e) || nn_weights_get_u32(w, NN_KEY_ARCH_IN_CHANNELS, &in_ch, &e) ||
        nn_weights_get_u32(w, NN_KEY_ARCH_BASE_WIDTH, &base, &e) || nn_weights_get_u32(w, NN_KEY_ARCH_DEPTH, &depth, &e) ||
        nn_weights_get_u32(w, NN_KEY_ARCH_NUM_BINS, &bins, &e) || nn_weights_get_str(w, NN_KEY_ARCH_UPSAMPLE, &up, &e) ||
        nn_weights_get_str(w, NN_KEY_ARCH_ACTIVATION, &act, &e) ||
        nn_weights_get_f32(w, NN_KEY_ARCH_LEAKY_SLOPE, &cfg->leaky_slope, &e) ||
        nn_weights_get_f32(w, NN_KEY_ARCH_BN_EPS, &cfg->bn_eps, &e) ||
        nn_weights_get_f32(w, NN_KEY_ARCH_BN_MOMENTUM, &cfg->bn_momentum, &e))
        return nn_set_error(err, NN_ERR_FORMAT, "%s: %s", name, e.msg);
    if (strcmp(arch, "unet-colorizer") != 0)
        return nn_set_error(err, NN_ERR_FORMAT, "%s: unknown architecture '%s'", name, nn_escape(arch, safe, sizeof safe));
    if (in_ch > 64 || base > 512 || depth > 6 || bins > 4096)
        return nn_set_error(err, NN_ERR_FORMAT, "%s: absurd architecture (%u inputs, width %u, depth %u, %u bins)",
                            name, in_ch, base, depth, bins);
    cfg->in_channels = (int)in_ch;
    cfg->base_width = (int)base;
    cfg->depth = (int)depth;
    cfg->num_bins = (int)bins;
    if (strcmp(up, "bilinear") == 0) cfg->upsample = NN_UPSAMPLE_BILINEAR;
    else if (strcmp(up, "nearest") == 0) cfg->upsample = NN_UPSAMPLE_NEAREST;
    else return nn_set_error(err, NN_ERR_FORMAT, "%s: unknown upsampling '%s'", name, nn_escape(up, safe, sizeof safe));
    if (strcmp(act, "relu") == 0) cfg->activation = NN_ACT_RELU;
    else if (strcmp(act, "leaky_relu") == 0) cfg->activation = NN_ACT_LEAKY_RELU;
    else return nn_set_error(err, NN_ERR_FORMAT, "%s: unknown activation '%s'", name, nn_escape(act, safe, sizeof safe));
    if (nn_unet_config_check(cfg, &e) != NN_OK)
        return nn_set_error(err, NN_ERR_FORMAT, "%s: %s", name, e.msg);
    return NN_OK;
}

/* Finds the unit's tensor in w and checks its shape; copies it into dst
 * unless dst is NULL (a check only). */
static nn_status load_tensor(const nn_weights *w, const nn_unit *t, const char *suffix,
                             int is_weight, float *dst, const char *file, nn_error *err) {
    char name[64];
    snprintf(name, sizeof name, "%s.%s", t->name, suffix);
    const nn_tensor_entry *e = nn_weights_find_tensor(w, name);
    if (!e) return nn_set_error(err, NN_ERR_FORMAT, "%s: tensor '%s' is missing", file, name);
    uint64_t dims[NN_MAX_DIMS];
    uint32_t rank = expected_dims(t, is_weight, dims);
    int same = e->ndims == rank;
    for (uint32_t i = 0; same && i < rank; i++) same = e->dims[i] == dims[i];
    if (!same) {
        char got[96] = "", want[96] = "";
        for (uint32_t i = 0; i < e->ndims; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), i ? ",%llu" : "%llu",
                     (unsigned long long)e->dims[i]);
        for (uint32_t i = 0; i < rank; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), i ? ",%llu" : "%llu",
                     (unsigned long long)dims[i]);
        return nn_set_error(err, NN_ERR_FORMAT,
                            "%s: tensor '%s' has shape (%s) but the architecture needs (%s)",
                            file, name, got, want);
    }
    size_t n = 1;
    for (uint32_t i = 0; i < rank; i++) n *= dims[i];
    if (dst) memcpy(dst, e->data, n * sizeof(float));
    return NN_OK;
}

/* Finds every tensor of the units in w and checks its shape, copying it
 * into m where m is given (else a check only); then checks that w holds
 * no other tensor. */
static nn_status each_tensor(const nn_unit *units, int n_units, nn_unet *m, const nn_weights *w, const char *file,
                             nn_error *err) {
    size_t expected = 0;
    nn_status st = NN_OK;
    for (int u = 0; u < n_units && st == NN_OK; u++) {
        const nn_unit *t = &units[u];
        for (int k = 0; k < NN_UNIT_PARAM_KINDS && st == NN_OK; k++)
            if (t->param_count[k]) {
                expected++;
                st = load_tensor(w, t, PARAM_SUFFIX[k], k == NN_UNIT_CONV_WEIGHT,
                                 m ? nn_unet_param(m, u, (nn_unit_param)k) : NULL, file, err);
            }
        for (int k = 0; k < NN_UNIT_BUFFER_KINDS && st == NN_OK && t->has_bn; k++) {
            expected++;
            st = load_tensor(w, t, BUFFER_SUFFIX[k], 0, m ? nn_unet_buffer(m, u, (nn_unit_buffer)k) : NULL, file,
                             err);
        }
    }
    if (st == NN_OK && w->n_tensors != expected)
        st = nn_set_error(err, NN_ERR_FORMAT, "%s: %zu tensors, but the architecture has %zu", file, w->n_tensors,
                          expected);
    return st;
}

nn_status nn_unet_check_weights(const nn_unet_config *cfg, const nn_weights *w, const char *file, nn_error *err) {
    nn_unit *units;
    int n_units;
    nn_status st = nn_unet_plan_units(cfg, &units, &n_units, err);
    if (st == NN_OK) st = each_tensor(units, n_units, NULL, w, file, err);
    free(units);
    return st;
}

nn_status nn_unet_load_weights(nn_unet *m, const nn_weights *w, const char *file, nn_error *err) {
    nn_status st = each_tensor(nn_unet_unit(m, 0), nn_unet_num_units(m), m, w, file, err);
    if (st != NN_OK) return st;
    for (int u = 0; u < nn_unet_num_units(m); u++) {
        const nn_unit *t = nn_unet_unit(m, u);
        const float *rv = nn_unet_buffer(m, u, NN_UNIT_BN_RUNNING_VAR);
        for (int c = 0; rv && c < t->conv.c_out; c++)
            if (rv[c] < 0.0f)
                return nn_set_error(err, NN_ERR_FORMAT, "%s: unit '%s' has a negative running variance", file,
                                    t->name);
    }
    nn_unet_params_changed(m);
    return NN_OK;
}
