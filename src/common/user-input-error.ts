// The one base of every "the input is bad" error (issue 14 item 4): a file, a flag, a host name, an
// archive, a setting, an answer from the server. The CLI and the agent report any of them in one
// line, `pyrelo: INPUT: DETAIL`, with exit status 2 and no stack trace (README "Commands"), by one
// `instanceof` instead of lists of class names. Each subclass keeps its own name and fields.

/**
 * Marks UserInputError's prototype. The `pyrelo` executable is one bundled file (scripts/bundle-cli.mjs)
 * whose rarer commands load the compiled modules beside it, each with its own UserInputError class:
 * the brand, a registry symbol, is the same in both, where `instanceof` is not.
 */
const USER_INPUT = Symbol.for('pyrelo.user-input-error');

export class UserInputError extends Error {
  /**
   * `input` names what was bad, `detail` what is wrong with it; the message is `input: detail`
   * unless a subclass words it otherwise.
   */
  constructor(
    readonly input: string,
    readonly detail: string,
    message = `${input}: ${detail}`,
  ) {
    super(message);
  }
}
Object.defineProperty(UserInputError.prototype, USER_INPUT, { value: true });

/** Filesystem errors that name a path the user gave (no such file, not allowed, a folder, not a folder). */
const INPUT_ERRNOS: ReadonlySet<string> = new Set(['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR']);

/** Whether `error` means "the input is bad": a UserInputError, or an input path's filesystem error. */
export function isUserInputError(error: unknown): error is Error {
  if (error instanceof Error && (error as Error & { [USER_INPUT]?: true })[USER_INPUT] === true) return true;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return error instanceof Error && typeof code === 'string' && INPUT_ERRNOS.has(code);
}
