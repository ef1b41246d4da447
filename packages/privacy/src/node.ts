/** @fairgpu/privacy/node — leakage reports written to files (atomic). */
export {};
