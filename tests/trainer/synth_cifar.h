/* synth_cifar.h — a synthetic CIFAR-10 binary data set for the trainer's
 * tests (synth_cifar.c). */
#ifndef SYNTH_CIFAR_H
#define SYNTH_CIFAR_H

/* A new temporary folder holding data_batch_1..5.bin and test_batch.bin of
 * 10,000 synthetic records each: a sky whose blue follows the row, green
 * ground and a red or yellow disc. Returns its path (g_free it). */
char *synth_cifar_dataset(void);

#endif
