import { test, expect, Page } from '@playwright/test';
import * as http from 'http';
import { checkInNow, logIn, newPerson } from './people';

// What a student's phone downloads over the classroom Wi-Fi, and what the teacher's does. The
// totals are printed so a change in weight shows in the test output.

/** The student path (QR link, login, check-in) must stay within this many bytes on a first visit. */
const STUDENT_BUDGET = 30_000;

/** The live page's wasm, compressed, must stay within this many bytes (350 KiB). */
const WASM_BUDGET = 350 * 1024;

/** The raw bytes of `url` as a client that accepts only `encoding` receives them. */
function download(url: string, encoding: string): Promise<{ bytes: number; served?: string }> {
  return new Promise((done, fail) => {
    http
      .get(url.replace('//localhost:', '//127.0.0.1:'), { headers: { 'accept-encoding': encoding } }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => done({ bytes, served: res.headers['content-encoding'] }));
      })
      .on('error', fail);
  });
}

type Seen = { url: string; type: string; encoding?: string; cache?: string; wire: number; unpacked: number };

/** Records every answer of the server to `page`, with its size on the wire and unpacked. */
function record(page: Page) {
  const seen: Promise<Seen | null>[] = [];
  page.on('response', (r) => {
    // The live and join pages' event streams never end, so they have no body to weigh.
    const ours = new URL(r.url()).port === process.env.ATTN_E2E_PORT;
    if (!ours || r.status() >= 400 || /\/api\/(live|join)_events\//.test(r.url())) return;
    // Read at once: a body is gone after the page navigates away.
    seen.push(
      Promise.all([r.body().catch(() => Buffer.alloc(0)), r.request().sizes()])
        .then(([body, sizes]) => ({
          url: r.url(),
          type: r.headers()['content-type'] ?? '',
          encoding: r.headers()['content-encoding'],
          cache: r.headers()['cache-control'],
          wire: sizes.responseBodySize + sizes.responseHeadersSize,
          unpacked: body.length,
        }))
        .catch(() => null),
    );
  });
  return async () => (await Promise.all(seen)).filter((s): s is Seen => s !== null);
}

function totals(all: Seen[]) {
  for (const s of all) {
    if (/text\/html|javascript|wasm|text\/css/.test(s.type) && s.unpacked > 1024) {
      expect(['br', 'gzip'], `${s.url} (${s.type})`).toContain(s.encoding);
      expect(s.wire, s.url).toBeLessThan(s.unpacked);
    }
  }
  return {
    wire: all.reduce((n, s) => n + s.wire, 0),
    unpacked: all.reduce((n, s) => n + s.unpacked, 0),
  };
}

test("a student's first visit (QR link, login, check-in) stays under 30 KB, with no wasm", async ({ browser }, info) => {
  const phone = info.project.name === 'phone';
  const teacher = await newPerson(browser);
  await teacher.page.goto('/login?next=/teach');
  await logIn(teacher.page, phone ? 'demo_teacher_1' : 'demo_teacher_3');
  await teacher.page.getByLabel('Ders adı').fill('Ağ Programlama');
  await teacher.page.getByRole('button', { name: 'Başlat' }).click();
  const joinUrl = (await teacher.page.getByTestId('join-url').getAttribute('href'))!;

  const student = await newPerson(browser);
  const seen = record(student.page);
  await student.page.goto(joinUrl);
  await logIn(student.page, phone ? 'demo_student_291' : 'demo_student_290');
  await expect(student.page.getByTestId('lesson')).toHaveText('Ağ Programlama');
  await checkInNow(student.page, teacher.page);
  await expect(student.page.getByTestId('outcome')).toHaveText('Yoklamaya katıldınız.');
  await student.page.waitForLoadState('networkidle');

  const all = await seen();
  expect(all.filter((s) => /\.wasm$|\/pkg\/attn[^/]*\.js$/.test(s.url)), 'no wasm or its loader').toEqual([]);
  const { wire, unpacked } = totals(all);
  console.log(`student path: ${all.length} answers, ${wire} bytes on the wire, ${unpacked} unpacked`);
  expect(wire).toBeLessThanOrEqual(STUDENT_BUDGET);

  await teacher.page.getByRole('button', { name: 'Yoklamayı bitir' }).click();
  await teacher.context.close();
  await student.context.close();
});

test("the teacher's live page loads the wasm compressed, under hashed names kept for a year", async ({ browser }, info) => {
  const teacher = await newPerson(browser);
  await teacher.page.goto('/login?next=/teach');
  await logIn(teacher.page, info.project.name === 'phone' ? 'demo_teacher_10' : 'demo_teacher_2');
  await teacher.page.getByLabel('Ders adı').fill('Derleyiciler');
  const errors: string[] = [];
  teacher.page.on('pageerror', (e) => errors.push(e.message));
  teacher.page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  const seen = record(teacher.page);
  const wasm = teacher.page.waitForResponse((r) => /\/pkg\/attn[^/]*\.wasm$/.test(r.url()));
  // Once hydrated, the page opens its event stream: proof the wasm runs.
  const listening = teacher.page.waitForRequest((r) => r.url().includes('/api/live_events/'));
  await teacher.page.getByRole('button', { name: 'Başlat' }).click();
  await expect(teacher.page).toHaveURL(/\/live\//);
  expect((await wasm).status()).toBe(200);
  await listening;

  const all = await seen();
  const { wire, unpacked } = totals(all);
  const files = all.filter((s) => s.url.includes('/pkg/'));
  const ext = (name: string) => name.slice(name.lastIndexOf('.'));
  const names = files.map((s) => s.url.replace(/^.*\/pkg\//, ''));
  expect(names.sort((a, b) => ext(a).localeCompare(ext(b)))).toEqual([
    expect.stringMatching(/^attn\.[\w-]+\.css$/),
    expect.stringMatching(/^attn\.[\w-]+\.js$/),
    expect.stringMatching(/^attn\.[\w-]+\.wasm$/),
  ]);
  for (const f of files) expect(f.cache, f.url).toBe('public, max-age=31536000, immutable');
  const bundle = files.find((s) => s.url.endsWith('.wasm'))!;
  console.log(`teacher's live page: ${wire} bytes on the wire, ${unpacked} unpacked; wasm ${bundle.wire} of ${bundle.unpacked}`);
  expect(bundle.wire * 2).toBeLessThan(bundle.unpacked);
  expect(errors, 'the page hydrates without errors').toEqual([]);
  // The wasm, as a browser that takes gzip (or brotli) alone gets it: at most 350 KiB.
  for (const encoding of ['gzip', 'br']) {
    const { bytes, served } = await download(bundle.url, encoding);
    console.log(`wasm as ${served}: ${bytes} bytes`);
    expect(served).toBe(encoding);
    expect(bytes).toBeLessThanOrEqual(WASM_BUDGET);
  }

  await teacher.page.getByRole('button', { name: 'Yoklamayı bitir' }).click();
  await expect(teacher.page.getByTestId('countdown')).toHaveText('Bu yoklama sona erdi.');
  await teacher.context.close();
});
