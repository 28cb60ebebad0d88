// The end of `pnpm bench`: reads each package's bench/results.json and
// writes the results where a reader meets them: a markdown table in the root
// README (between <!-- bench:start --> and <!-- bench:end -->) and a bar
// chart, docs/bench.svg, of the ratios against node:dgram and against the C
// reference. Both name the machine the figures came from.
//
//   tsx scripts/bench-report.ts
//
// Every ratio is shown as "times as much as the baseline", higher is better:
// a throughput ratio as it is, a CPU-per-datagram ratio inverted (datagrams
// per CPU-second). The benches' own verdicts on their targets are kept.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const START = '<!-- bench:start -->';
export const END = '<!-- bench:end -->';

const THROUGHPUT = 'datagrams/s';
const PER_CPU = 'datagrams per CPU-second';

/** A ratio as the benches write it (core and multicast give `metric`; rx and streams give speeds). */
export interface BenchRatio {
  label: string;
  value: number;
  path?: string;
  size?: number;
  metric?: 'pps' | 'cpuPerDatagram';
  pass?: boolean;
  goal?: number | { op: string; value: number };
  verdict?: string;
}

/** What the report reads of a bench's results.json. */
export interface BenchResults {
  date?: string;
  node?: string;
  kernel?: string;
  cpus?: string[];
  loadavg?: number[];
  backend?: string;
  ratios?: BenchRatio[];
}

export interface Row {
  pkg: string;
  path: string;
  size: number;
  /** The comparison, as the bench labels it, without the metric. */
  what: string;
  against: 'node:dgram' | 'C reference' | 'udpkit';
  measure: string;
  /** How many times as much as the baseline the udpkit side gets: higher is better. */
  times: number;
  verdict: string;
}

export interface Machine {
  cpu: string;
  cores: number | undefined;
  kernel: string;
  node: string;
  from: string | undefined;
  to: string | undefined;
  backend: string | undefined;
  loadavg: number[] | undefined;
}

/** One bench's results as rows. */
export function rowsOf(pkg: string, results: BenchResults): Row[] {
  return (results.ratios ?? []).map((ratio) => {
    const { label, measure } = splitLabel(ratio.label);
    // core and multicast say which metric the ratio divides; rx and streams give speeds.
    const cpu = ratio.metric === 'cpuPerDatagram';
    const pps = ratio.metric === 'pps';
    return {
      pkg,
      path: ratio.path ?? 'receive',
      size: ratio.size ?? 64,
      what: label,
      against: baselineOf(label),
      measure: cpu ? PER_CPU : pps ? THROUGHPUT : (measure ?? PER_CPU),
      times: cpu ? 1 / ratio.value : ratio.value,
      verdict: verdictOf(ratio),
    };
  });
}

/** "sendMany / C sendmmsg (datagrams/s)" → the comparison, and the metric its parentheses name. */
function splitLabel(label: string): { label: string; measure: string | undefined } {
  const match = /^(.*?)\s*\(([^()]*)\)$/.exec(label);
  if (!match) return { label, measure: undefined };
  const named = match[2]!;
  const measure = /CPU/.test(named) ? PER_CPU : /throughput|datagrams\/s/.test(named) ? THROUGHPUT : undefined;
  return { label: match[1]!, measure };
}

/** What a ratio is measured against, from the part of its label after " / " or " vs ". */
function baselineOf(label: string): Row['against'] {
  const baseline = label.split(/ \/ | vs /)[1] ?? '';
  if (/node:dgram/.test(baseline)) return 'node:dgram';
  if (/(^|\s)C\s/.test(baseline)) return 'C reference';
  return 'udpkit';
}

function verdictOf(ratio: BenchRatio): string {
  if (typeof ratio.verdict === 'string') return ratio.verdict;
  if (typeof ratio.pass === 'boolean') return ratio.pass ? 'PASS' : 'MISS';
  if (typeof ratio.goal === 'number') return ratio.value >= ratio.goal ? 'PASS' : 'MISS';
  return '';
}

