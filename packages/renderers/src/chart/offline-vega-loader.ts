import type { Loader } from 'vega';

/**
 * A vega loader that loads nothing. The spec check already refuses URLs; this is the second wall,
 * for whatever vega might still try (its default loader would fetch http(s) URLs and, in Node,
 * read local files). Every attempt is recorded so the render can fail with the URL named instead
 * of quietly drawing a chart with missing data.
 */
export function createOfflineLoader(): { loader: Loader; refused: string[] } {
  const refused: string[] = [];
  const refuse = async (uri: string): Promise<never> => {
    refused.push(uri);
    throw new Error(`Kiln charts do not load external resources (${uri}).`);
  };
  return { loader: { load: refuse, sanitize: refuse, http: refuse, file: refuse }, refused };
}
