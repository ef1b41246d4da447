import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs no GPU; `gpu` needs a WebGPU adapter (dawn.node here, a software
// adapter in CI). GPU files run one at a time in forked processes: dawn.node is not safe to share
// across worker threads, and a software adapter already uses every core.
const sourceConditions = ['@fairgpu/source'];

export default defineConfig({
  resolve: { conditions: sourceConditions },
  ssr: { resolve: { conditions: sourceConditions } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts', 'tools/**/*.test.ts'],
          exclude: ['**/*.gpu.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'gpu',
          include: ['packages/*/test/**/*.gpu.test.ts'],
          pool: 'forks',
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
