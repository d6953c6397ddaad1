/* test_weights.c — the weights file: save -> load -> forward round trip
 * (bit-identical), metadata round trip, atomic saving, and each rejection of
 * the loader (truncation at every byte, wrong magic, unsupported version,
 * checksum mismatch, shape mismatch, NaN/Inf, absurd dimensions and counts,
 * overlapping tensor data, duplicate metadata keys, strings with a NUL,
 * bad rebalancing weights, an architecture whose tensors are missing), each
 * with a message naming the file and the problem. Hostile files are written
 * here, with valid checksums. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn.h"
#include "testlib.h"

static uint8_t *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
    *size = fread(p, 1, (size_t)n, f);
    fclose(f);
    return p;
}

static void write_all(const char *path, const uint8_t *p, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    CHECK(fwrite(p, 1, n, f) == n, "short write to %s", path);
    fclose(f);
}

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void fix_crc(uint8_t *p, size_t n) { put_u32(p + n - 4, nn_crc32(0, p, n - 4)); }

/* Expects the bytes to be rejected with a message containing `what` and
 * the file name. */
static void expect_reject(const char *label, const uint8_t *p, size_t n, const char *what) {
    nn_weights w;
    nn_error err = {0};
    nn_status st = nn_weights_parse(&w, p, n, "bad.weights", &err);
    int ok = st != NN_OK && strstr(err.msg, "bad.weights") && strstr(err.msg, what) && w.n_tensors == 0;
    printf("%-28s -> %s\n", label, err.msg);
    CHECK(ok, "%s: status %d, message '%s' (wanted '%s')", label, (int)st, err.msg, what);
}

static nn_unet *make_model(uint64_t seed) {
    nn_unet_config cfg = nn_unet_default_config(10);
    cfg.base_width = 4, cfg.depth = 3;
    nn_unet *m = NULL;
    nn_error err = {0};
    CHECK(nn_unet_create(&m, &cfg, 3, 8, 8, &err) == NN_OK, "%s", err.msg);
    if (!m) exit(1);
    nn_unet_init(m, seed);
    float x[3 * 4 * 64];
    fill_uniform(x, sizeof x / 4, -1, 1, seed);
    const float *logits;
    nn_unet_forward(m, x, 3, NN_MODE_TRAIN, &logits, &err); /* non-trivial running statistics */
    return m;
}

/* Hostile files with valid checksums, from the security review: aliased
 * tensor data, duplicate keys, a NUL inside a string. */
