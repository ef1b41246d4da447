import { DeviceMismatchError, DtypeMismatchError, InvalidArgumentError, ShapeMismatchError, type Backend, type Tensor } from '@fairgpu/tensor';

/**
 * Argument validation shared by the composite and fused implementations, so both refuse the same
 * inputs with the same typed errors (naming the argument).
 */

export type Impl = 'fused' | 'composite';

export type KernelType = 'gaussian' | 'rbf' | 'cauchy';

export function checkImpl(op: string, impl: unknown): Impl {
  if (impl === undefined) return 'fused';
  if (impl !== 'fused' && impl !== 'composite') throw new InvalidArgumentError(op, 'impl', `must be 'fused' or 'composite', got ${String(impl)}`);
  return impl;
}

/** `t` must live on `device` (the anchors' backend): checked before any tensor is made, so nothing leaks. */
export function checkDevice(op: string, name: string, t: Tensor, device: Backend | undefined, first: string): void {
  if (device !== undefined && t.backend !== device) {
    throw new DeviceMismatchError(op, name, `is on ${t.backend.name} but '${first}' is on ${device.name}`);
  }
}

export function checkFeatures(op: string, name: string, x: unknown, d?: number, device?: Backend, first = 'anchors'): Tensor {
  const t = x as Tensor;
  if (!t || typeof t !== 'object' || !Array.isArray(t.shape)) throw new InvalidArgumentError(op, name, 'must be a Tensor');
  t.view(op, name);
  checkDevice(op, name, t, device, first);
  if (t.dtype !== 'f32') throw new DtypeMismatchError(op, name, `must be f32, got ${t.dtype}`);
  if (t.rank !== 2) throw new ShapeMismatchError(op, name, `must be 2-D [rows, d], got [${t.shape.join(', ')}]`);
  if (t.shape[0] < 1 || t.shape[1] < 1) throw new ShapeMismatchError(op, name, `must have at least one row and one column, got [${t.shape.join(', ')}]`);
  if (d !== undefined && t.shape[1] !== d) throw new ShapeMismatchError(op, name, `has d = ${t.shape[1]}, expected ${d} (the anchors' width)`);
  return t;
}

export function checkVector(op: string, name: string, x: unknown, n: number, dtype: 'i32' | 'f32', device?: Backend): Tensor {
  const t = x as Tensor;
  if (!t || typeof t !== 'object' || !Array.isArray(t.shape)) throw new InvalidArgumentError(op, name, 'must be a Tensor');
  t.view(op, name);
  checkDevice(op, name, t, device, 'anchors');
  if (t.dtype !== dtype) throw new DtypeMismatchError(op, name, `must be ${dtype}, got ${t.dtype}`);
  if (t.rank !== 1 || t.shape[0] !== n) throw new ShapeMismatchError(op, name, `must have shape [${n}], got [${t.shape.join(', ')}]`);
  return t;
}

export function checkPositive(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new InvalidArgumentError(op, name, `must be a finite number > 0, got ${String(v)}`);
  return v;
}

export function checkNonNegative(op: string, name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InvalidArgumentError(op, name, `must be a finite number ≥ 0, got ${String(v)}`);
  return v;
}

/** Kernel weight w(Δ) as a float64 function (CPU references) — the WGSL kernels mirror it. */
export function kernelWeight(type: KernelType, sigma: number, delta: number): number {
  const d2 = delta * delta;
  if (type === 'gaussian') return Math.exp(-d2 / (2 * sigma * sigma)) / (Math.sqrt(2 * Math.PI) * sigma);
  if (type === 'rbf') return Math.exp(-d2 / (2 * sigma * sigma));
  return 1 / (sigma * d2 + 1);
}
