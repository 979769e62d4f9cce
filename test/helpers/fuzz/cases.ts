// One fuzz case from (seed, index) alone: the same pair always gives the same request, so a
// failure is replayed with `--seed S --case N`. A case is a subject and the exact bytes sent.
import type { ParamSpec, ParamSpecs } from "../../../src/jsonrpc/index.js";
import { prng, pick, intIn, type Rand } from "../workload.js";
import { rawMessage } from "../system.js";
import { deepText, jsonText, RawJson } from "./json_text.js";
import { EDGE_NUMBERS, HOSTILE_STRINGS, hostileValue, longString, validLooking, type FuzzPool } from "./values.js";

/** A subject and the methods served there (names and declared params). */
export interface FuzzTarget {
  subject: string;
  methods: { name: string; params: ParamSpecs }[];
}

export const CASE_KINDS = [
  "not-json",
  "truncated",
  "deep",
  "batch",
  "jsonrpc-version",
  "id-types",
  "unknown-method",
  "wrong-params",
  "hostile-params",
  "params-shape",
  "valid",
] as const;
export type CaseKind = (typeof CASE_KINDS)[number];

export interface FuzzCase {
  index: number;
  kind: CaseKind;
  subject: string;
  body: Uint8Array;
  /** the request in words, for a failure report (the body itself is printed too) */
  note: string;
}

// Weights: most cases exercise methods (where the handlers are), the rest the protocol layer.
const WEIGHTS: [CaseKind, number][] = [
  ["not-json", 4],
  ["truncated", 4],
  ["deep", 2],
  ["batch", 6],
  ["jsonrpc-version", 3],
  ["id-types", 5],
  ["unknown-method", 4],
  ["wrong-params", 22],
  ["hostile-params", 24],
  ["params-shape", 6],
  ["valid", 20],
];
const WEIGHT_TOTAL = WEIGHTS.reduce((s, [, w]) => s + w, 0);

/** The per-case seed: the run's seed and the case number mixed, so each case stands alone. */
export function caseSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

const enc = new TextEncoder();

function pickKind(rand: Rand): CaseKind {
  let r = rand() * WEIGHT_TOTAL;
  for (const [k, w] of WEIGHTS) if ((r -= w) < 0) return k;
  return "valid";
}

/** Candidates for a param, best first: by its name, then anything the pool has. */
function candidates(name: string, spec: ParamSpec<unknown>, rand: Rand, pool: FuzzPool): unknown[] {
  const n = name.toLowerCase();
  const enumValues = [...spec.expects.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
  const out: unknown[] = [...enumValues];
  if (n === "raw") out.push(rawMessage(intIn(rand, 1, 1_000_000)));
  if (n.includes("account")) out.push(pick(rand, pool.accountNames), pick(rand, pool.accountIds), [pick(rand, pool.accountNames)], pool.accountIds.slice(0, 2));
  if (n.includes("host") || n === "destination" || n === "from" || n.includes("server") || n === "domains")
    out.push(pick(rand, pool.hosts), [pick(rand, pool.hosts)], "example.com");
  if (n === "servers") out.push([pool.natsUrl]);
  if (n.includes("uuid") || n.includes("operation")) out.push(...pool.operationIds);
  if (n === "folder" || n.includes("path")) out.push(pick(rand, pool.folders), `F${intIn(rand, 1, 50)}`, `Archive/F${intIn(rand, 1, 50)}`);
  if (n === "ids") out.push([pick(rand, pool.itemIds)], pool.itemIds.slice(0, 3));
  if (n === "id") out.push(pick(rand, pool.itemIds));
  // getItemBody ranges: inside the set-up's messages (about 170 bytes), at their end, and past it.
  if (n === "offset") out.push(intIn(rand, 0, 200));
  if (n === "length") out.push(intIn(rand, 1, 300), 3 * 1024);
  if (n === "flags") out.push(["seen"], ["flagged", "work"], []);
  if (n === "keys") out.push([`account:${pick(rand, pool.accountIds)}`]);
  if (n === "requestid") out.push(`fuzz-${intIn(rand, 1, 1_000_000)}`);
  if (n === "name") out.push(`fuzz${intIn(rand, 1, 40)}@example.com`);
  if (n === "epoch") out.push(intIn(rand, 2, 5));
  out.push(1, 10, 0, 2, 50, 1_000, "x", "Inbox", true, false, [], ["x"], pick(rand, pool.hosts), pick(rand, pool.accountNames));
  // A list of objects (promoteMany's accounts): one-item lists of the required fields, each
  // field one of the first candidates its name gives (validValue keeps those that pass).
  const item = spec.schema.items;
  if (item?.type === "object" && item.properties) {
    const required = item.required ?? [];
    const field = (f: string): unknown => pick(rand, candidates(f, { expects: "", schema: {} } as ParamSpec<unknown>, rand, pool).slice(0, 2));
    for (let i = 0; i < 8; i++) out.unshift([Object.fromEntries(required.map((f) => [f, field(f)]))]);
  }
  return out;
}

/** A value the param accepts (per its own check), or a hostile one when none of the candidates passes. */
function validValue(name: string, spec: ParamSpec<unknown>, rand: Rand, pool: FuzzPool): unknown {
  const ok = candidates(name, spec, rand, pool).filter((v) => spec.check(v).ok);
  return ok.length > 0 ? ok[Math.floor(rand() * Math.min(ok.length, 3))] : hostileValue(rand, pool);
}

function validParams(specs: ParamSpecs, rand: Rand, pool: FuzzPool): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(specs)) {
    if (s.required || rand() < 0.35) out[name] = validValue(name, s, rand, pool);
  }
  return out;
}

