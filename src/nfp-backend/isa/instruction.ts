/**
 * The decoded form of one NFP-6xxx instruction. Sources are logical (left/right
 * as the program means them); the encoder derives the swap bit and field
 * placement with the kernel's rule, so every record has exactly one encoding.
 *
 * Optional flags (`noCc`, `predicateCc`, `loadCc`, a branch's `state`, ...) are
 * absent rather than false/undefined-valued in decoded records, so records of
 * the kernel JIT's subset look as they always did.
 */
import type { NfpOperand } from './operands.js';

/** `alu[dst, a, op, b]` operations by their 5-bit code (binutils mnemonics). */
export const ALU_OPS = {
  B: 0x00, '+': 0x01, '~B': 0x04, '+16': 0x05, AND: 0x08, '+8': 0x09, '~AND': 0x0c,
  '-carry': 0x0d, 'AND~': 0x10, '+carry': 0x11, OR: 0x14, '-': 0x15, XOR: 0x18, 'B-A': 0x19,
} as const;
/**
 * ALU operations written as their own mnemonic with the B-side operand only:
 * `pop_count3[dst, b]`, `ffs[dst, b]`, `cam_read_tag[dst, b]`, `cam_read_state[dst, b]`,
 * and `pop_count1[b]`/`pop_count2[b]` (no destination).
 */
export const ALU_UNARY_OPS = {
  pop_count3: 0x03, pop_count1: 0x06, pop_count2: 0x07, ffs: 0x0e, cam_read_tag: 0x0f, cam_read_state: 0x1f,
} as const;
export type AluBinaryOp = keyof typeof ALU_OPS;
export type AluUnaryOp = keyof typeof ALU_UNARY_OPS;
export type AluOp = AluBinaryOp | AluUnaryOp;
/** The CAM operations of the ALU class (their operands are not a dst/a/b triple). */
export const CAM_OPS = { cam_clear: 0x0b, cam_write: 0x13, cam_lookup: 0x17, cam_write_state: 0x1b } as const;
export type CamOp = keyof typeof CAM_OPS;
/** ALU operation 0x12: CRC. */
export const ALU_OP_CRC = 0x12;
/** CRC operation (A-side control bits 7:5); codes 1 and 3 are undefined. */
export const CRC_OPS = { '--': 0, crc_ccitt: 2, crc_32: 4, crc_iscsi: 5, crc_10: 6, crc_5: 7 } as const;
export type CrcOp = keyof typeof CRC_OPS;
/** CRC byte selection (control bits 2:0); 0 (`bytes_0_3`) is the default and is not printed, 7 is undefined. */
export const CRC_BYTES = ['bytes_0_3', 'bytes_1_3', 'bytes_2_3', 'byte_3', 'bytes_0_2', 'bytes_0_1', 'byte_0'] as const;
export type CrcBytes = (typeof CRC_BYTES)[number];

/** `alu_shf` operations by their 3-bit code; `asr` and `byte_align` print as their own mnemonics. */
export const SHIFT_ALU_OPS = ['B', '~B', 'AND', '~AND', 'AND~', 'OR', 'asr', 'byte_align'] as const;
export type ShiftAluOp = (typeof SHIFT_ALU_OPS)[number];

/**
 * A shift as written in the text. `amount` is the logical amount; 'indirect'
 * takes it from the previous ALU instruction's A operand (encoded amount 0).
 */
export type NfpShift =
  | { kind: 'rotate'; amount: number }
  | { kind: 'right'; amount: number | 'indirect' }
  | { kind: 'left'; amount: number | 'indirect' }
  | { kind: 'double-right'; amount: number | 'indirect' };

/**
 * Branch conditions by their 5-bit code. 16-23 test a context number, a signal,
 * an input state or a CLS ring state given in the branch's 4-bit state field.
 */
