// `npm run nemesis -- --rounds N --seed S`: the fault nemesis of docs/nemesis.md. Starts its
// own three-node nats cluster, three mailstores and a supervisor (child processes, free
// loopback ports, temporary folders), writes a mixed workload from simulated clients while a
// seeded schedule injects one fault per round, then heals everything and checks every copy.
// Prints one summary; exits 1 when anything was lost, duplicated, divergent, unexpected or
// refused unexpectedly, 2 on bad usage.
import { formatReport, passed, runNemesis } from "../test/helpers/nemesis/run_nemesis.js";
import { FAULT_KINDS, type FaultKind } from "../test/helpers/nemesis/faults.js";

const USAGE = `usage: npm run nemesis -- [--rounds N] [--seed S] [--clients N] [--quiet]\n  --rounds N   fault rounds (default 10)\n  --seed S     the schedule's seed, an integer (default: a fresh one, printed)\n  --clients N  simulated clients, each writing 2 accounts (default 3)\n  --faults K,K only these fault kinds (default all: ${FAULT_KINDS.join(", ")})\n  --quiet      only the summary\nSee docs/nemesis.md.\n`;

function fail(message: string): never {
  process.stderr.write(`nemesis: ${message}\n${USAGE}`);
  process.exit(2);
}

function intOption(name: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value);
  if (value === undefined || !Number.isSafeInteger(n) || n < min || n > max)
    fail(`${name} needs an integer from ${min} to ${max}, got ${value === undefined ? "nothing" : JSON.stringify(value)}`);
  return n;
}

const args = process.argv.slice(2);
let rounds = 10;
let seed = (Date.now() ^ (process.pid << 16)) >>> 0;
let clients = 3;
let quiet = false;
let faults: FaultKind[] | undefined;
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === "--help" || a === "-h") {
    process.stdout.write(USAGE);
    process.exit(0);
  } else if (a === "--rounds") rounds = intOption("--rounds", args[++i], 1, 10_000);
  else if (a === "--seed") seed = intOption("--seed", args[++i], 0, 0xffffffff);
  else if (a === "--clients") clients = intOption("--clients", args[++i], 1, 20);
  else if (a === "--quiet") quiet = true;
  else if (a === "--faults") {
    const list = (args[++i] ?? "").split(",").filter((k) => k !== "");
    const bad = list.filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
    if (list.length === 0 || bad.length > 0)
      fail(`--faults needs a comma-separated list of ${FAULT_KINDS.join(", ")}; got ${bad.length ? bad.join(", ") : "nothing"}`);
    faults = list as FaultKind[];
  } else fail(`unknown option ${JSON.stringify(a)}; allowed: --rounds, --seed, --clients, --faults, --quiet`);
}

process.stderr.write(`nemesis: seed ${seed}, ${rounds} rounds, ${clients} clients${faults ? `, faults ${faults.join(",")}` : ""}\n`);
const report = await runNemesis({
  rounds,
  seed,
  clients,
  ...(faults ? { faults } : {}),
  ...(quiet ? {} : { log: (l: string) => process.stderr.write(`nemesis ${l}\n`) }),
});
process.stdout.write(`${formatReport(report)}\n`);
process.exit(passed(report) ? 0 : 1);
