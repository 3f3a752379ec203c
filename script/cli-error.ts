/** Exit codes of the operator CLI. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;

/** A failure the operator can act on: the message says what went wrong and what to do next. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.FAILED,
  ) {
    super(message);
  }
}
