export * from './contract.js';
export * from './registry.js';
export * from './fonts.js';
export { findExternalReferences } from './image/svg-safety.js';
