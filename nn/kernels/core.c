/* core.c — errors, the thread count and parallel loops (the library's own
 * pool), OpenBLAS's buffers, the seeded PRNG and He initialization. The
 * threaded GEMM driver is gemm.c's, the CPU features cpu.c's. */
#include "nn_core.h"

#include <math.h>
#include <pthread.h>
#include <sys/mman.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cblas.h>

#include "../private/nn_internal.h"

nn_status nn_set_error(nn_error *err, nn_status status, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

const char *nn_escape(const char *s, char *buf, size_t cap) {
    const char *start = s;
    size_t o = 0;
    for (; *s && o + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f) o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
        else buf[o++] = (char)c;
    }
    /* cut inside a UTF-8 character: its bytes (copied as they are) are taken back */
    while (*s && s > start && o > 0 && ((unsigned char)*s & 0xC0) == 0x80 && (unsigned char)s[-1] >= 0x80) s--, o--;
    if (*s && o + 4 <= cap) memcpy(buf + o, "...", 3), o += 3;
    buf[o < cap ? o : cap - 1] = 0;
    return buf;
}

const char *nn_status_name(nn_status status) {
    switch (status) {
    case NN_OK: return "ok";
    case NN_ERR_NOMEM: return "out of memory";
    case NN_ERR_IO: return "input/output error";
    case NN_ERR_FORMAT: return "bad file format";
    case NN_ERR_INVALID: return "invalid argument";
    case NN_ERR_CANCELLED: return "cancelled";
    }
    return "unknown error";
}

/* ---------------------------------------------------------------- threads */

static int g_threads = 1;

void nn_set_threads(int n) {
    if (n < 1) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (int)cores : 1;
    }
    if (n > NN_MAX_THREADS) n = NN_MAX_THREADS;
    g_threads = n;
    /* OpenBLAS runs single-threaded: the library splits each GEMM across its
     * own threads (nn_sgemm), so no idle BLAS workers spin beside them. */
    openblas_set_num_threads(1);
}

int nn_get_threads(void) { return g_threads; }

static int g_blas_buffers_mapped; /* set once OpenBLAS has its buffers for g_blas_threads threads */
static int g_blas_threads;

void nn_blas_buffers_mapped(void) {
    __atomic_store_n(&g_blas_threads, g_threads, __ATOMIC_RELAXED);
    __atomic_store_n(&g_blas_buffers_mapped, 1, __ATOMIC_RELEASE);
}

nn_status nn_blas_address_space_check(nn_error *err) {
    if (__atomic_load_n(&g_blas_buffers_mapped, __ATOMIC_ACQUIRE) &&
        __atomic_load_n(&g_blas_threads, __ATOMIC_RELAXED) >= g_threads)
        return NN_OK; /* OpenBLAS reuses the buffers it mapped */
    /* each thread that calls into OpenBLAS maps a buffer on its first call,
     * and Debian's OpenBLAS 0.3.21 retries that mapping forever when the
     * address space is limited (ulimit -v): make sure it fits now. The
     * probes take address space only (PROT_NONE) and are given back. */
    const int n = g_threads + 1;
    void *probe[NN_MAX_THREADS + 1];
    int got = 0;
    for (; got < n; got++) {
        probe[got] = mmap(NULL, NN_BLAS_BUFFER_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (probe[got] == MAP_FAILED) break;
    }
    for (int i = 0; i < got; i++) munmap(probe[i], NN_BLAS_BUFFER_BYTES);
    if (got == n) return NN_OK;
    return nn_set_error(err, NN_ERR_NOMEM,
                        "not enough address space for OpenBLAS's working buffers (%d × %d MB for %d threads): "
                        "raise the limit (ulimit -v) or use fewer threads",
                        n, NN_BLAS_BUFFER_BYTES >> 20, g_threads);
}

/* ------------------------------------------------------------ thread pool */

/* nn_parallel_for runs on workers that start once and then wait for work
 * (creating threads on every call cost more than small layers). Thread 0's
 * range runs on the caller. The ranges depend only on n and the thread
 * count, so results are the same as with threads made per call. One caller
 * uses the pool at a time; a second caller meanwhile (another thread of the
 * application) gets threads of its own, and a call made from inside a
 * range runs on its thread. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    int workers;               /* started: indices 1..workers */
    unsigned long generation;  /* bumped for every call */
    unsigned long born[NN_MAX_THREADS]; /* the generation when each worker started */
    int active, remaining;     /* workers 1..active take part in this call; still running */
    nn_range_fn fn;
    void *ctx;
    int n, t;
} thread_pool;

static thread_pool g_pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER,
                             .done = PTHREAD_COND_INITIALIZER};
static pthread_mutex_t g_pool_owner = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_pool_once = PTHREAD_ONCE_INIT;
static _Thread_local int t_in_range; /* this thread is running a range */

static void run_range(nn_range_fn fn, void *ctx, int n, int t, int i) {
    const int begin = (int)((long)n * i / t), end = (int)((long)n * (i + 1) / t);
    t_in_range = 1;
    if (end > begin) fn(ctx, begin, end);
    t_in_range = 0;
}

