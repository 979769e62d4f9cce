// Splits a REPL line into words the way a shell would, so values with spaces and newlines
// (an RFC 822 `raw`) can be typed: 'single quotes' are literal, "double quotes" take
// \n \t \r \" \\ escapes, and a backslash outside quotes escapes the next character.

import { CodedError } from "../errors/index.js";

/** A line that cannot be split (an unterminated quote). */
export class ReplSyntaxError extends CodedError<"REPL_SYNTAX"> {
  constructor(message: string) {
    super("REPL_SYNTAX", message);
  }
}

const ESCAPES: Readonly<Record<string, string>> = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\", "0": "\0" };

/** The words of `line`. An empty pair of quotes is an empty word (`flags ''`). */
export function tokenize(line: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === " " || c === "\t") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new ReplSyntaxError(`unterminated ' quote at column ${i + 1}; close it with another '`);
      word += line.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new ReplSyntaxError('unterminated " quote; close it with another "');
        const d = line[i]!;
        if (d === '"') break;
        if (d === "\\" && i + 1 < line.length) {
          const e = line[i + 1]!;
          word += ESCAPES[e] ?? `\\${e}`; // unknown escapes stay as typed (a regex, a path)
          i += 2;
          continue;
        }
        word += d;
        i++;
      }
      i++;
    } else if (c === "\\" && i + 1 < line.length) {
      word += line[i + 1]!;
      i += 2;
    } else {
      word += c;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The first word and the text after it (trimmed), for `method {json}` where the JSON is taken verbatim. */
export function splitHead(line: string): { head: string; rest: string } {
  const t = line.trim();
  const m = /^(\S+)\s*([\s\S]*)$/.exec(t);
  return m ? { head: m[1]!, rest: m[2]!.trim() } : { head: "", rest: "" };
}
