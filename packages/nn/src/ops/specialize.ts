/**
 * Kernel specialisation: the nn gather kernels (im2col, col2im, pooling, direct convolution, the
 * per-channel maps) get their parameters as WGSL constants instead of uniform values. Software
 * adapters (llvmpipe) run a u32 division by a runtime value lane by lane, and these kernels' index
 * arithmetic is mostly divisions and remainders; by a constant they become multiplications
 * (measured on llvmpipe: im2col 2–3× faster). One pipeline per distinct parameter set (a network
 * has a handful: one per layer and batch size).
 */
const cache = new Map<string, Map<string, string>>();

/**
 * `source` with its `{{CONSTANTS}}` marker line replaced by `const p = <struct>(v0u, v1u, …);`
 * (fields in declaration order: numbers are u32 fields, strings are WGSL literals inserted as
 * they are, e.g. `f32Literal(1e-5)`). Cached: the same inputs give the same string.
 */
export function specialize(source: string, struct: string, values: readonly (number | string)[]): string {
  let bySource = cache.get(source);
  if (!bySource) cache.set(source, (bySource = new Map()));
  const key = values.join(',');
  let out = bySource.get(key);
  if (out === undefined) {
    if (!values.every((v) => typeof v === 'string' || (Number.isInteger(v) && v >= 0 && v < 2 ** 32)))
      throw new Error(`specialize: ${struct} values must be u32 or literals, got [${key}]`);
    out = source.replace(/^.*\{\{CONSTANTS\}\}.*$/m, `const p = ${struct}(${values.map((v) => (typeof v === 'string' ? v : `${v}u`)).join(', ')});`);
    if (out === source) throw new Error(`specialize: no {{CONSTANTS}} marker in the ${struct} kernel`);
    bySource.set(key, out);
  }
  return out;
}

/** A finite number as a WGSL f32 literal. */
export function f32Literal(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`f32Literal: ${v} is not finite`);
  return `${Math.fround(v)}f`;
}
