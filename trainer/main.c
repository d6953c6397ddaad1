/* main.c — the colorize-train command line: dispatches to the train, eval
 * and colorize subcommands and answers --help and --version. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "trainer.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: colorize-train COMMAND [OPTION…]\n\n"
            "Commands:\n"
            "  train      train the colorizer on CIFAR-10 (binary version) or on your photos\n"
            "  eval       evaluate a model on the CIFAR-10 test set, or on colour photos\n"
            "  colorize   colorize image files, as the GIMP plug-in does\n\n"
            "Run 'colorize-train COMMAND --help' for a command's options.\n"
            "Options:\n"
            "  -h, --help     show this help\n"
            "  --version      show the version\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        char cpu[256];
        const char *mpi = dist_library();
        printf("colorize-train %s\n%s\nMPI: %s\n", PROJECT_VERSION, nn_cpu_describe(cpu, sizeof cpu),
               mpi ? mpi : "not built in (train runs on one machine)");
        return 0;
    }
    setlocale(LC_ALL, "");
    /* each command's --help reads "Usage: colorize-train COMMAND [OPTION…] …" */
    char prgname[64];
    g_snprintf(prgname, sizeof prgname, "colorize-train %s", cmd);
    g_set_prgname(prgname);
    if (strcmp(cmd, "train") == 0) return command_train(argc - 1, argv + 1);
    if (dist_launch_size() > 1) { /* each rank would do the whole work again */
        fprintf(stderr, "colorize-train %s: only train runs over MPI; run %s without mpirun\n", cmd, cmd);
        return 2;
    }
    if (strcmp(cmd, "eval") == 0) return command_eval(argc - 1, argv + 1);
    if (strcmp(cmd, "colorize") == 0) return command_colorize(argc - 1, argv + 1);
    fprintf(stderr, "colorize-train: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
