export * from './contract.js';
export * from './registry.js';
export * from './lazy-renderer.js';
export * from './fonts.js';
export { findExternalReferences } from './image/svg-safety.js';
export { INSPECT_UPLOAD_KIND, type InspectUploadInput } from './uploads/inspect-upload-kind.js';

/** The upload inspector, loaded on first use (it brings sharp and vega's readers). */
export const loadUploadInspector = () => import('./uploads/inspect-upload.js').then((m) => m.inspectUpload);
export { OUTPUT_PREVIEW_KIND, OUTPUT_PREVIEW_MODULE, type OutputPreviewInput } from './previews/output-preview-kind.js';
