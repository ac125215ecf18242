import { useEffect, useState, type ReactNode } from 'react';
import { previewOf, type AssetView } from '../api/job-view.js';
import { isNotFound, useKiln } from '../api/kiln-client.js';
import { routeHref } from '../routing.js';
import { AssetPreview } from '../components/asset-preview.js';
import { AssetRef, LineageList, useLineage } from '../components/lineage.js';
import { ErrorNote } from '../components/error-note.js';
import { formatTime, shortId } from '../format.js';
import type { PageProps } from '../app.js';

/** One asset: the file, its record (`derivedFrom`, the job that made it) and its lineage both ways. */
export function AssetPage({ companyId, apiKey, assetId }: PageProps & { assetId: string }) {
  const client = useKiln();
  const [asset, setAsset] = useState<AssetView | null>(null);
  const [preview, setPreview] = useState<AssetView | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const { lineage, error: lineageError } = useLineage(companyId, assetId);

  useEffect(() => {
    const abort = new AbortController();
    const signal = abort.signal;
    client
      .getAsset(companyId, assetId, { signal })
      .then(async (a) => {
        setAsset(a);
        // A job's output is previewed with the job's preview (poster, waveform, first page).
        if (a.jobId && a.role === 'primary') setPreview(previewOf(await client.getJob(companyId, a.jobId, { signal })));
      })
      .catch((err) => !signal.aborted && setError(err));
    return () => abort.abort();
  }, [client, companyId, assetId]);

  if (!asset) {
    if (isNotFound(error))
      return (
        <p className="empty">
          No asset {assetId} in this company. <a href={routeHref('assets')}>Back to the assets</a>.
        </p>
      );
    return error ? <ErrorNote error={error} /> : <p className="muted">Loading…</p>;
  }

  const facts: [string, ReactNode][] = [
    ['Role', asset.role],
    ['Made by', asset.jobId ? <a className="mono" href={routeHref(`jobs/${asset.jobId}`)} data-job-link={asset.jobId}>job {shortId(asset.jobId)}</a> : 'an upload'],
    ['Task', asset.sourceTaskId ? <a href={routeHref('assets', { task: asset.sourceTaskId })}>{asset.sourceTaskId}</a> : '—'],
    ['Created', formatTime(asset.createdAt)],
    ['SHA-256', <span className="mono hash">{asset.sha256}</span>],
  ];

  return (
    <section className="asset-page" data-asset-id={asset.id} data-role={asset.role}>
      <p className="crumbs">
        <a href={routeHref('assets')}>Assets</a> / <span className="mono">{asset.id}</span>
      </p>
      <AssetPreview asset={asset} preview={preview} apiKey={apiKey} />

      <div className="panel asset-facts">
        <dl>
          {facts.map(([term, value]) => (
            <div key={term}>
              <dt>{term}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
        <h3>Derived from</h3>
        {asset.derivedFrom.length === 0 ? (
          <p className="muted small">{asset.jobId ? 'Its job read no assets.' : 'Nothing: it was uploaded.'}</p>
        ) : (
          <ul className="lineage-list derived-from">
            {asset.derivedFrom.map((id) => (
              <li key={id} data-derived-from={id}>
                <AssetRef id={id} asset={lineage?.ancestors.find((n) => n.asset.id === id)?.asset} />
              </li>
            ))}
          </ul>
        )}
      </div>

      <section className="panel lineage" aria-labelledby="asset-lineage-title">
        <h2 id="asset-lineage-title">Lineage</h2>
        {lineageError ? <ErrorNote error={lineageError} /> : null}
        {!lineage && !lineageError ? (
          <p className="muted">Loading…</p>
        ) : lineage ? (
          <div className="lineage-columns">
            <div>
              <h3>Made from</h3>
              <LineageList nodes={lineage.ancestors} direction="ancestor" empty="Nothing: it is an original." />
            </div>
            <div>
              <h3>Made from it</h3>
              <LineageList nodes={lineage.descendants} direction="descendant" empty="Nothing yet." />
            </div>
          </div>
        ) : null}
      </section>
    </section>
  );
}