static void test_hostile_layouts(void) {
    nn_weights two;
    nn_weights_init(&two);
    float vals[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    nn_weights_add_tensor(&two, "a", 1, (uint64_t[]){8}, vals);
    nn_weights_add_tensor(&two, "b", 1, (uint64_t[]){8}, vals);
    char path[600];
    temp_path(path, sizeof path, "hostile.weights");
    nn_error err = {0};
    CHECK(nn_weights_save(&two, path, &err) == NN_OK, "%s", err.msg);
    size_t n;
    uint8_t *b = read_all(path, &n);
    /* entries after the 48-byte header: u32 1, "a", u32 rank, u64 dim, u32 type, u64 offset (29 bytes) */
    put_u64(b + 48 + 29 + 21, 0), fix_crc(b, n); /* b's data at a's offset */
    expect_reject("aliased tensor data", b, n, "overlap");
    free(b);
    nn_weights_free(&two);

    nn_weights meta;
    nn_weights_init(&meta);
    nn_weights_set_u32(&meta, "ka", 1);
    nn_weights_set_u32(&meta, "kb", 2);
    nn_weights_set_str(&meta, "s", "abcd");
    CHECK(nn_weights_save(&meta, path, &err) == NN_OK, "%s", err.msg);
    b = read_all(path, &n);
    /* "ka": u32 2, "ka", u32 type, u32 value (14 bytes); "kb" likewise; "s": u32 1, "s", u32 type, u64 4, "abcd" */
    uint8_t *dup = malloc(n);
    memcpy(dup, b, n), dup[48 + 14 + 5] = 'a', fix_crc(dup, n);
    expect_reject("duplicate metadata key", dup, n, "appears twice");
    memcpy(dup, b, n), dup[48 + 28 + 4 + 1 + 4 + 8 + 2] = 0, fix_crc(dup, n);
    expect_reject("NUL inside a string", dup, n, "NUL");
    free(dup), free(b);
    nn_weights_free(&meta);
    unlink(path);
}

/* Control characters from a file are escaped in messages. */
static void test_escaped_messages(void) {
    nn_weights w;
    nn_weights_init(&w);
    const char *u32s[] = {"arch.in_channels", "arch.base_width", "arch.depth", "arch.num_bins"};
    for (int i = 0; i < 4; i++) nn_weights_set_u32(&w, u32s[i], 4);
    nn_weights_set_str(&w, "arch.upsample", "bilinear");
    nn_weights_set_str(&w, "arch.activation", "relu");
    nn_weights_set_f32(&w, "arch.leaky_slope", 0.2f);
    nn_weights_set_f32(&w, "arch.bn_eps", 1e-5f);
    nn_weights_set_f32(&w, "arch.bn_momentum", 0.1f);
    nn_weights_set_str(&w, "arch.name", "evil\x1b[2J\nname");
    nn_unet_config cfg;
    nn_error err = {0};
    nn_status st = nn_unet_config_from_weights(&w, &cfg, "bad.weights", &err);
    printf("%-28s -> %s\n", "control characters", err.msg);
    CHECK(st == NN_ERR_FORMAT && !strchr(err.msg, 0x1b) && !strchr(err.msg, '\n') && strstr(err.msg, "\\x1b"),
          "control characters reached the message: %s", err.msg);
    nn_weights_free(&w);
}

/* Rebalancing weights that are not one positive number per bin are
 * refused, naming the key. */
static void test_rebalance_weights(void) {
    uint32_t bins[3] = {0, 1, 2};
    const float cases[3][3] = {{1, 0, 1}, {1, -2, 1}, {1, NAN, 1}};
    for (int c = 0; c < 4; c++) {
        nn_weights w;
        nn_weights_init(&w);
        nn_ab_metadata_set(&w, nn_ab_grid_default(), bins, NULL, 3, 0.5f);
        if (c < 3) nn_weights_set_f32_array(&w, "ab.rebalance_weights", cases[c], 3);
        else nn_weights_set_f32_array(&w, "ab.rebalance_weights", cases[0], 2);
        nn_ab_grid g;
        uint32_t *ob = NULL;
        float *orb = NULL;
        nn_error err = {0};
        nn_status st = nn_ab_metadata_get(&w, "bad.weights", 3, &g, &ob, &orb, &err);
        printf("%-28s -> %s\n", c < 3 ? "bad rebalancing weight" : "rebalancing weight count", err.msg);
        CHECK(st == NN_ERR_FORMAT && strstr(err.msg, "ab.rebalance_weights") && !ob && !orb, "case %d: %s", c, err.msg);
        free(ob), free(orb);
        nn_weights_free(&w);
    }
}

/* An architecture far larger than its (missing) tensors is refused before
 * its memory is reserved: under an address-space limit of 2 GB more than
 * now, a 21 GB reservation would fail as "out of memory" instead. (Skipped
 * under AddressSanitizer, which reserves terabytes of shadow memory.) */
static void test_architecture_first(void) {
    nn_weights w;
    nn_weights_init(&w);
    nn_weights_set_str(&w, "arch.name", "unet-colorizer");
    nn_weights_set_u32(&w, "arch.in_channels", 4);
    nn_weights_set_u32(&w, "arch.base_width", 512);
    nn_weights_set_u32(&w, "arch.depth", 4);
    nn_weights_set_u32(&w, "arch.num_bins", 4096);
    nn_weights_set_str(&w, "arch.upsample", "bilinear");
    nn_weights_set_str(&w, "arch.activation", "relu");
    nn_weights_set_f32(&w, "arch.leaky_slope", 0.2f);
    nn_weights_set_f32(&w, "arch.bn_eps", 1e-5f);
    nn_weights_set_f32(&w, "arch.bn_momentum", 0.1f);
    uint32_t *cells = malloc(sizeof(uint32_t) * 4096);
    for (int q = 0; q < 4096; q++) cells[q] = (uint32_t)(q % 529);
    nn_ab_metadata_set(&w, nn_ab_grid_default(), cells, NULL, 4096, 0.5f);
    free(cells);
    nn_colorizer *c = NULL;
    nn_error err = {0};
    struct rlimit old;
#if defined(__SANITIZE_ADDRESS__)
    const int limited = 0;
#else
    const int limited = getrlimit(RLIMIT_AS, &old) == 0;
    if (limited) {
        struct rlimit lim;
        size_t pages = 0;
        FILE *f = fopen("/proc/self/statm", "r");
        if (f && fscanf(f, "%zu", &pages) != 1) pages = 0;
        if (f) fclose(f);
        lim = old;
        lim.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)2 << 30);
        setrlimit(RLIMIT_AS, &lim);
    }
