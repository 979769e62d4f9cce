// The HA quota: how many accounts may have replicas. Without a licence file the configured
// default quota applies (documented in README).
import { AppError } from "../src/jsonrpc/index.js";
import type { Directory } from "../src/directory/directory.js";

export class LicenceQuota {
  constructor(
    private readonly directory: Directory,
    readonly quantity: number,
  ) {}

  /** Accounts that have at least one replica now. */
  async enabledAccounts(): Promise<Set<string>> {
    return new Set((await this.directory.listAccounts()).filter((a) => a.replicas.length > 0).map((a) => a.id));
  }

  /** Refuses when giving these accounts a replica would exceed the quota. */
  async checkQuota(accountIds: string[]): Promise<void> {
    const enabled = await this.enabledAccounts();
    const adding = accountIds.filter((id) => !enabled.has(id)).length;
    if (enabled.size + adding > this.quantity) {
      throw new AppError(
        "LICENCE_EXCEEDED",
        `the HA licence allows ${this.quantity} accounts with replicas; ${enabled.size} have one and this would add ${adding}; remove destinations or raise the quota (getLicenseInfo); nothing was changed`,
        { quantity: this.quantity, enabled: enabled.size, adding },
      );
    }
  }
}
