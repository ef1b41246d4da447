/**
 * Small dense linear algebra on the host in float64: what PCA runs after the GPU has reduced the
 * data to a d × d covariance (or a d × l block). Row-major Float64Arrays throughout.
 */

export interface SymmetricEigen {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** Eigenvectors as rows, in the order of `values` ([n, n], row-major: row i is vector i). */
  vectors: Float64Array;
}

/**
 * All eigenpairs of a symmetric n × n matrix: Householder tridiagonalisation then the implicit QL
 * algorithm with Wilkinson-like shifts (tred2 / tql2 of EISPACK, as in JAMA). O(n³); about a
 * second for n = 1024 in a JS engine. Only the lower triangle of `a` is read (it is copied).
 */
export function symmetricEigen(a: Float64Array, n: number): SymmetricEigen {
  const v = Float64Array.from(a.subarray(0, n * n));
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) v[j * n + i] = v[i * n + j];
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 1) return { values: Float64Array.of(a[0]), vectors: Float64Array.of(1) };
  tred2(n, v, d, e);
  tql2(n, v, d, e);
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y] - d[x] || x - y);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = d[src];
    for (let k = 0; k < n; k++) vectors[dst * n + k] = v[k * n + src];
  });
  return { values, vectors };
}

function tred2(n: number, V: Float64Array, d: Float64Array, e: Float64Array): void {
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
        V[j * n + i] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        V[j * n + i] = f;
        g = e[j] + V[j * n + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j] * d[k];
          e[k] += V[k * n + j] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) V[k * n + j] -= f * e[k] + g * d[k];
        d[j] = V[(i - 1) * n + j];
        V[i * n + j] = 0;
      }
    }
    d[i] = h;
  }
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i];
    V[i * n + i] = 1;
    const h = d[i + 1];
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1] / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1] * V[k * n + j];
        for (let k = 0; k <= i; k++) V[k * n + j] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[(n - 1) * n + j];
    V[(n - 1) * n + j] = 0;
  }
  V[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

function tql2(n: number, V: Float64Array, d: Float64Array, e: Float64Array): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      let iterations = 0;
      do {
        if (++iterations > 60) throw new Error(`symmetricEigen: QL iteration did not converge for eigenvalue ${l} (n = ${n})`);
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          for (let k = 0; k < n; k++) {
            const row = k * n;
            h = V[row + i + 1];
            V[row + i + 1] = s * V[row + i] + c * h;
            V[row + i] = c * V[row + i] - s * h;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}

/**
 * Orthonormalises the columns of the row-major [rows, cols] matrix `y` in place (modified
 * Gram–Schmidt, applied twice: "twice is enough"). A column that becomes numerically zero is
 * replaced by a unit vector orthogonal to the previous ones.
 */
export function orthonormalizeColumns(y: Float64Array, rows: number, cols: number): void {
  for (let pass = 0; pass < 2; pass++) {
    let attempt = 0;
    for (let j = 0; j < cols; j++) {
      let before = 0;
      for (let r = 0; r < rows; r++) before += y[r * cols + j] ** 2;
      for (let i = 0; i < j; i++) {
        let dot = 0;
        for (let r = 0; r < rows; r++) dot += y[r * cols + i] * y[r * cols + j];
        for (let r = 0; r < rows; r++) y[r * cols + j] -= dot * y[r * cols + i];
      }
      let norm = 0;
      for (let r = 0; r < rows; r++) norm += y[r * cols + j] ** 2;
      norm = Math.sqrt(norm);
      if ((norm <= 1e-10 * Math.sqrt(before) || norm < 1e-150) && attempt < rows) {
        // Degenerate block: restart this column from a canonical vector and orthogonalise it.
        for (let r = 0; r < rows; r++) y[r * cols + j] = r === (j + attempt) % rows ? 1 : 0;
        attempt++;
        j--;
        continue;
      }
      attempt = 0;
      for (let r = 0; r < rows; r++) y[r * cols + j] /= norm;
    }
  }
}
