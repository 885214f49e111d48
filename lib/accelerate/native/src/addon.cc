// The addon's N-API glue (module ae_native, loaded by ../addon.ts): each exported function checks
// its arguments (typed arrays long enough for their tensors, sizes, enum values) and calls a
// kernel of kernels.h on the arrays' memory in place. conv2d and maxPoolGrad take their
// geometry as an object of named sizes; modes, algorithms and operations are the named enums of
// enums.h, which the module also exports (`enums`) for the TypeScript mirror to be checked against.
#include <node_api.h>

#include <cstdio>
#include <string>

#include "kernels.h"

namespace {

using namespace ae;

napi_value Throw(napi_env env, const char* message) {
  napi_throw_error(env, nullptr, message);
  return nullptr;
}

/** The data of a typed-array argument of element type `want` (no copy), or false. */
template <typename T>
bool View(napi_env env, napi_value value, napi_typedarray_type want, T** data, size_t* length) {
  bool isTyped = false;
  if (napi_is_typedarray(env, value, &isTyped) != napi_ok || !isTyped) return false;
  napi_typedarray_type type;
  void* raw = nullptr;
  napi_value arrayBuffer;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, value, &type, length, &raw, &arrayBuffer, &offset) != napi_ok || type != want) return false;
  *data = static_cast<T*>(raw);
  return true;
}

bool Float32View(napi_env env, napi_value value, float** data, size_t* length) {
  return View(env, value, napi_float32_array, data, length);
}

/** Float32Array views of argv[0 .. N) into data, lengths; false if any is not one. */
template <size_t N>
bool Float32Views(napi_env env, const napi_value* argv, float* (&data)[N], size_t (&lengths)[N]) {
  for (size_t i = 0; i < N; i++)
    if (!Float32View(env, argv[i], &data[i], &lengths[i])) return false;
  return true;
}

bool Int(napi_env env, napi_value value, int64_t* out) {
  return napi_get_value_int64(env, value, out) == napi_ok;
}

/** Reads the call's arguments into argv; whether there were exactly N of them. */
template <size_t N>
bool Arguments(napi_env env, napi_callback_info info, napi_value (&argv)[N]) {
  size_t argc = N;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  return argc == N;
}

/** A thread-count argument as a worker count: 1 to 64. */
int Workers(int64_t threads) {
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, 64)));
}

/** Reads the integer properties `names` of a geometry object into `out`; else throws naming the first missing or non-integer one. */
template <size_t N>
bool Geometry(napi_env env, const char* fn, napi_value object, const char* const (&names)[N], int64_t* const (&out)[N]) {
  napi_valuetype type;
  if (napi_typeof(env, object, &type) != napi_ok || type != napi_object) {
    Throw(env, (std::string(fn) + ": shape must be an object of integer sizes").c_str());
    return false;
  }
  for (size_t f = 0; f < N; f++) {
    napi_value value;
    if (napi_get_named_property(env, object, names[f], &value) != napi_ok || !Int(env, value, out[f])) {
      Throw(env, (std::string(fn) + ": shape." + names[f] + " must be an integer").c_str());
      return false;
    }
  }
  return true;
}

/** An enum-valued argument of `table` (enums.h); else throws naming the values allowed. */
template <typename Enum>
bool EnumArgument(napi_env env, const char* fn, napi_value value, const EnumTable& table, Enum* out) {
  int64_t raw;
  if (!Int(env, value, &raw) || !IsMember(table, raw)) {
    std::string allowed;
    for (int i = 0; i < table.count; i++) allowed += std::string(i ? ", " : "") + table.name + "." + table.members[i].name + " = " + std::to_string(table.members[i].value);
    Throw(env, (std::string(fn) + ": expected a " + table.name + " (" + allowed + ")").c_str());
    return false;
  }
  *out = static_cast<Enum>(raw);
  return true;
}

const EnumTable& Table(const char* name) {
  for (const EnumTable& table : kEnumTables)
    if (std::string(table.name) == name) return table;
  return kEnumTables[0];
}

