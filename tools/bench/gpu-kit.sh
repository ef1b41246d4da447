#!/usr/bin/env bash
# Builds .gpukit/ (git-ignored): what issue 16's GPU rows need on a machine lent by the `device`
# tool, which has no network and receives at most 64 MiB: tools/bench/gpu-rows.ts bundled into one
# file, the `webgpu` package's loader with its linux-x64 dawn.node only, this machine's Node binary
# (xz-compressed) and run.sh. The device command, with `.gpukit` (and the Vulkan loader folder the
# device README describes, `.gl`) in `carry`:
#   bash .gpukit/run.sh            # on the device: unpacks Node, runs gpu-rows, writes $OUT/gpu-rows.jsonl
# Check the kit here first on the software adapter: `bash .gpukit/run.sh --quick`.
set -euo pipefail
cd "$(dirname "$0")/../.."
kit=.gpukit
rm -rf "$kit"
mkdir -p "$kit/node_modules/webgpu/dist/linux-x64"
npx esbuild tools/bench/gpu-rows.ts --bundle --platform=node --format=esm --target=node20 \
  --conditions=@fairgpu/source --external:webgpu --external:@tensorflow/* \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
  --outfile="$kit/gpu-rows.mjs" --log-level=warning
cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$kit/node_modules/webgpu/"
cp node_modules/webgpu/dist/linux-x64/dawn.node "$kit/node_modules/webgpu/dist/linux-x64/"
xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > "$kit/node.xz"
cat > "$kit/run.sh" <<'RUN'
#!/usr/bin/env bash
# Unpacks the kit's Node and runs the GPU rows (arguments go to gpu-rows.mjs, e.g. --quick).
set -euo pipefail
kit="$(cd "$(dirname "$0")" && pwd)"
[ -x /tmp/gpukit-node ] || xz -dc "$kit/node.xz" > /tmp/gpukit-node && chmod +x /tmp/gpukit-node
cd "$kit" && /tmp/gpukit-node gpu-rows.mjs "$@"
RUN
chmod +x "$kit/run.sh"
du -sh "$kit"
