// Promotion grants: a supervisor's signature over "account A may be written by host H from
// epoch E on". The Promoted entry carries it, so every reader of the log can check that the
// write role moved because a trusted supervisor said so, not because a mailstore claimed it.
import { sign, verify, type KeyObject } from "node:crypto";
import { isKid, SIGNATURE_LENGTH } from "./types.js";
import type { TrustList } from "./trust.js";

/** Domain of the signed statement: a grant signature means nothing anywhere else (envelopes use another). */
export const GRANT_DOMAIN = "mailreplica/promotion-grant\n";

export interface GrantStatement {
  account: string;
  epoch: number;
  host: string;
}

/** A signing key with its id, as a supervisor holds it. */
export interface GrantSigner {
  kid: string;
  host: string;
  key: KeyObject;
}

/** `<kid>:<base64 signature>`: short, JSON- and msgpack-safe (kids never hold ":"). */
export type PromotionGrant = string;

function statementBytes(s: GrantStatement): Buffer {
  // One field per line: account ids and host names hold no newline, epochs are integers.
  return Buffer.from(`${GRANT_DOMAIN}account ${s.account}\nepoch ${s.epoch}\nhost ${s.host}\n`, "utf8");
}

export function signPromotionGrant(signer: GrantSigner, s: GrantStatement): PromotionGrant {
  return `${signer.kid}:${sign(null, statementBytes(s), signer.key).toString("base64")}`;
}

/** Why a grant is not valid for the statement, or undefined when it is. */
export function grantProblem(trust: TrustList, grant: unknown, s: GrantStatement): string | undefined {
  if (typeof grant !== "string" || grant.length === 0) return "it carries no supervisor grant";
  const at = grant.indexOf(":");
  const kid = grant.slice(0, at);
  if (at < 1 || !isKid(kid)) return "its grant is not <kid>:<signature>";
  const sig = Buffer.from(grant.slice(at + 1), "base64");
  if (sig.length !== SIGNATURE_LENGTH) return "its grant's signature is not 64 bytes of base64";
  const key = trust.byKid(kid);
  if (!key) return `its grant is signed with key ${kid}, which trusted-signers.json does not list`;
  if (key.role !== "supervisor") return `its grant is signed with key ${kid} of ${key.host}, a ${key.role} key, not a supervisor key`;
  if (key.retiredAt !== undefined) return `its grant is signed with supervisor key ${kid}, which is retired`;
  if (!verify(null, statementBytes(s), key.verifyKey, sig)) {
    return `its grant (supervisor key ${kid}) does not sign account ${s.account}, epoch ${s.epoch}, host ${s.host}: it was made for another promotion or changed`;
  }
  return undefined;
}