napi_value Gemm(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  if (!Arguments(env, info, argv)) return Throw(env, "gemm: expected 12 arguments (a, b, c, batch, m, n, k, transA, transB, strideA, strideB, threads)");
  Job job{};
  float *a, *b, *c;
  size_t lengthA, lengthB, lengthC;
  if (!Float32View(env, argv[0], &a, &lengthA) || !Float32View(env, argv[1], &b, &lengthB) || !Float32View(env, argv[2], &c, &lengthC)) {
    return Throw(env, "gemm: a, b and c must be Float32Arrays");
  }
  int64_t threads;
  if (!Int(env, argv[3], &job.batch) || !Int(env, argv[4], &job.m) || !Int(env, argv[5], &job.n) || !Int(env, argv[6], &job.k) ||
      !Int(env, argv[9], &job.strideA) || !Int(env, argv[10], &job.strideB) || !Int(env, argv[11], &threads)) {
    return Throw(env, "gemm: batch, m, n, k, strideA, strideB and threads must be integers");
  }
  if (napi_get_value_bool(env, argv[7], &job.transA) != napi_ok || napi_get_value_bool(env, argv[8], &job.transB) != napi_ok) {
    return Throw(env, "gemm: transA and transB must be booleans");
  }
  if (job.batch < 1 || job.m < 0 || job.n < 0 || job.k < 0 || job.strideA < 0 || job.strideB < 0) return Throw(env, "gemm: sizes must be non-negative (batch ≥ 1)");
  const auto needs = [](int64_t batch, int64_t stride, int64_t size) { return (batch - 1) * stride + size; };
  if (static_cast<int64_t>(lengthA) < needs(job.batch, job.strideA, job.m * job.k) ||
      static_cast<int64_t>(lengthB) < needs(job.batch, job.strideB, job.k * job.n) ||
      static_cast<int64_t>(lengthC) < job.batch * job.m * job.n) {
    return Throw(env, "gemm: an array is shorter than its matrix (or batch of matrices)");
  }
  job.a = a;
  job.b = b;
  job.c = c;
  job.accumulate = false;
  runJob(job, Workers(threads));
  return nullptr;
}

/** conv2d(mode: ConvMode, algorithm: ConvAlgorithm, x, w, y, shape: { batch, inH, … padLeft }, threads). */
napi_value Conv2d(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!Arguments(env, info, argv)) return Throw(env, "conv2d: expected 7 arguments (mode, algorithm, x, w, y, shape, threads)");
  ConvMode mode;
  ConvAlgorithm algorithm;
  if (!EnumArgument(env, "conv2d: mode", argv[0], Table("ConvMode"), &mode) || !EnumArgument(env, "conv2d: algorithm", argv[1], Table("ConvAlgorithm"), &algorithm)) return nullptr;
  float *x, *w, *y;
  size_t lengthX, lengthW, lengthY;
  if (!Float32View(env, argv[2], &x, &lengthX) || !Float32View(env, argv[3], &w, &lengthW) || !Float32View(env, argv[4], &y, &lengthY)) {
    return Throw(env, "conv2d: x, w and y must be Float32Arrays");
  }
  ConvShape s{};
  static const char* const names[] = {"batch", "inH", "inW", "inC", "outH", "outW", "outC", "fH", "fW", "strideH", "strideW", "dilH", "dilW", "padTop", "padLeft"};
  int64_t* const fields[] = {&s.batch, &s.inH, &s.inW, &s.inC, &s.outH, &s.outW, &s.outC, &s.fH, &s.fW, &s.strideH, &s.strideW, &s.dilH, &s.dilW, &s.padTop, &s.padLeft};
  if (!Geometry(env, "conv2d", argv[5], names, fields)) return nullptr;
  int64_t threads;
  if (!Int(env, argv[6], &threads)) return Throw(env, "conv2d: threads must be an integer");
  for (int f = 0; f < 13; f++) {
    if (*fields[f] < 1) return Throw(env, "conv2d: batch, sizes, channels, filter sizes, strides and dilations must be ≥ 1");
  }
  if (static_cast<int64_t>(lengthX) < s.batch * s.inH * s.inW * s.inC || static_cast<int64_t>(lengthW) < s.K() * s.outC ||
      static_cast<int64_t>(lengthY) < s.batch * s.outH * s.outW * s.outC) {
    return Throw(env, "conv2d: an array is shorter than its tensor");
  }
  if (algorithm == ConvAlgorithm::Direct && !directApplies(s)) return Throw(env, "conv2d: the direct algorithm needs stride 1, dilation 1, 0 ≤ padding < filter size, filter width ≤ 7 and rows of ≤ 4 vectors");
  const int workers = Workers(threads);
  if (algorithm == ConvAlgorithm::Direct) directConv2d(mode, s, x, w, y, workers);
  else conv2d(mode, s, x, w, y, workers);
  return nullptr;
}

