/**
 * The one diagnostic shape every layer reports through.
 *
 * Every problem nicoff reports to a user has a stable code from the catalogue
 * (catalogue.ts), a category that fixes the exit status, and a location that
 * says where it was found: a file offset for malformed input, an instruction
 * index and source line for programs.
 */
import { CATALOGUE, type DiagnosticCode, type DiagnosticCategory } from './catalogue.js';

export interface DiagnosticLocation {
  /** Path of the input file, when there is one. */
  file?: string;
  /** Byte offset inside the file (loader, pcap reader). */
  offset?: number;
  /** 1-based line inside a text input file (assembly, word lists, key logs). */
  line?: number;
  /** ELF section name, program or map name. */
  section?: string;
  /** eBPF instruction index within the program. */
  insn?: number;
  /** Source position from BTF line info. */
  source?: { file: string; line: number; column?: number; text?: string };
  /** Packet number (1-based) in a capture. */
  packet?: number;
}

export interface Diagnostic {
  code: DiagnosticCode;
  category: DiagnosticCategory;
  message: string;
  location: DiagnosticLocation;
  notes?: string[];
}

/** Exit statuses, documented in `nicoff --help`. */
export const EXIT = {
  ok: 0,
  /** The program was rejected, or a check (verification, comparison) failed. */
  rejected: 1,
  /** Bad input or usage: malformed file, wrong option. */
  badInput: 2,
  /** A bug in nicoff. */
  internal: 3,
} as const;

export function exitStatusFor(category: DiagnosticCategory): number {
  switch (category) {
    case 'input':
    case 'usage':
      return EXIT.badInput;
    case 'invalid':
    case 'unsupported-nfp':
      return EXIT.rejected;
    case 'internal':
      return EXIT.internal;
  }
}

/** Fill a catalogue template: `{name}` placeholders from `args`. */
function format(template: string, args: Record<string, string | number | bigint>): string {
  return template.replace(/\{(\w+)\}/g, (m, k: string) => (k in args ? String(args[k]) : m));
}

export function makeDiagnostic(
  code: DiagnosticCode,
  args: Record<string, string | number | bigint> = {},
  location: DiagnosticLocation = {},
  notes?: string[],
): Diagnostic {
  const entry = CATALOGUE[code];
  const d: Diagnostic = { code, category: entry.category, message: format(entry.message, args), location };
  if (notes && notes.length) d.notes = notes;
  return d;
}

/** Thrown by parsers and loaders; the CLI turns it into one line and an exit status. */
export class NicoffError extends Error {
  readonly diagnostic: Diagnostic;
  constructor(diagnostic: Diagnostic) {
    super(`${diagnostic.code}: ${diagnostic.message}`);
    this.name = 'NicoffError';
    this.diagnostic = diagnostic;
  }
}

export function fail(
  code: DiagnosticCode,
  args: Record<string, string | number | bigint> = {},
  location: DiagnosticLocation = {},
): never {
  throw new NicoffError(makeDiagnostic(code, args, location));
}

/** One-line rendering: `NC1001 prog.o+0x40 (section .BTF): message`. */
export function formatDiagnostic(d: Diagnostic): string {
  const where: string[] = [];
  const l = d.location;
  if (l.file) where.push(l.offset !== undefined ? `${l.file}+0x${l.offset.toString(16)}` : l.line !== undefined ? `${l.file}:${l.line}` : l.file);
  else if (l.line !== undefined) where.push(`line ${l.line}`);
  else if (l.offset !== undefined) where.push(`offset 0x${l.offset.toString(16)}`);
  if (l.section) where.push(`section ${l.section}`);
  if (l.insn !== undefined) where.push(`insn ${l.insn}`);
  if (l.source) where.push(`${l.source.file}:${l.source.line}`);
  if (l.packet !== undefined) where.push(`packet ${l.packet}`);
  return `${d.code}${where.length ? ' ' + where.join(', ') : ''}: ${d.message}`;
}
