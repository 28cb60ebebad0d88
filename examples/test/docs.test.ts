// The documentation a newcomer meets: every package README installs,
// shows a runnable example, names every export, and tells the backend
// story; nothing in the repository points at files outside it.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const PACKAGES = ['core', 'rx', 'streams', 'multicast'];

/** The names `src/index.ts` exports (values and types). */
function exportedNames(pkg: string): string[] {
  const source = readFileSync(join(root, 'packages', pkg, 'src', 'index.ts'), 'utf8');
  const names = new Set<string>();
  for (const [, list] of source.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const item of list!.split(',')) {
      const name = item.replace(/^\s*type\s+/, '').split(/\s+as\s+/).pop()!.trim();
      if (name) names.add(name);
    }
  }
  for (const [, name] of source.matchAll(/export\s+(?:declare\s+)?(?:async\s+)?(?:function|const|class|interface|type)\s+([A-Za-z_$][\w$]*)/g)) names.add(name!);
  return [...names].sort();
}

describe('package READMEs', () => {
  for (const pkg of PACKAGES) {
    const readme = () => readFileSync(join(root, 'packages', pkg, 'README.md'), 'utf8');

    it(`${pkg}: names every export of src/index.ts`, () => {
      const names = exportedNames(pkg);
      expect(names.length).toBeGreaterThan(3);
      const text = readme();
      const missing = names.filter((name) => !new RegExp(`(?<![\\w$])${name.replace("$", "\\$")}(?![\\w$])`).test(text));
      expect(missing).toEqual([]);
    });

    it(`${pkg}: has the install command, a TypeScript example and the backend story`, () => {
      const text = readme();
      const dependencies = pkg === 'rx' ? `@udpkit/rx rxjs` : `@udpkit/${pkg}`;
      expect(text).toContain(`npm install ${dependencies}`);
      expect(text).toMatch(/```ts\n[\s\S]*?from '@udpkit\//);
      expect(text).toMatch(/^#{2,3} Backends?\b/m);
      expect(text).toMatch(/portable/);
    });
  }
});

describe('links', () => {
  it('every relative markdown link in the READMEs and docs/ points at a file of the repository', () => {
    const files = execFileSync('git', ['ls-files', '*.md'], { cwd: root, encoding: 'utf8' }).split('\n').filter((f) => f && !f.startsWith('.changeset/'));
    const broken: string[] = [];
    for (const file of files) {
      for (const [, target] of readFileSync(join(root, file), 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!) || target!.startsWith('#')) continue;
        const path = resolve(root, dirname(file), target!.split('#')[0]!);
        if (!path.startsWith(root) || !existsSync(path)) broken.push(`${file} -> ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('nothing in the repository refers to files outside it (the design lives in docs/ARCHITECTURE.md)', () => {
    // git grep over tracked files; exit status 1 means no match. The
    // patterns are built here so that this file does not match itself.
    const patterns = ['/work' + '/', 'shared' + '/DESIGN', 'DESIGN' + '.md', '\\.\\./shared' + '/'];
    const grep = spawnSync('git', ['grep', '-n', '-E', patterns.join('|'), '--', '.', ':!pnpm-lock.yaml'], { cwd: root, encoding: 'utf8' });
    expect(grep.stderr).toBe('');
    expect(grep.stdout).toBe('');
    expect(grep.status).toBe(1);
  }, 20_000);
});
