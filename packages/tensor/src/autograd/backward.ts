import { GradientError, ShapeMismatchError } from '../errors.ts';
import type { Tensor } from '../tensor.ts';
import * as ops from '../ops/index.ts';
import { ones } from '../creation.ts';
import { tidy } from '../scope.ts';
import { shapesEqual } from '../shape.ts';
import { GraphNode, setGradEnabled } from './graph.ts';
import { NONDIFFERENTIABLE, vjpRules, type VjpRule } from './vjp.ts';
import type { Primitive } from '../primitives.ts';

export interface BackwardOptions {
  /** Keep the saved tensors so backward can run through this graph again. */
  retainGraph?: boolean;
}

/**
 * Reverse-mode accumulation from `root`. Nodes are visited in reverse topological order; each
 * node's incoming gradient is complete before its rule runs. Gradients are reduced to each input's
 * shape here, once, so rules may return broadcast-shaped gradients.
 */
export function backward(root: Tensor, seed: Tensor | undefined, options: BackwardOptions): void {
  root.view('backward', 'tensor');
  if (!root.requiresGrad) {
    throw new GradientError("backward: 'tensor' does not require grad: no input of the computation has requiresGrad = true");
  }
  if (seed === undefined && root.size !== 1) {
    throw new GradientError(`backward: argument 'gradient' is required for a non-scalar tensor of shape [${root.shape.join(', ')}]`);
  }
  if (seed !== undefined && !shapesEqual(seed.shape, root.shape)) {
    throw new ShapeMismatchError('backward', 'gradient', `expected [${root.shape.join(', ')}], got [${seed.shape.join(', ')}]`);
  }
  const previous = setGradEnabled(false);
  try {
    if (!root.node) {
      // A leaf: its gradient is the seed itself.
      root.accumulateGrad(seed ? seed.share(seed.shape) : ones(root.shape, { device: root.backend }));
      return;
    }
    const order = topologicalOrder(root.node);
    const grads = new Map<GraphNode, Tensor>();
    grads.set(root.node, seed ? seed.share(seed.shape) : ones(root.shape, { device: root.backend }));
    for (const node of order) {
      const g = grads.get(node);
      grads.delete(node);
      if (!g) continue;
      if (node.isFreed) {
        g.dispose();
        throw new GradientError('backward: the graph was already freed by an earlier backward(); pass { retainGraph: true } to the first call');
      }
      const rule = vjpRules[node.primitive] as VjpRule<Primitive> | typeof NONDIFFERENTIABLE;
      if (rule === NONDIFFERENTIABLE) {
        g.dispose();
        continue;
      }
      const inputs = node.inputs;
      const inputGrads = tidy(() => {
        // A rule may pass `g` through (add) or return one tensor for two inputs: give each input
        // its own handle so disposing `g` and accumulating each gradient stay independent.
        const owned = new Set<Tensor>([g]);
        const needsGrad = node.sources.map((source) => source !== null && source !== undefined);
        return rule(g, { inputs, output: node.output, params: node.params, needsGrad }).map((ig, k) => {
          const x = inputs[k];
          if (!ig || typeof x === 'number') return null;
          let reduced = sumToShape(ig, x.shape);
          if (owned.has(reduced)) reduced = reduced.share(reduced.shape, true);
          owned.add(reduced);
          return reduced;
        });
      });
      g.dispose();
      inputGrads.forEach((ig, k) => {
        const source = node.sources[k];
        if (!ig) return;
        if (!source) {
          ig.dispose();
          return;
        }
        if ('leaf' in source) {
          if (source.leaf.isDisposed) ig.dispose();
          else source.leaf.accumulateGrad(ig);
          return;
        }
        const existing = grads.get(source.node);
        if (!existing) {
          grads.set(source.node, ig);
          return;
        }
        const sum = ops.add(existing, ig);
        existing.dispose();
        ig.dispose();
        grads.set(source.node, sum);
      });
    }
    for (const g of grads.values()) g.dispose();
    if (!options.retainGraph) for (const node of order) node.freeSaved();
  } finally {
    setGradEnabled(previous);
  }
}

function topologicalOrder(root: GraphNode): GraphNode[] {
  const visited = new Set<GraphNode>();
  const postorder: GraphNode[] = [];
  // Iterative DFS: graphs of long training loops would overflow the call stack.
  const stack: [GraphNode, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [node, next] = top;
    if (next < node.sources.length) {
      top[1]++;
      const s = node.sources[next];
      if (s && 'node' in s && !visited.has(s.node)) {
        visited.add(s.node);
        stack.push([s.node, 0]);
      }
    } else {
      stack.pop();
      postorder.push(node);
    }
  }
  return postorder.reverse();
}

/** Sums a broadcast gradient down to `shape` (leading axes, and axes where shape has 1). */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length ? ops.sum(g, axes, true) : g;
  return ops.reshape(summed, shape);
}
