// The lint step that rejects an assertion inside a catch with nothing counting assertions
// (scripts/catch-assertions.ts, issue 26 item 8): such a test passes when nothing is thrown.
import { describe, expect, it } from 'vitest';
import { catchAssertionsIn, catchAssertionsUnder } from '../../../scripts/catch-assertions.js';

const lines = (source: string) => catchAssertionsIn('x.test.ts', source).map((f) => f.line);

describe('catchAssertionsIn', () => {
  it('rejects a deliberate assertion in a catch clause: the test passes if deploy() resolves', () => {
    const source = [
      "it('refuses a bad spec', async () => {",
      '  try {',
      '    await deploy(bad);',
      '  } catch (e) {',
      "    expect(String(e)).toContain('spec.name');",
      '  }',
      '});',
    ].join('\n');
    expect(catchAssertionsIn('x.test.ts', source)).toEqual([
      { file: 'x.test.ts', line: 5, text: "expect(String(e)).toContain('spec.name')" },
    ]);
  });

  it('rejects an assertion in a .catch(…) callback and in a catch inside a nested callback', () => {
    const source = [
      "it('a', async () => {",
      '  await deploy(bad).catch((e) => expect(e).toBeInstanceOf(Error));',
      '});',
      "it('b', async () => {",
      '  await Promise.all(xs.map(async (x) => {',
      '    try { await run(x); } catch (e) { expect(e).toBeDefined(); }',
      '  }));',
      '});',
    ].join('\n');
    expect(lines(source)).toEqual([2, 6]);
  });

  it.each([
    {
      why: 'expect.assertions counts it',
      source:
        "it('a', async () => { expect.assertions(1); try { await f(); } catch (e) { expect(e).toBeDefined(); } });",
    },
    {
      why: 'expect.hasAssertions in the enclosing test counts a nested one',
      source:
        "it('a', async () => { expect.hasAssertions(); await g(async () => { try { await f(); } catch (e) { expect(e).toBeDefined(); } }); });",
    },
    {
      why: 'rejects is not a catch',
      source: "it('a', async () => { await expect(f()).rejects.toThrow(/x/); });",
    },
    {
      why: 'an assertion after the catch runs either way',
      source:
        "it('a', async () => { let err; try { await f(); } catch (e) { err = e; } expect(err).toBeDefined(); });",
    },
    {
      why: 'a catch that only cleans up',
      source: "it('a', async () => { try { await f(); } catch { await cleanUp(); } expect(1).toBe(1); });",
    },
  ])('accepts: $why', ({ source }) => {
    expect(lines(source)).toEqual([]);
  });
});

describe('the lint step', () => {
  it("finds none in the project's tests", () => {
    expect(catchAssertionsUnder(['test'])).toEqual([]);
  });
});
