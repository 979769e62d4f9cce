// Values that came from a request (an account name, an operation id, an error message that
// quotes one) are printed in log lines and in the CLI/REPL output. A newline, a carriage
// return or an ANSI escape in such a value would let a caller forge a line of its own
// ("...\n[ms1] mailstore started"), so every control character is written as an escape.

// C0 controls, DEL, C1 controls (NEL among them) and the Unicode line and paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

function escapeOne(c: string): string {
  switch (c) {
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
    default: {
      const n = c.charCodeAt(0);
      return n <= 0xff ? `\\x${n.toString(16).padStart(2, "0")}` : `\\u${n.toString(16).padStart(4, "0")}`;
    }
  }
}

/** `text` with every control character and line separator escaped (\n, \r, \t, \xNN, \uNNNN): always one line. */
export function printable(text: string): string {
  return text.replace(CONTROL, escapeOne);
}
