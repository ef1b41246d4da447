/**
 * Grad-CAM (Selvaraju et al. 2017) with pytorch-grad-cam's conventions, and the share of a map's
 * mass inside a pixel mask (the number behind "vanilla looks at the background colour, the debiased
 * model at the digit").
 *
 * What runs where: the model's forward and the backward from the target logits to the layer run on
 * the model's device; the weighted channel sum and its ReLU too. The [B, h, w] maps (a few hundred
 * numbers per image) are then read back once, upsampled and min-max scaled in float64 on the host,
 * and uploaded as the [B, H, W] result: one readback instead of a dozen tiny dispatches.
 */
import { InvalidArgumentError, isTensor, keep, scope, tensor, type Tensor } from '@fairgpu/tensor';
import type { Module } from '@fairgpu/nn';
import { argmaxRows } from './group.ts';

export interface GradCamOptions {
  /**
   * A module path of `model.namedModules()` whose output [B, K, h, w] is the activation A (for
   * SimpleConvNet `'extracter'`, the last block's activation before global pooling).
   */
  layer: string;
  /** The class whose logit is explained, one per image; default: the model's predicted class. */
  targets?: ArrayLike<number>;
}

/**
 * Grad-CAM maps in [0, 1], a Tensor [B, H, W] on the input's device:
 *   α_k = mean over (h, w) of ∂ logit_target / ∂A_k,  map = ReLU(Σ_k α_k A_k),
 * bilinearly upsampled to the input's H × W (align_corners = false, as
 * torch.nn.functional.interpolate), then per image (m − min) / (max − min + 1e-7).
 * The model is used as it is: call `model.eval()` first so BatchNorm uses its running statistics.
 * No gradient is accumulated into the model's parameters.
 * @example
 * net.eval();
 * const maps = await gradCam(net, images, { layer: 'extracter' }); // [B, 28, 28]
 */
export async function gradCam(model: Module, input: Tensor, options: GradCamOptions): Promise<Tensor> {
  const op = 'gradCam';
  if (!model || typeof (model as Module).namedModules !== 'function') throw new InvalidArgumentError(op, 'model', 'must be an @fairgpu/nn Module');
  if (!isTensor(input)) throw new InvalidArgumentError(op, 'input', 'must be a Tensor [B, C, H, W]');
  if (input.rank !== 4 || input.dtype !== 'f32')
    throw new InvalidArgumentError(op, 'input', `must be an f32 Tensor [B, C, H, W], got ${input.dtype} [${input.shape.join(', ')}]`);
  if (!options || typeof options.layer !== 'string')
    throw new InvalidArgumentError(op, 'options.layer', 'must be a module path string (see model.namedModules())');
  const [batch, , height, width] = input.shape;
  const targets = options.targets === undefined ? undefined : checkTargets(op, options.targets, batch);
  const layer = findLayer(op, model, options.layer);

  // Only the captured activation requires grad while the maps are computed: the backward pass
  // stops at the layer and leaves every parameter's .grad as it was.
  const params = model.parameters();
  const wasRequired = params.map((p) => p.requiresGrad);
  for (const p of params) p.requiresGrad = false;
  let activation: Tensor | undefined;
  const handle = layer.registerForwardHook((_module, _input, output) => {
    if (activation) throw new InvalidArgumentError(op, 'options.layer', `module '${options.layer}' ran twice in one forward pass: its activation is ambiguous`);
    if (output.rank !== 4)
      throw new InvalidArgumentError(op, 'options.layer', `module '${options.layer}' must output [B, K, h, w], got [${output.shape.join(', ')}]`);
    // keep(): the hooked module may run inside its parent's tidy (Sequential, SimpleConvNet), which
    // would free the activation when the parent returns; it is disposed below instead.
    activation = keep(output.detach().requiresGrad_());
    return activation;
  });
  try {
    const { coarse, h, w } = await scope(async () => {
      const logits = model.forward(input);
      if (!activation) throw new InvalidArgumentError(op, 'options.layer', `module '${options.layer}' did not run in model.forward`);
      if (logits.rank !== 2 || logits.shape[0] !== batch)
        throw new InvalidArgumentError(op, 'model', `must map [B, C, H, W] to logits [B, classes], got [${logits.shape.join(', ')}]`);
      const classes = logits.shape[1];
      const chosen = targets ?? argmaxRows(await logits.toArray(), batch, classes);
      const onehot = new Float32Array(batch * classes);
      chosen.forEach((c, b) => {
        if (c >= classes) throw new InvalidArgumentError(op, 'options.targets', `[${b}] = ${c} is not a class of a model with ${classes} outputs`);
        onehot[b * classes + c] = 1;
      });
      // Σ_b logit_b[target_b]: each image's map only depends on its own logit.
      await logits
        .mul(tensor(onehot, [batch, classes], { device: input.backend }))
        .sum()
        .backward();
      const a = activation;
      const alpha = a.grad!.mean([2, 3], true);
      const cam = alpha.mul(a).sum(1).relu();
      return { coarse: Float64Array.from(await cam.toArray()), h: a.shape[2], w: a.shape[3] };
    });
    const maps = new Float32Array(batch * height * width);
    for (let b = 0; b < batch; b++) {
      const up = bilinearResize(coarse.subarray(b * h * w, (b + 1) * h * w), h, w, height, width);
      minMaxScale(up);
      maps.set(up, b * height * width);
    }
    return tensor(maps, [batch, height, width], { device: input.backend });
  } finally {
    handle.remove();
    activation?.dispose();
    params.forEach((p, i) => (p.requiresGrad = wasRequired[i]));
  }
}

