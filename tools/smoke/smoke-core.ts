/**
 * One runtime-agnostic GPU smoke test of @fairgpu/tensor, run as-is by Deno (run-deno.mjs), bundled
 * for Chromium (run-browser.mjs) and importable from Node. It imports the package sources by
 * relative path only, so no runtime has to resolve an npm package to load it.
 *
 * A handful of dispatches: create + readback, an elementwise chain, one matmul against a float64
 * reference, two backward passes against closed-form gradients, and the memory counters after
 * dispose. Every check is recorded (a failing check does not stop the others) and the adapter it
 * ran on is printed and returned.
 */
import {
  initGpu,
  tensor,
  randn,
  matmul,
  memory,
  scope,
  Rng,
  NoAdapterError,
  type GpuContext,
  type InitGpuOptions,
  type MemoryInfo,
  type Tensor,
} from '../../packages/tensor/src/index.ts';

export interface SmokeCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface SmokeResult {
  /** True when an adapter was found and every check passed. */
  ok: boolean;
  /** One line naming the adapter (null when none was found). */
  adapter: string | null;
  adapterInfo: GpuContext['adapterInfo'] | null;
  /** True when initGpu() found no adapter at all (the runners skip or fail on this). */
  noAdapter: boolean;
  /** Why the smoke could not run (no adapter, init failure). */
  reason?: string;
  checks: SmokeCheck[];
  ms: number;
}

export interface SmokeOptions {
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
  init?: InitGpuOptions;
}

const now = (): number => globalThis.performance?.now?.() ?? Date.now();
const RTOL = 1e-4;
const ATOL = 1e-5;

/** Largest violation of |got - want| <= atol + rtol |want|, or a shape/NaN problem. */
function compare(got: ArrayLike<number>, want: ArrayLike<number>, rtol = RTOL, atol = ATOL): { ok: boolean; detail: string } {
  if (got.length !== want.length) return { ok: false, detail: `length ${got.length}, expected ${want.length}` };
  let worst = 0;
  let worstAt = -1;
  let maxAbs = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!Number.isFinite(got[i])) return { ok: false, detail: `element ${i} is ${got[i]}, expected ${want[i]}` };
    maxAbs = Math.max(maxAbs, err);
    const ratio = err / (atol + rtol * Math.abs(want[i]));
    if (ratio > worst) {
      worst = ratio;
      worstAt = i;
    }
  }
  if (worst > 1) return { ok: false, detail: `element ${worstAt} is ${got[worstAt]}, expected ${want[worstAt]} (max abs error ${maxAbs.toExponential(2)})` };
  return { ok: true, detail: `max abs error ${maxAbs.toExponential(2)}` };
}

const fmt = (a: ArrayLike<number>): string => `[${Array.from(a, (v) => +v.toPrecision(6)).join(', ')}]`;

function describeAdapter(info: GpuContext['adapterInfo']): string {
  // Browsers leave description/device empty and give vendor + architecture (e.g. google swiftshader).
  const name = info.description || info.device || [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unnamed adapter';
  const extra = [info.path, info.isSoftware ? 'software' : 'hardware'];
  if (info.vendor && !name.includes(info.vendor)) extra.push(`vendor ${info.vendor}`);
  if (info.architecture && !name.includes(info.architecture)) extra.push(`arch ${info.architecture}`);
  return `${name} (${extra.join(', ')})`;
}

/** Float64 row-major matmul of f32-rounded inputs. */
function matmul64(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
      out[i * n + j] = s;
    }
  }
  return out;
}

/** What randn(shape, { seed }) uploads: the same generator, rounded to f32. */
function hostRandn(size: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  const out = new Float64Array(size);
  for (let i = 0; i < size; i++) out[i] = Math.fround(rng.normal());
  return out;
}

