// A render process starts here: it registers tsx (a forked process gets the parent's --import
// flags only through execArgv, which the pool sets to memory limits alone), then loads its
// TypeScript main module.
import { register } from 'tsx/esm/api';

register();
await import('./render-process.ts');
