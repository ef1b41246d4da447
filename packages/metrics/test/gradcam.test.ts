import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '@fairgpu/tensor';
import { expectClose } from '@fairgpu/tensor/testing';
import { bilinearResize, heatmapMass } from '../src/gradcam.ts';

describe('bilinearResize (align_corners = false)', () => {
  it('matches torch.nn.functional.interpolate on a 2×2 → 4×4 and a 2×3 → 3×5 case', () => {
    // torch.nn.functional.interpolate(torch.tensor([[[[1., 2.], [3., 4.]]]]), size=(4, 4), mode='bilinear', align_corners=False)
    const up = bilinearResize([1, 2, 3, 4], 2, 2, 4, 4);
    expectClose(up, [1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4], { rtol: 1e-12, atol: 1e-12 });
    // interpolate(torch.arange(6.).reshape(1, 1, 2, 3), size=(3, 5), mode='bilinear', align_corners=False)
    const odd = bilinearResize([0, 1, 2, 3, 4, 5], 2, 3, 3, 5);
    expectClose(odd, [0, 0.4, 1, 1.6, 2, 1.5, 1.9, 2.5, 3.1, 3.5, 3, 3.4, 4, 4.6, 5], { rtol: 1e-12, atol: 1e-12 });
  });
});

describe('heatmapMass', () => {
  it('is the share of each map inside the mask; an empty map is null', async () => {
    const maps = [1, 1, 2, 0, /* image 2 */ 0, 0, 0, 0, /* image 3 */ 0, 3, 1, 0];
    expect(await heatmapMass(maps, [1, 0, 0, 0], [3, 2, 2])).toEqual([0.25, null, 0]);
    const perImage = [1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 0];
    const got = await heatmapMass(maps, perImage, [3, 2, 2]);
    expectClose([got[0]!, got[2]!], [0.5, 0.75], { rtol: 1e-12, atol: 1e-12 });
    expect(got[1]).toBeNull();
  });
  it('rejects negative or NaN maps and mismatched masks', async () => {
    await expect(heatmapMass([1, Number.NaN, 0, 0], [1, 0, 0, 0], [1, 2, 2])).rejects.toThrow(/'maps'.*finite and non-negative/);
    await expect(heatmapMass([1, -1, 0, 0], [1, 0, 0, 0], [1, 2, 2])).rejects.toThrow(InvalidArgumentError);
    await expect(heatmapMass([1, 1, 0, 0], [1, 0, 0], [1, 2, 2])).rejects.toThrow(/'mask'/);
    await expect(heatmapMass([1, 1, 0, 0], [1, 0, 0, 0])).rejects.toThrow(/'shape'/);
  });
});
