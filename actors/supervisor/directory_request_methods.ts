// The supervisor's side of directory_requests.ts: every supervisor (active or standby) answers
// mr.directory.<host> in one queue group, so a mailstore's directory write never waits for a
// lease change; each write is a KV create or compare-and-set, safe from any of them. The host
// comes from the subject, which only that mailstore's identity may publish on: a mailstore can
// create accounts on itself, give back one it created whose log is empty, and move an account
// to itself only with a promotion grant a trusted supervisor signed for it.
import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { AccountRecord } from "../../src/directory/types.js";
import {
  AppError,
  ProtocolErrors,
  RpcError,
  defineMethod,
  int,
  methodTable,
  oneOf,
  str,
  type MethodTable,
  type NatsRpcContext,
} from "../../src/jsonrpc/index.js";
import { accountIdParam } from "../../src/directory/key_params.js";
import { isHostName } from "../../src/envelope/types.js";
import { grantProblem, TrustList } from "../../src/envelope/index.js";
import { readTrustList, TRUST_FILE } from "../../src/keys/index.js";
import { txSubject } from "../../src/jetstream/assets.js";
import { validateNewAccountName } from "../shared/account_names.js";
import { hostOfDirectoryRequest } from "../shared/directory_requests.js";
import { recordPromotion } from "./promotion_record.js";
import type { SupervisorCore } from "./context.js";
import type { SupervisorOptions } from "./supervisor_options.js";

type Ctx = NatsRpcContext;

function requester(ctx: Ctx): string {
  const host = hostOfDirectoryRequest(ctx.subject);
  if (!isHostName(host))
    throw new RpcError(
      ProtocolErrors.INVALID_REQUEST.code,
      `directory requests are sent on mr.directory.<mailstore host>; ${JSON.stringify(ctx.subject.slice(0, 80))} names no host`,
    );
  return host;
}

/**
 * trusted-signers.json of the supervisor's keys folder, read again when the file changes: its
 * stat (mtime, ctime, size, inode, mode) is taken first and the file is read and parsed only
 * when that changed, so a promotion of many accounts does not parse it once per account.
 * Stat before read: a change between the two is seen at the next call.
 */
class TrustedSigners {
  private cached: { stamp: string; list: TrustList } | undefined;

  constructor(private readonly keysDir: string | undefined) {}

  get(): TrustList {
    if (this.keysDir === undefined)
      throw new AppError("APP_ERROR", "this supervisor has no keys folder (keys.dir), so it cannot check promotion grants", { code: "GRANT_KEY_MISSING" });
    const stamp = fileStamp(join(resolve(this.keysDir), TRUST_FILE));
    if (this.cached?.stamp === stamp) return this.cached.list;
    let list: ReturnType<typeof readTrustList>;
    try {
      list = readTrustList(this.keysDir);
    } catch (e) {
      throw new AppError("APP_ERROR", `this supervisor cannot read its trusted-signers.json to check the grant: ${(e as Error).message}`, {
        code: "KEYS_UNREADABLE",
      });
    }
    this.cached = { stamp, list: new TrustList(list.entries) };
    return this.cached.list;
  }
}

/** What identifies one version of a file without reading it; "missing" when there is none. */
function fileStamp(file: string): string {
  try {
    const st = statSync(file);
    // ctime and mode too: a chmod changes no mtime, but the mode check must see it.
    return `${st.mtimeMs}:${st.ctimeMs}:${st.size}:${st.ino}:${st.mode}`;
  } catch {
    return "missing";
  }
}

/** What the directory requests use of the supervisor. */
export interface DirectoryRequestContext extends Pick<SupervisorCore, "directory" | "clock" | "assets" | "log"> {
  /** keysDir holds trusted-signers.json, which promotion grants are checked against */
  readonly opts: Pick<SupervisorOptions, "keysDir">;
}

