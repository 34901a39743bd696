/**
 * A position in the history's newest-first order: the creation time (ms) and id of the last task
 * a page covered. Opaque to clients (base64url), so its layout may change.
 */
export interface HistoryPosition {
  readonly score: number;
  readonly taskId: string;
}

export function encodeCursor(position: HistoryPosition): string {
  return Buffer.from(`${position.score}:${position.taskId}`).toString('base64url');
}

/** The position a cursor names; undefined for one that `encodeCursor` did not write. */
export function decodeCursor(cursor: string): HistoryPosition | undefined {
  const text = /^[A-Za-z0-9_-]{1,400}$/.test(cursor)
    ? Buffer.from(cursor, 'base64url').toString()
    : '';
  const match = /^(\d{1,16}):(.{1,200})$/s.exec(text);
  if (!match) return undefined;
  return { score: Number(match[1]), taskId: match[2]! };
}
