import { describe, expect, it } from 'vitest';
import { missingSearchAttributes, searchAttributeCommand } from '../../../src/cli/search-attributes.js';
import { SEARCH_ATTRIBUTES, workloadSearchAttributes } from '../../../src/contracts/search-attributes.js';

describe('Layer search attributes in a namespace', () => {
  it('lists what is missing and the command that registers it', () => {
    expect(missingSearchAttributes({ LayerKind: 2, LayerName: 2, LayerK8sNamespace: 2 })).toEqual([
      'LayerTargetNamespace',
      'LayerPhase',
    ]);
    expect(
      missingSearchAttributes({
        LayerKind: 2,
        LayerName: 2,
        LayerK8sNamespace: 2,
        LayerTargetNamespace: 7,
        LayerPhase: 2,
      }),
    ).toEqual([]);
    expect(searchAttributeCommand('prod', ['LayerTargetNamespace', 'LayerPhase'])).toBe(
      'temporal operator search-attribute create --namespace prod --name LayerTargetNamespace --type KeywordList --name LayerPhase --type Keyword',
    );
  });
});

describe('workloadSearchAttributes', () => {
  it.each([
    [undefined, 'running'],
    [false, 'running'],
    [true, 'paused'],
  ])('a workload with paused %s starts with every Layer attribute, phase %s', (paused, phase) => {
    const pairs = workloadSearchAttributes('Pipeline', { name: 'p', k8sNamespace: 'local', paused }, [
      'docs',
    ]);
    expect(Object.fromEntries(pairs.map((p) => [p.key.name, p.value]))).toEqual({
      LayerKind: 'Pipeline',
      LayerName: 'p',
      LayerK8sNamespace: 'local',
      LayerTargetNamespace: ['docs'],
      LayerPhase: phase,
    });
    expect(pairs.map((p) => p.key.name).sort()).toEqual(Object.keys(SEARCH_ATTRIBUTES).sort());
  });
});
