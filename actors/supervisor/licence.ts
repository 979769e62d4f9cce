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
// and expiry is judged by the clock at the time of the check. Which issuers are trusted is
// decided once at start (licence_issuer.ts). Enabling accounts goes through the quota ledger
// (quota_ledger.ts), so concurrent changes cannot together pass the quota.
import type { Logger } from "../../src/log/index.js";
import { readFileSync } from "node:fs";
import { AppError } from "../../src/jsonrpc/index.js";
import type { Directory } from "../../src/directory/directory.js";
import type { AccountRecord } from "../../src/directory/types.js";
import { UNLICENSED_QUOTA } from "../../config/defaults.js";
import { defaultQuotaProblem } from "../../config/schema.js";
import { invalidConfig } from "../../src/config/errors.js";
import { errnoCode, fileReadProblem } from "../../src/text/file_read_problem.js";
import { HA_FEATURE, verifyLicence, type LicenceProblem } from "../../src/licence/licence_file.js";
import { devIssuerWarning, licenceIssuers, type LicenceIssuers } from "../../src/licence/licence_issuer.js";
import { isEnabled, QuotaLedger, type Hold, type QuotaRefusal } from "./quota_ledger.js";

export interface LicenceOptions {
  /** accounts that may have replicas without a licence file; at most UNLICENSED_QUOTA */
  defaultQuota: number;
  /** the licence file (config licence.file); undefined: the default quota applies */
  file?: string;
  /** a development issuer's public key file, trusted besides the pinned one (config licence.devIssuerKeyFile) */
  devIssuerKeyFile?: string;
  now: () => number;
  log: Logger;
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
  /** present only while a development issuer is trusted (licence.devIssuerKeyFile) */
  developmentIssuer?: { key: string; file: string; warning: string };
}

export class LicenceQuota {
  /** what was last logged, so a change (new file, expiry) is logged once */
  private lastLogged: string | undefined;
  private readonly issuers: LicenceIssuers;
  readonly ledger: QuotaLedger;

  constructor(
    private readonly directory: Directory,
    private readonly opts: LicenceOptions,
  ) {
    // The config refuses it too; this guards every other way of starting a supervisor.
    if (!Number.isSafeInteger(opts.defaultQuota) || opts.defaultQuota < 0 || opts.defaultQuota > UNLICENSED_QUOTA) {
      throw invalidConfig([defaultQuotaProblem(opts.defaultQuota)]);
    }
    this.issuers = licenceIssuers(opts.devIssuerKeyFile);
    if (this.issuers.development) opts.log.warn(devIssuerWarning(this.issuers.development));
    this.ledger = new QuotaLedger(directory.kv, opts.now, async () => (await this.directory.listAccounts()).filter(isEnabled).length);
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
      // The licence's fields come from the operator's signed file, not from a request: in the text.
      if (st.valid) this.opts.log.info(line);
      else this.opts.log.error(line);
    }
    return st;
  }

  private evaluate(): LicenceState {
    const file = this.opts.file;
    if (!file) return { source: "default", valid: true, quantity: this.opts.defaultQuota, validUntil: null, issuedTo: null, features: [HA_FEATURE] };
    const invalid = (problem: LicenceProblem, reason: string): LicenceState => ({
      source: "file",
      file,
      valid: false,
      problem,
      reason,
      quantity: 0,
      validUntil: null,
      issuedTo: null,
      features: [],
    });
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      return invalid(errnoCode(e) === "ENOENT" ? "missing" : "unreadable", `licence file ${fileReadProblem(file, e)}`);
    }
    const v = verifyLicence(text, this.issuers.trusted, this.opts.now());
    if (!v.valid) return invalid(v.problem, v.reason);
    return {
      source: "file",
      file,
      valid: true,
      quantity: v.licence.quantity,
      validUntil: new Date(v.validUntilMs).toISOString(),
      issuedTo: v.licence.issuedTo,
      features: v.licence.features,
    };
  }

  /** Accounts that have at least one replica now. */
  async enabledAccounts(): Promise<Set<string>> {
    return new Set((await this.directory.listAccounts()).filter(isEnabled).map((a) => a.id));
  }

  /** The refusal for `adding` more accounts when `counted` are enabled or held, or undefined when they fit. */
  readonly refusal: QuotaRefusal = (counted, adding) => {
    if (adding === 0) return undefined;
    const st = this.state();
    if (!st.valid) {
      return new AppError(
        "LICENCE_INVALID",
        `the licence is not valid: ${st.reason}; no new replicas can be enabled until a valid licence is installed (existing replicas keep working; see getLicenseInfo); nothing was changed`,
        { reason: st.reason, problem: st.problem, file: st.file, adding },
      );
    }
    if (counted + adding > st.quantity) {
      return new AppError(
        "LICENCE_EXCEEDED",
        `the HA licence allows ${st.quantity} accounts with replicas; ${counted} have one or are being given one and this would add ${adding}; remove destinations or raise the quota (getLicenseInfo); nothing was changed`,
        { quantity: st.quantity, enabled: counted, adding },
      );
    }
    return undefined;
  };

  /**
   * Holds quota for giving these accounts a replica (those that have none yet), refused with
   * LICENCE_EXCEEDED or LICENCE_INVALID. The caller marks each account it enabled on the
   * hold and settles it whatever happened.
   */
  async reserve(recs: AccountRecord[]): Promise<Hold> {
    return this.ledger.hold("enable", recs.filter((r) => !isEnabled(r)).length, this.refusal);
  }

  /** A release hold for removing replicas: the quota comes back when it settles. */
  async releasing(accounts: number): Promise<Hold> {
    return this.ledger.hold("release", accounts);
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
      ...(this.issuers.development ? { developmentIssuer: { ...this.issuers.development, warning: devIssuerWarning(this.issuers.development) } } : {}),
    };
  }
}
