import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKilnWithTestKinds, TEST_RENDERERS } from '../../server/test/support/test-kiln-with-test-kinds.js';
import { startTestKiln, waitForJob, type TestKiln } from '../../server/test/support/test-kiln.js';
import { apiKeyService } from '../../server/src/services/auth/api-key-service.js';
import { companyService } from '../../server/src/services/companies/company-service.js';

/**
 * The dashboard in a real browser (Debian Chromium through playwright-core) against a real Kiln:
 * the built ui/dist served by the server, real jobs, real renders, real SSE.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const artifacts = path.join(root, 'test-artifacts');

/** The same rule as scripts/ensure-setup.mjs, for `npx vitest run ui/test` without `npm test`. */
function ensureUiBuilt() {
  const newest = (p: string): number => {
    if (!existsSync(p)) return 0;
    const s = statSync(p);
    return s.isDirectory() ? readdirSync(p).reduce((m, n) => Math.max(m, newest(path.join(p, n))), s.mtimeMs) : s.mtimeMs;
  };
  const built = newest(path.join(root, 'ui/dist/index.html'));
  const sources = Math.max(...['src', 'index.html', 'vite.config.ts', 'tsconfig.json', 'package.json'].map((f) => newest(path.join(root, 'ui', f))));
  if (built === 0 || built < sources) execFileSync('npm', ['run', 'build', '-w', '@kiln/ui'], { cwd: root, stdio: 'ignore' });
}

let kiln: TestKiln;
let browser: Browser;
let context: BrowserContext;
let page: Page;

const jobsPath = () => `/api/companies/${kiln.companyId}/content-jobs`;
const shot = (name: string) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });

/** GETs of the job list (not of one job, not the event streams) made by the page. */
function countListRequests(p: Page) {
  const counter = { n: 0 };
  p.on('request', (r) => {
    const u = new URL(r.url());
    if (r.method() === 'GET' && u.pathname === jobsPath()) counter.n++;
  });
  return counter;
}

beforeAll(async () => {
  ensureUiBuilt();
  mkdirSync(artifacts, { recursive: true });
  [kiln, browser] = await Promise.all([
    startKilnWithTestKinds(),
    chromium.launch({
      executablePath: '/usr/bin/chromium',
      // playwright gives the browser a fresh temporary profile of its own.
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    }),
  ]);
  context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  page = await context.newPage();
  page.setDefaultTimeout(30_000);
});

afterAll(async () => {
  await browser?.close();
  await kiln?.cleanup();
});

