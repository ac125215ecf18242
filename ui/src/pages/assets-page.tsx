import { useEffect, useState } from 'react';
import { apiFetch } from '../api/http.js';
import { kilnApi, type AssetView } from '../api/kiln-api.js';
import { navigate, routeHref, useRoute } from '../routing.js';
import { useCompanyListener } from '../live/company-events.js';
import { DownloadButton, describeAsset, useAssetUrl } from '../components/asset-preview.js';
import { ErrorNote } from '../components/error-note.js';
import { formatTimeAgo, shortId } from '../format.js';
import type { PageProps } from '../app.js';

const PAGE_SIZE = 48;

/** Every output of the company, newest first, filterable by task; new ones appear as they are made. */
export function AssetsPage({ companyId, apiKey }: PageProps) {
  const route = useRoute();
  const task = route.query.get('task') || undefined;
  const [draft, setDraft] = useState(task ?? '');
  const [assets, setAssets] = useState<AssetView[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    let stale = false;
    setAssets(null);
    setError(null);
    kilnApi
      .listAssets(companyId, { sourceTaskId: task, limit: PAGE_SIZE })
      .then((page) => {
        if (stale) return;
        setAssets(page.items);
        setNextCursor(page.nextCursor);
      })
      .catch((err) => !stale && setError(err));
    return () => {
      stale = true;
    };
  }, [companyId, task]);

  useEffect(() => setDraft(task ?? ''), [task]);
  useEffect(() => {
    if (draft.trim() === (task ?? '')) return;
    const t = setTimeout(() => navigate(routeHref('assets', { task: draft.trim() }), { replace: true }), 350);
    return () => clearTimeout(t);
  }, [draft, task]);

  useCompanyListener((m) => {
    if (m.kind !== 'event' || m.event.type !== 'asset.created' || !m.event.data.assetId) return;
    apiFetch<AssetView>(`/api/companies/${encodeURIComponent(companyId)}/assets/${encodeURIComponent(m.event.data.assetId)}`)
      .then((a) => {
        if (task && a.sourceTaskId !== task) return;
        setAssets((current) => (current && !current.some((x) => x.id === a.id) ? [a, ...current] : current));
      })
      .catch(() => {});
  });

  const loadMore = () =>
    nextCursor &&
    kilnApi
      .listAssets(companyId, { sourceTaskId: task, limit: PAGE_SIZE, cursor: nextCursor })
      .then((page) => {
        setAssets((current) => [...(current ?? []), ...page.items]);
        setNextCursor(page.nextCursor);
      })
      .catch(setError);

  const primaries = assets?.filter((a) => a.role === 'primary') ?? null;
  const previewOf = (a: AssetView) => assets?.find((p) => p.role === 'preview' && p.jobId !== null && p.jobId === a.jobId);

  return (
    <section>
      <div className="page-head">
        <h1>Assets</h1>
      </div>
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
      {primaries === null && !error && <p className="muted">Loading…</p>}
      {primaries?.length === 0 && <p className="empty">No assets{task ? ` for task ${task}` : ' yet'}.</p>}
      {primaries && primaries.length > 0 && (
        <div className="gallery">
          {primaries.map((a) => (
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
  const thumbSource = type.startsWith('image/') ? asset : preview?.contentType.startsWith('image/') ? preview : null;
  return (
    <article className="asset-card" data-asset-id={asset.id}>
      <a className="thumb" href={asset.jobId ? routeHref(`jobs/${asset.jobId}`) : undefined}>
        {thumbSource ? <Thumb asset={thumbSource} apiKey={apiKey} /> : <span className="thumb-type">{type.split('/')[1] ?? type}</span>}
      </a>
      <div className="asset-card-body">
        <strong className="filename" title={asset.filename}>
          {asset.filename}
        </strong>
        <div className="muted small">{describeAsset(asset)}</div>
        <div className="muted small">
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
