/**
 * The ledger's canonical CBOR codec (src/codec/canonical-cbor.ts), which the browser runs to
 * check receipts, writes into a Node Buffer for its in-place UTF-8 writer and reads ASCII with
 * Buffer's `latin1Slice`. This gives the browser the `buffer` package's Buffer as the global
 * one, with that method. main.tsx imports it first, before any module that needs it.
 */
import { Buffer } from 'buffer';

type Latin1Slice = (this: Uint8Array, start: number, end: number) => string;
const proto = Buffer.prototype as unknown as { latin1Slice?: Latin1Slice };
proto.latin1Slice ??= function latin1Slice(this: Uint8Array, start: number, end: number): string {
  return Buffer.from(this.buffer, this.byteOffset, this.byteLength).toString('latin1', start, end);
};
(globalThis as unknown as { Buffer: typeof Buffer }).Buffer = Buffer;
