import { defineConfig, devices } from '@playwright/test';
import { execFileSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';

// A port nobody listens on, chosen once by the runner; its workers read it from the environment
// they inherit, so every process agrees on it.
if (!process.env.ATTN_E2E_PORT) {
  const probe = "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })";
  process.env.ATTN_E2E_PORT = execFileSync(process.execPath, ['-e', probe]).toString().trim();
}

// The server under test: the release build that `cargo leptos build --release` made, with its
// hashed asset names, on the embedded default with a database file of its own.
const port = Number(process.env.ATTN_E2E_PORT);
const serverBin = process.env.ATTN_SERVER_BIN ?? path.resolve(__dirname, '../target/release/server');
const siteRoot = process.env.ATTN_SITE_ROOT ?? path.resolve(__dirname, '../target/site');
const dataDir = path.join(os.tmpdir(), `attn-e2e-${process.pid}`);
// The face-check models and test photos that scripts/models fetched.
const modelsDir = process.env.ATTN_MODELS_DIR ?? path.resolve(__dirname, '../models');

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    // `localhost`, not an IP address: passkeys need a domain name (and it is a secure context).
    baseURL: `http://localhost:${port}`,
    // A Turkish phone or laptop, as most users have; tests that need English say so.
    locale: 'tr-TR',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
      ],
    },
  },
  projects: [
    { name: 'desktop', use: { ...devices['Desktop Chrome'], channel: undefined } },
    { name: 'phone', use: { ...devices['Pixel 7'], channel: undefined } },
  ],
  webServer: {
    command: `mkdir -p ${dataDir} && exec ${serverBin}`,
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: siteRoot,
      LEPTOS_ENV: 'PROD',
      LEPTOS_HASH_FILES: 'true',
      ATTN_DATABASE_URL: `sqlite://${dataDir}/attn.db?mode=rwc`,
      ATTN_REDIS_URL: '',
      ATTN_DEMO_ACCOUNTS: 'true',
      ATTN_DEMO_PASSWORD: process.env.ATTN_DEMO_PASSWORD ?? 'demo',
      // Finished sessions reach the history within a second or two.
      ATTN_SWEEP_INTERVAL_SECS: '1',
      ATTN_ADMINS: 'demo_teacher_10',
      // The relying party of the students' passkeys, and the QR codes' address.
      ATTN_PUBLIC_URL: `http://localhost:${port}`,
      ATTN_MODELS_DIR: modelsDir,
      // Every demo student's portal photo, for the face check.
      ATTN_DEMO_PHOTO: path.join(modelsDir, 'testdata', 'obama.jpg'),
      RUST_LOG: 'warn',
    },
  },
});
