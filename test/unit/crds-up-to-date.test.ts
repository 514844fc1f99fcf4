// deploy/crds/ is generated output. This fails when someone changes a schema without running
// `npm run gen:crds`, or edits a generated file by hand.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildAllCrds, crdFileName, crdYaml } from '../../src/api/index.js';

const dir = new URL('../../deploy/crds/', import.meta.url);

describe('deploy/crds', () => {
  const crds = buildAllCrds();

  it('holds exactly the generated files', () => {
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    expect(files).toEqual(crds.map(crdFileName).sort());
  });

  it.each(crds.map((c) => [crdFileName(c), c] as const))(
    '%s matches a fresh generation (run npm run gen:crds)',
    (file, crd) => {
      expect(readFileSync(new URL(file, dir), 'utf8')).toBe(crdYaml(crd));
    },
  );
});
