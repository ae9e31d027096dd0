/**
 * Plain text tables for the CLI: a header, columns padded to their widest cell, numbers right-aligned, the last
 * column never padded (and never cut: ids stay whole so they can be pasted into the next command).
 */
export interface Column {
  readonly head: string;
  /** Right-align (amounts, counts). */
  readonly right?: boolean;
}

export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(c.head.length, ...rows.map((r) => [...(r[i] ?? '')].length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => {
        if (i === cells.length - 1 && !columns[i]!.right) return cell;
        const pad = ' '.repeat(Math.max(0, widths[i]! - [...cell].length));
        return columns[i]!.right ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.head)), ...rows.map(line)].join('\n');
}
