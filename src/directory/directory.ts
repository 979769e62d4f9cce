// Directory access over the `mr_directory` KV. Keys:
//   acct.<id>          AccountRecord
//   name.<hex(name)>   account id (KV keys cannot hold '@'; the name is hex-encoded)
//   mailstore.<host>   MailstoreRecord
import type { KV } from "@nats-io/kv";
import { isWrongLastSequence } from "../runtime/nats_failure.js";
import { listKeys } from "../jetstream/kv_keys.js";
import { accountUnknown, DirectoryError } from "./errors.js";
import { isHostName } from "../envelope/types.js";
import { ACCOUNT_ID_PATTERN, type AccountRecord, type MailstoreRecord, type Versioned } from "./types.js";
import { parseAccountRecord } from "./account_record.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

// Defined in types.ts (no imports), so param specs can use it without loading the directory.
export { ACCOUNT_ID_PATTERN };

export function isAccountId(s: string): boolean {
  return ACCOUNT_ID_PATTERN.test(s);
}

/** Longest account name looked up, in UTF-8 bytes (254 characters of up to 4 bytes each). */
const MAX_NAME_BYTES = 1_016;

export function nameKey(name: string): string {
  return `name.${Buffer.from(name.toLowerCase(), "utf8").toString("hex")}`;
}

function isCasConflict(e: unknown): boolean {
  return isWrongLastSequence(e);
}

function toJson(v: unknown): Uint8Array {
  return enc.encode(JSON.stringify(v));
}

export class Directory {
  constructor(readonly kv: KV) {}

  private async readAccount(key: string): Promise<Versioned<AccountRecord> | undefined> {
    const e = await this.kv.get(key);
    if (!e || e.operation !== "PUT" || e.length === 0) return undefined;
    return { value: parseAccountRecord(e.value, key), revision: e.revision };
  }

  private async read<T>(key: string): Promise<Versioned<T> | undefined> {
    const e = await this.kv.get(key);
    if (!e || e.operation !== "PUT" || e.length === 0) return undefined;
    return { value: JSON.parse(dec.decode(e.value)) as T, revision: e.revision };
  }

  /** Creates the account and its name entry; refuses a name or id already taken. */
  async createAccount(rec: AccountRecord): Promise<Versioned<AccountRecord>> {
    const nk = nameKey(rec.name);
    try {
      await this.kv.create(nk, enc.encode(rec.id));
    } catch (e) {
      if (!isCasConflict(e)) throw e;
      throw new DirectoryError("ACCOUNT_EXISTS", `an account named '${rec.name}' already exists; pick another name`, { account: rec.name });
    }
    try {
      const revision = await this.kv.create(`acct.${rec.id}`, toJson(rec));
      return { value: rec, revision };
    } catch (e) {
      await this.kv.delete(nk).catch(() => {}); // give the name back: nothing half created
      if (isCasConflict(e)) throw new DirectoryError("ACCOUNT_EXISTS", `an account with id '${rec.id}' already exists`, { account: rec.id });
      throw e;
    }
  }

  /** Removes an account's record and name entry (used to undo a creation that logged nothing). */
  async deleteAccount(rec: AccountRecord): Promise<void> {
    await this.kv.delete(`acct.${rec.id}`);
    await this.kv.delete(nameKey(rec.name));
  }

  async byId(id: string): Promise<Versioned<AccountRecord> | undefined> {
    // Anything else is no account id, and would not be a valid KV key either ("*", " ").
    if (!isAccountId(id)) return undefined;
    return this.readAccount(`acct.${id}`);
  }

  async byName(name: string): Promise<Versioned<AccountRecord> | undefined> {
    // No account has a name this long (createAccount allows 254 characters), and its hex key
    // could make the lookup's subject exceed max_control_line: the server would drop the
    // connection.
    if (Buffer.byteLength(name, "utf8") > MAX_NAME_BYTES) return undefined;
    const idEntry = await this.kv.get(nameKey(name));
    if (!idEntry || idEntry.operation !== "PUT" || idEntry.length === 0) return undefined;
    return this.byId(dec.decode(idEntry.value));
  }

  /** Looks an account up by id or name; undefined when unknown. */
  async find(idOrName: string): Promise<Versioned<AccountRecord> | undefined> {
    return isAccountId(idOrName) ? this.byId(idOrName) : this.byName(idOrName);
  }

  /** Like find, but throws ACCOUNT_UNKNOWN. */
  async get(idOrName: string): Promise<Versioned<AccountRecord>> {
    const r = await this.find(idOrName);
    if (!r) throw accountUnknown(idOrName);
    return r;
  }