#endif
    nn_status st = nn_colorizer_from_weights(&c, &w, "huge.weights", 256, 32, &err);
    if (limited) setrlimit(RLIMIT_AS, &old);
    printf("%-28s -> %s%s\n", "huge architecture, no data", err.msg, limited ? "" : " (no address-space limit)");
    CHECK(st == NN_ERR_FORMAT && strstr(err.msg, "huge.weights") && strstr(err.msg, "tensor") && strstr(err.msg, "missing"),
          "the architecture was not checked against the tensors first: %s", err.msg);
    nn_colorizer_free(c);
    nn_weights_free(&w);
}

/* One weights file written, read back and broken in many ways. */
typedef struct {
    char dir[512], path[1024];
    nn_unet *m, *m2;   /* the model saved, and one loaded from the file */
    nn_unet_config cfg; /* the file's architecture */
    nn_weights w, r;   /* what was saved, what was read back */
    uint8_t *file;     /* the file's bytes */
    size_t file_n;
} weights_case;

/* Saves a model with metadata of every type, reads it back, and reads each
 * value through its accessor (and a wrong type refused). */
static void metadata_round_trip(weights_case *c) {
    c->m = make_model(5);
    nn_weights_init(&c->w);
    CHECK(nn_unet_to_weights(c->m, &c->w) == NN_OK, "to_weights");
    uint32_t bins[10] = {0, 5, 17, 100, 200, 264, 300, 400, 500, 528};
    float reb[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 0.5f};
    nn_weights_set_str(&c->w, "color.space", "CIELAB-D65");
    nn_weights_set_u32_array(&c->w, "ab.bins", bins, 10);
    nn_weights_set_f32_array(&c->w, "ab.rebalance_weights", reb, 10);
    nn_weights_set_u64(&c->w, "train.seed", 1234567890123ull);
    nn_weights_set_f64(&c->w, "eval.psnr", 24.125);
    nn_weights_set_i32(&c->w, "train.epochs", 7);
    nn_error err = {0};
    CHECK(nn_weights_save(&c->w, c->path, &err) == NN_OK, "%s", err.msg);
    CHECK(nn_weights_load(&c->r, c->path, &err) == NN_OK, "%s", err.msg);
    const nn_meta *mb = nn_weights_get(&c->r, "ab.bins"), *mr = nn_weights_get(&c->r, "ab.rebalance_weights");
    CHECK(mb && mb->type == NN_META_U32_ARRAY && mb->count == 10 && memcmp(mb->array, bins, 40) == 0, "ab.bins");
    CHECK(mr && mr->type == NN_META_F32_ARRAY && memcmp(mr->array, reb, 40) == 0, "rebalance weights");
    const nn_meta *ms = nn_weights_get(&c->r, "train.seed"), *mp = nn_weights_get(&c->r, "eval.psnr");
    CHECK(ms && ms->v.u64 == 1234567890123ull && mp && mp->v.f64 == 24.125, "u64/f64 metadata");
    const char *cs = NULL;
    CHECK(nn_weights_get_str(&c->r, "color.space", &cs, &err) == NN_OK && strcmp(cs, "CIELAB-D65") == 0, "colour space");
    uint32_t u;
    CHECK(nn_weights_get_u32(&c->r, "color.space", &u, &err) == NN_ERR_FORMAT && strstr(err.msg, "color.space"),
          "type confusion accepted");
    uint64_t u64 = 0, count = 0;
    double f64 = 0;
    const float *fa = NULL;
    const uint32_t *ua = NULL;
    CHECK(nn_weights_get_u64(&c->r, "train.seed", &u64, &err) == NN_OK && u64 == 1234567890123ull, "get_u64");
    CHECK(nn_weights_get_f64(&c->r, "eval.psnr", &f64, &err) == NN_OK && f64 == 24.125, "get_f64");
    CHECK(nn_weights_get_f32_array(&c->r, "ab.rebalance_weights", &fa, &count, &err) == NN_OK && count == 10 &&
              memcmp(fa, reb, sizeof reb) == 0, "get_f32_array");
    CHECK(nn_weights_get_u32_array(&c->r, "ab.bins", &ua, &count, &err) == NN_OK && count == 10 && ua[9] == 528,
          "get_u32_array");
    CHECK(nn_weights_get_f64(&c->r, "train.seed", &f64, &err) == NN_ERR_FORMAT && strstr(err.msg, "train.seed"),
          "get_f64 on a u64 accepted");
    CHECK(nn_weights_get_f32_array(&c->r, "missing.key", &fa, &count, &err) == NN_ERR_FORMAT &&
              strstr(err.msg, "missing.key"), "a missing array found");
}

