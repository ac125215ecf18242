// Worker threads don't inherit tsx's loader from the parent's --import, so a render thread
// registers it before loading its TypeScript entry.
import { register } from 'tsx/esm/api';

register();
await import('./render-thread.ts');
