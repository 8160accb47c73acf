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
 * The GIL is released while it runs, so band threads run in parallel.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
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

#define DEFINE_KERNEL(T, V, NAME)                                                               \
    typedef T V __attribute__((vector_size(VBYTES)));                                           \
    CLONES static void NAME(const char *src, Py_ssize_t src_row, char *dst, Py_ssize_t dst_row, \
                            Py_ssize_t out_rows, Py_ssize_t out_cols, const int64_t *tr,        \
                            const int64_t *tc, const T *w, Py_ssize_t taps, Py_ssize_t sr,      \
                            Py_ssize_t sc)                                                      \
    {                                                                                           \
        enum { N = VBYTES / sizeof(T), BLOCK = N * LANES };                                     \
        for (Py_ssize_t i = 0; i < out_rows; i++) {                                             \
            T *out = (T *)(dst + i * dst_row);                                                  \
            const char *base = src + i * sr * src_row;                                          \
            Py_ssize_t j0 = 0;                                                                  \
            if (sc == 1 && taps > 0) {                                                          \
                for (; j0 + BLOCK <= out_cols; j0 += BLOCK) {                                   \
                    V a[LANES], x;                                                              \
                    for (int l = 0; l < LANES; l++) a[l] = (V){0};                              \
                    for (Py_ssize_t t = 0; t < taps; t++) {                                     \
                        const T *q = (const T *)(base + tr[t] * src_row) + j0 + tc[t];          \
                        const T wt = w[t];                                                      \
                        for (int l = 0; l < LANES; l++) {                                       \
                            memcpy(&x, q + l * N, sizeof x); /* unaligned load */               \
                            a[l] += wt * x;                                                     \
                        }                                                                       \
                    }                                                                           \
                    memcpy(out + j0, a, sizeof a);                                              \
                }                                                                               \
            }                                                                                   \
            for (Py_ssize_t j = j0; j < out_cols; j++) { /* the rest, and strided columns */    \
                T sum = 0;                                                                      \
                for (Py_ssize_t t = 0; t < taps; t++) {                                         \
                    const T *p = (const T *)(base + tr[t] * src_row);                           \
                    sum += w[t] * p[j * sc + tc[t]];                                            \
                }                                                                               \
                out[j] = sum;                                                                   \
            }                                                                                   \
        }                                                                                       \
    }

DEFINE_KERNEL(float, vf32, correlate_f32)
DEFINE_KERNEL(double, vf64, correlate_f64)

/* 'f' or 'd' in native byte order (what NumPy exports for native arrays), else 0. */
static char native_kind(const char *format)
{
    if (format == NULL) return 0;
    if (format[0] == '@' || format[0] == '=') format++;
#if PY_LITTLE_ENDIAN
    else if (format[0] == '<') format++;
#else
    else if (format[0] == '>' || format[0] == '!') format++;
#endif
    if ((format[0] == 'f' || format[0] == 'd') && format[1] == '\0') return format[0];
    return 0;
}

static PyObject *correlate(PyObject *self, PyObject *args)
{
    PyObject *src_obj, *dst_obj, *rows_obj, *cols_obj, *weights_obj;
    Py_ssize_t sr, sc;
    if (!PyArg_ParseTuple(args, "OOOOOnn", &src_obj, &dst_obj, &rows_obj, &cols_obj,
                          &weights_obj, &sr, &sc))
        return NULL;
    Py_buffer src = {0}, dst = {0}, rows = {0}, cols = {0}, weights = {0};
    PyObject *result = NULL;
    if (PyObject_GetBuffer(src_obj, &src, PyBUF_STRIDES | PyBUF_FORMAT) < 0) goto done;
    if (PyObject_GetBuffer(dst_obj, &dst, PyBUF_STRIDES | PyBUF_FORMAT | PyBUF_WRITABLE) < 0)
        goto done;
    if (PyObject_GetBuffer(rows_obj, &rows, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) goto done;
    if (PyObject_GetBuffer(cols_obj, &cols, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) goto done;
    if (PyObject_GetBuffer(weights_obj, &weights, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        goto done;

    char kind = native_kind(src.format);
    if (kind == 0 || native_kind(dst.format) != kind || native_kind(weights.format) != kind) {
        PyErr_SetString(PyExc_TypeError, "src, dst and weights must share float32 or float64");
        goto done;
    }
    if (src.ndim != 2 || dst.ndim != 2) {
        PyErr_SetString(PyExc_ValueError, "src and dst must be 2-D");
        goto done;
    }
    if (src.strides[1] != src.itemsize || dst.strides[1] != dst.itemsize || src.strides[0] < 0 ||
        dst.strides[0] < 0) {
        PyErr_SetString(PyExc_ValueError, "src and dst columns must be contiguous");
        goto done;
    }
    if (rows.itemsize != 8 || cols.itemsize != 8 || rows.len != cols.len ||
        rows.len / 8 != weights.len / weights.itemsize) {
        PyErr_SetString(PyExc_ValueError, "rows, cols and weights: one int64, int64, weight a tap");
        goto done;
    }
    if (sr < 1 || sc < 1) {
        PyErr_SetString(PyExc_ValueError, "strides must be positive");
        goto done;
    }
    const Py_ssize_t taps = rows.len / 8, out_rows = dst.shape[0], out_cols = dst.shape[1];
    const int64_t *tr = rows.buf, *tc = cols.buf;
    if (out_rows > 0 && out_cols > 0) { /* every read must fall inside src */
        for (Py_ssize_t t = 0; t < taps; t++) {
            if (tr[t] < 0 || tc[t] < 0 || (out_rows - 1) * sr + tr[t] >= src.shape[0] ||
                (out_cols - 1) * sc + tc[t] >= src.shape[1]) {
                PyErr_SetString(PyExc_ValueError, "a tap reads outside src");
                goto done;
            }
        }
        Py_BEGIN_ALLOW_THREADS;
        if (kind == 'f')
            correlate_f32(src.buf, src.strides[0], dst.buf, dst.strides[0], out_rows, out_cols, tr,
                          tc, weights.buf, taps, sr, sc);
        else
            correlate_f64(src.buf, src.strides[0], dst.buf, dst.strides[0], out_rows, out_cols, tr,
                          tc, weights.buf, taps, sr, sc);
        Py_END_ALLOW_THREADS;
    }
    result = Py_None;
    Py_INCREF(result);
done:
    if (src.obj) PyBuffer_Release(&src);
    if (dst.obj) PyBuffer_Release(&dst);
    if (rows.obj) PyBuffer_Release(&rows);
    if (cols.obj) PyBuffer_Release(&cols);
    if (weights.obj) PyBuffer_Release(&weights);
    return result;
}

static PyMethodDef methods[] = {
    {"correlate", correlate, METH_VARARGS,
     "correlate(src, dst, rows, cols, weights, stride_rows, stride_cols): every tap of a band "
     "in one pass (see convcli/engine/fused.py)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fused",
                                    "The direct strategy's band loop, compiled.", -1, methods};

PyMODINIT_FUNC PyInit__fused(void) { return PyModule_Create(&module); }
