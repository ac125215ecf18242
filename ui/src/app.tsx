import { useEffect, useState } from 'react';
import { kilnApi, type CompanyView, type RendererView } from './api/kiln-api.js';
import { readApiKey, writeApiKey } from './api/api-key.js';
import { isUnauthorized } from './api/http.js';
import { routeHref, useRoute } from './routing.js';
import { CompanyEventsProvider, useCompanyEvents } from './live/company-events.js';
import { ApiKeyPanel } from './components/api-key-panel.js';
import { ErrorNote } from './components/error-note.js';
import { JobsPage } from './pages/jobs-page.js';
import { JobPage } from './pages/job-page.js';
import { NewJobPage } from './pages/new-job-page.js';
import { AssetsPage } from './pages/assets-page.js';

const COMPANY_KEY = 'kiln.companyId';

export interface PageProps {
  companyId: string;
  /** Present in authenticated mode: media must then be fetched with the header, not by URL. */
  apiKey: string | null;
  renderers: RendererView[] | null;
}

export function App() {
  const route = useRoute();
  const [apiKey, setApiKey] = useState(readApiKey);
  const [companies, setCompanies] = useState<CompanyView[] | null>(null);
  const [renderers, setRenderers] = useState<RendererView[] | null>(null);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [companyId, setCompanyId] = useState<string | null>(() => localStorage.getItem(COMPANY_KEY));
  const [keyPanelOpen, setKeyPanelOpen] = useState(false);

  useEffect(() => {
    let stale = false;
    setLoadError(null);
    Promise.all([kilnApi.companies(), kilnApi.renderers()])
      .then(([c, r]) => {
        if (stale) return;
        setCompanies(c.items);
        setRenderers(r.items);
        setCompanyId((current) => (current && c.items.some((x) => x.id === current) ? current : (c.items[0]?.id ?? null)));
      })
      .catch((err) => !stale && setLoadError(err));
    return () => {
      stale = true;
    };
  }, [apiKey]);

  useEffect(() => {
    if (companyId) localStorage.setItem(COMPANY_KEY, companyId);
  }, [companyId]);

  const saveKey = (key: string | null) => {
    writeApiKey(key);
    setApiKey(key);
    setKeyPanelOpen(false);
  };

  const needsKey = isUnauthorized(loadError);
  const [section = 'jobs', param] = route.segments;
  const page = companyId && companies ? { companyId, apiKey, renderers } : null;

  return (
    <CompanyEventsProvider companyId={needsKey ? null : companyId} apiKey={apiKey}>
      <header className="topbar">
        <a className="brand" href={routeHref('jobs')}>
          <span className="brand-mark" aria-hidden="true" />
          Kiln
        </a>
        <nav>
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
        </div>
      </header>
      <main>
        {(keyPanelOpen || needsKey) && <ApiKeyPanel current={apiKey} required={needsKey} onSave={saveKey} />}
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