export const BRANCH_CONDITIONS = {
  beq: 0, bne: 1, bmi: 2, bpl: 3, bcs: 4, bcc: 5, bvs: 6, bvc: 7, bge: 8, blt: 9, ble: 10, bgt: 11,
  'br=ctx': 16, 'br!=ctx': 17, br_signal: 18, 'br_!signal': 19,
  br_inp_state: 20, 'br_!inp_state': 21, br_cls_state: 22, 'br_!cls_state': 23,
  br: 24,
} as const;
export type BranchCondition = keyof typeof BRANCH_CONDITIONS;
/** Conditions 16-23: the branch names a state (context, signal, input state, CLS ring). */
export function branchHasState(condition: BranchCondition): boolean {
  const code = BRANCH_CONDITIONS[condition];
  return code >= 16 && code <= 23;
}
/** NFP-6xxx input states tested by `br_inp_state` / `br_!inp_state`, by state number. */
export const BRANCH_INPUT_STATES: readonly string[] = [
  'nn_empty', 'nn_full',
  ...Array.from({ length: 14 }, (_, i) => `ctm_ring${i}_status`),
];

export const MUL_TYPES = ['start', '24x8', '16x16', '32x32'] as const;
export type MulType = (typeof MUL_TYPES)[number];
export const MUL_STEPS = ['step1', 'step2', 'step3', 'step4', 'last', 'last2'] as const;
export type MulStep = (typeof MUL_STEPS)[number];

/** Local CSR names by byte address (NFP-6xxx ME CSRs); others print as hexadecimal addresses. */
export const LOCAL_CSR_NAMES: ReadonlyMap<number, string> = new Map(
  (
    '000 UstorAddr 004 UstorDataLwr 008 UstorDataUpr 00c UstorErrStat 010 ALUOut 014 CtxArbCtrl 018 CtxEnables ' +
    '01c CondCodeEn 020 CSRCtxPtr 024 PcBreakpoint0 028 PcBreakpoint1 02c PcBreakpointStatus 030 RegErrStatus ' +
    '034 LMErrStatus 038 LMeccErrorMask 040 IndCtxStatus 044 ActCtxStatus 048 IndCtxSglEvt 04c ActCtxSglEvt ' +
    '050 IndCtxWkpEvt 054 ActCtxWkpEvt 058 IndCtxFtrCnt 05c ActCtxFtrCnt 060 IndLMAddr0 064 ActLMAddr0 ' +
    '068 IndLMAddr1 06c ActLMAddr1 070 ByteIndex 074 XferIndex 078 IndFtrCntSgl 07c ActFtrCntSgl 080 NNPut ' +
    '084 NNGet 090 IndLMAddr2 094 ActLMAddr2 098 IndLMAddr3 09c ActLMAddr3 0a0 IndLMAddr2BytIdx ' +
    '0a4 ActLMAddr2BytIdx 0a8 IndLMAddr3BytIdx 0ac ActLMAddr3BytIdx 0b0 IndPredCC 0c0 TimestampLow ' +
    '0c4 TimestampHgh 0e0 IndLMAddr0BytIdx 0e4 ActLMAddr0BytIdx 0e8 IndLMAddr1BytIdx 0ec ActLMAddr1BytIdx ' +
    '0f4 XfrAndBytIdx 100 NxtNghbrSgl 104 PrvNghbrSgl 108 SameMESignal 140 CRCRemainder 144 ProfileCnt ' +
    '148 PseudoRndNum 160 MiscControl 164 PcBreakpoint0Mask 168 PcBreakpoint1Mask 170 Mailbox0 174 Mailbox1 ' +
    '178 Mailbox2 17c Mailbox3 190 CmdIndirectRef0'
  )
    .match(/\S+ \S+/g)!
    .map((pair): [number, string] => {
      const [addr, name] = pair.split(' ') as [string, string];
      return [Number.parseInt(addr, 16), name];
    }),
);
/**
 * CSR 0x004 (UstorDataLwr): binutils prints a local_csr access to it as the
 * NFP-32xx code-store access `urd[src, *u$index0++]` / `uwr[*u$index0++, src]`.
 */
export const USTORE_CSR = 0x004;

/** CPP targets of a command, by the mnemonic the text uses. */
export const CMD_TARGETS = ['ila', 'nbi', 'pcie', 'crypto', 'arm', 'ct', 'mem', 'cls'] as const;
export type CmdTarget = (typeof CMD_TARGETS)[number];

