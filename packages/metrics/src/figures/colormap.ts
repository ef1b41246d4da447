/**
 * Colormaps as 256-entry RGB tables (the resolution of the originals), interpolated linearly
 * between entries for a continuous `t`:
 *   - `jet`: OpenCV's COLORMAP_JET (what pytorch-grad-cam's `show_cam_on_image` uses), read back
 *     from `cv2.applyColorMap(np.arange(256, dtype=np.uint8)[None], cv2.COLORMAP_JET)` (OpenCV
 *     4.6.0), BGR reversed to RGB. It differs slightly from matplotlib's `jet` (e.g. OpenCV's
 *     jet(0) is (0, 0, 128), matplotlib's (0, 0, 127.5)).
 *   - `viridis`, `inferno`, `turbo`: matplotlib 3.6.3's ListedColormap tables (N = 256),
 *     `np.rint(colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255)`.
 * Each table is 768 bytes written as hex (r, g, b per entry).
 */
import { InvalidArgumentError } from '@fairgpu/tensor';

export type ColormapName = 'jet' | 'viridis' | 'inferno' | 'turbo';

export const COLORMAP_NAMES: readonly ColormapName[] = ['jet', 'viridis', 'inferno', 'turbo'];

const HEX: Record<ColormapName, string> = {
  jet:
    '00008000008400008800008c00009000009400009800009c0000a00000a40000a80000ac0000b00000b40000b80000bc' +
    '0000c00000c40000c80000cc0000d00000d40000d80000dc0000e00000e40000e80000ec0000f00000f40000f80000fc' +
    '0000ff0004ff0008ff000cff0010ff0014ff0018ff001cff0020ff0024ff0028ff002cff0030ff0034ff0038ff003cff' +
    '0040ff0044ff0048ff004cff0050ff0054ff0058ff005cff0060ff0064ff0068ff006cff0070ff0074ff0078ff007cff' +
    '0080ff0084ff0088ff008cff0090ff0094ff0098ff009cff00a0ff00a4ff00a8ff00acff00b0ff00b4ff00b8ff00bcff' +
    '00c0ff00c4ff00c8ff00ccff00d0ff00d4ff00d8ff00dcff00e0ff00e4ff00e8ff00ecff00f0ff00f4ff00f8ff00fcff' +
    '02fffe06fffa0afff60efff212ffee16ffea1affe61effe222ffde26ffda2affd62effd232ffce36ffca3affc63effc2' +
    '42ffbe46ffba4affb64effb252ffae56ffaa5affa65effa262ff9e66ff9a6aff966eff9272ff8e76ff8a7aff867eff82' +
    '82ff7e86ff7a8aff768eff7292ff6e96ff6a9aff669eff62a2ff5ea6ff5aaaff56aeff52b2ff4eb6ff4abaff46beff42' +
    'c2ff3ec6ff3acaff36ceff32d2ff2ed6ff2adaff26deff22e2ff1ee6ff1aeaff16eeff12f2ff0ef6ff0afaff06feff01' +
    'fffc00fff800fff400fff000ffec00ffe800ffe400ffe000ffdc00ffd800ffd400ffd000ffcc00ffc800ffc400ffc000' +
    'ffbc00ffb800ffb400ffb000ffac00ffa800ffa400ffa000ff9c00ff9800ff9400ff9000ff8c00ff8800ff8400ff8000' +
    'ff7c00ff7800ff7400ff7000ff6c00ff6800ff6400ff6000ff5c00ff5800ff5400ff5000ff4c00ff4800ff4400ff4000' +
    'ff3c00ff3800ff3400ff3000ff2c00ff2800ff2400ff2000ff1c00ff1800ff1400ff1000ff0c00ff0800ff0400ff0000' +
    'fc0000f80000f40000f00000ec0000e80000e40000e00000dc0000d80000d40000d00000cc0000c80000c40000c00000' +
    'bc0000b80000b40000b00000ac0000a80000a40000a000009c00009800009400009000008c0000880000840000800000',
  viridis:
    '44015444025645045745055946075a46085c460a5d460b5e470d60470e61471063471164471365481467481668481769' +
    '48186a481a6c481b6d481c6e481d6f481f70482071482173482374482475482576482677482878482979472a7a472c7a' +
    '472d7b472e7c472f7d46307e46327e46337f463480453581453781453882443983443a83443b84433d84433e85423f85' +
    '4240864241864142874144874045884046883f47883f48893e49893e4a893e4c8a3d4d8a3d4e8a3c4f8a3c508b3b518b' +
    '3b528b3a538b3a548c39558c39568c38588c38598c375a8c375b8d365c8d365d8d355e8d355f8d34608d34618d33628d' +
    '33638d32648e32658e31668e31678e31688e30698e306a8e2f6b8e2f6c8e2e6d8e2e6e8e2e6f8e2d708e2d718e2c718e' +
    '2c728e2c738e2b748e2b758e2a768e2a778e2a788e29798e297a8e297b8e287c8e287d8e277e8e277f8e27808e26818e' +
    '26828e26828e25838e25848e25858e24868e24878e23888e23898e238a8d228b8d228c8d228d8d218e8d218f8d21908d' +
    '21918c20928c20928c20938c1f948c1f958b1f968b1f978b1f988b1f998a1f9a8a1e9b8a1e9c891e9d891f9e891f9f88' +
    '1fa0881fa1881fa1871fa28720a38620a48621a58521a68522a78522a88423a98324aa8325ab8225ac8226ad8127ad81' +
    '28ae8029af7f2ab07f2cb17e2db27d2eb37c2fb47c31b57b32b67a34b67935b77937b87838b9773aba763bbb753dbc74' +
    '3fbc7340bd7242be7144bf7046c06f48c16e4ac16d4cc26c4ec36b50c46a52c56954c56856c66758c7655ac8645cc863' +
    '5ec96260ca6063cb5f65cb5e67cc5c69cd5b6ccd5a6ece5870cf5773d05675d05477d1537ad1517cd2507fd34e81d34d' +
    '84d44b86d54989d5488bd6468ed64590d74393d74195d84098d83e9bd93c9dd93ba0da39a2da37a5db36a8db34aadc32' +
    'addc30b0dd2fb2dd2db5de2bb8de29bade28bddf26c0df25c2df23c5e021c8e020cae11fcde11dd0e11cd2e21bd5e21a' +
    'd8e219dae319dde318dfe318e2e418e5e419e7e419eae51aece51befe51cf1e51df4e61ef6e620f8e621fbe723fde725',
  inferno:
    '00000401000501010601010802010a02020c02020e03021004031204031405041706041907051b08051d09061f0a0722' +
    '0b07240c08260d08290e092b10092d110a30120a32140b34150b37160b39180c3c190c3e1b0c411c0c431e0c451f0c48' +
    '210c4a230c4c240c4f260c51280b53290b552b0b572d0b592f0a5b310a5c320a5e340a5f3609613809623909633b0964' +
    '3d09653e0966400a67420a68440a68450a69470b6a490b6a4a0c6b4c0c6b4d0d6c4f0d6c510e6c520e6d540f6d550f6d' +
    '57106e59106e5a116e5c126e5d126e5f136e61136e62146e64156e65156e67166e69166e6a176e6c186e6d186e6f196e' +
    '71196e721a6e741a6e751b6e771c6d781c6d7a1d6d7c1d6d7d1e6d7f1e6c801f6c82206c84206b85216b87216b88226a' +
    '8a226a8c23698d23698f24699025689225689326679526679727669827669a28659b29649d29649f2a63a02a63a22b62' +
    'a32c61a52c60a62d60a82e5fa92e5eab2f5ead305dae305cb0315bb1325ab3325ab43359b63458b73557b93556ba3655' +
    'bc3754bd3853bf3952c03a51c13a50c33b4fc43c4ec63d4dc73e4cc83f4bca404acb4149cc4248ce4347cf4446d04545' +
    'd24644d34743d44842d54a41d74b3fd84c3ed94d3dda4e3cdb503bdd513ade5238df5337e05536e15635e25734e35933' +
    'e45a31e55c30e65d2fe75e2ee8602de9612bea632aeb6429eb6628ec6726ed6925ee6a24ef6c23ef6e21f06f20f1711f' +
    'f1731df2741cf3761bf37819f47918f57b17f57d15f67e14f68013f78212f78410f8850ff8870ef8890cf98b0bf98c0a' +
    'f98e09fa9008fa9207fa9407fb9606fb9706fb9906fb9b06fb9d07fc9f07fca108fca309fca50afca60cfca80dfcaa0f' +
    'fcac11fcae12fcb014fcb216fcb418fbb61afbb81dfbba1ffbbc21fbbe23fac026fac228fac42afac62df9c72ff9c932' +
    'f9cb35f8cd37f8cf3af7d13df7d340f6d543f6d746f5d949f5db4cf4dd4ff4df53f4e156f3e35af3e55df2e661f2e865' +
    'f2ea69f1ec6df1ed71f1ef75f1f179f2f27df2f482f3f586f3f68af4f88ef5f992f6fa96f8fb9af9fc9dfafda1fcffa4',
  turbo:
    '30123b32154333184a341b51351e5836215f37246638276d392a733a2d793b2f803c32863d358b3e38913f3b973f3e9c' +
    '4040a24143a74146ac4249b1424bb5434eba4451bf4454c34456c74559cb455ccf455ed34661d64664da4666dd4669e0' +
    '466be3476ee64771e94773eb4776ee4778f0477bf2467df44680f64682f84685fa4687fb458afc458cfd448ffe4391fe' +
    '4294ff4196ff4099ff3e9bfe3d9efe3ba0fd3aa3fc38a5fb37a8fa35abf833adf731aff52fb2f42eb4f22cb7f02ab9ee' +
    '28bceb27bee925c0e723c3e422c5e220c7df1fc9dd1ecbda1ccdd81bd0d51ad2d21ad4d019d5cd18d7ca18d9c818dbc5' +
    '18ddc218dec018e0bd19e2bb19e3b91ae4b61ce6b41de7b21fe9af20eaac22ebaa25eca727eea42aefa12cf09e2ff19b' +
    '32f29835f39438f4913cf58e3ff68a43f78746f8844af8804ef97d52fa7a55fa7659fb735dfc6f61fc6c65fd6969fd66' +
    '6dfe6271fe5f75fe5c79fe597dff5680ff5384ff5188ff4e8bff4b8fff4992ff4796fe4499fe429cfe409ffd3fa1fd3d' +
    'a4fc3ca7fc3aa9fb39acfb38affa37b1f936b4f836b7f735b9f635bcf534bef434c1f334c3f134c6f034c8ef34cbed34' +
    'cdec34d0ea34d2e935d4e735d7e535d9e436dbe236dde037dfdf37e1dd37e3db38e5d938e7d739e9d539ebd339ecd13a' +
    'eecf3aefcd3af1cb3af2c93af4c73af5c53af6c33af7c13af8be39f9bc39faba39fbb838fbb637fcb336fcb136fdae35' +
    'fdac34fea933fea732fea431fea130fe9e2ffe9b2dfe992cfe962bfe932afe9029fd8d27fd8a26fc8725fc8423fb8122' +
    'fb7e21fa7b1ff9781ef9751df8721cf76f1af66c19f56918f46617f36315f26014f15d13f05b12ef5811ed5510ec530f' +
    'eb500eea4e0de84b0ce7490ce5470be4450ae2430ae14109df3f08dd3d08dc3b07da3907d83706d63506d43305d23105' +
    'd02f05ce2d04cc2b04ca2a04c82803c52603c32503c12302be2102bc2002b91e02b71d02b41b01b21a01af1801ac1701' +
    'a91601a71401a41301a112019e10019b0f01980e01950d01920b018e0a018b09028808028507028106027e05027a0403',
};