describe('dashboard', () => {
  it('updates the jobs table live from the company stream: rows appear, progress moves, status ends done', async () => {
    const listRequests = countListRequests(page);
    await page.goto(`${kiln.url}/#/jobs`);
    await page.locator('[data-live-state="open"]').waitFor();
    await page.evaluate(() => ((window as any).__sameDocument = true));
    expect(listRequests.n).toBe(1);

    const { body } = await kiln.api('POST', jobsPath(), { kind: 'test-slow', input: { ms: 1500, steps: 5 }, sourceTaskId: 'ui-live' });
    const row = page.locator(`tr[data-job-id="${body.jobId}"]`);
    await row.waitFor();
    await page.waitForFunction((id) => {
      const bar = document.querySelector(`tr[data-job-id="${id}"] [role="progressbar"]`);
      const v = Number(bar?.getAttribute('aria-valuenow'));
      return v > 0 && v < 100;
    }, body.jobId);
    expect(await row.getAttribute('data-status')).toBe('running');
    await page.locator(`tr[data-job-id="${body.jobId}"][data-status="done"]`).waitFor();
    await expect.poll(() => row.locator('[role="progressbar"]').getAttribute('aria-valuenow')).toBe('100');
    expect(await row.locator('td').nth(3).textContent()).toBe('ui-live');

    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true); // no reload
    expect(listRequests.n).toBe(1); // and no list re-fetch: the stream did it
  });

  it('submits the New job form prefilled with the image example and shows the job finish, then its image', async () => {
    const renderers = (await kiln.api('GET', '/api/renderers')).body.items as { kind: string; example: any }[];
    const example = renderers.find((r) => r.kind === 'image')!.example;

    await page.goto(`${kiln.url}/#/new?kind=image`);
    const title = page.locator('[data-path="input.title"] input');
    await expect.poll(() => title.inputValue()).toBe(example.title);
    expect(await page.locator('[data-path="input.mode"] select option:checked').textContent()).toBe('card');
    expect(await page.locator('[data-path="input.theme.accent"] input[type="text"]').inputValue()).toBe(example.theme.accent);
    await page.locator('#job-task').fill('ui-task-image');
    await shot('new-job-image');

    const listRequests = countListRequests(page);
    await page.evaluate(() => ((window as any).__sameDocument = true));
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.waitForURL(/#\/jobs\?created=/);
    const jobId = new URL(page.url()).hash.split('created=')[1]!;
    await page.locator(`tr[data-job-id="${jobId}"][data-status="done"]`).waitFor();
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
    expect(listRequests.n).toBe(1);
    await shot('jobs');

    // The filters: by task, by kind and by status.
    await page.locator('.filters input[name="task"]').fill('ui-task-image');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    await page.locator('.filters input[name="task"]').fill('');
    await page.locator('.filters select[name="kind"]').selectOption('image');
    await expect.poll(() => page.locator('tbody tr').evaluateAll((trs) => [...new Set(trs.map((t) => t.children[2]!.textContent))])).toEqual(['image']);
    await page.locator('.filters select[name="kind"]').selectOption('');
    await page.locator('.filters select[name="status"]').selectOption('failed');
    await page.locator('.empty').waitFor();
    await page.locator('.filters select[name="status"]').selectOption('');

    await page.locator(`tr[data-job-id="${jobId}"]`).click();
    await page.waitForURL(new RegExp(`#/jobs/${jobId}$`));
    const img = page.locator('figure[data-role="primary"] img[data-asset-preview="image"]');
    await img.waitFor();
    await page.waitForFunction(() => {
      const el = document.querySelector<HTMLImageElement>('figure[data-role="primary"] img[data-asset-preview="image"]');
      return !!el && el.complete && el.naturalWidth > 0;
    });
    expect(await img.evaluate((el: HTMLImageElement) => el.naturalWidth)).toBe(1200);
    await page.locator('tr[data-event-type="content_job.done"]').waitFor();
    expect(await page.locator('[data-download]').first().getAttribute('href')).toMatch(/\/content\?download=1$/);
    await shot('job-image');

    await page.goto(`${kiln.url}/#/assets?task=ui-task-image`);
    await expect.poll(() => page.locator('.asset-card').count()).toBe(1);
    await page.waitForFunction(() => {
      const el = document.querySelector<HTMLImageElement>('.asset-card img');
      return !!el && el.complete && el.naturalWidth > 0;
    });
    await page.locator('.filters input[name="task"]').fill('');
    await expect.poll(() => page.locator('.asset-card').count()).toBeGreaterThanOrEqual(2); // + the test-slow text file
    await shot('assets');
  });

  it('plays a video asset on its job page, seeking with Range requests', async () => {
    const renderers = (await kiln.api('GET', '/api/renderers')).body.items as { kind: string; example: any }[];
    const example = structuredClone(renderers.find((r) => r.kind === 'video')!.example);
    const input = {
      ...example,
      resolution: { width: 320, height: 180 },
      fps: 10,
      format: 'webm', // VP9: every Chromium build plays it
      quality: 'draft',
      scenes: example.scenes.map((s: any) => ({ ...s, durationMs: 1000, transitionMs: 300 })),
    };
    delete input.soundtrack;
    const { status, body } = await kiln.api('POST', jobsPath(), { kind: 'video', input });
    expect(status).toBe(202);
    const job = await waitForJob(kiln, body.jobId);
    expect(job.status).toBe('done');

    const ranges: number[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/content') && r.request().headers().range) ranges.push(r.status());
    });
    await page.goto(`${kiln.url}/#/jobs/${body.jobId}`);
    const video = page.locator('figure[data-role="primary"] video[data-asset-preview="video"]');
    await video.waitFor();
    await video.evaluate((v: HTMLVideoElement) => (v.currentTime = 1.5));
    await page.waitForFunction(() => {
      const v = document.querySelector<HTMLVideoElement>('video[data-asset-preview="video"]');
      return !!v && v.readyState >= 2 && !v.seeking && v.currentTime > 1;
    });
    expect(await video.evaluate((v: HTMLVideoElement) => [v.videoWidth, v.videoHeight])).toEqual([320, 180]);
    expect(ranges).toContain(206);
    await shot('job-video');
  });

  it('switches company: the table and the live stream follow the chosen company', async () => {
    const globex = (await kiln.api('POST', '/api/companies', { name: 'Globex' })).body.id as string;
    await page.goto(`${kiln.url}/#/jobs`);
    await page.reload(); // the company list is read at start-up
    await page.locator('select[name="company"]').selectOption({ label: 'Globex' });
    await page.locator('.empty', { hasText: 'No jobs yet' }).waitFor();
    await page.locator('[data-live-state="open"]').waitFor();
    const { body } = await kiln.api('POST', `/api/companies/${globex}/content-jobs`, { kind: 'test-slow', input: { ms: 50, steps: 1 } });
    await page.locator(`tr[data-job-id="${body.jobId}"][data-status="done"]`).waitFor();
    expect(await page.locator('tbody tr').count()).toBe(1);

    await page.locator('select[name="company"]').selectOption({ label: 'Default company' });
    await page.locator(`tr[data-job-id="${body.jobId}"]`).waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('tbody tr').count()).toBeGreaterThan(1);
  });

  it('previews audio, PDF (first-page image + link) and HTML outputs', async () => {
    const renderers = (await kiln.api('GET', '/api/renderers')).body.items as { kind: string; example: any }[];
    const example = (kind: string) => structuredClone(renderers.find((r) => r.kind === kind)!.example);
    const submit = async (kind: string, input: unknown) => (await kiln.api('POST', jobsPath(), { kind, input })).body.jobId as string;
    const [speech, pdf, html] = await Promise.all([
      submit('speech', { ...example('speech'), text: 'Kiln dashboard.' }),
      submit('document', { ...example('document'), format: 'pdf' }),
      submit('document', { ...example('document'), format: 'html' }),
    ]);
    for (const id of [speech, pdf, html]) expect((await waitForJob(kiln, id)).status).toBe('done');

    await page.goto(`${kiln.url}/#/jobs/${speech}`);
    await page.waitForFunction(() => (document.querySelector<HTMLAudioElement>('figure[data-role="primary"] audio')?.readyState ?? 0) >= 1);
    expect(await page.locator('figure[data-role="primary"] audio').evaluate((a: HTMLAudioElement) => a.duration)).toBeGreaterThan(0.3);
    await shot('job-audio');

    await page.goto(`${kiln.url}/#/jobs/${pdf}`);
    await page.waitForFunction(() => (document.querySelector<HTMLImageElement>('[data-asset-preview="pdf"] img')?.naturalWidth ?? 0) > 0);
    expect(await page.locator('[data-asset-preview="pdf"] a').getAttribute('href')).toMatch(/\/content$/);
    await shot('job-pdf');

    await page.goto(`${kiln.url}/#/jobs/${html}`);
    const frame = page.frameLocator('iframe[data-asset-preview="html"]');
    await frame.locator('h1', { hasText: 'Quarterly report' }).waitFor();
    await shot('job-html');
  });

  it('generates a form for every renderer: real inputs for simple fields, the example kept intact', async () => {
    const renderers = (await kiln.api('GET', '/api/renderers')).body.items as { kind: string; example: any; inputSchema: any }[];
    for (const r of renderers.filter((x) => !x.kind.startsWith('test-'))) {
      await page.goto(`${kiln.url}/#/new?kind=${r.kind}`);
      await page.getByRole('tab', { name: 'Form' }).click(); // the page stays in JSON mode from the last kind
      await page.locator('.schema-form .field').first().waitFor();
      for (const [key, prop] of Object.entries<any>(r.inputSchema.properties ?? {})) {
        if (!['string', 'number', 'integer', 'boolean'].includes(prop.type)) continue;
        const control = page.locator(`[data-path="input.${key}"]`).locator('input, select, textarea:not(.json-editor)');
        expect(await control.count(), `${r.kind}.${key}`).toBeGreaterThan(0);
      }
      await shot(`new-job-${r.kind}`);
      // The form holds exactly the example: nothing dropped, nothing added.
      await page.getByRole('tab', { name: 'JSON' }).click();
      expect(JSON.parse(await page.locator('textarea[name="input"]').inputValue()), r.kind).toEqual(r.example);
    }
  });

  it('shows the server validation message next to the field it names', async () => {
    await page.goto(`${kiln.url}/#/new?kind=speech`);
    await page.getByRole('tab', { name: 'Form' }).click();
    const rate = page.locator('[data-path="input.rate"] input');
    await expect.poll(() => rate.inputValue()).toBe('175');
    await rate.fill('5');
    const response = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(jobsPath()));
    await page.getByRole('button', { name: 'Submit job' }).click();
    const answer = await (await response).json();
    expect(answer.error.code).toBe('validation_failed');
    const detail = answer.error.details.find((d: any) => d.path.join('.') === 'input.rate');
    expect(detail).toBeDefined();
    const message = page.locator('[data-path="input.rate"] .field-error');
    await expect.poll(() => message.textContent()).toBe(detail.message);
    expect(page.url()).toContain('#/new'); // stayed on the form
    await shot('new-job-validation');

    // Editing the field clears its message.
    await rate.fill('180');
    await expect.poll(() => message.count()).toBe(0);
  });

  it('cancels a running job from its page', async () => {
    const { body } = await kiln.api('POST', jobsPath(), { kind: 'test-slow', input: { ms: 60_000, steps: 60 } });
    await page.goto(`${kiln.url}/#/jobs/${body.jobId}`);
    await page.locator('.job-page[data-status="running"]').waitFor();
    await shot('job-running');
    await page.locator('button[data-action="cancel"]').click();
    await page.locator('.job-page[data-status="canceled"]').waitFor();
    await page.locator('tr[data-event-type="content_job.canceled"]').waitFor();
    expect(await page.locator('button[data-action="cancel"]').count()).toBe(0);
    expect((await kiln.api('GET', `${jobsPath()}/${body.jobId}`)).body.status).toBe('canceled');
    await shot('job-canceled');
  });
});

