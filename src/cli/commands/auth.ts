// `auth init`: the NATS identities of a deployment (an nkey seed per role and host) and the
// nats-server include with each one's permissions. Prints what to copy where; never a seed.
import { hostname } from "node:os";
import { resolve } from "node:path";
import { commandGroup } from "../command.js";
import { formatOptionsHelp, parseOptions } from "../args.js";
import type { Command, OptionsSpec } from "../types.js";

const INIT_OPTIONS = {
  dir: { type: "string", value: "DIR", description: "Folder of the seeds and the include (created 0700). Required." },
  mailstores: { type: "string", value: "H1,H2,...", description: "Every mailstore host (as given to 'mailstore --host'). Required." },
  supervisors: { type: "string", value: "S1,...", description: "Every supervisor host (as given to 'supervisor --host'). Default: this machine's hostname." },
} as const satisfies OptionsSpec;

function hostList(raw: string | undefined): string[] {
  return raw === undefined
    ? []
    : raw
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "");
}

const init: Command = {
  name: "init",
  summary: "Write an nkey per role and host, and the nats-server include with each role's permissions.",
  usage: "auth init --dir DIR --mailstores H1,H2,... [--supervisors S1,...]",
  details: [
    "Options:",
    ...formatOptionsHelp(INIT_OPTIONS),
    "",
    "Roles: mailstore (one per host), supervisor (one per host), admin (CLI/REPL), client (webmail/MTA: mailbox methods only), operator (JetStream administration).",
    "Run it again after adding hosts or changing jetstream names: existing seeds are kept, missing ones added, the include rewritten.",
    "Stream and bucket names come from the configuration (jetstream.*).",
  ].join("\n"),
  run: async (argv, io) => {
    const { options } = parseOptions(argv, INIT_OPTIONS);
    const { CliUsageError } = await import("../errors.js");
    if (options.dir === undefined) throw new CliUsageError("auth init needs --dir DIR (the folder of the seeds and the include)");
    const mailstores = hostList(options.mailstores);
    if (mailstores.length === 0) throw new CliUsageError("auth init needs --mailstores H1,H2,... (every mailstore host, as given to 'mailstore --host')");
    const supervisors = options.supervisors !== undefined ? hostList(options.supervisors) : [hostname()];
    const { initAuth } = await import("../../natsauth/auth_init.js");
    const r = initAuth({ dir: resolve(io.cwd, options.dir), mailstores, supervisors, jetstream: io.config().jetstream });
    if (io.globals.json) {
      io.json(r);
      return 0;
    }
    io.out(`NATS identities in ${r.dir} (seeds are secret, mode 0600):`);
    for (const i of r.identities) {
      const who = i.id.host === undefined ? i.id.role : `${i.id.role} ${i.id.host}`;
      io.out(`  ${who}: ${i.seedFile} (${i.created ? "created" : "existing one kept"}), ${i.publicKey}`);
    }
    io.out("");
    io.out(`nats-server includes: ${r.usersInclude} (the users and their permissions) and ${r.include} (includes the first)`);
    io.out(
      "  Copy both next to nats-server.conf on every NATS node, then either add 'include ./mailreplica-auth.conf' at its top level (a server without accounts),",
    );
    io.out("  or 'include ./mailreplica-users.conf' inside the block of the account mailreplica uses (deploy/nats/nats-server.conf); reload nats-server.");
    io.out("Each host gets only its own seed, with these settings (config nats.nkeyFile / nats.inboxPrefix, or the environment):");
    for (const i of r.identities) {
      const who = i.id.host === undefined ? `${i.id.role}:`.padEnd(12) : `${i.id.role} ${i.id.host}:`;
      io.out(`  ${who} MR_NATS_NKEY=<its copy of ${i.seedFile.slice(r.dir.length + 1)}> MR_NATS_INBOX_PREFIX=${i.inboxPrefix}`);
    }
    io.out(
      "admin is the operator's CLI and REPL; client is for webmail/MTA integrations; operator is for 'nats' JetStream administration (nats --nkey <seed> --inbox-prefix _INBOX_operator ...).",
    );
    return 0;
  },
};

export default commandGroup({
  name: "auth",
  summary: "NATS identities and least-privilege permissions (auth init).",
  subcommands: [init],
});
