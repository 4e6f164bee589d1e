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

// --- The optimize job (lib/maintenance-job.ts): builds too long for one Lambda run ----------------

/** A Fargate task's size: vCPU units (1024 = 1 vCPU), memory (MiB), ephemeral storage (GiB). */
export interface JobSizing {
  cpu: number;
  memoryMiB: number;
  ephemeralStorageGiB: number;
  target: OptimizeTarget;
  /** Estimated build time of the target at the task's vCPUs (same per-vCPU speed as above). */
  expectedBuildSeconds: number;
  fits: boolean;
}

/** Default target of the job: 10M vectors of 1,024 dimensions (about 41 GB of float32). */
export const DEFAULT_JOB_TARGET: OptimizeTarget = { vectors: 10_000_000, dimension: 1024 };

/** Fargate's CPU / memory combinations (Linux). */
const FARGATE_SIZES = [
  { cpu: 1024, min: 2048, max: 8192, step: 1024 },
  { cpu: 2048, min: 4096, max: 16384, step: 1024 },
  { cpu: 4096, min: 8192, max: 30720, step: 1024 },
  { cpu: 8192, min: 16384, max: 61440, step: 4096 },
  { cpu: 16384, min: 32768, max: 122880, step: 8192 },
];
const FARGATE_MIN_STORAGE_GIB = 21;
const FARGATE_MAX_STORAGE_GIB = 200;
/** Of the task's ephemeral storage: the image, node_modules and logs. */
const JOB_BASE_STORAGE_GIB = 5;
/** Resident memory of a build, as a share of the float32 data (an estimate: not measured on Fargate). */
const JOB_MEMORY_SHARE = 0.5;
const JOB_BASE_MEMORY_MIB = 2048;

export function jobSizing(options: { target?: OptimizeTarget; cpu?: number; memoryMiB?: number; ephemeralStorageGiB?: number } = {}): JobSizing {
  const target = options.target ?? DEFAULT_JOB_TARGET;
  if (!(target.vectors > 0 && target.dimension > 0)) throw new Error(`optimize job sizedFor needs positive vectors and dimension, got ${JSON.stringify(target)}`);
  const floats = target.vectors * target.dimension;
  const diskGiB = Math.ceil((floats * TMP_BYTES_PER_FLOAT) / 2 ** 30) + JOB_BASE_STORAGE_GIB;
  const ephemeralStorageGiB = options.ephemeralStorageGiB ?? Math.min(FARGATE_MAX_STORAGE_GIB, Math.max(FARGATE_MIN_STORAGE_GIB, diskGiB));
  if (!(Number.isInteger(ephemeralStorageGiB) && ephemeralStorageGiB >= FARGATE_MIN_STORAGE_GIB && ephemeralStorageGiB <= FARGATE_MAX_STORAGE_GIB)) {
    throw new Error(`optimize job ephemeralStorageGiB must be an integer from ${FARGATE_MIN_STORAGE_GIB} to ${FARGATE_MAX_STORAGE_GIB}, got ${ephemeralStorageGiB}`);
  }
  const memoryNeeded = JOB_BASE_MEMORY_MIB + Math.ceil((floats * 4 * JOB_MEMORY_SHARE) / 2 ** 20);
  // At least 4 vCPUs (a build is CPU-bound); more when the memory needs a larger size.
  const size =
    options.cpu !== undefined
      ? FARGATE_SIZES.find((s) => s.cpu === options.cpu)
      : (FARGATE_SIZES.find((s) => s.cpu >= 4096 && s.max >= memoryNeeded) ?? FARGATE_SIZES[FARGATE_SIZES.length - 1]);
  if (!size) throw new Error(`optimize job cpu must be one of ${FARGATE_SIZES.map((s) => s.cpu).join(', ')}, got ${options.cpu}`);
  const memoryMiB = options.memoryMiB ?? Math.min(size.max, Math.max(size.min, Math.ceil(memoryNeeded / size.step) * size.step));
  if (!(memoryMiB >= size.min && memoryMiB <= size.max && memoryMiB % size.step === 0)) {
    throw new Error(`optimize job memoryMiB for cpu ${size.cpu} must be a multiple of ${size.step} from ${size.min} to ${size.max}, got ${memoryMiB}`);
  }
  const expectedBuildSeconds = Math.ceil(floats / (FLOATS_PER_SECOND_PER_VCPU * (size.cpu / 1024)));
  const fits = diskGiB <= ephemeralStorageGiB && memoryNeeded <= memoryMiB;
  return { cpu: size.cpu, memoryMiB, ephemeralStorageGiB, target, expectedBuildSeconds, fits };
}
