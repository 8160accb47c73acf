/* The direct strategy in one pass: every tap of a band, in C.
 *
 * NumPy's shift-and-accumulate spends one pass over the band per array
 * operation (five for sharpen, plus the multiply); this loop reads each
 * input row once per tap from L1 and writes each output once, which is what
 * OpenCV's filter2D does. It is optional: convcli/engine/fused.py falls back
 * to the NumPy strategy (convcli/engine/direct.py) when this module is not
 * built, and make test checks the two against each other.
 *
 * correlate(src, dst, rows, cols, weights, stride_rows, stride_cols)
 *   src      2-D float32 or float64 buffer (the padded band), columns contiguous
 *   dst      2-D writable buffer of the same type (output rows x output columns)
 *   rows     int64 buffer: each tap's row offset into src (dilation included)
 *   cols     int64 buffer: each tap's column offset
 *   weights  buffer of the working type: each tap's weight (zero taps left out)
 *   dst[i, j] = sum_t weights[t] * src[i*stride_rows + rows[t], j*stride_cols + cols[t]]
 *
 * correlate_image(image, dst, row_map, col_map, lo, hi, rows, cols, weights, sr, sc)
 *   the same sums read from the image itself, padded through index maps
 *   (convcli/engine/reader.py's: padded row p is image row row_map[p], or a
 *   zero row for -1; likewise columns), so no padded copy of the band is
 *   made. image is float32/float64 of dst's type, or uint8 (converted as it
 *   is read); padded columns lo:hi are one run of image columns from
 *   col_map[lo] on (the rest of col_map[lo:hi] is not read), read with
 *   vectors; outputs whose window leaves it (the border) go through col_map.
 *   Only what is read is checked (the maps' border parts, not the run), so
 *   a call costs no pass over a row.
 *
 * The GIL is released while either runs, so band threads run in parallel.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
/* One build, the widest vectors the CPU running it has (chosen at load time). */
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

/* 32-byte vectors (GCC/Clang vector extensions: two SSE registers each where
 * AVX is missing); four of them hold one block of outputs in registers
 * while every tap is added, so each output is stored once. */
#define VBYTES 32
#define LANES 4

typedef float vf32 __attribute__((vector_size(VBYTES)));
typedef double vf64 __attribute__((vector_size(VBYTES)));
typedef int32_t vi32 __attribute__((vector_size(VBYTES)));
typedef int64_t vi64 __attribute__((vector_size(VBYTES)));
typedef int32_t vi32_4 __attribute__((vector_size(16)));

#if defined(__clang__)
#define EVENS(M, a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define EVENS(M, a, b, ...) __builtin_shuffle(a, b, (M){__VA_ARGS__})
#endif

/* One vector of the working type from N source elements (unaligned). Bytes
 * go through a constructor of int32 lanes, which GCC compiles to one
 * zero-extending load (vpmovzxbd); __builtin_convertvector straight from a
 * byte vector is scalarised by GCC 12. */
#define LOAD_SAME(V, x, q) memcpy(&(x), (q), sizeof(x))
#define LOAD_BYTES_8(V, x, q)                                                              \
    do {                                                                                   \
        const uint8_t *b_ = (q);                                                           \
        (x) = __builtin_convertvector(                                                     \
            ((vi32){b_[0], b_[1], b_[2], b_[3], b_[4], b_[5], b_[6], b_[7]}), V);          \
    } while (0)
#define LOAD_BYTES_4(V, x, q)                                                              \
    do {                                                                                   \
        const uint8_t *b_ = (q);                                                           \
        (x) = __builtin_convertvector(((vi32_4){b_[0], b_[1], b_[2], b_[3]}), V);          \
    } while (0)

/* One call's geometry: output (i, j), tap t reads padded row i*sr + tr[t] and
 * padded column j*sc + tc[t]; the padded row is image row rmap[.] (identity if
 * rmap is NULL; -1: the zero row), the padded column is image column
 * q + shift for q in lo:hi, else cmap[q] (-1: zero); outputs j_lo <= j < j_hi
 * read only lo:hi. */
