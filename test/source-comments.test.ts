/**
 * Comments cite design sections, never tickets (CONTRIBUTING.md, "Writing"): a comment in
 * src/, web/src/, scripts/ or bench/ that names an issue number ("issue #13", "(#16)", "issue 21")
 * fails here, so that a reader of the code is sent to the rule (docs/design.md §…), not to a
 * tracker. Comments are read with the TypeScript parser, so string literals (a benchmark's title,
 * an error message) are not comments and may say what they like.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FOLDERS = ['src', 'web/src', 'scripts', 'bench'];
const SCRIPT_KINDS: Record<string, ts.ScriptKind> = {
  '.ts': ts.ScriptKind.TS,
  '.mts': ts.ScriptKind.TS,
  '.tsx': ts.ScriptKind.TSX,
  '.js': ts.ScriptKind.JS,
  '.mjs': ts.ScriptKind.JS,
};

/** A ticket reference: "issue #13", "issues 12", "(#16)", "#5,". Not "§8", not a CSS colour. */
const TICKET = /\bissues? ?#?\d+|(?<![\w&#/])#\d{1,4}\b/i;

function kindOf(path: string): ts.ScriptKind | null {
  const dot = path.lastIndexOf('.');
  return dot < 0 ? null : (SCRIPT_KINDS[path.slice(dot)] ?? null);
}

function sourcesBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourcesBelow(path);
    return kindOf(path) !== null && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every comment of a source text, in order, each once: the trivia around every token the parser sees. */
function commentsOf(text: string, kind: ts.ScriptKind = ts.ScriptKind.TS): Array<{ line: number; text: string }> {
  const file = ts.createSourceFile('x', text, ts.ScriptTarget.Latest, true, kind);
  const seen = new Map<number, number>();
  const add = (ranges: readonly ts.CommentRange[] | undefined): void => {
    for (const range of ranges ?? []) seen.set(range.pos, range.end);
  };
  const visit = (node: ts.Node): void => {
    const children = node.getChildren(file);
    if (children.length === 0 || node.kind === ts.SyntaxKind.JsxText) {
      add(ts.getLeadingCommentRanges(text, node.getFullStart()));
      add(ts.getTrailingCommentRanges(text, node.getEnd()));
      return;
    }
    for (const child of children) visit(child);
  };
  visit(file);
  return [...seen.entries()]
    .sort(([a], [b]) => a - b)
    .map(([pos, end]) => ({ line: file.getLineAndCharacterOfPosition(pos).line + 1, text: text.slice(pos, end) }));
}

describe('comments', () => {
  it('reads comments and nothing else', () => {
    const text = [
      '/** head #1 */',
      "const s = 'issue #2'; // two",
      // A template literal with placeholders, spelled without `${` in one string literal.
      'const r = /#3/g.test(`$' + '{s} /* not */ $' + '{a / b}`); /* three */',
      'function f() {',
      '  return 1;',
      '  // before the brace',
      '}',
      '// last',
    ].join('\n');
    expect(commentsOf(text).map((c) => c.text)).toEqual(['/** head #1 */', '// two', '/* three */', '// before the brace', '// last']);
    const jsx = 'const e = <p title="issue #4">don\'t {/* inside */} x</p>; // after';
    expect(commentsOf(jsx, ts.ScriptKind.TSX).map((c) => c.text)).toEqual(['/* inside */', '// after']);
  });

  it('tells a ticket from a section', () => {
    for (const ticket of ['(issue #13)', 'issue 21', 'Issues #13, #14', '(#16)', 'see #5.']) expect(ticket).toMatch(TICKET);
    for (const fine of ['docs/design.md §8', '"(issue #N)"', 'color: #fff', '&#39;', 'a 2,000-point forecast', 'url#12']) {
      expect(fine).not.toMatch(TICKET);
    }
  });

  it('cite design sections, never issue numbers', () => {
    const files = FOLDERS.flatMap((folder) => sourcesBelow(join(ROOT, folder)));
    expect(files.length).toBeGreaterThan(100);
    const found: string[] = [];
    for (const path of files) {
      const text = readFileSync(path, 'utf8');
      for (const comment of commentsOf(text, kindOf(path) ?? ts.ScriptKind.TS)) {
        comment.text.split('\n').forEach((line, i) => {
          if (TICKET.test(line)) found.push(`${relative(ROOT, path)}:${comment.line + i}: ${line.trim()}`);
        });
      }
    }
    expect(found, 'cite the docs/design.md section (or another doc) that holds the rule instead').toEqual([]);
  });
});
