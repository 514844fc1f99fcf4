// Small builders for planner tests: a parsed workload from the seed plus a patch, so each table
// row states only what it changes.
import {
  parseKind,
  helmDefaultInfraRules,
  type InfraRules,
  type LayerFunction,
  type LayerPipeline,
} from '../../../src/api/index.js';
import { mergePatch } from '../../../src/operator/merge-patch.js';
import { loadSeed } from '../../fixtures/seeds.js';

/** The seed Function with `patch` merged into the raw document (RFC 7386), then parsed. */
export function fn(patch: Record<string, unknown> = {}): LayerFunction {
  const r = parseKind('Function', mergePatch(loadSeed('function'), patch));
  if (!r.ok) throw r.error;
  return r.resource;
}

/** The seed Pipeline with `patch` merged in, then parsed. */
export function pipeline(patch: Record<string, unknown> = {}): LayerPipeline {
  const r = parseKind('Pipeline', mergePatch(loadSeed('pipeline'), patch));
  if (!r.ok) throw r.error;
  return r.resource;
}

/** The seed InfraRules/default (one cpu pool, ceiling 20). */
export function seedRules(): InfraRules {
  const r = parseKind('InfraRules', loadSeed('infraRules'));
  if (!r.ok) throw r.error;
  return r.resource;
}

/** Helm's stock pools: cpu, cpu-large, gpu. */
export function helmRules(): InfraRules {
  return helmDefaultInfraRules();
}

/** A scaling patch. */
export function scaling(s: Record<string, unknown>): Record<string, unknown> {
  return { spec: { scaling: s } };
}
