/**
 * The verifier's entry point (contract in verify-types.ts): the control-flow
 * pre-passes, then abstract interpretation of every path (explore.ts), then
 * the call-chain stack limit, then, for the nfp target, the offload's own
 * refusals. A refusal names the instruction and its source line and carries
 * the kernel's wording for the same problem.
 */
import { makeDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { DiagnosticCode } from '../diagnostics/catalogue.js';
import { hasContextRules } from './context-access.js';
import { checkControlFlow } from './control-flow.js';
import { Explorer } from './explore.js';
import { checkNfpTarget } from './nfp-target.js';
import { VerifyRefusal } from './verifier-env.js';
import { formatStats } from './verifier-log.js';
import type { VerifyInput, VerifyOptions, VerifyResult, VerifyStats } from './verify-types.js';

const DEFAULT_INSN_LIMIT = 1_000_000;

function diagnosticAt(input: VerifyInput, code: DiagnosticCode, args: Record<string, string | number | bigint>, insn: number | undefined): Diagnostic {
  const source = insn !== undefined ? input.lineInfo[insn] : undefined;
  return makeDiagnostic(code, args, {
    ...(input.file !== undefined ? { file: input.file } : {}),
    ...(insn !== undefined ? { insn } : {}),
    ...(source ? { source: { file: source.file, line: source.line, column: source.column, text: source.text } } : {}),
  });
}

function emptyStats(t0: bigint): VerifyStats {
  return { processedInsns: 0, totalStates: 0, peakStates: 0, maxStatesPerInsn: 0, timeNs: Number(process.hrtime.bigint() - t0), stackDepth: [] };
}

export function verifyProgram(input: VerifyInput, options: VerifyOptions = {}): VerifyResult {
  const t0 = process.hrtime.bigint();
  const logLevel = options.logLevel ?? 0;
  const cf = checkControlFlow(input);
  if (!cf.ok) return { ok: false, error: cf.error, kernelStyle: cf.kernelStyle, stats: emptyStats(t0), log: logLevel ? [cf.kernelStyle] : [] };
  if (!hasContextRules(input.type)) {
    const text = `program type ${input.type} is not verified by nicoff`;
    return { ok: false, error: diagnosticAt(input, 'NC4086', { type: input.type }, undefined), kernelStyle: text, stats: emptyStats(t0), log: logLevel ? [text] : [] };
  }
  const explorer = new Explorer(input, cf.cfg, {
    insnLimit: options.insnLimit ?? DEFAULT_INSN_LIMIT,
    logLevel,
    unprivileged: options.unprivileged ?? false,
    strictAlignment: options.strictAlignment ?? false,
    // The NFP compiler relies on facts holding for every path, pruned or not.
    exactFacts: options.target === 'nfp',
  });
  const stats = (): VerifyStats => ({
    processedInsns: explorer.counters.processed,
    totalStates: explorer.counters.totalStates,
    peakStates: explorer.counters.peakStates,
    maxStatesPerInsn: explorer.counters.maxStatesPerInsn,
    timeNs: Number(process.hrtime.bigint() - t0),
    stackDepth: explorer.counters.subprogStack.slice(),
  });
  try {
    explorer.run();
    explorer.checkCombinedStack();
  } catch (e) {
    if (!(e instanceof VerifyRefusal)) {
      const reason = e instanceof Error ? e.message : String(e);
      return {
        ok: false,
        error: diagnosticAt(input, 'NC9001', { reason: `verifier failed at instruction ${explorer.insnIdx}: ${reason}` }, explorer.insnIdx),
        kernelStyle: reason,
        stats: stats(),
        log: explorer.log,
      };
    }
    const s = stats();
    const log = explorer.log;
    if (logLevel) log.push(...e.kernelStyle.split('\n'), ...formatStats(s));
    const kernelStyle = e.kernelStyle.split('\n').at(-1)!;
    return { ok: false, error: diagnosticAt(input, e.code, e.args, e.insn), kernelStyle, stats: s, log };
  }
  const facts = explorer.finishFacts();
  const s = stats();
  const log = explorer.log;
  if (logLevel) log.push(...formatStats(s));
  if (options.target === 'nfp') {
    const nfp = checkNfpTarget(input, facts, options.nfpCaps);
    if (!nfp.ok) return { ok: false, error: nfp.error, kernelStyle: nfp.kernelStyle, stats: s, log };
  }
  return { ok: true, stats: s, facts, log };
}
