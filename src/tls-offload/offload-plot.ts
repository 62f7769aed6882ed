/**
 * The offload plot of `nicoff tls replay --plot FILE.svg`: one row per flow
 * direction, the NIC model's state along the direction's stream as coloured
 * spans (tracking, searching, speculative = awaiting software's
 * confirmation, no-offload), and the events on top of them: each boundary
 * loss a tick through the bar, resync requests, chain failures, confirmations
 * and authentication failures each a marker of their own above it.
 *
 * Hand-written SVG, no dependency. The output depends on the report only (no
 * clock, no randomness, fixed number formatting), so the same replay gives
 * the same file. Every row, span and marker carries data-* attributes with
 * the stream offsets it stands for, which the tests (and anyone scripting
 * over the file) read back.
 *
 * One x axis for all rows, in stream bytes (MB = 10^6 bytes), scaled to the
 * longest direction, so rows compare; a span narrower than half a pixel is
 * drawn half a pixel wide so that it stays visible.
 */
import type { DirectionReport, OffloadEvent, OffloadState, ReplayReport } from './replay-types.js';

const WIDTH = 1000;
const MARGIN_LEFT = 20;
const MARGIN_RIGHT = 30;
const PLOT_WIDTH = WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
const TITLE_HEIGHT = 34;
const ROW_HEIGHT = 50;
/** Inside a row: label baseline, marker band, bar. */
const LABEL_Y = 12;
const MARKER_Y = 23;
const BAR_Y = 30;
const BAR_HEIGHT = 14;
const AXIS_HEIGHT = 42;
const LEGEND_HEIGHT = 44;
const MIN_SPAN_WIDTH = 0.5;

export const STATE_COLOURS: Record<OffloadState, string> = {
  tracking: '#4caf50',
  searching: '#ef9a9a',
  speculative: '#ffcc80',
  'no-offload': '#cfd8dc',
};

const STATE_LABELS: Record<OffloadState, string> = {
  tracking: 'tracking (NIC decrypts)',
  searching: 'searching for a header',
  speculative: 'speculative (awaiting confirmation)',
  'no-offload': 'no offload',
};

type EventKind = OffloadEvent['kind'];

const EVENT_COLOURS: Record<EventKind, string> = {
  loss: '#b71c1c',
  'resync-request': '#1565c0',
  'chain-fail': '#6a1b9a',
  confirm: '#1b5e20',
  'auth-fail': '#000000',
};

const EVENT_LABELS: Record<EventKind, string> = {
  loss: 'record boundary lost',
  'resync-request': 'resync request',
  'chain-fail': 'chain check failed',
  confirm: 'confirmed by software',
  'auth-fail': 'authentication failure',
};

const STATES: OffloadState[] = ['tracking', 'searching', 'speculative', 'no-offload'];
const EVENT_KINDS: EventKind[] = ['loss', 'resync-request', 'chain-fail', 'confirm', 'auth-fail'];

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** Coordinates with at most two decimals, no trailing zeros: deterministic and short. */
function n(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

/** The stream range a row covers: from 0 to the end of its last span (or its last event). */
export function directionExtent(direction: DirectionReport): number {
  let end = 0;
  for (const span of direction.spans) end = Math.max(end, span.end);
  for (const event of direction.events) end = Math.max(end, event.offset);
  return end;
}

/** A 1-2-5 step giving about `target` intervals over [0, max]. */
function niceStep(max: number, target: number): number {
  const raw = max / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const factor of [1, 2, 5, 10]) if (factor * power >= raw) return factor * power;
  return 10 * power;
}

/** Megabytes with as many decimals as the step needs (no float noise like 0.30000000000000004). */
function formatMb(bytes: number, step: number): string {
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step / 1e6))));
  return (bytes / 1e6).toFixed(decimals);
}

/**
 * One marker centred on (x, y): a symbol for most kinds; a loss is a vertical
 * tick from `tickTop` to `tickBottom` (through the bar in a row).
 */
function marker(kind: EventKind, x: number, y: number, tickTop: number, tickBottom: number): string {
  const colour = EVENT_COLOURS[kind];
  switch (kind) {
    case 'loss':
      return `<line x1="${n(x)}" y1="${n(tickTop)}" x2="${n(x)}" y2="${n(tickBottom)}" stroke="${colour}" stroke-width="1.5"/>`;
    case 'resync-request':
      return `<path d="M${n(x - 4)} ${n(y - 4)}L${n(x + 4)} ${n(y - 4)}L${n(x)} ${n(y + 3)}Z" fill="${colour}"/>`;
    case 'chain-fail':
      return `<path d="M${n(x - 3.5)} ${n(y - 3.5)}L${n(x + 3.5)} ${n(y + 3.5)}M${n(x - 3.5)} ${n(y + 3.5)}L${n(x + 3.5)} ${n(y - 3.5)}" stroke="${colour}" stroke-width="1.8"/>`;
    case 'confirm':
      return `<circle cx="${n(x)}" cy="${n(y)}" r="3.5" fill="${colour}"/>`;
    case 'auth-fail':
      return `<path d="M${n(x)} ${n(y - 4.5)}L${n(x + 4.5)} ${n(y)}L${n(x)} ${n(y + 4.5)}L${n(x - 4.5)} ${n(y)}Z" fill="${colour}"/>`;
  }
}

interface Row {
  stream: number;
  direction: DirectionReport;
}

