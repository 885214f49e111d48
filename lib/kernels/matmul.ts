/**
 * BatchMatMul on wasm with transposed operands. wasm's own kernel reaches XNNPACK only when
 * neither operand is transposed; with transposeA or transposeB it runs a naive loop (about
 * 10–20× slower). Ours materialises each transposed operand with wasm's Transpose kernel
 * (a cheap O(n) copy) and then calls wasm's own kernel untransposed.
 */
import * as tf from "@tensorflow/tfjs";
import { KernelArgs, runStockKernel, WasmBackendLike, withShape } from "./common";

/** A rank-3 view [batch, rows, cols] of a matrix operand. */
function asRank3(info: tf.TensorInfo): tf.TensorInfo {
  const rank = info.shape.length;
  const batch = info.shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return withShape(info, [batch, info.shape[rank - 2], info.shape[rank - 1]]);
}

/**
 * C = op(A)·op(B) per batch, op = transpose where asked: transposed operands are copied
 * transposed (wasm's Transpose), then wasm's XNNPACK path multiplies them.
 */
export function batchMatMulWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const { a, b } = args.inputs as tf.BatchMatMulInputs;
  const { transposeA, transposeB } = (args.attrs ?? {}) as unknown as tf.BatchMatMulAttrs;
  if (!a || !b) throw new Error("BatchMatMul (wasm): inputs a and b are required");
  if ((!transposeA && !transposeB) || a.dtype !== "float32" || b.dtype !== "float32" || a.shape.length < 2 || b.shape.length < 2) {
    return runStockKernel("BatchMatMul", args);
  }
  const temporaries: tf.TensorInfo[] = [];
  const materialise = (operand: tf.TensorInfo): tf.TensorInfo => {
    const t = runStockKernel("Transpose", { inputs: { x: asRank3(operand) }, backend, attrs: { perm: [0, 2, 1] } });
    temporaries.push(t);
    const rank = operand.shape.length;
    return withShape(t, [...operand.shape.slice(0, -2), operand.shape[rank - 1], operand.shape[rank - 2]]);
  };
  try {
    const a2 = transposeA ? materialise(a) : a;
    const b2 = transposeB ? materialise(b) : b;
    return runStockKernel("BatchMatMul", { inputs: { a: a2, b: b2 }, backend, attrs: { transposeA: false, transposeB: false } });
  } finally {
    for (const t of temporaries) backend.disposeData(t.dataId);
  }
}
