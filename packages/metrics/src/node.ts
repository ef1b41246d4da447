/** @fairgpu/metrics/node — file output (figures as PNG + SVG + JSON sidecars, written atomically). */
export {};
