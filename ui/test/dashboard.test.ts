import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_RENDERERS } from '../../server/test/support/test-kiln-with-test-kinds.js';
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

/** test-warn (a job that reports the warnings it is given) lives with the CLI tests' kinds. */
const CLI_TEST_RENDERERS = new URL('../../server/test/support/cli-test-renderers.ts', import.meta.url).href;

const jobsPath = () => `/api/companies/${kiln.companyId}/content-jobs`;
const shot = (name: string, p: Page = page) => p.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });

/** A real PNG (8-bit RGB, a horizontal gradient), made here so the upload is a file a decoder accepts. */
function pngOf(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits, RGB, deflate, no filter method, no interlace
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) rows.set([Math.round((255 * x) / width), 80, 200], y * (width * 3 + 1) + 1 + x * 3);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

async function renderersOf(): Promise<{ kind: string; example: any; inputSchema: any }[]> {
  return (await kiln.api('GET', '/api/renderers')).body.items;
}

/** Nothing on the page is wider than the viewport (so the body never scrolls sideways). */
const horizontalOverflow = (p: Page) => p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

/** The element is entirely inside the viewport as the page first shows (no scrolling). */
async function inViewWithoutScrolling(p: Page, selector: string) {
  await p.evaluate(() => window.scrollTo(0, 0));
  return p.locator(selector).first().evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth && r.width > 0;
  });
}

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
    startTestKiln({}, { rendererModules: [TEST_RENDERERS, CLI_TEST_RENDERERS] }),
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
    const image = (await renderersOf()).find((r) => r.kind === 'image')!;
    const { example } = image;
    const card = image.inputSchema.oneOf.find((v: any) => v.properties.mode.const === 'card');

    await page.goto(`${kiln.url}/#/new?kind=image`);
    const title = page.locator('[data-path="input.title"] input');
    await expect.poll(() => title.inputValue()).toBe(example.title);
    // Labels and help text are the schema's titles and descriptions, and the variant is named by its title.
    expect(await page.locator('[data-path="input.mode"] select option:checked').textContent()).toBe(card.title);
    expect(await page.locator('[data-path="input.title"] > label').textContent()).toBe(`${card.properties.title.title}*`);
    const help = page.locator(`#${await title.getAttribute('aria-describedby')}`);
    expect(await help.textContent()).toBe(card.properties.title.description);
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
    await expect.poll(() => page.locator('.asset-card').count()).toBe(1); // the image; its preview is its thumbnail
    await page.waitForFunction(() => {
      const el = document.querySelector<HTMLImageElement>('.asset-card img');
      return !!el && el.complete && el.naturalWidth > 0;
    });
    await page.locator('.filters input[name="task"]').fill('');
    await expect.poll(() => page.locator('.asset-card').count()).toBeGreaterThanOrEqual(2); // + the test-slow text file
    await shot('assets');
  });

  it('edits a video through forms (a card scene, a chart scene with its JSON spec), submits it, and plays it with its poster', async () => {
    const video = (await renderersOf()).find((r) => r.kind === 'video')!;
    const defs = video.inputSchema.$defs;
    await page.goto(`${kiln.url}/#/new?kind=video`);
    await page.getByRole('tab', { name: 'Form' }).click();
    const field = (p: string) => page.locator(`[data-path="input.${p}"]`);

    // Scene 1 is a card: its fields come from $defs.ImageCardFields, as form fields.
    const cardTitle = field('scenes.0.visual.card.title').locator('input');
    await expect.poll(() => cardTitle.inputValue()).toBe(video.example.scenes[0].visual.card.title);
    expect(await field('scenes.0.visual.card.title').locator('> label').textContent()).toBe(`${defs.ImageCardFields.properties.title.title}*`);
    await cardTitle.fill('Edited through the form');
    await field('scenes.0.visual.card.subtitle').locator('input').fill('');

    // Scene 2 becomes a chart: $defs.ChartInputFields as a form whose spec is a JSON editor.
    await field('scenes.1.visual.type').locator('select').selectOption({ label: 'Chart' });
    const spec = field('scenes.1.visual.chart.spec').locator('textarea.json-editor');
    await spec.fill(JSON.stringify({ mark: 'bar', data: { values: [{ q: 'Q1', v: 3 }, { q: 'Q2', v: 5 }] }, encoding: { x: { field: 'q', type: 'nominal' }, y: { field: 'v', type: 'quantitative' } } }));
    expect(await field('scenes.1.visual.chart.scale').locator('input[type="number"]').count()).toBe(1);
    expect(await field('scenes.1.visual.chart.format').locator('select').count()).toBe(1);

    // Small, short and silent, so it renders quickly; WebM (VP9) plays in every Chromium build.
    await field('resolution').locator('select').first().selectOption('custom');
    await field('resolution.width').locator('input').fill('320');
    await field('resolution.height').locator('input').fill('180');
    await field('fps').locator('input').fill('10');
    await field('format').locator('select').selectOption({ label: 'webm' });
    await field('quality').locator('select').selectOption({ label: 'draft' });
    for (const i of [0, 1]) await field(`scenes.${i}.durationMs`).locator('input').fill('1000');
    await field('scenes.0.transitionMs').locator('input').fill('300');
    await field('soundtrack.type').locator('select').selectOption('');
    await shot('new-job-video-form');

    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.waitForURL(/#\/jobs\?created=/);
    const jobId = new URL(page.url()).hash.split('created=')[1]!;
    const job = await waitForJob(kiln, jobId);
    expect(job.status, JSON.stringify(job.error)).toBe('done');
    expect(job.input.scenes[0].visual).toMatchObject({ type: 'card', card: { title: 'Edited through the form' } });
    expect(job.input.scenes[0].visual.card.subtitle).toBeUndefined(); // emptied: left out
    expect(job.input.scenes[1].visual.type).toBe('chart');
    expect(job.input.resolution).toEqual({ width: 320, height: 180 });
    expect(job.input.soundtrack).toBeUndefined();

    const ranges: number[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/content') && r.request().headers().range) ranges.push(r.status());
    });
    await page.goto(`${kiln.url}/#/jobs/${jobId}`);
    const player = page.locator('figure[data-role="primary"] video[data-asset-preview="video"]');
    await player.waitFor();
    // The poster is the job's preview frame, shown before playback.
    const preview = job.assets.find((a: any) => a.role === 'preview');
    expect(await player.getAttribute('poster')).toBe(`/api/companies/${kiln.companyId}/assets/${preview.id}/content`);
    const poster = await page.request.get(`${kiln.url}${await player.getAttribute('poster')}`);
    expect(poster.headers()['content-type']).toBe('image/webp');
    await player.evaluate((v: HTMLVideoElement) => (v.currentTime = 1.5));
    await page.waitForFunction(() => {
      const v = document.querySelector<HTMLVideoElement>('video[data-asset-preview="video"]');
      return !!v && v.readyState >= 2 && !v.seeking && v.currentTime > 1;
    });
    expect(await player.evaluate((v: HTMLVideoElement) => [v.videoWidth, v.videoHeight])).toEqual([320, 180]);
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
        // Labelled by its title (never the field name), described by its description.
        expect(await page.locator(`[data-path="input.${key}"] label`).first().textContent(), `${r.kind}.${key}`).toMatch(new RegExp(`^${prop.title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\*?$`));
        expect(await page.locator(`[data-path="input.${key}"] .hint`).first().textContent(), `${r.kind}.${key}`).toBe(prop.description);
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
  it('uploads a PNG from the file input and a CSV by drag and drop; the gallery shows them; lineage links both ways', async () => {
    await page.goto(`${kiln.url}/#/assets`);
    await page.locator('input[type="file"][name="upload"]').setInputFiles({ name: 'logo.png', mimeType: 'image/png', buffer: pngOf(64, 32) });
    await page.locator('.uploads li[data-upload-state="done"]', { hasText: 'logo.png' }).waitFor();
    const card = page.locator('.asset-card[data-role="input"]', { hasText: 'logo.png' });
    await card.waitFor();
    await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLImageElement>('.asset-card[data-role="input"] img')).some((i) => i.complete && i.naturalWidth === 64));
    const logoId = (await card.getAttribute('data-asset-id'))!;
    const stored = (await kiln.api('GET', `/api/companies/${kiln.companyId}/assets/${logoId}`)).body;
    expect([stored.role, stored.contentType, stored.byteSize]).toEqual(['input', 'image/png', pngOf(64, 32).length]);

    // Dropped on the page: the same upload path.
    await page.locator('.assets-page').evaluate((target) => {
      const files = new DataTransfer();
      files.items.add(new File(['quarter,revenue\nQ1,3\nQ2,5\n'], 'rows.csv', { type: 'text/csv' }));
      for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: files, bubbles: true, cancelable: true }));
    });
    await page.locator('.asset-card[data-role="input"]', { hasText: 'rows.csv' }).waitFor();
    // A file the server refuses shows why, next to its name.
    await page.locator('input[type="file"][name="upload"]').setInputFiles({ name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('not a png') });
    await expect.poll(() => page.locator('.uploads li[data-upload-state="error"] [role="alert"]').textContent()).toMatch(/unsupported_media_type|validation_failed/);
    await shot('assets-uploaded');

    // A card that uses the upload as its logo: the job links its input, the upload links what was made from it.
    const made = await kiln.api('POST', jobsPath(), { kind: 'image', input: { mode: 'card', title: 'With a logo', logoAssetId: logoId } }, { prefer: 'wait=30' });
    expect(made.body.status).toBe('done');
    const outputId = made.body.output.id as string;
    await page.goto(`${kiln.url}/#/jobs/${made.body.id}`);
    const input = page.locator(`[data-lineage="input"][data-asset-id="${logoId}"] a[data-asset-link]`);
    await expect.poll(() => input.textContent()).toBe('logo.png');
    await input.click();
    await page.waitForURL(new RegExp(`#/assets/${logoId}$`));
    const descendant = page.locator(`[data-lineage="descendant"][data-asset-id="${outputId}"]`);
    await descendant.waitFor();
    expect(await descendant.locator('a[data-job-link]').getAttribute('href')).toBe(`#/jobs/${made.body.id}`);
    expect(await page.locator('.derived-from').count()).toBe(0); // an upload is derived from nothing
    await descendant.locator('a[data-asset-link]').click();
    await page.waitForURL(new RegExp(`#/assets/${outputId}$`));
    await page.locator(`[data-derived-from="${logoId}"] a[data-asset-link]`, { hasText: 'logo.png' }).waitFor();
    await page.locator(`[data-lineage="ancestor"][data-asset-id="${logoId}"]`).waitFor();
    await shot('asset-lineage');
  });

  it("lists a job's warnings, with its output and Download button first, in view on a laptop screen", async () => {
    const warnings = ['Raw HTML was shown as text.', 'The title was shrunk to fit.'];
    const { body } = await kiln.api('POST', jobsPath(), { kind: 'test-warn', input: { warnings } }, { prefer: 'wait=30' });
    expect(body.status).toBe('done');
    await page.setViewportSize({ width: 1280, height: 800 });
    try {
      await page.goto(`${kiln.url}/#/jobs/${body.id}`);
      const list = page.getByRole('region', { name: /2 warnings/ }).getByRole('listitem');
      await expect.poll(() => list.allTextContents()).toEqual(warnings);
      await page.locator('pre.text-preview', { hasText: '2 warnings' }).waitFor();
      expect(await inViewWithoutScrolling(page, 'figure[data-role="primary"] [data-download]')).toBe(true);
      await shot('job-warnings');
    } finally {
      await page.setViewportSize({ width: 1280, height: 860 });
    }
  });

  it('folds a run of progress events into one line that opens to show them', async () => {
    // Steps 300 ms apart: more than the worker's 200 ms between progress writes, so each is an event.
    const { body } = await kiln.api('POST', jobsPath(), { kind: 'test-slow', input: { ms: 1500, steps: 5 } }, { prefer: 'wait=30' });
    await page.goto(`${kiln.url}/#/jobs/${body.id}`);
    await page.locator('tr[data-event-type="content_job.done"]').waitFor();
    const fold = page.locator('tr[data-event-fold]');
    expect(await fold.count()).toBe(1);
    const text = (await fold.textContent())!;
    const [, first, last, n] = text.match(/progress (\d+)% → (\d+)% \((\d+) events\)/) ?? [];
    expect(Number(first)).toBeLessThan(100);
    expect(Number(last)).toBe(100);
    expect(Number(n)).toBeGreaterThanOrEqual(2);
    expect(await page.locator('tr[data-event-type="content_job.progress"]').count()).toBe(0);
    const toggle = fold.getByRole('button');
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    await toggle.click();
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    expect(await page.locator('tr[data-event-type="content_job.progress"]').count()).toBe(Number(n));
    await shot('job-events-unfolded');
  });

  it('links the API reference and the agents\' guide from the header', async () => {
    await page.goto(`${kiln.url}/#/jobs`);
    const api = page.getByRole('navigation', { name: 'Documentation' }).getByRole('link', { name: 'API reference' });
    const llms = page.getByRole('navigation', { name: 'Documentation' }).getByRole('link', { name: 'llms.txt' });
    expect(await api.getAttribute('href')).toBe('/api/docs');
    expect(await llms.getAttribute('href')).toBe('/llms.txt');
    const [docs, guide] = await Promise.all([page.request.get(`${kiln.url}/api/docs`), page.request.get(`${kiln.url}/llms.txt`)]);
    expect([docs.status(), docs.headers()['content-type']]).toEqual([200, expect.stringContaining('text/html')]);
    expect([guide.status(), guide.headers()['content-type']]).toEqual([200, expect.stringContaining('text/plain')]);
  });

  it('fits a 390 px wide phone: no page scrolls sideways, and a job\'s Download button is in view', async () => {
    const made = await kiln.api('POST', jobsPath(), { kind: 'image', input: { mode: 'card', title: 'On a phone', size: 'story' } }, { prefer: 'wait=30' });
    expect(made.body.status).toBe('done');
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
    const phone = await ctx.newPage();
    try {
      const pages: [string, string, string][] = [
        ['jobs', '#/jobs', 'tr[data-job-id]'],
        ['job', `#/jobs/${made.body.id}`, 'figure[data-role="primary"] img'],
        ['new-image', '#/new?kind=image', '.schema-form .field'],
        ['new-video', '#/new?kind=video', '[data-path="input.scenes.0.visual.card.title"]'],
        ['assets', '#/assets', '.asset-card'],
        ['asset', `#/assets/${made.body.output.id}`, '.lineage'],
      ];
      for (const [name, hash, ready] of pages) {
        await phone.goto(`${kiln.url}/${hash}`);
        await phone.locator(ready).first().waitFor();
        expect(await phone.evaluate(() => window.innerWidth)).toBe(390);
        expect(await horizontalOverflow(phone), name).toBeLessThanOrEqual(0);
        expect(await phone.evaluate(() => document.documentElement.scrollWidth), name).toBeLessThanOrEqual(390);
        await shot(`phone-${name}`, phone);
      }
      await phone.goto(`${kiln.url}/#/jobs/${made.body.id}`);
      await phone.waitForFunction(() => (document.querySelector<HTMLImageElement>('figure[data-role="primary"] img')?.naturalWidth ?? 0) > 0);
      expect(await inViewWithoutScrolling(phone, 'figure[data-role="primary"] [data-download]')).toBe(true);
    } finally {
      await ctx.close();
    }
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
