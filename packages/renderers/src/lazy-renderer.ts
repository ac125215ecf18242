import type { ZodType } from 'zod';
import type { Renderer, RunsIn } from './contract.js';

/** What describes a kind — its name, words, input schema and example — and costs nothing to load. */
export interface RendererMeta<Input> {
  kind: string;
  description: string;
  inputSchema: ZodType<Input>;
  /** A working input as a caller sends it (defaults may be left out). */
  example: unknown;
  runsIn?: RunsIn;
  slots?: { group: string; size: number };
}

/**
 * A renderer whose implementation is imported the first time it is needed. The API process only
 * ever needs the meta (schemas for validation and the docs), and a render process only loads the
 * libraries of the kinds it actually renders: vega, satori, Chromium's driver and pdf-lib each
 * cost a second of start-up on a small machine, paid once per process for kinds that are used.
 * `checks`: the kind has submit-time checks (preflight or asset references), which then run in a
 * validation process; without, the API skips that hop.
 */
export function lazyRenderer<Input>(meta: RendererMeta<Input>, load: () => Promise<Renderer<Input>>, options: { checks?: boolean } = {}): Renderer<Input> {
  let loading: Promise<Renderer<Input>> | undefined;
  const impl = () => (loading ??= load());
  const checks = options.checks
    ? {
        async assetRefs(input: Input) {
          return (await (await impl()).assetRefs?.(input)) ?? [];
        },
        async preflight(input: Input) {
          await (await impl()).preflight?.(input);
        },
      }
    : {};
  return {
    ...meta,
    ...checks,
    async render(input, ctx) {
      return (await impl()).render(input, ctx);
    },
    async close() {
      if (loading) await (await loading).close?.();
    },
    async load() {
      await impl();
    },
  };
}
