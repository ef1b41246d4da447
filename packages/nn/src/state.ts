/** Moving state dicts between tensors and safetensors bytes. */
import { NonFiniteError, tensor, type Device, type Tensor } from '@fairgpu/tensor';
import { decodeSafetensors, encodeSafetensors, type HostArray } from './safetensors.ts';

/** Reads tensors back to the host (one readback each) and encodes them. */
export async function stateDictToSafetensors(state: ReadonlyMap<string, Tensor>, metadata: Record<string, string> = {}): Promise<Uint8Array> {
  const host = new Map<string, HostArray>();
  for (const [name, t] of state) {
    const data = await t.toArray();
    host.set(name, { dtype: t.dtype, shape: [...t.shape], data });
  }
  return encodeSafetensors(host, metadata);
}

/**
 * Decodes bytes into tensors on `device`, validating the whole file first (see safetensors.ts):
 * a NaN or ±Inf value is a `NonFiniteError` naming its key, before any tensor is created; an
 * error while uploading frees the tensors made so far.
 */
export function safetensorsToStateDict(bytes: Uint8Array, device?: Device): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const decoded = decodeSafetensors(bytes);
  for (const [name, a] of decoded.tensors) {
    for (let i = 0; i < a.data.length; i++) {
      if (!Number.isFinite(a.data[i])) throw new NonFiniteError('safetensorsToStateDict', name, `contains ${a.data[i]} at flat index ${i}`);
    }
  }
  const tensors = new Map<string, Tensor>();
  try {
    for (const [name, a] of decoded.tensors) tensors.set(name, tensor(a.data, a.shape, { device, dtype: a.dtype }));
  } catch (e) {
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
  return { tensors, metadata: decoded.metadata };
}
