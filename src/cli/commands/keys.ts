// `keys init`: writes this host's signing key pair and, once per cluster, the shared
// secretbox key. Prints file names, key id and public key; never a secret.
import { hostname } from "node:os";
import { resolve } from "node:path";
import { commandGroup } from "../command.js";
import { formatOptionsHelp, parseOptions } from "../args.js";
import type { Command, OptionsSpec } from "../types.js";

const INIT_OPTIONS = {
  host: { type: "string", value: "H", description: "Host (FQDN) the signing key belongs to. Default: this machine's hostname." },
  dir: { type: "string", value: "DIR", description: "Keys folder. Default: config keys.dir (MR_KEYS_DIR)." },
  force: { type: "boolean", description: "Replace this host's existing signing key pair (other nodes must then trust the new public key)." },
} as const satisfies OptionsSpec;

const init: Command = {
  name: "init",
  summary: "Create this host's signing key pair (and the cluster encryption key if the folder has none).",
  usage: "keys init [--host H] [--dir DIR] [--force]",
  details: ["Options:", ...formatOptionsHelp(INIT_OPTIONS), "", "The cluster key file (cluster.secretbox.json) is secret and must be the same on every node: create it once, then copy it to the other nodes' keys folders before running 'keys init' there."].join("\n"),
  run: async (argv, io) => {
    const { options } = parseOptions(argv, INIT_OPTIONS);
    const dir = options.dir !== undefined ? resolve(io.cwd, options.dir) : io.config().keys.dir;
    const host = options.host ?? hostname();
    const { initKeys } = await import("../../keys/index.js");
    const r = initKeys({ dir, host, force: options.force === true });
    if (io.globals.json) {
      io.json(r);
      return 0;
    }
    io.out(`Keys of ${host} written to ${r.dir}:`);
    io.out(`  signing key pair: ${r.signingFile}`);
    io.out(`  cluster key:      ${r.secretboxFile} (${r.createdSecretbox ? "created" : "existing one kept"})`);
    io.out(`  kid:              ${r.kid}`);
    io.out(`  public key:       ${r.publicKey}`);
    if (r.createdSecretbox) io.out("The cluster key is new: copy cluster.secretbox.json (secret, mode 0600) to every other node's keys folder.");
    return 0;
  },
};

export default commandGroup({
  name: "keys",
  summary: "Manage the key files (signing and encryption).",
  subcommands: [init],
});
