import { test, expect } from '@playwright/test';

test.describe('home page', () => {
  test('is Turkish by default, complete without the wasm, and switches to English and back', async ({ page }) => {
    const errors: string[] = [];
    const scripts: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('response', (r) => r.status() >= 400 && errors.push(`${r.status()} ${r.url()}`));
    page.on('request', (r) => /\.wasm$|\.js$/.test(r.url()) && scripts.push(r.url()));

    await page.goto('/');
    await expect(page.locator('html')).toHaveAttribute('lang', 'tr');
    await expect(page.getByText('Giriş yapmadınız.')).toBeVisible();
    await expect(page.locator('link[rel="stylesheet"]')).toHaveAttribute('href', /^\/pkg\/attn\.[\w-]+\.css$/);

    await page.getByRole('button', { name: 'English' }).click();
    await expect(page.getByText('You are not logged in.')).toBeVisible();
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await expect(page).toHaveURL(/\/$/);

    // The choice is remembered on the next visit.
    await page.goto('/');
    await expect(page.getByText('You are not logged in.')).toBeVisible();

    await page.getByRole('button', { name: 'Türkçe' }).click();
    await expect(page.getByText('Giriş yapmadınız.')).toBeVisible();
    expect(errors).toEqual([]);
    expect(scripts, 'the home page loads no script').toEqual([]);
  });

  test('follows an English-speaking browser', async ({ browser }) => {
    const context = await browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto('/');
    await expect(page.getByText('You are not logged in.')).toBeVisible();
    await context.close();
  });

  test('works without JavaScript', async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'tr-TR' });
    const page = await context.newPage();
    await page.goto('/');
    await expect(page.getByText('Giriş yapmadınız.')).toBeVisible();
    await page.getByRole('button', { name: 'English' }).click();
    await expect(page.getByText('You are not logged in.')).toBeVisible();
    await context.close();
  });

  test('fits a phone screen without sideways scrolling', async ({ page }) => {
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto('/');
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
  });

  test('shows a translated page for unknown addresses', async ({ page }) => {
    const response = await page.goto('/no/such/page');
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'Sayfa bulunamadı.' })).toBeVisible();
  });
});
