/* nn.h — public API of the nn library, the umbrella over every module
 * header of nn/kernels/, nn/net/ and nn/colour/ (each implemented by the .c
 * of its name there): a small CNN toolkit (layers with forward
 * and backward passes, Adam, CIE Lab colour, ab-bin decoding, the U-Net
 * colorizer and its weights file). C11, depends on libc, libm and OpenBLAS only.
 * The library never prints and never exits; failures return an nn_status and
 * fill an nn_error with a message that names the file and the problem.
 *
 * Conventions (as in llm.c): tensors are float32 NCHW; every pointer carries a
 * shape comment; a `d` prefix marks a gradient; backward functions ADD into
 * the gradients they produce, so callers zero them explicitly. */
#ifndef NN_H
#define NN_H

/* nn/kernels/: the base (errors, threads, random numbers), the CPU, the
 * GEMM, the convolutions and their epilogues */
#include "nn_core.h"
#include "nn_cpu.h"
#include "nn_gemm.h"
#include "nn_epilogue.h"
#include "nn_conv.h"
#include "nn_winograd.h"
/* nn/net/: a trainable CNN and its file */
#include "nn_layers.h"
#include "nn_loss.h"
#include "nn_optim.h"
#include "nn_file_atomic.h"
#include "nn_weights.h"
#include "nn_keys.h"
#include "nn_unet.h"
#include "nn_unet_io.h"
/* nn/colour/: Lab, ab bins, the colorizer and the full-image engine */
#include "nn_color.h"
#include "nn_ab.h"
#include "nn_colorizer.h"
#include "nn_tiles.h"
#include "nn_scene.h"
#include "nn_guided.h"
#include "nn_propagate.h"
#include "nn_reference.h"
#include "nn_palette.h"
#include "nn_engine.h"
#include "nn_points.h"

#endif
