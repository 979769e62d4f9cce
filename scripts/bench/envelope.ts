// Envelope cost (docs/architecture.md, Write path): seal + open of one log entry (msgpack, secretbox,
// ed25519 sign/verify) against the raw baseline of msgpack encode + decode of the same batch.
import { decode, encode } from "../../src/codec/index.js";
import { open, seal, type EnvelopeKeyring } from "../../src/envelope/index.js";
import type { MailEvent, TxBatch } from "../../src/mail/index.js";
import { timeLoop } from "./util.js";

export interface EnvelopeRow {
  batch: string;
  events: number;
  payloadBytes: number;
  envelopeBytes: number;
  /** µs per batch */
  codecUs: number;
  sealUs: number;
  openUs: number;
  sealOpenUs: number;
  /** (seal + open) / (encode + decode) */
  ratio: number;
}

function flagsEvent(i: number): MailEvent {
  return { t: "flags.set", ids: [1000 + i], flags: ["seen"], tags: [`k${i % 7}`] };
}

function deliveredEvent(i: number): MailEvent {
  return {
    t: "message.delivered",
    itemId: 1000 + i,
    folderId: 2,
    messageId: `<m${i}.1732442400@sender.example.org>`,
    from: `sender${i}@example.org`,
    to: ["john.doe@example.com"],
    cc: [],
    subject: `Quarterly report, part ${i}`,
    date: 1_732_442_400_000 + i,
    size: 2_048 + i,
    flags: [],
    tags: [],
    blob: "9f2c4e7a1b3d5f60718293a4b5c6d7e8f90112233445566778899aabbccddeef",
  };
}

function batchOf(events: MailEvent[]): TxBatch {
  return { v: 1, account: "6f1c0d2e-8a4b-4c3d-9e5f-0a1b2c3d4e5f", epoch: 1, writer: "ms1.bench.example.com", at: Date.now(), prev: 41, events };
}

export function benchEnvelope(keyring: EnvelopeKeyring, msPerCase: number): EnvelopeRow[] {
  const cases: Array<[string, MailEvent[]]> = [
    ["setFlags x1", [flagsEvent(0)]],
    ["setFlags x16", Array.from({ length: 16 }, (_, i) => flagsEvent(i))],
    ["setFlags x256", Array.from({ length: 256 }, (_, i) => flagsEvent(i))],
    ["deliverMessage x16", Array.from({ length: 16 }, (_, i) => deliveredEvent(i))],
  ];
  const rows: EnvelopeRow[] = [];
  let sink = 0;
  for (const [name, events] of cases) {
    const batch = batchOf(events);
    const packed = encode(batch);
    const sealed = seal(keyring, batch);
    // Same check as a replica: the opened payload is the batch.
    if ((open(keyring, sealed).payload as TxBatch).events.length !== events.length) throw new Error("envelope round trip lost events");
    const codec = timeLoop(() => {
      sink += (decode(encode(batch)) as TxBatch).events.length;
    }, msPerCase);
    const s = timeLoop(() => {
      sink += seal(keyring, batch).length;
    }, msPerCase);
    const o = timeLoop(() => {
      sink += (open(keyring, sealed).payload as TxBatch).prev;
    }, msPerCase);
    const so = timeLoop(() => {
      sink += (open(keyring, seal(keyring, batch)).payload as TxBatch).prev;
    }, msPerCase);
    rows.push({
      batch: name,
      events: events.length,
      payloadBytes: packed.length,
      envelopeBytes: sealed.length,
      codecUs: codec.usPerOp,
      sealUs: s.usPerOp,
      openUs: o.usPerOp,
      sealOpenUs: so.usPerOp,
      ratio: so.usPerOp / codec.usPerOp,
    });
  }
  if (sink === -1) console.log(sink);
  return rows;
}
