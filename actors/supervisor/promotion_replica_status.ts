// The state of replica copies a promotion asks their mailstores for (accountStatus), one call
// per mailstore for all the accounts asked about at the same moment: the accounts a run
// promotes in parallel ask together, instead of one request per account. Answers are never
// reused: each ask gets the copy's state as it is after the ask.
import type { NatsConnection } from "@nats-io/transport-node";
import type { LocalAccountStatus } from "../../src/protocol/node_api.js";
import { localStatuses } from "./account_status.js";

/** Most accounts in one accountStatus call (the answer stays far under max_payload). */
const MAX_BATCH = 500;

interface Waiting {
  ids: string[];
  answers: Array<(byId: Map<string, LocalAccountStatus> | undefined) => void>;
}

export class ReplicaStatusBatcher {
  private readonly waiting = new Map<string, Waiting>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = 3_000,
  ) {}

  /**
   * The copies of `accountId` on each of `hosts` (one map per host, keyed by account id;
   * undefined for a host that did not answer). Asks made before the next turn of the event
   * loop share one call per host.
   */
  async ask(hosts: readonly string[], accountId: string): Promise<Map<string, Map<string, LocalAccountStatus> | undefined>> {
    const answers = await Promise.all(hosts.map((h) => this.askHost(h, accountId)));
    return new Map(hosts.map((h, i) => [h, answers[i]]));
  }

  private askHost(host: string, accountId: string): Promise<Map<string, LocalAccountStatus> | undefined> {
    return new Promise((resolve) => {
      let w = this.waiting.get(host);
      if (w === undefined || w.ids.length >= MAX_BATCH) {
        w = { ids: [], answers: [] };
        this.waiting.set(host, w);
        const batch = w;
        setImmediate(() => void this.send(host, batch));
      }
      w.ids.push(accountId);
      w.answers.push(resolve);
    });
  }

  private async send(host: string, w: Waiting): Promise<void> {
    if (this.waiting.get(host) === w) this.waiting.delete(host);
    const got = (await localStatuses(this.nc, new Map([[host, [...new Set(w.ids)]]]), this.timeoutMs)).get(host);
    for (const answer of w.answers) answer(got);
  }
}