/* The model loaded from the file computes the same logits, and saving
 * what was loaded gives the same bytes. */
static void model_round_trip(weights_case *c) {
    nn_error err = {0};
    CHECK(nn_unet_config_from_weights(&c->r, &c->cfg, c->path, &err) == NN_OK, "%s", err.msg);
    CHECK(nn_unet_create(&c->m2, &c->cfg, 3, 8, 8, &err) == NN_OK, "%s", err.msg);
    CHECK(c->m2 && nn_unet_load_weights(c->m2, &c->r, c->path, &err) == NN_OK, "%s", err.msg);
    float x[3 * 4 * 64];
    fill_uniform(x, sizeof x / 4, -1, 1, 99);
    const float *l1, *l2;
    size_t nl = 3 * 10 * 64;
    float *copy = malloc(nl * 4);
    nn_unet_forward(c->m, x, 3, NN_MODE_EVAL, &l1, &err);
    memcpy(copy, l1, nl * 4);
    nn_unet_forward(c->m2, x, 3, NN_MODE_EVAL, &l2, &err);
    int same = memcmp(copy, l2, nl * 4) == 0;
    printf("save -> load -> forward: %s\n", same ? "bit-identical" : "DIFFERS");
    CHECK(same, "round trip changed the logits");
    /* saving what was loaded gives the same bytes */
    char path2[600];
    snprintf(path2, sizeof path2, "%s/again.weights", c->dir);
    CHECK(nn_weights_save(&c->r, path2, &err) == NN_OK, "%s", err.msg);
    size_t n2;
    c->file = read_all(c->path, &c->file_n);
    uint8_t *b2 = read_all(path2, &n2);
    CHECK(c->file && b2 && c->file_n == n2 && memcmp(c->file, b2, c->file_n) == 0, "re-saved file differs");
    unlink(path2);
    free(b2);
    free(copy);
}

/* Truncations at every byte and broken headers are refused, naming the
 * file and the problem. */