/** adam(w, m, v, g, lr, beta1, beta2, epsilon, biasCorrection1, biasCorrection2, threads). */
napi_value Adam(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  if (!Arguments(env, info, argv)) return Throw(env, "adam: expected 11 arguments (w, m, v, g, lr, beta1, beta2, epsilon, biasCorrection1, biasCorrection2, threads)");
  float* arrays[4];
  size_t lengths[4];
  for (int i = 0; i < 4; i++) {
    if (!Float32View(env, argv[i], &arrays[i], &lengths[i])) return Throw(env, "adam: w, m, v and g must be Float32Arrays");
  }
  if (lengths[1] != lengths[0] || lengths[2] != lengths[0] || lengths[3] != lengths[0]) return Throw(env, "adam: w, m, v and g must have the same length");
  double numbers[6];
  for (int i = 0; i < 6; i++) {
    if (napi_get_value_double(env, argv[4 + i], &numbers[i]) != napi_ok) return Throw(env, "adam: lr, beta1, beta2, epsilon and the bias corrections must be numbers");
  }
  int64_t threads;
  if (!Int(env, argv[10], &threads)) return Throw(env, "adam: threads must be an integer");
  adam(arrays[0], arrays[1], arrays[2], arrays[3], static_cast<int64_t>(lengths[0]), static_cast<float>(numbers[0]), static_cast<float>(numbers[1]),
       static_cast<float>(numbers[2]), static_cast<float>(numbers[3]), static_cast<float>(numbers[4]), static_cast<float>(numbers[5]), static_cast<int>(threads));
  return nullptr;
}

/** momentum(w, accumulation, g, lr, momentum, nesterov, decayFactor: number | null, threads). */
napi_value Momentum(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  float* arrays[3];
  size_t lengths[3];
  double lr, m, factor = 0;
  bool nesterov;
  int64_t threads;
  napi_valuetype decayType = napi_undefined;
  const char* usage = "momentum: expected (w, accumulation, g: Float32Array, lr, momentum: number, nesterov: boolean, decayFactor: number | null, threads)";
  if (!Arguments(env, info, argv) || !Float32Views(env, argv, arrays, lengths) || napi_get_value_double(env, argv[3], &lr) != napi_ok ||
      napi_get_value_double(env, argv[4], &m) != napi_ok || napi_get_value_bool(env, argv[5], &nesterov) != napi_ok ||
      napi_typeof(env, argv[6], &decayType) != napi_ok || (decayType != napi_null && napi_get_value_double(env, argv[6], &factor) != napi_ok) || !Int(env, argv[7], &threads)) {
    return Throw(env, usage);
  }
  if (lengths[1] != lengths[0] || lengths[2] != lengths[0]) return Throw(env, "momentum: w, accumulation and g must have the same length");
  const float decayFactor = static_cast<float>(factor);
  momentum(arrays[0], arrays[1], arrays[2], static_cast<int64_t>(lengths[0]), static_cast<float>(lr), static_cast<float>(m), nesterov,
           decayType == napi_null ? nullptr : &decayFactor, Workers(threads));
  return nullptr;
}

/** unary(op: UnaryOp, x, y, alpha, threads): x and y may be the same array (in place). */
napi_value Unary(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  float *x, *y;
  size_t nx, ny;
  int64_t threads;
  double alpha;
  if (!Arguments(env, info, argv) || !View(env, argv[1], napi_float32_array, &x, &nx) || !View(env, argv[2], napi_float32_array, &y, &ny) ||
      napi_get_value_double(env, argv[3], &alpha) != napi_ok || !Int(env, argv[4], &threads)) {
    return Throw(env, "unary: expected (op, x: Float32Array, y: Float32Array, alpha: number, threads)");
  }
  UnaryOp op;
  if (!EnumArgument(env, "unary: op", argv[0], Table("UnaryOp"), &op)) return nullptr;
  if (nx != ny) return Throw(env, "unary: x and y must have the same length");
  unary(op, x, y, static_cast<int64_t>(nx), static_cast<float>(alpha), Workers(threads));
  return nullptr;
}

/** compare(op: ComparisonOp, a, b, out, threads): out[i] = a[i] > b[i] or a[i] ≤ b[i] (b of length 1: a scalar), as bytes 0/1. */
napi_value Compare(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  float *a, *b;
  uint8_t* out;
  size_t na, nb, nout;
  int64_t threads;
  if (!Arguments(env, info, argv) || !View(env, argv[1], napi_float32_array, &a, &na) || !View(env, argv[2], napi_float32_array, &b, &nb) ||
      !View(env, argv[3], napi_uint8_array, &out, &nout) || !Int(env, argv[4], &threads)) {
    return Throw(env, "compare: expected (op, a: Float32Array, b: Float32Array, out: Uint8Array, threads)");
  }
  ComparisonOp op;
  if (!EnumArgument(env, "compare: op", argv[0], Table("ComparisonOp"), &op)) return nullptr;
  if (nout != na || (nb != na && nb != 1)) return Throw(env, "compare: out must match a, and b must match a or have one element");
  compare(op, a, b, nb == 1, out, static_cast<int64_t>(na), Workers(threads));
  return nullptr;
}

