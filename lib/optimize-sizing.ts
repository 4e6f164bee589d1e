// Sizing of the scheduled optimize Lambda from the largest index the stack is meant to serve.
// Lance writes a vector index build's intermediate files (IVF shuffle, partition buffers) to /tmp,
// and its build speed scales with the vCPUs Lambda gives in proportion to memory. The numbers below
// are estimates from local builds (≈ 1M floats indexed per second per core); they are not measured
// in Lambda, so the README lists them as unverified.

/** The biggest index (rows × dimension) one optimize run should be able to build an ANN index for. */
export interface OptimizeTarget {
  vectors: number;
  dimension: number;
}

export interface OptimizeSizing {
  memorySize: number;
  ephemeralStorageMiB: number;
  /** Goes to the maintenance code as S3V_MAINT_BUILD_FLOATS_PER_SECOND (its time-budget estimate). */
  buildFloatsPerSecond: number;
  /** Largest rows × dimension one run can index within its timeout, at that speed. */
  maxFloatsPerRun: number;
  target: OptimizeTarget;
  fits: boolean;
}

/** Lambda gives one full vCPU per 1,769 MB of memory. */
const MB_PER_VCPU = 1769;
/** Local measurement: ≈ 2M floats per second on 2 cores. */
const FLOATS_PER_SECOND_PER_VCPU = 1_000_000;
/** /tmp needed per float of the index: the float32 copy Lance shuffles into partitions, plus headroom. */
const TMP_BYTES_PER_FLOAT = 6;
const LAMBDA_MAX_TMP_MIB = 10_240;
const LAMBDA_MIN_TMP_MIB = 512;
/** Time of a run not spent building (listing indexes, commits, the handler's safety margin). */
const RUN_OVERHEAD_SECONDS = 60;

/** Default target: 1M vectors of 1,024 dimensions (about 4 GB of float32). */
export const DEFAULT_OPTIMIZE_TARGET: OptimizeTarget = { vectors: 1_000_000, dimension: 1024 };
/** 3,008 MB: the most memory every account can use (newer accounts may be capped there). */
export const DEFAULT_OPTIMIZE_MEMORY = 3008;

export function optimizeSizing(options: { target?: OptimizeTarget; memorySize?: number; timeoutSeconds: number; ephemeralStorageMiB?: number }): OptimizeSizing {
  const target = options.target ?? DEFAULT_OPTIMIZE_TARGET;
  if (!(target.vectors > 0 && target.dimension > 0)) throw new Error(`optimize sizedFor needs positive vectors and dimension, got ${JSON.stringify(target)}`);
  const memorySize = options.memorySize ?? DEFAULT_OPTIMIZE_MEMORY;
  const floats = target.vectors * target.dimension;
  const ephemeralStorageMiB =
    options.ephemeralStorageMiB ??
    Math.min(LAMBDA_MAX_TMP_MIB, Math.max(LAMBDA_MIN_TMP_MIB, LAMBDA_MIN_TMP_MIB + Math.ceil((floats * TMP_BYTES_PER_FLOAT) / 2 ** 20)));
  const buildFloatsPerSecond = Math.round((FLOATS_PER_SECOND_PER_VCPU * memorySize) / MB_PER_VCPU);
  const byTime = buildFloatsPerSecond * Math.max(0, options.timeoutSeconds - RUN_OVERHEAD_SECONDS);
  const byDisk = ((ephemeralStorageMiB - LAMBDA_MIN_TMP_MIB) * 2 ** 20) / TMP_BYTES_PER_FLOAT;
  const maxFloatsPerRun = Math.floor(Math.min(byTime, byDisk));
  return { memorySize, ephemeralStorageMiB, buildFloatsPerSecond, maxFloatsPerRun, target, fits: floats <= maxFloatsPerRun };
}
