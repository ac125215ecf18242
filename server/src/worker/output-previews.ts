import type { AssetMetadata, OutputRole } from '@kiln/shared';
import { OUTPUT_PREVIEW_KIND, type InputAsset, type OutputOptions, type OutputPreviewInput } from '@kiln/renderers';
import type { RenderHooks, RenderPool } from '../render-processes/render-pool.js';
import type { StorageService, StoredObject } from '../services/storage/storage-service.js';

type Metadata = Partial<Record<OutputRole, AssetMetadata>>;

/** Where the preview step's progress lands in the job's: the render reports up to this. */
const PREVIEW_PROGRESS_FROM = 0.95;

/**
 * The second half of a kind marked `previewOutputs` (see the Renderer contract): its primary
 * outputs, already stored, are read back in a render process by the internal output-preview kind,
 * which checks they decode, measures them and writes their previews through the job's own output
 * hook. Returns the job's metadata: the renderer's own (provider, model …) with what was measured
 * (width, height, duration …) over it.
 */
export async function previewStoredOutputs(args: {
  renderPool: RenderPool;
  storage: StorageService;
  companyId: string;
  tmpDir: string;
  hooks: RenderHooks;
  outputs: { options: OutputOptions }[];
  stored: StoredObject[];
  metadata: Metadata;
}): Promise<Metadata> {
  const primaries = args.outputs
    .map((o, i) => ({ options: o.options, object: args.stored[i]! }))
    .filter((o) => o.options.role === 'primary');
  if (primaries.length === 0) return args.metadata;
  const input: OutputPreviewInput = {
    outputs: primaries.map((o, i) => ({ ref: String(i), contentType: o.options.contentType, filename: o.options.filename })),
  };
  const readStored = async (ref: string): Promise<InputAsset> => {
    const o = primaries[Number(ref)];
    if (!o || !/^\d+$/.test(ref)) throw Object.assign(new Error(`no output ${ref}`), { code: 'asset_not_found' });
    return {
      id: ref,
      contentType: o.options.contentType,
      byteSize: o.object.byteSize,
      metadata: {},
      stream: await args.storage.read(args.companyId, o.object.key),
    };
  };
  const result = await args.renderPool.run(OUTPUT_PREVIEW_KIND, input, args.tmpDir, {
    ...args.hooks,
    progress: (fraction, stage) => args.hooks.progress(PREVIEW_PROGRESS_FROM + (1 - PREVIEW_PROGRESS_FROM) * fraction, stage),
    readAsset: readStored,
    checkpoint: () => Promise.reject(new Error('the preview step keeps no checkpoint')),
    resume: undefined,
  });
  const measured = result?.metadata ?? {};
  const merged: Metadata = { ...args.metadata };
  for (const role of Object.keys(measured) as OutputRole[]) merged[role] = { ...args.metadata[role], ...measured[role] };
  return merged;
}
