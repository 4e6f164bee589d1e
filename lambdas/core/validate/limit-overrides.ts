// Configured limits replace the model's maximums on the shapes they govern, so raising a limit in
// configuration raises it everywhere the model would otherwise enforce AWS's value.
import type { Limits } from '../config';
import type { MaxOverrides } from './shape-validator';

const cache = new WeakMap<Limits, MaxOverrides>();

export function limitOverrides(limits: Limits): MaxOverrides {
  let overrides = cache.get(limits);
  if (!overrides) {
    overrides = {
      PutVectorsInputList: limits.maxVectorsPerPut,
      GetVectorsInputList: limits.maxKeysPerGet,
      DeleteVectorsInputList: limits.maxKeysPerDelete,
      Dimension: limits.maxDimension,
      NonFilterableMetadataKeys: limits.maxNonFilterableKeys,
    };
    cache.set(limits, overrides);
  }
  return overrides;
}
