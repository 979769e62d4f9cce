// REPL history across runs: the file (mode 0600, bounded, no secrets), where it goes
// (MR_REPL_HISTORY, `none`, the user's state folder), and a terminal console that writes it
// and recalls it with the up arrow on the next start.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { historyFile, holdsSecret, ReplConsole, ReplHistory } from "../src/repl/index.js";
import { tempDir } from "./helpers/processes.js";

const mode = (file: string): number => statSync(file).mode & 0o777;
const lines = (file: string): string[] =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "");

test("repl history - where: MR_REPL_HISTORY, none, else the user's state folder", () => {
  assert.is(historyFile({ MR_REPL_HISTORY: "/tmp/h" }, "/home/op"), "/tmp/h");
  assert.is(historyFile({ MR_REPL_HISTORY: "none" }, "/home/op"), undefined);
  assert.is(historyFile({}, "/home/op"), "/home/op/.local/state/mailreplica/repl_history");
  assert.is(historyFile({ XDG_STATE_HOME: "/var/state/op" }, "/home/op"), "/var/state/op/mailreplica/repl_history");
  assert.is(historyFile({ XDG_STATE_HOME: "relative" }, "/home/op"), "/home/op/.local/state/mailreplica/repl_history");
});

test("repl history - lines that may hold a secret or a message's text are not kept", () => {
  for (const l of [
    "test servers nats://admin:s3cret@nats1:4222",
    'call admin x {"password":"p"}',
    "call mailbox x token abc",
    "call admin x seed SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTAM",
    'deliverMessage account a@example.com raw "Subject: hi\\n\\nbody"',
    'deliverMessage {"account":"a@example.com","raw":"x"}',
  ]) {
    assert.ok(holdsSecret(l), l);
  }
  for (const l of [
    "getServices",
    "setAccountDestination ms2.example.com 10 accounts a@example.com",
    "test servers nats://nats1:4222",
    "deliverMessage account a@example.com file /tmp/m.eml",
    "listFolders account passat@example.com",
  ]) {
    assert.not.ok(holdsSecret(l), l);
  }
});

test("repl history - the file is mode 0600, bounded, without secrets, read back oldest first", () => {
  const dir = tempDir("repl-history");
  const file = join(dir, "state", "mailreplica", "repl_history");
  const h = new ReplHistory(file, { maxLines: 3 });
  for (const l of ["one", "two", "two", "  ", "test servers nats://u:p@h:4222", "three", "four"]) h.add(l);
  assert.equal(lines(file), ["two", "three", "four"]);
  assert.is(mode(file), 0o600);
  assert.is(statSync(join(dir, "state", "mailreplica")).mode & 0o777, 0o700);
  assert.equal(readdirSync(join(dir, "state", "mailreplica")), ["repl_history"]); // no temporary file left
  assert.equal(new ReplHistory(file, { maxLines: 3 }).newestFirst(), ["four", "three", "two"]);
  // A file left readable by others (or holding a secret from elsewhere) is rewritten 0600 on the next line, without it.
  writeFileSync(file, "a\nnats://u:p@h\nb\n", { mode: 0o644 });
  const again = new ReplHistory(file, { maxLines: 3 });
  again.add("c");
  assert.equal(lines(file), ["a", "b", "c"]);
  assert.is(mode(file), 0o600);
  // One that cannot be written is said once, and the REPL goes on.
  const said: string[] = [];
  const blocked = new ReplHistory(join(file, "under-a-file"), { onError: (m) => said.push(m) });
  blocked.add("x");
  blocked.add("y");
  assert.is(said.length, 1);
  assert.match(said[0]!, /MR_REPL_HISTORY=none/);
});

function terminalConsole(history: ReplHistory | undefined, terminal = true) {
  const input = new PassThrough();
  const output = new PassThrough();
  output.resume(); // prompts and echo are not read here
  const console = new ReplConsole({ input, output, terminal, prompt: "> ", ...(history ? { history } : {}) });
  return { input, console, lines: console.lines() };
}

test("repl history - a terminal session writes it; the next one recalls it with the up arrow", async () => {
  const file = join(tempDir("repl-history"), "h");
  const first = terminalConsole(new ReplHistory(file));
  first.input.write("getServices\r");
  assert.is((await first.lines.next()).value, "getServices");
  first.input.write("test servers nats://u:p@h:4222\r");
  assert.is((await first.lines.next()).value, "test servers nats://u:p@h:4222");
  first.console.close();
  assert.equal(lines(file), ["getServices"]);
  assert.is(mode(file), 0o600);

  const second = terminalConsole(new ReplHistory(file));
  second.input.write("\x1b[A\r"); // up arrow, Enter
  assert.is((await second.lines.next()).value, "getServices");
  second.console.close();
});

test("repl history - piped input and no history write nothing", async () => {
  const dir = tempDir("repl-history");
  const file = join(dir, "h");
  const piped = terminalConsole(new ReplHistory(file), false);
  piped.input.write("getServices\n");
  assert.is((await piped.lines.next()).value, "getServices");
  piped.console.close();
  const none = terminalConsole(undefined);
  none.input.write("getServices\r");
  assert.is((await none.lines.next()).value, "getServices");
  none.console.close();
  assert.not.ok(existsSync(file));
  assert.equal(readdirSync(dir), []);
});

test.run();
