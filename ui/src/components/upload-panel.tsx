import { useRef, useState, type DragEvent } from 'react';
import type { AssetView } from '../api/job-view.js';
import { uploadWithProgress } from '../api/upload-with-progress.js';
import { KilnApiError } from '../api/kiln-client.js';
import { routeHref } from '../routing.js';
import { formatBytes } from '../format.js';

interface Upload {
  key: number;
  name: string;
  size: number;
  loaded: number;
  state: 'uploading' | 'done' | 'error';
  asset?: AssetView;
  error?: string;
}

/**
 * Upload files as assets (role `input`), from the file picker or dropped on the element that
 * spreads `dropHandlers`. Each file shows its progress, then a link to the new asset, or why the server refused it.
 */
export function useUploads(companyId: string, apiKey: string | null, onUploaded: (asset: AssetView) => void) {
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [dragging, setDragging] = useState(false);
  const nextKey = useRef(0);
  const depth = useRef(0); // dragenter/dragleave fire for every child crossed

  const update = (key: number, patch: Partial<Upload>) => setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...patch } : u)));

  const start = (files: Iterable<File>) => {
    for (const file of files) {
      const key = nextKey.current++;
      setUploads((list) => [{ key, name: file.name, size: file.size, loaded: 0, state: 'uploading' as const }, ...list].slice(0, 10));
      uploadWithProgress(apiKey, companyId, file, { onProgress: ({ loaded }) => update(key, { loaded }) }).then(
        (asset) => {
          update(key, { state: 'done', loaded: file.size, asset });
          onUploaded(asset);
        },
        (err) => update(key, { state: 'error', error: err instanceof KilnApiError ? `${err.message} (${err.code})` : String(err) }),
      );
    }
  };

  const dropHandlers = {
    onDragEnter: (e: DragEvent) => {
      if (!e.dataTransfer.types.includes('Files')) return;
      depth.current++;
      setDragging(true);
    },
    onDragOver: (e: DragEvent) => {
      if (e.dataTransfer.types.includes('Files')) e.preventDefault(); // allows the drop
    },
    onDragLeave: () => {
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setDragging(false);
    },
    onDrop: (e: DragEvent) => {
      if (e.dataTransfer.files.length === 0) return;
      e.preventDefault(); // not opened by the browser
      depth.current = 0;
      setDragging(false);
      start(e.dataTransfer.files);
    },
  };
  return { uploads, dragging, dropHandlers, start };
}

export function UploadPanel({ uploads, dragging, start }: Pick<ReturnType<typeof useUploads>, 'uploads' | 'dragging' | 'start'>) {
  return (
    <div className={`panel upload-panel${dragging ? ' dragging' : ''}`}>
      <div className="upload-row">
        <label className="button primary upload-button">
          Upload
          <input
            className="visually-hidden"
            type="file"
            name="upload"
            multiple
            onChange={(e) => {
              start(Array.from(e.target.files ?? []));
              e.target.value = ''; // the same file can be chosen again
            }}
          />
        </label>
        <span className="muted">{dragging ? 'Drop to upload' : 'or drop files here — images, audio, video, PDF, CSV, JSON, Markdown, text'}</span>
      </div>
      {uploads.length > 0 && (
        <ul className="uploads" aria-label="Uploads" aria-live="polite">
          {uploads.map((u) => (
            <li key={u.key} data-upload-state={u.state}>
              <span className="filename">{u.name}</span>
              {u.state === 'uploading' && (
                <>
                  <progress max={u.size || 1} value={u.loaded} aria-label={`Uploading ${u.name}`} />
                  <span className="muted small">
                    {formatBytes(u.loaded)} of {formatBytes(u.size)}
                  </span>
                </>
              )}
              {u.state === 'done' && u.asset && (
                <span className="small">
                  uploaded — <a href={routeHref(`assets/${u.asset.id}`)}>open</a>
                </span>
              )}
              {u.state === 'error' && (
                <span className="field-error" role="alert">
                  {u.error}
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
