/**
 * The kernel's restricted printf (bpf_bprintf_prepare + bstr_printf) as used
 * by trace_printk and snprintf: conversions %d %i %u %x %X %o %c %s %p (with
 * %pK %px %pI4 %pI6 ...), %%; flags [-+ #0], width, precision, length l / ll
 * (and h/hh, accepted since 6.x). Anything else is -EINVAL, as in the kernel.
 */

export interface PrintfResult {
  text: string;
  /** Negative errno when the format is rejected. */
  error?: number;
}

import { EINVAL } from './map-runtime.js';

function pad(s: string, width: number, left: boolean, zero: boolean): string {
  if (s.length >= width) return s;
  if (left) return s + ' '.repeat(width - s.length);
  if (zero) {
    const sign = s[0] === '-' || s[0] === '+' || s[0] === ' ' ? s[0] : '';
    const prefix = s.startsWith(sign + '0x') || s.startsWith(sign + '0X') ? s.slice(sign.length, sign.length + 2) : '';
    const body = s.slice(sign.length + prefix.length);
    return sign + prefix + '0'.repeat(width - s.length) + body;
  }
  return ' '.repeat(width - s.length) + s;
}

export function bpfPrintf(fmt: string, args: bigint[], readString: (addr: bigint) => string): PrintfResult {
  let out = '';
  let argi = 0;
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i];
    if (ch !== '%') {
      out += ch;
      continue;
    }
    i++;
    if (fmt[i] === '%') {
      out += '%';
      continue;
    }
    let left = false,
      plus = false,
      space = false,
      alt = false,
      zero = false;
    for (; i < fmt.length; i++) {
      const f = fmt[i];
      if (f === '-') left = true;
      else if (f === '+') plus = true;
      else if (f === ' ') space = true;
      else if (f === '#') alt = true;
      else if (f === '0') zero = true;
      else break;
    }
    let width = 0;
    while (fmt[i] >= '0' && fmt[i] <= '9') width = width * 10 + Number(fmt[i++]);
    let precision = -1;
    if (fmt[i] === '.') {
      i++;
      precision = 0;
      while (fmt[i] >= '0' && fmt[i] <= '9') precision = precision * 10 + Number(fmt[i++]);
    }
    let bits = 32;
    if (fmt[i] === 'l') {
      bits = 64;
      i++;
      if (fmt[i] === 'l') i++;
    } else if (fmt[i] === 'h') {
      bits = 16;
      i++;
      if (fmt[i] === 'h') {
        bits = 8;
        i++;
      }
    }
    const conv = fmt[i];
    if (conv === undefined) return { text: out, error: -EINVAL };
    if (argi >= args.length && 'diuxXocsp'.includes(conv)) return { text: out, error: -EINVAL };
    const raw = args[argi];
    let s: string;
    switch (conv) {
      case 'd':
      case 'i': {
        const v = BigInt.asIntN(bits, raw);
        s = v.toString();
        if (precision >= 0) s = v < 0n ? '-' + (-v).toString().padStart(precision, '0') : s.padStart(precision, '0');
        if (v >= 0n && plus) s = '+' + s;
        else if (v >= 0n && space) s = ' ' + s;
        break;
      }
      case 'u':
      case 'x':
      case 'X':
      case 'o': {
        const v = BigInt.asUintN(bits, raw);
        const radix = conv === 'o' ? 8 : conv === 'u' ? 10 : 16;
        s = v.toString(radix);
        if (conv === 'X') s = s.toUpperCase();
        if (precision >= 0) s = s.padStart(precision, '0');
        if (alt && v !== 0n) s = (conv === 'o' ? '0' : conv === 'x' ? '0x' : '0X') + s;
        break;
      }
      case 'c':
        s = String.fromCharCode(Number(raw & 0xffn));
        break;
      case 's':
        s = readString(raw);
        if (precision >= 0) s = s.slice(0, precision);
        break;
      case 'p': {
        // %p hashes the pointer in the kernel; %px/%pK print it. Only %pI4/%pI6/%pi4/%pi6 read memory.
        const next = fmt[i + 1];
        if (next === 'I' || next === 'i') {
          const kind = fmt[i + 2];
          i += 2;
          s = readString(raw);
          if (kind === '4') s = [...Buffer.from(s, 'latin1').subarray(0, 4)].join('.');
          else s = Buffer.from(s, 'latin1').toString('hex');
        } else {
          if (next === 'x' || next === 'K' || next === 's' || next === 'S' || next === 'B') i++;
          s = BigInt.asUintN(64, raw).toString(16).padStart(16, '0');
        }
        break;
      }
      default:
        return { text: out, error: -EINVAL };
    }
    argi++;
    out += pad(s, width, left, zero && !left && precision < 0);
  }
  return { text: out };
}
