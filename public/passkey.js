// Checks a student in with the passkey on their own phone, for sessions that ask for one
// (forms marked `data-passkey`). When the student presses the button, it asks the server what
// to sign (`/api/passkey_begin`), lets the phone make or use the passkey, puts the answer in
// the form's `passkey` field and sends the form as it is: the server checks the answer and
// shows the outcome as for any check-in. Without this script (or in a browser without
// passkeys) such a session cannot be joined, and the page says so.
(() => {
  if (window.attnPasskey) return; // the page may add this script again when it redraws
  window.attnPasskey = true;

  const supported =
    window.isSecureContext && 'PublicKeyCredential' in window && !!navigator.credentials;
  document.documentElement.classList.add(supported ? 'passkeys' : 'no-passkeys');

  const fromBase64url = (text) => {
    const bytes = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(bytes, (c) => c.charCodeAt(0)).buffer;
  };
  const toBase64url = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer)))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');

  async function register(options) {
    options.challenge = fromBase64url(options.challenge);
    options.user.id = fromBase64url(options.user.id);
    for (const c of options.excludeCredentials || []) c.id = fromBase64url(c.id);
    const made = await navigator.credentials.create({ publicKey: options });
    return {
      id: made.id,
      rawId: toBase64url(made.rawId),
      type: made.type,
      response: {
        attestationObject: toBase64url(made.response.attestationObject),
        clientDataJSON: toBase64url(made.response.clientDataJSON),
      },
      extensions: {},
    };
  }

  async function sign(options) {
    options.challenge = fromBase64url(options.challenge);
    for (const c of options.allowCredentials || []) c.id = fromBase64url(c.id);
    const signed = await navigator.credentials.get({ publicKey: options });
    const r = signed.response;
    return {
      id: signed.id,
      rawId: toBase64url(signed.rawId),
      type: signed.type,
      response: {
        authenticatorData: toBase64url(r.authenticatorData),
        clientDataJSON: toBase64url(r.clientDataJSON),
        signature: toBase64url(r.signature),
        userHandle: r.userHandle ? toBase64url(r.userHandle) : null,
      },
      extensions: {},
    };
  }

  // What goes in the form's `passkey` field: the credential as JSON, `refused` when the phone
  // gave none (no passkey for this student here, or cancelled), `failed` when the server would
  // not begin (the check-in then says why: an old code, the end of the session...).
  async function answer(form) {
    const body = new URLSearchParams({
      session_id: form.elements.session_id.value,
      code: form.elements.code.value,
    });
    let challenge;
    try {
      const res = await fetch('/api/passkey_begin', {
        method: 'POST',
        body,
        headers: { Accept: 'application/json' },
      });
      if (!res.ok) return 'failed';
      challenge = JSON.parse(await res.json());
    } catch {
      return 'failed';
    }
    try {
      if (challenge.register) return JSON.stringify(await register(challenge.register.publicKey));
      if (challenge.authenticate) return JSON.stringify(await sign(challenge.authenticate.publicKey));
    } catch {
      // NotAllowedError: no passkey of this student on this device, or the student said no.
    }
    return 'refused';
  }

  document.addEventListener('submit', async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-passkey')) return;
    const field = form.elements.passkey;
    if (!field || field.value) return;
    event.preventDefault();
    if (!supported || form.dataset.busy) return;
    form.dataset.busy = '1';
    const working = document.querySelector('[data-testid="passkey-working"]');
    if (working) working.hidden = false;
    field.value = await answer(form);
    form.submit();
  });
})();
