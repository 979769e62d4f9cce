// Command-line parsing: `--flag value` options, and Carbonio's `positional... name value`
// params. Every refusal is a CliUsageError naming the option or param and what is allowed.
import { didYouMean } from "./closest.js";
import { CliUsageError } from "./errors.js";
import type { OptionSpec, OptionsSpec, OptionValues, ParamSpec, ParamsSpec, ParamValues, ParseOptionsSettings } from "./types.js";

const INTEGER = /^[+-]?\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function parseInteger(raw: string): number | undefined {
  return INTEGER.test(raw) && Number.isSafeInteger(Number(raw)) ? Number(raw) : undefined;
}

function parseBoolean(raw: string): boolean | undefined {
  return raw === "true" ? true : raw === "false" ? false : undefined;
}

/** Splits a comma list; an empty entry is refused (usually a stray space or comma). */
function parseList(raw: string): string[] | undefined {
  const items = raw.split(",").map((s) => s.trim());
  return items.some((s) => s === "") ? undefined : items;
}

// ---------------------------------------------------------------- --options

export function defaultParseOptionsSettings(): Required<ParseOptionsSettings> {
  return { minPositionals: 0, maxPositionals: 0, positionalName: "argument" };
}

function optionNames(spec: OptionsSpec): string[] {
  return Object.entries(spec).map(([name, o]) => (o.short ? `--${name} (-${o.short})` : `--${name}`));
}

function optionValue(name: string, o: OptionSpec, raw: string): string | number | boolean | string[] {
  switch (o.type) {
    case "string":
      return raw;
    case "integer": {
      const n = parseInteger(raw);
      if (n === undefined) throw new CliUsageError(`option --${name} needs an integer, got ${JSON.stringify(raw)}`);
      return n;
    }
    case "boolean": {
      const b = parseBoolean(raw);
      if (b === undefined) throw new CliUsageError(`option --${name} takes true or false (or no value, meaning true), got ${JSON.stringify(raw)}`);
      return b;
    }
    case "list": {
      const l = parseList(raw);
      if (l === undefined) throw new CliUsageError(`option --${name} has an empty entry in ${JSON.stringify(raw)}; give a comma-separated list without spaces`);
      return l;
    }
  }
}

/**
 * Parses `--name value`, `--name=value`, `-s value` and boolean `--name` options. Anything
 * after `--` is positional. Refuses unknown options, missing or malformed values, an option
 * given twice, and positionals beyond `settings.maxPositionals` (none by default).
 */
export function parseOptions<S extends OptionsSpec>(
  argv: readonly string[],
  spec: S,
  settings: ParseOptionsSettings = {},
): { options: OptionValues<S>; positionals: string[] } {
  const s = { ...defaultParseOptionsSettings(), ...settings };
  const options: Record<string, unknown> = {};
  const positionals: string[] = [];
  const byShort = new Map(Object.entries(spec).flatMap(([name, o]) => (o.short ? [[o.short, name] as const] : [])));
  const allowed = optionNames(spec);
  const allowedText = allowed.length ? `allowed: ${allowed.join(", ")}` : "this command takes no options";

  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!tok.startsWith("-") || tok === "-" || /^-\d/.test(tok)) {
      positionals.push(tok);
      continue;
    }
    const eq = tok.indexOf("=");
    const flag = eq >= 0 ? tok.slice(0, eq) : tok;
    const inline = eq >= 0 ? tok.slice(eq + 1) : undefined;
    const name = flag.startsWith("--") ? flag.slice(2) : byShort.get(flag.slice(1));
    const o = name === undefined ? undefined : spec[name];
    if (name === undefined || o === undefined) {
      throw new CliUsageError(`unknown option '${flag}'${didYouMean(flag.replace(/^-+/, ""), Object.keys(spec))}; ${allowedText}`);
    }
    if (name in options) throw new CliUsageError(`option --${name} is given twice; give it once`);
    let raw = inline;
    if (raw === undefined && o.type !== "boolean") {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("--") && next.length > 2)) {
        throw new CliUsageError(`option --${name} needs a value (${o.value ?? o.type})`);
      }
      raw = next;
      i++;
    }
    options[name] = raw === undefined ? true : optionValue(name, o, raw);
  }

  if (positionals.length > s.maxPositionals) {
    const extra = positionals[s.maxPositionals]!;
    throw new CliUsageError(
      s.maxPositionals === 0
        ? `unexpected argument '${extra}'; this command takes only options (${allowed.join(", ") || "none"})`
        : `too many arguments: '${extra}' is one more than the ${s.maxPositionals} ${s.positionalName}(s) allowed`,
    );
  }
  if (positionals.length < s.minPositionals) {
    throw new CliUsageError(`missing ${s.positionalName}: ${s.minPositionals} needed, ${positionals.length} given`);
  }
  return { options: options as OptionValues<S>, positionals };
}

/** Help lines for an options spec: `  --dir DIR       where the keys go`. */
export function formatOptionsHelp(spec: OptionsSpec): string[] {
  const rows = Object.entries(spec).map(([name, o]) => {
    const left = `${o.short ? `-${o.short}, ` : ""}--${name}${o.type === "boolean" ? "" : ` ${o.value ?? o.type.toUpperCase()}`}`;
    return [left, o.description] as const;
  });
  const w = Math.max(0, ...rows.map(([l]) => l.length));
  return rows.map(([l, d]) => `  ${l.padEnd(w)}  ${d}`);
}

// ---------------------------------------------------------------- Carbonio params

