import { test, expect } from '@playwright/test';
import { checkInNow, logIn, newPerson } from './people';

test('a re-check: three students check in, the teacher re-checks, the request reaches their open pages, two confirm, one is left early and marked absent; a receipt is checked', async ({ browser }, info) => {
  const phone = info.project.name === 'phone';
  const [a, b, c] = [1, 2, 3].map((n) => `demo_student_${(phone ? 230 : 220) + n}`);
  const teacher = await newPerson(browser);
  await teacher.page.goto('/login?next=/teach');
  await logIn(teacher.page, `demo_teacher_${phone ? 7 : 6}`);
  await expect(teacher.page).toHaveURL(/\/teach$/);
  await teacher.page.getByLabel('Ders adı').fill('Algoritma Analizi');
  await teacher.page.getByRole('button', { name: 'Başlat' }).click();
  await expect(teacher.page).toHaveURL(/\/live\//);
  const joinUrl = (await teacher.page.getByTestId('join-url').getAttribute('href'))!;

  const students = [];
  for (const s of [a, b, c]) {
    const person = await newPerson(browser);
    await person.page.goto(joinUrl);
    await logIn(person.page, s);
    await checkInNow(person.page, teacher.page);
    await expect(person.page.getByTestId('outcome')).toHaveText('Yoklamaya katıldınız.');
    students.push(person);
  }
  await expect(teacher.page.getByTestId('students').locator('li')).toHaveCount(3);

  // The teacher asks for a re-check: all three are waited for.
  await teacher.page.getByRole('button', { name: 'Yeniden yoklama' }).click();
  await expect(teacher.page.getByTestId('recheck')).toHaveAttribute('data-waiting', '3');

  // The request reaches every student's open join page by itself (pushed, as the teacher's
  // page is); the third sees it too.
  for (const person of students) {
    await expect(person.page.getByTestId('recheck')).toHaveAttribute('data-confirmed', 'false');
  }
  // Two of them, still in the room, type the code shown now.
  for (const person of students.slice(0, 2)) {
    await checkInNow(person.page, teacher.page);
    await expect(person.page.getByTestId('recheck')).toHaveText('Yeniden yoklamayı onayladınız.');
  }
  await expect(teacher.page.getByTestId('recheck')).toHaveAttribute('data-waiting', '1');

  // The window closes (the test server's clock is moved on, not waited for): the third left early.
  const moved = await teacher.page.request.post('/e2e/clock', { form: { minutes: '2' } });
  expect(moved.ok()).toBe(true);
  await teacher.page.reload();
  const leftEarly = teacher.page.getByTestId('left-early').locator('li');
  await expect(leftEarly).toHaveCount(1);
  await expect(leftEarly).toHaveAttribute('data-number', c);
  await leftEarly.getByRole('button', { name: 'Devamsız say' }).click();
  await expect(teacher.page.getByTestId('left-early')).toHaveCount(0);
  await expect(teacher.page.locator(`ul[data-testid="students"] li[data-number="${c}"]`)).toHaveAttribute('data-status', 'absent');

  // The first student's receipt, shown on their phone, checks out on the teacher's.
  const first = students[0].page;
  await first.getByTestId('receipt-link').click();
  await expect(first.getByTestId('receipt')).toHaveAttribute('data-status', 'present');
  await expect(first.locator('.receipt-qr svg')).toBeVisible();
  const receipt = (await first.getByTestId('receipt-text').inputValue()).trim();
  await teacher.page.goto('/verify');
  await teacher.page.locator('textarea[name="r"]').fill(receipt);
  await teacher.page.getByRole('button', { name: 'Doğrula' }).click();
  await expect(teacher.page.getByTestId('verdict')).toHaveAttribute('data-verdict', 'valid');
  await teacher.page.locator('textarea[name="r"]').fill(receipt.replace('ATTN1.e', 'ATTN1.f'));
  await teacher.page.getByRole('button', { name: 'Doğrula' }).click();
  await expect(teacher.page.getByTestId('verdict')).toHaveAttribute('data-verdict', 'forged');

  await teacher.page.goto(joinUrl.replace('/join/', '/live/').replace(/\?.*$/, ''));
  await teacher.page.getByRole('button', { name: 'Yoklamayı bitir' }).click();
  await expect(teacher.page.getByTestId('countdown')).toHaveText('Bu yoklama sona erdi.');
  for (const person of students) await person.context.close();
});
