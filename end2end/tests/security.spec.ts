import { test, expect } from '@playwright/test';
import * as http from 'http';
import { AddressInfo } from 'net';
import { logIn, newPerson } from './people';

// A page on another port of the same host is the same site: the teacher's SameSite=Lax cookie
// goes along with its form. ATTN must refuse the post by its Origin.
test("a page on another origin cannot finish a teacher's running session", async ({ browser, baseURL }, info) => {
  const teacher = await newPerson(browser);
  await teacher.page.goto('/login?next=/teach');
  await logIn(teacher.page, info.project.name === 'phone' ? 'demo_teacher_9' : 'demo_teacher_8');
  await teacher.page.getByLabel('Ders adı').fill('Ağ Güvenliği');
  await teacher.page.getByRole('button', { name: 'Başlat' }).click();
  await expect(teacher.page).toHaveURL(/\/live\//);
  const live = teacher.page.url();
  const sessionId = live.match(/\/live\/([0-9a-f-]+)/)![1];

  // The attacker's page: a form that posts itself to ATTN as soon as it loads.
  const trap = http.createServer((_, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!DOCTYPE html><form id="f" method="post" action="${baseURL}/api/finish_session">
      <input type="hidden" name="session_id" value="${sessionId}"></form>
      <script>document.getElementById('f').submit()</script>`);
  });
  await new Promise<void>((done) => trap.listen(0, '127.0.0.1', done));
  const trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}/`;
  try {
    const refused = teacher.page.waitForResponse((r) => r.url().endsWith('/api/finish_session'));
    await teacher.page.goto(trapUrl);
    expect((await refused).status()).toBe(403);
    await expect(teacher.page.getByTestId('foreign-origin')).toHaveText('Bu istek başka bir siteden geldi.');
  } finally {
    trap.close();
  }

  // The session runs on; the teacher's own button still finishes it.
  await teacher.page.goto(live);
  await expect(teacher.page.getByTestId('code')).toBeVisible();
  await teacher.page.getByRole('button', { name: 'Yoklamayı bitir' }).click();
  await expect(teacher.page.getByTestId('countdown')).toHaveText('Bu yoklama sona erdi.');
  await teacher.context.close();
});
