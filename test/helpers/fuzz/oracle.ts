// What JSON-RPC 2.0 says must come back for a payload, worked out from the payload alone
// (independently of src/jsonrpc/dispatch.ts), and the check of an actual answer against it.
import { resolveAppCode } from "../../../src/jsonrpc/codes.js";

type Id = string | number | null;

/** One expected response: the id it must carry and, when fixed by the spec, its error code. */
interface ExpectedOne {
  id: Id;
  code?: number;
}

/** No answer (notifications only), one response, or a batch of responses. */
export type Expected = { kind: "none" } | { kind: "single"; one: ExpectedOne } | { kind: "batch"; members: ExpectedOne[] };

const decoder = new TextDecoder("utf-8", { fatal: true });

function isId(v: unknown): v is Id {
  return v === null || typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
}

/** The expectation for one request object (a lone request or a batch member); undefined: a notification. */
function expectOne(el: unknown, methods: ReadonlySet<string>): ExpectedOne | undefined {
  if (typeof el !== "object" || el === null || Array.isArray(el)) return { id: null, code: -32600 };
  const r = el as Record<string, unknown>;
  const hasId = Object.prototype.hasOwnProperty.call(r, "id");
  const idOk = !hasId || isId(r.id);
  const paramsOk = r.params === undefined || (typeof r.params === "object" && r.params !== null);
  if (r.jsonrpc !== "2.0" || typeof r.method !== "string" || !idOk || !paramsOk) return { id: hasId && isId(r.id) ? r.id : null, code: -32600 };
  if (!hasId) return undefined;
  return methods.has(r.method) ? { id: r.id as Id } : { id: r.id as Id, code: -32601 };
}

/** What must come back for `body` sent to a subject serving `methods`. */
export function expectedFor(body: Uint8Array, methods: ReadonlySet<string>): Expected {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(body));
  } catch {
    return { kind: "single", one: { id: null, code: -32700 } };
  }
  if (!Array.isArray(parsed)) {
    const one = expectOne(parsed, methods);
    return one ? { kind: "single", one } : { kind: "none" };
  }
  if (parsed.length === 0) return { kind: "single", one: { id: null, code: -32600 } };
  const members = parsed.map((el) => expectOne(el, methods)).filter((m): m is ExpectedOne => m !== undefined);
  return members.length === 0 ? { kind: "none" } : { kind: "batch", members };
}

/** What one response said, for the summary. */
export interface Seen {
  /** error codes, one per error response (data.code appended for application errors) */
  codes: string[];
  results: number;
}

const STACK = /\n\s+at |\bat .+\.(?:js|ts):\d+:\d+/;

/** Problems with one response object against its expectation; empty when it is fine. */
function checkOne(res: unknown, want: ExpectedOne | undefined, seen: Seen): string[] {
  const bad: string[] = [];
  if (typeof res !== "object" || res === null || Array.isArray(res)) return ["a response is not an object"];
  const r = res as Record<string, unknown>;
  const extra = Object.keys(r).filter((k) => !["jsonrpc", "id", "result", "error"].includes(k));
  if (r.jsonrpc !== "2.0") bad.push(`jsonrpc is ${JSON.stringify(r.jsonrpc)}, not "2.0"`);
  if (!("id" in r) || !isId(r.id)) bad.push(`id ${JSON.stringify(r.id)} is not a string, number or null`);
  if (extra.length) bad.push(`unexpected members ${extra.join(", ")}`);
  if ("result" in r === "error" in r) bad.push("must have exactly one of result and error");
  if ("error" in r) {
    const e = r.error as Record<string, unknown> | null;
    if (typeof e !== "object" || e === null || !Number.isInteger(e.code) || typeof e.message !== "string") {
      bad.push(`error ${JSON.stringify(e)?.slice(0, 200)} is not { code: integer, message: string }`);
    } else {
      const code = e.code as number;
      const data = e.data as { code?: unknown } | undefined;
      const appCode = typeof data === "object" && data !== null && typeof data.code === "string" ? data.code : undefined;
      seen.codes.push(appCode ? `${code} ${appCode}` : String(code));
      if (code === -32603) bad.push(`internal error (-32603): ${JSON.stringify(e).slice(0, 400)}`);
      if (want?.code !== undefined && code !== want.code) bad.push(`error code ${code}, the spec wants ${want.code}`);
      if (code <= -32000 && code >= -32099) {
        // An application error names one of our documented codes, never a library's (ENOENT...).
        if (appCode === undefined || !resolveAppCode(appCode))
          bad.push(`application error ${code} with data.code ${JSON.stringify(appCode)}, not a documented code`);
      } else if (![-32700, -32600, -32601, -32602, -32603].includes(code)) {
        bad.push(`error code ${code} is neither a JSON-RPC code nor in our application range`);
      }
      if (STACK.test(JSON.stringify(e))) bad.push(`the error carries a stack trace: ${JSON.stringify(e).slice(0, 400)}`);
    }
  } else {
    seen.results++;
    if (want?.code !== undefined) bad.push(`a result where the spec wants error ${want.code}`);
  }
  return bad;
}

function sameId(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Problems with the answer `text` (undefined: none came) for a payload expected to get `want`. */
export function checkAnswer(text: string | undefined, want: Expected, seen: Seen): string[] {
  if (want.kind === "none") return text === undefined ? [] : [`an answer to notifications only (the spec says none): ${text.slice(0, 300)}`];
  if (text === undefined) return ["no answer"];
  let res: unknown;
  try {
    res = JSON.parse(text);
  } catch {
    return [`the answer is not JSON: ${text.slice(0, 300)}`];
  }
  if (want.kind === "single") {
    if (Array.isArray(res)) return ["an array answered a single request"];
    const bad = checkOne(res, want.one, seen);
    const id = (res as { id?: unknown }).id;
    if (!sameId(id, want.one.id)) bad.push(`id ${JSON.stringify(id)}, expected ${JSON.stringify(want.one.id)}`);
    return bad;
  }
  if (!Array.isArray(res)) {
    // Only a failure of the batch as a whole may come as one object (e.g. over the size limit).
    const bad = checkOne(res, undefined, seen);
    return bad.length ? bad : (res as { error?: unknown }).error ? [] : ["a single result answered a batch"];
  }
  const bad: string[] = [];
  if (res.length !== want.members.length) bad.push(`${res.length} responses for ${want.members.length} requests that want one`);
  const left = [...want.members];
  for (const el of res) {
    const id = (el as { id?: unknown } | null)?.id;
    const i = left.findIndex((m) => sameId(m.id, id));
    const match = i >= 0 ? left.splice(i, 1)[0] : undefined;
    if (!match) bad.push(`a response with id ${JSON.stringify(id)} that no request asked for`);
    bad.push(...checkOne(el, match, seen));
  }
  return [...new Set(bad)].slice(0, 10);
}
