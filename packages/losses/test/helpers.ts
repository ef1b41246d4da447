// Test helpers: the shared ones from @fairgpu/tensor/testing (adapter or skip, tolerant comparison).
export { gpuOrSkip, randomData, expectClose, type Tolerance } from '@fairgpu/tensor/testing';
