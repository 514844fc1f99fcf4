// `npm run lint` step: fails when a test asserts inside a `catch` (a `catch` clause or a
// `.catch(…)` callback) with nothing making the test count its assertions (issue 26 item 8).
// Such a test passes when the awaited call does not throw at all: the catch never runs and no
// assertion fails. Fix it with `await expect(p).rejects…` / `expect(() => f()).toThrow(…)`, or
// call `expect.assertions(n)` / `expect.hasAssertions()` in the test. No eslint-plugin-vitest here
// (its no-conditional-expect is the same rule); the TypeScript parser is already installed.
//   node --import tsx scripts/catch-assertions.ts test packages/worker
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';

export interface CatchAssertion {
  file: string;
  /** 1-based line of the assertion. */
  line: number;
  /** The assertion's source, cut to one line. */
  text: string;
}

const isExpectCall = (node: ts.Node): node is ts.CallExpression =>
  ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'expect';

/** `expect.assertions(…)`, `expect.hasAssertions()`: the test fails if no assertion ran. */
const isAssertionCount = (node: ts.Node): boolean =>
  ts.isCallExpression(node) &&
  ts.isPropertyAccessExpression(node.expression) &&
  ts.isIdentifier(node.expression.expression) &&
  node.expression.expression.text === 'expect' &&
  ['assertions', 'hasAssertions'].includes(node.expression.name.text);

function contains(node: ts.Node, test: (n: ts.Node) => boolean): boolean {
  let found = false;
  const walk = (n: ts.Node) => {
    if (found) return;
    if (test(n)) found = true;
    else ts.forEachChild(n, walk);
  };
  walk(node);
  return found;
}

/** A function passed as the handler of `.catch(…)` on a promise. */
const isCatchCallback = (node: ts.Node): boolean =>
  ts.isFunctionLike(node) &&
  ts.isCallExpression(node.parent) &&
  node.parent.arguments.includes(node as ts.Expression) &&
  ts.isPropertyAccessExpression(node.parent.expression) &&
  node.parent.expression.name.text === 'catch';

/** Every `expect(…)` inside a catch whose enclosing functions never count assertions. */
export function catchAssertionsIn(file: string, source: string): CatchAssertion[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: CatchAssertion[] = [];
  const visit = (node: ts.Node, inCatch: boolean) => {
    if (inCatch && isExpectCall(node)) {
      let counted = false;
      for (let p: ts.Node | undefined = node.parent; p && !counted; p = p.parent)
        if (ts.isFunctionLike(p)) counted = contains(p, isAssertionCount);
      if (!counted) {
        // The whole chain, `expect(x).not.toBe(y)`, not only its `expect(x)`.
        let chain: ts.Node = node;
        while (
          (ts.isPropertyAccessExpression(chain.parent) || ts.isCallExpression(chain.parent)) &&
          (chain.parent as ts.PropertyAccessExpression | ts.CallExpression).expression === chain
        )
          chain = chain.parent;
        const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
        found.push({ file, line, text: chain.getText(sf).split('\n')[0]!.slice(0, 120) });
      }
      return;
    }
    ts.forEachChild(node, (child) =>
      visit(child, inCatch || ts.isCatchClause(child) || isCatchCallback(child)),
    );
  };
  visit(sf, false);
  return found;
}

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    if (statSync(path).isDirectory()) return testFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every such assertion in the .ts files under the given folders. */
export function catchAssertionsUnder(roots: string[]): CatchAssertion[] {
  return roots
    .flatMap((r) => testFiles(resolve(r)))
    .flatMap((f) => catchAssertionsIn(f, readFileSync(f, 'utf8')));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const roots = process.argv.slice(2);
  const found = catchAssertionsUnder(roots.length > 0 ? roots : ['test']);
  for (const f of found)
    process.stderr.write(
      `${relative(process.cwd(), f.file)}:${f.line}: assertion inside a catch: ${f.text}\n`,
    );
  if (found.length > 0) {
    process.stderr.write(
      `${found.length} assertion(s) inside a catch pass when nothing is thrown: use \`await expect(p).rejects\` or \`expect(fn).toThrow\`, or call expect.assertions(n) in the test (issue 26 item 8)\n`,
    );
    process.exit(1);
  }
}
