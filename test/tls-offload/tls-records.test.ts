import { describe, test, expect } from '@jest/globals';
import {
  HELLO_RETRY_REQUEST_RANDOM,
  HandshakeReader,
  parseClientHello,
  parseServerHello,
  plaintextHandshake,
  splitRecords,
} from '../../src/tls-offload/tls-records.js';
import { NicoffError } from '../../src/diagnostics/diagnostic.js';

const u16 = (n: number): Buffer => Buffer.of(n >> 8, n & 0xff);
const u24 = (n: number): Buffer => Buffer.of(n >> 16, (n >> 8) & 0xff, n & 0xff);
const record = (type: number, body: Uint8Array): Buffer => Buffer.concat([Buffer.of(type, 3, 3), u16(body.length), body]);
const handshake = (type: number, body: Uint8Array): Buffer => Buffer.concat([Buffer.of(type), u24(body.length), body]);
const extension = (type: number, body: Uint8Array): Buffer => Buffer.concat([u16(type), u16(body.length), body]);

function serverHelloBody(random: Buffer, suite: number, extensions: Buffer[]): Buffer {
  const ext = Buffer.concat(extensions);
  return Buffer.concat([u16(0x0303), random, Buffer.of(0), u16(suite), Buffer.of(0), u16(ext.length), ext]);
}

function clientHelloBody(random: Buffer, extensions: Buffer[]): Buffer {
  const ext = Buffer.concat(extensions);
  return Buffer.concat([u16(0x0303), random, Buffer.of(32), Buffer.alloc(32, 7), u16(4), u16(0x1301), u16(0xc02f), Buffer.of(1, 0), u16(ext.length), ext]);
}

describe('TLS records and hellos', () => {
  test('splits a stream into records and reports the incomplete tail', () => {
    const stream = Buffer.concat([record(22, Buffer.alloc(10, 1)), record(23, Buffer.alloc(3, 2)), Buffer.of(23, 3, 3, 0, 50, 1, 2)]);
    const { records, trailingBytes } = splitRecords(stream);
    expect(records.map((r) => [r.offset, r.contentType, r.fragment.length])).toEqual([[0, 22, 10], [15, 23, 3]]);
    expect(Buffer.from(records[1]!.header).toString('hex')).toBe('1703030003');
    expect(trailingBytes).toBe(7);
  });

  test('a non-TLS header is NC7002', () => {
    try {
      splitRecords(Buffer.from('GET / HTTP/1.1\r\n'), 'flow x');
      throw new Error('no error');
    } catch (error) {
      expect(error).toBeInstanceOf(NicoffError);
      expect((error as NicoffError).diagnostic.code).toBe('NC7002');
    }
  });

  test('handshake messages spanning records; hellos, supported_versions, early_data', () => {
    const clientRandom = Buffer.alloc(32, 0xc1);
    const serverRandom = Buffer.alloc(32, 0x5e);
    const clientHello = handshake(1, clientHelloBody(clientRandom, [extension(42, Buffer.alloc(0)), extension(43, Buffer.of(2, 3, 4))]));
    const hrr = handshake(2, serverHelloBody(HELLO_RETRY_REQUEST_RANDOM, 0x1301, [extension(43, u16(0x0304))]));
    const serverHello = handshake(2, serverHelloBody(serverRandom, 0x1301, [extension(43, u16(0x0304))]));
    // ClientHello split over two records.
    const clientStream = Buffer.concat([record(22, clientHello.subarray(0, 20)), record(22, clientHello.subarray(20)), record(20, Buffer.of(1))]);
    const clientMessages = plaintextHandshake(splitRecords(clientStream).records);
    expect(clientMessages.map((m) => m.type)).toEqual([1]);
    const hello = parseClientHello(clientMessages[0]!.body);
    expect(Buffer.from(hello.random).equals(clientRandom)).toBe(true);
    expect(hello.cipherSuites).toEqual([0x1301, 0xc02f]);
    expect(hello.offersEarlyData).toBe(true);

    const serverStream = Buffer.concat([record(22, Buffer.concat([hrr, serverHello])), record(23, Buffer.alloc(30))]);
    const serverMessages = plaintextHandshake(splitRecords(serverStream).records);
    const hellos = serverMessages.map((m) => parseServerHello(m.body));
    expect(hellos.map((h) => h.isHelloRetryRequest)).toEqual([true, false]);
    expect(hellos[1]!.version).toBe(0x0304);
    expect(hellos[1]!.legacyVersion).toBe(0x0303);
    expect(hellos[1]!.cipherSuite).toBe(0x1301);
    expect(parseServerHello(serverHelloBody(serverRandom, 0xc02f, [])).version).toBe(0x0303);
  });

  test('HandshakeReader keeps an incomplete message pending', () => {
    const reader = new HandshakeReader();
    const message = handshake(20, Buffer.alloc(32, 9));
    expect(reader.push(message.subarray(0, 3))).toEqual([]);
    expect(reader.pendingBytes).toBe(3);
    const done = reader.push(message.subarray(3));
    expect(done.map((m) => [m.type, m.body.length])).toEqual([[20, 32]]);
    expect(reader.pendingBytes).toBe(0);
  });

  test('a truncated hello is NC7002', () => {
    expect(() => parseServerHello(Buffer.alloc(10))).toThrow(/NC7002/);
  });
});
