// What the supervisor's method modules use of the running supervisor. Each module declares
// its own context from these (Pick, extends), naming exactly what it reads; SupervisorNode
// satisfies them all and passes itself. This module imports nothing that imports node.ts, so
// the modules never depend on the node they are part of.
import type { NatsConnection } from "@nats-io/transport-node";
import type { Clock } from "../../src/runtime/clock.js";
import type { Assets } from "../../src/jetstream/assets.js";
import type { Directory } from "../../src/directory/directory.js";
import type { Logger } from "../../src/log/index.js";
import type { OperationRecord } from "./operations.js";

/** The core most modules share. */
export interface SupervisorCore {
  /** this supervisor's name */
  readonly host: string;
  readonly clock: Clock;
  readonly nc: NatsConnection;
  readonly assets: Assets;
  readonly directory: Directory;
  readonly log: Logger;
  /** True while this supervisor holds the lease: only then does it serve and run operations. */
  readonly isActive: boolean;
}

/** Tells the Global Admin that an operation ended (SupervisorNode.notifyOperationEnd). */
export interface OperationEndNotifier {
  notifyOperationEnd(op: OperationRecord, what: string): Promise<void>;
}