static void *pool_worker(void *arg) {
    const int index = (int)(intptr_t)arg;
    pthread_mutex_lock(&g_pool.mu);
    unsigned long seen = g_pool.born[index];
    for (;;) {
        while (g_pool.generation == seen) pthread_cond_wait(&g_pool.wake, &g_pool.mu);
        seen = g_pool.generation;
        if (index > g_pool.active) continue;
        nn_range_fn fn = g_pool.fn;
        void *ctx = g_pool.ctx;
        const int n = g_pool.n, t = g_pool.t;
        pthread_mutex_unlock(&g_pool.mu);
        run_range(fn, ctx, n, t, index);
        pthread_mutex_lock(&g_pool.mu);
        if (--g_pool.remaining == 0) pthread_cond_signal(&g_pool.done);
    }
    return NULL;
}

/* A forked child has only the thread that forked: it starts a pool anew. */
static void pool_after_fork(void) {
    pthread_mutex_init(&g_pool.mu, NULL);
    pthread_cond_init(&g_pool.wake, NULL);
    pthread_cond_init(&g_pool.done, NULL);
    pthread_mutex_init(&g_pool_owner, NULL);
    g_pool.workers = 0, g_pool.active = 0, g_pool.remaining = 0;
}

static void pool_register_fork(void) { pthread_atfork(NULL, NULL, pool_after_fork); }

/* Workers 1..want-1 exist, as far as threads can be made; returns how many do. */
static int pool_grow(int want) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    while (g_pool.workers < want - 1) {
        const int index = g_pool.workers + 1;
        pthread_t tid;
        g_pool.born[index] = g_pool.generation;
        if (pthread_create(&tid, &attr, pool_worker, (void *)(intptr_t)index) != 0) break;
        g_pool.workers = index;
    }
    pthread_attr_destroy(&attr);
    return g_pool.workers;
}

typedef struct {
    nn_range_fn fn;
    void *ctx;
    int n, t, i;
} range_job;

static void *run_range_job(void *arg) {
    range_job *job = arg;
    run_range(job->fn, job->ctx, job->n, job->t, job->i);
    return NULL;
}

/* Threads made for this call only (the pool is busy with another caller). */
static void parallel_for_own_threads(int n, int t, nn_range_fn fn, void *ctx) {
    range_job jobs[NN_MAX_THREADS];
    pthread_t tids[NN_MAX_THREADS];
    int started[NN_MAX_THREADS] = {0};
    for (int i = 0; i < t; i++) jobs[i] = (range_job){fn, ctx, n, t, i};
    /* a range whose thread cannot be made runs here */
    for (int i = 1; i < t; i++) started[i] = pthread_create(&tids[i], NULL, run_range_job, &jobs[i]) == 0;
    run_range_job(&jobs[0]);
    for (int i = 1; i < t; i++) {
        if (started[i]) pthread_join(tids[i], NULL);
        else run_range_job(&jobs[i]);
    }
}

void nn_parallel_for(int n, nn_range_fn fn, void *ctx) {
    const int t = g_threads < n ? g_threads : n;
    if (t <= 1 || t_in_range) {
        if (n > 0) fn(ctx, 0, n);
        return;
    }
    if (pthread_mutex_trylock(&g_pool_owner) != 0) {
        parallel_for_own_threads(n, t, fn, ctx);
        return;
    }
    pthread_once(&g_pool_once, pool_register_fork);
    pthread_mutex_lock(&g_pool.mu);
    const int workers = pool_grow(t);
    g_pool.fn = fn, g_pool.ctx = ctx, g_pool.n = n, g_pool.t = t;
    g_pool.active = g_pool.remaining = workers < t - 1 ? workers : t - 1;
    g_pool.generation++;
    pthread_cond_broadcast(&g_pool.wake);
    pthread_mutex_unlock(&g_pool.mu);
    run_range(fn, ctx, n, t, 0);
    for (int i = workers + 1; i < t; i++) run_range(fn, ctx, n, t, i); /* no thread could be made for these */
    pthread_mutex_lock(&g_pool.mu);
    while (g_pool.remaining > 0) pthread_cond_wait(&g_pool.done, &g_pool.mu);
    pthread_mutex_unlock(&g_pool.mu);
    pthread_mutex_unlock(&g_pool_owner);
}

/* -------------------------------------------------------------------- rng */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void nn_rng_seed(nn_rng *rng, uint64_t seed) {
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** */
uint64_t nn_rng_u64(nn_rng *rng) {
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float nn_rng_uniform(nn_rng *rng) {
    return (float)(nn_rng_u64(rng) >> 40) * (1.0f / 16777216.0f);
}

uint32_t nn_rng_below(nn_rng *rng, uint32_t n) {
    return n ? (uint32_t)(((nn_rng_u64(rng) >> 32) * (uint64_t)n) >> 32) : 0;
}

float nn_rng_normal(nn_rng *rng) {
    double u1 = ((double)(nn_rng_u64(rng) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
    double u2 = (double)(nn_rng_u64(rng) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2));
}

void nn_init_he_normal(float *w, size_t n, int fan_in, nn_rng *rng) {
    float std = sqrtf(2.0f / (float)(fan_in > 0 ? fan_in : 1));
    for (size_t i = 0; i < n; i++) w[i] = std * nn_rng_normal(rng);
}
