import type { Renderer } from '@kiln/renderers';

/**
 * A renderer module that takes a few seconds to load and adds no kind: loaded into a render
 * process, it stands for the warm-up a loaded machine imposes (render processes load every
 * renderer before they are ready), so a test can act while a process is still starting.
 */
await new Promise((resolve) => setTimeout(resolve, Number(process.env.KILN_TEST_SLOW_LOAD_MS ?? 4000)));

export const renderers: Renderer<any>[] = [];
