/** A bad flag or value; `flag` names it for the one-line message (`label` when it is not a flag at all). */
export class OptionError extends Error {
  constructor(
    readonly flag: string,
    message: string,
    label = `--${flag}`,
  ) {
    super(`${label}: ${message}`);
    this.name = 'OptionError';
  }
}
