// Launches `s3rver-process-main.ts` through tsx (tests and benchmarks run TypeScript without a
// build). Started by `startS3TestServer` with `--openssl-legacy-provider`: see that file.
import { register } from 'tsx/esm/api';

register();
await import('./s3rver-process-main.ts');
