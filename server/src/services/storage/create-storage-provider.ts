import type { Config } from '../../config.js';
import { createLocalDiskProvider } from './local-disk-provider.js';
import { createS3Provider } from './s3-provider.js';
import type { StorageProvider } from './storage-provider.js';

/**
 * The provider the configuration names: local disk under the data dir, or S3. S3 credentials
 * come from the AWS SDK's default chain (environment, shared config files, SSO, container or
 * instance role), never from Kiln's own settings.
 */
export function createStorageProvider(config: Pick<Config, 'storageProvider' | 'storageDir' | 's3'>): StorageProvider {
  if (config.storageProvider === 's3') {
    // loadConfig refuses `s3` without a bucket; this only guards hand-built configs.
    if (!config.s3) throw new Error('KILN_STORAGE_PROVIDER=s3 needs the KILN_S3_* settings');
    const { bucket, region, endpoint, forcePathStyle, prefix } = config.s3;
    return createS3Provider({ bucket, region, endpoint, forcePathStyle, prefix });
  }
  return createLocalDiskProvider(config.storageDir);
}
