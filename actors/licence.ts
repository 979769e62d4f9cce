// The HA quota: how many accounts may have replicas (Carbonio licenses "enabled accounts").
// With `licence.file` configured, the quantity comes from that signed file (licence_file.ts);
// without one, `licence.defaultQuota` applies (documented in README).
//
// A configured licence that is missing, malformed, tampered, signed by an untrusted issuer
// or expired allows no new enablements: the operator asked for a licence and must learn it
// is not in force, rather than silently getting the default. Replicas that exist keep
// working, because stopping replication would put mail at risk over a paperwork problem.
//
// The file is read again at every check, so installing a renewed licence needs no restart,
// and expiry is judged by the clock at the time of the check.
import { readFileSync } from "node:fs";
import { AppError } from "../src/jsonrpc/index.js";
import type { Directory } from "../src/directory/directory.js";
import { HA_FEATURE, trustedIssuers, verifyLicence, type LicenceProblem } from "./licence_file.js";

export interface LicenceOptions {
  /** accounts that may have replicas without a licence file */
  defaultQuota: number;
  /** the licence file (config licence.file); undefined: the default quota applies */
  file?: string;
  /** keys folder holding licence-issuer.pub, the trusted issuer key */
  keysDir?: string;
  now: () => number;
  log: (line: string) => void;
}

/** The licence in force now. */
export interface LicenceState {
  source: "file" | "default";
  valid: boolean;
  /** why the licence is not valid */
  reason?: string;
  problem?: LicenceProblem;
  /** accounts that may have replicas: 0 while the licence is not valid */
  quantity: number;
  validUntil: string | null;
  issuedTo: string | null;
  features: string[];
  file?: string;
}

/** getLicenseInfo's answer: Carbonio's blocks (ZxHA, features) and what is behind them. */
export interface LicenceInfo {
  ZxHA: { quantity: number; licensed: boolean };
  features: Array<{ name: string; quantity: number; enabled: boolean }>;
  accountsEnabled: number;
  validUntil: string | null;
  source: "file" | "default";
  valid: boolean;
  reason?: string;
  issuedTo?: string | null;
  file?: string;
}

export class LicenceQuota {
  /** what was last logged, so a change (new file, expiry) is logged once */
  private lastLogged: string | undefined;

  constructor(
    private readonly directory: Directory,
    private readonly opts: LicenceOptions,
  ) {
    this.state(); // logs the licence in force at start
  }

  /** Accounts allowed to have replicas now. */
  get quantity(): number {
    return this.state().quantity;
  }

  /** The licence in force now (reads the file). */
  state(): LicenceState {
    const st = this.evaluate();
    const line = st.valid
      ? st.source === "default"
        ? `licence: no licence file configured; default quota ${st.quantity} accounts with replicas (licence.defaultQuota)`
        : `licence: ${st.file} is valid: ${st.quantity} accounts with replicas until ${st.validUntil}, issued to ${st.issuedTo}`
      : `licence: ${st.file} is NOT valid (${st.reason}); no new replicas can be enabled until a valid licence is installed; existing replicas keep working`;
    if (line !== this.lastLogged) {
      this.lastLogged = line;
      this.opts.log(line);
    }
    return st;
  }

  private evaluate(): LicenceState {
    const file = this.opts.file;
    if (!file) return { source: "default", valid: true, quantity: this.opts.defaultQuota, validUntil: null, issuedTo: null, features: [HA_FEATURE] };
    const invalid = (problem: LicenceProblem, reason: string): LicenceState => ({ source: "file", file, valid: false, problem, reason, quantity: 0, validUntil: null, issuedTo: null, features: [] });
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === "ENOENT" ? invalid("missing", `licence file ${file} does not exist`) : invalid("unreadable", `licence file ${file} cannot be read (${code ?? "error"})`);
    }
    const v = verifyLicence(text, trustedIssuers(this.opts.keysDir), this.opts.now());
    if (!v.valid) return invalid(v.problem, v.reason);
    return { source: "file", file, valid: true, quantity: v.licence.quantity, validUntil: new Date(v.validUntilMs).toISOString(), issuedTo: v.licence.issuedTo, features: v.licence.features };
  }

  /** Accounts that have at least one replica now. */
  async enabledAccounts(): Promise<Set<string>> {
    return new Set((await this.directory.listAccounts()).filter((a) => a.replicas.length > 0).map((a) => a.id));
  }

  /**
   * Refuses when giving these accounts a replica would enable more accounts than the licence
   * allows (LICENCE_EXCEEDED), or would enable any while the licence is not valid
   * (LICENCE_INVALID). Accounts that already have a replica cost nothing more.
   */
  async checkQuota(accountIds: string[]): Promise<void> {
    const enabled = await this.enabledAccounts();
    const adding = new Set(accountIds.filter((id) => !enabled.has(id))).size;
    if (adding === 0) return;
    const st = this.state();
    if (!st.valid) {
      throw new AppError(
        "LICENCE_INVALID",
        `the licence is not valid: ${st.reason}; no new replicas can be enabled until a valid licence is installed (existing replicas keep working; see getLicenseInfo); nothing was changed`,
        { reason: st.reason, problem: st.problem, file: st.file, adding },
      );
    }
    if (enabled.size + adding > st.quantity) {
      throw new AppError(
        "LICENCE_EXCEEDED",
        `the HA licence allows ${st.quantity} accounts with replicas; ${enabled.size} have one and this would add ${adding}; remove destinations or raise the quota (getLicenseInfo); nothing was changed`,
        { quantity: st.quantity, enabled: enabled.size, adding },
      );
    }
  }

  async info(): Promise<LicenceInfo> {
    const st = this.state();
    const accountsEnabled = (await this.enabledAccounts()).size;
    const ha = st.valid && st.features.includes(HA_FEATURE);
    return {
      ZxHA: { quantity: st.quantity, licensed: ha },
      features: [{ name: HA_FEATURE, quantity: st.quantity, enabled: ha }],
      accountsEnabled,
      validUntil: st.validUntil,
      source: st.source,
      valid: st.valid,
      ...(st.reason !== undefined ? { reason: st.reason } : {}),
      ...(st.source === "file" ? { issuedTo: st.issuedTo, file: st.file } : {}),
    };
  }
}