/**
 * NFP-6xxx command mnemonics per target: `action.token=name`, with `/fixed&mask`
 * after the token where the length field selects between names (e.g. add/add64
 * by length bit 2). Names are as binutils prints them.
 */
const CMD_TABLE_TEXT: Record<CmdTarget, string> = {
  ila:
    '0.0=read 0.1=read_check_error 1.0=write 1.1=write_check_error 2.0=read_int 3.0/0&7=write_int ' +
    '3.0/3&7=write_dma',
  nbi:
    '0.0=read 1.0=write 3.0=packet_ready_drop 3.1=packet_ready_unicast 3.2=packet_ready_multicast_dont_free ' +
    '3.3=packet_ready_multicast_free_on_last',
  pcie:
    '0.0=read 0.1=read_rid 1.0=write 1.1=write_rid 1.2=write_vdm 2.0=read_int 3.0=write_int',
  crypto:
    '0.0=read 1.0=write 2.0=write_fifo',
  arm:
    '0.0=read 1.0=write',
  ct:
    '0.0=xpb_read 0.1=ring_get 0.2=interthread_signal 1.0=xpb_write 1.1=ring_put 1.2=ctnn_write ' +
    '2.0=reflect_read_none 2.1=reflect_read_sig_init 2.2=reflect_read_sig_remote 2.3=reflect_read_sig_both ' +
    '3.0=reflect_write_none 3.1=reflect_write_sig_init 3.2=reflect_write_sig_remote 3.3=reflect_write_sig_both',
  mem:
    '0.0=read 0.1=read_le 0.2=read_swap 0.3=read_swap_le 1.0=write 1.1=write_le 1.2=write_swap ' +
    '1.3=write_swap_le 2.0=write8 2.1=write8_le 2.2=write8_swap 2.3=write8_swap_le 3.0=atomic_read 3.1=read8 ' +
    '3.2=compare_write_or_incr/mask_compare_write 3.3=test_compare_write_or_incr/test_mask_compare_write ' +
    '4.0=atomic_write 4.1=swap 4.2=atomic_write_imm 4.3=swap_imm 5.0=set 5.1=test_set 5.2=set_imm ' +
    '5.3=test_set_imm 6.0=clr 6.1=test_clr 6.2=clr_imm 6.3=test_clr_imm 7.0/0&4=add 7.0/4&4=add64 ' +
    '7.1/0&4=test_add 7.1/4&4=test_add64 7.2/0&4=add_imm 7.2/4&4=add64_imm 7.3/0&4=test_add_imm ' +
    '7.3/4&4=test_add64_imm 8.0/0&4=addsat 8.0/4&4=addsat64 8.1/0&4=test_addsat 8.1/4&4=test_addsat64 ' +
    '8.2/0&4=addsat_imm 8.2/4&4=addsat64_imm 8.3/0&4=test_addsat_imm 8.3/4&4=test_addsat64_imm 9.0/0&4=sub ' +
    '9.0/4&4=sub64 9.1/0&4=test_sub 9.1/4&4=test_sub64 9.2/0&4=sub_imm 9.2/4&4=sub64_imm 9.3/0&4=test_sub_imm ' +
    '9.3/4&4=test_sub64_imm 10.0/0&4=subsat 10.0/4&4=subsat64 10.1/0&4=test_subsat 10.1/4&4=test_subsat64 ' +
    '10.2/0&4=subsat_imm 10.2/4&4=subsat64_imm 10.3/0&4=test_subsat_imm 10.3/4&4=test_subsat64_imm ' +
    '11.0=ticket_release 11.1=ticket_release_ind 12.0/0&7=cam128_lookup8/cam384_lookup8 ' +
    '12.0/1&7=cam128_lookup16/cam384_lookup16 12.0/2&7=cam128_lookup24/cam384_lookup24 ' +
    '12.0/3&7=cam128_lookup32/cam384_lookup32 12.0/4&7=cam256_lookup8/cam512_lookup8 ' +
    '12.0/5&7=cam256_lookup16/cam512_lookup16 12.0/6&7=cam256_lookup24/cam512_lookup24 ' +
    '12.0/7&7=cam256_lookup32/cam512_lookup32 12.1/0&7=cam128_lookup8_add/cam384_lookup8_add ' +
    '12.1/1&7=cam128_lookup16_add/cam384_lookup16_add 12.1/2&7=cam128_lookup24_add/cam384_lookup24_add ' +
    '12.1/3&7=cam128_lookup32_add/cam384_lookup32_add 12.1/4&7=cam256_lookup8_add/cam512_lookup8_add ' +
    '12.1/5&7=cam256_lookup16_add/cam512_lookup16_add 12.1/6&7=cam256_lookup24_add/cam512_lookup24_add ' +
    '12.1/7&7=cam256_lookup32_add/cam512_lookup32_add 12.2/0&7=tcam128_lookup8/tcam384_lookup8 ' +
    '12.2/1&7=tcam128_lookup16/tcam384_lookup16 12.2/2&7=tcam128_lookup24/tcam384_lookup24 ' +
    '12.2/3&7=tcam128_lookup32/tcam384_lookup32 12.2/4&7=tcam256_lookup8/tcam512_lookup8 ' +
    '12.2/5&7=tcam256_lookup16/tcam512_lookup16 12.2/6&7=tcam256_lookup24/tcam512_lookup24 ' +
    '12.2/7&7=tcam256_lookup32/tcam512_lookup32 12.3/0&7=lock128/lock384 ' +
    '12.3/2&7=cam128_lookup24_add_inc/cam384_lookup24_add_inc 12.3/4&7=lock256/lock512 ' +
    '12.3/6&7=cam256_lookup24_add_inc/cam512_lookup24_add_inc 13.0/0&7=microq128_get 13.0/4&7=microq256_get ' +
    '13.1/0&7=microq128_pop 13.1/4&7=microq256_pop 13.2/0&7=microq128_put 13.2/4&7=microq256_put ' +
    '14.0/0&7=queue128_lock 14.0/4&7=queue256_lock 14.1/0&7=queue128_unlock 14.1/4&7=queue256_unlock 15.0=xor ' +
    '15.1=test_xor 15.2=xor_imm 15.3=test_xor_imm ' +
    '16.0=ctm.packet_wait_packet_status/emem.rd_qdesc/imem.stats_log ' +
    '16.1=ctm.packet_read_packet_status/emem.wr_qdesc/imem.stats_log_sat ' +
    '16.2=emem.push_qdesc/imem.stats_log_event 16.3=imem.stats_log_sat_event ' +
    '17.0=ctm.packet_alloc/emem.enqueue/imem.stats_push ' +
    '17.1=ctm.packet_credit_get/emem.enqueue_tail/imem.stats_push_clear 17.2=ctm.packet_alloc_poll/emem.dequeue ' +
    '17.3=ctm.packet_add_thread 18.0=ctm.packet_free/emem.read_queue/imem.lb_write_desc ' +
    '18.1=ctm.packet_free_and_signal/emem.read_queue_ring/imem.lb_read_desc ' +
    '18.2=ctm.packet_free_and_return_pointer/emem.write_queue ' +
    '18.3=ctm.packet_return_pointer/emem.write_queue_ring ' +
    '19.0=ctm.packet_complete_drop/emem.add_tail/imem.lb_write_idtable ' +
    '19.1=ctm.packet_complete_unicast/emem.qadd_thread/imem.lb_read_idtable ' +
    '19.2=ctm.packet_complete_multicast/emem.qadd_work ' +
    '19.3=ctm.packet_complete_multicast_free/emem.qadd_work_imm ' +
    '20.0=ctm.pe_dma_to_memory_packet/emem.put/imem.lb_bucket_write_local ' +
    '20.1=ctm.pe_dma_to_memory_packet_swap/imem.lb_bucket_write_dcache ' +
    '20.2=ctm.pe_dma_to_memory_packet_free/emem.journal 20.3=ctm.pe_dma_to_memory_packet_free_swap ' +
    '21.0=ctm.pe_dma_to_memory_indirect/emem.get/imem.lb_bucket_read_local ' +
    '21.1=ctm.pe_dma_to_memory_indirect_swap/emem.get_eop/imem.lb_bucket_read_dcache ' +
    '21.2=ctm.pe_dma_to_memory_indirect_free/emem.get_freely 21.3=ctm.pe_dma_to_memory_indirect_free_swap ' +
    '22.0=ctm.pe_dma_to_memory_buffer/emem.pop/imem.lb_lookup_bundleid ' +
    '22.1=ctm.pe_dma_to_memory_buffer_le/emem.pop_eop/imem.lb_lookup_dcache ' +
    '22.2=ctm.pe_dma_to_memory_buffer_swap/emem.pop_freely/imem.lb_lookup_idtable ' +
    '22.3=ctm.pe_dma_to_memory_buffer_le_swap ' +
    '23.0=ctm.pe_dma_from_memory_buffer/emem.fast_journal/imem.lb_push_stats_local ' +
    '23.1=ctm.pe_dma_from_memory_buffer_le/emem.fast_journal_sig/imem.lb_push_stats_dcache ' +
    '23.2=ctm.pe_dma_from_memory_buffer_swap/imem.lb_push_stats_local_clr ' +
    '23.3=ctm.pe_dma_from_memory_buffer_le_swap/imem.lb_push_stats_dcache_clr 26.0=emem.lookup/imem.lookup ' +
    '28.0=read32 28.1=read32_le 28.2=read32_swap 28.3=read32_swap_le 29.1=cam_lookup_add_lock ' +
    '29.2=cam_lookup_add_extend 29.3=cam_lookup_add_inc 30.2=meter 31.0=write32 31.1=write32_le ' +
    '31.2=write32_swap 31.3=write32_swap_le',
  cls:
    '0.0=read 0.1=read_le 0.2=swap/test_compare_write 0.3=xor 1.0=write 1.1=write_le 1.2=write8_be ' +
    '1.3=write8_le 2.0=set 2.1=clr 2.2=test_set 2.3=test_clr 3.0=set_imm 3.1=clr_imm 3.2=test_set_imm ' +
    '3.3=test_clr_imm 4.0=add 4.1=add64 4.2=addsat 5.0=add_imm 5.1=add64_imm 5.2=addsat_imm 6.0=sub 6.1=sub64 ' +
    '6.2=subsat 7.0=sub_imm 7.1=sub64_imm 7.2=subsat_imm 8.0=queue_lock 8.1=queue_unlock 8.2=hash_mask ' +
    '8.3=hash_mask_clear 9.0=get 9.1=pop 9.2=get_safe 9.3=pop_safe 10.0=ring_put 10.2=ring_journal ' +
    '11.0=cam_lookup32 11.1=cam_lookup32_add 11.2=cam_lookup24 11.3=cam_lookup24_add 12.0=cam_lookup8 ' +
    '12.1=cam_lookup8_add 12.2=cam_lookup16 12.3=cam_lookup16_add 13.0=tcam_lookup32 13.1=tcam_lookup24 ' +
    '13.2=tcam_lookup16 13.3=tcam_lookup8 14.0=reflect_write_sig_local 14.1=reflect_write_sig_remote ' +
    '14.2=reflect_write_sig_both 15.0=reflect_read_sig_remote 15.1=reflect_read_sig_local ' +
    '15.2=reflect_read_sig_both 16.1=cam_lookup32_add_lock 16.2=cam_lookup24_add_inc ' +
    '16.3=cam_lookup32_add_extend 17.0=meter 17.2=statistic 17.3=statistic_imm 20.0=test_add 20.1=test_add64 ' +
    '20.2=test_addsat 21.0=test_add_imm 21.1=test_add64_imm 21.2=test_addsat_imm 22.0=test_sub 22.1=test_sub64 ' +
    '22.2=test_subsat 23.0=test_sub_imm 23.1=test_sub64_imm 23.2=test_subsat_imm 24.0=ring_read 24.1=ring_write ' +
    '24.2=ring_ordered_lock 24.3=ring_ordered_unlock 25.0=ring_workq_add_thread 25.1=ring_workq_add_work',
};

