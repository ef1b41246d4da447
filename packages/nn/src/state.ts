/** Moving state dicts between tensors and safetensors bytes. */
import { tensor, type Device, type Tensor } from '@fairgpu/tensor';
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

/** Decodes bytes into tensors on `device` (validating the file first; see safetensors.ts). */
export function safetensorsToStateDict(bytes: Uint8Array, device?: Device): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const decoded = decodeSafetensors(bytes);
  const tensors = new Map<string, Tensor>();
  for (const [name, a] of decoded.tensors) tensors.set(name, tensor(a.data, a.shape, { device, dtype: a.dtype }));
  return { tensors, metadata: decoded.metadata };
}
