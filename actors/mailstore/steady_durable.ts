// One steady durable of a mailstore's replica agent on MR_TX (steady_layout.ts says which
// ones it has): creating, consuming, updating its filter in place and deleting it. What an
// entry does is the agent's; this module only moves entries and tells when its loop ended.
import { AckPolicy, DeliverPolicy, type ConsumerInfo, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import type { Logger } from "../../src/log/index.js";
import type { Assets } from "../../src/jetstream/assets.js";
import { CodedError } from "../../src/errors/index.js";
import { jsErrCode, JS_ERR } from "../../src/runtime/nats_failure.js";
import { filterFields, filterOfConfig, type SteadyFilter } from "./steady_filter.js";
import { HOST_METADATA, parseShardDurableName } from "./steady_layout.js";

/** A filter a durable can have (one that reads nothing is no durable). */
export type DurableFilter = Exclude<SteadyFilter, { kind: "none" }>;

/** A durable of this host's layout's name exists but is not this host's (no metadata naming it). */
export class SteadyDurableConflictError extends CodedError<"STEADY_DURABLE_CONFLICT"> {
  constructor(name: string, host: string, stream: string) {
    super(
      "STEADY_DURABLE_CONFLICT",
      `consumer ${name} on ${stream} exists but is not ${host}'s replica durable (its metadata does not name ${host}); delete it (nats consumer rm ${stream} ${name}) so ${host} can create its own`,
      { details: { consumer: name, host, stream } },
    );
  }
}

export interface SteadyDurableDeps {
  assets: Assets;
  log?: Logger;
}

export class SteadyDurable {
  private messages: ConsumerMessages | undefined;

  /** `filter`: what it reads, as last created, updated or read from the server. */
  private constructor(
    private readonly d: SteadyDurableDeps,
    readonly name: string,
    public filter: DurableFilter,
  ) {}

  /** A durable that exists on the server, with its configuration as the server reported it. */
  static existing(d: SteadyDurableDeps, info: ConsumerInfo): SteadyDurable {
    return new SteadyDurable(d, info.config.durable_name ?? info.name, filterOfConfig(info.config) as DurableFilter);
  }

  /**
   * Creates the durable. It starts at the stream's end: older entries of its accounts are read
   * by their catch-ups, which the caller starts once it consumes. `host` goes in the metadata
   * of a shard durable (B > 1), so another layout's leftovers are told from another host's.
   */
  static async create(d: SteadyDurableDeps, name: string, filter: DurableFilter, host: string | undefined): Promise<SteadyDurable> {
    try {
      await d.assets.jsm.consumers.add(d.assets.opts.txStream, {
        durable_name: name,
        ...filterFields(filter),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        max_ack_pending: 10_000,
        ack_wait: 30_000_000_000,
        ...(host !== undefined ? { metadata: { [HOST_METADATA]: host } } : {}),
      });
    } catch (e) {
      // Refused because it exists with another configuration (an older version's, made since
      // the listing): this host's is taken as it is (its filter set by the caller's next
      // round); another's is not touched.
      const info = await d.assets.jsm.consumers.info(d.assets.opts.txStream, name).catch(() => undefined);
      if (!info) throw e;
      if (host !== undefined && info.config.metadata?.[HOST_METADATA] !== host) throw new SteadyDurableConflictError(name, host, d.assets.opts.txStream);
      return SteadyDurable.existing(d, info);
    }
    return new SteadyDurable(d, name, filter);
  }

  /**
   * The durables of this host on MR_TX: the base name (B = 1, also an older version's
   * `mr.tx.*`) and the shard durables whose metadata names this host.
   */
  static async listOfHost(d: SteadyDurableDeps, base: string, host: string): Promise<Map<string, ConsumerInfo>> {
    const found = new Map<string, ConsumerInfo>();
    for await (const ci of d.assets.jsm.consumers.list(d.assets.opts.txStream)) {
      const layout = parseShardDurableName(base, ci.name);
      if (!layout) continue;
      if (layout.shards > 1 && ci.config.metadata?.[HOST_METADATA] !== host) continue;
      found.set(ci.name, ci);
    }
    return found;
  }

  get consuming(): boolean {
    return this.messages !== undefined;
  }

  /**
   * Starts reading it: each entry goes to `onEntry` (which must not throw) and is acked after.
   * `onEnded` is told when the loop ends by itself (the durable deleted, the server lost it),
   * never after stop() or delete(). `onSuspect` is told when its pulls went unanswered (two
   * heartbeats missed): what the server delivered meanwhile may never have arrived.
   */
  async consume(
    onEntry: (m: JsMsg) => Promise<void>,
    onEnded: (d: SteadyDurable, why: string) => void,
    onSuspect: (d: SteadyDurable, why: string) => void,
  ): Promise<void> {
    if (this.messages) return;
    const consumer = await this.d.assets.js.consumers.get(this.d.assets.opts.txStream, this.name);
    // Without abort_on_missing_resource nats.js retries a deleted durable forever and the
    // replica silently stops applying; with it the loop ends and the agent recreates it.
    // 5 s pulls: a pull lost on its way (the consumer's leader moved) is noticed after two
    // missed heartbeats, 5 s, instead of the client's default 30 s, during which nothing
    // would be applied.
    const messages = await consumer.consume({ max_messages: 1_000, abort_on_missing_resource: true, expires: 5_000 });
    if (this.messages) {
      messages.stop(); // consumed twice at once: the first one reads
      return;
    }
    this.messages = messages;
    void this.watchStatus(messages, onSuspect);
    void this.run(messages, onEntry, onEnded);
  }

  private async run(messages: ConsumerMessages, onEntry: (m: JsMsg) => Promise<void>, onEnded: (d: SteadyDurable, why: string) => void): Promise<void> {
    let ended = "ended";
    try {
      for await (const m of messages) {
        try {
          await onEntry(m);
        } finally {
          m.ack();
        }
      }
    } catch (e) {
      ended = `ended: ${(e as Error).message}`;
    }
    if (this.messages !== messages) return; // stopped, deleted, or consumed again
    this.messages = undefined;
    onEnded(this, ended);
  }

  /** Logs what nats.js reports about the durable (deleted, not found, heartbeats missed). */
  private async watchStatus(messages: ConsumerMessages, onSuspect: (d: SteadyDurable, why: string) => void): Promise<void> {
    const watched: ReadonlySet<string> = new Set(["consumer_deleted", "consumer_not_found", "stream_not_found", "heartbeats_missed"]);
    for await (const s of messages.status()) {
      if (!watched.has(s.type)) continue;
      const { type, ...detail } = s;
      this.d.log?.info({ consumer: this.name, status: type, detail }, "steady consumer status");
      if (type === "heartbeats_missed" && this.messages === messages) onSuspect(this, type);
    }
  }

  /** Stops reading (the durable stays, and keeps its position). */
  stop(): void {
    const messages = this.messages;
    this.messages = undefined;
    messages?.stop();
  }

  /** Sets its filter in place: it keeps its position. */
  async update(filter: DurableFilter): Promise<void> {
    await this.d.assets.jsm.consumers.update(this.d.assets.opts.txStream, this.name, filterFields(filter));
    this.filter = filter;
  }

  /** Stops reading it (first, so the loop's end is not taken for a lost durable), then deletes it. */
  async delete(): Promise<void> {
    this.stop();
    await this.d.assets.jsm.consumers.delete(this.d.assets.opts.txStream, this.name).catch((e: unknown) => {
      if (jsErrCode(e) !== JS_ERR.CONSUMER_NOT_FOUND) throw e;
    });
  }
}
