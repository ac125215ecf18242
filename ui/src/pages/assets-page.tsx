import { useEffect, useState } from 'react';
import type { AssetView } from '../api/job-view.js';
import { useKiln } from '../api/kiln-client.js';
import { navigate, routeHref, useRoute } from '../routing.js';
import { useCompanyListener } from '../live/company-events.js';
import { DownloadButton, describeAsset, useAssetUrl } from '../components/asset-preview.js';
import { UploadPanel, useUploads } from '../components/upload-panel.js';
import { ErrorNote } from '../components/error-note.js';
import { formatTimeAgo, shortId } from '../format.js';
import type { PageProps } from '../app.js';

const PAGE_SIZE = 48;

/** Outputs and uploads appear in the gallery; previews only as their thumbnails. */
const inGallery = (a: AssetView) => a.role !== 'preview';

/**
 * The company's assets (outputs and uploads), newest first, filterable by task; new outputs appear
 * as they are made, uploads as they finish.
 */
export function AssetsPage({ companyId, apiKey }: PageProps) {
  const client = useKiln();
  const route = useRoute();
  const task = route.query.get('task') || undefined;
  const [draft, setDraft] = useState(task ?? '');
  const [assets, setAssets] = useState<AssetView[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  const add = (a: AssetView) => {
    if (task && a.sourceTaskId !== task) return;
    setAssets((current) => (current && !current.some((x) => x.id === a.id) ? [a, ...current] : current));
  };
  const { uploads, dragging, dropHandlers, start } = useUploads(companyId, apiKey, add);

  useEffect(() => {
    const abort = new AbortController();
    setAssets(null);
    setError(null);
    client
      .listAssetsPage(companyId, { sourceTaskId: task, limit: PAGE_SIZE, signal: abort.signal })
      .then((page) => {
        setAssets(page.items);
        setNextCursor(page.nextCursor);
      })
      .catch((err) => !abort.signal.aborted && setError(err));
    return () => abort.abort();
  }, [client, companyId, task]);

  useEffect(() => setDraft(task ?? ''), [task]);
  useEffect(() => {
    if (draft.trim() === (task ?? '')) return;
    const t = setTimeout(() => navigate(routeHref('assets', { task: draft.trim() }), { replace: true }), 350);
    return () => clearTimeout(t);
  }, [draft, task]);

  useCompanyListener((m) => {
    if (m.type !== 'asset.created' || !m.payload.assetId) return;
    client.getAsset(companyId, m.payload.assetId).then(add, () => {});
  });

  const loadMore = () =>
    nextCursor &&
    client
      .listAssetsPage(companyId, { sourceTaskId: task, limit: PAGE_SIZE, cursor: nextCursor })
      .then((page) => {
        setAssets((current) => [...(current ?? []), ...page.items.filter((a) => !current?.some((x) => x.id === a.id))]);
        setNextCursor(page.nextCursor);
      })
      .catch(setError);

  const shown = assets?.filter(inGallery) ?? null;
  const previewOf = (a: AssetView) => assets?.find((p) => p.role === 'preview' && p.jobId !== null && p.jobId === a.jobId);

  return (
    <section className="assets-page" {...dropHandlers}>
      <div className="page-head">
        <h1>Assets</h1>
      </div>
      <UploadPanel uploads={uploads} dragging={dragging} start={start} />
      <div className="filters">
        <label>
          Task
          <input name="task" placeholder="source task id" value={draft} onChange={(e) => setDraft(e.target.value)} />
        </label>
        {task && (
          <button type="button" className="link-button" onClick={() => setDraft('')}>
            Clear filter
          </button>
        )}
      </div>
      {error ? <ErrorNote error={error} /> : null}
      {shown === null && !error && <p className="muted">Loading…</p>}
      {shown?.length === 0 && <p className="empty">No assets{task ? ` for task ${task}` : ' yet'}.</p>}
      {shown && shown.length > 0 && (
        <div className="gallery">
          {shown.map((a) => (
            <AssetCard key={a.id} asset={a} preview={previewOf(a)} apiKey={apiKey} />
          ))}
        </div>
      )}
      {nextCursor && (
        <button type="button" className="load-more" onClick={loadMore}>
          Load more
        </button>
      )}
    </section>
  );
}

function AssetCard({ asset, preview, apiKey }: { asset: AssetView; preview?: AssetView; apiKey: string | null }) {
  const type = asset.contentType.split(';')[0]!;
  const thumbSource = type.startsWith('image/') ? asset : preview?.contentType.startsWith('image/') ? preview : undefined;
  return (
    <article className="asset-card" data-asset-id={asset.id} data-role={asset.role}>
      <a className="thumb" href={routeHref(`assets/${asset.id}`)} aria-label={`Open ${asset.filename}`}>
        {thumbSource ? <Thumb asset={thumbSource} apiKey={apiKey} /> : <span className="thumb-type">{type.split('/')[1] ?? type}</span>}
      </a>
      <div className="asset-card-body">
        <a className="filename" href={routeHref(`assets/${asset.id}`)} title={asset.filename}>
          <strong>{asset.filename}</strong>
        </a>
        <div className="muted small">{describeAsset(asset)}</div>
        <div className="muted small">
          {asset.role === 'input' ? 'uploaded · ' : null}
          {asset.sourceTaskId ? (
            <>
              task <a href={routeHref('assets', { task: asset.sourceTaskId })}>{asset.sourceTaskId}</a> ·{' '}
            </>
          ) : null}
          {asset.jobId ? (
            <>
              job <a href={routeHref(`jobs/${asset.jobId}`)}>{shortId(asset.jobId)}</a> ·{' '}
            </>
          ) : null}
          {formatTimeAgo(asset.createdAt, Date.now())}
        </div>
        <DownloadButton asset={asset} apiKey={apiKey} />
      </div>
    </article>
  );
}

function Thumb({ asset, apiKey }: { asset: AssetView; apiKey: string | null }) {
  const { url } = useAssetUrl(asset, apiKey);
  return url ? <img src={url} alt={asset.filename} loading="lazy" /> : null;
}