export interface CmdMnemonic {
  target: CmdTarget;
  /** CPP action (5 bits for mem/cls, 2 bits for the others). */
  action: number;
  token: number;
  /** The name applies when (length field & lengthMask) === lengthFixed. */
  lengthFixed: number;
  lengthMask: number;
  name: string;
}

export const CMD_MNEMONICS: readonly CmdMnemonic[] = CMD_TARGETS.flatMap((target) =>
  CMD_TABLE_TEXT[target]
    .split(/\s+/)
    .filter((s) => s !== '')
    .map((entry): CmdMnemonic => {
      const m = /^(\d+)\.(\d)(?:\/(\d)&(\d))?=(.+)$/.exec(entry);
      if (!m) throw new Error(`bad command table entry ${entry}`);
      return {
        target, action: Number(m[1]), token: Number(m[2]),
        lengthFixed: Number(m[3] ?? 0), lengthMask: Number(m[4] ?? 0), name: m[5]!,
      };
    }),
);

/** The mnemonic binutils prints for (target, action, token, length field), if any. */
export function findCmdMnemonic(target: CmdTarget, action: number, token: number, lengthField: number): CmdMnemonic | undefined {
  return CMD_MNEMONICS.find(
    (c) => c.target === target && c.action === action && c.token === token && (lengthField & c.lengthMask) === c.lengthFixed,
  );
}

