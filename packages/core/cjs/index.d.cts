import type dgram from '../dist/index.js' with { 'resolution-mode': 'import' };
declare const core: typeof dgram;
export = core;
