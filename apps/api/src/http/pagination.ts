import { ApiProblem } from '../problem.js';

/** Cursors are opaque to clients: base64url of the last id of the page. */
export function encodeCursor(lastId: string): string {
  return Buffer.from(JSON.stringify({ after: lastId })).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof v.after === 'string' && v.after.length <= 128) return v.after;
  } catch {
    // fall through to the problem below
  }
  throw invalidCursor();
}

export const invalidCursor = () =>
  new ApiProblem('validation_failed', 'cursor is not one this API issued', {
    errors: [{ path: '/cursor', message: 'invalid cursor', code: 'invalid_cursor' }],
  });

/** Given limit+1 rows fetched in id order, the page and the cursor of the next one. */
export function pageFrom<T>(
  rows: T[],
  limit: number,
  idOf: (row: T) => string,
): { items: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  return { items, nextCursor: encodeCursor(idOf(items[items.length - 1]!)) };
}