/** Flags printed after an ALU-class instruction: `no_cc` (bit 40) and `predicate_cc` (bit 44). */
interface CcFlags {
  /** Bit 40: do not update the condition codes. */
  noCc?: boolean;
  /** Bit 44: execute only if the predicate condition holds. */
  predicateCc?: boolean;
}

export interface AluInsn extends CcFlags {
  format: 'alu';
  op: AluOp;
  /** For pop_count1/pop_count2: none. */
  dest: NfpOperand;
  /** none for B, ~B and the unary operations. */
  left: NfpOperand;
  right: NfpOperand;
  wrboth: boolean;
}

/**
 * The CAM operations. `tag` is the A-side operand (cam_lookup, cam_write),
 * `entry` the B-side one (cam_write, cam_write_state); `state` (0..15) sits in
 * the destination field of cam_write/cam_write_state.
 */
export interface CamInsn extends CcFlags {
  format: 'cam';
  op: CamOp;
  dest: NfpOperand;
  tag: NfpOperand;
  entry: NfpOperand;
  state: number;
  /** cam_lookup only: `, lm_addrN[i]` (LM address CSR N loaded from the lookup result, index i 0..3). */
  lmAddress?: { pointer: number; index: number };
  wrboth: boolean;
}

/** `crc_be[op, dst, src]` / `crc_le[...]`, ALU operation 0x12 with the CRC control in the A-side field. */
export interface CrcInsn extends CcFlags {
  format: 'crc';
  endian: 'be' | 'le';
  op: CrcOp;
  dest: NfpOperand;
  source: NfpOperand;
  bytes: CrcBytes;
  bitSwap: boolean;
  wrboth: boolean;
}