/** A value of another JSON type than the param wants (or the right type out of range). */
function wrongValue(rand: Rand, pool: FuzzPool): unknown {
  return pick(rand, [
    () => pick(rand, EDGE_NUMBERS),
    () => pick(rand, HOSTILE_STRINGS),
    () => pick(rand, [true, false, {}, [], [[]], [null], { x: [1] }]),
    () => [pick(rand, EDGE_NUMBERS), pick(rand, HOSTILE_STRINGS)],
    () => longString(rand),
    () => validLooking(rand, pool),
  ])();
}

function request(method: unknown, params: unknown, id: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { jsonrpc: "2.0", method, ...(params !== undefined ? { params } : {}), ...(id !== undefined ? { id } : {}), ...extra };
}

/** A request id of any JSON type; undefined (a notification) now and then. */
function anyId(rand: Rand, index: number): unknown {
  return pick(rand, [
    index,
    `c${index}`,
    null,
    undefined,
    -index,
    index + 0.5,
    true,
    {},
    [index],
    "",
    new RawJson("-0"),
    new RawJson("1e400"),
    new RawJson("9007199254740993"),
    "\u0000\n*>",
    longString(rand),
  ]);
}

/** Mostly a plain id, sometimes a notification. */
function plainId(rand: Rand, index: number): unknown {
  const r = rand();
  if (r < 0.08) return undefined;
  return r < 0.55 ? index : `c${index}`;
}

function methodCall(
  rand: Rand,
  target: FuzzTarget,
  pool: FuzzPool,
  index: number,
  kind: "wrong-params" | "hostile-params" | "params-shape" | "valid",
): { req: unknown; note: string } {
  const m = pick(rand, target.methods);
  const specs = m.params;
  const names = Object.keys(specs);
  let params: unknown = validParams(specs, rand, pool);
  let note = `${m.name}`;
  if (kind === "wrong-params" || kind === "hostile-params") {
    const p = params as Record<string, unknown>;
    const name = names.length > 0 && rand() < 0.85 ? pick(rand, names) : pick(rand, ["extra", "__proto__", "constructor", "", "*", "params", "account "]);
    p[name] = kind === "wrong-params" ? wrongValue(rand, pool) : hostileValue(rand, pool);
    note += `, param ${JSON.stringify(name)} ${kind === "wrong-params" ? "of a wrong type" : "hostile"}`;
    if (rand() < 0.15 && names.length > 0) {
      const drop = pick(rand, names);
      delete p[drop];
      note += `, ${drop} left out`;
    }
  } else if (kind === "params-shape") {
    const shapes: [string, unknown][] = [
      ["params as an array", [params]],
      ["params as an empty array", []],
      ["params a string", "x"],
      ["params a number", 1],
      ["params null", null],
      ["params true", true],
      ["no params", undefined],
      ["params nested", { params }],
      ["params deep", new RawJson(deepText(intIn(rand, 100, 5_000), pick(rand, ["array", "object"] as const)))],
    ];
    const [what, v] = pick(rand, shapes);
    params = v;
    note += `, ${what}`;
  }
  return { req: request(m.name, params, plainId(rand, index)), note };
}

