// Fuzzed custom resources against the real apiserver with `layer operator` running as a child
// process: fast-check generates Functions, Pipelines, Indexes, VectorStores and InfraRules that
// are valid, near-valid (one field wrong) or hostile (huge strings, deep filters, unicode, wrong
// types, 1 MB podSpec patches). The apiserver refuses what its schema can; for everything it
// accepts, the operator must write a status for the current generation — SpecValid True when the
// operator's own schema accepts the object, False naming the first bad field when it does not —
// and it must never crash or wedge (a valid Function applied last still reconciles).
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseResource } from '../../../src/api/parse.js';
import { startStoreServer, type StoreServer } from '../../../src/store/server.js';
import { loadSeed } from '../../fixtures/seeds.js';
import { temporalAddress, temporalNamespace } from '../../helpers/servers.js';
import {
  applyCr,
  condition,
  eventually,
  readCr,
  type Live,
  type OperatorProcess,
  startOperatorProcess,
  operatorProcessSetup,
} from './harness.js';

const SEED = Number(process.env.LAYER_FUZZ_SEED ?? 20261130);
const PER_KIND = 10;

let admin: KubeConfig;
let custom: CustomObjectsApi;
let ns: string;
let dir: string;
let storeServer: StoreServer;
let operator: OperatorProcess;

beforeAll(async () => {
  ({ admin, ns, dir } = await operatorProcessSetup('fuzz'));
  custom = admin.makeApiClient(CustomObjectsApi);
  storeServer = await startStoreServer({ memory: true });
  operator = await startOperatorProcess({
    KUBECONFIG: join(dir, 'kubeconfig'),
    TEMPORAL_ADDRESS: temporalAddress(),
    TEMPORAL_NAMESPACE: temporalNamespace(),
    LAYER_ORCHESTRATOR_TASK_QUEUE: `layer-orchestrator-fuzz-${randomUUID().slice(0, 8)}`,
    LAYER_STORE_URL: storeServer.url,
    LAYER_STATE_DIR: join(dir, 'no-dev-env'),
    LAYER_WATCH_NAMESPACES: ns,
  });
}, 180_000);

afterAll(async () => {
  // Delete every workload while the operator still runs: it stops their workflows and removes
  // its finalizers, so no workflow is left behind without a worker for other files to query.
  if (custom && ns) {
    for (const plural of ['functions', 'pipelines']) {
      const list = (await custom
        .listNamespacedCustomObject({ group: 'hevlayer.com', version: 'v1alpha1', namespace: ns, plural })
        .catch(() => ({ items: [] }))) as { items: Live[] };
      for (const item of list.items)
        await custom
          .deleteNamespacedCustomObject({
            group: 'hevlayer.com',
            version: 'v1alpha1',
            namespace: ns,
            plural,
            name: item.metadata.name,
          })
          .catch(() => undefined);
      await eventually(
        `${plural} of ${ns} deleted`,
        async () => {
          const left = (await custom.listNamespacedCustomObject({
            group: 'hevlayer.com',
            version: 'v1alpha1',
            namespace: ns,
            plural,
          })) as { items: Live[] };
          return left.items.length === 0 ? true : undefined;
        },
        120_000,
      ).catch(() => undefined);
    }
  }
  await operator?.stop();
  await storeServer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---- generators ----------------------------------------------------------------------------------

type Obj = Record<string, unknown>;
type Mutation = (o: Obj) => void;

const dnsName = fc.stringMatching(/^[a-z][a-z0-9-]{0,18}[a-z0-9]$/);
const unicode = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 });
const hugeString = fc.integer({ min: 64 * 1024, max: 300 * 1024 }).map((n) => 'x'.repeat(n));
const wrongType = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double(),
  fc.string(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.constant({ nested: { deeper: [1, 'two'] } }),
);

function deepFilter(depth: number): unknown {
  let f: unknown = ['title', 'Eq', 'x'];
  for (let i = 0; i < depth; i++) f = ['Not', f];
  return f;
}

