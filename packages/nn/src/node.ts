/**
 * @fairgpu/nn/node — everything in @fairgpu/nn plus what needs Node's file system: atomic writes
 * and checkpoint files (checkpoint.ts).
 */
export * from './index.ts';
export { writeFileAtomic, saveCheckpoint, loadCheckpoint, removeCheckpoint } from './checkpoint.ts';
export type { CheckpointParts } from './checkpoint.ts';
