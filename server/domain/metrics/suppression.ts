// Small-cell suppression for what dashboards show: a count of 1 to k-1 could single someone out,
// so it reads "<k", and any percentage resting on it is not shown.

export function isSmall(n: number, k: number): boolean {
  return n > 0 && n < k;
}

export function shownCount(n: number, k: number): string {
  return isSmall(n, k) ? `<${k}` : String(n);
}
