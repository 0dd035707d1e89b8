/**
 * Every relative link in the Markdown files (README.md, CONTRIBUTING.md, CHANGELOG.md, docs/) points
 * to a file or folder that exists, and a link to a heading (`file.md#anchor`, `#anchor`) to a
 * heading that exists, with the anchor GitHub makes of it. Links inside code are not links.
 * Also: a repository path the documentation names in code (`src/http/errors.ts`) exists — a file
 * moved or removed leaves no stale name behind (CHANGELOG.md, a history, may name old files).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function markdownFiles(): string[] {
  const top = ['README.md', 'CONTRIBUTING.md', 'CHANGELOG.md'].map((name) => join(ROOT, name)).filter((path) => existsSync(path));
  const below = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return below(path);
      return entry.name.endsWith('.md') ? [path] : [];
    });
  return [...top, ...below(join(ROOT, 'docs'))];
}

/** The text outside fenced code blocks and inline code spans, line for line. */
function proseOf(markdown: string): string {
  let fenced = false;
  return markdown
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        fenced = !fenced;
        return '';
      }
      return fenced ? '' : line.replace(/(`+)[\s\S]*?\1/g, '');
    })
    .join('\n');
}

/** Link targets: inline links and images `[text](target "title")`, and reference definitions `[x]: target`. */
function linkTargets(markdown: string): string[] {
  const prose = proseOf(markdown);
  const targets: string[] = [];
  for (const match of prose.matchAll(/\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+"[^"]*")?\s*\)/g)) {
    targets.push((match[1] ?? '').replace(/^<|>$/g, ''));
  }
  for (const match of prose.matchAll(/^\s{0,3}\[[^\]]+\]:\s*(\S+)/gm)) targets.push(match[1] ?? '');
  return targets;
}

/** The anchor GitHub gives a heading (github-slugger): lower case, punctuation dropped, spaces to hyphens. */
function slugOf(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/<[^>]+>/g, '')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '').replace(/ /g, '-');
}

/** Every anchor a Markdown file offers: its headings' slugs (repeats numbered as GitHub does) and HTML ids. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    if (fenced) continue;
    const heading = /^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const slug = slugOf(heading[1] ?? '');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  for (const match of markdown.matchAll(/<a\s[^>]*(?:id|name)="([^"]+)"/g)) anchors.add(match[1] ?? '');
  return anchors;
}

/** What is wrong with each relative link of `file`: a missing file or folder, or a missing heading. */
function brokenLinks(file: string): string[] {
  const markdown = readFileSync(file, 'utf8');
  const broken: string[] = [];
  for (const target of linkTargets(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue; // https:, mailto:, …
    const [pathPart = '', anchor] = target.split('#', 2);
    const path = decodeURIComponent(pathPart.split('?')[0] ?? '');
    const resolved = path === '' ? file : resolve(dirname(file), path);
    if (!existsSync(resolved)) {
      broken.push(`${target}: no such file or folder (${relative(ROOT, resolved)})`);
      continue;
    }
    if (anchor === undefined || anchor === '' || !resolved.endsWith('.md') || statSync(resolved).isDirectory()) continue;
    if (!anchorsOf(readFileSync(resolved, 'utf8')).has(decodeURIComponent(anchor).toLowerCase())) {
      broken.push(`${target}: no heading with the anchor #${anchor} in ${relative(ROOT, resolved)}`);
    }
  }
  return broken;
}

const REPOSITORY_FOLDERS = ['src', 'test', 'scripts', 'bench', 'web', 'api', 'docs'];

/** Repository paths named in code spans (`src/x.ts`, `test/a/{b,c}.test.ts` expanded); patterns and placeholders are skipped. */
function namedPaths(markdown: string): string[] {
  const paths: string[] = [];
  for (const match of markdown.matchAll(/`([^`\s]+)`/g)) {
    const token = (match[1] ?? '').replace(/[:#].*$/, '');
    if (!REPOSITORY_FOLDERS.some((folder) => token.startsWith(`${folder}/`))) continue;
    const braces = /\{([^{}]+)\}/.exec(token);
    const expanded = braces ? (braces[1] ?? '').split(',').map((part) => token.replace(braces[0], part)) : [token];
    paths.push(...expanded.filter((path) => !/[*<>…{}]/.test(path)));
  }
  return paths;
}

describe('links in the Markdown files', () => {
  const files = markdownFiles();

  it('finds the documentation', () => {
    const names = files.map((file) => relative(ROOT, file));
    for (const name of ['README.md', 'CONTRIBUTING.md', 'docs/api.md', 'docs/architecture.md', 'docs/configuration.md']) {
      expect(names).toContain(name);
    }
  });

  it.each(files.map((file) => [relative(ROOT, file), file]))('%s: every relative link resolves', (_name, file) => {
    expect(brokenLinks(file)).toEqual([]);
  });

  const current = files.filter((file) => !file.endsWith('CHANGELOG.md'));
  it.each(current.map((file) => [relative(ROOT, file), file]))('%s: every repository path it names exists', (_name, file) => {
    const missing = namedPaths(readFileSync(file, 'utf8')).filter((path) => !existsSync(join(ROOT, path)));
    expect(missing, 'paths named in code spans that do not exist (moved or removed? fix the name)').toEqual([]);
  });
});

describe('the link reader', () => {
  it('reads inline links, images and reference definitions, not code', () => {
    const markdown = [
      'See [the API](docs/api.md#routes) and ![a chart](img/chart.png "Chart").',
      '[ref]: ../other.md',
      'Not `[code](nowhere.md)`.',
      '```',
      '[fenced](nowhere.md)',
      '```',
      '[angle](<with space.md>)',
    ].join('\n');
    expect(linkTargets(markdown)).toEqual(['docs/api.md#routes', 'img/chart.png', 'with space.md', '../other.md']);
  });

  it('finds the repository paths named in code spans', () => {
    const markdown =
      'See `src/http/errors.ts`, `test/http/{access,cors}.test.ts`, `src/x.ts:12`, `life_<id>:meta`, `src/**/*.ts`, `npm test`.';
    expect(namedPaths(markdown)).toEqual(['src/http/errors.ts', 'test/http/access.test.ts', 'test/http/cors.test.ts', 'src/x.ts']);
  });

  it('makes the anchors GitHub makes', () => {
    expect(slugOf('8. Creating pets, owners, social')).toBe('8-creating-pets-owners-social');
    expect(slugOf('Compare-and-set (`src/storage/cas-script.ts`)')).toBe('compare-and-set-srcstoragecas-scriptts');
    expect(slugOf('Batch: many pets in one request')).toBe('batch-many-pets-in-one-request');
    expect(slugOf('[`src/engine/`](../src/engine) — the pure life model')).toBe('srcengine--the-pure-life-model');
    const anchors = anchorsOf('# Title\n## Notes\n```\n## not a heading\n```\n## Notes\n<a id="here"></a>');
    expect([...anchors].sort()).toEqual(['here', 'notes', 'notes-1', 'title']);
  });
});
