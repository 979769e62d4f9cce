// Which mailstores the supervisor knows: the `mailstore.<host>` registrations in the directory,
// which only supervisors write (directory_request_methods.ts). A mailstore registers itself
// through mr.directory.<host> when it starts; one that started while no supervisor ran is
// registered from its heartbeat (node.<host> in mr_nodes, which only that mailstore's identity
// may write), so "started, but not known yet" never refuses an operator's command.
import { AppError } from "../../src/jsonrpc/index.js";
import { isHostName } from "../../src/envelope/types.js";
import { heartbeatKey, readHeartbeats, type HeartbeatRecord } from "../shared/heartbeat.js";
import type { SupervisorCore } from "./context.js";

/** What the known-mailstore checks use of the supervisor. */
export type KnownMailstoresContext = Pick<SupervisorCore, "directory" | "clock" | "log" | "assets">;

function publicKeyOf(h: HeartbeatRecord): string {
  const k = h.info?.publicKey;
  return typeof k === "string" ? k : "";
}

async function registerFromHeartbeat(node: KnownMailstoresContext, h: HeartbeatRecord): Promise<void> {
  await node.directory.registerMailstore({ host: h.host, publicKey: publicKeyOf(h), registeredAt: node.clock.now() });
  node.log.info({ mailstore: h.host }, "mailstore registered from its heartbeat (it started while no supervisor answered)");
}

/** Whether `host` is a registered mailstore, registering it first when it runs but is not yet. */
async function isKnown(node: KnownMailstoresContext, host: string): Promise<boolean> {
  if (await node.directory.mailstore(host)) return true;
  if (!isHostName(host)) return false;
  const e = await node.assets.nodes.get(heartbeatKey("mailstore", host));
  if (!e || e.operation !== "PUT" || e.length === 0) return false;
  let beat: HeartbeatRecord;
  try {
    beat = JSON.parse(new TextDecoder().decode(e.value)) as HeartbeatRecord;
  } catch {
    return false;
  }
  if (beat.role !== "mailstore" || beat.host !== host) return false;
  await registerFromHeartbeat(node, beat);
  return true;
}

/** Refuses (MAILSTORE_UNKNOWN) a host that is no known mailstore, naming the known ones. */
export async function requireKnownMailstore(node: KnownMailstoresContext, host: string, param: string): Promise<void> {
  if (await isKnown(node, host)) return;
  const known = (await node.directory.listMailstores()).map((m) => m.host);
  throw new AppError(
    "MAILSTORE_UNKNOWN",
    `${param} '${host}' is not a known mailstore (known: ${known.join(", ") || "none"}; getServices lists them); nothing was changed`,
    { [param]: host },
  );
}

/** Registers every mailstore with a fresh heartbeat that is not registered yet; returns their hosts. */
export async function registerAliveMailstores(node: KnownMailstoresContext): Promise<string[]> {
  const known = new Set((await node.directory.listMailstores()).map((m) => m.host));
  const added: string[] = [];
  for (const h of await readHeartbeats(node.assets.nodes)) {
    if (h.role !== "mailstore" || known.has(h.host) || !isHostName(h.host)) continue;
    await registerFromHeartbeat(node, h);
    added.push(h.host);
  }
  return added;
}
