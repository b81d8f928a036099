/** Robust statistics for anomaly rules: the median and the median absolute deviation (MAD). */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The MAD scaled by 1.4826, so it estimates σ for normally distributed values. */
export function madSigma(values: readonly number[]): number {
  const m = median(values);
  return 1.4826 * median(values.map((v) => Math.abs(v - m)));
}

/**
 * The band a value is normal in: around each center (the trailing median, the same bucket
 * yesterday and last week), ± k·σ of the trailing values, never narrower than `minDeviation`.
 * A value is anomalous only beyond every center's band, so a daily or weekly pattern (the open,
 * the close) is not one.
 */
export function anomalyBand(trailing: readonly number[], centers: readonly number[], k: number, minDeviation: number) {
  const width = Math.max(k * madSigma(trailing), minDeviation);
  return { lower: Math.min(...centers) - width, upper: Math.max(...centers) + width };
}