/** The machine, from the results' own records: CPU, cores, kernel, Node, dates, load average. */
export function machineOf(resultsByPackage: Record<string, BenchResults>): Machine {
  const all = Object.values(resultsByPackage);
  const first = <K extends keyof BenchResults>(key: K): BenchResults[K] => all.map((r) => r[key]).find((v) => v !== undefined);
  const cpus = first('cpus');
  const dates = all.flatMap((r) => (r.date ? [r.date] : [])).sort();
  const loads = all.flatMap((r) => (Array.isArray(r.loadavg) ? [r.loadavg] : []));
  return {
    cpu: cpus?.[0] ?? 'unknown CPU',
    cores: cpus?.length,
    kernel: first('kernel') ?? 'unknown kernel',
    node: first('node') ?? 'unknown Node',
    from: dates[0],
    to: dates.at(-1),
    backend: first('backend'),
    // The highest of the benches' load averages: the one that disturbed them most.
    loadavg: loads.length ? loads.reduce((a, b) => (b[0]! > a[0]! ? b : a)) : undefined,
  };
}

/** The machine in two parts: what it is, and when and how busy it was. */
function machineLines(m: Machine): [string, string] {
  const cores = m.cores ? `, ${m.cores} cores` : '';
  const when = m.from === m.to ? day(m.from) : `${day(m.from)} to ${day(m.to)}`;
  const load = m.loadavg ? `, load average ${m.loadavg.map((l) => l.toFixed(2)).join(' / ')} (1/5/15 min)` : '';
  const backend = m.backend ? `, backend ${m.backend}` : '';
  return [`${m.cpu}${cores}, Linux ${m.kernel}, Node ${m.node}`, `${when}${load}${backend}`];
}

function describeMachine(m: Machine): string {
  return machineLines(m).join(', ');
}

function day(iso: string | undefined): string {
  return iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : 'unknown date';
}

const x = (times: number): string => `${times.toFixed(2)}×`;

/** The README's part: what ran where, then one table row per ratio. */
export function markdown(rows: Row[], machine: Machine, notes: string[] = []): string {
  const lines = [
    `Measured by \`pnpm bench\` on ${describeMachine(machine)}.`,
    'Each figure is how many times as much as the baseline the udpkit side gets, measured side by side in one run',
    '(higher is better): datagrams per second, or datagrams per CPU-second (the inverse of CPU time per datagram).',
    'Chart: [docs/bench.svg](docs/bench.svg).',
    '',
    '| package | path | size | comparison | against | measure | udpkit gets | target |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.pkg} | ${r.path} | ${r.size} B | ${escapeCell(r.what)} | ${r.against} | ${r.measure} | ${x(r.times)} | ${r.verdict} |`),
  ];
  for (const note of notes) lines.push('', note);
  return lines.join('\n');
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|');
}

/** Results more than this older than the newest come from an earlier run (a bench that was skipped this time). */
const STALE_MS = 6 * 60 * 60 * 1000;

/** What a reader must know about the set of results: packages without any, and results from an earlier run. */
export function notesOn(found: Record<string, BenchResults>, missing: string[]): string[] {
  const notes = missing.length ? [`No results from: ${missing.join(', ')}.`] : [];
  const time = (r: BenchResults) => (r.date ? Date.parse(r.date) : Number.NaN);
  const newest = Math.max(...Object.values(found).map(time).filter((t) => !Number.isNaN(t)));
  const stale = Object.entries(found).filter(([, r]) => !(newest - time(r) <= STALE_MS));
  if (stale.length) notes.push(`From an earlier run than the rest: ${stale.map(([name, r]) => `${name} (${day(r.date)})`).join(', ')}.`);
  return notes;
}

/** Replaces what lies between the markers; the markers must be there, once each. */
export function replaceBetweenMarkers(readme: string, content: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start || readme.indexOf(START, start + 1) >= 0) {
    throw new Error(`the README needs one ${START} followed by one ${END}`);
  }
  return `${readme.slice(0, start + START.length)}\n${content}\n${readme.slice(end)}`;
}

const COLORS: Record<string, string> = { 'node:dgram': '#2f6db5', 'C reference': '#d9822b' };
const ROW = 22;
const LABEL_WIDTH = 520;
const BAR_WIDTH = 380;
const TOP = 88;
const SHORT_MEASURE: Record<string, string> = { [THROUGHPUT]: 'per s', [PER_CPU]: 'per CPU-s' };

