import type { Renderer } from './contract.js';

/** What describes a kind — its name, words, input schema and example — and costs nothing to load. */
export type RendererMeta<Input> = Pick<Renderer<Input>, 'kind' | 'description' | 'inputSchema' | 'example'>;

/**
 * A renderer whose implementation is imported the first time it is needed. The API process only
 * ever needs the meta (schemas for validation and the docs), and a render process only loads the
 * libraries of the kinds it actually renders: vega, satori, Chromium's driver and pdf-lib each
 * cost a second of start-up on a small machine, paid once per process for kinds that are used.
 * Submit-time checks (preflight, asset references) are forwarded to the implementation, so
 * they load it too — in a validation process, never in the API.
 */
export function lazyRenderer<Input>(meta: RendererMeta<Input>, load: () => Promise<Renderer<Input>>): Renderer<Input> {
  let loading: Promise<Renderer<Input>> | undefined;
  const impl = () => (loading ??= load());
  return {
    ...meta,
    async assetRefs(input: Input) {
      return (await (await impl()).assetRefs?.(input)) ?? [];
    },
    async preflight(input: Input) {
      await (await impl()).preflight?.(input);
    },
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