function setPath(o: Obj, path: string[], value: unknown): void {
  let cur = o;
  for (const key of path.slice(0, -1)) {
    if (typeof cur[key] !== 'object' || cur[key] === null) cur[key] = {};
    cur = cur[key] as Obj;
  }
  cur[path[path.length - 1]!] = value;
}

function deletePath(o: Obj, path: string[]): void {
  let cur = o;
  for (const key of path.slice(0, -1)) cur = (cur[key] ?? {}) as Obj;
  delete cur[path[path.length - 1]!];
}

/** One field changed: a value of the wrong type or range, or a field removed. */
function nearValid(paths: string[][]): fc.Arbitrary<Mutation> {
  return fc.oneof(
    fc.tuple(fc.constantFrom(...paths), wrongType).map(
      ([p, v]): Mutation =>
        (o) =>
          setPath(o, p, v),
    ),
    fc.constantFrom(...paths).map(
      (p): Mutation =>
        (o) =>
          deletePath(o, p),
    ),
    fc.constantFrom(...paths).map(
      (p): Mutation =>
        (o) =>
          setPath(o, p, -1),
    ),
  );
}

/** Something an attacker would send. */
function hostile(paths: string[][], workload: boolean): fc.Arbitrary<Mutation> {
  const attacks: fc.Arbitrary<Mutation>[] = [
    fc.tuple(fc.constantFrom(...paths), hugeString).map(
      ([p, v]): Mutation =>
        (o) =>
          setPath(o, p, v),
    ),
    fc.tuple(fc.constantFrom(...paths), unicode).map(
      ([p, v]): Mutation =>
        (o) =>
          setPath(o, p, v),
    ),
    fc.constant<Mutation>((o) => setPath(o, ['spec'], 'not an object')),
    fc.constant<Mutation>((o) => setPath(o, ['spec', 'unknownField'], { a: 1 })),
  ];
  if (workload) {
    attacks.push(
      fc.integer({ min: 20, max: 400 }).map(
        (d): Mutation =>
          (o) =>
            setPath(o, ['spec', 'filter'], deepFilter(d)),
      ),
      fc.integer({ min: 900 * 1024, max: 1024 * 1024 }).map(
        (n): Mutation =>
          (o) =>
            setPath(o, ['spec', 'worker', 'podSpec'], {
              containers: [{ name: 'worker', env: [{ name: 'BIG', value: 'y'.repeat(n) }] }],
            }),
      ),
      fc.constant<Mutation>((o) => setPath(o, ['spec', 'worker', 'batchSize'], 1e308)),
    );
  }
  return fc.oneof(...attacks);
}

interface Case {
  obj: Obj;
  /** `semantic`: admitted by every schema, refused by the operator's rules (pool, engine limits). */
  intent: 'valid' | 'near-valid' | 'hostile' | 'semantic';
  /** For `semantic`: what the blocking condition's message must name. */
  names?: string;
}

/** Schema-valid workloads the operator must still refuse, with what its condition must name. */
const semanticWorkload: fc.Arbitrary<{ m: Mutation; names: string }> = fc.oneof(
  fc.integer({ min: 501, max: 100_000 }).map((n) => ({
    m: (o: Obj) => setPath(o, ['spec', 'schedule', 'maxInFlightBatches'], n),
    names: 'maxInFlightBatches',
  })),
  dnsName.map((pool) => ({
    m: (o: Obj) => setPath(o, ['spec', 'scaling', 'pool'], `nopool-${pool}`),
    names: 'nopool-',
  })),
  // The CRD bounds it only below (int64 above); the operator's schema refuses integers JavaScript
  // cannot hold exactly: SpecValid=False naming the field.
  fc.integer({ min: 53, max: 62 }).map((bits) => ({
    m: (o: Obj) => setPath(o, ['spec', 'schedule', 'leaseSeconds'], 2 ** bits),
    names: 'leaseSeconds',
  })),
);

