/** The kind name under which render processes run upload inspections (never a public kind). */
export const INSPECT_UPLOAD_KIND = '__inspect_upload__';

export interface InspectUploadInput {
  /** The stored upload, readable through ctx.readAsset. */
  assetId: string;
  /** The accepted type it was declared as (already normalised). */
  contentType: string;
  /** Where the file sits in the request, for error details. */
  path: (string | number)[];
  maxBytes: number;
}
