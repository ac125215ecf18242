/** The kind name under which render processes measure and preview an in-worker kind's outputs (never a public kind). */
export const OUTPUT_PREVIEW_KIND = '__output_preview__';

/** Loaded by the worker's render processes beside the built-in kinds (see Renderer.previewOutputs). */
export const OUTPUT_PREVIEW_MODULE = new URL('./output-preview-module.ts', import.meta.url).href;

export interface OutputPreviewInput {
  /** The job's stored primary outputs, each readable through ctx.readAsset(ref). */
  outputs: { ref: string; contentType: string; filename: string }[];
}
