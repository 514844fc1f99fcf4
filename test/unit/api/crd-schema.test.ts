// The zod → structural schema converter and the CRD manifests built from it.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  buildAllCrds,
  CrdSchemaError,
  structural,
  structuralViolations,
  toCrdSchema,
  type JsonSchemaProps,
} from '../../../src/api/index.js';

type Crd = {
  metadata: { name: string };
  spec: {
    scope: string;
    versions: {
      subresources: unknown;
      additionalPrinterColumns: { name: string }[];
      schema: { openAPIV3Schema: JsonSchemaProps };
    }[];
  };
};
const crds = buildAllCrds() as unknown as Crd[];
const byName = (n: string) => crds.find((c) => c.metadata.name === n)!;
const schemaOf = (n: string) => byName(n).spec.versions[0]!.schema.openAPIV3Schema;
const prop = (s: JsonSchemaProps, ...path: string[]): JsonSchemaProps =>
  path.reduce((node, k) => (node.properties as Record<string, JsonSchemaProps>)[k]!, s);

describe('structural post-processing (reference §5.3)', () => {
  it.each([
    // additionalProperties:false is forbidden in CRDs.
    {
      row: 'strict object',
      schema: z.strictObject({ a: z.string() }),
      want: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] },
    },
    // record<string, unknown> is open JSON: preserve, typed object.
    {
      row: 'open object',
      schema: z.record(z.string(), z.unknown()),
      want: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
    // Typed maps stay typed.
    {
      row: 'string map',
      schema: z.record(z.string(), z.string()),
      want: { type: 'object', additionalProperties: { type: 'string' } },
    },
    // any JSON: untyped preserve.
    { row: 'unknown', schema: z.unknown(), want: { 'x-kubernetes-preserve-unknown-fields': true } },
    // Safe-integer bounds are noise.
    { row: 'int', schema: z.int().min(0), want: { type: 'integer', minimum: 0 } },
    // date-time keeps format, drops zod's long regex.
    { row: 'datetime', schema: z.iso.datetime(), want: { type: 'string', format: 'date-time' } },
    // int-or-string becomes the exact controller-gen shape.
    {
      row: 'int or string',
      schema: z.union([z.string().regex(/^x$/), z.int()]).meta({ 'x-kubernetes-int-or-string': true }),
      want: {
        anyOf: [{ type: 'integer' }, { type: 'string' }],
        pattern: '^x$',
        'x-kubernetes-int-or-string': true,
      },
    },
    // Loose objects keep fields and preserve the rest.
    {
      row: 'loose object',
      schema: z.looseObject({ a: z.string() }),
      want: {
        type: 'object',
        properties: { a: { type: 'string' } },
        required: ['a'],
        'x-kubernetes-preserve-unknown-fields': true,
      },
    },
  ])('$row', ({ schema, want }) => {
    expect(toCrdSchema(schema)).toEqual(want);
  });

  it.each([
    // Unions are not structural; the converter refuses rather than emitting a broken CRD.
    { row: 'plain union', schema: z.union([z.string(), z.strictObject({ a: z.string() })]) },
    // $ref from schema ids is forbidden.
    { row: '$ref', raw: { type: 'object', properties: { a: { $ref: '#/definitions/A' } } } },
  ])('refuses $row', ({ schema, raw }) => {
    expect(() => (schema ? toCrdSchema(schema) : structural(raw as JsonSchemaProps, '(root)'))).toThrow(
      CrdSchemaError,
    );
  });
});