/** toFloat32(x: Uint8Array (bool) or Int32Array, out: Float32Array, threads): out[i] = x[i] as float32. */
napi_value ToFloat32(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  uint8_t* bytes = nullptr;
  int32_t* ints = nullptr;
  float* out;
  size_t nx = 0, nout;
  int64_t threads;
  if (!Arguments(env, info, argv) || !(View(env, argv[0], napi_uint8_array, &bytes, &nx) || View(env, argv[0], napi_int32_array, &ints, &nx)) ||
      !View(env, argv[1], napi_float32_array, &out, &nout) || !Int(env, argv[2], &threads)) {
    return Throw(env, "toFloat32: expected (x: Uint8Array or Int32Array, out: Float32Array, threads)");
  }
  if (nout != nx) return Throw(env, "toFloat32: x and out must have the same length");
  if (bytes) toFloat32(bytes, out, static_cast<int64_t>(nx), Workers(threads));
  else toFloat32(ints, out, static_cast<int64_t>(nx), Workers(threads));
  return nullptr;
}

/** select(condition, t, e, out, threads): out[i] = condition[i] ? t[i] : e[i]. */
napi_value Select(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  uint8_t* c;
  float *t, *e, *out;
  size_t nc, nt, ne, nout;
  int64_t threads;
  if (!Arguments(env, info, argv) || !View(env, argv[0], napi_uint8_array, &c, &nc) || !View(env, argv[1], napi_float32_array, &t, &nt) ||
      !View(env, argv[2], napi_float32_array, &e, &ne) || !View(env, argv[3], napi_float32_array, &out, &nout) || !Int(env, argv[4], &threads)) {
    return Throw(env, "select: expected (condition: Uint8Array, t: Float32Array, e: Float32Array, out: Float32Array, threads)");
  }
  if (nt != nc || ne != nc || nout != nc) return Throw(env, "select: condition, t, e and out must have the same length");
  select(c, t, e, out, static_cast<int64_t>(nc), Workers(threads));
  return nullptr;
}

/**
 * The glue of sumRows, meanRows and sumLastAxis: (x, rows, cols, out, threads), checked (out holds cols values, or rows with
 * `perRow`), then kernel(x, rows, cols, out, workers).
 */
napi_value RowsColumnsReduction(napi_env env, napi_callback_info info, const std::string& name, void (*kernel)(const float*, int64_t, int64_t, float*, int),
                                bool perRow = false) {
  napi_value argv[5];
  float *x, *out;
  size_t nx, nout;
  int64_t rows, cols, threads;
  if (!Arguments(env, info, argv) || !View(env, argv[0], napi_float32_array, &x, &nx) || !Int(env, argv[1], &rows) || !Int(env, argv[2], &cols) ||
      !View(env, argv[3], napi_float32_array, &out, &nout) || !Int(env, argv[4], &threads)) {
    return Throw(env, (name + ": expected (x: Float32Array, rows, cols, out: Float32Array, threads)").c_str());
  }
  // cols > nx / rows rather than nx < rows · cols, which can overflow.
  if (rows < 1 || cols < 1 || cols > static_cast<int64_t>(nx) / rows || static_cast<int64_t>(nout) < (perRow ? rows : cols)) {
    return Throw(env, (name + ": x must hold rows × cols values and out " + (perRow ? "rows" : "cols")).c_str());
  }
  kernel(x, rows, cols, out, Workers(threads));
  return nullptr;
}

/** sumRows(x, rows, cols, out, threads): out[j] = Σ_i x[i·cols + j], accumulated in float64 (as tfjs-cpu). */
napi_value SumRows(napi_env env, napi_callback_info info) {
  return RowsColumnsReduction(env, info, "sumRows", sumRows);
}

/** sumLastAxis(x, rows, cols, out, threads): out[r] = the float32 sum of x[r·cols + j] over j in order (kernels.h). */
napi_value SumLastAxis(napi_env env, napi_callback_info info) {
  return RowsColumnsReduction(env, info, "sumLastAxis", sumLastAxis, true);
}

/** meanRows(x, rows, cols, out, threads): out[c] = the float32 sum of x[r·cols + c] over r in order, / rows. */
napi_value MeanRows(napi_env env, napi_callback_info info) {
  return RowsColumnsReduction(env, info, "meanRows", meanRows);
}

