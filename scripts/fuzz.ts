// `npm run fuzz -- --cases N --seed S`: hostile JSON-RPC on every subject (docs/fuzz.md).
// Starts its own nats-server, three mailstores and a supervisor, sends N seeded malformed,
// hostile and valid requests, checks every answer, and prints one summary. Exits 1 on any
// failure (a bad answer, -32603, a crash, an unescaped log line, a failed final write), 2 on
// bad usage. A failed case is replayed alone with --seed S --case N.
import { formatReport, passed, runFuzz } from "../test/helpers/fuzz/run_fuzz.js";

const USAGE = `usage: npm run fuzz -- [--cases N] [--seed S] [--case N] [--concurrency N] [--quiet]\n  --cases N        how many cases (default 1000)\n  --seed S         the seed, an integer (default: a fresh one, printed)\n  --case N         run only case N of the seed (to replay a failure)\n  --concurrency N  requests in flight at once (default 4)\n  --quiet          only the summary\n`;

function fail(message: string): never {
  process.stderr.write(`fuzz: ${message}\n${USAGE}`);
  process.exit(2);
}

function intOption(name: string, value: string | undefined, min: number, max: number): number {
  const n = Number(value);
  if (value === undefined || !Number.isSafeInteger(n) || n < min || n > max)
    fail(`${name} needs an integer from ${min} to ${max}, got ${value === undefined ? "nothing" : JSON.stringify(value)}`);
  return n;
}

const args = process.argv.slice(2);
let cases = 1000;
let seed = (Date.now() ^ (process.pid << 16)) >>> 0;
let only: number | undefined;
let concurrency = 4;
let quiet = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === "--help" || a === "-h") {
    process.stdout.write(USAGE);
    process.exit(0);
  } else if (a === "--cases") cases = intOption("--cases", args[++i], 1, 100_000_000);
  else if (a === "--seed") seed = intOption("--seed", args[++i], 0, 0xffffffff);
  else if (a === "--case") only = intOption("--case", args[++i], 0, 100_000_000);
  else if (a === "--concurrency") concurrency = intOption("--concurrency", args[++i], 1, 64);
  else if (a === "--quiet") quiet = true;
  else fail(`unknown option ${JSON.stringify(a)}; allowed: --cases, --seed, --case, --concurrency, --quiet`);
}

process.stderr.write(`fuzz: seed ${seed}, ${only !== undefined ? `case ${only}` : `${cases} cases`}, ${concurrency} in flight\n`);
const report = await runFuzz({
  cases,
  seed,
  concurrency,
  ...(only !== undefined ? { only } : {}),
  ...(quiet ? {} : { log: (l: string) => process.stderr.write(`fuzz ${l}\n`) }),
});
process.stdout.write(`${formatReport(report)}\n`);
process.exit(passed(report) ? 0 : 1);
