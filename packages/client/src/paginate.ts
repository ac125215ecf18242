import type { Page } from '@kiln/shared';

/**
 * Every item of a cursor-paginated list, fetching the next page only when the consumer gets there.
 * Stopping early (break) fetches nothing more.
 */
export async function* paginate<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
}
