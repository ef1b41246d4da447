#!/usr/bin/env node
/**
 * Runs tools/runtimes/suite.ts in Node on dawn.node (the npm package `webgpu`; on Linux without a
 * GPU, OpenGL on Mesa llvmpipe). A child `node --conditions=@fairgpu/source --import tsx` loads the
 * TypeScript sources through the packages' exports maps, as the repo's tests do.
 *
 * Exit codes: 0 all checks passed, or no adapter and FAIRGPU_REQUIRE_GPU is not 1 (skipped);
 * 1 a check failed, Node crashed or timed out. Env: FAIRGPU_REQUIRE_GPU=1,
 * FAIRGPU_SUITE_TIMEOUT_MS (default 300000), FAIRGPU_RUNTIME_REPORT_DIR (writes node.json),
 * FAIRGPU_SUITE_ONLY (comma-separated parts of check names).
 */
import { pathToFileURL } from 'node:url';
import { childEnv, childProgram, finishChild, runChild, suitePath } from './common.mjs';

const label = 'node suite';
const args = ['--conditions=@fairgpu/source', '--import', 'tsx', '--input-type=module', '-'];
console.log(`${label}: ${process.execPath} ${args.join(' ')} (stdin imports ${suitePath})`);
const outcome = await runChild(label, process.execPath, args, {
  env: childEnv({ EGL_PLATFORM: process.env.EGL_PLATFORM ?? 'surfaceless' }),
  input: childProgram(pathToFileURL(suitePath).href),
});
finishChild(label, 'node', outcome, 'Linux without a GPU: apt-get install libegl-mesa0 libgl1-mesa-dri (FAIRGPU_BACKEND=opengl)');
