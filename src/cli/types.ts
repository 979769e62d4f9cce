// Contracts of the CLI framework: what a command is, what it is given, how its arguments
// are described.
import type { Config, DeepPartial } from "../config/index.js";

/** Where a CLI run writes and what it sees; tests pass a capturing one. */
export interface CliIo {
  /** Writes one line (no trailing newline needed) to standard output. */
  out(line: string): void;
  /** Writes one line to standard error. */
  err(line: string): void;
  /** Writes bytes as they are to standard output (getItem ... out -); absent where there is none to write to. */
  outBytes?(bytes: Uint8Array): Promise<void>;
  env: NodeJS.ProcessEnv;
  /** Base of relative paths on the command line. */
  cwd: string;
}

/** Options accepted before the command (and after it, up to a `--`). */
export interface GlobalOptions {
  /** `--json`: print machine-readable JSON on stdout (errors too, on stderr). */
  json: boolean;
  /** `--sync`: wait for a long operation; exit 0 successful, 1 failed, 2 stopped, 3 removed, 4 interrupted. */
  sync: boolean;
  /** `--progress`: stream the progress of a long operation. */
  progress: boolean;
  /** `--config FILE`: JSON config file (wins over MR_CONFIG). */
  configFile?: string;
  /** `--servers URL[,URL]`: NATS endpoints (win over config and MR_SERVERS). */
  servers?: string[];
}

/** What a command's `run` gets: the io, the global options, and the configuration on demand. */
export interface CommandIo extends CliIo {
  readonly globals: GlobalOptions;
  /**
   * The effective configuration: defaults < --config/MR_CONFIG/system file < MR_* < --servers <
   * `overrides`. Loaded on call, so a command that needs none never fails on a bad config.
   * Throws ConfigError (runCli turns it into exit 2).
   */
  /**
   * The effective configuration. `ignoreSystemFile`: leave out an installed mailreplica's
   * system config file (dev runs from the checkout's var/, never from /etc/mailreplica).
   */
  config(overrides?: DeepPartial<Config>, opts?: { ignoreSystemFile?: boolean }): Config;
  /** Prints `value` as JSON on stdout (what commands print under --json). */
  json(value: unknown): void;
}

/**
 * A command. Keep module-level imports of a command file light: import heavy modules
 * (nats, sqlite, crypto) with `await import()` inside `run`, so `--help` stays fast.
 */
export interface Command {
  /** One word, e.g. `getAccountStatus` or `keys`. */
  name: string;
  /** One line for the command list. */
  summary: string;
  /** The arguments after `mailreplica `, e.g. `keys init [--host H] [--dir DIR] [--force]`. */
  usage: string;
  /** More help: parameters, examples. Printed by `help <command>` and `<command> --help`. */
  details?: string;
  /** Sub-commands (`keys init`); the first argument selects one. */
  subcommands?: readonly Command[];
  /**
   * Runs with the arguments after the command's name (global options removed). Returns the
   * exit code. Throw CliUsageError for a wrong command line (exit 2); any other error exits 1.
   */
  run(argv: string[], io: CommandIo): Promise<number>;
}

/** Types of `--option` values. */
export type OptionType = "string" | "boolean" | "integer" | "list";

/** One `--name` option. */
export interface OptionSpec {
  type: OptionType;
  /** Single-letter alias, without the dash (`f` for `-f`). */
  short?: string;
  /** Placeholder shown in help (`DIR`). */
  value?: string;
  description: string;
}

/** Options by long name (without `--`). */
export type OptionsSpec = Readonly<Record<string, OptionSpec>>;

export type OptionValue<T extends OptionType> = T extends "boolean" ? boolean : T extends "integer" ? number : T extends "list" ? string[] : string;

/** Parsed options: only those given are set. */
export type OptionValues<S extends OptionsSpec> = { [K in keyof S]?: OptionValue<S[K]["type"]> };

/** Settings of `parseOptions`; all optional (see `defaultParseOptionsSettings`). */
export interface ParseOptionsSettings {
  /** Fewest positional arguments. Default 0. */
  minPositionals?: number;
  /** Most positional arguments. Default 0 (none allowed). */
  maxPositionals?: number;
  /** How positionals are named in errors (`ACCOUNT`). Default `argument`. */
  positionalName?: string;
}

/** Types of Carbonio params: `integer` is a safe integer, `list` is comma separated, `boolean` is `true`/`false`. */
export type ParamType = "string" | "integer" | "list" | "boolean" | "uuid";

/** One Carbonio-style param (`name value`). Mandatory params are given positionally, in spec order. */
export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  /** (M) in Carbonio's tables. Default false. */
  readonly mandatory?: boolean;
  /** Value when an optional param is not given. */
  readonly default?: string | number | boolean | readonly string[];
  /** Enumeration: the allowed values (of each item, for a list). */
  readonly values?: readonly string[];
  /** Bounds of an `integer`. */
  readonly min?: number;
  readonly max?: number;
  /** What to type, as in Carbonio's TYPE column (`Server Hostname/ID`). Default from `type`. */
  readonly expected?: string;
  readonly description?: string;
}

/** A command's params in order: mandatory ones first (they are positional). */
export type ParamsSpec = readonly ParamSpec[];

export type ParamValue<T extends ParamType> = T extends "integer" ? number : T extends "boolean" ? boolean : T extends "list" ? string[] : string;

/** Parsed params by name; optional params without a default may be undefined. Declare the spec `as const` to get precise types. */
export type ParamValues<P extends ParamsSpec> = {
  [S in P[number] as S["name"]]: S extends { mandatory: true } | { default: unknown } ? ParamValue<S["type"]> : ParamValue<S["type"]> | undefined;
};
