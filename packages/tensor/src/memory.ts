import type { MemoryInfo } from './backend.ts';
import { resolveDevice, type Device } from './device.ts';

/**
 * Memory counters of a device (the default one when omitted): live tensors, bytes held by them,
 * bytes kept in the buffer pool for reuse. Tests assert these stay flat across training steps.
 * @example
 * const before = memory();
 * await scope(async () => { ...step... });
 * memory().bytesInUse === before.bytesInUse; // true
 */
export function memory(device?: Device): MemoryInfo {
  return resolveDevice(device, 'memory').memory();
}
