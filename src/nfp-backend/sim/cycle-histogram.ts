/**
 * Per-packet cycles of a run as a histogram: a few equal-width buckets from
 * the fewest to the most cycles any packet took (one bucket per distinct
 * value when there are few), as text rows and as a small SVG bar chart
 * (`nicoff run --dev simN --plot cycles.svg`). Deterministic: the same run
 * gives the same file; every bar carries data-from/data-to/data-packets.
 */

export interface CycleBucket {
  /** Cycles in [from, to]. */
  from: number;
  to: number;
  packets: number;
}

const MAX_BUCKETS = 12;

export function cycleHistogram(counts: ReadonlyMap<number, number>, maxBuckets = MAX_BUCKETS): CycleBucket[] {
  const values = [...counts.keys()].sort((a, b) => a - b);
  if (values.length === 0) return [];
  if (values.length <= maxBuckets) return values.map((v) => ({ from: v, to: v, packets: counts.get(v)! }));
  const lo = values[0]!;
  const hi = values[values.length - 1]!;
  const width = Math.ceil((hi - lo + 1) / maxBuckets);
  const buckets: CycleBucket[] = [];
  for (let from = lo; from <= hi; from += width) buckets.push({ from, to: Math.min(hi, from + width - 1), packets: 0 });
  for (const [v, n] of counts) buckets[Math.floor((v - lo) / width)]!.packets += n;
  return buckets;
}

const label = (b: CycleBucket): string => (b.from === b.to ? String(b.from) : `${b.from}-${b.to}`);

/** One text row per bucket: range, a bar of up to `width` characters, the count. */
export function cycleHistogramRows(buckets: readonly CycleBucket[], width = 40): string[] {
  const most = Math.max(1, ...buckets.map((b) => b.packets));
  const labelWidth = Math.max(...buckets.map((b) => label(b).length), 6);
  return buckets.map((b) => `${label(b).padStart(labelWidth)} cycles  ${'#'.repeat(Math.max(b.packets ? 1 : 0, Math.round((b.packets / most) * width))).padEnd(width)}  ${b.packets}`);
}

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function cycleHistogramSvg(buckets: readonly CycleBucket[], title: string): string {
  const W = 640;
  const H = 320;
  const left = 70;
  const bottom = 60;
  const top = 40;
  const plotW = W - left - 20;
  const plotH = H - top - bottom;
  const most = Math.max(1, ...buckets.map((b) => b.packets));
  const barW = buckets.length ? plotW / buckets.length : plotW;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<title>${escapeXml(title)}</title>`);
  out.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`);
  out.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(`<text x="${left - 8}" y="${top + 4}" text-anchor="end">${most}</text>`);
  out.push(`<text x="${left - 8}" y="${top + plotH}" text-anchor="end">0</text>`);
  out.push(`<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">packets</text>`);
  out.push(`<text x="${left + plotW / 2}" y="${H - 12}" text-anchor="middle">cycles per packet (simulated, one context alone)</text>`);
  buckets.forEach((b, i) => {
    const h = (b.packets / most) * plotH;
    const x = left + i * barW;
    out.push(
      `<rect x="${(x + 2).toFixed(1)}" y="${(top + plotH - h).toFixed(1)}" width="${Math.max(1, barW - 4).toFixed(1)}" height="${h.toFixed(1)}" fill="#4a90d9" ` +
        `data-from="${b.from}" data-to="${b.to}" data-packets="${b.packets}"><title>${label(b)} cycles: ${b.packets} packets</title></rect>`,
    );
    out.push(`<text x="${(x + barW / 2).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle">${label(b)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
