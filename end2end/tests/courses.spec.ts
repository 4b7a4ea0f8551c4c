import { test, expect, Browser, Page } from '@playwright/test';
import * as fs from 'fs';
import { checkInNow, logIn, newPerson } from './people';

/** Logs `student` in on the session's join page and checks in with the code shown now. */
async function checkIn(browser: Browser, joinUrl: string, live: Page, student: string) {
  const person = await newPerson(browser);
  await person.page.goto(joinUrl);
  await logIn(person.page, student);
  await checkInNow(person.page, live);
  await expect(person.page.getByTestId('outcome')).toHaveText('Yoklamaya katıldınız.');
  await person.context.close();
}

/** Starts a session of `lesson` on the teacher's dashboard, late after `lateAfter` minutes
 * when given; its join link. */
async function start(teacher: Page, lesson: string, lateAfter?: number): Promise<string> {
  await teacher.goto('/teach');
  await teacher.getByLabel('Ders adı').fill(lesson);
  if (lateAfter !== undefined) await teacher.getByLabel('Geç sayılma (dakika)').fill(String(lateAfter));
  await teacher.getByRole('button', { name: 'Başlat' }).click();
  await expect(teacher).toHaveURL(/\/live\//);
  return (await teacher.getByTestId('join-url').getAttribute('href'))!;
}

/** Finishes the session on the live page and waits for the sweep to put it in the history. */
async function finish(teacher: Page, joinUrl: string): Promise<string> {
  await teacher.getByRole('button', { name: 'Yoklamayı bitir' }).click();
  await expect(teacher.getByTestId('countdown')).toHaveText('Bu yoklama sona erdi.');
  const id = joinUrl.match(/\/join\/([0-9a-f-]+)/)![1];
  await expect(async () => {
    await teacher.goto('/history');
    await expect(teacher.locator(`tr[data-id="${id}"]`)).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  return id;
}

test('after class: a class list is uploaded, absences are recorded, one student comes after the cut-off and is late, an excused one is marked from the missing list; the grid shows all four and downloads; a student over the limit is warned, appeals, and the teacher accepts', async ({ browser }, info) => {
  const phone = info.project.name === 'phone';
  const base = phone ? 210 : 200;
  const [a, b, c, d, e] = [1, 2, 3, 4, 5].map((n) => `demo_student_${base + n}`);
  const lesson = phone ? 'Algoritmalar (telefon)' : 'Algoritmalar';
  const teacher = await newPerson(browser);
  await teacher.page.goto('/login?next=/teach');
  await logIn(teacher.page, `demo_teacher_${phone ? 5 : 4}`);
  await expect(teacher.page).toHaveURL(/\/teach$/);

  // Before the first week: the class list, uploaded as a CSV file.
  await teacher.page.goto('/courses');
  const upload = teacher.page.getByTestId('class-list-form');
  await upload.getByLabel('Ders adı').fill(lesson);
  const list = ['Okul No;Ad Soyad', ...[a, b, c, d, e].map((s, i) => `${s};Listedeki Öğrenci ${i + 1}`)].join('\n');
  await upload.getByLabel('Dosya').setInputFiles({ name: 'sinif.csv', mimeType: 'text/csv', buffer: Buffer.from(list, 'utf8') });
  await upload.getByRole('button', { name: 'Listeyi yükle' }).click();
  await expect(teacher.page.getByTestId('imported')).toHaveAttribute('data-added', '5');

  // The first week: four of the five check in.
  let joinUrl = await start(teacher.page, lesson);
  for (const s of [a, b, c, d]) await checkIn(browser, joinUrl, teacher.page, s);
  await finish(teacher.page, joinUrl);

  // The second week, late after 5 minutes: one checks in on time; six minutes later (the test
  // server's clock is moved on, not waited for) another comes and is late; one is excused
  // from the missing list; one does not come.
  joinUrl = await start(teacher.page, lesson, 5);
  await checkIn(browser, joinUrl, teacher.page, a);
  const moved = await teacher.page.request.post('/e2e/clock', { form: { minutes: '6' } });
  expect(moved.ok()).toBe(true);
  await teacher.page.reload();
  await checkIn(browser, joinUrl, teacher.page, b);
  await expect(teacher.page.locator(`ul[data-testid="students"] li[data-number="${b}"]`)).toHaveAttribute('data-status', 'late');
  await expect(teacher.page.locator(`ul[data-testid="students"] li[data-number="${a}"]`)).toHaveAttribute('data-status', 'present');
  const missing = teacher.page.getByTestId('missing').locator('li');
  await expect(missing).toHaveCount(3);
  await expect(teacher.page.getByTestId('present-of')).toHaveAttribute('data-of', '5');
  const excused = missing.filter({ hasText: c });
  await excused.getByPlaceholder('İzin/rapor nedeni').fill('Hastane raporu');
  await excused.getByRole('button', { name: 'İzinli say' }).click();
  await expect(missing).toHaveCount(2);
  await expect(teacher.page.locator(`ul[data-testid="students"] li[data-number="${c}"]`)).toHaveAttribute('data-status', 'excused');
  const second = await finish(teacher.page, joinUrl);

  // After class, the history agrees: late, excused, absent.
  await teacher.page.goto(`/history/${second}`);
  await expect(teacher.page.locator(`li[data-number="${b}"]`)).toHaveAttribute('data-status', 'late');
  await expect(teacher.page.locator(`li[data-number="${c}"]`)).toHaveAttribute('data-status', 'excused');
  await expect(teacher.page.locator(`li[data-number="${d}"]`)).toHaveAttribute('data-status', 'absent');

  // The course's grid: all four statuses in the second week, each with its letter.
  await teacher.page.goto('/courses');
  await teacher.page.getByRole('link', { name: lesson, exact: true }).click();
  await expect(teacher.page).toHaveURL(/\/courses\/[0-9a-f-]+$/);
  const cell = (student: string) => teacher.page.locator(`tr[data-number="${student}"] td.cell`).nth(1);
  await expect(cell(a)).toHaveAttribute('data-status', 'present');
  await expect(cell(b)).toHaveAttribute('data-status', 'late');
  await expect(cell(c)).toHaveAttribute('data-status', 'excused');
  await expect(cell(d)).toHaveAttribute('data-status', 'absent');
  await expect(cell(d)).toHaveText('D');
  await expect(teacher.page.locator(`tr[data-number="${d}"] [data-testid="grid-rate"]`)).toHaveText('%50');
  await expect(teacher.page.getByTestId('chart').locator('rect')).toHaveCount(2);

  // The grid downloads as CSV, Turkish letters and all.
  const [download] = await Promise.all([
    teacher.page.waitForEvent('download'),
    teacher.page.getByTestId('download-grid-csv').click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^course-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = fs.readFileSync((await download.path())!, 'utf8');
  expect(csv.charCodeAt(0)).toBe(0xfeff);
  expect(csv).toContain(`${d},Demo Öğrenci ${base + 4},K,D,50,1,`);
  const [workbook] = await Promise.all([
    teacher.page.waitForEvent('download'),
    teacher.page.getByTestId('download-grid-xlsx').click(),
  ]);
  expect(workbook.suggestedFilename()).toMatch(/^course-\d{4}-\d{2}-\d{2}\.xlsx$/);
  expect(fs.readFileSync((await workbook.path())!).subarray(0, 2).toString()).toBe('PK');

  // A stricter limit: no absence allowed; the student who did not come is over it.
  await teacher.page.getByLabel('Devamsızlık sınırı (%)').fill('0');
  await teacher.page.getByRole('button', { name: 'Kaydet' }).click();
  await expect(teacher.page.getByTestId('notice')).toHaveText('Kaydedildi.');
  await expect(teacher.page.getByTestId('at-risk').locator(`li[data-number="${d}"]`)).toHaveClass(/over/);

  const student = await newPerson(browser);
  await student.page.goto('/login?next=/me');
  await logIn(student.page, d);
  await expect(student.page).toHaveURL(/\/me$/);
  await expect(student.page.getByTestId('limit-warning')).toContainText('Devamsızlık sınırını aştınız');
  await expect(student.page.getByTestId('absences')).toHaveAttribute('data-absences', '1');

  // The student appeals the absence; the teacher accepts it on the course page; the grid changes.
  const absentWeek = student.page.locator('li[data-status="absent"]');
  await absentWeek.getByPlaceholder('Neden itiraz ediyorsunuz? (en az 10 karakter)').fill('Derse geldim, telefonum kapalıydı');
  await absentWeek.getByRole('button', { name: 'İtiraz et' }).click();
  await expect(student.page.getByTestId('notice')).toHaveText('Kaydedildi.');
  await expect(student.page.getByTestId('appeal')).toHaveAttribute('data-state', 'open');
  await teacher.page.reload();
  const appeal = teacher.page.getByTestId('appeals').locator(`li[data-number="${d}"]`);
  await expect(appeal).toContainText('Derse geldim, telefonum kapalıydı');
  await appeal.getByRole('button', { name: 'Kabul et' }).click();
  await expect(teacher.page.getByTestId('notice')).toHaveText('Kaydedildi.');
  await expect(cell(d)).toHaveAttribute('data-status', 'present');
  await student.page.reload();
  await expect(student.page.getByTestId('appeal')).toHaveAttribute('data-state', 'accepted');
  await expect(student.page.getByTestId('absences')).toHaveAttribute('data-absences', '0');
  await expect(student.page.getByTestId('limit-warning')).not.toContainText('aştınız');

  await student.context.close();
  await teacher.context.close();
});

test('the projector view shows the code for the back row, full screen on a button, and keeps rotating without JavaScript', async ({ browser }, info) => {
  const phone = info.project.name === 'phone';
  const teacher = await newPerson(browser);
  await teacher.page.goto('/login?next=/teach');
  await logIn(teacher.page, `demo_teacher_${phone ? 3 : 2}`);
  await start(teacher.page, 'Projeksiyon Dersi');
  await teacher.page.getByTestId('projector-link').click();
  await expect(teacher.page.getByTestId('projector')).toBeVisible();
  await expect(teacher.page.getByTestId('code')).toHaveText(/^\d{6}$/);
  await expect(teacher.page.getByTestId('students')).toHaveCount(0);
  await expect(teacher.page.getByTestId('projector')).toContainText(`DEMO ÖĞRETMEN ${phone ? 3 : 2} · `);
  const codeSize = await teacher.page.getByTestId('code').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  expect(codeSize).toBeGreaterThanOrEqual(48);
  await teacher.page.getByRole('button', { name: 'Tam ekran' }).click();
  await expect.poll(() => teacher.page.evaluate(() => document.fullscreenElement !== null)).toBe(true);
  const url = teacher.page.url();

  // Without JavaScript (the same teacher's cookies): the page reloads itself for a fresh code.
  const cookies = await teacher.context.cookies();
  const plain = await browser.newContext({ locale: 'tr-TR', javaScriptEnabled: false });
  await plain.addCookies(cookies);
  const page = await plain.newPage();
  await page.goto(url);
  await expect(page.getByTestId('code')).toHaveText(/^\d{6}$/);
  await expect(page.getByRole('button', { name: 'Tam ekran' })).toHaveCount(0);
  const reloaded = page.waitForEvent('load', { timeout: 15_000 });
  await reloaded;
  await expect(page.getByTestId('projector')).toBeVisible();

  await teacher.page.goto(url.replace('?projector=1', ''));
  await teacher.page.getByRole('button', { name: 'Yoklamayı bitir' }).click();
  await plain.close();
  await teacher.context.close();
});
