import type dgram from '../dist/index.js';
declare const core: typeof dgram;
export = core;
