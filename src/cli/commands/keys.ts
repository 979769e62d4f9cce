// `keys init`: writes this host's signing key pair and, once per cluster, the shared
// secretbox key. Prints file names, key id and public key; never a secret.
import { hostname } from "node:os";
import { resolve } from "node:path";
import { commandGroup } from "../command.js";
import { formatOptionsHelp, parseOptions } from "../args.js";
import type { Command, OptionsSpec } from "../types.js";

const INIT_OPTIONS = {
  host: { type: "string", value: "H", description: "Host (FQDN) the signing key belongs to. Default: this machine's hostname." },
  role: { type: "string", value: "ROLE", description: "mailstore (signs log entries; the default) or supervisor (signs promotion grants)." },
  dir: { type: "string", value: "DIR", description: "Keys folder. Default: config keys.dir (MR_KEYS_DIR)." },
  force: { type: "boolean", description: "Replace this host's existing signing key pair (its old public key stays in trusted-signers.json, so what it signed stays valid)." },
} as const satisfies OptionsSpec;

const init: Command = {
  name: "init",
  summary: "Create this host's signing key pair, trust it in trusted-signers.json (and create the cluster encryption key if the folder has none).",
  usage: "keys init [--host H] [--role mailstore|supervisor] [--dir DIR] [--force]",
  details: [
    "Options:",
    ...formatOptionsHelp(INIT_OPTIONS),
    "",
    "The cluster key file (cluster.secretbox.json) is secret and must be the same on every node: create it once, then copy it to the other nodes' keys folders before running 'keys init' there.",
    "trusted-signers.json (public keys only) decides which mailstores may write the log and which supervisors may grant promotions: it must be the same on every node. After each 'keys init', copy it from this folder to every node's keys folder.",
  ].join("\n"),
  run: async (argv, io) => {
    const { options } = parseOptions(argv, INIT_OPTIONS);
    const dir = options.dir !== undefined ? resolve(io.cwd, options.dir) : io.config().keys.dir;
    const host = options.host ?? hostname();
    const { initKeys } = await import("../../keys/index.js");
    const role = (options.role ?? "mailstore") as "mailstore" | "supervisor";
    const r = initKeys({ dir, host, role, force: options.force === true });
    if (io.globals.json) {
      io.json(r);
      return 0;
    }
    io.out(`Keys of ${host} (${r.role}) written to ${r.dir}:`);
    io.out(`  signing key pair: ${r.signingFile} (kid ${r.signingKid})`);
    if (r.role === "mailstore") io.out(`  cluster key:      ${r.secretboxFile} (${r.createdSecretbox ? "created" : "existing one kept"}; kid ${r.kid})`);
    io.out(`  public key:       ${r.publicKey}`);
    io.out(`  trusted in:       ${r.trustFile}`);
    io.out("Next:");
    if (r.createdSecretbox) io.out("  - copy cluster.secretbox.json (secret, mode 0600) to every other mailstore's keys folder;");
    io.out(`  - copy ${r.trustFile} (public keys only; only the owner may write it) to every node's keys folder (mailstores and supervisors), so they accept ${host}'s ${r.role === "mailstore" ? "log entries" : "promotion grants"};`);
    io.out(`  - then start ${r.role === "mailstore" ? `the mailstore (mailreplica mailstore --host ${host})` : `the supervisor (mailreplica supervisor --host ${host})`}. Running nodes read the new list within seconds.`);
    return 0;
  },
};

const TRUST_OPTIONS = {
  host: { type: "string", value: "H", description: "Host whose <H>.ed25519.json key file is in the keys folder. Default: this machine's hostname." },
  role: { type: "string", value: "ROLE", description: "mailstore (the default) or supervisor." },
  dir: { type: "string", value: "DIR", description: "Keys folder. Default: config keys.dir (MR_KEYS_DIR)." },
} as const satisfies OptionsSpec;

const trust: Command = {
  name: "trust",
  summary: "Add the public key of an existing <host>.ed25519.json to trusted-signers.json (key files made before that list existed).",
  usage: "keys trust [--host H] [--role mailstore|supervisor] [--dir DIR]",
  details: ["Options:", ...formatOptionsHelp(TRUST_OPTIONS), "", "Then copy trusted-signers.json to every node's keys folder: only keys listed there may write the log (mailstores) or grant promotions (supervisors)."].join("\n"),
  run: async (argv, io) => {
    const { options } = parseOptions(argv, TRUST_OPTIONS);
    const dir = options.dir !== undefined ? resolve(io.cwd, options.dir) : io.config().keys.dir;
    const host = options.host ?? hostname();
    const { trustKeyFile } = await import("../../keys/index.js");
    const r = trustKeyFile({ dir, host, role: (options.role ?? "mailstore") as "mailstore" | "supervisor" });
    if (io.globals.json) {
      io.json({ host, ...r });
      return 0;
    }
    io.out(r.added ? `${host}'s key ${r.kid} added to ${r.trustFile}.` : `${host}'s key ${r.kid} is already in ${r.trustFile}.`);
    io.out(`Next: copy ${r.trustFile} to every node's keys folder; running nodes read it within seconds.`);
    return 0;
  },
};

export default commandGroup({
  name: "keys",
  summary: "Manage the key files (signing and encryption) and the trusted signers.",
  subcommands: [init, trust],
});
