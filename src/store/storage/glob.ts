// Glob patterns in the Rust `globset` dialect Turbopuffer uses: `*` and `**` match any run of
// characters, `?` one character, `[abc]` / `[!abc]` / `[a-z]` a class, `{a,b}` alternatives and
// `\x` a literal x. Compiled once per filter to an anchored RegExp.
import { badRequest } from './errors.js';

export function globToRegExp(glob: string, caseInsensitive: boolean): RegExp {
  let re = '';
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      while (glob[i + 1] === '*') i++;
      re += '[\\s\\S]*';
    } else if (c === '?') re += '[\\s\\S]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) throw badRequest(`invalid glob ${JSON.stringify(glob)}: unclosed character class`);
      let body = glob.slice(i + 1, end);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      re += `[${negated ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = end;
    } else if (c === '{') {
      depth++;
      re += '(?:';
    } else if (c === '}' && depth > 0) {
      depth--;
      re += ')';
    } else if (c === ',' && depth > 0) re += '|';
    else if (c === '\\' && i + 1 < glob.length) {
      i++;
      re += escapeRe(glob[i]!);
    } else re += escapeRe(c);
  }
  if (depth > 0) throw badRequest(`invalid glob ${JSON.stringify(glob)}: unclosed '{'`);
  return new RegExp(`^${re}$`, caseInsensitive ? 'iu' : 'u');
}

function escapeRe(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}