function cases(
  kind: string,
  base: () => Obj,
  paths: string[][],
  workload: boolean,
  valid: fc.Arbitrary<Mutation>,
) {
  const kinds: fc.Arbitrary<{ m: Mutation; intent: Case['intent']; names?: string }>[] = [
    valid.map((m) => ({ m, intent: 'valid' as const })),
    nearValid(paths).map((m) => ({ m, intent: 'near-valid' as const })),
    hostile(paths, workload).map((m) => ({ m, intent: 'hostile' as const })),
  ];
  if (workload)
    kinds.push(semanticWorkload.map(({ m, names }) => ({ m, names, intent: 'semantic' as const })));
  return fc.oneof(...kinds).map(({ m, intent, names }): Case => {
    const obj = base();
    m(obj);
    return { obj, intent, ...(names ? { names } : {}) };
  });
}

const validFunction = fc
  .record({
    batchSize: fc.integer({ min: 1, max: 1000 }),
    timeoutSeconds: fc.integer({ min: 1, max: 3600 }),
    max: fc.integer({ min: 1, max: 6 }),
    attribute: dnsName.map((s) => s.replace(/-/g, '_')),
  })
  .map((v): Mutation => (o) => {
    const spec = o.spec as Obj;
    Object.assign(spec.worker as Obj, { batchSize: v.batchSize, timeoutSeconds: v.timeoutSeconds });
    (spec.scaling as Obj).replicas = { min: 0, max: v.max };
    spec.output = { attribute: v.attribute, kind: 'tags', version: 'v1' };
    delete spec.filter;
  });

const GENERATORS: Record<string, fc.Arbitrary<Case>> = {
  Function: cases(
    'Function',
    () => ({ ...loadSeed('function'), metadata: {} }),
    [
      ['spec', 'worker', 'image'],
      ['spec', 'worker', 'batchSize'],
      ['spec', 'output', 'kind'],
      ['spec', 'inputs'],
      ['spec', 'targetNamespaces'],
      ['spec', 'scaling', 'replicas', 'max'],
      ['spec', 'schedule', 'leaseSeconds'],
    ],
    true,
    validFunction,
  ),
  Pipeline: cases(
    'Pipeline',
    () => ({ ...loadSeed('pipeline'), metadata: {} }),
    [
      ['spec', 'worker', 'image'],
      ['spec', 'worker', 'batchSize'],
      ['spec', 'target', 'namespace'],
      ['spec', 'scaling', 'pool'],
      ['spec', 'sourceRef'],
    ],
    true,
    fc.integer({ min: 1, max: 500 }).map(
      (b): Mutation =>
        (o) =>
          setPath(o, ['spec', 'worker', 'batchSize'], b),
    ),
  ),
  Index: cases(
    'Index',
    () => ({ apiVersion: 'hevlayer.com/v1alpha1', kind: 'Index', metadata: {}, spec: {} }),
    [
      ['spec', 'backend'],
      ['spec', 'namespace'],
      ['spec', 'schema'],
    ],
    false,
    fc.constant<Mutation>(() => undefined),
  ),
  VectorStore: cases(
    'VectorStore',
    () => ({
      apiVersion: 'hevlayer.com/v1alpha1',
      kind: 'VectorStore',
      metadata: {},
      spec: {
        endpoint: { url: 'http://127.0.0.1:1', region: 'test' },
        credential: { secretRef: { name: 'missing', key: 'api-key' } },
        inboundAuth: { mode: 'deriveFromStore' },
      },
    }),
    [
      ['spec', 'endpoint', 'url'],
      ['spec', 'credential', 'secretRef', 'name'],
      ['spec', 'inboundAuth', 'mode'],
    ],
    false,
    fc.constantFrom('deriveFromStore', 'open').map(
      (mode): Mutation =>
        (o) =>
          setPath(o, ['spec', 'inboundAuth', 'mode'], mode),
    ),
  ),
  // Cluster-scoped and shared by every test file: only names other than `default` (refused by the
  // CRD's rule, so nothing shared changes) and the seed itself (applied unchanged).
  InfraRules: cases(
    'InfraRules',
    () => ({ ...loadSeed('infraRules') }),
    [
      ['spec', 'computePools'],
      ['metadata', 'name'],
    ],
    false,
    fc.constant<Mutation>(() => undefined),
  ),
};

