// The local Temporal cluster's pure planning: the config template rendered as the server renders
// it, PostgreSQL from LAYER_TEMPORAL_POSTGRES_URL, the per-host addresses and ports, and the
// idempotent temporal-sql-tool steps. The rendered YAML is parsed and checked key by key.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  clusterConfigTemplatePath,
  clusterDatabases,
  hostTemplateEnv,
  parsePostgresUrl,
  planClusterHosts,
  PORTS_PER_HOST,
  renderConfigTemplate,
  schemaSteps,
  serverArgs,
  type ClusterPlanInput,
} from '../../../src/dev/temporal-cluster-config.js';
import { resolveToolModule, TEMPORAL_SERVER_MODULE } from '../../../src/dev/temporal-cluster-binaries.js';
import { backendOrder, parseBackend } from '../../../src/dev/tcp-forwarder.js';
import { processCpuSeconds } from '../../../src/dev/temporal-cluster.js';

describe('renderConfigTemplate', () => {
  it.each([
    // The sprig `default`: the value when set…
    ['{{ default .Env.A "x" }}', { A: 'set' }, 'set'],
    // …the default when unset or empty (sprig treats "" as empty).
    ['{{ default .Env.A "x" }}', {}, 'x'],
    ['{{ default .Env.A "x" }}', { A: '' }, 'x'],
    // An escaped quote inside the default.
    ['{{ default .Env.A "a\\"b" }}', {}, 'a"b'],
    // A plain reference renders empty when unset, as Go's map lookup does.
    ['v: {{ .Env.B }}', {}, 'v: '],
    ['v: {{ .Env.B }}', { B: '7' }, 'v: 7'],
    // Trim markers are accepted in the action (whitespace trimming is not needed by the template).
    ['{{- default .Env.A "x" -}}', {}, 'x'],
    // The marker line is dropped: the output is plain YAML the server does not re-template.
    ['# enable-template\nk: {{ default .Env.A "1" }}', {}, 'k: 1'],
  ])('%s with %j → %s', (template, env, out) => {
    expect(renderConfigTemplate(template, env)).toBe(out);
  });

  it.each([
    ['{{ if .Env.A }}x{{ end }}', 'if'],
    ['{{ env "A" | default "x" }}', 'env'],
    ['{{ .Values.a }}', 'Values'],
  ])('refuses %s, naming the action and the two forms it supports', (template, word) => {
    expect(() => renderConfigTemplate(template, {})).toThrow(
      new RegExp(`config-template.yaml: unsupported template action .*${word}.*default \\.Env\\.NAME`),
    );
  });
});

const input = (over: Partial<ClusterPlanInput> = {}): ClusterPlanInput => ({
  hosts: 2,
  numHistoryShards: 16,
  ports: Array.from({ length: 2 * PORTS_PER_HOST }, (_, i) => 20_000 + i),
  publicAddress: '127.0.0.1:7233',
  postgres: { host: '127.0.0.1', port: 5432, user: 'postgres', password: '' },
  database: 'layer_temporal',
  visibilityDatabase: 'layer_temporal_visibility',
  dynamicConfigPath: '/x/dynamicconfig.yaml',
  ...over,
});

/** The parts of the server's config the tests read. */
interface ServerConfig {
  persistence: {
    numHistoryShards: number;
    visibilityStore: string;
    datastores: Record<string, { sql: Record<string, unknown> }>;
  };
  global: { membership: { broadcastAddress: string } };
  services: Record<string, { rpc: { grpcPort: number; membershipPort: number; bindOnIP: string } }>;
  clusterMetadata: { clusterInformation: Record<string, { rpcAddress: string }> };
  dynamicConfigClient: { filepath: string };
}

