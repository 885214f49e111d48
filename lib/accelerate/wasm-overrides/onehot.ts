/**
 * OneHot on wasm. wasm's own writes int32 bit patterns whatever the requested dtype, so
 * `tf.oneHot(ids, depth, 1, 0, "float32")` came out as denormals (1.4e-45) instead of 1.
 * Ours fills the output in its own dtype on the wasm heap: offValue everywhere, onValue at
 * each in-range index (an index outside [0, depth) gives a row of offValue, as tfjs-cpu).
 */
import * as tf from "@tensorflow/tfjs";
import { KernelArgs, WasmBackendLike } from "./common";

/** out[…, j] = onValue if indices[…] = j else offValue. */
export function oneHotWasm(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WasmBackendLike;
  const indices = (args.inputs as tf.OneHotInputs).indices as tf.TensorInfo;
  if (!indices) throw new Error("OneHot (wasm): input indices is required");
  const { depth, onValue, offValue, dtype } = args.attrs as unknown as tf.OneHotAttrs;
  const out = backend.makeOutput([...indices.shape, depth], dtype ?? "int32");
  const ids = backend.typedArrayFromHeap(indices);
  const values = backend.typedArrayFromHeap(out);
  values.fill(offValue);
  for (let i = 0; i < ids.length; i++) {
    const j = ids[i];
    if (j >= 0 && j < depth) values[i * depth + j] = onValue;
  }
  return out;
}