// ---- the run -------------------------------------------------------------------------------------

interface Outcome {
  kind: string;
  name: string;
  intent: Case['intent'];
  names?: string;
  /** The operator refused it by a condition other than SpecValid (pool, engine limits). */
  operatorBlocked?: boolean;
  accepted: boolean;
  refusal?: string;
  operatorValid?: boolean;
}

async function apply(obj: Obj): Promise<{ accepted: boolean; refusal?: string }> {
  const err = await applyCr(custom, obj).then(
    () => undefined,
    (e: unknown) => e ?? new Error('rejected without a reason'),
  );
  if (err === undefined) return { accepted: true };
  let code = (err as { code?: number }).code;
  const body = String((err as { body?: unknown }).body ?? err);
  // The apiserver answers server-side apply of a field its schema does not declare with a 500
  // "failed to create typed patch object" (an upstream quirk); it is a refusal of the input.
  if (code === 500 && body.includes('failed to create typed patch object')) code = 422;
  // A refusal is a 4xx from the apiserver's validation; anything else fails the test.
  expect(code, `apiserver answered ${code} for ${JSON.stringify(obj).slice(0, 200)}`).toBeGreaterThanOrEqual(
    400,
  );
  expect(code, `apiserver answered ${code}: ${body.slice(0, 600)}`).toBeLessThan(500);
  return { accepted: false, refusal: String((err as Error).message).slice(0, 160) };
}

