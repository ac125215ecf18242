export * from './contract.js';
export * from './registry.js';
export * from './fonts.js';
export { findExternalReferences } from './image/svg-safety.js';
export { createImageRenderer, imageRenderer } from './image/image-renderer.js';
export { chartRenderer } from './chart/chart-renderer.js';
export { createDocumentRenderer, type DocumentRenderer } from './document/document-renderer.js';
export { inspectUpload, INSPECT_UPLOAD_KIND, type InspectUploadInput } from './uploads/inspect-upload.js';
