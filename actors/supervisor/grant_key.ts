// The supervisor's signing key, which signs promotion grants (src/envelope/grant.ts). Read
// from `<keysDir>/<host>.supervisor-ed25519.json` when a grant is needed, and read again whenever that
// file changed (`keys rotate` for a supervisor takes effect without a restart).
import { statSync } from "node:fs";
import { join } from "node:path";
import type { GrantSigner } from "../../src/envelope/index.js";
import { loadSigningKey, signingFileName } from "../../src/keys/index.js";
import { AppError } from "../../src/jsonrpc/index.js";

export class GrantKey {
  private cached: { signer: GrantSigner; stamp: string } | undefined;

  constructor(
    private readonly keysDir: string | undefined,
    private readonly host: string,
  ) {}

  get file(): string | undefined {
    return this.keysDir === undefined ? undefined : join(this.keysDir, signingFileName(this.host, "supervisor"));
  }

  /** The current grant signer; throws a coded error naming the file when there is none. */
  signer(): GrantSigner {
    const file = this.file;
    if (file === undefined) {
      throw new AppError(
        "APP_ERROR",
        `supervisor ${this.host} has no keys folder, so it cannot sign promotion grants; configure keys.dir and run \`mailreplica keys init --host ${this.host} --role supervisor\``,
        { code: "GRANT_KEY_MISSING" },
      );
    }
    let stamp: string;
    try {
      const st = statSync(file);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      throw new AppError(
        "APP_ERROR",
        `supervisor ${this.host} cannot sign promotion grants: ${file} does not exist; run \`mailreplica keys init --host ${this.host} --role supervisor\` and add its key to every node's trusted-signers.json`,
        { code: "GRANT_KEY_MISSING", file },
      );
    }
    if (this.cached?.stamp !== stamp) {
      try {
        this.cached = { signer: loadSigningKey({ dir: this.keysDir!, host: this.host, role: "supervisor" }), stamp };
      } catch (e) {
        throw new AppError("APP_ERROR", `supervisor ${this.host} cannot sign promotion grants: ${(e as Error).message}`, { code: "GRANT_KEY_MISSING", file });
      }
    }
    return this.cached.signer;
  }
}
