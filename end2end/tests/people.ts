import { Browser, Page } from '@playwright/test';

/** The demo accounts' shared password, as the server under test is configured. */
export const DEMO_PASSWORD = process.env.ATTN_DEMO_PASSWORD ?? 'demo';

/** Fills and sends the login form shown on `page`. */
export async function logIn(page: Page, user: string, password: string = DEMO_PASSWORD) {
  await page.getByLabel('Okul numarası veya kullanıcı adı').fill(user);
  await page.getByLabel('Şifre').fill(password);
  await page.getByRole('button', { name: 'Giriş yap' }).click();
}

/** A person with a browser of their own (own cookies), on a Turkish phone or laptop. */
export async function newPerson(browser: Browser) {
  const context = await browser.newContext({ locale: 'tr-TR' });
  return { context, page: await context.newPage() };
}
