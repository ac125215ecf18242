import { useEffect, useState } from 'react';
import { assetContentUrl, type AssetView } from '../api/job-view.js';
import { useKiln } from '../api/kiln-client.js';
import { assetBlob, assetStart } from '../api/asset-content.js';
import { routeHref } from '../routing.js';
import { formatBytes, formatDuration } from '../format.js';

/**
 * A URL the browser can load the asset from. Without an API key that is the content URL itself,
 * so <video> and <audio> seek with Range requests. With a key (authenticated mode) media elements
 * cannot send the header, so the file is fetched once through the client and shown from a blob: URL.
 */
export function useAssetUrl(asset: AssetView | undefined, apiKey: string | null): { url: string | null; error: unknown } {
  const client = useKiln();
  const direct = asset ? assetContentUrl(asset) : null;
  const [state, setState] = useState<{ url: string | null; error: unknown }>({ url: apiKey ? null : direct, error: null });
  useEffect(() => {
    if (!asset || !apiKey) {
      setState({ url: direct, error: null });
      return;
    }
    const abort = new AbortController();
    let objectUrl: string | null = null;
    setState({ url: null, error: null });
    assetBlob(client, asset, abort.signal)
      .then((blob) => {
        objectUrl = URL.createObjectURL(blob);
        setState({ url: objectUrl, error: null });
      })
      .catch((error) => !abort.signal.aborted && setState({ url: null, error }));
    return () => {
      abort.abort();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [direct, apiKey, client]);
  return state;
}

/** `?download=1` makes the server answer with `Content-Disposition: attachment`. */
export function DownloadButton({ asset, apiKey, className = '' }: { asset: AssetView; apiKey: string | null; className?: string }) {
  const client = useKiln();
  const [error, setError] = useState<string | null>(null);
  const href = assetContentUrl(asset, true);
  if (!apiKey) {
    return (
      <a className={`button ${className}`} href={href} download={asset.filename} data-download={asset.id}>
        Download
      </a>
    );
  }
  const download = async () => {
    setError(null);
    try {
      const url = URL.createObjectURL(await assetBlob(client, asset));
      Object.assign(document.createElement('a'), { href: url, download: asset.filename }).click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <>
      <button type="button" className={`button ${className}`} onClick={download} data-download={asset.id}>
        Download
      </button>
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}

export function describeAsset(asset: AssetView): string {
  const m = asset.metadata;
  const parts = [asset.contentType.split(';')[0]!, formatBytes(asset.byteSize)];
  if (m.width && m.height) parts.push(`${m.width}×${m.height}`);
  if (typeof m.durationMs === 'number') parts.push(formatDuration(m.durationMs));
  if (m.pages) parts.push(`${m.pages} page${m.pages === 1 ? '' : 's'}`);
  return parts.join(' · ');
}

/**
 * The asset shown the way its type allows: images, video (with its poster) and audio natively;
 * HTML in a sandboxed frame (no scripts); PDF as its preview image (headless and mobile browsers
 * often lack a PDF viewer) with a link to open it; text as its first lines. The name and the
 * Download button come first, so they are in view however tall the file is.
 */
export function AssetPreview({ asset, preview, apiKey, linkToAsset = false }: { asset: AssetView; preview?: AssetView; apiKey: string | null; linkToAsset?: boolean }) {
  const type = asset.contentType.split(';')[0]!.trim();
  // Text shows its first bytes, read on their own: the whole file is not fetched for it.
  const isText = (type.startsWith('text/') && type !== 'text/html') || type === 'application/json';
  const { url, error } = useAssetUrl(isText ? undefined : asset, apiKey);
  // A video shows its preview (the poster frame) until it plays.
  const poster = useAssetUrl(type.startsWith('video/') ? preview : undefined, apiKey).url;
  let body;
  if (isText) body = <TextPreview asset={asset} />;
  else if (error) body = <p className="error-note">Could not load the file: {error instanceof Error ? error.message : String(error)}</p>;
  else if (!url) body = <p className="muted">Loading…</p>;
  else if (type.startsWith('image/')) body = <img className="media" src={url} alt={asset.filename} data-asset-preview="image" />;
  else if (type.startsWith('video/'))
    body = <video className="media" src={url} poster={poster ?? undefined} controls preload="metadata" data-asset-preview="video" />;
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
  else if (preview) body = <PreviewImage asset={preview} apiKey={apiKey} alt={asset.filename} />;
  else body = <p className="muted">No preview for {type}.</p>;

  return (
    <figure className="asset" data-asset-id={asset.id} data-role={asset.role} data-content-type={type}>
      <figcaption>
        <div className="asset-name">
          <strong className="filename">{linkToAsset ? <a href={routeHref(`assets/${asset.id}`)}>{asset.filename}</a> : asset.filename}</strong>
          <div className="muted small">{describeAsset(asset)}</div>
        </div>
        <DownloadButton asset={asset} apiKey={apiKey} className="primary" />
      </figcaption>
      <div className="asset-body">{body}</div>
    </figure>
  );
}

export function PreviewImage({ asset, apiKey, alt }: { asset: AssetView; apiKey: string | null; alt: string }) {
  const { url } = useAssetUrl(asset, apiKey);
  return url ? <img className="media" src={url} alt={alt} data-asset-preview="preview-image" /> : null;
}

const TEXT_PREVIEW_BYTES = 16 * 1024;

function TextPreview({ asset }: { asset: AssetView }) {
  const client = useKiln();
  const [text, setText] = useState<string | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    assetStart(client, asset, TEXT_PREVIEW_BYTES, abort.signal)
      .then((blob) => blob.text())
      .then(setText)
      .catch(() => !abort.signal.aborted && setText('(could not load the text)'));
    return () => abort.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, asset.id]);
  return <pre className="text-preview">{text ?? 'Loading…'}</pre>;
}
