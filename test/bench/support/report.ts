/** What a benchmark prints: markdown tables (pasteable into the README) and a one-line verdict. */
export interface Verdict {
  bench: string;
  pass: boolean;
  text: string;
}

export function printTable(title: string, headers: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    `| ${widths.map((width, column) => (cells[column] ?? '').padEnd(width)).join(' | ')} |`;
  const lines = [line(headers), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)];
  process.stdout.write(`\n${title}\n\n${lines.join('\n')}\n`);
}

export function printVerdict(verdict: Verdict): Verdict {
  process.stdout.write(`\nverdict ${verdict.bench}: ${verdict.pass ? 'PASS' : 'MISS'}: ${verdict.text}\n`);
  return verdict;
}

/** A progress note on stderr, so stdout holds only the results. */
export function note(text: string): void {
  process.stderr.write(`  … ${text}\n`);
}

/** Fixed decimals, the way every table prints numbers. */
export function fixed(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : String(value);
}
