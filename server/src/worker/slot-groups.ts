import type { RendererRegistry } from '@kiln/renderers';

/** Slots of kinds that run in the worker and name no group of their own. */
export const DEFAULT_IN_WORKER_SLOTS = 16;

export interface SlotGroup {
  name: string;
  /** Jobs of these kinds this worker process runs at once. */
  size: number;
  kinds: string[];
}

/**
 * How a worker splits its capacity: `render` slots (one render process each, KILN_WORKER_CONCURRENCY)
 * for kinds that render in render processes, and for kinds that run in the worker itself
 * (provider kinds waiting on a remote API, no-op kinds) groups of their own, sized by the
 * renderers (`slots`) — so a burst of remote jobs never takes a render slot, and the other way
 * round. A group's size is the largest any of its kinds asks for.
 */
export function slotGroupsOf(renderers: RendererRegistry, renderSlots: number): SlotGroup[] {
  const render: SlotGroup = { name: 'render', size: renderSlots, kinds: [] };
  const others = new Map<string, SlotGroup>();
  for (const r of renderers.values()) {
    if (r.runsIn !== 'worker') {
      render.kinds.push(r.kind);
      continue;
    }
    const name = r.slots?.group ?? 'in-worker';
    const size = r.slots?.size ?? DEFAULT_IN_WORKER_SLOTS;
    const group = others.get(name) ?? { name, size: 0, kinds: [] };
    group.size = Math.max(group.size, size);
    group.kinds.push(r.kind);
    others.set(name, group);
  }
  return [render, ...others.values()].filter((g) => g.kinds.length > 0 && g.size > 0);
}
