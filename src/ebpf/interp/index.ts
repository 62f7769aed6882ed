/** The reference interpreter's public surface. */
export { createMapRuntime, MapRuntime, type MapEntryDump, type PerfRecord } from './map-runtime.js';
export { runProgram, alu32, alu64, type RunOptions, type RunResult, type RedirectInfo } from './run-program.js';