describe('the template rendered for each host of the cluster', () => {
  const template = readFileSync(clusterConfigTemplatePath(), 'utf8');
  const plan = input();
  const hosts = planClusterHosts(plan);
  const configs = hosts.map(
    (h) => parse(renderConfigTemplate(template, hostTemplateEnv(plan, h))) as ServerConfig,
  );

  it('puts each host on its own loopback address, broadcast and bound there, with its own ports', () => {
    expect(hosts.map((h) => h.ip)).toEqual(['127.0.0.2', '127.0.0.3']);
    for (const [i, c] of configs.entries()) {
      expect(c.global.membership.broadcastAddress).toBe(hosts[i]!.ip);
      for (const svc of ['frontend', 'history', 'matching', 'worker'])
        expect(c.services[svc]!.rpc.bindOnIP).toBe(hosts[i]!.ip);
    }
    expect(configs[0]!.services.frontend!.rpc.grpcPort).toBe(20_000);
    expect(configs[1]!.services.frontend!.rpc.grpcPort).toBe(20_000 + PORTS_PER_HOST);
    const all = configs.flatMap((c) =>
      ['frontend', 'history', 'matching', 'worker'].flatMap((s) => [
        c.services[s]!.rpc.grpcPort,
        c.services[s]!.rpc.membershipPort,
      ]),
    );
    expect(new Set(all).size).toBe(all.length);
  });

  it('uses SQL persistence and SQL visibility (postgres12) with the configured shards and databases', () => {
    const c = configs[0]!;
    expect(c.persistence.numHistoryShards).toBe(16);
    expect(c.persistence.datastores.default!.sql).toMatchObject({
      pluginName: 'postgres12',
      databaseName: 'layer_temporal',
      connectAddr: '127.0.0.1:5432',
      user: 'postgres',
      password: '',
    });
    expect(c.persistence.datastores[c.persistence.visibilityStore]!.sql).toMatchObject({
      pluginName: 'postgres12',
      databaseName: 'layer_temporal_visibility',
    });
    expect(c.clusterMetadata.clusterInformation.active!.rpcAddress).toBe('127.0.0.1:7233');
    expect(c.dynamicConfigClient.filepath).toBe('/x/dynamicconfig.yaml');
    expect(
      parse(renderConfigTemplate(template, hostTemplateEnv(input({ numHistoryShards: 512 }), hosts[0]!)))
        .persistence.numHistoryShards,
    ).toBe(512);
  });

  it('renders with no environment at all to the defaults docker-compose relies on', () => {
    const c = parse(renderConfigTemplate(template, {})) as ServerConfig;
    expect(c.persistence.numHistoryShards).toBe(16);
    expect(c.services.frontend!.rpc.grpcPort).toBe(7233);
    expect(c.persistence.datastores.default!.sql.databaseName).toBe('temporal');
  });

  it('runs all four services in each process', () => {
    expect(serverArgs('/c.yaml')).toEqual([
      '--config-file',
      '/c.yaml',
      '--allow-no-auth',
      'start',
      '--service',
      'frontend',
      '--service',
      'history',
      '--service',
      'matching',
      '--service',
      'worker',
    ]);
  });

  it.each([
    [{ hosts: 0 }, /hosts: 0 is not a whole number from 1 to 200/],
    [{ numHistoryShards: 0 }, /numHistoryShards: 0 .* fixed when the database is first set up/],
    [{ numHistoryShards: 1.5 }, /numHistoryShards: 1.5/],
    [{ hosts: 3 }, /ports: 18 ports for 3 hosts; need 27/],
    // Linux hands out "any free port" from 32768 up; Temporal's schema keeps them in a smallint.
    [
      { ports: Array.from({ length: 2 * PORTS_PER_HOST }, (_, i) => 32_760 + i) },
      /ports: 32768 is above 32767: .*rpc_port, a smallint/,
    ],
  ])('refuses %j', (over, message) => {
    expect(() => planClusterHosts(input(over))).toThrow(message);
  });
});

describe('parsePostgresUrl (LAYER_TEMPORAL_POSTGRES_URL)', () => {
  it.each([
    // Unset: this machine kind's PostgreSQL 15 (trust auth).
    [undefined, { host: '127.0.0.1', port: 5432, user: 'postgres', password: '' }],
    ['', { host: '127.0.0.1', port: 5432, user: 'postgres', password: '' }],
    [
      'postgres://temporal:s%40cret@db.internal:6432',
      { host: 'db.internal', port: 6432, user: 'temporal', password: 's@cret' },
    ],
    ['postgresql://u@h', { host: 'h', port: 5432, user: 'u', password: '' }],
  ])('%s', (raw, target) => {
    expect(parsePostgresUrl(raw)).toEqual(target);
  });

  it.each([
    ['127.0.0.1:5432', /LAYER_TEMPORAL_POSTGRES_URL: .* postgres:\/\/user/],
    ['mysql://u@h', /scheme "mysql:" is not postgres:/],
    ['postgres://u@h/temporal', /names a database \(\/temporal\); leave it out/],
  ])('refuses %s naming the variable and the fix', (raw, message) => {
    expect(() => parsePostgresUrl(raw)).toThrow(message);
  });
});

