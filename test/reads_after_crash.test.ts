// A primary serves no read before its log is applied. A crash between the log's ack and the
// SQLite commit leaves exactly what restoring an older metadata.sqlite leaves: the log holds
// acknowledged writes the store does not. The first read after the restart must see them all,
// and an empty data folder must read the account from its log.
import { copyFileSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { TestSystem, rawMessage } from "./helpers/system.js";
import { tempDir, waitFor } from "./helpers/processes.js";
import { directoryOfSystem, waitRoutesTo } from "./helpers/promotion.js";

const MS1 = "ms1.example.com";
const SQLITE_FILES = ["metadata.sqlite", "metadata.sqlite-wal", "metadata.sqlite-shm"];
let sys: TestSystem;

test.before(async () => {
  sys = await TestSystem.startRunning({ hosts: [MS1] });
});
test.after(async () => {
  await sys?.stop();
});

async function restart(between: () => void | Promise<void>): Promise<void> {
  await sys.inProcess.get(MS1)!.stop();
  sys.inProcess.delete(MS1);
  await between();
  await sys.startMailstore(MS1);
}

function copySqlite(from: string, to: string): void {
  for (const f of SQLITE_FILES) {
    rmSync(join(to, f), { force: true });
    if (existsSync(join(from, f))) copyFileSync(join(from, f), join(to, f));
  }
}

test("reads - after the store lost acknowledged writes, the first read on the primary shows every one", async () => {
  const acct = await sys.mailbox("createAccount", { name: "carl@example.com", mailHost: MS1 });
  await sys.mailbox("deliverMessage", { account: "carl@example.com", raw: rawMessage(1) });
  // The store as it was after the first message: what a crash before later commits leaves.
  const old = tempDir("mr-old-store-");
  await restart(() => copySqlite(sys.dataDir(MS1), old));
  await sys.mailbox("createFolder", { account: "carl@example.com", path: "Archive" });
  const second = await sys.mailbox("deliverMessage", { account: "carl@example.com", raw: rawMessage(2), folder: "Archive" });
  const third = await sys.mailbox("deliverMessage", { account: "carl@example.com", raw: rawMessage(3) });
  await sys.mailbox("setFlags", { account: "carl@example.com", ids: [third.itemId], flags: ["seen"] });
  await restart(() => copySqlite(old, sys.dataDir(MS1)));

  // Caught up at start, before any request.
  assert.is(sys.inProcess.get(MS1)!.store.listItems(acct.id).total, 3, "the mailstore replays its primaries' logs before it serves");
  const items = await sys.mailbox("listItems", { account: "carl@example.com" });
  assert.is(items.total, 3);
  assert.equal(items.items.find((i: { id: number }) => i.id === third.itemId)?.flags, ["seen"]);
  const folders = await sys.mailbox("listFolders", { account: "carl@example.com" });
  assert.ok(folders.folders.some((f: { path: string; itemCount: number }) => f.path === "Archive" && f.itemCount === 1));
  const item = await sys.mailbox("getItem", { account: "carl@example.com", id: second.itemId });
  assert.is(item.folder, "Archive");
});

test("reads - an empty data folder reads the account from its log", async () => {
  const acct = await sys.mailbox("createAccount", { name: "dora@example.com", mailHost: MS1 });
  const d = await sys.mailbox("deliverMessage", { account: "dora@example.com", raw: rawMessage(4), flags: ["flagged"] });
  await restart(() => rmSync(sys.dataDir(MS1), { recursive: true, force: true }));
  assert.is(sys.inProcess.get(MS1)!.store.account(acct.id)?.name, "dora@example.com");
  const items = await sys.mailbox("listItems", { account: "dora@example.com" });
  assert.is(items.total, 1);
  const item = await sys.mailbox("getItem", { account: "dora@example.com", id: d.itemId });
  assert.equal(item.flags, ["flagged"]);
  assert.is((await sys.mailbox("listFolders", { account: "dora@example.com" })).folders.length, 5);
});

test("reads - an account that becomes primary here after start is read from its log, not from an empty store", async () => {
  // The start-up catch-up cannot have seen it: the barrier on the read itself must replay.
  const acct = await sys.mailbox("createAccount", { name: "finn@example.com", mailHost: MS1 });
  await sys.mailbox("deliverMessage", { account: "finn@example.com", raw: rawMessage(5) });
  await sys.mailbox("deliverMessage", { account: "finn@example.com", raw: rawMessage(6) });
  const directory = await directoryOfSystem(sys);
  // Directory points elsewhere while ms1 starts: ms1 drops its copy and does not catch it up.
  await restart(async () => {
    await directory.updateAccount(acct.id, (r) => ({ ...r, mailHost: "ms9.example.com" }));
  });
  await waitFor("local copy dropped", () => sys.inProcess.get(MS1)!.store.replicaState(acct.id) === undefined);
  // ...and back to ms1 (a failback whose directory step ran): the store has nothing yet.
  await directory.updateAccount(acct.id, (r) => ({ ...r, mailHost: MS1 }));
  await waitRoutesTo(sys, [acct.id], MS1);
  assert.is(sys.inProcess.get(MS1)!.store.account(acct.id), undefined);
  const items = await sys.mailbox("listItems", { account: "finn@example.com" });
  assert.is(items.total, 2);
});

test.run();
