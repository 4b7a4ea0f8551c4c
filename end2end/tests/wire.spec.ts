import { test, expect, Response } from '@playwright/test';
import { logIn, newPerson } from './people';

// What a student's phone downloads on a first visit over the classroom Wi-Fi: every page and
// file comes compressed (the site's files precompressed at build time), and the totals are
// printed so a change in weight shows in the test output.
test('a first visit travels compressed', async ({ browser }) => {
  const { context, page } = await newPerson(browser);
  const seen: Response[] = [];
  page.on('response', (r) => {
    if (r.url().startsWith('http://127.0.0.1')) seen.push(r);
  });
  const wasm = page.waitForResponse((r) => /\/pkg\/attn[^/]*\.wasm$/.test(r.url()));
  await page.goto('/login');
  await logIn(page, 'demo_student_1');
  await expect(page.getByTestId('user')).toBeVisible();
  expect((await wasm).status()).toBe(200);

  let onWire = 0;
  let unpacked = 0;
  for (const r of seen) {
    if (r.status() !== 200) continue;
    const type = r.headers()['content-type'] ?? '';
    const sizes = await r.request().sizes();
    const body = (await r.body().catch(() => Buffer.alloc(0))).length;
    onWire += sizes.responseBodySize + sizes.responseHeadersSize;
    unpacked += body;
    if (/text\/html|javascript|wasm|text\/css/.test(type) && body > 1024) {
      expect(r.headers()['content-encoding'], `${r.url()} (${type})`).toBe('gzip');
      expect(sizes.responseBodySize, r.url()).toBeLessThan(body);
    }
  }
  const wasmSizes = await (await wasm).request().sizes();
  const wasmBody = (await (await wasm).body()).length;
  console.log(`first visit: ${onWire} bytes on the wire, ${unpacked} unpacked; wasm ${wasmSizes.responseBodySize} of ${wasmBody}`);
  expect(wasmSizes.responseBodySize * 2).toBeLessThan(wasmBody);
  await context.close();
});
