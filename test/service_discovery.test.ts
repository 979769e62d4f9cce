// NATS service discovery (src/micro, actors/shared/rpc_services.ts): a running system (two mailstores,
// an active and a standby supervisor, under the permissions of `auth init`, the test client
// as admin) answers $SRV.PING, INFO and STATS for each of its services; INFO lists the
// endpoints with their subjects and queue groups, STATS counts requests and JSON-RPC error
// answers, a standby lists no admin endpoint, and a stopped process's services are gone.
// No waiting on time: each ask collects answers until the instances expected have answered.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { createInbox } from "@nats-io/nats-core";
import { TestSystem } from "./helpers/system.js";
import { waitFor } from "./helpers/processes.js";
import { SupervisorNode } from "../actors/supervisor/node.js";
import { natsConnectionOptions } from "../src/natsauth/connect_options.js";
import { ResponseType, SERVICE_ERROR_CODE_HEADER, type InfoResponse, type PingResponse, type StatsResponse } from "../src/micro/index.js";

const MS1 = "ms1.example.com";
const MS2 = "ms2.example.com";
let sys: TestSystem;
let standby: SupervisorNode | undefined;

type Answer = PingResponse | InfoResponse | StatsResponse;
const key = (a: Answer): string => `${a.name}@${a.metadata.host}`;

/** Asks `subject` and collects answers until `done` says they are complete; fails after 15 s without. */
async function ask<T extends Answer>(subject: string, done: (answers: T[]) => boolean): Promise<T[]> {
  // The admin identity may only subscribe under its own inbox prefix.
  const inbox = createInbox(natsConnectionOptions(sys.config.nats.servers, sys.identity("admin")).inboxPrefix);
  const sub = sys.nc.subscribe(inbox);
  const answers: T[] = [];
  const timer = setTimeout(() => sub.unsubscribe(), 15_000);
  try {
    sys.nc.publish(subject, "", { reply: inbox });
    for await (const m of sub) {
      answers.push(m.json<T>());
      if (done(answers)) break;
    }
  } finally {
    clearTimeout(timer);
    sub.unsubscribe();
  }
  assert.ok(done(answers), `${subject}: only ${answers.map(key).join(", ")} answered`);
  return answers;
}

/** Until every one of `expected` (name@host) answered; fails when any other answers. */
function exactly(expected: string[]): (answers: Answer[]) => boolean {
  return (answers) => {
    const got = answers.map(key);
    const extra = got.filter((k) => !expected.includes(k));
    assert.equal(extra, [], `unexpected answers: ${extra.join(", ")}`);
    return expected.every((k) => got.includes(k));
  };
}

const ALL = [
  "mailreplica-admin@sup1",
  "mailreplica-directory@sup1",
  "mailreplica-directory@sup2",
  "mailreplica-mailbox@" + MS1,
  "mailreplica-node@" + MS1,
  "mailreplica-mailbox@" + MS2,
  "mailreplica-node@" + MS2,
];

test.before(async () => {
  sys = await TestSystem.start({ hosts: [MS1, MS2], auth: { supervisors: ["sup1", "sup2"] } });
  // createAccount needs a supervisor: it starts first and takes the lease.
  await sys.startSupervisor("sup1");
  await sys.startMailstore(MS1);
  await sys.startMailstore(MS2);
  sys.ensureSupervisorKey("sup2");
  standby = await SupervisorNode.start(sys.supervisorOptions("sup2"));
  assert.not.ok(standby.isActive, "sup2 stands by while sup1 holds the lease");
});
test.after(async () => {
  await standby?.stop().catch(() => {});
  await sys?.stop();
});

test("service discovery - $SRV.PING is answered by every service of the running system", async () => {
  const answers = await ask<PingResponse>("$SRV.PING", exactly(ALL));
  for (const a of answers) {
    assert.is(a.type, ResponseType.PING);
    assert.ok(a.id.length > 0);
    assert.match(a.version, /^\d+\.\d+\.\d+/);
    assert.is(a.metadata.role, a.name === "mailreplica-mailbox" || a.name === "mailreplica-node" ? "mailstore" : "supervisor");
  }
  // Each instance also answers by name and by name and id.
  const node1 = answers.find((a) => key(a) === `mailreplica-node@${MS1}`)!;
  const byId = await ask<PingResponse>(`$SRV.PING.mailreplica-node.${node1.id}`, exactly([`mailreplica-node@${MS1}`]));
  assert.is(byId[0]!.id, node1.id);
});

