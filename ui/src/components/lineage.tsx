import { useEffect, useState } from 'react';
import type { AssetLineage } from '@kiln/shared';
import type { AssetView, JobView } from '../api/job-view.js';
import { useKiln } from '../api/kiln-client.js';
import { routeHref } from '../routing.js';
import { shortId } from '../format.js';

type LineageNode = AssetLineage['ancestors'][number];

/** An asset as a link to its own page, with the job that made it (uploads have none). */
export function AssetRef({ asset, id, depth }: { asset?: AssetView; id: string; depth?: number }) {
  return (
    <>
      <a href={routeHref(`assets/${id}`)} data-asset-link={id}>
        {asset?.filename ?? <span className="mono">{shortId(id)}</span>}
      </a>
      {asset && (
        <span className="muted small">
          {' '}
          {asset.role}
          {asset.jobId ? (
            <>
              {' · made by job '}
              <a className="mono" href={routeHref(`jobs/${asset.jobId}`)} data-job-link={asset.jobId}>
                {shortId(asset.jobId)}
              </a>
            </>
          ) : (
            ' · uploaded'
          )}
          {depth && depth > 1 ? ` · ${depth} steps away` : ''}
        </span>
      )}
    </>
  );
}

export function LineageList({ nodes, direction, empty }: { nodes: LineageNode[]; direction: 'ancestor' | 'descendant'; empty: string }) {
  if (nodes.length === 0) return <p className="muted small">{empty}</p>;
  return (
    <ul className="lineage-list">
      {nodes.map((n) => (
        <li key={`${n.depth}:${n.asset.id}`} data-lineage={direction} data-asset-id={n.asset.id} data-depth={n.depth}>
          <AssetRef asset={n.asset} id={n.asset.id} depth={n.depth} />
        </li>
      ))}
    </ul>
  );
}

/** What an asset was made from and what was made from it, both ways through jobs. */
export function useLineage(companyId: string, assetId: string | undefined): { lineage: AssetLineage | null; error: unknown } {
  const client = useKiln();
  const [state, setState] = useState<{ lineage: AssetLineage | null; error: unknown }>({ lineage: null, error: null });
  useEffect(() => {
    setState({ lineage: null, error: null });
    if (!assetId) return;
    const abort = new AbortController();
    client.getLineage(companyId, assetId, { signal: abort.signal }).then(
      (lineage) => setState({ lineage, error: null }),
      (error) => !abort.signal.aborted && setState({ lineage: null, error }),
    );
    return () => abort.abort();
  }, [client, companyId, assetId]);
  return state;
}

/**
 * The job's lineage: the assets its input named (`inputAssetIds`) and, once it has an output,
 * that output's ancestors beyond them and its descendants (what later jobs made from it).
 */
export function JobLineage({ job }: { job: JobView }) {
  const client = useKiln();
  const { lineage } = useLineage(job.companyId, job.output?.id);
  const [inputs, setInputs] = useState<Map<string, AssetView>>(new Map());
  const inputKey = job.inputAssetIds.join(',');

  // Names for the inputs before there is an output to ask the lineage of (queued, running, failed).
  useEffect(() => {
    if (job.inputAssetIds.length === 0) return;
    const abort = new AbortController();
    Promise.all(job.inputAssetIds.map((id) => client.getAsset(job.companyId, id, { signal: abort.signal }).catch(() => null))).then((found) => {
      if (!abort.signal.aborted) setInputs(new Map(found.filter((a): a is AssetView => a !== null).map((a) => [a.id, a])));
    });
    return () => abort.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, job.companyId, inputKey]);

  const deeper = lineage?.ancestors.filter((n) => n.depth > 1) ?? [];
  const descendants = lineage?.descendants ?? [];
  if (job.inputAssetIds.length === 0 && deeper.length === 0 && descendants.length === 0) return null;
  return (
    <section className="panel lineage" aria-labelledby="lineage-title">
      <h2 id="lineage-title">Lineage</h2>
      <div className="lineage-columns">
        <div>
          <h3>Made from</h3>
          {job.inputAssetIds.length === 0 ? (
            <p className="muted small">No input assets.</p>
          ) : (
            <ul className="lineage-list">
              {job.inputAssetIds.map((id) => (
                <li key={id} data-lineage="input" data-asset-id={id}>
                  <AssetRef id={id} asset={inputs.get(id)} />
                </li>
              ))}
            </ul>
          )}
          {deeper.length > 0 && (
            <>
              <h3>…which came from</h3>
              <LineageList nodes={deeper} direction="ancestor" empty="" />
            </>
          )}
        </div>
        <div>
          <h3>Made from its output</h3>
          <LineageList nodes={descendants} direction="descendant" empty={job.output ? 'Nothing yet.' : 'No output yet.'} />
        </div>
      </div>
    </section>
  );
}