typedef struct {
    const char *image;
    Py_ssize_t image_row;
    const void *zero;
    char *dst;
    Py_ssize_t dst_row, out_rows, out_cols;
    const int64_t *rmap, *cmap;
    Py_ssize_t lo, hi, j_lo, j_hi, shift;
    const int64_t *tr, *tc;
    const void *w;
    Py_ssize_t taps, sr, sc;
    Py_ssize_t prows, max_tr; /* padded rows, and the lowest tap row: for prefetching */
    const void **rowp; /* scratch: each tap's image row for the current output row */
} Plan;

/* Every output is the same sum in the same order whichever loop computes it
 * (tap by tap from zero, a product then an add, never fused: setup.py builds
 * with -ffp-contract=off; a padded zero adds w * 0, as a padded copy would),
 * so a column stride of 2 gives exactly every other stride-1 output.
 *
 * Column stride 2: a tap's inputs for N outputs are the even elements of two
 * adjacent vectors, picked in registers (one permute with AVX-512, two with
 * AVX2), so strided columns run vectorised with no copy into phase planes.
 * Other column strides run the scalar loop. */
#define AHEAD 4
#define PREFETCH(S, column, count)                                                              \
    for (int k = 0; k < n_ahead; k++)                                                           \
        for (size_t o = 0; o < (count) * sizeof(S); o += 64)                                    \
            __builtin_prefetch(ahead[k] + (column) * (Py_ssize_t)sizeof(S) + o, 0, 2);

#define DEFINE_KERNEL(S, T, V, M, LOAD, NAME, ...)                                              \
    CLONES static void NAME(const Plan *g)                                                      \
    {                                                                                           \
        enum { N = VBYTES / sizeof(T), BLOCK = N * LANES };                                     \
        const S **rowp = (const S **)g->rowp;                                                   \
        const T *w = g->w;                                                                      \
        const int64_t *tr = g->tr, *tc = g->tc;                                                 \
        const Py_ssize_t taps = g->taps, sc = g->sc, shift = g->shift;                          \
        for (Py_ssize_t i = 0; i < g->out_rows; i++) {                                          \
            T *out = (T *)(g->dst + i * g->dst_row);                                            \
            for (Py_ssize_t t = 0; t < taps; t++) {                                             \
                Py_ssize_t r = i * g->sr + tr[t];                                               \
                if (g->rmap) r = g->rmap[r];                                                    \
                rowp[t] = r < 0 ? (const S *)g->zero : (const S *)(g->image + r * g->image_row); \
            }                                                                                   \
            for (Py_ssize_t j = 0; j < g->out_cols; j++) { /* the border, by the map */         \
                if (j == g->j_lo) j = g->j_hi;                                                  \
                if (j >= g->out_cols) break;                                                    \
                T sum = 0;                                                                      \
                for (Py_ssize_t t = 0; t < taps; t++) {                                         \
                    const Py_ssize_t c = j * sc + tc[t];                                        \
                    const int64_t m = c >= g->lo && c < g->hi ? c + shift : g->cmap[c];         \
                    sum += w[t] * (m < 0 ? (T)0 : (T)rowp[t][m]);                               \
                }                                                                               \
                out[j] = sum;                                                                   \
            }                                                                                   \
            /* The rows the next output row reads first: fetched into L2 while this one */      \
            /* runs (4096² at stride 2: the hardware prefetcher alone reaches ~9 GB/s). */      \
            const char *ahead[AHEAD];                                                           \
            int n_ahead = 0;                                                                    \
            for (Py_ssize_t k = 0; k < g->sr && n_ahead < AHEAD; k++) {                         \
                Py_ssize_t r = (i + 1) * g->sr + g->max_tr - k;                                 \
                if (r >= g->prows) continue;                                                    \
                if (g->rmap) r = g->rmap[r];                                                    \
                if (r >= 0) ahead[n_ahead++] = g->image + r * g->image_row;                     \
            }                                                                                   \
            Py_ssize_t j = g->j_lo;                                                             \
            if (sc == 1 && taps > 0) {                                                          \
                for (; j + BLOCK <= g->j_hi; j += BLOCK) {                                      \
                    PREFETCH(S, j + shift, BLOCK);                                              \
                    V a[LANES], x;                                                              \
                    for (int l = 0; l < LANES; l++) a[l] = (V){0};                              \
                    for (Py_ssize_t t = 0; t < taps; t++) {                                     \
                        const S *q = rowp[t] + (j + shift + tc[t]);                             \
                        const T wt = w[t];                                                      \
                        for (int l = 0; l < LANES; l++) {                                       \
                            LOAD(V, x, q + l * N);                                          \
                            a[l] += wt * x;                                                     \
                        }                                                                       \
                    }                                                                           \
                    for (int l = 0; l < LANES; l++) memcpy(out + j + l * N, &a[l], sizeof x);   \
                }                                                                               \
            } else if (sc == 2 && taps > 0) {                                                   \
                /* A block reads one element past its last output's input: the block */        \
                /* never holds the run's last output, whose input is the last in it. */        \
                for (; j + BLOCK < g->j_hi; j += BLOCK) {                                       \
                    PREFETCH(S, 2 * j + shift, 2 * BLOCK);                                      \
                    V a[LANES], x0, x1;                                                         \
                    for (int l = 0; l < LANES; l++) a[l] = (V){0};                              \
                    for (Py_ssize_t t = 0; t < taps; t++) {                                     \
                        const S *q = rowp[t] + (2 * j + shift + tc[t]);                         \
                        const T wt = w[t];                                                      \
                        for (int l = 0; l < LANES; l++) {                                       \
                            LOAD(V, x0, q + 2 * l * N);                                     \
                            LOAD(V, x1, q + 2 * l * N + N);                                 \
                            a[l] += wt * EVENS(M, x0, x1, __VA_ARGS__);                         \
                        }                                                                       \
                    }                                                                           \
                    for (int l = 0; l < LANES; l++) memcpy(out + j + l * N, &a[l], sizeof x0);  \
                }                                                                               \
            }                                                                                   \
            for (; j < g->j_hi; j++) { /* the rest, and other column strides */                 \
                T sum = 0;                                                                      \
                for (Py_ssize_t t = 0; t < taps; t++)                                           \
                    sum += w[t] * (T)rowp[t][j * sc + shift + tc[t]];                           \
                out[j] = sum;                                                                   \
            }                                                                                   \
        }                                                                                       \
    }

