export * from './image.js';
export * from './speech.js';
export * from './video.js';
export * from './chart.js';
export * from './document.js';
export * from './ai.js';
export { about } from './about.js';
