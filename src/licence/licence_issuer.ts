// Which licence issuers the supervisor trusts. The production issuer's public key is pinned
// here, in the code: a key read from a file next to the licence could be replaced by whoever
// can write that folder, and then any licence they sign would be trusted. Its secret key is
// kept by whoever issues licences, never in this repository.
//
// Developers and tests sign their own licences with a development issuer
// (scripts/make_licence.ts writes one into the keys folder). The supervisor trusts it only
// when the configuration names its public key file (licence.devIssuerKeyFile /
// MR_LICENCE_DEV_ISSUER); a process doing so logs a loud warning at start and getLicenseInfo
// shows it, so a production installation cannot run that way unnoticed.
import { readFileSync } from "node:fs";
import { invalidConfig } from "../config/errors.js";

/** The production licence issuer's ed25519 public key (base64). */
export const PINNED_ISSUER_KEY = "+NrYsC/tzkDvgnjJFLmd4xrRzaAp7LheVgs8pLQVVOI=";

const BASE64_KEY = /^[A-Za-z0-9+/]{43}=$/;

/** The issuers a supervisor trusts: the pinned one, and a development one when configured. */
export interface LicenceIssuers {
  /** base64 public keys */
  trusted: string[];
  /** the development issuer in use, when the override is configured */
  development?: { file: string; key: string };
}

/**
 * The trusted issuers for a configuration. `devIssuerKeyFile` holds one base64 ed25519 public
 * key (licence-issuer.pub as make_licence writes it); an unreadable or malformed file is a
 * configuration error (CONFIG_INVALID) at start, because silently ignoring it would refuse every development licence.
 */
export function licenceIssuers(devIssuerKeyFile: string | undefined): LicenceIssuers {
  if (!devIssuerKeyFile) return { trusted: [PINNED_ISSUER_KEY] };
  let text: string;
  try {
    text = readFileSync(devIssuerKeyFile, "utf8");
  } catch (e) {
    throw invalidConfig([
      {
        path: "licence.devIssuerKeyFile",
        problem: `${devIssuerKeyFile} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`,
        allowed: "the licence-issuer.pub that make_licence wrote, or no setting",
      },
    ]);
  }
  const key = text.trim();
  if (!BASE64_KEY.test(key) || Buffer.from(key, "base64").length !== 32) {
    throw invalidConfig([
      {
        path: "licence.devIssuerKeyFile",
        problem: `${devIssuerKeyFile} does not hold one base64 ed25519 public key (32 bytes)`,
        allowed: "the licence-issuer.pub that make_licence wrote, or no setting",
      },
    ]);
  }
  return { trusted: key === PINNED_ISSUER_KEY ? [PINNED_ISSUER_KEY] : [PINNED_ISSUER_KEY, key], development: { file: devIssuerKeyFile, key } };
}

/** The warning every process trusting a development issuer logs at start. */
export function devIssuerWarning(dev: { file: string; key: string }): string {
  return `WARNING: LICENCE DEVELOPMENT ISSUER IN USE: licences signed by ${dev.key} (${dev.file}, licence.devIssuerKeyFile / MR_LICENCE_DEV_ISSUER) are trusted besides the pinned production issuer; never configure this in production`;
}