export interface AluShiftInsn extends CcFlags {
  format: 'alu_shf';
  op: ShiftAluOp;
  dest: NfpOperand;
  /** none for B, ~B, asr and byte_align_be. */
  left: NfpOperand;
  /** The shifted operand (none for byte_align_le). */
  right: NfpOperand;
  /** byte_align: right/indirect for byte_align_be, left/indirect for byte_align_le. */
  shift: NfpShift;
  wrboth: boolean;
}

export interface ImmedInsn {
  format: 'immed';
  dest: NfpOperand;
  /** The 16-bit immediate as encoded (before shift and inversion); `byte` takes 0..255. */
  imm16: number;
  width: 'word' | 'byte' | 'half';
  /** Byte shift 0..3 (for `half`, 0 or 2: 2 selects bits 31:16). */
  byteShift: number;
  /** Only with width `word` (binutils prints byte/half immediates without the inversion). */
  invert: boolean;
  wrboth: boolean;
  predicateCc?: boolean;
}

export interface NopInsn {
  format: 'nop';
}

export interface LdFieldInsn {
  format: 'ld_field';
  /** Both source (kept bytes) and destination. */
  target: NfpOperand;
  source: NfpOperand;
  /** Bit i selects byte i (byte 0 = bits 7:0). */
  byteMask: number;
  shift: NfpShift;
  /** `ld_field_w_clr`: bytes outside the mask become 0. */
  clearUnmasked: boolean;
  wrboth: boolean;
  /** Bit 34: set the condition codes from the result. */
  loadCc?: boolean;
  predicateCc?: boolean;
}

