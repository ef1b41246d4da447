// WebGPU's numeric flags, spelled out so the package needs no GPU globals at import time
// (dawn.node only installs GPUBufferUsage & co. when asked to pollute globalThis).
export const BufferUsage = {
  MAP_READ: 0x0001,
  MAP_WRITE: 0x0002,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;

export const TextureUsage = { COPY_SRC: 0x01, COPY_DST: 0x02, TEXTURE_BINDING: 0x04 } as const;

export const MapMode = { READ: 0x0001, WRITE: 0x0002 } as const;