/** binary(op: BinaryOp, a, b, out, threads): out[i] = op(a[i], b[i]); a or b of length 1 is one value for every i. */
napi_value Binary(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  float *a, *b, *out;
  size_t na, nb, nout;
  int64_t threads;
  if (!Arguments(env, info, argv) || !View(env, argv[1], napi_float32_array, &a, &na) || !View(env, argv[2], napi_float32_array, &b, &nb) ||
      !View(env, argv[3], napi_float32_array, &out, &nout) || !Int(env, argv[4], &threads)) {
    return Throw(env, "binary: expected (op, a: Float32Array, b: Float32Array, out: Float32Array, threads)");
  }
  BinaryOp op = BinaryOp::Add;
  if (!EnumArgument(env, "binary: op", argv[0], Table("BinaryOp"), &op)) return nullptr;
  if ((na != nout && na != 1) || (nb != nout && nb != 1) || nout == 0) return Throw(env, "binary: a and b must each have out's length or length 1");
  binary(op, a, na == 1 && nout != 1, b, nb == 1 && nout != 1, out, static_cast<int64_t>(nout), Workers(threads));
  return nullptr;
}

/** binaryRows(op: BinaryOp, a, b, out, cols, threads): out = op(a, b), one of a and b out's length, the other one row of cols values repeated over out's rows. */
napi_value BinaryRows(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  float *a, *b, *out;
  size_t na, nb, nout;
  int64_t cols, threads;
  if (!Arguments(env, info, argv) || !View(env, argv[1], napi_float32_array, &a, &na) || !View(env, argv[2], napi_float32_array, &b, &nb) ||
      !View(env, argv[3], napi_float32_array, &out, &nout) || !Int(env, argv[4], &cols) || !Int(env, argv[5], &threads)) {
    return Throw(env, "binaryRows: expected (op, a: Float32Array, b: Float32Array, out: Float32Array, cols, threads)");
  }
  BinaryOp op = BinaryOp::Add;
  if (!EnumArgument(env, "binaryRows: op", argv[0], Table("BinaryOp"), &op)) return nullptr;
  const int64_t n = static_cast<int64_t>(nout);
  if (cols < 1 || n == 0 || n % cols != 0) return Throw(env, "binaryRows: out's length must be a positive multiple of cols");
  const bool rowFirst = static_cast<int64_t>(na) == cols && static_cast<int64_t>(nb) == n && n != cols;
  if (!rowFirst && !(static_cast<int64_t>(na) == n && static_cast<int64_t>(nb) == cols)) {
    return Throw(env, "binaryRows: one of a and b must have out's length and the other cols values");
  }
  binaryRows(op, a, b, rowFirst, out, n / cols, cols, Workers(threads));
  return nullptr;
}

/** addArrays(a, b, out, threads): out[i] = a[i] + b[i]. */
napi_value AddArrays(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  float* arrays[3];
  size_t lengths[3];
  int64_t threads;
  if (!Arguments(env, info, argv) || !Float32Views(env, argv, arrays, lengths) || !Int(env, argv[3], &threads)) {
    return Throw(env, "addArrays: expected (a: Float32Array, b: Float32Array, out: Float32Array, threads)");
  }
  if (lengths[1] != lengths[0] || lengths[2] != lengths[0]) return Throw(env, "addArrays: a, b and out must have the same length");
  addArrays(arrays[0], arrays[1], arrays[2], static_cast<int64_t>(lengths[0]), Workers(threads));
  return nullptr;
}

/** addRows(x, bias, out, rows, cols, threads): out[i·cols + j] = x[i·cols + j] + bias[j]. */
napi_value AddRows(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  float *x, *bias, *out;
  size_t nx, nb, nout;
  int64_t rows, cols, threads;
  if (!Arguments(env, info, argv) || !View(env, argv[0], napi_float32_array, &x, &nx) || !View(env, argv[1], napi_float32_array, &bias, &nb) ||
      !View(env, argv[2], napi_float32_array, &out, &nout) || !Int(env, argv[3], &rows) || !Int(env, argv[4], &cols) || !Int(env, argv[5], &threads)) {
    return Throw(env, "addRows: expected (x: Float32Array, bias: Float32Array, out: Float32Array, rows, cols, threads)");
  }
  if (rows < 1 || cols < 1 || static_cast<int64_t>(nx) < rows * cols || static_cast<int64_t>(nout) < rows * cols || static_cast<int64_t>(nb) < cols) {
    return Throw(env, "addRows: x and out must hold rows × cols values and bias cols");
  }
  addRows(x, bias, out, rows, cols, Workers(threads));
  return nullptr;
}

