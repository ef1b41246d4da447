import { initGpu, noGrad, randn, scope, zeros, type GpuContext, type Tensor } from '@fairgpu/tensor';

/**
 * Tensor-core benchmarks: matmul GFLOP/s per kernel variant, the cost of a chain of tiny
 * elementwise ops without readback, and one MLP training step. Every row is timed in this run;
 * ratios compare against a baseline measured in the same run (never a remembered figure).
 */
export interface Row {
  case: string;
  value: number;
  unit: string;
  baseline?: string;
  ratio?: number;
}

async function time(ctx: GpuContext, fn: () => void, reps: number): Promise<number> {
  fn();
  await ctx.sync();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  await ctx.sync();
  return (performance.now() - t0) / reps;
}

/** 1,000 dispatches of a trivial precompiled kernel in one submit: the adapter's per-dispatch floor. */
async function rawDispatchFloor(ctx: GpuContext, count: number): Promise<number> {
  const { device } = ctx;
  const module = device.createShaderModule({
    code: `@group(0) @binding(0) var<storage, read_write> v: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) { v[g.x] = v[g.x] * 0.999; }`,
  });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const buffer = device.createBuffer({ size: 256, usage: 0x80 /* STORAGE */ });
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer } }] });
  const run = async () => {
    const t0 = performance.now();
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    for (let i = 0; i < count; i++) pass.dispatchWorkgroups(1);
    pass.end();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  await run();
  const ms = Math.min(await run(), await run());
  buffer.destroy();
  return ms;
}

function jsMatmul(a: Float32Array, b: Float32Array, n: number): number {
  // i-k-j loop order over Float32Arrays: a fair single-threaded JS baseline.
  const c = new Float32Array(n * n);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      const row = k * n;
      const out = i * n;
      for (let j = 0; j < n; j++) c[out + j] += aik * b[row + j];
    }
  }
  return performance.now() - t0;
}

export async function benchTensor(options: { sizes?: number[]; quick?: boolean } = {}): Promise<{ adapter: string; rows: Row[] }> {
  const rows: Row[] = [];
  const sizes = options.sizes ?? [256, 512, 1024, 2048];
  const contexts: Record<'blocked' | 'tiled', GpuContext> = {
    blocked: await initGpu({ matmulKernel: 'blocked', setDefault: false }),
    tiled: await initGpu({ matmulKernel: 'tiled', setDefault: false }),
  };
  const ctx = await initGpu();
  const adapter = `${ctx.adapterInfo.description || ctx.adapterInfo.device} [${ctx.adapterInfo.path}] (default matmul: ${ctx.backend.matmulKernel})`;

  for (const n of sizes) {
    const perKernel: Record<string, number> = {};
    for (const kind of ['blocked', 'tiled'] as const) {
      const c = contexts[kind];
      const a = randn([n, n], { device: c, seed: 1 });
      const b = randn([n, n], { device: c, seed: 2 });
      const reps = n >= 2048 ? 2 : n >= 1024 ? 4 : 10;
      const ms = await time(c, () => a.matmul(b).dispose(), reps);
      perKernel[kind] = (2 * n ** 3) / (ms * 1e6);
      a.dispose();
      b.dispose();
    }
    let jsGflops: number | undefined;
    if (n <= 512) {
      const a = Float32Array.from({ length: n * n }, () => Math.random());
      const ms = jsMatmul(a, a, n);
      jsGflops = (2 * n ** 3) / (ms * 1e6);
    }
    rows.push({
      case: `matmul ${n}³ register-blocked 4×4`,
      value: perKernel.blocked,
      unit: 'GFLOP/s',
      baseline: 'tiled kernel',
      ratio: perKernel.blocked / perKernel.tiled,
    });
    rows.push({
      case: `matmul ${n}³ tiled (workgroup 64×64)`,
      value: perKernel.tiled,
      unit: 'GFLOP/s',
      ...(jsGflops ? { baseline: 'JS f32 loop', ratio: perKernel.tiled / jsGflops } : {}),
    });
  }

  // 1,000 chained tiny elementwise ops, no readback in between. Baselines from the same run: the
  // adapter's floor (1,000 dispatches of a precompiled kernel with one bind group, encoded by hand
  // into one submit) and what an unbatched design pays (a readback after every op).
  {
    const x = randn([64], { device: ctx, seed: 3 });
    const chain = async (readEach: boolean) => {
      const t0 = performance.now();
      await scope(async () => {
        let y: Tensor = x;
        for (let i = 0; i < 1000; i++) {
          y = y.mul(0.999);
          if (readEach) await y.toArray();
        }
        await y.toArray();
      });
      return performance.now() - t0;
    };
    await chain(false);
    const batched = Math.min(await chain(false), await chain(false));
    const eager = await chain(true);
    const floor = await rawDispatchFloor(ctx, 1000);
    rows.push({
      case: '1,000 chained tiny elementwise ops (64 elements)',
      value: batched,
      unit: 'ms total',
      baseline: 'raw WebGPU floor',
      ratio: batched / floor,
    });
    rows.push({ case: '  same, raw WebGPU floor (1,000 hand-encoded dispatches)', value: floor, unit: 'ms total' });
    rows.push({ case: '  same, readback after each op', value: eager, unit: 'ms total', baseline: 'batched', ratio: eager / batched });
    x.dispose();
  }

  // One SGD step of an MLP 784-256-10, batch 128.
  {
    const w1 = randn([784, 256], { device: ctx, seed: 4 }).mul(0.05).requiresGrad_();
    const w2 = randn([256, 10], { device: ctx, seed: 5 }).mul(0.05).requiresGrad_();
    const b1 = zeros([256], { device: ctx, requiresGrad: true });
    const x = randn([128, 784], { device: ctx, seed: 6 });
    const target = randn([128, 10], { device: ctx, seed: 7 });
    const params = [w1, b1, w2];
    const step = () =>
      scope(async () => {
        const loss = x.matmul(w1).add(b1).relu().matmul(w2).sub(target).square().mean();
        await loss.backward();
        noGrad(() =>
          params.forEach((p) => {
            p.assign(p.sub(p.grad!.mul(0.01)));
            p.zeroGrad();
          }),
        );
      });
    await step();
    await ctx.sync();
    const reps = 20;
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await step();
    await ctx.sync();
    const ms = (performance.now() - t0) / reps;
    const flops = 3 * 2 * 128 * (784 * 256 + 256 * 10);
    rows.push({
      case: 'MLP 784-256-10 SGD step (batch 128)',
      value: ms,
      unit: 'ms/step',
      baseline: 'matmul FLOPs at 1024³ speed',
      ratio: flops / (ms * 1e6) / (rows.find((r) => r.case.startsWith(`matmul 1024³ ${ctx.backend.matmulKernel}`))?.value ?? NaN),
    });
    [...params, x, target].forEach((t) => t.dispose());
  }
  contexts.blocked.destroy();
  contexts.tiled.destroy();
  ctx.destroy();
  return { adapter, rows };
}
