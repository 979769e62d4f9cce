// CLI errors. `runCli` maps every CliUsageError (and subclass) to exit code 2.

/** The command line is wrong: unknown option or param, missing or malformed value. */
export class CliUsageError extends Error {
  constructor(
    message: string,
    /** CLI_USAGE, or a more precise code of a subclass. */
    readonly code: string = "CLI_USAGE",
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** An `input_file` is missing, unreadable, empty or malformed. */
export class InputFileError extends CliUsageError {
  constructor(message: string) {
    super(message, "CLI_INPUT_FILE");
  }
}

/** Two commands were registered under the same name: a programming error. */
export class DuplicateCommandError extends Error {
  readonly code = "CLI_DUPLICATE_COMMAND";
  constructor(name: string) {
    super(`a command named '${name}' is already registered; give the new command another name`);
    this.name = "DuplicateCommandError";
  }
}
