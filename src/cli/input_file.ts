// Carbonio's `input_file F`: one account per line. The CLI reads it and sends `accounts`.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { InputFileError } from "./errors.js";
import { fileReadProblem } from "../text/file_read_problem.js";

/**
 * The accounts listed in `path` (relative to `cwd`), in order, each once. Blank lines and
 * lines starting with `#` are ignored. An empty list is refused: for `promoteAccounts` no
 * accounts means *all* accounts, which an empty file must never turn into.
 */
export function readAccountsFile(path: string, cwd: string = process.cwd()): string[] {
  const file = resolve(cwd, path);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new InputFileError(`input_file ${fileReadProblem(file, e)}; give a text file with one account per line`);
  }
  const accounts = new Set<string>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    if (/[\s,]/.test(line)) {
      throw new InputFileError(`input_file ${file} line ${i + 1}: ${JSON.stringify(line)} holds more than one word; write one account per line, nothing else`);
    }
    accounts.add(line);
  });
  if (accounts.size === 0)
    throw new InputFileError(`input_file ${file} lists no accounts; write one account per line (blank lines and # comments are ignored)`);
  return [...accounts];
}

/**
 * The accounts a command was given, from `accounts` or `input_file` (not both), or
 * undefined when neither is given (the command's default applies, e.g. "all").
 */
export function accountsFromParams(params: { accounts?: string[] | undefined; input_file?: string | undefined }, cwd: string): string[] | undefined {
  if (params.accounts !== undefined && params.input_file !== undefined) {
    throw new InputFileError("give the accounts either as 'accounts a,b' or as 'input_file FILE', not both");
  }
  if (params.input_file !== undefined) return readAccountsFile(params.input_file, cwd);
  return params.accounts;
}
