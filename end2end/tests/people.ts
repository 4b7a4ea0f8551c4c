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

/** The code the teacher's live page shows right now (it changes every 15 seconds). */
export async function codeOn(live: Page): Promise<string> {
  return (await live.getByTestId('code').textContent())!.trim();
}

/** Checks in on the student's join page with the code the projector shows at this moment, as
 * a student reading it off the wall would: a code read earlier may have expired meanwhile. */
export async function checkInNow(student: Page, live: Page) {
  await student.getByLabel('Kod', { exact: true }).fill(await codeOn(live));
  await student.getByRole('button', { name: 'Derse katıl' }).click();
}
