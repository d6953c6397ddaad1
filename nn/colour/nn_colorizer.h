/* nn_colorizer.h — the colorizer: the U-Net with its ab bins, input encoding,
 * vividness and batched prediction. Implemented by colorizer.c. Part of the
 * nn library; include nn.h for all of it. */
#ifndef NN_COLORIZER_H
#define NN_COLORIZER_H

#include <stddef.h>
#include <stdint.h>

#include "nn_ab.h"
#include "nn_unet.h"
#include "nn_weights.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Network input encoding: channel 0 is L / 50 - 1, channels 1-2 the hint's
 * a / 110 and b / 110 (0 without a hint), channel 3 the hint mask. */
#define NN_INPUT_CHANNELS 4
#define NN_AB_SCALE 110.0f
/* The side of the tiles the network colours: the size of CIFAR-10's images. */
#define NN_TILE_SIDE 32
/* Tiles per network call (a colorizer's max_batch): the plug-in's, where
 * the activations take about 50 MB and larger batches are no faster; the
 * command line's; and the most the engine asks for at once, whatever the
 * colorizer holds. */
#define NN_TILE_BATCH_INTERACTIVE 16
#define NN_TILE_BATCH 128
#define NN_TILE_BATCH_MAX 256

/* The network's input for one pixel, its channels `plane` floats apart:
 * L/50 − 1, then with a hint its a and b over NN_AB_SCALE and 1, else 0,
 * 0, 0. NN_INPUT_ENCODING names it in the weights file: the one encoding,
 * and its one description beside it. */
#define NN_INPUT_ENCODING "L/50-1, hint a/110, hint b/110, hint mask"
static inline void nn_encode_pixel(float *x, size_t plane, float L, int hinted, float a, float b) {
    x[0] = L * (1.0f / 50.0f) - 1.0f;
    x[plane] = hinted ? a / NN_AB_SCALE : 0.0f;
    x[2 * plane] = hinted ? b / NN_AB_SCALE : 0.0f;
    x[3 * plane] = hinted ? 1.0f : 0.0f;
}

/* Writes the network input for n images of hw pixels. hint_ab and
 * hint_mask may be NULL (no hints). */
void nn_encode_input(float *in,              // (n, 4, H, W)
                     const float *L,         // (n, H, W) in Lab units
                     const float *hint_ab,   // (n, 2, H, W) or NULL
                     const float *hint_mask, // (n, H, W) or NULL
                     int n, int hw);

/* Vividness v in [0, 1] sets the decoding. A network trained with class
 * rebalancing weights w learns p_model ∝ w · p_true, so the faithful
 * estimate divides the weights out again: v = 0 is the plain mean of the
 * prior-corrected distribution (bias -log w, T = 1). Towards v = 1 the
 * correction fades (bias -(1 - v) log w) and the temperature falls to
 * NN_VIVID_TEMPERATURE (T = 0.38^v, geometric), which is vivid. */
#define NN_VIVID_TEMPERATURE 0.38f
float nn_vividness_to_temperature(float vividness);
/* Vividness runs from 0 (faithful) to NN_MAX_VIVIDNESS (vivid). */
#define NN_DEFAULT_VIVIDNESS 0.0f
#define NN_MAX_VIVIDNESS 1
/* Decodes with the vividness setting; rebalance (Q) may be NULL (no
 * correction). Returns NN_ERR_NOMEM if a scratch allocation fails. */
nn_status nn_decode_vivid(float *ab,              // (N, 2, H, W)
                          const float *logits,    // (N, Q, H, W)
                          const float *bin_ab,    // (Q, 2)
                          const float *rebalance, // (Q) or NULL
                          int N, int Q, int hw, float vividness);

/* A loaded colorizer: the network (BN folded) and its ab bins. */
typedef struct {
    nn_unet *net;
    nn_unet_config cfg;
    nn_ab_bins ab;    /* its ab bins (no cell map) */
    int tile, max_batch;
    nn_weights meta;  /* the file's metadata (tensors dropped) */
} nn_colorizer;

/* Loads a weights file for inference on batches of up to max_batch tiles of
 * tile×tile pixels. Its products run at nn_default_precision() (bf16 where
 * the CPU has AVX512-BF16); nn_unet_set_precision(c->net, …) changes that. */
nn_status nn_colorizer_load(nn_colorizer **out, const char *path, int max_batch, int tile,
                            nn_error *err);
/* The same from parsed weights (name is used in messages). */
nn_status nn_colorizer_from_weights(nn_colorizer **out, const nn_weights *w, const char *name,
                                    int max_batch, int tile, nn_error *err);
void nn_colorizer_free(nn_colorizer *c);
/* Runs the network over n encoded tiles (any n; batched by max_batch) and
 * decodes ab at the vividness (nn_decode_vivid). Uses the BN-folded network. */
nn_status nn_colorizer_predict(nn_colorizer *c, const float *in, // (n, 4, tile, tile)
                               int n, float vividness,
                               float *ab, // (n, 2, tile, tile)
                               nn_error *err);
/* Runs the network over 1..max_batch encoded tiles; *logits is the
 * network's own output buffer, valid until the next call. */
nn_status nn_colorizer_logits(nn_colorizer *c, const float *in, // (n, 4, tile, tile)
                              int n, const float **logits,       // (n, Q, tile, tile)
                              nn_error *err);
/* The same in two steps (nn_unet_forward_features, nn_unet_head_columns):
 * the network but its head over 1..max_batch tiles, then the logits of a
 * few pixels of one tile at a time. */
nn_status nn_colorizer_features(nn_colorizer *c, const float *in, // (n, 4, tile, tile)
                                int n, const float **features,     // (n, C, tile, tile)
                                nn_error *err);
void nn_colorizer_head_columns(const nn_colorizer *c, const float *features, // as nn_colorizer_features gave
                               int tile, int p0, int np, float *logits);     // (Q, np) of that tile
/* The faithful colour distribution (prior-corrected softmax, vividness 0)
 * at pixel `pixel` of one encoded tile, with `extra` (Q, or NULL) added to
 * its logits: prob (Q). */
nn_status nn_colorizer_distribution(nn_colorizer *c, const float *in, // (1, 4, tile, tile)
                                    int pixel, const float *extra, float *prob, nn_error *err);
/* The smallest bin prior used when dividing it out (a bin seen once in
 * CIFAR-10's 46 M pixels has about 2e-8). */
#define NN_MIN_BIN_PRIOR 1e-6
/* log_prior (Q): the log of the training set's bin prior, recovered from
 * the rebalancing weights (uniform when the model has none). Dividing it
 * out of a second opinion on the colours (the scene, a reference) makes
 * the fusion a product of experts, p(c | tile, other) ∝ p(c | tile)
 * p(c | other) / p(c): otherwise the prior counts twice and pulls every
 * colour towards the common, desaturated bins. */
void nn_colorizer_log_prior(const nn_colorizer *c, float *log_prior);
/* Writes the ab-grid metadata (ab.*, color.space) into w. */
nn_status nn_ab_metadata_set(nn_weights *w, nn_ab_grid g, const uint32_t *bins,
                             const float *rebalance, int num_bins, float lambda);

/* The per-bin bias of decoding at a vividness (the rebalancing weights
 * partly divided out; NULL where there is none to add, *bias_out too) and
 * its temperature; NN_ERR_NOMEM where the bias cannot be had. */
nn_status nn_vivid_decoding(const float *rebalance, int Q, float vividness, float **bias_out, float *temperature);

#ifdef __cplusplus
}
#endif
#endif
