// Worker thread of section 2b (open_workers.ts): opens the sealed entries it is sent with the
// same keyring as the main thread (loaded from the same key files) and returns what a replica
// applies from each: signer and payload (structured-cloned back, as a real pool would).
import { parentPort, workerData } from "node:worker_threads";
import { open } from "../../src/envelope/index.js";
import { loadKeyring } from "../../src/keys/index.js";

const port = parentPort!;
const { keysDir, host } = workerData as { keysDir: string; host: string };
const keyring = loadKeyring({ dir: keysDir, host });

port.on("message", (m: { id: number; entries: Uint8Array[] } | { close: true }) => {
  if ("close" in m) {
    port.close();
    return;
  }
  const opened = m.entries.map((e) => {
    const o = open(keyring, e);
    return { signer: o.signer, payload: o.payload };
  });
  port.postMessage({ id: m.id, opened });
});