export function directoryRequestMethods(node: DirectoryRequestContext): MethodTable<Ctx> {
  const trust = new TrustedSigners(node.opts.keysDir);
  return methodTable<Ctx>([
    defineMethod({
      name: "registerMailstore",
      params: { publicKey: str({ required: true, maxLength: 100 }) },
      handler: async (p, ctx) => {
        const host = requester(ctx);
        await node.directory.registerMailstore({ host, publicKey: p.publicKey, registeredAt: node.clock.now() });
        return { host };
      },
    }),
    defineMethod({
      name: "createAccount",
      params: {
        id: accountIdParam({ required: true }),
        name: str({ required: true, maxLength: 254 }),
        type: oneOf(["account", "distributionList"] as const, { default: "account" }),
      },
      handler: async (p, ctx) => {
        const host = requester(ctx);
        // Creating on a host registers it: the request proves that mailstore runs.
        if (!(await node.directory.mailstore(host))) await node.directory.registerMailstore({ host, publicKey: "", registeredAt: node.clock.now() });
        const rec: AccountRecord = {
          id: p.id,
          name: validateNewAccountName(p.name),
          type: p.type,
          mailHost: host,
          epoch: 1,
          replicas: [],
          createdAt: node.clock.now(),
        };
        return (await node.directory.createAccount(rec)).value;
      },
    }),
    defineMethod({
      name: "releaseAccount",
      params: { account: accountIdParam({ required: true }) },
      handler: async (p, ctx) => {
        const host = requester(ctx);
        const cur = await node.directory.byId(p.account);
        if (!cur) return { released: false };
        const rec = cur.value;
        // Only a creation that never got further: still on its first host and epoch, no
        // replica, and nothing in its log (checked here, not taken on the mailstore's word).
        if (rec.mailHost !== host || rec.epoch !== 1 || rec.replicas.length > 0) {
          throw new AppError(
            "APP_ERROR",
            `account ${rec.name} is not a creation of ${host} that can be given back (primary ${rec.mailHost}, epoch ${rec.epoch}, ${rec.replicas.length} replica(s)); nothing was changed`,
            { code: "ACCOUNT_IN_USE", account: rec.name },
          );
        }
        const head = await node.assets.jsm.streams.getMessage(node.assets.opts.txStream, { last_by_subj: txSubject(rec.id) });
        if (head) {
          throw new AppError("APP_ERROR", `account ${rec.name} has entries in its log (seq ${head.seq}): it was created, so it is kept; nothing was changed`, {
            code: "ACCOUNT_IN_USE",
            account: rec.name,
          });
        }
        await node.directory.deleteAccount(rec);
        node.log.info({ account: rec.name, accountId: rec.id, host }, "account record given back (its creation logged nothing)");
        return { released: true };
      },
    }),
    defineMethod({
      name: "recordPromotion",
      params: {
        account: accountIdParam({ required: true }),
        epoch: int({ required: true, min: 2, max: Number.MAX_SAFE_INTEGER }),
        grant: str({ required: true, maxLength: 200 }),
      },
      handler: async (p, ctx) => {
        const host = requester(ctx);
        const problem = grantProblem(trust.get(), p.grant, { account: p.account, epoch: p.epoch, host });
        if (problem) {
          throw new AppError("APP_ERROR", `the directory is not moved to ${host} at epoch ${p.epoch}: ${problem}; nothing was changed`, {
            code: "LOG_BAD_PROMOTION",
            account: p.account,
          });
        }
        const r = await recordPromotion(node.directory, p.account, { host, epoch: p.epoch }, node.clock.now());
        if (r.changed)
          node.log.info(
            { account: r.record.name, accountId: p.account, from: r.before.host, fromEpoch: r.before.epoch, host, epoch: p.epoch },
            "directory moved as the new primary asked with a valid grant",
          );
        return { changed: r.changed, host: r.record.mailHost, epoch: r.record.epoch };
      },
    }),
  ]);
}
