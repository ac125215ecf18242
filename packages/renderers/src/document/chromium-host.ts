import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { RenderError } from '../contract.js';
import { DEFAULT_FONT_FAMILY, FONT_DIR } from '../fonts.js';

export interface ChromiumHostOptions {
  /** Debian's package installs it here. */
  executablePath?: string;
  /** Close the browser after this long without a page open. */
  idleTimeoutMs?: number;
}

export interface ChromiumHost {
  /**
   * Runs `fn` with a page in a fresh browser context that is offline, has JavaScript disabled and
   * aborts every request. The context is closed afterwards; when `signal` fires it is closed at
   * once (which interrupts whatever Chromium is doing for it) and the call rejects with the
   * signal's reason without waiting for `fn`.
   */
  withPage<T>(signal: AbortSignal, fn: (page: Page) => Promise<T>): Promise<T>;
  /** Closes the browser now; the next withPage launches a new one. */
  close(): Promise<void>;
}

const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-extensions',
  '--disable-dev-shm-usage',
];

/** How long closing a context may take after an abort before the whole browser is killed. */
const CONTEXT_CLOSE_GRACE_MS = 3_000;

/**
 * One Chromium per host, shared by the jobs that run while it is up. Launching costs ~0.3–1 s, far
 * more than rendering a typical document, so paying it per job would dominate; jobs stay isolated
 * from each other because each gets its own browser context (separate storage, cache, cookies).
 *
 * Lifetime is explicit: the browser is launched lazily by the first job, closed after
 * `idleTimeoutMs` with no job running (the timer is unref'd, so it never keeps a process alive),
 * closed by `close()` (the owner calls it on shutdown), and killed by Playwright itself when the
 * process exits; if the worker thread that drives it is terminated, Chromium sees its DevTools
 * pipe close and exits too. A browser that crashes is forgotten and relaunched by the next job.
 *
 * Chromium gets a minimal environment of its own rather than the server's (which holds database
 * and storage credentials), and a fontconfig that lists only Kiln's shipped fonts, so documents
 * look the same on every host and never pick up whatever fonts happen to be installed.
 */
export function createChromiumHost(options: ChromiumHostOptions = {}): ChromiumHost {
  const executablePath = options.executablePath ?? '/usr/bin/chromium';
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  let running: Promise<Browser> | undefined;
  let active = 0;
  let idleTimer: NodeJS.Timeout | undefined;

  async function launch(): Promise<Browser> {
    const home = await prepareBrowserHome();
    return chromium.launch({
      executablePath,
      args: LAUNCH_ARGS,
      env: {
        PATH: '/usr/local/bin:/usr/bin:/bin',
        HOME: home,
        FONTCONFIG_FILE: path.join(home, 'fonts.conf'),
        LANG: 'C.UTF-8',
        TZ: 'UTC',
      },
      timeout: 30_000,
    });
  }

  async function acquire(): Promise<Browser> {
    clearTimeout(idleTimer);
    active++;
    let current = running;
    if (current) {
      const browser = await current.catch(() => undefined);
      if (browser?.isConnected()) return browser;
      if (running === current) running = undefined; // crashed or failed to start: start afresh
    }
    current = running ??= launch();
    current.catch(() => {
      if (running === current) running = undefined;
    });
    try {
      return await current;
    } catch (err) {
      throw new RenderError('render_failed', `Chromium could not start: ${(err as Error).message.split('\n')[0]}`);
    }
  }

  function release(): void {
    active--;
    if (active === 0) {
      idleTimer = setTimeout(() => void close(), idleTimeoutMs);
      idleTimer.unref();
    }
  }

  async function close(): Promise<void> {
    clearTimeout(idleTimer);
    const current = running;
    running = undefined;
    if (!current) return;
    const browser = await current.catch(() => undefined);
    await browser?.close().catch(() => undefined);
  }

  async function withPage<T>(signal: AbortSignal, fn: (page: Page) => Promise<T>): Promise<T> {
    if (signal.aborted) throw signal.reason;
    let browser: Browser;
    try {
      browser = await acquire();
    } catch (err) {
      release();
      throw err;
    }
    let context: BrowserContext | undefined;
    let closing: Promise<void> | undefined;
    const closeContext = () =>
      (closing ??= withTimeout(context?.close() ?? Promise.resolve(), CONTEXT_CLOSE_GRACE_MS).catch(async () => {
        // A context that will not close means a wedged browser: kill it so the next job starts clean.
        if (running) await close();
      }));
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        void closeContext();
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    try {
      const work = (async () => {
        context = await browser.newContext({
          javaScriptEnabled: false,
          offline: true,
          acceptDownloads: false,
          serviceWorkers: 'block',
          locale: 'en-US',
          timezoneId: 'UTC',
        });
        if (signal.aborted) {
          // The abort came while the context was being made, so closeContext() saw none: close it here.
          void context.close().catch(() => undefined);
          throw signal.reason;
        }
        // No Playwright timeouts: the job's signal (cancel or job timeout) is the one deadline.
        context.setDefaultTimeout(0);
        await context.route('**/*', (route) => route.abort('blockedbyclient'));
        const page = await context.newPage();
        return fn(page);
      })();
      work.catch(() => undefined);
      return await Promise.race([work, aborted]);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (err instanceof RenderError) throw err;
      const message = (err as Error).message.split('\n')[0];
      // The browser going away under a job is not the input's fault: let the job be retried.
      const crashed = !browser.isConnected() || /closed|crash/i.test(message ?? '');
      throw new RenderError('render_failed', `Chromium failed: ${message}`, { retryable: crashed });
    } finally {
      signal.removeEventListener('abort', onAbort!);
      const done = closeContext();
      if (!signal.aborted) await done;
      release();
    }
  }

  return { withPage, close };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * Chromium's HOME (its NSS database, caches) and the fontconfig file that points it at the shipped
 * fonts. One directory per user and Kiln install, reused by every launch, rather than a fresh one
 * per browser: a browser that dies with its worker thread then leaves nothing new behind.
 */
async function prepareBrowserHome(): Promise<string> {
  const install = createHash('sha256').update(FONT_DIR).digest('hex').slice(0, 10);
  const home = path.join(tmpdir(), `kiln-chromium-${process.getuid?.() ?? 'user'}-${install}`);
  await mkdir(home, { recursive: true, mode: 0o700 });
  // Written whole then renamed, so a browser starting at the same moment never reads half a file.
  const staging = path.join(home, `fonts.conf.${process.pid}.${Date.now()}`);
  await writeFile(staging, fontconfig(FONT_DIR, path.join(home, 'fontconfig-cache')));
  await rename(staging, path.join(home, 'fonts.conf'));
  return home;
}

function fontconfig(fontDir: string, cacheDir: string): string {
  const alias = (generic: string, family: string) =>
    `  <alias binding="same"><family>${generic}</family><prefer><family>${family}</family></prefer></alias>\n`;
  return (
    '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n' +
    `  <dir>${xmlText(fontDir)}</dir>\n  <cachedir>${xmlText(cacheDir)}</cachedir>\n` +
    alias('sans-serif', DEFAULT_FONT_FAMILY) +
    alias('serif', DEFAULT_FONT_FAMILY) +
    alias('monospace', 'DejaVu Sans Mono') +
    '</fontconfig>\n'
  );
}

function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
