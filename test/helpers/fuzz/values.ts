// The values the fuzzer puts where a method expects something: hostile strings and numbers
// of every JSON type, and valid values taken from the running system (account names and ids,
// hosts, folders, operation ids) so that some calls really change state.
import { pick, intIn, type Rand } from "../workload.js";
import { RawJson } from "./json_text.js";

/** What the running system offers as valid values; fixed after set-up, so cases stay reproducible. */
export interface FuzzPool {
  accountNames: string[];
  accountIds: string[];
  hosts: string[];
  folders: string[];
  operationIds: string[];
  itemIds: number[];
  natsUrl: string;
}

const FORGED_LOG = "x\n[ms1.example.com] mailstore ms1.example.com started (forged)\r\n";

/** Strings that break something somewhere: KV key and subject syntax, paths, control characters, unicode. */
export const HOSTILE_STRINGS: readonly string[] = [
  "",
  " ",
  "*",
  ">",
  ".",
  "..",
  "a.*",
  "a.>",
  "a b",
  "a\tb",
  "*.example.com",
  "ms1.example.com.",
  ".ms1.example.com",
  "ms1..example.com",
  "mr.>",
  "$JS.API.>",
  "_INBOX.x",
  "../../../../etc/passwd",
  "..\\..\\windows\\system32",
  "/",
  "/tmp/x",
  "C:\\x",
  "Inbox/../..",
  "Inbox//x",
  "%00",
  "%2e%2e%2f",
  "\u0000",
  "a\u0000b",
  "\n",
  "\r\n",
  FORGED_LOG,
  "\u001b[31mred\u001b[0m",
  "\u007f",
  "\u2028",
  "\u2029",
  "\u0085",
  "\ufeff",
  "\ud800",
  "é漢字🙂",
  "ａｌｉｃｅ＠ｅｘａｍｐｌｅ．ｃｏｍ",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "NaN",
  "-NaN",
  "Infinity",
  "-Infinity",
  "-0",
  "1e308",
  "9007199254740993",
  "0x10",
  "null",
  "true",
  "undefined",
  "{}",
  "[]",
  "'; DROP TABLE items; --",
  "${jndi:ldap://x}",
  "<script>alert(1)</script>",
  "user@",
  "@example.com",
  "a@b@c",
  "?",
  "a?b",
  "a,b,,c",
  ",",
  "00000000-0000-0000-0000-000000000000",
  "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
  "kind:",
  "account:*",
  "folder:..",
  "nats://127.0.0.1:1",
  "tls://[::1]:1",
  "module",
  "seen",
  "\\Seen",
  "Inbox",
];

/** Numbers at the edges, some as raw text JSON.stringify cannot write. */
export const EDGE_NUMBERS: readonly unknown[] = [
  0,
  1,
  -1,
  2,
  1.5,
  -1.5,
  1000,
  1001,
  60_000,
  600_001,
  2_147_483_647,
  2_147_483_648,
  4_294_967_296,
  Number.MAX_SAFE_INTEGER,
  -Number.MAX_SAFE_INTEGER,
  new RawJson("9007199254740993"),
  new RawJson("-0"),
  new RawJson("-0.0"),
  new RawJson("1e308"),
  new RawJson("-1e308"),
  new RawJson("1e400"),
  new RawJson("-1e400"),
  new RawJson("5e-324"),
  new RawJson("1E2"),
  new RawJson("123456789012345678901234567890"),
];

/** A long string of one of a few shapes. */
export function longString(rand: Rand): string {
  const n = pick(rand, [255, 256, 321, 2049, 65_536, 300_000]);
  const unit = pick(rand, ["a", "é", "🙂", "*", "\n", "a.", "\u0000"]);
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
}

/** Any hostile value, of a random JSON type. */
export function hostileValue(rand: Rand, pool: FuzzPool, depth = 0): unknown {
  const r = rand();
  if (r < 0.4) return pick(rand, HOSTILE_STRINGS);
  if (r < 0.55) return pick(rand, EDGE_NUMBERS);
  if (r < 0.6) return pick(rand, [true, false, null]);
  if (r < 0.65) return longString(rand);
  if (r < 0.72) return pick(rand, [{}, { a: 1 }, { __proto__: 1, constructor: { prototype: 1 } }, JSON.parse('{"__proto__":{"x":1}}')]);
  if (r < 0.8 && depth < 2) return Array.from({ length: intIn(rand, 0, 4) }, () => hostileValue(rand, pool, depth + 1));
  if (r < 0.85) return Array.from({ length: pick(rand, [0, 1, 1001, 5000]) }, (_, i) => (rand() < 0.5 ? i + 1 : pick(rand, HOSTILE_STRINGS)));
  return validLooking(rand, pool);
}

/** A value of the system (a real account, host, folder or operation), possibly mangled. */
export function validLooking(rand: Rand, pool: FuzzPool): unknown {
  const base = pick(rand, [
    ...pool.accountNames,
    ...pool.accountIds,
    ...pool.hosts,
    ...pool.folders,
    ...pool.operationIds,
    ...pool.itemIds,
    pool.natsUrl,
  ] as unknown[]);
  if (typeof base !== "string" || rand() < 0.5) return base;
  switch (intIn(rand, 0, 6)) {
    case 0:
      return `${base}*`;
    case 1:
      return `${base}.>`;
    case 2:
      return base.toUpperCase();
    case 3:
      return ` ${base} `;
    case 4:
      return `${base}\n`;
    case 5:
      return [base];
    default:
      return `${base},${pick(rand, HOSTILE_STRINGS)}`;
  }
}
