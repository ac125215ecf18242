import { useEffect, useState } from 'react';
import type { CompanyView, RendererView } from './api/job-view.js';
import { readApiKey, writeApiKey } from './api/api-key.js';
import { isUnauthorized, KilnClientProvider, useKiln } from './api/kiln-client.js';
import { routeHref, useRoute } from './routing.js';
import { CompanyEventsProvider, useCompanyEvents } from './live/company-events.js';
import { ApiKeyPanel } from './components/api-key-panel.js';
import { ErrorNote } from './components/error-note.js';
import { JobsPage } from './pages/jobs-page.js';
import { JobPage } from './pages/job-page.js';
import { NewJobPage } from './pages/new-job-page.js';
import { AssetsPage } from './pages/assets-page.js';
import { AssetPage } from './pages/asset-page.js';

const COMPANY_KEY = 'kiln.companyId';

export interface PageProps {
  companyId: string;
  /** Present in authenticated mode: media must then be fetched with the header, not by URL. */
  apiKey: string | null;
  renderers: RendererView[] | null;
}

export function App() {
  const [apiKey, setApiKey] = useState(readApiKey);
  const saveKey = (key: string | null) => {
    writeApiKey(key);
    setApiKey(key);
  };
  return (
    <KilnClientProvider apiKey={apiKey}>
      <Dashboard apiKey={apiKey} saveKey={saveKey} />
    </KilnClientProvider>
  );
}

function Dashboard({ apiKey, saveKey }: { apiKey: string | null; saveKey(key: string | null): void }) {
  const client = useKiln();
  const route = useRoute();
  const [companies, setCompanies] = useState<CompanyView[] | null>(null);
  const [renderers, setRenderers] = useState<RendererView[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [companyId, setCompanyId] = useState<string | null>(() => localStorage.getItem(COMPANY_KEY));
  const [keyPanelOpen, setKeyPanelOpen] = useState(false);

  useEffect(() => {
    const abort = new AbortController();
    setLoadError(null);
    Promise.all([client.listCompanies({ signal: abort.signal }), client.listRenderers({ signal: abort.signal })])
      .then(([c, r]) => {
        setCompanies(c);
        setRenderers(r);
        setCompanyId((current) => (current && c.some((x) => x.id === current) ? current : (c[0]?.id ?? null)));
      })
      .catch((err) => !abort.signal.aborted && setLoadError(err));
    return () => abort.abort();
  }, [client]);

  useEffect(() => {
    if (companyId) localStorage.setItem(COMPANY_KEY, companyId);
  }, [companyId]);

  const needsKey = isUnauthorized(loadError);
  const [section = 'jobs', param] = route.segments;
  const page = companyId && companies ? { companyId, apiKey, renderers } : null;

  return (
    <CompanyEventsProvider companyId={needsKey ? null : companyId}>
      <header className="topbar">
        <a className="brand" href={routeHref('jobs')}>
          <span className="brand-mark" aria-hidden="true" />
          Kiln
        </a>
        <nav aria-label="Pages">
          <a href={routeHref('jobs')} className={section === 'jobs' ? 'active' : ''}>
            Jobs
          </a>
          <a href={routeHref('new')} className={section === 'new' ? 'active' : ''}>
            New job
          </a>
          <a href={routeHref('assets')} className={section === 'assets' ? 'active' : ''}>
            Assets
          </a>
        </nav>
        <div className="topbar-right">
          {companies && companies.length > 0 && (
            <label className="company-switcher">
              <span className="muted">Company</span>
              <select name="company" value={companyId ?? ''} onChange={(e) => setCompanyId(e.target.value)}>
                {companies.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
            </label>
          )}
          <LiveIndicator />
          <button type="button" className={`link-button ${apiKey ? 'key-set' : ''}`} onClick={() => setKeyPanelOpen((o) => !o)}>
            {apiKey ? 'API key ✓' : 'API key'}
          </button>
          <nav className="docs-links" aria-label="Documentation">
            <a href="/api/docs" target="_blank" rel="noopener" data-docs="api">
              API reference
            </a>
            <a href="/llms.txt" target="_blank" rel="noopener" data-docs="llms">
              llms.txt
            </a>
          </nav>
        </div>
      </header>
      <main>
        {(keyPanelOpen || needsKey) && (
          <ApiKeyPanel
            current={apiKey}
            required={needsKey}
            onSave={(key) => {
              saveKey(key);
              setKeyPanelOpen(false);
            }}
          />
        )}
        {loadError && !needsKey ? <ErrorNote error={loadError} /> : null}
        {!loadError && companies?.length === 0 && <p className="empty">This key sees no company.</p>}
        {!loadError && !companies && <p className="muted">Loading…</p>}
        {page && <Page key={`${page.companyId}:${apiKey ?? ''}`} section={section} param={param} props={page} />}
      </main>
    </CompanyEventsProvider>
  );
}

function Page({ section, param, props }: { section: string; param: string | undefined; props: PageProps }) {
  if (section === 'jobs' && param) return <JobPage {...props} jobId={param} key={param} />;
  if (section === 'jobs') return <JobsPage {...props} />;
  if (section === 'new') return <NewJobPage {...props} />;
  if (section === 'assets' && param) return <AssetPage {...props} assetId={param} key={param} />;
  if (section === 'assets') return <AssetsPage {...props} />;
  return (
    <p className="empty">
      No page here. <a href={routeHref('jobs')}>Go to the jobs</a>.
    </p>
  );
}

function LiveIndicator() {
  const { state } = useCompanyEvents();
  const label = state === 'open' ? 'Live' : state === 'connecting' ? 'Connecting…' : state === 'error' ? 'Reconnecting…' : 'Offline';
  return (
    <span className={`live live-${state}`} data-live-state={state} title="Company event stream">
      <span className="live-dot" aria-hidden="true" />
      {label}
    </span>
  );
}
