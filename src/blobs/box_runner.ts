// Where a frame is sealed or opened: in line for small bodies (a worker round trip would cost
// more than the box), on one shared worker thread (box_worker.ts) from WORKER_MIN_BYTES on.
// The frame's ArrayBuffer is transferred to the worker and back: the caller's Buffer is
// detached meanwhile, so the caller uses the Buffer returned.
import { Worker } from "node:worker_threads";
import { openInPlace, sealInPlace } from "./body_box.js";
import type { BoxJob, BoxReply } from "./box_worker.js";

/** From this frame size on, boxes are computed off the event loop (about 15 ms of work). */
export const WORKER_MIN_BYTES = 256 * 1024;

/** Seals `frame` (a Buffer over a whole, unpooled ArrayBuffer); resolves to it sealed. */
export async function sealFrame(frame: Buffer, boxOffset: number, nonce: Uint8Array, key: Uint8Array): Promise<Buffer> {
  if (!offloadable(frame)) {
    sealInPlace(frame, boxOffset, nonce, key);
    return frame;
  }
  const reply = await boxWorker.run("seal", frame, boxOffset, nonce, key);
  return reply.frame;
}

/** Opens `frame` in place; `ok` is false when its tag is wrong. */
export async function openFrame(frame: Buffer, boxOffset: number, nonce: Uint8Array, key: Uint8Array): Promise<{ frame: Buffer; ok: boolean }> {
  if (!offloadable(frame)) return { frame, ok: openInPlace(frame, boxOffset, nonce, key) };
  return boxWorker.run("open", frame, boxOffset, nonce, key);
}

/** Only a Buffer that is its whole ArrayBuffer can be handed over without a copy. */
function offloadable(frame: Buffer): boolean {
  return frame.length >= WORKER_MIN_BYTES && frame.byteOffset === 0 && frame.buffer.byteLength === frame.length && frame.buffer instanceof ArrayBuffer;
}

/** One worker for the process, started on first use, not keeping the process alive when idle. */
class BoxWorker {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: { frame: Buffer; ok: boolean }) => void; reject: (e: Error) => void }>();

  run(op: BoxJob["op"], frame: Buffer, boxOffset: number, nonce: Uint8Array, key: Uint8Array): Promise<{ frame: Buffer; ok: boolean }> {
    const worker = this.started();
    const id = this.nextId++;
    const done = new Promise<{ frame: Buffer; ok: boolean }>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    if (this.pending.size === 1) worker.ref();
    const buffer = frame.buffer as ArrayBuffer;
    const job: BoxJob = { id, op, buffer, boxOffset, nonce, key };
    worker.postMessage(job, [buffer]);
    return done;
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL("./box_worker.js", import.meta.url));
    worker.unref();
    worker.on("message", (reply: BoxReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ("failure" in reply) p.reject(new Error(`body box worker: ${reply.failure}`));
      else p.resolve({ frame: Buffer.from(reply.buffer), ok: reply.ok });
    });
    const fail = (e: Error): void => {
      // The frames it held are gone with it: their puts and reads fail, later ones get a new
      // worker. (An "exit" after an "error" finds another worker current: nothing to do.)
      if (this.worker !== worker) return;
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) => fail(new Error(`body box worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}

const boxWorker = new BoxWorker();