function expected(p: ParamSpec): string {
  if (p.expected) return p.expected;
  if (p.values) return p.values.join("|") + (p.type === "list" ? "[,..]" : "");
  switch (p.type) {
    case "integer":
      return p.min !== undefined || p.max !== undefined ? `Integer ${p.min ?? "..."}-${p.max ?? "..."}` : "Integer";
    case "list":
      return "String[,..]";
    case "boolean":
      return "true|false";
    case "uuid":
      return "Uuid";
    case "string":
      return "String";
  }
}

function paramValue(p: ParamSpec, raw: string): string | number | boolean | string[] {
  const refuse = (what: string): never => {
    throw new CliUsageError(`param '${p.name}' must be ${what}, got ${JSON.stringify(raw)}`);
  };
  const checkEnum = (v: string): void => {
    if (p.values && !p.values.includes(v)) refuse(`one of ${p.values.join(", ")}${p.type === "list" ? " (comma separated)" : ""}`);
  };
  switch (p.type) {
    case "integer": {
      const n = parseInteger(raw);
      const range =
        p.min !== undefined && p.max !== undefined
          ? ` from ${p.min} to ${p.max}`
          : p.min !== undefined
            ? ` of at least ${p.min}`
            : p.max !== undefined
              ? ` of at most ${p.max}`
              : "";
      if (n === undefined || (p.min !== undefined && n < p.min) || (p.max !== undefined && n > p.max)) return refuse(`an integer${range}`);
      return n;
    }
    case "boolean": {
      const b = parseBoolean(raw);
      return b === undefined ? refuse("true or false") : b;
    }
    case "uuid":
      return UUID.test(raw) ? raw.toLowerCase() : refuse("a UUID such as 123e4567-e89b-12d3-a456-426614174000");
    case "list": {
      const l = parseList(raw);
      if (l === undefined) return refuse("a comma-separated list without spaces or empty entries (a,b,c)");
      l.forEach(checkEnum);
      return l;
    }
    case "string":
      if (raw === "") return refuse("a non-empty string");
      checkEnum(raw);
      return raw;
  }
}

function paramsUsage(spec: ParamsSpec): string {
  return spec.map((p) => (p.mandatory ? `<${p.name}>` : `[${p.name} ${p.type === "list" ? "VALUE[,VALUE]" : "VALUE"}]`)).join(" ");
}

/**
 * Parses Carbonio's syntax: the mandatory params first, positionally and in spec order,
 * then `name value` pairs for the optional ones. Lists are comma separated. Refuses
 * unknown names, missing mandatory params, a param given twice, a name without a value,
 * and values of the wrong type or outside the enumeration or bounds.
 */
export function parseCarbonioParams<P extends ParamsSpec>(argv: readonly string[], spec: P): ParamValues<P> {
  const mandatory = spec.filter((p) => p.mandatory);
  const optional = spec.filter((p) => !p.mandatory);
  const names = spec.map((p) => p.name);
  const out: Record<string, unknown> = {};

  let i = 0;
  for (const p of mandatory) {
    const raw = argv[i];
    const hint = `usage: ${paramsUsage(spec)}`;
    if (raw === undefined) throw new CliUsageError(`missing mandatory param '${p.name}' (${expected(p)}); ${hint}`);
    // `setAccountDestination accounts a@x` forgot the positional params: say so rather than "not an integer".
    if (optional.some((o) => o.name === raw)) {
      throw new CliUsageError(
        `missing mandatory param '${p.name}' (${expected(p)}): found the param name '${raw}' in its place; mandatory params come first, without their names; ${hint}`,
      );
    }
    out[p.name] = paramValue(p, raw);
    i++;
  }

  for (; i < argv.length; i += 2) {
    const name = argv[i]!;
    const p = optional.find((o) => o.name === name);
    if (p === undefined) {
      const given = mandatory.find((m) => m.name === name);
      if (given) throw new CliUsageError(`param '${name}' is mandatory and given positionally already; give each param once`);
      const prev = argv[i - 1];
      const spaced = prev?.endsWith(",") ? "; lists are comma separated without spaces (a,b,c)" : "";
      const allowed = optional.length ? `allowed: ${optional.map((o) => o.name).join(", ")}` : "this command takes no named params";
      throw new CliUsageError(`unknown param '${name}'${didYouMean(name, names)}${spaced}; ${allowed}`);
    }
    if (p.name in out) throw new CliUsageError(`param '${p.name}' is given twice; give it once${p.type === "list" ? " with a comma-separated list" : ""}`);
    const raw = argv[i + 1];
    if (raw === undefined) throw new CliUsageError(`param '${p.name}' needs a value (${expected(p)})`);
    out[p.name] = paramValue(p, raw);
  }

  for (const p of optional) {
    if (!(p.name in out) && p.default !== undefined) out[p.name] = Array.isArray(p.default) ? [...p.default] : p.default;
  }
  return out as ParamValues<P>;
}

/** `setAccountDestination <destination> <priority> [accounts VALUE[,VALUE]] ...` */
export function usageOfParams(command: string, spec: ParamsSpec): string {
  return `${command} ${paramsUsage(spec)}`.trimEnd();
}

/** Carbonio-style parameter table: NAME (M/O), TYPE, DEFAULT, description. */
export function formatParamsHelp(spec: ParamsSpec): string[] {
  const rows = spec.map((p) => [
    `${p.name} (${p.mandatory ? "M" : "O"})`,
    expected(p),
    p.default === undefined ? "" : Array.isArray(p.default) ? p.default.join(",") : String(p.default),
    p.description ?? "",
  ]);
  const head = ["NAME", "TYPE", "DEFAULT", "DESCRIPTION"];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]): string =>
    "  " +
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)];
}
