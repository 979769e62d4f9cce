// How a thrown value reaches a JSON-RPC caller, over a real nats-server and the service set-up
// the processes use (serveRpcService with a real logger): an AppError or a caller-facing coded
// error is an application error with data.code; a Node system error or a value that merely has
// a string code is -32603 naming no path, and is logged with its code and message.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { CallerFacingError, CodedError } from "../src/errors/index.js";
import { AppError, RpcError, methodTable, rpcCall, toErrorObject, type JsonRpcService, type NatsRpcContext, type RpcMethod } from "../src/jsonrpc/index.js";
import { createLogger } from "../src/log/index.js";
import { MailError } from "../src/mail/errors.js";
import { StoreError } from "../src/store/errors.js";
import { serveRpcService } from "../actors/shared/rpc_services.js";
import { startNatsServer, type NatsNode } from "./helpers/nats.js";
import { tempDir } from "./helpers/processes.js";

const SUBJECT = "mr.test.errors";
const missingDir = tempDir("mr-errmap-");
const missingFile = join(missingDir, "no-such-folder", "secret-name.json");

let server: NatsNode;
let srv: NatsConnection;
let cli: NatsConnection;
let service: JsonRpcService;
const logged: Array<Record<string, unknown>> = [];

function method(name: string, call: () => unknown): RpcMethod<NatsRpcContext> {
  return { name, call: async () => call() };
}

const methods = methodTable<NatsRpcContext>([
  method("appError", () => {
    throw new AppError("APP_ERROR", "the old primary kept writing; promote again", { code: "OLD_PRIMARY_STILL_WRITING", account: "a@example.com" });
  }),
  method("callerFacing", () => {
    throw new MailError("ITEM_NOT_FOUND", "no item with id 7 in account a; nothing was changed", { ids: [7], missing: 1 });
  }),
  method("enoent", () => readFile(missingFile)),
  method("codedObject", () => {
    // a documented code on a value that is not a caller-facing error
    throw { code: "NOT_PRIMARY", message: `cannot open ${missingFile}` };
  }),
]);

test.before(async () => {
  server = await startNatsServer();
  srv = await connect({ servers: server.url });
  cli = await connect({ servers: server.url });
  const log = createLogger({ role: "mailstore", host: "ms1", level: "debug", sink: (line) => logged.push(JSON.parse(line) as Record<string, unknown>) });
  service = await serveRpcService(srv, {
    name: "mailreplica-node",
    description: "error mapping test",
    host: "ms1",
    role: "mailstore",
    endpoints: [{ name: "errors", subject: SUBJECT, methods }],
    log,
  });
  await srv.flush();
});

test.after(async () => {
  await service?.stop();
  await cli?.close();
  await srv?.close();
  await server?.stop();
});

async function failure(name: string): Promise<RpcError> {
  const e = await rpcCall(cli, SUBJECT, name).then(
    () => assert.unreachable(`${name} succeeded`),
    (x: unknown) => x,
  );
  assert.instance(e, RpcError, String(e));
  return e as RpcError;
}

/** The internal-error log lines of `method`. */
function internalLogs(name: string): Array<Record<string, unknown>> {
  return logged.filter((l) => l.method === name && l.level === "error");
}

test("error mapping - an AppError is its application error, APP_ERROR's specific code as data.cause", async () => {
  const e = await failure("appError");
  assert.is(e.code, -32000);
  assert.is(e.message, "the old primary kept writing; promote again");
  assert.equal(e.data, { code: "APP_ERROR", account: "a@example.com", cause: "OLD_PRIMARY_STILL_WRITING" });
  assert.equal(internalLogs("appError"), []);
});

test("error mapping - a caller-facing coded error is its application error with details and data.code", async () => {
  const e = await failure("callerFacing");
  assert.is(e.code, -32015);
  assert.is(e.message, "no item with id 7 in account a; nothing was changed");
  assert.equal(e.data, { ids: [7], missing: 1, code: "ITEM_NOT_FOUND" });
  assert.equal(internalLogs("callerFacing"), []);
});

test("error mapping - Node's ENOENT is -32603 naming no path, and is logged with its code and message", async () => {
  const e = await failure("enoent");
  assert.is(e.code, -32603);
  assert.is(e.message, "Internal error");
  assert.is(e.data, "system error ENOENT; see the server's log");
  assert.not.match(JSON.stringify(e.toJSON()), /secret-name|no-such-folder|mr-errmap/);
  const lines = internalLogs("enoent");
  assert.is(lines.length, 1, JSON.stringify(logged));
  assert.is(lines[0]!.errCode, "ENOENT");
  assert.match(String(lines[0]!.error), /secret-name\.json/, "the operator sees the path");
  assert.is(lines[0]!.subject, SUBJECT);
});

test("error mapping - a plain object with a documented string code is -32603 naming no path, and is logged", async () => {
  const e = await failure("codedObject");
  assert.is(e.code, -32603);
  assert.is(e.message, "Internal error");
  assert.is(e.appCode, undefined);
  assert.not.match(JSON.stringify(e.toJSON()), /secret-name|no-such-folder|mr-errmap/);
  const lines = internalLogs("codedObject");
  assert.is(lines.length, 1, JSON.stringify(logged));
  assert.is(lines[0]!.errCode, "NOT_PRIMARY");
  assert.match(String(lines[0]!.error), /cannot open .*secret-name\.json/);
});

test("coded errors - cause, details and name are kept; only caller-facing ones are application errors", () => {
  const io = Object.assign(new Error("EACCES: permission denied, open '/x'"), { code: "EACCES", syscall: "open" });
  const wrapped = new StoreError("STORE_OPEN_FAILED", "cannot open metadata store /x", { file: "/x" }, { cause: io });
  assert.is(wrapped.cause, io);
  assert.equal(wrapped.details, { file: "/x" });
  assert.is(wrapped.name, "StoreError");
  assert.instance(wrapped, CallerFacingError);
  assert.is(new AppError("UNAVAILABLE", "later", undefined, { cause: io }).cause, io);
  assert.is(new CodedError("X_FAILED", "x failed", { cause: io }).cause, io);
  assert.not.ok("cause" in new CodedError("X_FAILED", "x failed"), "no cause property when there is none");
  // A documented code on a plain CodedError is still not for callers.
  const plain = toErrorObject(new CodedError("NOT_PRIMARY", "read /etc/x failed"));
  assert.is(plain.internal, true);
  assert.equal(plain.error, { code: -32603, message: "Internal error", data: "CodedError NOT_PRIMARY; see the server's log" });
  const facing = toErrorObject(new CallerFacingError("NOT_PRIMARY", "ms2 is not the primary", { details: { primary: "ms1" }, cause: io }));
  assert.equal(facing, { error: { code: -32002, message: "ms2 is not the primary", data: { primary: "ms1", code: "NOT_PRIMARY" } }, internal: false });
});

test.run();
