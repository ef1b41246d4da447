#!/usr/bin/env python3
"""One training step of SimpleConvNet (conv -> BatchNorm -> ReLU blocks, global average pool,
linear head) with Adam + cross-entropy in PyTorch on the CPU: the baseline of
`npm run bench -- train --vs-torch` (packages/cli/src/bench/train.ts), which runs the same shapes,
batch, optimizer and loss in fairgpu in the same run and prints the ratio.

    /usr/bin/python3 tools/bench/torch_train_step.py --kernel 3 --channels 8,16,16,32 \
        --strides 2,2,2,1 --batch 128 --steps 10 --threads 2

Prints one JSON object: {"ok": true, "torch": version, "threads": n, "images_per_s": ...,
"step_ms": ..., "steps": n}, or {"ok": false, "error": "..."} when torch cannot be imported.
The input is random (the step's speed does not depend on the values); the seed is fixed.
"""
import argparse
import json
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('--kernel', type=int, default=3)
    ap.add_argument('--channels', default='8,16,16,32')
    ap.add_argument('--strides', default='2,2,2,1')
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--warmup', type=int, default=2)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--min-seconds', type=float, default=1.0, help='keep stepping until this much time has passed')
    args = ap.parse_args()
    try:
        import torch
        from torch import nn
    except Exception as e:  # noqa: BLE001 — any import failure means no baseline
        print(json.dumps({'ok': False, 'error': f'import torch failed: {e}'}))
        return 0
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    channels = [int(c) for c in args.channels.split(',')]
    strides = [int(s) for s in args.strides.split(',')]
    if len(strides) != len(channels):
        print(json.dumps({'ok': False, 'error': 'strides and channels differ in length'}))
        return 2
    k = args.kernel
    layers = []
    cin = 3
    for c, s in zip(channels, strides):
        layers += [nn.Conv2d(cin, c, k, stride=s, padding=k // 2), nn.BatchNorm2d(c), nn.ReLU()]
        cin = c
    model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 10))
    # The same optimizer settings as the quick job's vanilla CE model (Adam lr 1e-3, wd 1e-4).
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(args.batch, 3, 28, 28)
    y = torch.arange(args.batch) % 10

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(args.warmup):
        step()
    steps = 0
    t0 = time.perf_counter()
    while steps < args.steps or time.perf_counter() - t0 < args.min_seconds:
        step()
        steps += 1
    dt = time.perf_counter() - t0
    print(json.dumps({
        'ok': True,
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'images_per_s': args.batch * steps / dt,
        'step_ms': dt / steps * 1000,
        'steps': steps,
    }))
    return 0


if __name__ == '__main__':
    sys.exit(main())