/** transpose(x, y, shape: Int32Array, perm: Int32Array, threads): y = x with its axes permuted; x and y both Float32Arrays or both Int32Arrays. */
napi_value Transpose(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  float *xf = nullptr, *yf = nullptr;
  int32_t *xi = nullptr, *yi = nullptr, *shapeValues, *permValues;
  size_t nx = 0, ny = 0, nShape, nPerm;
  int64_t threads;
  const bool floats = Arguments(env, info, argv) && View(env, argv[0], napi_float32_array, &xf, &nx) && View(env, argv[1], napi_float32_array, &yf, &ny);
  const bool ints = !floats && View(env, argv[0], napi_int32_array, &xi, &nx) && View(env, argv[1], napi_int32_array, &yi, &ny);
  if (!(floats || ints) || !View(env, argv[2], napi_int32_array, &shapeValues, &nShape) || !View(env, argv[3], napi_int32_array, &permValues, &nPerm) ||
      !Int(env, argv[4], &threads)) {
    return Throw(env, "transpose: expected (x, y: both Float32Arrays or both Int32Arrays, shape: Int32Array, perm: Int32Array, threads)");
  }
  if (nShape < 2 || nShape > static_cast<size_t>(kMaxTransposeRank) || nPerm != nShape) return Throw(env, "transpose: shape and perm must have the same rank, 2 to 8");
  int64_t shape[kMaxTransposeRank], perm[kMaxTransposeRank], size = 1;
  bool seen[kMaxTransposeRank] = {};
  for (size_t d = 0; d < nShape; d++) {
    shape[d] = shapeValues[d];
    perm[d] = permValues[d];
    if (shape[d] < 1) return Throw(env, "transpose: every size must be ≥ 1");
    if (perm[d] < 0 || perm[d] >= static_cast<int64_t>(nShape) || seen[perm[d]]) return Throw(env, "transpose: perm must be a permutation of 0 … rank − 1");
    seen[perm[d]] = true;
    if (size > static_cast<int64_t>(nx) / shape[d]) return Throw(env, "transpose: x and y must hold the shape's values");
    size *= shape[d];
  }
  if (size != static_cast<int64_t>(nx) || size != static_cast<int64_t>(ny)) return Throw(env, "transpose: x and y must hold the shape's values");
  const uint32_t* x = floats ? reinterpret_cast<const uint32_t*>(xf) : reinterpret_cast<const uint32_t*>(xi);
  uint32_t* y = floats ? reinterpret_cast<uint32_t*>(yf) : reinterpret_cast<uint32_t*>(yi);
  transpose(x, y, shape, perm, static_cast<int>(nShape), Workers(threads));
  return nullptr;
}

/** argMax(x, out, outer, k, inner, threads): out[o·inner + i] = the first j maximising x[(o·k + j)·inner + i]. */
napi_value ArgMax(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  float* x;
  int32_t* out;
  size_t nx, nout;
  int64_t outer, k, inner, threads;
  if (!Arguments(env, info, argv) || !View(env, argv[0], napi_float32_array, &x, &nx) || !View(env, argv[1], napi_int32_array, &out, &nout) ||
      !Int(env, argv[2], &outer) || !Int(env, argv[3], &k) || !Int(env, argv[4], &inner) || !Int(env, argv[5], &threads)) {
    return Throw(env, "argMax: expected (x: Float32Array, out: Int32Array, outer, k, inner, threads)");
  }
  if (outer < 1 || k < 1 || inner < 1) return Throw(env, "argMax: outer, k and inner must be ≥ 1");
  if (outer > static_cast<int64_t>(nx) / k / inner || static_cast<int64_t>(nx) != outer * k * inner || static_cast<int64_t>(nout) != outer * inner) {
    return Throw(env, "argMax: x must hold outer × k × inner values and out outer × inner");
  }
  argMax(x, out, outer, k, inner, Workers(threads));
  return nullptr;
}

/** upsample(mode: UpsampleMode, small, large, batch, inH, inW, channels, sh, sw, threads). */
napi_value Upsample(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  float *small, *large;
  size_t nSmall, nLarge;
  int64_t batch, inH, inW, C, sh, sw, threads;
  if (!Arguments(env, info, argv) || !View(env, argv[1], napi_float32_array, &small, &nSmall) || !View(env, argv[2], napi_float32_array, &large, &nLarge) ||
      !Int(env, argv[3], &batch) || !Int(env, argv[4], &inH) || !Int(env, argv[5], &inW) || !Int(env, argv[6], &C) || !Int(env, argv[7], &sh) ||
      !Int(env, argv[8], &sw) || !Int(env, argv[9], &threads)) {
    return Throw(env, "upsample: expected (mode, small: Float32Array, large: Float32Array, batch, inH, inW, channels, sh, sw, threads)");
  }
  UpsampleMode mode;
  if (!EnumArgument(env, "upsample: mode", argv[0], Table("UpsampleMode"), &mode)) return nullptr;
  if (batch < 1 || inH < 1 || inW < 1 || C < 1 || sh < 1 || sw < 1) return Throw(env, "upsample: sizes and factors must be ≥ 1");
  if (static_cast<int64_t>(nSmall) < batch * inH * inW * C || static_cast<int64_t>(nLarge) < batch * inH * sh * inW * sw * C) {
    return Throw(env, "upsample: an array is shorter than its tensor");
  }
  upsample(mode, small, large, batch, inH, inW, C, sh, sw, Workers(threads));
  return nullptr;
}

