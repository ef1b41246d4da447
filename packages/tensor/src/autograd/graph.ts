import type { Params, Primitive } from '../primitives.ts';
import type { Tensor } from '../tensor.ts';

/** Where an input's gradient goes: the node that produced it, or the leaf tensor itself. */
export type GradSource = { readonly node: GraphNode } | { readonly leaf: Tensor } | null;

/**
 * One recorded primitive application. A node is reference-counted: its output tensor holds one
 * reference and every node that consumed that output holds one more, so disposing the tensors of a
 * graph that was never back-propagated frees it, and a graph used by backward() is freed there.
 * `saved` are private handles (sharing storage) on the inputs and output, so the user may dispose
 * intermediate tensors before calling backward().
 */
export class GraphNode<P extends Primitive = Primitive> {
  private refs = 1;
  private freed = false;

  constructor(
    readonly primitive: P,
    readonly params: Params<P>,
    readonly sources: readonly GradSource[],
    private savedInputs: readonly (Tensor | number)[],
    private savedOutput: Tensor | null,
  ) {
    for (const s of sources) if (s && 'node' in s) s.node.retain();
  }

  get inputs(): readonly (Tensor | number)[] {
    if (this.freed) throw new Error('graph freed');
    return this.savedInputs;
  }

  get output(): Tensor {
    if (this.freed || !this.savedOutput) throw new Error('graph freed');
    return this.savedOutput;
  }

  get isFreed(): boolean {
    return this.freed;
  }

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs > 0) return;
    this.freeSaved();
    for (const s of this.sources) if (s && 'node' in s) s.node.release();
  }

  /** Drops the saved tensors (after backward without retainGraph); the node stays as a marker. */
  freeSaved(): void {
    if (this.freed) return;
    this.freed = true;
    for (const t of this.savedInputs) if (typeof t !== 'number') t.dispose();
    this.savedOutput?.dispose();
    this.savedInputs = [];
    this.savedOutput = null;
  }
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` without recording gradients (inference, optimizer updates). Works for async functions:
 * recording resumes when the returned promise settles.
 */
export function noGrad<R>(fn: () => R): R {
  const previous = gradEnabled;
  gradEnabled = false;
  let result: R;
  try {
    result = fn();
  } catch (e) {
    gradEnabled = previous;
    throw e;
  }
  if (result instanceof Promise) {
    return result.finally(() => {
      gradEnabled = previous;
    }) as R;
  }
  gradEnabled = previous;
  return result;
}

/** @internal Used by backward(createGraph). */
export function setGradEnabled(enabled: boolean): boolean {
  const previous = gradEnabled;
  gradEnabled = enabled;
  return previous;
}