  async listAccounts(): Promise<AccountRecord[]> {
    const keys = await listKeys(this.kv, "acct.*");
    const out: AccountRecord[] = [];
    // Bounded parallel reads: fast for thousands of accounts without a request storm.
    for (let i = 0; i < keys.length; i += 64) {
      const got = await Promise.all(keys.slice(i, i + 64).map((k) => this.readAccount(k)));
      for (const g of got) if (g) out.push(g.value);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Account names in name order (lower case, as the name keys hold them), those starting with
   * `prefix` (any case), at most `limit`; `more` when others follow. Reads only the name keys:
   * one listing, however many accounts exist.
   */
  async listNames(prefix: string, limit: number): Promise<{ names: string[]; more: boolean }> {
    const want = prefix.toLowerCase();
    const names: string[] = [];
    for (const k of await listKeys(this.kv, "name.*")) {
      const name = Buffer.from(k.slice("name.".length), "hex").toString("utf8");
      if (name.startsWith(want)) names.push(name);
    }
    names.sort();
    return { names: names.slice(0, limit), more: names.length > limit };
  }

  /**
   * Compare-and-set update: reads the record, applies `change`, writes it only if nobody
   * wrote in between, and retries on a conflict. `change` may throw to refuse.
   */
  async updateAccount(id: string, change: (rec: AccountRecord) => AccountRecord, attempts = 20): Promise<Versioned<AccountRecord>> {
    for (let i = 0; i < attempts; i++) {
      const cur = await this.byId(id);
      if (!cur) throw accountUnknown(id);
      const next = change(structuredClone(cur.value));
      try {
        const revision = await this.kv.update(`acct.${id}`, toJson(next), cur.revision);
        return { value: next, revision };
      } catch (e) {
        if (!isCasConflict(e)) throw e;
      }
    }
    throw new DirectoryError("DIRECTORY_CONFLICT", `account ${id} kept changing under ${attempts} attempts; retry`, { account: id });
  }

  /** Writes only if the record is still at `revision` (false when someone else changed it). */
  async compareAndSet(rec: AccountRecord, revision: number): Promise<number | undefined> {
    try {
      return await this.kv.update(`acct.${rec.id}`, toJson(rec), revision);
    } catch (e) {
      if (isCasConflict(e)) return undefined;
      throw e;
    }
  }

  async registerMailstore(rec: MailstoreRecord): Promise<void> {
    if (!isHostName(rec.host))
      throw new DirectoryError(
        "INVALID_HOST",
        `mailstore host ${JSON.stringify(String(rec.host).slice(0, 80))} is not a DNS host name; nothing was registered`,
        { host: String(rec.host).slice(0, 253) },
      );
    await this.kv.put(`mailstore.${rec.host}`, toJson(rec));
  }

  async mailstore(host: string): Promise<MailstoreRecord | undefined> {
    // No mailstore can register under anything but a host name (registerMailstore), and "*"
    // or ">" in a KV key is refused by the client: such a host is simply unknown.
    if (!isHostName(host)) return undefined;
    return (await this.read<MailstoreRecord>(`mailstore.${host}`))?.value;
  }

  async listMailstores(): Promise<MailstoreRecord[]> {
    const keys = await listKeys(this.kv, "mailstore.>");
    const out: MailstoreRecord[] = [];
    for (const r of await Promise.all(keys.map((k) => this.read<MailstoreRecord>(k)))) if (r) out.push(r.value);
    return out.sort((a, b) => a.host.localeCompare(b.host));
  }

  /**
   * Calls `onChange` with every account record as it is now and as it changes;
   * `onInitialized` once the records that existed at the start were all delivered.
   */
  private async anyAccountKey(): Promise<boolean> {
    return (await listKeys(this.kv, "acct.*")).length > 0;
  }

  async watchAccounts(
    onChange: (rec: AccountRecord) => void,
    onInitialized?: () => void,
    onInvalid?: (err: DirectoryError) => void,
  ): Promise<{ stop(): void }> {
    const w = await this.kv.watch({ key: "acct.*" });
    let initialized = false;
    const init = (): void => {
      if (initialized) return;
      initialized = true;
      onInitialized?.();
    };
    // The client has no "initial values delivered" callback: they all were when an entry comes
    // with nothing pending after it (delta 0), or at once when no account record existed.
    void (async () => {
      for await (const e of w) {
        if (e.operation === "PUT" && e.length > 0) {
          let rec: AccountRecord;
          try {
            rec = parseAccountRecord(e.value, e.key);
          } catch (err) {
            // One bad record must not stop the watch (every later change would be missed).
            onInvalid?.(err as DirectoryError);
            if (e.delta === 0) init();
            continue;
          }
          onChange(rec);
        }
        if (e.delta === 0) init();
      }
    })();
    if (!(await this.anyAccountKey())) init();
    return { stop: () => w.stop() };
  }
}