#define F32_EVENS 0, 2, 4, 6, 8, 10, 12, 14
#define F64_EVENS 0, 2, 4, 6
DEFINE_KERNEL(float, float, vf32, vi32, LOAD_SAME, correlate_f32, F32_EVENS)
DEFINE_KERNEL(double, double, vf64, vi64, LOAD_SAME, correlate_f64, F64_EVENS)
DEFINE_KERNEL(uint8_t, float, vf32, vi32, LOAD_BYTES_8, correlate_u8_f32, F32_EVENS)
DEFINE_KERNEL(uint8_t, double, vf64, vi64, LOAD_BYTES_4, correlate_u8_f64, F64_EVENS)

/* 'f' or 'd' in native byte order (what NumPy exports for native arrays), 'B'
 * for bytes, else 0. */
static char native_kind(const char *format)
{
    if (format == NULL) return 0;
    if (format[0] == '@' || format[0] == '=') format++;
#if PY_LITTLE_ENDIAN
    else if (format[0] == '<') format++;
#else
    else if (format[0] == '>' || format[0] == '!') format++;
#endif
    if ((format[0] == 'f' || format[0] == 'd' || format[0] == 'B') && format[1] == '\0')
        return format[0];
    return 0;
}

/* The fused 8-bit writer's pass (convcli/engine/sinks.py Uint8Sink), in one loop
 * instead of NumPy's four to six: scale, offset, min/max, round half to even,
 * count (or mark) what clips, clip, store as bytes. Each step rounds as NumPy's
 * float32 operation does: x * scale and x + offset (only when not 1 and 0),
 * rint as (x + 1.5*2^23) - 1.5*2^23 for |x| < 2^22 (exact, ties to even in the
 * default rounding mode; larger values clip either way), NaN stores 0. */
typedef uint8_t vu8_32 __attribute__((vector_size(32)));
#define BLEND(m, a, b) ((vf32)(((vi32)(a) & (m)) | ((vi32)(b) & ~(m))))
#define LOW_BYTES 0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0, \
                  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0

typedef struct {
    const char *src;
    Py_ssize_t src_row;
    char *dst;
    Py_ssize_t dst_row, dst_col;
    char *mask; /* NULL, or booleans to set where a pixel clips */
    Py_ssize_t mask_row, mask_col, rows, cols;
    float scale, offset;
    float low, high; /* out: the unrounded range (NaN if any is NaN) */
    Py_ssize_t clipped; /* out: pixels outside 0..255 once rounded */
} Quantise;

