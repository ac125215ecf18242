/**
 * What Kiln adds on top of a renderer (not a test): for each kind, the wall time of
 * submit → terminal event through a running Kiln (HTTP, queue, render process, streamed storage,
 * asset rows, events) against calling the same renderer in this process with the same input.
 * Prints medians and the overhead ratio (target ≤ 1.2× for a 1200×630 card and a 3-page document;
 * ≤ 1.10× for video against ffmpeg is measured by bench/video-overhead.ts).
 *
 *   npx tsx bench/renderers-through-kiln.ts [runs=5] [kinds=card,chart,document,speech,video]
 */
import { imageRenderer } from '../packages/renderers/src/image/image-renderer.js';
import { chartRenderer } from '../packages/renderers/src/chart/chart-renderer.js';
import { createDocumentRenderer } from '../packages/renderers/src/document/document-renderer.js';
import { speechRenderer } from '../packages/renderers/src/speech/speech-renderer.js';
import { videoRenderer } from '../packages/renderers/src/video/video-renderer.js';
import { createFileRenderContext } from '../packages/renderers/src/testing/file-render-context.js';
import type { Renderer } from '../packages/renderers/src/contract.js';
import { median, startBenchServer } from './kiln-server.js';
import { rm } from 'node:fs/promises';

const runs = Number(process.argv[2] ?? 5);
const only = (process.argv[3] ?? 'card,chart,document,speech,video').split(',');

const paragraph =
  'Kiln renders content as asynchronous jobs. Each job moves through a tracked lifecycle, streams its output into storage and records it as an asset. ';
const threePages = [
  '# Quarterly report',
  ...Array.from({ length: 9 }, (_, i) => `## Section ${i + 1}\n\n${paragraph.repeat(6)}\n\n| Metric | Value |\n|---|---|\n| Revenue | ${100 + i} |\n| Churn | ${i}% |`),
].join('\n\n');

const slide = (fill: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="1280" height="720"><rect width="1280" height="720" fill="${fill}"/></svg>`;

const documentRenderer = createDocumentRenderer();
const cases: { name: string; kind: string; renderer: Renderer<any>; input: unknown }[] = [
  {
    name: 'card',
    kind: 'image',
    renderer: imageRenderer,
    input: { mode: 'card', title: 'Quarterly results', subtitle: 'Q3 2026', body: paragraph, size: 'og', format: 'png' },
  },
  { name: 'chart', kind: 'chart', renderer: chartRenderer, input: chartRenderer.example },
  { name: 'document', kind: 'document', renderer: documentRenderer, input: { markdown: threePages, title: 'Report', author: 'Kiln' } },
  { name: 'speech', kind: 'speech', renderer: speechRenderer, input: { text: paragraph.repeat(2), format: 'mp3' } },
  {
    name: 'video',
    kind: 'video',
    renderer: videoRenderer,
    input: {
      resolution: '720p',
      fps: 30,
      scenes: [
        { visual: { type: 'card', card: { title: 'Quarterly results' } }, durationMs: 3400, transition: 'fade', transitionMs: 600 },
        { visual: { type: 'svg', svg: slide('#1d4ed8') }, durationMs: 3300, transition: 'fade', transitionMs: 600 },
        { visual: { type: 'svg', svg: slide('#047857') }, durationMs: 3300, caption: 'Churn fell again.' },
      ],
      soundtrack: { type: 'narration', text: 'Quarterly results. Revenue grew twelve percent. Churn fell again.' },
    },
  },
];

async function direct(renderer: Renderer<any>, input: unknown): Promise<number> {
  const run = await createFileRenderContext();
  const t0 = performance.now();
  await renderer.render(renderer.inputSchema.parse(input), run.ctx);
  await run.settled();
  const ms = performance.now() - t0;
  await rm(run.dir, { recursive: true, force: true });
  return ms;
}

async function throughKiln(url: string, companyId: string, kind: string, input: unknown): Promise<number> {
  const base = `${url}/api/companies/${companyId}/content-jobs`;
  const t0 = performance.now();
  const res = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind, input }) });
  const { jobId } = await res.json();
  // Read the job's SSE stream to its end: the server closes it right after the terminal event.
  const stream = await fetch(`${base}/${jobId}/events`);
  const text = await stream.text();
  const ms = performance.now() - t0;
  if (!text.includes('event: content_job.done')) throw new Error(`${kind} job did not finish: ${text.slice(-400)}`);
  return ms;
}

const server = await startBenchServer({ KILN_WORKER_CONCURRENCY: '1' });
await new Promise((r) => setTimeout(r, 8000)); // render processes load their renderers
console.log(`runs=${runs} (median; first run of each side is a discarded warm-up), worker concurrency 1`);
console.log('kind       direct ms   through Kiln ms   ratio');
for (const c of cases.filter((c) => only.includes(c.name))) {
  await direct(c.renderer, c.input);
  await throughKiln(server.url, server.companyId, c.kind, c.input);
  const d: number[] = [];
  const k: number[] = [];
  for (let i = 0; i < runs; i++) {
    d.push(await direct(c.renderer, c.input));
    k.push(await throughKiln(server.url, server.companyId, c.kind, c.input));
  }
  const md = median(d);
  const mk = median(k);
  console.log(`${c.name.padEnd(10)} ${md.toFixed(0).padStart(9)}   ${mk.toFixed(0).padStart(15)}   ${(mk / md).toFixed(2)}×`);
}
await documentRenderer.close?.();
await server.stop();