/** A horizontal bar chart of the ratios against node:dgram and the C reference, with a line at 1×. */
export function svg(rows: Row[], machine: Machine): string {
  const charted = rows.filter((r) => r.against in COLORS);
  const scaleMax = Math.max(2, Math.ceil(Math.max(0, ...charted.map((r) => r.times)) * 2) / 2);
  const px = (times: number): number => (times / scaleMax) * BAR_WIDTH;
  const width = LABEL_WIDTH + BAR_WIDTH + 70;
  const height = TOP + charted.length * ROW + 40;
  const parity = LABEL_WIDTH + px(1);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">udpkit: times as much as the baseline (higher is better)</text>`,
    ...machineLines(machine).map((line, i) => `<text x="10" y="${38 + i * 15}" fill="#555555">${escapeXml(line)}</text>`),
    `<rect x="10" y="64" width="10" height="10" fill="${COLORS['node:dgram']}"/><text x="24" y="73">against node:dgram</text>`,
    `<rect x="150" y="64" width="10" height="10" fill="${COLORS['C reference']}"/><text x="164" y="73">against the C reference (sendmmsg / recvmmsg)</text>`,
    `<text x="480" y="73" fill="#555555">per s: datagrams per second; per CPU-s: datagrams per CPU-second</text>`,
  ];
  charted.forEach((r, i) => {
    const y = TOP + i * ROW;
    const label = `${r.pkg}: ${r.what}, ${r.size} B, ${SHORT_MEASURE[r.measure] ?? r.measure}`;
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${y + 14}" text-anchor="end">${escapeXml(label)}</text>`,
      `<rect class="bar" x="${LABEL_WIDTH}" y="${y + 4}" width="${px(r.times).toFixed(1)}" height="${ROW - 8}" fill="${COLORS[r.against]}" data-ratio="${r.times.toFixed(4)}"/>`,
      `<text x="${(LABEL_WIDTH + px(r.times) + 5).toFixed(1)}" y="${y + 14}">${x(r.times)}</text>`,
    );
  });
  const bottom = TOP + charted.length * ROW;
  parts.push(
    `<line x1="${parity.toFixed(1)}" y1="${TOP - 4}" x2="${parity.toFixed(1)}" y2="${bottom + 4}" stroke="#333333" stroke-dasharray="4 3"/>`,
    `<text x="${parity.toFixed(1)}" y="${bottom + 18}" text-anchor="middle">1× (as fast as the baseline)</text>`,
    `<text x="${LABEL_WIDTH + BAR_WIDTH}" y="${bottom + 18}" text-anchor="end">${x(scaleMax)}</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&apos;');
}

/** Reads `packages/<name>/bench/results.json` under `root`; names without one are `missing`. */
export function readResults(root: string): { found: Record<string, BenchResults>; missing: string[] } {
  const found: Record<string, BenchResults> = {};
  const missing: string[] = [];
  for (const name of readdirSync(join(root, 'packages')).sort(byLayer)) {
    if (!existsSync(join(root, 'packages', name, 'bench'))) continue;
    const file = join(root, 'packages', name, 'bench', 'results.json');
    if (existsSync(file)) found[name] = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
    else missing.push(name);
  }
  return { found, missing };
}

/** core first, then the layers on it. */
function byLayer(a: string, b: string): number {
  return (a === 'core' ? -1 : b === 'core' ? 1 : 0) || a.localeCompare(b);
}

/** Writes the README table and docs/bench.svg under `root`; returns what it wrote. */
export function report(root: string): { rows: Row[]; machine: Machine; notes: string[]; written: string[] } {
  const { found, missing } = readResults(root);
  if (Object.keys(found).length === 0) throw new Error('no bench/results.json in any package: run the benches first (`pnpm bench`)');
  const rows = Object.entries(found).flatMap(([pkg, results]) => rowsOf(pkg, results));
  const machine = machineOf(found);
  const readmePath = join(root, 'README.md');
  const notes = notesOn(found, missing);
  writeFileSync(readmePath, replaceBetweenMarkers(readFileSync(readmePath, 'utf8'), markdown(rows, machine, notes)));
  const svgPath = join(root, 'docs', 'bench.svg');
  writeFileSync(svgPath, svg(rows, machine));
  return { rows, machine, notes, written: [readmePath, svgPath].map((p) => relative(root, p)) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const { rows, notes, written } = report(root);
  console.log(`bench report: ${rows.length} ratios; wrote ${written.join(' and ')}`);
  for (const note of notes) console.log(note);
}
