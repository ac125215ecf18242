#!/usr/bin/env node
// First half of both README commands: makes a fresh clone ready to run. Installs the npm
// dependencies when node_modules is missing or older than the lock file, and the Debian
// packages the renderers call (ffmpeg, espeak-ng, Chromium, poppler-utils) when they are
// missing. Needs nothing but Node itself, so it runs before `npm ci` has happened.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const SYSTEM_TOOLS = [
  { bin: 'ffmpeg', pkg: 'ffmpeg', why: 'speech and video encoding' },
  { bin: 'ffprobe', pkg: 'ffmpeg', why: 'media probing' },
  { bin: 'espeak-ng', pkg: 'espeak-ng', why: 'speech synthesis' },
  { bin: 'chromium', pkg: 'chromium', why: 'Markdown → PDF documents' },
  { bin: 'pdftotext', pkg: 'poppler-utils', why: 'document checks' },
];

function onPath(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

function ensureNodeModules() {
  const lock = path.join(root, 'package-lock.json');
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  console.error('kiln setup: installing npm dependencies (npm ci)…');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

function ensureSystemPackages() {
  const missing = SYSTEM_TOOLS.filter((t) => !onPath(t.bin));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((t) => t.pkg))];
  const canInstall = process.getuid?.() === 0 && onPath('apt-get');
  if (!canInstall) {
    console.error(
      `kiln setup: missing ${missing.map((t) => `${t.bin} (${t.why})`).join(', ')}.\n` +
        `Install them with: sudo apt-get install -y ${pkgs.join(' ')}`,
    );
    process.exit(1);
  }
  console.error(`kiln setup: installing Debian packages: ${pkgs.join(' ')}…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', ...pkgs], { stdio: 'inherit', env });
}

/** Newest modification time of a file or of any file under a directory (0 when absent). */
function newestMtime(target) {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(target).reduce((max, name) => Math.max(max, newestMtime(path.join(target, name))), stat.mtimeMs);
}

// The dashboard is static files (ui/dist) that the server serves at `/`. Built when missing or
// older than its sources, so `npm start` and `npm test` always serve the current UI.
function ensureUiBuild() {
  const ui = path.join(root, 'ui');
  const built = newestMtime(path.join(ui, 'dist', 'index.html'));
  const sources = ['src', 'index.html', 'vite.config.ts', 'tsconfig.json', 'package.json'].map((f) => newestMtime(path.join(ui, f)));
  if (built > 0 && built >= Math.max(...sources)) return;
  console.error('kiln setup: building the dashboard (npm run build -w @kiln/ui)…');
  execFileSync('npm', ['run', 'build', '-w', '@kiln/ui'], { cwd: root, stdio: 'inherit' });
}

ensureSystemPackages();
ensureNodeModules();
ensureUiBuild();
