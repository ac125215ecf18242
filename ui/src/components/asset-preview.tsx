import { useEffect, useState } from 'react';
import { assetContentUrl, type AssetView } from '../api/kiln-api.js';
import { authHeaders } from '../api/api-key.js';
import { ApiError } from '../api/http.js';
import { formatBytes, formatDuration } from '../format.js';

/**
 * A URL the browser can load the asset from. Without an API key that is the content URL itself,
 * so <video> and <audio> seek with Range requests. With a key (authenticated mode) media elements
 * cannot send the header, so the file is fetched once with it and shown from a blob: URL.
 */
export function useAssetUrl(asset: AssetView, apiKey: string | null): { url: string | null; error: unknown } {
  const direct = assetContentUrl(asset);
  const [state, setState] = useState<{ url: string | null; error: unknown }>({ url: apiKey ? null : direct, error: null });
  useEffect(() => {
    if (!apiKey) {
      setState({ url: direct, error: null });
      return;
    }
    const abort = new AbortController();
    let objectUrl: string | null = null;
    setState({ url: null, error: null });
    fetch(direct, { headers: authHeaders(), signal: abort.signal })
      .then(async (res) => {
        if (!res.ok) throw await ApiError.fromResponse(res);
        objectUrl = URL.createObjectURL(await res.blob());
        setState({ url: objectUrl, error: null });
      })
      .catch((error) => !abort.signal.aborted && setState({ url: null, error }));
    return () => {
      abort.abort();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [direct, apiKey]);
  return state;
}

/** `?download=1` makes the server answer with `Content-Disposition: attachment`. */
export function DownloadButton({ asset, apiKey }: { asset: AssetView; apiKey: string | null }) {
  const href = assetContentUrl(asset, true);
  if (!apiKey) {
    return (
      <a className="button" href={href} download={asset.filename} data-download={asset.id}>
        Download
      </a>
    );
  }
  const download = async () => {
    const res = await fetch(href, { headers: authHeaders() });
    if (!res.ok) return alert((await ApiError.fromResponse(res)).message);
    const url = URL.createObjectURL(await res.blob());
    const a = Object.assign(document.createElement('a'), { href: url, download: asset.filename });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  return (
    <button type="button" className="button" onClick={download} data-download={asset.id}>
      Download
    </button>
  );
}

export function describeAsset(asset: AssetView): string {
  const m = asset.metadata;
  const parts = [asset.contentType, formatBytes(asset.byteSize)];
  if (m.width && m.height) parts.push(`${m.width}×${m.height}`);
  if (typeof m.durationMs === 'number') parts.push(formatDuration(m.durationMs));
  if (m.pages) parts.push(`${m.pages} page${m.pages === 1 ? '' : 's'}`);
  return parts.join(' · ');
}

/**
 * The asset shown the way its type allows: images, video and audio natively; HTML in a sandboxed
 * frame (no scripts); PDF as its preview image (headless and mobile browsers often lack a PDF
 * viewer) with a link to open it; text as its first lines.
 */
export function AssetPreview({ asset, preview, apiKey }: { asset: AssetView; preview?: AssetView; apiKey: string | null }) {
  const { url, error } = useAssetUrl(asset, apiKey);
  const type = asset.contentType.split(';')[0]!.trim();
  let body;
  if (error) body = <p className="error-note">Could not load the file: {error instanceof Error ? error.message : String(error)}</p>;
  else if (!url) body = <p className="muted">Loading…</p>;
  else if (type.startsWith('image/')) body = <img className="media" src={url} alt={asset.filename} data-asset-preview="image" />;
  else if (type.startsWith('video/'))
    body = <video className="media" src={url} controls preload="metadata" data-asset-preview="video" />;
  else if (type.startsWith('audio/'))
    body = (
      <div className="audio-preview">
        {preview ? <PreviewImage asset={preview} apiKey={apiKey} alt={`Waveform of ${asset.filename}`} /> : null}
        <audio src={url} controls preload="metadata" data-asset-preview="audio" />
      </div>
    );
  else if (type === 'application/pdf')
    body = (
      <div className="pdf-preview" data-asset-preview="pdf">
        {preview ? <PreviewImage asset={preview} apiKey={apiKey} alt={`First page of ${asset.filename}`} /> : null}
        <a href={url} target="_blank" rel="noopener">
          Open the PDF in a new tab
        </a>
      </div>
    );
  else if (type === 'text/html')
    body = <iframe className="html-preview" src={url} sandbox="" title={asset.filename} data-asset-preview="html" />;
  else if (type.startsWith('text/') || type === 'application/json') body = <TextPreview url={url} />;
  else if (preview) body = <PreviewImage asset={preview} apiKey={apiKey} alt={asset.filename} />;
  else body = <p className="muted">No preview for {type}.</p>;

  return (
    <figure className="asset" data-asset-id={asset.id} data-role={asset.role} data-content-type={type}>
      <div className="asset-body">{body}</div>
      <figcaption>
        <div>
          <strong className="filename">{asset.filename}</strong>
          <div className="muted small">{describeAsset(asset)}</div>
        </div>
        <DownloadButton asset={asset} apiKey={apiKey} />
      </figcaption>
    </figure>
  );
}

export function PreviewImage({ asset, apiKey, alt }: { asset: AssetView; apiKey: string | null; alt: string }) {
  const { url } = useAssetUrl(asset, apiKey);
  return url ? <img className="media" src={url} alt={alt} data-asset-preview="preview-image" /> : null;
}

const TEXT_PREVIEW_BYTES = 16 * 1024;

function TextPreview({ url }: { url: string }) {
  const [text, setText] = useState<string | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    // A Range request: only the start of a possibly large file.
    const headers = url.startsWith('blob:') ? {} : { ...authHeaders(), range: `bytes=0-${TEXT_PREVIEW_BYTES - 1}` };
    fetch(url, { headers, signal: abort.signal })
      .then((res) => res.text())
      .then((t) => setText(t.slice(0, TEXT_PREVIEW_BYTES)))
      .catch(() => {});
    return () => abort.abort();
  }, [url]);
  return <pre className="text-preview">{text ?? 'Loading…'}</pre>;
}