describe('dashboard in authenticated mode', () => {
  let secured: TestKiln;
  let companyId: string;
  let key: string;

  beforeAll(async () => {
    secured = await startTestKiln({ KILN_DEPLOYMENT_MODE: 'authenticated' }, { rendererModules: [TEST_RENDERERS] });
    companyId = (await companyService(secured.database.pool).create({ name: 'Acme' })).id;
    key = (await apiKeyService(secured.database.pool).create({ companyId, name: 'dashboard' })).key;
  });
  afterAll(async () => secured?.cleanup());

  it('serves the page without a key, asks for one, then sends it with every call and stream', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 700 } });
    const p = await ctx.newPage();
    try {
      await p.goto(`${secured.url}/`);
      await p.locator('.api-key-panel input[name="apiKey"]').fill(key);
      await p.locator('.api-key-panel button[type="submit"]').click();
      await p.locator('[data-live-state="open"]').waitFor();
      expect(await p.locator('select[name="company"] option:checked').textContent()).toBe('Acme');

      const auth = { authorization: `Bearer ${key}` };
      const { body } = await secured.api('POST', `/api/companies/${companyId}/content-jobs`, { kind: 'test-slow', input: { ms: 300, steps: 2 } }, auth);
      await p.locator(`tr[data-job-id="${body.jobId}"][data-status="done"]`).waitFor();

      // Media can't send the header: the page fetches the file with it and shows a blob: URL.
      await p.locator(`tr[data-job-id="${body.jobId}"]`).click();
      await p.locator('pre.text-preview', { hasText: 'slept 300 ms' }).waitFor();
      await p.screenshot({ path: path.join(artifacts, 'authenticated-job.png'), fullPage: true });
    } finally {
      await ctx.close();
    }
  });
});
