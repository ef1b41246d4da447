/**
 * Child script of lifetime.gpu.test.ts: a successful run whose stderr must hold nothing but what
 * fairgpu itself writes (run with EGL_PLATFORM and XDG_RUNTIME_DIR unset).
 */
import { initGpu, tensor } from '@fairgpu/tensor';

const gpu = await initGpu();
const values = await tensor([1, 2, 3]).mul(2).toArray();
console.log(`adapter ${gpu.adapterInfo.path}; values ${Array.from(values).join(',')}`);
gpu.destroy();
process.exit(0);