export async function runSmoke(options: SmokeOptions = {}): Promise<SmokeResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const t0 = now();
  const checks: SmokeCheck[] = [];
  const result = (extra: Partial<SmokeResult>): SmokeResult => ({
    ok: false,
    adapter: null,
    adapterInfo: null,
    noAdapter: false,
    checks,
    ms: Math.round(now() - t0),
    ...extra,
  });

  let gpu: GpuContext;
  try {
    gpu = await initGpu(options.init);
  } catch (e) {
    const message = String((e as Error)?.message ?? e);
    const noAdapter = e instanceof NoAdapterError;
    log(`smoke: ${noAdapter ? 'no WebGPU adapter' : 'initGpu failed'}: ${message}`);
    return result({ noAdapter, reason: message });
  }
  const adapter = describeAdapter(gpu.adapterInfo);
  log(`smoke: adapter ${adapter}`);

  const gpuErrors: string[] = [];
  gpu.device.addEventListener?.('uncapturederror', (event) => {
    gpuErrors.push(String((event as GPUUncapturedErrorEvent).error?.message ?? event));
  });

  const check = async (name: string, body: () => Promise<{ ok: boolean; detail: string }>): Promise<void> => {
    const start = now();
    let outcome: { ok: boolean; detail: string };
    try {
      // Each check runs in its own scope so a failing one cannot leak into the memory check.
      outcome = await scope(body);
    } catch (e) {
      outcome = { ok: false, detail: `threw ${(e as Error)?.name ?? 'Error'}: ${String((e as Error)?.message ?? e)}` };
    }
    const ms = Math.round(now() - start);
    const entry = { name, ok: outcome.ok, detail: `${outcome.detail} (${ms} ms)` };
    checks.push(entry);
    log(`smoke: ${entry.ok ? 'ok  ' : 'FAIL'} ${name}: ${entry.detail}`);
  };

  const baseline: MemoryInfo = memory();

  try {
    await check('create + readback', async () => {
      const x = tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      const i = tensor(new Int32Array([7, -8, 9]), [3], { dtype: 'i32' });
      const [xv, iv] = await Promise.all([x.toArray(), i.toArray()]);
      const ok =
        x.shape.join('x') === '2x3' && xv instanceof Float32Array && fmt(xv) === '[1, 2, 3, 4, 5, 6]' && iv instanceof Int32Array && fmt(iv) === '[7, -8, 9]';
      return { ok, detail: `f32 ${fmt(xv)} shape [${x.shape.join(', ')}], i32 ${fmt(iv)}` };
    });

    await check('elementwise (broadcast sub, mul, exp)', async () => {
      const x = tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      const y = x
        .sub(tensor([1, 2, 3]))
        .mul(0.5)
        .exp();
      const want = [0, 0, 0, 3, 3, 3].map((v) => Math.exp(0.5 * v));
      const got = await y.toArray();
      const c = compare(got, want);
      return { ok: c.ok, detail: `exp(0.5 (x - [1, 2, 3])) = ${fmt(got)}, ${c.detail}` };
    });

    await check('matmul 37x53 @ 53x29 vs float64', async () => {
      const [m, k, n] = [37, 53, 29];
      const a = randn([m, k], { seed: 11 });
      const b = randn([k, n], { seed: 12 });
      const c = matmul(a, b);
      const want = matmul64(hostRandn(m * k, 11), hostRandn(k * n, 12), m, k, n);
      const got = await c.toArray();
      const r = compare(got, want);
      return { ok: r.ok && c.shape.join('x') === `${m}x${n}`, detail: `shape [${c.shape.join(', ')}], ${r.detail} (rtol ${RTOL}, atol ${ATOL})` };
    });

    await check('backward: grad of sum(a @ a)', async () => {
      const a = tensor(
        [
          [1, 2],
          [3, 4],
        ],
        undefined,
        { requiresGrad: true },
      );
      const c = a.matmul(a);
      const loss = c.sum();
      await loss.backward();
      if (!a.grad) return { ok: false, detail: 'a.grad is null after backward()' };
      const [cv, gv, lv] = await Promise.all([c.toArray(), a.grad.toArray(), loss.toArray()]);
      const okC = compare(cv, [7, 10, 15, 22]).ok;
      const okG = compare(gv, [7, 11, 9, 13]).ok;
      const okL = compare(lv, [54]).ok;
      return {
        ok: okC && okG && okL,
        detail: `a@a = ${fmt(cv)} (want [7, 10, 15, 22]), sum = ${fmt(lv)} (want [54]), a.grad = ${fmt(gv)} (want [7, 11, 9, 13])`,
      };
    });

    await check('backward: grad of sum(logsumexp(x)) + sum(softmax(x) * w)', async () => {
      const rows = [
        [1, 2, 3],
        [0.5, -1, 0],
      ];
      const weights = [
        [1, -1, 2],
        [0, 3, -2],
      ];
      const x = tensor(rows, undefined, { requiresGrad: true });
      const w = tensor(weights);
      const loss = x.logsumexp(-1).sum().add(x.softmax(-1).mul(w).sum());
      await loss.backward();
      if (!x.grad) return { ok: false, detail: 'x.grad is null after backward()' };
      // By hand: with s = softmax(row), d logsumexp/dx = s and d <s, w>/dx = s * (w - <s, w>).
      const wantLoss = [0];
      const wantGrad: number[] = [];
      rows.forEach((row, r) => {
        const mx = Math.max(...row);
        const e = row.map((v) => Math.exp(v - mx));
        const z = e.reduce((p, q) => p + q, 0);
        const s = e.map((v) => v / z);
        const sw = s.reduce((p, v, j) => p + v * weights[r][j], 0);
        wantLoss[0] += mx + Math.log(z) + sw;
        s.forEach((v, j) => wantGrad.push(v + v * (weights[r][j] - sw)));
      });
      const [gv, lv] = await Promise.all([x.grad.toArray(), loss.toArray()]);
      const g = compare(gv, wantGrad);
      const l = compare(lv, wantLoss);
      return { ok: g.ok && l.ok, detail: `loss ${fmt(lv)} (want ${fmt(wantLoss)}), x.grad ${fmt(gv)} (want ${fmt(wantGrad)}), ${g.detail}` };
    });

    await check('memory() counters after dispose', async () => {
      const problems: string[] = [];
      const before = memory();
      const t: Tensor = randn([64, 64], { seed: 3 });
      const mid = memory();
      if (mid.tensors !== before.tensors + 1) problems.push(`tensors ${before.tensors} -> ${mid.tensors} after one randn, expected +1`);
      if (mid.bytesInUse < before.bytesInUse + 64 * 64 * 4) problems.push(`bytesInUse ${before.bytesInUse} -> ${mid.bytesInUse}, expected at least +16384`);
      await gpu.sync();
      t.dispose();
      const after = memory();
      if (after.tensors !== before.tensors || after.bytesInUse !== before.bytesInUse) {
        problems.push(
          `after dispose {tensors ${after.tensors}, bytesInUse ${after.bytesInUse}} != before {tensors ${before.tensors}, bytesInUse ${before.bytesInUse}}`,
        );
      }
      if (after.bytesPooled < before.bytesPooled + 64 * 64 * 4)
        problems.push(`bytesPooled ${before.bytesPooled} -> ${after.bytesPooled}: the freed buffer did not go to the pool`);
      // Everything the earlier checks made was disposed when their scopes closed: back to the baseline.
      if (after.tensors !== baseline.tensors || after.bytesInUse !== baseline.bytesInUse) {
        problems.push(
          `leak across the smoke: {tensors ${after.tensors}, bytesInUse ${after.bytesInUse}} vs start {tensors ${baseline.tensors}, bytesInUse ${baseline.bytesInUse}}`,
        );
      }
      const detail = `start {tensors ${baseline.tensors}, inUse ${baseline.bytesInUse}} live {tensors ${mid.tensors}, inUse ${mid.bytesInUse}} disposed {tensors ${after.tensors}, inUse ${after.bytesInUse}, pooled ${after.bytesPooled}}`;
      return { ok: problems.length === 0, detail: problems.length ? `${problems.join('; ')}; ${detail}` : detail };
    });

    await check('no uncaptured GPU errors', async () => {
      await gpu.sync();
      return { ok: gpuErrors.length === 0, detail: gpuErrors.length ? gpuErrors.join(' | ') : 'none' };
    });
  } finally {
    gpu.destroy();
  }

  return result({ ok: checks.length > 0 && checks.every((c) => c.ok), adapter, adapterInfo: gpu.adapterInfo });
}