test("service discovery - $SRV.INFO lists each endpoint with its subject and queue group; the standby lists no admin endpoint", async () => {
  const infos = await ask<InfoResponse>("$SRV.INFO", exactly(ALL));
  const endpoints = (k: string) =>
    infos
      .find((i) => key(i) === k)!
      .endpoints.map((e) => ({ name: e.name, subject: e.subject, queue_group: e.queue_group }))
      .sort((a, b) => a.name.localeCompare(b.name));
  assert.equal(endpoints("mailreplica-admin@sup1"), [{ name: "admin", subject: "mr.rpc.admin", queue_group: "mr-admin" }]);
  assert.equal(endpoints("mailreplica-directory@sup2"), [{ name: "directory", subject: "mr.directory.>", queue_group: "mr-directory" }]);
  assert.equal(endpoints(`mailreplica-mailbox@${MS2}`), [{ name: "mailbox", subject: "mr.rpc.mailbox", queue_group: "mr-mailbox" }]);
  assert.equal(endpoints(`mailreplica-node@${MS1}`), [
    { name: "admin", subject: `mr.node.${MS1}.admin`, queue_group: undefined },
    { name: "mailbox", subject: `mr.node.${MS1}.mailbox`, queue_group: undefined },
  ]);
  for (const i of infos) assert.is(i.type, ResponseType.INFO);
  // By name: only the active supervisor answers for the admin service.
  await ask<InfoResponse>("$SRV.INFO.mailreplica-admin", exactly(["mailreplica-admin@sup1"]));
});

test("service discovery - $SRV.STATS counts requests and JSON-RPC error answers (flagged with the service error headers)", async () => {
  const before = await ask<StatsResponse>("$SRV.STATS.mailreplica-mailbox", exactly([`mailreplica-mailbox@${MS1}`, `mailreplica-mailbox@${MS2}`]));
  const sum = (s: StatsResponse[], f: "num_requests" | "num_errors") => s.reduce((n, a) => n + a.endpoints[0]![f], 0);
  await sys.mailbox("createAccount", { name: "alice@example.com", mailHost: MS1 });
  const reply = await sys.nc.request(
    "mr.rpc.mailbox",
    JSON.stringify({ jsonrpc: "2.0", id: 1, method: "listItems", params: { account: "nobody@example.com" } }),
    { timeout: 15_000 },
  );
  assert.is(reply.json<{ error: { code: number } }>().error.code, -32001);
  assert.is(reply.headers?.get(SERVICE_ERROR_CODE_HEADER), "-32001");
  const after = await ask<StatsResponse>("$SRV.STATS.mailreplica-mailbox", exactly([`mailreplica-mailbox@${MS1}`, `mailreplica-mailbox@${MS2}`]));
  assert.is(sum(after, "num_requests") - sum(before, "num_requests"), 2);
  assert.is(sum(after, "num_errors") - sum(before, "num_errors"), 1);
  const failed = after.find((a) => a.endpoints[0]!.last_error !== "")!;
  assert.match(failed.endpoints[0]!.last_error, /^-32001 ACCOUNT_UNKNOWN: /);
  for (const a of after) {
    assert.is(a.type, ResponseType.STATS);
    assert.ok(!Number.isNaN(Date.parse(a.started)));
    const e = a.endpoints[0]!;
    assert.ok(e.num_requests === 0 || e.processing_time > 0, "processing time is counted");
    assert.is(e.average_processing_time, e.num_requests ? Math.round(e.processing_time / e.num_requests) : 0);
  }
  // createAccount went through the directory service of one of the supervisors.
  const dir = await ask<StatsResponse>("$SRV.STATS.mailreplica-directory", exactly(["mailreplica-directory@sup1", "mailreplica-directory@sup2"]));
  assert.ok(sum(dir, "num_requests") >= 1);
});

test("service discovery - after stop, a process's services are gone; a standby that takes the lease registers the admin service", async () => {
  await sys.inProcess.get(MS2)!.stop();
  await sys.supervisor!.stop();
  const left = ["mailreplica-directory@sup2", `mailreplica-mailbox@${MS1}`, `mailreplica-node@${MS1}`];
  await ask<PingResponse>("$SRV.PING", exactly(left));
  await waitFor("sup2 to take the lease", () => (standby!.isActive ? true : undefined), 4 * sys.config.supervisor.leaseTtlMs);
  await ask<InfoResponse>("$SRV.INFO.mailreplica-admin", exactly(["mailreplica-admin@sup2"]));
  await standby!.stop();
  await ask<PingResponse>("$SRV.PING", exactly([`mailreplica-mailbox@${MS1}`, `mailreplica-node@${MS1}`]));
});

test("service discovery - nothing the system or the admin did was refused by the server", () => {
  const violations = readFileSync(sys.natsLogFile, "utf8")
    .split("\n")
    .filter((l) => /violation/i.test(l));
  assert.equal(violations, []);
});

test.run();
