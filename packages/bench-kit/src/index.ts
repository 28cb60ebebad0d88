export { nodeChild, type Child } from './child.js';
export { BenchNamespace, type ChildSpec, type NamespaceOptions } from './namespace.js';
export { reference } from './references.js';
export { machine, writeResults } from './results.js';
export { preflight, runBench } from './run.js';
export { median, perRoundRatios, rotate } from './stats.js';
export { fmt, table } from './table.js';
