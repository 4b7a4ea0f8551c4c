import { test, expect } from '@playwright/test';
import { logIn, newPerson } from './people';

// What a student's phone downloads on a first visit over the classroom Wi-Fi: every page and
// file comes compressed (gzip, or brotli for the files precompressed at build time), and the
// totals are printed so a change in weight shows in the test output.
test('a first visit travels compressed', async ({ browser }) => {
  const { context, page } = await newPerson(browser);
  type Seen = { url: string; type: string; encoding?: string; wire: number; unpacked: number };
  const seen: Promise<Seen | null>[] = [];
  page.on('response', (r) => {
    if (!r.url().startsWith('http://127.0.0.1') || r.status() !== 200) return;
    // Read at once: a body is gone after the page navigates away.
    seen.push(
      Promise.all([r.body(), r.request().sizes()])
        .then(([body, sizes]) => ({
          url: r.url(),
          type: r.headers()['content-type'] ?? '',
          encoding: r.headers()['content-encoding'],
          wire: sizes.responseBodySize + sizes.responseHeadersSize,
          unpacked: body.length,
        }))
        .catch(() => null),
    );
  });
  const wasm = page.waitForResponse((r) => /\/pkg\/attn[^/]*\.wasm$/.test(r.url()));
  await page.goto('/login');
  expect((await wasm).status()).toBe(200);
  await page.waitForLoadState('networkidle');
  const firstVisit = (await Promise.all(seen)).filter((s): s is Seen => s !== null);

  let onWire = 0;
  let unpacked = 0;
  for (const s of firstVisit) {
    onWire += s.wire;
    unpacked += s.unpacked;
    if (/text\/html|javascript|wasm|text\/css/.test(s.type) && s.unpacked > 1024) {
      expect(['br', 'gzip'], `${s.url} (${s.type})`).toContain(s.encoding);
      expect(s.wire, s.url).toBeLessThan(s.unpacked);
    }
  }
  const bundle = firstVisit.find((s) => /\.wasm$/.test(s.url));
  expect(bundle, 'the wasm bundle was measured').toBeDefined();
  console.log(
    `first visit to /login: ${onWire} bytes on the wire, ${unpacked} unpacked; wasm ${bundle!.wire} of ${bundle!.unpacked}`,
  );
  expect(bundle!.wire * 2).toBeLessThan(bundle!.unpacked);

  // The page still works as it did.
  await logIn(page, 'demo_student_1');
  await expect(page.getByTestId('user')).toBeVisible();
  await context.close();
});
