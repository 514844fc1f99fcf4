// What the Helm chart's README tells users about their Temporal server comes from the same source
// as the local cluster: the release (TEMPORAL_SERVER_VERSION), the config template and the
// temporal-sql-tool steps (schemaSteps), and every search attribute the workflows carry.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../../src/contracts/search-attributes.js';
import { schemaSteps, TEMPORAL_SERVER_VERSION } from '../../../src/dev/temporal-cluster-config.js';

const readme = readFileSync(new URL('../../../deploy/helm/layer/README.md', import.meta.url), 'utf8');

describe('deploy/helm/layer/README.md, Self-hosted Temporal', () => {
  it('names the server release the project builds and tests', () => {
    expect(readme).toContain(`temporalio/server:${TEMPORAL_SERVER_VERSION.slice(1)}`);
    expect(readme).toContain(`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION.slice(1)}`);
    expect(readme).toContain('deploy/temporal/config-template.yaml');
  });

  it('lists the schema steps the local cluster runs, in order', () => {
    const steps = schemaSteps(
      { host: 'h', port: 5432, user: 'u', password: '' },
      'temporal',
      'temporal_visibility',
    );
    const inReadme = [...readme.matchAll(/^\$sql (--db \S+ .+?)(?:\s+#.*)?$/gm)].map((m) => m[1]);
    expect(inReadme).toEqual(steps.map((s) => s.args.slice(s.args.indexOf('--db')).join(' ')));
  });

  it('registers every search attribute', () => {
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES))
      expect(readme).toContain(`--name ${name} --type ${type}`);
  });
});