static void header_rejections(weights_case *c) {
    nn_error err = {0};
    char path2[600];
    snprintf(path2, sizeof path2, "%s/again.weights", c->dir);
    uint8_t *bad = malloc(c->file_n);
    int all_truncations = 1;
    for (size_t len = 0; len < c->file_n; len++) {
        nn_weights t;
        nn_error e = {0};
        if (nn_weights_parse(&t, c->file, len, "bad.weights", &e) == NN_OK || !strstr(e.msg, "bad.weights") ||
            !strstr(e.msg, "truncated"))
            all_truncations = 0;
    }
    printf("truncation at each of %zu bytes: %s\n", c->file_n, all_truncations ? "all rejected" : "SOME ACCEPTED");
    CHECK(all_truncations, "a truncation was not reported as such");
    write_all(path2, c->file, c->file_n / 2);
    nn_weights t;
    CHECK(nn_weights_load(&t, path2, &err) == NN_ERR_FORMAT && strstr(err.msg, path2) && strstr(err.msg, "truncated"),
          "truncated file: %s", err.msg);
    printf("%-28s -> %s\n", "truncated file on disk", err.msg);

    memcpy(bad, c->file, c->file_n), memcpy(bad, "GIF8", 4);
    expect_reject("wrong magic", bad, c->file_n, "magic");
    memcpy(bad, c->file, c->file_n), put_u32(bad + 4, 99), fix_crc(bad, c->file_n);
    expect_reject("unsupported version", bad, c->file_n, "version 99");
    memcpy(bad, c->file, c->file_n), bad[c->file_n / 2] ^= 0x10;
    expect_reject("flipped bit", bad, c->file_n, "checksum");
    memcpy(bad, c->file, c->file_n), put_u64(bad + 32, 1ull << 40), fix_crc(bad, c->file_n);
    expect_reject("absurd tensor count", bad, c->file_n, "absurd");
    memcpy(bad, c->file, c->file_n), put_u32(bad + 48, 1u << 30), fix_crc(bad, c->file_n);
    expect_reject("absurd key length", bad, c->file_n, "absurd");
    uint8_t *longer = malloc(c->file_n + 8);
    memcpy(longer, c->file, c->file_n), memset(longer + c->file_n, 0, 8);
    expect_reject("trailing bytes", longer, c->file_n + 8, "unexpected bytes");
    free(longer);
    unlink(path2);
    free(bad);
}

/* A one-tensor file whose layout is known, broken in its tensor entry and
 * its values. */
static void tensor_rejections(weights_case *c) {
    nn_error err = {0};
    char path2[600];
    /* A one-tensor file whose layout is known: header (48), then the entry
     * u32 name length (1), "t", u32 rank (1), u64 dim, u32 type, u64 offset. */
    nn_weights one;
    nn_weights_init(&one);
    float vals[3] = {1, 2, 3};
    nn_weights_add_tensor(&one, "t", 1, (uint64_t[]){3}, vals);
    snprintf(path2, sizeof path2, "%s/one.weights", c->dir);
    CHECK(nn_weights_save(&one, path2, &err) == NN_OK, "%s", err.msg);
    size_t no;
    uint8_t *ob = read_all(path2, &no), *obad = malloc(no);
    memcpy(obad, ob, no), put_u64(obad + 57, 1ull << 40), fix_crc(obad, no);
    expect_reject("absurd dimension", obad, no, "absurd dimension");
    memcpy(obad, ob, no), put_u32(obad + 53, 9), fix_crc(obad, no);
    expect_reject("absurd rank", obad, no, "absurd rank");
    memcpy(obad, ob, no), put_u64(obad + 57, 1000), fix_crc(obad, no);
    expect_reject("data past the end", obad, no, "outside");
    memcpy(obad, ob, no), put_u64(obad + 69, 1u << 20), fix_crc(obad, no);
    expect_reject("offset past the end", obad, no, "outside");
    vals[1] = NAN;
    nn_weights_free(&one);
    nn_weights_add_tensor(&one, "t", 1, (uint64_t[]){3}, vals);
    CHECK(nn_weights_save(&one, path2, &err) == NN_OK, "%s", err.msg);
    free(ob);
    ob = read_all(path2, &no);
    expect_reject("NaN value", ob, no, "NaN or Inf");
    vals[1] = INFINITY;
    nn_weights_free(&one);
    nn_weights_add_tensor(&one, "t", 1, (uint64_t[]){3}, vals);
    nn_weights_save(&one, path2, &err);
    free(ob);
    ob = read_all(path2, &no);
    expect_reject("Inf value", ob, no, "NaN or Inf");
    nn_weights_free(&one);
    free(ob), free(obad);
    unlink(path2);
}

/* The loader against the architecture: a shape mismatch, a missing tensor,
 * removing tensors, and a file that does not exist. */
