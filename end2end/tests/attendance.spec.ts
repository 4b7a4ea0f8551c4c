import { test, expect } from '@playwright/test';
import { checkInNow, logIn, newPerson } from './people';

test('a teacher runs a session: students check in and appear live, one removed, one added; after the sweep the history is corrected and an admin restores', async ({ browser }, info) => {
  // Each project (desktop, phone) has its own teacher and students.
  const offset = info.project.name === 'phone' ? 100 : 0;
  const teacher = await newPerson(browser);
  await teacher.page.goto('/login?next=/teach');
  await logIn(teacher.page, `demo_teacher_${info.project.name === 'phone' ? 7 : 6}`);
  await expect(teacher.page).toHaveURL(/\/teach$/);
  await teacher.page.getByLabel('Ders adı').fill('Veri Yapıları');
  await teacher.page.getByRole('button', { name: 'Başlat' }).click();
  await expect(teacher.page).toHaveURL(/\/live\//);
  await expect(teacher.page.locator('.qr svg')).toBeVisible();
  const joinUrl = await teacher.page.getByTestId('join-url').getAttribute('href');
  expect(joinUrl).toMatch(/\/join\/[0-9a-f-]+\?c=\d{6}$/);

  for (const n of [1, 2, 3]) {
    const student = await newPerson(browser);
    await student.page.goto(joinUrl!);
    await expect(student.page).toHaveURL(/\/login\?next=/);
    await logIn(student.page, `demo_student_${offset + n}`);
    await expect(student.page.getByTestId('lesson')).toHaveText('Veri Yapıları');
    await checkInNow(student.page, teacher.page);
    await expect(student.page.getByTestId('outcome')).toHaveText('Yoklamaya katıldınız.');
    await student.context.close();
  }

  // The teacher's page was never reloaded: the students appeared by themselves.
  const rows = teacher.page.getByTestId('students').locator('li');
  await expect(rows).toHaveCount(3, { timeout: 10_000 });
  await expect(teacher.page.getByTestId('attended-count')).toHaveText('Katıldı: 3');

  const second = rows.filter({ hasText: `demo_student_${offset + 2}` });
  await second.getByPlaceholder('Gerekçe').fill('Sınıfta değildi');
  await second.getByRole('button', { name: 'Çıkar' }).click();
  await expect(rows.filter({ hasText: 'Sınıfta değildi' })).toHaveCount(1);

  await teacher.page.getByPlaceholder('Okul numarası veya kullanıcı adı').fill(`13062${offset + 555}`);
  await teacher.page.getByRole('button', { name: 'Öğrenci ekle' }).click();
  await expect(rows).toHaveCount(4);
  await expect(teacher.page.getByTestId('attended-count')).toHaveText('Katıldı: 3');

  await teacher.page.getByRole('button', { name: 'Yoklamayı bitir' }).click();
  await expect(teacher.page.getByTestId('countdown')).toHaveText('Bu yoklama sona erdi.');
  const sessionId = joinUrl!.match(/\/join\/([0-9a-f-]+)/)![1];

  // The sweep moves the finished session into the database; the history then shows it.
  await expect(async () => {
    await teacher.page.goto('/history');
    await expect(teacher.page.locator(`tr[data-id="${sessionId}"]`)).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(teacher.page.locator(`tr[data-id="${sessionId}"] [data-testid="past-attended"]`)).toHaveText('3');
  await teacher.page.locator(`tr[data-id="${sessionId}"] a`).click();
  await expect(teacher.page).toHaveURL(new RegExp(`/history/${sessionId}$`));
  const past = teacher.page.getByTestId('students').locator('li');
  // The removed student is gone; the two who checked in and the one added remain.
  await expect(past).toHaveCount(3);
  await expect(past.filter({ hasText: `Demo Öğrenci ${offset + 2}` })).toHaveCount(0);
  // Printed, the page is the list alone: students shown, no buttons, forms or site header.
  await teacher.page.emulateMedia({ media: 'print' });
  await expect(past.first()).toBeVisible();
  await expect(teacher.page.getByTestId('lesson')).toBeVisible();
  await expect(past.first().getByRole('button', { name: 'Çıkar' })).toBeHidden();
  await expect(teacher.page.locator('header.top')).toBeHidden();
  await expect(teacher.page.getByTestId('download-csv')).toBeHidden();
  await teacher.page.emulateMedia({ media: 'screen' });
  await expect(past.first().getByRole('button', { name: 'Çıkar' })).toBeVisible();

  // The teacher deletes a record with a reason; a short reason is refused first.
  const third = past.filter({ hasText: `demo_student_${offset + 3}` });
  await third.getByPlaceholder('Gerekçe (en az 10 karakter)').fill('Derste yoktu, arkadaşı okuttu');
  await third.getByRole('button', { name: 'Çıkar' }).click();
  await expect(teacher.page.getByTestId('notice')).toHaveText('Kaydedildi.');
  await expect(past).toHaveCount(2);

  // An admin sees it, with who, when and why, and restores it.
  const admin = await newPerson(browser);
  await admin.page.goto('/login?next=/admin');
  await logIn(admin.page, 'demo_teacher_10');
  await expect(admin.page).toHaveURL(/\/admin$/);
  await admin.page.getByLabel('Öğretim üyesi').fill(`demo_teacher_${info.project.name === 'phone' ? 7 : 6}`);
  await admin.page.getByRole('button', { name: 'Süz' }).click();
  const deleted = admin.page.getByTestId('deleted-records').locator(`li[data-number="demo_student_${offset + 3}"]`);
  await expect(deleted).toContainText('Derste yoktu, arkadaşı okuttu');
  await expect(deleted).toContainText(`Demo Öğrenci ${offset + 3}`);
  await expect(admin.page.getByTestId('deleted-records').locator(`li[data-number="demo_student_${offset + 2}"]`)).toContainText('Sınıfta değildi');
  await deleted.getByRole('button', { name: 'Geri al' }).click();
  await expect(admin.page.getByTestId('notice')).toHaveText('Geri alındı.');
  await expect(admin.page.getByTestId('events').locator('li[data-action="record_restored"]').first()).toBeVisible();

  await teacher.page.reload();
  await expect(past).toHaveCount(3);
  await expect(past.filter({ hasText: `Demo Öğrenci ${offset + 3}` })).toHaveCount(1);
  await admin.context.close();
  await teacher.context.close();
});

test('a student with a wrong or old code is told to scan again', async ({ browser }, info) => {
  const teacher = await newPerson(browser);
  await teacher.page.goto('/login?next=/teach');
  await logIn(teacher.page, `demo_teacher_${info.project.name === 'phone' ? 9 : 8}`);
  await teacher.page.getByLabel('Ders adı').fill('Fizik');
  await teacher.page.getByRole('button', { name: 'Başlat' }).click();
  const joinUrl = (await teacher.page.getByTestId('join-url').getAttribute('href'))!;

  const student = await newPerson(browser);
  await student.page.goto(joinUrl.replace(/c=\d{6}/, 'c=000000'));
  await logIn(student.page, `demo_student_${info.project.name === 'phone' ? 260 : 250}`);
  await student.page.getByRole('button', { name: 'Derse katıl' }).click();
  await expect(student.page.getByTestId('outcome')).toHaveText('Kodun süresi doldu, QR kodu yeniden okutun.');

  await teacher.page.getByRole('button', { name: 'Yoklamayı bitir' }).click();
  await teacher.context.close();
  await student.context.close();
});