/** maxPoolGrad(dy, x, dx, shape: { batch, inH, inW, channels, outH, outW, fH, fW, strideH, strideW, padTop, padLeft }, threads). */
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!Arguments(env, info, argv)) return Throw(env, "maxPoolGrad: expected 5 arguments (dy, x, dx, shape, threads)");
  float *dy, *x, *dx;
  size_t lengthDy, lengthX, lengthDx;
  if (!Float32View(env, argv[0], &dy, &lengthDy) || !Float32View(env, argv[1], &x, &lengthX) || !Float32View(env, argv[2], &dx, &lengthDx)) {
    return Throw(env, "maxPoolGrad: dy, x and dx must be Float32Arrays");
  }
  int64_t v[12];
  static const char* const names[] = {"batch", "inH", "inW", "channels", "outH", "outW", "fH", "fW", "strideH", "strideW", "padTop", "padLeft"};
  int64_t* const fields[] = {&v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11]};
  if (!Geometry(env, "maxPoolGrad", argv[3], names, fields)) return nullptr;
  int64_t threads;
  if (!Int(env, argv[4], &threads)) return Throw(env, "maxPoolGrad: threads must be an integer");
  const int64_t batch = v[0], inH = v[1], inW = v[2], C = v[3], outH = v[4], outW = v[5];
  for (int f = 0; f < 10; f++) {
    if (v[f] < 1) return Throw(env, "maxPoolGrad: batch, sizes, channels, window and strides must be ≥ 1");
  }
  if (static_cast<int64_t>(lengthX) < batch * inH * inW * C || static_cast<int64_t>(lengthDx) < batch * inH * inW * C ||
      static_cast<int64_t>(lengthDy) < batch * outH * outW * C) {
    return Throw(env, "maxPoolGrad: an array is shorter than its tensor");
  }
  maxPoolGrad(dy, x, dx, batch, inH, inW, C, outH, outW, v[6], v[7], v[8], v[9], v[10], v[11], Workers(threads));
  return nullptr;
}


/** batchNormForward(x, gamma, beta, y, mean, variance, channels, epsilon, relu, threads): x and y [rows, channels]. */
napi_value BatchNormForward(napi_env env, napi_callback_info info) {
  napi_value argv[10];
  float* a[6];
  size_t n[6];
  int64_t C, threads;
  double epsilon;
  bool relu;
  if (!Arguments(env, info, argv) || !Float32Views(env, argv, a, n) || !Int(env, argv[6], &C) || napi_get_value_double(env, argv[7], &epsilon) != napi_ok ||
      napi_get_value_bool(env, argv[8], &relu) != napi_ok || !Int(env, argv[9], &threads)) {
    return Throw(env, "batchNormForward: expected (x, gamma, beta, y, mean, variance: Float32Array, channels, epsilon: number, relu: boolean, threads)");
  }
  if (C < 1 || n[0] == 0 || n[0] % C != 0 || n[3] != n[0] || n[1] != static_cast<size_t>(C) || n[2] != static_cast<size_t>(C) ||
      n[4] != static_cast<size_t>(C) || n[5] != static_cast<size_t>(C) || !(epsilon >= 0)) {
    return Throw(env, "batchNormForward: x and y must hold rows × channels values (rows ≥ 1), gamma, beta, mean and variance channels, epsilon ≥ 0");
  }
  batchNormForward(a[0], a[1], a[2], a[3], a[4], a[5], static_cast<int64_t>(n[0]) / C, C, static_cast<float>(epsilon), relu, Workers(threads));
  return nullptr;
}

/** batchNormBackward(dy, x, gamma, beta, mean, variance, dx, dgamma, dbeta, channels, epsilon, relu, threads). */
napi_value BatchNormBackward(napi_env env, napi_callback_info info) {
  napi_value argv[13];
  float* a[9];
  size_t n[9];
  int64_t C, threads;
  double epsilon;
  bool relu;
  if (!Arguments(env, info, argv) || !Float32Views(env, argv, a, n) || !Int(env, argv[9], &C) || napi_get_value_double(env, argv[10], &epsilon) != napi_ok ||
      napi_get_value_bool(env, argv[11], &relu) != napi_ok || !Int(env, argv[12], &threads)) {
    return Throw(env, "batchNormBackward: expected (dy, x, gamma, beta, mean, variance, dx, dgamma, dbeta: Float32Array, channels, epsilon: number, relu: boolean, threads)");
  }
  const size_t c = static_cast<size_t>(C);
  if (C < 1 || n[0] == 0 || n[0] % C != 0 || n[1] != n[0] || n[6] != n[0] || n[2] != c || n[3] != c || n[4] != c || n[5] != c || n[7] != c || n[8] != c || !(epsilon >= 0)) {
    return Throw(env, "batchNormBackward: dy, x and dx must hold rows × channels values (rows ≥ 1), the others channels, epsilon ≥ 0");
  }
  batchNormBackward(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], static_cast<int64_t>(n[0]) / C, C, static_cast<float>(epsilon), relu, Workers(threads));
  return nullptr;
}

