/* dist.c — data-parallel training over MPI: the ranks of a job, the sums
 * of gradients and statistics across them, and their agreement on whether
 * to go on. Built without MPI (or run without mpirun) it is one rank and
 * every call is a no-op, so a run is the same as without this file. */
#include <stdlib.h>

#include "trainer.h"

/* The ranks mpirun started (its environment), before MPI is initialized:
 * 1 when started without it. */
int dist_launch_size(void) {
    const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (int i = 0; i < 2; i++) {
        const char *v = getenv(names[i]);
        if (v && atoi(v) > 0) return atoi(v);
    }
    return 1;
}

#ifdef COLORIZE_MPI
#include <mpi.h>

static int g_active; /* MPI_Init was called */
static int g_rank, g_size = 1, g_local_size = 1;

/* mpirun (Open MPI, MPICH, Slurm's PMI) leaves these in each rank's
 * environment; a plain start does not initialize MPI at all. */
static gboolean launched_by_mpirun(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_SIZE") || getenv("PMI_RANK");
}

gboolean dist_init(int *argc, char ***argv, GError **error) {
    if (g_active || !launched_by_mpirun()) return TRUE;
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        g_set_error(error, TRAINER_ERROR, 1, "MPI_Init failed: this process was started by mpirun, "
                    "but MPI could not start");
        return FALSE;
    }
    g_active = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &local);
    MPI_Comm_size(local, &g_local_size);
    MPI_Comm_free(&local);
    return TRUE;
}

void dist_finalize(void) {
    if (g_active) MPI_Finalize();
    g_active = 0, g_rank = 0, g_size = 1, g_local_size = 1;
}

void dist_abort(int code) {
    if (g_active && g_size > 1) MPI_Abort(MPI_COMM_WORLD, code);
}

int dist_rank(void) { return g_rank; }
int dist_size(void) { return g_size; }
int dist_local_size(void) { return g_local_size; }

/* MPI counts are ints: large blocks go in pieces. */
#define DIST_CHUNK (1 << 30)

void dist_sum_floats(float *x, size_t n) {
    if (g_size < 2) return;
    for (size_t i = 0; i < n; i += DIST_CHUNK) {
        int count = (int)(n - i < DIST_CHUNK ? n - i : DIST_CHUNK);
        MPI_Allreduce(MPI_IN_PLACE, x + i, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
}

void dist_sum_doubles(double *x, int n) {
    if (g_size > 1) MPI_Allreduce(MPI_IN_PLACE, x, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

void dist_broadcast_floats(float *x, size_t n) {
    if (g_size < 2) return;
    for (size_t i = 0; i < n; i += DIST_CHUNK) {
        int count = (int)(n - i < DIST_CHUNK ? n - i : DIST_CHUNK);
        MPI_Bcast(x + i, count, MPI_FLOAT, 0, MPI_COMM_WORLD);
    }
}

gboolean dist_all_ok(gboolean ok) {
    if (g_size < 2) return ok;
    int v = ok ? 1 : 0;
    MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return v == 1;
}

gboolean dist_root_ok(gboolean ok) {
    if (g_size < 2) return ok;
    int v = ok ? 1 : 0;
    MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return v == 1;
}

const char *dist_library(void) {
    static char text[MPI_MAX_LIBRARY_VERSION_STRING + 8];
    int len = 0;
    MPI_Get_library_version(text, &len);
    for (int i = 0; i < len; i++)
        if (text[i] == '\n' || text[i] == ',') {
            text[i] = 0;
            break;
        }
    return text;
}

#else /* built without MPI: one rank */

gboolean dist_init(int *argc, char ***argv, GError **error) {
    (void)argc, (void)argv;
    if (dist_launch_size() > 1) {
        g_set_error(error, TRAINER_ERROR, 1, "started by mpirun with %d ranks, but this colorize-train was built "
                    "without MPI (meson setup -Dmpi=enabled, with libopenmpi-dev installed)", dist_launch_size());
        return FALSE;
    }
    return TRUE;
}
void dist_finalize(void) {}
void dist_abort(int code) { (void)code; }
int dist_rank(void) { return 0; }
int dist_size(void) { return 1; }
int dist_local_size(void) { return 1; }
void dist_sum_floats(float *x, size_t n) { (void)x, (void)n; }
void dist_sum_doubles(double *x, int n) { (void)x, (void)n; }
void dist_broadcast_floats(float *x, size_t n) { (void)x, (void)n; }
gboolean dist_all_ok(gboolean ok) { return ok; }
gboolean dist_root_ok(gboolean ok) { return ok; }
const char *dist_library(void) { return NULL; }

#endif