/**
 * Share of each map's mass inside `mask`: Σ map·mask / Σ map per image. `maps` is a Tensor or host
 * array [B, H, W] of non-negative values; `mask` [B, H, W] or one [H, W] for every image, non-zero
 * = inside. An all-zero map has no mass to share: its entry is `null`, never NaN.
 * @example
 * heatmapMass(maps, digitMask) // [0.31, 0.84, …]: the share on digit pixels
 */
export async function heatmapMass(
  maps: Tensor | ArrayLike<number>,
  mask: ArrayLike<number | boolean>,
  shape?: readonly [number, number, number],
): Promise<(number | null)[]> {
  const op = 'heatmapMass';
  let values: ArrayLike<number>;
  let dims: readonly number[];
  if (isTensor(maps)) {
    if (maps.rank !== 3) throw new InvalidArgumentError(op, 'maps', `must be [B, H, W], got [${maps.shape.join(', ')}]`);
    values = await maps.toArray();
    dims = maps.shape;
  } else {
    if (!shape) throw new InvalidArgumentError(op, 'shape', 'is required ([B, H, W]) when maps is a host array');
    if (shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && d > 0))
      throw new InvalidArgumentError(op, 'shape', `must be 3 positive integers [B, H, W], got [${shape.join(', ')}]`);
    values = maps;
    dims = shape;
  }
  const [batch, height, width] = dims;
  const plane = height * width;
  if (values.length !== batch * plane) throw new InvalidArgumentError(op, 'maps', `has ${values.length} values, expected B·H·W = ${batch * plane}`);
  if (mask.length !== plane && mask.length !== batch * plane)
    throw new InvalidArgumentError(op, 'mask', `has ${mask.length} values, expected H·W = ${plane} or B·H·W = ${batch * plane}`);
  const perImageMask = mask.length === batch * plane;
  const out: (number | null)[] = [];
  for (let b = 0; b < batch; b++) {
    let total = 0;
    let inside = 0;
    for (let p = 0; p < plane; p++) {
      const v = values[b * plane + p];
      if (!Number.isFinite(v) || v < 0)
        throw new InvalidArgumentError(op, 'maps', `must be finite and non-negative, got ${v} at [${b}, ${Math.floor(p / width)}, ${p % width}]`);
      total += v;
      if (mask[perImageMask ? b * plane + p : p]) inside += v;
    }
    out.push(total > 0 ? inside / total : null);
  }
  return out;
}

/**
 * Bilinear resize of one [h, w] plane to [H, W] with align_corners = false (PyTorch's and
 * OpenCV's half-pixel convention): source coordinate (x + 0.5)·w/W − 0.5, clamped at 0.
 */
export function bilinearResize(src: ArrayLike<number>, h: number, w: number, outH: number, outW: number): Float64Array {
  const out = new Float64Array(outH * outW);
  const rows = axisWeights(h, outH);
  const cols = axisWeights(w, outW);
  for (let y = 0; y < outH; y++) {
    const [y0, y1, fy] = rows[y];
    for (let x = 0; x < outW; x++) {
      const [x0, x1, fx] = cols[x];
      const top = src[y0 * w + x0] * (1 - fx) + src[y0 * w + x1] * fx;
      const bottom = src[y1 * w + x0] * (1 - fx) + src[y1 * w + x1] * fx;
      out[y * outW + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

function axisWeights(inSize: number, outSize: number): [number, number, number][] {
  const scale = inSize / outSize;
  return Array.from({ length: outSize }, (_, i) => {
    const s = Math.max((i + 0.5) * scale - 0.5, 0);
    const i0 = Math.min(Math.floor(s), inSize - 1);
    const i1 = Math.min(i0 + 1, inSize - 1);
    return [i0, i1, s - i0];
  });
}

/** In place: (m − min) / (max − min + 1e-7), pytorch-grad-cam's scaling (a flat map becomes 0). */
function minMaxScale(m: Float64Array): void {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of m) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const span = hi - lo + 1e-7;
  for (let i = 0; i < m.length; i++) m[i] = (m[i] - lo) / span;
}

function findLayer(op: string, model: Module, path: string): Module {
  const found = model.namedModules().find(([name]) => name === path);
  if (!found) {
    const paths = model
      .namedModules()
      .map(([name]) => `'${name}'`)
      .filter((p) => p !== "''");
    throw new InvalidArgumentError(op, 'options.layer', `'${path}' is not a module path of the model; paths: ${paths.join(', ')}`);
  }
  return found[1];
}

function checkTargets(op: string, targets: ArrayLike<number>, batch: number): number[] {
  if (typeof targets !== 'object' || typeof targets.length !== 'number')
    throw new InvalidArgumentError(op, 'options.targets', 'must be an array of class indices, one per image');
  if (targets.length !== batch) throw new InvalidArgumentError(op, 'options.targets', `has ${targets.length} entries for a batch of ${batch}`);
  const out = Array.from(targets);
  out.forEach((t, i) => {
    if (!Number.isInteger(t) || t < 0) throw new InvalidArgumentError(op, 'options.targets', `[${i}] must be a non-negative integer class index, got ${t}`);
  });
  return out;
}