describe('generated CRDs', () => {
  it('there is one per kind, all structural', () => {
    expect(crds.map((c) => c.metadata.name).sort()).toEqual([
      'functions.hevlayer.com',
      'indexes.hevlayer.com',
      'infrarules.hevlayer.com',
      'pipelines.hevlayer.com',
      'vectorstores.hevlayer.com',
    ]);
    for (const c of crds)
      expect(structuralViolations(c.spec.versions[0]!.schema.openAPIV3Schema)).toEqual([]);
  });

  it('every CRD has the status subresource and a Ready column', () => {
    for (const c of crds) {
      expect(c.spec.versions[0]!.subresources).toEqual({ status: {} });
      expect(c.spec.versions[0]!.additionalPrinterColumns.map((p) => p.name)).toContain('Ready');
    }
  });

  it.each(['functions.hevlayer.com', 'pipelines.hevlayer.com'])(
    '%s prints Ready, Pool, Mode, Min, Max, Age',
    (n) => {
      const cols = byName(n).spec.versions[0]!.additionalPrinterColumns.map((p) => p.name);
      expect(cols).toEqual(expect.arrayContaining(['Ready', 'Pool', 'Mode', 'Min', 'Max', 'Age']));
    },
  );

  it('InfraRules is cluster-scoped and limited to the name default', () => {
    const c = byName('infrarules.hevlayer.com');
    expect(c.spec.scope).toBe('Cluster');
    expect(schemaOf('infrarules.hevlayer.com')['x-kubernetes-validations']).toEqual([
      { rule: "self.metadata.name == 'default'", message: 'InfraRules must be named default' },
    ]);
  });

  it.each([
    // filter holds any JSON (the seed's is an array with nulls).
    {
      row: 'filter',
      crd: 'functions.hevlayer.com',
      path: ['spec', 'filter'],
      want: { 'x-kubernetes-preserve-unknown-fields': true },
    },
    // sourceRef is an open object.
    {
      row: 'sourceRef',
      crd: 'pipelines.hevlayer.com',
      path: ['spec', 'sourceRef'],
      want: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
    // podSpec is an open object patch.
    {
      row: 'podSpec',
      crd: 'functions.hevlayer.com',
      path: ['spec', 'worker', 'podSpec'],
      want: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
    },
  ])('open JSON $row is preserved', ({ crd, path, want }) => {
    expect(prop(schemaOf(crd), ...path)).toMatchObject(want);
  });

  it('conditions are a map list keyed by type', () => {
    const c = prop(schemaOf('functions.hevlayer.com'), 'status', 'conditions');
    expect(c).toMatchObject({
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    });
  });

  it('an object default that sits under a CEL rule spells out every defaulted field', () => {
    // The apiserver validates a default against x-kubernetes-validations as written, without
    // applying nested defaults first; `default: {}` there fails CRD creation ("no such key").
    const bad: string[] = [];
    const walk = (node: JsonSchemaProps, path: string) => {
      const props = (node.properties ?? {}) as Record<string, JsonSchemaProps>;
      if (node['x-kubernetes-validations'] && typeof node.default === 'object' && node.default !== null) {
        for (const [k, v] of Object.entries(props)) {
          if (v.default !== undefined && !(k in (node.default as object))) bad.push(`${path}.${k}`);
        }
      }
      for (const [k, v] of Object.entries(props)) walk(v, `${path}.${k}`);
      if (node.items) walk(node.items as JsonSchemaProps, `${path}[]`);
    };
    for (const c of crds) walk(c.spec.versions[0]!.schema.openAPIV3Schema, c.metadata.name);
    expect(bad).toEqual([]);
  });

  it('every spec field has a description (kubectl explain)', () => {
    const missing: string[] = [];
    const walk = (node: JsonSchemaProps, path: string) => {
      for (const [k, v] of Object.entries((node.properties ?? {}) as Record<string, JsonSchemaProps>)) {
        if (typeof v.description !== 'string' || v.description.length === 0) missing.push(`${path}.${k}`);
        walk(v, `${path}.${k}`);
        if (v.items) walk(v.items as JsonSchemaProps, `${path}.${k}[]`);
      }
    };
    for (const c of crds)
      walk(prop(c.spec.versions[0]!.schema.openAPIV3Schema, 'spec'), `${c.metadata.name}:spec`);
    expect(missing).toEqual([]);
  });
});
