// Worker thread that seals and opens large body frames (box_runner.ts sends them), so a big
// body's secretbox (tweetnacl is plain JavaScript: about a second for 25 MiB) does not stop
// the mailstore's event loop, its heartbeats and every other account's requests meanwhile.
// The frame's memory is transferred in and back, never copied.
import { parentPort } from "node:worker_threads";
import { openInPlace, sealInPlace } from "./body_box.js";

export interface BoxJob {
  id: number;
  op: "seal" | "open";
  buffer: ArrayBuffer;
  boxOffset: number;
  nonce: Uint8Array;
  key: Uint8Array;
}

export type BoxReply = { id: number; buffer: ArrayBuffer; ok: boolean } | { id: number; buffer: ArrayBuffer; failure: string };

parentPort?.on("message", (job: BoxJob) => {
  const frame = new Uint8Array(job.buffer);
  let reply: BoxReply;
  try {
    if (job.op === "seal") {
      sealInPlace(frame, job.boxOffset, job.nonce, job.key);
      reply = { id: job.id, buffer: job.buffer, ok: true };
    } else {
      reply = { id: job.id, buffer: job.buffer, ok: openInPlace(frame, job.boxOffset, job.nonce, job.key) };
    }
  } catch (e) {
    reply = { id: job.id, buffer: job.buffer, failure: e instanceof Error ? e.message : String(e) };
  }
  parentPort!.postMessage(reply, [job.buffer]);
});