static inline uint8_t quantise_one(float x, const Quantise *g, float *low, float *high, int *nan,
                                   int *outside)
{
    if (g->scale != 1) x *= g->scale;
    if (g->offset != 0) x += g->offset;
    *low = x < *low ? x : *low;
    *high = x > *high ? x : *high;
    *nan |= x != x;
    const float r = fabsf(x) < 0x1p22f ? (x + 0x1.8p23f) - 0x1.8p23f : x;
    *outside = r < 0 || r > 255;
    return !(r >= 0) ? 0 : r > 255 ? 255 : (uint8_t)r;
}

CLONES static void quantise(Quantise *g)
{
    enum { N = VBYTES / sizeof(float) };
    const vf32 zero = {0}, top = zero + 255, magic = zero + 0x1.8p23f, limit = zero + 0x1p22f;
    const vf32 scale = zero + g->scale, offset = zero + g->offset;
    const int scaled = g->scale != 1, offset_ = g->offset != 0;
    const int vectors = g->dst_col == 1 && (g->mask == NULL || g->mask_col == 1);
    vf32 lo = zero + INFINITY, hi = zero - INFINITY;
    vi32 nans = {0}, count = {0};
    float low = INFINITY, high = -INFINITY;
    int nan = 0;
    Py_ssize_t clipped = 0;
    for (Py_ssize_t i = 0; i < g->rows; i++) {
        const float *s = (const float *)(g->src + i * g->src_row);
        uint8_t *d = (uint8_t *)(g->dst + i * g->dst_row);
        uint8_t *m = g->mask ? (uint8_t *)(g->mask + i * g->mask_row) : NULL;
        Py_ssize_t j = 0;
        for (; vectors && j + N <= g->cols; j += N) {
            vf32 x;
            memcpy(&x, s + j, sizeof x);
            if (scaled) x *= scale;
            if (offset_) x += offset;
            lo = BLEND(x < lo, x, lo);
            hi = BLEND(x > hi, x, hi);
            nans |= x != x;
            const vf32 ax = (vf32)((vi32)x & 0x7fffffff);
            vf32 r = BLEND(ax < limit, (x + magic) - magic, x);
            const vi32 outside = (r < zero) | (r > top);
            count -= outside;
            r = BLEND(r >= zero, r, zero);
            r = BLEND(r <= top, r, top);
            const vu8_32 bytes =
                __builtin_shuffle((vu8_32)__builtin_convertvector(r, vi32), (vu8_32){LOW_BYTES});
            memcpy(d + j, &bytes, N);
            if (m) {
                const vu8_32 marks = __builtin_shuffle((vu8_32)outside, (vu8_32){LOW_BYTES});
                for (int k = 0; k < N; k++) m[j + k] |= marks[k] & 1;
            }
        }
        for (; j < g->cols; j++) {
            int outside;
            d[j * g->dst_col] = quantise_one(s[j], g, &low, &high, &nan, &outside);
            clipped += outside;
            if (m && outside) m[j * g->mask_col] = 1;
        }
    }
    for (int k = 0; k < N; k++) {
        low = lo[k] < low ? lo[k] : low;
        high = hi[k] > high ? hi[k] : high;
        nan |= nans[k] != 0;
        clipped += count[k];
    }
    g->low = nan ? NAN : low;
    g->high = nan ? NAN : high;
    g->clipped = clipped;
}

