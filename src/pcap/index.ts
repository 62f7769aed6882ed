/** Public surface of src/pcap: capture reading, writing and link layers. */
export * from './capture.js';
export { CaptureParser, sniffCaptureFormat, MAX_RECORD_BYTES, type CaptureFormat } from './capture-parser.js';
export { readCapture, truncationDiagnostic, type ReadCaptureOptions } from './read-capture.js';
export { writePcap, writePcapng, type PacketToWrite, type PcapWriteOptions, type PcapngWriteOptions } from './capture-writer.js';
export * from './link-layer.js';
export * from './packet-builder.js';
export { CaptureFileWindow, scanCaptureFile, DEFAULT_WINDOW_BYTES, type CaptureFileScan } from './capture-file.js';
