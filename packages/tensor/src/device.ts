import type { Backend } from './backend.ts';
import { CpuBackend } from './cpu/backend.ts';
import { InvalidArgumentError } from './errors.ts';

/** Where a tensor lives: the float64 CPU reference, a GPU context from initGpu(), or a backend. */
export type Device = 'cpu' | { readonly backend: Backend } | Backend;

let cpu: CpuBackend | undefined;
let defaultBackend: Backend | undefined;

/** The process-wide float64 reference backend. */
export function cpuBackend(): CpuBackend {
  cpu ??= new CpuBackend();
  return cpu;
}

export function resolveDevice(device: Device | undefined, op: string): Backend {
  if (device === undefined) return defaultBackend ?? cpuBackend();
  if (device === 'cpu') return cpuBackend();
  if (typeof device === 'object' && device !== null) {
    if ('run' in device && typeof device.run === 'function') return device;
    if ('backend' in device) return device.backend;
  }
  throw new InvalidArgumentError(op, 'device', `must be 'cpu', a GPU context from initGpu() or a backend, got ${String(device)}`);
}

/** Sets where creation functions put tensors when no `device` is given (initGpu() does this). */
export function setDefaultDevice(device: Device): void {
  defaultBackend = resolveDevice(device, 'setDefaultDevice');
}

export function getDefaultDevice(): Backend {
  return defaultBackend ?? cpuBackend();
}

/** @internal Forget a backend that was closed. */
export function forgetBackend(backend: Backend): void {
  if (defaultBackend === backend) defaultBackend = undefined;
}