/* to_uint8(band, out, scale, offset, mask) -> (low, high, clipped) */
static PyObject *to_uint8(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *band_obj, *out_obj, *mask_obj;
    float scale, offset;
    if (!PyArg_ParseTuple(args, "OOffO", &band_obj, &out_obj, &scale, &offset, &mask_obj))
        return NULL;
    Py_buffer band = {0}, out = {0}, mask = {0};
    PyObject *result = NULL;
    Quantise g = {0};
    if (PyObject_GetBuffer(band_obj, &band, PyBUF_STRIDES | PyBUF_FORMAT) < 0) goto done;
    if (PyObject_GetBuffer(out_obj, &out, PyBUF_STRIDES | PyBUF_WRITABLE) < 0) goto done;
    if (mask_obj != Py_None &&
        PyObject_GetBuffer(mask_obj, &mask, PyBUF_STRIDES | PyBUF_WRITABLE) < 0)
        goto done;
    if (native_kind(band.format) != 'f' || out.itemsize != 1 || (mask.obj && mask.itemsize != 1)) {
        PyErr_SetString(PyExc_TypeError, "band must be float32, out and mask one byte a pixel");
        goto done;
    }
    if (band.ndim != 2 || out.ndim != 2 || band.shape[0] != out.shape[0] ||
        band.shape[1] != out.shape[1] ||
        (mask.obj && (mask.ndim != 2 || mask.shape[0] != out.shape[0] ||
                      mask.shape[1] != out.shape[1]))) {
        PyErr_SetString(PyExc_ValueError, "band, out and mask must be 2-D of one shape");
        goto done;
    }
    if (band.strides[1] != band.itemsize || band.strides[0] < 0 || out.strides[0] < 0 ||
        out.strides[1] < 1 || (mask.obj && (mask.strides[0] < 0 || mask.strides[1] < 1))) {
        PyErr_SetString(PyExc_ValueError, "band columns must be contiguous, strides positive");
        goto done;
    }
    g.src = band.buf;
    g.src_row = band.strides[0];
    g.dst = out.buf;
    g.dst_row = out.strides[0];
    g.dst_col = out.strides[1];
    g.mask = mask.obj ? mask.buf : NULL;
    g.mask_row = mask.obj ? mask.strides[0] : 0;
    g.mask_col = mask.obj ? mask.strides[1] : 0;
    g.rows = band.shape[0];
    g.cols = band.shape[1];
    g.scale = scale;
    g.offset = offset;
    Py_BEGIN_ALLOW_THREADS;
    quantise(&g);
    Py_END_ALLOW_THREADS;
    result = Py_BuildValue("ddn", (double)g.low, (double)g.high, g.clipped);
done:
    if (band.obj) PyBuffer_Release(&band);
    if (out.obj) PyBuffer_Release(&out);
    if (mask.obj) PyBuffer_Release(&mask);
    return result;
}

static int fail(PyObject *type, const char *message)
{
    PyErr_SetString(type, message);
    return -1;
}

/* Check the buffers and fill the plan's taps, strides and output; *kind is the
 * working type ('f' or 'd'). Every read the plan makes is checked by the callers. */
static int check_common(Py_buffer *src, Py_buffer *dst, Py_buffer *rows, Py_buffer *cols,
                        Py_buffer *weights, Py_ssize_t sr, Py_ssize_t sc, Plan *g, char *kind)
{
    const char source = native_kind(src->format), work = native_kind(dst->format);
    if (work == 'B' || work == 0 || native_kind(weights->format) != work ||
        (source != work && source != 'B'))
        return fail(PyExc_TypeError, "src, dst and weights must share float32 or float64");
    if (src->ndim != 2 || dst->ndim != 2) return fail(PyExc_ValueError, "src and dst must be 2-D");
    if (src->strides[1] != src->itemsize || dst->strides[1] != dst->itemsize ||
        src->strides[0] < 0 || dst->strides[0] < 0)
        return fail(PyExc_ValueError, "src and dst columns must be contiguous");
    if (rows->itemsize != 8 || cols->itemsize != 8 || rows->len != cols->len ||
        rows->len / 8 != weights->len / weights->itemsize)
        return fail(PyExc_ValueError, "rows, cols and weights: one int64, int64, weight a tap");
    if (sr < 1 || sc < 1) return fail(PyExc_ValueError, "strides must be positive");
    g->image = src->buf;
    g->image_row = src->strides[0];
    g->dst = dst->buf;
    g->dst_row = dst->strides[0];
    g->out_rows = dst->shape[0];
    g->out_cols = dst->shape[1];
    g->tr = rows->buf;
    g->tc = cols->buf;
    g->w = weights->buf;
    g->taps = rows->len / 8;
    g->sr = sr;
    g->sc = sc;
    g->max_tr = 0;
    for (Py_ssize_t t = 0; t < g->taps; t++)
        if (g->tr[t] > g->max_tr) g->max_tr = g->tr[t];
    *kind = source == 'B' ? (work == 'f' ? 'b' : 'B') : work;
    return 0;
}