/** sumOfSquares(arrays: Float32Array[], longTerms, threads): Σ over the arrays of Σ x², as tfjs's addN of sum(square(x)) on wasm (kernels.h). */
napi_value SumOfSquares(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  bool isArray = false;
  uint32_t count = 0;
  int64_t longTerms, threads;
  if (!Arguments(env, info, argv) || napi_is_array(env, argv[0], &isArray) != napi_ok || !isArray || napi_get_array_length(env, argv[0], &count) != napi_ok ||
      !Int(env, argv[1], &longTerms) || longTerms < 1 || !Int(env, argv[2], &threads)) {
    return Throw(env, "sumOfSquares: expected (arrays: Float32Array[], longTerms ≥ 1, threads)");
  }
  std::vector<const float*> arrays(count);
  std::vector<int64_t> lengths(count);
  for (uint32_t i = 0; i < count; i++) {
    napi_value element;
    float* data;
    size_t length;
    if (napi_get_element(env, argv[0], i, &element) != napi_ok || !Float32View(env, element, &data, &length)) {
      return Throw(env, ("sumOfSquares: arrays[" + std::to_string(i) + "] must be a Float32Array").c_str());
    }
    arrays[i] = data;
    lengths[i] = static_cast<int64_t>(length);
  }
  napi_value out;
  napi_create_double(env, sumOfSquares(arrays.data(), lengths.data(), count, longTerms, Workers(threads)), &out);
  return out;
}

/** fmaThroughput(threads, seconds): GFLOP/s of register-only vector multiply-adds on that many threads. */
napi_value FmaThroughput(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int64_t threads;
  double seconds;
  if (!Arguments(env, info, argv) || !Int(env, argv[0], &threads) || napi_get_value_double(env, argv[1], &seconds) != napi_ok || threads < 1 || !(seconds > 0 && seconds <= 60)) {
    return Throw(env, "fmaThroughput: expected (threads ≥ 1, seconds in (0, 60])");
  }
  napi_value out;
  napi_create_double(env, fmaThroughput(Workers(threads), seconds), &out);
  return out;
}

napi_value VectorFloats(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_int32(env, kVec, &out);
  return out;
}

napi_value Describe(napi_env env, napi_callback_info) {
  const char* isa =
#if defined(__AVX512F__)
      "AVX-512";
#elif defined(__AVX2__)
      "AVX2";
#elif defined(__AVX__)
      "AVX";
#elif defined(__SSE2__)
      "SSE2";
#else
      "portable";
#endif
  char text[128];
  snprintf(text, sizeof text, "%s, %d×%d register tile", isa, kMR, kNR);
  napi_value out;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &out);
  return out;
}

/** { ConvMode: { Forward: 0, … }, … }: the enums of enums.h, for the TypeScript mirror to be checked against. */
napi_value Enums(napi_env env) {
  napi_value all;
  napi_create_object(env, &all);
  for (const EnumTable& table : kEnumTables) {
    napi_value members;
    napi_create_object(env, &members);
    for (int i = 0; i < table.count; i++) {
      napi_value value;
      napi_create_int32(env, table.members[i].value, &value);
      napi_set_named_property(env, members, table.members[i].name, value);
    }
    napi_set_named_property(env, all, table.name, members);
  }
  return all;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"gemm", nullptr, Gemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adam", nullptr, Adam, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"momentum", nullptr, Momentum, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"compare", nullptr, Compare, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"toFloat32", nullptr, ToFloat32, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"select", nullptr, Select, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumOfSquares", nullptr, SumOfSquares, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumRows", nullptr, SumRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"addArrays", nullptr, AddArrays, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"addRows", nullptr, AddRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binaryRows", nullptr, BinaryRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"meanRows", nullptr, MeanRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumLastAxis", nullptr, SumLastAxis, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"upsample", nullptr, Upsample, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"argMax", nullptr, ArgMax, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"transpose", nullptr, Transpose, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPoolGrad", nullptr, MaxPoolGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormForward", nullptr, BatchNormForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormBackward", nullptr, BatchNormBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"fmaThroughput", nullptr, FmaThroughput, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"vectorFloats", nullptr, VectorFloats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"describe", nullptr, Describe, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"enums", nullptr, nullptr, nullptr, nullptr, Enums(env), napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