const tables = new Map<ColormapName, Uint8Array>();

/** The 256 × RGB table of a colormap (entry i is the colour of t = i / 255). */
export function colormapTable(name: ColormapName): Uint8Array {
  let table = tables.get(name);
  if (table === undefined) {
    const hex = HEX[name];
    if (hex === undefined) throw new InvalidArgumentError('colormap', 'name', `must be one of ${COLORMAP_NAMES.join(', ')}, got ${String(name)}`);
    table = new Uint8Array(768);
    for (let i = 0; i < 768; i++) table[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    tables.set(name, table);
  }
  return table;
}

/**
 * The colour of `t` ∈ [0, 1] (clamped) as [r, g, b] in 0..255, interpolated linearly between the
 * table's 256 entries (so `colormap(name, i / 255)` is entry i exactly, as matplotlib and OpenCV
 * give it). NaN is refused.
 */
export function colormap(name: ColormapName, t: number): [number, number, number] {
  const table = colormapTable(name);
  if (typeof t !== 'number' || Number.isNaN(t)) throw new InvalidArgumentError('colormap', 't', `must be a number in [0, 1], got ${String(t)}`);
  const x = Math.min(1, Math.max(0, t)) * 255;
  const i = Math.min(254, Math.floor(x));
  const f = x - i;
  const a = 3 * i;
  const b = a + 3;
  return [table[a] + (table[b] - table[a]) * f, table[a + 1] + (table[b + 1] - table[a + 1]) * f, table[a + 2] + (table[b + 2] - table[a + 2]) * f];
}

/** `colormap` as a CSS hex colour (rounded). */
export function colormapHex(name: ColormapName, t: number): string {
  return rgbHex(colormap(name, t));
}

export function rgbHex([r, g, b]: readonly [number, number, number] | readonly number[]): string {
  const h = (v: number) =>
    Math.round(Math.min(255, Math.max(0, v)))
      .toString(16)
      .padStart(2, '0');
  return `#${h(r)}${h(g)}${h(b)}`;
}

export interface OverlayOptions {
  colormap?: ColormapName;
  /** Weight of the heatmap colour; the image gets 1 − alpha. Default 0.5. */
  alpha?: number;
  /**
   * Divide the blend by its maximum before quantising, as pytorch-grad-cam's `show_cam_on_image`
   * does (`cam / np.max(cam)`). Default false: the plain blend.
   */
  rescale?: boolean;
}

/**
 * Grad-CAM overlay of one image, pytorch-grad-cam's `show_cam_on_image` arithmetic:
 * `heat = table[uint8(255 · map)] / 255` (truncation, as `np.uint8` does), then
 * `out = alpha · heat + (1 − alpha) · image`, and `uint8(255 · out)` (truncation), in float32 as
 * numpy computes it, so the bytes equal `show_cam_on_image(img, mask, use_rgb=True,
 * image_weight=1 − alpha)` (with `rescale: true`, which also divides by the max).
 *
 * `image`: channel-first [3, H, W] RGB (or [1, H, W] grey) in [0, 1]; `map`: [H, W] in [0, 1]
 * (values outside are clamped). Returns RGBA bytes [H, W, 4], alpha channel 255.
 */
export function overlayHeatmap(image: ArrayLike<number>, map: ArrayLike<number>, options: OverlayOptions = {}): Uint8ClampedArray {
  const op = 'overlayHeatmap';
  const alpha = options.alpha ?? 0.5;
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1)) throw new InvalidArgumentError(op, 'alpha', `must be a number in [0, 1], got ${String(alpha)}`);
  const name = options.colormap ?? 'jet';
  if (!COLORMAP_NAMES.includes(name)) throw new InvalidArgumentError(op, 'colormap', `must be one of ${COLORMAP_NAMES.join(', ')}, got ${String(name)}`);
  if (map == null || typeof map.length !== 'number' || map.length === 0) throw new InvalidArgumentError(op, 'map', 'must be a non-empty array of H·W numbers');
  if (image == null || typeof image.length !== 'number') throw new InvalidArgumentError(op, 'image', 'must be an array of 3·H·W (or H·W) numbers');
  const n = map.length;
  const channels = image.length / n;
  if (channels !== 3 && channels !== 1)
    throw new InvalidArgumentError(op, 'image', `must hold 3·H·W or H·W = ${3 * n} or ${n} values for a map of ${n} pixels, got ${image.length}`);
  const table = colormapTable(name);
  // float32 arithmetic throughout, as numpy does on show_cam_on_image's float32 arrays, so the
  // truncations land on the same bytes.
  const f = Math.fround;
  const wHeat = f(alpha);
  const wImage = f(1 - alpha);
  const blend = new Float32Array(3 * n);
  let max = 0;
  for (let p = 0; p < n; p++) {
    const m = map[p];
    if (Number.isNaN(m)) throw new InvalidArgumentError(op, 'map', `contains NaN at index ${p}`);
    const index = Math.floor(255 * Math.min(1, Math.max(0, m)));
    for (let c = 0; c < 3; c++) {
      const v = image[(channels === 3 ? c : 0) * n + p];
      if (Number.isNaN(v)) throw new InvalidArgumentError(op, 'image', `contains NaN at index ${(channels === 3 ? c : 0) * n + p}`);
      const b = f(f(wHeat * f(table[3 * index + c] / 255)) + f(wImage * f(Math.min(1, Math.max(0, v)))));
      blend[3 * p + c] = b;
      if (b > max) max = b;
    }
  }
  const rescale = options.rescale === true && max > 0;
  const out = new Uint8ClampedArray(4 * n);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) {
      const v = rescale ? f(blend[3 * p + c] / max) : blend[3 * p + c];
      out[4 * p + c] = Math.floor(f(255 * v));
    }
    out[4 * p + 3] = 255;
  }
  return out;
}

/** The tab10 categorical palette (matplotlib / Vega), for up to 10 groups. */
export const TAB10: readonly string[] = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
