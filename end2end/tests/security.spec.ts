import { test, expect } from '@playwright/test';
import * as http from 'http';
import { AddressInfo } from 'net';
import { checkInNow, logIn, newPerson } from './people';

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
  const trapUrl = `http://localhost:${(trap.address() as AddressInfo).port}/`;
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

// Every page sends a Content-Security-Policy that allows only this site's scripts and the
// inline ones carrying the answer's nonce. The live page still hydrates and follows check-ins,
// and no page breaks a rule of its policy.
test('pages keep to their Content-Security-Policy and the live page still works under it', async ({ browser }, info) => {
  const watch = async (page: import('@playwright/test').Page) => {
    const broken: string[] = [];
    page.on('console', (m) => {
      if (m.text().includes('Content Security Policy')) broken.push(m.text());
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`Content Security Policy violated: ${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    return broken;
  };
  const phone = info.project.name === 'phone';
  const teacher = await newPerson(browser);
  const teacherBroke = await watch(teacher.page);
  await teacher.page.goto('/login?next=/teach');
  await logIn(teacher.page, phone ? 'demo_teacher_9' : 'demo_teacher_8');
  await teacher.page.getByLabel('Ders adı').fill('Bilgi Güvenliği');
  await teacher.page.getByRole('button', { name: 'Başlat' }).click();
  await expect(teacher.page).toHaveURL(/\/live\//);
  const joinUrl = await teacher.page.getByTestId('join-url').getAttribute('href');

  const student = await newPerson(browser);
  const studentBroke = await watch(student.page);
  await student.page.goto(joinUrl!);
  await logIn(student.page, phone ? 'demo_student_281' : 'demo_student_271');
  await checkInNow(student.page, teacher.page);
  await expect(student.page.getByTestId('outcome')).toHaveText('Yoklamaya katıldınız.');
  // The live page's script runs under the policy: the student appears without a reload.
  await expect(teacher.page.getByTestId('students').locator('li')).toHaveCount(1, { timeout: 10_000 });
  expect(teacherBroke).toEqual([]);
  expect(studentBroke).toEqual([]);
  await teacher.page.getByRole('button', { name: 'Yoklamayı bitir' }).click();
  await expect(teacher.page.getByTestId('countdown')).toHaveText('Bu yoklama sona erdi.');
  await student.context.close();
  await teacher.context.close();
});
