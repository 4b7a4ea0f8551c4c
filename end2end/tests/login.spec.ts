import { test, expect } from '@playwright/test';
import { DEMO_PASSWORD, logIn } from './people';

test('a demo teacher logs in, sees today\'s lessons, and logs out', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('link', { name: 'Giriş yap' }).first().click();
  await expect(page).toHaveURL(/\/login/);
  await logIn(page, 'demo_teacher_1', DEMO_PASSWORD);

  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('user')).toContainText('DEMO ÖĞRETMEN 1');
  await expect(page.getByTestId('user')).toContainText('Öğretim üyesi');
  await expect(page.getByRole('heading', { name: 'Bugünkü dersleriniz' })).toBeVisible();
  await expect(page.locator('.lessons li.suggested')).toContainText('Demo Dersi 1');

  await page.getByRole('button', { name: 'Çıkış' }).click();
  await expect(page.getByText('Giriş yapmadınız.')).toBeVisible();
  await expect(page.getByTestId('user')).toHaveCount(0);
});

test('a demo student logs in and out', async ({ page }) => {
  await page.goto('/login');
  await logIn(page, 'demo_student_42', DEMO_PASSWORD);
  await expect(page.getByTestId('user')).toContainText('Demo Öğrenci 42');
  await expect(page.getByTestId('user')).toContainText('Öğrenci');
  await expect(page.getByRole('heading', { name: 'Bugünkü dersleriniz' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Çıkış' }).click();
  await expect(page.getByText('Giriş yapmadınız.')).toBeVisible();
});

test('a wrong password shows the reason in plain words', async ({ page }) => {
  await page.goto('/login');
  await logIn(page, 'demo_student_43', 'yanlış-şifre');
  await expect(page.getByTestId('login-error')).toHaveText('Kullanıcı adı ya da şifre yanlış.');
  await expect(page.getByText('Giriş yapmadınız.')).toHaveCount(0);
  // The person can try again at once.
  await logIn(page, 'demo_student_43', DEMO_PASSWORD);
  await expect(page.getByTestId('user')).toContainText('Demo Öğrenci 43');
});

test('a join link visited while logged out lands on the join page after login', async ({ page }) => {
  const join = '/join/4b1f2c3d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
  await page.goto(join);
  await expect(page).toHaveURL(/\/login\?next=/);
  await logIn(page, 'demo_student_44', DEMO_PASSWORD);
  await expect(page).toHaveURL(new RegExp(`${join}$`));
  await expect(page.getByRole('heading', { name: 'Yoklama' })).toBeVisible();
  // This session does not exist (no teacher started it): the page says so in plain words.
  await expect(page.getByRole('alert')).toHaveText('Bu yoklama bulunamadı ya da sona erdi.');
});

test('logging in works without JavaScript', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false, locale: 'tr-TR' });
  const page = await context.newPage();
  await page.goto('/login');
  await logIn(page, 'demo_teacher_2', DEMO_PASSWORD);
  await expect(page.getByTestId('user')).toContainText('DEMO ÖĞRETMEN 2');
  await page.getByRole('button', { name: 'Çıkış' }).click();
  await expect(page.getByText('Giriş yapmadınız.')).toBeVisible();
  await context.close();
});