/** The SVG plot of a replay (see the file comment). */
export function renderOffloadPlot(report: ReplayReport): string {
  const rows: Row[] = [];
  for (const connection of report.connections) {
    for (const direction of connection.directions) rows.push({ stream: connection.stream, direction });
  }
  const maxExtent = Math.max(1, ...rows.map((row) => directionExtent(row.direction)));
  const scale = (offset: number): number => MARGIN_LEFT + (offset / maxExtent) * PLOT_WIDTH;
  const rowsTop = TITLE_HEIGHT;
  const axisTop = rowsTop + Math.max(rows.length, 1) * ROW_HEIGHT;
  const legendTop = axisTop + AXIS_HEIGHT;
  const height = legendTop + LEGEND_HEIGHT;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`);
  const title = `NIC TLS offload state along each direction (nic ${report.nic}, offload ratio ${(report.offloadRatio * 100).toFixed(1)}%)`;
  out.push(`<text x="${MARGIN_LEFT}" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`);

  if (rows.length === 0) {
    out.push(`<text x="${MARGIN_LEFT}" y="${n(rowsTop + 28)}" fill="#555555">no TLS connections</text>`);
  }
  rows.forEach((row, index) => {
    const top = rowsTop + index * ROW_HEIGHT;
    const d = row.direction;
    const extent = directionExtent(d);
    out.push(
      `<g class="row" data-stream="${row.stream}" data-role="${d.role}" data-start="0" data-end="${extent}" data-spans="${d.spans.length}" data-events="${d.events.length}">`,
    );
    const ratio = d.notOffloaded ? `not offloaded: ${d.notOffloaded}` : `offload ratio ${(d.offloadRatio * 100).toFixed(1)}%`;
    const label = `stream ${row.stream}  ${d.role}  ${d.flow}  (${extent} bytes, ${ratio})`;
    out.push(`<text class="label" x="${MARGIN_LEFT}" y="${n(top + LABEL_Y)}">${escapeXml(label)}</text>`);
    // The bar's outline shows the direction's range even where no span was recorded.
    out.push(
      `<rect class="range" x="${n(scale(0))}" y="${n(top + BAR_Y)}" width="${n(Math.max(scale(extent) - scale(0), MIN_SPAN_WIDTH))}" height="${BAR_HEIGHT}" fill="none" stroke="#9e9e9e" stroke-width="0.5"/>`,
    );
    for (const span of d.spans) {
      const x = scale(span.start);
      const width = Math.max(scale(span.end) - x, MIN_SPAN_WIDTH);
      out.push(
        `<rect class="span span-${span.state}" data-state="${span.state}" data-start="${span.start}" data-end="${span.end}" x="${n(x)}" y="${n(top + BAR_Y)}" width="${n(width)}" height="${BAR_HEIGHT}" fill="${STATE_COLOURS[span.state]}">` +
          `<title>${escapeXml(`${span.state}: bytes ${span.start}-${span.end} (${span.end - span.start} bytes)`)}</title></rect>`,
      );
    }
    for (const event of d.events) {
      out.push(
        `<g class="event event-${event.kind}" data-kind="${event.kind}" data-offset="${event.offset}"><title>${escapeXml(`${EVENT_LABELS[event.kind]} at stream byte ${event.offset}`)}</title>${marker(event.kind, scale(event.offset), top + MARKER_Y, top + BAR_Y - 4, top + BAR_Y + BAR_HEIGHT + 4)}</g>`,
      );
    }
    out.push('</g>');
  });

  // x axis in stream megabytes
  const step = niceStep(maxExtent, 8);
  out.push(`<g class="axis">`);
  out.push(`<line x1="${n(scale(0))}" y1="${n(axisTop + 4)}" x2="${n(scale(maxExtent))}" y2="${n(axisTop + 4)}" stroke="#424242"/>`);
  for (let value = 0; value <= maxExtent + step * 1e-9; value += step) {
    const x = scale(Math.min(value, maxExtent));
    out.push(`<line x1="${n(x)}" y1="${n(axisTop + 4)}" x2="${n(x)}" y2="${n(axisTop + 9)}" stroke="#424242"/>`);
    out.push(`<text x="${n(x)}" y="${n(axisTop + 21)}" text-anchor="middle">${formatMb(value, step)}</text>`);
  }
  out.push(`<text x="${n(scale(maxExtent / 2))}" y="${n(axisTop + 36)}" text-anchor="middle">stream bytes (MB)</text>`);
  out.push('</g>');

  // legend: the four states, then the five markers
  out.push(`<g class="legend">`);
  let x = MARGIN_LEFT;
  const stateY = legendTop + 8;
  for (const state of STATES) {
    out.push(`<rect x="${n(x)}" y="${n(stateY)}" width="14" height="10" fill="${STATE_COLOURS[state]}"/>`);
    out.push(`<text x="${n(x + 18)}" y="${n(stateY + 9)}">${escapeXml(STATE_LABELS[state])}</text>`);
    x += 40 + STATE_LABELS[state].length * 5.6;
  }
  x = MARGIN_LEFT;
  const eventY = legendTop + 29;
  for (const kind of EVENT_KINDS) {
    out.push(marker(kind, x + 5, eventY, eventY - 6, eventY + 6));
    out.push(`<text x="${n(x + 14)}" y="${n(legendTop + 33)}">${escapeXml(EVENT_LABELS[kind])}</text>`);
    x += 34 + EVENT_LABELS[kind].length * 5.6;
  }
  out.push('</g>');
  out.push('</svg>');
  return out.join('\n') + '\n';
}
