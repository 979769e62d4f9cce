// `node dist/scripts/nats_server.js ensure|path`: finds (or fetches once) nats-server >= 2.10.
import { ensureNatsServer, natsServerPath } from "../src/natsserver/binary.js";

const [cmd = "ensure", ...rest] = process.argv.slice(2);
const quiet = rest.includes("--quiet");
try {
  if (cmd === "path") {
    process.stdout.write(natsServerPath() + "\n");
  } else if (cmd === "ensure") {
    const bin = ensureNatsServer((l) => process.stderr.write(`nats-server: ${l}\n`));
    if (!quiet) process.stderr.write(`nats-server: using ${bin.path} (${bin.version}, from ${bin.source})\n`);
  } else {
    process.stderr.write(`nats_server: unknown command '${cmd}'; allowed: ensure, path\n`);
    process.exit(2);
  }
} catch (e) {
  process.stderr.write(`nats-server: ${(e as Error).message}\n`);
  process.exit(1);
}
