/**
 * `fairgpu doctor`: finds an adapter and prints it (path, feature level, features, the limits
 * fairgpu's kernels depend on), then a self-test: matmul and autograd against the float64 CPU
 * reference, and a tiny two-layer network trained on a synthetic task with the GPU doing every
 * step. Without an adapter it says what was tried and what to install.
 */
import { cpuBackend, initGpu, NoAdapterError, noGrad, randn, scope, tensor, zeros, type Device, type GpuContext, type Tensor } from '@fairgpu/tensor';

/** What to install when no adapter is found, per platform. */
export const INSTALL_HINTS = [
  'Debian/Ubuntu without a GPU: apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri libgles2 mesa-vulkan-drivers libvulkan1 (Mesa llvmpipe / lavapipe software adapters)',
  'with an NVIDIA GPU: the proprietary driver with its Vulkan ICD (nvidia-smi and vulkaninfo --summary should list the GPU)',
  'headless Linux: EGL_PLATFORM=surfaceless lets the OpenGL backend start without a display',
  'force a backend: FAIRGPU_BACKEND=vulkan|opengl|opengles|swiftshader',
];

const LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;

export async function doctor(log: (line: string) => void): Promise<number> {
  let gpu: GpuContext;
  try {
    gpu = await initGpu();
  } catch (error) {
    if (!(error instanceof NoAdapterError)) throw error;
    log(error.message);
    log('To get an adapter:');
    for (const h of INSTALL_HINTS) log(`  - ${h}`);
    return 1;
  }
  try {
    return await selfTest(gpu, log);
  } finally {
    gpu.destroy();
  }
}

async function selfTest(gpu: GpuContext, log: (line: string) => void): Promise<number> {
  const console = { log };
  const info = gpu.adapterInfo;
  console.log(
    `adapter: ${info.description || info.device || info.vendor} (${info.path}, ${info.featureLevel}${info.isSoftware ? ', software: expect minutes where a GPU takes seconds' : ''})`,
  );
  console.log(`features: ${[...gpu.features].sort().join(', ') || 'none'}`);
  console.log(`limits: ${LIMITS.map((k) => `${k} ${fmtLimit(k, gpu.limits[k])}`).join('; ')}`);
  console.log(`matmul kernel: ${gpu.backend.matmulKernel}`);

  // 1. matmul + gradient on the GPU against the float64 reference.
  const check = async (device: Device) =>
    scope(async () => {
      const a = randn([37, 53], { device, seed: 1, requiresGrad: true });
      const b = randn([53, 29], { device, seed: 2 });
      const out = a.matmul(b).tanh().sum();
      await out.backward();
      return { value: await out.item(), grad: await a.grad!.toArray() };
    });
  const ref = await check(cpuBackend());
  const got = await check(gpu);
  const gradError = Math.max(...got.grad.map((g, i) => Math.abs(g - ref.grad[i])));
  const ok = Math.abs(got.value - ref.value) < 1e-3 * Math.max(1, Math.abs(ref.value)) && gradError < 1e-4;
  console.log(
    `self-check: tanh(A·B) sum ${got.value.toFixed(5)} vs float64 ${ref.value.toFixed(5)}, max grad error ${gradError.toExponential(2)} → ${ok ? 'ok' : 'FAILED'}`,
  );

  // 2. A tiny classifier: two Gaussian blobs in 8-d, MLP 8-32-2, SGD, 200 steps, no readback per step.
  const n = 256;
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  const noise = await randn([n, 8], { device: 'cpu', seed: 3 }).toArray();
  const x = tensor(
    Array.from(noise, (v, i) => v + (labels[Math.floor(i / 8)] ? 1.5 : -1.5)),
    [n, 8],
  );
  const y = tensor(labels, [n], { dtype: 'i32' });
  const w1 = randn([8, 32], { seed: 4 }).mul(0.3).requiresGrad_();
  const b1 = zeros([32], { requiresGrad: true });
  const w2 = randn([32, 2], { seed: 5 }).mul(0.3).requiresGrad_();
  const params: Tensor[] = [w1, b1, w2];
  const t0 = performance.now();
  let loss = 0;
  for (let step = 0; step < 200; step++) {
    const l = await scope(async () => {
      const logits = x.matmul(w1).add(b1).relu().matmul(w2);
      const ce = logits
        .logSoftmax(-1)
        .gather(1, y.reshape([-1, 1]))
        .mean()
        .neg();
      await ce.backward();
      noGrad(() =>
        params.forEach((p) => {
          p.assign(p.sub(p.grad!.mul(0.5)));
          p.zeroGrad();
        }),
      );
      return ce;
    });
    if (step === 199) loss = await l.item();
    l.dispose();
  }
  const accuracy = await scope(async () => {
    const predicted = x.matmul(w1).add(b1).relu().matmul(w2);
    const correct = predicted
      .slice([0, 1], [n, 2])
      .gt(predicted.slice([0, 0], [n, 1]))
      .reshape([n])
      .eq(y.cast('f32'));
    return correct.mean().item();
  });
  const ms = performance.now() - t0;
  console.log(`tiny MLP: 200 SGD steps in ${(ms / 1000).toFixed(2)} s, final loss ${loss.toFixed(4)}, train accuracy ${(accuracy * 100).toFixed(1)}%`);
  const mem = gpu.memory();
  console.log(`memory: ${mem.tensors} tensors, ${(mem.bytesInUse / 1024).toFixed(0)} KiB in use, ${(mem.bytesPooled / 1024).toFixed(0)} KiB pooled`);
  const passed = ok && accuracy > 0.95;
  console.log(passed ? 'doctor: everything works' : 'doctor: the self-test FAILED (results differ from the float64 reference or the tiny MLP did not learn)');
  return passed ? 0 : 1;
}

function fmtLimit(key: string, value: number): string {
  return key.endsWith('Size') && value >= 2 ** 20 ? `${(value / 2 ** 20).toFixed(0)} MiB` : String(value);
}