/** The request for case `index` of a run with `seed`, against `targets`. */
export function makeCase(seed: number, index: number, targets: readonly FuzzTarget[], pool: FuzzPool): FuzzCase {
  const rand = prng(caseSeed(seed, index));
  const target = pick(rand, targets);
  const kind = pickKind(rand);
  const text = (v: unknown): Uint8Array => enc.encode(jsonText(v));
  const one = (k: typeof kind) =>
    methodCall(rand, target, pool, index, k === "wrong-params" || k === "hostile-params" || k === "params-shape" || k === "valid" ? k : "valid");
  let body: Uint8Array;
  let note: string = kind;
  switch (kind) {
    case "not-json": {
      const choice = intIn(rand, 0, 7);
      if (choice === 0) body = Uint8Array.from({ length: intIn(rand, 0, 200) }, () => intIn(rand, 0, 255));
      else if (choice === 1) body = Uint8Array.from([0xff, 0xfe, 0x7b, 0x7d]);
      else if (choice === 2)
        body = enc.encode(pick(rand, ["", " ", "null", "1", '"x"', "true", "{", "}", "[", "]", "{]", "nul", "NaN", "undefined", "{'a':1}", "\ufeff{}"]));
      else if (choice === 3)
        body = Uint8Array.from([0x7b, 0x22, 0x6a, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]); // invalid UTF-8 inside a key
      else if (choice === 4) body = enc.encode(`${jsonText(request("ping", undefined, index))}${pick(rand, ["x", "{}", ",", "]", "\u0000"])}`);
      else if (choice === 5) body = enc.encode(jsonText(request("ping", undefined, index)).replace(/"/g, "'"));
      else if (choice === 6) body = enc.encode(`{"jsonrpc":"2.0","method":"ping","id":${index},"params":{"a":1,}}`);
      else body = enc.encode("\u0000".repeat(intIn(rand, 1, 64)));
      note = `not JSON (${body.length} bytes)`;
      break;
    }
    case "truncated": {
      const full = jsonText(one("valid").req);
      const cut = intIn(rand, 0, Math.max(0, full.length - 1));
      body = enc.encode(full.slice(0, cut));
      note = `truncated at ${cut} of ${full.length}`;
      break;
    }
    case "deep": {
      const depth = pick(rand, [1_000, 10_000, 100_000, 400_000]);
      const shape = pick(rand, ["array", "object"] as const);
      const where = intIn(rand, 0, 2);
      const deep = deepText(depth, shape);
      if (where === 0) body = enc.encode(deep);
      else if (where === 1) body = text(request("ping", new RawJson(`{"x":${deep}}`), index));
      else {
        const m = pick(rand, target.methods);
        const names = Object.keys(m.params);
        body = text(request(m.name, { [names.length ? pick(rand, names) : "x"]: new RawJson(deep) }, index));
      }
      note = `nesting ${depth} deep (${shape}, ${["bare", "in params", "in a method's param"][where]})`;
      break;
    }
    case "batch": {
      const size = pick(rand, [0, 1, 2, 5, 20, 200, 2_000]);
      const members: unknown[] = [];
      for (let i = 0; i < size; i++) {
        const r = rand();
        if (r < 0.35) members.push(one(pick(rand, ["valid", "wrong-params", "hostile-params"] as const)).req);
        else if (r < 0.5)
          members.push({ ...(one("valid").req as object), id: undefined }); // notification
        else if (r < 0.65) members.push(request(pick(rand, ["nope", "", "rpc.x", "__proto__"]), undefined, index * 10_000 + i));
        else if (r < 0.8) members.push(pick(rand, [1, "x", null, true, [], [1], {}]));
        else members.push(request("ping", undefined, anyId(rand, i), rand() < 0.3 ? { jsonrpc: pick(rand, ["1.0", 2, null]) } : {}));
      }
      body = enc.encode(size === 0 ? pick(rand, ["[]", "[ ]"]) : jsonText(members));
      note = `batch of ${size}`;
      break;
    }
    case "jsonrpc-version": {
      const v = pick(rand, ["1.0", "2", "2.0 ", "2.00", 2, 2.0, null, true, {}, ["2.0"], undefined, "", "3.0"]);
      const base = one("valid").req as Record<string, unknown>;
      body = text({ ...base, jsonrpc: v });
      note = `jsonrpc ${JSON.stringify(v) ?? "left out"}`;
      break;
    }
    case "id-types": {
      const base = one(pick(rand, ["valid", "wrong-params"] as const)).req as Record<string, unknown>;
      const id = anyId(rand, index);
      body = text({ ...base, id });
      note = `id ${id instanceof RawJson ? id.text : (JSON.stringify(id)?.slice(0, 40) ?? "left out")}`;
      break;
    }
    case "unknown-method": {
      const other = pick(
        rand,
        targets.flatMap((t) => t.methods.map((m) => m.name)),
      );
      const method = pick(rand, [
        other,
        "nope",
        "",
        " ping",
        "PING",
        "rpc.discover",
        "__proto__",
        "constructor",
        "hasOwnProperty",
        "toString",
        "*",
        ">",
        "a.b",
        longString(rand),
        1,
        null,
        [],
        {},
        true,
      ]);
      body = text(request(method, rand() < 0.5 ? {} : undefined, plainId(rand, index)));
      note = `method ${JSON.stringify(method)?.slice(0, 60)}`;
      break;
    }
    default: {
      const c = one(kind);
      body = text(c.req);
      note = `${kind}: ${c.note}`;
    }
  }
  return { index, kind, subject: target.subject, body, note };
}
