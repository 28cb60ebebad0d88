// scripts/bench-report.ts on fixture results in the shapes the benches write
// (test/fixtures/bench/<package>.json): the README table and the SVG chart.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { END, markdown, machineOf, notesOn, replaceBetweenMarkers, report, rowsOf, START, svg } from '../../scripts/bench-report.js';

const fixtures = fileURLToPath(new URL('fixtures/bench/', import.meta.url));
const fixture = (name: string) => JSON.parse(readFileSync(join(fixtures, `${name}.json`), 'utf8'));

const README = `# project\n\nintro\n\n## Benchmarks\n\n${START}\nold table\n${END}\n\n## After\n\nkept\n`;

/** A repository root with the fixtures as packages' bench results; multicast has a bench but no results. */
function makeRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'bench-report-'));
  for (const name of ['core', 'rx', 'streams', 'multicast']) {
    mkdirSync(join(root, 'packages', name, 'bench'), { recursive: true });
    if (name !== 'multicast') writeFileSync(join(root, 'packages', name, 'bench', 'results.json'), readFileSync(join(fixtures, `${name}.json`)));
  }
  mkdirSync(join(root, 'packages', 'no-bench'));
  mkdirSync(join(root, 'docs'));
  writeFileSync(join(root, 'README.md'), README);
  return root;
}

/**
 * Checks that `xml` is well-formed for what an SVG file uses: one root
 * element, every tag closed in order, attributes quoted, no bare `&` or `<`.
 * Returns the element names in document order.
 */
function parseXml(xml: string): string[] {
  const names: string[] = [];
  const open: string[] = [];
  let roots = 0;
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  for (const [token] of body.matchAll(/<[^>]*>|[^<]+/g)) {
    if (!token.startsWith('<')) {
      if (open.length === 0 && token.trim()) throw new Error(`text outside the root element: ${token}`);
      if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(token)) throw new Error(`bare & in ${token}`);
      continue;
    }
    const close = /^<\/([A-Za-z][\w:.-]*)\s*>$/.exec(token);
    if (close) {
      if (open.pop() !== close[1]) throw new Error(`</${close[1]}> closes nothing open`);
      continue;
    }
    const tag = /^<([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<&]*(?:&(?:amp|lt|gt|quot|apos);[^"<&]*)*")*)\s*(\/?)>$/.exec(token);
    if (!tag) throw new Error(`malformed tag ${token}`);
    const attributes = [...tag[2]!.matchAll(/([\w:.-]+)=/g)].map((m) => m[1]);
    if (new Set(attributes).size !== attributes.length) throw new Error(`repeated attribute in ${token}`);
    if (open.length === 0 && ++roots > 1) throw new Error('more than one root element');
    names.push(tag[1]!);
    if (!tag[3]) open.push(tag[1]!);
  }
  if (open.length) throw new Error(`unclosed: ${open.join(', ')}`);
  if (roots !== 1) throw new Error('no root element');
  return names;
}

