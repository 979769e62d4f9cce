// uvu runs a file's `test.before` hooks inside a try whose `finally` returns, so an error
// thrown by one is dropped: the file reports "(0 / N)" with no reason. Every before hook of
// the default suite is wrapped here to print its error (with the stack) before rethrowing.
// Imported for its effect by processes.ts, which every test file reaches.
import { test } from "uvu";

type Hook = Parameters<typeof test.before>[0];
const register = test.before.bind(test);
const wrapped = ((handler: Hook) =>
  register(async (state) => {
    try {
      await handler(state);
    } catch (e) {
      process.stderr.write(`\ntest.before failed: ${(e as Error)?.stack ?? String(e)}\n`);
      throw e;
    }
  })) as typeof test.before;
wrapped.each = test.before.each;
test.before = wrapped;
