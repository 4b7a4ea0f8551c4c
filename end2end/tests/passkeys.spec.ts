import { test, expect, Browser, CDPSession, Page } from '@playwright/test';
import { checkInNow, logIn, newPerson } from './people';

// Passkeys in the browser, with Chromium's virtual authenticator standing for each phone's
// own (platform) authenticator, over CDP. Each phone keeps its CDP session for as long as it is
// used: the authenticator goes with it.

type Phone = { cdp: CDPSession; authenticatorId: string };

/** Gives `page` an authenticator of its own, as a phone with a fingerprint reader has. */
async function phoneFor(page: Page): Promise<Phone> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

/** The same phone in another browser context (a private tab): its passkeys come along. */
async function samePhone(from: Phone, page: Page): Promise<Phone> {
  const phone = await phoneFor(page);
  const { credentials } = await from.cdp.send('WebAuthn.getCredentials', { authenticatorId: from.authenticatorId });
  for (const credential of credentials) {
    await phone.cdp.send('WebAuthn.addCredential', { authenticatorId: phone.authenticatorId, credential });
  }
  return phone;
}

async function passkeyCount(phone: Phone): Promise<number> {
  const { credentials } = await phone.cdp.send('WebAuthn.getCredentials', { authenticatorId: phone.authenticatorId });
  return credentials.length;
}

