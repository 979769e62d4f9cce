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
  force: {
    type: "boolean",
    description: "Replace this host's existing signing key pair (its old public key stays in trusted-signers.json, so what it signed stays valid).",
  },
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
    io.out(
      `  - copy ${r.trustFile} (public keys only; only the owner may write it) to every node's keys folder (mailstores and supervisors), so they accept ${host}'s ${r.role === "mailstore" ? "log entries" : "promotion grants"};`,
    );
    io.out(
      `  - then start ${r.role === "mailstore" ? `the mailstore (mailreplica mailstore --host ${host})` : `the supervisor (mailreplica supervisor --host ${host})`}. Running nodes read the new list within seconds.`,
    );
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
  details: [
    "Options:",
    ...formatOptionsHelp(TRUST_OPTIONS),
    "",
    "Then copy trusted-signers.json to every node's keys folder: only keys listed there may write the log (mailstores) or grant promotions (supervisors).",
  ].join("\n"),
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

const ROTATE_OPTIONS = {
  host: { type: "string", value: "H", description: "Host whose signing key rotates. Default: this machine's hostname." },
  role: { type: "string", value: "ROLE", description: "mailstore (the default) or supervisor." },
  activate: { type: "boolean", description: "Second step: sign with the staged key from now on (after trusted-signers.json reached every node)." },
  dir: { type: "string", value: "DIR", description: "Keys folder. Default: config keys.dir (MR_KEYS_DIR)." },
} as const satisfies OptionsSpec;

const rotate: Command = {
  name: "rotate",
  summary: "Rotate a host's signing key in two steps: stage a new key (trusted at once), then --activate it.",
  usage: "keys rotate [--host H] [--role mailstore|supervisor] [--activate] [--dir DIR]",
  details: [
    "Options:",
    ...formatOptionsHelp(ROTATE_OPTIONS),
    "",
    "Readers must trust a key before a writer uses it: the first step adds the new public key to trusted-signers.json and stages the",
    "key pair in <key file>.next; copy trusted-signers.json to every node, then run the command again with --activate on H. The running",
    "mailstore or supervisor signs with the new key within seconds, no restart. The old key stays trusted (what it signed stays readable)",
    "until 'keys retire KID'.",
  ].join("\n"),
  run: async (argv, io) => {
    const { options } = parseOptions(argv, ROTATE_OPTIONS);
    const dir = options.dir !== undefined ? resolve(io.cwd, options.dir) : io.config().keys.dir;
    const host = options.host ?? hostname();
    const role = (options.role ?? "mailstore") as "mailstore" | "supervisor";
    const { stageSigningKey, activateSigningKey } = await import("../../keys/index.js");
    const roleFlag = role === "supervisor" ? " --role supervisor" : "";
    if (options.activate === true) {
      const r = activateSigningKey({ dir, host, role });
      if (io.globals.json) return (io.json(r), 0);
      io.out(`${host} (${role}) now signs with ${r.kid} (was ${r.currentKid}); ${r.signingFile} replaced.`);
      io.out(
        `The running ${role} picks it up within seconds (or at once: systemctl kill -s HUP). ${r.currentKid} stays trusted, so what it signed stays readable.`,
      );
      io.out(`Retire ${r.currentKid} only once no log still needs it: mailreplica keys retire ${r.currentKid}`);
      return 0;
    }
    const r = stageSigningKey({ dir, host, role });
    if (io.globals.json) return (io.json(r), 0);
    io.out(`Staged a new signing key for ${host} (${role}): ${r.kid}, public key ${r.publicKey}, in ${r.stagedFile}.`);
    io.out(`It is trusted in ${r.trustFile}; ${host} still signs with ${r.currentKid}.`);
    io.out("Next:");
    io.out(`  1. copy ${r.trustFile} to every node's keys folder (mailstores and supervisors); they read it within seconds;`);
    io.out(`  2. then, on ${host}: mailreplica keys rotate --host ${host}${roleFlag} --activate`);
    return 0;
  },
};

