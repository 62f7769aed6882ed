/**
 * The offload plot (src/tls-offload/offload-plot.ts) on a small hand-made
 * report: well-formed XML (xmllint when installed, and a small checker of
 * our own either way), one row per direction, spans covering each
 * direction's range, one marker per event, and the same bytes every time.
 */
import { describe, test, expect } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderOffloadPlot } from '../../src/tls-offload/offload-plot.js';
import { TLS_COUNTERS, type DirectionReport, type ReplayReport, type TlsCounters } from '../../src/tls-offload/replay-types.js';

function counters(): TlsCounters {
  return Object.fromEntries(TLS_COUNTERS.map((name) => [name, 0])) as TlsCounters;
}

function direction(partial: Partial<DirectionReport> & Pick<DirectionReport, 'flow' | 'role' | 'spans' | 'events'>): DirectionReport {
  return {
    counters: counters(),
    applicationRecords: 0,
    applicationBytes: 0,
    offloadRatio: 0,
    lossToResume: [],
    authFailures: [],
    unconfirmedAtEnd: false,
    dataPackets: 0,
    payloadBytes: 0,
    ...partial,
  };
}

/** Two TLS connections (one decrypted, one keyless) and one that is not TLS; every span state and event kind. */
function fakeReport(): ReplayReport {
  const serverToClient = direction({
    flow: '10.0.0.1:443 -> 10.0.0.2:5000',
    role: 'server-to-client',
    offloadRatio: 0.8,
    spans: [
      { start: 0, end: 1300, state: 'no-offload' },
      { start: 1300, end: 500_000, state: 'tracking' },
      { start: 500_000, end: 520_000, state: 'searching' },
      { start: 520_000, end: 600_000, state: 'speculative' },
      { start: 600_000, end: 610_000, state: 'searching' },
      { start: 610_000, end: 700_000, state: 'speculative' },
      { start: 700_000, end: 2_500_000, state: 'tracking' },
    ],
    events: [
      { offset: 500_000, kind: 'loss' },
      { offset: 520_000, kind: 'resync-request' },
      { offset: 600_000, kind: 'chain-fail' },
      { offset: 610_000, kind: 'resync-request' },
      { offset: 700_000, kind: 'confirm' },
      { offset: 1_200_000, kind: 'auth-fail' },
    ],
    lossToResume: [200_000],
  });
  const clientToServer = direction({
    flow: '10.0.0.2:5000 -> 10.0.0.1:443',
    role: 'client-to-server',
    spans: [
      { start: 0, end: 300, state: 'no-offload' },
      { start: 300, end: 361, state: 'tracking' },
    ],
    events: [],
  });
  const keyless = direction({
    flow: '10.0.0.3:6000 -> 10.0.0.1:443',
    role: 'client-to-server',
    notOffloaded: 'no keys: "<none>" & nothing else',
    spans: [{ start: 0, end: 21, state: 'no-offload' }],
    events: [],
  });
  const keylessBack = direction({ flow: '10.0.0.1:443 -> 10.0.0.3:6000', role: 'server-to-client', notOffloaded: 'no keys', spans: [], events: [] });
  return {
    nic: 'autonomous',
    packets: 2000,
    connections: [
      { stream: 0, client: '10.0.0.2:5000', server: '10.0.0.1:443', status: 'decrypted', tlsVersion: '1.2', cipherSuite: 'X', directions: [clientToServer, serverToClient], problems: [] },
      { stream: 1, client: '10.0.0.9:1', server: '10.0.0.8:2', status: 'not-tls', directions: [], problems: [] },
      { stream: 2, client: '10.0.0.3:6000', server: '10.0.0.1:443', status: 'no-keys', directions: [keyless, keylessBack], problems: [] },
    ],
    totals: counters(),
    offloadRatio: 0.79,
  };
}

/** A small XML well-formedness check: balanced tags, quoted attributes, escaped text. */
function checkWellFormedXml(xml: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/y;
  let at = xml.startsWith('<?xml') ? xml.indexOf('?>') + 2 : 0;
  let roots = 0;
  while (at < xml.length) {
    const lt = xml.indexOf('<', at);
    const text = xml.slice(at, lt < 0 ? xml.length : lt);
    if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(text)) throw new Error(`unescaped & in text near offset ${at}`);
    if (text.includes('>')) throw new Error(`stray > in text near offset ${at}`);
    if (stack.length === 0 && text.trim() !== '') throw new Error(`text outside the root element near offset ${at}`);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    if (!m) throw new Error(`malformed tag at offset ${lt}: ${xml.slice(lt, lt + 60)}`);
    const [, close, name, attributes, selfClose] = m;
    for (const value of attributes!.matchAll(/="([^"]*)"/g)) {
      if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(value[1]!)) throw new Error(`unescaped & in an attribute of <${name}>`);
    }
    if (close) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}> at offset ${lt}`);
    } else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name!);
    } else if (stack.length === 0) roots++;
    at = tag.lastIndex;
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('> <')}>`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
}

