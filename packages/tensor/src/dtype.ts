/** Element types. Booleans (comparison results, masks) are f32 0/1 so they multiply directly. */
export type DType = 'f32' | 'i32';

export const DTYPES: readonly DType[] = ['f32', 'i32'];

export const BYTES_PER_ELEMENT = 4;

export type TypedArrayFor<D extends DType> = D extends 'i32' ? Int32Array : Float32Array;

export function isDType(value: unknown): value is DType {
  return value === 'f32' || value === 'i32';
}

/** Rounds a JS number the way storing it in `dtype` does (i32 truncates toward zero, wraps). */
export function coerce(value: number, dtype: DType): number {
  return dtype === 'i32' ? value | 0 : Math.fround(value);
}