const ROTATE_CLUSTER_OPTIONS = {
  activate: { type: "string", value: "KID", description: "Second step: make KID (already in every node's file) the key new writes use." },
  dir: { type: "string", value: "DIR", description: "Keys folder. Default: config keys.dir (MR_KEYS_DIR)." },
} as const satisfies OptionsSpec;

const rotateCluster: Command = {
  name: "rotate-cluster",
  summary: "Rotate the cluster encryption key in two steps: add a new kid, then --activate it for new writes.",
  usage: "keys rotate-cluster [--activate KID] [--dir DIR]",
  details: [
    "Options:",
    ...formatOptionsHelp(ROTATE_CLUSTER_OPTIONS),
    "",
    "Every mailstore must be able to read a kid before any writes with it: the first step adds a new key to cluster.secretbox.json",
    "without using it; copy the file (secret, 0600) to every mailstore; then run 'keys rotate-cluster --activate KID' and copy the",
    "file again. Old kids stay for reading what was written with them. Running mailstores read the file within seconds.",
  ].join("\n"),
  run: async (argv, io) => {
    const { options } = parseOptions(argv, ROTATE_CLUSTER_OPTIONS);
    const dir = options.dir !== undefined ? resolve(io.cwd, options.dir) : io.config().keys.dir;
    const { stageClusterKey, activateClusterKey } = await import("../../keys/index.js");
    if (options.activate !== undefined) {
      const r = activateClusterKey({ dir, kid: options.activate });
      if (io.globals.json) return (io.json(r), 0);
      io.out(`New writes use cluster key ${r.kid} (was ${r.previousKid}); ${r.file} keeps ${r.kids.join(", ")} for reading.`);
      io.out(`Next: copy ${r.file} (secret, mode 0600) to every mailstore's keys folder; each writes with ${r.kid} once it has the file.`);
      return 0;
    }
    const r = stageClusterKey({ dir });
    if (io.globals.json) return (io.json(r), 0);
    io.out(`Added cluster key ${r.kid} to ${r.file}; new writes still use ${r.previousKid}.`);
    io.out("Next:");
    io.out(`  1. copy ${r.file} (secret, mode 0600) to every mailstore's keys folder; they read it within seconds;`);
    io.out(`  2. then: mailreplica keys rotate-cluster --activate ${r.kid}   (and copy the file to every mailstore again)`);
    return 0;
  },
};

const RETIRE_OPTIONS = {
  dir: { type: "string", value: "DIR", description: "Keys folder. Default: config keys.dir (MR_KEYS_DIR)." },
} as const satisfies OptionsSpec;

const retire: Command = {
  name: "retire",
  summary: "Retire a signing key id (trusted-signers.json) or a cluster key id (cluster.secretbox.json); a key in use is refused.",
  usage: "keys retire KID [--dir DIR]",
  details: [
    "Options:",
    ...formatOptionsHelp(RETIRE_OPTIONS),
    "",
    "Entries signed or encrypted under a retired key become unreadable to any copy that has not applied them yet (a replica",
    "reading them stops there): retire a key only once every account was snapshotted and compacted past its entries",
    "(snapshotAccounts all compact true, after retention.keepDays), or once no account log still holds entries under it.",
  ].join("\n"),
  run: async (argv, io) => {
    const { options, positionals } = parseOptions(argv, RETIRE_OPTIONS, { minPositionals: 1, maxPositionals: 1, positionalName: "KID" });
    const dir = options.dir !== undefined ? resolve(io.cwd, options.dir) : io.config().keys.dir;
    const { retireKey } = await import("../../keys/index.js");
    const r = retireKey({ dir, kid: positionals[0]! });
    if (io.globals.json) return (io.json(r), 0);
    io.out(`Retired ${r.kind} key ${r.kid} in ${r.file}.`);
    io.err(`warning: ${r.warning}`);
    return 0;
  },
};

export default commandGroup({
  name: "keys",
  summary: "Manage the key files (signing and encryption), the trusted signers, and key rotation.",
  subcommands: [init, trust, rotate, rotateCluster, retire],
});
