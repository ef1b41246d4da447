// The primitive ops, one family per file. Composites built from them live in ../composites.ts.
export * from './unary.ts';
export * from './binary.ts';
export { where } from './where.ts';
export { sum, max } from './reduce.ts';
export { matmul, matmulTransposed } from './matmul.ts';
export { reshape, permute, expand, slice, pad, concat, cast } from './movement.ts';
export { gather, scatterAdd } from './gather.ts';
export { validateSame } from './validate.ts';
