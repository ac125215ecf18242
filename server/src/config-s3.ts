import { z } from 'zod';

/** SigV4 presigned URLs live at most seven days. */
const MAX_PRESIGN_SECONDS = 604_800;

const booleanEnv = z
  .enum(['true', 'false', '1', '0'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1');

/** The KILN_S3_* variables, spread into the main env schema of `config.ts`. */
export const s3EnvShape = {
  KILN_S3_BUCKET: z.string().min(1).optional(),
  KILN_S3_REGION: z.string().min(1).default('us-east-1'),
  /** An S3-compatible endpoint (MinIO, R2, Ceph, …); unset → AWS for the region. */
  KILN_S3_ENDPOINT: z.string().url().optional(),
  KILN_S3_FORCE_PATH_STYLE: booleanEnv.default(false),
  KILN_S3_PREFIX: z
    .string()
    .max(512)
    .refine((p) => !p.startsWith('/'), { message: 'must not start with /' })
    .default(''),
  /** When set, asset downloads redirect to a presigned URL valid this long. */
  KILN_S3_PRESIGN_SECONDS: z.coerce.number().int().min(1).max(MAX_PRESIGN_SECONDS).optional(),
};

export interface S3Config {
  bucket: string;
  region: string;
  endpoint: string | undefined;
  forcePathStyle: boolean;
  prefix: string;
  presignSeconds: number | null;
}

type S3Env = {
  KILN_STORAGE_PROVIDER: string;
  KILN_S3_BUCKET?: string | undefined;
  KILN_S3_REGION: string;
  KILN_S3_ENDPOINT?: string | undefined;
  KILN_S3_FORCE_PATH_STYLE: boolean;
  KILN_S3_PREFIX: string;
  KILN_S3_PRESIGN_SECONDS?: number | undefined;
};

/** The start-up error for `s3` without a bucket, or null when the settings hang together. */
export function s3EnvProblem(env: S3Env): { path: string; message: string } | null {
  if (env.KILN_STORAGE_PROVIDER === 's3' && !env.KILN_S3_BUCKET) {
    return { path: 'KILN_S3_BUCKET', message: 'KILN_STORAGE_PROVIDER=s3 needs a bucket: set KILN_S3_BUCKET.' };
  }
  return null;
}

/** The resolved S3 settings when S3 is the provider, else null. */
export function resolveS3Config(env: S3Env): S3Config | null {
  if (env.KILN_STORAGE_PROVIDER !== 's3' || !env.KILN_S3_BUCKET) return null;
  return {
    bucket: env.KILN_S3_BUCKET,
    region: env.KILN_S3_REGION,
    endpoint: env.KILN_S3_ENDPOINT,
    forcePathStyle: env.KILN_S3_FORCE_PATH_STYLE,
    prefix: env.KILN_S3_PREFIX,
    presignSeconds: env.KILN_S3_PRESIGN_SECONDS ?? null,
  };
}