/* Run the plan without the GIL (scratch: a row pointer per tap, a zero row). */
static PyObject *run(Plan *g, char kind, Py_ssize_t zeros, Py_ssize_t itemsize)
{
    if (g->out_rows <= 0 || g->out_cols <= 0) Py_RETURN_NONE;
    const void **rowp = PyMem_Malloc((g->taps > 0 ? g->taps : 1) * sizeof(void *));
    void *zero = zeros > 0 ? PyMem_Calloc(zeros, itemsize) : NULL;
    if (rowp == NULL || (zeros > 0 && zero == NULL)) {
        PyMem_Free(rowp);
        PyMem_Free(zero);
        return PyErr_NoMemory();
    }
    g->rowp = rowp;
    g->zero = zero;
    Py_BEGIN_ALLOW_THREADS;
    switch (kind) {
    case 'f': correlate_f32(g); break;
    case 'd': correlate_f64(g); break;
    case 'b': correlate_u8_f32(g); break;
    default: correlate_u8_f64(g); break;
    }
    Py_END_ALLOW_THREADS;
    PyMem_Free(rowp);
    PyMem_Free(zero);
    Py_RETURN_NONE;
}

static void release(Py_buffer *views, int n)
{
    for (int k = 0; k < n; k++)
        if (views[k].obj) PyBuffer_Release(&views[k]);
}

static PyObject *correlate(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *objects[5];
    Py_ssize_t sr, sc;
    if (!PyArg_ParseTuple(args, "OOOOOnn", &objects[0], &objects[1], &objects[2], &objects[3],
                          &objects[4], &sr, &sc))
        return NULL;
    Py_buffer v[5] = {{0}};
    PyObject *result = NULL;
    Plan g = {0};
    char kind;
    const int flags[5] = {PyBUF_STRIDES | PyBUF_FORMAT,
                          PyBUF_STRIDES | PyBUF_FORMAT | PyBUF_WRITABLE,
                          PyBUF_C_CONTIGUOUS | PyBUF_FORMAT, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT,
                          PyBUF_C_CONTIGUOUS | PyBUF_FORMAT};
    for (int k = 0; k < 5; k++)
        if (PyObject_GetBuffer(objects[k], &v[k], flags[k]) < 0) goto done;
    if (check_common(&v[0], &v[1], &v[2], &v[3], &v[4], sr, sc, &g, &kind) < 0) goto done;
    if (native_kind(v[0].format) == 'B') {
        fail(PyExc_TypeError, "src, dst and weights must share float32 or float64");
        goto done;
    }
    if (g.out_rows > 0 && g.out_cols > 0) { /* every read must fall inside src */
        for (Py_ssize_t t = 0; t < g.taps; t++) {
            if (g.tr[t] < 0 || g.tc[t] < 0 || (g.out_rows - 1) * sr + g.tr[t] >= v[0].shape[0] ||
                (g.out_cols - 1) * sc + g.tc[t] >= v[0].shape[1]) {
                fail(PyExc_ValueError, "a tap reads outside src");
                goto done;
            }
        }
    }
    g.prows = v[0].shape[0];
    g.j_lo = 0; /* the band is padded already: every column is inside */
    g.j_hi = g.out_cols;
    result = run(&g, kind, 0, v[0].itemsize);
done:
    release(v, 5);
    return result;
}

