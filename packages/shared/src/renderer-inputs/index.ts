export * from './image.js';
export * from './speech.js';
export * from './video.js';
export * from './chart.js';
export * from './document.js';