/** Starts a session asking for passkeys (`Öğrencinin kendi telefonu ...`); the join link. */
async function startSession(teacher: Page, lesson: string, device: RegExp): Promise<string> {
  await teacher.goto('/teach');
  await teacher.getByLabel('Ders adı').fill(lesson);
  await teacher.getByLabel(device).check();
  await teacher.getByRole('button', { name: 'Başlat' }).click();
  await expect(teacher).toHaveURL(/\/live\//);
  return (await teacher.getByTestId('join-url').getAttribute('href'))!;
}

/** Ends the running session. (The live page then says it has ended, or, once the sweep has
 * moved it into the database a second later, that it is not live any more.) */
async function finish(teacher: Page) {
  const button = teacher.getByRole('button', { name: 'Yoklamayı bitir' });
  await button.click();
  await expect(button).toBeHidden();
}

/** A student on their own phone: logs in from the join link and checks in. */
async function checkInOnPhone(browser: Browser, joinUrl: string, student: string, live: Page) {
  const person = await newPerson(browser);
  const phone = await phoneFor(person.page);
  await person.page.goto(joinUrl);
  await logIn(person.page, student);
  await checkInNow(person.page, live);
  return { ...person, phone };
}

const OWN_PHONE = 'bu cihazda öğrencinin geçiş anahtarı yok: kendi telefonunuzdan katılın';

test('passkeys: students register on their own phones; a second browser and a private tab are refused; the teacher counts a student by hand and lets another change phones', async ({ browser }, info) => {
  test.setTimeout(120_000);
  const phoneProject = info.project.name === 'phone';
  const [ayse, mehmet, deniz] = [1, 2, 3].map((n) => `demo_student_${(phoneProject ? 160 : 150) + n}`);
  const teacherName = `demo_teacher_${phoneProject ? 5 : 4}`;
  const teacher = await newPerson(browser);
  await teacher.page.goto('/login?next=/teach');
  await logIn(teacher.page, teacherName);
  await expect(teacher.page).toHaveURL(/\/teach$/);

  // First lesson: everyone registers a passkey on their own phone, and the teacher sees each.
  let joinUrl = await startSession(teacher.page, 'Kriptografi', /ilk kez gelen şimdi kaydeder/);
  const people = [];
  for (const s of [ayse, mehmet, deniz]) {
    const person = await checkInOnPhone(browser, joinUrl, s, teacher.page);
    await expect(person.page.getByTestId('outcome')).toHaveAttribute('data-outcome', 'attended');
    expect(await passkeyCount(person.phone)).toBe(1);
    people.push(person);
  }
  const [ayses, mehmets, denizs] = people;
  await expect(teacher.page.getByTestId('flag-new-passkeys')).toHaveAttribute('data-count', '3');
  // Their open join pages hear of the end and read themselves again.
  const told = people.map((p) => p.page.waitForEvent('load'));
  await finish(teacher.page);
  await Promise.all(told);

  // Second lesson: registered phones only. Mehmet's own phone signs.
  joinUrl = await startSession(teacher.page, 'Kriptografi', /yalnız kayıtlı telefonlar/);
  await mehmets.page.goto(joinUrl);
  await checkInNow(mehmets.page, teacher.page);
  await expect(mehmets.page.getByTestId('outcome')).toHaveAttribute('data-outcome', 'attended');

  // Ayşe stays home. Mehmet logs in as her in a private tab of his phone (cookies cleared; his
  // phone's passkeys are there, hers is not): refused.
  const privateTab = await newPerson(browser);
  await samePhone(mehmets.phone, privateTab.page);
  await privateTab.page.goto(joinUrl);
  await logIn(privateTab.page, ayse);
  await checkInNow(privateTab.page, teacher.page);
  await expect(privateTab.page.getByTestId('outcome')).toHaveAttribute('data-outcome', 'failed');
  await expect(privateTab.page.getByTestId('outcome')).toContainText(OWN_PHONE);
  // Nor does a second browser (a laptop, with no passkey at all) get in as her.
  const laptop = await newPerson(browser);
  await phoneFor(laptop.page);
  await laptop.page.goto(joinUrl);
  await logIn(laptop.page, ayse);
  await checkInNow(laptop.page, teacher.page);
  await expect(laptop.page.getByTestId('outcome')).toHaveAttribute('data-outcome', 'failed');

  // The teacher sees her row failed for the passkey, and (say she came in late without her
  // phone) counts her by hand: the evidence says no passkey was shown.
  const row = teacher.page.locator(`ul[data-testid="students"] li[data-number="${ayse}"]`);
  await expect(row).toHaveAttribute('data-status', 'failed');
  await row.getByRole('button', { name: 'Kabul et' }).click();
  await expect(row).toHaveAttribute('data-status', 'present');
  await row.getByTestId('evidence').locator('summary').click();
  await expect(row.getByTestId('evidence-device')).toHaveAttribute('data-device', 'none');
  await expect(row.getByTestId('evidence')).toContainText(OWN_PHONE);

  // Deniz has a new phone: refused until the teacher allows a new passkey, then registered.
  const newPhone = await newPerson(browser);
  await phoneFor(newPhone.page);
  await newPhone.page.goto(joinUrl);
  await logIn(newPhone.page, deniz);
  await checkInNow(newPhone.page, teacher.page);
  await expect(newPhone.page.getByTestId('outcome')).toHaveAttribute('data-outcome', 'failed');
  const denizRow = teacher.page.locator(`ul[data-testid="students"] li[data-number="${deniz}"]`);
  const allow = denizRow.getByTestId('allow-passkey');
  await allow.getByRole('textbox').fill('Yeni telefon aldı');
  // Her join page is told of the teacher's change, and reads itself again.
  const allowed = newPhone.page.waitForEvent('load');
  await allow.getByRole('button', { name: 'Yeni geçiş anahtarına izin ver' }).click();
  await expect(teacher.page).toHaveURL(/\/live\/[0-9a-f-]+$/);
  await allowed;
  await checkInNow(newPhone.page, teacher.page);
  await expect(newPhone.page.getByTestId('outcome')).toHaveAttribute('data-outcome', 'attended');
  await expect(denizRow).toHaveAttribute('data-status', 'present');
  await denizRow.getByTestId('evidence').locator('summary').click();
  await expect(denizRow.getByTestId('evidence-device')).toHaveAttribute('data-device', 'new_passkey');
  await expect(denizRow.getByTestId('evidence-device')).toContainText(teacherName);
  // Her page names the phone it is on now.
  await newPhone.page.goto('/me');
  await expect(newPhone.page.getByTestId('passkey-device')).toBeVisible();
  await finish(teacher.page);

  // Third lesson: her old phone is no use any more.
  joinUrl = await startSession(teacher.page, 'Kriptografi', /yalnız kayıtlı telefonlar/);
  await denizs.page.goto(joinUrl);
  await checkInNow(denizs.page, teacher.page);
  await expect(denizs.page.getByTestId('outcome')).toHaveAttribute('data-outcome', 'failed');
  await finish(teacher.page);
  for (const p of [...people, privateTab, laptop, newPhone, teacher]) await p.context.close();
  void ayses;
});

test('a passkey session says plainly what it needs: without JavaScript, and in a browser without passkeys', async ({ browser }, info) => {
  const phoneProject = info.project.name === 'phone';
  const student = `demo_student_${phoneProject ? 165 : 155}`;
  const teacher = await newPerson(browser);
  await teacher.page.goto('/login?next=/teach');
  await logIn(teacher.page, `demo_teacher_${phoneProject ? 3 : 2}`);
  const joinUrl = await startSession(teacher.page, 'Ağ Programlama', /ilk kez gelen şimdi kaydeder/);

  // No script: the page says so, and pressing the button changes nothing.
  const noScript = await browser.newContext({ locale: 'tr-TR', javaScriptEnabled: false });
  const page = await noScript.newPage();
  await page.goto(joinUrl);
  await logIn(page, student);
  await expect(page.getByTestId('passkey-no-script')).toContainText('JavaScript');
  await checkInNow(page, teacher.page);
  await expect(page.getByTestId('outcome')).toHaveAttribute('data-outcome', 'refused');
  await expect(page.getByTestId('outcome')).toContainText('JavaScript');
  await expect(teacher.page.getByTestId('no-students')).toBeVisible();
  await noScript.close();

  // A browser without passkeys (as an old one): the note shows and the button goes.
  const old = await newPerson(browser);
  await old.page.addInitScript(() => {
    // @ts-expect-error: taking the feature away, as a browser without it
    delete window.PublicKeyCredential;
  });
  await old.page.goto(joinUrl);
  await logIn(old.page, student);
  await expect(old.page.getByTestId('passkey-unsupported')).toBeVisible();
  await expect(old.page.getByRole('button', { name: 'Derse katıl' })).toBeHidden();
  await finish(teacher.page);
  await old.context.close();
  await teacher.context.close();
});
