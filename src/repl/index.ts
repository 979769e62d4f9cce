// The REPL: admin commands in Carbonio syntax, mailbox methods, live notifications.
export { Repl, PROMPT, type ReplOptions, type ReplResult } from "./repl.js";
export { ReplSession, type LineOutcome, type SessionOptions } from "./session.js";
export { tokenize, splitHead, ReplSyntaxError } from "./tokenize.js";
export { formatNotification, watchNotifications, NOTIFY_SUBJECTS } from "./notifications.js";
export { generalHelp, commandHelp } from "./help.js";
export { complete, commandWords, namesNeeded, valueKind, NO_NAMES, REPL_WORDS, type KnownNames, type NamesNeeded, type ValueKind } from "./complete.js";
export { NameLookup, hostsOfServices, accountsOfListing, type NameLookupOptions } from "./names.js";
export { ReplHistory, historyFile, holdsSecret, HISTORY_ENV, DEFAULT_HISTORY_LINES, type HistoryOptions } from "./history.js";
export { ReplConsole, type ConsoleOptions } from "./console.js";