describe('fuzzed custom resources against the running operator', () => {
  it('refused by the apiserver or given a status naming the field; the operator never crashes or wedges', async () => {
    const outcomes: Outcome[] = [];
    let n = 0;
    for (const [kind, arb] of Object.entries(GENERATORS)) {
      for (const c of fc.sample(arb, { numRuns: PER_KIND, seed: SEED + kind.length })) {
        n += 1;
        const obj = c.obj;
        const meta = (typeof obj.metadata === 'object' && obj.metadata ? obj.metadata : {}) as Obj;
        if (kind === 'InfraRules') {
          // Never touch the shared InfraRules/default unless it is the seed, unchanged.
          const isSeed = JSON.stringify(obj) === JSON.stringify(loadSeed('infraRules'));
          if (!isSeed) meta.name = `fuzz-${n}`;
        } else {
          meta.name = `fz-${kind.toLowerCase()}-${n}`;
          meta.namespace = ns;
        }
        obj.metadata = meta;
        const result = await apply(obj);
        outcomes.push({
          kind,
          name: String(meta.name),
          intent: c.intent,
          ...(c.names ? { names: c.names } : {}),
          ...result,
        });
      }
    }

    // Everything the apiserver accepted in our namespace gets a status for its generation.
    for (const o of outcomes.filter((x) => x.accepted && x.kind !== 'InfraRules')) {
      const live = await eventually(
        `${o.kind} ${o.name} status`,
        async () => {
          const cr = await readCr(custom, o.kind, ns, o.name);
          const spec = condition(cr, 'SpecValid');
          return cr && spec && spec.observedGeneration === cr.metadata.generation ? cr : undefined;
        },
        90_000,
      );
      const { status: _s, ...asApplied } = live as Live;
      const ours = parseResource(asApplied);
      const specValid = condition(live, 'SpecValid')!;
      o.operatorValid = specValid.status === 'True';
      // Valid Functions may still collide: the fuzz gives many of them the seed's output attribute
      // and target, and only the oldest owns it (ADR 0070) — the others are refused naming it.
      if (ours.ok && specValid.reason === 'OutputConflict') {
        expect(specValid.message).toMatch(
          /is already written by Function .+; one Function per output attribute/,
        );
        continue;
      }
      expect(specValid.status, `${o.kind} ${o.name}: ${specValid.message}`).toBe(ours.ok ? 'True' : 'False');
      if (!ours.ok) {
        expect(specValid.reason).toBe('SchemaInvalid');
        expect(specValid.message).toContain(ours.error.issues[0]!.path);
        expect(specValid.message).toContain('Fix:');
      }
      if (o.intent === 'semantic') {
        // Admitted by both schemas, refused by a rule: a False condition names the field, Ready follows.
        const blocking = await eventually(
          `${o.kind} ${o.name} blocked`,
          async () => {
            const cr = await readCr(custom, o.kind, ns, o.name);
            const conds = (cr?.status?.conditions ?? []) as Live[];
            return conds.find(
              (c) => c.status === 'False' && c.type !== 'Ready' && String(c.message).includes(o.names!),
            );
          },
          60_000,
        );
        expect(blocking.message).toContain(o.names);
        expect(condition(await readCr(custom, o.kind, ns, o.name), 'Ready')?.status).toBe('False');
        o.operatorBlocked = true;
      }
    }

    // Not wedged: a valid Function applied now still reconciles, and the process is alive.
    // Its own output attribute: a fuzzed Function may own the seed's (ADR 0070).
    const seed = loadSeed('function');
    const sentinel = {
      ...seed,
      metadata: { name: 'fz-sentinel', namespace: ns },
      spec: {
        ...seed.spec,
        output: { ...(seed.spec as { output: object }).output, attribute: 'tags_sentinel' },
      },
    };
    await applyCr(custom, sentinel);
    const live = await eventually(
      'the sentinel Function reconciled',
      async () => {
        const cr = await readCr(custom, 'Function', ns, 'fz-sentinel');
        return condition(cr, 'SpecValid')?.status === 'True' && condition(cr, 'WorkflowReady')
          ? cr
          : undefined;
      },
      90_000,
    );
    expect(condition(live, 'SpecValid')?.status).toBe('True');
    expect(operator.child.exitCode).toBeNull();
    expect(operator.log()).not.toMatch(/Unhandled|uncaughtException|FATAL/i);

    const count = (f: (o: Outcome) => boolean) => outcomes.filter(f).length;
    const summary = {
      seed: SEED,
      generated: outcomes.length,
      refused_by_apiserver: count((o) => !o.accepted),
      accepted: count((o) => o.accepted),
      operator_valid: count((o) => o.operatorValid === true),
      operator_invalid: count((o) => o.operatorValid === false),
      operator_blocked: count((o) => o.operatorBlocked === true),
      by_intent: Object.fromEntries(
        (['valid', 'near-valid', 'hostile', 'semantic'] as const).map((i) => [
          i,
          { generated: count((o) => o.intent === i), accepted: count((o) => o.intent === i && o.accepted) },
        ]),
      ),
    };
    process.stdout.write(`fuzzed CRs: ${JSON.stringify(summary)}\n`);
    if (process.env.LAYER_FUZZ_VERBOSE)
      for (const o of outcomes)
        process.stdout.write(
          `${o.intent} ${o.kind} ${o.name}: ${o.accepted ? `accepted, operator ${o.operatorValid}` : o.refusal}\n`,
        );
    expect(summary.generated).toBe(PER_KIND * Object.keys(GENERATORS).length);
    // The generator reaches both sides of every gate.
    expect(summary.refused_by_apiserver).toBeGreaterThan(0);
    expect(summary.operator_valid).toBeGreaterThan(0);
    expect(summary.operator_blocked).toBeGreaterThan(0);
  });
});
