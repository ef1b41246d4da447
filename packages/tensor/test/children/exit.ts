/**
 * Child script of lifetime.gpu.test.ts: ends the process while GPU work is queued or in flight,
 * without destroy(). argv[2] (when): `queued` process.exit() with dispatches in the open encoder;
 * `submitted` right after a submit; `mapping` with a readback in flight; `idle` after sync;
 * `natural` lets the script end with the device alive (the process must still exit by itself).
 * argv[3]: `hold` keeps initGpu()'s context in a variable, `discard` drops it (with forced GCs
 * under --expose-gc).
 */
import { getDefaultDevice, initGpu, randn } from '@fairgpu/tensor';

const when = process.argv[2] ?? 'queued';
const hold = process.argv[3] !== 'discard';
const forceGc = (globalThis as { gc?: () => void }).gc ?? (() => {});
/** A forced collection, then a macrotask so weak callbacks (dawn.node's finalizers) run. */
const gc = () => {
  forceGc();
  return new Promise((r) => setTimeout(r, 10));
};
const held = hold ? await initGpu() : undefined;
if (!hold) await initGpu();
await gc();
let x = randn([128, 128], { seed: 1 });
for (let i = 0; i < 30; i++) {
  const y = x.matmul(x).mul(0.05).tanh();
  x.dispose();
  x = y;
}
await gc();
if (when === 'submitted') getDefaultDevice().flush();
if (when === 'mapping') void x.toArray();
if (when === 'idle') await (held?.sync() ?? getDefaultDevice().sync());
await gc();
console.log(`exiting (${when}, ${hold ? 'hold' : 'discard'})`);
if (when !== 'natural') process.exit(0);
