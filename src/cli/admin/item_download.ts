// `getItem ... out FILE` in the CLI and the REPL, the read side of `deliverMessage ... file
// PATH`: the message's exact bytes are read with getItemBody, part after part (each answer
// fits in one NATS message), written to FILE as they come (or to standard output for
// `out -`), and checked against the size and sha256 the mailstore gives for the whole body.
// Memory stays about one part, whatever the message's size.
import { createHash, randomUUID } from "node:crypto";
import type { ItemBodyPart } from "../../protocol/item_body_part.js";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { CallError } from "./errors.js";

/** Calls getItemBody with `params` and resolves with its result; throws CallError. */
export type BodyPartCaller = (params: Record<string, unknown>) => Promise<unknown>;

/** What a whole read gives: the body's size and SHA-256 (checked), and how many calls it took. */
export interface ItemBodyRead {
  id: number;
  size: number;
  sha256: string;
  parts: number;
}

type Part = ItemBodyPart;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function badAnswer(what: string): CallError {
  return new CallError(
    `getItemBody answered ${what}; nothing was kept; retry, and check that every mailstore runs the same mailreplica version`,
    "BAD_RESPONSE",
  );
}

/** The answer as a part starting at `offset`, or BAD_RESPONSE saying what is wrong with it. */
function partAt(v: unknown, offset: number): Part {
  const p = v as Partial<Part> | null;
  if (typeof p !== "object" || p === null) throw badAnswer("something that is not an object");
  const ints = ["offset", "length", "size"] as const;
  for (const k of ints) if (!Number.isSafeInteger(p[k]) || (p[k] as number) < 0) throw badAnswer(`no valid ${k}`);
  if (typeof p.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(p.sha256)) throw badAnswer("no valid sha256");
  if (typeof p.data !== "string" || !BASE64.test(p.data)) throw badAnswer("data that is not base64");
  if (typeof p.more !== "boolean") throw badAnswer("no valid more");
  if (p.offset !== offset) throw badAnswer(`the part at ${p.offset} when asked for ${offset}`);
  return p as Part;
}

/**
 * Reads the whole body of item `id` of `account` with getItemBody and hands its bytes to
 * `write` in order. Every answer must carry the size and sha256 of the first, parts must
 * follow each other, and the bytes together must have that size and hash (DOWNLOAD_MISMATCH
 * otherwise). Throws CallError.
 */
export async function readItemBody(call: BodyPartCaller, account: string, id: number, write: (bytes: Uint8Array) => Promise<void>): Promise<ItemBodyRead> {
  const hash = createHash("sha256");
  let offset = 0;
  let parts = 0;
  let first: Part | undefined;
  for (;;) {
    const part = partAt(await call({ account, id, offset }), offset);
    parts++;
    first ??= part;
    if (part.size !== first.size || part.sha256 !== first.sha256) {
      throw new CallError(
        `item ${id}'s body changed while it was read (size ${first.size}, sha256 ${first.sha256} at first; size ${part.size}, sha256 ${part.sha256} at byte ${offset}); read it again`,
        "DOWNLOAD_MISMATCH",
      );
    }
    const bytes = Buffer.from(part.data, "base64");
    if (bytes.length !== part.length) throw badAnswer(`${bytes.length} bytes of data for a length of ${part.length}`);
    if (part.more && (bytes.length === 0 || part.nextOffset !== offset + bytes.length))
      throw badAnswer(`a part at ${offset} of ${bytes.length} bytes whose next part is said to start at ${part.nextOffset}`);
    await write(bytes);
    hash.update(bytes);
    offset += bytes.length;
    if (!part.more) break;
  }
  const sha256 = hash.digest("hex");
  if (offset !== first.size || sha256 !== first.sha256) {
    throw new CallError(
      `the ${offset} bytes read of item ${id} are not its body (${first.size} bytes, sha256 ${first.sha256}; read: sha256 ${sha256}); read it again`,
      "DOWNLOAD_MISMATCH",
    );
  }
  return { id, size: first.size, sha256, parts };
}

export interface SaveOptions {
  /** base of a relative `out` */
  cwd: string;
  /** where `out -` writes (standard output); without it, `out -` is refused */
  stdout?: (bytes: Uint8Array) => Promise<void>;
}

/**
 * `getItem` params with `out`: reads the body and writes it to the file `out` names (through
 * a new file mode 0600 beside it, renamed over `out` once the whole body is checked, so an
 * interrupted or failed read never leaves a partial message under that name) or, for `-`, to
 * `opts.stdout`. Returns what the CLI prints: `id`, `size`, `sha256`, `parts`, `out`.
 */
export async function saveItemBody(call: BodyPartCaller, params: Record<string, unknown>, opts: SaveOptions): Promise<Record<string, unknown>> {
  const { out, account, id, ...rest } = params;
  if (typeof out !== "string" || out === "")
    throw new CallError("param 'out' must be a file path to write the message to, or - for standard output", "INVALID_PARAMS");
  const extra = Object.keys(rest);
  if (extra.length > 0) throw new CallError(`getItem with out takes only account, id and out; remove ${extra.join(", ")}`, "INVALID_PARAMS");
  if (typeof account !== "string" || !Number.isSafeInteger(id))
    throw new CallError("getItem with out needs account (a name or id) and id (an integer)", "INVALID_PARAMS");
  const itemId = id as number;
  if (out === "-") {
    if (!opts.stdout) throw new CallError("out - (standard output) is for the command line only; give a file path", "INVALID_PARAMS");
    return { ...(await readItemBody(call, account, itemId, opts.stdout)), out: "-" };
  }
  const path = resolve(opts.cwd, out);
  const temp = join(dirname(path), `.${basename(path)}.${randomUUID()}.part`);
  const cannotWrite = (e: unknown, file: string): CallError =>
    new CallError(`cannot write the message to ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, "DOWNLOAD_FAILED");
  let file;
  try {
    // A mail message is private: the file is readable by its owner only, as the mailstore's files are.
    file = await open(temp, "wx", 0o600);
  } catch (e) {
    throw cannotWrite(e, path);
  }
  let done = false;
  try {
    const read = await readItemBody(call, account, itemId, async (bytes) => {
      try {
        await file.write(bytes);
      } catch (e) {
        throw cannotWrite(e, path);
      }
    });
    try {
      await file.close();
      await rename(temp, path);
    } catch (e) {
      throw cannotWrite(e, path);
    }
    done = true;
    return { ...read, out: path };
  } finally {
    if (!done) {
      await file.close().catch(() => {});
      await unlink(temp).catch(() => {});
    }
  }
}
