import { test, expect } from '@playwright/test';
import * as path from 'path';
import { checkInNow, logIn, newPerson } from './people';

const photos = path.join(process.env.ATTN_MODELS_DIR ?? path.resolve(__dirname, '../../models'), 'testdata');

test('a level-3 session: students upload a selfie and the teacher sees the outcome with the distance', async ({ browser }, info) => {
  const phone = info.project.name === 'phone';
  const teacher = await newPerson(browser);
  await teacher.page.goto('/login?next=/teach');
  await logIn(teacher.page, `demo_teacher_${phone ? 5 : 4}`);
  await teacher.page.getByLabel('Ders adı').fill('Yüz Tanıma');
  await teacher.page.getByLabel('Ağ + yüz').check();
  await teacher.page.getByRole('button', { name: 'Başlat' }).click();
  await expect(teacher.page).toHaveURL(/\/live\//);
  const joinUrl = (await teacher.page.getByTestId('join-url').getAttribute('href'))!;

  // Every demo student's portal photo is obama.jpg: obama2.jpg is the same person, biden.jpg not.
  const cases: [number, string, string][] = [
    [phone ? 71 : 61, 'obama2.jpg', 'Yoklamaya katıldınız.'],
    [phone ? 72 : 62, 'biden.jpg', 'yüz portal fotoğrafıyla eşleşmedi'],
  ];
  for (const [n, file, outcome] of cases) {
    const student = await newPerson(browser);
    await student.page.goto(joinUrl);
    await logIn(student.page, `demo_student_${n}`);
    await expect(student.page.getByTestId('lesson')).toHaveText('Yüz Tanıma');
    await student.page.getByLabel('Özçekim').setInputFiles(path.join(photos, file));
    await expect(student.page.locator('img.selfie-preview')).toBeVisible();
    await checkInNow(student.page, teacher.page);
    await expect(student.page.getByTestId('outcome')).toContainText(outcome, { timeout: 20_000 });
    await student.context.close();
  }

  const rows = teacher.page.getByTestId('students').locator('li');
  await expect(rows).toHaveCount(2, { timeout: 10_000 });
  await expect(teacher.page.getByTestId('attended-count')).toHaveText('Katıldı: 1');
  await expect(rows.filter({ hasText: 'eşleşmedi' })).toHaveCount(1);
  await expect(teacher.page.getByTestId('distance')).toHaveCount(2);
  await teacher.page.getByRole('button', { name: 'Yoklamayı bitir' }).click();
  await teacher.context.close();
});
