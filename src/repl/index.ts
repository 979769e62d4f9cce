// The REPL: admin commands in Carbonio syntax, mailbox methods, live notifications.
export { Repl, PROMPT, type ReplOptions, type ReplResult } from "./repl.js";
export { ReplSession, type LineOutcome, type SessionOptions } from "./session.js";
export { tokenize, splitHead, ReplSyntaxError } from "./tokenize.js";
export { formatNotification, watchNotifications, NOTIFY_SUBJECTS } from "./notifications.js";
export { generalHelp, commandHelp } from "./help.js";