describe('bench report', () => {
  let root: string;
  beforeEach(() => {
    root = makeRoot();
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('the README table: one row per ratio, as "times as much as the baseline" (CPU ratios inverted), with the benches\' verdicts', () => {
    report(root);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const rows = readme.split('\n').filter((line) => /^\| (core|rx|streams|multicast) \|/.test(line));
    expect(rows).toEqual([
      '| core | send | 64 B | sendMany / C sendmmsg | C reference | datagrams/s | 0.90× | MISS |',
      '| core | send | 64 B | send() / node:dgram | node:dgram | datagrams/s | 1.50× | PASS |',
      "| core | receive | 64 B | 'message' / node:dgram | node:dgram | datagrams per CPU-second | 2.00× | PASS |",
      "| core | receive | 1200 B | 'messages' / C recvmmsg | C reference | datagrams per CPU-second | 0.80× |  |",
      '| rx | receive | 64 B | fromSocket pipeline vs fromEvent(node:dgram) pipeline | node:dgram | datagrams per CPU-second | 2.50× | PASS |',
      '| rx | receive | 64 B | fromSocket pipeline vs plain listener | udpkit | datagrams per CPU-second | 0.80× | MISS |',
      '| streams | send | 64 B | writable / node:dgram send() | node:dgram | datagrams/s | 1.75× | PASS |',
      "| streams | saturate | 64 B | readable.pipeTo / core 'message' | udpkit | datagrams/s | 0.70× | flood-limited |",
    ]);
  });

  it('the README: the machine, the packages without results, and nothing outside the markers changed', () => {
    report(root);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain(
      'Measured by `pnpm bench` on Test CPU @ 2.00GHz, 2 cores, Linux 6.1.0-test, Node v20.20.2, ' +
        '2026-11-26 09:10 UTC to 2026-11-26 09:14 UTC, load average 3.00 / 2.00 / 1.00 (1/5/15 min), backend native.',
    );
    expect(readme).toContain('No results from: multicast.');
    expect(readme).not.toContain('old table');
    const [before, rest] = readme.split(START);
    const after = rest!.split(END)[1];
    expect(before).toBe(README.split(START)[0]);
    expect(after).toBe(README.split(END)[1]);
    // Run twice, the same README: the markers stay, once each.
    report(root);
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toBe(readme);
  });

  it('says which results come from an earlier run than the rest (a bench skipped this time), and which are missing', () => {
    const rx = fixture('rx');
    expect(notesOn({ core: fixture('core'), rx }, [])).toEqual([]);
    // Six hours older than the newest (core's, 09:10) still counts as the same run; more does not.
    expect(notesOn({ core: fixture('core'), rx: { ...rx, date: '2026-11-26T03:10:00.000Z' } }, [])).toEqual([]);
    expect(notesOn({ core: fixture('core'), rx: { ...rx, date: '2026-11-26T03:09:59.000Z' } }, ['multicast'])).toEqual([
      'No results from: multicast.',
      'From an earlier run than the rest: rx (2026-11-26 03:09 UTC).',
    ]);
    // A file without a date can't be placed: it is said too.
    expect(notesOn({ core: fixture('core'), rx: { ...rx, date: undefined } }, [])).toEqual(['From an earlier run than the rest: rx (unknown date).']);
  });

  it('the chart: well-formed SVG with one bar per ratio against node:dgram or the C reference, each as long as its ratio', () => {
    report(root);
    const chart = readFileSync(join(root, 'docs', 'bench.svg'), 'utf8');
    const elements = parseXml(chart);
    expect(elements[0]).toBe('svg');
    const bars = [...chart.matchAll(/<rect class="bar"[^>]*width="([\d.]+)"[^>]*data-ratio="([\d.]+)"/g)].map((m) => ({ width: Number(m[1]), ratio: Number(m[2]) }));
    // core 4, rx 1 (the other is against udpkit itself), streams 1 (likewise).
    expect(bars.map((b) => b.ratio)).toEqual([0.9, 1.5, 2, 0.8, 2.5, 1.75]);
    // One scale for all bars: width proportional to the ratio.
    const perUnit = bars[0]!.width / bars[0]!.ratio;
    for (const bar of bars) expect(bar.width).toBeCloseTo(bar.ratio * perUnit, 0);
    expect(chart).toContain('>2.50×</text>');
    expect(chart).toContain('1× (as fast as the baseline)');
    // The machine line is escaped text (the CPU model has an @; a & would be escaped).
    expect(chart).toContain('Test CPU @ 2.00GHz, 2 cores, Linux 6.1.0-test');
  });

  it('escapes what XML and markdown cannot hold as is', () => {
    const rows = rowsOf('core', { ratios: [{ path: 'send', size: 64, label: 'a <b> & "c" | d / node:dgram (datagrams/s)', metric: 'pps', value: 1.2 }] });
    const machine = machineOf({ core: { cpus: ['R&D <CPU>'], kernel: 'k', node: 'n', date: '2026-01-01T00:00:00Z' } });
    expect(() => parseXml(svg(rows, machine))).not.toThrow();
    expect(svg(rows, machine)).toContain('R&amp;D &lt;CPU&gt;');
    expect(markdown(rows, machine)).toContain('| a <b> & "c" \\| d / node:dgram | node:dgram |');
  });

  it('the well-formedness check itself refuses broken XML', () => {
    expect(() => parseXml('<svg><g></svg>')).toThrow();
    expect(() => parseXml('<svg><text>a & b</text></svg>')).toThrow();
    expect(() => parseXml('<svg width=1></svg>')).toThrow();
    expect(() => parseXml('<svg/><svg/>')).toThrow();
  });

  it('refuses a README without its markers, and a root without any results', () => {
    expect(() => replaceBetweenMarkers('# no markers\n', 'x')).toThrow(/needs one <!-- bench:start -->/);
    expect(() => replaceBetweenMarkers(`${END}\n${START}\n`, 'x')).toThrow();
    expect(() => replaceBetweenMarkers(`${START}\n${START}\n${END}\n`, 'x')).toThrow();
    for (const name of ['core', 'rx', 'streams']) rmSync(join(root, 'packages', name, 'bench', 'results.json'));
    expect(() => report(root)).toThrow(/no bench\/results\.json in any package/);
  });

  it("reads each fixture's machine fields as the benches write them", () => {
    expect(machineOf({ core: fixture('core') })).toEqual({
      cpu: 'Test CPU @ 2.00GHz',
      cores: 2,
      kernel: '6.1.0-test',
      node: 'v20.20.2',
      from: '2026-11-26T09:10:00.000Z',
      to: '2026-11-26T09:10:00.000Z',
      backend: 'native',
      loadavg: [1.5, 1.25, 1],
    });
  });
});