const xmllintAvailable = spawnSync('xmllint', ['--version'], { encoding: 'utf8' }).status === 0;

/** Rows of a rendered plot as the data-* attributes say (also used by the CLI test). */
function plotRows(svg: string) {
  const attr = (tag: string, name: string) => tag.match(new RegExp(`\\b${name}="([^"]*)"`))?.[1];
  return svg
    .split('<g class="row"')
    .slice(1)
    .map((chunk) => {
      const head = chunk.slice(0, chunk.indexOf('>'));
      const spans = [...chunk.matchAll(/<rect class="span [^"]*"[^>]*>/g)].map((m) => ({
        state: attr(m[0], 'data-state')!,
        start: Number(attr(m[0], 'data-start')),
        end: Number(attr(m[0], 'data-end')),
      }));
      const events = [...chunk.matchAll(/<g class="event [^"]*"[^>]*>/g)].map((m) => ({ kind: attr(m[0], 'data-kind')!, offset: Number(attr(m[0], 'data-offset')) }));
      return { stream: Number(attr(head, 'data-stream')), role: attr(head, 'data-role')!, start: Number(attr(head, 'data-start')), end: Number(attr(head, 'data-end')), spans, events };
    });
}

describe('renderOffloadPlot', () => {
  const report = fakeReport();
  const svg = renderOffloadPlot(report);

  test('is well-formed XML with an svg root', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    checkWellFormedXml(svg);
    if (xmllintAvailable) {
      const file = join(mkdtempSync(join(tmpdir(), 'nicoff-plot-')), 'plot.svg');
      writeFileSync(file, svg);
      const r = spawnSync('xmllint', ['--noout', file], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });

  test('the XML checker catches what it should', () => {
    expect(() => checkWellFormedXml('<svg><g></svg>')).toThrow();
    expect(() => checkWellFormedXml('<svg>a & b</svg>')).toThrow();
    expect(() => checkWellFormedXml('<svg x=1></svg>')).toThrow();
    expect(() => checkWellFormedXml('<svg/><svg/>')).toThrow();
    expect(() => checkWellFormedXml('<svg><title>a &amp; b</title><rect x="1"/></svg>')).not.toThrow();
  });

  test('one row per direction, labelled with stream, role and flow', () => {
    const rows = plotRows(svg);
    const directions = report.connections.flatMap((c) => c.directions.map((d) => ({ stream: c.stream, role: d.role, flow: d.flow })));
    expect(rows.map((r) => [r.stream, r.role])).toEqual(directions.map((d) => [d.stream, d.role]));
    for (const d of directions) expect(svg).toContain(`stream ${d.stream}  ${d.role}  ${d.flow.replace('>', '&gt;')}`);
    // escaped, not raw, in the label
    expect(svg).toContain('no keys: &quot;&lt;none&gt;&quot; &amp; nothing else');
  });

  test("the spans cover each direction's range in order, with the report's states", () => {
    const rows = plotRows(svg);
    const directions = report.connections.flatMap((c) => c.directions);
    rows.forEach((row, i) => {
      const d = directions[i]!;
      expect(row.spans).toEqual(d.spans);
      expect(row.start).toBe(0);
      expect(row.end).toBe(d.spans.length ? d.spans[d.spans.length - 1]!.end : 0);
      let at = row.start;
      for (const span of row.spans) {
        expect(span.start).toBe(at);
        expect(span.end).toBeGreaterThan(span.start);
        at = span.end;
      }
      expect(at).toBe(row.end);
    });
  });

  test("one marker per event, of the event's kind", () => {
    const rows = plotRows(svg);
    const events = report.connections.flatMap((c) => c.directions.flatMap((d) => d.events));
    expect(rows.flatMap((r) => r.events)).toEqual(events);
    expect((svg.match(/<g class="event /g) ?? []).length).toBe(events.length);
    for (const kind of ['loss', 'resync-request', 'chain-fail', 'confirm', 'auth-fail']) expect(svg).toContain(`event-${kind}`);
  });

  test('has an x axis in MB and a legend of every state and marker', () => {
    expect(svg).toContain('stream bytes (MB)');
    expect(svg).toMatch(/>2\.5<\/text>|>2<\/text>/);
    for (const label of ['tracking', 'searching for a header', 'speculative (awaiting confirmation)', 'no offload', 'record boundary lost', 'resync request', 'chain check failed', 'confirmed by software', 'authentication failure']) {
      expect(svg).toContain(label);
    }
  });

  test('is deterministic', () => {
    expect(renderOffloadPlot(fakeReport())).toBe(svg);
  });

  test('a report without TLS connections still gives a valid plot', () => {
    const empty: ReplayReport = { ...report, connections: [report.connections[1]!] };
    const plot = renderOffloadPlot(empty);
    checkWellFormedXml(plot);
    expect(plotRows(plot)).toEqual([]);
    expect(plot).toContain('no TLS connections');
  });
});