describe('schemaSteps', () => {
  it('creates both databases and brings them to the embedded schemas, tolerating an existing database', () => {
    const steps = schemaSteps(
      { host: '127.0.0.1', port: 5432, user: 'postgres', password: '' },
      'a',
      'a_visibility',
    );
    expect(steps.map((s) => s.args.slice(s.args.indexOf('--db') + 1).join(' '))).toEqual([
      'a create-database',
      'a setup-schema -v 0.0',
      'a update-schema --schema-name postgresql/v12/temporal',
      'a_visibility create-database',
      'a_visibility setup-schema -v 0.0',
      'a_visibility update-schema --schema-name postgresql/v12/visibility',
    ]);
    expect(steps[0]!.alreadyDone?.test('pq: database "a" already exists')).toBe(true);
    expect(steps[0]!.args).not.toContain('--password');
    expect(schemaSteps({ host: 'h', port: 1, user: 'u', password: 'p' }, 'a', 'b')[0]!.args).toContain(
      '--password',
    );
  });

  it.each([['Layer'], ['1abc'], ['a-b'], ['x'.repeat(53)]])('refuses database name %s', (name) => {
    expect(() => clusterDatabases(name)).toThrow(/database: .* lower-case PostgreSQL identifier/);
  });
});

describe('the forwarder and host helpers', () => {
  it.each([
    [3, 0, [0, 1, 2]],
    [3, 1, [1, 2, 0]],
    [3, 5, [2, 0, 1]],
    [1, 9, [0]],
  ])('with %i backends, connection %i tries %j', (count, n, order) => {
    expect(backendOrder(count, n)).toEqual(order);
  });

  it.each([['127.0.0.2'], ['h:0'], [':7233'], ['h:70000']])('refuses backend %s', (raw) => {
    expect(() => parseBackend(raw)).toThrow(/is not host:port/);
  });

  it('reads CPU seconds of a process from /proc/<pid>/stat, 0 for a gone one', () => {
    const start = Date.now();
    while (Date.now() - start < 120); // burn some CPU in this process
    expect(processCpuSeconds(process.pid)).toBeGreaterThan(0);
    expect(processCpuSeconds(2 ** 22 + 7)).toBe(0);
  });
});

describe('resolveToolModule', () => {
  it('takes a binary from its env var, logging the path and where it came from', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'layer-bin-'));
    for (const name of ['s', 'q']) writeFileSync(join(dir, name), '#!/bin/sh\n', { mode: 0o755 });
    const logs: string[] = [];
    const r = await resolveToolModule(TEMPORAL_SERVER_MODULE, (l) => logs.push(l), {
      TEMPORAL_SERVER: join(dir, 's'),
      TEMPORAL_SQL_TOOL: join(dir, 'q'),
      PATH: '',
    });
    expect(r['temporal-server']).toMatchObject({ path: join(dir, 's'), source: 'env' });
    expect(logs).toEqual([
      `temporal-server: ${join(dir, 's')} (env; v1.32.1)`,
      `temporal-sql-tool: ${join(dir, 'q')} (env; v1.32.1)`,
    ]);
  });

  it('refuses an env var that names no executable, saying which and what to do', async () => {
    await expect(
      resolveToolModule(TEMPORAL_SERVER_MODULE, () => undefined, { TEMPORAL_SERVER: '/nope', PATH: '' }),
    ).rejects.toThrow(
      /temporal-server: TEMPORAL_SERVER=\/nope is not an executable file; unset it or point it at/,
    );
  });
});

describe('startTcpForwarder over real sockets', () => {
  it('alternates between live backends and skips one that refuses (a dead host)', async () => {
    const { createServer, createConnection } = await import('node:net');
    const { startTcpForwarder } = await import('../../../src/dev/tcp-forwarder.js');
    const echo = (tag: string) =>
      new Promise<{ port: number; close: () => void }>((resolve) => {
        const s = createServer((c) => c.end(tag));
        s.listen(0, '127.0.0.1', () =>
          resolve({ port: (s.address() as { port: number }).port, close: () => s.close() }),
        );
      });
    const a = await echo('a');
    const b = await echo('b');
    const fwd = await startTcpForwarder({
      backends: [
        { host: '127.0.0.1', port: a.port },
        { host: '127.0.0.1', port: b.port },
      ],
    });
    const ask = () =>
      new Promise<string>((resolve, reject) => {
        let out = '';
        const c = createConnection({ host: '127.0.0.1', port: fwd.port });
        c.on('data', (d) => (out += d.toString()));
        c.on('close', () => resolve(out));
        c.on('error', reject);
      });
    try {
      expect([await ask(), await ask(), await ask(), await ask()]).toEqual(['a', 'b', 'a', 'b']);
      b.close();
      expect([await ask(), await ask(), await ask()]).toEqual(['a', 'a', 'a']);
      a.close();
      // No backend left: the client's connection is closed without data.
      expect(await ask()).toBe('');
    } finally {
      await fwd.close();
      a.close();
      b.close();
    }
  });
});