static void loader_rejections(weights_case *c) {
    nn_error err = {0};
    nn_weights t;
    /* shape mismatch: a wider architecture than the tensors */
    nn_unet_config wide = c->cfg;
    wide.base_width = 6;
    nn_unet *m3 = NULL;
    nn_unet_create(&m3, &wide, 1, 8, 8, &err);
    CHECK(m3 && nn_unet_load_weights(m3, &c->r, c->path, &err) == NN_ERR_FORMAT && strstr(err.msg, "shape") &&
              strstr(err.msg, c->path), "shape mismatch: %s", err.msg);
    printf("%-28s -> %s\n", "shape mismatch", err.msg);
    nn_unet_free(m3);
    /* removing a tensor, then the loader's view of it */
    size_t before = c->r.n_tensors;
    nn_weights extra;
    nn_weights_init(&extra);
    nn_weights_add_tensor(&extra, "x", 1, (uint64_t[]){2}, (float[]){1, 2});
    nn_weights_add_tensor(&extra, "y", 1, (uint64_t[]){1}, (float[]){3});
    CHECK(nn_weights_remove_tensor(&extra, "x", &err) == NN_OK && extra.n_tensors == 1 &&
              nn_weights_find_tensor(&extra, "y") && !nn_weights_find_tensor(&extra, "x"), "remove_tensor");
    CHECK(nn_weights_remove_tensor(&extra, "x", &err) == NN_ERR_FORMAT && strstr(err.msg, "'x'"),
          "removing a missing tensor succeeded");
    nn_weights_free(&extra);
    CHECK(c->r.n_tensors == before, "tensor count changed");
    /* a missing tensor */
    free(c->r.tensors[3].name);
    c->r.tensors[3].name = strdup("renamed");
    CHECK(nn_unet_load_weights(c->m2, &c->r, c->path, &err) == NN_ERR_FORMAT && strstr(err.msg, "missing"), "%s", err.msg);
    printf("%-28s -> %s\n", "missing tensor", err.msg);
    /* a file that does not exist */
    CHECK(nn_weights_load(&t, "/nonexistent/x.weights", &err) == NN_ERR_IO && strstr(err.msg, "/nonexistent/x.weights"),
          "%s", err.msg);
    printf("%-28s -> %s\n", "missing file", err.msg);
}

/* A failed save leaves the old file and no temporary. */
static void atomic_save(weights_case *c) {
    nn_error err = {0};
    char path2[600];
    snprintf(path2, sizeof path2, "%s/occupied", c->dir);
    mkdir(path2, 0700); /* rename onto a directory fails */
    CHECK(nn_weights_save(&c->w, path2, &err) == NN_ERR_IO && strstr(err.msg, path2), "save onto a directory: %s", err.msg);
    printf("%-28s -> %s\n", "failed save", err.msg);
    CHECK(nn_weights_save(&c->w, "/nonexistent/dir/x.weights", &err) == NN_ERR_IO, "save into a missing folder");
    size_t n3;
    uint8_t *b3 = read_all(c->path, &n3);
    CHECK(b3 && n3 == c->file_n && memcmp(b3, c->file, c->file_n) == 0, "the existing file changed");
    free(b3);
    DIR *dp = opendir(c->dir);
    int leftovers = 0;
    for (struct dirent *de; dp && (de = readdir(dp));) leftovers += strstr(de->d_name, ".tmp-") != NULL;
    if (dp) closedir(dp);
    CHECK(leftovers == 0, "%d temporary files left behind", leftovers);
    rmdir(path2);
}

int main(void) {
    nn_set_threads(2);
    weights_case c = {.m = NULL};
    temp_path(c.dir, sizeof c.dir, "nn-weights-test");
    CHECK(mkdir(c.dir, 0700) == 0, "mkdir %s", c.dir);
    snprintf(c.path, sizeof c.path, "%s/model.weights", c.dir);
    metadata_round_trip(&c);
    model_round_trip(&c);
    header_rejections(&c);
    tensor_rejections(&c);
    loader_rejections(&c);
    atomic_save(&c);
    test_hostile_layouts();
    test_rebalance_weights();
    test_escaped_messages();
    test_architecture_first();
    unlink(c.path);
    rmdir(c.dir);
    free(c.file);
    nn_weights_free(&c.w), nn_weights_free(&c.r);
    nn_unet_free(c.m), nn_unet_free(c.m2);
    return test_finish("test_weights");
}
