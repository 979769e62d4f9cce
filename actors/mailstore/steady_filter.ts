// What a replica agent's steady durable reads (docs/benchmarks.md, "The consumer choice"): the
// subjects of accounts replicated here and not paused, so a mailstore's replication cost
// follows what it replicates, not the whole cluster's writes.
//
// - one account: its subject as `filter_subject`, a plain string (nats-server 2.10 reads a
//   one-item `filter_subjects` list ~100x slower from cold blocks: Findings 1);
// - more: `filter_subjects` listing them, at most `max` (maxFilterSubjects) per durable.
//   nats-server checks every pair of filter subjects for overlap, so creating or updating a
//   consumer costs the square of its list (2.10.27: 35-61 ms at 250, 0.35-1.2 s at 1,000,
//   24 s at 5,000), and 2.10.27 holds the stream's writes meanwhile. A mailstore replicating
//   more than `max` accounts has several durables, each listing at most `max`
//   (steady_layout.ts), so it still reads only its own accounts' entries.
// - nothing replicated: no durable at all (a consumer needs a filter, and one that matches
//   nothing would still be a consumer on the stream for every mailstore that replicates nothing).
//
// `mr.tx.*` (every entry, skipping the others') is read from a durable an older version left
// (consumed, then replaced by the listed layout), and with maxFilterSubjects 0 (one durable on
// `mr.tx.*`, the layout before filter lists, which the benchmark compares).
import type { ConsumerConfig } from "@nats-io/jetstream";
import { txSubject } from "../../src/jetstream/assets.js";

/** The subject of every account's log: what an older version's durable read above its maximum. */
export const ALL_TX = "mr.tx.*";

/** At most this many subjects per durable; more accounts are split over more durables (measured in docs/benchmarks.md). */
export const DEFAULT_MAX_FILTER_SUBJECTS = 250;

/** How long changes to the replicated set are gathered into one consumer update, ms. */
export const FILTER_WINDOW_MS = 100;

export type SteadyFilter =
  /** no durable */
  | { kind: "none" }
  /** the listed subjects, sorted (one: sent as filter_subject) */
  | { kind: "subjects"; subjects: readonly string[] }
  /** `mr.tx.*`: everything, skipping what is not replicated here (an older version's durable; maxFilterSubjects 0) */
  | { kind: "all" };

/** A filter that lists subjects. */
export type ListedFilter = Extract<SteadyFilter, { kind: "subjects" }>;

/** The filter listing these accounts (ids), sorted; none for no account. */
export function steadyFilterFor(accountIds: Iterable<string>): SteadyFilter {
  const subjects = [...accountIds].map(txSubject).sort();
  if (subjects.length === 0) return { kind: "none" };
  return { kind: "subjects", subjects };
}

/** The filter a durable's configuration (as the server reports it) reads. */
export function filterOfConfig(cfg: Pick<ConsumerConfig, "filter_subject" | "filter_subjects">): SteadyFilter {
  const listed = cfg.filter_subjects?.length ? [...cfg.filter_subjects] : cfg.filter_subject ? [cfg.filter_subject] : [];
  if (listed.length === 0 || listed.includes(ALL_TX)) return { kind: "all" };
  return { kind: "subjects", subjects: listed.sort() };
}

/**
 * The filter fields of a durable's configuration. Both are always named, so an update from one
 * form to the other clears the old one (the server refuses a consumer with both).
 */
export function filterFields(f: Exclude<SteadyFilter, { kind: "none" }>): { filter_subject: string | undefined; filter_subjects: string[] | undefined } {
  if (f.kind === "all") return { filter_subject: ALL_TX, filter_subjects: undefined };
  if (f.subjects.length === 1) return { filter_subject: f.subjects[0], filter_subjects: undefined };
  return { filter_subject: undefined, filter_subjects: [...f.subjects] };
}

/** Whether a durable with this filter delivers the account's entries. */
export function covers(f: SteadyFilter | undefined, accountId: string): boolean {
  if (!f || f.kind === "none") return false;
  if (f.kind === "all") return true;
  return f.subjects.includes(txSubject(accountId));
}

export function sameFilter(a: SteadyFilter | undefined, b: SteadyFilter): boolean {
  if (!a || a.kind !== b.kind) return false;
  if (a.kind !== "subjects" || b.kind !== "subjects") return true;
  return a.subjects.length === b.subjects.length && a.subjects.every((s, i) => s === b.subjects[i]);
}

/** In a log line: what the durable reads. */
export function describeFilter(f: SteadyFilter): string {
  if (f.kind === "none") return "no durable (nothing replicated here)";
  if (f.kind === "all") return `${ALL_TX} (every entry, skipping the accounts not replicated here)`;
  return f.subjects.length === 1 ? `filter_subject ${f.subjects[0]}` : `filter_subjects listing ${f.subjects.length} accounts`;
}
