/* trainer_runs.c — what the trainer test's files share
 * (trainer_tests.h): the synthetic data set and work folder, running
 * colorize-train in this process or as the real program, and running a
 * check in a child under an address-space limit. */
#include "trainer_tests.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

char *g_dir; /* the synthetic data set */
char *g_work; /* outputs */
const char *g_exe;

/* Runs `colorize-train ARGS…` in this process. */
int run_command(int (*cmd)(int, char **), const char *first, ...) {
    GPtrArray *args = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(args, g_strdup("colorize-train"));
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) g_ptr_array_add(args, g_strdup(a));
    va_end(ap);
    int argc = (int)args->len;
    char **argv = g_new0(char *, argc + 1);
    for (int i = 0; i < argc; i++) argv[i] = args->pdata[i];
    int rc = cmd(argc, argv);
    g_free(argv);
    g_ptr_array_free(args, TRUE);
    return rc;
}

char *work_path(const char *name) { return g_build_filename(g_work, name, NULL); }

/* Runs the real colorize-train; returns its exit status (-1 when it did not
 * exit), its standard error in *err (g_free it). */
int run_exe(char **argv, gchar **err) {
    gint status = 0;
    gchar *out = NULL;
    if (!g_spawn_sync(NULL, argv, NULL, 0, NULL, NULL, &out, err, &status, NULL)) return -1;
    g_free(out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#if !defined(__SANITIZE_ADDRESS__)
/* Runs fn(ctx) in a child whose address space may grow by only extra_mb
 * (ulimit -v), with a 60 s alarm for hangs; returns its wait status and its
 * standard error in *msg (g_free it). */
int run_under_address_limit(size_t extra_mb, int (*fn)(void *), void *ctx, gchar **msg) {
    char *errfile = work_path("limited.err");
    pid_t pid = fork();
    if (pid == 0) {
        size_t pages = 0;
        FILE *f = fopen("/proc/self/statm", "r");
        if (f && fscanf(f, "%zu", &pages) != 1) pages = 0;
        if (f) fclose(f);
        struct rlimit lim;
        lim.rlim_cur = lim.rlim_max = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)extra_mb << 20);
        setrlimit(RLIMIT_AS, &lim);
        alarm(60); /* a hang ends the child with SIGALRM */
        if (!freopen(errfile, "w", stderr)) _exit(9);
        _exit(fn(ctx));
    }
    int status = 0;
    waitpid(pid, &status, 0);
    *msg = NULL;
    g_file_get_contents(errfile, msg, NULL, NULL);
    g_free(errfile);
    return status;
}
#endif