static PyObject *correlate_image(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *objects[7];
    Py_ssize_t lo, hi, sr, sc;
    if (!PyArg_ParseTuple(args, "OOOOnnOOOnn", &objects[0], &objects[1], &objects[5],
                          &objects[6], &lo, &hi, &objects[2], &objects[3], &objects[4], &sr,
                          &sc))
        return NULL;
    Py_buffer v[7] = {{0}};
    PyObject *result = NULL;
    Plan g = {0};
    char kind;
    const int flags[7] = {PyBUF_STRIDES | PyBUF_FORMAT,
                          PyBUF_STRIDES | PyBUF_FORMAT | PyBUF_WRITABLE,
                          PyBUF_C_CONTIGUOUS | PyBUF_FORMAT, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT,
                          PyBUF_C_CONTIGUOUS | PyBUF_FORMAT, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT,
                          PyBUF_C_CONTIGUOUS | PyBUF_FORMAT};
    for (int k = 0; k < 7; k++)
        if (PyObject_GetBuffer(objects[k], &v[k], flags[k]) < 0) goto done;
    if (check_common(&v[0], &v[1], &v[2], &v[3], &v[4], sr, sc, &g, &kind) < 0) goto done;
    if (v[5].itemsize != 8 || v[6].itemsize != 8) {
        fail(PyExc_ValueError, "row_map and col_map must be int64");
        goto done;
    }
    const Py_ssize_t height = v[0].shape[0], width = v[0].shape[1];
    const Py_ssize_t prows = v[5].len / 8, pcols = v[6].len / 8;
    const int64_t *rmap = v[5].buf, *cmap = v[6].buf;
    Py_ssize_t zeros = 0; /* a zero row is needed if some padded row is outside */
    for (Py_ssize_t p = 0; p < prows; p++) {
        if (rmap[p] < -1 || rmap[p] >= height) {
            fail(PyExc_ValueError, "row_map points outside the image");
            goto done;
        }
        if (rmap[p] < 0) zeros = width;
    }
    if (lo < 0 || hi < lo || hi > pcols) {
        fail(PyExc_ValueError, "the run lo:hi must lie in col_map");
        goto done;
    }
    for (Py_ssize_t q = 0; q < pcols; q++) {
        if (q == lo) q = hi; /* the run: only its first column is read */
        if (q >= pcols) break;
        if (cmap[q] < -1 || cmap[q] >= width) {
            fail(PyExc_ValueError, "col_map points outside the image");
            goto done;
        }
    }
    if (hi > lo && (cmap[lo] < 0 || cmap[lo] + (hi - lo) > width)) {
        fail(PyExc_ValueError, "the run lo:hi reads outside the image");
        goto done;
    }
    Py_ssize_t min_tc = PY_SSIZE_T_MAX, max_tc = 0;
    if (g.out_rows > 0 && g.out_cols > 0) { /* every read must fall inside the maps */
        for (Py_ssize_t t = 0; t < g.taps; t++) {
            if (g.tr[t] < 0 || g.tc[t] < 0 || (g.out_rows - 1) * sr + g.tr[t] >= prows ||
                (g.out_cols - 1) * sc + g.tc[t] >= pcols) {
                fail(PyExc_ValueError, "a tap reads outside the maps");
                goto done;
            }
            if (g.tc[t] < min_tc) min_tc = g.tc[t];
            if (g.tc[t] > max_tc) max_tc = g.tc[t];
        }
    }
    if (g.taps == 0) min_tc = max_tc = lo;
    /* Outputs j_lo <= j < j_hi: every tap's column j*sc + tc in lo:hi. */
    g.j_lo = lo > min_tc ? (lo - min_tc + sc - 1) / sc : 0;
    g.j_hi = hi - 1 - max_tc >= 0 ? (hi - 1 - max_tc) / sc + 1 : 0;
    if (g.j_hi > g.out_cols) g.j_hi = g.out_cols;
    if (g.j_lo > g.out_cols) g.j_lo = g.out_cols;
    if (g.j_hi < g.j_lo) g.j_hi = g.j_lo;
    g.shift = hi > lo ? cmap[lo] - lo : 0;
    g.lo = lo;
    g.hi = hi;
    g.rmap = rmap;
    g.cmap = cmap;
    g.prows = prows;
    result = run(&g, kind, zeros, v[0].itemsize);
done:
    release(v, 7);
    return result;
}

static PyMethodDef methods[] = {
    {"correlate", correlate, METH_VARARGS,
     "correlate(src, dst, rows, cols, weights, stride_rows, stride_cols): every tap of a "
     "padded band in one pass (see convcli/engine/fused.py)."},
    {"correlate_image", correlate_image, METH_VARARGS,
     "correlate_image(image, dst, row_map, col_map, lo, hi, rows, cols, weights, stride_rows, "
     "stride_cols): the same, reading the image through its padding's index maps."},
    {"to_uint8", to_uint8, METH_VARARGS,
     "to_uint8(band, out, scale, offset, mask) -> (low, high, clipped): the fused 8-bit "
     "writer's scale, offset, round, clip and store in one pass (see engine/sinks.py)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fused",
                                    "The direct strategy's band loop, compiled.", -1, methods};

/* What engine/native.py checks on import: a build older than the Python code
 * calling it (a stale in-place .so) then counts as absent, not as broken. Raise
 * it whenever a function is added or its arguments change. */
#define API 2

PyMODINIT_FUNC PyInit__fused(void)
{
    PyObject *m = PyModule_Create(&module);
    if (m != NULL && PyModule_AddIntConstant(m, "API", API) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
