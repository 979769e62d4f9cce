// CLI errors. `runCli` maps every CliUsageError (and subclass) to exit code 2.
import { CodedError } from "../errors/index.js";

/** The command line is wrong: unknown option or param, missing or malformed value. */
export class CliUsageError extends CodedError {
  constructor(
    message: string,
    /** CLI_USAGE, or a more precise code of a subclass. */
    code: string = "CLI_USAGE",
  ) {
    super(code, message);
  }
}

/** An `input_file` is missing, unreadable, empty or malformed. */
export class InputFileError extends CliUsageError {
  constructor(message: string) {
    super(message, "CLI_INPUT_FILE");
  }
}

/** Two commands were registered under the same name: a programming error. */
export class DuplicateCommandError extends CodedError<"CLI_DUPLICATE_COMMAND"> {
  constructor(name: string) {
    super("CLI_DUPLICATE_COMMAND", `a command named '${name}' is already registered; give the new command another name`);
  }
}
