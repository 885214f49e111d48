// The addon's named codes, shared with TypeScript: lib/accelerate/native/enums.ts mirrors these
// values, the addon exports them (its `enums` property, built from kEnumTables below), and
// loadNativeKernels refuses an addon whose values differ (test/accelerate/native-addon.test.ts
// checks both agree).
#pragma once

#include <cstdint>

namespace ae {

/** What conv2d computes: y from x and w, dx from dy (passed as y) and w, or dw from x and dy. */
enum class ConvMode : int32_t { Forward = 0, InputGradient = 1, FilterGradient = 2 };
/** How conv2d computes it: im2col and a matrix product, or the direct kernels (few channels, stride 1). */
enum class ConvAlgorithm : int32_t { Im2col = 0, Direct = 1 };
/** The element-wise function of unary (tfjs-cpu's semantics). */
enum class UnaryOp : int32_t { LeakyRelu = 0, Step = 1, Relu = 2, Tanh = 3, Sigmoid = 4, Softplus = 5 };
/**
 * The element-wise function of binary: a + b, a − b, a·b, a / b, (a − b)² (float32, one operation each, as tfjs-cpu);
 * the activation gradients of a dense layer, a = dy and b = y: ReluGrad a·step(b), SigmoidGrad a·(b·(1 − b));
 * and min(a, b), max(a, b) as JavaScript's Math.min and Math.max (NaN if either is NaN, −0 below +0).
 */
enum class BinaryOp : int32_t { Add = 0, Sub = 1, Mul = 2, Div = 3, SquaredDifference = 4, ReluGrad = 5, SigmoidGrad = 6, Minimum = 7, Maximum = 8 };
/** upsample's direction: small → large, or the gradient large → small (block sums). */
enum class UpsampleMode : int32_t { Upscale = 0, Gradient = 1 };
/** compare's test, a > b or a ≤ b, as bytes 0/1 (false where either side is NaN). */
enum class ComparisonOp : int32_t { Greater = 0, LessEqual = 1 };

struct EnumMember {
  const char* name;
  int32_t value;
};

struct EnumTable {
  const char* name;
  const EnumMember* members;
  int count;
};

inline constexpr EnumMember kConvModes[] = {
    {"Forward", static_cast<int32_t>(ConvMode::Forward)},
    {"InputGradient", static_cast<int32_t>(ConvMode::InputGradient)},
    {"FilterGradient", static_cast<int32_t>(ConvMode::FilterGradient)},
};
inline constexpr EnumMember kConvAlgorithms[] = {
    {"Im2col", static_cast<int32_t>(ConvAlgorithm::Im2col)},
    {"Direct", static_cast<int32_t>(ConvAlgorithm::Direct)},
};
inline constexpr EnumMember kUnaryOps[] = {
    {"LeakyRelu", static_cast<int32_t>(UnaryOp::LeakyRelu)},
    {"Step", static_cast<int32_t>(UnaryOp::Step)},
    {"Relu", static_cast<int32_t>(UnaryOp::Relu)},
    {"Tanh", static_cast<int32_t>(UnaryOp::Tanh)},
    {"Sigmoid", static_cast<int32_t>(UnaryOp::Sigmoid)},
    {"Softplus", static_cast<int32_t>(UnaryOp::Softplus)},
};
inline constexpr EnumMember kBinaryOps[] = {
    {"Add", static_cast<int32_t>(BinaryOp::Add)},
    {"Sub", static_cast<int32_t>(BinaryOp::Sub)},
    {"Mul", static_cast<int32_t>(BinaryOp::Mul)},
    {"Div", static_cast<int32_t>(BinaryOp::Div)},
    {"SquaredDifference", static_cast<int32_t>(BinaryOp::SquaredDifference)},
    {"ReluGrad", static_cast<int32_t>(BinaryOp::ReluGrad)},
    {"SigmoidGrad", static_cast<int32_t>(BinaryOp::SigmoidGrad)},
    {"Minimum", static_cast<int32_t>(BinaryOp::Minimum)},
    {"Maximum", static_cast<int32_t>(BinaryOp::Maximum)},
};
inline constexpr EnumMember kUpsampleModes[] = {
    {"Upscale", static_cast<int32_t>(UpsampleMode::Upscale)},
    {"Gradient", static_cast<int32_t>(UpsampleMode::Gradient)},
};
inline constexpr EnumMember kComparisonOps[] = {
    {"Greater", static_cast<int32_t>(ComparisonOp::Greater)},
    {"LessEqual", static_cast<int32_t>(ComparisonOp::LessEqual)},
};

/** Every enum, by its TypeScript name. */
inline constexpr EnumTable kEnumTables[] = {
    {"ConvMode", kConvModes, 3},
    {"ConvAlgorithm", kConvAlgorithms, 2},
    {"UnaryOp", kUnaryOps, 6},
    {"BinaryOp", kBinaryOps, 9},
    {"UpsampleMode", kUpsampleModes, 2},
    {"ComparisonOp", kComparisonOps, 2},
};

/** Whether `value` is a member of `table`. */
inline bool IsMember(const EnumTable& table, int64_t value) {
  for (int i = 0; i < table.count; i++)
    if (table.members[i].value == value) return true;
  return false;
}

}  // namespace ae
