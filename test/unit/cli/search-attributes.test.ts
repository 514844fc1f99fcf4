import { describe, expect, it } from 'vitest';
import { missingSearchAttributes, searchAttributeCommand } from '../../../src/cli/search-attributes.js';

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