export interface BranchInsn {
  format: 'br';
  condition: BranchCondition;
  target: number;
  defer: number;
  /** Conditions 16-23 only: context number, signal number, input state or CLS ring (0..15). */
  state?: number;
}

/** `br=byte[reg, byte, value, .target]` / `br!=byte[...]`: branch on byte `byte` of reg (not) equal to value. */
export interface BranchByteInsn {
  format: 'br_byte';
  equal: boolean;
  reg: NfpOperand;
  byte: number;
  value: NfpOperand;
  target: number;
  defer: number;
}

export interface BranchBitInsn {
  format: 'br_bit';
  branchIfSet: boolean;
  reg: NfpOperand;
  bit: number;
  target: number;
  defer: number;
}

export interface ReturnInsn {
  format: 'rtn';
  reg: NfpOperand;
  defer: number;
}

/** `jump[reg, .target]`: BR_ALU with a non-zero 17-bit label (label 0 is `rtn`). */
export interface JumpInsn {
  format: 'jump';
  reg: NfpOperand;
  target: number;
  defer: number;
}

/** What a `ctx_arb` waits for: signals 1..15 (ascending), or one of the special forms. */
export type CtxArbEvents = 'kill' | 'voluntary' | 'bpt' | '--' | readonly number[];

export interface CtxArbInsn {
  format: 'ctx_arb';
  events: CtxArbEvents;
  /** `, any`: wake on any of the signals (not with kill). */
  any: boolean;
  /** `, br[.N]`: resume address. */
  resume?: number;
  defer: number;
}

export interface LocalCsrInsn {
  format: 'local_csr';
  /** CSR byte address (a multiple of 4). */
  csr: number;
  /** Value to write; undefined for a read (the value arrives as the next instruction's result). */
  value?: NfpOperand;
}

export interface MulStepInsn extends CcFlags {
  format: 'mul_step';
  type: MulType;
  /** Ignored for `start`. */
  step: MulStep;
  /** Sources for start/step1-4; for last/last2 `left` is the destination and `right` is none. */
  left: NfpOperand;
  right: NfpOperand;
  wrboth: boolean;
}

/**
 * A CPP command. Address modes: 0 `A, <<8, B`, 1 `B, <<8, A`, 2/3 the same for
 * accelerated third-party commands (the xfer position shows `indirect_ref << 6 | xfer`),
 * 4 `A, B`, 5 immediate address, 6 immediate address and data, 7 immediate data.
 */
export interface CmdInsn {
  format: 'cmd';
  target: CmdTarget;
  /** The binutils mnemonic within the target (`read32_swap`, `add64`, ...). */
  action: string;
  addressMode: number;
  /** Transfer register 0..63 (0 in mode 6, whose bits are data). */
  xfer: number;
  /** Operands in the restricted A field / B field (modes 0-4; none otherwise). */
  a: NfpOperand;
  b: NfpOperand;
  /** Modes 5-7: the 16-bit immediate held by the B field (high byte) and A field (low byte). */
  address?: number;
  /** Mode 6: the 14-bit data held by the signal, length, xfer and token fields. */
  data?: number;
  /** Printed length (field + 1); 1 in mode 6, where the length field is part of the data. */
  length: number;
  /** 0 ctx_swap, 1 ctx_swap + defer[1], 2 + defer[2], 3 no swap. */
  ctxSwap: number;
  /** Signal number; with no swap, `sig_done[sigN]`. 0 in mode 6. */
  signal: number;
  indirectRef: boolean;
}

export type NfpInsn =
  | AluInsn
  | CamInsn
  | CrcInsn
  | AluShiftInsn
  | ImmedInsn
  | NopInsn
  | LdFieldInsn
  | BranchInsn
  | BranchByteInsn
  | BranchBitInsn
  | ReturnInsn
  | JumpInsn
  | CtxArbInsn
  | LocalCsrInsn
  | MulStepInsn
  | CmdInsn;

export type NfpFormat = NfpInsn['format'];
